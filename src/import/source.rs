//! Reading a file into rows of raw cells: recognises the type from the content, guards against zip bombs and
//! streams xlsx sheets cell by cell so a stray far-away cell never allocates a dense range.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{Data, DataRef, ExcelDateTime, Ods, Reader, Xls, Xlsx};
use compact_str::CompactString;

pub use super::budget::ReadBudget;
use super::template::{CheckedTemplate, Encoding, FileType, SheetRef};

/// Largest uncompressed size of one zip entry, and of all entries together. A million-row ledger sheet is
/// about 250 MB of XML; a zip bomb declares far more.
const MAX_ENTRY_BYTES: u64 = 1 << 30;
const MAX_TOTAL_BYTES: u64 = 2 << 30;
/// Real spreadsheets compress about 5 to 20 times; beyond this ratio on a large entry it is a bomb.
const MAX_RATIO: u64 = 200;
/// Cells longer than Excel's own limit are cut here, so a malicious cell cannot hold the whole file.
pub const MAX_CELL_CHARS: usize = 32_767;

/// A cell value as read, before any template rule applies. Only the reader holds f64s.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    /// Inline up to 24 bytes: most ledger cells (codes, numbers, names) then cost the reader no allocation,
    /// and the reader thread is the import's critical path (benches/import.rs).
    Text(CompactString),
    Number(f64),
    Int(i64),
    /// A number cell formatted as a date.
    Date(ExcelDateTime),
    /// An ISO date(-time) text from an OpenDocument date cell.
    DateIso(String),
    Bool(bool),
    /// A formula error such as `#REF!`.
    Error(String),
}

impl RawValue {
    /// Bytes of text the value holds (0 for numbers), for memory budgets.
    pub fn text_len(&self) -> usize {
        match self {
            RawValue::Text(s) => s.len(),
            RawValue::DateIso(s) | RawValue::Error(s) => s.len(),
            _ => 0,
        }
    }

    /// The cell as a person would read it, for error messages and the rejected-rows download.
    pub fn display(&self) -> String {
        match self {
            RawValue::Text(s) => s.to_string(),
            RawValue::Number(f) => number_text(*f),
            RawValue::Int(i) => i.to_string(),
            RawValue::Date(d) => {
                let (y, m, day, ..) = d.to_ymd_hms_milli();
                format!("{day:02}-{m:02}-{y}")
            }
            RawValue::DateIso(s) => s.clone(),
            RawValue::Bool(b) => if *b { "WAAR" } else { "ONWAAR" }.to_string(),
            RawValue::Error(e) => e.clone(),
        }
    }
}

/// A number as text without a spurious `.0`: codes like 4301 arrive as floats.
pub fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        // Without the formatting machinery: line and creditor numbers pass through here for every row.
        itoa::Buffer::new().format(f as i64).to_string()
    } else {
        format!("{f}")
    }
}

/// One non-blank row: its number as the spreadsheet shows it, and its filled cells by 0-based column.
#[derive(Clone, Debug, Default)]
pub struct RawRow {
    pub number: u32,
    pub cells: Vec<(u32, RawValue)>,
}

impl RawRow {
    pub fn get(&self, col: u32) -> Option<&RawValue> {
        self.cells.iter().find(|(c, _)| *c == col).map(|(_, v)| v)
    }
}

/// What a file is, recognised from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Xlsx,
    Xlsm,
    Xls,
    Ods,
    Text,
}

impl Detected {
    pub fn label(self) -> &'static str {
        match self {
            Detected::Xlsx => FileType::Xlsx.label(),
            Detected::Xlsm => FileType::Xlsm.label(),
            Detected::Xls => FileType::Xls.label(),
            Detected::Ods => FileType::Ods.label(),
            Detected::Text => FileType::Csv.label(),
        }
    }

    fn file_type(self) -> FileType {
        match self {
            Detected::Xlsx => FileType::Xlsx,
            Detected::Xlsm => FileType::Xlsm,
            Detected::Xls => FileType::Xls,
            Detected::Ods => FileType::Ods,
            Detected::Text => FileType::Csv,
        }
    }
}

/// A file-level problem: the file cannot be read as the template expects. Dutch, says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, FileError> {
    Err(FileError(msg.into()))
}

