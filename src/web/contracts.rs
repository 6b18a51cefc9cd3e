//! Contract screens: the list with ceiling use, a contract's terms, tariffs, milestones, options,
//! documents, placements and expected payments per year.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::Form as RepeatedForm;
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

use super::forms::{error_summary, error_summary_for, Field};
use super::views::{ceiling_meter, Chrome};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::holds_valid_mark;
use crate::domain::commitment::{ContractFigures, YearLine, ROUTE_SPLIT};
use crate::domain::contract::{
    validate_contract, validate_milestones, validate_tariff, CeilingLevel, ContractForm, ContractStatus, Due,
    ExtensionOption, Milestone, OptionStatus, Share, Tariff,
};
use crate::domain::dates;
use crate::domain::progress::{validate_terms, ProgressTerms, TermsForm};
use crate::domain::route::{routes_code, Route};
use crate::domain::small_cell::HIDDEN;
use crate::domain::validation::{required_date, text, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::report::commitments::Portfolio;
use crate::report::contract_attendance::ContractHours;
use crate::store;
use crate::store::contracts::{Contract, ContractError};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/contracten", Permission::Read, list)
        .get("/contracten/nieuw", Permission::ManageContracts, new_form)
        .post("/contracten", Permission::ManageContracts, create)
        .get("/contracten/{id}", Permission::Read, detail)
        .get("/contracten/{id}/betalingen", Permission::Read, payments)
        .get("/contracten/{id}/voorwaarden", Permission::Read, terms)
        .get("/contracten/{id}/plaatsingen", Permission::Read, placements)
        .get("/contracten/{id}/bewerken", Permission::ManageContracts, edit_form)
        .post("/contracten/{id}", Permission::ManageContracts, update)
        .post("/contracten/{id}/tarieven", Permission::ManageContracts, add_tariff)
        .post("/contracten/{id}/betaalmomenten", Permission::ManageContracts, set_milestones)
        .post("/contracten/{id}/opties", Permission::ManageContracts, add_option)
        .post("/contracten/{id}/opties/{option_id}", Permission::ManageContracts, decide_option)
        .post("/contracten/{id}/documenten", Permission::ManageContracts, add_document)
        .post("/contracten/{id}/voortgangsafspraken", Permission::ManageContracts, set_terms)
}

/// Every contract with its figures as of `today` (the one commitment definition, `report::commitments`), kept
/// until one of their inputs changes.
pub async fn portfolio(state: &AppState, today: Date) -> AppResult<Arc<Portfolio>> {
    Ok(crate::report::commitments::portfolio(&state.db, Some(&state.commitments_cache), today).await?)
}

/// The ceiling in words: since when and by how much it is exceeded, or when it will be reached.
pub fn ceiling_words(f: &ContractFigures, since: Option<Date>) -> Markup {
    html! {
        @if f.level == CeilingLevel::Exceeded {
            "bereikt"
            @if let Some(d) = since { " sinds " (dates::display(d)) }
            @if !f.over_by.is_zero() { " en nu met " (f.over_by) " overschreden" }
        } @else {
            @match f.reached_on {
                Some(d) => { "naar verwachting bereikt op " (dates::display(d)) " (plaatsingstempo van de laatste zes maanden)" }
                None => { "niet te voorspellen: geen plaatsingen in de laatste zes maanden" }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    aanbieder: String,
    route: String,
    status: String,
}

/// The contract list: the filter as asked, the providers to filter on, and the contracts that pass it with their
/// figures and status on today.
struct ListPage {
    query: ListQuery,
    route: Option<Route>,
    providers: Vec<store::providers::Provider>,
    rows: Vec<(Contract, ContractFigures, ContractStatus)>,
}

async fn load_list(state: &AppState, query: ListQuery) -> AppResult<ListPage> {
    let today = dates::today();
    let all = portfolio(state, today).await?;
    let providers = store::providers::list(&state.db, "", store::providers::Filter::All).await?;
    let route = Route::parse(&query.route);
    let rows = all
        .with_figures()
        .map(|(c, f)| {
            let status = c.terms.period.status(today);
            (c.clone(), f.clone(), status)
        })
        .filter(|(c, _, _)| query.aanbieder.is_empty() || c.provider_id.to_string() == query.aanbieder)
        .filter(|(c, _, _)| route.is_none_or(|r| c.terms.routes.contains(&r)))
        .filter(|(_, _, status)| query.status.is_empty() || status.code() == query.status)
        .collect();
    Ok(ListPage { query, route, providers, rows })
}

async fn list(chrome: Chrome, State(state): State<AppState>, Query(q): Query<ListQuery>) -> AppResult<Markup> {
    let page = load_list(&state, q).await?;
    Ok(render_list(&chrome, &page))
}

fn render_list(chrome: &Chrome, page: &ListPage) -> Markup {
    let (q, route, providers, rows) = (&page.query, page.route, &page.providers, &page.rows);
    chrome.page(
        "Contracten",
        html! {
            h1 { "Contracten" }
            @if chrome.may(Permission::ManageContracts) { p { a.button href="/contracten/nieuw" { "Nieuw contract" } } }
            form.filters method="get" action="/contracten" {
                div.field {
                    label for="aanbieder" { "Taalaanbieder" }
                    select #aanbieder name="aanbieder" {
                        option value="" { "Alle" }
                        @for p in providers { option value=(p.id) selected[p.id.to_string() == q.aanbieder] { (p.name) } }
                    }
                }
                div.field {
                    label for="route" { "Leerroute" }
                    select #route name="route" {
                        option value="" { "Alle" }
                        @for r in Route::ALL { option value=(r.code()) selected[Some(r) == route] { (r.short_label()) } }
                    }
                }
                div.field {
                    label for="status" { "Status" }
                    select #status name="status" {
                        option value="" { "Alle" }
                        @for s in ContractStatus::ALL { option value=(s.code()) selected[s.code() == q.status] { (s.label()) } }
                    }
                }
                button type="submit" { "Filteren" }
            }
            table {
                caption { (crate::domain::words::count(rows.len(), "contract", "contracten")) }
                thead { tr {
                    th scope="col" { "Kenmerk" } th scope="col" { "Titel" } th scope="col" { "Taalaanbieder" } th scope="col" { "Routes" }
                    th scope="col" { "Status" } th scope="col" { "Einddatum (met opties)" } th.num scope="col" { "Gefactureerd" }
                    th.num scope="col" { "Openstaande verplichting" } th scope="col" { "Plafondgebruik (gefactureerd + verplichting)" }
                } }
                tbody {
                    @for (c, f, status) in rows {
                        tr {
                            th scope="row" { a href={"/contracten/" (c.id)} { (c.reference) } }
                            td { (c.title) }
                            td { (c.provider_name) }
                            td { (route_list(&c.terms.routes)) }
                            td { (status.label()) }
                            td { (dates::display(c.terms.period.current_end()))
                                @if c.terms.period.furthest_end() != c.terms.period.current_end() {
                                    " (" (dates::display(c.terms.period.furthest_end())) ")"
                                } }
                            td.num { (f.actual) }
                            td.num { (f.open_commitment) @if !f.overdue.is_zero() { br; "waarvan vervallen " (f.overdue) } }
                            td { (f.ceiling_use) " van " (c.terms.ceiling) " " (ceiling_meter(f.ceiling_pct, f.level, &format!("plafond-{}", c.id))) }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="9" { "Geen contracten gevonden." } } }
                }
            }
        },
    )
}

