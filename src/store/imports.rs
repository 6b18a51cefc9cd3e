//! Import batches and the ledger lines they hold: multi-row inserts, duplicate detection by identity, undo.

use std::collections::BTreeSet;

use serde::Serialize;

use super::bulk::{self, Value};
use super::{audit, Conn, Db, Tx};
use crate::domain::dates;
use crate::import::ledger::LedgerLine;
use crate::import::{Prepared, Summary};
use crate::money::Money;

/// A batch as stored.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct BatchRow {
    pub id: i64,
    pub kind: String,
    pub template: String,
    pub file_name: String,
    pub file_sha256: String,
    pub imported_by: String,
    pub imported_at: String,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
    pub amount_total_cents: i64,
    pub status: String,
    pub undone_by: Option<String>,
    pub undone_at: Option<String>,
    /// None, 'pending', 'approved' or 'rejected' (see `store::approval`).
    pub approval: Option<String>,
    pub approval_by: Option<String>,
    pub approval_at: Option<String>,
}

impl BatchRow {
    /// Whether the batch waits for another user's approval, and so counts nowhere yet.
    pub fn awaits_approval(&self) -> bool {
        self.approval.as_deref() == Some(super::approval::PENDING)
    }

    pub fn amount_total(&self) -> Money {
        Money::from_cents(self.amount_total_cents)
    }
}

pub(super) const BATCH_COLUMNS: &str =
    "id, kind, template, file_name, file_sha256, imported_by, imported_at, rows_read, \
     rows_imported, rows_duplicate, rows_rejected, amount_total_cents, status, undone_by, undone_at, approval, \
     approval_by, approval_at";

/// A new batch; `awaits_approval`: it counts nowhere until another user approves it (`store::approval`).
pub async fn create_batch(tx: &mut Tx<'_>, s: &Summary, actor: &str, awaits_approval: bool) -> sqlx::Result<i64> {
    // The first id this batch's ledger lines will get (see `entry_range`); the write lock is held from here on.
    sqlx::query_scalar(
        "INSERT INTO import_batch (kind, template, file_name, file_sha256, imported_by, imported_at, first_entry_id,
                                   approval)
         VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ?7 = 'ledger' THEN (SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_entry) END,
                 CASE WHEN ?8 THEN 'pending' END)
         RETURNING id",
    )
    .bind(s.kind.as_str())
    .bind(&s.template)
    .bind(&s.file_name)
    .bind(&s.file_sha256)
    .bind(actor)
    .bind(dates::now_timestamp())
    .bind(s.kind.as_str())
    .bind(awaits_approval)
    .fetch_one(&mut **tx)
    .await
}

/// The register tables whose rows an import links to its batch, so undo can find them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterTable {
    Provider,
    Certification,
    Contract,
    Tariff,
    Placement,
    QualityResult,
}

impl RegisterTable {
    fn table(self) -> &'static str {
        match self {
            RegisterTable::Provider => "provider",
            RegisterTable::Certification => "certification",
            RegisterTable::Contract => "contract",
            RegisterTable::Tariff => "tariff",
            RegisterTable::Placement => "placement",
            RegisterTable::QualityResult => "quality_result",
        }
    }
}

/// Who runs the batch, as recorded on it: the audit rows of imported records name the importer.
pub async fn batch_actor(tx: &mut Tx<'_>, batch: i64) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT imported_by FROM import_batch WHERE id = ?").bind(batch).fetch_one(&mut **tx).await
}

