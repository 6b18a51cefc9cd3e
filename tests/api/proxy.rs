//! Behind a reverse proxy: the whole app under a path prefix, and client addresses from trusted proxies.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;

use crate::helpers::{extract_csrf, location, spawn_app_with};

#[tokio::test]
async fn under_a_prefix_login_forms_redirects_links_and_the_stylesheet_all_carry_it() {
    let app = spawn_app_with(|c| c.path_prefix = "/taalbudget".into()).await;
    app.add_user("marieke", Role::ContractManager).await;

    // Not signed in: sent to the login page under the prefix.
    let r = app.get("/aanbieders").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/taalbudget/login?volgende=%2Faanbieders");

    let (status, login) = app.get_html("/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(login.contains("action=\"/taalbudget/login\""), "{login}");
    assert!(login.contains("href=\"/taalbudget/static/style.css\""));
    assert!(login.contains("href=\"/taalbudget/\""), "the brand link");
    assert!(!login.contains("href=\"/static"), "no link escapes the prefix");

    let css = app.get("/static/style.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));

    // Log in through the form, as a browser would, and land back where we wanted to go.
    let token = extract_csrf(&login).unwrap();
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("username", "marieke"),
            ("password", crate::helpers::PASSWORD),
            ("volgende", "/aanbieders"),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/taalbudget/aanbieders");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Path=/taalbudget"), "{cookie}");

    // A form post and its redirect.
    let r = app.post_form("/aanbieders", &[("name", "Taalschool De Brug"), ("kvk", "12345678")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/taalbudget/aanbieders/1?melding=aangemaakt");
    let (status, page) = app.get_html("/aanbieders/1?melding=aangemaakt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Taalschool De Brug"));
    assert!(page.contains("href=\"/taalbudget/aanbieders\""), "navigation carries the prefix");
    assert!(page.contains("action=\"/taalbudget/logout\""));

    // Outside the prefix nothing answers; the bare prefix goes to its root.
    let bare = app.client.get(format!("http://{}/aanbieders", app.addr)).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::NOT_FOUND);
    let root = app.client.get(format!("http://{}/taalbudget", app.addr)).send().await.unwrap();
    assert_eq!(root.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(location(&root), "/taalbudget/");
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);

    // Logging out.
    let r = app.post_form("/logout", &[]).await;
    assert_eq!(location(&r), "/taalbudget/login?melding=uitgelogd");
}

async fn failed_login_address(trusted: bool) -> String {
    let app = spawn_app_with(|c| {
        if trusted {
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        }
    })
    .await;
    let token = app.csrf().await;
    let r = app
        .client
        .post(app.url("/login"))
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .header("x-forwarded-proto", "https")
        .form(&[("username", "niemand"), ("password", "verkeerd-wachtwoord"), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    sqlx::query_scalar("SELECT address FROM login_attempt").fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn forwarded_addresses_count_only_when_the_peer_is_a_trusted_proxy() {
    assert_eq!(failed_login_address(true).await, "203.0.113.9");
    assert_eq!(failed_login_address(false).await, "127.0.0.1");
}
