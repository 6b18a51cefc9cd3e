//! Login and logout.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use tower_sessions::Session;

use super::proxy::ClientAddr;
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::{password, session};
use crate::error::{AppError, AppResult};
use crate::store;

pub fn routes() -> RouteTable {
    RouteTable::default().get("/login", Permission::Public, login_form).post("/login", Permission::Public, login).post(
        "/logout",
        Permission::SignedIn,
        logout,
    )
}

/// Failed logins allowed per username and per address within the window, before refusing.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginQuery {
    volgende: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    volgende: String,
}

/// Only local paths are followed after login, so the login page cannot send anyone elsewhere.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") && !next.starts_with("/login") {
        next
    } else {
        "/"
    }
}

async fn login_form(chrome: Chrome, Query(q): Query<LoginQuery>) -> Response {
    if chrome.user.is_some() {
        return Redirect::to(safe_next(&q.volgende)).into_response();
    }
    login_page(&chrome, "", safe_next(&q.volgende), None).into_response()
}

fn login_page(chrome: &Chrome, username: &str, next: &str, error: Option<&str>) -> Markup {
    chrome.page(
        "Inloggen",
        html! {
            div.login {
                h1 { "Inloggen" }
                @if let Some(e) = error {
                    div.error-summary role="alert" { h2 { "Inloggen is niet gelukt" } p { (e) } }
                }
                form method="post" action="/login" {
                    (chrome.csrf_field())
                    input type="hidden" name="volgende" value=(next);
                    div.field {
                        label for="username" { "Gebruikersnaam" }
                        input type="text" id="username" name="username" value=(username) autocomplete="username" required autofocus;
                    }
                    div.field {
                        label for="password" { "Wachtwoord" }
                        input type="password" id="password" name="password" autocomplete="current-password" required;
                    }
                    button type="submit" { "Inloggen" }
                }
            }
        },
    )
}

async fn login(
    chrome: Chrome,
    State(state): State<AppState>,
    client: ClientAddr,
    session: Session,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let username = form.username.trim();
    let address = client.0.to_string();
    let next = safe_next(&form.volgende).to_string();
    let (by_user, by_address) =
        store::users::recent_failures(&state.db, username, &address, FAILURE_WINDOW_SECS).await?;
    if by_user >= MAX_FAILURES || by_address >= MAX_FAILURES {
        tracing::warn!(username, address, by_user, by_address, "inloggen geweigerd: te veel mislukte pogingen");
        return Err(AppError::TooManyRequests(
            "Te veel mislukte inlogpogingen. Wacht 15 minuten en probeer het dan opnieuw, of vraag de beheerder om hulp".into(),
        ));
    }
    let found = store::users::credentials(&state.db, username).await?;
    let stored_hash = found.as_ref().map(|(_, h)| h.clone());
    let password_ok = password::verify(form.password.clone(), stored_hash).await;
    match found {
        Some((user, _)) if password_ok && user.active => {
            store::users::record_attempt(&state.db, username, &address, true).await?;
            session::sign_in(&session, user.id)
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("sessie: {e}")))?;
            tracing::info!(username = %user.username, address, "ingelogd");
            Ok(Redirect::to(&next).into_response())
        }
        other => {
            store::users::record_attempt(&state.db, username, &address, false).await?;
            let reason = match other {
                Some((u, _)) if !u.active && password_ok => "gebruiker gedeactiveerd",
                Some(_) => "onjuist wachtwoord",
                None => "onbekende gebruiker",
            };
            tracing::warn!(username, address, reason, "inloggen mislukt");
            // The same message in every case: it must not reveal which usernames exist.
            let message = "De combinatie van gebruikersnaam en wachtwoord is onjuist, of het account is niet actief.";
            Ok((StatusCode::UNAUTHORIZED, login_page(&chrome, username, &next, Some(message))).into_response())
        }
    }
}

async fn logout(session: Session) -> Redirect {
    session::sign_out(&session).await;
    Redirect::to("/login?melding=uitgelogd")
}
