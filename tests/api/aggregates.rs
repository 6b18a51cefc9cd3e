//! Property tests: the kept spend aggregates (triggers on ledger_attribution) and the kept ledger totals, queue
//! and ledger-page figures (migration 0015) always equal a fresh computation over the ledger, whatever sequence of
//! imports, undos, rule changes, manual re-attributions, creditor links, contract changes and year closes ran;
//! the documented rebuild gives the same rows; an overview kept by the server's cache equals one assembled afresh.

use proptest::prelude::*;
use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
use taalbudget::domain::forecast::Variant;
use taalbudget::domain::funding::{BudgetLine, FundingStream, StreamKind};
use taalbudget::money::Money;
use taalbudget::report::overview::{self, InputsCache, OverviewParams};
use taalbudget::store::{self, attribution::NewRule, Db};

use taalbudget::domain::commitment::{ContractFigures, FundedPayment, YearLine};
use taalbudget::report::commitments::{portfolio, Portfolio, PortfolioCache, Running};

use crate::helpers::{ledger_line, spawn_app};

#[derive(Clone, Debug)]
enum Op {
    /// Import lines (year index, cost centre index, cents).
    Import(Vec<(u8, u8, i64)>),
    Undo(u8),
    AddRule {
        cost_centre: u8,
        stream: u8,
        budget_line: bool,
        contract: bool,
    },
    DeleteRule(u8),
    Assign {
        line: u8,
        stream: u8,
        contract: bool,
    },
    /// A plain SQL change to the contract's ceiling (a fixed input of the overview).
    Ceiling(u8),
    /// Link the lines' creditor to the contract's provider (the contract then covers their booking dates).
    LinkCreditor,
    /// End the contract on the last day of a year (only lines up to then have a contract).
    EndContract(u8),
    /// Close the last open year of a year index or earlier; `false`: reopen the last closed year.
    CloseYear(u8, bool),
}

const COST_CENTRES: [&str; 3] = ["KP-INB", "KP-ELIP", "KP-OVERIG"];
const YEARS: [i32; 3] = [2022, 2023, 2024];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec((0u8..3, 0u8..3, -50_000i64..500_000), 1..6).prop_map(Op::Import),
        1 => any::<u8>().prop_map(Op::Undo),
        2 => (0u8..3, 0u8..2, any::<bool>(), any::<bool>())
            .prop_map(|(c, s, b, k)| Op::AddRule { cost_centre: c, stream: s, budget_line: b, contract: k }),
        1 => any::<u8>().prop_map(Op::DeleteRule),
        2 => (any::<u8>(), 0u8..2, any::<bool>()).prop_map(|(l, s, c)| Op::Assign { line: l, stream: s, contract: c }),
        1 => any::<u8>().prop_map(Op::Ceiling),
        1 => Just(Op::LinkCreditor),
        1 => (0u8..3).prop_map(Op::EndContract),
        1 => (0u8..3, any::<bool>()).prop_map(|(y, close)| Op::CloseYear(y, close)),
    ]
}

struct Fixture {
    streams: [i64; 2],
    budget_lines: [i64; 2],
    contract: i64,
}

