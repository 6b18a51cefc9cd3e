//! Blik op Werk mark decisions per provider.

use time::Date;

use super::{audit, begin, Db};
use crate::domain::certification::{CertificationStatus, Decision};
use crate::domain::dates;

#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: i64,
    provider_id: i64,
    status: String,
    decision_date: Date,
    valid_from: Date,
    valid_until: Option<Date>,
    suspended_from: Option<Date>,
    suspended_until: Option<Date>,
    registration_number: String,
    note: String,
}

impl DecisionRow {
    fn into_decision(self) -> (i64, Decision) {
        let status = CertificationStatus::parse(&self.status).expect("the CHECK constraint only allows known statuses");
        (
            self.provider_id,
            Decision {
                id: self.id,
                status,
                decision_date: self.decision_date,
                valid_from: self.valid_from,
                valid_until: self.valid_until,
                suspended_from: self.suspended_from,
                suspended_until: self.suspended_until,
                registration_number: self.registration_number,
                note: self.note,
            },
        )
    }
}

const COLUMNS: &str = "id, provider_id, status, decision_date, valid_from, valid_until, suspended_from, suspended_until, registration_number, note";

/// A provider's decisions, oldest first (from the pool, or inside a transaction).
pub async fn for_provider<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    provider_id: i64,
) -> sqlx::Result<Vec<Decision>> {
    let rows: Vec<DecisionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM certification WHERE provider_id = ? ORDER BY decision_date, id"
    ))
    .bind(provider_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| r.into_decision().1).collect())
}

/// Every provider's decisions, grouped by provider id, for overviews.
pub async fn all_by_provider(db: &Db) -> sqlx::Result<std::collections::HashMap<i64, Vec<Decision>>> {
    let rows: Vec<DecisionRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM certification ORDER BY decision_date, id"))
            .fetch_all(db)
            .await?;
    let mut map: std::collections::HashMap<i64, Vec<Decision>> = std::collections::HashMap::new();
    for r in rows {
        let (p, d) = r.into_decision();
        map.entry(p).or_default().push(d);
    }
    Ok(map)
}

/// Inserts the decision `check` makes of the provider's decisions as they stand under the write lock, so
/// that two decisions sent at once are checked against each other (two decisions on one day, overlapping
/// terms); `Ok(Err(_))` is the refusal `check` gave.
pub async fn insert_checked<E>(
    db: &Db,
    provider_id: i64,
    actor: &str,
    check: impl FnOnce(&[Decision]) -> Result<Decision, E>,
) -> sqlx::Result<Result<i64, E>> {
    let mut tx = begin(db).await?;
    let existing = for_provider(&mut *tx, provider_id).await?;
    let decision = match check(&existing) {
        Ok(d) => d,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let id = insert_in(&mut tx, provider_id, &decision, actor).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

pub async fn insert(db: &Db, provider_id: i64, d: &Decision, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id = insert_in(&mut tx, provider_id, d, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a decision inside a caller's transaction (the import engine commits many in one), audited.
pub async fn insert_in(tx: &mut super::Tx<'_>, provider_id: i64, d: &Decision, actor: &str) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO certification (provider_id, status, decision_date, valid_from, valid_until, suspended_from,
             suspended_until, registration_number, note, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(provider_id)
    .bind(d.status.code())
    .bind(d.decision_date)
    .bind(d.valid_from)
    .bind(d.valid_until)
    .bind(d.suspended_from)
    .bind(d.suspended_until)
    .bind(&d.registration_number)
    .bind(&d.note)
    .bind(dates::now_timestamp())
    .fetch_one(&mut **tx)
    .await?;
    let mut stored = d.clone();
    stored.id = id;
    let mut after = audit::snapshot(&stored);
    after["provider_id"] = provider_id.into();
    audit::record(tx, actor, "create", "certification", id, None, Some(&after)).await?;
    Ok(id)
}
