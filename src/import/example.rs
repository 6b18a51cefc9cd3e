//! Ready-to-fill example files for a template: the layout it reads (title block, header row, optional lines) plus
//! a sheet that explains each column. Tests fill them with lines to prove every template round-trips.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::ledger::LedgerLine;
use super::template::{column_index, CheckedTemplate, HeaderRow, SheetRef, SignConvention};
use super::FieldType;
use crate::domain::dates;
use crate::report::safe_csv::{Cell, CsvWriter};

/// The explanation sheet's name and headings; "Verplicht" says whether a row must fill the column.
pub const EXPLANATION_SHEET: &str = "Toelichting";
pub const EXPLANATION_HEADERS: [&str; 5] = ["Kolom", "Veld", "Verplicht", "Uitleg", "Notatie"];

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> String {
    format!("kan het voorbeeldbestand niet maken: {e}")
}

/// Where each template column goes in the example: its 0-based column and header text.
fn placement(t: &CheckedTemplate) -> Vec<(u16, String)> {
    let mut next = 0u16;
    t.columns
        .iter()
        .map(|c| {
            let col = match &c.column.letter {
                Some(l) => column_index(l).unwrap_or(0) as u16,
                None => next,
            };
            next = next.max(col + 1);
            (col, c.column.header.clone().unwrap_or_else(|| t.fields[c.field].label.to_string()))
        })
        .collect()
}

fn header_row(t: &CheckedTemplate) -> u32 {
    match t.template.header_row {
        HeaderRow::Fixed(n) => n - 1,
        HeaderRow::Auto => 0,
    }
}

