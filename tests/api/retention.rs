//! Retention of participant data: client numbers past the period become tokens, every amount and count
//! stays the same, and the original numbers are gone from the database file, audit log included.
//!
//! The `placement` table arrives in a later migration; these tests declare their own participant table,
//! exactly as `PARTICIPANT_TABLES` declares the real one.

use taalbudget::store::retention::{self, ParticipantTable, PARTICIPANT_TABLES, TOKEN_PREFIX};
use taalbudget::store::{self, audit, Db};
use time::macros::date;

const TABLE: &[ParticipantTable] =
    &[ParticipantTable { table: "test_plaatsing", client_column: "client_number", ended_column: "end_date" }];

/// (client number, tariff in cents, end date): two long-gone participants (one with two placements), one
/// whose old placement is past the period but whose newer one still runs, one that ended recently.
const ROWS: &[(&str, i64, Option<&str>)] = &[
    ("KLANT-OUD-4711", 450_000, Some("2015-06-30")),
    ("KLANT-OUD-4711", 125_050, Some("2016-01-31")),
    ("KLANT-OUD-0815", 980_001, Some("2017-12-31")),
    ("KLANT-LOPEND-22", 300_000, Some("2014-03-01")),
    ("KLANT-LOPEND-22", 310_000, None),
    ("KLANT-RECENT-33", 222_222, Some("2025-05-01")),
];

async fn fixture(db: &Db) {
    sqlx::query(
        "CREATE TABLE test_plaatsing (id INTEGER PRIMARY KEY, client_number TEXT NOT NULL, tariff_cents INTEGER NOT NULL,
         end_date TEXT) STRICT",
    )
    .execute(db)
    .await
    .unwrap();
    sqlx::query("CREATE INDEX test_plaatsing_client ON test_plaatsing (client_number)").execute(db).await.unwrap();
    for (client, cents, end) in ROWS {
        let mut tx = store::begin(db).await.unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO test_plaatsing (client_number, tariff_cents, end_date) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(client)
        .bind(cents)
        .bind(end)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        let snapshot = serde_json::json!({"client_number": client, "tariff_cents": cents, "end_date": end});
        audit::record(&mut tx, "test", "create", "placement", id, None, Some(&snapshot)).await.unwrap();
        audit::record(&mut tx, "test", "update", "placement", client, Some(&snapshot), Some(&snapshot)).await.unwrap();
        tx.commit().await.unwrap();
    }
}

/// Every figure a reconciliation could use: counts, sums per end-date year, distinct participants.
async fn figures(db: &Db) -> (i64, i64, i64, Vec<(Option<String>, i64, i64)>, i64) {
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM test_plaatsing").fetch_one(db).await.unwrap();
    let total: i64 = sqlx::query_scalar("SELECT SUM(tariff_cents) FROM test_plaatsing").fetch_one(db).await.unwrap();
    let participants: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT client_number) FROM test_plaatsing").fetch_one(db).await.unwrap();
    let per_year: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT substr(end_date, 1, 4) AS y, COUNT(*), SUM(tariff_cents) FROM test_plaatsing GROUP BY y ORDER BY y",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let audit_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(db).await.unwrap();
    (rows, total, participants, per_year, audit_rows)
}

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let mut bytes = std::fs::read(path).unwrap();
    for extra in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(extra);
        if let Ok(more) = std::fs::read(std::path::PathBuf::from(p)) {
            bytes.extend(more);
        }
    }
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn retention_replaces_old_client_numbers_everywhere_and_keeps_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taalbudget.db");
    let db = store::connect(&path).await.unwrap();
    fixture(&db).await;
    let today = date!(2026 - 11 - 25);
    let (rows, total, participants, per_year, audit_rows) = figures(&db).await;
    assert_eq!((rows, total, participants), (6, 2_387_273, 4));

    // Dry run: lists, changes nothing.
    let plan = retention::plan(&db, TABLE, 7, today).await.unwrap();
    assert_eq!(plan.cutoff, "2019-11-25");
    let due: Vec<&str> = plan.due.iter().map(|d| d.client_number.as_str()).collect();
    assert_eq!(due, ["KLANT-OUD-0815", "KLANT-OUD-4711"]);
    assert_eq!(plan.row_count(), 3);
    assert_eq!(figures(&db).await.4, audit_rows);

    let done = retention::apply(&db, TABLE, 7, today, "cli:test").await.unwrap();
    assert_eq!(done.due.len(), 2);
    assert_eq!(done.audit_rows_rewritten, 6, "three placements, each with two audit rows");

    let (rows2, total2, participants2, per_year2, audit_rows2) = figures(&db).await;
    assert_eq!((rows2, total2, participants2, per_year2), (rows, total, participants, per_year));
    assert_eq!(audit_rows2, audit_rows + 1, "one audit row records the run");

    // The same participant has the same token on both placements.
    let tokens: Vec<String> = sqlx::query_scalar(
        "SELECT client_number FROM test_plaatsing WHERE tariff_cents IN (450000, 125050) ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(tokens[0].starts_with(TOKEN_PREFIX) && tokens[0].len() == TOKEN_PREFIX.len() + 16, "{tokens:?}");
    assert_eq!(tokens[0], tokens[1]);

    let run: (String, String, String) = sqlx::query_as(
        "SELECT actor, entity_id, after_json FROM audit_log WHERE action = 'anonymise' AND entity = 'retention'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((run.0.as_str(), run.1.as_str()), ("cli:test", "2019-11-25"));
    let summary: serde_json::Value = serde_json::from_str(&run.2).unwrap();
    assert_eq!(summary["participants"], 2);
    assert_eq!(summary["rows"]["test_plaatsing"], 3);

    // The audit log is append-only again after the run.
    let refused = sqlx::query("UPDATE audit_log SET actor = 'x' WHERE id = 1").execute(&db).await;
    assert!(refused.unwrap_err().to_string().contains("het auditlog kan niet worden gewijzigd"));

    // A second run finds nothing more to do.
    assert!(retention::plan(&db, TABLE, 7, today).await.unwrap().due.is_empty());
    db.close().await;

    for gone in ["KLANT-OUD-4711", "KLANT-OUD-0815"] {
        assert!(!file_contains(&path, gone), "{gone} is still somewhere in the database file");
    }
    for kept in ["KLANT-LOPEND-22", "KLANT-RECENT-33"] {
        assert!(file_contains(&path, kept), "{kept} should still be there");
    }
}

#[tokio::test]
async fn participant_tables_that_do_not_exist_yet_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = store::connect(&dir.path().join("t.db")).await.unwrap();
    let exists: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'placement'").fetch_one(&db).await.unwrap();
    let plan = retention::plan(&db, PARTICIPANT_TABLES, 7, date!(2026 - 11 - 25)).await.unwrap();
    if exists == 0 {
        assert_eq!(plan.skipped, ["placement"]);
    }
    assert!(plan.due.is_empty());

    let wrong = &[ParticipantTable { table: "audit_log", client_column: "client_number", ended_column: "end_date" }];
    let e = retention::plan(&db, wrong, 7, date!(2026 - 11 - 25)).await.unwrap_err();
    assert!(e.to_string().contains("tabel audit_log mist de kolom client_number"), "{e}");
}

