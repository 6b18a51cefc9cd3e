//! The one import engine: read (calamine / csv) -> map (template) -> parse cells -> validate -> dedupe, all
//! outside the write lock, then commit in one short transaction. Each entity kind plugs in through
//! [`ImportKind`]: the ledger, and the registers (providers, certifications, contracts with tariffs and
//! milestones, placements, funding) and the providers' progress reports.

pub mod budget;
pub mod cells;
pub mod certifications;
pub mod cli;
pub mod contracts;
pub mod engine;
pub mod example;
pub mod extent;
pub mod funding;
pub mod inflow;
pub mod ledger;
pub mod placements;
pub mod progress;
pub mod providers;
pub mod registers;
pub mod rejects;
pub mod results;
pub mod rules;
pub mod setup;
pub mod source;
pub mod streams;
pub mod template;

use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::money::Money;

pub use engine::{run, ImportOptions, ImportRequest};

/// What an import feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ledger,
    Providers,
    Certifications,
    Contracts,
    Placements,
    Funding,
    Results,
    Progress,
    /// Funding streams (`standaard-bronnen`).
    Streams,
    /// Attribution rules in order (`standaard-regels`).
    Rules,
    /// The whole finance set-up in one workbook (`import setup`): streams, rules, allocations and budget lines in
    /// one batch. It has no template of its own: each sheet is read with its kind's.
    Setup,
    /// Inflow counts per month and group, and the Ondertussengroep's size per quarter (`standaard-instroom`).
    #[serde(rename = "instroom")]
    Inflow,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Ledger,
        Kind::Providers,
        Kind::Certifications,
        Kind::Contracts,
        Kind::Placements,
        Kind::Funding,
        Kind::Results,
        Kind::Progress,
        Kind::Streams,
        Kind::Rules,
        Kind::Setup,
        Kind::Inflow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ledger => "ledger",
            Kind::Providers => "providers",
            Kind::Certifications => "certifications",
            Kind::Contracts => "contracts",
            Kind::Placements => "placements",
            Kind::Funding => "funding",
            Kind::Results => "results",
            Kind::Progress => "progress",
            Kind::Streams => "streams",
            Kind::Rules => "rules",
            Kind::Setup => "setup",
            Kind::Inflow => "instroom",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Dutch name for screens and messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ledger => "grootboekregels",
            Kind::Providers => "taalaanbieders",
            Kind::Certifications => "keurmerken",
            Kind::Contracts => "contracten",
            Kind::Placements => "plaatsingen",
            Kind::Funding => "financiering",
            Kind::Results => "resultaten",
            Kind::Progress => "voortgangsrapportages",
            Kind::Streams => "financieringsbronnen",
            Kind::Rules => "toerekenregels",
            Kind::Setup => "financiële inrichting",
            Kind::Inflow => "instroom",
        }
    }

    /// The fields a template for this kind may map.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            Kind::Ledger => ledger::FIELDS,
            Kind::Providers => providers::FIELDS,
            Kind::Certifications => certifications::FIELDS,
            Kind::Contracts => contracts::FIELDS,
            Kind::Placements => placements::FIELDS,
            Kind::Funding => funding::FIELDS,
            Kind::Results => results::FIELDS,
            Kind::Progress => progress::FIELDS,
            Kind::Streams => streams::FIELDS,
            Kind::Rules => rules::FIELDS,
            Kind::Setup => &[],
            Kind::Inflow => inflow::FIELDS,
        }
    }

    pub fn supported(self) -> bool {
        !self.fields().is_empty()
    }

    /// Whether the kind's files may hold millions of rows, so its import keeps the checked records in a staging
    /// database rather than in memory (`ImportKind::staged`, `store::staging`).
    pub fn staged(self) -> bool {
        self == Kind::Ledger
    }

    /// Fields a row must fill only in some cases, and when: the kind's `build` refuses such a row without them.
    /// The explanation sheet says so, and the test over every shipped template checks it against the import.
    pub fn required_when(self, field: &str) -> Option<&'static str> {
        match (self, field) {
            (Kind::Funding, "reference" | "date") => Some("bij een voorschot, vaststelling of correctie"),
            (Kind::Funding, "category") => Some("bij een begrotingspost"),
            (Kind::Certifications, "valid_until") => Some("bij een keurmerk voor bepaalde tijd"),
            (Kind::Contracts, "milestones") => Some("bij het eerste tarief van een route in een contract"),
            (Kind::Progress, "absence_reason") => Some("als er verzuim is"),
            (Kind::Ledger, "debit") => Some("als Credit leeg is"),
            (Kind::Ledger, "credit") => Some("als Debet leeg is"),
            (Kind::Rules, "budget_year") => Some("bij een begrotingspost"),
            (Kind::Rules, "budget_line") => Some("bij een begrotingsjaar"),
            _ => None,
        }
    }
}

