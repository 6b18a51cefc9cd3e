//! Who calls the API: a personal token sent as `Authorization: Bearer`, never a session cookie.
//!
//! A request under `/api/` is signed in by its token alone. Cookies are ignored there (the session layer does
//! not even read them), so a page in a browser cannot be made to call the API with its user's session, and
//! CSRF does not apply: a cross-site request cannot add the header. Failed tokens are throttled as logins are.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::store;
use crate::store::tokens::THROTTLE_KEY;
use crate::web::account::{login_delay, FAILURE_WINDOW_SECS, MAX_FAILURES};
use crate::web::proxy::ClientAddr;
use crate::web::AppState;

/// Whether a path belongs to the API, where only tokens count.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Signs an API request in by its bearer token. No header: the request goes on without a user, and the route's
/// permission decides (401 for anything but public routes). A header that is not a valid token: 401, and the
/// failure counts towards the address's limit.
///
/// Throttling, like logins: from the [`MAX_FAILURES`]th failed token within [`FAILURE_WINDOW_SECS`] from one
/// address, each further failure is answered only after a delay (doubling up to the configured maximum); after
/// `MAX_FAILURES * 4` failures that address's failed attempts get 429 until the window has passed (they are
/// then no longer recorded, so the table stays small under a flood). Unlike a login, a *valid* token is checked
/// first and always passes, without delay, from any address including the failing one: a secret of 256 random
/// bits cannot be guessed, so refusing it protects nothing, while a broken script on a shared server (or behind
/// a proxy whose address all clients share) would otherwise stall every working script there. A password is
/// guessable, which is why the login refuses even the right password once its pair is over the limit.
pub async fn bearer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if !is_api(req.uri().path()) {
        return next.run(req).await;
    }
    // Whatever signed this request in before (nothing should have), on the API only the token counts.
    req.extensions_mut().remove::<CurrentUser>();
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return next.run(req).await;
    };
    let secret = value.to_str().ok().and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
    });
    let user = match secret {
        Some(s) => match store::tokens::authenticate(&state.db, &s).await {
            Ok(u) => u,
            Err(e) => return AppError::from(e).into_response(),
        },
        None => None,
    };
    if let Some(user) = user {
        req.extensions_mut().insert(user);
        return next.run(req).await;
    }
    let address = req.extensions().get::<ClientAddr>().map(|c| c.0.to_string()).unwrap_or_default();
    let failures = match store::users::recent_failures(&state.db, THROTTLE_KEY, &address, FAILURE_WINDOW_SECS).await {
        Ok(f) => f.pair,
        Err(e) => return AppError::from(e).into_response(),
    };
    if failures >= REFUSE_AFTER {
        tracing::warn!(address, failures, "API-token geweigerd: te veel mislukte pogingen vanaf dit adres");
        let mut response = AppError::TooManyRequests(
            "te veel verzoeken met een ongeldig token vanaf dit adres; wacht 15 minuten en probeer het dan opnieuw \
             (een geldig token werkt intussen gewoon)"
                .into(),
        )
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(FAILURE_WINDOW_SECS));
        return response;
    }
    if let Err(e) = store::users::record_attempt(&state.db, THROTTLE_KEY, &address, false).await {
        return AppError::from(e).into_response();
    }
    // Counted as a login counts: with five failures before it, an attempt waits.
    let delay = login_delay(failures, state.config.login_delay_step, state.config.login_delay_max);
    tracing::warn!(address, failures, ?delay, "API-verzoek met een onbekend, verlopen of ingetrokken token");
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    unauthorized(
        "het token is onbekend, verlopen of ingetrokken, of de gebruiker is gedeactiveerd of heeft een andere rol",
    )
}

/// Failed token attempts from one address within the window after which they are refused outright: more than
/// a login allows, since a script retries faster than a person types, and nothing can be guessed anyway.
pub const REFUSE_AFTER: i64 = MAX_FAILURES * 4;

/// 401 with the challenge RFC 6750 asks for.
pub fn unauthorized(message: &str) -> Response {
    let mut response = AppError::UnauthorizedWith(message.to_string()).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"taalbudget\""));
    response
}
