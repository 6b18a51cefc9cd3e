//! Bad input: every case gives a clear Dutch message, the right exit code, and leaves the database unchanged.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use rust_xlsxwriter::Format;

/// Imports `file` and checks: exit code, nothing written, and that some error message contains `needle`.
fn refused(ctx: &Ctx, file: &Path, template: &str, code: i32, needle: &str) -> Run {
    refused_with(ctx, file, template, &[], code, needle)
}

/// [`refused`] with extra arguments for the import command.
fn refused_with(ctx: &Ctx, file: &Path, template: &str, extra: &[&str], code: i32, needle: &str) -> Run {
    let r = ctx.import(file, template, extra);
    assert_eq!(r.code, code, "exit code for {}: {}", file.display(), r.json);
    assert!(r.json["batch"].is_null());
    let messages = r.messages();
    assert!(messages.iter().any(|m| m.contains(needle)), "expected '{needle}' in {messages:#?}");
    assert_eq!(ctx.snapshot(), (0, 0, 0, 0), "database unchanged");
    assert_bounded_memory(&r, file);
    r
}

/// Bad input must never make the process grow with what the file declares (a bomb, a far-away cell, a huge
/// cell): the whole command stays within the memory of a 100,000-row import (64 MB).
fn assert_bounded_memory(r: &Run, file: &Path) {
    assert!(r.peak_kb < 64 * 1024, "peak memory {} kB for {}", r.peak_kb, file.display());
    #[cfg(target_os = "linux")]
    assert!(r.peak_kb > 0, "the binary reports its peak memory on Linux");
}

