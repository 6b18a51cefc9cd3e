//! Funding streams (financieringsbronnen), their allocations per year, budget lines, and what is
//! available in a year: final settlements replace advances, corrections add, and underspend may carry over.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::route::Cohort;
use crate::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    /// Specific grant (SPUK inburgering).
    SpecificGrant,
    /// Payment through the municipality fund (e.g. 'En ondertussen', ELIP decentralisation payment).
    MunicipalityFund,
    OwnFunds,
    Other,
}

impl StreamKind {
    pub const ALL: [StreamKind; 4] =
        [StreamKind::SpecificGrant, StreamKind::MunicipalityFund, StreamKind::OwnFunds, StreamKind::Other];

    pub fn code(self) -> &'static str {
        match self {
            StreamKind::SpecificGrant => "specific_grant",
            StreamKind::MunicipalityFund => "municipality_fund",
            StreamKind::OwnFunds => "own_funds",
            StreamKind::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<StreamKind> {
        StreamKind::ALL.into_iter().find(|k| k.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            StreamKind::SpecificGrant => "Specifieke uitkering (SPUK)",
            StreamKind::MunicipalityFund => "Gemeentefonds (decentralisatie-uitkering)",
            StreamKind::OwnFunds => "Eigen middelen",
            StreamKind::Other => "Overig",
        }
    }

    /// Whether a new stream of this kind lets its underspend carry over to the next year, unless the user
    /// chooses otherwise. Only money through the municipality fund does: it is the municipality's own to account
    /// for (nothing is reclaimed), and what is left is put in a reserve for the same purpose and spent the next year
    /// (DOMAIN: "what was spent and what remains, reserve or result"). The SPUK is fixed per year on that year's
    /// head count and accounted for per year, so an underspend is settled, not spent next year; own funds follow
    /// the yearly budget, and moving money to next year is a council decision, not a default; for other money (a
    /// one-off grant) the conditions are unknown, and counting money as available that may have to go back is the
    /// worse mistake.
    pub fn carries_over_by_default(self) -> bool {
        match self {
            StreamKind::MunicipalityFund => true,
            StreamKind::SpecificGrant | StreamKind::OwnFunds | StreamKind::Other => false,
        }
    }

    /// Why this kind does or does not carry over by default, in plain Dutch, for the stream form.
    pub fn carry_over_reason(self) -> &'static str {
        match self {
            StreamKind::SpecificGrant => {
                "nee: de SPUK wordt per jaar vastgesteld op het aantal inburgeraars en per jaar verantwoord; wat over is wordt verrekend"
            }
            StreamKind::MunicipalityFund => {
                "ja: het geld is van de gemeente zelf; wat over is gaat naar een reserve voor hetzelfde doel en wordt het jaar erna besteed"
            }
            StreamKind::OwnFunds => {
                "nee: de begroting geldt per jaar; geld doorschuiven naar volgend jaar is een besluit van de raad"
            }
            StreamKind::Other => {
                "nee: bij onbekende voorwaarden (zoals een eenmalige subsidie) telt geen geld mee dat misschien terug moet"
            }
        }
    }
}

/// The carry-over choice on the stream form: as usual for the stream's kind, yes or no.
pub const CARRY_OVER_CHOICES: [(&str, &str); 3] = [
    ("soort", "Zoals gebruikelijk bij de soort bron"),
    ("ja", "Ja: wat over is telt mee in ‘beschikbaar’ van het volgende jaar"),
    ("nee", "Nee: wat over is vervalt aan het eind van het jaar"),
];

/// The form's carry-over choice for a stream of `kind`: "soort" or nothing takes the kind's default; "ja" (or "on",
/// what the old checkbox sent) and "nee" are the user's own choice.
pub fn carry_over_choice(choice: Option<&str>, kind: StreamKind) -> Result<bool, &'static str> {
    match choice.map(str::trim).unwrap_or_default() {
        "" | "soort" => Ok(kind.carries_over_by_default()),
        "ja" | "on" => Ok(true),
        "nee" | "off" => Ok(false),
        _ => Err("Kies ja, nee of ‘zoals gebruikelijk bij de soort bron’."),
    }
}

