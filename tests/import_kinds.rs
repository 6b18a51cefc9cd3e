//! The register imports through the command line: providers, certifications, contracts and tariffs,
//! placements and funding. Exact counts, re-imports that add nothing, bad rows with their Dutch message and
//! place, --skip-invalid, undo (and its refusals), closed years, and every new template's example file.

mod common;

use std::path::Path;

use common::*;

fn import(ctx: &Ctx, kind: &str, file: &Path, template: &str, extra: &[&str]) -> Run {
    let mut c = ctx.cmd();
    c.args(["import", kind]).arg(file).args(["--template", template, "--json"]).args(extra);
    run(c)
}

/// Writes rows (one string per template column, in the template's order) through the example writer, so
/// every fixture is also a round trip of `templates example`.
fn write(path: &Path, template: &str, rows: &[&[&str]]) {
    let t = taalbudget::import::template::find(template).unwrap();
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|s| s.to_string()).collect()).collect();
    std::fs::write(path, taalbudget::import::example::workbook_text(&t, &rows).unwrap()).unwrap();
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn count(ctx: &Ctx, sql: &str) -> i64 {
    let db = ctx.db.clone();
    let sql = sql.to_string();
    block_on(async move {
        let pool = taalbudget::store::connect(&db).await.unwrap();
        let n: i64 = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    })
}

fn counts(r: &Run) -> (u64, u64, u64, u64) {
    (r.n("rows_read"), r.n("rows_imported"), r.n("rows_duplicate"), r.n("rows_rejected"))
}

/// (sheet, row, column, value, message) of the first error.
fn first(r: &Run) -> (String, u64, String, String, String) {
    let e = r.first_error();
    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
    (s("sheet"), e["row"].as_u64().unwrap_or(0), s("column"), s("value"), s("message"))
}

const PROVIDERS: &[&[&str]] = &[
    &[
        "Taalschool Utrecht BV",
        "12345678",
        "Oudegracht 1, Utrecht",
        "Anna de Vries",
        "anna@taalschool.nl",
        "030-1234567",
        "",
    ],
    &["Inburgering Oost", "23456789", "Markt 2, Zwolle", "", "", "", "Alleen Z-route"],
    &["Taalhuis Noord", "34567890", "", "", "", "", ""],
];

