//! Backups and restores: a consistent, verified copy of the live database, and putting one back.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;

use super::{audit, begin, lock, Db};
use crate::domain::dates;

/// What a backup wrote, after checking it.
#[derive(Clone, Debug, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub schema_version: i64,
    /// Rows per table, equal in the copy and in the source at the moment of copying.
    pub tables: BTreeMap<String, i64>,
}

impl BackupReport {
    pub fn rows(&self) -> i64 {
        self.tables.values().sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("het doelbestand {0} bestaat al; een back-up overschrijft nooit iets, kies een nieuwe naam")]
    Exists(String),
    #[error("de map voor {0} bestaat niet; maak die eerst aan of kies een andere plek")]
    NoDirectory(String),
    #[error("in {path} kan niet worden geschreven ({reason}); kies een plek waar taalbudget mag schrijven")]
    NotWritable { path: String, reason: String },
    #[error("de back-up is niet goed gecontroleerd en is verwijderd: {0}")]
    Verification(String),
    #[error("de back-up kon niet worden gemaakt: {0}")]
    Db(#[from] sqlx::Error),
}

/// Copies the live database to `target` with `VACUUM INTO` and verifies the copy. Refuses an existing
/// target; on any failure the target is removed again, so a failed backup leaves nothing behind.
pub async fn backup(db: &Db, target: &Path) -> Result<BackupReport, BackupError> {
    let shown = target.display().to_string();
    // Creating the file ourselves (create_new) refuses an existing target atomically and finds an
    // unwritable place before any work; VACUUM INTO accepts an empty file as its target.
    match std::fs::OpenOptions::new().write(true).create_new(true).open(target) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(BackupError::Exists(shown)),
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(BackupError::NoDirectory(shown)),
        Err(e) => return Err(BackupError::NotWritable { path: shown, reason: e.to_string() }),
    }
    let result = copy_and_verify(db, target).await;
    if result.is_err() {
        let _ = std::fs::remove_file(target);
    }
    result
}

async fn copy_and_verify(db: &Db, target: &Path) -> Result<BackupReport, BackupError> {
    let target_text = target
        .to_str()
        .ok_or_else(|| BackupError::NotWritable {
            path: target.display().to_string(),
            reason: "ongeldige naam".into(),
        })?
        .to_string();
    let mut source = None;
    for attempt in 1..=COPY_ATTEMPTS {
        // The last attempt holds the write lock (writers wait on their busy timeout) so it cannot be
        // disturbed; the ones before it let writers go on and keep their result only when nothing was
        // committed meanwhile.
        let locked = attempt == COPY_ATTEMPTS;
        if attempt > 1 {
            // VACUUM INTO needs an empty target.
            std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(target)
                .map_err(|e| BackupError::NotWritable { path: target.display().to_string(), reason: e.to_string() })?;
        }
        let hold = if locked { Some(begin(db).await?) } else { None };
        let mut conn = db.acquire().await?;
        let outcome = async {
            let before = snapshot(&mut conn).await?;
            sqlx::query("VACUUM INTO ?").bind(&target_text).execute(&mut *conn).await?;
            let after = snapshot(&mut conn).await?;
            Ok::<_, sqlx::Error>((before, after))
        }
        .await;
        drop(conn);
        if let Some(hold) = hold {
            hold.rollback().await?;
        }
        let (before, after) = outcome?;
        if before == after {
            source = Some(before.0);
            break;
        }
        tracing::info!(attempt, "back-up: de database veranderde tijdens het kopiëren; opnieuw");
    }
    let Some(source) = source else {
        return Err(BackupError::Verification("de database bleef veranderen tijdens het kopiëren".into()));
    };

    let copy = open_read_only(target).await?;
    let verified = async {
        let integrity = integrity(&copy).await?;
        if integrity != "ok" {
            return Ok(Err(format!("integriteitscontrole: {integrity}")));
        }
        let mut conn = copy.acquire().await?;
        let counted = count_rows(&mut conn).await?;
        drop(conn);
        if counted != source {
            return Ok(Err(format!("aantallen rijen wijken af: bron {source:?}, kopie {counted:?}")));
        }
        let version = super::schema_version(&copy).await?.unwrap_or(0);
        Ok::<_, sqlx::Error>(Ok((counted, version)))
    }
    .await;
    copy.close().await;
    let (tables, schema_version) = verified?.map_err(BackupError::Verification)?;
    let bytes = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { path: target.to_path_buf(), bytes, schema_version, tables })
}

/// Attempts at a copy; the last one holds the write lock.
const COPY_ATTEMPTS: usize = 4;

