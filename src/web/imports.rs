//! Import screens: upload -> check off the request thread with a progress page -> preview with every error and
//! the rejected rows as xlsx -> confirm -> commit -> the batch page (with its lines, for the ledger) and undo.
//!
//! One flow, two areas with their own routes and permission: finance imports the ledger and funding under
//! `/import`; contract managers import the registers they keep (providers, Blik op Werk marks, contracts and
//! tariffs, placements, results per measurement year) under `/registers/import`, where the preview lists every
//! row with what it changes ("statuswijziging van X naar Y", "ongewijzigd (dubbel)"). A job or batch of the other
//! area is not found, so neither role can commit or undo the other's imports.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::forms::checkbox;
use super::queue::Queue;
use super::uploads::UploadDir;
use super::views::{Chrome, Confirmation, Confirmed};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::config::Config;
use crate::domain::dates;
use crate::error::{AppError, AppResult};
use crate::import::cli::{check_kind, run_kind};
use crate::import::engine::{ImportError, Outcome, PendingWrite};
use crate::import::{rejects, template, Charges, ImportOptions, ImportRequest, Kind, Summary};
use crate::money::Money;
use crate::store::imports::{self as store, BatchRow, LedgerEntryRow};

pub fn routes() -> RouteTable {
    const F: Permission = Permission::ManageFinance;
    const R: Permission = Permission::ManageContracts;
    RouteTable::default()
        .get("/import", F, upload_form::<FINANCE>)
        .upload("/import", F, upload::<FINANCE>)
        .upload("/import/inrichting", F, upload_setup)
        .get("/import/sjablonen/{name}", F, template_example::<FINANCE>)
        .get("/import/taken/{job}", F, job_page::<FINANCE>)
        .get("/import/taken/{job}/afgewezen.xlsx", F, rejected_xlsx::<FINANCE>)
        .post("/import/taken/{job}/bevestigen", F, confirm::<FINANCE>)
        .post("/import/taken/{job}/annuleren", F, cancel::<FINANCE>)
        .get("/import/batches/{id}", F, batch_page::<FINANCE>)
        .get("/import/batches/{id}/regels", F, batch_lines)
        .post("/import/batches/{id}/ongedaan", F, undo::<FINANCE>)
        .post("/import/batches/{id}/goedkeuren", F, approve)
        .post("/import/batches/{id}/afwijzen", F, reject)
        .get("/registers/import", R, upload_form::<REGISTERS>)
        .upload("/registers/import", R, upload::<REGISTERS>)
        .get("/registers/import/sjablonen/{name}", R, template_example::<REGISTERS>)
        .get("/registers/import/taken/{job}", R, job_page::<REGISTERS>)
        .get("/registers/import/taken/{job}/afgewezen.xlsx", R, rejected_xlsx::<REGISTERS>)
        .post("/registers/import/taken/{job}/bevestigen", R, confirm::<REGISTERS>)
        .post("/registers/import/taken/{job}/annuleren", R, cancel::<REGISTERS>)
        .get("/registers/import/batches/{id}", R, batch_page::<REGISTERS>)
        .post("/registers/import/batches/{id}/ongedaan", R, undo::<REGISTERS>)
}

const FINANCE: u8 = 0;
const REGISTERS: u8 = 1;

/// Who imports what, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// The ledger and funding: finance staff (`/import`).
    Finance,
    /// Providers, marks, contracts, placements and results: contract managers (`/registers/import`).
    Registers,
}

impl Area {
    fn of<const A: u8>() -> Area {
        if A == REGISTERS {
            Area::Registers
        } else {
            Area::Finance
        }
    }

    pub fn base(self) -> &'static str {
        match self {
            Area::Finance => "/import",
            Area::Registers => "/registers/import",
        }
    }

    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Area::Finance => &[Kind::Ledger, Kind::Funding, Kind::Streams, Kind::Rules, Kind::Setup, Kind::Inflow],
            Area::Registers => &[
                Kind::Providers,
                Kind::Certifications,
                Kind::Contracts,
                Kind::Placements,
                Kind::Results,
                Kind::Progress,
            ],
        }
    }

    fn holds(self, kind: &str) -> bool {
        self.kinds().iter().any(|k| k.as_str() == kind)
    }

    fn title(self) -> &'static str {
        match self {
            Area::Finance => "Grootboek en financiering importeren",
            Area::Registers => "Registers importeren",
        }
    }

    /// The shipped templates for this area's kinds, in the order of the kinds.
    fn templates(self) -> Vec<template::CheckedTemplate> {
        let all = template::shipped();
        self.kinds().iter().flat_map(|k| all.iter().filter(move |t| t.template.kind == *k).cloned()).collect()
    }

    /// Whether amounts mean anything for this area's imports.
    fn has_amounts(self) -> bool {
        self == Area::Finance
    }
}

/// Where an upload is in its life.
#[derive(Clone)]
enum JobState {
    Checking,
    CheckFailed(String),
    Checked(Arc<Outcome>),
    Committing,
    /// The commit wrote nothing (errors, nothing new) or failed: the summary or message says why.
    CommitRefused(Box<Summary>),
    CommitFailed(String),
    Committed(i64),
}

impl JobState {
    /// Whether the job is over: nothing will read its file again.
    fn ended(&self) -> bool {
        !matches!(self, JobState::Checking | JobState::Checked(_) | JobState::Committing)
    }
}

/// One uploaded file and what is being done with it.
struct Job {
    owner: i64,
    area: Area,
    file_name: String,
    template: String,
    /// The uploaded file (and the preview's staging database) while the job may still need it. None once the
    /// job has ended; the files are deleted as soon as the task that read them lets go too.
    file: Option<Arc<JobFiles>>,
    /// The write phase the preview prepared (staged kinds: the ledger), taken by the confirmation.
    pending: Option<Box<dyn PendingWrite>>,
    started: Instant,
    progress: Arc<AtomicU64>,
    /// The queue ticket the job waits for, while it waits.
    ticket: Option<u64>,
    /// The task checking or committing the file.
    task: Option<tokio::task::AbortHandle>,
    state: JobState,
}