fn providers(ctx: &Ctx) -> i64 {
    let file = ctx.path("aanbieders.xlsx");
    write(&file, "standaard-aanbieders", PROVIDERS);
    let r = import(ctx, "providers", &file, "standaard-aanbieders", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    r.json["batch"].as_i64().unwrap()
}

/// 12345678 holds a fixed-term mark for 2021-06-01..2025-05-31; 23456789 one for 2022 only.
fn marks(ctx: &Ctx) -> i64 {
    let file = ctx.path("keurmerken.xlsx");
    write(
        &file,
        "standaard-keurmerken",
        &[
            &["12345678", "voor bepaalde tijd", "01-06-2021", "01-06-2021", "31-05-2025", "", "", "BOW-1", ""],
            &["23456789", "Voor bepaalde tijd", "2022-01-01", "2022-01-01", "2022-12-31", "", "", "BOW-2", ""],
        ],
    );
    let r = import(ctx, "certifications", &file, "standaard-keurmerken", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    r.json["batch"].as_i64().unwrap()
}

fn contracts(ctx: &Ctx) -> i64 {
    let file = ctx.path("contracten.xlsx");
    write(
        &file,
        "standaard-contracten",
        &[
            &[
                "C-2022-01",
                "B1-route Utrecht",
                "12345678",
                "Perceel 1",
                "b1, z",
                "01-01-2022",
                "31-12-2025",
                "1.500.000,00",
                "",
            ],
            &["C-2022-02", "B1-route Oost", "23456789", "", "b1", "01-01-2022", "31-12-2025", "250000", ""],
        ],
    );
    let r = import(ctx, "contracts", &file, "standaard-contracten", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(counts(&r), (2, 2, 0, 0));
    r.json["batch"].as_i64().unwrap()
}

const MOMENTS: &str = "Start 40% bij start; Tussentijds 30% na 12 maanden; Afronding 30% bij afronding";

fn tariffs(ctx: &Ctx) -> i64 {
    let file = ctx.path("tarieven.xlsx");
    write(
        &file,
        "standaard-tarieven",
        &[
            &["C-2022-01", "b1", "01-01-2022", "31-12-2022", "10.000,00", MOMENTS],
            &["C-2022-01", "b1", "01-01-2023", "", "10.500,00", ""],
            &["C-2022-01", "z", "01-01-2022", "", "7.000,00", "Start 50% bij start; Afronding 50% bij afronding"],
            &["C-2022-02", "B1", "01-01-2022", "", "9.000,00", MOMENTS],
        ],
    );
    let r = import(ctx, "contracts", &file, "standaard-tarieven", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(counts(&r), (4, 4, 0, 0));
    r.json["batch"].as_i64().unwrap()
}

/// Register kinds keep their checked rows in memory until the write phase (outside the write lock); a file of
/// more than 100,000 rows is refused at the first row too many, before its records cost more memory.
#[test]
fn a_register_file_of_more_than_100_000_rows_is_refused_and_writes_nothing() {
    let ctx = Ctx::new();
    let file = ctx.path("aanbieders.xlsx");
    let rows: Vec<Vec<String>> = (0..100_001)
        .map(|i| {
            let mut row = vec![String::new(); 7];
            row[0] = format!("Aanbieder {i}");
            row[1] = format!("{}", 10_000_000 + i);
            row
        })
        .collect();
    let t = taalbudget::import::template::find("standaard-aanbieders").unwrap();
    std::fs::write(&file, taalbudget::import::example::workbook_text(&t, &rows).unwrap()).unwrap();
    let r = import(&ctx, "providers", &file, "standaard-aanbieders", &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.json["batch"].is_null());
    // 100,000 providers held for the write phase: measured 64 MB for the whole process.
    assert!(r.peak_kb < 100 * 1024, "peak {} kB", r.peak_kb);
    // Row 1 is the header, so the 100,001st data row is row 100,002.
    let (_, row, column, value, message) = first(&r);
    assert_eq!((row, column.as_str(), value.as_str()), (100_002, "", ""));
    assert_eq!(
        message,
        "het bestand heeft meer dan 100.000 regels; een import van taalaanbieders neemt er ten hoogste 100.000 \
         tegelijk. Splits het bestand en importeer de delen na elkaar"
    );
    assert_eq!(r.n("errors_total"), 1);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM import_batch"), 0);
}

#[test]
fn providers_import_once_and_a_changed_reimport_is_reported_not_applied() {
    let ctx = Ctx::new();
    let file = ctx.path("aanbieders.xlsx");
    write(&file, "standaard-aanbieders", PROVIDERS);
    let r = import(&ctx, "providers", &file, "standaard-aanbieders", &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(counts(&r), (3, 3, 0, 0));
    assert_eq!(r.json["kind"], "providers");
    let batch = r.json["batch"].as_i64().unwrap();
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 3);
    assert_eq!(count(&ctx, &format!("SELECT COUNT(*) FROM provider WHERE batch_id = {batch}")), 3);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log WHERE entity = 'provider' AND action = 'create'"), 3);

    let again = import(&ctx, "providers", &file, "standaard-aanbieders", &[]);
    assert_eq!(again.code, 0);
    assert_eq!(counts(&again), (3, 0, 3, 0));
    assert!(again.json["batch"].is_null());
    assert_eq!(again.json["duplicates"][0]["batch"], batch);
    assert!(again.json["duplicates"][0]["note"].is_null());

    let changed = ctx.path("gewijzigd.xlsx");
    write(
        &changed,
        "standaard-aanbieders",
        &[&[
            "Taalschool Utrecht B.V.",
            "1234 5678",
            "Oudegracht 1, Utrecht",
            "Bert Jansen",
            "anna@taalschool.nl",
            "030-1234567",
            "",
        ]],
    );
    let mut c = ctx.cmd();
    c.args(["import", "providers"]).arg(&changed).args(["--template", "standaard-aanbieders"]);
    let text = run(c);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("wijken af van wat is opgeslagen; die zijn NIET bijgewerkt"), "{}", text.stdout);
    let r = import(&ctx, "providers", &changed, "standaard-aanbieders", &[]);
    assert_eq!(counts(&r), (1, 0, 1, 0));
    assert_eq!(
        r.json["duplicates"][0]["note"],
        "Taalaanbieder met KvK-nummer 12345678 (Taalschool Utrecht BV) bestaat al; afwijkend in het bestand: Naam, \
         Contactpersoon. Niet bijgewerkt: pas dit aan op het scherm als het bestand gelijk heeft"
    );
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider WHERE name = 'Taalschool Utrecht BV'"), 1);
}

#[test]
fn an_invalid_kvk_number_rejects_the_file_and_skip_invalid_keeps_the_good_rows() {
    let ctx = Ctx::new();
    let file = ctx.path("aanbieders.xlsx");
    write(
        &file,
        "standaard-aanbieders",
        &[&["Goed BV", "12345678", "", "", "", "", ""], &["Fout BV", "1234567", "", "", "geen-mail", "", ""]],
    );
    let r = import(&ctx, "providers", &file, "standaard-aanbieders", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (2, 1, 0, 1));
    assert!(r.json["batch"].is_null());
    assert_eq!(
        first(&r),
        (
            "Aanbieders".into(),
            3,
            "E".into(),
            "geen-mail".into(),
            "E-mail: 'geen-mail' is geen geldig e-mailadres (naam@domein.nl).".into()
        )
    );
    assert_eq!(r.messages()[1], "KvK-nummer: Een KvK-nummer bestaat uit precies 8 cijfers; '1234567' is dat niet.");
    assert_eq!(r.json["errors"][1]["column"], "B");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 0);

    let r = import(&ctx, "providers", &file, "standaard-aanbieders", &["--skip-invalid"]);
    assert_eq!(r.code, 1, "rejected rows are never a green success");
    assert_eq!(counts(&r), (2, 1, 0, 1));
    assert!(r.json["batch"].as_i64().is_some());
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 1);
}

#[test]
fn certifications_need_a_known_provider_and_pass_the_mark_rules_against_the_file_too() {
    let ctx = Ctx::new();
    providers(&ctx);
    let file = ctx.path("keurmerken.xlsx");
    write(
        &file,
        "standaard-keurmerken",
        &[
            &["12345678", "voor bepaalde tijd", "01-06-2021", "01-06-2021", "31-05-2025", "", "", "BOW-1", ""],
            &["12345678", "Geschorst", "01-03-2023", "01-03-2023", "", "01-03-2023", "31-05-2023", "", "Klacht"],
            &["23456789", "fixed_term", "01-01-2022", "01-01-2022", "31-12-2022", "", "", "", ""],
            &["23456789", "voor bepaalde tijd", "01-06-2022", "01-06-2022", "31-12-2023", "", "", "", ""],
            &["99999999", "voor onbepaalde tijd", "01-01-2022", "01-01-2022", "", "", "", "", ""],
            &["34567890", "goedgekeurd", "01-01-2022", "01-01-2022", "", "", "", "", ""],
        ],
    );
    let r = import(&ctx, "certifications", &file, "standaard-keurmerken", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (6, 3, 0, 3));
    let m = r.messages();
    assert_eq!(m.len(), 3, "{m:?}");
    assert_eq!((r.json["errors"][0]["row"].as_u64(), r.json["errors"][0]["column"].as_str()), (Some(5), Some("D")));
    assert_eq!(
        m[0],
        "Geldig vanaf: Deze periode overlapt met het keurmerk voor bepaalde tijd van 01-01-2022 tot en met 31-12-2022."
    );
    assert_eq!(
        first_at(&r, 1),
        (
            "Keurmerken".into(),
            6,
            "A".into(),
            "99999999".into(),
            "KvK-nummer: Onbekend KvK-nummer 99999999: importeer eerst de taalaanbieder".into()
        )
    );
    assert!(m[2].starts_with("Status: onbekende status 'goedgekeurd'; gebruik voor bepaalde tijd"), "{}", m[2]);

    let r = import(&ctx, "certifications", &file, "standaard-keurmerken", &["--skip-invalid"]);
    assert_eq!(counts(&r), (6, 3, 0, 3));
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM certification"), 3);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM certification WHERE status = 'suspended'"), 1);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log WHERE entity = 'certification'"), 3);

    let again = import(&ctx, "certifications", &file, "standaard-keurmerken", &["--skip-invalid"]);
    assert_eq!(counts(&again), (6, 0, 3, 3), "{:?}", again.messages());
}

fn first_at(r: &Run, i: usize) -> (String, u64, String, String, String) {
    let e = &r.json["errors"][i];
    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
    (s("sheet"), e["row"].as_u64().unwrap_or(0), s("column"), s("value"), s("message"))
}

#[test]
fn the_certification_preview_shows_the_current_status_next_to_the_new_one() {
    let ctx = Ctx::new();
    providers(&ctx);
    marks(&ctx);
    let file = ctx.path("schorsing.xlsx");
    write(
        &file,
        "standaard-keurmerken",
        &[&["12345678", "ingetrokken", "01-02-2024", "01-02-2024", "", "", "", "", ""]],
    );
    let db = ctx.db.clone();
    let outcome = block_on(async move {
        let pool = taalbudget::store::connect(&db).await.unwrap();
        let t = taalbudget::import::template::find("standaard-keurmerken").unwrap();
        let req = taalbudget::import::ImportRequest {
            path: file.clone(),
            file_name: "schorsing.xlsx".into(),
            template: t,
            actor: "test".into(),
        };
        let opts = taalbudget::import::ImportOptions { dry_run: true, ..Default::default() };
        let o = taalbudget::import::cli::run_kind(&pool, taalbudget::import::Kind::Certifications, req, opts)
            .await
            .unwrap();
        pool.close().await;
        o
    });
    assert_eq!(outcome.preview_headers[2..4], ["Huidige status".to_string(), "Nieuwe status".to_string()]);
    let row = &outcome.preview[0];
    assert_eq!(row[1], "Taalschool Utrecht BV");
    assert!(row[2].starts_with("Voor bepaalde tijd") || row[2].starts_with("Geen geldig keurmerk"), "{row:?}");
    assert_eq!(row[3], "Ingetrokken");
    assert_eq!(outcome.changes.len(), 1);
    assert_eq!((outcome.changes[0].row, outcome.changes[0].duplicate), (2, false));
    assert_eq!(outcome.changes[0].change, "statuswijziging van Voor bepaalde tijd naar Ingetrokken");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM certification"), 2, "a dry run writes nothing");
}

