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
        format!("href=\"/beheer/audit?actor=&amp;entity=provider&amp;entity_id=&amp;from=&amp;until=&amp;voor={id}\"");
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
