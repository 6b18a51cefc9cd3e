//! Errors of the API as RFC 9457 problem details, in Dutch, with a stable `type` per kind of problem.
//!
//! The `type` is a path on the application itself (`/api/problemen/<soort>`), so it stays the same wherever
//! taalbudget runs; clients compare it as a string and never need to fetch it.

use axum::http::StatusCode;
use serde_json::{json, Value};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// Where the problem types live.
pub const TYPE_BASE: &str = "/api/problemen/";

/// The kind of problem each status stands for, as the last part of its `type`.
pub fn kind(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "ongeldig-verzoek",
        StatusCode::UNAUTHORIZED => "niet-aangemeld",
        StatusCode::FORBIDDEN => "geen-toegang",
        StatusCode::NOT_FOUND => "niet-gevonden",
        StatusCode::METHOD_NOT_ALLOWED => "methode-niet-toegestaan",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PRECONDITION_FAILED => "gewijzigd",
        StatusCode::PAYLOAD_TOO_LARGE => "te-groot",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "verkeerd-formaat",
        StatusCode::UNPROCESSABLE_ENTITY => "validatiefouten",
        StatusCode::TOO_MANY_REQUESTS => "te-veel-verzoeken",
        StatusCode::SERVICE_UNAVAILABLE => "bezet",
        s if s.is_server_error() => "interne-fout",
        _ => "fout",
    }
}

/// A short Dutch title per kind; the `detail` says what happened this time.
pub fn title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "Het verzoek kon niet worden gelezen",
        StatusCode::UNAUTHORIZED => "Niet aangemeld",
        StatusCode::FORBIDDEN => "Geen toegang",
        StatusCode::NOT_FOUND => "Niet gevonden",
        StatusCode::METHOD_NOT_ALLOWED => "Methode niet toegestaan",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::PRECONDITION_FAILED => "Intussen gewijzigd",
        StatusCode::PAYLOAD_TOO_LARGE => "Te groot",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Verkeerd formaat",
        StatusCode::UNPROCESSABLE_ENTITY => "Validatiefouten",
        StatusCode::TOO_MANY_REQUESTS => "Te veel verzoeken",
        StatusCode::SERVICE_UNAVAILABLE => "Tijdelijk bezet",
        s if s.is_server_error() => "Interne fout",
        _ => "Fout",
    }
}

/// The problem document for a status and its Dutch message.
pub fn body(status: StatusCode, detail: &str, request_id: &str, instance: &str) -> Value {
    json!({
        "type": format!("{TYPE_BASE}{}", kind(status)),
        "title": title(status),
        "status": status.as_u16(),
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
    })
}