#[test]
fn contracts_and_tariffs_import_with_milestones_and_refuse_bad_rows() {
    let ctx = Ctx::new();
    providers(&ctx);
    marks(&ctx);
    contracts(&ctx);
    let bad = ctx.path("contracten-fout.xlsx");
    write(
        &bad,
        "standaard-contracten",
        &[
            &["C-X", "Onbekend", "99999999", "", "b1", "01-01-2022", "31-12-2025", "1000", ""],
            &["C-Y", "Zonder keurmerk", "34567890", "", "b1", "01-01-2022", "31-12-2025", "1000", ""],
            &[
                "C-2022-01",
                "B1-route Utrecht",
                "12345678",
                "Perceel 1",
                "b1, z",
                "01-01-2022",
                "31-12-2025",
                "1.500.000,00",
                "",
            ],
        ],
    );
    let r = import(&ctx, "contracts", &bad, "standaard-contracten", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (3, 0, 1, 2));
    assert_eq!(
        first(&r),
        (
            "Contracten".into(),
            2,
            "C".into(),
            "99999999".into(),
            "KvK aanbieder: Onbekend KvK-nummer 99999999: importeer eerst de taalaanbieder".into()
        )
    );
    assert_eq!(
        r.messages()[1],
        "KvK aanbieder: Deze aanbieder heeft op de startdatum (01-01-2022) geen geldig Blik op Werk-keurmerk; voor de B1- en Z-route is dat verplicht."
    );

    tariffs(&ctx);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM tariff"), 4);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM payment_milestone"), 3 + 2 + 3);
    assert_eq!(count(&ctx, "SELECT SUM(share_bp) FROM payment_milestone WHERE route = 'z'"), 10_000);
    assert_eq!(
        count(&ctx, "SELECT due_months FROM payment_milestone WHERE name = 'Tussentijds' AND contract_id = 1"),
        12
    );
    let file = ctx.path("tarieven.xlsx");
    let again = import(&ctx, "contracts", &file, "standaard-tarieven", &[]);
    assert_eq!((again.code, counts(&again)), (0, (4, 0, 4, 0)), "{:?}", again.messages());

    let bad = ctx.path("tarieven-fout.xlsx");
    write(
        &bad,
        "standaard-tarieven",
        &[
            &["C-2022-01", "b1", "01-07-2022", "31-12-2022", "10.200,00", ""],
            &["C-2022-02", "z", "01-01-2022", "", "7.000,00", MOMENTS],
            &["C-2022-03", "b1", "01-01-2022", "", "7.000,00", MOMENTS],
            &["C-2022-01", "knm", "01-01-2022", "", "700,00", MOMENTS],
        ],
    );
    let r = import(&ctx, "contracts", &bad, "standaard-tarieven", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (4, 0, 0, 4));
    assert_eq!(
        first(&r),
        (
            "Tarieven".into(),
            2,
            "C".into(),
            "01-07-2022".into(),
            "Geldig vanaf: Deze periode overlapt met het tarief van € 10.000,00 voor de B1-route (01-01-2022 tot en met 31-12-2022).".into()
        )
    );
    let m = r.messages();
    assert_eq!(m[1], "Route: Contract C-2022-02 dekt de Z-route niet.");
    assert_eq!(m[2], "Kenmerk: Onbekend contract met kenmerk C-2022-03: importeer eerst het contract");
    assert_eq!(m[3], "Route: Contract C-2022-01 dekt de Kennis van de Nederlandse Maatschappij (KNM) niet.");

    write(
        &bad,
        "standaard-tarieven",
        &[&["C-2022-02", "b1", "01-01-2030", "", "9.500,00", "Start 40% bij start; Afronding 50% bij afronding"]],
    );
    let r = import(&ctx, "contracts", &bad, "standaard-tarieven", &[]);
    assert_eq!(
        first(&r),
        (
            "Tarieven".into(),
            2,
            "F".into(),
            "Start 40% bij start; Afronding 50% bij afronding".into(),
            "Betaalmomenten: De aandelen tellen op tot 90%; dat moet precies 100% zijn.".into()
        )
    );
    write(
        &bad,
        "standaard-tarieven",
        &[&["C-2022-02", "b1", "01-01-2022", "", "9.000,00", "Start 50% bij start; Afronding 50% bij afronding"]],
    );
    let r = import(&ctx, "contracts", &bad, "standaard-tarieven", &[]);
    assert!(
        r.messages()[0]
            .starts_with("Betaalmomenten: Contract C-2022-02 heeft voor de B1-route al andere betaalmomenten"),
        "{:?}",
        r.messages()
    );
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM tariff"), 4);
}

#[test]
fn placements_import_and_refuse_bsn_dates_outside_the_contract_and_providers_without_a_mark() {
    let ctx = Ctx::new();
    providers(&ctx);
    marks(&ctx);
    contracts(&ctx);
    tariffs(&ctx);
    let file = ctx.path("plaatsingen.xlsx");
    write(
        &file,
        "standaard-plaatsingen",
        &[
            &["K-1001", "wi2021", "C-2022-01", "b1", "01-03-2022", "01-03-2025", "", ""],
            &[
                "K-1002",
                "Wet inburgering 2021",
                "C-2022-01",
                "z",
                "15-09-2023",
                "15-09-2026",
                "Uitgevallen",
                "01-02-2024",
            ],
            &["K-1003", "elip", "C-2022-02", "b1", "01-05-2022", "01-05-2025", "loopt", ""],
        ],
    );
    let r = import(&ctx, "placements", &file, "standaard-plaatsingen", &[]);
    assert_eq!(r.code, 0, "{:?}", r.messages());
    assert_eq!(counts(&r), (3, 3, 0, 0));
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM placement WHERE status = 'dropped_out'"), 1);
    let again = import(&ctx, "placements", &file, "standaard-plaatsingen", &[]);
    assert_eq!((again.code, counts(&again)), (0, (3, 0, 3, 0)));

    let bad = ctx.path("plaatsingen-fout.xlsx");
    write(
        &bad,
        "standaard-plaatsingen",
        &[
            &["123456782", "wi2021", "C-2022-01", "b1", "01-03-2022", "01-03-2025", "", ""],
            &["K-2001", "wi2021", "C-2022-01", "b1", "01-03-2027", "01-03-2029", "", ""],
            &["K-2002", "wi2021", "C-2022-02", "b1", "01-03-2023", "01-03-2026", "", ""],
            &["K-2003", "wi2021", "C-9999", "b1", "01-03-2023", "01-03-2026", "", ""],
            &["K-2004", "wi2021", "C-2022-01", "b1", "01-04-2022", "01-04-2025", "", ""],
        ],
    );
    let r = import(&ctx, "placements", &bad, "standaard-plaatsingen", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (5, 1, 0, 4));
    assert_eq!(
        first(&r),
        (
            "Plaatsingen".into(),
            2,
            "A".into(),
            "123456782".into(),
            format!("Klantnummer: {}", taalbudget::domain::placement::CLIENT_NUMBER_BSN)
        )
    );
    let m = r.messages();
    assert_eq!(first_at(&r, 1).1, 3);
    assert!(m.contains(
        &"Startdatum: De startdatum valt buiten de contractperiode (01-01-2022 tot en met 31-12-2025, opties inbegrepen)."
            .to_string()
    ), "{m:?}");
    assert!(m.contains(&"Contract: De aanbieder van dit contract heeft op 01-03-2023 geen geldig Blik op Werk-keurmerk; plaatsen is dan niet toegestaan.".to_string()), "{m:?}");
    assert!(
        m.contains(&"Contract: Onbekend contract met kenmerk C-9999: importeer eerst het contract".to_string()),
        "{m:?}"
    );
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM placement"), 3);

    let r = import(&ctx, "placements", &bad, "standaard-plaatsingen", &["--skip-invalid"]);
    assert_eq!((r.code, counts(&r)), (1, (5, 1, 0, 4)));
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM placement"), 4);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM placement WHERE client_number = '123456782'"), 0);
}

