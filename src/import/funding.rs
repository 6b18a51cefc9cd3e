//! The funding kind: allocations (voorschot, vaststelling, correctie) and budget lines (begrotingspost) of
//! funding streams found by their code, one row each; Soort says which. Checked by the domain rules
//! (`validate_allocation`: year within the stream's spending period, only a correction negative;
//! `validate_budget_line`: never negative). An allocation is identified by stream + year + kind + reference +
//! date, a budget line by stream + category + year. A row in a closed year (the last closed year or any before
//! it) is a row error on Jaar; a year closed while the file was read refuses the batch whole.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::registers::{batch_of, differs, form_date, push_errors, Notes};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, FinishError, ImportKind, Kind, Prepared, RowValues};
use crate::domain::dates;
use crate::domain::funding::{
    validate_allocation, validate_budget_line, Allocation, AllocationForm, AllocationKind, BudgetLine, BudgetLineForm,
    FundingStream,
};
use crate::money::Money;
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
    /// Closed years that new rows of this batch fall in, as the write phase found them: a year closed while the
    /// file was read refuses the batch.
    closed: Mutex<BTreeSet<i32>>,
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
            closed: Mutex::new(BTreeSet::new()),
            notes: Notes::default(),
        })
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
                problems.push((YEAR, closed_row(year, last)));
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

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<FundingRow>) -> sqlx::Result<Option<i64>> {
        let existing: Option<(&'static str, i64, i64)> = match &p.record {
            FundingRow::Allocation { allocation: a, .. } => sqlx::query_as::<_, (i64, i64)>(
                "SELECT id, amount_cents FROM allocation
                 WHERE stream_id = ? AND year = ? AND kind = ? AND reference = ? AND decided_on = ? ORDER BY id LIMIT 1",
            )
            .bind(a.stream_id)
            .bind(a.year)
            .bind(a.kind.code())
            .bind(&a.reference)
            .bind(a.date)
            .fetch_optional(&mut *conn)
            .await?
            .map(|(id, c)| ("allocation", id, c)),
            FundingRow::Budget { line, .. } => sqlx::query_as::<_, (i64, i64)>(
                "SELECT id, amount_cents FROM budget_line WHERE stream_id = ? AND category = ? AND year = ?",
            )
            .bind(line.stream_id)
            .bind(&line.category)
            .bind(line.year)
            .fetch_optional(&mut *conn)
            .await?
            .map(|(id, c)| ("budget_line", id, c)),
        };
        let Some((table, id, cents)) = existing else { return Ok(None) };
        let (what, amount) = match &p.record {
            FundingRow::Allocation { code, allocation: a } => (
                format!(
                    "De {} {} van {code} voor {} ({})",
                    a.kind.label().to_lowercase(),
                    a.reference,
                    a.year,
                    dates::display(a.date)
                ),
                a.amount,
            ),
            FundingRow::Budget { code, line } => {
                (format!("De begrotingspost {} van {code} voor {}", line.category, line.year), line.amount)
            }
        };
        if let Some(n) = differs(&what, &[("Bedrag", cents == amount.cents())]) {
            self.notes.set(p.row, format!("{n} (opgeslagen {}, bestand {amount})", Money::from_cents(cents)));
        }
        Ok(Some(batch_of(conn, table, id).await?))
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<FundingRow>],
    ) -> sqlx::Result<Vec<(usize, i64)>> {
        let mut dups = Vec::new();
        let actor = super::registers::batch_actor(tx, batch).await?;
        let last_closed = store::funding::last_closed(tx).await?;
        for (i, p) in rows.iter().enumerate() {
            if let Some(from) = self.stored(tx, p).await? {
                dups.push((i, from));
                continue;
            }
            let year = p.record.year();
            if store::funding::year_is_closed(year, last_closed) {
                // Not written; `finish` refuses the batch, naming the year.
                self.closed.lock().expect("closed lock").insert(year);
                continue;
            }
            let result = match &p.record {
                FundingRow::Allocation { allocation, .. } => {
                    store::funding::add_allocation_in(tx, allocation, Some(batch), &actor).await
                }
                FundingRow::Budget { line, .. } => {
                    store::funding::set_budget_line_in(tx, line, Some(batch), &actor).await
                }
            };
            match result {
                Ok(_) => {}
                Err(store::funding::FundingError::ClosedYear(year)) => {
                    self.closed.lock().expect("closed lock").insert(year);
                }
                Err(store::funding::FundingError::Db(e)) => return Err(e),
                Err(e) => return Err(sqlx::Error::Protocol(e.to_string())),
            }
        }
        Ok(dups)
    }

    async fn finish(&self, _tx: &mut store::Tx<'_>, _batch: i64, _actor: &str) -> Result<(), FinishError> {
        match refusal(&self.closed) {
            Some(m) => Err(FinishError::Refused(m)),
            None => Ok(()),
        }
    }
}

/// A row in `year` while the years up to `last` are closed.
fn closed_row(year: i32, last: i32) -> String {
    let closed = if year == last {
        format!("{year} is afgesloten")
    } else {
        format!("{year} is afgesloten, want {last} is afgesloten en daarmee elk jaar ervoor")
    };
    format!("{closed}. Vraag een beheerder het jaar te heropenen of laat deze regel weg.")
}

/// The refusal for new rows in the closed years `closed` (closed while the file was read), if there are any.
fn refusal(closed: &Mutex<BTreeSet<i32>>) -> Option<String> {
    let closed: Vec<String> = closed.lock().expect("closed lock").iter().map(|y| y.to_string()).collect();
    if closed.is_empty() {
        return None;
    }
    Some(format!(
        "Het bestand bevat financiering voor {}, en {} afgesloten. Er is niets geïmporteerd; vraag een beheerder \
         het jaar te heropenen of laat die regels weg.",
        closed.join(" en "),
        if closed.len() == 1 { "dat jaar is" } else { "die jaren zijn" }
    ))
}