#[test]
fn the_retention_command_refuses_a_period_of_zero_or_less_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("taalbudget.db");
    for years in ["0", "-1"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
            .arg("--db")
            .arg(&db)
            .args(["--retention-years", years, "retention"])
            .env_remove("TAALBUDGET_CONFIG")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("bewaartermijn") && err.contains(&format!("{years} kan niet")), "{err}");
    }
    assert!(!db.exists(), "nothing was created");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&db)
        .args(["user", "add", "--username", "beheerder", "--role", "admin"])
        .env("TAALBUDGET_PASSWORD", "een-lang-wachtwoord")
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&db)
        .args(["retention", "--dry-run"])
        .env_remove("TAALBUDGET_CONFIG")
        .env_remove("TAALBUDGET_RETENTION_YEARS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Bewaartermijn 7 jaar") && text.contains("0 deelnemers, 0 rijen te anonimiseren"), "{text}");
}

/// On the real schema with the demo data: anonymising every finished placement leaves the reconciliation
/// of every year identical to the cent, and none of those client numbers remains in the database file.
#[tokio::test]
async fn retention_on_the_demo_keeps_every_reconciliation_figure_and_removes_the_numbers() {
    use taalbudget::report::reconciliation;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taalbudget.db");
    let db = store::connect(&path).await.unwrap();
    taalbudget::demo::fill(&db).await.unwrap();
    let years = 2022..=2026;
    let mut before = Vec::new();
    for y in years.clone() {
        before.push(serde_json::to_value(reconciliation::for_year(&db, y).await.unwrap()).unwrap());
    }
    let ended: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT client_number FROM placement WHERE status_date IS NOT NULL")
            .fetch_all(&db)
            .await
            .unwrap();
    let running: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT client_number FROM placement WHERE status_date IS NULL")
            .fetch_all(&db)
            .await
            .unwrap();
    assert!(ended.len() > 50 && !running.is_empty(), "the demo has finished and running placements");

    // Far enough ahead that every finished placement is past a one-year period.
    let done = retention::apply(&db, PARTICIPANT_TABLES, 1, date!(2040 - 01 - 01), "cli:test").await.unwrap();
    assert_eq!(done.due.len(), ended.len());
    for (i, y) in years.enumerate() {
        let after = serde_json::to_value(reconciliation::for_year(&db, y).await.unwrap()).unwrap();
        assert_eq!(after, before[i], "reconciliation {y} unchanged");
    }
    db.close().await;
    for number in ended.iter().take(40) {
        assert!(!file_contains(&path, number), "{number} is gone from the file");
    }
    assert!(file_contains(&path, &running[0]), "running placements keep their number");
}
