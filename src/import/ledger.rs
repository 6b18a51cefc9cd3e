//! The ledger kind: rows of a ledger export become [`LedgerLine`]s, signed by the template's sign convention.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::template::{CheckedTemplate, SignConvention};
use super::{Charge, FieldDef, FieldType, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::attribution::LedgerView;
use crate::domain::bsn;
use crate::money::Money;
use crate::store;
use crate::store::attribution::{ChargeLabels, RuleBook};

pub const BOOKING_DATE: usize = 0;
pub const FISCAL_YEAR: usize = 1;
pub const PERIOD: usize = 2;
pub const DOCUMENT: usize = 3;
pub const LINE: usize = 4;
pub const GL_ACCOUNT: usize = 5;
pub const COST_CENTRE: usize = 6;
pub const TASK_FIELD: usize = 7;
pub const CREDITOR_NUMBER: usize = 8;
pub const CREDITOR_NAME: usize = 9;
pub const INVOICE_NUMBER: usize = 10;
pub const DESCRIPTION: usize = 11;
pub const AMOUNT: usize = 12;
pub const DEBIT: usize = 13;
pub const CREDIT: usize = 14;
pub const INDICATOR: usize = 15;

const fn text(name: &'static str, label: &'static str, max: usize, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty: FieldType::Text { max }, required: false, explain }
}

/// The fields a ledger template can map, in the order of the constants above.
pub const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "booking_date",
        label: "Boekdatum",
        ty: FieldType::Date,
        required: true,
        explain: "Datum van de boeking: een datumcel of tekst in de notatie van het sjabloon (bijv. 31-12-2022).",
    },
    FieldDef {
        name: "fiscal_year",
        label: "Boekjaar",
        ty: FieldType::Integer { min: 1990, max: 2200 },
        required: false,
        explain: "Boekjaar, vier cijfers.",
    },
    FieldDef {
        name: "period",
        label: "Periode",
        ty: FieldType::Integer { min: 1, max: 13 },
        required: false,
        explain: "Boekperiode 1 tot en met 12, of 13 voor correcties bij de jaarafsluiting.",
    },
    text("document", "Boekstuk", 50, "Boekstuknummer uit het financieel systeem."),
    text("line", "Regel", 20, "Regelnummer binnen het boekstuk."),
    FieldDef {
        name: "gl_account",
        label: "Grootboekrekening",
        ty: FieldType::Text { max: 50 },
        required: true,
        explain: "Grootboekrekening waarop is geboekt.",
    },
    FieldDef {
        name: "cost_centre",
        label: "Kostenplaats",
        ty: FieldType::Text { max: 50 },
        required: true,
        explain: "Kostenplaats van de boeking.",
    },
    text("task_field", "Taakveld", 20, "Iv3-taakveld, bijvoorbeeld 6.1."),
    text("creditor_number", "Crediteurnummer", 50, "Nummer van de crediteur (leverancier)."),
    text("creditor_name", "Crediteur", 200, "Naam van de crediteur."),
    text("invoice_number", "Factuurnummer", 100, "Factuurnummer van de crediteur."),
    FieldDef {
        name: "description",
        label: "Omschrijving",
        ty: FieldType::Text { max: 500 },
        required: true,
        explain: "Omschrijving van de boeking.",
    },
    FieldDef {
        name: "amount",
        label: "Bedrag",
        ty: FieldType::Amount,
        required: false,
        explain:
            "Bedrag in euro's: een getal of tekst als 1.234,56; een creditering is negatief (-1.234,56 of (1.234,56)).",
    },
    FieldDef {
        name: "debit",
        label: "Debet",
        ty: FieldType::Amount,
        required: false,
        explain: "Debetbedrag (uitgave); leeg of 0 als de regel een creditering is.",
    },
    FieldDef {
        name: "credit",
        label: "Credit",
        ty: FieldType::Amount,
        required: false,
        explain: "Creditbedrag (creditering, terugontvangst); leeg of 0 als de regel een uitgave is.",
    },
    text("indicator", "D/C", 20, "D voor debet (uitgave), C voor credit (creditering)."),
];

