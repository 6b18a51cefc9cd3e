//! The JSON API under `/api/v1`: the same data and permissions as the screens, for scripts and other systems.
//!
//! Callers sign in with a personal token (auth::token); every route goes through the one [`RouteTable`] and so
//! declares its permission like every page. Errors are problem details ([`problem`]); the interface is described
//! by the OpenAPI document [`openapi`] generates from the handlers below.

pub mod contracts;
pub mod funding;
pub mod imports;
pub mod openapi;
pub mod placements;
pub mod problem;
pub mod providers;
pub mod reports;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::report::ocds;

pub fn routes() -> RouteTable {
    use Permission::*;
    RouteTable::default()
        .get(openapi::DOCUMENT_PATH, Public, openapi::document)
        .get(openapi::DOCS_PATH, Public, openapi::docs_page)
        .get("/api/problemen/{soort}", Public, openapi::problem_page)
        .get("/api/v1/providers", Read, providers::list)
        .get("/api/v1/providers/{id}", Read, providers::detail)
        .get("/api/v1/contracts", Read, contracts::list)
        .get("/api/v1/contracts/{id}", Read, contracts::detail)
        .get("/api/v1/placements", ParticipantData, placements::list)
        .get("/api/v1/funding-streams", Read, funding::streams)
        .get("/api/v1/allocations", Read, funding::allocations)
        .post("/api/v1/allocations", ManageFinance, funding::add_allocation)
        .get("/api/v1/budget-lines", Read, funding::budget_lines)
        .get("/api/v1/reconciliation/{year}", Read, reports::reconciliation)
        .get("/api/v1/overview", Read, reports::overview)
        .get("/api/v1/scorecard", Read, reports::scorecard)
        .get("/api/v1/imports", ManageFinance, imports::list)
        .upload("/api/v1/imports", ManageFinance, imports::import)
        .get("/api/v1/imports/{id}", ManageFinance, imports::detail)
        .post("/api/v1/imports/{id}/undo", ManageFinance, imports::undo)
        .get(ocds::PACKAGE_PATH, Read, ocds_releases)
}

/// Every contract as one OCDS 1.1 release package (the same as `taalbudget export ocds`).
#[utoipa::path(get, path = "/api/v1/ocds/releases", tag = "ocds",
    responses(
        (status = 200, description = "Een OCDS 1.1 release package (zie de OCDS-schema's).", body = Object),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 404, description = "Er zijn nog geen contracten.", body = problem::Problem, content_type = "application/problem+json"),
    ))]
async fn ocds_releases(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let sources = ocds::load(&state.db).await?;
    let package = ocds::build(&sources, &state.config.ocds, &ocds::package_uri(&state.config));
    if package.releases.is_empty() {
        // An OCDS package holds at least one release; an empty one would not be valid.
        return Err(AppError::NotFoundWith("er zijn nog geen contracten om als OCDS te publiceren".into()));
    }
    Ok(with_etag(&headers, ocds::to_json(&package)))
}

/// A query string read into `T`, or a 400 problem that says what is wrong with it.
pub fn query<T>(q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>) -> AppResult<T> {
    q.map(|q| q.0).map_err(|e| AppError::BadRequest(format!("ongeldige queryparameter: {}", e.body_text())))
}

/// A path parameter read into `T`, or a 400 problem.
pub fn path<T>(p: Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>) -> AppResult<T> {
    p.map(|p| p.0).map_err(|e| AppError::BadRequest(format!("ongeldig adres: {}", e.body_text())))
}

/// Money in JSON: a decimal string with two decimals, as the command line writes it.
pub fn money(m: Money) -> String {
    m.plain()
}

/// A date in JSON: ISO 8601.
pub fn date(d: time::Date) -> String {
    crate::domain::dates::iso(d)
}

pub fn opt_date(d: Option<time::Date>) -> Option<String> {
    d.map(date)
}

/// A JSON body with an `ETag` (a hash of the body), or 304 when the caller already holds this version.
pub fn with_etag(headers: &HeaderMap, body: String) -> Response {
    let digest = Sha256::digest(body.as_bytes());
    let tag = format!("\"{}\"", hex::encode(&digest[..16]));
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let etag = HeaderValue::from_str(&tag).expect("hex in quotes is a valid header value");
    if held {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json")), (header::ETAG, etag)], body).into_response()
}

/// [`with_etag`] for a value.
pub fn json<T: Serialize>(headers: &HeaderMap, value: &T) -> Response {
    with_etag(headers, serde_json::to_string(value).expect("API values serialize"))
}

/// The default and largest page size of a list.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// Which part of a list to return. Lists keep a stable order, so `offset` pages through them.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// How many items (1 to 1000; default 100).
    pub limit: Option<usize>,
    /// How many items to skip (default 0).
    pub offset: Option<usize>,
}

impl Paging {
    /// The limit and offset, or a 400 for a limit out of range.
    pub fn checked(&self) -> AppResult<(usize, usize)> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::BadRequest(format!("limit moet tussen 1 en {MAX_LIMIT} liggen, niet {limit}")));
        }
        Ok((limit, self.offset.unwrap_or(0)))
    }
}

/// Where a list page stands in the whole list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PageInfo {
    /// Items in the whole (filtered) list.
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
    /// The path and query of the next page; null on the last page.
    pub next: Option<String>,
}

/// One page of `all`, with the link to the next page (the same query with a later `offset`).
pub fn page_of<T>(all: Vec<T>, paging: &Paging, path: &str, query: &str) -> AppResult<(Vec<T>, PageInfo)> {
    let (limit, offset) = paging.checked()?;
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    Ok((items, info(total, limit, offset, path, query)))
}

/// The [`PageInfo`] of a page of `total` items.
pub fn info(total: usize, limit: usize, offset: usize, path: &str, query: &str) -> PageInfo {
    let next = (offset + limit < total).then(|| {
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "offset" && k != "limit")
            .collect();
        pairs.push(("limit".into(), limit.to_string()));
        pairs.push(("offset".into(), (offset + limit).to_string()));
        format!("{path}?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    });
    PageInfo { total, limit, offset, next }
}
