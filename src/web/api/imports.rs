//! `/api/v1/imports`: import batches with their summaries, a new import (the command line's `--json` summary,
//! its exit code as the HTTP status), and undo. The finance kinds only, with the web import's limits, queue and
//! four-eyes rule.

use std::path::PathBuf;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Multipart, OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use super::problem::{Instance, Problem};
use super::{money, page_of, PageInfo, Paging};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::import::engine::{ImportError, ImportOptions, ImportRequest};
use crate::import::{cli, template, Kind, Summary};
use crate::store::imports::{self as store, BatchRow, UndoError};
use crate::web::imports::Area;
use crate::web::AppState;

/// How many batches the list reads at most (the newest).
const LIST_MAX: i64 = 10_000;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchJson {
    pub id: i64,
    /// `ledger`, `funding`, `streams` or `rules`.
    pub kind: String,
    pub template: String,
    pub file_name: String,
    pub file_sha256: String,
    pub imported_by: String,
    pub imported_at: String,
    pub rows_read: i64,
    pub rows_imported: i64,
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
    /// The imported amounts (ledger), decimal string.
    pub amount_total: String,
    /// `done` or `undone`.
    pub status: String,
    pub undone_by: Option<String>,
    pub undone_at: Option<String>,
    /// null, `pending`, `approved` or `rejected` (four-eyes approval).
    pub approval: Option<String>,
    pub approval_by: Option<String>,
    pub approval_at: Option<String>,
}

fn batch_json(b: BatchRow) -> BatchJson {
    BatchJson {
        amount_total: money(b.amount_total()),
        id: b.id,
        kind: b.kind,
        template: b.template,
        file_name: b.file_name,
        file_sha256: b.file_sha256,
        imported_by: b.imported_by,
        imported_at: b.imported_at,
        rows_read: b.rows_read,
        rows_imported: b.rows_imported,
        rows_duplicate: b.rows_duplicate,
        rows_rejected: b.rows_rejected,
        status: b.status,
        undone_by: b.undone_by,
        undone_at: b.undone_at,
        approval: b.approval,
        approval_by: b.approval_by,
        approval_at: b.approval_at,
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchList {
    pub items: Vec<BatchJson>,
    pub page: PageInfo,
}

/// The finance import batches, newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(Paging),
    responses(
        (status = 200, body = BatchList),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag."),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    q: Result<Query<Paging>, QueryRejection>,
) -> AppResult<Response> {
    let paging = super::query(q)?;
    paging.checked()?;
    let all =
        store::list_batches_of(&state.db, Area::Finance.kinds(), LIST_MAX).await?.into_iter().map(batch_json).collect();
    let (items, page) = page_of(all, &paging, uri.path(), uri.query().unwrap_or(""))?;
    Ok(super::json(&headers, &BatchList { items, page }))
}

async fn finance_batch(state: &AppState, id: i64) -> AppResult<BatchRow> {
    store::get_batch(&state.db, id)
        .await?
        .filter(|b| Area::Finance.kinds().iter().any(|k| k.as_str() == b.kind))
        .ok_or_else(|| AppError::NotFoundWith(format!("importbatch {id} bestaat niet")))
}

/// One batch with its summary.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = i64, Path, description = "Het batchnummer")),
    responses(
        (status = 200, body = BatchJson),
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
    Ok(super::json(&headers, &batch_json(finance_batch(&state, id).await?)))
}

/// One problem in the file, located as the spreadsheet shows it.
#[derive(Serialize, ToSchema)]
pub struct RowErrorJson {
    pub sheet: String,
    /// The row number as the spreadsheet shows it; null for the file as a whole.
    pub row: Option<u32>,
    /// The column letter.
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

/// The summary `taalbudget import KIND FILE --json` prints.
#[derive(Serialize, ToSchema)]
pub struct ImportSummary {
    /// The new batch; null for a dry run, a refused file or nothing new.
    pub batch: Option<i64>,
    pub kind: String,
    pub template: String,
    pub file_name: String,
    pub file_sha256: String,
    pub rows_read: u64,
    pub rows_imported: u64,
    pub rows_duplicate: u64,
    pub rows_rejected: u64,
    pub rows_skipped: u64,
    /// The imported amounts (ledger), decimal string with two decimals.
    pub amount_total: String,
    /// At most the first 1000.
    pub errors: Vec<RowErrorJson>,
    pub errors_total: u64,
    /// Rows already imported: `{sheet, row, batch, note?}`.
    pub duplicates: Vec<serde_json::Value>,
    pub dry_run: bool,
    /// Ledger: where the new rows go by the attribution rules.
    #[schema(nullable = false)]
    pub charges: Option<serde_json::Value>,
    /// Present (true) when the batch waits for another user's approval.
    #[schema(nullable = false)]
    pub awaits_approval: Option<bool>,
}

/// A refused import: the problem members and the whole summary (`errors` lists every problem).
#[derive(Serialize, ToSchema)]
pub struct ImportProblem {
    #[serde(flatten)]
    pub problem: Problem,
    #[serde(flatten)]
    pub summary: ImportSummary,
}

/// The multipart form of a new import.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The spreadsheet or CSV file.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// The template's name (see `taalbudget templates list`); may be left out when the kind has one template.
    pub template: Option<String>,
    /// `ledger`, `funding`, `streams` or `rules`; may be left out when the template is given.
    pub kind: Option<String>,
    /// `true`: check only, write nothing.
    pub dry_run: Option<bool>,
    /// `true`: import the good rows and reject the others.
    pub skip_invalid: Option<bool>,
}

fn flag(value: Option<&String>, name: &str) -> AppResult<bool> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") | Some("nee") => Ok(false),
        Some("true") | Some("1") | Some("on") | Some("ja") => Ok(true),
        Some(other) => Err(AppError::BadRequest(format!("{name} moet true of false zijn, niet '{other}'"))),
    }
}

