//! The multi-year overview: permalinks, the policy adviser's view (aggregates only), bad input, scenarios,
//! snapshots with "change since snapshot", and exports that read back to the JSON figures to the cent.

use std::process::Command;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::money::{AmountStyle, Money};

use crate::helpers::{location, spawn_app, TestApp};

fn cents(v: &serde_json::Value) -> i64 {
    Money::parse_with(v.as_str().unwrap(), AmountStyle::Plain).unwrap().cents()
}

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn the_policy_adviser_sees_the_overview_by_permalink_with_aggregates_only() {
    let app = demo_app().await;
    app.login_as(Role::PolicyAdviser).await;
    // The policy adviser starts on the overview.
    let r = app.get("/").await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/meerjarenoverzicht".to_string()));
    let (status, home) = app.get_html("/meerjarenoverzicht").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("href=\"/meerjarenoverzicht\""), "navigation entry");

    let link = "van=2022&tot=2028&scenario=2&variant=hoog&prognose_vanaf=2027&bron=SPUK";
    let (status, page) = app.get_html(&format!("/meerjarenoverzicht?{link}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/meerjarenoverzicht?{}", link.replace('&', "&amp;"))), "the permalink is shown");
    assert!(page.contains("Prognose volgens scenario"), "the overview says which scenario it uses");
    assert!(page.contains("Hoge instroom") && page.contains("instroom hoog"));
    assert!(page.contains("<svg") && page.contains("<title id=\"grafiek-jaren-titel\">"), "charts with a title");
    assert!(page.contains("Gegevens van de grafiek"), "and their data as a table");
    assert!(page.contains("Alleen bron SPUK"));

    // The JSON of the same permalink has the figures the page shows.
    let json: serde_json::Value =
        app.get(&format!("/meerjarenoverzicht/export.json?{link}")).await.json().await.unwrap();
    assert_eq!((json["from"].as_i64(), json["to"].as_i64()), (Some(2022), Some(2028)));
    assert_eq!(json["scenario"]["name"], "Hoge instroom");
    assert_eq!(json["scenario"]["variant"], "high");
    let spuk = &json["views"][0]["rows"][0];
    assert_eq!(spuk["key"], "SPUK");
    assert_eq!(json["views"][0]["rows"].as_array().unwrap().len(), 1, "only the chosen stream");
    let actual_2023 = Money::from_cents(cents(&spuk["years"][1]["actual"]));
    assert!(page.contains(&actual_2023.to_string()), "page shows {actual_2023}");
    assert!(cents(&spuk["total"]["forecast"]) > 0, "the high scenario forecasts spend from 2027 on");

    // No participant-level data anywhere: client numbers never reach the policy adviser.
    let clients: Vec<String> =
        sqlx::query_scalar("SELECT client_number FROM placement").fetch_all(&app.db).await.unwrap();
    let (status, detail) = app
        .get_html(&format!("/meerjarenoverzicht/detail?{link}&weergave=contract&sleutel=UTR-TAAL-2022-01&jaar=2023"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("Verplichting") || detail.contains("Realisatie"));
    for body in [&page, &detail] {
        assert!(!clients.iter().any(|c| body.contains(c.as_str())), "no client number on the page");
        assert!(!body.contains("/plaatsingen/"), "no links to placements");
        assert!(!body.contains("/aansluiting/regels"), "no links to ledger lines for a policy adviser");
    }
    assert_eq!(app.get("/plaatsingen").await.status(), StatusCode::FORBIDDEN);

    let (status, print) = app.get_html(&format!("/meerjarenoverzicht/afdrukken?{link}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(print.contains("/static/print.css"));
    assert!(app.get("/static/print.css").await.text().await.unwrap().contains("@media print"));
}

#[tokio::test]
async fn bad_year_ranges_are_refused_with_a_dutch_message() {
    let app = demo_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let (status, body) = app.get_html("/meerjarenoverzicht?van=2026&tot=2022").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Het eindjaar 2022 ligt vóór het beginjaar 2026; draai ze om."));
    let (status, body) = app.get_html("/meerjarenoverzicht?van=2022&tot=2037").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("Een overzicht beslaat hoogstens 15 jaar; 2022 tot en met 2037 is 16 jaar."));
    let before = count(&app, "overview_snapshot").await;
    let r = app.post_form("/snapshots", &[("name", "Te lang"), ("van", "2020"), ("tot", "2040")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "overview_snapshot").await, before, "nothing saved");
}

fn scenario_fields<'a>(name: &'a str, inflow: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("description", ""),
        ("tariff_index", "2,5"),
        ("duration_b1", "30"),
        ("duration_z", "24"),
        ("duration_education", "36"),
        ("inflow", inflow),
    ]
}

