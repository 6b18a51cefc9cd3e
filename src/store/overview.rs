//! Multi-year overview data: the kept spend aggregates (and the plain GROUP BY they must equal), forecast
//! scenarios, and frozen overview snapshots.

use serde::Serialize;

use super::{audit, begin, Db, Tx};
use crate::domain::dates;
use crate::domain::fixed::Fixed;
use crate::domain::forecast::{InflowGroup, InflowLine, Scenario};
use crate::money::Money;

/// Attributed spend of one (booking year, stream, contract, budget line).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SpendRow {
    pub year: i32,
    pub stream_id: i64,
    pub contract_id: Option<i64>,
    pub budget_line_id: Option<i64>,
    pub amount: Money,
    pub lines: i64,
}

type RawSpend = (i64, i64, i64, i64, i64, i64);

fn spend_rows(raw: Vec<RawSpend>) -> Vec<SpendRow> {
    raw.into_iter()
        .map(|(year, stream, contract, line, cents, lines)| SpendRow {
            year: year as i32,
            stream_id: stream,
            contract_id: (contract != 0).then_some(contract),
            budget_line_id: (line != 0).then_some(line),
            amount: Money::from_cents(cents),
            lines,
        })
        .collect()
}

/// The counter that triggers move on every change to the overview's fixed inputs (providers, contracts,
/// placements, funding, scenarios): a cache of those inputs is current while it stays the same.
pub async fn inputs_version(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT n FROM overview_inputs_version WHERE id = 1").fetch_one(db).await
}

/// The kept aggregates (a few hundred rows at most, whatever the size of the ledger), read on every overview
/// request: as one value (see [`super::rows_from_json`]); at ten times a big city, 500 rows handed over one at a
/// time cost about 2 ms of every request.
pub async fn spend(db: &Db) -> sqlx::Result<Vec<SpendRow>> {
    let raw: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(year, stream_id, contract_id, budget_line_id, amount_cents, lines))
         FROM spend_aggregate",
    )
    .fetch_one(db)
    .await?;
    // The order of `spend_fresh` (year, stream, contract, budget line; none first), which the rows compare with.
    let mut rows = spend_rows(super::rows_from_json(&raw)?);
    rows.sort();
    Ok(rows)
}

const FRESH: &str = "SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER) AS year, a.stream_id,
        COALESCE(a.contract_id, 0) AS contract_id, COALESCE(a.budget_line_id, 0) AS budget_line_id,
        SUM(e.amount_cents), COUNT(*)
     FROM ledger_attribution a JOIN ledger_entry e ON e.id = a.ledger_entry_id
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";

/// The same figures computed from the ledger itself: what the aggregates must always equal (tests, benchmark).
pub async fn spend_fresh(db: &Db) -> sqlx::Result<Vec<SpendRow>> {
    let raw: Vec<RawSpend> = sqlx::query_as(FRESH).fetch_all(db).await?;
    Ok(spend_rows(raw))
}