/// Whether a row must fill a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Every row: an empty cell rejects the row.
    Always,
    /// Only in the case named.
    When(&'static str),
    Never,
}

impl Requirement {
    /// The words of the explanation sheet's "Verplicht" column.
    pub fn label(self) -> String {
        match self {
            Requirement::Always => "ja".into(),
            Requirement::When(case) => format!("ja, {case}"),
            Requirement::Never => "nee".into(),
        }
    }
}

/// How a field's cells are parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A date cell, or text in one of the template's declared formats.
    Date,
    /// A number cell, or text in the template's amount style.
    Amount,
    /// Text of at most this many characters; numbers become their digits.
    Text { max: usize },
    /// A whole number within bounds.
    Integer { min: i64, max: i64 },
}

/// One field an entity kind can take from a spreadsheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: &'static str,
    /// The Dutch column name used in messages and example spreadsheets.
    pub label: &'static str,
    pub ty: FieldType,
    /// Every template for this kind must map it.
    pub required: bool,
    /// One line for the explanation sheet of an example spreadsheet.
    pub explain: &'static str,
}

/// A parsed cell value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Date(time::Date),
    Money(Money),
    Int(i64),
}

impl Value {
    /// The form used for identities: stable across templates and file types.
    pub fn canonical(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Date(d) => crate::domain::dates::iso(*d),
            Value::Money(m) => m.plain(),
            Value::Int(i) => i.to_string(),
        }
    }
}

/// The parsed values of one row, by field index of the kind's [`FieldDef`] list.
#[derive(Debug, Default)]
pub struct RowValues {
    pub values: Vec<Option<Value>>,
    /// The row number as the spreadsheet shows it, for messages that point at another row.
    pub row: u32,
}

impl RowValues {
    pub fn take_text(&mut self, field: usize) -> String {
        match self.values.get_mut(field).and_then(Option::take) {
            Some(Value::Text(s)) => s,
            Some(other) => other.canonical(),
            None => String::new(),
        }
    }

    pub fn money(&self, field: usize) -> Option<Money> {
        match self.values.get(field) {
            Some(Some(Value::Money(m))) => Some(*m),
            _ => None,
        }
    }

    pub fn date(&self, field: usize) -> Option<time::Date> {
        match self.values.get(field) {
            Some(Some(Value::Date(d))) => Some(*d),
            _ => None,
        }
    }

    pub fn int(&self, field: usize) -> Option<i64> {
        match self.values.get(field) {
            Some(Some(Value::Int(i))) => Some(*i),
            _ => None,
        }
    }
}

/// One problem, located as the spreadsheet shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub sheet: String,
    /// Row number as the spreadsheet shows it; None for problems with the file as a whole.
    pub row: Option<u32>,
    /// Column letter, when the problem is in one cell.
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

/// A line that was already imported, and the batch that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    pub sheet: String,
    pub row: u32,
    /// The batch that brought the existing record; 0 when it was entered on a screen.
    pub batch: i64,
    /// What differs between the file and the stored record, which the import did not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The outcome of an import or a dry run. Counts classify every data row of the file:
/// `rows_read = rows_imported + rows_duplicate + rows_rejected`. `batch` is set only when rows were written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub batch: Option<i64>,
    pub kind: Kind,
    pub template: String,
    pub file_name: String,
    pub file_sha256: String,
    pub rows_read: u64,
    /// New rows: written when `batch` is set, otherwise the rows that would be written.
    pub rows_imported: u64,
    pub rows_duplicate: u64,
    pub rows_rejected: u64,
    /// Blank and totals rows the template skips; not counted as read.
    pub rows_skipped: u64,
    /// Sum of the new rows' amounts.
    pub amount_total: Money,
    pub errors: Vec<RowError>,
    /// How many errors there were in all; `errors` holds at most [`engine::MAX_LISTED`].
    pub errors_total: u64,
    pub duplicates: Vec<Duplicate>,
    pub dry_run: bool,
    /// For kinds charged to funding streams (the ledger): where the new rows go by the current attribution rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Charges>,
    /// The batch was stored waiting for another user's approval (`four_eyes_imports`); only shown when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaits_approval: bool,
}

