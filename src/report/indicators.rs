//! The indicators per year (issue 25): a fixed list of figures for the council's progress letter, each read
//! through the function of the screen it comes from (DESIGN invariant 12), never computed a second way. The one
//! entry point is [`for_years`] (and [`for_year`]): plain, serializable figures, so the page, the JSON export and
//! the letter all show the same numbers.
//!
//! | indicator | source function | screen |
//! |---|---|---|
//! | inflow per group, Ondertussengroep | `domain::inflow::InflowYear::of` | /instroom |
//! | scenario low / expected / high | `store::overview::scenarios` | /scenarios/{id} |
//! | starts, waiting (average, median, within 3 months), attendance, first attempts, route changes, dropouts per route | `report::scorecard::rows` (year grain), summed over providers with `ScoreLine::add` | /scorecard |
//! | money per stream | `report::reconciliation::for_year` | /aansluiting |
//! | plans approved, overdue follow-up actions | `store::quality::all_plans`, `open_actions`, `domain::quality::is_overdue` | /kwaliteit |
//! | marks on 31 December | `domain::certification::holds_valid_mark`, `ContractPeriod::covers` | /keurmerken, contract flags |
//! | attendance against each contract's own norm | `report::contract_attendance::per_year` (`AgainstNorm`: `domain::progress::attendance_pct`, `below_norm`) | /contracten/{id}/voorwaarden |
//! | results against the norms | `report::quality::norms_for`, `compare` (`domain::quality::check_norms`) | /kwaliteit, /kwaliteit/aanbieders/{id} |

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, Month};

use crate::domain::certification::holds_valid_mark;
use crate::domain::contract::Share;
use crate::domain::forecast::{InflowGroup, Variant};
use crate::domain::inflow::InflowYear;
use crate::domain::progress::AgainstNorm;
use crate::domain::quality::{is_overdue, NormOutcome, PlanStatus};
use crate::domain::route::{Cohort, Route};
use crate::domain::scorecard::{Grain, ScoreLine};
use crate::money::Money;
use crate::report::contract_attendance::ContractHours;
use crate::report::reconciliation::{self, StreamYear};
use crate::store::{self, Db};

/// One indicator of the fixed list: its anchor on the definitions page, its name and its definition.
pub struct Definition {
    pub id: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    /// Where the figure comes from, as a link on the definitions page.
    pub source: (&'static str, &'static str),
}

