//! The streams kind (`standaard-bronnen`): one row per funding stream, checked by the stream form's own rule
//! (`validate_stream`), with the cohorts it is the default stream for. The code identifies a stream: a row whose
//! code is known is a duplicate and changes nothing (the summary says which fields differ). A new stream may be
//! the default of a cohort only when that cohort has none yet; changing a default is done on the funding page.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::registers::{
    self, differs, form_date, lookup, push_errors, Lookup, Notes, Refusal, RegisterKind, WriteError,
};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::dates;
use crate::domain::funding::{validate_stream, FundingStream, StreamForm, StreamKind};
use crate::domain::route::Cohort;
use crate::money::Money;
use crate::store;
use crate::store::imports::RegisterTable;

pub const CODE: usize = 0;
pub const NAME: usize = 1;
pub const KIND: usize = 2;
pub const COHORTS: usize = 3;
pub const SPEND_FROM: usize = 4;
pub const SPEND_UNTIL: usize = 5;
pub const CARRY_OVER: usize = 6;
pub const DEFAULT_FOR: usize = 7;
pub const NOTES: usize = 8;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

pub const FIELDS: &[FieldDef] = &[
    field(
        "code",
        "Code",
        FieldType::Text { max: 30 },
        true,
        "Korte code van de bron (letters, cijfers, - en _), bijv. SPUK; herkent de bron bij een volgende import.",
    ),
    field("name", "Naam", FieldType::Text { max: 200 }, true, "Naam van de financieringsbron."),
    field(
        "kind",
        "Soort",
        FieldType::Text { max: 60 },
        true,
        "spuk, gemeentefonds, eigen middelen of overig (of de code: specific_grant, municipality_fund, own_funds, other).",
    ),
    field(
        "cohorts",
        "Doelgroepen",
        FieldType::Text { max: 100 },
        false,
        "Doelgroepen die de bron mag betalen, met komma's: wi2021, wi2013, elip, other. Leeg: elke doelgroep.",
    ),
    field("spend_from", "Besteden vanaf", FieldType::Date, true, "Begin van de bestedingsperiode."),
    field("spend_until", "Besteden tot en met", FieldType::Date, false, "Einde van de bestedingsperiode; leeg: onbepaald."),
    field(
        "carry_over",
        "Overheveling",
        FieldType::Text { max: 10 },
        false,
        "ja: wat een jaar niet besteedt, is het jaar erna nog beschikbaar; nee of leeg: het vervalt.",
    ),
    field(
        "default_for",
        "Standaard voor",
        FieldType::Text { max: 100 },
        false,
        "Doelgroepen waarvan de plaatsingen standaard uit deze bron worden betaald, met komma's.",
    ),
    field("notes", "Toelichting", FieldType::Text { max: 5000 }, false, "Verantwoording en notities."),
];

/// The domain form's field names and the kind's field indexes.
const FORM_FIELDS: &[(&str, usize)] = &[
    ("code", CODE),
    ("name", NAME),
    ("kind", KIND),
    ("cohorts", COHORTS),
    ("spend_from", SPEND_FROM),
    ("spend_until", SPEND_UNTIL),
    ("notes", NOTES),
];

/// The words Soort takes besides the codes and the screen's labels; the export writes the first.
const KIND_WORDS: &[(StreamKind, &str, &str)] = &[
    (StreamKind::SpecificGrant, "spuk", "Specifieke uitkering (SPUK)"),
    (StreamKind::MunicipalityFund, "gemeentefonds", "Gemeentefonds (decentralisatie-uitkering)"),
    (StreamKind::OwnFunds, "eigen middelen", "Eigen middelen"),
    (StreamKind::Other, "overig", "Overig"),
];

/// Soort as the export writes it.
pub fn kind_word(kind: StreamKind) -> &'static str {
    KIND_WORDS.iter().find(|(k, ..)| *k == kind).map(|(_, w, _)| *w).unwrap_or("overig")
}