/// A BSN whose leading zero a number cell dropped (012345672 arrives as the number 12345672) and a BSN inside a
/// client number (K111222333) are refused like a plain one; a client number with digits that are no BSN is not.
#[test]
fn placements_refuse_a_bsn_without_its_leading_zero_in_a_number_cell_and_inside_a_client_number() {
    let ctx = Ctx::new();
    providers(&ctx);
    marks(&ctx);
    contracts(&ctx);
    tariffs(&ctx);
    let file = ctx.path("plaatsingen-bsn.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Plaatsingen").unwrap();
    let header = ["Klantnummer", "Doelgroep", "Contract", "Route", "Startdatum", "Gepland einde", "Status"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, client) in [Some("K111222333"), None, Some("K12345678")].iter().enumerate() {
        let r = r as u32 + 1;
        match client {
            Some(text) => ws.write_string(r, 0, *text).unwrap(),
            None => ws.write_number(r, 0, 12_345_672.0).unwrap(),
        };
        for (c, v) in ["wi2021", "C-2022-01", "b1", "01-03-2022", "01-03-2025", ""].iter().enumerate() {
            ws.write_string(r, c as u16 + 1, *v).unwrap();
        }
    }
    wb.save(&file).unwrap();
    let r = import(&ctx, "placements", &file, "standaard-plaatsingen", &[]);
    assert_eq!((r.code, counts(&r)), (1, (3, 1, 0, 2)), "{:?}", r.messages());
    let message = format!("Klantnummer: {}", taalbudget::domain::placement::CLIENT_NUMBER_BSN);
    assert_eq!(first(&r), ("Plaatsingen".into(), 2, "A".into(), "K111222333".into(), message.clone()));
    assert_eq!(first_at(&r, 1), ("Plaatsingen".into(), 3, "A".into(), "12345672".into(), message));
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM placement"), 0, "a file with errors imports nothing");
}

#[test]
fn undo_removes_exactly_the_batch_and_refuses_while_later_data_uses_it() {
    let ctx = Ctx::new();
    let pb = providers(&ctx);
    let extra = ctx.path("extra.xlsx");
    write(&extra, "standaard-aanbieders", &[&["Los BV", "45678901", "", "", "", "", ""]]);
    let eb = import(&ctx, "providers", &extra, "standaard-aanbieders", &[]).json["batch"].as_i64().unwrap();
    let mb = marks(&ctx);

    let r = ctx.undo(pb);
    assert_eq!(r.code, 2);
    let msg = r.json["errors"][0]["message"].as_str().unwrap().to_string();
    assert_eq!(
        msg,
        format!(
            "importbatch {pb} kan niet ongedaan worden gemaakt: taalaanbieder Taalschool Utrecht BV (KvK 12345678) heeft \
             inmiddels keurmerken, contracten of een crediteurkoppeling. Er is niets veranderd."
        )
    );
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 4);

    let cb = contracts(&ctx);
    let tb = tariffs(&ctx);
    let file = ctx.path("plaatsingen.xlsx");
    write(&file, "standaard-plaatsingen", &[&["K-1", "wi2021", "C-2022-01", "b1", "01-03-2022", "01-03-2025", "", ""]]);
    let plb = import(&ctx, "placements", &file, "standaard-plaatsingen", &[]).json["batch"].as_i64().unwrap();

    let r = ctx.undo(cb);
    assert_eq!(r.code, 2);
    assert!(r.json["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("contract C-2022-01 heeft inmiddels plaatsingen"));
    let r = ctx.undo(tb);
    assert_eq!(r.code, 2);
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("het tarief van contract C-2022-01 voor route b1 vanaf 2022-01-01"),
        "{}",
        r.json
    );

    let audit_before = count(&ctx, "SELECT COUNT(*) FROM audit_log");
    assert_eq!(ctx.undo(plb).code, 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM placement"), 0);
    assert_eq!(ctx.undo(tb).code, 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM tariff"), 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM payment_milestone"), 0);
    assert_eq!(ctx.undo(cb).code, 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM contract"), 0);
    assert_eq!(ctx.undo(mb).code, 0);
    assert_eq!(ctx.undo(eb).code, 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 3, "only the provider of the undone batch is gone");
    assert_eq!(ctx.undo(pb).code, 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 0);
    // 1 placement + 4 tariffs + 8 milestones + 2 contracts + 2 marks + 1 + 3 providers deleted, plus 6 batch undos.
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log") - audit_before, 21 + 6);
    let r = ctx.undo(pb);
    assert_eq!(r.code, 2, "a batch is undone once");

    // After the undo the same file imports again.
    providers(&ctx);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM provider"), 3);
}

fn stream(ctx: &Ctx) {
    let db = ctx.db.clone();
    block_on(async move {
        use taalbudget::domain::funding::{FundingStream, StreamKind};
        let pool = taalbudget::store::connect(&db).await.unwrap();
        let s = FundingStream {
            id: 0,
            code: "SPUK".into(),
            name: "SPUK inburgering".into(),
            kind: StreamKind::parse("specific_grant").unwrap(),
            cohorts: vec![],
            spend_from: date(2022, 1, 1),
            spend_until: Some(date(2026, 12, 31)),
            carry_over: false,
            notes: String::new(),
        };
        taalbudget::store::funding::create_stream(&pool, &s, "test").await.unwrap();
        pool.close().await;
    });
}

#[test]
fn funding_imports_allocations_and_budget_lines_and_refuses_closed_years() {
    let ctx = Ctx::new();
    stream(&ctx);
    let file = ctx.path("financiering.xlsx");
    write(
        &file,
        "standaard-financiering",
        &[
            &["SPUK", "2022", "voorschot", "1.200.000,00", "SPUK-2022-01", "15-01-2022", ""],
            &["SPUK", "2022", "Vaststelling", "1.150.000,00", "Vaststelling 2022", "15-05-2023", ""],
            &["SPUK", "2023", "correctie", "-25.000,00", "Meicirculaire 2023", "01-06-2023", ""],
            &["SPUK", "2023", "begrotingspost", "800.000,00", "", "", "Taalonderwijs B1"],
            &["SPUK", "2024", "begrotingspost", "850.000,00", "", "", "Taalonderwijs B1"],
        ],
    );
    let r = import(&ctx, "funding", &file, "standaard-financiering", &[]);
    assert_eq!(r.code, 0, "{:?}", r.messages());
    assert_eq!(counts(&r), (5, 5, 0, 0));
    let batch = r.json["batch"].as_i64().unwrap();
    assert_eq!(count(&ctx, &format!("SELECT COUNT(*) FROM allocation WHERE batch_id = {batch}")), 3);
    assert_eq!(count(&ctx, "SELECT SUM(amount_cents) FROM allocation"), 232_500_000);
    assert_eq!(count(&ctx, "SELECT SUM(amount_cents) FROM budget_line"), 165_000_000);
    let again = import(&ctx, "funding", &file, "standaard-financiering", &[]);
    assert_eq!((again.code, counts(&again)), (0, (5, 0, 5, 0)));

    let bad = ctx.path("financiering-fout.xlsx");
    write(
        &bad,
        "standaard-financiering",
        &[
            &["SPUK", "2030", "voorschot", "100.000,00", "SPUK-2030", "15-01-2030", ""],
            &["SPUK", "2025", "begrotingspost", "-5.000,00", "", "", "Begeleiding"],
            &["ELIP", "2025", "voorschot", "100,00", "X", "01-01-2025", ""],
            &["SPUK", "2025", "subsidie", "100,00", "X", "01-01-2025", ""],
            &["SPUK", "2025", "voorschot", "-100,00", "X", "01-01-2025", ""],
            &["SPUK", "2025", "begrotingspost", "5.000,00", "", "", "Begeleiding"],
        ],
    );
    let r = import(&ctx, "funding", &bad, "standaard-financiering", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (6, 1, 0, 5));
    assert_eq!(
        first(&r),
        (
            "Financiering".into(),
            2,
            "B".into(),
            "2030".into(),
            "Jaar: 2030 valt buiten de bestedingsperiode van SPUK (01-01-2022 tot en met 31-12-2026).".into()
        )
    );
    let m = r.messages();
    assert_eq!(first_at(&r, 1).2, "D");
    assert_eq!(m[1], "Bedrag: Een begrotingspost kan niet negatief zijn.");
    assert_eq!(m[2], "Bron: Onbekende financieringsbron 'ELIP': leg de bron eerst vast");
    assert_eq!(m[3], "Soort: onbekende soort 'subsidie'; gebruik voorschot, vaststelling, correctie of begrotingspost");
    assert_eq!(m[4], "Bedrag: Alleen een correctie kan negatief zijn.");

    // A row in a closed year is a row error on Jaar, in the preview and in the import alike; without
    // --skip-invalid nothing is written, not even the rows of open years. Closing 2025 closes 2024 too, so a 2024
    // row is refused as well (it used to pass the import's own check and end as "databasefout").
    let db = ctx.db.clone();
    block_on(async move {
        let pool = taalbudget::store::connect(&db).await.unwrap();
        taalbudget::store::funding::close_year(&pool, 2025, "test").await.unwrap();
        pool.close().await;
    });
    let closed = ctx.path("gesloten.xlsx");
    write(
        &closed,
        "standaard-financiering",
        &[
            &["SPUK", "2026", "voorschot", "100.000,00", "SPUK-2026", "15-01-2026", ""],
            &["SPUK", "2025", "begrotingspost", "5.000,00", "", "", "Begeleiding"],
            &["SPUK", "2024", "correctie", "-1.000,00", "Decembercirculaire 2024", "15-12-2024", ""],
        ],
    );
    let before = count(&ctx, "SELECT COUNT(*) FROM audit_log");
    let in_2025 = (
        "Financiering".to_string(),
        3,
        "B".to_string(),
        "2025".to_string(),
        "Jaar: 2025 is afgesloten. Vraag een beheerder het jaar te heropenen of laat deze regel weg.".to_string(),
    );
    let in_2024 = (
        "Financiering".to_string(),
        4,
        "B".to_string(),
        "2024".to_string(),
        "Jaar: 2024 is afgesloten, want 2025 is afgesloten en daarmee elk jaar ervoor. Vraag een beheerder het jaar \
         te heropenen of laat deze regel weg."
            .to_string(),
    );
    for extra in [&["--dry-run"][..], &[]] {
        let r = import(&ctx, "funding", &closed, "standaard-financiering", extra);
        assert_eq!(r.code, 1, "{extra:?}: {:?}", r.messages());
        assert!(r.json["batch"].is_null());
        assert_eq!(counts(&r), (3, 1, 0, 2), "{extra:?}");
        assert_eq!((first_at(&r, 0), first_at(&r, 1)), (in_2025.clone(), in_2024.clone()), "{extra:?}");
        assert_eq!(r.messages().len(), 2, "{extra:?}");
    }
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM allocation"), 3);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log"), before);
    // With --skip-invalid the 2026 row goes in and the closed years stay as they were.
    let r = import(&ctx, "funding", &closed, "standaard-financiering", &["--skip-invalid"]);
    assert_eq!((r.code, counts(&r)), (1, (3, 1, 0, 2)), "{:?}", r.messages());
    assert!(r.json["batch"].is_i64());
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM allocation"), 4);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM allocation WHERE year <= 2025"), 3);
}

