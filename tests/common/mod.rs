//! Shared helpers for the import tests: run the binary, build fixtures in code, snapshot the database.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde_json::Value;
use taalbudget::import::ledger::LedgerLine;
use taalbudget::money::Money;

pub const STANDARD_HEADERS: [&str; 13] = [
    "Boekdatum",
    "Boekjaar",
    "Periode",
    "Boekstuk",
    "Regel",
    "Grootboekrekening",
    "Kostenplaats",
    "Taakveld",
    "Crediteurnummer",
    "Crediteur",
    "Factuurnummer",
    "Omschrijving",
    "Bedrag",
];

pub struct Ctx {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident memory of the process in kB (Linux VmHWM), 0 where the platform does not say.
    pub peak_kb: u64,
}

impl Ctx {
    pub fn new() -> Ctx {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("test.db");
        Ctx { dir, db }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_taalbudget"));
        c.arg("--db").arg(&self.db).env("TAALBUDGET_LOG", "error");
        c
    }

    /// `taalbudget import ledger FILE --template T --json [extra...]`.
    pub fn import(&self, file: &Path, template: &str, extra: &[&str]) -> Run {
        let mut c = self.cmd();
        c.args(["import", "ledger"]).arg(file).args(["--template", template, "--json"]).args(extra);
        run(c)
    }

    pub fn undo(&self, batch: i64) -> Run {
        let mut c = self.cmd();
        c.args(["import", "undo", &batch.to_string(), "--json"]);
        run(c)
    }

    /// (ledger lines, their total in cents, batches, audit rows): the whole state imports can touch.
    pub fn snapshot(&self) -> (i64, i64, i64, i64) {
        if !self.db.exists() {
            return (0, 0, 0, 0);
        }
        let db = self.db.clone();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let pool = taalbudget::store::connect(&db).await.unwrap();
            let (n, sum) = taalbudget::store::imports::ledger_totals(&pool).await.unwrap();
            let batches: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_batch").fetch_one(&pool).await.unwrap();
            let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&pool).await.unwrap();
            pool.close().await;
            (n, sum, batches, audit)
        })
    }
}

pub fn run(mut c: Command) -> Run {
    let out = c.env("TAALBUDGET_REPORT_PEAK_MEMORY", "1").output().expect("taalbudget runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = stdout.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    // "piekgeheugen: 12345 kB", printed by the binary itself on Linux.
    let peak_kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("piekgeheugen: "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    Run { code: out.status.code().unwrap_or(-1), json, stdout, stderr, peak_kb }
}

impl Run {
    pub fn n(&self, key: &str) -> u64 {
        self.json[key].as_u64().unwrap_or_else(|| panic!("{key} missing in {}", self.json))
    }

    pub fn total(&self) -> String {
        self.json["amount_total"].as_str().unwrap_or_default().to_string()
    }

    pub fn messages(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["message"].as_str().unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }

    pub fn first_error(&self) -> Value {
        self.json["errors"][0].clone()
    }
}

pub fn date(y: i32, m: u8, d: u8) -> time::Date {
    time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap()
}

/// A deterministic ledger line; `i` varies document, description and amount.
pub fn line(i: usize, cents: i64) -> LedgerLine {
    LedgerLine {
        booking_date: date(2023, (i % 12) as u8 + 1, (i % 28) as u8 + 1),
        fiscal_year: Some(2023),
        period: Some((i % 12) as i64 + 1),
        document: format!("BS{:05}", i),
        line: "1".into(),
        gl_account: "4301".into(),
        cost_centre: "KP6100".into(),
        task_field: "6.1".into(),
        creditor_number: format!("{}", 100_000 + i % 5),
        creditor_name: "Taalschool Utrecht BV".into(),
        invoice_number: format!("F{i:06}"),
        description: format!("Taalonderwijs B1-route, factuur {i}"),
        amount: Money::from_cents(cents),
    }
}

pub fn lines(n: usize) -> Vec<LedgerLine> {
    (0..n).map(|i| line(i, (i as i64 * 7919) % 250_000 - if i % 7 == 0 { 300_000 } else { 0 } + 1)).collect()
}

pub fn total_plain(lines: &[LedgerLine]) -> String {
    lines.iter().map(|l| l.amount).sum::<Money>().plain()
}

/// Writes a file in a shipped template's own layout (through the same writer as `templates example`).
pub fn write_template_file(path: &Path, template: &str, lines: &[LedgerLine]) {
    let t = taalbudget::import::template::find(template).unwrap();
    let bytes = if t.is_csv() {
        taalbudget::import::example::csv(&t, lines).unwrap()
    } else {
        taalbudget::import::example::workbook(&t, lines).unwrap()
    };
    std::fs::write(path, bytes).unwrap();
}

/// An xlsx with one sheet "Grootboek" built by `fill`.
pub fn xlsx(path: &Path, fill: impl FnOnce(&mut Worksheet)) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Grootboek").unwrap();
    fill(ws);
    wb.save(path).unwrap();
}

/// Standard header row at `row` (0-based).
pub fn headers(ws: &mut Worksheet, row: u32) {
    for (c, h) in STANDARD_HEADERS.iter().enumerate() {
        ws.write_string(row, c as u16, *h).unwrap();
    }
}

/// A standard data row with text cells only (date and amount as given).
pub fn text_row(ws: &mut Worksheet, row: u32, date: &str, amount: &str) {
    let values =
        [date, "2023", "1", "BS1", "1", "4301", "KP6100", "6.1", "100001", "Taalschool", "F1", "Cursus", amount];
    for (c, v) in values.iter().enumerate() {
        if !v.is_empty() {
            ws.write_string(row, c as u16, *v).unwrap();
        }
    }
}

/// A standard data row with a date cell and a numeric amount.
pub fn good_row(ws: &mut Worksheet, row: u32, i: usize, amount: f64) {
    let fmt = Format::new().set_num_format("dd-mm-yyyy");
    let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(2023, 3, 15).unwrap();
    ws.write_datetime_with_format(row, 0, &dt, &fmt).unwrap();
    ws.write_number(row, 1, 2023.0).unwrap();
    ws.write_number(row, 2, 3.0).unwrap();
    ws.write_string(row, 3, format!("BS{i}")).unwrap();
    ws.write_number(row, 4, 1.0).unwrap();
    ws.write_string(row, 5, "4301").unwrap();
    ws.write_string(row, 6, "KP6100").unwrap();
    ws.write_string(row, 7, "6.1").unwrap();
    ws.write_string(row, 8, "100001").unwrap();
    ws.write_string(row, 9, "Taalschool").unwrap();
    ws.write_string(row, 10, format!("F{i}")).unwrap();
    ws.write_string(row, 11, format!("Cursus {i}")).unwrap();
    ws.write_number(row, 12, amount).unwrap();
}

/// Rewrites the entries of a zip: `edit(name, bytes)` may change each entry's content.
pub fn rewrite_zip(path: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Vec<u8>) {
    let data = std::fs::read(path).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        let buf = edit(&name, buf);
        zout.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        zout.write_all(&buf).unwrap();
    }
    let out = zout.finish().unwrap().into_inner();
    std::fs::write(path, out).unwrap();
}

