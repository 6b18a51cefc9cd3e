//! Contracts with their options, tariffs, milestones and documents.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use super::{audit, begin, Db, Tx};
use crate::domain::contract::{
    ContractDraft, ContractPeriod, ContractTerms, Due, ExtensionOption, Milestone, OptionStatus, Share, Tariff,
};
use crate::domain::dates;
use crate::domain::route::{parse_routes, routes_code, Route};
use crate::money::Money;

/// A contract as screens and computations use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contract {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub provider_id: i64,
    pub provider_name: String,
    pub lot: String,
    pub notes: String,
    pub version: i64,
    pub terms: ContractTerms,
    pub documents: Vec<Document>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Document {
    pub id: i64,
    pub title: String,
    pub location: String,
}

#[derive(sqlx::FromRow)]
struct ContractRow {
    id: i64,
    reference: String,
    title: String,
    provider_id: i64,
    provider_name: String,
    lot: String,
    routes: String,
    start_date: Date,
    initial_end_date: Date,
    ceiling_cents: i64,
    notes: String,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct OptionRow {
    id: i64,
    contract_id: i64,
    new_end_date: Date,
    notice_deadline: Date,
    status: String,
    decision_reference: String,
    decision_date: Option<Date>,
}

#[derive(sqlx::FromRow)]
struct TariffRow {
    id: i64,
    contract_id: i64,
    route: String,
    valid_from: Date,
    valid_until: Option<Date>,
    amount_cents: i64,
}

#[derive(sqlx::FromRow)]
struct MilestoneRow {
    contract_id: i64,
    route: String,
    name: String,
    share_bp: i64,
    due_kind: String,
    due_months: Option<i64>,
}

impl TariffRow {
    fn tariff(&self) -> Tariff {
        Tariff {
            id: self.id,
            route: route(&self.route),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            amount: Money::from_cents(self.amount_cents),
        }
    }
}

impl MilestoneRow {
    fn milestone(&self) -> Milestone {
        Milestone {
            name: self.name.clone(),
            share: Share::from_basis_points(self.share_bp),
            due: Due::from_parts(&self.due_kind, self.due_months).expect("CHECK constraint"),
        }
    }
}

const SELECT: &str = "SELECT c.id, c.reference, c.title, c.provider_id, p.name AS provider_name, c.lot, c.routes,
        c.start_date, c.initial_end_date, c.ceiling_cents, c.notes, c.version
     FROM contract c JOIN provider p ON p.id = c.provider_id";

fn route(code: &str) -> Route {
    Route::parse(code).expect("the CHECK constraint only allows known routes")
}

/// Loads contracts (all, or one) with everything that belongs to them, in four queries.
async fn load(db: &Db, only: Option<i64>) -> sqlx::Result<Vec<Contract>> {
    let rows: Vec<ContractRow> =
        sqlx::query_as(&format!("{SELECT} WHERE ?1 IS NULL OR c.id = ?1 ORDER BY c.start_date, c.reference"))
            .bind(only)
            .fetch_all(db)
            .await?;
    let options: Vec<OptionRow> = sqlx::query_as(
        "SELECT id, contract_id, new_end_date, notice_deadline, status, decision_reference, decision_date
         FROM extension_option WHERE ?1 IS NULL OR contract_id = ?1 ORDER BY new_end_date",
    )
    .bind(only)
    .fetch_all(db)
    .await?;
    let tariffs: Vec<TariffRow> = sqlx::query_as(
        "SELECT id, contract_id, route, valid_from, valid_until, amount_cents FROM tariff
         WHERE ?1 IS NULL OR contract_id = ?1 ORDER BY route, valid_from",
    )
    .bind(only)
    .fetch_all(db)
    .await?;
    let milestones: Vec<MilestoneRow> = sqlx::query_as(
        "SELECT contract_id, route, name, share_bp, due_kind, due_months FROM payment_milestone
         WHERE ?1 IS NULL OR contract_id = ?1 ORDER BY contract_id, route, seq",
    )
    .bind(only)
    .fetch_all(db)
    .await?;
    let documents: Vec<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT contract_id, id, title, location FROM contract_document WHERE ?1 IS NULL OR contract_id = ?1 ORDER BY id",
    )
    .bind(only)
    .fetch_all(db)
    .await?;

