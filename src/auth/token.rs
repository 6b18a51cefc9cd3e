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
use crate::web::account::{login_delay, FAILURE_WINDOW_SECS, MAX_FAILURES};
use crate::web::proxy::ClientAddr;
use crate::web::AppState;

/// Whether a path belongs to the API, where only tokens count.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The name failed token attempts are recorded under in the login-attempt table (not a possible username:
/// usernames cannot hold brackets), so the same window and limits apply.
const THROTTLE_KEY: &str = "(api-token)";

/// Signs an API request in by its bearer token. No header: the request goes on without a user, and the route's
/// permission decides (401 for anything but public routes). A header that is not a valid token: 401, and the
/// failure counts towards the address's limit.
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
    let address = req.extensions().get::<ClientAddr>().map(|c| c.0.to_string()).unwrap_or_default();
    let failures = match store::users::recent_failures(&state.db, THROTTLE_KEY, &address, FAILURE_WINDOW_SECS).await {
        Ok(f) => f,
        Err(e) => return AppError::from(e).into_response(),
    };
    if failures.pair >= MAX_FAILURES * 4 {
        tracing::warn!(
            address,
            failures = failures.pair,
            "API-token geweigerd: te veel mislukte pogingen vanaf dit adres"
        );
        return AppError::TooManyRequests(
            "te veel verzoeken met een ongeldig token vanaf dit adres; wacht 15 minuten en probeer het dan opnieuw"
                .into(),
        )
        .into_response();
    }
    let delay = login_delay(failures.pair, state.config.login_delay_step, state.config.login_delay_max);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let user = match secret {
        Some(s) => match store::tokens::authenticate(&state.db, &s).await {
            Ok(u) => u,
            Err(e) => return AppError::from(e).into_response(),
        },
        None => None,
    };
    match user {
        Some(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        None => {
            if let Err(e) = store::users::record_attempt(&state.db, THROTTLE_KEY, &address, false).await {
                return AppError::from(e).into_response();
            }
            tracing::warn!(address, "API-verzoek met een onbekend, verlopen of ingetrokken token");
            unauthorized(
                "het token is onbekend, verlopen of ingetrokken, of de gebruiker is gedeactiveerd of heeft een andere rol",
            )
        }
    }
}

/// 401 with the challenge RFC 6750 asks for.
pub fn unauthorized(message: &str) -> Response {
    let mut response = AppError::UnauthorizedWith(message.to_string()).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"taalbudget\""));
    response
}
