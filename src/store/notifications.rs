//! What each user was told: items marked as seen, the digest choice and e-mail address, the secret calendar
//! address (its hash) and the digests claimed, sent or failed.

use std::collections::HashMap;

use serde::Serialize;

use super::{audit, begin, Db};
use crate::domain::dates;

/// How often a user wants the digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestChoice {
    None,
    Daily,
    Weekly,
}

impl DigestChoice {
    pub const ALL: [DigestChoice; 3] = [DigestChoice::Daily, DigestChoice::Weekly, DigestChoice::None];

    pub fn code(self) -> &'static str {
        match self {
            DigestChoice::None => "none",
            DigestChoice::Daily => "daily",
            DigestChoice::Weekly => "weekly",
        }
    }

    pub fn parse(code: &str) -> Option<DigestChoice> {
        Self::ALL.into_iter().find(|c| c.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            DigestChoice::None => "Geen e-mail",
            DigestChoice::Daily => "Elke dag",
            DigestChoice::Weekly => "Elke week (maandag)",
        }
    }
}

/// A user's notification settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub email: Option<String>,
    pub digest: DigestChoice,
}

pub async fn settings(db: &Db, user_id: i64) -> sqlx::Result<Option<Settings>> {
    let row: Option<(Option<String>, String)> =
        sqlx::query_as("SELECT email, digest FROM app_user WHERE id = ?").bind(user_id).fetch_optional(db).await?;
    Ok(row.map(|(email, digest)| Settings {
        email,
        digest: DigestChoice::parse(&digest).expect("the CHECK constraint only allows known choices"),
    }))
}

/// Sets the e-mail address (None removes it), audited on the user.
pub async fn set_email(db: &Db, user_id: i64, email: Option<&str>, actor: &str) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT email FROM app_user WHERE id = ?").bind(user_id).fetch_one(&mut *tx).await?;
    sqlx::query("UPDATE app_user SET email = ?, updated_at = ? WHERE id = ?")
        .bind(email)
        .bind(dates::now_timestamp())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let (b, a) = (serde_json::json!({ "email": before }), serde_json::json!({ "email": email }));
    audit::record(&mut tx, actor, "set_email", "user", user_id, Some(&b), Some(&a)).await?;
    tx.commit().await
}

/// Sets how often the user gets the digest, audited on the user.
pub async fn set_digest(db: &Db, user_id: i64, choice: DigestChoice, actor: &str) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    let before: String =
        sqlx::query_scalar("SELECT digest FROM app_user WHERE id = ?").bind(user_id).fetch_one(&mut *tx).await?;
    sqlx::query("UPDATE app_user SET digest = ? WHERE id = ?")
        .bind(choice.code())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let (b, a) = (serde_json::json!({ "digest": before }), serde_json::json!({ "digest": choice.code() }));
    audit::record(&mut tx, actor, "set_digest", "user", user_id, Some(&b), Some(&a)).await?;
    tx.commit().await
}

