//! The rules kind (`standaard-regels`): attribution rules in order, one row each, with every criterion the rules
//! page takes (the same `validate_criteria`) and the place in the order. The name identifies a rule: a row whose
//! name is known is a duplicate and changes nothing (the summary says what differs; change such a rule on the
//! rules page). New rules go in at their place, in file order, through the rules page's store path
//! (`add_rule_in`: refused when it would move ledger lines of a closed year), and the rules are applied once
//! when the batch is complete.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::registers::{self, form_date, lookup, push_errors, Lookup, Notes, Refusal, RegisterKind, WriteError};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, FinishError, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::attribution::{validate_criteria, AmountSign, ContractChoice, Criteria, CriteriaForm, Rule};
use crate::domain::dates;
use crate::domain::validation::FieldErrors;
use crate::money::Money;
use crate::store::attribution::{NewRule, RuleError};
use crate::store::imports::RegisterTable;
use crate::store::{self, Db};

pub const POSITION: usize = 0;
pub const NAME: usize = 1;
pub const COST_CENTRE: usize = 2;
pub const GL_ACCOUNT: usize = 3;
pub const TASK_FIELD: usize = 4;
pub const CREDITOR: usize = 5;
pub const DESCRIPTION: usize = 6;
pub const DATE_FROM: usize = 7;
pub const DATE_UNTIL: usize = 8;
pub const AMOUNT_SIGN: usize = 9;
pub const STREAM: usize = 10;
pub const BUDGET_LINE: usize = 11;
pub const BUDGET_YEAR: usize = 12;
pub const CONTRACT: usize = 13;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

const PATTERN: &str =
    "Patroon: 4300, een lijst (4300, 4310), een voorvoegsel (6.1-INB-*) of een bereik (4300-4399); leeg: elke waarde.";

pub const FIELDS: &[FieldDef] = &[
    field(
        "position",
        "Positie",
        FieldType::Integer { min: 1, max: 100_000 },
        false,
        "Plaats in de volgorde (1 is eerst; de eerste regel die past, telt). Leeg: achteraan.",
    ),
    field(
        "name",
        "Naam",
        FieldType::Text { max: 100 },
        true,
        "Naam van de regel; herkent de regel bij een volgende import.",
    ),
    field("cost_centre", "Kostenplaats", FieldType::Text { max: 200 }, false, PATTERN),
    field("gl_account", "Grootboekrekening", FieldType::Text { max: 200 }, false, PATTERN),
    field("task_field", "Taakveld", FieldType::Text { max: 200 }, false, PATTERN),
    field("creditor_number", "Crediteurnummer", FieldType::Text { max: 200 }, false, PATTERN),
    field(
        "description_contains",
        "Omschrijving bevat",
        FieldType::Text { max: 200 },
        false,
        "Tekst die in de omschrijving moet staan (hoofdletters tellen niet).",
    ),
    field("date_from", "Boekdatum vanaf", FieldType::Date, false, "Eerste boekdatum die de regel neemt."),
    field("date_until", "Boekdatum tot en met", FieldType::Date, false, "Laatste boekdatum die de regel neemt."),
    field(
        "amount_sign",
        "Bedragen",
        FieldType::Text { max: 30 },
        false,
        "beide (of leeg), facturen (bedrag 0 of meer) of creditnota's (bedrag onder 0).",
    ),
    field(
        "stream",
        "Bron",
        FieldType::Text { max: 30 },
        true,
        "Code van de financieringsbron die de boekingen krijgt.",
    ),
    field(
        "budget_line",
        "Begrotingspost",
        FieldType::Text { max: 100 },
        false,
        "Categorie van een begrotingspost van die bron (met Begrotingsjaar).",
    ),
    field(
        "budget_year",
        "Begrotingsjaar",
        FieldType::Integer { min: 2000, max: 2100 },
        false,
        "Jaar van die begrotingspost.",
    ),
    field(
        "contract",
        "Contract",
        FieldType::Text { max: 100 },
        false,
        "Kenmerk van een contract, of 'via crediteur' (het contract van de aanbieder op de boekdatum).",
    ),
];

