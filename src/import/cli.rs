//! The `import` and `templates` commands: argument checks, output as Dutch text or one JSON object, exit codes
//! 0 (done, also when nothing was new), 1 (validation errors) and 2 (unreadable file or bad usage).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::engine::{ImportError, ImportOptions, ImportRequest};
use super::template::{self, CheckedTemplate};
use super::{example, ledger, Kind, RowError, Summary};
use crate::money::Money;
use crate::store;

pub const EXIT_OK: u8 = 0;
pub const EXIT_INVALID: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Test hook: seconds to sleep inside the import transaction just before COMMIT (only the CLI reads it).
pub const PAUSE_ENV: &str = "TAALBUDGET_TEST_PAUSE_BEFORE_COMMIT";

pub struct ImportArgs {
    pub kind: String,
    pub file: Option<String>,
    pub template: Option<String>,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub json: bool,
    /// The `read_memory_mb` setting.
    pub read_budget: super::source::ReadBudget,
    /// The `four_eyes_imports` setting.
    pub four_eyes: bool,
}

fn actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "onbekend".into());
    format!("cli:{user}")
}

fn usage(json: bool, message: &str) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({ "batch": null, "errors": [{ "sheet": null, "row": null, "column": null, "value": null, "message": message }] })
        );
    } else {
        eprintln!("fout: {message}");
    }
    ExitCode::from(EXIT_USAGE)
}

