//! Four-eyes approval of imports (setting `four_eyes_imports`): a ledger or funding batch counts in the
//! reconciliation, the overviews, the kept aggregates and the signals only after another finance user or an
//! admin approves it; rejecting removes it like an undo; a year with a pending batch cannot be closed.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
use taalbudget::import::ledger::LedgerLine;
use taalbudget::import::{cli, engine, example, template, Kind};
use taalbudget::money::{AmountStyle, Money};
use taalbudget::report::reconciliation;
use taalbudget::store;

use crate::helpers::{import_ledger, ledger_line, location, other_stream, spawn_app_with, TestApp, PASSWORD};
use crate::imports::{settle, upload};

/// An app with the setting on (or off), finance signed in as `test-finance`, a stream SPUK and one rule:
/// cost centre KP6100 goes to SPUK; anything else waits in the queue.
async fn app(four_eyes: bool) -> (TestApp, i64) {
    let app = spawn_app_with(|c| c.four_eyes_imports = four_eyes).await;
    app.login_as(Role::Finance).await;
    let spuk = other_stream(&app, "SPUK", "2030-12-31").await;
    let rule = store::attribution::NewRule {
        name: "Inburgering".into(),
        criteria: Criteria { cost_centre: Pattern::exact("KP6100"), ..Default::default() },
        stream_id: spuk,
        budget_line_id: None,
        contract: ContractChoice::None,
    };
    store::attribution::add_rule(&app.db, &rule, "test").await.unwrap();
    (app, spuk)
}

/// Three lines booked in 2024: 100,00 + 250,55 to SPUK by the rule, 49,45 that no rule takes (400,00 in all).
fn december() -> Vec<LedgerLine> {
    vec![
        ledger_line("2024-12-02", "KP6100", "100001", "Cursus B1 december", 10_000),
        ledger_line("2024-12-09", "KP6100", "100001", "Cursus Z december", 25_055),
        ledger_line("2024-12-16", "KP9999", "200002", "Tolk intake", 4_945),
    ]
}

/// Uploads and confirms a ledger file on the web as the signed-in user; returns the batch page's address.
async fn import_on_the_web(app: &TestApp, name: &str, lines: &[LedgerLine]) -> String {
    let bytes = example::workbook(&template::find("standaard-grootboek").unwrap(), lines).unwrap();
    let job = location(&upload(app, name, bytes, "standaard-grootboek").await);
    let (status, _, _) = settle(app, &job).await;
    assert_eq!(status, StatusCode::OK, "preview of {name}");
    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, batch, _) = settle(app, &job).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(batch.starts_with("/import/batches/"), "{batch}");
    batch
}

