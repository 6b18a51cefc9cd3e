//! Attribution of ledger lines to funding streams: the ordered rules, applying them, manual
//! assignments, the unattributed queue, and the sums the reconciliation needs.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::Date;

use super::approval::counts;
use super::bulk::{self, Value};
use super::{audit, begin, Db, Tx};
use crate::domain::attribution::{
    first_match, placed, AmountSign, ContractChoice, Criteria, LedgerView, Plan, PlanLine, Rule,
};
pub use crate::domain::attribution::{Pattern, Target};
use crate::domain::contract::ContractPeriod;
use crate::domain::dates;
use crate::domain::funding::ContractYear;
use crate::money::Money;

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    position: i64,
    name: String,
    cost_centre: String,
    gl_account: String,
    task_field: String,
    creditor_number: String,
    description_contains: String,
    date_from: Option<Date>,
    date_until: Option<Date>,
    amount_sign: String,
    stream_id: i64,
    budget_line_id: Option<i64>,
    contract_id: Option<i64>,
    contract_via_creditor: bool,
}

impl TryFrom<RuleRow> for Rule {
    type Error = sqlx::Error;
    /// Every pattern was parsed before it was stored (and the migration quoted older values), so a failure here
    /// means the table was edited by hand.
    fn try_from(r: RuleRow) -> sqlx::Result<Rule> {
        let pattern = |column: &str, text: &str| {
            Pattern::parse(text).map_err(|e| sqlx::Error::Decode(format!("rule {} {column}: {e}", r.id).into()))
        };
        let amount_sign = AmountSign::parse(&r.amount_sign)
            .ok_or_else(|| sqlx::Error::Decode(format!("rule {} amount_sign {}", r.id, r.amount_sign).into()))?;
        Ok(Rule {
            id: r.id,
            position: r.position,
            criteria: Criteria {
                cost_centre: pattern("cost_centre", &r.cost_centre)?,
                gl_account: pattern("gl_account", &r.gl_account)?,
                task_field: pattern("task_field", &r.task_field)?,
                creditor_number: pattern("creditor_number", &r.creditor_number)?,
                description_contains: r.description_contains,
                date_from: r.date_from,
                date_until: r.date_until,
                amount_sign,
            },
            name: r.name,
            stream_id: r.stream_id,
            budget_line_id: r.budget_line_id,
            contract: match (r.contract_id, r.contract_via_creditor) {
                (Some(c), _) => ContractChoice::Direct(c),
                (None, true) => ContractChoice::ViaCreditor,
                (None, false) => ContractChoice::None,
            },
        })
    }
}

const RULE_SELECT: &str = "SELECT id, position, name, cost_centre, gl_account, task_field, creditor_number,
        description_contains, date_from, date_until, amount_sign, stream_id, budget_line_id, contract_id, contract_via_creditor
     FROM attribution_rule ORDER BY position, id";

pub async fn rules(db: &Db) -> sqlx::Result<Vec<Rule>> {
    let rows: Vec<RuleRow> = sqlx::query_as(RULE_SELECT).fetch_all(db).await?;
    rows.into_iter().map(Rule::try_from).collect()
}

/// The unattributed queue: how many ledger lines no rule or person has attributed, and their total. From the kept
/// totals: everything imported less everything attributed.
pub async fn queue_size(db: &Db) -> sqlx::Result<(i64, Money)> {
    let (n, cents): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(SUM(lines), 0) FROM ledger_year_total) - (SELECT COALESCE(SUM(lines), 0) FROM spend_aggregate),
                (SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_year_total)
                  - (SELECT COALESCE(SUM(amount_cents), 0) FROM spend_aggregate)",
    )
    .fetch_one(db)
    .await?;
    Ok((n, Money::from_cents(cents)))
}

/// The same as [`queue_size`], counted in the ledger itself: what the kept totals must always equal (tests).
/// The lines of a batch waiting for approval wait for that, not for attribution: they are not in the queue's size.
pub async fn queue_size_fresh(db: &Db) -> sqlx::Result<(i64, Money)> {
    let (n, cents): (i64, i64) = sqlx::query_as(&format!(
        "SELECT COUNT(*), COALESCE(SUM(e.amount_cents), 0) FROM ledger_entry e
         WHERE NOT EXISTS (SELECT 1 FROM ledger_attribution a WHERE a.ledger_entry_id = e.id) AND {}",
        counts("e.batch_id")
    ))
    .fetch_one(db)
    .await?;
    Ok((n, Money::from_cents(cents)))
}

/// The counter that triggers move on every change to ledger lines, attributions, rules, creditor links, marks and
/// closed years (`ledger_inputs_version`), and the overview's one (contracts, placements, streams, …): figures
/// computed from those at one pair of values are current while both stay.
pub async fn inputs_version(conn: impl sqlx::SqliteExecutor<'_>) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT (SELECT n FROM ledger_inputs_version WHERE id = 1), (SELECT n FROM overview_inputs_version WHERE id = 1)",
    )
    .fetch_one(conn)
    .await
}

/// How many ledger lines a rule attributes now, and their total: what deleting it would send back through the
/// other rules (or to the queue).
pub async fn rule_usage(db: &Db, rule: i64) -> sqlx::Result<(i64, Money)> {
    let (n, cents): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(e.amount_cents), 0) FROM ledger_attribution a
         JOIN ledger_entry e ON e.id = a.ledger_entry_id WHERE a.source = 'rule' AND a.rule_id = ?",
    )
    .bind(rule)
    .fetch_one(db)
    .await?;
    Ok((n, Money::from_cents(cents)))
}

