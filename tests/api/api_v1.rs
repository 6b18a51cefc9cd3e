//! The JSON API under /api/v1 and its OpenAPI document: every answer here goes through `TestApp::api`, which
//! checks it against `/api/openapi.json` (operation, status, content type, JSON schema).

// Amounts are written as euros_cents (1_234_56 is € 1.234,56) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};
use taalbudget::auth::roles::Role;
use taalbudget::domain::route::Cohort;
use taalbudget::import::{example, template};
use taalbudget::money::{AmountStyle, Money};
use taalbudget::store;

use crate::figures::{attribute_creditor, contract_for, place, stream};
use crate::helpers::{import_ledger, ledger_line, spawn_app, spawn_app_with, ApiBody, TestApp};

/// A JSON amount as the screens show it ("1234.50" → "€ 1.234,50").
fn screen(v: &Value) -> String {
    Money::parse_with(v.as_str().unwrap(), AmountStyle::Plain).unwrap().to_string()
}

fn cli(app: &TestApp, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&app.db_path)
        .env("TAALBUDGET_LOG", "error")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_has_exactly_the_api_routes_of_the_route_table() {
    let app = spawn_app().await;
    let r = app.api("GET", "/api/openapi.json", "").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = taalbudget::web::routes();
    let registered: BTreeSet<(String, String, String)> = routes
        .entries()
        .iter()
        .filter(|e| e.path == "/api" || e.path.starts_with("/api/"))
        .map(|e| {
            let permission = taalbudget::web::api::openapi::permission_code(e.permission).to_string();
            (e.method.as_str().to_ascii_lowercase(), e.path.to_string(), permission)
        })
        .collect();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone(), op["x-permission"].as_str().unwrap_or("").to_string()));
        }
    }
    assert_eq!(documented, registered, "the document and the route table name the same API routes");
    assert_eq!(registered.len(), 20);
    // A route that needs a token says so, and documents the refusals the middleware gives.
    let providers = &doc["paths"]["/api/v1/providers"]["get"];
    assert_eq!(providers["security"], json!([{"bearer": []}]));
    assert!(providers["responses"]["401"].is_object());
    assert!(providers["responses"]["403"].is_null(), "every role may read");
    assert!(doc["paths"]["/api/v1/placements"]["get"]["responses"]["403"].is_object());
    assert_eq!(doc["paths"]["/api/openapi.json"]["get"]["security"], json!([]));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    // ETag and 304 on the document itself.
    let etag = r.header("etag");
    let again = app.api_with("GET", "/api/openapi.json", "", ApiBody::None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), etag);
}