/// A year's remainder and what it would do to the next year's ‘available’, to explain carrying over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CarryOverExample {
    pub year: i32,
    /// What is left at the end of `year` (above zero).
    pub left: Money,
    /// Granted for the next year.
    pub next_granted: Money,
}

impl CarryOverExample {
    /// The latest year up to `this_year` with money left, from a stream's figures as it is set now (`figures` in
    /// year order); None when no year has anything left.
    pub fn from_figures(figures: &[YearFigures], granted: &BTreeMap<i32, Granted>, this_year: i32) -> Option<Self> {
        let f = figures.iter().rev().find(|f| f.year <= this_year && f.remaining > Money::ZERO)?;
        let next_granted = granted.get(&(f.year + 1)).map(Granted::amount).unwrap_or_default();
        Some(CarryOverExample { year: f.year, left: f.remaining, next_granted })
    }

    /// What carrying over does to ‘available’, in plain Dutch, with this example, or with round numbers when the
    /// stream has none of its own.
    pub fn explain(example: Option<&CarryOverExample>) -> String {
        let rule = "Meenemen betekent: wat aan het eind van een jaar over is (beschikbaar − realisatie − \
                    verplichtingen, als dat meer dan nul is) telt op bij ‘beschikbaar’ in het volgende jaar. Zonder \
                    meenemen begint elk jaar bij de toekenning van dat jaar en vervalt wat over is.";
        match example {
            Some(e) => format!(
                "{rule} Met de cijfers van deze bron: eind {} is {} over. Met meenemen is ‘beschikbaar’ in {} {} \
                 toegekend + {} = {}; zonder meenemen {}.",
                e.year,
                e.left,
                e.year + 1,
                e.next_granted,
                e.left,
                e.next_granted + e.left,
                e.next_granted
            ),
            None => {
                let (granted, spent) = (Money::from_cents(10_000_000), Money::from_cents(8_000_000));
                format!(
                    "{rule} Bijvoorbeeld: elk jaar {granted} toegekend en in het eerste jaar {spent} besteed. Met \
                     meenemen is ‘beschikbaar’ in het tweede jaar {granted} + {} = {}; zonder meenemen {granted}.",
                    granted - spent,
                    granted + granted - spent
                )
            }
        }
    }
}

/// A source of money that must be accounted for separately.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FundingStream {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: StreamKind,
    /// Cohorts this money may pay for; empty means any.
    pub cohorts: Vec<Cohort>,
    /// Spend must be booked within this period.
    pub spend_from: Date,
    pub spend_until: Option<Date>,
    /// Whether underspend of a year may be used the next year.
    pub carry_over: bool,
    pub notes: String,
}

impl FundingStream {
    pub fn allows_cohort(&self, cohort: Cohort) -> bool {
        self.cohorts.is_empty() || self.cohorts.contains(&cohort)
    }

    pub fn in_spending_period(&self, day: Date) -> bool {
        self.spend_from <= day && self.spend_until.is_none_or(|u| day <= u)
    }

