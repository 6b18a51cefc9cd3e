//! Exports of reports: JSON (decimal strings), CSV (UTF-8 with BOM, decimal point, ISO dates) and xlsx
//! formatted for people (euro number format, bold frozen header, totals).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::overview::{Figures, Overview, Row as OverviewRow};
use super::reconciliation::YearReport;
use super::safe_csv::{Cell as CsvCell, CsvWriter};
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

/// The header every export uses: bold on grey with a rule below, each column its width; a header on the first
/// row is frozen so it stays in view.
pub fn write_header<S: AsRef<str>>(ws: &mut Worksheet, row: u32, columns: &[(S, f64)]) -> Result<(), XlsxError> {
    let head = header_format();
    for (i, (title, width)) in columns.iter().enumerate() {
        ws.write_string_with_format(row, i as u16, title.as_ref(), &head)?;
        ws.set_column_width(i as u16, *width)?;
    }
    if row == 0 {
        ws.set_freeze_panes(1, 0)?;
    }
    Ok(())
}

/// One cell of an export. Its type, set by the column it belongs to, decides how it is written: a code or a
/// KvK number is text even when it is all digits, a count is a number.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Count(i64),
    /// A measured value (a pass rate, a score) with one or two decimals.
    Number(rust_decimal::Decimal),
    /// Hundredths of a percent (basis points), written as a number in a percentage format.
    Percent(crate::domain::fixed::Fixed),
    Date(time::Date),
    /// An amount in euros: a number cell in the euro format.
    Money(Money),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

pub fn write_cell(ws: &mut Worksheet, row: u32, col: u16, cell: &Cell) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(t) if t.is_empty() => {}
        Cell::Text(t) => {
            ws.write_string(row, col, t)?;
        }
        Cell::Count(n) => {
            ws.write_number(row, col, *n as f64)?;
        }
        Cell::Number(d) => {
            ws.write_number_with_format(
                row,
                col,
                f64::try_from(*d).unwrap_or(0.0),
                &Format::new().set_num_format("0.0#"),
            )?;
        }
        Cell::Percent(bp) => {
            ws.write_number_with_format(
                row,
                col,
                f64::try_from(bp.per_hundred()).unwrap_or(0.0),
                &Format::new().set_num_format("0.0#%"),
            )?;
        }
        Cell::Date(d) => {
            let day = rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day())?;
            ws.write_datetime_with_format(row, col, &day, &Format::new().set_num_format("dd-mm-yyyy"))?;
        }
        Cell::Money(m) => write_money(ws, row, col, *m, &euro_format())?,
        Cell::Empty => {}
    }
    Ok(())
}

/// A sheet of typed rows under [`write_header`].
pub fn table_sheet<S: AsRef<str>>(
    wb: &mut Workbook,
    name: &str,
    columns: &[(S, f64)],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    write_header(ws, 0, columns)?;
    for (ri, row) in rows.into_iter().enumerate() {
        for (ci, cell) in row.iter().enumerate() {
            write_cell(ws, ri as u32 + 1, ci as u16, cell)?;
        }
    }
    Ok(())
}

/// Columns of the reconciliation in CSV (machine-readable names, kept stable for scripts: new ones go last).
const COLUMNS: [&str; 10] = [
    "jaar",
    "bron",
    "naam",
    "begrotingspost",
    "beschikbaar of begroot",
    "realisatie",
    "verplichtingen",
    "resterend",
    "verplichtingen vervallen niet gefactureerd",
    "verplichtingen nog te betalen",
];
/// The same columns in the xlsx, for people (the split of the commitments next to them).
const RECONCILIATION_HEADERS: [&str; 10] = [
    "Jaar",
    "Bron",
    "Naam",
    "Begrotingspost",
    "Beschikbaar of begroot",
    "Realisatie",
    "Verplichtingen",
    "Waarvan vervallen, niet gefactureerd",
    "Waarvan nog te betalen",
    "Resterend",
];

