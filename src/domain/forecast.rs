//! Forecasts (prognoses) from inflow scenarios: expected newcomers per year and group, their route mix and
//! dropout, priced with the contracts' tariffs (indexed beyond the known ones) and spread over the years
//! through the payment milestones. Pure arithmetic; every amount is exact to the cent.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::contract::{split_tariff, Due, Milestone};
use super::dates;
use super::fixed::{Fixed, Quantity};
use super::route::Route;
use super::validation::{self, FieldErrors};
use crate::money::Money;

/// The routes a scenario divides its inflow over.
pub const FORECAST_ROUTES: [Route; 3] = [Route::B1, Route::Z, Route::Education];

/// Newcomer groups the inflow figures are given for (DOMAIN: asylum migrants; family and other migrants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InflowGroup {
    Asylum,
    Family,
}

impl InflowGroup {
    pub const ALL: [InflowGroup; 2] = [InflowGroup::Asylum, InflowGroup::Family];

    pub fn code(self) -> &'static str {
        match self {
            InflowGroup::Asylum => "asylum",
            InflowGroup::Family => "family",
        }
    }

    /// Accepts the code and the Dutch words a person types.
    pub fn parse(text: &str) -> Option<InflowGroup> {
        match text.trim().to_lowercase().as_str() {
            "asylum" | "asiel" | "asielmigranten" => Some(InflowGroup::Asylum),
            "family" | "gezin" | "gezinsmigranten" | "gezin en overig" => Some(InflowGroup::Family),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InflowGroup::Asylum => "Asielmigranten",
            InflowGroup::Family => "Gezins- en overige migranten",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            InflowGroup::Asylum => "asiel",
            InflowGroup::Family => "gezin",
        }
    }
}

/// Which of the three inflow figures a forecast uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    Low,
    Expected,
    High,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Low, Variant::Expected, Variant::High];

    pub fn code(self) -> &'static str {
        match self {
            Variant::Low => "laag",
            Variant::Expected => "verwacht",
            Variant::High => "hoog",
        }
    }

    pub fn parse(text: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.code() == text.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Variant::Low => "laag",
            Variant::Expected => "verwacht",
            Variant::High => "hoog",
        }
    }
}

/// A percentage in hundredths of a percent (40,5% is 4050), 0 to 100%.
pub type BasisPoints = Fixed;

/// A percentage of a scenario: 0 to 100 inclusive.
pub(crate) const PERCENT: Quantity = Quantity {
    noun: "percentage",
    percent: true,
    min: Some(Fixed::ZERO),
    max: Some(Fixed::whole(100)),
    min_exclusive: false,
    negative: Some("Een percentage kan niet negatief zijn ('{}')."),
    out_of_range: "Een percentage ligt tussen 0 en 100; '{}' niet.",
};

/// Expected inflow of one group in one year and what happens to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InflowLine {
    pub year: i32,
    pub group: InflowGroup,
    pub low: i64,
    pub expected: i64,
    pub high: i64,
    /// Route mix: B1, Z, education; sums to 10000.
    pub share_b1: BasisPoints,
    pub share_z: BasisPoints,
    pub share_education: BasisPoints,
    /// Share of participants who drop out after the start (they cause only the milestones due at the start).
    pub dropout: BasisPoints,
}

impl InflowLine {
    pub fn inflow(&self, variant: Variant) -> i64 {
        match variant {
            Variant::Low => self.low,
            Variant::Expected => self.expected,
            Variant::High => self.high,
        }
    }

    pub fn share(&self, route: Route) -> BasisPoints {
        match route {
            Route::B1 => self.share_b1,
            Route::Z => self.share_z,
            Route::Education => self.share_education,
            _ => Fixed::ZERO,
        }
    }
}

/// A named scenario with its assumptions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Yearly tariff indexation beyond the last known tariff.
    pub tariff_index: BasisPoints,
    pub duration_b1_months: u32,
    pub duration_z_months: u32,
    pub duration_education_months: u32,
    pub lines: Vec<InflowLine>,
}

