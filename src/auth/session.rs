//! Sessions: stored in SQLite, `HttpOnly` + `SameSite=Lax` cookie, idle and absolute timeouts,
//! and the layer that puts the signed-in user into each request. A session exists only once someone has
//! signed in: the login form's CSRF token lives in a cookie of its own (see `auth::csrf`).

use std::cell::Cell;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use super::CurrentUser;
use crate::error::AppError;
use crate::store;
use crate::web::AppState;

pub const COOKIE_NAME: &str = "taalbudget_sessie";
const USER_ID: &str = "user_id";
const LOGIN_AT: &str = "login_at";
/// Which password the session was opened with (see [`password_stamp`]).
const PASSWORD_STAMP: &str = "password_stamp";

/// Creates the session table if needed and returns the session layer for the configured timeouts.
pub async fn layer(state: &AppState) -> anyhow::Result<SessionManagerLayer<BusyAwareStore>> {
    let store = SqliteStore::new(state.db.clone());
    store.migrate().await?;
    Ok(SessionManagerLayer::new(BusyAwareStore(store))
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
    // The API signs in by token only (auth::token): its requests never read the session cookie.
    if super::token::is_api(req.uri().path()) {
        return next.run(req).await;
    }
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

tokio::task_local! {
    /// Set when the session store met a busy database during this request (see [`busy_as_unavailable`]).
    static SESSION_STORE_BUSY: Cell<bool>;
}

/// The SQLite session store, noting when it meets a busy database. tower-sessions answers a failed save with a
/// bare 500 after the handler ran, and the store hands on its errors as text only, so the failure is noted here
/// and [`busy_as_unavailable`] turns that 500 into a 503.
#[derive(Clone, Debug)]
pub struct BusyAwareStore(SqliteStore);

fn noted<T>(result: session_store::Result<T>) -> session_store::Result<T> {
    if let Err(session_store::Error::Backend(message)) = &result {
        if store::is_busy_message(message) {
            // Outside a request (none in scope) there is nobody to answer.
            let _ = SESSION_STORE_BUSY.try_with(|busy| busy.set(true));
        }
    }
    result
}

#[async_trait::async_trait]
impl SessionStore for BusyAwareStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        noted(self.0.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        noted(self.0.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        noted(self.0.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        noted(self.0.delete(id).await)
    }
}

/// Wraps the session layer: a request whose session could not be read or stored because the database stayed
/// busy answers 503 with `Retry-After` (the Dutch page says to try again in a few seconds) instead of 500.
pub async fn busy_as_unavailable(req: Request, next: Next) -> Response {
    let (response, busy) = SESSION_STORE_BUSY
        .scope(Cell::new(false), async move {
            let response = next.run(req).await;
            (response, SESSION_STORE_BUSY.with(Cell::get))
        })
        .await;
    if busy && response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        return AppError::Busy.into_response();
    }
    response
}