#[test]
fn every_register_template_writes_an_example_that_reads_back() {
    let ctx = Ctx::new();
    for (name, sheet, first_header) in [
        ("standaard-aanbieders", "Aanbieders", "Naam"),
        ("standaard-keurmerken", "Keurmerken", "KvK-nummer"),
        ("standaard-contracten", "Contracten", "Kenmerk"),
        ("standaard-tarieven", "Tarieven", "Kenmerk"),
        ("standaard-plaatsingen", "Plaatsingen", "Klantnummer"),
        ("standaard-financiering", "Financiering", "Bron"),
        ("standaard-resultaten", "Resultaten", "KvK-nummer"),
        ("standaard-voortgang", "Voortgang", "KvK-nummer"),
    ] {
        let out = ctx.path(&format!("{name}.xlsx"));
        let mut c = ctx.cmd();
        c.args(["templates", "example", name, "--out"]).arg(&out);
        let r = run(c);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto(&out).unwrap();
        assert_eq!(wb.sheet_names()[0], sheet);
        let range = wb.worksheet_range(sheet).unwrap();
        let t = taalbudget::import::template::find(name).unwrap();
        let headers: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        let expected: Vec<String> = t.columns.iter().map(|c| c.column.header.clone().unwrap()).collect();
        assert_eq!(headers, expected, "{name}");
        assert_eq!(headers[0], first_header);
        // The empty example is understood: the header is found, and there is nothing to import.
        let kind = t.template.kind.as_str();
        let r = import(&ctx, kind, &out, name, &[]);
        assert_eq!(r.code, 1, "{name}");
        assert!(r.messages()[0].contains("staan geen gegevensregels"), "{name}: {:?}", r.messages());
    }
    let mut c = ctx.cmd();
    c.args(["templates", "list"]);
    let r = run(c);
    for name in [
        "standaard-aanbieders",
        "standaard-keurmerken",
        "standaard-tarieven",
        "standaard-financiering",
        "standaard-voortgang",
    ] {
        assert!(r.stdout.contains(name), "{}", r.stdout);
    }
}

// ---------------------------------------------------------------------------------------------
// Results per measurement year (standaard-resultaten)

/// One results row in the template's column order: KvK, year, route, started, completed, dropped out, pass rates
/// lezen/luisteren/schrijven/spreken/KNM, satisfaction, NT2 share, group size.
const RESULTS: &[&[&str]] = &[
    &["12345678", "2024", "b1", "40", "30", "5", "80", "85", "75", "90", "", "7,5", "85", "14"],
    &["12345678", "2025", "B1-route", "42", "20", "3", "82,5", "", "", "", "", "8", "90", "15"],
    &["23456789", "2024", "Z", "20", "10", "2", "", "", "", "", "", "", "78", "12"],
];