/// The rules page's field names and the kind's field indexes.
const FORM_FIELDS: &[(&str, usize)] = &[
    ("cost_centre", COST_CENTRE),
    ("gl_account", GL_ACCOUNT),
    ("task_field", TASK_FIELD),
    ("creditor_number", CREDITOR),
    ("description_contains", DESCRIPTION),
    ("date_from", DATE_FROM),
    ("date_until", DATE_UNTIL),
    ("amount_sign", AMOUNT_SIGN),
];

/// Bedragen as the sheet takes it; the export writes the first word.
const SIGN_WORDS: &[(AmountSign, &str, &str)] = &[
    (AmountSign::Both, "beide", "both"),
    (AmountSign::Invoices, "facturen", "invoices"),
    (AmountSign::CreditNotes, "creditnota's", "credit_notes"),
];

/// What Contract says for a rule that finds the contract through the creditor.
pub const VIA_CREDITOR: &str = "via crediteur";

pub fn sign_word(sign: AmountSign) -> &'static str {
    SIGN_WORDS.iter().find(|(s, ..)| *s == sign).map(|(_, w, _)| *w).unwrap_or("beide")
}

fn parse_sign(text: &str) -> Option<AmountSign> {
    if text.trim().is_empty() {
        return Some(AmountSign::Both);
    }
    lookup(text, SIGN_WORDS)
        .or_else(|| lookup(&text.replace('\'', ""), &[(AmountSign::CreditNotes, "creditnotas", "")]))
}

/// A rule as a row brings it: stream and budget line by code, so they may come from the same set-up workbook.
#[derive(Clone, Debug)]
pub struct RuleRecord {
    pub place: Option<usize>,
    pub name: String,
    pub criteria: Criteria,
    pub stream: String,
    /// Category and year of the budget line.
    pub budget_line: Option<(String, i32)>,
    pub contract: ContractChoice,
}

pub struct Rules {
    /// Stream codes known: stored, or coming from the same workbook.
    streams: HashSet<String>,
    /// Budget lines known, by stream code, category and year.
    lines: HashSet<(String, String, i32)>,
    contracts: HashMap<String, i64>,
    notes: Notes,
    /// Whether `finish` applies the rules (the set-up import applies them itself, once for all its sheets).
    apply: bool,
}

impl Rules {
    pub async fn load(db: &Db) -> sqlx::Result<Rules> {
        let streams = store::funding::streams(db).await?;
        let codes: HashMap<i64, String> = streams.iter().map(|(s, _)| (s.id, s.code.clone())).collect();
        let lines = store::funding::budget_lines(db, None)
            .await?
            .into_iter()
            .filter_map(|l| codes.get(&l.stream_id).map(|c| (c.clone(), l.category, l.year)))
            .collect();
        let contracts = store::contracts::list(db).await?.into_iter().map(|c| (c.reference, c.id)).collect();
        Ok(Rules { streams: codes.into_values().collect(), lines, contracts, notes: Notes::default(), apply: true })
    }

    /// Also knows the streams and budget lines a set-up workbook brings, and leaves applying the rules to it.
    pub fn with_setup(
        mut self,
        streams: impl IntoIterator<Item = String>,
        lines: impl IntoIterator<Item = (String, String, i32)>,
    ) -> Rules {
        self.streams.extend(streams);
        self.lines.extend(lines);
        self.apply = false;
        self
    }

    fn contract_label(&self, c: &ContractChoice) -> String {
        match c {
            ContractChoice::None => String::new(),
            ContractChoice::ViaCreditor => VIA_CREDITOR.into(),
            ContractChoice::Direct(id) => {
                self.contracts.iter().find(|(_, i)| *i == id).map(|(r, _)| r.clone()).unwrap_or_default()
            }
        }
    }
}

/// The rule as the store saves it, with the ids of its stream and budget line as stored now on `conn`; the
/// stream is None while it is not stored (a set-up workbook's preview).
async fn resolved(conn: &mut store::Conn, r: &RuleRecord) -> sqlx::Result<(Option<i64>, NewRule)> {
    let stream = store::funding::stream_by_code_in(conn, &r.stream).await?.map(|(s, _)| s.id);
    let budget_line_id = match &r.budget_line {
        Some((category, year)) => store::funding::budget_line_id_in(conn, &r.stream, category, *year).await?,
        None => None,
    };
    let rule = NewRule {
        name: r.name.clone(),
        criteria: r.criteria.clone(),
        // A stream that is not stored yet has no lines; the plan sees it as a stream of its own.
        stream_id: stream.unwrap_or(-1),
        budget_line_id,
        contract: r.contract.clone(),
    };
    Ok((stream, rule))
}