/// A ledger line's value for one field, as text in the template's notation (for CSV and text cells).
fn field_text(t: &CheckedTemplate, field: &str, l: &LedgerLine) -> String {
    let date_text = |d: time::Date| match t.column_for("booking_date").and_then(|c| c.date_formats.first()) {
        Some(f) if f.text.starts_with("jjjj") || f.text.starts_with("yyyy") => dates::iso(d),
        _ => dates::display(d),
    };
    match field {
        "booking_date" => date_text(l.booking_date),
        "fiscal_year" => l.fiscal_year.map(|v| v.to_string()).unwrap_or_default(),
        "period" => l.period.map(|v| v.to_string()).unwrap_or_default(),
        "document" => l.document.clone(),
        "line" => l.line.clone(),
        "gl_account" => l.gl_account.clone(),
        "cost_centre" => l.cost_centre.clone(),
        "task_field" => l.task_field.clone(),
        "creditor_number" => l.creditor_number.clone(),
        "creditor_name" => l.creditor_name.clone(),
        "invoice_number" => l.invoice_number.clone(),
        "description" => l.description.clone(),
        "amount" if t.template.sign == SignConvention::Indicator => l.amount.abs().dutch(),
        "amount" => l.amount.dutch(),
        "debit" if !l.amount.is_negative() => l.amount.dutch(),
        "credit" if l.amount.is_negative() => l.amount.abs().dutch(),
        "indicator" => {
            let ind = t.indicator();
            let list = if l.amount.is_negative() { ind.credit } else { ind.debit };
            list.first().cloned().unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// The amount of a field as cents, for number cells.
fn field_cents(t: &CheckedTemplate, field: &str, l: &LedgerLine) -> Option<i64> {
    let c = l.amount.cents();
    match field {
        "amount" if t.template.sign == SignConvention::Indicator => Some(c.abs()),
        "amount" => Some(c),
        "debit" if c >= 0 => Some(c),
        "credit" if c < 0 => Some(-c),
        _ => None,
    }
}

/// An xlsx in the template's layout with the given lines (none for a ready-to-fill file).
pub fn workbook(t: &CheckedTemplate, lines: &[LedgerLine]) -> Result<Vec<u8>, String> {
    build(t, lines, &[])
}

/// An xlsx in the template's layout with rows of text, one string per template column in the template's order
/// (empty: cell left empty). For register templates, whose rows are not ledger lines.
pub fn workbook_text(t: &CheckedTemplate, rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    build(t, &[], rows)
}

/// The sheet an example is written to when the template does not name one.
fn default_sheet(t: &CheckedTemplate) -> &'static str {
    match t.template.kind {
        super::Kind::Ledger => "Grootboek",
        super::Kind::Providers => "Aanbieders",
        super::Kind::Certifications => "Keurmerken",
        super::Kind::Contracts if t.column_for("tariff").is_some() => "Tarieven",
        super::Kind::Contracts => "Contracten",
        super::Kind::Placements => "Plaatsingen",
        super::Kind::Funding => "Financiering",
        super::Kind::Results => "Resultaten",
        super::Kind::Progress => "Voortgang",
        super::Kind::Streams => "Bronnen",
        super::Kind::Rules => "Regels",
        super::Kind::Setup => "Inrichting",
        super::Kind::Inflow => "Instroom",
    }
}

fn build(t: &CheckedTemplate, lines: &[LedgerLine], text_rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("dd-mm-yyyy");
    let money_fmt = Format::new().set_num_format("#,##0.00");
    let cols = placement(t);
    let hr = header_row(t);
    let sheet_name = match &t.template.sheet {
        Some(SheetRef::Name(n)) => n.clone(),
        _ => default_sheet(t).to_string(),
    };
    {
        let ws = wb.add_worksheet().set_name(&sheet_name).map_err(xlsx_err)?;
        if hr > 0 {
            ws.write_string_with_format(0, 0, format!("Voorbeeld voor importsjabloon {}", t.name()), &bold)
                .map_err(xlsx_err)?;
            if hr > 1 {
                ws.write_string(1, 0, "Vul de regels onder de kopregel in; laat de kopregel staan.")
                    .map_err(xlsx_err)?;
            }
        }
        for (col, header) in &cols {
            ws.write_string_with_format(hr, *col, header, &bold).map_err(xlsx_err)?;
            ws.set_column_width(*col, (header.chars().count() as f64 + 4.0).max(12.0)).map_err(xlsx_err)?;
        }
        for (i, line) in lines.iter().enumerate() {
            let r = hr + 1 + i as u32;
            for (c, (col, _)) in t.columns.iter().zip(&cols) {
                let field = t.fields[c.field];
                match field.ty {
                    FieldType::Date => {
                        let d = line.booking_date;
                        let dt =
                            ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day()).map_err(xlsx_err)?;
                        ws.write_datetime_with_format(r, *col, &dt, &date_fmt).map_err(xlsx_err)?;
                    }
                    FieldType::Amount => {
                        if let Some(cents) = field_cents(t, field.name, line) {
                            let cell = rust_decimal::Decimal::new(cents, 2);
                            ws.write_with_format(r, *col, cell, &money_fmt).map_err(xlsx_err)?;
                        }
                    }
                    FieldType::Integer { .. } => {
                        let v = field_text(t, field.name, line);
                        if let Ok(n) = v.parse::<i64>() {
                            ws.write_number(r, *col, n as f64).map_err(xlsx_err)?;
                        }
                    }
                    FieldType::Text { .. } => {
                        let v = field_text(t, field.name, line);
                        if !v.is_empty() {
                            ws.write_string(r, *col, v).map_err(xlsx_err)?;
                        }
                    }
                }
            }
        }
        for (i, row) in text_rows.iter().enumerate() {
            let r = hr + 1 + i as u32;
            for (value, (col, _)) in row.iter().zip(&cols) {
                if !value.is_empty() {
                    ws.write_string(r, *col, value).map_err(xlsx_err)?;
                }
            }
        }
        if !lines.is_empty() && !t.template.skip.first_cell_starts_with.is_empty() {
            let r = hr + 1 + lines.len() as u32;
            let first_col = cols.iter().map(|(c, _)| *c).min().unwrap_or(0);
            ws.write_string_with_format(r, first_col, &t.template.skip.first_cell_starts_with[0], &bold)
                .map_err(xlsx_err)?;
            for (c, (col, _)) in t.columns.iter().zip(&cols) {
                if t.fields[c.field].ty == FieldType::Amount {
                    let letter = super::template::column_letter(*col as u32);
                    let f = format!("=SUM({letter}{}:{letter}{})", hr + 2, hr + 1 + lines.len() as u32);
                    ws.write_formula_with_format(r, *col, f.as_str(), &money_fmt).map_err(xlsx_err)?;
                }
            }
        }
    }
    let ws = wb.add_worksheet().set_name(EXPLANATION_SHEET).map_err(xlsx_err)?;
    for (i, h) in EXPLANATION_HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold).map_err(xlsx_err)?;
    }
    for (i, (c, (_, header))) in t.columns.iter().zip(&cols).enumerate() {
        let f = t.fields[c.field];
        let r = i as u32 + 1;
        let notation = match f.ty {
            FieldType::Date if c.date_formats.is_empty() => "datumcel".to_string(),
            FieldType::Date => format!(
                "datumcel of tekst als {}",
                c.date_formats.iter().map(|d| d.text.as_str()).collect::<Vec<_>>().join(" of ")
            ),
            FieldType::Amount => match c.amount_style {
                crate::money::AmountStyle::Plain => "getal of tekst als 1234.56".into(),
                _ => "getal of tekst als 1.234,56".into(),
            },
            FieldType::Integer { min, max } => format!("geheel getal {min} t/m {max}"),
            FieldType::Text { max } => format!("tekst, hoogstens {max} tekens"),
        };
        ws.write_string(r, 0, header).map_err(xlsx_err)?;
        ws.write_string(r, 1, f.name).map_err(xlsx_err)?;
        ws.write_string(r, 2, t.requirement(c).label()).map_err(xlsx_err)?;
        ws.write_string(r, 3, f.explain).map_err(xlsx_err)?;
        ws.write_string(r, 4, notation).map_err(xlsx_err)?;
    }
    let r = t.columns.len() as u32 + 2;
    if t.template.kind == super::Kind::Ledger {
        let sign = match t.template.sign {
            SignConvention::Signed => "Eén bedragkolom: een uitgave is positief, een creditering negatief.",
            SignConvention::DebitCredit => "Kolommen Debet en Credit: het bedrag is debet min credit.",
            SignConvention::Indicator => "Bedrag zonder teken plus een kolom die zegt of het debet of credit is.",
        };
        ws.write_string(r, 0, sign).map_err(xlsx_err)?;
        ws.write_string(
            r + 1,
            0,
            "Lege regels en regels waarvan de eerste cel met 'Totaal' begint worden overgeslagen.",
        )
        .map_err(xlsx_err)?;
    } else {
        ws.write_string(r, 0, t.template.description.as_str()).map_err(xlsx_err)?;
        ws.write_string(r + 1, 0, "Lege regels worden overgeslagen. Een regel die al bekend is, wordt niet gewijzigd.")
            .map_err(xlsx_err)?;
    }
    ws.set_column_width(3, 90).map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