impl Summary {
    /// True when the file had problems: rejected rows or a file-level error.
    pub fn has_errors(&self) -> bool {
        self.errors_total > 0
    }
}

/// Where a new record's amount is charged by the attribution rules: a funding stream, and a contract when the
/// rule names one (or finds it through the creditor). `None` in its place means the unattributed queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    pub stream: i64,
    pub contract: Option<i64>,
}

/// The new rows of an import per funding stream they are charged to, and those no rule takes: the streams' amounts
/// plus the queue's add up to the summary's `amount_total`, to the cent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charges {
    /// By stream code.
    pub streams: Vec<StreamCharge>,
    pub queue_rows: u64,
    pub queue_amount: Money,
}

/// The new rows charged to one funding stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCharge {
    pub stream: String,
    pub name: String,
    pub rows: u64,
    pub amount: Money,
}

impl Charges {
    /// Streams plus queue: what the new rows come to.
    pub fn total(&self) -> Money {
        self.streams.iter().fold(self.queue_amount, |sum, s| sum + s.amount)
    }
}

/// What the stored data says about a record a row would write, when it is not simply new.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Stored already, by this batch (0: entered on a screen): the row is a duplicate.
    Stored(i64),
    /// The stored data refuses the record: the row is rejected with this row error.
    Refused(Refused),
}

/// A row the stored data refuses although the file alone allowed it (a year closed, a decision or tariff stored
/// since the file was read): which of the kind's fields it concerns, the value, and a Dutch message that says
/// what to fix. The engine places it in the sheet's row and column, like the mapper's own row errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub field: usize,
    pub value: String,
    pub message: String,
}

/// A validated record with its identity, ready for the store.
#[derive(Debug)]
pub struct Prepared<R> {
    pub row: u32,
    pub identity: [u8; 16],
    pub record: R,
}

