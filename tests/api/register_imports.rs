//! Register imports on the web for contract managers: Blik op Werk mark decisions and results per measurement
//! year, with a preview that says per row what changes, confirm, the batch page and undo; and who may do it.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::import::{example, template};

use crate::helpers::{location, spawn_app, TestApp};

async fn provider(app: &TestApp, name: &str, kvk: &str) -> i64 {
    let r = app.post_form("/aanbieders", &[("name", name), ("kvk", kvk), ("active", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r).trim_start_matches("/aanbieders/").split('?').next().unwrap().parse().unwrap()
}

/// An xlsx in a shipped template's layout, one string per template column.
fn file(template_name: &str, rows: &[&[&str]]) -> Vec<u8> {
    let t = template::find(template_name).unwrap();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
    example::workbook_text(&t, &rows).unwrap()
}

async fn upload(app: &TestApp, bytes: Vec<u8>, template: &str) -> reqwest::Response {
    let form = app
        .multipart_form()
        .await
        .text("sjabloon", template.to_string())
        .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name("register.xlsx"));
    app.client.post(app.url("/registers/import")).multipart(form).send().await.unwrap()
}

/// Follows a job page until it stops refreshing: (status, location, body).
async fn settle(app: &TestApp, job: &str) -> (StatusCode, String, String) {
    for _ in 0..200 {
        let r = app.get(job).await;
        if r.headers().get("refresh").is_none() {
            // The batch page's address without its one-off success message (`?melding=geimporteerd`).
            let (status, loc) = (r.status(), location(&r).split('?').next().unwrap().to_string());
            return (status, loc, r.text().await.unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {job} never finished");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// The cells of the preview row for a spreadsheet row number.
fn preview_row(page: &str, row: u32) -> String {
    let start = format!("<th scope=\"row\" class=\"num\">{row}</th>");
    let at = page.find(&start).unwrap_or_else(|| panic!("row {row} in the preview: {page}"));
    page[at..].split("</tr>").next().unwrap().to_string()
}

#[tokio::test]
async fn mark_decisions_preview_each_change_then_import_and_undo() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let school = provider(&app, "Taalschool Utrecht", "12345678").await;
    provider(&app, "Inburgering Oost", "23456789").await;
    let r = app
        .post_form(
            &format!("/aanbieders/{school}/keurmerken"),
            &[
                ("status", "fixed_term"),
                ("decision_date", "2021-06-01"),
                ("valid_from", "2021-06-01"),
                ("valid_until", "2025-05-31"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let bytes = file(
        "standaard-keurmerken",
        &[
            &["12345678", "voor bepaalde tijd", "01-06-2021", "01-06-2021", "31-05-2025", "", "", "", ""],
            &["12345678", "ingetrokken", "01-02-2024", "01-02-2024", "", "", "", "", "Register 2024"],
            &["23456789", "voor onbepaalde tijd", "15-03-2023", "15-03-2023", "", "", "", "BOW-9", ""],
            &["99999999", "geschorst", "01-01-2024", "01-01-2024", "", "01-01-2024", "", "", ""],
        ],
    );
    let r = upload(&app, bytes, "standaard-keurmerken").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = location(&r);
    assert!(job.starts_with("/registers/import/taken/"), "{job}");
    let (status, _, page) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Wat er per regel verandert"), "{page}");
    let unchanged = preview_row(&page, 2);
    assert!(unchanged.contains("<td>ongewijzigd (dubbel)</td>"), "{unchanged}");
    let change = preview_row(&page, 3);
    assert!(change.contains("<td>Taalschool Utrecht</td>"), "{change}");
    assert!(change.contains("<td>Ingetrokken</td>"), "{change}");
    assert!(change.contains("<strong>statuswijziging van Voor bepaalde tijd naar Ingetrokken</strong>"), "{change}");
    let first = preview_row(&page, 4);
    assert!(first.contains("<td>Geen keurmerk</td>"), "current status before the file: {first}");
    assert!(first.contains("<strong>nieuw besluit (eerste keurmerk)</strong>"), "{first}");
    assert!(page.contains("KvK-nummer: Onbekend KvK-nummer 99999999: importeer eerst de taalaanbieder"), "{page}");
    assert!(page.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">2</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Al eerder geïmporteerd (dubbel)</th><td class=\"num\">1</td>"));
    assert!(!page.contains("Totaal van de nieuwe regels"), "marks have no amounts");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM certification").await, 1, "the preview writes nothing");

    // A file with an error needs the explicit choice for the good rows only.
    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Vink aan dat u alleen de goede regels wilt importeren"), "{page}");
    assert!(page.contains("aria-describedby=\"alleen_goede-fout\""), "{page}");
    assert!(!page.contains(" required"), "no browser validation in English: {page}");
    let r = app.post_form(&format!("{job}/bevestigen"), &[("alleen_goede", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, batch, _) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(batch.starts_with("/registers/import/batches/"), "{batch}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM certification").await, 3);
    let (status, page) = app.get_html(&batch).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<th scope=\"row\">Soort</th><td>keurmerken</td>"), "{page}");
    assert!(page.contains("href=\"/keurmerken\""));
    let (_, provider_page) = app.get_html(&format!("/aanbieders/{school}")).await;
    assert!(provider_page.contains("Register 2024"), "the imported decision is in the provider's history");

    // Finance neither sees the register import nor this batch under its own import screens.
    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    assert_eq!(finance.get("/registers/import").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(finance.get(&job).await.status(), StatusCode::FORBIDDEN);
    let id = batch.trim_start_matches("/registers/import/batches/");
    assert_eq!(finance.get(&format!("/import/batches/{id}")).await.status(), StatusCode::NOT_FOUND);
    let r = finance.post_form(&format!("/import/batches/{id}/ongedaan"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM certification").await, 3);

    let r = app.post_form(&format!("{batch}/ongedaan"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM certification").await, 1, "undo removes exactly the batch");
    let (_, page) = app.get_html(&batch).await;
    assert!(page.contains("ongedaan gemaakt door test-contract_manager"), "{page}");
}

#[tokio::test]
async fn results_are_imported_on_the_web_and_a_changed_year_is_refused_as_a_conflict() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let school = provider(&app, "Taalschool Utrecht", "12345678").await;
    let bytes = file(
        "standaard-resultaten",
        &[
            &["12345678", "2024", "b1", "40", "30", "5", "80", "85", "75", "90", "", "7,5", "85", "14"],
            &["12345678", "2025", "z", "12", "6", "1", "", "", "", "", "", "", "", ""],
        ],
    );
    let job = location(&upload(&app, bytes, "standaard-resultaten").await);
    let (_, _, page) = settle(&app, &job).await;
    let row = preview_row(&page, 2);
    assert!(row.contains("<td>80 / 85 / 75 / 90 / –</td>"), "{row}");
    assert!(row.contains("<strong>nieuwe resultaten B1 2024</strong>"), "{row}");
    assert!(page.contains("Importeren: 2 nieuwe regels"), "{page}");
    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, batch, _) = settle(&app, &job).await;
    assert!(batch.starts_with("/registers/import/batches/"), "{batch}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM quality_result").await, 2);
    let (_, quality) = app.get_html(&format!("/kwaliteit/aanbieders/{school}")).await;
    assert!(quality.contains("Resultaten per meetjaar"), "{quality}");

    // The same year with other figures: refused with old -> new, nothing overwritten.
    let bytes = file(
        "standaard-resultaten",
        &[&["12345678", "2024", "b1", "40", "31", "5", "80", "85", "75", "90", "", "7,5", "85", "14"]],
    );
    let job = location(&upload(&app, bytes, "standaard-resultaten").await);
    let (_, _, page) = settle(&app, &job).await;
    assert!(page.contains("zijn al andere resultaten vastgelegd (afgerond 30 → 31)"), "{page}");
    assert!(page.contains("Er is niets nieuws om te importeren."), "{page}");
    assert_eq!(count(&app, "SELECT completed FROM quality_result WHERE year = 2024").await, 30);
}

#[tokio::test]
async fn the_quality_dashboard_and_the_marks_page_lead_to_the_register_import_for_contract_managers() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let (_, dashboard) = app.get_html("/kwaliteit").await;
    assert!(dashboard.contains("href=\"/registers/import?sjabloon=standaard-resultaten\""), "{dashboard}");
    assert!(dashboard.contains("href=\"/registers/import?sjabloon=standaard-keurmerken\""));
    let (_, marks) = app.get_html("/keurmerken").await;
    assert!(marks.contains("href=\"/registers/import?sjabloon=standaard-keurmerken\""), "{marks}");
    let (status, form) = app.get_html("/registers/import?sjabloon=standaard-keurmerken").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("<option value=\"standaard-keurmerken\" selected>"), "{form}");
    assert!(!form.contains("value=\"standaard-grootboek\""), "ledger templates are finance's");

    let policy = app.other_browser();
    policy.login_as(Role::PolicyAdviser).await;
    let (_, dashboard) = policy.get_html("/kwaliteit").await;
    assert!(!dashboard.contains("/registers/import"), "no link to what this role may not do");
}

/// Progress reports under Registerimport: the preview counts the rows and shows a report that conflicts with the
/// stored one as an error; confirming the good rows makes a batch that leads to the timeline; undo removes
/// exactly the batch's reports and keeps the one entered on screen.
#[tokio::test]
async fn progress_reports_are_imported_on_the_web_with_a_conflict_shown_and_undone() {
    use crate::progress::{contract, placement, report};
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let c = contract(&app, "Taal Noord BV", "12345678", "UTR-A").await;
    let p = placement(&app, c, "K-10", "2023-02-01", "2025-01-31", "2023-01-02").await;
    let r = report(
        &app,
        p,
        &[
            ("period", "2023-02"),
            ("first_lesson", "2023-02-01"),
            ("offered", "40"),
            ("attended", "36"),
            ("absence", "4"),
            ("absence_reason", "illness"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (form_status, form) = app.get_html("/registers/import?sjabloon=standaard-voortgang").await;
    assert_eq!(form_status, StatusCode::OK);
    assert!(form.contains("<option value=\"standaard-voortgang\" selected>"), "{form}");

    // KvK, client, route, period, first lesson, offered, attended, absence, reason, catch-up, 4 levels, exams, remarks.
    let bytes = file(
        "standaard-voortgang",
        &[
            &["12345678", "K-10", "", "2023-02", "01-02-2023", "40", "30", "10", "ziekte", "", "", "", "", "", "", ""],
            &["12345678", "K-10", "", "2023-03", "", "40", "38", "2", "ziekte", "", "A2", "", "", "", "", ""],
            &[
                "12345678",
                "K-10",
                "b1",
                "2023-04",
                "",
                "40",
                "32",
                "8",
                "ziekte",
                "",
                "",
                "",
                "",
                "",
                "lezen 20-04-2023 geslaagd",
                "",
            ],
        ],
    );
    let r = upload(&app, bytes, "standaard-voortgang").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = location(&r);
    let (status, _, page) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<th scope=\"row\">Gelezen</th><td class=\"num\">3</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">2</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Afgewezen</th><td class=\"num\">1</td>"), "{page}");
    assert!(page.contains("Het bestand bevat 1 fout"), "{page}");
    assert!(
        page.contains("Conflict: voor klant K-10 is over februari 2023 al een rapportage opgeslagen met andere cijfers (uren aanwezig"),
        "the conflict is an error row: {page}"
    );
    assert!(
        page.contains("Er wordt niets samengevoegd; de opgeslagen rapportage is op het scherm ingevoerd;"),
        "no advice to undo an import that never happened: {page}"
    );
    assert!(page.contains("maart 2023"), "the good rows are previewed: {page}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM progress_report").await, 1, "the preview writes nothing");

    let r = app.post_form(&format!("{job}/bevestigen"), &[("alleen_goede", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, batch, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(batch.starts_with("/registers/import/batches/"), "{batch}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM progress_report").await, 3);
    assert_eq!(
        count(&app, "SELECT attended_x100 FROM progress_report WHERE period = '2023-02'").await,
        3600,
        "not merged"
    );
    let (status, page) = app.get_html(&batch).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<th scope=\"row\">Soort</th><td>voortgangsrapportages</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Geïmporteerd</th><td class=\"num\">2</td>"), "{page}");
    assert!(
        page.contains("<p><a href=\"/plaatsingen\">Naar de plaatsingen</a> (elke plaatsing heeft een tijdlijn"),
        "a way to the placements and their timelines: {page}"
    );
    let (_, timeline) = app.get_html(&format!("/plaatsingen/{p}/tijdlijn")).await;
    assert!(timeline.contains("lezen 20-04-2023: geslaagd"), "{timeline}");

    let r = app.post_form(&format!("{batch}/ongedaan"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM progress_report").await, 1, "undo keeps the report entered on screen");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM exam_attempt").await, 0);
    let (_, page) = app.get_html(&batch).await;
    assert!(page.contains("ongedaan gemaakt door test-contract_manager"), "{page}");
}