/// A CSV in the template's delimiter and encoding with the given lines, through the export writer: amounts and
/// whole numbers are numbers, text that would start a formula is neutralised.
pub fn csv(t: &CheckedTemplate, lines: &[LedgerLine]) -> Result<Vec<u8>, String> {
    let settings = t.csv();
    let mut w = CsvWriter::with_delimiter(settings.delimiter as u8, false);
    let cols = placement(t);
    let width = cols.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0);
    let mut header = vec![""; width];
    for (col, h) in &cols {
        header[*col as usize] = h;
    }
    w.header(header).map_err(|e| e.to_string())?;
    for line in lines {
        let mut rec = vec![Cell::Empty; width];
        for (c, (col, _)) in t.columns.iter().zip(&cols) {
            let field = t.fields[c.field];
            rec[*col as usize] = match field.ty {
                FieldType::Amount => field_cents(t, field.name, line)
                    .map_or(Cell::Empty, |cents| Cell::DutchMoney(crate::money::Money::from_cents(cents))),
                FieldType::Integer { .. } => {
                    let v = field_text(t, field.name, line);
                    v.parse::<i64>().map_or(Cell::from(v), Cell::Int)
                }
                FieldType::Date | FieldType::Text { .. } => Cell::from(field_text(t, field.name, line)),
            };
        }
        w.row(rec).map_err(|e| e.to_string())?;
    }
    let text = String::from_utf8(w.finish().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    Ok(match settings.encoding {
        super::template::Encoding::Utf8 => text.into_bytes(),
        super::template::Encoding::Windows1252 => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
    })
}