    Ok(rows
        .into_iter()
        .map(|r| {
            let options = options
                .iter()
                .filter(|o| o.contract_id == r.id)
                .map(|o| ExtensionOption {
                    id: o.id,
                    new_end_date: o.new_end_date,
                    notice_deadline: o.notice_deadline,
                    status: OptionStatus::parse(&o.status).expect("CHECK constraint"),
                    decision_reference: o.decision_reference.clone(),
                    decision_date: o.decision_date,
                })
                .collect();
            let tariffs = tariffs.iter().filter(|t| t.contract_id == r.id).map(TariffRow::tariff).collect();
            let mut per_route: BTreeMap<Route, Vec<Milestone>> = BTreeMap::new();
            for m in milestones.iter().filter(|m| m.contract_id == r.id) {
                per_route.entry(route(&m.route)).or_default().push(m.milestone());
            }
            Contract {
                id: r.id,
                reference: r.reference,
                title: r.title,
                provider_id: r.provider_id,
                provider_name: r.provider_name,
                lot: r.lot,
                notes: r.notes,
                version: r.version,
                terms: ContractTerms {
                    period: ContractPeriod { start_date: r.start_date, initial_end_date: r.initial_end_date, options },
                    routes: parse_routes(&r.routes).unwrap_or_default(),
                    ceiling: Money::from_cents(r.ceiling_cents),
                    tariffs,
                    milestones: per_route,
                },
                documents: documents
                    .iter()
                    .filter(|d| d.0 == r.id)
                    .map(|d| Document { id: d.1, title: d.2.clone(), location: d.3.clone() })
                    .collect(),
            }
        })
        .collect())
}

/// What publishing a contract needs beyond [`Contract`]: its provider's KvK number and when the contract or its
/// provider last changed (RFC 3339, as stored).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PublicationFacts {
    pub contract_id: i64,
    pub provider_kvk: String,
    pub contract_updated_at: String,
    pub provider_updated_at: String,
}

pub async fn publication_facts(db: &Db) -> sqlx::Result<Vec<PublicationFacts>> {
    sqlx::query_as(
        "SELECT c.id AS contract_id, p.kvk AS provider_kvk, c.updated_at AS contract_updated_at,
                p.updated_at AS provider_updated_at
         FROM contract c JOIN provider p ON p.id = c.provider_id ORDER BY c.id",
    )
    .fetch_all(db)
    .await
}

/// The stored fields an import compares a repeated contract with.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ContractTwin {
    pub id: i64,
    pub title: String,
    pub provider_id: i64,
    pub lot: String,
    pub routes: String,
    pub start_date: Date,
    pub initial_end_date: Date,
    pub ceiling_cents: i64,
    pub notes: String,
}

/// The stored contract with this reference, on the caller's connection.
pub async fn twin_in(conn: &mut super::Conn, reference: &str) -> sqlx::Result<Option<ContractTwin>> {
    sqlx::query_as(
        "SELECT id, title, provider_id, lot, routes, start_date, initial_end_date, ceiling_cents, notes
         FROM contract WHERE reference = ?",
    )
    .bind(reference)
    .fetch_optional(conn)
    .await
}

/// The id of the stored tariff equal to `t` (route, period and amount) on the contract, on the caller's connection.
pub async fn tariff_twin_in(conn: &mut super::Conn, contract_id: i64, t: &Tariff) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM tariff WHERE contract_id = ? AND route = ? AND valid_from = ? AND valid_until IS ?
             AND amount_cents = ?",
    )
    .bind(contract_id)
    .bind(t.route.code())
    .bind(t.valid_from)
    .bind(t.valid_until)
    .bind(t.amount.cents())
    .fetch_optional(conn)
    .await
}

