//! No user action yields a 5xx: every POST route of the route table and every form on every page,
//! submitted 20 times at once, gets a 2xx, 3xx or a Dutch 4xx; and races over a name end in distinct names.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use taalbudget::auth::roles::Role;
use taalbudget::store;
use taalbudget::web;

use crate::helpers::{certified_provider, extract_csrf, location, spawn_app_with, TestApp};

const AT_ONCE: usize = 20;

async fn demo_app() -> TestApp {
    // Twenty failed logins at once must not make the rest of the test wait for the login delay.
    let app = spawn_app_with(|c| {
        c.login_delay_step = std::time::Duration::from_millis(1);
        c.login_delay_max = std::time::Duration::from_millis(5);
    })
    .await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app
}

/// A request body as a browser (or someone poking at the server) might send it.
#[derive(Clone, Debug)]
enum Body {
    Form(Vec<(String, String)>),
    Multipart(Vec<(String, String)>, Vec<String>),
    Raw(&'static str, Vec<u8>),
}

/// Sends `body` to `path` AT_ONCE times concurrently from the same signed-in browser; the statuses.
async fn at_once(app: &TestApp, token: &str, path: &str, body: &Body) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..AT_ONCE {
        let request = app.client.request(Method::POST, app.url(path)).header("x-csrf-token", token);
        let request = match body.clone() {
            Body::Form(fields) => request.form(&fields),
            Body::Multipart(fields, files) => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k, v);
                }
                for name in files {
                    let part = reqwest::multipart::Part::bytes(b"Boekdatum;Bedrag\n01-01-2024;10,00\n".to_vec())
                        .file_name("bestand.csv");
                    form = form.part(name, part);
                }
                request.multipart(form)
            }
            Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
        };
        tasks.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.push(done.unwrap().expect("the server answers"));
    }
    statuses
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{entity}", "provider")
        .replace("{option_id}", "1")
        .replace("{year}", "2023")
        .replace("{criterion_id}", "1")
        .replace("{job}", "00000000-0000-0000-0000-000000000000")
}