impl Drop for Job {
    /// A job that is removed (cancelled, expired, pushed out, or the server stops) stops its task, which gives
    /// up its place in the queue and its hold on the file.
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A job's files in the upload directory, deleted when the last holder lets go.
struct JobFiles {
    upload: tempfile::TempPath,
    /// The staging database in which the preview of a staged kind keeps the checked records for the write
    /// phase (see `engine::check`), so the confirmation need not read the upload again.
    staging: Option<tempfile::TempPath>,
}

/// A job expires this long after its upload (a preview nobody confirms), and its file is deleted.
pub const JOB_TTL: Duration = Duration::from_secs(3600);
const JOBS_PER_USER: usize = 5;

/// The web's import jobs: uploads waiting for a decision, each user's own; the queue that limits how many are
/// checked or committed at once; the directory their files live in.
pub struct ImportJobs {
    jobs: Mutex<HashMap<Uuid, Job>>,
    queue: Arc<Queue>,
    uploads: UploadDir,
}

/// What a page needs of a job, taken under the lock.
struct JobView {
    id: Uuid,
    file_name: String,
    template: String,
    file: Option<Arc<JobFiles>>,
    rows: u64,
    /// Files before this one in the queue, while it waits.
    ahead: Option<usize>,
    state: JobState,
}

impl ImportJobs {
    /// Opens the upload directory (sweeping what a previous run left there) and sets up the queue.
    pub fn new(config: &Config) -> std::io::Result<ImportJobs> {
        Ok(ImportJobs {
            jobs: Mutex::new(HashMap::new()),
            queue: Arc::new(Queue::new(config.imports_at_once, config.imports_per_user)),
            uploads: UploadDir::open(&config.upload_dir)?,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// A new, empty file in the upload directory (deleted when dropped), for an upload received elsewhere (the API).
    pub fn new_upload(&self) -> std::io::Result<tempfile::NamedTempFile> {
        self.uploads.create()
    }

    pub fn upload_dir(&self) -> &std::path::Path {
        self.uploads.path()
    }

    /// Ends the jobs uploaded longer than `age` ago (their files are deleted); returns how many. Jobs that are
    /// committing are left to finish.
    pub fn expire(&self, age: Duration) -> usize {
        let mut jobs = self.lock();
        let before = jobs.len();
        jobs.retain(|_, j| matches!(j.state, JobState::Committing) || j.started.elapsed() < age);
        before - jobs.len()
    }

    /// At shutdown: stops every job and deletes every uploaded file.
    pub fn shutdown(&self) {
        self.lock().clear();
        self.uploads.sweep();
    }

    fn set_state(&self, id: Uuid, state: JobState) {
        if let Some(job) = self.lock().get_mut(&id) {
            if state.ended() {
                job.file = None;
                job.pending = None;
            }
            job.ticket = None;
            job.state = state;
        }
    }

    /// The job for this user in this area, or 404 (also for someone else's job: ids are not for sharing; and
    /// for a job of the other area, whose permission this route does not check).
    fn view(&self, id: &str, user: &CurrentUser, area: Area) -> AppResult<JobView> {
        let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
        let jobs = self.lock();
        let job = jobs.get(&id).filter(|j| j.owner == user.id && j.area == area).ok_or(AppError::NotFound)?;
        Ok(JobView {
            id,
            file_name: job.file_name.clone(),
            template: job.template.clone(),
            file: job.file.clone(),
            rows: job.progress.load(Ordering::Relaxed),
            ahead: job.ticket.and_then(|t| self.queue.ahead(t)),
            state: job.state.clone(),
        })
    }

    /// Runs `work` for job `id` once the queue gives it a place, and records the state it ends in. The job's
    /// page says meanwhile how many files are before it.
    fn start(
        self: &Arc<Self>,
        id: Uuid,
        owner: i64,
        work: impl std::future::Future<Output = JobState> + Send + 'static,
    ) {
        let ticket = self.queue.enqueue(owner);
        if let Some(job) = self.lock().get_mut(&id) {
            job.ticket = Some(ticket.id());
        }
        let jobs = self.clone();
        let task = tokio::spawn(async move {
            ticket.ready().await;
            if let Some(job) = jobs.lock().get_mut(&id) {
                job.ticket = None;
            }
            let next = work.await;
            drop(ticket);
            jobs.set_state(id, next);
        });
        if let Some(job) = self.lock().get_mut(&id) {
            job.task = Some(task.abort_handle());
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FormQuery {
    /// The template to preselect (links from the quality dashboard and the marks page).
    sjabloon: String,
}

async fn upload_form<const A: u8>(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(q): Query<FormQuery>,
) -> AppResult<Markup> {
    let page = load_upload(&state, Area::of::<A>(), &q.sjabloon).await?;
    Ok(render_upload(&chrome, &page))
}

/// The upload page: the area's templates (one preselected), its latest batches, the upload limit and the problem
/// with the file just sent, if any.
struct UploadPage {
    area: Area,
    templates: Vec<template::CheckedTemplate>,
    selected: String,
    batches: Vec<BatchRow>,
    error: Option<String>,
    limit_mb: usize,
}

async fn load_upload(state: &AppState, area: Area, selected: &str) -> AppResult<UploadPage> {
    let batches = store::list_batches_of(&state.db, area.kinds(), 20).await?;
    Ok(UploadPage {
        area,
        templates: area.templates(),
        selected: selected.to_string(),
        batches,
        error: None,
        limit_mb: state.config.upload_limit / (1024 * 1024),
    })
}

fn render_upload(chrome: &Chrome, p: &UploadPage) -> Markup {
    let (area, templates, selected, mb) = (p.area, &p.templates, p.selected.as_str(), p.limit_mb);
    chrome.page(
        area.title(),
        html! {
            h1 { (area.title()) }
            @match area {
                Area::Finance => p { "Kies het exportbestand uit het financieel systeem (xlsx, xls, ods of csv, hoogstens "
                    (mb) " MB), of een bestand met toekenningen en begrotingsposten, en het sjabloon dat bij de indeling past. "
                    "U ziet eerst een voorbeeld; er wordt pas iets opgeslagen als u bevestigt." },
                Area::Registers => p { "Taalaanbieders, Blik op Werk-keurmerkbesluiten (bijvoorbeeld een export uit het register), contracten en tarieven, "
                    "plaatsingen of resultaten per meetjaar (xlsx, xls of ods, hoogstens " (mb) " MB). U ziet eerst per regel wat er verandert: "
                    "een nieuw besluit, een statuswijziging of een regel die al bekend is; er wordt pas iets opgeslagen als u bevestigt." },
            }
            @if let Some(e) = &p.error {
                div.error-summary role="alert" tabindex="-1" { h2 { "Het bestand kon niet worden gecontroleerd" } p { (e) } }
            }
            form method="post" action=(area.base()) enctype="multipart/form-data" {
                (chrome.csrf_field())
                div.field {
                    label for="sjabloon" { "Sjabloon" }
                    select id="sjabloon" name="sjabloon" aria-describedby="sjabloon-hint" {
                        @for t in templates {
                            option value=(t.name()) selected[t.name() == selected] { (t.template.kind.label()) ": " (t.name()) " — " (t.template.description) }
                        }
                    }
                    p.hint id="sjabloon-hint" { "Elk sjabloon beschrijft één indeling. Onder dit formulier staat bij elk sjabloon een ingevuld voorbeeld om te downloaden." }
                }
                div.field {
                    label for="bestand" { "Bestand" }
                    input type="file" id="bestand" name="bestand" required accept=".xlsx,.xlsm,.xls,.ods,.csv,.txt";
                }
                button type="submit" { "Bestand controleren" }
            }
            @if area == Area::Finance {
                h2 #inrichting { "Inrichting laden (werkmap)" }
                p { "Een werkmap met de werkbladen Bronnen, Toekenningen, Begrotingsposten en Regels, zoals "
                    a href="/financiering" { "Financiering" } " hem downloadt, laadt de hele financiële inrichting in één batch. "
                    "Een fout in één werkblad houdt de hele werkmap tegen." }
                form method="post" action="/import/inrichting" enctype="multipart/form-data" {
                    (chrome.csrf_field())
                    div.field {
                        label for="inrichting" { "Werkmap" }
                        input type="file" id="inrichting" name="bestand" required accept=".xlsx,.xlsm,.xls,.ods";
                    }
                    (checkbox("alleen_controleren", "Alleen controleren (er wordt niets opgeslagen)", true))
                    button type="submit" { "Inrichting laden" }
                }
            }
            h2 #sjablonen { "Sjablonen en voorbeelden" }
            table {
                caption { "Ingevulde voorbeelden: vervang de regels door uw eigen gegevens; het werkblad Toelichting zegt per kolom wat erin moet" }
                thead { tr { th scope="col" { "Soort" } th scope="col" { "Sjabloon" } th scope="col" { "Omschrijving" } th scope="col" { "Voorbeeld" } } }
                tbody {
                    @for t in templates {
                        tr {
                            td { (t.template.kind.label()) }
                            th scope="row" { code { (t.name()) } }
                            td { (t.template.description) }
                            td { a href={(area.base()) "/sjablonen/" (t.name())} download { "Download (" @if t.is_csv() { "csv" } @else { "xlsx" } ")" } }
                        }
                    }
                }
            }
            h2 { "Eerdere imports" }
            (batch_table(area, &p.batches))
        },
    )
}

fn kind_label(kind: &str) -> &'static str {
    Kind::parse(kind).map(Kind::label).unwrap_or("onbekend")
}

/// A batch's state in a word or two; a pending one is marked so nobody takes its figures for counted.
fn status_label(b: &BatchRow) -> Markup {
    html! {
        @if b.status == "undone" && b.approval.as_deref() == Some("rejected") { "afgewezen" }
        @else if b.status == "undone" { "ongedaan gemaakt" }
        @else if b.awaits_approval() { strong { (crate::store::attribution::AWAITS_APPROVAL) } }
        @else { "actief" }
    }
}

fn batch_table(area: Area, batches: &[BatchRow]) -> Markup {
    let amounts = area.has_amounts();
    html! {
        table {
            caption { @if batches.len() == 1 { "De laatste importbatch" } @else { "De laatste " (batches.len()) " importbatches" } }
            thead { tr {
                th scope="col" { "Batch" } th scope="col" { "Soort" } th scope="col" { "Bestand" } th scope="col" { "Door" } th scope="col" { "Tijdstip" }
                th scope="col" class="num" { "Regels" } @if amounts { th scope="col" class="num" { "Totaal" } } th scope="col" { "Status" }
            } }
            tbody {
                @for b in batches {
                    tr {
                        th scope="row" { a href={(area.base()) "/batches/" (b.id)} { (b.id) } }
                        td { (kind_label(&b.kind)) }
                        td { (b.file_name) } td { (b.imported_by) } td { (dates::display_timestamp(&b.imported_at)) }
                        td.num { (b.rows_imported) } @if amounts { td.num { (b.amount_total()) } }
                        td { (status_label(b)) }
                    }
                }
                @if batches.is_empty() { tr { td colspan="8" { "Nog geen imports." } } }
            }
        }
    }
}

/// Receives the file into a temporary file (within the upload limit) and starts the check in the background.
async fn upload<const A: u8>(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let area = Area::of::<A>();
    let Received { fields, file_name, stored, size } = receive(&state, &mut multipart).await?;
    let template_name = fields.get("sjabloon").cloned().unwrap_or_default();
    let templates = area.templates();
    let problem = match (&stored, templates.iter().find(|t| t.name() == template_name)) {
        (None, _) => Some("Kies een bestand.".to_string()),
        (_, None) => Some("Kies een sjabloon uit de lijst.".to_string()),
        (Some(_), Some(_)) if size == 0 => Some("Het bestand is leeg (0 bytes).".to_string()),
        _ => None,
    };
    if let Some(p) = problem {
        let page = UploadPage { error: Some(p), ..load_upload(&state, area, &template_name).await? };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render_upload(&chrome, &page)).into_response());
    }
    let template = templates.into_iter().find(|t| t.name() == template_name).expect("checked above");
    let staging = if template.template.kind.staged() {
        Some(state.imports.uploads.create_staging().map_err(|e| AppError::Internal(e.into()))?)
    } else {
        None
    };
    let file = Arc::new(JobFiles { upload: stored.expect("checked above"), staging });
    let id = Uuid::new_v4();
    let progress = Arc::new(AtomicU64::new(0));
    {
        let mut jobs = state.imports.lock();
        // The oldest of a user's jobs make room for a new one (deleting their files), unless they are committing.
        let mut mine: Vec<(Uuid, Instant)> = jobs
            .iter()
            .filter(|(_, j)| j.owner == user.id && !matches!(j.state, JobState::Committing))
            .map(|(k, j)| (*k, j.started))
            .collect();
        mine.sort_by_key(|(_, t)| *t);
        while mine.len() >= JOBS_PER_USER {
            jobs.remove(&mine.remove(0).0);
        }
        jobs.insert(
            id,
            Job {
                owner: user.id,
                area,
                file_name: file_name.clone(),
                template: template_name,
                file: Some(file.clone()),
                pending: None,
                started: Instant::now(),
                progress: progress.clone(),
                ticket: None,
                task: None,
                state: JobState::Checking,
            },
        );
    }
    let db = state.db.clone();
    let actor = user.actor().to_string();
    let read_budget = state.config.read_budget();
    let jobs = state.imports.clone();
    state.imports.start(id, user.id, async move {
        let kind = template.template.kind;
        let req = ImportRequest { path: PathBuf::from(&*file.upload), file_name, template, actor };
        let opts = ImportOptions { dry_run: true, progress: Some(progress), read_budget, ..Default::default() };
        match check_kind(&db, kind, req, opts, file.staging.as_deref()).await {
            Ok((outcome, pending)) => {
                if let Some(job) = jobs.lock().get_mut(&id) {
                    job.pending = pending;
                }
                JobState::Checked(Arc::new(outcome))
            }
            Err(e) => JobState::CheckFailed(failure(e, "Er ging iets mis bij het controleren. Probeer het opnieuw.")),
        }
    });
    Ok(Redirect::to(&format!("{}/taken/{id}", area.base())).into_response())
}

/// An upload form as received: its text fields, and the file (stored in the upload directory) with its name and
/// size.
struct Received {
    fields: std::collections::HashMap<String, String>,
    file_name: String,
    stored: Option<tempfile::TempPath>,
    size: u64,
}

/// Reads a multipart upload: text fields, and the file field `bestand` streamed into the upload directory within
/// the upload limit.
async fn receive(state: &AppState, multipart: &mut Multipart) -> AppResult<Received> {
    let limit = state.config.upload_limit as u64;
    let mut received = Received { fields: Default::default(), file_name: String::new(), stored: None, size: 0 };
    let too_large = || AppError::PayloadTooLarge(format!("het bestand is groter dan {} MB", limit / (1024 * 1024)));
    while let Some(mut field) =
        multipart.next_field().await.map_err(|e| AppError::BadRequest(format!("het formulier is onleesbaar: {e}")))?
    {
        match field.name() {
            Some("bestand") => {
                received.file_name =
                    field.file_name().unwrap_or("upload").chars().filter(|c| !c.is_control()).take(200).collect();
                let tmp = state.imports.uploads.create().map_err(|e| AppError::Internal(e.into()))?;
                let (std_file, path) = tmp.into_parts();
                let mut out = tokio::fs::File::from_std(std_file);
                while let Some(chunk) = field.chunk().await.map_err(|_| too_large())? {
                    received.size += chunk.len() as u64;
                    if received.size > limit {
                        return Err(too_large());
                    }
                    out.write_all(&chunk).await.map_err(|e| AppError::Internal(e.into()))?;
                }
                out.flush().await.map_err(|e| AppError::Internal(e.into()))?;
                received.stored = Some(path);
            }
            Some(name) => {
                let name = name.to_string();
                let value = field.text().await.map_err(|_| too_large())?.trim().to_string();
                received.fields.insert(name, value);
            }
            None => {}
        }
    }
    Ok(received)
}

/// The set-up workbook (`import setup`) on the finance import page: checked only (the preview: per sheet what is
/// new, every error with its sheet, row and column) or loaded whole as one batch. Set-up workbooks are small, so
/// this runs in the request, not in the import queue.
async fn upload_setup(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let received = receive(&state, &mut multipart).await?;
    let Some(stored) = received.stored.filter(|_| received.size > 0) else {
        let problem = if received.size == 0 && !received.file_name.is_empty() {
            "Het bestand is leeg (0 bytes)."
        } else {
            "Kies een bestand."
        };
        let page = UploadPage { error: Some(problem.into()), ..load_upload(&state, Area::Finance, "").await? };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render_upload(&chrome, &page)).into_response());
    };
    let dry_run = received.fields.contains_key("alleen_controleren");
    let opts = ImportOptions { dry_run, read_budget: state.config.read_budget(), ..Default::default() };
    let result = crate::import::setup::run(&state.db, &stored, &received.file_name, user.actor(), opts).await;
    drop(stored);
    match result {
        Ok(outcome) => {
            let status = if outcome.summary.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            Ok((status, render_setup(&chrome, &received.file_name, &outcome)).into_response())
        }
        Err(e) => {
            let error = failure(e, "Er ging iets mis bij het laden van de inrichting. Probeer het opnieuw.");
            let page = UploadPage { error: Some(error), ..load_upload(&state, Area::Finance, "").await? };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render_upload(&chrome, &page)).into_response())
        }
    }
}