/// Every ledger line that counts as rules see it, with whether someone assigned it by hand.
pub async fn ledger_views(db: &Db) -> sqlx::Result<Vec<(LedgerView, bool)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        booking_date: Date,
        gl_account: String,
        cost_centre: String,
        task_field: String,
        creditor_number: String,
        description: String,
        amount_cents: i64,
        manual: bool,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT e.id, e.booking_date, e.gl_account, e.cost_centre, e.task_field, e.creditor_number, e.description,
                e.amount_cents, COALESCE(a.source = 'manual', 0) AS manual
         FROM ledger_entry e LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id WHERE {} ORDER BY e.id",
        counts("e.batch_id")
    ))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                LedgerView {
                    id: r.id,
                    booking_date: r.booking_date,
                    gl_account: r.gl_account,
                    cost_centre: r.cost_centre,
                    task_field: r.task_field,
                    creditor_number: r.creditor_number,
                    description: r.description,
                    amount: Money::from_cents(r.amount_cents),
                },
                r.manual,
            )
        })
        .collect())
}

/// A rule to save (validated by the caller).
#[derive(Clone, Debug, Serialize)]
pub struct NewRule {
    pub name: String,
    pub criteria: Criteria,
    pub stream_id: i64,
    pub budget_line_id: Option<i64>,
    pub contract: ContractChoice,
}

impl NewRule {
    /// The rule as the matcher sees it, with an id it does not have yet.
    pub fn as_rule(&self, id: i64) -> Rule {
        Rule {
            id,
            position: 0,
            name: self.name.clone(),
            criteria: self.criteria.clone(),
            stream_id: self.stream_id,
            budget_line_id: self.budget_line_id,
            contract: self.contract.clone(),
        }
    }
}

/// A change to the ordered rules. Every change is planned (what would move) and saved the same way.
#[derive(Clone, Debug)]
pub enum RuleChange {
    /// A new rule at a place (1 is first; None or past the end: last).
    Add {
        rule: Box<NewRule>,
        place: Option<usize>,
    },
    /// An existing rule to another place.
    Move {
        id: i64,
        place: usize,
    },
    Delete {
        id: i64,
    },
}

/// The id a plan gives the rule a change adds (SQLite ids start at 1).
pub const NEW_RULE: i64 = 0;

