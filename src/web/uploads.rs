//! The upload directory: an uploaded import file lives here until its job ends (committed, failed, cancelled
//! or expired) and is deleted then, with the staging database its preview may keep beside it; leftovers of a
//! crash are swept at start-up and at shutdown. The files hold the same personal data as the database. Only
//! files named by taalbudget (`upload-*.part`) are ever touched, so a directory shared with others stays safe.

use std::io;
use std::path::{Path, PathBuf};

const PREFIX: &str = "upload-";
const SUFFIX: &str = ".part";
/// The preview's staging database (`store::staging`): an upload file by its name, swept with the uploads.
pub const STAGING_SUFFIX: &str = ".staging.part";

#[derive(Clone, Debug)]
pub struct UploadDir {
    path: PathBuf,
}

impl UploadDir {
    /// Creates the directory (readable by this user only) if needed and removes what a previous run left.
    pub fn open(path: &Path) -> io::Result<UploadDir> {
        let existed = path.is_dir();
        std::fs::create_dir_all(path)?;
        #[cfg(unix)]
        if !existed {
            // Only when taalbudget makes it: an administrator's own choice of rights is left alone.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
        }
        let dir = UploadDir { path: path.to_path_buf() };
        let swept = dir.sweep();
        if swept > 0 {
            tracing::info!(files = swept, dir = %path.display(), "achtergebleven uploads verwijderd");
        }
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new, empty file for an upload; it is deleted when the returned path is dropped.
    pub fn create(&self) -> io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new().prefix(PREFIX).suffix(SUFFIX).tempfile_in(&self.path)
    }

    /// A new, empty file for a preview's staging database; it is deleted when the returned path is dropped.
    pub fn create_staging(&self) -> io::Result<tempfile::TempPath> {
        Ok(tempfile::Builder::new().prefix(PREFIX).suffix(STAGING_SUFFIX).tempfile_in(&self.path)?.into_temp_path())
    }

    /// Deletes every upload file in the directory; returns how many. A file still being read stays readable to
    /// whoever has it open (Unix), so this is safe while a job is running.
    pub fn sweep(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.path) else { return 0 };
        entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with(PREFIX) && name.ends_with(SUFFIX) && e.file_type().is_ok_and(|t| t.is_file())
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_removes_upload_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = UploadDir::open(&dir.path().join("uploads")).unwrap();
        let kept = uploads.create().unwrap().into_temp_path().keep().unwrap();
        let staging = uploads.create_staging().unwrap().keep().unwrap();
        std::fs::write(uploads.path().join("notities.txt"), "van de beheerder").unwrap();
        assert_eq!(uploads.sweep(), 2);
        assert!(!kept.exists() && !staging.exists());
        assert!(uploads.path().join("notities.txt").exists(), "a file taalbudget did not name is left alone");
        // At start-up, leftovers of a crash go too.
        let left = uploads.create().unwrap().into_temp_path().keep().unwrap();
        UploadDir::open(uploads.path()).unwrap();
        assert!(!left.exists());
    }
}