fn form(fields: &[(&str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// What someone might send to any POST route besides the real form.
fn odd_bodies() -> Vec<Body> {
    vec![
        form(&[]),
        form(&[
            ("id", "-1"),
            ("version", "abc"),
            ("year", "99999999999999999999"),
            ("amount", "1e400"),
            ("start_date", "31-02-2024"),
            ("stream_id", "9223372036854775807"),
            ("contract_id", "0"),
            ("status", "\u{0}"),
            ("name", &"ä".repeat(5000)),
            ("role", "koning"),
            ("route", "%"),
            ("bevestigd", "ja"),
        ]),
        Body::Raw("application/x-www-form-urlencoded", b"%FF%FE=%C0&&==&name=%E2%82".to_vec()),
        Body::Raw("application/json", b"{\"name\": [1, 2, {}]}".to_vec()),
        Body::Raw("multipart/form-data; boundary=x", b"--x\r\nrommel".to_vec()),
    ]
}

/// Valid bodies for the forms that create something, where two at once could collide.
async fn create_bodies(app: &TestApp) -> Vec<(String, Body)> {
    let provider = certified_provider(app, "Race Taal BV", "11223344").await.to_string();
    let contract = [
        ("reference", "RACE-1"),
        ("title", "B1-route race"),
        ("provider_id", provider.as_str()),
        ("lot", "1"),
        ("routes", "b1"),
        ("start_date", "2022-01-01"),
        ("initial_end_date", "2025-12-31"),
        ("ceiling", "100.000,00"),
    ];
    let r = app.post_form("/contracten", &contract).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let contract_id = crate::helpers::id_from(&location(&r), "/contracten/").to_string();
    let stream: i64 = sqlx::query_scalar("SELECT MIN(id) FROM funding_stream").fetch_one(&app.db).await.unwrap();
    let stream = stream.to_string();
    let scenario: i64 = sqlx::query_scalar("SELECT MIN(id) FROM scenario").fetch_one(&app.db).await.unwrap();
    let scenario = scenario.to_string();
    let inflow = "2027; gezin; 10; 20; 30; 50; 40; 10; 10";
    vec![
        ("/aanbieders".into(), form(&[("name", "Gelijktijdig BV"), ("kvk", "55667788"), ("active", "on")])),
        (
            format!("/aanbieders/{provider}/keurmerken"),
            form(&[("status", "indefinite"), ("decision_date", "2024-01-01"), ("valid_from", "2024-01-01")]),
        ),
        ("/contracten".into(), form(&contract.map(|(k, v)| (k, if k == "reference" { "RACE-2" } else { v })))),
        (
            format!("/contracten/{contract_id}/tarieven"),
            form(&[("route", "b1"), ("valid_from", "2022-01-01"), ("valid_until", ""), ("amount", "10.000,00")]),
        ),
        (
            format!("/contracten/{contract_id}/betaalmomenten"),
            form(&[
                ("route", "b1"),
                ("name_1", "Start"),
                ("share_1", "40"),
                ("due_1", "start"),
                ("name_2", "Afronding"),
                ("share_2", "60"),
                ("due_2", "completion"),
            ]),
        ),
        (
            format!("/contracten/{contract_id}/opties"),
            form(&[("new_end_date", "2027-12-31"), ("notice_deadline", "2025-06-30")]),
        ),
        (
            "/plaatsingen".into(),
            form(&[
                ("client_number", "K-RACE-1"),
                ("cohort", "wi2021"),
                ("contract_id", contract_id.as_str()),
                ("route", "b1"),
                ("start_date", "2023-01-01"),
                ("planned_end", "2024-12-31"),
                ("status", "started"),
            ]),
        ),
        (
            "/financiering".into(),
            form(&[
                ("code", "RACE"),
                ("name", "Race"),
                ("kind", "specific_grant"),
                ("cohorts", "wi2021"),
                ("spend_from", "2022-01-01"),
                ("spend_until", "2024-12-31"),
            ]),
        ),
        (
            format!("/financiering/{stream}/toekenningen"),
            form(&[
                ("year", "2024"),
                ("kind", "advance"),
                ("amount", "1.000,00"),
                ("reference", "Beschikking race"),
                ("decided_on", "2024-01-15"),
            ]),
        ),
        (
            format!("/financiering/{stream}/begrotingsposten"),
            form(&[("category", "Race"), ("year", "2024"), ("amount", "100,00")]),
        ),
        (
            "/beheer/gebruikers".into(),
            form(&[("username", "gelijktijdig"), ("role", "finance"), ("password", "lang-genoeg-wachtwoord")]),
        ),
        (
            "/toerekening/regels".into(),
            form(&[
                ("name", "Race-regel"),
                ("cost_centre", "KP-RACE"),
                ("stream_id", stream.as_str()),
                ("actie", "opslaan"),
            ]),
        ),
        (
            "/scenarios".into(),
            form(&[
                ("name", "Gelijktijdig"),
                ("description", ""),
                ("tariff_index", "2,5"),
                ("duration_b1", "30"),
                ("duration_z", "24"),
                ("duration_education", "36"),
                ("inflow", inflow),
            ]),
        ),
        (format!("/scenarios/{scenario}/kopie"), form(&[])),
        (
            "/snapshots".into(),
            form(&[
                ("van", "2022"),
                ("tot", "2026"),
                ("scenario", scenario.as_str()),
                ("variant", "verwacht"),
                ("name", "Gelijktijdige snapshot"),
            ]),
        ),
        ("/financiering/jaren/2021/afsluiten".into(), form(&[("bevestigd", "ja")])),
    ]
}

/// The value of attribute `name` in an HTML start tag, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(unescape(tag[at..].split('"').next()?))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// Every POST form on a page, with the values the page filled in (as a browser would submit it unchanged).
fn forms_on(page: &str) -> Vec<(String, Body)> {
    let mut found = Vec::new();
    for chunk in page.split("<form").skip(1) {
        let Some((open, rest)) = chunk.split_once('>') else { continue };
        let inner = rest.split("</form>").next().unwrap_or("");
        if !attr(open, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
            continue;
        }
        let Some(action) = attr(open, "action") else { continue };
        let action = action.split('#').next().unwrap().to_string();
        let mut fields = Vec::new();
        let mut files = Vec::new();
        let mut button = None;
        for tag in inner.split('<').skip(1) {
            let start = tag.split('>').next().unwrap_or("");
            let name = attr(start, "name");
            if tag.starts_with("input") {
                let Some(name) = name else { continue };
                let kind = attr(start, "type").unwrap_or_else(|| "text".into());
                match kind.as_str() {
                    "file" => files.push(name),
                    "checkbox" | "radio" if !start.contains(" checked") => {}
                    _ => fields.push((name, attr(start, "value").unwrap_or_default())),
                }
            } else if tag.starts_with("textarea") {
                let Some(name) = name else { continue };
                fields.push((name, unescape(tag.split_once('>').map(|(_, t)| t).unwrap_or(""))));
            } else if tag.starts_with("select") {
                let Some(name) = name else { continue };
                let body = inner[inner.find(start).unwrap()..].split("</select>").next().unwrap_or("");
                let options: Vec<&str> =
                    body.split("<option").skip(1).map(|o| o.split('>').next().unwrap_or("")).collect();
                let chosen = options.iter().find(|o| o.contains(" selected")).or(options.first());
                fields.push((name, chosen.and_then(|o| attr(o, "value")).unwrap_or_default()));
            } else if tag.starts_with("button") && button.is_none() {
                if let (Some(name), Some(value)) = (name, attr(start, "value")) {
                    button = Some((name, value));
                }
            }
        }
        fields.extend(button);
        let body = if attr(open, "enctype").as_deref() == Some("multipart/form-data") {
            Body::Multipart(fields, files)
        } else {
            Body::Form(fields)
        };
        found.push((action, body));
    }
    found
}

fn problems(path: &str, body: &Body, statuses: &[StatusCode]) -> Option<String> {
    let bad: Vec<u16> = statuses.iter().filter(|s| s.is_server_error()).map(|s| s.as_u16()).collect();
    let shown = format!("{body:?}");
    (!bad.is_empty()).then(|| format!("POST {path} {}: {bad:?}", shown.chars().take(200).collect::<String>()))
}

#[tokio::test]
async fn every_post_route_and_every_form_survives_twenty_submissions_at_once_without_a_5xx() {
    let app = demo_app().await;
    app.login_as(Role::Admin).await;
    let creates = create_bodies(&app).await;
    let token = app.csrf().await;
    let mut failures = Vec::new();

    // The forms the pages themselves offer, filled in as they come.
    let mut forms = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in web::routes().entries() {
        let path = concrete(entry.path);
        let download = [".xlsx", ".csv", ".json", "/document", "/download", "/health", "/ready", ".css"];
        if entry.method != Method::GET || download.iter().any(|d| path.ends_with(d)) {
            continue;
        }
        let (_, page) = app.get_html(&path).await;
        for (action, body) in forms_on(&page) {
            if action != "/logout" && seen.insert(format!("{action} {body:?}")) {
                forms.push((action, body));
            }
        }
    }
    assert!(forms.len() > 40, "found only {} forms", forms.len());
    for (action, body) in &forms {
        failures.extend(problems(action, body, &at_once(&app, &token, action, body).await));
    }
    // Valid new records that could collide.
    for (path, body) in &creates {
        failures.extend(problems(path, body, &at_once(&app, &token, path, body).await));
    }
    // Empty and odd bodies to every POST route.
    for entry in web::routes().entries() {
        if entry.method != Method::POST || entry.path == "/logout" {
            continue;
        }
        let path = concrete(entry.path);
        for body in odd_bodies() {
            failures.extend(problems(&path, &body, &at_once(&app, &token, &path, &body).await));
        }
    }
    assert!(failures.is_empty(), "{} requests sets with a 5xx:\n{}", failures.len(), failures.join("\n"));
    // Still signed in and answering.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn twenty_copies_of_a_scenario_at_once_each_get_their_own_name() {
    let app = demo_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let (_, page) = app.get_html("/scenarios").await;
    let token = extract_csrf(&page).unwrap();
    let (base, _) = store::overview::scenario(&app.db, 1).await.unwrap().unwrap();
    let before = store::overview::scenarios(&app.db).await.unwrap().len();
    let statuses = at_once(&app, &token, "/scenarios/1/kopie", &form(&[])).await;
    assert_eq!(statuses, vec![StatusCode::SEE_OTHER; AT_ONCE]);
    let names: BTreeSet<String> =
        store::overview::scenarios(&app.db).await.unwrap().into_iter().map(|(s, _)| s.name).collect();
    assert_eq!(names.len(), before + AT_ONCE);
    let mut expected = vec![format!("{} (kopie)", base.name)];
    expected.extend((2..=AT_ONCE).map(|n| format!("{} (kopie {n})", base.name)));
    for name in expected {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
}

#[tokio::test]
async fn decisions_sent_at_once_are_checked_against_each_other() {
    let app = demo_app().await;
    app.login_as(Role::Admin).await;
    let token = app.csrf().await;
    let provider = certified_provider(&app, "Gelijktijdig Taal BV", "11223344").await;

    // The same mark decision twenty times: one is stored, the others are two decisions on one day.
    let mark = form(&[("status", "indefinite"), ("decision_date", "2024-01-01"), ("valid_from", "2024-01-01")]);
    let mut statuses = at_once(&app, &token, &format!("/aanbieders/{provider}/keurmerken"), &mark).await;
    statuses.sort();
    let mut expected = vec![StatusCode::SEE_OTHER];
    expected.extend([StatusCode::UNPROCESSABLE_ENTITY; AT_ONCE - 1]);
    assert_eq!(statuses, expected);
    let on_that_day = store::certifications::for_provider(&app.db, provider)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.decision_date == time::macros::date!(2024 - 01 - 01))
        .count();
    assert_eq!(on_that_day, 1);

    // An extension option decided twenty times at once: decided once, the others told so.
    let (contract, option): (i64, i64) =
        sqlx::query_as("SELECT contract_id, id FROM extension_option WHERE status = 'pending' ORDER BY id LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let decide = form(&[("status", "exercised"), ("decision_reference", "B&W 2025/12")]);
    let mut statuses = at_once(&app, &token, &format!("/contracten/{contract}/opties/{option}"), &decide).await;
    statuses.sort();
    let mut expected = vec![StatusCode::SEE_OTHER];
    expected.extend([StatusCode::CONFLICT; AT_ONCE - 1]);
    assert_eq!(statuses, expected);
    let decided: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'extension_option' AND action = 'decide' AND entity_id = ?",
    )
    .bind(option)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(decided, 1);
}
