//! Attribution rules (toerekeningsregels): which funding stream, budget line and contract an imported
//! ledger line belongs to. Rules are ordered; the first that matches wins. A manual assignment (with
//! a reason) beats every rule. A line that nothing claims sits in the unattributed queue.

use std::collections::BTreeMap;

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

/// What a rule asks of one code field (cost centre, account, task field, creditor number), as municipal ledgers
/// are coded: an exact value (`4300`), a list (`4300, 4310`), a prefix (`6.1-INB-*`), a numeric range
/// (`4300-4399`), or any mix of these in one list. A value in double quotes is taken exactly as written
/// (`"100-200"` is a code, not a range). Letters compare case-insensitively, as exact values always did. The
/// empty pattern matches every value. Stored as its text; parsed once, so a bad pattern never reaches the matcher.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Pattern {
    /// The pattern as it is stored and shown: its terms, trimmed, joined by ", ".
    text: String,
    terms: Vec<Term>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    /// ASCII-lowercased.
    Exact(String),
    /// ASCII-lowercased, without the `*`.
    Prefix(String),
    /// Both ends inclusive; only all-digit values fall in a range.
    Range(u128, u128),
}

impl Pattern {
    /// Parses a pattern as typed on the rules form or stored in the database. Errors are Dutch sentences that say
    /// what to write instead.
    pub fn parse(input: &str) -> Result<Pattern, String> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(Pattern::default());
        }
        Pattern::parse_list(input).or_else(|e| Pattern::whole_quoted(input).ok_or(e))
    }

    fn parse_list(input: &str) -> Result<Pattern, String> {
        let mut terms = Vec::new();
        let mut shown = Vec::new();
        for raw in split_list(input)? {
            let t = raw.trim();
            if t.is_empty() {
                return Err(format!("De lijst '{input}' heeft een lege waarde: haal de dubbele of losse komma weg."));
            }
            terms.push(parse_term(t)?);
            shown.push(t.to_string());
        }
        Ok(Pattern { text: shown.join(", "), terms })
    }

    /// The whole field as one value in quotes with quotes inside it: `"ab"c"` is the code `ab"c`. Migration 0013
    /// stored every old exact value containing a double quote this way (it put the value in quotes), and `exact`
    /// writes such a value so too. Tried only when the text does not read as a list, so a pattern that parses as a
    /// list keeps that meaning.
    fn whole_quoted(input: &str) -> Option<Pattern> {
        let inner = input.strip_prefix('"')?.strip_suffix('"')?.trim();
        (!inner.is_empty())
            .then(|| Pattern { text: input.to_string(), terms: vec![Term::Exact(inner.to_ascii_lowercase())] })
    }

    /// A pattern for exactly this value (quoted when it would otherwise read as a list, prefix or range).
    pub fn exact(value: &str) -> Pattern {
        let value = value.trim();
        if value.is_empty() {
            return Pattern::default();
        }
        let plain = Pattern::parse(value).ok().filter(|p| p.terms == [Term::Exact(value.to_ascii_lowercase())]);
        plain.unwrap_or_else(|| Pattern {
            text: format!("\"{value}\""),
            terms: vec![Term::Exact(value.to_ascii_lowercase())],
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, value: &str) -> bool {
        let value = value.trim();
        self.terms.is_empty()
            || self.terms.iter().any(|t| match t {
                Term::Exact(want) => want.eq_ignore_ascii_case(value),
                Term::Prefix(p) => {
                    value.len() >= p.len()
                        && value.is_char_boundary(p.len())
                        && value[..p.len()].eq_ignore_ascii_case(p)
                }
                Term::Range(from, to) => number(value).is_some_and(|n| *from <= n && n <= *to),
            })
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;
    fn try_from(s: String) -> Result<Pattern, String> {
        Pattern::parse(&s)
    }
}

impl From<Pattern> for String {
    fn from(p: Pattern) -> String {
        p.text
    }
}

/// Splits a list on commas outside double quotes.
fn split_list(input: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in input.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(format!(
            "In '{input}' staat een aanhalingsteken zonder partner: zet een waarde tussen twee aanhalingstekens, zoals \"100-200\"."
        ));
    }
    parts.push(&input[start..]);
    Ok(parts)
}

fn parse_term(t: &str) -> Result<Term, String> {
    if let Some(inner) = t.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        if inner.trim().is_empty() || inner.contains('"') {
            return Err(format!("'{t}': zet tussen de aanhalingstekens precies één waarde, zoals \"100-200\"."));
        }
        return Ok(Term::Exact(inner.trim().to_ascii_lowercase()));
    }
    if t.contains('"') {
        return Err(format!("'{t}': aanhalingstekens staan alleen om een hele waarde, zoals \"100-200\"."));
    }
    if let Some(prefix) = t.strip_suffix('*') {
        if prefix.trim().is_empty() {
            return Err("Alleen * zou elke waarde nemen: laat het veld leeg als elke waarde goed is.".into());
        }
        if !prefix.contains('*') {
            return Ok(Term::Prefix(prefix.to_ascii_lowercase()));
        }
    }
    if t.contains('*') {
        return Err(format!("'{t}': een * mag alleen aan het eind staan, voor een voorvoegsel zoals 6.1-INB-*."));
    }
    if let Some((a, b)) = t.split_once('-') {
        let (a, b) = (a.trim(), b.trim());
        if is_digits(a) && is_digits(b) {
            let (Some(from), Some(to)) = (number(a), number(b)) else {
                return Err(format!("Bereik {a}-{b}: de getallen zijn te lang (hoogstens 30 cijfers)."));
            };
            if from > to {
                return Err(format!("Bereik {a}-{b}: het begin is groter dan het eind; schrijf {b}-{a}."));
            }
            return Ok(Term::Range(from, to));
        }
    }
    Ok(Term::Exact(t.to_ascii_lowercase()))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An all-digit value as a number (leading zeros allowed); None for anything else.
fn number(s: &str) -> Option<u128> {
    if is_digits(s) && s.trim_start_matches('0').len() <= 30 {
        s.parse().ok()
    } else {
        None
    }
}

/// Which amounts a rule takes: invoices (amount zero or more), credit notes (below zero), or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountSign {
    #[default]
    Both,
    Invoices,
    CreditNotes,
}

