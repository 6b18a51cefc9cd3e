//! Ledger import through the command line: exactness, idempotency, overlap, identical lines, undo,
//! --skip-invalid, dry runs, every shipped template, the sample files, and a kill in the middle of a commit.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::*;
use rust_xlsxwriter::Format;

#[test]
fn standard_file_imports_every_row_and_every_cent() {
    let ctx = Ctx::new();
    let lines = lines(300);
    let file = ctx.path("grootboek.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines);
    let r = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_duplicate"), r.n("rows_rejected")), (300, 300, 0, 0));
    assert_eq!(r.total(), total_plain(&lines));
    assert_eq!(r.n("rows_skipped"), 1, "the Totaal row is skipped");
    assert!(r.json["batch"].as_i64().is_some());
    assert_eq!(r.json["kind"], "ledger");
    assert_eq!(r.json["template"], "standaard-grootboek");
    assert_eq!(r.json["file_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(r.json["errors"].as_array().unwrap().len(), 0);
    let (n, cents, batches, audit) = ctx.snapshot();
    assert_eq!((n, batches, audit), (300, 1, 1));
    assert_eq!(cents, lines.iter().map(|l| l.amount.cents()).sum::<i64>());
}

#[test]
fn reimporting_the_same_file_adds_nothing_and_exits_zero() {
    let ctx = Ctx::new();
    let file = ctx.path("a.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(50));
    let first = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!(first.code, 0);
    let batch = first.json["batch"].as_i64().unwrap();
    let again = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!(again.code, 0, "nothing new is not an error");
    assert_eq!((again.n("rows_read"), again.n("rows_imported"), again.n("rows_duplicate")), (50, 0, 50));
    assert_eq!(again.total(), "0.00");
    assert!(again.json["batch"].is_null());
    let dups = again.json["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 50);
    assert_eq!(dups[0]["row"], 2);
    assert_eq!(dups[0]["batch"], batch);
    assert_eq!(ctx.snapshot().0, 50);
}

#[test]
fn an_overlapping_file_adds_only_the_new_lines() {
    let ctx = Ctx::new();
    let all = lines(100);
    let (a, b) = (ctx.path("jan-jun.xlsx"), ctx.path("apr-dec.xlsx"));
    write_template_file(&a, "standaard-grootboek", &all[..60]);
    write_template_file(&b, "standaard-grootboek", &all[40..]);
    assert_eq!(ctx.import(&a, "standaard-grootboek", &[]).code, 0);
    let r = ctx.import(&b, "standaard-grootboek", &[]);
    assert_eq!(r.code, 0);
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_duplicate")), (60, 40, 20));
    assert_eq!(r.total(), total_plain(&all[60..]));
    let (n, cents, ..) = ctx.snapshot();
    assert_eq!(n, 100);
    assert_eq!(cents, all.iter().map(|l| l.amount.cents()).sum::<i64>());
}

#[test]
fn two_identical_lines_in_one_file_are_both_kept_and_a_reimport_still_adds_nothing() {
    let ctx = Ctx::new();
    let mut ls = lines(5);
    ls.push(ls[2].clone());
    ls.push(ls[2].clone());
    let file = ctx.path("twins.xlsx");
    write_template_file(&file, "standaard-grootboek", &ls);
    let r = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!((r.n("rows_imported"), r.n("rows_duplicate")), (7, 0));
    assert_eq!(r.total(), total_plain(&ls));
    let again = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!((again.n("rows_imported"), again.n("rows_duplicate")), (0, 7));
    // A later file with the line four times adds exactly the fourth.
    ls.push(ls[2].clone());
    write_template_file(&file, "standaard-grootboek", &ls);
    let more = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!((more.n("rows_imported"), more.n("rows_duplicate")), (1, 7));
    assert_eq!(more.total(), ls[2].amount.plain());
}

#[test]
fn undo_removes_the_batch_lines_is_audited_and_allows_a_new_import() {
    let ctx = Ctx::new();
    let file = ctx.path("a.xlsx");
    let ls = lines(20);
    write_template_file(&file, "standaard-grootboek", &ls);
    let first = ctx.import(&file, "standaard-grootboek", &[]);
    let batch = first.json["batch"].as_i64().unwrap();
    let u = ctx.undo(batch);
    assert_eq!(u.code, 0, "{}", u.stderr);
    assert_eq!(u.json["lines_removed"], 20);
    let (n, cents, batches, audit) = ctx.snapshot();
    assert_eq!((n, cents, batches, audit), (0, 0, 1, 2), "batch kept as undone; import and undo audited");
    let twice = ctx.undo(batch);
    assert_eq!(twice.code, 2);
    assert!(twice.messages()[0].contains("al ongedaan gemaakt"), "{:?}", twice.messages());
    assert_eq!(ctx.undo(999).code, 2);
    let again = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!((again.code, again.n("rows_imported")), (0, 20));
    assert_eq!(again.total(), total_plain(&ls));
}

/// A batch's lines are found by their id range (no index on batch_id): undoing a batch that sits between two others
/// removes exactly its own lines, and an import after an undo gets a range of its own.
#[test]
fn undoing_a_batch_between_others_removes_exactly_its_own_lines() {
    let ctx = Ctx::new();
    let all = lines(90);
    let files: Vec<_> = (0..3).map(|i| ctx.path(&format!("deel-{i}.xlsx"))).collect();
    for (i, f) in files.iter().enumerate() {
        write_template_file(f, "standaard-grootboek", &all[i * 30..(i + 1) * 30]);
    }
    let batches: Vec<i64> =
        files.iter().map(|f| ctx.import(f, "standaard-grootboek", &[]).json["batch"].as_i64().unwrap()).collect();
    let u = ctx.undo(batches[1]);
    assert_eq!((u.code, u.json["lines_removed"].as_i64()), (0, Some(30)), "{}", u.stderr);
    let kept: i64 = all[..30].iter().chain(&all[60..]).map(|l| l.amount.cents()).sum();
    let (n, cents, ..) = ctx.snapshot();
    assert_eq!((n, cents), (60, kept));
    // The middle part again: a new batch with the newest ids; undoing the last batch leaves the first and this one.
    let again = ctx.import(&files[1], "standaard-grootboek", &[]);
    assert_eq!(again.n("rows_imported"), 30);
    assert_eq!(ctx.undo(batches[2]).json["lines_removed"].as_i64(), Some(30));
    assert_eq!(ctx.snapshot().0, 60);
    assert_eq!(ctx.undo(again.json["batch"].as_i64().unwrap()).json["lines_removed"].as_i64(), Some(30));
    let (n, cents, ..) = ctx.snapshot();
    assert_eq!((n, cents), (30, all[..30].iter().map(|l| l.amount.cents()).sum::<i64>()));
}

/// Connections do not checkpoint automatically (store::connect); an import hands the copy of the write-ahead log
/// into the database file to a background task. With the pool still open, the lines reach the main file.
#[test]
fn an_import_moves_the_write_ahead_log_into_the_database_file_in_the_background() {
    use taalbudget::import::{self, ledger, template, ImportOptions, ImportRequest};
    let ctx = Ctx::new();
    let file = ctx.path("groot.xlsx");
    let ls = lines(3_000);
    write_template_file(&file, "standaard-grootboek", &ls);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let db = taalbudget::store::connect(&ctx.db).await.unwrap();
        let before = std::fs::metadata(&ctx.db).unwrap().len();
        let req = ImportRequest {
            path: file.clone(),
            file_name: "groot.xlsx".into(),
            template: template::find("standaard-grootboek").unwrap(),
            actor: "test".into(),
        };
        let out = import::run(&db, ledger::Ledger::new(), req, ImportOptions::default()).await.unwrap();
        assert_eq!(out.summary.rows_imported, 3_000);
        let mut grown = false;
        for _ in 0..100 {
            if std::fs::metadata(&ctx.db).unwrap().len() > before + 200_000 {
                grown = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(grown, "the database file stayed near {before} bytes: the log was not checkpointed");
        db.close().await;
    });
}

fn file_with_two_bad_rows(ctx: &Ctx) -> std::path::PathBuf {
    let file = ctx.path("mixed.xlsx");
    xlsx(&file, |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 100.25);
        text_row(ws, 2, "31-02-2022", "10,00");
        good_row(ws, 3, 3, -40.10);
        text_row(ws, 4, "01-03-2022", "1.234");
        good_row(ws, 5, 5, 0.01);
    });
    file
}

#[test]
fn a_file_with_errors_imports_nothing_by_default_and_names_every_error() {
    let ctx = Ctx::new();
    let file = file_with_two_bad_rows(&ctx);
    let r = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!(r.code, 1);
    assert!(r.json["batch"].is_null());
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_rejected")), (5, 3, 2));
    let e = r.json["errors"].as_array().unwrap();
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0]["sheet"].as_str(), e[0]["row"].as_u64(), e[0]["column"].as_str()),
        (Some("Grootboek"), Some(3), Some("A"))
    );
    assert_eq!(e[0]["value"], "31-02-2022");
    assert!(e[0]["message"].as_str().unwrap().contains("bestaat niet"), "{}", e[0]);
    assert_eq!(
        (e[1]["row"].as_u64(), e[1]["column"].as_str(), e[1]["value"].as_str()),
        (Some(5), Some("M"), Some("1.234"))
    );
    assert!(e[1]["message"].as_str().unwrap().starts_with("Bedrag: dubbelzinnig"), "{}", e[1]);
    assert_eq!(ctx.snapshot(), (0, 0, 0, 0));
}

