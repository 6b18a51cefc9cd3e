//! Exports of reports: JSON (decimal strings), CSV (UTF-8 with BOM, decimal point, ISO dates) and xlsx
//! formatted for people (euro number format, bold frozen header, totals).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::overview::{Figures, Overview, Row as OverviewRow};
use super::reconciliation::YearReport;
use super::safe_csv::{Cell, CsvWriter};
use crate::domain::forecast::percent_display;
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
    let mut w = CsvWriter::new();
    w.header(COLUMNS)?;
    for x in rows(r) {
        w.row([
            Cell::from(r.year),
            x.code.into(),
            x.name.into(),
            x.budget_line.into(),
            x.available.into(),
            x.actual.into(),
            x.committed.into(),
            x.remaining.into(),
        ])?;
    }
    w.row([
        Cell::from(r.year),
        Cell::Empty,
        "Geïmporteerd totaal".into(),
        Cell::Empty,
        Cell::Empty,
        r.imported_total.into(),
        Cell::Empty,
        Cell::Empty,
    ])?;
    w.finish()
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

/// Columns of the overview in CSV and xlsx (the change columns only when a snapshot is compared).
const OVERVIEW_COLUMNS: [&str; 9] = [
    "weergave",
    "sleutel",
    "omschrijving",
    "jaar",
    "beschikbaar",
    "realisatie",
    "verplichtingen",
    "prognose",
    "resterend",
];
const CHANGE_COLUMNS: [&str; 2] = ["verschil uitgaven sinds snapshot", "verschil resterend sinds snapshot"];

/// The overview's lines in order: per view, per row its years then its total, then the view's totals.
fn overview_lines(o: &Overview) -> Vec<(&'static str, &OverviewRow, Option<i32>, &Figures)> {
    let mut out = Vec::new();
    for v in &o.views {
        for r in v.rows.iter().chain(std::iter::once(&v.totals)) {
            for c in &r.years {
                out.push((v.view.code(), r, Some(c.year), &c.figures));
            }
            out.push((v.view.code(), r, None, &r.total));
        }
    }
    out
}

pub fn overview_json(o: &Overview) -> String {
    serde_json::to_string_pretty(o).expect("overview serializes")
}

pub fn overview_csv(o: &Overview) -> Result<Vec<u8>, csv::Error> {
    let mut w = CsvWriter::new();
    let compared = o.snapshot.is_some();
    let mut header: Vec<&str> = OVERVIEW_COLUMNS.to_vec();
    if compared {
        header.extend(CHANGE_COLUMNS);
    }
    w.header(header)?;
    for (view, row, year, f) in overview_lines(o) {
        let mut record = vec![
            Cell::from(view),
            (&row.key).into(),
            (&row.label).into(),
            year.map_or_else(|| "totaal".into(), Cell::from),
            f.available.into(),
            f.actual.into(),
            f.committed.into(),
            f.forecast.into(),
            f.remaining.into(),
        ];
        if compared {
            record.push(f.change_spend.into());
            record.push(f.change_remaining.into());
        }
        w.row(record)?;
    }
    w.finish()
}

