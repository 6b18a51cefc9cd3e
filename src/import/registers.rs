//! What the register kinds (providers, certifications, contracts, placements, funding) share: the reference
//! data a row is checked against, read once before the file, and small helpers to hand domain validation
//! errors to the engine as `(field, message)` problems.
//!
//! Rows are built on the mapper's thread without a database connection, so each kind loads what it looks up
//! (providers by KvK number, their mark decisions, contracts by reference, streams by code) when it is
//! created, and keeps the valid rows of the same file it has seen so far next to it, so a later row is checked
//! against earlier rows of the same file as well.

use std::collections::HashMap;
use std::sync::Mutex;

use time::Date;

use super::RowValues;
use crate::domain::certification::Decision;
use crate::domain::dates;
use crate::domain::provider::KvkNumber;
use crate::domain::validation::FieldErrors;
use crate::store::{self, Db};

/// A provider as lookups need it.
#[derive(Clone, Debug)]
pub struct ProviderRef {
    pub id: i64,
    pub name: String,
    pub decisions: Vec<Decision>,
}

/// Providers by KvK number, with their mark decisions.
pub async fn providers_by_kvk(db: &Db) -> sqlx::Result<HashMap<String, ProviderRef>> {
    let providers = store::providers::list(db, "", store::providers::Filter::All).await?;
    let mut decisions = store::certifications::all_by_provider(db).await?;
    Ok(providers
        .into_iter()
        .map(|p| {
            let d = decisions.remove(&p.id).unwrap_or_default();
            (p.kvk.clone(), ProviderRef { id: p.id, name: p.name, decisions: d })
        })
        .collect())
}

/// The message for a KvK number that no provider has.
pub fn unknown_kvk(kvk: &str) -> String {
    format!("Onbekend KvK-nummer {kvk}: importeer eerst de taalaanbieder")
}

/// The KvK number in `field` and the entry of `by_kvk` it names (in `field`) names; a malformed or unknown number is a problem
/// on that field.
pub fn provider_named<'a, T>(
    by_kvk: &'a HashMap<String, T>,
    v: &mut RowValues,
    field: usize,
    problems: &mut Vec<(usize, String)>,
) -> Option<(KvkNumber, &'a T)> {
    let kvk = match KvkNumber::parse(&v.take_text(field)) {
        Ok(k) => k,
        Err(m) => {
            problems.push((field, m));
            return None;
        }
    };
    match by_kvk.get(kvk.as_str()) {
        Some(found) => Some((kvk, found)),
        None => {
            problems.push((field, unknown_kvk(kvk.as_str())));
            None
        }
    }
}

/// Hands a domain validation's field errors to the engine: `map` links the domain's field names to the kind's
/// field indexes; an unmapped name lands on `fallback`.
pub fn push_errors(e: &FieldErrors, map: &[(&str, usize)], fallback: usize, problems: &mut Vec<(usize, String)>) {
    for (name, message) in e.iter() {
        let field = map.iter().find(|(n, _)| *n == name).map(|(_, i)| *i).unwrap_or(fallback);
        problems.push((field, message.to_string()));
    }
}

/// A date as the domain's form validation reads it (ISO), or empty.
pub fn form_date(d: Option<Date>) -> String {
    d.map(dates::iso).unwrap_or_default()
}

/// Notes on duplicate rows by row number, written by `insert` and read by the engine.
#[derive(Debug, Default)]
pub struct Notes(Mutex<HashMap<u32, String>>);

impl Notes {
    pub fn set(&self, row: u32, note: String) {
        self.0.lock().expect("notes lock").insert(row, note);
    }

    pub fn get(&self, row: u32) -> Option<String> {
        self.0.lock().expect("notes lock").get(&row).cloned()
    }
}

/// "afwijkend: Naam, E-mail; niet bijgewerkt" for the fields that differ, or None.
pub fn differs(what: &str, fields: &[(&str, bool)]) -> Option<String> {
    let names: Vec<&str> = fields.iter().filter(|(_, same)| !same).map(|(n, _)| *n).collect();
    if names.is_empty() {
        None
    } else {
        Some(format!(
            "{what} bestaat al; afwijkend in het bestand: {}. Niet bijgewerkt: pas dit aan op het scherm als het bestand gelijk heeft",
            names.join(", ")
        ))
    }
}

/// Looks a word up among codes and Dutch labels, case- and space-insensitively.
pub fn lookup<T: Copy>(text: &str, options: &[(T, &str, &str)]) -> Option<T> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let t = norm(text);
    options.iter().find(|(_, code, label)| norm(code) == t || norm(label) == t).map(|(v, ..)| *v)
}

/// Who runs the batch, as recorded on it: the audit rows of imported records name the importer.
pub async fn batch_actor(tx: &mut store::Tx<'_>, batch: i64) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT imported_by FROM import_batch WHERE id = ?").bind(batch).fetch_one(&mut **tx).await
}

/// Links a record the import created to its batch, so undo can find it. `table` is one of ours, never input.
pub async fn mark_batch(tx: &mut store::Tx<'_>, table: &'static str, id: i64, batch: i64) -> sqlx::Result<()> {
    sqlx::query(&format!("UPDATE {table} SET batch_id = ? WHERE id = ?"))
        .bind(batch)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The batch that brought an existing record (0 when it was entered on a screen).
pub async fn batch_of(conn: &mut store::Conn, table: &'static str, id: i64) -> sqlx::Result<i64> {
    let b: Option<i64> =
        sqlx::query_scalar(&format!("SELECT batch_id FROM {table} WHERE id = ?")).bind(id).fetch_one(conn).await?;
    Ok(b.unwrap_or(0))
}
