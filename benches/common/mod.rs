//! What the page benchmarks share: data generated straight into SQLite (multi-row INSERT ... SELECT over
//! recursive counters, through the app's own aggregate triggers), logged-in clients, and timing of a page
//! under concurrent clients.
#![allow(dead_code)] // each bench uses its own part

use std::sync::Arc;
use std::time::{Duration, Instant};

use taalbudget::store::Db;

pub const NOW: &str = "'2026-01-01T00:00:00Z'";

/// The shape of a generated data set.
pub struct Scale {
    pub providers: i64,
    pub contracts: i64,
    pub placements: i64,
    pub first_year: i64,
    pub years: i64,
    pub ledger_lines: i64,
}

impl Scale {
    pub fn last_year(&self) -> i64 {
        self.first_year + self.years - 1
    }

    /// The provider that holds contract `c` (contracts are spread over the providers in turn).
    pub fn provider_sql(&self, contract: &str) -> String {
        format!("(1 + ({contract} - 1) % {})", self.providers)
    }
}

pub fn ms(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03} ms", us / 1000, us % 1000)
}

pub async fn exec(db: &Db, sql: &str) {
    sqlx::raw_sql(sql).execute(db).await.unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(2000)]));
}

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Providers, contracts (every route b1 and z) with tariffs and milestones, the funding streams (four, or five
/// with a second own-funds stream), allocations and budget lines per year, and the placements.
/// `placement_sql` is a SELECT over the counter `n(i)` giving placement's columns (client_number, cohort,
/// route, contract_id, start_date, planned_end, status, status_date).
pub async fn registers(db: &Db, s: &Scale, streams: i64, placement_sql: &str) {
    let (first, last) = (s.first_year, s.last_year());
    let mut sql = String::from("BEGIN;\n");
    let providers: Vec<String> =
        (1..=s.providers).map(|i| format!("({i}, 'Aanbieder {i}', '{:08}', {NOW}, {NOW})", 10_000_000 + i)).collect();
    sql += &format!("INSERT INTO provider (id, name, kvk, created_at, updated_at) VALUES {};\n", providers.join(","));
    let contracts: Vec<String> = (1..=s.contracts)
        .map(|i| {
            let provider = 1 + (i - 1) % s.providers;
            let routes = ["b1", "z", "b1,z"][(i % 3) as usize];
            format!(
                "({i}, 'BENCH-{i:03}', 'Contract {i}', {provider}, '{routes}', '{first}-01-01', '{}-12-31', 250000000, {NOW}, {NOW})",
                last + 1
            )
        })
        .collect();
    sql += &format!(
        "INSERT INTO contract (id, reference, title, provider_id, routes, start_date, initial_end_date, ceiling_cents, created_at, updated_at) VALUES {};\n",
        contracts.join(",")
    );
    let mut tariffs = Vec::new();
    let mut milestones = Vec::new();
    let middle = first + s.years / 2;
    for i in 1..=s.contracts {
        for (r, base) in [("b1", 1_000_000i64), ("z", 800_000)] {
            tariffs.push(format!("({i}, '{r}', '{first}-01-01', '{}-12-31', {base})", middle - 1));
            tariffs.push(format!("({i}, '{r}', '{middle}-01-01', NULL, {})", base * 103 / 100));
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
         (1, 'SPUK', 'SPUK inburgering', 'specific_grant', 'wi2021', '{first}-01-01', 0, {NOW}, {NOW}),
         (2, 'ENO', 'En ondertussen', 'municipality_fund', 'wi2013', '{first}-01-01', 1, {NOW}, {NOW}),
         (3, 'ELIP', 'ELIP', 'municipality_fund', 'elip', '{first}-01-01', 1, {NOW}, {NOW}),
         (4, 'EIGEN', 'Eigen middelen', 'own_funds', '', '{first}-01-01', 0, {NOW}, {NOW});
         INSERT INTO cohort_stream (cohort, stream_id) VALUES ('wi2021', 1), ('wi2013', 2), ('elip', 3), ('other', 4);\n"
    );
    if streams >= 5 {
        sql += &format!(
            "INSERT INTO funding_stream (id, code, name, kind, cohorts, spend_from, carry_over, created_at, updated_at) VALUES
             (5, 'BUIG', 'Participatiebudget', 'other', '', '{first}-01-01', 0, {NOW}, {NOW});\n"
        );
    }
    let mut allocations = Vec::new();
    let mut lines = Vec::new();
    for stream in 1..=streams.min(5) {
        for y in first..=last {
            allocations.push(format!(
                "({stream}, {y}, 'advance', {}, 'Beschikking {y}', '{y}-01-15', {NOW})",
                5_000_000_000i64 / stream
            ));
            lines.push(format!("({stream}, 'Taalonderwijs', {y}, {}, {NOW})", 3_000_000_000i64 / stream));
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
    sql += &format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})
         INSERT INTO placement (client_number, cohort, route, contract_id, start_date, planned_end, status, status_date, created_at, updated_at)
         SELECT *, {NOW}, {NOW} FROM ({placement_sql});\n",
        s.placements
    );
    sql += "COMMIT;";
    exec(db, &sql).await;
}

/// `s.ledger_lines` ledger lines spread evenly over the years, one import batch per year (ids 1..years), nine
/// in ten attributed through the aggregate triggers: `stream_sql` picks the stream of line `id` booked in
/// `year`; one in three attributed lines has no contract.
pub async fn ledger(db: &Db, s: &Scale, stream_sql: &str) {
    let (lines, years, first) = (s.ledger_lines, s.years, s.first_year);
    let per_year = (lines + years - 1) / years;
    let batches: Vec<String> = (1..=years)
        .map(|b| {
            let (from, to) = ((b - 1) * per_year + 1, (b * per_year).min(lines));
            format!(
                "({b}, 'ledger', 'bench', 'grootboek-{}.xlsx', printf('%064d', {b}), 'bench', {NOW}, {}, {}, {from}, {to})",
                first + b - 1,
                to - from + 1,
                to - from + 1
            )
        })
        .collect();
    exec(
        db,
        &format!(
            "INSERT INTO import_batch (id, kind, template, file_name, file_sha256, imported_by, imported_at, rows_read, rows_imported, first_entry_id, last_entry_id)
             VALUES {}",
            batches.join(",")
        ),
    )
    .await;
    exec(
        db,
        &format!(
            "BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {lines})
             INSERT INTO ledger_entry (id, batch_id, source_row, identity, booking_date, fiscal_year, period, document, gl_account,
                                       cost_centre, creditor_number, description, amount_cents)
             SELECT i, 1 + (i - 1) / {per_year}, i + 1, randomblob(16),
                    printf('%04d-%02d-%02d', {first} + (i - 1) / {per_year}, 1 + i % 12, 1 + i % 28), {first} + (i - 1) / {per_year}, 1 + i % 12,
                    'BS-' || i, '4301', 'KP-' || (i % 7), '2' || printf('%05d', {provider}),
                    'Factuur ' || i, 1000 + (i * 7919) % 250000
             FROM n;
             UPDATE import_batch SET amount_total_cents = (SELECT SUM(amount_cents) FROM ledger_entry e WHERE e.id BETWEEN first_entry_id AND last_entry_id) WHERE kind = 'ledger';
             COMMIT;",
            provider = s.provider_sql(&format!("(1 + i % {})", s.contracts)),
        ),
    )
    .await;
    exec(
        db,
        &format!(
            "BEGIN;
             INSERT INTO ledger_attribution (ledger_entry_id, stream_id, budget_line_id, contract_id, source, assigned_at)
             SELECT id, {stream_sql}, NULL, CASE WHEN id % 3 = 0 THEN NULL ELSE 1 + id % {} END, 'rule', {NOW}
             FROM ledger_entry WHERE id % 10 <> 0;
             COMMIT;",
            s.contracts
        ),
    )
    .await;
}

pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[((sorted.len() * p).div_ceil(100)).saturating_sub(1).min(sorted.len() - 1)]
}

/// A client with its own cookie jar, logged in as `username`.
pub async fn login(base: &str, username: &str, password: &str) -> reqwest::Client {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = client.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let at = form.find("name=\"_csrf\" value=\"").unwrap() + "name=\"_csrf\" value=\"".len();
    let token = form[at..].split('"').next().unwrap().to_string();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", password), ("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login as {username}");
    client
}

/// Every client asks for `url` in a loop until `requests` answers came back; returns the wall time and
/// each request's latency, sorted. Any answer but 200 stops the benchmark.
pub async fn measure(clients: &[Arc<reqwest::Client>], url: &str, requests: usize) -> (Duration, Vec<Duration>) {
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
                assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
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