/// A contract's tariffs and one route's payment milestones as stored now, on the caller's connection: the import
/// checks a tariff row against them again, since a screen may have changed them after the file was read.
pub async fn route_terms_in(
    conn: &mut super::Conn,
    contract_id: i64,
    r: Route,
) -> sqlx::Result<(Vec<Tariff>, Vec<Milestone>)> {
    let tariffs: Vec<TariffRow> = sqlx::query_as(
        "SELECT id, contract_id, route, valid_from, valid_until, amount_cents FROM tariff WHERE contract_id = ?
         ORDER BY route, valid_from",
    )
    .bind(contract_id)
    .fetch_all(&mut *conn)
    .await?;
    let milestones: Vec<MilestoneRow> = sqlx::query_as(
        "SELECT contract_id, route, name, share_bp, due_kind, due_months FROM payment_milestone
         WHERE contract_id = ? AND route = ? ORDER BY seq",
    )
    .bind(contract_id)
    .bind(r.code())
    .fetch_all(conn)
    .await?;
    Ok((tariffs.iter().map(TariffRow::tariff).collect(), milestones.iter().map(MilestoneRow::milestone).collect()))
}

/// Links one route's payment milestones to the import batch that set them, so undo can find them.
pub async fn mark_milestones_batch(tx: &mut Tx<'_>, contract_id: i64, r: Route, batch: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE payment_milestone SET batch_id = ? WHERE contract_id = ? AND route = ?")
        .bind(batch)
        .bind(contract_id)
        .bind(r.code())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<Contract>> {
    load(db, None).await
}

/// Every contract's id and reference, in the order of [`list`]: what a form offers to choose from, without the
/// terms [`list`] reads as well.
pub async fn references(db: &Db) -> sqlx::Result<Vec<(i64, String)>> {
    let raw: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(id, reference)) FROM (SELECT id, reference FROM contract ORDER BY start_date, reference)",
    )
    .fetch_one(db)
    .await?;
    super::rows_from_json(&raw)
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Contract>> {
    Ok(load(db, Some(id)).await?.pop())
}

/// The counter that triggers move on every change to what commitments are computed from (contracts and their
/// terms, providers, placements, route changes, cohort streams, ledger attributions): a portfolio computed at one
/// value is current while it stays.
pub async fn commitment_inputs_version(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT n FROM commitment_inputs_version WHERE id = 1").fetch_one(db).await
}

pub async fn id_by_reference(db: &Db, reference: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM contract WHERE reference = ?").bind(reference.trim()).fetch_optional(db).await
}

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("kenmerk {0} is al in gebruik")]
    DuplicateReference(String),
    #[error("het record is intussen gewijzigd")]
    Stale(Box<Contract>),
    #[error("niet gevonden")]
    NotFound,
    #[error("over deze optie is al besloten")]
    OptionDecided,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