impl AmountSign {
    pub const ALL: [AmountSign; 3] = [AmountSign::Both, AmountSign::Invoices, AmountSign::CreditNotes];

    /// The stored (and command line) word.
    pub fn as_str(self) -> &'static str {
        match self {
            AmountSign::Both => "both",
            AmountSign::Invoices => "invoices",
            AmountSign::CreditNotes => "credit_notes",
        }
    }

    pub fn parse(s: &str) -> Option<AmountSign> {
        AmountSign::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            AmountSign::Both => "Facturen en creditnota's",
            AmountSign::Invoices => "Alleen facturen (bedrag 0 of meer)",
            AmountSign::CreditNotes => "Alleen creditnota's (bedrag onder 0)",
        }
    }

    pub fn matches(self, amount: Money) -> bool {
        match self {
            AmountSign::Both => true,
            AmountSign::Invoices => !amount.is_negative(),
            AmountSign::CreditNotes => amount.is_negative(),
        }
    }
}

/// What a rule matches on; an empty criterion matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    pub cost_centre: Pattern,
    pub gl_account: Pattern,
    pub task_field: Pattern,
    pub creditor_number: Pattern,
    /// Case-insensitive substring of the description.
    pub description_contains: String,
    pub date_from: Option<Date>,
    pub date_until: Option<Date>,
    pub amount_sign: AmountSign,
}

impl Criteria {
    pub fn matches(&self, line: &LedgerView) -> bool {
        self.cost_centre.matches(&line.cost_centre)
            && self.gl_account.matches(&line.gl_account)
            && self.task_field.matches(&line.task_field)
            && self.creditor_number.matches(&line.creditor_number)
            && self.amount_sign.matches(line.amount)
            && self.date_from.is_none_or(|f| f <= line.booking_date)
            && self.date_until.is_none_or(|u| line.booking_date <= u)
            && (self.description_contains.trim().is_empty()
                || line.description.to_lowercase().contains(&self.description_contains.trim().to_lowercase()))
    }