impl RuleChange {
    /// The rules in order after the change; None when the rule to move or delete is not there.
    fn rules_after(&self, rules: &[Rule]) -> Option<Vec<Rule>> {
        match self {
            RuleChange::Add { rule, place } => Some(placed(rules, rule.as_rule(NEW_RULE), *place)),
            RuleChange::Move { id, place } => {
                let rule = rules.iter().find(|r| r.id == *id)?;
                Some(placed(rules, rule.clone(), Some(*place)))
            }
            RuleChange::Delete { id } => {
                rules.iter().any(|r| r.id == *id).then(|| rules.iter().filter(|r| r.id != *id).cloned().collect())
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The change would move ledger lines of a closed year to another stream; the message says what to do.
    #[error("{0}")]
    ClosedYear(String),
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Saves a rule at the end of the list, then re-applies all rules, in one transaction.
pub async fn add_rule(db: &Db, rule: &NewRule, actor: &str) -> Result<(i64, ApplyOutcome), RuleError> {
    add_rule_at(db, rule, None, actor).await
}

/// Saves a rule at `place` (1 is first; None: last), then re-applies all rules, in one transaction. Refused when
/// it would move ledger lines of a closed year to another stream.
pub async fn add_rule_at(
    db: &Db,
    rule: &NewRule,
    place: Option<usize>,
    actor: &str,
) -> Result<(i64, ApplyOutcome), RuleError> {
    let mut tx = begin(db).await?;
    let id = add_rule_in(&mut tx, rule, place, None, actor).await?;
    let outcome = apply_in(&mut tx, actor).await?;
    tx.commit().await?;
    Ok((id, outcome))
}

/// Saves a rule at `place` inside the caller's transaction, refused like [`add_rule_at`]; `batch`: the import
/// that brings it. Does not re-apply the rules: the caller does, once, after its last change.
pub async fn add_rule_in(
    tx: &mut Tx<'_>,
    rule: &NewRule,
    place: Option<usize>,
    batch: Option<i64>,
    actor: &str,
) -> Result<i64, RuleError> {
    let order = checked_order(tx, &RuleChange::Add { rule: Box::new(rule.clone()), place }).await?;
    let c = &rule.criteria;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO attribution_rule (position, name, cost_centre, gl_account, task_field, creditor_number,
             description_contains, date_from, date_until, amount_sign, stream_id, budget_line_id, contract_id,
             contract_via_creditor, batch_id, created_at)
         VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&rule.name)
    .bind(c.cost_centre.as_str())
    .bind(c.gl_account.as_str())
    .bind(c.task_field.as_str())
    .bind(c.creditor_number.as_str())
    .bind(c.description_contains.trim())
    .bind(c.date_from)
    .bind(c.date_until)
    .bind(c.amount_sign.as_str())
    .bind(rule.stream_id)
    .bind(rule.budget_line_id)
    .bind(match rule.contract {
        ContractChoice::Direct(id) => Some(id),
        _ => None,
    })
    .bind(rule.contract == ContractChoice::ViaCreditor)
    .bind(batch)
    .bind(dates::now_timestamp())
    .fetch_one(&mut **tx)
    .await?;
    let place = write_order(tx, &order, id).await?;
    let mut snapshot = audit::snapshot(rule);
    snapshot["place"] = place.into();
    audit::record(tx, actor, "create", "attribution_rule", id, None, Some(&snapshot)).await?;
    Ok(id)
}

/// Whether adding `rule` at `place` would be refused (it would move ledger lines of a closed year to another
/// stream), on any connection: the rules import asks it in its read phase, so the preview shows the refusal.
pub async fn check_add_in(conn: &mut super::Conn, rule: &NewRule, place: Option<usize>) -> Result<(), RuleError> {
    checked_order(conn, &RuleChange::Add { rule: Box::new(rule.clone()), place }).await.map(|_| ())
}

/// The first rule (in order) named `name`, with the batch that brought it (0: entered on a screen), and how many
/// rules there are, on the caller's connection.
pub async fn rule_named_in(conn: &mut super::Conn, name: &str) -> sqlx::Result<(Option<(Rule, i64)>, usize)> {
    let rows: Vec<RuleRow> = sqlx::query_as(RULE_SELECT).fetch_all(&mut *conn).await?;
    let count = rows.len();
    let Some(found) = rows.into_iter().find(|r| r.name == name) else { return Ok((None, count)) };
    let batch: i64 = sqlx::query_scalar("SELECT COALESCE(batch_id, 0) FROM attribution_rule WHERE id = ?")
        .bind(found.id)
        .fetch_one(conn)
        .await?;
    Ok((Some((Rule::try_from(found)?, batch)), count))
}

/// Removes a rule and re-applies the others.
pub async fn delete_rule(db: &Db, id: i64, actor: &str) -> Result<ApplyOutcome, RuleError> {
    let mut tx = begin(db).await?;
    checked_order(&mut tx, &RuleChange::Delete { id }).await?;
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM attribution_rule WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
    sqlx::query("DELETE FROM attribution_rule WHERE id = ?").bind(id).execute(&mut *tx).await?;
    audit::record(&mut tx, actor, "delete", "attribution_rule", id, Some(&serde_json::json!({"name": name})), None)
        .await?;
    let outcome = apply_in(&mut tx, actor).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Moves a rule to `place` (1 is first; past the end: last), then re-applies.
pub async fn move_rule(db: &Db, id: i64, place: usize, actor: &str) -> Result<ApplyOutcome, RuleError> {
    let mut tx = begin(db).await?;
    let before = RuleBook::load(&mut tx).await?.rules.iter().position(|r| r.id == id).ok_or(RuleError::NotFound)? + 1;
    let order = checked_order(&mut tx, &RuleChange::Move { id, place }).await?;
    let after = write_order(&mut tx, &order, id).await?;
    if before != after {
        let (b, a) = (serde_json::json!({ "place": before }), serde_json::json!({ "place": after }));
        audit::record(&mut tx, actor, "move", "attribution_rule", id, Some(&b), Some(&a)).await?;
    }
    let outcome = apply_in(&mut tx, actor).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Moves a rule one place up (earlier) in the order, then re-applies.
pub async fn move_up(db: &Db, id: i64, actor: &str) -> Result<ApplyOutcome, RuleError> {
    let place = rules(db).await?.iter().position(|r| r.id == id).ok_or(RuleError::NotFound)? + 1;
    move_rule(db, id, place.saturating_sub(1).max(1), actor).await
}

/// The rules in order after `change`; refused when it would move ledger lines of a closed year to another stream.
async fn checked_order(conn: &mut super::Conn, change: &RuleChange) -> Result<Vec<Rule>, RuleError> {
    let book = RuleBook::load(conn).await?;
    let after = change.rules_after(&book.rules).ok_or(RuleError::NotFound)?;
    if let Some(last) = book.last_closed {
        let plan = plan_lines(conn, Some(&book), &book.with_rules(after.clone()), Some(last)).await?;
        if let Some(message) = plan.closed_refusal() {
            return Err(RuleError::ClosedYear(message));
        }
    }
    Ok(after)
}

/// Stores the order (positions 1, 2, …); `new_id` is the saved id of the rule the order calls `NEW_RULE`.
/// Returns that rule's place.
async fn write_order(tx: &mut Tx<'_>, order: &[Rule], new_id: i64) -> sqlx::Result<usize> {
    let mut place = 0;
    for (i, r) in order.iter().enumerate() {
        let id = if r.id == NEW_RULE { new_id } else { r.id };
        if id == new_id {
            place = i + 1;
        }
        sqlx::query("UPDATE attribution_rule SET position = ? WHERE id = ? AND position <> ?")
            .bind(r.position)
            .bind(id)
            .bind(r.position)
            .execute(&mut **tx)
            .await?;
    }
    Ok(place)
}

/// What a change would do: per rule what it then holds, and what would move (refused in closed years).
pub async fn plan_change(db: &Db, change: &RuleChange) -> Result<Plan, RuleError> {
    let mut conn = db.acquire().await?;
    let book = RuleBook::load(&mut conn).await?;
    let after = change.rules_after(&book.rules).ok_or(RuleError::NotFound)?;
    Ok(plan_lines(&mut conn, Some(&book), &book.with_rules(after), None).await?)
}

/// What applying the current rules would do: per rule what it holds, and what would move (lines whose stored
/// attribution differs from what the rules say; in closed years they stay, and are counted as closed moves).
pub async fn plan_apply(db: &Db) -> sqlx::Result<Plan> {
    let mut conn = db.acquire().await?;
    let book = RuleBook::load(&mut conn).await?;
    plan_lines(&mut conn, None, &book, None).await
}

/// The plan of applying `after` to every ledger line not assigned by hand (only those booked up to `until_year`
/// when given). A closed line's stream must not change from what `before` says (None: from what is stored).
async fn plan_lines(
    conn: &mut super::Conn,
    before: Option<&RuleBook>,
    after: &RuleBook,
    until_year: Option<i32>,
) -> sqlx::Result<Plan> {
    let mut plan = Plan::default();
    let mut from = i64::MIN;
    loop {
        let rows = line_chunk(conn, from, i64::MAX, None, until_year).await?;
        let Some(end) = rows.last() else { break };
        from = end.id;
        for r in rows.into_iter().filter(|r| r.source.as_deref() != Some("manual")) {
            let stored = r.stored();
            let view = r.view();
            let closed = after.closed(view.booking_date);
            let baseline = match before {
                Some(book) if closed => book.target(&view).map(|(t, _)| t),
                _ => stored,
            };
            let target = after.target(&view).map(|(t, _)| t);
            let year = view.booking_date.year();
            plan.add(&PlanLine { year, amount: view.amount, closed, stored, baseline, after: target });
        }
    }
    Ok(plan)
}

/// A ledger line with its stored attribution, as applying and planning read them.
#[derive(sqlx::FromRow)]
struct LineRow {
    id: i64,
    booking_date: Date,
    gl_account: String,
    cost_centre: String,
    task_field: String,
    creditor_number: String,
    description: String,
    amount_cents: i64,
    source: Option<String>,
    stream_id: Option<i64>,
    budget_line_id: Option<i64>,
    contract_id: Option<i64>,
    rule_id: Option<i64>,
}

impl LineRow {
    fn stored(&self) -> Option<Target> {
        self.stream_id.map(|s| (s, self.budget_line_id, self.contract_id, self.rule_id))
    }

    fn view(self) -> LedgerView {
        LedgerView {
            id: self.id,
            booking_date: self.booking_date,
            gl_account: self.gl_account,
            cost_centre: self.cost_centre,
            task_field: self.task_field,
            creditor_number: self.creditor_number,
            description: self.description,
            amount: Money::from_cents(self.amount_cents),
        }
    }
}

/// Up to `APPLY_CHUNK` lines with ids above `after` and up to `last`, of one batch or all, booked up to a year;
/// only lines that count: rules never touch a batch waiting for approval.
async fn line_chunk(
    conn: &mut super::Conn,
    after: i64,
    last: i64,
    batch: Option<i64>,
    until_year: Option<i32>,
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as(&format!(
        "SELECT e.id, e.booking_date, e.gl_account, e.cost_centre, e.task_field, e.creditor_number, e.description, e.amount_cents,
                a.source, a.stream_id, a.budget_line_id, a.contract_id, a.rule_id
         FROM ledger_entry e LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id
         WHERE e.id > ?1 AND e.id <= ?2 AND (?3 IS NULL OR e.batch_id = ?3)
           AND (?5 IS NULL OR e.booking_date < printf('%04d-01-01', ?5 + 1)) AND {}
         ORDER BY e.id LIMIT ?4",
        counts("e.batch_id")
    ))
    .bind(after)
    .bind(last)
    .bind(batch)
    .bind(APPLY_CHUNK)
    .bind(until_year)
    .fetch_all(conn)
    .await
}

/// What re-applying the rules changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApplyOutcome {
    pub examined: usize,
    pub changed: usize,
    /// Lines in closed years, left exactly as they were.
    pub skipped_closed: usize,
}

/// Re-applies the rules to every line not assigned by hand and not in a closed year.
pub async fn apply(db: &Db, actor: &str) -> sqlx::Result<ApplyOutcome> {
    let mut tx = begin(db).await?;
    let outcome = apply_in(&mut tx, actor).await?;
    tx.commit().await?;
    Ok(outcome)
}

pub async fn apply_in(tx: &mut Tx<'_>, actor: &str) -> sqlx::Result<ApplyOutcome> {
    apply_scoped(tx, actor, None).await
}

/// Applies the rules to one batch's new lines only: the rules did not change, so older lines keep theirs.
pub async fn apply_to_batch(tx: &mut Tx<'_>, batch: i64, actor: &str) -> sqlx::Result<ApplyOutcome> {
    let any_rule: Option<i64> =
        sqlx::query_scalar("SELECT id FROM attribution_rule LIMIT 1").fetch_optional(&mut **tx).await?;
    if any_rule.is_none() {
        // Without rules every new line simply waits in the queue; nothing to write.
        return Ok(ApplyOutcome::default());
    }
    apply_scoped(tx, actor, Some(batch)).await
}

/// Lines read, matched and written at a time: applying the rules to a batch of a million lines never holds them
/// all in memory.
const APPLY_CHUNK: i64 = 10_000;

async fn apply_scoped(tx: &mut Tx<'_>, actor: &str, batch: Option<i64>) -> sqlx::Result<ApplyOutcome> {
    let (first, last) = match batch {
        Some(b) => crate::store::imports::entry_range(tx, b).await?,
        None => (i64::MIN, i64::MAX),
    };
    let book = RuleBook::load(tx).await?;
    let now = dates::now_timestamp();
    let mut outcome = ApplyOutcome::default();
    let mut after = first.saturating_sub(1);
    loop {
        let rows = line_chunk(tx, after, last, batch, None).await?;
        let Some(end) = rows.last() else { break };
        after = end.id;
        let mut changes = Vec::new();
        for r in rows {
            if r.source.as_deref() == Some("manual") {
                continue;
            }
            if book.closed(r.booking_date) {
                outcome.skipped_closed += 1;
                continue;
            }
            outcome.examined += 1;
            let current = r.stored();
            let id = r.id;
            let view = r.view();
            let target = book.target(&view);
            if current == target.map(|(t, _)| t) {
                continue;
            }
            changes.push((id, target));
        }
        outcome.changed += changes.len();
        write_rule_attributions(tx, &changes, &now).await?;
    }
    audit_applied(tx, actor, &outcome).await?;
    Ok(outcome)
}

async fn audit_applied(tx: &mut Tx<'_>, actor: &str, outcome: &ApplyOutcome) -> sqlx::Result<()> {
    if outcome.changed == 0 {
        return Ok(());
    }
    audit::record(tx, actor, "apply_rules", "ledger_attribution", "*", None, Some(&audit::snapshot(outcome))).await
}

/// Everything the rules read besides a line: the rules in order, the creditors' links to providers, the
/// contracts' periods with their exercised options, and the last closed year. Two equal books attribute every
/// line alike, so an import attributes its lines while it reads them (outside the write lock) and inside the
/// lock only checks that the book is still the same.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleBook {
    rules: Vec<Rule>,
    links: HashMap<String, i64>,
    /// (contract, provider, start, initial end), by contract id.
    contracts: Vec<(i64, i64, Date, Date)>,
    /// (contract, new end) of exercised options.
    options: Vec<(i64, Date)>,
    last_closed: Option<i32>,
}

impl RuleBook {
    pub async fn load(conn: &mut super::Conn) -> sqlx::Result<RuleBook> {
        let rule_rows: Vec<RuleRow> = sqlx::query_as(RULE_SELECT).fetch_all(&mut *conn).await?;
        let links = sqlx::query_as::<_, (String, i64)>("SELECT creditor_number, provider_id FROM creditor_link")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        let contracts =
            sqlx::query_as("SELECT id, provider_id, start_date, initial_end_date FROM contract ORDER BY id")
                .fetch_all(&mut *conn)
                .await?;
        let options = sqlx::query_as(
            "SELECT contract_id, new_end_date FROM extension_option WHERE status = 'exercised'
             ORDER BY contract_id, new_end_date",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok(RuleBook {
            rules: rule_rows.into_iter().map(Rule::try_from).collect::<sqlx::Result<_>>()?,
            links,
            contracts,
            options,
            last_closed: crate::store::funding::last_closed(conn).await?,
        })
    }

    /// The same book with other rules (a change not saved yet).
    fn with_rules(&self, rules: Vec<Rule>) -> RuleBook {
        RuleBook { rules, ..self.clone() }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// Whether `day` lies in a closed year: such lines keep their attribution as it is.
    pub fn closed(&self, day: Date) -> bool {
        self.last_closed.is_some_and(|last| day.year() <= last)
    }

    /// Where the rules put a line, and the rule that does: None when no rule takes it.
    pub fn target(&self, line: &LedgerView) -> Option<(Target, i64)> {
        let rule = first_match(&self.rules, line)?;
        let contract = match rule.contract {
            ContractChoice::Direct(c) => Some(c),
            ContractChoice::ViaCreditor => self.contract_for(&line.creditor_number, line.booking_date),
            ContractChoice::None => None,
        };
        Some(((rule.stream_id, rule.budget_line_id, contract, Some(rule.id)), rule.id))
    }

    /// The contract of a creditor's provider that runs on `day` (exercised options included).
    fn contract_for(&self, creditor: &str, day: Date) -> Option<i64> {
        let provider = self.links.get(creditor.trim())?;
        let mut found = self.contracts.iter().filter(|(id, p, start, end)| {
            let current_end = self.options.iter().filter(|(c, _)| c == id).map(|(_, e)| *e).fold(*end, Date::max);
            let period = ContractPeriod { start_date: *start, initial_end_date: current_end, options: vec![] };
            p == provider && period.covers(day)
        });
        let first = found.next()?;
        // Two contracts with one provider on one day: do not guess.
        found.next().is_none().then_some(first.0)
    }
}

/// How a charge reads on screen: funding streams' codes and names and contracts' references, by id. Read once
/// per import with its rule book, so the preview names where each line goes without a query per line.
#[derive(Clone, Debug, Default)]
pub struct ChargeLabels {
    streams: HashMap<i64, (String, String)>,
    contracts: HashMap<i64, String>,
}

impl ChargeLabels {
    pub async fn load(conn: &mut super::Conn) -> sqlx::Result<ChargeLabels> {
        let streams = sqlx::query_as::<_, (i64, String, String)>("SELECT id, code, name FROM funding_stream")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(id, code, name)| (id, (code, name)))
            .collect();
        let contracts = sqlx::query_as::<_, (i64, String)>("SELECT id, reference FROM contract")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        Ok(ChargeLabels { streams, contracts })
    }

    /// A stream's code and name.
    pub fn stream(&self, id: i64) -> (&str, &str) {
        self.streams.get(&id).map(|(code, name)| (code.as_str(), name.as_str())).unwrap_or(("", ""))
    }

    /// A contract's reference.
    pub fn contract(&self, id: i64) -> &str {
        self.contracts.get(&id).map(String::as_str).unwrap_or("")
    }
}

/// `apply_to_batch` for a batch whose lines the import attributed while it staged them (`store::staging`), by a
/// rule book equal to the current one: only storing the attributions is left. The batch's new lines carry no
/// attribution yet, none is manual, and none lies in a closed year (the import refuses those first).
pub async fn apply_staged(tx: &mut Tx<'_>, batch: i64, actor: &str) -> sqlx::Result<ApplyOutcome> {
    let (first, _) = crate::store::imports::entry_range(tx, batch).await?;
    let changed = sqlx::query(
        "INSERT INTO ledger_attribution (ledger_entry_id, stream_id, budget_line_id, contract_id, source, rule_id, assigned_at)
         SELECT e.id, s.stream_id, s.budget_line_id, s.contract_id, 'rule', s.rule_id, ?3
         FROM main.ledger_entry e JOIN staging.ledger s ON s.source_row = e.source_row
         WHERE e.id >= ?1 AND e.batch_id = ?2 AND s.stream_id IS NOT NULL",
    )
    .bind(first)
    .bind(batch)
    .bind(dates::now_timestamp())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    // The batch's lines are one run of ids from `first` up.
    let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), ?1 - 1) FROM ledger_entry")
        .bind(first)
        .fetch_one(&mut **tx)
        .await?;
    let outcome = ApplyOutcome { examined: (last - first + 1) as usize, changed: changed as usize, skipped_closed: 0 };
    audit_applied(tx, actor, &outcome).await?;
    Ok(outcome)
}

