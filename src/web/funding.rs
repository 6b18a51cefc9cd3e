//! Funding screens: streams with their figures per year, allocations, budget lines, the default stream
//! per cohort, and closing a year.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::Form as RepeatedForm;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{error_summary, Field};
use super::views::{Chrome, Confirmation, Confirmed};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::dates;
use crate::domain::funding::{
    granted_by_year, validate_allocation, validate_budget_line, validate_stream, AllocationForm, AllocationKind,
    BudgetLineForm, CarryOverExample, FundingStream, StreamForm, StreamKind, CARRY_OVER_CHOICES,
};
use crate::domain::route::Cohort;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::report::reconciliation::{self, StreamReconciliation};
use crate::store;
use crate::store::funding::FundingError;

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/financiering", Permission::Read, overview)
        .get("/financiering/nieuw", Permission::ManageFinance, new_form)
        .post("/financiering", Permission::ManageFinance, create)
        .get("/financiering/inrichting.xlsx", Permission::ManageFinance, setup_xlsx)
        .get("/financiering/doelgroepen", Permission::Read, cohorts_page)
        .post("/financiering/doelgroepen", Permission::ManageFinance, set_cohorts)
        .post("/financiering/jaren/{year}/afsluiten", Permission::ManageFinance, close_year)
        .post("/financiering/jaren/{year}/heropenen", Permission::Admin, reopen_year)
        .get("/financiering/{id}", Permission::Read, detail)
        .get("/financiering/{id}/bewerken", Permission::ManageFinance, edit_form)
        .post("/financiering/{id}", Permission::ManageFinance, update)
        .post("/financiering/{id}/toekenningen", Permission::ManageFinance, add_allocation)
        .post("/financiering/{id}/begrotingsposten", Permission::ManageFinance, add_budget_line)
}

/// Figures for `years`, with actual spend from attributed ledger lines.
pub async fn figures(state: &AppState, years: std::ops::RangeInclusive<i32>) -> AppResult<Vec<StreamReconciliation>> {
    let sums = store::attribution::sums(&state.db).await?;
    let portfolio = super::contracts::portfolio(state, dates::today()).await?;
    Ok(reconciliation::build(&state.db, years, &sums.actual_by_stream, &portfolio.commitments).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct YearQuery {
    jaar: String,
}

/// The funding overview of one year: each stream's figures and whether (and by whom) the year was closed.
struct OverviewPage {
    year: i32,
    rows: Vec<StreamReconciliation>,
    /// The close that covers this year (year, by, at): the year itself or a later one, closing the years before it.
    closed_this: Option<(i32, String, String)>,
    /// The year has not ended yet, so closing it must wait.
    not_over: bool,
    /// This year is the last closed one, so an admin may reopen it.
    last_closed: bool,
}

async fn load_overview(state: &AppState, q: &YearQuery) -> AppResult<OverviewPage> {
    let this_year = dates::today().year();
    let year = q.jaar.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).unwrap_or(this_year);
    let rows = figures(state, year..=year).await?;
    let closed = store::funding::closed_years(&state.db).await?;
    let last_closed = closed.iter().map(|(y, _, _)| *y).max() == Some(year);
    // Closing a year closes the years before it as well.
    let closed_this = closed.into_iter().filter(|(y, _, _)| *y >= year).min_by_key(|(y, _, _)| *y);
    Ok(OverviewPage { year, rows, closed_this, not_over: year >= this_year, last_closed })
}

/// The finance set-up of a year as one workbook (`export setup`): streams, rules, and the year's allocations and
/// budget lines, to load with `import setup` (here or in another municipality) or to edit into next year's.
async fn setup_xlsx(State(state): State<AppState>, Query(q): Query<YearQuery>) -> AppResult<Response> {
    let year = q.jaar.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).unwrap_or(dates::today().year());
    let setup = crate::report::setup::load(&state.db, Some(year)).await?;
    let bytes = setup.xlsx().map_err(|e| AppError::Internal(anyhow::anyhow!("inrichting {year}: {e}")))?;
    Ok(super::download(bytes, super::XLSX, &format!("inrichting-{year}.xlsx")))
}

async fn overview(chrome: Chrome, State(state): State<AppState>, Query(q): Query<YearQuery>) -> AppResult<Markup> {
    let page = load_overview(&state, &q).await?;
    Ok(render_overview(&chrome, &page))
}

