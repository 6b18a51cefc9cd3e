//! Forecast scenarios: list, compare side by side, create, edit (with lost-update protection) and copy.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::Query as RepeatedQuery;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{error_summary, Field};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::forecast::{self, inflow_text, validate_scenario, Scenario, ScenarioForm, Variant, INFLOW_FORMAT};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::report::overview::route_pricing;
use crate::store;
use crate::store::overview::OverviewError;

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/scenarios", Permission::Read, list)
        .get("/scenarios/nieuw", Permission::ManageForecasts, new_form)
        .post("/scenarios", Permission::ManageForecasts, create)
        .get("/scenarios/{id}", Permission::Read, detail)
        .post("/scenarios/{id}", Permission::ManageForecasts, update)
        .post("/scenarios/{id}/kopie", Permission::ManageForecasts, copy)
}

/// Forecast totals per payment year for each variant, over the scenario's whole inflow.
async fn totals(state: &AppState, s: &Scenario) -> AppResult<BTreeMap<Variant, BTreeMap<i32, Money>>> {
    let contracts = store::contracts::list(&state.db).await?;
    let first = s.lines.iter().map(|l| l.year).min().unwrap_or(2022);
    let last = s.lines.iter().map(|l| l.year).max().unwrap_or(first);
    let pricing = route_pricing(&contracts, (first - 10)..=last);
    Ok(Variant::ALL
        .into_iter()
        .map(|v| (v, forecast::forecast(s, &pricing, v, first, &BTreeMap::new()).by_payment_year()))
        .collect())
}

#[derive(Debug)]
struct Compared {
    scenario: Scenario,
    totals: BTreeMap<Variant, BTreeMap<i32, Money>>,
}

/// The scenarios ticked for comparison: one `vergelijk` checkbox each.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CompareQuery {
    vergelijk: Vec<String>,
}

/// The scenario list with the ticked ones compared side by side.
struct ListPage {
    rows: Vec<ListRow>,
    compared: Vec<ComparedColumn>,
    years: Vec<i32>,
}

/// One scenario in the list: its inflow years and whether it is ticked for comparison.
struct ListRow {
    scenario: Scenario,
    first_year: Option<i32>,
    last_year: Option<i32>,
    chosen: bool,
}

/// One compared scenario with its expected inflow and the total per variant.
struct ComparedColumn {
    compared: Compared,
    expected_inflow: i64,
    variant_totals: BTreeMap<Variant, Money>,
}

async fn load_list(state: &AppState, q: &CompareQuery) -> AppResult<ListPage> {
    let all = store::overview::scenarios(&state.db).await?;
    // An id that is no number is skipped, as an unknown id is: the list shows without it.
    let chosen: Vec<i64> = q.vergelijk.iter().filter_map(|v| v.parse().ok()).collect();
    let mut compared = Vec::new();
    for (s, _) in all.iter().filter(|(s, _)| chosen.contains(&s.id)) {
        let totals = totals(state, s).await?;
        let variant_totals = totals.iter().map(|(v, m)| (*v, m.values().copied().sum::<Money>())).collect();
        let expected_inflow = s.lines.iter().map(|l| l.expected).sum::<i64>();
        compared.push(ComparedColumn {
            compared: Compared { scenario: s.clone(), totals },
            expected_inflow,
            variant_totals,
        });
    }
    let years: Vec<i32> = {
        let mut y: Vec<i32> =
            compared.iter().flat_map(|c| c.compared.totals.values().flat_map(|m| m.keys().copied())).collect();
        y.sort();
        y.dedup();
        y
    };
    let rows = all
        .into_iter()
        .map(|(s, _)| ListRow {
            first_year: s.lines.iter().map(|l| l.year).min(),
            last_year: s.lines.iter().map(|l| l.year).max(),
            chosen: chosen.contains(&s.id),
            scenario: s,
        })
        .collect();
    Ok(ListPage { rows, compared, years })
}

async fn list(
    chrome: Chrome,
    State(state): State<AppState>,
    RepeatedQuery(q): RepeatedQuery<CompareQuery>,
) -> AppResult<Markup> {
    let page = load_list(&state, &q).await?;
    Ok(render_list(&chrome, &page))
}

