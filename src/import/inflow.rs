//! The inflow kind (`instroom`, template `standaard-instroom`): one row per period and group with a count, checked
//! by the screen's own rule (`domain::inflow::validate`). Newcomer groups are counted per month, the
//! Ondertussengroep (Wi2013, ELIP) per quarter; the Groep column says which. Period + group identify a row: the
//! same count again is a duplicate, a different count for a stored period and group is refused (change it on
//! /instroom, or undo the earlier batch), so an import never overwrites a figure silently.

use sha2::{Digest, Sha256};

use super::registers::{self, push_errors, Lookup, Refusal, RegisterKind, WriteError};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::inflow::{validate, InflowCount, MAX_COUNT};
use crate::money::Money;
use crate::store;
use crate::store::imports::RegisterTable;

pub const PERIOD: usize = 0;
pub const GROUP: usize = 1;
pub const COUNT: usize = 2;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

pub const FIELDS: &[FieldDef] = &[
    field(
        "period",
        "Periode",
        FieldType::Text { max: 20 },
        true,
        "Een maand als 2022-03 (instroom van nieuwkomers) of een kwartaal als 2022-K1 (omvang van de Ondertussengroep aan het eind van het kwartaal).",
    ),
    field(
        "group",
        "Groep",
        FieldType::Text { max: 60 },
        true,
        "asiel gehuisvest, asiel azc, gezin of overig (per maand); wi2013 of elip (per kwartaal).",
    ),
    field(
        "count",
        "Aantal",
        FieldType::Integer { min: 0, max: MAX_COUNT },
        true,
        "Aantal personen: alleen een telling, nooit namen of klantnummers.",
    ),
];

/// The domain form's field names and the kind's field indexes.
const FORM_FIELDS: &[(&str, usize)] = &[("period", PERIOD), ("category", GROUP), ("count", COUNT)];

/// The kind has no state: a second row for the same period and group is refused by the engine (the template's
/// key), a stored one by `find`.
#[derive(Default)]
pub struct Inflow;

impl Inflow {
    pub fn new() -> Inflow {
        Inflow
    }
}

impl ImportKind for Inflow {
    type Record = InflowCount;

    fn kind(&self) -> Kind {
        Kind::Inflow
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<InflowCount> {
        let period = v.take_text(PERIOD);
        let group = v.take_text(GROUP);
        let count = v.int(COUNT).map(|n| n.to_string()).unwrap_or_default();
        match validate(&period, &group, &count) {
            Ok(c) => Some(c),
            Err(e) => {
                push_errors(&e, FORM_FIELDS, PERIOD, problems);
                None
            }
        }
    }

    fn fingerprint(&self, c: &InflowCount, h: &mut Sha256) {
        h.update(format!("{}\x1f{}\x1f{}", c.period.code(), c.category.code(), c.count));
    }

    fn amount(&self, _c: &InflowCount) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &["Periode", "Groep", "Aantal"]
    }

    fn preview(&self, c: &InflowCount) -> Vec<String> {
        vec![c.period.display(), c.category.label().to_string(), c.count.to_string()]
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<InflowCount>) -> sqlx::Result<Option<Found>> {
        registers::stored(self, conn, p).await
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<InflowCount>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        registers::insert(self, tx, batch, rows).await
    }
}

impl RegisterKind for Inflow {
    async fn find(&self, conn: &mut store::Conn, p: &Prepared<InflowCount>) -> sqlx::Result<Lookup> {
        let c = &p.record;
        let Some(stored) = store::inflow::find_in(conn, c.period, c.category).await? else { return Ok(Lookup::New) };
        if stored.count.count == c.count {
            return Ok(Lookup::Stored { batch: stored.batch.unwrap_or(0), note: None });
        }
        let message = format!(
            "voor {} in {} is al {} vastgelegd; een import overschrijft dat niet. Wijzig het aantal op het scherm \
             Instroom, of maak de eerdere import ongedaan",
            c.category.word(),
            c.period.code(),
            stored.count.count
        );
        Ok(Lookup::Refused(Refusal::Store(message).on(COUNT, c.count.to_string())))
    }

    async fn write(
        &self,
        tx: &mut store::Tx<'_>,
        p: &Prepared<InflowCount>,
        batch: i64,
        actor: &str,
    ) -> Result<Option<(RegisterTable, i64)>, WriteError> {
        store::inflow::create_in(tx, &p.record, Some(batch), actor).await?;
        Ok(None)
    }
}
