//! The certifications kind: Blik op Werk mark decisions, one row per decision, found by the provider's KvK
//! number. KvK + decision date + status identify a decision. Each row is checked by the domain rule
//! (`validate_decision`) against the provider's stored decisions and the earlier rows of the same file; the
//! preview shows the provider's current status next to the new one.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::registers::{
    batch_actor, batch_of, differs, form_date, lookup, mark_batch, provider_named, providers_by_kvk, push_errors,
    Notes, ProviderRef,
};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, ImportKind, Kind, Prepared, RowValues};
use crate::domain::certification::{
    standing, validate_decision, CertificationStatus, Decision, DecisionForm, Standing,
};
use crate::domain::dates;
use crate::money::Money;
use crate::store::{self, Db};

pub const KVK: usize = 0;
pub const STATUS: usize = 1;
pub const DECISION_DATE: usize = 2;
pub const VALID_FROM: usize = 3;
pub const VALID_UNTIL: usize = 4;
pub const SUSPENDED_FROM: usize = 5;
pub const SUSPENDED_UNTIL: usize = 6;
pub const REGISTRATION: usize = 7;
pub const NOTE: usize = 8;

const fn date(name: &'static str, label: &'static str, required: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty: FieldType::Date, required, explain }
}

pub const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "kvk",
        label: "KvK-nummer",
        ty: FieldType::Text { max: 30 },
        required: true,
        explain: "KvK-nummer van de taalaanbieder; die moet al bestaan (importeer eerst de aanbieders).",
    },
    FieldDef {
        name: "status",
        label: "Status",
        ty: FieldType::Text { max: 50 },
        required: true,
        explain: "Zoals Blik op Werk het schrijft: voor bepaalde tijd, voor onbepaalde tijd, geschorst, ingetrokken, \
                  vervallen, niet toegekend (of de codes fixed_term, indefinite, suspended, withdrawn, lapsed, refused).",
    },
    date("decision_date", "Besluitdatum", true, "Datum van het besluit van Blik op Werk."),
    date("valid_from", "Geldig vanaf", true, "Vanaf wanneer het besluit geldt."),
    date("valid_until", "Geldig tot", false, "Laatste geldige dag; alleen bij een keurmerk voor bepaalde tijd."),
    date("suspended_from", "Geschorst vanaf", false, "Eerste dag van de schorsing; alleen bij de status geschorst."),
    date("suspended_until", "Geschorst tot", false, "Laatste dag van de schorsing, als die bekend is."),
    FieldDef {
        name: "registration_number",
        label: "Registratienummer",
        ty: FieldType::Text { max: 100 },
        required: false,
        explain: "Registratienummer bij Blik op Werk.",
    },
    FieldDef {
        name: "note",
        label: "Toelichting",
        ty: FieldType::Text { max: 3000 },
        required: false,
        explain: "Vrije toelichting.",
    },
];

const FORM_FIELDS: &[(&str, usize)] = &[
    ("status", STATUS),
    ("decision_date", DECISION_DATE),
    ("valid_from", VALID_FROM),
    ("valid_until", VALID_UNTIL),
    ("suspended_from", SUSPENDED_FROM),
    ("suspended_until", SUSPENDED_UNTIL),
    ("registration_number", REGISTRATION),
    ("note", NOTE),
];

/// The words a status may be written in: the code, Blik op Werk's label, and the label without "voor".
fn status_words() -> Vec<(CertificationStatus, &'static str, &'static str)> {
    let mut words = Vec::new();
    for s in CertificationStatus::ALL {
        words.push((s, s.code(), s.label()));
        if let Some(short) = s.label().strip_prefix("Voor ") {
            words.push((s, s.code(), short));
        }
    }
    words
}

/// A decision to store, with what the preview shows about the change.
#[derive(Debug)]
pub struct CertificationRow {
    pub provider_id: i64,
    pub kvk: String,
    pub provider_name: String,
    pub decision: Decision,
    /// The provider's status today, before this file.
    pub current: String,
    /// "nieuw besluit (eerste keurmerk)", "statuswijziging van X naar Y" or "nieuw besluit, zelfde status".
    pub change: String,
}

pub struct Certifications {
    providers: HashMap<String, ProviderRef>,
    /// Valid decisions from earlier rows of this file, per provider id.
    earlier: Mutex<HashMap<i64, Vec<Decision>>>,
    notes: Notes,
}

impl Certifications {
    pub async fn load(db: &Db) -> sqlx::Result<Certifications> {
        Ok(Certifications {
            providers: providers_by_kvk(db).await?,
            earlier: Mutex::new(HashMap::new()),
            notes: Notes::default(),
        })
    }
}

fn standing_text(s: &Standing) -> String {
    match s {
        Standing::Valid { status, until: Some(u) } => format!("{} (geldig t/m {})", status.label(), dates::display(*u)),
        Standing::Valid { status, until: None } => status.label().to_string(),
        Standing::Suspended { until: Some(u) } => format!("Geschorst t/m {}", dates::display(*u)),
        Standing::Suspended { until: None } => "Geschorst".into(),
        Standing::NotValid { last: Some(l) } => format!("Geen geldig keurmerk ({})", l.label().to_lowercase()),
        Standing::NotValid { last: None } => "Geen keurmerk".into(),
    }
}

impl ImportKind for Certifications {
    type Record = CertificationRow;

