//! CSRF protection: every state-changing request must carry the session's token (form field `_csrf`,
//! query parameter `_csrf` for file uploads, or header `X-CSRF-Token`) and must not come from another site.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use tower_sessions::Session;

use crate::error::AppError;

pub const SESSION_KEY: &str = "csrf";
pub const FIELD: &str = "_csrf";

/// The session's token, made available to the views of this request.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

async fn token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY).await {
        return t;
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let t = hex::encode(bytes);
    if let Err(e) = session.insert(SESSION_KEY, &t).await {
        tracing::error!(error = %e, "CSRF-token kon niet in de sessie worden bewaard");
    }
    t
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses forged state-changing requests with 403 before any handler runs.
pub async fn protect(session: Session, req: Request, next: Next) -> Response {
    if is_safe(req.method()) {
        let t = token(&session).await;
        let mut req = req;
        req.extensions_mut().insert(CsrfToken(t));
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    if let Some(reason) = cross_site(&parts.headers) {
        tracing::warn!(path = %parts.uri.path(), reason, "CSRF: verzoek van een andere site geweigerd");
        return refuse();
    }
    let expected = session.get::<String>(SESSION_KEY).await.ok().flatten();
    let mut presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query_token(parts.uri.query()));
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    // Form posts are small: read the body to find the token, then hand the same bytes on.
    let body = if presented.is_none() && is_form {
        match axum::body::to_bytes(body, 1024 * 1024).await {
            Ok(bytes) => {
                presented = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                    .ok()
                    .and_then(|fields| fields.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
                Body::from(bytes)
            }
            Err(_) => return AppError::PayloadTooLarge("het formulier is te groot".into()).into_response(),
        }
    } else {
        body
    };
    match (expected, presented) {
        (Some(e), Some(p)) if constant_time_eq(e.as_bytes(), p.as_bytes()) => {
            let mut req = Request::from_parts(parts, body);
            req.extensions_mut().insert(CsrfToken(e));
            next.run(req).await
        }
        _ => {
            tracing::warn!(path = %parts.uri.path(), "CSRF: ontbrekend of onjuist token");
            refuse()
        }
    }
}

fn refuse() -> Response {
    AppError::ForbiddenWith(
        "Dit formulier is verlopen of komt niet van taalbudget zelf. Open de pagina opnieuw en probeer het nog eens"
            .into(),
    )
    .into_response()
}

/// A browser tells us when a request comes from another site; believe it.
fn cross_site(headers: &axum::http::HeaderMap) -> Option<&'static str> {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Some("Sec-Fetch-Site: cross-site");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    (origin == "null" || origin_host != host).then_some("Origin wijkt af van Host")
}

fn query_token(query: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
