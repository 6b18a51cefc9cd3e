//! The results kind: a provider's results for one route in one measurement year (starts, completions, drop-outs,
//! pass rates per exam component, satisfaction, share of lessons by registered NT2 teachers, group size), found
//! by the provider's KvK number. KvK + year + route identify a row. Each row goes through the same domain rule
//! as the screen (`validate_result`).
//!
//! Figures that differ from the results already stored for the same provider, route and year are a **conflict**:
//! the row is refused and the message lists every change (old -> new). An import never overwrites results a
//! contract manager entered or imported before; correct them on the screen, or undo the earlier batch and import
//! again. Identical figures are a duplicate and change nothing.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::registers::{
    batch_actor, batch_of, lookup, mark_batch, provider_named, providers_by_kvk, push_errors, Notes,
};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, ImportKind, Kind, Prepared, RowValues};
use crate::domain::dates;
use crate::domain::quality::{display_decimal, validate_result, ExamComponent, QualityResult, ResultInput};
use crate::domain::route::Route;
use crate::money::Money;
use crate::store::{self, Db};

pub const KVK: usize = 0;
pub const YEAR: usize = 1;
pub const ROUTE: usize = 2;
pub const STARTED: usize = 3;
pub const COMPLETED: usize = 4;
pub const DROPPED_OUT: usize = 5;
pub const PASS_LEZEN: usize = 6;
pub const PASS_LUISTEREN: usize = 7;
pub const PASS_SCHRIJVEN: usize = 8;
pub const PASS_SPREKEN: usize = 9;
pub const PASS_KNM: usize = 10;
pub const SATISFACTION: usize = 11;
pub const NT2_SHARE: usize = 12;
pub const GROUP_SIZE: usize = 13;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

const COUNT: FieldType = FieldType::Integer { min: 0, max: 100_000 };
/// Percentages and scores are read as text so `80,5`, `80.5` and `80%` all work; the domain rule parses them.
const NUMBER: FieldType = FieldType::Text { max: 20 };

pub const FIELDS: &[FieldDef] = &[
    field(
        "kvk",
        "KvK-nummer",
        FieldType::Text { max: 30 },
        true,
        "KvK-nummer van de taalaanbieder; die moet al bestaan (importeer eerst de aanbieders).",
    ),
    field("year", "Meetjaar", FieldType::Integer { min: 2000, max: 2100 }, true, "Het meetjaar, bijvoorbeeld 2024."),
    field(
        "route",
        "Route",
        FieldType::Text { max: 60 },
        true,
        "Leerroute: b1, z, education, map, knm of alfa (of B1-route, Z-route, Onderwijsroute).",
    ),
    field(
        "started",
        "Gestart",
        COUNT,
        true,
        "Aantal deelnemers dat in het meetjaar is gestart (0 als er niemand was).",
    ),
    field(
        "completed",
        "Afgerond",
        COUNT,
        true,
        "Aantal deelnemers dat de route heeft afgerond; niet meer dan gestart.",
    ),
    field(
        "dropped_out",
        "Uitgevallen",
        COUNT,
        true,
        "Aantal uitgevallen deelnemers; afgerond + uitgevallen ≤ gestart.",
    ),
    field("pass_lezen", "Geslaagd lezen %", NUMBER, false, "Slagingspercentage lezen, 0 tot en met 100 (80 of 80,5)."),
    field("pass_luisteren", "Geslaagd luisteren %", NUMBER, false, "Slagingspercentage luisteren, 0 tot en met 100."),
    field("pass_schrijven", "Geslaagd schrijven %", NUMBER, false, "Slagingspercentage schrijven, 0 tot en met 100."),
    field("pass_spreken", "Geslaagd spreken %", NUMBER, false, "Slagingspercentage spreken, 0 tot en met 100."),
    field("pass_knm", "Geslaagd KNM %", NUMBER, false, "Slagingspercentage KNM, 0 tot en met 100."),
    field("satisfaction", "Tevredenheid", NUMBER, false, "Gemiddeld rapportcijfer van de deelnemers, 1 tot en met 10."),
    field(
        "nt2_share",
        "Lessen door NT2-docenten %",
        NUMBER,
        false,
        "Aandeel lessen gegeven door NT2-docenten die bij BVNT2 of Blik op Werk zijn geregistreerd, 0 tot en met 100.",
    ),
    field("group_size", "Groepsgrootte", NUMBER, false, "Gemiddelde groepsgrootte, 1 tot en met 100."),
];

