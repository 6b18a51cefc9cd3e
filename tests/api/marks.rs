//! Blik op Werk decisions over HTTP and the keurmerk overview.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::dates;
use taalbudget::store;
use time::Duration;

use crate::helpers::{location, spawn_app, TestApp};

async fn provider(app: &TestApp, name: &str, kvk: &str) -> i64 {
    let r = app.post_form("/aanbieders", &[("name", name), ("kvk", kvk), ("active", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    location(&r).trim_start_matches("/aanbieders/").split('?').next().unwrap().parse().unwrap()
}

fn day(offset: i64) -> String {
    dates::iso(dates::today() + Duration::days(offset))
}

async fn decide(app: &TestApp, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(&format!("/aanbieders/{id}/keurmerken"), fields).await
}

/// The overview's table rows, in order: (name, situation text).
async fn overview_rows(app: &TestApp) -> Vec<String> {
    let (status, page) = app.get_html("/keurmerken").await;
    assert_eq!(status, StatusCode::OK);
    page.split("<th scope=\"row\">").skip(1).map(|row| row.split("</tr>").next().unwrap().to_string()).collect()
}

#[tokio::test]
async fn recording_decisions_changes_the_overview_most_urgent_first() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let fine = provider(&app, "Altijd Geldig", "11111111").await;
    let lapsing = provider(&app, "Bijna Verlopen", "22222222").await;
    let suspended = provider(&app, "Geschorst Taal", "33333333").await;
    let _none = provider(&app, "Zonder Keurmerk", "44444444").await;

    let (from, until_soon) = (day(-300), day(30));
    assert_eq!(
        decide(&app, fine, &[("status", "indefinite"), ("decision_date", &day(-400)), ("valid_from", &day(-400))])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    decide(
        &app,
        lapsing,
        &[("status", "fixed_term"), ("decision_date", &from), ("valid_from", &from), ("valid_until", &until_soon)],
    )
    .await;
    decide(&app, suspended, &[("status", "indefinite"), ("decision_date", &day(-500)), ("valid_from", &day(-500))])
        .await;
    let r = decide(
        &app,
        suspended,
        &[
            ("status", "suspended"),
            ("decision_date", &day(-10)),
            ("valid_from", &day(-5)),
            ("suspended_from", &day(-5)),
            ("suspended_until", &day(55)),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let rows = overview_rows(&app).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains("Zonder Keurmerk") && rows[0].contains("Geen geldig keurmerk"));
    assert!(rows[1].contains("Geschorst Taal") && rows[1].contains("<td>55</td>"), "{}", rows[1]);
    assert!(rows[2].contains("Bijna Verlopen") && rows[2].contains("<td>30</td>"), "{}", rows[2]);

    // Renewing the lapsing mark takes it off the list.
    decide(&app, lapsing, &[("status", "indefinite"), ("decision_date", &day(-1)), ("valid_from", &day(31))]).await;
    let rows = overview_rows(&app).await;
    assert_eq!(rows.len(), 2);
    assert!(!rows.iter().any(|r| r.contains("Bijna Verlopen")));

    let (_, page) = app.get_html(&format!("/aanbieders/{suspended}")).await;
    assert!(page
        .contains(&format!("Vandaag: <span class=\"status status-bad\">Geschorst tot en met {}</span>", display(55))));
}

fn display(offset: i64) -> String {
    dates::display(dates::today() + Duration::days(offset))
}

/// A fixed-term mark ending in 45 days reads the same on the provider page, /keurmerken, /kwaliteit and the
/// provider's quality report (page and xlsx): one function, one set of words.
#[tokio::test]
async fn a_mark_status_reads_the_same_on_every_screen() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = provider(&app, "Bijna Verlopen", "22222222").await;
    let r = decide(
        &app,
        id,
        &[
            ("status", "fixed_term"),
            ("decision_date", &day(-300)),
            ("valid_from", &day(-300)),
            ("valid_until", &day(45)),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let words = format!("Verloopt binnenkort: geldig tot en met {} (nog 45 dagen)", display(45));
    let shown = format!("<span class=\"status status-warn\">{words}</span>");
    for path in
        [format!("/aanbieders/{id}"), "/keurmerken".into(), "/kwaliteit".into(), format!("/kwaliteit/aanbieders/{id}")]
    {
        let (status, page) = app.get_html(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&shown), "{path}: {page}");
        assert!(!page.contains("status-ok\">Geldig"), "{path} must not call it plainly valid");
    }
    let bytes = app.get(&format!("/kwaliteit/aanbieders/{id}/rapport.xlsx")).await.bytes().await.unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let summary = book.worksheet_range("Samenvatting").unwrap();
    assert_eq!(summary.get_value((3, 1)).unwrap().to_string(), words);
}

#[tokio::test]
async fn bad_decisions_come_back_with_a_dutch_message_and_save_nothing() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = provider(&app, "Taal BV", "55555555").await;
    decide(
        &app,
        id,
        &[
            ("status", "fixed_term"),
            ("decision_date", "2022-01-01"),
            ("valid_from", "2022-01-01"),
            ("valid_until", "2023-12-31"),
        ],
    )
    .await;
    let long = "x".repeat(2001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("status", "fixed_term"),
                ("decision_date", "2024-01-01"),
                ("valid_from", "2024-01-01"),
                ("valid_until", "2023-06-01"),
            ],
            "Geldig tot (01-06-2023) ligt vóór geldig vanaf (01-01-2024).",
        ),
        (
            vec![
                ("status", "fixed_term"),
                ("decision_date", "2023-06-01"),
                ("valid_from", "2023-06-01"),
                ("valid_until", "2025-05-31"),
            ],
            "Deze periode overlapt met het keurmerk voor bepaalde tijd van 01-01-2022 tot en met 31-12-2023.",
        ),
        (
            vec![("status", "withdrawn"), ("decision_date", "2022-01-01"), ("valid_from", "2022-02-01")],
            "Twee besluiten op één dag",
        ),
        (
            vec![("status", "gecertificeerd"), ("decision_date", "2024-01-01"), ("valid_from", "2024-01-01")],
            "Onbekende status 'gecertificeerd'",
        ),
        (
            vec![("status", "indefinite"), ("decision_date", "31-02-2024"), ("valid_from", "2024-01-01")],
            "'31-02-2024' is geen geldige datum",
        ),
        (
            vec![
                ("status", "indefinite"),
                ("decision_date", "2024-01-01"),
                ("valid_from", "2024-01-01"),
                ("note", &long),
            ],
            "Toelichting mag hoogstens 2000 tekens lang zijn",
        ),
        (
            vec![
                ("status", "suspended"),
                ("decision_date", "2024-03-01"),
                ("valid_from", "2024-03-01"),
                ("suspended_from", "2024-03-01"),
                ("suspended_until", "2024-04-01"),
            ],
            "Op 01-03-2024 is er geen geldig keurmerk om te schorsen.",
        ),
    ];
    for (fields, message) in cases {
        let r = decide(&app, id, &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{fields:?}: expected {message:?}");
    }
    assert_eq!(store::certifications::for_provider(&app.db, id).await.unwrap().len(), 1);
    assert_eq!(app.audit_count("certification").await, 1);
}