/// The fixed list, in the order of the page. The README says why each is in it.
pub const DEFINITIONS: &[Definition] = &[
    Definition {
        id: "instroom",
        name: "Instroom per groep",
        definition: "Het aantal nieuwe inburgeringsplichtigen dat in het jaar aan de gemeente is gekoppeld, per groep: de som van de maandaantallen van de instroomimport of het scherm Instroom. Asiel is gehuisvest plus azc; gezin en overig samen zijn de groep waarvoor een scenario zijn verwachting geeft.",
        source: ("/instroom", "Instroom"),
    },
    Definition {
        id: "scenario",
        name: "Verwachting uit het scenario",
        definition: "De lage, verwachte en hoge instroom van het gekozen prognosescenario voor het jaar, per groep (asiel; gezin en overig), naast de werkelijke instroom.",
        source: ("/scenarios", "Scenario's"),
    },
    Definition {
        id: "ondertussengroep",
        name: "Omvang Ondertussengroep",
        definition: "Het aantal inburgeringsplichtigen onder de Wi2013 (zonder ELIP) en in de ELIP-groep aan het eind van het laatste kwartaal van het jaar waarvoor een aantal is vastgelegd.",
        source: ("/instroom", "Instroom"),
    },
    Definition {
        id: "starts",
        name: "Gestart per route",
        definition: "Plaatsingen waarvan de lessen in het jaar begonnen volgens de voortgangsrapportages (eerste lesdag), per leerroute bij de start, opgeteld over de aanbieders van de scorecard. Zonder rapportages in het jaar staat er geen aantal.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "doelgroep",
        name: "Gestart per doelgroep",
        definition: "Plaatsingen waarvan de lessen in het jaar begonnen, per doelgroep (Wi2021, Wi2013, ELIP, overig), met dezelfde startdatum als de scorecard (de eerste lesdag uit de voortgangsrapportages, anders de eerste periode met aanwezige uren); samen zijn ze de starts van alle routes.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "wachttijd",
        name: "Gemiddelde wachttijd PIP tot eerste les",
        definition: "Het gemiddelde aantal dagen van de PIP-datum tot de eerste lesdag, over de plaatsingen met een PIP-datum die in het jaar startten; per route, gewogen over de aanbieders zoals de scorecard het per aanbieder berekent.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "mediaan",
        name: "Mediaan wachttijd PIP tot eerste les",
        definition: "De middelste van de wachttijden (dagen van PIP-datum tot eerste lesdag) van de plaatsingen met een PIP-datum die in het jaar startten, per route; bij een even aantal het gemiddelde van de twee middelste. Minder gevoelig voor enkele lange wachttijden dan het gemiddelde.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "binnen-3-maanden",
        name: "Gestart binnen 3 maanden na het PIP",
        definition: "Van de plaatsingen met een PIP-datum die in het jaar startten: het aandeel waarvan de eerste lesdag op of voor de datum drie kalendermaanden na het PIP ligt; dezelfde termijn als de waarschuwing ‘niet binnen 3 maanden gestart’ op de tijdlijn van een plaatsing.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "aanwezigheid",
        name: "Aanwezigheid",
        definition: "Uren aanwezig gedeeld door uren aangeboden in de voortgangsrapportages van het jaar, per route. De norm staat in de voortgangsvoorwaarden van elk contract.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "aanwezigheid-norm",
        name: "Aanwezigheid tegen de norm van het contract",
        definition: "Per contract met voortgangsrapportages in het jaar: de uren aanwezig gedeeld door de uren aangeboden in de rapportages waarvan de periode in het jaar begint (zoals de scorecard ze telt), tegen de aanwezigheidsnorm uit de voortgangsafspraken van dat contract. Een contract voldoet als de aanwezigheid op of boven zijn eigen norm ligt; de vergelijking is exact, zonder afronding (het percentage staat er op één decimaal). Geteld worden de contracten met aangeboden uren in het jaar en hoeveel daarvan voldoen en onder hun norm blijven. Het percentage en de uitkomst van een contract met minder dan 5 plaatsingen met rapportage ziet alleen wie deelnemergegevens mag zien.",
        source: ("/contracten", "Contracten, onderdeel Voorwaarden en afspraken"),
    },
    Definition {
        id: "examens",
        name: "Geslaagd bij de eerste poging",
        definition: "Per examenonderdeel het aandeel geslaagden van de eerste examenpogingen die in het jaar zijn afgelegd, per route.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "routewijzigingen",
        name: "Routewijzigingen en uitval",
        definition: "Het aantal routewijzigingen met een besluitdatum in het jaar en het aantal plaatsingen dat in het jaar is uitgevallen, per route bij de start.",
        source: ("/scorecard", "Scorecard"),
    },
    Definition {
        id: "keurmerk",
        name: "Geldig keurmerk op 31 december",
        definition: "Van de aanbieders met een contract dat op 31 december van het jaar loopt: hoeveel op die dag een geldig Blik op Werk-keurmerk hebben (niet geschorst, niet verlopen), volgens dezelfde regel als de signalen bij contracten en plaatsingen.",
        source: ("/keurmerken", "Keurmerken"),
    },
    Definition {
        id: "kwaliteitsplannen",
        name: "Goedgekeurde kwaliteitsplannen",
        definition: "Het aantal versies van kwaliteitsplannen dat in het jaar is goedgekeurd (besluitdatum in het jaar), getoetst aan de extra kwaliteitseisen van de gemeente.",
        source: ("/kwaliteit", "Kwaliteit"),
    },
    Definition {
        id: "verbeterpunten",
        name: "Verbeterpunten over de streefdatum",
        definition: "Open verbeterpunten van actieve aanbieders waarvan de streefdatum vóór 31 december van het jaar lag (voor het lopende jaar: vóór vandaag), met de status van vandaag; voor het lopende jaar hetzelfde getal als op het kwaliteitsdashboard.",
        source: ("/kwaliteit/acties", "Verbeterpunten"),
    },
    Definition {
        id: "resultaten-normen",
        name: "Resultaten tegen de normen",
        definition: "De resultaten met het jaar als meetjaar, per aanbieder en route, vergeleken met elke norm van het toetsingskader waarvoor het resultaat een waarde heeft: het kader van het laatste kwaliteitsplan van de aanbieder, anders het nieuwste kader; dezelfde vergelijking als op het kwaliteitsdashboard en in het kwaliteitsrapport van de aanbieder. Geteld worden de vergelijkingen die voldoen, die net onder de norm blijven (de norm gemist met hoogstens 10% van de normwaarde) en die niet voldoen, en de aanbieders met minstens één vergelijking die niet voldoet. Alle aanbieders met resultaten van het meetjaar tellen mee, ook wie nu niet meer actief is; voor het laatste meetjaar van de actieve aanbieders zijn het de getallen van het dashboard.",
        source: ("/kwaliteit", "Kwaliteit"),
    },
    Definition {
        id: "geld",
        name: "Geld per financieringsbron",
        definition: "Per bron voor het jaar: beschikbaar (toekenning plus toegestane overheveling), gerealiseerd (toegerekende boekingen), verplicht (betaalmomenten van het jaar, nog niet gefactureerd) en resterend; precies de cijfers van de aansluiting.",
        source: ("/aansluiting", "Aansluiting"),
    },
    Definition {
        id: "per-deelnemer",
        name: "Besteding per gestarte deelnemer",
        definition: "Gerealiseerd over alle bronnen in het jaar gedeeld door het aantal gestarte plaatsingen in het jaar (alle routes), afgerond op centen.",
        source: ("/aansluiting", "Aansluiting"),
    },
    Definition {
        id: "aandeel-ondertussen",
        name: "Aandeel Ondertussengroep en ELIP",
        definition: "Het deel van het gerealiseerde bedrag van het jaar dat is toegerekend aan bronnen voor de Ondertussengroep: bronnen waarvan elke doelgroep wi2013 of elip is (zoals ‘En ondertussen’). Het aandeel ELIP is het deel daarvan op bronnen alleen voor ELIP (doelgroep elip).",
        source: ("/aansluiting", "Aansluiting"),
    },
];

