//! Funding streams, allocations, budget lines, cohort defaults, creditor links and closed years.

use std::collections::HashMap;

use time::Date;

use super::{audit, begin, Db, Tx};
use crate::domain::dates;
use crate::domain::funding::{Allocation, AllocationKind, BudgetLine, FundingStream, StreamKind};
use crate::domain::route::Cohort;
use crate::money::Money;

#[derive(sqlx::FromRow)]
struct StreamRow {
    id: i64,
    code: String,
    name: String,
    kind: String,
    cohorts: String,
    spend_from: Date,
    spend_until: Option<Date>,
    carry_over: bool,
    notes: String,
    version: i64,
}

impl StreamRow {
    fn into_stream(self) -> (FundingStream, i64) {
        (
            FundingStream {
                id: self.id,
                code: self.code,
                name: self.name,
                kind: StreamKind::parse(&self.kind).expect("CHECK constraint"),
                cohorts: self.cohorts.split(',').filter_map(Cohort::parse).collect(),
                spend_from: self.spend_from,
                spend_until: self.spend_until,
                carry_over: self.carry_over,
                notes: self.notes,
            },
            self.version,
        )
    }
}

const STREAM_COLUMNS: &str = "id, code, name, kind, cohorts, spend_from, spend_until, carry_over, notes, version";

/// All streams with their versions, by code.
pub async fn streams(db: &Db) -> sqlx::Result<Vec<(FundingStream, i64)>> {
    let rows: Vec<StreamRow> =
        sqlx::query_as(&format!("SELECT {STREAM_COLUMNS} FROM funding_stream ORDER BY code")).fetch_all(db).await?;
    Ok(rows.into_iter().map(StreamRow::into_stream).collect())
}