/// Writes a minimal OpenDocument spreadsheet with one sheet `Grootboek` holding `rows` as text cells, and, when
/// `far_cell` is given as (row, column) counted from 1, one more text cell there with empty space before it.
pub fn ods(path: &Path, rows: &[Vec<&str>], far_cell: Option<(u32, u32)>) {
    let cell =
        |v: &str| format!("<table:table-cell office:value-type=\"string\"><text:p>{v}</text:p></table:table-cell>");
    let mut body = String::new();
    for r in rows {
        body.push_str("<table:table-row>");
        r.iter().for_each(|v| body.push_str(&cell(v)));
        body.push_str("</table:table-row>");
    }
    if let Some((row, col)) = far_cell {
        let gap = row - rows.len() as u32 - 1;
        body.push_str(&format!(
            "<table:table-row table:number-rows-repeated=\"{gap}\"><table:table-cell/></table:table-row>\
             <table:table-row><table:table-cell table:number-columns-repeated=\"{}\"/>{}</table:table-row>",
            col - 1,
            cell("verdwaald")
        ));
    }
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><office:document-content \
         xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\"><office:body>\
         <office:spreadsheet><table:table table:name=\"Grootboek\">{body}</table:table></office:spreadsheet>\
         </office:body></office:document-content>"
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><manifest:manifest \
         xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\">\
         <manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\
         <manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>";
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet").unwrap();
    for (name, text) in [("META-INF/manifest.xml", manifest), ("content.xml", content.as_str())] {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    std::fs::write(path, zip.finish().unwrap().into_inner()).unwrap();
}

/// A BIFF8 workbook (.xls) with one sheet "Grootboek" holding `cells` as (row, column, text or number), in a
/// compound file as Excel writes it.
pub fn xls(path: &Path, cells: &[(u16, u16, &str)]) {
    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }
    let bof = |kind: u16| {
        let mut d = 0x0600u16.to_le_bytes().to_vec();
        d.extend(kind.to_le_bytes());
        d.extend([0u8; 12]);
        record(0x0809, &d)
    };
    let boundsheet = |at: u32| {
        let mut d = at.to_le_bytes().to_vec();
        d.extend([0, 0, 9, 0]);
        d.extend(b"Grootboek");
        record(0x0085, &d)
    };
    let mut globals = bof(0x0005);
    // CODEPAGE 1200: BIFF8 text is UTF-16, as Excel writes it.
    globals.extend(record(0x0042, &1200u16.to_le_bytes()));
    let sheet_at = (globals.len() + boundsheet(0).len() + 4) as u32;
    globals.extend(boundsheet(sheet_at));
    globals.extend(record(0x000A, &[]));
    let mut sheet = bof(0x0010);
    for &(row, col, value) in cells {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        match value.parse::<f64>() {
            Ok(n) => {
                d.extend(n.to_le_bytes());
                sheet.extend(record(0x0203, &d));
            }
            Err(_) => {
                let units: Vec<u16> = value.encode_utf16().collect();
                d.extend((units.len() as u16).to_le_bytes());
                d.push(1);
                d.extend(units.iter().flat_map(|u| u.to_le_bytes()));
                sheet.extend(record(0x0204, &d));
            }
        }
    }
    sheet.extend(record(0x000A, &[]));
    globals.extend(sheet);
    let mut book =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, std::fs::File::create(path).unwrap()).unwrap();
    std::io::Write::write_all(&mut book.create_stream("/Workbook").unwrap(), &globals).unwrap();
    book.flush().unwrap();
}