/// The scenario's expectation for one group in one year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectation {
    pub group: InflowGroup,
    pub actual: i64,
    pub low: i64,
    pub expected: i64,
    pub high: i64,
}

/// One route's figures of the year: the scorecard's lines of the year summed over the providers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteYear {
    pub route: Route,
    pub line: ScoreLine,
}

/// Money per stream, as the reconciliation has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StreamMoney {
    pub code: String,
    pub name: String,
    pub available: Money,
    pub actual: Money,
    pub committed: Money,
    pub remaining: Money,
}

impl From<&StreamYear> for StreamMoney {
    fn from(s: &StreamYear) -> StreamMoney {
        StreamMoney {
            code: s.code.clone(),
            name: s.name.clone(),
            available: s.available,
            actual: s.actual,
            committed: s.committed,
            remaining: s.remaining,
        }
    }
}

/// One contract's attendance in the year against its own norm (`report::contract_attendance`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractNorm {
    pub contract_id: i64,
    pub reference: String,
    pub provider: String,
    /// Placements with a report in the year: the group the small-cell rule looks at.
    pub placements: u32,
    /// Hours, two decimals.
    pub offered: Decimal,
    pub attended: Decimal,
    /// Percent, one decimal; None without offered hours.
    pub attendance_pct: Option<Decimal>,
    /// The contract's norm in percent (80.00 for 80%).
    pub norm_pct: Decimal,
    pub meets_norm: bool,
    pub below_norm: bool,
    #[serde(skip)]
    pub against: AgainstNorm,
}

impl From<&ContractHours> for ContractNorm {
    fn from(h: &ContractHours) -> ContractNorm {
        ContractNorm {
            contract_id: h.contract_id,
            reference: h.reference.clone(),
            provider: h.provider_name.clone(),
            placements: h.placements,
            offered: h.against.offered.decimal(),
            attended: h.against.attended.decimal(),
            attendance_pct: h.against.pct(),
            norm_pct: Share::from_basis_points(h.against.norm_bp).percent().decimal(),
            meets_norm: h.against.meets(),
            below_norm: h.against.below(),
            against: h.against,
        }
    }
}

