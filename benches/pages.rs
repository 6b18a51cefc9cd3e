//! Every page fast at ten times a big city's data (issue #21). Builds ten years of data for ten times a large
//! municipality straight into SQLite (1,000,000 ledger lines, 50 contracts, 30 providers, 10,000 placements,
//! about 300,000 progress reports and 20,000 exam attempts, 5 funding streams, quality plans, scores,
//! follow-up actions, results and marks; the aggregates through the app's own triggers), starts the real server
//! on a local port and asks for every GET route of the route table with 16 concurrent logged-in clients: as
//! admin, and the pages that differ per role as those roles. Prints p50/p95 per page, slowest first, and exits
//! with 1 when a page is over its target (p95 <= 100 ms; <= 50 ms for the pages issue #21 names).
//!
//! `cargo bench --bench pages`. Environment:
//! - TAALBUDGET_BENCH_REQUESTS: measured requests per page (default 32), after 3 warm-up requests not counted;
//! - TAALBUDGET_BENCH_DATA=demo: the demo data set instead (`taalbudget demo`);
//! - TAALBUDGET_BENCH_ONLY: measure only the pages whose URL contains this text, or one of several separated by
//!   `|`; a text ending in `$` must end the URL (`/$` is the start page alone). All routes are still filled in;
//! - TAALBUDGET_BENCH_LINES: fewer ledger lines, for a quick check of the benchmark itself.
//!
//! The generated database is kept in target/bench-data/ and rebuilt when [`DATA_VERSION`] or the scale changes;
//! each run works on a copy.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use common::{env_or, exec, measure, ms, percentile, Scale, NOW};
use taalbudget::app::App;
use taalbudget::config::Config;
use taalbudget::demo::DEMO_LOGINS;
use taalbudget::store::{self, Db};

/// Bump when the generated data changes, so a cached database is rebuilt (3: the audit trail in time order).
const DATA_VERSION: u32 = 3;
const CLIENTS: usize = 16;
const WARM_UP: usize = 3;
/// A page whose first answer takes longer is measured by one more answer alone.
const SLOW: Duration = Duration::from_secs(2);
const LAST_MONTH: &str = "2026-11";

/// Pages whose p95 must stay within 50 ms (the rest: 100 ms).
const FAST_PAGES: &[&str] =
    &["/scorecard", "/aansluiting", "/", "/toerekening", "/financiering", "/plaatsingen", "/contracten"];

