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

/// A grid up to this many cells is read whatever its shape (about 25 MB in calamine's grids); a larger one
/// must be filled for at least one cell in [`MAX_SPARSENESS`].
const FREE_CELLS: u64 = 256 * 1024;
/// Beyond that, the grid may hold at most this many cells per filled cell.
const MAX_SPARSENESS: u64 = 8;
/// Bytes calamine holds per cell of an .ods grid: the value and the formula, and the copy of the value it hands
/// out.
const ODS_GRID_CELL: u64 = (2 * size_of::<calamine::Data>() + size_of::<String>()) as u64;
/// Bytes calamine holds per cell of an .xls grid: the value, the copy it hands out, and the allocator's slack
/// (measured: 99 bytes per cell of a 1,133,413-cell grid).
const XLS_GRID_CELL: u64 = 13 * size_of::<calamine::Data>() as u64 / 4;
/// The allocation of a cell's text (the smallest heap block is 32 bytes).
const TEXT_ALLOCATION: u64 = 32;
/// Bytes per filled .ods cell besides the grid: the row-by-row list calamine builds the grid from (a value and a
/// formula per cell, kept until the grid is complete) and its text, copied into every cell a repeat covers.
/// Measured: 152 bytes per cell for a dense sheet of short texts; estimated 88 + 88 + 12.
const ODS_FILLED_CELL: u64 = (size_of::<calamine::Data>() + size_of::<String>()) as u64 + TEXT_ALLOCATION;
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
/// declared area up front); a workbook whose stream, string table and grids together would make calamine hold
/// more than the budget (it reads the whole workbook stream, and every sheet, when it opens the file); and the
/// damage calamine does not survive (it indexes some records without checking their length). The records are
/// walked as calamine walks them: the workbook globals up to their end, then each sheet from where the sheet
/// list says it starts.
pub fn check_xls<R: Read + Seek>(file: R, budget: ReadBudget) -> Result<(), FileError> {
    let mut book = cfb::CompoundFile::open(file).map_err(|_| xls_damaged())?;
    let name = ["/Workbook", "/Book"].into_iter().find(|n| book.is_stream(n)).ok_or_else(|| {
        FileError("dit Office-bestand bevat geen werkmap; is het een Word- of ander Office-document?".into())
    })?;
    let mut stream = book.open_stream(name).map_err(|_| xls_damaged())?;
    if stream.len() > budget.bytes {
        return Err(budget.refuse("de werkmap", format!("is {} MB groot", mb(stream.len()))));
    }
    let mut bytes = Vec::with_capacity(stream.len() as usize);
    stream.read_to_end(&mut bytes).map_err(|_| xls_damaged())?;
    let mut held = Held::default();
    held.add(bytes.len() as u64, 0);

    let mut sheets: Vec<(usize, String)> = Vec::new();
    // The format version, as calamine takes it: from the last BOF of the globals.
    let mut biff8 = true;
    for record in Records(&bytes) {
        let Some(r) = record else { break };
        match r.typ {
            0x000A => break,
            0x0809 => {
                r.at_least(2)?;
                biff8 = is_biff8(r.data);
            }
            // FilePass, CodePage, DateMode, ExternSheet: calamine reads a number at the start.
            0x002F | 0x0042 | 0x0022 | 0x0017 => r.at_least(2)?,
            // BoundSheet8: where the sheet starts, its state and type, then its name.
            0x0085 => {
                r.at_least(6)?;
                let pos = u32::from_le_bytes([r.data[0], r.data[1], r.data[2], r.data[3]]) as usize;
                if pos > bytes.len() {
                    return Err(xls_damaged());
                }
                sheets.push((pos, sheet_name(&r.data[6..])));
            }
            // Lbl (a defined name): its name and formula lengths must fit the record.
            0x0018 => {
                r.at_least(14)?;
                let cce = u16::from_le_bytes([r.data[4], r.data[5]]) as usize;
                if cce > r.data.len() - 14 || name_overruns(&r.data[r.data.len() - cce..], biff8) {
                    return Err(xls_damaged());
                }
            }
            0x00FC => {
                let (strings, chars) = sst_size(&r)?;
                held.add(strings.saturating_mul(XLS_STRING).saturating_add(chars), 0);
                held.check(budget)?;
            }
            _ => {}
        }
    }
    for (i, (pos, name)) in sheets.into_iter().enumerate() {
        let name = if name.is_empty() { (i + 1).to_string() } else { format!("'{name}'") };
        let mut sheet = XlsSheet { name, ..XlsSheet::default() };
        // The sheet's own BOF, then nested parts (charts) between further BOF and EOF pairs, which calamine skips.
        let (mut seen_bof, mut depth) = (false, 0usize);
        for record in Records(&bytes[pos..]) {
            let Some(r) = record else { break };
            if depth > 0 {
                match r.typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let u16_at = |i: usize| r.data.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as u64);
            match r.typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x000A => break,
                // DIMENSIONS: the first row and column, and the last ones plus one.
                0x0200 => {
                    let (rows, cols) = match r.data.len() {
                        10 => (u16_at(2).zip(u16_at(0)), u16_at(6).zip(u16_at(4))),
                        14 | 16 => {
                            let u32_at = |i: usize| {
                                r.data.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
                            };
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
                    if r.typ == 0x0006 {
                        // calamine decodes the formula: its length (after 20 bytes of value) must fit, and
                        // so must each of its tokens.
                        let cce = u16_at(20).ok_or_else(xls_damaged)? as usize;
                        if 22 + cce > r.data.len() || formula_overruns(&r.data[22..22 + cce], biff8) {
                            return Err(xls_damaged());
                        }
                    }
                    if let (Some(row), Some(col)) = (u16_at(0), u16_at(2)) {
                        sheet.filled(row, col, 1);
                    }
                }
                // MULRK: a run of cells in one row; the last column closes the record.
                0x00BD if r.data.len() >= 6 => {
                    if let (Some(row), Some(first), Some(last)) = (u16_at(0), u16_at(2), u16_at(r.data.len() - 2)) {
                        sheet.filled(row, last.max(first), last.saturating_sub(first) + 1);
                    }
                }
                // MergeCells: a count, then eight bytes per merged area.
                0x00E5 => {
                    let count = u16_at(0).ok_or_else(xls_damaged)? as usize;
                    r.at_least(2 + 8 * count)?;
                }
                _ => {}
            }
        }
        sheet.check()?;
        held.add(sheet.held(), sheet.filled);
        held.check(budget)?;
    }
    Ok(())
}

/// Whether a BOF record announces BIFF8 (Excel 97 and later), as calamine decides it.
fn is_biff8(bof: &[u8]) -> bool {
    match u16::from_le_bytes([bof[0], bof[1]]) {
        0x0200 | 0x0002 | 0x0007 | 0x0300 | 0x0400 | 0x0500 => false,
        0 => bof.get(2..4) != Some(&[0x00, 0x10]),
        _ => true,
    }
}

/// Whether calamine's formula decoder (`parse_formula`) would read past the end of a cell formula's tokens:
/// it checks the length of few of them. The tokens are walked as it walks them, with its count of operands;
/// where it stops with an error of its own (an unknown token, too few operands) the walk stops too, as the
/// cell's value is read all the same. A function of fixed arity counts as taking none (calamine's table of
/// arities is private), which can only make the walk go on where calamine stopped.
fn formula_overruns(tokens: &[u8], biff8: bool) -> bool {
    let mut rest = tokens;
    let mut operands = 0usize;
    while let Some((&ptg, after)) = rest.split_first() {
        rest = after;
        let (width, pushes) = match ptg {
            0x01 if rest.len() < 4 => return false,
            0x01 => (4, true),
            0x03..=0x11 | 0x12 | 0x13 | 0x15 if operands == 0 => return false,
            0x03..=0x11 => {
                operands -= 1;
                (0, false)
            }
            0x12..=0x15 => (0, false),
            0x16 => (0, true),
            0x17 => {
                // A string: its length, then (BIFF8) a flags byte and the characters; calamine checks these.
                let Some(&chars) = rest.first() else { return false };
                let chars = chars as usize;
                let width = match rest.get(1) {
                    Some(flags) if biff8 => 2 + if flags & 1 == 1 { 2 * chars } else { chars },
                    None if biff8 => return false,
                    _ => 1 + chars,
                };
                if rest.len() < width {
                    return false;
                }
                (width, true)
            }
            0x18 => (5, false),
            0x19 => {
                let Some((&kind, after)) = rest.split_first() else { return true };
                rest = after;
                match kind {
                    0x01 | 0x02 | 0x08 | 0x20 | 0x21 => (2, false),
                    0x04 => match rest.get(..2) {
                        Some(n) => (2 + 2 * (u16::from_le_bytes([n[0], n[1]]) as usize + 1), false),
                        None => return true,
                    },
                    0x10 if rest.len() < 2 => return true,
                    0x10 if operands == 0 => return false,
                    0x10 => (2, false),
                    0x40 | 0x41 if operands == 0 => return false,
                    0x40 | 0x41 => match rest.first() {
                        Some(0..=6) => (2, false),
                        Some(_) => return false,
                        None => return true,
                    },
                    _ => return false,
                }
            }
            0x1C => match rest.first() {
                Some(0x00 | 0x07 | 0x0F | 0x17 | 0x1D | 0x24 | 0x2A | 0x2B) => (1, true),
                Some(_) => return false,
                None => return true,
            },
            0x1D => (1, true),
            0x1E => (2, true),
            0x1F => (8, true),
            0x20 | 0x40 | 0x60 => (7, true),
            0x21 | 0x41 | 0x61 => (2, true),
            // A function with its number of arguments: calamine reads all three bytes before it counts.
            0x22 | 0x42 | 0x62 if rest.len() < 3 => return true,
            0x22 | 0x42 | 0x62 => {
                let args = rest[0];
                if operands < args as usize {
                    return false;
                }
                operands -= args as usize;
                (3, true)
            }
            0x23 | 0x43 | 0x63 => (4, true),
            0x24 | 0x44 | 0x64 | 0x2A | 0x4A | 0x6A => (if biff8 { 4 } else { 3 }, true),
            0x25 | 0x45 | 0x65 | 0x2B | 0x4B | 0x6B => (if biff8 { 8 } else { 6 }, true),
            0x39 | 0x59 | 0x3A | 0x5A | 0x7A | 0x3C | 0x5C | 0x7C => (6, true),
            0x3B | 0x5B | 0x7B | 0x3D | 0x5D | 0x7D => (10, true),
            _ => return false,
        };
        let Some(after) = rest.get(width..) else { return true };
        rest = after;
        operands += usize::from(pushes);
    }
    false
}

/// Whether calamine's decoder of a defined name's formula (`parse_defined_names`, its first token only) would
/// read past its end.
fn name_overruns(tokens: &[u8], biff8: bool) -> bool {
    let needs = match tokens.first() {
        Some(0x3A | 0x5A | 0x7A) => {
            if biff8 {
                7
            } else {
                18
            }
        }
        Some(0x3B | 0x5B | 0x7B) => {
            if biff8 {
                11
            } else {
                21
            }
        }
        Some(0x3C | 0x5C | 0x7C | 0x3D | 0x5D | 0x7D) => {
            if biff8 {
                3
            } else {
                13
            }
        }
        _ => 0,
    };
    tokens.len() < needs
}

fn xls_damaged() -> FileError {
    FileError("het xls-bestand is beschadigd; sla het opnieuw op en probeer het opnieuw".into())
}

/// One record of a workbook stream, with the CONTINUE records after it, as calamine's record iterator gives it.
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
    cont: Vec<&'a [u8]>,
}

