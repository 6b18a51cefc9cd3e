//! Exports of reports: JSON (decimal strings), CSV (UTF-8 with BOM, decimal point, ISO dates) and xlsx
//! formatted for people (euro number format, bold frozen header, totals).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::reconciliation::YearReport;
use crate::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
    Xlsx,
}

/// The euro format people expect in Excel: `€ 1.234,56` under a Dutch locale, negatives in red.
pub fn euro_format() -> Format {
    Format::new().set_num_format("€ #,##0.00;[Red]€ -#,##0.00")
}

pub fn header_format() -> Format {
    Format::new().set_bold().set_background_color("#E6E6E6").set_border_bottom(rust_xlsxwriter::FormatBorder::Thin)
}

/// Writes money as a number cell (exact: cents fit a double without loss up to 2^53).
pub fn write_money(ws: &mut Worksheet, row: u32, col: u16, m: Money, format: &Format) -> Result<(), XlsxError> {
    ws.write_number_with_format(row, col, m.decimal().try_into().unwrap_or(0.0), format)?;
    Ok(())
}

/// Columns of the reconciliation in CSV and xlsx.
const COLUMNS: [&str; 8] =
    ["jaar", "bron", "naam", "begrotingspost", "beschikbaar of begroot", "realisatie", "verplichtingen", "resterend"];

/// One line of the exported reconciliation.
struct Row {
    code: String,
    name: String,
    budget_line: String,
    available: Option<Money>,
    actual: Money,
    committed: Option<Money>,
    remaining: Option<Money>,
}

/// Rows: one per stream, then one per budget line under it, then the unattributed queue.
fn rows(r: &YearReport) -> Vec<Row> {
    let mut out = Vec::new();
    for s in &r.streams {
        out.push(Row {
            code: s.code.clone(),
            name: s.name.clone(),
            budget_line: String::new(),
            available: Some(s.available),
            actual: s.actual,
            committed: Some(s.committed),
            remaining: Some(s.remaining),
        });
        for l in &s.budget_lines {
            out.push(Row {
                code: s.code.clone(),
                name: s.name.clone(),
                budget_line: l.category.clone(),
                available: Some(l.amount),
                actual: l.actual,
                committed: None,
                remaining: None,
            });
        }
    }
    out.push(Row {
        code: String::new(),
        name: "Niet toegerekend".into(),
        budget_line: String::new(),
        available: None,
        actual: r.unattributed,
        committed: None,
        remaining: None,
    });
    out
}

pub fn reconciliation_json(r: &YearReport) -> String {
    serde_json::to_string_pretty(r).expect("report serializes")
}

pub fn reconciliation_csv(r: &YearReport) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    let opt = |m: Option<Money>| m.map(|m| m.plain()).unwrap_or_default();
    for x in rows(r) {
        w.write_record([
            r.year.to_string(),
            x.code,
            x.name,
            x.budget_line,
            opt(x.available),
            x.actual.plain(),
            opt(x.committed),
            opt(x.remaining),
        ])?;
    }
    w.write_record([
        r.year.to_string(),
        String::new(),
        "Geïmporteerd totaal".into(),
        String::new(),
        String::new(),
        r.imported_total.plain(),
        String::new(),
        String::new(),
    ])?;
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(w.into_inner().map_err(|e| csv::Error::from(e.into_error()))?);
    Ok(out)
}

pub fn reconciliation_xlsx(r: &YearReport) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let (euro, head, bold_euro) = (euro_format(), header_format(), euro_format().set_bold());
    let ws = wb.add_worksheet();
    ws.set_name(format!("Aansluiting {}", r.year))?;
    for (c, h) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &head)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let mut row = 1;
    for x in rows(r) {
        ws.write_number(row, 0, r.year)?;
        ws.write_string(row, 1, &x.code)?;
        ws.write_string(row, 2, &x.name)?;
        ws.write_string(row, 3, &x.budget_line)?;
        for (col, m) in [(4, x.available), (5, Some(x.actual)), (6, x.committed), (7, x.remaining)] {
            if let Some(m) = m {
                write_money(ws, row, col, m, &euro)?;
            }
        }
        row += 1;
    }
    ws.write_string_with_format(row, 2, "Geïmporteerd totaal", &Format::new().set_bold())?;
    write_money(ws, row, 5, r.imported_total, &bold_euro)?;
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 10)?;
    ws.set_column_width(2, 40)?;
    ws.set_column_width(3, 30)?;
    for c in 4..=7 {
        ws.set_column_width(c, 18)?;
    }
    wb.save_to_buffer()
}
