//! The page frame every screen shares: tables in their own scroll region, and the icon the browser asks for.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;

use crate::helpers::{certified_provider, spawn_app};

#[tokio::test]
async fn every_table_on_a_page_scrolls_in_its_own_region_labelled_by_its_caption() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    certified_provider(&app, "Taalhuis Noord", "12345678").await;

    let (status, page) = app.get_html("/aanbieders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(
            "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"tabel-1\"><table>\
             <caption id=\"tabel-1\">1 taalaanbieder</caption>"
        ),
        "{page}"
    );
    assert_eq!(page.matches("<table").count(), 1, "{page}");
    assert_eq!(page.matches("class=\"table-scroll\"").count(), 1, "{page}");
}

#[tokio::test]
async fn the_favicon_is_served_and_every_page_links_it() {
    let app = spawn_app().await;
    let icon = app.get("/static/favicon.svg").await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));

    let (_, login) = app.get_html("/login").await;
    assert!(login.contains("<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">"), "{login}");
}
