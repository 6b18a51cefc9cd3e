//! `/api/v1/placements`: placements at participant level (client number, never a BSN), for the roles that may
//! read participant data (never the policy adviser).

use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use super::{date, info, opt_date, PageInfo, Paging};
use crate::domain::placement::PlacementStatus;
use crate::domain::route::Route;
use crate::error::{AppError, AppResult};
use crate::store::placements::{self, Filter, Placement};
use crate::web::AppState;

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlacementFilter {
    pub contract_id: Option<i64>,
    /// Route code: `b1`, `z`, ...
    pub route: Option<String>,
    /// Status code: `started`, `ongoing`, `completed` or `dropped_out`.
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlacementJson {
    pub id: i64,
    /// The municipality's client number.
    pub client_number: String,
    /// `wi2021`, `wi2013`, ...
    pub cohort: String,
    pub route: String,
    pub contract_id: i64,
    pub start_date: String,
    pub planned_end: String,
    pub status: String,
    pub status_date: Option<String>,
    pub pip_date: Option<String>,
    pub version: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlacementList {
    pub items: Vec<PlacementJson>,
    pub page: PageInfo,
}

fn json(p: &Placement) -> PlacementJson {
    let s = &p.schedule;
    PlacementJson {
        id: p.id,
        client_number: p.client_number.as_str().into(),
        cohort: p.cohort.code().into(),
        route: p.route.code().into(),
        contract_id: p.contract_id,
        start_date: date(s.start_date),
        planned_end: date(s.planned_end),
        status: s.status.code().into(),
        status_date: opt_date(s.status_date),
        pip_date: opt_date(p.pip_date),
        version: p.version,
    }
}

/// Placements, newest start first (then by id), as on `/plaatsingen`.
#[utoipa::path(get, path = "/api/v1/placements", tag = "plaatsingen", params(PlacementFilter),
    responses(
        (status = 200, body = PlacementList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<PlacementFilter>, QueryRejection>,
) -> AppResult<Response> {
    let f = super::query(q)?;
    let (limit, offset) = Paging { limit: f.limit, offset: f.offset }.checked()?;
    if let Some(r) = f.route.as_deref().filter(|r| Route::parse(r).is_none()) {
        return Err(AppError::BadRequest(format!("route '{r}' bestaat niet")));
    }
    if let Some(s) = f.status.as_deref().filter(|s| !PlacementStatus::ALL.iter().any(|p| p.code() == *s)) {
        return Err(AppError::BadRequest(format!("status '{s}' bestaat niet")));
    }
    let filter = Filter {
        contract: f.contract_id,
        route: f.route.clone(),
        statuses: f.status.clone().map(|s| vec![s]),
        ..Filter::default()
    };
    let total = placements::count(&state.db, &filter).await?;
    let items = placements::page(&state.db, &filter, offset, limit).await?.iter().map(json).collect();
    let page = info(total, limit, offset, uri.path(), uri.query().unwrap_or(""));
    Ok(super::json(&headers, &PlacementList { items, page }))
}