/// Recognises the file type from its first bytes and, for zips, their entries; refuses bombs and encrypted files.
pub fn detect(path: &Path) -> Result<Detected, FileError> {
    let mut f = File::open(path).map_err(|e| FileError(format!("kan het bestand niet openen: {e}")))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return fail("het bestand is leeg (0 bytes)");
    }
    let mut head = vec![0u8; 8192.min(len as usize)];
    f.read_exact(&mut head).map_err(|e| FileError(format!("kan het bestand niet lezen: {e}")))?;
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        f.seek(SeekFrom::Start(0)).ok();
        return detect_zip(f);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        let mut all = Vec::new();
        f.seek(SeekFrom::Start(0)).ok();
        f.take(64 << 20).read_to_end(&mut all).ok();
        let marker: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
        if all.windows(marker.len()).any(|w| w == marker.as_slice()) {
            return fail(
                "de werkmap is beveiligd met een wachtwoord; sla haar zonder wachtwoord op en probeer het opnieuw",
            );
        }
        return Ok(Detected::Xls);
    }
    for (magic, what) in [
        (&b"%PDF"[..], "een PDF-document"),
        (&b"\x89PNG"[..], "een afbeelding (PNG)"),
        (&b"\xFF\xD8\xFF"[..], "een afbeelding (JPEG)"),
        (&b"GIF8"[..], "een afbeelding (GIF)"),
        (&b"\x1F\x8B"[..], "een gzip-archief"),
    ] {
        if head.starts_with(magic) {
            return fail(format!("dit is {what}, geen spreadsheet of CSV-bestand"));
        }
    }
    let binary = head.iter().any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)));
    if binary {
        return fail("dit bestand is geen spreadsheet en geen tekst (CSV); het is een onbekend binair formaat");
    }
    Ok(Detected::Text)
}

fn detect_zip(f: File) -> Result<Detected, FileError> {
    let mut zip = zip::ZipArchive::new(BufReader::new(f)).map_err(|_| {
        FileError(
            "het zip-bestand is beschadigd of onvolledig; sla de werkmap opnieuw op en probeer het opnieuw".into(),
        )
    })?;
    let mut total: u64 = 0;
    let (mut workbook, mut binary_workbook, mut macros, mut ods) = (false, false, false, false);
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| FileError("het zip-bestand is beschadigd".into()))?;
        if entry.encrypted() {
            return fail(
                "de werkmap is beveiligd met een wachtwoord; sla haar zonder wachtwoord op en probeer het opnieuw",
            );
        }
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let size = entry.size();
        let packed = entry.compressed_size().max(1);
        total = total.saturating_add(size);
        if size > MAX_ENTRY_BYTES || total > MAX_TOTAL_BYTES || (size > (16 << 20) && size / packed > MAX_RATIO) {
            return fail(format!(
                "het bestand pakt uit tot een onredelijke omvang ({} MB in '{}'); dit lijkt een zip-bom en wordt niet gelezen",
                size >> 20,
                name
            ));
        }
        match name.as_str() {
            "xl/workbook.xml" => workbook = true,
            "xl/workbook.bin" => binary_workbook = true,
            "xl/vbaProject.bin" => macros = true,
            "content.xml" => ods = true,
            _ => {}
        }
    }
    match () {
        _ if workbook && macros => Ok(Detected::Xlsm),
        _ if workbook => Ok(Detected::Xlsx),
        _ if binary_workbook => fail("dit is een binaire Excel-werkmap (xlsb); sla haar op als .xlsx"),
        _ if ods => Ok(Detected::Ods),
        _ => fail("dit is een zip-archief, geen werkmap (xlsx of ods)"),
    }
}

/// Checks the recognised type against the template, with a message that names both.
pub fn check_type(detected: Detected, template: &CheckedTemplate, file_name: &str) -> Result<(), FileError> {
    if template.template.file_types.contains(&detected.file_type()) {
        return Ok(());
    }
    let ext = Path::new(file_name).extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    let renamed = if !ext.is_empty() && ext != format!("{:?}", detected.file_type()).to_lowercase() {
        format!(" (de naam eindigt op .{ext}, maar de inhoud telt)")
    } else {
        String::new()
    };
    let expected: Vec<&str> = template.template.file_types.iter().map(|t| t.label()).collect();
    let hint = if detected == Detected::Text {
        "; kies een CSV-sjabloon"
    } else if template.is_csv() {
        "; kies een sjabloon voor werkmappen"
    } else {
        ""
    };
    fail(format!(
        "dit bestand is een {}{renamed}, maar sjabloon {} verwacht: {}{hint}",
        detected.label(),
        template.name(),
        expected.join(" of ")
    ))
}

