//! The operator's commands (`backup`, `restore`, `retention`, `rules`): run the store operations and tell in
//! Dutch what happened. Exit codes: 0 done, 1 refused (nothing changed), 2 unusable input or unexpected error.

pub mod tokens;

use std::path::Path;
use std::process::ExitCode;

use crate::domain::attribution::{AmountSign, ContractChoice, Criteria, Move, Rule, Tally};
use crate::domain::words;
use crate::store::backup::{self, BackupError, BackupReport, Origin, RestoreError};
use crate::store::retention::{self, PARTICIPANT_TABLES};
use crate::{domain::dates, store};

/// Who the audit log records for command-line work.
pub fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "onbekend".into()))
}

pub fn describe_backup(report: &BackupReport) -> String {
    let mut out = format!(
        "Back-up geschreven: {}\n  grootte: {} bytes\n  schemaversie: {}\n  tabellen: {}, rijen: {}\n",
        report.path.display(),
        report.bytes,
        report.schema_version,
        report.tables.len(),
        report.rows()
    );
    for (table, rows) in &report.tables {
        out.push_str(&format!("    {table:<28} {rows:>10}\n"));
    }
    out.push_str("  Gecontroleerd: integriteit in orde, aantallen rijen per tabel gelijk aan de database.\n");
    out
}

pub async fn backup(db_path: &Path, target: &Path) -> anyhow::Result<ExitCode> {
    // Refuse before opening (and so creating) a database that is not there.
    if !db_path.exists() {
        eprintln!("fout: de database {} bestaat niet; er is niets om te back-uppen", db_path.display());
        return Ok(ExitCode::from(1));
    }
    // As it is: a backup never migrates a database that a server of another version may be using.
    let db = store::open_existing(db_path).await?;
    let result = backup::backup(&db, target).await;
    let code = match result {
        Ok(report) => {
            if store::has_table(&db, "backup_log").await? {
                backup::log(&db, &report, Origin::Cli, &cli_actor()).await?;
            }
            print!("{}", describe_backup(&report));
            ExitCode::SUCCESS
        }
        Err(e @ (BackupError::Exists(_) | BackupError::NoDirectory(_) | BackupError::NotWritable { .. })) => {
            eprintln!("fout: {e}; er is niets geschreven");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("fout: {e}");
            ExitCode::from(2)
        }
    };
    db.close().await;
    Ok(code)
}

