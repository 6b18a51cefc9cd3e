//! Builds the application: state, router and layers; binds the listener and returns its address,
//! so tests can run the app on port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

use crate::auth::{csrf, session};
use crate::config::Config;
use crate::store::lock::{self, DbLock};
use crate::store::{self, Db};
use crate::web::middleware::{self, MakeUuid};
use crate::web::proxy::{self, ClientAddr, ClientScheme};
use crate::web::views::DemoMode;
use crate::web::{self, AppState};

/// The full router with every layer, for a given state.
pub async fn router(state: AppState) -> anyhow::Result<Router> {
    let (routes, _) = web::routes().into_parts();
    let sessions = session::layer(&state).await?;
    let mut app = routes
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(csrf::CookieSigner::new(&state.config), csrf::protect))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::token::bearer))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::load_user))
        .with_state(state.clone())
        .layer(sessions)
        .layer(axum::middleware::from_fn(session::busy_as_unavailable))
        .layer(axum::middleware::from_fn(middleware::render_errors))
        .layer(axum::middleware::from_fn_with_state(state.config.secure_cookies, middleware::security_headers))
        .layer(DefaultBodyLimit::max(state.config.upload_limit));
    if state.config.demo {
        app = app.layer(Extension(DemoMode));
    }
    let app = app
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let path = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("-");
                    let id = req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
                    let client = req.extensions().get::<ClientAddr>().map(|c| c.0.to_string()).unwrap_or_default();
                    let scheme = req.extensions().get::<ClientScheme>().map(|s| s.0.as_str()).unwrap_or("-");
                    // A calendar address is a credential (see web::notifications): it stays out of the log.
                    let uri = if req.uri().path().starts_with("/agenda/") { "/agenda/(geheim)" } else { req.uri().path() };
                    tracing::info_span!("request", method = %req.method(), uri, route = path, request_id = id, client, scheme)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeUuid))
        .layer(axum::middleware::from_fn_with_state(Arc::new(state.config.trusted_proxies.clone()), proxy::forwarded));
    // The prefix layer wraps the whole router as a service: a `Router::layer` runs after routing, too
    // late to change the path the routes are matched on (see web::proxy for why it rewrites at all).
    Ok(if state.config.path_prefix.is_empty() {
        app
    } else {
        let prefix: Arc<str> = Arc::from(state.config.path_prefix.as_str());
        let wrapped = tower::Layer::layer(&axum::middleware::from_fn_with_state(prefix, proxy::prefix), app);
        Router::new().fallback_service(wrapped)
    })
}

/// A bound, not yet serving application.
pub struct App {
    pub addr: SocketAddr,
    pub state: AppState,
    listener: tokio::net::TcpListener,
    /// The claim on the database that makes `restore` refuse while this server runs.
    claim: Option<DbLock>,
}

impl App {
    /// Claims the database (one server per database), opens it (creating and migrating it) and binds
    /// the listen address.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let claim = lock::acquire(&config.db_path)?;
        let db = store::connect(&config.db_path).await?;
        let mut app = App::with_db(config, db).await?;
        app.claim = Some(claim);
        Ok(app)
    }

    pub async fn with_db(config: Config, db: Db) -> anyhow::Result<App> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("kan niet luisteren op {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        let imports = crate::web::imports::ImportJobs::new(&config)
            .map_err(|e| anyhow::anyhow!("kan de uploadmap {} niet gebruiken: {e}", config.upload_dir.display()))?;
        Ok(App {
            addr,
            state: AppState {
                db,
                config: Arc::new(config),
                overview_cache: Default::default(),
                overview_drawn: Default::default(),
                scorecard_cache: Default::default(),
                signals_cache: Default::default(),
                commitments_cache: Default::default(),
                line_flags_cache: Default::default(),
                plan_cache: Default::default(),
                contract_attendance_cache: Default::default(),
                imports: Arc::new(imports),
            },
            listener,
            claim: None,
        })
    }

    /// Serves until the process receives Ctrl-C or SIGTERM.
    pub async fn serve(self) -> anyhow::Result<()> {
        let app = router(self.state.clone()).await?;
        // Expired sessions are removed hourly so the session table does not grow without bound.
        let cleanup = SqliteStore::new(self.state.db.clone());
        let cleaner = tokio::spawn(cleanup.continuously_delete_expired(tokio::time::Duration::from_secs(3600)));
        // Connections do not checkpoint on their own (see store::connect): once a minute keeps the log short.
        let db = self.state.db.clone();
        let checkpointer = tokio::spawn(async move {
            let mut every = tokio::time::interval(tokio::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(e) = store::checkpoint(&db).await {
                    tracing::warn!(error = %e, "het write-ahead log kon niet in de database worden overgenomen");
                }
            }
        });
        // Previews nobody confirms expire; their files are deleted with them.
        let imports = self.state.imports.clone();
        let expirer = tokio::spawn(async move {
            let mut every = tokio::time::interval(tokio::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                imports.expire(crate::web::imports::JOB_TTL);
            }
        });
        // The e-mail digests, when a mail server is set: each run claims what it sends (see crate::notify), so
        // a second server on the same database never sends a digest twice.
        let mailer = self.state.config.smtp.is_some().then(|| {
            let state = self.state.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(state.config.digest_interval);
                loop {
                    every.tick().await;
                    let sources = crate::report::notifications::Sources {
                        signals: Some(&state.signals_cache),
                        commitments: Some(&state.commitments_cache),
                    };
                    let now = time::OffsetDateTime::now_utc();
                    if let Err(e) = crate::notify::run(&state.db, &state.config, sources, None, false, now).await {
                        tracing::warn!(error = %e, "de e-mail met meldingen kon niet worden verwerkt");
                    }
                }
            })
        });
        axum::serve(self.listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        cleaner.abort();
        checkpointer.abort();
        expirer.abort();
        if let Some(mailer) = mailer {
            mailer.abort();
        }
        // Nothing uploaded outlives the server: running checks stop, every upload file is deleted.
        self.state.imports.shutdown();
        self.state.db.close().await;
        drop(self.claim);
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("afsluiten: lopende verzoeken worden afgemaakt");
}
