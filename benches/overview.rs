//! Overview speed: 5 years, 50 contracts, 5,000 placements and 1,000,000 attributed ledger lines, generated
//! straight into SQLite (multi-row INSERT ... SELECT; the attributions go in through the same triggers that
//! keep the aggregates in the app). Then the real server runs on a local port and 16 concurrent clients ask
//! for the overview page N times; p50/p95 are printed next to the time of a plain GROUP BY over the ledger
//! for the same figures. Run with `cargo bench --bench overview` (N from TAALBUDGET_BENCH_REQUESTS, default 800).

mod common;

use std::time::{Duration, Instant};

use common::{exec, measure, ms, percentile, Scale};
use taalbudget::app::App;
use taalbudget::auth::roles::Role;
use taalbudget::config::Config;
use taalbudget::store;

const CLIENTS: usize = 16;
const CONTRACTS: i64 = 50;
const PLACEMENTS: i64 = 5_000;
const PASSWORD: &str = "benchmark-wachtwoord";

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
    let scale = Scale {
        providers: CONTRACTS,
        contracts: CONTRACTS,
        placements: PLACEMENTS,
        first_year: 2022,
        years: 5,
        ledger_lines,
    };
    let t = Instant::now();
    common::registers(
        &db,
        &scale,
        4,
        &format!(
            "SELECT printf('K-%06d', i), CASE i % 5 WHEN 0 THEN 'wi2021' WHEN 1 THEN 'wi2021' WHEN 2 THEN 'wi2013' WHEN 3 THEN 'elip' ELSE 'other' END,
             CASE WHEN (i % {CONTRACTS} + 1) % 3 = 1 THEN 'z' ELSE 'b1' END, i % {CONTRACTS} + 1,
             printf('%04d-%02d-01', 2022 + i % 5, 1 + i % 12), printf('%04d-%02d-01', 2024 + i % 5, 1 + i % 12), 'ongoing', NULL FROM n"
        ),
    )
    .await;
    let registers_time = t.elapsed();
    let t = Instant::now();
    common::ledger(&db, &scale, "1 + id % 4").await;
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
        let client = common::login(&format!("http://{addr}"), "beleid", PASSWORD).await;
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
