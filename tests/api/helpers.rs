//! `spawn_app()` and a `TestApp` that logs in, keeps cookies and posts forms with the CSRF token.

use std::net::SocketAddr;

use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use taalbudget::app::App;
use taalbudget::auth::password;
use taalbudget::auth::roles::Role;
use taalbudget::config::Config;
use taalbudget::store::{self, Db};
use taalbudget::web::AppState;

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Db,
    /// The server's state, for what a test must reach behind the HTTP interface (the import queue, expiry).
    pub state: AppState,
    pub client: reqwest::Client,
    /// The path prefix the app is served under ("" for the root); `url()` puts it in front of every path.
    pub prefix: String,
    /// The database file, for running the command line against the same data.
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub const PASSWORD: &str = "correct-paard-batterij";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("test.db"));
    config.secure_cookies = false;
    adjust(&mut config);
    let prefix = config.path_prefix.clone();
    let db_path = config.db_path.clone();
    let app = App::build(config).await.expect("app builds");
    let addr = app.addr;
    let db = app.state.db.clone();
    let state = app.state.clone();
    tokio::spawn(app.serve());
    TestApp { addr, db, state, client: client(), prefix, db_path, _dir: dir }
}

impl TestApp {
    /// A test app for a server a test started itself (with database options of its own); `dir` holds the
    /// database (`db_path`) and lives as long as the app.
    pub fn serving(
        addr: SocketAddr,
        db: Db,
        state: AppState,
        db_path: std::path::PathBuf,
        dir: tempfile::TempDir,
    ) -> TestApp {
        TestApp { addr, db, state, client: client(), prefix: String::new(), db_path, _dir: dir }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}{}", self.addr, self.prefix, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    /// The CSRF token the server put in this client's session, read from a page's form.
    pub async fn csrf(&self) -> String {
        let (_, body) = self.get_html("/login").await;
        // Every signed-in page carries the logout form; the start page may redirect (the policy adviser's does).
        let body = if body.contains("name=\"_csrf\"") { body } else { self.get_html("/aanbieders").await.1 };
        extract_csrf(&body).expect("a page with a CSRF field")
    }

    /// A multipart form that starts with the CSRF token, as the upload forms do.
    pub async fn multipart_form(&self) -> reqwest::multipart::Form {
        reqwest::multipart::Form::new().text("_csrf", self.csrf().await)
    }

