//! Configuration: flag > environment > file > default, each value with its source, secrets masked,
//! and bad values refused with a message that names the setting and where it came from.

use std::collections::HashMap;

use taalbudget::config::{self, Flags, LogFormat, Source};

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k: &str| map.get(k).cloned()
}

fn source_of(resolved: &config::Resolved, key: &str) -> (String, Source) {
    let e = resolved.effective.iter().find(|e| e.key == key).unwrap();
    (e.value.clone(), e.source)
}

#[test]
fn flags_beat_the_environment_which_beats_the_file_which_beats_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taalbudget.toml");
    std::fs::write(
        &file,
        r#"
listen = "0.0.0.0:9000"
path_prefix = "/uit-bestand"
retention_years = 10
trusted_proxies = ["127.0.0.1", "::1"]
base_url = "https://beheer:geheim@intern.gemeente.nl/taalbudget"
log_format = "json"
"#,
    )
    .unwrap();
    let env = env_of(&[("TAALBUDGET_PATH_PREFIX", "/uit-omgeving"), ("TAALBUDGET_RETENTION_YEARS", "8")]);
    let mut flags = Flags::new();
    flags.insert("retention_years", "9".into());
    let r = config::resolve(&flags, &env, Some(&file)).unwrap();

    assert_eq!(r.config.retention_years, 9);
    assert_eq!(source_of(&r, "retention_years"), ("9".into(), Source::Flag));
    assert_eq!(r.config.path_prefix, "/uit-omgeving");
    assert_eq!(source_of(&r, "path_prefix"), ("/uit-omgeving".into(), Source::Env));
    assert_eq!(r.config.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(source_of(&r, "listen").1, Source::File);
    assert_eq!(r.config.trusted_proxies.len(), 2);
    assert_eq!(r.config.log_format, LogFormat::Json);
    assert_eq!(source_of(&r, "upload_limit_mb"), ("50".into(), Source::Default));
    assert_eq!(r.config.upload_limit, 50 * 1024 * 1024);
    assert_eq!(r.config.db_path.to_str(), Some("taalbudget.db"));
    assert_eq!(r.config.backup_dir.to_str(), Some("backups"));

    let shown = r.render(&env_of(&[("TAALBUDGET_PASSWORD", "heel-geheim-wachtwoord")]));
    assert!(shown.contains("https://beheer:********@intern.gemeente.nl/taalbudget"), "{shown}");
    assert!(!shown.contains("geheim@") && !shown.contains("heel-geheim-wachtwoord"), "{shown}");
    assert!(shown.contains("TAALBUDGET_PASSWORD") && shown.contains("******** (gezet)"), "{shown}");
    assert!(shown.contains(&format!("# configuratiebestand: {}", file.display())));
    let prefix_line = shown.lines().find(|l| l.starts_with("path_prefix")).unwrap();
    assert!(prefix_line.contains("/uit-omgeving") && prefix_line.ends_with("# omgeving"), "{prefix_line}");
}

#[test]
fn bad_settings_are_refused_naming_the_setting_and_its_source() {
    let none = env_of(&[]);
    let mut flags = Flags::new();
    flags.insert("path_prefix", "taalbudget".into());
    let e = config::resolve(&flags, &none, None).unwrap_err();
    assert_eq!(
        e,
        "instelling path_prefix ('taalbudget', uit vlag): een padvoorvoegsel begint met een schuine streep, bijvoorbeeld /taalbudget"
    );

    for years in ["0", "-2"] {
        let e = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_RETENTION_YEARS", years)]), None).unwrap_err();
        assert!(e.starts_with(&format!("instelling retention_years ('{years}', uit omgeving)")), "{e}");
        assert!(e.contains(&format!("{years} kan niet")), "{e}");
    }

    let e = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_TRUSTED_PROXIES", "127.0.0.1, proxy")]), None)
        .unwrap_err();
    assert!(e.contains("'proxy' is geen IP-adres"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "lissen = \"0.0.0.0:80\"\n").unwrap();
    let e = config::resolve(&Flags::new(), &none, Some(&file)).unwrap_err();
    assert!(e.contains("onbekende instelling 'lissen'"), "{e}");
}

#[test]
fn the_config_command_prints_effective_settings_with_sources_and_refuses_bad_input_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taalbudget.toml");
    std::fs::write(&file, "backup_dir = \"/srv/backups\"\nsecure_cookies = false\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .args(["--listen", "127.0.0.1:9999", "config"])
        .env("TAALBUDGET_CONFIG", &file)
        .env("TAALBUDGET_DB", "/var/lib/taalbudget/taalbudget.db")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |key: &str| text.lines().find(|l| l.starts_with(&format!("{key} "))).unwrap().to_string();
    assert!(line("listen").contains("127.0.0.1:9999") && line("listen").ends_with("# vlag"), "{text}");
    assert!(line("db").contains("/var/lib/taalbudget/taalbudget.db") && line("db").ends_with("# omgeving"));
    assert!(line("backup_dir").contains("/srv/backups") && line("backup_dir").ends_with("# configuratiebestand"));
    assert!(line("secure_cookies").contains("false"));
    assert!(line("log_format").ends_with("# standaard"));

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .args(["--path-prefix", "taalbudget/", "config"])
        .env_remove("TAALBUDGET_CONFIG")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("begint met een schuine streep"));
}

