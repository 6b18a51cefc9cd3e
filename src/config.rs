//! Settings in one place: command-line flags, `TAALBUDGET_*` environment variables and an optional TOML
//! file, with precedence flag > environment > file > default, and where each effective value came from.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub db_path: PathBuf,
    /// Mark the session cookie `Secure` (needs HTTPS). Off only for local demo and tests.
    pub secure_cookies: bool,
    /// Largest accepted request body (uploads), in bytes.
    pub upload_limit: usize,
    /// Shown in the header so nobody mistakes the demo for production.
    pub demo: bool,
    /// A session ends after this long without a request.
    pub session_idle: time::Duration,
    /// A session ends this long after login, however active.
    pub session_absolute: time::Duration,
    /// The address users type, e.g. `https://intern.gemeente.nl/taalbudget`; shown at start-up.
    pub base_url: Option<String>,
    /// The path the app lives under behind a reverse proxy: empty (the root) or e.g. `/taalbudget`.
    pub path_prefix: String,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto` headers are believed.
    pub trusted_proxies: Vec<IpRange>,
    pub log_format: LogFormat,
    /// Where backups made from the web page are written.
    pub backup_dir: PathBuf,
    /// Participant-level data is anonymised this many years after the participant's last placement ended.
    pub retention_years: u32,
    /// The first login delay once a username or an address has had too many recent failures; each further
    /// failure doubles it, up to `login_delay_max` (see `web::account::login_delay`). Not a setting: tests
    /// shorten it.
    pub login_delay_step: std::time::Duration,
    pub login_delay_max: std::time::Duration,
    /// What reading one file may hold in memory (calamine's shared strings, styles and grids, one CSV row), in
    /// bytes; a file that would need more is refused before it is read.
    pub read_budget: u64,
    /// Files checked or committed at the same time on the web, in all; the others wait their turn.
    pub imports_at_once: usize,
    /// Files one user may have checked or committed at the same time.
    pub imports_per_user: usize,
    /// Where uploaded files wait for their check and commit; each is deleted as soon as its job ends.
    pub upload_dir: PathBuf,
    /// Four-eyes approval: a ledger or funding batch counts only after another finance user or an admin
    /// approves it (see `store::approval`). A deployment setting, not a screen: it is part of the municipality's
    /// internal control, set once by whoever runs the application, and the command line imports obey it too.
    pub four_eyes_imports: bool,
    /// Who publishes the contracts as OCDS, and under which prefix.
    pub ocds: crate::report::ocds::Publication,
    /// The mail server the digests go through; None while `smtp_host` is empty (no digest is sent then).
    pub smtp: Option<Smtp>,
    /// The hour (0-23, Europe/Amsterdam) from which the day's digests are sent.
    pub digest_hour: u8,
    /// How often `serve` looks for digests that are due. Not a setting: tests shorten it.
    pub digest_interval: std::time::Duration,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587); refused when the server does not offer it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

/// The mail server settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// Login name and password; no login when the user is empty.
    pub user: String,
    pub password: String,
    /// The sender, e.g. `taalbudget <taalbudget@gemeente.nl>`.
    pub from: String,
    pub tls: SmtpTls,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub const DEFAULT_UPLOAD_LIMIT: usize = 50 * 1024 * 1024;
    pub const DEFAULT_RETENTION_YEARS: u32 = 7;
    pub const DEFAULT_READ_BUDGET: u64 = crate::import::source::ReadBudget::DEFAULT.bytes;
    pub const DEFAULT_IMPORTS_AT_ONCE: usize = 2;
    pub const DEFAULT_IMPORTS_PER_USER: usize = 1;
    pub const DEFAULT_DIGEST_HOUR: u8 = 7;

    pub fn new(listen: SocketAddr, db_path: PathBuf) -> Config {
        Config {
            listen,
            backup_dir: default_backup_dir(&db_path),
            upload_dir: default_upload_dir(&db_path),
            db_path,
            secure_cookies: true,
            upload_limit: Self::DEFAULT_UPLOAD_LIMIT,
            demo: false,
            session_idle: time::Duration::minutes(30),
            session_absolute: time::Duration::hours(10),
            base_url: None,
            path_prefix: String::new(),
            trusted_proxies: Vec::new(),
            log_format: LogFormat::Text,
            retention_years: Self::DEFAULT_RETENTION_YEARS,
            login_delay_step: std::time::Duration::from_secs(1),
            login_delay_max: std::time::Duration::from_secs(10),
            read_budget: Self::DEFAULT_READ_BUDGET,
            imports_at_once: Self::DEFAULT_IMPORTS_AT_ONCE,
            imports_per_user: Self::DEFAULT_IMPORTS_PER_USER,
            four_eyes_imports: false,
            ocds: crate::report::ocds::Publication::default(),
            smtp: None,
            digest_hour: Self::DEFAULT_DIGEST_HOUR,
            digest_interval: std::time::Duration::from_secs(60),
        }
    }

    /// The reader's memory budget for one file.
    pub fn read_budget(&self) -> crate::import::source::ReadBudget {
        crate::import::source::ReadBudget { bytes: self.read_budget }
    }
}

/// `backups/` beside the database file.
pub fn default_backup_dir(db_path: &Path) -> PathBuf {
    db_path.parent().unwrap_or(Path::new("")).join("backups")
}

/// `uploads/` beside the database file: the uploads hold the same personal data as the database.
pub fn default_upload_dir(db_path: &Path) -> PathBuf {
    db_path.parent().unwrap_or(Path::new("")).join("uploads")
}

/// One address (`10.0.0.2`) or a range in CIDR notation (`10.0.0.0/24`, `fd00::/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` lies in the range. IPv4 addresses seen as IPv6 (`::ffff:10.0.0.2`, on a dual-stack
    /// listener) count as the IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpRange {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let network = addr.parse::<IpAddr>().map_err(|_| ())?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or(())?,
            None => max,
        };
        Ok(IpRange { network, prefix })
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Where an effective value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Flag => "vlag",
            Source::Env => "omgeving",
            Source::File => "configuratiebestand",
            Source::Default => "standaard",
        }
    }
}

/// One setting: its key in the TOML file, its environment variable and flag, and its default.
pub struct Setting {
    pub key: &'static str,
    pub env: &'static str,
    pub flag: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every setting. The TOML file uses `key`, the environment `env`, the command line `flag`.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "listen",
        env: "TAALBUDGET_LISTEN",
        flag: "--listen",
        default: "127.0.0.1:8080",
        help: "adres en poort",
    },
    Setting { key: "db", env: "TAALBUDGET_DB", flag: "--db", default: "taalbudget.db", help: "SQLite-databasebestand" },
    Setting { key: "base_url", env: "TAALBUDGET_BASE_URL", flag: "--base-url", default: "", help: "publiek adres" },
    Setting {
        key: "path_prefix",
        env: "TAALBUDGET_PATH_PREFIX",
        flag: "--path-prefix",
        default: "",
        help: "pad achter de reverse proxy, bijvoorbeeld /taalbudget",
    },
    Setting {
        key: "trusted_proxies",
        env: "TAALBUDGET_TRUSTED_PROXIES",
        flag: "--trusted-proxies",
        default: "",
        help: "IP-adressen of reeksen (10.0.0.0/24) van proxies waarvan X-Forwarded-* wordt geloofd, met komma's gescheiden",
    },
    Setting {
        key: "secure_cookies",
        env: "TAALBUDGET_SECURE_COOKIES",
        flag: "--secure-cookies",
        default: "true",
        help: "sessiecookie alleen over HTTPS",
    },
    Setting {
        key: "upload_limit_mb",
        env: "TAALBUDGET_UPLOAD_LIMIT_MB",
        flag: "--upload-limit-mb",
        default: "50",
        help: "grootste upload in MB",
    },
    Setting {
        key: "session_idle_minutes",
        env: "TAALBUDGET_SESSION_IDLE_MINUTES",
        flag: "--session-idle-minutes",
        default: "30",
        help: "sessie eindigt na zoveel minuten zonder activiteit",
    },
    Setting {
        key: "session_absolute_hours",
        env: "TAALBUDGET_SESSION_ABSOLUTE_HOURS",
        flag: "--session-absolute-hours",
        default: "10",
        help: "sessie eindigt zoveel uur na inloggen",
    },
    Setting {
        key: "log_format",
        env: "TAALBUDGET_LOG_FORMAT",
        flag: "--log-format",
        default: "text",
        help: "text of json",
    },
    Setting {
        key: "backup_dir",
        env: "TAALBUDGET_BACKUP_DIR",
        flag: "--backup-dir",
        default: "",
        help: "map voor back-ups vanuit het scherm (standaard: backups/ naast de database)",
    },
    Setting {
        key: "retention_years",
        env: "TAALBUDGET_RETENTION_YEARS",
        flag: "--retention-years",
        default: "7",
        help: "bewaartermijn deelnemergegevens in jaren na de laatste plaatsing",
    },
    Setting {
        key: "read_memory_mb",
        env: "TAALBUDGET_READ_MEMORY_MB",
        flag: "--read-memory-mb",
        default: "128",
        help: "geheugen in MB dat het inlezen van één importbestand hooguit mag gebruiken (minstens 16)",
    },
    Setting {
        key: "imports_at_once",
        env: "TAALBUDGET_IMPORTS_AT_ONCE",
        flag: "--imports-at-once",
        default: "2",
        help: "importbestanden die tegelijk worden gecontroleerd of opgeslagen; de rest wacht op een vrije plek",
    },
    Setting {
        key: "imports_per_user",
        env: "TAALBUDGET_IMPORTS_PER_USER",
        flag: "--imports-per-user",
        default: "1",
        help: "importbestanden die één gebruiker tegelijk laat controleren of opslaan",
    },
    Setting {
        key: "upload_dir",
        env: "TAALBUDGET_UPLOAD_DIR",
        flag: "--upload-dir",
        default: "",
        help: "map voor geüploade importbestanden tot hun taak klaar is (standaard: uploads/ naast de database)",
    },
    Setting {
        key: "four_eyes_imports",
        env: "TAALBUDGET_FOUR_EYES_IMPORTS",
        flag: "--four-eyes-imports",
        default: "false",
        help: "vier ogen: een geïmporteerde grootboek- of financieringsbatch telt pas mee na goedkeuring door een andere financieel medewerker of beheerder",
    },
    Setting {
        key: "ocds_prefix",
        env: "TAALBUDGET_OCDS_PREFIX",
        flag: "--ocds-prefix",
        default: crate::report::ocds::DEFAULT_PREFIX,
        help: "OCDS-prefix van de gemeente (ocds- en zes tekens), te registreren bij de beheerders van OCDS",
    },
    Setting {
        key: "ocds_buyer_name",
        env: "TAALBUDGET_OCDS_BUYER_NAME",
        flag: "--ocds-buyer-name",
        default: crate::report::ocds::DEFAULT_BUYER_NAME,
        help: "naam van de gemeente als koper in de OCDS-publicatie",
    },
    Setting {
        key: "ocds_buyer_id",
        env: "TAALBUDGET_OCDS_BUYER_ID",
        flag: "--ocds-buyer-id",
        default: "",
        help: "OIN (20 cijfers) of KvK-nummer (8 cijfers) van de gemeente in de OCDS-publicatie",
    },
    Setting {
        key: "smtp_host",
        env: "TAALBUDGET_SMTP_HOST",
        flag: "--smtp-host",
        default: "",
        help: "mailserver voor de e-mail met meldingen (leeg: geen e-mail)",
    },
    Setting {
        key: "smtp_port",
        env: "TAALBUDGET_SMTP_PORT",
        flag: "--smtp-port",
        default: "",
        help: "poort van de mailserver (standaard 587 bij starttls, 465 bij tls, 25 bij none)",
    },
    Setting {
        key: "smtp_user",
        env: "TAALBUDGET_SMTP_USER",
        flag: "--smtp-user",
        default: "",
        help: "gebruikersnaam bij de mailserver (leeg: zonder inloggen)",
    },
    Setting {
        key: "smtp_password",
        env: "TAALBUDGET_SMTP_PASSWORD",
        flag: "--smtp-password",
        default: "",
        help: "wachtwoord bij de mailserver (liefst via de omgeving; wordt nooit getoond)",
    },
    Setting {
        key: "smtp_from",
        env: "TAALBUDGET_SMTP_FROM",
        flag: "--smtp-from",
        default: "",
        help: "afzender, bijvoorbeeld taalbudget <taalbudget@gemeente.nl>",
    },
    Setting {
        key: "smtp_tls",
        env: "TAALBUDGET_SMTP_TLS",
        flag: "--smtp-tls",
        default: "starttls",
        help: "starttls, tls of none (none alleen voor een relay op dezelfde machine of hetzelfde netwerk)",
    },
    Setting {
        key: "digest_hour",
        env: "TAALBUDGET_DIGEST_HOUR",
        flag: "--digest-hour",
        default: "7",
        help: "uur (0-23, Nederlandse tijd) waarop de e-mail met meldingen wordt verstuurd",
    },
];

/// Environment variables that hold secrets: shown as set or not, never their value.
pub const SECRET_ENV: &[(&str, &str)] = &[("TAALBUDGET_PASSWORD", "wachtwoord voor 'user add'")];

/// One effective setting, for `taalbudget config`.
#[derive(Clone, Debug)]
pub struct Effective {
    pub key: &'static str,
    pub value: String,
    pub source: Source,
}

/// The effective configuration and where each value came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub config: Config,
    pub effective: Vec<Effective>,
    /// The TOML file that was read, if any.
    pub file: Option<PathBuf>,
}

/// Values given on the command line, by setting key.
pub type Flags = BTreeMap<&'static str, String>;

/// Resolves every setting. `env` looks up an environment variable (so tests need not touch the process
/// environment); `config_file` comes from `--config` or `TAALBUDGET_CONFIG`.
pub fn resolve(
    flags: &Flags,
    env: &dyn Fn(&str) -> Option<String>,
    config_file: Option<&Path>,
) -> Result<Resolved, String> {
    let file_values = match config_file {
        Some(path) => read_file(path)?,
        None => BTreeMap::new(),
    };
    let mut values: BTreeMap<&'static str, (String, Source)> = BTreeMap::new();
    for s in SETTINGS {
        let picked = if let Some(v) = flags.get(s.key) {
            (v.clone(), Source::Flag)
        } else if let Some(v) = env(s.env).filter(|v| !v.is_empty()) {
            (v, Source::Env)
        } else if let Some(v) = file_values.get(s.key) {
            (v.clone(), Source::File)
        } else {
            (s.default.to_string(), Source::Default)
        };
        values.insert(s.key, picked);
    }
    let config = build(&values)?;
    let effective = SETTINGS
        .iter()
        .map(|s| {
            let (raw, source) = values[s.key].clone();
            let value = match s.key {
                "base_url" => mask_url(&raw),
                "backup_dir" => config.backup_dir.display().to_string(),
                "upload_dir" => config.upload_dir.display().to_string(),
                "path_prefix" => config.path_prefix.clone(),
                "smtp_password" if !raw.is_empty() => "********".into(),
                _ => raw,
            };
            Effective { key: s.key, value, source }
        })
        .collect();
    Ok(Resolved { config, effective, file: config_file.map(Path::to_path_buf) })
}

/// Reads the TOML file into raw string values; unknown keys are refused so a typo does not go unnoticed.
fn read_file(path: &Path) -> Result<BTreeMap<&'static str, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("het configuratiebestand {} kan niet worden gelezen: {e}", path.display()))?;
    let table: toml::Table =
        text.parse().map_err(|e| format!("het configuratiebestand {} is geen geldige TOML: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
            let known: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
            return Err(format!(
                "onbekende instelling '{key}' in {}; bekend zijn: {}",
                path.display(),
                known.join(", ")
            ));
        };
        let raw = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => {
                return Err(format!("instelling '{key}' in {} heeft een onbruikbare waarde: {other}", path.display()))
            }
        };
        out.insert(setting.key, raw);
    }
    Ok(out)
}

fn build(values: &BTreeMap<&'static str, (String, Source)>) -> Result<Config, String> {
    let get = |key: &str| values[key].0.trim().to_string();
    let problem = |key: &str, message: String| {
        let (raw, source) = &values[key];
        format!("instelling {key} ('{raw}', uit {}): {message}", source.label())
    };
    let listen: SocketAddr = get("listen")
        .parse()
        .map_err(|_| problem("listen", "geen adres met poort, bijvoorbeeld 127.0.0.1:8080".into()))?;
    let db_path = PathBuf::from(get("db"));
    if db_path.as_os_str().is_empty() {
        return Err(problem("db", "geef een bestandsnaam voor de database".into()));
    }
    let mut config = Config::new(listen, db_path);
    let base_url = get("base_url");
    if !base_url.is_empty() {
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(problem("base_url", "een adres begint met https:// (of http://)".into()));
        }
        config.base_url = Some(base_url.trim_end_matches('/').to_string());
    }
    config.path_prefix = parse_prefix(&get("path_prefix")).map_err(|m| problem("path_prefix", m))?;
    config.trusted_proxies = get("trusted_proxies")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpRange>()
                .map_err(|_| problem("trusted_proxies", format!("'{s}' is geen IP-adres of reeks zoals 10.0.0.0/24")))
        })
        .collect::<Result<_, _>>()?;
    config.secure_cookies =
        parse_bool(&get("secure_cookies")).ok_or_else(|| problem("secure_cookies", "kies true of false".into()))?;
    let mb = positive(&get("upload_limit_mb"))
        .ok_or_else(|| problem("upload_limit_mb", "een heel getal van minstens 1".into()))?;
    config.upload_limit = usize::try_from(mb).unwrap_or(usize::MAX / 2).saturating_mul(1024 * 1024);
    let idle = positive(&get("session_idle_minutes"))
        .ok_or_else(|| problem("session_idle_minutes", "een heel getal minuten van minstens 1".into()))?;
    config.session_idle = time::Duration::minutes(idle);
    let absolute = positive(&get("session_absolute_hours"))
        .ok_or_else(|| problem("session_absolute_hours", "een heel getal uren van minstens 1".into()))?;
    config.session_absolute = time::Duration::hours(absolute);
    config.log_format = match get("log_format").to_lowercase().as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        _ => return Err(problem("log_format", "kies text of json".into())),
    };
    let backup_dir = get("backup_dir");
    if !backup_dir.is_empty() {
        config.backup_dir = PathBuf::from(backup_dir);
    }
    config.retention_years =
        parse_retention_years(&get("retention_years")).map_err(|m| problem("retention_years", m))?;
    let read_mb = positive(&get("read_memory_mb"))
        .filter(|mb| *mb >= MIN_READ_MEMORY_MB)
        .ok_or_else(|| problem("read_memory_mb", format!("een heel getal MB van minstens {MIN_READ_MEMORY_MB}")))?;
    config.read_budget = u64::try_from(read_mb).unwrap_or(u64::MAX >> 21).min(u64::MAX >> 21) << 20;
    config.imports_at_once = count_setting(&get("imports_at_once"))
        .ok_or_else(|| problem("imports_at_once", "een heel getal van 1 tot en met 64".into()))?;
    config.imports_per_user = count_setting(&get("imports_per_user"))
        .ok_or_else(|| problem("imports_per_user", "een heel getal van 1 tot en met 64".into()))?;
    let upload_dir = get("upload_dir");
    if !upload_dir.is_empty() {
        config.upload_dir = PathBuf::from(upload_dir);
    }
    config.four_eyes_imports = parse_bool(&get("four_eyes_imports"))
        .ok_or_else(|| problem("four_eyes_imports", "kies true of false".into()))?;
    config.ocds.prefix =
        crate::report::ocds::parse_prefix(&get("ocds_prefix")).map_err(|m| problem("ocds_prefix", m))?;
    config.ocds.buyer_name = get("ocds_buyer_name");
    if config.ocds.buyer_name.is_empty() {
        return Err(problem("ocds_buyer_name", "geef de naam van de gemeente, bijvoorbeeld Gemeente Utrecht".into()));
    }
    config.ocds.buyer_id =
        crate::report::ocds::parse_buyer_id(&get("ocds_buyer_id")).map_err(|m| problem("ocds_buyer_id", m))?;
    config.smtp = parse_smtp(&get).map_err(|(key, m)| problem(key, m))?;
    config.digest_hour = get("digest_hour")
        .parse::<u8>()
        .ok()
        .filter(|h| *h <= 23)
        .ok_or_else(|| problem("digest_hour", "een heel uur van 0 tot en met 23".into()))?;
    Ok(config)
}

/// The mail server settings: None without a host; with one, a sender is required and the port follows the TLS
/// mode unless given.
fn parse_smtp(get: &dyn Fn(&str) -> String) -> Result<Option<Smtp>, (&'static str, String)> {
    let tls = match get("smtp_tls").to_lowercase().as_str() {
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        "none" => SmtpTls::None,
        _ => return Err(("smtp_tls", "kies starttls, tls of none".into())),
    };
    let host = get("smtp_host");
    if host.is_empty() {
        return Ok(None);
    }
    let port = match get("smtp_port").as_str() {
        "" => match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        },
        p => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or(("smtp_port", "een poortnummer van 1 tot en met 65535".into()))?,
    };
    let from = get("smtp_from");
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(("smtp_from", "geef een afzender, bijvoorbeeld taalbudget <taalbudget@gemeente.nl>".into()));
    }
    Ok(Some(Smtp { host, port, user: get("smtp_user"), password: get("smtp_password"), from, tls }))
}

/// A path prefix: empty for the root, else `/` followed by path segments, without a trailing slash.
pub fn parse_prefix(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "/" {
        return Ok(String::new());
    }
    if !raw.starts_with('/') {
        return Err(format!("een padvoorvoegsel begint met een schuine streep, bijvoorbeeld /{raw}"));
    }
    let trimmed = raw.trim_end_matches('/');
    let ok = !trimmed.contains("//")
        && trimmed[1..].chars().all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c))
        && !trimmed.split('/').any(|seg| seg == "." || seg == "..");
    if !ok {
        return Err("een padvoorvoegsel bevat alleen letters, cijfers, '-', '.', '_' en '/'".into());
    }
    Ok(trimmed.to_string())
}

/// The retention period in whole years, at least one.
pub fn parse_retention_years(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n as u32),
        Ok(n) => Err(format!("de bewaartermijn moet tussen 1 en 100 jaar liggen; {n} kan niet")),
        Err(_) => Err("de bewaartermijn is een heel aantal jaren, bijvoorbeeld 7".into()),
    }
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_lowercase().as_str() {
        "true" | "1" | "ja" | "yes" | "on" => Some(true),
        "false" | "0" | "nee" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn positive(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|n| *n >= 1)
}

/// Below this the reader could not hold even an ordinary sheet's styles and shared strings.
const MIN_READ_MEMORY_MB: i64 = 16;

/// How many files at once: at least one, and not so many that the limit means nothing.
fn count_setting(raw: &str) -> Option<usize> {
    positive(raw).filter(|n| *n <= 64).map(|n| n as usize)
}

/// Hides a password in `https://user:secret@host/`.
pub fn mask_url(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else { return raw.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:********@{}", &rest[at + 1..])
        }
        None => raw.to_string(),
    }
}