impl Scenario {
    pub fn duration_months(&self, route: Route) -> u32 {
        match route {
            Route::Z => self.duration_z_months,
            Route::Education => self.duration_education_months,
            _ => self.duration_b1_months,
        }
    }
}

/// Parses a percentage "40", "12,5" or "12.5%" (0 to 100, at most two decimals) into basis points.
pub fn parse_percent(text: &str) -> Result<BasisPoints, String> {
    Fixed::parse(text, &PERCENT)
}

/// The editable fields of a scenario, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScenarioForm {
    pub name: String,
    pub description: String,
    pub tariff_index: String,
    pub duration_b1: String,
    pub duration_z: String,
    pub duration_education: String,
    /// One line per year and group: `jaar; groep; laag; verwacht; hoog; % B1; % Z; % onderwijs; % uitval`.
    pub inflow: String,
    pub version: Option<i64>,
}

/// The format of one inflow line, for hints and error messages.
pub const INFLOW_FORMAT: &str =
    "jaar; groep (asiel of gezin); instroom laag; verwacht; hoog; % B1; % Z; % onderwijs; % uitval";

/// Parses the inflow text: every problem names the line it is on.
pub fn parse_inflow(text: &str) -> Result<Vec<InflowLine>, String> {
    let mut out: Vec<InflowLine> = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split([';', '\t']).map(str::trim).collect();
        if parts.len() != 9 {
            problems.push(format!("Regel {n}: verwacht 9 waarden ({INFLOW_FORMAT}), gevonden {}.", parts.len()));
            continue;
        }
        let year = match parts[0].parse::<i32>() {
            Ok(y) if (2000..=2100).contains(&y) => y,
            _ => {
                problems.push(format!("Regel {n}: '{}' is geen jaartal tussen 2000 en 2100.", parts[0]));
                continue;
            }
        };
        let Some(group) = InflowGroup::parse(parts[1]) else {
            problems.push(format!("Regel {n}: onbekende groep '{}'; kies asiel of gezin.", parts[1]));
            continue;
        };
        let mut counts = [0i64; 3];
        let mut bad = false;
        for (k, label) in ["laag", "verwacht", "hoog"].iter().enumerate() {
            match parts[2 + k].parse::<i64>() {
                Ok(v) if v < 0 => {
                    problems.push(format!("Regel {n}: de instroom ({label}) kan niet negatief zijn ({v})."));
                    bad = true;
                }
                Ok(v) if v > 1_000_000 => {
                    problems.push(format!("Regel {n}: de instroom ({label}) van {v} is onwaarschijnlijk groot."));
                    bad = true;
                }
                Ok(v) => counts[k] = v,
                Err(_) => {
                    problems.push(format!("Regel {n}: de instroom ({label}) '{}' is geen heel getal.", parts[2 + k]));
                    bad = true;
                }
            }
        }
        let mut pct = [Fixed::ZERO; 4];
        for (k, label) in ["% B1", "% Z", "% onderwijs", "% uitval"].iter().enumerate() {
            match parse_percent(parts[5 + k]) {
                Ok(v) => pct[k] = v,
                Err(e) => {
                    problems.push(format!("Regel {n} ({label}): {e}"));
                    bad = true;
                }
            }
        }
        if bad {
            continue;
        }
        if !(counts[0] <= counts[1] && counts[1] <= counts[2]) {
            problems.push(format!(
                "Regel {n}: laag ({}) ≤ verwacht ({}) ≤ hoog ({}) klopt niet.",
                counts[0], counts[1], counts[2]
            ));
            continue;
        }
        let sum = pct[0] + pct[1] + pct[2];
        if sum != Fixed::whole(100) {
            problems.push(format!(
                "Regel {n} ({year}, {}): de routeverdeling telt op tot {}; dat moet precies 100% zijn.",
                group.short(),
                sum.dutch_percent()
            ));
            continue;
        }
        if out.iter().any(|l| l.year == year && l.group == group) {
            problems.push(format!("Regel {n}: {year} {} staat er al eerder in.", group.short()));
            continue;
        }
        out.push(InflowLine {
            year,
            group,
            low: counts[0],
            expected: counts[1],
            high: counts[2],
            share_b1: pct[0],
            share_z: pct[1],
            share_education: pct[2],
            dropout: pct[3],
        });
    }
    if !problems.is_empty() {
        return Err(problems.join(" "));
    }
    out.sort_by_key(|l| (l.year, l.group));
    Ok(out)
}