/// Recomputes the aggregates from the ledger in the caller's transaction. The triggers keep them current;
/// this is for bulk loads that bypass them (the benchmark) and for repair. Proven equal by the property test.
pub async fn rebuild_aggregates(tx: &mut Tx<'_>) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM spend_aggregate").execute(&mut **tx).await?;
    sqlx::query(&format!(
        "INSERT INTO spend_aggregate (year, stream_id, contract_id, budget_line_id, amount_cents, lines) {FRESH}"
    ))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum OverviewError {
    #[error("de naam '{0}' is al in gebruik; kies een andere naam")]
    DuplicateName(String),
    #[error("het scenario is intussen door iemand anders gewijzigd; laad de pagina opnieuw")]
    Stale,
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct ScenarioRow {
    id: i64,
    name: String,
    description: String,
    tariff_index_bp: i64,
    duration_b1_months: i64,
    duration_z_months: i64,
    duration_education_months: i64,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct InflowRow {
    scenario_id: i64,
    year: i64,
    inflow_group: String,
    inflow_low: i64,
    inflow_expected: i64,
    inflow_high: i64,
    share_b1_bp: i64,
    share_z_bp: i64,
    share_education_bp: i64,
    dropout_bp: i64,
}

const SCENARIO_COLUMNS: &str =
    "id, name, description, tariff_index_bp, duration_b1_months, duration_z_months, duration_education_months, version";

/// Every scenario with its version, by name.
pub async fn scenarios(db: &Db) -> sqlx::Result<Vec<(Scenario, i64)>> {
    let rows: Vec<ScenarioRow> =
        sqlx::query_as(&format!("SELECT {SCENARIO_COLUMNS} FROM scenario ORDER BY name")).fetch_all(db).await?;
    let lines: Vec<InflowRow> = sqlx::query_as(
        "SELECT scenario_id, year, inflow_group, inflow_low, inflow_expected, inflow_high, share_b1_bp, share_z_bp,
                share_education_bp, dropout_bp
         FROM scenario_inflow ORDER BY scenario_id, year, inflow_group",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let own = lines
                .iter()
                .filter(|l| l.scenario_id == r.id)
                .map(|l| InflowLine {
                    year: l.year as i32,
                    group: InflowGroup::parse(&l.inflow_group).expect("CHECK constraint"),
                    low: l.inflow_low,
                    expected: l.inflow_expected,
                    high: l.inflow_high,
                    share_b1: Fixed::from_hundredths(l.share_b1_bp),
                    share_z: Fixed::from_hundredths(l.share_z_bp),
                    share_education: Fixed::from_hundredths(l.share_education_bp),
                    dropout: Fixed::from_hundredths(l.dropout_bp),
                })
                .collect();
            (
                Scenario {
                    id: r.id,
                    name: r.name,
                    description: r.description,
                    tariff_index: Fixed::from_hundredths(r.tariff_index_bp),
                    duration_b1_months: r.duration_b1_months as u32,
                    duration_z_months: r.duration_z_months as u32,
                    duration_education_months: r.duration_education_months as u32,
                    lines: own,
                },
                r.version,
            )
        })
        .collect())
}

pub async fn scenario(db: &Db, id: i64) -> sqlx::Result<Option<(Scenario, i64)>> {
    Ok(scenarios(db).await?.into_iter().find(|(s, _)| s.id == id))
}

async fn name_taken(tx: &mut Tx<'_>, name: &str, except: Option<i64>) -> sqlx::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM scenario WHERE name = ? AND id IS NOT ?")
        .bind(name)
        .bind(except)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

async fn write_lines(tx: &mut Tx<'_>, id: i64, s: &Scenario) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM scenario_inflow WHERE scenario_id = ?").bind(id).execute(&mut **tx).await?;
    for l in &s.lines {
        sqlx::query(
            "INSERT INTO scenario_inflow (scenario_id, year, inflow_group, inflow_low, inflow_expected, inflow_high,
                 share_b1_bp, share_z_bp, share_education_bp, dropout_bp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(l.year)
        .bind(l.group.code())
        .bind(l.low)
        .bind(l.expected)
        .bind(l.high)
        .bind(l.share_b1.hundredths())
        .bind(l.share_z.hundredths())
        .bind(l.share_education.hundredths())
        .bind(l.dropout.hundredths())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Saves a new (validated) scenario.
pub async fn create_scenario(db: &Db, s: &Scenario, actor: &str) -> Result<i64, OverviewError> {
    let mut tx = begin(db).await?;
    if name_taken(&mut tx, &s.name, None).await? {
        return Err(OverviewError::DuplicateName(s.name.clone()));
    }
    let id = insert_scenario(&mut tx, s, actor).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_scenario(tx: &mut Tx<'_>, s: &Scenario, actor: &str) -> sqlx::Result<i64> {
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scenario (name, description, tariff_index_bp, duration_b1_months, duration_z_months,
             duration_education_months, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&s.name)
    .bind(&s.description)
    .bind(s.tariff_index.hundredths())
    .bind(s.duration_b1_months)
    .bind(s.duration_z_months)
    .bind(s.duration_education_months)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    write_lines(tx, id, s).await?;
    audit::record(tx, actor, "create", "scenario", id, None, Some(&audit::snapshot(s))).await?;
    Ok(id)
}

/// Replaces a scenario's assumptions, refusing a save over a newer version.
pub async fn update_scenario(db: &Db, id: i64, version: i64, s: &Scenario, actor: &str) -> Result<(), OverviewError> {
    let before = scenario(db, id).await?.ok_or(OverviewError::NotFound)?;
    let mut tx = begin(db).await?;
    let current: Option<i64> =
        sqlx::query_scalar("SELECT version FROM scenario WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
    if current.ok_or(OverviewError::NotFound)? != version {
        return Err(OverviewError::Stale);
    }
    if name_taken(&mut tx, &s.name, Some(id)).await? {
        return Err(OverviewError::DuplicateName(s.name.clone()));
    }
    sqlx::query(
        "UPDATE scenario SET name = ?, description = ?, tariff_index_bp = ?, duration_b1_months = ?, duration_z_months = ?,
             duration_education_months = ?, version = version + 1, updated_at = ? WHERE id = ?",
    )
    .bind(&s.name)
    .bind(&s.description)
    .bind(s.tariff_index.hundredths())
    .bind(s.duration_b1_months)
    .bind(s.duration_z_months)
    .bind(s.duration_education_months)
    .bind(dates::now_timestamp())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    write_lines(&mut tx, id, s).await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "scenario",
        id,
        Some(&audit::snapshot(&before.0)),
        Some(&audit::snapshot(s)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Copies a scenario under the first free name "<name> (kopie)", "<name> (kopie 2)", ... The name is
/// chosen inside the write transaction, so copies made at the same moment each get their own name.
pub async fn copy_scenario(db: &Db, id: i64, actor: &str) -> Result<i64, OverviewError> {
    let (mut s, _) = scenario(db, id).await?.ok_or(OverviewError::NotFound)?;
    let base = format!("{} (kopie", s.name.chars().take(80).collect::<String>());
    let mut tx = begin(db).await?;
    let mut n = 1;
    s.name = loop {
        let candidate = if n == 1 { format!("{base})") } else { format!("{base} {n})") };
        if !name_taken(&mut tx, &candidate, None).await? {
            break candidate;
        }
        n += 1;
    };
    let id = insert_scenario(&mut tx, &s, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// A stored snapshot of an overview.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct Snapshot {
    pub id: i64,
    pub name: String,
    pub from_year: i64,
    pub to_year: i64,
    pub scenario_name: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

/// One frozen figure row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    pub view: String,
    pub key: String,
    pub label: String,
    pub year: i32,
    pub available: Option<Money>,
    pub actual: Money,
    pub committed: Money,
    pub forecast: Money,
    pub remaining: Option<Money>,
}

pub async fn snapshots(db: &Db) -> sqlx::Result<Vec<Snapshot>> {
    sqlx::query_as(
        "SELECT id, name, from_year, to_year, scenario_name, created_by, created_at FROM overview_snapshot
         ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(db)
    .await
}

pub async fn snapshot(db: &Db, id: i64) -> sqlx::Result<Option<(Snapshot, Vec<SnapshotRow>)>> {
    let Some(s): Option<Snapshot> = sqlx::query_as(
        "SELECT id, name, from_year, to_year, scenario_name, created_by, created_at FROM overview_snapshot WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    type Raw = (String, String, String, i64, Option<i64>, i64, i64, i64, Option<i64>);
    let raw: Vec<Raw> = sqlx::query_as(
        "SELECT view, key, label, year, available_cents, actual_cents, committed_cents, forecast_cents, remaining_cents
         FROM overview_snapshot_row WHERE snapshot_id = ? ORDER BY rowid",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    let rows = raw
        .into_iter()
        .map(|(view, key, label, year, av, ac, co, fo, re)| SnapshotRow {
            view,
            key,
            label,
            year: year as i32,
            available: av.map(Money::from_cents),
            actual: Money::from_cents(ac),
            committed: Money::from_cents(co),
            forecast: Money::from_cents(fo),
            remaining: re.map(Money::from_cents),
        })
        .collect();
    Ok(Some((s, rows)))
}

/// Stores an overview's figures under a unique name.
pub async fn create_snapshot(
    db: &Db,
    name: &str,
    years: std::ops::RangeInclusive<i32>,
    scenario_name: Option<&str>,
    rows: &[SnapshotRow],
    actor: &str,
) -> Result<i64, OverviewError> {
    let mut tx = begin(db).await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM overview_snapshot WHERE name = ?")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(OverviewError::DuplicateName(name.to_string()));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO overview_snapshot (name, from_year, to_year, scenario_name, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name)
    .bind(years.start())
    .bind(years.end())
    .bind(scenario_name)
    .bind(actor)
    .bind(dates::now_timestamp())
    .fetch_one(&mut *tx)
    .await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO overview_snapshot_row (snapshot_id, view, key, label, year, available_cents, actual_cents,
                 committed_cents, forecast_cents, remaining_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&r.view)
        .bind(&r.key)
        .bind(&r.label)
        .bind(r.year)
        .bind(r.available.map(|m| m.cents()))
        .bind(r.actual.cents())
        .bind(r.committed.cents())
        .bind(r.forecast.cents())
        .bind(r.remaining.map(|m| m.cents()))
        .execute(&mut *tx)
        .await?;
    }
    let after = serde_json::json!({"name": name, "from": years.start(), "to": years.end(), "scenario": scenario_name, "rows": rows.len()});
    audit::record(&mut tx, actor, "create", "overview_snapshot", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}