/// The rows of a filled example, per kind: `(field, value)` pairs in the notation of the shipped templates; a
/// field not named stays empty. The examples refer to each other (the provider with KvK 12345678 holds the mark,
/// the contract C-2022-01 and the placement of K-1001), so they import one after the other into an empty
/// database that has the funding stream SPUK.
fn sample(kind: super::Kind) -> &'static [&'static [(&'static str, &'static str)]] {
    use super::Kind;
    match kind {
        Kind::Ledger => &[],
        Kind::Providers => &[&[
            ("name", "Taalschool Voorbeeld BV"),
            ("kvk", "12345678"),
            ("address", "Oudegracht 1, 3511 AA Utrecht"),
            ("contact_person", "Anna de Vries"),
            ("email", "anna@taalschool.nl"),
            ("phone", "030-1234567"),
            ("notes", "Voorbeeld"),
        ]],
        Kind::Certifications => &[&[
            ("kvk", "12345678"),
            ("status", "voor bepaalde tijd"),
            ("decision_date", "01-06-2021"),
            ("valid_from", "01-06-2021"),
            ("valid_until", "31-05-2027"),
            ("registration_number", "BOW-1"),
            ("note", "Voorbeeld"),
        ]],
        Kind::Contracts => &[&[
            ("reference", "C-2022-01"),
            ("title", "B1-route Utrecht"),
            ("provider_kvk", "12345678"),
            ("lot", "Perceel 1"),
            ("routes", "b1, z"),
            ("start_date", "01-01-2022"),
            ("end_date", "31-12-2026"),
            ("ceiling", "1.500.000,00"),
            ("notes", "Voorbeeld"),
            ("route", "b1"),
            ("valid_from", "01-01-2022"),
            ("valid_until", "31-12-2026"),
            ("tariff", "10.000,00"),
            ("milestones", "Start 40% bij start; Tussentijds 30% na 12 maanden; Afronding 30% bij afronding"),
        ]],
        Kind::Placements => &[&[
            ("client_number", "K-1001"),
            ("cohort", "wi2021"),
            ("contract", "C-2022-01"),
            ("route", "b1"),
            ("start_date", "01-03-2022"),
            ("planned_end", "01-03-2025"),
            ("status", "loopt"),
            ("pip_date", "01-02-2022"),
        ]],
        Kind::Funding => &[
            &[
                ("stream", "SPUK"),
                ("year", "2023"),
                ("kind", "voorschot"),
                ("amount", "1.200.000,00"),
                ("reference", "SPUK-2023-01"),
                ("date", "15-01-2023"),
            ],
            &[
                ("stream", "SPUK"),
                ("year", "2023"),
                ("kind", "begrotingspost"),
                ("amount", "800.000,00"),
                ("category", "Taalonderwijs B1"),
            ],
        ],
        Kind::Results => &[&[
            ("kvk", "12345678"),
            ("year", "2024"),
            ("route", "b1"),
            ("started", "40"),
            ("completed", "30"),
            ("dropped_out", "5"),
            ("pass_lezen", "80"),
            ("pass_luisteren", "85"),
            ("pass_schrijven", "75"),
            ("pass_spreken", "90"),
            ("pass_knm", "95"),
            ("satisfaction", "7,5"),
            ("nt2_share", "85"),
            ("group_size", "14"),
        ]],
        Kind::Progress => &[&[
            ("kvk", "12345678"),
            ("client_number", "K-1001"),
            ("route", "b1"),
            ("period", "2022-03"),
            ("first_lesson", "01-03-2022"),
            ("offered", "40"),
            ("attended", "36"),
            ("absence", "4"),
            ("absence_reason", "ziekte"),
            ("catch_up", "2"),
            ("level_reading", "A1"),
            ("level_listening", "A1"),
            ("level_speaking", "A1"),
            ("level_writing", "A1"),
            ("remarks", "Voorbeeld"),
        ]],
        Kind::Streams => &[&[
            ("code", "ENO"),
            ("name", "En ondertussen"),
            ("kind", "gemeentefonds"),
            ("cohorts", "wi2013"),
            ("spend_from", "01-01-2022"),
            ("spend_until", "31-12-2026"),
            ("carry_over", "ja"),
            ("default_for", "wi2013"),
            ("notes", "Voorbeeld"),
        ]],
        Kind::Rules => &[&[
            ("position", "1"),
            ("name", "Taalonderwijs inburgering"),
            ("cost_centre", "6.1-INB-*"),
            ("gl_account", "4300-4399"),
            ("amount_sign", "beide"),
            ("stream", "SPUK"),
            ("budget_line", "Taalonderwijs B1"),
            ("budget_year", "2023"),
            ("contract", "via crediteur"),
        ]],
        Kind::Setup => &[],
        Kind::Inflow => &[
            &[("period", "2022-04"), ("group", "gezin"), ("count", "92")],
            &[("period", "2022-04"), ("group", "asiel azc"), ("count", "69")],
            &[("period", "2022-K2"), ("group", "wi2013"), ("count", "880")],
        ],
    }
}