fn render_list(chrome: &Chrome, p: &ListPage) -> Markup {
    let manage = chrome.may(Permission::ManageForecasts);
    chrome.page(
        "Scenario's",
        html! {
            p.breadcrumb { a href="/meerjarenoverzicht" { "Meerjarenoverzicht" } }
            h1 { "Prognosescenario's" }
            p { "Een scenario beschrijft de verwachte instroom per jaar en groep (laag, verwacht, hoog), de verdeling over de leerroutes en de uitval. De tarieven komen uit de contracten en worden na het laatste bekende tarief geïndexeerd. Kies scenario's en vergelijk ze naast elkaar." }
            @if manage { div.actions { a.button href="/scenarios/nieuw" { "Nieuw scenario" } } }
            form method="get" action="/scenarios" {
                table {
                    caption { "Scenario's" }
                    thead { tr { th scope="col" { "Vergelijk" } th scope="col" { "Naam" } th scope="col" { "Instroomjaren" } th.num scope="col" { "Indexatie" } } }
                    tbody {
                        @for r in &p.rows {
                            @let s = &r.scenario;
                            tr {
                                td { input type="checkbox" id={"vergelijk-" (s.id)} name="vergelijk" value=(s.id) checked[r.chosen]; label.visually-hidden for={"vergelijk-" (s.id)} { "Vergelijk " (s.name) } }
                                th scope="row" { a href={"/scenarios/" (s.id)} { (s.name) } }
                                td { (r.first_year.map(|y| y.to_string()).unwrap_or_default()) "–" (r.last_year.map(|y| y.to_string()).unwrap_or_default()) }
                                td.num { (s.tariff_index.dutch_percent()) }
                            }
                        }
                        @if p.rows.is_empty() { tr { td colspan="4" { "Nog geen scenario's." } } }
                    }
                }
                button type="submit" { "Vergelijk gekozen scenario's" }
            }
            @if !p.compared.is_empty() {
                h2 { "Naast elkaar" }
                table {
                    caption { "Uitgangspunten" }
                    thead { tr { th scope="col" { "Uitgangspunt" } @for c in &p.compared { th scope="col" { (c.compared.scenario.name) } } } }
                    tbody {
                        tr { th scope="row" { "Tariefindexatie per jaar" } @for c in &p.compared { td { (c.compared.scenario.tariff_index.dutch_percent()) } } }
                        tr { th scope="row" { "Duur B1 / Z / onderwijs (maanden)" } @for c in &p.compared { @let s = &c.compared.scenario; td { (s.duration_b1_months) " / " (s.duration_z_months) " / " (s.duration_education_months) } } }
                        tr { th scope="row" { "Instroom verwacht, totaal" } @for c in &p.compared { td { (crate::domain::words::count(c.expected_inflow, "persoon", "personen")) } } }
                    }
                }
                table {
                    caption { "Prognose per betaaljaar (instroom verwacht), met het totaal bij lage en hoge instroom" }
                    thead { tr { th scope="col" { "Jaar" } @for c in &p.compared { th.num scope="col" { (c.compared.scenario.name) } } } }
                    tbody {
                        @for y in &p.years {
                            tr { th scope="row" { (y) } @for c in &p.compared { td.num { (c.compared.totals[&Variant::Expected].get(y).copied().unwrap_or_default()) } } }
                        }
                    }
                    tfoot {
                        @for v in Variant::ALL {
                            tr { th scope="row" { "Totaal (" (v.label()) ")" } @for c in &p.compared { td.num { (c.variant_totals[&v]) } } }
                        }
                    }
                }
            }
        },
    )
}

const LABELS: &[(&str, &str)] = &[
    ("name", "Naam"),
    ("description", "Toelichting"),
    ("tariff_index", "Tariefindexatie per jaar (%)"),
    ("duration_b1", "Duur B1-route (maanden)"),
    ("duration_z", "Duur Z-route (maanden)"),
    ("duration_education", "Duur onderwijsroute (maanden)"),
    ("inflow", "Instroom per jaar en groep"),
];

fn form_of(s: &Scenario, version: Option<i64>) -> ScenarioForm {
    ScenarioForm {
        name: s.name.clone(),
        description: s.description.clone(),
        tariff_index: s.tariff_index.dutch(),
        duration_b1: s.duration_b1_months.to_string(),
        duration_z: s.duration_z_months.to_string(),
        duration_education: s.duration_education_months.to_string(),
        inflow: inflow_text(&s.lines),
        version,
    }
}

