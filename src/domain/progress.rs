//! Provider progress reports (voortgangsrapportages) per placement and period: hours offered and attended,
//! absence with its reason, catch-up hours, level per skill, exam attempts; and the four warnings a placement's
//! timeline shows. Pure rules, no IO.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::contract::Share;
use super::dates;
use super::fixed::{labelled, Fixed, Quantity};
use super::invoice_check::Rates;
use super::route::Route;
use super::validation::FieldErrors;
use crate::money::Money;

/// A report period: a calendar month (`2023-03`) or a quarter (`2023-K1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Period {
    Month { year: i32, month: u8 },
    Quarter { year: i32, quarter: u8 },
}

impl Period {
    /// `2023-03` (or `2023-3`) is March 2023; `2023-K1` (or `2023-Q1`) the first quarter.
    pub fn parse(text: &str) -> Result<Period, String> {
        let t = text.trim().to_uppercase();
        let bad =
            || format!("'{}' is geen periode; schrijf een maand als 2023-03 of een kwartaal als 2023-K1.", text.trim());
        let (y, rest) = t.split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) || y.len() != 4 {
            return Err(bad());
        }
        if let Some(q) = rest.strip_prefix('K').or_else(|| rest.strip_prefix('Q')) {
            let quarter: u8 = q.parse().map_err(|_| bad())?;
            if !(1..=4).contains(&quarter) {
                return Err(bad());
            }
            return Ok(Period::Quarter { year, quarter });
        }
        let month: u8 = rest.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || rest.len() > 2 {
            return Err(bad());
        }
        Ok(Period::Month { year, month })
    }

    pub fn month_of(day: Date) -> Period {
        Period::Month { year: day.year(), month: day.month() as u8 }
    }

    pub fn code(self) -> String {
        match self {
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => format!("{year:04}-K{quarter}"),
        }
    }

    pub fn label(self) -> String {
        match self {
            Period::Month { year, month } => {
                format!("{} {year}", crate::domain::dates::MONTH_NAMES[month as usize - 1])
            }
            Period::Quarter { year, quarter } => format!("{quarter}e kwartaal {year}"),
        }
    }

    fn first_month(self) -> (i32, u8, u8) {
        match self {
            Period::Month { year, month } => (year, month, 1),
            Period::Quarter { year, quarter } => (year, (quarter - 1) * 3 + 1, 3),
        }
    }

    pub fn start(self) -> Date {
        let (y, m, _) = self.first_month();
        Date::from_calendar_date(y, Month::try_from(m).expect("month"), 1).expect("first of month")
    }

    pub fn end(self) -> Date {
        let (_, _, n) = self.first_month();
        dates::add_months(self.start(), n as i32) - time::Duration::days(1)
    }

    /// The period right after this one, of the same length.
    pub fn next(self) -> Period {
        match self {
            Period::Month { year, month: 12 } => Period::Month { year: year + 1, month: 1 },
            Period::Month { year, month } => Period::Month { year, month: month + 1 },
            Period::Quarter { year, quarter: 4 } => Period::Quarter { year: year + 1, quarter: 1 },
            Period::Quarter { year, quarter } => Period::Quarter { year, quarter: quarter + 1 },
        }
    }

    pub fn contains(self, day: Date) -> bool {
        self.start() <= day && day <= self.end()
    }

    pub fn overlaps(self, other: Period) -> bool {
        self.start() <= other.end() && other.start() <= self.end()
    }

    /// Every period a report can have that lies within this one: itself, and for a quarter its three months.
    pub fn within(self) -> Vec<Period> {
        match self {
            Period::Month { .. } => vec![self],
            Period::Quarter { year, quarter } => {
                let first = (quarter - 1) * 3 + 1;
                let mut out = vec![self];
                out.extend((first..first + 3).map(|month| Period::Month { year, month }));
                out
            }
        }
    }
}

/// Hours with at most two decimals, never negative. Stored as hundredths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Hours(Fixed);

/// Hours are 0 to 100.000 (more in one period is a typing error).
const HOURS: Quantity = Quantity {
    noun: "aantal uren",
    percent: false,
    min: Some(Fixed::ZERO),
    max: Some(Fixed::whole(100_000)),
    min_exclusive: false,
    negative: Some("Een aantal uren kan niet negatief zijn ({})."),
    out_of_range: "{} uur is onmogelijk veel.",
};

impl Hours {
    pub const ZERO: Hours = Hours(Fixed::ZERO);

    pub fn from_x100(v: i64) -> Hours {
        Hours(Fixed::from_hundredths(v))
    }

    pub fn whole(h: i64) -> Hours {
        Hours(Fixed::whole(h))
    }

    pub fn x100(self) -> i64 {
        self.0.hundredths()
    }

    /// `12,5`, `12.5` or `12`; refuses negative numbers and more than two decimals, naming the field.
    pub fn parse(text: &str, label: &str) -> Result<Hours, String> {
        Fixed::parse(text, &HOURS).map(Hours).map_err(|m| labelled(label, &m))
    }

    pub fn decimal(self) -> Decimal {
        self.0.decimal()
    }

    /// `12,5` as Dutch screens show hours.
    pub fn dutch(self) -> String {
        self.0.dutch()
    }
}

