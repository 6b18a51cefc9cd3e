//! The council's progress letter (issue 25): the Word letter carries every figure and sentence of its JSON, is
//! read back with a DOCX reader (docx-rs), converts with LibreOffice where it is installed, freezes its figures and
//! shows next year what changed since; the demo writes complete letters for 2022, 2023 and 2024.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::Value;
use taalbudget::auth::roles::Role;

use crate::helpers::{spawn_app, TestApp};
use crate::indicators::hand_built;
use crate::inflow::{cli, import_inflow};

/// Every text run of a .docx, in document order, read back with docx-rs.
fn docx_texts(bytes: &[u8]) -> Vec<String> {
    let docx = docx_rs::read_docx(bytes).expect("a readable .docx");
    let tree = serde_json::to_value(&docx.document).unwrap();
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("text", Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&tree, &mut out);
    out
}

/// The names of the pictures in a .docx.
fn docx_media(bytes: &[u8]) -> Vec<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .filter(|n| n.starts_with("word/media/") && !n.ends_with('/'))
        .collect()
}

async fn letter_json(app: &TestApp, year: i32) -> Value {
    let r = app.get(&format!("/indicatoren/voortgangsbrief.json?jaar={year}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn word_letter(app: &TestApp, year: i32) -> Vec<u8> {
    let r = app.post_form("/indicatoren/voortgangsbrief", &[("jaar", &year.to_string()), ("scenario", "")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    assert_eq!(r.headers()["content-disposition"], format!("attachment; filename=\"voortgangsbrief-{year}.docx\""));
    r.bytes().await.unwrap().to_vec()
}

/// Every summary, caption, heading, column, row label and figure of the letter's JSON.
fn json_texts(letter: &Value) -> Vec<String> {
    let mut out = vec![letter["title"].as_str().unwrap().to_string()];
    for s in letter["sections"].as_array().unwrap() {
        out.push(s["heading"].as_str().unwrap().to_string());
        for t in s["tables"].as_array().unwrap() {
            out.push(t["summary"].as_str().unwrap().to_string());
            // A table without rows is left out of the Word letter: its summary says why.
            if t["rows"].as_array().unwrap().is_empty() {
                continue;
            }
            out.push(t["caption"].as_str().unwrap().to_string());
            out.extend(t["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()));
            for r in t["rows"].as_array().unwrap() {
                out.push(r["label"].as_str().unwrap().to_string());
                out.extend(r["cells"].as_array().unwrap().iter().map(|c| c["tekst"].as_str().unwrap().to_string()));
            }
        }
        for c in s["charts"].as_array().unwrap() {
            out.push(c["title"].as_str().unwrap().to_string());
        }
    }
    for d in letter["definitions"].as_array().unwrap() {
        out.push(d["name"].as_str().unwrap().to_string());
    }
    out
}

fn table<'a>(letter: &'a Value, id: &str) -> &'a Value {
    letter["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tables"].as_array().unwrap())
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no table {id} in {letter}"))
}

/// A row's figure texts.
fn row(t: &Value, label: &str) -> Vec<String> {
    let r =
        t["rows"].as_array().unwrap().iter().find(|r| r["label"] == label).unwrap_or_else(|| panic!("no row {label}"));
    r["cells"].as_array().unwrap().iter().map(|c| c["tekst"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_word_letter_holds_every_figure_and_sentence_of_its_json_and_next_year_shows_what_changed() {
    let app = spawn_app().await;
    hand_built(&app).await;
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;

    // The hand-built set (tests/api/indicators.rs): 2022 has 30 family migrants; 2023 has 10 housed and 25 AZC
    // asylum migrants, 40 family and 3 other (78); two starts; 4.000,00 spent, 1.000,00 of it on ENO.
    let json = letter_json(&adviser, 2023).await;
    assert_eq!(json["title"], "Voortgangsbrief inburgering 2023");
    assert_eq!(json["years"], serde_json::json!([2021, 2022, 2023]));
    let inflow = table(&json, "instroom");
    assert_eq!(
        inflow["summary"],
        "In 2023 werden 78 nieuwe inburgeringsplichtigen aan de gemeente gekoppeld, 48 meer dan in 2022: 35 asielmigranten en 43 gezins- en overige migranten. Het jaar is niet compleet: 3 van de 12 maanden hebben een telling."
    );
    assert_eq!(row(inflow, "Gezinsmigranten"), ["0", "30", "40"]);
    // 3 other migrants is a group under 5: the letter goes to the council, so it is hidden whoever makes it.
    assert_eq!(row(inflow, "Overige migranten"), ["0", "0", "minder dan 5"]);
    assert_eq!(row(inflow, "Totaal"), ["0", "30", "78"]);
    assert_eq!(row(table(&json, "ondertussengroep"), "Ondertussengroep Wi2013 (zonder ELIP)")[2], "700");
    // Two starts: fewer than 5, so hidden in the letter too.
    assert_eq!(row(table(&json, "starts"), "Alle routes")[2], "minder dan 5");
    let spend = table(&json, "besteding");
    assert_eq!(row(spend, "Gerealiseerd, alle bronnen")[2], "€ 4.000,00");
    assert_eq!(row(spend, "Per gestarte deelnemer")[2], "€ 2.000,00");
    assert_eq!(row(spend, "Aandeel Ondertussengroep")[2], "25%");
    assert_eq!(
        spend["rows"][0]["cells"][2],
        serde_json::json!({"tekst": "€ 4.000,00", "soort": "bedrag", "waarde": "4000"})
    );
    assert_eq!(row(table(&json, "geld"), "Bron ENO (ENO)"), ["€ 20.000,00", "€ 1.000,00", "€ 0,00", "€ 19.000,00"]);
    let scenario = table(&json, "scenario");
    assert_eq!(row(scenario, "Asielmigranten"), ["35", "30", "40", "50"]);
    assert_eq!(
        scenario["summary"],
        "Tegen scenario ‘Basis’ lag de instroom van asielmigranten binnen de bandbreedte (30 tot 50) en van gezins- en overige migranten binnen de bandbreedte (35 tot 55)."
    );

    // The Word letter: every text of the JSON is in it, read back with docx-rs, and both charts as pictures.
    let docx = word_letter(&adviser, 2023).await;
    let texts = docx_texts(&docx);
    let all = texts.join("\n");
    for t in json_texts(&json) {
        assert!(texts.iter().any(|x| x == &t) || all.contains(&t), "the letter lacks {t:?}");
    }
    assert!(all.contains("Bijlage: definities"));
    assert_eq!(docx_media(&docx).len(), 2, "the inflow and the money chart");
    // Its figures are frozen as "Voortgangsbrief 2023", in the audit log, and listed on the page.
    let (name, by): (String, String) = sqlx::query_as("SELECT name, created_by FROM letter_snapshot WHERE year = 2023")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(name, "Voortgangsbrief 2023");
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'letter_snapshot'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let (_, page) = adviser.get_html("/indicatoren?jaar=2023").await;
    assert!(page.contains("<th scope=\"row\">Voortgangsbrief 2023</th>") && page.contains(&by), "{page}");

    // A late count for March 2023 (5 more family migrants): next year's letter says what changed since.
    let (code, out) = import_inflow(&app, &[["2023-03", "gezin", "5"]], &[]);
    assert_eq!(code, 0, "{out}");
    let next = letter_json(&adviser, 2024).await;
    let diff = table(&next, "verschil");
    assert_eq!(row(diff, "Nieuwe inburgeringsplichtigen per groep en jaar: Gezinsmigranten"), ["40", "45", "+5"]);
    assert_eq!(row(diff, "Nieuwe inburgeringsplichtigen per groep en jaar: Totaal"), ["78", "83", "+5"]);
    assert_eq!(diff["rows"].as_array().unwrap().len(), 2, "{diff}");
    assert!(diff["summary"]
        .as_str()
        .unwrap()
        .starts_with("Sinds de vorige brief (Voortgangsbrief 2023, vastgelegd op "));
    assert!(diff["summary"].as_str().unwrap().contains("zijn 2 van de "), "{diff}");

    // The same figures as a workbook: numbers as numbers, the hidden figure as its text.
    let r = adviser.get("/indicatoren/voortgangsbrief.xlsx?jaar=2023").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("instroom").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert!(rows.contains(&vec!["Gezinsmigranten".into(), "0".into(), "30".into(), "45".into()]), "{rows:?}");
    assert!(
        rows.contains(&vec!["Overige migranten".into(), "0".into(), "0".into(), "minder dan 5".into()]),
        "{rows:?}"
    );
}

#[tokio::test]
async fn who_may_not_manage_forecasts_reads_the_letters_figures_but_freezes_no_letter() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let r = app.post_form("/indicatoren/voortgangsbrief", &[("jaar", "2023")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/indicatoren/voortgangsbrief.json?jaar=2023").await.status(), StatusCode::OK);
    let (_, page) = app.get_html("/indicatoren?jaar=2023").await;
    assert!(!page.contains("action=\"/indicatoren/voortgangsbrief\""), "no button without the right");
    let frozen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM letter_snapshot").fetch_one(&app.db).await.unwrap();
    assert_eq!(frozen, 0);
}

#[tokio::test]
async fn report_voortgangsbrief_writes_word_json_and_xlsx_and_converts_with_libreoffice_where_installed() {
    let app = spawn_app().await;
    hand_built(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("brief.docx");
    let (code, _, out) =
        cli(&app.db_path, &["report", "voortgangsbrief", "--year", "2023", "--out", docx.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("vastgelegd als ‘Voortgangsbrief 2023’"), "{out}");
    let bytes = std::fs::read(&docx).unwrap();
    assert!(docx_texts(&bytes).iter().any(|t| t == "Voortgangsbrief inburgering 2023"));
    let json = dir.path().join("brief.json");
    let (code, _, out) = cli(
        &app.db_path,
        &["report", "voortgangsbrief", "--year", "2023", "--format", "json", "--out", json.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{out}");
    let figures: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let all = docx_texts(&bytes).join("\n");
    for t in json_texts(&figures) {
        assert!(all.contains(&t), "the Word letter lacks {t:?}");
    }
    let (code, _, out) = cli(
        &app.db_path,
        &["report", "voortgangsbrief", "--year", "2023", "--format", "pdf", "--out", json.to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(out.contains("kies docx, json of xlsx"), "{out}");

    // LibreOffice, where installed (CI installs it), opens the letter and converts it without complaint.
    let soffice = ["soffice", "libreoffice"]
        .into_iter()
        .find(|b| std::process::Command::new(b).arg("--version").output().map(|o| o.status.success()).unwrap_or(false));
    let Some(soffice) = soffice else {
        eprintln!("LibreOffice is not installed here: the conversion check is skipped (the docx-rs read-back ran)");
        return;
    };
    let profile = format!("-env:UserInstallation=file://{}/profiel", dir.path().display());
    let out = std::process::Command::new("timeout")
        .args(["120", soffice, &profile, "--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let mut pdf = Vec::new();
    std::fs::File::open(dir.path().join("brief.pdf")).unwrap().read_to_end(&mut pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 10_000, "{said}");
    assert!(!said.to_lowercase().contains("error"), "{said}");
}

#[tokio::test]
async fn the_demo_writes_complete_letters_for_2022_2023_and_2024() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app.login_as(Role::PolicyAdviser).await;
    for year in 2022..=2024 {
        let json = letter_json(&app, year).await;
        // Every theme has figures for the letter's own year, not dashes.
        for (id, label) in [
            ("instroom", "Totaal"),
            ("starts", "Alle routes"),
            ("doelgroep", "Wet inburgering 2021"),
            ("aanbieders", "Met een lopend contract op 31 december"),
            ("besteding", "Gerealiseerd, alle bronnen"),
            ("besteding", "Per gestarte deelnemer"),
            ("aanwezigheid-norm", "Met aangeboden uren"),
            ("resultaten-normen", "Voldoet"),
        ] {
            let figure = &row(table(&json, id), label)[2];
            assert!(!["–", "0", "€ 0,00"].contains(&figure.as_str()), "{year} {id} {label}: {figure}");
        }
        assert!(!table(&json, "geld")["rows"].as_array().unwrap().is_empty(), "{year}: streams");
        assert!(!table(&json, "verloop")["rows"].as_array().unwrap().is_empty(), "{year}: progress");
        let docx = word_letter(&app, year).await;
        let all = docx_texts(&docx).join("\n");
        for t in json_texts(&json) {
            assert!(all.contains(&t), "{year}: the letter lacks {t:?}");
        }
        assert_eq!(docx_media(&docx).len(), 2, "{year}: two charts");
        // From the second letter on, each says what changed since the one before.
        let has_diff =
            json["sections"].as_array().unwrap().iter().any(|s| s["heading"] == "Verschil met de vorige brief");
        assert_eq!(has_diff, year > 2022, "{year}");
    }
}