async fn fixture(db: &Db) -> Fixture {
    let mut streams = [0; 2];
    let mut budget_lines = [0; 2];
    for (i, code) in ["SPUK", "ELIP"].iter().enumerate() {
        let s = FundingStream {
            id: 0,
            code: code.to_string(),
            name: code.to_string(),
            kind: StreamKind::Other,
            cohorts: vec![],
            spend_from: taalbudget::domain::dates::parse_iso("2022-01-01").unwrap(),
            spend_until: None,
            carry_over: false,
            notes: String::new(),
        };
        streams[i] = store::funding::create_stream(db, &s, "prop").await.unwrap();
        let line = BudgetLine {
            id: 0,
            stream_id: streams[i],
            category: "Taal".into(),
            year: 2023,
            amount: Money::from_cents(1),
        };
        budget_lines[i] = store::funding::set_budget_line(db, &line, "prop").await.unwrap();
    }
    sqlx::query(
        "INSERT INTO provider (id, name, kvk, created_at, updated_at) VALUES (1, 'Taal BV', '12345678', 'x', 'x')",
    )
    .execute(db)
    .await
    .unwrap();
    let contract: i64 = sqlx::query_scalar(
        "INSERT INTO contract (reference, title, provider_id, routes, start_date, initial_end_date, ceiling_cents, created_at, updated_at)
         VALUES ('C-1', 'Contract', 1, 'b1', '2022-01-01', '2025-12-31', 100000000, 'x', 'x') RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    Fixture { streams, budget_lines, contract }
}

/// Applies one change to the ledger or its attribution; `n` numbers the imported lines.
async fn apply_ledger(app: &crate::helpers::TestApp, f: &Fixture, n: &mut i64, op: Op) {
    let db = &app.db;
    match op {
        Op::Import(rows) => {
            let lines: Vec<_> = rows
                .iter()
                .map(|(y, c, cents)| {
                    *n += 1;
                    ledger_line(
                        &format!("{}-0{}-1{}", YEARS[*y as usize], 1 + *n % 9, *n % 10),
                        COST_CENTRES[*c as usize],
                        "2001",
                        &format!("regel {n}"),
                        *cents,
                    )
                })
                .collect();
            crate::helpers::import_ledger(app, &lines).await;
        }
        Op::Undo(k) => {
            let batches: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM import_batch WHERE status = 'active' ORDER BY id")
                    .fetch_all(db)
                    .await
                    .unwrap();
            if !batches.is_empty() {
                // A batch with lines in a closed year is refused and changes nothing (CloseYear can close one).
                match store::imports::undo_batch(db, batches[k as usize % batches.len()], "prop").await {
                    Ok(_) | Err(store::imports::UndoError::ClosedYear(..)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        Op::AddRule { cost_centre, stream, budget_line, contract } => {
            let criteria =
                Criteria { cost_centre: Pattern::exact(COST_CENTRES[cost_centre as usize]), ..Default::default() };
            let rule = NewRule {
                name: "r".into(),
                criteria,
                stream_id: f.streams[stream as usize],
                budget_line_id: budget_line.then_some(f.budget_lines[stream as usize]),
                contract: if contract { ContractChoice::Direct(f.contract) } else { ContractChoice::None },
            };
            // A rule that would move lines of a closed year to another stream is refused; nothing changes.
            match store::attribution::add_rule(db, &rule, "prop").await {
                Ok(_) | Err(store::attribution::RuleError::ClosedYear(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        Op::DeleteRule(k) => {
            let rules = store::attribution::rules(db).await.unwrap();
            if !rules.is_empty() {
                match store::attribution::delete_rule(db, rules[k as usize % rules.len()].id, "prop").await {
                    Ok(_) | Err(store::attribution::RuleError::ClosedYear(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        Op::Assign { line, stream, contract } => {
            let lines: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM ledger_entry ORDER BY id").fetch_all(db).await.unwrap();
            if !lines.is_empty() {
                // A line of a closed year is refused; nothing changes.
                match store::attribution::assign_manually(
                    db,
                    lines[line as usize % lines.len()],
                    f.streams[stream as usize],
                    contract.then_some(f.contract),
                    "handmatig",
                    "prop",
                )
                .await
                {
                    Ok(()) | Err(store::attribution::AssignError::ClosedYear(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        Op::Ceiling(k) => {
            sqlx::query("UPDATE contract SET ceiling_cents = ? WHERE id = ?")
                .bind(1_000_000 * (1 + i64::from(k)))
                .bind(f.contract)
                .execute(db)
                .await
                .unwrap();
        }
        Op::LinkCreditor => {
            store::attribution::link_creditor(db, "2001", 1, "prop").await.unwrap();
        }
        Op::EndContract(y) => {
            sqlx::query("UPDATE contract SET initial_end_date = ? WHERE id = ?")
                .bind(format!("{}-12-31", YEARS[y as usize]))
                .bind(f.contract)
                .execute(db)
                .await
                .unwrap();
        }
        Op::CloseYear(y, close) => {
            let last = store::funding::last_closed(&mut db.acquire().await.unwrap()).await.unwrap();
            // Refusals (a year already closed, none to reopen) change nothing.
            let _ = match (close, last) {
                (true, _) => store::funding::close_year(db, YEARS[y as usize], "prop").await,
                (false, Some(last)) => store::funding::reopen_year(db, last, "prop").await,
                (false, None) => Ok(()),
            };
        }
    }
}

/// What the ledger pages show, kept and computed afresh, at one moment.
#[derive(Debug, PartialEq)]
struct LedgerFigures {
    sums: store::attribution::LedgerSums,
    queue_size: (i64, Money),
    queue: Vec<i64>,
    latest_year: Option<i32>,
    plan: taalbudget::domain::attribution::Plan,
    reconciliation: serde_json::Value,
    /// Per drill-down (a contract, with or without a year and stream; a stream and year; the unattributed lines
    /// of a year): its lines newest first and how many they are with their total.
    drills: Vec<(String, Vec<i64>, (i64, Money))>,
    /// The kept index of each contract's lines by booking date (migration 0029), row for row.
    contract_lines: Vec<(i64, String, i64)>,
}

/// The drill-downs of the reconciliation: every contract alone, per year and with its stream, every stream per
/// year, and the unattributed lines per year.
async fn drill_filters(db: &Db) -> Vec<store::attribution::LineFilter> {
    use store::attribution::LineFilter;
    let contracts: Vec<i64> = sqlx::query_scalar("SELECT id FROM contract ORDER BY id").fetch_all(db).await.unwrap();
    let streams: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM funding_stream ORDER BY id").fetch_all(db).await.unwrap();
    let mut out = Vec::new();
    for year in YEARS.iter().map(|y| Some(*y)).chain([None]) {
        out.push(LineFilter { unattributed_only: true, year, ..Default::default() });
        for &c in &contracts {
            out.push(LineFilter { contract_id: Some(c), year, ..Default::default() });
            for &s in &streams {
                out.push(LineFilter { contract_id: Some(c), stream_id: Some(s), year, ..Default::default() });
            }
        }
        for &s in &streams {
            out.push(LineFilter { stream_id: Some(s), year, ..Default::default() });
        }
    }
    out
}

/// A drill-down as the page reads it: the kept contract lines (migration 0029) two lines to a page, each page
/// after the last line of the one before, and the count and total from the kept totals.
async fn drill_kept(db: &Db, f: &store::attribution::LineFilter) -> (Vec<i64>, (i64, Money)) {
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let page = store::attribution::lines(db, &store::attribution::LineFilter { limit: 2, before, ..f.clone() })
            .await
            .unwrap();
        ids.extend(page.iter().map(|l| l.id));
        match page.last() {
            Some(l) if page.len() == 2 => before = Some((l.booking_date, l.id)),
            _ => break,
        }
    }
    (ids, store::attribution::lines_total(db, f).await.unwrap())
}

/// The same read from the ledger itself.
async fn drill_fresh(db: &Db, f: &store::attribution::LineFilter) -> (Vec<i64>, (i64, Money)) {
    let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT e.id, e.amount_cents FROM ledger_entry e LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id
         WHERE {} AND (?1 IS NULL OR substr(e.booking_date, 1, 4) = printf('%04d', ?1))
           AND (?2 IS NULL OR a.stream_id = ?2) AND (?3 IS NULL OR a.contract_id = ?3)
           AND (?4 = 0 OR a.ledger_entry_id IS NULL)
         ORDER BY e.booking_date DESC, e.id DESC",
        store::approval::counts("e.batch_id")
    ))
    .bind(f.year)
    .bind(f.stream_id)
    .bind(f.contract_id)
    .bind(f.unattributed_only)
    .fetch_all(db)
    .await
    .unwrap();
    let total = rows.iter().map(|(_, c)| Money::from_cents(*c)).sum();
    (rows.iter().map(|(id, _)| *id).collect(), (rows.len() as i64, total))
}

/// The ledger's kept caches, as a server holds them between requests.
#[derive(Default)]
struct Caches {
    flags: taalbudget::report::reconciliation::LineFlagsCache,
    plan: taalbudget::report::rules::PlanCache,
    portfolio: taalbudget::report::commitments::PortfolioCache,
}

async fn ledger_figures(db: &Db, kept: Option<&Caches>) -> LedgerFigures {
    use store::attribution::{lines, LineFilter};
    use taalbudget::report::reconciliation::for_years;
    let filter = LineFilter { unattributed_only: true, ..Default::default() };
    let queue: Vec<i64> = match kept {
        Some(_) => lines(db, &filter).await.unwrap().into_iter().map(|l| l.id).collect(),
        None => sqlx::query_scalar(
            "SELECT e.id FROM ledger_entry e WHERE NOT EXISTS (SELECT 1 FROM ledger_attribution a WHERE a.ledger_entry_id = e.id)
             ORDER BY e.booking_date DESC, e.id DESC",
        )
        .fetch_all(db)
        .await
        .unwrap(),
    };
    let fresh_latest: Option<String> =
        sqlx::query_scalar("SELECT MAX(substr(booking_date, 1, 4)) FROM ledger_entry").fetch_one(db).await.unwrap();
    LedgerFigures {
        sums: match kept {
            Some(_) => store::attribution::sums(db).await.unwrap(),
            None => store::attribution::sums_fresh(db).await.unwrap(),
        },
        queue_size: match kept {
            Some(_) => store::attribution::queue_size(db).await.unwrap(),
            None => store::attribution::queue_size_fresh(db).await.unwrap(),
        },
        queue,
        latest_year: match kept {
            Some(_) => store::attribution::latest_ledger_year(db).await.unwrap(),
            None => fresh_latest.map(|y| y.parse().unwrap()),
        },
        plan: match kept {
            Some(c) => (*taalbudget::report::rules::plan_now(db, &c.plan).await.unwrap()).clone(),
            None => store::attribution::plan_apply(db).await.unwrap(),
        },
        reconciliation: serde_json::to_value(
            for_years(db, &YEARS, kept.map(|c| &c.flags), kept.map(|c| &c.portfolio)).await.unwrap(),
        )
        .unwrap(),
        drills: {
            let mut out = Vec::new();
            for f in drill_filters(db).await {
                let (ids, total) = match kept {
                    Some(_) => drill_kept(db, &f).await,
                    None => drill_fresh(db, &f).await,
                };
                out.push((format!("{f:?}"), ids, total));
            }
            out
        },
        contract_lines: sqlx::query_as(match kept {
            Some(_) => "SELECT contract_id, booking_date, ledger_entry_id FROM ledger_contract_line ORDER BY 1, 2, 3",
            None => {
                "SELECT a.contract_id, e.booking_date, e.id FROM ledger_attribution a
                 JOIN ledger_entry e ON e.id = a.ledger_entry_id WHERE a.contract_id IS NOT NULL ORDER BY 1, 2, 3"
            }
        })
        .fetch_all(db)
        .await
        .unwrap(),
    }
}

async fn assert_current(db: &Db, cache: &InputsCache, caches: &Caches) {
    let kept = store::overview::spend(db).await.unwrap();
    let fresh = store::overview::spend_fresh(db).await.unwrap();
    assert_eq!(kept, fresh, "kept aggregates = fresh GROUP BY");
    assert_eq!(ledger_figures(db, Some(caches)).await, ledger_figures(db, None).await, "kept ledger figures = fresh");
    let params = OverviewParams {
        years: 2022..=2024,
        scenario_id: None,
        variant: Variant::Expected,
        forecast_from: 2025,
        stream: None,
        snapshot_id: None,
    };
    let (kept, _) = overview::build(db, &params, Some(cache)).await.unwrap();
    let (fresh, _) = overview::build(db, &params, None).await.unwrap();
    assert_eq!(kept, fresh, "kept overview = one assembled afresh");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn kept_aggregates_equal_a_fresh_group_by_after_any_sequence(ops in prop::collection::vec(op(), 1..12)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let app = spawn_app().await;
            let db = app.db.clone();
            let f = fixture(&db).await;
            let cache = InputsCache::default();
            let caches = Caches::default();
            let mut n = 0i64;
            for op in ops {
                // What a server holds before the change: kept figures that the change must not leave stale.
                ledger_figures(&db, Some(&caches)).await;
                apply_ledger(&app, &f, &mut n, op).await;
                assert_current(&db, &cache, &caches).await;
            }
            let kept = store::overview::spend(&db).await.unwrap();
            let mut tx = store::begin(&db).await.unwrap();
            store::overview::rebuild_aggregates(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(store::overview::spend(&db).await.unwrap(), kept, "the rebuild gives the kept rows");
        });
    }
}

/// A change to what the scorecard is computed from, made the way the app's store or a plain SQL statement makes it:
/// the counter's triggers sit on the tables, so either way must move it.
#[derive(Clone, Debug)]
enum ProgressOp {
    /// A placement starting in month (0..36 from January 2022) on route b1 (else z).
    Place {
        month: u8,
        b1: bool,
    },
    /// A report for a placement in its n-th month, with an exam attempt when `exam`.
    Report {
        placement: u8,
        month: u8,
        attended: u8,
        exam: Option<bool>,
    },
    DeleteReport(u8),
    DropOut {
        placement: u8,
        month: u8,
    },
    SwitchRoute {
        placement: u8,
        month: u8,
    },
    RenameProvider,
}

fn progress_op() -> impl Strategy<Value = ProgressOp> {
    prop_oneof![
        2 => (0u8..36, any::<bool>()).prop_map(|(month, b1)| ProgressOp::Place { month, b1 }),
        5 => (any::<u8>(), 0u8..20, 0u8..=36, prop::option::of(any::<bool>()))
            .prop_map(|(placement, month, attended, exam)| ProgressOp::Report { placement, month, attended, exam }),
        1 => any::<u8>().prop_map(ProgressOp::DeleteReport),
        1 => (any::<u8>(), 1u8..20).prop_map(|(placement, month)| ProgressOp::DropOut { placement, month }),
        1 => (any::<u8>(), 1u8..20).prop_map(|(placement, month)| ProgressOp::SwitchRoute { placement, month }),
        1 => Just(ProgressOp::RenameProvider),
    ]
}

/// The first day of month `n` counted from January 2022.
fn month_start(n: i64) -> time::Date {
    time::Date::from_calendar_date(2022 + (n / 12) as i32, time::Month::try_from(1 + (n % 12) as u8).unwrap(), 1)
        .unwrap()
}

async fn apply(db: &Db, op: ProgressOp) {
    use taalbudget::domain::progress::{ExamPart, ExamResult, Hours, Period, ReportDraft};
    use taalbudget::domain::route_change::{ChangeKind, RouteChange};
    let placements: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, start_date FROM placement ORDER BY id").fetch_all(db).await.unwrap();
    let pick = |k: u8| (!placements.is_empty()).then(|| placements[k as usize % placements.len()].clone());
    let month_of = |start: &str, n: u8| {
        let s = taalbudget::domain::dates::parse_iso(start).unwrap();
        month_start((s.year() as i64 - 2022) * 12 + s.month() as i64 - 1 + n as i64)
    };
    match op {
        ProgressOp::Place { month, b1 } => {
            let start = month_start(month as i64);
            sqlx::query(
                "INSERT INTO placement (client_number, cohort, route, contract_id, start_date, planned_end, status, created_at, updated_at)
                 VALUES (printf('K%d', (SELECT COUNT(*) FROM placement) + 1), 'wi2021', ?, 1, ?, ?, 'ongoing', 'x', 'x')",
            )
            .bind(if b1 { "b1" } else { "z" })
            .bind(start.to_string())
            .bind(month_start(month as i64 + 30).to_string())
            .execute(db)
            .await
            .unwrap();
        }
        ProgressOp::Report { placement, month, attended, exam } => {
            let Some((id, start)) = pick(placement) else { return };
            let first = month_of(&start, month);
            let draft = ReportDraft {
                period: Period::month_of(first),
                first_lesson: (month == 0).then_some(first),
                offered: Hours::whole(36),
                attended: Hours::whole(attended as i64),
                absence: Hours::whole(36 - attended as i64),
                absence_reason: None,
                catch_up: Hours::ZERO,
                levels: Default::default(),
                exams: exam
                    .map(|passed| ExamResult { part: ExamPart::Reading, date: first + time::Duration::days(9), passed })
                    .into_iter()
                    .collect(),
                remarks: String::new(),
            };
            // A second report for the same period is refused; that is no change, and no change is fine too.
            let _ = store::progress::create_report(db, id, 1, &draft, "prop").await;
        }
        ProgressOp::DeleteReport(k) => {
            let reports: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM progress_report ORDER BY id").fetch_all(db).await.unwrap();
            if !reports.is_empty() {
                sqlx::query("DELETE FROM progress_report WHERE id = ?")
                    .bind(reports[k as usize % reports.len()])
                    .execute(db)
                    .await
                    .unwrap();
            }
        }
        ProgressOp::DropOut { placement, month } => {
            let Some((id, start)) = pick(placement) else { return };
            sqlx::query("UPDATE placement SET status = 'dropped_out', status_date = ? WHERE id = ?")
                .bind(month_of(&start, month).to_string())
                .bind(id)
                .execute(db)
                .await
                .unwrap();
        }
        ProgressOp::SwitchRoute { placement, month } => {
            let Some((id, start)) = pick(placement) else { return };
            let change = RouteChange {
                kind: ChangeKind::Switch(taalbudget::domain::route::Route::Z),
                decision_date: month_of(&start, month),
                reason: "Leerbaarheid".into(),
            };
            store::progress::add_route_change(db, id, &change, "prop").await.unwrap();
        }
        ProgressOp::RenameProvider => {
            sqlx::query("UPDATE provider SET name = name || ' en Co' WHERE id = 1").execute(db).await.unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// The scorecards and progress signals kept in memory (behind `progress_inputs_version`) always equal a fresh
    /// computation, whatever sequence of placements, reports, exam attempts, dropouts, route changes and renames ran.
    #[test]
    fn kept_scorecards_and_signals_equal_a_fresh_computation_after_any_sequence(ops in prop::collection::vec(progress_op(), 1..16)) {
        use taalbudget::domain::scorecard::Grain;
        use taalbudget::report::progress_signals::{signals, SignalsCache};
        use taalbudget::report::scorecard::{rows, ScorecardCache};
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let app = spawn_app().await;
            let db = app.db.clone();
            fixture(&db).await;
            let cache = ScorecardCache::default();
            let signals_cache = SignalsCache::default();
            let today = time::macros::date!(2024 - 06 - 15);
            let asks = [(Grain::Year, 2022, 2024, today), (Grain::Month, 2022, 2023, today), (Grain::Quarter, 2023, 2023, today)];
            for op in ops {
                for ask in asks {
                    rows(&db, ask, Some(&cache)).await.unwrap();
                }
                signals(&db, Some(&signals_cache)).await.unwrap();
                apply(&db, op).await;
                assert_eq!(
                    signals(&db, Some(&signals_cache)).await.unwrap(),
                    signals(&db, None).await.unwrap(),
                    "kept signals = fresh computation"
                );
                for ask in asks {
                    let kept = rows(&db, ask, Some(&cache)).await.unwrap();
                    let fresh = rows(&db, ask, None).await.unwrap();
                    assert_eq!(kept, fresh, "kept scorecard = fresh computation ({:?})", ask.0);
                }
            }
        });
    }
}

/// Prices contract 1 of the fixture: B1 at 10,000.00 and Z at 8,000.00 from 2022, half at the start and half at
/// completion; wi2021 placements are funded by `stream`.
async fn price_contract(db: &Db, stream: i64) {
    sqlx::query(
        "UPDATE contract SET routes = 'b1,z' WHERE id = 1;
         INSERT INTO tariff (contract_id, route, valid_from, amount_cents) VALUES (1, 'b1', '2022-01-01', 1000000), (1, 'z', '2022-01-01', 800000);
         INSERT INTO payment_milestone (contract_id, route, seq, name, share_bp, due_kind)
         VALUES (1, 'b1', 1, 'Start', 5000, 'start'), (1, 'b1', 2, 'Einde', 5000, 'completion'),
                (1, 'z', 1, 'Start', 5000, 'start'), (1, 'z', 2, 'Einde', 5000, 'completion');",
    )
    .execute(db)
    .await
    .unwrap();
    store::funding::set_cohort_stream(db, taalbudget::domain::route::Cohort::Wi2021, stream, "prop").await.unwrap();
}

#[tokio::test]
async fn the_overviews_kept_payments_move_with_a_route_switch() {
    use taalbudget::domain::route::Route;
    use taalbudget::domain::route_change::{ChangeKind, RouteChange};
    use taalbudget::report::overview::{load, InputsCache};
    let app = spawn_app().await;
    let f = fixture(&app.db).await;
    price_contract(&app.db, f.streams[0]).await;
    apply(&app.db, ProgressOp::Place { month: 24, b1: true }).await;
    let total = |inputs: &taalbudget::report::overview::Inputs| inputs.payments.iter().map(|p| p.amount).sum::<Money>();
    let cache = InputsCache::default();
    // B1 from 01-01-2024 to 01-07-2026: 5,000.00 at the start and 5,000.00 at completion.
    assert_eq!(total(&load(&app.db, None, Some(&cache)).await.unwrap()).cents(), 1_000_000);
    // Switched to Z on 01-06-2024: the B1 start (due before the switch) stays, Z's completion (4,000.00) replaces
    // B1's: 9,000.00.
    let switch = RouteChange {
        kind: ChangeKind::Switch(Route::Z),
        decision_date: time::macros::date!(2024 - 06 - 01),
        reason: "Leerbaarheid".into(),
    };
    store::progress::add_route_change(&app.db, 1, &switch, "test").await.unwrap();
    assert_eq!(total(&load(&app.db, None, None).await.unwrap()).cents(), 900_000);
    assert_eq!(total(&load(&app.db, None, Some(&cache)).await.unwrap()).cents(), 900_000, "the kept inputs moved too");
}

/// A change to what contracts' commitments are computed from: the ledger and its attribution, placements and
/// their route changes, the contract's ceiling and tariffs, and the cohort's stream.
#[derive(Clone, Debug)]
enum CommitmentOp {
    Ledger(Op),
    Progress(ProgressOp),
    /// The ceiling in units of 10,000.00 (1 to 4).
    Ceiling(u8),
    /// A new B1 tariff of 11,000.00 from 2024 (the first one ends the day before).
    Indexation,
    /// wi2021 placements funded by the fixture's stream 0 or 1.
    CohortStream(u8),
}

fn commitment_op() -> impl Strategy<Value = CommitmentOp> {
    prop_oneof![
        4 => op().prop_map(CommitmentOp::Ledger),
        4 => progress_op().prop_map(CommitmentOp::Progress),
        1 => (1u8..5).prop_map(CommitmentOp::Ceiling),
        1 => Just(CommitmentOp::Indexation),
        1 => (0u8..2).prop_map(CommitmentOp::CohortStream),
    ]
}

/// Everything the contract pages and the start page show of a portfolio: per contract its figures, year table,
/// overdue payments and "ceiling reached since", and the running placements.
type Shown =
    (Vec<(i64, ContractFigures, Vec<YearLine>, Vec<(FundedPayment, Money)>, Option<time::Date>)>, Vec<Running>);

async fn shown(db: &Db, p: &Portfolio) -> Shown {
    let mut contracts = Vec::new();
    for (c, f) in p.with_figures() {
        let overdue = p.commitments.overdue_of(c.id).into_iter().map(|(x, m)| (x.clone(), m)).collect();
        let since = p.reached_since(db, c, f).await.unwrap();
        contracts.push((c.id, f.clone(), p.commitments.year_lines(c.id), overdue, since));
    }
    (contracts, p.running.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// The portfolio kept in memory (behind `commitment_inputs_version`, per day) always shows what a fresh
    /// computation shows, whatever sequence of imports, undos, rule changes, re-attributions, placements, dropouts,
    /// route switches, ceiling and tariff changes and cohort stream changes ran.
    #[test]
    fn the_kept_portfolio_equals_a_fresh_computation_after_any_sequence(ops in prop::collection::vec(commitment_op(), 1..16)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let app = spawn_app().await;
            let db = app.db.clone();
            let f = fixture(&db).await;
            price_contract(&db, f.streams[0]).await;
            sqlx::query("UPDATE contract SET ceiling_cents = 2000000").execute(&db).await.unwrap();
            let cache = PortfolioCache::default();
            let today = time::macros::date!(2024 - 06 - 15);
            let mut n = 0i64;
            for op in ops {
                shown(&db, &portfolio(&db, Some(&cache), today).await.unwrap()).await;
                match op {
                    CommitmentOp::Ledger(op) => apply_ledger(&app, &f, &mut n, op).await,
                    CommitmentOp::Progress(op) => apply(&db, op).await,
                    CommitmentOp::Ceiling(k) => {
                        sqlx::query("UPDATE contract SET ceiling_cents = ? WHERE id = 1").bind(k as i64 * 1_000_000).execute(&db).await.unwrap();
                    }
                    CommitmentOp::Indexation => {
                        sqlx::query(
                            "UPDATE tariff SET valid_until = '2023-12-31' WHERE route = 'b1' AND valid_from = '2022-01-01';
                             INSERT INTO tariff (contract_id, route, valid_from, amount_cents) SELECT 1, 'b1', '2024-01-01', 1100000
                             WHERE NOT EXISTS (SELECT 1 FROM tariff WHERE valid_from = '2024-01-01')",
                        )
                        .execute(&db)
                        .await
                        .unwrap();
                    }
                    CommitmentOp::CohortStream(k) => {
                        store::funding::set_cohort_stream(&db, taalbudget::domain::route::Cohort::Wi2021, f.streams[k as usize], "prop").await.unwrap();
                    }
                }
                let kept = shown(&db, &portfolio(&db, Some(&cache), today).await.unwrap()).await;
                let fresh = shown(&db, &portfolio(&db, None, today).await.unwrap()).await;
                assert_eq!(kept, fresh, "kept portfolio = fresh computation");
            }
        });
    }
}