/// The template asked for by name and/or kind, among the finance kinds.
fn choose_template(name: Option<&String>, kind: Option<&String>) -> AppResult<template::CheckedTemplate> {
    let kinds: Vec<Kind> = Area::Finance.kinds().iter().copied().filter(|k| *k != Kind::Setup).collect();
    let names = |k: Option<Kind>| {
        template::shipped()
            .into_iter()
            .filter(|t| kinds.contains(&t.template.kind) && k.is_none_or(|k| t.template.kind == k))
            .map(|t| t.name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kind = match kind.map(|k| k.trim()).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => match Kind::parse(k).filter(|k| kinds.contains(k)) {
            Some(k) => Some(k),
            None => {
                let all: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                return Err(AppError::BadRequest(format!("soort '{k}' kan hier niet; kies uit {}", all.join(", "))));
            }
        },
    };
    let t = match (name.map(|n| n.trim()).filter(|n| !n.is_empty()), kind) {
        (Some(n), _) => template::find(n).map_err(AppError::BadRequest)?,
        (None, Some(k)) => {
            let mut of_kind: Vec<_> = template::shipped().into_iter().filter(|t| t.template.kind == k).collect();
            if of_kind.len() != 1 {
                return Err(AppError::BadRequest(format!(
                    "geef het sjabloon op (veld template); voor {} zijn er: {}",
                    k.as_str(),
                    names(Some(k))
                )));
            }
            of_kind.remove(0)
        }
        (None, None) => {
            return Err(AppError::BadRequest(format!("geef het sjabloon op (veld template), een van: {}", names(None))))
        }
    };
    if !kinds.contains(&t.template.kind) {
        return Err(AppError::BadRequest(format!(
            "sjabloon {} is voor {}; via de API kunnen alleen {} worden geïmporteerd",
            t.name(),
            t.template.kind.as_str(),
            kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    if kind.is_some_and(|k| k != t.template.kind) {
        return Err(AppError::BadRequest(format!(
            "sjabloon {} is voor {}, niet voor {}",
            t.name(),
            t.template.kind.as_str(),
            kind.map(|k| k.as_str()).unwrap_or_default()
        )));
    }
    Ok(t)
}

/// The summary as the answer: 200 when done (also when nothing was new), else a problem holding the summary
/// (422 for validation errors, 400 for a file that cannot be read).
fn answer(s: &Summary, status: StatusCode, at: &Instance) -> Response {
    let value = serde_json::to_value(s).expect("summary serializes");
    if status == StatusCode::OK {
        return (status, Json(value)).into_response();
    }
    let serde_json::Value::Object(members) = value else { unreachable!("a summary is an object") };
    let detail = if status == StatusCode::BAD_REQUEST {
        "het bestand kon niet worden gelezen; zie errors".to_string()
    } else if s.batch.is_some() {
        format!("{} regel(s) afgewezen, de goede regels zijn geïmporteerd; zie errors", s.rows_rejected)
    } else {
        format!("het bestand bevat {} fout(en); er is niets geïmporteerd; zie errors", s.errors_total)
    };
    super::problem::with_members(status, &detail, at, members)
}

/// Imports a file as `taalbudget import KIND FILE --template NAME --json` does, and answers with its summary.
/// HTTP status for the exit code: 200 done (0), 422 validation errors (1: a problem document that also holds
/// the whole summary, `errors` naming sheet, row, column and value), 400 unreadable file or bad form (2).
/// With four-eyes approval on, the batch waits for another user's approval (`awaits_approval`).
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = ImportSummary, description = "Klaar (ook als er niets nieuws was)."),
        (status = 400, body = ImportProblem, content_type = "application/problem+json", description = "Onleesbaar bestand (met de samenvatting) of een ongeldig formulier (zonder)."),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = ImportProblem, content_type = "application/problem+json", description = "Validatiefouten: niets geïmporteerd, of met skip_invalid alleen de goede regels."),
    ))]
