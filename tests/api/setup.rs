//! The finance set-up as files (issue 22): `import setup` loads streams, rules, allocations and budget lines from
//! one workbook in one batch (all or nothing, idempotent, undone whole), `export setup` and the funding page's
//! button write it, and the round trip export -> import into an empty database -> export gives the same cells.

use std::path::Path;
use std::process::Command;

use calamine::{Data, Reader};
use reqwest::StatusCode;
use taalbudget::auth::roles::Role;

use crate::helpers::{import_ledger, ledger_line, spawn_app, TestApp};

const STREAM_HEADERS: &[&str] = &[
    "Code",
    "Naam",
    "Soort",
    "Doelgroepen",
    "Besteden vanaf",
    "Besteden tot en met",
    "Overheveling",
    "Standaard voor",
    "Toelichting",
];
const FUNDING_HEADERS: &[&str] = &["Bron", "Jaar", "Soort", "Bedrag", "Kenmerk", "Datum", "Categorie"];
const RULE_HEADERS: &[&str] = &[
    "Positie",
    "Naam",
    "Kostenplaats",
    "Grootboekrekening",
    "Taakveld",
    "Crediteurnummer",
    "Omschrijving bevat",
    "Boekdatum vanaf",
    "Boekdatum tot en met",
    "Bedragen",
    "Bron",
    "Begrotingspost",
    "Begrotingsjaar",
    "Contract",
];

type Sheet<'a> = (&'a str, &'a [&'a str], Vec<Vec<&'a str>>);

