//! The inflow screen (`/instroom`): a year's counts per month and newcomer group and the Ondertussengroep's size per
//! quarter, and a form to record or change one count with the import's own check. Counts only, never persons.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{error_summary, Field};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::dates;
use crate::domain::inflow::{validate, InflowCategory, InflowForm, InflowPeriod, InflowYear};
use crate::domain::validation::FieldErrors;
use crate::error::AppResult;
use crate::store;
use crate::store::inflow::{InflowError, StoredCount};

pub fn routes() -> RouteTable {
    RouteTable::default().get("/instroom", Permission::Read, page).post("/instroom", Permission::ManageForecasts, save)
}

#[derive(Debug, Default, Deserialize)]
struct YearQuery {
    jaar: Option<String>,
}

/// The year shown: `?jaar=`, else the last year with counts, else this year. A year that is no number falls back
/// the same way rather than failing.
fn chosen_year(q: &YearQuery, stored: &[StoredCount]) -> i32 {
    q.jaar
        .as_deref()
        .and_then(|y| y.trim().parse().ok())
        .filter(|y| (2000..=2100).contains(y))
        .or_else(|| stored.iter().map(|s| s.count.period.year()).max())
        .unwrap_or_else(|| dates::today().year())
}

struct InflowPage {
    year: i32,
    years: Vec<i32>,
    /// (period, category) -> count, of the year.
    cells: BTreeMap<(InflowPeriod, InflowCategory), i64>,
    totals: InflowYear,
}

async fn load(state: &AppState, q: &YearQuery) -> AppResult<InflowPage> {
    let stored = store::inflow::all(&state.db).await?;
    let year = chosen_year(q, &stored);
    let mut years: Vec<i32> = stored.iter().map(|s| s.count.period.year()).collect();
    years.push(year);
    years.sort();
    years.dedup();
    let counts: Vec<_> = stored.iter().map(|s| s.count.clone()).collect();
    let cells = stored
        .iter()
        .filter(|s| s.count.period.year() == year)
        .map(|s| ((s.count.period, s.count.category), s.count.count))
        .collect();
    Ok(InflowPage { year, years, cells, totals: InflowYear::of(year, &counts) })
}

async fn page(chrome: Chrome, State(state): State<AppState>, Query(q): Query<YearQuery>) -> AppResult<Markup> {
    let p = load(&state, &q).await?;
    let form = InflowForm { period: format!("{}-01", p.year), ..Default::default() };
    Ok(render(&chrome, &p, &form, &FieldErrors::new(), None))
}

const LABELS: &[(&str, &str)] = &[("period", "Periode"), ("category", "Groep"), ("count", "Aantal")];