/// How many comparisons of results with norms came out each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NormCounts {
    /// "voldoet"
    pub met: u32,
    /// "net onder de norm"
    pub near: u32,
    /// "voldoet niet"
    pub failed: u32,
}

impl NormCounts {
    fn add(&mut self, o: NormOutcome) {
        match o {
            NormOutcome::Green => self.met += 1,
            NormOutcome::Amber => self.near += 1,
            NormOutcome::Red => self.failed += 1,
        }
    }

    pub fn total(self) -> u32 {
        self.met + self.near + self.failed
    }
}

/// One provider's results of the year against the norms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderNorms {
    pub provider_id: i64,
    pub provider: String,
    pub counts: NormCounts,
}

/// Every figure of one year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YearIndicators {
    pub year: i32,
    pub inflow: InflowYear,
    /// Per scenario group, when a scenario is chosen and has the year.
    pub expectations: Vec<Expectation>,
    pub routes: Vec<RouteYear>,
    /// All routes together.
    pub total: ScoreLine,
    /// Starts per cohort (by the scorecard's start date, `actual_start`); a cohort without starts is absent.
    pub starts_by_cohort: BTreeMap<Cohort, u32>,
    pub streams: Vec<StreamMoney>,
    pub actual_total: Money,
    /// Actual over all streams / started placements; None without reported starts.
    pub spend_per_start: Option<Money>,
    /// Share of the actual (percent, one decimal) on streams for the Ondertussengroep (every target group Wi2013 or
    /// ELIP), and on those for ELIP alone (a part of the former).
    pub waiting_share: Option<Decimal>,
    pub elip_share: Option<Decimal>,
    /// Quality plan versions approved in the year.
    pub plans_approved: u32,
    /// Open follow-up actions of active providers past their due date on 31 December (today, for this year).
    pub overdue_actions: u32,
    /// Providers with a contract running on 31 December, and those of them with a valid mark that day.
    pub providers_under_contract: u32,
    pub providers_with_mark: u32,
    /// Each contract with reports in the year, against its own attendance norm, by reference.
    pub contract_attendance: Vec<ContractNorm>,
    /// Contracts with offered hours in the year, and those of them at or above and below their own norm.
    pub contracts_reporting: u32,
    pub contracts_meeting_norm: u32,
    pub contracts_below_norm: u32,
    /// Results with the year as meetjaar against the norms: all comparisons, and per provider (by name).
    pub norm_results: NormCounts,
    pub provider_norms: Vec<ProviderNorms>,
    /// Providers with at least one comparison that is "voldoet niet".
    pub providers_failing_norm: u32,
}

/// The indicators of several years, oldest first, and the scenario they are held against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Indicators {
    pub scenario: Option<(i64, String)>,
    pub years: Vec<YearIndicators>,
}

/// The indicators of `years` (in that order), against scenario `scenario` when given (None: no expectation).
/// The server's kept figures, so that the indicator page reads what its source screens read, as fast as they do
/// (the command line passes None and computes afresh: the same functions, the same figures).
#[derive(Clone, Copy)]
pub struct KeptInputs<'a> {
    pub scorecard: &'a crate::report::scorecard::ScorecardCache,
    pub signals: &'a crate::report::progress_signals::SignalsCache,
    pub line_flags: &'a crate::report::reconciliation::LineFlagsCache,
    pub portfolio: &'a crate::report::commitments::PortfolioCache,
    pub contract_attendance: &'a crate::report::contract_attendance::ContractAttendanceCache,
}

