//! The placements kind: one row per placement, on a contract found by its Kenmerk. Client number + contract
//! and route and start date identify a placement. Each row goes through the domain rule (`validate_placement`):
//! client number (a BSN is refused), route on the contract, start within the contract period, a tariff and
//! milestones, and a valid Blik op Werk mark of the contract's provider on the start date.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::registers::{batch_actor, batch_of, differs, form_date, lookup, mark_batch, push_errors, Notes};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, ImportKind, Kind, Prepared, RowValues};
use crate::domain::certification::{holds_valid_mark, Decision};
use crate::domain::contract::ContractTerms;
use crate::domain::dates;
use crate::domain::placement::{validate_placement, PlacementDraft, PlacementForm, PlacementStatus};
use crate::domain::route::Cohort;
use crate::money::Money;
use crate::store::{self, Db};

pub const CLIENT: usize = 0;
pub const COHORT: usize = 1;
pub const CONTRACT: usize = 2;
pub const ROUTE: usize = 3;
pub const START: usize = 4;
pub const PLANNED_END: usize = 5;
pub const STATUS: usize = 6;
pub const STATUS_DATE: usize = 7;
pub const PIP_DATE: usize = 8;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

pub const FIELDS: &[FieldDef] = &[
    field(
        "client_number",
        "Klantnummer",
        FieldType::Text { max: 100 },
        true,
        "Klantnummer van de gemeente (hoogstens 20 letters, cijfers of streepjes). Nooit een BSN: die wordt geweigerd.",
    ),
    field(
        "cohort",
        "Doelgroep",
        FieldType::Text { max: 100 },
        true,
        "wi2021, wi2013, elip of other (of de omschrijving, zoals 'Wet inburgering 2021').",
    ),
    field("contract", "Contract", FieldType::Text { max: 100 }, true, "Kenmerk van het contract; dat moet al bestaan."),
    field("route", "Route", FieldType::Text { max: 50 }, true, "Leerroute: b1, z, education, map, knm of alfa."),
    field("start_date", "Startdatum", FieldType::Date, true, "Startdatum van de plaatsing."),
    field("planned_end", "Gepland einde", FieldType::Date, true, "Geplande einddatum."),
    field(
        "status",
        "Status",
        FieldType::Text { max: 50 },
        false,
        "Gestart, loopt, afgerond of uitgevallen (of started, ongoing, completed, dropped_out); leeg is gestart.",
    ),
    field("status_date", "Statusdatum", FieldType::Date, false, "Datum van afronding of uitval; alleen bij die twee."),
    field(
        "pip_date",
        "PIP-datum",
        FieldType::Date,
        false,
        "Datum waarop het PIP is vastgesteld; de lessen moeten binnen 3 maanden daarna beginnen.",
    ),
];

const FORM_FIELDS: &[(&str, usize)] = &[
    ("client_number", CLIENT),
    ("cohort", COHORT),
    ("route", ROUTE),
    ("contract_id", CONTRACT),
    ("start_date", START),
    ("planned_end", PLANNED_END),
    ("status", STATUS),
    ("status_date", STATUS_DATE),
    ("pip_date", PIP_DATE),
];

struct ContractRef {
    id: i64,
    terms: ContractTerms,
    decisions: Vec<Decision>,
}

/// A placement to store, with its contract's reference for the preview.
#[derive(Debug)]
pub struct PlacementRow {
    pub reference: String,
    pub draft: PlacementDraft,
}

pub struct Placements {
    contracts: HashMap<String, ContractRef>,
    notes: Notes,
}

impl Placements {
    pub async fn load(db: &Db) -> sqlx::Result<Placements> {
        let decisions = store::certifications::all_by_provider(db).await?;
        let contracts = store::contracts::list(db).await?;
        Ok(Placements {
            contracts: contracts
                .into_iter()
                .map(|c| {
                    let d = decisions.get(&c.provider_id).cloned().unwrap_or_default();
                    (c.reference.clone(), ContractRef { id: c.id, terms: c.terms, decisions: d })
                })
                .collect(),
            notes: Notes::default(),
        })
    }
}

fn cohort_words() -> Vec<(Cohort, &'static str, &'static str)> {
    let mut w: Vec<_> = Cohort::ALL.iter().map(|c| (*c, c.code(), c.label())).collect();
    w.push((Cohort::Other, "other", "overig"));
    w
}