fn parse_kind(text: &str) -> Option<StreamKind> {
    StreamKind::parse(text).or_else(|| lookup(text, KIND_WORDS))
}

/// Cohort codes with commas, as the sheet and the export write them.
pub fn cohort_list(cohorts: &[Cohort]) -> String {
    cohorts.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
}

fn parse_cohorts(text: &str) -> Result<Vec<Cohort>, String> {
    let mut out = Vec::new();
    for part in text.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let c = Cohort::parse(part)
            .ok_or_else(|| format!("onbekende doelgroep '{part}'; kies uit wi2021, wi2013, elip, other"))?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

fn parse_yes_no(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "" | "nee" | "n" | "0" | "onwaar" | "false" => Some(false),
        "ja" | "j" | "1" | "waar" | "true" => Some(true),
        _ => None,
    }
}

/// A funding stream as a row brings it, with the cohorts it is the default stream of.
#[derive(Clone, Debug)]
pub struct StreamRecord {
    pub stream: FundingStream,
    pub default_for: Vec<Cohort>,
}

#[derive(Default)]
pub struct Streams {
    /// Cohorts an earlier row of the file is the default for, with that row.
    defaults: Mutex<HashMap<Cohort, u32>>,
    notes: Notes,
}

impl Streams {
    pub fn new() -> Streams {
        Streams::default()
    }
}

impl ImportKind for Streams {
    type Record = StreamRecord;

    fn kind(&self) -> Kind {
        Kind::Streams
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<StreamRecord> {
        let kind_text = v.take_text(KIND);
        let kind = match parse_kind(&kind_text) {
            Some(k) => k.code().to_string(),
            None => {
                problems.push((
                    KIND,
                    format!("onbekende soort '{kind_text}'; gebruik spuk, gemeentefonds, eigen middelen of overig"),
                ));
                return None;
            }
        };
        let carry_text = v.take_text(CARRY_OVER);
        let Some(carry_over) = parse_yes_no(&carry_text) else {
            problems.push((CARRY_OVER, format!("'{carry_text}' is geen ja of nee")));
            return None;
        };
        let default_for = match parse_cohorts(&v.take_text(DEFAULT_FOR)) {
            Ok(c) => c,
            Err(m) => {
                problems.push((DEFAULT_FOR, m));
                return None;
            }
        };
        let cohorts = v.take_text(COHORTS);
        if let Err(m) = parse_cohorts(&cohorts) {
            problems.push((COHORTS, m));
            return None;
        }
        let form = StreamForm {
            code: v.take_text(CODE),
            name: v.take_text(NAME),
            kind,
            cohorts,
            spend_from: form_date(v.date(SPEND_FROM)),
            spend_until: form_date(v.date(SPEND_UNTIL)),
            carry_over: carry_over.then(|| "on".into()),
            notes: v.take_text(NOTES),
            version: None,
        };
        let stream = match validate_stream(&form) {
            Ok(s) => s,
            Err(e) => {
                push_errors(&e, FORM_FIELDS, CODE, problems);
                return None;
            }
        };
        if let Some(c) = default_for.iter().find(|c| !stream.allows_cohort(**c)) {
            problems.push((
                DEFAULT_FOR,
                format!(
                    "de bron betaalt niet voor doelgroep {}; zet hem ook bij Doelgroepen of haal hem hier weg",
                    c.code()
                ),
            ));
            return None;
        }
        let mut earlier = self.defaults.lock().expect("defaults lock");
        if let Some((c, row)) = default_for.iter().find_map(|c| earlier.get(c).map(|r| (c, *r))) {
            problems.push((DEFAULT_FOR, format!("rij {row} is al de standaardbron voor doelgroep {}", c.code())));
            return None;
        }
        for c in &default_for {
            earlier.insert(*c, v.row);
        }
        Some(StreamRecord { stream, default_for })
    }

    fn fingerprint(&self, r: &StreamRecord, h: &mut Sha256) {
        let s = &r.stream;
        h.update(format!(
            "{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}",
            s.code,
            s.name,
            s.kind.code(),
            cohort_list(&s.cohorts),
            dates::iso(s.spend_from),
            s.spend_until.map(dates::iso).unwrap_or_default(),
            s.carry_over,
            cohort_list(&r.default_for),
            s.notes
        ));
    }

    fn amount(&self, _r: &StreamRecord) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &[
            "Code",
            "Naam",
            "Soort",
            "Doelgroepen",
            "Besteden vanaf",
            "Besteden tot en met",
            "Overheveling",
            "Standaard voor",
        ]
    }

