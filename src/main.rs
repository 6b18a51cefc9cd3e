//! The `taalbudget` command line: serve the web app, fill demo data, and (in later commands)
//! import, report and administer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taalbudget::app::App;
use taalbudget::config::Config;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    }
}
