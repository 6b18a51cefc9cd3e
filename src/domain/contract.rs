//! Contracts with language providers: extension options and the derived status, tariffs per route
//! (indexation by validity period), payment milestones, and the ceiling.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use super::dates;
use super::fixed::{Fixed, Quantity};
use super::route::Route;
use crate::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionStatus {
    Pending,
    Exercised,
    Declined,
}

impl OptionStatus {
    pub const ALL: [OptionStatus; 3] = [OptionStatus::Pending, OptionStatus::Exercised, OptionStatus::Declined];

    pub fn code(self) -> &'static str {
        match self {
            OptionStatus::Pending => "pending",
            OptionStatus::Exercised => "exercised",
            OptionStatus::Declined => "declined",
        }
    }

    pub fn parse(code: &str) -> Option<OptionStatus> {
        OptionStatus::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            OptionStatus::Pending => "Nog te besluiten",
            OptionStatus::Exercised => "Gelicht",
            OptionStatus::Declined => "Niet gelicht",
        }
    }
}

/// An option to extend the contract (verlengingsoptie).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtensionOption {
    pub id: i64,
    pub new_end_date: Date,
    /// The last day to tell the provider whether the option is taken.
    pub notice_deadline: Date,
    pub status: OptionStatus,
    pub decision_reference: String,
    pub decision_date: Option<Date>,
}

/// The dates of a contract that its status follows from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractPeriod {
    pub start_date: Date,
    pub initial_end_date: Date,
    pub options: Vec<ExtensionOption>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// Not started yet.
    Draft,
    Active,
    /// Running on an exercised extension option.
    InOptionPeriod,
    Ended,
}

impl ContractStatus {
    pub const ALL: [ContractStatus; 4] =
        [ContractStatus::Draft, ContractStatus::Active, ContractStatus::InOptionPeriod, ContractStatus::Ended];

    pub fn code(self) -> &'static str {
        match self {
            ContractStatus::Draft => "draft",
            ContractStatus::Active => "active",
            ContractStatus::InOptionPeriod => "in_option_period",
            ContractStatus::Ended => "ended",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ContractStatus::Draft => "Nog niet gestart",
            ContractStatus::Active => "Lopend",
            ContractStatus::InOptionPeriod => "In optieperiode",
            ContractStatus::Ended => "Beëindigd",
        }
    }
}

impl ContractPeriod {
    /// The end date as it stands: the initial end, moved by every exercised option.
    pub fn current_end(&self) -> Date {
        self.options
            .iter()
            .filter(|o| o.status == OptionStatus::Exercised)
            .map(|o| o.new_end_date)
            .fold(self.initial_end_date, Date::max)
    }

    /// The latest end the contract can still reach: exercised and pending options, not declined ones.
    pub fn furthest_end(&self) -> Date {
        self.options
            .iter()
            .filter(|o| o.status != OptionStatus::Declined)
            .map(|o| o.new_end_date)
            .fold(self.initial_end_date, Date::max)
    }

    pub fn status(&self, today: Date) -> ContractStatus {
        if today < self.start_date {
            ContractStatus::Draft
        } else if today <= self.initial_end_date {
            ContractStatus::Active
        } else if today <= self.current_end() {
            ContractStatus::InOptionPeriod
        } else {
            ContractStatus::Ended
        }
    }

    /// Whether a placement may start on `day`: within the contract, options included.
    pub fn covers(&self, day: Date) -> bool {
        self.start_date <= day && day <= self.furthest_end()
    }

    /// Pending options whose notice deadline falls within `days` from today (today included).
    pub fn deadlines_within(&self, today: Date, days: i64) -> Vec<&ExtensionOption> {
        self.options
            .iter()
            .filter(|o| o.status == OptionStatus::Pending)
            .filter(|o| o.notice_deadline >= today && (o.notice_deadline - today).whole_days() <= days)
            .collect()
    }

