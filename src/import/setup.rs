//! `import setup`: the whole finance set-up from one workbook (as `export setup` writes it): the sheets
//! Bronnen, Toekenningen, Begrotingsposten and Regels, each read and checked by its own kind through the one
//! engine (`engine::read_checked`), then written in ONE transaction as ONE batch of kind `setup`, which undo
//! removes whole. A row error on any sheet refuses the whole workbook. Streams go first, because the other sheets
//! refer to them by code; the rules last, applied once to the ledger when all are in.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::Connection;

use super::engine::{read_checked, Checked, ImportError, ImportOptions, ImportRequest};
use super::funding::{Funding, FundingRow};
use super::rules::Rules;
use super::streams::Streams;
use super::template::{self, SheetRef};
use super::{ImportKind, Kind, RowError, Summary};
use crate::money::Money;
use crate::report::setup::{ALLOCATIONS_SHEET, BUDGET_SHEET, RULES_SHEET, SHEETS, STREAMS_SHEET};
use crate::store::{self, Db};

/// What the summary's `template` says for a set-up batch: it has no template of its own.
pub const TEMPLATE: &str = "inrichting";

/// One sheet's share of the import.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Part {
    pub sheet: String,
    pub kind: Kind,
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_duplicate: u64,
    pub rows_rejected: u64,
    /// Column headers and the first new rows as they will be stored.
    #[serde(skip)]
    pub preview_headers: Vec<String>,
    #[serde(skip)]
    pub preview: Vec<Vec<String>>,
}

/// The outcome: the workbook's summary (counts over all sheets; `batch` set when written) and each sheet's part.
#[derive(Clone, Debug)]
pub struct SetupOutcome {
    pub summary: Summary,
    pub parts: Vec<Part>,
    /// How long the write phase held the write lock.
    pub lock_held: Duration,
}

/// The shipped template of a sheet, pointed at that sheet.
fn sheet_template(sheet: &str) -> Result<template::CheckedTemplate, ImportError> {
    let name = SHEETS.iter().find(|(s, _)| *s == sheet).map(|(_, t)| *t).unwrap_or_default();
    let mut t = template::find(name).map_err(ImportError::Internal)?;
    t.template.sheet = Some(SheetRef::Name(sheet.to_string()));
    Ok(t)
}

fn request(path: &std::path::Path, file_name: &str, actor: &str, sheet: &str) -> Result<ImportRequest, ImportError> {
    Ok(ImportRequest {
        path: PathBuf::from(path),
        file_name: file_name.to_string(),
        template: sheet_template(sheet)?,
        actor: actor.to_string(),
    })
}

/// The four sheets, read and checked.
struct Sheets {
    streams: Checked<Streams>,
    allocations: Checked<Funding>,
    budget: Checked<Funding>,
    rules: Checked<Rules>,
}

/// One sheet's counts and preview; a sheet with a header and no rows counts as empty, not as an error.
fn part<K: ImportKind>(sheet: &str, c: &Checked<K>) -> Part {
    let s = c.summary();
    let (headers, preview) = c.preview();
    Part {
        sheet: sheet.to_string(),
        kind: s.kind,
        rows_read: s.rows_read,
        rows_imported: s.rows_imported,
        rows_duplicate: s.rows_duplicate,
        rows_rejected: s.rows_rejected,
        preview_headers: headers.to_vec(),
        preview: preview.to_vec(),
    }
}

/// Errors of a sheet, unless it is merely empty.
fn errors<K: ImportKind>(c: &Checked<K>) -> (Vec<RowError>, u64) {
    if c.empty() {
        return (Vec::new(), 0);
    }
    (c.summary().errors.clone(), c.summary().errors_total)
}

impl Sheets {
    async fn read(
        db: &Db,
        path: &std::path::Path,
        file_name: &str,
        actor: &str,
        opts: &ImportOptions,
    ) -> Result<Sheets, ImportError> {
        let req = |sheet| request(path, file_name, actor, sheet);
        let streams = read_checked(db, Streams::new(), req(STREAMS_SHEET)?, opts.clone()).await?;
        let file_streams: Vec<_> = streams.records().map(|r| r.stream.clone()).collect();
        let funding = || async { Ok::<_, ImportError>(Funding::load(db).await?.with_streams(file_streams.clone())) };
        let allocations = read_checked(db, funding().await?, req(ALLOCATIONS_SHEET)?, opts.clone()).await?;
        let budget = read_checked(db, funding().await?, req(BUDGET_SHEET)?, opts.clone()).await?;
        let lines: Vec<_> = allocations
            .records()
            .chain(budget.records())
            .filter_map(|r| match r {
                FundingRow::Budget { code, line } => Some((code.clone(), line.category.clone(), line.year)),
                FundingRow::Allocation { .. } => None,
            })
            .collect();
        let rule_kind = Rules::load(db).await?.with_setup(file_streams.iter().map(|s| s.code.clone()), lines);
        let rules = read_checked(db, rule_kind, req(RULES_SHEET)?, opts.clone()).await?;
        Ok(Sheets { streams, allocations, budget, rules })
    }