fn status_words() -> Vec<(PlacementStatus, &'static str, &'static str)> {
    PlacementStatus::ALL.iter().map(|s| (*s, s.code(), s.label())).collect()
}

impl ImportKind for Placements {
    type Record = PlacementRow;

    fn kind(&self) -> Kind {
        Kind::Placements
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<PlacementRow> {
        let reference = v.take_text(CONTRACT);
        let Some(contract) = self.contracts.get(&reference) else {
            problems
                .push((CONTRACT, format!("Onbekend contract met kenmerk {reference}: importeer eerst het contract")));
            return None;
        };
        let cohort_text = v.take_text(COHORT);
        let cohort = lookup(&cohort_text, &cohort_words()).map(|c| c.code().to_string()).unwrap_or(cohort_text);
        let status_text = v.take_text(STATUS);
        let status = lookup(&status_text, &status_words()).map(|s| s.code().to_string()).unwrap_or(status_text);
        let form = PlacementForm {
            client_number: v.take_text(CLIENT),
            cohort,
            route: v.take_text(ROUTE).to_lowercase(),
            contract_id: contract.id.to_string(),
            start_date: form_date(v.date(START)),
            planned_end: form_date(v.date(PLANNED_END)),
            status,
            status_date: form_date(v.date(STATUS_DATE)),
            pip_date: form_date(v.date(PIP_DATE)),
            version: None,
        };
        match validate_placement(&form, Some(&contract.terms), |day| holds_valid_mark(&contract.decisions, day)) {
            Ok(draft) => Some(PlacementRow { reference, draft }),
            Err(e) => {
                push_errors(&e, FORM_FIELDS, CLIENT, problems);
                None
            }
        }
    }

    fn fingerprint(&self, r: &PlacementRow, h: &mut Sha256) {
        let d = &r.draft;
        h.update(format!(
            "{}\x1f{}\x1f{}\x1f{}",
            d.client_number.as_str(),
            r.reference,
            d.route.code(),
            dates::iso(d.schedule.start_date)
        ));
    }

    fn amount(&self, _r: &PlacementRow) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &["Klantnummer", "Doelgroep", "Contract", "Route", "Startdatum", "Gepland einde", "Status", "Statusdatum"]
    }

    fn preview(&self, r: &PlacementRow) -> Vec<String> {
        let d = &r.draft;
        vec![
            d.client_number.as_str().to_string(),
            d.cohort.code().to_string(),
            r.reference.clone(),
            d.route.short_label().to_string(),
            dates::display(d.schedule.start_date),
            dates::display(d.schedule.planned_end),
            d.schedule.status.label().to_string(),
            d.schedule.status_date.map(dates::display).unwrap_or_default(),
        ]
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<PlacementRow>) -> sqlx::Result<Option<i64>> {
        let d = &p.record.draft;
        type Stored = (i64, String, time::Date, String, Option<time::Date>);
        let existing: Option<Stored> = sqlx::query_as(
            "SELECT id, cohort, planned_end, status, status_date FROM placement
             WHERE client_number = ? AND contract_id = ? AND route = ? AND start_date = ? ORDER BY id LIMIT 1",
        )
        .bind(d.client_number.as_str())
        .bind(d.contract_id)
        .bind(d.route.code())
        .bind(d.schedule.start_date)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((id, cohort, end, status, status_date)) = existing else { return Ok(None) };
        let what = format!(
            "De plaatsing van klant {} op {} ({}, start {})",
            d.client_number.as_str(),
            p.record.reference,
            d.route.short_label(),
            dates::display(d.schedule.start_date)
        );
        if let Some(n) = differs(
            &what,
            &[
                ("Doelgroep", cohort == d.cohort.code()),
                ("Gepland einde", end == d.schedule.planned_end),
                ("Status", status == d.schedule.status.code()),
                ("Statusdatum", status_date == d.schedule.status_date),
            ],
        ) {
            self.notes.set(p.row, n);
        }
        Ok(Some(batch_of(conn, "placement", id).await?))
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<PlacementRow>],
    ) -> sqlx::Result<Vec<(usize, i64)>> {
        let mut dups = Vec::new();
        let actor = batch_actor(tx, batch).await?;
        for (i, p) in rows.iter().enumerate() {
            if let Some(from) = self.stored(tx, p).await? {
                dups.push((i, from));
                continue;
            }
            let d = &p.record.draft;
            let id = store::placements::insert_in(tx, d, &actor).await?;
            mark_batch(tx, "placement", id, batch).await?;
        }
        Ok(dups)
    }
}
