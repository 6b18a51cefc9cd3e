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
    #[error("{0}")]
    BadRequest(String),
    #[error("u bent niet ingelogd")]
    Unauthorized,
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
    fn from(e: sqlx::Error) -> Self {
        if crate::store::is_busy(&e) {
            tracing::warn!(error = %e, "database bezet; 503");
            return AppError::Busy;
        }
        AppError::Internal(e.into())
    }
}

/// Carried in the response so the error layer can render it as HTML or JSON, with the request id.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
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