/// The domain rule's field names and the kind's field indexes.
const FORM_FIELDS: &[(&str, usize)] = &[
    ("year", YEAR),
    ("route", ROUTE),
    ("started", STARTED),
    ("completed", COMPLETED),
    ("dropped_out", DROPPED_OUT),
    ("pass_lezen", PASS_LEZEN),
    ("pass_luisteren", PASS_LUISTEREN),
    ("pass_schrijven", PASS_SCHRIJVEN),
    ("pass_spreken", PASS_SPREKEN),
    ("pass_knm", PASS_KNM),
    ("satisfaction", SATISFACTION),
    ("nt2_share", NT2_SHARE),
    ("group_size", GROUP_SIZE),
];

/// Percent fields: a value below 1 with decimals there is almost always a cell with Excel's percent format
/// (80,5% is stored as 0,805), which would silently become 0,805%.
const PERCENT_FIELDS: &[usize] = &[PASS_LEZEN, PASS_LUISTEREN, PASS_SCHRIJVEN, PASS_SPREKEN, PASS_KNM, NT2_SHARE];

/// Results to store, with the provider for the preview.
#[derive(Debug)]
pub struct ResultRow {
    pub provider_id: i64,
    pub kvk: String,
    pub provider_name: String,
    pub result: QualityResult,
}

pub struct Results {
    providers: HashMap<String, (i64, String)>,
    /// Results already stored, by provider, year and route.
    stored: HashMap<(i64, i32, Route), QualityResult>,
    notes: Notes,
}

impl Results {
    pub async fn load(db: &Db) -> sqlx::Result<Results> {
        let providers = providers_by_kvk(db).await?.into_iter().map(|(kvk, p)| (kvk, (p.id, p.name))).collect();
        let stored = store::quality::results(db, None)
            .await?
            .into_iter()
            .map(|s| ((s.provider_id, s.result.year, s.result.route), s.result))
            .collect();
        Ok(Results { providers, stored, notes: Notes::default() })
    }
}

fn route_words() -> Vec<(Route, &'static str, &'static str)> {
    Route::ALL.iter().flat_map(|r| [(*r, r.code(), r.short_label()), (*r, r.code(), r.label())]).collect()
}

fn opt(d: Option<Decimal>) -> String {
    d.map(display_decimal).unwrap_or_else(|| "leeg".into())
}

/// Every figure that differs between stored and new results: (field, "Label: old → new").
pub fn changes(old: &QualityResult, new: &QualityResult) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cmp = |field: usize, label: &str, a: String, b: String| {
        if a != b {
            out.push((field, format!("{label} {a} → {b}")));
        }
    };
    cmp(STARTED, "gestart", old.started.to_string(), new.started.to_string());
    cmp(COMPLETED, "afgerond", old.completed.to_string(), new.completed.to_string());
    cmp(DROPPED_OUT, "uitgevallen", old.dropped_out.to_string(), new.dropped_out.to_string());
    for (c, f) in ExamComponent::ALL.into_iter().zip(PASS_LEZEN..=PASS_KNM) {
        cmp(
            f,
            &format!("geslaagd {}", c.in_sentence()),
            opt(old.pass_rates.get(&c).copied()),
            opt(new.pass_rates.get(&c).copied()),
        );
    }
    cmp(SATISFACTION, "tevredenheid", opt(old.satisfaction), opt(new.satisfaction));
    cmp(NT2_SHARE, "lessen door NT2-docenten", opt(old.nt2_share), opt(new.nt2_share));
    cmp(GROUP_SIZE, "groepsgrootte", opt(old.group_size), opt(new.group_size));
    out
}