pub async fn stream(db: &Db, id: i64) -> sqlx::Result<Option<(FundingStream, i64)>> {
    let row: Option<StreamRow> = sqlx::query_as(&format!("SELECT {STREAM_COLUMNS} FROM funding_stream WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(StreamRow::into_stream))
}

#[derive(Debug, thiserror::Error)]
pub enum FundingError {
    #[error("code {0} is al in gebruik")]
    DuplicateCode(String),
    #[error("het record is intussen gewijzigd")]
    Stale,
    #[error("jaar {0} is afgesloten; vraag een beheerder het jaar te heropenen")]
    ClosedYear(i32),
    #[error("heropen eerst {0}: dat jaar bouwt voort op dit jaar")]
    NextYearClosed(i32),
    #[error("jaar {0} is niet afgesloten")]
    NotClosed(i32),
    #[error(
        "jaar {year} kan nog niet worden afgesloten: importbatch {batch} ({file}) met boekingen of bedragen in {year} \
         of eerder wacht op goedkeuring. Laat een andere financieel medewerker of een beheerder die batch goedkeuren \
         of afwijzen en sluit het jaar daarna af"
    )]
    PendingBatch { year: i32, batch: i64, file: String },
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn cohorts_code(s: &FundingStream) -> String {
    s.cohorts.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")
}

pub async fn create_stream(db: &Db, s: &FundingStream, actor: &str) -> Result<i64, FundingError> {
    let mut tx = begin(db).await?;
    let id = create_stream_in(&mut tx, s, None, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a stream inside the caller's transaction; `batch` is the import that brings it (None: a screen).
pub async fn create_stream_in(
    tx: &mut Tx<'_>,
    s: &FundingStream,
    batch: Option<i64>,
    actor: &str,
) -> Result<i64, FundingError> {
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM funding_stream WHERE code = ?")
        .bind(&s.code)
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(FundingError::DuplicateCode(s.code.clone()));
    }
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO funding_stream (code, name, kind, cohorts, spend_from, spend_until, carry_over, notes, batch_id,
             created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&s.code)
    .bind(&s.name)
    .bind(s.kind.code())
    .bind(cohorts_code(s))
    .bind(s.spend_from)
    .bind(s.spend_until)
    .bind(s.carry_over)
    .bind(&s.notes)
    .bind(batch)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(tx, actor, "create", "funding_stream", id, None, Some(&audit::snapshot(s))).await?;
    Ok(id)
}

/// The stream with `code` and the batch that brought it (0: entered on a screen), on the caller's connection.
pub async fn stream_by_code_in(conn: &mut super::Conn, code: &str) -> sqlx::Result<Option<(FundingStream, i64)>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT COALESCE(batch_id, 0) FROM funding_stream WHERE code = ?")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((batch,)) = row else { return Ok(None) };
    let stream: StreamRow = sqlx::query_as(&format!("SELECT {STREAM_COLUMNS} FROM funding_stream WHERE code = ?"))
        .bind(code)
        .fetch_one(conn)
        .await?;
    Ok(Some((stream.into_stream().0, batch)))
}

pub async fn update_stream(db: &Db, id: i64, version: i64, s: &FundingStream, actor: &str) -> Result<(), FundingError> {
    let mut tx = begin(db).await?;
    let before: Option<StreamRow> =
        sqlx::query_as(&format!("SELECT {STREAM_COLUMNS} FROM funding_stream WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let (before, current) = before.ok_or(FundingError::NotFound)?.into_stream();
    if current != version {
        return Err(FundingError::Stale);
    }
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM funding_stream WHERE code = ? AND id <> ?")
        .bind(&s.code)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(FundingError::DuplicateCode(s.code.clone()));
    }
    sqlx::query(
        "UPDATE funding_stream SET code = ?, name = ?, kind = ?, cohorts = ?, spend_from = ?, spend_until = ?, carry_over = ?,
             notes = ?, version = version + 1, updated_at = ? WHERE id = ?",
    )
    .bind(&s.code)
    .bind(&s.name)
    .bind(s.kind.code())
    .bind(cohorts_code(s))
    .bind(s.spend_from)
    .bind(s.spend_until)
    .bind(s.carry_over)
    .bind(&s.notes)
    .bind(dates::now_timestamp())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "funding_stream",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(s)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AllocationRow {
    id: i64,
    stream_id: i64,
    year: i64,
    kind: String,
    amount_cents: i64,
    reference: String,
    decided_on: Date,
}

/// The allocations that count (not those of a batch waiting for approval).
pub async fn allocations(db: &Db, stream_id: Option<i64>) -> sqlx::Result<Vec<Allocation>> {
    let rows: Vec<AllocationRow> = sqlx::query_as(&format!(
        "SELECT id, stream_id, year, kind, amount_cents, reference, decided_on FROM allocation
         WHERE (?1 IS NULL OR stream_id = ?1) AND {} ORDER BY year, decided_on, id",
        super::approval::counts("batch_id")
    ))
    .bind(stream_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Allocation {
            id: r.id,
            stream_id: r.stream_id,
            year: r.year as i32,
            kind: AllocationKind::parse(&r.kind).expect("CHECK constraint"),
            amount: Money::from_cents(r.amount_cents),
            reference: r.reference,
            date: r.decided_on,
        })
        .collect())
}

/// The last closed year, on any connection (the import reads it before the file, and again in its write phase).
/// Closing a year closes every year before it too: a year's available money includes what the year before
/// carries over, so an open earlier year could still move a closed one.
pub async fn last_closed(conn: &mut super::Conn) -> sqlx::Result<Option<i32>> {
    let y: Option<i64> = sqlx::query_scalar("SELECT MAX(year) FROM year_close").fetch_one(conn).await?;
    Ok(y.map(|y| y as i32))
}

/// Whether `year` falls in the closed years when `last` is the last closed year: the one rule for screens,
/// the store and the import.
pub fn year_is_closed(year: i32, last: Option<i32>) -> bool {
    last.is_some_and(|last| year <= last)
}

/// Refuses changes to a closed year, inside the caller's transaction.
pub async fn ensure_open(tx: &mut Tx<'_>, year: i32) -> Result<(), FundingError> {
    if year_is_closed(year, last_closed(tx).await?) {
        return Err(FundingError::ClosedYear(year));
    }
    Ok(())
}

pub async fn add_allocation(db: &Db, a: &Allocation, actor: &str) -> Result<i64, FundingError> {
    let mut tx = begin(db).await?;
    let id = add_allocation_in(&mut tx, a, None, actor).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn add_allocation_in(
    tx: &mut Tx<'_>,
    a: &Allocation,
    batch: Option<i64>,
    actor: &str,
) -> Result<i64, FundingError> {
    ensure_open(tx, a.year).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO allocation (stream_id, year, kind, amount_cents, reference, decided_on, batch_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(a.stream_id)
    .bind(a.year)
    .bind(a.kind.code())
    .bind(a.amount.cents())
    .bind(&a.reference)
    .bind(a.date)
    .bind(batch)
    .bind(dates::now_timestamp())
    .fetch_one(&mut **tx)
    .await?;
    audit::record(tx, actor, "create", "allocation", id, None, Some(&audit::snapshot(a))).await?;
    Ok(id)
}

/// A stored record an import row repeats: its amount and the batch that brought it (0: entered on a screen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Twin {
    pub amount: Money,
    pub batch: i64,
}

/// The stored allocation with the same stream, year, kind, reference and date as `a`, on the caller's connection.
pub async fn allocation_twin_in(conn: &mut super::Conn, a: &Allocation) -> sqlx::Result<Option<Twin>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT amount_cents, COALESCE(batch_id, 0) FROM allocation
         WHERE stream_id = ? AND year = ? AND kind = ? AND reference = ? AND decided_on = ? ORDER BY id LIMIT 1",
    )
    .bind(a.stream_id)
    .bind(a.year)
    .bind(a.kind.code())
    .bind(&a.reference)
    .bind(a.date)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(cents, batch)| Twin { amount: Money::from_cents(cents), batch }))
}