    fn kind(&self) -> Kind {
        Kind::Certifications
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<CertificationRow> {
        let (kvk, provider) = provider_named(&self.providers, v, KVK, problems)?;
        let status_text = v.take_text(STATUS);
        let Some(status) = lookup(&status_text, &status_words()) else {
            problems.push((
                STATUS,
                format!(
                    "onbekende status '{status_text}'; gebruik voor bepaalde tijd, voor onbepaalde tijd, geschorst, \
                     ingetrokken, vervallen of niet toegekend"
                ),
            ));
            return None;
        };
        let form = DecisionForm {
            status: status.code().to_string(),
            decision_date: form_date(v.date(DECISION_DATE)),
            valid_from: form_date(v.date(VALID_FROM)),
            valid_until: form_date(v.date(VALID_UNTIL)),
            suspended_from: form_date(v.date(SUSPENDED_FROM)),
            suspended_until: form_date(v.date(SUSPENDED_UNTIL)),
            registration_number: v.take_text(REGISTRATION),
            note: v.take_text(NOTE),
        };
        let mut earlier = self.earlier.lock().expect("earlier rows lock");
        let mine = earlier.entry(provider.id).or_default();
        // The same decision imported before is checked against the others (against itself it would clash);
        // `insert` then reports it as a duplicate.
        let decision_date = v.date(DECISION_DATE);
        let twin = |d: &Decision| Some(d.decision_date) == decision_date && d.status == status;
        let stored_twin = provider.decisions.iter().any(twin);
        let existing: Vec<Decision> =
            provider.decisions.iter().filter(|d| !twin(d)).chain(mine.iter()).cloned().collect();
        let decision = match validate_decision(&form, &existing) {
            Ok(d) => d,
            Err(e) => {
                push_errors(&e, FORM_FIELDS, STATUS, problems);
                return None;
            }
        };
        let today = dates::today();
        let current = standing_text(&standing(&provider.decisions, today));
        let last = provider.decisions.iter().chain(mine.iter()).max_by_key(|d| (d.decision_date, d.id));
        let change = match last {
            None => "nieuw besluit (eerste keurmerk)".to_string(),
            Some(l) if l.status != decision.status => {
                format!("statuswijziging van {} naar {}", l.status.label(), decision.status.label())
            }
            Some(_) => "nieuw besluit, zelfde status".to_string(),
        };
        if !stored_twin {
            let mut kept = decision.clone();
            kept.id = i64::MAX - mine.len() as i64;
            mine.push(kept);
        }
        Some(CertificationRow {
            provider_id: provider.id,
            kvk: kvk.as_str().to_string(),
            provider_name: provider.name.clone(),
            decision,
            current,
            change,
        })
    }

    fn fingerprint(&self, r: &CertificationRow, h: &mut Sha256) {
        h.update(format!("{}\x1f{}\x1f{}", r.kvk, dates::iso(r.decision.decision_date), r.decision.status.code()));
    }

    fn amount(&self, _r: &CertificationRow) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &["KvK-nummer", "Aanbieder", "Huidige status", "Nieuwe status", "Besluitdatum", "Geldig vanaf", "Geldig tot"]
    }

    fn preview(&self, r: &CertificationRow) -> Vec<String> {
        let d = &r.decision;
        vec![
            r.kvk.clone(),
            r.provider_name.clone(),
            r.current.clone(),
            d.status.label().to_string(),
            dates::display(d.decision_date),
            dates::display(d.valid_from),
            d.valid_until.map(dates::display).unwrap_or_default(),
        ]
    }

    fn change(&self, r: &CertificationRow) -> Option<String> {
        Some(r.change.clone())
    }

    fn preview_limit(&self) -> usize {
        super::engine::REGISTER_PREVIEW_ROWS
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<CertificationRow>) -> sqlx::Result<Option<i64>> {
        let r = &p.record;
        let d = &r.decision;
        type Same = (i64, Option<time::Date>, time::Date, Option<time::Date>, Option<time::Date>, String, String);
        let twin: Option<Same> = sqlx::query_as(
            "SELECT id, valid_until, valid_from, suspended_from, suspended_until, registration_number, note
             FROM certification WHERE provider_id = ? AND decision_date = ? AND status = ? ORDER BY id LIMIT 1",
        )
        .bind(r.provider_id)
        .bind(d.decision_date)
        .bind(d.status.code())
        .fetch_optional(&mut *conn)
        .await?;
        let Some((id, until, from, sfrom, suntil, reg, note)) = twin else { return Ok(None) };
        let what = format!(
            "Het besluit '{}' van {} voor KvK-nummer {}",
            d.status.label().to_lowercase(),
            dates::display(d.decision_date),
            r.kvk
        );
        if let Some(n) = differs(
            &what,
            &[
                ("Geldig vanaf", from == d.valid_from),
                ("Geldig tot", until == d.valid_until),
                ("Geschorst vanaf", sfrom == d.suspended_from),
                ("Geschorst tot", suntil == d.suspended_until),
                ("Registratienummer", reg == d.registration_number),
                ("Toelichting", note == d.note),
            ],
        ) {
            self.notes.set(p.row, n);
        }
        Ok(Some(batch_of(conn, "certification", id).await?))
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<CertificationRow>],
    ) -> sqlx::Result<Vec<(usize, i64)>> {
        let mut dups = Vec::new();
        let actor = batch_actor(tx, batch).await?;
        for (i, p) in rows.iter().enumerate() {
            if let Some(from) = self.stored(tx, p).await? {
                dups.push((i, from));
                continue;
            }
            let r = &p.record;
            let d = &r.decision;
            let id = store::certifications::insert_in(tx, r.provider_id, d, &actor).await?;
            mark_batch(tx, "certification", id, batch).await?;
        }
        Ok(dups)
    }
}