impl Resolved {
    /// The effective settings as `taalbudget config` prints them.
    pub fn render(&self, env: &dyn Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        match &self.file {
            Some(f) => out.push_str(&format!("# configuratiebestand: {}\n", f.display())),
            None => out.push_str("# geen configuratiebestand (--config of TAALBUDGET_CONFIG)\n"),
        }
        out.push_str("# voorrang: vlag > omgeving > configuratiebestand > standaard\n");
        for e in &self.effective {
            let value = if e.value.is_empty() { "(leeg)".to_string() } else { e.value.clone() };
            out.push_str(&format!("{:<24} = {:<40} # {}\n", e.key, value, e.source.label()));
        }
        for (var, help) in SECRET_ENV {
            let shown = if env(var).is_some() { "******** (gezet)" } else { "(niet gezet)" };
            out.push_str(&format!("{var:<24} = {shown:<40} # omgeving, {help}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_need_a_leading_slash_and_lose_a_trailing_one() {
        assert_eq!(parse_prefix("").unwrap(), "");
        assert_eq!(parse_prefix("/").unwrap(), "");
        assert_eq!(parse_prefix("/taalbudget/").unwrap(), "/taalbudget");
        assert_eq!(parse_prefix("/apps/taalbudget").unwrap(), "/apps/taalbudget");
        assert!(parse_prefix("taalbudget").unwrap_err().contains("begint met een schuine streep"));
        assert!(parse_prefix("//evil").is_err());
        assert!(parse_prefix("/a b").is_err());
        assert!(parse_prefix("/../x").is_err());
    }

    #[test]
    fn retention_refuses_zero_and_negative_years() {
        assert_eq!(parse_retention_years("7").unwrap(), 7);
        assert!(parse_retention_years("0").unwrap_err().contains("0 kan niet"));
        assert!(parse_retention_years("-3").unwrap_err().contains("-3 kan niet"));
        assert!(parse_retention_years("zeven").is_err());
    }

    #[test]
    fn proxy_ranges_match_addresses_inside_them_only() {
        let one: IpRange = "10.0.0.2".parse().unwrap();
        assert!(one.contains("10.0.0.2".parse().unwrap()));
        assert!(one.contains("::ffff:10.0.0.2".parse().unwrap()), "IPv4 seen through a dual-stack socket");
        assert!(!one.contains("10.0.0.3".parse().unwrap()));
        let net: IpRange = "10.0.0.0/24".parse().unwrap();
        assert!(net.contains("10.0.0.77".parse().unwrap()) && !net.contains("10.0.1.1".parse().unwrap()));
        let v6: IpRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()) && !v6.contains("fe80::1".parse().unwrap()));
        assert!("0.0.0.0/0".parse::<IpRange>().unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err() && "proxy".parse::<IpRange>().is_err());
    }

    #[test]
    fn mail_settings_come_from_flags_env_and_file_and_the_password_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("taalbudget.toml");
        std::fs::write(
            &file,
            "smtp_host = \"mail.gemeente.nl\"\nsmtp_from = \"taalbudget <tb@gemeente.nl>\"\ndigest_hour = 6\n",
        )
        .unwrap();
        let env = |name: &str| match name {
            "TAALBUDGET_SMTP_PASSWORD" => Some("geheim-wachtwoord".to_string()),
            "TAALBUDGET_SMTP_USER" => Some("tb".to_string()),
            _ => None,
        };
        let flags: Flags = [("smtp_tls", "tls".to_string())].into();
        let r = resolve(&flags, &env, Some(&file)).unwrap();
        let smtp = r.config.smtp.clone().unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("mail.gemeente.nl", 465, SmtpTls::Tls));
        assert_eq!((smtp.user.as_str(), smtp.password.as_str()), ("tb", "geheim-wachtwoord"));
        assert_eq!(r.config.digest_hour, 6);
        let shown = r.render(&env);
        assert!(!shown.contains("geheim-wachtwoord"), "{shown}");
        assert!(shown.contains("smtp_password            = ********"), "{shown}");
        // Without a host there is no mail server, and a host needs a sender.
        assert_eq!(resolve(&Flags::new(), &|_: &str| None, None).unwrap().config.smtp, None);
        let no_from: Flags = [("smtp_host", "mail".to_string())].into();
        assert!(resolve(&no_from, &|_: &str| None, None).unwrap_err().contains("smtp_from"));
        let bad_tls: Flags = [("smtp_tls", "ssl".to_string())].into();
        assert!(resolve(&bad_tls, &|_: &str| None, None).unwrap_err().contains("kies starttls, tls of none"));
        let bad_hour: Flags = [("digest_hour", "24".to_string())].into();
        assert!(resolve(&bad_hour, &|_: &str| None, None).unwrap_err().contains("digest_hour"));
    }

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(mask_url("https://piet:geheim@example.nl/tb"), "https://piet:********@example.nl/tb");
        assert_eq!(mask_url("https://example.nl/tb"), "https://example.nl/tb");
    }
}
