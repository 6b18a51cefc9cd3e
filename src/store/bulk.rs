//! Bulk inserts through SQLite's own C API, on a connection that sqlx holds locked inside the caller's
//! transaction. sqlx sends every statement with owned copies of all its arguments to its worker thread; for
//! 100,000 ledger lines of 16 columns that bookkeeping cost more than SQLite's own work (benches/import.rs).
//! Here one prepared statement is bound with borrowed values and stepped once per row.
//!
//! The unsafe code is confined to this module: the statement borrows the locked handle, so the connection
//! cannot be used through sqlx while it lives, and `execute` binds every parameter of the statement before each
//! step, so a value borrowed by an earlier call is never read after that call returned. (Clearing the bindings
//! after each row instead cost about 2% of an import's writing time.)

use std::borrow::Cow;
use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr;

use libsqlite3_sys as ffi;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::sqlite::LockedSqliteHandle;

/// One value to bind.
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Int(i64),
    Null,
    Text(&'a str),
    Blob(&'a [u8]),
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}

/// A prepared statement on a locked connection.
pub struct Statement<'h> {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    /// The number of parameters: `execute` must be given exactly this many values.
    params: usize,
    _handle: PhantomData<&'h mut ()>,
}

impl<'h> Statement<'h> {
    pub fn prepare(handle: &'h mut LockedSqliteHandle<'_>, sql: &str) -> sqlx::Result<Statement<'h>> {
        let db = handle.as_raw_handle().as_ptr();
        let mut stmt = ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| sqlx::Error::Protocol("SQL te lang".into()))?;
        // SAFETY: `db` is a live connection held locked by `handle` for 'h; `sql` is valid for `len` bytes.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        // SAFETY: `stmt` was just prepared successfully.
        let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt) } as usize;
        Ok(Statement { db, stmt, params, _handle: PhantomData })
    }

    /// Binds `values` to ?1, ?2, ... (one for every parameter) and steps once. Returns the first column of the
    /// first result row, if the statement returns rows, and the number of rows changed.
    pub fn execute(&mut self, values: &[Value<'_>]) -> sqlx::Result<(Option<i64>, u64)> {
        if values.len() != self.params {
            return Err(sqlx::Error::Protocol(format!(
                "de opdracht heeft {} parameters, maar kreeg {} waarden",
                self.params,
                values.len()
            )));
        }
        let result = self.bind_and_step(values);
        // SAFETY: `stmt` is a live statement. Reset does not read the bound values; they stay bound (pointing at
        // memory that may be gone) until the next `execute` binds every parameter again, before its step.
        unsafe {
            ffi::sqlite3_reset(self.stmt);
        }
        result
    }

    fn bind_and_step(&mut self, values: &[Value<'_>]) -> sqlx::Result<(Option<i64>, u64)> {
        for (i, v) in values.iter().enumerate() {
            let at = (i + 1) as c_int;
            // SAFETY: `stmt` is live; SQLITE_STATIC is sound because SQLite reads a bound value only while
            // stepping, and every step follows the binding of all parameters in the same `execute`.
            let rc = unsafe {
                match *v {
                    Value::Int(n) => ffi::sqlite3_bind_int64(self.stmt, at, n),
                    Value::Null => ffi::sqlite3_bind_null(self.stmt, at),
                    Value::Text(s) => {
                        ffi::sqlite3_bind_text64(self.stmt, at, s.as_ptr().cast(), s.len() as u64, static_(), utf8())
                    }
                    Value::Blob(b) => {
                        ffi::sqlite3_bind_blob64(self.stmt, at, b.as_ptr().cast(), b.len() as u64, static_())
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(error(self.db, rc));
            }
        }
        // SAFETY: `stmt` is live and fully bound; `db` is its connection.
        unsafe {
            match ffi::sqlite3_step(self.stmt) {
                ffi::SQLITE_DONE => Ok((None, ffi::sqlite3_changes64(self.db) as u64)),
                ffi::SQLITE_ROW => Ok((Some(ffi::sqlite3_column_int64(self.stmt, 0)), 0)),
                rc => Err(error(self.db, rc)),
            }
        }
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: `stmt` was prepared on `db` and is finalized exactly once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

fn static_() -> ffi::sqlite3_destructor_type {
    None
}

fn utf8() -> u8 {
    ffi::SQLITE_UTF8 as u8
}

/// An error from SQLite's C API, as sqlx reports database errors.
#[derive(Debug)]
struct SqliteFailure {
    code: c_int,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SQLite-fout {}: {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

fn error(db: *mut ffi::sqlite3, rc: c_int) -> sqlx::Error {
    // SAFETY: `db` is a live connection; sqlite3_errmsg returns a NUL-terminated string owned by it, copied here.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let msg = ffi::sqlite3_errmsg(db);
        let text = if msg.is_null() { String::new() } else { CStr::from_ptr(msg).to_string_lossy().into_owned() };
        (if code == 0 { rc } else { code }, text)
    };
    sqlx::Error::Database(Box::new(SqliteFailure { code, message }))
}

#[cfg(test)]
mod tests {
    use super::{Statement, Value};
    use sqlx::Connection;

    #[tokio::test]
    async fn every_parameter_is_bound_on_every_row_or_the_row_is_refused() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query("CREATE TABLE t (a INTEGER, b TEXT)").execute(&mut conn).await.unwrap();
        let mut handle = conn.lock_handle().await.unwrap();
        let mut insert = Statement::prepare(&mut handle, "INSERT INTO t (a, b) VALUES (?1, ?2)").unwrap();
        for i in 0..3 {
            let text = format!("rij {i}");
            assert_eq!(insert.execute(&[Value::Int(i), Value::Text(&text)]).unwrap(), (None, 1));
        }
        // One value short: refused before anything is bound, so the previous row's text is never read again.
        assert!(insert.execute(&[Value::Int(9)]).is_err());
        drop(insert);
        let mut count = Statement::prepare(&mut handle, "SELECT count(*) FROM t WHERE b LIKE 'rij %'").unwrap();
        assert_eq!(count.execute(&[]).unwrap(), (Some(3), 0));
    }
}