    /// A rule must say something: a rule without criteria would swallow the whole ledger. The amount's sign alone
    /// is not enough either (it would swallow every invoice).
    pub fn is_empty(&self) -> bool {
        [&self.cost_centre, &self.gl_account, &self.task_field, &self.creditor_number].iter().all(|p| p.is_empty())
            && self.description_contains.trim().is_empty()
            && self.date_from.is_none()
            && self.date_until.is_none()
    }
}

/// A rule's criteria as typed, on the rules page or in a spreadsheet: every field text.
#[derive(Clone, Copy, Debug, Default)]
pub struct CriteriaForm<'a> {
    pub cost_centre: &'a str,
    pub gl_account: &'a str,
    pub task_field: &'a str,
    pub creditor_number: &'a str,
    pub description_contains: &'a str,
    pub date_from: &'a str,
    pub date_until: &'a str,
    /// `both`, `invoices`, `credit_notes`, or empty (both).
    pub amount_sign: &'a str,
}

/// Checks a rule's criteria as the rules page and the rules import both take them, adding each problem to `e`
/// under the form's field name (`cost_centre`, ..., `amount_sign`). A rule without any criterion is refused: it
/// would take the whole ledger.
pub fn validate_criteria(form: &CriteriaForm<'_>, e: &mut super::validation::FieldErrors) -> Criteria {
    use super::validation::text;
    let pattern = |e: &mut super::validation::FieldErrors, f: &'static str, label: &str, v: &str| {
        let v = text(e, f, label, v, 200, false);
        Pattern::parse(&v).unwrap_or_else(|m| {
            e.add(f, m);
            Pattern::default()
        })
    };
    let cost_centre = pattern(e, "cost_centre", "Kostenplaats", form.cost_centre);
    let gl_account = pattern(e, "gl_account", "Grootboekrekening", form.gl_account);
    let task_field = pattern(e, "task_field", "Taakveld", form.task_field);
    let creditor_number = pattern(e, "creditor_number", "Crediteurnummer", form.creditor_number);
    let amount_sign = match form.amount_sign.trim() {
        "" => AmountSign::Both,
        other => AmountSign::parse(other).unwrap_or_else(|| {
            e.add("amount_sign", "Kies welke bedragen de regel neemt.");
            AmountSign::Both
        }),
    };
    let description_contains =
        text(e, "description_contains", "Omschrijving bevat", form.description_contains, 200, false);
    let date_from = super::dates::parse_form(form.date_from).map_err(|m| e.add("date_from", m)).ok().flatten();
    let date_until = super::dates::parse_form(form.date_until).map_err(|m| e.add("date_until", m)).ok().flatten();
    let criteria = Criteria {
        cost_centre,
        gl_account,
        task_field,
        creditor_number,
        description_contains,
        date_from,
        date_until,
        amount_sign,
    };
    if let (Some(from), Some(until)) = (criteria.date_from, criteria.date_until) {
        if from > until {
            e.add("date_until", "De einddatum ligt vóór de begindatum; draai ze om.");
        }
    }
    if criteria.is_empty() && e.is_empty() {
        e.add("cost_centre", "Geef minstens één kenmerk op; een regel zonder kenmerken zou het hele grootboek nemen.");
    }
    criteria
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

/// The rules in order with `rule` put at `place` (1 is first; None or past the end is last), numbered 1, 2, …
/// from the top. `rule` may be new or already in the list (then it moves).
pub fn placed(rules: &[Rule], rule: Rule, place: Option<usize>) -> Vec<Rule> {
    let mut order: Vec<Rule> = rules.iter().filter(|r| r.id != rule.id).cloned().collect();
    order.sort_by_key(|r| (r.position, r.id));
    let at = place.map_or(order.len(), |p| p.saturating_sub(1).min(order.len()));
    order.insert(at, rule);
    for (i, r) in order.iter_mut().enumerate() {
        r.position = i as i64 + 1;
    }
    order
}

