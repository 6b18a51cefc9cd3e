//! The contracts kind, in two layouts (one sheet each, since a template reads one sheet):
//!
//! - **contracts** (`standaard-contracten`): one row per contract: Kenmerk, Titel, KvK aanbieder, Perceel,
//!   Routes, Start, Einde, Plafond, Notities. The Kenmerk identifies a contract.
//! - **tariffs** (`standaard-tarieven`): one row per contract x route x tariff period: Kenmerk, Route, Geldig
//!   vanaf, Geldig tot, Tarief and Betaalmomenten as text ("Start 40% bij start; Tussentijds 30% na 12 maanden;
//!   Afronding 30% bij afronding"). Kenmerk + Route + Geldig vanaf identify a tariff. Payment milestones belong
//!   to contract x route: the first row of a route that has none sets them; later rows may leave the column
//!   empty or repeat the same moments; different moments are refused, never silently replaced.
//!
//! Which layout a template has follows from its columns: `title` makes it a contracts template, `tariff` a
//! tariffs template. Both are checked by the domain rules (`validate_contract`, `validate_tariff`,
//! `validate_milestones`, `Share::parse`, `Due::from_parts`).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::registers::{
    batch_actor, batch_of, differs, form_date, mark_batch, provider_named, providers_by_kvk, push_errors, Notes,
    ProviderRef,
};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, ImportKind, Kind, Prepared, RowValues};
use crate::domain::certification::holds_valid_mark;
use crate::domain::contract::{
    validate_contract, validate_milestones, validate_tariff, ContractDraft, ContractForm, ContractTerms, Due,
    Milestone, Share, Tariff,
};
use crate::domain::dates;
use crate::domain::route::{routes_code, Route};
use crate::money::Money;
use crate::store::{self, Db};

pub const REFERENCE: usize = 0;
pub const TITLE: usize = 1;
pub const PROVIDER_KVK: usize = 2;
pub const LOT: usize = 3;
pub const ROUTES: usize = 4;
pub const START: usize = 5;
pub const END: usize = 6;
pub const CEILING: usize = 7;
pub const NOTES: usize = 8;
pub const ROUTE: usize = 9;
pub const VALID_FROM: usize = 10;
pub const VALID_UNTIL: usize = 11;
pub const TARIFF: usize = 12;
pub const MILESTONES: usize = 13;

const fn text(name: &'static str, label: &'static str, max: usize, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty: FieldType::Text { max }, required: false, explain }
}

const fn date(name: &'static str, label: &'static str, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty: FieldType::Date, required: false, explain }
}

/// Contract fields (0..=8) and tariff fields (9..=13); a template maps one of the two sets, with `reference`.
pub const FIELDS: &[FieldDef] = &[
    text("reference", "Kenmerk", 100, "Kenmerk van het contract; herkent het contract bij een volgende import."),
    text("title", "Titel", 300, "Titel of omschrijving van het contract."),
    text("provider_kvk", "KvK aanbieder", 30, "KvK-nummer van de taalaanbieder; die moet al bestaan."),
    text("lot", "Perceel", 200, "Perceel van de aanbesteding, als die er is."),
    text("routes", "Routes", 200, "Leerroutes en modules, met komma's: b1, z, education, map, knm, alfa."),
    date("start_date", "Start", "Startdatum van het contract."),
    date("end_date", "Einde", "Einddatum zonder verlengingsopties."),
    FieldDef {
        name: "ceiling",
        label: "Plafond",
        ty: FieldType::Amount,
        required: false,
        explain: "Maximale waarde van het contract in euro's.",
    },
    text("notes", "Notities", 6000, "Vrije notities."),
    text("route", "Route", 50, "Leerroute van dit tarief: b1, z, education, map, knm of alfa."),
    date("valid_from", "Geldig vanaf", "Eerste dag waarop dit tarief geldt (bij indexatie meestal 1 januari)."),
    date("valid_until", "Geldig tot", "Laatste dag van dit tarief; leeg als er (nog) geen einde is."),
    FieldDef {
        name: "tariff",
        label: "Tarief",
        ty: FieldType::Amount,
        required: false,
        explain: "Vast bedrag per deelnemer in euro's.",
    },
    text(
        "milestones",
        "Betaalmomenten",
        2000,
        "Betaalmomenten van de route, gescheiden door ';': 'Start 40% bij start; Tussentijds 30% na 12 maanden; \
         Afronding 30% bij afronding'. Samen precies 100%. Leeg laten als de route ze al heeft.",
    ),
];

