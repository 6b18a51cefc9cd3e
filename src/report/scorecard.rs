//! The provider scorecard's rows and its workbook: the small-cell rule decides per figure what the viewer sees.

use crate::domain::progress::ExamPart;
use crate::domain::route::Route;
use crate::domain::scorecard::{Grain, ScoreLine, ScorePeriod};
use crate::domain::small_cell::{SmallCells, HIDDEN};
use crate::report::export::{table_sheet, Cell};

/// One scorecard row as shown and exported.
pub struct ScoreRow {
    pub period: ScorePeriod,
    pub route: Route,
    pub provider: String,
    pub line: ScoreLine,
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