impl std::ops::Add for Hours {
    type Output = Hours;
    fn add(self, o: Hours) -> Hours {
        Hours(self.0 + o.0)
    }
}

impl std::iter::Sum for Hours {
    fn sum<I: Iterator<Item = Hours>>(iter: I) -> Hours {
        Hours(iter.map(|h| h.0).sum())
    }
}

/// Why a participant was absent. Only `OwnFault` is the participant's fault (verwijtbaar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsenceReason {
    Illness,
    Pregnancy,
    Appointment,
    OwnFault,
    Other,
}

impl AbsenceReason {
    pub const ALL: [AbsenceReason; 5] = [
        AbsenceReason::Illness,
        AbsenceReason::Pregnancy,
        AbsenceReason::Appointment,
        AbsenceReason::OwnFault,
        AbsenceReason::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AbsenceReason::Illness => "illness",
            AbsenceReason::Pregnancy => "pregnancy",
            AbsenceReason::Appointment => "appointment",
            AbsenceReason::OwnFault => "own_fault",
            AbsenceReason::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AbsenceReason::Illness => "ziekte",
            AbsenceReason::Pregnancy => "zwangerschap",
            AbsenceReason::Appointment => "afspraak",
            AbsenceReason::OwnFault => "verwijtbaar",
            AbsenceReason::Other => "overig",
        }
    }

    /// A code or the Dutch word, case-insensitive.
    pub fn parse(text: &str) -> Option<AbsenceReason> {
        let t = text.trim().to_lowercase();
        AbsenceReason::ALL.into_iter().find(|r| r.code() == t || r.label() == t)
    }
}

/// The parts of the integration exam a report can hold attempts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExamPart {
    Reading,
    Listening,
    Speaking,
    Writing,
    Knm,
    Ona,
}

impl ExamPart {
    pub const ALL: [ExamPart; 6] =
        [ExamPart::Reading, ExamPart::Listening, ExamPart::Speaking, ExamPart::Writing, ExamPart::Knm, ExamPart::Ona];

    pub fn code(self) -> &'static str {
        match self {
            ExamPart::Reading => "reading",
            ExamPart::Listening => "listening",
            ExamPart::Speaking => "speaking",
            ExamPart::Writing => "writing",
            ExamPart::Knm => "knm",
            ExamPart::Ona => "ona",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExamPart::Reading => "lezen",
            ExamPart::Listening => "luisteren",
            ExamPart::Speaking => "spreken",
            ExamPart::Writing => "schrijven",
            ExamPart::Knm => "KNM",
            ExamPart::Ona => "ONA",
        }
    }

    pub fn parse(text: &str) -> Option<ExamPart> {
        let t = text.trim().to_lowercase();
        ExamPart::ALL.into_iter().find(|p| p.code() == t || p.label().to_lowercase() == t)
    }

    /// Language parts: the ones that show progress towards B1.
    pub fn is_language(self) -> bool {
        matches!(self, ExamPart::Reading | ExamPart::Listening | ExamPart::Speaking | ExamPart::Writing)
    }
}

/// One exam attempt as reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExamResult {
    pub part: ExamPart,
    pub date: Date,
    pub passed: bool,
}

fn names(list: &[&str]) -> String {
    list.join(", ")
}