fn standard_with(ctx: &Ctx, name: &str, fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> PathBuf {
    let file = ctx.path(name);
    xlsx(&file, fill);
    file
}

#[test]
fn empty_file() {
    let ctx = Ctx::new();
    let file = ctx.path("leeg.xlsx");
    std::fs::write(&file, b"").unwrap();
    refused(&ctx, &file, "standaard-grootboek", 2, "het bestand is leeg");
}

#[test]
fn not_a_spreadsheet() {
    let ctx = Ctx::new();
    let file = ctx.path("factuur.xlsx");
    std::fs::write(&file, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n").unwrap();
    refused(&ctx, &file, "standaard-grootboek", 2, "PDF-document, geen spreadsheet");
    let bin = ctx.path("data.bin");
    std::fs::write(&bin, [0u8, 1, 2, 3, 255, 254, 0, 7].repeat(100)).unwrap();
    refused(&ctx, &bin, "standaard-grootboek", 2, "onbekend binair formaat");
}

#[test]
fn xlsx_renamed_to_csv_is_recognised_by_content() {
    let ctx = Ctx::new();
    let file = ctx.path("export.csv");
    write_template_file(&file, "standaard-grootboek", &lines(3));
    let r = refused(&ctx, &file, "grootboek-csv-1252", 2, "Excel-werkmap (xlsx)");
    assert!(r.messages()[0].contains("de naam eindigt op .csv"), "{:?}", r.messages());
}

#[test]
fn csv_renamed_to_xlsx_is_recognised_by_content() {
    let ctx = Ctx::new();
    let file = ctx.path("export.xlsx");
    write_template_file(&file, "grootboek-csv-1252", &lines(3));
    refused(&ctx, &file, "standaard-grootboek", 2, "kies een CSV-sjabloon");
}

#[test]
fn truncated_zip() {
    let ctx = Ctx::new();
    let file = ctx.path("half.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(200));
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    refused(&ctx, &file, "standaard-grootboek", 2, "beschadigd of onvolledig");
}

#[test]
fn a_zip_that_is_no_workbook() {
    let ctx = Ctx::new();
    let file = ctx.path("archief.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(1));
    rewrite_zip(&file, |_, b| b);
    let mut data = std::fs::read(&file).unwrap();
    // Rename every "xl/workbook.xml" so nothing says workbook any more.
    let needle = b"xl/workbook.xml";
    for i in 0..data.len().saturating_sub(needle.len()) {
        if &data[i..i + needle.len()] == needle {
            data[i..i + needle.len()].copy_from_slice(b"xl/notebook.xml");
        }
    }
    std::fs::write(&file, data).unwrap();
    refused(&ctx, &file, "standaard-grootboek", 2, "zip-archief, geen werkmap");
}

/// A minimal compound file (the container of .xls and of encrypted OOXML) holding an `EncryptedPackage` stream.
fn encrypted_workbook() -> Vec<u8> {
    let mut f = vec![0u8; 512 * 3];
    f[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let put16 = |f: &mut Vec<u8>, at: usize, v: u16| f[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put16(&mut f, 24, 0x3E);
    put16(&mut f, 26, 3);
    put16(&mut f, 28, 0xFFFE);
    put16(&mut f, 30, 9);
    put16(&mut f, 32, 6);
    put32(&mut f, 44, 1);
    put32(&mut f, 48, 1);
    put32(&mut f, 56, 4096);
    put32(&mut f, 60, 0xFFFF_FFFE);
    put32(&mut f, 68, 0xFFFF_FFFE);
    put32(&mut f, 76, 0);
    for i in 1..109 {
        put32(&mut f, 76 + 4 * i, 0xFFFF_FFFF);
    }
    for i in 0..128 {
        put32(&mut f, 512 + 4 * i, 0xFFFF_FFFF);
    }
    put32(&mut f, 512, 0xFFFF_FFFD);
    put32(&mut f, 516, 0xFFFF_FFFE);
    let entry = |f: &mut Vec<u8>, n: usize, name: &str, kind: u8, child: u32| {
        let at = 1024 + 128 * n;
        for (i, u) in name.encode_utf16().enumerate() {
            f[at + 2 * i..at + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        f[at + 64..at + 66].copy_from_slice(&(((name.len() + 1) * 2) as u16).to_le_bytes());
        f[at + 66] = kind;
        f[at + 67] = 1;
        f[at + 68..at + 72].copy_from_slice(&u32::MAX.to_le_bytes());
        f[at + 72..at + 76].copy_from_slice(&u32::MAX.to_le_bytes());
        f[at + 76..at + 80].copy_from_slice(&child.to_le_bytes());
        f[at + 116..at + 120].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
    };
    entry(&mut f, 0, "Root Entry", 5, 1);
    entry(&mut f, 1, "EncryptedPackage", 2, u32::MAX);
    for n in 2..4 {
        let at = 1024 + 128 * n;
        for o in [68, 72, 76] {
            f[at + o..at + o + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        }
    }
    f
}

#[test]
fn password_protected_workbook() {
    let ctx = Ctx::new();
    let file = ctx.path("beveiligd.xlsx");
    std::fs::write(&file, encrypted_workbook()).unwrap();
    refused(&ctx, &file, "standaard-grootboek", 2, "beveiligd met een wachtwoord");
}

#[test]
fn zip_bomb_with_a_huge_declared_size_is_not_unpacked() {
    let ctx = Ctx::new();
    let file = ctx.path("bom.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(5));
    let mut data = std::fs::read(&file).unwrap();
    // Declare 3.75 GB for the sheet in the central directory, as a bomb does.
    let name = b"xl/worksheets/sheet1.xml";
    let mut patched = false;
    for i in 0..data.len() - 46 {
        if data[i..i + 4] == [0x50, 0x4B, 0x01, 0x02] && data[i + 46..].starts_with(name) {
            data[i + 24..i + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
            patched = true;
        }
    }
    assert!(patched);
    std::fs::write(&file, data).unwrap();
    refused(&ctx, &file, "standaard-grootboek", 2, "zip-bom");
}

/// Imports `file` (which must be accepted) and returns the run.
fn accepted(ctx: &Ctx, file: &Path, template: &str) -> Run {
    let r = ctx.import(file, template, &[]);
    assert_eq!(r.code, 0, "exit code for {}: {}", file.display(), r.json);
    assert!(r.json["batch"].is_i64(), "a batch was written: {}", r.json);
    assert!(r.messages().is_empty(), "no errors: {:#?}", r.messages());
    r
}

#[test]
fn a_stray_cell_at_xfd1048576_is_a_skipped_blank_row_not_a_dense_range() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "ver.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 10.0);
        ws.write_string(1_048_575, 16_383, "verdwaald").unwrap();
    });
    let r = accepted(&ctx, &file, "standaard-grootboek");
    assert_bounded_memory(&r, &file);
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_rejected"), r.n("rows_skipped")), (1, 1, 0, 1));
    assert_eq!(r.total(), "10.00");
}

#[test]
fn notes_in_column_z_import_the_real_rows_and_skip_a_row_with_only_a_note() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "notities.xlsx", |ws| {
        headers(ws, 0);
        ws.write_string(0, 25, "Notities").unwrap();
        good_row(ws, 1, 1, 100.25);
        ws.write_string(1, 25, "nagekeken").unwrap();
        good_row(ws, 2, 2, -40.10);
        // Row 4: a note and nothing in the template's columns.
        ws.write_string(3, 25, "controle door team Financien, 12-03").unwrap();
        good_row(ws, 4, 3, 0.05);
    });
    let r = accepted(&ctx, &file, "standaard-grootboek");
    // 100.25 - 40.10 + 0.05 = 60.20
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_rejected"), r.n("rows_skipped")), (3, 3, 0, 1));
    assert_eq!(r.total(), "60.20");
    let (lines, cents, ..) = ctx.snapshot();
    assert_eq!((lines, cents), (3, 6020), "three ledger lines stored, € 60,20");
}

#[test]
fn missing_required_column() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "zonder-kpl.xlsx", |ws| {
        for (c, h) in STANDARD_HEADERS.iter().filter(|h| **h != "Kostenplaats").enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, "01-01-2023").unwrap();
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "verplichte kolom(men) ontbreken: Kostenplaats");
}

#[test]
fn two_columns_with_the_same_header() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "dubbel.xlsx", |ws| {
        headers(ws, 0);
        ws.write_string(0, 13, " bedrag ").unwrap();
        good_row(ws, 1, 1, 1.0);
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "kolom 'Bedrag' komt 2 keer voor (M, N)");
}

#[test]
fn wrong_sheet_name() {
    let ctx = Ctx::new();
    let file = ctx.path("blad.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(3));
    refused(&ctx, &file, "grootboek-debet-credit", 2, "werkblad 'Mutaties' bestaat niet; de werkmap heeft: Grootboek");
}

#[test]
fn header_only() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "kop.xlsx", |ws| headers(ws, 0));
    refused(&ctx, &file, "standaard-grootboek", 1, "onder de kopregel (rij 1) staan geen gegevensregels");
}

#[test]
fn zero_data_rows_only_a_note_outside_the_template_columns() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "alleen-notitie.xlsx", |ws| {
        headers(ws, 0);
        ws.write_string(1, 25, "nog aanvullen").unwrap();
    });
    let r = refused(
        &ctx,
        &file,
        "standaard-grootboek",
        1,
        "onder de kopregel (rij 1) staan geen gegevensregels (alleen regels zonder waarden in de kolommen van het sjabloon)",
    );
    assert_eq!((r.n("rows_read"), r.n("rows_skipped")), (0, 1));
}

