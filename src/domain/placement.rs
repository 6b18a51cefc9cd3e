//! Placements (plaatsingen): a participant, known only by the municipality's client number, placed on a
//! contract for a route from a start date; and the payments that placement is expected to cause.

use serde::{Deserialize, Serialize};
use time::Date;

use super::bsn::client_number_holds_bsn;
use super::contract::{split_tariff, ContractTerms, Due, Milestone};
use super::dates;
use super::route::{Cohort, Route};
use super::validation::FieldErrors;
use crate::money::Money;

/// Why a client number that is or holds a BSN is refused.
pub const CLIENT_NUMBER_BSN: &str =
    "Dit lijkt een BSN of bevat er een (9 cijfers die de elfproef doorstaan, of 8 als de \
     voorloopnul is weggevallen). taalbudget bewaart geen BSN; gebruik het klantnummer van de gemeente.";

/// The municipality's own client number. Never a BSN: a value that looks like one is refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ClientNumber(String);

impl ClientNumber {
    pub fn parse(input: &str) -> Result<ClientNumber, String> {
        let v = input.trim();
        if v.is_empty() {
            return Err("Klantnummer is verplicht.".into());
        }
        if v.chars().count() > 20 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("Een klantnummer heeft hoogstens 20 letters, cijfers of streepjes; '{v}' niet."));
        }
        if client_number_holds_bsn(v) {
            return Err(CLIENT_NUMBER_BSN.into());
        }
        Ok(ClientNumber(v.to_string()))
    }

    /// For values already in the database (validated when they were stored).
    pub fn from_stored(v: String) -> ClientNumber {
        ClientNumber(v)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementStatus {
    Started,
    Ongoing,
    Completed,
    DroppedOut,
}

impl PlacementStatus {
    pub const ALL: [PlacementStatus; 4] =
        [PlacementStatus::Started, PlacementStatus::Ongoing, PlacementStatus::Completed, PlacementStatus::DroppedOut];

    pub fn code(self) -> &'static str {
        match self {
            PlacementStatus::Started => "started",
            PlacementStatus::Ongoing => "ongoing",
            PlacementStatus::Completed => "completed",
            PlacementStatus::DroppedOut => "dropped_out",
        }
    }

    pub fn parse(code: &str) -> Option<PlacementStatus> {
        PlacementStatus::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            PlacementStatus::Started => "Gestart",
            PlacementStatus::Ongoing => "Loopt",
            PlacementStatus::Completed => "Afgerond",
            PlacementStatus::DroppedOut => "Uitgevallen",
        }
    }

    /// Completed and dropped-out placements carry the date it happened.
    pub fn needs_date(self) -> bool {
        matches!(self, PlacementStatus::Completed | PlacementStatus::DroppedOut)
    }
}

/// The dates and status of a placement that its payments follow from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlacementSchedule {
    pub start_date: Date,
    pub planned_end: Date,
    pub status: PlacementStatus,
    pub status_date: Option<Date>,
    /// Route changes in decision-date order (kept in their own table; empty for a new placement).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<super::route_change::RouteChange>,
}

/// One payment a placement is expected to cause.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpectedPayment {
    pub milestone: String,
    pub due_date: Date,
    pub amount: Money,
}

impl PlacementSchedule {
    fn due_date(&self, due: Due) -> Date {
        match due {
            Due::AtStart => self.start_date,
            Due::MonthsAfterStart(n) => dates::add_months(self.start_date, n as i32),
            Due::AtCompletion => match (self.status, self.status_date) {
                (PlacementStatus::Completed, Some(d)) => d,
                _ => self.planned_end,
            },
        }
    }

    /// The payments this placement causes under the tariff and milestones that apply to it. Dropping out
    /// stops every milestone not yet due on the drop-out date; what was due stays due.
    pub fn expected_payments(&self, tariff: Money, milestones: &[Milestone]) -> Vec<ExpectedPayment> {
        let dropped_on = match (self.status, self.status_date) {
            (PlacementStatus::DroppedOut, Some(d)) => Some(d),
            _ => None,
        };
        milestones
            .iter()
            .zip(split_tariff(tariff, milestones))
            .map(|(m, amount)| ExpectedPayment { milestone: m.name.clone(), due_date: self.due_date(m.due), amount })
            .filter(|p| dropped_on.is_none_or(|d| p.due_date <= d))
            .collect()
    }
}