fn route_list(routes: &[Route]) -> String {
    routes.iter().map(|r| r.short_label()).collect::<Vec<_>>().join(", ")
}

async fn validate(
    state: &AppState,
    form: &ContractForm,
) -> AppResult<Result<crate::domain::contract::ContractDraft, FieldErrors>> {
    let provider_id = form.provider_id.trim().parse::<i64>().ok();
    let provider = match provider_id {
        Some(id) => store::providers::get(&state.db, id).await?,
        None => None,
    };
    let decisions = match &provider {
        Some(p) => store::certifications::for_provider(&state.db, p.id).await?,
        None => Vec::new(),
    };
    Ok(validate_contract(form, |_, day| provider.as_ref().map(|_| holds_valid_mark(&decisions, day))))
}

async fn new_form(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    form_page(&chrome, &state, None, &ContractForm::default(), &FieldErrors::new()).await
}

async fn create(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    RepeatedForm(form): RepeatedForm<ContractForm>,
) -> AppResult<Response> {
    let errors = match validate(&state, &form).await? {
        Ok(draft) => match store::contracts::create(&state.db, &draft, user.actor()).await {
            Ok(id) => return Ok(Redirect::to(&format!("/contracten/{id}?melding=aangemaakt")).into_response()),
            Err(ContractError::DuplicateReference(r)) => {
                let mut e = FieldErrors::new();
                e.add("reference", format!("Kenmerk {r} is al in gebruik bij een ander contract."));
                e
            }
            Err(e) => return Err(contract_error(e)),
        },
        Err(e) => e,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&chrome, &state, None, &form, &errors).await?).into_response())
}

fn contract_error(e: ContractError) -> AppError {
    match e {
        ContractError::NotFound => AppError::NotFound,
        ContractError::Db(e) => e.into(),
        other => AppError::Conflict(other.to_string()),
    }
}

fn form_of(c: &Contract) -> ContractForm {
    ContractForm {
        reference: c.reference.clone(),
        title: c.title.clone(),
        provider_id: c.provider_id.to_string(),
        lot: c.lot.clone(),
        routes: routes_code(&c.terms.routes),
        start_date: dates::iso(c.terms.period.start_date),
        initial_end_date: dates::iso(c.terms.period.initial_end_date),
        ceiling: c.terms.ceiling.plain(),
        notes: c.notes.clone(),
        version: Some(c.version),
    }
}

async fn edit_form(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let c = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    form_page(&chrome, &state, Some(&c), &form_of(&c), &FieldErrors::new()).await
}

async fn update(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    RepeatedForm(form): RepeatedForm<ContractForm>,
) -> AppResult<Response> {
    let current = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let draft = match validate(&state, &form).await? {
        Ok(d) => d,
        Err(errors) => {
            let page = form_page(&chrome, &state, Some(&current), &form, &errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let version =
        form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie van het contract".into()))?;
    match store::contracts::update(&state.db, id, version, &draft, user.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/contracten/{id}?melding=opgeslagen")).into_response()),
        Err(ContractError::Stale(now)) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "reference",
                format!(
                    "Iemand anders heeft dit contract intussen gewijzigd (nu: {}, {}, plafond {}, einde {}). Uw wijzigingen zijn niet opgeslagen; controleer ze en sla opnieuw op.",
                    now.reference,
                    now.title,
                    now.terms.ceiling,
                    dates::display(now.terms.period.initial_end_date)
                ),
            );
            let again = ContractForm { version: Some(now.version), ..form };
            let page = form_page(&chrome, &state, Some(&now), &again, &errors).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(ContractError::DuplicateReference(r)) => {
            let mut errors = FieldErrors::new();
            errors.add("reference", format!("Kenmerk {r} is al in gebruik bij een ander contract."));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&chrome, &state, Some(&current), &form, &errors).await?)
                .into_response())
        }
        Err(e) => Err(contract_error(e)),
    }
}

const LABELS: &[(&str, &str)] = &[
    ("reference", "Kenmerk"),
    ("title", "Titel"),
    ("provider_id", "Taalaanbieder"),
    ("lot", "Perceel"),
    ("routes", "Leerroutes en modules"),
    ("start_date", "Startdatum"),
    ("initial_end_date", "Einddatum (zonder opties)"),
    ("ceiling", "Contractplafond"),
    ("notes", "Notities"),
];

/// The contract form as entered (or as stored), on a page with the providers to choose from: loaded, then
/// rendered.
async fn form_page(
    chrome: &Chrome,
    state: &AppState,
    existing: Option<&Contract>,
    form: &ContractForm,
    errors: &FieldErrors,
) -> AppResult<Markup> {
    let providers = load_provider_options(state).await?;
    Ok(render_form(chrome, existing, form, errors, &providers))
}

/// The active providers as the form's choices (value, label), the empty choice first.
async fn load_provider_options(state: &AppState) -> AppResult<Vec<(String, String)>> {
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    Ok(std::iter::once((String::new(), "Kies een taalaanbieder".to_string()))
        .chain(providers.into_iter().map(|p| (p.id.to_string(), p.name)))
        .collect())
}

