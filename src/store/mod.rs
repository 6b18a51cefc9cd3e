//! All SQL lives below this module; nothing else talks to the database.

pub mod approval;
pub mod attribution;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod certifications;
pub mod contracts;
pub mod funding;
pub mod imports;
pub mod inflow;
pub mod letters;
pub mod lock;
pub mod notifications;
pub mod overview;
pub mod placements;
pub mod progress;
pub mod providers;
pub mod quality;
pub mod retention;
pub mod staging;
pub mod tokens;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub type Db = SqlitePool;
/// A transaction: `Tx<'static>` on a pooled connection (`begin`), or borrowing a connection of its own (an
/// import's, see `import::engine`).
pub type Tx<'c> = Transaction<'c, Sqlite>;
/// A connection, inside a transaction or not, for functions that only read.
pub type Conn = sqlx::SqliteConnection;

pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Opens (creating when missing) and migrates the database at `path`.
pub async fn connect(path: &Path) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // No automatic checkpoints: SQLite runs them inside the commit that crosses 1,000 WAL pages, so a large
        // import waited for copying the log into the database file (about 0.1 s per 100,000 lines). taalbudget
        // checkpoints itself instead, as https://sqlite.org/wal.html#ckpt suggests: after an import
        // (`checkpoint_in_background`), every minute while serving, at open, and when the last connection closes.
        .pragma("wal_autocheckpoint", "0");
    let open = |options: SqliteConnectOptions| async move {
        SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| anyhow::anyhow!("kan de database {} niet openen: {e}", path.display()))
    };
    let pool = open(options.clone()).await?;
    if let Err(e) = refuse_newer_schema(&pool, path).await {
        pool.close().await;
        return Err(e.into());
    }
    let applied = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_schema WHERE name = '_sqlx_migrations'")
        .fetch_one(&pool)
        .await?;
    let before = if applied > 0 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&pool).await?
    } else {
        0
    };
    MIGRATOR.run(&pool).await?;
    let after = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&pool).await?;
    // Migrations 0009, 0019 and 0031 widen a CHECK by rewriting the table's SQL (writable_schema). The connection
    // that ran them keeps the schema it had parsed until something makes it read the schema again, and 0031 ends
    // with a CREATE TABLE, which does not: an import on that connection then met the old CHECK ("kind IN (...)"
    // without 'instroom'), now and then, whichever pooled connection it got. After migrating, every connection
    // starts afresh.
    if after != before {
        pool.close().await;
        let pool = open(options).await?;
        checkpoint(&pool).await?;
        return Ok(pool);
    }
    checkpoint(&pool).await?;
    Ok(pool)
}

/// Copies what the write-ahead log holds into the database file, as far as readers allow (PASSIVE: never waits
/// for them; what is left is copied next time).
pub async fn checkpoint(db: &Db) -> sqlx::Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(db).await.map(|_| ())
}

/// `checkpoint` on another task, so whoever committed does not wait for it.
pub fn checkpoint_in_background(db: &Db) {
    let db = db.clone();
    tokio::spawn(async move {
        if let Err(e) = checkpoint(&db).await {
            tracing::warn!(error = %e, "het write-ahead log kon niet in de database worden overgenomen");
        }
    });
}

/// Opens an existing database as it is: no creating, no migrating. For commands that may run beside a
/// server of another version (a backup must never migrate the database under a running server).
pub async fn open_existing(path: &Path) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(false)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("kan de database {} niet openen: {e}", path.display()))
}

/// Rows that a query handed over as one value, a JSON array of arrays (`json_group_array(json_array(...))`).
/// sqlx passes rows from its SQLite thread to the caller one at a time, about 4 µs a row under load; a query
/// that every request of a busy page runs, or that an export repeats for thousands of rows, asks for one value
/// instead. Text, integers and NULL come back exactly as stored (`T` is a tuple in the columns' order).
pub(crate) fn rows_from_json<T: serde::de::DeserializeOwned>(json: &str) -> sqlx::Result<Vec<T>> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Whether a table exists.
pub async fn has_table(db: &Db, name: &str) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?")
        .bind(name)
        .fetch_one(db)
        .await?;
    Ok(n > 0)
}