/// Parses `lezen 12-03-2023 geslaagd; spreken 2023-03-14 gezakt` (parts separated by `;` or new lines).
pub fn parse_exams(text: &str) -> Result<Vec<ExamResult>, String> {
    let mut out = Vec::new();
    for item in text.split([';', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let words: Vec<&str> = item.split_whitespace().collect();
        let parts: Vec<&str> = ExamPart::ALL.iter().map(|p| p.label()).collect();
        let Some(part) = words.first().and_then(|w| ExamPart::parse(w)) else {
            return Err(format!(
                "onbekend examenonderdeel '{}' in '{item}'; kies uit {}",
                words.first().unwrap_or(&""),
                names(&parts)
            ));
        };
        let date = words.get(1).map(|w| dates::parse_form(w)).transpose().ok().flatten().flatten();
        let Some(date) = date else {
            return Err(format!(
                "geen geldige examendatum in '{item}'; schrijf bijvoorbeeld 'lezen 12-03-2023 geslaagd'"
            ));
        };
        let result = words[2..].join(" ").to_lowercase();
        let passed = match result.as_str() {
            "geslaagd" | "behaald" | "voldoende" => true,
            "gezakt" | "niet behaald" | "niet geslaagd" | "onvoldoende" => false,
            _ => {
                return Err(format!("onbekende uitslag '{result}' in '{item}'; schrijf geslaagd of gezakt"));
            }
        };
        out.push(ExamResult { part, date, passed });
    }
    Ok(out)
}

/// The exams as the import and the form write them.
pub fn exams_text(exams: &[ExamResult]) -> String {
    exams
        .iter()
        .map(|e| {
            format!("{} {} {}", e.part.label(), dates::display(e.date), if e.passed { "geslaagd" } else { "gezakt" })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A reported language level (CEFR).
pub const LEVELS: [&str; 7] = ["A0", "A1", "A2", "B1", "B2", "C1", "C2"];

/// The four skills a level can be reported for, with their Dutch names.
pub const SKILLS: [&str; 4] = ["lezen", "luisteren", "spreken", "schrijven"];

pub fn parse_level(text: &str, skill: &str) -> Result<String, String> {
    let t = text.trim().to_uppercase();
    if t.is_empty() || LEVELS.contains(&t.as_str()) {
        Ok(t)
    } else {
        Err(format!("niveau {skill}: '{}' is geen niveau; gebruik {}", text.trim(), names(&LEVELS)))
    }
}

/// Whether a reported level is B1 or higher.
pub fn at_least_b1(level: &str) -> bool {
    LEVELS.iter().position(|l| *l == level).is_some_and(|i| i >= 3)
}

/// What a provider reports for one placement and period, as typed or read from a spreadsheet.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReportForm {
    pub period: String,
    pub first_lesson: String,
    pub offered: String,
    pub attended: String,
    pub absence: String,
    pub absence_reason: String,
    pub catch_up: String,
    pub level_reading: String,
    pub level_listening: String,
    pub level_speaking: String,
    pub level_writing: String,
    pub exams: String,
    pub remarks: String,
}

/// The figures of a report that decide whether two reports for the same period are the same report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportDraft {
    pub period: Period,
    pub first_lesson: Option<Date>,
    pub offered: Hours,
    pub attended: Hours,
    pub absence: Hours,
    pub absence_reason: Option<AbsenceReason>,
    pub catch_up: Hours,
    /// Reading, listening, speaking, writing; empty when not reported.
    pub levels: [String; 4],
    pub exams: Vec<ExamResult>,
    pub remarks: String,
}

impl ReportDraft {
    /// The fields that differ from another report for the same period, by Dutch name.
    pub fn differences(&self, other: &ReportDraft) -> Vec<&'static str> {
        let mut d = Vec::new();
        let mut check = |same: bool, name: &'static str| {
            if !same {
                d.push(name)
            }
        };
        check(self.offered == other.offered, "uren aangeboden");
        check(self.attended == other.attended, "uren aanwezig");
        check(self.absence == other.absence, "uren verzuim");
        check(self.absence_reason == other.absence_reason, "reden verzuim");
        check(self.catch_up == other.catch_up, "inhaaluren");
        check(self.first_lesson == other.first_lesson, "eerste lesdag");
        check(self.levels == other.levels, "niveaus");
        check(self.exams == other.exams, "examens");
        check(self.remarks == other.remarks, "opmerkingen");
        d
    }
}

/// Validates a report for a placement that started on `placement_start`. Every problem gets a Dutch message.
pub fn validate_report(form: &ReportForm, placement_start: Date) -> Result<ReportDraft, FieldErrors> {
    let mut e = FieldErrors::new();
    let period = match Period::parse(&form.period) {
        Ok(p) => Some(p),
        Err(m) => {
            e.add("period", m);
            None
        }
    };
    if let Some(p) = period {
        if p.end() < placement_start {
            e.add(
                "period",
                format!(
                    "De periode {} ligt vóór de start van de plaatsing ({}).",
                    p.label(),
                    dates::display(placement_start)
                ),
            );
        }
    }
    let mut hours = |field: &'static str, label: &str, value: &str, required: bool| {
        if value.trim().is_empty() {
            if required {
                e.add(field, format!("{label} is verplicht."));
                return None;
            }
            return Some(Hours::ZERO);
        }
        match Hours::parse(value, label) {
            Ok(h) => Some(h),
            Err(m) => {
                e.add(field, m);
                None
            }
        }
    };
    let offered = hours("offered", "Uren aangeboden", &form.offered, true);
    let attended = hours("attended", "Uren aanwezig", &form.attended, true);
    let absence = hours("absence", "Uren verzuim", &form.absence, false);
    let catch_up = hours("catch_up", "Inhaaluren", &form.catch_up, false);
    if let (Some(o), Some(a)) = (offered, attended) {
        if a > o {
            e.add(
                "attended",
                format!("Er zijn meer uren aanwezig ({}) dan aangeboden ({}); dat kan niet.", a.dutch(), o.dutch()),
            );
        }
    }
    let absence_reason = if form.absence_reason.trim().is_empty() {
        None
    } else {
        let r = AbsenceReason::parse(&form.absence_reason);
        if r.is_none() {
            e.add(
                "absence_reason",
                format!(
                    "Onbekende reden van verzuim '{}'; kies ziekte, zwangerschap, afspraak, verwijtbaar of overig.",
                    form.absence_reason.trim()
                ),
            );
        }
        r
    };
    if absence.is_some_and(|a| a > Hours::ZERO) && form.absence_reason.trim().is_empty() {
        e.add(
            "absence_reason",
            "Geef de reden van het verzuim (ziekte, zwangerschap, afspraak, verwijtbaar of overig).",
        );
    }
    let first_lesson = match dates::parse_form(&form.first_lesson) {
        Ok(d) => d,
        Err(m) => {
            e.add("first_lesson", m);
            None
        }
    };
    let mut levels: [String; 4] = Default::default();
    for (i, (value, skill)) in [&form.level_reading, &form.level_listening, &form.level_speaking, &form.level_writing]
        .iter()
        .zip(SKILLS)
        .enumerate()
    {
        match parse_level(value, skill) {
            Ok(l) => levels[i] = l,
            Err(m) => e.add(["level_reading", "level_listening", "level_speaking", "level_writing"][i], m),
        }
    }
    let exams = match parse_exams(&form.exams) {
        Ok(x) => x,
        Err(m) => {
            e.add("exams", format!("Examens: {m}."));
            Vec::new()
        }
    };
    if let Some(p) = period {
        if let Some(x) = exams.iter().find(|x| !p.contains(x.date)) {
            e.add(
                "exams",
                format!(
                    "Het examen {} van {} valt buiten de periode {}.",
                    x.part.label(),
                    dates::display(x.date),
                    p.label()
                ),
            );
        }
    }
    let remarks = super::validation::text(&mut e, "remarks", "Opmerkingen", &form.remarks, 2000, false);
    match (period, offered, attended, absence, catch_up) {
        (Some(period), Some(offered), Some(attended), Some(absence), Some(catch_up)) if e.is_empty() => {
            Ok(ReportDraft {
                period,
                first_lesson,
                offered,
                attended,
                absence,
                absence_reason,
                catch_up,
                levels,
                exams,
                remarks,
            })
        }
        _ => Err(e),
    }
}