    fn preview(&self, r: &StreamRecord) -> Vec<String> {
        let s = &r.stream;
        vec![
            s.code.clone(),
            s.name.clone(),
            s.kind.label().to_string(),
            cohort_list(&s.cohorts),
            dates::display(s.spend_from),
            s.spend_until.map(dates::display).unwrap_or_default(),
            if s.carry_over { "ja" } else { "nee" }.to_string(),
            cohort_list(&r.default_for),
        ]
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<StreamRecord>) -> sqlx::Result<Option<Found>> {
        registers::stored(self, conn, p).await
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<StreamRecord>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        registers::insert(self, tx, batch, rows).await
    }
}

impl RegisterKind for Streams {
    fn notes(&self) -> Option<&Notes> {
        Some(&self.notes)
    }

    async fn find(&self, conn: &mut store::Conn, p: &Prepared<StreamRecord>) -> sqlx::Result<Lookup> {
        let s = &p.record.stream;
        if let Some((stored, batch)) = store::funding::stream_by_code_in(conn, &s.code).await? {
            let mut defaults_same = true;
            for c in &p.record.default_for {
                defaults_same &= store::funding::cohort_default_in(conn, *c).await?.as_deref() == Some(&s.code);
            }
            let note = differs(
                &format!("De financieringsbron {}", s.code),
                &[
                    ("Naam", stored.name == s.name),
                    ("Soort", stored.kind == s.kind),
                    ("Doelgroepen", stored.cohorts == s.cohorts),
                    ("Besteden vanaf", stored.spend_from == s.spend_from),
                    ("Besteden tot en met", stored.spend_until == s.spend_until),
                    ("Overheveling", stored.carry_over == s.carry_over),
                    ("Standaard voor", defaults_same),
                    ("Toelichting", stored.notes == s.notes),
                ],
            );
            return Ok(Lookup::Stored { batch, note });
        }
        for c in &p.record.default_for {
            if let Some(code) = store::funding::cohort_default_in(conn, *c).await? {
                let message = format!(
                    "doelgroep {} heeft al standaardbron {code}; een import vervangt die niet. Wijzig de standaard op \
                     het scherm Financiering, of laat {} hier weg",
                    c.code(),
                    c.code()
                );
                return Ok(Lookup::Refused(
                    Refusal::Store(message).on(DEFAULT_FOR, cohort_list(&p.record.default_for)),
                ));
            }
        }
        Ok(Lookup::New)
    }

    async fn write(
        &self,
        tx: &mut store::Tx<'_>,
        p: &Prepared<StreamRecord>,
        batch: i64,
        actor: &str,
    ) -> Result<Option<(RegisterTable, i64)>, WriteError> {
        use store::funding::FundingError;
        let s = &p.record.stream;
        let id = match store::funding::create_stream_in(tx, s, Some(batch), actor).await {
            Ok(id) => id,
            Err(FundingError::Db(e)) => return Err(e.into()),
            Err(e) => return Err(WriteError::Refused(Refusal::Store(e.to_string()).on(CODE, s.code.clone()))),
        };
        for c in &p.record.default_for {
            store::funding::set_cohort_stream_in(tx, *c, id, Some(batch), actor).await?;
        }
        Ok(None)
    }
}
