//! `/api/v1/funding-streams`, `/api/v1/allocations` and `/api/v1/budget-lines`: the funding registers, and new
//! allocations with the funding screen's validation and audit.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::problem::{FieldProblem, Instance, Problem};
use super::{date, money, opt_date, page_of, PageInfo, Paging};
use crate::auth::CurrentUser;
use crate::domain::funding::{validate_allocation, Allocation, AllocationForm, BudgetLine, FundingStream};
use crate::error::{AppError, AppResult};
use crate::store::funding::{self as store, FundingError};
use crate::web::AppState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StreamJson {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `specific_grant`, `municipality_fund`, `own_funds` or `other`.
    pub kind: String,
    /// Cohorts this money may pay for; empty: any.
    pub cohorts: Vec<String>,
    pub spend_from: String,
    pub spend_until: Option<String>,
    pub carry_over: bool,
    pub notes: String,
    pub version: i64,
}

fn stream_json(s: &FundingStream, version: i64) -> StreamJson {
    StreamJson {
        id: s.id,
        code: s.code.clone(),
        name: s.name.clone(),
        kind: s.kind.code().into(),
        cohorts: s.cohorts.iter().map(|c| c.code().to_string()).collect(),
        spend_from: date(s.spend_from),
        spend_until: opt_date(s.spend_until),
        carry_over: s.carry_over,
        notes: s.notes.clone(),
        version,
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StreamList {
    pub items: Vec<StreamJson>,
    pub page: PageInfo,
}

/// Funding streams by code.
#[utoipa::path(get, path = "/api/v1/funding-streams", tag = "financiering", params(Paging),
    responses(
        (status = 200, body = StreamList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn streams(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<Paging>, QueryRejection>,
) -> AppResult<Response> {
    let paging = super::query(q)?;
    let all = store::streams(&state.db).await?.iter().map(|(s, v)| stream_json(s, *v)).collect();
    let (items, page) = page_of(all, &paging, uri.path(), uri.query().unwrap_or(""))?;
    Ok(super::json(&headers, &StreamList { items, page }))
}

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FundingFilter {
    /// Only this stream's (its id).
    pub stream_id: Option<i64>,
    pub year: Option<i32>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

impl FundingFilter {
    async fn checked(&self, state: &AppState) -> AppResult<Paging> {
        if let Some(id) = self.stream_id {
            if store::stream(&state.db, id).await?.is_none() {
                return Err(AppError::BadRequest(format!("financieringsbron {id} bestaat niet")));
            }
        }
        let paging = Paging { limit: self.limit, offset: self.offset };
        paging.checked()?;
        Ok(paging)
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AllocationJson {
    pub id: i64,
    pub stream_id: i64,
    pub year: i32,
    /// `advance`, `final_settlement` or `correction`.
    pub kind: String,
    pub amount: String,
    pub reference: String,
    /// The date of the decision.
    pub decided_on: String,
}

fn allocation_json(a: &Allocation) -> AllocationJson {
    AllocationJson {
        id: a.id,
        stream_id: a.stream_id,
        year: a.year,
        kind: a.kind.code().into(),
        amount: money(a.amount),
        reference: a.reference.clone(),
        decided_on: date(a.date),
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AllocationList {
    pub items: Vec<AllocationJson>,
    pub page: PageInfo,
}

/// Allocations by year, decision date and id.
#[utoipa::path(get, path = "/api/v1/allocations", tag = "financiering", params(FundingFilter),
    responses(
        (status = 200, body = AllocationList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn allocations(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<FundingFilter>, QueryRejection>,
) -> AppResult<Response> {
    let f = super::query(q)?;
    let paging = f.checked(&state).await?;
    let all = store::allocations(&state.db, f.stream_id)
        .await?
        .iter()
        .filter(|a| f.year.is_none_or(|y| a.year == y))
        .map(allocation_json)
        .collect();
    let (items, page) = page_of(all, &paging, uri.path(), uri.query().unwrap_or(""))?;
    Ok(super::json(&headers, &AllocationList { items, page }))
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BudgetLineJson {
    pub id: i64,
    pub stream_id: i64,
    pub category: String,
    pub year: i32,
    pub amount: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BudgetLineList {
    pub items: Vec<BudgetLineJson>,
    pub page: PageInfo,
}

fn budget_line_json(l: &BudgetLine) -> BudgetLineJson {
    BudgetLineJson {
        id: l.id,
        stream_id: l.stream_id,
        category: l.category.clone(),
        year: l.year,
        amount: money(l.amount),
    }
}

/// Budget lines by year and category.
#[utoipa::path(get, path = "/api/v1/budget-lines", tag = "financiering", params(FundingFilter),
    responses(
        (status = 200, body = BudgetLineList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn budget_lines(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<FundingFilter>, QueryRejection>,
) -> AppResult<Response> {
    let f = super::query(q)?;
    let paging = f.checked(&state).await?;
    let all = store::budget_lines(&state.db, f.stream_id)
        .await?
        .iter()
        .filter(|l| f.year.is_none_or(|y| l.year == y))
        .map(budget_line_json)
        .collect();
    let (items, page) = page_of(all, &paging, uri.path(), uri.query().unwrap_or(""))?;
    Ok(super::json(&headers, &BudgetLineList { items, page }))
}

/// A new allocation, as the funding screen's form takes it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocation {
    /// The stream's code, e.g. `SPUK2022`.
    pub stream: String,
    pub year: i32,
    /// `advance`, `final_settlement` or `correction`.
    pub kind: String,
    /// A decimal string, e.g. "1234.50"; negative only for a correction.
    pub amount: String,
    /// The decision or circular.
    pub reference: String,
    /// ISO date of the decision.
    pub decided_on: String,
}

/// Records an allocation for a stream: the same validation and audit as the funding screen (the actor is the
/// token's user).
#[utoipa::path(post, path = "/api/v1/allocations", tag = "financiering", request_body = NewAllocation,
    responses(
        (status = 201, body = AllocationJson, description = "Opgeslagen; `Location` wijst naar de lijst van de bron."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "Onbekende financieringsbron."),
        (status = 422, body = FieldProblem, content_type = "application/problem+json"),
    ))]
pub async fn add_allocation(
    user: CurrentUser,
    State(state): State<AppState>,
    at: Instance,
    body: Result<Json<NewAllocation>, JsonRejection>,
) -> AppResult<Response> {
    let Json(new) = body.map_err(|e| AppError::BadRequest(format!("ongeldige JSON: {}", e.body_text())))?;
    let Some((stream, _)) = store::streams(&state.db).await?.into_iter().find(|(s, _)| s.code == new.stream.trim())
    else {
        return Err(AppError::NotFoundWith(format!("financieringsbron '{}' bestaat niet", new.stream)));
    };
    let form = AllocationForm {
        year: new.year.to_string(),
        kind: new.kind,
        amount: new.amount,
        reference: new.reference,
        decided_on: new.decided_on,
    };
    let refused = |errors: Vec<(String, String)>| {
        let errors: Vec<_> = errors.into_iter().map(|(f, m)| json!({"field": f, "message": m})).collect();
        let mut members = serde_json::Map::new();
        members.insert("errors".into(), errors.into());
        super::problem::with_members(
            StatusCode::UNPROCESSABLE_ENTITY,
            "de toekenning is niet opgeslagen; zie errors",
            &at,
            members,
        )
    };
    let a = match validate_allocation(&form, &stream) {
        Ok(a) => a,
        Err(e) => return Ok(refused(e.iter().map(|(f, m)| (f.to_string(), m.to_string())).collect())),
    };
    match store::add_allocation(&state.db, &a, user.actor()).await {
        Ok(id) => {
            let saved = Allocation { id, ..a };
            let location = format!("/api/v1/allocations?stream_id={}", saved.stream_id);
            Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], Json(allocation_json(&saved)))
                .into_response())
        }
        Err(FundingError::ClosedYear(y)) => {
            Ok(refused(vec![("year".into(), format!("Jaar {y} is afgesloten; een beheerder kan het heropenen."))]))
        }
        Err(FundingError::NotFound) => Err(AppError::NotFound),
        Err(FundingError::Db(e)) => Err(e.into()),
        Err(other) => Err(AppError::Conflict(other.to_string())),
    }
}