    /// Checks a new option against the contract as it stands: it must extend beyond every end so far,
    /// and its notice deadline must fall before the end it extends.
    pub fn validate_new_option(&self, new_end: Date, notice_deadline: Date) -> Result<(), (&'static str, String)> {
        let end_now = self.furthest_end();
        if new_end <= end_now {
            return Err((
                "new_end_date",
                format!(
                    "De nieuwe einddatum ({}) moet na de huidige einddatum inclusief opties ({}) liggen.",
                    dates::display(new_end),
                    dates::display(end_now)
                ),
            ));
        }
        if notice_deadline > end_now {
            return Err((
                "notice_deadline",
                format!(
                    "De opzegtermijn ({}) moet vóór het einde van de lopende periode ({}) liggen.",
                    dates::display(notice_deadline),
                    dates::display(end_now)
                ),
            ));
        }
        Ok(())
    }
}

/// The fixed budget per participant for a route, valid for a period (indexation gives a new period).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tariff {
    pub id: i64,
    pub route: Route,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub amount: Money,
}

impl Tariff {
    fn covers(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|u| day <= u)
    }

    fn overlaps(&self, from: Date, until: Option<Date>) -> bool {
        let ends_before = |end: Option<Date>, start: Date| end.is_some_and(|e| e < start);
        !(ends_before(self.valid_until, from) || ends_before(until, self.valid_from))
    }
}

/// The tariff that applies to a placement starting on `day`.
pub fn tariff_on(tariffs: &[Tariff], route: Route, day: Date) -> Option<&Tariff> {
    tariffs.iter().find(|t| t.route == route && t.covers(day))
}

/// Checks a new tariff period against the existing ones for the same route.
pub fn validate_tariff(
    route: Route,
    from: Date,
    until: Option<Date>,
    amount: Money,
    existing: &[Tariff],
) -> Result<(), (&'static str, String)> {
    if until.is_some_and(|u| u < from) {
        return Err(("valid_until", "Geldig tot ligt vóór geldig vanaf.".into()));
    }
    if amount.is_negative() || amount.is_zero() {
        return Err(("amount", "Een tarief is een bedrag groter dan nul.".into()));
    }
    if let Some(t) = existing.iter().find(|t| t.route == route && t.overlaps(from, until)) {
        return Err((
            "valid_from",
            format!(
                "Deze periode overlapt met het tarief van {} voor de {} ({} tot en met {}).",
                t.amount,
                route.label(),
                dates::display(t.valid_from),
                t.valid_until.map(dates::display).unwrap_or_else(|| "onbepaald".into())
            ),
        ));
    }
    Ok(())
}

/// When a payment milestone falls due for a placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Due {
    AtStart,
    MonthsAfterStart(u32),
    AtCompletion,
}

impl Due {
    pub fn kind_code(self) -> &'static str {
        match self {
            Due::AtStart => "start",
            Due::MonthsAfterStart(_) => "months",
            Due::AtCompletion => "completion",
        }
    }

    pub fn months(self) -> Option<u32> {
        match self {
            Due::MonthsAfterStart(n) => Some(n),
            _ => None,
        }
    }

    pub fn from_parts(kind: &str, months: Option<i64>) -> Option<Due> {
        match (kind.trim(), months) {
            ("start", _) => Some(Due::AtStart),
            ("completion", _) => Some(Due::AtCompletion),
            ("months", Some(n)) if (1..=120).contains(&n) => Some(Due::MonthsAfterStart(n as u32)),
            _ => None,
        }
    }

    pub fn label(self) -> String {
        match self {
            Due::AtStart => "bij de start".into(),
            Due::MonthsAfterStart(n) => format!("{n} maanden na de start"),
            Due::AtCompletion => "bij afronding".into(),
        }
    }
}

/// A share of the tariff in hundredths of a percent: 40,00% is 4000. Shares of a route sum to 10000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Share(Fixed);

/// A share is a percentage above 0 and at most 100.
const SHARE: Quantity = Quantity {
    noun: "percentage",
    percent: true,
    min: Some(Fixed::ZERO),
    max: Some(Fixed::whole(100)),
    min_exclusive: true,
    negative: None,
    out_of_range: "Een aandeel ligt tussen 0 en 100 procent; '{}' niet.",
};

impl Share {
    pub const WHOLE: Share = Share(Fixed::whole(100));

    /// Parses "40", "33,33", "33.33" or "40%" (percent, at most two decimals, above 0 and at most 100).
    pub fn parse(text: &str) -> Result<Share, String> {
        Fixed::parse(text, &SHARE).map(Share)
    }

    pub fn from_basis_points(bp: i64) -> Share {
        Share(Fixed::from_hundredths(bp))
    }

