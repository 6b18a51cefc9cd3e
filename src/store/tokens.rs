//! Personal API tokens: made, listed, revoked and checked. Only a SHA-256 hash of a secret is stored.
//!
//! A secret is 32 random bytes, so a plain (fast) hash is enough: there is nothing to guess from it, unlike a
//! password, and checking a token on every API request must not cost an argon2 round.

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::Date;

use super::{audit, begin, Db};
use crate::auth::roles::Role;
use crate::auth::CurrentUser;
use crate::domain::dates;

/// A token lives at most a year; a script that runs longer gets a new one.
pub const MAX_DAYS: i64 = 365;
/// What a token's name may hold.
pub const MAX_NAME_CHARS: usize = 100;
/// Every secret starts with this, so a leaked one is recognisable (and secret scanners can be taught it).
pub const SECRET_PREFIX: &str = "tb_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("geef het token een naam (hoogstens {MAX_NAME_CHARS} tekens), zodat u het later herkent")]
    Name,
    #[error("een token is 1 tot en met {MAX_DAYS} dagen geldig (gevraagd: {0})")]
    Days(i64),
    #[error("de gebruiker bestaat niet of is niet actief")]
    NoUser,
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A token just made: the only moment its secret is known.
#[derive(Debug)]
pub struct NewToken {
    pub id: i64,
    pub secret: String,
    pub expires_on: Date,
}

/// A token as lists show it: never its secret or hash.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub prefix: String,
    pub role: String,
    pub created_at: String,
    pub expires_on: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
    /// Whether the user is still active with the role the token was made under.
    pub user_ok: bool,
}

impl TokenInfo {
    /// Why the token no longer works, in Dutch; None while it does (on `today`).
    pub fn not_working(&self, today: Date) -> Option<&'static str> {
        if self.revoked_at.is_some() {
            Some("ingetrokken")
        } else if dates::parse_iso(&self.expires_on).is_none_or(|d| d < today) {
            Some("verlopen")
        } else if !self.user_ok {
            Some("werkt niet meer: de gebruiker is gedeactiveerd of heeft een andere rol")
        } else {
            None
        }
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Makes a token for an active user, valid `days` days from today (inclusive), and records it in the audit log.
pub async fn create(db: &Db, user_id: i64, name: &str, days: i64, actor: &str) -> Result<NewToken, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(TokenError::Name);
    }
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(TokenError::Days(days));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(bytes));
    let prefix = secret[..SECRET_PREFIX.len() + 8].to_string();
    let expires_on = dates::today() + time::Duration::days(days);
    let mut tx = begin(db).await?;
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM app_user WHERE id = ? AND active = 1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    let role = role.ok_or(TokenError::NoUser)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_token (user_id, name, prefix, secret_hash, role, created_at, expires_on)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(&prefix)
    .bind(hash(&secret))
    .bind(&role)
    .bind(dates::now_timestamp())
    .bind(dates::iso(expires_on))
    .fetch_one(&mut *tx)
    .await?;
    // Neither the secret nor its hash goes into the audit log.
    let after = serde_json::json!({"id": id, "user_id": user_id, "name": name, "prefix": prefix, "role": role,
        "expires_on": dates::iso(expires_on)});
    audit::record(&mut tx, actor, "create", "api_token", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(NewToken { id, secret, expires_on })
}

const LIST: &str = "SELECT t.id, t.user_id, u.username, t.name, t.prefix, t.role, t.created_at, t.expires_on,
        t.last_used_at, t.revoked_at, t.revoked_by, (u.active = 1 AND u.role = t.role) AS user_ok
     FROM api_token t JOIN app_user u ON u.id = t.user_id";

/// One user's tokens, newest first.
pub async fn for_user(db: &Db, user_id: i64) -> sqlx::Result<Vec<TokenInfo>> {
    sqlx::query_as(&format!("{LIST} WHERE t.user_id = ? ORDER BY t.id DESC")).bind(user_id).fetch_all(db).await
}

/// Every token of every user, newest first (admins, `token list`).
pub async fn all(db: &Db) -> sqlx::Result<Vec<TokenInfo>> {
    sqlx::query_as(&format!("{LIST} ORDER BY t.id DESC")).fetch_all(db).await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<TokenInfo>> {
    sqlx::query_as(&format!("{LIST} WHERE t.id = ?")).bind(id).fetch_optional(db).await
}

/// Revokes a token (again revoking one that is already revoked changes nothing and is not an error).
pub async fn revoke(db: &Db, id: i64, actor: &str) -> Result<(), TokenError> {
    let mut tx = begin(db).await?;
    let revoked: Option<Option<String>> =
        sqlx::query_scalar("SELECT revoked_at FROM api_token WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
    match revoked {
        None => return Err(TokenError::NotFound),
        Some(Some(_)) => return Ok(()),
        Some(None) => {}
    }
    let now = dates::now_timestamp();
    sqlx::query("UPDATE api_token SET revoked_at = ?, revoked_by = ? WHERE id = ?")
        .bind(&now)
        .bind(actor)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let after = serde_json::json!({"id": id, "revoked_at": now});
    audit::record(&mut tx, actor, "revoke", "api_token", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(())
}

/// The user a presented secret acts for: None when the secret is unknown, revoked or expired, or when its user
/// was deactivated or given another role since the token was made.
pub async fn authenticate(db: &Db, secret: &str) -> sqlx::Result<Option<CurrentUser>> {
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Ok(None);
    }
    let row: Option<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT t.id, u.id, u.username, u.role FROM api_token t JOIN app_user u ON u.id = t.user_id
         WHERE t.secret_hash = ? AND t.revoked_at IS NULL AND t.expires_on >= ? AND u.active = 1 AND u.role = t.role",
    )
    .bind(hash(secret))
    .bind(dates::iso(dates::today()))
    .fetch_optional(db)
    .await?;
    let Some((token_id, id, username, role)) = row else { return Ok(None) };
    let Some(role) = Role::parse(&role) else { return Ok(None) };
    // "Last used" to the minute is enough, and a write on every request would queue API reads behind imports.
    let now = time::OffsetDateTime::now_utc();
    let stale = (now - time::Duration::minutes(1)).format(&time::format_description::well_known::Rfc3339);
    if let Ok(stale) = stale {
        let noted = sqlx::query(
            "UPDATE api_token SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        )
        .bind(dates::now_timestamp())
        .bind(token_id)
        .bind(stale)
        .execute(db)
        .await;
        if let Err(e) = noted {
            tracing::debug!(error = %e, token_id, "laatste gebruik van een token niet bijgewerkt");
        }
    }
    Ok(Some(CurrentUser { id, username, role }))
}