/// The stored budget line for the same stream, category and year as `l`, on the caller's connection.
pub async fn budget_line_twin_in(conn: &mut super::Conn, l: &BudgetLine) -> sqlx::Result<Option<Twin>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT amount_cents, COALESCE(batch_id, 0) FROM budget_line WHERE stream_id = ? AND category = ? AND year = ?",
    )
    .bind(l.stream_id)
    .bind(&l.category)
    .bind(l.year)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(cents, batch)| Twin { amount: Money::from_cents(cents), batch }))
}

#[derive(sqlx::FromRow)]
struct BudgetRow {
    id: i64,
    stream_id: i64,
    category: String,
    year: i64,
    amount_cents: i64,
}

/// The budget lines that count (not those of a batch waiting for approval).
pub async fn budget_lines(db: &Db, stream_id: Option<i64>) -> sqlx::Result<Vec<BudgetLine>> {
    let rows: Vec<BudgetRow> = sqlx::query_as(&format!(
        "SELECT id, stream_id, category, year, amount_cents FROM budget_line WHERE (?1 IS NULL OR stream_id = ?1) AND {}
         ORDER BY year, category",
        super::approval::counts("batch_id")
    ))
    .bind(stream_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| BudgetLine {
            id: r.id,
            stream_id: r.stream_id,
            category: r.category,
            year: r.year as i32,
            amount: Money::from_cents(r.amount_cents),
        })
        .collect())
}

/// Adds a budget line, or sets the amount of the existing line for the same stream, category and year.
pub async fn set_budget_line(db: &Db, l: &BudgetLine, actor: &str) -> Result<i64, FundingError> {
    let mut tx = begin(db).await?;
    let id = set_budget_line_in(&mut tx, l, None, actor).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_budget_line_in(
    tx: &mut Tx<'_>,
    l: &BudgetLine,
    batch: Option<i64>,
    actor: &str,
) -> Result<i64, FundingError> {
    ensure_open(tx, l.year).await?;
    let before: Option<(i64, i64)> =
        sqlx::query_as("SELECT id, amount_cents FROM budget_line WHERE stream_id = ? AND category = ? AND year = ?")
            .bind(l.stream_id)
            .bind(&l.category)
            .bind(l.year)
            .fetch_optional(&mut **tx)
            .await?;
    let id = match before {
        Some((id, _)) => {
            sqlx::query("UPDATE budget_line SET amount_cents = ? WHERE id = ?").bind(l.amount.cents()).bind(id).execute(&mut **tx).await?;
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO budget_line (stream_id, category, year, amount_cents, batch_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
                 RETURNING id",
            )
            .bind(l.stream_id)
            .bind(&l.category)
            .bind(l.year)
            .bind(l.amount.cents())
            .bind(batch)
            .bind(dates::now_timestamp())
            .fetch_one(&mut **tx)
            .await?
        }
    };
    let before_json = before.map(|(_, cents)| serde_json::json!({"amount": Money::from_cents(cents)}));
    audit::record(
        tx,
        actor,
        if before.is_some() { "update" } else { "create" },
        "budget_line",
        id,
        before_json.as_ref(),
        Some(&audit::snapshot(l)),
    )
    .await?;
    Ok(id)
}

/// The default stream per cohort.
pub async fn cohort_streams(db: &Db) -> sqlx::Result<HashMap<Cohort, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT cohort, stream_id FROM cohort_stream").fetch_all(db).await?;
    Ok(rows.into_iter().filter_map(|(c, s)| Cohort::parse(&c).map(|c| (c, s))).collect())
}

