//! The rejected rows of an import as an xlsx: the original header and cells, plus a column saying what is wrong.

use rust_xlsxwriter::{Format, Workbook};

use super::engine::RejectedRow;
use super::source::{RawRow, RawValue};

/// Builds the download. Cells keep their original position; the error column comes after the last one.
pub fn workbook(header: Option<&RawRow>, rows: &[RejectedRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet().set_name("Afgewezen regels")?;
    let last = header
        .into_iter()
        .chain(rows.iter().map(|r| &r.row))
        .flat_map(|r| r.cells.iter().map(|(c, _)| *c))
        .max()
        .unwrap_or(0)
        .min(16_000) as u16;
    let error_col = last + 1;
    let row_col = last + 2;
    if let Some(h) = header {
        for (c, v) in &h.cells {
            if *c <= 16_000 {
                ws.write_string_with_format(0, *c as u16, fit(v.display()), &bold)?;
            }
        }
    }
    ws.write_string_with_format(0, error_col, "Fout", &bold)?;
    ws.write_string_with_format(0, row_col, "Rij in bestand", &bold)?;
    for (i, r) in rows.iter().enumerate() {
        let out = i as u32 + 1;
        for (c, v) in &r.row.cells {
            if *c > 16_000 {
                continue;
            }
            match v {
                RawValue::Number(f) => ws.write_number(out, *c as u16, *f)?,
                RawValue::Int(n) => ws.write_number(out, *c as u16, *n as f64)?,
                other => ws.write_string(out, *c as u16, fit(other.display()))?,
            };
        }
        ws.write_string(out, error_col, fit(r.messages.join("; ")))?;
        ws.write_number(out, row_col, r.row.number as f64)?;
    }
    wb.save_to_buffer()
}

/// Excel cells hold at most 32,767 characters.
fn fit(text: String) -> String {
    if text.chars().count() > 32_000 {
        text.chars().take(32_000).collect()
    } else {
        text
    }
}