#[test]
fn zero_data_rows_only_a_totals_row() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "totaal.xlsx", |ws| {
        headers(ws, 2);
        ws.write_string(0, 0, "Grootboekmutaties 2023").unwrap();
        ws.write_string(3, 0, "Totaal").unwrap();
        ws.write_number(3, 12, 0.0).unwrap();
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "geen gegevensregels (alleen totaalregels)");
}

#[test]
fn merged_header_cells_that_hide_a_required_header() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "samengevoegd.xlsx", |ws| {
        headers(ws, 0);
        // "Omschrijving" merged over L1:M1 swallows the "Bedrag" header.
        ws.merge_range(0, 11, 0, 12, "Omschrijving", &Format::new()).unwrap();
        good_row(ws, 1, 1, 5.0);
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "ontbreken: Bedrag");
}

#[test]
fn merged_header_over_its_own_column_still_maps_the_top_left_cell() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "samengevoegd-ok.xlsx", |ws| {
        headers(ws, 1);
        ws.merge_range(0, 0, 0, 12, "Grootboekmutaties 2023 (titel over de hele breedte)", &Format::new()).unwrap();
        good_row(ws, 2, 1, 5.0);
    });
    let r = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!((r.code, r.n("rows_imported"), r.total()), (0, 1, "5.00".to_string()));
}

#[test]
fn header_not_in_the_first_20_rows() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "diep.xlsx", |ws| {
        for r in 0..22 {
            ws.write_string(r, 0, format!("toelichting {r}")).unwrap();
        }
        headers(ws, 22);
        good_row(ws, 23, 1, 5.0);
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "geen kopregel gevonden in de eerste 20 rijen");
}

fn one_bad_cell(date: &str, amount: &str, needle: &str, column: &str) {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "cel.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 1.0);
        text_row(ws, 2, date, amount);
    });
    let r = refused(&ctx, &file, "standaard-grootboek", 1, needle);
    let e = r.first_error();
    assert_eq!(
        (e["sheet"].as_str(), e["row"].as_u64(), e["column"].as_str()),
        (Some("Grootboek"), Some(3), Some(column))
    );
    assert_eq!((r.n("rows_read"), r.n("rows_imported"), r.n("rows_rejected")), (2, 1, 1));
}

#[test]
fn text_date_in_an_undeclared_format() {
    one_bad_cell(
        "31/12/2022",
        "1,00",
        "past niet bij de datumnotatie van het sjabloon (dd-mm-jjjj of jjjj-mm-dd)",
        "A",
    );
    one_bad_cell("2022-12-31 00:00", "1,00", "past niet bij de datumnotatie", "A");
}