/// Stores what the rules now say for each line in `changes`: its target and rule, or no attribution. Through
/// `store::bulk`: one sqlx statement per line made attributing a 100,000-line batch take 5.5 s, all of it inside
/// the import's write lock.
async fn write_rule_attributions(
    tx: &mut Tx<'_>,
    changes: &[(i64, Option<(Target, i64)>)],
    now: &str,
) -> sqlx::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut handle = (**tx).lock_handle().await?;
    let mut upsert = bulk::Statement::prepare(
        &mut handle,
        "INSERT INTO ledger_attribution (ledger_entry_id, stream_id, budget_line_id, contract_id, source, rule_id, assigned_at)
         VALUES (?1, ?2, ?3, ?4, 'rule', ?5, ?6)
         ON CONFLICT (ledger_entry_id) DO UPDATE SET stream_id = excluded.stream_id, budget_line_id = excluded.budget_line_id,
             contract_id = excluded.contract_id, source = 'rule', rule_id = excluded.rule_id, assigned_by = NULL,
             reason = NULL, assigned_at = excluded.assigned_at",
    )?;
    for (id, target) in changes {
        if let Some(((stream, line, contract, _), rule)) = target {
            upsert.execute(&[
                Value::Int(*id),
                Value::Int(*stream),
                (*line).into(),
                (*contract).into(),
                Value::Int(*rule),
                Value::Text(now),
            ])?;
        }
    }
    drop(upsert);
    let mut delete =
        bulk::Statement::prepare(&mut handle, "DELETE FROM ledger_attribution WHERE ledger_entry_id = ?1")?;
    for (id, target) in changes {
        if target.is_none() {
            delete.execute(&[Value::Int(*id)])?;
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("jaar {0} is afgesloten; vraag een beheerder het jaar te heropenen")]
    ClosedYear(i32),
    #[error(
        "deze regel hoort bij importbatch {0}, die wacht op goedkeuring; hij kan pas worden toegerekend als een \
         andere financieel medewerker of een beheerder de batch heeft goedgekeurd"
    )]
    AwaitsApproval(i64),
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Assigns a line by hand (beats every rule), with the reason, audited.
pub async fn assign_manually(
    db: &Db,
    entry_id: i64,
    stream_id: i64,
    contract_id: Option<i64>,
    reason: &str,
    actor: &str,
) -> Result<(), AssignError> {
    let mut tx = begin(db).await?;
    let line: Option<(Date, i64)> = sqlx::query_as("SELECT booking_date, batch_id FROM ledger_entry WHERE id = ?")
        .bind(entry_id)
        .fetch_optional(&mut *tx)
        .await?;
    let (date, batch) = line.ok_or(AssignError::NotFound)?;
    if super::approval::awaits(&mut tx, batch).await? {
        return Err(AssignError::AwaitsApproval(batch));
    }
    if crate::store::funding::last_closed(&mut tx).await?.is_some_and(|last| date.year() <= last) {
        return Err(AssignError::ClosedYear(date.year()));
    }
    let before: Option<(i64, String)> =
        sqlx::query_as("SELECT stream_id, source FROM ledger_attribution WHERE ledger_entry_id = ?")
            .bind(entry_id)
            .fetch_optional(&mut *tx)
            .await?;
    sqlx::query(
        "INSERT INTO ledger_attribution (ledger_entry_id, stream_id, budget_line_id, contract_id, source, rule_id, assigned_by, reason, assigned_at)
         VALUES (?, ?, NULL, ?, 'manual', NULL, ?, ?, ?)
         ON CONFLICT (ledger_entry_id) DO UPDATE SET stream_id = excluded.stream_id, budget_line_id = NULL,
             contract_id = excluded.contract_id, source = 'manual', rule_id = NULL, assigned_by = excluded.assigned_by,
             reason = excluded.reason, assigned_at = excluded.assigned_at",
    )
    .bind(entry_id)
    .bind(stream_id)
    .bind(contract_id)
    .bind(actor)
    .bind(reason)
    .bind(dates::now_timestamp())
    .execute(&mut *tx)
    .await?;
    let b = before.map(|(s, src)| serde_json::json!({"stream_id": s, "source": src}));
    let a =
        serde_json::json!({"stream_id": stream_id, "contract_id": contract_id, "source": "manual", "reason": reason});
    audit::record(&mut tx, actor, "assign", "ledger_entry", entry_id, b.as_ref(), Some(&a)).await?;
    tx.commit().await?;
    Ok(())
}