fn scenario_form(chrome: &Chrome, existing: Option<i64>, form: &ScenarioForm, errors: &FieldErrors) -> Markup {
    let action = existing.map(|id| format!("/scenarios/{id}")).unwrap_or_else(|| "/scenarios".into());
    let inflow_error = errors.get("inflow");
    html! {
        (error_summary(errors, LABELS))
        form method="post" action=(action) novalidate {
            (chrome.csrf_field())
            @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
            (Field::new("name", "Naam", &form.name, errors).required().text())
            (Field::new("description", "Toelichting", &form.description, errors).textarea())
            div.field-row {
                (Field::new("tariff_index", "Tariefindexatie per jaar (%)", &form.tariff_index, errors).hint("Na het laatste bekende tarief in de contracten, bijvoorbeeld 2,5").text())
                (Field::new("duration_b1", "Duur B1-route (maanden)", &form.duration_b1, errors).required().text())
                (Field::new("duration_z", "Duur Z-route (maanden)", &form.duration_z, errors).required().text())
                (Field::new("duration_education", "Duur onderwijsroute (maanden)", &form.duration_education, errors).required().text())
            }
            div.field.has-error[inflow_error.is_some()] {
                label for="inflow" { "Instroom per jaar en groep" span.required aria-hidden="true" { " *" } }
                p.hint id="inflow-hint" { "Eén regel per jaar en groep: " (INFLOW_FORMAT) ". De routeverdeling telt op tot 100%. Voorbeeld: " code { "2027; asiel; 250; 300; 350; 45; 40; 15; 10" } }
                @if let Some(e) = inflow_error { p.error-message id="inflow-error" { span.visually-hidden { "Fout: " } (e) } }
                textarea #inflow name="inflow" rows="10" cols="70" aria-describedby={"inflow-hint" @if inflow_error.is_some() { " inflow-error" }} aria-invalid=[inflow_error.map(|_| "true")] { (form.inflow) }
            }
            button type="submit" { "Opslaan" }
        }
    }
}

fn blank() -> ScenarioForm {
    ScenarioForm {
        tariff_index: "2,5".into(),
        duration_b1: "30".into(),
        duration_z: "24".into(),
        duration_education: "36".into(),
        ..Default::default()
    }
}

async fn new_form(chrome: Chrome) -> Markup {
    chrome.page(
        "Nieuw scenario",
        html! { p.breadcrumb { a href="/scenarios" { "Scenario's" } } h1 { "Nieuw scenario" } (scenario_form(&chrome, None, &blank(), &FieldErrors::new())) },
    )
}

fn refused(
    chrome: &Chrome,
    existing: Option<i64>,
    form: &ScenarioForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let title = if existing.is_some() { "Scenario bewerken" } else { "Nieuw scenario" };
    let body = html! { p.breadcrumb { a href="/scenarios" { "Scenario's" } } h1 { (title) } (scenario_form(chrome, existing, form, errors)) };
    (status, chrome.page(title, body)).into_response()
}

