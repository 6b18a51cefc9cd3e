//! Placements of participants on contracts.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite};
use time::Date;

use super::{audit, begin, Db, Tx};
use crate::domain::dates;
use crate::domain::placement::{ClientNumber, PlacementDraft, PlacementSchedule, PlacementStatus};
use crate::domain::route::{Cohort, Route};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub id: i64,
    pub client_number: ClientNumber,
    pub cohort: Cohort,
    pub route: Route,
    pub contract_id: i64,
    pub schedule: PlacementSchedule,
    pub pip_date: Option<Date>,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    client_number: String,
    cohort: String,
    route: String,
    contract_id: i64,
    start_date: Date,
    planned_end: Date,
    status: String,
    status_date: Option<Date>,
    pip_date: Option<Date>,
    version: i64,
}

impl From<Row> for Placement {
    fn from(r: Row) -> Placement {
        Placement {
            id: r.id,
            client_number: ClientNumber::from_stored(r.client_number),
            cohort: Cohort::parse(&r.cohort).expect("CHECK constraint"),
            route: Route::parse(&r.route).expect("CHECK constraint"),
            contract_id: r.contract_id,
            schedule: PlacementSchedule {
                start_date: r.start_date,
                planned_end: r.planned_end,
                status: PlacementStatus::parse(&r.status).expect("CHECK constraint"),
                status_date: r.status_date,
                changes: Vec::new(),
            },
            pip_date: r.pip_date,
            version: r.version,
        }
    }
}

const COLUMNS: &str =
    "id, client_number, cohort, route, contract_id, start_date, planned_end, status, status_date, pip_date, version";

/// Placements, optionally of one contract, newest first.
pub async fn list(db: &Db, contract_id: Option<i64>) -> sqlx::Result<Vec<Placement>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM placement WHERE ?1 IS NULL OR contract_id = ?1 ORDER BY start_date DESC, id DESC"
    ))
    .bind(contract_id)
    .fetch_all(db)
    .await?;
    with_changes(db, rows, contract_id.is_none()).await
}

/// Every placement's id and cohort, and nothing else: what the indicators need to count starts per cohort
/// (the whole list with its route changes took a good part of the indicator page at ten times a big city).
pub async fn cohorts(db: &Db) -> sqlx::Result<Vec<(i64, Cohort)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, cohort FROM placement").fetch_all(db).await?;
    Ok(rows.into_iter().map(|(id, c)| (id, Cohort::parse(&c).expect("CHECK constraint"))).collect())
}

/// The placements of `rows` with their route changes: every route change when `all` are asked, else those of
/// these placements only.
async fn with_changes(db: &Db, rows: Vec<Row>, all: bool) -> sqlx::Result<Vec<Placement>> {
    let mut changes = if all {
        super::progress::route_changes(db, None).await?
    } else {
        super::progress::route_changes_of(db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut p = Placement::from(r);
            p.schedule.changes = changes.remove(&p.id).unwrap_or_default();
            p
        })
        .collect())
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Placement>> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM placement WHERE id = ?")).bind(id).fetch_optional(db).await?;
    Ok(with_changes(db, row.into_iter().collect(), false).await?.pop())
}

/// Which placements a list shows; a part left None does not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// On a contract of the provider whose id reads exactly like this.
    pub provider: Option<String>,
    pub contract: Option<i64>,
    /// Route code.
    pub route: Option<String>,
    /// Any of these status codes.
    pub statuses: Option<Vec<String>>,
    /// On a contract of one of these providers (true), or of none of them (false).
    pub providers: Option<(bool, Vec<i64>)>,
    /// One of these placements.
    pub ids: Option<Vec<i64>>,
    /// The client number contains this text.
    pub client: Option<String>,
}

impl Filter {
    /// `SELECT {select} FROM placement WHERE` the filter.
    fn query(&self, select: &str) -> QueryBuilder<'static, Sqlite> {
        let mut q = QueryBuilder::new(format!("SELECT {select} FROM placement WHERE 1 = 1"));
        if let Some(p) = &self.provider {
            q.push(" AND contract_id IN (SELECT id FROM contract WHERE CAST(provider_id AS TEXT) = ");
            q.push_bind(p.clone()).push(")");
        }
        if let Some(c) = self.contract {
            q.push(" AND contract_id = ").push_bind(c);
        }
        if let Some(r) = &self.route {
            q.push(" AND route = ").push_bind(r.clone());
        }
        if let Some(statuses) = &self.statuses {
            q.push(" AND status IN (SELECT value FROM json_each(");
            q.push_bind(serde_json::to_string(statuses).expect("a list of strings")).push("))");
        }
        if let Some((inside, ids)) = &self.providers {
            q.push(if *inside { " AND contract_id IN" } else { " AND contract_id NOT IN" });
            q.push(" (SELECT id FROM contract WHERE provider_id IN (SELECT value FROM json_each(");
            q.push_bind(super::json_ids(ids)).push(")))");
        }
        if let Some(ids) = &self.ids {
            q.push(" AND id IN (SELECT value FROM json_each(").push_bind(super::json_ids(ids)).push("))");
        }
        if let Some(text) = &self.client {
            q.push(" AND instr(client_number, ").push_bind(text.clone()).push(") > 0");
        }
        q
    }
}

/// How many placements pass the filter.
pub async fn count(db: &Db, f: &Filter) -> sqlx::Result<usize> {
    let n: i64 = f.query("COUNT(*)").build_query_scalar().fetch_one(db).await?;
    Ok(n as usize)
}