impl ImportKind for Results {
    type Record = ResultRow;

    fn kind(&self) -> Kind {
        Kind::Results
    }

    fn build(&self, _t: &CheckedTemplate, v: &mut RowValues, problems: &mut Vec<(usize, String)>) -> Option<ResultRow> {
        let (kvk, (provider_id, provider_name)) =
            provider_named(&self.providers, v, KVK, problems).map(|(k, p)| (k, p.clone()))?;
        let route_text = v.take_text(ROUTE);
        let Some(route) = lookup(&route_text, &route_words()) else {
            problems
                .push((ROUTE, format!("onbekende route '{route_text}'; gebruik b1, z, education, map, knm of alfa")));
            return None;
        };
        let int = |v: &RowValues, f: usize| v.int(f).map(|n| n.to_string()).unwrap_or_default();
        let mut input = ResultInput {
            year: int(v, YEAR),
            route: route.code().to_string(),
            started: int(v, STARTED),
            completed: int(v, COMPLETED),
            dropped_out: int(v, DROPPED_OUT),
            ..Default::default()
        };
        input.pass_lezen = v.take_text(PASS_LEZEN);
        input.pass_luisteren = v.take_text(PASS_LUISTEREN);
        input.pass_schrijven = v.take_text(PASS_SCHRIJVEN);
        input.pass_spreken = v.take_text(PASS_SPREKEN);
        input.pass_knm = v.take_text(PASS_KNM);
        input.satisfaction = v.take_text(SATISFACTION);
        input.nt2_share = v.take_text(NT2_SHARE);
        input.group_size = v.take_text(GROUP_SIZE);
        for &f in PERCENT_FIELDS {
            let text = match f {
                PASS_LEZEN => &mut input.pass_lezen,
                PASS_LUISTEREN => &mut input.pass_luisteren,
                PASS_SCHRIJVEN => &mut input.pass_schrijven,
                PASS_SPREKEN => &mut input.pass_spreken,
                PASS_KNM => &mut input.pass_knm,
                _ => &mut input.nt2_share,
            };
            let looks_like_fraction = text
                .trim()
                .replace(',', ".")
                .parse::<Decimal>()
                .is_ok_and(|d| d > Decimal::ZERO && d < Decimal::ONE && !d.fract().is_zero());
            if looks_like_fraction {
                problems.push((
                    f,
                    format!(
                        "'{}' lijkt een cel met percentage-opmaak (80,5% staat dan als 0,805 in de cel); \
                         schrijf het percentage als getal van 0 tot en met 100",
                        text.trim()
                    ),
                ));
                // One message per cell: the domain rule would add "more than two decimals" too.
                text.clear();
            }
        }
        let result = match validate_result(&input, dates::today()) {
            Ok(r) if problems.is_empty() => r,
            Ok(_) => return None,
            Err(e) => {
                push_errors(&e, FORM_FIELDS, STARTED, problems);
                return None;
            }
        };
        if let Some(old) = self.stored.get(&(provider_id, result.year, result.route)) {
            let diff = changes(old, &result);
            if let Some((field, _)) = diff.first() {
                let list: Vec<&str> = diff.iter().map(|(_, m)| m.as_str()).collect();
                problems.push((
                    *field,
                    format!(
                        "voor {provider_name}, {}, meetjaar {} zijn al andere resultaten vastgelegd ({}). \
                         Niet overschreven: pas ze aan op het kwaliteitsscherm van de aanbieder, of maak de \
                         eerdere importbatch ongedaan en importeer opnieuw",
                        route.short_label(),
                        result.year,
                        list.join("; ")
                    ),
                ));
                return None;
            }
        }
        Some(ResultRow { provider_id, kvk: kvk.as_str().to_string(), provider_name, result })
    }