fn scale() -> Scale {
    Scale {
        providers: 30,
        contracts: 50,
        placements: 10_000,
        first_year: 2017,
        years: 10,
        ledger_lines: env_or("TAALBUDGET_BENCH_LINES", 1_000_000),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let over = runtime.block_on(run());
    std::process::exit(if over { 1 } else { 0 });
}

/// Placements over ten years: one in five on the big contract 2; routes as the contract allows; cohort by
/// start year; the ones past their planned end completed or (one in five) dropped out after ten months.
fn placement_select(s: &Scale) -> String {
    let months = s.years * 12 - 6;
    format!(
        "SELECT printf('K-%06d', i), cohort, route, c, start, planned,
                CASE WHEN planned >= '2026-12-01' THEN 'ongoing' WHEN i % 5 = 1 THEN 'dropped_out' ELSE 'completed' END,
                CASE WHEN planned >= '2026-12-01' THEN NULL WHEN i % 5 = 1 THEN date(start, '+10 months') ELSE planned END
         FROM (SELECT i, c, route, start, cohort, date(start, CASE route WHEN 'z' THEN '+34 months' ELSE '+38 months' END) AS planned
               FROM (SELECT i, c, start,
                            CASE c % 3 WHEN 1 THEN 'z' WHEN 0 THEN 'b1' ELSE CASE WHEN i % 4 = 0 THEN 'z' ELSE 'b1' END END AS route,
                            CASE WHEN start >= '2022-01-01' THEN CASE i % 10 WHEN 0 THEN 'elip' WHEN 1 THEN 'other' ELSE 'wi2021' END
                                 ELSE CASE i % 10 WHEN 0 THEN 'elip' ELSE 'wi2013' END END AS cohort
                     FROM (SELECT i, CASE WHEN i % 5 = 0 THEN 2 ELSE 1 + i % {contracts} END AS c,
                                  printf('%04d-%02d-%02d', {first} + ((i * 37) % {months}) / 12, 1 + ((i * 37) % {months}) % 12, 1 + i % 28) AS start
                           FROM n)))",
        contracts = s.contracts,
        first = s.first_year,
    )
}

/// A monthly progress report per placement from its start month to its end (or last month), with attendance,
/// absence, levels each quarter, and exam attempts: B1 reading, listening and speaking in month 15 (one in
/// eleven fails reading twice and passes the third time), Z the KNM part in month 12.
async fn progress(db: &Db, s: &Scale) {
    let last = LAST_MONTH.split('-').map(|x| x.parse::<i64>().unwrap()).collect::<Vec<_>>();
    let last_idx = last[0] * 12 + last[1] - 1;
    let idx =
        |d: &str| format!("(CAST(strftime('%Y', {d}) AS INTEGER) * 12 + CAST(strftime('%m', {d}) AS INTEGER) - 1)");
    exec(
        db,
        &format!(
            "BEGIN;
             WITH RECURSIVE k(m) AS (SELECT 0 UNION ALL SELECT m + 1 FROM k WHERE m < 39),
             p AS (SELECT id, route, contract_id, start_date, {s_idx} AS s, min({e_idx}, {last_idx}) AS e FROM placement),
             r AS (SELECT p.*, m, s + m AS ix, CASE route WHEN 'z' THEN 3000 ELSE 3600 END AS offered,
                          CASE WHEN contract_id = 7 THEN 55 + (id + m) % 20 ELSE 80 + (id * 3 + m) % 19 END AS rate
                   FROM p JOIN k ON s + m <= e),
             q AS (SELECT r.*, min(offered, ((offered * rate / 100 + 49) / 50) * 50) AS attended,
                          printf('%04d-%02d', ix / 12, ix % 12 + 1) AS period,
                          CASE WHEN m % 3 <> 2 THEN ''
                               WHEN route = 'z' THEN CASE WHEN m < 10 THEN 'A0' ELSE 'A1' END
                               WHEN m < 6 THEN 'A1' WHEN m < 14 OR id % 3 = 0 THEN 'A2' ELSE 'B1' END AS level
                   FROM r)
             INSERT INTO progress_report (placement_id, provider_id, period, period_start, period_end, first_lesson,
                 offered_x100, attended_x100, absence_x100, absence_reason, catch_up_x100,
                 level_reading, level_listening, level_speaking, level_writing, remarks, created_by, created_at)
             SELECT id, {provider}, period, period || '-01', date(period || '-01', '+1 month', '-1 day'),
                    CASE WHEN m = 0 THEN start_date END, offered, attended, offered - attended,
                    CASE WHEN offered = attended THEN ''
                         ELSE CASE (id + m) % 10 WHEN 0 THEN 'illness' WHEN 1 THEN 'illness' WHEN 2 THEN 'illness' WHEN 3 THEN 'illness'
                              WHEN 4 THEN 'illness' WHEN 5 THEN 'appointment' WHEN 6 THEN 'appointment' WHEN 7 THEN 'own_fault'
                              WHEN 8 THEN 'own_fault' ELSE 'other' END END,
                    CASE WHEN offered > attended AND (id + m) % 10 < 5 THEN min(200, offered - attended) ELSE 0 END,
                    level, level, level, level, '', 'bench', {NOW}
             FROM q ORDER BY id, m;
             WITH x(route, m, part, rule) AS (VALUES ('b1', 15, 'reading', 'first'), ('b1', 15, 'listening', 'listening'),
                 ('b1', 15, 'speaking', 'speaking'), ('b1', 17, 'reading', 'fail'), ('b1', 19, 'reading', 'pass'), ('z', 12, 'knm', 'knm'))
             INSERT INTO exam_attempt (report_id, placement_id, part, exam_date, passed)
             SELECT r.id, r.placement_id, x.part, date(r.period_start, '+9 days'),
                    CASE x.rule WHEN 'first' THEN p.id % 11 <> 4 AND p.id % 7 <> 0 WHEN 'fail' THEN 0 WHEN 'pass' THEN 1
                                WHEN 'listening' THEN p.id % 6 <> 0 WHEN 'speaking' THEN p.id % 5 <> 0 ELSE p.id % 8 <> 0 END
             FROM progress_report r JOIN placement p ON p.id = r.placement_id
             JOIN x ON x.route = p.route AND {r_idx} - {p_idx} = x.m
             WHERE x.m < 17 OR p.id % 11 = 4;
             COMMIT;",
            s_idx = idx("start_date"),
            e_idx = idx("coalesce(status_date, planned_end)"),
            r_idx = idx("r.period_start"),
            p_idx = idx("p.start_date"),
            provider = s.provider_sql("contract_id"),
        ),
    )
    .await;
}

/// Marks, quality requirements, plans (two versions per contract) with scores, follow-up actions, yearly
/// results, attribution rules, creditor links, closed years, one register import batch and the audit trail of
/// every placement and report.
async fn quality_and_the_rest(db: &Db, s: &Scale) {
    let (first, last) = (s.first_year, s.last_year());
    let mut sql = String::from("BEGIN;\n");
    // Every provider holds a mark; provider 5's lapsed in 2025, provider 9's runs out next month.
    sql += &format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {p})
         INSERT INTO certification (provider_id, status, decision_date, valid_from, valid_until, registration_number, created_at)
         SELECT i, 'fixed_term', '{y}-06-01', '{y}-07-01',
                CASE i WHEN 5 THEN '2025-06-30' WHEN 9 THEN '2027-01-31' ELSE '2028-06-30' END, printf('BOW-%04d', i), {NOW}
         FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {p})
         INSERT INTO creditor_link (creditor_number, provider_id) SELECT '2' || printf('%05d', i), i FROM n;\n",
        p = s.providers,
        y = first - 1,
    );
    sql += &format!(
        "INSERT INTO quality_criteria_set (id, tender, version_no, title, frozen_at, created_at)
         VALUES (1, 'Taalonderwijs {first}', 1, 'Extra kwaliteitseisen', {NOW}, {NOW});
         INSERT INTO quality_criterion (set_id, code, title, scoring, knock_out, norm_metric, norm_comparison, norm_hundredths, seq) VALUES
           (1, 'K-01', 'Lessen door geregistreerde NT2-docenten', 'met_partly', 1, 'nt2_share', 'at_least', 8000, 1),
           (1, 'K-02', 'Groepen van hoogstens 16 deelnemers', 'scale_1_5', 0, 'group_size', 'at_most', 1600, 2),
           (1, 'K-03', 'Slagingspercentage per examenonderdeel', 'scale_1_5', 0, 'pass_rate', 'at_least', 6000, 3),
           (1, 'K-04', 'Tevredenheid van deelnemers', 'scale_1_5', 0, 'satisfaction', 'at_least', 700, 4),
           (1, 'K-05', 'Beperkte uitval', 'met_partly', 0, 'dropout_rate', 'at_most', 1500, 5),
           (1, 'K-06', 'Doorlopende leerlijn in het kwaliteitsplan', 'met_partly', 1, NULL, NULL, NULL, 6),
           (1, 'K-07', 'Praktijkopdrachten in de Z-route', 'met_partly', 0, NULL, NULL, NULL, 7);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {c}), v(no) AS (VALUES (1), (2))
         INSERT INTO quality_plan_version (contract_id, version_no, criteria_set_id, submitted_on, status, file_name, document_kind,
             size_bytes, sha256, document, decided_by, decided_on, created_at, updated_at)
         SELECT i, no, 1, printf('%04d-02-01', {first} + (no - 1) * 5), CASE WHEN no = 2 AND i % 10 = 0 THEN 'in_review' ELSE 'approved' END,
                'kwaliteitsplan.pdf', 'pdf', length(doc), lower(hex(randomblob(32))), doc,
                CASE WHEN no = 2 AND i % 10 = 0 THEN NULL ELSE 'bench' END,
                CASE WHEN no = 2 AND i % 10 = 0 THEN NULL ELSE printf('%04d-03-01', {first} + (no - 1) * 5) END, {NOW}, {NOW}
         FROM n, v, (SELECT CAST('%PDF-1.4' || char(10) || '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj' || char(10)
                                  || '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj' || char(10)
                                  || 'trailer << /Root 1 0 R >>' || char(10) || '%%EOF' || char(10) AS BLOB) AS doc);
         INSERT INTO quality_assessment (plan_version_id, criterion_id, score, finding, assessor, assessed_on)
         SELECT v.id, c.id, CASE c.scoring WHEN 'met_partly' THEN CASE WHEN (v.id + c.id) % 6 = 0 THEN 'partly' ELSE 'met' END
                                          ELSE CAST(3 + (v.id + c.id) % 3 AS TEXT) END,
                'Beoordeeld op het plan', 'bench', v.decided_on
         FROM quality_plan_version v, quality_criterion c WHERE v.decided_on IS NOT NULL;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {p} * 5)
         INSERT INTO follow_up_action (provider_id, plan_version_id, source, description, owner, created_on, due_date, status, created_at, updated_at)
         SELECT 1 + (i - 1) % {p}, NULL, CASE WHEN i % 2 = 0 THEN 'assessment' ELSE 'meeting' END,
                'Verbeterpunt ' || i || ': voortgangsgesprekken vastleggen', 'Coördinator', printf('%04d-%02d-01', {last} - i % 3, 1 + i % 12),
                printf('%04d-%02d-28', {last} - i % 3 + 1, 1 + i % 12),
                CASE i % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'in_progress' WHEN 2 THEN 'done' ELSE 'cancelled' END, {NOW}, {NOW}
         FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {p}),
                        y(year) AS (SELECT {first} UNION ALL SELECT year + 1 FROM y WHERE year < {last} - 1),
                        r(route) AS (VALUES ('b1'), ('z'))
         INSERT INTO quality_result (provider_id, year, route, started, completed, dropped_out, pass_lezen, pass_luisteren,
             pass_schrijven, pass_spreken, pass_knm, satisfaction, nt2_share, group_size, created_at, updated_at)
         SELECT i, year, route, 40 + i % 7, 25 + year % 5, 3 + i % 5, 6000 + (i * 13 + year) % 30 * 100, 7000 + i % 20 * 100,
                6500 + year % 10 * 100, 6200 + i % 9 * 100, 8000, 700 + i % 20 * 10, 8000 + i % 15 * 100, 1200 + i % 6 * 100, {NOW}, {NOW}
         FROM n, y, r;\n",
        c = s.contracts,
        p = s.providers,
    );
    sql += &format!(
        "INSERT INTO attribution_rule (position, name, cost_centre, gl_account, creditor_number, stream_id, contract_via_creditor, created_at) VALUES
           (1, 'Inburgering SPUK', 'KP-1', '4301', '', 1, 1, {NOW}),
           (2, 'En ondertussen', 'KP-2', '4301', '', 2, 1, {NOW}),
           (3, 'ELIP', 'KP-3', '', '', 3, 0, {NOW}),
           (4, 'Eigen middelen', 'KP-4', '', '', 4, 0, {NOW}),
           (5, 'Participatie', 'KP-5', '', '', 5, 0, {NOW});
         WITH RECURSIVE y(year) AS (SELECT {first} UNION ALL SELECT year + 1 FROM y WHERE year < {last} - 3)
         INSERT INTO year_close (year, closed_by, closed_at) SELECT year, 'bench', printf('%04d-03-31T12:00:00Z', year + 1) FROM y;
         INSERT INTO import_batch (id, kind, template, file_name, file_sha256, imported_by, imported_at, rows_read, rows_imported)
         VALUES (1000, 'placements', 'standaard-plaatsingen', 'plaatsingen.xlsx', printf('%064d', 1000), 'bench', {NOW}, 500, 500);
         UPDATE placement SET batch_id = 1000 WHERE id <= 500;
         -- In the order it was written, as the app appends it: by time.
         INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json)
         SELECT * FROM (
             SELECT created_at AS at, 'bench', 'create', 'placement', id, NULL, json_object('client_number', client_number, 'route', route) FROM placement
             UNION ALL
             SELECT period_end || 'T09:00:00Z', 'bench', 'create', 'progress_report', id, NULL, json_object('period', period) FROM progress_report)
         ORDER BY at;
         COMMIT;"
    );
    exec(db, &sql).await;
}

