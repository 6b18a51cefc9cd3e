//! Backup and restore: consistent copies while the server writes, restores that compare table by table,
//! and every refusal leaving things as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use reqwest::StatusCode;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use taalbudget::app::App;
use taalbudget::auth::roles::Role;
use taalbudget::config::Config;
use taalbudget::store::backup::{self, BackupError, RestoreError};
use taalbudget::store::{self, audit, Db};

use crate::helpers::{location, spawn_app, spawn_app_with};

/// Opens any SQLite file read-only, without migrating it.
pub async fn open_plain(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite:").unwrap().filename(path).read_only(true);
    SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap()
}

/// Every row of every table, as JSON arrays in rowid order (key order for a table without rowid).
pub async fn dump(db: &SqlitePool) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?)").bind(&t).fetch_all(db).await.unwrap();
        let list = columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(", ");
        // A table without rowid (ledger_queue) is ordered by its key, which is all of its columns.
        let without_rowid: bool =
            sqlx::query_scalar("SELECT wr FROM pragma_table_list WHERE name = ?").bind(&t).fetch_one(db).await.unwrap();
        let order = if without_rowid { list.clone() } else { "rowid".to_string() };
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT json_array({list}) FROM \"{t}\" ORDER BY {order}"))
            .fetch_all(db)
            .await
            .unwrap();
        out.insert(t, rows);
    }
    out
}

/// One provider and its audit row, in one transaction, as every change is written.
pub async fn write_provider(db: &Db, n: usize) {
    let mut tx = store::begin(db).await.unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO provider (name, kvk, created_at, updated_at) VALUES (?, ?, '2026-01-01', '2026-01-01') RETURNING id",
    )
    .bind(format!("Aanbieder {n}"))
    .bind(format!("{:08}", 10_000_000 + n))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    audit::record(&mut tx, "test", "create", "provider", id, None, Some(&serde_json::json!({"n": n}))).await.unwrap();
    tx.commit().await.unwrap();
}

fn sha(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[tokio::test]
async fn a_backup_made_while_another_task_writes_is_consistent_and_restores_table_for_table() {
    let app = spawn_app().await;
    for n in 0..50 {
        write_provider(&app.db, n).await;
    }
    let writer_db = app.db.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_writer = stop.clone();
    let writer = tokio::spawn(async move {
        let mut n = 50;
        while !stop_writer.load(std::sync::atomic::Ordering::Relaxed) {
            write_provider(&writer_db, n).await;
            n += 1;
            tokio::task::yield_now().await;
        }
        n
    });
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("kopie.db");
    let report = backup::backup(&app.db, &target).await.expect("backup succeeds while writing");
    // Keep writing a little after the copy, so the source has surely moved on.
    write_provider(&app.db, 100_000).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written >= 50);

    // The copy is one snapshot: every provider it holds has its audit row, and its counts are the report's.
    let copy = open_plain(&target).await;
    let providers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider").fetch_one(&copy).await.unwrap();
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'provider'").fetch_one(&copy).await.unwrap();
    assert_eq!(providers, audited);
    assert_eq!(report.tables["provider"], providers);
    assert_eq!(report.schema_version, store::binary_schema_version());
    assert_eq!(report.bytes, std::fs::metadata(&target).unwrap().len());
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider").fetch_one(&app.db).await.unwrap();
    assert!(live > providers, "the live database moved on after the copy");
    let copied = dump(&copy).await;
    copy.close().await;

    // Restore into a fresh path: every table equal to the copy, plus one audit row for the restore.
    let fresh = dir.path().join("hersteld").join("taalbudget.db");
    std::fs::create_dir_all(fresh.parent().unwrap()).unwrap();
    let restored = backup::restore(&target, &fresh, "test").await.expect("restore into a fresh path");
    assert_eq!(restored.previous, None);
    assert_eq!(restored.schema_version, store::binary_schema_version());
    let db = open_plain(&fresh).await;
    let mut after = dump(&db).await;
    db.close().await;
    let mut audit_after = after.remove("audit_log").unwrap();
    let mut expected = copied.clone();
    let audit_before = expected.remove("audit_log").unwrap();
    assert_eq!(after, expected, "every table but the audit log is identical");
    let restore_row = audit_after.pop().unwrap();
    assert!(restore_row.contains("'restore'") && restore_row.contains("kopie.db"), "{restore_row}");
    assert_eq!(audit_after, audit_before);
    assert_eq!(copied.len(), report.tables.len());
}