pub async fn restore(db_path: &Path, source: &Path) -> anyhow::Result<ExitCode> {
    match backup::restore(source, db_path, &cli_actor()).await {
        Ok(report) => {
            println!("Teruggezet: {} -> {}", source.display(), db_path.display());
            println!("  schemaversie van de back-up: {}, nu: {}", report.from_version, report.schema_version);
            println!("  tabellen: {}, rijen: {}", report.tables.len(), report.tables.values().sum::<i64>());
            if let Some(previous) = report.previous {
                println!("  De vervangen database is bewaard als {}", previous.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (RestoreError::Io(_) | RestoreError::Other(_))) => {
            eprintln!("fout: {e}");
            Ok(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!("fout: {e}; er is niets gewijzigd");
            Ok(ExitCode::from(1))
        }
    }
}

pub async fn retention(db_path: &Path, years: u32, dry_run: bool) -> anyhow::Result<ExitCode> {
    if !db_path.exists() {
        eprintln!("fout: de database {} bestaat niet", db_path.display());
        return Ok(ExitCode::from(1));
    }
    let db = store::open_existing(db_path).await?;
    let current = store::schema_version(&db).await.ok().flatten().unwrap_or(0);
    if current != store::binary_schema_version() {
        db.close().await;
        eprintln!(
            "fout: de database heeft schemaversie {current} en deze taalbudget {}; start eerst de server van deze versie (die werkt de database bij) en probeer het dan opnieuw",
            store::binary_schema_version()
        );
        return Ok(ExitCode::from(1));
    }
    let today = dates::today();
    let result = if dry_run {
        retention::plan(&db, PARTICIPANT_TABLES, years, today).await
    } else {
        retention::apply(&db, PARTICIPANT_TABLES, years, today, &cli_actor()).await
    };
    db.close().await;
    let plan = match result {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("fout: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    println!(
        "Bewaartermijn {} jaar: deelnemers van wie de laatste plaatsing vóór {} eindigde.",
        plan.years, plan.cutoff
    );
    for table in &plan.skipped {
        println!("  (tabel {table} bestaat nog niet in deze database; overgeslagen)");
    }
    let verb = if dry_run { "te anonimiseren" } else { "geanonimiseerd" };
    for due in &plan.due {
        let rows: Vec<String> = due.rows.iter().map(|(t, id)| format!("{t} {id}")).collect();
        // Row references only: this output may end up in a log, and must not spread the client numbers.
        println!("  deelnemer met {} (laatst geëindigd {})", rows.join(", "), due.last_ended);
    }
    println!("{} deelnemers, {} rijen {verb}.", plan.due.len(), plan.row_count());
    if !dry_run {
        println!(
            "{} auditregels bijgewerkt; de run staat in het auditlog (zonder cliëntnummers).",
            plan.audit_rows_rewritten
        );
        if plan.wal_pending {
            println!("Let op: de server hield het write-ahead-log bezet; de oude waarden verdwijnen daar bij het volgende checkpoint. Stop de server tijdens de run om ze direct kwijt te zijn.");
        }
        println!("Let op: oudere back-ups bevatten de oorspronkelijke cliëntnummers nog; ruim die op volgens de bewaartermijn.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The names a rules listing or plan shows: stream codes, rule names, contract references.
struct RuleNames {
    streams: std::collections::HashMap<i64, String>,
    rules: std::collections::HashMap<i64, (usize, String)>,
}

impl RuleNames {
    async fn load(db: &store::Db, rules: &[Rule]) -> anyhow::Result<RuleNames> {
        let streams = store::funding::streams(db).await?.into_iter().map(|(s, _)| (s.id, s.code)).collect();
        let rules = rules.iter().enumerate().map(|(i, r)| (r.id, (i + 1, r.name.clone()))).collect();
        Ok(RuleNames { streams, rules })
    }

    fn stream(&self, id: Option<i64>) -> Option<String> {
        id.map(|s| self.streams.get(&s).cloned().unwrap_or_default())
    }

    fn rule(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|r| self.rules.get(&r)).map(|(_, name)| name.clone())
    }

    /// "SPUK (regel 2 Inburgering)", or "wachtrij".
    fn charge(&self, stream: Option<i64>, rule: Option<i64>) -> String {
        match (self.stream(stream), rule.and_then(|r| self.rules.get(&r))) {
            (None, _) => "wachtrij".into(),
            (Some(code), Some((place, name))) => format!("{code} (regel {place} {name})"),
            (Some(code), None) => format!("{code} (zonder regel)"),
        }
    }
}

fn tally_json(t: &Tally) -> serde_json::Value {
    serde_json::json!({ "lines": t.lines, "amount": t.total })
}

/// `taalbudget rules list [--json]`: the rules in order, with what each takes now.
pub async fn rules_list(db_path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let db = store::connect(db_path).await?;
    let rules = store::attribution::rules(&db).await?;
    let plan = store::attribution::plan_apply(&db).await?;
    let names = RuleNames::load(&db, &rules).await?;
    db.close().await;
    if json {
        let list: Vec<serde_json::Value> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let taken = plan.takes.get(&r.id).copied().unwrap_or_default();
                let c = &r.criteria;
                serde_json::json!({
                    "place": i + 1,
                    "id": r.id,
                    "name": r.name,
                    "cost_centre": c.cost_centre,
                    "gl_account": c.gl_account,
                    "task_field": c.task_field,
                    "creditor_number": c.creditor_number,
                    "description_contains": c.description_contains,
                    "date_from": c.date_from.map(dates::iso),
                    "date_until": c.date_until.map(dates::iso),
                    "amount_sign": c.amount_sign,
                    "stream": names.stream(Some(r.stream_id)),
                    "budget_line_id": r.budget_line_id,
                    "contract": match r.contract {
                        ContractChoice::None => serde_json::Value::Null,
                        ContractChoice::ViaCreditor => "via_creditor".into(),
                        ContractChoice::Direct(id) => id.into(),
                    },
                    "lines": taken.lines,
                    "amount": taken.total,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "rules": list, "queue": tally_json(&plan.queue) }));
        return Ok(ExitCode::SUCCESS);
    }
    if rules.is_empty() {
        println!("Nog geen toerekeningsregels: alle grootboekregels staan in de wachtrij.");
    }
    for (i, r) in rules.iter().enumerate() {
        let taken = plan.takes.get(&r.id).copied().unwrap_or_default();
        let criteria = criteria_words(&r.criteria);
        let stream = names.stream(Some(r.stream_id)).unwrap_or_default();
        println!("{:>3}. {} -> {stream}: {criteria}", i + 1, r.name);
        println!("     neemt {}, samen {}", words::count(taken.lines, "regel", "regels"), taken.total);
    }
    println!("Wachtrij: {}, samen {}", words::count(plan.queue.lines, "regel", "regels"), plan.queue.total);
    Ok(ExitCode::SUCCESS)
}

/// A rule's criteria in words, for the command line.
fn criteria_words(c: &Criteria) -> String {
    let mut parts = Vec::new();
    for (label, p) in [
        ("kostenplaats", &c.cost_centre),
        ("rekening", &c.gl_account),
        ("taakveld", &c.task_field),
        ("crediteur", &c.creditor_number),
    ] {
        if !p.is_empty() {
            parts.push(format!("{label} {p}"));
        }
    }
    if !c.description_contains.trim().is_empty() {
        parts.push(format!("omschrijving bevat '{}'", c.description_contains));
    }
    if let Some(f) = c.date_from {
        parts.push(format!("vanaf {}", dates::iso(f)));
    }
    if let Some(u) = c.date_until {
        parts.push(format!("tot en met {}", dates::iso(u)));
    }
    if c.amount_sign != AmountSign::Both {
        parts.push(c.amount_sign.label().to_lowercase());
    }
    parts.join(", ")
}

/// `taalbudget rules apply [--dry-run] [--json]`: what applying the rules moves, per rule and stream. Exit 1 when
/// anything in a closed year would move (those lines stay where they are); applying is the web's "Regels opnieuw
/// toepassen".
pub async fn rules_apply(db_path: &Path, dry_run: bool, json: bool) -> anyhow::Result<ExitCode> {
    let db = store::connect(db_path).await?;
    let rules = store::attribution::rules(&db).await?;
    let plan = store::attribution::plan_apply(&db).await?;
    let names = RuleNames::load(&db, &rules).await?;
    let outcome = if dry_run { None } else { Some(store::attribution::apply(&db, &cli_actor()).await?) };
    db.close().await;
    let refused = plan.closed_moved().lines > 0;
    if json {
        let moves = |moves: &std::collections::BTreeMap<Move, Tally>| -> Vec<serde_json::Value> {
            moves
                .iter()
                .map(|(m, t)| {
                    serde_json::json!({
                        "closed_year": m.closed_year,
                        "from_stream": names.stream(m.from_stream),
                        "from_rule": names.rule(m.from_rule),
                        "to_stream": names.stream(m.to_stream),
                        "to_rule": names.rule(m.to_rule),
                        "lines": t.lines,
                        "amount": t.total,
                    })
                })
                .collect()
        };
        let per_rule: Vec<serde_json::Value> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let t = plan.takes.get(&r.id).copied().unwrap_or_default();
                serde_json::json!({
                    "place": i + 1, "id": r.id, "name": r.name, "stream": names.stream(Some(r.stream_id)),
                    "lines": t.lines, "amount": t.total,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "dry_run": dry_run,
                "rules": per_rule,
                "queue": tally_json(&plan.queue),
                "moved": tally_json(&plan.moved()),
                "moves": moves(&plan.moves),
                "closed_moved": tally_json(&plan.closed_moved()),
                "closed_moves": moves(&plan.closed_moves),
                "changed": outcome.as_ref().map(|o| o.changed),
            })
        );
    } else {
        let verb = if dry_run { "zou verplaatsen" } else { "verplaatst" };
        let moved = plan.moved();
        println!(
            "Toepassen {verb} {}, samen {}.",
            words::count(moved.lines, "grootboekregel", "grootboekregels"),
            moved.total
        );
        for (m, t) in &plan.moves {
            println!(
                "  {} -> {}: {}, {}",
                names.charge(m.from_stream, m.from_rule),
                names.charge(m.to_stream, m.to_rule),
                words::count(t.lines, "regel", "regels"),
                t.total
            );
        }
        for (i, r) in rules.iter().enumerate() {
            let t = plan.takes.get(&r.id).copied().unwrap_or_default();
            println!("{:>3}. {}: {}, samen {}", i + 1, r.name, words::count(t.lines, "regel", "regels"), t.total);
        }
        println!("Wachtrij: {}, samen {}", words::count(plan.queue.lines, "regel", "regels"), plan.queue.total);
        for (m, t) in &plan.closed_moves {
            eprintln!(
                "geweigerd: {} in afgesloten jaar {} zou{} van {} naar {} gaan ({}); die blijven staan",
                words::count(t.lines, "grootboekregel", "grootboekregels"),
                m.closed_year.unwrap_or_default(),
                if t.lines == 1 { "" } else { "den" },
                names.charge(m.from_stream, m.from_rule),
                names.charge(m.to_stream, m.to_rule),
                t.total
            );
        }
        if refused && !dry_run {
            let t = plan.closed_moved();
            eprintln!(
                "Niet alles toegepast: {} ({}) in een afgesloten jaar {} niet verplaatst; de rest is toegepast. \
                 Laat de gewijzigde regel gelden vanaf een boekdatum na het afgesloten jaar, of vraag een beheerder \
                 het jaar te heropenen.",
                words::count(t.lines, "grootboekregel", "grootboekregels"),
                t.total,
                if t.lines == 1 { "is" } else { "zijn" },
            );
        }
    }
    // Lines a closed year keeps where they are: the rules and the stored attribution now disagree, and a script
    // must notice that as it does in the dry run, so both exit 1.
    Ok(if refused { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `taalbudget export ocds [--out FILE]`: every contract as an OCDS release package. Exit 1 when there is no
/// contract yet (a package holds at least one release).
pub async fn export_ocds(config: &crate::config::Config, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    use crate::report::ocds;
    let db = store::connect(&config.db_path).await?;
    let sources = ocds::load(&db).await?;
    db.close().await;
    let package = ocds::build(&sources, &config.ocds, &ocds::package_uri(config));
    if package.releases.is_empty() {
        eprintln!("fout: er zijn nog geen contracten; een OCDS-pakket bevat minstens één contract");
        return Ok(ExitCode::from(1));
    }
    for setting in config.ocds.unset() {
        eprintln!("let op: nog niet ingesteld: {setting}");
    }
    let json = ocds::to_json(&package);
    match out {
        Some(path) => {
            std::fs::write(path, &json).map_err(|e| anyhow::anyhow!("kan {} niet schrijven: {e}", path.display()))?;
            eprintln!(
                "OCDS-pakket met {} geschreven naar {} ({} bytes)",
                words::count(package.releases.len() as i64, "contract", "contracten"),
                path.display(),
                json.len()
            );
        }
        None => std::io::Write::write_all(&mut std::io::stdout(), json.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
