//! Four-eyes approval of imported ledger and funding batches (setting `four_eyes_imports`), and the one rule
//! for whether an imported record counts in figures.
//!
//! A pending batch's ledger lines get no attribution until it is approved, so everything built on
//! `ledger_attribution` (the reconciliation's actuals, `spend_aggregate` and any other kept aggregate, the
//! signals) leaves them out without a rule of its own. A query that reads `ledger_entry`, `allocation` or
//! `budget_line` itself adds [`counts`] for the batch column.

use serde::Serialize;

use super::attribution::ApplyOutcome;
use super::imports::{self, UndoError};
use super::{audit, begin, Db, Tx};
use crate::domain::dates;
use crate::import::Kind;

/// The `import_batch.approval` of a batch that waits.
pub const PENDING: &str = "pending";

/// The kinds that wait for approval when the setting is on: those that move money figures.
pub fn asks_approval(kind: Kind) -> bool {
    matches!(kind, Kind::Ledger | Kind::Funding)
}

/// The one rule, as an SQL condition on the batch column of an imported record (`e.batch_id`, `a.batch_id`;
/// NULL for a record entered on a screen): true when the record counts, that is when its batch does not wait
/// for approval. The pending batches are few and found through their partial index.
pub fn counts(batch_column: &str) -> String {
    format!("COALESCE({batch_column}, 0) NOT IN (SELECT id FROM import_batch WHERE approval = '{PENDING}')")
}

/// Whether a batch waits for approval, on the caller's connection.
pub async fn awaits(conn: &mut super::Conn, batch: i64) -> sqlx::Result<bool> {
    let approval: Option<Option<String>> =
        sqlx::query_scalar("SELECT approval FROM import_batch WHERE id = ?").bind(batch).fetch_optional(conn).await?;
    Ok(approval.flatten().as_deref() == Some(PENDING))
}

/// Why an approval or rejection was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("importbatch {0} bestaat niet")]
    NotFound(i64),
    #[error("importbatch {0} wacht niet op goedkeuring; er is niets veranderd")]
    NotPending(i64),
    #[error(
        "u hebt importbatch {0} zelf geïmporteerd en mag die daarom niet goedkeuren (vier ogen). Vraag een andere \
         financieel medewerker of een beheerder om de batch goed te keuren"
    )]
    OwnImport(i64),
    #[error(transparent)]
    Undo(#[from] UndoError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A pending batch, or why not.
async fn pending_batch(tx: &mut Tx<'_>, id: i64) -> Result<imports::BatchRow, ApprovalError> {
    let batch = imports::batch_in(tx, id).await?.ok_or(ApprovalError::NotFound(id))?;
    if !batch.awaits_approval() || batch.status == "undone" {
        return Err(ApprovalError::NotPending(id));
    }
    Ok(batch)
}

/// Approves a pending batch, never the approver's own import: from now on it counts. A ledger batch's lines go
/// through the attribution rules in the same transaction, so attributed + unattributed = imported holds at once.
pub async fn approve(db: &Db, id: i64, actor: &str) -> Result<ApplyOutcome, ApprovalError> {
    let mut tx = begin(db).await?;
    let batch = pending_batch(&mut tx, id).await?;
    if batch.imported_by == actor {
        return Err(ApprovalError::OwnImport(id));
    }
    let now = dates::now_timestamp();
    sqlx::query("UPDATE import_batch SET approval = 'approved', approval_by = ?, approval_at = ? WHERE id = ?")
        .bind(actor)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let outcome = if batch.kind == Kind::Ledger.as_str() {
        super::attribution::apply_to_batch(&mut tx, id, actor).await?
    } else {
        ApplyOutcome::default()
    };
    let after =
        Decision { approval: "approved", approval_by: actor, approval_at: &now, lines_attributed: outcome.changed };
    let before = serde_json::json!({ "approval": PENDING, "imported_by": batch.imported_by });
    audit::record(&mut tx, actor, "approve", "import_batch", id, Some(&before), Some(&audit::snapshot(&after))).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Rejects a pending batch: removed exactly like an undo (`store::imports::undo_batch`), recorded as a
/// rejection. Anyone who may approve may reject, the importer too (as they may undo). Returns the records removed.
pub async fn reject(db: &Db, id: i64, actor: &str) -> Result<u64, ApprovalError> {
    let mut tx = begin(db).await?;
    pending_batch(&mut tx, id).await?;
    let removed = imports::undo_in(&mut tx, id, actor).await?;
    tx.commit().await?;
    Ok(removed)
}

/// The audit record of an approval.
#[derive(Serialize)]
struct Decision<'a> {
    approval: &'a str,
    approval_by: &'a str,
    approval_at: &'a str,
    lines_attributed: usize,
}

/// The batches that wait for approval, oldest first (for finance's start page).
pub async fn pending_batches(db: &Db) -> sqlx::Result<Vec<imports::BatchRow>> {
    sqlx::query_as(&format!(
        "SELECT {} FROM import_batch WHERE approval = '{PENDING}' AND status = 'active' ORDER BY id",
        imports::BATCH_COLUMNS
    ))
    .fetch_all(db)
    .await
}

/// The first pending batch with a ledger line, allocation or budget line in `year` or before (closing a year
/// closes every year before it): its id and file name. Such a year cannot be closed.
pub async fn pending_in_year(tx: &mut Tx<'_>, year: i32) -> sqlx::Result<Option<(i64, String)>> {
    sqlx::query_as(
        "SELECT b.id, b.file_name FROM import_batch b
         WHERE b.approval = 'pending' AND (
             EXISTS (SELECT 1 FROM ledger_entry e WHERE e.id BETWEEN b.first_entry_id AND b.last_entry_id
                     AND e.batch_id = b.id AND e.booking_date < printf('%04d-01-01', ?1 + 1))
             OR EXISTS (SELECT 1 FROM allocation a WHERE a.batch_id = b.id AND a.year <= ?1)
             OR EXISTS (SELECT 1 FROM budget_line l WHERE l.batch_id = b.id AND l.year <= ?1))
         ORDER BY b.id LIMIT 1",
    )
    .bind(year)
    .fetch_optional(&mut **tx)
    .await
}
