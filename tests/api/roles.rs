//! Every route for every role: allowed or forbidden, exactly as the permission matrix says.
//! The table below must list every route; a route added without a declared permission fails here.

use reqwest::{Method, StatusCode};
use taalbudget::auth::roles::Permission::{self, *};
use taalbudget::auth::roles::Role;
use taalbudget::web;

use crate::helpers::{location, spawn_app, TestApp};

/// Every route and the permission it must require.
const EXPECTED: &[(&str, &str, Permission)] = &[
    ("GET", "/health", Public),
    ("GET", "/ready", Public),
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("POST", "/logout", SignedIn),
    ("GET", "/account", SignedIn),
    ("GET", "/account/wachtwoord", SignedIn),
    ("POST", "/account/wachtwoord", SignedIn),
    ("POST", "/account/tokens", SignedIn),
    ("POST", "/account/tokens/{id}/intrekken", SignedIn),
    ("GET", "/static/style.css", Public),
    ("GET", "/static/favicon.svg", Public),
    ("GET", "/", Read),
    ("GET", "/meldingen", Read),
    ("POST", "/meldingen/gezien", Read),
    ("GET", "/account/meldingen", SignedIn),
    ("POST", "/account/meldingen", SignedIn),
    ("POST", "/account/meldingen/agenda", SignedIn),
    ("POST", "/account/meldingen/agenda/intrekken", SignedIn),
    ("GET", "/agenda/{secret}", Public),
    ("GET", "/beheer/meldingen", Admin),
    ("GET", "/aanbieders", Read),
    ("GET", "/aanbieders/nieuw", ManageContracts),
    ("POST", "/aanbieders", ManageContracts),
    ("GET", "/aanbieders/{id}", Read),
    ("GET", "/aanbieders/{id}/bewerken", ManageContracts),
    ("POST", "/aanbieders/{id}", ManageContracts),
    ("POST", "/aanbieders/{id}/archiveren", ManageContracts),
    ("POST", "/aanbieders/{id}/terugzetten", ManageContracts),
    ("POST", "/aanbieders/{id}/keurmerken", ManageContracts),
    ("GET", "/keurmerken", Read),
    ("GET", "/beheer", Admin),
    ("GET", "/beheer/gebruikers", Admin),
    ("POST", "/beheer/gebruikers", Admin),
    ("GET", "/beheer/gebruikers/{id}", Admin),
    ("POST", "/beheer/gebruikers/{id}", Admin),
    ("POST", "/beheer/gebruikers/{id}/wachtwoord", Admin),
    ("POST", "/beheer/tokens/{id}/intrekken", Admin),
    ("GET", "/beheer/audit", Admin),
    ("GET", "/beheer/audit.csv", Admin),
    ("GET", "/beheer/backups", Admin),
    ("POST", "/beheer/backups", Admin),
    ("GET", "/beheer/backups/{id}/download", Admin),
    ("GET", "/historie/{entity}/{id}", Read),
    ("GET", "/contracten", Read),
    ("GET", "/contracten/nieuw", ManageContracts),
    ("POST", "/contracten", ManageContracts),
    ("GET", "/contracten/{id}", Read),
    ("GET", "/contracten/{id}/betalingen", Read),
    ("GET", "/contracten/{id}/voorwaarden", Read),
    ("GET", "/contracten/{id}/plaatsingen", Read),
    ("GET", "/contracten/{id}/bewerken", ManageContracts),
    ("POST", "/contracten/{id}", ManageContracts),
    ("POST", "/contracten/{id}/tarieven", ManageContracts),
    ("POST", "/contracten/{id}/betaalmomenten", ManageContracts),
    ("POST", "/contracten/{id}/opties", ManageContracts),
    ("POST", "/contracten/{id}/opties/{option_id}", ManageContracts),
    ("POST", "/contracten/{id}/documenten", ManageContracts),
    ("GET", "/plaatsingen", ParticipantData),
    ("GET", "/plaatsingen/nieuw", ManageContracts),
    ("POST", "/plaatsingen", ManageContracts),
    ("GET", "/plaatsingen/{id}", ParticipantData),
    ("GET", "/plaatsingen/{id}/bewerken", ManageContracts),
    ("POST", "/plaatsingen/{id}", ManageContracts),
    ("GET", "/plaatsingen/{id}/tijdlijn", ParticipantData),
    ("POST", "/plaatsingen/{id}/voortgang", ManageContracts),
    ("POST", "/plaatsingen/{id}/routewijzigingen", ManageContracts),
    ("GET", "/factuurcontrole", ParticipantData),
    ("POST", "/factuurcontrole/besluiten", ManageContracts),
    ("GET", "/scorecard", Read),
    ("GET", "/scorecard.xlsx", Read),
    ("POST", "/contracten/{id}/voortgangsafspraken", ManageContracts),
    ("GET", "/financiering", Read),
    ("GET", "/financiering/nieuw", ManageFinance),
    ("POST", "/financiering", ManageFinance),
    ("GET", "/financiering/inrichting.xlsx", ManageFinance),
    ("GET", "/financiering/doelgroepen", Read),
    ("POST", "/financiering/doelgroepen", ManageFinance),
    ("POST", "/financiering/jaren/{year}/afsluiten", ManageFinance),
    ("POST", "/financiering/jaren/{year}/heropenen", Admin),
    ("GET", "/financiering/{id}", Read),
    ("GET", "/financiering/{id}/bewerken", ManageFinance),
    ("POST", "/financiering/{id}", ManageFinance),
    ("POST", "/financiering/{id}/toekenningen", ManageFinance),
    ("POST", "/financiering/{id}/begrotingsposten", ManageFinance),
    ("GET", "/toerekening", ManageFinance),
    ("POST", "/toerekening/regels", ManageFinance),
    ("POST", "/toerekening/regels/{id}/verwijderen", ManageFinance),
    ("POST", "/toerekening/regels/{id}/omhoog", ManageFinance),
    ("POST", "/toerekening/regels/{id}/plaats", ManageFinance),
    ("GET", "/toerekening/wachtrij", ManageFinance),
    ("POST", "/toerekening/regels-toepassen", ManageFinance),
    ("POST", "/grootboek/{id}/toerekenen", ManageFinance),
    ("POST", "/toerekening/crediteuren", ManageFinance),
    ("GET", "/aansluiting", Read),
    ("GET", "/aansluiting/regels", ManageFinance),
    ("GET", "/aansluiting/signalen", Read),
    ("GET", "/kwaliteit", Read),
    ("GET", "/kwaliteit/acties", Read),
    ("POST", "/kwaliteit/acties/{id}", ManageContracts),
    ("GET", "/kwaliteit/aanbieders/{id}", Read),
    ("GET", "/kwaliteit/aanbieders/{id}/rapport.xlsx", Read),
    ("POST", "/kwaliteit/aanbieders/{id}/acties", ManageContracts),
    ("POST", "/kwaliteit/aanbieders/{id}/resultaten", ManageContracts),
    ("GET", "/kwaliteit/eisen", Read),
    ("POST", "/kwaliteit/eisen", ManageContracts),
    ("GET", "/kwaliteit/eisen/{id}", Read),
    ("POST", "/kwaliteit/eisen/{id}/eisen", ManageContracts),
    ("GET", "/kwaliteit/eisen/{id}/eisen/{criterion_id}", ManageContracts),
    ("POST", "/kwaliteit/eisen/{id}/eisen/{criterion_id}", ManageContracts),
    ("POST", "/kwaliteit/eisen/{id}/nieuwe-versie", ManageContracts),
    ("GET", "/kwaliteit/contracten/{id}", Read),
    ("POST", "/kwaliteit/contracten/{id}/plannen", ManageContracts),
    ("GET", "/kwaliteit/plannen/{id}", Read),
    ("GET", "/kwaliteit/plannen/{id}/document", Read),
    ("POST", "/kwaliteit/plannen/{id}/beoordeling", ManageContracts),
    ("POST", "/kwaliteit/plannen/{id}/besluit", ManageContracts),
    ("GET", "/import", ManageFinance),
    ("POST", "/import", ManageFinance),
    ("POST", "/import/inrichting", ManageFinance),
    ("GET", "/import/sjablonen/{name}", ManageFinance),
    ("GET", "/import/taken/{job}", ManageFinance),
    ("GET", "/import/taken/{job}/afgewezen.xlsx", ManageFinance),
    ("POST", "/import/taken/{job}/bevestigen", ManageFinance),
    ("POST", "/import/taken/{job}/annuleren", ManageFinance),
    ("GET", "/import/batches/{id}", ManageFinance),
    ("GET", "/import/batches/{id}/regels", ManageFinance),
    ("POST", "/import/batches/{id}/ongedaan", ManageFinance),
    ("POST", "/import/batches/{id}/goedkeuren", ManageFinance),
    ("POST", "/import/batches/{id}/afwijzen", ManageFinance),
    ("GET", "/registers/import", ManageContracts),
    ("POST", "/registers/import", ManageContracts),
    ("GET", "/registers/import/sjablonen/{name}", ManageContracts),
    ("GET", "/registers/import/taken/{job}", ManageContracts),
    ("GET", "/registers/import/taken/{job}/afgewezen.xlsx", ManageContracts),
    ("POST", "/registers/import/taken/{job}/bevestigen", ManageContracts),
    ("POST", "/registers/import/taken/{job}/annuleren", ManageContracts),
    ("GET", "/registers/import/batches/{id}", ManageContracts),
    ("POST", "/registers/import/batches/{id}/ongedaan", ManageContracts),
    ("GET", "/meerjarenoverzicht", Read),
    ("GET", "/meerjarenoverzicht/detail", Read),
    ("GET", "/meerjarenoverzicht/afdrukken", Read),
    ("GET", "/meerjarenoverzicht/export.csv", Read),
    ("GET", "/meerjarenoverzicht/export.xlsx", Read),
    ("GET", "/meerjarenoverzicht/export.json", Read),
    ("GET", "/snapshots", Read),
    ("POST", "/snapshots", ManageForecasts),
    ("GET", "/static/print.css", Public),
    ("GET", "/scenarios", Read),
    ("GET", "/scenarios/nieuw", ManageForecasts),
    ("POST", "/scenarios", ManageForecasts),
    ("GET", "/scenarios/{id}", Read),
    ("POST", "/scenarios/{id}", ManageForecasts),
    ("POST", "/scenarios/{id}/kopie", ManageForecasts),
    ("GET", "/instroom", Read),
    ("POST", "/instroom", ManageForecasts),
    ("GET", "/indicatoren", Read),
    ("GET", "/indicatoren/definities", Read),
    ("POST", "/indicatoren/voortgangsbrief", ManageForecasts),
    ("GET", "/indicatoren/voortgangsbrief.xlsx", Read),
    ("GET", "/indicatoren/voortgangsbrief.json", Read),
    ("GET", "/api/v1/ocds/releases", Read),
    ("GET", "/api/openapi.json", Public),
    ("GET", "/api/docs", Public),
    ("GET", "/api/problemen/{soort}", Public),
    ("GET", "/api/v1/providers", Read),
    ("GET", "/api/v1/providers/{id}", Read),
    ("GET", "/api/v1/contracts", Read),
    ("GET", "/api/v1/contracts/{id}", Read),
    ("GET", "/api/v1/placements", ParticipantData),
    ("GET", "/api/v1/funding-streams", Read),
    ("GET", "/api/v1/allocations", Read),
    ("POST", "/api/v1/allocations", ManageFinance),
    ("GET", "/api/v1/budget-lines", Read),
    ("GET", "/api/v1/reconciliation/{year}", Read),
    ("GET", "/api/v1/overview", Read),
    ("GET", "/api/v1/scorecard", Read),
    ("GET", "/api/v1/imports", ManageFinance),
    ("POST", "/api/v1/imports", ManageFinance),
    ("GET", "/api/v1/imports/{id}", ManageFinance),
    ("POST", "/api/v1/imports/{id}/undo", ManageFinance),
];

