//! The extent of the sheets of an OpenDocument spreadsheet, measured by streaming its content.xml before calamine
//! reads it. calamine builds a dense grid for .ods sheets, so one filled cell far away (row 1,000,000, column 90)
//! costs gigabytes while the file is a few kB; such a file is refused here with a message that names the cell.

use std::io::{BufReader, Read, Seek};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::source::FileError;
use super::template::column_letter;

/// A grid up to this many cells is read whatever its shape (about 64 MB in calamine's grid).
const FREE_CELLS: u64 = 2_000_000;
/// Beyond that, the grid may hold at most this many cells per filled cell.
const MAX_SPARSENESS: u64 = 8;

/// Refuses a sheet whose grid is mostly empty space around a far-away cell.
pub fn check_ods<R: Read + Seek>(file: R) -> Result<(), FileError> {
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|_| FileError("het ods-bestand is beschadigd; sla het opnieuw op en probeer het opnieuw".into()))?;
    let content = zip
        .by_name("content.xml")
        .map_err(|_| FileError("het ods-bestand mist zijn inhoud (content.xml); sla het opnieuw op".into()))?;
    let mut reader = Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut sheet = Sheet::default();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| FileError(format!("de inhoud van het ods-bestand is onleesbaar ({e}); sla het opnieuw op")))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "table" => {
                sheet = Sheet { name: attribute(&e, "name").unwrap_or_default(), ..Sheet::default() };
            }
            Event::Start(e) if e.local_name().into_inner() == "table-row" => sheet.start_row(&e),
            Event::Empty(e) if e.local_name().into_inner() == "table-row" => {
                sheet.start_row(&e);
                sheet.end_row();
            }
            Event::End(e) if e.local_name().into_inner() == "table-row" => sheet.end_row(),
            Event::Start(e) | Event::Empty(e)
                if matches!(e.local_name().into_inner(), "table-cell" | "covered-table-cell") =>
            {
                sheet.cell(&e)
            }
            Event::End(e) if e.local_name().into_inner() == "table" => sheet.check()?,
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

#[derive(Default)]
struct Sheet {
    name: String,
    row: u64,
    rows_repeated: u64,
    col: u64,
    /// Last filled row and column (0-based), and how many cells are filled.
    last: Option<(u64, u64)>,
    filled: u64,
}

impl Sheet {
    fn start_row(&mut self, e: &BytesStart) {
        self.rows_repeated = repeat(e, "number-rows-repeated");
        self.col = 0;
    }

    fn end_row(&mut self) {
        self.row = self.row.saturating_add(self.rows_repeated);
    }

    fn cell(&mut self, e: &BytesStart) {
        let cols = repeat(e, "number-columns-repeated");
        if attribute(e, "value-type").is_some() {
            let (row, col) = (self.row + self.rows_repeated - 1, self.col + cols - 1);
            let (r, c) = self.last.unwrap_or((0, 0));
            self.last = Some((r.max(row), c.max(col)));
            self.filled = self.filled.saturating_add(cols.saturating_mul(self.rows_repeated));
        }
        self.col = self.col.saturating_add(cols);
    }

    fn check(&self) -> Result<(), FileError> {
        let Some((row, col)) = self.last else { return Ok(()) };
        let grid = (row + 1).saturating_mul(col + 1);
        if grid > FREE_CELLS && grid > self.filled.saturating_mul(MAX_SPARSENESS) {
            let letter = column_letter(u32::try_from(col).unwrap_or(u32::MAX));
            return Err(FileError(format!(
                "het werkblad '{}' loopt tot cel {letter}{} terwijl er maar {} cellen gevuld zijn; verwijder de losse \
                 cellen buiten de gegevens (of sla het bestand op als xlsx) en probeer het opnieuw",
                self.name,
                row + 1,
                self.filled
            )));
        }
        Ok(())
    }
}

fn attribute(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.local_name().into_inner() == local).map(|a| a.value.into_owned())
}

/// A repeat count, at least 1; ODS caps rows at 1,048,576 and columns at 16,384, so larger values are clamped.
fn repeat(e: &BytesStart, local: &str) -> u64 {
    attribute(e, local).and_then(|v| v.parse::<u64>().ok()).unwrap_or(1).clamp(1, 1 << 20)
}
