//! `/api/v1/reconciliation/{year}` and `/api/v1/overview`: the same JSON as `taalbudget report reconciliation`
//! and `taalbudget report overview`, computed by the same functions as the screens.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::dates;
use crate::domain::forecast::{validate_years, Variant};
use crate::domain::scorecard::Grain;
use crate::domain::small_cell::SmallCells;
use crate::error::{AppError, AppResult};
use crate::report::export;
use crate::report::overview::{self, OverviewParams};
use crate::report::scorecard::{hidden, Group, ScoreRow, PARTS};
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
    let years = validate_years(q.from, q.to).map_err(AppError::BadRequest)?;
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

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// `jaar` (default), `kwartaal` or `maand`, as on `/scorecard`.
    pub periode: Option<String>,
    /// First year (default 2022).
    pub from: Option<i32>,
    /// Last year (default this year).
    pub to: Option<i32>,
}

/// First attempts at one exam part.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FirstAttemptsJson {
    /// `reading`, `listening`, ...
    pub part: String,
    /// Null when the small-cell rule hides it.
    pub taken: Option<u32>,
    pub passed: Option<u32>,
    /// Passed in percent, one decimal; null when none was taken or hidden.
    pub pct: Option<String>,
}

/// One provider's line for one period and route. A figure is null where the page shows "minder dan 5" (the
/// small-cell rule for roles that see aggregates only) or where there is nothing to show; `hidden` names the
/// figures the rule hid.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScoreLineJson {
    /// `2023`, or the quarter's or month's code.
    pub period: String,
    pub route: String,
    pub provider: String,
    /// Starts by the progress reports; null without reports.
    pub starts: Option<u32>,
    pub running: Option<u32>,
    pub reporting: Option<u32>,
    /// Average days from PIP to the first lesson, one decimal.
    pub avg_wait_days: Option<String>,
    /// Attended of offered hours, in percent.
    pub attendance_pct: Option<String>,
    /// Hours of absence.
    pub absence_hours: Option<String>,
    pub first_attempts: Vec<FirstAttemptsJson>,
    pub route_changes: Option<u32>,
    pub dropouts: Option<u32>,
    pub hidden: Vec<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Scorecard {
    /// `jaar`, `kwartaal` or `maand`.
    pub periode: String,
    pub from: i32,
    pub to: i32,
    pub lines: Vec<ScoreLineJson>,
}

fn score_line(r: &ScoreRow, cells: SmallCells) -> ScoreLineJson {
    let l = &r.line;
    let mut hidden_names = Vec::new();
    let mut show = |group: Group, name: &str| {
        let h = hidden(cells, l, group);
        if h {
            hidden_names.push(name.to_string());
        }
        !h
    };
    let line = show(Group::Line, "line");
    let waiting = show(Group::Waiting, "avg_wait_days");
    let reporting = show(Group::Reporting, "attendance");
    let first_attempts = PARTS
        .iter()
        .map(|&part| {
            let f = l.first_attempts.get(&part).copied().unwrap_or_default();
            let shown = show(Group::Exam(part), &format!("first_attempts.{}", part.code()));
            FirstAttemptsJson {
                part: part.code().into(),
                taken: shown.then_some(f.taken),
                passed: shown.then_some(f.passed),
                pct: f.pct().filter(|_| shown).map(|d| format!("{d:.1}")),
            }
        })
        .collect();
    ScoreLineJson {
        period: r.period.code(),
        route: r.route.code().into(),
        provider: r.provider.clone(),
        starts: l.reported_starts().filter(|_| line),
        running: line.then_some(l.running),
        reporting: line.then_some(l.reporting),
        avg_wait_days: l.avg_wait_days().filter(|_| waiting).map(|d| format!("{d:.1}")),
        attendance_pct: l.attendance_pct().filter(|_| reporting).map(|d| format!("{d:.1}")),
        absence_hours: reporting.then(|| l.absence.decimal().to_string()),
        first_attempts,
        route_changes: line.then_some(l.route_changes),
        dropouts: line.then_some(l.dropouts),
        hidden: hidden_names,
    }
}

/// The provider scorecard, as on `/scorecard`: the same rows and the same small-cell rule for the token's role.
#[utoipa::path(get, path = "/api/v1/scorecard", tag = "rapportages", params(ScorecardQuery),
    responses(
        (status = 200, body = Scorecard),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn scorecard(
    user: CurrentUser,
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<ScorecardQuery>, QueryRejection>,
) -> AppResult<Response> {
    let q = super::query(q)?;
    let periode = q.periode.as_deref().unwrap_or("jaar");
    let grain = Grain::parse(periode).ok_or_else(|| {
        AppError::BadRequest(format!("periode '{periode}' bestaat niet; kies jaar, kwartaal of maand"))
    })?;
    let today = dates::today();
    let (from, to) = (q.from.unwrap_or(2022), q.to.unwrap_or(today.year().max(q.from.unwrap_or(2022))));
    validate_years(from, to).map_err(AppError::BadRequest)?;
    let rows =
        crate::report::scorecard::rows(&state.db, (grain, from, to, today), Some(&state.scorecard_cache)).await?;
    let cells = SmallCells::new(!user.role.may(Permission::ParticipantData));
    let card = Scorecard {
        periode: grain.code().into(),
        from,
        to,
        lines: rows.iter().map(|r| score_line(r, cells)).collect(),
    };
    Ok(super::json(&headers, &card))
}
