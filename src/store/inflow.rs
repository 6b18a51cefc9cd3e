//! Inflow counts (`inflow_count`): read them, add one (import or screen) and change one on the screen with its
//! version, every change audited.

use serde::Serialize;

use super::{audit, Conn, Db, Tx};
use crate::domain::dates;
use crate::domain::inflow::{InflowCategory, InflowCount, InflowPeriod};

/// A stored count with what the screen and undo need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredCount {
    pub id: i64,
    #[serde(flatten)]
    pub count: InflowCount,
    pub version: i64,
    /// The batch that brought it; None when entered on the screen.
    pub batch: Option<i64>,
}

type Row = (i64, String, String, i64, i64, Option<i64>);

fn from_row((id, period, grp, count, version, batch): Row) -> Option<StoredCount> {
    Some(StoredCount {
        id,
        count: InflowCount { period: InflowPeriod::parse(&period)?, category: InflowCategory::parse(&grp)?, count },
        version,
        batch,
    })
}

const COLUMNS: &str = "id, period, grp, count, version, batch_id";

/// Every count, by period and group.
pub async fn all(db: &Db) -> sqlx::Result<Vec<StoredCount>> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM inflow_count ORDER BY period, grp")).fetch_all(db).await?;
    Ok(rows.into_iter().filter_map(from_row).collect())
}

/// The counts alone, for the year totals.
pub async fn counts(db: &Db) -> sqlx::Result<Vec<InflowCount>> {
    Ok(all(db).await?.into_iter().map(|s| s.count).collect())
}

/// The stored count for a period and group, on the caller's connection.
pub async fn find_in(
    conn: &mut Conn,
    period: InflowPeriod,
    category: InflowCategory,
) -> sqlx::Result<Option<StoredCount>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM inflow_count WHERE period = ? AND grp = ?"))
        .bind(period.code())
        .bind(category.code())
        .fetch_optional(conn)
        .await?;
    Ok(row.and_then(from_row))
}

pub async fn find(db: &Db, period: InflowPeriod, category: InflowCategory) -> sqlx::Result<Option<StoredCount>> {
    let mut conn = db.acquire().await?;
    find_in(&mut conn, period, category).await
}

/// Adds a count that is not stored yet, audited; `batch` links it to its import.
pub async fn create_in(tx: &mut Tx<'_>, c: &InflowCount, batch: Option<i64>, actor: &str) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO inflow_count (period, year, grp, count, batch_id, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(c.period.code())
    .bind(c.period.year())
    .bind(c.category.code())
    .bind(c.count)
    .bind(batch)
    .bind(actor)
    .bind(dates::now_timestamp())
    .fetch_one(&mut **tx)
    .await?;
    let after = serde_json::json!({
        "period": c.period.code(), "group": c.category.code(), "count": c.count, "batch": batch
    });
    audit::record(tx, actor, "create", "inflow_count", id, None, Some(&after)).await?;
    Ok(id)
}

/// Why the screen could not store a count.
#[derive(Debug, thiserror::Error)]
pub enum InflowError {
    /// The count exists (the form did not know it) or changed since the form was shown: the stored one.
    #[error("het aantal is intussen vastgelegd of gewijzigd")]
    Stale(StoredCount),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Stores a count from the screen: a new one when `version` is None and none is stored, else a change of the
/// stored one at that version (lost-update protection).
pub async fn save(db: &Db, c: &InflowCount, version: Option<i64>, actor: &str) -> Result<i64, InflowError> {
    let mut tx = super::begin(db).await?;
    let stored = find_in(&mut tx, c.period, c.category).await?;
    let id = match (stored, version) {
        (None, None) => create_in(&mut tx, c, None, actor).await?,
        (Some(s), Some(v)) if s.version == v => {
            sqlx::query("UPDATE inflow_count SET count = ?, version = version + 1 WHERE id = ?")
                .bind(c.count)
                .bind(s.id)
                .execute(&mut *tx)
                .await?;
            let before = serde_json::json!({ "period": c.period.code(), "group": c.category.code(), "count": s.count, "version": s.version });
            let after = serde_json::json!({ "period": c.period.code(), "group": c.category.code(), "count": c.count, "version": s.version + 1 });
            audit::record(&mut tx, actor, "update", "inflow_count", s.id, Some(&before), Some(&after)).await?;
            s.id
        }
        (Some(s), _) => return Err(InflowError::Stale(s)),
        // The form knew a version but the count is gone (its batch was undone): stale as well, with nothing stored.
        (None, Some(_)) => {
            return Err(InflowError::Stale(StoredCount { id: 0, count: c.clone(), version: 0, batch: None }))
        }
    };
    tx.commit().await?;
    Ok(id)
}
