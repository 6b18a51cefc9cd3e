//! The provider scorecard per provider, route (the route a placement started on) and period (a year, quarter or
//! month, the user's choice): starts, average waiting time from PIP to the first lesson, attendance rate,
//! absence, first-attempt pass rate per exam part, route changes and dropouts. Pure arithmetic over placements
//! and their reports.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::progress::{actual_start, attendance_pct, numbered_attempts, ExamPart, Hours, Period, Report};
use super::route::Route;

/// What the scorecard needs of one placement.
pub struct ScoreInput<'a> {
    pub provider_id: i64,
    pub route: Route,
    /// The placement's planned start and the last day it runs (completion, dropout, else the planned end).
    pub start_date: Date,
    pub end_date: Date,
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
    /// Placements whose lessons started in the period (by the reports: only meaningful with `reporting` > 0).
    pub starts: u32,
    /// Placements running in the period (up to today).
    pub running: u32,
    /// Of those, the ones with a progress report counted in the period.
    pub reporting: u32,
    /// Placements that count in the line for anything (running, a report, an exam, a change, a dropout): the
    /// group the line is about, for the small-cell rule.
    pub participants: u32,
    /// Of those, the ones with a PIP date: total days waited, for the average.
    pub waited_days: i64,
    pub waited_count: u32,
    /// Of those, each one's days from PIP to the first lesson (for the median) and how many started within three
    /// calendar months of the PIP. Not serialized: the indicators show the median and the share, never the list.
    #[serde(skip)]
    pub waits: Vec<i64>,
    pub within_three_months: u32,
    pub offered: Hours,
    pub attended: Hours,
    pub absence: Hours,
    pub first_attempts: BTreeMap<ExamPart, FirstAttempts>,
    pub route_changes: u32,
    pub dropouts: u32,
}

impl ScoreLine {
    /// Adds another line's figures: the lines of one period and route over all providers make the route's total
    /// (a placement belongs to one provider and one starting route, so no one is counted twice).
    pub fn add(&mut self, o: &ScoreLine) {
        self.starts += o.starts;
        self.running += o.running;
        self.reporting += o.reporting;
        self.participants += o.participants;
        self.waited_days += o.waited_days;
        self.waited_count += o.waited_count;
        self.waits.extend_from_slice(&o.waits);
        self.within_three_months += o.within_three_months;
        self.offered = self.offered + o.offered;
        self.attended = self.attended + o.attended;
        self.absence = self.absence + o.absence;
        for (part, f) in &o.first_attempts {
            let mine = self.first_attempts.entry(*part).or_default();
            mine.taken += f.taken;
            mine.passed += f.passed;
        }
        self.route_changes += o.route_changes;
        self.dropouts += o.dropouts;
    }

    /// Average days from PIP to the first lesson, one decimal.
    pub fn avg_wait_days(&self) -> Option<Decimal> {
        (self.waited_count > 0)
            .then(|| (Decimal::from(self.waited_days) / Decimal::from(self.waited_count)).round_dp(1))
    }

    /// The median of the days from PIP to the first lesson: the middle one, or the mean of the two middle ones.
    pub fn median_wait_days(&self) -> Option<Decimal> {
        let mut w = self.waits.clone();
        w.sort_unstable();
        let n = w.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(Decimal::from(w[n / 2])),
            _ => Some((Decimal::from(w[n / 2 - 1] + w[n / 2]) / Decimal::from(2)).round_dp(1)),
        }
    }

    /// Of the starts with a PIP date, the percentage (one decimal) that started within three calendar months of it.
    pub fn within_three_months_pct(&self) -> Option<Decimal> {
        (self.waited_count > 0)
            .then(|| (Decimal::from(self.within_three_months * 100) / Decimal::from(self.waited_count)).round_dp(1))
    }

    pub fn attendance_pct(&self) -> Option<Decimal> {
        attendance_pct(self.offered, self.attended)
    }

    /// Starts, or None when no running placement has a report in the period: then a zero would say "nobody
    /// started" where the truth is "nothing reported yet".
    pub fn reported_starts(&self) -> Option<u32> {
        (self.reporting > 0).then_some(self.starts)
    }
}

/// How finely the scorecard splits time: per year, quarter or month (`?periode=` on the page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Grain {
    #[default]
    Year,
    Quarter,
    Month,
}