/// An opened file, positioned on the sheet the template names, ready to stream its rows.
pub enum Source {
    Xlsx { book: Box<Xlsx<BufReader<File>>>, sheet: String },
    Range { range: calamine::Range<Data>, sheet: String },
    Csv { file: File, delimiter: u8, encoding: Encoding, sheet: String, max_record: u64 },
}

fn pick_sheet(names: &[String], wanted: Option<&SheetRef>) -> Result<String, FileError> {
    match wanted {
        None | Some(SheetRef::Position(1)) if !names.is_empty() => Ok(names[0].clone()),
        Some(SheetRef::Position(n)) if *n >= 1 && *n <= names.len() => Ok(names[n - 1].clone()),
        Some(SheetRef::Name(name)) => {
            names.iter().find(|n| n.trim().eq_ignore_ascii_case(name.trim())).cloned().ok_or_else(|| {
                FileError(format!("werkblad '{name}' bestaat niet; de werkmap heeft: {}", names.join(", ")))
            })
        }
        Some(SheetRef::Position(n)) => {
            fail(format!("werkblad {n} bestaat niet; de werkmap heeft {} werkblad(en)", names.len()))
        }
        None => fail("de werkmap heeft geen werkbladen"),
    }
}

fn open_error(e: impl std::fmt::Display) -> FileError {
    let text = e.to_string();
    if text.contains("password") {
        return FileError(
            "de werkmap is beveiligd met een wachtwoord; sla haar zonder wachtwoord op en probeer het opnieuw".into(),
        );
    }
    FileError(format!("de werkmap is beschadigd of onleesbaar ({text}); sla haar opnieuw op en probeer het opnieuw"))
}

impl Source {
    /// Opens the file for streaming once it is known to fit `budget`: what calamine would hold of it is measured
    /// first (see [`super::budget`] and [`super::extent`]).
    pub fn open(
        path: &Path,
        detected: Detected,
        template: &CheckedTemplate,
        file_name: &str,
        budget: ReadBudget,
    ) -> Result<Source, FileError> {
        let file = File::open(path).map_err(|e| FileError(format!("kan het bestand niet openen: {e}")))?;
        let wanted = template.template.sheet.as_ref();
        let rewind = |file: &mut File| {
            file.seek(SeekFrom::Start(0)).map(|_| ()).map_err(|e| FileError(format!("kan het bestand niet lezen: {e}")))
        };
        match detected {
            Detected::Xlsx | Detected::Xlsm => {
                let mut file = file;
                super::budget::check_xlsx(&mut file, budget)?;
                rewind(&mut file)?;
                let book = Xlsx::new(BufReader::with_capacity(1 << 16, file)).map_err(open_error)?;
                let sheet = pick_sheet(&book.sheet_names(), wanted)?;
                Ok(Source::Xlsx { book: Box::new(book), sheet })
            }
            Detected::Xls | Detected::Ods => {
                let (names, range) = if detected == Detected::Xls {
                    let mut file = file;
                    super::extent::check_xls(&mut file, budget)?;
                    rewind(&mut file)?;
                    let mut book = Xls::new(BufReader::new(file)).map_err(open_error)?;
                    let names = book.sheet_names();
                    let sheet = pick_sheet(&names, wanted)?;
                    (vec![sheet.clone()], book.worksheet_range(&sheet).map_err(open_error)?)
                } else {
                    let mut file = file;
                    super::extent::check_ods(&mut file, budget)?;
                    rewind(&mut file)?;
                    let mut book = Ods::new(BufReader::new(file)).map_err(open_error)?;
                    let names = book.sheet_names();
                    let sheet = pick_sheet(&names, wanted)?;
                    (vec![sheet.clone()], book.worksheet_range(&sheet).map_err(open_error)?)
                };
                Ok(Source::Range { range, sheet: names[0].clone() })
            }
            Detected::Text => {
                let csv = template.csv();
                if !csv.delimiter.is_ascii() {
                    return fail("het scheidingsteken in het sjabloon moet één gewoon teken zijn, zoals ; of ,");
                }
                Ok(Source::Csv {
                    file,
                    delimiter: csv.delimiter as u8,
                    encoding: csv.encoding,
                    sheet: file_name.to_string(),
                    max_record: budget.max_csv_record(),
                })
            }
        }
    }

