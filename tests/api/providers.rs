//! The provider register over HTTP: create, edit, archive, search, and every refusal.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::store;

use crate::helpers::{location, spawn_app, TestApp};

const BRUG: &[(&str, &str)] = &[
    ("name", "Taalschool De Brug"),
    ("kvk", "12345678"),
    ("address", "Brugstraat 1, Utrecht"),
    ("contact_person", "A. de Vries"),
    ("email", "info@debrug.example"),
    ("phone", "030 123 45 67"),
    ("notes", "Convenant 2020"),
    ("active", "on"),
];

async fn create_brug(app: &TestApp) -> i64 {
    let r = app.post_form("/aanbieders", BRUG).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = location(&r);
    assert!(loc.ends_with("?melding=aangemaakt"), "{loc}");
    loc.trim_start_matches("/aanbieders/").split('?').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_contract_manager_creates_edits_and_archives_a_provider() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = create_brug(&app).await;

    let (status, page) = app.get_html(&format!("/aanbieders/{id}?melding=aangemaakt")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Taalschool De Brug"));
    assert!(page.contains("12345678"));
    assert!(page.contains("Opgeslagen: het nieuwe record is aangemaakt."));

    let stored = store::providers::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    let mut edit: Vec<(&str, &str)> = BRUG.to_vec();
    edit[0] = ("name", "Taalschool De Nieuwe Brug");
    edit.push(("version", "1"));
    let r = app.post_form(&format!("/aanbieders/{id}"), &edit).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stored = store::providers::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(stored.name, "Taalschool De Nieuwe Brug");
    assert_eq!(stored.version, 2);

    // With a mark decision it is archived, after the confirmation step.
    let decision = [
        ("status", "indefinite"),
        ("decision_date", "2022-02-14"),
        ("valid_from", "2022-03-01"),
        ("registration_number", "BOW-1"),
    ];
    let r = app.post_form(&format!("/aanbieders/{id}/keurmerken"), &decision).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&format!("/aanbieders/{id}/archiveren"), &[("bevestigd", "ja")]).await;
    assert_eq!(location(&r), format!("/aanbieders/{id}?melding=gearchiveerd"));
    let stored = store::providers::get(&app.db, id).await.unwrap().unwrap();
    assert!(!stored.active);

    let (_, active) = app.get_html("/aanbieders").await;
    assert!(!active.contains("De Nieuwe Brug"));
    let (_, archived) = app.get_html("/aanbieders?status=gearchiveerd").await;
    assert!(archived.contains("De Nieuwe Brug"));
}

/// Archiving asks first and says what it does; nothing is ever deleted (also a provider nothing refers to), and
/// an archived provider can be restored. Another role cannot do either.
#[tokio::test]
async fn archiving_asks_first_never_deletes_and_can_be_undone() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let id = create_brug(&app).await;
    let action = format!("/aanbieders/{id}/archiveren");

    // The button on the provider page leads to the confirmation page; nothing has changed yet.
    let (_, page) = app.get_html(&format!("/aanbieders/{id}")).await;
    assert!(page.contains(&format!("action=\"{action}\"")), "{page}");
    let r = app.post_form(&action, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("<h1>Taalschool De Brug archiveren?</h1>"), "{page}");
    assert!(page.contains("kunt u de aanbieder op zijn pagina weer terugzetten"), "{page}");
    assert!(page.contains("<input type=\"hidden\" name=\"bevestigd\" value=\"ja\">"), "{page}");
    assert!(
        page.contains(&format!("<a class=\"button secondary\" href=\"/aanbieders/{id}\">Niet archiveren</a>")),
        "{page}"
    );
    assert!(store::providers::get(&app.db, id).await.unwrap().unwrap().active, "not archived without confirmation");

    // Confirmed: archived, not deleted, though nothing refers to it.
    let r = app.post_form(&action, &[("bevestigd", "ja")]).await;
    assert_eq!(location(&r), format!("/aanbieders/{id}?melding=gearchiveerd"));
    let stored = store::providers::get(&app.db, id).await.unwrap().unwrap();
    assert!(!stored.active);
    let (_, page) = app.get_html(&format!("/aanbieders/{id}?melding=gearchiveerd")).await;
    assert!(page.contains("alle gegevens zijn bewaard en u kunt hem terugzetten"), "{page}");
    assert!(page.contains(&format!("action=\"/aanbieders/{id}/terugzetten\"")), "{page}");

    // A policy adviser may do neither.
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    assert_eq!(adviser.post_form(&format!("/aanbieders/{id}/terugzetten"), &[]).await.status(), StatusCode::FORBIDDEN);

    // Restored: active again, with both steps in the audit log.
    let r = app.post_form(&format!("/aanbieders/{id}/terugzetten"), &[]).await;
    assert_eq!(location(&r), format!("/aanbieders/{id}?melding=teruggezet"));
    assert!(store::providers::get(&app.db, id).await.unwrap().unwrap().active);
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE entity = 'provider' AND entity_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(actions, ["create", "archive", "restore"]);
}

#[tokio::test]
async fn search_finds_by_name_and_kvk() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    create_brug(&app).await;
    let mut other: Vec<(&str, &str)> = BRUG.to_vec();
    other[0] = ("name", "NT2 Centrum Domstad");
    other[1] = ("kvk", "87654321");
    app.post_form("/aanbieders", &other).await;
    let (_, page) = app.get_html("/aanbieders?q=domstad").await;
    assert!(page.contains("NT2 Centrum Domstad") && !page.contains("De Brug"));
    let (_, page) = app.get_html("/aanbieders?q=1234").await;
    assert!(page.contains("De Brug") && !page.contains("Domstad"));
    let (_, page) = app.get_html("/aanbieders?q=%25").await;
    assert!(page.contains("0 taalaanbieders"), "a % is searched literally");
}