/// `taalbudget import KIND FILE --template NAME [...]` and `taalbudget import undo BATCH`.
pub async fn import(db_path: &Path, args: ImportArgs) -> ExitCode {
    if args.kind == "undo" {
        let Some(id) = args.file.as_deref().and_then(|b| b.trim().parse::<i64>().ok()) else {
            return usage(args.json, "gebruik: taalbudget import undo BATCHNUMMER");
        };
        return undo(db_path, id, args.json).await;
    }
    if args.kind == Kind::Setup.as_str() {
        return import_setup(db_path, &args).await;
    }
    let Some(kind) = Kind::parse(&args.kind) else {
        return usage(
            args.json,
            &format!(
                "onbekende soort '{}'; kies uit: {} (of 'undo')",
                args.kind,
                Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ),
        );
    };
    if !kind.supported() {
        return usage(
            args.json,
            &format!("importeren van {} ({}) wordt niet ondersteund", kind.label(), kind.as_str()),
        );
    }
    let Some(file) = args.file.as_deref() else {
        return usage(
            args.json,
            &format!("geef het bestand op: taalbudget import {} BESTAND --template NAAM", kind.as_str()),
        );
    };
    let Some(template_name) = args.template.as_deref() else {
        return usage(args.json, "geef het sjabloon op met --template NAAM (zie: taalbudget templates list)");
    };
    let template = match template::find(template_name) {
        Ok(t) if t.template.kind == kind => t,
        Ok(t) => {
            return usage(
                args.json,
                &format!("sjabloon {} is voor {}, niet voor {}", t.name(), t.template.kind.as_str(), kind.as_str()),
            )
        }
        Err(e) => return usage(args.json, &e),
    };
    let path = PathBuf::from(file);
    if !path.is_file() {
        return usage(args.json, &format!("bestand {file} bestaat niet of is geen bestand"));
    }
    let db = match store::connect(db_path).await {
        Ok(db) => db,
        Err(e) => return usage(args.json, &format!("{e:#}")),
    };
    let pause = std::env::var(PAUSE_ENV).ok().and_then(|s| s.parse::<u64>().ok()).map(Duration::from_secs);
    let opts = ImportOptions {
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        pause_before_commit: pause,
        gate_before_write: None,
        progress: None,
        read_budget: args.read_budget,
        four_eyes: args.four_eyes,
    };
    let req =
        ImportRequest { path: path.clone(), file_name: file.to_string(), template: template.clone(), actor: actor() };
    let result = run_kind(&db, kind, req, opts).await;
    db.close().await;
    match result {
        Ok(outcome) => {
            let s = outcome.summary;
            print_summary(&s, args.json);
            if s.has_errors() {
                ExitCode::from(EXIT_INVALID)
            } else {
                ExitCode::from(EXIT_OK)
            }
        }
        Err(ImportError::File(e)) => {
            let s = file_failure(kind, &template, file, &path, e.to_string());
            print_summary(&s, args.json);
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => usage(args.json, &e.to_string()),
    }
}

/// Runs the import with the kind's row mapper; register kinds first read what their rows refer to.
pub async fn run_kind(
    db: &store::Db,
    kind: Kind,
    req: ImportRequest,
    opts: ImportOptions,
) -> Result<super::engine::Outcome, ImportError> {
    use super::{certifications, contracts, funding, placements, progress, providers, results};
    match kind {
        Kind::Ledger => super::run(db, ledger::Ledger::new(), req, opts).await,
        Kind::Providers => super::run(db, providers::Providers::new(), req, opts).await,
        Kind::Certifications => super::run(db, certifications::Certifications::load(db).await?, req, opts).await,
        Kind::Contracts => {
            let k = contracts::Contracts::load(db, &req.template).await?;
            super::run(db, k, req, opts).await
        }
        Kind::Placements => super::run(db, placements::Placements::load(db).await?, req, opts).await,
        Kind::Funding => super::run(db, funding::Funding::load(db).await?, req, opts).await,
        Kind::Results => super::run(db, results::Results::load(db).await?, req, opts).await,
        Kind::Progress => super::run(db, progress::Progress::load(db).await?, req, opts).await,
        Kind::Streams => super::run(db, super::streams::Streams::new(), req, opts).await,
        Kind::Rules => super::run(db, super::rules::Rules::load(db).await?, req, opts).await,
        Kind::Inflow => super::run(db, super::inflow::Inflow::new(), req, opts).await,
        Kind::Setup => {
            Err(ImportError::Internal("de inrichting heeft geen eigen sjabloon: gebruik import setup".into()))
        }
    }
}

/// The web's preview: [`run_kind`]'s dry run, keeping the checked records of a staged kind (the ledger) in the
/// staging database file `staging` (a new, empty file; see `Kind::staged`) for the write phase after the
/// confirmation (`engine::check`). The register kinds get no pending write: their confirmation imports the
/// file again.
pub async fn check_kind(
    db: &store::Db,
    kind: Kind,
    req: ImportRequest,
    opts: ImportOptions,
    staging: Option<&Path>,
) -> Result<(super::engine::Outcome, Option<Box<dyn super::engine::PendingWrite>>), ImportError> {
    match (kind, staging) {
        (Kind::Ledger, Some(staging)) => super::engine::check(db, ledger::Ledger::new(), req, opts, staging).await,
        _ => Ok((run_kind(db, kind, req, ImportOptions { dry_run: true, ..opts }).await?, None)),
    }
}

/// The summary of an import whose file could not be read: one error naming the file.
pub fn file_failure(kind: Kind, t: &CheckedTemplate, file: &str, path: &Path, message: String) -> Summary {
    Summary {
        batch: None,
        kind,
        template: t.name().to_string(),
        file_name: file.to_string(),
        file_sha256: super::engine::file_sha256(path).unwrap_or_default(),
        rows_read: 0,
        rows_imported: 0,
        rows_duplicate: 0,
        rows_rejected: 0,
        rows_skipped: 0,
        amount_total: Money::ZERO,
        errors: vec![RowError { sheet: file.to_string(), row: None, column: None, value: None, message }],
        errors_total: 1,
        duplicates: Vec::new(),
        dry_run: false,
        charges: None,
        awaits_approval: false,
    }
}

fn print_summary(s: &Summary, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).expect("summary serializes"));
        return;
    }
    let state = match (s.batch, s.dry_run) {
        (Some(b), _) => format!("Geïmporteerd als batch {b}."),
        (None, true) => "Proefimport: er is niets opgeslagen.".into(),
        (None, false) if s.has_errors() && s.kind == Kind::Setup => {
            "Er is NIETS geïmporteerd: de werkmap bevat fouten; een inrichting wordt alleen in haar geheel geladen.".into()
        }
        (None, false) if s.has_errors() => "Er is NIETS geïmporteerd: het bestand bevat fouten (gebruik --skip-invalid om alleen de goede regels te importeren).".into(),
        (None, false) => "Er was niets nieuws te importeren.".into(),
    };
    println!("{} ({}, sjabloon {})", s.file_name, s.kind.label(), s.template);
    println!("SHA-256: {}", s.file_sha256);
    println!(
        "Regels gelezen: {}, nieuw: {}, al eerder geïmporteerd: {}, afgewezen: {}, overgeslagen (leeg/totaal): {}",
        s.rows_read, s.rows_imported, s.rows_duplicate, s.rows_rejected, s.rows_skipped
    );
    if s.kind == Kind::Ledger {
        println!("Totaal nieuwe regels: {}", s.amount_total);
    }
    if s.awaits_approval {
        println!(
            "De batch wacht op goedkeuring (vier ogen): hij telt nergens mee tot een andere financieel medewerker of \
             een beheerder hem goedkeurt op de batchpagina."
        );
    }
    if let Some(c) = s.charges.as_ref().filter(|_| s.rows_imported > 0) {
        println!("Toerekening van de nieuwe regels:");
        for st in &c.streams {
            println!("  {} ({}): {} regel(s), {}", st.stream, st.name, st.rows, st.amount);
        }
        println!("  wachtrij (geen regel past): {} regel(s), {}", c.queue_rows, c.queue_amount);
    }
    let changed = s.duplicates.iter().filter(|d| d.note.is_some()).count();
    if changed > 0 {
        println!(
            "Let op: {changed} al bekende regel(s) wijken af van wat is opgeslagen; die zijn NIET bijgewerkt (zie 'dubbel' hieronder)."
        );
    }
    for d in s.duplicates.iter().take(50) {
        let place = if d.batch > 0 { format!("staat al in batch {}", d.batch) } else { "bestaat al".to_string() };
        match &d.note {
            Some(note) => println!("  dubbel: {} rij {} {place}. {note}", d.sheet, d.row),
            None => println!("  dubbel: {} rij {} {place}", d.sheet, d.row),
        }
    }
    if s.duplicates.len() > 50 {
        println!("  ... en nog {} dubbele regels", s.rows_duplicate - 50);
    }
    for e in &s.errors {
        let mut place = e.sheet.clone();
        if let Some(r) = e.row {
            place.push_str(&format!(", rij {r}"));
        }
        if let Some(c) = &e.column {
            place.push_str(&format!(", kolom {c}"));
        }
        let value = e.value.as_ref().map(|v| format!(" [waarde: {v}]")).unwrap_or_default();
        eprintln!("  fout: {place}: {}{value}", e.message);
    }
    if s.errors_total > s.errors.len() as u64 {
        eprintln!("  ... en nog {} fouten", s.errors_total - s.errors.len() as u64);
    }
    println!("{state}");
}

