//! An import never locks other users out (issue 18, section 1): it reads, checks and looks up duplicates without
//! SQLite's write lock, takes the lock only to write, and counts again what changed meanwhile; a request that
//! still meets a busy database waits, or answers 503 with `Retry-After`, never 500.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Connection, SqliteConnection};
use taalbudget::app::App;
use taalbudget::auth::roles::Role;
use taalbudget::config::Config;
use taalbudget::import::engine::{self, ImportOptions, Outcome, WriteGate};
use taalbudget::import::ledger::{self, LedgerLine};
use taalbudget::import::{example, template};
use taalbudget::money::Money;
use taalbudget::store;

use crate::helpers::{client, extract_csrf, location, spawn_app_with, TestApp, PASSWORD};

const BUSY_PAGE: &str = "Een ander werk slaat nu gegevens op; probeer het over enkele seconden opnieuw.";

/// Ledger line `i`: its own document, amount `i` euros and `i` cents, so every subset has its own total.
fn line(i: usize) -> LedgerLine {
    LedgerLine {
        booking_date: time::Date::from_calendar_date(2024, time::Month::May, (i % 28) as u8 + 1).unwrap(),
        fiscal_year: Some(2024),
        period: Some(5),
        document: format!("BS{i:07}"),
        line: "1".into(),
        gl_account: "4301".into(),
        cost_centre: "KP6100".into(),
        task_field: "6.1".into(),
        creditor_number: "100001".into(),
        creditor_name: "Taalschool Utrecht".into(),
        invoice_number: format!("F{i:07}"),
        description: format!("Cursus {i}"),
        amount: Money::from_cents(i as i64 * 101),
    }
}

fn cents(range: std::ops::Range<usize>) -> i64 {
    range.map(|i| i as i64 * 101).sum()
}

/// An xlsx in the standard ledger layout holding lines `range`.
fn ledger_file(dir: &Path, name: &str, range: std::ops::Range<usize>) -> PathBuf {
    let lines: Vec<LedgerLine> = range.map(line).collect();
    let path = dir.join(name);
    std::fs::write(&path, example::workbook(&template::find("standaard-grootboek").unwrap(), &lines).unwrap()).unwrap();
    path
}

async fn try_import(db: &store::Db, path: &Path, opts: ImportOptions) -> Result<Outcome, engine::ImportError> {
    let req = engine::ImportRequest {
        path: path.to_path_buf(),
        file_name: "grootboek.xlsx".into(),
        template: template::find("standaard-grootboek").unwrap(),
        actor: "test-finance".into(),
    };
    engine::run(db, ledger::Ledger::new(), req, opts).await
}

async fn import(db: &store::Db, path: &Path, opts: ImportOptions) -> Outcome {
    try_import(db, path, opts).await.unwrap()
}

/// Another connection to the same database file, holding its write lock until dropped or rolled back.
async fn hold_write_lock(db: &store::Db) -> SqliteConnection {
    let opts = (*db.connect_options()).clone();
    let mut conn = SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
    conn
}

async fn release(mut conn: SqliteConnection) {
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// The app and the directory that holds its database.
async fn app_and_dir() -> (TestApp, PathBuf) {
    let mut db_path = PathBuf::new();
    let app = spawn_app_with(|c| db_path = c.db_path.clone()).await;
    (app, db_path.parent().unwrap().to_path_buf())
}

#[tokio::test]
async fn a_preview_runs_while_another_connection_holds_the_write_lock() {
    let (app, dir) = app_and_dir().await;
    let file = ledger_file(&dir, "grootboek.xlsx", 0..300);
    let lock = hold_write_lock(&app.db).await;
    // With the lock held elsewhere, anything that needs it waits for the 10 s busy timeout and then fails.
    let opts = ImportOptions { dry_run: true, ..Default::default() };
    let out = tokio::time::timeout(Duration::from_secs(8), import(&app.db, &file, opts))
        .await
        .expect("the preview did not wait for the write lock");
    release(lock).await;
    assert_eq!(out.summary.batch, None);
    assert_eq!(out.summary.rows_imported, 300);
    assert_eq!(out.summary.amount_total, Money::from_cents(cents(0..300)));
    assert_eq!(out.lock_held, Duration::ZERO);
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap(), (0, 0));
}