#[tokio::test]
async fn a_backup_refuses_an_existing_or_unwritable_target_and_writes_nothing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("bestaat.db");
    std::fs::write(&existing, b"oude inhoud").unwrap();
    match backup::backup(&app.db, &existing).await {
        Err(e @ BackupError::Exists(_)) => assert!(e.to_string().contains("bestaat al"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&existing).unwrap(), b"oude inhoud");

    let missing_dir = dir.path().join("nergens").join("x.db");
    assert!(matches!(backup::backup(&app.db, &missing_dir).await, Err(BackupError::NoDirectory(_))));
    assert!(!missing_dir.exists());

    // A file where a directory should be: not writable, whoever runs the test (also root).
    let not_a_dir = existing.join("x.db");
    match backup::backup(&app.db, &not_a_dir).await {
        Err(e @ BackupError::NotWritable { .. }) => assert!(e.to_string().contains("kan niet worden geschreven")),
        other => panic!("{other:?}"),
    }
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the pre-existing file");
}

#[test]
fn the_backup_command_refuses_an_existing_target_with_exit_code_1_and_prints_what_it_wrote_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("taalbudget.db");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("TAALBUDGET_CONFIG")
            .output()
            .unwrap()
    };
    let new_user = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&db)
        .args(["user", "add", "--username", "beheerder", "--role", "admin"])
        .env("TAALBUDGET_PASSWORD", "een-lang-wachtwoord")
        .output()
        .unwrap();
    assert!(new_user.status.success());
    let target = dir.path().join("b.db");
    let out = run(&["backup", target.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("Back-up geschreven: {}", target.display())), "{text}");
    assert!(text.contains(&format!("schemaversie: {}", store::binary_schema_version())), "{text}");
    assert!(text.contains("app_user") && text.contains("integriteit in orde"), "{text}");
    let before = sha(&target);

    let again = run(&["backup", target.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8(again.stderr).unwrap();
    assert!(err.contains("bestaat al") && err.contains("er is niets geschreven"), "{err}");
    assert_eq!(sha(&target), before);
}

/// A running server on its own database, as `serve` starts it: holding the database's lock.
async fn running_server(dir: &Path) -> (PathBuf, Db) {
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.join("live.db"));
    config.secure_cookies = false;
    let app = App::build(config).await.unwrap();
    let db = app.state.db.clone();
    tokio::spawn(app.serve());
    (dir.join("live.db"), db)
}

async fn make_backup(db: &Db, path: &Path) {
    backup::backup(db, path).await.unwrap();
}

