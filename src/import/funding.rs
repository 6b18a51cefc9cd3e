//! The funding kind: allocations (voorschot, vaststelling, correctie) and budget lines (begrotingspost) of
//! funding streams found by their code, one row each; Soort says which. Checked by the domain rules
//! (`validate_allocation`: year within the stream's spending period, only a correction negative;
//! `validate_budget_line`: never negative). An allocation is identified by stream + year + kind + reference +
//! date, a budget line by stream + category + year. A row in a closed year (the last closed year or any before
//! it) is a row error on Jaar, also when the year was closed while the file was read (the store's refusal).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::registers::{
    self, closed_year, differs, form_date, push_errors, Lookup, Notes, Refusal, RegisterKind, WriteError,
};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::dates;
use crate::domain::funding::{
    validate_allocation, validate_budget_line, Allocation, AllocationForm, AllocationKind, BudgetLine, BudgetLineForm,
    FundingStream,
};
use crate::money::Money;
use crate::store::imports::RegisterTable;
use crate::store::{self, Db};

pub const STREAM: usize = 0;
pub const YEAR: usize = 1;
pub const KIND: usize = 2;
pub const AMOUNT: usize = 3;
pub const REFERENCE: usize = 4;
pub const DATE: usize = 5;
pub const CATEGORY: usize = 6;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

pub const FIELDS: &[FieldDef] = &[
    field("stream", "Bron", FieldType::Text { max: 50 }, true, "Code van de financieringsbron; die moet al bestaan."),
    field("year", "Jaar", FieldType::Integer { min: 1, max: 9999 }, true, "Jaar waarvoor het bedrag geldt."),
    field(
        "kind",
        "Soort",
        FieldType::Text { max: 50 },
        true,
        "voorschot, vaststelling of correctie (toekenningen), of begrotingspost.",
    ),
    field(
        "amount",
        "Bedrag",
        FieldType::Amount,
        true,
        "Bedrag in euro's; alleen een correctie kan negatief zijn, een begrotingspost nooit.",
    ),
    field(
        "reference",
        "Kenmerk",
        FieldType::Text { max: 300 },
        false,
        "Kenmerk van de beschikking of circulaire (toekenningen); leeg bij een begrotingspost.",
    ),
    field("date", "Datum", FieldType::Date, false, "Datum van de beschikking of circulaire (toekenningen)."),
    field(
        "category",
        "Categorie",
        FieldType::Text { max: 200 },
        false,
        "Categorie van de begrotingspost, bijv. 'Taalonderwijs B1'; leeg bij een toekenning.",
    ),
];

/// What a row of Soort is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    Allocation(AllocationKind),
    Budget,
}

fn sort_of(text: &str) -> Option<Sort> {
    let t = text.trim().to_lowercase();
    if t == "begrotingspost" || t == "begroting" || t == "budget_line" {
        return Some(Sort::Budget);
    }
    AllocationKind::ALL.into_iter().find(|k| k.code() == t || k.label().to_lowercase() == t).map(Sort::Allocation)
}

#[derive(Debug)]
pub enum FundingRow {
    Allocation { code: String, allocation: Allocation },
    Budget { code: String, line: BudgetLine },
}

impl FundingRow {
    fn year(&self) -> i32 {
        match self {
            FundingRow::Allocation { allocation, .. } => allocation.year,
            FundingRow::Budget { line, .. } => line.year,
        }
    }
}

pub struct Funding {
    streams: HashMap<String, FundingStream>,
    /// Budget-line keys of earlier rows of this file, with their row, to refuse a second line for the same key.
    earlier: Mutex<HashMap<(i64, String, i32), u32>>,
    /// The last closed year when the import started: a row in it or before it is refused in the read phase, as
    /// a row error on Jaar (in the preview too).
    last_closed: Option<i32>,
    notes: Notes,
}

impl Funding {
    pub async fn load(db: &Db) -> sqlx::Result<Funding> {
        let streams = store::funding::streams(db).await?;
        let last_closed = store::funding::last_closed(&mut *db.acquire().await?).await?;
        Ok(Funding {
            streams: streams.into_iter().map(|(s, _)| (s.code.clone(), s)).collect(),
            earlier: Mutex::new(HashMap::new()),
            last_closed,
            notes: Notes::default(),
        })
    }

    /// Also knows the streams a set-up workbook brings (not stored yet: id 0); their rows find the stored id when
    /// they are written, after the streams.
    pub fn with_streams(mut self, extra: impl IntoIterator<Item = FundingStream>) -> Funding {
        for s in extra {
            self.streams.entry(s.code.clone()).or_insert(FundingStream { id: 0, ..s });
        }
        self
    }