const CONTRACT_FIELDS: &[&str] = &["reference", "title", "provider_kvk", "routes", "start_date", "end_date", "ceiling"];
const TARIFF_FIELDS: &[&str] = &["reference", "route", "valid_from", "tariff"];

/// The template check for this kind: a contracts layout or a tariffs layout, complete, not both.
pub fn check_layout(has: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let contract = has("title");
    let tariff = has("tariff");
    let missing = |list: &[&str]| list.iter().filter(|f| !has(f)).map(|f| f.to_string()).collect::<Vec<_>>();
    match (contract, tariff) {
        (true, true) => Err("een sjabloon voor contracten leest óf contracten (title) óf tarieven (tariff), niet \
                             allebei; maak er twee sjablonen van"
            .into()),
        (false, false) => {
            Err("een sjabloon voor contracten heeft een kolom title (contracten) of tariff (tarieven)".into())
        }
        (true, false) => {
            let m = missing(CONTRACT_FIELDS);
            let extra: Vec<&str> =
                ["route", "valid_from", "valid_until", "milestones"].into_iter().filter(|f| has(f)).collect();
            if !m.is_empty() {
                Err(format!("contractensjabloon mist verplichte velden: {}", m.join(", ")))
            } else if !extra.is_empty() {
                Err(format!("contractensjabloon kan geen tariefvelden lezen: {}", extra.join(", ")))
            } else {
                Ok(())
            }
        }
        (false, true) => {
            let m = missing(TARIFF_FIELDS);
            let extra: Vec<&str> = ["provider_kvk", "lot", "routes", "start_date", "end_date", "ceiling", "notes"]
                .into_iter()
                .filter(|f| has(f))
                .collect();
            if !m.is_empty() {
                Err(format!("tarievensjabloon mist verplichte velden: {}", m.join(", ")))
            } else if !extra.is_empty() {
                Err(format!("tarievensjabloon kan geen contractvelden lezen: {}", extra.join(", ")))
            } else {
                Ok(())
            }
        }
    }
}

/// Parses "Start 40% bij start; Tussentijds 30% na 12 maanden; Afronding 30% bij afronding".
pub fn parse_milestones(text: &str) -> Result<Vec<Milestone>, String> {
    let mut out = Vec::new();
    for (n, part) in text.split(';').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| w.ends_with('%')) else {
            return Err(format!(
                "betaalmoment '{part}' heeft geen percentage; schrijf bijvoorbeeld 'Start 40% bij start'"
            ));
        };
        let share = Share::parse(words[at]).map_err(|m| format!("betaalmoment '{part}': {m}"))?;
        let name = words[..at].join(" ");
        let due_words: Vec<String> = words[at + 1..].iter().map(|w| w.to_lowercase()).collect();
        let due_words: Vec<&str> =
            due_words.iter().map(String::as_str).filter(|w| !matches!(*w, "bij" | "de" | "het")).collect();
        let due = match due_words.as_slice() {
            ["start"] | ["begin"] => Due::from_parts("start", None),
            ["afronding"] | ["einde"] | ["afloop"] => Due::from_parts("completion", None),
            ["na", n, m] | [n, m, "na", "start"] | [n, m, "na", "begin"] if m.starts_with("maand") => {
                Due::from_parts("months", n.parse::<i64>().ok())
            }
            _ => None,
        };
        let Some(due) = due else {
            return Err(format!(
                "betaalmoment '{part}': zeg wanneer het valt: 'bij start', 'na 12 maanden' of 'bij afronding'"
            ));
        };
        let name = if name.is_empty() { format!("Betaalmoment {}", n + 1) } else { name };
        out.push(Milestone { name, share, due });
    }
    validate_milestones(&out)?;
    Ok(out)
}

