//! The indicator page (`/indicatoren`) and its definitions (`/indicatoren/definities`): the fixed list of
//! `report::indicators` for a year beside the two years before it, against a scenario's expectation. Aggregates
//! only; a figure about 1 to 4 people is hidden from those who may not read participant data.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::charts::{self, Series, Unit, YearBar};
use super::progress::{norm_outcome, pct_text};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::contract::Share;
use crate::domain::dates;
use crate::domain::fixed::dutch_decimal;
use crate::domain::inflow::InflowCategory;
use crate::domain::route::Cohort;
use crate::domain::scorecard::ScoreLine;
use crate::domain::small_cell::{SmallCells, HIDDEN};
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::report::contract_attendance;
use crate::report::indicators::{for_years, Indicators, StreamMoney, YearIndicators, DEFINITIONS};
use crate::report::letter::{self, Letter};
use crate::report::scorecard::{hidden, Group, PARTS};
use crate::store;

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/indicatoren", Permission::Read, page)
        .get("/indicatoren/definities", Permission::Read, definitions)
        .post("/indicatoren/voortgangsbrief", Permission::ManageForecasts, letter_docx)
        .get("/indicatoren/voortgangsbrief.xlsx", Permission::Read, letter_xlsx)
        .get("/indicatoren/voortgangsbrief.json", Permission::Read, letter_json)
}

/// The content type of a Word document.
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The server's kept figures that the indicators read, as their source screens do.
fn kept(state: &AppState) -> crate::report::indicators::KeptInputs<'_> {
    crate::report::indicators::KeptInputs {
        scorecard: &state.scorecard_cache,
        signals: &state.signals_cache,
        line_flags: &state.line_flags_cache,
        portfolio: &state.commitments_cache,
        contract_attendance: &state.contract_attendance_cache,
    }
}

/// The letter of the chosen year and scenario, from the kept figures the page reads.
async fn letter_of(state: &AppState, q: &IndicatorQuery) -> AppResult<Letter> {
    let ids: Vec<i64> = store::overview::scenarios(&state.db).await?.into_iter().map(|(s, _)| s.id).collect();
    let (year, scenario) = choice(q, &ids);
    Ok(letter::load(&state.db, year, scenario, dates::today(), Some(kept(state))).await?)
}

/// The button on the page: the Word letter, its figures frozen as "Voortgangsbrief {year}".
async fn letter_docx(
    user: CurrentUser,
    State(state): State<AppState>,
    Form(q): Form<IndicatorQuery>,
) -> AppResult<Response> {
    let l = letter_of(&state, &q).await?;
    let bytes = crate::report::letter_docx::letter_docx(&l)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("voortgangsbrief {}: {e}", l.year)))?;
    store::letters::freeze(&state.db, l.year, l.scenario.as_deref(), &l.data_date, &l.frozen(), user.actor()).await?;
    Ok(super::download(bytes, DOCX, &format!("voortgangsbrief-{}.docx", l.year)))
}

/// The letter's figures as a workbook, for whoever builds a letter of their own (nothing is frozen).
async fn letter_xlsx(State(state): State<AppState>, Query(q): Query<IndicatorQuery>) -> AppResult<Response> {
    let l = letter_of(&state, &q).await?;
    let bytes =
        letter::letter_xlsx(&l).map_err(|e| AppError::Internal(anyhow::anyhow!("voortgangsbrief xlsx: {e}")))?;
    Ok(super::download(bytes, super::XLSX, &format!("voortgangsbrief-{}.xlsx", l.year)))
}