fn render_form(
    chrome: &Chrome,
    existing: Option<&Contract>,
    form: &ContractForm,
    errors: &FieldErrors,
    provider_options: &[(String, String)],
) -> Markup {
    let provider_options: Vec<(&str, &str)> = provider_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let chosen: Vec<&str> = form.routes.split(',').map(str::trim).collect();
    let (title, action) = match existing {
        Some(c) => (format!("Contract {} bewerken", c.reference), format!("/contracten/{}", c.id)),
        None => ("Nieuw contract".to_string(), "/contracten".to_string()),
    };
    chrome.page(
        &title,
        html! {
            p.breadcrumb { a href="/contracten" { "Contracten" } }
            h1 { (title) }
            (error_summary(errors, LABELS))
            form method="post" action=(action) novalidate {
                (chrome.csrf_field())
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (Field::new("reference", "Kenmerk", &form.reference, errors).required().hint("Bijvoorbeeld UTR-TAAL-2022-01").text())
                (Field::new("title", "Titel", &form.title, errors).required().text())
                (Field::new("provider_id", "Taalaanbieder", &form.provider_id, errors).required().select(&provider_options))
                (Field::new("lot", "Perceel", &form.lot, errors).text())
                fieldset.field.has-error[errors.get("routes").is_some()] id="routes" {
                    legend { "Leerroutes en modules" }
                    @if let Some(e) = errors.get("routes") { p.error-message { span.visually-hidden { "Fout: " } (e) } }
                    @for r in Route::ALL {
                        div.checkbox {
                            input type="checkbox" id={"route-" (r.code())} name="routes" value=(r.code()) checked[chosen.contains(&r.code())];
                            label for={"route-" (r.code())} { (r.label()) }
                        }
                    }
                }
                div.field-row {
                    (Field::new("start_date", "Startdatum", &form.start_date, errors).required().date())
                    (Field::new("initial_end_date", "Einddatum (zonder opties)", &form.initial_end_date, errors).required().date())
                }
                (Field::new("ceiling", "Contractplafond", &form.ceiling, errors).required().hint("Maximale contractwaarde in euro, bijvoorbeeld 2.500.000,00").text())
                (Field::new("notes", "Notities", &form.notes, errors).textarea())
                button type="submit" { "Opslaan" }
            }
        },
    )
}

/// The parts of a contract, each on its own page so that none is long (the single page was 12,458 px on the
/// demo): the summary, the payments per year, the terms with their forms, and the placements. Plain links
/// styled as tabs, so they work without JavaScript.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Summary,
    Payments,
    Terms,
    Placements,
}

impl Section {
    const ALL: [Section; 4] = [Section::Summary, Section::Payments, Section::Terms, Section::Placements];

    /// The part of the address after `/contracten/{id}`.
    fn path(self) -> &'static str {
        match self {
            Section::Summary => "",
            Section::Payments => "/betalingen",
            Section::Terms => "/voorwaarden",
            Section::Placements => "/plaatsingen",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Summary => "Overzicht",
            Section::Payments => "Betalingen per jaar",
            Section::Terms => "Voorwaarden en afspraken",
            Section::Placements => "Plaatsingen",
        }
    }
}

/// The address of a section of a contract, with an optional `?melding=` and fragment appended by the caller.
fn section_url(id: i64, section: Section) -> String {
    format!("/contracten/{id}{}", section.path())
}

/// What every section of a contract shows around its own content: the way back, the heading and the
/// links to the other sections (the current one marked for screen readers with `aria-current`).
fn contract_page(chrome: &Chrome, c: &Contract, section: Section, body: Markup) -> Markup {
    let title = match section {
        Section::Summary => format!("Contract {}", c.reference),
        s => format!("{} · contract {}", s.label(), c.reference),
    };
    chrome.page(
        &title,
        html! {
            p.breadcrumb {
                a href="/contracten" { "Contracten" }
                @if section != Section::Summary { " › " a href=(section_url(c.id, Section::Summary)) { (c.reference) } }
            }
            h1 { (c.reference) ": " (c.title) }
            nav.view-tabs aria-label="Onderdelen van dit contract" {
                ul {
                    @for s in Section::ALL {
                        li { a href=(section_url(c.id, s)) aria-current=[(s == section).then_some("page")] { (s.label()) } }
                    }
                }
            }
            (body)
        },
    )
}

/// The summary: the contract's facts and its ceiling with the figures behind it.
struct Summary {
    contract: Contract,
    figures: ContractFigures,
    since: Option<Date>,
    placements: usize,
    today: Date,
}

async fn load_summary(state: &AppState, id: i64) -> AppResult<Summary> {
    let today = dates::today();
    let all = portfolio(state, today).await?;
    let (contract, figures) = all.contract(id).ok_or(AppError::NotFound)?;
    let since = all.reached_since(&state.db, contract, figures).await?;
    Ok(Summary { contract: contract.clone(), figures: figures.clone(), since, placements: figures.placements, today })
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let s = load_summary(&state, id).await?;
    Ok(contract_page(&chrome, &s.contract, Section::Summary, summary_view(&chrome, &s)))
}

