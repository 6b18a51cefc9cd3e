//! Blik op Werk Keurmerk Inburgeren: mark decisions and the one rule every feature uses,
//! "does provider P hold a valid mark on date D?".

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::Date;

use super::dates;
use super::validation::{text, FieldErrors};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CertificationStatus {
    FixedTerm,
    Indefinite,
    Suspended,
    Withdrawn,
    Lapsed,
    Refused,
}

impl CertificationStatus {
    pub const ALL: [CertificationStatus; 6] = [
        CertificationStatus::FixedTerm,
        CertificationStatus::Indefinite,
        CertificationStatus::Suspended,
        CertificationStatus::Withdrawn,
        CertificationStatus::Lapsed,
        CertificationStatus::Refused,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::FixedTerm => "fixed_term",
            Self::Indefinite => "indefinite",
            Self::Suspended => "suspended",
            Self::Withdrawn => "withdrawn",
            Self::Lapsed => "lapsed",
            Self::Refused => "refused",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    /// The words Blik op Werk itself uses.
    pub fn label(self) -> &'static str {
        match self {
            Self::FixedTerm => "Voor bepaalde tijd",
            Self::Indefinite => "Voor onbepaalde tijd",
            Self::Suspended => "Geschorst",
            Self::Withdrawn => "Ingetrokken",
            Self::Lapsed => "Vervallen",
            Self::Refused => "Niet toegekend",
        }
    }

    /// Grants a mark (as opposed to suspending or ending one).
    pub fn grants(self) -> bool {
        matches!(self, Self::FixedTerm | Self::Indefinite)
    }
}

/// One decision by Blik op Werk about one provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: i64,
    pub status: CertificationStatus,
    pub decision_date: Date,
    /// From when the decision takes effect (for a suspension: the decision's own date of effect).
    pub valid_from: Date,
    /// Last day of a fixed-term mark (inclusive); None for an indefinite one.
    pub valid_until: Option<Date>,
    pub suspended_from: Option<Date>,
    pub suspended_until: Option<Date>,
    pub registration_number: String,
    pub note: String,
}

impl Decision {
    /// Whether this decision speaks about `day` at all.
    fn in_effect_on(&self, day: Date) -> bool {
        match self.status {
            CertificationStatus::FixedTerm | CertificationStatus::Indefinite => {
                self.valid_from <= day && self.valid_until.is_none_or(|u| day <= u)
            }
            CertificationStatus::Suspended => match (self.suspended_from, self.suspended_until) {
                (Some(f), Some(u)) => f <= day && day <= u,
                (Some(f), None) => f <= day,
                _ => false,
            },
            // Ending decisions hold from their date of effect onward, until a later decision grants again.
            CertificationStatus::Withdrawn | CertificationStatus::Lapsed | CertificationStatus::Refused => {
                self.valid_from <= day
            }
        }
    }

    /// Later decisions supersede earlier ones; on the same decision date the later-recorded one wins.
    fn precedence(&self) -> (Date, i64) {
        (self.decision_date, self.id)
    }
}

/// The decision that governs `day`: among those in effect that day, the most recent one.
pub fn governing_decision(decisions: &[Decision], day: Date) -> Option<&Decision> {
    decisions.iter().filter(|d| d.in_effect_on(day)).max_by_key(|d| d.precedence())
}

/// Does the provider with these decisions hold a valid Blik op Werk mark on `day`?
/// Suspended days are not valid; end dates are inclusive; a later decision supersedes an earlier one.
pub fn holds_valid_mark(decisions: &[Decision], day: Date) -> bool {
    governing_decision(decisions, day).is_some_and(|d| d.status.grants())
}

/// Where a provider stands today, for the keurmerk overview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Standing {
    /// Valid today; `until` is the last valid day (None: indefinite, no suspension planned).
    Valid { until: Option<Date>, status: CertificationStatus },
    /// Suspended today, until the given day (inclusive) when known.
    Suspended { until: Option<Date> },
    /// No valid mark today; the last decision's status if there is one.
    NotValid { last: Option<CertificationStatus> },
}