/// Where a line is charged: (stream, budget line, contract, rule).
pub type Target = (i64, Option<i64>, Option<i64>, Option<i64>);

/// A count of ledger lines and their total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub lines: usize,
    pub total: Money,
}

impl Tally {
    fn add(&mut self, amount: Money) {
        self.lines += 1;
        self.total += amount;
    }
}

/// One group of lines that would go elsewhere: from a stream and rule to another (None: the queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Move {
    /// The closed booking year the lines lie in; None for open years.
    pub closed_year: Option<i32>,
    pub from_stream: Option<i64>,
    pub to_stream: Option<i64>,
    pub from_rule: Option<i64>,
    pub to_rule: Option<i64>,
}

/// One ledger line as a plan sees it. Lines assigned by hand are not given to a plan: no rule moves them.
#[derive(Clone, Copy, Debug)]
pub struct PlanLine {
    pub year: i32,
    pub amount: Money,
    /// In a closed year: the line keeps `stored`, whatever the rules say.
    pub closed: bool,
    /// Its attribution now.
    pub stored: Option<Target>,
    /// For a closed line, what the rules said before the change (its stream must not change by the change);
    /// for an open line it is not read.
    pub baseline: Option<Target>,
    /// What the rules say after the change.
    pub after: Option<Target>,
}

/// What applying a set of rules does: what each rule then takes, what stays in the queue, and what moves. Built
/// once per line in one pass, so the per-rule figures on the rules page, the preview of a change, the command
/// line's dry run and what applying stores are one calculation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Per rule id: the lines it holds after applying (closed years as they are).
    pub takes: BTreeMap<i64, Tally>,
    /// Lines no rule holds after applying.
    pub queue: Tally,
    /// Lines in open years whose attribution would change, grouped.
    pub moves: BTreeMap<Move, Tally>,
    /// Lines in closed years whose stream the change would change: refused, they stay where they are.
    pub closed_moves: BTreeMap<Move, Tally>,
}

impl Plan {
    pub fn add(&mut self, line: &PlanLine) {
        let stream = |t: Option<Target>| t.map(|t| t.0);
        let rule = |t: Option<Target>| t.and_then(|t| t.3);
        let held = if line.closed { line.stored } else { line.after };
        match rule(held) {
            Some(r) => self.takes.entry(r).or_default().add(line.amount),
            None if held.is_none() => self.queue.add(line.amount),
            // Attributed by a rule that is gone (its id was cleared): held, but by no rule.
            None => {}
        }
        let (from, moved, into) = if line.closed {
            (line.baseline, stream(line.baseline) != stream(line.after), &mut self.closed_moves)
        } else {
            (line.stored, line.stored != line.after, &mut self.moves)
        };
        if moved {
            let key = Move {
                closed_year: line.closed.then_some(line.year),
                from_stream: stream(from),
                to_stream: stream(line.after),
                from_rule: rule(from),
                to_rule: rule(line.after),
            };
            into.entry(key).or_default().add(line.amount);
        }
    }

    /// Lines that applying would change (open years).
    pub fn moved(&self) -> Tally {
        sum(self.moves.values())
    }

    /// Lines in closed years that would change stream: a change that does this is refused.
    pub fn closed_moved(&self) -> Tally {
        sum(self.closed_moves.values())
    }

    /// Why a change is refused, in Dutch, or None when it moves nothing in a closed year.
    pub fn closed_refusal(&self) -> Option<String> {
        let t = self.closed_moved();
        if t.lines == 0 {
            return None;
        }
        let years: std::collections::BTreeSet<i32> = self.closed_moves.keys().filter_map(|m| m.closed_year).collect();
        let last = years.last().copied().unwrap_or_default();
        let years: Vec<String> = years.iter().map(|y| y.to_string()).collect();
        Some(format!(
            "Deze wijziging zou {} ({}) in afgesloten jaar {} naar een andere financieringsbron verplaatsen, en een afgesloten jaar verandert niet. Laat de regel gelden vanaf een boekdatum na {last} (veld 'Boekdatum vanaf'), of vraag een beheerder het jaar te heropenen.",
            crate::domain::words::count(t.lines, "grootboekregel", "grootboekregels"),
            t.total,
            years.join(", "),
        ))
    }
}