/// A basic forecast scenario (shared with the overview benchmark's shape).
async fn scenario(db: &Db) -> i64 {
    use taalbudget::domain::forecast::{validate_scenario, ScenarioForm};
    let scenario = validate_scenario(&ScenarioForm {
        name: "Basis".into(),
        tariff_index: "2,5".into(),
        duration_b1: "30".into(),
        duration_z: "24".into(),
        duration_education: "36".into(),
        inflow: "2026; asiel; 250; 300; 350; 40; 45; 15; 12\n2026; gezin; 375; 460; 550; 55; 30; 15; 10\n2027; asiel; 250; 300; 350; 40; 45; 15; 12\n2027; gezin; 375; 460; 550; 55; 30; 15; 10".into(),
        ..Default::default()
    })
    .unwrap();
    store::overview::create_scenario(db, &scenario, "bench").await.unwrap()
}

async fn users(db: &Db) {
    for (username, role, password) in DEMO_LOGINS {
        let hash = taalbudget::auth::password::hash(password.to_string()).await.unwrap();
        store::users::create(db, username, *role, &hash, "bench").await.unwrap();
    }
}

/// The ten-times data set, built into `path` and written whole (no write-ahead log beside it) to `out`.
async fn generate(path: &Path, out: &Path) {
    let s = scale();
    let db = store::connect(path).await.unwrap();
    let t = Instant::now();
    common::registers(&db, &s, 5, &placement_select(&s)).await;
    println!("  registers: {}", ms(t.elapsed()));
    let t = Instant::now();
    progress(&db, &s).await;
    println!("  progress reports and exam attempts: {}", ms(t.elapsed()));
    let t = Instant::now();
    let first = s.first_year;
    // SPUK (wi2021) from 2022, ENO before it; ELIP, own funds and participation funds every year.
    common::ledger(
        &db,
        &s,
        &format!(
            "CASE id % 5 WHEN 0 THEN CASE WHEN id > {} THEN 1 ELSE 2 END ELSE 1 + id % 5 END",
            (2022 - first) * ((s.ledger_lines + s.years - 1) / s.years)
        ),
    )
    .await;
    println!("  ledger and attributions (through the aggregate triggers): {}", ms(t.elapsed()));
    let t = Instant::now();
    quality_and_the_rest(&db, &s).await;
    users(&db).await;
    scenario(&db).await;
    exec(&db, "PRAGMA optimize; ANALYZE;").await;
    println!("  quality, rules, audit trail, users, scenario: {}", ms(t.elapsed()));
    assert_eq!(
        store::overview::spend(&db).await.unwrap(),
        store::overview::spend_fresh(&db).await.unwrap(),
        "aggregates equal the ledger"
    );
    sqlx::query("VACUUM INTO ?").bind(out.to_string_lossy().to_string()).execute(&db).await.unwrap();
    db.close().await;
}