#[test]
fn impossible_date() {
    one_bad_cell("31-02-2022", "1,00", "31-02-2022 bestaat niet in de kalender", "A");
}

#[test]
fn excel_serial_number_in_a_text_date_column() {
    one_bad_cell("44927", "1,00", "'44927' past niet bij de datumnotatie", "A");
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "serieel.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 1.0);
        ws.write_number(1, 0, 44927.0).unwrap();
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "is een getal zonder datumopmaak");
}

#[test]
fn ambiguous_amount() {
    one_bad_cell("01-03-2022", "1.234", "dubbelzinnig bedrag", "M");
}

#[test]
fn amount_with_letters() {
    one_bad_cell("01-03-2022", "12,5O", "bevat letters", "M");
}

#[test]
fn non_breaking_spaces_and_a_currency_sign_in_amounts_are_read_exactly() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "euro.xlsx", |ws| {
        headers(ws, 0);
        text_row(ws, 1, "01-03-2022", "€\u{a0}1.234,56");
        text_row(ws, 2, "02-03-2022", "\u{a0}(€ 34,56)\u{a0}");
    });
    let r = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!((r.code, r.n("rows_imported"), r.total()), (0, 2, "1200.00".to_string()), "{:?}", r.messages());
    // A non-breaking space as thousands separator is not a notation we accept: refused, not guessed.
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "nbsp.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 1.0);
        text_row(ws, 2, "01-03-2022", "1\u{a0}234,56");
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "bevat een onverwacht teken");
}

#[test]
fn totals_row_that_does_not_match_the_skip_rule() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "eindtotaal.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 10.0);
        ws.write_string(2, 0, "Eindtotaal").unwrap();
        ws.write_number(2, 12, 10.0).unwrap();
    });
    let r = refused(&ctx, &file, "standaard-grootboek", 1, "deze rij lijkt een totaalregel");
    assert!(r.messages().iter().any(|m| m.contains("begint met: Totaal")), "{:?}", r.messages());
}

#[test]
fn a_100000_character_cell_is_refused_and_not_echoed_whole() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "lang.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 10.0);
        ws.write_string(1, 11, "LANGE-TEKST").unwrap();
    });
    // Excel writers refuse cells over 32,767 characters; a hostile file does not.
    rewrite_zip(&file, |name, bytes| {
        if name == "xl/sharedStrings.xml" {
            String::from_utf8(bytes).unwrap().replace("LANGE-TEKST", &"x".repeat(100_000)).into_bytes()
        } else {
            bytes
        }
    });
    let r = refused(&ctx, &file, "standaard-grootboek", 1, "hoogstens 500 zijn toegestaan");
    assert!(r.first_error()["value"].as_str().unwrap().chars().count() <= 101);
}

/// One 30,000-character shared string in the amount cell of 5,000 rows: a small file that would unpack to
/// 150 MB of cell text. Every row is rejected and counted; memory stays bounded (`refused` checks the peak).
#[test]
fn one_huge_shared_string_repeated_in_5000_rows_keeps_memory_bounded() {
    let ctx = Ctx::new();
    let huge = "9".repeat(30_000) + "x";
    let file = standard_with(&ctx, "herhaald.xlsx", |ws| {
        headers(ws, 0);
        for r in 1..=5_000u32 {
            good_row(ws, r, r as usize, 1.0);
            ws.write_string(r, 12, &huge).unwrap();
        }
    });
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 3_000_000, "the file itself is small: {size} bytes");
    let r = refused(&ctx, &file, "standaard-grootboek", 1, "Bedrag");
    assert_eq!((r.n("rows_read"), r.n("rows_rejected"), r.n("rows_imported")), (5_000, 5_000, 0));
    let shown = r.first_error()["value"].as_str().unwrap().chars().count();
    assert!(shown <= 101, "a value in a message is shortened, not echoed whole ({shown} characters)");
}

/// calamine reads .ods sheets into a dense grid: one filled cell at row 1,000,003, column 90 of a 2 kB file would
/// cost about 3 GB. Such a sheet is measured first and refused, naming how far it runs; a normal .ods still imports.
#[test]
fn an_ods_with_one_far_away_cell_is_refused_before_the_grid_is_built() {
    let ctx = Ctx::new();
    let rows = vec![
        vec!["Boekdatum", "Grootboekrekening", "Kostenplaats", "Omschrijving", "Bedrag"],
        vec!["01-02-2023", "4301", "KP100", "Cursus B1", "1.234,56"],
        vec!["02-02-2023", "4301", "KP100", "Cursus Z", "-34,56"],
    ];
    let good = ctx.path("goed.ods");
    ods(&good, &rows, None);
    let r = ctx.import(&good, "standaard-grootboek", &["--dry-run"]);
    assert_eq!((r.code, r.n("rows_imported"), r.total()), (0, 2, "1200.00".to_string()), "{:?}", r.messages());

    let far = ctx.path("ver.ods");
    ods(&far, &rows, Some((1_000_003, 90)));
    assert!(std::fs::metadata(&far).unwrap().len() < 5_000);
    refused(&ctx, &far, "standaard-grootboek", 2, "loopt tot cel CL1000003 terwijl er maar 16 cellen gevuld zijn");
}