/// How far ahead the overview looks for marks about to lapse.
pub const LAPSE_WARNING_DAYS: i64 = 90;

pub fn standing(decisions: &[Decision], today: Date) -> Standing {
    match governing_decision(decisions, today) {
        Some(d) if d.status.grants() => Standing::Valid { until: last_valid_day(decisions, today), status: d.status },
        Some(d) if d.status == CertificationStatus::Suspended => Standing::Suspended { until: d.suspended_until },
        _ => Standing::NotValid {
            last: decisions
                .iter()
                .filter(|d| d.decision_date <= today)
                .max_by_key(|d| d.precedence())
                .map(|d| d.status),
        },
    }
}

/// The last day of the unbroken valid run that contains `today` (None when it does not end).
/// Walks the boundaries of all decisions instead of every day, so an indefinite mark costs nothing.
fn last_valid_day(decisions: &[Decision], today: Date) -> Option<Date> {
    let mut boundaries: Vec<Date> = decisions
        .iter()
        .flat_map(|d| [Some(d.valid_from), d.valid_until, d.suspended_from, d.suspended_until])
        .flatten()
        .flat_map(|b| [b.previous_day(), Some(b), b.next_day()])
        .flatten()
        .filter(|b| *b > today)
        .collect();
    boundaries.sort();
    boundaries.dedup();
    let mut last = today;
    for b in boundaries {
        // Validity only changes at a boundary, so checking the boundaries is enough.
        if !holds_valid_mark(decisions, b) {
            return Some(last.max(b.previous_day().unwrap_or(b)));
        }
        last = b;
    }
    None
}

/// Days until a valid mark ends (0 when it ends today), for sorting the most urgent first.
pub fn days_left(until: Date, today: Date) -> i64 {
    (until - today).whole_days()
}

/// How a mark status should strike the reader (the words say it too: never colour alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Warn,
    Bad,
}

/// A provider's mark today, with the one set of words every screen (provider page, /kwaliteit, /keurmerken,
/// the quality report) uses for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarkStatus {
    pub standing: Standing,
    /// Days until a valid mark or a suspension ends, when an end is known.
    pub days: Option<i64>,
}

impl MarkStatus {
    pub fn of(decisions: &[Decision], today: Date) -> MarkStatus {
        let standing = standing(decisions, today);
        let days = match &standing {
            Standing::Valid { until, .. } | Standing::Suspended { until } => until.map(|u| days_left(u, today)),
            Standing::NotValid { .. } => None,
        };
        MarkStatus { standing, days }
    }

    /// A valid mark that ends within [`LAPSE_WARNING_DAYS`].
    pub fn lapsing(&self) -> bool {
        matches!(self.standing, Standing::Valid { .. }) && self.days.is_some_and(|d| d <= LAPSE_WARNING_DAYS)
    }

    pub fn is_valid(&self) -> bool {
        matches!(self.standing, Standing::Valid { .. })
    }

    /// No valid mark, suspended, or lapsing soon.
    pub fn needs_attention(&self) -> bool {
        !self.is_valid() || self.lapsing()
    }

    pub fn tone(&self) -> Tone {
        match self.standing {
            Standing::Valid { .. } if self.lapsing() => Tone::Warn,
            Standing::Valid { .. } => Tone::Ok,
            _ => Tone::Bad,
        }
    }

    /// The status in words, e.g. "Verloopt binnenkort: geldig tot en met 20-01-2027 (nog 45 dagen)".
    pub fn words(&self) -> String {
        let left = |d: i64| super::words::count(d, "dag", "dagen");
        match &self.standing {
            Standing::Valid { until: None, .. } => "Geldig voor onbepaalde tijd".into(),
            Standing::Valid { until: Some(u), .. } if self.lapsing() => format!(
                "Verloopt binnenkort: geldig tot en met {} (nog {})",
                dates::display(*u),
                left(self.days.unwrap_or_default())
            ),
            Standing::Valid { until: Some(u), .. } => format!("Geldig tot en met {}", dates::display(*u)),
            Standing::Suspended { until: Some(u) } => format!("Geschorst tot en met {}", dates::display(*u)),
            Standing::Suspended { until: None } => "Geschorst, einde onbekend".into(),
            Standing::NotValid { last: Some(s) } => {
                format!("Geen geldig keurmerk (laatste besluit: {})", s.label().to_lowercase())
            }
            Standing::NotValid { last: None } => "Geen geldig keurmerk (nog geen besluit)".into(),
        }
    }
}