/// One imported ledger line, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerLine {
    pub booking_date: time::Date,
    pub fiscal_year: Option<i64>,
    pub period: Option<i64>,
    pub document: String,
    pub line: String,
    pub gl_account: String,
    pub cost_centre: String,
    pub task_field: String,
    pub creditor_number: String,
    pub creditor_name: String,
    pub invoice_number: String,
    pub description: String,
    pub amount: Money,
}

impl LedgerLine {
    /// The line as the attribution rules see it (before it has an id).
    pub fn view(&self) -> LedgerView {
        LedgerView {
            id: 0,
            booking_date: self.booking_date,
            gl_account: self.gl_account.clone(),
            cost_centre: self.cost_centre.clone(),
            task_field: self.task_field.clone(),
            creditor_number: self.creditor_number.clone(),
            description: self.description.clone(),
            amount: self.amount,
        }
    }
}

/// The ledger kind. Holds the attribution rule book its lines were attributed by while they were read (staged,
/// or charged in the preview), with the names the preview shows for where they go.
#[derive(Debug, Default)]
pub struct Ledger {
    book: OnceLock<RuleBook>,
    labels: OnceLock<ChargeLabels>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// The rule book, read with the first chunk: every line of the file is attributed by the same book.
    async fn book(&self, conn: &mut store::Conn) -> sqlx::Result<&RuleBook> {
        if let Some(book) = self.book.get() {
            return Ok(book);
        }
        let book = RuleBook::load(conn).await?;
        Ok(self.book.get_or_init(|| book))
    }
}

/// A ledger export's description sometimes names the participant an invoice is for, BSN and all: a number
/// labelled as a BSN is masked before anything (the line, its fingerprint, the preview) sees it. Invoice and
/// document numbers live in their own fields and are never touched.
fn masked_description(description: String) -> String {
    bsn::mask_labelled(&description).unwrap_or(description)
}

/// The preview's note on a line whose description had a BSN masked.
pub const MASKED_NOTE: &str = "BSN in de omschrijving verwijderd";

impl ImportKind for Ledger {
    type Record = LedgerLine;

    fn kind(&self) -> Kind {
        Kind::Ledger
    }