    fn fingerprint(&self, r: &ResultRow, h: &mut Sha256) {
        h.update(format!("{}\x1f{}\x1f{}", r.kvk, r.result.year, r.result.route.code()));
    }

    fn amount(&self, _r: &ResultRow) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &[
            "KvK-nummer",
            "Aanbieder",
            "Meetjaar",
            "Route",
            "Gestart",
            "Afgerond",
            "Uitgevallen",
            "Geslaagd (L/Lu/S/Sp/KNM) %",
            "Tevredenheid",
            "NT2-docenten %",
            "Groepsgrootte",
        ]
    }

    fn preview(&self, r: &ResultRow) -> Vec<String> {
        let q = &r.result;
        let rates: Vec<String> = ExamComponent::ALL
            .iter()
            .map(|c| q.pass_rates.get(c).map(|d| display_decimal(*d)).unwrap_or_else(|| "–".into()))
            .collect();
        let o = |d: Option<Decimal>| d.map(display_decimal).unwrap_or_default();
        vec![
            r.kvk.clone(),
            r.provider_name.clone(),
            q.year.to_string(),
            q.route.short_label().to_string(),
            q.started.to_string(),
            q.completed.to_string(),
            q.dropped_out.to_string(),
            rates.join(" / "),
            o(q.satisfaction),
            o(q.nt2_share),
            o(q.group_size),
        ]
    }

    fn change(&self, r: &ResultRow) -> Option<String> {
        Some(format!("nieuwe resultaten {} {}", r.result.route.short_label(), r.result.year))
    }

    fn preview_limit(&self) -> usize {
        super::engine::REGISTER_PREVIEW_ROWS
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<ResultRow>) -> sqlx::Result<Option<i64>> {
        let r = &p.record;
        let existing = store::quality::result_in(conn, r.provider_id, r.result.year, r.result.route).await?;
        let Some((id, old)) = existing else { return Ok(None) };
        // Stored between the check and this write (or identical): never overwritten by an import.
        let diff = changes(&old, &r.result);
        if !diff.is_empty() {
            let list: Vec<&str> = diff.iter().map(|(_, m)| m.as_str()).collect();
            self.notes.set(p.row, format!("Afwijkend van wat is opgeslagen ({}); niet bijgewerkt", list.join("; ")));
        }
        Ok(Some(batch_of(conn, "quality_result", id).await?))
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<ResultRow>],
    ) -> sqlx::Result<Vec<(usize, i64)>> {
        let mut dups = Vec::new();
        let actor = batch_actor(tx, batch).await?;
        for (i, p) in rows.iter().enumerate() {
            if let Some(from) = self.stored(tx, p).await? {
                dups.push((i, from));
                continue;
            }
            let r = &p.record;
            let id = store::quality::save_result_in(tx, r.provider_id, &r.result, &actor).await?;
            mark_batch(tx, "quality_result", id, batch).await?;
        }
        Ok(dups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use std::collections::BTreeMap;

    fn result(started: i64, lezen: Option<Decimal>) -> QualityResult {
        let mut pass_rates = BTreeMap::new();
        if let Some(l) = lezen {
            pass_rates.insert(ExamComponent::Lezen, l);
        }
        QualityResult {
            year: 2024,
            route: Route::B1,
            started,
            completed: 10,
            dropped_out: 2,
            pass_rates,
            satisfaction: Some(dec!(7.5)),
            nt2_share: None,
            group_size: Some(dec!(14)),
        }
    }

    #[test]
    fn changes_list_every_differing_figure_old_to_new_and_nothing_for_equal_values() {
        assert!(changes(&result(40, Some(dec!(80))), &result(40, Some(dec!(80.00)))).is_empty());
        assert_eq!(
            changes(&result(40, Some(dec!(80))), &result(42, None)),
            vec![(STARTED, "gestart 40 → 42".to_string()), (PASS_LEZEN, "geslaagd lezen 80 → leeg".to_string())]
        );
    }
}