fn milestones_text(ms: &[Milestone]) -> String {
    ms.iter().map(|m| format!("{} {} {}", m.name, m.share.display(), m.due.label())).collect::<Vec<_>>().join("; ")
}

/// A contract as tariff rows look it up.
#[derive(Clone, Debug)]
struct ContractRef {
    id: i64,
    terms: ContractTerms,
}

/// Tariffs and milestones per route that earlier rows of the file added to one contract.
type FileTerms = (Vec<Tariff>, HashMap<Route, Vec<Milestone>>);

/// One row of either layout.
#[derive(Debug)]
pub enum ContractRow {
    Contract { draft: ContractDraft, kvk: String, provider_name: String },
    Tariff { contract_id: i64, reference: String, tariff: Tariff, milestones: Option<Vec<Milestone>> },
}

pub struct Contracts {
    tariffs_layout: bool,
    providers: HashMap<String, ProviderRef>,
    contracts: HashMap<String, ContractRef>,
    /// Tariffs and milestones of earlier rows of this file, per contract id.
    earlier: Mutex<HashMap<i64, FileTerms>>,
    notes: Notes,
}

impl Contracts {
    pub async fn load(db: &Db, template: &CheckedTemplate) -> sqlx::Result<Contracts> {
        let contracts = store::contracts::list(db).await?;
        Ok(Contracts {
            tariffs_layout: template.column_for("tariff").is_some(),
            providers: providers_by_kvk(db).await?,
            contracts: contracts
                .into_iter()
                .map(|c| (c.reference.clone(), ContractRef { id: c.id, terms: c.terms }))
                .collect(),
            earlier: Mutex::new(HashMap::new()),
            notes: Notes::default(),
        })
    }

    fn build_contract(&self, v: &mut RowValues, problems: &mut Vec<(usize, String)>) -> Option<ContractRow> {
        let (kvk, provider) = provider_named(&self.providers, v, PROVIDER_KVK, problems)?;
        let form = ContractForm {
            reference: v.take_text(REFERENCE),
            title: v.take_text(TITLE),
            provider_id: provider.id.to_string(),
            lot: v.take_text(LOT),
            routes: v.take_text(ROUTES),
            start_date: form_date(v.date(START)),
            initial_end_date: form_date(v.date(END)),
            ceiling: v.money(CEILING).map(|m| m.plain()).unwrap_or_default(),
            notes: v.take_text(NOTES),
            version: None,
        };
        let id = provider.id;
        let decisions = &provider.decisions;
        let mark = |p: i64, day| (p == id).then(|| holds_valid_mark(decisions, day));
        match validate_contract(&form, mark) {
            Ok(draft) => Some(ContractRow::Contract {
                draft,
                kvk: kvk.as_str().to_string(),
                provider_name: provider.name.clone(),
            }),
            Err(e) => {
                let map = [
                    ("reference", REFERENCE),
                    ("title", TITLE),
                    ("provider_id", PROVIDER_KVK),
                    ("lot", LOT),
                    ("routes", ROUTES),
                    ("start_date", START),
                    ("initial_end_date", END),
                    ("ceiling", CEILING),
                    ("notes", NOTES),
                ];
                push_errors(&e, &map, TITLE, problems);
                None
            }
        }
    }

