//! The import screens: upload, progress, preview with errors and rejected rows, confirm, batch page, undo.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::import::ledger::LedgerLine;
use taalbudget::import::{example, template};
use taalbudget::money::Money;

use crate::helpers::{location, spawn_app, TestApp};

fn line(i: usize, cents: i64) -> LedgerLine {
    LedgerLine {
        booking_date: time::Date::from_calendar_date(2023, time::Month::March, (i % 28) as u8 + 1).unwrap(),
        fiscal_year: Some(2023),
        period: Some(3),
        document: format!("BS{i}"),
        line: "1".into(),
        gl_account: "4301".into(),
        cost_centre: "KP6100".into(),
        task_field: "6.1".into(),
        creditor_number: "100001".into(),
        creditor_name: "Taalschool Utrecht".into(),
        invoice_number: format!("F{i}"),
        description: format!("Cursus {i}"),
        amount: Money::from_cents(cents),
    }
}

fn workbook(lines: &[LedgerLine]) -> Vec<u8> {
    example::workbook(&template::find("standaard-grootboek").unwrap(), lines).unwrap()
}

pub(crate) async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>, template: &str) -> reqwest::Response {
    let form = app
        .multipart_form()
        .await
        .text("sjabloon", template.to_string())
        .part("bestand", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    app.client.post(app.url("/import")).multipart(form).send().await.unwrap()
}

/// Follows a job page until it stops refreshing; returns the final response's status, location and body.
pub(crate) async fn settle(app: &TestApp, job: &str) -> (StatusCode, String, String) {
    for _ in 0..200 {
        let r = app.get(job).await;
        if r.headers().get("refresh").is_none() {
            // The batch page's address without its one-off success message (`?melding=geimporteerd`).
            let (status, loc) = (r.status(), location(&r).split('?').next().unwrap().to_string());
            return (status, loc, r.text().await.unwrap());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {job} never finished");
}

async fn totals(app: &TestApp) -> (i64, i64) {
    taalbudget::store::imports::ledger_totals(&app.db).await.unwrap()
}

#[tokio::test]
async fn upload_preview_confirm_batch_page_and_undo() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let lines: Vec<_> = (0..30).map(|i| line(i, 10_000 + i as i64 * 3 - 7_000)).collect();
    let expected: i64 = lines.iter().map(|l| l.amount.cents()).sum();

    let r = upload(&app, "januari.xlsx", workbook(&lines), "standaard-grootboek").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = location(&r);
    assert!(job.starts_with("/import/taken/"), "{job}");
    let (status, _, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Voorbeeld van de import"));
    assert!(body.contains(&Money::from_cents(expected).to_string()), "total of the new rows is shown");
    assert!(body.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">30</td>"), "{body}");
    assert_eq!(totals(&app).await, (0, 0), "the preview writes nothing");

    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, batch, _) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(batch.starts_with("/import/batches/"), "{batch}");
    assert_eq!(totals(&app).await, (30, expected));

    let (status, page) = app.get_html(&batch).await;
    assert_eq!(status, StatusCode::OK);
    for needle in
        ["januari.xlsx", "standaard-grootboek", "test-finance", "SHA-256", &Money::from_cents(expected).to_string()]
    {
        assert!(page.contains(needle), "batch page shows {needle}");
    }
    let (status, list) = app.get_html(&format!("{batch}/regels")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Cursus 29"), "{list}");

    // The undo button leads to a page that says what undoing removes; only its confirmation undoes.
    assert!(page.contains("<button class=\"danger\" type=\"submit\">Import ongedaan maken…</button>"), "{page}");
    let r = app.post_form(&format!("{batch}/ongedaan"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("<h1>Import van januari.xlsx ongedaan maken?</h1>"), "{confirm}");
    let what = format!(
        "Ongedaan maken verwijdert alle 30 geïmporteerde regels van deze batch (samen {}):",
        Money::from_cents(expected)
    );
    assert!(confirm.contains(&what), "{confirm}");
    assert!(
        confirm.contains("<button class=\"danger\" type=\"submit\">Ja, import ongedaan maken</button>"),
        "{confirm}"
    );
    assert_eq!(totals(&app).await, (30, expected), "nothing undone before the confirmation");
    let r = app.post_form(&format!("{batch}/ongedaan"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(totals(&app).await, (0, 0));
    assert_eq!(app.audit_count("import_batch").await, 2, "import and undo are audited");
    let (_, page) = app.get_html(&batch).await;
    assert!(page.contains("ongedaan gemaakt door test-finance"));

    // Times are shown in Amsterdam time, `dd-mm-jjjj uu:mm`: winter is UTC+1, summer UTC+2.
    sqlx::query(
        "UPDATE import_batch SET imported_at = '2026-12-06T19:36:56.039352888Z', undone_at = '2026-07-01T10:05:00Z'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let (_, page) = app.get_html(&batch).await;
    assert!(page.contains("<th scope=\"row\">Tijdstip</th><td>06-12-2026 20:36</td>"), "{page}");
    assert!(page.contains("ongedaan gemaakt door test-finance op 01-07-2026 12:05;"), "{page}");
    let (_, list) = app.get_html("/import").await;
    assert!(list.contains("<td>06-12-2026 20:36</td>"), "{list}");
    assert!(list.contains(">De laatste importbatch</caption>"), "one batch, singular: {list}");
    for body in [&page, &list] {
        assert!(!body.contains("T19:36") && !body.contains("Z</td>"), "no raw timestamps");
    }
}

#[tokio::test]
async fn a_file_with_errors_imports_nothing_unless_the_user_chooses_the_valid_rows() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let headers = ["Boekdatum", "Grootboekrekening", "Kostenplaats", "Omschrijving", "Bedrag"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (d, a)) in [("01-03-2023", "100,00"), ("31-02-2023", "5,00"), ("02-03-2023", "1.234")].iter().enumerate() {
        for (c, v) in [*d, "4301", "KP1", "Cursus", *a].iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    let r = upload(&app, "fout.xlsx", wb.save_to_buffer().unwrap(), "standaard-grootboek").await;
    let job = location(&r);
    let (_, _, body) = settle(&app, &job).await;
    assert!(body.contains("Het bestand bevat 2 fouten"), "{body}");
    assert!(body.contains("31-02-2023 bestaat niet in de kalender"));
    // The summary lists the errors with a link to each row in the error table.
    assert!(body.contains("<li><a href=\"#fout-0\">Rij 3, kolom "), "{body}");
    assert!(body.contains("<tr id=\"fout-0\">"), "{body}");
    assert!(body.contains("dubbelzinnig bedrag"));
    assert!(body.contains("afgewezen.xlsx"));

    let x = app.get(&format!("{job}/afgewezen.xlsx")).await;
    assert_eq!(x.status(), StatusCode::OK);
    let bytes = x.bytes().await.unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range("Afgewezen regels").unwrap();
    assert_eq!(range.get_size(), (3, 7), "header + 2 rejected rows; columns + Fout + row number");
    assert_eq!(range.get_value((0, 5)).unwrap().to_string(), "Fout");
    assert!(range.get_value((1, 5)).unwrap().to_string().contains("bestaat niet"));

    // Confirming without choosing "valid rows only" is refused; nothing is written.
    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Vink aan dat u alleen de goede regels wilt importeren"), "{page}");
    assert!(page.contains("aria-describedby=\"alleen_goede-fout\""), "{page}");
    assert!(!page.contains(" required"), "no browser validation in English: {page}");
    assert_eq!(totals(&app).await, (0, 0));
    let r = app.post_form(&format!("{job}/bevestigen"), &[("alleen_goede", "on")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, batch, _) = settle(&app, &job).await;
    assert!(batch.starts_with("/import/batches/"));
    assert_eq!(totals(&app).await, (1, 10_000));
    // The import ends on a success message with the counts and the next steps.
    let r = app.get(&job).await;
    assert_eq!(location(&r), format!("{batch}?melding=geimporteerd"));
    let (_, page) = app.get_html(&format!("{batch}?melding=geimporteerd")).await;
    assert!(
        page.contains(
            "<h2>Import geslaagd</h2><p>1 regel geïmporteerd (samen € 100,00), 0 dubbel overgeslagen, 2 afgewezen.</p>"
        ),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/toerekening/wachtrij\">Wijs de 1 niet-toegerekende regel toe</a> (samen € 100,00)"),
        "{page}"
    );
    let (_, later) = app.get_html(&batch).await;
    assert!(!later.contains("Import geslaagd"), "the message is shown once, after the import");
}

#[tokio::test]
async fn an_unreadable_upload_says_why_and_other_users_cannot_see_the_job() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let r = upload(&app, "data.xlsx", b"Boekdatum;Bedrag\n01-01-2023;1,00\n".to_vec(), "standaard-grootboek").await;
    let job = location(&r);
    let (status, _, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("kies een CSV-sjabloon"), "{body}");

    let other = app.other_browser();
    other.login_as(Role::Admin).await;
    assert_eq!(other.get(&job).await.status(), StatusCode::NOT_FOUND);

    let empty = upload(&app, "leeg.xlsx", Vec::new(), "standaard-grootboek").await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().await.unwrap().contains("Het bestand is leeg"));
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused() {
    let app = crate::helpers::spawn_app_with(|c| c.upload_limit = 64 * 1024).await;
    app.login_as(Role::Finance).await;
    let r = upload(&app, "groot.csv", vec![b'a'; 200 * 1024], "grootboek-csv-1252").await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(totals(&app).await, (0, 0));
}

/// A ledger description that names a participant's BSN (`BSN:`, `burgerservicenummer`, `sofinummer`) has the
/// number masked before it is stored, and the preview says so on the row; invoice and document numbers, and
/// numbers without such a label, are kept as they are.
#[tokio::test]
async fn a_labelled_bsn_in_a_ledger_description_is_masked_and_the_preview_says_so() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let mut lines = vec![line(1, 10_000), line(2, 20_000), line(3, 30_000)];
    lines[0].description = "Cursus B1 BSN: 123456782 maart".into();
    lines[0].invoice_number = "123456782".into();
    lines[0].document = "111222333".into();
    lines[1].description = "Intake sofinummer 1234.56.782".into();
    lines[2].description = "Cursus Z, factuur 111222333".into();
    let r = upload(&app, "grootboek.xlsx", workbook(&lines), "standaard-grootboek").await;
    let job = location(&r);
    let (_, _, body) = settle(&app, &job).await;
    assert!(body.contains("<th scope=\"col\">Opmerking</th>"), "{body}");
    assert!(
        body.contains(
            "<td>Cursus B1 [BSN verwijderd] maart</td><td>€ 100,00</td><td>BSN in de omschrijving verwijderd</td>"
        ),
        "{body}"
    );
    assert!(
        body.contains("<td>Intake [BSN verwijderd]</td><td>€ 200,00</td><td>BSN in de omschrijving verwijderd</td>"),
        "{body}"
    );
    assert!(body.contains("<td>Cursus Z, factuur 111222333</td><td>€ 300,00</td><td></td>"), "{body}");
    assert!(!body.contains("123456782") && !body.contains("1234.56.782"), "the BSN is not in the preview");

    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, batch, _) = settle(&app, &job).await;
    assert!(batch.starts_with("/import/batches/"), "{batch}");
    let stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT description, invoice_number, document FROM ledger_entry ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        stored,
        [
            ("Cursus B1 [BSN verwijderd] maart".to_string(), "123456782".to_string(), "111222333".to_string()),
            ("Intake [BSN verwijderd]".into(), "F2".into(), "BS2".into()),
            ("Cursus Z, factuur 111222333".into(), "F3".into(), "BS3".into()),
        ]
    );
    // The same file again adds nothing: the masked line is its own duplicate.
    let r = upload(&app, "grootboek.xlsx", workbook(&lines), "standaard-grootboek").await;
    let (_, _, body) = settle(&app, &location(&r)).await;
    assert!(body.contains("Er is niets nieuws om te importeren."), "{body}");
}

/// The files in the server's upload directory.
fn uploads(app: &TestApp) -> Vec<String> {
    std::fs::read_dir(app.state.imports.upload_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn an_uploaded_file_is_deleted_as_soon_as_its_job_ends_committed_failed_cancelled_or_expired() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let lines: Vec<_> = (0..5).map(|i| line(i, 1_000 + i as i64)).collect();

    // Committed: the preview keeps the file and the staging database with the checked lines; the commit
    // deletes both.
    let job = location(&upload(&app, "a.xlsx", workbook(&lines), "standaard-grootboek").await);
    let (status, _, _) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK);
    let mut kept = uploads(&app);
    kept.sort_by_key(|name| name.ends_with(".staging.part"));
    assert_eq!(kept.len(), 2, "the preview waits for a decision on the file: {kept:?}");
    assert!(kept[0].starts_with("upload-") && !kept[0].ends_with(".staging.part"), "{kept:?}");
    assert!(kept[1].starts_with("upload-") && kept[1].ends_with(".staging.part"), "{kept:?}");
    app.post_form(&format!("{job}/bevestigen"), &[]).await;
    let (_, batch, _) = settle(&app, &job).await;
    assert!(batch.starts_with("/import/batches/"), "{batch}");
    assert_eq!(uploads(&app), Vec::<String>::new(), "deleted after the commit");
    let r = app.post_form(&format!("{batch}/ongedaan"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(uploads(&app), Vec::<String>::new(), "and after the undo");

    // Failed: a file that cannot be read ends its job at once, staging database and all.
    let job = location(&upload(&app, "b.xlsx", b"geen werkmap".to_vec(), "standaard-grootboek").await);
    assert_eq!(settle(&app, &job).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(uploads(&app), Vec::<String>::new(), "deleted after a failed check");

    // Cancelled from the preview ("Annuleren en een ander bestand kiezen").
    let job = location(&upload(&app, "c.xlsx", workbook(&lines), "standaard-grootboek").await);
    settle(&app, &job).await;
    assert_eq!(uploads(&app).len(), 2, "the file and its staging database");
    let r = app.post_form(&format!("{job}/annuleren"), &[]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/import".to_string()));
    assert_eq!(uploads(&app), Vec::<String>::new(), "deleted when the user cancels");
    assert_eq!(app.get(&job).await.status(), StatusCode::NOT_FOUND);

    // Expired: a preview nobody confirms goes with its file (the server checks every minute for an hour's age).
    let job = location(&upload(&app, "d.xlsx", workbook(&lines), "standaard-grootboek").await);
    settle(&app, &job).await;
    assert_eq!(app.state.imports.expire(std::time::Duration::from_secs(3600)), 0, "not an hour old yet");
    assert_eq!(uploads(&app).len(), 2);
    // The committed, the failed and this preview's job (the cancelled one is gone already).
    assert_eq!(app.state.imports.expire(std::time::Duration::ZERO), 3);
    assert_eq!(uploads(&app), Vec::<String>::new(), "deleted when the job expires");
    assert_eq!(app.get(&job).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(totals(&app).await, (0, 0), "only the undone batch was ever written");
}

/// The upload file of the job whose preview is showing (not its staging database).
fn the_upload_file(app: &TestApp) -> std::path::PathBuf {
    let names: Vec<String> = uploads(app).into_iter().filter(|n| !n.ends_with(".staging.part")).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    app.state.imports.upload_dir().join(&names[0])
}

/// The ledger's stored lines: (source row, document, amount in cents, batch), in id order.
async fn stored_lines(app: &TestApp) -> Vec<(i64, String, i64, i64)> {
    sqlx::query_as("SELECT source_row, document, amount_cents, batch_id FROM ledger_entry ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// The confirmation writes what the preview checked, from the staging database the preview kept: the upload is
/// not read again (here it is damaged after the preview, and the import still stores every line exactly).
#[tokio::test]
async fn confirming_a_ledger_preview_writes_exactly_its_new_lines_without_reading_the_file_again() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let lines: Vec<_> = (0..40).map(|i| line(i, 2_500 + i as i64 * 101)).collect();
    // 2,500 + 2,601 + ... + 6,439 cents: 40 * 2,500 + 101 * (0 + 1 + ... + 39) = 100,000 + 78,780.
    let expected = 178_780;
    let job = location(&upload(&app, "april.xlsx", workbook(&lines), "standaard-grootboek").await);
    let (status, _, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">40</td>"), "{body}");
    assert!(body.contains("Importeren: 40 regels, € 1.787,80"), "{body}");
    std::fs::write(the_upload_file(&app), b"geen werkmap meer").unwrap();

    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, batch, _) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(batch.starts_with("/import/batches/"), "{batch}");
    let id: i64 = batch.trim_start_matches("/import/batches/").parse().unwrap();
    // Spreadsheet rows 2..41 (row 1 is the header), in file order, each once.
    let want: Vec<(i64, String, i64, i64)> =
        lines.iter().enumerate().map(|(i, l)| (i as i64 + 2, l.document.clone(), l.amount.cents(), id)).collect();
    assert_eq!(stored_lines(&app).await, want);
    assert_eq!(totals(&app).await, (40, expected));
    let (_, page) = app.get_html(&format!("{batch}?melding=geimporteerd")).await;
    assert!(page.contains("40 regels geïmporteerd (samen € 1.787,80), 0 dubbel overgeslagen, 0 afgewezen."), "{page}");
    assert_eq!(uploads(&app), Vec::<String>::new(), "the upload and the staging database are gone");
}

/// A colleague's import of `lines` through the engine, as the command line does it; returns its batch.
async fn import_elsewhere(app: &TestApp, path: &std::path::Path, lines: &[LedgerLine]) -> i64 {
    use taalbudget::import::engine::{self, ImportOptions, ImportRequest};
    std::fs::write(path, workbook(lines)).unwrap();
    let req = ImportRequest {
        path: path.to_path_buf(),
        file_name: "collega.xlsx".into(),
        template: template::find("standaard-grootboek").unwrap(),
        actor: "cli:collega".into(),
    };
    let out = engine::run(&app.db, taalbudget::import::ledger::Ledger::new(), req, ImportOptions::default()).await;
    out.unwrap().summary.batch.unwrap()
}

/// Lines that someone else imported between the preview and the confirmation are duplicates of that import,
/// never stored twice; a file imported entirely meanwhile writes nothing.
#[tokio::test]
async fn lines_imported_by_someone_else_between_preview_and_confirmation_are_duplicates_not_double_lines() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let lines: Vec<_> = (0..30).map(|i| line(i, 1_000 + i as i64)).collect();
    let dir = tempfile::tempdir().unwrap();

    // A preview of lines 0..30; a colleague then imports lines 20..30 from another file.
    let job = location(&upload(&app, "maart.xlsx", workbook(&lines), "standaard-grootboek").await);
    let (_, _, body) = settle(&app, &job).await;
    assert!(body.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">30</td>"), "{body}");
    let other = import_elsewhere(&app, &dir.path().join("collega.xlsx"), &lines[20..30]).await;
    app.post_form(&format!("{job}/bevestigen"), &[]).await;
    let (_, batch, _) = settle(&app, &job).await;
    let id: i64 = batch.trim_start_matches("/import/batches/").parse().unwrap();
    let b = taalbudget::store::imports::get_batch(&app.db, id).await.unwrap().unwrap();
    // Lines 0..20: 20 * 1,000 + (0 + 1 + ... + 19) = 20,190 cents.
    assert_eq!((b.rows_read, b.rows_imported, b.rows_duplicate, b.amount_total_cents), (30, 20, 10, 20_190));
    let stored = stored_lines(&app).await;
    assert_eq!(stored.len(), 30, "each line once");
    assert_eq!(stored.iter().filter(|l| l.3 == other).count(), 10);
    assert_eq!(stored.iter().filter(|l| l.3 == id).map(|l| l.0).collect::<Vec<_>>(), (2..22).collect::<Vec<i64>>());
    // 30 * 1,000 + (0 + ... + 29) = 30,435 cents.
    assert_eq!(totals(&app).await, (30, 30_435));

    // A preview of new lines 30..40, which a colleague imports in full before the confirmation.
    let more: Vec<_> = (30..40).map(|i| line(i, 1_000 + i as i64)).collect();
    let job = location(&upload(&app, "april.xlsx", workbook(&more), "standaard-grootboek").await);
    let (_, _, body) = settle(&app, &job).await;
    assert!(body.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">10</td>"), "{body}");
    import_elsewhere(&app, &dir.path().join("april.xlsx"), &more).await;
    app.post_form(&format!("{job}/bevestigen"), &[]).await;
    let (status, _, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Alle regels van dit bestand staan al in taalbudget; er was niets nieuws."), "{body}");
    assert!(body.contains("<th scope=\"row\">Al eerder geïmporteerd (dubbel)</th><td class=\"num\">10</td>"), "{body}");
    assert_eq!(totals(&app).await.0, 40, "no line twice");
    assert_eq!(uploads(&app), Vec::<String>::new(), "the refused commit ends the job and deletes its files");
}

/// Lines the preview found stored are imported after all when their batch is undone before the confirmation.
#[tokio::test]
async fn lines_whose_batch_is_undone_between_preview_and_confirmation_are_imported_after_all() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let lines: Vec<_> = (0..20).map(|i| line(i, 500 + i as i64)).collect();
    let dir = tempfile::tempdir().unwrap();
    let earlier = import_elsewhere(&app, &dir.path().join("eerder.xlsx"), &lines[..8]).await;
    let job = location(&upload(&app, "mei.xlsx", workbook(&lines), "standaard-grootboek").await);
    let (_, _, body) = settle(&app, &job).await;
    assert!(body.contains("<th scope=\"row\">Nieuw</th><td class=\"num\">12</td>"), "{body}");
    assert!(body.contains("<th scope=\"row\">Al eerder geïmporteerd (dubbel)</th><td class=\"num\">8</td>"), "{body}");
    assert_eq!(taalbudget::store::imports::undo_batch(&app.db, earlier, "cli:collega").await.unwrap(), 8);
    app.post_form(&format!("{job}/bevestigen"), &[]).await;
    let (_, batch, _) = settle(&app, &job).await;
    let id: i64 = batch.trim_start_matches("/import/batches/").parse().unwrap();
    let b = taalbudget::store::imports::get_batch(&app.db, id).await.unwrap().unwrap();
    // 20 * 500 + (0 + 1 + ... + 19) = 10,190 cents.
    assert_eq!((b.rows_imported, b.rows_duplicate, b.amount_total_cents), (20, 0, 10_190));
    assert_eq!(totals(&app).await, (20, 10_190));
}

#[tokio::test]
async fn beyond_the_import_limits_a_file_waits_its_turn_and_its_page_says_how_many_files_are_before_it() {
    let app = crate::helpers::spawn_app_with(|c| {
        c.imports_at_once = 1;
        c.imports_per_user = 1;
    })
    .await;
    app.login_as(Role::Finance).await;
    // Someone else's import holds the only place.
    let busy = app.state.imports.queue().enqueue(-1);
    busy.ready().await;
    let first = location(&upload(&app, "eerste.xlsx", workbook(&[line(1, 100)]), "standaard-grootboek").await);
    let second = location(&upload(&app, "tweede.xlsx", workbook(&[line(2, 200)]), "standaard-grootboek").await);
    for (job, waiting) in [(&first, "1 bestand voor u"), (&second, "2 bestanden voor u")] {
        let r = app.get(job).await;
        assert_eq!(r.status(), StatusCode::OK, "waiting is no error");
        assert!(r.headers().get("refresh").is_some(), "the page keeps refreshing");
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("Wacht op een vrije plek: {waiting}.")), "{body}");
        assert!(!body.contains("regels verwerkt"), "{body}");
    }
    drop(busy);
    // In order, one at a time: both checks finish and show their preview.
    for job in [&first, &second] {
        let (status, _, body) = settle(&app, job).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Voorbeeld van de import"), "{body}");
    }
}

/// The import page offers every template of its area as a filled example to download, and that example
/// imports as it is; a name that is no template of the area (or a path) is not found.
#[tokio::test]
async fn every_template_can_be_downloaded_from_the_import_page_as_an_example_that_imports() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    for (area, kinds) in [("/import", 2), ("/registers/import", 7)] {
        let (_, page) = app.get_html(area).await;
        let links: Vec<String> = page
            .split(&format!("<a href=\"{area}/sjablonen/"))
            .skip(1)
            .map(|s| format!("{area}/sjablonen/{}", s.split('"').next().unwrap()))
            .collect();
        assert!(links.len() >= kinds, "{area}: {links:?}");
        for link in &links {
            let r = app.get(link).await;
            assert_eq!(r.status(), StatusCode::OK, "{link}");
            let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
            assert!(disposition.contains("-voorbeeld."), "{disposition}");
            assert!(!r.bytes().await.unwrap().is_empty());
        }
    }
    // The ledger example goes through the real upload and preview without errors.
    let bytes = app.get("/import/sjablonen/standaard-grootboek").await.bytes().await.unwrap().to_vec();
    let job = location(&upload(&app, "voorbeeld.xlsx", bytes, "standaard-grootboek").await);
    let (status, _, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("<th scope=\"row\">Afgewezen</th><td class=\"num\">0</td>"), "{body}");
    for bad in ["bestaat-niet", "standaard-aanbieders", "..%2F..%2Fetc%2Fpasswd", "x.toml"] {
        assert_eq!(app.get(&format!("/import/sjablonen/{bad}")).await.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

/// The preview says where each new line will be charged by the current rules (stream and contract, or the queue),
/// with a total per stream and for the queue that add up to the new lines' total; the CLI's dry run says the same,
/// and confirming stores exactly those attributions.
#[tokio::test]
// Amounts are written as euros_cents (1_234_56 is € 1.234,56) on purpose.
#[allow(clippy::inconsistent_digit_grouping)]
async fn the_preview_shows_where_each_new_line_is_charged_and_confirming_stores_exactly_that() {
    use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
    use taalbudget::domain::contract::ContractDraft;
    use taalbudget::domain::funding::{FundingStream, StreamKind};
    use taalbudget::domain::route::Route;
    use taalbudget::store;

    use crate::helpers::{certified_provider, import_ledger, ledger_line};

    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let day = |s| taalbudget::domain::dates::parse_iso(s).unwrap();
    let provider = certified_provider(&app, "Taalschool Oost", "23456789").await;
    let draft = ContractDraft {
        reference: "K-2023".into(),
        title: "Taalonderwijs 2023".into(),
        provider_id: provider,
        lot: String::new(),
        routes: vec![Route::B1],
        start_date: day("2023-01-01"),
        initial_end_date: day("2023-06-30"),
        ceiling: Money::from_cents(100_000_00),
        notes: String::new(),
    };
    store::contracts::create(&app.db, &draft, "test").await.unwrap();
    store::attribution::link_creditor(&app.db, "2001", provider, "test").await.unwrap();
    let mut streams = Vec::new();
    for code in ["SPUK", "ELIP"] {
        let s = FundingStream {
            id: 0,
            code: code.into(),
            name: format!("Bron {code}"),
            kind: StreamKind::Other,
            cohorts: vec![],
            spend_from: day("2022-01-01"),
            spend_until: Some(day("2024-12-31")),
            carry_over: false,
            notes: String::new(),
        };
        streams.push(store::funding::create_stream(&app.db, &s, "test").await.unwrap());
    }
    let (spuk, elip) = (streams[0], streams[1]);
    for (name, criteria, stream_id, contract) in [
        ("ELIP", Criteria { description_contains: "elip".into(), ..Default::default() }, elip, ContractChoice::None),
        (
            "Inburgering",
            Criteria { cost_centre: Pattern::exact("KP-INB"), ..Default::default() },
            spuk,
            ContractChoice::ViaCreditor,
        ),
    ] {
        let rule =
            store::attribution::NewRule { name: name.into(), criteria, stream_id, budget_line_id: None, contract };
        store::attribution::add_rule(&app.db, &rule, "test").await.unwrap();
    }
    let lines = vec![
        // Creditor 2001's provider has contract K-2023 from January to June.
        ledger_line("2023-01-15", "KP-INB", "2001", "B1-route januari", 1_234_56),
        ledger_line("2023-02-15", "KP-INB", "2001", "ELIP maatwerk februari", 500_00),
        ledger_line("2023-03-15", "KP-INB", "2002", "B1-route maart", 99_99),
        ledger_line("2023-04-01", "KP-OVERIG", "3003", "Catering", 45_10),
        ledger_line("2023-05-01", "KP-INB", "2001", "Creditnota B1", -100_00),
        ledger_line("2023-07-15", "KP-INB", "2001", "B1-route juli", 300_00),
        ledger_line("2023-08-01", "KP-OVERIG", "3003", "Koffie", 12_34),
    ];
    // The catering line is in taalbudget already: it is no new line and the preview does not count it.
    assert_eq!(import_ledger(&app, &lines[3..4]).await.summary.rows_imported, 1);

    app.login_as(Role::Finance).await;
    let bytes = workbook(&lines);
    let r = upload(&app, "toerekening.xlsx", bytes.clone(), "standaard-grootboek").await;
    let job = location(&r);
    let (status, _, body) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // SPUK: 1.234,56 + 99,99 - 100,00 + 300,00 = 1.534,55 in 4 lines; ELIP: 500,00 in 1; the queue: the coffee,
    // 12,34. Together 2.046,89, the total of the 6 new lines.
    let (spuk_cents, elip_cents, queue_cents) = (1_534_55, 500_00, 12_34);
    let new_total = 1_234_56 + 500_00 + 99_99 - 100_00 + 300_00 + 12_34;
    assert_eq!(spuk_cents + elip_cents + queue_cents, new_total);
    let euros = |cents: i64| Money::from_cents(cents).to_string();
    for row in [
        format!("<tr><th scope=\"row\">ELIP</th><td>Bron ELIP</td><td class=\"num\">1</td><td class=\"num\">{}</td></tr>", euros(elip_cents)),
        format!("<tr><th scope=\"row\">SPUK</th><td>Bron SPUK</td><td class=\"num\">4</td><td class=\"num\">{}</td></tr>", euros(spuk_cents)),
        format!(
            "<tr><th scope=\"row\">Wachtrij</th><td>geen toerekenregel past; na de import toe te rekenen</td><td class=\"num\">1</td><td class=\"num\">{}</td></tr>",
            euros(queue_cents)
        ),
        format!(
            "<tfoot><tr><th scope=\"row\" colspan=\"2\">Totaal van de nieuwe regels</th><td class=\"num\">6</td><td class=\"num\">{}</td></tr></tfoot>",
            euros(new_total)
        ),
    ] {
        assert!(body.contains(&row), "{row} in {body}");
    }
    assert!(body.contains(">Toerekening van de nieuwe regels</caption>"), "{body}");
    assert!(body.contains("<th scope=\"col\">Financieringsbron</th><th scope=\"col\">Contract</th></tr></thead>"));
    // Per line: description, amount, note, stream, contract.
    let charged = [
        ("B1-route januari", 1_234_56, "SPUK", "K-2023"),
        ("ELIP maatwerk februari", 500_00, "ELIP", ""),
        ("B1-route maart", 99_99, "SPUK", ""),
        ("Creditnota B1", -100_00, "SPUK", "K-2023"),
        ("B1-route juli", 300_00, "SPUK", ""),
        ("Koffie", 12_34, "wachtrij", ""),
    ];
    for (description, cents, stream, contract) in charged {
        let cells = format!(
            "<td>{description}</td><td>{}</td><td></td><td>{stream}</td><td>{contract}</td></tr>",
            euros(cents)
        );
        assert!(body.contains(&cells), "{cells} in {body}");
    }
    assert!(!body.contains("<td>Catering</td>"), "the stored line is no new line");

    // The command line's dry run carries the same figures in its JSON summary.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("toerekening.xlsx");
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&app.db_path)
        .args(["import", "ledger"])
        .arg(&file)
        .args(["--template", "standaard-grootboek", "--dry-run", "--json"])
        .env("TAALBUDGET_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(summary["amount_total"], "2046.89");
    assert_eq!(
        summary["charges"],
        serde_json::json!({
            "streams": [
                {"stream": "ELIP", "name": "Bron ELIP", "rows": 1, "amount": "500.00"},
                {"stream": "SPUK", "name": "Bron SPUK", "rows": 4, "amount": "1534.55"},
            ],
            "queue_rows": 1,
            "queue_amount": "12.34",
        })
    );

    // Confirming stores exactly what the preview said, line by line.
    let r = app.post_form(&format!("{job}/bevestigen"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, batch, _) = settle(&app, &job).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(batch.starts_with("/import/batches/"), "{batch}");
    let stored: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT e.description, e.amount_cents, COALESCE(s.code, 'wachtrij'), COALESCE(c.reference, '')
         FROM ledger_entry e
         LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id
         LEFT JOIN funding_stream s ON s.id = a.stream_id
         LEFT JOIN contract c ON c.id = a.contract_id
         WHERE e.description <> 'Catering' ORDER BY e.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let said: Vec<(String, i64, String, String)> =
        charged.iter().map(|(d, c, s, k)| (d.to_string(), *c, s.to_string(), k.to_string())).collect();
    assert_eq!(stored, said);
    let sums = store::attribution::sums(&app.db).await.unwrap();
    assert_eq!(sums.actual_by_stream[&(spuk, 2023)].cents(), spuk_cents);
    assert_eq!(sums.actual_by_stream[&(elip, 2023)].cents(), elip_cents);
    assert_eq!(sums.unattributed[&2023].cents(), 45_10 + queue_cents, "the catering line was in the queue already");
}
