//! Login and logout.

use std::time::Duration;

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

/// Failed logins allowed for one username from one address within the window; after that this pair is
/// refused until the window has passed. Other addresses are slowed down instead (see [`login_delay`]), so
/// that guessing at someone's password from elsewhere never locks the real user out.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;

/// How long a login waits before its password is checked, given the recent failures for its username
/// (from any address) or from its address (for any username), whichever is more: nothing below
/// [`MAX_FAILURES`], then `step`, doubling with each further failure, never more than `max`.
pub fn login_delay(failures: i64, step: Duration, max: Duration) -> Duration {
    if failures < MAX_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - MAX_FAILURES).min(31) as u32;
    step.saturating_mul(1u32 << doublings).min(max)
}

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

/// Only a local path is followed after login, so the login page cannot send anyone elsewhere: one `/`
/// followed by anything but another `/` or `\` (browsers read `//host` and `/\host` as another site), only
/// printable ASCII without backslash after it (no whitespace or control characters: browsers drop tabs and
/// newlines, so `/\t/host` is `//host` to them, and a newline cannot go into a `Location` header at all;
/// a real path arrives percent-encoded), and a path that parses without a scheme or host. Anything else,
/// and the login page itself, goes to `/`.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next[1..].starts_with('/')
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\')
        && next
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.scheme().is_none() && u.authority().is_none() && u.path().starts_with('/'))
        && !next.starts_with("/login");
    if local {
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
    let failures = store::users::recent_failures(&state.db, username, &address, FAILURE_WINDOW_SECS).await?;
    if failures.pair >= MAX_FAILURES {
        tracing::warn!(username, address, ?failures, "inloggen geweigerd: te veel mislukte pogingen vanaf dit adres");
        return Err(AppError::TooManyRequests(
            "Te veel mislukte inlogpogingen. Wacht 15 minuten en probeer het dan opnieuw, of vraag de beheerder om hulp".into(),
        ));
    }
    let delay =
        login_delay(failures.user.max(failures.address), state.config.login_delay_step, state.config.login_delay_max);
    if !delay.is_zero() {
        tracing::warn!(username, address, ?failures, ?delay, "inloggen vertraagd: veel mislukte pogingen");
        tokio::time::sleep(delay).await;
    }
    let found = store::users::credentials(&state.db, username).await?;
    let stored_hash = found.as_ref().map(|(_, h)| h.clone());
    let password_ok = password::verify(form.password.clone(), stored_hash).await;
    match found {
        Some((user, hash)) if password_ok && user.active => {
            store::users::record_attempt(&state.db, username, &address, true).await?;
            session::sign_in(&session, user.id, &hash)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_delay_starts_at_the_fifth_failure_doubles_and_stops_at_the_maximum() {
        let (step, max) = (Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<u64> = (0..12).map(|n| login_delay(n, step, max).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 10, 10, 10]);
        assert_eq!(login_delay(i64::MAX, step, max), max);
    }
}
