//! The extent of the sheets of an OpenDocument spreadsheet or an Excel 97-2003 workbook, measured by streaming
//! the file before calamine reads it. calamine builds a dense grid for .ods and .xls sheets (for .xls, of every
//! sheet, when it opens the file), so one filled cell far away (row 1,000,000, column 90) costs gigabytes while
//! the file is a few kB; such a file is refused here with a message that names the cell.

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

/// Refuses an .xls workbook with a sheet whose grid is mostly empty space: one filled cell far away, or a
/// DIMENSIONS record that declares a far larger sheet than its cells fill (calamine reserves room for the
/// declared area up front).
pub fn check_xls<R: Read + Seek>(file: R) -> Result<(), FileError> {
    let damaged = || FileError("het xls-bestand is beschadigd; sla het opnieuw op en probeer het opnieuw".into());
    let mut book = cfb::CompoundFile::open(file).map_err(|_| damaged())?;
    let name = ["/Workbook", "/Book"].into_iter().find(|n| book.is_stream(n)).ok_or_else(|| {
        FileError("dit Office-bestand bevat geen werkmap; is het een Word- of ander Office-document?".into())
    })?;
    let mut stream = BufReader::new(book.open_stream(name).map_err(|_| damaged())?);
    let (mut depth, mut sheets) = (0usize, 0usize);
    let mut names: Vec<String> = Vec::new();
    let mut sheet = XlsSheet::default();
    let mut header = [0u8; 4];
    let mut data = Vec::new();
    loop {
        match stream.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(_) => return Err(damaged()),
        }
        let typ = u16::from_le_bytes([header[0], header[1]]);
        let len = u16::from_le_bytes([header[2], header[3]]) as usize;
        data.resize(len, 0);
        if stream.read_exact(&mut data).is_err() {
            // A cut-off last record: calamine reports the damage itself.
            return Ok(());
        }
        let u16_at = |i: usize| data.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u64);
        match typ {
            // BOF: a sheet (or the workbook globals, or a chart inside a sheet, which calamine skips).
            0x0809 => {
                depth += 1;
                // The workbook globals (type 5) hold no cells; every other top-level part is a sheet.
                if depth == 1 && u16_at(2) != Some(0x0005) {
                    sheets += 1;
                    let name = names.get(sheets - 1).map(|n| format!("'{n}'")).unwrap_or_else(|| sheets.to_string());
                    sheet = XlsSheet { name, ..XlsSheet::default() };
                }
            }
            // EOF
            0x000A => {
                if depth == 1 {
                    sheet.check()?;
                }
                depth = depth.saturating_sub(1);
            }
            _ if depth != 1 => {}
            // BOUNDSHEET: a sheet's name (BIFF8: length, a flag for two-byte characters, the characters).
            0x0085 if len >= 8 => {
                let count = data[6] as usize;
                let name = if data[7] & 1 == 1 {
                    let units: Vec<u16> =
                        data[8..].chunks_exact(2).take(count).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                    String::from_utf16_lossy(&units)
                } else {
                    data[8..].iter().take(count).map(|&b| char::from(b)).collect()
                };
                names.push(name);
            }
            // DIMENSIONS: the first row and column, and the last ones plus one.
            0x0200 => {
                let (rows, cols) = match len {
                    10 => (u16_at(2).zip(u16_at(0)), u16_at(6).zip(u16_at(4))),
                    14 | 16 => {
                        let u32_at =
                            |i: usize| data.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64);
                        (u32_at(4).zip(u32_at(0)), u16_at(10).zip(u16_at(8)))
                    }
                    _ => (None, None),
                };
                if let (Some((row_end, row_start)), Some((col_end, col_start))) = (rows, cols) {
                    sheet.declared =
                        row_end.saturating_sub(row_start).saturating_mul(col_end.saturating_sub(col_start));
                }
            }
            // NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA: one cell at (row, column).
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                if let (Some(row), Some(col)) = (u16_at(0), u16_at(2)) {
                    sheet.filled(row, col, 1);
                }
            }
            // MULRK: a run of cells in one row; the last column closes the record.
            0x00BD if len >= 6 => {
                if let (Some(row), Some(first), Some(last)) = (u16_at(0), u16_at(2), u16_at(len - 2)) {
                    sheet.filled(row, last.max(first), last.saturating_sub(first) + 1);
                }
            }
            _ => {}
        }
    }
}