/// What a user typed into the decision form.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DecisionForm {
    pub status: String,
    pub decision_date: String,
    pub valid_from: String,
    pub valid_until: String,
    pub suspended_from: String,
    pub suspended_until: String,
    pub registration_number: String,
    pub note: String,
}

/// Validates a new decision on its own and against the provider's earlier decisions.
pub fn validate_decision(form: &DecisionForm, existing: &[Decision]) -> Result<Decision, FieldErrors> {
    let mut e = FieldErrors::new();
    let status = CertificationStatus::parse(&form.status);
    if status.is_none() {
        e.add("status", format!("Onbekende status '{}'. Kies een status uit de lijst.", form.status.trim()));
    }
    let mut date =
        |field: &'static str, value: &str| dates::parse_form(value).map_err(|m| e.add(field, m)).ok().flatten();
    let decision_date = date("decision_date", &form.decision_date);
    let valid_from = date("valid_from", &form.valid_from);
    let valid_until = date("valid_until", &form.valid_until);
    let suspended_from = date("suspended_from", &form.suspended_from);
    let suspended_until = date("suspended_until", &form.suspended_until);
    let registration_number =
        text(&mut e, "registration_number", "Registratienummer", &form.registration_number, 50, false);
    let note = text(&mut e, "note", "Toelichting", &form.note, 2000, false);

    if decision_date.is_none() && e.get("decision_date").is_none() {
        e.add("decision_date", "Besluitdatum is verplicht.");
    }
    if valid_from.is_none() && e.get("valid_from").is_none() {
        e.add("valid_from", "Geldig vanaf is verplicht.");
    }
    if let (Some(f), Some(u)) = (valid_from, valid_until) {
        if u < f {
            e.add(
                "valid_until",
                format!("Geldig tot ({}) ligt vóór geldig vanaf ({}).", dates::display(u), dates::display(f)),
            );
        }
    }
    match status {
        Some(CertificationStatus::FixedTerm) if valid_until.is_none() && e.get("valid_until").is_none() => {
            e.add("valid_until", "Een keurmerk voor bepaalde tijd heeft een einddatum (geldig tot).");
        }
        Some(CertificationStatus::Indefinite) if valid_until.is_some() => {
            e.add("valid_until", "Een keurmerk voor onbepaalde tijd heeft geen einddatum; laat 'geldig tot' leeg.");
        }
        Some(CertificationStatus::Suspended) => match (suspended_from, suspended_until) {
            (None, _) if e.get("suspended_from").is_none() => {
                e.add("suspended_from", "Een schorsing heeft een begindatum.")
            }
            (Some(f), Some(u)) if u < f => e.add("suspended_until", "Het einde van de schorsing ligt vóór het begin."),
            _ => {}
        },
        Some(s) if !s.grants() && valid_until.is_some() => {
            e.add("valid_until", "Dit besluit beëindigt het keurmerk; laat 'geldig tot' leeg.");
        }
        _ => {}
    }
    if status != Some(CertificationStatus::Suspended) && (suspended_from.is_some() || suspended_until.is_some()) {
        e.add("suspended_from", "Een schorsingsperiode hoort alleen bij de status 'geschorst'.");
    }
    if let (Some(d), Some(f)) = (decision_date, valid_from) {
        // A decision may take effect retroactively, but not more than a year: that is a typing error.
        if (d - f).whole_days() > 366 {
            e.add("valid_from", "Geldig vanaf ligt meer dan een jaar vóór de besluitdatum; controleer de datums.");
        }
    }
    let (Some(status), Some(decision_date), Some(valid_from)) = (status, decision_date, valid_from) else {
        return Err(e);
    };
    if !e.is_empty() {
        return Err(e);
    }
    let decision = Decision {
        id: i64::MAX,
        status,
        decision_date,
        valid_from,
        valid_until,
        suspended_from,
        suspended_until,
        registration_number,
        note,
    };
    check_consistency(&decision, existing, &mut e);
    e.into_result(decision)
}

