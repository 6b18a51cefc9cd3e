//! The provider scorecard: per period (year, quarter or month) and route the providers side by side, on screen
//! and as xlsx.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::progress::pct_text;
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::domain::dates;
use crate::domain::progress::{ExamPart, Report};
use crate::domain::route::Route;
use crate::domain::scorecard::{scorecard, Grain, ScoreInput, ScoreKey, ScoreLine, ScorePeriod};
use crate::domain::words;
use crate::error::{AppError, AppResult};
use crate::store;

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

/// One scorecard row as shown and exported.
struct ScoreRow {
    period: ScorePeriod,
    route: Route,
    provider: String,
    line: ScoreLine,
}

const PARTS: [ExamPart; 5] =
    [ExamPart::Reading, ExamPart::Listening, ExamPart::Speaking, ExamPart::Writing, ExamPart::Knm];

async fn load_scorecard(state: &AppState, choice: &Choice) -> AppResult<Vec<ScoreRow>> {
    let contracts = store::contracts::list(&state.db).await?;
    let providers: HashMap<i64, (i64, String)> =
        contracts.iter().map(|c| (c.id, (c.provider_id, c.provider_name.clone()))).collect();
    let placements = store::placements::list(&state.db, None).await?;
    let mut reports = store::progress::by_placement(store::progress::all_reports(&state.db).await?);
    let reports: Vec<Vec<Report>> = placements.iter().map(|p| reports.remove(&p.id).unwrap_or_default()).collect();
    let inputs: Vec<ScoreInput> = placements
        .iter()
        .zip(&reports)
        .map(|(p, r)| ScoreInput {
            provider_id: providers.get(&p.contract_id).map(|x| x.0).unwrap_or_default(),
            route: p.route,
            start_date: p.schedule.start_date,
            end_date: match (p.schedule.status.needs_date(), p.schedule.status_date) {
                (true, Some(d)) => d,
                _ => p.schedule.planned_end,
            },
            pip_date: p.pip_date,
            dropped_out_on: (p.schedule.status == crate::domain::placement::PlacementStatus::DroppedOut)
                .then_some(p.schedule.status_date)
                .flatten(),
            change_dates: p.schedule.changes.iter().map(|c| c.decision_date).collect(),
            reports: r,
        })
        .collect();
    let names: HashMap<i64, String> = providers.values().cloned().collect();
    let lines = scorecard(&inputs, choice.grain, choice.from..=choice.until, dates::today());
    let mut rows: Vec<ScoreRow> = lines
        .into_iter()
        .map(|((pid, route, period), line): (ScoreKey, ScoreLine)| ScoreRow {
            period,
            route,
            provider: names.get(&pid).cloned().unwrap_or_default(),
            line,
        })
        .collect();
    rows.sort_by(|a, b| (a.period, a.route, &a.provider).cmp(&(b.period, b.route, &b.provider)));
    Ok(rows)
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
    let mut groups: Vec<((ScorePeriod, Route), Vec<&ScoreRow>)> = Vec::new();
    for r in &rows {
        match groups.last_mut() {
            Some((k, v)) if *k == (r.period, r.route) => v.push(r),
            _ => groups.push(((r.period, r.route), vec![r])),
        }
    }
    let (from, until) = (choice.from, choice.until);
    let grains = [(Grain::Year, "Per jaar"), (Grain::Quarter, "Per kwartaal"), (Grain::Month, "Per maand")];
    Ok(chrome.page(
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
                                td.num { @match r.line.reported_starts() { Some(n) => { (n) } None => { "geen rapportages" } } }
                                td { (r.line.reporting) " van " (words::count(r.line.running, "lopende plaatsing", "lopende plaatsingen")) }
                                td.num { (r.line.avg_wait_days().map(|d| d.normalize().to_string().replace('.', ",")).unwrap_or_else(|| "–".into())) }
                                td.num { (pct_text(r.line.attendance_pct())) }
                                td.num { (r.line.absence.dutch()) }
                                @for part in PARTS { td { (first_attempt_text(&r.line, part)) } }
                                td.num { (r.line.route_changes) }
                                td.num { (r.line.dropouts) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn scorecard_book(grain: Grain, rows: &[ScoreRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Scorecard")?;
    let pct = rust_xlsxwriter::Format::new().set_num_format("0.0");
    let mut headers: Vec<String> = [
        grain.label(),
        "Route",
        "Aanbieder",
        "Starts (leeg: geen rapportages)",
        "Lopende plaatsingen",
        "Met rapportage",
        "Gem. wachttijd (dagen)",
        "Aanwezigheid (%)",
        "Verzuim (uren)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for part in PARTS {
        headers.push(format!("1e poging {} afgelegd", part.label()));
        headers.push(format!("1e poging {} geslaagd (%)", part.label()));
    }
    headers.extend(["Routewijzigingen".to_string(), "Uitval".to_string()]);
    let columns: Vec<(&str, f64)> =
        headers.iter().map(|h| (h.as_str(), (h.chars().count() as f64 + 2.0).max(10.0))).collect();
    crate::report::export::write_header(ws, 0, &columns)?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        match r.period {
            ScorePeriod::Year(y) => ws.write_number(row, 0, y)?,
            // `2023-K1` / `2023-03`: sorts as text and reads the same as the report periods.
            ScorePeriod::Part(p) => ws.write_string(row, 0, p.code())?,
        };
        ws.write_string(row, 1, r.route.short_label())?;
        ws.write_string(row, 2, &r.provider)?;
        if let Some(n) = r.line.reported_starts() {
            ws.write_number(row, 3, n)?;
        }
        ws.write_number(row, 4, r.line.running)?;
        ws.write_number(row, 5, r.line.reporting)?;
        if let Some(d) = r.line.avg_wait_days() {
            ws.write_with_format(row, 6, d, &pct)?;
        }
        if let Some(p) = r.line.attendance_pct() {
            ws.write_with_format(row, 7, p, &pct)?;
        }
        ws.write_with_format(row, 8, r.line.absence.decimal(), &pct)?;
        let mut col = 9u16;
        for part in PARTS {
            let f = r.line.first_attempts.get(&part).copied().unwrap_or_default();
            ws.write_number(row, col, f.taken)?;
            if let Some(p) = f.pct() {
                ws.write_with_format(row, col + 1, p, &pct)?;
            }
            col += 2;
        }
        ws.write_number(row, col, r.line.route_changes)?;
        ws.write_number(row, col + 1, r.line.dropouts)?;
    }
    wb.save_to_buffer()
}

async fn scorecard_xlsx(State(state): State<AppState>, Query(q): Query<ScoreQuery>) -> AppResult<Response> {
    let choice = Choice::from_query(&q);
    let rows = load_scorecard(&state, &choice).await?;
    let bytes = scorecard_book(choice.grain, &rows).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let (from, until) = (choice.from, choice.until);
    // The year view keeps its old file name; a finer view says so in the name.
    let name = match choice.grain {
        Grain::Year => format!("scorecard-aanbieders-{from}-{until}.xlsx"),
        g => format!("scorecard-aanbieders-per-{}-{from}-{until}.xlsx", g.code()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, crate::domain::document::DocumentKind::Xlsx.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
