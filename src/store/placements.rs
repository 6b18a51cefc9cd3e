//! Placements of participants on contracts.

use serde::Serialize;
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
    let mut changes = super::progress::route_changes(db, None).await?;
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
    let Some(mut p) = row.map(Placement::from) else { return Ok(None) };
    p.schedule.changes = super::progress::route_changes(db, Some(id)).await?.remove(&id).unwrap_or_default();
    Ok(Some(p))
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