/// Links a record the import created to its batch, so undo can find it.
pub async fn mark_batch(tx: &mut Tx<'_>, table: RegisterTable, id: i64, batch: i64) -> sqlx::Result<()> {
    sqlx::query(&format!("UPDATE {} SET batch_id = ? WHERE id = ?", table.table()))
        .bind(batch)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The batch that brought an existing record (0 when it was entered on a screen).
pub async fn batch_of(conn: &mut Conn, table: RegisterTable, id: i64) -> sqlx::Result<i64> {
    let b: Option<i64> = sqlx::query_scalar(&format!("SELECT batch_id FROM {} WHERE id = ?", table.table()))
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(b.unwrap_or(0))
}

/// The ids of a ledger batch's lines, first and last inclusive. While the batch is being imported its lines are
/// the newest, so the range is open above until `finish_batch` closes it.
pub async fn entry_range(tx: &mut Tx<'_>, batch: i64) -> sqlx::Result<(i64, i64)> {
    let range: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT first_entry_id, last_entry_id FROM import_batch WHERE id = ?")
            .bind(batch)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match range {
        Some((Some(first), last)) => (first, last.unwrap_or(i64::MAX)),
        _ => (1, 0),
    })
}

/// Writes the final counts and the audit row, in the import's transaction.
pub async fn finish_batch(tx: &mut Tx<'_>, id: i64, s: &Summary, actor: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE import_batch SET rows_read = ?, rows_imported = ?, rows_duplicate = ?, rows_rejected = ?,
         amount_total_cents = ?,
         last_entry_id = CASE WHEN kind = 'ledger' THEN (SELECT MAX(id) FROM ledger_entry) END
         WHERE id = ?",
    )
    .bind(s.rows_read as i64)
    .bind(s.rows_imported as i64)
    .bind(s.rows_duplicate as i64)
    .bind(s.rows_rejected as i64)
    .bind(s.amount_total.cents())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let after = serde_json::json!({
        "kind": s.kind, "template": s.template, "file_name": s.file_name, "file_sha256": s.file_sha256,
        "rows_read": s.rows_read, "rows_imported": s.rows_imported, "rows_duplicate": s.rows_duplicate,
        "rows_rejected": s.rows_rejected, "amount_total": s.amount_total,
    });
    audit::record(tx, actor, "import", "import_batch", id, None, Some(&after)).await
}

/// Rows the import engine hands the writer at a time.
pub const INSERT_CHUNK: usize = 500;

/// Inserts the lines that are new; returns `(index into rows, batch that already holds it)` for the others.
/// Runs on the transaction's own connection through `store::bulk` (see there why not through sqlx).
pub async fn insert_ledger_lines(
    tx: &mut Tx<'_>,
    batch: i64,
    rows: &[Prepared<LedgerLine>],
) -> sqlx::Result<Vec<(usize, i64)>> {
    let mut handle = (**tx).lock_handle().await?;
    let mut insert = bulk::Statement::prepare(
        &mut handle,
        "INSERT INTO ledger_entry (batch_id, source_row, identity, booking_date, fiscal_year, period, document, line,
         gl_account, cost_centre, task_field, creditor_number, creditor_name, invoice_number, description, amount_cents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (identity) DO NOTHING",
    )?;
    let mut duplicates = Vec::new();
    for (i, p) in rows.iter().enumerate() {
        let r = &p.record;
        let date = dates::iso_text(r.booking_date);
        let (_, changed) = insert.execute(&[
            Value::Int(batch),
            Value::Int(p.row as i64),
            Value::Blob(&p.identity),
            Value::Text(&date),
            r.fiscal_year.into(),
            r.period.into(),
            Value::Text(&r.document),
            Value::Text(&r.line),
            Value::Text(&r.gl_account),
            Value::Text(&r.cost_centre),
            Value::Text(&r.task_field),
            Value::Text(&r.creditor_number),
            Value::Text(&r.creditor_name),
            Value::Text(&r.invoice_number),
            Value::Text(&r.description),
            Value::Int(r.amount.cents()),
        ])?;
        if changed == 0 {
            duplicates.push(i);
        }
    }
    drop(insert);
    if duplicates.is_empty() {
        return Ok(Vec::new());
    }
    let mut holder = bulk::Statement::prepare(&mut handle, "SELECT batch_id FROM ledger_entry WHERE identity = ?1")?;
    duplicates.into_iter().map(|i| Ok((i, holder.execute(&[Value::Blob(&rows[i].identity)])?.0.unwrap_or(0)))).collect()
}