/// Another browser, signed in as a new user with `role`.
async fn colleague(app: &TestApp, name: &str, role: Role) -> TestApp {
    let other = app.other_browser();
    other.add_user(name, role).await;
    assert_eq!(other.login(name, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    other
}

/// (imported, unattributed, SPUK actual, SPUK available) of the reconciliation of 2024.
async fn figures(app: &TestApp) -> (Money, Money, Money, Money) {
    let r = reconciliation::for_year(&app.db, 2024).await.unwrap();
    let spuk = r.streams.iter().find(|s| s.code == "SPUK").unwrap();
    (r.imported_total, r.unattributed, spuk.actual, spuk.available)
}

/// SPUK's (actual, available) in 2024 in the multi-year overview's JSON, as the page shows it.
async fn overview(app: &TestApp) -> (Money, Money) {
    let json: serde_json::Value =
        app.get("/meerjarenoverzicht/export.json?van=2024&tot=2024").await.json().await.unwrap();
    let rows = json["views"][0]["rows"].as_array().unwrap();
    let spuk = rows.iter().find(|r| r["key"] == "SPUK").unwrap();
    let money = |v: &serde_json::Value| Money::parse_with(v.as_str().unwrap(), AmountStyle::Plain).unwrap();
    (money(&spuk["years"][0]["actual"]), money(&spuk["years"][0]["available"]))
}

fn eur(cents: i64) -> Money {
    Money::from_cents(cents)
}

fn batch_id(page: &str) -> i64 {
    page.trim_start_matches("/import/batches/").parse().unwrap()
}

#[tokio::test]
async fn a_pending_ledger_batch_counts_nowhere_until_a_colleague_approves_it_never_its_importer() {
    let (app, _) = app(true).await;
    // Already counted: 1.000,00 to SPUK, imported before (the engine's default is the setting off).
    import_ledger(&app, &[ledger_line("2024-03-01", "KP6100", "100001", "Cursus maart", 100_000)]).await;
    assert_eq!(figures(&app).await, (eur(100_000), eur(0), eur(100_000), eur(0)));

    let page = import_on_the_web(&app, "december.xlsx", &december()).await;
    let id = batch_id(&page);

    // Before approval every figure is what it was: the 400,00 counts nowhere.
    assert_eq!(figures(&app).await, (eur(100_000), eur(0), eur(100_000), eur(0)));
    assert_eq!(overview(&app).await, (eur(100_000), eur(0)));
    let spend = store::overview::spend(&app.db).await.unwrap();
    assert_eq!(spend, store::overview::spend_fresh(&app.db).await.unwrap());
    assert_eq!(spend.iter().map(|r| r.amount.cents()).sum::<i64>(), 100_000, "kept aggregates without the batch");
    assert_eq!(store::attribution::queue_size(&app.db).await.unwrap(), (0, eur(0)));
    assert_kept_ledger_totals_are_fresh(&app).await;
    let (_, recon) = app.get_html("/aansluiting?jaar=2024").await;
    assert!(!recon.contains("€ 1.350,55") && recon.contains("€ 1.000,00"), "{recon}");

    // Marked on the batch page, in the batch list, on the start page and in the queue.
    let (_, batch) = app.get_html(&page).await;
    assert!(batch.contains("<h2>Deze batch wacht op goedkeuring</h2>"), "{batch}");
    assert!(batch.contains("<th scope=\"row\">Status</th><td><strong>wacht op goedkeuring</strong></td>"), "{batch}");
    assert!(batch.contains("<button type=\"submit\">Batch goedkeuren</button>"), "{batch}");
    let (_, list) = app.get_html("/import").await;
    assert!(list.contains("<td><strong>wacht op goedkeuring</strong></td>"), "{list}");
    let (_, home) = app.get_html("/").await;
    assert!(home.contains("<strong>1</strong> importbatch wacht op goedkeuring"), "{home}");
    assert!(home.contains("<h3 id=\"goedkeuring\">Wachten op goedkeuring</h3>"), "{home}");
    assert!(home.contains(&format!(
        "<a href=\"/import/batches/{id}\">{id}</a></th><td>december.xlsx</td><td>test-finance</td>"
    )));
    let (_, queue) = app.get_html("/toerekening/wachtrij").await;
    assert!(queue.contains("3 regels horen bij een importbatch die <strong>wacht op goedkeuring</strong>"), "{queue}");
    assert!(queue
        .contains(&format!("<strong>wacht op goedkeuring</strong> (<a href=\"/import/batches/{id}\">batch {id}</a>)")));

    // Nobody attributes a pending line by hand.
    let line: i64 = sqlx::query_scalar("SELECT MAX(id) FROM ledger_entry").fetch_one(&app.db).await.unwrap();
    let eigen = other_stream(&app, "EIGEN", "2030-12-31").await.to_string();
    let r = app
        .post_form(
            &format!("/grootboek/{line}/toerekenen"),
            &[("stream_id", &eigen), ("reason", "tolk hoort bij eigen middelen")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("Deze regel hoort bij importbatch {id}, die wacht op goedkeuring;")), "{body}");

    // The importer may not approve their own import.
    let r = app.post_form(&format!("{page}/goedkeuren"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!(
            "U hebt importbatch {id} zelf geïmporteerd en mag die daarom niet goedkeuren (vier ogen). Vraag een andere \
             financieel medewerker of een beheerder om de batch goed te keuren"
        )),
        "{body}"
    );
    assert_eq!(figures(&app).await.0, eur(100_000), "still not counted");

    // A colleague approves: the rules attribute the lines, and every figure moves by exactly the batch.
    let other = colleague(&app, "fin-twee", Role::Finance).await;
    let r = other.post_form(&format!("{page}/goedkeuren"), &[]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, format!("{page}?melding=goedgekeurd")));
    // 1.000,00 + 400,00 imported; 1.000,00 + 100,00 + 250,55 to SPUK; 49,45 in the queue.
    assert_eq!(figures(&app).await, (eur(140_000), eur(4_945), eur(135_055), eur(0)));
    assert_eq!(overview(&app).await, (eur(135_055), eur(0)));
    let spend = store::overview::spend(&app.db).await.unwrap();
    assert_eq!(spend, store::overview::spend_fresh(&app.db).await.unwrap());
    assert_eq!(spend.iter().map(|r| r.amount.cents()).sum::<i64>(), 135_055);
    assert_eq!(store::attribution::queue_size(&app.db).await.unwrap(), (1, eur(4_945)));
    assert_kept_ledger_totals_are_fresh(&app).await;
    let (_, recon) = app.get_html("/aansluiting?jaar=2024").await;
    assert!(recon.contains("€ 1.350,55"), "{recon}");
    let (_, batch) = app.get_html(&page).await;
    assert!(batch.contains("<th scope=\"row\">Goedgekeurd door</th><td>fin-twee op "), "{batch}");
    assert!(!batch.contains("Batch goedkeuren"), "{batch}");
    let (_, home) = app.get_html("/").await;
    assert!(!home.contains("Wachten op goedkeuring"), "{home}");

    // Audited: who approved, when.
    let (actor, after): (String, String) = sqlx::query_as(
        "SELECT actor, after_json FROM audit_log WHERE entity = 'import_batch' AND entity_id = ? AND action = 'approve'",
    )
    .bind(id.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        (actor.as_str(), &after["approval"], &after["approval_by"]),
        ("fin-twee", &"approved".into(), &"fin-twee".into())
    );
    assert!(after["approval_at"].as_str().unwrap().starts_with("20"), "{after}");

    // Approved once: a second approval is refused and changes nothing.
    let r = other.post_form(&format!("{page}/goedkeuren"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(&format!("Importbatch {id} wacht niet op goedkeuring; er is niets veranderd")));
    assert_eq!(figures(&app).await, (eur(140_000), eur(4_945), eur(135_055), eur(0)));
}

/// A funding file: an advance of 5.000,00 for SPUK in 2024 and a budget line of 3.000,00.
fn funding_file(dir: &std::path::Path) -> std::path::PathBuf {
    let t = template::find("standaard-financiering").unwrap();
    let rows: Vec<Vec<String>> = [
        ["SPUK", "2024", "voorschot", "5.000,00", "SPUK-2024-01", "15-01-2024", ""],
        ["SPUK", "2024", "begrotingspost", "3.000,00", "", "", "Taalonderwijs"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect();
    let path = dir.join("financiering.xlsx");
    std::fs::write(&path, example::workbook_text(&t, &rows).unwrap()).unwrap();
    path
}

/// Imports the funding file through the engine as `test-finance`, waiting for approval.
async fn import_funding_pending(app: &TestApp) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let path = funding_file(dir.path());
    let t = template::find("standaard-financiering").unwrap();
    let req = engine::ImportRequest {
        path,
        file_name: "financiering.xlsx".into(),
        template: t,
        actor: "test-finance".into(),
    };
    let opts = engine::ImportOptions { four_eyes: true, ..Default::default() };
    let outcome = cli::run_kind(&app.db, Kind::Funding, req, opts).await.unwrap();
    assert!(outcome.summary.awaits_approval);
    outcome.summary.batch.unwrap()
}

#[tokio::test]
async fn a_pending_funding_batch_is_not_available_until_an_admin_approves_it_and_blocks_the_year_close() {
    let (app, _) = app(true).await;
    import_ledger(&app, &[ledger_line("2024-03-01", "KP6100", "100001", "Cursus maart", 100_000)]).await;
    // The overview reads (and keeps) its inputs before the batch comes in.
    assert_eq!(overview(&app).await, (eur(100_000), eur(0)));
    let id = import_funding_pending(&app).await;

    assert_eq!(figures(&app).await, (eur(100_000), eur(0), eur(100_000), eur(0)));
    assert_eq!(overview(&app).await, (eur(100_000), eur(0)));
    assert!(store::funding::allocations(&app.db, None).await.unwrap().is_empty());
    assert!(store::funding::budget_lines(&app.db, None).await.unwrap().is_empty());

    // The year cannot be closed while the batch waits; the message names it.
    let r = app.post_form("/financiering/jaren/2024/afsluiten", &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!(
            "Jaar 2024 kan nog niet worden afgesloten: importbatch {id} (financiering.xlsx) met boekingen of bedragen \
             in 2024 of eerder wacht op goedkeuring. Laat een andere financieel medewerker of een beheerder die batch \
             goedkeuren of afwijzen en sluit het jaar daarna af"
        )),
        "{body}"
    );
    // Closing 2023 is fine: nothing of 2023 or before waits.
    let r = app.post_form("/financiering/jaren/2023/afsluiten", &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // An admin approves: 5.000,00 available, the budget line is there, and the overview (kept inputs) sees it.
    let admin = colleague(&app, "beheer", Role::Admin).await;
    let r = admin.post_form(&format!("/import/batches/{id}/goedkeuren"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(figures(&app).await, (eur(100_000), eur(0), eur(100_000), eur(500_000)));
    assert_eq!(overview(&app).await, (eur(100_000), eur(500_000)));
    let lines = store::funding::budget_lines(&app.db, None).await.unwrap();
    assert_eq!(
        lines.iter().map(|l| (l.category.as_str(), l.amount)).collect::<Vec<_>>(),
        [("Taalonderwijs", eur(300_000))]
    );

    let r = app.post_form("/financiering/jaren/2024/afsluiten", &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "closes once nothing waits");
}

/// Everything a batch can leave behind, for comparing a rejection with an undo.
/// The ledger totals kept by triggers (migrations 0015 and 0022: a pending batch's lines stay out until approved)
/// equal the ones counted in the ledger under the one rule, `approval::counts`.
async fn assert_kept_ledger_totals_are_fresh(app: &TestApp) {
    use store::attribution::{queue_size, queue_size_fresh, sums, sums_fresh};
    assert_eq!(sums(&app.db).await.unwrap(), sums_fresh(&app.db).await.unwrap(), "kept ledger sums = fresh");
    assert_eq!(queue_size(&app.db).await.unwrap(), queue_size_fresh(&app.db).await.unwrap(), "kept queue = fresh");
}

async fn state(app: &TestApp) -> serde_json::Value {
    assert_kept_ledger_totals_are_fresh(app).await;
    let rows = |sql: &'static str| async move {
        let v: Vec<(i64, i64)> = sqlx::query_as(sql).fetch_all(&app.db).await.unwrap();
        v
    };
    serde_json::json!({
        "ledger": store::imports::ledger_totals(&app.db).await.unwrap(),
        "attributions": rows("SELECT COUNT(*), 0 FROM ledger_attribution").await,
        "spend": rows("SELECT year, amount_cents FROM spend_aggregate ORDER BY 1").await,
        "allocations": rows("SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM allocation").await,
        "budget_lines": rows("SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM budget_line").await,
        "batches": sqlx::query_as::<_, (i64, String, String)>("SELECT id, status, undone_by FROM import_batch ORDER BY id")
            .fetch_all(&app.db).await.unwrap(),
        "reconciliation": reconciliation::for_year(&app.db, 2024).await.unwrap(),
    })
}

#[tokio::test]
async fn rejecting_a_pending_batch_leaves_exactly_what_an_undo_leaves_and_is_audited() {
    let (eyes, _) = app(true).await;
    let (plain, _) = app(false).await;
    for app in [&eyes, &plain] {
        import_ledger(app, &[ledger_line("2024-03-01", "KP6100", "100001", "Cursus maart", 100_000)]).await;
    }
    let pending = import_on_the_web(&eyes, "december.xlsx", &december()).await;
    let counted = import_on_the_web(&plain, "december.xlsx", &december()).await;
    assert_eq!(pending, counted, "the same batch number in both");

    // Rejecting asks first, like undo, and then removes the batch; the importer may reject (as they may undo).
    let r = eyes.post_form(&format!("{pending}/afwijzen"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("<h1>Import van december.xlsx afwijzen?</h1>"), "{confirm}");
    assert!(confirm.contains("Afwijzen verwijdert alle 3 geïmporteerde regels van deze batch (samen € 400,00):"));
    let r = eyes.post_form(&format!("{pending}/afwijzen"), &[("bevestigd", "ja")]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, format!("{pending}?melding=afwijzen")));
    let r = plain.post_form(&format!("{counted}/ongedaan"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (a, b) = (state(&eyes).await, state(&plain).await);
    assert_eq!(a, b);
    assert_eq!(a["ledger"], serde_json::json!([1, 100_000]));

    let (_, page) = eyes.get_html(&pending).await;
    assert!(page.contains("Deze batch is afgewezen door test-finance op "), "{page}");
    let (_, list) = eyes.get_html("/import").await;
    assert!(list.contains("<td>afgewezen</td>"), "{list}");
    let id = batch_id(&pending);
    let (approval, by): (String, String) =
        sqlx::query_as("SELECT approval, approval_by FROM import_batch WHERE id = ?")
            .bind(id)
            .fetch_one(&eyes.db)
            .await
            .unwrap();
    assert_eq!((approval.as_str(), by.as_str()), ("rejected", "test-finance"));
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE entity = 'import_batch' AND entity_id = ? ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&eyes.db)
            .await
            .unwrap();
    assert_eq!(actions, ["import", "reject"]);

    // Rejected is rejected: neither approvable nor rejectable again; the same file can be imported again.
    let other = colleague(&eyes, "fin-twee", Role::Finance).await;
    assert_eq!(other.post_form(&format!("{pending}/goedkeuren"), &[]).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        other.post_form(&format!("{pending}/afwijzen"), &[("bevestigd", "ja")]).await.status(),
        StatusCode::CONFLICT
    );
    let again = import_on_the_web(&eyes, "december.xlsx", &december()).await;
    assert_ne!(again, pending);
    assert_eq!(store::imports::ledger_totals(&eyes.db).await.unwrap(), (4, 140_000));
    assert_eq!(figures(&eyes).await.0, eur(100_000), "the new batch waits too");
}

#[tokio::test]
async fn with_the_setting_off_an_import_counts_at_once_and_nothing_asks_for_approval() {
    let (app, _) = app(false).await;
    let page = import_on_the_web(&app, "december.xlsx", &december()).await;
    assert_eq!(figures(&app).await, (eur(40_000), eur(4_945), eur(35_055), eur(0)));
    let approval: Option<String> =
        sqlx::query_scalar("SELECT approval FROM import_batch").fetch_one(&app.db).await.unwrap();
    assert_eq!(approval, None);
    let (_, batch) = app.get_html(&page).await;
    assert!(!batch.contains("goedkeuring") && batch.contains("Import ongedaan maken…"), "{batch}");
    let (_, home) = app.get_html("/").await;
    assert!(!home.contains("goedkeuring"), "{home}");
    // Nothing to approve or reject.
    let other = colleague(&app, "fin-twee", Role::Finance).await;
    assert_eq!(other.post_form(&format!("{page}/goedkeuren"), &[]).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        other.post_form(&format!("{page}/afwijzen"), &[("bevestigd", "ja")]).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(figures(&app).await, (eur(40_000), eur(4_945), eur(35_055), eur(0)));
}
