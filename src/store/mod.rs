//! All SQL lives below this module; nothing else talks to the database.

pub mod audit;
pub mod certifications;
pub mod contracts;
pub mod placements;
pub mod providers;
pub mod quality;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub type Db = SqlitePool;
pub type Tx = Transaction<'static, Sqlite>;

pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Opens (creating when missing) and migrates the database at `path`.
pub async fn connect(path: &Path) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("kan de database {} niet openen: {e}", path.display()))?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Starts a write transaction that takes the write lock at once, so it waits on the busy timeout
/// instead of failing half-way with "database is locked".
pub async fn begin(db: &Db) -> sqlx::Result<Tx> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// True when the database answers a trivial query.
pub async fn ping(db: &Db) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(db).await.is_ok()
}

/// The newest migration applied to this database.
pub async fn schema_version(db: &Db) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1").fetch_one(db).await
}
