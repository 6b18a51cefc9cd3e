//! Progress reports with their exam attempts, route changes, the contract's progress terms (attendance norm,
//! catch-up rate) and decisions on invoice-check differences.

use std::collections::HashMap;

use serde::Serialize;
use time::Date;

use super::{audit, begin, Db, Tx};
use crate::domain::dates;
use crate::domain::invoice_check::Rates;
use crate::domain::placement::PlacementStatus;
pub use crate::domain::progress::ProgressTerms;
use crate::domain::progress::{AbsenceReason, AgainstNorm, ExamPart, ExamResult, Hours, Period, Report, ReportDraft};
use crate::domain::route_change::{ChangeKind, RouteChange};
use crate::money::Money;

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    placement_id: i64,
    period: String,
    first_lesson: Option<Date>,
    offered_x100: i64,
    attended_x100: i64,
    absence_x100: i64,
    absence_reason: String,
    catch_up_x100: i64,
    level_reading: String,
    level_listening: String,
    level_speaking: String,
    level_writing: String,
    remarks: String,
}

const REPORT_COLUMNS: &str = "r.id, r.placement_id, r.period, r.first_lesson, r.offered_x100, r.attended_x100, \
     r.absence_x100, r.absence_reason, r.catch_up_x100, r.level_reading, r.level_listening, r.level_speaking, \
     r.level_writing, r.remarks";

#[derive(sqlx::FromRow)]
struct ExamRow {
    report_id: i64,
    part: String,
    exam_date: Date,
    passed: bool,
}

fn to_report(r: ReportRow, exams: &mut HashMap<i64, Vec<ExamResult>>) -> Report {
    Report {
        id: r.id,
        placement_id: r.placement_id,
        draft: ReportDraft {
            period: Period::parse(&r.period).expect("stored period"),
            first_lesson: r.first_lesson,
            offered: Hours::from_x100(r.offered_x100),
            attended: Hours::from_x100(r.attended_x100),
            absence: Hours::from_x100(r.absence_x100),
            absence_reason: AbsenceReason::parse(&r.absence_reason),
            catch_up: Hours::from_x100(r.catch_up_x100),
            levels: [r.level_reading, r.level_listening, r.level_speaking, r.level_writing],
            exams: exams.remove(&r.id).unwrap_or_default(),
            remarks: r.remarks,
        },
    }
}

/// Reports matching `filter` (a SQL condition on `r` and `p`, the placement, with one `?` bound to `arg`),
/// ordered by placement and period start.
async fn reports_where(db: &Db, filter: &str, arg: Option<i64>) -> sqlx::Result<Vec<Report>> {
    let rows: Vec<ReportRow> = sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM progress_report r JOIN placement p ON p.id = r.placement_id
         WHERE {filter} ORDER BY r.placement_id, r.period_start"
    ))
    .bind(arg)
    .fetch_all(db)
    .await?;
    let exam_rows: Vec<ExamRow> = sqlx::query_as(&format!(
        "SELECT x.report_id, x.part, x.exam_date, x.passed FROM exam_attempt x
         JOIN progress_report r ON r.id = x.report_id JOIN placement p ON p.id = r.placement_id
         WHERE {filter} ORDER BY x.exam_date, x.id"
    ))
    .bind(arg)
    .fetch_all(db)
    .await?;
    let mut exams: HashMap<i64, Vec<ExamResult>> = HashMap::new();
    for x in exam_rows {
        exams.entry(x.report_id).or_default().push(ExamResult {
            part: ExamPart::parse(&x.part).expect("CHECK constraint"),
            date: x.exam_date,
            passed: x.passed,
        });
    }
    Ok(rows.into_iter().map(|r| to_report(r, &mut exams)).collect())
}

/// The counter that triggers move on every change to the scorecard's inputs (placements, contracts, providers,
/// progress reports, exam attempts, route changes): a scorecard computed at one value is current while it stays.
pub async fn inputs_version(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT n FROM progress_inputs_version WHERE id = 1").fetch_one(db).await
}

