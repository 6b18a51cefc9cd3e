//! The operator's commands (`backup`, `restore`, `retention`): run the store operations and tell in Dutch
//! what happened. Exit codes: 0 done, 1 refused (nothing changed), 2 unusable input or unexpected error.

use std::path::Path;
use std::process::ExitCode;

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