/// A stored report as the timeline, warnings and checks read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: i64,
    pub placement_id: i64,
    pub draft: ReportDraft,
}

/// Attended divided by offered as a percentage with one decimal; None when nothing was offered.
pub fn attendance_pct(offered: Hours, attended: Hours) -> Option<Decimal> {
    if offered.x100() == 0 {
        return None;
    }
    Some((Decimal::new(attended.x100() * 100, 0) / Decimal::new(offered.x100(), 0)).round_dp(1))
}

/// Below the norm (in basis points, 8000 = 80%), exactly: attended * 10000 < offered * norm.
pub fn below_norm(offered: Hours, attended: Hours, norm_bp: i64) -> bool {
    offered.x100() > 0 && (attended.x100() as i128) * 10_000 < (offered.x100() as i128) * norm_bp as i128
}

/// Hours offered and attended over some reports, held against one attendance norm in basis points: a contract's
/// reports of a year against that contract's own norm (the contract page and the indicators).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AgainstNorm {
    pub offered: Hours,
    pub attended: Hours,
    pub norm_bp: i64,
}

impl AgainstNorm {
    /// Attended over offered, one decimal, as everywhere ([`attendance_pct`]).
    pub fn pct(self) -> Option<Decimal> {
        attendance_pct(self.offered, self.attended)
    }

    /// Below the norm, exactly ([`below_norm`]).
    pub fn below(self) -> bool {
        below_norm(self.offered, self.attended, self.norm_bp)
    }

    /// Hours were offered and the attendance is at or above the norm. Without offered hours a norm is neither
    /// met nor missed.
    pub fn meets(self) -> bool {
        self.offered.x100() > 0 && !self.below()
    }
}

/// The latest day lessons may start: 3 calendar months after the PIP was set (clamped to the month's end).
pub fn start_deadline(pip_date: Date) -> Date {
    dates::add_months(pip_date, 3)
}

/// When lessons actually started: the earliest reported first lesson day, else the start of the first period
/// with attended hours.
pub fn actual_start(reports: &[Report]) -> Option<Date> {
    let first_lesson = reports.iter().filter_map(|r| r.draft.first_lesson).min();
    first_lesson
        .or_else(|| reports.iter().filter(|r| r.draft.attended > Hours::ZERO).map(|r| r.draft.period.start()).min())
}

/// The warnings a placement's timeline shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Warning {
    /// Lessons did not start within 3 months of the PIP date (started late, or not at all by today).
    LateStart { pip_date: Date, deadline: Date, started: Option<Date> },
    /// Attendance below the contract's norm in two consecutive periods.
    LowAttendance { first: Period, second: Period, norm_bp: i64 },
    /// 600 or more hours attended on the B1-route without any skill at B1 or a passed language exam.
    B1HoursWithoutProgress { attended: Hours },
    /// A third (or later) attempt at an exam part: the municipality funds only the first two.
    ThirdAttempt { part: ExamPart, date: Date, attempt: u32 },
}

impl Warning {
    /// The Dutch sentence on screen.
    pub fn message(&self) -> String {
        match self {
            Warning::LateStart { pip_date, deadline, started: Some(s) } => format!(
                "Late start: de lessen begonnen op {}, meer dan 3 maanden na het PIP van {} (uiterlijk {}). De deelnemer kan verlenging vragen.",
                dates::display(*s),
                dates::display(*pip_date),
                dates::display(*deadline)
            ),
            Warning::LateStart { pip_date, deadline, started: None } => format!(
                "Geen start: 3 maanden na het PIP van {} (uiterlijk {}) zijn de lessen nog niet begonnen. De deelnemer kan verlenging vragen.",
                dates::display(*pip_date),
                dates::display(*deadline)
            ),
            Warning::LowAttendance { first, second, norm_bp } => format!(
                "Aanwezigheid onder de norm van {} in twee perioden na elkaar: {} en {}.",
                super::contract::Share::from_basis_points(*norm_bp).display(),
                first.label(),
                second.label()
            ),
            Warning::B1HoursWithoutProgress { attended } => format!(
                "{} uur aanwezig op de B1-route zonder vooruitgang naar B1 (geen vaardigheid op B1, geen taalexamen gehaald): kandidaat voor een routewijziging.",
                attended.dutch()
            ),
            Warning::ThirdAttempt { part, date, attempt } => format!(
                "{}e examenpoging {} op {}: de gemeente betaalt alleen de eerste twee pogingen per onderdeel (niet gefinancierd).",
                attempt,
                part.label(),
                dates::display(*date)
            ),
        }
    }
}