/// Refuses decisions that contradict the record: two decisions on one day, overlapping fixed terms,
/// or a suspension of a mark that does not exist.
fn check_consistency(new: &Decision, existing: &[Decision], e: &mut FieldErrors) {
    if let Some(same_day) = existing.iter().find(|d| d.decision_date == new.decision_date) {
        e.add(
            "decision_date",
            format!(
                "Er is al een besluit van {} ({}). Twee besluiten op één dag spreken elkaar tegen; corrigeer het bestaande besluit.",
                dates::display(same_day.decision_date),
                same_day.status.label().to_lowercase()
            ),
        );
    }
    if new.status == CertificationStatus::FixedTerm {
        let until = new.valid_until.expect("checked: fixed term has an end");
        if let Some(other) = existing.iter().find(|d| {
            d.status == CertificationStatus::FixedTerm
                && d.valid_from <= until
                && d.valid_until.is_some_and(|u| new.valid_from <= u)
        }) {
            e.add(
                "valid_from",
                format!(
                    "Deze periode overlapt met het keurmerk voor bepaalde tijd van {} tot en met {}.",
                    dates::display(other.valid_from),
                    other.valid_until.map(dates::display).unwrap_or_default()
                ),
            );
        }
    }
    if new.status == CertificationStatus::Suspended {
        let from = new.suspended_from.expect("checked: suspension has a start");
        if !holds_valid_mark(existing, from) {
            e.add("suspended_from", format!("Op {} is er geen geldig keurmerk om te schorsen.", dates::display(from)));
        }
    }
}

/// What the list of marks needing attention needs to know of a provider. The store's provider row implements
/// it, so the rule below stays free of the database.
pub trait MarkHolder {
    fn holder_id(&self) -> i64;
    fn holder_name(&self) -> &str;
}

/// A provider whose mark needs attention today, and why.
pub struct Attention<'a, P> {
    pub provider: &'a P,
    pub mark: MarkStatus,
}

