//! `/api/v1/reconciliation/{year}` and `/api/v1/overview`: the same JSON as `taalbudget report reconciliation`
//! and `taalbudget report overview`, computed by the same functions as the screens.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;

use super::problem::Problem;
use crate::domain::dates;
use crate::domain::forecast::{validate_years, Variant};
use crate::error::{AppError, AppResult};
use crate::report::export;
use crate::report::overview::{self, OverviewParams};
use crate::store;
use crate::web::AppState;

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// Only this stream (its code), as `--stream`.
    pub stream: Option<String>,
}

/// The reconciliation of one year: available, actual, committed and remaining per stream, the unattributed
/// spend and the signals; the object `taalbudget report reconciliation --year Y --format json` prints.
#[utoipa::path(get, path = "/api/v1/reconciliation/{year}", tag = "rapportages",
    params(("year" = i32, Path, description = "Het jaar (2000 tot en met 2100)"), ReconciliationQuery),
    responses(
        (status = 200, body = serde_json::Value, description = "Hetzelfde object als `taalbudget report reconciliation --format json`."),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reconciliation(
    State(state): State<AppState>,
    headers: HeaderMap,
    year: Result<Path<i32>, PathRejection>,
    q: Result<Query<ReconciliationQuery>, QueryRejection>,
) -> AppResult<Response> {
    let year = super::path(year)?;
    let q = super::query(q)?;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::BadRequest(format!("{year} is geen geldig jaar")));
    }
    let mut report = crate::report::reconciliation::for_years(
        &state.db,
        &[year],
        Some(&state.line_flags_cache),
        Some(&state.commitments_cache),
    )
    .await?
    .remove(0);
    if let Some(code) = q.stream.as_deref() {
        report.streams.retain(|s| s.code.eq_ignore_ascii_case(code));
        if report.streams.is_empty() {
            return Err(AppError::BadRequest(format!("onbekende financieringsbron '{code}'")));
        }
    }
    Ok(super::with_etag(&headers, export::reconciliation_json(&report)))
}

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// First year.
    pub from: i32,
    /// Last year.
    pub to: i32,
    /// `laag`, `verwacht` (default) or `hoog`.
    pub variant: Option<String>,
    /// First inflow year the forecast counts (default: next year).
    pub forecast_from: Option<i32>,
    /// Only this stream (its code).
    pub stream: Option<String>,
    /// A forecast scenario by name.
    pub scenario: Option<String>,
    /// Compare with this snapshot (its name).
    pub snapshot: Option<String>,
}

/// The multi-year overview: the object `taalbudget report overview --from Y --to Y --format json` prints.
#[utoipa::path(get, path = "/api/v1/overview", tag = "rapportages", params(OverviewQuery),
    responses(
        (status = 200, body = serde_json::Value, description = "Hetzelfde object als `taalbudget report overview --format json`."),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<OverviewQuery>, QueryRejection>,
) -> AppResult<Response> {
    let q = super::query(q)?;
    let years = validate_years(q.from, q.to).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let variant_name = q.variant.as_deref().unwrap_or("verwacht");
    let variant = Variant::parse(variant_name).ok_or_else(|| {
        AppError::BadRequest(format!("onbekende variant '{variant_name}'; kies laag, verwacht of hoog"))
    })?;
    let scenario_id = match &q.scenario {
        Some(name) => Some(
            store::overview::scenarios(&state.db)
                .await?
                .into_iter()
                .find(|(s, _)| &s.name == name)
                .map(|(s, _)| s.id)
                .ok_or_else(|| AppError::BadRequest(format!("onbekend scenario '{name}'")))?,
        ),
        None => None,
    };
    let snapshot_id = match &q.snapshot {
        Some(name) => Some(
            store::overview::snapshots(&state.db)
                .await?
                .into_iter()
                .find(|s| &s.name == name)
                .map(|s| s.id)
                .ok_or_else(|| AppError::BadRequest(format!("onbekende snapshot '{name}'")))?,
        ),
        None => None,
    };
    if let Some(code) = &q.stream {
        let known = store::funding::streams(&state.db).await?;
        if !known.iter().any(|(s, _)| s.code.eq_ignore_ascii_case(code)) {
            return Err(AppError::BadRequest(format!("onbekende financieringsbron '{code}'")));
        }
    }
    let params = OverviewParams {
        years,
        scenario_id,
        variant,
        forecast_from: q.forecast_from.unwrap_or(dates::today().year() + 1),
        stream: q.stream.clone(),
        snapshot_id,
    };
    let (o, _) = overview::build(&state.db, &params, Some(&state.overview_cache)).await?;
    Ok(super::with_etag(&headers, export::overview_json(&o)))
}
