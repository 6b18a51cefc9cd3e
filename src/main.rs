//! The `taalbudget` command line: serve the web app, fill demo data, manage users, back up and restore,
//! show the configuration and apply the retention period.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use taalbudget::app::App;
use taalbudget::auth::roles::Role;
use taalbudget::auth::{password, password_problem};
use taalbudget::config::{self, Config, Flags, LogFormat, Resolved, Source};
use taalbudget::import::cli as import_cli;
use taalbudget::report::export::{self, ExportFormat};
use taalbudget::web::admin::username_problem;
use taalbudget::{demo, ops, store};

#[derive(Parser)]
#[command(
    name = "taalbudget",
    version = VERSION,
    about = "Inkoop, budgetten en uitgaven voor taalonderwijs onder de Wet inburgering",
    after_help = "Instellingen: vlag > omgeving (TAALBUDGET_*) > configuratiebestand (--config) > standaard; zie 'taalbudget config'."
)]
struct Cli {
    /// TOML file with settings (keys as `taalbudget config` shows them).
    #[arg(long, global = true, env = "TAALBUDGET_CONFIG")]
    config: Option<PathBuf>,
    /// The SQLite database file; created and migrated when missing [env TAALBUDGET_DB; default taalbudget.db].
    #[arg(long, global = true)]
    db: Option<String>,
    /// Address to listen on [env TAALBUDGET_LISTEN; default 127.0.0.1:8080].
    #[arg(long, global = true)]
    listen: Option<String>,
    /// Public address, e.g. https://intern.gemeente.nl/taalbudget [env TAALBUDGET_BASE_URL].
    #[arg(long, global = true)]
    base_url: Option<String>,
    /// Path the app lives under behind a reverse proxy, e.g. /taalbudget [env TAALBUDGET_PATH_PREFIX].
    #[arg(long, global = true)]
    path_prefix: Option<String>,
    /// Proxies whose X-Forwarded-For/-Proto are believed: comma-separated IPs or ranges (10.0.0.0/24) [env TAALBUDGET_TRUSTED_PROXIES].
    #[arg(long, global = true)]
    trusted_proxies: Option<String>,
    /// Send the session cookie only over HTTPS: true or false [env TAALBUDGET_SECURE_COOKIES; default true, false with --demo].
    #[arg(long, global = true)]
    secure_cookies: Option<String>,
    /// Largest upload in MB [env TAALBUDGET_UPLOAD_LIMIT_MB; default 50].
    #[arg(long, global = true)]
    upload_limit_mb: Option<String>,
    /// Session ends after this many idle minutes [env TAALBUDGET_SESSION_IDLE_MINUTES; default 30].
    #[arg(long, global = true)]
    session_idle_minutes: Option<String>,
    /// Session ends this many hours after login [env TAALBUDGET_SESSION_ABSOLUTE_HOURS; default 10].
    #[arg(long, global = true)]
    session_absolute_hours: Option<String>,
    /// Log format: text or json [env TAALBUDGET_LOG_FORMAT; default text].
    #[arg(long, global = true)]
    log_format: Option<String>,
    /// Directory for backups made from the web page [env TAALBUDGET_BACKUP_DIR; default backups/ beside the database].
    #[arg(long, global = true)]
    backup_dir: Option<String>,
    /// Retention period for participant data, in years [env TAALBUDGET_RETENTION_YEARS; default 7].
    #[arg(long, global = true, allow_hyphen_values = true)]
    retention_years: Option<String>,
    /// Memory reading one import file may use, in MB [env TAALBUDGET_READ_MEMORY_MB; default 128].
    #[arg(long, global = true)]
    read_memory_mb: Option<String>,
    /// Import files checked or committed at the same time on the web [env TAALBUDGET_IMPORTS_AT_ONCE; default 2].
    #[arg(long, global = true)]
    imports_at_once: Option<String>,
    /// Import files one user may have checked or committed at the same time [env TAALBUDGET_IMPORTS_PER_USER; default 1].
    #[arg(long, global = true)]
    imports_per_user: Option<String>,
    /// Directory for uploaded import files until their job ends [env TAALBUDGET_UPLOAD_DIR; default uploads/ beside the database].
    #[arg(long, global = true)]
    upload_dir: Option<String>,
    /// Four-eyes approval of ledger and funding imports: true or false [env TAALBUDGET_FOUR_EYES_IMPORTS; default false].
    #[arg(long, global = true)]
    four_eyes_imports: Option<String>,
    /// OCDS prefix of the municipality, registered with the standard's maintainers [env TAALBUDGET_OCDS_PREFIX; default ocds-xxxxxx].
    #[arg(long, global = true)]
    ocds_prefix: Option<String>,
    /// The municipality's name as buyer in the OCDS package [env TAALBUDGET_OCDS_BUYER_NAME].
    #[arg(long, global = true)]
    ocds_buyer_name: Option<String>,
    /// The municipality's OIN (20 digits) or KvK number (8 digits) in the OCDS package [env TAALBUDGET_OCDS_BUYER_ID].
    #[arg(long, global = true)]
    ocds_buyer_id: Option<String>,
    /// Mail server for the notification e-mail; empty: no e-mail [env TAALBUDGET_SMTP_HOST].
    #[arg(long, global = true)]
    smtp_host: Option<String>,
    /// Mail server port [env TAALBUDGET_SMTP_PORT; default 587 with starttls, 465 with tls, 25 with none].
    #[arg(long, global = true)]
    smtp_port: Option<String>,
    /// Mail server login name [env TAALBUDGET_SMTP_USER].
    #[arg(long, global = true)]
    smtp_user: Option<String>,
    /// Mail server password; prefer the environment [env TAALBUDGET_SMTP_PASSWORD].
    #[arg(long, global = true)]
    smtp_password: Option<String>,
    /// Sender of the notification e-mail, e.g. "taalbudget <taalbudget@gemeente.nl>" [env TAALBUDGET_SMTP_FROM].
    #[arg(long, global = true)]
    smtp_from: Option<String>,
    /// starttls, tls or none (a local relay only) [env TAALBUDGET_SMTP_TLS; default starttls].
    #[arg(long, global = true)]
    smtp_tls: Option<String>,
    /// Hour (0-23, Europe/Amsterdam) the notification e-mails go out [env TAALBUDGET_DIGEST_HOUR; default 7].
    #[arg(long, global = true)]
    digest_hour: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// The program version and the database schema version it carries (its newest migration).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (schemaversie ", env!("TAALBUDGET_SCHEMA_VERSION"), ")");

impl Cli {
    fn flags(&self) -> Flags {
        let given = [
            ("db", &self.db),
            ("listen", &self.listen),
            ("base_url", &self.base_url),
            ("path_prefix", &self.path_prefix),
            ("trusted_proxies", &self.trusted_proxies),
            ("secure_cookies", &self.secure_cookies),
            ("upload_limit_mb", &self.upload_limit_mb),
            ("session_idle_minutes", &self.session_idle_minutes),
            ("session_absolute_hours", &self.session_absolute_hours),
            ("log_format", &self.log_format),
            ("backup_dir", &self.backup_dir),
            ("retention_years", &self.retention_years),
            ("read_memory_mb", &self.read_memory_mb),
            ("imports_at_once", &self.imports_at_once),
            ("imports_per_user", &self.imports_per_user),
            ("upload_dir", &self.upload_dir),
            ("four_eyes_imports", &self.four_eyes_imports),
            ("ocds_prefix", &self.ocds_prefix),
            ("ocds_buyer_name", &self.ocds_buyer_name),
            ("ocds_buyer_id", &self.ocds_buyer_id),
            ("smtp_host", &self.smtp_host),
            ("smtp_port", &self.smtp_port),
            ("smtp_user", &self.smtp_user),
            ("smtp_password", &self.smtp_password),
            ("smtp_from", &self.smtp_from),
            ("smtp_tls", &self.smtp_tls),
            ("digest_hour", &self.digest_hour),
        ];
        given.into_iter().filter_map(|(k, v)| v.clone().map(|v| (k, v))).collect()
    }
}

#[derive(Subcommand)]
enum Command {
    /// Start the web application.
    Serve {
        /// Serve a fresh, throw-away database filled with demo data (ignores --db).
        #[arg(long)]
        demo: bool,
    },
    /// Fill an empty database (the one --db names) with the demo data and exit.
    Demo,
    /// Import a spreadsheet: `import ledger FILE --template NAME`, or undo a batch: `import undo BATCH`.
    Import {
        /// What the file holds: ledger, providers, certifications, contracts, placements, funding, results
        /// (quality results) or progress (provider progress reports), or `undo` to undo a batch.
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
    /// Reports: `report reconciliation --year Y ...` and `report overview --from Y --to Y ...`.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Exports: `export setup --year Y --out FILE.xlsx` (the finance set-up as one workbook) and `export ocds
    /// [--out FILE]` (the contracts in an open standard).
    Export {
        #[command(subcommand)]
        export: ExportCommand,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Personal API tokens: `token create --user NAME --name LABEL [--days N]`, `token list`, `token revoke ID`.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a consistent, verified copy of the database to FILE (also while the server runs).
    Backup {
        /// The new file; an existing file is never overwritten.
        file: PathBuf,
    },
    /// Replace the database by the backup FILE (the server must be stopped), then apply pending migrations.
    Restore { file: PathBuf },
    /// Print the effective settings and where each comes from (secrets masked).
    Config,
    /// Attribution rules: `rules list [--json]`, `rules apply [--dry-run] [--json]`.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Send the e-mail digests that are due now (`--now`: regardless of the schedule), or print them (`--dry-run`).
    Notify {
        /// Only print what would be sent to whom; send and record nothing.
        #[arg(long)]
        dry_run: bool,
        /// Only this user (username).
        #[arg(long)]
        user: Option<String>,
        /// Send now, whatever the schedule (still only what is new since the last digest).
        #[arg(long)]
        now: bool,
    },
    /// Anonymise client numbers of participants whose last placement ended before the retention period.
    Retention {
        /// Only list what would be anonymised.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum RulesAction {
    /// The rules in order, with how many ledger lines and euros each takes now.
    List {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Apply the rules to every ledger line (not to lines assigned by hand, nor in closed years); exit 1 when lines
    /// of a closed year would have moved (they stay where they are, the rest is applied).
    Apply {
        /// Only say what would move, per rule and stream; exit 1 if anything in a closed year would move.
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The finance set-up as one workbook that `import setup` reads back: funding streams, attribution rules in
    /// order, and the allocations and budget lines of the year (plus the budget lines the rules name).
    Setup {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Every contract as an OCDS 1.1 release package (JSON): tender, award, value, period, tariffs, exercised
    /// options and the ledger lines paid on it; nothing about participants.
    Ocds {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
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
        /// Fill the example with rows that import as they are (they refer to each other: import the providers,
        /// marks, contracts and tariffs before the placements, progress and results).
        #[arg(long)]
        filled: bool,
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
    /// Multi-year overview per stream, route, provider and contract: available, actual, committed, forecast, remaining.
    Overview {
        #[arg(long)]
        from: i32,
        #[arg(long)]
        to: i32,
        /// Forecast with this scenario (its name).
        #[arg(long)]
        scenario: Option<String>,
        /// Which inflow figure the forecast uses: laag, verwacht or hoog.
        #[arg(long, default_value = "verwacht")]
        variant: String,
        /// First inflow year the forecast counts (default: next year).
        #[arg(long)]
        forecast_from: Option<i32>,
        /// Only this stream (its code, e.g. SPUK).
        #[arg(long)]
        stream: Option<String>,
        /// Add the change since this snapshot (its name).
        #[arg(long)]
        snapshot: Option<String>,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Write to this file instead of standard output (required for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The council's progress letter of a year (Word, to edit into the letter), or its figures as json or xlsx.
    /// Writing the Word letter freezes its figures as the snapshot "Voortgangsbrief YEAR".
    Voortgangsbrief {
        #[arg(long)]
        year: i32,
        /// Hold the inflow against this scenario (its name).
        #[arg(long)]
        scenario: Option<String>,
        /// docx (the letter), json or xlsx (its figures).
        #[arg(long, default_value = "docx")]
        format: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// The indicators of a year (the figures of /indicatoren and the progress letter), as JSON.
    Indicatoren {
        #[arg(long)]
        year: i32,
        /// Hold the inflow against this scenario (its name).
        #[arg(long)]
        scenario: Option<String>,
        /// Only json for now.
        #[arg(long, default_value = "json")]
        format: String,
        /// Write to this file instead of standard output.
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
        /// E-mail address for the digest of notifications.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a token for a user; prints only the secret on standard output (once: it is not stored).
    Create {
        /// The user the token acts for (with that user's role).
        #[arg(long)]
        user: String,
        /// What the token is for, to recognise it in lists.
        #[arg(long)]
        name: String,
        /// Days the token is valid, 1 to 365.
        #[arg(long, default_value_t = taalbudget::store::tokens::DEFAULT_DAYS, allow_hyphen_values = true)]
        days: i64,
    },
    /// Every token: number, user, name, first characters, valid until, last used, status.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its number (see `token list`); it stops working at once.
    Revoke { id: i64 },
}

fn main() -> ExitCode {
    // Bad usage exits with 2 (the documented code for the import command), help and version with 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let resolved = match config::resolve(&cli.flags(), &env, cli.config.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fout: {e}");
            return ExitCode::from(2);
        }
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("TAALBUDGET_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    let logger = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match resolved.config.log_format {
        LogFormat::Json => logger.json().init(),
        LogFormat::Text => logger.init(),
    }
    // A report piped into `head` should end quietly when `head` has read enough, as other Unix tools do; Rust
    // ignores SIGPIPE and would panic on the closed pipe instead. Not for the server, which writes to sockets
    // whose clients may go away at any moment.
    #[cfg(unix)]
    if !matches!(cli.command, Command::Serve { .. }) {
        // SAFETY: called before any other thread exists (the runtime is built below); restores the default action.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime starts");
    let code = match runtime.block_on(run(cli.command, resolved)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fout: {e:#}");
            ExitCode::from(2)
        }
    };
    if std::env::var("TAALBUDGET_REPORT_PEAK_MEMORY").is_ok_and(|v| v == "1") {
        report_peak_memory();
    }
    code
}

/// Prints this process's peak resident memory (Linux VmHWM) to stderr: for capacity planning and for the tests
/// that hold imports of hostile files to a memory bound. A parent's rusage cannot say this: Linux counts the
/// memory of the forking process before exec in the child's maximum.
fn report_peak_memory() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    match status.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
        Some(v) => eprintln!("piekgeheugen: {}", v.trim()),
        None => eprintln!("piekgeheugen: onbekend op dit platform"),
    }
}

async fn run(command: Command, resolved: Resolved) -> anyhow::Result<ExitCode> {
    let config = resolved.config.clone();
    let db_path = config.db_path.clone();
    match command {
        Command::Serve { demo: with_demo } => {
            let explicit_cookies =
                resolved.effective.iter().any(|e| e.key == "secure_cookies" && e.source != Source::Default);
            serve(config, with_demo, explicit_cookies).await
        }
        Command::Demo => {
            let db = store::connect(&db_path).await?;
            demo::fill(&db).await?;
            println!("Demogegevens geladen in {}", db_path.display());
            print_demo_logins();
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { kind, file, template, dry_run, skip_invalid, json } => {
            let read_budget = config.read_budget();
            let four_eyes = config.four_eyes_imports;
            let args =
                import_cli::ImportArgs { kind, file, template, dry_run, skip_invalid, json, read_budget, four_eyes };
            Ok(import_cli::import(&db_path, args).await)
        }
        Command::Templates { action: TemplatesAction::List } => Ok(import_cli::list_templates()),
        Command::Templates { action: TemplatesAction::Example { name, out, filled } } => {
            Ok(import_cli::write_example(&name, &out, filled))
        }
        Command::Report { report: ReportCommand::Reconciliation { year, stream, format, out } } => {
            reconciliation_report(&db_path, year, stream.as_deref(), format, out.as_deref()).await
        }
        Command::Report {
            report:
                ReportCommand::Overview { from, to, scenario, variant, forecast_from, stream, snapshot, format, out },
        } => {
            let args = OverviewArgs { from, to, scenario, variant, forecast_from, stream, snapshot, format, out };
            overview_report(&db_path, args).await
        }
        Command::Report { report: ReportCommand::Voortgangsbrief { year, scenario, format, out } } => {
            letter_report(&db_path, year, scenario.as_deref(), &format, &out).await
        }
        Command::Report { report: ReportCommand::Indicatoren { year, scenario, format, out } } => {
            indicators_report(&db_path, year, scenario.as_deref(), &format, out.as_deref()).await
        }
        Command::Export { export: ExportCommand::Setup { year, out } } => {
            let db = store::connect(&db_path).await?;
            let setup = taalbudget::report::setup::load(&db, Some(year)).await;
            db.close().await;
            let bytes = setup?.xlsx()?;
            std::fs::write(&out, &bytes).map_err(|e| anyhow::anyhow!("kan {} niet schrijven: {e}", out.display()))?;
            println!("Inrichting {year} geschreven naar {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { export: ExportCommand::Ocds { out } } => ops::export_ocds(&config, out.as_deref()).await,
        Command::Token { command: TokenCommand::Create { user, name, days } } => {
            ops::tokens::create(&db_path, &user, &name, days).await
        }
        Command::Token { command: TokenCommand::List { json } } => ops::tokens::list(&db_path, json).await,
        Command::Token { command: TokenCommand::Revoke { id } } => ops::tokens::revoke(&db_path, id).await,
        Command::User { command: UserCommand::Add { username, role, email } } => {
            add_user(&db_path, &username, &role, email.as_deref()).await
        }
        Command::Notify { dry_run, user, now } => notify(&config, dry_run, user.as_deref(), now).await,
        Command::Backup { file } => ops::backup(&db_path, &file).await,
        Command::Restore { file } => ops::restore(&db_path, &file).await,
        Command::Config => {
            print!("{}", resolved.render(&|name: &str| std::env::var(name).ok()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { action: RulesAction::List { json } } => ops::rules_list(&db_path, json).await,
        Command::Rules { action: RulesAction::Apply { dry_run, json } } => {
            ops::rules_apply(&db_path, dry_run, json).await
        }
        Command::Retention { dry_run } => ops::retention(&db_path, config.retention_years, dry_run).await,
    }
}

async fn serve(mut config: Config, with_demo: bool, explicit_cookies: bool) -> anyhow::Result<ExitCode> {
    // The demo database lives in a temporary directory that is removed when the server stops.
    let temp = if with_demo { Some(tempfile::tempdir()?) } else { None };
    if let Some(dir) = &temp {
        config.db_path = dir.path().join("demo.db");
        config.backup_dir = dir.path().join("backups");
        config.upload_dir = dir.path().join("uploads");
        config.demo = true;
        if !explicit_cookies {
            config.secure_cookies = false;
        }
    }
    let app = match App::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("fout: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    if with_demo {
        demo::fill(&app.state.db).await?;
    }
    println!("taalbudget draait op http://{}{}/", app.addr, app.state.config.path_prefix);
    if let Some(url) = &app.state.config.base_url {
        println!("Publiek adres: {url}/");
    }
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

/// `report indicatoren`: the figures of `report::indicators::for_year` as JSON (money as decimal strings). They
/// are exact, small groups included: whoever runs the command reads the database anyway; the page hides them.
async fn indicators_report(
    db: &std::path::Path,
    year: i32,
    scenario: Option<&str>,
    format: &str,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    if !(2000..=2100).contains(&year) {
        eprintln!("fout: {year} is geen geldig jaar");
        return Ok(ExitCode::from(2));
    }
    if format != "json" {
        eprintln!("fout: --format {format} kan (nog) niet; gebruik json");
        return Ok(ExitCode::from(2));
    }
    let pool = store::connect(db).await?;
    let scenario_id = match scenario {
        None => None,
        Some(name) => {
            let all = store::overview::scenarios(&pool).await?;
            match all.iter().find(|(s, _)| s.name == name) {
                Some((s, _)) => Some(s.id),
                None => {
                    eprintln!("fout: onbekend scenario '{name}'");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    };
    let figures =
        taalbudget::report::indicators::for_year(&pool, year, scenario_id, taalbudget::domain::dates::today()).await?;
    pool.close().await;
    let bytes = (serde_json::to_string_pretty(&figures)? + "\n").into_bytes();
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| anyhow::anyhow!("kan {} niet schrijven: {e}", path.display()))?;
            eprintln!("Indicatoren {year} geschreven naar {}", path.display());
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A scenario's id by its name; None (after saying so) when there is none of that name.
async fn scenario_by_name(pool: &store::Db, name: Option<&str>) -> anyhow::Result<Result<Option<i64>, ExitCode>> {
    let Some(name) = name else { return Ok(Ok(None)) };
    let all = store::overview::scenarios(pool).await?;
    match all.iter().find(|(s, _)| s.name == name) {
        Some((s, _)) => Ok(Ok(Some(s.id))),
        None => {
            eprintln!("fout: onbekend scenario '{name}'");
            Ok(Err(ExitCode::from(2)))
        }
    }
}

/// `report voortgangsbrief`: the letter of `report::letter` as Word (freezing its figures), json or xlsx.
async fn letter_report(
    db: &std::path::Path,
    year: i32,
    scenario: Option<&str>,
    format: &str,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    use taalbudget::report::{letter, letter_docx};
    if !(2000..=2100).contains(&year) {
        eprintln!("fout: {year} is geen geldig jaar");
        return Ok(ExitCode::from(2));
    }
    if !["docx", "json", "xlsx"].contains(&format) {
        eprintln!("fout: --format {format} bestaat niet; kies docx, json of xlsx");
        return Ok(ExitCode::from(2));
    }
    let pool = store::connect(db).await?;
    let scenario_id = match scenario_by_name(&pool, scenario).await? {
        Ok(id) => id,
        Err(code) => {
            pool.close().await;
            return Ok(code);
        }
    };
    let today = taalbudget::domain::dates::today();
    let l = letter::load(&pool, year, scenario_id, today, None).await?;
    let bytes = match format {
        "docx" => letter_docx::letter_docx(&l)?,
        "xlsx" => letter::letter_xlsx(&l)?,
        _ => (serde_json::to_string_pretty(&l)? + "\n").into_bytes(),
    };
    std::fs::write(out, &bytes).map_err(|e| anyhow::anyhow!("kan {} niet schrijven: {e}", out.display()))?;
    if format == "docx" {
        let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "onbekend".into()));
        store::letters::freeze(&pool, year, l.scenario.as_deref(), &l.data_date, &l.frozen(), &actor).await?;
        eprintln!(
            "Voortgangsbrief {year} geschreven naar {} en vastgelegd als ‘{}’",
            out.display(),
            letter::snapshot_name(year)
        );
    } else {
        eprintln!("Cijfers van de voortgangsbrief {year} geschreven naar {}", out.display());
    }
    pool.close().await;
    Ok(ExitCode::SUCCESS)
}

struct OverviewArgs {
    from: i32,
    to: i32,
    scenario: Option<String>,
    variant: String,
    forecast_from: Option<i32>,
    stream: Option<String>,
    snapshot: Option<String>,
    format: ExportFormat,
    out: Option<PathBuf>,
}

async fn overview_report(db: &std::path::Path, a: OverviewArgs) -> anyhow::Result<ExitCode> {
    use taalbudget::domain::forecast::{validate_years, Variant};
    use taalbudget::report::overview::{self, OverviewParams};
    let years = match validate_years(a.from, a.to) {
        Ok(y) => y,
        Err(e) => {
            eprintln!("fout: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let Some(variant) = Variant::parse(&a.variant) else {
        eprintln!("fout: onbekende variant '{}'; kies laag, verwacht of hoog", a.variant);
        return Ok(ExitCode::from(2));
    };
    if a.format == ExportFormat::Xlsx && a.out.is_none() {
        eprintln!("fout: geef bij --format xlsx een bestand op met --out");
        return Ok(ExitCode::from(2));
    }
    let pool = store::connect(db).await?;
    let scenario_id = match &a.scenario {
        Some(name) => match store::overview::scenarios(&pool).await?.into_iter().find(|(s, _)| &s.name == name) {
            Some((s, _)) => Some(s.id),
            None => {
                eprintln!("fout: onbekend scenario '{name}'");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    let snapshot_id = match &a.snapshot {
        Some(name) => match store::overview::snapshots(&pool).await?.into_iter().find(|s| &s.name == name) {
            Some(s) => Some(s.id),
            None => {
                eprintln!("fout: onbekende snapshot '{name}'");
                return Ok(ExitCode::from(2));
            }
        },
        None => None,
    };
    if let Some(code) = &a.stream {
        let known = store::funding::streams(&pool).await?;
        if !known.iter().any(|(s, _)| s.code.eq_ignore_ascii_case(code)) {
            eprintln!("fout: onbekende financieringsbron '{code}'");
            return Ok(ExitCode::from(2));
        }
    }
    let params = OverviewParams {
        years,
        scenario_id,
        variant,
        forecast_from: a.forecast_from.unwrap_or(taalbudget::domain::dates::today().year() + 1),
        stream: a.stream.clone(),
        snapshot_id,
    };
    let (o, _) = overview::build(&pool, &params, None).await?;
    let bytes = match a.format {
        ExportFormat::Json => (export::overview_json(&o) + "\n").into_bytes(),
        ExportFormat::Csv => export::overview_csv(&o)?,
        ExportFormat::Xlsx => export::overview_xlsx(&o)?,
    };
    match &a.out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| anyhow::anyhow!("kan {} niet schrijven: {e}", path.display()))?;
            eprintln!(
                "Meerjarenoverzicht {}-{} geschreven naar {} ({} bytes)",
                a.from,
                a.to,
                path.display(),
                bytes.len()
            );
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

async fn add_user(db: &std::path::Path, username: &str, role: &str, email: Option<&str>) -> anyhow::Result<ExitCode> {
    let username = username.trim();
    if let Some(p) = username_problem(username) {
        eprintln!("fout: {p}");
        return Ok(ExitCode::from(2));
    }
    let email = match email.map(taalbudget::web::admin::parse_email) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(e))) => Some(e),
        Some(Err(p)) => {
            eprintln!("fout: {p}");
            return Ok(ExitCode::from(2));
        }
    };
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
            if let Some(e) = &email {
                store::notifications::set_email(&pool, id, Some(e), &actor).await?;
            }
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

/// `taalbudget notify`: the digests that are due (or all, with `--now`), or what they would say (`--dry-run`).
async fn notify(config: &Config, dry_run: bool, user: Option<&str>, now: bool) -> anyhow::Result<ExitCode> {
    let db = store::connect(&config.db_path).await?;
    let at = time::OffsetDateTime::now_utc();
    if let Some(name) = user {
        if store::notifications::recipients(&db, Some(name)).await?.is_empty() {
            eprintln!("fout: er is geen actieve gebruiker '{name}'");
            return Ok(ExitCode::from(2));
        }
    }
    if dry_run {
        for (r, planned) in taalbudget::notify::preview(&db, config, user, at).await? {
            let to = r.email.as_deref().unwrap_or("geen e-mailadres");
            println!(
                "== {} ({}, {}), {}: {}",
                r.username,
                r.role.label(),
                to,
                r.digest.label().to_lowercase(),
                match &planned {
                    Ok(_) => "zou dit ontvangen",
                    Err(why) => why,
                }
            );
            if let Ok(d) = planned {
                println!("Onderwerp: {}\n\n{}", d.subject, d.text);
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let outcomes = taalbudget::notify::run(&db, config, Default::default(), user, now, at).await;
    db.close().await;
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fout: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut failed = false;
    for (username, outcome) in &outcomes {
        failed |= matches!(outcome, taalbudget::notify::Outcome::Failed { .. });
        println!("{username}: {}", outcome.describe());
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
