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

/// What happened to a provider that was removed.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    /// Nothing referred to it, so it is gone.
    Deleted,
    /// Other records refer to it: kept, but archived (inactive).
    Archived,
}

/// Tables whose rows point at a provider; a provider they mention is archived, never deleted.
const REFERENCES: &[&str] = &[
    "SELECT COUNT(*) FROM certification WHERE provider_id = ?",
    "SELECT COUNT(*) FROM contract WHERE provider_id = ?",
    "SELECT COUNT(*) FROM follow_up_action WHERE provider_id = ?",
    "SELECT COUNT(*) FROM quality_result WHERE provider_id = ?",
];

pub async fn remove(db: &Db, id: i64, actor: &str) -> Result<Removal, ChangeError> {
    let mut tx = begin(db).await?;
    let before = sqlx::query_as::<_, Provider>(&format!("SELECT {COLUMNS} FROM provider WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ChangeError::NotFound)?;
    let mut referenced = false;
    for q in REFERENCES {
        let n: i64 = sqlx::query_scalar(q).bind(id).fetch_one(&mut *tx).await?;
        referenced |= n > 0;
    }
    let outcome = if referenced {
        sqlx::query("UPDATE provider SET active = 0, version = version + 1, updated_at = ? WHERE id = ?")
            .bind(dates::now_timestamp())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = fetch(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            "archive",
            "provider",
            id,
            Some(&audit::snapshot(&before)),
            Some(&audit::snapshot(&after)),
        )
        .await?;
        Removal::Archived
    } else {
        sqlx::query("DELETE FROM provider WHERE id = ?").bind(id).execute(&mut *tx).await?;
        audit::record(&mut tx, actor, "delete", "provider", id, Some(&audit::snapshot(&before)), None).await?;
        Removal::Deleted
    };
    tx.commit().await?;
    Ok(outcome)
}