fn summary_view(chrome: &Chrome, s: &Summary) -> Markup {
    let (c, f) = (&s.contract, &s.figures);
    let period = &c.terms.period;
    html! {
        dl.facts {
            dt { "Taalaanbieder" } dd { a href={"/aanbieders/" (c.provider_id)} { (c.provider_name) } }
            dt { "Perceel" } dd { (c.lot) }
            dt { "Leerroutes en modules" } dd { (c.terms.routes.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
            dt { "Looptijd" } dd { (dates::display(period.start_date)) " tot en met " (dates::display(period.initial_end_date)) }
            dt { "Huidige einddatum" } dd { (dates::display(period.current_end())) " (uiterlijk " (dates::display(period.furthest_end())) " met alle opties)" }
            dt { "Status" } dd { (period.status(s.today).label()) }
            dt { "Contractplafond" } dd { (c.terms.ceiling) }
            dt { "Plaatsingen" } dd { a href=(section_url(c.id, Section::Placements)) { (s.placements) } }
            dt { "Notities" } dd.pre { (c.notes) }
        }
        @if chrome.may(Permission::ManageContracts) {
            div.actions { a.button href={"/contracten/" (c.id) "/bewerken"} { "Contract bewerken" } }
        }
        p { a href={"/historie/contract/" (c.id)} { "Geschiedenis van dit contract" } " · " a href={"/kwaliteit/contracten/" (c.id)} { "Kwaliteitsplan bij dit contract" } }

        h2 #plafond { "Plafond en verplichtingen" }
        (ceiling_meter(f.ceiling_pct, f.level, "plafond-meter"))
        @if f.level == CeilingLevel::Exceeded {
            p.status.status-bad { "Het plafond is " (ceiling_words(f, s.since)) ": plaats geen nieuwe cursisten zonder besluit." }
        } @else if f.level == CeilingLevel::Warning {
            p.status.status-warn { "Let op: 80% of meer van het plafond is in gebruik." }
        }
        dl.facts {
            dt { "Verwachte betalingen (alle plaatsingen)" } dd { (f.expected_total) }
            dt { "Gefactureerd (realisatie)" } dd {
                @if chrome.may(Permission::ManageFinance) {
                    a href={"/aansluiting/regels?contract=" (c.id)} { (f.actual) }
                } @else { (f.actual) }
            }
            dt { "Openstaande verplichting" } dd { (f.open_commitment) }
            dt { "waarvan vervallen, niet gefactureerd" } dd {
                @if f.overdue.is_zero() { (f.overdue) } @else { a href={(section_url(c.id, Section::Payments)) "#vervallen"} { (f.overdue) } }
            }
            dt { "waarvan nog te betalen" } dd { (f.to_come) }
            @if !f.unfunded.is_zero() {
                dt { "waarvan zonder financieringsbron" } dd {
                    (f.unfunded) " " span.status.status-bad { "geen bron" }
                    " (een doelgroep zonder standaardbron; stel die in onder " a href="/financiering/doelgroepen" { "Financiering › Doelgroepen" } ")"
                }
            }
            dt { "Plafondgebruik (gefactureerd + openstaande verplichting)" } dd { (f.ceiling_use) " van " (c.terms.ceiling) }
            dt { "Plafond" } dd { (ceiling_words(f, s.since)) }
        }
        p { a href=(section_url(c.id, Section::Payments)) { "Verwachte betalingen per jaar, bron en route" } }
    }
}

/// The payments section: expected payments per year, stream and route, and one page of the overdue ones.
struct PaymentsPage {
    contract: Contract,
    years: Vec<YearLine>,
    streams: HashMap<i64, String>,
    overdue: OverduePage,
}

/// The payments that fell due and were not invoiced: all of them counted and summed, `rows` the requested page.
struct OverduePage {
    count: usize,
    total: Money,
    rows: Vec<OverdueRow>,
    page: usize,
    pages: usize,
}

/// One overdue payment with the client number of its placement.
struct OverdueRow {
    due: Date,
    placement: i64,
    client: String,
    route: Route,
    milestone: String,
    stream: Option<i64>,
    amount: Money,
}

async fn load_payments(state: &AppState, id: i64, page: usize) -> AppResult<PaymentsPage> {
    let all = portfolio(state, dates::today()).await?;
    let (contract, _) = all.contract(id).ok_or(AppError::NotFound)?;
    let streams = store::funding::streams(&state.db).await?.into_iter().map(|(s, _)| (s.id, s.code)).collect();
    let years = all.commitments.year_lines(id);
    let overdue = all.commitments.overdue_of(id);
    let total = overdue.iter().map(|(_, m)| *m).sum();
    let (shown, page, pages) = super::placements::page_of(&overdue, page);
    let ids: Vec<i64> = shown.iter().map(|(p, _)| p.placement).collect();
    let clients = store::placements::client_numbers(&state.db, &ids).await?;
    let rows = shown
        .iter()
        .map(|(p, m)| OverdueRow {
            due: p.due,
            placement: p.placement,
            client: clients.get(&p.placement).cloned().unwrap_or_else(|| "?".to_string()),
            route: p.route,
            milestone: p.milestone.clone(),
            stream: p.stream,
            amount: *m,
        })
        .collect();
    let overdue = OverduePage { count: overdue.len(), total, rows, page, pages };
    Ok(PaymentsPage { contract: contract.clone(), years, streams, overdue })
}

/// Expected payments per year, stream and route, and the overdue ones 50 to a page (all on one page, the demo's
/// largest contract made it 5,305 px tall).
async fn payments(
    chrome: Chrome,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<Markup> {
    let p = load_payments(&state, id, q.pagina).await?;
    Ok(render_payments(&chrome, &p))
}

fn render_payments(chrome: &Chrome, p: &PaymentsPage) -> Markup {
    let body = html! {
        h2 { "Verwachte betalingen per jaar" }
        (year_table(&p.years, &p.streams))
        (overdue_list(chrome, p.contract.id, &p.overdue, &p.streams))
    };
    contract_page(chrome, &p.contract, Section::Payments, body)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    pagina: usize,
}

/// One page of the placements on a contract.
struct PlacementsPage {
    contract: Contract,
    placements: super::placements::PageOfPlacements,
}

async fn load_placements(state: &AppState, id: i64, page: usize) -> AppResult<PlacementsPage> {
    let contract = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let filter = store::placements::Filter { contract: Some(id), ..Default::default() };
    let placements = super::placements::placement_page(&state.db, &filter, page).await?;
    Ok(PlacementsPage { contract, placements })
}

/// The placements on the contract, 50 to a page (a count only for roles that do not see participants).
async fn placements(
    chrome: Chrome,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<Markup> {
    let p = load_placements(&state, id, q.pagina).await?;
    Ok(render_placements(&chrome, &p))
}

fn render_placements(chrome: &Chrome, p: &PlacementsPage) -> Markup {
    let (id, page, pages, total) = (p.contract.id, p.placements.page, p.placements.pages, p.placements.total);
    let caption = format!(
        "Plaatsingen op dit contract ({}){}",
        total,
        if pages > 1 { format!(", pagina {page} van {pages}") } else { String::new() }
    );
    let body = html! {
        h2 #plaatsingen { "Plaatsingen" }
        @if chrome.may(Permission::ParticipantData) {
            (super::placements::placement_table(&p.placements.shown, &p.contract.terms, &caption))
            (super::placements::pagination(page, pages, |n| format!("/contracten/{id}/plaatsingen?pagina={n}")))
        } @else {
            p { (crate::domain::words::count(total, "plaatsing", "plaatsingen")) " (gegevens per deelnemer zijn niet zichtbaar voor uw rol)." }
        }
    };
    contract_page(chrome, &p.contract, Section::Placements, body)
}

async fn terms(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    render_terms(&chrome, &state, id, &Forms::default()).await
}

/// Forms on the terms page that may come back with errors.
#[derive(Default)]
struct Forms {
    tariff: (TariffForm, FieldErrors),
    milestones: (MilestoneForm, FieldErrors),
    option: (OptionForm, FieldErrors),
    document: (DocumentForm, FieldErrors),
    /// The progress terms form.
    progress_terms: Option<(TermsForm, FieldErrors)>,
}

/// A form of the terms page that came back with errors: the page again, with the form as entered.
async fn terms_refused(chrome: &Chrome, state: &AppState, id: i64, forms: &Forms) -> AppResult<Response> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_terms(chrome, state, id, forms).await?).into_response())
}

/// Where a saved form of the terms page leads: back to its own part of that page, with the notice.
fn terms_saved(id: i64, fragment: &str) -> Response {
    Redirect::to(&format!("{}?melding=opgeslagen#{fragment}", section_url(id, Section::Terms))).into_response()
}

/// The terms section: the contract with its tariffs, milestones, options and documents, and its progress terms.
struct TermsPage {
    contract: Contract,
    progress_terms: ProgressTerms,
    /// The contract's attendance per year against its norm (the indicators read the same function).
    attendance: Vec<ContractHours>,
    today: Date,
}

async fn load_terms(state: &AppState, id: i64) -> AppResult<TermsPage> {
    let contract = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let progress_terms = store::progress::progress_terms(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let all = crate::report::contract_attendance::per_year(&state.db, Some(&state.contract_attendance_cache)).await?;
    let attendance = all.iter().filter(|h| h.contract_id == id).cloned().collect();
    Ok(TermsPage { contract, progress_terms, attendance, today: dates::today() })
}

/// The terms section, with `forms` as entered when one came back with errors.
async fn render_terms(chrome: &Chrome, state: &AppState, id: i64, forms: &Forms) -> AppResult<Markup> {
    Ok(terms_view(chrome, &load_terms(state, id).await?, forms))
}

fn terms_view(chrome: &Chrome, t: &TermsPage, forms: &Forms) -> Markup {
    let (c, today) = (&t.contract, t.today);
    let manage = chrome.may(Permission::ManageContracts);
    let period = &c.terms.period;
    let body = html! {
        (terms_section(chrome, c.id, &t.progress_terms, forms.progress_terms.as_ref()))
        (attendance_table(chrome, &t.attendance))

        h2 #tarieven { "Tarieven (vast budget per cursist)" }
        (tariff_table(&c.terms.tariffs))
        @if manage { (tariff_form(chrome, c, &forms.tariff.0, &forms.tariff.1)) }

        h2 #betaalmomenten { "Betaalmomenten" }
        @for r in &c.terms.routes {
            @let ms = c.terms.milestones.get(r).cloned().unwrap_or_default();
            table {
                caption { "Betaalmomenten " (r.label()) }
                thead { tr { th scope="col" { "Moment" } th.num scope="col" { "Aandeel" } th scope="col" { "Verschuldigd" } } }
                tbody {
                    @for m in &ms { tr { th scope="row" { (m.name) } td.num { (m.share.display()) } td { (m.due.label()) } } }
                    @if ms.is_empty() { tr { td colspan="3" { "Nog geen betaalmomenten: plaatsingen op deze route kunnen nog niet worden berekend." } } }
                }
            }
        }
        @if manage { (milestone_form(chrome, c, &forms.milestones.0, &forms.milestones.1)) }

        h2 #opties { "Verlengingsopties" }
        table {
            caption { "Opties in volgorde" }
            thead { tr {
                th scope="col" { "Verlenging tot" } th scope="col" { "Uiterlijk besluiten op" } th scope="col" { "Status" }
                th scope="col" { "Besluit" } @if manage { th scope="col" { "Actie" } }
            } }
            tbody {
                @for o in &period.options {
                    tr {
                        th scope="row" { (dates::display(o.new_end_date)) }
                        td { (dates::display(o.notice_deadline))
                            @if o.status == OptionStatus::Pending && o.notice_deadline >= today {
                                " (" (crate::domain::words::count((o.notice_deadline - today).whole_days(), "dag", "dagen")) ")"
                            } }
                        td { (o.status.label()) }
                        td { (o.decision_reference) @if let Some(d) = o.decision_date { " (" (dates::display(d)) ")" } }
                        @if manage { td { @if o.status == OptionStatus::Pending { (decide_form(chrome, c.id, o)) } } }
                    }
                }
                @if period.options.is_empty() { tr { td colspan="5" { "Geen opties." } } }
            }
        }
        @if manage { (option_form(chrome, c, &forms.option.0, &forms.option.1)) }

        h2 #documenten { "Documenten" }
        ul { @for d in &c.documents { li { (d.title) ": " code { (d.location) } } } @if c.documents.is_empty() { li { "Geen documenten vastgelegd." } } }
        @if manage { (document_form(chrome, c, &forms.document.0, &forms.document.1)) }
    };
    contract_page(chrome, c, Section::Terms, body)
}

fn stream_name(streams: &HashMap<i64, String>, stream: Option<i64>) -> String {
    match stream {
        Some(id) => streams.get(&id).cloned().unwrap_or_else(|| id.to_string()),
        None => "Zonder financieringsbron".into(),
    }
}

/// Expected payments, what the invoices matched and what is open, per year, stream and route.
fn year_table(lines: &[YearLine], streams: &HashMap<i64, String>) -> Markup {
    let sum = |f: fn(&YearLine) -> Money| lines.iter().map(f).sum::<Money>();
    html! {
        table #jaren {
            caption { "Verwachte betalingen per jaar, bron en route: gefactureerd en nog open. " (ROUTE_SPLIT) }
            thead { tr {
                th scope="col" { "Jaar" } th scope="col" { "Bron" } th scope="col" { "Route" } th.num scope="col" { "Verwacht" }
                th.num scope="col" { "Gefactureerd" } th.num scope="col" { "Vervallen, niet gefactureerd" } th.num scope="col" { "Nog te betalen" }
            } }
            tbody {
                @for l in lines {
                    tr {
                        th scope="row" { (l.year) }
                        td { (stream_name(streams, l.stream)) }
                        td { @match l.route { Some(r) => { (r.short_label()) } None => { "Niet aan een route toe te wijzen (meer gefactureerd dan verwacht)" } } }
                        td.num { (l.expected) } td.num { (l.invoiced) } td.num { (l.overdue) } td.num { (l.to_come) }
                    }
                }
                @if lines.is_empty() { tr { td colspan="7" { "Nog geen verwachte betalingen of facturen." } } }
            }
            tfoot { tr {
                th scope="row" colspan="3" { "Totaal" }
                td.num { strong { (sum(|l| l.expected)) } } td.num { strong { (sum(|l| l.invoiced)) } }
                td.num { strong { (sum(|l| l.overdue)) } } td.num { strong { (sum(|l| l.to_come)) } }
            } }
        }
    }
}

/// The payments that fell due and were not invoiced, with their placements (for roles that see participants),
/// so the contract manager can chase the invoice or the provider's claim.
fn overdue_list(chrome: &Chrome, contract: i64, o: &OverduePage, streams: &HashMap<i64, String>) -> Markup {
    let summary = html! { (crate::domain::words::count(o.count, "betaling", "betalingen")) ", samen " (o.total) };
    html! {
        h3 #vervallen { "Vervallen, niet gefactureerde betalingen" }
        @if o.count == 0 {
            p { "Geen: elke betaling die op of vóór vandaag verviel, is gefactureerd." }
        } @else if chrome.may(Permission::ParticipantData) {
            table {
                caption { (summary) @if o.pages > 1 { ", pagina " (o.page) " van " (o.pages) } }
                thead { tr {
                    th scope="col" { "Vervallen op" } th scope="col" { "Plaatsing" } th scope="col" { "Route" }
                    th scope="col" { "Betaalmoment" } th scope="col" { "Bron" } th.num scope="col" { "Niet gefactureerd" }
                } }
                tbody {
                    @for r in &o.rows {
                        tr {
                            th scope="row" { (dates::display(r.due)) }
                            td { a href={"/plaatsingen/" (r.placement)} { (r.client) } }
                            td { (r.route.short_label()) } td { (r.milestone) } td { (stream_name(streams, r.stream)) }
                            td.num { (r.amount) }
                        }
                    }
                }
            }
            (super::placements::pagination(o.page, o.pages, |n| format!("{}?pagina={n}#vervallen", section_url(contract, Section::Payments))))
        } @else {
            p { (summary) " (gegevens per deelnemer zijn niet zichtbaar voor uw rol)." }
        }
    }
}

fn tariff_table(tariffs: &[Tariff]) -> Markup {
    html! {
        table {
            caption { "Tarieven per leerroute en periode" }
            thead { tr { th scope="col" { "Leerroute" } th scope="col" { "Geldig vanaf" } th scope="col" { "Geldig tot en met" } th.num scope="col" { "Tarief per cursist" } } }
            tbody {
                @for t in tariffs {
                    tr {
                        th scope="row" { (t.route.label()) }
                        td { (dates::display(t.valid_from)) }
                        td { (t.valid_until.map(dates::display).unwrap_or_else(|| "—".into())) }
                        td.num { (t.amount) }
                    }
                }
                @if tariffs.is_empty() { tr { td colspan="4" { "Nog geen tarieven." } } }
            }
        }
    }
}

fn route_options(c: &Contract) -> Vec<(&'static str, &'static str)> {
    std::iter::once(("", "Kies een leerroute")).chain(c.terms.routes.iter().map(|r| (r.code(), r.label()))).collect()
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TariffForm {
    route: String,
    valid_from: String,
    valid_until: String,
    amount: String,
}

fn tariff_form(chrome: &Chrome, c: &Contract, form: &TariffForm, errors: &FieldErrors) -> Markup {
    html! {
        h3 #nieuw-tarief { "Tarief toevoegen" }
        (error_summary_for("tarief", errors, &[("route", "Leerroute"), ("valid_from", "Geldig vanaf"), ("valid_until", "Geldig tot en met"), ("amount", "Tarief")]))
        form method="post" action={"/contracten/" (c.id) "/tarieven#nieuw-tarief"} novalidate {
            (chrome.csrf_field())
            (Field::new("route", "Leerroute", &form.route, errors).in_form("tarief").required().select(&route_options(c)))
            div.field-row {
                (Field::new("valid_from", "Geldig vanaf", &form.valid_from, errors).in_form("tarief").required().hint("Indexatie: een nieuw tarief per 1 januari.").date())
                (Field::new("valid_until", "Geldig tot en met", &form.valid_until, errors).in_form("tarief").hint("Leeg: tot een volgend tarief.").date())
            }
            (Field::new("amount", "Tarief per cursist", &form.amount, errors).in_form("tarief").required().hint("Bijvoorbeeld 10.250,00").text())
            button type="submit" { "Tarief toevoegen" }
        }
    }
}

async fn add_tariff(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<TariffForm>,
) -> AppResult<Response> {
    let c = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut e = FieldErrors::new();
    let route = Route::parse(&form.route).filter(|r| c.terms.routes.contains(r));
    if route.is_none() {
        e.add("route", "Kies een leerroute van dit contract.");
    }
    let from = required_date(&mut e, "valid_from", "Geldig vanaf", &form.valid_from);
    let until = dates::parse_form(&form.valid_until).map_err(|m| e.add("valid_until", m)).ok().flatten();
    let amount = Money::parse(&form.amount).map_err(|m| e.add("amount", format!("Tarief: {m}."))).ok();
    if let (Some(route), Some(from), Some(amount), true) = (route, from, amount, e.is_empty()) {
        match validate_tariff(route, from, until, amount, &c.terms.tariffs) {
            Ok(()) => {
                let t = Tariff { id: 0, route, valid_from: from, valid_until: until, amount };
                store::contracts::add_tariff(&state.db, id, &t, user.actor()).await?;
                return Ok(terms_saved(id, "tarieven"));
            }
            Err((field, m)) => e.add(field, m),
        }
    }
    let forms = Forms { tariff: (form, e), ..Default::default() };
    terms_refused(&chrome, &state, id, &forms).await
}

/// Up to five milestone rows: name_N, share_N, due_N, months_N.
const MILESTONE_ROWS: usize = 5;

#[derive(Default, Clone)]
struct MilestoneForm {
    route: String,
    rows: Vec<[String; 4]>,
}

fn milestone_form_from(fields: Vec<(String, String)>) -> MilestoneForm {
    let mut form = MilestoneForm { route: String::new(), rows: vec![Default::default(); MILESTONE_ROWS] };
    for (k, v) in fields {
        if k == "route" {
            form.route = v;
            continue;
        }
        let Some((name, n)) = k.rsplit_once('_') else { continue };
        let Some(i) = n.parse::<usize>().ok().filter(|i| (1..=MILESTONE_ROWS).contains(i)) else { continue };
        let slot = match name {
            "name" => 0,
            "share" => 1,
            "due" => 2,
            "months" => 3,
            _ => continue,
        };
        form.rows[i - 1][slot] = v;
    }
    form
}

fn milestone_form(chrome: &Chrome, c: &Contract, form: &MilestoneForm, errors: &FieldErrors) -> Markup {
    let dues = [("start", "bij de start"), ("months", "maanden na de start"), ("completion", "bij afronding")];
    let rows = if form.rows.is_empty() { vec![Default::default(); MILESTONE_ROWS] } else { form.rows.clone() };
    html! {
        h3 #nieuwe-betaalmomenten { "Betaalmomenten vastleggen voor een leerroute" }
        p.hint { "Vervangt de betaalmomenten van de gekozen route. De aandelen tellen op tot precies 100%; het bedrag per moment wordt op de cent berekend, het restant valt op het laatste moment." }
        (error_summary_for("betaalmoment", errors, &[("route", "Leerroute"), ("shares", "Aandelen")]))
        form method="post" action={"/contracten/" (c.id) "/betaalmomenten#nieuwe-betaalmomenten"} novalidate {
            (chrome.csrf_field())
            (Field::new("route", "Leerroute", &form.route, errors).in_form("betaalmoment").required().select(&route_options(c)))
            @if let Some(e) = errors.get("shares") { p.error-message #shares { span.visually-hidden { "Fout: " } (e) } }
            table {
                caption { "Betaalmomenten (laat rijen leeg die u niet nodig heeft)" }
                thead { tr { th scope="col" { "Nr." } th scope="col" { "Naam" } th scope="col" { "Aandeel (%)" } th scope="col" { "Verschuldigd" } th scope="col" { "Aantal maanden" } } }
                tbody {
                    @for (i, row) in rows.iter().enumerate() {
                        @let n = i + 1;
                        tr {
                            th scope="row" { (n) }
                            td { label.visually-hidden for={"name_" (n)} { "Naam moment " (n) } input type="text" id={"name_" (n)} name={"name_" (n)} value=(row[0]); }
                            td { label.visually-hidden for={"share_" (n)} { "Aandeel moment " (n) } input type="text" inputmode="decimal" id={"share_" (n)} name={"share_" (n)} value=(row[1]); }
                            td {
                                label.visually-hidden for={"due_" (n)} { "Verschuldigd moment " (n) }
                                select id={"due_" (n)} name={"due_" (n)} {
                                    @for (v, l) in dues { option value=(v) selected[row[2] == v] { (l) } }
                                }
                            }
                            td { label.visually-hidden for={"months_" (n)} { "Maanden na start, moment " (n) } input type="number" min="1" max="120" id={"months_" (n)} name={"months_" (n)} value=(row[3]); }
                        }
                    }
                }
            }
            button type="submit" { "Betaalmomenten opslaan" }
        }
    }
}

async fn set_milestones(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let form = milestone_form_from(fields);
    let mut e = FieldErrors::new();
    let route = Route::parse(&form.route).filter(|r| c.terms.routes.contains(r));
    if route.is_none() {
        e.add("route", "Kies een leerroute van dit contract.");
    }
    let mut milestones = Vec::new();
    for (i, [name, share, due, months]) in form.rows.iter().enumerate() {
        if name.trim().is_empty() && share.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let name = text(&mut e, "shares", &format!("Naam van moment {n}"), name, 100, true);
        let share = Share::parse(share).map_err(|m| e.add("shares", format!("Moment {n}: {m}"))).ok();
        let due = Due::from_parts(due, months.trim().parse().ok());
        if due.is_none() {
            e.add("shares", format!("Moment {n}: geef bij 'maanden na de start' een aantal maanden van 1 tot 120."));
        }
        if let (Some(share), Some(due)) = (share, due) {
            milestones.push(Milestone { name, share, due });
        }
    }
    if e.is_empty() {
        if let Err(m) = validate_milestones(&milestones) {
            e.add("shares", m);
        }
    }
    if let (Some(route), true) = (route, e.is_empty()) {
        store::contracts::set_milestones(&state.db, id, route, &milestones, user.actor()).await?;
        return Ok(terms_saved(id, "betaalmomenten"));
    }
    let forms = Forms { milestones: (form, e), ..Default::default() };
    terms_refused(&chrome, &state, id, &forms).await
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct OptionForm {
    new_end_date: String,
    notice_deadline: String,
}

fn option_form(chrome: &Chrome, c: &Contract, form: &OptionForm, errors: &FieldErrors) -> Markup {
    html! {
        h3 #nieuwe-optie { "Verlengingsoptie toevoegen" }
        (error_summary(errors, &[("new_end_date", "Verlenging tot"), ("notice_deadline", "Uiterlijk besluiten op")]))
        form method="post" action={"/contracten/" (c.id) "/opties#nieuwe-optie"} novalidate {
            (chrome.csrf_field())
            div.field-row {
                (Field::new("new_end_date", "Verlenging tot en met", &form.new_end_date, errors).required().date())
                (Field::new("notice_deadline", "Uiterlijk besluiten op", &form.notice_deadline, errors).required().date())
            }
            button type="submit" { "Optie toevoegen" }
        }
    }
}

async fn add_option(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<OptionForm>,
) -> AppResult<Response> {
    let c = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut e = FieldErrors::new();
    let end = required_date(&mut e, "new_end_date", "Verlenging tot", &form.new_end_date);
    let deadline = required_date(&mut e, "notice_deadline", "Uiterlijk besluiten op", &form.notice_deadline);
    if let (Some(end), Some(deadline)) = (end, deadline) {
        match c.terms.period.validate_new_option(end, deadline) {
            Ok(()) => {
                let o = ExtensionOption {
                    id: 0,
                    new_end_date: end,
                    notice_deadline: deadline,
                    status: OptionStatus::Pending,
                    decision_reference: String::new(),
                    decision_date: None,
                };
                store::contracts::add_option(&state.db, id, &o, user.actor()).await?;
                return Ok(terms_saved(id, "opties"));
            }
            Err((field, m)) => e.add(field, m),
        }
    }
    let forms = Forms { option: (form, e), ..Default::default() };
    terms_refused(&chrome, &state, id, &forms).await
}

fn decide_form(chrome: &Chrome, contract_id: i64, o: &ExtensionOption) -> Markup {
    html! {
        form.inline method="post" action={"/contracten/" (contract_id) "/opties/" (o.id)} {
            (chrome.csrf_field())
            label for={"besluit-" (o.id)} { "Besluit" }
            select id={"besluit-" (o.id)} name="status" {
                option value="exercised" { "Lichten" }
                option value="declined" { "Niet lichten" }
            }
            label for={"kenmerk-" (o.id)} { "Kenmerk besluit" }
            input type="text" id={"kenmerk-" (o.id)} name="decision_reference" required;
            button type="submit" { "Vastleggen" }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    status: String,
    decision_reference: String,
}

async fn decide_option(
    user: CurrentUser,
    State(state): State<AppState>,
    Path((id, option_id)): Path<(i64, i64)>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let c = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let option = c.terms.period.options.iter().find(|o| o.id == option_id).ok_or(AppError::NotFound)?;
    if option.status != OptionStatus::Pending {
        return Err(AppError::Conflict("over deze optie is al besloten".into()));
    }
    let status = OptionStatus::parse(&form.status)
        .filter(|s| *s != OptionStatus::Pending)
        .ok_or_else(|| AppError::BadRequest("kies 'lichten' of 'niet lichten'".into()))?;
    let reference = form.decision_reference.trim();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(AppError::BadRequest("geef het kenmerk van het besluit op (hoogstens 100 tekens)".into()));
    }
    if crate::domain::bsn::contains_bsn(reference) {
        return Err(AppError::BadRequest(crate::domain::bsn::free_text_refusal("Het kenmerk van het besluit")));
    }
    store::contracts::decide_option(&state.db, id, option_id, status, reference, dates::today(), user.actor())
        .await
        .map_err(contract_error)?;
    Ok(terms_saved(id, "opties"))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct DocumentForm {
    title: String,
    location: String,
}

fn document_form(chrome: &Chrome, c: &Contract, form: &DocumentForm, errors: &FieldErrors) -> Markup {
    html! {
        h3 #nieuw-document { "Document vastleggen" }
        (error_summary(errors, &[("title", "Titel"), ("location", "Vindplaats")]))
        form method="post" action={"/contracten/" (c.id) "/documenten#nieuw-document"} novalidate {
            (chrome.csrf_field())
            div.field-row {
                (Field::new("title", "Titel", &form.title, errors).required().hint("Bijvoorbeeld: Raamovereenkomst, getekend").text())
                (Field::new("location", "Vindplaats", &form.location, errors).required().hint("Zaaknummer, pad of adres in het documentsysteem").text())
            }
            button type="submit" { "Document vastleggen" }
        }
    }
}

async fn add_document(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<DocumentForm>,
) -> AppResult<Response> {
    store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut e = FieldErrors::new();
    let title = text(&mut e, "title", "Titel", &form.title, 200, true);
    let location = text(&mut e, "location", "Vindplaats", &form.location, 500, true);
    if e.is_empty() {
        store::contracts::add_document(&state.db, id, &title, &location, user.actor()).await?;
        return Ok(terms_saved(id, "documenten"));
    }
    let forms = Forms { document: (form, e), ..Default::default() };
    terms_refused(&chrome, &state, id, &forms).await
}

const TERMS_LABELS: &[(&str, &str)] = &[
    ("attendance_norm", "Aanwezigheidsnorm (%)"),
    ("catch_up_rate", "Tarief per inhaaluur"),
    ("hourly_rate", "Tarief per aanwezig uur"),
];

/// The progress terms on a contract's page: the attendance norm and the catch-up rate, with a form for managers.
/// `returned` is a form that came back with errors: its entered values and messages are shown instead of the
/// stored terms.
fn terms_section(
    chrome: &Chrome,
    contract_id: i64,
    t: &ProgressTerms,
    returned: Option<&(TermsForm, FieldErrors)>,
) -> Markup {
    let norm = Share::from_basis_points(t.attendance_norm_bp).display();
    let stored = (TermsForm::of(t), FieldErrors::new());
    let (form, errors) = returned.unwrap_or(&stored);
    html! {
        h2 #voortgang { "Voortgang en factuurcontrole" }
        dl.facts {
            dt { "Aanwezigheidsnorm" } dd { (norm) }
            dt { "Inhaalregeling" } dd { @match t.rates.catch_up { Some(r) => { (r) " per inhaaluur" } None => { "geen: inhaallessen zijn voor rekening van de aanbieder" } } }
            dt { "Betaling per uur" } dd { @match t.rates.hourly { Some(r) => { (r) " per aanwezig uur, naast de betaalmomenten" } None => { "geen: alleen de betaalmomenten" } } }
        }
        p {
            @if chrome.may(Permission::ParticipantData) { a href={"/factuurcontrole?contract=" (contract_id)} { "Factuurcontrole voor dit contract" } " · " }
            a href="/scorecard" { "Scorecard aanbieders" }
        }
        @if chrome.may(Permission::ManageContracts) {
            (error_summary(errors, TERMS_LABELS))
            form method="post" action={"/contracten/" (contract_id) "/voortgangsafspraken"} novalidate {
                (chrome.csrf_field())
                div.field-row {
                    (Field::new("attendance_norm", "Aanwezigheidsnorm (%)", &form.attendance_norm, errors).required().hint("Bijvoorbeeld 80").text())
                    (Field::new("catch_up_rate", "Tarief per inhaaluur (leeg: geen)", &form.catch_up_rate, errors).hint("Bijvoorbeeld 45,00").text())
                    (Field::new("hourly_rate", "Tarief per aanwezig uur (leeg: geen)", &form.hourly_rate, errors).hint("Bijvoorbeeld 12,50").text())
                }
                button type="submit" { "Afspraken opslaan" }
            }
        }
    }
}

/// The contract's attendance per year against its own norm, the figures of the indicator "Aanwezigheid tegen de
/// norm van het contract"; attendance and outcome over 1 to 4 placements hidden from aggregates-only viewers.
fn attendance_table(chrome: &Chrome, lines: &[ContractHours]) -> Markup {
    let cells = chrome.small_cells();
    html! {
        table #aanwezigheid {
            caption { "Aanwezigheid per jaar tegen de aanwezigheidsnorm van dit contract (uit de voortgangsrapportages)" }
            thead { tr {
                th scope="col" { "Jaar" } th.num scope="col" { "Plaatsingen met rapportage" } th.num scope="col" { "Uren aangeboden" }
                th.num scope="col" { "Uren aanwezig" } th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Norm" } th scope="col" { "Uitkomst" }
            } }
            tbody {
                @for l in lines {
                    @let hide = crate::report::contract_attendance::hidden(cells, l.placements);
                    tr {
                        th scope="row" { (l.year) }
                        @if hide {
                            td.num { (HIDDEN) } td.num { (HIDDEN) } td.num { (HIDDEN) } td.num { (HIDDEN) }
                        } @else {
                            td.num { (l.placements) } td.num { (l.against.offered.dutch()) } td.num { (l.against.attended.dutch()) }
                            td.num { (super::progress::pct_text(l.against.pct())) }
                        }
                        td.num { (Share::from_basis_points(l.against.norm_bp).display()) }
                        td { @if hide { (HIDDEN) } @else { (super::progress::norm_outcome(&l.against)) } }
                    }
                }
                @if lines.is_empty() { tr { td colspan="7" { "Nog geen voortgangsrapportages bij dit contract." } } }
            }
        }
    }
}

async fn set_terms(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<TermsForm>,
) -> AppResult<Response> {
    store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    match validate_terms(&f) {
        Ok(t) => {
            store::progress::set_progress_terms(&state.db, id, &t, user.actor()).await?;
            Ok(terms_saved(id, "voortgang"))
        }
        Err(errors) => {
            terms_refused(&chrome, &state, id, &Forms { progress_terms: Some((f, errors)), ..Default::default() }).await
        }
    }
}
