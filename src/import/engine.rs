//! The pipeline, in two phases. The read phase never holds SQLite's write lock: a reader thread streams raw rows,
//! a mapper turns them into validated records with identities, and a checker looks up which of them are stored
//! already and keeps them for the write phase (the ledger's in the import's staging database, see
//! `store::staging`; the registers' few in memory). The write phase takes the write lock, checks again what may
//! have changed meanwhile, moves the records in, finishes the batch and commits. A dry run (the preview) has no
//! write phase, so it never locks anyone out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Sqlite};

use super::source::{self, FileError, RawRow, RawValue, Source};
use super::template::{column_letter, normalize_header, CheckedTemplate, HeaderRow, HEADER_SEARCH_ROWS};
use super::{
    cells, Charge, Charges, Duplicate, Found, ImportKind, Prepared, Refused, RowError, RowValues, StreamCharge, Summary,
};
use crate::money::Money;
use crate::store::staging::Staging;
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
/// Chunks of records that may wait for the checker.
const RECORD_QUEUE: usize = 4;
/// A chunk of raw rows is also sent once it holds this much cell text, so rows of huge cells cannot pile up
/// in the channel between reader and mapper.
const RAW_CHUNK_BYTES: usize = 1 << 20;
/// Messages longer than this are cut: some quote the cell, and a cell may hold 32,767 characters.
const MAX_MESSAGE_CHARS: usize = 300;
const RECORD_CHUNK: usize = store::imports::INSERT_CHUNK;
/// Data rows a file of a kind that keeps its records in memory until the write phase (the registers) may hold:
/// they are a few thousand in practice, and this keeps a hostile file's records to some tens of megabytes.
pub const MAX_MEMORY_ROWS: u64 = 100_000;
/// Write phases a staged import tries before it gives up: the first moves the records as the read phase found
/// them; when another import or an undo changed the stored lines meanwhile, they are counted again outside the
/// lock for the second, and inside it (where nothing can change them) for the third.
const WRITE_ATTEMPTS: usize = 3;

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
    /// Test hook: hold the import between its read phase and its write phase.
    pub gate_before_write: Option<WriteGate>,
    /// Data rows processed so far, for a progress page.
    pub progress: Option<Arc<AtomicU64>>,
    /// What reading the file may hold in memory; a file that needs more is refused before it is read.
    pub read_budget: source::ReadBudget,
    /// The `four_eyes_imports` setting: a ledger or funding batch is stored waiting for approval.
    pub four_eyes: bool,
}

/// A test hook: the import notifies `reached` when its read phase is done and waits for `resume` before it
/// takes the write lock, so a test can change the database in between.
#[derive(Clone, Debug, Default)]
pub struct WriteGate {
    pub reached: Arc<tokio::sync::Notify>,
    pub resume: Arc<tokio::sync::Notify>,
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
    /// How long the write phase held SQLite's write lock (its longest hold, when it had to try again); zero
    /// when there was no write phase (a dry run, or nothing to write).
    pub lock_held: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as the template expects (exit code 2).
    #[error("{0}")]
    File(#[from] FileError),
    /// Other work held the write lock for longer than the busy timeout; nothing was written.
    #[error(
        "een ander werk slaat nu gegevens op en de import kon niet langer wachten; er is niets geïmporteerd. Probeer het over enkele seconden opnieuw"
    )]
    Busy,
    #[error("databasefout tijdens het importeren: {0}")]
    Db(sqlx::Error),
    #[error("interne fout tijdens het importeren: {0}")]
    Internal(String),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        if store::is_busy(&e) {
            return ImportError::Busy;
        }
        ImportError::Db(e)
    }
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
    let keep = match (opts.dry_run, kind.staged()) {
        (true, _) => Keep::Nothing,
        (false, true) => Keep::Staged,
        (false, false) => Keep::Memory,
    };
    let mut read = read_phase(db, Arc::new(kind), &req, &opts, keep, Staging::Private).await?;
    let mut lock_held = Duration::ZERO;
    if read.writes(&opts) {
        if let Some(gate) = &opts.gate_before_write {
            gate.reached.notify_one();
            gate.resume.notified().await;
        }
        let kept = std::mem::take(&mut read.kept);
        let write = Write { kind: &*read.kind, actor: &req.actor, opts: &opts, sheet: &read.sheet, base: &read.base };
        let (batch, held) = write.run(&mut read.conn, kept, &mut read.tally, &mut read.summary).await?;
        lock_held = held;
        if batch.is_some() {
            store::checkpoint_in_background(db);
        }
        read.summary.batch = batch;
    }
    let ReadPhase { kind, mut tally, summary, sheet, header, rejected, .. } = read;
    Ok(Outcome {
        summary,
        preview_headers: preview_headers(&*kind),
        preview: std::mem::take(&mut tally.preview),
        changes: std::mem::take(&mut tally.changes),
        sheet,
        header,
        rejected,
        lock_held,
    })
}

