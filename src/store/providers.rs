//! Providers: queries and changes, each change audited in its own transaction.

use serde::Serialize;

use super::{audit, begin, Db};
use crate::domain::dates;
use crate::domain::provider::ProviderDraft;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Provider {
    pub id: i64,
    pub name: String,
    pub kvk: String,
    pub address: String,
    pub contact_person: String,
    pub email: String,
    pub phone: String,
    pub notes: String,
    pub active: bool,
    pub version: i64,
}

const COLUMNS: &str = "id, name, kvk, address, contact_person, email, phone, notes, active, version";

impl crate::domain::certification::MarkHolder for Provider {
    fn holder_id(&self) -> i64 {
        self.id
    }
    fn holder_name(&self) -> &str {
        &self.name
    }
}

/// Which providers the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    Active,
    Archived,
    All,
}

pub async fn list(db: &Db, search: &str, filter: Filter) -> sqlx::Result<Vec<Provider>> {
    let active = match filter {
        Filter::Active => Some(true),
        Filter::Archived => Some(false),
        Filter::All => None,
    };
    let pattern = format!("%{}%", search.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM provider
         WHERE (?1 IS NULL OR active = ?1) AND (name LIKE ?2 ESCAPE '\\' OR kvk LIKE ?2 ESCAPE '\\')
         ORDER BY name COLLATE NOCASE"
    ))
    .bind(active)
    .bind(pattern)
    .fetch_all(db)
    .await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Provider>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM provider WHERE id = ?")).bind(id).fetch_optional(db).await
}

/// Why a change was not saved.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("KvK-nummer {0} is al in gebruik bij {1}")]
    DuplicateKvk(String, String),
    /// Someone saved a newer version first; carries the current record.
    #[error("het record is intussen gewijzigd")]
    Stale(Box<Provider>),
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

async fn kvk_owner(tx: &mut super::Tx<'_>, kvk: &str, except: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT name FROM provider WHERE kvk = ? AND id <> ?")
        .bind(kvk)
        .bind(except)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn create(db: &Db, draft: &ProviderDraft, actor: &str) -> Result<i64, ChangeError> {
    let mut tx = begin(db).await?;
    let id = insert_in(&mut tx, draft, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a provider inside a caller's transaction (the import engine commits many in one), audited.
pub async fn insert_in(tx: &mut super::Tx<'_>, draft: &ProviderDraft, actor: &str) -> Result<i64, ChangeError> {
    if let Some(owner) = kvk_owner(tx, draft.kvk.as_str(), 0).await? {
        return Err(ChangeError::DuplicateKvk(draft.kvk.as_str().into(), owner));
    }
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO provider (name, kvk, address, contact_person, email, phone, notes, active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&draft.name)
    .bind(draft.kvk.as_str())
    .bind(&draft.address)
    .bind(&draft.contact_person)
    .bind(&draft.email)
    .bind(&draft.phone)
    .bind(&draft.notes)
    .bind(draft.active)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    let after = fetch(tx, id).await?;
    audit::record(tx, actor, "create", "provider", id, None, Some(&audit::snapshot(&after))).await?;
    Ok(id)
}

/// A provider by KvK number inside a transaction.
pub async fn by_kvk_in(conn: &mut super::Conn, kvk: &str) -> sqlx::Result<Option<Provider>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM provider WHERE kvk = ?")).bind(kvk).fetch_optional(conn).await
}

async fn fetch(tx: &mut super::Tx<'_>, id: i64) -> sqlx::Result<Provider> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM provider WHERE id = ?")).bind(id).fetch_one(&mut **tx).await
}

/// Saves an edit made on `version`; refuses when the record has moved on since.
pub async fn update(db: &Db, id: i64, version: i64, draft: &ProviderDraft, actor: &str) -> Result<(), ChangeError> {
    let mut tx = begin(db).await?;
    let before = sqlx::query_as::<_, Provider>(&format!("SELECT {COLUMNS} FROM provider WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ChangeError::NotFound)?;
    if before.version != version {
        return Err(ChangeError::Stale(Box::new(before)));
    }
    if let Some(owner) = kvk_owner(&mut tx, draft.kvk.as_str(), id).await? {
        return Err(ChangeError::DuplicateKvk(draft.kvk.as_str().into(), owner));
    }
    sqlx::query(
        "UPDATE provider SET name = ?, kvk = ?, address = ?, contact_person = ?, email = ?, phone = ?, notes = ?,
                active = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
    )
    .bind(&draft.name)
    .bind(draft.kvk.as_str())
    .bind(&draft.address)
    .bind(&draft.contact_person)
    .bind(&draft.email)
    .bind(&draft.phone)
    .bind(&draft.notes)
    .bind(draft.active)
    .bind(dates::now_timestamp())
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    let after = fetch(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "provider",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Archives a provider (`active = false`: gone from lists and choices, every record that refers to it kept) or
/// restores an archived one. A provider is never deleted from the screens: archiving can always be taken back.
/// Returns false when it already was in that state (nothing changed, nothing logged).
pub async fn set_active(db: &Db, id: i64, active: bool, actor: &str) -> Result<bool, ChangeError> {
    let mut tx = begin(db).await?;
    let before = sqlx::query_as::<_, Provider>(&format!("SELECT {COLUMNS} FROM provider WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ChangeError::NotFound)?;
    if before.active == active {
        return Ok(false);
    }
    sqlx::query("UPDATE provider SET active = ?, version = version + 1, updated_at = ? WHERE id = ?")
        .bind(active)
        .bind(dates::now_timestamp())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let after = fetch(&mut tx, id).await?;
    let action = if active { "restore" } else { "archive" };
    audit::record(
        &mut tx,
        actor,
        action,
        "provider",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