/// `taalbudget import setup FILE [--dry-run] [--json]`: the whole set-up workbook in one batch. The JSON object
/// is the usual summary plus `sheets`: each sheet's counts.
async fn import_setup(db_path: &Path, args: &ImportArgs) -> ExitCode {
    if args.template.is_some() || args.skip_invalid {
        return usage(
            args.json,
            "import setup leest elk werkblad met zijn eigen sjabloon en laadt de werkmap in haar geheel; laat --template en --skip-invalid weg",
        );
    }
    let Some(file) = args.file.as_deref() else {
        return usage(args.json, "geef de werkmap op: taalbudget import setup BESTAND.xlsx");
    };
    let path = PathBuf::from(file);
    if !path.is_file() {
        return usage(args.json, &format!("bestand {file} bestaat niet of is geen bestand"));
    }
    let db = match store::connect(db_path).await {
        Ok(db) => db,
        Err(e) => return usage(args.json, &format!("{e:#}")),
    };
    let opts = ImportOptions { dry_run: args.dry_run, read_budget: args.read_budget, ..ImportOptions::default() };
    let result = super::setup::run(&db, &path, file, &actor(), opts).await;
    db.close().await;
    match result {
        Ok(outcome) => {
            let s = &outcome.summary;
            if args.json {
                let mut object = serde_json::to_value(s).expect("summary serializes");
                object["sheets"] = serde_json::to_value(&outcome.parts).expect("parts serialize");
                println!("{object}");
            } else {
                for p in &outcome.parts {
                    println!(
                        "Werkblad {} ({}): gelezen {}, nieuw {}, al bekend {}, afgewezen {}",
                        p.sheet,
                        p.kind.label(),
                        p.rows_read,
                        p.rows_imported,
                        p.rows_duplicate,
                        p.rows_rejected
                    );
                }
                print_summary(s, false);
            }
            ExitCode::from(if s.has_errors() { EXIT_INVALID } else { EXIT_OK })
        }
        Err(ImportError::File(e)) => usage(args.json, &e.to_string()),
        Err(e) => usage(args.json, &e.to_string()),
    }
}

async fn undo(db_path: &Path, id: i64, json: bool) -> ExitCode {
    let db = match store::connect(db_path).await {
        Ok(db) => db,
        Err(e) => return usage(json, &format!("{e:#}")),
    };
    let result = store::imports::undo_batch(&db, id, &actor()).await;
    db.close().await;
    match result {
        Ok(removed) => {
            if json {
                println!("{}", serde_json::json!({ "batch": id, "undone": true, "lines_removed": removed }));
            } else {
                println!("Batch {id} is ongedaan gemaakt: {removed} regels verwijderd.");
            }
            ExitCode::from(EXIT_OK)
        }
        Err(store::imports::UndoError::Db(e)) => usage(json, &format!("databasefout: {e}")),
        Err(e) => usage(json, &e.to_string()),
    }
}

/// `taalbudget templates list`.
pub fn list_templates() -> ExitCode {
    for t in template::shipped() {
        let types: Vec<String> = t.template.file_types.iter().map(|f| format!("{f:?}").to_lowercase()).collect();
        println!("{:<24} {:<8} {:<22} {}", t.name(), t.template.kind.as_str(), types.join(","), t.template.description);
    }
    ExitCode::from(EXIT_OK)
}

/// `taalbudget templates example NAME --out FILE.xlsx [--filled]` (or `.csv` for a CSV template); with
/// `--filled` the example holds rows that import as they are.
pub fn write_example(name: &str, out: &Path, filled: bool) -> ExitCode {
    let t = match template::find(name) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fout: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let as_csv = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let bytes = match (filled, as_csv && t.is_csv()) {
        (true, csv) => example::filled(&t, csv),
        (false, true) => example::csv(&t, &[]),
        (false, false) => example::workbook(&t, &[]),
    };
    match bytes.and_then(|b| std::fs::write(out, b).map_err(|e| format!("kan {} niet schrijven: {e}", out.display()))) {
        Ok(()) => {
            println!("Voorbeeld voor {} geschreven naar {}", t.name(), out.display());
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("fout: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