/// Sums payments per calendar year of their due date, in year order.
pub fn by_year<'a>(payments: impl IntoIterator<Item = &'a ExpectedPayment>) -> Vec<(i32, Money)> {
    let mut years: std::collections::BTreeMap<i32, Money> = std::collections::BTreeMap::new();
    for p in payments {
        *years.entry(p.due_date.year()).or_default() += p.amount;
    }
    years.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contract::Share;
    use time::macros::date;

    #[test]
    fn bsn_like_numbers_are_refused_with_a_reason() {
        for bsn in ["111222333", "12345672", "K111222333", "KL-012345672"] {
            assert_eq!(ClientNumber::parse(bsn).unwrap_err(), CLIENT_NUMBER_BSN, "{bsn}");
        }
        assert_eq!(ClientNumber::parse(" K-2022-0042 ").unwrap().as_str(), "K-2022-0042");
        assert!(ClientNumber::parse("123456789").is_ok());
        assert!(ClientNumber::parse("").is_err());
        assert!(ClientNumber::parse("a b").is_err());
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

    fn schedule(status: PlacementStatus, status_date: Option<Date>) -> PlacementSchedule {
        PlacementSchedule {
            start_date: date!(2022 - 09 - 01),
            planned_end: date!(2024 - 08 - 31),
            status,
            status_date,
            changes: vec![],
        }
    }

    #[test]
    fn a_running_placement_expects_every_milestone_on_its_date() {
        let p = schedule(PlacementStatus::Ongoing, None).expected_payments(Money::from_cents(1_000_001), &milestones());
        let got: Vec<_> = p.iter().map(|e| (e.due_date, e.amount.cents())).collect();
        assert_eq!(
            got,
            [(date!(2022 - 09 - 01), 400_000), (date!(2023 - 09 - 01), 300_000), (date!(2024 - 08 - 31), 300_001)]
        );
        assert_eq!(
            by_year(&p),
            [
                (2022, Money::from_cents(400_000)),
                (2023, Money::from_cents(300_000)),
                (2024, Money::from_cents(300_001))
            ]
        );
    }

    #[test]
    fn dropping_out_stops_what_was_not_yet_due() {
        let m = milestones();
        let tariff = Money::from_cents(1_000_000);
        let p = schedule(PlacementStatus::DroppedOut, Some(date!(2023 - 08 - 31))).expected_payments(tariff, &m);
        assert_eq!(p.len(), 1);
        // Dropping out on the very day the interim milestone falls due keeps it due.
        let p = schedule(PlacementStatus::DroppedOut, Some(date!(2023 - 09 - 01))).expected_payments(tariff, &m);
        assert_eq!(p.iter().map(|e| e.amount.cents()).sum::<i64>(), 700_000);
    }

    #[test]
    fn completion_moves_the_last_milestone_to_the_completion_date() {
        let p = schedule(PlacementStatus::Completed, Some(date!(2024 - 02 - 15)))
            .expected_payments(Money::from_cents(1_000_000), &milestones());
        assert_eq!(p[2].due_date, date!(2024 - 02 - 15));
    }
}

/// A validated placement to store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlacementDraft {
    pub client_number: ClientNumber,
    pub cohort: Cohort,
    pub route: Route,
    pub contract_id: i64,
    pub schedule: PlacementSchedule,
    /// The day the participant's PIP was set: lessons must start within 3 months of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pip_date: Option<Date>,
}

/// What a user typed into the placement form.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PlacementForm {
    pub client_number: String,
    pub cohort: String,
    pub route: String,
    pub contract_id: String,
    pub start_date: String,
    pub planned_end: String,
    pub status: String,
    pub status_date: String,
    pub pip_date: String,
    pub version: Option<i64>,
}

