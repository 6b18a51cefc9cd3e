//! The import's staging database: a private SQLite database attached to the import's own connection, where the
//! read phase keeps the checked ledger lines with where the attribution rules put them, so the main database's
//! write lock is taken only to move them in with one INSERT ... SELECT each.
//!
//! Why a database and not memory: a ledger of 1,000,000 lines would cost hundreds of megabytes held as records;
//! SQLite keeps the staging database's pages in a small cache and the rest on disk. Writing it takes only the
//! staging database's own lock, never the main database's. The command line's import uses an anonymous
//! temporary database, unlinked the moment SQLite creates it, so nothing is left behind, not even after a crash.
//! The web's preview keeps its staging database in a file beside the upload instead, so the confirmation can
//! write what the preview checked without reading the file again; that file is deleted with the upload.

use std::path::Path;

use sqlx::Row;

use super::attribution::RuleBook;
use super::bulk::{self, Value};
use super::{Conn, Tx};
use crate::domain::dates;
use crate::import::ledger::LedgerLine;
use crate::import::{Charge, Prepared};
use crate::money::Money;

/// Where an import keeps its checked ledger lines.
#[derive(Clone, Copy, Debug)]
pub enum Staging<'a> {
    /// Nowhere: a dry run, or a kind that keeps its records in memory.
    None,
    /// An anonymous temporary database that goes with the import's connection.
    Private,
    /// A new, empty file (the web's preview), which the caller deletes when it is no longer needed.
    File(&'a Path),
    /// A file a `File` staging filled earlier, for the write phase.
    Reopen(&'a Path),
}

/// Prepares the import's connection: the page cache for the main database, and the staging database. The
/// connection is closed after the import, so none of this reaches other users.
pub async fn prepare(conn: &mut Conn, staging: Staging<'_>) -> sqlx::Result<()> {
    // Looking up and inserting identities touches the identity index all over; a 64 MB page cache keeps it in
    // memory up to about a million lines (the default is 2 MB). Measured at 1,000,000 rows: the writer took
    // 4.9-5.2 s instead of 6.0-7.0 s with 16 MB, for a peak of 149 MB instead of 98 MB (benches/import.rs).
    sqlx::query("PRAGMA cache_size = -65536").execute(&mut *conn).await?;
    let file = match staging {
        Staging::None => return Ok(()),
        Staging::Private => "",
        Staging::File(path) | Staging::Reopen(path) => {
            path.to_str().ok_or_else(|| sqlx::Error::Protocol(format!("pad {} is geen UTF-8", path.display())))?
        }
    };
    // An empty name: a private temporary database, on disk past its cache (temp_store FILE, SQLite's default,
    // said explicitly so a build with another default cannot hold a million lines in memory).
    sqlx::query("PRAGMA temp_store = FILE").execute(&mut *conn).await?;
    sqlx::query("ATTACH DATABASE ? AS staging").bind(file).execute(&mut *conn).await?;
    // Never shared and thrown away at the end: no need to sync it; the journal stays in memory (a rollback of
    // the write phase's transaction, which covers every attached database, must still be possible). A file
    // left half written by a crash is swept with the uploads at start-up.
    sqlx::query("PRAGMA staging.journal_mode = MEMORY").execute(&mut *conn).await?;
    sqlx::query("PRAGMA staging.synchronous = OFF").execute(&mut *conn).await?;
    if matches!(staging, Staging::Reopen(_)) {
        return Ok(());
    }
    sqlx::query(
        "CREATE TABLE staging.ledger (
            source_row      INTEGER PRIMARY KEY,
            -- 1 when the read phase found the identity stored already
            found           INTEGER NOT NULL,
            identity        BLOB    NOT NULL,
            booking_date    TEXT    NOT NULL,
            fiscal_year     INTEGER,
            period          INTEGER,
            document        TEXT    NOT NULL,
            line            TEXT    NOT NULL,
            gl_account      TEXT    NOT NULL,
            cost_centre     TEXT    NOT NULL,
            task_field      TEXT    NOT NULL,
            creditor_number TEXT    NOT NULL,
            creditor_name   TEXT    NOT NULL,
            invoice_number  TEXT    NOT NULL,
            description     TEXT    NOT NULL,
            amount_cents    INTEGER NOT NULL,
            -- where the rules put the line (attribution::RuleBook::target); NULL when no rule takes it
            stream_id       INTEGER,
            budget_line_id  INTEGER,
            contract_id     INTEGER,
            rule_id         INTEGER
        )",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keeps checked ledger lines in the staging database; `found` are the indexes (into `rows`) of those stored
/// already, and `book` says where the rules put each line. Returns that per line, for the preview's charges.
/// Through `store::bulk`, as the main insert used to be: this runs for every line.
pub async fn stage_ledger_lines(
    conn: &mut Conn,
    rows: &[Prepared<LedgerLine>],
    found: &[(usize, i64)],
    book: &RuleBook,
) -> sqlx::Result<Vec<Option<Charge>>> {
    let mut charges = Vec::with_capacity(rows.len());
    let mut handle = conn.lock_handle().await?;
    let mut insert = bulk::Statement::prepare(
        &mut handle,
        "INSERT INTO staging.ledger (source_row, found, identity, booking_date, fiscal_year, period, document, line,
         gl_account, cost_centre, task_field, creditor_number, creditor_name, invoice_number, description, amount_cents,
         stream_id, budget_line_id, contract_id, rule_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?;
    let mut found = found.iter().map(|(i, _)| *i).peekable();
    for (i, p) in rows.iter().enumerate() {
        let r = &p.record;
        let date = dates::iso_text(r.booking_date);
        let stored = found.next_if_eq(&i).is_some();
        // Also for a line found stored: should its batch be undone before the write phase, it is new after all.
        let target = if book.has_rules() { book.target(&r.view()) } else { None };
        let (stream, budget_line, contract, rule) = match target {
            Some(((stream, budget_line, contract, _), rule)) => (Some(stream), budget_line, contract, Some(rule)),
            None => (None, None, None, None),
        };
        charges.push(stream.map(|stream| Charge { stream, contract }));
        insert.execute(&[
            Value::Int(p.row as i64),
            Value::Int(stored as i64),
            Value::Blob(&p.identity),
            Value::Text(&date),
            r.fiscal_year.into(),
            r.period.into(),
            Value::Text(&r.document),
            Value::Text(&r.line),
            Value::Text(&r.gl_account),
            Value::Text(&r.cost_centre),
            Value::Text(&r.task_field),
            Value::Text(&r.creditor_number),
            Value::Text(&r.creditor_name),
            Value::Text(&r.invoice_number),
            Value::Text(&r.description),
            Value::Int(r.amount.cents()),
            stream.into(),
            budget_line.into(),
            contract.into(),
            rule.into(),
        ])?;
    }
    Ok(charges)
}

/// The staged lines after source row `after`, at most `limit`, in file order.
pub async fn staged_ledger_lines(conn: &mut Conn, after: u32, limit: usize) -> sqlx::Result<Vec<Prepared<LedgerLine>>> {
    let rows = sqlx::query(
        "SELECT source_row, identity, booking_date, fiscal_year, period, document, line, gl_account, cost_centre,
                task_field, creditor_number, creditor_name, invoice_number, description, amount_cents
         FROM staging.ledger WHERE source_row > ? ORDER BY source_row LIMIT ?",
    )
    .bind(after as i64)
    .bind(limit as i64)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let identity: Vec<u8> = r.try_get("identity")?;
            Ok(Prepared {
                row: r.try_get::<i64, _>("source_row")? as u32,
                identity: identity
                    .try_into()
                    .map_err(|_| sqlx::Error::Protocol("identiteit is geen 16 bytes".into()))?,
                record: LedgerLine {
                    booking_date: r.try_get("booking_date")?,
                    fiscal_year: r.try_get("fiscal_year")?,
                    period: r.try_get("period")?,
                    document: r.try_get("document")?,
                    line: r.try_get("line")?,
                    gl_account: r.try_get("gl_account")?,
                    cost_centre: r.try_get("cost_centre")?,
                    task_field: r.try_get("task_field")?,
                    creditor_number: r.try_get("creditor_number")?,
                    creditor_name: r.try_get("creditor_name")?,
                    invoice_number: r.try_get("invoice_number")?,
                    description: r.try_get("description")?,
                    amount: Money::from_cents(r.try_get("amount_cents")?),
                },
            })
        })
        .collect()
}

/// Moves the staged lines into `batch`, in file order, so the batch's lines keep one consecutive run of ids (see
/// `imports::entry_range`); a line whose identity is stored is skipped by the unique index. With `only_new`, the
/// lines the read phase found stored are not even tried. Returns the number of lines inserted.
pub async fn insert_staged_ledger_lines(tx: &mut Tx<'_>, batch: i64, only_new: bool) -> sqlx::Result<u64> {
    // The WHERE clause also keeps SQLite from reading ON CONFLICT as a join constraint.
    let done = sqlx::query(
        "INSERT INTO main.ledger_entry (batch_id, source_row, identity, booking_date, fiscal_year, period, document,
             line, gl_account, cost_centre, task_field, creditor_number, creditor_name, invoice_number, description,
             amount_cents)
         SELECT ?1, source_row, identity, booking_date, fiscal_year, period, document, line, gl_account, cost_centre,
                task_field, creditor_number, creditor_name, invoice_number, description, amount_cents
         FROM staging.ledger WHERE ?2 = 0 OR found = 0 ORDER BY source_row
         ON CONFLICT (identity) DO NOTHING",
    )
    .bind(batch)
    .bind(only_new)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