pub async fn reports_for_placement(db: &Db, placement_id: i64) -> sqlx::Result<Vec<Report>> {
    reports_where(db, "r.placement_id = ?", Some(placement_id)).await
}

/// The reports of a contract's placements that the invoice check of `period` reads: those of a period within it
/// (found by their period code on the key (placement, period)), and the first report with attendance of each
/// placement in `due` (those with a payment due in the period: whether attendance was reported by a due date is
/// whether the first report with attendance began by then, however long before the period). Without their exam
/// attempts, which the check does not read: a contract's reports of every period are tens of thousands of rows
/// at a big city.
pub async fn reports_for_check(db: &Db, contract_id: i64, period: Period, due: &[i64]) -> sqlx::Result<Vec<Report>> {
    let codes: Vec<String> = period.within().into_iter().map(Period::code).collect();
    let rows: Vec<ReportRow> = sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS}, r.period_start FROM placement p JOIN progress_report r ON r.placement_id = p.id
         WHERE p.contract_id = ?1 AND r.period IN (SELECT value FROM json_each(?2))
         UNION
         SELECT {REPORT_COLUMNS}, r.period_start FROM progress_report r
         WHERE r.id IN (SELECT (SELECT e.id FROM progress_report e
                                WHERE e.placement_id = j.value AND e.attended_x100 > 0
                                ORDER BY e.period_start, e.id LIMIT 1)
                        FROM json_each(?3) j)
         ORDER BY 2, 15"
    ))
    .bind(contract_id)
    .bind(serde_json::to_string(&codes).expect("codes serialize"))
    .bind(super::json_ids(due))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| to_report(r, &mut HashMap::new())).collect())
}

/// Every report (`?` bound to NULL matches nothing, so the filter is written to ignore it).
pub async fn all_reports(db: &Db) -> sqlx::Result<Vec<Report>> {
    reports_where(db, "(? IS NULL)", None).await
}

/// One contract's reported hours in one year, with its attendance norm: the input of
/// `report::contract_attendance`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractHours {
    pub contract_id: i64,
    pub reference: String,
    pub provider_name: String,
    pub year: i32,
    /// Placements with a report in the year.
    pub placements: u32,
    pub against: AgainstNorm,
}

#[derive(sqlx::FromRow)]
struct ContractHoursRow {
    contract_id: i64,
    reference: String,
    provider_name: String,
    year: i64,
    placements: i64,
    offered_x100: i64,
    attended_x100: i64,
    attendance_norm_bp: i64,
}

/// Hours offered and attended per contract and year, a report counting in the year its period starts in (as the
/// scorecard counts it), summed in SQL: at a big city these are hundreds of thousands of reports, and only their
/// sums are needed. Ordered by year and contract reference.
pub async fn hours_per_contract_year(db: &Db) -> sqlx::Result<Vec<ContractHours>> {
    let rows: Vec<ContractHoursRow> = sqlx::query_as(
        "SELECT c.id AS contract_id, c.reference, pr.name AS provider_name,
                CAST(substr(r.period_start, 1, 4) AS INTEGER) AS year,
                COUNT(DISTINCT r.placement_id) AS placements,
                SUM(r.offered_x100) AS offered_x100, SUM(r.attended_x100) AS attended_x100, c.attendance_norm_bp
         FROM progress_report r JOIN placement p ON p.id = r.placement_id
         JOIN contract c ON c.id = p.contract_id JOIN provider pr ON pr.id = c.provider_id
         GROUP BY c.id, year ORDER BY year, c.reference, c.id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ContractHours {
            contract_id: r.contract_id,
            reference: r.reference,
            provider_name: r.provider_name,
            year: i32::try_from(r.year).unwrap_or_default(),
            placements: u32::try_from(r.placements).unwrap_or(u32::MAX),
            against: AgainstNorm {
                offered: Hours::from_x100(r.offered_x100),
                attended: Hours::from_x100(r.attended_x100),
                norm_bp: r.attendance_norm_bp,
            },
        })
        .collect())
}