/// The preview of a file that is confirmed later (the web's import): a dry run that keeps its checked records in
/// the staging database file `staging` (a new, empty file; the caller deletes it when the job ends), so that
/// [`PendingWrite::write`] after the confirmation runs only the write phase instead of reading the file again.
/// Returns the preview and, when the file has new records to write, the pending write. Kinds that keep their
/// records in memory (the registers) get none: their files are small, and they are imported again from the file.
pub async fn check<K: ImportKind>(
    db: &Db,
    kind: K,
    req: ImportRequest,
    opts: ImportOptions,
    staging: &std::path::Path,
) -> Result<(Outcome, Option<Box<dyn PendingWrite>>), ImportError> {
    let opts = ImportOptions { dry_run: true, ..opts };
    if !kind.staged() {
        return Ok((run(db, kind, req, opts).await?, None));
    }
    let read = read_phase(db, Arc::new(kind), &req, &opts, Keep::Staged, Staging::File(staging)).await?;
    let ReadPhase { kind, conn, mut tally, base, mut summary, sheet, structural, header, rejected, .. } = read;
    // The records are in the file now: the connection goes back, and the write phase opens one of its own.
    conn.close().await?;
    let outcome = Outcome {
        summary: summary.clone(),
        preview_headers: preview_headers(&*kind),
        preview: std::mem::take(&mut tally.preview),
        changes: std::mem::take(&mut tally.changes),
        sheet: sheet.clone(),
        header,
        rejected,
        lock_held: Duration::ZERO,
    };
    if structural || tally.new_rows == 0 || kind.dry_run_refusal().is_some() {
        return Ok((outcome, None));
    }
    summary.dry_run = false;
    let pending = Staged { kind, actor: req.actor, sheet, base, tally, summary, staging: staging.to_path_buf() };
    Ok((outcome, Some(Box::new(pending))))
}

/// One sheet read and checked, its records kept in memory for a write phase the caller runs in a transaction of
/// its own (the set-up workbook: several sheets, each of its own kind, in one transaction and one batch). Only
/// for kinds that keep their records in memory (not the ledger).
pub struct Checked<K: ImportKind> {
    kind: Arc<K>,
    tally: Tally,
    base: Base,
    summary: Summary,
    structural: bool,
    kept: Vec<Vec<Prepared<K::Record>>>,
    header: Option<RawRow>,
    preview_headers: Vec<String>,
}

/// Reads and checks one sheet as [`run`] does, without writing: [`Checked::insert`] writes it later.
pub async fn read_checked<K: ImportKind>(
    db: &Db,
    kind: K,
    req: ImportRequest,
    opts: ImportOptions,
) -> Result<Checked<K>, ImportError> {
    if kind.staged() {
        return Err(ImportError::Internal(format!("{} wordt niet in het geheugen gelezen", kind.kind().as_str())));
    }
    let read = read_phase(db, Arc::new(kind), &req, &opts, Keep::Memory, Staging::None).await?;
    let ReadPhase { kind, conn, tally, base, summary, structural, kept, header, .. } = read;
    conn.close().await?;
    let preview_headers = preview_headers(&*kind);
    Ok(Checked { kind, tally, base, summary, structural, kept, header, preview_headers })
}

impl<K: ImportKind> Checked<K> {
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// A problem with the sheet's layout (header, columns), or no data rows under its header.
    pub fn structural(&self) -> bool {
        self.structural
    }

    /// The sheet has its header but no data rows: the engine calls that structural, a workbook an empty part.
    pub fn empty(&self) -> bool {
        self.structural && self.header.is_some() && self.summary.rows_read == 0
    }

    /// Every valid record (new and stored alike), in file order.
    pub fn records(&self) -> impl Iterator<Item = &K::Record> {
        self.kept.iter().flatten().map(|p| &p.record)
    }

    pub fn kind(&self) -> &K {
        &self.kind
    }

    pub fn new_rows(&self) -> u64 {
        self.tally.new_rows
    }