#[test]
fn the_read_budget_import_limits_and_upload_directory_are_settings_with_sensible_defaults() {
    let none = env_of(&[]);
    let r = config::resolve(&Flags::new(), &none, None).unwrap();
    assert_eq!(r.config.read_budget, 128 << 20);
    assert_eq!(r.config.read_budget(), taalbudget::import::budget::ReadBudget::DEFAULT);
    assert_eq!((r.config.imports_at_once, r.config.imports_per_user), (2, 1));
    assert_eq!(r.config.upload_dir.to_str(), Some("uploads"), "beside the database, like backups/");
    assert_eq!(source_of(&r, "read_memory_mb"), ("128".into(), Source::Default));

    let env = env_of(&[("TAALBUDGET_READ_MEMORY_MB", "64"), ("TAALBUDGET_IMPORTS_AT_ONCE", "3")]);
    let mut flags = Flags::new();
    flags.insert("imports_per_user", "2".into());
    flags.insert("upload_dir", "/srv/taalbudget/uploads".into());
    let r = config::resolve(&flags, &env, None).unwrap();
    assert_eq!(r.config.read_budget, 64 << 20);
    assert_eq!((r.config.imports_at_once, r.config.imports_per_user), (3, 2));
    assert_eq!(source_of(&r, "upload_dir"), ("/srv/taalbudget/uploads".into(), Source::Flag));

    let e = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_READ_MEMORY_MB", "8")]), None).unwrap_err();
    assert_eq!(e, "instelling read_memory_mb ('8', uit omgeving): een heel getal MB van minstens 16");
    let e = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_IMPORTS_AT_ONCE", "0")]), None).unwrap_err();
    assert_eq!(e, "instelling imports_at_once ('0', uit omgeving): een heel getal van 1 tot en met 64");
}

#[test]
fn the_ocds_publisher_comes_from_file_environment_and_flag_and_bad_identifiers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taalbudget.toml");
    std::fs::write(&file, "ocds_prefix = \"ocds-213czf\"\nocds_buyer_id = \"30280353\"\n").unwrap();
    let mut flags = Flags::new();
    flags.insert("ocds_buyer_id", "00000001002220647000".into());
    let env = env_of(&[("TAALBUDGET_OCDS_BUYER_NAME", "Gemeente Utrecht")]);
    let r = config::resolve(&flags, &env, Some(&file)).unwrap();
    assert_eq!(r.config.ocds.prefix, "ocds-213czf");
    assert_eq!(r.config.ocds.buyer_name, "Gemeente Utrecht");
    let id = r.config.ocds.buyer_id.clone().unwrap();
    assert_eq!((id.scheme, id.id.as_str()), ("NL-OIN", "00000001002220647000"), "the flag beats the file");
    assert_eq!(source_of(&r, "ocds_prefix"), ("ocds-213czf".into(), Source::File));
    assert_eq!(source_of(&r, "ocds_buyer_name"), ("Gemeente Utrecht".into(), Source::Env));
    assert!(r.config.ocds.unset().is_empty());

    let e = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_OCDS_BUYER_ID", "1234")]), None).unwrap_err();
    assert_eq!(
        e,
        "instelling ocds_buyer_id ('1234', uit omgeving): '1234' is geen OIN (20 cijfers) en geen KvK-nummer (8 cijfers); vul een van beide in, of laat het leeg"
    );
    let defaults = config::resolve(&Flags::new(), &env_of(&[]), None).unwrap();
    assert_eq!(defaults.config.ocds, taalbudget::report::ocds::Publication::default());
    assert_eq!(defaults.config.ocds.unset().len(), 3);
}

#[test]
fn four_eyes_approval_of_imports_is_off_unless_set_in_the_file_the_environment_or_a_flag() {
    let none = env_of(&[]);
    let r = config::resolve(&Flags::new(), &none, None).unwrap();
    assert!(!r.config.four_eyes_imports);
    assert_eq!(source_of(&r, "four_eyes_imports"), ("false".into(), Source::Default));
    assert!(r.render(&none).contains("four_eyes_imports        = false"), "{}", r.render(&none));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taalbudget.toml");
    std::fs::write(&file, "four_eyes_imports = true\n").unwrap();
    let r = config::resolve(&Flags::new(), &none, Some(&file)).unwrap();
    assert!(r.config.four_eyes_imports);
    assert_eq!(source_of(&r, "four_eyes_imports"), ("true".into(), Source::File));
    let r = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_FOUR_EYES_IMPORTS", "ja")]), None).unwrap();
    assert!(r.config.four_eyes_imports);
    let mut flags = Flags::new();
    flags.insert("four_eyes_imports", "false".into());
    let r = config::resolve(&flags, &none, Some(&file)).unwrap();
    assert!(!r.config.four_eyes_imports, "the flag beats the file");

    let e = config::resolve(&Flags::new(), &env_of(&[("TAALBUDGET_FOUR_EYES_IMPORTS", "soms")]), None).unwrap_err();
    assert_eq!(e, "instelling four_eyes_imports ('soms', uit omgeving): kies true of false");
}

#[test]
fn a_report_piped_into_a_reader_that_stops_early_ends_without_a_panic() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .args(["templates", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe as `head -1` does, before the rest is written.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("standaard-grootboek"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