    /// The row with its stream's stored id, looked up by code on `conn` for a stream that came with the same
    /// workbook; None while that stream is not stored yet (the workbook's preview).
    async fn stored_row(conn: &mut store::Conn, row: &FundingRow) -> sqlx::Result<Option<FundingRow>> {
        let (code, stream_id) = match row {
            FundingRow::Allocation { code, allocation } => (code, allocation.stream_id),
            FundingRow::Budget { code, line } => (code, line.stream_id),
        };
        let id = match stream_id {
            0 => match store::funding::stream_by_code_in(conn, code).await? {
                Some((s, _)) => s.id,
                None => return Ok(None),
            },
            id => id,
        };
        Ok(Some(match row {
            FundingRow::Allocation { code, allocation } => FundingRow::Allocation {
                code: code.clone(),
                allocation: Allocation { stream_id: id, ..allocation.clone() },
            },
            FundingRow::Budget { code, line } => {
                FundingRow::Budget { code: code.clone(), line: BudgetLine { stream_id: id, ..line.clone() } }
            }
        }))
    }
}

impl ImportKind for Funding {
    type Record = FundingRow;

    fn kind(&self) -> Kind {
        Kind::Funding
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<FundingRow> {
        let code = v.take_text(STREAM);
        let Some(stream) = self.streams.get(&code) else {
            problems.push((STREAM, format!("Onbekende financieringsbron '{code}': leg de bron eerst vast")));
            return None;
        };
        let kind_text = v.take_text(KIND);
        let Some(sort) = sort_of(&kind_text) else {
            problems.push((
                KIND,
                format!("onbekende soort '{kind_text}'; gebruik voorschot, vaststelling, correctie of begrotingspost"),
            ));
            return None;
        };
        if let Some(year) = v.int(YEAR).and_then(|y| i32::try_from(y).ok()) {
            if let (true, Some(last)) = (store::funding::year_is_closed(year, self.last_closed), self.last_closed) {
                problems.push((YEAR, closed_year(year, last)));
                return None;
            }
        }
        let year = v.int(YEAR).map(|y| y.to_string()).unwrap_or_default();
        let amount = v.money(AMOUNT).map(|m| m.plain()).unwrap_or_default();
        let category = v.take_text(CATEGORY);
        match sort {
            Sort::Allocation(kind) => {
                if !category.is_empty() {
                    problems
                        .push((CATEGORY, "een categorie hoort alleen bij een begrotingspost; laat hem leeg".into()));
                    return None;
                }
                let form = AllocationForm {
                    year,
                    kind: kind.code().to_string(),
                    amount,
                    reference: v.take_text(REFERENCE),
                    decided_on: form_date(v.date(DATE)),
                };
                match validate_allocation(&form, stream) {
                    Ok(allocation) => Some(FundingRow::Allocation { code, allocation }),
                    Err(e) => {
                        let map = [
                            ("year", YEAR),
                            ("kind", KIND),
                            ("amount", AMOUNT),
                            ("reference", REFERENCE),
                            ("decided_on", DATE),
                        ];
                        push_errors(&e, &map, KIND, problems);
                        None
                    }
                }
            }
            Sort::Budget => {
                let form = BudgetLineForm { category, year, amount };
                match validate_budget_line(&form, stream) {
                    Ok(line) => {
                        let mut earlier = self.earlier.lock().expect("earlier rows lock");
                        let key = (stream.id, line.category.clone(), line.year);
                        if let Some(first) = earlier.get(&key) {
                            problems.push((
                                CATEGORY,
                                format!(
                                    "dezelfde begrotingspost ({code}, {}, {}) staat ook op rij {first}",
                                    line.category, line.year
                                ),
                            ));
                            return None;
                        }
                        earlier.insert(key, v.row);
                        Some(FundingRow::Budget { code, line })
                    }
                    Err(e) => {
                        push_errors(&e, &[("category", CATEGORY), ("year", YEAR), ("amount", AMOUNT)], KIND, problems);
                        None
                    }
                }
            }
        }
    }

    fn fingerprint(&self, r: &FundingRow, h: &mut Sha256) {
        match r {
            FundingRow::Allocation { code, allocation: a } => h.update(format!(
                "a\x1f{code}\x1f{}\x1f{}\x1f{}\x1f{}",
                a.year,
                a.kind.code(),
                a.reference,
                dates::iso(a.date)
            )),
            FundingRow::Budget { code, line } => h.update(format!("b\x1f{code}\x1f{}\x1f{}", line.category, line.year)),
        }
    }

    fn amount(&self, _r: &FundingRow) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &["Bron", "Jaar", "Soort", "Bedrag", "Kenmerk", "Datum", "Categorie"]
    }

