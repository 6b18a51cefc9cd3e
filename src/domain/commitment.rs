//! What a contract commits the municipality to. One definition, used by the contract page, the contracts list,
//! the start page, the reconciliation and the multi-year overview:
//!
//! - every placement's expected payments (tariff x milestone share, after route changes) are funded by its
//!   cohort's default stream, or by no stream when the cohort has none ("zonder financieringsbron");
//! - per (stream or none, contract, year of the due date), the invoices of that contract booked on that stream in
//!   that year are matched to the expected payments in order of due date (earliest first);
//! - what no invoice matches is the commitment: "vervallen, niet gefactureerd" when it fell due on or before
//!   today, "nog te betalen" when it falls due later; an invoice above what was expected is never a negative
//!   commitment;
//! - per contract: actual = everything invoiced to it, ceiling use = actual + open commitments;
//! - an invoice names no route: what it paid of a payment counts for that payment's route ([`split_over_routes`]).
//!
//! Pure arithmetic on contract terms, placements and invoiced sums.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::contract::{ceiling_level, ceiling_reached_on, CeilingLevel, ContractTerms};
use super::dates;
use super::funding::ContractYear;
use super::placement::{ExpectedPayment, PlacementSchedule};
use super::route::Route;
use crate::money::Money;

/// Expected payments of one placement under the contract's terms, after its route changes (None when it
/// cannot be priced).
pub fn placement_payments(
    terms: &ContractTerms,
    route: Route,
    schedule: &PlacementSchedule,
) -> Option<Vec<ExpectedPayment>> {
    super::route_change::payments_with_changes(terms, route, schedule)
}

/// One expected payment with the stream that funds it and where it belongs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FundedPayment {
    /// The cohort's default stream; None when the cohort has none.
    pub stream: Option<i64>,
    pub contract: i64,
    pub placement: i64,
    pub route: Route,
    /// The placement's start date (when the commitment arose, for "ceiling reached since").
    pub start: Date,
    pub milestone: String,
    pub due: Date,
    pub amount: Money,
}

/// What one placement is expected to cost, funded by `stream` (None when it cannot be priced).
pub fn funded_payments(
    terms: &ContractTerms,
    contract: i64,
    placement: i64,
    route: Route,
    schedule: &PlacementSchedule,
    stream: Option<i64>,
) -> Option<Vec<FundedPayment>> {
    Some(
        placement_payments(terms, route, schedule)?
            .into_iter()
            .map(|p| FundedPayment {
                stream,
                contract,
                placement,
                route,
                start: schedule.start_date,
                milestone: p.milestone,
                due: p.due_date,
                amount: p.amount,
            })
            .collect(),
    )
}

/// (stream, or None for "zonder financieringsbron"; contract; year the payments fall due or the invoices
/// were booked).
pub type CommitmentKey = (Option<i64>, i64, i32);

/// Every commitment as of `today`, with the payments they come from and the unmatched part of each.
#[derive(Clone, Debug)]
pub struct Commitments {
    pub today: Date,
    /// Shared: the overview keeps the payments between requests and matches them again for each.
    pub payments: std::sync::Arc<[FundedPayment]>,
    pub by_key: BTreeMap<CommitmentKey, Commitment>,
    /// Per key, the unmatched part of each payment: (index into `payments`, amount), earliest due first.
    pub open: BTreeMap<CommitmentKey, Vec<(usize, Money)>>,
}

/// The sums of one key, or of several added together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Commitment {
    pub expected: Money,
    pub invoiced: Money,
    /// Fell due on or before today and no invoice matches it: "vervallen, niet gefactureerd".
    pub overdue: Money,
    /// Falls due after today and no invoice matches it: "nog te betalen".
    pub to_come: Money,
}

impl Commitment {
    /// Expected but not invoiced: overdue + still to come (the commitment).
    pub fn open(&self) -> Money {
        self.overdue + self.to_come
    }

    /// Invoiced above what was expected (zero when not).
    pub fn over_invoiced(&self) -> Money {
        if self.invoiced > self.expected {
            self.invoiced - self.expected
        } else {
            Money::ZERO
        }
    }

    pub fn add(&mut self, other: &Commitment) {
        self.expected += other.expected;
        self.invoiced += other.invoiced;
        self.overdue += other.overdue;
        self.to_come += other.to_come;
    }
}

