//! Register rows the stored data refuses although the file alone allowed them (issue 19, "typed refusals"): a
//! screen stored a conflicting decision, other payment milestones or closed the year after the file was read.
//! Each is a row error with sheet, row, column, value and a Dutch message, in the preview (dry run) and in the
//! import, where before the store's refusal either ended as "databasefout" or was not checked at all.

use std::path::{Path, PathBuf};

use taalbudget::domain::certification::{CertificationStatus, Decision};
use taalbudget::domain::contract::{ContractDraft, Due, Milestone, Share};
use taalbudget::domain::dates::parse_iso;
use taalbudget::domain::funding::{FundingStream, StreamKind};
use taalbudget::domain::provider::ProviderForm;
use taalbudget::domain::route::Route;
use taalbudget::import::certifications::Certifications;
use taalbudget::import::contracts::Contracts;
use taalbudget::import::engine::{self, ImportOptions, Outcome, WriteGate};
use taalbudget::import::funding::Funding;
use taalbudget::import::{example, template, ImportKind, RowError};
use taalbudget::money::Money;
use taalbudget::store::{self, Db};

use crate::helpers::{spawn_app_with, TestApp};

const ACTOR: &str = "test-import";

async fn app_and_dir() -> (TestApp, PathBuf) {
    let mut db_path = PathBuf::new();
    let app = spawn_app_with(|c| db_path = c.db_path.clone()).await;
    (app, db_path.parent().unwrap().to_path_buf())
}

/// An xlsx in a shipped template's layout, one string per template column.
fn file(dir: &Path, template_name: &str, rows: &[&[&str]]) -> PathBuf {
    let t = template::find(template_name).unwrap();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
    let path = dir.join(format!("{template_name}.xlsx"));
    std::fs::write(&path, example::workbook_text(&t, &rows).unwrap()).unwrap();
    path
}

fn request(path: &Path, template_name: &str) -> engine::ImportRequest {
    engine::ImportRequest {
        path: path.to_path_buf(),
        file_name: "register.xlsx".into(),
        template: template::find(template_name).unwrap(),
        actor: ACTOR.into(),
    }
}

async fn dry_run<K: ImportKind>(db: &Db, kind: K, path: &Path, template_name: &str) -> Outcome {
    let opts = ImportOptions { dry_run: true, ..Default::default() };
    engine::run(db, kind, request(path, template_name), opts).await.unwrap()
}

/// Imports the file with `kind` (loaded before), running `change` between the read phase and the write phase.
async fn import_changed_meanwhile<K: ImportKind>(
    db: &Db,
    kind: K,
    path: &Path,
    template_name: &str,
    skip_invalid: bool,
    change: impl std::future::Future<Output = ()>,
) -> Outcome {
    let gate = WriteGate::default();
    let opts = ImportOptions { gate_before_write: Some(gate.clone()), skip_invalid, ..Default::default() };
    let (db2, req) = (db.clone(), request(path, template_name));
    let running = tokio::spawn(async move { engine::run(&db2, kind, req, opts).await.unwrap() });
    gate.reached.notified().await;
    change.await;
    gate.resume.notify_one();
    running.await.unwrap()
}

fn error(sheet: &str, row: u32, column: &str, value: &str, message: &str) -> RowError {
    RowError {
        sheet: sheet.into(),
        row: Some(row),
        column: Some(column.into()),
        value: Some(value.into()),
        message: message.into(),
    }
}

