//! Property test: random sequences of imports, undos, rule edits, manual assignments and year closes
//! never break the money invariants of DESIGN.md.

use std::collections::BTreeMap;

use proptest::prelude::*;
use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
use taalbudget::domain::funding::{FundingStream, StreamKind};
use taalbudget::money::Money;
use taalbudget::report::reconciliation;
use taalbudget::store::{self, attribution::NewRule, Db};

use crate::helpers::{ledger_line, spawn_app};

#[derive(Clone, Debug)]
enum Op {
    /// Import lines (year offset, cost centre index, description index, cents).
    Import(Vec<(u8, u8, u8, i64)>),
    Undo(u8),
    AddRule {
        cost_centre: Option<u8>,
        description: Option<u8>,
        stream: u8,
    },
    DeleteRule(u8),
    Assign {
        line: u8,
        stream: u8,
    },
    Close(u8),
    Reopen(u8),
}

const COST_CENTRES: [&str; 3] = ["KP-INB", "KP-ELIP", "KP-OVERIG"];
const DESCRIPTIONS: [&str; 3] = ["B1-route", "ELIP maatwerk", "Tolk"];
const YEARS: [i32; 3] = [2022, 2023, 2024];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec((0u8..3, 0u8..3, 0u8..3, -50_000i64..500_000), 1..6).prop_map(Op::Import),
        1 => any::<u8>().prop_map(Op::Undo),
        2 => (prop::option::of(0u8..3), prop::option::of(0u8..3), 0u8..2).prop_map(|(c, d, s)| Op::AddRule { cost_centre: c, description: d, stream: s }),
        1 => any::<u8>().prop_map(Op::DeleteRule),
        2 => (any::<u8>(), 0u8..2).prop_map(|(l, s)| Op::Assign { line: l, stream: s }),
        1 => (0u8..3).prop_map(Op::Close),
        1 => (0u8..3).prop_map(Op::Reopen),
    ]
}

async fn streams(db: &Db) -> [i64; 2] {
    let mut ids = [0; 2];
    for (i, code) in ["SPUK", "ELIP"].iter().enumerate() {
        let s = FundingStream {
            id: 0,
            code: code.to_string(),
            name: code.to_string(),
            kind: StreamKind::Other,
            cohorts: vec![],
            spend_from: taalbudget::domain::dates::parse_iso("2022-01-01").unwrap(),
            spend_until: None,
            carry_over: i == 0,
            notes: String::new(),
        };
        ids[i] = store::funding::create_stream(db, &s, "prop").await.unwrap();
    }
    ids
}

/// The figures that must hold after every step; returns each year's report as JSON for the closed-year check.
async fn check(db: &Db) -> BTreeMap<i32, serde_json::Value> {
    let mut out = BTreeMap::new();
    let imported: i64 =
        sqlx::query_scalar("SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entry").fetch_one(db).await.unwrap();
    let sums = store::attribution::sums(db).await.unwrap();
    let attributed: i64 = sums.actual_by_stream.values().map(Money::cents).sum();
    let unattributed: i64 = sums.unattributed.values().map(Money::cents).sum();
    assert_eq!(attributed + unattributed, imported, "attributed + unattributed = imported");
    for year in YEARS {
        let r = reconciliation::for_year(db, year).await.unwrap();
        assert_eq!(r.attributed_total() + r.unattributed, r.imported_total, "{year}");
        let stream_actual: i64 = r.streams.iter().map(|s| s.actual.cents()).sum();
        let attributed_year: i64 =
            sums.actual_by_stream.iter().filter(|((_, y), _)| *y == year).map(|(_, m)| m.cents()).sum();
        assert_eq!(stream_actual, attributed_year, "sum over streams of actual = attributed, {year}");
        for s in &r.streams {
            assert_eq!(s.remaining, s.available - s.actual - s.committed, "{} {year}", s.code);
        }
        out.insert(year, serde_json::to_value(&r).unwrap());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn money_invariants_hold_under_any_sequence(ops in prop::collection::vec(op(), 1..12)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let app = spawn_app().await;
            let db = app.db.clone();
            let ids = streams(&db).await;
            let mut closed: BTreeMap<i32, serde_json::Value> = BTreeMap::new();
            let mut n = 0i64;
            for op in ops {
                match op {
                    Op::Import(rows) => {
                        let lines: Vec<_> = rows.iter().map(|(y, c, d, cents)| {
                            n += 1;
                            ledger_line(&format!("{}-0{}-1{}", YEARS[*y as usize], 1 + n % 9, n % 10), COST_CENTRES[*c as usize], "2001", &format!("{} {n}", DESCRIPTIONS[*d as usize]), *cents)
                        }).collect();
                        crate::helpers::import_ledger(&app, &lines).await;
                    }
                    Op::Undo(k) => {
                        let batches: Vec<i64> = sqlx::query_scalar("SELECT id FROM import_batch WHERE status = 'active' ORDER BY id").fetch_all(&db).await.unwrap();
                        if !batches.is_empty() {
                            let _ = store::imports::undo_batch(&db, batches[k as usize % batches.len()], "prop").await;
                        }
                    }
                    Op::AddRule { cost_centre, description, stream } => {
                        let criteria = Criteria {
                            cost_centre: cost_centre.map(|c| Pattern::exact(COST_CENTRES[c as usize])).unwrap_or_default(),
                            description_contains: description.map(|d| DESCRIPTIONS[d as usize].to_string()).unwrap_or_default(),
                            ..Default::default()
                        };
                        if !criteria.is_empty() {
                            let rule = NewRule { name: "r".into(), criteria, stream_id: ids[stream as usize], budget_line_id: None, contract: ContractChoice::None };
                            // A rule that would move lines of a closed year to another stream is refused; nothing changes.
                            match store::attribution::add_rule(&db, &rule, "prop").await {
                                Ok(_) | Err(store::attribution::RuleError::ClosedYear(_)) => {}
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                    Op::DeleteRule(k) => {
                        let rules = store::attribution::rules(&db).await.unwrap();
                        if !rules.is_empty() {
                            match store::attribution::delete_rule(&db, rules[k as usize % rules.len()].id, "prop").await {
                                Ok(_) | Err(store::attribution::RuleError::ClosedYear(_)) => {}
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                    Op::Assign { line, stream } => {
                        let lines: Vec<i64> = sqlx::query_scalar("SELECT id FROM ledger_entry ORDER BY id").fetch_all(&db).await.unwrap();
                        if !lines.is_empty() {
                            let _ = store::attribution::assign_manually(&db, lines[line as usize % lines.len()], ids[stream as usize], None, "handmatig", "prop").await;
                        }
                    }
                    Op::Close(y) => {
                        let year = YEARS[y as usize];
                        if store::funding::close_year(&db, year, "prop").await.is_ok() {
                            closed.insert(year, check(&db).await[&year].clone());
                        }
                    }
                    Op::Reopen(y) => {
                        let year = YEARS[y as usize];
                        if store::funding::reopen_year(&db, year, "prop").await.is_ok() {
                            closed.remove(&year);
                        }
                    }
                }
                let now = check(&db).await;
                for (year, frozen) in &closed {
                    // Committed and available do not depend on the ledger here, so the whole report is frozen.
                    assert_eq!(&now[year], frozen, "closed year {year} changed");
                }
            }
        });
    }
}