/// The batches holding the ledger lines with the identities of `rows`: `(index into rows, batch)` of those
/// stored. Through `store::bulk`: the read phase asks it for every line of a file.
pub async fn ledger_holders(conn: &mut Conn, rows: &[Prepared<LedgerLine>]) -> sqlx::Result<Vec<(usize, i64)>> {
    let mut handle = conn.lock_handle().await?;
    let mut holder = bulk::Statement::prepare(&mut handle, "SELECT batch_id FROM ledger_entry WHERE identity = ?1")?;
    let mut found = Vec::new();
    for (i, p) in rows.iter().enumerate() {
        if let (Some(batch), _) = holder.execute(&[Value::Blob(&p.identity)])? {
            found.push((i, batch));
        }
    }
    Ok(found)
}

/// Whether any of `batches` is undone: their lines, found stored before, are gone.
pub async fn any_undone(tx: &mut Tx<'_>, batches: &BTreeSet<i64>) -> sqlx::Result<bool> {
    if batches.is_empty() {
        return Ok(false);
    }
    let ids = serde_json::to_string(batches).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let undone: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM import_batch WHERE status = 'undone' AND id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .fetch_one(&mut **tx)
    .await?;
    Ok(undone > 0)
}

pub async fn get_batch(db: &Db, id: i64) -> sqlx::Result<Option<BatchRow>> {
    batch_in(&mut *db.acquire().await?, id).await
}

