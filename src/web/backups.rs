//! Beheer -> Back-ups: make a verified backup into the configured backup directory, see the recent ones
//! and when the last was made, and download one (admins only; every download is audited).

use std::path::{Path as FsPath, PathBuf};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::store::backup::{self, LoggedBackup, Origin};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/beheer/backups", Permission::Admin, index)
        .post("/beheer/backups", Permission::Admin, create)
        .get("/beheer/backups/{id}/download", Permission::Admin, download)
}

const SHOWN: i64 = 20;

/// What the back-ups page shows: the recent back-ups, each with whether its file can be downloaded.
struct BackupsPage {
    dir: String,
    rows: Vec<(LoggedBackup, bool)>,
    error: Option<String>,
}

async fn load_backups(state: &AppState, error: Option<String>) -> AppResult<BackupsPage> {
    let rows = backup::recent(&state.db, SHOWN).await?;
    let rows = rows
        .into_iter()
        .map(|b| {
            let can = downloadable(state, &b).is_some();
            (b, can)
        })
        .collect();
    Ok(BackupsPage { dir: state.config.backup_dir.display().to_string(), rows, error })
}

async fn index(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_backups(&chrome, &load_backups(&state, None).await?))
}

fn render_backups(chrome: &Chrome, p: &BackupsPage) -> Markup {
    chrome.page(
        "Back-ups",
        html! {
            p.breadcrumb { a href="/beheer" { "Beheer" } }
            h1 { "Back-ups" }
            @match p.rows.first() {
                Some((last, _)) => p.lead { "Laatste back-up: " strong { (crate::domain::dates::display_timestamp(&last.made_at)) } ", door " (last.made_by) "." },
                None => p.lead { "Er is nog geen back-up gemaakt." },
            }
            @if let Some(e) = &p.error {
                div.error-summary role="alert" { h2 { "De back-up is niet gemaakt" } p { (e) } }
            }
            p { "Een back-up is een volledige, gecontroleerde kopie van de database terwijl taalbudget gewoon doorwerkt. "
                "Back-ups vanuit dit scherm komen in " code { (p.dir) } ". "
                "Ze bevatten persoonsgegevens (cliëntnummers): bewaar ze beveiligd en niet langer dan de bewaartermijn." }
            form method="post" action="/beheer/backups" {
                (chrome.csrf_field())
                button type="submit" { "Nu een back-up maken" }
            }
            table {
                caption { "De laatste back-ups (hoogstens " (SHOWN) ")" }
                thead { tr {
                    th scope="col" { "Tijdstip (UTC)" } th scope="col" { "Gemaakt door" } th scope="col" { "Via" }
                    th scope="col" { "Bestand" } th scope="col" { "Grootte" } th scope="col" { "Rijen" }
                    th scope="col" { "Schemaversie" } th scope="col" { "Download" }
                } }
                tbody {
                    @for (b, can_download) in &p.rows {
                        tr {
                            th scope="row" { (crate::domain::dates::display_timestamp(&b.made_at)) }
                            td { (b.made_by) }
                            td { @if b.origin == "web" { "scherm" } @else { "opdrachtregel" } }
                            td { code { (file_name(&b.path)) } }
                            td.number { (human_bytes(b.bytes)) }
                            td.number { (b.rows) }
                            td.number { (b.schema_version) }
                            td { @if *can_download {
                                a href={"/beheer/backups/" (b.id) "/download"} { "Download" span.visually-hidden { " " (file_name(&b.path)) } }
                            } @else { "—" } }
                        }
                    }
                }
            }
        },
    )
}

fn file_name(path: &str) -> String {
    FsPath::new(path).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| path.to_string())
}

fn human_bytes(bytes: i64) -> String {
    match bytes {
        // Tenths of a megabyte in integer arithmetic, rounded half up.
        b if b >= 1024 * 1024 => {
            let tenths = (b * 10 + 512 * 1024) / (1024 * 1024);
            format!("{},{} MB", tenths / 10, tenths % 10)
        }
        b if b >= 1024 => format!("{} kB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// The file of a backup made from this page, if it still lies in the backup directory. Only such files
/// are served, so the download can never be pointed at another file on the server.
fn downloadable(state: &AppState, b: &LoggedBackup) -> Option<PathBuf> {
    if b.origin != "web" {
        return None;
    }
    let dir = state.config.backup_dir.canonicalize().ok()?;
    let file = FsPath::new(&b.path).canonicalize().ok()?;
    (file.parent() == Some(dir.as_path()) && file.is_file()).then_some(file)
}

async fn create(chrome: Chrome, admin: CurrentUser, State(state): State<AppState>) -> AppResult<Response> {
    let dir = state.config.backup_dir.clone();
    if let Err(e) = std::fs::create_dir_all(&dir) {
        let message = format!("de map {} kan niet worden aangemaakt: {e}", dir.display());
        let page = load_backups(&state, Some(message)).await?;
        return Ok((StatusCode::CONFLICT, render_backups(&chrome, &page)).into_response());
    }
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!("[year][month][day]-[hour][minute][second]"))
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut result = None;
    for n in 1..100 {
        let name = if n == 1 { format!("taalbudget-{stamp}.db") } else { format!("taalbudget-{stamp}-{n}.db") };
        match backup::backup(&state.db, &dir.join(name)).await {
            Err(backup::BackupError::Exists(_)) => continue,
            other => {
                result = Some(other);
                break;
            }
        }
    }
    match result {
        Some(Ok(report)) => {
            backup::log(&state.db, &report, Origin::Web, admin.actor()).await?;
            tracing::info!(path = %report.path.display(), bytes = report.bytes, "back-up gemaakt vanuit het scherm");
            Ok(Redirect::to("/beheer/backups?melding=backup").into_response())
        }
        Some(Err(e)) => {
            tracing::error!(error = %e, "back-up vanuit het scherm mislukt");
            let page = load_backups(&state, Some(e.to_string())).await?;
            Ok((StatusCode::CONFLICT, render_backups(&chrome, &page)).into_response())
        }
        None => {
            Err(AppError::Conflict("Er zijn deze seconde al te veel back-ups gemaakt; probeer het zo opnieuw".into()))
        }
    }
}

async fn download(admin: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Response> {
    let b = backup::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let file = downloadable(&state, &b).ok_or(AppError::NotFound)?;
    let bytes = tokio::fs::read(&file).await.map_err(|e| AppError::Internal(e.into()))?;
    backup::log_download(&state.db, id, admin.actor()).await?;
    let disposition = format!("attachment; filename=\"{}\"", file_name(&b.path));
    Ok((
        [(header::CONTENT_TYPE, "application/vnd.sqlite3".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}