/// The level each subject was seen at, for one user.
pub async fn seen(db: &Db, user_id: i64) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT subject, level FROM notification_seen WHERE user_id = ?")
        .bind(user_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Marks subjects as seen at these levels (a lower level never replaces a higher one), audited on the user.
pub async fn mark_seen(db: &Db, user_id: i64, items: &[(String, i64)], actor: &str) -> sqlx::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let mut tx = begin(db).await?;
    let now = dates::now_timestamp();
    for (subject, level) in items {
        sqlx::query(
            "INSERT INTO notification_seen (user_id, subject, level, seen_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, subject) DO UPDATE SET level = MAX(level, excluded.level), seen_at = excluded.seen_at",
        )
        .bind(user_id)
        .bind(subject)
        .bind(level)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    let after = serde_json::json!({ "seen": items.iter().map(|(s, l)| serde_json::json!({"subject": s, "level": l})).collect::<Vec<_>>() });
    audit::record(&mut tx, actor, "notifications_seen", "user", user_id, None, Some(&after)).await?;
    tx.commit().await
}

/// Stores the hash of a new calendar secret for the user, replacing any earlier one; audited on the user.
pub async fn set_calendar(db: &Db, user_id: i64, secret_hash: &str, actor: &str) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    let replaced = sqlx::query("DELETE FROM calendar_feed WHERE user_id = ?").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO calendar_feed (user_id, secret_hash, created_at) VALUES (?, ?, ?)")
        .bind(user_id)
        .bind(secret_hash)
        .bind(dates::now_timestamp())
        .execute(&mut *tx)
        .await?;
    // Never the hash: the audit log says only that an address exists.
    let before = serde_json::json!({ "calendar_feed": replaced.rows_affected() > 0 });
    let after = serde_json::json!({ "calendar_feed": true });
    audit::record(&mut tx, actor, "calendar_feed_created", "user", user_id, Some(&before), Some(&after)).await?;
    tx.commit().await
}

/// Removes the user's calendar address; false when there was none.
pub async fn revoke_calendar(db: &Db, user_id: i64, actor: &str) -> sqlx::Result<bool> {
    let mut tx = begin(db).await?;
    let gone = sqlx::query("DELETE FROM calendar_feed WHERE user_id = ?").bind(user_id).execute(&mut *tx).await?;
    if gone.rows_affected() == 0 {
        return Ok(false);
    }
    let (b, a) = (serde_json::json!({ "calendar_feed": true }), serde_json::json!({ "calendar_feed": false }));
    audit::record(&mut tx, actor, "calendar_feed_revoked", "user", user_id, Some(&b), Some(&a)).await?;
    tx.commit().await?;
    Ok(true)
}

/// When the user's calendar address was made, if there is one.
pub async fn calendar_created(db: &Db, user_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT created_at FROM calendar_feed WHERE user_id = ?").bind(user_id).fetch_optional(db).await
}

/// The active user a calendar secret's hash belongs to: id, username and role code.
pub async fn calendar_owner(db: &Db, secret_hash: &str) -> sqlx::Result<Option<crate::store::users::User>> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT f.user_id FROM calendar_feed f JOIN app_user u ON u.id = f.user_id WHERE f.secret_hash = ? AND u.active = 1",
    )
    .bind(secret_hash)
    .fetch_optional(db)
    .await?;
    match id {
        Some(id) => super::users::get(db, id).await,
        None => Ok(None),
    }
}

/// A user who gets a digest: who, where to, how often.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: i64,
    pub username: String,
    pub role: crate::auth::roles::Role,
    pub email: Option<String>,
    pub digest: DigestChoice,
}

/// Active users (or the one named `only`), with their address and digest choice, by username.
pub async fn recipients(db: &Db, only: Option<&str>) -> sqlx::Result<Vec<Recipient>> {
    let rows: Vec<(i64, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT id, username, role, email, digest FROM app_user WHERE active = 1 AND (?1 IS NULL OR username = ?1)
         ORDER BY username",
    )
    .bind(only)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, username, role, email, digest)| Recipient {
            user_id,
            username,
            role: crate::auth::roles::Role::parse(&role).expect("the CHECK constraint only allows known roles"),
            email,
            digest: DigestChoice::parse(&digest).expect("the CHECK constraint only allows known choices"),
        })
        .collect())
}

/// The level each subject was last mailed at, for one user.
pub async fn mailed(db: &Db, user_id: i64) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT subject, level FROM digest_item WHERE user_id = ?").bind(user_id).fetch_all(db).await?;
    Ok(rows.into_iter().collect())
}

/// A claimed digest: its row and which attempt this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    pub attempt: i64,
}