/// The inflow lines as the form shows them.
pub fn inflow_text(lines: &[InflowLine]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "{}; {}; {}; {}; {}; {}; {}; {}; {}",
                l.year,
                l.group.short(),
                l.low,
                l.expected,
                l.high,
                l.share_b1.dutch(),
                l.share_z.dutch(),
                l.share_education.dutch(),
                l.dropout.dutch()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn months(errors: &mut FieldErrors, field: &'static str, label: &str, value: &str) -> u32 {
    match value.trim().parse::<u32>() {
        Ok(m) if (1..=120).contains(&m) => m,
        _ => {
            errors.add(field, format!("{label}: geef een aantal maanden van 1 tot en met 120."));
            0
        }
    }
}

/// Checks a scenario form; nothing may be saved unless this returns Ok.
pub fn validate_scenario(form: &ScenarioForm) -> Result<Scenario, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = validation::text(&mut errors, "name", "Naam", &form.name, 100, true);
    let description = validation::text(&mut errors, "description", "Toelichting", &form.description, 2000, false);
    let tariff_index = match parse_percent(&form.tariff_index) {
        Ok(v) => v,
        Err(e) => {
            errors.add("tariff_index", format!("Indexatie: {e}"));
            Fixed::ZERO
        }
    };
    let b1 = months(&mut errors, "duration_b1", "Duur B1-route", &form.duration_b1);
    let z = months(&mut errors, "duration_z", "Duur Z-route", &form.duration_z);
    let edu = months(&mut errors, "duration_education", "Duur onderwijsroute", &form.duration_education);
    let lines = match parse_inflow(&form.inflow) {
        Ok(l) if l.is_empty() => {
            errors.add("inflow", "Geef minstens één regel met verwachte instroom.");
            vec![]
        }
        Ok(l) => l,
        Err(e) => {
            errors.add("inflow", e);
            vec![]
        }
    };
    errors.into_result(Scenario {
        id: 0,
        name,
        description,
        tariff_index,
        duration_b1_months: b1,
        duration_z_months: z,
        duration_education_months: edu,
        lines,
    })
}

/// A year range for an overview: at most 15 years, not reversed.
pub fn validate_years(from: i32, to: i32) -> Result<std::ops::RangeInclusive<i32>, String> {
    if !(2000..=2100).contains(&from) || !(2000..=2100).contains(&to) {
        return Err(format!("Kies jaren tussen 2000 en 2100 (nu {from} tot en met {to})."));
    }
    if to < from {
        return Err(format!("Het eindjaar {to} ligt vóór het beginjaar {from}; draai ze om."));
    }
    if to - from + 1 > 15 {
        return Err(format!(
            "Een overzicht beslaat hoogstens 15 jaar; {from} tot en met {to} is {} jaar.",
            to - from + 1
        ));
    }
    Ok(from..=to)
}

/// What the contracts say about a route: the tariff known for starts in a year, and the payment milestones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePricing {
    pub known_tariffs: BTreeMap<i32, Money>,
    pub milestones: Vec<Milestone>,
}

/// The tariff for starts in `year`: the known tariff of that year; after the last known year, the last one
/// indexed by `index` per year (rounded to the cent each year, half away from zero, as a new tariff would
/// be published); before the first known year, the first one.
pub fn tariff_for_year(known: &BTreeMap<i32, Money>, index: BasisPoints, year: i32) -> Option<Money> {
    if let Some(t) = known.get(&year) {
        return Some(*t);
    }
    let (&last_year, &last) = known.range(..year).next_back().or_else(|| known.iter().next())?;
    if last_year > year {
        return Some(last);
    }
    let factor = Decimal::ONE + index.per_hundred();
    let mut t = last;
    for _ in last_year..year {
        t = Money::from_decimal(t.decimal() * factor);
    }
    Some(t)
}

