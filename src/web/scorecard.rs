//! The provider scorecard: per year and route the providers side by side, on screen and as xlsx.

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
use crate::domain::scorecard::{scorecard, ScoreInput, ScoreKey, ScoreLine};
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
    van: String,
    tot: String,
}

/// One scorecard row as shown and exported.
struct ScoreRow {
    year: i32,
    route: Route,
    provider: String,
    line: ScoreLine,
}

const PARTS: [ExamPart; 5] =
    [ExamPart::Reading, ExamPart::Listening, ExamPart::Speaking, ExamPart::Writing, ExamPart::Knm];

async fn load_scorecard(state: &AppState, q: &ScoreQuery) -> AppResult<(i32, i32, Vec<ScoreRow>)> {
    let this_year = dates::today().year();
    let from = q.van.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).unwrap_or(2022);
    let until = q.tot.trim().parse::<i32>().ok().filter(|y| (from..=2100).contains(y)).unwrap_or(this_year.max(from));
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
            pip_date: p.pip_date,
            dropped_out_on: (p.schedule.status == crate::domain::placement::PlacementStatus::DroppedOut)
                .then_some(p.schedule.status_date)
                .flatten(),
            change_dates: p.schedule.changes.iter().map(|c| c.decision_date).collect(),
            reports: r,
        })
        .collect();
    let names: HashMap<i64, String> = providers.values().cloned().collect();
    let lines = scorecard(&inputs, from..=until);
    let mut rows: Vec<ScoreRow> = lines
        .into_iter()
        .map(|((pid, route, year), line): (ScoreKey, ScoreLine)| ScoreRow {
            year,
            route,
            provider: names.get(&pid).cloned().unwrap_or_default(),
            line,
        })
        .collect();
    rows.sort_by(|a, b| (a.year, a.route, &a.provider).cmp(&(b.year, b.route, &b.provider)));
    Ok((from, until, rows))
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
    let (from, until, rows) = load_scorecard(&state, &q).await?;
    let mut groups: Vec<((i32, Route), Vec<&ScoreRow>)> = Vec::new();
    for r in &rows {
        match groups.last_mut() {
            Some((k, v)) if *k == (r.year, r.route) => v.push(r),
            _ => groups.push(((r.year, r.route), vec![r])),
        }
    }
    Ok(chrome.page(
        "Scorecard aanbieders",
        html! {
            h1 { "Scorecard aanbieders" }
            p.lead { "Per jaar en leerroute (de route bij de start) de aanbieders naast elkaar: starts, wachttijd van PIP tot eerste les, aanwezigheid, verzuim, geslaagd bij de eerste examenpoging, routewijzigingen en uitval." }
            form.filters method="get" action="/scorecard" {
                div.field { label for="van" { "Van jaar" } input #van type="number" name="van" value=(from); }
                div.field { label for="tot" { "Tot en met jaar" } input #tot type="number" name="tot" value=(until); }
                button type="submit" { "Tonen" }
            }
            p { a href={"/scorecard.xlsx?van=" (from) "&tot=" (until)} { "Download als Excel (xlsx)" } }
            @if groups.is_empty() { p { "Geen voortgangsgegevens in deze jaren." } }
            @for ((year, route), lines) in &groups {
                h2 { (year) ", " (route.label()) }
                table {
                    caption { "Aanbieders vergeleken, " (route.short_label()) " " (year) }
                    thead { tr {
                        th scope="col" { "Aanbieder" } th.num scope="col" { "Starts" } th.num scope="col" { "Gem. wachttijd (dagen)" }
                        th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Verzuim (uren)" }
                        @for part in PARTS { th scope="col" { "1e poging " (part.label()) } }
                        th.num scope="col" { "Routewijzigingen" } th.num scope="col" { "Uitval" }
                    } }
                    tbody {
                        @for r in lines {
                            tr {
                                th scope="row" { (r.provider) }
                                td.num { (r.line.starts) }
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

fn scorecard_book(rows: &[ScoreRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::report::export::header_format;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Scorecard")?;
    let head = header_format();
    let pct = rust_xlsxwriter::Format::new().set_num_format("0.0");
    let mut headers: Vec<String> =
        ["Jaar", "Route", "Aanbieder", "Starts", "Gem. wachttijd (dagen)", "Aanwezigheid (%)", "Verzuim (uren)"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for part in PARTS {
        headers.push(format!("1e poging {} afgelegd", part.label()));
        headers.push(format!("1e poging {} geslaagd (%)", part.label()));
    }
    headers.extend(["Routewijzigingen".to_string(), "Uitval".to_string()]);
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &head)?;
        ws.set_column_width(i as u16, (h.chars().count() as u16 + 2).max(10))?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, r.year)?;
        ws.write_string(row, 1, r.route.short_label())?;
        ws.write_string(row, 2, &r.provider)?;
        ws.write_number(row, 3, r.line.starts)?;
        if let Some(d) = r.line.avg_wait_days() {
            ws.write_with_format(row, 4, d, &pct)?;
        }
        if let Some(p) = r.line.attendance_pct() {
            ws.write_with_format(row, 5, p, &pct)?;
        }
        ws.write_with_format(row, 6, r.line.absence.decimal(), &pct)?;
        let mut col = 7u16;
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
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

async fn scorecard_xlsx(State(state): State<AppState>, Query(q): Query<ScoreQuery>) -> AppResult<Response> {
    let (from, until, rows) = load_scorecard(&state, &q).await?;
    let bytes = scorecard_book(&rows).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let name = format!("scorecard-aanbieders-{from}-{until}.xlsx");
    Ok((
        [
            (header::CONTENT_TYPE, crate::domain::document::DocumentKind::Xlsx.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
