//! The append-only audit log: one row per change, written in the same transaction as the change.

use serde::Serialize;
use serde_json::Value;

use super::Tx;
use crate::domain::dates;

/// Records who changed what. `before`/`after` are the entity's values as JSON (None for create/delete).
pub async fn record(
    tx: &mut Tx<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<&Value>,
    after: Option<&Value>,
) -> sqlx::Result<()> {
    // A kind without an entry there would have no history page: every test that writes one catches it.
    debug_assert!(
        crate::auth::history::history_kind(entity).is_some(),
        "audit kind '{entity}' is missing from auth::history::HISTORY_KINDS"
    );
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(dates::now_timestamp())
    .bind(actor)
    .bind(action)
    .bind(entity)
    .bind(entity_id.to_string())
    .bind(before.map(Value::to_string))
    .bind(after.map(Value::to_string))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Turns any serializable record into the JSON the audit log keeps.
pub fn snapshot<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// Filters for the audit page; empty strings mean "any".
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub from: String,
    pub until: String,
}

/// The newest `limit` entries about one entity (its history page), read along the (entity, entity_id) index:
/// the filter of [`list`] cannot use it, and scans the whole log for an entity changed long ago.
pub async fn of_entity(db: &super::Db, entity: &str, entity_id: &str, limit: i64) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(
        "SELECT id, at, actor, action, entity, entity_id, before_json, after_json FROM audit_log
         WHERE entity = ? AND entity_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(entity)
    .bind(entity_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The newest `limit` entries that match the filter.
pub async fn list(db: &super::Db, f: &AuditFilter, limit: i64) -> sqlx::Result<Vec<AuditRow>> {
    list_before(db, f, None, limit).await
}

/// The newest `limit` matching entries older than entry `before` (None: from the newest). Paging by id rather
/// than by offset: a page costs the same at the millionth entry as at the first.
pub async fn list_before(
    db: &super::Db,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(
        "SELECT id, at, actor, action, entity, entity_id, before_json, after_json FROM audit_log
         WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR entity = ?2) AND (?3 = '' OR entity_id = ?3)
           AND (?4 = '' OR at >= ?4) AND (?5 = '' OR substr(at, 1, 10) <= ?5) AND (?7 IS NULL OR id < ?7)
         ORDER BY id DESC LIMIT ?6",
    )
    .bind(&f.actor)
    .bind(&f.entity)
    .bind(&f.entity_id)
    .bind(&f.from)
    .bind(&f.until)
    .bind(limit)
    .bind(before)
    .fetch_all(db)
    .await
}
