//! Personal API tokens: a bearer token signs an API request in with its user's role; nothing else does.

use reqwest::StatusCode;
use serde_json::Value;
use taalbudget::auth::roles::Role;
use taalbudget::store;

use crate::helpers::spawn_app;

const PATH: &str = "/api/v1/ocds/releases";

async fn problem(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "an API error is a problem document"
    );
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn a_token_signs_in_and_a_missing_or_unknown_one_is_a_401_problem() {
    let app = spawn_app().await;
    let token = app.api_token(Role::PolicyAdviser).await;
    assert!(token.starts_with("tb_") && token.len() == 67, "{token}");

    // Signed in: the empty database has no contracts, which the API says as a problem of its own.
    let (status, body) = problem(app.api_get(PATH, &token).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["type"], "/api/problemen/niet-gevonden");
    assert_eq!(body["status"], 404);
    assert_eq!(body["instance"], PATH);
    assert!(body["detail"].as_str().unwrap().contains("nog geen contracten"), "{body}");

    let none = reqwest::Client::new().get(app.url(PATH)).send().await.unwrap();
    assert_eq!(none.headers().get("www-authenticate").unwrap(), "Bearer realm=\"taalbudget\"");
    let (status, body) = problem(none).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["type"], "/api/problemen/niet-aangemeld");

    let wrong = format!("tb_{}", "0".repeat(64));
    let (status, body) = problem(app.api_get(PATH, &wrong).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].as_str().unwrap().contains("onbekend, verlopen of ingetrokken"), "{body}");
    let basic = reqwest::Client::new().get(app.url(PATH)).basic_auth("api-policy_adviser", Some("x")).send().await;
    assert_eq!(basic.unwrap().status(), StatusCode::UNAUTHORIZED, "only bearer tokens count");
}

#[tokio::test]
async fn a_session_cookie_does_not_sign_an_api_request_in() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    assert_eq!(app.get("/aanbieders").await.status(), StatusCode::OK, "the browser is signed in");
    let (status, _) = problem(app.get(PATH).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_stops_working_when_revoked_expired_or_its_user_is_deactivated_or_changes_role() {
    let app = spawn_app().await;
    let works = |token: String| {
        let app = &app;
        async move { app.api_get(PATH, &token).await.status() != StatusCode::UNAUTHORIZED }
    };

    let revoked = app.api_token(Role::Finance).await;
    assert!(works(revoked.clone()).await);
    let id = store::tokens::all(&app.db).await.unwrap()[0].id;
    store::tokens::revoke(&app.db, id, "test").await.unwrap();
    assert!(!works(revoked).await, "revoked");

    let expired = app.api_token(Role::Finance).await;
    sqlx::query("UPDATE api_token SET expires_on = date('now', '-1 day') WHERE id = (SELECT MAX(id) FROM api_token)")
        .execute(&app.db)
        .await
        .unwrap();
    assert!(!works(expired).await, "expired");

    let moved = app.api_token(Role::ContractManager).await;
    let user = store::users::credentials(&app.db, "api-contract_manager").await.unwrap().unwrap().0;
    store::users::update(&app.db, user.id, user.version, Role::Admin, true, "test").await.unwrap();
    assert!(!works(moved).await, "role changed: the token does not take the new role");

    let gone = app.api_token(Role::PolicyAdviser).await;
    let user = store::users::credentials(&app.db, "api-policy_adviser").await.unwrap().unwrap().0;
    store::users::update(&app.db, user.id, user.version, Role::PolicyAdviser, false, "test").await.unwrap();
    assert!(!works(gone).await, "deactivated");

    // Only the hash is stored, and making and revoking are audited.
    let secrets: Vec<String> =
        sqlx::query_scalar("SELECT secret_hash FROM api_token").fetch_all(&app.db).await.unwrap();
    assert!(secrets.iter().all(|h| h.len() == 64 && !h.starts_with("tb_")));
    assert_eq!(app.audit_count("api_token").await, 5, "four made, one revoked");
}

#[tokio::test]
async fn tokens_are_refused_for_a_year_and_a_day_and_without_a_name() {
    let app = spawn_app().await;
    let id = app.add_user("iemand", Role::Finance).await;
    assert!(matches!(
        store::tokens::create(&app.db, id, "script", 366, "test").await,
        Err(store::tokens::TokenError::Days(366))
    ));
    assert!(matches!(store::tokens::create(&app.db, id, "  ", 30, "test").await, Err(store::tokens::TokenError::Name)));
    assert!(store::tokens::create(&app.db, id, "script", 365, "test").await.is_ok());
}
