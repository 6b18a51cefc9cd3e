//! The progress kind: a provider's periodic report, one row per placement and period. The provider (KvK number)
//! and the client number find the placement; a client with more than one placement at that provider needs the
//! Route column. Provider + period + placement identify a report: the same report again is a duplicate, a
//! report for a known period with other figures is a conflict (rejected, never merged), and two rows for the
//! same placement and period with different figures refuse the whole file.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::registers::{
    self, provider_named, providers_by_kvk, push_errors, Lookup, ProviderRef, RegisterKind, WriteError,
};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, FinishError, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::dates;
use crate::domain::fixed::dutch_decimal;
use crate::domain::placement::ClientNumber;
use crate::domain::progress::{attendance_pct, exams_text, validate_report, Period, ReportDraft, ReportForm};
use crate::domain::route::Route;
use crate::money::Money;
use crate::store::imports::RegisterTable;
use crate::store::{self, Db};

pub const KVK: usize = 0;
pub const CLIENT: usize = 1;
pub const ROUTE: usize = 2;
pub const PERIOD: usize = 3;
pub const FIRST_LESSON: usize = 4;
pub const OFFERED: usize = 5;
pub const ATTENDED: usize = 6;
pub const ABSENCE: usize = 7;
pub const ABSENCE_REASON: usize = 8;
pub const CATCH_UP: usize = 9;
pub const LEVEL_READING: usize = 10;
pub const LEVEL_LISTENING: usize = 11;
pub const LEVEL_SPEAKING: usize = 12;
pub const LEVEL_WRITING: usize = 13;
pub const EXAMS: usize = 14;
pub const REMARKS: usize = 15;

const fn field(name: &'static str, label: &'static str, ty: FieldType, req: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty, required: req, explain }
}

const LEVEL: &str = "Niveau A0, A1, A2, B1, B2, C1 of C2; leeg als het niet is gemeten.";

pub const FIELDS: &[FieldDef] = &[
    field("kvk", "KvK-nummer", FieldType::Text { max: 30 }, true, "KvK-nummer van de aanbieder die rapporteert."),
    field(
        "client_number",
        "Klantnummer",
        FieldType::Text { max: 100 },
        true,
        "Klantnummer van de gemeente; de deelnemer moet een plaatsing hebben bij deze aanbieder. Nooit een BSN.",
    ),
    field(
        "route",
        "Route",
        FieldType::Text { max: 50 },
        false,
        "Leerroute van de plaatsing (b1, z, ...); alleen nodig als de deelnemer meer plaatsingen bij de aanbieder heeft.",
    ),
    field(
        "period",
        "Periode",
        FieldType::Text { max: 20 },
        true,
        "Maand als 2023-03 of kwartaal als 2023-K1. Niet vóór de start van de plaatsing.",
    ),
    field("first_lesson", "Eerste lesdag", FieldType::Date, false, "De eerste lesdag, in de rapportage van die periode."),
    field("offered", "Uren aangeboden", FieldType::Amount, true, "Aangeboden lesuren in de periode, bijvoorbeeld 32 of 12,5."),
    field("attended", "Uren aanwezig", FieldType::Amount, true, "Aanwezige uren; nooit meer dan aangeboden."),
    field("absence", "Uren verzuim", FieldType::Amount, false, "Uren afwezig."),
    field(
        "absence_reason",
        "Reden verzuim",
        FieldType::Text { max: 50 },
        false,
        "ziekte, zwangerschap, afspraak, verwijtbaar (de deelnemer valt het te verwijten) of overig. Verplicht bij verzuim.",
    ),
    field("catch_up", "Inhaaluren", FieldType::Amount, false, "Inhaallessen in de periode (betaald als het contract dat regelt)."),
    field("level_reading", "Niveau lezen", FieldType::Text { max: 10 }, false, LEVEL),
    field("level_listening", "Niveau luisteren", FieldType::Text { max: 10 }, false, LEVEL),
    field("level_speaking", "Niveau spreken", FieldType::Text { max: 10 }, false, LEVEL),
    field("level_writing", "Niveau schrijven", FieldType::Text { max: 10 }, false, LEVEL),
    field(
        "exams",
        "Examens",
        FieldType::Text { max: 1000 },
        false,
        "Examenpogingen in de periode: onderdeel datum uitslag, gescheiden door ';', bijvoorbeeld \
         'lezen 12-03-2023 geslaagd; spreken 14-03-2023 gezakt'. Onderdelen: lezen, luisteren, spreken, schrijven, KNM, ONA.",
    ),
    field("remarks", "Opmerkingen", FieldType::Text { max: 2000 }, false, "Vrije toelichting van de aanbieder."),
];

