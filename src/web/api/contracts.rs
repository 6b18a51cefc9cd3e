//! `/api/v1/contracts`: contracts with tariffs, milestones, options, ceiling use and figures, all from the kept
//! portfolio (`report::commitments::portfolio`) the contract pages use, so every euro is the screen's euro.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use super::{date, money, opt_date, page_of, PageInfo, Paging};
use crate::domain::commitment::ContractFigures;
use crate::domain::contract::{CeilingLevel, Due};
use crate::domain::dates;
use crate::error::{AppError, AppResult};
use crate::store::contracts::Contract;
use crate::web::AppState;

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractFilter {
    /// Only the contracts of this provider.
    pub provider_id: Option<i64>,
    /// Only contracts with this status today: `draft`, `active`, `in_option_period` or `ended`.
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// What a contract has cost and will cost, as on its page.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FiguresJson {
    /// Everything the placements on this contract are expected to cost.
    pub expected_total: String,
    /// Invoiced: every attributed ledger line of this contract.
    pub actual: String,
    /// Open commitments due on or before today.
    pub overdue: String,
    /// Open commitments still to come.
    pub to_come: String,
    pub open_commitment: String,
    /// Of the open commitment: placements of a cohort without a funding stream.
    pub unfunded: String,
    /// actual + open commitment.
    pub ceiling_use: String,
    /// Ceiling use in percent, one decimal.
    pub ceiling_pct: String,
    /// `ok`, `warning` (80% or more) or `exceeded` (100% or more).
    pub level: String,
    /// While under the ceiling: when it will be reached at the pace of the last six months.
    pub reached_on: Option<String>,
    pub over_by: String,
    pub placements: usize,
    /// Placements the terms cannot price.
    pub unpriced: usize,
}

