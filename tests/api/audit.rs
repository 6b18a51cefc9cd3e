//! The audit trail: one row per change with before and after, append-only, visible to admins.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;

use crate::helpers::{location, spawn_app};

/// actor, action, entity, before, after
type AuditTuple = (String, String, String, Option<String>, Option<String>);

#[tokio::test]
async fn every_kind_of_change_writes_one_audit_row_with_before_and_after() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let r = app.post_form("/aanbieders", &[("name", "Taal BV"), ("kvk", "12345678"), ("active", "on")]).await;
    let id = location(&r).trim_start_matches("/aanbieders/").split('?').next().unwrap().to_string();
    app.post_form(
        &format!("/aanbieders/{id}"),
        &[("name", "Taal BV2"), ("kvk", "12345678"), ("active", "on"), ("version", "1")],
    )
    .await;
    app.post_form(
        &format!("/aanbieders/{id}/keurmerken"),
        &[("status", "indefinite"), ("decision_date", "2022-01-01"), ("valid_from", "2022-01-01")],
    )
    .await;
    app.post_form(&format!("/aanbieders/{id}/archiveren"), &[("bevestigd", "ja")]).await;
    app.post_form(
        "/beheer/gebruikers",
        &[("username", "nieuw"), ("role", "finance"), ("password", "lang-genoeg-wachtwoord")],
    )
    .await;

    let rows: Vec<AuditTuple> = sqlx::query_as(
        "SELECT actor, action, entity, before_json, after_json FROM audit_log WHERE actor = 'test-admin' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let kinds: Vec<(&str, &str)> = rows.iter().map(|r| (r.1.as_str(), r.2.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("create", "provider"),
            ("update", "provider"),
            ("create", "certification"),
            ("archive", "provider"),
            ("create", "user")
        ]
    );
    let update = &rows[1];
    let before: serde_json::Value = serde_json::from_str(update.3.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(update.4.as_deref().unwrap()).unwrap();
    assert_eq!((before["name"].as_str(), after["name"].as_str()), (Some("Taal BV"), Some("Taal BV2")));
    assert_eq!((before["version"].as_i64(), after["version"].as_i64()), (Some(1), Some(2)));
    assert!(!rows[4].4.as_deref().unwrap().contains("argon2"), "no password hash in the audit log");
}