    fn build_tariff(&self, v: &mut RowValues, problems: &mut Vec<(usize, String)>) -> Option<ContractRow> {
        let reference = v.take_text(REFERENCE);
        let Some(contract) = self.contracts.get(&reference) else {
            problems
                .push((REFERENCE, format!("Onbekend contract met kenmerk {reference}: importeer eerst het contract")));
            return None;
        };
        let route_text = v.take_text(ROUTE);
        let Some(route) = Route::parse(&route_text) else {
            problems.push((
                ROUTE,
                format!("Onbekende leerroute '{route_text}'; kies uit b1, z, education, map, knm, alfa."),
            ));
            return None;
        };
        if !contract.terms.routes.contains(&route) {
            problems.push((ROUTE, format!("Contract {reference} dekt de {} niet.", route.label())));
            return None;
        }
        let (Some(from), until, Some(amount)) = (v.date(VALID_FROM), v.date(VALID_UNTIL), v.money(TARIFF)) else {
            if v.date(VALID_FROM).is_none() {
                problems.push((VALID_FROM, "Geldig vanaf is verplicht.".into()));
            }
            if v.money(TARIFF).is_none() {
                problems.push((TARIFF, "Tarief is verplicht.".into()));
            }
            return None;
        };
        let given = match v.take_text(MILESTONES) {
            t if t.is_empty() => None,
            t => match parse_milestones(&t) {
                Ok(ms) => Some(ms),
                Err(m) => {
                    problems.push((MILESTONES, m));
                    return None;
                }
            },
        };
        let mut earlier = self.earlier.lock().expect("earlier rows lock");
        let (file_tariffs, file_milestones) = earlier.entry(contract.id).or_default();
        let same =
            |t: &Tariff| t.route == route && t.valid_from == from && t.valid_until == until && t.amount == amount;
        let stored_twin = contract.terms.tariffs.iter().any(same);
        if !stored_twin {
            let existing: Vec<Tariff> = contract.terms.tariffs.iter().chain(file_tariffs.iter()).cloned().collect();
            if let Err((field, m)) = validate_tariff(route, from, until, amount, &existing) {
                let f = match field {
                    "valid_until" => VALID_UNTIL,
                    "amount" => TARIFF,
                    _ => VALID_FROM,
                };
                problems.push((f, m));
                return None;
            }
        }
        let have = contract.terms.milestones.get(&route).filter(|m| !m.is_empty()).or(file_milestones.get(&route));
        let to_set = match (have, given) {
            (None, None) => {
                problems.push((
                    MILESTONES,
                    format!(
                        "Contract {reference} heeft nog geen betaalmomenten voor de {}; geef ze op, bijvoorbeeld \
                         'Start 40% bij start; Tussentijds 30% na 12 maanden; Afronding 30% bij afronding'",
                        route.label()
                    ),
                ));
                return None;
            }
            (Some(h), Some(g)) if *h != g => {
                problems.push((
                    MILESTONES,
                    format!(
                        "Contract {reference} heeft voor de {} al andere betaalmomenten ({}); een import vervangt \
                         ze niet, wijzig ze op het scherm van het contract",
                        route.label(),
                        milestones_text(h)
                    ),
                ));
                return None;
            }
            (Some(_), _) => None,
            (None, Some(g)) => {
                file_milestones.insert(route, g.clone());
                Some(g)
            }
        };
        let tariff = Tariff { id: 0, route, valid_from: from, valid_until: until, amount };
        if !stored_twin {
            file_tariffs.push(tariff.clone());
        }
        Some(ContractRow::Tariff { contract_id: contract.id, reference, tariff, milestones: to_set })
    }
}

impl ImportKind for Contracts {
    type Record = ContractRow;

    fn kind(&self) -> Kind {
        Kind::Contracts
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<ContractRow> {
        if self.tariffs_layout {
            self.build_tariff(v, problems)
        } else {
            self.build_contract(v, problems)
        }
    }

    fn fingerprint(&self, r: &ContractRow, h: &mut Sha256) {
        match r {
            ContractRow::Contract { draft, .. } => h.update(&draft.reference),
            ContractRow::Tariff { reference, tariff, .. } => {
                h.update(format!("{reference}\x1f{}\x1f{}", tariff.route.code(), dates::iso(tariff.valid_from)))
            }
        }
    }

    fn amount(&self, _r: &ContractRow) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        if self.tariffs_layout {
            &["Kenmerk", "Route", "Geldig vanaf", "Geldig tot", "Tarief", "Betaalmomenten"]
        } else {
            &["Kenmerk", "Titel", "Aanbieder", "Perceel", "Routes", "Start", "Einde", "Plafond"]
        }
    }