    pub fn sheet(&self) -> &str {
        match self {
            Source::Xlsx { sheet, .. } | Source::Range { sheet, .. } | Source::Csv { sheet, .. } => sheet,
        }
    }

    /// Streams every non-blank row in order to `emit`, which returns false to stop early.
    pub fn for_each_row(self, mut emit: impl FnMut(RawRow) -> bool) -> Result<(), FileError> {
        match self {
            Source::Xlsx { mut book, sheet } => {
                let mut reader = book.worksheet_cells_reader(&sheet).map_err(open_error)?;
                let mut row = RawRow::default();
                while let Some(cell) = reader.next_cell().map_err(open_error)? {
                    let (r, c) = cell.get_position();
                    let Some(value) = convert_ref(cell.get_value()) else { continue };
                    if r + 1 != row.number {
                        // The next row is about as wide as this one: reserve that much once.
                        let width = row.cells.len().max(4);
                        let full = std::mem::replace(&mut row.cells, Vec::with_capacity(width));
                        if !full.is_empty() && !emit(RawRow { number: row.number, cells: full }) {
                            return Ok(());
                        }
                        row.number = r + 1;
                    }
                    row.cells.push((c, value));
                }
                if !row.cells.is_empty() {
                    emit(row);
                }
                Ok(())
            }
            Source::Range { range, .. } => {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                for (i, cells) in range.rows().enumerate() {
                    let mut row = RawRow { number: r0 + i as u32 + 1, cells: Vec::new() };
                    for (j, v) in cells.iter().enumerate() {
                        if let Some(value) = convert(v) {
                            row.cells.push((c0 + j as u32, value));
                        }
                    }
                    if !row.cells.is_empty() && !emit(row) {
                        return Ok(());
                    }
                }
                Ok(())
            }
            Source::Csv { file, delimiter, encoding, max_record, .. } => {
                read_csv(file, delimiter, encoding, max_record, emit)
            }
        }
    }
}

fn text(s: &str) -> Option<RawValue> {
    // `trim` also removes non-breaking spaces (they are Unicode white space).
    if s.trim().is_empty() {
        return None;
    }
    if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
        return Some(RawValue::Text(s.chars().take(MAX_CELL_CHARS + 1).collect()));
    }
    Some(RawValue::Text(CompactString::from(s)))
}

fn convert_ref(v: &DataRef<'_>) -> Option<RawValue> {
    match v {
        DataRef::Empty => None,
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Float(f) => Some(RawValue::Number(*f)),
        DataRef::Int(i) => Some(RawValue::Int(*i)),
        DataRef::Bool(b) => Some(RawValue::Bool(*b)),
        DataRef::DateTime(d) if d.is_datetime() => Some(RawValue::Date(*d)),
        DataRef::DateTime(d) => Some(RawValue::Number(d.as_f64())),
        DataRef::DateTimeIso(s) => Some(RawValue::DateIso(s.clone())),
        DataRef::DurationIso(s) => text(s),
        DataRef::Error(e) => Some(RawValue::Error(e.to_string())),
    }
}

fn convert(v: &Data) -> Option<RawValue> {
    match v {
        Data::Empty => None,
        Data::String(s) => text(s),
        Data::Float(f) => Some(RawValue::Number(*f)),
        Data::Int(i) => Some(RawValue::Int(*i)),
        Data::Bool(b) => Some(RawValue::Bool(*b)),
        Data::DateTime(d) if d.is_datetime() => Some(RawValue::Date(*d)),
        Data::DateTime(d) => Some(RawValue::Number(d.as_f64())),
        Data::DateTimeIso(s) => Some(RawValue::DateIso(s.clone())),
        Data::DurationIso(s) => text(s),
        Data::Error(e) => Some(RawValue::Error(e.to_string())),
    }
}