/// The assumed start date of a cohort: the middle of its year (starts are spread over the year).
pub fn assumed_start(year: i32) -> Date {
    Date::from_calendar_date(year, Month::July, 1).expect("1 July exists")
}

/// A forecast amount by payment year, inflow year, group and route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Forecast {
    /// (payment year, inflow year, group, route) -> amount
    pub amounts: BTreeMap<(i32, i32, InflowGroup, Route), Money>,
    /// Routes with inflow but no tariff or milestones in any contract (not priced).
    pub unpriced: Vec<Route>,
    /// Per inflow year: the scenario's inflow, how many are placed already, and how many the forecast counts.
    pub counted: Vec<InflowCounted>,
}

/// How much of a year's inflow the forecast counts: what is placed already is a commitment, not a forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InflowCounted {
    pub year: i32,
    /// The scenario's inflow for the variant, both groups together.
    pub inflow: i64,
    /// Placements (Wet inburgering 2021) with a start date in the year.
    pub placed: i64,
    /// inflow - placed, never below zero.
    pub counted: i64,
}

impl Forecast {
    pub fn by_payment_year(&self) -> BTreeMap<i32, Money> {
        let mut out: BTreeMap<i32, Money> = BTreeMap::new();
        for (&(y, _, _, _), &m) in &self.amounts {
            *out.entry(y).or_default() += m;
        }
        out
    }

    pub fn by_year_and_route(&self) -> BTreeMap<(i32, Route), Money> {
        let mut out: BTreeMap<(i32, Route), Money> = BTreeMap::new();
        for (&(y, _, _, r), &m) in &self.amounts {
            *out.entry((y, r)).or_default() += m;
        }
        out
    }

    pub fn total(&self) -> Money {
        self.amounts.values().copied().sum()
    }
}

