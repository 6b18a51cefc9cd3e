//! The provider scorecard: per period (year, quarter or month) and route the providers side by side, on screen
//! and as xlsx.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::progress::pct_text;
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::domain::dates;
use crate::domain::progress::ExamPart;
use crate::domain::route::Route;
use crate::domain::scorecard::{Grain, ScoreLine, ScorePeriod};
use crate::domain::small_cell::HIDDEN;
use crate::domain::words;
use crate::error::{AppError, AppResult};
use crate::report::scorecard::{hidden, scorecard_book, Group, ScoreRow, PARTS};

pub fn routes() -> RouteTable {
    RouteTable::default().get("/scorecard", Permission::Read, scorecard_page).get(
        "/scorecard.xlsx",
        Permission::Read,
        scorecard_xlsx,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScoreQuery {
    /// `jaar` (default), `kwartaal` or `maand`.
    periode: String,
    /// One year: shorthand for `van` = `tot` = this year.
    jaar: String,
    van: String,
    tot: String,
}

/// What the page shows: the grain and the years, read leniently from the URL (a bad value falls back to the
/// default, as the year fields always did).
struct Choice {
    grain: Grain,
    from: i32,
    until: i32,
}

impl Choice {
    fn from_query(q: &ScoreQuery) -> Choice {
        let year = |t: &str| t.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y));
        let grain = Grain::parse(&q.periode).unwrap_or_default();
        if let Some(y) = year(&q.jaar) {
            return Choice { grain, from: y, until: y };
        }
        let from = year(&q.van).unwrap_or(2022);
        let until = year(&q.tot).filter(|y| *y >= from).unwrap_or(dates::today().year().max(from));
        Choice { grain, from, until }
    }

    /// The query string that asks for this choice again (for the export link).
    fn query(&self) -> String {
        format!("periode={}&van={}&tot={}", self.grain.code(), self.from, self.until)
    }
}

/// The rows for this choice, computed once per change of the scorecard's inputs (see [`ScorecardCache`]).
///
/// [`ScorecardCache`]: crate::report::scorecard::ScorecardCache
async fn load_scorecard(state: &AppState, choice: &Choice) -> AppResult<Arc<Vec<ScoreRow>>> {
    let ask = (choice.grain, choice.from, choice.until, dates::today());
    Ok(crate::report::scorecard::rows(&state.db, ask, Some(&state.scorecard_cache)).await?)
}

/// The figures of a line on the page, after the provider, in column order: each with its group, and whether it
/// is a number (right-aligned).
fn page_figures(l: &ScoreLine) -> Vec<(Group, bool, String)> {
    let mut figures = vec![
        (Group::Line, true, l.reported_starts().map_or_else(|| "geen rapportages".into(), |n| n.to_string())),
        (
            Group::Line,
            false,
            format!("{} van {}", l.reporting, words::count(l.running, "lopende plaatsing", "lopende plaatsingen")),
        ),
        (
            Group::Waiting,
            true,
            l.avg_wait_days().map(crate::domain::fixed::dutch_decimal).unwrap_or_else(|| "–".into()),
        ),
        (Group::Reporting, true, pct_text(l.attendance_pct())),
        (Group::Reporting, true, l.absence.dutch()),
    ];
    figures.extend(PARTS.iter().map(|&part| (Group::Exam(part), false, first_attempt_text(l, part))));
    figures.push((Group::Line, true, l.route_changes.to_string()));
    figures.push((Group::Line, true, l.dropouts.to_string()));
    figures
}

fn first_attempt_text(line: &ScoreLine, part: ExamPart) -> String {
    match line.first_attempts.get(&part) {
        Some(f) if f.taken > 0 => format!("{} van {} ({})", f.passed, f.taken, pct_text(f.pct())),
        _ => "–".into(),
    }
}

async fn scorecard_page(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(q): Query<ScoreQuery>,
) -> AppResult<Markup> {
    let choice = Choice::from_query(&q);
    let rows = load_scorecard(&state, &choice).await?;
    Ok(render_scorecard(&chrome, &choice, &rows))
}