/// "afwijkend: ..." for a stored rule and the file's.
fn rule_differs(stored: &Rule, file: &NewRule) -> Option<String> {
    registers::differs(
        &format!("De toerekenregel {}", file.name),
        &[
            ("kenmerken", stored.criteria == file.criteria),
            ("Bron", stored.stream_id == file.stream_id),
            ("Begrotingspost", stored.budget_line_id == file.budget_line_id),
            ("Contract", stored.contract == file.contract),
        ],
    )
    .map(|n| n.replace("pas dit aan op het scherm", "pas de regel aan op het scherm Toerekening"))
}

impl ImportKind for Rules {
    type Record = RuleRecord;

    fn kind(&self) -> Kind {
        Kind::Rules
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<RuleRecord> {
        let name = v.take_text(NAME);
        let sign = v.take_text(AMOUNT_SIGN);
        let amount_sign = match parse_sign(&sign) {
            Some(s) => s.as_str(),
            None => {
                problems
                    .push((AMOUNT_SIGN, format!("'{sign}' kennen we niet; gebruik beide, facturen of creditnota's")));
                return None;
            }
        };
        let texts = [COST_CENTRE, GL_ACCOUNT, TASK_FIELD, CREDITOR, DESCRIPTION].map(|f| v.take_text(f));
        let (date_from, date_until) = (form_date(v.date(DATE_FROM)), form_date(v.date(DATE_UNTIL)));
        let mut e = FieldErrors::new();
        let criteria = validate_criteria(
            &CriteriaForm {
                cost_centre: &texts[0],
                gl_account: &texts[1],
                task_field: &texts[2],
                creditor_number: &texts[3],
                description_contains: &texts[4],
                date_from: &date_from,
                date_until: &date_until,
                amount_sign,
            },
            &mut e,
        );
        if !e.is_empty() {
            push_errors(&e, FORM_FIELDS, COST_CENTRE, problems);
            return None;
        }
        let stream = v.take_text(STREAM).trim().to_uppercase();
        if !self.streams.contains(&stream) {
            problems.push((STREAM, format!("onbekende financieringsbron '{stream}': leg de bron eerst vast")));
            return None;
        }
        let category = v.take_text(BUDGET_LINE).trim().to_string();
        let budget_line = match (category.is_empty(), v.int(BUDGET_YEAR)) {
            (true, None) => None,
            (true, Some(_)) => {
                problems.push((BUDGET_LINE, "geef bij een begrotingsjaar ook de begrotingspost".into()));
                return None;
            }
            (false, None) => {
                problems.push((BUDGET_YEAR, "geef het jaar van de begrotingspost".into()));
                return None;
            }
            (false, Some(year)) => {
                let year = year as i32;
                if !self.lines.contains(&(stream.clone(), category.clone(), year)) {
                    problems.push((
                        BUDGET_LINE,
                        format!("bron {stream} heeft geen begrotingspost '{category}' in {year}; leg die eerst vast"),
                    ));
                    return None;
                }
                Some((category, year))
            }
        };
        let contract_text = v.take_text(CONTRACT).trim().to_string();
        let contract = if contract_text.is_empty() {
            ContractChoice::None
        } else if contract_text.eq_ignore_ascii_case(VIA_CREDITOR) {
            ContractChoice::ViaCreditor
        } else if let Some(id) = self.contracts.get(&contract_text) {
            ContractChoice::Direct(*id)
        } else {
            problems.push((
                CONTRACT,
                format!("onbekend contract '{contract_text}'; geef een kenmerk van een contract of '{VIA_CREDITOR}'"),
            ));
            return None;
        };
        let place = v.int(POSITION).map(|p| p as usize);
        Some(RuleRecord { place, name, criteria, stream, budget_line, contract })
    }

    fn fingerprint(&self, r: &RuleRecord, h: &mut Sha256) {
        let c = &r.criteria;
        h.update(format!(
            "{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{:?}\x1f{:?}\x1f{:?}",
            r.name,
            c.cost_centre.as_str(),
            c.gl_account.as_str(),
            c.task_field.as_str(),
            c.creditor_number.as_str(),
            c.description_contains,
            c.date_from.map(dates::iso).unwrap_or_default(),
            c.date_until.map(dates::iso).unwrap_or_default(),
            c.amount_sign.as_str(),
            r.stream,
            r.budget_line,
            r.contract,
            r.place,
        ));
    }

    fn amount(&self, _r: &RuleRecord) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &[
            "Positie",
            "Naam",
            "Kostenplaats",
            "Grootboekrekening",
            "Taakveld",
            "Crediteurnummer",
            "Omschrijving bevat",
            "Boekdatum vanaf",
            "Boekdatum tot en met",
            "Bedragen",
            "Bron",
            "Begrotingspost",
            "Contract",
        ]
    }

