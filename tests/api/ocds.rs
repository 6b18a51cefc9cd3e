//! `taalbudget export ocds`: the contracts as an OCDS 1.1 release package, valid against the official 1.1.5
//! schemas (tests/fixtures/ocds, resolved locally), keeping the standard's rules the schema cannot express, with
//! exact values, and without anything about participants.

// Amounts are written as euros_cents (1_234_56 is € 1.234,56) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use serde_json::Value;
use taalbudget::auth::roles::Role;
use taalbudget::domain::contract::{ContractDraft, ExtensionOption, OptionStatus, Tariff};
use taalbudget::domain::dates::parse_iso;
use taalbudget::domain::route::Route;
use taalbudget::money::Money;
use taalbudget::report::ocds::{self, Publication, LOTS_EXTENSION};
use taalbudget::store;
use time::OffsetDateTime;

use crate::helpers::{certified_provider, import_ledger, ledger_line, other_stream, spawn_app_with};

const RELEASE_SCHEMA_URL: &str = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json";
const PREFIX: &str = "ocds-t3st00";
const OIN: &str = "00000001002220647000";

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ocds").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Hands out the release schema for its URL and refuses anything else: validation never reaches the network.
struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.as_str() {
            RELEASE_SCHEMA_URL => Ok(fixture("release-schema.json")),
            other => Err(format!("no local copy of {other}").into()),
        }
    }
}

fn validator(schema: &str) -> jsonschema::Validator {
    let schema = fixture(schema);
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_retriever(LocalSchemas)
        .build(&schema)
        .unwrap()
}

/// Validates the package against the package schema (which checks each release through its `$ref`) and each
/// release against the release schema on its own; returns the number of releases validated.
fn validate(package: &Value) -> usize {
    let errors: Vec<String> = validator("release-package-schema.json")
        .iter_errors(package)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert_eq!(errors, Vec::<String>::new(), "release package schema");
    let release = validator("release-schema.json");
    let releases = package["releases"].as_array().unwrap();
    for r in releases {
        let errors: Vec<String> = release.iter_errors(r).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert_eq!(errors, Vec::<String>::new(), "release schema, {}", r["ocid"]);
    }
    // The schemas really do refuse what is wrong: a tag outside the closed codelist, and through the package
    // schema's `$ref` (resolved to the local release schema) a currency that is none.
    let mut broken = releases[0].clone();
    broken["tag"] = serde_json::json!(["signed"]);
    assert!(!release.is_valid(&broken));
    let mut broken = package.clone();
    broken["releases"][0]["contracts"][0]["value"]["currency"] = "EURO".into();
    assert!(!validator("release-package-schema.json").is_valid(&broken));
    releases.len()
}

fn time(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap()
}

/// A JSON amount in cents, read from its decimal digits.
fn cents(v: &Value) -> i64 {
    Money::from_decimal(rust_decimal::Decimal::from_str(&v.to_string()).unwrap()).cents()
}