/// The page: one table per period and route, the providers side by side; figures from too few participants
/// hidden as the viewer's small-cell setting says.
fn render_scorecard(chrome: &Chrome, choice: &Choice, rows: &[ScoreRow]) -> Markup {
    let cells = chrome.small_cells();
    let mut groups: Vec<((ScorePeriod, Route), Vec<&ScoreRow>)> = Vec::new();
    for r in rows.iter() {
        match groups.last_mut() {
            Some((k, v)) if *k == (r.period, r.route) => v.push(r),
            _ => groups.push(((r.period, r.route), vec![r])),
        }
    }
    let (from, until) = (choice.from, choice.until);
    let grains = [(Grain::Year, "Per jaar"), (Grain::Quarter, "Per kwartaal"), (Grain::Month, "Per maand")];
    chrome.page(
        "Scorecard aanbieders",
        html! {
            h1 { "Scorecard aanbieders" }
            p.lead { "Per periode (jaar, kwartaal of maand) en leerroute (de route bij de start) de aanbieders naast elkaar: starts, wachttijd van PIP tot eerste les, aanwezigheid, verzuim, geslaagd bij de eerste examenpoging, routewijzigingen en uitval. Elk gegeven telt in de periode van zijn eigen datum; de uren van een kwartaalrapportage tellen in de maandweergave in de eerste maand van het kwartaal." }
            p { "Starts, wachttijd en aanwezigheid komen uit de voortgangsrapportages van de aanbieders. Zonder rapportage in een periode staat er ‘geen rapportages’ in plaats van 0; de kolom Rapportages zegt voor hoeveel van de lopende plaatsingen er een rapportage is." }
            form.filters method="get" action="/scorecard" {
                div.field {
                    label for="periode" { "Periode" }
                    select #periode name="periode" {
                        @for (g, label) in grains {
                            option value=(g.code()) selected[g == choice.grain] { (label) }
                        }
                    }
                }
                div.field { label for="van" { "Van jaar" } input #van type="number" name="van" value=(from); }
                div.field { label for="tot" { "Tot en met jaar" } input #tot type="number" name="tot" value=(until); }
                button type="submit" { "Tonen" }
            }
            p { a href={"/scorecard.xlsx?" (choice.query())} { "Download als Excel (xlsx)" } }
            @if groups.is_empty() { p { "Geen voortgangsgegevens in deze jaren." } }
            @for ((period, route), lines) in &groups {
                h2 { (period.label()) ", " (route.label()) }
                table {
                    caption { "Aanbieders vergeleken, " (route.short_label()) " " (period.label()) }
                    thead { tr {
                        th scope="col" { "Aanbieder" } th.num scope="col" { "Starts" } th scope="col" { "Rapportages" } th.num scope="col" { "Gem. wachttijd (dagen)" }
                        th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Verzuim (uren)" }
                        @for part in PARTS { th scope="col" { "1e poging " (part.label()) } }
                        th.num scope="col" { "Routewijzigingen" } th.num scope="col" { "Uitval" }
                    } }
                    tbody {
                        @for r in lines {
                            tr {
                                th scope="row" { (r.provider) }
                                @for (group, num, text) in page_figures(&r.line) {
                                    @let text = if hidden(cells, &r.line, group) { HIDDEN.to_string() } else { text };
                                    @if num { td.num { (text) } } @else { td { (text) } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

async fn scorecard_xlsx(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(q): Query<ScoreQuery>,
) -> AppResult<Response> {
    let choice = Choice::from_query(&q);
    let rows = load_scorecard(&state, &choice).await?;
    let bytes = scorecard_book(choice.grain, &rows, chrome.small_cells())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let (from, until) = (choice.from, choice.until);
    // The year view keeps its old file name; a finer view says so in the name.
    let name = match choice.grain {
        Grain::Year => format!("scorecard-aanbieders-{from}-{until}.xlsx"),
        g => format!("scorecard-aanbieders-per-{}-{from}-{until}.xlsx", g.code()),
    };
    Ok(super::download(bytes, super::XLSX, &name))
}
