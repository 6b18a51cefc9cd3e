//! The web interface: one module per area, each contributing its routes to one [`RouteTable`].

pub mod account;
pub mod admin;
pub mod api;
pub mod attribution;
pub mod backups;
pub mod charts;
pub mod contracts;
pub mod forms;
pub mod funding;
pub mod health;
pub mod home;
pub mod imports;
pub mod indicators;
pub mod inflow;
pub mod invoice_check;
pub mod marks;
pub mod middleware;
pub mod my_account;
pub mod notifications;
pub mod overview;
pub mod placements;
pub mod progress;
pub mod providers;
pub mod proxy;
pub mod quality;
pub mod quality_plans;
pub mod queue;
pub mod scenarios;
pub mod scorecard;
pub mod uploads;
pub mod views;

use std::sync::Arc;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::roles::Permission;
use crate::config::Config;
use crate::store::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// What overview pages are computed from besides the ledger, kept until it changes.
    pub overview_cache: Arc<crate::report::overview::InputsCache>,
    /// Tables and downloads drawn from the overviews that cache keeps.
    pub overview_drawn: Arc<overview::Drawn>,
    /// Computed provider scorecards, kept until their inputs change.
    pub scorecard_cache: Arc<crate::report::scorecard::ScorecardCache>,
    /// What the progress reports say per placement (actual start, third attempts), kept until they change.
    pub signals_cache: Arc<crate::report::progress_signals::SignalsCache>,
    /// Every contract's commitments and figures per day, kept until their inputs change.
    pub commitments_cache: Arc<crate::report::commitments::PortfolioCache>,
    /// The reconciliation's signals on ledger lines per year, kept until the ledger or their other inputs change.
    pub line_flags_cache: Arc<crate::report::reconciliation::LineFlagsCache>,
    /// Every contract's attendance per year against its norm, kept until the progress inputs change.
    pub contract_attendance_cache: Arc<crate::report::contract_attendance::ContractAttendanceCache>,
    /// What the attribution rules hold now and what applying them would move, kept until their inputs change.
    pub plan_cache: Arc<crate::report::rules::PlanCache>,
    /// Uploaded import files and their jobs (per server, not per process: tests run several servers at once).
    pub imports: Arc<imports::ImportJobs>,
}

/// The largest body a route without a file upload accepts: far more than any form needs, far less than an
/// upload (`upload_limit_mb`), so that posting 45 MB to a form costs the server nothing.
pub const FORM_BODY_LIMIT: usize = 1024 * 1024;

/// The refusal of a body over [`FORM_BODY_LIMIT`].
pub fn form_too_large() -> crate::error::AppError {
    crate::error::AppError::PayloadTooLarge(
        "het formulier is te groot: een formulier zonder bestand mag hoogstens 1 MB zijn. Maak de ingevulde tekst korter en verstuur het opnieuw".into(),
    )
}

/// One registered route and what it requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    pub method: Method,
    pub path: &'static str,
    pub permission: Permission,
    /// Whether the route receives files, and so bodies up to the upload limit instead of [`FORM_BODY_LIMIT`].
    pub upload: bool,
}

/// The only way to add a route: each one declares its permission, which is checked on the server
/// before the handler runs. The entries let a test walk every route for every role.
pub struct RouteTable {
    router: Router<AppState>,
    entries: Vec<RouteEntry>,
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable { router: Router::new(), entries: Vec::new() }
    }
}

impl RouteTable {
    pub fn get<H, T>(self, path: &'static str, permission: Permission, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, MethodFilter::GET, path, permission, handler, false)
    }

    pub fn post<H, T>(self, path: &'static str, permission: Permission, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, MethodFilter::POST, path, permission, handler, false)
    }

    /// A POST route that receives a file (multipart), with a body up to the configured upload limit.
    pub fn upload<H, T>(self, path: &'static str, permission: Permission, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, MethodFilter::POST, path, permission, handler, true)
    }

    fn add<H, T>(
        mut self,
        method: Method,
        filter: MethodFilter,
        path: &'static str,
        permission: Permission,
        handler: H,
        upload: bool,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let mut route = on(filter, handler);
        if !upload {
            // Refuses a larger Content-Length at once and stops reading a body without one at the limit;
            // upload routes keep the global `DefaultBodyLimit` of `upload_limit_mb`.
            route = route.route_layer(RequestBodyLimitLayer::new(FORM_BODY_LIMIT));
        }
        let guarded =
            route.route_layer(axum::middleware::from_fn(move |req, next| middleware::require(permission, req, next)));
        self.router = self.router.route(path, guarded);
        self.entries.push(RouteEntry { method, path, permission, upload });
        self
    }

    pub fn merge(mut self, other: RouteTable) -> Self {
        self.router = self.router.merge(other.router);
        self.entries.extend(other.entries);
        self
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteEntry>) {
        (self.router, self.entries)
    }
}

/// Every route of the application.
pub fn routes() -> RouteTable {
    RouteTable::default()
        .merge(health::routes())
        .merge(account::routes())
        .merge(my_account::routes())
        .merge(admin::routes())
        .merge(backups::routes())
        .merge(views::routes())
        .merge(home::routes())
        .merge(notifications::routes())
        .merge(providers::routes())
        .merge(marks::routes())
        .merge(contracts::routes())
        .merge(placements::routes())
        .merge(progress::routes())
        .merge(invoice_check::routes())
        .merge(scorecard::routes())
        .merge(funding::routes())
        .merge(attribution::routes())
        .merge(quality::routes())
        .merge(imports::routes())
        .merge(overview::routes())
        .merge(scenarios::routes())
        .merge(inflow::routes())
        .merge(indicators::routes())
        .merge(api::routes())
}

/// The content type of an xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to download: its content type and a Content-Disposition that names it. The name is made of the
/// app's own words and numbers; a name a header cannot carry falls back to a plain attachment.
pub fn download(bytes: Vec<u8>, content_type: &str, name: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (attachment(content_type, name), bytes).into_response()
}

fn attachment(content_type: &str, name: &str) -> [(axum::http::HeaderName, axum::http::HeaderValue); 2] {
    use axum::http::{header, HeaderValue};
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let content_type =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    [(header::CONTENT_TYPE, content_type), (header::CONTENT_DISPOSITION, disposition)]
}

/// Where a streamed download sends its file, a chunk at a time; an `Err` breaks the download off, so the
/// browser reports it as failed rather than saving half a file.
pub type Chunks = tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>;

/// A download written while it is sent: `write` runs on a task of its own and sends the file in chunks, and
/// the answer starts at once. However large the file, memory holds the chunk being written and two waiting
/// (a slow reader makes the writer wait); when the reader goes away, sending fails and `write` should stop.
pub fn streamed_download<W, F>(content_type: &str, name: &str, write: W) -> axum::response::Response
where
    W: FnOnce(Chunks) -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    use axum::response::IntoResponse;
    let (chunks, received) = tokio::sync::mpsc::channel(2);
    tokio::spawn(write(chunks));
    let body = futures_util::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|chunk| (chunk, received))
    });
    (attachment(content_type, name), axum::body::Body::from_stream(body)).into_response()
}
