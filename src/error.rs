//! One error type for every handler. 4xx errors explain themselves in Dutch; 5xx errors are logged
//! with their cause and shown as a short apology with the request id, never a stack trace. A database that
//! stays busy (another connection holds SQLite's write lock past the busy timeout) is not a bug: it answers 503
//! with `Retry-After`, wherever the error comes from.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("niet gevonden")]
    NotFound,
    /// Not found, saying what (the API, where there is no page to point back to).
    #[error("{0}")]
    NotFoundWith(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("u bent niet ingelogd")]
    Unauthorized,
    /// Not signed in, saying why (an API token that does not work).
    #[error("{0}")]
    UnauthorizedWith(String),
    #[error("u heeft geen toegang tot deze pagina; uw rol geeft geen recht op deze actie")]
    Forbidden,
    #[error("{0}")]
    ForbiddenWith(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The database stayed locked by other work for longer than the busy timeout; the statement that met it
    /// failed, so its transaction wrote nothing.
    #[error("een ander werk slaat nu gegevens op; probeer het over enkele seconden opnieuw")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Seconds a client is asked to wait before trying a busy database again.
pub const BUSY_RETRY_AFTER_SECS: u32 = 5;

impl From<sqlx::Error> for AppError {
    /// A constraint the database enforces is met by a user when two people (or two tabs) save the same
    /// thing at once, after both passed the handler's own check: a refusal to explain, not a fault.
    fn from(e: sqlx::Error) -> Self {
        if crate::store::is_busy(&e) {
            tracing::warn!(error = %e, "database bezet; 503");
            return AppError::Busy;
        }
        if let sqlx::Error::Database(db) = &e {
            let refusal = if db.is_unique_violation() {
                Some(AppError::Conflict(
                    "dit is intussen al opgeslagen, door iemand anders of in een ander venster; \
                     open de pagina opnieuw en controleer het"
                        .into(),
                ))
            } else if db.is_foreign_key_violation() {
                Some(AppError::Conflict(
                    "een record waar dit formulier naar verwijst is intussen verwijderd of wordt nog gebruikt; \
                     open de pagina opnieuw en controleer het"
                        .into(),
                ))
            } else {
                None
            };
            if let Some(refusal) = refusal {
                tracing::warn!(error = %db, "databaseregel geweigerd: gelijktijdige wijziging");
                return refusal;
            }
        }
        AppError::Internal(e.into())
    }
}

/// Store refusals a handler did not turn into a page of its own: a database error as above (so a race
/// stays a 409), not found as 404, any other refusal as 409 with its Dutch reason.
macro_rules! store_refusal {
    ($($error:ty),*) => {$(
        impl From<$error> for AppError {
            fn from(e: $error) -> Self {
                use $error as E;
                match e {
                    E::Db(e) => e.into(),
                    E::NotFound => AppError::NotFound,
                    other => AppError::Conflict(other.to_string()),
                }
            }
        }
    )*};
}

store_refusal!(crate::store::overview::OverviewError, crate::store::quality::QualityError);

/// Carried in the response so the error layer can render it as HTML or JSON, with the request id.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::NotFoundWith(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::UnauthorizedWith(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::ForbiddenWith(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the user may read: never the internal cause.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "Deze pagina bestaat niet (meer). Controleer het adres of ga terug naar het overzicht.".into(),
            AppError::Internal(_) => "Er ging iets mis aan onze kant. Uw wijziging is niet opgeslagen. Probeer het opnieuw; blijft het misgaan, geef dan het meldingsnummer door aan de beheerder.".into(),
            other => {
                let m = other.to_string();
                let mut c = m.chars();
                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default() + "."
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let this = match self {
            // An error passed on with context (anyhow) may still be a busy database underneath.
            AppError::Internal(cause) if cause.chain().any(crate::store::is_busy_cause) => {
                tracing::warn!(error = ?cause, "database bezet; 503");
                AppError::Busy
            }
            other => other,
        };
        let status = this.status();
        if let AppError::Internal(cause) = &this {
            tracing::error!(error = ?cause, "interne fout");
        }
        let mut response = status.into_response();
        if matches!(this, AppError::Busy) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, BUSY_RETRY_AFTER_SECS.into());
        }
        response.extensions_mut().insert(ErrorInfo { status, message: this.public_message() });
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_constraint_met_by_a_race_is_a_409_and_other_database_errors_a_500() {
        // One connection: every connection to ":memory:" is a database of its own.
        let db = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        for sql in [
            "PRAGMA foreign_keys = ON",
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT UNIQUE)",
            "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))",
            "INSERT INTO parent (name) VALUES ('a')",
        ] {
            sqlx::query(sql).execute(&db).await.unwrap();
        }
        let twice = sqlx::query("INSERT INTO parent (name) VALUES ('a')").execute(&db).await.unwrap_err();
        let error = AppError::from(twice);
        assert_eq!(error.status(), StatusCode::CONFLICT);
        assert_eq!(
            error.public_message(),
            "Dit is intussen al opgeslagen, door iemand anders of in een ander venster; open de pagina opnieuw en controleer het."
        );
        let orphan = sqlx::query("INSERT INTO child (parent_id) VALUES (99)").execute(&db).await.unwrap_err();
        assert_eq!(AppError::from(orphan).status(), StatusCode::CONFLICT);
        let broken = sqlx::query("SELECT * FROM bestaat_niet").execute(&db).await.unwrap_err();
        assert_eq!(AppError::from(broken).status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
