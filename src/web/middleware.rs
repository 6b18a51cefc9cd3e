//! Layers around every request: permission checks, error pages, security headers, request ids.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_http::request_id::{MakeRequestId, RequestId};

use super::views;
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorInfo};

/// Checks the route's declared permission before its handler runs. Not signed in: a page request is
/// sent to the login page (and back afterwards); anything else gets 401. Wrong role: 403.
pub async fn require(permission: Permission, req: Request, next: Next) -> Response {
    if permission == Permission::Public {
        return next.run(req).await;
    }
    match req.extensions().get::<CurrentUser>() {
        None if crate::auth::token::is_api(req.uri().path()) => {
            crate::auth::token::unauthorized("stuur een persoonlijk API-token mee als 'Authorization: Bearer …'")
        }
        None if req.method() == Method::GET => {
            let back = req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            Redirect::to(&format!("/login?volgende={}", urlencoding::encode(back))).into_response()
        }
        None => AppError::Unauthorized.into_response(),
        Some(user) if !user.role.may(permission) => {
            tracing::warn!(user = %user.username, role = user.role.code(), ?permission, path = %req.uri().path(), "toegang geweigerd");
            AppError::Forbidden.into_response()
        }
        Some(_) => next.run(req).await,
    }
}

/// Turns error responses (which carry [`ErrorInfo`]) into a Dutch HTML page, or JSON for API paths,
/// always naming the request id so a user can quote it to the administrator.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let is_api = crate::auth::token::is_api(req.uri().path());
    let instance = req.uri().path().to_string();
    let wants_json = is_api
        || req.uri().path() == "/health"
        || req.uri().path() == "/ready"
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("application/json"));
    let request_id =
        req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-").to_string();
    let response = next.run(req).await;
    let status = response.status();
    let info = match response.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        // Errors raised by axum itself (unknown route, wrong method, body too large, bad form) come as
        // plain text; pages that answer 4xx on purpose (a form with errors) are HTML already.
        None if (status.is_client_error() || status.is_server_error()) && !is_rendered(&response) => {
            let message = match status {
                StatusCode::NOT_FOUND => crate::error::AppError::NotFound.public_message(),
                StatusCode::METHOD_NOT_ALLOWED => "Deze actie is op dit adres niet mogelijk.".to_string(),
                StatusCode::PAYLOAD_TOO_LARGE => super::form_too_large().public_message(),
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    "Het formulier kon niet worden gelezen. Vul het opnieuw in en verstuur het nog eens.".to_string()
                }
                s if s.is_server_error() => crate::error::AppError::Internal(anyhow::anyhow!("")).public_message(),
                _ => status.canonical_reason().unwrap_or("Fout").to_string(),
            };
            ErrorInfo { status, message }
        }
        None => return response,
    };
    // Keep headers a handler set deliberately (e.g. Retry-After), replace the body.
    let (mut parts, _) = response.into_parts();
    let body = if is_api {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(super::api::problem::CONTENT_TYPE));
        super::api::problem::body(info.status, &info.message, &request_id, &instance).to_string()
    } else if wants_json {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        serde_json::json!({"error": info.message, "status": info.status.as_u16(), "request_id": request_id}).to_string()
    } else {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        views::layout::error_page(info.status, &info.message, &request_id).into_string()
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body)).into_response()
}

fn is_rendered(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
        ct.starts_with("text/html") || ct.starts_with("application/json") || ct.starts_with("application/problem+json")
    })
}

/// Headers that keep a browser from being turned against the user. With secure cookies taalbudget is
/// served over HTTPS only, and `Strict-Transport-Security` tells the browser never to try plain HTTP.
pub async fn security_headers(State(https_only): State<bool>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if https_only {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Random request ids, so a user's error report can be found in the log.
#[derive(Clone, Copy, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string()[..12]).ok().map(RequestId::new)
    }
}