/// One line of the exported reconciliation.
struct Row {
    code: String,
    name: String,
    budget_line: String,
    available: Option<Money>,
    actual: Money,
    /// Committed, of which overdue and still to come.
    committed: Option<(Money, Money, Money)>,
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
            committed: Some((s.committed, s.overdue, s.to_come)),
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
    if !r.unfunded.committed.is_zero() {
        out.push(Row {
            code: String::new(),
            name: "Zonder financieringsbron".into(),
            budget_line: String::new(),
            available: None,
            actual: Money::ZERO,
            committed: Some((r.unfunded.committed, r.unfunded.overdue, r.unfunded.to_come)),
            remaining: None,
        });
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
            CsvCell::from(r.year),
            x.code.into(),
            x.name.into(),
            x.budget_line.into(),
            x.available.into(),
            x.actual.into(),
            x.committed.map(|c| c.0).into(),
            x.remaining.into(),
            x.committed.map(|c| c.1).into(),
            x.committed.map(|c| c.2).into(),
        ])?;
    }
    w.row([
        CsvCell::from(r.year),
        CsvCell::Empty,
        "Geïmporteerd totaal".into(),
        CsvCell::Empty,
        CsvCell::Empty,
        r.imported_total.into(),
        CsvCell::Empty,
        CsvCell::Empty,
        CsvCell::Empty,
        CsvCell::Empty,
    ])?;
    w.finish()
}

pub fn reconciliation_xlsx(r: &YearReport) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let (euro, bold_euro) = (euro_format(), euro_format().set_bold());
    let ws = wb.add_worksheet();
    ws.set_name(format!("Aansluiting {}", r.year))?;
    let widths = [8.0, 10.0, 40.0, 30.0, 18.0, 18.0, 18.0, 18.0, 18.0, 18.0];
    let columns: Vec<(&str, f64)> = RECONCILIATION_HEADERS.iter().copied().zip(widths).collect();
    write_header(ws, 0, &columns)?;
    let mut row = 1;
    for x in rows(r) {
        ws.write_number(row, 0, r.year)?;
        ws.write_string(row, 1, &x.code)?;
        ws.write_string(row, 2, &x.name)?;
        ws.write_string(row, 3, &x.budget_line)?;
        let (committed, overdue, to_come) =
            (x.committed.map(|c| c.0), x.committed.map(|c| c.1), x.committed.map(|c| c.2));
        let cells = [x.available, Some(x.actual), committed, overdue, to_come, x.remaining];
        for (col, m) in (4..).zip(cells) {
            if let Some(m) = m {
                write_money(ws, row, col, m, &euro)?;
            }
        }
        row += 1;
    }
    ws.write_string_with_format(row, 2, "Geïmporteerd totaal", &Format::new().set_bold())?;
    write_money(ws, row, 5, r.imported_total, &bold_euro)?;
    wb.save_to_buffer()
}

/// Columns of the overview in CSV and xlsx (the change columns only when a snapshot is compared).
const OVERVIEW_COLUMNS: [&str; 11] = [
    "weergave",
    "sleutel",
    "omschrijving",
    "jaar",
    "beschikbaar",
    "realisatie",
    "verplichtingen",
    "prognose",
    "resterend",
    "verplichtingen vervallen niet gefactureerd",
    "verplichtingen nog te betalen",
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
            CsvCell::from(view),
            (&row.key).into(),
            (&row.label).into(),
            year.map_or_else(|| "totaal".into(), CsvCell::from),
            f.available.into(),
            f.actual.into(),
            f.committed.into(),
            f.forecast.into(),
            f.remaining.into(),
            f.overdue.into(),
            f.to_come.into(),
        ];
        if compared {
            record.push(f.change_spend.into());
            record.push(f.change_remaining.into());
        }
        w.row(record)?;
    }
    w.finish()
}

/// The overview's columns in the xlsx, for people (the change columns only when a snapshot is compared).
const OVERVIEW_HEADERS: [&str; 9] = [
    "Omschrijving",
    "Jaar",
    "Beschikbaar",
    "Realisatie",
    "Verplichtingen",
    "Waarvan vervallen, niet gefactureerd",
    "Waarvan nog te betalen",
    "Prognose",
    "Resterend",
];
const CHANGE_HEADERS: [&str; 2] = ["Verschil uitgaven sinds snapshot", "Verschil resterend sinds snapshot"];