/// A ledger line with where it is attributed and why.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct AttributedLine {
    pub id: i64,
    pub booking_date: Date,
    pub gl_account: String,
    pub cost_centre: String,
    pub creditor_number: String,
    pub creditor_name: String,
    pub description: String,
    pub amount_cents: i64,
    pub stream_code: Option<String>,
    pub contract_reference: Option<String>,
    pub source: Option<String>,
    pub rule_name: Option<String>,
    pub assigned_by: Option<String>,
    pub reason: Option<String>,
    pub batch_id: i64,
    /// Its batch waits for approval: it counts nowhere yet.
    pub pending: bool,
}

impl AttributedLine {
    /// Why the line is where it is, in words.
    pub fn why(&self) -> String {
        if self.pending {
            return AWAITS_APPROVAL.to_string();
        }
        match (self.source.as_deref(), &self.rule_name, &self.assigned_by, &self.reason) {
            (Some("rule"), Some(rule), _, _) => format!("regel '{rule}'"),
            (Some("manual"), _, Some(by), Some(reason)) => format!("handmatig door {by}: {reason}"),
            _ => "geen regel past: wacht op toerekening".to_string(),
        }
    }

    pub fn amount(&self) -> Money {
        Money::from_cents(self.amount_cents)
    }
}

/// How a line of a batch waiting for approval is marked in lists.
pub const AWAITS_APPROVAL: &str = "wacht op goedkeuring";