    fn preview(&self, r: &FundingRow) -> Vec<String> {
        match r {
            FundingRow::Allocation { code, allocation: a } => vec![
                code.clone(),
                a.year.to_string(),
                a.kind.label().to_string(),
                a.amount.to_string(),
                a.reference.clone(),
                dates::display(a.date),
                String::new(),
            ],
            FundingRow::Budget { code, line } => vec![
                code.clone(),
                line.year.to_string(),
                "Begrotingspost".into(),
                line.amount.to_string(),
                String::new(),
                String::new(),
                line.category.clone(),
            ],
        }
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<FundingRow>) -> sqlx::Result<Option<Found>> {
        registers::stored(self, conn, p).await
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<FundingRow>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        registers::insert(self, tx, batch, rows).await
    }
}

/// New, unless `year` is closed: `build` refused the years closed when the file was read; one closed since is
/// refused here, in the preview and in the write phase alike.
async fn open_year(conn: &mut store::Conn, year: i32) -> sqlx::Result<Lookup> {
    match store::funding::last_closed(conn).await? {
        Some(last) if store::funding::year_is_closed(year, Some(last)) => {
            Ok(Lookup::Refused(Refusal::ClosedYear { year, last }.on(YEAR, year.to_string())))
        }
        _ => Ok(Lookup::New),
    }
}

impl RegisterKind for Funding {
    fn notes(&self) -> Option<&Notes> {
        Some(&self.notes)
    }

    async fn find(&self, conn: &mut store::Conn, p: &Prepared<FundingRow>) -> sqlx::Result<Lookup> {
        let Some(record) = Funding::stored_row(conn, &p.record).await? else {
            return open_year(conn, p.record.year()).await;
        };
        let (twin, what, amount) = match &record {
            FundingRow::Allocation { code, allocation: a } => (
                store::funding::allocation_twin_in(conn, a).await?,
                format!(
                    "De {} {} van {code} voor {} ({})",
                    a.kind.label().to_lowercase(),
                    a.reference,
                    a.year,
                    dates::display(a.date)
                ),
                a.amount,
            ),
            FundingRow::Budget { code, line } => (
                store::funding::budget_line_twin_in(conn, line).await?,
                format!("De begrotingspost {} van {code} voor {}", line.category, line.year),
                line.amount,
            ),
        };
        if let Some(twin) = twin {
            let note = differs(&what, &[("Bedrag", twin.amount == amount)])
                .map(|n| format!("{n} (opgeslagen {}, bestand {amount})", twin.amount));
            return Ok(Lookup::Stored { batch: twin.batch, note });
        }
        open_year(conn, record.year()).await
    }

    async fn write(
        &self,
        tx: &mut store::Tx<'_>,
        p: &Prepared<FundingRow>,
        batch: i64,
        actor: &str,
    ) -> Result<Option<(RegisterTable, i64)>, WriteError> {
        use store::funding::FundingError;
        let Some(record) = Funding::stored_row(tx, &p.record).await? else {
            let code = match &p.record {
                FundingRow::Allocation { code, .. } | FundingRow::Budget { code, .. } => code.clone(),
            };
            let message = format!("financieringsbron {code} bestaat niet (meer); leg de bron eerst vast");
            return Err(WriteError::Refused(Refusal::Store(message).on(STREAM, code)));
        };
        let written = match &record {
            FundingRow::Allocation { allocation, .. } => {
                store::funding::add_allocation_in(tx, allocation, Some(batch), actor).await
            }
            FundingRow::Budget { line, .. } => store::funding::set_budget_line_in(tx, line, Some(batch), actor).await,
        };
        // `find` checked the year in this transaction, so the store refuses nothing here; its refusals stay typed
        // all the same, so one would reach the user as a row error, not a database error.
        let refusal = match written {
            Ok(_) => return Ok(None),
            Err(FundingError::Db(e)) => return Err(e.into()),
            Err(FundingError::ClosedYear(year)) => Refusal::ClosedYear { year, last: year },
            Err(
                e @ (FundingError::DuplicateCode(_)
                | FundingError::Stale
                | FundingError::NextYearClosed(_)
                | FundingError::NotClosed(_)
                | FundingError::PendingBatch { .. }
                | FundingError::NotFound),
            ) => Refusal::Store(e.to_string()),
        };
        let year = p.record.year();
        Err(WriteError::Refused(refusal.on(YEAR, year.to_string())))
    }
}
