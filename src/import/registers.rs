//! What the register kinds (providers, certifications, contracts, placements, funding) share: the reference
//! data a row is checked against, read once before the file, and small helpers to hand domain validation
//! errors to the engine as `(field, message)` problems.
//!
//! Rows are built on the mapper's thread without a database connection, so each kind loads what it looks up
//! (providers by KvK number, their mark decisions, contracts by reference, streams by code) when it is
//! created, and keeps the valid rows of the same file it has seen so far next to it, so a later row is checked
//! against earlier rows of the same file as well.
//!
//! The stored data is consulted through [`RegisterKind`]: one lookup (`find`) for the read phase and the write
//! phase alike, and one write loop ([`insert`]) for every register kind.

use std::collections::HashMap;
use std::sync::Mutex;

use time::Date;

use super::{Found, ImportKind, Prepared, Refused, RowValues};
use crate::domain::certification::Decision;
use crate::domain::dates;
use crate::domain::provider::KvkNumber;
use crate::domain::validation::FieldErrors;
use crate::store::imports::RegisterTable;
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
        problems.push((field_of(name, map, fallback), message.to_string()));
    }
}

fn field_of(name: &str, map: &[(&str, usize)], fallback: usize) -> usize {
    map.iter().find(|(n, _)| *n == name).map(|(_, i)| *i).unwrap_or(fallback)
}

/// The first of a domain validation's field errors, as a refusal of what is stored since the file was read:
/// `map` links the domain's field names to the kind's field indexes (an unmapped name lands on `fallback`), and
/// `value` gives the row's value of a field.
pub fn refused_by(e: &FieldErrors, map: &[(&str, usize)], fallback: usize, value: impl Fn(usize) -> String) -> Refused {
    let (name, message) = e.iter().next().unwrap_or(("", "de opgeslagen gegevens weigeren deze regel"));
    let field = field_of(name, map, fallback);
    Refusal::StoredSince(message.to_string()).on(field, value(field))
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

/// Why the stored data refuses a register row that the file alone allowed. Each kind turns one into a row error
/// on the field it concerns ([`Refusal::on`]).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("KvK-nummer {kvk} is al in gebruik bij {owner}; controleer het KvK-nummer")]
    KvkTaken { kvk: String, owner: String },
    #[error("kenmerk {0} is al in gebruik bij een ander contract; geef dit contract een eigen kenmerk")]
    ReferenceTaken(String),
    #[error("{}", closed_year(*year, *last))]
    ClosedYear { year: i32, last: i32 },
    /// A domain rule, checked again against what is stored now: a screen changed it after the file was read.
    #[error("{0} (opgeslagen nadat het bestand was ingelezen)")]
    StoredSince(String),
    #[error(
        "Contract {reference} heeft voor de {route} inmiddels andere betaalmomenten ({stored}); een import \
         vervangt ze niet, wijzig ze op het scherm van het contract"
    )]
    MilestonesDiffer { reference: String, route: &'static str, stored: String },
    /// Any other refusal of the store, in its own words.
    #[error("{0}")]
    Store(String),
}

impl Refusal {
    /// The row error this refusal makes on `field`, whose value was `value`.
    pub fn on(self, field: usize, value: impl Into<String>) -> Refused {
        Refused { field, value: value.into(), message: self.to_string() }
    }
}

/// A row in `year` while the years up to `last` are closed.
pub fn closed_year(year: i32, last: i32) -> String {
    let closed = if year == last {
        format!("{year} is afgesloten")
    } else {
        format!("{year} is afgesloten, want {last} is afgesloten en daarmee elk jaar ervoor")
    };
    format!("{closed}. Vraag een beheerder het jaar te heropenen of laat deze regel weg.")
}

/// What the store holds for a register row.
#[derive(Debug)]
pub enum Lookup {
    New,
    /// Stored already by `batch` (0: entered on a screen); `note` says what differs in the file.
    Stored {
        batch: i64,
        note: Option<String>,
    },
    Refused(Refused),
}

/// Why writing one register row failed: the store refused it, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Refused(Refused),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A register kind as the shared write loop ([`insert`]) sees it: how it finds a row's stored twin, or why the
/// stored data refuses the row, and how it writes a new record. Every query lives in `store`; these only decide.
pub trait RegisterKind: ImportKind {
    /// Where `find` keeps what differs in a duplicate, for `duplicate_note`.
    fn notes(&self) -> Option<&Notes> {
        None
    }

    /// Looks the row up on `conn` (the read phase's connection, or the write phase's transaction).
    fn find(
        &self,
        conn: &mut store::Conn,
        row: &Prepared<Self::Record>,
    ) -> impl std::future::Future<Output = sqlx::Result<Lookup>> + Send;

    /// Writes a row that `find` found new, audited as `actor`; returns the record to link to the batch, or None
    /// when the store linked it already.
    fn write(
        &self,
        tx: &mut store::Tx<'_>,
        row: &Prepared<Self::Record>,
        batch: i64,
        actor: &str,
    ) -> impl std::future::Future<Output = Result<Option<(RegisterTable, i64)>, WriteError>> + Send;
}

/// `ImportKind::stored` for a register kind: its `find`, keeping the note on a duplicate.
pub async fn stored<K: RegisterKind>(
    kind: &K,
    conn: &mut store::Conn,
    row: &Prepared<K::Record>,
) -> sqlx::Result<Option<Found>> {
    Ok(match kind.find(conn, row).await? {
        Lookup::New => None,
        Lookup::Stored { batch, note } => {
            if let (Some(notes), Some(note)) = (kind.notes(), note) {
                notes.set(row.row, note);
            }
            Some(Found::Stored(batch))
        }
        Lookup::Refused(r) => Some(Found::Refused(r)),
    })
}

/// `ImportKind::insert` for a register kind, the one write loop: each row is looked up again inside the batch's
/// transaction; a duplicate or a refusal is reported, a new row written, audited and linked to the batch.
pub async fn insert<K: RegisterKind>(
    kind: &K,
    tx: &mut store::Tx<'_>,
    batch: i64,
    rows: &[Prepared<K::Record>],
) -> sqlx::Result<Vec<(usize, Found)>> {
    let actor = store::imports::batch_actor(tx, batch).await?;
    let mut found = Vec::new();
    for (i, p) in rows.iter().enumerate() {
        if let Some(f) = stored(kind, tx, p).await? {
            found.push((i, f));
            continue;
        }
        match kind.write(tx, p, batch, &actor).await {
            Ok(Some((table, id))) => store::imports::mark_batch(tx, table, id, batch).await?,
            Ok(None) => {}
            Err(WriteError::Refused(r)) => found.push((i, Found::Refused(r))),
            Err(WriteError::Db(e)) => return Err(e),
        }
    }
    Ok(found)
}
