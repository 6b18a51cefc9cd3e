//! The `taalbudget` command line: serve the web app, fill demo data, manage users, and (in later
//! commands) import, report and administer.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taalbudget::app::App;
use taalbudget::auth::roles::Role;
use taalbudget::auth::{password, password_problem};
use taalbudget::config::Config;
use taalbudget::import::cli as import_cli;
use taalbudget::report::export::{self, ExportFormat};
use taalbudget::web::admin::username_problem;
use taalbudget::{demo, store};

#[derive(Parser)]
#[command(
    name = "taalbudget",
    version,
    about = "Inkoop, budgetten en uitgaven voor taalonderwijs onder de Wet inburgering"
)]
struct Cli {
    /// The SQLite database file; created and migrated when missing.
    #[arg(long, global = true, env = "TAALBUDGET_DB", default_value = "taalbudget.db")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web application.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TAALBUDGET_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Serve a fresh, throw-away database filled with demo data (ignores --db).
        #[arg(long)]
        demo: bool,
        /// Send the session cookie only over HTTPS (default on; off with --demo).
        #[arg(long, env = "TAALBUDGET_SECURE_COOKIES")]
        secure_cookies: Option<bool>,
    },
    /// Fill an empty database (the one --db names) with the demo data and exit.
    Demo,
    /// Import a spreadsheet: `import ledger FILE --template NAME`, or undo a batch: `import undo BATCH`.
    Import {
        /// What the file holds: ledger (providers, certifications, contracts, placements, funding follow later),
        /// or `undo` to undo a batch.
        kind: String,
        /// The file to import (or, after `undo`, the batch number).
        file: Option<String>,
        /// The import template (see `templates list`) or a path to a template .toml file.
        #[arg(long)]
        template: Option<String>,
        /// Check everything and report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the valid rows even when other rows are rejected.
        #[arg(long)]
        skip_invalid: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The import templates: `templates list`, `templates example NAME --out FILE.xlsx`.
    Templates {
        #[command(subcommand)]
        action: TemplatesAction,
    },
    /// Reports: `report reconciliation --year Y [--stream CODE] --format json|csv|xlsx [--out FILE]`.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum TemplatesAction {
    /// List the shipped templates.
    List,
    /// Write a ready-to-fill spreadsheet for a template, with a sheet explaining each column.
    Example {
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Per funding stream: available, actual, committed, remaining, budget lines; plus the unattributed queue.
    Reconciliation {
        #[arg(long)]
        year: i32,
        /// Only this stream (its code, e.g. SPUK).
        #[arg(long)]
        stream: Option<String>,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Write to this file instead of standard output (required for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password comes from TAALBUDGET_PASSWORD, else from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, contract_manager, finance or policy_adviser
        #[arg(long)]
        role: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAALBUDGET_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fout: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { listen, demo: with_demo, secure_cookies } => {
            serve(cli.db, listen, with_demo, secure_cookies).await
        }
        Command::Demo => {
            let db = store::connect(&cli.db).await?;
            demo::fill(&db).await?;
            println!("Demogegevens geladen in {}", cli.db.display());
            print_demo_logins();
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { kind, file, template, dry_run, skip_invalid, json } => {
            let args = import_cli::ImportArgs { kind, file, template, dry_run, skip_invalid, json };
            Ok(import_cli::import(&cli.db, args).await)
        }
        Command::Templates { action: TemplatesAction::List } => Ok(import_cli::list_templates()),
        Command::Templates { action: TemplatesAction::Example { name, out } } => {
            Ok(import_cli::write_example(&name, &out))
        }
        Command::User { command: UserCommand::Add { username, role } } => add_user(&cli.db, &username, &role).await,
        Command::Report { report: ReportCommand::Reconciliation { year, stream, format, out } } => {
            reconciliation_report(&cli.db, year, stream.as_deref(), format, out.as_deref()).await
        }
    }
}

async fn serve(
    db: PathBuf,
    listen: SocketAddr,
    with_demo: bool,
    secure_cookies: Option<bool>,
) -> anyhow::Result<ExitCode> {
    // The demo database lives in a temporary directory that is removed when the server stops.
    let temp = if with_demo { Some(tempfile::tempdir()?) } else { None };
    let db_path = match &temp {
        Some(dir) => dir.path().join("demo.db"),
        None => db,
    };
    let mut config = Config::new(listen, db_path);
    config.demo = with_demo;
    config.secure_cookies = secure_cookies.unwrap_or(!with_demo);
    let app = App::build(config).await?;
    if with_demo {
        demo::fill(&app.state.db).await?;
    }
    println!("taalbudget draait op http://{}/", app.addr);
    if with_demo {
        println!("Demodatabase (wordt bij afsluiten verwijderd): {}", app.state.config.db_path.display());
        print_demo_logins();
    } else if store::users::count(&app.state.db).await? == 0 {
        println!("Er is nog geen gebruiker. Maak de eerste beheerder aan met:");
        println!("  taalbudget --db {} user add --username beheerder --role admin", app.state.config.db_path.display());
    }
    if !app.state.config.secure_cookies {
        println!("Let op: sessiecookies zonder Secure-vlag (alleen voor lokaal gebruik zonder HTTPS).");
    }
    app.serve().await?;
    drop(temp);
    Ok(ExitCode::SUCCESS)
}

async fn reconciliation_report(
    db: &std::path::Path,
    year: i32,
    stream: Option<&str>,
    format: ExportFormat,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    if !(2000..=2100).contains(&year) {
        eprintln!("fout: {year} is geen geldig jaar");
        return Ok(ExitCode::from(2));
    }
    if format == ExportFormat::Xlsx && out.is_none() {
        eprintln!("fout: geef bij --format xlsx een bestand op met --out");
        return Ok(ExitCode::from(2));
    }
    let pool = store::connect(db).await?;
    let mut report = taalbudget::report::reconciliation::for_year(&pool, year).await?;
    if let Some(code) = stream {
        report.streams.retain(|s| s.code.eq_ignore_ascii_case(code));
        if report.streams.is_empty() {
            eprintln!("fout: onbekende financieringsbron '{code}'");
            return Ok(ExitCode::from(2));
        }
    }
    let bytes = match format {
        ExportFormat::Json => (export::reconciliation_json(&report) + "\n").into_bytes(),
        ExportFormat::Csv => export::reconciliation_csv(&report)?,
        ExportFormat::Xlsx => export::reconciliation_xlsx(&report)?,
    };
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| anyhow::anyhow!("kan {} niet schrijven: {e}", path.display()))?;
            eprintln!("Aansluiting {year} geschreven naar {} ({} bytes)", path.display(), bytes.len());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_demo_logins() {
    println!("Demo-logins (gebruikersnaam / wachtwoord):");
    for (username, role, password) in demo::DEMO_LOGINS {
        println!("  {:<16} {:<22} {}", username, role.label(), password);
    }
}

async fn add_user(db: &std::path::Path, username: &str, role: &str) -> anyhow::Result<ExitCode> {
    let username = username.trim();
    if let Some(p) = username_problem(username) {
        eprintln!("fout: {p}");
        return Ok(ExitCode::from(2));
    }
    let Some(role) = Role::parse(role) else {
        eprintln!("fout: onbekende rol '{role}'; kies admin, contract_manager, finance of policy_adviser");
        return Ok(ExitCode::from(2));
    };
    let secret = match std::env::var("TAALBUDGET_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            if std::io::stdin().is_terminal() {
                eprintln!("Wachtwoord (minstens 12 tekens), gevolgd door Enter:");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    if let Some(p) = password_problem(&secret) {
        eprintln!("fout: {p}");
        return Ok(ExitCode::from(2));
    }
    let pool = store::connect(db).await?;
    let hash = password::hash(secret).await?;
    let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "onbekend".into()));
    match store::users::create(&pool, username, role, &hash, &actor).await {
        Ok(id) => {
            println!("Gebruiker {username} ({}) aangemaakt met nummer {id}.", role.label());
            Ok(ExitCode::SUCCESS)
        }
        Err(store::users::UserError::Exists(_)) => {
            eprintln!("fout: de gebruikersnaam '{username}' bestaat al");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