#[derive(Default)]
struct XlsSheet {
    /// 'Name' in quotes, or the sheet's number when the workbook does not name it.
    name: String,
    /// The area the DIMENSIONS record declares.
    declared: u64,
    last: Option<(u64, u64)>,
    filled: u64,
}

impl XlsSheet {
    fn filled(&mut self, row: u64, col: u64, cells: u64) {
        let (r, c) = self.last.unwrap_or((0, 0));
        self.last = Some((r.max(row), c.max(col)));
        self.filled = self.filled.saturating_add(cells);
    }

    fn check(&self) -> Result<(), FileError> {
        let sparse = |grid: u64| grid > FREE_CELLS && grid > self.filled.saturating_mul(MAX_SPARSENESS);
        if let Some((row, col)) = self.last {
            if sparse((row + 1).saturating_mul(col + 1)) {
                let letter = column_letter(u32::try_from(col).unwrap_or(u32::MAX));
                return Err(FileError(format!(
                    "werkblad {} loopt tot cel {letter}{} terwijl er maar {} cellen gevuld zijn; verwijder de losse \
                     cellen buiten de gegevens (of sla het bestand op als xlsx) en probeer het opnieuw",
                    self.name,
                    row + 1,
                    self.filled
                )));
            }
        }
        if sparse(self.declared) {
            return Err(FileError(format!(
                "werkblad {} geeft op dat het {} cellen beslaat, terwijl er maar {} gevuld zijn; het bestand lijkt \
                 gemanipuleerd. Sla het opnieuw op als xlsx en probeer het opnieuw",
                self.name, self.declared, self.filled
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod xls_tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }

    fn cell(typ: u16, row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0u8; 10]);
        record(typ, &d)
    }

    fn dimensions(rows: u32, cols: u16) -> Vec<u8> {
        let mut d = 0u32.to_le_bytes().to_vec();
        d.extend(rows.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d.extend(cols.to_le_bytes());
        d.extend([0u8; 2]);
        record(0x0200, &d)
    }

    /// A workbook: globals, then one sheet with `body`, in a compound file as Excel writes it.
    fn workbook(body: &[Vec<u8>]) -> std::io::Cursor<Vec<u8>> {
        let mut stream = record(0x0809, &[0, 6, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        stream.extend(record(0x000A, &[]));
        stream.extend(record(0x0809, &[0, 6, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        for r in body {
            stream.extend_from_slice(r);
        }
        stream.extend(record(0x000A, &[]));
        let mut book = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        book.create_stream("/Workbook").unwrap().write_all(&stream).unwrap();
        let mut bytes = book.into_inner();
        bytes.set_position(0);
        bytes
    }

    use std::io::Write;

    #[test]
    fn a_dense_sheet_passes_and_a_far_away_cell_or_a_false_dimension_is_refused() {
        let dense: Vec<Vec<u8>> =
            std::iter::once(dimensions(3000, 13)).chain((0..3000).map(|r| cell(0x0203, r, r % 13))).collect();
        assert!(check_xls(workbook(&dense)).is_ok());
        let far = check_xls(workbook(&[cell(0x0203, 0, 0), cell(0x0203, 65535, 255)])).unwrap_err();
        assert!(far.0.contains("werkblad 1 loopt tot cel IV65536") && far.0.contains("2 cellen gevuld"), "{}", far.0);
        let declared = check_xls(workbook(&[dimensions(65536, 256), cell(0x00FD, 0, 0)])).unwrap_err();
        assert!(declared.0.contains("16777216 cellen beslaat"), "{}", declared.0);
        let mut mulrk = 5u16.to_le_bytes().to_vec();
        mulrk.extend(0u16.to_le_bytes());
        mulrk.extend([0u8; 6]);
        mulrk.extend(300u16.to_le_bytes());
        assert!(check_xls(workbook(&[record(0x00BD, &mulrk)])).is_ok(), "a run of 301 cells in row 6 is dense");
    }
}
