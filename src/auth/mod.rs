//! Who is asking and what they may do: users, roles, sessions and CSRF.

pub mod csrf;
pub mod history;
pub mod password;
pub mod roles;
pub mod session;
pub mod token;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::AppError;
use roles::Role;

/// The signed-in user of this request, put in the request by the session layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
}

impl CurrentUser {
    /// The name the audit log records for changes made by this user.
    pub fn actor(&self) -> &str {
        &self.username
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or(AppError::Unauthorized)
    }
}

/// Minimum password length, for every way a password is set.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Why a new password is not acceptable, in Dutch; None when it is.
pub fn password_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Some(format!("Een wachtwoord heeft minstens {MIN_PASSWORD_LEN} tekens (nu {n})."));
    }
    if n > 200 {
        return Some("Een wachtwoord heeft hoogstens 200 tekens.".into());
    }
    None
}