fn render_setup(chrome: &Chrome, file_name: &str, o: &crate::import::setup::SetupOutcome) -> Markup {
    let s = &o.summary;
    chrome.page(
        "Inrichting laden",
        html! {
            h1 { "Inrichting laden" }
            p { "Werkmap: " strong { (file_name) } }
            @match (s.batch, s.dry_run) {
                (Some(b), _) => p role="status" { span.status.status-ok { "Geladen" } " als batch "
                    a href={"/import/batches/" (b)} { (b) } "; ongedaan maken kan op de pagina van de batch." },
                (None, true) => p role="status" { "Alleen gecontroleerd: er is niets opgeslagen." },
                (None, false) if s.has_errors() => div.error-summary role="alert" tabindex="-1" {
                    h2 { "Er is niets geladen" }
                    p { "De werkmap bevat fouten; een inrichting wordt alleen in haar geheel geladen. Verbeter de cellen hieronder en laad de werkmap opnieuw." }
                },
                (None, false) => p role="status" { "Er was niets nieuws: alles in deze werkmap is al vastgelegd." },
            }
            table {
                caption { "Per werkblad" }
                thead { tr {
                    th scope="col" { "Werkblad" } th scope="col" { "Soort" } th.num scope="col" { "Gelezen" }
                    th.num scope="col" { "Nieuw" } th.num scope="col" { "Al bekend" } th.num scope="col" { "Afgewezen" }
                } }
                tbody {
                    @for p in &o.parts {
                        tr {
                            th scope="row" { (p.sheet) } td { (p.kind.label()) } td.num { (p.rows_read) }
                            td.num { (p.rows_imported) } td.num { (p.rows_duplicate) } td.num { (p.rows_rejected) }
                        }
                    }
                }
            }
            @if !s.errors.is_empty() {
                table {
                    caption { "Fouten (" (s.errors_total) ")" }
                    thead { tr {
                        th scope="col" { "Werkblad" } th.num scope="col" { "Rij" } th scope="col" { "Kolom" }
                        th scope="col" { "Waarde" } th scope="col" { "Melding" }
                    } }
                    tbody {
                        @for e in &s.errors {
                            tr {
                                td { (e.sheet) }
                                td.num { @if let Some(r) = e.row { (r) } }
                                td { @if let Some(c) = &e.column { (c) } }
                                td { @if let Some(v) = &e.value { (v) } }
                                td { (e.message) }
                            }
                        }
                    }
                }
            }
            @for p in o.parts.iter().filter(|p| !p.preview.is_empty()) {
                table {
                    caption { (p.sheet) ": nieuw" }
                    thead { tr { @for h in &p.preview_headers { th scope="col" { (h) } } } }
                    tbody { @for row in &p.preview { tr { @for v in row { td { (v) } } } } }
                }
            }
            p { a href="/import" { "Terug naar importeren" } }
        },
    )
}

