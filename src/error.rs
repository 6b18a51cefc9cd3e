//! One error type for every handler. 4xx errors explain themselves in Dutch; 5xx errors are logged
//! with their cause and shown as a short apology with the request id, never a stack trace.

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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
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
        let status = self.status();
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = ?cause, "interne fout");
        }
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorInfo { status, message: self.public_message() });
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