    fn preview(&self, r: &ContractRow) -> Vec<String> {
        match r {
            ContractRow::Contract { draft: d, kvk, provider_name } => vec![
                d.reference.clone(),
                d.title.clone(),
                format!("{provider_name} ({kvk})"),
                d.lot.clone(),
                routes_code(&d.routes),
                dates::display(d.start_date),
                dates::display(d.initial_end_date),
                d.ceiling.to_string(),
            ],
            ContractRow::Tariff { reference, tariff: t, milestones, .. } => vec![
                reference.clone(),
                t.route.short_label().to_string(),
                dates::display(t.valid_from),
                t.valid_until.map(dates::display).unwrap_or_default(),
                t.amount.to_string(),
                milestones.as_deref().map(milestones_text).unwrap_or_else(|| "(ongewijzigd)".into()),
            ],
        }
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<ContractRow>) -> sqlx::Result<Option<i64>> {
        match &p.record {
            ContractRow::Contract { draft: d, .. } => {
                type Stored = (i64, String, i64, String, String, time::Date, time::Date, i64, String);
                let existing: Option<Stored> = sqlx::query_as(
                    "SELECT id, title, provider_id, lot, routes, start_date, initial_end_date, ceiling_cents, notes
                     FROM contract WHERE reference = ?",
                )
                .bind(&d.reference)
                .fetch_optional(&mut *conn)
                .await?;
                let Some((id, title, provider, lot, routes, start, end, ceiling, notes)) = existing else {
                    return Ok(None);
                };
                if let Some(n) = differs(
                    &format!("Contract {}", d.reference),
                    &[
                        ("Titel", title == d.title),
                        ("KvK aanbieder", provider == d.provider_id),
                        ("Perceel", lot == d.lot),
                        ("Routes", routes == routes_code(&d.routes)),
                        ("Start", start == d.start_date),
                        ("Einde", end == d.initial_end_date),
                        ("Plafond", ceiling == d.ceiling.cents()),
                        ("Notities", notes == d.notes),
                    ],
                ) {
                    self.notes.set(p.row, n);
                }
                Ok(Some(batch_of(conn, "contract", id).await?))
            }
            ContractRow::Tariff { contract_id, tariff: t, .. } => {
                let existing: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM tariff WHERE contract_id = ? AND route = ? AND valid_from = ?
                         AND valid_until IS ? AND amount_cents = ?",
                )
                .bind(contract_id)
                .bind(t.route.code())
                .bind(t.valid_from)
                .bind(t.valid_until)
                .bind(t.amount.cents())
                .fetch_optional(&mut *conn)
                .await?;
                match existing {
                    Some(id) => Ok(Some(batch_of(conn, "tariff", id).await?)),
                    None => Ok(None),
                }
            }
        }
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<ContractRow>],
    ) -> sqlx::Result<Vec<(usize, i64)>> {
        let mut dups = Vec::new();
        let actor = batch_actor(tx, batch).await?;
        for (i, p) in rows.iter().enumerate() {
            if let Some(from) = self.stored(tx, p).await? {
                dups.push((i, from));
                continue;
            }
            match &p.record {
                ContractRow::Contract { draft: d, .. } => {
                    let id = match store::contracts::insert_in(tx, d, &actor).await {
                        Ok(id) => id,
                        Err(store::contracts::ContractError::Db(e)) => return Err(e),
                        Err(e) => return Err(sqlx::Error::Protocol(e.to_string())),
                    };
                    mark_batch(tx, "contract", id, batch).await?;
                }
                ContractRow::Tariff { contract_id, tariff: t, milestones, .. } => {
                    let id = store::contracts::add_tariff_in(tx, *contract_id, t, &actor).await?;
                    mark_batch(tx, "tariff", id, batch).await?;
                    if let Some(ms) = milestones {
                        store::contracts::set_milestones_in(tx, *contract_id, t.route, ms, &actor).await?;
                        sqlx::query("UPDATE payment_milestone SET batch_id = ? WHERE contract_id = ? AND route = ?")
                            .bind(batch)
                            .bind(contract_id)
                            .bind(t.route.code())
                            .execute(&mut **tx)
                            .await?;
                    }
                }
            }
        }
        Ok(dups)
    }
}