/// (read, imported, duplicate, rejected) and the batch.
fn counts(o: &Outcome) -> (u64, u64, u64, u64, Option<i64>) {
    let s = &o.summary;
    (s.rows_read, s.rows_imported, s.rows_duplicate, s.rows_rejected, s.batch)
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

async fn provider(db: &Db, kvk: &str) -> i64 {
    let form = ProviderForm {
        name: format!("Aanbieder {kvk}"),
        kvk: kvk.into(),
        active: Some("on".into()),
        ..Default::default()
    };
    store::providers::create(db, &form.validate().unwrap(), "test").await.unwrap()
}

fn fixed_term(on: &str, until: &str) -> Decision {
    Decision {
        id: 0,
        status: CertificationStatus::FixedTerm,
        decision_date: parse_iso(on).unwrap(),
        valid_from: parse_iso(on).unwrap(),
        valid_until: Some(parse_iso(until).unwrap()),
        suspended_from: None,
        suspended_until: None,
        registration_number: String::new(),
        note: String::new(),
    }
}

const DECISION_ROW: &[&str] =
    &["12345678", "voor onbepaalde tijd", "01-03-2024", "01-03-2024", "", "", "", "BOW-1", ""];
const TWO_ON_ONE_DAY: &str = "Besluitdatum: Er is al een besluit van 01-03-2024 (voor bepaalde tijd). Twee besluiten \
     op één dag spreken elkaar tegen; corrigeer het bestaande besluit. (opgeslagen nadat het bestand was ingelezen)";

#[tokio::test]
async fn a_mark_decision_stored_on_a_screen_after_the_file_was_read_refuses_the_row_in_preview_and_import() {
    let (app, dir) = app_and_dir().await;
    let db = &app.db;
    let p = provider(db, "12345678").await;
    let path = file(&dir, "standaard-keurmerken", &[DECISION_ROW]);

    // Preview: the file is read (and its rows checked) before a screen stores another decision of 1 March 2024.
    let kind = Certifications::load(db).await.unwrap();
    store::certifications::insert(db, p, &fixed_term("2024-03-01", "2026-02-28"), "scherm").await.unwrap();
    let preview = dry_run(db, kind, &path, "standaard-keurmerken").await;
    let sheet = preview.sheet.clone();
    assert_eq!(counts(&preview), (1, 0, 0, 1, None));
    assert_eq!(preview.summary.errors, vec![error(&sheet, 2, "C", "2024-03-01", TWO_ON_ONE_DAY)]);
    assert_eq!(preview.summary.errors_total, 1);

    // Import: the screen stores its decision between the read phase and the write phase.
    sqlx::query("DELETE FROM certification").execute(db).await.unwrap();
    let kind = Certifications::load(db).await.unwrap();
    let screen = async {
        store::certifications::insert(db, p, &fixed_term("2024-03-01", "2026-02-28"), "scherm").await.unwrap();
    };
    let out = import_changed_meanwhile(db, kind, &path, "standaard-keurmerken", false, screen).await;
    assert_eq!(counts(&out), (1, 0, 0, 1, None));
    assert_eq!(out.summary.errors, vec![error(&sheet, 2, "C", "2024-03-01", TWO_ON_ONE_DAY)]);
    // Only the screen's decision is stored: two decisions on one day never both reach the register.
    assert_eq!(count(db, "SELECT COUNT(*) FROM certification").await, 1);
    assert_eq!(count(db, "SELECT COUNT(*) FROM import_batch").await, 0);
}

async fn contract_without_milestones(db: &Db) -> i64 {
    let p = provider(db, "12345678").await;
    let d = ContractDraft {
        reference: "C-2022-01".into(),
        title: "B1-route Utrecht".into(),
        provider_id: p,
        lot: String::new(),
        routes: vec![Route::B1],
        start_date: parse_iso("2022-01-01").unwrap(),
        initial_end_date: parse_iso("2025-12-31").unwrap(),
        ceiling: Money::from_cents(150_000_000),
        notes: String::new(),
    };
    store::contracts::create(db, &d, "test").await.unwrap()
}

/// 50% at the start, 50% at completion: other moments than the file's.
fn halves() -> Vec<Milestone> {
    let half = |name: &str, due: &str| Milestone {
        name: name.into(),
        share: Share::parse("50%").unwrap(),
        due: Due::from_parts(due, None).unwrap(),
    };
    vec![half("Start", "start"), half("Afronding", "completion")]
}

const MOMENTS: &str = "Start 40% bij start; Tussentijds 30% na 12 maanden; Afronding 30% bij afronding";
const TARIFF_ROW: &[&str] = &["C-2022-01", "b1", "01-01-2022", "", "10.000,00", MOMENTS];
const OTHER_MOMENTS: &str =
    "Betaalmomenten: Contract C-2022-01 heeft voor de B1-route inmiddels andere betaalmomenten \
     (Start 50% bij de start; Afronding 50% bij afronding); een import vervangt ze niet, wijzig ze op het scherm \
     van het contract";

#[tokio::test]
async fn payment_milestones_set_on_a_screen_after_the_file_was_read_are_never_replaced_by_the_import() {
    let (app, dir) = app_and_dir().await;
    let db = &app.db;
    let c = contract_without_milestones(db).await;
    let path = file(&dir, "standaard-tarieven", &[TARIFF_ROW]);
    let t = template::find("standaard-tarieven").unwrap();

    let kind = Contracts::load(db, &t).await.unwrap();
    store::contracts::set_milestones(db, c, Route::B1, &halves(), "scherm").await.unwrap();
    let preview = dry_run(db, kind, &path, "standaard-tarieven").await;
    let sheet = preview.sheet.clone();
    assert_eq!(counts(&preview), (1, 0, 0, 1, None));
    let moments = "Start 40% bij de start; Tussentijds 30% 12 maanden na de start; Afronding 30% bij afronding";
    assert_eq!(preview.summary.errors, vec![error(&sheet, 2, "F", moments, OTHER_MOMENTS)]);

    // Before, the write phase replaced the screen's milestones with the file's without a word.
    sqlx::query("DELETE FROM payment_milestone").execute(db).await.unwrap();
    let kind = Contracts::load(db, &t).await.unwrap();
    let screen = async {
        store::contracts::set_milestones(db, c, Route::B1, &halves(), "scherm").await.unwrap();
    };
    let out = import_changed_meanwhile(db, kind, &path, "standaard-tarieven", false, screen).await;
    assert_eq!(counts(&out), (1, 0, 0, 1, None));
    assert_eq!(out.summary.errors, vec![error(&sheet, 2, "F", moments, OTHER_MOMENTS)]);
    assert_eq!(count(db, "SELECT COUNT(*) FROM tariff").await, 0);
    // The screen's two halves stand.
    assert_eq!(count(db, "SELECT COUNT(*) FROM payment_milestone WHERE share_bp = 5000").await, 2);
    assert_eq!(count(db, "SELECT COUNT(*) FROM payment_milestone").await, 2);
}

async fn stream(db: &Db) {
    let s = FundingStream {
        id: 0,
        code: "SPUK".into(),
        name: "Bron SPUK".into(),
        kind: StreamKind::Other,
        cohorts: Vec::new(),
        spend_from: parse_iso("2022-01-01").unwrap(),
        spend_until: Some(parse_iso("2027-12-31").unwrap()),
        carry_over: false,
        notes: String::new(),
    };
    store::funding::create_stream(db, &s, "test").await.unwrap();
}

const CLOSED_2024: &str = "Jaar: 2024 is afgesloten. Vraag een beheerder het jaar te heropenen of laat deze regel weg.";

#[tokio::test]
async fn a_year_closed_after_the_file_was_read_is_a_row_error_on_jaar_in_preview_and_import() {
    let (app, dir) = app_and_dir().await;
    let db = &app.db;
    stream(db).await;
    let path = file(
        &dir,
        "standaard-financiering",
        &[
            &["SPUK", "2024", "voorschot", "100.000,00", "BES-2024", "15-01-2024", ""],
            &["SPUK", "2025", "voorschot", "120.000,00", "BES-2025", "15-01-2025", ""],
        ],
    );

    let kind = Funding::load(db).await.unwrap();
    store::funding::close_year(db, 2024, "beheer").await.unwrap();
    let preview = dry_run(db, kind, &path, "standaard-financiering").await;
    let sheet = preview.sheet.clone();
    assert_eq!(counts(&preview), (2, 1, 0, 1, None));
    assert_eq!(preview.summary.errors, vec![error(&sheet, 2, "B", "2024", CLOSED_2024)]);

    // Closed between the phases: before, the batch was refused as a whole; now the row is rejected like any
    // other, and --skip-invalid imports the 2025 row.
    store::funding::reopen_year(db, 2024, "beheer").await.unwrap();
    let kind = Funding::load(db).await.unwrap();
    let close = async { store::funding::close_year(db, 2024, "beheer").await.unwrap() };
    let out = import_changed_meanwhile(db, kind, &path, "standaard-financiering", true, close).await;
    let batch = out.summary.batch.expect("the 2025 row is imported");
    assert_eq!(counts(&out), (2, 1, 0, 1, Some(batch)));
    assert_eq!(out.summary.errors, vec![error(&sheet, 2, "B", "2024", CLOSED_2024)]);
    assert_eq!(count(db, "SELECT COUNT(*) FROM allocation").await, 1);
    assert_eq!(count(db, "SELECT amount_cents FROM allocation WHERE year = 2025").await, 12_000_000);
    let stored = store::imports::get_batch(db, batch).await.unwrap().unwrap();
    assert_eq!((stored.rows_read, stored.rows_imported, stored.rows_rejected), (2, 1, 1));
}