#[test]
fn csv_with_the_wrong_delimiter() {
    let ctx = Ctx::new();
    let file = ctx.path("komma.csv");
    std::fs::write(&file, "Datum,Jaar,Periode,Boekstuk,Grootboek,Kostenplaats,Omschrijving,Bedrag,D/C\n01-01-2023,2023,1,B1,4301,KP1,Cursus,\"10,00\",D\n").unwrap();
    refused(&ctx, &file, "grootboek-csv-1252", 1, "scheidingsteken");
}

#[test]
fn csv_with_invalid_utf8_declared_as_utf8() {
    let ctx = Ctx::new();
    let t =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("import-templates/grootboek-csv-1252.toml"))
            .unwrap()
            .replace("windows-1252", "utf-8")
            .replace("name = \"grootboek-csv-1252\"", "name = \"grootboek-csv-utf8\"");
    let tpath = ctx.path("utf8.toml");
    std::fs::write(&tpath, t).unwrap();
    let file = ctx.path("latin.csv");
    let mut data = b"Datum;Grootboek;Kostenplaats;Omschrijving;Bedrag;D/C\n01-01-2023;4301;KP1;Caf".to_vec();
    data.extend_from_slice(&[0xE9]);
    data.extend_from_slice(b";10,00;D\n");
    std::fs::write(&file, data).unwrap();
    refused(&ctx, &file, tpath.to_str().unwrap(), 2, "rij 2, kolom D: de tekst is geen geldige UTF-8");
}

#[test]
fn period_outside_1_to_13() {
    let ctx = Ctx::new();
    let file = standard_with(&ctx, "periode.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 10.0);
        ws.write_number(1, 2, 14.0).unwrap();
    });
    refused(&ctx, &file, "standaard-grootboek", 1, "Periode: 14 ligt niet tussen 1 en 13");
}

#[test]
fn debit_and_credit_both_empty() {
    let ctx = Ctx::new();
    let file = ctx.path("dc.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Mutaties").unwrap();
    ws.write_string(0, 0, "Gemeente Utrecht - grootboekmutaties").unwrap();
    let heads = [
        "Jaar",
        "Per.",
        "Boekdatum",
        "Boekstuknr.",
        "Regelnr.",
        "Rekening",
        "Kostenplaats",
        "Omschrijving",
        "Debet",
        "Credit",
    ];
    let row = ["2023", "1", "02-01-2023", "BS1", "1", "4301", "KP1", "Cursus", "", ""];
    for (c, (h, v)) in heads.iter().zip(row).enumerate() {
        ws.write_string(4, c as u16, *h).unwrap();
        if !v.is_empty() {
            ws.write_string(5, c as u16, v).unwrap();
        }
    }
    wb.save(&file).unwrap();
    refused(&ctx, &file, "grootboek-debet-credit", 1, "Debet en Credit zijn allebei leeg");
}

#[test]
fn unknown_debit_credit_indicator() {
    let ctx = Ctx::new();
    let file = ctx.path("dc.csv");
    // The blank line counts, as it does when Excel opens the file: the bad record is on row 3.
    let text = "Datum;Grootboek;Kostenplaats;Omschrijving;Bedrag;D/C\n\n01-01-2023;4301;KP1;Cursus;10,00;X\n";
    std::fs::write(&file, text).unwrap();
    let r =
        refused(&ctx, &file, "grootboek-csv-1252", 1, "'X' is geen debet/credit-code; verwacht D/Debet of C/Credit");
    assert_eq!((r.first_error()["row"].as_u64(), r.first_error()["column"].as_str()), (Some(3), Some("F")));
    // Also for a last line without a line break, and after a record that spans two lines.
    let text = "Datum;Grootboek;Kostenplaats;Omschrijving;Bedrag;D/C\n01-01-2023;4301;KP1;\"Twee\nregels\";10,00;D\n\n01-01-2023;4301;KP1;Cursus;10,00;X";
    std::fs::write(&file, text).unwrap();
    let r = refused(&ctx, &file, "grootboek-csv-1252", 1, "geen debet/credit-code");
    assert_eq!(r.first_error()["row"].as_u64(), Some(5));
}