    pub fn basis_points(self) -> i64 {
        self.0.hundredths()
    }

    /// The percentage as a number (for form values: `percent().dutch_padded()` is "33,33").
    pub fn percent(self) -> Fixed {
        self.0
    }

    /// "33,33%", "12,50%", "40%"
    pub fn display(self) -> String {
        format!("{}%", self.0.dutch_padded())
    }
}

/// A payment moment of a contract for one route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Milestone {
    pub name: String,
    pub share: Share,
    pub due: Due,
}

/// Shares must add up to exactly 100%.
pub fn validate_milestones(milestones: &[Milestone]) -> Result<(), String> {
    if milestones.is_empty() {
        return Err("Geef minstens één betaalmoment op.".into());
    }
    let total: i64 = milestones.iter().map(|m| m.share.basis_points()).sum();
    if total != Share::WHOLE.basis_points() {
        return Err(format!(
            "De aandelen tellen op tot {}; dat moet precies 100% zijn.",
            Share::from_basis_points(total).display()
        ));
    }
    Ok(())
}

/// The money per milestone: each share rounded to the cent (half away from zero), the remainder on the
/// last milestone, so the parts always sum to the tariff exactly.
pub fn split_tariff(tariff: Money, milestones: &[Milestone]) -> Vec<Money> {
    let mut parts = Vec::with_capacity(milestones.len());
    let mut given = Money::ZERO;
    for (i, m) in milestones.iter().enumerate() {
        let part = if i + 1 == milestones.len() {
            tariff - given
        } else {
            Money::from_decimal(tariff.decimal() * Decimal::new(m.share.basis_points(), 4))
        };
        given += part;
        parts.push(part);
    }
    parts
}

/// How close a contract is to its ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CeilingLevel {
    Ok,
    /// 80% or more.
    Warning,
    /// 100% or more.
    Exceeded,
}

/// Ceiling use in percent (one decimal, for display) and its level.
pub fn ceiling_level(used: Money, ceiling: Money) -> (Decimal, CeilingLevel) {
    if ceiling.is_zero() {
        return (Decimal::ZERO, if used.is_zero() { CeilingLevel::Ok } else { CeilingLevel::Exceeded });
    }
    let pct = used.decimal() * Decimal::ONE_HUNDRED / ceiling.decimal();
    let level = if pct >= Decimal::ONE_HUNDRED {
        CeilingLevel::Exceeded
    } else if pct >= Decimal::from(80) {
        CeilingLevel::Warning
    } else {
        CeilingLevel::Ok
    };
    (pct.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero), level)
}