    /// The preview: column headers and the first new rows as they will be stored.
    pub fn preview(&self) -> (&[String], &[Vec<String>]) {
        (&self.preview_headers, &self.tally.preview)
    }

    /// Writes the new records into `batch` inside the caller's transaction (each looked up again first) and counts
    /// them again; returns the rows the stored data refuses now (the summary lists them as row errors).
    pub async fn insert(&mut self, tx: &mut store::Tx<'_>, batch: i64) -> sqlx::Result<u64> {
        let kind = &*self.kind;
        self.tally.reset();
        for chunk in &self.kept {
            let found = kind.insert(tx, batch, chunk).await?;
            self.tally.add(kind, chunk, &found, None);
        }
        self.tally.fill(kind, &mut self.summary, &self.base);
        Ok(self.tally.rows_refused)
    }
}

/// The write phase of a checked file, waiting for the user's confirmation.
pub trait PendingWrite: Send {
    /// Writes what the check found new (counting again what changed since, as any write phase does) with
    /// `opts` (`skip_invalid`: import the valid rows of a file with errors). Returns the summary, its `batch`
    /// set when something was written, and how long the write lock was held.
    fn write(self: Box<Self>, db: Db, opts: ImportOptions) -> PendingFuture;
}

pub type PendingFuture = Pin<Box<dyn Future<Output = Result<(Summary, Duration), ImportError>> + Send>>;

/// [`check`]'s pending write: everything the write phase needs, the records in the staging database file.
struct Staged<K> {
    kind: Arc<K>,
    actor: String,
    sheet: String,
    base: Base,
    tally: Tally,
    summary: Summary,
    staging: PathBuf,
}

impl<K: ImportKind> PendingWrite for Staged<K> {
    fn write(self: Box<Self>, db: Db, opts: ImportOptions) -> PendingFuture {
        Box::pin(async move {
            let Staged { kind, actor, sheet, base, mut tally, mut summary, staging } = *self;
            if summary.errors_total > 0 && !opts.skip_invalid {
                return Ok((summary, Duration::ZERO));
            }
            let mut conn = db.acquire().await?;
            conn.close_on_drop();
            store::staging::prepare(&mut conn, Staging::Reopen(&staging)).await?;
            let write = Write { kind: &*kind, actor: &actor, opts: &opts, sheet: &sheet, base: &base };
            let (batch, held) = write.run(&mut conn, Vec::new(), &mut tally, &mut summary).await?;
            conn.close().await?;
            if batch.is_some() {
                store::checkpoint_in_background(&db);
            }
            summary.batch = batch;
            Ok((summary, held))
        })
    }
}

/// The preview's column headers for `kind`.
fn preview_headers<K: ImportKind>(kind: &K) -> Vec<String> {
    let mut headers: Vec<String> = kind.preview_headers().iter().map(|s| s.to_string()).collect();
    if kind.charged() {
        headers.extend(CHARGE_HEADERS.map(String::from));
    }
    headers
}

/// What the read phase leaves for the write phase and the outcome.
struct ReadPhase<K: ImportKind> {
    kind: Arc<K>,
    /// The import's own connection (with the staging database attached, for staged kinds).
    conn: PoolConnection<Sqlite>,
    tally: Tally,
    base: Base,
    summary: Summary,
    sheet: String,
    /// A problem with the file's layout: nothing can be imported.
    structural: bool,
    /// The records of kinds kept in memory.
    kept: Vec<Vec<Prepared<K::Record>>>,
    header: Option<RawRow>,
    rejected: Vec<RejectedRow>,
}

impl<K: ImportKind> ReadPhase<K> {
    /// Whether `opts` lets the write phase run and there is something new to write.
    fn writes(&self, opts: &ImportOptions) -> bool {
        !opts.dry_run
            && !self.structural
            && (self.summary.errors_total == 0 || opts.skip_invalid)
            && self.tally.new_rows > 0
    }
}