fn results(ctx: &Ctx) -> i64 {
    let file = ctx.path("resultaten.xlsx");
    write(&file, "standaard-resultaten", RESULTS);
    let r = import(ctx, "results", &file, "standaard-resultaten", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(counts(&r), (3, 3, 0, 0));
    r.json["batch"].as_i64().unwrap()
}

#[test]
fn results_import_once_and_a_reimport_adds_nothing() {
    let ctx = Ctx::new();
    providers(&ctx);
    let batch = results(&ctx);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM quality_result"), 3);
    assert_eq!(count(&ctx, &format!("SELECT COUNT(*) FROM quality_result WHERE batch_id = {batch}")), 3);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log WHERE entity = 'quality_result' AND action = 'create'"), 3);
    // Stored exactly: hundredths for percentages and scores, the route by its code.
    assert_eq!(
        count(
            &ctx,
            "SELECT COUNT(*) FROM quality_result r JOIN provider p ON p.id = r.provider_id WHERE p.kvk = '12345678'
             AND r.year = 2025 AND r.route = 'b1' AND r.started = 42 AND r.completed = 20 AND r.dropped_out = 3
             AND r.pass_lezen = 8250 AND r.pass_luisteren IS NULL AND r.satisfaction = 800 AND r.nt2_share = 9000
             AND r.group_size = 1500"
        ),
        1
    );

    let file = ctx.path("resultaten.xlsx");
    let again = import(&ctx, "results", &file, "standaard-resultaten", &[]);
    assert_eq!(again.code, 0);
    assert_eq!(counts(&again), (3, 0, 3, 0));
    assert!(again.json["batch"].is_null());
    assert_eq!(again.json["duplicates"][0]["batch"], batch);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM quality_result"), 3);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM import_batch WHERE kind = 'results'"), 1);
}

#[test]
fn results_that_differ_from_stored_ones_are_a_conflict_and_never_overwrite() {
    let ctx = Ctx::new();
    providers(&ctx);
    results(&ctx);
    let changed = ctx.path("gecorrigeerd.xlsx");
    write(
        &changed,
        "standaard-resultaten",
        &[
            &["12345678", "2024", "b1", "42", "30", "5", "82", "85", "75", "90", "", "7,5", "85", "14"],
            &["34567890", "2024", "b1", "12", "6", "1", "", "", "", "", "", "", "", ""],
        ],
    );
    let r = import(&ctx, "results", &changed, "standaard-resultaten", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (2, 1, 0, 1));
    assert!(r.json["batch"].is_null(), "nothing is written while a row conflicts");
    assert_eq!(
        first(&r),
        (
            "Resultaten".into(),
            2,
            "D".into(),
            "42".into(),
            "Gestart: voor Taalschool Utrecht BV, B1, meetjaar 2024 zijn al andere resultaten vastgelegd (gestart 40 → \
             42; geslaagd lezen 80 → 82). Niet overschreven: pas ze aan op het kwaliteitsscherm van de aanbieder, of \
             maak de eerdere importbatch ongedaan en importeer opnieuw"
                .into()
        )
    );
    // Only the new row goes in with --skip-invalid; the stored figures stay as they were.
    let r = import(&ctx, "results", &changed, "standaard-resultaten", &["--skip-invalid"]);
    assert_eq!(counts(&r), (2, 1, 0, 1));
    assert!(r.json["batch"].as_i64().is_some());
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM quality_result"), 4);
    assert_eq!(
        count(&ctx, "SELECT started FROM quality_result WHERE year = 2024 AND route = 'b1' AND pass_lezen = 8000"),
        40
    );
}

#[test]
fn bad_results_rows_name_sheet_row_column_and_value() {
    let ctx = Ctx::new();
    providers(&ctx);
    let file = ctx.path("fout.xlsx");
    write(
        &file,
        "standaard-resultaten",
        &[
            &["12345678", "2024", "b1", "10", "12", "0", "", "", "", "", "", "", "", ""],
            &["12345678", "2023", "z", "10", "5", "1", "101", "", "", "", "", "", "", ""],
            &["99999999", "2024", "b1", "10", "5", "1", "", "", "", "", "", "", "", ""],
            &["23456789", "2024", "c2", "10", "5", "1", "", "", "", "", "", "", "", ""],
            &["23456789", "2023", "b1", "10", "5", "1", "", "", "", "", "", "", "0,805", ""],
            &["23456789", "2022", "b1", "10", "5", "1", "", "", "", "", "", "11", "", ""],
            &["34567890", "2024", "b1", "10", "5", "1", "", "", "", "", "", "", "", ""],
        ],
    );
    let r = import(&ctx, "results", &file, "standaard-resultaten", &[]);
    assert_eq!(r.code, 1);
    assert_eq!(counts(&r), (7, 1, 0, 6));
    let all: Vec<_> = (0..6).map(|i| first_at(&r, i)).collect();
    let e = |row: u64, col: &str, value: &str, message: &str| {
        ("Resultaten".to_string(), row, col.to_string(), value.to_string(), message.to_string())
    };
    assert_eq!(
        all,
        vec![
            e(2, "E", "12", "Afgerond: Er zijn meer deelnemers afgerond (12) dan gestart (10); dat kan niet."),
            e(3, "G", "101", "Geslaagd lezen %: Slagingspercentage lezen ligt tussen 0% en 100%; '101' niet."),
            e(4, "A", "99999999", "KvK-nummer: Onbekend KvK-nummer 99999999: importeer eerst de taalaanbieder"),
            e(5, "C", "c2", "Route: onbekende route 'c2'; gebruik b1, z, education, map, knm of alfa"),
            e(
                6,
                "M",
                "0,805",
                "Lessen door NT2-docenten %: '0,805' lijkt een cel met percentage-opmaak (80,5% staat dan als 0,805 in \
                 de cel); schrijf het percentage als getal van 0 tot en met 100"
            ),
            e(7, "L", "11", "Tevredenheid: Tevredenheid ligt tussen 1 en 10; '11' niet."),
        ]
    );
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM quality_result"), 0, "a file with errors writes nothing");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM import_batch"), 1, "only the providers batch");

    let twice = ctx.path("dubbel.xlsx");
    write(&twice, "standaard-resultaten", &[RESULTS[0], RESULTS[0]]);
    let r = import(&ctx, "results", &twice, "standaard-resultaten", &[]);
    assert_eq!(counts(&r), (2, 1, 0, 1));
    assert_eq!(
        r.messages(),
        vec!["KvK-nummer: dezelfde sleutel (KvK-nummer + Meetjaar + Route) staat ook op rij 2".to_string()]
    );
}

#[test]
fn undoing_a_results_batch_removes_its_rows_unless_they_were_changed_on_screen() {
    let ctx = Ctx::new();
    providers(&ctx);
    let batch = results(&ctx);
    let audit_before = count(&ctx, "SELECT COUNT(*) FROM audit_log");
    let r = ctx.undo(batch);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json["lines_removed"], 3);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM quality_result"), 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log") - audit_before, 3 + 1, "3 deletions and the undo");

    // Imported again, then one row corrected on the screen: undo refuses and changes nothing.
    let batch = results(&ctx);
    let db = ctx.db.clone();
    block_on(async move {
        let pool = taalbudget::store::connect(&db).await.unwrap();
        let mut all = taalbudget::store::quality::results(&pool, None).await.unwrap();
        let mut first = all.remove(0);
        first.result.started += 1;
        taalbudget::store::quality::save_result(&pool, first.provider_id, &first.result, "test").await.unwrap();
        pool.close().await;
    });
    let r = ctx.undo(batch);
    assert_eq!(r.code, 2);
    let msg = r.json["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("zijn na de import op het scherm gewijzigd"), "{msg}");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM quality_result"), 3);
}