/// Matches the invoices to the expected payments (see the module's definition). `invoiced` is keyed by
/// (stream, contract, booking year); invoices without any expected payment still get a key (all over-invoiced).
pub fn commitments(
    payments: std::sync::Arc<[FundedPayment]>,
    invoiced: &BTreeMap<ContractYear, Money>,
    today: Date,
) -> Commitments {
    let mut groups: BTreeMap<CommitmentKey, Vec<usize>> = BTreeMap::new();
    for (i, p) in payments.iter().enumerate() {
        groups.entry((p.stream, p.contract, p.due.year())).or_default().push(i);
    }
    for &(stream, contract, year) in invoiced.keys() {
        groups.entry((Some(stream), contract, year)).or_default();
    }
    let mut by_key = BTreeMap::new();
    let mut open = BTreeMap::new();
    for (key, mut members) in groups {
        members.sort_by_key(|&i| (payments[i].due, payments[i].placement, i));
        let billed = key.0.and_then(|s| invoiced.get(&(s, key.1, key.2))).copied().unwrap_or_default();
        // A net credit matches nothing; it still counts in full as invoiced.
        let mut left = if billed.is_negative() { Money::ZERO } else { billed };
        let mut c = Commitment { invoiced: billed, ..Default::default() };
        let mut unmatched = Vec::new();
        for i in members {
            let p = &payments[i];
            c.expected += p.amount;
            let matched = if left < p.amount { left } else { p.amount };
            left -= matched;
            let rest = p.amount - matched;
            if rest.is_zero() || rest.is_negative() {
                continue;
            }
            if p.due <= today {
                c.overdue += rest;
            } else {
                c.to_come += rest;
            }
            unmatched.push((i, rest));
        }
        if !unmatched.is_empty() {
            open.insert(key, unmatched);
        }
        by_key.insert(key, c);
    }
    Commitments { today, payments, by_key, open }
}

impl Commitments {
    /// The keys of one contract.
    pub fn of_contract(&self, contract: i64) -> impl Iterator<Item = (&CommitmentKey, &Commitment)> {
        self.by_key.iter().filter(move |(k, _)| k.1 == contract)
    }

    /// Everything of one contract added up.
    pub fn contract_total(&self, contract: i64) -> Commitment {
        let mut t = Commitment::default();
        for (_, c) in self.of_contract(contract) {
            t.add(c);
        }
        t
    }

    /// Sums per (stream or none, year), for the reconciliation and the overview's streams.
    pub fn per_stream_year(&self) -> BTreeMap<(Option<i64>, i32), Commitment> {
        let mut out: BTreeMap<(Option<i64>, i32), Commitment> = BTreeMap::new();
        for (&(s, _, y), c) in &self.by_key {
            out.entry((s, y)).or_default().add(c);
        }
        out
    }

    /// The unmatched payments of one contract that fell due on or before today, earliest first.
    pub fn overdue_of(&self, contract: i64) -> Vec<(&FundedPayment, Money)> {
        let mut out: Vec<(&FundedPayment, Money)> = self
            .open
            .iter()
            .filter(|(k, _)| k.1 == contract)
            .flat_map(|(_, v)| v.iter())
            .map(|&(i, m)| (&self.payments[i], m))
            .filter(|(p, _)| p.due <= self.today)
            .collect();
        out.sort_by_key(|(p, _)| (p.due, p.placement));
        out
    }
}

impl Commitments {
    /// Per key, what the invoices paid of each route's expected payments (a payment less its open part). An
    /// invoice names no route: this is how it is split over the routes of a contract with several.
    pub fn matched_by_route(&self) -> BTreeMap<CommitmentKey, BTreeMap<Route, Money>> {
        self.matched_by_route_of(|_| true)
    }