#[test]
fn skip_invalid_imports_the_valid_rows_and_still_reports_the_rejects() {
    let ctx = Ctx::new();
    let file = file_with_two_bad_rows(&ctx);
    let r = ctx.import(&file, "standaard-grootboek", &["--skip-invalid"]);
    assert_eq!(r.code, 1, "rejected rows are never a green success");
    assert!(r.json["batch"].as_i64().is_some());
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_rejected")), (5, 3, 2));
    assert_eq!(r.total(), "60.16");
    let (n, cents, batches, _) = ctx.snapshot();
    assert_eq!((n, cents, batches), (3, 6016, 1));
}

#[test]
fn dry_run_reports_everything_and_writes_nothing() {
    let ctx = Ctx::new();
    let file = ctx.path("a.xlsx");
    let ls = lines(30);
    write_template_file(&file, "standaard-grootboek", &ls);
    let r = ctx.import(&file, "standaard-grootboek", &["--dry-run"]);
    assert_eq!(r.code, 0);
    assert!(r.json["batch"].is_null());
    assert_eq!(r.n("rows_imported"), 30);
    assert_eq!(r.total(), total_plain(&ls));
    assert_eq!(ctx.snapshot(), (0, 0, 0, 0));
}

#[test]
fn every_shipped_template_round_trips_through_its_example() {
    let ctx = Ctx::new();
    let mut list = ctx.cmd();
    list.args(["templates", "list"]);
    let listed = run(list);
    assert_eq!(listed.code, 0);
    // The ledger templates; the register templates have their own round trip in tests/import_kinds.rs.
    let names: Vec<String> = listed
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("ledger"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(names, ["standaard-grootboek", "grootboek-debet-credit", "grootboek-csv-1252"]);
    for (k, name) in names.iter().enumerate() {
        // The ready-to-fill example: a header the importer recognises, and an explanation sheet.
        let empty = ctx.path(&format!("{name}-leeg.xlsx"));
        let mut ex = ctx.cmd();
        ex.args(["templates", "example", name, "--out"]).arg(&empty);
        assert_eq!(run(ex).code, 0);
        let book: calamine::Xlsx<_> = calamine::open_workbook(&empty).unwrap();
        use calamine::Reader;
        assert_eq!(book.sheet_names().len(), 2);
        assert_eq!(book.sheet_names()[1], "Toelichting");
        if !name.contains("csv") {
            let r = ctx.import(&empty, name, &[]);
            assert_eq!(r.code, 1);
            assert!(r.messages()[0].contains("geen gegevensregels"), "{name}: {:?}", r.messages());
        }
        // Filled in that layout, every line and cent arrives.
        let ls: Vec<_> = lines(40).into_iter().skip(k * 40).collect();
        let ls = if ls.is_empty() { lines(40 + k * 40).split_off(k * 40) } else { ls };
        let ext = if name.contains("csv") { "csv" } else { "xlsx" };
        let filled = ctx.path(&format!("{name}.{ext}"));
        write_template_file(&filled, name, &ls);
        let r = ctx.import(&filled, name, &[]);
        assert_eq!(r.code, 0, "{name}: {:?}", r.messages());
        assert_eq!((r.n("rows_read"), r.n("rows_imported")), (40, 40), "{name}");
        assert_eq!(r.total(), total_plain(&ls), "{name}");
    }
    let (n, ..) = ctx.snapshot();
    assert_eq!(n, 120);
}

#[test]
fn the_same_lines_from_csv_and_xlsx_are_recognised_as_duplicates() {
    let ctx = Ctx::new();
    // The CSV layout has no line-number column, so the lines have none either.
    let ls: Vec<_> = lines(25)
        .into_iter()
        .map(|mut l| {
            l.line.clear();
            l
        })
        .collect();
    let (x, c) = (ctx.path("a.xlsx"), ctx.path("a.csv"));
    write_template_file(&x, "standaard-grootboek", &ls);
    write_template_file(&c, "grootboek-csv-1252", &ls);
    assert_eq!(ctx.import(&x, "standaard-grootboek", &[]).n("rows_imported"), 25);
    let r = ctx.import(&c, "grootboek-csv-1252", &[]);
    assert_eq!((r.n("rows_imported"), r.n("rows_duplicate")), (0, 25));
}

#[test]
fn windows_1252_csv_with_dutch_text_keeps_accents_and_cents() {
    let ctx = Ctx::new();
    let mut ls = lines(3);
    ls[0].creditor_name = "Taalhuis Één & Café".into();
    ls[1].amount = taalbudget::money::Money::from_cents(-12_345_678);
    let file = ctx.path("export.csv");
    write_template_file(&file, "grootboek-csv-1252", &ls);
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.contains(&0xC9), "É is one byte in Windows-1252");
    assert!(
        String::from_utf8_lossy(&bytes).contains("1.234.567,80")
            || String::from_utf8_lossy(&bytes).contains("123.456,78")
    );
    let r = ctx.import(&file, "grootboek-csv-1252", &[]);
    assert_eq!(r.code, 0, "{:?}", r.messages());
    assert_eq!(r.total(), total_plain(&ls));
}

