//! Inflow (issue 25): the `instroom` import kind through the one engine (row errors located, idempotent, a changed
//! count refused, undone whole and audited) and the /instroom screen with the same check and lost-update
//! protection.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;

use crate::helpers::{spawn_app, TestApp};

/// A workbook of text cells (Periode, Groep, Aantal) on sheet "Instroom", header in row 1.
pub fn inflow_book(rows: &[[&str; 3]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Instroom").unwrap();
    for (c, h) in ["Periode", "Groep", "Aantal"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

pub fn cli(db: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_taalbudget")).arg("--db").arg(db).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json, stdout + &String::from_utf8_lossy(&out.stderr))
}

/// Imports the rows with `import instroom`; returns the exit code and the JSON summary.
pub fn import_inflow(app: &TestApp, rows: &[[&str; 3]], extra: &[&str]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("instroom.xlsx");
    std::fs::write(&path, inflow_book(rows)).unwrap();
    let mut args = vec!["import", "instroom", path.to_str().unwrap(), "--template", "standaard-instroom", "--json"];
    args.extend_from_slice(extra);
    let (code, json, out) = cli(&app.db_path, &args);
    assert!(json.is_object(), "{out}");
    (code, json)
}

async fn stored(app: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as("SELECT period, grp, count FROM inflow_count ORDER BY period, grp").fetch_all(&app.db).await.unwrap()
}

#[tokio::test]
async fn an_inflow_file_imports_once_names_bad_cells_and_refuses_a_changed_count() {
    let app = spawn_app().await;
    let rows = [
        ["2022-04", "gezin", "92"],
        ["2022-04", "asiel azc", "69"],
        ["2022-04", "asiel gehuisvest", "13"],
        ["2022-K2", "wi2013", "880"],
        // Row 6: a quarter for a monthly group; row 7: a month for the Ondertussengroep; row 8: an unknown group;
        // row 9: the same period and group as row 2.
        ["2022-K2", "gezin", "5"],
        ["2022-05", "elip", "120"],
        ["2022-05", "vluchteling", "3"],
        ["2022-04", "gezin", "93"],
    ];
    let (code, json) = import_inflow(&app, &rows, &[]);
    assert_eq!(code, 1);
    assert_eq!(json["batch"], serde_json::Value::Null);
    assert_eq!((json["rows_read"].as_u64(), json["rows_rejected"].as_u64()), (Some(8), Some(4)));
    let errors: Vec<(u64, String, String)> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["sheet"], "Instroom");
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (6, "A".to_string(), "2022-K2".to_string()),
            (7, "A".to_string(), "2022-05".to_string()),
            (8, "B".to_string(), "vluchteling".to_string()),
            (9, "A".to_string(), "2022-04".to_string()),
        ]
    );
    assert!(stored(&app).await.is_empty(), "nothing is written while a row is wrong");

    let (code, json) = import_inflow(&app, &rows[..4], &[]);
    assert_eq!(code, 0, "{json}");
    let batch = json["batch"].as_i64().unwrap();
    assert_eq!(json["rows_imported"], 4);
    assert_eq!(
        stored(&app).await,
        vec![
            ("2022-04".into(), "asylum_azc".into(), 69),
            ("2022-04".into(), "asylum_housed".into(), 13),
            ("2022-04".into(), "family".into(), 92),
            ("2022-K2".into(), "wi2013".into(), 880),
        ]
    );
    assert_eq!(app.audit_count("inflow_count").await, 4);

    // The same file again adds nothing; an overlapping one adds only its new row; a changed count is refused.
    let (code, json) = import_inflow(&app, &rows[..4], &[]);
    assert_eq!((code, json["rows_duplicate"].as_u64(), json["batch"].clone()), (0, Some(4), serde_json::Value::Null));
    let (code, json) = import_inflow(
        &app,
        &[["2022-04", "gezin", "92"], ["2022-05", "overig", "7"], ["2022-K2", "wi2013", "870"]],
        &["--skip-invalid"],
    );
    assert_eq!(code, 1);
    assert_eq!((json["rows_imported"].as_u64(), json["rows_duplicate"].as_u64()), (Some(1), Some(1)));
    assert_eq!(json["errors"][0]["row"], 4);
    assert_eq!(json["errors"][0]["column"], "C");
    let message = json["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("voor wi2013 in 2022-K2 is al 880 vastgelegd"), "{message}");

    // Undo removes exactly the first batch's four counts, each audited as a deletion.
    let (code, _, out) = cli(&app.db_path, &["import", "undo", &batch.to_string()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(stored(&app).await, vec![("2022-05".into(), "other".into(), 7)]);
    let deleted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'inflow_count' AND action = 'delete'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(deleted, 4);
}

#[tokio::test]
async fn the_inflow_screen_records_a_count_refuses_a_silent_overwrite_and_keeps_imported_batches_undoable_only_unchanged(
) {
    let app = spawn_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let r = app.post_form("/instroom", &[("period", "2023-02"), ("category", "gezin"), ("count", "41")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The same check as the import: a quarter for a monthly group.
    let r = app.post_form("/instroom", &[("period", "2023-K1"), ("category", "gezin"), ("count", "41")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Gezinsmigranten wordt per maand geteld"));
    // A second entry for the same month and group without the version shows what is stored and asks again.
    let r = app.post_form("/instroom", &[("period", "2023-02"), ("category", "gezin"), ("count", "45")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("is al 41 vastgelegd. Sla opnieuw op om het te vervangen door 45"), "{body}");
    assert!(body.contains(r#"name="version" value="1""#));
    let r = app
        .post_form("/instroom", &[("period", "2023-02"), ("category", "gezin"), ("count", "45"), ("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).await, vec![("2023-02".into(), "family".into(), 45)]);
    // A stale version is refused.
    let r = app
        .post_form("/instroom", &[("period", "2023-02"), ("category", "gezin"), ("count", "50"), ("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (status, page) = app.get_html("/instroom?jaar=2023").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Instroom 2023"));
    assert_eq!(app.audit_count("inflow_count").await, 2);

    // An imported count changed on the screen keeps its batch from being undone.
    let (code, json) = import_inflow(&app, &[["2023-03", "asiel azc", "20"]], &[]);
    assert_eq!(code, 0, "{json}");
    let batch = json["batch"].as_i64().unwrap();
    let r = app
        .post_form("/instroom", &[("period", "2023-03"), ("category", "asiel azc"), ("count", "21"), ("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (code, _, out) = cli(&app.db_path, &["import", "undo", &batch.to_string()]);
    assert_ne!(code, 0);
    assert!(out.contains("na de import op het scherm gewijzigd"), "{out}");

    // The contract manager may look but not record.
    let cm = app.other_browser();
    cm.login_as(Role::ContractManager).await;
    assert_eq!(cm.get("/instroom").await.status(), StatusCode::OK);
    let r = cm.post_form("/instroom", &[("period", "2023-04"), ("category", "gezin"), ("count", "1")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