#[tokio::test]
async fn an_import_reads_checks_and_finds_duplicates_while_another_connection_holds_the_write_lock() {
    let (app, dir) = app_and_dir().await;
    let first = ledger_file(&dir, "eerste.xlsx", 0..100);
    assert!(import(&app.db, &first, ImportOptions::default()).await.summary.batch.is_some());
    let file = ledger_file(&dir, "grootboek.xlsx", 50..400);
    let lock = hold_write_lock(&app.db).await;
    let gate = WriteGate::default();
    let opts = ImportOptions { gate_before_write: Some(gate.clone()), ..Default::default() };
    let db = app.db.clone();
    let running = tokio::spawn(async move { import(&db, &file, opts).await });
    // The whole read phase (reading, validating, duplicate lookup) gets done while the lock is held elsewhere.
    tokio::time::timeout(Duration::from_secs(8), gate.reached.notified())
        .await
        .expect("the read phase did not need the write lock");
    release(lock).await;
    gate.resume.notify_one();
    let out = running.await.unwrap();
    assert!(out.summary.batch.is_some());
    assert_eq!((out.summary.rows_imported, out.summary.rows_duplicate), (300, 50));
    assert_eq!(out.summary.amount_total, Money::from_cents(cents(100..400)));
    assert!(out.lock_held > Duration::ZERO);
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap(), (400, cents(0..400)));
}

#[tokio::test]
async fn lines_another_import_stored_between_the_phases_are_counted_as_duplicates_of_that_import() {
    let (app, dir) = app_and_dir().await;
    let file = ledger_file(&dir, "grootboek.xlsx", 0..100);
    let overlapping = ledger_file(&dir, "ander.xlsx", 50..150);
    let gate = WriteGate::default();
    let opts = ImportOptions { gate_before_write: Some(gate.clone()), ..Default::default() };
    let db = app.db.clone();
    let running = tokio::spawn(async move { import(&db, &file, opts).await });
    gate.reached.notified().await;
    // The read phase found all 100 lines new; now another import stores lines 50..150 first.
    let other = import(&app.db, &overlapping, ImportOptions::default()).await.summary.batch.unwrap();
    gate.resume.notify_one();
    let out = running.await.unwrap();
    let s = &out.summary;
    assert!(s.batch.is_some());
    assert_eq!((s.rows_read, s.rows_imported, s.rows_duplicate), (100, 50, 50));
    assert_eq!(s.amount_total, Money::from_cents(cents(0..50)));
    // Lines 50..100 sit on spreadsheet rows 52..101 (row 1 is the header) and belong to the other batch.
    let rows: Vec<(u32, i64)> = s.duplicates.iter().map(|d| (d.row, d.batch)).collect();
    assert_eq!(rows, (52..102).map(|r| (r, other)).collect::<Vec<_>>());
    assert_eq!(out.preview[0][3], "BS0000000/1");
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap(), (150, cents(0..150)));
    let batch = store::imports::get_batch(&app.db, s.batch.unwrap()).await.unwrap().unwrap();
    assert_eq!((batch.rows_imported, batch.rows_duplicate, batch.amount_total_cents), (50, 50, cents(0..50)));
}

#[tokio::test]
async fn lines_whose_batch_was_undone_between_the_phases_are_imported_after_all() {
    let (app, dir) = app_and_dir().await;
    let earlier = ledger_file(&dir, "eerder.xlsx", 0..60);
    let earlier_batch = import(&app.db, &earlier, ImportOptions::default()).await.summary.batch.unwrap();
    let file = ledger_file(&dir, "grootboek.xlsx", 0..100);
    let gate = WriteGate::default();
    let opts = ImportOptions { gate_before_write: Some(gate.clone()), ..Default::default() };
    let db = app.db.clone();
    let running = tokio::spawn(async move { import(&db, &file, opts).await });
    gate.reached.notified().await;
    // The read phase found lines 0..60 stored by the earlier batch, which is now undone.
    assert_eq!(store::imports::undo_batch(&app.db, earlier_batch, "test-finance").await.unwrap(), 60);
    gate.resume.notify_one();
    let out = running.await.unwrap();
    let s = &out.summary;
    assert_eq!((s.rows_imported, s.rows_duplicate), (100, 0));
    assert!(s.duplicates.is_empty());
    assert_eq!(s.amount_total, Money::from_cents(cents(0..100)));
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap(), (100, cents(0..100)));
}

