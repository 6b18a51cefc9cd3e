//! The extent of the sheets of an OpenDocument spreadsheet or an Excel 97-2003 workbook, measured by streaming
//! the file before calamine reads it. calamine builds a dense grid of every sheet of an .ods or .xls file when
//! it opens it, so one filled cell far away (row 1,000,000, column 90) costs gigabytes while the file is a few
//! kB; such a file is refused here with a message that names the cell. The same pass adds up what calamine
//! would hold of the whole file (grids, cell texts, the .xls string table) against the read budget.

use std::io::{BufReader, Read, Seek};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::budget::{mb, scan_xml, thousands, ReadBudget};
use super::source::FileError;
use super::template::column_letter;

/// A grid up to this many cells is read whatever its shape (about 64 MB in calamine's grid).
const FREE_CELLS: u64 = 2_000_000;
/// Beyond that, the grid may hold at most this many cells per filled cell.
const MAX_SPARSENESS: u64 = 8;
/// Bytes calamine holds per cell of an .ods grid: the value and the formula.
const ODS_GRID_CELL: u64 = (size_of::<calamine::Data>() + size_of::<String>()) as u64;
/// Bytes calamine holds per cell of an .xls grid: the value.
const XLS_GRID_CELL: u64 = size_of::<calamine::Data>() as u64;
/// The allocation of a cell's text (the smallest heap block is 32 bytes).
const TEXT_ALLOCATION: u64 = 32;
/// Bytes per filled .ods cell besides the grid: the row-by-row list calamine builds the grid from (a value and a
/// formula per cell, kept until the grid is complete) and its text, copied into every cell a repeat covers.
/// Measured: 152 bytes per cell for a dense sheet of short texts, 56 + 88 + 12 here.
const ODS_FILLED_CELL: u64 = ODS_GRID_CELL + TEXT_ALLOCATION;
/// Bytes per filled .xls cell besides the grid: its place (with row and column) in the list calamine builds the
/// grid from, and its text (a string-table cell gets a copy of its string).
const XLS_FILLED_CELL: u64 = (size_of::<calamine::Cell<calamine::Data>>() as u64) + TEXT_ALLOCATION;
/// Bytes per string of an .xls string table besides its characters: the `String` and its allocation.
const XLS_STRING: u64 = size_of::<String>() as u64 + TEXT_ALLOCATION;

/// What calamine would hold for all sheets of a file: it keeps every sheet's grid.
#[derive(Default)]
struct Held {
    bytes: u64,
    filled: u64,
    /// Whether a filled cell may stand for many (an .ods cell with a repeat count).
    repeats: bool,
}

impl Held {
    fn add(&mut self, bytes: u64, filled: u64) {
        self.bytes = self.bytes.saturating_add(bytes);
        self.filled = self.filled.saturating_add(filled);
    }

    fn check(&self, budget: ReadBudget) -> Result<(), FileError> {
        if self.bytes > budget.bytes {
            return Err(budget.refuse(
                "de werkbladen",
                format!(
                    "vragen bij het inlezen samen ongeveer {} MB geheugen ({} gevulde cellen{})",
                    mb(self.bytes),
                    thousands(self.filled),
                    if self.repeats { ", herhaalde cellen meegeteld" } else { "" }
                ),
            ));
        }
        Ok(())
    }
}

/// Refuses a sheet whose grid is mostly empty space around a far-away cell, and a file whose sheets together
/// would make calamine hold more than the budget.
pub fn check_ods<R: Read + Seek>(file: R, budget: ReadBudget) -> Result<(), FileError> {
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|_| FileError("het ods-bestand is beschadigd; sla het opnieuw op en probeer het opnieuw".into()))?;
    // calamine parses the manifest and the content with an XML reader that buffers each event whole.
    for name in ["META-INF/manifest.xml", "content.xml"] {
        let Ok(part) = zip.by_name(name) else { continue };
        scan_xml(part, &[], None, &format!("het onderdeel {name} van het ods-bestand"))?;
    }
    let content = zip
        .by_name("content.xml")
        .map_err(|_| FileError("het ods-bestand mist zijn inhoud (content.xml); sla het opnieuw op".into()))?;
    let mut reader = Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut sheet = Sheet::default();
    let mut held = Held { repeats: true, ..Held::default() };
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
            Event::End(e) if matches!(e.local_name().into_inner(), "table-cell" | "covered-table-cell") => {
                sheet.copies = 0;
            }
            // A repeated cell's text is copied into every cell it repeats over.
            Event::Text(t) => sheet.text = sheet.text.saturating_add((t.len() as u64).saturating_mul(sheet.copies)),
            Event::End(e) if e.local_name().into_inner() == "table" => {
                sheet.check()?;
                held.add(sheet.held(), sheet.filled);
                held.check(budget)?;
            }
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
    /// How many cells the cell being read fills (0 outside a filled cell), and the text they hold together.
    copies: u64,
    text: u64,
}