    /// Whether `year` lies (partly) within the spending period.
    pub fn covers_year(&self, year: i32) -> bool {
        self.spend_from.year() <= year && self.spend_until.is_none_or(|u| year <= u.year())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationKind {
    /// Provisional amount (e.g. the SPUK advance paid in monthly twelfths).
    Advance,
    /// The definitive amount for the year; replaces the advances.
    FinalSettlement,
    /// A change on top (e.g. a later circular).
    Correction,
}

impl AllocationKind {
    pub const ALL: [AllocationKind; 3] =
        [AllocationKind::Advance, AllocationKind::FinalSettlement, AllocationKind::Correction];

    pub fn code(self) -> &'static str {
        match self {
            AllocationKind::Advance => "advance",
            AllocationKind::FinalSettlement => "final_settlement",
            AllocationKind::Correction => "correction",
        }
    }

    pub fn parse(code: &str) -> Option<AllocationKind> {
        AllocationKind::ALL.into_iter().find(|k| k.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            AllocationKind::Advance => "Voorschot",
            AllocationKind::FinalSettlement => "Vaststelling",
            AllocationKind::Correction => "Correctie",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub id: i64,
    pub stream_id: i64,
    pub year: i32,
    pub kind: AllocationKind,
    pub amount: Money,
    pub reference: String,
    pub date: Date,
}

/// What came in for one stream in one year, and how it was settled.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Granted {
    pub advances: Money,
    pub final_settlement: Option<Money>,
    pub corrections: Money,
}

impl Granted {
    /// Final settlement where fixed, else the advances; corrections on top.
    pub fn amount(&self) -> Money {
        self.final_settlement.unwrap_or(self.advances) + self.corrections
    }

    /// Top-up (positive) or reclaim (negative) once the final settlement is known.
    pub fn settlement_difference(&self) -> Option<Money> {
        self.final_settlement.map(|f| f - self.advances)
    }
}

/// Allocations of one stream, by year.
pub fn granted_by_year(allocations: &[Allocation]) -> BTreeMap<i32, Granted> {
    let mut out: BTreeMap<i32, Granted> = BTreeMap::new();
    for a in allocations {
        let g = out.entry(a.year).or_default();
        match a.kind {
            AllocationKind::Advance => g.advances += a.amount,
            AllocationKind::FinalSettlement => *g.final_settlement.get_or_insert(Money::ZERO) += a.amount,
            AllocationKind::Correction => g.corrections += a.amount,
        }
    }
    out
}

/// One stream's money in one year. remaining = available - actual - committed, always.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct YearFigures {
    pub year: i32,
    pub granted: Money,
    pub carried_over: Money,
    pub available: Money,
    pub actual: Money,
    pub committed: Money,
    pub remaining: Money,
    pub settlement_difference: Option<Money>,
}

/// available(S,Y) = granted(S,Y) + carry-over from Y-1 (the positive remainder of Y-1, when the stream
/// allows it); remaining = available - actual - committed. Computed year by year from the first year with
/// any figure, so a carry-over chains through the years.
pub fn year_figures(
    stream: &FundingStream,
    granted: &BTreeMap<i32, Granted>,
    actual: &BTreeMap<i32, Money>,
    committed: &BTreeMap<i32, Money>,
    years: std::ops::RangeInclusive<i32>,
) -> Vec<YearFigures> {
    let first = [granted.keys().next(), actual.keys().next(), committed.keys().next()]
        .into_iter()
        .flatten()
        .copied()
        .min()
        .unwrap_or(*years.start())
        .min(*years.start());
    let mut out = Vec::new();
    let mut previous_remaining = Money::ZERO;
    for year in first..=*years.end() {
        let g = granted.get(&year).cloned().unwrap_or_default();
        let carried_over =
            if stream.carry_over && !previous_remaining.is_negative() { previous_remaining } else { Money::ZERO };
        let available = g.amount() + carried_over;
        let actual = actual.get(&year).copied().unwrap_or_default();
        let committed = committed.get(&year).copied().unwrap_or_default();
        let remaining = available - actual - committed;
        previous_remaining = remaining;
        if years.contains(&year) {
            out.push(YearFigures {
                year,
                granted: g.amount(),
                carried_over,
                available,
                actual,
                committed,
                remaining,
                settlement_difference: g.settlement_difference(),
            });
        }
    }
    out
}

/// How many months ahead the reconciliation warns that a stream's spending period ends while money is left on it.
/// Six: a placement started in that window still has its start payment (the first milestone) fall due within the
/// period, and there is time to ask the council for a reserve; it is also the distance from the autumn budget
/// report (najaarsnota) to the year's end, when a municipality last adjusts its spending.
pub const PERIOD_END_WARNING_MONTHS: i32 = 6;

/// The day the reconciliation of `year` looks ahead from: today while the year runs (or is still to come), and
/// 31 December for a year that is over, so the signals of a past year do not change with the clock.
pub fn looks_ahead_from(year: i32, today: Date) -> Date {
    if today.year() > year {
        Date::from_calendar_date(year, time::Month::December, 31).unwrap_or(today)
    } else {
        today
    }
}

/// Money left on a stream whose spending period is about to end: the year's remaining (available - actual -
/// committed, when above zero) of `f`, when the stream's last spending day lies from `from` up to and including
/// PERIOD_END_WARNING_MONTHS later, and not before `f`'s year (a period that ended earlier has nothing left to
/// spend in it; spend after it is the `outside_spending_period` signal). Returns the last spending day and the
/// amount.
pub fn left_at_period_end(stream: &FundingStream, f: &YearFigures, from: Date) -> Option<(Date, Money)> {
    let until = stream.spend_until?;
    let soon = from <= until && until <= super::dates::add_months(from, PERIOD_END_WARNING_MONTHS);
    (soon && until.year() >= f.year && f.remaining > Money::ZERO).then_some((until, f.remaining))
}

/// A budget line: stream x category x year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BudgetLine {
    pub id: i64,
    pub stream_id: i64,
    pub category: String,
    pub year: i32,
    pub amount: Money,
}

