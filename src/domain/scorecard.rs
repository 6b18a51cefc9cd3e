//! The provider scorecard per provider, route (the route a placement started on) and year: starts, average
//! waiting time from PIP to the first lesson, attendance rate, absence, first-attempt pass rate per exam part,
//! route changes and dropouts. Pure arithmetic over placements and their reports.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::progress::{actual_start, attendance_pct, numbered_attempts, ExamPart, Hours, Report};
use super::route::Route;

/// What the scorecard needs of one placement.
pub struct ScoreInput<'a> {
    pub provider_id: i64,
    pub route: Route,
    pub pip_date: Option<Date>,
    pub dropped_out_on: Option<Date>,
    pub change_dates: Vec<Date>,
    pub reports: &'a [Report],
}

/// First attempts and passes among them for one exam part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FirstAttempts {
    pub taken: u32,
    pub passed: u32,
}

impl FirstAttempts {
    pub fn pct(self) -> Option<Decimal> {
        (self.taken > 0).then(|| (Decimal::from(self.passed * 100) / Decimal::from(self.taken)).round_dp(1))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScoreLine {
    /// Placements whose lessons started in the year.
    pub starts: u32,
    /// Of those, the ones with a PIP date: total days waited, for the average.
    pub waited_days: i64,
    pub waited_count: u32,
    pub offered: Hours,
    pub attended: Hours,
    pub absence: Hours,
    pub first_attempts: BTreeMap<ExamPart, FirstAttempts>,
    pub route_changes: u32,
    pub dropouts: u32,
}

impl ScoreLine {
    /// Average days from PIP to the first lesson, one decimal.
    pub fn avg_wait_days(&self) -> Option<Decimal> {
        (self.waited_count > 0)
            .then(|| (Decimal::from(self.waited_days) / Decimal::from(self.waited_count)).round_dp(1))
    }

    pub fn attendance_pct(&self) -> Option<Decimal> {
        attendance_pct(self.offered, self.attended)
    }
}

/// Key of a scorecard line.
pub type ScoreKey = (i64, Route, i32);

/// Lines per (provider, route, year), for the years in `years`.
pub fn scorecard(inputs: &[ScoreInput], years: std::ops::RangeInclusive<i32>) -> BTreeMap<ScoreKey, ScoreLine> {
    let mut out: BTreeMap<ScoreKey, ScoreLine> = BTreeMap::new();
    for p in inputs {
        macro_rules! score_line {
            ($year:expr) => {{
                let year: i32 = $year;
                if years.contains(&year) {
                    Some(out.entry((p.provider_id, p.route, year)).or_default())
                } else {
                    None
                }
            }};
        }
        if let Some(start) = actual_start(p.reports) {
            if let Some(l) = score_line!(start.year()) {
                l.starts += 1;
                if let Some(pip) = p.pip_date {
                    l.waited_days += (start - pip).whole_days().max(0);
                    l.waited_count += 1;
                }
            }
        }
        for r in p.reports {
            if let Some(l) = score_line!(r.draft.period.start().year()) {
                l.offered = l.offered + r.draft.offered;
                l.attended = l.attended + r.draft.attended;
                l.absence = l.absence + r.draft.absence;
            }
        }
        for (n, x) in numbered_attempts(p.reports) {
            if n != 1 {
                continue;
            }
            if let Some(l) = score_line!(x.date.year()) {
                let f = l.first_attempts.entry(x.part).or_default();
                f.taken += 1;
                f.passed += u32::from(x.passed);
            }
        }
        for d in &p.change_dates {
            if let Some(l) = score_line!(d.year()) {
                l.route_changes += 1;
            }
        }
        if let Some(d) = p.dropped_out_on {
            if let Some(l) = score_line!(d.year()) {
                l.dropouts += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::progress::{ExamResult, Period, ReportDraft};
    use time::macros::date;

    fn report(period: &str, offered: i64, attended: i64, first: Option<Date>, exams: Vec<ExamResult>) -> Report {
        Report {
            id: 0,
            placement_id: 0,
            draft: ReportDraft {
                period: Period::parse(period).unwrap(),
                first_lesson: first,
                offered: Hours::whole(offered),
                attended: Hours::whole(attended),
                absence: Hours::whole(offered - attended),
                absence_reason: None,
                catch_up: Hours::ZERO,
                levels: Default::default(),
                exams,
                remarks: String::new(),
            },
        }
    }

    #[test]
    fn lines_count_starts_waiting_attendance_and_first_attempts() {
        let x = |part, date, passed| ExamResult { part, date, passed };
        let a = [
            report("2023-02", 40, 30, Some(date!(2023 - 02 - 11)), vec![]),
            report("2023-03", 40, 40, None, vec![x(ExamPart::Reading, date!(2023 - 03 - 01), false)]),
            report("2024-01", 40, 20, None, vec![x(ExamPart::Reading, date!(2024 - 01 - 05), true)]),
        ];
        let b = [report("2023-05", 20, 19, None, vec![x(ExamPart::Reading, date!(2023 - 05 - 09), true)])];
        let inputs = [
            ScoreInput {
                provider_id: 1,
                route: Route::B1,
                pip_date: Some(date!(2023 - 01 - 01)),
                dropped_out_on: None,
                change_dates: vec![date!(2024 - 02 - 01)],
                reports: &a,
            },
            ScoreInput {
                provider_id: 1,
                route: Route::B1,
                pip_date: Some(date!(2023 - 04 - 01)),
                dropped_out_on: Some(date!(2023 - 06 - 30)),
                change_dates: vec![],
                reports: &b,
            },
        ];
        let s = scorecard(&inputs, 2022..=2024);
        let l = &s[&(1, Route::B1, 2023)];
        assert_eq!(l.starts, 2);
        // 41 days (01-01 -> 11-02) and 30 days (01-04 -> first attended period 01-05): 35.5 on average.
        assert_eq!(l.avg_wait_days(), Some(Decimal::new(355, 1)));
        assert_eq!((l.offered, l.attended), (Hours::whole(100), Hours::whole(89)));
        assert_eq!(l.attendance_pct(), Some(Decimal::new(890, 1)));
        assert_eq!(l.first_attempts[&ExamPart::Reading], FirstAttempts { taken: 2, passed: 1 });
        assert_eq!(l.dropouts, 1);
        let l24 = &s[&(1, Route::B1, 2024)];
        // The second reading attempt in 2024 is not a first attempt.
        assert!(l24.first_attempts.is_empty());
        assert_eq!((l24.route_changes, l24.starts), (1, 0));
        assert!(!s.contains_key(&(1, Route::B1, 2022)));
    }
}
