//! The append-only audit log: one row per change, written in the same transaction as the change.

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

/// The columns of an entry, in [`AuditRow`]'s order.
const COLUMNS: &str = "id, at, actor, action, entity, entity_id, before_json, after_json";

/// Pushes the query for the matching entries, newest first by time (then by entry), older than entry `before`
/// when given. Only the conditions that are set go into the SQL, so SQLite can use the index on the entity, or
/// the one on `at`: its order is the order shown, so a period is read from its newest entry down to its first
/// and no further (ordered by id, a month's export walked all ten years of the log to find that month's).
fn push_matching(q: &mut QueryBuilder<'static, Sqlite>, f: &AuditFilter, before: Option<i64>) {
    q.push(format_args!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1"));
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
        q.push(" AND (at, id) < (SELECT at, id FROM audit_log WHERE id = ").push_bind(before).push(")");
    }
    q.push(" ORDER BY at DESC, id DESC");
}

/// The newest `limit` matching entries older than entry `before` (None: from the newest). Paging from an entry
/// rather than by offset: a page costs the same at the millionth entry as at the first.
pub async fn list_before(
    db: &super::Db,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AuditRow>> {
    let mut q = QueryBuilder::new("");
    push_matching(&mut q, f, before);
    q.push(" LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(db).await
}

/// Entries per page of an export ([`export_page`]).
pub const EXPORT_PAGE: usize = 500;

/// An entry as a JSON array, in [`COLUMNS`]' order.
type EntryArray = (i64, String, String, String, String, String, Option<String>, Option<String>);

/// A page of [`EXPORT_PAGE`] matching entries older than entry `before`, for an export that reads the log a
/// page at a time (memory holds a page, not the log). The page comes as one value (see
/// [`super::rows_from_json`]): handed over a row at a time, a month's 2,800 entries took most of an export.
pub async fn export_page(db: &super::Db, f: &AuditFilter, before: Option<i64>) -> sqlx::Result<Vec<AuditRow>> {
    let mut q = QueryBuilder::new(format!("SELECT json_group_array(json_array({COLUMNS})) FROM ("));
    push_matching(&mut q, f, before);
    q.push(" LIMIT ").push_bind(EXPORT_PAGE as i64).push(")");
    let page: String = q.build_query_scalar().fetch_one(db).await?;
    let mut entries: Vec<EntryArray> = super::rows_from_json(&page)?;
    // SQLite adds the page's rows to the array in the order they come, but does not promise it; an ORDER BY
    // inside the aggregate sorted them again in a temporary B-tree. Sorting a sorted page here is one pass.
    entries.sort_by(|a, b| (&b.1, b.0).cmp(&(&a.1, a.0)));
    Ok(entries
        .into_iter()
        .map(|(id, at, actor, action, entity, entity_id, before_json, after_json)| AuditRow {
            id,
            at,
            actor,
            action,
            entity,
            entity_id,
            before_json,
            after_json,
        })
        .collect())
}
