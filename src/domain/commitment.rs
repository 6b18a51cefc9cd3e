//! What a contract commits the municipality to: expected payments per year, open commitment, ceiling
//! use and when the ceiling will be reached. Pure arithmetic on contract terms and placements.

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::contract::{ceiling_level, ceiling_reached_on, CeilingLevel, ContractTerms};
use super::dates;
use super::placement::{by_year, ExpectedPayment, PlacementSchedule};
use super::route::Route;
use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractFigures {
    /// Everything the placements on this contract are expected to cost.
    pub expected_total: Money,
    pub by_year: Vec<(i32, Money)>,
    /// Invoiced so far (attributed ledger lines; 0 until spend is attributed to contracts).
    pub actual: Money,
    /// Expected but not yet invoiced.
    pub open_commitment: Money,
    /// actual + open commitment.
    pub ceiling_use: Money,
    pub ceiling_pct: Decimal,
    pub level: CeilingLevel,
    /// At the placement pace of the last six months.
    pub reached_on: Option<Date>,
    pub placements: usize,
    /// Placements the terms cannot price (no tariff or milestones for their route and start date).
    pub unpriced: usize,
}

/// Expected payments of one placement under the contract's terms, after its route changes (None when it
/// cannot be priced).
pub fn placement_payments(
    terms: &ContractTerms,
    route: Route,
    schedule: &PlacementSchedule,
) -> Option<Vec<ExpectedPayment>> {
    super::route_change::payments_with_changes(terms, route, schedule)
}

pub fn contract_figures<'a>(
    terms: &ContractTerms,
    placements: impl IntoIterator<Item = (Route, &'a PlacementSchedule)>,
    actual: Money,
    today: Date,
) -> ContractFigures {
    let window_start = dates::add_months(today, -6);
    let mut all = Vec::new();
    let (mut count, mut unpriced) = (0, 0);
    let mut recent_value = Money::ZERO;
    for (route, schedule) in placements {
        count += 1;
        match placement_payments(terms, route, schedule) {
            Some(payments) => {
                if schedule.start_date > window_start && schedule.start_date <= today {
                    recent_value += payments.iter().map(|p| p.amount).sum();
                }
                all.extend(payments);
            }
            None => unpriced += 1,
        }
    }
    let expected_total: Money = all.iter().map(|p| p.amount).sum();
    let open_commitment = if expected_total > actual { expected_total - actual } else { Money::ZERO };
    let ceiling_use = actual + open_commitment;
    let (ceiling_pct, level) = ceiling_level(ceiling_use, terms.ceiling);
    ContractFigures {
        expected_total,
        by_year: by_year(&all),
        actual,
        open_commitment,
        ceiling_use,
        ceiling_pct,
        level,
        reached_on: ceiling_reached_on(terms.ceiling, ceiling_use, recent_value, today),
        placements: count,
        unpriced,
    }
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
        let f = contract_figures(
            &t,
            [(Route::B1, &p1), (Route::B1, &p2), (Route::B1, &p3)],
            Money::from_cents(500_000),
            date!(2023 - 04 - 01),
        );
        assert_eq!(f.expected_total.cents(), 1_000_000 + 1_030_000 + 515_000);
        assert_eq!(
            f.by_year,
            [
                (2022, Money::from_cents(500_000)),
                (2023, Money::from_cents(500_000 + 515_000 + 515_000)),
                (2024, Money::from_cents(515_000))
            ]
        );
        assert_eq!(f.open_commitment.cents(), 2_545_000 - 500_000);
        assert_eq!(f.ceiling_use.cents(), 2_545_000);
        assert_eq!(f.level, CeilingLevel::Ok);
        assert_eq!(f.ceiling_pct, Decimal::new(636, 1));
        assert_eq!((f.placements, f.unpriced), (3, 0));
        // All three started in the six months since 01-10-2022 (182 days): 10,000 + 10,300 + 5,150 = 25,450.
        // 14,550 left: ceil(14,550 * 182 / 25,450) = ceil(104.05) = 105 days.
        assert_eq!(f.reached_on, Some(date!(2023 - 04 - 01) + time::Duration::days(105)));
    }

    #[test]
    fn placements_without_a_tariff_are_counted_not_priced() {
        let t = terms(100);
        let early = placement(date!(2021 - 06 - 01), date!(2022 - 06 - 01));
        let f = contract_figures(&t, [(Route::B1, &early), (Route::Z, &early)], Money::ZERO, date!(2023 - 01 - 01));
        assert_eq!((f.placements, f.unpriced, f.expected_total), (2, 2, Money::ZERO));
    }
}
