//! The invoice check (factuurcontrole) per contract and period: what the contract makes payable (milestones that
//! fell due in the period, plus attended hours and catch-up hours at the contract's rates where it has them), what the ledger shows was invoiced
//! (attributed ledger lines of the contract booked in the period), and what the progress reports support.
//! A milestone is supported when the placement's reports show attended hours in a period that began on or
//! before the milestone's due date: no lessons attended, no payment. Pure arithmetic.

use serde::Serialize;
use time::Date;

use super::placement::ExpectedPayment;
use super::progress::{Hours, Period, Report};
use crate::money::Money;

/// One placement's share of a contract's period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlacementCheck {
    pub placement_id: i64,
    pub client_number: String,
    /// Milestones due in the period, each with whether the reports support it.
    pub milestones: Vec<(ExpectedPayment, bool)>,
    pub catch_up_hours: Hours,
    pub catch_up: Money,
    /// Attended hours in the period and what they cost under a per-hour arrangement.
    pub attended_hours: Hours,
    pub per_hour: Money,
    pub payable: Money,
    pub supported: Money,
}

impl PlacementCheck {
    /// Payable but not supported by the reports.
    pub fn unsupported(&self) -> Money {
        self.payable - self.supported
    }
}

/// The whole check for one contract and period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvoiceCheck {
    pub period: Period,
    pub placements: Vec<PlacementCheck>,
    pub payable: Money,
    pub supported: Money,
    pub invoiced: Money,
}

impl InvoiceCheck {
    /// Invoiced minus payable: positive means more was invoiced than the contract makes payable.
    pub fn over_payable(&self) -> Money {
        self.invoiced - self.payable
    }

    /// Invoiced minus what the progress reports support.
    pub fn over_supported(&self) -> Money {
        self.invoiced - self.supported
    }

    /// Placements with a payable amount the reports do not support.
    pub fn differences(&self) -> impl Iterator<Item = &PlacementCheck> {
        self.placements.iter().filter(|p| !p.unsupported().is_zero())
    }
}

/// The inputs for one placement: its expected payments (after route changes) and its reports.
pub struct PlacementInput<'a> {
    pub placement_id: i64,
    pub client_number: &'a str,
    pub payments: &'a [ExpectedPayment],
    pub reports: &'a [Report],
}

/// Attendance was reported in a period that began on or before `day`.
pub fn attendance_by(reports: &[Report], day: Date) -> bool {
    reports.iter().any(|r| r.draft.attended > Hours::ZERO && r.draft.period.start() <= day)
}

/// The per-hour arrangements of a contract.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rates {
    /// Paid per attended hour.
    pub hourly: Option<Money>,
    /// Paid per catch-up hour.
    pub catch_up: Option<Money>,
}

/// Hours times a rate, rounded to the cent (nothing without a rate).
pub fn catch_up_amount(hours: Hours, rate: Option<Money>) -> Money {
    match rate {
        Some(r) => Money::from_decimal(r.decimal() * hours.decimal()),
        None => Money::ZERO,
    }
}