/// Reports grouped by placement.
pub fn by_placement(reports: Vec<Report>) -> HashMap<i64, Vec<Report>> {
    let mut m: HashMap<i64, Vec<Report>> = HashMap::new();
    for r in reports {
        m.entry(r.placement_id).or_default().push(r);
    }
    m
}

/// Inserts one report and its exam attempts, audited. The caller has checked it does not exist yet.
pub async fn insert_report_in(
    tx: &mut Tx<'_>,
    placement_id: i64,
    provider_id: i64,
    d: &ReportDraft,
    batch: Option<i64>,
    actor: &str,
) -> sqlx::Result<i64> {
    let id: i64 = bind_report(
        sqlx::query_scalar(
            "INSERT INTO progress_report (placement_id, provider_id, period, period_start, period_end, first_lesson,
                 offered_x100, attended_x100, absence_x100, absence_reason, catch_up_x100, level_reading, level_listening,
                 level_speaking, level_writing, remarks, batch_id, created_by, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ),
        placement_id,
        provider_id,
        d,
    )
    .bind(batch)
    .bind(actor)
    .bind(dates::now_timestamp())
    .fetch_one(&mut **tx)
    .await?;
    for x in &d.exams {
        sqlx::query(
            "INSERT INTO exam_attempt (report_id, placement_id, part, exam_date, passed) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(placement_id)
        .bind(x.part.code())
        .bind(x.date)
        .bind(x.passed)
        .execute(&mut **tx)
        .await?;
    }
    let after = serde_json::json!({ "placement_id": placement_id, "provider_id": provider_id, "report": d });
    audit::record(tx, actor, "create", "progress_report", id, None, Some(&after)).await?;
    Ok(id)
}

/// The stored report of a placement for a period, with the batch that brought it (0: entered on a screen).
pub async fn existing_in(
    conn: &mut super::Conn,
    placement_id: i64,
    period: Period,
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as("SELECT id, COALESCE(batch_id, 0) FROM progress_report WHERE placement_id = ? AND period = ?")
        .bind(placement_id)
        .bind(period.code())
        .fetch_optional(conn)
        .await
}

/// (placement, period code) of the reports entered on a screen rather than imported: an import conflict with
/// one of them cannot be solved by undoing an import.
pub async fn entered_on_screen(db: &Db) -> sqlx::Result<std::collections::HashSet<(i64, String)>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT placement_id, period FROM progress_report WHERE batch_id IS NULL").fetch_all(db).await?;
    Ok(rows.into_iter().collect())
}