async fn reference_taken(tx: &mut Tx<'_>, reference: &str, except: i64) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contract WHERE reference = ? AND id <> ?")
        .bind(reference)
        .bind(except)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

pub async fn create(db: &Db, d: &ContractDraft, actor: &str) -> Result<i64, ContractError> {
    let mut tx = begin(db).await?;
    let id = insert_in(&mut tx, d, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a contract inside a caller's transaction (the import engine commits many in one).
pub async fn insert_in(tx: &mut Tx<'_>, d: &ContractDraft, actor: &str) -> Result<i64, ContractError> {
    if reference_taken(tx, &d.reference, 0).await? {
        return Err(ContractError::DuplicateReference(d.reference.clone()));
    }
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contract (reference, title, provider_id, lot, routes, start_date, initial_end_date, ceiling_cents,
             notes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&d.reference)
    .bind(&d.title)
    .bind(d.provider_id)
    .bind(&d.lot)
    .bind(routes_code(&d.routes))
    .bind(d.start_date)
    .bind(d.initial_end_date)
    .bind(d.ceiling.cents())
    .bind(&d.notes)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    audit::record(tx, actor, "create", "contract", id, None, Some(&audit::snapshot(d))).await?;
    Ok(id)
}

pub async fn update(db: &Db, id: i64, version: i64, d: &ContractDraft, actor: &str) -> Result<(), ContractError> {
    let before = get(db, id).await?.ok_or(ContractError::NotFound)?;
    let mut tx = begin(db).await?;
    let current: i64 =
        sqlx::query_scalar("SELECT version FROM contract WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
    if current != version {
        drop(tx);
        let now = get(db, id).await?.ok_or(ContractError::NotFound)?;
        return Err(ContractError::Stale(Box::new(now)));
    }
    if reference_taken(&mut tx, &d.reference, id).await? {
        return Err(ContractError::DuplicateReference(d.reference.clone()));
    }
    sqlx::query(
        "UPDATE contract SET reference = ?, title = ?, provider_id = ?, lot = ?, routes = ?, start_date = ?,
             initial_end_date = ?, ceiling_cents = ?, notes = ?, version = version + 1, updated_at = ?
         WHERE id = ? AND version = ?",
    )
    .bind(&d.reference)
    .bind(&d.title)
    .bind(d.provider_id)
    .bind(&d.lot)
    .bind(routes_code(&d.routes))
    .bind(d.start_date)
    .bind(d.initial_end_date)
    .bind(d.ceiling.cents())
    .bind(&d.notes)
    .bind(dates::now_timestamp())
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    let before_json = audit::snapshot(&before_draft(&before));
    audit::record(&mut tx, actor, "update", "contract", id, Some(&before_json), Some(&audit::snapshot(d))).await?;
    tx.commit().await?;
    Ok(())
}

/// The editable fields of a stored contract, as a draft (for forms and audit).
pub fn before_draft(c: &Contract) -> ContractDraft {
    ContractDraft {
        reference: c.reference.clone(),
        title: c.title.clone(),
        provider_id: c.provider_id,
        lot: c.lot.clone(),
        routes: c.terms.routes.clone(),
        start_date: c.terms.period.start_date,
        initial_end_date: c.terms.period.initial_end_date,
        ceiling: c.terms.ceiling,
        notes: c.notes.clone(),
    }
}

/// Any change to a contract's parts bumps its version, so an open edit form notices.
async fn touch(tx: &mut Tx<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE contract SET version = version + 1, updated_at = ? WHERE id = ?")
        .bind(dates::now_timestamp())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn add_tariff(db: &Db, contract_id: i64, t: &Tariff, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id = add_tariff_in(&mut tx, contract_id, t, actor).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn add_tariff_in(tx: &mut Tx<'_>, contract_id: i64, t: &Tariff, actor: &str) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tariff (contract_id, route, valid_from, valid_until, amount_cents) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(contract_id)
    .bind(t.route.code())
    .bind(t.valid_from)
    .bind(t.valid_until)
    .bind(t.amount.cents())
    .fetch_one(&mut **tx)
    .await?;
    touch(tx, contract_id).await?;
    let after = serde_json::json!({"contract_id": contract_id, "tariff": audit::snapshot(t)});
    audit::record(tx, actor, "create", "tariff", id, None, Some(&after)).await?;
    Ok(id)
}

/// Replaces the milestones of one route (validated by the caller: shares sum to 100%).
pub async fn set_milestones(
    db: &Db,
    contract_id: i64,
    route: Route,
    ms: &[Milestone],
    actor: &str,
) -> sqlx::Result<()> {
    let mut tx = begin(db).await?;
    set_milestones_in(&mut tx, contract_id, route, ms, actor).await?;
    tx.commit().await
}

pub async fn set_milestones_in(
    tx: &mut Tx<'_>,
    contract_id: i64,
    route: Route,
    ms: &[Milestone],
    actor: &str,
) -> sqlx::Result<()> {
    let before: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT name, share_bp, due_kind, due_months FROM payment_milestone WHERE contract_id = ? AND route = ? ORDER BY seq",
    )
    .bind(contract_id)
    .bind(route.code())
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM payment_milestone WHERE contract_id = ? AND route = ?")
        .bind(contract_id)
        .bind(route.code())
        .execute(&mut **tx)
        .await?;
    for (seq, m) in ms.iter().enumerate() {
        sqlx::query(
            "INSERT INTO payment_milestone (contract_id, route, seq, name, share_bp, due_kind, due_months)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(contract_id)
        .bind(route.code())
        .bind(seq as i64 + 1)
        .bind(&m.name)
        .bind(m.share.basis_points())
        .bind(m.due.kind_code())
        .bind(m.due.months().map(i64::from))
        .execute(&mut **tx)
        .await?;
    }
    touch(tx, contract_id).await?;
    let before = serde_json::json!({"route": route.code(), "milestones": before});
    let after = serde_json::json!({"route": route.code(), "milestones": audit::snapshot(&ms)});
    audit::record(tx, actor, "update", "payment_milestones", contract_id, Some(&before), Some(&after)).await?;
    Ok(())
}

pub async fn add_option(db: &Db, contract_id: i64, o: &ExtensionOption, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO extension_option (contract_id, new_end_date, notice_deadline, status, decision_reference, decision_date)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(contract_id)
    .bind(o.new_end_date)
    .bind(o.notice_deadline)
    .bind(o.status.code())
    .bind(&o.decision_reference)
    .bind(o.decision_date)
    .fetch_one(&mut *tx)
    .await?;
    touch(&mut tx, contract_id).await?;
    let after = serde_json::json!({"contract_id": contract_id, "option": audit::snapshot(o)});
    audit::record(&mut tx, actor, "create", "extension_option", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Records the decision on an option (exercised or declined).
pub async fn decide_option(
    db: &Db,
    contract_id: i64,
    option_id: i64,
    status: OptionStatus,
    reference: &str,
    date: Date,
    actor: &str,
) -> Result<(), ContractError> {
    let mut tx = begin(db).await?;
    let before: Option<(String, String)> =
        sqlx::query_as("SELECT status, decision_reference FROM extension_option WHERE id = ? AND contract_id = ?")
            .bind(option_id)
            .bind(contract_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(before) = before else { return Err(ContractError::NotFound) };
    // Checked again under the write lock: of two decisions sent at once, the second finds the first.
    if before.0 != OptionStatus::Pending.code() {
        return Err(ContractError::OptionDecided);
    }
    sqlx::query("UPDATE extension_option SET status = ?, decision_reference = ?, decision_date = ? WHERE id = ?")
        .bind(status.code())
        .bind(reference)
        .bind(date)
        .bind(option_id)
        .execute(&mut *tx)
        .await?;
    touch(&mut tx, contract_id).await?;
    let b = serde_json::json!({"status": before.0, "decision_reference": before.1});
    let a = serde_json::json!({"status": status.code(), "decision_reference": reference, "decision_date": dates::iso(date)});
    audit::record(&mut tx, actor, "decide", "extension_option", option_id, Some(&b), Some(&a)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn add_document(db: &Db, contract_id: i64, title: &str, location: &str, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contract_document (contract_id, title, location) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(contract_id)
    .bind(title)
    .bind(location)
    .fetch_one(&mut *tx)
    .await?;
    let after = serde_json::json!({"contract_id": contract_id, "title": title, "location": location});
    audit::record(&mut tx, actor, "create", "contract_document", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}