    fn build(
        &self,
        template: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<LedgerLine> {
        let amount = match template.template.sign {
            SignConvention::Signed => v.money(AMOUNT),
            SignConvention::DebitCredit => match (v.money(DEBIT), v.money(CREDIT)) {
                (None, None) => {
                    problems.push((DEBIT, "Debet en Credit zijn allebei leeg; vul één van beide".into()));
                    return None;
                }
                (d, c) => Some(d.unwrap_or(Money::ZERO) - c.unwrap_or(Money::ZERO)),
            },
            SignConvention::Indicator => {
                let amount = v.money(AMOUNT)?;
                let ind = template.indicator();
                let code = match &v.values[INDICATOR] {
                    Some(super::Value::Text(t)) => t.clone(),
                    _ => String::new(),
                };
                let is = |list: &[String]| list.iter().any(|x| x.trim().eq_ignore_ascii_case(code.trim()));
                if amount.is_negative() {
                    problems.push((AMOUNT, "bedrag heeft een minteken terwijl de kolom D/C het teken bepaalt".into()));
                    return None;
                }
                if is(&ind.debit) {
                    Some(amount)
                } else if is(&ind.credit) {
                    Some(-amount)
                } else {
                    problems.push((
                        INDICATOR,
                        format!(
                            "'{code}' is geen debet/credit-code; verwacht {} of {}",
                            ind.debit.join("/"),
                            ind.credit.join("/")
                        ),
                    ));
                    return None;
                }
            }
        };
        let booking_date = v.date(BOOKING_DATE);
        let line = LedgerLine {
            booking_date: booking_date?,
            fiscal_year: v.int(FISCAL_YEAR),
            period: v.int(PERIOD),
            document: v.take_text(DOCUMENT),
            line: v.take_text(LINE),
            gl_account: v.take_text(GL_ACCOUNT),
            cost_centre: v.take_text(COST_CENTRE),
            task_field: v.take_text(TASK_FIELD),
            creditor_number: v.take_text(CREDITOR_NUMBER),
            creditor_name: v.take_text(CREDITOR_NAME),
            invoice_number: v.take_text(INVOICE_NUMBER),
            description: masked_description(v.take_text(DESCRIPTION)),
            amount: amount?,
        };
        Some(line)
    }

    /// The fingerprint's byte form is part of every stored identity: changing it would let a re-import of an
    /// old file through as new lines. Keep it as it is.
    fn fingerprint(&self, r: &LedgerLine, h: &mut Sha256) {
        // Numbers as `to_string` writes them and the date as `dates::iso` does, without allocating: this runs
        // for every line.
        let (mut year_buf, mut period_buf, mut cents_buf) =
            (itoa::Buffer::new(), itoa::Buffer::new(), itoa::Buffer::new());
        let year = match r.fiscal_year {
            Some(v) => year_buf.format(v),
            None => "",
        };
        let period = match r.period {
            Some(v) => period_buf.format(v),
            None => "",
        };
        let date = crate::domain::dates::iso_text(r.booking_date);
        for part in [
            &*date,
            year,
            period,
            &r.document,
            &r.line,
            &r.gl_account,
            &r.cost_centre,
            &r.task_field,
            &r.creditor_number,
            &r.creditor_name,
            &r.invoice_number,
            &r.description,
            cents_buf.format(r.amount.cents()),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
    }

    fn amount(&self, r: &LedgerLine) -> Money {
        r.amount
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &[
            "Boekdatum",
            "Jaar",
            "Per.",
            "Boekstuk",
            "Grootboekrekening",
            "Kostenplaats",
            "Crediteur",
            "Omschrijving",
            "Bedrag",
            "Opmerking",
        ]
    }

    fn preview(&self, r: &LedgerLine) -> Vec<String> {
        vec![
            crate::domain::dates::display(r.booking_date),
            r.fiscal_year.map(|y| y.to_string()).unwrap_or_default(),
            r.period.map(|p| p.to_string()).unwrap_or_default(),
            if r.line.is_empty() { r.document.clone() } else { format!("{}/{}", r.document, r.line) },
            r.gl_account.clone(),
            r.cost_centre.clone(),
            r.creditor_name.clone(),
            r.description.clone(),
            r.amount.to_string(),
            if r.description.contains(bsn::MASK) { MASKED_NOTE.to_string() } else { String::new() },
        ]
    }

    async fn stored(&self, conn: &mut store::Conn, row: &Prepared<LedgerLine>) -> sqlx::Result<Option<Found>> {
        Ok(self.existing(conn, std::slice::from_ref(row)).await?.pop().map(|(_, found)| found))
    }

    /// The ledger's store refuses nothing line by line (a closed year refuses the batch, in `finish`).
    async fn existing(
        &self,
        conn: &mut store::Conn,
        rows: &[Prepared<LedgerLine>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        Ok(held(store::imports::ledger_holders(conn, rows).await?))
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<LedgerLine>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        Ok(held(store::imports::insert_ledger_lines(tx, batch, rows).await?))
    }

    /// A ledger export may hold a million lines: they wait in the staging database, not in memory.
    fn staged(&self) -> bool {
        true
    }

    async fn stage(
        &self,
        conn: &mut store::Conn,
        rows: &[Prepared<LedgerLine>],
        existing: &[(usize, i64)],
    ) -> sqlx::Result<Vec<Option<Charge>>> {
        let book = self.book(conn).await?;
        store::staging::stage_ledger_lines(conn, rows, existing, book).await
    }

    async fn load(&self, conn: &mut store::Conn) -> sqlx::Result<()> {
        self.book(conn).await?;
        if self.labels.get().is_none() {
            let labels = ChargeLabels::load(conn).await?;
            self.labels.get_or_init(|| labels);
        }
        Ok(())
    }

    fn charged(&self) -> bool {
        true
    }

    /// A dry run stages nothing, so its preview asks here, by the same book staging uses.
    fn charge(&self, r: &LedgerLine) -> Option<Charge> {
        let book = self.book.get().filter(|b| b.has_rules())?;
        let ((stream, _, contract, _), _) = book.target(&r.view())?;
        Some(Charge { stream, contract })
    }

    fn stream_label(&self, stream: i64) -> (&str, &str) {
        self.labels.get().map(|l| l.stream(stream)).unwrap_or(("", ""))
    }

    fn contract_label(&self, contract: i64) -> &str {
        self.labels.get().map(|l| l.contract(contract)).unwrap_or("")
    }

    async fn staged_rows(
        &self,
        conn: &mut store::Conn,
        after: u32,
        limit: usize,
    ) -> sqlx::Result<Vec<Prepared<LedgerLine>>> {
        store::staging::staged_ledger_lines(conn, after, limit).await
    }

    async fn insert_staged(&self, tx: &mut store::Tx<'_>, batch: i64, only_new: bool) -> sqlx::Result<u64> {
        store::staging::insert_staged_ledger_lines(tx, batch, only_new).await
    }

    /// A batch may not add spend to a closed year; new lines go through the attribution rules at once (a batch
    /// that waits for approval: when it is approved), so attributed + unattributed = imported holds the moment
    /// the batch counts. The lines were attributed when they were staged; unless the rule book changed since,
    /// only storing that is left.
    async fn finish(&self, tx: &mut store::Tx<'_>, batch: i64, actor: &str) -> Result<(), super::FinishError> {
        if let Some(year) = store::imports::closed_year_in_batch(tx, batch).await? {
            return Err(super::FinishError::Refused(format!(
                "Het bestand bevat boekingen in {year}, en dat jaar is afgesloten. Er is niets geïmporteerd; \
                 vraag een beheerder het jaar te heropenen of laat de regels van {year} weg."
            )));
        }
        if store::approval::awaits(tx, batch).await? {
            // Attributed only when another user approves the batch (store::approval::approve).
            return Ok(());
        }
        let now = RuleBook::load(tx).await?;
        match self.book.get() {
            _ if !now.has_rules() => {}
            Some(staged) if *staged == now => {
                store::attribution::apply_staged(tx, batch, actor).await?;
            }
            _ => {
                store::attribution::apply_to_batch(tx, batch, actor).await?;
            }
        }
        Ok(())
    }
}

/// Lines stored already, with their batch, as the engine counts them.
fn held(holders: Vec<(usize, i64)>) -> Vec<(usize, Found)> {
    holders.into_iter().map(|(i, batch)| (i, Found::Stored(batch))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    /// The fingerprint as the first release wrote it (every part through `to_string`). Stored identities come
    /// from it, so the allocation-free version must hash exactly the same bytes.
    fn first_release_fingerprint(r: &LedgerLine) -> Vec<u8> {
        let opt = |o: Option<i64>| o.map(|v| v.to_string()).unwrap_or_default();
        let mut h = Sha256::new();
        for part in [
            crate::domain::dates::iso(r.booking_date).as_str(),
            &opt(r.fiscal_year),
            &opt(r.period),
            &r.document,
            &r.line,
            &r.gl_account,
            &r.cost_centre,
            &r.task_field,
            &r.creditor_number,
            &r.creditor_name,
            &r.invoice_number,
            &r.description,
            &r.amount.cents().to_string(),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        h.finalize().to_vec()
    }

    #[test]
    fn fingerprint_bytes_are_those_of_the_first_release() {
        let line = |year, period, cents| LedgerLine {
            booking_date: time::macros::date!(2023 - 02 - 28),
            fiscal_year: year,
            period,
            document: "BS0000001".into(),
            line: "2".into(),
            gl_account: "4301".into(),
            cost_centre: "KP6100".into(),
            task_field: "6.1".into(),
            creditor_number: "100004".into(),
            creditor_name: "Taalschool Utrecht BV".into(),
            invoice_number: "F00000001".into(),
            description: "Taalonderwijs B1-route".into(),
            amount: Money::from_cents(cents),
        };
        for r in [line(Some(2023), Some(13), 123_456), line(None, None, -5), line(Some(-1), Some(0), 0)] {
            let mut h = Sha256::new();
            Ledger::new().fingerprint(&r, &mut h);
            assert_eq!(h.finalize().to_vec(), first_release_fingerprint(&r));
        }
        // And one fixed value, so a change to both at once is caught too.
        let mut h = Sha256::new();
        Ledger::new().fingerprint(&line(Some(2023), Some(2), 123_456), &mut h);
        assert_eq!(hex::encode(h.finalize()), FIXED);
    }

    const FIXED: &str = "c9b1d4388f88bddfbe4fb0938683a520753cd65630ae19e376c32b3d0c5de71f";
}