/// Stored periods per placement, for overlap and conflict checks before a file or form is written.
pub async fn stored_periods(db: &Db) -> sqlx::Result<HashMap<i64, Vec<Report>>> {
    Ok(by_placement(all_reports(db).await?))
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A report for this placement and period exists already (with these differences, if any).
    #[error("er is al een rapportage voor deze periode")]
    Exists(Vec<&'static str>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Saves a report entered on a screen; refuses a second report for the same placement and period.
pub async fn create_report(
    db: &Db,
    placement_id: i64,
    provider_id: i64,
    d: &ReportDraft,
    actor: &str,
) -> Result<i64, ReportError> {
    let mut tx = begin(db).await?;
    if existing_in(&mut tx, placement_id, d.period).await?.is_some() {
        let stored = reports_for_placement(db, placement_id).await?;
        let diff =
            stored.iter().find(|r| r.draft.period == d.period).map(|r| r.draft.differences(d)).unwrap_or_default();
        return Err(ReportError::Exists(diff));
    }
    let id = insert_report_in(&mut tx, placement_id, provider_id, d, None, actor).await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    placement_id: i64,
    kind: String,
    new_route: Option<String>,
    decision_date: Date,
    reason: String,
}

/// Route changes per placement in decision-date order; of one placement, or of all.
pub async fn route_changes(db: &Db, placement_id: Option<i64>) -> sqlx::Result<HashMap<i64, Vec<RouteChange>>> {
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "SELECT placement_id, kind, new_route, decision_date, reason FROM route_change
         WHERE ?1 IS NULL OR placement_id = ?1 ORDER BY placement_id, decision_date, id",
    )
    .bind(placement_id)
    .fetch_all(db)
    .await?;
    Ok(changes_by_placement(rows))
}

fn changes_by_placement(rows: Vec<ChangeRow>) -> HashMap<i64, Vec<RouteChange>> {
    let mut m: HashMap<i64, Vec<RouteChange>> = HashMap::new();
    for r in rows {
        let kind = ChangeKind::from_parts(&r.kind, r.new_route.as_deref()).expect("CHECK constraint");
        m.entry(r.placement_id).or_default().push(RouteChange {
            kind,
            decision_date: r.decision_date,
            reason: r.reason,
        });
    }
    m
}

/// The route changes of these placements, each placement's in order of decision.
pub async fn route_changes_of(db: &Db, placements: &[i64]) -> sqlx::Result<HashMap<i64, Vec<RouteChange>>> {
    if placements.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<ChangeRow> = sqlx::query_as(
        "SELECT placement_id, kind, new_route, decision_date, reason FROM route_change
         WHERE placement_id IN (SELECT value FROM json_each(?)) ORDER BY placement_id, decision_date, id",
    )
    .bind(super::json_ids(placements))
    .fetch_all(db)
    .await?;
    Ok(changes_by_placement(rows))
}

/// Records a route change, audited. A stop also ends the placement (dropped out on the decision date), so
/// every figure that follows the placement's status sees it.
pub async fn add_route_change(db: &Db, placement_id: i64, c: &RouteChange, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id = add_route_change_in(&mut tx, placement_id, c, actor).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn add_route_change_in(
    tx: &mut Tx<'_>,
    placement_id: i64,
    c: &RouteChange,
    actor: &str,
) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO route_change (placement_id, kind, new_route, decision_date, reason, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(placement_id)
    .bind(c.kind.code())
    .bind(c.kind.new_route().map(|r| r.code()))
    .bind(c.decision_date)
    .bind(&c.reason)
    .bind(actor)
    .bind(dates::now_timestamp())
    .fetch_one(&mut **tx)
    .await?;
    let after = serde_json::json!({ "placement_id": placement_id, "change": c });
    audit::record(tx, actor, "create", "route_change", id, None, Some(&after)).await?;
    if c.kind == ChangeKind::Stop {
        let before: (String, Option<Date>) = sqlx::query_as("SELECT status, status_date FROM placement WHERE id = ?")
            .bind(placement_id)
            .fetch_one(&mut **tx)
            .await?;
        sqlx::query(
            "UPDATE placement SET status = ?, status_date = ?, version = version + 1, updated_at = ? WHERE id = ?",
        )
        .bind(PlacementStatus::DroppedOut.code())
        .bind(c.decision_date)
        .bind(dates::now_timestamp())
        .bind(placement_id)
        .execute(&mut **tx)
        .await?;
        audit::record(
            tx,
            actor,
            "update",
            "placement",
            placement_id,
            Some(&serde_json::json!({ "status": before.0, "status_date": before.1.map(dates::iso) })),
            Some(&serde_json::json!({ "status": "dropped_out", "status_date": dates::iso(c.decision_date) })),
        )
        .await?;
    }
    Ok(id)
}

type TermsRow = (i64, Option<i64>, Option<i64>);

fn terms_of((norm, catch_up, hourly): TermsRow) -> ProgressTerms {
    ProgressTerms {
        attendance_norm_bp: norm,
        rates: Rates { hourly: hourly.map(Money::from_cents), catch_up: catch_up.map(Money::from_cents) },
    }
}

pub async fn progress_terms(db: &Db, contract_id: i64) -> sqlx::Result<Option<ProgressTerms>> {
    let row: Option<TermsRow> =
        sqlx::query_as("SELECT attendance_norm_bp, catch_up_rate_cents, hourly_rate_cents FROM contract WHERE id = ?")
            .bind(contract_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(terms_of))
}

pub async fn set_progress_terms(db: &Db, contract_id: i64, t: &ProgressTerms, actor: &str) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    let before: TermsRow =
        sqlx::query_as("SELECT attendance_norm_bp, catch_up_rate_cents, hourly_rate_cents FROM contract WHERE id = ?")
            .bind(contract_id)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query(
        "UPDATE contract SET attendance_norm_bp = ?, catch_up_rate_cents = ?, hourly_rate_cents = ?,
             version = version + 1, updated_at = ? WHERE id = ?",
    )
    .bind(t.attendance_norm_bp)
    .bind(t.rates.catch_up.map(|m| m.cents()))
    .bind(t.rates.hourly.map(|m| m.cents()))
    .bind(dates::now_timestamp())
    .bind(contract_id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "contract",
        contract_id,
        Some(&serde_json::json!({
            "attendance_norm_bp": before.0, "catch_up_rate_cents": before.1, "hourly_rate_cents": before.2,
        })),
        Some(&serde_json::json!({
            "attendance_norm_bp": t.attendance_norm_bp,
            "catch_up_rate_cents": t.rates.catch_up.map(|m| m.cents()),
            "hourly_rate_cents": t.rates.hourly.map(|m| m.cents()),
        })),
    )
    .await?;
    tx.commit().await
}

/// Ledger lines attributed to a contract and booked in the period, summed.
pub async fn invoiced(db: &Db, contract_id: i64, period: Period) -> sqlx::Result<Money> {
    // The contract's lines of the period from the kept index by booking date (migration 0029), not all its lines.
    let cents: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_contract_line k JOIN ledger_entry e ON e.id = k.ledger_entry_id
         WHERE k.contract_id = ? AND k.booking_date BETWEEN ? AND ?",
    )
    .bind(contract_id)
    .bind(dates::iso(period.start()))
    .bind(dates::iso(period.end()))
    .fetch_one(db)
    .await?;
    Ok(Money::from_cents(cents))
}