/// A database with the data set asked for: a fresh copy of the cached one, built first when missing.
async fn database(dir: &Path) -> (PathBuf, &'static str) {
    let demo = std::env::var("TAALBUDGET_BENCH_DATA").is_ok_and(|v| v == "demo");
    let path = dir.join("pages-bench.db");
    if demo {
        let db = store::connect(&path).await.unwrap();
        let t = Instant::now();
        taalbudget::demo::fill(&db).await.unwrap();
        println!("  demo data: {}", ms(t.elapsed()));
        db.close().await;
        return (path, "demo");
    }
    let s = scale();
    let cache_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&cache_dir).unwrap();
    let cached = cache_dir.join(format!("pages-v{DATA_VERSION}-{}.db", s.ledger_lines));
    if !cached.exists() {
        println!("building the data set (kept in {})", cached.display());
        let building = cache_dir.join("pages-building.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
        }
        generate(&building, &cached).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
        }
    }
    std::fs::copy(&cached, &path).unwrap();
    (path, "10x")
}

/// The rows the pages are asked about: the biggest ones, so each page shows what it shows at its largest.
struct Ids {
    contract: i64,
    provider: i64,
    placement: i64,
    ledger_batch: i64,
    register_batch: i64,
    user: i64,
    stream: i64,
    scenario: i64,
    set: i64,
    criterion: i64,
    plan: i64,
    plan_contract: i64,
    quality_provider: i64,
    client: String,
    year: i32,
    period: String,
    backup: i64,
}