/// A batch, on the caller's connection (inside a transaction or not).
pub async fn batch_in(conn: &mut Conn, id: i64) -> sqlx::Result<Option<BatchRow>> {
    sqlx::query_as(&format!("SELECT {BATCH_COLUMNS} FROM import_batch WHERE id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn list_batches(db: &Db, limit: i64) -> sqlx::Result<Vec<BatchRow>> {
    sqlx::query_as(&format!("SELECT {BATCH_COLUMNS} FROM import_batch ORDER BY id DESC LIMIT ?"))
        .bind(limit)
        .fetch_all(db)
        .await
}

/// The newest batches of the given kinds.
pub async fn list_batches_of(db: &Db, kinds: &[crate::import::Kind], limit: i64) -> sqlx::Result<Vec<BatchRow>> {
    let placeholders = vec!["?"; kinds.len()].join(",");
    let sql =
        format!("SELECT {BATCH_COLUMNS} FROM import_batch WHERE kind IN ({placeholders}) ORDER BY id DESC LIMIT ?");
    let mut q = sqlx::query_as(&sql);
    for k in kinds {
        q = q.bind(k.as_str());
    }
    q.bind(limit).fetch_all(db).await
}

/// Why an undo was refused.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("importbatch {0} bestaat niet")]
    NotFound(i64),
    #[error("importbatch {0} is al ongedaan gemaakt")]
    AlreadyUndone(i64),
    #[error("importbatch {0} bevat regels in het afgesloten jaar {1}; vraag een beheerder het jaar te heropenen")]
    ClosedYear(i64, i32),
    /// Records of the batch are used by data that came later; carries the Dutch explanation.
    #[error("importbatch {0} kan niet ongedaan worden gemaakt: {1}. Er is niets veranderd.")]
    Referenced(i64, String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The first closed year among the booking years of a batch's lines: such a batch cannot change.
pub async fn closed_year_in_batch(tx: &mut Tx<'_>, batch: i64) -> sqlx::Result<Option<i32>> {
    // Closing a year closes every year before it (see store::funding::last_closed), so only the last closed
    // year matters, and with none closed there is nothing to scan.
    let Some(last_closed) = crate::store::funding::last_closed(tx).await? else { return Ok(None) };
    let (first, last) = entry_range(tx, batch).await?;
    // ISO dates compare as text: every date up to the end of the last closed year sorts before the next year.
    let earliest: Option<String> = sqlx::query_scalar(
        "SELECT MIN(e.booking_date) FROM ledger_entry e
         WHERE e.id BETWEEN ? AND ? AND e.batch_id = ? AND e.booking_date < ?",
    )
    .bind(first)
    .bind(last)
    .bind(batch)
    .bind(format!("{:04}-01-01", last_closed + 1))
    .fetch_one(&mut **tx)
    .await?;
    Ok(earliest.and_then(|d| d.get(..4).and_then(|y| y.parse().ok())))
}

/// Removes a batch's lines and marks it undone, audited, in one transaction. Returns the lines removed.
pub async fn undo_batch(db: &Db, id: i64, actor: &str) -> Result<u64, UndoError> {
    let mut tx = super::begin(db).await?;
    let removed = undo_in(&mut tx, id, actor).await?;
    tx.commit().await?;
    Ok(removed)
}

/// `undo_batch` in the caller's transaction. A batch that waits for approval is rejected this way: the same
/// removal, recorded as a rejection (who, when) on the batch and in the audit log.
pub(super) async fn undo_in(tx: &mut Tx<'_>, id: i64, actor: &str) -> Result<u64, UndoError> {
    let before = batch_in(tx, id).await?.ok_or(UndoError::NotFound(id))?;
    if before.status == "undone" {
        return Err(UndoError::AlreadyUndone(id));
    }
    if let Some(year) = closed_year_in_batch(tx, id).await? {
        return Err(UndoError::ClosedYear(id, year));
    }
    let removed = match before.kind.as_str() {
        "ledger" => {
            // Attributions first, while their lines still exist: the spend_aggregate triggers read the amount
            // and booking date of the line (the ON DELETE CASCADE would run after the line is gone).
            let (first, last) = entry_range(tx, id).await?;
            sqlx::query(
                "DELETE FROM ledger_attribution WHERE ledger_entry_id IN
                 (SELECT id FROM ledger_entry WHERE id BETWEEN ?1 AND ?2 AND batch_id = ?3)",
            )
            .bind(first)
            .bind(last)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM ledger_entry WHERE id BETWEEN ? AND ? AND batch_id = ?")
                .bind(first)
                .bind(last)
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        }
        other => undo_register(tx, id, other, actor).await?,
    };
    let now = dates::now_timestamp();
    let rejected = before.awaits_approval();
    sqlx::query(
        "UPDATE import_batch SET status = 'undone', undone_by = ?1, undone_at = ?2,
             approval = CASE WHEN ?3 THEN 'rejected' ELSE approval END,
             approval_by = CASE WHEN ?3 THEN ?1 ELSE approval_by END,
             approval_at = CASE WHEN ?3 THEN ?2 ELSE approval_at END
         WHERE id = ?4",
    )
    .bind(actor)
    .bind(&now)
    .bind(rejected)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let mut after =
        serde_json::json!({ "status": "undone", "lines_removed": removed, "undone_by": actor, "undone_at": now });
    if rejected {
        after["approval"] = "rejected".into();
    }
    let action = if rejected { "reject" } else { "undo" };
    audit::record(tx, actor, action, "import_batch", id, Some(&audit::snapshot(&before)), Some(&after)).await?;
    Ok(removed)
}

/// A stored ledger line, for the batch's line list.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct LedgerEntryRow {
    pub id: i64,
    pub source_row: i64,
    pub booking_date: String,
    pub fiscal_year: Option<i64>,
    pub period: Option<i64>,
    pub document: String,
    pub line: String,
    pub gl_account: String,
    pub cost_centre: String,
    pub task_field: String,
    pub creditor_number: String,
    pub creditor_name: String,
    pub invoice_number: String,
    pub description: String,
    pub amount_cents: i64,
}

pub async fn batch_lines(db: &Db, batch: i64, limit: i64, offset: i64) -> sqlx::Result<Vec<LedgerEntryRow>> {
    // Lines are inserted in source-row order, so id order is the file's order.
    sqlx::query_as(
        "SELECT e.id, e.source_row, e.booking_date, e.fiscal_year, e.period, e.document, e.line, e.gl_account,
                e.cost_centre, e.task_field, e.creditor_number, e.creditor_name, e.invoice_number, e.description,
                e.amount_cents
         FROM import_batch b JOIN ledger_entry e ON e.id BETWEEN b.first_entry_id AND b.last_entry_id
         WHERE b.id = ?1 AND e.batch_id = ?1 ORDER BY e.id LIMIT ?2 OFFSET ?3",
    )
    .bind(batch)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Number of ledger lines and their total in cents: for tests and the overview (from the pool, or on one
/// connection).
pub async fn ledger_totals<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Sqlite>) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM ledger_entry").fetch_one(db).await
}

/// Checks that run before a register batch is removed: each query returns a description of the first record of
/// the batch that later data uses, or nothing. `?1` is the batch.
const REFERENCE_CHECKS: &[(&[&str], &str)] = &[
    (
        &["providers"],
        "SELECT 'taalaanbieder ' || p.name || ' (KvK ' || p.kvk || ') heeft inmiddels keurmerken, contracten of een crediteurkoppeling'
         FROM provider p WHERE p.batch_id = ?1 AND (
             EXISTS (SELECT 1 FROM certification c WHERE c.provider_id = p.id)
             OR EXISTS (SELECT 1 FROM contract k WHERE k.provider_id = p.id)
             OR EXISTS (SELECT 1 FROM creditor_link l WHERE l.provider_id = p.id))
         ORDER BY p.id LIMIT 1",
    ),
    (
        &["contracts"],
        "SELECT 'contract ' || k.reference || ' heeft inmiddels plaatsingen, tarieven of betaalmomenten uit een andere batch, \
         opties, documenten of toegerekende boekingen; maak die eerst ongedaan of verwijder ze'
         FROM contract k WHERE k.batch_id = ?1 AND (
             EXISTS (SELECT 1 FROM placement x WHERE x.contract_id = k.id)
             OR EXISTS (SELECT 1 FROM tariff x WHERE x.contract_id = k.id AND x.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM payment_milestone x WHERE x.contract_id = k.id AND x.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM extension_option x WHERE x.contract_id = k.id)
             OR EXISTS (SELECT 1 FROM contract_document x WHERE x.contract_id = k.id)
             OR EXISTS (SELECT 1 FROM attribution_rule x WHERE x.contract_id = k.id)
             OR EXISTS (SELECT 1 FROM ledger_attribution x WHERE x.contract_id = k.id))
         ORDER BY k.id LIMIT 1",
    ),
    (
        &["contracts"],
        "SELECT 'het tarief van contract ' || k.reference || ' voor route ' || t.route || ' vanaf ' || t.valid_from
             || ' geldt voor plaatsingen die inmiddels zijn vastgelegd'
         FROM tariff t JOIN contract k ON k.id = t.contract_id
         WHERE t.batch_id = ?1 AND EXISTS (SELECT 1 FROM placement x WHERE x.contract_id = t.contract_id AND x.route = t.route
             AND x.start_date >= t.valid_from AND (t.valid_until IS NULL OR x.start_date <= t.valid_until))
         ORDER BY t.id LIMIT 1",
    ),
    (
        &["contracts"],
        "SELECT 'de betaalmomenten van contract ' || k.reference || ' voor route ' || m.route
             || ' gelden voor plaatsingen die inmiddels zijn vastgelegd'
         FROM payment_milestone m JOIN contract k ON k.id = m.contract_id
         WHERE m.batch_id = ?1 AND EXISTS (SELECT 1 FROM placement x WHERE x.contract_id = m.contract_id AND x.route = m.route)
         ORDER BY m.id LIMIT 1",
    ),
    (
        &["placements"],
        "SELECT 'plaatsing van klant ' || p.client_number || ' heeft inmiddels voortgangsrapportages, routewijzigingen of besluiten uit de factuurcontrole'
         FROM placement p WHERE p.batch_id = ?1 AND (
             EXISTS (SELECT 1 FROM progress_report x WHERE x.placement_id = p.id)
             OR EXISTS (SELECT 1 FROM route_change x WHERE x.placement_id = p.id)
             OR EXISTS (SELECT 1 FROM invoice_difference x WHERE x.placement_id = p.id))
         ORDER BY p.id LIMIT 1",
    ),
    (
        &["funding"],
        "SELECT 'begrotingspost ' || b.category || ' ' || b.year || ' wordt inmiddels gebruikt door een toerekenregel of toegerekende boekingen'
         FROM budget_line b WHERE b.batch_id = ?1 AND (
             EXISTS (SELECT 1 FROM attribution_rule r WHERE r.budget_line_id = b.id)
             OR EXISTS (SELECT 1 FROM ledger_attribution a WHERE a.budget_line_id = b.id))
         ORDER BY b.id LIMIT 1",
    ),
    (
        &["funding", "setup"],
        "SELECT 'het jaar ' || y.year || ' is afgesloten; vraag een beheerder het jaar te heropenen'
         FROM year_close y WHERE EXISTS (SELECT 1 FROM allocation a WHERE a.batch_id = ?1 AND a.year = y.year)
             OR EXISTS (SELECT 1 FROM budget_line b WHERE b.batch_id = ?1 AND b.year = y.year)
         ORDER BY y.year LIMIT 1",
    ),
    (
        &["results"],
        "SELECT 'de resultaten van ' || p.name || ', route ' || r.route || ', meetjaar ' || r.year
             || ' zijn na de import op het scherm gewijzigd; pas ze daar aan'
         FROM quality_result r JOIN provider p ON p.id = r.provider_id
         WHERE r.batch_id = ?1 AND r.version > 1
         ORDER BY r.id LIMIT 1",
    ),
    (
        &["instroom"],
        "SELECT 'het aantal ' || c.grp || ' in ' || c.period || ' is na de import op het scherm gewijzigd; pas het daar aan'
         FROM inflow_count c WHERE c.batch_id = ?1 AND c.version > 1 ORDER BY c.id LIMIT 1",
    ),
    (
        &["setup"],
        "SELECT 'begrotingspost ' || b.category || ' ' || b.year || ' wordt inmiddels gebruikt door een toerekenregel van buiten deze batch of door boekingen die met de hand zijn toegerekend'
         FROM budget_line b WHERE b.batch_id = ?1 AND (
             EXISTS (SELECT 1 FROM attribution_rule r WHERE r.budget_line_id = b.id AND r.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM ledger_attribution a WHERE a.budget_line_id = b.id AND a.source = 'manual'))
         ORDER BY b.id LIMIT 1",
    ),
    (
        &["streams", "setup"],
        "SELECT 'financieringsbron ' || s.code || ' heeft inmiddels toekenningen, begrotingsposten, toerekenregels, een \
         standaarddoelgroep of met de hand toegerekende boekingen van buiten deze batch; maak die eerst ongedaan of verwijder ze'
         FROM funding_stream s WHERE s.batch_id = ?1 AND (
             EXISTS (SELECT 1 FROM allocation x WHERE x.stream_id = s.id AND x.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM budget_line x WHERE x.stream_id = s.id AND x.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM attribution_rule x WHERE x.stream_id = s.id AND x.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM cohort_stream x WHERE x.stream_id = s.id AND x.batch_id IS NOT ?1)
             OR EXISTS (SELECT 1 FROM ledger_attribution x WHERE x.stream_id = s.id AND x.source = 'manual'))
         ORDER BY s.id LIMIT 1",
    ),
    (
        // Undoing rules applies the others again, which leaves closed years as they are: a rule of the batch that
        // attributes lines there cannot go.
        &["rules", "setup"],
        "SELECT 'toerekenregel ' || r.name || ' rekent boekingen toe in het afgesloten jaar ' || substr(e.booking_date, 1, 4)
             || '; vraag een beheerder het jaar te heropenen'
         FROM attribution_rule r JOIN ledger_attribution a ON a.rule_id = r.id JOIN ledger_entry e ON e.id = a.ledger_entry_id
         WHERE r.batch_id = ?1 AND e.booking_date < (SELECT printf('%04d-01-01', MAX(year) + 1) FROM year_close)
         ORDER BY e.booking_date LIMIT 1",
    ),
];

/// The tables each register kind writes, in the order their rows are removed (dependents first).
fn register_tables(kind: &str) -> &'static [&'static str] {
    match kind {
        "providers" => &["provider"],
        "certifications" => &["certification"],
        "contracts" => &["payment_milestone", "tariff", "contract"],
        "placements" => &["placement"],
        "funding" => &["allocation", "budget_line"],
        "results" => &["quality_result"],
        // Exam attempts go with their report (ON DELETE CASCADE).
        "progress" => &["progress_report"],
        // Rules first: removing them applies the others again, which releases the lines they attributed to the
        // batch's streams and budget lines before those go.
        "streams" => &["cohort_stream", "funding_stream"],
        "rules" => &["attribution_rule"],
        "setup" => &["attribution_rule", "allocation", "budget_line", "cohort_stream", "funding_stream"],
        "instroom" => &["inflow_count"],
        _ => &[],
    }
}

/// Removes the records a register batch created, after checking nothing later depends on them. Each removed
/// record is audited with its values before.
async fn undo_register(tx: &mut Tx<'_>, id: i64, kind: &str, actor: &str) -> Result<u64, UndoError> {
    for (_, sql) in REFERENCE_CHECKS.iter().filter(|(kinds, _)| kinds.contains(&kind)) {
        let found: Option<String> = sqlx::query_scalar(sql).bind(id).fetch_optional(&mut **tx).await?;
        if let Some(why) = found {
            return Err(UndoError::Referenced(id, why));
        }
    }
    let mut removed = 0;
    for table in register_tables(kind) {
        // Audit each record with its values before it goes.
        for before in row_snapshots(tx, table, id).await? {
            // cohort_stream is keyed by its cohort; every other table by id.
            let rid = match (&before["id"], &before["cohort"]) {
                (serde_json::Value::Number(n), _) => n.to_string(),
                (_, serde_json::Value::String(c)) => c.clone(),
                _ => String::new(),
            };
            audit::record(tx, actor, "delete", table, rid, Some(&before), None).await?;
        }
        removed += sqlx::query(&format!("DELETE FROM {table} WHERE batch_id = ?"))
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if *table == "attribution_rule" {
            crate::store::attribution::apply_in(tx, actor).await?;
        }
    }
    Ok(removed)
}

/// Every row of `table` that `batch` created, as JSON objects (column name -> value), ordered by id.
async fn row_snapshots(tx: &mut Tx<'_>, table: &str, batch: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    use sqlx::{Column, Row, ValueRef};
    let rows = sqlx::query(&format!("SELECT * FROM {table} WHERE batch_id = ? ORDER BY rowid"))
        .bind(batch)
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for (i, c) in r.columns().iter().enumerate() {
                let raw = r.try_get_raw(i).ok();
                let v = match raw {
                    Some(v) if v.is_null() => serde_json::Value::Null,
                    _ => match r.try_get::<i64, _>(i) {
                        Ok(n) => n.into(),
                        Err(_) => r.try_get::<String, _>(i).map(Into::into).unwrap_or(serde_json::Value::Null),
                    },
                };
                m.insert(c.name().to_string(), v);
            }
            serde_json::Value::Object(m)
        })
        .collect())
}