pub async fn for_years(
    db: &Db,
    years: &[i32],
    scenario: Option<i64>,
    today: Date,
    kept: Option<KeptInputs<'_>>,
) -> sqlx::Result<Indicators> {
    let counts = store::inflow::counts(db).await?;
    let scenarios = store::overview::scenarios(db).await?;
    let chosen = scenario.and_then(|id| scenarios.iter().find(|(s, _)| s.id == id)).map(|(s, _)| s);
    let from = years.iter().copied().min().unwrap_or(today.year());
    let until = years.iter().copied().max().unwrap_or(today.year());
    let score =
        crate::report::scorecard::rows(db, (Grain::Year, from, until, today), kept.map(|k| k.scorecard)).await?;
    let money = reconciliation::for_years(db, years, kept.map(|k| k.line_flags), kept.map(|k| k.portfolio)).await?;
    let streams = store::funding::streams(db).await?;
    // Streams for the Ondertussengroep: every target group of theirs is Wi2013 or ELIP (the 'En ondertussen' money
    // covers both); ELIP's are those for ELIP alone, a part of the former.
    let within = |groups: &[Cohort]| -> Vec<String> {
        streams
            .iter()
            .filter(|(s, _)| !s.cohorts.is_empty() && s.cohorts.iter().all(|c| groups.contains(c)))
            .map(|(s, _)| s.code.clone())
            .collect()
    };
    let (waiting_codes, elip_codes) = (within(&[Cohort::Wi2013, Cohort::Elip]), within(&[Cohort::Elip]));
    let contracts = store::contracts::list(db).await?;
    // Each placement's start as the scorecard dates it, with its cohort.
    // (`progress_signals` holds each placement's `actual_start`, kept between changes of the reports.)
    let signals = crate::report::progress_signals::signals(db, kept.map(|k| k.signals)).await?;
    let started: Vec<(Cohort, Date)> = store::placements::cohorts(db)
        .await?
        .into_iter()
        .filter_map(|(id, cohort)| crate::report::progress_signals::of(&signals, id).actual_start.map(|d| (cohort, d)))
        .collect();
    let decisions = store::certifications::all_by_provider(db).await?;
    let plans = store::quality::all_plans(db).await?;
    let active: Vec<i64> =
        store::providers::list(db, "", store::providers::Filter::Active).await?.into_iter().map(|p| p.id).collect();
    let open_actions: Vec<_> =
        store::quality::open_actions(db).await?.into_iter().filter(|a| active.contains(&a.provider_id)).collect();
    let attendance = crate::report::contract_attendance::per_year(db, kept.map(|k| k.contract_attendance)).await?;
    // Each result with its comparisons, once: the norms of the provider's latest plan's set, as on /kwaliteit.
    let sets = store::quality::list_sets(db).await?;
    let names: BTreeMap<i64, String> = store::providers::list(db, "", store::providers::Filter::All)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let mut by_provider: BTreeMap<i64, Vec<store::quality::StoredResult>> = BTreeMap::new();
    for r in store::quality::results(db, None).await?.into_iter().filter(|r| years.contains(&r.result.year)) {
        by_provider.entry(r.provider_id).or_default().push(r);
    }
    let mut norm_cache = std::collections::HashMap::new();
    let mut outcomes: Vec<(i32, ProviderNorms)> = Vec::new();
    for (provider_id, results) in by_provider {
        let own_plans: Vec<_> = plans.iter().filter(|v| v.provider_id == provider_id).cloned().collect();
        let (_, norms) = crate::report::quality::norms_for(db, &sets, &own_plans, &mut norm_cache).await?;
        let mut per_year: BTreeMap<i32, NormCounts> = BTreeMap::new();
        for rc in crate::report::quality::compare(results, &norms) {
            let counts = per_year.entry(rc.result.result.year).or_default();
            for c in &rc.checks {
                counts.add(c.outcome);
            }
        }
        let name = names.get(&provider_id).cloned().unwrap_or_default();
        outcomes.extend(
            per_year.into_iter().map(|(y, counts)| (y, ProviderNorms { provider_id, provider: name.clone(), counts })),
        );
    }
    let mut out = Vec::with_capacity(years.len());
    for (&year, report) in years.iter().zip(&money) {
        let inflow = InflowYear::of(year, &counts);
        let expectations = chosen
            .map(|s| {
                s.lines
                    .iter()
                    .filter(|l| l.year == year)
                    .map(|l| Expectation {
                        group: l.group,
                        actual: inflow.scenario_group(l.group),
                        low: l.inflow(Variant::Low),
                        expected: l.inflow(Variant::Expected),
                        high: l.inflow(Variant::High),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut by_route: BTreeMap<Route, ScoreLine> = BTreeMap::new();
        for r in score.iter().filter(|r| r.period.year() == year) {
            by_route.entry(r.route).or_default().add(&r.line);
        }
        let mut total = ScoreLine::default();
        for l in by_route.values() {
            total.add(l);
        }
        let mut starts_by_cohort: BTreeMap<Cohort, u32> = BTreeMap::new();
        for (cohort, _) in started.iter().filter(|(_, d)| d.year() == year) {
            *starts_by_cohort.entry(*cohort).or_default() += 1;
        }
        let actual_total = report.attributed_total();
        let share = |codes: &[String]| -> Option<Decimal> {
            let part: Money = report.streams.iter().filter(|s| codes.contains(&s.code)).map(|s| s.actual).sum();
            (!actual_total.is_zero() && !codes.is_empty())
                .then(|| (part.decimal() * Decimal::from(100) / actual_total.decimal()).round_dp(1))
        };
        let new_year_eve = Date::from_calendar_date(year, Month::December, 31).expect("31 December exists");
        let mut under_contract: Vec<i64> =
            contracts.iter().filter(|c| c.terms.period.covers(new_year_eve)).map(|c| c.provider_id).collect();
        under_contract.sort_unstable();
        under_contract.dedup();
        let with_mark = under_contract
            .iter()
            .filter(|p| decisions.get(p).is_some_and(|d| holds_valid_mark(d, new_year_eve)))
            .count();
        let plans_approved = plans
            .iter()
            .filter(|p| p.status == PlanStatus::Approved && p.decided_on.is_some_and(|d| d.year() == year))
            .count() as u32;
        let day = new_year_eve.min(today);
        let overdue_actions = open_actions.iter().filter(|a| is_overdue(a.status, a.due_date, day)).count() as u32;
        let contract_attendance: Vec<ContractNorm> =
            attendance.iter().filter(|h| h.year == year).map(ContractNorm::from).collect();
        let reporting = contract_attendance.iter().filter(|c| c.against.offered.x100() > 0);
        let mut provider_norms: Vec<ProviderNorms> =
            outcomes.iter().filter(|(y, p)| *y == year && p.counts.total() > 0).map(|(_, p)| p.clone()).collect();
        provider_norms.sort_by(|a, b| a.provider.cmp(&b.provider));
        let mut norm_results = NormCounts::default();
        for p in &provider_norms {
            norm_results.met += p.counts.met;
            norm_results.near += p.counts.near;
            norm_results.failed += p.counts.failed;
        }
        out.push(YearIndicators {
            contracts_reporting: reporting.clone().count() as u32,
            contracts_meeting_norm: reporting.clone().filter(|c| c.against.meets()).count() as u32,
            contracts_below_norm: reporting.filter(|c| c.against.below()).count() as u32,
            contract_attendance,
            providers_failing_norm: provider_norms.iter().filter(|p| p.counts.failed > 0).count() as u32,
            norm_results,
            provider_norms,
            plans_approved,
            overdue_actions,
            year,
            inflow,
            expectations,
            routes: by_route.into_iter().map(|(route, line)| RouteYear { route, line }).collect(),
            spend_per_start: total
                .reported_starts()
                .filter(|n| *n > 0)
                .map(|n| Money::from_decimal(actual_total.decimal() / Decimal::from(n))),
            total,
            starts_by_cohort,
            streams: report.streams.iter().map(StreamMoney::from).collect(),
            actual_total,
            waiting_share: share(&waiting_codes),
            elip_share: share(&elip_codes),
            providers_under_contract: under_contract.len() as u32,
            providers_with_mark: with_mark as u32,
        });
    }
    Ok(Indicators { scenario: chosen.map(|s| (s.id, s.name.clone())), years: out })
}

/// The indicators of one year alone (for the letter): `for_years` with that year.
pub async fn for_year(db: &Db, year: i32, scenario: Option<i64>, today: Date) -> sqlx::Result<YearIndicators> {
    Ok(for_years(db, &[year], scenario, today, None).await?.years.remove(0))
}