#[test]
fn every_route_declares_the_permission_this_table_expects() {
    let mut registered: Vec<(String, String, Permission)> =
        web::routes().entries().iter().map(|e| (e.method.to_string(), e.path.to_string(), e.permission)).collect();
    let mut expected: Vec<(String, String, Permission)> =
        EXPECTED.iter().map(|(m, p, perm)| (m.to_string(), p.to_string(), *perm)).collect();
    registered.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    expected.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    assert_eq!(registered, expected, "a route was added, removed or changed: update this table deliberately");
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{entity}", "provider")
        .replace("{option_id}", "1")
        .replace("{year}", "2031")
        .replace("{criterion_id}", "1")
        .replace("{name}", "standaard-grootboek")
        .replace("{soort}", "niet-gevonden")
        .replace("{secret}", "onbekend.ics")
}

/// A request as the role's browser sends it, or for the API as a script with the role's bearer token (`api`).
async fn request(app: &TestApp, method: &str, path: &str, token: &str, api: Option<&str>) -> reqwest::Response {
    let url = app.url(&concrete(path));
    if path.starts_with("/api/") {
        // Every API answer here is checked against the OpenAPI document too.
        return app.api_raw(method, &concrete(path), api).await;
    }
    match method {
        "GET" => app.client.get(url).send().await.unwrap(),
        _ => app.client.request(Method::POST, url).form(&[("_csrf", token)]).send().await.unwrap(),
    }
}