/// One sheet per view (bold totals, frozen header, euro format) and the scenario's assumptions.
pub fn overview_xlsx(o: &Overview) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let (euro, head, bold, bold_euro) =
        (euro_format(), header_format(), Format::new().set_bold(), euro_format().set_bold());
    let compared = o.snapshot.is_some();
    for v in &o.views {
        let ws = wb.add_worksheet();
        ws.set_name(v.view.sheet())?;
        let mut header: Vec<&str> = vec!["omschrijving", "jaar"];
        header.extend(&OVERVIEW_COLUMNS[4..]);
        if compared {
            header.extend(CHANGE_COLUMNS);
        }
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &head)?;
        }
        ws.set_freeze_panes(1, 0)?;
        let mut row = 1u32;
        for r in v.rows.iter().chain(std::iter::once(&v.totals)) {
            let is_total_row = r.key == "totaal";
            let cells = r.years.iter().map(|c| (Some(c.year), &c.figures)).chain(std::iter::once((None, &r.total)));
            for (year, f) in cells {
                let strong = is_total_row || year.is_none();
                let (text, money) = if strong { (&bold, &bold_euro) } else { (&Format::new(), &euro) };
                ws.write_string_with_format(row, 0, &r.label, text)?;
                match year {
                    Some(y) => ws.write_number_with_format(row, 1, y, text)?,
                    None => ws.write_string_with_format(row, 1, "totaal", text)?,
                };
                let mut values = vec![f.available, Some(f.actual), Some(f.committed), Some(f.forecast), f.remaining];
                if compared {
                    values.push(f.change_spend);
                    values.push(f.change_remaining);
                }
                for (i, m) in values.into_iter().enumerate() {
                    if let Some(m) = m {
                        write_money(ws, row, 2 + i as u16, m, money)?;
                    }
                }
                row += 1;
            }
        }
        ws.set_column_width(0, 50)?;
        ws.set_column_width(1, 8)?;
        for c in 2..=(header.len() as u16) {
            ws.set_column_width(c, 18)?;
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("Uitgangspunten")?;
    let mut row = 0u32;
    let mut pair = |ws: &mut Worksheet, label: &str, value: String| -> Result<(), XlsxError> {
        ws.write_string_with_format(row, 0, label, &bold)?;
        ws.write_string(row, 1, value)?;
        row += 1;
        Ok(())
    };
    pair(ws, "Jaren", format!("{} tot en met {}", o.from, o.to))?;
    pair(ws, "Financieringsbron", o.stream.clone().unwrap_or_else(|| "alle".into()))?;
    if let Some(s) = &o.snapshot {
        pair(ws, "Vergeleken met snapshot", s.name.clone())?;
    }
    match (&o.scenario, &o.assumptions) {
        (Some(used), Some(s)) => {
            pair(ws, "Scenario", s.name.clone())?;
            pair(ws, "Toelichting", s.description.clone())?;
            pair(ws, "Instroomvariant", used.variant.label().into())?;
            pair(ws, "Prognose voor instroom vanaf", used.forecast_from.to_string())?;
            pair(ws, "Tariefindexatie per jaar", percent_display(s.tariff_index))?;
            pair(ws, "Duur B1-route (maanden)", s.duration_b1_months.to_string())?;
            pair(ws, "Duur Z-route (maanden)", s.duration_z_months.to_string())?;
            pair(ws, "Duur onderwijsroute (maanden)", s.duration_education_months.to_string())?;
            if !used.unpriced_routes.is_empty() {
                let routes: Vec<&str> = used.unpriced_routes.iter().map(|r| r.label()).collect();
                pair(ws, "Niet geprijsd (geen tarief in een contract)", routes.join(", "))?;
            }
            pair(ws, "Startmoment", "instroom start gemiddeld op 1 juli van het jaar".into())?;
            pair(
                ws,
                "Al geplaatst",
                "telt als verplichting; de prognose telt per instroomjaar alleen de instroom die nog niet geplaatst is"
                    .into(),
            )?;
            for c in used.counted.iter().filter(|c| c.placed > 0) {
                pair(
                    ws,
                    &format!("Instroom {}", c.year),
                    format!(
                        "instroom {} ({}), {} al geplaatst, {} in de prognose",
                        c.inflow,
                        used.variant.label(),
                        c.placed,
                        c.counted
                    ),
                )?;
            }
            row += 1;
            let columns =
                ["jaar", "groep", "instroom laag", "verwacht", "hoog", "% B1", "% Z", "% onderwijs", "% uitval"];
            for (c, h) in columns.iter().enumerate() {
                ws.write_string_with_format(row, c as u16, *h, &head)?;
            }
            row += 1;
            for l in &s.lines {
                ws.write_number(row, 0, l.year)?;
                ws.write_string(row, 1, l.group.label())?;
                for (c, n) in [(2u16, l.low), (3, l.expected), (4, l.high)] {
                    ws.write_number(row, c, n as u32)?;
                }
                for (c, bp) in [(5u16, l.share_b1), (6, l.share_z), (7, l.share_education), (8, l.dropout)] {
                    ws.write_string(row, c, percent_display(bp))?;
                }
                row += 1;
            }
        }
        _ => pair(ws, "Scenario", "geen: het overzicht bevat geen prognose".into())?,
    }
    ws.set_column_width(0, 40)?;
    ws.set_column_width(1, 40)?;
    wb.save_to_buffer()
}