/// Validates a placement against its contract and the provider's marks (`mark_valid_on`).
pub fn validate_placement(
    form: &PlacementForm,
    contract: Option<&ContractTerms>,
    mark_valid_on: impl Fn(Date) -> bool,
) -> Result<PlacementDraft, FieldErrors> {
    let mut e = FieldErrors::new();
    let client_number = ClientNumber::parse(&form.client_number).map_err(|m| e.add("client_number", m)).ok();
    let cohort = Cohort::parse(&form.cohort);
    if cohort.is_none() {
        e.add("cohort", "Kies een doelgroep (wi2021, wi2013, elip of other).");
    }
    let route = Route::parse(&form.route);
    if route.is_none() {
        e.add("route", "Kies een leerroute.");
    }
    let contract_id = form.contract_id.trim().parse::<i64>().ok();
    if contract.is_none() || contract_id.is_none() {
        e.add("contract_id", "Kies een bestaand contract.");
    }
    let status = if form.status.trim().is_empty() {
        Some(PlacementStatus::Started)
    } else {
        PlacementStatus::parse(&form.status)
    };
    if status.is_none() {
        e.add("status", "Kies een status uit de lijst.");
    }
    let mut date = |field: &'static str, label: &str, value: &str, required: bool| match dates::parse_form(value) {
        Ok(None) if required => {
            e.add(field, format!("{label} is verplicht."));
            None
        }
        Ok(d) => d,
        Err(m) => {
            e.add(field, m);
            None
        }
    };
    let start_date = date("start_date", "Startdatum", &form.start_date, true);
    let planned_end = date("planned_end", "Geplande einddatum", &form.planned_end, true);
    let needs_status_date = status.is_some_and(|s| s.needs_date());
    let status_date = date("status_date", "Datum van afronding of uitval", &form.status_date, needs_status_date);
    let pip_date = date("pip_date", "PIP-datum", &form.pip_date, false);
    if let (Some(s), Some(p)) = (start_date, pip_date) {
        if p > s {
            e.add("pip_date", "De PIP-datum ligt na de startdatum; een plaatsing volgt op het PIP.");
        }
    }
    if let (Some(s), Some(p)) = (start_date, planned_end) {
        if p < s {
            e.add("planned_end", "De geplande einddatum ligt vóór de startdatum.");
        }
    }
    if let (Some(s), Some(d)) = (start_date, status_date) {
        if d < s {
            e.add("status_date", "Deze datum ligt vóór de startdatum.");
        }
    }
    if !needs_status_date && status_date.is_some() {
        e.add("status_date", "Een datum hoort alleen bij afgerond of uitgevallen.");
    }
    if let (Some(terms), Some(route), Some(start)) = (contract, route, start_date) {
        if !terms.routes.contains(&route) {
            e.add("route", format!("Dit contract dekt de {} niet.", route.label()));
        } else if !terms.period.covers(start) {
            e.add(
                "start_date",
                format!(
                    "De startdatum valt buiten de contractperiode ({} tot en met {}, opties inbegrepen).",
                    dates::display(terms.period.start_date),
                    dates::display(terms.period.furthest_end())
                ),
            );
        } else if let Err(m) = terms.pricing(route, start) {
            e.add("route", m);
        }
        if route != Route::Education && !mark_valid_on(start) {
            e.add(
                "contract_id",
                format!(
                    "De aanbieder van dit contract heeft op {} geen geldig Blik op Werk-keurmerk; plaatsen is dan niet toegestaan.",
                    dates::display(start)
                ),
            );
        }
    }
    match (client_number, cohort, route, contract_id, status, start_date, planned_end) {
        (
            Some(client_number),
            Some(cohort),
            Some(route),
            Some(contract_id),
            Some(status),
            Some(start_date),
            Some(planned_end),
        ) if e.is_empty() => Ok(PlacementDraft {
            client_number,
            cohort,
            route,
            contract_id,
            schedule: PlacementSchedule { start_date, planned_end, status, status_date, changes: Vec::new() },
            pip_date,
        }),
        _ => Err(e),
    }
}
