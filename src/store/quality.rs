//! Provider quality: criteria sets, quality plan versions with their document and assessment,
//! follow-up actions and results per measurement year. Every change is audited in its transaction.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::Date;

use super::{audit, begin, Db, Tx};
use crate::domain::dates;
use crate::domain::document::DocumentKind;
use crate::domain::quality::{
    from_hundredths, to_hundredths, ActionDraft, ActionSource, ActionStatus, AssessmentDraft, Comparison,
    CriterionDraft, CriterionRef, ExamComponent, Metric, Norm, PlanStatus, QualityResult, Score, Scoring,
};
use crate::domain::route::Route;

/// Why a quality change was not saved.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// The criteria set or plan version is frozen; carries a Dutch explanation.
    #[error("{0}")]
    Frozen(String),
    #[error("code {0} is al in gebruik in dit toetsingskader")]
    DuplicateCode(String),
    #[error("het record is intussen gewijzigd")]
    StaleCriterion(Box<Criterion>),
    #[error("het record is intussen gewijzigd")]
    StaleAction(Box<FollowUpAction>),
    #[error("het record is intussen gewijzigd")]
    StalePlan(Box<PlanVersion>),
    #[error("niet gevonden")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

// ---------------------------------------------------------------------------------------------
// Criteria sets

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CriteriaSet {
    pub id: i64,
    pub tender: String,
    pub version_no: i64,
    pub title: String,
    pub frozen_at: Option<String>,
    pub version: i64,
    pub criteria_count: i64,
}

impl CriteriaSet {
    pub fn is_frozen(&self) -> bool {
        self.frozen_at.is_some()
    }

    /// "Aanbesteding 2022, versie 2"
    pub fn label(&self) -> String {
        format!("{}, versie {}", self.tender, self.version_no)
    }
}

const SET_SELECT: &str = "SELECT s.id, s.tender, s.version_no, s.title, s.frozen_at, s.version,
        (SELECT COUNT(*) FROM quality_criterion c WHERE c.set_id = s.id) AS criteria_count
     FROM quality_criteria_set s";

pub async fn list_sets(db: &Db) -> sqlx::Result<Vec<CriteriaSet>> {
    sqlx::query_as(&format!("{SET_SELECT} ORDER BY s.tender, s.version_no DESC")).fetch_all(db).await
}

pub async fn get_set(db: &Db, id: i64) -> sqlx::Result<Option<CriteriaSet>> {
    sqlx::query_as(&format!("{SET_SELECT} WHERE s.id = ?")).bind(id).fetch_optional(db).await
}

/// The newest set (highest id): the default for a new plan version.
pub async fn latest_set(db: &Db) -> sqlx::Result<Option<CriteriaSet>> {
    sqlx::query_as(&format!("{SET_SELECT} ORDER BY s.id DESC LIMIT 1")).fetch_optional(db).await
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub id: i64,
    pub set_id: i64,
    pub code: String,
    pub title: String,
    pub description: String,
    pub scoring: Scoring,
    pub knock_out: bool,
    pub norm: Option<Norm>,
    pub version: i64,
}

impl Criterion {
    pub fn as_ref(&self) -> CriterionRef {
        CriterionRef { id: self.id, code: self.code.clone(), scoring: self.scoring, knock_out: self.knock_out }
    }