fn render_overview(chrome: &Chrome, page: &OverviewPage) -> Markup {
    let (year, rows, closed_this) = (page.year, &page.rows, &page.closed_this);
    chrome.page(
        "Financiering",
        html! {
            h1 { "Financiering " (year) }
            form.filters method="get" action="/financiering" {
                div.field { label for="jaar" { "Jaar" } input #jaar type="number" name="jaar" min="2000" max="2100" value=(year); }
                button type="submit" { "Tonen" }
            }
            p {
                @match closed_this {
                    Some((y, by, at)) => {
                        span.status.status-warn { "Afgesloten" }
                        @if *y != year { " samen met " (y) }
                        " door " (by) " op " (dates::display_timestamp(at)) ". Wijzigingen in dit jaar worden geweigerd."
                    }
                    None => {
                        span.status.status-ok { "Open" } " Dit jaar kan nog worden gewijzigd."
                        @if page.not_over { " Afsluiten kan na 31 december " (year) "." }
                    }
                }
            }
            @if chrome.may(Permission::ManageFinance) {
                div.actions {
                    a.button href="/financiering/nieuw" { "Nieuwe financieringsbron" }
                    a.button.secondary href="/financiering/doelgroepen" { "Financiering per doelgroep" }
                    a.button.secondary href={"/financiering/inrichting.xlsx?jaar=" (year)} download {
                        "Inrichting " (year) " downloaden (xlsx)"
                    }
                    @if closed_this.is_none() && !page.not_over {
                        form method="post" action={"/financiering/jaren/" (year) "/afsluiten"} {
                            (chrome.csrf_field())
                            button.secondary type="submit" { "Jaar " (year) " afsluiten…" }
                        }
                    }
                }
            }
            @if page.last_closed && chrome.may(Permission::Admin) {
                form method="post" action={"/financiering/jaren/" (year) "/heropenen"} {
                    (chrome.csrf_field())
                    button.secondary type="submit" { "Jaar " (year) " heropenen" }
                }
            }
            table {
                caption { "Per financieringsbron: beschikbaar = toegekend + overgeheveld; resterend = beschikbaar − realisatie − verplichtingen" }
                thead { tr {
                    th scope="col" { "Bron" } th scope="col" { "Soort" } th.num scope="col" { "Toegekend" } th.num scope="col" { "Overgeheveld" }
                    th.num scope="col" { "Beschikbaar" } th.num scope="col" { "Realisatie" } th.num scope="col" { "Verplichtingen" } th.num scope="col" { "Resterend" }
                } }
                tbody {
                    @for r in rows {
                        @for f in &r.years {
                            tr {
                                th scope="row" { a href={"/financiering/" (r.stream.id)} { (r.stream.code) } " " (r.stream.name) }
                                td { (r.stream.kind.label()) }
                                td.num { (f.granted) @if let Some(d) = f.settlement_difference { br; small { @if d.is_negative() { "terugvordering " (d.abs()) } @else { "nabetaling " (d) } } } }
                                td.num { (f.carried_over) }
                                td.num { (f.available) }
                                td.num { (f.actual) }
                                td.num { (f.committed) }
                                td.num { (f.remaining) }
                            }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="8" { "Nog geen financieringsbronnen." } } }
                }
            }
        },
    )
}

fn form_of(s: &FundingStream, version: i64) -> StreamForm {
    StreamForm {
        code: s.code.clone(),
        name: s.name.clone(),
        kind: s.kind.code().into(),
        cohorts: s.cohorts.iter().map(|c| c.code()).collect::<Vec<_>>().join(","),
        spend_from: dates::iso(s.spend_from),
        spend_until: s.spend_until.map(dates::iso).unwrap_or_default(),
        carry_over: Some(if s.carry_over { "ja" } else { "nee" }.into()),
        notes: s.notes.clone(),
        version: Some(version),
    }
}

const STREAM_LABELS: &[(&str, &str)] = &[
    ("code", "Code"),
    ("name", "Naam"),
    ("kind", "Soort"),
    ("cohorts", "Doelgroepen"),
    ("spend_from", "Besteden vanaf"),
    ("spend_until", "Besteden tot en met"),
    ("carry_over", "Onderbesteding meenemen naar het volgende jaar"),
    ("notes", "Verantwoording en notities"),
];

/// The stream form. `example` is the stream's own year with money left, to explain carrying over with its figures.
fn stream_form_page(
    chrome: &Chrome,
    existing: Option<i64>,
    form: &StreamForm,
    errors: &FieldErrors,
    example: Option<&CarryOverExample>,
) -> Markup {
    let explanation = CarryOverExample::explain(example);
    let by_kind = match StreamKind::parse(&form.kind) {
        Some(k) => format!(
            "{} (bij {}: {})",
            CARRY_OVER_CHOICES[0].1,
            k.label(),
            if k.carries_over_by_default() { "ja" } else { "nee" }
        ),
        None => CARRY_OVER_CHOICES[0].1.to_string(),
    };
    let choices = [(CARRY_OVER_CHOICES[0].0, by_kind.as_str()), CARRY_OVER_CHOICES[1], CARRY_OVER_CHOICES[2]];
    // The old checkbox sent "on"; a form coming back with it shows "ja".
    let carry_over = match form.carry_over.as_deref().map(str::trim) {
        None | Some("") => "soort",
        Some("on") => "ja",
        Some(other) => other,
    };
    let kinds: Vec<(&str, &str)> =
        std::iter::once(("", "Kies een soort")).chain(StreamKind::ALL.iter().map(|k| (k.code(), k.label()))).collect();
    let chosen: Vec<&str> = form.cohorts.split(',').collect();
    let (title, action) = match existing {
        Some(id) => ("Financieringsbron bewerken".to_string(), format!("/financiering/{id}")),
        None => ("Nieuwe financieringsbron".to_string(), "/financiering".to_string()),
    };
    chrome.page(
        &title,
        html! {
            p.breadcrumb { a href="/financiering" { "Financiering" } }
            h1 { (title) }
            (error_summary(errors, STREAM_LABELS))
            form method="post" action=(action) novalidate {
                (chrome.csrf_field())
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (Field::new("code", "Code", &form.code, errors).required().hint("Kort en uniek, bijvoorbeeld SPUK, ELIP, ENO, EIGEN").text())
                (Field::new("name", "Naam", &form.name, errors).required().text())
                (Field::new("kind", "Soort", &form.kind, errors).required().select(&kinds))
                fieldset.field id="cohorts" {
                    legend { "Doelgroepen die deze bron mag betalen (geen keuze: alle)" }
                    @if let Some(e) = errors.get("cohorts") { p.error-message { (e) } }
                    @for c in Cohort::ALL {
                        div.checkbox {
                            input type="checkbox" id={"cohort-" (c.code())} name="cohorts" value=(c.code()) checked[chosen.contains(&c.code())];
                            label for={"cohort-" (c.code())} { (c.label()) }
                        }
                    }
                }
                div.field-row {
                    (Field::new("spend_from", "Besteden vanaf", &form.spend_from, errors).required().date())
                    (Field::new("spend_until", "Besteden tot en met", &form.spend_until, errors).hint("Leeg: geen einddatum.").date())
                }
                (Field::new("carry_over", "Onderbesteding meenemen naar het volgende jaar", carry_over, errors).hint(&explanation).radios(&choices))
                details {
                    summary { "Wat is gebruikelijk per soort bron?" }
                    ul { @for k in StreamKind::ALL { li { strong { (k.label()) } ": " (k.carry_over_reason()) "." } } }
                }
                (Field::new("notes", "Verantwoording en notities", &form.notes, errors).textarea())
                button type="submit" { "Opslaan" }
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewStreamQuery {
    soort: String,
}

/// The empty stream form; `?soort=` chooses the kind in advance (and so what carrying over is usual).
async fn new_form(chrome: Chrome, Query(q): Query<NewStreamQuery>) -> Markup {
    let kind = StreamKind::parse(&q.soort).map(|k| k.code().to_string()).unwrap_or_default();
    stream_form_page(&chrome, None, &StreamForm { kind, ..StreamForm::default() }, &FieldErrors::new(), None)
}

/// The stream's latest year with money left, to explain carrying over on its form with its own figures.
async fn carry_over_example(state: &AppState, id: i64) -> AppResult<Option<CarryOverExample>> {
    let page = load_detail(state, id).await?;
    let granted = granted_by_year(&page.allocations);
    Ok(CarryOverExample::from_figures(&page.recon.years, &granted, dates::today().year()))
}

fn funding_error(e: FundingError) -> AppError {
    match e {
        FundingError::NotFound => AppError::NotFound,
        FundingError::Db(e) => e.into(),
        other => AppError::Conflict(other.to_string()),
    }
}

async fn create(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    RepeatedForm(form): RepeatedForm<StreamForm>,
) -> AppResult<Response> {
    let errors = match validate_stream(&form) {
        Ok(s) => match store::funding::create_stream(&state.db, &s, user.actor()).await {
            Ok(id) => return Ok(Redirect::to(&format!("/financiering/{id}?melding=aangemaakt")).into_response()),
            Err(FundingError::DuplicateCode(c)) => {
                let mut e = FieldErrors::new();
                e.add("code", format!("De code {c} is al in gebruik."));
                e
            }
            Err(e) => return Err(funding_error(e)),
        },
        Err(e) => e,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, stream_form_page(&chrome, None, &form, &errors, None)).into_response())
}

async fn edit_form(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let (s, version) = store::funding::stream(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let example = carry_over_example(&state, id).await?;
    Ok(stream_form_page(&chrome, Some(id), &form_of(&s, version), &FieldErrors::new(), example.as_ref()))
}

async fn update(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    RepeatedForm(form): RepeatedForm<StreamForm>,
) -> AppResult<Response> {
    let mut s = match validate_stream(&form) {
        Ok(s) => s,
        Err(e) => return edit_form_again(&chrome, &state, id, &form, &e, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if form.carry_over.is_none() {
        // An existing stream keeps its stored choice unless the form says otherwise; the kind's default is for new
        // streams only.
        let (stored, _) = store::funding::stream(&state.db, id).await?.ok_or(AppError::NotFound)?;
        s.carry_over = stored.carry_over;
    }
    let version = form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie".into()))?;
    match store::funding::update_stream(&state.db, id, version, &s, user.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/financiering/{id}?melding=opgeslagen")).into_response()),
        Err(FundingError::Stale) => {
            let (now, v) = store::funding::stream(&state.db, id).await?.ok_or(AppError::NotFound)?;
            let mut e = FieldErrors::new();
            e.add(
                "code",
                format!(
                    "Iemand anders heeft deze bron intussen gewijzigd (nu: {} {}, {}). Uw wijzigingen zijn niet opgeslagen; controleer ze en sla opnieuw op.",
                    now.code,
                    now.name,
                    now.kind.label()
                ),
            );
            let again = StreamForm { version: Some(v), ..form };
            edit_form_again(&chrome, &state, id, &again, &e, StatusCode::CONFLICT).await
        }
        Err(FundingError::DuplicateCode(c)) => {
            let mut e = FieldErrors::new();
            e.add("code", format!("De code {c} is al in gebruik."));
            edit_form_again(&chrome, &state, id, &form, &e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(funding_error(e)),
    }
}

/// The edit form as entered, with what was wrong. The carry-over example is loaded only here, not for every save.
async fn edit_form_again(
    chrome: &Chrome,
    state: &AppState,
    id: i64,
    form: &StreamForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let example = carry_over_example(state, id).await?;
    Ok((status, stream_form_page(chrome, Some(id), form, errors, example.as_ref())).into_response())
}

#[derive(Default)]
struct DetailForms {
    allocation: (AllocationForm, FieldErrors),
    budget: (BudgetLineForm, FieldErrors),
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    render_detail(&chrome, &state, id, &DetailForms::default()).await
}

/// A funding stream's page: its terms, its figures for every year of its spending period (and the next while it
/// has no end), its allocations and budget lines.
struct StreamPage {
    stream: FundingStream,
    recon: StreamReconciliation,
    allocations: Vec<crate::domain::funding::Allocation>,
}

async fn load_detail(state: &AppState, id: i64) -> AppResult<StreamPage> {
    let (stream, _) = store::funding::stream(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let first = stream.spend_from.year();
    let last = stream.spend_until.map(|u| u.year()).unwrap_or(dates::today().year() + 1).max(first);
    let recon =
        figures(state, first..=last).await?.into_iter().find(|r| r.stream.id == id).ok_or(AppError::NotFound)?;
    let allocations = store::funding::allocations(&state.db, Some(id)).await?;
    Ok(StreamPage { stream, recon, allocations })
}

/// The stream's page, with `forms` as entered when one came back with errors.
async fn render_detail(chrome: &Chrome, state: &AppState, id: i64, forms: &DetailForms) -> AppResult<Markup> {
    Ok(detail_view(chrome, &load_detail(state, id).await?, forms))
}

fn detail_view(chrome: &Chrome, page: &StreamPage, forms: &DetailForms) -> Markup {
    let StreamPage { stream, recon, allocations } = page;
    let id = stream.id;
    let manage = chrome.may(Permission::ManageFinance);
    let kinds: Vec<(&str, &str)> = std::iter::once(("", "Kies een soort"))
        .chain(AllocationKind::ALL.iter().map(|k| (k.code(), k.label())))
        .collect();
    let (af, ae) = &forms.allocation;
    let (bf, be) = &forms.budget;
    chrome.page(
        &stream.name,
        html! {
            p.breadcrumb { a href="/financiering" { "Financiering" } }
            h1 { (stream.code) ": " (stream.name) }
            dl.facts {
                dt { "Soort" } dd { (stream.kind.label()) }
                dt { "Doelgroepen" } dd { @if stream.cohorts.is_empty() { "alle" } @else { (stream.cohorts.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")) } }
                dt { "Bestedingsperiode" } dd { (dates::display(stream.spend_from)) " tot en met " (stream.spend_until.map(dates::display).unwrap_or_else(|| "onbepaald".into())) }
                dt { "Overheveling" } dd { @if stream.carry_over { "onderbesteding gaat mee naar het volgende jaar" } @else { "geen" } }
                dt { "Verantwoording" } dd.pre { (stream.notes) }
            }
            @if manage { div.actions { a.button href={"/financiering/" (id) "/bewerken"} { "Bron bewerken" } } }
            p { a href={"/historie/funding_stream/" (id)} { "Geschiedenis van deze bron" } }
            h2 { "Per jaar" }
            table {
                caption { "Beschikbaar, realisatie, verplichtingen en resterend per jaar" }
                thead { tr {
                    th scope="col" { "Jaar" } th.num scope="col" { "Toegekend" } th.num scope="col" { "Vaststelling t.o.v. voorschot" } th.num scope="col" { "Overgeheveld" }
                    th.num scope="col" { "Beschikbaar" } th.num scope="col" { "Realisatie" } th.num scope="col" { "Verplichtingen" } th.num scope="col" { "Resterend" }
                } }
                tbody {
                    @for f in &recon.years {
                        tr {
                            th scope="row" { (f.year) }
                            td.num { (f.granted) }
                            td.num { @match f.settlement_difference { Some(d) if d.is_negative() => { "terugvordering " (d.abs()) } Some(d) => { "nabetaling " (d) } None => { "—" } } }
                            td.num { (f.carried_over) }
                            td.num { (f.available) }
                            td.num { (f.actual) }
                            td.num { (f.committed) }
                            td.num { (f.remaining) }
                        }
                    }
                }
            }
            h2 #toekenningen { "Toekenningen" }
            table {
                caption { "Beschikkingen en circulaires" }
                thead { tr { th scope="col" { "Jaar" } th scope="col" { "Soort" } th.num scope="col" { "Bedrag" } th scope="col" { "Kenmerk" } th scope="col" { "Datum" } } }
                tbody {
                    @for a in allocations {
                        tr { th scope="row" { (a.year) } td { (a.kind.label()) } td.num { (a.amount) } td { (a.reference) } td { (dates::display(a.date)) } }
                    }
                    @if allocations.is_empty() { tr { td colspan="5" { "Nog geen toekenningen." } } }
                }
            }
            @if manage {
                h3 #nieuwe-toekenning { "Toekenning vastleggen" }
                (error_summary(ae, &[("year", "Jaar"), ("kind", "Soort"), ("amount", "Bedrag"), ("reference", "Kenmerk"), ("decided_on", "Datum")]))
                form method="post" action={"/financiering/" (id) "/toekenningen#nieuwe-toekenning"} novalidate {
                    (chrome.csrf_field())
                    div.field-row {
                        (Field::new("year", "Jaar", &af.year, ae).required().input("number"))
                        (Field::new("kind", "Soort", &af.kind, ae).required().select(&kinds))
                        (Field::new("amount", "Bedrag", &af.amount, ae).required().hint("Een terugvordering als correctie met een minteken").text())
                    }
                    div.field-row {
                        (Field::new("reference", "Kenmerk (beschikking of circulaire)", &af.reference, ae).required().hint("Bijvoorbeeld Meicirculaire 2022, bijlage 3.2-9").text())
                        (Field::new("decided_on", "Datum", &af.decided_on, ae).required().date())
                    }
                    button type="submit" { "Toekenning opslaan" }
                }
            }
            h2 #begroting { "Begrotingsposten" }
            @for (year, over) in &recon.overruns {
                p.status.status-warn role="status" { "Let op: de begrotingsposten van " (year) " zijn " (over) " hoger dan wat beschikbaar is." }
            }
            table {
                caption { "Begrotingsposten per jaar en categorie" }
                thead { tr { th scope="col" { "Jaar" } th scope="col" { "Categorie" } th.num scope="col" { "Bedrag" } } }
                tbody {
                    @for l in &recon.budget_lines { tr { th scope="row" { (l.year) } td { (l.category) } td.num { (l.amount) } } }
                    @if recon.budget_lines.is_empty() { tr { td colspan="3" { "Nog geen begrotingsposten." } } }
                }
            }
            @if manage {
                h3 #nieuwe-post { "Begrotingspost vastleggen" }
                (error_summary(be, &[("category", "Categorie"), ("year", "Jaar"), ("amount", "Bedrag")]))
                form method="post" action={"/financiering/" (id) "/begrotingsposten#nieuwe-post"} novalidate {
                    (chrome.csrf_field())
                    div.field-row {
                        (Field::new("category", "Categorie", &bf.category, be).required().hint("Bijvoorbeeld Taalonderwijs B1, Z-route, ELIP maatwerk, Begeleiding").text())
                        (Field::new("year", "Jaar", &bf.year, be).required().input("number"))
                        (Field::new("amount", "Bedrag", &bf.amount, be).required().text())
                    }
                    button type="submit" { "Begrotingspost opslaan" }
                }
            }
        },
    )
}

async fn add_allocation(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<AllocationForm>,
) -> AppResult<Response> {
    let (stream, _) = store::funding::stream(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let errors = match validate_allocation(&form, &stream) {
        Ok(a) => match store::funding::add_allocation(&state.db, &a, user.actor()).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/financiering/{id}?melding=opgeslagen#toekenningen")).into_response())
            }
            Err(FundingError::ClosedYear(y)) => {
                let mut e = FieldErrors::new();
                e.add("year", format!("Jaar {y} is afgesloten; een beheerder kan het heropenen."));
                e
            }
            Err(e) => return Err(funding_error(e)),
        },
        Err(e) => e,
    };
    let forms = DetailForms { allocation: (form, errors), ..Default::default() };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_detail(&chrome, &state, id, &forms).await?).into_response())
}

async fn add_budget_line(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<BudgetLineForm>,
) -> AppResult<Response> {
    let (stream, _) = store::funding::stream(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let errors = match validate_budget_line(&form, &stream) {
        Ok(l) => match store::funding::set_budget_line(&state.db, &l, user.actor()).await {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/financiering/{id}?melding=opgeslagen#begroting")).into_response())
            }
            Err(FundingError::ClosedYear(y)) => {
                let mut e = FieldErrors::new();
                e.add("year", format!("Jaar {y} is afgesloten; een beheerder kan het heropenen."));
                e
            }
            Err(e) => return Err(funding_error(e)),
        },
        Err(e) => e,
    };
    let forms = DetailForms { budget: (form, errors), ..Default::default() };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_detail(&chrome, &state, id, &forms).await?).into_response())
}

/// Each cohort's stream (as the form's value) and the streams to choose from (value, label).
struct CohortsPage {
    current: Vec<(Cohort, String)>,
    options: Vec<(String, String)>,
}

async fn load_cohorts(state: &AppState) -> AppResult<CohortsPage> {
    let streams = store::funding::streams(&state.db).await?;
    let stored = store::funding::cohort_streams(&state.db).await?;
    let options = std::iter::once((String::new(), "Geen (verplichtingen niet toegerekend)".to_string()))
        .chain(streams.iter().map(|(s, _)| (s.id.to_string(), format!("{} {}", s.code, s.name))))
        .collect();
    let current =
        Cohort::ALL.into_iter().map(|c| (c, stored.get(&c).map(|s| s.to_string()).unwrap_or_default())).collect();
    Ok(CohortsPage { current, options })
}

async fn cohorts_page(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_cohorts(&chrome, &load_cohorts(&state).await?))
}

fn render_cohorts(chrome: &Chrome, page: &CohortsPage) -> Markup {
    let none = FieldErrors::new();
    let opts: Vec<(&str, &str)> = page.options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    chrome.page(
        "Financiering per doelgroep",
        html! {
            p.breadcrumb { a href="/financiering" { "Financiering" } }
            h1 { "Financiering per doelgroep" }
            p { "De bron die de verplichtingen van plaatsingen draagt, per doelgroep van de deelnemer." }
            form method="post" action="/financiering/doelgroepen" {
                (chrome.csrf_field())
                @for (c, value) in &page.current {
                    (Field::new(cohort_field(*c), c.label(), value, &none).select(&opts))
                }
                @if chrome.may(Permission::ManageFinance) { button type="submit" { "Opslaan" } }
            }
        },
    )
}

fn cohort_field(c: Cohort) -> &'static str {
    match c {
        Cohort::Wi2021 => "wi2021",
        Cohort::Wi2013 => "wi2013",
        Cohort::Elip => "elip",
        Cohort::Other => "other",
    }
}

async fn set_cohorts(
    user: CurrentUser,
    State(state): State<AppState>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Redirect> {
    let streams = store::funding::streams(&state.db).await?;
    for (k, v) in fields {
        let (Some(cohort), Ok(stream_id)) = (Cohort::parse(&k), v.parse::<i64>()) else { continue };
        if !streams.iter().any(|(s, _)| s.id == stream_id) {
            return Err(AppError::BadRequest(format!("onbekende financieringsbron {stream_id}")));
        }
        store::funding::set_cohort_stream(&state.db, cohort, stream_id, user.actor()).await?;
    }
    Ok(Redirect::to("/financiering/doelgroepen?melding=opgeslagen"))
}

/// Closes a year that is over, once the user has read what that means and confirmed (`bevestigd=ja`);
/// without the confirmation it shows the confirmation page.
async fn close_year(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Form(confirmed): Form<Confirmed>,
) -> AppResult<Response> {
    let year = match crate::domain::funding::closable_year(&raw, dates::today()) {
        Ok(year) => year,
        Err(problem) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, close_refused_page(&chrome, &problem)).into_response())
        }
    };
    if !confirmed.yes() {
        return Ok(close_confirm_page(&chrome, year).into_response());
    }
    store::funding::close_year(&state.db, year, user.actor()).await.map_err(funding_error)?;
    Ok(Redirect::to(&format!("/financiering?jaar={year}&melding=opgeslagen")).into_response())
}

fn close_confirm_page(chrome: &Chrome, year: i32) -> Markup {
    chrome.confirmation(Confirmation {
        title: format!("Jaar {year} afsluiten?"),
        back: (&format!("/financiering?jaar={year}"), &format!("Financiering {year}")),
        consequences: html! {
            p { "Afsluiten legt de cijfers van " (year) " en van alle jaren ervoor vast voor de verantwoording:" }
            ul {
                li { "toekenningen, begrotingsposten en toerekeningen in " (year) " en eerder kunnen niet meer worden gewijzigd;" }
                li { "een grootboekimport met boekingen in " (year) " of eerder wordt geweigerd, en een eerdere import met zulke boekingen kan niet meer ongedaan worden gemaakt;" }
                li { "alleen een beheerder kan het jaar heropenen." }
            }
        },
        action: &format!("/financiering/jaren/{year}/afsluiten"),
        confirm: &format!("Ja, jaar {year} afsluiten"),
        cancel: "Niet afsluiten",
        danger: false,
    })
}

fn close_refused_page(chrome: &Chrome, problem: &str) -> Markup {
    chrome.page(
        "Jaar afsluiten kan niet",
        html! {
            p.breadcrumb { a href="/financiering" { "Financiering" } }
            h1 { "Jaar afsluiten kan niet" }
            div.error-summary role="alert" { h2 { "Er is niets afgesloten" } p { (problem) } }
        },
    )
}

async fn reopen_year(user: CurrentUser, State(state): State<AppState>, Path(year): Path<i32>) -> AppResult<Redirect> {
    store::funding::reopen_year(&state.db, year, user.actor()).await.map_err(funding_error)?;
    Ok(Redirect::to(&format!("/financiering?jaar={year}&melding=opgeslagen")))
}
