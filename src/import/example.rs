//! Ready-to-fill example files for a template: the layout it reads (title block, header row, optional lines) plus
//! a sheet that explains each column. Tests fill them with lines to prove every template round-trips.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::ledger::LedgerLine;
use super::template::{column_index, CheckedTemplate, HeaderRow, SheetRef, SignConvention};
use super::FieldType;
use crate::domain::dates;
use crate::report::safe_csv::{Cell, CsvWriter};

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
    let ws = wb.add_worksheet().set_name("Toelichting").map_err(xlsx_err)?;
    for (i, h) in ["Kolom", "Veld", "Kolom verplicht", "Uitleg", "Notatie"].iter().enumerate() {
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
        ws.write_string(r, 2, if c.column.required { "ja" } else { "nee" }).map_err(xlsx_err)?;
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