#[test]
fn a_bsn_in_a_field_that_refuses_them() {
    let ctx = Ctx::new();
    let t = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("import-templates/standaard-grootboek.toml"),
    )
    .unwrap()
    .replace("header = \"Crediteurnummer\"", "header = \"Crediteurnummer\"\nrefuse_bsn = true");
    let tpath = ctx.path("bsn.toml");
    std::fs::write(&tpath, t).unwrap();
    let file = standard_with(&ctx, "bsn.xlsx", |ws| {
        headers(ws, 0);
        good_row(ws, 1, 1, 10.0);
        ws.write_string(1, 8, "111222333").unwrap();
    });
    refused(&ctx, &file, tpath.to_str().unwrap(), 1, "lijkt een BSN");
}

/// calamine reads every sheet of an .xls into a dense grid when it opens the file: one filled cell at IV65536
/// would cost about 1 GB. The sheets are measured first and such a file is refused; a normal .xls still imports.
#[test]
fn an_xls_with_one_far_away_cell_is_refused_before_the_grid_is_built() {
    let ctx = Ctx::new();
    let mut cells = vec![
        (0, 0, "Boekdatum"),
        (0, 1, "Grootboekrekening"),
        (0, 2, "Kostenplaats"),
        (0, 3, "Omschrijving"),
        (0, 4, "Bedrag"),
        (1, 0, "01-02-2023"),
        (1, 1, "4301"),
        (1, 2, "KP100"),
        (1, 3, "Cursus B1"),
        (1, 4, "1234.56"),
    ];
    let good = ctx.path("goed.xls");
    xls(&good, &cells);
    let r = ctx.import(&good, "standaard-grootboek", &["--dry-run"]);
    assert_eq!((r.code, r.n("rows_imported"), r.total()), (0, 1, "1234.56".to_string()), "{:?}", r.messages());

    cells.push((65535, 255, "ver weg"));
    let far = ctx.path("ver.xls");
    xls(&far, &cells);
    let size = std::fs::metadata(&far).unwrap().len();
    assert!(size < 20_000, "a small file: {size} bytes");
    refused(
        &ctx,
        &far,
        "standaard-grootboek",
        2,
        "werkblad 'Grootboek' loopt tot cel IV65536 terwijl er maar 11 cellen gevuld zijn",
    );
}

/// A standard-layout workbook whose entry `part` is replaced by `content` (compressed as Excel would).
fn with_part(ctx: &Ctx, name: &str, part: &str, content: Vec<u8>) -> PathBuf {
    let file = ctx.path(name);
    write_template_file(&file, "standaard-grootboek", &lines(3));
    let mut content = Some(content);
    let mut seen = false;
    rewrite_zip(&file, |entry, bytes| {
        if entry == part {
            seen = true;
            content.take().unwrap()
        } else {
            bytes
        }
    });
    assert!(seen, "{part} is in the workbook");
    file
}

/// `n` bytes of XML text that compress about 40 times, as a shared-strings bomb of the issue did (ratio 44, so the
/// zip-bomb check lets it through): mostly a repeated pattern, with a random digit every 40 bytes.
fn compressible_digits(n: usize, seed: u64) -> Vec<u8> {
    let mut out = b"1234567890".repeat(n / 10 + 1);
    out.truncate(n);
    let mut x = seed | 1;
    for i in (0..n).step_by(40) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = b'0' + (x % 10) as u8;
    }
    out
}

fn entry_ratio(file: &Path, part: &str) -> u64 {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    let e = zip.by_name(part).unwrap();
    e.size() / e.compressed_size().max(1)
}

