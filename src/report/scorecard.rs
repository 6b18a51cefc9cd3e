//! The provider scorecard's rows and its workbook: the small-cell rule decides per figure what the viewer sees.

use std::collections::HashMap;
use std::sync::Arc;

use time::Date;

use crate::domain::placement::PlacementStatus;
use crate::domain::progress::{ExamPart, Report};
use crate::domain::route::Route;
use crate::domain::scorecard::{scorecard, Grain, ScoreInput, ScoreKey, ScoreLine, ScorePeriod};
use crate::domain::small_cell::{SmallCells, HIDDEN};
use crate::report::export::{table_sheet, Cell};
use crate::report::kept::Kept;
use crate::store::{self, Db};

/// One scorecard row as shown and exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreRow {
    pub period: ScorePeriod,
    pub route: Route,
    pub provider: String,
    pub line: ScoreLine,
}

/// What a scorecard is asked for: its grain, first and last year, and the day it is computed on (running
/// placements count up to today).
pub type ScoreAsk = (Grain, i32, i32, Date);

/// Scorecards computed at one value of `progress_inputs_version`: triggers move that counter in the same
/// transaction as every change to placements, contracts, providers, reports, exam attempts and route changes.
pub type ScorecardCache = Kept<ScoreAsk, Vec<ScoreRow>>;

/// The scorecard rows, sorted by period, route and provider; from the cache while its inputs did not change.
pub async fn rows(db: &Db, ask: ScoreAsk, cache: Option<&ScorecardCache>) -> sqlx::Result<Arc<Vec<ScoreRow>>> {
    match cache {
        None => Ok(Arc::new(compute(db, ask).await?)),
        Some(cache) => cache.get(store::progress::inputs_version(db).await?, ask, || compute(db, ask)).await,
    }
}

/// The scorecard from the placements and all their reports, read afresh.
async fn compute(db: &Db, (grain, from, until, today): ScoreAsk) -> sqlx::Result<Vec<ScoreRow>> {
    let contracts = store::contracts::list(db).await?;
    let providers: HashMap<i64, (i64, String)> =
        contracts.iter().map(|c| (c.id, (c.provider_id, c.provider_name.clone()))).collect();
    let placements = store::placements::list(db, None).await?;
    let mut reports = store::progress::by_placement(store::progress::all_reports(db).await?);
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
            dropped_out_on: (p.schedule.status == PlacementStatus::DroppedOut)
                .then_some(p.schedule.status_date)
                .flatten(),
            change_dates: p.schedule.changes.iter().map(|c| c.decision_date).collect(),
            reports: r,
        })
        .collect();
    let names: HashMap<i64, String> = providers.values().cloned().collect();
    let lines = scorecard(&inputs, grain, from..=until, today);
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

pub const PARTS: [ExamPart; 5] =
    [ExamPart::Reading, ExamPart::Listening, ExamPart::Speaking, ExamPart::Writing, ExamPart::Knm];

/// The group a scorecard figure is about: the whole line (counts), or the part of it an average or rate is
/// taken over.
#[derive(Clone, Copy)]
pub enum Group {
    Line,
    Waiting,
    Reporting,
    Exam(ExamPart),
}

/// Whether the small-cell rule hides a figure from this viewer: its line is about fewer than 5 participants,
/// or the figure is taken over fewer than 5 of them.
pub fn hidden(cells: SmallCells, line: &ScoreLine, group: Group) -> bool {
    let size = match group {
        Group::Line => line.participants,
        Group::Waiting => line.waited_count,
        Group::Reporting => line.reporting,
        Group::Exam(part) => line.first_attempts.get(&part).map_or(0, |f| f.taken),
    };
    cells.hides(line.participants) || cells.hides(size)
}

/// The figures of a line in the xlsx, after period, route and provider: numbers as numbers, a figure the
/// small-cell rule hides as the text "minder dan 5" in its cell, so the columns keep their meaning.
fn book_figures(l: &ScoreLine, cells: SmallCells) -> Vec<Cell> {
    let number = |d: Option<rust_decimal::Decimal>| d.map_or(Cell::Empty, Cell::Number);
    let mut figures = vec![
        (Group::Line, l.reported_starts().map_or(Cell::Empty, |n| Cell::Count(n.into()))),
        (Group::Line, Cell::Count(l.running.into())),
        (Group::Line, Cell::Count(l.reporting.into())),
        (Group::Waiting, number(l.avg_wait_days())),
        (Group::Reporting, number(l.attendance_pct())),
        (Group::Reporting, Cell::Number(l.absence.decimal())),
    ];
    for part in PARTS {
        let f = l.first_attempts.get(&part).copied().unwrap_or_default();
        figures.push((Group::Exam(part), Cell::Count(f.taken.into())));
        figures.push((Group::Exam(part), number(f.pct())));
    }
    figures.push((Group::Line, Cell::Count(l.route_changes.into())));
    figures.push((Group::Line, Cell::Count(l.dropouts.into())));
    figures.into_iter().map(|(group, cell)| if hidden(cells, l, group) { Cell::text(HIDDEN) } else { cell }).collect()
}

/// The scorecard as a workbook: one sheet, a row per period, route and provider.
pub fn scorecard_book(
    grain: Grain,
    rows: &[ScoreRow],
    cells: SmallCells,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
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
    let lines = rows.iter().map(|r| {
        let period = match r.period {
            ScorePeriod::Year(y) => Cell::Count(y.into()),
            // `2023-K1` / `2023-03`: sorts as text and reads the same as the report periods.
            ScorePeriod::Part(p) => Cell::text(p.code()),
        };
        let mut line = vec![period, Cell::text(r.route.short_label()), Cell::text(&r.provider)];
        line.extend(book_figures(&r.line, cells));
        line
    });
    let mut wb = rust_xlsxwriter::Workbook::new();
    table_sheet(&mut wb, "Scorecard", &columns, lines)?;
    wb.save_to_buffer()
}
