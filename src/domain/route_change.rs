//! Route changes (routewijzigingen): a switch to another route (B1 -> Z), a pause and its resume, a stop; each
//! with a decision date and a reason. They change what a placement is expected to cost: what was due on the
//! decision date stays due, what was not yet due follows the new situation.

use serde::{Deserialize, Serialize};
use time::Date;

use super::contract::ContractTerms;
use super::dates;
use super::placement::{ExpectedPayment, PlacementSchedule};
use super::route::Route;
use super::validation::FieldErrors;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    Switch(Route),
    Pause,
    Resume,
    Stop,
}

impl ChangeKind {
    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::Switch(_) => "switch",
            ChangeKind::Pause => "pause",
            ChangeKind::Resume => "resume",
            ChangeKind::Stop => "stop",
        }
    }

    pub fn from_parts(code: &str, route: Option<&str>) -> Option<ChangeKind> {
        match code {
            "switch" => route.and_then(Route::parse).map(ChangeKind::Switch),
            "pause" => Some(ChangeKind::Pause),
            "resume" => Some(ChangeKind::Resume),
            "stop" => Some(ChangeKind::Stop),
            _ => None,
        }
    }

    pub fn new_route(self) -> Option<Route> {
        match self {
            ChangeKind::Switch(r) => Some(r),
            _ => None,
        }
    }

    pub fn label(self) -> String {
        match self {
            ChangeKind::Switch(r) => format!("Overstap naar {}", r.label()),
            ChangeKind::Pause => "Pauze".into(),
            ChangeKind::Resume => "Hervat".into(),
            ChangeKind::Stop => "Gestopt".into(),
        }
    }
}

/// One recorded decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteChange {
    pub kind: ChangeKind,
    pub decision_date: Date,
    pub reason: String,
}

/// The route a placement follows on `day`, given its starting route and its changes.
pub fn route_on(start_route: Route, changes: &[RouteChange], day: Date) -> Route {
    changes.iter().rev().filter(|c| c.decision_date <= day).find_map(|c| c.kind.new_route()).unwrap_or(start_route)
}

/// Whether the placement is paused (a pause without a resume yet) or stopped after its changes.
pub fn paused(changes: &[RouteChange]) -> bool {
    let mut p = false;
    for c in changes {
        match c.kind {
            ChangeKind::Pause => p = true,
            ChangeKind::Resume => p = false,
            _ => {}
        }
    }
    p
}

pub fn stopped(changes: &[RouteChange]) -> bool {
    changes.iter().any(|c| c.kind == ChangeKind::Stop)
}

/// What a user typed into the route change form.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ChangeForm {
    pub kind: String,
    pub new_route: String,
    pub decision_date: String,
    pub reason: String,
}

/// Validates a new change against the placement (start, starting route, earlier changes) and the contract.
pub fn validate_change(
    form: &ChangeForm,
    start_route: Route,
    schedule: &PlacementSchedule,
    terms: &ContractTerms,
) -> Result<RouteChange, FieldErrors> {
    let mut e = FieldErrors::new();
    let route = Route::parse(&form.new_route);
    let kind = ChangeKind::from_parts(form.kind.trim(), Some(form.new_route.as_str()));
    if kind.is_none() {
        if form.kind.trim() == "switch" {
            e.add("new_route", "Kies de nieuwe leerroute.");
        } else {
            e.add("kind", "Kies overstap, pauze, hervatten of stoppen.");
        }
    }
    let decision_date = match dates::parse_form(&form.decision_date) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            e.add("decision_date", "De besluitdatum is verplicht.");
            None
        }
        Err(m) => {
            e.add("decision_date", m);
            None
        }
    };
    let reason = super::validation::text(&mut e, "reason", "Reden", &form.reason, 2000, true);
    let changes = &schedule.changes;
    if let (Some(kind), Some(day)) = (kind, decision_date) {
        if day < schedule.start_date {
            e.add("decision_date", "De besluitdatum ligt vóór de start van de plaatsing.");
        }
        if let Some(last) = changes.last() {
            if day < last.decision_date {
                e.add(
                    "decision_date",
                    format!(
                        "Er is al een wijziging op {}; een nieuwe kan niet eerder liggen.",
                        dates::display(last.decision_date)
                    ),
                );
            }
        }
        if stopped(changes) {
            e.add("kind", "Deze route is gestopt; er kan niets meer worden gewijzigd.");
        }
        match kind {
            ChangeKind::Switch(new) => {
                let current = route_on(start_route, changes, day);
                if new == current {
                    e.add("new_route", format!("De deelnemer volgt de {} al.", current.label()));
                } else if !terms.routes.contains(&new) {
                    e.add(
                        "new_route",
                        format!(
                            "Dit contract dekt de {} niet; plaats de deelnemer op een ander contract.",
                            new.label()
                        ),
                    );
                } else if let Err(m) = terms.pricing(new, schedule.start_date) {
                    e.add("new_route", m);
                }
                if paused(changes) {
                    e.add("kind", "De route is gepauzeerd; hervat haar eerst.");
                }
            }
            ChangeKind::Pause if paused(changes) => e.add("kind", "De route is al gepauzeerd."),
            ChangeKind::Resume if !paused(changes) => e.add("kind", "Er is geen pauze om te hervatten."),
            _ => {}
        }
    }
    if route.is_some() && kind.is_some_and(|k| k.new_route().is_none()) {
        e.add("new_route", "Een nieuwe leerroute hoort alleen bij een overstap.");
    }
    match (kind, decision_date) {
        (Some(kind), Some(decision_date)) if e.is_empty() => Ok(RouteChange { kind, decision_date, reason }),
        _ => Err(e),
    }
}