pub fn check<'a>(
    period: Period,
    placements: impl IntoIterator<Item = PlacementInput<'a>>,
    rates: Rates,
    invoiced: Money,
) -> InvoiceCheck {
    let mut out = Vec::new();
    for p in placements {
        let milestones: Vec<(ExpectedPayment, bool)> = p
            .payments
            .iter()
            .filter(|x| period.contains(x.due_date))
            .map(|x| (x.clone(), attendance_by(p.reports, x.due_date)))
            .collect();
        // Hours of reports whose period lies within the checked period (a quarter holds its months). Hours are
        // paid as reported, so they are supported by definition.
        let within = || {
            p.reports
                .iter()
                .filter(|r| period.start() <= r.draft.period.start() && r.draft.period.end() <= period.end())
        };
        let catch_up_hours: Hours = within().map(|r| r.draft.catch_up).sum();
        let attended_hours: Hours = within().map(|r| r.draft.attended).sum();
        let catch_up = catch_up_amount(catch_up_hours, rates.catch_up);
        let per_hour = catch_up_amount(attended_hours, rates.hourly);
        if milestones.is_empty() && catch_up.is_zero() && per_hour.is_zero() {
            continue;
        }
        let due: Money = milestones.iter().map(|(x, _)| x.amount).sum();
        let supported: Money =
            milestones.iter().filter(|(_, ok)| *ok).map(|(x, _)| x.amount).sum::<Money>() + catch_up + per_hour;
        out.push(PlacementCheck {
            placement_id: p.placement_id,
            client_number: p.client_number.to_string(),
            milestones,
            catch_up_hours,
            catch_up,
            attended_hours,
            per_hour,
            payable: due + catch_up + per_hour,
            supported,
        });
    }
    out.sort_by(|a, b| a.client_number.cmp(&b.client_number));
    let payable = out.iter().map(|p| p.payable).sum();
    let supported = out.iter().map(|p| p.supported).sum();
    InvoiceCheck { period, placements: out, payable, supported, invoiced }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::progress::ReportDraft;
    use time::macros::date;

    fn pay(name: &str, due: Date, cents: i64) -> ExpectedPayment {
        ExpectedPayment { milestone: name.into(), due_date: due, amount: Money::from_cents(cents) }
    }

    fn report(period: &str, attended: i64, catch_up_x100: i64) -> Report {
        Report {
            id: 0,
            placement_id: 0,
            draft: ReportDraft {
                period: Period::parse(period).unwrap(),
                first_lesson: None,
                offered: Hours::whole(40),
                attended: Hours::whole(attended),
                absence: Hours::ZERO,
                absence_reason: None,
                catch_up: Hours::from_x100(catch_up_x100),
                levels: Default::default(),
                exams: vec![],
                remarks: String::new(),
            },
        }
    }

    #[test]
    fn milestones_without_attendance_are_payable_but_not_supported() {
        let march = Period::parse("2023-03").unwrap();
        let a_pay = [pay("Start", date!(2023 - 03 - 10), 406_000), pay("Tussentijds", date!(2024 - 03 - 10), 304_500)];
        let a_rep = [report("2023-03", 30, 250)];
        let b_pay = [pay("Start", date!(2023 - 03 - 31), 465_003)];
        let b_rep = [report("2023-03", 0, 0), report("2023-04", 20, 0)];
        let c_pay = [pay("Start", date!(2023 - 02 - 01), 100_000)];
        let c = check(
            march,
            [
                PlacementInput { placement_id: 1, client_number: "K1", payments: &a_pay, reports: &a_rep },
                PlacementInput { placement_id: 2, client_number: "K2", payments: &b_pay, reports: &b_rep },
                PlacementInput { placement_id: 3, client_number: "K3", payments: &c_pay, reports: &[] },
            ],
            Rates { hourly: None, catch_up: Some(Money::from_cents(6_533)) },
            Money::from_cents(900_000),
        );
        // K1: start 4,060.00 supported, 2.5 catch-up hours x 65.33 = 163.325 -> 163.33. K2: nothing attended by 31-03.
        // K3: nothing due in March, so not listed.
        assert_eq!(c.placements.len(), 2);
        assert_eq!(c.placements[0].catch_up.cents(), 16_333);
        assert_eq!(c.placements[0].payable.cents(), 422_333);
        assert_eq!(c.placements[0].unsupported(), Money::ZERO);
        assert_eq!(c.placements[1].unsupported().cents(), 465_003);
        assert_eq!(c.payable.cents(), 887_336);
        assert_eq!(c.supported.cents(), 422_333);
        assert_eq!(c.over_payable().cents(), 12_664);
        assert_eq!(c.over_supported().cents(), 477_667);
        assert_eq!(c.differences().map(|p| p.client_number.as_str()).collect::<Vec<_>>(), ["K2"]);
        // Attendance reported for a period starting on the due day supports it.
        assert!(attendance_by(&b_rep, date!(2023 - 04 - 01)));
        assert!(!attendance_by(&b_rep, date!(2023 - 03 - 31)));
        // Without a catch-up arrangement catch-up hours cost nothing.
        assert_eq!(catch_up_amount(Hours::whole(3), None), Money::ZERO);
        // Paid per attended hour: 30 hours x 12.35 = 370.50 on top of K1's start, supported as reported.
        let per_hour = check(
            march,
            [PlacementInput { placement_id: 1, client_number: "K1", payments: &a_pay, reports: &a_rep }],
            Rates { hourly: Some(Money::from_cents(1_235)), catch_up: None },
            Money::ZERO,
        );
        assert_eq!(per_hour.placements[0].per_hour.cents(), 37_050);
        assert_eq!((per_hour.payable.cents(), per_hour.supported.cents()), (443_050, 443_050));
    }
}