/// What a failed check or commit says: the file's problem in Dutch, or (logged) `apology`.
fn failure(e: ImportError, apology: &str) -> String {
    match e {
        ImportError::File(e) => capitalize(&e.0),
        e @ ImportError::Busy => capitalize(&e.to_string()),
        e => {
            tracing::error!(error = %e, "import mislukt");
            apology.to_string()
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A shipped template's filled example, ready to fill in: rows that import as they are, and the explanation
/// sheet. Only the templates of this area; a name that is not one of them is not found (never a file path).
async fn template_example<const A: u8>(Path(name): Path<String>) -> AppResult<Response> {
    let area = Area::of::<A>();
    let t = area.templates().into_iter().find(|t| t.name() == name).ok_or(AppError::NotFound)?;
    let bytes = crate::import::example::filled(&t, t.is_csv())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("voorbeeld {name}: {e}")))?;
    let (content_type, extension) = if t.is_csv() { ("text/csv; charset=utf-8", "csv") } else { (super::XLSX, "xlsx") };
    Ok(super::download(bytes, content_type, &format!("{name}-voorbeeld.{extension}")))
}

/// A page that reloads itself every second (HTTP Refresh header: no script needed): how far the job is, or,
/// while it waits for a place in the queue, how many files are before it.
fn progress_page(chrome: &Chrome, title: &str, job: &JobView) -> Response {
    let body = chrome.page(
        title,
        html! {
            h1 { (title) }
            p { "Bestand: " strong { (job.file_name) } }
            @if let Some(ahead) = job.ahead {
                p role="status" aria-live="polite" {
                    "Wacht op een vrije plek: " (crate::domain::words::count(ahead, "bestand", "bestanden")) " voor u."
                }
                p { "Er worden maar enkele bestanden tegelijk verwerkt, zodat de server voor iedereen snel blijft. "
                    "Uw bestand komt vanzelf aan de beurt." }
            } @else if job.rows == 0 && matches!(job.state, JobState::Committing) {
                // A commit after a staged preview only writes what the preview checked: there are no rows to count.
                p role="status" aria-live="polite" { "De gecontroleerde regels worden opgeslagen. " progress aria-label="Voortgang van het opslaan" {} }
            } @else {
                p role="status" aria-live="polite" {
                    label for="voortgang" { (crate::domain::words::count(job.rows, "regel", "regels")) " verwerkt" }
                    " "
                    progress id="voortgang" {}
                }
            }
            p { "Deze pagina ververst zichzelf. U kunt haar ook zelf herladen." }
        },
    );
    ([(header::REFRESH, HeaderValue::from_static("1"))], body).into_response()
}

async fn job_page<const A: u8>(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> AppResult<Response> {
    let area = Area::of::<A>();
    let view = state.imports.view(&job, &user, area)?;
    Ok(render_job(&chrome, area, &view))
}

/// A job as its state has it: progress while it runs, the batch once committed (a redirect), why it failed or was
/// refused, or the preview to confirm.
fn render_job(chrome: &Chrome, area: Area, view: &JobView) -> Response {
    let (id, file_name, template) = (view.id, &view.file_name, &view.template);
    match &view.state {
        JobState::Checking => progress_page(chrome, "Bestand wordt gecontroleerd", view),
        JobState::Committing => progress_page(chrome, "Regels worden opgeslagen", view),
        JobState::Committed(batch) => {
            Redirect::to(&format!("{}/batches/{batch}?melding=geimporteerd", area.base())).into_response()
        }
        JobState::CheckFailed(message) | JobState::CommitFailed(message) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            chrome.page(
                "Import niet mogelijk",
                html! {
                    h1 { "Import niet mogelijk" }
                    div.error-summary role="alert" tabindex="-1" {
                        h2 { "Bestand " (file_name) " (sjabloon " (template) ")" }
                        p { (message) }
                    }
                    p { "Er is niets opgeslagen. " a href=(area.base()) { "Kies een ander bestand of sjabloon" } "." }
                },
            ),
        )
            .into_response(),
        JobState::CommitRefused(summary) => chrome
            .page(
                "Niets geïmporteerd",
                html! {
                    h1 { "Niets geïmporteerd" }
                    p role="status" {
                        @if summary.has_errors() { "Bij het opslaan is het bestand geweigerd; er is niets opgeslagen." }
                        @else { "Alle regels van dit bestand staan al in taalbudget; er was niets nieuws." }
                    }
                    @if !summary.errors.is_empty() {
                        ul { @for e in summary.errors.iter().take(50) { li { @if let Some(r) = e.row { "Rij " (r) ": " } (e.message) } } }
                    }
                    (counts(area, summary))
                    p { a href=(area.base()) { "Terug naar importeren" } }
                },
            )
            .into_response(),
        JobState::Checked(outcome) => preview(chrome, area, id, outcome, None).into_response(),
    }
}

fn counts(area: Area, s: &Summary) -> Markup {
    html! {
        table {
            caption { "Regels in het bestand" }
            tbody {
                tr { th scope="row" { "Gelezen" } td.num { (s.rows_read) } }
                tr { th scope="row" { "Nieuw" } td.num { (s.rows_imported) } }
                tr { th scope="row" { "Al eerder geïmporteerd (dubbel)" } td.num { (s.rows_duplicate) } }
                tr { th scope="row" { "Afgewezen" } td.num { (s.rows_rejected) } }
                tr { th scope="row" { "Overgeslagen (lege en totaalregels)" } td.num { (s.rows_skipped) } }
                @if area.has_amounts() { tr { th scope="row" { "Totaal van de nieuwe regels" } td.num { (s.amount_total) } } }
            }
        }
    }
}

/// Where the new lines will be charged by the current attribution rules: per funding stream, and the queue.
fn charges_table(c: &Charges, rows: u64) -> Markup {
    html! {
        table.charges {
            caption { "Toerekening van de nieuwe regels" }
            thead { tr {
                th scope="col" { "Financieringsbron" }
                th scope="col" { "Naam" }
                th scope="col" class="num" { "Regels" }
                th scope="col" class="num" { "Bedrag" }
            } }
            tbody {
                @for st in &c.streams {
                    tr { th scope="row" { (st.stream) } td { (st.name) } td.num { (st.rows) } td.num { (st.amount) } }
                }
                tr {
                    th scope="row" { "Wachtrij" }
                    td { "geen toerekenregel past; na de import toe te rekenen" }
                    td.num { (c.queue_rows) }
                    td.num { (c.queue_amount) }
                }
            }
            tfoot { tr {
                th scope="row" colspan="2" { "Totaal van de nieuwe regels" }
                td.num { (rows) }
                td.num { (c.total()) }
            } }
        }
    }
}

/// The preview of a checked file; `choice_error` when the user asked to import a file with errors without
/// choosing to import only the good rows.
fn preview(chrome: &Chrome, area: Area, id: Uuid, o: &Outcome, choice_error: Option<&str>) -> Markup {
    let s = &o.summary;
    let errors = s.has_errors();
    let job = format!("{}/taken/{id}", area.base());
    chrome.page(
        "Voorbeeld van de import",
        html! {
            h1 { "Voorbeeld van de import" }
            p { "Bestand " strong { (s.file_name) } ", werkblad " (o.sheet) ", sjabloon " (s.template) "." }
            p { "SHA-256: " code { (s.file_sha256) } }
            @if let Some(e) = choice_error {
                div.error-summary role="alert" tabindex="-1" {
                    h2 { "Er is niets geïmporteerd" }
                    ul { li { a href="#alleen_goede" { (e) } } }
                }
            }
            @if errors {
                div.error-summary role="alert" tabindex="-1" {
                    h2 { "Het bestand bevat " (crate::domain::words::count(s.errors_total, "fout", "fouten")) }
                    p { "Standaard wordt een bestand met fouten niet geïmporteerd. Corrigeer de bron en upload opnieuw, of importeer alleen de goede regels." }
                    ul {
                        @for (i, e) in s.errors.iter().enumerate().take(10) {
                            li { a href={"#fout-" (i)} { @if let Some(r) = e.row { "Rij " (r) } @else { "Bestand" } @if let Some(c) = &e.column { ", kolom " (c) } } ": " (e.message) }
                        }
                        @if s.errors.len() > 10 { li { a href="#fouten" { "Alle fouten" } } }
                    }
                }
            }
            (counts(area, s))
            @if let Some(c) = s.charges.as_ref().filter(|_| s.rows_imported > 0) { (charges_table(c, s.rows_imported)) }
            @if !o.changes.is_empty() {
                (changes_table(o))
            } @else if s.rows_duplicate > 0 {
                details {
                    summary { (crate::domain::words::count(s.rows_duplicate, "regel staat", "regels staan")) " al in taalbudget en " @if s.rows_duplicate == 1 { "wordt" } @else { "worden" } " overgeslagen" }
                    ul { @for d in s.duplicates.iter().take(500) { li { "Rij " (d.row) " staat al in "
                        @if d.batch > 0 { a href={(area.base()) "/batches/" (d.batch)} { "batch " (d.batch) } } @else { "taalbudget (op het scherm ingevoerd)" } } } }
                }
            }
            @if o.changes.is_empty() && !o.preview.is_empty() {
                table {
                    caption { "De eerste " (o.preview.len()) " nieuwe regels zoals ze worden opgeslagen" }
                    thead { tr { @for h in &o.preview_headers { th scope="col" { (h) } } } }
                    tbody { @for row in &o.preview { tr { @for v in row { td { (v) } } } } }
                }
            }
            @if errors {
                table #fouten {
                    caption { "Fouten (" (s.errors.len()) @if s.errors_total > s.errors.len() as u64 { " van " (s.errors_total) } ")" }
                    thead { tr { th scope="col" { "Werkblad" } th scope="col" { "Rij" } th scope="col" { "Kolom" } th scope="col" { "Waarde" } th scope="col" { "Melding" } } }
                    tbody {
                        @for (i, e) in s.errors.iter().enumerate() {
                            tr id={"fout-" (i)} {
                                td { (e.sheet) }
                                td.num { @if let Some(r) = e.row { (r) } }
                                td { @if let Some(c) = &e.column { (c) } }
                                td { @if let Some(v) = &e.value { (v) } }
                                td.text { (e.message) }
                            }
                        }
                    }
                }
                @if !o.rejected.is_empty() {
                    p {
                        a href={(job) "/afgewezen.xlsx"} { "Download de afgewezen regels (xlsx, met een kolom Fout)" }
                        @if (o.rejected.len() as u64) < s.rows_rejected {
                            " — de eerste " (o.rejected.len()) " van " (s.rows_rejected) "; de foutenlijst hierboven noemt ze allemaal (tot "
                            (crate::import::engine::MAX_LISTED) " meldingen)."
                        }
                    }
                }
            }
            @if s.rows_imported > 0 {
                form method="post" action={(job) "/bevestigen"} {
                    (chrome.csrf_field())
                    @if errors {
                        div.field.checkbox.has-error[choice_error.is_some()] {
                            @if let Some(e) = choice_error { p.error-message id="alleen_goede-fout" { span.visually-hidden { "Fout: " } (e) } }
                            input type="checkbox" id="alleen_goede" name="alleen_goede" value="on" aria-describedby=[choice_error.map(|_| "alleen_goede-fout")];
                            label for="alleen_goede" { "Ik wil alleen de " (crate::domain::words::count(s.rows_imported, "goede nieuwe regel", "goede nieuwe regels")) " importeren; de " (crate::domain::words::count(s.rows_rejected, "afgewezen regel blijft", "afgewezen regels blijven")) " achter" }
                        }
                        button type="submit" { "Alleen de goede regels importeren" }
                    } @else if area.has_amounts() {
                        button type="submit" { "Importeren: " (crate::domain::words::count(s.rows_imported, "regel", "regels")) ", " (s.amount_total) }
                    } @else {
                        button type="submit" { "Importeren: " (crate::domain::words::count(s.rows_imported, "nieuwe regel", "nieuwe regels")) }
                    }
                }
            } @else {
                p role="status" { "Er is niets nieuws om te importeren." }
            }
            form method="post" action={(job) "/annuleren"} {
                (chrome.csrf_field())
                button.secondary type="submit" { "Annuleren en een ander bestand kiezen" }
            }
        },
    )
}