/// Lines by filter: `unattributed_only`, a stream, a contract, a year; newest first, capped. Lines of batches
/// waiting for approval only with `with_pending` (the queue shows them, marked; figures never count them).
#[derive(Clone, Debug, Default)]
pub struct LineFilter {
    pub unattributed_only: bool,
    pub with_pending: bool,
    pub stream_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub year: Option<i32>,
    pub limit: i64,
    /// Lines to skip (the pages before), newest first.
    pub offset: i64,
    /// Only lines older than this one in the list's order (booking date, then id): the next page after it.
    pub before: Option<(Date, i64)>,
}

/// The columns of an [`AttributedLine`]; `pending` is the negation of `approval::counts`, the one rule.
fn line_columns() -> String {
    format!(
        "SELECT e.id, e.booking_date, e.gl_account, e.cost_centre, e.creditor_number, e.creditor_name,
            e.description, e.amount_cents, s.code AS stream_code, c.reference AS contract_reference, a.source,
            r.name AS rule_name, a.assigned_by, a.reason, e.batch_id, NOT ({}) AS pending",
        counts("e.batch_id")
    )
}

/// A ledger line's attribution and what it names (the joins every line query shares).
const LINE_JOINS: &str = "LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id
     LEFT JOIN funding_stream s ON s.id = a.stream_id
     LEFT JOIN contract c ON c.id = a.contract_id
     LEFT JOIN attribution_rule r ON r.id = a.rule_id";