/// Decodes Windows-1252 to UTF-8 while streaming, so a large CSV is never held whole.
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.output.len() {
            if self.done {
                return Ok(0);
            }
            self.input.resize(16 << 10, 0);
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            self.output.clear();
            self.output.resize(self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3) + 16, 0);
            let (_, _, written, _) = self.decoder.decode_to_utf8(&self.input[..n], &mut self.output, last);
            self.output.truncate(written);
            self.pos = 0;
            self.done = last;
        }
        let n = buf.len().min(self.output.len() - self.pos);
        buf[..n].copy_from_slice(&self.output[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Remembers how many bytes passed and the last one, so the CSV reader can tell a final line without line break;
/// and stops a record that grows past `max_record` bytes (the csv reader would hold it whole, however long).
struct Tally<R> {
    inner: R,
    state: std::rc::Rc<std::cell::Cell<(u64, u8)>>,
    /// Where the record being read starts, set by the reading loop after each record.
    record_start: std::rc::Rc<std::cell::Cell<u64>>,
    max_record: u64,
}

/// The error [`Tally`] gives for a record that is too long.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too long")
    }
}

impl std::error::Error for RecordTooLong {}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            let (total, _) = self.state.get();
            let total = total + n as u64;
            self.state.set((total, buf[n - 1]));
            // The csv reader reads up to its buffer ahead of the record it parses, hence the margin.
            if total.saturating_sub(self.record_start.get()) > self.max_record + CSV_BUFFER as u64 {
                return Err(std::io::Error::other(RecordTooLong));
            }
        }
        Ok(n)
    }
}

const CSV_BUFFER: usize = 1 << 16;

fn read_csv(
    file: File,
    delimiter: u8,
    encoding: Encoding,
    max_record: u64,
    mut emit: impl FnMut(RawRow) -> bool,
) -> Result<(), FileError> {
    let mut buffered = BufReader::with_capacity(1 << 16, file);
    let tally = std::rc::Rc::new(std::cell::Cell::new((0u64, b'\n')));
    let record_start = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let reader: Box<dyn Read> = match encoding {
        Encoding::Utf8 => {
            let head = buffered.fill_buf().map_err(|e| FileError(format!("kan het bestand niet lezen: {e}")))?;
            if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                buffered.consume(3);
            }
            Box::new(buffered)
        }
        Encoding::Windows1252 => Box::new(Decoding {
            inner: buffered,
            decoder: encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling(),
            input: Vec::new(),
            output: Vec::new(),
            pos: 0,
            done: false,
        }),
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(Tally { inner: reader, state: tally.clone(), record_start: record_start.clone(), max_record });
    let mut record = csv::ByteRecord::new();
    let mut number: u32 = 0;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                let too_long = matches!(e.kind(), csv::ErrorKind::Io(io)
                    if io.get_ref().is_some_and(|inner| inner.is::<RecordTooLong>()));
                if too_long {
                    return fail(format!(
                        "rij {} van het CSV-bestand is langer dan {} MB (taalbudget leest een regel van hooguit {} MB); \
                         staat er ergens een aanhalingsteken (\") dat niet wordt gesloten? Corrigeer het bestand en \
                         probeer het opnieuw",
                        number + 1,
                        super::budget::mb(max_record),
                        super::budget::mb(max_record)
                    ));
                }
                return fail(format!("het CSV-bestand is onleesbaar bij rij {}: {e}", number + 1));
            }
        }
        record_start.set(csv.position().byte());
        // The line the record starts on, so blank lines (which the csv reader skips) still count, as in Excel:
        // the reader now stands on the line after the record, unless the file ended without a line break.
        let end = csv.position();
        let (total, last) = tally.get();
        let ended_without_break = end.byte() == total && last != b'\n' && last != b'\r';
        let inner_breaks = record.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count() as u32).sum::<u32>();
        number = (end.line() as u32).saturating_sub(u32::from(!ended_without_break) + inner_breaks).max(number + 1);
        let mut row = RawRow { number, cells: Vec::new() };
        for (i, field) in record.iter().enumerate() {
            let s = std::str::from_utf8(field).map_err(|_| {
                FileError(format!(
                    "rij {number}, kolom {}: de tekst is geen geldige UTF-8; het sjabloon verwacht UTF-8. Sla het bestand op als \"CSV UTF-8\" of kies een sjabloon met encoding = \"windows-1252\"",
                    super::template::column_letter(i as u32)
                ))
            })?;
            if let Some(v) = text(s) {
                row.cells.push((i as u32, v));
            }
        }
        if !row.cells.is_empty() && !emit(row) {
            return Ok(());
        }
    }
}