fn render(chrome: &Chrome, p: &InflowPage, form: &InflowForm, errors: &FieldErrors, conflict: Option<&str>) -> Markup {
    let cell = |period, cat| p.cells.get(&(period, cat)).map(|n| n.to_string()).unwrap_or_default();
    let options: Vec<(&str, &str)> = std::iter::once(("", "Kies een groep"))
        .chain(InflowCategory::ALL.iter().map(|c| (c.word(), c.label())))
        .collect();
    chrome.page(
        "Instroom",
        html! {
            p.breadcrumb { a href="/indicatoren" { "Indicatoren" } }
            h1 { "Instroom " (p.year) }
            p { "Aantallen nieuwe inburgeringsplichtigen die aan de gemeente zijn gekoppeld, per maand en groep, en de omvang van de Ondertussengroep aan het eind van elk kwartaal. Alleen tellingen: nooit namen of klantnummers. Importeer ze met het sjabloon standaard-instroom of leg ze hieronder vast." }
            form method="get" action="/instroom" {
                label for="jaar" { "Jaar" }
                " "
                select #jaar name="jaar" { @for y in &p.years { option value=(y) selected[*y == p.year] { (y) } } }
                " "
                button type="submit" { "Toon" }
            }
            table {
                caption { "Instroom per maand en groep, " (p.year) }
                thead { tr { th scope="col" { "Maand" } @for c in InflowCategory::NEWCOMERS { th.num scope="col" { (c.label()) } } th.num scope="col" { "Totaal" } } }
                tbody {
                    @for month in 1..=12u8 {
                        @let period = InflowPeriod::Month { year: p.year, month };
                        tr {
                            th scope="row" { (period.display()) }
                            @for c in InflowCategory::NEWCOMERS { td.num { (cell(period, c)) } }
                            td.num { (InflowCategory::NEWCOMERS.iter().filter_map(|c| p.cells.get(&(period, *c))).sum::<i64>()) }
                        }
                    }
                }
                tfoot {
                    tr {
                        th scope="row" { "Totaal " (p.year) }
                        @for c in InflowCategory::NEWCOMERS { td.num { (p.totals.inflow.get(&c).copied().unwrap_or(0)) } }
                        td.num { (p.totals.total()) }
                    }
                }
            }
            table {
                caption { "Omvang van de Ondertussengroep aan het eind van het kwartaal, " (p.year) }
                thead { tr { th scope="col" { "Kwartaal" } @for c in InflowCategory::WAITING { th.num scope="col" { (c.label()) } } } }
                tbody {
                    @for quarter in 1..=4u8 {
                        @let period = InflowPeriod::Quarter { year: p.year, quarter };
                        tr { th scope="row" { (period.display()) } @for c in InflowCategory::WAITING { td.num { (cell(period, c)) } } }
                    }
                }
            }
            @if chrome.may(Permission::ManageForecasts) {
                h2 { "Aantal vastleggen of wijzigen" }
                @if let Some(c) = conflict { div.error-summary role="alert" { h2 { "Niet opgeslagen" } p #weigering { (c) } } }
                (error_summary(errors, LABELS))
                form method="post" action="/instroom" novalidate {
                    (chrome.csrf_field())
                    @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                    div.field-row {
                        (Field::new("period", "Periode", &form.period, errors).required().hint("Een maand als 2022-03, of voor de Ondertussengroep een kwartaal als 2022-K1").text())
                        (Field::new("category", "Groep", &form.category, errors).required().select(&options))
                        (Field::new("count", "Aantal", &form.count, errors).required().text())
                    }
                    button type="submit" { "Opslaan" }
                }
            }
        },
    )
}

async fn save(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<InflowForm>,
) -> AppResult<Response> {
    let year_of = |f: &InflowForm| YearQuery { jaar: InflowPeriod::parse(&f.period).map(|p| p.year().to_string()) };
    let c = match validate(&form.period, &form.category, &form.count) {
        Ok(c) => c,
        Err(e) => {
            let p = load(&state, &year_of(&form)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&chrome, &p, &form, &e, None)).into_response());
        }
    };
    match store::inflow::save(&state.db, &c, form.version, user.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("/instroom?jaar={}&melding=opgeslagen", c.period.year())).into_response()),
        Err(InflowError::Stale(stored)) => {
            let p = load(&state, &year_of(&form)).await?;
            let (message, version) = if stored.id == 0 {
                (
                    format!(
                        "Het aantal voor {} in {} bestaat niet meer (de import is ongedaan gemaakt). Sla opnieuw op om {} vast te leggen.",
                        c.category.label().to_lowercase(),
                        c.period.display(),
                        c.count
                    ),
                    None,
                )
            } else {
                (
                    format!(
                        "Voor {} in {} is al {} vastgelegd. Sla opnieuw op om het te vervangen door {}.",
                        c.category.label().to_lowercase(),
                        c.period.display(),
                        stored.count.count,
                        c.count
                    ),
                    Some(stored.version),
                )
            };
            let again = InflowForm { version, ..form };
            Ok((StatusCode::CONFLICT, render(&chrome, &p, &again, &FieldErrors::new(), Some(&message))).into_response())
        }
        Err(InflowError::Db(e)) => Err(e.into()),
    }
}
