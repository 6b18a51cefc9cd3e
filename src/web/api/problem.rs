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

/// The problem document as the OpenAPI document describes it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Stable: `/api/problemen/<soort>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What happened this time, in Dutch.
    pub detail: String,
    /// The path of the request.
    pub instance: String,
    /// Quote it to the administrator; the server log has the same id.
    pub request_id: String,
}

/// Every kind of problem, with its status and what a client can do about it (the pages under
/// `/api/problemen/`).
pub const KINDS: &[(StatusCode, &str)] = &[
    (StatusCode::BAD_REQUEST, "Een parameter, het adres of het formulier is ongeldig; `detail` zegt welke. Pas het verzoek aan."),
    (StatusCode::UNAUTHORIZED, "Er is geen geldig persoonlijk API-token meegestuurd (`Authorization: Bearer tb_…`), of het is verlopen of ingetrokken. Maak een nieuw token op uw accountpagina."),
    (StatusCode::FORBIDDEN, "Uw rol geeft geen recht op deze actie. Het OpenAPI-document noemt per route het vereiste recht (`x-permission`)."),
    (StatusCode::NOT_FOUND, "Het gevraagde bestaat niet (meer)."),
    (StatusCode::METHOD_NOT_ALLOWED, "Deze methode is op dit adres niet mogelijk."),
    (StatusCode::CONFLICT, "De actie botst met de huidige toestand, bijvoorbeeld een afgesloten jaar of een batch die al ongedaan is gemaakt."),
    (StatusCode::PRECONDITION_FAILED, "Het record is intussen door iemand anders gewijzigd."),
    (StatusCode::PAYLOAD_TOO_LARGE, "Het bestand of het verzoek is groter dan de server aanneemt."),
    (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Het verzoek heeft een ander formaat dan de route verwacht (bijvoorbeeld geen multipart bij een import)."),
    (StatusCode::UNPROCESSABLE_ENTITY, "De gegevens bevatten fouten; het lid `errors` noemt ze (bij een import met blad, rij, kolom en waarde)."),
    (StatusCode::TOO_MANY_REQUESTS, "Te veel mislukte pogingen; wacht even (zie `Retry-After`)."),
    (StatusCode::SERVICE_UNAVAILABLE, "De database is even bezet door ander werk; probeer het na `Retry-After` seconden opnieuw."),
    (StatusCode::INTERNAL_SERVER_ERROR, "Een fout in taalbudget zelf. Geef de `request_id` door aan de beheerder."),
];

/// Where a problem happened: the request's path and id, for handlers that answer with a problem of their own.
pub struct Instance {
    pub path: String,
    pub request_id: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Instance {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<tower_http::request_id::RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-")
            .to_string();
        Ok(Instance { path: parts.uri.path().to_string(), request_id })
    }
}

/// A problem document with members of its own besides the standard ones (e.g. `errors`), sent as it is: the
/// error renderer passes a rendered problem through unchanged.
pub fn with_members(
    status: StatusCode,
    detail: &str,
    at: &Instance,
    members: serde_json::Map<String, Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut doc = body(status, detail, &at.request_id, &at.path);
    if let Value::Object(o) = &mut doc {
        for (k, v) in members {
            // The standard members keep their meaning; a member of the same name does not replace them.
            o.entry(k).or_insert(v);
        }
    }
    (status, [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], doc.to_string()).into_response()
}

/// One field a write refused, and why.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A 422 problem with the fields that were refused.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    #[serde(flatten)]
    pub problem: Problem,
    pub errors: Vec<FieldError>,
}
