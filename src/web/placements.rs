//! Placement screens: the list, a placement with its expected payments, and the placement form.
//! Participant-level data: only for roles with `ParticipantData`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

use super::forms::{error_summary, Field};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::holds_valid_mark;
use crate::domain::commitment::placement_payments;
use crate::domain::contract::ContractTerms;
use crate::domain::dates;
use crate::domain::placement::{validate_placement, PlacementForm, PlacementStatus};
use crate::domain::progress::late_start;
use crate::domain::route::{Cohort, Route};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::store;
use crate::store::contracts::Contract;
use crate::store::placements::{Filter, Placement, PlacementError};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/plaatsingen", Permission::ParticipantData, list)
        .get("/plaatsingen/nieuw", Permission::ManageContracts, new_form)
        .post("/plaatsingen", Permission::ManageContracts, create)
        .get("/plaatsingen/{id}", Permission::ParticipantData, detail)
        .get("/plaatsingen/{id}/bewerken", Permission::ManageContracts, edit_form)
        .post("/plaatsingen/{id}", Permission::ManageContracts, update)
}

/// A table of placements with what each is expected to cost, under `caption` (which says how many).
pub fn placement_table(placements: &[Placement], terms: &ContractTerms, caption: &str) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Klantnummer" } th scope="col" { "Doelgroep" } th scope="col" { "Route" } th scope="col" { "Start" }
                th scope="col" { "Gepland einde" } th scope="col" { "Status" } th.num scope="col" { "Verwacht bedrag" }
            } }
            tbody {
                @for p in placements {
                    @let total: Option<Money> = placement_payments(terms, p.route, &p.schedule).map(|ps| ps.iter().map(|x| x.amount).sum());
                    tr {
                        th scope="row" { a href={"/plaatsingen/" (p.id)} { (p.client_number.as_str()) } }
                        td { (p.cohort.label()) }
                        td { (p.route.short_label()) }
                        td { (dates::display(p.schedule.start_date)) }
                        td { (dates::display(p.schedule.planned_end)) }
                        td { (p.schedule.status.label()) @if let Some(d) = p.schedule.status_date { " (" (dates::display(d)) ")" } }
                        td.num { @match total { Some(t) => { (t) } None => { "geen tarief" } } }
                    }
                }
            }
        }
    }
}