/// The placements that pass the filter, newest first, `limit` of them after the first `offset`.
pub async fn page(db: &Db, f: &Filter, offset: usize, limit: usize) -> sqlx::Result<Vec<Placement>> {
    let mut q = f.query(COLUMNS);
    // A client number search matches a few placements: reading the table once and sorting those few beats walking
    // the whole start date index and reading each row it points to (`+` keeps SQLite off that index).
    q.push(if f.client.is_some() {
        " ORDER BY +start_date DESC, id DESC"
    } else {
        " ORDER BY start_date DESC, id DESC"
    });
    q.push(" LIMIT ").push_bind(limit as i64).push(" OFFSET ").push_bind(offset as i64);
    let rows: Vec<Row> = q.build_query_as().fetch_all(db).await?;
    with_changes(db, rows, false).await
}

/// Every placement with a PIP date, with that date.
pub async fn pip_dates(db: &Db) -> sqlx::Result<Vec<(i64, Date)>> {
    sqlx::query_as("SELECT id, pip_date FROM placement WHERE pip_date IS NOT NULL").fetch_all(db).await
}

/// The client numbers of these placements.
pub async fn client_numbers(db: &Db, ids: &[i64]) -> sqlx::Result<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, client_number FROM placement WHERE id IN (SELECT value FROM json_each(?))")
            .bind(super::json_ids(ids))
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().collect())
}

/// These placements' client numbers, newest first (the order of [`list`]).
pub async fn client_numbers_newest_first(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, client_number FROM placement WHERE id IN (SELECT value FROM json_each(?))
         ORDER BY start_date DESC, id DESC",
    )
    .bind(super::json_ids(ids))
    .fetch_all(db)
    .await
}

/// Per contract of the provider: how many of its placements have each status.
pub async fn status_counts_of_provider(
    db: &Db,
    provider_id: i64,
) -> sqlx::Result<HashMap<i64, Vec<(PlacementStatus, usize)>>> {
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT contract_id, status, COUNT(*) FROM placement
         WHERE contract_id IN (SELECT id FROM contract WHERE provider_id = ?) GROUP BY contract_id, status",
    )
    .bind(provider_id)
    .fetch_all(db)
    .await?;
    let mut out: HashMap<i64, Vec<(PlacementStatus, usize)>> = HashMap::new();
    for (contract, status, n) in rows {
        out.entry(contract).or_default().push((PlacementStatus::parse(&status).expect("CHECK constraint"), n as usize));
    }
    Ok(out)
}

pub async fn create(db: &Db, d: &PlacementDraft, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id = insert_in(&mut tx, d, actor).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn insert_in(tx: &mut Tx<'_>, d: &PlacementDraft, actor: &str) -> sqlx::Result<i64> {
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO placement (client_number, cohort, route, contract_id, start_date, planned_end, status, status_date,
             pip_date, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(d.client_number.as_str())
    .bind(d.cohort.code())
    .bind(d.route.code())
    .bind(d.contract_id)
    .bind(d.schedule.start_date)
    .bind(d.schedule.planned_end)
    .bind(d.schedule.status.code())
    .bind(d.schedule.status_date)
    .bind(d.pip_date)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(tx, actor, "create", "placement", id, None, Some(&audit::snapshot(d))).await?;
    Ok(id)
}

/// The stored fields an import compares a repeated placement with, and the batch that brought it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PlacementTwin {
    pub cohort: String,
    pub planned_end: Date,
    pub status: String,
    pub status_date: Option<Date>,
    pub batch: i64,
}

/// The stored placement of the same client, contract, route and start date as `d`, on the caller's connection.
pub async fn twin_in(conn: &mut super::Conn, d: &PlacementDraft) -> sqlx::Result<Option<PlacementTwin>> {
    sqlx::query_as(
        "SELECT cohort, planned_end, status, status_date, COALESCE(batch_id, 0) AS batch FROM placement
         WHERE client_number = ? AND contract_id = ? AND route = ? AND start_date = ? ORDER BY id LIMIT 1",
    )
    .bind(d.client_number.as_str())
    .bind(d.contract_id)
    .bind(d.route.code())
    .bind(d.schedule.start_date)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    #[error("het record is intussen gewijzigd")]
    Stale(Box<Placement>),
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Saves an edit made on `version`; refuses when the placement has moved on since.
pub async fn update(db: &Db, id: i64, version: i64, d: &PlacementDraft, actor: &str) -> Result<(), PlacementError> {
    let mut tx = begin(db).await?;
    let before: Placement = sqlx::query_as::<_, Row>(&format!("SELECT {COLUMNS} FROM placement WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(PlacementError::NotFound)?
        .into();
    if before.version != version {
        return Err(PlacementError::Stale(Box::new(before)));
    }
    sqlx::query(
        "UPDATE placement SET client_number = ?, cohort = ?, route = ?, contract_id = ?, start_date = ?, planned_end = ?,
             status = ?, status_date = ?, pip_date = ?, version = version + 1, updated_at = ? WHERE id = ?",
    )
    .bind(d.client_number.as_str())
    .bind(d.cohort.code())
    .bind(d.route.code())
    .bind(d.contract_id)
    .bind(d.schedule.start_date)
    .bind(d.schedule.planned_end)
    .bind(d.schedule.status.code())
    .bind(d.schedule.status_date)
    .bind(d.pip_date)
    .bind(dates::now_timestamp())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "placement",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(d)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