pub async fn set_cohort_stream(db: &Db, cohort: Cohort, stream_id: i64, actor: &str) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    set_cohort_stream_in(&mut tx, cohort, stream_id, None, actor).await?;
    tx.commit().await
}

/// Sets the default stream of a cohort inside the caller's transaction; `batch`: the import that sets it.
pub async fn set_cohort_stream_in(
    tx: &mut Tx<'_>,
    cohort: Cohort,
    stream_id: i64,
    batch: Option<i64>,
    actor: &str,
) -> sqlx::Result<()> {
    let before: Option<i64> = sqlx::query_scalar("SELECT stream_id FROM cohort_stream WHERE cohort = ?")
        .bind(cohort.code())
        .fetch_optional(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO cohort_stream (cohort, stream_id, batch_id) VALUES (?, ?, ?)
         ON CONFLICT (cohort) DO UPDATE SET stream_id = excluded.stream_id, batch_id = excluded.batch_id",
    )
    .bind(cohort.code())
    .bind(stream_id)
    .bind(batch)
    .execute(&mut **tx)
    .await?;
    let b = before.map(|s| serde_json::json!({"stream_id": s}));
    audit::record(
        tx,
        actor,
        "update",
        "cohort_stream",
        cohort.code(),
        b.as_ref(),
        Some(&serde_json::json!({"stream_id": stream_id})),
    )
    .await
}

/// The code of the default stream of `cohort`, if it has one, on the caller's connection.
pub async fn cohort_default_in(conn: &mut super::Conn, cohort: Cohort) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT s.code FROM cohort_stream c JOIN funding_stream s ON s.id = c.stream_id WHERE c.cohort = ?",
    )
    .bind(cohort.code())
    .fetch_optional(conn)
    .await
}

/// The id of the budget line of stream `code` with `category` in `year`, on the caller's connection.
pub async fn budget_line_id_in(
    conn: &mut super::Conn,
    code: &str,
    category: &str,
    year: i32,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT b.id FROM budget_line b JOIN funding_stream s ON s.id = b.stream_id
         WHERE s.code = ? AND b.category = ? AND b.year = ?",
    )
    .bind(code)
    .bind(category)
    .bind(year)
    .fetch_optional(conn)
    .await
}

pub async fn closed_years(db: &Db) -> sqlx::Result<Vec<(i32, String, String)>> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT year, closed_by, closed_at FROM year_close ORDER BY year").fetch_all(db).await?;
    Ok(rows.into_iter().map(|(y, b, a)| (y as i32, b, a)).collect())
}

/// Closes a year, and with it every year before it (see [`last_closed`]).
pub async fn close_year(db: &Db, year: i32, actor: &str) -> Result<(), FundingError> {
    let mut tx = begin(db).await?;
    ensure_open(&mut tx, year).await?;
    if let Some((batch, file)) = super::approval::pending_in_year(&mut tx, year).await? {
        return Err(FundingError::PendingBatch { year, batch, file });
    }
    sqlx::query("INSERT INTO year_close (year, closed_by, closed_at) VALUES (?, ?, ?)")
        .bind(year)
        .bind(actor)
        .bind(dates::now_timestamp())
        .execute(&mut *tx)
        .await?;
    audit::record(&mut tx, actor, "close", "year", year, None, Some(&serde_json::json!({"closed": true}))).await?;
    tx.commit().await?;
    Ok(())
}

/// Reopens the last closed year; a later closed year must be reopened first (it builds on this one).
pub async fn reopen_year(db: &Db, year: i32, actor: &str) -> Result<(), FundingError> {
    let mut tx = begin(db).await?;
    match last_closed(&mut tx).await? {
        Some(last) if last > year => return Err(FundingError::NextYearClosed(last)),
        Some(last) if last == year => {}
        _ => return Err(FundingError::NotClosed(year)),
    }
    sqlx::query("DELETE FROM year_close WHERE year = ?").bind(year).execute(&mut *tx).await?;
    audit::record(
        &mut tx,
        actor,
        "reopen",
        "year",
        year,
        Some(&serde_json::json!({"closed": true})),
        Some(&serde_json::json!({"closed": false})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