    /// [`Self::matched_by_route`] for the keys `keep` accepts only (one contract's year table need not walk the
    /// others' payments through a map).
    fn matched_by_route_of(
        &self,
        keep: impl Fn(&CommitmentKey) -> bool,
    ) -> BTreeMap<CommitmentKey, BTreeMap<Route, Money>> {
        let mut out: BTreeMap<CommitmentKey, BTreeMap<Route, Money>> = BTreeMap::new();
        for p in self.payments.iter() {
            let key = (p.stream, p.contract, p.due.year());
            if keep(&key) {
                *out.entry(key).or_default().entry(p.route).or_default() += p.amount;
            }
        }
        for (key, open) in self.open.iter().filter(|(k, _)| keep(k)) {
            for &(i, m) in open {
                *out.entry(*key).or_default().entry(self.payments[i].route).or_default() -= m;
            }
        }
        for routes in out.values_mut() {
            routes.retain(|_, m| !m.is_zero());
        }
        out.retain(|_, routes| !routes.is_empty());
        out
    }
}

/// How an invoice, which names no route, is split over routes (the overview's route view and the contract's year table both say it).
pub const ROUTE_SPLIT: &str = "Een factuur noemt geen route. Bij een contract voor één route telt ze voor die route. Bij een contract voor meerdere routes gaat ze per bron, contract en jaar naar de verwachte betalingen in volgorde van vervaldatum: wat ze van een betaling betaalt, is realisatie op de route van die betaling; wat van een betaling open blijft, is verplichting op die route. Wat boven de verwachte betalingen uitkomt, staat onder ‘Niet aan een route toe te wijzen’.";

/// Splits one invoiced amount over routes by taking, route by route, from what the invoices of its key paid of
/// each route's payments (`paid`, from [`Commitments::matched_by_route`], used up as it goes); what is left (an
/// amount above the expected payments, or a credit) belongs to no route.
pub fn split_over_routes(paid: &mut BTreeMap<Route, Money>, amount: Money) -> Vec<(Option<Route>, Money)> {
    let mut out = Vec::new();
    let mut left = amount;
    for (&route, pool) in paid.iter_mut() {
        if !left.is_positive() {
            break;
        }
        let take = if *pool < left { *pool } else { left };
        if take.is_positive() {
            *pool -= take;
            left -= take;
            out.push((Some(route), take));
        }
    }
    if !left.is_zero() || out.is_empty() {
        out.push((None, left));
    }
    out
}

/// One line of a contract's year table: a year, a stream (None: no stream) and a route, with what was expected,
/// what the invoices matched, and what is left open. A line without a route holds what was invoiced above the
/// expected payments of that stream and year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct YearLine {
    pub year: i32,
    pub stream: Option<i64>,
    pub route: Option<Route>,
    pub expected: Money,
    pub invoiced: Money,
    pub overdue: Money,
    pub to_come: Money,
}