#[tokio::test]
async fn restore_refuses_bad_files_and_a_running_server_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (live, db) = running_server(dir.path()).await;
    write_provider(&db, 1).await;
    let good = dir.path().join("goed.db");
    make_backup(&db, &good).await;

    // A server holds the database.
    match backup::restore(&good, &live, "test").await {
        Err(e @ RestoreError::InUse(_)) => assert!(e.to_string().contains("draaiende taalbudget-server"), "{e}"),
        other => panic!("{other:?}"),
    }
    let providers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider").fetch_one(&db).await.unwrap();
    assert_eq!(providers, 1);

    // For the file checks: a stopped installation's database.
    let target = dir.path().join("doel.db");
    let target_db = store::connect(&target).await.unwrap();
    write_provider(&target_db, 7).await;
    target_db.close().await;
    // Compared by content: SQLite may still fold its write-ahead log into the file after the pool closed.
    let target_hash = dump(&open_plain(&target).await).await;

    let text = dir.path().join("notities.txt");
    std::fs::write(&text, "dit is geen database, maar wel lang genoeg om een kop te hebben").unwrap();
    assert!(matches!(backup::restore(&text, &target, "test").await, Err(RestoreError::NotSqlite(_))));
    assert_eq!(dump(&open_plain(&target).await).await, target_hash, "after: not sqlite");

    let empty = dir.path().join("leeg.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(backup::restore(&empty, &target, "test").await, Err(RestoreError::NotSqlite(_))));

    assert_eq!(dump(&open_plain(&target).await).await, target_hash, "after: empty");
    let missing = dir.path().join("bestaat-niet.db");
    assert!(matches!(backup::restore(&missing, &target, "test").await, Err(RestoreError::Unreadable(_))));

    assert_eq!(dump(&open_plain(&target).await).await, target_hash, "after: missing");
    // Another program's SQLite database.
    let other = dir.path().join("ander.db");
    {
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap().filename(&other).create_if_missing(true);
        let pool = SqlitePoolOptions::new().connect_with(options).await.unwrap();
        sqlx::query("CREATE TABLE recept (naam TEXT)").execute(&pool).await.unwrap();
        pool.close().await;
    }
    match backup::restore(&other, &target, "test").await {
        Err(e @ RestoreError::NotTaalbudget(_)) => assert!(e.to_string().contains("geen taalbudget-database")),
        other => panic!("{other:?}"),
    }

    assert_eq!(dump(&open_plain(&target).await).await, target_hash, "after: other");
    // Corrupt: a good backup with its pages overwritten after the header.
    let corrupt = dir.path().join("kapot.db");
    let mut bytes = std::fs::read(&good).unwrap();
    let len = bytes.len();
    for b in &mut bytes[100..len.min(100 + 4096 * 3)] {
        *b = 0xA5;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    match backup::restore(&corrupt, &target, "test").await {
        Err(e @ RestoreError::Corrupt { .. }) => assert!(e.to_string().contains("beschadigd"), "{e}"),
        other => panic!("{other:?}"),
    }

    assert_eq!(dump(&open_plain(&target).await).await, target_hash, "after: corrupt");
    // From a newer taalbudget: a migration this binary does not have.
    let newer = dir.path().join("nieuwer.db");
    make_backup(&db, &newer).await;
    {
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap().filename(&newer);
        let pool = SqlitePoolOptions::new().connect_with(options).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
             VALUES (9999, 'uit de toekomst', CURRENT_TIMESTAMP, 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    match backup::restore(&newer, &target, "test").await {
        Err(e @ RestoreError::TooNew { .. }) => {
            assert!(e.to_string().contains("schemaversie 9999") && e.to_string().contains("nieuwere"), "{e}")
        }
        other => panic!("{other:?}"),
    }

    // A migration with other contents than this binary's.
    let altered = dir.path().join("gewijzigd.db");
    make_backup(&db, &altered).await;
    {
        let options = SqliteConnectOptions::from_str("sqlite:").unwrap().filename(&altered);
        let pool = SqlitePoolOptions::new().connect_with(options).await.unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1").execute(&pool).await.unwrap();
        pool.close().await;
    }
    match backup::restore(&altered, &target, "test").await {
        Err(e @ RestoreError::Mismatch { version: 1, .. }) => assert!(e.to_string().contains("migratie 1"), "{e}"),
        other => panic!("{other:?}"),
    }

    assert_eq!(dump(&open_plain(&target).await).await, target_hash, "every refusal left the database untouched");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert!(!names.iter().any(|n| n.contains("voor-herstel") || n.contains("herstel-tmp")), "{names:?}");

    // And a good backup over a stopped installation: done, the old database kept aside.
    let report = backup::restore(&good, &target, "test").await.unwrap();
    let kept = report.previous.expect("the replaced database is kept");
    assert_eq!(dump(&open_plain(&kept).await).await, target_hash);
    let restored = store::connect(&target).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM provider").fetch_all(&restored).await.unwrap();
    assert_eq!(names, ["Aanbieder 1"]);
}

#[tokio::test]
async fn admins_make_and_download_backups_from_the_web_and_see_the_last_one() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let (status, page) = app.get_html("/beheer/backups").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Er is nog geen back-up gemaakt."), "{page}");

    let r = app.post_form("/beheer/backups", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/beheer/backups?melding=backup");
    let (_, page) = app.get_html("/beheer/backups?melding=backup").await;
    assert!(page.contains("De back-up is gemaakt en gecontroleerd"), "{page}");
    assert!(page.contains("Laatste back-up: <strong>"), "{page}");
    assert!(page.contains("test-admin"));
    assert!(page.contains("href=\"/beheer/backups/1/download\""), "{page}");

    let r = app.get("/beheer/backups/1/download").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"taalbudget-"));
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with(b"SQLite format 3\0"));

    // The downloaded file restores; the signed-in sessions it holds do not come back with it.
    let dir = tempfile::tempdir().unwrap();
    let downloaded = dir.path().join("download.db");
    std::fs::write(&downloaded, &body).unwrap();
    let info = backup::inspect(&downloaded).await.unwrap();
    assert!(info.tables["tower_sessions"] >= 1, "the admin was signed in when the backup was made");
    let fresh = dir.path().join("taalbudget.db");
    backup::restore(&downloaded, &fresh, "test").await.unwrap();
    let restored = open_plain(&fresh).await;
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(&restored).await.unwrap();
    assert_eq!(sessions, 0);
    restored.close().await;
    assert_eq!(app.audit_count("backup").await, 2, "the backup and its download are audited");

    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    assert_eq!(finance.get("/beheer/backups/1/download").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(finance.get("/beheer/backups").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/beheer/backups/99/download").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_web_backup_into_an_unusable_directory_says_so_and_logs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("geen-map");
    std::fs::write(&blocker, b"x").unwrap();
    let app = spawn_app_with(|c| c.backup_dir = blocker.join("backups")).await;
    app.login_as(Role::Admin).await;
    let r = app.post_form("/beheer/backups", &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("De back-up is niet gemaakt") && page.contains("kan niet worden aangemaakt"), "{page}");
    assert_eq!(app.audit_count("backup").await, 0);
}