/// How much the budget lines of a stream-year exceed what is available (None when they fit).
pub fn budget_overrun(lines: &[BudgetLine], available: Money) -> Option<Money> {
    let total: Money = lines.iter().map(|l| l.amount).sum();
    (total > available).then(|| total - available)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_years_that_are_over_can_be_closed() {
        let today = time::macros::date!(2026 - 12 - 06);
        assert_eq!(closable_year("2025", today), Ok(2025));
        assert_eq!(closable_year(" 2000 ", today), Ok(2000));
        let not_over =
            "Jaar 2026 is nog niet voorbij. Een jaar kan pas worden afgesloten na 31 december van dat jaar; \
                        het laatste jaar dat nu kan worden afgesloten is 2025.";
        assert_eq!(closable_year("2026", today).unwrap_err(), not_over);
        assert!(closable_year("2099", today).unwrap_err().starts_with("Jaar 2099 is nog niet voorbij."));
        assert!(closable_year("2147483647", today).unwrap_err().starts_with("Jaar 2147483647 is nog niet voorbij."));
        assert!(closable_year("9223372036854775807", today).unwrap_err().starts_with("Jaar 9223372036854775807 is"));
        assert_eq!(
            closable_year("99999999999999999999", today).unwrap_err(),
            "‘99999999999999999999’ is geen jaartal; kies een jaar zoals 2025."
        );
        assert_eq!(
            closable_year("1999", today).unwrap_err(),
            "Jaar 1999 ligt vóór 2000; taalbudget houdt jaren vanaf 2000 bij."
        );
        assert_eq!(
            closable_year("-1", today).unwrap_err(),
            "Jaar -1 ligt vóór 2000; taalbudget houdt jaren vanaf 2000 bij."
        );
        // From 1 January the year before can be closed.
        assert_eq!(closable_year("2026", time::macros::date!(2027 - 01 - 01)), Ok(2026));
    }
    use time::macros::date;

    fn stream(carry_over: bool) -> FundingStream {
        FundingStream {
            id: 1,
            code: "SPUK".into(),
            name: "SPUK inburgering".into(),
            kind: StreamKind::SpecificGrant,
            cohorts: vec![Cohort::Wi2021],
            spend_from: date!(2022 - 01 - 01),
            spend_until: Some(date!(2024 - 12 - 31)),
            carry_over,
            notes: String::new(),
        }
    }

    #[test]
    fn money_left_is_signalled_when_the_spending_period_ends_within_six_months() {
        let with_end = |until| FundingStream { spend_until: Some(until), ..stream(false) };
        let left = |cents| YearFigures { year: 2024, remaining: Money::from_cents(cents), ..Default::default() };
        // 2024 is over on 07-12-2026, so its reconciliation looks ahead from 31-12-2024: up to 30-06-2025.
        let from = looks_ahead_from(2024, date!(2026 - 12 - 07));
        assert_eq!(from, date!(2024 - 12 - 31));
        let cases = [
            (date!(2025 - 06 - 30), 750_000, Some(750_000)), // the last day of the six months counts
            (date!(2024 - 12 - 31), 1, Some(1)),             // ends on the day itself
            (date!(2025 - 07 - 01), 750_000, None),          // one day too late to warn
            (date!(2024 - 12 - 30), 750_000, None),          // already over: spend after it is another signal
            (date!(2025 - 03 - 31), 0, None),                // nothing left
            (date!(2025 - 03 - 31), -100, None),             // overspent: another signal
        ];
        for (until, cents, want) in cases {
            let got = left_at_period_end(&with_end(until), &left(cents), from);
            assert_eq!(got.map(|(u, m)| (u, m.cents())), want.map(|c| (until, c)), "{until} {cents}");
        }
        assert_eq!(left_at_period_end(&FundingStream { spend_until: None, ..stream(false) }, &left(1), from), None);
        // The running year looks ahead from today; a later year's money does not count for a period ending before it.
        let today = date!(2026 - 12 - 07);
        assert_eq!(looks_ahead_from(2026, today), today);
        assert_eq!(looks_ahead_from(2027, today), today);
        let next_year = YearFigures { year: 2027, remaining: Money::from_cents(5), ..Default::default() };
        assert_eq!(left_at_period_end(&with_end(date!(2026 - 12 - 31)), &next_year, today), None);
        assert_eq!(
            left_at_period_end(&with_end(date!(2027 - 03 - 31)), &next_year, today),
            Some((date!(2027 - 03 - 31), Money::from_cents(5)))
        );
    }

    #[test]
    fn only_money_through_the_municipality_fund_carries_over_by_default() {
        let defaults: Vec<(StreamKind, bool)> =
            StreamKind::ALL.iter().map(|k| (*k, k.carries_over_by_default())).collect();
        assert_eq!(
            defaults,
            [
                (StreamKind::SpecificGrant, false),
                (StreamKind::MunicipalityFund, true),
                (StreamKind::OwnFunds, false),
                (StreamKind::Other, false)
            ]
        );
        for k in StreamKind::ALL {
            let word = if k.carries_over_by_default() { "ja: " } else { "nee: " };
            assert!(k.carry_over_reason().starts_with(word), "{k:?}");
        }
        let fund = StreamKind::MunicipalityFund;
        assert_eq!(carry_over_choice(None, fund), Ok(true));
        assert_eq!(carry_over_choice(Some(" soort "), StreamKind::SpecificGrant), Ok(false));
        assert_eq!(carry_over_choice(Some("nee"), fund), Ok(false));
        assert_eq!(carry_over_choice(Some("on"), StreamKind::OwnFunds), Ok(true), "what the old checkbox sent");
        assert_eq!(
            carry_over_choice(Some("misschien"), fund),
            Err("Kies ja, nee of ‘zoals gebruikelijk bij de soort bron’.")
        );
    }

    /// 2023: 10.000,00 granted, 7.000,00 spent: 3.000,00 left. 2024: 12.000,00 granted, 12.500,00 spent: nothing
    /// left (-500,00). 2025: 12.000,00 granted. The example takes 2023 (the latest year with money left), and 2024's
    /// ‘available’ is 12.000,00 + 3.000,00 = 15.000,00 with carrying over, 12.000,00 without.
    #[test]
    fn the_carry_over_example_uses_the_latest_year_with_money_left() {
        let allocations = [
            alloc(2023, AllocationKind::Advance, 1_000_000),
            alloc(2024, AllocationKind::Advance, 1_200_000),
            alloc(2025, AllocationKind::Advance, 1_200_000),
        ];
        let granted = granted_by_year(&allocations);
        let actual = BTreeMap::from([(2023, Money::from_cents(700_000)), (2024, Money::from_cents(1_250_000))]);
        let figures = year_figures(&stream(false), &granted, &actual, &BTreeMap::new(), 2023..=2025);
        let e = CarryOverExample::from_figures(&figures, &granted, 2024).unwrap();
        assert_eq!(
            e,
            CarryOverExample {
                year: 2023,
                left: Money::from_cents(300_000),
                next_granted: Money::from_cents(1_200_000)
            }
        );
        assert!(CarryOverExample::explain(Some(&e)).ends_with(
            "Met de cijfers van deze bron: eind 2023 is € 3.000,00 over. Met meenemen is ‘beschikbaar’ in 2024 \
             € 12.000,00 toegekend + € 3.000,00 = € 15.000,00; zonder meenemen € 12.000,00."
        ));
        assert_eq!(CarryOverExample::from_figures(&figures, &granted, 2022), None, "no year up to 2022 has money left");
        assert_eq!(
            CarryOverExample::explain(None),
            "Meenemen betekent: wat aan het eind van een jaar over is (beschikbaar − realisatie − verplichtingen, als \
             dat meer dan nul is) telt op bij ‘beschikbaar’ in het volgende jaar. Zonder meenemen begint elk jaar bij \
             de toekenning van dat jaar en vervalt wat over is. Bijvoorbeeld: elk jaar € 100.000,00 toegekend en in \
             het eerste jaar € 80.000,00 besteed. Met meenemen is ‘beschikbaar’ in het tweede jaar € 100.000,00 + \
             € 20.000,00 = € 120.000,00; zonder meenemen € 100.000,00."
        );
    }

    fn alloc(year: i32, kind: AllocationKind, cents: i64) -> Allocation {
        Allocation {
            id: 0,
            stream_id: 1,
            year,
            kind,
            amount: Money::from_cents(cents),
            reference: String::new(),
            date: date!(2022 - 01 - 01),
        }
    }

    #[test]
    fn a_final_settlement_replaces_the_advances_and_shows_the_reclaim() {
        let twelfths: Vec<_> = (0..12).map(|_| alloc(2022, AllocationKind::Advance, 10_000_000)).collect();
        let mut all = twelfths.clone();
        let g = granted_by_year(&all);
        assert_eq!(g[&2022].amount().cents(), 120_000_000);
        assert_eq!(g[&2022].settlement_difference(), None);
        all.push(alloc(2022, AllocationKind::FinalSettlement, 112_345_678));
        all.push(alloc(2022, AllocationKind::Correction, -45_678));
        let g = granted_by_year(&all);
        assert_eq!(g[&2022].amount().cents(), 112_300_000);
        assert_eq!(g[&2022].settlement_difference().unwrap().cents(), -7_654_322);
    }

    #[test]
    fn remaining_is_available_minus_actual_minus_committed_and_carries_over_when_allowed() {
        let granted = granted_by_year(&[
            alloc(2022, AllocationKind::Advance, 1_000_000),
            alloc(2023, AllocationKind::Advance, 500_000),
        ]);
        let actual = BTreeMap::from([(2022, Money::from_cents(600_000)), (2023, Money::from_cents(700_000))]);
        let committed = BTreeMap::from([(2022, Money::from_cents(100_000))]);
        let with = year_figures(&stream(true), &granted, &actual, &committed, 2022..=2024);
        assert_eq!(
            with.iter().map(|y| (y.year, y.available.cents(), y.remaining.cents())).collect::<Vec<_>>(),
            [(2022, 1_000_000, 300_000), (2023, 800_000, 100_000), (2024, 100_000, 100_000)]
        );
        let without = year_figures(&stream(false), &granted, &actual, &committed, 2023..=2023);
        assert_eq!((without[0].available.cents(), without[0].remaining.cents()), (500_000, -200_000));
        for y in with.iter().chain(&without) {
            assert_eq!(y.remaining, y.available - y.actual - y.committed);
        }
    }

    #[test]
    fn an_overspent_year_carries_nothing_over() {
        let granted = granted_by_year(&[alloc(2022, AllocationKind::Advance, 100)]);
        let actual = BTreeMap::from([(2022, Money::from_cents(150))]);
        let f = year_figures(&stream(true), &granted, &actual, &BTreeMap::new(), 2022..=2023);
        assert_eq!((f[1].carried_over, f[1].available), (Money::ZERO, Money::ZERO));
    }

    #[test]
    fn budget_lines_over_what_is_available_are_reported() {
        let line = |cents| BudgetLine {
            id: 0,
            stream_id: 1,
            category: "B1".into(),
            year: 2022,
            amount: Money::from_cents(cents),
        };
        assert_eq!(budget_overrun(&[line(600), line(500)], Money::from_cents(1_000)), Some(Money::from_cents(100)));
        assert_eq!(budget_overrun(&[line(600), line(400)], Money::from_cents(1_000)), None);
    }

    #[test]
    fn streams_know_their_cohorts_and_spending_period() {
        let s = stream(false);
        assert!(s.allows_cohort(Cohort::Wi2021) && !s.allows_cohort(Cohort::Elip));
        assert!(s.in_spending_period(date!(2024 - 12 - 31)) && !s.in_spending_period(date!(2025 - 01 - 01)));
        assert!(s.covers_year(2022) && !s.covers_year(2021));
    }
}