pub async fn import(
    user: CurrentUser,
    State(state): State<AppState>,
    at: Instance,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    let mut multipart = multipart
        .map_err(|e| AppError::BadRequest(format!("stuur het bestand als multipart/form-data: {}", e.body_text())))?;
    let limit = state.config.upload_limit as u64;
    let too_large = || AppError::PayloadTooLarge(format!("het bestand is groter dan {} MB", limit / (1024 * 1024)));
    let mut fields = std::collections::HashMap::new();
    let mut stored = None;
    let mut file_name = String::new();
    let mut size = 0u64;
    while let Some(mut field) =
        multipart.next_field().await.map_err(|e| AppError::BadRequest(format!("het formulier is onleesbaar: {e}")))?
    {
        match field.name() {
            Some("file") => {
                file_name =
                    field.file_name().unwrap_or("upload").chars().filter(|c| !c.is_control()).take(200).collect();
                let tmp = state.imports.new_upload().map_err(|e| AppError::Internal(e.into()))?;
                let (std_file, path) = tmp.into_parts();
                let mut out = tokio::fs::File::from_std(std_file);
                while let Some(chunk) = field.chunk().await.map_err(|_| too_large())? {
                    size += chunk.len() as u64;
                    if size > limit {
                        return Err(too_large());
                    }
                    out.write_all(&chunk).await.map_err(|e| AppError::Internal(e.into()))?;
                }
                out.flush().await.map_err(|e| AppError::Internal(e.into()))?;
                stored = Some(path);
            }
            Some(name) => {
                let name = name.to_string();
                let value = field.text().await.map_err(|_| too_large())?;
                fields.insert(name, value);
            }
            None => {}
        }
    }
    let Some(stored) = stored else {
        return Err(AppError::BadRequest("stuur het bestand mee in het veld 'file'".into()));
    };
    if size == 0 {
        return Err(AppError::BadRequest("het bestand is leeg (0 bytes)".into()));
    }
    let template = choose_template(fields.get("template"), fields.get("kind"))?;
    let dry_run = flag(fields.get("dry_run"), "dry_run")?;
    let skip_invalid = flag(fields.get("skip_invalid"), "skip_invalid")?;
    let kind = template.template.kind;
    // The web import's queue: only a few files are read at once, and each user's in turn.
    let ticket = state.imports.queue().enqueue(user.id);
    ticket.ready().await;
    let opts = ImportOptions {
        dry_run,
        skip_invalid,
        read_budget: state.config.read_budget(),
        four_eyes: state.config.four_eyes_imports,
        ..Default::default()
    };
    let req = ImportRequest {
        path: PathBuf::from(&*stored),
        file_name: file_name.clone(),
        template: template.clone(),
        actor: user.actor().to_string(),
    };
    let result = cli::run_kind(&state.db, kind, req, opts).await;
    drop(ticket);
    let response = match result {
        Ok(outcome) => {
            let s = outcome.summary;
            answer(&s, if s.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &at)
        }
        Err(ImportError::File(e)) => {
            let s = cli::file_failure(kind, &template, &file_name, &stored, e.to_string());
            answer(&s, StatusCode::BAD_REQUEST, &at)
        }
        Err(ImportError::Busy) => return Err(AppError::Busy),
        Err(e) => return Err(AppError::Internal(anyhow::anyhow!(e.to_string()))),
    };
    drop(stored);
    Ok(response)
}

/// What an undo did.
#[derive(Serialize, ToSchema)]
pub struct Undone {
    pub batch: i64,
    pub undone: bool,
    pub lines_removed: u64,
}

/// Undoes a batch (`taalbudget import undo BATCH --json`); audited with the token's user.
#[utoipa::path(post, path = "/api/v1/imports/{id}/undo", tag = "imports",
    params(("id" = i64, Path, description = "Het batchnummer")),
    responses(
        (status = 200, body = Undone),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Al ongedaan gemaakt, in een afgesloten jaar, of gebruikt door latere gegevens."),
    ))]
pub async fn undo(
    user: CurrentUser,
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> AppResult<Response> {
    let id = super::path(id)?;
    finance_batch(&state, id).await?;
    match store::undo_batch(&state.db, id, user.actor()).await {
        Ok(removed) => Ok(Json(Undone { batch: id, undone: true, lines_removed: removed }).into_response()),
        Err(UndoError::NotFound(_)) => Err(AppError::NotFoundWith(format!("importbatch {id} bestaat niet"))),
        Err(UndoError::Db(e)) => Err(e.into()),
        Err(e) => Err(AppError::Conflict(e.to_string())),
    }
}
