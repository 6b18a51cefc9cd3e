//! Sessions: stored in SQLite, `HttpOnly` + `SameSite=Lax` cookie, idle and absolute timeouts,
//! and the layer that puts the signed-in user into each request. A session exists only once someone has
//! signed in: the login form's CSRF token lives in a cookie of its own (see `auth::csrf`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use super::CurrentUser;
use crate::store;
use crate::web::AppState;

pub const COOKIE_NAME: &str = "taalbudget_sessie";
const USER_ID: &str = "user_id";
const LOGIN_AT: &str = "login_at";
/// Which password the session was opened with (see [`password_stamp`]).
const PASSWORD_STAMP: &str = "password_stamp";

/// Creates the session table if needed and returns the session layer for the configured timeouts.
pub async fn layer(state: &AppState) -> anyhow::Result<SessionManagerLayer<SqliteStore>> {
    let store = SqliteStore::new(state.db.clone());
    store.migrate().await?;
    Ok(SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_path(if state.config.path_prefix.is_empty() { "/".to_string() } else { state.config.path_prefix.clone() })
        .with_expiry(Expiry::OnInactivity(state.config.session_idle)))
}

/// Starts a signed-in session: a new session id (against session fixation), the user, the login time and
/// the stamp of the password used, so that setting a new password ends this session.
pub async fn sign_in(
    session: &Session,
    user_id: i64,
    password_hash: &str,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_ID, user_id).await?;
    session.insert(LOGIN_AT, OffsetDateTime::now_utc().unix_timestamp()).await?;
    session.insert(PASSWORD_STAMP, password_stamp(password_hash)).await?;
    // A fresh CSRF token with the fresh session.
    session.remove_value(super::csrf::SESSION_KEY).await?;
    Ok(())
}

/// Keeps this session valid after its own user set a new password (the other sessions of that user end).
pub async fn restamp(session: &Session, password_hash: &str) -> Result<(), tower_sessions::session::Error> {
    session.insert(PASSWORD_STAMP, password_stamp(password_hash)).await
}

/// A short fingerprint of the stored password hash. Every new password gets a new salt and so a new
/// stamp; the session table never holds the hash itself.
fn password_stamp(password_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..16])
}

pub async fn sign_out(session: &Session) {
    if let Err(e) = session.delete().await {
        tracing::warn!(error = %e, "sessie kon niet worden verwijderd");
    }
}

/// Puts the signed-in, still active user into the request. Ends sessions past the absolute timeout,
/// sessions of users that were deactivated meanwhile and sessions opened with a password that has since
/// been reset.
pub async fn load_user(State(state): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    let user_id = session.get::<i64>(USER_ID).await.ok().flatten();
    if let Some(id) = user_id {
        let login_at = session.get::<i64>(LOGIN_AT).await.ok().flatten().unwrap_or(0);
        let age = OffsetDateTime::now_utc().unix_timestamp() - login_at;
        if age > state.config.session_absolute.whole_seconds() {
            tracing::info!(user_id = id, "sessie verlopen (absolute duur)");
            sign_out(&session).await;
        } else {
            let stamp = session.get::<String>(PASSWORD_STAMP).await.ok().flatten();
            match store::users::credentials_by_id(&state.db, id).await {
                Ok(Some((u, hash))) if u.active && stamp.as_deref() == Some(password_stamp(&hash).as_str()) => {
                    req.extensions_mut().insert(CurrentUser { id: u.id, username: u.username, role: u.role });
                }
                Ok(_) => {
                    tracing::info!(
                        user_id = id,
                        "sessie beëindigd: gebruiker bestaat niet meer, is gedeactiveerd of heeft een nieuw wachtwoord"
                    );
                    sign_out(&session).await;
                }
                Err(e) => tracing::error!(error = %e, "gebruiker kon niet worden geladen"),
            }
        }
    }
    next.run(req).await
}
