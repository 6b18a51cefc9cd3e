//! Accounts and the login attempts used for throttling.

use serde::Serialize;

use super::{audit, begin, Db};
use crate::auth::roles::Role;
use crate::domain::dates;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub active: bool,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    role: String,
    active: bool,
    version: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            username: r.username,
            role: Role::parse(&r.role).expect("the CHECK constraint only allows known roles"),
            active: r.active,
            version: r.version,
        }
    }
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM app_user").fetch_one(db).await
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<User>> {
    let rows: Vec<UserRow> =
        sqlx::query_as("SELECT id, username, role, active, version FROM app_user ORDER BY username")
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as("SELECT id, username, role, active, version FROM app_user WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(User::from))
}

#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

/// The user and stored password hash for a login name.
pub async fn credentials(db: &Db, username: &str) -> sqlx::Result<Option<(User, String)>> {
    let row: Option<CredentialsRow> =
        sqlx::query_as("SELECT id, username, role, active, version, password_hash FROM app_user WHERE username = ?")
            .bind(username)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| (r.user.into(), r.password_hash)))
}

/// The user and stored password hash by id, for checking a session against the current password.
pub async fn credentials_by_id(db: &Db, id: i64) -> sqlx::Result<Option<(User, String)>> {
    let row: Option<CredentialsRow> =
        sqlx::query_as("SELECT id, username, role, active, version, password_hash FROM app_user WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| (r.user.into(), r.password_hash)))
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("de gebruikersnaam '{0}' bestaat al")]
    Exists(String),
    #[error("het record is intussen gewijzigd")]
    Stale(Box<User>),
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn create(db: &Db, username: &str, role: Role, password_hash: &str, actor: &str) -> Result<i64, UserError> {
    let mut tx = begin(db).await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM app_user WHERE username = ?")
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(UserError::Exists(username.to_string()));
    }
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO app_user (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.code())
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    // The hash never goes into the audit log.
    let after = serde_json::json!({"id": id, "username": username, "role": role.code(), "active": true});
    audit::record(&mut tx, actor, "create", "user", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes role and active flag, refusing when someone saved a newer version first.
pub async fn update(db: &Db, id: i64, version: i64, role: Role, active: bool, actor: &str) -> Result<(), UserError> {
    let mut tx = begin(db).await?;
    let before: User =
        sqlx::query_as::<_, UserRow>("SELECT id, username, role, active, version FROM app_user WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(UserError::NotFound)?
            .into();
    if before.version != version {
        return Err(UserError::Stale(Box::new(before)));
    }
    sqlx::query("UPDATE app_user SET role = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ?")
        .bind(role.code())
        .bind(active)
        .bind(dates::now_timestamp())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let after = User { role, active, version: version + 1, ..before.clone() };
    audit::record(
        &mut tx,
        actor,
        "update",
        "user",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_password(db: &Db, id: i64, password_hash: &str, actor: &str) -> Result<(), UserError> {
    let mut tx = begin(db).await?;
    let done = sqlx::query("UPDATE app_user SET password_hash = ?, version = version + 1, updated_at = ? WHERE id = ?")
        .bind(password_hash)
        .bind(dates::now_timestamp())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(UserError::NotFound);
    }
    let note = serde_json::json!({"password": "gewijzigd"});
    audit::record(&mut tx, actor, "reset_password", "user", id, None, Some(&note)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn record_attempt(db: &Db, username: &str, address: &str, success: bool) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_attempt (username, address, at, success) VALUES (?, ?, unixepoch(), ?)")
        .bind(username.to_lowercase())
        .bind(address)
        .bind(success)
        .execute(db)
        .await?;
    Ok(())
}

/// Failed logins within the last `window_secs`, counted three ways.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecentFailures {
    /// For this username from this address, since the last successful login of that pair.
    pub pair: i64,
    /// For this username, from any address.
    pub user: i64,
    /// From this address, for any username; failed API tokens from it do not count (a broken script on a shared
    /// server must not slow down the logins of the people there; tokens have their own limit).
    pub address: i64,
}

pub async fn recent_failures(db: &Db, username: &str, address: &str, window_secs: i64) -> sqlx::Result<RecentFailures> {
    let username = username.to_lowercase();
    let (pair, user, address): (i64, i64, i64) = sqlx::query_as(
        "SELECT
           (SELECT COUNT(*) FROM login_attempt WHERE username = ?1 AND address = ?2 AND success = 0
              AND at > MAX(unixepoch() - ?3, COALESCE((SELECT MAX(at) FROM login_attempt
                                                         WHERE username = ?1 AND address = ?2 AND success = 1), 0))),
           (SELECT COUNT(*) FROM login_attempt WHERE username = ?1 AND success = 0 AND at > unixepoch() - ?3),
           (SELECT COUNT(*) FROM login_attempt WHERE address = ?2 AND success = 0 AND at > unixepoch() - ?3
              AND username <> ?4)",
    )
    .bind(&username)
    .bind(address)
    .bind(window_secs)
    .bind(super::tokens::THROTTLE_KEY)
    .fetch_one(db)
    .await?;
    Ok(RecentFailures { pair, user, address })
}