/// Lines by filter, newest first, at most `limit`. The ledger has no index on the booking date, so the rows that
/// drive the query decide its speed: unattributed lines come from `ledger_queue` (kept in date order), a
/// contract's from its index, the rest from the ledger; the year is a range on the booking date.
pub async fn lines(db: &Db, f: &LineFilter) -> sqlx::Result<Vec<AttributedLine>> {
    let (from, order) = if f.contract_id.is_some() && !f.unattributed_only {
        // A contract's lines in date order from the kept index (migration 0029): a page reads only its own lines.
        (
            "FROM ledger_contract_line k JOIN ledger_entry e ON e.id = k.ledger_entry_id",
            "k.contract_id = ?4 AND k.booking_date >= ?1 AND k.booking_date < ?2
             AND (?6 IS NULL OR (k.booking_date, k.ledger_entry_id) < (?6, ?7))
             ORDER BY k.booking_date DESC, k.ledger_entry_id DESC",
        )
    } else if f.unattributed_only {
        (
            "FROM ledger_queue q JOIN ledger_entry e ON e.id = q.ledger_entry_id",
            "q.booking_date >= ?1 AND q.booking_date < ?2 AND (?6 IS NULL OR (q.booking_date, q.ledger_entry_id) < (?6, ?7))
             ORDER BY q.booking_date DESC, q.ledger_entry_id DESC",
        )
    } else {
        (
            "FROM ledger_entry e",
            "e.booking_date >= ?1 AND e.booking_date < ?2 AND (?6 IS NULL OR (e.booking_date, e.id) < (?6, ?7))
             ORDER BY e.booking_date DESC, e.id DESC",
        )
    };
    // Booking dates are ISO text: every one lies between "0" and "A".
    let (start, end) = match f.year {
        Some(y) => (format!("{y:04}-01-01"), format!("{:04}-01-01", y + 1)),
        None => ("0".to_string(), "A".to_string()),
    };
    let mut filter = String::new();
    if f.unattributed_only {
        // A line in the queue has no attribution: asking for a stream or contract as well finds nothing.
        filter.push_str(" a.ledger_entry_id IS NULL AND");
    }
    if f.stream_id.is_some() {
        filter.push_str(" a.stream_id = ?3 AND");
    }
    if f.contract_id.is_some() {
        filter.push_str(" a.contract_id = ?4 AND");
    }
    if !f.with_pending {
        filter.push_str(&format!(" {} AND", counts("e.batch_id")));
    }
    let columns = line_columns();
    sqlx::query_as(&format!("{columns} {from} {LINE_JOINS} WHERE{filter} {order} LIMIT ?5 OFFSET ?8"))
        .bind(start)
        .bind(end)
        .bind(f.stream_id)
        .bind(f.contract_id)
        .bind(if f.limit > 0 { f.limit } else { i64::MAX })
        .bind(f.before.map(|(d, _)| dates::iso(d)))
        .bind(f.before.map(|(_, id)| id))
        .bind(f.offset)
        .fetch_all(db)
        .await
}

/// How many lines pass `f` (its year, stream, contract or unattributed only; not its page) and what they add up
/// to, from the kept totals (`ledger_year_total`, `spend_aggregate`): the figure a drill-down explains, whatever
/// page of its lines is shown. Lines of batches waiting for approval are in neither, as in the figures.
pub async fn lines_total(db: &Db, f: &LineFilter) -> sqlx::Result<(i64, Money)> {
    let attributed = "SELECT COALESCE(SUM(lines), 0) AS n, COALESCE(SUM(amount_cents), 0) AS cents FROM spend_aggregate
         WHERE (?1 IS NULL OR year = ?1) AND (?2 IS NULL OR stream_id = ?2) AND (?3 IS NULL OR contract_id = ?3)";
    let imported = "SELECT COALESCE(SUM(lines), 0) AS n, COALESCE(SUM(amount_cents), 0) AS cents FROM ledger_year_total
         WHERE (?1 IS NULL OR year = ?1) AND ?2 IS NULL AND ?3 IS NULL";
    let sql = match (f.unattributed_only, f.stream_id.is_some() || f.contract_id.is_some()) {
        // A line in the queue has no attribution: asking for a stream or contract as well finds nothing.
        (true, true) => return Ok((0, Money::ZERO)),
        (true, false) => {
            format!("SELECT i.n - a.n, i.cents - a.cents FROM ({imported}) i, ({attributed}) a")
        }
        (false, true) => attributed.to_string(),
        (false, false) => imported.to_string(),
    };
    let (n, cents): (i64, i64) =
        sqlx::query_as(&sql).bind(f.year).bind(f.stream_id).bind(f.contract_id).fetch_one(db).await?;
    Ok((n, Money::from_cents(cents)))
}

/// The lines with these ids (those behind a signal), oldest first.
pub async fn lines_by_id(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<AttributedLine>> {
    let list = serde_json::to_string(ids).expect("ids serialize");
    sqlx::query_as(&format!(
        "{} FROM ledger_entry e {LINE_JOINS}
         WHERE e.id IN (SELECT value FROM json_each(?)) ORDER BY e.booking_date, e.id",
        line_columns()
    ))
    .bind(list)
    .fetch_all(db)
    .await
}

/// The latest booking year in the ledger (None when it is empty), from the kept yearly totals.
pub async fn latest_ledger_year(db: &Db) -> sqlx::Result<Option<i32>> {
    let year: Option<i64> = sqlx::query_scalar("SELECT MAX(year) FROM ledger_year_total").fetch_one(db).await?;
    Ok(year.map(|y| y as i32))
}

/// Totals the reconciliation needs, per booking year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LedgerSums {
    pub imported: BTreeMap<i32, Money>,
    pub unattributed: BTreeMap<i32, Money>,
    pub actual_by_stream: BTreeMap<(i64, i32), Money>,
    pub invoiced: BTreeMap<ContractYear, Money>,
    /// Attributed spend per (budget line, booking year).
    pub by_budget_line: BTreeMap<(i64, i32), Money>,
}

/// year, stream, contract, budget line, cents
type SumRow = (i64, Option<i64>, Option<i64>, Option<i64>, i64);