/// One message per kind of warning: a placement with low attendance in many periods, or several unfunded exam
/// attempts, gets one line that lists them rather than a banner each. Consecutive low-attendance pairs merge
/// into runs ("jan 2023 tot en met apr 2023").
pub fn merged_messages(warnings: &[Warning]) -> Vec<String> {
    let mut out = Vec::new();
    let mut runs: Vec<(Period, Period)> = Vec::new();
    let mut norm = None;
    let mut attempts = Vec::new();
    for w in warnings {
        match w {
            Warning::LowAttendance { first, second, norm_bp } => {
                norm = Some(*norm_bp);
                match runs.last_mut() {
                    Some((_, end)) if end == first => *end = *second,
                    _ => runs.push((*first, *second)),
                }
            }
            Warning::ThirdAttempt { part, date, attempt } => {
                attempts.push(format!("{attempt}e poging {} op {}", part.label(), dates::display(*date)))
            }
            other => out.push(other.message()),
        }
    }
    if let Some(norm_bp) = norm {
        let runs: Vec<String> = runs.iter().map(|(a, b)| format!("{} tot en met {}", a.label(), b.label())).collect();
        out.push(format!(
            "Aanwezigheid onder de norm van {} in twee of meer perioden na elkaar: {}.",
            super::contract::Share::from_basis_points(norm_bp).display(),
            runs.join("; ")
        ));
    }
    if !attempts.is_empty() {
        out.push(format!(
            "Examenpogingen na de eerste twee per onderdeel, die de gemeente niet betaalt (niet gefinancierd): {}.",
            attempts.join("; ")
        ));
    }
    out
}

/// No start within 3 months of the PIP date. Starting exactly on the deadline is in time.
pub fn late_start(pip_date: Option<Date>, started: Option<Date>, today: Date) -> Option<Warning> {
    let pip_date = pip_date?;
    let deadline = start_deadline(pip_date);
    let late = match started {
        Some(s) => s > deadline,
        None => today > deadline,
    };
    late.then_some(Warning::LateStart { pip_date, deadline, started })
}

/// Attendance below the norm in two consecutive periods (the second right after the first). `reports` in any order.
pub fn low_attendance(reports: &[Report], norm_bp: i64) -> Vec<Warning> {
    let mut sorted: Vec<&ReportDraft> = reports.iter().map(|r| &r.draft).collect();
    sorted.sort_by_key(|r| r.period.start());
    sorted
        .windows(2)
        .filter(|w| {
            w[0].period.next() == w[1].period
                && below_norm(w[0].offered, w[0].attended, norm_bp)
                && below_norm(w[1].offered, w[1].attended, norm_bp)
        })
        .map(|w| Warning::LowAttendance { first: w[0].period, second: w[1].period, norm_bp })
        .collect()
}

/// 600 attended hours on the B1-route without progress. Exactly 600 hours is enough to warn.
pub fn b1_without_progress(current_route: Route, reports: &[Report]) -> Option<Warning> {
    if current_route != Route::B1 {
        return None;
    }
    let attended: Hours = reports.iter().map(|r| r.draft.attended).sum();
    let progress = reports.iter().any(|r| {
        r.draft.levels.iter().any(|l| at_least_b1(l)) || r.draft.exams.iter().any(|x| x.passed && x.part.is_language())
    });
    (attended >= Hours::whole(600) && !progress).then_some(Warning::B1HoursWithoutProgress { attended })
}

/// Each attempt with its number per part, in date order.
pub fn numbered_attempts(reports: &[Report]) -> Vec<(u32, ExamResult)> {
    let mut all: Vec<ExamResult> = reports.iter().flat_map(|r| r.draft.exams.iter().cloned()).collect();
    all.sort_by_key(|x| (x.part, x.date));
    let mut out = Vec::with_capacity(all.len());
    let mut last: Option<(ExamPart, u32)> = None;
    for x in all {
        let n = match last {
            Some((p, n)) if p == x.part => n + 1,
            _ => 1,
        };
        last = Some((x.part, n));
        out.push((n, x));
    }
    out.sort_by_key(|(_, x)| x.date);
    out
}

/// Third and later attempts: not funded. The second attempt is still funded.
pub fn unfunded_attempts(reports: &[Report]) -> Vec<Warning> {
    numbered_attempts(reports)
        .into_iter()
        .filter(|(n, _)| *n >= 3)
        .map(|(attempt, x)| Warning::ThirdAttempt { part: x.part, date: x.date, attempt })
        .collect()
}