impl Commitments {
    /// The contract's year table: per year, stream and route (see [`YearLine`]). The invoices of a stream and year
    /// are matched to its payments in order of due date, so each route gets what was matched of its own payments.
    pub fn year_lines(&self, contract: i64) -> Vec<YearLine> {
        type Key = (i32, Option<i64>, Option<Route>);
        fn at(t: &mut BTreeMap<Key, YearLine>, year: i32, stream: Option<i64>, route: Option<Route>) -> &mut YearLine {
            t.entry((year, stream, route)).or_insert(YearLine {
                year,
                stream,
                route,
                expected: Money::ZERO,
                invoiced: Money::ZERO,
                overdue: Money::ZERO,
                to_come: Money::ZERO,
            })
        }
        let mut table: BTreeMap<Key, YearLine> = BTreeMap::new();
        for p in self.payments.iter().filter(|p| p.contract == contract) {
            at(&mut table, p.due.year(), p.stream, Some(p.route)).expected += p.amount;
        }
        for (&(stream, _, year), routes) in &self.matched_by_route_of(|k| k.1 == contract) {
            for (&route, &m) in routes {
                at(&mut table, year, stream, Some(route)).invoiced += m;
            }
        }
        for (&(stream, _, year), open) in self.open.iter().filter(|((_, c, _), _)| *c == contract) {
            for &(i, m) in open {
                let p = &self.payments[i];
                let l = at(&mut table, year, stream, Some(p.route));
                if p.due <= self.today {
                    l.overdue += m;
                } else {
                    l.to_come += m;
                }
            }
        }
        for (&(stream, _, year), c) in self.of_contract(contract) {
            let above = c.over_invoiced();
            // A net credit (less than nothing invoiced) stays visible too.
            let unmatched = if c.invoiced.is_negative() { c.invoiced } else { above };
            if !unmatched.is_zero() {
                at(&mut table, year, stream, None).invoiced += unmatched;
            }
        }
        table.into_values().collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractFigures {
    /// Everything the placements on this contract are expected to cost.
    pub expected_total: Money,
    /// Invoiced: every attributed ledger line of this contract.
    pub actual: Money,
    /// Open commitments that fell due on or before today.
    pub overdue: Money,
    /// Open commitments still to come.
    pub to_come: Money,
    /// overdue + to come.
    pub open_commitment: Money,
    /// Of the open commitment: placements of a cohort without a funding stream.
    pub unfunded: Money,
    /// actual + open commitment.
    pub ceiling_use: Money,
    pub ceiling_pct: Decimal,
    pub level: CeilingLevel,
    /// While the ceiling is not reached: when it will be, at the placement pace of the last six months.
    pub reached_on: Option<Date>,
    /// How far ceiling use is above the ceiling (zero below it).
    pub over_by: Money,
    pub placements: usize,
    /// Placements the terms cannot price (no tariff or milestones for their route and start date).
    pub unpriced: usize,
}

/// The contract's figures from the one commitment definition. `placements` are counted (and those the terms
/// cannot price); their money comes from `all`.
pub fn contract_figures<'a>(
    contract: i64,
    terms: &ContractTerms,
    placements: impl IntoIterator<Item = (Route, &'a PlacementSchedule)>,
    all: &Commitments,
    today: Date,
) -> ContractFigures {
    let (mut count, mut unpriced) = (0, 0);
    for (route, schedule) in placements {
        count += 1;
        if placement_payments(terms, route, schedule).is_none() {
            unpriced += 1;
        }
    }
    let window_start = dates::add_months(today, -6);
    let recent_value: Money = all
        .payments
        .iter()
        .filter(|p| p.contract == contract && p.start > window_start && p.start <= today)
        .map(|p| p.amount)
        .sum();
    let total = all.contract_total(contract);
    let open_commitment = total.open();
    let unfunded = all.of_contract(contract).filter(|((s, _, _), _)| s.is_none()).map(|(_, c)| c.open()).sum();
    let ceiling_use = total.invoiced + open_commitment;
    let (ceiling_pct, level) = ceiling_level(ceiling_use, terms.ceiling);
    let reached = ceiling_use >= terms.ceiling;
    ContractFigures {
        expected_total: total.expected,
        actual: total.invoiced,
        overdue: total.overdue,
        to_come: total.to_come,
        open_commitment,
        unfunded,
        ceiling_use,
        ceiling_pct,
        level,
        reached_on: if reached { None } else { ceiling_reached_on(terms.ceiling, ceiling_use, recent_value, today) },
        over_by: if reached { ceiling_use - terms.ceiling } else { Money::ZERO },
        placements: count,
        unpriced,
    }
}

/// The first day ceiling use reached the ceiling (None when it has not). Ceiling use on a day counts, per key,
/// the larger of what the placements started by then are expected to cost and what was invoiced by then (that
/// is invoiced + open commitment); a placement registered with a later start counts from today. `invoices` are
/// the contract's attributed ledger lines as (stream, booking date, amount).
pub fn ceiling_reached_since(
    ceiling: Money,
    contract: i64,
    payments: &[FundedPayment],
    invoices: &[(i64, Date, Money)],
    today: Date,
) -> Option<Date> {
    // (day, key, expected part, invoiced part)
    let mut events: Vec<(Date, CommitmentKey, Money, Money)> = payments
        .iter()
        .filter(|p| p.contract == contract)
        .map(|p| (p.start.min(today), (p.stream, contract, p.due.year()), p.amount, Money::ZERO))
        .collect();
    events.extend(invoices.iter().map(|&(s, day, m)| (day, (Some(s), contract, day.year()), Money::ZERO, m)));
    events.sort_by_key(|e| e.0);
    let mut state: BTreeMap<CommitmentKey, (Money, Money)> = BTreeMap::new();
    let mut used = Money::ZERO;
    let mut i = 0;
    while i < events.len() {
        let day = events[i].0;
        while i < events.len() && events[i].0 == day {
            let (_, key, e, inv) = events[i];
            let s = state.entry(key).or_default();
            used -= s.0.max(s.1);
            s.0 += e;
            s.1 += inv;
            used += s.0.max(s.1);
            i += 1;
        }
        if !ceiling.is_negative() && used >= ceiling && !used.is_zero() {
            return Some(day.min(today));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contract::{ContractPeriod, Due, Milestone, Share, Tariff};
    use crate::domain::placement::PlacementStatus;
    use time::macros::date;

    fn terms(ceiling_cents: i64) -> ContractTerms {
        let mut milestones = std::collections::BTreeMap::new();
        milestones.insert(
            Route::B1,
            vec![
                Milestone { name: "Start".into(), share: Share::parse("50").unwrap(), due: Due::AtStart },
                Milestone { name: "Einde".into(), share: Share::parse("50").unwrap(), due: Due::AtCompletion },
            ],
        );
        ContractTerms {
            period: ContractPeriod {
                start_date: date!(2022 - 01 - 01),
                initial_end_date: date!(2025 - 12 - 31),
                options: vec![],
            },
            routes: vec![Route::B1],
            ceiling: Money::from_cents(ceiling_cents),
            tariffs: vec![
                Tariff {
                    id: 1,
                    route: Route::B1,
                    valid_from: date!(2022 - 01 - 01),
                    valid_until: Some(date!(2022 - 12 - 31)),
                    amount: Money::from_cents(1_000_000),
                },
                Tariff {
                    id: 2,
                    route: Route::B1,
                    valid_from: date!(2023 - 01 - 01),
                    valid_until: None,
                    amount: Money::from_cents(1_030_000),
                },
            ],
            milestones,
        }
    }

    fn placement(start: Date, end: Date) -> PlacementSchedule {
        PlacementSchedule {
            start_date: start,
            planned_end: end,
            status: PlacementStatus::Ongoing,
            status_date: None,
            changes: vec![],
        }
    }

    /// The commitments of placements (id = position + 1) on contract 1, all funded by stream 1.
    fn all(t: &ContractTerms, ps: &[&PlacementSchedule], invoiced: &[(i32, i64)], today: Date) -> Commitments {
        let payments: Vec<FundedPayment> = ps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| funded_payments(t, 1, i as i64 + 1, Route::B1, s, Some(1)).unwrap_or_default())
            .collect();
        let payments = payments.into();
        let invoiced = invoiced.iter().map(|&(y, c)| ((1, 1, y), Money::from_cents(c))).collect();
        commitments(payments, &invoiced, today)
    }

    #[test]
    fn an_invoice_of_a_contract_with_two_routes_is_split_by_the_payments_it_paid() {
        let pay = |placement, route, due, cents| FundedPayment {
            stream: Some(1),
            contract: 1,
            placement,
            route,
            start: date!(2025 - 01 - 15),
            milestone: "Start".into(),
            due,
            amount: Money::from_cents(cents),
        };
        // Due in 2025, earliest first: B1 5,000.00 (15-01), Z 4,000.00 (01-06), B1 5,000.00 (01-12): 14,000.00.
        let payments: Vec<FundedPayment> = vec![
            pay(1, Route::B1, date!(2025 - 01 - 15), 500_000),
            pay(2, Route::Z, date!(2025 - 06 - 01), 400_000),
            pay(1, Route::B1, date!(2025 - 12 - 01), 500_000),
        ];
        let today = date!(2025 - 12 - 31);
        // 12,000.00 invoiced pays 5,000.00 B1, 4,000.00 Z and 3,000.00 of the second B1 payment: B1 8,000.00,
        // Z 4,000.00, and 2,000.00 of B1 overdue.
        let invoiced = [((1, 1, 2025), Money::from_cents(1_200_000))].into_iter().collect();
        let c = commitments(payments.clone().into(), &invoiced, today);
        let key = (Some(1), 1, 2025);
        let mut paid = c.matched_by_route().remove(&key).unwrap();
        let cents = |parts: Vec<(Option<Route>, Money)>| -> Vec<(Option<Route>, i64)> {
            parts.into_iter().map(|(r, m)| (r, m.cents())).collect()
        };
        assert_eq!(
            cents(paid.iter().map(|(r, m)| (Some(*r), *m)).collect()),
            [(Some(Route::B1), 800_000), (Some(Route::Z), 400_000)]
        );
        assert_eq!(c.by_key[&key].overdue.cents(), 200_000);
        // Booked as two ledger sums (two budget lines) of 10,000.00 and 2,000.00: the first takes B1's 8,000.00 and
        // 2,000.00 of Z, the second the rest of Z.
        assert_eq!(
            cents(split_over_routes(&mut paid, Money::from_cents(1_000_000))),
            [(Some(Route::B1), 800_000), (Some(Route::Z), 200_000)]
        );
        assert_eq!(cents(split_over_routes(&mut paid, Money::from_cents(200_000))), [(Some(Route::Z), 200_000)]);
        // 15,000.00 invoiced: everything paid (B1 10,000.00, Z 4,000.00) and 1,000.00 above it belongs to no route.
        let invoiced = [((1, 1, 2025), Money::from_cents(1_500_000))].into_iter().collect();
        let mut paid = commitments(payments.into(), &invoiced, today).matched_by_route().remove(&key).unwrap();
        assert_eq!(
            cents(split_over_routes(&mut paid, Money::from_cents(1_500_000))),
            [(Some(Route::B1), 1_000_000), (Some(Route::Z), 400_000), (None, 100_000)]
        );
        // A credit pays nothing.
        assert_eq!(cents(split_over_routes(&mut paid, Money::from_cents(-50_000))), [(None, -50_000)]);
    }

    #[test]
    fn figures_add_up_per_year_and_against_the_ceiling() {
        let t = terms(4_000_000);
        let p1 = placement(date!(2022 - 12 - 31), date!(2023 - 12 - 31)); // 2022 tariff: 10,000
        let p2 = placement(date!(2023 - 01 - 01), date!(2024 - 06 - 30)); // indexed: 10,300
        let p3 = PlacementSchedule {
            status: PlacementStatus::DroppedOut,
            status_date: Some(date!(2023 - 03 - 01)),
            ..placement(date!(2023 - 02 - 01), date!(2024 - 12 - 31))
        };
        let today = date!(2023 - 04 - 01);
        let c = all(&t, &[&p1, &p2, &p3], &[(2023, 500_000)], today);
        let f = contract_figures(1, &t, [(Route::B1, &p1), (Route::B1, &p2), (Route::B1, &p3)], &c, today);
        assert_eq!(f.expected_total.cents(), 1_000_000 + 1_030_000 + 515_000);
        let expected: Vec<(i32, i64)> = c.year_lines(1).iter().map(|l| (l.year, l.expected.cents())).collect();
        assert_eq!(expected, [(2022, 500_000), (2023, 500_000 + 515_000 + 515_000), (2024, 515_000)]);
        // 2022: p1's start (5,000.00, due 31-12-2022) is overdue. 2023, earliest due first: the 5,000.00 invoiced
        // matches 5,000.00 of p2's start (5,150.00, 01-01-2023), leaving 150.00 overdue; p3's start (5,150.00,
        // 01-02-2023) is overdue; p1's completion (5,000.00, 31-12-2023) is to come. 2024: p2's completion 5,150.00.
        assert_eq!(f.actual.cents(), 500_000);
        assert_eq!(f.overdue.cents(), 500_000 + 15_000 + 515_000);
        assert_eq!(f.to_come.cents(), 500_000 + 515_000);
        assert_eq!(f.open_commitment.cents(), 2_545_000 - 500_000);
        assert_eq!(f.ceiling_use.cents(), 2_545_000);
        assert_eq!(f.level, CeilingLevel::Ok);
        assert_eq!(f.ceiling_pct, Decimal::new(636, 1));
        assert_eq!((f.placements, f.unpriced), (3, 0));
        // All three started in the six months since 01-10-2022 (182 days): 10,000 + 10,300 + 5,150 = 25,450.
        // 14,550 left: ceil(14,550 * 182 / 25,450) = ceil(104.05) = 105 days.
        assert_eq!(f.reached_on, Some(today + time::Duration::days(105)));
        assert_eq!(f.over_by, Money::ZERO);
        let overdue: Vec<(i64, &str, i64)> =
            c.overdue_of(1).iter().map(|(p, m)| (p.placement, p.milestone.as_str(), m.cents())).collect();
        assert_eq!(overdue, [(1, "Start", 500_000), (2, "Start", 15_000), (3, "Start", 515_000)]);
    }

    #[test]
    fn an_invoice_above_what_was_expected_counts_in_full_and_commits_nothing_negative() {
        let t = terms(1_000_000);
        let p1 = placement(date!(2022 - 03 - 01), date!(2023 - 02 - 28)); // 5,000.00 in 2022, 5,000.00 in 2023
        let today = date!(2023 - 06 - 01);
        // 2022: 7,000.00 invoiced against 5,000.00 expected; 2023: nothing invoiced yet.
        let c = all(&t, &[&p1], &[(2022, 700_000)], today);
        let f = contract_figures(1, &t, [(Route::B1, &p1)], &c, today);
        assert_eq!((f.actual.cents(), f.open_commitment.cents(), f.overdue.cents()), (700_000, 500_000, 500_000));
        // Ceiling use 7,000.00 + 5,000.00 = 12,000.00 against 10,000.00: reached, 2,000.00 over.
        assert_eq!((f.ceiling_use.cents(), f.level, f.over_by.cents()), (1_200_000, CeilingLevel::Exceeded, 200_000));
        assert_eq!(f.reached_on, None, "no prediction once the ceiling is reached");
        assert_eq!(c.by_key[&(Some(1), 1, 2022)].over_invoiced().cents(), 200_000);
        // The year table: what the 7,000.00 matched (the 5,000.00 start), the 2,000.00 above it on a line of its
        // own, and the 2023 completion overdue.
        let line = |year, route, e, i, o, t| YearLine {
            year,
            stream: Some(1),
            route,
            expected: Money::from_cents(e),
            invoiced: Money::from_cents(i),
            overdue: Money::from_cents(o),
            to_come: Money::from_cents(t),
        };
        assert_eq!(
            c.year_lines(1),
            [
                line(2022, None, 0, 200_000, 0, 0),
                line(2022, Some(Route::B1), 500_000, 500_000, 0, 0),
                line(2023, Some(Route::B1), 500_000, 0, 500_000, 0),
            ]
        );
    }

    #[test]
    fn the_ceiling_is_reached_on_the_first_day_use_meets_it() {
        let t = terms(1_500_000);
        let p1 = placement(date!(2022 - 03 - 01), date!(2023 - 02 - 28)); // 10,000.00 (5,000.00 + 5,000.00)
        let p2 = placement(date!(2022 - 09 - 15), date!(2023 - 09 - 14)); // 10,000.00
        let today = date!(2023 - 06 - 01);
        let c = all(&t, &[&p1, &p2], &[], today);
        // 01-03-2022: 10,000.00 in use; 15-09-2022: 20,000.00, over the 15,000.00 ceiling.
        assert_eq!(ceiling_reached_since(t.ceiling, 1, &c.payments, &[], today), Some(date!(2022 - 09 - 15)));
        // With a ceiling of 22,000.00, an invoice of 13,000.00 booked on 20-12-2022 (3,000.00 above the 10,000.00
        // expected in 2022) takes use from 20,000.00 to 23,000.00: reached that day.
        let invoices = [(1, date!(2022 - 12 - 20), Money::from_cents(1_300_000))];
        assert_eq!(
            ceiling_reached_since(Money::from_cents(2_200_000), 1, &c.payments, &invoices, today),
            Some(date!(2022 - 12 - 20))
        );
        assert_eq!(ceiling_reached_since(Money::from_cents(2_400_000), 1, &c.payments, &invoices, today), None);
        // A placement registered with a start after today counts from today.
        let later = placement(date!(2023 - 09 - 01), date!(2024 - 08 - 31));
        let c = all(&t, &[&later], &[], today);
        assert_eq!(ceiling_reached_since(Money::from_cents(500_000), 1, &c.payments, &[], today), Some(today));
    }

    #[test]
    fn placements_without_a_tariff_are_counted_not_priced() {
        let t = terms(100);
        let early = placement(date!(2021 - 06 - 01), date!(2022 - 06 - 01));
        let c = all(&t, &[], &[], date!(2023 - 01 - 01));
        let f = contract_figures(1, &t, [(Route::B1, &early), (Route::Z, &early)], &c, date!(2023 - 01 - 01));
        assert_eq!((f.placements, f.unpriced, f.expected_total), (2, 2, Money::ZERO));
    }
}
