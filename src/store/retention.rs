//! Retention of participant-level data (AVG): client numbers of participants whose last placement
//! ended longer ago than the retention period are replaced by a random, non-reversible token.
//!
//! Which tables hold participant data is declared in one place, [`PARTICIPANT_TABLES`]. A table that
//! does not exist (yet) is skipped; a declared table without the declared columns is an error, so a
//! schema change cannot silently switch retention off.
//!
//! Rules:
//! - A participant (one client number) is anonymised only when every row carrying that number, in every
//!   declared table, has an end date before the cut-off. All of that participant's rows get the same token
//!   in the same run, so counts of participants and placements, and all money, stay exactly as they were.
//! - The token is random (`ANON-` + 16 hex digits), not a hash: nothing derived from the client number is
//!   kept, so no key or table can turn it back. Links between an anonymised participant and a later,
//!   new placement under the same client number are deliberately not kept.
//! - The audit log is append-only (triggers refuse UPDATE and DELETE), but it holds the client numbers in
//!   its before/after JSON. Keeping them readable there would defeat the retention period, so the run
//!   rewrites exactly those JSON string values (and `entity_id`) to the same token, inside one
//!   transaction that drops the no-update trigger, rewrites, and recreates the trigger from its stored
//!   definition. The rewrite itself is audited (counts only, no client numbers). It is the single,
//!   documented exception to append-only, and nothing else can use it: the trigger is back before commit.
//! - Afterwards the database is vacuumed and the write-ahead log checkpointed and truncated, with
//!   `secure_delete` on, so the old values do not linger in free pages or the WAL.

use std::collections::BTreeMap;

use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use time::Date;

use super::Db;
use crate::domain::dates;

/// A table with participant-level data: the column with the client number and the column with the date
/// the row's participation ended (ISO `YYYY-MM-DD`; NULL while it runs).
#[derive(Clone, Copy, Debug)]
pub struct ParticipantTable {
    pub table: &'static str,
    pub client_column: &'static str,
    pub ended_column: &'static str,
}

/// Every table that holds client numbers. Add a table here when a migration adds participant data.
/// For placements the end is `status_date`, which is set only once a placement is completed or dropped out;
/// a running placement (no end yet) keeps its participant out of retention.
pub const PARTICIPANT_TABLES: &[ParticipantTable] =
    &[ParticipantTable { table: "placement", client_column: "client_number", ended_column: "status_date" }];

/// The prefix of tokens, so anonymised rows are recognisable and never processed twice.
pub const TOKEN_PREFIX: &str = "ANON-";

/// One participant due for anonymisation.
#[derive(Clone, Debug, Serialize)]
pub struct Due {
    pub client_number: String,
    pub last_ended: String,
    /// (table, row id) of every row carrying the client number.
    pub rows: Vec<(String, i64)>,
}

/// What a run would do (dry run) or did.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub years: u32,
    pub cutoff: String,
    pub due: Vec<Due>,
    /// Declared tables that do not exist in this database.
    pub skipped: Vec<String>,
    /// Audit rows whose JSON was rewritten (0 in a dry run).
    pub audit_rows_rewritten: u64,
    /// True when other connections kept the write-ahead log from being emptied; the old values leave the
    /// WAL at the next checkpoint (stop the server for the run to have them gone at once).
    pub wal_pending: bool,
}

impl Plan {
    pub fn row_count(&self) -> usize {
        self.due.iter().map(|d| d.rows.len()).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("tabel {table} mist de kolom {column} die de bewaartermijn verwacht; pas PARTICIPANT_TABLES in src/store/retention.rs aan")]
    MissingColumn { table: String, column: String },
    #[error("bewaartermijn: {0}")]
    Db(#[from] sqlx::Error),
}

/// The cut-off: participation that ended before this date is past the retention period.
pub fn cutoff(today: Date, years: u32) -> Date {
    let year = today.year() - years as i32;
    today.replace_year(year).unwrap_or_else(|_| {
        // 29 February in a year without it.
        Date::from_calendar_date(year, time::Month::February, 28).expect("28 February exists")
    })
}

/// Per client number while planning: all rows ended, the latest end date, the rows.
type Seen = (bool, String, Vec<(String, i64)>);

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Finds the participants due for anonymisation in `tables`; changes nothing.
pub async fn plan(db: &Db, tables: &[ParticipantTable], years: u32, today: Date) -> Result<Plan, RetentionError> {
    let mut conn = db.acquire().await?;
    plan_on(&mut conn, tables, years, today).await
}

/// [`plan`] on one connection, so [`apply`] can plan inside its write transaction: nothing can change
/// between deciding who is due and anonymising them.
async fn plan_on(
    conn: &mut sqlx::SqliteConnection,
    tables: &[ParticipantTable],
    years: u32,
    today: Date,
) -> Result<Plan, RetentionError> {
    let cutoff = dates::iso(cutoff(today, years));
    let mut skipped = Vec::new();
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for t in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?)").bind(t.table).fetch_all(&mut *conn).await?;
        if columns.is_empty() {
            skipped.push(t.table.to_string());
            continue;
        }
        for column in ["id", t.client_column, t.ended_column] {
            if !columns.iter().any(|c| c == column) {
                return Err(RetentionError::MissingColumn { table: t.table.into(), column: column.into() });
            }
        }
        let sql = format!(
            "SELECT id, {client}, {ended} FROM {table} WHERE {client} IS NOT NULL AND substr({client}, 1, {n}) <> ?",
            client = quote(t.client_column),
            ended = quote(t.ended_column),
            table = quote(t.table),
            n = TOKEN_PREFIX.len(),
        );
        let rows: Vec<(i64, String, Option<String>)> =
            sqlx::query_as(&sql).bind(TOKEN_PREFIX).fetch_all(&mut *conn).await?;
        for (id, client, ended) in rows {
            let entry = seen.entry(client).or_insert_with(|| (true, String::new(), Vec::new()));
            match ended.filter(|e| !e.trim().is_empty()) {
                Some(e) => {
                    if e > entry.1 {
                        entry.1 = e;
                    }
                }
                None => entry.0 = false,
            }
            entry.2.push((t.table.to_string(), id));
        }
    }
    let due = seen
        .into_iter()
        .filter(|(_, (all_ended, last, _))| *all_ended && last.as_str() < cutoff.as_str())
        .map(|(client_number, (_, last_ended, rows))| Due { client_number, last_ended, rows })
        .collect();
    Ok(Plan { years, cutoff, due, skipped, audit_rows_rewritten: 0, wal_pending: false })
}