#[test]
fn utf8_csv_with_bom_is_read() {
    let ctx = Ctx::new();
    let t = "name = \"eigen-csv\"\nkind = \"ledger\"\nfile_types = [\"csv\"]\nheader_row = 1\ndate_formats = [\"jjjj-mm-dd\"]\namount_style = \"plain\"\n[csv]\ndelimiter = \",\"\nencoding = \"utf-8\"\n[[column]]\nfield = \"booking_date\"\nheader = \"Datum\"\nrequired = true\n[[column]]\nfield = \"gl_account\"\nletter = \"B\"\n[[column]]\nfield = \"cost_centre\"\nheader = \"KPL\"\n[[column]]\nfield = \"description\"\nheader = \"Omschrijving\"\n[[column]]\nfield = \"amount\"\nheader = \"Bedrag\"\nrefuse_bsn = false\n";
    let tpath = ctx.path("eigen-csv.toml");
    std::fs::write(&tpath, t).unwrap();
    let file = ctx.path("bom.csv");
    std::fs::write(&file, "\u{feff}Datum,Rekening,KPL,Omschrijving,Bedrag\n2023-01-31,4301,KP1,Café,1234.50\n2023-02-01,4301,KP1,\"Twee, regels\",-0.50\n").unwrap();
    let r = ctx.import(&file, tpath.to_str().unwrap(), &[]);
    assert_eq!(r.code, 0, "{:?}", r.messages());
    assert_eq!((r.n("rows_imported"), r.total()), (2, "1234.00".to_string()));
}

