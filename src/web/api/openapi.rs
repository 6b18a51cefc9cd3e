//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations (utoipa) and completed from
//! the one [`RouteTable`](crate::web::RouteTable): each operation's permission (`x-permission`), its bearer
//! security and the 401/403 answers come from the table itself, so the document cannot disagree with it.
//! Also its readable HTML view and the pages that explain each problem type.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Value};
use utoipa::OpenApi;

use super::{contracts, funding, imports, placements, problem, providers, reports, PageInfo};
use crate::auth::roles::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::web::views::Chrome;

pub const DOCUMENT_PATH: &str = "/api/openapi.json";
pub const DOCS_PATH: &str = "/api/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "taalbudget API",
        version = "1",
        description = "De gegevens van taalbudget voor scripts en andere systemen: dezelfde cijfers en rechten als de schermen. \
            Meld u aan met een persoonlijk API-token (`Authorization: Bearer tb_…`, te maken op uw accountpagina). \
            Bedragen zijn tekst met twee decimalen (\"1234.50\"), datums ISO 8601. Fouten zijn RFC 9457-probleemdocumenten \
            met een vaste `type` (zie /api/problemen/{soort}). Elke lijst heeft `limit` (standaard 100, hoogstens 1000), \
            `offset` en een `next`-link; elke GET geeft een `ETag` en beantwoordt `If-None-Match` met 304."
    ),
    paths(
        document, docs_page, problem_page,
        providers::list, providers::detail,
        contracts::list, contracts::detail,
        placements::list,
        funding::streams, funding::allocations, funding::add_allocation, funding::budget_lines,
        reports::reconciliation, reports::overview, reports::scorecard,
        imports::list, imports::import, imports::detail, imports::undo,
        super::ocds_releases,
    ),
    components(schemas(problem::Problem, problem::FieldProblem, PageInfo)),
    tags(
        (name = "aanbieders", description = "Taalaanbieders en hun keurmerk"),
        (name = "contracten", description = "Contracten met tarieven, betaalmomenten, opties en plafondgebruik"),
        (name = "plaatsingen", description = "Plaatsingen (deelnemerniveau; niet voor de beleidsadviseur)"),
        (name = "financiering", description = "Financieringsbronnen, toekenningen en begrotingsposten"),
        (name = "rapportages", description = "Aansluiting, meerjarenoverzicht en scorecard"),
        (name = "imports", description = "Importbatches, nieuwe imports en ongedaan maken"),
        (name = "ocds", description = "Contracten als OCDS 1.1 release package"),
        (name = "document", description = "Dit document en de uitleg bij probleemtypen"),
    )
)]
struct ApiDoc;

/// The document as served: generated, then completed from the route table.
pub fn document_value() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
        let routes = crate::web::routes();
        for e in routes.entries().iter().filter(|e| crate::auth::token::is_api(e.path)) {
            let method = e.method.as_str().to_ascii_lowercase();
            let Some(op) = doc["paths"][e.path].get_mut(&method) else { continue };
            op["x-permission"] = json!(permission_code(e.permission));
            if e.permission == Permission::Public {
                op["security"] = json!([]);
                continue;
            }
            op["security"] = json!([{ "bearer": [] }]);
            let problem = |description: &str| {
                json!({
                    "description": description,
                    "content": { problem::CONTENT_TYPE: { "schema": { "$ref": "#/components/schemas/Problem" } } }
                })
            };
            let responses = &mut op["responses"];
            responses["401"] = problem("Geen, een onbekend, verlopen of ingetrokken token.");
            if Role::ALL.iter().any(|r| !r.may(e.permission)) {
                responses["403"] = problem("De rol van de gebruiker van het token geeft geen recht op deze actie.");
            }
            responses["429"] = problem("Te veel mislukte tokenpogingen; wacht even.");
            responses["503"] = problem("De database is even bezet; probeer het na Retry-After opnieuw.");
        }
        // A refused form is a plain problem; an unreadable file's problem also holds the import summary.
        doc["paths"]["/api/v1/imports"]["post"]["responses"]["400"]["content"][problem::CONTENT_TYPE]["schema"] = json!({
            "anyOf": [{ "$ref": "#/components/schemas/ImportProblem" }, { "$ref": "#/components/schemas/Problem" }]
        });
        doc["components"]["securitySchemes"] =
            json!({ "bearer": { "type": "http", "scheme": "bearer", "description": "Een persoonlijk API-token, tb_…" } });
        doc
    })
}

/// The permission as the document names it.
pub fn permission_code(p: Permission) -> &'static str {
    match p {
        Permission::Public => "public",
        Permission::SignedIn => "signed_in",
        Permission::Read => "read",
        Permission::ParticipantData => "participant_data",
        Permission::ManageContracts => "manage_contracts",
        Permission::ManageFinance => "manage_finance",
        Permission::ManageForecasts => "manage_forecasts",
        Permission::Admin => "admin",
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "document",
    responses((status = 200, description = "Het OpenAPI 3.1-document.", body = serde_json::Value),
        (status = 304, description = "Niet gewijzigd sinds de meegestuurde ETag.")))]
pub async fn document(headers: HeaderMap) -> Response {
    super::with_etag(&headers, document_value().to_string())
}

/// The document as a readable page.
#[utoipa::path(get, path = "/api/docs", tag = "document",
    responses((status = 200, description = "Het document als HTML-pagina.", content_type = "text/html")))]