/// When the ceiling will be reached if placements keep coming at the pace of the last six months:
/// `recent_value` is what the placements started in that window will cost. None when nothing was
/// placed in the window (no pace to extrapolate) and the ceiling is not reached yet.
pub fn ceiling_reached_on(ceiling: Money, used: Money, recent_value: Money, today: Date) -> Option<Date> {
    if used >= ceiling {
        return Some(today);
    }
    if recent_value.is_zero() || recent_value.is_negative() {
        return None;
    }
    let window_days = (today - dates::add_months(today, -6)).whole_days();
    let remaining = (ceiling - used).decimal();
    // days = remaining / (recent_value / window_days), rounded up: the day the ceiling is crossed.
    let days = (remaining * Decimal::from(window_days) / recent_value.decimal()).ceil();
    let days: i64 = days.try_into().ok()?;
    today.checked_add(time::Duration::days(days.min(365 * 100)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn option(end: Date, deadline: Date, status: OptionStatus) -> ExtensionOption {
        ExtensionOption {
            id: 0,
            new_end_date: end,
            notice_deadline: deadline,
            status,
            decision_reference: String::new(),
            decision_date: None,
        }
    }

    fn period() -> ContractPeriod {
        ContractPeriod {
            start_date: date!(2022 - 01 - 01),
            initial_end_date: date!(2025 - 12 - 31),
            options: vec![
                option(date!(2027 - 12 - 31), date!(2025 - 06 - 30), OptionStatus::Exercised),
                option(date!(2029 - 12 - 31), date!(2027 - 06 - 30), OptionStatus::Pending),
            ],
        }
    }

    #[test]
    fn status_follows_dates_and_exercised_options() {
        let p = period();
        assert_eq!(p.status(date!(2021 - 12 - 31)), ContractStatus::Draft);
        assert_eq!(p.status(date!(2022 - 01 - 01)), ContractStatus::Active);
        assert_eq!(p.status(date!(2025 - 12 - 31)), ContractStatus::Active);
        assert_eq!(p.status(date!(2026 - 01 - 01)), ContractStatus::InOptionPeriod);
        assert_eq!(p.status(date!(2027 - 12 - 31)), ContractStatus::InOptionPeriod);
        assert_eq!(p.status(date!(2028 - 01 - 01)), ContractStatus::Ended);
        assert_eq!(p.current_end(), date!(2027 - 12 - 31));
        assert_eq!(p.furthest_end(), date!(2029 - 12 - 31));
    }

    #[test]
    fn placements_may_start_up_to_the_last_day_including_options() {
        let mut p = period();
        assert!(p.covers(date!(2029 - 12 - 31)));
        assert!(!p.covers(date!(2030 - 01 - 01)));
        assert!(!p.covers(date!(2021 - 12 - 31)));
        p.options[1].status = OptionStatus::Declined;
        assert!(p.covers(date!(2027 - 12 - 31)));
        assert!(!p.covers(date!(2028 - 01 - 01)));
    }

    #[test]
    fn option_deadlines_within_sixty_days_are_found() {
        let p = period();
        assert_eq!(p.deadlines_within(date!(2027 - 05 - 01), 60).len(), 1);
        assert_eq!(p.deadlines_within(date!(2027 - 04 - 30), 60).len(), 0, "61 days ahead");
        assert_eq!(p.deadlines_within(date!(2027 - 06 - 30), 60).len(), 1, "deadline today");
        assert_eq!(p.deadlines_within(date!(2027 - 07 - 01), 60).len(), 0, "deadline passed");
    }

    #[test]
    fn an_option_must_extend_beyond_the_current_end() {
        let p = period();
        assert_eq!(p.validate_new_option(date!(2029 - 06 - 30), date!(2029 - 01 - 01)).unwrap_err().0, "new_end_date");
        assert_eq!(
            p.validate_new_option(date!(2031 - 12 - 31), date!(2030 - 01 - 01)).unwrap_err().0,
            "notice_deadline"
        );
        assert!(p.validate_new_option(date!(2031 - 12 - 31), date!(2029 - 06 - 30)).is_ok());
    }

    fn tariff(route: Route, from: Date, until: Option<Date>, cents: i64) -> Tariff {
        Tariff { id: 0, route, valid_from: from, valid_until: until, amount: Money::from_cents(cents) }
    }

    #[test]
    fn the_tariff_valid_on_the_start_date_applies_with_indexation_on_1_january() {
        let ts = [
            tariff(Route::B1, date!(2022 - 01 - 01), Some(date!(2022 - 12 - 31)), 1_000_000),
            tariff(Route::B1, date!(2023 - 01 - 01), None, 1_050_000),
            tariff(Route::Z, date!(2022 - 01 - 01), None, 1_200_000),
        ];
        assert_eq!(tariff_on(&ts, Route::B1, date!(2022 - 12 - 31)).unwrap().amount.cents(), 1_000_000);
        assert_eq!(tariff_on(&ts, Route::B1, date!(2023 - 01 - 01)).unwrap().amount.cents(), 1_050_000);
        assert_eq!(tariff_on(&ts, Route::Z, date!(2030 - 01 - 01)).unwrap().amount.cents(), 1_200_000);
        assert!(tariff_on(&ts, Route::B1, date!(2021 - 12 - 31)).is_none());
        assert!(tariff_on(&ts, Route::Education, date!(2022 - 06 - 01)).is_none());
    }

    #[test]
    fn overlapping_tariff_periods_are_refused() {
        let ts = [tariff(Route::B1, date!(2022 - 01 - 01), Some(date!(2022 - 12 - 31)), 1_000_000)];
        let m = Money::from_cents(100);
        assert!(validate_tariff(Route::B1, date!(2022 - 12 - 31), None, m, &ts).unwrap_err().1.contains("overlapt"));
        assert!(validate_tariff(Route::B1, date!(2021 - 01 - 01), None, m, &ts).is_err(), "open end overlaps");
        assert!(validate_tariff(Route::B1, date!(2023 - 01 - 01), None, m, &ts).is_ok());
        assert!(validate_tariff(Route::Z, date!(2022 - 06 - 01), None, m, &ts).is_ok(), "other route");
        assert!(validate_tariff(Route::B1, date!(2023 - 01 - 01), None, Money::ZERO, &ts).is_err());
    }

    fn ms(shares: &[&str]) -> Vec<Milestone> {
        shares
            .iter()
            .map(|s| Milestone { name: format!("{s}%"), share: Share::parse(s).unwrap(), due: Due::AtStart })
            .collect()
    }

    #[test]
    fn shares_parse_dutch_and_must_sum_to_exactly_100() {
        assert_eq!(Share::parse("33,33").unwrap().basis_points(), 3333);
        assert_eq!(Share::parse("40").unwrap().basis_points(), 4000);
        assert_eq!(Share::parse("12.5%").unwrap().display(), "12,50%");
        assert!(Share::parse("0").is_err());
        assert!(Share::parse("100,01").is_err());
        assert!(Share::parse("33,333").is_err());
        assert!(Share::parse("veertig").is_err());
        assert!(validate_milestones(&ms(&["40", "40", "20"])).is_ok());
        assert_eq!(
            validate_milestones(&ms(&["33,33", "33,33", "33,33"])).unwrap_err(),
            "De aandelen tellen op tot 99,99%; dat moet precies 100% zijn."
        );
        assert!(validate_milestones(&[]).is_err());
    }

    #[test]
    fn milestone_money_sums_to_the_tariff_to_the_cent() {
        let parts = split_tariff(Money::from_cents(1_000_001), &ms(&["33,33", "33,33", "33,34"]));
        assert_eq!(parts.iter().map(Money::cents).collect::<Vec<_>>(), [333_300, 333_300, 333_401]);
        let parts = split_tariff(Money::from_cents(1_234_567), &ms(&["40", "40", "20"]));
        assert_eq!(parts.iter().map(Money::cents).collect::<Vec<_>>(), [493_827, 493_827, 246_913]);
        assert_eq!(parts.into_iter().sum::<Money>().cents(), 1_234_567);
        // Half a cent (12,5% of 4 cents) rounds away from zero, not to even.
        let parts = split_tariff(Money::from_cents(4), &ms(&["12,5", "87,5"]));
        assert_eq!(parts.iter().map(Money::cents).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn ceiling_levels_flag_at_80_and_100_percent() {
        let c = Money::from_cents(100_000);
        assert_eq!(ceiling_level(Money::from_cents(79_999), c).1, CeilingLevel::Ok);
        assert_eq!(ceiling_level(Money::from_cents(80_000), c), (Decimal::from(80), CeilingLevel::Warning));
        assert_eq!(ceiling_level(Money::from_cents(100_000), c).1, CeilingLevel::Exceeded);
        assert_eq!(ceiling_level(Money::from_cents(33_333), c).0, Decimal::new(333, 1));
    }

    #[test]
    fn the_ceiling_date_follows_the_pace_of_the_last_six_months() {
        let today = date!(2024 - 07 - 01);
        // Window 01-01-2024 .. 01-07-2024 is 182 days; 182,000 euro placed: 1,000 euro a day; 10,000 left.
        let recent = Money::from_cents(18_200_000);
        let reached = ceiling_reached_on(Money::from_cents(100_000_000), Money::from_cents(99_000_000), recent, today);
        assert_eq!(reached, Some(date!(2024 - 07 - 01) + time::Duration::days(10)));
        assert_eq!(ceiling_reached_on(Money::from_cents(100), Money::from_cents(100), Money::ZERO, today), Some(today));
        assert_eq!(ceiling_reached_on(Money::from_cents(100), Money::ZERO, Money::ZERO, today), None);
    }
}

/// Everything about a contract that money follows from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractTerms {
    pub period: ContractPeriod,
    pub routes: Vec<Route>,
    pub ceiling: Money,
    pub tariffs: Vec<Tariff>,
    /// Milestones per route, in order.
    pub milestones: std::collections::BTreeMap<Route, Vec<Milestone>>,
}

impl ContractTerms {
    /// The tariff and milestones that govern a placement on `route` starting on `start`, or why there are none.
    pub fn pricing(&self, route: Route, start: Date) -> Result<(Money, &[Milestone]), String> {
        let tariff = tariff_on(&self.tariffs, route, start).ok_or_else(|| {
            format!("Dit contract heeft geen tarief voor de {} op {}.", route.label(), dates::display(start))
        })?;
        let milestones = self
            .milestones
            .get(&route)
            .filter(|m| !m.is_empty())
            .ok_or_else(|| format!("Dit contract heeft nog geen betaalmomenten voor de {}.", route.label()))?;
        Ok((tariff.amount, milestones))
    }
}

/// The editable fields of a contract, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContractDraft {
    pub reference: String,
    pub title: String,
    pub provider_id: i64,
    pub lot: String,
    pub routes: Vec<Route>,
    pub start_date: Date,
    pub initial_end_date: Date,
    pub ceiling: Money,
    pub notes: String,
}

/// What a user typed into the contract form.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ContractForm {
    pub reference: String,
    pub title: String,
    pub provider_id: String,
    pub lot: String,
    /// Comma-separated route codes; the form sends one checkbox per route.
    #[serde(deserialize_with = "super::validation::comma_joined")]
    pub routes: String,
    pub start_date: String,
    pub initial_end_date: String,
    pub ceiling: String,
    pub notes: String,
    pub version: Option<i64>,
}

/// Validates a contract. `mark_valid_on` answers whether the chosen provider holds a valid Blik op Werk
/// mark on a date (None when the provider does not exist).
pub fn validate_contract(
    form: &ContractForm,
    mark_valid_on: impl Fn(i64, Date) -> Option<bool>,
) -> Result<ContractDraft, super::validation::FieldErrors> {
    use super::validation::{text, FieldErrors};
    let mut e = FieldErrors::new();
    let reference = text(&mut e, "reference", "Kenmerk", &form.reference, 50, true);
    let title = text(&mut e, "title", "Titel", &form.title, 200, true);
    let lot = text(&mut e, "lot", "Perceel", &form.lot, 100, false);
    let notes = text(&mut e, "notes", "Notities", &form.notes, 5000, false);
    let provider_id = form.provider_id.trim().parse::<i64>().ok();
    if provider_id.is_none() {
        e.add("provider_id", "Kies een taalaanbieder.");
    }
    let routes = match super::route::parse_routes(&form.routes) {
        Ok(r) if r.is_empty() => {
            e.add("routes", "Kies minstens één leerroute of module.");
            r
        }
        Ok(r) => r,
        Err(m) => {
            e.add("routes", m);
            Vec::new()
        }
    };
    let start_date = super::validation::required_date(&mut e, "start_date", "Startdatum", &form.start_date);
    let initial_end_date =
        super::validation::required_date(&mut e, "initial_end_date", "Einddatum", &form.initial_end_date);
    if let (Some(s), Some(end)) = (start_date, initial_end_date) {
        if end < s {
            e.add("initial_end_date", "De einddatum ligt vóór de startdatum.");
        }
    }
    let ceiling = match crate::money::Money::parse(&form.ceiling) {
        Ok(m) if m.is_negative() => {
            e.add("ceiling", "Het plafond kan niet negatief zijn.");
            None
        }
        Ok(m) => Some(m),
        Err(err) => {
            e.add("ceiling", format!("Plafond: {err}."));
            None
        }
    };
    if let (Some(p), Some(s)) = (provider_id, start_date) {
        match mark_valid_on(p, s) {
            None => e.add("provider_id", "Deze taalaanbieder bestaat niet."),
            Some(false) if routes.iter().any(|r| r.needs_mark()) => e.add(
                "provider_id",
                format!(
                    "Deze aanbieder heeft op de startdatum ({}) geen geldig Blik op Werk-keurmerk; voor de B1- en Z-route is dat verplicht.",
                    dates::display(s)
                ),
            ),
            _ => {}
        }
    }
    match (provider_id, start_date, initial_end_date, ceiling) {
        (Some(provider_id), Some(start_date), Some(initial_end_date), Some(ceiling)) if e.is_empty() => {
            Ok(ContractDraft {
                reference,
                title,
                provider_id,
                lot,
                routes,
                start_date,
                initial_end_date,
                ceiling,
                notes,
            })
        }
        _ => Err(e),
    }
}