/// The rules of the standard that the schema cannot express.
fn check_rules(package: &Value, prefix: &str) {
    let releases = package["releases"].as_array().unwrap();
    let ids: BTreeSet<&str> = releases.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), releases.len(), "release ids are unique");
    let published = time(&package["publishedDate"]);
    for r in releases {
        let ocid = r["ocid"].as_str().unwrap();
        assert!(ocid.starts_with(&format!("{prefix}-")), "{ocid} starts with the prefix");
        assert!(r["id"].as_str().unwrap().starts_with(ocid));
        assert!(time(&r["date"]) <= published, "{ocid}: no release is newer than the package");
        let parties: BTreeSet<&str> =
            r["parties"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        let mut refs = vec![&r["buyer"], &r["tender"]["procuringEntity"]];
        let lots: BTreeSet<&str> =
            r["tender"]["lots"].as_array().into_iter().flatten().map(|l| l["id"].as_str().unwrap()).collect();
        let awards: BTreeSet<&str> =
            r["awards"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        for a in r["awards"].as_array().unwrap() {
            refs.extend(a["suppliers"].as_array().unwrap());
            for lot in a["relatedLots"].as_array().into_iter().flatten() {
                assert!(lots.contains(lot.as_str().unwrap()), "{ocid}: award lot {lot} is a tender lot");
            }
        }
        for c in r["contracts"].as_array().unwrap() {
            assert!(awards.contains(c["awardID"].as_str().unwrap()), "{ocid}: the contract's award exists");
            let p = &c["period"];
            let (start, end, max) = (time(&p["startDate"]), time(&p["endDate"]), time(&p["maxExtentDate"]));
            assert!(start <= end && end <= max, "{ocid}: start <= end <= maxExtentDate");
            for i in c["items"].as_array().unwrap() {
                if let Some(lot) = i["relatedLot"].as_str() {
                    assert!(lots.contains(lot), "{ocid}: item lot {lot} is a tender lot");
                }
            }
            for a in c["amendments"].as_array().into_iter().flatten() {
                assert!(time(&a["date"]) >= start && time(&a["date"]) <= end, "{ocid}: amendment within the contract");
            }
            for t in c["implementation"]["transactions"].as_array().into_iter().flatten() {
                // Within reason: an advance may come a year before the start, a last invoice a year after the end.
                let day = time(&t["date"]);
                assert!(day >= start - time::Duration::days(366), "{ocid}: {} long before the start", t["date"]);
                assert!(day <= max + time::Duration::days(366), "{ocid}: {} long after the end", t["date"]);
                refs.push(&t["payer"]);
                if !t["payee"].is_null() {
                    refs.push(&t["payee"]);
                }
            }
        }
        for org in refs {
            assert!(parties.contains(org["id"].as_str().unwrap()), "{ocid}: {org} is one of the parties");
        }
    }
}

fn cli(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taalbudget"));
    c.arg("--db").arg(db).env("TAALBUDGET_LOG", "error");
    c
}

/// Runs `export ocds --out` with the test's settings; the file's text and the command's stderr.
fn export(db: &Path, out: &Path) -> (String, String) {
    let run = cli(db)
        .args(["--ocds-prefix", PREFIX, "--ocds-buyer-name", "Gemeente Utrecht", "--ocds-buyer-id", OIN])
        .args(["export", "ocds", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");
    (std::fs::read_to_string(out).unwrap(), stderr)
}

fn release_of(package: &Value, contract_id: i64) -> &Value {
    let ocid = format!("{PREFIX}-contract-{contract_id}");
    package["releases"].as_array().unwrap().iter().find(|r| r["ocid"] == ocid.as_str()).unwrap()
}

#[tokio::test]
async fn hand_built_contracts_make_a_valid_package_with_exact_values_and_no_participants() {
    // The server publishes with the same settings as the command line below, so the API's package can be compared.
    let app = spawn_app_with(|c| {
        c.ocds = Publication {
            prefix: PREFIX.into(),
            buyer_name: "Gemeente Utrecht".into(),
            buyer_id: ocds::parse_buyer_id(OIN).unwrap(),
        }
    })
    .await;
    app.login_as(Role::ContractManager).await;
    let oost = certified_provider(&app, "Taalschool Oost", "23456789").await;
    let west = certified_provider(&app, "Taalhuis West", "34567890").await;
    let day = |s| parse_iso(s).unwrap();
    let draft = |reference: &str, provider, lot: &str, routes: Vec<Route>, start, end, euros: i64| ContractDraft {
        reference: reference.into(),
        title: format!("Taalonderwijs {reference}"),
        provider_id: provider,
        lot: lot.into(),
        routes,
        start_date: day(start),
        initial_end_date: day(end),
        ceiling: Money::from_cents(euros * 100),
        notes: "Intern: niet publiceren".into(),
    };
    let a = store::contracts::create(
        &app.db,
        &draft("K-2023-01", oost, "2", vec![Route::B1, Route::Z], "2023-01-01", "2024-12-31", 250_000),
        "test",
    )
    .await
    .unwrap();
    let b = store::contracts::create(
        &app.db,
        &draft("K-2023-02", west, "", vec![Route::Alfa], "2023-03-01", "2023-12-31", 50_000),
        "test",
    )
    .await
    .unwrap();
    for (from, until, cents) in [("2023-01-01", Some("2023-12-31"), 1_015_000), ("2024-01-01", None, 1_065_750)] {
        let t = Tariff {
            id: 0,
            route: Route::B1,
            valid_from: day(from),
            valid_until: until.map(day),
            amount: Money::from_cents(cents),
        };
        store::contracts::add_tariff(&app.db, a, &t, "test").await.unwrap();
    }
    let option = |new_end, notice| ExtensionOption {
        id: 0,
        new_end_date: day(new_end),
        notice_deadline: day(notice),
        status: OptionStatus::Pending,
        decision_reference: String::new(),
        decision_date: None,
    };
    let first = store::contracts::add_option(&app.db, a, &option("2026-12-31", "2024-06-30"), "test").await.unwrap();
    let second = store::contracts::add_option(&app.db, a, &option("2028-12-31", "2026-06-30"), "test").await.unwrap();
    store::contracts::decide_option(
        &app.db,
        a,
        first,
        OptionStatus::Exercised,
        "Collegebesluit 2024/77",
        day("2024-05-14"),
        "test",
    )
    .await
    .unwrap();
    let declined = store::contracts::add_option(&app.db, b, &option("2024-12-31", "2023-09-30"), "test").await.unwrap();
    store::contracts::decide_option(&app.db, b, declined, OptionStatus::Declined, "", day("2023-09-01"), "test")
        .await
        .unwrap();

    // Creditor 2001 is Taalschool Oost; 2002 is linked to no provider, so its name is never published.
    store::attribution::link_creditor(&app.db, "2001", oost, "test").await.unwrap();
    let lines = vec![
        ledger_line("2023-02-15", "KP-INB", "2001", "Start cursist K123456 B1", 4_060_00),
        ledger_line("2023-11-30", "KP-INB", "2001", "Creditnota K123456", -250_00),
        ledger_line("2024-03-10", "KP-INB", "2002", "Tolk voor K654321", 1_234_56),
        ledger_line("2023-05-01", "KP-INB", "2001", "Niet op een contract", 999_99),
    ];
    assert_eq!(import_ledger(&app, &lines).await.summary.rows_imported, 4);
    let stream = other_stream(&app, "SPUK", "2030-12-31").await;
    let entries: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM ledger_entry ORDER BY id").fetch_all(&app.db).await.unwrap();
    for (i, entry) in entries.iter().enumerate() {
        let contract = (i < 3).then_some(a);
        store::attribution::assign_manually(&app.db, *entry, stream, contract, "factuur van het contract", "test")
            .await
            .unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let (text, stderr) = export(&app.db_path, &dir.path().join("ocds.json"));
    assert!(stderr.contains("OCDS-pakket met 2 contracten geschreven naar"), "{stderr}");
    assert!(!stderr.contains("let op"), "every setting is set: {stderr}");
    let package: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(validate(&package), 2);
    check_rules(&package, PREFIX);

    // `GET /api/v1/ocds/releases` serves the same package, valid against the same official schemas; only the
    // package's own address differs (the server's listen address against the command line's default).
    let token = app.api_token(Role::PolicyAdviser).await;
    let mut served = app.api("GET", "/api/v1/ocds/releases", &token).await.json();
    assert_eq!(validate(&served), 2);
    check_rules(&served, PREFIX);
    // Without `base_url` the address is the configured listen address (the test binds port 0).
    assert_eq!(served["uri"].as_str(), Some("http://127.0.0.1:0/api/v1/ocds/releases"));
    served["uri"] = package["uri"].clone();
    assert_eq!(served, package, "the API and `export ocds` publish the same package");

    assert_eq!(package["version"], "1.1");
    assert_eq!(package["uri"], "http://127.0.0.1:8080/api/v1/ocds/releases");
    assert_eq!(package["extensions"], serde_json::json!([LOTS_EXTENSION]));
    assert_eq!(package["publisher"], serde_json::json!({"name": "Gemeente Utrecht", "scheme": "NL-OIN", "uid": OIN}));

    let r = release_of(&package, a);
    assert_eq!(r["tag"], serde_json::json!(["tender", "award", "contract", "contractAmendment", "implementation"]));
    assert_eq!((r["initiationType"].as_str(), r["language"].as_str()), (Some("tender"), Some("nl")));
    let buyer_id = format!("NL-OIN-{OIN}");
    assert_eq!(
        r["parties"],
        serde_json::json!([
            {"id": buyer_id, "name": "Gemeente Utrecht",
             "identifier": {"scheme": "NL-OIN", "id": OIN, "legalName": "Gemeente Utrecht"},
             "roles": ["buyer", "procuringEntity", "payer"]},
            {"id": "NL-KVK-23456789", "name": "Taalschool Oost",
             "identifier": {"scheme": "NL-KVK", "id": "23456789", "legalName": "Taalschool Oost"},
             "roles": ["supplier", "payee"]},
        ])
    );
    assert_eq!(r["buyer"], serde_json::json!({"id": buyer_id, "name": "Gemeente Utrecht"}));
    assert_eq!(r["tender"]["lots"], serde_json::json!([{"id": "2", "title": "Perceel 2"}]));
    assert_eq!(r["tender"]["title"], "Taalonderwijs K-2023-01");
    assert_eq!(r["awards"][0]["suppliers"], serde_json::json!([{"id": "NL-KVK-23456789", "name": "Taalschool Oost"}]));
    assert_eq!(r["awards"][0]["relatedLots"], serde_json::json!(["2"]));
    let c = &r["contracts"][0];
    assert_eq!(c["description"], "Kenmerk K-2023-01");
    assert_eq!(cents(&c["value"]["amount"]), 250_000_00);
    assert_eq!(c["value"]["currency"], "EUR");
    assert_eq!(
        c["period"],
        serde_json::json!({
            "startDate": "2023-01-01T00:00:00+01:00",
            "endDate": "2026-12-31T23:59:59+01:00",
            "maxExtentDate": "2028-12-31T23:59:59+01:00",
        })
    );
    let items: Vec<(String, Option<i64>, String)> = c["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let price = (!i["unit"].is_null()).then(|| cents(&i["unit"]["value"]["amount"]));
            (i["id"].as_str().unwrap().into(), price, i["relatedLot"].as_str().unwrap().into())
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("b1-2023-01-01".to_string(), Some(10_150_00), "2".to_string()),
            ("b1-2024-01-01".to_string(), Some(10_657_50), "2".to_string()),
            ("z".to_string(), None, "2".to_string()),
        ]
    );
    assert_eq!(
        c["items"][0]["description"],
        "B1-route: vast budget per cursist, geldig vanaf 2023-01-01 tot en met 2023-12-31"
    );
    assert_eq!(c["items"][1]["unit"]["name"], "cursist");
    assert_eq!(
        c["amendments"],
        serde_json::json!([{
            "id": format!("verlengingsoptie-{first}"),
            "date": "2024-05-14T00:00:00+02:00",
            "rationale": "Verlengingsoptie gelicht (Collegebesluit 2024/77)",
            "description": "Einddatum verlengd van 2024-12-31 tot 2026-12-31",
        }])
    );
    let transactions = c["implementation"]["transactions"].as_array().unwrap();
    let seen: Vec<(String, i64, Option<&str>)> = transactions
        .iter()
        .map(|t| {
            assert_eq!(t["payer"], serde_json::json!({"id": buyer_id, "name": "Gemeente Utrecht"}));
            (t["date"].as_str().unwrap().to_string(), cents(&t["value"]["amount"]), t["payee"]["id"].as_str())
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("2023-02-15T00:00:00+01:00".to_string(), 4_060_00, Some("NL-KVK-23456789")),
            ("2023-11-30T00:00:00+01:00".to_string(), -250_00, Some("NL-KVK-23456789")),
            // An unlinked creditor: the payee is unknown and left out.
            ("2024-03-10T00:00:00+01:00".to_string(), 1_234_56, None),
        ]
    );
    // 4,060.00 - 250.00 + 1,234.56: the ledger's total attributed to the contract, to the cent.
    let attributed: i64 = sqlx::query_scalar(
        "SELECT SUM(e.amount_cents) FROM ledger_entry e JOIN ledger_attribution a ON a.ledger_entry_id = e.id
         WHERE a.contract_id = ?",
    )
    .bind(a)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(seen.iter().map(|t| t.1).sum::<i64>(), 5_044_56);
    assert_eq!(attributed, 5_044_56);
    // The digits as written: JSON numbers, not strings, with their cents.
    for raw in ["\"amount\": 250000.00", "\"amount\": 10657.50", "\"amount\": -250.00", "\"amount\": 1234.56"] {
        assert!(text.contains(raw), "{raw}");
    }

    let other = release_of(&package, b);
    assert_eq!(other["tag"], serde_json::json!(["tender", "award", "contract"]));
    assert!(other["tender"].get("lots").is_none() && other["awards"][0].get("relatedLots").is_none());
    let oc = &other["contracts"][0];
    assert_eq!(oc["period"]["endDate"], "2023-12-31T23:59:59+01:00");
    assert_eq!(oc["period"]["maxExtentDate"], "2023-12-31T23:59:59+01:00", "a declined option extends nothing");
    assert!(oc.get("amendments").is_none() && oc.get("implementation").is_none());
    assert_eq!(oc["items"], serde_json::json!([{"id": "alfa", "description": "Alfabetisering"}]));
    assert_eq!(other["parties"][0]["roles"], serde_json::json!(["buyer", "procuringEntity"]));

    // Nothing about participants, nor ledger text, nor internal notes, nor the unlinked creditor.
    for secret in ["K123456", "K654321", "cursist K", "Tolk", "Creditnota", "Crediteur 2002", "Intern", "F-"] {
        assert!(!text.contains(secret), "the package holds {secret}");
    }

    // Stable: the same data gives the same bytes; a change gives that contract, and only it, a new release id.
    let (again, _) = export(&app.db_path, &dir.path().join("again.json"));
    assert_eq!(again, text);
    store::contracts::decide_option(&app.db, a, second, OptionStatus::Declined, "", day("2026-05-01"), "test")
        .await
        .unwrap();
    let (changed, _) = export(&app.db_path, &dir.path().join("changed.json"));
    let changed: Value = serde_json::from_str(&changed).unwrap();
    assert_ne!(release_of(&changed, a)["id"], r["id"]);
    assert_eq!(release_of(&changed, a)["contracts"][0]["period"]["maxExtentDate"], "2026-12-31T23:59:59+01:00");
    assert_eq!(release_of(&changed, b)["id"], other["id"]);
}

#[test]
fn the_demo_package_is_valid_and_pays_each_contract_its_attributed_ledger_total() {
    let dir = tempfile::tempdir().unwrap();
    let db: PathBuf = dir.path().join("demo.db");
    assert!(cli(&db).arg("demo").output().unwrap().status.success());
    let (text, _) = export(&db, &dir.path().join("ocds.json"));
    let package: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(validate(&package), 6, "one release per demo contract");
    check_rules(&package, PREFIX);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (attributed, clients) = rt.block_on(async {
        let pool = store::connect(&db).await.unwrap();
        let attributed: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT a.contract_id, SUM(e.amount_cents) FROM ledger_attribution a
             JOIN ledger_entry e ON e.id = a.ledger_entry_id WHERE a.contract_id IS NOT NULL GROUP BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let clients: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT client_number FROM placement").fetch_all(&pool).await.unwrap();
        pool.close().await;
        (attributed.into_iter().collect::<BTreeMap<i64, i64>>(), clients)
    });
    assert!(!attributed.is_empty(), "the demo attributes ledger lines to contracts");
    for (contract, total) in &attributed {
        let r = release_of(&package, *contract);
        let paid: i64 = r["contracts"][0]["implementation"]["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| cents(&t["value"]["amount"]))
            .sum();
        assert_eq!(paid, *total, "contract {contract}");
    }
    assert!(clients.len() > 100, "the demo has participants");
    for client in &clients {
        assert!(!text.contains(client.as_str()), "client number {client} is published");
    }
}

#[test]
fn without_contracts_nothing_is_published_and_defaults_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("leeg.db");
    let run = cli(&db).args(["export", "ocds"]).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr).trim(),
        "fout: er zijn nog geen contracten; een OCDS-pakket bevat minstens één contract"
    );
    let bad = cli(&db).args(["--ocds-prefix", "utrecht", "export", "ocds"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains(
        "instelling ocds_prefix ('utrecht', uit vlag): een OCDS-prefix is 'ocds-' met zes kleine letters of cijfers"
    ));

    assert!(cli(&db).arg("demo").output().unwrap().status.success());
    let run = cli(&db).env("TAALBUDGET_OCDS_BUYER_ID", "30280353").args(["export", "ocds"]).output().unwrap();
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("let op: nog niet ingesteld: ocds_prefix"), "{stderr}");
    assert!(stderr.contains("let op: nog niet ingesteld: ocds_buyer_name"), "{stderr}");
    assert!(!stderr.contains("ocds_buyer_id"), "set through the environment: {stderr}");
    let package: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(package["releases"][0]["ocid"].as_str().unwrap().starts_with("ocds-xxxxxx-contract-"));
    assert_eq!(package["publisher"]["scheme"], "NL-KVK");
    assert_eq!(package["publisher"]["name"], "Gemeente (naam niet ingesteld)");
}