    fn preview(&self, r: &RuleRecord) -> Vec<String> {
        let c = &r.criteria;
        vec![
            r.place.map(|p| p.to_string()).unwrap_or_else(|| "achteraan".into()),
            r.name.clone(),
            c.cost_centre.as_str().to_string(),
            c.gl_account.as_str().to_string(),
            c.task_field.as_str().to_string(),
            c.creditor_number.as_str().to_string(),
            c.description_contains.clone(),
            c.date_from.map(dates::display).unwrap_or_default(),
            c.date_until.map(dates::display).unwrap_or_default(),
            sign_word(c.amount_sign).to_string(),
            r.stream.clone(),
            r.budget_line.as_ref().map(|(c, y)| format!("{c} {y}")).unwrap_or_default(),
            self.contract_label(&r.contract),
        ]
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<RuleRecord>) -> sqlx::Result<Option<Found>> {
        registers::stored(self, conn, p).await
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<RuleRecord>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        registers::insert(self, tx, batch, rows).await
    }

    async fn finish(&self, tx: &mut store::Tx<'_>, _batch: i64, actor: &str) -> Result<(), FinishError> {
        if self.apply {
            store::attribution::apply_in(tx, actor).await?;
        }
        Ok(())
    }
}

/// A refusal of the rules' store as a row error on the rule's name.
fn refused(e: RuleError, name: &str) -> Result<Lookup, sqlx::Error> {
    match e {
        RuleError::Db(e) => Err(e),
        RuleError::ClosedYear(m) => Ok(Lookup::Refused(Refusal::Store(m).on(NAME, name))),
        RuleError::NotFound => Ok(Lookup::Refused(Refusal::Store(RuleError::NotFound.to_string()).on(NAME, name))),
    }
}

impl RegisterKind for Rules {
    fn notes(&self) -> Option<&Notes> {
        Some(&self.notes)
    }

    async fn find(&self, conn: &mut store::Conn, p: &Prepared<RuleRecord>) -> sqlx::Result<Lookup> {
        let (stored, _) = store::attribution::rule_named_in(conn, &p.record.name).await?;
        let (_, rule) = resolved(conn, &p.record).await?;
        if let Some((stored, batch)) = stored {
            return Ok(Lookup::Stored { batch, note: rule_differs(&stored, &rule) });
        }
        // The read phase asks too, so the preview shows a rule that would move lines of a closed year.
        match store::attribution::check_add_in(conn, &rule, p.record.place).await {
            Ok(()) => Ok(Lookup::New),
            Err(e) => refused(e, &p.record.name),
        }
    }

    async fn write(
        &self,
        tx: &mut store::Tx<'_>,
        p: &Prepared<RuleRecord>,
        batch: i64,
        actor: &str,
    ) -> Result<Option<(RegisterTable, i64)>, WriteError> {
        let (stream, rule) = resolved(tx, &p.record).await?;
        if stream.is_none() {
            let message = format!("financieringsbron {} bestaat niet (meer); leg de bron eerst vast", p.record.stream);
            return Err(WriteError::Refused(Refusal::Store(message).on(STREAM, p.record.stream.clone())));
        }
        match store::attribution::add_rule_in(tx, &rule, p.record.place, Some(batch), actor).await {
            Ok(_) => Ok(None),
            Err(e) => match refused(e, &p.record.name)? {
                Lookup::Refused(r) => Err(WriteError::Refused(r)),
                _ => Ok(None),
            },
        }
    }
}