/// Reads and checks the file: opens it, streams it through the mapper and the checker (which keeps the records
/// as `keep` says, the staged ones in `staging`), and counts what it found.
async fn read_phase<K: ImportKind>(
    db: &Db,
    kind: Arc<K>,
    req: &ImportRequest,
    opts: &ImportOptions,
    keep: Keep,
    staging: Staging<'_>,
) -> Result<ReadPhase<K>, ImportError> {
    let template = Arc::new(req.template.clone());
    let t = Instant::now();
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
        charges: None,
        awaits_approval: false,
    };

    // The import's own connection, for both phases: the staging database is attached to it, so it is closed
    // afterwards, staging database and all, instead of going back to the pool.
    let mut conn = db.acquire().await?;
    conn.close_on_drop();
    store::staging::prepare(&mut conn, if keep == Keep::Staged { staging } else { Staging::None }).await?;

    let started = Instant::now();
    let pipeline = {
        let (kind, template, sheet, progress) = (kind.clone(), template.clone(), sheet.clone(), opts.progress.clone());
        let checker = Checker::new(conn, keep, Tally::new(sheet.clone(), kind.charged()));
        tokio::task::spawn_blocking(move || produce(source, &*kind, &template, sheet, checker, progress))
    };
    let (mapped, checked) = pipeline.await.map_err(|e| ImportError::Internal(e.to_string()))??;
    tracing::debug!(
        total_ms = started.elapsed().as_millis() as u64,
        checking_ms = checked.busy.as_millis() as u64,
        mapping_ms = mapped.busy.as_millis() as u64,
        "import read phase"
    );
    let Checker { conn, tally, kept, .. } = checked;
    summary.rows_read = mapped.rows_read;
    summary.rows_skipped = mapped.rows_skipped;
    let base = Base {
        rows_rejected: mapped.rows_rejected,
        errors: mapped.errors,
        errors_total: mapped.errors_total,
        fields: mapped.fields,
    };
    tally.fill(&*kind, &mut summary, &base);
    debug_assert!(
        mapped.structural
            || summary.rows_read == summary.rows_imported + summary.rows_duplicate + summary.rows_rejected
    );
    if opts.dry_run && !mapped.structural && tally.new_rows > 0 {
        if let Some(message) = kind.dry_run_refusal() {
            summary.errors.insert(0, RowError { sheet: sheet.clone(), row: None, column: None, value: None, message });
            summary.errors_total += 1;
        }
    }
    Ok(ReadPhase {
        kind,
        conn,
        tally,
        base,
        summary,
        sheet,
        structural: mapped.structural,
        kept,
        header: mapped.header,
        rejected: mapped.rejected,
    })
}

/// What the write phase needs besides the records.
struct Write<'a, K> {
    kind: &'a K,
    actor: &'a str,
    opts: &'a ImportOptions,
    sheet: &'a str,
    base: &'a Base,
}

impl<K: ImportKind> Write<'_, K> {
    /// Takes the write lock, moves the records in and commits. Returns the batch (None when nothing was written:
    /// everything turned out to be stored meanwhile, or the kind refused the batch, which the summary then says)
    /// and the longest time the write lock was held.
    async fn run(
        &self,
        conn: &mut PoolConnection<Sqlite>,
        kept: Vec<Vec<Prepared<K::Record>>>,
        tally: &mut Tally,
        summary: &mut Summary,
    ) -> Result<(Option<i64>, Duration), ImportError> {
        let kind = self.kind;
        let mut longest = Duration::ZERO;
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt == 1 {
                tracing::info!("opgeslagen regels zijn tijdens het inlezen veranderd; de import telt ze opnieuw");
                tally.recount(kind, conn).await?;
            }
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let locked = Instant::now();
            if attempt + 1 == WRITE_ATTEMPTS {
                tally.recount(kind, &mut tx).await?;
            }
            let awaits = self.opts.four_eyes && store::approval::asks_approval(summary.kind);
            let batch = store::imports::create_batch(&mut tx, summary, self.actor, awaits).await?;
            if kind.staged() {
                // The read phase's duplicates are still stored unless their batch was undone; its new records
                // are still new if all of them go in.
                let holders_undone = store::imports::any_undone(&mut tx, &tally.holders).await?;
                let inserted = kind.insert_staged(&mut tx, batch, attempt == 0).await?;
                if holders_undone || inserted != tally.new_rows {
                    tx.rollback().await?;
                    longest = longest.max(locked.elapsed());
                    continue;
                }
            } else {
                // Registers: `insert` checks every record again and says which exist; its count is the one that
                // holds.
                tally.reset();
                for chunk in &kept {
                    let found = kind.insert(&mut tx, batch, chunk).await?;
                    tally.add(kind, chunk, &found, None);
                }
            }
            tally.fill(kind, summary, self.base);
            // Rows the stored data refuses now (it changed since the read phase) are row errors like any other:
            // without --skip-invalid nothing is written.
            let refused = tally.rows_refused > 0 && !self.opts.skip_invalid;
            if tally.new_rows == 0 || refused {
                tx.rollback().await?;
                return Ok((None, longest.max(locked.elapsed())));
            }
            let t = Instant::now();
            let finished = kind.finish(&mut tx, batch, self.actor).await;
            tracing::debug!(finish_ms = t.elapsed().as_millis() as u64, "import finish");
            match finished {
                Ok(()) => {}
                Err(super::FinishError::Refused(message)) => {
                    let sheet = self.sheet.to_string();
                    summary.errors.insert(0, RowError { sheet, row: None, column: None, value: None, message });
                    summary.errors_total += 1;
                    tx.rollback().await?;
                    return Ok((None, longest.max(locked.elapsed())));
                }
                Err(super::FinishError::Db(e)) => return Err(e.into()),
            }
            summary.awaits_approval = awaits;
            store::imports::finish_batch(&mut tx, batch, summary, self.actor).await?;
            if let Some(pause) = self.opts.pause_before_commit {
                eprintln!("PAUZE VOOR COMMIT");
                tokio::time::sleep(pause).await;
            }
            let t = Instant::now();
            tx.commit().await?;
            let held = locked.elapsed();
            tracing::debug!(
                commit_ms = t.elapsed().as_millis() as u64,
                lock_ms = held.as_millis() as u64,
                attempt,
                "import write phase"
            );
            return Ok((Some(batch), longest.max(held)));
        }
        Err(ImportError::Internal(
            "de opgeslagen regels bleven veranderen terwijl de import ze wilde toevoegen; er is niets opgeslagen"
                .into(),
        ))
    }
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
    /// Per field of the kind: the column it was read from and its name in messages, to place the store's refusals.
    fields: Vec<(Option<String>, String)>,
    /// Time the mapper spent on rows (waiting for room in the checker's queue included), for the debug log.
    busy: Duration,
}