/// Every valid row of a register file with what storing it changes; rejected rows are in the error table.
fn changes_table(o: &Outcome) -> Markup {
    let listed = o.changes.len() as u64;
    let valid = o.summary.rows_imported + o.summary.rows_duplicate;
    html! {
        table.changes {
            caption {
                "Wat er per regel verandert"
                @if listed < valid { " (de eerste " (listed) " van " (crate::domain::words::count(valid, "regel", "regels")) ")" }
            }
            thead { tr {
                th scope="col" class="num" { "Rij" }
                @for h in &o.preview_headers { th scope="col" { (h) } }
                th scope="col" { "Wijziging" }
            } }
            tbody {
                @for c in &o.changes {
                    tr {
                        th scope="row" class="num" { (c.row) }
                        @for v in &c.values { td { (v) } }
                        td { @if c.duplicate { (c.change) } @else { strong { (c.change) } } }
                    }
                }
            }
        }
    }
}

async fn rejected_xlsx<const A: u8>(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> AppResult<Response> {
    let JobView { file_name, state, .. } = state.imports.view(&job, &user, Area::of::<A>())?;
    let JobState::Checked(outcome) = state else { return Err(AppError::NotFound) };
    let bytes =
        rejects::workbook(outcome.header.as_ref(), &outcome.rejected).map_err(|e| AppError::Internal(e.into()))?;
    let stem: String = std::path::Path::new(&file_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("import")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok(super::download(bytes, super::XLSX, &format!("{stem}-afgewezen.xlsx")))
}

/// The message when a file with errors is confirmed without choosing to import only the good rows.
const CHOOSE_GOOD_ROWS: &str =
    "Het bestand bevat fouten. Vink aan dat u alleen de goede regels wilt importeren, of corrigeer het bestand en upload het opnieuw.";

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmForm {
    alleen_goede: String,
}

async fn confirm<const A: u8>(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(job): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> AppResult<Response> {
    let area = Area::of::<A>();
    let JobView { id, file_name, template: template_name, file, state: job_state, .. } =
        state.imports.view(&job, &user, area)?;
    let job_page = format!("{}/taken/{id}", area.base());
    let (JobState::Checked(outcome), Some(file)) = (job_state, file) else {
        return Ok(Redirect::to(&job_page).into_response());
    };
    let skip_invalid = form.alleen_goede == "on";
    if outcome.summary.has_errors() && !skip_invalid {
        let page = preview(&chrome, area, id, &outcome, Some(CHOOSE_GOOD_ROWS));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let template = template::find(&template_name).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let progress = Arc::new(AtomicU64::new(0));
    let pending = {
        let mut jobs = state.imports.lock();
        // Under the same lock as the check of its state, so a second confirmation cannot start a second commit.
        let Some(j) = jobs.get_mut(&id).filter(|j| matches!(j.state, JobState::Checked(_))) else {
            return Ok(Redirect::to(&job_page).into_response());
        };
        j.state = JobState::Committing;
        j.progress = progress.clone();
        j.pending.take()
    };
    let db = state.db.clone();
    let actor = user.actor().to_string();
    let read_budget = state.config.read_budget();
    let four_eyes = state.config.four_eyes_imports;
    state.imports.start(id, user.id, async move {
        let opts =
            ImportOptions { skip_invalid, progress: Some(progress), read_budget, four_eyes, ..Default::default() };
        let written = match pending {
            // The preview kept the checked records: only the write phase is left.
            Some(pending) => pending.write(db, opts).await.map(|(summary, _)| summary),
            None => {
                let kind = template.template.kind;
                let req = ImportRequest { path: PathBuf::from(&*file.upload), file_name, template, actor };
                run_kind(&db, kind, req, opts).await.map(|o| o.summary)
            }
        };
        // The files stay until the commit is over.
        drop(file);
        match written {
            Ok(summary) => match summary.batch {
                Some(batch) => JobState::Committed(batch),
                None => JobState::CommitRefused(Box::new(summary)),
            },
            Err(e) => JobState::CommitFailed(failure(
                e,
                "Er ging iets mis bij het opslaan; er is niets opgeslagen. Probeer het opnieuw.",
            )),
        }
    });
    Ok(Redirect::to(&job_page).into_response())
}

/// Cancels a job that is not committing: its file is deleted at once (a check in progress is stopped).
async fn cancel<const A: u8>(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> AppResult<Response> {
    let area = Area::of::<A>();
    let view = state.imports.view(&job, &user, area)?;
    if matches!(view.state, JobState::Committing) {
        return Ok(Redirect::to(&format!("{}/taken/{}", area.base(), view.id)).into_response());
    }
    let removed = state.imports.lock().remove(&view.id);
    drop(removed);
    Ok(Redirect::to(area.base()).into_response())
}

/// A batch of this area's kinds, or 404.
async fn area_batch(state: &AppState, area: Area, id: i64) -> AppResult<BatchRow> {
    store::get_batch(&state.db, id).await?.filter(|b| area.holds(&b.kind)).ok_or(AppError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BatchQuery {
    melding: String,
}

async fn batch_page<const A: u8>(
    chrome: Chrome,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<BatchQuery>,
) -> AppResult<Markup> {
    let page = load_batch(&state, Area::of::<A>(), id, &q).await?;
    Ok(render_batch(&chrome, &page))
}

/// One batch; right after an import (and not undone) also the success message, with the attribution queue
/// (lines, amount) when ledger lines came in.
struct BatchPage {
    area: Area,
    batch: BatchRow,
    just_imported: bool,
    queue: Option<(i64, Money)>,
}

async fn load_batch(state: &AppState, area: Area, id: i64, q: &BatchQuery) -> AppResult<BatchPage> {
    let batch = area_batch(state, area, id).await?;
    // Right after an import: what was stored, and where the work goes on.
    let just_imported = q.melding == "geimporteerd" && batch.status != "undone";
    let queue = if just_imported && batch.kind == Kind::Ledger.as_str() && !batch.awaits_approval() {
        Some(crate::store::attribution::queue_size(&state.db).await?)
    } else {
        None
    };
    Ok(BatchPage { area, batch, just_imported, queue })
}

fn render_batch(chrome: &Chrome, p: &BatchPage) -> Markup {
    let next = p.just_imported.then(|| next_steps(&p.batch, p.queue));
    batch_view(chrome, p.area, &p.batch, next)
}

/// The success message after an import: the counts, and the next steps for what was imported.
fn next_steps(b: &BatchRow, queue: Option<(i64, Money)>) -> Markup {
    use crate::domain::words::count;
    html! {
        div.notice.success role="status" {
            h2 { "Import geslaagd" }
            p {
                (count(b.rows_imported, "regel", "regels")) " geïmporteerd"
                @if b.kind == Kind::Ledger.as_str() || b.kind == Kind::Funding.as_str() { " (samen " (b.amount_total()) ")" }
                ", " (b.rows_duplicate) " dubbel overgeslagen, " (b.rows_rejected) " afgewezen."
            }
            @if b.awaits_approval() {
                p { "De batch " strong { (crate::store::attribution::AWAITS_APPROVAL) } ": hij telt nergens mee tot een andere financieel medewerker of een beheerder hem hieronder goedkeurt." }
            }
            h3 { "Volgende stappen" }
            ul {
                @if let Some((lines, amount)) = queue {
                    li { a href="/toerekening/wachtrij" { "Wijs de " (count(lines, "niet-toegerekende regel", "niet-toegerekende regels")) " toe" } " (samen " (amount) "); de toerekenregels hebben de rest al verdeeld." }
                    li { a href="/aansluiting" { "Bekijk de aansluiting" } " met de nieuwe realisatie en de signalen." }
                    li { a href={"/import/batches/" (b.id) "/regels"} { "Bekijk de regels van deze batch" } "." }
                }
                @if b.kind == Kind::Funding.as_str() { li { a href="/financiering" { "Bekijk de financiering" } " met de nieuwe toekenningen en begrotingsposten." } }
                @if b.kind == Kind::Inflow.as_str() { li { a href="/instroom" { "Naar de instroom" } } }
                @if b.kind == Kind::Providers.as_str() { li { a href="/aanbieders" { "Naar de taalaanbieders" } } }
                @if b.kind == Kind::Certifications.as_str() { li { a href="/keurmerken" { "Naar de keurmerken" } } }
                @if b.kind == Kind::Contracts.as_str() { li { a href="/contracten" { "Naar de contracten" } } }
                @if b.kind == Kind::Placements.as_str() { li { a href="/plaatsingen" { "Naar de plaatsingen" } } }
                @if b.kind == Kind::Results.as_str() { li { a href="/kwaliteit" { "Naar het kwaliteitsdashboard" } } }
                @if b.kind == Kind::Progress.as_str() { li { a href="/plaatsingen?status=lopend" { "Naar de lopende plaatsingen" } " en hun signalen." } }
            }
        }
    }
}

fn batch_view(chrome: &Chrome, area: Area, b: &BatchRow, next: Option<Markup>) -> Markup {
    let undone = b.status == "undone";
    let ledger = b.kind == Kind::Ledger.as_str();
    let pending = b.awaits_approval() && !undone;
    chrome.page(
        &format!("Importbatch {}", b.id),
        html! {
            h1 { "Importbatch " (b.id) }
            @if let Some(next) = next { (next) }
            @if undone && b.approval.as_deref() == Some("rejected") {
                p.notice role="status" { "Deze batch is afgewezen door " (b.undone_by.clone().unwrap_or_default()) " op " (dates::display_timestamp(b.undone_at.as_deref().unwrap_or_default())) "; de regels zijn verwijderd." }
            } @else if undone {
                p.notice role="status" { "Deze batch is ongedaan gemaakt door " (b.undone_by.clone().unwrap_or_default()) " op " (dates::display_timestamp(b.undone_at.as_deref().unwrap_or_default())) "; de regels zijn verwijderd." }
            }
            @if pending {
                div.notice.warning role="status" {
                    h2 { "Deze batch " (crate::store::attribution::AWAITS_APPROVAL) }
                    p { "Vier ogen: de " @if ledger { "boekingen" } @else { "toekenningen en begrotingsposten" } " van deze batch tellen nergens mee (aansluiting, overzichten, signalen) tot een andere financieel medewerker of een beheerder de batch goedkeurt. "
                        "Wie de batch heeft geïmporteerd (" (b.imported_by) ") kan hem niet zelf goedkeuren." }
                }
            }
            table {
                caption { "Gegevens van de batch" }
                tbody {
                    tr { th scope="row" { "Soort" } td { (kind_label(&b.kind)) } }
                    tr { th scope="row" { "Bestand" } td { (b.file_name) } }
                    tr { th scope="row" { "SHA-256" } td { code { (b.file_sha256) } } }
                    tr { th scope="row" { "Sjabloon" } td { (b.template) } }
                    tr { th scope="row" { "Geïmporteerd door" } td { (b.imported_by) } }
                    tr { th scope="row" { "Tijdstip" } td { (dates::display_timestamp(&b.imported_at)) } }
                    tr { th scope="row" { "Status" } td { (status_label(b)) } }
                    @if let (Some("approved"), Some(by), Some(at)) = (b.approval.as_deref(), &b.approval_by, &b.approval_at) {
                        tr { th scope="row" { "Goedgekeurd door" } td { (by) " op " (dates::display_timestamp(at)) } }
                    }
                    tr { th scope="row" { "Regels gelezen" } td.num { (b.rows_read) } }
                    tr { th scope="row" { "Geïmporteerd" } td.num { (b.rows_imported) } }
                    tr { th scope="row" { "Dubbel (overgeslagen)" } td.num { (b.rows_duplicate) } }
                    tr { th scope="row" { "Afgewezen" } td.num { (b.rows_rejected) } }
                    @if area.has_amounts() { tr { th scope="row" { "Totaal geïmporteerd" } td.num { (b.amount_total()) } } }
                }
            }
            @if !undone {
                @if ledger {
                    p { a href={"/import/batches/" (b.id) "/regels"} { "Bekijk de " (crate::domain::words::count(b.rows_imported, "regel", "regels")) " van deze batch" } }
                }
                @if b.kind == Kind::Certifications.as_str() { p { a href="/keurmerken" { "Naar de keurmerken" } } }
                @if b.kind == Kind::Results.as_str() { p { a href="/kwaliteit" { "Naar het kwaliteitsdashboard" } } }
                @if b.kind == Kind::Progress.as_str() {
                    p { a href="/plaatsingen" { "Naar de plaatsingen" } " (elke plaatsing heeft een tijdlijn met de geïmporteerde voortgang en de signalen)" }
                }
                @if pending {
                    h2 { "Goedkeuren of afwijzen" }
                    p { "Goedkeuren laat de batch meetellen" @if ledger { " en rekent de boekingen toe volgens de toerekenregels" } ". Afwijzen verwijdert de batch zoals ongedaan maken; u ziet eerst wat er verdwijnt." }
                    form method="post" action={(area.base()) "/batches/" (b.id) "/goedkeuren"} {
                        (chrome.csrf_field())
                        button type="submit" { "Batch goedkeuren" }
                    }
                    form method="post" action={(area.base()) "/batches/" (b.id) "/afwijzen"} {
                        (chrome.csrf_field())
                        button.danger type="submit" { "Batch afwijzen…" }
                    }
                } @else {
                    h2 { "Ongedaan maken" }
                    p { "Was dit het verkeerde bestand? Ongedaan maken verwijdert de regels van deze batch weer; u ziet eerst wat er verdwijnt." }
                    form method="post" action={(area.base()) "/batches/" (b.id) "/ongedaan"} {
                        (chrome.csrf_field())
                        button.danger type="submit" { "Import ongedaan maken…" }
                    }
                }
            }
            p { a href=(area.base()) { "Naar importeren" } }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinesQuery {
    pagina: i64,
}

const LINES_PER_PAGE: i64 = 200;

async fn batch_lines(
    chrome: Chrome,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<LinesQuery>,
) -> AppResult<Markup> {
    let page = load_lines(&state, id, q.pagina).await?;
    Ok(render_lines(&chrome, &page))
}

/// One page of a ledger batch's lines, `page` counted from 1 out of `pages`.
struct LinesPage {
    batch: BatchRow,
    lines: Vec<LedgerEntryRow>,
    page: i64,
    pages: i64,
}

async fn load_lines(state: &AppState, id: i64, page: i64) -> AppResult<LinesPage> {
    let batch = area_batch(state, Area::Finance, id).await?;
    let page = page.max(1);
    let lines = store::batch_lines(&state.db, id, LINES_PER_PAGE, (page - 1) * LINES_PER_PAGE).await?;
    let pages = (batch.rows_imported + LINES_PER_PAGE - 1) / LINES_PER_PAGE;
    Ok(LinesPage { batch, lines, page, pages })
}

fn render_lines(chrome: &Chrome, p: &LinesPage) -> Markup {
    let (b, lines, page, pages) = (&p.batch, &p.lines, p.page, p.pages);
    chrome.page(
        &format!("Regels van importbatch {}", b.id),
        html! {
            h1 { "Regels van importbatch " (b.id) }
            p { a href={"/import/batches/" (b.id)} { "Terug naar de batch" } }
            table {
                caption { "Pagina " (page) " van " (pages.max(1)) " (" (crate::domain::words::count(b.rows_imported, "regel", "regels")) ")" }
                thead { tr {
                    th scope="col" { "Rij" } th scope="col" { "Boekdatum" } th scope="col" { "Boekstuk" } th scope="col" { "Grootboekrekening" }
                    th scope="col" { "Kostenplaats" } th scope="col" { "Taakveld" } th scope="col" { "Crediteur" } th scope="col" { "Omschrijving" }
                    th scope="col" class="num" { "Bedrag" }
                } }
                tbody {
                    @for l in lines {
                        tr {
                            th scope="row" { (l.source_row) }
                            td { (dates::parse_iso(&l.booking_date).map(dates::display).unwrap_or_else(|| l.booking_date.clone())) }
                            td { (l.document) @if !l.line.is_empty() { "/" (l.line) } }
                            td { (l.gl_account) } td { (l.cost_centre) } td { (l.task_field) } td { (l.creditor_name) } td { (l.description) }
                            td.num { (Money::from_cents(l.amount_cents)) }
                        }
                    }
                }
            }
            nav aria-label="Pagina's" {
                @if page > 1 { a href={"/import/batches/" (b.id) "/regels?pagina=" (page - 1)} { "Vorige pagina" } " " }
                @if page < pages { a href={"/import/batches/" (b.id) "/regels?pagina=" (page + 1)} { "Volgende pagina" } }
            }
        },
    )
}

async fn undo<const A: u8>(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(confirmed): Form<Confirmed>,
) -> AppResult<Response> {
    remove(&chrome, &user, &state, Area::of::<A>(), id, &confirmed, Removal::Undo).await
}

/// Rejects a batch waiting for approval: removed exactly like an undo, recorded as a rejection.
async fn reject(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(confirmed): Form<Confirmed>,
) -> AppResult<Response> {
    remove(&chrome, &user, &state, Area::Finance, id, &confirmed, Removal::Reject).await
}

/// Approves a batch waiting for approval (never one's own import); it counts from now on.
async fn approve(user: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Response> {
    use crate::store::approval;
    area_batch(&state, Area::Finance, id).await?;
    match approval::approve(&state.db, id, user.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("/import/batches/{id}?melding=goedgekeurd")).into_response()),
        Err(e) => Err(approval_error(e)),
    }
}

fn approval_error(e: crate::store::approval::ApprovalError) -> AppError {
    use crate::store::approval::ApprovalError;
    match e {
        ApprovalError::NotFound(_) | ApprovalError::Undo(store::UndoError::NotFound(_)) => AppError::NotFound,
        e @ ApprovalError::OwnImport(_) => AppError::ForbiddenWith(capitalize(&e.to_string())),
        ApprovalError::Db(e) | ApprovalError::Undo(store::UndoError::Db(e)) => e.into(),
        e => AppError::Conflict(capitalize(&e.to_string())),
    }
}

/// Undo, or rejection of a pending batch: the same removal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Removal {
    Undo,
    Reject,
}

async fn remove(
    chrome: &Chrome,
    user: &CurrentUser,
    state: &AppState,
    area: Area,
    id: i64,
    confirmed: &Confirmed,
    how: Removal,
) -> AppResult<Response> {
    let b = area_batch(state, area, id).await?;
    if how == Removal::Reject && (!b.awaits_approval() || b.status == "undone") {
        return Err(approval_error(crate::store::approval::ApprovalError::NotPending(id)));
    }
    let (verb, route) = match how {
        Removal::Undo => ("ongedaan maken", "ongedaan"),
        Removal::Reject => ("afwijzen", "afwijzen"),
    };
    if !confirmed.yes() {
        let page = format!("{}/batches/{id}", area.base());
        let rows = crate::domain::words::count(b.rows_imported, "geïmporteerde regel", "geïmporteerde regels");
        return Ok(chrome
            .confirmation(Confirmation {
                title: format!("Import van {} {verb}?", b.file_name),
                back: (&page, &format!("Importbatch {id}")),
                consequences: html! {
                    p { (capitalize(verb)) " verwijdert " @if b.rows_imported == 1 { "de enige" } @else { "alle" } " " (rows) " van deze batch"
                        @if area.has_amounts() { " (samen " (b.amount_total()) ")" } ":" }
                    ul {
                        @if how == Removal::Reject {
                            li { "de batch heeft nog nergens meegeteld; hij verdwijnt uit de lijst van batches die op goedkeuring wachten;" }
                        } @else if area.has_amounts() {
                            li { "de boekingen verdwijnen uit de realisatie, de aansluiting en de wachtrij, met hun toerekening;" }
                        } @else {
                            li { "de records die deze import heeft toegevoegd verdwijnen; wat al bestond blijft zoals het was;" }
                        }
                        li { "de batch blijft in de lijst staan als " @if how == Removal::Reject { "afgewezen" } @else { "ongedaan gemaakt" } ", met wie en wanneer, in het logboek;" }
                        li { "wilt u de regels terug, dan importeert u hetzelfde bestand opnieuw." }
                    }
                },
                action: &format!("{page}/{route}"),
                confirm: &format!("Ja, import {verb}"),
                cancel: &format!("Niet {verb}"),
                danger: true,
            })
            .into_response());
    }
    let done = match how {
        Removal::Undo => store::undo_batch(&state.db, id, user.actor()).await.map_err(Into::into),
        Removal::Reject => crate::store::approval::reject(&state.db, id, user.actor()).await,
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!("{}/batches/{id}?melding={route}", area.base())).into_response()),
        Err(crate::store::approval::ApprovalError::Undo(
            e @ (store::UndoError::AlreadyUndone(_)
            | store::UndoError::ClosedYear(..)
            | store::UndoError::Referenced(..)),
        )) => Err(AppError::Conflict(e.to_string())),
        Err(e) => Err(approval_error(e)),
    }
}