#[test]
fn key_fields_identify_lines_and_a_repeated_key_in_one_file_is_rejected() {
    let ctx = Ctx::new();
    let mut ls = lines(10);
    let file = ctx.path("dc.xlsx");
    write_template_file(&file, "grootboek-debet-credit", &ls);
    assert_eq!(ctx.import(&file, "grootboek-debet-credit", &[]).n("rows_imported"), 10);
    // Same document and line with another description: still the same booking, so a duplicate.
    ls[3].description = "Gecorrigeerde omschrijving".into();
    ls.push(ls[0].clone());
    ls[10].description = "Zelfde sleutel".into();
    write_template_file(&file, "grootboek-debet-credit", &ls);
    let r = ctx.import(&file, "grootboek-debet-credit", &[]);
    assert_eq!(r.code, 1);
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_duplicate"), r.n("rows_rejected")), (11, 0, 10, 1));
    assert!(r.messages()[0].contains("staat ook op rij 6"), "{:?}", r.messages());
}

#[test]
fn dates_from_the_1904_date_system_are_read_correctly() {
    let ctx = Ctx::new();
    let file = ctx.path("mac.xlsx");
    xlsx(&file, |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 12.5);
        // 15-03-2023 is serial 45000 in 1900 and 43538 in 1904.
        ws.write_number_with_format(1, 0, 43538.0, &Format::new().set_num_format("dd-mm-yyyy")).unwrap();
    });
    rewrite_zip(&file, |name, bytes| {
        if name == "xl/workbook.xml" {
            String::from_utf8(bytes).unwrap().replace("<workbookPr", "<workbookPr date1904=\"1\"").into_bytes()
        } else {
            bytes
        }
    });
    let r = ctx.import(&file, "standaard-grootboek", &["--dry-run"]);
    assert_eq!(r.code, 0, "{:?}", r.messages());
    let imported = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!(imported.code, 0);
    let db = ctx.db.clone();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let d: String = rt.block_on(async move {
        let pool = taalbudget::store::connect(&db).await.unwrap();
        sqlx::query_scalar("SELECT booking_date FROM ledger_entry").fetch_one(&pool).await.unwrap()
    });
    assert_eq!(d, "2023-03-15");
}