    fn parts(&self) -> Vec<Part> {
        vec![
            part(STREAMS_SHEET, &self.streams),
            part(ALLOCATIONS_SHEET, &self.allocations),
            part(BUDGET_SHEET, &self.budget),
            part(RULES_SHEET, &self.rules),
        ]
    }

    /// The workbook's summary: every sheet's counts added up, their errors and duplicates listed by sheet.
    fn summary(&self, dry_run: bool) -> Summary {
        let first = self.streams.summary();
        let mut s = Summary {
            batch: None,
            kind: Kind::Setup,
            template: TEMPLATE.to_string(),
            file_name: first.file_name.clone(),
            file_sha256: first.file_sha256.clone(),
            rows_read: 0,
            rows_imported: 0,
            rows_duplicate: 0,
            rows_rejected: 0,
            rows_skipped: 0,
            amount_total: Money::ZERO,
            errors: Vec::new(),
            errors_total: 0,
            duplicates: Vec::new(),
            dry_run,
            charges: None,
            // A set-up workbook brings streams and rules with its money: it is loaded by finance as a whole and
            // does not wait for a second pair of eyes (four-eyes approval covers ledger and funding files).
            awaits_approval: false,
        };
        let sheets = [
            (self.streams.summary(), errors(&self.streams)),
            (self.allocations.summary(), errors(&self.allocations)),
            (self.budget.summary(), errors(&self.budget)),
            (self.rules.summary(), errors(&self.rules)),
        ];
        for (part, (errors, total)) in sheets {
            s.rows_read += part.rows_read;
            s.rows_imported += part.rows_imported;
            s.rows_duplicate += part.rows_duplicate;
            s.rows_rejected += part.rows_rejected;
            s.rows_skipped += part.rows_skipped;
            s.errors.extend(errors);
            s.errors_total += total;
            s.duplicates.extend(part.duplicates.iter().cloned());
        }
        s
    }

    fn new_rows(&self) -> u64 {
        self.streams.new_rows() + self.allocations.new_rows() + self.budget.new_rows() + self.rules.new_rows()
    }

    /// Writes every sheet in one transaction and one batch; None (rolled back) when the stored data refuses a row
    /// now, which the summary then lists.
    async fn write(&mut self, db: &Db, actor: &str) -> Result<(Option<i64>, Duration), ImportError> {
        let mut conn = db.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let locked = std::time::Instant::now();
        let batch = store::imports::create_batch(&mut tx, &self.summary(false), actor, false).await?;
        let mut refused = 0;
        refused += self.streams.insert(&mut tx, batch).await?;
        refused += self.allocations.insert(&mut tx, batch).await?;
        refused += self.budget.insert(&mut tx, batch).await?;
        refused += self.rules.insert(&mut tx, batch).await?;
        if refused > 0 || self.new_rows() == 0 {
            tx.rollback().await?;
            return Ok((None, locked.elapsed()));
        }
        store::attribution::apply_in(&mut tx, actor).await?;
        store::imports::finish_batch(&mut tx, batch, &self.summary(false), actor).await?;
        tx.commit().await?;
        Ok((Some(batch), locked.elapsed()))
    }
}

/// Reads, checks and (unless `opts.dry_run`, or when any sheet has an error) writes a set-up workbook.
/// `opts.skip_invalid` is ignored: a set-up is loaded whole or not at all.
pub async fn run(
    db: &Db,
    path: &std::path::Path,
    file_name: &str,
    actor: &str,
    opts: ImportOptions,
) -> Result<SetupOutcome, ImportError> {
    let opts = ImportOptions { skip_invalid: false, ..opts };
    let mut sheets = Sheets::read(db, path, file_name, actor, &opts).await?;
    let summary = sheets.summary(opts.dry_run);
    if opts.dry_run || summary.has_errors() || sheets.new_rows() == 0 {
        return Ok(SetupOutcome { summary, parts: sheets.parts(), lock_held: Duration::ZERO });
    }
    let (batch, lock_held) = sheets.write(db, actor).await?;
    if batch.is_some() {
        store::checkpoint_in_background(db);
    }
    let mut summary = sheets.summary(false);
    summary.batch = batch;
    Ok(SetupOutcome { summary, parts: sheets.parts(), lock_held })
}