impl Record<'_> {
    fn at_least(&self, len: usize) -> Result<(), FileError> {
        if self.data.len() < len {
            return Err(xls_damaged());
        }
        Ok(())
    }
}

/// The records of a stream; None where calamine's iterator stops with an error (a record cut off), which
/// calamine reports itself.
struct Records<'a>(&'a [u8]);

impl<'a> Iterator for Records<'a> {
    type Item = Option<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let header = |s: &[u8]| -> Option<(u16, usize)> {
            let h = s.get(..4)?;
            Some((u16::from_le_bytes([h[0], h[1]]), u16::from_le_bytes([h[2], h[3]]) as usize))
        };
        let (typ, len) = match header(self.0) {
            Some(h) => h,
            None if self.0.is_empty() => return None,
            None => return Some(None),
        };
        let Some(data) = self.0.get(4..4 + len) else { return Some(None) };
        self.0 = &self.0[4 + len..];
        let mut cont = Vec::new();
        while let Some((0x003C, len)) = header(self.0).filter(|_| self.0.len() > 4) {
            let Some(part) = self.0.get(4..4 + len) else { return Some(None) };
            cont.push(part);
            self.0 = &self.0[4 + len..];
        }
        Some(Some(Record { typ, data, cont }))
    }
}

/// A sheet's name from its BoundSheet8 record (after position, state and type), for messages.
fn sheet_name(data: &[u8]) -> String {
    let Some((&count, rest)) = data.split_first() else { return String::new() };
    let Some((&flags, chars)) = rest.split_first() else { return String::new() };
    if flags & 1 == 1 {
        let units: Vec<u16> =
            chars.chunks_exact(2).take(count as usize).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        chars.iter().take(count as usize).map(|&b| char::from(b)).collect()
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
/// new flags byte; its formatting runs and extension may continue too, without one. A string whose header is
/// cut off, or whose characters continue in an empty record, is damage calamine would not survive.
fn sst_size(r: &Record) -> Result<(u64, u64), FileError> {
    let mut records = r.cont.iter().copied();
    let mut data = r.data.get(8..).unwrap_or(&[]);
    let (mut strings, mut chars) = (0u64, 0u64);
    loop {
        if data.is_empty() {
            match records.next() {
                Some(next) => {
                    data = next;
                    continue;
                }
                None => return Ok((strings, chars)),
            }
        }
        if data.len() < 3 {
            // calamine stops with an error of its own here.
            return Ok((strings, chars));
        }
        let mut left = u16::from_le_bytes([data[0], data[1]]) as u64;
        let flags = data[2];
        data = &data[3..];
        let mut skip = 0u64;
        for (flag, width) in [(0x8, 2usize), (0x4, 4)] {
            if flags & flag != 0 {
                let field = data.get(..width).ok_or_else(xls_damaged)?;
                skip += if width == 2 {
                    u16::from_le_bytes([field[0], field[1]]) as u64 * 4
                } else {
                    // calamine reads a signed length; a negative one stops it with an error of its own.
                    i32::from_le_bytes([field[0], field[1], field[2], field[3]]).max(0) as u64
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
                    Some([]) => return Err(xls_damaged()),
                    Some(next) => {
                        wide = next[0] & 1 != 0;
                        data = &next[1..];
                    }
                    None => return Ok((strings, chars)),
                }
            }
        }
        while skip > 0 {
            if data.is_empty() {
                match records.next() {
                    Some(next) => data = next,
                    None => return Ok((strings, chars)),
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
        workbook_with(&[], body)
    }

    /// A workbook whose globals hold `globals` besides the BOF, the sheet list and the EOF.
    fn workbook_with(globals: &[Vec<u8>], body: &[Vec<u8>]) -> std::io::Cursor<Vec<u8>> {
        let mut stream = record(0x0809, &[0, 6, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        stream.extend(globals.concat());
        // The sheet list: one sheet without a name, starting after this record and the globals' EOF.
        let starts = (stream.len() + 12 + 4) as u32;
        let mut boundsheet = starts.to_le_bytes().to_vec();
        boundsheet.extend([0, 0, 0, 0]);
        stream.extend(record(0x0085, &boundsheet));
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
        let sst = |data: &[u8], cont: &[&[u8]]| sst_size(&Record { typ: 0x00FC, data, cont: cont.to_vec() });
        assert_eq!(sst(&first, &[&second, &third]), Ok((3, 6 + 3 + 6 + 4)));
        // Damage calamine would panic on: a run count cut off, characters continuing in an empty record.
        let mut cut = vec![0u8; 8];
        cut.extend([1, 0, 0x8, 5]);
        assert!(sst(&cut, &[]).is_err());
        let mut cut = vec![0u8; 8];
        cut.extend([4, 0, 0, b'a']);
        assert!(sst(&cut, &[&[]]).is_err());
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

    /// Damage the mutation test (tests/import_mutants.rs) found: records calamine indexes without checking their
    /// length, so it panics on them when it opens the file. Each is refused before calamine sees it; the test
    /// also shows calamine still panics, so the check is still needed.
    #[test]
    fn records_too_short_for_what_they_announce_are_refused_before_calamine_panics_on_them() {
        // A defined name (Lbl) with an empty name announcing a 100-byte formula in a 15-byte record.
        let mut lbl = vec![0u8; 15];
        lbl[4..6].copy_from_slice(&100u16.to_le_bytes());
        // A formula cell announcing 50 bytes of formula after its 22 bytes.
        let mut formula = vec![0u8; 22];
        formula[20..22].copy_from_slice(&50u16.to_le_bytes());
        // Merged areas: 3 announced, none there.
        let merge = 3u16.to_le_bytes().to_vec();
        // A defined name whose formula is a reference to another sheet cut after 3 of its 7 bytes.
        let mut name_cut = vec![0u8; 15];
        name_cut[4..6].copy_from_slice(&3u16.to_le_bytes());
        name_cut.extend([0x3A, 0, 0]);
        let cases = [
            ("Lbl", workbook_with(&[record(0x0018, &lbl)], &[])),
            ("Lbl token", workbook_with(&[record(0x0018, &name_cut)], &[])),
            ("CodePage", workbook_with(&[record(0x0042, &[])], &[])),
            ("Formula", workbook(&[record(0x0006, &formula)])),
            // =5+A? : the cell reference cut after one of its four bytes.
            ("Formula token", workbook(&[formula_cell(&[0x1E, 5, 0, 0x24, 0])])),
            // =SUM(5) by the attribute token, cut before its operand.
            ("Formula attribute", workbook(&[formula_cell(&[0x1E, 5, 0, 0x19, 0x10, 0])])),
            ("MergeCells", workbook(&[record(0x00E5, &merge)])),
        ];
        for (what, file) in cases {
            let refused = check_xls(file.clone(), ReadBudget::DEFAULT).unwrap_err();
            assert_eq!(refused, xls_damaged(), "{what}");
            assert!(calamine_panics(file), "{what}: calamine no longer panics; the check may go");
        }
        // What calamine survives passes: =5+7, and a formula it stops decoding with an error of its own (an
        // operator without operands, then a cut reference it never reaches); the cell's value is read.
        for (what, tokens) in [("5+7", &[0x1E, 5, 0, 0x1E, 7, 0, 0x03][..]), ("+A?", &[0x03, 0x24, 0])] {
            let file = workbook(&[formula_cell(tokens)]);
            assert_eq!(check_xls(file.clone(), ReadBudget::DEFAULT), Ok(()), "{what}");
            assert!(!calamine_panics(file), "{what}");
        }
    }

    /// A formula cell in A1 with these tokens and the value 0.
    fn formula_cell(tokens: &[u8]) -> Vec<u8> {
        let mut data = vec![0u8; 20];
        data.extend((tokens.len() as u16).to_le_bytes());
        data.extend(tokens);
        record(0x0006, &data)
    }

    /// Whether calamine panics opening the workbook (it reads every sheet then).
    fn calamine_panics(file: std::io::Cursor<Vec<u8>>) -> bool {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            use calamine::Reader;
            calamine::Xls::new(file).map(|mut book: calamine::Xls<_>| {
                book.sheet_names().iter().for_each(|n| drop(book.worksheet_range(n)));
            })
        }))
        .is_err()
    }
}
