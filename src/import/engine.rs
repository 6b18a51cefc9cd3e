//! The pipeline: a reader thread streams raw rows, a mapper turns them into validated records with identities,
//! and the writer inserts them in multi-row statements inside one transaction while the others keep reading.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::source::{self, FileError, RawRow, RawValue, Source};
use super::template::{column_letter, normalize_header, CheckedTemplate, HeaderRow, HEADER_SEARCH_ROWS};
use super::{cells, Duplicate, ImportKind, Prepared, RowError, RowValues, Summary};
use crate::money::Money;
use crate::store::{self, Db};

/// At most this many errors, duplicates and rejected rows are listed; the counts stay exact.
pub const MAX_LISTED: usize = 10_000;
/// Rejected rows are kept for the download up to this many bytes of cell text: a hostile file can repeat one
/// 32,767-character shared string in every cell, which would otherwise cost gigabytes for 10,000 rows.
pub const MAX_REJECTED_BYTES: usize = 8 << 20;
/// Rows shown in the preview as they will be stored.
pub const PREVIEW_ROWS: usize = 20;
/// Rows listed with their change in the preview of a register kind.
pub const REGISTER_PREVIEW_ROWS: usize = 2_000;
/// What the preview says about a row that is already stored.
pub const UNCHANGED: &str = "ongewijzigd (dubbel)";
const RAW_CHUNK: usize = 512;
/// Chunks of raw rows that may wait for the mapper; the reader only blocks when all are full.
const RAW_QUEUE: usize = 8;
/// Chunks of records that may wait for the writer.
const RECORD_QUEUE: usize = 4;
/// A chunk of raw rows is also sent once it holds this much cell text, so rows of huge cells cannot pile up
/// in the channel between reader and mapper.
const RAW_CHUNK_BYTES: usize = 1 << 20;
/// Messages longer than this are cut: some quote the cell, and a cell may hold 32,767 characters.
const MAX_MESSAGE_CHARS: usize = 300;
const RECORD_CHUNK: usize = store::imports::INSERT_CHUNK;

/// One file to import.
#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub path: PathBuf,
    /// The name the user knows the file by (upload name or path).
    pub file_name: String,
    pub template: CheckedTemplate,
    /// Who imports: recorded on the batch and in the audit log.
    pub actor: String,
}

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Do everything but commit.
    pub dry_run: bool,
    /// Import the valid rows of a file that has rejected rows (default: import nothing).
    pub skip_invalid: bool,
    /// Test hook: sleep inside the transaction just before COMMIT.
    pub pause_before_commit: Option<Duration>,
    /// Data rows processed so far, for a progress page.
    pub progress: Option<Arc<AtomicU64>>,
    /// What reading the file may hold in memory; a file that needs more is refused before it is read.
    pub read_budget: source::ReadBudget,
}

/// One row of the change preview: the values as they will be stored and what storing them changes.
#[derive(Clone, Debug)]
pub struct RowChange {
    /// The row number as the spreadsheet shows it.
    pub row: u32,
    pub values: Vec<String>,
    /// "nieuw besluit", "statuswijziging van X naar Y", or [`UNCHANGED`] (with what differs, if anything).
    pub change: String,
    pub duplicate: bool,
}

/// A rejected row as read, with why, for the download of rejected rows.
#[derive(Clone, Debug)]
pub struct RejectedRow {
    pub row: RawRow,
    pub messages: Vec<String>,
}