impl Grain {
    /// The URL value: `jaar`, `kwartaal`, `maand`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Grain> {
        match text.trim().to_lowercase().as_str() {
            "jaar" => Some(Grain::Year),
            "kwartaal" => Some(Grain::Quarter),
            "maand" => Some(Grain::Month),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Grain::Year => "jaar",
            Grain::Quarter => "kwartaal",
            Grain::Month => "maand",
        }
    }

    /// The column heading of the period in the export.
    pub fn label(self) -> &'static str {
        match self {
            Grain::Year => "Jaar",
            Grain::Quarter => "Kwartaal",
            Grain::Month => "Maand",
        }
    }

    /// The periods that touch `from..=to`, in order.
    pub fn periods(self, from: Date, to: Date) -> Vec<ScorePeriod> {
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            let p = self.period_of(day);
            out.push(p);
            match p.end().next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }

    /// The scorecard period a day falls in.
    pub fn period_of(self, day: Date) -> ScorePeriod {
        match self {
            Grain::Year => ScorePeriod::Year(day.year()),
            Grain::Quarter => {
                ScorePeriod::Part(Period::Quarter { year: day.year(), quarter: (day.month() as u8 - 1) / 3 + 1 })
            }
            Grain::Month => ScorePeriod::Part(Period::month_of(day)),
        }
    }
}

/// One scorecard period: a whole year, or a quarter or month of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScorePeriod {
    Year(i32),
    Part(Period),
}

impl ScorePeriod {
    pub fn year(self) -> i32 {
        match self {
            ScorePeriod::Year(y) => y,
            ScorePeriod::Part(p) => p.start().year(),
        }
    }

    pub fn end(self) -> Date {
        match self {
            ScorePeriod::Year(y) => Date::from_calendar_date(y, time::Month::December, 31).expect("31 December"),
            ScorePeriod::Part(p) => p.end(),
        }
    }

    /// `2023`, `2023-K1` or `2023-03`, as in the export.
    pub fn code(self) -> String {
        match self {
            ScorePeriod::Year(y) => y.to_string(),
            ScorePeriod::Part(p) => p.code(),
        }
    }

    /// `2023`, `1e kwartaal 2023` or `maart 2023`, as on screen.
    pub fn label(self) -> String {
        match self {
            ScorePeriod::Year(y) => y.to_string(),
            ScorePeriod::Part(p) => p.label(),
        }
    }
}

/// Key of a scorecard line.
pub type ScoreKey = (i64, Route, ScorePeriod);