#[tokio::test]
async fn lines_are_attributed_by_the_rules_as_they_are_when_the_import_writes() {
    use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
    use taalbudget::domain::funding::{FundingStream, StreamKind};
    let (app, dir) = app_and_dir().await;
    let mut streams = Vec::new();
    for code in ["OUD", "NIEUW"] {
        let s = FundingStream {
            id: 0,
            code: code.into(),
            name: format!("Bron {code}"),
            kind: StreamKind::Other,
            cohorts: vec![],
            spend_from: taalbudget::domain::dates::parse_iso("2024-01-01").unwrap(),
            spend_until: None,
            carry_over: false,
            notes: String::new(),
        };
        streams.push(store::funding::create_stream(&app.db, &s, "test").await.unwrap());
    }
    let rule = |stream_id| store::attribution::NewRule {
        name: format!("Regel {stream_id}"),
        criteria: Criteria { cost_centre: Pattern::exact("KP6100"), ..Default::default() },
        stream_id,
        budget_line_id: None,
        contract: ContractChoice::None,
    };
    let (old_rule, _) = store::attribution::add_rule(&app.db, &rule(streams[0]), "test").await.unwrap();
    let file = ledger_file(&dir, "grootboek.xlsx", 0..100);
    let gate = WriteGate::default();
    let opts = ImportOptions { gate_before_write: Some(gate.clone()), ..Default::default() };
    let db = app.db.clone();
    let running = tokio::spawn(async move { import(&db, &file, opts).await });
    gate.reached.notified().await;
    // The lines were attributed to OUD as they were read; now the rule sends them to NIEUW.
    store::attribution::delete_rule(&app.db, old_rule, "test").await.unwrap();
    let (new_rule, _) = store::attribution::add_rule(&app.db, &rule(streams[1]), "test").await.unwrap();
    gate.resume.notify_one();
    assert_eq!(running.await.unwrap().summary.rows_imported, 100);
    let by_stream: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT a.stream_id, a.rule_id, COUNT(*), SUM(e.amount_cents) FROM ledger_attribution a
         JOIN ledger_entry e ON e.id = a.ledger_entry_id GROUP BY a.stream_id, a.rule_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(by_stream, vec![(streams[1], new_rule, 100, cents(0..100))]);
}

/// An app whose database gives up after `busy_timeout` of waiting for the write lock instead of 10 s, so a test
/// can meet a busy database quickly; and the directory that holds the database.
async fn app_with_busy_timeout(busy_timeout: Duration) -> (TestApp, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let dir_path = dir.path().to_path_buf();
    store::connect(&path).await.unwrap().close().await;
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(&path)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(busy_timeout);
    let db = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), path.clone());
    config.secure_cookies = false;
    let app = App::with_db(config, db.clone()).await.unwrap();
    let addr = app.addr;
    let state = app.state.clone();
    tokio::spawn(app.serve());
    (TestApp::serving(addr, db, state, path, dir), dir_path)
}

