//! Overview speed: 5 years, 50 contracts, 5,000 placements and 1,000,000 attributed ledger lines, generated
//! straight into SQLite (multi-row INSERT ... SELECT; the attributions go in through the same triggers that
//! keep the aggregates in the app). Then the real server runs on a local port and 16 concurrent clients ask
//! for the overview page N times; p50/p95 are printed next to the time of a plain GROUP BY over the ledger
//! for the same figures. Run with `cargo bench --bench overview` (N from TAALBUDGET_BENCH_REQUESTS, default 800).

use std::time::{Duration, Instant};

use taalbudget::app::App;
use taalbudget::auth::roles::Role;
use taalbudget::config::Config;
use taalbudget::store::{self, Db};

const CLIENTS: usize = 16;
const CONTRACTS: i64 = 50;
const PLACEMENTS: i64 = 5_000;
const PASSWORD: &str = "benchmark-wachtwoord";

fn ms(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03} ms", us / 1000, us % 1000)
}

async fn exec(db: &Db, sql: &str) {
    sqlx::raw_sql(sql).execute(db).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// Providers, contracts with tariffs and milestones, streams, allocations, budget lines, placements.
async fn registers(db: &Db) {
    let now = "'2026-01-01T00:00:00Z'";
    let mut sql = String::from("BEGIN;\n");
    let providers: Vec<String> =
        (1..=CONTRACTS).map(|i| format!("({i}, 'Aanbieder {i}', '{:08}', {now}, {now})", 10_000_000 + i)).collect();
    sql += &format!("INSERT INTO provider (id, name, kvk, created_at, updated_at) VALUES {};\n", providers.join(","));
    let contracts: Vec<String> = (1..=CONTRACTS)
        .map(|i| {
            let routes = ["b1", "z", "b1,z"][(i % 3) as usize];
            format!(
                "({i}, 'BENCH-{i:03}', 'Contract {i}', {i}, '{routes}', '2022-01-01', '2027-12-31', 250000000, {now}, {now})"
            )
        })
        .collect();
    sql += &format!(
        "INSERT INTO contract (id, reference, title, provider_id, routes, start_date, initial_end_date, ceiling_cents, created_at, updated_at) VALUES {};\n",
        contracts.join(",")
    );
    let mut tariffs = Vec::new();
    let mut milestones = Vec::new();
    for i in 1..=CONTRACTS {
        for (r, base) in [("b1", 1_000_000i64), ("z", 800_000)] {
            tariffs.push(format!("({i}, '{r}', '2022-01-01', '2023-12-31', {base})"));
            tariffs.push(format!("({i}, '{r}', '2024-01-01', NULL, {})", base * 103 / 100));
            milestones.push(format!("({i}, '{r}', 1, 'Start', 4000, 'start', NULL)"));
            milestones.push(format!("({i}, '{r}', 2, 'Tussentijds', 3000, 'months', 12)"));
            milestones.push(format!("({i}, '{r}', 3, 'Afronding', 3000, 'completion', NULL)"));
        }
    }
    sql += &format!(
        "INSERT INTO tariff (contract_id, route, valid_from, valid_until, amount_cents) VALUES {};\n",
        tariffs.join(",")
    );
    sql += &format!(
        "INSERT INTO payment_milestone (contract_id, route, seq, name, share_bp, due_kind, due_months) VALUES {};\n",
        milestones.join(",")
    );
    sql += &format!(
        "INSERT INTO funding_stream (id, code, name, kind, cohorts, spend_from, carry_over, created_at, updated_at) VALUES
         (1, 'SPUK', 'SPUK inburgering', 'specific_grant', 'wi2021', '2022-01-01', 0, {now}, {now}),
         (2, 'ENO', 'En ondertussen', 'municipality_fund', 'wi2013', '2022-01-01', 1, {now}, {now}),
         (3, 'ELIP', 'ELIP', 'municipality_fund', 'elip', '2022-01-01', 1, {now}, {now}),
         (4, 'EIGEN', 'Eigen middelen', 'own_funds', '', '2022-01-01', 0, {now}, {now});
         INSERT INTO cohort_stream (cohort, stream_id) VALUES ('wi2021', 1), ('wi2013', 2), ('elip', 3), ('other', 4);\n"
    );
    let mut allocations = Vec::new();
    let mut lines = Vec::new();
    for s in 1..=4 {
        for y in 2022..=2026 {
            allocations.push(format!(
                "({s}, {y}, 'advance', {}, 'Beschikking {y}', '{y}-01-15', {now})",
                5_000_000_000i64 / s
            ));
            lines.push(format!("({s}, 'Taalonderwijs', {y}, {}, {now})", 3_000_000_000i64 / s));
        }
    }
    sql += &format!(
        "INSERT INTO allocation (stream_id, year, kind, amount_cents, reference, decided_on, created_at) VALUES {};\n",
        allocations.join(",")
    );
    sql += &format!(
        "INSERT INTO budget_line (stream_id, category, year, amount_cents, created_at) VALUES {};\n",
        lines.join(",")
    );
    let placements: Vec<String> = (1..=PLACEMENTS)
        .map(|i| {
            let contract = i % CONTRACTS + 1;
            let route = if contract % 3 == 1 { "z" } else { "b1" };
            let cohort = ["wi2021", "wi2021", "wi2013", "elip", "other"][(i % 5) as usize];
            let year = 2022 + i % 5;
            let month = 1 + i % 12;
            format!(
                "('K-{i:06}', '{cohort}', '{route}', {contract}, '{year}-{month:02}-01', '{}-{month:02}-01', 'ongoing', {now}, {now})",
                year + 2
            )
        })
        .collect();
    sql += &format!(
        "INSERT INTO placement (client_number, cohort, route, contract_id, start_date, planned_end, status, created_at, updated_at) VALUES {};\n",
        placements.join(",")
    );
    sql += "COMMIT;";
    exec(db, &sql).await;
}

/// One million ledger lines over 2022-2026, nine in ten attributed (through the aggregate triggers).
async fn ledger(db: &Db, lines: i64) {
    exec(
        db,
        "INSERT INTO import_batch (id, kind, template, file_name, file_sha256, imported_by, imported_at)
         VALUES (1, 'ledger', 'bench', 'bench.xlsx', printf('%064d', 0), 'bench', '2026-01-01T00:00:00Z')",
    )
    .await;
    exec(
        db,
        &format!(
            "BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {lines})
             INSERT INTO ledger_entry (id, batch_id, source_row, identity, booking_date, fiscal_year, period, document, gl_account,
                                       cost_centre, creditor_number, description, amount_cents)
             SELECT i, 1, i + 1, randomblob(16),
                    printf('%04d-%02d-%02d', 2022 + i % 5, 1 + i % 12, 1 + i % 28), 2022 + i % 5, 1 + i % 12,
                    'BS-' || i, '4301', 'KP-' || (i % 7), '2' || printf('%05d', 1 + i % {CONTRACTS}),
                    'Factuur ' || i, 1000 + (i * 7919) % 250000
             FROM n;
             COMMIT;"
        ),
    )
    .await;
    exec(
        db,
        &format!(
            "BEGIN;
             INSERT INTO ledger_attribution (ledger_entry_id, stream_id, budget_line_id, contract_id, source, assigned_at)
             SELECT id, 1 + id % 4, NULL, CASE WHEN id % 3 = 0 THEN NULL ELSE 1 + id % {CONTRACTS} END, 'rule', '2026-01-01T00:00:00Z'
             FROM ledger_entry WHERE id % 10 <> 0;
             COMMIT;"
        ),
    )
    .await;
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[((sorted.len() * p).div_ceil(100)).saturating_sub(1).min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let requests: usize = std::env::var("TAALBUDGET_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(800);
    // TAALBUDGET_BENCH_LINES: fewer ledger lines for a quick check of the benchmark itself.
    let ledger_lines: i64 =
        std::env::var("TAALBUDGET_BENCH_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("overview-bench.db");
    let db = store::connect(&path).await.unwrap();
    let t = Instant::now();
    registers(&db).await;
    let registers_time = t.elapsed();
    let t = Instant::now();
    ledger(&db, ledger_lines).await;
    let ledger_time = t.elapsed();
    let hash = taalbudget::auth::password::hash(PASSWORD.to_string()).await.unwrap();
    store::users::create(&db, "beleid", Role::PolicyAdviser, &hash, "bench").await.unwrap();
    let scenario = taalbudget::domain::forecast::validate_scenario(&taalbudget::domain::forecast::ScenarioForm {
        name: "Basis".into(),
        tariff_index: "2,5".into(),
        duration_b1: "30".into(),
        duration_z: "24".into(),
        duration_education: "36".into(),
        inflow: "2025; asiel; 250; 300; 350; 40; 45; 15; 12\n2025; gezin; 375; 460; 550; 55; 30; 15; 10\n2026; asiel; 250; 300; 350; 40; 45; 15; 12\n2026; gezin; 375; 460; 550; 55; 30; 15; 10".into(),
        ..Default::default()
    })
    .unwrap();
    let scenario_id = store::overview::create_scenario(&db, &scenario, "bench").await.unwrap();
    let lines: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entry").fetch_one(&db).await.unwrap();
    let attributed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_attribution").fetch_one(&db).await.unwrap();
    let aggregate_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM spend_aggregate").fetch_one(&db).await.unwrap();
    println!("overview benchmark");
    println!(
        "  data: 5 years, {CONTRACTS} contracts, {PLACEMENTS} placements, {lines} ledger lines ({attributed} attributed); {aggregate_rows} aggregate rows"
    );
    println!(
        "  setup: registers {}, ledger + attributions (through the aggregate triggers) {}",
        ms(registers_time),
        ms(ledger_time)
    );
    assert_eq!(
        store::overview::spend(&db).await.unwrap(),
        store::overview::spend_fresh(&db).await.unwrap(),
        "aggregates equal the ledger"
    );
    exec(&db, "PRAGMA optimize; ANALYZE;").await;

    // The plain GROUP BY over the ledger for the same figures (actual per year, stream, contract, budget line).
    let mut group_by = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let rows = store::overview::spend_fresh(&db).await.unwrap();
        group_by.push(t.elapsed());
        assert_eq!(rows.len() as i64, aggregate_rows);
    }
    group_by.sort();
    let group_by_median = group_by[1];

    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), path.clone());
    config.secure_cookies = false;
    let app = App::with_db(config, db.clone()).await.unwrap();
    let addr = app.addr;
    tokio::spawn(app.serve());
    let url = format!("http://{addr}/meerjarenoverzicht?van=2022&tot=2026&scenario={scenario_id}&variant=verwacht&prognose_vanaf=2025");

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let login = client.get(format!("http://{addr}/login")).send().await.unwrap().text().await.unwrap();
        let at = login.find("name=\"_csrf\" value=\"").unwrap() + "name=\"_csrf\" value=\"".len();
        let token = login[at..].split('"').next().unwrap().to_string();
        let r = client
            .post(format!("http://{addr}/login"))
            .form(&[("username", "beleid"), ("password", PASSWORD), ("_csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login");
        // Warm-up (fills the inputs cache once, like the first visitor of the day).
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(body.contains("Meerjarenoverzicht 2022–2026"));
        clients.push(client);
    }
    let shared: Vec<std::sync::Arc<reqwest::Client>> = clients.into_iter().map(std::sync::Arc::new).collect();
    let mut results = Vec::new();
    for (name, page) in [
        ("overview page (default: charts and the per-stream figures)", url.clone()),
        ("overview page with all four views (weergave=alle)", format!("{url}&weergave=alle")),
    ] {
        let bytes = shared[0].get(&page).send().await.unwrap().bytes().await.unwrap().len();
        let (wall, times) = measure(&shared, &page, requests).await;
        let (p50, p95) = (percentile(&times, 50), percentile(&times, 95));
        println!(
            "  {name}, {} KB: {CLIENTS} concurrent clients, {} requests in {}: p50 {}, p95 {}, max {}",
            bytes / 1024,
            times.len(),
            ms(wall),
            ms(p50),
            ms(p95),
            ms(*times.last().unwrap())
        );
        results.push((name, p50, p95));
    }
    println!("  plain GROUP BY over the ledger for the same figures (median of 3): {}", ms(group_by_median));
    let ratio = |d: Duration| group_by_median.as_micros() / d.as_micros().max(1);
    for (name, p50, p95) in results {
        println!(
            "  {name}: GROUP BY / p95 = {}x, GROUP BY / p50 = {}x; p95 {} 30 ms, ratio {} 10x",
            ratio(p95),
            ratio(p50),
            if p95 <= Duration::from_millis(30) { "<=" } else { ">" },
            if ratio(p95) >= 10 { ">=" } else { "<" }
        );
    }
}

/// Every client asks for `url` in a loop until `requests` answers came back; returns the wall time and
/// each request's latency, sorted.
async fn measure(clients: &[std::sync::Arc<reqwest::Client>], url: &str, requests: usize) -> (Duration, Vec<Duration>) {
    let per_client = requests.div_ceil(clients.len());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let t = Instant::now();
                let r = client.get(&url).send().await.unwrap();
                assert_eq!(r.status(), reqwest::StatusCode::OK);
                let _ = r.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    times.sort();
    (wall, times)
}