impl FiguresJson {
    fn of(f: &ContractFigures) -> FiguresJson {
        FiguresJson {
            expected_total: money(f.expected_total),
            actual: money(f.actual),
            overdue: money(f.overdue),
            to_come: money(f.to_come),
            open_commitment: money(f.open_commitment),
            unfunded: money(f.unfunded),
            ceiling_use: money(f.ceiling_use),
            ceiling_pct: format!("{:.1}", f.ceiling_pct),
            level: match f.level {
                CeilingLevel::Ok => "ok",
                CeilingLevel::Warning => "warning",
                CeilingLevel::Exceeded => "exceeded",
            }
            .into(),
            reached_on: opt_date(f.reached_on),
            over_by: money(f.over_by),
            placements: f.placements,
            unpriced: f.unpriced,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContractItem {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub provider_id: i64,
    pub provider_name: String,
    /// The lot (perceel) of the procurement.
    pub lot: String,
    /// Route codes: `b1`, `z`, ...
    pub routes: Vec<String>,
    pub start_date: String,
    pub initial_end_date: String,
    /// The end including exercised options.
    pub current_end_date: String,
    /// `draft`, `active`, `in_option_period` or `ended` today.
    pub status: String,
    pub ceiling: String,
    pub figures: FiguresJson,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContractList {
    pub items: Vec<ContractItem>,
    pub page: PageInfo,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TariffJson {
    pub id: i64,
    pub route: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    /// The fixed budget per participant.
    pub amount: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MilestoneJson {
    pub route: String,
    pub name: String,
    /// Share of the tariff in percent, e.g. "40.00".
    pub share_pct: String,
    /// `start`, `months` or `completion`.
    pub due: String,
    /// For `months`: months after the start.
    pub due_months: Option<u32>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OptionJson {
    pub id: i64,
    pub new_end_date: String,
    pub notice_deadline: String,
    /// `pending`, `exercised` or `declined`.
    pub status: String,
    pub decision_reference: String,
    pub decision_date: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContractDetail {
    #[serde(flatten)]
    pub contract: ContractItem,
    pub notes: String,
    pub version: i64,
    pub tariffs: Vec<TariffJson>,
    pub milestones: Vec<MilestoneJson>,
    pub options: Vec<OptionJson>,
    /// Since when ceiling use has been over the ceiling; null while it is not.
    pub ceiling_reached_since: Option<String>,
}

fn item(c: &Contract, f: &ContractFigures, today: time::Date) -> ContractItem {
    let period = &c.terms.period;
    ContractItem {
        id: c.id,
        reference: c.reference.clone(),
        title: c.title.clone(),
        provider_id: c.provider_id,
        provider_name: c.provider_name.clone(),
        lot: c.lot.clone(),
        routes: c.terms.routes.iter().map(|r| r.code().to_string()).collect(),
        start_date: date(period.start_date),
        initial_end_date: date(period.initial_end_date),
        current_end_date: date(period.current_end()),
        status: period.status(today).code().into(),
        ceiling: money(c.terms.ceiling),
        figures: FiguresJson::of(f),
    }
}

const STATUSES: [&str; 4] = ["draft", "active", "in_option_period", "ended"];

/// Contracts by start date and reference, each with its figures today.
#[utoipa::path(get, path = "/api/v1/contracts", tag = "contracten", params(ContractFilter),
    responses(
        (status = 200, body = ContractList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<ContractFilter>, QueryRejection>,
) -> AppResult<Response> {
    let f = super::query(q)?;
    if let Some(s) = f.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(AppError::BadRequest(format!("status '{s}' bestaat niet; kies uit {}", STATUSES.join(", "))));
    }
    let paging = Paging { limit: f.limit, offset: f.offset };
    paging.checked()?;
    let today = dates::today();
    let all = crate::web::contracts::portfolio(&state, today).await?;
    let items: Vec<ContractItem> = all
        .with_figures()
        .filter(|(c, _)| f.provider_id.is_none_or(|p| c.provider_id == p))
        .map(|(c, fig)| item(c, fig, today))
        .filter(|i| f.status.as_deref().is_none_or(|s| i.status == s))
        .collect();
    let (items, page) = page_of(items, &paging, uri.path(), uri.query().unwrap_or(""))?;
    Ok(super::json(&headers, &ContractList { items, page }))
}

/// One contract with its terms and figures.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "contracten",
    params(("id" = i64, Path, description = "Het id van het contract")),
    responses(
        (status = 200, body = ContractDetail),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, PathRejection>,
) -> AppResult<Response> {
    let id = super::path(id)?;
    let today = dates::today();
    let all = crate::web::contracts::portfolio(&state, today).await?;
    let (c, f) = all.contract(id).ok_or(AppError::NotFound)?;
    let since = all.reached_since(&state.db, c, f).await?;
    let terms = &c.terms;
    let detail = ContractDetail {
        contract: item(c, f, today),
        notes: c.notes.clone(),
        version: c.version,
        tariffs: terms
            .tariffs
            .iter()
            .map(|t| TariffJson {
                id: t.id,
                route: t.route.code().into(),
                valid_from: date(t.valid_from),
                valid_until: opt_date(t.valid_until),
                amount: money(t.amount),
            })
            .collect(),
        milestones: terms
            .milestones
            .iter()
            .flat_map(|(route, ms)| {
                ms.iter().map(move |m| MilestoneJson {
                    route: route.code().into(),
                    name: m.name.clone(),
                    share_pct: format!("{:.2}", rust_decimal::Decimal::new(m.share.basis_points(), 2)),
                    due: m.due.kind_code().into(),
                    due_months: match m.due {
                        Due::MonthsAfterStart(n) => Some(n),
                        _ => None,
                    },
                })
            })
            .collect(),
        options: terms
            .period
            .options
            .iter()
            .map(|o| OptionJson {
                id: o.id,
                new_end_date: date(o.new_end_date),
                notice_deadline: date(o.notice_deadline),
                status: o.status.code().into(),
                decision_reference: o.decision_reference.clone(),
                decision_date: opt_date(o.decision_date),
            })
            .collect(),
        ceiling_reached_since: opt_date(since),
    };
    Ok(super::json(&headers, &detail))
}