/// The mapper's share of the summary, which the store's refusals (counted by [`Tally`]) add to.
struct Base {
    rows_rejected: u64,
    errors: Vec<RowError>,
    errors_total: u64,
    fields: Vec<(Option<String>, String)>,
}

/// The preview's columns for where a new line is charged, after the kind's own.
pub const CHARGE_HEADERS: [&str; 2] = ["Financieringsbron", "Contract"];
/// What the preview's Financieringsbron column says of a line no rule takes.
pub const QUEUE: &str = "wachtrij";

/// What the valid rows come to, counted from the records and which of them are stored already: the new rows
/// and their total, the duplicates, and the preview.
struct Tally {
    sheet: String,
    /// The kind charges its records to funding streams: count the new rows per stream.
    charged: bool,
    /// New rows and their total per stream id, and those no rule takes.
    by_stream: BTreeMap<i64, (u64, Money)>,
    queue: (u64, Money),
    rows_duplicate: u64,
    duplicates: Vec<Duplicate>,
    new_rows: u64,
    total: Money,
    preview: Vec<Vec<String>>,
    changes: Vec<RowChange>,
    /// The batches that hold the duplicates: while none of them is undone, the duplicates stay duplicates.
    holders: BTreeSet<i64>,
    /// Rows the stored data refuses (by row number, the first [`MAX_LISTED`]), and how many there were.
    refused: Vec<(u32, Refused)>,
    rows_refused: u64,
}

impl Tally {
    fn new(sheet: String, charged: bool) -> Tally {
        Tally {
            sheet,
            charged,
            by_stream: BTreeMap::new(),
            queue: (0, Money::ZERO),
            rows_duplicate: 0,
            duplicates: Vec::new(),
            new_rows: 0,
            total: Money::ZERO,
            preview: Vec::new(),
            changes: Vec::new(),
            holders: BTreeSet::new(),
            refused: Vec::new(),
            rows_refused: 0,
        }
    }

    fn reset(&mut self) {
        *self = Tally::new(std::mem::take(&mut self.sheet), self.charged);
    }