fn shift(day: Date, pauses: &[(Date, i64)]) -> Date {
    pauses.iter().fold(day, |d, (from, days)| if d > *from { d + time::Duration::days(*days) } else { d })
}

/// The payments of a placement after its route changes, under the contract's terms. In decision-date order:
/// - a switch keeps the payments due on or before the decision date and replaces the rest with the new
///   route's milestones (its tariff as on the placement's start date) that fall due after it;
/// - a resume moves every payment not yet due when the pause began by the length of the pause;
/// - a stop drops every payment not yet due on its date.
///
/// None when a route the placement follows cannot be priced.
pub fn payments_with_changes(
    terms: &ContractTerms,
    start_route: Route,
    schedule: &PlacementSchedule,
) -> Option<Vec<ExpectedPayment>> {
    let (tariff, milestones) = terms.pricing(start_route, schedule.start_date).ok()?;
    let mut payments = schedule.expected_payments(tariff, milestones);
    let mut pauses: Vec<(Date, i64)> = Vec::new();
    let mut paused_on: Option<Date> = None;
    for c in &schedule.changes {
        let day = c.decision_date;
        match c.kind {
            ChangeKind::Switch(new) => {
                let (tariff, milestones) = terms.pricing(new, schedule.start_date).ok()?;
                payments.retain(|p| p.due_date <= day);
                for mut p in schedule.expected_payments(tariff, milestones) {
                    p.due_date = shift(p.due_date, &pauses);
                    if p.due_date > day {
                        p.milestone = format!("{} ({})", p.milestone, new.short_label());
                        payments.push(p);
                    }
                }
            }
            ChangeKind::Pause => paused_on = Some(day),
            ChangeKind::Resume => {
                if let Some(from) = paused_on.take() {
                    let days = (day - from).whole_days();
                    for p in payments.iter_mut().filter(|p| p.due_date > from) {
                        p.due_date += time::Duration::days(days);
                    }
                    pauses.push((from, days));
                }
            }
            ChangeKind::Stop => payments.retain(|p| p.due_date <= day),
        }
    }
    payments.sort_by_key(|p| p.due_date);
    Some(payments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contract::{ContractPeriod, Due, Milestone, Share, Tariff};
    use crate::domain::placement::PlacementStatus;
    use crate::money::Money;
    use time::macros::date;

    fn terms() -> ContractTerms {
        let m = |name: &str, share: &str, due: Due| Milestone {
            name: name.into(),
            share: Share::parse(share).unwrap(),
            due,
        };
        let mut milestones = std::collections::BTreeMap::new();
        milestones.insert(
            Route::B1,
            vec![
                m("Start", "40", Due::AtStart),
                m("Tussentijds", "30", Due::MonthsAfterStart(12)),
                m("Afronding", "30", Due::AtCompletion),
            ],
        );
        milestones.insert(
            Route::Z,
            vec![
                m("Start", "33,33", Due::AtStart),
                m("Halverwege", "33,33", Due::MonthsAfterStart(15)),
                m("Afronding", "33,34", Due::AtCompletion),
            ],
        );
        let tariff = |id, route, cents| Tariff {
            id,
            route,
            valid_from: date!(2022 - 01 - 01),
            valid_until: None,
            amount: Money::from_cents(cents),
        };
        ContractTerms {
            period: ContractPeriod {
                start_date: date!(2022 - 01 - 01),
                initial_end_date: date!(2025 - 12 - 31),
                options: vec![],
            },
            routes: vec![Route::B1, Route::Z],
            ceiling: Money::from_cents(100_000_000),
            tariffs: vec![tariff(1, Route::B1, 1_015_001), tariff(2, Route::Z, 930_007)],
            milestones,
        }
    }

    fn schedule(changes: Vec<RouteChange>) -> PlacementSchedule {
        PlacementSchedule {
            start_date: date!(2022 - 09 - 01),
            planned_end: date!(2024 - 08 - 31),
            status: PlacementStatus::Ongoing,
            status_date: None,
            changes,
        }
    }

    fn change(kind: ChangeKind, day: Date) -> RouteChange {
        RouteChange { kind, decision_date: day, reason: "test".into() }
    }

    fn cents(p: &[ExpectedPayment]) -> Vec<(Date, i64)> {
        p.iter().map(|x| (x.due_date, x.amount.cents())).collect()
    }

    #[test]
    fn a_switch_to_z_keeps_what_was_due_and_recalculates_the_rest_to_the_cent() {
        let t = terms();
        let before = payments_with_changes(&t, Route::B1, &schedule(vec![])).unwrap();
        assert_eq!(
            cents(&before),
            [(date!(2022 - 09 - 01), 406_000), (date!(2023 - 09 - 01), 304_500), (date!(2024 - 08 - 31), 304_501)]
        );
        // Switch on 01-10-2023: the B1 start (4,060.00) and the interim payment due 01-09-2023 (3,045.00) stay.
        // Z (9,300.07): start 3,099.71 was due at the start (before the switch: dropped, it was paid under B1);
        // 15 months 3,099.71 due 01-12-2023; completion 9,300.07 - 2 x 3,099.71 = 3,100.65.
        let after = payments_with_changes(
            &t,
            Route::B1,
            &schedule(vec![change(ChangeKind::Switch(Route::Z), date!(2023 - 10 - 01))]),
        )
        .unwrap();
        assert_eq!(
            cents(&after),
            [
                (date!(2022 - 09 - 01), 406_000),
                (date!(2023 - 09 - 01), 304_500),
                (date!(2023 - 12 - 01), 309_971),
                (date!(2024 - 08 - 31), 310_065)
            ]
        );
        assert_eq!(after.iter().map(|p| p.amount).sum::<Money>().cents(), 1_330_536);
        // A switch on the very day a payment falls due keeps that payment.
        let same_day = payments_with_changes(
            &t,
            Route::B1,
            &schedule(vec![change(ChangeKind::Switch(Route::Z), date!(2023 - 09 - 01))]),
        )
        .unwrap();
        assert_eq!(same_day.iter().filter(|p| p.due_date <= date!(2023 - 09 - 01)).count(), 2);
    }

    #[test]
    fn a_pause_moves_what_was_not_yet_due_and_a_stop_drops_it() {
        let t = terms();
        let s = schedule(vec![
            change(ChangeKind::Pause, date!(2023 - 03 - 01)),
            change(ChangeKind::Resume, date!(2023 - 05 - 01)),
        ]);
        let p = payments_with_changes(&t, Route::B1, &s).unwrap();
        // 61 days of pause: 01-09-2023 -> 01-11-2023, 31-08-2024 -> 31-10-2024.
        assert_eq!(
            cents(&p),
            [(date!(2022 - 09 - 01), 406_000), (date!(2023 - 11 - 01), 304_500), (date!(2024 - 10 - 31), 304_501)]
        );
        let stop = schedule(vec![change(ChangeKind::Stop, date!(2023 - 08 - 31))]);
        assert_eq!(cents(&payments_with_changes(&t, Route::B1, &stop).unwrap()), [(date!(2022 - 09 - 01), 406_000)]);
    }

    #[test]
    fn changes_are_checked_against_the_contract_and_earlier_changes() {
        let t = terms();
        let s = schedule(vec![]);
        let f = |kind: &str, route: &str, day: &str| ChangeForm {
            kind: kind.into(),
            new_route: route.into(),
            decision_date: day.into(),
            reason: "besluit".into(),
        };
        assert!(validate_change(&f("switch", "z", "2023-10-01"), Route::B1, &s, &t).is_ok());
        let e = validate_change(&f("switch", "b1", "2023-10-01"), Route::B1, &s, &t).unwrap_err();
        assert!(e.get("new_route").unwrap().contains("volgt de B1-route al"));
        let e = validate_change(&f("switch", "alfa", "2023-10-01"), Route::B1, &s, &t).unwrap_err();
        assert!(e.get("new_route").unwrap().contains("dekt de Alfabetisering niet"));
        let e = validate_change(&f("resume", "", "2023-10-01"), Route::B1, &s, &t).unwrap_err();
        assert!(e.get("kind").unwrap().contains("geen pauze"));
        let e = validate_change(&f("pause", "", "2022-01-01"), Route::B1, &s, &t).unwrap_err();
        assert!(e.get("decision_date").unwrap().contains("vóór de start"));
        let e =
            validate_change(&ChangeForm { reason: String::new(), ..f("stop", "", "2023-01-01") }, Route::B1, &s, &t)
                .unwrap_err();
        assert!(e.get("reason").is_some());
        let stopped = schedule(vec![change(ChangeKind::Stop, date!(2023 - 01 - 01))]);
        assert!(validate_change(&f("pause", "", "2023-02-01"), Route::B1, &stopped, &t).is_err());
        assert_eq!(
            route_on(Route::B1, &[change(ChangeKind::Switch(Route::Z), date!(2023 - 10 - 01))], date!(2023 - 10 - 01)),
            Route::Z
        );
    }
}