/// Claims the digest of `user_id` for `period` in one write transaction: a new row, or a failed one with
/// attempts left. None when another run has it (sending, sent, empty) or its attempts are used up. Whoever gets
/// the claim is the only one who sends, so a restart or a second server never sends the same digest twice.
pub async fn claim(db: &Db, user_id: i64, period: &str, max_attempts: i64) -> sqlx::Result<Option<Claim>> {
    let mut tx = begin(db).await?;
    let existing: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT id, status, attempts FROM digest WHERE user_id = ? AND period = ?")
            .bind(user_id)
            .bind(period)
            .fetch_optional(&mut *tx)
            .await?;
    let now = dates::now_timestamp();
    let claimed = match existing {
        None => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO digest (user_id, period, status, attempts, claimed_at) VALUES (?, ?, 'sending', 1, ?)
                 RETURNING id",
            )
            .bind(user_id)
            .bind(period)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?;
            Some(Claim { id, attempt: 1 })
        }
        Some((id, status, attempts)) if status == "failed" && attempts < max_attempts => {
            sqlx::query("UPDATE digest SET status = 'sending', attempts = attempts + 1, claimed_at = ? WHERE id = ?")
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            Some(Claim { id, attempt: attempts + 1 })
        }
        Some(_) => None,
    };
    tx.commit().await?;
    Ok(claimed)
}

/// Records a sent digest and what it said (each subject at its level), audited on the user.
pub async fn sent(db: &Db, claim: Claim, user_id: i64, items: &[(String, i64)]) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    let now = dates::now_timestamp();
    sqlx::query("UPDATE digest SET status = 'sent', sent_at = ?, items = ?, last_error = NULL WHERE id = ?")
        .bind(&now)
        .bind(items.len() as i64)
        .bind(claim.id)
        .execute(&mut *tx)
        .await?;
    for (subject, level) in items {
        sqlx::query(
            "INSERT INTO digest_item (user_id, subject, level, sent_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, subject) DO UPDATE SET level = MAX(level, excluded.level), sent_at = excluded.sent_at",
        )
        .bind(user_id)
        .bind(subject)
        .bind(level)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    let after = serde_json::json!({ "digest": claim.id, "items": items.len(), "attempt": claim.attempt });
    audit::record(&mut tx, "taalbudget", "digest_sent", "user", user_id, None, Some(&after)).await?;
    tx.commit().await
}

/// Records that the period had nothing to say: nothing was sent, and nothing will be for this period.
pub async fn empty(db: &Db, claim: Claim) -> sqlx::Result<()> {
    sqlx::query("UPDATE digest SET status = 'empty', sent_at = ?, items = 0, last_error = NULL WHERE id = ?")
        .bind(dates::now_timestamp())
        .bind(claim.id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a failed attempt and why; a later run retries while attempts are left.
pub async fn failed(db: &Db, claim: Claim, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE digest SET status = 'failed', last_error = ? WHERE id = ?")
        .bind(error)
        .bind(claim.id)
        .execute(db)
        .await?;
    Ok(())
}

/// A digest as the admins' overview shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DigestRow {
    pub id: i64,
    pub username: String,
    pub period: String,
    pub status: String,
    pub attempts: i64,
    pub items: i64,
    pub last_error: Option<String>,
    pub claimed_at: String,
    pub sent_at: Option<String>,
}

/// The most recent digests, newest first; with `failed_only`, only those that failed (whether retries are left
/// or not).
pub async fn digests(db: &Db, failed_only: bool, limit: i64) -> sqlx::Result<Vec<DigestRow>> {
    sqlx::query_as(
        "SELECT d.id, u.username, d.period, d.status, d.attempts, d.items, d.last_error, d.claimed_at, d.sent_at
         FROM digest d JOIN app_user u ON u.id = d.user_id
         WHERE ?1 = 0 OR d.status = 'failed' ORDER BY d.id DESC LIMIT ?2",
    )
    .bind(failed_only)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How many digests failed (with or without attempts left): for the admins' notifications.
pub async fn failed_digests(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM digest WHERE status = 'failed'").fetch_one(db).await
}