#[test]
fn formula_cells_use_their_cached_value_and_formula_errors_are_row_errors() {
    let ctx = Ctx::new();
    let file = ctx.path("formulas.xlsx");
    xlsx(&file, |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 0.0);
        ws.write_formula(1, 12, "=100.10+0.15").unwrap();
        ws.set_formula_result(1, 12, "100.25");
        good_row(ws, 2, 2, 0.0);
        ws.write_formula(2, 12, "=#REF!").unwrap();
        ws.set_formula_result(2, 12, "#REF!");
    });
    rewrite_zip(&file, |name, bytes| {
        if name == "xl/worksheets/sheet1.xml" {
            // rust_xlsxwriter writes a string result as t="str"; Excel writes errors as t="e".
            String::from_utf8(bytes).unwrap().replace("<c r=\"M3\" t=\"str\">", "<c r=\"M3\" t=\"e\">").into_bytes()
        } else {
            bytes
        }
    });
    let r = ctx.import(&file, "standaard-grootboek", &["--skip-invalid"]);
    assert_eq!((r.n("rows_imported"), r.n("rows_rejected")), (1, 1), "{:?}", r.messages());
    assert_eq!(r.total(), "100.25");
    let e = r.first_error();
    assert_eq!((e["row"].as_u64(), e["column"].as_str()), (Some(3), Some("M")));
    assert!(e["message"].as_str().unwrap().contains("formulefout (#REF!)"), "{e}");
}

#[test]
fn a_ledger_template_for_another_kind_is_refused_with_a_clear_message_and_exit_2() {
    let ctx = Ctx::new();
    let file = ctx.path("a.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(1));
    for kind in ["providers", "certifications", "contracts", "placements", "funding"] {
        let mut c = ctx.cmd();
        c.args(["import", kind]).arg(&file).args(["--template", "standaard-grootboek", "--json"]);
        let r = run(c);
        assert_eq!(r.code, 2, "{kind}");
        assert_eq!(r.messages()[0], format!("sjabloon standaard-grootboek is voor ledger, niet voor {kind}"));
    }
    let mut c = ctx.cmd();
    c.args(["import", "ledger"]).arg(&file);
    assert_eq!(run(c).code, 2, "missing --template is bad usage");
    let mut c = ctx.cmd();
    c.args(["import", "ledger"]).arg(&file).args(["--template", "bestaat-niet"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("onbekend sjabloon"), "{}", r.stderr);
    assert_eq!(ctx.snapshot(), (0, 0, 0, 0));
}

#[test]
fn sample_files_from_other_writers_give_the_expected_totals() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples");
    let Ok(expected) = std::fs::read_to_string(dir.join("expected.json")) else {
        eprintln!("note: {} not found; sample-file check skipped", dir.display());
        return;
    };
    let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let ctx = Ctx::new();
        let r = ctx.import(&dir.join(name), "standaard-grootboek", &[]);
        assert_eq!(r.code, 0, "{name}: {:?}", r.messages());
        assert_eq!(r.n("rows_read"), want["rows"].as_u64().unwrap(), "{name}");
        assert_eq!(r.n("rows_imported"), want["rows"].as_u64().unwrap(), "{name}");
        assert_eq!(r.total(), want["amount_total"].as_str().unwrap(), "{name}");
    }
}

#[test]
fn killing_the_import_in_the_middle_of_its_commit_leaves_the_database_as_it_was() {
    let ctx = Ctx::new();
    let first = ctx.path("first.xlsx");
    let all = lines(400);
    write_template_file(&first, "standaard-grootboek", &all[..100]);
    assert_eq!(ctx.import(&first, "standaard-grootboek", &[]).code, 0);
    let before = ctx.snapshot();
    let second = ctx.path("second.xlsx");
    write_template_file(&second, "standaard-grootboek", &all);
    let mut c = ctx.cmd();
    c.args(["import", "ledger"])
        .arg(&second)
        .args(["--template", "standaard-grootboek"])
        .env(taalbudget::import::cli::PAUSE_ENV, "30")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut paused = false;
    for l in BufReader::new(stderr).lines() {
        if l.unwrap().contains("PAUZE VOOR COMMIT") {
            paused = true;
            break;
        }
    }
    assert!(paused, "the import reached its commit");
    // SIGKILL: no destructor, no rollback, no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(ctx.snapshot(), before);
    // And the file still imports completely afterwards.
    let r = ctx.import(&second, "standaard-grootboek", &[]);
    assert_eq!((r.n("rows_imported"), r.n("rows_duplicate")), (300, 100));
}