/// Providers without a valid mark, suspended, or lapsing within [`LAPSE_WARNING_DAYS`]: most urgent first
/// (no mark, then suspended, then fewest days left, then by name).
pub fn needing_attention<'a, P: MarkHolder>(
    providers: &'a [P],
    decisions: &HashMap<i64, Vec<Decision>>,
    today: Date,
) -> Vec<Attention<'a, P>> {
    let none = Vec::new();
    let mut out: Vec<Attention<P>> = providers
        .iter()
        .map(|p| Attention { provider: p, mark: MarkStatus::of(decisions.get(&p.holder_id()).unwrap_or(&none), today) })
        .filter(|a| a.mark.needs_attention())
        .collect();
    let rank = |a: &Attention<P>| match a.mark.standing {
        Standing::NotValid { .. } => 0,
        Standing::Suspended { .. } => 1,
        Standing::Valid { .. } => 2,
    };
    out.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(a.mark.days.cmp(&b.mark.days))
            .then(a.provider.holder_name().cmp(b.provider.holder_name()))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn decision(id: i64, status: CertificationStatus, decided: Date, from: Date, until: Option<Date>) -> Decision {
        Decision {
            id,
            status,
            decision_date: decided,
            valid_from: from,
            valid_until: until,
            suspended_from: None,
            suspended_until: None,
            registration_number: String::new(),
            note: String::new(),
        }
    }

    fn fixed(id: i64, from: Date, until: Date) -> Decision {
        decision(id, CertificationStatus::FixedTerm, from, from, Some(until))
    }

    fn suspension(id: i64, decided: Date, from: Date, until: Date) -> Decision {
        Decision {
            suspended_from: Some(from),
            suspended_until: Some(until),
            ..decision(id, CertificationStatus::Suspended, decided, from, None)
        }
    }

    #[test]
    fn the_mark_status_has_one_set_of_words_and_warns_90_days_ahead() {
        let today = date!(2026 - 12 - 06);
        let words = |d: &[Decision]| {
            let m = MarkStatus::of(d, today);
            (m.words(), m.tone(), m.needs_attention())
        };
        // Ends 20-01-2027: 45 days left, within the 90-day warning.
        let soon = [fixed(1, date!(2025 - 01 - 21), date!(2027 - 01 - 20))];
        assert_eq!(
            words(&soon),
            ("Verloopt binnenkort: geldig tot en met 20-01-2027 (nog 45 dagen)".to_string(), Tone::Warn, true)
        );
        // 91 days left is not "soon"; 1 day left is "1 dag".
        let later = [fixed(1, date!(2025 - 01 - 01), date!(2027 - 03 - 07))];
        assert_eq!(words(&later), ("Geldig tot en met 07-03-2027".to_string(), Tone::Ok, false));
        let tomorrow = [fixed(1, date!(2025 - 01 - 01), date!(2026 - 12 - 07))];
        assert_eq!(words(&tomorrow).0, "Verloopt binnenkort: geldig tot en met 07-12-2026 (nog 1 dag)");
        let indefinite =
            [decision(1, CertificationStatus::Indefinite, date!(2022 - 01 - 01), date!(2022 - 01 - 01), None)];
        assert_eq!(words(&indefinite), ("Geldig voor onbepaalde tijd".to_string(), Tone::Ok, false));
        let mut suspended = indefinite.to_vec();
        suspended.push(suspension(2, date!(2026 - 11 - 01), date!(2026 - 11 - 01), date!(2027 - 02 - 28)));
        assert_eq!(words(&suspended), ("Geschorst tot en met 28-02-2027".to_string(), Tone::Bad, true));
        let mut withdrawn = indefinite.to_vec();
        withdrawn.push(decision(3, CertificationStatus::Withdrawn, date!(2026 - 06 - 01), date!(2026 - 06 - 01), None));
        assert_eq!(
            words(&withdrawn),
            ("Geen geldig keurmerk (laatste besluit: ingetrokken)".to_string(), Tone::Bad, true)
        );
        assert_eq!(words(&[]).0, "Geen geldig keurmerk (nog geen besluit)");
    }

    #[test]
    fn no_decisions_means_no_valid_mark() {
        assert!(!holds_valid_mark(&[], date!(2022 - 01 - 01)));
    }

    #[test]
    fn a_fixed_term_mark_is_valid_from_its_first_to_its_last_day_inclusive() {
        let d = [fixed(1, date!(2022 - 01 - 01), date!(2023 - 12 - 31))];
        assert!(!holds_valid_mark(&d, date!(2021 - 12 - 31)));
        assert!(holds_valid_mark(&d, date!(2022 - 01 - 01)));
        assert!(holds_valid_mark(&d, date!(2023 - 12 - 31)));
        assert!(!holds_valid_mark(&d, date!(2024 - 01 - 01)));
    }

    #[test]
    fn a_suspension_invalidates_only_its_own_days() {
        let d = [
            fixed(1, date!(2022 - 01 - 01), date!(2024 - 12 - 31)),
            suspension(2, date!(2023 - 02 - 20), date!(2023 - 03 - 01), date!(2023 - 05 - 31)),
        ];
        assert!(holds_valid_mark(&d, date!(2023 - 02 - 28)));
        assert!(!holds_valid_mark(&d, date!(2023 - 03 - 01)));
        assert!(!holds_valid_mark(&d, date!(2023 - 05 - 31)));
        assert!(holds_valid_mark(&d, date!(2023 - 06 - 01)));
    }

    #[test]
    fn a_later_decision_supersedes_an_earlier_one() {
        let withdrawn = decision(2, CertificationStatus::Withdrawn, date!(2023 - 06 - 15), date!(2023 - 07 - 01), None);
        let d = [fixed(1, date!(2022 - 01 - 01), date!(2025 - 12 - 31)), withdrawn.clone()];
        assert!(holds_valid_mark(&d, date!(2023 - 06 - 30)));
        assert!(!holds_valid_mark(&d, date!(2023 - 07 - 01)));
        assert!(!holds_valid_mark(&d, date!(2025 - 01 - 01)));
        // Granted again later: valid from the new decision's start.
        let regranted =
            decision(3, CertificationStatus::Indefinite, date!(2024 - 03 - 01), date!(2024 - 03 - 01), None);
        let d = [fixed(1, date!(2022 - 01 - 01), date!(2025 - 12 - 31)), withdrawn, regranted];
        assert!(!holds_valid_mark(&d, date!(2024 - 02 - 29)));
        assert!(holds_valid_mark(&d, date!(2024 - 03 - 01)));
        assert!(holds_valid_mark(&d, date!(2030 - 01 - 01)));
    }

    #[test]
    fn conversion_to_indefinite_keeps_the_mark_valid_past_the_fixed_term() {
        let d = [
            fixed(1, date!(2022 - 01 - 01), date!(2023 - 12 - 31)),
            decision(2, CertificationStatus::Indefinite, date!(2023 - 11 - 01), date!(2024 - 01 - 01), None),
        ];
        assert!(holds_valid_mark(&d, date!(2023 - 12 - 31)));
        assert!(holds_valid_mark(&d, date!(2024 - 01 - 01)));
        assert_eq!(
            standing(&d, date!(2023 - 06 - 01)),
            Standing::Valid { until: None, status: CertificationStatus::FixedTerm }
        );
    }

    #[test]
    fn standing_reports_the_last_valid_day_and_suspensions() {
        let d = [fixed(1, date!(2022 - 01 - 01), date!(2023 - 12 - 31))];
        assert_eq!(
            standing(&d, date!(2023 - 10 - 02)),
            Standing::Valid { until: Some(date!(2023 - 12 - 31)), status: CertificationStatus::FixedTerm }
        );
        assert_eq!(days_left(date!(2023 - 12 - 31), date!(2023 - 10 - 02)), 90);
        assert_eq!(
            standing(&d, date!(2024 - 01 - 01)),
            Standing::NotValid { last: Some(CertificationStatus::FixedTerm) }
        );
        let d = [
            fixed(1, date!(2022 - 01 - 01), date!(2024 - 12 - 31)),
            suspension(2, date!(2023 - 02 - 20), date!(2023 - 03 - 01), date!(2023 - 05 - 31)),
        ];
        assert_eq!(standing(&d, date!(2023 - 03 - 01)), Standing::Suspended { until: Some(date!(2023 - 05 - 31)) });
        // A planned suspension ends the current valid run the day before it starts.
        assert_eq!(
            standing(&d, date!(2023 - 02 - 25)),
            Standing::Valid { until: Some(date!(2023 - 02 - 28)), status: CertificationStatus::FixedTerm }
        );
    }

    fn form(status: &str, decided: &str, from: &str, until: &str) -> DecisionForm {
        DecisionForm {
            status: status.into(),
            decision_date: decided.into(),
            valid_from: from.into(),
            valid_until: until.into(),
            ..Default::default()
        }
    }

    #[test]
    fn bad_decisions_are_refused_at_their_field() {
        let e = validate_decision(&form("fixed_term", "2022-01-01", "2022-01-01", "2021-12-31"), &[]).unwrap_err();
        assert!(e.get("valid_until").unwrap().contains("vóór geldig vanaf"));
        let e = validate_decision(&form("gecertificeerd", "2022-01-01", "2022-01-01", ""), &[]).unwrap_err();
        assert!(e.get("status").unwrap().contains("Onbekende status"));
        let e = validate_decision(&form("fixed_term", "2022-01-01", "2022-01-01", ""), &[]).unwrap_err();
        assert!(e.get("valid_until").unwrap().contains("einddatum"));
        let e = validate_decision(&form("indefinite", "2022-01-01", "2022-01-01", "2023-01-01"), &[]).unwrap_err();
        assert!(e.get("valid_until").unwrap().contains("geen einddatum"));
        let e = validate_decision(&form("fixed_term", "31-02-2022", "2022-01-01", "2023-01-01"), &[]).unwrap_err();
        assert!(e.get("decision_date").unwrap().contains("geen geldige datum"));
    }

    #[test]
    fn overlapping_and_contradictory_decisions_are_refused() {
        let existing = [fixed(1, date!(2022 - 01 - 01), date!(2023 - 12 - 31))];
        let e =
            validate_decision(&form("fixed_term", "2023-06-01", "2023-06-01", "2025-05-31"), &existing).unwrap_err();
        assert!(e.get("valid_from").unwrap().contains("overlapt"));
        let e = validate_decision(&form("withdrawn", "2022-01-01", "2022-02-01", ""), &existing).unwrap_err();
        assert!(e.get("decision_date").unwrap().contains("Twee besluiten op één dag"));
        let mut s = form("suspended", "2024-02-01", "2024-02-01", "");
        s.suspended_from = "2024-02-01".into();
        s.suspended_until = "2024-03-01".into();
        let e = validate_decision(&s, &existing).unwrap_err();
        assert!(e.get("suspended_from").unwrap().contains("geen geldig keurmerk"));
        // Adjacent fixed terms do not overlap.
        assert!(validate_decision(&form("fixed_term", "2023-12-01", "2024-01-01", "2025-12-31"), &existing).is_ok());
    }

    struct Holder(i64, &'static str);

    impl MarkHolder for Holder {
        fn holder_id(&self) -> i64 {
            self.0
        }
        fn holder_name(&self) -> &str {
            self.1
        }
    }

    #[test]
    fn marks_needing_attention_come_most_urgent_first() {
        let today = date!(2026 - 12 - 06);
        let providers = [
            Holder(1, "Valide Ver"),
            Holder(2, "Verloopt over 45"),
            Holder(3, "Geschorst"),
            Holder(4, "Zonder B"),
            Holder(5, "Verloopt over 10"),
            Holder(6, "Zonder A"),
            Holder(7, "Onbepaald"),
        ];
        let decisions: HashMap<i64, Vec<Decision>> = [
            // 91 days left: not yet lapsing, so no attention.
            (1, vec![fixed(1, date!(2025 - 01 - 01), date!(2027 - 03 - 07))]),
            (2, vec![fixed(2, date!(2025 - 01 - 21), date!(2027 - 01 - 20))]),
            (
                3,
                vec![
                    fixed(3, date!(2025 - 01 - 01), date!(2028 - 12 - 31)),
                    suspension(4, date!(2026 - 11 - 01), date!(2026 - 11 - 01), date!(2027 - 02 - 28)),
                ],
            ),
            (5, vec![fixed(5, date!(2025 - 12 - 17), date!(2026 - 12 - 16))]),
            (7, vec![decision(6, CertificationStatus::Indefinite, date!(2020 - 01 - 01), date!(2020 - 01 - 01), None)]),
        ]
        .into_iter()
        .collect();
        let order: Vec<(&str, Option<i64>)> = needing_attention(&providers, &decisions, today)
            .iter()
            .map(|a| (a.provider.holder_name(), a.mark.days))
            .collect();
        // No mark (by name), then the suspension (84 days to 28-02-2027), then fewest days left.
        assert_eq!(
            order,
            [
                ("Zonder A", None),
                ("Zonder B", None),
                ("Geschorst", Some(84)),
                ("Verloopt over 10", Some(10)),
                ("Verloopt over 45", Some(45))
            ]
        );
    }
}