    /// Counts one chunk of records, of which `found` (index into `chunk`, what the store holds) are not simply
    /// new: stored already (with the holding batch), or refused. `charges` (by index into `chunk`) when staging
    /// worked them out already; otherwise a charged kind works them out here.
    fn add<K: ImportKind>(
        &mut self,
        kind: &K,
        chunk: &[Prepared<K::Record>],
        found: &[(usize, Found)],
        charges: Option<&[Option<Charge>]>,
    ) {
        let preview_limit = kind.preview_limit();
        let mut found_iter = found.iter().peekable();
        for (i, p) in chunk.iter().enumerate() {
            let found = found_iter.next_if(|(f, _)| *f == i).map(|(_, f)| f);
            if let Some(Found::Refused(r)) = found {
                self.rows_refused += 1;
                if self.refused.len() < MAX_LISTED {
                    self.refused.push((p.row, r.clone()));
                }
                continue;
            }
            if let Some(Found::Stored(b)) = found {
                self.rows_duplicate += 1;
                self.holders.insert(*b);
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
            let amount = kind.amount(&p.record);
            self.total += amount;
            let charge = match charges {
                _ if !self.charged => None,
                Some(charges) => charges.get(i).copied().flatten(),
                None => kind.charge(&p.record),
            };
            if self.charged {
                let (rows, sum) = match charge {
                    Some(c) => self.by_stream.entry(c.stream).or_insert((0, Money::ZERO)),
                    None => &mut self.queue,
                };
                *rows += 1;
                *sum += amount;
            }
            if self.preview.len() < preview_limit {
                let mut values = kind.preview(&p.record);
                if self.charged {
                    values.extend(charge_labels(kind, charge));
                }
                self.preview.push(values);
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
    }

    /// Counts the staged records again against what is stored now (on `conn`, inside the write lock or not).
    async fn recount<K: ImportKind>(&mut self, kind: &K, conn: &mut store::Conn) -> sqlx::Result<()> {
        self.reset();
        let mut after = 0;
        loop {
            let chunk = kind.staged_rows(conn, after, RECORD_CHUNK).await?;
            let Some(last) = chunk.last() else { break };
            after = last.row;
            let dups = kind.existing(conn, &chunk).await?;
            self.add(kind, &chunk, &dups, None);
        }
        Ok(())
    }

    /// Puts the counts in the summary, the store's refusals among the mapper's row errors (`base`) in row order.
    fn fill<K: ImportKind>(&self, kind: &K, summary: &mut Summary, base: &Base) {
        summary.charges = self.charged.then(|| self.charges(kind));
        debug_assert!(summary.charges.as_ref().is_none_or(|c| c.total() == self.total), "streams + queue = new rows");
        summary.rows_imported = self.new_rows;
        summary.rows_duplicate = self.rows_duplicate;
        summary.duplicates = self.duplicates.clone();
        summary.amount_total = self.total;
        summary.rows_rejected = base.rows_rejected + self.rows_refused;
        summary.errors_total = base.errors_total + self.rows_refused;
        let mut errors = base.errors.clone();
        errors.extend(self.refused.iter().map(|(row, r)| {
            let (column, name) = base.fields.get(r.field).cloned().unwrap_or_default();
            RowError {
                sheet: self.sheet.clone(),
                row: Some(*row),
                column,
                value: Some(shorten(&r.value)),
                message: format!("{name}: {}", cut(&r.message, MAX_MESSAGE_CHARS)),
            }
        }));
        // Stable: a row's own errors keep their order; file-level errors (no row) stay first.
        errors.sort_by_key(|e| e.row.unwrap_or(0));
        errors.truncate(MAX_LISTED);
        summary.errors = errors;
    }
}

impl Tally {
    /// The new rows per stream, by stream code, and the queue's.
    fn charges<K: ImportKind>(&self, kind: &K) -> Charges {
        let mut streams: Vec<StreamCharge> = self
            .by_stream
            .iter()
            .map(|(id, (rows, amount))| {
                let (code, name) = kind.stream_label(*id);
                StreamCharge { stream: code.to_string(), name: name.to_string(), rows: *rows, amount: *amount }
            })
            .collect();
        streams.sort_by(|a, b| a.stream.cmp(&b.stream));
        Charges { streams, queue_rows: self.queue.0, queue_amount: self.queue.1 }
    }
}

/// The preview's Financieringsbron and Contract of a new line.
fn charge_labels<K: ImportKind>(kind: &K, charge: Option<Charge>) -> [String; 2] {
    match charge {
        Some(c) => [
            kind.stream_label(c.stream).0.to_string(),
            c.contract.map(|id| kind.contract_label(id).to_string()).unwrap_or_default(),
        ],
        None => [QUEUE.to_string(), String::new()],
    }
}

/// Where the checker keeps the records for the write phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// A dry run has no write phase.
    Nothing,
    /// In memory: register kinds, whose files hold a few thousand rows.
    Memory,
    /// In the staging database: kinds whose files may hold millions (the ledger).
    Staged,
}

/// The read phase's last stage, on a thread of its own: looks up which records are stored already, counts them,
/// and keeps them for the write phase. Owns the import's connection, which it only reads the main database on.
struct Checker<R> {
    conn: PoolConnection<Sqlite>,
    keep: Keep,
    tally: Tally,
    kept: Vec<Vec<Prepared<R>>>,
    /// Time spent looking up and staging, for the debug log.
    busy: Duration,
}

impl<R> Checker<R> {
    fn new(conn: PoolConnection<Sqlite>, keep: Keep, tally: Tally) -> Self {
        Checker { conn, keep, tally, kept: Vec::new(), busy: Duration::ZERO }
    }

    /// Checks one chunk of records. Runs on the checker's thread, which drives the (async) lookups to completion
    /// on the runtime `rt`.
    fn check<K: ImportKind<Record = R>>(
        &mut self,
        kind: &K,
        rt: &tokio::runtime::Handle,
        chunk: Vec<Prepared<R>>,
    ) -> sqlx::Result<()> {
        let t = Instant::now();
        let keep = self.keep;
        let (found, charges) = rt.block_on(async {
            // One read transaction per chunk (BEGIN is deferred): a consistent view for its lookups, without
            // holding a snapshot of the main database for the whole file. Staging writes only the staging database.
            let mut tx = self.conn.begin().await?;
            kind.load(&mut tx).await?;
            let found = kind.existing(&mut tx, &chunk).await?;
            let mut charges = None;
            if keep == Keep::Staged {
                // Only the ledger is staged, and its store refuses no line: all it finds are stored lines.
                let held: Vec<(usize, i64)> = found
                    .iter()
                    .filter_map(|(i, f)| match f {
                        Found::Stored(b) => Some((*i, *b)),
                        Found::Refused(_) => None,
                    })
                    .collect();
                charges = Some(kind.stage(&mut tx, &chunk, &held).await?);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>((found, charges))
        })?;
        self.busy += t.elapsed();
        self.tally.add(kind, &chunk, &found, charges.as_deref());
        if keep == Keep::Memory {
            self.kept.push(chunk);
        }
        Ok(())
    }
}

/// Runs the reader on this thread, the mapper and the checker on threads of their own. Reading the file is the
/// critical path, so the other two run at a lower priority: on a machine with two cores the three compete,
/// and a reader that waits for a core delays everything, while the queues between the threads absorb the
/// others' late starts.
fn produce<K: ImportKind>(
    source: Source,
    kind: &K,
    template: &CheckedTemplate,
    sheet: String,
    checker: Checker<K::Record>,
    progress: Option<Arc<AtomicU64>>,
) -> Result<(Mapped, Checker<K::Record>), ImportError> {
    let rt = tokio::runtime::Handle::current();
    let started = Instant::now();
    let thread = |name: &str| std::thread::Builder::new().name(format!("import-{name}"));
    let failed = |e: std::io::Error| ImportError::Internal(format!("kan het importeren niet starten: {e}"));
    std::thread::scope(|s| {
        let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Vec<RawRow>>(RAW_QUEUE);
        let (records_tx, records_rx) = std::sync::mpsc::sync_channel::<Vec<Prepared<K::Record>>>(RECORD_QUEUE);
        let checker = thread("checker")
            .spawn_scoped(s, move || {
                yield_to_reader();
                let mut checker = checker;
                let mut checked = Ok(());
                for chunk in records_rx.iter() {
                    checked = checker.check(kind, &rt, chunk);
                    if checked.is_err() {
                        // Dropping the receiver stops the mapper, and so the reader.
                        break;
                    }
                }
                (checker, checked)
            })
            .map_err(failed)?;
        let mapper = thread("mapper")
            .spawn_scoped(s, move || {
                yield_to_reader();
                let mut m = Mapper::new(kind, template, sheet);
                let mut batch = Vec::with_capacity(RECORD_CHUNK);
                let mut busy = Duration::ZERO;
                'rows: for chunk in raw_rx.iter() {
                    let t = Instant::now();
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
        let (checker, checked) =
            checker.join().map_err(|_| ImportError::Internal("het importeren is onverwacht afgebroken".into()))?;
        checked?;
        if !m.structural {
            read?;
            m.finish();
        }
        let fields = m.located_fields();
        let mapped = Mapped {
            rows_read: m.rows_read,
            rows_skipped: m.rows_skipped,
            rows_rejected: m.rows_rejected,
            errors: m.errors,
            errors_total: m.errors_total,
            structural: m.structural,
            fields,
            header: m.header_raw,
            rejected: m.rejected,
            busy,
        };
        Ok((mapped, checker))
    })
}

/// Lowers this thread's scheduling priority a little. Reading the file is the import's critical path: on a
/// machine with two cores the reader, the mapper and the checker compete, and a reader that waits for a core
/// delays everything, while the mapper and the checker have slack (their queues absorb a late start). Only for
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
    /// Of `rows_skipped`: rows with values only outside the template's columns.
    blank_skipped: u64,
    rows_rejected: u64,
    errors: Vec<RowError>,
    errors_total: u64,
    rejected: Vec<RejectedRow>,
    /// Cell text held in `rejected`, against [`MAX_REJECTED_BYTES`].
    rejected_bytes: usize,
    structural: bool,
    totals_prefixes: Vec<String>,
    /// Data rows the file may hold ([`MAX_MEMORY_ROWS`] for kinds that keep their records in memory).
    max_rows: u64,
    /// Per field: every row must fill it.
    must_fill: Vec<bool>,
}

/// A count as Dutch text shows it: 100.000.
fn dutch_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(d);
    }
    out
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
            blank_skipped: 0,
            rows_rejected: 0,
            errors: Vec::new(),
            errors_total: 0,
            rejected: Vec::new(),
            rejected_bytes: 0,
            structural: false,
            totals_prefixes: t.template.skip.first_cell_starts_with.iter().map(|p| p.to_lowercase()).collect(),
            max_rows: if kind.staged() { u64::MAX } else { MAX_MEMORY_ROWS },
            must_fill: t.fields_every_row_fills(),
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
        if self.rows_read == self.max_rows {
            let label = self.kind.kind().label();
            let max = dutch_count(self.max_rows);
            return self.structural(
                Some(row.number),
                format!(
                    "het bestand heeft meer dan {max} regels; een import van {label} neemt er ten hoogste {max} \
                     tegelijk. Splits het bestand en importeer de delen na elkaar"
                ),
            );
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
        let layout = self.layout.as_ref().expect("header found");
        let fields = self.t.fields;
        let mut values = RowValues { values: vec![None; fields.len()], row: row.number };
        let mut problems: Vec<(usize, String)> = Vec::new();
        let mut filled = false;
        for (i, col) in self.t.columns.iter().enumerate() {
            let Some(c) = layout.columns[i] else { continue };
            let cell = row.get(c);
            filled |= cell.is_some();
            let field = &fields[col.field];
            match cells::parse(cell, field.ty, col) {
                Ok(v) => values.values[col.field] = v,
                Err(msg) => problems.push((col.field, msg)),
            }
        }
        if !filled {
            // Only cells outside the template's columns (notes in column Z, a stray value at XFD1048576): for
            // the import this row is as blank as an empty one, not a row with every required field missing.
            self.rows_skipped += 1;
            self.blank_skipped += 1;
            return;
        }
        self.rows_read += 1;
        for i in 0..fields.len() {
            let key = self.t.key_fields.contains(&i);
            if self.must_fill[i] && values.values[i].is_none() && !problems.iter().any(|(p, _)| *p == i) {
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

    /// The file column a field was read from (if the template maps it) and its name in messages.
    fn locate(&self, layout: &Layout, field: usize) -> (Option<u32>, String) {
        let ti = self.t.columns.iter().position(|c| c.field == field);
        let col = ti.and_then(|i| layout.columns[i]);
        let name = ti.map(|i| layout.names[i].clone()).unwrap_or_else(|| self.t.fields[field].label.to_string());
        (col, name)
    }

    /// `locate` for every field of the kind, with column letters, for the store's refusals after the read phase.
    fn located_fields(&self) -> Vec<(Option<String>, String)> {
        let Some(layout) = &self.layout else { return Vec::new() };
        (0..self.t.fields.len())
            .map(|field| {
                let (col, name) = self.locate(layout, field);
                (col.map(column_letter), name)
            })
            .collect()
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
            let (col, name) = self.locate(layout, field);
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
            let extra = match (self.rows_skipped, self.blank_skipped) {
                (0, _) => "",
                (all, blank) if all == blank => " (alleen regels zonder waarden in de kolommen van het sjabloon)",
                (_, 0) => " (alleen totaalregels)",
                _ => " (alleen totaalregels en regels zonder waarden in de kolommen van het sjabloon)",
            };
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