#[tokio::test]
async fn the_audit_log_refuses_updates_and_deletes() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    app.post_form("/aanbieders", &[("name", "Taal BV"), ("kvk", "12345678")]).await;
    let update = sqlx::query("UPDATE audit_log SET actor = 'iemand anders'").execute(&app.db).await.unwrap_err();
    assert!(update.to_string().contains("het auditlog kan niet worden gewijzigd"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(&app.db).await.unwrap_err();
    assert!(delete.to_string().contains("het auditlog kan niet worden gewijzigd"));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'test-admin'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn admins_filter_and_export_the_audit_log_and_entity_pages_link_their_history() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    app.post_form("/aanbieders", &[("name", "Eerste BV"), ("kvk", "12345678")]).await;
    app.post_form("/aanbieders", &[("name", "Tweede BV"), ("kvk", "87654321")]).await;

    let (status, page) = app.get_html("/beheer/audit?entity=provider&entity_id=2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 wijziging<") && page.contains("Tweede BV") && !page.contains("Eerste BV"));

    let r = app.get("/beheer/audit.csv?entity=provider").await;
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    let csv = csv.trim_start_matches('\u{feff}');
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id,at,actor,action,entity,entity_id,before,after"));
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.contains(",test-admin,create,provider,1,,"));

    let (_, provider_page) = app.get_html("/aanbieders/1").await;
    assert!(provider_page.contains("href=\"/historie/provider/1\""));
    let reader = app.other_browser();
    reader.login_as(Role::PolicyAdviser).await;
    let (status, history) = reader.get_html("/historie/provider/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(history.contains("Eerste BV") && !history.contains("Tweede BV"));
    assert_eq!(reader.get("/historie/user/1").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_log_comes_50_entries_to_a_page_newest_first_and_keeps_the_filter() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    for i in 0..55 {
        let r = app
            .post_form(
                "/aanbieders",
                &[("name", &format!("Aanbieder {i:02} BV")), ("kvk", &format!("{:08}", 10_000_000 + i))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let entries = |page: &str| page.matches("href=\"/historie/provider/").count();

    let (status, first) = app.get_html("/beheer/audit?entity=provider").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(entries(&first), 50);
    assert!(
        first.contains("50 wijzigingen<") && first.contains("Aanbieder 54 BV") && !first.contains("Aanbieder 04 BV")
    );
    assert!(!first.contains("Nieuwste wijzigingen"));
    // Provider 6 is the oldest on the first page (55 down to 6): the next page starts below its entry.
    let id: i64 = sqlx::query_scalar("SELECT id FROM audit_log WHERE entity = 'provider' AND entity_id = '6'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let older =
        format!("href=\"/beheer/audit?actor=&amp;entity=provider&amp;entity_id=&amp;from=&amp;until=&amp;periode=maand&amp;voor={id}\"");
    assert!(first.contains(&older), "{first}");

    let (status, second) = app.get_html(&format!("/beheer/audit?entity=provider&voor={id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(entries(&second), 5);
    assert!(
        second.contains("Aanbieder 04 BV") && second.contains("Aanbieder 00 BV") && !second.contains("Aanbieder 05 BV")
    );
    assert!(second.contains("Nieuwste wijzigingen") && !second.contains("Oudere wijzigingen"));

    // A page id that is not a number is a bad request, not an error page of the server.
    assert_eq!(app.get("/beheer/audit?voor=abc").await.status(), StatusCode::BAD_REQUEST);
}

/// Audit rows written straight into the log (it refuses only changes): (at, actor, entity_id).
async fn old_entries(app: &crate::helpers::TestApp, rows: &[(&str, &str, &str)]) {
    for (at, actor, entity_id) in rows {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json)
             VALUES (?, ?, 'update', 'provider', ?, NULL, '{}')",
        )
        .bind(at)
        .bind(actor)
        .bind(entity_id)
        .execute(&app.db)
        .await
        .unwrap();
    }
}

fn days_ago(days: i64) -> String {
    let day = taalbudget::domain::dates::today() - time::Duration::days(days);
    format!("{}T12:00:00Z", taalbudget::domain::dates::iso(day))
}

#[tokio::test]
async fn the_audit_csv_holds_exactly_the_rows_the_screen_filters_to_and_defaults_to_the_last_month() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    app.post_form("/aanbieders", &[("name", "Eerste BV"), ("kvk", "12345678")]).await;
    app.post_form("/aanbieders", &[("name", "Tweede BV"), ("kvk", "87654321")]).await;
    let (two_months, two_years) = (days_ago(62), days_ago(730));
    old_entries(
        &app,
        &[(&two_months, "=cmd|' /C calc'!A0", "101"), (&two_months, "oud", "102"), (&two_years, "oud", "103")],
    )
    .await;

    // The entity ids the screen shows, newest first, and those in the CSV for the same query.
    let screen = |page: &str| -> Vec<String> {
        page.split("href=\"/historie/provider/").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
    };
    let export = |csv: &str| -> Vec<Vec<String>> {
        let text = csv.strip_prefix('\u{feff}').expect("a BOM");
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
    };
    for (query, ids) in [
        ("entity=provider", vec!["2", "1"]),
        ("entity=provider&periode=maand", vec!["2", "1"]),
        // Newest first by time, then by entry: the old entries were written after the providers.
        ("entity=provider&periode=jaar", vec!["2", "1", "102", "101"]),
        ("entity=provider&periode=alles", vec!["2", "1", "102", "101", "103"]),
        ("entity=provider&actor=oud&periode=alles", vec!["102", "103"]),
        // A start date of its own replaces the period.
        (&format!("entity=provider&from={}", &two_years[..10]), vec!["2", "1", "102", "101", "103"]),
        (&format!("entity=provider&periode=alles&until={}", &two_months[..10]), vec!["102", "101", "103"]),
    ] {
        let (status, page) = app.get_html(&format!("/beheer/audit?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(screen(&page), ids, "screen for {query}");
        let r = app.get(&format!("/beheer/audit.csv?{query}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        let rows = export(&r.text().await.unwrap());
        assert_eq!(rows.iter().map(|r| r[5].as_str()).collect::<Vec<_>>(), ids, "export for {query}");
    }
    // The export link on the screen carries the filter, period included.
    let (_, page) = app.get_html("/beheer/audit?entity=provider&periode=jaar").await;
    assert!(page.contains(
        "href=\"/beheer/audit.csv?actor=&amp;entity=provider&amp;entity_id=&amp;from=&amp;until=&amp;periode=jaar\""
    ));
    // The actor's formula stays text.
    let csv = app.get("/beheer/audit.csv?entity_id=101&periode=jaar").await.text().await.unwrap();
    assert_eq!(export(&csv)[0][2], "'=cmd|' /C calc'!A0");
    // A period that does not exist is a bad request, not a server error.
    assert_eq!(app.get("/beheer/audit.csv?periode=eeuw").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/beheer/audit?periode=eeuw").await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_audit_csv_streams_a_log_larger_than_a_chunk_in_full_newest_first() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    // 1,234 entries: two full chunks of 500 and a part, and ids in descending order across their seams.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234)
         INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json)
         SELECT ?, 'bulk', 'update', 'placement', i, NULL, '{\"n\":' || i || '}' FROM n",
    )
    .bind(days_ago(1))
    .execute(&app.db)
    .await
    .unwrap();
    let r = app.get("/beheer/audit.csv?actor=bulk").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-disposition"], "attachment; filename=\"auditlog.csv\"");
    let text = r.text().await.unwrap();
    let text = text.strip_prefix('\u{feff}').expect("one BOM, at the start");
    assert!(!text.contains('\u{feff}'));
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let ids: Vec<String> = reader.records().map(|r| r.unwrap()[5].to_string()).collect();
    assert_eq!(ids, (1..=1234).rev().map(|i| i.to_string()).collect::<Vec<_>>());
}