#[tokio::test]
async fn every_role_gets_exactly_the_routes_the_matrix_allows() {
    let app = spawn_app().await;
    // Something for the {id} routes to find.
    app.login_as(Role::Admin).await;
    let r = app.post_form("/aanbieders", &[("name", "Taal BV"), ("kvk", "12345678")]).await;
    assert_eq!(location(&r), "/aanbieders/1?melding=aangemaakt");
    // Token 1 belongs to a bystander, so revoking it on the way does not revoke a role's own API token.
    let bystander = app.add_user("omstander", Role::Finance).await;
    assert_eq!(taalbudget::store::tokens::create(&app.db, bystander, "omstander", 30, "test").await.unwrap().id, 1);

    for role in Role::ALL {
        let browser = app.other_browser();
        browser.login_as(role).await;
        let token = browser.csrf().await;
        let api = app.api_token(role).await;
        for (method, path, permission) in EXPECTED {
            if *path == "/logout" || *path == "/login" {
                continue;
            }
            let r = request(&browser, method, path, &token, Some(&api)).await;
            let status = r.status();
            if role.may(*permission) {
                assert!(
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::UNAUTHORIZED
                        && !location(&r).starts_with("/login"),
                    "{role:?} {method} {path}: {status} should be allowed"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {method} {path} should be forbidden");
            }
        }
        // Signing out is allowed for every role.
        assert_eq!(request(&browser, "POST", "/logout", &token, None).await.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn without_login_only_public_routes_answer() {
    let app = spawn_app().await;
    let token = app.csrf().await;
    for (method, path, permission) in EXPECTED {
        let r = request(&app, method, path, &token, None).await;
        let status = r.status();
        match (*permission, *method) {
            // The API never redirects to a login page: it answers 401 with a bearer challenge.
            (p, _) if p != Public && path.starts_with("/api/") => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}")
            }
            // POST /login without credentials is a failed login (401), not a refusal of the route.
            (Public, _) => assert!(status != StatusCode::FORBIDDEN, "{method} {path}"),
            (_, "GET") => assert!(location(&r).starts_with("/login?volgende="), "{method} {path}: {status}"),
            _ => assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}"),
        }
    }
}