/// Row counts and `PRAGMA data_version`, read in one read transaction. `data_version` changes when another
/// connection commits, so two equal snapshots around `VACUUM INTO` (which reads its own consistent
/// snapshot in between) prove the copy was made from exactly the state these counts describe.
async fn snapshot(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<(BTreeMap<String, i64>, i64)> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let counts = count_rows(&mut tx).await?;
    let version: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok((counts, version))
}

/// Rows per table (SQLite's own tables excluded), within whatever transaction `conn` is in.
pub async fn count_rows(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<BTreeMap<String, i64>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts = BTreeMap::new();
    for name in names {
        let quoted = name.replace('"', "\"\"");
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{quoted}\"")).fetch_one(&mut *conn).await?;
        counts.insert(name, n);
    }
    Ok(counts)
}

async fn integrity(db: &SqlitePool) -> sqlx::Result<String> {
    let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(db).await?;
    Ok(lines.join("; "))
}

async fn open_read_only(path: &Path) -> sqlx::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite:")?.filename(path).read_only(true);
    SqlitePoolOptions::new().max_connections(1).connect_with(options).await
}

/// What a restore found in a backup file.
#[derive(Clone, Debug)]
pub struct BackupInfo {
    pub schema_version: i64,
    pub tables: BTreeMap<String, i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{0}")]
    InUse(#[from] lock::LockError),
    #[error("het bestand {0} bestaat niet of kan niet worden gelezen")]
    Unreadable(String),
    #[error("het bestand {0} is geen SQLite-database; kies een back-up die taalbudget maakte")]
    NotSqlite(String),
    #[error("het bestand {0} is een SQLite-database, maar geen taalbudget-database")]
    NotTaalbudget(String),
    #[error("het bestand {path} is beschadigd ({detail}); kies een andere back-up")]
    Corrupt { path: String, detail: String },
    #[error(
        "de back-up {path} heeft schemaversie {found} en komt van een nieuwere taalbudget; deze versie kent schemaversie {known}. Herstel met de nieuwere versie"
    )]
    TooNew { path: String, found: i64, known: i64 },
    #[error(
        "de back-up {path} heeft migratie {version} met een andere inhoud dan deze taalbudget; hij komt van een andere bouw of is gewijzigd"
    )]
    Mismatch { path: String, version: i64 },
    #[error("de back-up en de database zijn hetzelfde bestand")]
    SameFile,
    #[error("terugzetten mislukt: {0}")]
    Io(#[from] std::io::Error),
    #[error("terugzetten mislukt: {0}")]
    Other(#[from] anyhow::Error),
}

/// Checks that `path` is an intact taalbudget database this binary can run; changes nothing.
pub async fn inspect(path: &Path) -> Result<BackupInfo, RestoreError> {
    let shown = path.display().to_string();
    let mut header = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header));
    match read {
        Ok(()) if &header == b"SQLite format 3\0" => {}
        Ok(()) => return Err(RestoreError::NotSqlite(shown)),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Err(RestoreError::NotSqlite(shown)),
        Err(_) => return Err(RestoreError::Unreadable(shown)),
    }
    let corrupt = |e: sqlx::Error| RestoreError::Corrupt { path: shown.clone(), detail: e.to_string() };
    let pool = open_read_only(path).await.map_err(corrupt)?;
    let result = async {
        let check = integrity(&pool).await.map_err(corrupt)?;
        if check != "ok" {
            return Err(RestoreError::Corrupt { path: shown.clone(), detail: check });
        }
        let mut conn = pool.acquire().await.map_err(corrupt)?;
        let tables = count_rows(&mut conn).await.map_err(corrupt)?;
        drop(conn);
        if !["_sqlx_migrations", "audit_log", "app_user"].iter().all(|t| tables.contains_key(*t)) {
            return Err(RestoreError::NotTaalbudget(shown.clone()));
        }
        let unknown = super::unknown_migrations(&pool).await.map_err(corrupt)?;
        let schema_version = super::schema_version(&pool).await.map_err(corrupt)?.unwrap_or(0);
        if let Some(found) = unknown.into_iter().max() {
            return Err(RestoreError::TooNew { path: shown.clone(), found, known: super::binary_schema_version() });
        }
        // A migration applied with other contents than this binary's would make migrating fail after the
        // swap; refuse it now, while nothing has changed.
        let applied: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations").fetch_all(&pool).await.map_err(corrupt)?;
        for (version, checksum) in applied {
            if super::MIGRATOR.iter().any(|m| m.version == version && *m.checksum != checksum[..]) {
                return Err(RestoreError::Mismatch { path: shown.clone(), version });
            }
        }
        Ok(BackupInfo { schema_version, tables })
    }
    .await;
    pool.close().await;
    result
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    pub from_version: i64,
    pub schema_version: i64,
    /// Where the database that was replaced was kept, if there was one.
    pub previous: Option<PathBuf>,
    pub tables: BTreeMap<String, i64>,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Replaces the database at `db_path` with the backup at `source`, then applies pending migrations.