/// Everything an import produced: the summary, the first rows as stored, and the rejected rows.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub summary: Summary,
    pub preview_headers: Vec<String>,
    pub preview: Vec<Vec<String>>,
    /// For kinds that describe their changes: every valid row (new and duplicate) in file order, with its change.
    pub changes: Vec<RowChange>,
    pub sheet: String,
    pub header: Option<RawRow>,
    pub rejected: Vec<RejectedRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as the template expects (exit code 2).
    #[error("{0}")]
    File(#[from] FileError),
    #[error("databasefout tijdens het importeren: {0}")]
    Db(#[from] sqlx::Error),
    #[error("interne fout tijdens het importeren: {0}")]
    Internal(String),
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &std::path::Path) -> Result<String, FileError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| FileError(format!("kan het bestand niet openen: {e}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| FileError(format!("kan het bestand niet lezen: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Imports one file for one entity kind. File-level problems are `Err(ImportError::File)`; row and column
/// problems are listed in the summary. Nothing is written unless the summary's `batch` is set.
pub async fn run<K: ImportKind>(
    db: &Db,
    kind: K,
    req: ImportRequest,
    opts: ImportOptions,
) -> Result<Outcome, ImportError> {
    let template = Arc::new(req.template);
    let kind = Arc::new(kind);
    let t = std::time::Instant::now();
    let opened = {
        let template = template.clone();
        let path = req.path.clone();
        let file_name = req.file_name.clone();
        let budget = opts.read_budget;
        tokio::task::spawn_blocking(move || -> Result<(String, Source), FileError> {
            let detected = source::detect(&path)?;
            source::check_type(detected, &template, &file_name)?;
            let sha = file_sha256(&path)?;
            let source = Source::open(&path, detected, &template, &file_name, budget)?;
            Ok((sha, source))
        })
        .await
        .map_err(|e| ImportError::Internal(e.to_string()))??
    };
    let (sha, source) = opened;
    tracing::debug!(open_ms = t.elapsed().as_millis() as u64, "import open");
    let sheet = source.sheet().to_string();
    let mut summary = Summary {
        batch: None,
        kind: kind.kind(),
        template: template.name().to_string(),
        file_name: req.file_name.clone(),
        file_sha256: sha,
        rows_read: 0,
        rows_imported: 0,
        rows_duplicate: 0,
        rows_rejected: 0,
        rows_skipped: 0,
        amount_total: Money::ZERO,
        errors: Vec::new(),
        errors_total: 0,
        duplicates: Vec::new(),
        dry_run: opts.dry_run,
    };

    let started = std::time::Instant::now();
    let mut tx = store::begin(db).await?;
    let batch_id = store::imports::create_batch(&mut tx, &summary, &req.actor).await?;
    let pipeline = {
        let (kind, template, sheet, progress) = (kind.clone(), template.clone(), sheet.clone(), opts.progress.clone());
        let writer = Writer::new(tx, batch_id, sheet.clone());
        tokio::task::spawn_blocking(move || produce(source, &*kind, &template, sheet, writer, progress))
    };
    let (mapped, written) = pipeline.await.map_err(|e| ImportError::Internal(e.to_string()))??;
    tracing::debug!(
        total_ms = started.elapsed().as_millis() as u64,
        writing_ms = written.busy.as_millis() as u64,
        mapping_ms = mapped.busy.as_millis() as u64,
        "import pipeline"
    );
    let Writer { mut tx, new_rows, total, preview, changes, rows_duplicate, duplicates, .. } = written;
    summary.rows_duplicate = rows_duplicate;
    summary.duplicates = duplicates;
    summary.rows_read = mapped.rows_read;
    summary.rows_rejected = mapped.rows_rejected;
    summary.rows_skipped = mapped.rows_skipped;
    summary.rows_imported = new_rows;
    summary.amount_total = total;
    summary.errors = mapped.errors;
    summary.errors_total = mapped.errors_total;
    debug_assert!(
        mapped.structural
            || summary.rows_read == summary.rows_imported + summary.rows_duplicate + summary.rows_rejected
    );

    let mut commit =
        !opts.dry_run && !mapped.structural && (summary.errors_total == 0 || opts.skip_invalid) && new_rows > 0;
    if opts.dry_run && !mapped.structural && new_rows > 0 {
        if let Some(message) = kind.dry_run_refusal() {
            summary.errors.insert(0, RowError { sheet: sheet.clone(), row: None, column: None, value: None, message });
            summary.errors_total += 1;
        }
    }
    if commit {
        let t = std::time::Instant::now();
        let finished = kind.finish(&mut tx, batch_id, &req.actor).await;
        tracing::debug!(finish_ms = t.elapsed().as_millis() as u64, "import finish");
        match finished {
            Ok(()) => {}
            Err(super::FinishError::Refused(message)) => {
                summary
                    .errors
                    .insert(0, RowError { sheet: sheet.clone(), row: None, column: None, value: None, message });
                summary.errors_total += 1;
                commit = false;
            }
            Err(super::FinishError::Db(e)) => return Err(e.into()),
        }
    }
    if commit {
        store::imports::finish_batch(&mut tx, batch_id, &summary, &req.actor).await?;
        if let Some(pause) = opts.pause_before_commit {
            eprintln!("PAUZE VOOR COMMIT");
            tokio::time::sleep(pause).await;
        }
        let t = std::time::Instant::now();
        tx.commit().await?;
        tracing::debug!(commit_ms = t.elapsed().as_millis() as u64, "import commit");
        store::checkpoint_in_background(db);
        summary.batch = Some(batch_id);
    } else {
        tx.rollback().await?;
    }
    Ok(Outcome {
        summary,
        preview_headers: kind.preview_headers().iter().map(|s| s.to_string()).collect(),
        preview,
        changes,
        sheet,
        header: mapped.header,
        rejected: mapped.rejected,
    })
}

/// What the mapper found, besides the records it sent.
struct Mapped {
    rows_read: u64,
    rows_skipped: u64,
    rows_rejected: u64,
    errors: Vec<RowError>,
    errors_total: u64,
    /// A problem with the file's layout (header, columns, no data): nothing can be imported.
    structural: bool,
    header: Option<RawRow>,
    rejected: Vec<RejectedRow>,
    /// Time the mapper spent on rows (waiting for room in the writer's queue included), for the debug log.
    busy: Duration,
}

/// The batch's transaction and what has been stored in it so far.
struct Writer<R> {
    tx: store::Tx,
    batch: i64,
    sheet: String,
    rows_duplicate: u64,
    duplicates: Vec<Duplicate>,
    new_rows: u64,
    total: Money,
    preview: Vec<Vec<String>>,
    changes: Vec<RowChange>,
    /// Time spent inserting, for the debug log.
    busy: Duration,
    _record: std::marker::PhantomData<fn(R)>,
}

impl<R> Writer<R> {
    fn new(tx: store::Tx, batch: i64, sheet: String) -> Self {
        Writer {
            tx,
            batch,
            sheet,
            rows_duplicate: 0,
            duplicates: Vec::new(),
            new_rows: 0,
            total: Money::ZERO,
            preview: Vec::new(),
            changes: Vec::new(),
            busy: Duration::ZERO,
            _record: std::marker::PhantomData,
        }
    }

    /// Inserts one chunk of records and counts what was new and what was a duplicate. Runs on the writer's
    /// thread, which drives the kind's (async) insert to completion on the runtime `rt`.
    fn write<K: ImportKind<Record = R>>(
        &mut self,
        kind: &K,
        rt: &tokio::runtime::Handle,
        chunk: &[Prepared<R>],
    ) -> sqlx::Result<()> {
        let t = std::time::Instant::now();
        let dups = rt.block_on(kind.insert(&mut self.tx, self.batch, chunk))?;
        self.busy += t.elapsed();
        let preview_limit = kind.preview_limit();
        let mut dup_iter = dups.iter().peekable();
        for (i, p) in chunk.iter().enumerate() {
            if let Some((_, b)) = dup_iter.next_if(|(d, _)| *d == i) {
                self.rows_duplicate += 1;
                let note = kind.duplicate_note(p.row);
                if self.changes.len() < preview_limit && kind.change(&p.record).is_some() {
                    let change = match &note {
                        Some(n) => format!("{UNCHANGED}; {n}"),
                        None => UNCHANGED.to_string(),
                    };
                    self.changes.push(RowChange {
                        row: p.row,
                        values: kind.preview(&p.record),
                        change,
                        duplicate: true,
                    });
                }
                if self.duplicates.len() < MAX_LISTED {
                    self.duplicates.push(Duplicate { sheet: self.sheet.clone(), row: p.row, batch: *b, note });
                }
                continue;
            }
            self.new_rows += 1;
            self.total += kind.amount(&p.record);
            if self.preview.len() < preview_limit {
                self.preview.push(kind.preview(&p.record));
            }
            if self.changes.len() < preview_limit {
                if let Some(change) = kind.change(&p.record) {
                    self.changes.push(RowChange {
                        row: p.row,
                        values: kind.preview(&p.record),
                        change,
                        duplicate: false,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Runs the reader on this thread, the mapper and the writer on threads of their own. Reading the file is the
/// critical path, so the other two run at a lower priority: on a machine with two cores the three compete,
/// and a reader that waits for a core delays everything, while the queues between the threads absorb the
/// others' late starts.
fn produce<K: ImportKind>(
    source: Source,
    kind: &K,
    template: &CheckedTemplate,
    sheet: String,
    writer: Writer<K::Record>,
    progress: Option<Arc<AtomicU64>>,
) -> Result<(Mapped, Writer<K::Record>), ImportError> {
    let rt = tokio::runtime::Handle::current();
    let started = std::time::Instant::now();
    let thread = |name: &str| std::thread::Builder::new().name(format!("import-{name}"));
    let failed = |e: std::io::Error| ImportError::Internal(format!("kan het importeren niet starten: {e}"));
    std::thread::scope(|s| {
        let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Vec<RawRow>>(RAW_QUEUE);
        let (records_tx, records_rx) = std::sync::mpsc::sync_channel::<Vec<Prepared<K::Record>>>(RECORD_QUEUE);
        let writer = thread("writer")
            .spawn_scoped(s, move || {
                yield_to_reader();
                let mut writer = writer;
                let mut stored = Ok(());
                for chunk in records_rx.iter() {
                    stored = writer.write(kind, &rt, &chunk);
                    if stored.is_err() {
                        // Dropping the receiver stops the mapper, and so the reader.
                        break;
                    }
                }
                (writer, stored)
            })
            .map_err(failed)?;
        let mapper = thread("mapper")
            .spawn_scoped(s, move || {
                yield_to_reader();
                let mut m = Mapper::new(kind, template, sheet);
                let mut batch = Vec::with_capacity(RECORD_CHUNK);
                let mut busy = Duration::ZERO;
                'rows: for chunk in raw_rx.iter() {
                    let t = std::time::Instant::now();
                    for row in chunk {
                        if !m.row(row, &mut batch) {
                            break 'rows;
                        }
                        if batch.len() >= RECORD_CHUNK
                            && records_tx.send(std::mem::replace(&mut batch, Vec::with_capacity(RECORD_CHUNK))).is_err()
                        {
                            break 'rows;
                        }
                    }
                    busy += t.elapsed();
                    if let Some(p) = &progress {
                        p.store(m.rows_read + m.rows_skipped, Ordering::Relaxed);
                    }
                }
                // Dropping the receiver stops the reader when the mapper gave up early (a layout problem).
                drop(raw_rx);
                if !batch.is_empty() && !m.structural {
                    let _ = records_tx.send(batch);
                }
                (m, busy)
            })
            .map_err(failed)?;
        let mut buf = Vec::with_capacity(RAW_CHUNK);
        let mut bytes = 0;
        let read = source.for_each_row(|row| {
            bytes += row.cells.iter().map(|(_, v)| v.text_len()).sum::<usize>();
            buf.push(row);
            if buf.len() >= RAW_CHUNK || bytes >= RAW_CHUNK_BYTES {
                bytes = 0;
                return raw_tx.send(std::mem::replace(&mut buf, Vec::with_capacity(RAW_CHUNK))).is_ok();
            }
            true
        });
        if !buf.is_empty() {
            let _ = raw_tx.send(buf);
        }
        drop(raw_tx);
        tracing::debug!(reading_ms = started.elapsed().as_millis() as u64, "import file read");
        let (mut m, busy) =
            mapper.join().map_err(|_| ImportError::Internal("het importeren is onverwacht afgebroken".into()))?;
        let (writer, stored) =
            writer.join().map_err(|_| ImportError::Internal("het importeren is onverwacht afgebroken".into()))?;
        stored?;
        if !m.structural {
            read?;
            m.finish();
        }
        let mapped = Mapped {
            rows_read: m.rows_read,
            rows_skipped: m.rows_skipped,
            rows_rejected: m.rows_rejected,
            errors: m.errors,
            errors_total: m.errors_total,
            structural: m.structural,
            header: m.header_raw,
            rejected: m.rejected,
            busy,
        };
        Ok((mapped, writer))
    })
}

/// Lowers this thread's scheduling priority a little. Reading the file is the import's critical path: on a
/// machine with two cores the reader, the mapper and the writer compete, and a reader that waits for a core
/// delays everything, while the mapper and the writer have slack (their queues absorb a late start). Only for
/// threads that end with the import: a thread cannot raise its priority again.
fn yield_to_reader() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority have no memory effects; a failure only leaves the priority as it was.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 5);
    }
}

/// Where each template column sits in the file.
struct Layout {
    /// Per template column: the 0-based file column, if present.
    columns: Vec<Option<u32>>,
    /// Per template column: the name shown in messages.
    names: Vec<String>,
}

struct Mapper<'a, K: ImportKind> {
    kind: &'a K,
    t: &'a CheckedTemplate,
    sheet: String,
    layout: Option<Layout>,
    header_raw: Option<RawRow>,
    /// Best header candidate so far (row, missing headers), for the message when none fits.
    best: Option<(u32, Vec<String>, usize)>,
    seen_keys: HashMap<[u8; 16], u32>,
    occurrences: HashMap<[u8; 16], u32>,
    /// Non-blank rows seen, header and title block included.
    rows_seen: u64,
    rows_read: u64,
    rows_skipped: u64,
    rows_rejected: u64,
    errors: Vec<RowError>,
    errors_total: u64,
    rejected: Vec<RejectedRow>,
    /// Cell text held in `rejected`, against [`MAX_REJECTED_BYTES`].
    rejected_bytes: usize,
    structural: bool,
    totals_prefixes: Vec<String>,
}

fn shorten(s: &str) -> String {
    cut(s, 100)
}

/// A row's message, at most [`MAX_MESSAGE_CHARS`]: a quoted value (`'…'`) is shortened first, so a long cell
/// does not push out what the message says about it ("'0.000…' is geen geheel getal").
fn message_text(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(MAX_MESSAGE_CHARS + 8));
    let mut rest = msg;
    while let Some(open) = rest.find('\'') {
        let Some(close) = rest[open + 1..].find('\'') else { break };
        out.push_str(&rest[..=open]);
        out.push_str(&cut(&rest[open + 1..open + 1 + close], 60));
        out.push('\'');
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    cut(&out, MAX_MESSAGE_CHARS)
}

/// `s` up to `max` characters, with an ellipsis when it was longer.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_string(),
    }
}

impl<'a, K: ImportKind> Mapper<'a, K> {
    fn new(kind: &'a K, t: &'a CheckedTemplate, sheet: String) -> Self {
        Mapper {
            kind,
            t,
            sheet,
            layout: None,
            header_raw: None,
            best: None,
            seen_keys: HashMap::new(),
            occurrences: HashMap::new(),
            rows_seen: 0,
            rows_read: 0,
            rows_skipped: 0,
            rows_rejected: 0,
            errors: Vec::new(),
            errors_total: 0,
            rejected: Vec::new(),
            rejected_bytes: 0,
            structural: false,
            totals_prefixes: t.template.skip.first_cell_starts_with.iter().map(|p| p.to_lowercase()).collect(),
        }
    }

    fn error(&mut self, row: Option<u32>, column: Option<String>, value: Option<String>, message: String) {
        self.errors_total += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(RowError { sheet: self.sheet.clone(), row, column, value, message });
        }
    }

    fn structural(&mut self, row: Option<u32>, message: String) -> bool {
        self.error(row, None, None, message);
        self.structural = true;
        false
    }

    /// Handles one row; false stops reading (a layout problem makes the rest meaningless).
    fn row(&mut self, row: RawRow, out: &mut Vec<Prepared<K::Record>>) -> bool {
        self.rows_seen += 1;
        if self.layout.is_none() {
            return self.header(row);
        }
        self.data(row, out);
        true
    }

    fn header_names(&self) -> Vec<String> {
        self.t
            .columns
            .iter()
            .map(|c| c.column.header.clone().unwrap_or_else(|| self.t.fields[c.field].label.to_string()))
            .collect()
    }

    /// Tries `row` as the header row. Returns the layout, or the missing required headers.
    fn try_layout(&self, row: &RawRow) -> Result<Layout, (Vec<String>, Vec<String>, usize)> {
        let texts: Vec<(u32, String)> = row
            .cells
            .iter()
            .filter_map(|(c, v)| match v {
                RawValue::Text(s) => Some((*c, normalize_header(s))),
                _ => None,
            })
            .collect();
        let mut columns = Vec::new();
        let (mut missing, mut doubled, mut found) = (Vec::new(), Vec::new(), 0);
        for c in &self.t.columns {
            if let Some(letter) = &c.column.letter {
                columns.push(super::template::column_index(letter));
                continue;
            }
            let header = c.column.header.as_deref().unwrap_or_default();
            let wanted: Vec<String> = std::iter::once(header)
                .chain(c.column.aliases.iter().map(String::as_str))
                .map(normalize_header)
                .collect();
            let hits: Vec<u32> = texts.iter().filter(|(_, t)| wanted.contains(t)).map(|(col, _)| *col).collect();
            match hits.as_slice() {
                [] => {
                    if c.column.required {
                        missing.push(header.to_string());
                    }
                    columns.push(None);
                }
                [one] => {
                    found += 1;
                    columns.push(Some(*one));
                }
                many => {
                    found += 1;
                    doubled.push(format!(
                        "kolom '{header}' komt {} keer voor ({}); laat er één over",
                        many.len(),
                        many.iter().map(|c| column_letter(*c)).collect::<Vec<_>>().join(", ")
                    ));
                    columns.push(None);
                }
            }
        }
        if missing.is_empty() && doubled.is_empty() {
            return Ok(Layout { columns, names: self.header_names() });
        }
        Err((missing, doubled, found))
    }

    fn header(&mut self, row: RawRow) -> bool {
        let number = row.number;
        match self.t.template.header_row {
            HeaderRow::Fixed(n) if number < n => true,
            HeaderRow::Fixed(n) if number > n => self.structural(
                Some(n),
                format!("rij {n} moet de kopregel zijn maar is leeg; controleer header_row in het sjabloon"),
            ),
            HeaderRow::Fixed(_) => match self.try_layout(&row) {
                Ok(layout) => self.accept_header(layout, row),
                Err((missing, doubled, _)) => {
                    for d in doubled {
                        self.error(Some(number), None, None, d);
                    }
                    if !missing.is_empty() {
                        let hint = self.delimiter_hint(&row);
                        self.error(
                            Some(number),
                            None,
                            None,
                            format!("verplichte kolom(men) ontbreken in de kopregel: {}{hint}", missing.join(", ")),
                        );
                    }
                    self.structural = true;
                    false
                }
            },
            HeaderRow::Auto if number > HEADER_SEARCH_ROWS => {
                self.report_no_header();
                false
            }
            HeaderRow::Auto => match self.try_layout(&row) {
                Ok(layout) => self.accept_header(layout, row),
                Err((missing, doubled, _)) if missing.is_empty() => {
                    for d in doubled {
                        self.error(Some(number), None, None, d);
                    }
                    self.structural = true;
                    false
                }
                Err((missing, _, found)) => {
                    if found > 0 && self.best.as_ref().is_none_or(|(_, _, f)| found > *f) {
                        self.best = Some((number, missing, found));
                    }
                    if self.best.is_none() && row.cells.len() >= 3 && self.header_raw.is_none() {
                        // Keep the first wide row: with a wrong delimiter the whole header sits in one cell.
                        self.header_raw = Some(row);
                    }
                    true
                }
            },
        }
    }

    fn delimiter_hint(&self, row: &RawRow) -> String {
        if !self.t.is_csv() {
            return String::new();
        }
        let d = self.t.csv().delimiter;
        let one_cell = row.cells.len() == 1
            && matches!(&row.cells[0].1, RawValue::Text(s) if s.contains([',', ';', '\t', '|'].as_slice()));
        if one_cell {
            format!(". De hele kopregel staat in één cel: gebruikt het bestand wel '{d}' als scheidingsteken, zoals het sjabloon verwacht?")
        } else {
            String::new()
        }
    }

    fn required_headers(&self) -> Vec<String> {
        self.t.columns.iter().filter(|c| c.column.required).filter_map(|c| c.column.header.clone()).collect()
    }

    fn report_no_header(&mut self) {
        let required = self.required_headers();
        if self.rows_seen == 0 {
            self.structural(None, format!("het werkblad is leeg; verwacht een kopregel met {}", required.join(", ")));
            return;
        }
        if let Some((row, missing, _)) = self.best.take() {
            self.structural(
                Some(row),
                format!("rij {row} lijkt de kopregel, maar verplichte kolom(men) ontbreken: {}", missing.join(", ")),
            );
        } else {
            let hint = match &self.header_raw {
                Some(r) => self.delimiter_hint(r),
                None => String::new(),
            };
            self.header_raw = None;
            self.structural(
                None,
                format!(
                    "geen kopregel gevonden in de eerste {HEADER_SEARCH_ROWS} rijen; verwacht kolommen: {}{hint}",
                    required.join(", ")
                ),
            );
        }
    }

    fn accept_header(&mut self, layout: Layout, row: RawRow) -> bool {
        self.layout = Some(layout);
        self.header_raw = Some(row);
        true
    }

    fn is_totals_row(&self, row: &RawRow) -> bool {
        let first = row.cells.iter().min_by_key(|(c, _)| *c).map(|(_, v)| v);
        match first {
            Some(RawValue::Text(s)) => {
                let t = s.trim().to_lowercase();
                self.totals_prefixes.iter().any(|p| t.starts_with(p.as_str()))
            }
            _ => false,
        }
    }

    fn data(&mut self, row: RawRow, out: &mut Vec<Prepared<K::Record>>) {
        if self.is_totals_row(&row) {
            self.rows_skipped += 1;
            return;
        }
        self.rows_read += 1;
        let layout = self.layout.as_ref().expect("header found");
        let fields = self.t.fields;
        let mut values = RowValues { values: vec![None; fields.len()], row: row.number };
        let mut problems: Vec<(usize, String)> = Vec::new();
        for (i, col) in self.t.columns.iter().enumerate() {
            let Some(c) = layout.columns[i] else { continue };
            let field = &fields[col.field];
            match cells::parse(row.get(c), field.ty, col) {
                Ok(v) => values.values[col.field] = v,
                Err(msg) => problems.push((col.field, msg)),
            }
        }
        for (i, f) in fields.iter().enumerate() {
            let key = self.t.key_fields.contains(&i);
            if (f.required || key) && values.values[i].is_none() && !problems.iter().any(|(p, _)| *p == i) {
                let why = if key { "; het is deel van de sleutel die een regel herkent" } else { "" };
                problems.push((i, format!("is leeg{why}")));
            }
        }
        let mut identity = None;
        if problems.is_empty() && !self.t.key_fields.is_empty() {
            let mut h = Sha256::new();
            h.update(b"key\x1f");
            h.update(self.kind.kind().as_str());
            for &k in &self.t.key_fields {
                h.update([0x1f]);
                h.update(values.values[k].as_ref().map(|v| v.canonical()).unwrap_or_default());
            }
            let id: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
            if let Some(first) = self.seen_keys.get(&id) {
                let names: Vec<&str> = self.t.key_fields.iter().map(|k| fields[*k].label).collect();
                problems.push((
                    self.t.key_fields[0],
                    format!("dezelfde sleutel ({}) staat ook op rij {first}", names.join(" + ")),
                ));
            } else {
                self.seen_keys.insert(id, row.number);
                identity = Some(id);
            }
        }
        let record = if problems.is_empty() { self.kind.build(self.t, &mut values, &mut problems) } else { None };
        match record {
            Some(record) if problems.is_empty() => {
                let identity = identity.unwrap_or_else(|| {
                    let mut h = Sha256::new();
                    h.update(b"fp\x1f");
                    h.update(self.kind.kind().as_str());
                    h.update([0x1f]);
                    self.kind.fingerprint(&record, &mut h);
                    let fp: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes");
                    let n = self.occurrences.entry(fp).or_insert(0);
                    *n += 1;
                    let mut h = Sha256::new();
                    h.update(fp);
                    h.update(n.to_le_bytes());
                    h.finalize()[..16].try_into().expect("16 bytes")
                });
                out.push(Prepared { row: row.number, identity, record });
            }
            _ => self.reject(row, problems),
        }
    }

    fn reject(&mut self, row: RawRow, problems: Vec<(usize, String)>) {
        self.rows_rejected += 1;
        let layout = self.layout.as_ref().expect("header found");
        let looks_like_totals = matches!(
            row.cells.iter().min_by_key(|(c, _)| *c).map(|(_, v)| v),
            Some(RawValue::Text(s)) if s.to_lowercase().contains("totaal")
        );
        let mut messages = Vec::new();
        let mut located = Vec::new();
        for (field, msg) in problems {
            let ti = self.t.columns.iter().position(|c| c.field == field);
            let col = ti.and_then(|i| layout.columns[i]);
            let name = ti.map(|i| layout.names[i].clone()).unwrap_or_else(|| self.t.fields[field].label.to_string());
            let value = col.and_then(|c| row.get(c)).map(|v| shorten(&v.display()));
            let message = format!("{name}: {}", message_text(&msg));
            messages.push(message.clone());
            located.push((col.map(column_letter), value, message));
        }
        if looks_like_totals {
            let prefixes = self.t.template.skip.first_cell_starts_with.join(", ");
            let hint = format!(
                "deze rij lijkt een totaalregel, maar het sjabloon slaat alleen rijen over waarvan de eerste cel begint met: {}",
                if prefixes.is_empty() { "(niets ingesteld)".to_string() } else { prefixes }
            );
            messages.push(hint.clone());
            located.push((None, row.cells.first().map(|(_, v)| shorten(&v.display())), hint));
        }
        for (col, value, message) in located {
            self.error(Some(row.number), col, value, message);
        }
        let bytes = row.cells.iter().map(|(_, v)| v.text_len()).sum::<usize>();
        if self.rejected.len() < MAX_LISTED && self.rejected_bytes + bytes <= MAX_REJECTED_BYTES {
            self.rejected_bytes += bytes;
            self.rejected.push(RejectedRow { row, messages });
        }
    }

    /// End of file: a missing header or an empty body are layout problems.
    fn finish(&mut self) {
        if self.layout.is_none() {
            match self.t.template.header_row {
                HeaderRow::Fixed(n) if self.rows_seen > 0 => {
                    let required = self.required_headers().join(", ");
                    self.structural(
                        Some(n),
                        format!("het werkblad houdt op vóór rij {n}, waar de kopregel moet staan; verwacht kolommen: {required}"),
                    );
                }
                _ => self.report_no_header(),
            }
            return;
        }
        if self.rows_read == 0 {
            let header_row = self.header_raw.as_ref().map(|r| r.number);
            let extra = if self.rows_skipped > 0 { " (alleen totaalregels)" } else { "" };
            self.structural(
                header_row,
                format!(
                    "onder de kopregel (rij {}) staan geen gegevensregels{extra}; er is niets te importeren",
                    header_row.unwrap_or(0)
                ),
            );
        }
    }
}
