//! Attribution rules (toerekeningsregels): which funding stream, budget line and contract an imported
//! ledger line belongs to. Rules are ordered; the first that matches wins. A manual assignment (with
//! a reason) beats every rule. A line that nothing claims sits in the unattributed queue.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::money::Money;

/// The fields of a ledger line that rules look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerView {
    pub id: i64,
    pub booking_date: Date,
    pub gl_account: String,
    pub cost_centre: String,
    pub task_field: String,
    pub creditor_number: String,
    pub description: String,
    pub amount: Money,
}

/// What a rule matches on; an empty criterion matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    pub cost_centre: String,
    pub gl_account: String,
    pub task_field: String,
    pub creditor_number: String,
    /// Case-insensitive substring of the description.
    pub description_contains: String,
    pub date_from: Option<Date>,
    pub date_until: Option<Date>,
}

impl Criteria {
    pub fn matches(&self, line: &LedgerView) -> bool {
        let eq = |want: &str, have: &str| want.trim().is_empty() || want.trim().eq_ignore_ascii_case(have.trim());
        eq(&self.cost_centre, &line.cost_centre)
            && eq(&self.gl_account, &line.gl_account)
            && eq(&self.task_field, &line.task_field)
            && eq(&self.creditor_number, &line.creditor_number)
            && (self.description_contains.trim().is_empty()
                || line.description.to_lowercase().contains(&self.description_contains.trim().to_lowercase()))
            && self.date_from.is_none_or(|f| f <= line.booking_date)
            && self.date_until.is_none_or(|u| line.booking_date <= u)
    }

    /// A rule must say something: a rule without criteria would swallow the whole ledger.
    pub fn is_empty(&self) -> bool {
        [&self.cost_centre, &self.gl_account, &self.task_field, &self.creditor_number, &self.description_contains]
            .iter()
            .all(|s| s.trim().is_empty())
            && self.date_from.is_none()
            && self.date_until.is_none()
    }
}

/// Where a rule puts the lines it takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ContractChoice {
    None,
    Direct(i64),
    /// Through the creditor's link to a provider: the provider's contract covering the booking date.
    ViaCreditor,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: i64,
    /// Position in the ordered list; lower goes first.
    pub position: i64,
    pub name: String,
    pub criteria: Criteria,
    pub stream_id: i64,
    pub budget_line_id: Option<i64>,
    pub contract: ContractChoice,
}

/// The first rule (in position order) that matches the line.
pub fn first_match<'a>(rules: &'a [Rule], line: &LedgerView) -> Option<&'a Rule> {
    rules.iter().filter(|r| r.criteria.matches(line)).min_by_key(|r| (r.position, r.id))
}

/// What a rule would take: lines it matches that no earlier rule claims and nobody assigned by hand.
pub fn effect<'a>(
    rule: &Rule,
    rules: &[Rule],
    lines: impl IntoIterator<Item = &'a LedgerView>,
    manual: impl Fn(i64) -> bool,
) -> (usize, Money) {
    let earlier: Vec<&Rule> =
        rules.iter().filter(|r| r.id != rule.id && (r.position, r.id) < (rule.position, rule.id)).collect();
    let mut count = 0;
    let mut total = Money::ZERO;
    for line in lines {
        if !manual(line.id) && rule.criteria.matches(line) && !earlier.iter().any(|r| r.criteria.matches(line)) {
            count += 1;
            total += line.amount;
        }
    }
    (count, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn line(id: i64, cost_centre: &str, creditor: &str, description: &str, cents: i64) -> LedgerView {
        LedgerView {
            id,
            booking_date: date!(2023 - 03 - 15),
            gl_account: "4400".into(),
            cost_centre: cost_centre.into(),
            task_field: "6.1".into(),
            creditor_number: creditor.into(),
            description: description.into(),
            amount: Money::from_cents(cents),
        }
    }

    fn rule(id: i64, position: i64, criteria: Criteria, stream: i64) -> Rule {
        Rule {
            id,
            position,
            name: format!("regel {id}"),
            criteria,
            stream_id: stream,
            budget_line_id: None,
            contract: ContractChoice::None,
        }
    }

    #[test]
    fn criteria_match_case_insensitively_and_within_dates() {
        let c = Criteria { cost_centre: "KP-INB".into(), description_contains: "elip".into(), ..Default::default() };
        assert!(c.matches(&line(1, "kp-inb", "", "Maatwerk ELIP januari", 1)));
        assert!(!c.matches(&line(1, "KP-INB", "", "B1-route januari", 1)));
        let dated = Criteria {
            date_from: Some(date!(2023 - 03 - 15)),
            date_until: Some(date!(2023 - 03 - 15)),
            ..Default::default()
        };
        assert!(dated.matches(&line(1, "", "", "", 1)), "both ends inclusive");
        assert!(Criteria::default().is_empty() && !dated.is_empty());
    }

    #[test]
    fn the_first_rule_in_order_wins_and_the_effect_counts_only_what_it_would_take() {
        let elip = rule(1, 1, Criteria { description_contains: "ELIP".into(), ..Default::default() }, 10);
        let all_inb = rule(2, 2, Criteria { cost_centre: "KP-INB".into(), ..Default::default() }, 20);
        let rules = [all_inb.clone(), elip.clone()];
        let lines = [
            line(1, "KP-INB", "", "ELIP maatwerk", 10_000),
            line(2, "KP-INB", "", "B1", 25_050),
            line(3, "KP-X", "", "B1", 1),
        ];
        assert_eq!(first_match(&rules, &lines[0]).unwrap().stream_id, 10);
        assert_eq!(first_match(&rules, &lines[1]).unwrap().stream_id, 20);
        assert!(first_match(&rules, &lines[2]).is_none());
        assert_eq!(effect(&all_inb, &rules, &lines, |_| false), (1, Money::from_cents(25_050)));
        assert_eq!(effect(&elip, &rules, &lines, |_| false), (1, Money::from_cents(10_000)));
        assert_eq!(effect(&elip, &rules, &lines, |id| id == 1), (0, Money::ZERO), "manual assignments stay");
    }
}