const FORM_FIELDS: &[(&str, usize)] = &[
    ("period", PERIOD),
    ("first_lesson", FIRST_LESSON),
    ("offered", OFFERED),
    ("attended", ATTENDED),
    ("absence", ABSENCE),
    ("absence_reason", ABSENCE_REASON),
    ("catch_up", CATCH_UP),
    ("level_reading", LEVEL_READING),
    ("level_listening", LEVEL_LISTENING),
    ("level_speaking", LEVEL_SPEAKING),
    ("level_writing", LEVEL_WRITING),
    ("exams", EXAMS),
    ("remarks", REMARKS),
];

/// A placement as a report row is matched against.
#[derive(Clone, Debug)]
struct PlacementRef {
    id: i64,
    provider_id: i64,
    provider_name: String,
    reference: String,
    route: Route,
    start: time::Date,
}

/// A report to store, with what the preview shows.
#[derive(Debug)]
pub struct ProgressRow {
    pub placement_id: i64,
    pub provider_id: i64,
    pub client_number: String,
    pub contract: String,
    pub draft: ReportDraft,
}

pub struct Progress {
    providers: HashMap<String, ProviderRef>,
    placements: HashMap<String, Vec<PlacementRef>>,
    /// Stored reports per placement: period -> figures.
    stored: HashMap<i64, Vec<ReportDraft>>,
    /// (placement, period code) of stored reports entered on a screen, for the conflict message.
    on_screen: std::collections::HashSet<(i64, String)>,
    /// Valid rows of this file so far: (placement, period code) -> (row, figures).
    earlier: Mutex<HashMap<(i64, String), (u32, ReportDraft)>>,
    /// Conflicting rows within the file: they refuse the whole batch.
    conflicts: Mutex<Vec<String>>,
}

impl Progress {
    pub async fn load(db: &Db) -> sqlx::Result<Progress> {
        let contracts = store::contracts::list(db).await?;
        let mut placements: HashMap<String, Vec<PlacementRef>> = HashMap::new();
        for p in store::placements::list(db, None).await? {
            let Some(c) = contracts.iter().find(|c| c.id == p.contract_id) else { continue };
            placements.entry(p.client_number.as_str().to_string()).or_default().push(PlacementRef {
                id: p.id,
                provider_id: c.provider_id,
                provider_name: c.provider_name.clone(),
                reference: c.reference.clone(),
                route: p.route,
                start: p.schedule.start_date,
            });
        }
        let stored = store::progress::stored_periods(db)
            .await?
            .into_iter()
            .map(|(id, rs)| (id, rs.into_iter().map(|r| r.draft).collect()))
            .collect();
        Ok(Progress {
            providers: providers_by_kvk(db).await?,
            placements,
            stored,
            on_screen: store::progress::entered_on_screen(db).await?,
            earlier: Mutex::new(HashMap::new()),
            conflicts: Mutex::new(Vec::new()),
        })
    }

    fn conflict_message(&self) -> Option<String> {
        let c = self.conflicts.lock().expect("conflicts lock");
        (!c.is_empty()).then(|| {
            format!(
                "Het bestand bevat tegenstrijdige rapportages voor dezelfde plaatsing en periode ({}). Die worden nooit samengevoegd: \
                 er is niets geïmporteerd. Laat per plaatsing en periode één regel over.",
                c.join("; ")
            )
        })
    }