#[tokio::test]
async fn the_docs_page_lists_every_route_with_its_permission_and_problem_types_have_pages() {
    let app = spawn_app().await;
    let r = app.api("GET", "/api/docs", "").await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text;
    assert!(page.contains("<h1>API-documentatie</h1>"), "{page}");
    assert!(page.contains("<code>GET /api/v1/placements</code>"), "{page}");
    assert!(page.contains("<code>POST /api/v1/imports</code>"));
    assert!(page.contains("<dt>Recht</dt><dd>deelnemergegevens lezen</dd>"));
    assert!(page.contains(">Antwoorden van POST /api/v1/allocations</caption>"), "{page}");
    assert!(page.contains("<h3 id=\"schema-ContractDetail\">ContractDetail</h3>"));
    assert!(!page.contains("<script"), "no JavaScript");

    let r = app.api("GET", "/api/problemen/validatiefouten", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<h1>Validatiefouten</h1>") && r.text.contains("422"), "{}", r.text);
    let r = app.api("GET", "/api/problemen/bestaat-niet", "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["type"], "/api/problemen/niet-gevonden");
}

#[tokio::test]
async fn providers_carry_their_mark_status_and_history_page_by_page_with_etags() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let token = app.api_token(Role::PolicyAdviser).await;
    let names = ["Aanbieder A", "Aanbieder B", "Aanbieder C"];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let kvk = format!("1234567{i}");
        ids.push(crate::helpers::certified_provider(&app, name, &kvk).await);
    }
    // B's mark ends: suspended from 2025 on, with no end.
    let r = app
        .post_form(
            &format!("/aanbieders/{}/keurmerken", ids[1]),
            &[
                ("status", "suspended"),
                ("decision_date", "2025-01-01"),
                ("valid_from", "2025-01-01"),
                ("suspended_from", "2025-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());

    let first = app.api("GET", "/api/v1/providers?limit=2", &token).await;
    assert_eq!(first.status, StatusCode::OK);
    let body = first.json();
    assert_eq!(
        body["page"],
        json!({"total": 3, "limit": 2, "offset": 0, "next": "/api/v1/providers?limit=2&offset=2"})
    );
    let names_of = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names_of(&body), ["Aanbieder A", "Aanbieder B"]);
    assert_eq!(
        body["items"][0]["mark"],
        json!({"standing": "valid", "until": null, "valid": true, "needs_attention": false,
               "words": "Geldig voor onbepaalde tijd"})
    );
    assert_eq!(body["items"][1]["mark"]["standing"], "suspended");
    assert_eq!(body["items"][1]["mark"]["words"], "Geschorst, einde onbekend");
    let next = app.api("GET", body["page"]["next"].as_str().unwrap(), &token).await.json();
    assert_eq!(names_of(&next), ["Aanbieder C"]);
    assert!(next["page"]["next"].is_null());

    // The filter the list page has.
    let attention = app.api("GET", "/api/v1/providers?keurmerk=aandacht", &token).await.json();
    assert_eq!(names_of(&attention), ["Aanbieder B"]);

    // The same words as the provider page.
    let (_, page) = app.get_html(&format!("/aanbieders/{}", ids[1])).await;
    assert!(page.contains("Geschorst, einde onbekend"));

    // ETag: the same body gives the same tag and a 304; a change gives a new one.
    let etag = first.header("etag");
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    let if_none_match = [("If-None-Match", etag.as_str())];
    let held = app.api_with("GET", "/api/v1/providers?limit=2", &token, ApiBody::None, &if_none_match).await;
    assert_eq!(held.status, StatusCode::NOT_MODIFIED);
    store::providers::set_active(&app.db, ids[0], false, "test").await.unwrap();
    let changed = app.api_with("GET", "/api/v1/providers?limit=2", &token, ApiBody::None, &if_none_match).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), etag);
    assert_eq!(names_of(&changed.json()), ["Aanbieder B", "Aanbieder C"], "archived providers are left out");

    // The detail: facts, mark and every decision.
    let detail = app.api("GET", &format!("/api/v1/providers/{}", ids[1]), &token).await.json();
    assert_eq!(detail["kvk"], "12345671");
    let decisions: Vec<(&str, &str)> = detail["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["status"].as_str().unwrap(), d["decision_date"].as_str().unwrap()))
        .collect();
    assert_eq!(decisions, [("indefinite", "2021-01-01"), ("suspended", "2025-01-01")]);
    assert_eq!(detail["decisions"][1]["suspended_from"], "2025-01-01");
    assert_eq!(detail["contracts"], json!([]));
}

#[tokio::test]
async fn bad_parameters_and_unknown_records_are_problems_never_5xx() {
    let app = spawn_app().await;
    let token = app.api_token(Role::Finance).await;
    for (path, detail) in [
        ("/api/v1/providers?limit=0", "limit moet tussen 1 en 1000 liggen, niet 0"),
        ("/api/v1/providers?limit=1001", "limit moet tussen 1 en 1000 liggen, niet 1001"),
        ("/api/v1/providers?limit=veel", "ongeldige queryparameter"),
        ("/api/v1/providers?status=weg", "status 'weg' bestaat niet"),
        ("/api/v1/providers/abc", "ongeldig adres"),
        ("/api/v1/contracts?status=lopend", "status 'lopend' bestaat niet"),
        ("/api/v1/placements?route=x", "route 'x' bestaat niet"),
        ("/api/v1/allocations?stream_id=99", "financieringsbron 99 bestaat niet"),
        ("/api/v1/reconciliation/1999", "1999 is geen geldig jaar"),
        ("/api/v1/reconciliation/twee", "ongeldig adres"),
        ("/api/v1/reconciliation/2022?stream=GEEN", "onbekende financieringsbron 'geen'"),
        ("/api/v1/overview?from=2022", "ongeldige queryparameter"),
        ("/api/v1/overview?from=2022&to=2023&variant=zeker", "onbekende variant 'zeker'"),
        ("/api/v1/imports?offset=-1", "ongeldige queryparameter"),
    ] {
        let r = app.api("GET", path, &token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert_eq!(r.header("content-type"), "application/problem+json");
        let p = r.json();
        assert_eq!(p["type"], "/api/problemen/ongeldig-verzoek", "{path}");
        assert_eq!(p["status"], 400);
        assert_eq!(p["instance"], path.split('?').next().unwrap());
        assert!(p["detail"].as_str().unwrap().to_lowercase().contains(detail), "{path}: {p}");
    }
    for path in ["/api/v1/providers/9", "/api/v1/contracts/9", "/api/v1/imports/9"] {
        let r = app.api("GET", path, &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.json()["type"], "/api/problemen/niet-gevonden");
    }
    let r = app.api("POST", "/api/v1/imports/9/undo", &token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["detail"], "Importbatch 9 bestaat niet.");
}

/// One contract with a placement and an invoice, attributed: the API's figures are the contract page's.
async fn contract_with_spend(app: &TestApp) -> (i64, i64) {
    app.login_as(Role::Admin).await;
    let (provider, contract) =
        contract_for(app, "Taal BV", "12345678", "K-2022-1", "50.000,00", &[("b1", "10.000,00")]).await;
    let spuk = stream(app, "SPUK").await;
    store::funding::set_cohort_stream(&app.db, Cohort::Wi2021, spuk, "test").await.unwrap();
    place(app, contract, "K-1", "wi2021", "2022-03-01", "2023-02-28").await;
    import_ledger(app, &[ledger_line("2022-03-31", "KP-INB", "2001", "Start K-1", 4_000_00)]).await;
    attribute_creditor(app, "2001", provider, spuk).await;
    (provider, contract)
}

#[tokio::test]
async fn a_contract_has_its_terms_and_the_same_figures_as_its_page() {
    let app = spawn_app().await;
    let (provider, contract) = contract_with_spend(&app).await;
    let token = app.api_token(Role::ContractManager).await;
    let r = app.api("GET", &format!("/api/v1/contracts/{contract}"), &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = r.json();
    assert_eq!(c["reference"], "K-2022-1");
    assert_eq!(c["provider_id"], provider);
    assert_eq!(c["routes"], json!(["b1"]));
    assert_eq!((c["start_date"].as_str(), c["initial_end_date"].as_str()), (Some("2022-01-01"), Some("2027-12-31")));
    assert_eq!(c["ceiling"], "50000.00");
    assert_eq!(
        c["tariffs"],
        json!([{"id": 1, "route": "b1", "valid_from": "2022-01-01", "valid_until": null, "amount": "10000.00"}])
    );
    assert_eq!(
        c["milestones"],
        json!([
            {"route": "b1", "name": "Start", "share_pct": "50.00", "due": "start", "due_months": null},
            {"route": "b1", "name": "Afronding", "share_pct": "50.00", "due": "completion", "due_months": null},
        ])
    );
    assert_eq!(c["options"], json!([]));
    // One placement of € 10.000 (half at the start in 2022, half at completion in 2023, both due by now);
    // € 4.000 invoiced, so € 6.000 is open and overdue; ceiling use 4.000 + 6.000 = 10.000 of 50.000 = 20.0%.
    let f = &c["figures"];
    assert_eq!(f["expected_total"], "10000.00");
    assert_eq!(f["actual"], "4000.00");
    assert_eq!(f["open_commitment"], "6000.00");
    assert_eq!(f["overdue"], "6000.00");
    assert_eq!(f["to_come"], "0.00");
    assert_eq!(f["ceiling_use"], "10000.00");
    assert_eq!(f["ceiling_pct"], "20.0");
    assert_eq!(f["level"], "ok");
    assert_eq!(f["placements"], 1);

    // The same euros on the contract page.
    let (_, page) = app.get_html(&format!("/contracten/{contract}")).await;
    for (term, value) in [
        ("Verwachte betalingen (alle plaatsingen)", screen(&f["expected_total"])),
        ("Openstaande verplichting", screen(&f["open_commitment"])),
        ("waarvan nog te betalen", screen(&f["to_come"])),
        (
            "Plafondgebruik (gefactureerd + openstaande verplichting)",
            format!("{} van {}", screen(&f["ceiling_use"]), screen(&c["ceiling"])),
        ),
    ] {
        assert!(page.contains(&format!("<dt>{term}</dt><dd>{value}</dd>")), "{term} {value}: {page}");
    }
    assert!(page.contains(&format!("{}</a></dd>", screen(&f["actual"]))), "{page}");

    // The list has the same item, filtered by provider and status.
    let list = app.api("GET", &format!("/api/v1/contracts?provider_id={provider}&status=active"), &token).await;
    let list = list.json();
    assert_eq!(list["page"]["total"], 1);
    assert_eq!(list["items"][0]["figures"], c["figures"]);
    let none = app.api("GET", "/api/v1/contracts?status=ended", &token).await.json();
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn placements_are_for_participant_roles_and_never_the_policy_adviser() {
    let app = spawn_app().await;
    let (_, contract) = contract_with_spend(&app).await;
    place(&app, contract, "K-2", "wi2021", "2022-05-01", "2023-04-30").await;
    let adviser = app.api_token(Role::PolicyAdviser).await;
    let r = app.api("GET", "/api/v1/placements", &adviser).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["type"], "/api/problemen/geen-toegang");

    let finance = app.api_token(Role::Finance).await;
    let all = app.api("GET", &format!("/api/v1/placements?contract_id={contract}&limit=1"), &finance).await.json();
    assert_eq!(all["page"]["total"], 2);
    assert_eq!(all["page"]["next"], format!("/api/v1/placements?contract_id={contract}&limit=1&offset=1"));
    let p = &all["items"][0];
    assert_eq!(p["client_number"], "K-2", "newest start first");
    assert_eq!(
        (p["cohort"].as_str(), p["route"].as_str(), p["start_date"].as_str(), p["status"].as_str()),
        (Some("wi2021"), Some("b1"), Some("2022-05-01"), Some("started"))
    );
    let second = app.api("GET", all["page"]["next"].as_str().unwrap(), &finance).await.json();
    assert_eq!(second["items"][0]["client_number"], "K-1");
    let none = app.api("GET", "/api/v1/placements?status=completed", &finance).await.json();
    assert_eq!(none["page"]["total"], 0);
}

#[tokio::test]
async fn funding_registers_and_a_new_allocation_validated_and_audited_as_the_tokens_user() {
    let app = spawn_app().await;
    let spuk = stream(&app, "SPUK").await;
    let token = app.api_token(Role::Finance).await;
    let new = |year: i32, kind: &str, amount: &str| {
        json!({"stream": "SPUK", "year": year, "kind": kind, "amount": amount, "reference": "Beschikking 2022-1",
               "decided_on": "2022-01-03"})
    };
    let r = app.api_with("POST", "/api/v1/allocations", &token, ApiBody::Json(new(2022, "advance", "1234.50")), &[]);
    let r = r.await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.header("location"), format!("/api/v1/allocations?stream_id={spuk}"));
    assert_eq!(
        r.json(),
        json!({"id": 1, "stream_id": spuk, "year": 2022, "kind": "advance", "amount": "1234.50",
               "reference": "Beschikking 2022-1", "decided_on": "2022-01-03"})
    );
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM audit_log WHERE entity = 'allocation' ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(actor, "api-finance", "the audit log names the token's user");

    // The screen's validation: a negative advance and a year outside the spending period, field by field.
    let r = app.api_with("POST", "/api/v1/allocations", &token, ApiBody::Json(new(2031, "advance", "-5.00")), &[]);
    let r = r.await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = r.json();
    assert_eq!(p["type"], "/api/problemen/validatiefouten");
    assert_eq!(
        p["errors"],
        json!([
            {"field": "amount", "message": "Alleen een correctie kan negatief zijn."},
            {"field": "year", "message": "2031 valt buiten de bestedingsperiode van SPUK (01-01-2022 tot en met 31-12-2026)."},
        ])
    );
    let r = app.api_with("POST", "/api/v1/allocations", &token, ApiBody::Json(json!({"stream": "SPUK"})), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a body that is not an allocation");
    let unknown = json!({"stream": "NOPE", "year": 2022, "kind": "advance", "amount": "1.00", "reference": "x",
                         "decided_on": "2022-01-01"});
    let r = app.api_with("POST", "/api/v1/allocations", &token, ApiBody::Json(unknown), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let adviser = app.api_token(Role::PolicyAdviser).await;
    let r = app.api_with("POST", "/api/v1/allocations", &adviser, ApiBody::Json(new(2022, "advance", "1.00")), &[]);
    assert_eq!(r.await.status, StatusCode::FORBIDDEN);

    // The lists.
    let streams = app.api("GET", "/api/v1/funding-streams", &adviser).await.json();
    assert_eq!(streams["items"][0]["code"], "SPUK");
    assert_eq!(streams["items"][0]["spend_until"], "2026-12-31");
    let allocations = app.api("GET", &format!("/api/v1/allocations?stream_id={spuk}&year=2022"), &adviser).await;
    assert_eq!(allocations.json()["items"][0]["amount"], "1234.50");
    let other_year = app.api("GET", "/api/v1/allocations?year=2023", &adviser).await.json();
    assert_eq!(other_year["page"]["total"], 0);
    store::funding::set_budget_line(
        &app.db,
        &taalbudget::domain::funding::BudgetLine {
            id: 0,
            stream_id: spuk,
            category: "Taalonderwijs".into(),
            year: 2022,
            amount: Money::from_cents(1_000_00),
        },
        "test",
    )
    .await
    .unwrap();
    let lines = app.api("GET", "/api/v1/budget-lines", &adviser).await.json();
    assert_eq!(
        lines["items"],
        json!([{"id": 1, "stream_id": spuk, "category": "Taalonderwijs", "year": 2022, "amount": "1000.00"}])
    );
}

#[tokio::test]
async fn reconciliation_and_overview_are_the_command_lines_json() {
    let app = spawn_app().await;
    contract_with_spend(&app).await;
    let token = app.api_token(Role::PolicyAdviser).await;
    let r = app.api("GET", "/api/v1/reconciliation/2022", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let api = r.json();
    assert_eq!(api, cli(&app, &["report", "reconciliation", "--year", "2022", "--format", "json"]));
    let spuk = api["streams"].as_array().unwrap().iter().find(|s| s["code"] == "SPUK").unwrap();
    assert_eq!(spuk["actual"], "4000.00");
    let only = app.api("GET", "/api/v1/reconciliation/2022?stream=spuk", &token).await.json();
    assert_eq!(
        only,
        cli(&app, &["report", "reconciliation", "--year", "2022", "--stream", "spuk", "--format", "json"])
    );

    let r = app.api("GET", "/api/v1/overview?from=2022&to=2024&forecast_from=2027", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cli_overview = cli(
        &app,
        &["report", "overview", "--from", "2022", "--to", "2024", "--forecast-from", "2027", "--format", "json"],
    );
    assert_eq!(r.json(), cli_overview);
}

fn ledger_csv(lines: &[taalbudget::import::ledger::LedgerLine]) -> Vec<u8> {
    example::csv(&template::find("grootboek-csv-1252").unwrap(), lines).unwrap()
}

fn upload(bytes: Vec<u8>, name: &str, fields: &[(&str, &str)]) -> ApiBody {
    let mut form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    ApiBody::Multipart(form)
}

#[tokio::test]
async fn an_import_checks_then_refuses_row_errors_then_imports_and_undoes_as_the_tokens_user() {
    let app = spawn_app().await;
    let token = app.api_token(Role::Finance).await;
    let good = vec![
        ledger_line("2023-02-15", "KP-INB", "2001", "Start K-1", 1_234_56),
        ledger_line("2023-03-15", "KP-INB", "2001", "Start K-2", 100_00),
    ];
    let csv = ledger_csv(&good);
    let template = [("template", "grootboek-csv-1252")];

    // Dry run: the summary, nothing written.
    let dry = [("template", "grootboek-csv-1252"), ("dry_run", "true")];
    let r = app.api_with("POST", "/api/v1/imports", &token, upload(csv.clone(), "gb.csv", &dry), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = r.json();
    assert_eq!((s["batch"].clone(), s["dry_run"].clone()), (Value::Null, json!(true)));
    assert_eq!((s["rows_read"].as_u64(), s["rows_imported"].as_u64()), (Some(2), Some(2)));
    assert_eq!(s["amount_total"], "1334.56");
    assert_eq!(s["kind"], "ledger");
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap().0, 0);

    // A date that does not exist: 422, nothing written, the error names sheet, row, column and value.
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.contains("15-03-2023"), "{text}");
    let bad = text.replace("15-03-2023", "31-02-2023").into_bytes();
    let r = app.api_with("POST", "/api/v1/imports", &token, upload(bad.clone(), "gb.csv", &template), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let p = r.json();
    assert_eq!(p["type"], "/api/problemen/validatiefouten");
    assert_eq!(p["batch"], Value::Null);
    assert_eq!((p["rows_read"].as_u64(), p["rows_rejected"].as_u64()), (Some(2), Some(1)));
    let e = &p["errors"][0];
    assert_eq!((e["sheet"].as_str(), e["row"].as_u64()), (Some("gb.csv"), Some(3)), "{p}");
    assert_eq!((e["column"].as_str(), e["value"].as_str()), (Some("A"), Some("31-02-2023")), "{p}");
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap().0, 0, "nothing written");
    // The command line says the same about the same file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gb.csv");
    std::fs::write(&path, &bad).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&app.db_path)
        .args(["import", "ledger", path.to_str().unwrap(), "--template", "grootboek-csv-1252", "--json"])
        .args(["--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let cli_summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli_summary["errors"][0]["message"], e["message"]);

    // An unreadable file: 400 with the summary naming the file.
    let r = app
        .api_with(
            "POST",
            "/api/v1/imports",
            &token,
            upload(vec![0, 159, 146, 150], "gb.xlsx", &[("template", "standaard-grootboek")]),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json()["errors"][0]["sheet"], "gb.xlsx");

    // Done: the batch, audited as the token's user.
    let r = app
        .api_with(
            "POST",
            "/api/v1/imports",
            &token,
            upload(csv, "gb.csv", &[("kind", "ledger"), ("template", "grootboek-csv-1252")]),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = r.json();
    let batch = s["batch"].as_i64().unwrap();
    assert_eq!(s["rows_imported"], 2);
    assert_eq!(store::imports::ledger_totals(&app.db).await.unwrap().0, 2);
    let b = app.api("GET", &format!("/api/v1/imports/{batch}"), &token).await.json();
    assert_eq!((b["imported_by"].as_str(), b["amount_total"].as_str()), (Some("api-finance"), Some("1334.56")));
    let list = app.api("GET", "/api/v1/imports", &token).await.json();
    assert_eq!(list["items"][0]["id"], batch);

    let r = app.api("POST", &format!("/api/v1/imports/{batch}/undo"), &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({"batch": batch, "undone": true, "lines_removed": 2}));
    let b = app.api("GET", &format!("/api/v1/imports/{batch}"), &token).await.json();
    assert_eq!((b["status"].as_str(), b["undone_by"].as_str()), (Some("undone"), Some("api-finance")));
    let again = app.api("POST", &format!("/api/v1/imports/{batch}/undo"), &token).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["type"], "/api/problemen/conflict");

    // Bad forms.
    let r = app.api_with("POST", "/api/v1/imports", &token, upload(b"x".to_vec(), "gb.csv", &[]), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["detail"].as_str().unwrap().contains("Geef het sjabloon op (veld template)"), "{}", r.text);
    let r = app
        .api_with(
            "POST",
            "/api/v1/imports",
            &token,
            upload(b"x".to_vec(), "p.xlsx", &[("template", "standaard-plaatsingen")]),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "only the finance kinds");
    let r = app
        .api_with(
            "POST",
            "/api/v1/imports",
            &token,
            upload(b"x".to_vec(), "gb.csv", &[("template", "grootboek-csv-1252"), ("dry_run", "misschien")]),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.api("POST", "/api/v1/imports", &token).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "not multipart");
}

#[tokio::test]
async fn with_four_eyes_an_api_import_waits_for_approval() {
    let app = spawn_app_with(|c| c.four_eyes_imports = true).await;
    let token = app.api_token(Role::Finance).await;
    let csv = ledger_csv(&[ledger_line("2023-02-15", "KP-INB", "2001", "Start K-1", 500_00)]);
    let r = app
        .api_with("POST", "/api/v1/imports", &token, upload(csv, "gb.csv", &[("template", "grootboek-csv-1252")]), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let s = r.json();
    assert_eq!(s["awaits_approval"], true);
    let b = app.api("GET", &format!("/api/v1/imports/{}", s["batch"]), &token).await.json();
    assert_eq!(b["approval"], "pending");
}

#[tokio::test]
async fn the_ocds_package_is_served_with_an_etag() {
    let app = spawn_app().await;
    contract_with_spend(&app).await;
    let token = app.api_token(Role::PolicyAdviser).await;
    let r = app.api("GET", "/api/v1/ocds/releases", &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["releases"].as_array().unwrap().len(), 1);
    let etag = r.header("etag");
    let again = app.api_with("GET", "/api/v1/ocds/releases", &token, ApiBody::None, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn the_scorecard_has_the_pages_rows_and_hides_small_groups_from_the_policy_adviser() {
    let app = spawn_app().await;
    contract_with_spend(&app).await;
    let finance = app.api_token(Role::Finance).await;
    let r = app.api("GET", "/api/v1/scorecard?from=2022&to=2022", &finance).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let card = r.json();
    assert_eq!(
        (card["periode"].as_str(), card["from"].as_i64(), card["to"].as_i64()),
        (Some("jaar"), Some(2022), Some(2022))
    );
    let lines = card["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{card}");
    let l = &lines[0];
    // K-1 runs in 2022 on the B1-route without any progress report: running 1, reporting 0, no starts known.
    assert_eq!(
        (l["period"].as_str(), l["route"].as_str(), l["provider"].as_str()),
        (Some("2022"), Some("b1"), Some("Taal BV"))
    );
    assert_eq!((l["running"].as_u64(), l["reporting"].as_u64()), (Some(1), Some(0)));
    assert!(l["starts"].is_null());
    assert_eq!(l["hidden"], json!([]));
    // The page says the same.
    let (_, page) = app.get_html("/scorecard?van=2022&tot=2022").await;
    assert!(page.contains("0 van 1 lopende plaatsing"), "{page}");

    // One participant: the policy adviser sees no figure of the line.
    let adviser = app.api_token(Role::PolicyAdviser).await;
    let card = app.api("GET", "/api/v1/scorecard?from=2022&to=2022", &adviser).await.json();
    let l = &card["lines"][0];
    assert!(l["running"].is_null() && l["reporting"].is_null() && l["dropouts"].is_null(), "{l}");
    assert!(l["hidden"].as_array().unwrap().contains(&json!("line")), "{l}");

    let r = app.api("GET", "/api/v1/scorecard?periode=week", &adviser).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["detail"].as_str().unwrap().contains("Periode 'week' bestaat niet"));
}
