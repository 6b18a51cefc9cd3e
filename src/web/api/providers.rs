//! `/api/v1/providers`: providers with their Blik op Werk mark status today and their mark decisions.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use super::{date, opt_date, page_of, PageInfo, Paging};
use crate::domain::certification::{Decision, MarkStatus, Standing};
use crate::domain::dates;
use crate::error::{AppError, AppResult};
use crate::store::certifications;
use crate::store::providers::{self, Filter, Provider};
use crate::web::AppState;

/// Filters of the provider list (the same as on `/aanbieders`).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProviderFilter {
    /// Part of the name or KvK number.
    pub q: Option<String>,
    /// `actief` (default), `gearchiveerd` or `alle`.
    pub status: Option<String>,
    /// `geldig` (a valid mark today) or `aandacht` (none, suspended or lapsing within 90 days).
    pub keurmerk: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// A provider's mark today, in the words every screen uses.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MarkJson {
    /// `valid`, `suspended` or `not_valid`.
    pub standing: String,
    /// The last valid day or the end of the suspension; null when none is known (an indefinite mark).
    pub until: Option<String>,
    pub valid: bool,
    pub needs_attention: bool,
    /// As on the screens, e.g. "Geldig tot en met 31-12-2027".
    pub words: String,
}

impl MarkJson {
    pub fn of(m: &MarkStatus) -> MarkJson {
        let (standing, until) = match &m.standing {
            Standing::Valid { until, .. } => ("valid", *until),
            Standing::Suspended { until } => ("suspended", *until),
            Standing::NotValid { .. } => ("not_valid", None),
        };
        MarkJson {
            standing: standing.into(),
            until: opt_date(until),
            valid: m.is_valid(),
            needs_attention: m.needs_attention(),
            words: m.words(),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProviderItem {
    pub id: i64,
    pub name: String,
    pub kvk: String,
    pub active: bool,
    pub mark: MarkJson,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProviderList {
    pub items: Vec<ProviderItem>,
    pub page: PageInfo,
}

/// One Blik op Werk decision.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DecisionJson {
    pub id: i64,
    /// `fixed_term`, `indefinite`, `suspended`, `withdrawn`, `lapsed` or `refused`.
    pub status: String,
    pub decision_date: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub suspended_from: Option<String>,
    pub suspended_until: Option<String>,
    pub registration_number: String,
    pub note: String,
}

impl DecisionJson {
    fn of(d: &Decision) -> DecisionJson {
        DecisionJson {
            id: d.id,
            status: d.status.code().into(),
            decision_date: date(d.decision_date),
            valid_from: date(d.valid_from),
            valid_until: opt_date(d.valid_until),
            suspended_from: opt_date(d.suspended_from),
            suspended_until: opt_date(d.suspended_until),
            registration_number: d.registration_number.clone(),
            note: d.note.clone(),
        }
    }
}

/// A provider with its facts, its mark today and every mark decision (its history), oldest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProviderDetail {
    pub id: i64,
    pub name: String,
    pub kvk: String,
    pub address: String,
    pub contact_person: String,
    pub email: String,
    pub phone: String,
    pub notes: String,
    pub active: bool,
    pub version: i64,
    pub mark: MarkJson,
    pub decisions: Vec<DecisionJson>,
    /// The ids of the provider's contracts (see `/api/v1/contracts/{id}`).
    pub contracts: Vec<i64>,
}

fn item(p: Provider, mark: &MarkStatus) -> ProviderItem {
    ProviderItem { id: p.id, name: p.name, kvk: p.kvk, active: p.active, mark: MarkJson::of(mark) }
}

/// Providers by name, with their mark status today.
#[utoipa::path(get, path = "/api/v1/providers", tag = "aanbieders", params(ProviderFilter),
    responses(
        (status = 200, body = ProviderList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<ProviderFilter>, QueryRejection>,
) -> AppResult<Response> {
    let f = super::query(q)?;
    let filter = match f.status.as_deref() {
        None | Some("actief") => Filter::Active,
        Some("gearchiveerd") => Filter::Archived,
        Some("alle") => Filter::All,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "status '{other}' bestaat niet; kies actief, gearchiveerd of alle"
            )))
        }
    };
    let keurmerk = f.keurmerk.as_deref().unwrap_or("");
    if !matches!(keurmerk, "" | "geldig" | "aandacht") {
        return Err(AppError::BadRequest(format!("keurmerk '{keurmerk}' bestaat niet; kies geldig of aandacht")));
    }
    let paging = Paging { limit: f.limit, offset: f.offset };
    paging.checked()?;
    let today = dates::today();
    let decisions = certifications::all_by_provider(&state.db).await?;
    let none = Vec::new();
    let all: Vec<ProviderItem> = providers::list(&state.db, f.q.as_deref().unwrap_or(""), filter)
        .await?
        .into_iter()
        .map(|p| {
            let mark = MarkStatus::of(decisions.get(&p.id).unwrap_or(&none), today);
            (p, mark)
        })
        .filter(|(_, m)| match keurmerk {
            "geldig" => m.is_valid(),
            "aandacht" => m.needs_attention(),
            _ => true,
        })
        .map(|(p, m)| item(p, &m))
        .collect();
    let (items, page) = page_of(all, &paging, uri.path(), uri.query().unwrap_or(""))?;
    Ok(super::json(&headers, &ProviderList { items, page }))
}

/// One provider with its mark decisions.
#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "aanbieders",
    params(("id" = i64, Path, description = "Het id van de aanbieder")),
    responses(
        (status = 200, body = ProviderDetail),
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
    let p = providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let decisions = certifications::for_provider(&state.db, id).await?;
    let mark = MarkStatus::of(&decisions, dates::today());
    let contracts =
        crate::store::contracts::list(&state.db).await?.into_iter().filter(|c| c.provider_id == id).map(|c| c.id);
    let detail = ProviderDetail {
        id: p.id,
        mark: MarkJson::of(&mark),
        decisions: decisions.iter().map(DecisionJson::of).collect(),
        contracts: contracts.collect(),
        name: p.name,
        kvk: p.kvk,
        address: p.address,
        contact_person: p.contact_person,
        email: p.email,
        phone: p.phone,
        notes: p.notes,
        active: p.active,
        version: p.version,
    };
    Ok(super::json(&headers, &detail))
}