#[tokio::test]
async fn a_busy_database_answers_503_with_retry_after_and_saves_nothing() {
    let (app, _) = app_with_busy_timeout(Duration::from_millis(300)).await;
    app.login_as(Role::ContractManager).await;
    let token = app.csrf().await;
    let lock = hold_write_lock(&app.db).await;

    // A save: the handler's own statement meets the lock.
    let r = app
        .client
        .post(app.url("/aanbieders"))
        .form(&[("name", "Taalhuis Zuid"), ("kvk", "12345678"), ("active", "on"), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    assert!(r.text().await.unwrap().contains(BUSY_PAGE));

    // The same for a JSON client.
    let r = app
        .client
        .post(app.url("/aanbieders"))
        .header("accept", "application/json")
        .form(&[("name", "Taalhuis Zuid"), ("kvk", "12345678"), ("active", "on"), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!((body["status"].as_u64(), body["error"].as_str()), (Some(503), Some(BUSY_PAGE)));

    // A fresh browser's first page stores no session (its login form's token sits in a signed cookie), so it
    // is served while another job holds the write lock.
    let r = client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    release(lock).await;
    let providers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider").fetch_one(&app.db).await.unwrap();
    assert_eq!(providers, 0, "nothing half-saved");
    // And the same requests succeed once the database is free.
    let r = client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.post_form("/aanbieders", &[("name", "Taalhuis Zuid"), ("kvk", "12345678"), ("active", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// What a client saw: each request's name and status.
type Seen = Vec<(&'static str, StatusCode)>;

/// Posts `fields` with the CSRF token of the page at `form`, as a browser would; None when a page failed.
async fn submit(me: &TestApp, seen: &mut Seen, form: &str, to: &str, fields: &[(&str, &str)]) -> Option<String> {
    let (status, page) = me.get_html(form).await;
    seen.push(("formulier", status));
    let token = extract_csrf(&page)?;
    let mut all = fields.to_vec();
    all.push(("_csrf", &token));
    let r = me.client.post(me.url(to)).form(&all).send().await.unwrap();
    seen.push(("opslaan", r.status()));
    (r.status() == StatusCode::SEE_OTHER).then(|| location(&r))
}

#[tokio::test]
async fn an_import_that_cannot_get_the_write_lock_in_time_says_so_and_writes_nothing() {
    let (app, dir) = app_with_busy_timeout(Duration::from_millis(300)).await;
    let file = ledger_file(&dir, "grootboek.xlsx", 0..50);
    let lock = hold_write_lock(&app.db).await;
    let err = try_import(&app.db, &file, ImportOptions::default()).await.unwrap_err();
    release(lock).await;
    assert!(matches!(err, engine::ImportError::Busy), "{err:?}");
    assert_eq!(
        err.to_string(),
        "een ander werk slaat nu gegevens op en de import kon niet langer wachten; er is niets geïmporteerd. \
         Probeer het over enkele seconden opnieuw"
    );
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap(), (0, 0));
    let batches: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_batch").fetch_one(&app.db).await.unwrap();
    assert_eq!(batches, 0);
}

/// One of the concurrent clients: logs in, creates its provider, then until `done` reads pages, saves its
/// provider with the version it read (a lost-update check), and logs in again on a fresh browser now and then.
/// Stops at the first failure. Returns every status it got, its provider and how many saves succeeded.
async fn client_at_work(base: TestApp, n: usize, done: Arc<AtomicBool>) -> (Seen, i64, u32) {
    let username = format!("cm{n:02}");
    let (name, kvk) = (format!("Aanbieder {n}"), format!("9000{n:04}"));
    let mut seen = Vec::new();
    let mut me = base.other_browser();
    let login = [("username", username.as_str()), ("password", PASSWORD)];
    if submit(&me, &mut seen, "/login", "/login", &login).await.is_none() {
        return (seen, 0, 0);
    }
    let created = [("name", name.as_str()), ("kvk", &kvk), ("active", "on")];
    let Some(at) = submit(&me, &mut seen, "/aanbieders/nieuw", "/aanbieders", &created).await else {
        return (seen, 0, 0);
    };
    let id: i64 = at.trim_start_matches("/aanbieders/").split('?').next().unwrap().parse().unwrap();
    let mut saves = 0u32;
    let mut round = 0;
    while !done.load(Ordering::Relaxed) || round < 3 {
        round += 1;
        if round % 4 == 0 {
            me = base.other_browser();
            if submit(&me, &mut seen, "/login", "/login", &login).await.is_none() {
                break;
            }
        }
        let (status, _) = me.get_html("/aanbieders").await;
        seen.push(("lijst", status));
        let edit = format!("/aanbieders/{id}/bewerken");
        let (status, form) = me.get_html(&edit).await;
        seen.push(("bewerken", status));
        let Some(version) = form.split("name=\"version\" value=\"").nth(1).and_then(|v| v.split('"').next()) else {
            break;
        };
        let notes = format!("ronde {round}");
        let fields =
            [("name", name.as_str()), ("kvk", &kvk), ("active", "on"), ("notes", &notes), ("version", version)];
        if submit(&me, &mut seen, &edit, &format!("/aanbieders/{id}"), &fields).await.is_none() {
            break;
        }
        saves += 1;
    }
    (seen, id, saves)
}

#[tokio::test]
async fn twenty_users_keep_working_while_another_process_imports_a_large_ledger() {
    // The server waits at most 5 s for the write lock (10 s in production). The import below holds the lock for
    // about 1 s when it takes it only to write (its pause included), up to 3 s in a debug build while the other
    // tests of this binary load both cores; holding it while it reads the file, as it did before, took well over
    // 5 s and made requests fail.
    let (app, dir) = app_with_busy_timeout(Duration::from_secs(5)).await;
    for n in 0..20 {
        app.add_user(&format!("cm{n:02}"), Role::ContractManager).await;
    }
    let file = ledger_file(&dir, "groot.xlsx", 0..100_000);
    let db_path = dir.join("test.db");
    // The import runs as its own process, as `taalbudget import` beside a running server, and holds the write
    // lock for 1 s more before its commit, so the clients certainly meet it.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&db_path)
        .args(["import", "ledger"])
        .arg(&file)
        .args(["--template", "standaard-grootboek", "--json"])
        .env(taalbudget::import::cli::PAUSE_ENV, "1")
        .env("TAALBUDGET_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..20).map(|n| tokio::spawn(client_at_work(app.other_browser(), n, done.clone()))).collect();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    done.store(true, Ordering::Relaxed);
    let import_secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "import failed: {stderr}");
    assert!(stderr.contains("PAUZE VOOR COMMIT"), "the import held the write lock for its pause");
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(summary["rows_imported"], 100_000);

    let mut requests = 0;
    for c in clients {
        let (seen, id, saves) = c.await.unwrap();
        requests += seen.len();
        let failed: Vec<_> = seen.iter().filter(|(_, s)| !(s.is_success() || s.is_redirection())).collect();
        assert!(failed.is_empty(), "every request succeeds: {failed:?}");
        // Every save is stored: the version counts the creation and each save.
        let (version, notes): (i64, String) = sqlx::query_as("SELECT version, notes FROM provider WHERE id = ?")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(version, 1 + saves as i64);
        if saves > 0 {
            assert_eq!(notes, format!("ronde {saves}"));
        }
    }
    eprintln!("import {import_secs:.1} s beside {requests} requests of 20 clients");
    assert!(requests > 20 * 6);
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap(), (100_000, cents(0..100_000)));
}