    /// Finds the placement a row reports on, or says why not.
    fn placement(
        &self,
        client: &str,
        provider: &ProviderRef,
        route: Option<Route>,
        period: Option<Period>,
    ) -> Result<&PlacementRef, String> {
        let Some(all) = self.placements.get(client) else {
            return Err(format!("Onbekend klantnummer {client}: er is geen plaatsing met dit klantnummer"));
        };
        let mine: Vec<&PlacementRef> = all.iter().filter(|p| p.provider_id == provider.id).collect();
        if mine.is_empty() {
            let others: Vec<&str> = all.iter().map(|p| p.provider_name.as_str()).collect();
            return Err(format!(
                "Klant {client} heeft geen plaatsing bij {}, maar bij {}; een aanbieder rapporteert alleen over de eigen deelnemers",
                provider.name,
                others.join(", ")
            ));
        }
        let mut fit: Vec<&PlacementRef> = mine.iter().copied().filter(|p| route.is_none_or(|r| p.route == r)).collect();
        if fit.is_empty() {
            return Err(format!(
                "Klant {client} heeft bij {} geen plaatsing op de route {}",
                provider.name,
                route.map(|r| r.short_label()).unwrap_or_default()
            ));
        }
        if fit.len() > 1 {
            if let Some(p) = period {
                fit.retain(|x| x.start <= p.end());
                fit.sort_by_key(|x| std::cmp::Reverse(x.start));
                fit.truncate(1);
            }
        }
        match fit.as_slice() {
            [one] => Ok(one),
            _ => Err(format!(
                "Klant {client} heeft meer plaatsingen bij {}; vul de kolom Route in om te zeggen welke",
                provider.name
            )),
        }
    }
}

fn hours_text(v: &RowValues, field: usize) -> String {
    v.money(field).map(|m| m.plain()).unwrap_or_default()
}

impl ImportKind for Progress {
    type Record = ProgressRow;

    fn kind(&self) -> Kind {
        Kind::Progress
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<ProgressRow> {
        let (_, provider) = provider_named(&self.providers, v, KVK, problems)?;
        let client = match ClientNumber::parse(&v.take_text(CLIENT)) {
            Ok(c) => c,
            Err(m) => {
                problems.push((CLIENT, m));
                return None;
            }
        };
        let route_text = v.take_text(ROUTE);
        let route = if route_text.trim().is_empty() {
            None
        } else {
            match Route::parse(&route_text) {
                Some(r) => Some(r),
                None => {
                    problems.push((
                        ROUTE,
                        format!("onbekende leerroute '{route_text}'; gebruik b1, z, education, map, knm of alfa"),
                    ));
                    return None;
                }
            }
        };
        // A month typed as 2023-03 may arrive as the date 01-03-2023 from a spreadsheet.
        let mut period_text = v.take_text(PERIOD);
        if let Some(d) = dates::parse_iso(&period_text).filter(|d| d.day() == 1) {
            period_text = Period::month_of(d).code();
        }
        let period = Period::parse(&period_text).ok();
        let placement = match self.placement(client.as_str(), provider, route, period) {
            Ok(p) => p,
            Err(m) => {
                problems.push((CLIENT, m));
                return None;
            }
        };
        let form = ReportForm {
            period: period_text,
            first_lesson: v.date(FIRST_LESSON).map(dates::iso).unwrap_or_default(),
            offered: hours_text(v, OFFERED),
            attended: hours_text(v, ATTENDED),
            absence: hours_text(v, ABSENCE),
            absence_reason: v.take_text(ABSENCE_REASON),
            catch_up: hours_text(v, CATCH_UP),
            level_reading: v.take_text(LEVEL_READING),
            level_listening: v.take_text(LEVEL_LISTENING),
            level_speaking: v.take_text(LEVEL_SPEAKING),
            level_writing: v.take_text(LEVEL_WRITING),
            exams: v.take_text(EXAMS),
            remarks: v.take_text(REMARKS),
        };
        let draft = match validate_report(&form, placement.start) {
            Ok(d) => d,
            Err(e) => {
                push_errors(&e, FORM_FIELDS, PERIOD, problems);
                return None;
            }
        };
        let code = draft.period.code();
        let stored = self.stored.get(&placement.id).map(Vec::as_slice).unwrap_or_default();
        if let Some(same) = stored.iter().find(|s| s.period == draft.period) {
            let diff = same.differences(&draft);
            if !diff.is_empty() {
                // Undoing an import only helps when the stored report came from one.
                let remedy = if self.on_screen.contains(&(placement.id, code.clone())) {
                    "de opgeslagen rapportage is op het scherm ingevoerd; overleg met de aanbieder welke cijfers kloppen"
                } else {
                    "maak de eerdere import ongedaan als dit bestand de juiste cijfers heeft"
                };
                problems.push((
                    PERIOD,
                    format!(
                        "Conflict: voor klant {} is over {} al een rapportage opgeslagen met andere cijfers ({}). \
                         Er wordt niets samengevoegd; {remedy}",
                        client.as_str(),
                        draft.period.label(),
                        diff.join(", ")
                    ),
                ));
                return None;
            }
        } else if let Some(o) = stored.iter().find(|s| s.period.overlaps(draft.period)) {
            problems.push((
                PERIOD,
                format!(
                    "De periode {} overlapt met de opgeslagen rapportage over {}",
                    draft.period.label(),
                    o.period.label()
                ),
            ));
            return None;
        }
        let mut earlier = self.earlier.lock().expect("earlier rows lock");
        if let Some((row, first)) = earlier.get(&(placement.id, code.clone())) {
            let diff = first.differences(&draft);
            if !diff.is_empty() {
                self.conflicts.lock().expect("conflicts lock").push(format!("rij {row} en rij {}", v.row));
                problems.push((
                    PERIOD,
                    format!(
                        "Conflict met rij {row}: dezelfde klant en periode met andere cijfers ({}); niets wordt samengevoegd",
                        diff.join(", ")
                    ),
                ));
                return None;
            }
        } else if let Some(((_, c), (row, _))) =
            earlier.iter().find(|((id, _), (_, d))| *id == placement.id && d.period.overlaps(draft.period))
        {
            problems.push((PERIOD, format!("De periode {} overlapt met {c} op rij {row}", draft.period.label())));
            return None;
        } else {
            earlier.insert((placement.id, code), (v.row, draft.clone()));
        }
        Some(ProgressRow {
            placement_id: placement.id,
            provider_id: provider.id,
            client_number: client.as_str().to_string(),
            contract: placement.reference.clone(),
            draft,
        })
    }

    fn fingerprint(&self, r: &ProgressRow, h: &mut Sha256) {
        let d = &r.draft;
        h.update(format!(
            "{}\x1f{}\x1f{}\x1f{}\x1f{}",
            r.placement_id,
            d.period.code(),
            d.offered.x100(),
            d.attended.x100(),
            exams_text(&d.exams)
        ));
    }

    fn amount(&self, _r: &ProgressRow) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &["Klantnummer", "Contract", "Periode", "Aangeboden", "Aanwezig", "Aanwezigheid", "Verzuim", "Examens"]
    }