/// The letter's figures as JSON (nothing is frozen).
async fn letter_json(State(state): State<AppState>, Query(q): Query<IndicatorQuery>) -> AppResult<Response> {
    let l = letter_of(&state, &q).await?;
    Ok(axum::Json(l).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IndicatorQuery {
    jaar: String,
    scenario: String,
}

/// How many years the page sets side by side: the chosen one and the ones before it.
const YEARS_SHOWN: i32 = 3;

/// The chosen year (default: last year, the one a letter is written about) and scenario (default: the first by
/// name); values that are no number fall back to the defaults.
fn choice(q: &IndicatorQuery, scenarios: &[i64]) -> (i32, Option<i64>) {
    let year =
        q.jaar.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).unwrap_or(dates::today().year() - 1);
    let scenario = match q.scenario.trim() {
        "geen" => None,
        s => s.parse::<i64>().ok().filter(|id| scenarios.contains(id)).or_else(|| scenarios.first().copied()),
    };
    (year, scenario)
}

async fn page(chrome: Chrome, State(state): State<AppState>, Query(q): Query<IndicatorQuery>) -> AppResult<Markup> {
    let scenarios: Vec<(i64, String)> =
        store::overview::scenarios(&state.db).await?.into_iter().map(|(s, _)| (s.id, s.name)).collect();
    let ids: Vec<i64> = scenarios.iter().map(|(id, _)| *id).collect();
    let (year, scenario) = choice(&q, &ids);
    let years: Vec<i32> = ((year - YEARS_SHOWN + 1)..=year).collect();
    let ind = for_years(&state.db, &years, scenario, dates::today(), Some(kept(&state))).await?;
    let letters = store::letters::list(&state.db).await?;
    Ok(render(&chrome, year, &scenarios, &ind, &letters))
}

/// "Definitie" next to a heading: the indicator's entry on the definitions page.
fn definition_link(id: &str) -> Markup {
    html! { " " a.definition href={"/indicatoren/definities#" (id)} { "Definitie" span.visually-hidden { " van deze indicator" } } }
}

fn count(cells: SmallCells, n: i64) -> String {
    if cells.hides(u32::try_from(n).unwrap_or(u32::MAX)) {
        HIDDEN.to_string()
    } else {
        n.to_string()
    }
}

fn line_figure(cells: SmallCells, l: &ScoreLine, group: Group, text: String) -> String {
    if hidden(cells, l, group) {
        HIDDEN.to_string()
    } else {
        text
    }
}

fn starts_text(l: &ScoreLine) -> String {
    l.reported_starts().map_or_else(|| "geen rapportages".into(), |n| n.to_string())
}

fn wait_text(l: &ScoreLine) -> String {
    l.avg_wait_days().map(dutch_decimal).unwrap_or_else(|| "–".into())
}

fn share_text(p: Option<rust_decimal::Decimal>) -> String {
    pct_text(p)
}

fn render(
    chrome: &Chrome,
    year: i32,
    scenarios: &[(i64, String)],
    ind: &Indicators,
    letters: &[store::letters::StoredLetter],
) -> Markup {
    let cells = chrome.small_cells();
    let ys = &ind.years;
    let this: Option<&YearIndicators> = ys.last();
    chrome.page(
        "Indicatoren",
        html! {
            h1 { "Indicatoren " (year) }
            p.lead { "De vaste lijst cijfers voor de voortgangsbrief aan de raad: per jaar, naast de jaren ervoor en de verwachting van een scenario. Elk cijfer komt uit het scherm dat erbij staat en is daar hetzelfde. Alleen totalen; groepen van minder dan 5 personen worden niet getoond aan wie geen deelnemergegevens mag zien." }
            form.filters method="get" action="/indicatoren" {
                div.field { label for="jaar" { "Jaar" } input #jaar type="number" name="jaar" value=(year); }
                div.field {
                    label for="scenario" { "Scenario" }
                    select #scenario name="scenario" {
                        @for (id, name) in scenarios { option value=(id) selected[ind.scenario.as_ref().is_some_and(|(s, _)| s == id)] { (name) } }
                        option value="geen" selected[ind.scenario.is_none()] { "Geen scenario" }
                    }
                }
                button type="submit" { "Tonen" }
            }
            p { a href="/indicatoren/definities" { "Alle definities" } " · " a href="/instroom" { "Instroom bekijken of vastleggen" } " · " a href="#voortgangsbrief" { "Voortgangsbrief" } }

            h2 #instroom { "Instroom" (definition_link("instroom")) }
            table {
                caption { "Nieuwe inburgeringsplichtigen per groep en jaar" }
                thead { tr { th scope="col" { "Groep" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    @for c in InflowCategory::NEWCOMERS {
                        tr { th scope="row" { (c.label()) } @for y in ys { td.num { (count(cells, y.inflow.inflow.get(&c).copied().unwrap_or(0))) } } }
                    }
                }
                tfoot {
                    tr { th scope="row" { "Totaal" } @for y in ys { td.num { (count(cells, y.inflow.total())) } } }
                    tr { th scope="row" { "Maanden met een telling" } @for y in ys { td.num { (y.inflow.months_counted) } } }
                }
            }
            (inflow_chart(ind, cells))
            @if let (Some(t), Some((_, name))) = (this, &ind.scenario) {
                h3 #scenario { "Instroom tegen scenario ‘" (name) "’" (definition_link("scenario")) }
                @if t.expectations.is_empty() {
                    p { "Het scenario heeft geen instroom voor " (t.year) "." }
                } @else {
                    table {
                        caption { "Werkelijke instroom " (t.year) " en de verwachting (laag, verwacht, hoog)" }
                        thead { tr { th scope="col" { "Groep" } th.num scope="col" { "Werkelijk" } th.num scope="col" { "Laag" } th.num scope="col" { "Verwacht" } th.num scope="col" { "Hoog" } } }
                        tbody {
                            @for e in &t.expectations {
                                tr { th scope="row" { (e.group.label()) } td.num { (count(cells, e.actual)) } td.num { (e.low) } td.num { (e.expected) } td.num { (e.high) } }
                            }
                        }
                    }
                }
            }
            h3 #ondertussengroep { "Ondertussengroep" (definition_link("ondertussengroep")) }
            table {
                caption { "Omvang van de Ondertussengroep aan het eind van het laatst gemeten kwartaal" }
                thead { tr { th scope="col" { "Groep" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    @for c in InflowCategory::WAITING {
                        tr { th scope="row" { (c.label()) } @for y in ys {
                            td.num { @match y.inflow.waiting.get(&c) { Some((q, n)) => { (count(cells, *n)) " (K" (q) ")" } None => "–" } }
                        } }
                    }
                }
            }

            h2 #starts { "Start en verloop" (definition_link("starts")) }
            table {
                caption { "Gestarte plaatsingen per leerroute en jaar (uit de voortgangsrapportages)" }
                thead { tr { th scope="col" { "Route" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    @for route in routes_of(ys) {
                        tr { th scope="row" { (route.label()) } @for y in ys {
                            td.num { @match y.routes.iter().find(|r| r.route == route) { Some(r) => (line_figure(cells, &r.line, Group::Line, starts_text(&r.line))), None => "–" } }
                        } }
                    }
                }
                tfoot { tr { th scope="row" { "Alle routes" } @for y in ys { td.num { (line_figure(cells, &y.total, Group::Line, starts_text(&y.total))) } } } }
            }
            h3 #doelgroep { "Gestart per doelgroep" (definition_link("doelgroep")) }
            table {
                caption { "Gestarte plaatsingen per doelgroep en jaar" }
                thead { tr { th scope="col" { "Doelgroep" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    @for c in Cohort::ALL {
                        tr { th scope="row" { (c.label()) } @for y in ys { td.num { (count(cells, i64::from(y.starts_by_cohort.get(&c).copied().unwrap_or(0)))) } } }
                    }
                }
            }
            @if let Some(t) = this {
                table {
                    caption { "Verloop per leerroute in " (t.year) }
                    thead { tr {
                        th scope="col" { "Route" }
                        th.num scope="col" { "Gem. wachttijd PIP–eerste les (dagen)" }
                        th.num scope="col" { "Mediaan wachttijd (dagen)" }
                        th.num scope="col" { "Binnen 3 maanden na PIP gestart" }
                        th.num scope="col" { "Aanwezigheid" }
                        @for part in PARTS { th scope="col" { "1e poging " (part.label()) } }
                        th.num scope="col" { "Routewijzigingen" }
                        th.num scope="col" { "Uitval" }
                    } }
                    tbody {
                        @for r in t.routes.iter().map(|r| (r.route.label(), &r.line)).chain(std::iter::once(("Alle routes", &t.total))) {
                            @let (label, l) = r;
                            tr {
                                th scope="row" { (label) }
                                td.num { (line_figure(cells, l, Group::Waiting, wait_text(l))) }
                                td.num { (line_figure(cells, l, Group::Waiting, l.median_wait_days().map(dutch_decimal).unwrap_or_else(|| "–".into()))) }
                                td.num { (line_figure(cells, l, Group::Waiting, pct_text(l.within_three_months_pct()))) }
                                td.num { (line_figure(cells, l, Group::Reporting, pct_text(l.attendance_pct()))) }
                                @for part in PARTS {
                                    @let f = l.first_attempts.get(&part).copied().unwrap_or_default();
                                    td { (line_figure(cells, l, Group::Exam(part), if f.taken > 0 { format!("{} van {} ({})", f.passed, f.taken, pct_text(f.pct())) } else { "–".into() })) }
                                }
                                td.num { (line_figure(cells, l, Group::Line, l.route_changes.to_string())) }
                                td.num { (line_figure(cells, l, Group::Line, l.dropouts.to_string())) }
                            }
                        }
                    }
                }
                p { "Definities: " a href="/indicatoren/definities#wachttijd" { "wachttijd" } ", " a href="/indicatoren/definities#mediaan" { "mediaan" } ", " a href="/indicatoren/definities#binnen-3-maanden" { "binnen 3 maanden" } ", " a href="/indicatoren/definities#aanwezigheid" { "aanwezigheid" } ", " a href="/indicatoren/definities#examens" { "eerste poging" } ", " a href="/indicatoren/definities#routewijzigingen" { "routewijzigingen en uitval" } "." }
            }

            h3 #aanwezigheid-norm { "Aanwezigheid tegen de norm van het contract" (definition_link("aanwezigheid-norm")) }
            table {
                caption { "Contracten met aangeboden uren in de voortgangsrapportages van het jaar, tegen hun eigen aanwezigheidsnorm" }
                thead { tr { th scope="col" { "Contracten" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    tr { th scope="row" { "Met aangeboden uren" } @for y in ys { td.num { (y.contracts_reporting) } } }
                    tr { th scope="row" { "Waarvan op of boven hun norm (voldoet)" } @for y in ys { td.num { (y.contracts_meeting_norm) } } }
                    tr { th scope="row" { "Waarvan onder hun norm" } @for y in ys { td.num { (y.contracts_below_norm) } } }
                }
            }
            @if let Some(t) = this {
                table {
                    caption { "Aanwezigheid per contract in " (t.year) " tegen de eigen norm" }
                    thead { tr {
                        th scope="col" { "Contract" } th scope="col" { "Aanbieder" } th.num scope="col" { "Plaatsingen met rapportage" }
                        th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Norm" } th scope="col" { "Uitkomst" }
                    } }
                    tbody {
                        @for c in &t.contract_attendance {
                            @let hide = contract_attendance::hidden(cells, c.placements);
                            tr {
                                th scope="row" { a href={"/contracten/" (c.contract_id) "/voorwaarden#aanwezigheid"} { (c.reference) } }
                                td { (c.provider) }
                                td.num { (count(cells, i64::from(c.placements))) }
                                td.num { @if hide { (HIDDEN) } @else { (pct_text(c.attendance_pct)) } }
                                td.num { (Share::from_basis_points(c.against.norm_bp).display()) }
                                td { @if hide { (HIDDEN) } @else { (norm_outcome(&c.against)) } }
                            }
                        }
                        @if t.contract_attendance.is_empty() { tr { td colspan="6" { "Geen voortgangsrapportages in " (t.year) "." } } }
                    }
                }
            }

            h2 #keurmerk { "Aanbieders" (definition_link("keurmerk")) }
            table {
                caption { "Aanbieders met een lopend contract op 31 december en een geldig keurmerk die dag" }
                thead { tr { th scope="col" { "Aanbieders" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    tr { th scope="row" { "Met een lopend contract" } @for y in ys { td.num { (y.providers_under_contract) } } }
                    tr { th scope="row" { "Waarvan met een geldig keurmerk" } @for y in ys { td.num { (y.providers_with_mark) } } }
                    tr { th scope="row" { a href="/indicatoren/definities#kwaliteitsplannen" { "Kwaliteitsplannen goedgekeurd" } } @for y in ys { td.num { (y.plans_approved) } } }
                    tr { th scope="row" { a href="/indicatoren/definities#verbeterpunten" { "Verbeterpunten over de streefdatum" } } @for y in ys { td.num { (y.overdue_actions) } } }
                }
            }

            h3 #resultaten-normen { "Resultaten tegen de normen" (definition_link("resultaten-normen")) }
            p.hint { "Per meetjaar: de resultaten van de aanbieders per route, vergeleken met de normen van het toetsingskader, zoals op het " a href="/kwaliteit" { "kwaliteitsdashboard" } "." }
            table {
                caption { "Vergelijkingen van resultaten met de normen, per meetjaar" }
                thead { tr { th scope="col" { "Uitkomst" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    tr { th scope="row" { "Voldoet" } @for y in ys { td.num { (y.norm_results.met) } } }
                    tr { th scope="row" { "Net onder de norm" } @for y in ys { td.num { (y.norm_results.near) } } }
                    tr { th scope="row" { "Voldoet niet" } @for y in ys { td.num { (y.norm_results.failed) } } }
                }
                tfoot { tr { th scope="row" { "Aanbieders met minstens één ‘voldoet niet’" } @for y in ys { td.num { (y.providers_failing_norm) } } } }
            }
            @if let Some(t) = this {
                table {
                    caption { "Resultaten van meetjaar " (t.year) " tegen de normen, per aanbieder" }
                    thead { tr {
                        th scope="col" { "Aanbieder" } th.num scope="col" { "Voldoet" } th.num scope="col" { "Net onder de norm" } th.num scope="col" { "Voldoet niet" }
                    } }
                    tbody {
                        @for p in &t.provider_norms {
                            tr {
                                th scope="row" { a href={"/kwaliteit/aanbieders/" (p.provider_id) "#resultaten"} { (p.provider) } }
                                td.num { (p.counts.met) } td.num { (p.counts.near) } td.num { (p.counts.failed) }
                            }
                        }
                        @if t.provider_norms.is_empty() { tr { td colspan="4" { "Geen resultaten met meetjaar " (t.year) "." } } }
                    }
                }
            }

            h2 #geld { "Geld" (definition_link("geld")) }
            @if let Some(t) = this {
                table {
                    caption { "Per financieringsbron in " (t.year) " (de cijfers van de aansluiting)" }
                    thead { tr { th scope="col" { "Bron" } th.num scope="col" { "Beschikbaar" } th.num scope="col" { "Gerealiseerd" } th.num scope="col" { "Verplicht" } th.num scope="col" { "Resterend" } } }
                    tbody {
                        @for s in &t.streams {
                            tr { th scope="row" { (s.name) " (" (s.code) ")" } td.num { (s.available) } td.num { (s.actual) } td.num { (s.committed) } td.num { (s.remaining) } }
                        }
                        @if t.streams.is_empty() { tr { td colspan="5" { "Nog geen financieringsbronnen." } } }
                    }
                }
            }
            (spend_chart(ind))
            table {
                caption { "Besteding per jaar" }
                thead { tr { th scope="col" { "Cijfer" } @for y in ys { th.num scope="col" { (y.year) } } } }
                tbody {
                    tr { th scope="row" { "Gerealiseerd, alle bronnen" } @for y in ys { td.num { (y.actual_total) } } }
                    tr { th scope="row" { a href="/indicatoren/definities#per-deelnemer" { "Per gestarte deelnemer" } } @for y in ys { td.num { @match y.spend_per_start { Some(m) => (m), None => "–" } } } }
                    tr { th scope="row" { a href="/indicatoren/definities#aandeel-ondertussen" { "Aandeel Ondertussengroep" } } @for y in ys { td.num { (share_text(y.waiting_share)) } } }
                    tr { th scope="row" { a href="/indicatoren/definities#aandeel-ondertussen" { "Waarvan aandeel ELIP" } } @for y in ys { td.num { (share_text(y.elip_share)) } } }
                }
            }
            (letter_block(chrome, year, ind, letters))
        },
    )
}

/// The progress letter: the button that writes it (and freezes its figures), its figures as a workbook or JSON,
/// and the letters frozen so far.
fn letter_block(chrome: &Chrome, year: i32, ind: &Indicators, letters: &[store::letters::StoredLetter]) -> Markup {
    let scenario = ind.scenario.as_ref().map_or_else(|| "geen".to_string(), |(id, _)| id.to_string());
    let query = format!("jaar={year}&scenario={scenario}");
    html! {
        h2 #voortgangsbrief { "Voortgangsbrief " (year) }
        p { "Een Word-document om te bewerken tot de brief aan de raad: deze cijfers van " (year - 2) " tot en met " (year) " als tabellen met een zin erbij, de grafieken en de definities als bijlage. Groepen van minder dan 5 personen staan er als ‘minder dan 5’ in. Het maken legt de cijfers vast als ‘" (letter::snapshot_name(year)) "’; de brief van " (year + 1) " laat zien wat er sindsdien veranderde." }
        @if chrome.may(Permission::ManageForecasts) {
            form method="post" action="/indicatoren/voortgangsbrief" {
                (chrome.csrf_field())
                input type="hidden" name="jaar" value=(year);
                input type="hidden" name="scenario" value=(scenario);
                button type="submit" { "Voortgangsbrief " (year) " maken (Word)" }
            }
        }
        p {
            "Dezelfde cijfers om zelf te gebruiken: "
            a href={"/indicatoren/voortgangsbrief.xlsx?" (query)} { "Excel" span.visually-hidden { ", voortgangsbrief " (year) } }
            " · "
            a href={"/indicatoren/voortgangsbrief.json?" (query)} { "JSON" span.visually-hidden { ", voortgangsbrief " (year) } }
        }
        @if letters.is_empty() {
            p { "Er is nog geen voortgangsbrief vastgelegd." }
        } @else {
            table {
                caption { "Vastgelegde voortgangsbrieven" }
                thead { tr { th scope="col" { "Brief" } th scope="col" { "Stand van de gegevens" } th scope="col" { "Scenario" } th scope="col" { "Vastgelegd" } } }
                tbody {
                    @for l in letters {
                        tr {
                            th scope="row" { (l.name) }
                            td { (l.data_date) }
                            td { (l.scenario_name.as_deref().unwrap_or("geen")) }
                            td { (l.created_at) " door " (l.created_by) }
                        }
                    }
                }
            }
        }
    }
}

/// The inflow per group over the years as lines (the page's chart and the letter's). A group with a year of 1 to 4
/// people is left out where the small-cell rule applies: its line would show what the table hides.
pub fn inflow_chart(ind: &Indicators, cells: SmallCells) -> Markup {
    let years: Vec<i32> = ind.years.iter().map(|y| y.year).collect();
    let mut left_out = Vec::new();
    let series: Vec<Series> = InflowCategory::NEWCOMERS
        .iter()
        .filter_map(|c| {
            let points: Vec<(i32, i64)> =
                ind.years.iter().map(|y| (y.year, y.inflow.inflow.get(c).copied().unwrap_or(0))).collect();
            if points.iter().any(|(_, n)| cells.hides(u32::try_from(*n).unwrap_or(u32::MAX))) {
                left_out.push(c.label().to_lowercase());
                return None;
            }
            Some(Series {
                label: c.label().to_string(),
                points: points.into_iter().map(|(y, n)| (y, Money::from_cents(n.saturating_mul(100)))).collect(),
            })
        })
        .collect();
    let mut description =
        "Het aantal nieuwe inburgeringsplichtigen per groep en jaar; de cijfers staan in de tabel ernaast.".to_string();
    if !left_out.is_empty() {
        description += &format!(" Niet getoond (een jaar met minder dan 5): {}.", left_out.join(", "));
    }
    charts::lines_in(Unit::Count, "grafiek-instroom", "Instroom per groep", &description, &years, &series)
}

/// Per year over all streams: actual and committed stacked against what is available (the overview's chart).
pub fn spend_chart(ind: &Indicators) -> Markup {
    let bars: Vec<YearBar> = ind
        .years
        .iter()
        .map(|y| {
            let sum = |f: fn(&StreamMoney) -> Money| -> Money { y.streams.iter().map(f).sum() };
            YearBar {
                year: y.year,
                actual: sum(|s| s.actual),
                committed: sum(|s| s.committed),
                forecast: Money::ZERO,
                available: (!y.streams.is_empty()).then(|| sum(|s| s.available)),
            }
        })
        .collect();
    charts::stacked_years(
        "grafiek-geld",
        "Gerealiseerd en verplicht tegenover beschikbaar, alle bronnen",
        "Per jaar het gerealiseerde en het verplichte bedrag over alle financieringsbronnen, gestapeld, tegenover het beschikbare bedrag (de cijfers van de aansluiting); de bedragen staan in de tabellen ernaast.",
        &bars,
    )
}

/// The routes with figures in any of the years, in route order.
fn routes_of(ys: &[YearIndicators]) -> Vec<crate::domain::route::Route> {
    let mut r: Vec<_> = ys.iter().flat_map(|y| y.routes.iter().map(|r| r.route)).collect();
    r.sort();
    r.dedup();
    r
}

async fn definitions(chrome: Chrome) -> Markup {
    chrome.page(
        "Definities van de indicatoren",
        html! {
            p.breadcrumb { a href="/indicatoren" { "Indicatoren" } }
            h1 { "Definities van de indicatoren" }
            p { "Een vaste lijst. Elk cijfer komt uit de functie van het scherm dat erbij staat, zodat de indicatoren en dat scherm altijd hetzelfde zeggen." }
            dl.definitions {
                @for d in DEFINITIONS {
                    dt id=(d.id) { (d.name) }
                    dd { (d.definition) " Bron: " a href=(d.source.0) { (d.source.1) } "." }
                }
            }
        },
    )
}