/// A decision on a difference of the invoice check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DifferenceDecision {
    pub id: i64,
    pub placement_id: Option<i64>,
    pub amount_cents: i64,
    pub decision: String,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: String,
}

impl DifferenceDecision {
    pub fn label(&self) -> &'static str {
        if self.decision == "claim_back" {
            "Terugvordering"
        } else {
            "Verklaard"
        }
    }
}

pub async fn decisions(db: &Db, contract_id: i64, period: Period) -> sqlx::Result<Vec<DifferenceDecision>> {
    sqlx::query_as(
        "SELECT id, placement_id, amount_cents, decision, reason, decided_by, decided_at FROM invoice_difference
         WHERE contract_id = ? AND period = ? ORDER BY id",
    )
    .bind(contract_id)
    .bind(period.code())
    .fetch_all(db)
    .await
}

/// A new decision on a difference: for a placement, or for the contract as a whole (placement None).
#[derive(Clone, Debug)]
pub struct NewDecision {
    pub contract_id: i64,
    pub period: Period,
    pub placement_id: Option<i64>,
    pub amount: Money,
    pub claim_back: bool,
    pub reason: String,
}

/// Records a decision (explained or claim back) on a difference, audited.
pub async fn decide_difference(db: &Db, d: &NewDecision, actor: &str) -> sqlx::Result<i64> {
    let NewDecision { contract_id, period, placement_id, amount, claim_back, ref reason } = *d;
    let mut tx = begin(db).await?;
    let decision = if claim_back { "claim_back" } else { "explained" };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO invoice_difference (contract_id, period, placement_id, amount_cents, decision, reason, decided_by, decided_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(contract_id)
    .bind(period.code())
    .bind(placement_id)
    .bind(amount.cents())
    .bind(decision)
    .bind(reason)
    .bind(actor)
    .bind(dates::now_timestamp())
    .fetch_one(&mut *tx)
    .await?;
    let after = serde_json::json!({
        "contract_id": contract_id, "period": period.code(), "placement_id": placement_id,
        "amount": amount, "decision": decision, "reason": reason,
    });
    audit::record(&mut tx, actor, "create", "invoice_difference", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

type ReportInsert<'q> = sqlx::query::QueryScalar<'q, sqlx::Sqlite, i64, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a report's columns from placement_id up to remarks, in the order of both INSERT statements.
fn bind_report<'q>(q: ReportInsert<'q>, placement: i64, provider: i64, d: &'q ReportDraft) -> ReportInsert<'q> {
    q.bind(placement)
        .bind(provider)
        .bind(d.period.code())
        .bind(d.period.start())
        .bind(d.period.end())
        .bind(d.first_lesson)
        .bind(d.offered.x100())
        .bind(d.attended.x100())
        .bind(d.absence.x100())
        .bind(d.absence_reason.map(|r| r.code()).unwrap_or_default())
        .bind(d.catch_up.x100())
        .bind(&d.levels[0])
        .bind(&d.levels[1])
        .bind(&d.levels[2])
        .bind(&d.levels[3])
        .bind(&d.remarks)
}

/// Reports to store in bulk: (placement, provider, report).
pub type BulkReport = (i64, i64, ReportDraft);

/// Inserts many new reports in one transaction with multi-row statements (the demo's years of monthly reports),
/// each with its exam attempts and its audit row. The caller guarantees they are valid and new.
pub async fn insert_reports_bulk(db: &Db, rows: &[BulkReport], actor: &str) -> sqlx::Result<()> {
    const CHUNK: usize = 400; // 19 parameters a row, well under SQLite's limit
    let mut tx = begin(db).await?;
    let now = dates::now_timestamp();
    for chunk in rows.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO progress_report (placement_id, provider_id, period, period_start, period_end, first_lesson,
             offered_x100, attended_x100, absence_x100, absence_reason, catch_up_x100, level_reading, level_listening,
             level_speaking, level_writing, remarks, batch_id, created_by, created_at) VALUES ",
        );
        sql.push_str(&vec!["(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,?,?)"; chunk.len()].join(","));
        sql.push_str(" RETURNING id");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for (placement, provider, d) in chunk {
            q = bind_report(q, *placement, *provider, d).bind(actor).bind(&now);
        }
        // New rowids are the table's maximum plus one, row after row, so the ids sorted are the rows in order
        // (SQLite does not promise RETURNING's own order).
        let mut ids = q.fetch_all(&mut *tx).await?;
        ids.sort_unstable();
        let mut audit_sql = String::from(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json) VALUES ",
        );
        audit_sql.push_str(&vec!["(?, ?, 'create', 'progress_report', ?, NULL, ?)"; chunk.len()].join(","));
        let mut a = sqlx::query(&audit_sql);
        let mut exams = Vec::new();
        for (id, (placement, provider, d)) in ids.iter().zip(chunk) {
            let after = serde_json::json!({ "placement_id": placement, "provider_id": provider, "report": d });
            a = a.bind(&now).bind(actor).bind(id.to_string()).bind(after.to_string());
            exams.extend(d.exams.iter().map(|x| (*id, *placement, x)));
        }
        a.execute(&mut *tx).await?;
        for part in exams.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO exam_attempt (report_id, placement_id, part, exam_date, passed) VALUES {}",
                vec!["(?, ?, ?, ?, ?)"; part.len()].join(",")
            );
            let mut q = sqlx::query(&sql);
            for (id, placement, x) in part {
                q = q.bind(id).bind(placement).bind(x.part.code()).bind(x.date).bind(x.passed);
            }
            q.execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}