    fn preview(&self, r: &ProgressRow) -> Vec<String> {
        let d = &r.draft;
        vec![
            r.client_number.clone(),
            r.contract.clone(),
            d.period.label(),
            d.offered.dutch(),
            d.attended.dutch(),
            attendance_pct(d.offered, d.attended).map(|p| format!("{}%", dutch_decimal(p))).unwrap_or_default(),
            d.absence.dutch(),
            exams_text(&d.exams),
        ]
    }

    fn dry_run_refusal(&self) -> Option<String> {
        self.conflict_message()
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<ProgressRow>) -> sqlx::Result<Option<Found>> {
        registers::stored(self, conn, p).await
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<ProgressRow>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        registers::insert(self, tx, batch, rows).await
    }

    async fn finish(&self, _tx: &mut store::Tx<'_>, _batch: i64, _actor: &str) -> Result<(), FinishError> {
        match self.conflict_message() {
            Some(m) => Err(FinishError::Refused(m)),
            None => Ok(()),
        }
    }
}

impl RegisterKind for Progress {
    async fn find(&self, conn: &mut store::Conn, p: &Prepared<ProgressRow>) -> sqlx::Result<Lookup> {
        let r = &p.record;
        Ok(match store::progress::existing_in(conn, r.placement_id, r.draft.period).await? {
            Some((_, batch)) => Lookup::Stored { batch, note: None },
            None => Lookup::New,
        })
    }

    async fn write(
        &self,
        tx: &mut store::Tx<'_>,
        p: &Prepared<ProgressRow>,
        batch: i64,
        actor: &str,
    ) -> Result<Option<(RegisterTable, i64)>, WriteError> {
        let r = &p.record;
        store::progress::insert_report_in(tx, r.placement_id, r.provider_id, &r.draft, Some(batch), actor).await?;
        Ok(None)
    }
}
