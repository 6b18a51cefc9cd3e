//! The server's life: version with schema version, refusing a database from a newer version, and a
//! SIGTERM during a long write that lets it finish (all or nothing, never half).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use taalbudget::app::App;
use taalbudget::config::Config;
use taalbudget::store::{self, backup};

use crate::backup::{dump, open_plain};
use crate::helpers::{client, extract_csrf, location};

const BIN: &str = env!("CARGO_BIN_EXE_taalbudget");

#[test]
fn version_names_the_program_and_the_schema_version_it_carries() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("taalbudget {} (schemaversie {})\n", env!("CARGO_PKG_VERSION"), store::binary_schema_version())
    );
}

async fn pretend_newer(path: &Path) {
    let db = store::connect(path).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
         VALUES (9999, 'uit de toekomst', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
}

#[tokio::test]
async fn startup_refuses_a_database_from_a_newer_version_before_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taalbudget.db");
    pretend_newer(&path).await;
    let before = dump(&open_plain(&path).await).await;

    let e = App::build(Config::new("127.0.0.1:0".parse().unwrap(), path.clone())).await.err().unwrap().to_string();
    assert!(e.contains("heeft schemaversie 9999") && e.contains("nieuwere taalbudget"), "{e}");
    assert!(e.contains(&format!("deze versie kent schemaversie {}", store::binary_schema_version())), "{e}");

    let out = Command::new(BIN).arg("--db").arg(&path).args(["--listen", "127.0.0.1:0", "serve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("schemaversie 9999"));
    assert!(dump(&open_plain(&path).await).await == before, "nothing was migrated or written");
}

/// Starts `taalbudget serve` and returns it with the address it printed.
fn start_server(db: &Path, backups: &Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(["--listen", "127.0.0.1:0", "--secure-cookies", "false", "--backup-dir"])
        .arg(backups)
        .arg("serve")
        .env_remove("TAALBUDGET_CONFIG")
        .env("TAALBUDGET_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the server stopped before it said where it runs");
        if let Some(rest) = line.trim().strip_prefix("taalbudget draait op http://") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_long_write_lets_it_finish_and_leaves_each_change_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taalbudget.db");
    let backups = dir.path().join("backups");
    let added = Command::new(BIN)
        .arg("--db")
        .arg(&path)
        .args(["user", "add", "--username", "beheerder", "--role", "admin"])
        .env("TAALBUDGET_PASSWORD", "een-lang-wachtwoord")
        .output()
        .unwrap();
    assert!(added.status.success());
    // Ballast, so that a backup takes a while.
    let db = store::connect(&path).await.unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
         INSERT INTO audit_log (at, actor, action, entity, entity_id, after_json)
         SELECT '2026-01-01T00:00:00Z', 'ballast', 'create', 'ballast', i, printf('%0400d', i) FROM n",
    )
    .execute(&db)
    .await
    .unwrap();
    db.close().await;

    let (mut server, addr) = start_server(&path, &backups);
    let browser = client();
    let login = browser.get(format!("http://{addr}/login")).send().await.unwrap().text().await.unwrap();
    let token = extract_csrf(&login).unwrap();
    let r = browser
        .post(format!("http://{addr}/login"))
        .form(&[("username", "beheerder"), ("password", "een-lang-wachtwoord"), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // While it runs: the backup command copies the live database; restore refuses to replace it.
    let copy = dir.path().join("tijdens.db");
    let out = Command::new(BIN).arg("--db").arg(&path).arg("backup").arg(&copy).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN).arg("--db").arg(&path).arg("restore").arg(&copy).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("draaiende taalbudget-server") && err.contains("er is niets gewijzigd"), "{err}");

    let home = browser.get(format!("http://{addr}/")).send().await.unwrap().text().await.unwrap();
    let token = extract_csrf(&home).unwrap();

    let (b, a, t) = (browser.clone(), addr.clone(), token.clone());
    let backup_request = tokio::spawn(async move {
        b.post(format!("http://{a}/beheer/backups")).form(&[("_csrf", t.as_str())]).send().await
    });
    let mut writes = Vec::new();
    for n in 0..10 {
        let (b, a, t) = (browser.clone(), addr.clone(), token.clone());
        writes.push(tokio::spawn(async move {
            let name = format!("Aanbieder tijdens afsluiten {n}");
            let kvk = format!("{:08}", 20_000_000 + n);
            let r = b
                .post(format!("http://{a}/aanbieders"))
                .form(&[("name", name.as_str()), ("kvk", kvk.as_str()), ("_csrf", t.as_str())])
                .send()
                .await;
            (name, r.map(|r| r.status()))
        }));
    }
    // Wait until the backup is being written (its file exists), then ask the server to stop.
    while !backup_request.is_finished() && std::fs::read_dir(&backups).map(|d| d.count()).unwrap_or(0) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());

    let response = backup_request.await.unwrap().expect("the request in flight gets its answer");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/beheer/backups?melding=backup");
    let mut answered = Vec::new();
    for w in writes {
        let (name, status) = w.await.unwrap();
        if let Ok(status) = status {
            assert_eq!(status, StatusCode::SEE_OTHER, "{name}");
            answered.push(name);
        }
    }
    let exit = tokio::task::spawn_blocking(move || server.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "a clean exit after SIGTERM: {exit:?}");

    let db = store::connect(&path).await.unwrap();
    let logged: Vec<String> = sqlx::query_scalar("SELECT path FROM backup_log").fetch_all(&db).await.unwrap();
    assert_eq!(logged.len(), 2, "the command-line backup and the web backup");
    let logged: Vec<String> =
        sqlx::query_scalar("SELECT path FROM backup_log WHERE origin = 'web'").fetch_all(&db).await.unwrap();
    let info = backup::inspect(Path::new(&logged[0])).await.expect("the backup is whole");
    assert!(info.tables["audit_log"] >= 60_000);
    let files: Vec<_> = std::fs::read_dir(&backups).unwrap().collect();
    assert_eq!(files.len(), 1, "no partial file beside it");
    let providers: Vec<String> = sqlx::query_scalar("SELECT name FROM provider").fetch_all(&db).await.unwrap();
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'provider'").fetch_one(&db).await.unwrap();
    assert_eq!(providers.len() as i64, audited, "every saved provider has its audit row, none is half-saved");
    for name in &answered {
        assert!(providers.contains(name), "{name} was confirmed, so it is saved");
    }
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&db).await.unwrap();
    assert_eq!(integrity, "ok");
}