/// The schema version this binary carries: its newest migration.
pub fn binary_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// A database that a newer taalbudget migrated further than this binary knows.
#[derive(Debug, thiserror::Error)]
#[error(
    "de database {path} heeft schemaversie {found} en is bijgewerkt door een nieuwere taalbudget; deze versie kent schemaversie {known}. Er is niets gewijzigd: installeer de nieuwere versie, of zet een back-up terug die bij deze versie past"
)]
pub struct SchemaTooNew {
    pub path: String,
    pub found: i64,
    pub known: i64,
}

/// Refuses, before migrating, a database with a migration this binary does not have: running on it could
/// misread or damage data that a newer version wrote.
pub async fn refuse_newer_schema(db: &Db, path: &Path) -> Result<(), SchemaTooNew> {
    let unknown = unknown_migrations(db).await.unwrap_or_default();
    match unknown.into_iter().max() {
        Some(found) => Err(SchemaTooNew { path: path.display().to_string(), found, known: binary_schema_version() }),
        None => Ok(()),
    }
}

/// Applied migration versions this binary does not know (none for a fresh database).
pub async fn unknown_migrations<'c, E>(conn: E) -> sqlx::Result<Vec<i64>>
where
    E: sqlx::Executor<'c, Database = Sqlite> + Copy,
{
    let has_table: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(conn)
            .await?;
    if has_table == 0 {
        return Ok(Vec::new());
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations").fetch_all(conn).await?;
    Ok(applied.into_iter().filter(|v| !MIGRATOR.iter().any(|m| m.version == *v)).collect())
}

/// Starts a write transaction that takes the write lock at once, so it waits on the busy timeout
/// instead of failing half-way with "database is locked".
pub async fn begin(db: &Db) -> sqlx::Result<Tx<'static>> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// True when SQLite reported the database busy or locked (SQLITE_BUSY, SQLITE_LOCKED and their extended codes
/// such as BUSY_SNAPSHOT), or no pooled connection came free in time: work that may succeed a moment later.
pub fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => is_busy_code(d.code().as_deref()),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// [`is_busy`] for one link of an error chain: an error type that wraps a `sqlx::Error` transparently passes on
/// its source, the `SqliteError`, rather than the `sqlx::Error` itself.
pub fn is_busy_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    use sqlx::error::DatabaseError;
    if let Some(e) = e.downcast_ref::<sqlx::Error>() {
        return is_busy(e);
    }
    e.downcast_ref::<sqlx::sqlite::SqliteError>().is_some_and(|e| is_busy_code(e.code().as_deref()))
}

/// SQLITE_BUSY or SQLITE_LOCKED, also as an extended code (BUSY_SNAPSHOT is 517: 5 in its low byte).
fn is_busy_code(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, libsqlite3_sys::SQLITE_BUSY | libsqlite3_sys::SQLITE_LOCKED))
}

/// [`is_busy`] for an error that reached us as text only (the session store's): SQLite's messages for a busy
/// or locked database all end in "is locked".
pub fn is_busy_message(message: &str) -> bool {
    message.contains("is locked") || message.contains(&sqlx::Error::PoolTimedOut.to_string())
}

/// True when the database answers a trivial query.
pub async fn ping(db: &Db) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(db).await.is_ok()
}

/// The newest migration applied to this database.
pub async fn schema_version(db: &Db) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1").fetch_one(db).await
}

/// A list of ids as a JSON array, bound to `IN (SELECT value FROM json_each(?))`: one statement for any number.
pub(crate) fn json_ids(ids: &[i64]) -> String {
    format!("[{}]", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

#[cfg(test)]
mod migration_tests {
    /// Every connection of a freshly migrated database sees the widened CHECKs of the rewritten tables: an
    /// import batch of the newest kind is accepted on each of the pool's connections (held at once, so that each
    /// is a different one).
    #[tokio::test]
    async fn every_connection_sees_the_migrated_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::connect(&dir.path().join("vers.db")).await.unwrap();
        let mut held = Vec::new();
        for _ in 0..8 {
            held.push(db.acquire().await.unwrap());
        }
        for conn in &mut held {
            sqlx::query("BEGIN").execute(&mut **conn).await.unwrap();
            sqlx::query(
                "INSERT INTO import_batch (kind, template, file_name, file_sha256, imported_by, imported_at)
                 VALUES ('instroom', 'standaard-instroom', 'f.xlsx', ?, 'test', '2026-12-07T00:00:00Z')",
            )
            .bind("a".repeat(64))
            .execute(&mut **conn)
            .await
            .expect("the CHECK of migration 0031 on every connection");
            sqlx::query("ROLLBACK").execute(&mut **conn).await.unwrap();
        }
    }
}