/// Every warning for a placement.
pub fn warnings(
    pip_date: Option<Date>,
    current_route: Route,
    reports: &[Report],
    norm_bp: i64,
    today: Date,
) -> Vec<Warning> {
    let mut w = Vec::new();
    w.extend(late_start(pip_date, actual_start(reports), today));
    w.extend(low_attendance(reports, norm_bp));
    w.extend(b1_without_progress(current_route, reports));
    w.extend(unfunded_attempts(reports));
    w
}

/// What a contract agrees about progress: the attendance norm, and optional rates per attended hour and per
/// catch-up hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProgressTerms {
    pub attendance_norm_bp: i64,
    pub rates: Rates,
}

/// An optional rate: empty is none; otherwise an amount that is not negative.
fn rate(errors: &mut FieldErrors, field: &'static str, text: &str) -> Option<Money> {
    if text.trim().is_empty() {
        return None;
    }
    match Money::parse(text) {
        Ok(m) if m.is_negative() => {
            errors.add(field, "Een tarief kan niet negatief zijn.");
            None
        }
        Ok(m) => Some(m),
        Err(m) => {
            errors.add(field, format!("Tarief: {m}."));
            None
        }
    }
}

/// The progress terms form as entered (kept as text, so a form with errors comes back as typed).
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct TermsForm {
    pub attendance_norm: String,
    pub catch_up_rate: String,
    pub hourly_rate: String,
}

impl TermsForm {
    /// The stored terms as the form shows them.
    pub fn of(t: &ProgressTerms) -> TermsForm {
        TermsForm {
            attendance_norm: Share::from_basis_points(t.attendance_norm_bp).percent().dutch_padded(),
            catch_up_rate: t.rates.catch_up.map(|m| m.dutch()).unwrap_or_default(),
            hourly_rate: t.rates.hourly.map(|m| m.dutch()).unwrap_or_default(),
        }
    }
}