/// Key of a contract's money from one stream in one year: (stream id, contract id, year).
pub type ContractYear = (i64, i64, i32);

/// What a user typed into the stream form (cohorts gathered from one checkbox each).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct StreamForm {
    pub code: String,
    pub name: String,
    pub kind: String,
    #[serde(deserialize_with = "super::validation::comma_joined")]
    pub cohorts: String,
    pub spend_from: String,
    pub spend_until: String,
    /// "soort", "ja" or "nee" (see `carry_over_choice`); the web form's update keeps the stored choice when absent.
    pub carry_over: Option<String>,
    pub notes: String,
    pub version: Option<i64>,
}

pub fn validate_stream(form: &StreamForm) -> Result<FundingStream, super::validation::FieldErrors> {
    use super::validation::{text, FieldErrors};
    let mut e = FieldErrors::new();
    let code = text(&mut e, "code", "Code", &form.code, 30, true).to_uppercase();
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        e.add("code", "Een code bevat alleen letters, cijfers, - en _.");
    }
    let name = text(&mut e, "name", "Naam", &form.name, 200, true);
    let notes = text(&mut e, "notes", "Verantwoording en notities", &form.notes, 5000, false);
    let kind = StreamKind::parse(&form.kind);
    if kind.is_none() {
        e.add("kind", "Kies een soort financiering.");
    }
    let carry_over =
        kind.and_then(|k| carry_over_choice(form.carry_over.as_deref(), k).map_err(|m| e.add("carry_over", m)).ok());
    let mut cohorts = Vec::new();
    for c in form.cohorts.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match Cohort::parse(c) {
            Some(c) if !cohorts.contains(&c) => cohorts.push(c),
            Some(_) => {}
            None => e.add("cohorts", format!("Onbekende doelgroep '{c}'.")),
        }
    }
    let spend_from = super::validation::required_date(&mut e, "spend_from", "Besteden vanaf", &form.spend_from);
    let spend_until = super::dates::parse_form(&form.spend_until).map_err(|m| e.add("spend_until", m)).ok().flatten();
    if let (Some(f), Some(u)) = (spend_from, spend_until) {
        if u < f {
            e.add("spend_until", "Het einde van de bestedingsperiode ligt vóór het begin.");
        }
    }
    match (kind, spend_from, carry_over) {
        (Some(kind), Some(spend_from), Some(carry_over)) if e.is_empty() => {
            Ok(FundingStream { id: 0, code, name, kind, cohorts, spend_from, spend_until, carry_over, notes })
        }
        _ => Err(e),
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AllocationForm {
    pub year: String,
    pub kind: String,
    pub amount: String,
    pub reference: String,
    pub decided_on: String,
}

/// An allocation belongs to a year within the stream's spending period; its amount may be negative only
/// as a correction.
pub fn validate_allocation(
    form: &AllocationForm,
    stream: &FundingStream,
) -> Result<Allocation, super::validation::FieldErrors> {
    use super::validation::{text, FieldErrors};
    let mut e = FieldErrors::new();
    let year = form.year.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y));
    match year {
        None => e.add("year", format!("'{}' is geen jaartal.", form.year.trim())),
        Some(y) if !stream.covers_year(y) => e.add(
            "year",
            format!(
                "{y} valt buiten de bestedingsperiode van {} ({} tot en met {}).",
                stream.code,
                super::dates::display(stream.spend_from),
                stream.spend_until.map(super::dates::display).unwrap_or_else(|| "onbepaald".into())
            ),
        ),
        _ => {}
    }
    let kind = AllocationKind::parse(&form.kind);
    if kind.is_none() {
        e.add("kind", "Kies voorschot, vaststelling of correctie.");
    }
    let amount = Money::parse(&form.amount).map_err(|m| e.add("amount", format!("Bedrag: {m}."))).ok();
    if let (Some(a), Some(k)) = (amount, kind) {
        if a.is_negative() && k != AllocationKind::Correction {
            e.add("amount", "Alleen een correctie kan negatief zijn.");
        }
    }
    let reference = text(&mut e, "reference", "Kenmerk (beschikking of circulaire)", &form.reference, 200, true);
    let date = super::validation::required_date(&mut e, "decided_on", "Datum", &form.decided_on);
    match (year, kind, amount, date) {
        (Some(year), Some(kind), Some(amount), Some(date)) if e.is_empty() => {
            Ok(Allocation { id: 0, stream_id: stream.id, year, kind, amount, reference, date })
        }
        _ => Err(e),
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct BudgetLineForm {
    pub category: String,
    pub year: String,
    pub amount: String,
}

pub fn validate_budget_line(
    form: &BudgetLineForm,
    stream: &FundingStream,
) -> Result<BudgetLine, super::validation::FieldErrors> {
    use super::validation::{text, FieldErrors};
    let mut e = FieldErrors::new();
    let category = text(&mut e, "category", "Categorie", &form.category, 100, true);
    let year = form.year.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y));
    if year.is_none() {
        e.add("year", format!("'{}' is geen jaartal.", form.year.trim()));
    }
    let amount = match Money::parse(&form.amount) {
        Ok(m) if m.is_negative() => {
            e.add("amount", "Een begrotingspost kan niet negatief zijn.");
            None
        }
        Ok(m) => Some(m),
        Err(m) => {
            e.add("amount", format!("Bedrag: {m}."));
            None
        }
    };
    match (year, amount) {
        (Some(year), Some(amount)) if e.is_empty() => {
            Ok(BudgetLine { id: 0, stream_id: stream.id, category, year, amount })
        }
        _ => Err(e),
    }
}

/// The year in `raw` (as sent in the address) if it may be closed on `today`, else why not, in Dutch.
/// Only a year that is over can be closed: closing freezes that year and every year before it, so closing
/// the current or a future year would freeze today's work.
pub fn closable_year(raw: &str, today: Date) -> Result<i32, String> {
    let Ok(year) = raw.trim().parse::<i64>() else {
        let shown: String = raw.trim().chars().take(20).collect();
        return Err(format!("‘{shown}’ is geen jaartal; kies een jaar zoals {}.", today.year() - 1));
    };
    if year >= today.year() as i64 {
        return Err(format!(
            "Jaar {year} is nog niet voorbij. Een jaar kan pas worden afgesloten na 31 december van dat jaar; \
             het laatste jaar dat nu kan worden afgesloten is {}.",
            today.year() - 1
        ));
    }
    if year < FIRST_YEAR as i64 {
        return Err(format!("Jaar {year} ligt vóór {FIRST_YEAR}; taalbudget houdt jaren vanaf {FIRST_YEAR} bij."));
    }
    Ok(year as i32)
}

/// The first year the application keeps figures for (Wi2021 has a forerunner in Wi2013).
pub const FIRST_YEAR: i32 = 2000;