pub async fn docs_page(chrome: Chrome) -> Markup {
    docs_view(&chrome, document_value())
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" of "),
        _ => "JSON".into(),
    }
}

fn permission_label(code: &str) -> &'static str {
    Permission::ALL.iter().find(|p| permission_code(**p) == code).map(|p| p.label()).unwrap_or("onbekend")
}

fn docs_view(chrome: &Chrome, doc: &Value) -> Markup {
    let info = &doc["info"];
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    let schemas = doc["components"]["schemas"].as_object().unwrap_or(&empty);
    chrome.page(
        "API-documentatie",
        html! {
            h1 { "API-documentatie" }
            p { (info["description"].as_str().unwrap_or_default()) }
            p { "Het machineleesbare document: " a href=(DOCUMENT_PATH) { code { (DOCUMENT_PATH) } } " (OpenAPI " (doc["openapi"].as_str().unwrap_or_default()) ")." }
            h2 { "Routes" }
            @for (path, item) in paths {
                @for method in METHODS {
                    @if let Some(op) = item.get(method) {
                        section.api-operation aria-labelledby=(anchor(method, path)) {
                            h3 id=(anchor(method, path)) { code { (method.to_uppercase()) " " (path) } }
                            @if let Some(s) = op["description"].as_str().or(op["summary"].as_str()) {
                                p { (s) }
                            }
                            dl.facts {
                                dt { "Recht" }
                                dd { (permission_label(op["x-permission"].as_str().unwrap_or_default())) }
                            }
                            @if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                                table {
                                    caption { "Parameters van " (method.to_uppercase()) " " (path) }
                                    thead { tr { th scope="col" { "Naam" } th scope="col" { "Waar" } th scope="col" { "Verplicht" } th scope="col" { "Type" } th scope="col" { "Betekenis" } } }
                                    tbody {
                                        @for p in params {
                                            tr {
                                                td { code { (p["name"].as_str().unwrap_or_default()) } }
                                                td { (p["in"].as_str().unwrap_or_default()) }
                                                td { @if p["required"].as_bool().unwrap_or(false) { "ja" } @else { "nee" } }
                                                td { (schema_name(&p["schema"])) }
                                                td { (p["description"].as_str().unwrap_or_default()) }
                                            }
                                        }
                                    }
                                }
                            }
                            @if let Some(content) = op["requestBody"]["content"].as_object() {
                                p { "Verzoek: "
                                    @for (ct, c) in content { code { (ct) } " (" (schema_name(&c["schema"])) ") " }
                                }
                            }
                            table {
                                caption { "Antwoorden van " (method.to_uppercase()) " " (path) }
                                thead { tr { th scope="col" { "Status" } th scope="col" { "Inhoud" } th scope="col" { "Betekenis" } } }
                                tbody {
                                    @for (status, r) in op["responses"].as_object().unwrap_or(&empty) {
                                        tr {
                                            td { (status) }
                                            td {
                                                @for (ct, c) in r["content"].as_object().unwrap_or(&empty) {
                                                    code { (ct) } " " (schema_name(&c["schema"])) " "
                                                }
                                            }
                                            td { (r["description"].as_str().unwrap_or_default()) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Schema's" }
            @for (name, schema) in schemas {
                section aria-labelledby={"schema-" (name)} {
                    h3 id={"schema-" (name)} { (name) }
                    @if let Some(d) = schema["description"].as_str() { p { (d) } }
                    @if let Some(props) = schema["properties"].as_object() {
                        table {
                            caption { "Velden van " (name) }
                            thead { tr { th scope="col" { "Veld" } th scope="col" { "Type" } th scope="col" { "Betekenis" } } }
                            tbody {
                                @for (field, s) in props {
                                    tr {
                                        td { code { (field) } }
                                        td { (schema_name(s)) }
                                        td { (s["description"].as_str().unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Probleemtypen" }
            ul {
                @for (status, _) in problem::KINDS {
                    li { a href={(problem::TYPE_BASE) (problem::kind(*status))} { (problem::TYPE_BASE) (problem::kind(*status)) } " (" (status.as_u16()) ")" }
                }
            }
        },
    )
}

fn anchor(method: &str, path: &str) -> String {
    let mut a = format!("{method}-{path}");
    a.retain(|c| c.is_ascii_alphanumeric() || c == '-');
    a
}

/// What a problem type means and what a client can do about it.
#[utoipa::path(get, path = "/api/problemen/{soort}", tag = "document",
    params(("soort" = String, Path, description = "De soort probleem, het laatste deel van `type`")),
    responses((status = 200, description = "Uitleg bij het probleemtype.", content_type = "text/html"),
        (status = 404, body = problem::Problem, content_type = "application/problem+json")))]
pub async fn problem_page(chrome: Chrome, Path(soort): Path<String>) -> AppResult<Response> {
    let Some((status, meaning)) = problem::KINDS.iter().find(|(s, _)| problem::kind(*s) == soort) else {
        return Err(AppError::NotFoundWith(format!("probleemtype '{soort}' bestaat niet")));
    };
    let page = chrome.page(
        problem::title(*status),
        html! {
            p.breadcrumb { a href=(DOCS_PATH) { "API-documentatie" } }
            h1 { (problem::title(*status)) }
            dl.facts {
                dt { "type" } dd { code { (problem::TYPE_BASE) (soort) } }
                dt { "HTTP-status" } dd { (status.as_u16()) }
            }
            p { (meaning) }
        },
    );
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response())
}