impl Sheet {
    /// What calamine holds for this sheet: its grid, a text allocation per filled cell, the texts.
    fn held(&self) -> u64 {
        let grid = self.last.map_or(0, |(row, col)| (row + 1).saturating_mul(col + 1));
        grid.saturating_mul(ODS_GRID_CELL)
            .saturating_add(self.filled.saturating_mul(ODS_FILLED_CELL))
            .saturating_add(self.text)
    }

    fn start_row(&mut self, e: &BytesStart) {
        self.rows_repeated = repeat(e, "number-rows-repeated");
        self.col = 0;
    }

    fn end_row(&mut self) {
        self.row = self.row.saturating_add(self.rows_repeated);
    }

    fn cell(&mut self, e: &BytesStart) {
        let cols = repeat(e, "number-columns-repeated");
        self.copies = 0;
        if attribute(e, "value-type").is_some() {
            let (row, col) = (self.row + self.rows_repeated - 1, self.col + cols - 1);
            let (r, c) = self.last.unwrap_or((0, 0));
            self.last = Some((r.max(row), c.max(col)));
            self.copies = cols.saturating_mul(self.rows_repeated);
            self.filled = self.filled.saturating_add(self.copies);
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
/// declared area up front); and a workbook whose stream, string table and grids together would make calamine
/// hold more than the budget (it reads the whole workbook stream, and every sheet, when it opens the file).
pub fn check_xls<R: Read + Seek>(file: R, budget: ReadBudget) -> Result<(), FileError> {
    let damaged = || FileError("het xls-bestand is beschadigd; sla het opnieuw op en probeer het opnieuw".into());
    let mut book = cfb::CompoundFile::open(file).map_err(|_| damaged())?;
    let name = ["/Workbook", "/Book"].into_iter().find(|n| book.is_stream(n)).ok_or_else(|| {
        FileError("dit Office-bestand bevat geen werkmap; is het een Word- of ander Office-document?".into())
    })?;
    let stream = book.open_stream(name).map_err(|_| damaged())?;
    let mut held = Held::default();
    held.add(stream.len(), 0);
    if stream.len() > budget.bytes {
        return Err(budget.refuse("de werkmap", format!("is {} MB groot", mb(stream.len()))));
    }
    let mut stream = BufReader::new(stream);
    let (mut depth, mut sheets) = (0usize, 0usize);
    let mut names: Vec<String> = Vec::new();
    let mut sheet = XlsSheet::default();
    let mut header = [0u8; 4];
    let mut data = Vec::new();
    // The string table: its record and the CONTINUE records after it, measured once complete.
    let mut sst: Option<Vec<Vec<u8>>> = None;
    loop {
        let complete = match stream.read_exact(&mut header) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
            Err(_) => return Err(damaged()),
        };
        let typ = u16::from_le_bytes([header[0], header[1]]);
        let len = u16::from_le_bytes([header[2], header[3]]) as usize;
        data.resize(len, 0);
        // A cut-off last record ends the walk: calamine reports the damage itself.
        let complete = complete && stream.read_exact(&mut data).is_ok();
        if let Some(parts) = &mut sst {
            if complete && typ == 0x003C {
                parts.push(data.clone());
                continue;
            }
            let (strings, chars) = sst_size(parts);
            held.add(strings.saturating_mul(XLS_STRING).saturating_add(chars), 0);
            held.check(budget)?;
            sst = None;
        }
        if !complete {
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
                    held.add(sheet.held(), sheet.filled);
                    held.check(budget)?;
                }
                depth = depth.saturating_sub(1);
            }
            _ if depth != 1 => {}
            // SST: the shared string table of the workbook globals.
            0x00FC if sheets == 0 => sst = Some(vec![data.clone()]),
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
    /// What calamine holds for this sheet: its grid and, while building it, the list of its cells.
    fn held(&self) -> u64 {
        let grid = self.last.map_or(0, |(row, col)| (row + 1).saturating_mul(col + 1));
        grid.saturating_mul(XLS_GRID_CELL).saturating_add(self.filled.saturating_mul(XLS_FILLED_CELL))
    }

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

/// The strings of an .xls string table and the bytes of their characters as UTF-8, walked as calamine reads
/// them (`parse_sst`): a string's characters may continue in the next CONTINUE record, which then starts with a
/// new flags byte; its formatting runs and extension may continue too, without one.
fn sst_size(parts: &[Vec<u8>]) -> (u64, u64) {
    let mut records = parts.iter().map(Vec::as_slice);
    let mut data = records.next().map(|d| d.get(8..).unwrap_or(&[])).unwrap_or(&[]);
    let (mut strings, mut chars) = (0u64, 0u64);
    loop {
        if data.is_empty() {
            match records.next() {
                Some(next) => {
                    data = next;
                    continue;
                }
                None => return (strings, chars),
            }
        }
        if data.len() < 3 {
            return (strings, chars);
        }
        let mut left = u16::from_le_bytes([data[0], data[1]]) as u64;
        let flags = data[2];
        data = &data[3..];
        let mut skip = 0u64;
        for (flag, width) in [(0x8, 2usize), (0x4, 4)] {
            if flags & flag != 0 {
                let Some(field) = data.get(..width) else { return (strings, chars) };
                skip += if width == 2 {
                    u16::from_le_bytes([field[0], field[1]]) as u64 * 4
                } else {
                    u32::from_le_bytes([field[0], field[1], field[2], field[3]]) as u64
                };
                data = &data[width..];
            }
        }
        strings += 1;
        let mut wide = flags & 1 != 0;
        while left > 0 {
            let width = if wide { 2 } else { 1 };
            let here = (data.len() as u64 / width).min(left);
            // A character is at most three bytes in UTF-8 (BIFF8 text is UTF-16 or Latin-1).
            chars += here * if wide { 3 } else { 2 };
            left -= here;
            data = &data[(here * width) as usize..];
            if left > 0 {
                match records.next() {
                    Some(next) if !next.is_empty() => {
                        wide = next[0] & 1 != 0;
                        data = &next[1..];
                    }
                    _ => return (strings, chars),
                }
            }
        }
        while skip > 0 {
            if data.is_empty() {
                match records.next() {
                    Some(next) => data = next,
                    None => return (strings, chars),
                }
            }
            let here = (data.len() as u64).min(skip);
            data = &data[here as usize..];
            skip -= here;
        }
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
    fn the_string_table_is_walked_across_continue_records_as_calamine_reads_it() {
        let mut first = vec![0u8; 8];
        first.extend([3, 0, 0]);
        first.extend(b"abc");
        // Four characters, two bytes each; only the first fits in this record.
        first.extend([4, 0, 1, b'd', 0]);
        // The rest continues with a flags byte of its own (one byte per character now), then a string with one
        // formatting run whose four bytes continue in the next record, without a flags byte.
        let mut second = vec![0u8];
        second.extend(b"xyz");
        second.extend([2, 0, 0x8, 1, 0]);
        second.extend(b"hi");
        let third = vec![0u8; 4];
        // Characters as UTF-8 at most: three per two-byte character, two per one-byte one.
        assert_eq!(sst_size(&[first, second, third]), (3, 6 + 3 + 6 + 4));
    }

    #[test]
    fn a_dense_sheet_passes_and_a_far_away_cell_or_a_false_dimension_is_refused() {
        let dense: Vec<Vec<u8>> =
            std::iter::once(dimensions(3000, 13)).chain((0..3000).map(|r| cell(0x0203, r, r % 13))).collect();
        let budget = ReadBudget::DEFAULT;
        assert!(check_xls(workbook(&dense), budget).is_ok());
        let far = check_xls(workbook(&[cell(0x0203, 0, 0), cell(0x0203, 65535, 255)]), budget).unwrap_err();
        assert!(far.0.contains("werkblad 1 loopt tot cel IV65536") && far.0.contains("2 cellen gevuld"), "{}", far.0);
        let declared = check_xls(workbook(&[dimensions(65536, 256), cell(0x00FD, 0, 0)]), budget).unwrap_err();
        assert!(declared.0.contains("16777216 cellen beslaat"), "{}", declared.0);
        let mut mulrk = 5u16.to_le_bytes().to_vec();
        mulrk.extend(0u16.to_le_bytes());
        mulrk.extend([0u8; 6]);
        mulrk.extend(300u16.to_le_bytes());
        assert!(check_xls(workbook(&[record(0x00BD, &mulrk)]), budget).is_ok(), "a run of 301 cells in row 6 is dense");
    }
}