/// Lines per (provider, route, period of `grain`), for the periods within the years in `years`. Each figure
/// counts in the period of its own date: a start on its first lesson, hours on the first day of the reported
/// period (so a quarterly report counts in full in the first month of its quarter on the monthly view; hours
/// are not split over months the provider did not report), an exam on its date, a route change on its
/// decision date and a dropout on its status date. Every period in which a placement runs (up to `today`) counts
/// it as running, and as reporting when one of its reports counts in that period.
pub fn scorecard(
    inputs: &[ScoreInput],
    grain: Grain,
    years: std::ops::RangeInclusive<i32>,
    today: Date,
) -> BTreeMap<ScoreKey, ScoreLine> {
    // A function, not a closure: a closure cannot hand out a borrow of the map it captured. It notes each
    // period the placement counts in, so every line knows how many participants it is about.
    fn line<'m>(
        out: &'m mut BTreeMap<ScoreKey, ScoreLine>,
        (p, grain, years): (&ScoreInput, Grain, &std::ops::RangeInclusive<i32>),
        touched: &mut Vec<ScorePeriod>,
        day: Date,
    ) -> Option<&'m mut ScoreLine> {
        let period = grain.period_of(day);
        if !years.contains(&period.year()) {
            return None;
        }
        if !touched.contains(&period) {
            touched.push(period);
        }
        Some(out.entry((p.provider_id, p.route, period)).or_default())
    }
    let mut out: BTreeMap<ScoreKey, ScoreLine> = BTreeMap::new();
    for p in inputs {
        let at = (p, grain, &years);
        let mut touched: Vec<ScorePeriod> = Vec::new();
        let reported: Vec<ScorePeriod> = p.reports.iter().map(|r| grain.period_of(r.draft.period.start())).collect();
        for period in grain.periods(p.start_date, p.end_date.min(today)) {
            if let Some(l) = line(&mut out, at, &mut touched, period.end().min(today).max(p.start_date)) {
                l.running += 1;
                l.reporting += u32::from(reported.contains(&period));
            }
        }
        if let Some(start) = actual_start(p.reports) {
            if let Some(l) = line(&mut out, at, &mut touched, start) {
                l.starts += 1;
                if let Some(pip) = p.pip_date {
                    let days = (start - pip).whole_days().max(0);
                    l.waited_days += days;
                    l.waited_count += 1;
                    l.waits.push(days);
                    // The timeline's own deadline (`start_deadline`): starting on it is in time.
                    l.within_three_months += u32::from(start <= super::progress::start_deadline(pip));
                }
            }
        }
        for r in p.reports {
            if let Some(l) = line(&mut out, at, &mut touched, r.draft.period.start()) {
                l.offered = l.offered + r.draft.offered;
                l.attended = l.attended + r.draft.attended;
                l.absence = l.absence + r.draft.absence;
            }
        }
        for (n, x) in numbered_attempts(p.reports) {
            if n != 1 {
                continue;
            }
            if let Some(l) = line(&mut out, at, &mut touched, x.date) {
                let f = l.first_attempts.entry(x.part).or_default();
                f.taken += 1;
                f.passed += u32::from(x.passed);
            }
        }
        for d in &p.change_dates {
            if let Some(l) = line(&mut out, at, &mut touched, *d) {
                l.route_changes += 1;
            }
        }
        if let Some(d) = p.dropped_out_on {
            if let Some(l) = line(&mut out, at, &mut touched, d) {
                l.dropouts += 1;
            }
        }
        for period in touched {
            out.get_mut(&(p.provider_id, p.route, period)).expect("line made above").participants += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::progress::{ExamResult, Period, ReportDraft};
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 06);

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
                start_date: date!(2023 - 02 - 01),
                end_date: date!(2024 - 12 - 31),
                pip_date: Some(date!(2023 - 01 - 01)),
                dropped_out_on: None,
                change_dates: vec![date!(2024 - 02 - 01)],
                reports: &a,
            },
            ScoreInput {
                provider_id: 1,
                route: Route::B1,
                start_date: date!(2023 - 04 - 15),
                end_date: date!(2023 - 06 - 30),
                pip_date: Some(date!(2023 - 04 - 01)),
                dropped_out_on: Some(date!(2023 - 06 - 30)),
                change_dates: vec![],
                reports: &b,
            },
        ];
        let s = scorecard(&inputs, Grain::Year, 2022..=2024, TODAY);
        let l = &s[&(1, Route::B1, ScorePeriod::Year(2023))];
        assert_eq!((l.starts, l.running, l.reporting, l.reported_starts()), (2, 2, 2, Some(2)));
        // 41 days (01-01 -> 11-02) and 30 days (01-04 -> first attended period 01-05): 35.5 on average.
        assert_eq!(l.avg_wait_days(), Some(Decimal::new(355, 1)));
        assert_eq!((l.offered, l.attended), (Hours::whole(100), Hours::whole(89)));
        assert_eq!(l.attendance_pct(), Some(Decimal::new(890, 1)));
        assert_eq!(l.first_attempts[&ExamPart::Reading], FirstAttempts { taken: 2, passed: 1 });
        assert_eq!(l.dropouts, 1);
        assert_eq!(l.participants, 2, "two placements, each counted once");
        let l24 = &s[&(1, Route::B1, ScorePeriod::Year(2024))];
        assert_eq!(l24.participants, 1);
        // The second reading attempt in 2024 is not a first attempt.
        assert!(l24.first_attempts.is_empty());
        assert_eq!((l24.route_changes, l24.starts, l24.running, l24.reporting), (1, 0, 1, 1));
        assert!(!s.contains_key(&(1, Route::B1, ScorePeriod::Year(2022))));
    }

    #[test]
    fn periods_split_at_the_last_and_first_day_of_quarters_and_months() {
        let q = |y, n| ScorePeriod::Part(Period::Quarter { year: y, quarter: n });
        let m = |y, n| ScorePeriod::Part(Period::Month { year: y, month: n });
        assert_eq!(Grain::Quarter.period_of(date!(2023 - 03 - 31)), q(2023, 1));
        assert_eq!(Grain::Quarter.period_of(date!(2023 - 04 - 01)), q(2023, 2));
        assert_eq!(Grain::Quarter.period_of(date!(2023 - 12 - 31)), q(2023, 4));
        assert_eq!(Grain::Quarter.period_of(date!(2024 - 01 - 01)), q(2024, 1));
        assert_eq!(Grain::Month.period_of(date!(2023 - 01 - 31)), m(2023, 1));
        assert_eq!(Grain::Month.period_of(date!(2023 - 02 - 01)), m(2023, 2));
        assert_eq!(Grain::Year.period_of(date!(2023 - 12 - 31)), ScorePeriod::Year(2023));
        assert_eq!(Grain::Year.period_of(date!(2024 - 01 - 01)), ScorePeriod::Year(2024));
        assert_eq!((q(2023, 1).code(), q(2023, 1).label()), ("2023-K1".to_string(), "1e kwartaal 2023".to_string()));
        assert_eq!(m(2023, 3).code(), "2023-03");
        assert_eq!(Grain::parse(" Kwartaal "), Some(Grain::Quarter));
        assert_eq!(Grain::parse("week"), None);
    }

    #[test]
    fn quarters_and_months_group_each_figure_by_its_own_date_and_add_up_to_the_year() {
        let x = |part, date, passed| ExamResult { part, date, passed };
        // First lesson on the last day of Q1; the April report is Q2; exams on the last day of Q2 and the first
        // of Q3; a quarterly report for Q4; a dropout on the last day of the year and a change on the first of
        // the next, which is outside the years asked for.
        let a = [
            report("2023-03", 10, 8, Some(date!(2023 - 03 - 31)), vec![]),
            report("2023-04", 40, 30, None, vec![x(ExamPart::Reading, date!(2023 - 06 - 30), true)]),
            report("2023-07", 40, 40, None, vec![x(ExamPart::Writing, date!(2023 - 07 - 01), false)]),
            report("2023-K4", 120, 90, None, vec![]),
            report("2024-01", 40, 40, None, vec![]),
        ];
        let inputs = [ScoreInput {
            provider_id: 7,
            route: Route::B1,
            start_date: date!(2023 - 03 - 01),
            end_date: date!(2023 - 12 - 31),
            pip_date: Some(date!(2023 - 01 - 01)),
            dropped_out_on: Some(date!(2023 - 12 - 31)),
            change_dates: vec![date!(2024 - 01 - 01)],
            reports: &a,
        }];
        let q = |n| (7, Route::B1, ScorePeriod::Part(Period::Quarter { year: 2023, quarter: n }));
        let s = scorecard(&inputs, Grain::Quarter, 2023..=2023, TODAY);
        assert_eq!(s.len(), 4, "{:?}", s.keys().collect::<Vec<_>>());
        assert_eq!((s[&q(1)].starts, s[&q(1)].avg_wait_days()), (1, Some(Decimal::from(89))));
        assert_eq!((s[&q(1)].offered, s[&q(1)].attended), (Hours::whole(10), Hours::whole(8)));
        assert_eq!(s[&q(2)].starts, 0);
        assert_eq!((s[&q(2)].offered, s[&q(2)].attended), (Hours::whole(40), Hours::whole(30)));
        assert_eq!(s[&q(2)].first_attempts[&ExamPart::Reading], FirstAttempts { taken: 1, passed: 1 });
        assert_eq!(s[&q(3)].first_attempts[&ExamPart::Writing], FirstAttempts { taken: 1, passed: 0 });
        assert!(!s[&q(3)].first_attempts.contains_key(&ExamPart::Reading));
        assert_eq!((s[&q(4)].offered, s[&q(4)].dropouts, s[&q(4)].route_changes), (Hours::whole(120), 1, 0));

        let year = &scorecard(&inputs, Grain::Year, 2023..=2023, TODAY)[&(7, Route::B1, ScorePeriod::Year(2023))];
        let sum = s.values().fold(Hours::ZERO, |h, l| h + l.attended);
        assert_eq!((year.attended, sum), (Hours::whole(168), Hours::whole(168)));
        assert_eq!(year.route_changes, 0, "the change on 2024-01-01 is not in 2023");
        assert_eq!(year.participants, 1, "five reports of one placement");

        // Monthly: the quarterly report counts in full in October, nothing in November or December except the
        // dropout on 31 December; November runs without a report.
        let m = |n| (7, Route::B1, ScorePeriod::Part(Period::Month { year: 2023, month: n }));
        let s = scorecard(&inputs, Grain::Month, 2023..=2024, TODAY);
        assert_eq!((s[&m(10)].offered, s[&m(10)].reporting), (Hours::whole(120), 1));
        assert_eq!((s[&m(11)].offered, s[&m(11)].running, s[&m(11)].reporting), (Hours::ZERO, 1, 0));
        assert_eq!(s[&m(11)].reported_starts(), None);
        assert!(!s.contains_key(&m(2)), "not running before its start");
        assert_eq!((s[&m(12)].offered, s[&m(12)].dropouts), (Hours::ZERO, 1));
        assert_eq!(s[&m(3)].starts, 1);
        assert_eq!(s[&m(6)].first_attempts[&ExamPart::Reading].taken, 1);
        let jan = (7, Route::B1, ScorePeriod::Part(Period::Month { year: 2024, month: 1 }));
        assert_eq!((s[&jan].route_changes, s[&jan].attended), (1, Hours::whole(40)));
    }

    #[test]
    fn a_period_without_reports_has_no_starts_figure_only_its_coverage() {
        let none: [Report; 0] = [];
        let one = [report("2025-03", 40, 36, Some(date!(2025 - 03 - 03)), vec![])];
        let input = |start, end, reports| ScoreInput {
            provider_id: 3,
            route: Route::Z,
            start_date: start,
            end_date: end,
            pip_date: None,
            dropped_out_on: None,
            change_dates: vec![],
            reports,
        };
        // Two placements start in 2025 and one runs into 2026; today is 06-12-2026, so nothing runs in 2027.
        let inputs = [
            input(date!(2025 - 02 - 01), date!(2026 - 01 - 31), &none[..]),
            input(date!(2025 - 03 - 01), date!(2025 - 12 - 31), &one[..]),
        ];
        let s = scorecard(&inputs, Grain::Year, 2025..=2027, TODAY);
        let y = |y| &s[&(3, Route::Z, ScorePeriod::Year(y))];
        // 2025: reports for 1 of 2 running placements; that one started in March.
        assert_eq!((y(2025).running, y(2025).reporting, y(2025).reported_starts()), (2, 1, Some(1)));
        // 2026: one placement runs in January and nothing is reported: no starts figure, never a 0.
        assert_eq!((y(2026).running, y(2026).reporting, y(2026).reported_starts()), (1, 0, None));
        assert!(!s.contains_key(&(3, Route::Z, ScorePeriod::Year(2027))));
        let later = [input(date!(2027 - 01 - 01), date!(2027 - 12 - 31), &none[..])];
        assert!(scorecard(&later, Grain::Year, 2027..=2027, TODAY).is_empty(), "a future start runs nowhere yet");
    }
}

#[cfg(test)]
mod wait_tests {
    use super::ScoreLine;
    use rust_decimal_macros::dec;

    #[test]
    fn the_median_wait_is_the_middle_one_or_the_mean_of_the_two_middle_ones_and_add_keeps_them() {
        let mut a = ScoreLine { waits: vec![58, 30], waited_count: 2, within_three_months: 2, ..Default::default() };
        // 30, 58: (30 + 58) / 2.
        assert_eq!(a.median_wait_days(), Some(dec!(44)));
        let b = ScoreLine { waits: vec![120], waited_count: 1, within_three_months: 0, ..Default::default() };
        a.add(&b);
        // 30, 58, 120: the middle one; 2 of 3 within three months = 66.7%.
        assert_eq!(a.median_wait_days(), Some(dec!(58)));
        assert_eq!(a.within_three_months_pct(), Some(dec!(66.7)));
        assert_eq!(ScoreLine::default().median_wait_days(), None);
        let c = ScoreLine { waits: vec![1, 2], ..Default::default() };
        assert_eq!(c.median_wait_days(), Some(dec!(1.5)));
    }
}