/// Refuses while a server holds the database, and refuses a file that is not an intact taalbudget
/// database of this or an older schema version; in those cases nothing is changed.
pub async fn restore(source: &Path, db_path: &Path, actor: &str) -> Result<RestoreReport, RestoreError> {
    let _claim = lock::acquire(db_path)?;
    if let (Ok(a), Ok(b)) = (source.canonicalize(), db_path.canonicalize()) {
        if a == b {
            return Err(RestoreError::SameFile);
        }
    }
    let info = inspect(source).await?;

    // Stage the copy beside the database (same file system, so the final rename is atomic).
    let staging = with_suffix(db_path, ".herstel-tmp");
    std::fs::copy(source, &staging)?;
    std::fs::File::open(&staging)?.sync_all()?;

    // Keep the database being replaced, with its -wal and -shm, under one new name: nothing is lost, and
    // no stale write-ahead log is left next to the restored file for SQLite to replay into it.
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let previous = with_suffix(db_path, &format!(".voor-herstel-{stamp}"));
    let mut kept = None;
    for suffix in ["", "-wal", "-shm"] {
        let current = with_suffix(db_path, suffix);
        if current.exists() {
            std::fs::rename(&current, with_suffix(&previous, suffix))?;
            if suffix.is_empty() {
                kept = Some(previous.clone());
            }
        }
    }
    std::fs::rename(&staging, db_path)?;
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }

    let db = match super::connect(db_path).await {
        Ok(db) => db,
        Err(e) => {
            // Migrating the restored file failed: put the database that was there back as it was.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(with_suffix(db_path, suffix));
                if kept.is_some() {
                    let _ = std::fs::rename(with_suffix(&previous, suffix), with_suffix(db_path, suffix));
                }
            }
            return Err(RestoreError::Other(e.context("de teruggezette database kon niet worden bijgewerkt; de oorspronkelijke database staat weer op zijn plaats")));
        }
    };
    let after = super::schema_version(&db).await.map_err(anyhow::Error::from)?.unwrap_or(0);
    let mut tx = begin(&db).await.map_err(anyhow::Error::from)?;
    // Sessions in the backup belong to the past: everyone signs in again after a restore.
    if super::has_table(&db, "tower_sessions").await.map_err(anyhow::Error::from)? {
        sqlx::query("DELETE FROM tower_sessions").execute(&mut *tx).await.map_err(anyhow::Error::from)?;
    }
    let file_name = source.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    audit::record(
        &mut tx,
        actor,
        "restore",
        "database",
        "backup",
        None,
        Some(&json!({"file": file_name, "from_schema_version": info.schema_version, "schema_version": after})),
    )
    .await
    .map_err(anyhow::Error::from)?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    db.close().await;
    Ok(RestoreReport { from_version: info.schema_version, schema_version: after, previous: kept, tables: info.tables })
}

/// Where a backup was made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Web,
    Cli,
}

impl Origin {
    fn code(self) -> &'static str {
        match self {
            Origin::Web => "web",
            Origin::Cli => "cli",
        }
    }
}

/// One backup in the log the admin page shows.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct LoggedBackup {
    pub id: i64,
    pub made_at: String,
    pub made_by: String,
    pub origin: String,
    pub path: String,
    pub bytes: i64,
    pub tables: i64,
    pub rows: i64,
    pub schema_version: i64,
}

/// Records a backup (and audits it) after it was written and verified.
pub async fn log(db: &Db, report: &BackupReport, origin: Origin, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let path = report.path.display().to_string();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO backup_log (made_at, made_by, origin, path, bytes, tables, rows, schema_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(dates::now_timestamp())
    .bind(actor)
    .bind(origin.code())
    .bind(&path)
    .bind(report.bytes as i64)
    .bind(report.tables.len() as i64)
    .bind(report.rows())
    .bind(report.schema_version)
    .fetch_one(&mut *tx)
    .await?;
    let after = json!({"path": path, "bytes": report.bytes, "rows": report.rows(), "schema_version": report.schema_version, "origin": origin.code()});
    audit::record(&mut tx, actor, "create", "backup", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn recent(db: &Db, limit: i64) -> sqlx::Result<Vec<LoggedBackup>> {
    sqlx::query_as(
        "SELECT id, made_at, made_by, origin, path, bytes, tables, rows, schema_version FROM backup_log
         ORDER BY id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<LoggedBackup>> {
    sqlx::query_as(
        "SELECT id, made_at, made_by, origin, path, bytes, tables, rows, schema_version FROM backup_log WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Records that an admin downloaded a backup: a full copy of the data left the server.
pub async fn log_download(db: &Db, id: i64, actor: &str) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    audit::record(&mut tx, actor, "download", "backup", id, None, None).await?;
    tx.commit().await
}
