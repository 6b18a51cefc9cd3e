//! Settings for a running server, from flags and `TAALBUDGET_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub db_path: PathBuf,
    /// Mark the session cookie `Secure` (needs HTTPS). Off only for local demo and tests.
    pub secure_cookies: bool,
    /// Largest accepted request body (uploads), in bytes.
    pub upload_limit: usize,
    /// Shown in the header so nobody mistakes the demo for production.
    pub demo: bool,
    /// A session ends after this long without a request.
    pub session_idle: time::Duration,
    /// A session ends this long after login, however active.
    pub session_absolute: time::Duration,
}

impl Config {
    pub const DEFAULT_UPLOAD_LIMIT: usize = 50 * 1024 * 1024;

    pub fn new(listen: SocketAddr, db_path: PathBuf) -> Config {
        Config {
            listen,
            db_path,
            secure_cookies: true,
            upload_limit: Self::DEFAULT_UPLOAD_LIMIT,
            demo: false,
            session_idle: time::Duration::minutes(30),
            session_absolute: time::Duration::hours(10),
        }
    }
}
