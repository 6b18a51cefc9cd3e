//! The server's claim on its database: an exclusive OS file lock on `DB.lock`, held for the server's
//! lifetime, so `restore` can refuse to replace a database a running server uses.
//!
//! Why a lock file and not a row or `PRAGMA locking_mode`: an OS lock (flock) is released by the kernel
//! when the process ends in any way, including `kill -9` or a power cut, so a crashed server never leaves
//! a stale claim; and it does not interfere with SQLite's own locking, so backups and other commands can
//! still read and write while the server runs.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Held while alive; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct DbLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "de database {db} is in gebruik door een draaiende taalbudget-server (vergrendeld via {lock}); stop die server eerst, bijvoorbeeld met 'systemctl stop taalbudget'"
    )]
    Held { db: String, lock: String },
    #[error("het vergrendelbestand {lock} kan niet worden geopend: {source}")]
    Io { lock: String, source: std::io::Error },
}

/// `taalbudget.db` -> `taalbudget.db.lock`, in the database's real directory, so `./x.db`, `x.db` and a
/// path through a symlinked directory all name the same lock.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_owned()).unwrap_or_else(|| db.as_os_str().to_owned());
    name.push(".lock");
    let parent = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    parent.canonicalize().unwrap_or_else(|_| parent.to_path_buf()).join(name)
}

/// Takes the exclusive lock without waiting; fails when another process (or another handle in this one) holds it.
pub fn acquire(db: &Path) -> Result<DbLock, LockError> {
    let path = lock_path(db);
    let io = |source| LockError::Io { lock: path.display().to_string(), source };
    let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(DbLock { _file: file, path }),
        Err(TryLockError::WouldBlock) => {
            Err(LockError::Held { db: db.display().to_string(), lock: path.display().to_string() })
        }
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_until_the_first_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let first = acquire(&db).unwrap();
        assert!(matches!(acquire(&db), Err(LockError::Held { .. })));
        let same_db_other_spelling = dir.path().join(".").join("t.db");
        assert!(matches!(acquire(&same_db_other_spelling), Err(LockError::Held { .. })));
        drop(first);
        assert!(acquire(&db).is_ok());
    }
}