fn sum<'a>(tallies: impl Iterator<Item = &'a Tally>) -> Tally {
    tallies.fold(Tally::default(), |acc, t| Tally { lines: acc.lines + t.lines, total: acc.total + t.total })
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)] // cents written as euros_cents
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

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> String {
        Pattern::parse(s).expect_err(s)
    }

    #[test]
    fn an_exact_value_matches_that_value_case_insensitively_and_trimmed() {
        assert!(p("KP-INB").matches(" kp-inb "));
        assert!(!p("KP-INB").matches("KP-INB2"));
        assert!(p("4300").matches("4300") && !p("4300").matches("04300"), "an exact value compares as text");
        assert!(p("").matches("anything") && p("  ").is_empty());
        assert_eq!(p("KP6100-INB").as_str(), "KP6100-INB", "letters after the hyphen: a code, not a range");
    }

    #[test]
    fn a_list_matches_any_of_its_values_and_reads_back_with_commas() {
        let list = p("4300,4310 ,  6.1-INB-*,5000-5009");
        assert_eq!(list.as_str(), "4300, 4310, 6.1-INB-*, 5000-5009");
        for yes in ["4300", "4310", "6.1-inb-003", "5005"] {
            assert!(list.matches(yes), "{yes}");
        }
        for no in ["4301", "6.1-IN", "5010", ""] {
            assert!(!list.matches(no), "{no}");
        }
    }

    #[test]
    fn a_prefix_matches_what_starts_with_it() {
        let pre = p("6.1-INB-*");
        assert!(pre.matches("6.1-INB-") && pre.matches("6.1-inb-042"));
        assert!(!pre.matches("6.1-INB") && !pre.matches("6.2-INB-001"));
        assert!(p("é*").matches("éa"), "a multi-byte prefix");
        assert!(!p("ab*").matches("é"), "a value shorter than the prefix, not on a char boundary");
    }

    #[test]
    fn a_range_matches_all_digit_values_between_its_ends_inclusive() {
        let r = p("4300-4399");
        assert!(r.matches("4300") && r.matches("4399") && r.matches("04350"));
        assert!(!r.matches("4299") && !r.matches("4400") && !r.matches("43AB") && !r.matches("4300.5"));
        assert!(p("4300 - 4399").matches("4310"), "spaces around the hyphen");
        assert!(p("7-7").matches("7") && !p("7-7").matches("8"));
    }

    #[test]
    fn a_quoted_value_is_taken_exactly_as_written() {
        let q = p("\"100-200\", \"a,b\"");
        assert!(q.matches("100-200") && q.matches("A,B"));
        assert!(!q.matches("150"));
        assert_eq!(Pattern::exact("100-200"), p("\"100-200\""));
        assert_eq!(Pattern::exact("KP-INB"), p("KP-INB"));
        assert_eq!(Pattern::exact("KP-INB").as_str(), "KP-INB");
    }

    #[test]
    fn a_whole_quoted_value_with_quotes_inside_is_that_value_as_migration_0013_stored_it() {
        let q = p("\"KP\"6\"");
        assert!(q.matches("kp\"6") && !q.matches("KP6") && !q.matches("KP"));
        assert_eq!(q.as_str(), "\"KP\"6\"");
        let quoted = p("\"\"4300\"\"");
        assert!(quoted.matches("\"4300\"") && !quoted.matches("4300"));
        assert!(p("\"a\",b\"").matches("a\",b"), "a comma inside stays part of the value");
        assert_eq!(Pattern::exact("KP\"6"), q, "an exact value with a quote reads back as itself");
        assert_eq!(Pattern::parse(Pattern::exact("\"x").as_str()).unwrap(), Pattern::exact("\"x"));
        // A text that reads as a list keeps that meaning.
        assert!(p("\"a\", \"b\"").matches("b"));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_dutch_message_saying_what_to_write() {
        assert_eq!(err("4399-4300"), "Bereik 4399-4300: het begin is groter dan het eind; schrijf 4300-4399.");
        assert_eq!(err("4300, 4399-4300"), "Bereik 4399-4300: het begin is groter dan het eind; schrijf 4300-4399.");
        assert_eq!(
            err("4300,,4310"),
            "De lijst '4300,,4310' heeft een lege waarde: haal de dubbele of losse komma weg."
        );
        assert_eq!(err("4300,"), "De lijst '4300,' heeft een lege waarde: haal de dubbele of losse komma weg.");
        assert_eq!(err("*"), "Alleen * zou elke waarde nemen: laat het veld leeg als elke waarde goed is.");
        assert_eq!(
            err("6.1-*-INB"),
            "'6.1-*-INB': een * mag alleen aan het eind staan, voor een voorvoegsel zoals 6.1-INB-*."
        );
        assert_eq!(err("**"), "'**': een * mag alleen aan het eind staan, voor een voorvoegsel zoals 6.1-INB-*.");
        assert_eq!(
            err("\"4300"),
            "In '\"4300' staat een aanhalingsteken zonder partner: zet een waarde tussen twee aanhalingstekens, zoals \"100-200\"."
        );
        assert_eq!(err("a\"b\""), "'a\"b\"': aanhalingstekens staan alleen om een hele waarde, zoals \"100-200\".");
        assert_eq!(err("\"\""), "'\"\"': zet tussen de aanhalingstekens precies één waarde, zoals \"100-200\".");
        assert_eq!(
            err("1234567890123456789012345678901-1234567890123456789012345678902"),
            "Bereik 1234567890123456789012345678901-1234567890123456789012345678902: de getallen zijn te lang (hoogstens 30 cijfers)."
        );
    }

    #[test]
    fn a_pattern_serializes_as_its_text_and_parses_back() {
        let c = Criteria { gl_account: p("4300-4399"), ..Default::default() };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["gl_account"], "4300-4399");
        assert_eq!(json["amount_sign"], "both");
        assert_eq!(serde_json::from_value::<Criteria>(json).unwrap(), c);
        assert!(serde_json::from_value::<Pattern>(serde_json::json!("9-1")).is_err());
    }

    #[test]
    fn the_amount_sign_splits_invoices_from_credit_notes() {
        let invoices = Criteria { cost_centre: p("KP-INB"), amount_sign: AmountSign::Invoices, ..Default::default() };
        let credits = Criteria { amount_sign: AmountSign::CreditNotes, ..invoices.clone() };
        assert!(invoices.matches(&line(1, "KP-INB", "", "", 100)) && invoices.matches(&line(1, "KP-INB", "", "", 0)));
        assert!(!invoices.matches(&line(1, "KP-INB", "", "", -1)));
        assert!(credits.matches(&line(1, "KP-INB", "", "", -1)) && !credits.matches(&line(1, "KP-INB", "", "", 0)));
        let sign_only = Criteria { amount_sign: AmountSign::Invoices, ..Default::default() };
        assert!(sign_only.is_empty(), "the sign alone would take every invoice");
        assert_eq!(AmountSign::parse("credit_notes"), Some(AmountSign::CreditNotes));
        assert_eq!(AmountSign::parse("x"), None);
    }

    #[test]
    fn criteria_match_case_insensitively_and_within_dates() {
        let c = Criteria { cost_centre: p("KP-INB"), description_contains: "elip".into(), ..Default::default() };
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
    fn the_first_rule_in_order_wins() {
        let elip = rule(1, 1, Criteria { description_contains: "ELIP".into(), ..Default::default() }, 10);
        let all_inb = rule(2, 2, Criteria { cost_centre: p("KP-*"), ..Default::default() }, 20);
        let rules = [all_inb.clone(), elip.clone()];
        let lines = [line(1, "KP-INB", "", "ELIP maatwerk", 10_000), line(2, "KP-INB", "", "B1", 25_050)];
        assert_eq!(first_match(&rules, &lines[0]).unwrap().stream_id, 10);
        assert_eq!(first_match(&rules, &lines[1]).unwrap().stream_id, 20);
        assert!(first_match(&rules, &line(3, "X", "", "B1", 1)).is_none());
    }

    #[test]
    fn a_rule_can_be_placed_anywhere_and_the_order_is_renumbered() {
        let r = |id, position| rule(id, position, Criteria::default(), 1);
        let rules = [r(1, 1), r(2, 5), r(3, 9)];
        let ids = |v: Vec<Rule>| v.iter().map(|r| (r.id, r.position)).collect::<Vec<_>>();
        assert_eq!(ids(placed(&rules, r(4, 0), Some(1))), [(4, 1), (1, 2), (2, 3), (3, 4)]);
        assert_eq!(ids(placed(&rules, r(4, 0), Some(3))), [(1, 1), (2, 2), (4, 3), (3, 4)]);
        assert_eq!(ids(placed(&rules, r(4, 0), None)), [(1, 1), (2, 2), (3, 3), (4, 4)]);
        assert_eq!(ids(placed(&rules, r(4, 0), Some(99))), [(1, 1), (2, 2), (3, 3), (4, 4)]);
        assert_eq!(ids(placed(&rules, r(3, 9), Some(1))), [(3, 1), (1, 2), (2, 3)], "an existing rule moves");
        assert_eq!(ids(placed(&rules, r(1, 1), Some(3))), [(2, 1), (3, 2), (1, 3)]);
    }

    #[test]
    fn a_plan_counts_what_each_rule_holds_what_moves_and_what_a_closed_year_refuses() {
        let t = |stream, rule| Some((stream, None, None, Some(rule)));
        let mut plan = Plan::default();
        let open = |stored, after, cents| PlanLine {
            year: 2024,
            amount: Money::from_cents(cents),
            closed: false,
            stored,
            baseline: None,
            after,
        };
        plan.add(&open(t(10, 1), t(10, 1), 100_00)); // stays with rule 1
        plan.add(&open(t(10, 1), t(20, 2), 25_50)); // moves 10 -> 20
        plan.add(&open(None, t(20, 2), 4_50)); // from the queue to rule 2
        plan.add(&open(t(20, 2), None, -3_00)); // back to the queue
                                                // A closed 2023 line the change would take to stream 20: it stays with rule 1, and that is refused.
        plan.add(&PlanLine {
            year: 2023,
            amount: Money::from_cents(7_00),
            closed: true,
            stored: t(10, 1),
            baseline: t(10, 1),
            after: t(20, 2),
        });
        // A closed line whose rule changes but not its stream: not refused.
        plan.add(&PlanLine {
            year: 2023,
            amount: Money::from_cents(1_00),
            closed: true,
            stored: t(10, 1),
            baseline: t(10, 1),
            after: t(10, 3),
        });
        let tally = |lines, cents| Tally { lines, total: Money::from_cents(cents) };
        // Rule 1: 100,00 (open, stays) + 7,00 + 1,00 (closed, kept) = 108,00 in 3 lines.
        assert_eq!(plan.takes[&1], tally(3, 108_00));
        // Rule 2: 25,50 + 4,50 = 30,00.
        assert_eq!(plan.takes[&2], tally(2, 30_00));
        assert_eq!(plan.queue, tally(1, -3_00));
        assert_eq!(plan.moved(), tally(3, 25_50 + 4_50 - 3_00));
        let key = Move {
            closed_year: None,
            from_stream: Some(10),
            to_stream: Some(20),
            from_rule: Some(1),
            to_rule: Some(2),
        };
        assert_eq!(plan.moves[&key], tally(1, 25_50));
        assert_eq!(plan.closed_moved(), tally(1, 7_00));
        assert_eq!(
            plan.closed_refusal().unwrap(),
            "Deze wijziging zou 1 grootboekregel (€ 7,00) in afgesloten jaar 2023 naar een andere financieringsbron \
             verplaatsen, en een afgesloten jaar verandert niet. Laat de regel gelden vanaf een boekdatum na 2023 \
             (veld 'Boekdatum vanaf'), of vraag een beheerder het jaar te heropenen."
        );
        assert_eq!(Plan::default().closed_refusal(), None);
    }
}
