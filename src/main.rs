//! The `taalbudget` command line: serve the web app, fill demo data, and (in later commands)
//! import, report and administer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taalbudget::app::App;
use taalbudget::config::Config;
use taalbudget::import::cli as import_cli;
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
            // The demo database lives in a temporary directory that is removed when the server stops.
            let temp = if with_demo { Some(tempfile::tempdir()?) } else { None };
            let db_path = match &temp {
                Some(dir) => dir.path().join("demo.db"),
                None => cli.db.clone(),
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
            }
            app.serve().await?;
            drop(temp);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let db = store::connect(&cli.db).await?;
            demo::fill(&db).await?;
            println!("Demogegevens geladen in {}", cli.db.display());
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
    }
}