/// A workbook of text cells, one sheet per entry, header first.
fn workbook(sheets: &[Sheet<'_>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, headers, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
                ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// Four streams, nine allocations over 2022-2024, three budget lines of 2024 and five rules. `bad_rule_date`
/// replaces the second rule's Boekdatum vanaf.
fn four_streams_five_rules(bad_rule_date: Option<&'static str>) -> Vec<u8> {
    let streams = vec![
        vec!["SPUK", "SPUK inburgering", "spuk", "wi2021", "01-01-2022", "31-12-2026", "ja", "wi2021", "Beschikking"],
        vec!["ENO", "En ondertussen", "gemeentefonds", "wi2013", "01-01-2022", "", "nee", "wi2013", ""],
        vec!["ELIP", "ELIP-uitkering", "gemeentefonds", "elip", "01-01-2022", "31-12-2025", "nee", "elip", ""],
        vec!["EIGEN", "Eigen middelen", "eigen middelen", "", "01-01-2022", "", "ja", "other", ""],
    ];
    let allocations = vec![
        vec!["SPUK", "2022", "voorschot", "1.000.000,00", "SPUK-2022-V", "15-01-2022"],
        vec!["SPUK", "2022", "vaststelling", "980.000,00", "SPUK-2022-S", "30-06-2023"],
        vec!["SPUK", "2023", "voorschot", "1.100.000,00", "SPUK-2023-V", "15-01-2023"],
        vec!["SPUK", "2024", "voorschot", "1.200.000,00", "SPUK-2024-V", "15-01-2024"],
        vec!["ENO", "2022", "voorschot", "250.000,00", "CIRC-2022", "01-06-2022"],
        vec!["ENO", "2023", "voorschot", "240.000,00", "CIRC-2023", "01-06-2023"],
        vec!["ENO", "2024", "voorschot", "230.000,00", "CIRC-2024", "01-06-2024"],
        vec!["ELIP", "2023", "voorschot", "50.000,00", "ELIP-2023", "01-03-2023"],
        vec!["EIGEN", "2024", "correctie", "-5.000,00", "RAAD-2024-12", "12-12-2024"],
    ];
    let budget = vec![
        vec!["SPUK", "2024", "begrotingspost", "800.000,00", "", "", "Taalonderwijs B1"],
        vec!["SPUK", "2024", "begrotingspost", "300.000,00", "", "", "Taalonderwijs Z"],
        vec!["ENO", "2024", "begrotingspost", "230.000,00", "", "", "Ondertussen"],
    ];
    let second_from = bad_rule_date.unwrap_or("");
    let rules = vec![
        vec![
            "1",
            "B1 inburgering",
            "6.1-INB-*",
            "4300-4399",
            "",
            "",
            "",
            "",
            "",
            "beide",
            "SPUK",
            "Taalonderwijs B1",
            "2024",
            "via crediteur",
        ],
        vec!["2", "Z-route", "6.1-INBZ", "", "", "", "", second_from, "", "", "SPUK", "Taalonderwijs Z", "2024", ""],
        vec!["3", "Ondertussen", "", "", "6.1", "", "ondertussen", "", "", "", "ENO", "", "", ""],
        vec!["4", "ELIP-crediteuren", "", "", "", "2001, 2005-2010", "", "", "", "facturen", "ELIP", "", "", ""],
        vec![
            "5",
            "Creditnota's eigen",
            "KP-EIGEN",
            "",
            "",
            "",
            "",
            "01-01-2024",
            "31-12-2024",
            "creditnota's",
            "EIGEN",
            "",
            "",
            "",
        ],
    ];
    workbook(&[
        ("Bronnen", STREAM_HEADERS, streams),
        ("Toekenningen", FUNDING_HEADERS, allocations),
        ("Begrotingsposten", FUNDING_HEADERS, budget),
        ("Regels", RULE_HEADERS, rules),
    ])
}

fn cli(db: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_taalbudget")).arg("--db").arg(db).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json, stdout + &String::from_utf8_lossy(&out.stderr))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// How many streams, rules, allocations, budget lines, cohort defaults and batches the database holds.
async fn counts(app: &TestApp) -> [i64; 6] {
    let mut out = [0; 6];
    for (i, table) in
        ["funding_stream", "attribution_rule", "allocation", "budget_line", "cohort_stream", "import_batch"]
            .iter()
            .enumerate()
    {
        out[i] = count(app, &format!("SELECT COUNT(*) FROM {table}")).await;
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// Every sheet's cells as calamine reads them, by sheet name.
fn cells(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = book.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).unwrap();
            (n, range.rows().map(|r| r.to_vec()).collect())
        })
        .collect()
}

#[tokio::test]
async fn a_workbook_of_four_streams_five_rules_and_three_years_loads_in_one_batch_with_exact_euros() {
    let app = spawn_app().await;
    // A ledger line booked before the set-up exists: the rules, applied once the workbook is in, attribute it.
    import_ledger(&app, &[ledger_line("2024-03-01", "6.1-INB-01", "9999", "Les B1 maart", 123_456)]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "inrichting.xlsx", &four_streams_five_rules(None));

    let (code, json, out) = cli(&app.db_path, &["import", "setup", &file, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json["kind"], "setup");
    assert_eq!(json["rows_read"], 21);
    assert_eq!(json["rows_imported"], 21);
    assert_eq!(json["rows_duplicate"], 0);
    assert_eq!(json["rows_rejected"], 0);
    assert_eq!(json["errors"], serde_json::json!([]));
    let sheets: Vec<(String, u64)> = json["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["sheet"].as_str().unwrap().to_string(), s["rows_imported"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        sheets,
        [("Bronnen".to_string(), 4), ("Toekenningen".into(), 9), ("Begrotingsposten".into(), 3), ("Regels".into(), 5)]
    );
    let batch = json["batch"].as_i64().unwrap();
    // The ledger's batch is 1, the set-up's the second; one batch for every kind of the workbook.
    assert_eq!(batch, 2);
    assert_eq!(counts(&app).await, [4, 5, 9, 3, 4, 2]);
    for table in ["funding_stream", "attribution_rule", "allocation", "budget_line", "cohort_stream"] {
        let outside = count(&app, &format!("SELECT COUNT(*) FROM {table} WHERE batch_id IS NOT 2")).await;
        assert_eq!(outside, 0, "{table}");
    }

    // Allocations per year: 2022 = 1,000,000.00 + 980,000.00 + 250,000.00; 2023 = 1,100,000.00 + 240,000.00 +
    // 50,000.00; 2024 = 1,200,000.00 + 230,000.00 - 5,000.00; together 5,045,000.00.
    let per_year: Vec<(i64, i64)> =
        sqlx::query_as("SELECT year, SUM(amount_cents) FROM allocation GROUP BY year ORDER BY year")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(per_year, [(2022, 223_000_000), (2023, 139_000_000), (2024, 142_500_000)]);
    assert_eq!(count(&app, "SELECT SUM(amount_cents) FROM allocation").await, 504_500_000);
    // Budget lines 800,000.00 + 300,000.00 + 230,000.00.
    assert_eq!(count(&app, "SELECT SUM(amount_cents) FROM budget_line").await, 133_000_000);

    let rules: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "SELECT r.position, r.name, r.cost_centre, r.amount_sign, s.code FROM attribution_rule r
         JOIN funding_stream s ON s.id = r.stream_id ORDER BY r.position",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let names: Vec<(i64, &str, &str, &str, &str)> =
        rules.iter().map(|(p, n, c, a, s)| (*p, n.as_str(), c.as_str(), a.as_str(), s.as_str())).collect();
    assert_eq!(
        names,
        [
            (1, "B1 inburgering", "6.1-INB-*", "both", "SPUK"),
            (2, "Z-route", "6.1-INBZ", "both", "SPUK"),
            (3, "Ondertussen", "", "both", "ENO"),
            (4, "ELIP-crediteuren", "", "invoices", "ELIP"),
            (5, "Creditnota's eigen", "KP-EIGEN", "credit_notes", "EIGEN"),
        ]
    );
    let defaults: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.cohort, s.code FROM cohort_stream c JOIN funding_stream s ON s.id = c.stream_id ORDER BY c.cohort",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let defaults: Vec<(&str, &str)> = defaults.iter().map(|(c, s)| (c.as_str(), s.as_str())).collect();
    assert_eq!(defaults, [("elip", "ELIP"), ("other", "EIGEN"), ("wi2013", "ENO"), ("wi2021", "SPUK")]);
    // The earlier ledger line went to SPUK's budget line Taalonderwijs B1 2024 by the first rule.
    let (stream, line, rule): (String, String, String) = sqlx::query_as(
        "SELECT s.code, b.category, r.name FROM ledger_attribution a JOIN funding_stream s ON s.id = a.stream_id
         JOIN budget_line b ON b.id = a.budget_line_id JOIN attribution_rule r ON r.id = a.rule_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((stream.as_str(), line.as_str(), rule.as_str()), ("SPUK", "Taalonderwijs B1", "B1 inburgering"));
}

#[tokio::test]
async fn a_bad_cell_on_one_sheet_refuses_the_whole_workbook_and_changes_nothing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "inrichting.xlsx", &four_streams_five_rules(Some("31-02-2024")));

    let (code, json, out) = cli(&app.db_path, &["import", "setup", &file, "--json"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(json["batch"], serde_json::Value::Null);
    assert_eq!(json["rows_read"], 21);
    assert_eq!(json["rows_rejected"], 1);
    assert_eq!(json["errors_total"], 1);
    let e = &json["errors"][0];
    assert_eq!(
        (&e["sheet"], &e["row"], &e["column"], &e["value"]),
        (
            &serde_json::json!("Regels"),
            &serde_json::json!(3),
            &serde_json::json!("H"),
            &serde_json::json!("31-02-2024")
        )
    );
    assert!(e["message"].as_str().unwrap().starts_with("Boekdatum vanaf"), "{e}");
    // Every other sheet was fine, and still nothing of it was written.
    assert_eq!(counts(&app).await, [0, 0, 0, 0, 0, 0]);

    let (code, _, text) = cli(&app.db_path, &["import", "setup", &file]);
    assert_eq!(code, 1);
    assert!(text.contains("fout: Regels, rij 3, kolom H: Boekdatum vanaf"), "{text}");
    assert!(text.contains("een inrichting wordt alleen in haar geheel geladen"), "{text}");
}

#[tokio::test]
async fn the_same_workbook_twice_adds_nothing_and_undo_restores_the_empty_state() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "inrichting.xlsx", &four_streams_five_rules(None));
    let (code, first, out) = cli(&app.db_path, &["import", "setup", &file, "--json"]);
    assert_eq!(code, 0, "{out}");
    let batch = first["batch"].as_i64().unwrap();

    let (code, again, out) = cli(&app.db_path, &["import", "setup", &file, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(again["batch"], serde_json::Value::Null);
    assert_eq!((again["rows_imported"].as_u64(), again["rows_duplicate"].as_u64()), (Some(0), Some(21)));
    assert_eq!(again["duplicates"][0]["batch"], batch);
    assert_eq!(counts(&app).await, [4, 5, 9, 3, 4, 1]);

    let (code, undone, out) = cli(&app.db_path, &["import", "undo", &batch.to_string(), "--json"]);
    assert_eq!(code, 0, "{out}");
    // 4 streams + 4 cohort defaults + 9 allocations + 3 budget lines + 5 rules.
    assert_eq!(undone["lines_removed"], 25);
    assert_eq!(counts(&app).await, [0, 0, 0, 0, 0, 1]);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM import_batch WHERE status = 'undone'").await, 1);
    // Loading it after the undo brings it all back, as a new batch.
    let (code, reloaded, out) = cli(&app.db_path, &["import", "setup", &file, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(reloaded["rows_imported"], 21);
}

#[tokio::test]
async fn export_import_into_an_empty_database_and_export_again_gives_equal_cells_on_every_sheet() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "inrichting.xlsx", &four_streams_five_rules(None));
    let (code, _, out) = cli(&app.db_path, &["import", "setup", &file, "--json"]);
    assert_eq!(code, 0, "{out}");

    // The button on the funding page and the command line write the same workbook.
    app.login_as(Role::Finance).await;
    let (status, page) = app.get_html("/financiering").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/financiering/inrichting.xlsx"), "{page}");
    let r = app.get("/financiering/inrichting.xlsx?jaar=2024").await;
    assert_eq!(r.status(), StatusCode::OK);
    let web = r.bytes().await.unwrap().to_vec();
    let first = dir.path().join("eerste.xlsx");
    let (code, _, out) = cli(&app.db_path, &["export", "setup", "--year", "2024", "--out", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let first = std::fs::read(first).unwrap();
    assert_eq!(cells(&web), cells(&first));

    let other = spawn_app().await;
    let (code, json, out) = cli(&other.db_path, &["import", "setup", &write(dir.path(), "a.xlsx", &first), "--json"]);
    assert_eq!(code, 0, "{out}");
    // 4 streams, the 3 allocations and 3 budget lines of 2024, 5 rules.
    assert_eq!(json["rows_imported"], 15);
    let second = dir.path().join("tweede.xlsx");
    let (code, _, out) = cli(&other.db_path, &["export", "setup", "--year", "2024", "--out", second.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (a, b) = (cells(&first), cells(&std::fs::read(second).unwrap()));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Bronnen", "Toekenningen", "Begrotingsposten", "Regels"]);
    let rows: Vec<usize> = a.iter().map(|(_, r)| r.len()).collect();
    assert_eq!(rows, [5, 4, 4, 6]);
    assert_eq!(a, b);
    // A rule's pattern stays text, an amount a number: the SPUK advance of 2024 is 1,200,000.00.
    assert_eq!(a[3].1[1][2], Data::String("6.1-INB-*".into()));
    assert!(a[1].1.iter().any(|r| r[0] == Data::String("SPUK".into()) && r[3] == Data::Float(1_200_000.0)));
}

#[tokio::test]
async fn the_import_page_checks_then_loads_the_workbook_and_its_batch_page_undoes_it() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let (_, page) = app.get_html("/import").await;
    assert!(page.contains("action=\"/import/inrichting\""), "{page}");
    let send = |check: bool| {
        let app = &app;
        async move {
            let mut form = app.multipart_form().await.part(
                "bestand",
                reqwest::multipart::Part::bytes(four_streams_five_rules(None)).file_name("inrichting.xlsx"),
            );
            if check {
                form = form.text("alleen_controleren", "on");
            }
            let r = app.client.post(app.url("/import/inrichting")).multipart(form).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };

    let (status, checked) = send(true).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert!(checked.contains("Alleen gecontroleerd: er is niets opgeslagen."), "{checked}");
    assert!(
        checked.contains(
            "<th scope=\"row\">Regels</th><td>toerekenregels</td><td class=\"num\">5</td><td class=\"num\">5</td>"
        ),
        "{checked}"
    );
    assert_eq!(counts(&app).await, [0, 0, 0, 0, 0, 0]);

    let (status, loaded) = send(false).await;
    assert_eq!(status, StatusCode::OK, "{loaded}");
    assert!(loaded.contains("als batch <a href=\"/import/batches/1\">1</a>"), "{loaded}");
    assert_eq!(counts(&app).await, [4, 5, 9, 3, 4, 1]);

    let r = app.post_form("/import/batches/1/ongedaan", &[("bevestigd", "ja")]).await;
    assert!(r.status().is_redirection() || r.status() == StatusCode::OK, "{}", r.status());
    assert_eq!(counts(&app).await, [0, 0, 0, 0, 0, 1]);
}

#[tokio::test]
async fn a_workbook_without_the_rules_sheet_is_refused_naming_the_sheet() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = workbook(&[
        ("Bronnen", STREAM_HEADERS, vec![]),
        ("Toekenningen", FUNDING_HEADERS, vec![]),
        ("Begrotingsposten", FUNDING_HEADERS, vec![]),
    ]);
    let (code, json, out) = cli(&app.db_path, &["import", "setup", &write(dir.path(), "x.xlsx", &bytes), "--json"]);
    assert_eq!(code, 2, "{out}");
    assert!(json["errors"][0]["message"].as_str().unwrap().contains("Regels"), "{out}");
    assert_eq!(counts(&app).await, [0, 0, 0, 0, 0, 0]);
}

/// A rules file in the `standaard-regels` layout, one string per template column.
fn rules_file(dir: &Path, rows: &[&[&str]]) -> String {
    let t = taalbudget::import::template::find("standaard-regels").unwrap();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
    write(dir, "regels.xlsx", &taalbudget::import::example::workbook_text(&t, &rows).unwrap())
}

#[tokio::test]
async fn the_rules_import_refuses_a_rule_that_would_move_a_closed_year_and_never_changes_a_known_rule() {
    use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
    use taalbudget::store::attribution::NewRule;
    let app = spawn_app().await;
    let old = crate::helpers::other_stream(&app, "OUD", "2030-12-31").await;
    crate::helpers::other_stream(&app, "NIEUW", "2030-12-31").await;
    let rule = NewRule {
        name: "Alles OUD".into(),
        criteria: Criteria { cost_centre: Pattern::exact("KP-1"), ..Default::default() },
        stream_id: old,
        budget_line_id: None,
        contract: ContractChoice::None,
    };
    taalbudget::store::attribution::add_rule(&app.db, &rule, "test").await.unwrap();
    import_ledger(&app, &[ledger_line("2023-03-01", "KP-1", "9999", "Les maart", 123_456)]).await;
    taalbudget::store::funding::close_year(&app.db, 2023, "test").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = rules_file(
        dir.path(),
        &[
            &["1", "Voorrang NIEUW", "KP-*", "", "", "", "", "", "", "", "NIEUW", "", "", ""],
            &["", "Alles OUD", "KP-2", "", "", "", "", "", "", "", "OUD", "", "", ""],
        ],
    );
    let import = |extra: &'static [&'static str]| {
        let mut args = vec!["import", "rules", file.as_str(), "--template", "standaard-regels", "--json"];
        args.extend(extra);
        cli(&app.db_path, &args)
    };

    // The preview says so already: the new rule at place 1 would take the closed year's line from OUD.
    for (code, json, out) in [import(&["--dry-run"]), import(&[])] {
        assert_eq!(code, 1, "{out}");
        assert_eq!(json["batch"], serde_json::Value::Null);
        assert_eq!((json["rows_read"].as_u64(), json["rows_rejected"].as_u64()), (Some(2), Some(1)));
        let e = &json["errors"][0];
        assert_eq!(
            (e["row"].as_u64(), e["column"].as_str(), e["value"].as_str()),
            (Some(2), Some("B"), Some("Voorrang NIEUW"))
        );
        let message = e["message"].as_str().unwrap();
        assert!(message.starts_with("Naam: Deze wijziging zou"), "{message}");
        assert!(message.contains("in afgesloten jaar 2023 naar een andere financieringsbron verplaatsen"), "{message}");
        // A known name is the same rule: nothing of it changes, and the summary says what the file has otherwise.
        assert_eq!(json["duplicates"][0]["row"], 3);
        assert_eq!(
            json["duplicates"][0]["note"],
            "De toerekenregel Alles OUD bestaat al; afwijkend in het bestand: kenmerken. Niet bijgewerkt: pas de regel \
             aan op het scherm Toerekening als het bestand gelijk heeft"
        );
    }
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT name, cost_centre FROM attribution_rule").fetch_all(&app.db).await.unwrap();
    assert_eq!(stored, [("Alles OUD".to_string(), "KP-1".to_string())]);
}
