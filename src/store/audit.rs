//! The append-only audit log: one row per change, written in the same transaction as the change.

use futures_util::stream::BoxStream;
use serde::Serialize;
use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite};

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

/// Filters for the audit page and its export; empty strings mean "any".
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub actor: String,
    pub entity: String,
    pub entity_id: String,
    pub from: String,
    pub until: String,
    /// How far back the log goes when `from` is empty: ten years of history is too much to page through or
    /// download by default.
    pub periode: AuditPeriod,
}

/// The period the audit screen and its export cover when no start date is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditPeriod {
    #[default]
    Maand,
    Jaar,
    Alles,
}

impl AuditPeriod {
    pub const CHOICES: [(&'static str, &'static str); 3] =
        [("maand", "De laatste maand"), ("jaar", "Het laatste jaar"), ("alles", "Alles")];

    pub fn code(self) -> &'static str {
        match self {
            AuditPeriod::Maand => "maand",
            AuditPeriod::Jaar => "jaar",
            AuditPeriod::Alles => "alles",
        }
    }
}

impl AuditFilter {
    /// The filter as the screen and the export apply it on `today`: without a start date, the period's.
    pub fn in_effect(&self, today: time::Date) -> AuditFilter {
        let months = match self.periode {
            AuditPeriod::Maand => 1,
            AuditPeriod::Jaar => 12,
            AuditPeriod::Alles => 0,
        };
        let mut f = self.clone();
        if f.from.is_empty() && months > 0 {
            f.from = dates::iso(dates::add_months(today, -months));
        }
        f
    }
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

/// The matching entries, newest first. Only the conditions that are set go into the SQL, so SQLite can use the
/// index on `at` or on the entity for them (`?1 = '' OR at >= ?1` makes it walk the whole log).
fn matching(f: &AuditFilter, before: Option<i64>) -> QueryBuilder<'static, Sqlite> {
    let mut q = QueryBuilder::new(
        "SELECT id, at, actor, action, entity, entity_id, before_json, after_json FROM audit_log WHERE 1 = 1",
    );
    for (column, value) in [("actor", &f.actor), ("entity", &f.entity), ("entity_id", &f.entity_id)] {
        if !value.is_empty() {
            q.push(format_args!(" AND {column} = ")).push_bind(value.clone());
        }
    }
    if !f.from.is_empty() {
        q.push(" AND at >= ").push_bind(f.from.clone());
    }
    if !f.until.is_empty() {
        q.push(" AND substr(at, 1, 10) <= ").push_bind(f.until.clone());
    }
    if let Some(before) = before {
        q.push(" AND id < ").push_bind(before);
    }
    q.push(" ORDER BY id DESC");
    q
}

/// The newest `limit` matching entries older than entry `before` (None: from the newest). Paging by id rather
/// than by offset: a page costs the same at the millionth entry as at the first.
pub async fn list_before(
    db: &super::Db,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    let mut q = matching(f, before);
    q.push(" LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

/// Every entry that matches a filter, newest first, read one at a time: an export of the whole log holds one
/// row, not the log.
pub struct AllMatching(QueryBuilder<'static, Sqlite>);

pub fn all_matching(f: &AuditFilter) -> AllMatching {
    AllMatching(matching(f, None))
}

impl AllMatching {
    pub fn rows<'a>(&'a mut self, db: &'a super::Db) -> BoxStream<'a, sqlx::Result<AuditRow>> {
        self.0.build_query_as().fetch(db)
    }
}