/// Two ledger lines for a filled example: an invoice and a credit note.
fn sample_lines() -> Vec<LedgerLine> {
    let line = |day: u8, document: &str, invoice: &str, description: &str, cents: i64| LedgerLine {
        booking_date: time::Date::from_calendar_date(2023, time::Month::March, day).expect("a real date"),
        fiscal_year: Some(2023),
        period: Some(3),
        document: document.into(),
        line: "1".into(),
        gl_account: "4301".into(),
        cost_centre: "KP6100".into(),
        task_field: "6.1".into(),
        creditor_number: "100001".into(),
        creditor_name: "Taalschool Voorbeeld BV".into(),
        invoice_number: invoice.into(),
        description: description.into(),
        amount: crate::money::Money::from_cents(cents),
    };
    vec![
        line(15, "BS00001", "F2023-001", "Taalonderwijs B1-route, maart", 1_234_550),
        line(20, "BS00002", "C2023-001", "Creditnota taalonderwijs", -10_000),
    ]
}

/// The filled example as text, one string per template column in the template's order: what a user would type.
pub fn sample_rows(t: &CheckedTemplate) -> Vec<Vec<String>> {
    if t.template.kind == super::Kind::Ledger {
        return sample_lines()
            .iter()
            .map(|l| t.columns.iter().map(|c| field_text(t, t.fields[c.field].name, l)).collect())
            .collect();
    }
    sample(t.template.kind)
        .iter()
        .map(|row| {
            t.columns
                .iter()
                .map(|c| {
                    let name = t.fields[c.field].name;
                    row.iter().find(|(f, _)| *f == name).map(|(_, v)| v.to_string()).unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

/// A filled example in the template's file type (`csv` for a CSV template written to a .csv file).
pub fn filled(t: &CheckedTemplate, csv_out: bool) -> Result<Vec<u8>, String> {
    match (t.template.kind == super::Kind::Ledger, csv_out && t.is_csv()) {
        (true, true) => csv(t, &sample_lines()),
        (true, false) => workbook(t, &sample_lines()),
        (false, _) => workbook_text(t, &sample_rows(t)),
    }
}