/// Providers, marks, contracts, tariffs and three placements: K-1001 (C-2022-01, B1, from 01-03-2022) and K-1002
/// (C-2022-01, Z) at 12345678; K-1003 (C-2022-02, B1, from 01-05-2022) at 23456789.
fn progress_setup(ctx: &Ctx) {
    providers(ctx);
    marks(ctx);
    contracts(ctx);
    tariffs(ctx);
    let file = ctx.path("plaatsingen.xlsx");
    write(
        &file,
        "standaard-plaatsingen",
        &[
            &["K-1001", "wi2021", "C-2022-01", "b1", "01-03-2022", "01-03-2025", "", "", "01-02-2022"],
            &["K-1002", "wi2021", "C-2022-01", "z", "01-04-2022", "01-04-2025", "", "", ""],
            &["K-1003", "elip", "C-2022-02", "b1", "01-05-2022", "01-05-2025", "", "", ""],
        ],
    );
    let r = import(ctx, "placements", &file, "standaard-plaatsingen", &[]);
    assert_eq!((r.code, counts(&r)), (0, (3, 3, 0, 0)), "{:?}", r.messages());
    assert_eq!(count(ctx, "SELECT COUNT(*) FROM placement WHERE pip_date = '2022-02-01'"), 1);
}

// KvK, client, route, period, first lesson, offered, attended, absence, reason, catch-up, 4 levels, exams, remarks.
const REPORTS: &[&[&str]] = &[
    &[
        "12345678",
        "K-1001",
        "",
        "2022-03",
        "01-03-2022",
        "40",
        "36",
        "4",
        "ziekte",
        "",
        "A1",
        "",
        "",
        "",
        "lezen 28-03-2022 gezakt",
        "",
    ],
    &[
        "12345678",
        "K-1001",
        "b1",
        "2022-04",
        "",
        "40",
        "30,5",
        "9,5",
        "verwijtbaar",
        "2",
        "A2",
        "",
        "",
        "",
        "",
        "te laat",
    ],
    &["23456789", "K-1003", "", "2022-K3", "", "120", "110", "", "", "", "", "", "", "", "", ""],
];

#[test]
fn progress_reports_import_once_a_reimport_adds_nothing_and_undo_removes_them() {
    let ctx = Ctx::new();
    progress_setup(&ctx);
    let file = ctx.path("voortgang.xlsx");
    write(&file, "standaard-voortgang", REPORTS);
    let dry = import(&ctx, "progress", &file, "standaard-voortgang", &["--dry-run"]);
    assert_eq!((dry.code, counts(&dry)), (0, (3, 3, 0, 0)), "{:?}", dry.messages());
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM progress_report"), 0);
    let r = import(&ctx, "progress", &file, "standaard-voortgang", &[]);
    assert_eq!((r.code, counts(&r)), (0, (3, 3, 0, 0)), "{:?}", r.messages());
    assert_eq!(r.json["kind"], "progress");
    let batch = r.json["batch"].as_i64().unwrap();
    assert_eq!(count(&ctx, &format!("SELECT COUNT(*) FROM progress_report WHERE batch_id = {batch}")), 3);
    assert_eq!(count(&ctx, "SELECT attended_x100 FROM progress_report WHERE period = '2022-04'"), 3050);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM exam_attempt WHERE part = 'reading' AND passed = 0"), 1);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log WHERE entity = 'progress_report' AND action = 'create'"), 3);

    let again = import(&ctx, "progress", &file, "standaard-voortgang", &[]);
    assert_eq!((again.code, counts(&again)), (0, (3, 0, 3, 0)));
    assert_eq!(again.json["duplicates"][0]["batch"], batch);

    let u = ctx.undo(batch);
    assert_eq!(u.code, 0, "{}{}", u.stdout, u.stderr);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM progress_report"), 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM exam_attempt"), 0);
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM audit_log WHERE entity = 'progress_report' AND action = 'delete'"), 3);
}

#[test]
fn conflicting_progress_reports_are_shown_and_never_merged() {
    let ctx = Ctx::new();
    progress_setup(&ctx);
    let file = ctx.path("voortgang.xlsx");
    write(&file, "standaard-voortgang", REPORTS);
    assert_eq!(import(&ctx, "progress", &file, "standaard-voortgang", &[]).code, 0);

    // The same placement and period with other figures than stored: a conflict, nothing changes.
    let changed = ctx.path("gewijzigd.xlsx");
    write(
        &changed,
        "standaard-voortgang",
        &[&[
            "12345678",
            "K-1001",
            "",
            "2022-03",
            "01-03-2022",
            "40",
            "35",
            "4",
            "ziekte",
            "",
            "A1",
            "",
            "",
            "",
            "lezen 28-03-2022 gezakt",
            "",
        ]],
    );
    for extra in [&[][..], &["--skip-invalid"][..]] {
        let r = import(&ctx, "progress", &changed, "standaard-voortgang", extra);
        assert_eq!((r.code, counts(&r)), (1, (1, 0, 0, 1)));
        assert!(r.json["batch"].is_null());
        let (_, row, column, _, message) = first(&r);
        assert_eq!((row, column.as_str()), (2, "D"));
        assert!(message.starts_with("Periode: Conflict: voor klant K-1001 is over maart 2022 al een rapportage opgeslagen met andere cijfers (uren aanwezig)"), "{message}");
        assert!(
            message.ends_with("maak de eerdere import ongedaan als dit bestand de juiste cijfers heeft"),
            "{message}"
        );
    }
    assert_eq!(count(&ctx, "SELECT attended_x100 FROM progress_report WHERE period = '2022-03'"), 3600);

    // Two rows in one file for the same placement and period: the second is a conflict, and even with
    // --skip-invalid the first is not imported on its own.
    let twice = ctx.path("dubbel.xlsx");
    write(
        &twice,
        "standaard-voortgang",
        &[
            &["12345678", "K-1001", "", "2022-05", "", "40", "40", "", "", "", "", "", "", "", "", ""],
            &["12345678", "K-1002", "", "2022-05", "", "20", "20", "", "", "", "", "", "", "", "", ""],
            &["12345678", "K-1001", "", "2022-05", "", "40", "38", "2", "afspraak", "", "", "", "", "", "", ""],
        ],
    );
    let dry = import(&ctx, "progress", &twice, "standaard-voortgang", &["--dry-run"]);
    assert!(
        dry.messages()[0].contains("tegenstrijdige rapportages voor dezelfde plaatsing en periode (rij 2 en rij 4)"),
        "{:?}",
        dry.messages()
    );
    let r = import(&ctx, "progress", &twice, "standaard-voortgang", &["--skip-invalid"]);
    assert_eq!(r.code, 1);
    assert!(r.json["batch"].is_null());
    let m = r.messages();
    assert!(m.iter().any(|m| m.contains("Conflict met rij 2: dezelfde klant en periode met andere cijfers (uren aanwezig, uren verzuim, reden verzuim)")), "{m:?}");
    assert!(m[0].contains("er is niets geïmporteerd"), "{m:?}");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM progress_report WHERE period = '2022-05'"), 0);
}