/// A placement's expected payments added up per year of their due date.
pub fn year_totals(payments: &[crate::domain::placement::ExpectedPayment]) -> Markup {
    html! {
        table.year-totals {
            caption { "Verwachte betalingen per jaar" }
            thead { tr { th scope="col" { "Jaar" } th.num scope="col" { "Bedrag" } } }
            tbody {
                @for (year, amount) in crate::domain::placement::by_year(payments) {
                    tr { th scope="row" { (year) } td.num { (amount) } }
                }
                @if payments.is_empty() { tr { td colspan="2" { "Geen verwachte betalingen." } } }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    aanbieder: String,
    contract: String,
    route: String,
    /// A status code, or `lopend` for started and ongoing.
    status: String,
    /// `geldig` or `ongeldig`: whether the provider holds a valid Blik op Werk mark today.
    keurmerk: String,
    /// `late-start` or `derde-poging`: placements with that progress warning.
    signaal: String,
    klantnummer: String,
    pagina: usize,
}

impl ListQuery {
    /// This filter as a query string, for the paging links.
    fn query(&self) -> String {
        let pairs = [
            ("aanbieder", &self.aanbieder),
            ("contract", &self.contract),
            ("route", &self.route),
            ("status", &self.status),
            ("keurmerk", &self.keurmerk),
            ("signaal", &self.signaal),
            ("klantnummer", &self.klantnummer),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }
}

const PLACEMENTS_PER_PAGE: usize = 50;

/// Page `requested` (1-based; a page past the end is the last one) of `total` items: the page shown, how many pages
/// there are, and how many items come before it.
fn page_window(total: usize, requested: usize) -> (usize, usize, usize) {
    let pages = total.div_ceil(PLACEMENTS_PER_PAGE).max(1);
    let page = requested.clamp(1, pages);
    (page, pages, (page - 1) * PLACEMENTS_PER_PAGE)
}

/// The placements of page `requested` (1-based; a page past the end is the last one), the page shown, and how many
/// pages there are.
pub fn page_of<T>(items: &[T], requested: usize) -> (&[T], usize, usize) {
    let (page, pages, before) = page_window(items.len(), requested);
    (&items[before..(before + PLACEMENTS_PER_PAGE).min(items.len())], page, pages)
}

/// One page of the placements that pass a filter, read in SQL.
pub struct PageOfPlacements {
    /// How many placements pass the filter, over all pages.
    pub total: usize,
    pub shown: Vec<Placement>,
    pub page: usize,
    pub pages: usize,
}

/// Page `requested` of the placements that pass `filter` (see [`page_of`]), newest first.
pub async fn placement_page(
    db: &store::Db,
    filter: &store::placements::Filter,
    requested: usize,
) -> sqlx::Result<PageOfPlacements> {
    let total = store::placements::count(db, filter).await?;
    let (page, pages, before) = page_window(total, requested);
    let shown = store::placements::page(db, filter, before, PLACEMENTS_PER_PAGE).await?;
    Ok(PageOfPlacements { total, shown, page, pages })
}

/// Links to the previous and next page (nothing when there is one page); `link` gives a page's address.
pub fn pagination(page: usize, pages: usize, link: impl Fn(usize) -> String) -> Markup {
    html! {
        @if pages > 1 {
            nav aria-label="Paginering" {
                ul.pagination {
                    @if page > 1 { li { a href=(link(page - 1)) rel="prev" { "Vorige pagina" } } }
                    li { "Pagina " (page) " van " (pages) }
                    @if page < pages { li { a href=(link(page + 1)) rel="next" { "Volgende pagina" } } }
                }
            }
        }
    }
}

/// The list's filter in SQL terms: the provider's mark and the progress signals are worked out here as sets of
/// providers and placements.
async fn filter_of(state: &AppState, q: &ListQuery, today: Date) -> AppResult<Filter> {
    let mut filter = Filter {
        provider: (!q.aanbieder.is_empty()).then(|| q.aanbieder.clone()),
        contract: q.contract.parse().ok(),
        route: (!q.route.is_empty()).then(|| q.route.clone()),
        statuses: match q.status.as_str() {
            "" => None,
            "lopend" => {
                Some(PlacementStatus::ALL.iter().filter(|s| s.running()).map(|s| s.code().to_string()).collect())
            }
            code => Some(vec![code.to_string()]),
        },
        client: (!q.klantnummer.trim().is_empty()).then(|| q.klantnummer.trim().to_string()),
        ..Default::default()
    };
    if matches!(q.keurmerk.as_str(), "geldig" | "ongeldig") {
        let decisions = store::certifications::all_by_provider(&state.db).await?;
        let valid = decisions.iter().filter(|(_, d)| holds_valid_mark(d, today)).map(|(id, _)| *id).collect();
        filter.providers = Some((q.keurmerk == "geldig", valid));
    }
    if matches!(q.signaal.as_str(), "late-start" | "derde-poging") {
        let signals = crate::report::progress_signals::signals(&state.db, Some(&state.signals_cache)).await?;
        let signal = |id: i64| crate::report::progress_signals::of(&signals, id);
        filter.ids = Some(if q.signaal == "late-start" {
            store::placements::pip_dates(&state.db)
                .await?
                .into_iter()
                .filter(|&(id, pip)| late_start(Some(pip), signal(id).actual_start, today).is_some())
                .map(|(id, _)| id)
                .collect()
        } else {
            signals.iter().filter(|(_, s)| s.third_attempt).map(|(id, _)| *id).collect()
        });
    }
    Ok(filter)
}

async fn load_list(state: &AppState, q: ListQuery) -> AppResult<ListPage> {
    let today = dates::today();
    // The kept portfolio holds every contract: reading them again costs more than the page of placements.
    let contracts = super::contracts::portfolio(state, today).await?;
    let providers = store::providers::list(&state.db, "", store::providers::Filter::All).await?;
    let filter = filter_of(state, &q, today).await?;
    let PageOfPlacements { total, shown, page, pages } = placement_page(&state.db, &filter, q.pagina).await?;
    let shown = shown
        .into_iter()
        .map(|p| {
            let c = contracts.contracts.iter().find(|c| c.id == p.contract_id);
            ListRow {
                provider: c.map(|c| c.provider_name.clone()).unwrap_or_else(|| "?".into()),
                contract: c.map(|c| c.reference.clone()).unwrap_or_else(|| "?".into()),
                placement: p,
            }
        })
        .collect();
    Ok(ListPage { query: q, providers, contracts, total, shown, page, pages })
}

/// The placement list: the filter as asked, the options to filter on, and one page of the placements that pass it.
struct ListPage {
    query: ListQuery,
    providers: Vec<store::providers::Provider>,
    /// Every contract (the kept portfolio's), to filter on.
    contracts: std::sync::Arc<crate::report::commitments::Portfolio>,
    /// How many placements pass the filter, over all pages.
    total: usize,
    shown: Vec<ListRow>,
    page: usize,
    pages: usize,
}

/// One placement on the list with the provider and reference of its contract ("?" when the contract is gone).
struct ListRow {
    placement: Placement,
    provider: String,
    contract: String,
}

async fn list(chrome: Chrome, State(state): State<AppState>, Query(q): Query<ListQuery>) -> AppResult<Markup> {
    let page = load_list(&state, q).await?;
    Ok(render_list(&chrome, &page))
}

fn render_list(chrome: &Chrome, list: &ListPage) -> Markup {
    let (q, providers, contracts, page, pages) =
        (&list.query, &list.providers, &list.contracts.contracts, list.page, list.pages);
    let link = |n: usize| {
        let filter = q.query();
        format!("/plaatsingen?{filter}{}pagina={n}", if filter.is_empty() { "" } else { "&" })
    };
    let select = |id: &str, label: &str, current: &str, options: Vec<(String, String)>| {
        html! {
            div.field {
                label for=(id) { (label) }
                select id=(id) name=(id) {
                    option value="" { "Alle" }
                    @for (v, text) in &options { option value=(v) selected[v == current] { (text) } }
                }
            }
        }
    };
    chrome.page(
        "Plaatsingen",
        html! {
            h1 { "Plaatsingen" }
            @if chrome.may(Permission::ManageContracts) { p { a.button href="/plaatsingen/nieuw" { "Nieuwe plaatsing" } } }
            form.filters method="get" action="/plaatsingen" {
                (select("aanbieder", "Aanbieder", &q.aanbieder, providers.iter().map(|p| (p.id.to_string(), p.name.clone())).collect()))
                (select("contract", "Contract", &q.contract, contracts.iter().map(|c| (c.id.to_string(), c.reference.clone())).collect()))
                (select("route", "Route", &q.route, Route::ALL.iter().map(|r| (r.code().to_string(), r.short_label().to_string())).collect()))
                (select("status", "Status", &q.status, std::iter::once(("lopend".to_string(), "Lopend (gestart of loopt)".to_string()))
                    .chain(PlacementStatus::ALL.iter().map(|s| (s.code().to_string(), s.label().to_string()))).collect()))
                (select("keurmerk", "Keurmerk aanbieder", &q.keurmerk, vec![("geldig".into(), "Geldig".into()), ("ongeldig".into(), "Geen geldig keurmerk".into())]))
                (select("signaal", "Signaal", &q.signaal, vec![("late-start".into(), "Late start".into()), ("derde-poging".into(), "Derde examenpoging".into())]))
                div.field { label for="klantnummer" { "Klantnummer bevat" } input #klantnummer type="search" name="klantnummer" value=(q.klantnummer); }
                button type="submit" { "Filteren" }
            }
            table {
                caption {
                    (crate::domain::words::count(list.total, "plaatsing", "plaatsingen"))
                    @if pages > 1 { ", pagina " (page) " van " (pages) }
                }
                thead { tr {
                    th scope="col" { "Klantnummer" } th scope="col" { "Aanbieder" } th scope="col" { "Contract" } th scope="col" { "Doelgroep" }
                    th scope="col" { "Route" } th scope="col" { "Start" } th scope="col" { "Status" }
                } }
                tbody {
                    @for row in &list.shown {
                        @let p = &row.placement;
                        tr {
                            th scope="row" { a href={"/plaatsingen/" (p.id)} { (p.client_number.as_str()) } }
                            td { (row.provider) }
                            td { (row.contract) }
                            td { (p.cohort.label()) }
                            td { (p.route.short_label()) }
                            td { (dates::display(p.schedule.start_date)) }
                            td { (p.schedule.status.label()) }
                        }
                    }
                    @if list.total == 0 { tr { td colspan="7" { "Geen plaatsingen met dit filter." } } }
                }
            }
            (pagination(page, pages, link))
        },
    )
}

/// A placement with its contract and the payments it is expected to cost.
struct PlacementPage {
    placement: Placement,
    contract: crate::store::contracts::Contract,
    payments: Vec<crate::domain::placement::ExpectedPayment>,
    total: Money,
}

async fn load_detail(state: &AppState, id: i64) -> AppResult<PlacementPage> {
    let placement = store::placements::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let contract = store::contracts::get(&state.db, placement.contract_id).await?.ok_or(AppError::NotFound)?;
    let payments = placement_payments(&contract.terms, placement.route, &placement.schedule).unwrap_or_default();
    let total = payments.iter().map(|x| x.amount).sum();
    Ok(PlacementPage { placement, contract, payments, total })
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    Ok(render_detail(&chrome, &load_detail(&state, id).await?))
}

/// The expected payments of a placement, one row per milestone, with their total.
pub fn payments_table(caption: &str, payments: &[crate::domain::placement::ExpectedPayment], total: Money) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { th scope="col" { "Moment" } th scope="col" { "Verschuldigd op" } th.num scope="col" { "Bedrag" } } }
            tbody {
                @for x in payments { tr { th scope="row" { (x.milestone) } td { (dates::display(x.due_date)) } td.num { (x.amount) } } }
                tr { th scope="row" { "Totaal" } td {} td.num { strong { (total) } } }
            }
        }
    }
}

fn render_detail(chrome: &Chrome, page: &PlacementPage) -> Markup {
    let (p, c, payments) = (&page.placement, &page.contract, &page.payments);
    chrome.page(
        &format!("Plaatsing {}", p.client_number.as_str()),
        html! {
            p.breadcrumb { a href="/plaatsingen" { "Plaatsingen" } }
            h1 { "Plaatsing " (p.client_number.as_str()) }
            dl.facts {
                dt { "Contract" } dd { a href={"/contracten/" (c.id)} { (c.reference) } " (" (c.provider_name) ")" }
                dt { "Doelgroep" } dd { (p.cohort.label()) }
                dt { "Leerroute" } dd { (p.route.label()) }
                dt { "PIP vastgesteld" } dd { (p.pip_date.map(dates::display).unwrap_or_else(|| "onbekend".into())) }
                dt { "Start" } dd { (dates::display(p.schedule.start_date)) }
                dt { "Gepland einde" } dd { (dates::display(p.schedule.planned_end)) }
                dt { "Status" } dd { (p.schedule.status.label()) @if let Some(d) = p.schedule.status_date { " op " (dates::display(d)) } }
            }
            @if chrome.may(Permission::ManageContracts) { div.actions { a.button href={"/plaatsingen/" (p.id) "/bewerken"} { "Bewerken of status wijzigen" } } }
            p { a href={"/plaatsingen/" (p.id) "/tijdlijn"} { "Tijdlijn: voortgang, signalen en routewijzigingen" } " · " a href={"/historie/placement/" (p.id)} { "Geschiedenis van deze plaatsing" } }
            (payments_table("Verwachte betalingen", payments, page.total))
            (year_totals(payments))
            @if p.schedule.status == PlacementStatus::DroppedOut {
                p { "Uitgevallen: betaalmomenten die op de uitvaldatum nog niet verschuldigd waren, vervallen." }
            }
            @if !p.schedule.changes.is_empty() {
                p { "Na routewijzigingen: wat op de besluitdatum verschuldigd was, blijft staan; de rest volgt de nieuwe situatie (zie de tijdlijn)." }
            }
        },
    )
}

const LABELS: &[(&str, &str)] = &[
    ("client_number", "Klantnummer"),
    ("cohort", "Doelgroep"),
    ("contract_id", "Contract"),
    ("route", "Leerroute"),
    ("start_date", "Startdatum"),
    ("planned_end", "Geplande einddatum"),
    ("status", "Status"),
    ("status_date", "Datum afronding of uitval"),
    ("pip_date", "PIP-datum"),
];

/// The placement form: the contracts to choose from, the form as typed (or as stored) and its errors.
struct FormPage {
    title: String,
    action: String,
    contract_options: Vec<(String, String)>,
    form: PlacementForm,
    errors: FieldErrors,
}

async fn load_form(
    state: &AppState,
    existing: Option<&Placement>,
    form: &PlacementForm,
    errors: &FieldErrors,
) -> AppResult<FormPage> {
    let contracts = store::contracts::list(&state.db).await?;
    let contract_options: Vec<(String, String)> = std::iter::once((String::new(), "Kies een contract".to_string()))
        .chain(
            contracts
                .iter()
                .map(|c| (c.id.to_string(), format!("{} · {} · {}", c.reference, c.title, c.provider_name))),
        )
        .collect();
    let (title, action) = match existing {
        Some(p) => (format!("Plaatsing {} bewerken", p.client_number.as_str()), format!("/plaatsingen/{}", p.id)),
        None => ("Nieuwe plaatsing".to_string(), "/plaatsingen".to_string()),
    };
    Ok(FormPage { title, action, contract_options, form: form.clone(), errors: errors.clone() })
}

/// The form page as loaded: `load_form` then `render_form`.
async fn form_page(
    chrome: &Chrome,
    state: &AppState,
    existing: Option<&Placement>,
    form: &PlacementForm,
    errors: &FieldErrors,
) -> AppResult<Markup> {
    Ok(render_form(chrome, &load_form(state, existing, form, errors).await?))
}

fn render_form(chrome: &Chrome, page: &FormPage) -> Markup {
    let (title, action, form, errors) = (&page.title, &page.action, &page.form, &page.errors);
    let contract_options: Vec<(&str, &str)> =
        page.contract_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let cohorts: Vec<(&str, &str)> =
        std::iter::once(("", "Kies een doelgroep")).chain(Cohort::ALL.iter().map(|c| (c.code(), c.label()))).collect();
    let routes: Vec<(&str, &str)> =
        std::iter::once(("", "Kies een leerroute")).chain(Route::ALL.iter().map(|r| (r.code(), r.label()))).collect();
    let statuses: Vec<(&str, &str)> = PlacementStatus::ALL.iter().map(|s| (s.code(), s.label())).collect();
    chrome.page(
        title,
        html! {
            p.breadcrumb { a href="/plaatsingen" { "Plaatsingen" } }
            h1 { (title) }
            (error_summary(errors, LABELS))
            form method="post" action=(action) novalidate {
                (chrome.csrf_field())
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (Field::new("client_number", "Klantnummer", &form.client_number, errors).required().hint("Het klantnummer van de gemeente. Nooit een BSN.").text())
                (Field::new("cohort", "Doelgroep", &form.cohort, errors).required().select(&cohorts))
                (Field::new("contract_id", "Contract", &form.contract_id, errors).required().select(&contract_options))
                (Field::new("route", "Leerroute", &form.route, errors).required().select(&routes))
                (Field::new("pip_date", "PIP-datum", &form.pip_date, errors).hint("Datum waarop het PIP is vastgesteld; de lessen moeten binnen 3 maanden beginnen.").date())
                div.field-row {
                    (Field::new("start_date", "Startdatum", &form.start_date, errors).required().date())
                    (Field::new("planned_end", "Geplande einddatum", &form.planned_end, errors).required().date())
                }
                div.field-row {
                    (Field::new("status", "Status", &form.status, errors).select(&statuses))
                    (Field::new("status_date", "Datum afronding of uitval", &form.status_date, errors).hint("Alleen bij afgerond of uitgevallen.").date())
                }
                button type="submit" { "Opslaan" }
            }
        },
    )
}

async fn new_form(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    let form = PlacementForm { status: PlacementStatus::Started.code().into(), ..Default::default() };
    form_page(&chrome, &state, None, &form, &FieldErrors::new()).await
}

/// Validates against the chosen contract and its provider's marks.
async fn validate(
    state: &AppState,
    form: &PlacementForm,
) -> AppResult<Result<crate::domain::placement::PlacementDraft, FieldErrors>> {
    let contract: Option<Contract> = match form.contract_id.trim().parse::<i64>() {
        Ok(id) => store::contracts::get(&state.db, id).await?,
        Err(_) => None,
    };
    let decisions = match &contract {
        Some(c) => store::certifications::for_provider(&state.db, c.provider_id).await?,
        None => Vec::new(),
    };
    Ok(validate_placement(form, contract.as_ref().map(|c| &c.terms), |day| holds_valid_mark(&decisions, day)))
}

async fn create(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<PlacementForm>,
) -> AppResult<Response> {
    match validate(&state, &form).await? {
        Ok(draft) => {
            let id = store::placements::create(&state.db, &draft, user.actor()).await?;
            Ok(Redirect::to(&format!("/plaatsingen/{id}?melding=aangemaakt")).into_response())
        }
        Err(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, form_page(&chrome, &state, None, &form, &errors).await?)
                .into_response())
        }
    }
}