/// What an entity kind contributes to the engine: building a record from parsed values, its fingerprint,
/// and how the store writes a chunk of records.
pub trait ImportKind: Send + Sync + 'static {
    type Record: Send + Sync + 'static;

    fn kind(&self) -> Kind;

    /// Builds a record from one row's values (already parsed per field type). Pushes `(field, message)` for
    /// each problem; returns None when the row cannot become a record.
    fn build(
        &self,
        template: &template::CheckedTemplate,
        values: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<Self::Record>;

    /// Feeds every stored field, canonically, into the fingerprint.
    fn fingerprint(&self, record: &Self::Record, hasher: &mut Sha256);

    /// The record's amount, for the batch total (zero for kinds without money).
    fn amount(&self, record: &Self::Record) -> Money;

    /// Column headings and values of a record as it will be stored, for the preview.
    fn preview_headers(&self) -> &'static [&'static str];
    fn preview(&self, record: &Self::Record) -> Vec<String>;

    /// What storing this record changes, in words ("statuswijziging van X naar Y"), for kinds whose preview lists
    /// every row with its change; None for kinds that only show their first new rows.
    fn change(&self, _record: &Self::Record) -> Option<String> {
        None
    }

    /// How many rows the preview lists. Register kinds that show a change per row list them all (up to
    /// [`engine::REGISTER_PREVIEW_ROWS`]): nobody should confirm changes they could not see.
    fn preview_limit(&self) -> usize {
        engine::PREVIEW_ROWS
    }

    /// Whether the row repeats a stored record (with the batch that holds it, 0 for one entered on a screen) or
    /// the stored data refuses it; None when the row is new. Only reads: the read phase asks it outside the write
    /// lock (for the preview too), and `insert` asks it again inside. A kind may note here what differs, for
    /// `duplicate_note`.
    fn stored(
        &self,
        conn: &mut crate::store::Conn,
        row: &Prepared<Self::Record>,
    ) -> impl std::future::Future<Output = sqlx::Result<Option<Found>>> + Send;

    /// `stored` for a chunk of rows: `(index into rows, what was found)` of those that are not simply new. A kind
    /// with millions of rows (the ledger) looks them up in bulk instead.
    fn existing(
        &self,
        conn: &mut crate::store::Conn,
        rows: &[Prepared<Self::Record>],
    ) -> impl std::future::Future<Output = sqlx::Result<Vec<(usize, Found)>>> + Send {
        async move {
            let mut found = Vec::new();
            for (i, p) in rows.iter().enumerate() {
                if let Some(f) = self.stored(conn, p).await? {
                    found.push((i, f));
                }
            }
            Ok(found)
        }
    }

    /// Inserts the records that are new, in the write phase; returns the indexes (into `rows`) of those that
    /// were not (by `stored`, asked again now that nothing else can write): stored already, or refused.
    fn insert(
        &self,
        tx: &mut crate::store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<Self::Record>],
    ) -> impl std::future::Future<Output = sqlx::Result<Vec<(usize, Found)>>> + Send;

    /// Whether the records wait for the write phase in the import's staging database (`store::staging`) instead
    /// of memory: for kinds whose files may hold millions of rows (the ledger). Such a kind implements `stage`,
    /// `staged_rows` and `insert_staged` instead of relying on `insert`; the engine calls those only when this
    /// is true.
    fn staged(&self) -> bool {
        false
    }

    /// Staged kinds: keeps a chunk of checked records, `existing` being those the read phase found stored. Returns
    /// where each record is charged (see `charge`), worked out once for staging and the preview alike; empty for
    /// kinds that are not charged.
    fn stage(
        &self,
        _conn: &mut crate::store::Conn,
        _rows: &[Prepared<Self::Record>],
        _existing: &[(usize, i64)],
    ) -> impl std::future::Future<Output = sqlx::Result<Vec<Option<Charge>>>> + Send {
        async { Err(not_staged(self.kind())) }
    }

    /// Reads what the kind needs besides the rows before the read phase checks them (the ledger: the attribution
    /// rules, once per import). Called with every chunk, so it must be cheap once done.
    fn load(&self, _conn: &mut crate::store::Conn) -> impl std::future::Future<Output = sqlx::Result<()>> + Send {
        async { Ok(()) }
    }

    /// Whether the kind's records are charged to funding streams: then the preview says where each new record
    /// goes (`charge`, `charge_labels`) and the summary carries [`Charges`].
    fn charged(&self) -> bool {
        false
    }

    /// Where a record is charged by the rules `load` read; None: the unattributed queue.
    fn charge(&self, _record: &Self::Record) -> Option<Charge> {
        None
    }

    /// The stream's code and name, and a contract's reference, for the preview.
    fn stream_label(&self, _stream: i64) -> (&str, &str) {
        ("", "")
    }
    fn contract_label(&self, _contract: i64) -> &str {
        ""
    }

    /// Staged kinds: the staged records after source row `after`, at most `limit`, in file order (to count them
    /// again when the stored data changed between the phases).
    fn staged_rows(
        &self,
        _conn: &mut crate::store::Conn,
        _after: u32,
        _limit: usize,
    ) -> impl std::future::Future<Output = sqlx::Result<Vec<Prepared<Self::Record>>>> + Send {
        async { Err(not_staged(self.kind())) }
    }

    /// Staged kinds: inserts the staged records into the batch, in file order, skipping any whose identity is
    /// stored; with `only_new`, only those the read phase found new. Returns how many it inserted.
    fn insert_staged(
        &self,
        _tx: &mut crate::store::Tx<'_>,
        _batch: i64,
        _only_new: bool,
    ) -> impl std::future::Future<Output = sqlx::Result<u64>> + Send {
        async { Err(not_staged(self.kind())) }
    }

    /// For a row `insert` found to exist already: what differs from the stored record (nothing is updated).
    fn duplicate_note(&self, _row: u32) -> Option<String> {
        None
    }

    /// In a dry run `finish` does not run; a kind that can tell from the rows already that it would refuse the
    /// batch says so here, so the preview shows it.
    fn dry_run_refusal(&self) -> Option<String> {
        None
    }

    /// Runs inside the batch's transaction after every record is inserted, before the commit: a kind may
    /// refuse the whole batch (Err with a Dutch message) or bring derived data up to date.
    fn finish(
        &self,
        _tx: &mut crate::store::Tx<'_>,
        _batch: i64,
        _actor: &str,
    ) -> impl std::future::Future<Output = Result<(), FinishError>> + Send {
        async { Ok(()) }
    }
}

/// The error of a staging method called for a kind that keeps its records in memory: a bug in the engine.
fn not_staged(kind: Kind) -> sqlx::Error {
    sqlx::Error::Protocol(format!("importsoort {} houdt haar regels niet in de tussenopslag", kind.as_str()))
}

/// Why `ImportKind::finish` refused a batch.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