    pub fn draft(&self) -> CriterionDraft {
        CriterionDraft {
            code: self.code.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            scoring: self.scoring,
            knock_out: self.knock_out,
            norm: self.norm,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CriterionRow {
    id: i64,
    set_id: i64,
    code: String,
    title: String,
    description: String,
    scoring: String,
    knock_out: bool,
    norm_metric: Option<String>,
    norm_comparison: Option<String>,
    norm_hundredths: Option<i64>,
    version: i64,
}

impl CriterionRow {
    fn into_criterion(self) -> Criterion {
        let norm = match (self.norm_metric, self.norm_comparison, self.norm_hundredths) {
            (Some(m), Some(c), Some(v)) => Some(Norm {
                metric: Metric::parse(&m).expect("CHECK constraint"),
                comparison: Comparison::parse(&c).expect("CHECK constraint"),
                value: from_hundredths(v),
            }),
            _ => None,
        };
        Criterion {
            id: self.id,
            set_id: self.set_id,
            code: self.code,
            title: self.title,
            description: self.description,
            scoring: Scoring::parse(&self.scoring).expect("CHECK constraint"),
            knock_out: self.knock_out,
            norm,
            version: self.version,
        }
    }
}

const CRITERION_COLUMNS: &str =
    "id, set_id, code, title, description, scoring, knock_out, norm_metric, norm_comparison,
    norm_hundredths, version";

pub async fn criteria(db: &Db, set_id: i64) -> sqlx::Result<Vec<Criterion>> {
    let rows: Vec<CriterionRow> =
        sqlx::query_as(&format!("SELECT {CRITERION_COLUMNS} FROM quality_criterion WHERE set_id = ? ORDER BY seq, id"))
            .bind(set_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(CriterionRow::into_criterion).collect())
}

async fn criterion_in(tx: &mut Tx<'_>, id: i64) -> sqlx::Result<Option<Criterion>> {
    let row: Option<CriterionRow> =
        sqlx::query_as(&format!("SELECT {CRITERION_COLUMNS} FROM quality_criterion WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.map(CriterionRow::into_criterion))
}

pub async fn create_set(db: &Db, tender: &str, title: &str, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version_no), 0) + 1 FROM quality_criteria_set WHERE tender = ?")
            .bind(tender)
            .fetch_one(&mut *tx)
            .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO quality_criteria_set (tender, version_no, title, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(tender)
    .bind(next)
    .bind(title)
    .bind(dates::now_timestamp())
    .fetch_one(&mut *tx)
    .await?;
    let after = serde_json::json!({"tender": tender, "version_no": next, "title": title});
    audit::record(&mut tx, actor, "create", "quality_criteria_set", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

async fn refuse_if_frozen(tx: &mut Tx<'_>, set_id: i64) -> Result<(), QualityError> {
    let frozen: Option<Option<String>> = sqlx::query_scalar("SELECT frozen_at FROM quality_criteria_set WHERE id = ?")
        .bind(set_id)
        .fetch_optional(&mut **tx)
        .await?;
    match frozen {
        None => Err(QualityError::NotFound),
        Some(Some(_)) => Err(QualityError::Frozen(
            "Dit toetsingskader is bevroren: er is al een kwaliteitsplan mee beoordeeld. Maak een nieuwe versie van het kader om eisen te wijzigen."
                .into(),
        )),
        Some(None) => Ok(()),
    }
}

async fn code_taken(tx: &mut Tx<'_>, set_id: i64, code: &str, except: i64) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quality_criterion WHERE set_id = ? AND code = ? AND id <> ?")
        .bind(set_id)
        .bind(code)
        .bind(except)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

async fn bump_set(tx: &mut Tx<'_>, set_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE quality_criteria_set SET version = version + 1 WHERE id = ?")
        .bind(set_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn add_criterion(db: &Db, set_id: i64, d: &CriterionDraft, actor: &str) -> Result<i64, QualityError> {
    let mut tx = begin(db).await?;
    let id = add_criterion_in(&mut tx, set_id, d, actor).await?;
    tx.commit().await?;
    Ok(id)
}

async fn add_criterion_in(tx: &mut Tx<'_>, set_id: i64, d: &CriterionDraft, actor: &str) -> Result<i64, QualityError> {
    refuse_if_frozen(tx, set_id).await?;
    if code_taken(tx, set_id, &d.code, 0).await? {
        return Err(QualityError::DuplicateCode(d.code.clone()));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO quality_criterion (set_id, code, title, description, scoring, knock_out, norm_metric, norm_comparison,
             norm_hundredths, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM quality_criterion WHERE set_id = ?))
         RETURNING id",
    )
    .bind(set_id)
    .bind(&d.code)
    .bind(&d.title)
    .bind(&d.description)
    .bind(d.scoring.code())
    .bind(d.knock_out)
    .bind(d.norm.map(|n| n.metric.code()))
    .bind(d.norm.map(|n| n.comparison.code()))
    .bind(d.norm.map(|n| to_hundredths(n.value)))
    .bind(set_id)
    .fetch_one(&mut **tx)
    .await?;
    bump_set(tx, set_id).await?;
    let mut after = audit::snapshot(d);
    after["set_id"] = set_id.into();
    audit::record(tx, actor, "create", "quality_criterion", id, None, Some(&after)).await?;
    Ok(id)
}

/// Saves an edit made on `version`; refused when the set is frozen or the criterion moved on.
pub async fn update_criterion(
    db: &Db,
    set_id: i64,
    id: i64,
    version: i64,
    d: &CriterionDraft,
    actor: &str,
) -> Result<(), QualityError> {
    let mut tx = begin(db).await?;
    let before = criterion_in(&mut tx, id).await?.filter(|c| c.set_id == set_id).ok_or(QualityError::NotFound)?;
    refuse_if_frozen(&mut tx, set_id).await?;
    if before.version != version {
        return Err(QualityError::StaleCriterion(Box::new(before)));
    }
    if code_taken(&mut tx, set_id, &d.code, id).await? {
        return Err(QualityError::DuplicateCode(d.code.clone()));
    }
    sqlx::query(
        "UPDATE quality_criterion SET code = ?, title = ?, description = ?, scoring = ?, knock_out = ?, norm_metric = ?,
             norm_comparison = ?, norm_hundredths = ?, version = version + 1
         WHERE id = ? AND version = ?",
    )
    .bind(&d.code)
    .bind(&d.title)
    .bind(&d.description)
    .bind(d.scoring.code())
    .bind(d.knock_out)
    .bind(d.norm.map(|n| n.metric.code()))
    .bind(d.norm.map(|n| n.comparison.code()))
    .bind(d.norm.map(|n| to_hundredths(n.value)))
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    bump_set(&mut tx, set_id).await?;
    let after = criterion_in(&mut tx, id).await?.ok_or(QualityError::NotFound)?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "quality_criterion",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Copies a set (frozen or not) into the next version of its tender, open for editing.
pub async fn new_set_version(db: &Db, set_id: i64, actor: &str) -> Result<i64, QualityError> {
    let set = get_set(db, set_id).await?.ok_or(QualityError::NotFound)?;
    let items = criteria(db, set_id).await?;
    let mut tx = begin(db).await?;
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version_no), 0) + 1 FROM quality_criteria_set WHERE tender = ?")
            .bind(&set.tender)
            .fetch_one(&mut *tx)
            .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO quality_criteria_set (tender, version_no, title, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(&set.tender)
    .bind(next)
    .bind(&set.title)
    .bind(dates::now_timestamp())
    .fetch_one(&mut *tx)
    .await?;
    let after =
        serde_json::json!({"tender": set.tender, "version_no": next, "title": set.title, "copied_from": set_id});
    audit::record(&mut tx, actor, "create", "quality_criteria_set", id, None, Some(&after)).await?;
    for c in &items {
        add_criterion_in(&mut tx, id, &c.draft(), actor).await?;
    }
    tx.commit().await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Quality plan versions

/// A plan version without its document bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanVersion {
    pub id: i64,
    pub contract_id: i64,
    pub contract_reference: String,
    pub provider_id: i64,
    pub provider_name: String,
    pub version_no: i64,
    pub criteria_set_id: i64,
    pub submitted_on: Date,
    pub status: PlanStatus,
    pub file_name: String,
    pub document_kind: DocumentKind,
    pub size_bytes: i64,
    pub sha256: String,
    pub decision_reasoning: String,
    pub decided_by: Option<String>,
    pub decided_on: Option<Date>,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: i64,
    contract_id: i64,
    contract_reference: String,
    provider_id: i64,
    provider_name: String,
    version_no: i64,
    criteria_set_id: i64,
    submitted_on: Date,
    status: String,
    file_name: String,
    document_kind: String,
    size_bytes: i64,
    sha256: String,
    decision_reasoning: String,
    decided_by: Option<String>,
    decided_on: Option<Date>,
    version: i64,
}

impl PlanRow {
    fn into_plan(self) -> PlanVersion {
        PlanVersion {
            id: self.id,
            contract_id: self.contract_id,
            contract_reference: self.contract_reference,
            provider_id: self.provider_id,
            provider_name: self.provider_name,
            version_no: self.version_no,
            criteria_set_id: self.criteria_set_id,
            submitted_on: self.submitted_on,
            status: PlanStatus::parse(&self.status).expect("CHECK constraint"),
            file_name: self.file_name,
            document_kind: DocumentKind::parse(&self.document_kind).expect("CHECK constraint"),
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            decision_reasoning: self.decision_reasoning,
            decided_by: self.decided_by,
            decided_on: self.decided_on,
            version: self.version,
        }
    }
}

const PLAN_SELECT: &str = "SELECT q.id, q.contract_id, c.reference AS contract_reference, c.provider_id,
        p.name AS provider_name, q.version_no, q.criteria_set_id, q.submitted_on, q.status, q.file_name,
        q.document_kind, q.size_bytes, q.sha256, q.decision_reasoning, q.decided_by, q.decided_on, q.version
     FROM quality_plan_version q JOIN contract c ON c.id = q.contract_id JOIN provider p ON p.id = c.provider_id";

/// All plan versions, oldest first per contract.
pub async fn all_plans(db: &Db) -> sqlx::Result<Vec<PlanVersion>> {
    let rows: Vec<PlanRow> =
        sqlx::query_as(&format!("{PLAN_SELECT} ORDER BY q.contract_id, q.version_no")).fetch_all(db).await?;
    Ok(rows.into_iter().map(PlanRow::into_plan).collect())
}

pub async fn plans_for_contract(db: &Db, contract_id: i64) -> sqlx::Result<Vec<PlanVersion>> {
    let rows: Vec<PlanRow> = sqlx::query_as(&format!("{PLAN_SELECT} WHERE q.contract_id = ? ORDER BY q.version_no"))
        .bind(contract_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(PlanRow::into_plan).collect())
}

pub async fn plans_for_provider(db: &Db, provider_id: i64) -> sqlx::Result<Vec<PlanVersion>> {
    let rows: Vec<PlanRow> =
        sqlx::query_as(&format!("{PLAN_SELECT} WHERE c.provider_id = ? ORDER BY q.contract_id, q.version_no"))
            .bind(provider_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(PlanRow::into_plan).collect())
}

pub async fn plan(db: &Db, id: i64) -> sqlx::Result<Option<PlanVersion>> {
    let row: Option<PlanRow> =
        sqlx::query_as(&format!("{PLAN_SELECT} WHERE q.id = ?")).bind(id).fetch_optional(db).await?;
    Ok(row.map(PlanRow::into_plan))
}

/// The stored document: (file name, kind, bytes).
pub async fn document(db: &Db, plan_id: i64) -> sqlx::Result<Option<(String, DocumentKind, Vec<u8>)>> {
    let row: Option<(String, String, Vec<u8>)> =
        sqlx::query_as("SELECT file_name, document_kind, document FROM quality_plan_version WHERE id = ?")
            .bind(plan_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(n, k, b)| (n, DocumentKind::parse(&k).expect("CHECK constraint"), b)))
}

/// A reviewer's score on one criterion of one plan version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub criterion_id: i64,
    pub score: Score,
    pub finding: String,
    pub assessor: String,
    pub assessed_on: Date,
    /// Copied from the previous version and not looked at again yet.
    pub carried_over: bool,
}

pub async fn assessments(db: &Db, plan_id: i64) -> sqlx::Result<Vec<Assessment>> {
    let rows: Vec<(i64, String, String, String, Date, bool)> = sqlx::query_as(
        "SELECT criterion_id, score, finding, assessor, assessed_on, carried_over FROM quality_assessment
         WHERE plan_version_id = ? ORDER BY criterion_id",
    )
    .bind(plan_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(criterion_id, score, finding, assessor, assessed_on, carried_over)| Assessment {
            criterion_id,
            score: Score::from_stored(&score).expect("CHECK constraint"),
            finding,
            assessor,
            assessed_on,
            carried_over,
        })
        .collect())
}

/// A new document for a plan version.
pub struct NewPlan<'a> {
    pub contract_id: i64,
    pub criteria_set_id: i64,
    pub submitted_on: Date,
    pub file_name: &'a str,
    pub kind: DocumentKind,
    pub bytes: &'a [u8],
}

/// Stores the next version of a contract's plan. It starts from the previous version's assessment:
/// every score whose criterion (matched by code) is in this version's set is copied, marked carried over.
pub async fn submit_plan(db: &Db, p: &NewPlan<'_>, actor: &str) -> Result<i64, QualityError> {
    let mut tx = begin(db).await?;
    let previous: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, version_no FROM quality_plan_version WHERE contract_id = ? ORDER BY version_no DESC LIMIT 1",
    )
    .bind(p.contract_id)
    .fetch_optional(&mut *tx)
    .await?;
    let version_no = previous.map(|(_, n)| n + 1).unwrap_or(1);
    let sha = hex::encode(Sha256::digest(p.bytes));
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO quality_plan_version (contract_id, version_no, criteria_set_id, submitted_on, status, file_name,
             document_kind, size_bytes, sha256, document, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(p.contract_id)
    .bind(version_no)
    .bind(p.criteria_set_id)
    .bind(p.submitted_on)
    .bind(p.file_name)
    .bind(p.kind.code())
    .bind(p.bytes.len() as i64)
    .bind(&sha)
    .bind(p.bytes)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let mut carried = 0;
    if let Some((prev_id, _)) = previous {
        carried = sqlx::query(
            "INSERT INTO quality_assessment (plan_version_id, criterion_id, score, finding, assessor, assessed_on, carried_over)
             SELECT ?, nc.id, a.score, a.finding, a.assessor, a.assessed_on, 1
             FROM quality_assessment a
             JOIN quality_criterion oc ON oc.id = a.criterion_id
             JOIN quality_criterion nc ON nc.set_id = ? AND nc.code = oc.code
             WHERE a.plan_version_id = ?",
        )
        .bind(id)
        .bind(p.criteria_set_id)
        .bind(prev_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    if carried > 0 {
        // Carried-over scores are assessments against this set too.
        freeze_set(&mut tx, p.criteria_set_id, id, actor).await?;
    }
    let after = serde_json::json!({
        "contract_id": p.contract_id, "version_no": version_no, "criteria_set_id": p.criteria_set_id,
        "submitted_on": dates::iso(p.submitted_on), "file_name": p.file_name, "document_kind": p.kind.code(),
        "size_bytes": p.bytes.len(), "sha256": sha, "status": "submitted", "assessments_carried_over": carried,
    });
    audit::record(&mut tx, actor, "create", "quality_plan_version", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

async fn plan_in(tx: &mut Tx<'_>, id: i64) -> sqlx::Result<Option<PlanVersion>> {
    let row: Option<PlanRow> =
        sqlx::query_as(&format!("{PLAN_SELECT} WHERE q.id = ?")).bind(id).fetch_optional(&mut **tx).await?;
    Ok(row.map(PlanRow::into_plan))
}

fn frozen_plan(p: &PlanVersion) -> QualityError {
    QualityError::Frozen(format!(
        "Versie {} van dit kwaliteitsplan is bevroren: er is al besloten ({}). Vraag een nieuwe versie aan om opnieuw te beoordelen.",
        p.version_no,
        p.status.label().to_lowercase()
    ))
}

/// Freezes a criteria set the first time an assessment uses it (audited once).
async fn freeze_set(tx: &mut Tx<'_>, set_id: i64, plan_id: i64, actor: &str) -> sqlx::Result<()> {
    let frozen = sqlx::query("UPDATE quality_criteria_set SET frozen_at = ? WHERE id = ? AND frozen_at IS NULL")
        .bind(dates::now_timestamp())
        .bind(set_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if frozen > 0 {
        let a = serde_json::json!({"frozen_by_plan_version": plan_id});
        audit::record(tx, actor, "freeze", "quality_criteria_set", set_id, None, Some(&a)).await?;
    }
    Ok(())
}

/// Saves scores on a plan version that is not yet decided; the version goes into review and the
/// criteria set is frozen from now on.
pub async fn save_assessment(
    db: &Db,
    plan_id: i64,
    version: i64,
    drafts: &[AssessmentDraft],
    assessed_on: Date,
    actor: &str,
) -> Result<(), QualityError> {
    let mut tx = begin(db).await?;
    let plan = plan_in(&mut tx, plan_id).await?.ok_or(QualityError::NotFound)?;
    if plan.status.is_frozen() {
        return Err(frozen_plan(&plan));
    }
    if plan.version != version {
        return Err(QualityError::StalePlan(Box::new(plan)));
    }
    for d in drafts {
        let before: Option<(String, String, bool)> = sqlx::query_as(
            "SELECT score, finding, carried_over FROM quality_assessment WHERE plan_version_id = ? AND criterion_id = ?",
        )
        .bind(plan_id)
        .bind(d.criterion_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((score, finding, carried)) = &before {
            // Unchanged and already looked at: nothing to record.
            if *score == d.score.code() && *finding == d.finding && !carried {
                continue;
            }
        }
        sqlx::query(
            "INSERT INTO quality_assessment (plan_version_id, criterion_id, score, finding, assessor, assessed_on, carried_over)
             VALUES (?, ?, ?, ?, ?, ?, 0)
             ON CONFLICT (plan_version_id, criterion_id) DO UPDATE SET score = excluded.score, finding = excluded.finding,
                 assessor = excluded.assessor, assessed_on = excluded.assessed_on, carried_over = 0",
        )
        .bind(plan_id)
        .bind(d.criterion_id)
        .bind(d.score.code())
        .bind(&d.finding)
        .bind(actor)
        .bind(assessed_on)
        .execute(&mut *tx)
        .await?;
        let b = before.map(|(s, f, c)| serde_json::json!({"score": s, "finding": f, "carried_over": c}));
        let a = serde_json::json!({"plan_version_id": plan_id, "criterion_id": d.criterion_id, "score": d.score.code(),
            "finding": d.finding, "assessor": actor, "assessed_on": dates::iso(assessed_on)});
        audit::record(&mut tx, actor, "assess", "quality_assessment", plan_id, b.as_ref(), Some(&a)).await?;
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quality_assessment WHERE plan_version_id = ?")
        .bind(plan_id)
        .fetch_one(&mut *tx)
        .await?;
    if rows > 0 {
        freeze_set(&mut tx, plan.criteria_set_id, plan_id, actor).await?;
    }
    sqlx::query(
        "UPDATE quality_plan_version SET status = 'in_review', version = version + 1, updated_at = ? WHERE id = ?",
    )
    .bind(dates::now_timestamp())
    .bind(plan_id)
    .execute(&mut *tx)
    .await?;
    if plan.status != PlanStatus::InReview {
        let b = serde_json::json!({"status": plan.status.code()});
        let a = serde_json::json!({"status": "in_review"});
        audit::record(&mut tx, actor, "status", "quality_plan_version", plan_id, Some(&b), Some(&a)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records the overall decision; from then on the version is frozen.
pub async fn decide_plan(
    db: &Db,
    plan_id: i64,
    version: i64,
    status: PlanStatus,
    reasoning: &str,
    decided_on: Date,
    actor: &str,
) -> Result<(), QualityError> {
    let mut tx = begin(db).await?;
    let plan = plan_in(&mut tx, plan_id).await?.ok_or(QualityError::NotFound)?;
    if plan.status.is_frozen() {
        return Err(frozen_plan(&plan));
    }
    if plan.version != version {
        return Err(QualityError::StalePlan(Box::new(plan)));
    }
    sqlx::query(
        "UPDATE quality_plan_version SET status = ?, decision_reasoning = ?, decided_by = ?, decided_on = ?,
             version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
    )
    .bind(status.code())
    .bind(reasoning)
    .bind(actor)
    .bind(decided_on)
    .bind(dates::now_timestamp())
    .bind(plan_id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    let b = serde_json::json!({"status": plan.status.code()});
    let a = serde_json::json!({"status": status.code(), "decision_reasoning": reasoning, "decided_on": dates::iso(decided_on)});
    audit::record(&mut tx, actor, "decide", "quality_plan_version", plan_id, Some(&b), Some(&a)).await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Follow-up actions

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FollowUpAction {
    pub id: i64,
    pub provider_id: i64,
    pub provider_name: String,
    pub plan_version_id: Option<i64>,
    pub source: ActionSource,
    pub description: String,
    pub owner: String,
    pub created_on: Date,
    pub due_date: Date,
    pub status: ActionStatus,
    pub provider_response: String,
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    provider_id: i64,
    provider_name: String,
    plan_version_id: Option<i64>,
    source: String,
    description: String,
    owner: String,
    created_on: Date,
    due_date: Date,
    status: String,
    provider_response: String,
    version: i64,
}

impl ActionRow {
    fn into_action(self) -> FollowUpAction {
        FollowUpAction {
            id: self.id,
            provider_id: self.provider_id,
            provider_name: self.provider_name,
            plan_version_id: self.plan_version_id,
            source: ActionSource::parse(&self.source).expect("CHECK constraint"),
            description: self.description,
            owner: self.owner,
            created_on: self.created_on,
            due_date: self.due_date,
            status: ActionStatus::parse(&self.status).expect("CHECK constraint"),
            provider_response: self.provider_response,
            version: self.version,
        }
    }
}

const ACTION_SELECT: &str = "SELECT a.id, a.provider_id, p.name AS provider_name, a.plan_version_id, a.source,
        a.description, a.owner, a.created_on, a.due_date, a.status, a.provider_response, a.version
     FROM follow_up_action a JOIN provider p ON p.id = a.provider_id";

/// The actions not closed yet (every provider's), by due date: what the dashboard counts and the list of open
/// actions shows, without the closed ones that pile up over the years.
pub async fn open_actions(db: &Db) -> sqlx::Result<Vec<FollowUpAction>> {
    let open: Vec<String> =
        ActionStatus::ALL.iter().filter(|s| !s.is_closed()).map(|s| format!("'{}'", s.code())).collect();
    let rows: Vec<ActionRow> =
        sqlx::query_as(&format!("{ACTION_SELECT} WHERE a.status IN ({}) ORDER BY a.due_date, a.id", open.join(", ")))
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(ActionRow::into_action).collect())
}

/// All actions (or one provider's), by due date.
pub async fn actions(db: &Db, provider_id: Option<i64>) -> sqlx::Result<Vec<FollowUpAction>> {
    let rows: Vec<ActionRow> =
        sqlx::query_as(&format!("{ACTION_SELECT} WHERE ?1 IS NULL OR a.provider_id = ?1 ORDER BY a.due_date, a.id"))
            .bind(provider_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(ActionRow::into_action).collect())
}

pub async fn action(db: &Db, id: i64) -> sqlx::Result<Option<FollowUpAction>> {
    let row: Option<ActionRow> =
        sqlx::query_as(&format!("{ACTION_SELECT} WHERE a.id = ?")).bind(id).fetch_optional(db).await?;
    Ok(row.map(ActionRow::into_action))
}

pub async fn create_action(
    db: &Db,
    provider_id: i64,
    plan_version_id: Option<i64>,
    d: &ActionDraft,
    created_on: Date,
    actor: &str,
) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO follow_up_action (provider_id, plan_version_id, source, description, owner, created_on, due_date,
             status, provider_response, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(provider_id)
    .bind(plan_version_id)
    .bind(d.source.code())
    .bind(&d.description)
    .bind(&d.owner)
    .bind(created_on)
    .bind(d.due_date)
    .bind(d.status.code())
    .bind(&d.provider_response)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    let mut after = audit::snapshot(d);
    after["provider_id"] = provider_id.into();
    after["plan_version_id"] = plan_version_id.into();
    after["created_on"] = dates::iso(created_on).into();
    audit::record(&mut tx, actor, "create", "follow_up_action", id, None, Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves an edit made on `version` (status, response, due date, description, owner).
pub async fn update_action(db: &Db, id: i64, version: i64, d: &ActionDraft, actor: &str) -> Result<(), QualityError> {
    let mut tx = begin(db).await?;
    let row: Option<ActionRow> =
        sqlx::query_as(&format!("{ACTION_SELECT} WHERE a.id = ?")).bind(id).fetch_optional(&mut *tx).await?;
    let before = row.map(ActionRow::into_action).ok_or(QualityError::NotFound)?;
    if before.version != version {
        return Err(QualityError::StaleAction(Box::new(before)));
    }
    sqlx::query(
        "UPDATE follow_up_action SET source = ?, description = ?, owner = ?, due_date = ?, status = ?, provider_response = ?,
             version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
    )
    .bind(d.source.code())
    .bind(&d.description)
    .bind(&d.owner)
    .bind(d.due_date)
    .bind(d.status.code())
    .bind(&d.provider_response)
    .bind(dates::now_timestamp())
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        "update",
        "follow_up_action",
        id,
        Some(&audit::snapshot(&before)),
        Some(&audit::snapshot(d)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Results per measurement year

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredResult {
    pub id: i64,
    pub provider_id: i64,
    pub result: QualityResult,
}

#[derive(sqlx::FromRow)]
struct ResultRow {
    id: i64,
    provider_id: i64,
    year: i64,
    route: String,
    started: i64,
    completed: i64,
    dropped_out: i64,
    pass_lezen: Option<i64>,
    pass_luisteren: Option<i64>,
    pass_schrijven: Option<i64>,
    pass_spreken: Option<i64>,
    pass_knm: Option<i64>,
    satisfaction: Option<i64>,
    nt2_share: Option<i64>,
    group_size: Option<i64>,
}

impl ResultRow {
    fn into_result(self) -> StoredResult {
        let mut pass_rates = BTreeMap::new();
        for (c, v) in [
            (ExamComponent::Lezen, self.pass_lezen),
            (ExamComponent::Luisteren, self.pass_luisteren),
            (ExamComponent::Schrijven, self.pass_schrijven),
            (ExamComponent::Spreken, self.pass_spreken),
            (ExamComponent::Knm, self.pass_knm),
        ] {
            if let Some(v) = v {
                pass_rates.insert(c, from_hundredths(v));
            }
        }
        StoredResult {
            id: self.id,
            provider_id: self.provider_id,
            result: QualityResult {
                year: self.year as i32,
                route: Route::parse(&self.route).expect("CHECK constraint"),
                started: self.started,
                completed: self.completed,
                dropped_out: self.dropped_out,
                pass_rates,
                satisfaction: self.satisfaction.map(from_hundredths),
                nt2_share: self.nt2_share.map(from_hundredths),
                group_size: self.group_size.map(from_hundredths),
            },
        }
    }
}

/// Results (all, or one provider's), newest year first.
pub async fn results(db: &Db, provider_id: Option<i64>) -> sqlx::Result<Vec<StoredResult>> {
    let rows: Vec<ResultRow> = sqlx::query_as(
        "SELECT id, provider_id, year, route, started, completed, dropped_out, pass_lezen, pass_luisteren, pass_schrijven,
             pass_spreken, pass_knm, satisfaction, nt2_share, group_size
         FROM quality_result WHERE ?1 IS NULL OR provider_id = ?1 ORDER BY provider_id, year DESC, route",
    )
    .bind(provider_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(ResultRow::into_result).collect())
}

/// Each provider's results of its latest year (the dashboard's), not every year since the first.
pub async fn latest_results(db: &Db) -> sqlx::Result<Vec<StoredResult>> {
    let rows: Vec<ResultRow> = sqlx::query_as(
        "SELECT id, provider_id, year, route, started, completed, dropped_out, pass_lezen, pass_luisteren, pass_schrijven,
             pass_spreken, pass_knm, satisfaction, nt2_share, group_size
         FROM quality_result r
         WHERE year = (SELECT MAX(year) FROM quality_result l WHERE l.provider_id = r.provider_id)
         ORDER BY provider_id, year DESC, route",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(ResultRow::into_result).collect())
}

/// The results stored for a provider, year and route, on a caller's connection (for the import engine).
pub async fn result_in(
    conn: &mut super::Conn,
    provider_id: i64,
    year: i32,
    route: Route,
) -> sqlx::Result<Option<(i64, QualityResult)>> {
    let row: Option<ResultRow> = sqlx::query_as(
        "SELECT id, provider_id, year, route, started, completed, dropped_out, pass_lezen, pass_luisteren, pass_schrijven,
             pass_spreken, pass_knm, satisfaction, nt2_share, group_size
         FROM quality_result WHERE provider_id = ? AND year = ? AND route = ?",
    )
    .bind(provider_id)
    .bind(year)
    .bind(route.code())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        let s = r.into_result();
        (s.id, s.result)
    }))
}

/// Stores one provider's results for a year and route, replacing what was there (the audit keeps both).
pub async fn save_result(db: &Db, provider_id: i64, r: &QualityResult, actor: &str) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let id = save_result_in(&mut tx, provider_id, r, actor).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inside a caller's transaction (for the import engine).
pub async fn save_result_in(tx: &mut Tx<'_>, provider_id: i64, r: &QualityResult, actor: &str) -> sqlx::Result<i64> {
    let before: Option<ResultRow> = sqlx::query_as(
        "SELECT id, provider_id, year, route, started, completed, dropped_out, pass_lezen, pass_luisteren, pass_schrijven,
             pass_spreken, pass_knm, satisfaction, nt2_share, group_size
         FROM quality_result WHERE provider_id = ? AND year = ? AND route = ?",
    )
    .bind(provider_id)
    .bind(r.year)
    .bind(r.route.code())
    .fetch_optional(&mut **tx)
    .await?;
    let rate = |c: ExamComponent| r.pass_rates.get(&c).map(|v| to_hundredths(*v));
    let now = dates::now_timestamp();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO quality_result (provider_id, year, route, started, completed, dropped_out, pass_lezen, pass_luisteren,
             pass_schrijven, pass_spreken, pass_knm, satisfaction, nt2_share, group_size, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (provider_id, year, route) DO UPDATE SET started = excluded.started, completed = excluded.completed,
             dropped_out = excluded.dropped_out, pass_lezen = excluded.pass_lezen, pass_luisteren = excluded.pass_luisteren,
             pass_schrijven = excluded.pass_schrijven, pass_spreken = excluded.pass_spreken, pass_knm = excluded.pass_knm,
             satisfaction = excluded.satisfaction, nt2_share = excluded.nt2_share, group_size = excluded.group_size,
             version = version + 1, updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(provider_id)
    .bind(r.year)
    .bind(r.route.code())
    .bind(r.started)
    .bind(r.completed)
    .bind(r.dropped_out)
    .bind(rate(ExamComponent::Lezen))
    .bind(rate(ExamComponent::Luisteren))
    .bind(rate(ExamComponent::Schrijven))
    .bind(rate(ExamComponent::Spreken))
    .bind(rate(ExamComponent::Knm))
    .bind(r.satisfaction.map(to_hundredths))
    .bind(r.nt2_share.map(to_hundredths))
    .bind(r.group_size.map(to_hundredths))
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    let before = before.map(|b| audit::snapshot(&b.into_result().result));
    let mut after = audit::snapshot(r);
    after["provider_id"] = provider_id.into();
    let action = if before.is_some() { "update" } else { "create" };
    audit::record(tx, actor, action, "quality_result", id, before.as_ref(), Some(&after)).await?;
    Ok(id)
}