#[tokio::test]
async fn scenarios_with_bad_shares_or_negative_inflow_are_refused_and_good_ones_saved_copied_and_compared() {
    let app = demo_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let before = (count(&app, "scenario").await, count(&app, "scenario_inflow").await);

    let r = app.post_form("/scenarios", &scenario_fields("Laag", "2027; asiel; 200; 250; 300; 40; 40; 10; 10")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("Regel 1 (2027, asiel): de routeverdeling telt op tot 90%; dat moet precies 100% zijn."));
    let r = app.post_form("/scenarios", &scenario_fields("Laag", "2027; gezin; -10; 250; 300; 50; 40; 10; 10")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Regel 1: de instroom (laag) kan niet negatief zijn (-10)."));
    let r = app.post_form("/scenarios", &scenario_fields("Basis", "2027; gezin; 10; 20; 30; 50; 40; 10; 10")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "the name is taken");
    assert_eq!((count(&app, "scenario").await, count(&app, "scenario_inflow").await), before, "nothing saved");

    let audit = app.audit_count("scenario").await;
    let r = app.post_form("/scenarios", &scenario_fields("Laag", "2027; gezin; 10; 20; 30; 50; 40; 10; 10")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = location(&r).trim_start_matches("/scenarios/").split('?').next().unwrap().to_string();
    assert_eq!(app.audit_count("scenario").await, audit + 1);
    let r = app.post_form(&format!("/scenarios/{id}/kopie"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, copy) = app.get_html(&location(&r)).await;
    assert!(copy.contains("Laag (kopie)"));

    let (status, compared) = app.get_html(&format!("/scenarios?vergelijk=1&vergelijk={id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(compared.contains("Naast elkaar") && compared.contains(">Basis<") && compared.contains(">Laag<"));

    // A contract manager may read scenarios but not change them.
    let other = app.other_browser();
    other.login_as(Role::ContractManager).await;
    assert_eq!(other.get(&format!("/scenarios/{id}")).await.status(), StatusCode::OK);
    let r = other.post_form("/scenarios", &scenario_fields("Nee", "2027; gezin; 1; 2; 3; 100; 0; 0; 0")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_snapshot_is_frozen_under_a_unique_name_and_shows_the_change_since() {
    let app = demo_app().await;
    app.login_as(Role::Finance).await;
    let link =
        [("van", "2022"), ("tot", "2026"), ("scenario", "1"), ("variant", "verwacht"), ("prognose_vanaf", "2027")];
    let mut fields = link.to_vec();
    fields.push(("name", "Voorjaarsnota 2026"));
    let r = app.post_form("/snapshots", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/meerjarenoverzicht?van=2022&tot=2026&scenario=1") && to.contains("&snapshot="), "{to}");
    let rows = count(&app, "overview_snapshot_row").await;

    let r = app.post_form("/snapshots", &fields).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Er is al een snapshot met de naam ‘Voorjaarsnota 2026’"));
    assert_eq!(count(&app, "overview_snapshot_row").await, rows, "nothing saved");

    let json_url = to.replacen("/meerjarenoverzicht?", "/meerjarenoverzicht/export.json?", 1);
    let json: serde_json::Value = app.get(&json_url).await.json().await.unwrap();
    assert_eq!(json["snapshot"]["name"], "Voorjaarsnota 2026");
    assert_eq!(cents(&json["views"][0]["totals"]["total"]["change_spend"]), 0, "nothing changed yet");

    // Attribute a waiting line by hand: the change shows, in its stream and year, to the cent.
    let (line, date, amount): (i64, String, i64) = sqlx::query_as(
        "SELECT e.id, e.booking_date, e.amount_cents FROM ledger_entry e LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id
         WHERE a.ledger_entry_id IS NULL AND e.booking_date >= '2022' AND e.booking_date < '2027' ORDER BY e.id LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let spuk: i64 =
        sqlx::query_scalar("SELECT id FROM funding_stream WHERE code = 'SPUK'").fetch_one(&app.db).await.unwrap();
    taalbudget::store::attribution::assign_manually(&app.db, line, spuk, None, "test", "test").await.unwrap();
    let json: serde_json::Value = app.get(&json_url).await.json().await.unwrap();
    let year: i64 = date[..4].parse().unwrap();
    let row = json["views"][0]["rows"].as_array().unwrap().iter().find(|r| r["key"] == "SPUK").unwrap().clone();
    let cell = row["years"].as_array().unwrap().iter().find(|c| c["year"].as_i64() == Some(year)).unwrap();
    assert_eq!(cents(&cell["change_spend"]), amount);
    assert_eq!(cents(&json["views"][0]["totals"]["total"]["change_spend"]), amount);
    let (_, page) = app.get_html(&to).await;
    assert!(page.contains("Verschil uitgaven sinds snapshot"));
    let (_, list) = app.get_html("/snapshots").await;
    assert!(list.contains("Voorjaarsnota 2026") && list.contains("Begroting"), "the demo's snapshot is listed too");
}

fn cli(db: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taalbudget"));
    c.arg("--db").arg(db).env("TAALBUDGET_LOG", "error");
    c
}

#[test]
fn report_overview_json_csv_and_xlsx_agree_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert!(cli(&db).arg("demo").output().unwrap().status.success());
    let args =
        ["report", "overview", "--from", "2022", "--to", "2027", "--scenario", "Basis", "--forecast-from", "2026"];
    let out = cli(&db).args(args).args(["--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let csv = cli(&db).args(args).args(["--format", "csv"]).output().unwrap();
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with('\u{feff}'), "UTF-8 with BOM");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();

    let path = dir.path().join("overzicht.xlsx");
    let out = cli(&db).args(args).args(["--format", "xlsx", "--out"]).arg(&path).output().unwrap();
    assert!(out.status.success());
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert!(wb.sheet_names().contains(&"Uitgangspunten".to_string()), "the assumptions have their own sheet");
    let assumptions = wb.worksheet_range("Uitgangspunten").unwrap();
    assert!(assumptions.rows().any(|r| r[1] == Data::String("Basis".into())));
    // Numbers are numbers: the indexation a fraction (shown with a % format), the route mix too, years whole.
    let index = assumptions.rows().find(|r| r[0] == Data::String("Tariefindexatie per jaar".into())).unwrap();
    assert!(matches!(index[1], Data::Float(f) if f > 0.0 && f < 0.2), "{:?}", index[1]);
    let mix = assumptions.rows().position(|r| r[0] == Data::String("Jaar".into())).expect("the inflow table");
    let header: Vec<String> = assumptions.rows().nth(mix).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header[..6], ["Jaar", "Groep", "Instroom laag", "Instroom verwacht", "Instroom hoog", "B1-route"]);
    let first = assumptions.rows().nth(mix + 1).unwrap();
    assert!(matches!(first[0], Data::Float(y) if y == 2022.0), "{:?}", first[0]);
    assert!(matches!(first[5], Data::Float(f) if f > 0.0 && f <= 1.0), "share as a fraction: {:?}", first[5]);
    for sheet in ["Per bron", "Per route", "Per aanbieder", "Per contract"] {
        let range = wb.worksheet_range(sheet).unwrap();
        let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(
            header,
            [
                "Omschrijving",
                "Jaar",
                "Beschikbaar",
                "Realisatie",
                "Verplichtingen",
                "Waarvan vervallen, niet gefactureerd",
                "Waarvan nog te betalen",
                "Prognose",
                "Resterend"
            ],
            "{sheet}"
        );
        assert!(
            !range.rows().any(|r| r[0] == "Totaal" && r[1].to_string().eq_ignore_ascii_case("totaal")),
            "no 'Totaal Totaal' on {sheet}"
        );
    }

    let mut checked = 0;
    for view in json["views"].as_array().unwrap() {
        let code = view["view"].as_str().unwrap();
        let sheet = match code {
            "stream" => "Per bron",
            "route" => "Per route",
            "provider" => "Per aanbieder",
            _ => "Per contract",
        };
        let range = wb.worksheet_range(sheet).unwrap();
        let sheet_rows: Vec<&[Data]> = range.rows().collect();
        for row in view["rows"].as_array().unwrap().iter().chain(std::iter::once(&view["totals"])) {
            let key = row["key"].as_str().unwrap();
            let label = row["label"].as_str().unwrap();
            let mut cells: Vec<(String, &serde_json::Value)> =
                row["years"].as_array().unwrap().iter().map(|c| (c["year"].to_string(), c)).collect();
            cells.push(("totaal".into(), &row["total"]));
            for (year, cell) in cells {
                let csv_row = rows.iter().find(|r| &r[0] == code && &r[1] == key && r[3] == year).unwrap();
                // A row's total is on the line with the years shown ("2022–2027") instead of a year.
                let xlsx_year = if year == "totaal" { "2022–2027".to_string() } else { year.clone() };
                let xlsx_row = sheet_rows
                    .iter()
                    .find(|r| {
                        r[0] == Data::String(label.into())
                            && (r[1] == Data::String(xlsx_year.clone()) || r[1].to_string() == xlsx_year)
                    })
                    .unwrap_or_else(|| panic!("{sheet} {label} {year}"));
                // (field, csv column, xlsx column): the CSV keeps its older columns first, the xlsx puts the
                // split of the commitments next to them.
                let columns = [
                    ("available", 4, 2),
                    ("actual", 5, 3),
                    ("committed", 6, 4),
                    ("forecast", 7, 7),
                    ("remaining", 8, 8),
                    ("overdue", 9, 5),
                    ("to_come", 10, 6),
                ];
                assert_eq!(
                    cents(&cell["overdue"]) + cents(&cell["to_come"]),
                    cents(&cell["committed"]),
                    "{code} {key} {year}: the commitments split in two"
                );
                for (field, c, x) in columns {
                    let expected = if cell[field].is_null() { None } else { Some(cents(&cell[field])) };
                    let from_csv = (!csv_row[c].is_empty())
                        .then(|| Money::parse_with(&csv_row[c], AmountStyle::Plain).unwrap().cents());
                    assert_eq!(from_csv, expected, "csv {code} {key} {year} {field}");
                    let from_xlsx = match &xlsx_row[x] {
                        Data::Float(v) => Some(taalbudget::import::cells::money_from_number(*v).unwrap().cents()),
                        Data::Empty => None,
                        other => panic!("{other:?}"),
                    };
                    assert_eq!(from_xlsx, expected, "xlsx {sheet} {label} {year} {field}");
                    checked += 1;
                }
            }
        }
        // Every view adds up to the same spend.
        assert_eq!(view["totals"]["total"]["actual"], json["views"][0]["totals"]["total"]["actual"], "{code}");
        assert_eq!(view["totals"]["total"]["forecast"], json["views"][0]["totals"]["total"]["forecast"], "{code}");
    }
    assert!(checked > 500, "{checked} figures compared");
    assert!(cents(&json["views"][0]["totals"]["total"]["forecast"]) > 0);

    let bad = cli(&db).args(["report", "overview", "--from", "2030", "--to", "2022"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("draai ze om"));
}

#[tokio::test]
async fn the_kept_overview_its_drawn_tables_and_exports_follow_a_new_ledger_line_to_the_cent() {
    let app = demo_app().await;
    app.login_as(Role::Admin).await;
    let y = taalbudget::domain::dates::today().year();
    let link = format!("van={}&tot={y}", y - 1);
    let spuk_actual = |json: &serde_json::Value| {
        let row = json["views"][0]["rows"].as_array().unwrap().iter().find(|r| r["key"] == "SPUK").unwrap().clone();
        cents(&row["years"][1]["actual"])
    };
    let json: serde_json::Value =
        app.get(&format!("/meerjarenoverzicht/export.json?{link}")).await.json().await.unwrap();
    let before = spuk_actual(&json);
    // Drawn and kept: the page with every table, the print view and the workbook.
    let (_, page) = app.get_html(&format!("/meerjarenoverzicht?{link}&weergave=alle")).await;
    let (_, print) = app.get_html(&format!("/meerjarenoverzicht/afdrukken?{link}")).await;
    let xlsx = app.get(&format!("/meerjarenoverzicht/export.xlsx?{link}")).await.bytes().await.unwrap();
    assert_eq!(app.get_html(&format!("/meerjarenoverzicht?{link}&weergave=alle")).await.1, page, "the same twice");

    // The SPUK rule takes cost centre KP6100-INB on account 4301: € 123,45 more actual this year.
    let line = crate::helpers::ledger_line(&format!("{y}-01-15"), "KP6100-INB", "999999", "Taalles extra", 12_345);
    crate::helpers::import_ledger(&app, &[line]).await;

    let json: serde_json::Value =
        app.get(&format!("/meerjarenoverzicht/export.json?{link}")).await.json().await.unwrap();
    let after = spuk_actual(&json);
    assert_eq!(after - before, 12_345);
    let (_, page_after) = app.get_html(&format!("/meerjarenoverzicht?{link}&weergave=alle")).await;
    let (_, print_after) = app.get_html(&format!("/meerjarenoverzicht/afdrukken?{link}")).await;
    let shown = Money::from_cents(after).to_string();
    assert!(page_after.contains(&shown) && !page.contains(&shown), "the page shows {shown}");
    assert!(print_after.contains(&shown) && !print.contains(&shown), "the print view shows {shown}");
    let xlsx_after = app.get(&format!("/meerjarenoverzicht/export.xlsx?{link}")).await.bytes().await.unwrap();
    assert_ne!(xlsx_after, xlsx, "the workbook is drawn again");
}