/// One sheet per view (bold totals, frozen header, euro format) and the scenario's assumptions.
pub fn overview_xlsx(o: &Overview) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let (euro, bold, bold_euro) = (euro_format(), Format::new().set_bold(), euro_format().set_bold());
    let compared = o.snapshot.is_some();
    let years = format!("{}–{}", o.from, o.to);
    for v in &o.views {
        let ws = wb.add_worksheet();
        ws.set_name(v.view.sheet())?;
        let mut header: Vec<(&str, f64)> = OVERVIEW_HEADERS.iter().map(|h| (*h, 18.0)).collect();
        header[0].1 = 50.0;
        header[1].1 = 11.0;
        if compared {
            header.extend(CHANGE_HEADERS.iter().map(|h| (*h, 18.0)));
        }
        write_header(ws, 0, &header)?;
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
                    // The row's total over the years shown: the years, never a second "Totaal".
                    None => ws.write_string_with_format(row, 1, &years, text)?,
                };
                let mut values = vec![
                    f.available,
                    Some(f.actual),
                    Some(f.committed),
                    Some(f.overdue),
                    Some(f.to_come),
                    Some(f.forecast),
                    f.remaining,
                ];
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
    }
    let ws = wb.add_worksheet();
    ws.set_name("Uitgangspunten")?;
    ws.set_column_width(0, 40)?;
    ws.set_column_width(1, 40)?;
    let mut row = 0u32;
    let mut pair = |ws: &mut Worksheet, label: &str, value: Cell| -> Result<(), XlsxError> {
        ws.write_string_with_format(row, 0, label, &bold)?;
        write_cell(ws, row, 1, &value)?;
        row += 1;
        Ok(())
    };
    pair(ws, "Jaren", Cell::Text(format!("{} tot en met {}", o.from, o.to)))?;
    pair(ws, "Financieringsbron", Cell::Text(o.stream.clone().unwrap_or_else(|| "alle".into())))?;
    if let Some(s) = &o.snapshot {
        pair(ws, "Vergeleken met snapshot", Cell::text(&s.name))?;
    }
    match (&o.scenario, &o.assumptions) {
        (Some(used), Some(s)) => {
            pair(ws, "Scenario", Cell::text(&s.name))?;
            pair(ws, "Toelichting", Cell::text(&s.description))?;
            pair(ws, "Instroomvariant", Cell::text(used.variant.label()))?;
            pair(ws, "Prognose voor instroom vanaf", Cell::Count(used.forecast_from.into()))?;
            pair(ws, "Tariefindexatie per jaar", Cell::Percent(s.tariff_index))?;
            pair(ws, "Duur B1-route (maanden)", Cell::Count(s.duration_b1_months.into()))?;
            pair(ws, "Duur Z-route (maanden)", Cell::Count(s.duration_z_months.into()))?;
            pair(ws, "Duur onderwijsroute (maanden)", Cell::Count(s.duration_education_months.into()))?;
            if !used.unpriced_routes.is_empty() {
                let routes: Vec<&str> = used.unpriced_routes.iter().map(|r| r.label()).collect();
                pair(ws, "Niet geprijsd (geen tarief in een contract)", Cell::Text(routes.join(", ")))?;
            }
            pair(ws, "Startmoment", Cell::text("instroom start gemiddeld op 1 juli van het jaar"))?;
            pair(
                ws,
                "Al geplaatst",
                Cell::text(
                    "telt als verplichting; de prognose telt per instroomjaar alleen de instroom die nog niet geplaatst is",
                ),
            )?;
            for c in used.counted.iter().filter(|c| c.placed > 0) {
                pair(
                    ws,
                    &format!("Instroom {}", c.year),
                    Cell::Text(format!(
                        "instroom {} ({}), {} al geplaatst, {} in de prognose",
                        c.inflow,
                        used.variant.label(),
                        c.placed,
                        c.counted
                    )),
                )?;
            }
            row += 1;
            let columns = [
                "Jaar",
                "Groep",
                "Instroom laag",
                "Instroom verwacht",
                "Instroom hoog",
                "B1-route",
                "Z-route",
                "Onderwijsroute",
                "Uitval",
            ];
            // The first two columns are the labels and values above, so they keep their width.
            let columns: Vec<(&str, f64)> =
                columns.iter().enumerate().map(|(i, c)| (*c, if i < 2 { 40.0 } else { 16.0 })).collect();
            write_header(ws, row, &columns)?;
            row += 1;
            for l in &s.lines {
                let cells = [
                    Cell::Count(l.year.into()),
                    Cell::text(l.group.label()),
                    Cell::Count(l.low),
                    Cell::Count(l.expected),
                    Cell::Count(l.high),
                    Cell::Percent(l.share_b1),
                    Cell::Percent(l.share_z),
                    Cell::Percent(l.share_education),
                    Cell::Percent(l.dropout),
                ];
                for (c, cell) in cells.iter().enumerate() {
                    write_cell(ws, row, c as u16, cell)?;
                }
                row += 1;
            }
        }
        _ => pair(ws, "Scenario", Cell::text("geen: het overzicht bevat geen prognose"))?,
    }
    wb.save_to_buffer()
}