/// The bomb in small: a shared-strings table larger than the reader may hold is refused from the zip
/// directory, before one string is read, with a message that names the part and both sizes.
#[test]
fn a_shared_strings_table_larger_than_the_read_budget_is_refused_naming_its_size() {
    let ctx = Ctx::new();
    let file = ctx.path("bom.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(3));
    let mut megabytes = 0;
    rewrite_zip(&file, |entry, bytes| {
        if entry != "xl/sharedStrings.xml" {
            return bytes;
        }
        // The workbook's own strings stay first (its cells point at them); 20 MB of strings nobody uses follow.
        let end = bytes.len() - "</sst>".len();
        let mut sst = bytes[..end].to_vec();
        for chunk in compressible_digits(20 << 20, 7).chunks(30) {
            sst.extend_from_slice(b"<si><t>");
            sst.extend_from_slice(chunk);
            sst.extend_from_slice(b"</t></si>");
        }
        sst.extend_from_slice(b"</sst>");
        megabytes = sst.len().div_ceil(1 << 20);
        sst
    });
    assert!(entry_ratio(&file, "xl/sharedStrings.xml") < 200, "the zip-bomb check alone lets this through");
    let small = ["--read-memory-mb", "16"];
    let r = refused_with(&ctx, &file, "standaard-grootboek", &small, 2, "leest per bestand hooguit 16 MB");
    assert!(
        r.messages()[0].starts_with(&format!(
            "de gedeelde tekstentabel (xl/sharedStrings.xml) is {megabytes} MB uitgepakt; taalbudget leest per \
             bestand hooguit 16 MB. Verdeel de regels over meer bestanden, of sla het bestand op als CSV"
        )),
        "{:?}",
        r.messages()
    );
    // The same file within a larger budget is read: the cap is the setting, not the file.
    let r = ctx.import(&file, "standaard-grootboek", &["--read-memory-mb", "400", "--dry-run"]);
    assert_eq!((r.code, r.n("rows_imported")), (0, 3), "{:?}", r.messages());
}

/// calamine reserves room for the number of strings the table announces before it reads one: 4,000,000,000
/// would be 96 GB, which aborted the process. The announcement counts against the budget like real strings.
#[test]
fn a_shared_strings_table_announcing_four_billion_strings_is_refused_not_reserved() {
    let ctx = Ctx::new();
    let sst = b"<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
                count=\"1\" uniqueCount=\"4000000000\"><si><t>x</t></si></sst>"
        .to_vec();
    let file = with_part(&ctx, "aankondiging.xlsx", "xl/sharedStrings.xml", sst);
    let r = refused(&ctx, &file, "standaard-grootboek", 2, "kondigt 4.000.000.000 teksten aan");
    assert!(
        r.messages()[0].starts_with(
            "de gedeelde tekstentabel (xl/sharedStrings.xml) kondigt 4.000.000.000 teksten aan en vraagt daarmee \
             ongeveer 213.624 MB geheugen; taalbudget leest per bestand hooguit 128 MB."
        ),
        "{:?}",
        r.messages()
    );
}

/// Five bytes of styles.xml (`<xf/>`) become a 165-byte style in calamine: 400,000 of them unpack from a few kB
/// to about 70 MB held. Refused, naming the part.
#[test]
fn a_styles_table_of_400000_empty_formats_is_refused_before_calamine_builds_them() {
    let ctx = Ctx::new();
    let file = ctx.path("opmaak.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(3));
    rewrite_zip(&file, |entry, bytes| {
        if entry != "xl/styles.xml" {
            return bytes;
        }
        let xml = String::from_utf8(bytes).unwrap();
        let at = xml.find("<cellXfs").unwrap();
        let at = at + xml[at..].find('>').unwrap() + 1;
        format!("{}{}{}", &xml[..at], "<xf/>".repeat(400_000), &xml[at..]).into_bytes()
    });
    assert!(std::fs::metadata(&file).unwrap().len() < 100_000);
    let r = refused(&ctx, &file, "standaard-grootboek", 2, "de opmaaktabel (xl/styles.xml) vraagt bij het openen");
    // 400,000 and the workbook's own few formats at 512 bytes (twice the 229 measured, for long font names):
    // 204.8 MB, plus 2.0 MB of XML = 206.8 MB, 197.3 MiB, shown rounded up.
    assert!(r.messages()[0].starts_with("de opmaaktabel (xl/styles.xml) vraagt bij het openen ongeveer 198 MB geheugen; taalbudget leest per bestand hooguit 128 MB."), "{:?}", r.messages());
}

/// calamine's XML reader buffers one text whole: a 60 MB run of digits inside one cell (compressing 60 times,
/// so the zip-bomb check lets it through) would be held three times over. The sheet is measured first.
#[test]
fn a_sheet_with_a_60_mb_text_without_a_tag_is_refused_before_the_xml_reader_buffers_it() {
    let ctx = Ctx::new();
    let file = ctx.path("lange-tekst.xlsx");
    write_template_file(&file, "standaard-grootboek", &lines(3));
    rewrite_zip(&file, |entry, bytes| {
        if entry != "xl/worksheets/sheet1.xml" {
            return bytes;
        }
        let xml = String::from_utf8(bytes).unwrap();
        let at = xml.find("</sheetData>").unwrap();
        let mut out = xml.as_bytes()[..at].to_vec();
        out.extend_from_slice(b"<row r=\"9\"><c r=\"A9\" t=\"inlineStr\"><is><t>");
        out.extend(compressible_digits(60 << 20, 11));
        out.extend_from_slice(b"</t></is></c></row>");
        out.extend_from_slice(&xml.as_bytes()[at..]);
        out
    });
    assert!(entry_ratio(&file, "xl/worksheets/sheet1.xml") < 200, "the zip-bomb check alone lets this through");
    let r = refused(&ctx, &file, "standaard-grootboek", 2, "het werkblad (xl/worksheets/sheet1.xml) bevat");
    assert_eq!(
        r.messages()[0],
        "het werkblad (xl/worksheets/sheet1.xml) bevat een stuk tekst of opmaak van meer dan 1 MB zonder \
         onderbreking; een cel bevat hooguit 32.767 tekens, dus het bestand is beschadigd of gemanipuleerd. Sla het \
         opnieuw op en probeer het opnieuw"
    );
}

/// An unclosed quote makes the rest of a CSV file one record, which the csv reader would hold whole.
#[test]
fn a_csv_record_longer_than_an_eighth_of_the_budget_is_refused() {
    let ctx = Ctx::new();
    let file = ctx.path("open-aanhalingsteken.csv");
    let mut data = b"Datum;Grootboek;Kostenplaats;Omschrijving;Bedrag;D/C\n01-01-2023;4301;KP1;\"Cursus".to_vec();
    data.extend(std::iter::repeat_n(b"zonder einde\n".as_slice(), 300_000).flatten());
    std::fs::write(&file, &data).unwrap();
    let r = refused_with(&ctx, &file, "grootboek-csv-1252", &["--read-memory-mb", "16"], 2, "rij 2");
    assert_eq!(
        r.messages()[0],
        "rij 2 van het CSV-bestand is langer dan 2 MB (taalbudget leest een regel van hooguit 2 MB); staat er \
         ergens een aanhalingsteken (\") dat niet wordt gesloten? Corrigeer het bestand en probeer het opnieuw"
    );
}

/// One row with one cell repeated over 1,000 columns, itself repeated 10,000 times: 10,000,000 cells that
/// calamine would copy out into a dense grid (about 1 GB), from a file of a few hundred bytes. Every cell is
/// filled, so the extent check lets it through; the budget does not.
#[test]
fn an_ods_whose_repeated_cells_would_fill_a_gigabyte_grid_is_refused() {
    let ctx = Ctx::new();
    let rows = vec![vec!["Boekdatum", "Grootboekrekening", "Kostenplaats", "Omschrijving", "Bedrag"]];
    let file = ctx.path("herhaald.ods");
    ods(&file, &rows, None);
    rewrite_zip(&file, |entry, bytes| {
        if entry != "content.xml" {
            return bytes;
        }
        let xml = String::from_utf8(bytes).unwrap();
        let repeated = "<table:table-row table:number-rows-repeated=\"10000\"><table:table-cell \
                        table:number-columns-repeated=\"1000\" office:value-type=\"string\"><text:p>x</text:p>\
                        </table:table-cell></table:table-row>";
        xml.replace("</table:table>", &format!("{repeated}</table:table>")).into_bytes()
    });
    let r = refused(&ctx, &file, "standaard-grootboek", 2, "de werkbladen vragen bij het inlezen samen ongeveer");
    assert!(r.messages()[0].contains("(10.000.005 gevulde cellen, herhaalde cellen meegeteld)"), "{:?}", r.messages());
}

/// .xls: calamine reads every sheet into a grid when it opens the file; 200,000 filled cells (a 4 MB file) need
/// about 24 MB, more than a 16 MB budget: the grid of 20,000 rows by 10 columns at 32 bytes (6.4 MB), the list
/// of cells it is built from at 72 bytes a cell (14.4 MB), and the workbook stream read whole (3.6 MB):
/// 24.4 MB, 23.3 MiB, shown rounded up.
#[test]
fn an_xls_whose_sheets_need_more_than_the_budget_is_refused() {
    let ctx = Ctx::new();
    let cells: Vec<(u16, u16, String)> =
        (0..200_000u32).map(|i| ((i / 10) as u16, (i % 10) as u16, format!("{}", i % 1000))).collect();
    let cells: Vec<(u16, u16, &str)> = cells.iter().map(|(r, c, v)| (*r, *c, v.as_str())).collect();
    let file = ctx.path("groot.xls");
    xls(&file, &cells);
    let r = refused_with(&ctx, &file, "standaard-grootboek", &["--read-memory-mb", "16"], 2, "de werkbladen");
    assert!(
        r.messages()[0].starts_with(
            "de werkbladen vragen bij het inlezen samen ongeveer 24 MB geheugen (200.000 gevulde cellen); taalbudget \
             leest per bestand hooguit 16 MB."
        ),
        "{:?}",
        r.messages()
    );
}