async fn provider_count(app: &TestApp) -> usize {
    store::providers::list(&app.db, "", store::providers::Filter::All).await.unwrap().len()
}

#[tokio::test]
async fn bad_provider_input_comes_back_with_messages_at_the_field_and_saves_nothing() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let long = "x".repeat(201);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("name", "A"), ("kvk", "1234567")],
            "Een KvK-nummer bestaat uit precies 8 cijfers; '1234567' is dat niet.",
        ),
        (vec![("name", "A"), ("kvk", "12345678a")], "precies 8 cijfers"),
        (vec![("name", ""), ("kvk", "12345678")], "Naam is verplicht."),
        (vec![("name", &long), ("kvk", "12345678")], "Naam mag hoogstens 200 tekens lang zijn (nu 201)."),
        (vec![("name", "A"), ("kvk", "12345678"), ("email", "geen mail")], "geen geldig e-mailadres"),
        (vec![("name", "A"), ("kvk", "12345678"), ("phone", "bel mij")], "Een telefoonnummer bevat alleen cijfers"),
    ];
    for (fields, message) in cases {
        let r = app.post_form("/aanbieders", &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{fields:?}: expected {message:?}");
        assert!(page.contains("aria-invalid=\"true\""), "the field is marked invalid");
        // What the user typed is kept.
        assert!(page.contains(&format!("value=\"{}\"", fields[1].1)));
    }
    assert_eq!(provider_count(&app).await, 0);
    assert_eq!(app.audit_count("provider").await, 0);
}

#[tokio::test]
async fn a_kvk_number_is_unique() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    create_brug(&app).await;
    let mut other: Vec<(&str, &str)> = BRUG.to_vec();
    other[0] = ("name", "Een ander");
    let r = app.post_form("/aanbieders", &other).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("KvK-nummer 12345678 is al geregistreerd bij Taalschool De Brug."));
    assert_eq!(provider_count(&app).await, 1);
}

#[tokio::test]
async fn saving_over_a_newer_version_is_refused_and_shows_what_changed() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = create_brug(&app).await;
    let colleague = app.other_browser();
    colleague.login_as(Role::Admin).await;

    let mut theirs: Vec<(&str, &str)> = BRUG.to_vec();
    theirs[3] = ("contact_person", "B. Jansen");
    theirs.push(("version", "1"));
    assert_eq!(colleague.post_form(&format!("/aanbieders/{id}"), &theirs).await.status(), StatusCode::SEE_OTHER);

    let mut mine: Vec<(&str, &str)> = BRUG.to_vec();
    mine[6] = ("notes", "Mijn notitie");
    mine.push(("version", "1"));
    let r = app.post_form(&format!("/aanbieders/{id}"), &mine).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("Iemand anders heeft deze aanbieder intussen gewijzigd"));
    assert!(page.contains("<th scope=\"row\">Contactpersoon</th><td>A. de Vries</td><td>B. Jansen</td>"), "{page}");
    assert!(page.contains("name=\"version\" value=\"2\""), "the form now carries the newer version");
    let stored = store::providers::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!((stored.contact_person.as_str(), stored.notes.as_str()), ("B. Jansen", "Convenant 2020"));
}

#[tokio::test]
async fn unknown_pages_get_a_dutch_404_page() {
    let app = spawn_app().await;
    app.login_as(Role::PolicyAdviser).await;
    for path in ["/bestaat-niet", "/aanbieders/999999", "/aanbieders/abc"] {
        let r = app.get(path).await;
        let status = r.status();
        let page = r.text().await.unwrap();
        assert!(status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST, "{path}: {status}");
        assert!(page.contains("<html lang=\"nl\">") && page.contains("meldingsnummer"), "{path}");
    }
}

#[tokio::test]
async fn health_answers_json_when_the_database_answers() {
    let app = spawn_app().await;
    let r = app.get("/health").await;
    assert_eq!(r.status(), StatusCode::OK);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["database"], "ok");
    let r = app.get("/ready").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_server_error_shows_a_short_apology_with_a_request_id_and_no_details() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use tower_http::request_id::SetRequestIdLayer;

    async fn broken() -> Result<(), taalbudget::error::AppError> {
        Err(anyhow::anyhow!("geheime interne oorzaak: tabel xyz ontbreekt").into())
    }
    async fn panics() -> &'static str {
        panic!("onverwacht")
    }
    let app = axum::Router::new()
        .route("/kapot", axum::routing::get(broken))
        .route("/paniek", axum::routing::get(panics))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(taalbudget::web::middleware::render_errors))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(taalbudget::web::middleware::MakeUuid));
    for path in ["/kapot", "/paniek"] {
        let response = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = response.headers()["x-request-id"].to_str().unwrap().to_string();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let page = String::from_utf8(body.to_vec()).unwrap();
        assert!(page.contains("Er ging iets mis aan onze kant. Uw wijziging is niet opgeslagen."), "{page}");
        assert!(page.contains(&format!("meldingsnummer <code>{id}</code>")), "{page}");
        assert!(!page.contains("geheime") && !page.contains("onverwacht") && !page.contains("panicked"));
    }
}