async fn one(db: &Db, what: &str, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_optional(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the data set has no {what} to ask a page about ({sql})"))
}

async fn ids(db: &Db, backup_dir: &Path) -> Ids {
    let contract =
        one(db, "contract", "SELECT contract_id FROM placement GROUP BY contract_id ORDER BY COUNT(*) DESC LIMIT 1")
            .await;
    let placement = one(
        db,
        "placement with reports",
        "SELECT placement_id FROM progress_report GROUP BY placement_id ORDER BY COUNT(*) DESC, placement_id LIMIT 1",
    )
    .await;
    let plan = one(db, "quality plan", "SELECT id FROM quality_plan_version ORDER BY id DESC LIMIT 1").await;
    let year = one(db, "ledger year", "SELECT MAX(fiscal_year) - 1 FROM ledger_entry").await as i32;
    // The backup page's download: a small file in the backup folder (a download's time is its size).
    std::fs::create_dir_all(backup_dir).unwrap();
    let file = backup_dir.join("taalbudget-bench.db");
    std::fs::write(&file, b"SQLite format 3\0").unwrap();
    let backup: i64 = sqlx::query_scalar(
        "INSERT INTO backup_log (made_at, made_by, origin, path, bytes, tables, rows, schema_version)
         VALUES ('2026-01-01T00:00:00Z', 'bench', 'web', ?, 16, 1, 1, 1) RETURNING id",
    )
    .bind(file.to_string_lossy().to_string())
    .fetch_one(db)
    .await
    .unwrap();
    Ids {
        contract,
        provider: one(db, "provider", &format!("SELECT provider_id FROM contract WHERE id = {contract}")).await,
        placement,
        ledger_batch: one(db, "ledger batch", "SELECT id FROM import_batch WHERE kind = 'ledger' ORDER BY rows_imported DESC LIMIT 1").await,
        register_batch: one(db, "register batch", "SELECT id FROM import_batch WHERE kind <> 'ledger' ORDER BY rows_imported DESC LIMIT 1").await,
        user: one(db, "user", "SELECT id FROM app_user WHERE role = 'admin' LIMIT 1").await,
        stream: one(db, "funding stream", "SELECT stream_id FROM ledger_attribution GROUP BY stream_id ORDER BY COUNT(*) DESC LIMIT 1").await,
        scenario: one(db, "scenario", "SELECT id FROM scenario ORDER BY id LIMIT 1").await,
        set: one(db, "criteria set", "SELECT id FROM quality_criteria_set ORDER BY id LIMIT 1").await,
        criterion: one(db, "criterion", "SELECT id FROM quality_criterion ORDER BY set_id, seq LIMIT 1").await,
        plan,
        plan_contract: one(db, "plan's contract", &format!("SELECT contract_id FROM quality_plan_version WHERE id = {plan}")).await,
        quality_provider: one(db, "provider with results", "SELECT provider_id FROM quality_result GROUP BY provider_id ORDER BY COUNT(*) DESC LIMIT 1").await,
        client: sqlx::query_scalar("SELECT client_number FROM placement WHERE id = ?").bind(placement).fetch_one(db).await.unwrap(),
        year,
        period: sqlx::query_scalar("SELECT MAX(period) FROM progress_report r JOIN placement p ON p.id = r.placement_id WHERE p.contract_id = ? AND length(period) = 7")
            .bind(contract)
            .fetch_one(db)
            .await
            .unwrap(),
        backup,
    }
}

/// The URLs that stand for one GET route: (URL, what it shows). `None` for a route this benchmark does not know,
/// which stops it: a new route must be added here.
fn urls(path: &str, i: &Ids, overview: &str, jobs: &Jobs) -> Option<Vec<String>> {
    let y = i.year;
    let u = |v: &[String]| Some(v.to_vec());
    let one = |s: String| Some(vec![s]);
    match path {
        "/health" | "/ready" | "/login" | "/static/style.css" | "/static/favicon.svg" | "/static/print.css" => {
            one(path.to_string())
        }
        "/" => one("/".into()),
        "/beheer" | "/beheer/gebruikers" | "/beheer/audit" | "/beheer/audit.csv" | "/beheer/backups" => {
            one(path.into())
        }
        "/beheer/gebruikers/{id}" => one(format!("/beheer/gebruikers/{}", i.user)),
        "/beheer/backups/{id}/download" => one(format!("/beheer/backups/{}/download", i.backup)),
        "/historie/{entity}/{id}" => {
            u(&[format!("/historie/contract/{}", i.contract), format!("/historie/placement/{}", i.placement)])
        }
        "/toerekening" => one(path.into()),
        "/toerekening/wachtrij" => u(&["/toerekening/wachtrij".into(), "/toerekening/wachtrij?pagina=2".into()]),
        "/aansluiting" => u(&["/aansluiting".into(), format!("/aansluiting?jaar={y}")]),
        "/aansluiting/regels" => u(&[
            format!("/aansluiting/regels?jaar={y}&bron=geen"),
            format!("/aansluiting/regels?jaar={y}&bron={}&contract={}", i.stream, i.contract),
        ]),
        "/aansluiting/signalen" => one(format!("/aansluiting/signalen?jaar={y}&soort=zonder_contract")),
        "/contracten" => u(&["/contracten".into(), "/contracten?route=b1".into()]),
        "/contracten/nieuw" => one(path.into()),
        "/contracten/{id}"
        | "/contracten/{id}/betalingen"
        | "/contracten/{id}/voorwaarden"
        | "/contracten/{id}/bewerken" => one(path.replace("{id}", &i.contract.to_string())),
        "/contracten/{id}/plaatsingen" => {
            let base = path.replace("{id}", &i.contract.to_string());
            u(&[base.clone(), format!("{base}?pagina=2")])
        }
        "/financiering" => u(&["/financiering".into(), format!("/financiering?jaar={y}")]),
        "/financiering/nieuw" | "/financiering/doelgroepen" => one(path.into()),
        "/financiering/inrichting.xlsx" => one(format!("{path}?jaar={y}")),
        "/financiering/{id}" | "/financiering/{id}/bewerken" => one(path.replace("{id}", &i.stream.to_string())),
        "/import" | "/registers/import" => one(path.into()),
        "/import/sjablonen/{name}" => one("/import/sjablonen/standaard-grootboek".into()),
        "/registers/import/sjablonen/{name}" => one("/registers/import/sjablonen/standaard-plaatsingen".into()),
        "/import/taken/{job}" | "/import/taken/{job}/afgewezen.xlsx" => one(path.replace("{job}", &jobs.ledger)),
        "/registers/import/taken/{job}" | "/registers/import/taken/{job}/afgewezen.xlsx" => {
            one(path.replace("{job}", &jobs.registers))
        }
        "/import/batches/{id}" => one(format!("/import/batches/{}", i.ledger_batch)),
        "/import/batches/{id}/regels" => u(&[
            format!("/import/batches/{}/regels", i.ledger_batch),
            format!("/import/batches/{}/regels?pagina=100", i.ledger_batch),
        ]),
        "/registers/import/batches/{id}" => one(format!("/registers/import/batches/{}", i.register_batch)),
        "/factuurcontrole" => {
            u(&["/factuurcontrole".into(), format!("/factuurcontrole?contract={}&periode={}", i.contract, i.period)])
        }
        "/keurmerken" => one(path.into()),
        "/meerjarenoverzicht" => u(&[
            "/meerjarenoverzicht".into(),
            format!("/meerjarenoverzicht?{overview}"),
            format!("/meerjarenoverzicht?{overview}&weergave=alle"),
        ]),
        "/meerjarenoverzicht/detail" => one(jobs.detail.clone()),
        "/meerjarenoverzicht/afdrukken"
        | "/meerjarenoverzicht/export.csv"
        | "/meerjarenoverzicht/export.xlsx"
        | "/meerjarenoverzicht/export.json" => one(format!("{path}?{overview}")),
        "/snapshots" => one(path.into()),
        "/plaatsingen" => u(&[
            "/plaatsingen".into(),
            "/plaatsingen?pagina=2".into(),
            format!("/plaatsingen?contract={}", i.contract),
            "/plaatsingen?status=lopend".into(),
            "/plaatsingen?signaal=derde-poging".into(),
            format!("/plaatsingen?klantnummer={}", i.client),
        ]),
        "/plaatsingen/nieuw" => one(path.into()),
        "/plaatsingen/{id}" | "/plaatsingen/{id}/bewerken" | "/plaatsingen/{id}/tijdlijn" => {
            one(path.replace("{id}", &i.placement.to_string()))
        }
        "/aanbieders" => u(&["/aanbieders".into(), "/aanbieders?keurmerk=aandacht".into()]),
        "/aanbieders/nieuw" => one(path.into()),
        "/aanbieders/{id}" | "/aanbieders/{id}/bewerken" => one(path.replace("{id}", &i.provider.to_string())),
        "/kwaliteit" | "/kwaliteit/acties" | "/kwaliteit/eisen" => one(path.into()),
        "/kwaliteit/aanbieders/{id}" | "/kwaliteit/aanbieders/{id}/rapport.xlsx" => {
            one(path.replace("{id}", &i.quality_provider.to_string()))
        }
        "/kwaliteit/eisen/{id}" => one(format!("/kwaliteit/eisen/{}", i.set)),
        "/kwaliteit/eisen/{id}/eisen/{criterion_id}" => {
            one(format!("/kwaliteit/eisen/{}/eisen/{}", i.set, i.criterion))
        }
        "/kwaliteit/contracten/{id}" => one(format!("/kwaliteit/contracten/{}", i.plan_contract)),
        "/kwaliteit/plannen/{id}" | "/kwaliteit/plannen/{id}/document" => {
            one(path.replace("{id}", &i.plan.to_string()))
        }
        "/scorecard" => {
            u(&["/scorecard".into(), "/scorecard?periode=kwartaal".into(), "/scorecard?periode=maand".into()])
        }
        "/scorecard.xlsx" => one(path.into()),
        "/scenarios" | "/scenarios/nieuw" => one(path.into()),
        "/scenarios/{id}" => one(format!("/scenarios/{}", i.scenario)),
        "/account" | "/account/wachtwoord" | "/account/meldingen" | "/meldingen" | "/beheer/meldingen" => {
            one(path.into())
        }
        "/agenda/{secret}" => one(format!("/agenda/{CALENDAR_SECRET}.ics")),
        "/instroom" | "/indicatoren/definities" => one(path.into()),
        "/indicatoren" => u(&["/indicatoren".into(), format!("/indicatoren?jaar={}", y - 1)]),
        "/indicatoren/voortgangsbrief.xlsx" | "/indicatoren/voortgangsbrief.json" => {
            one(format!("{path}?jaar={}", y - 1))
        }
        // The API, as a script with the admin's token (the `api` clients).
        "/api/openapi.json" | "/api/docs" => one(path.into()),
        "/api/problemen/{soort}" => one("/api/problemen/niet-gevonden".into()),
        "/api/v1/providers"
        | "/api/v1/contracts"
        | "/api/v1/placements"
        | "/api/v1/funding-streams"
        | "/api/v1/allocations"
        | "/api/v1/budget-lines"
        | "/api/v1/imports"
        | "/api/v1/ocds/releases" => one(path.into()),
        "/api/v1/providers/{id}" => one(format!("/api/v1/providers/{}", i.provider)),
        "/api/v1/contracts/{id}" => one(format!("/api/v1/contracts/{}", i.contract)),
        "/api/v1/imports/{id}" => one(format!("/api/v1/imports/{}", i.ledger_batch)),
        "/api/v1/reconciliation/{year}" => one(format!("/api/v1/reconciliation/{y}")),
        "/api/v1/overview" => one(format!("/api/v1/overview?from={}&to={}", y - 4, y + 2)),
        "/api/v1/scorecard" => one("/api/v1/scorecard".into()),
        _ => None,
    }
}

/// What only the running server can give: import jobs (the ledger and placements templates' own examples,
/// uploaded and checked) and the overview's first drill-down link.
struct Jobs {
    ledger: String,
    registers: String,
    detail: String,
}

async fn upload_example(client: &reqwest::Client, base: &str, area: &str, template: &str) -> String {
    let example = client.get(format!("{base}{area}/sjablonen/{template}")).send().await.unwrap();
    assert_eq!(example.status(), reqwest::StatusCode::OK, "{template} example");
    let bytes = example.bytes().await.unwrap().to_vec();
    let page = client.get(format!("{base}{area}")).send().await.unwrap().text().await.unwrap();
    let at =
        page.find("name=\"_csrf\" value=\"").expect("csrf field on the import page") + "name=\"_csrf\" value=\"".len();
    let token = page[at..].split('"').next().unwrap().to_string();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("sjabloon", template.to_string())
        .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name(format!("{template}.xlsx")));
    let r = client.post(format!("{base}{area}")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "upload of {template}");
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let job = location.rsplit('/').next().unwrap().to_string();
    // Wait until the check has finished, so the page shows the preview.
    for _ in 0..600 {
        let body = client.get(format!("{base}{location}")).send().await.unwrap().text().await.unwrap();
        if body.contains("afgewezen.xlsx") || body.contains("bevestigen") {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the import job {location} did not finish its check");
}

struct Measured {
    role: &'static str,
    url: String,
    p50: Duration,
    p95: Duration,
    target: Duration,
    alone: bool,
}

/// The admin's calendar address in the bench (a fixed secret: the data set is the bench's own).
const CALENDAR_SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn target_of(url: &str) -> Duration {
    let path = url.split('?').next().unwrap();
    if FAST_PAGES.contains(&path) || (path == "/meerjarenoverzicht" && url.contains("weergave=alle")) {
        Duration::from_millis(50)
    } else {
        Duration::from_millis(100)
    }
}

async fn run() -> bool {
    let requests: usize = env_or("TAALBUDGET_BENCH_REQUESTS", 32);
    let only = std::env::var("TAALBUDGET_BENCH_ONLY").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    println!("pages benchmark");
    let (path, data) = database(dir.path()).await;
    let db = store::connect(&path).await.unwrap();
    let counts: Vec<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_entry UNION ALL SELECT COUNT(*) FROM contract UNION ALL SELECT COUNT(*) FROM provider
         UNION ALL SELECT COUNT(*) FROM placement UNION ALL SELECT COUNT(*) FROM progress_report
         UNION ALL SELECT COUNT(*) FROM exam_attempt UNION ALL SELECT COUNT(*) FROM funding_stream
         UNION ALL SELECT COUNT(DISTINCT fiscal_year) FROM ledger_entry UNION ALL SELECT COUNT(*) FROM quality_plan_version
         UNION ALL SELECT COUNT(*) FROM follow_up_action UNION ALL SELECT COUNT(*) FROM audit_log",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    println!(
        "  data ({data}): {} ledger lines, {} contracts, {} providers, {} placements, {} progress reports, {} exam attempts, {} funding streams, {} years; {} quality plans, {} follow-up actions, {} audit rows",
        counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7], counts[8], counts[9], counts[10]
    );
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), path.clone());
    config.secure_cookies = false;
    config.backup_dir = dir.path().join("backups");
    let ids = ids(&db, &config.backup_dir).await;
    let first_year: i64 = sqlx::query_scalar("SELECT MIN(fiscal_year) FROM ledger_entry").fetch_one(&db).await.unwrap();
    let overview = format!(
        "van={first_year}&tot={}&scenario={}&variant=verwacht&prognose_vanaf={}",
        ids.year + 2,
        ids.scenario,
        ids.year + 2
    );
    let app = App::with_db(config, db.clone()).await.unwrap();
    let base = format!("http://{}", app.addr);
    tokio::spawn(app.serve());

    // 16 clients per role, logged in.
    let t = Instant::now();
    let mut clients: BTreeMap<&'static str, Vec<Arc<reqwest::Client>>> = BTreeMap::new();
    for (username, role, password) in DEMO_LOGINS {
        for _ in 0..CLIENTS {
            clients.entry(role.code()).or_default().push(Arc::new(common::login(&base, username, password).await));
        }
    }
    // The API is for scripts with a token, never a session: 16 clients with the admin's bearer token.
    let token = store::tokens::create(&db, ids.user, "bench", 30, "bench").await.unwrap().secret;
    let mut bearer = reqwest::header::HeaderMap::new();
    bearer.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    clients.insert(
        "api",
        (0..CLIENTS)
            .map(|_| {
                let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
                Arc::new(c.default_headers(bearer.clone()).build().unwrap())
            })
            .collect(),
    );
    store::notifications::set_calendar(
        &db,
        ids.user,
        &taalbudget::web::notifications::secret_hash(CALENDAR_SECRET),
        "bench",
    )
    .await
    .unwrap();
    // The login form is for visitors who are not signed in (a signed-in user is sent on).
    clients.insert(
        "anonymous",
        (0..CLIENTS)
            .map(|_| Arc::new(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()))
            .collect(),
    );
    let admin = &clients["admin"][0];
    let jobs = Jobs {
        ledger: upload_example(admin, &base, "/import", "standaard-grootboek").await,
        registers: upload_example(admin, &base, "/registers/import", "standaard-plaatsingen").await,
        detail: {
            let page =
                admin.get(format!("{base}/meerjarenoverzicht?{overview}&weergave=contract")).send().await.unwrap();
            let page = page.text().await.unwrap();
            let at = page.find("href=\"/meerjarenoverzicht/detail?").expect("a drill-down link on the overview") + 6;
            page[at..].split('"').next().unwrap().replace("&amp;", "&")
        },
    };
    println!("  {} logins and two import jobs: {}", CLIENTS * DEMO_LOGINS.len(), ms(t.elapsed()));

    // Every GET route, as admin; the pages that differ per role as each role that may see them.
    let mut pages: Vec<(&'static str, String)> = Vec::new();
    let mut unknown = Vec::new();
    for e in taalbudget::web::routes().entries().iter().filter(|e| e.method == Method::GET) {
        match urls(e.path, &ids, &overview, &jobs) {
            Some(list) => {
                let role = match e.path {
                    "/login" => "anonymous",
                    p if p.starts_with("/api/v1/") => "api",
                    _ => "admin",
                };
                pages.extend(list.into_iter().map(|u| (role, u)))
            }
            None => unknown.push(e.path),
        }
    }
    assert!(
        unknown.is_empty(),
        "the pages benchmark does not know how to ask for these routes (add them to urls()): {unknown:?}"
    );
    for (_, role, _) in DEMO_LOGINS.iter().filter(|(_, r, _)| r.code() != "admin") {
        for url in [
            "/".to_string(),
            format!("/contracten/{}/plaatsingen", ids.contract),
            format!("/aansluiting/signalen?jaar={}&soort=zonder_contract", ids.year),
        ] {
            pages.push((role.code(), url));
        }
    }
    pages.retain(|(_, u)| {
        only.split('|').any(|o| match o.strip_suffix('$') {
            Some(end) => u.ends_with(end),
            None => u.contains(o),
        })
    });

    println!(
        "  {} pages, {CLIENTS} concurrent clients, {requests} measured requests per page after {WARM_UP} warm-up requests (not counted; a page slower than {} on its first request alone is measured by one more request alone)",
        pages.len(),
        ms(SLOW)
    );
    let started = Instant::now();
    let mut results = Vec::new();
    for (role, url) in pages {
        let list = &clients[role];
        let first = Instant::now();
        let mut full = format!("{base}{url}");
        let mut r = list[0].get(&full).send().await.unwrap();
        let mut url = url;
        if r.status() == reqwest::StatusCode::SEE_OTHER && role != "admin" {
            // A role whose start page is another page: measure where it is sent.
            url = r.headers()["location"].to_str().unwrap().to_string();
            full = format!("{base}{url}");
            r = list[0].get(&full).send().await.unwrap();
        }
        if r.status() == reqwest::StatusCode::FORBIDDEN && !["admin", "anonymous", "api"].contains(&role) {
            continue; // a page this role may not see
        }
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{role} {url}");
        let _ = r.bytes().await.unwrap();
        // A page that takes seconds alone is far over any target: one more answer alone is its figure, or a run
        // at ten times the data would take hours.
        let slow = first.elapsed() > SLOW;
        let times = if slow {
            // The first answer may have filled a cache; the second is the page as the next visitor sees it.
            let second = Instant::now();
            let _ = list[0].get(&full).send().await.unwrap().bytes().await.unwrap();
            vec![second.elapsed()]
        } else {
            for _ in 1..WARM_UP {
                let _ = list[0].get(&full).send().await.unwrap().bytes().await.unwrap();
            }
            measure(list, &full, requests).await.1
        };
        let (p50, p95) = (percentile(&times, 50), percentile(&times, 95));
        eprintln!(
            "    {role} {url}: p50 {}, p95 {}{}",
            ms(p50),
            ms(p95),
            if slow { " (one request alone)" } else { "" }
        );
        results.push(Measured { role, target: target_of(&url), url, p50, p95, alone: slow });
    }
    results.sort_by_key(|m| std::cmp::Reverse(m.p95));
    println!("\n  | page | role | p50 | p95 | target |");
    println!("  |---|---|---|---|---|");
    let mut over = 0;
    for m in &results {
        let flag = if m.p95 > m.target {
            over += 1;
            " **over**"
        } else {
            ""
        };
        let alone = if m.alone { " (one request alone)" } else { "" };
        println!("  | `{}` | {} | {} | {}{alone} | {}{flag} |", m.url, m.role, ms(m.p50), ms(m.p95), ms(m.target));
    }
    let mut p95s: Vec<Duration> = results.iter().map(|m| m.p95).collect();
    p95s.sort();
    if !p95s.is_empty() {
        println!("\n  median p95 of {} pages: {}", p95s.len(), ms(p95s[p95s.len() / 2]));
    }
    println!("  {} of {} pages over target; measured in {}", over, results.len(), ms(started.elapsed()));
    over > 0
}