/// Every field checked before anything is saved; each problem next to its own field.
pub fn validate_terms(f: &TermsForm) -> Result<ProgressTerms, FieldErrors> {
    let mut e = FieldErrors::new();
    let norm = if f.attendance_norm.trim().is_empty() {
        e.add("attendance_norm", "Vul een aanwezigheidsnorm in, een percentage tussen 0 en 100, bijvoorbeeld 80.");
        None
    } else {
        Share::parse(&f.attendance_norm)
            .map_err(|m| {
                e.add("attendance_norm", format!("{m} De aanwezigheidsnorm is een percentage, bijvoorbeeld 80."))
            })
            .ok()
    };
    let catch_up = rate(&mut e, "catch_up_rate", &f.catch_up_rate);
    let hourly = rate(&mut e, "hourly_rate", &f.hourly_rate);
    match norm {
        Some(norm) if e.is_empty() => {
            Ok(ProgressTerms { attendance_norm_bp: norm.basis_points(), rates: Rates { hourly, catch_up } })
        }
        _ => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn report(period: &str, offered: i64, attended: i64) -> Report {
        let draft = ReportDraft {
            period: Period::parse(period).unwrap(),
            first_lesson: None,
            offered: Hours::whole(offered),
            attended: Hours::whole(attended),
            absence: Hours::ZERO,
            absence_reason: None,
            catch_up: Hours::ZERO,
            levels: Default::default(),
            exams: vec![],
            remarks: String::new(),
        };
        Report { id: 0, placement_id: 1, draft }
    }

    #[test]
    fn warnings_of_one_kind_merge_into_one_message_with_runs_of_periods() {
        let low = |a: &str, b: &str| Warning::LowAttendance {
            first: Period::parse(a).unwrap(),
            second: Period::parse(b).unwrap(),
            norm_bp: 8000,
        };
        let third = |attempt, day| Warning::ThirdAttempt { part: ExamPart::Reading, date: day, attempt };
        let warnings = [
            low("2023-01", "2023-02"),
            low("2023-02", "2023-03"),
            low("2023-03", "2023-04"),
            low("2023-06", "2023-07"),
            third(3, date!(2023 - 05 - 01)),
            third(4, date!(2023 - 09 - 01)),
        ];
        let m = merged_messages(&warnings);
        assert_eq!(m.len(), 2, "{m:?}");
        let [jan, apr, jun, jul] =
            ["2023-01", "2023-04", "2023-06", "2023-07"].map(|p| Period::parse(p).unwrap().label());
        assert_eq!(
            m[0],
            format!("Aanwezigheid onder de norm van 80% in twee of meer perioden na elkaar: {jan} tot en met {apr}; {jun} tot en met {jul}.")
        );
        assert_eq!(
            m[1],
            "Examenpogingen na de eerste twee per onderdeel, die de gemeente niet betaalt (niet gefinancierd): 3e poging lezen op 01-05-2023; 4e poging lezen op 01-09-2023."
        );
        let late =
            Warning::LateStart { pip_date: date!(2023 - 01 - 01), deadline: date!(2023 - 04 - 01), started: None };
        assert_eq!(merged_messages(std::slice::from_ref(&late)), [late.message()]);
    }

    #[test]
    fn periods_parse_and_know_their_days() {
        let m = Period::parse("2024-02").unwrap();
        assert_eq!((m.start(), m.end()), (date!(2024 - 02 - 01), date!(2024 - 02 - 29)));
        let q = Period::parse("2023-k4").unwrap();
        assert_eq!((q.start(), q.end()), (date!(2023 - 10 - 01), date!(2023 - 12 - 31)));
        assert_eq!(q.code(), "2023-K4");
        assert_eq!(q.next(), Period::parse("2024-Q1").unwrap());
        assert_eq!(Period::parse("2023-12").unwrap().next().code(), "2024-01");
        assert!(Period::parse("2023-13").is_err());
        assert!(Period::parse("maart").is_err());
        assert!(Period::parse("2023-K5").is_err());
        assert!(q.overlaps(Period::parse("2023-11").unwrap()));
        assert!(!q.overlaps(Period::parse("2024-01").unwrap()));
        let codes = |p: Period| p.within().into_iter().map(Period::code).collect::<Vec<_>>();
        assert_eq!(codes(q), ["2023-K4", "2023-10", "2023-11", "2023-12"]);
        assert_eq!(codes(m), ["2024-02"]);
        // What lies within is exactly what starts and ends inside: no other month or quarter does.
        for p in q.within() {
            assert!(q.start() <= p.start() && p.end() <= q.end());
        }
    }

    #[test]
    fn start_exactly_three_months_after_the_pip_is_in_time_one_day_later_is_not() {
        let pip = date!(2023 - 01 - 15);
        assert_eq!(start_deadline(pip), date!(2023 - 04 - 15));
        let today = date!(2024 - 01 - 01);
        assert_eq!(late_start(Some(pip), Some(date!(2023 - 04 - 15)), today), None);
        assert!(matches!(late_start(Some(pip), Some(date!(2023 - 04 - 16)), today), Some(Warning::LateStart { .. })));
        // Not started yet: on the deadline itself no warning, the day after one.
        assert_eq!(late_start(Some(pip), None, date!(2023 - 04 - 15)), None);
        assert!(late_start(Some(pip), None, date!(2023 - 04 - 16)).is_some());
        // 30 November + 3 months = 28 February (clamped), not 2 March.
        assert_eq!(start_deadline(date!(2022 - 11 - 30)), date!(2023 - 02 - 28));
        assert_eq!(late_start(None, None, today), None);
    }

    #[test]
    fn exactly_600_hours_warns_599_99_does_not() {
        let mut reports: Vec<Report> = (1..=6).map(|m| report(&format!("2023-{m:02}"), 110, 100)).collect();
        assert!(b1_without_progress(Route::B1, &reports).is_some());
        reports[5].draft.attended = Hours::from_x100(9_999);
        assert_eq!(b1_without_progress(Route::B1, &reports), None);
        reports[5].draft.attended = Hours::whole(100);
        assert_eq!(b1_without_progress(Route::Z, &reports), None);
        reports[2].draft.levels[2] = "B1".into();
        assert_eq!(b1_without_progress(Route::B1, &reports), None);
    }

    #[test]
    fn the_second_attempt_is_funded_the_third_is_not() {
        let mut r1 = report("2023-03", 10, 10);
        let mut r2 = report("2023-06", 10, 10);
        r1.draft.exams = vec![
            ExamResult { part: ExamPart::Reading, date: date!(2023 - 03 - 02), passed: false },
            ExamResult { part: ExamPart::Speaking, date: date!(2023 - 03 - 02), passed: false },
            ExamResult { part: ExamPart::Reading, date: date!(2023 - 03 - 30), passed: false },
        ];
        r2.draft.exams = vec![ExamResult { part: ExamPart::Speaking, date: date!(2023 - 06 - 01), passed: true }];
        assert!(unfunded_attempts(&[r1.clone(), r2.clone()]).is_empty());
        r2.draft.exams.push(ExamResult { part: ExamPart::Reading, date: date!(2023 - 06 - 20), passed: true });
        assert_eq!(
            unfunded_attempts(&[r2, r1]),
            [Warning::ThirdAttempt { part: ExamPart::Reading, date: date!(2023 - 06 - 20), attempt: 3 }]
        );
    }

    #[test]
    fn attendance_below_the_norm_twice_in_a_row_warns_exactly_at_the_norm_does_not() {
        // 80 of 100 is exactly the norm: not below.
        assert!(!below_norm(Hours::whole(100), Hours::whole(80), 8000));
        assert!(below_norm(Hours::whole(100), Hours::from_x100(7_999), 8000));
        // 20 of 40 hours is exactly a 50% norm: met; 36 of 40 (90%) misses a 95% norm.
        let a =
            |attended, norm_bp| AgainstNorm { offered: Hours::whole(40), attended: Hours::whole(attended), norm_bp };
        assert!(a(20, 5000).meets() && !a(20, 5000).below());
        assert!(a(36, 9500).below() && !a(36, 9500).meets());
        assert_eq!(a(36, 9500).pct(), Some(Decimal::new(900, 1)));
        let none = AgainstNorm { offered: Hours::ZERO, attended: Hours::ZERO, norm_bp: 8000 };
        assert!(!none.meets() && !none.below(), "no hours offered: neither");
        let at = [report("2023-01", 100, 80), report("2023-02", 100, 80)];
        assert!(low_attendance(&at, 8000).is_empty());
        let once = [report("2023-01", 100, 79), report("2023-02", 100, 80), report("2023-03", 100, 79)];
        assert!(low_attendance(&once, 8000).is_empty());
        // Two low periods with a gap between them are not "two in a row".
        let gap = [report("2023-01", 100, 70), report("2023-03", 100, 70)];
        assert!(low_attendance(&gap, 8000).is_empty());
        let twice = [report("2023-02", 100, 79), report("2023-01", 100, 50)];
        assert_eq!(
            low_attendance(&twice, 8000),
            [Warning::LowAttendance {
                first: Period::parse("2023-01").unwrap(),
                second: Period::parse("2023-02").unwrap(),
                norm_bp: 8000
            }]
        );
        // The contract's own norm counts: 79 of 100 is fine under a 75% norm.
        assert!(low_attendance(&twice[..1], 7500).is_empty());
        assert_eq!(attendance_pct(Hours::whole(3), Hours::whole(2)), Some(Decimal::new(667, 1)));
        assert_eq!(attendance_pct(Hours::ZERO, Hours::ZERO), None);
    }

    fn form(period: &str, offered: &str, attended: &str) -> ReportForm {
        ReportForm { period: period.into(), offered: offered.into(), attended: attended.into(), ..Default::default() }
    }

    #[test]
    fn bad_reports_get_a_dutch_message_per_field() {
        let start = date!(2023 - 03 - 15);
        let e = validate_report(&form("2023-03", "10", "12"), start).unwrap_err();
        assert!(e.get("attended").unwrap().contains("meer uren aanwezig"), "{e:?}");
        let e = validate_report(&form("2023-03", "-4", "0"), start).unwrap_err();
        assert!(e.get("offered").unwrap().contains("niet negatief"), "{e:?}");
        let e = validate_report(&form("2023-02", "10", "8"), start).unwrap_err();
        assert!(e.get("period").unwrap().contains("vóór de start"), "{e:?}");
        let mut f = form("2023-03", "10", "8");
        f.exams = "rekenen 20-03-2023 geslaagd".into();
        let e = validate_report(&f, start).unwrap_err();
        assert!(e.get("exams").unwrap().contains("onbekend examenonderdeel 'rekenen'"), "{e:?}");
        f.exams = "lezen 20-04-2023 geslaagd".into();
        assert!(validate_report(&f, start).unwrap_err().get("exams").unwrap().contains("buiten de periode"));
        f.exams = "Lezen 20-03-2023 geslaagd; spreken 2023-03-21 gezakt".into();
        f.absence = "2,5".into();
        f.absence_reason = "ziekte".into();
        let d = validate_report(&f, start).unwrap();
        assert_eq!(d.exams.len(), 2);
        assert_eq!(d.absence, Hours::from_x100(250));
        assert_eq!(d.absence_reason, Some(AbsenceReason::Illness));
        assert_eq!(exams_text(&d.exams), "lezen 20-03-2023 geslaagd; spreken 21-03-2023 gezakt");
        // The period that holds the start is fine (start on the 15th, March report).
        assert!(validate_report(&form("2023-K1", "10", "8"), start).is_ok());
    }

    fn terms_form(norm: &str, catch_up: &str, hourly: &str) -> TermsForm {
        TermsForm { attendance_norm: norm.into(), catch_up_rate: catch_up.into(), hourly_rate: hourly.into() }
    }

    #[test]
    fn terms_read_a_dutch_norm_and_rates_and_an_empty_rate_is_none() {
        // 82,5% is 8250 basis points; 45,00 is 4500 cents; the hourly rate is left empty.
        assert_eq!(
            validate_terms(&terms_form("82,5", "45,00", " ")),
            Ok(ProgressTerms {
                attendance_norm_bp: 8250,
                rates: Rates { hourly: None, catch_up: Some(Money::from_cents(4500)) },
            })
        );
        // The stored terms come back as the form showed them.
        let t = ProgressTerms {
            attendance_norm_bp: 8000,
            rates: Rates { hourly: Some(Money::from_cents(1250)), catch_up: None },
        };
        assert_eq!(validate_terms(&TermsForm::of(&t)), Ok(t));
    }

    #[test]
    fn terms_name_each_wrong_field_and_save_nothing() {
        let e = validate_terms(&terms_form("", "-1,00", "12,50")).unwrap_err();
        assert_eq!(
            e.get("attendance_norm"),
            Some("Vul een aanwezigheidsnorm in, een percentage tussen 0 en 100, bijvoorbeeld 80.")
        );
        assert_eq!(e.get("catch_up_rate"), Some("Een tarief kan niet negatief zijn."));
        assert_eq!(e.get("hourly_rate"), None);
        // A good norm does not rescue a bad rate.
        let e = validate_terms(&terms_form("80", "", "-0,01")).unwrap_err();
        assert_eq!(e.iter().map(|(f, _)| f).collect::<Vec<_>>(), vec!["hourly_rate"]);
    }
}