fn token() -> String {
    let mut bytes = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode_upper(bytes))
}

/// Anonymises every participant in the plan, rewrites the audit log's copies, records the run, and
/// compacts the database so the old values are gone from the file.
pub async fn apply(
    db: &Db,
    tables: &[ParticipantTable],
    years: u32,
    today: Date,
    actor: &str,
) -> Result<Plan, RetentionError> {
    let mut conn = db.acquire().await?;
    sqlx::query("PRAGMA secure_delete = ON").execute(&mut *conn).await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let result = async {
        let plan = plan_on(&mut conn, tables, years, today).await?;
        let rewritten = rewrite(&mut conn, tables, &plan, actor).await?;
        Ok::<_, RetentionError>((plan, rewritten))
    }
    .await;
    let mut plan = match result {
        Ok((plan, rewritten)) => {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            Plan { audit_rows_rewritten: rewritten, ..plan }
        }
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err(e);
        }
    };
    if !plan.due.is_empty() {
        sqlx::query("VACUUM").execute(&mut *conn).await?;
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await?;
        plan.wal_pending = busy != 0;
    }
    Ok(plan)
}

async fn rewrite(
    conn: &mut sqlx::SqliteConnection,
    tables: &[ParticipantTable],
    plan: &Plan,
    actor: &str,
) -> Result<u64, RetentionError> {
    let trigger_sql: Option<String> =
        sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'audit_log_no_update'")
            .fetch_optional(&mut *conn)
            .await?;
    let mut rewritten = 0;
    if !plan.due.is_empty() {
        sqlx::query("DROP TRIGGER IF EXISTS audit_log_no_update").execute(&mut *conn).await?;
    }
    let mut per_table: BTreeMap<&str, u64> = BTreeMap::new();
    for due in &plan.due {
        let token = token();
        for t in tables {
            if plan.skipped.iter().any(|s| s == t.table) {
                continue;
            }
            let sql = format!(
                "UPDATE {table} SET {client} = ?1 WHERE {client} = ?2",
                table = quote(t.table),
                client = quote(t.client_column)
            );
            let n = sqlx::query(&sql).bind(&token).bind(&due.client_number).execute(&mut *conn).await?;
            *per_table.entry(t.table).or_default() += n.rows_affected();
        }
        // The client number as a JSON string value, quotes included, so "12345" inside "123456" is not hit.
        let old_json = serde_json::to_string(&due.client_number).expect("a string serializes");
        let new_json = serde_json::to_string(&token).expect("a string serializes");
        let n = sqlx::query(
            "UPDATE audit_log SET
                before_json = replace(before_json, ?1, ?2),
                after_json = replace(after_json, ?1, ?2),
                entity_id = CASE WHEN entity_id = ?3 THEN ?4 ELSE entity_id END
             WHERE instr(before_json, ?1) > 0 OR instr(after_json, ?1) > 0 OR entity_id = ?3",
        )
        .bind(&old_json)
        .bind(&new_json)
        .bind(&due.client_number)
        .bind(&token)
        .execute(&mut *conn)
        .await?;
        rewritten += n.rows_affected();
    }
    if !plan.due.is_empty() {
        if let Some(sql) = trigger_sql {
            sqlx::query(&sql).execute(&mut *conn).await?;
        }
    }
    let after = json!({
        "retention_years": plan.years,
        "cutoff": plan.cutoff,
        "participants": plan.due.len(),
        "rows": per_table,
        "audit_rows_rewritten": rewritten,
        "skipped_tables": plan.skipped,
    });
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(dates::now_timestamp())
    .bind(actor)
    .bind("anonymise")
    .bind("retention")
    .bind(&plan.cutoff)
    .bind(Option::<String>::None)
    .bind(after.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_cutoff_is_the_same_day_years_earlier_and_copes_with_leap_days() {
        assert_eq!(cutoff(date!(2026 - 11 - 25), 7), date!(2019 - 11 - 25));
        assert_eq!(cutoff(date!(2024 - 02 - 29), 1), date!(2023 - 02 - 28));
    }
}