fn form_of(p: &Placement) -> PlacementForm {
    PlacementForm {
        client_number: p.client_number.as_str().to_string(),
        cohort: p.cohort.code().into(),
        route: p.route.code().into(),
        contract_id: p.contract_id.to_string(),
        start_date: dates::iso(p.schedule.start_date),
        planned_end: dates::iso(p.schedule.planned_end),
        status: p.schedule.status.code().into(),
        status_date: p.schedule.status_date.map(dates::iso).unwrap_or_default(),
        pip_date: p.pip_date.map(dates::iso).unwrap_or_default(),
        version: Some(p.version),
    }
}

async fn edit_form(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let p = store::placements::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    form_page(&chrome, &state, Some(&p), &form_of(&p), &FieldErrors::new()).await
}

async fn update(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<PlacementForm>,
) -> AppResult<Response> {
    let current = store::placements::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let draft = match validate(&state, &form).await? {
        Ok(d) => d,
        Err(errors) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                form_page(&chrome, &state, Some(&current), &form, &errors).await?,
            )
                .into_response())
        }
    };
    let version =
        form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie van de plaatsing".into()))?;
    match store::placements::update(&state.db, id, version, &draft, user.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/plaatsingen/{id}?melding=opgeslagen")).into_response()),
        Err(PlacementError::Stale(now)) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "status",
                format!(
                    "Iemand anders heeft deze plaatsing intussen gewijzigd (nu: {}, start {}). Uw wijzigingen zijn niet opgeslagen; controleer ze en sla opnieuw op.",
                    now.schedule.status.label(),
                    dates::display(now.schedule.start_date)
                ),
            );
            let again = PlacementForm { version: Some(now.version), ..form };
            Ok((StatusCode::CONFLICT, form_page(&chrome, &state, Some(&now), &again, &errors).await?).into_response())
        }
        Err(PlacementError::NotFound) => Err(AppError::NotFound),
        Err(PlacementError::Db(e)) => Err(e.into()),
    }
}