    /// Posts a form as a browser would, with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &token));
        self.client.post(self.url(path)).form(&all).send().await.expect("request")
    }

    pub async fn add_user(&self, username: &str, role: Role) -> i64 {
        let hash = password::hash(PASSWORD.to_string()).await.unwrap();
        store::users::create(&self.db, username, role, &hash, "test").await.unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_form("/login", &[("username", username), ("password", password)]).await
    }

    /// A user with this role, signed in on this app's client.
    pub async fn login_as(&self, role: Role) {
        let name = format!("test-{}", role.code());
        if store::users::credentials(&self.db, &name).await.unwrap().is_none() {
            self.add_user(&name, role).await;
        }
        let r = self.login(&name, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {name}");
    }

    /// A personal API token of a user with this role (made for the occasion, valid 30 days).
    pub async fn api_token(&self, role: Role) -> String {
        let name = format!("api-{}", role.code());
        let id = match store::users::credentials(&self.db, &name).await.unwrap() {
            Some((user, _)) => user.id,
            None => self.add_user(&name, role).await,
        };
        store::tokens::create(&self.db, id, "test", 30, "test").await.unwrap().secret
    }

    /// A GET with a bearer token and no cookies, as a script sends it; checked against the OpenAPI document.
    pub async fn api_get(&self, path: &str, token: &str) -> Response {
        self.api_raw("GET", path, Some(token)).await
    }

    /// A bodyless API request (with a bearer token or none) checked against the OpenAPI document, handed back
    /// as a plain response for tests that look at it themselves.
    pub async fn api_raw(&self, method: &str, path: &str, token: Option<&str>) -> Response {
        let r = self.api_with(method, path, token.unwrap_or(""), ApiBody::None, &[]).await;
        let mut back = reqwest::Response::from(
            axum::http::Response::builder().status(r.status.as_u16()).body(r.text.into_bytes()).unwrap(),
        );
        *back.headers_mut() = r.headers;
        back
    }

    /// Another browser on the same server: its own cookies.
    pub fn other_browser(&self) -> TestApp {
        TestApp {
            addr: self.addr,
            db: self.db.clone(),
            state: self.state.clone(),
            client: client(),
            prefix: self.prefix.clone(),
            db_path: self.db_path.clone(),
            _dir: tempfile::tempdir().unwrap(),
        }
    }

    pub async fn audit_count(&self, entity: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = ?")
            .bind(entity)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

pub fn extract_csrf(body: &str) -> Option<String> {
    let at = body.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(body[at..].split('"').next()?.to_string())
}

/// The id at the end of a redirect location such as `/aanbieders/7?melding=...`.
pub fn id_from(loc: &str, prefix: &str) -> i64 {
    loc.trim_start_matches(prefix).split(['?', '#']).next().unwrap().parse().unwrap()
}

/// A provider with an indefinite Blik op Werk mark since 2021.
pub async fn certified_provider(app: &TestApp, name: &str, kvk: &str) -> i64 {
    let r = app.post_form("/aanbieders", &[("name", name), ("kvk", kvk), ("active", "on")]).await;
    let id = id_from(&location(&r), "/aanbieders/");
    let r = app
        .post_form(
            &format!("/aanbieders/{id}/keurmerken"),
            &[("status", "indefinite"), ("decision_date", "2021-01-01"), ("valid_from", "2021-01-01")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    id
}

/// A funding stream of kind "other" for no particular cohort, spendable from 2022 until `spend_until`.
pub async fn other_stream(app: &TestApp, code: &str, spend_until: &str) -> i64 {
    let s = taalbudget::domain::funding::FundingStream {
        id: 0,
        code: code.into(),
        name: format!("Bron {code}"),
        kind: taalbudget::domain::funding::StreamKind::Other,
        cohorts: vec![],
        spend_from: taalbudget::domain::dates::parse_iso("2022-01-01").unwrap(),
        spend_until: taalbudget::domain::dates::parse_iso(spend_until),
        carry_over: false,
        notes: String::new(),
    };
    taalbudget::store::funding::create_stream(&app.db, &s, "test").await.unwrap()
}

pub fn location(r: &Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// Imports ledger lines through the real engine (an xlsx in the standard layout), as `actor`.
pub async fn import_ledger(
    app: &TestApp,
    lines: &[taalbudget::import::ledger::LedgerLine],
) -> taalbudget::import::engine::Outcome {
    use taalbudget::import::{engine, example, ledger, template};
    let t = template::find("standaard-grootboek").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grootboek.xlsx");
    std::fs::write(&path, example::workbook(&t, lines).unwrap()).unwrap();
    let req =
        engine::ImportRequest { path, file_name: "grootboek.xlsx".into(), template: t, actor: "test-finance".into() };
    engine::run(&app.db, ledger::Ledger::new(), req, engine::ImportOptions::default()).await.unwrap()
}

/// A ledger line for tests: booked on `date` (ISO), with cost centre, creditor, description and cents.
pub fn ledger_line(
    date: &str,
    cost_centre: &str,
    creditor: &str,
    description: &str,
    cents: i64,
) -> taalbudget::import::ledger::LedgerLine {
    let booking_date = taalbudget::domain::dates::parse_iso(date).unwrap();
    taalbudget::import::ledger::LedgerLine {
        booking_date,
        fiscal_year: Some(booking_date.year() as i64),
        period: Some(booking_date.month() as i64),
        document: format!("BS-{date}-{cents}"),
        line: "1".into(),
        gl_account: "4301".into(),
        cost_centre: cost_centre.into(),
        task_field: "6.1".into(),
        creditor_number: creditor.into(),
        creditor_name: format!("Crediteur {creditor}"),
        invoice_number: format!("F-{cents}"),
        description: description.into(),
        amount: taalbudget::money::Money::from_cents(cents),
    }
}

/// What an API request sends besides its token.
pub enum ApiBody {
    None,
    Json(serde_json::Value),
    Multipart(reqwest::multipart::Form),
}

/// An API answer, already checked against the OpenAPI document.
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl ApiResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }
}

/// The OpenAPI document as the server serves it, fetched once per test run.
static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();

/// How many API answers this test process validated against the document.
pub static VALIDATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl TestApp {
    /// An API request with a bearer token (no cookies, no CSRF), checked against `/api/openapi.json`.
    pub async fn api(&self, method: &str, path: &str, token: &str) -> ApiResponse {
        self.api_with(method, path, token, ApiBody::None, &[]).await
    }

    /// [`TestApp::api`] with a body and extra headers (e.g. `If-None-Match`); an empty token sends none.
    pub async fn api_with(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: ApiBody,
        headers: &[(&str, &str)],
    ) -> ApiResponse {
        let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
        let mut b = client.request(method.parse().unwrap(), self.url(path));
        if !token.is_empty() {
            b = b.bearer_auth(token);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b = match body {
            ApiBody::None => b,
            ApiBody::Json(v) => b.json(&v),
            ApiBody::Multipart(f) => b.multipart(f),
        };
        let r = b.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        self.check_against_document(method, path, status, &headers, &text).await;
        ApiResponse { status, headers, text }
    }

    /// Fails unless the document has an operation for this method and path, documents this status with this
    /// content type, and the body (when JSON) is valid against that response's schema.
    pub async fn check_against_document(
        &self,
        method: &str,
        path: &str,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        text: &str,
    ) {
        if DOCUMENT.get().is_none() {
            let doc: serde_json::Value =
                reqwest::get(self.url("/api/openapi.json")).await.unwrap().json().await.expect("the document");
            let _ = DOCUMENT.set(doc);
        }
        let doc = DOCUMENT.get().unwrap();
        let bare = path.split('?').next().unwrap();
        let template = operation_path(doc, bare).unwrap_or_else(|| panic!("{bare} is not in the OpenAPI document"));
        let op = &doc["paths"][&template][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {template} is not in the OpenAPI document");
        let response = &op["responses"][status.as_str()];
        assert!(response.is_object(), "{method} {path} answered {status}, which the document does not list: {text}");
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().trim().to_string())
            .unwrap_or_default();
        if status == StatusCode::NOT_MODIFIED {
            assert!(text.is_empty(), "a 304 has no body");
        } else {
            let content = &response["content"][&content_type];
            assert!(
                content.is_object(),
                "{method} {path} {status}: content type '{content_type}' is not documented ({})",
                response["content"]
            );
            if content_type.ends_with("json") {
                let body: serde_json::Value =
                    serde_json::from_str(text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"));
                let schema = serde_json::json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": doc["components"],
                    "allOf": [content["schema"]],
                });
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("{method} {template} {status}: schema does not compile: {e}"));
                let errors: Vec<String> =
                    validator.iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
                assert!(errors.is_empty(), "{method} {path} {status} does not match its schema: {errors:?}\n{text}");
            }
        }
        record_validation(method, &template, status);
    }
}

/// The document's path template that `path` fills in (`/api/v1/contracts/7` → `/api/v1/contracts/{id}`);
/// a template without parameters wins over one with.
pub fn operation_path(doc: &serde_json::Value, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, String)> = None;
    for template in doc["paths"].as_object()?.keys() {
        let t: Vec<&str> = template.split('/').collect();
        if t.len() != parts.len() {
            continue;
        }
        let mut params = 0;
        let fits = t.iter().zip(&parts).all(|(a, b)| {
            if a.starts_with('{') && a.ends_with('}') {
                params += 1;
                !b.is_empty()
            } else {
                a == b
            }
        });
        if fits && best.as_ref().is_none_or(|(p, _)| params < *p) {
            best = Some((params, template.clone()));
        }
    }
    best.map(|(_, t)| t)
}

/// Counts a validated answer, and writes it to a log in the test target directory (one line per answer, one
/// file per test process), so a run can say how many answers were validated.
fn record_validation(method: &str, template: &str, status: StatusCode) {
    use std::io::Write;
    VALIDATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("api-validated");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) =
        std::fs::OpenOptions::new().create(true).append(true).open(dir.join(format!("{}.log", std::process::id())))
    {
        let _ = writeln!(f, "{method} {template} {}", status.as_u16());
    }
}