#[test]
fn bad_progress_rows_get_a_dutch_message_and_nothing_is_saved() {
    let ctx = Ctx::new();
    progress_setup(&ctx);
    let bad = ctx.path("fout.xlsx");
    write(
        &bad,
        "standaard-voortgang",
        &[
            &["12345678", "K-1001", "", "2022-06", "", "40", "41", "", "", "", "", "", "", "", "", ""],
            &["12345678", "K-1001", "", "2022-07", "", "-4", "0", "", "", "", "", "", "", "", "", ""],
            &["12345678", "K-1001", "", "2022-02", "", "40", "30", "", "", "", "", "", "", "", "", ""],
            &[
                "12345678",
                "K-1001",
                "",
                "2022-08",
                "",
                "40",
                "30",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "rekenen 10-08-2022 geslaagd",
                "",
            ],
            &["12345678", "K-9999", "", "2022-08", "", "40", "30", "", "", "", "", "", "", "", "", ""],
            &["23456789", "K-1001", "", "2022-08", "", "40", "30", "", "", "", "", "", "", "", "", ""],
            &["12345678", "K-1001", "", "2022-09", "", "40", "30", "", "", "", "", "", "", "", "", ""],
        ],
    );
    let r = import(&ctx, "progress", &bad, "standaard-voortgang", &[]);
    assert_eq!((r.code, counts(&r)), (1, (7, 1, 0, 6)), "{:?}", r.messages());
    assert!(r.json["batch"].is_null());
    let m = r.messages();
    let has = |s: &str| assert!(m.iter().any(|m| m.contains(s)), "{s} not in {m:?}");
    has("Uren aanwezig: Er zijn meer uren aanwezig (41) dan aangeboden (40); dat kan niet.");
    has("Uren aangeboden: Uren aangeboden: een aantal uren kan niet negatief zijn (-4.00).");
    has("Periode: De periode februari 2022 ligt vóór de start van de plaatsing (01-03-2022).");
    has("Examens: Examens: onbekend examenonderdeel 'rekenen'");
    has("Klantnummer: Onbekend klantnummer K-9999: er is geen plaatsing met dit klantnummer");
    has("Klantnummer: Klant K-1001 heeft geen plaatsing bij Inburgering Oost, maar bij Taalschool Utrecht BV");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM progress_report"), 0);
}

// ---------------------------------------------------------------------------------------------
// Every shipped template: its explanation sheet tells the truth, and its filled example imports.

/// The shipped templates in an order in which their filled examples can be imported one after the other.
const TEMPLATES_IN_ORDER: [&str; 14] = [
    "standaard-grootboek",
    "grootboek-debet-credit",
    "grootboek-csv-1252",
    "standaard-aanbieders",
    "standaard-keurmerken",
    "standaard-contracten",
    "standaard-tarieven",
    "standaard-plaatsingen",
    "standaard-financiering",
    "standaard-resultaten",
    "standaard-voortgang",
    "standaard-bronnen",
    "standaard-regels",
    "standaard-instroom",
];

/// (column, "Verplicht") of each row of the explanation sheet of an xlsx example.
fn explanation(file: &Path) -> Vec<(String, String)> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(file).unwrap();
    let range = wb.worksheet_range(taalbudget::import::example::EXPLANATION_SHEET).unwrap();
    let mut rows = range.rows();
    let head: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(head, taalbudget::import::example::EXPLANATION_HEADERS);
    rows.take_while(|r| !r[1].to_string().is_empty()).map(|r| (r[0].to_string(), r[2].to_string())).collect()
}

fn example_file(ctx: &Ctx, name: &str, ext: &str) -> std::path::PathBuf {
    let out = ctx.path(&format!("{name}-ingevuld.{ext}"));
    let mut c = ctx.cmd();
    c.args(["templates", "example", name, "--filled", "--out"]).arg(&out);
    let r = run(c);
    assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    out
}

#[test]
fn every_template_explains_its_required_columns_truthfully_and_its_filled_example_imports() {
    use taalbudget::import::Requirement;
    let mut shipped: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/import-templates"))
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
        .collect();
    shipped.sort();
    let mut ordered: Vec<String> = TEMPLATES_IN_ORDER.iter().map(|s| s.to_string()).collect();
    ordered.sort();
    assert_eq!(shipped, ordered, "every shipped template is in the test");

    let ctx = Ctx::new();
    stream(&ctx);
    for name in TEMPLATES_IN_ORDER {
        let t = taalbudget::import::template::find(name).unwrap();
        let kind = t.template.kind.as_str();
        let xlsx = example_file(&ctx, name, "xlsx");
        let expected: Vec<(String, String)> =
            t.columns.iter().map(|c| (c.column.header.clone().unwrap(), t.requirement(c).label())).collect();
        assert_eq!(explanation(&xlsx), expected, "{name}");

        let file = if t.is_csv() { example_file(&ctx, name, "csv") } else { xlsx };
        let rows = taalbudget::import::example::sample_rows(&t);
        let dry = import(&ctx, kind, &file, name, &["--dry-run"]);
        assert_eq!((dry.code, dry.messages()), (0, vec![]), "{name}");
        assert_eq!(counts(&dry), (rows.len() as u64, rows.len() as u64, 0, 0), "{name}");

        // What "Verplicht" says is what the import does: without a column's values, a row is refused ("ja"),
        // some rows are ("ja, bij ..."), or none is ("nee").
        if !t.is_csv() {
            for (i, c) in t.columns.iter().enumerate() {
                let header = c.column.header.clone().unwrap();
                let blanked: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        r.iter().enumerate().map(|(j, v)| if j == i { String::new() } else { v.clone() }).collect()
                    })
                    .collect();
                let refs: Vec<Vec<&str>> = blanked.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
                let refs: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
                let without = ctx.path(&format!("{name}-zonder-{i}.xlsx"));
                write(&without, name, &refs);
                let r = import(&ctx, kind, &without, name, &["--dry-run"]);
                let on_column: Vec<String> = r.json["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["message"].as_str().unwrap().starts_with(&format!("{header}:")))
                    .map(|e| e["message"].as_str().unwrap().to_string())
                    .collect();
                match t.requirement(c) {
                    Requirement::Always => {
                        assert_eq!(r.n("rows_rejected"), rows.len() as u64, "{name}, {header}: {:?}", r.messages());
                        assert_eq!(on_column.len(), rows.len(), "{name}, {header}: {:?}", r.messages());
                    }
                    Requirement::When(_) => {
                        assert!(r.n("rows_rejected") > 0, "{name}, {header}: {:?}", r.messages());
                        // The message may sit on the column's partner (Debet en Credit), but names this one.
                        assert!(
                            r.messages().iter().any(|m| m.contains(&header)),
                            "{name}, {header}: {:?}",
                            r.messages()
                        );
                    }
                    Requirement::Never => {
                        assert_eq!((r.code, r.messages()), (0, vec![]), "{name}, {header} may be empty");
                    }
                }
            }
        }
        let r = import(&ctx, kind, &file, name, &[]);
        assert_eq!(
            (r.code, counts(&r)),
            (0, (rows.len() as u64, rows.len() as u64, 0, 0)),
            "{name}: {:?}",
            r.messages()
        );
    }
    // The funding template's sheet, as a user reads it.
    let t = taalbudget::import::template::find("standaard-financiering").unwrap();
    let xlsx = example_file(&ctx, "standaard-financiering", "xlsx");
    let said: Vec<(String, String)> = explanation(&xlsx);
    assert_eq!(
        said,
        [
            ("Bron", "ja"),
            ("Jaar", "ja"),
            ("Soort", "ja"),
            ("Bedrag", "ja"),
            ("Kenmerk", "ja, bij een voorschot, vaststelling of correctie"),
            ("Datum", "ja, bij een voorschot, vaststelling of correctie"),
            ("Categorie", "ja, bij een begrotingspost"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(t.columns.len(), 7);
}