async fn create(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<ScenarioForm>,
) -> AppResult<Response> {
    let s = match validate_scenario(&form) {
        Ok(s) => s,
        Err(e) => return Ok(refused(&chrome, None, &form, &e, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    match store::overview::create_scenario(&state.db, &s, user.actor()).await {
        Ok(id) => Ok(Redirect::to(&format!("/scenarios/{id}?melding=aangemaakt")).into_response()),
        Err(OverviewError::DuplicateName(n)) => {
            let mut e = FieldErrors::new();
            e.add("name", format!("Er is al een scenario met de naam ‘{n}’; kies een andere naam."));
            Ok(refused(&chrome, None, &form, &e, StatusCode::CONFLICT))
        }
        Err(e) => Err(e.into()),
    }
}

/// One scenario: its inflow, the forecast per payment year and variant, and its edit form.
struct DetailPage {
    scenario: Scenario,
    totals: BTreeMap<Variant, BTreeMap<i32, Money>>,
    years: Vec<i32>,
    form: ScenarioForm,
}

async fn load_detail(state: &AppState, id: i64) -> AppResult<DetailPage> {
    let (scenario, version) = store::overview::scenario(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let totals = totals(state, &scenario).await?;
    let years: Vec<i32> = totals[&Variant::Expected].keys().copied().collect();
    let form = form_of(&scenario, Some(version));
    Ok(DetailPage { scenario, totals, years, form })
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let page = load_detail(&state, id).await?;
    Ok(render_detail(&chrome, &page))
}

fn render_detail(chrome: &Chrome, p: &DetailPage) -> Markup {
    let (s, t) = (&p.scenario, &p.totals);
    let manage = chrome.may(Permission::ManageForecasts);
    chrome.page(
        &s.name,
        html! {
            p.breadcrumb { a href="/scenarios" { "Scenario's" } }
            h1 { "Scenario ‘" (s.name) "’" }
            @if !s.description.is_empty() { p.pre { (s.description) } }
            dl.facts {
                dt { "Tariefindexatie" } dd { (s.tariff_index.dutch_percent()) " per jaar na het laatste bekende tarief" }
                dt { "Duur" } dd { "B1 " (s.duration_b1_months) ", Z " (s.duration_z_months) ", onderwijs " (s.duration_education_months) " maanden" }
                dt { "Startmoment" } dd { "instroom start gemiddeld op 1 juli van het jaar" }
            }
            table {
                caption { "Instroom en routeverdeling" }
                thead { tr { th scope="col" { "Jaar" } th scope="col" { "Groep" } th.num scope="col" { "Laag" } th.num scope="col" { "Verwacht" } th.num scope="col" { "Hoog" } th.num scope="col" { "B1" } th.num scope="col" { "Z" } th.num scope="col" { "Onderwijs" } th.num scope="col" { "Uitval" } } }
                tbody {
                    @for l in &s.lines {
                        tr { th scope="row" { (l.year) } td { (l.group.label()) } td.num { (l.low) } td.num { (l.expected) } td.num { (l.high) }
                             td.num { (l.share_b1.dutch_percent()) } td.num { (l.share_z.dutch_percent()) } td.num { (l.share_education.dutch_percent()) } td.num { (l.dropout.dutch_percent()) } }
                    }
                }
            }
            table {
                caption { "Prognose per betaaljaar (alle instroom van dit scenario)" }
                thead { tr { th scope="col" { "Jaar" } @for v in Variant::ALL { th.num scope="col" { "Instroom " (v.label()) } } } }
                tbody { @for y in &p.years { tr { th scope="row" { (y) } @for v in Variant::ALL { td.num { (t[&v].get(y).copied().unwrap_or_default()) } } } } }
            }
            p { a href={"/meerjarenoverzicht?scenario=" (s.id)} { "Meerjarenoverzicht met dit scenario" } }
            @if manage {
                form method="post" action={"/scenarios/" (s.id) "/kopie"} {
                    (chrome.csrf_field())
                    button.secondary type="submit" { "Kopieer dit scenario" }
                }
                h2 { "Bewerken" }
                (scenario_form(chrome, Some(s.id), &p.form, &FieldErrors::new()))
            }
        },
    )
}

async fn update(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ScenarioForm>,
) -> AppResult<Response> {
    let s = match validate_scenario(&form) {
        Ok(s) => s,
        Err(e) => return Ok(refused(&chrome, Some(id), &form, &e, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    let version = form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie".into()))?;
    match store::overview::update_scenario(&state.db, id, version, &s, user.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/scenarios/{id}?melding=opgeslagen")).into_response()),
        Err(OverviewError::Stale) => {
            let (_, now) = store::overview::scenario(&state.db, id).await?.ok_or(AppError::NotFound)?;
            let mut e = FieldErrors::new();
            e.add("name", "Iemand anders heeft dit scenario intussen gewijzigd. Uw wijzigingen zijn niet opgeslagen; controleer ze en sla opnieuw op.");
            let again = ScenarioForm { version: Some(now), ..form };
            Ok(refused(&chrome, Some(id), &again, &e, StatusCode::CONFLICT))
        }
        Err(OverviewError::DuplicateName(n)) => {
            let mut e = FieldErrors::new();
            e.add("name", format!("Er is al een scenario met de naam ‘{n}’; kies een andere naam."));
            Ok(refused(&chrome, Some(id), &form, &e, StatusCode::CONFLICT))
        }
        Err(OverviewError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

async fn copy(user: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Response> {
    match store::overview::copy_scenario(&state.db, id, user.actor()).await {
        Ok(new) => Ok(Redirect::to(&format!("/scenarios/{new}?melding=aangemaakt")).into_response()),
        Err(OverviewError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}