/// The sums, from the kept totals (`ledger_year_total` for what was imported, `spend_aggregate` for what was
/// attributed; their triggers keep both current), so no page reads the ledger for them.
/// The rows come as one value (see `super::rows_from_json`): about a thousand rows at ten times a big city, which
/// handed over one at a time were most of the time of every page that shows these sums.
pub async fn sums(db: &Db) -> sqlx::Result<LedgerSums> {
    let raw: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(year, stream, contract, line, cents)) FROM (
         SELECT year, NULL AS stream, NULL AS contract, NULL AS line, amount_cents AS cents FROM ledger_year_total
         UNION ALL
         SELECT year, NULL, NULL, NULL, -amount_cents FROM spend_aggregate
         UNION ALL
         SELECT year, stream_id, NULLIF(contract_id, 0), NULLIF(budget_line_id, 0), amount_cents FROM spend_aggregate)",
    )
    .fetch_one(db)
    .await?;
    Ok(sum_rows(super::rows_from_json(&raw)?))
}

/// The same sums computed from the ledger itself: what the kept totals must always equal (tests).
pub async fn sums_fresh(db: &Db) -> sqlx::Result<LedgerSums> {
    let rows: Vec<SumRow> = sqlx::query_as(&format!(
        "SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER) AS year, a.stream_id, a.contract_id, a.budget_line_id,
                SUM(e.amount_cents)
         FROM ledger_entry e LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id
         WHERE {}
         GROUP BY year, a.stream_id, a.contract_id, a.budget_line_id",
        counts("e.batch_id")
    ))
    .fetch_all(db)
    .await?;
    Ok(sum_rows(rows))
}

/// Rows of money per year with the stream, contract and budget line it is attributed to (no stream: not
/// attributed) into the sums. A row may repeat a key; imported is the sum over all rows of a year, so the kept
/// form passes each attributed amount twice: once negated without a stream (taking it out of the unattributed
/// part of the year's total), once with its stream.
fn sum_rows(rows: Vec<SumRow>) -> LedgerSums {
    let mut s = LedgerSums::default();
    for (year, stream, contract, line, cents) in rows {
        let (year, m) = (year as i32, Money::from_cents(cents));
        *s.imported.entry(year).or_default() += m;
        match stream {
            None => *s.unattributed.entry(year).or_default() += m,
            Some(stream) => {
                *s.actual_by_stream.entry((stream, year)).or_default() += m;
                if let Some(c) = contract {
                    *s.invoiced.entry((stream, c, year)).or_default() += m;
                }
                if let Some(l) = line {
                    *s.by_budget_line.entry((l, year)).or_default() += m;
                }
            }
        }
    }
    // Both forms agree on a year whose unattributed lines net to nothing: no entry (every reader defaults to 0).
    s.unattributed.retain(|_, m| !m.is_zero());
    s
}

/// A contract's attributed ledger lines summed per (stream, booking date), oldest first (for the day its
/// ceiling was reached).
pub async fn contract_invoices(db: &Db, contract_id: i64) -> sqlx::Result<Vec<(i64, Date, Money)>> {
    let rows: Vec<(i64, Date, i64)> = sqlx::query_as(
        "SELECT a.stream_id, e.booking_date, SUM(e.amount_cents)
         FROM ledger_attribution a JOIN ledger_entry e ON e.id = a.ledger_entry_id
         WHERE a.contract_id = ? GROUP BY 1, 2 ORDER BY 2, 1",
    )
    .bind(contract_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(s, d, c)| (s, d, Money::from_cents(c))).collect())
}

/// A ledger line attributed to a contract, with only what may be published about it: no description or invoice
/// number (free text that may name a participant), and the creditor only as the provider it is linked to.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ContractPayment {
    pub entry_id: i64,
    pub contract_id: i64,
    pub booking_date: Date,
    pub amount_cents: i64,
    /// The provider the line's creditor number is linked to, if any.
    pub payee_provider_id: Option<i64>,
    pub payee_kvk: Option<String>,
    pub payee_name: Option<String>,
    /// When the line was attributed to the contract (RFC 3339, as stored).
    pub assigned_at: String,
}

/// Every ledger line attributed to a contract, per contract in booking order.
pub async fn contract_payments(db: &Db) -> sqlx::Result<Vec<ContractPayment>> {
    sqlx::query_as(
        "SELECT e.id AS entry_id, a.contract_id, e.booking_date, e.amount_cents, p.id AS payee_provider_id,
                p.kvk AS payee_kvk, p.name AS payee_name, a.assigned_at
         FROM ledger_attribution a JOIN ledger_entry e ON e.id = a.ledger_entry_id
         LEFT JOIN creditor_link l ON l.creditor_number = e.creditor_number AND e.creditor_number <> ''
         LEFT JOIN provider p ON p.id = l.provider_id
         WHERE a.contract_id IS NOT NULL
         ORDER BY a.contract_id, e.booking_date, e.id",
    )
    .fetch_all(db)
    .await
}

/// Creditor numbers linked to providers.
pub async fn creditor_links(db: &Db) -> sqlx::Result<Vec<(String, i64, String)>> {
    sqlx::query_as(
        "SELECT l.creditor_number, l.provider_id, p.name FROM creditor_link l JOIN provider p ON p.id = l.provider_id ORDER BY l.creditor_number",
    )
    .fetch_all(db)
    .await
}

pub async fn link_creditor(
    db: &Db,
    creditor_number: &str,
    provider_id: i64,
    actor: &str,
) -> sqlx::Result<ApplyOutcome> {
    let mut tx = begin(db).await?;
    sqlx::query(
        "INSERT INTO creditor_link (creditor_number, provider_id) VALUES (?, ?)
         ON CONFLICT (creditor_number) DO UPDATE SET provider_id = excluded.provider_id",
    )
    .bind(creditor_number.trim())
    .bind(provider_id)
    .execute(&mut *tx)
    .await?;
    let after = serde_json::json!({"provider_id": provider_id});
    audit::record(&mut tx, actor, "link", "creditor", creditor_number.trim(), None, Some(&after)).await?;
    let outcome = apply_in(&mut tx, actor).await?;
    tx.commit().await?;
    Ok(outcome)
}