/// The forecast of a scenario for inflow years from `from_year` on (earlier inflow is already placed and
/// counts as commitments). Within those years, too, whoever is placed already counts as a commitment: the
/// forecast counts only the inflow not yet placed, inflow - `placed` of the year (never below zero), every line of
/// the year reduced in the same proportion. Per line and route: participants = inflow x route share (fractions
/// kept exact); each milestone pays its part of the tariff (split as for a placement) for every participant,
/// except that milestones after the start are paid only for those who do not drop out. Each (line, route,
/// milestone) amount is rounded to the cent.
pub fn forecast(
    scenario: &Scenario,
    pricing: &BTreeMap<Route, RoutePricing>,
    variant: Variant,
    from_year: i32,
    placed: &BTreeMap<i32, i64>,
) -> Forecast {
    let mut out = Forecast::default();
    let mut per_year: BTreeMap<i32, i64> = BTreeMap::new();
    for line in scenario.lines.iter().filter(|l| l.year >= from_year) {
        *per_year.entry(line.year).or_default() += line.inflow(variant);
    }
    let mut share_counted: BTreeMap<i32, Decimal> = BTreeMap::new();
    for (&year, &inflow) in &per_year {
        let already = placed.get(&year).copied().unwrap_or_default();
        let counted = (inflow - already).max(0);
        out.counted.push(InflowCounted { year, inflow, placed: already, counted });
        let share = if inflow == 0 { Decimal::ZERO } else { Decimal::from(counted) / Decimal::from(inflow) };
        share_counted.insert(year, share);
    }
    for line in scenario.lines.iter().filter(|l| l.year >= from_year) {
        let inflow = Decimal::from(line.inflow(variant)) * share_counted[&line.year];
        let staying = Decimal::ONE - line.dropout.per_hundred();
        for route in FORECAST_ROUTES {
            let share = line.share(route);
            if share == Fixed::ZERO || inflow.is_zero() {
                continue;
            }
            let participants = inflow * share.per_hundred();
            let priced = pricing.get(&route).filter(|p| !p.milestones.is_empty()).and_then(|p| {
                tariff_for_year(&p.known_tariffs, scenario.tariff_index, line.year).map(|t| (t, &p.milestones))
            });
            let Some((tariff, milestones)) = priced else {
                if !out.unpriced.contains(&route) {
                    out.unpriced.push(route);
                }
                continue;
            };
            let start = assumed_start(line.year);
            for (m, part) in milestones.iter().zip(split_tariff(tariff, milestones)) {
                let (due, paying) = match m.due {
                    Due::AtStart => (start, participants),
                    Due::MonthsAfterStart(n) => (dates::add_months(start, n as i32), participants * staying),
                    Due::AtCompletion => {
                        (dates::add_months(start, scenario.duration_months(route) as i32), participants * staying)
                    }
                };
                let amount = Money::from_decimal(paying * part.decimal());
                *out.amounts.entry((due.year(), line.year, line.group, route)).or_default() += amount;
            }
        }
    }
    out.unpriced.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contract::Share;

    fn m(cents: i64) -> Money {
        Money::from_cents(cents)
    }

    fn milestones() -> Vec<Milestone> {
        vec![
            Milestone { name: "Start".into(), share: Share::parse("40").unwrap(), due: Due::AtStart },
            Milestone {
                name: "Tussentijds".into(),
                share: Share::parse("30").unwrap(),
                due: Due::MonthsAfterStart(12),
            },
            Milestone { name: "Afronding".into(), share: Share::parse("30").unwrap(), due: Due::AtCompletion },
        ]
    }

    fn scenario(lines: Vec<InflowLine>) -> Scenario {
        Scenario {
            id: 1,
            name: "Basis".into(),
            description: String::new(),
            tariff_index: Fixed::from_hundredths(300),
            duration_b1_months: 30,
            duration_z_months: 18,
            duration_education_months: 36,
            lines,
        }
    }

    fn line(year: i32, expected: i64, b1: i64, z: i64, edu: i64, dropout: i64) -> InflowLine {
        InflowLine {
            year,
            group: InflowGroup::Asylum,
            low: expected / 2,
            expected,
            high: expected * 2,
            share_b1: Fixed::from_hundredths(b1),
            share_z: Fixed::from_hundredths(z),
            share_education: Fixed::from_hundredths(edu),
            dropout: Fixed::from_hundredths(dropout),
        }
    }

    #[test]
    fn known_tariffs_are_used_and_later_years_are_indexed_and_rounded_each_year() {
        let known = BTreeMap::from([(2023, m(1_000_000)), (2024, m(1_030_000))]);
        assert_eq!(tariff_for_year(&known, Fixed::from_hundredths(250), 2023), Some(m(1_000_000)));
        assert_eq!(
            tariff_for_year(&known, Fixed::from_hundredths(250), 2022),
            Some(m(1_000_000)),
            "before the first: the first"
        );
        // 10,300.00 x 1.025 = 10,557.50; x 1.025 = 10,821.4375 -> 10,821.44
        assert_eq!(tariff_for_year(&known, Fixed::from_hundredths(250), 2025), Some(m(1_055_750)));
        assert_eq!(tariff_for_year(&known, Fixed::from_hundredths(250), 2026), Some(m(1_082_144)));
        // 10,000.01 x 1.005 = 10,050.01005 -> 10,050.01
        assert_eq!(
            tariff_for_year(&BTreeMap::from([(2020, m(1_000_001))]), Fixed::from_hundredths(50), 2021),
            Some(m(1_005_001))
        );
        assert_eq!(tariff_for_year(&BTreeMap::new(), Fixed::from_hundredths(250), 2025), None);
    }

    #[test]
    fn a_cohort_is_spread_over_the_years_through_the_milestones_with_dropout() {
        // 2026 inflow 10, 60% B1 and 40% Z, 20% dropout; tariff B1 10,000 (2026), Z 8,000 (2026).
        // B1: 6 participants, start 01-07-2026: 40% = 4,000 x 6 = 24,000 in 2026;
        //     tussentijds 01-07-2027: 3,000 x 6 x 0.8 = 14,400 in 2027; completion 30 months: 01-01-2029: 14,400.
        // Z:  4 participants: start 3,200 x 4 = 12,800 (2026); 12 months: 2,400 x 3.2 = 7,680 (2027);
        //     completion 18 months 01-01-2028: 7,680 (2028).
        let pricing = BTreeMap::from([
            (
                Route::B1,
                RoutePricing { known_tariffs: BTreeMap::from([(2026, m(1_000_000))]), milestones: milestones() },
            ),
            (Route::Z, RoutePricing { known_tariffs: BTreeMap::from([(2026, m(800_000))]), milestones: milestones() }),
        ]);
        let f =
            forecast(&scenario(vec![line(2026, 10, 6000, 4000, 0, 2000)]), &pricing, Variant::Expected, 2026, &none());
        assert_eq!(
            f.by_payment_year(),
            BTreeMap::from([
                (2026, m(2_400_000 + 1_280_000)),
                (2027, m(1_440_000 + 768_000)),
                (2028, m(768_000)),
                (2029, m(1_440_000)),
            ])
        );
        assert_eq!(f.total(), m(8_096_000));
        assert!(f.unpriced.is_empty());
    }

    #[test]
    fn fractions_of_participants_and_indexed_tariffs_round_to_the_cent_per_milestone() {
        // Inflow 7 x 33.33% B1 = 2.3331 participants; tariff 2027 = 10,000.00 x 1.03 = 10,300.00.
        // Start 40% = 4,120.00 x 2.3331 = 9,612.372 -> 9,612.37 (2027).
        // Tussentijds 30% = 3,090.00 x 2.3331 x 0.85 = 6,127.88715 -> 6,127.89, on 01-07-2028.
        // Afronding: the remainder 3,090.00 -> 6,127.89 too, 30 months after 01-07-2027 = 01-01-2030.
        let pricing = BTreeMap::from([(
            Route::B1,
            RoutePricing { known_tariffs: BTreeMap::from([(2026, m(1_000_000))]), milestones: milestones() },
        )]);
        let mut l = line(2027, 7, 3333, 3334, 3333, 1500);
        l.group = InflowGroup::Family;
        let f = forecast(&scenario(vec![l]), &pricing, Variant::Expected, 2026, &none());
        assert_eq!(f.amounts[&(2027, 2027, InflowGroup::Family, Route::B1)], m(961_237));
        assert_eq!(f.amounts[&(2028, 2027, InflowGroup::Family, Route::B1)], m(612_789));
        assert_eq!(f.amounts[&(2030, 2027, InflowGroup::Family, Route::B1)], m(612_789));
        assert_eq!(f.unpriced, vec![Route::Z, Route::Education], "no contract prices Z or education here");
    }

    #[test]
    fn the_variant_picks_the_inflow_and_earlier_inflow_years_are_left_out() {
        let pricing = BTreeMap::from([(
            Route::B1,
            RoutePricing {
                known_tariffs: BTreeMap::from([(2025, m(100_000))]),
                milestones: vec![Milestone { name: "Start".into(), share: Share::WHOLE, due: Due::AtStart }],
            },
        )]);
        let s = scenario(vec![line(2025, 10, 10_000, 0, 0, 0), line(2026, 10, 10_000, 0, 0, 0)]);
        // 2026: 1,000.00 x 1.03 = 1,030.00 per participant.
        assert_eq!(forecast(&s, &pricing, Variant::Expected, 2026, &none()).total(), m(1_030_000));
        assert_eq!(forecast(&s, &pricing, Variant::Low, 2026, &none()).total(), m(515_000));
        assert_eq!(forecast(&s, &pricing, Variant::High, 2026, &none()).total(), m(2_060_000));
        assert_eq!(forecast(&s, &pricing, Variant::Expected, 2025, &none()).total(), m(1_000_000 + 1_030_000));
    }

    #[test]
    fn inflow_already_placed_counts_as_a_commitment_not_again_as_a_forecast() {
        let pricing = BTreeMap::from([(
            Route::B1,
            RoutePricing {
                known_tariffs: BTreeMap::from([(2026, m(100_000))]),
                milestones: vec![Milestone { name: "Start".into(), share: Share::WHOLE, due: Due::AtStart }],
            },
        )]);
        // 2026: asylum 10 and family 6 expected (16), 4 placed already: 12 counted, each line x 12/16 = 0.75:
        // asylum 7.5 x 1,000.00 = 7,500.00, family 4.5 x 1,000.00 = 4,500.00. 2027: 8 expected, 9 placed: none.
        let mut family = line(2026, 6, 10_000, 0, 0, 0);
        family.group = InflowGroup::Family;
        let s = scenario(vec![line(2026, 10, 10_000, 0, 0, 0), family, line(2027, 8, 10_000, 0, 0, 0)]);
        let placed = BTreeMap::from([(2025, 50), (2026, 4), (2027, 9)]);
        let f = forecast(&s, &pricing, Variant::Expected, 2026, &placed);
        assert_eq!(f.amounts[&(2026, 2026, InflowGroup::Asylum, Route::B1)], m(750_000));
        assert_eq!(f.amounts[&(2026, 2026, InflowGroup::Family, Route::B1)], m(450_000));
        assert_eq!(f.total(), m(1_200_000));
        assert_eq!(
            f.counted,
            [
                InflowCounted { year: 2026, inflow: 16, placed: 4, counted: 12 },
                InflowCounted { year: 2027, inflow: 8, placed: 9, counted: 0 }
            ]
        );
    }

    fn none() -> BTreeMap<i32, i64> {
        BTreeMap::new()
    }

    fn form(inflow: &str) -> ScenarioForm {
        ScenarioForm {
            name: "Basis".into(),
            tariff_index: "2,5".into(),
            duration_b1: "30".into(),
            duration_z: "18".into(),
            duration_education: "36".into(),
            inflow: inflow.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_scenario_parses_with_dutch_decimals() {
        let s = validate_scenario(&form(
            "2022; asiel; 250; 300; 350; 45; 40; 15; 12,5\n2022; gezin; 375; 460; 550; 50; 30; 20; 10",
        ))
        .unwrap();
        assert_eq!(s.tariff_index, Fixed::from_hundredths(250));
        assert_eq!(s.lines.len(), 2);
        assert_eq!(
            (s.lines[0].group, s.lines[0].expected, s.lines[0].dropout),
            (InflowGroup::Asylum, 300, Fixed::from_hundredths(1250))
        );
        assert_eq!(parse_inflow(&inflow_text(&s.lines)).unwrap(), s.lines, "the form text reads back the same");
    }

    #[test]
    fn bad_scenarios_are_refused_in_dutch_naming_the_line() {
        let e = validate_scenario(&form("2022; asiel; 250; 300; 350; 45; 40; 10; 12")).unwrap_err();
        assert_eq!(
            e.get("inflow"),
            Some("Regel 1 (2022, asiel): de routeverdeling telt op tot 95%; dat moet precies 100% zijn.")
        );
        let e = validate_scenario(&form("2022; gezin; -5; 300; 350; 45; 40; 15; 12")).unwrap_err();
        assert_eq!(e.get("inflow"), Some("Regel 1: de instroom (laag) kan niet negatief zijn (-5)."));
        let e = validate_scenario(&form("")).unwrap_err();
        assert!(e.get("inflow").unwrap().contains("minstens één regel"));
        let mut f = form("2022; gezin; 5; 6; 7; 100; 0; 0; 0");
        f.name = " ".into();
        f.duration_z = "0".into();
        let e = validate_scenario(&f).unwrap_err();
        assert_eq!(e.get("name"), Some("Naam is verplicht."));
        assert!(e.get("duration_z").is_some());
    }

    #[test]
    fn year_ranges_are_at_most_fifteen_years_and_not_reversed() {
        assert_eq!(validate_years(2022, 2036), Ok(2022..=2036));
        assert_eq!(
            validate_years(2022, 2037).unwrap_err(),
            "Een overzicht beslaat hoogstens 15 jaar; 2022 tot en met 2037 is 16 jaar."
        );
        assert_eq!(
            validate_years(2026, 2022).unwrap_err(),
            "Het eindjaar 2022 ligt vóór het beginjaar 2026; draai ze om."
        );
    }
}
