//! What the attribution rules hold now and what applying them again would move, kept behind the ledger's counters.

use std::sync::Arc;

use super::kept::Kept;
use crate::domain::attribution::Plan;
use crate::store::{self, Db};

/// The plan of applying the current rules (one pass over the whole ledger), kept at one value of
/// `store::attribution::inputs_version`: the lines, their attributions, the rules, creditor links, closed years and
/// contracts with their options all move one of its two counters.
pub type PlanCache = Kept<i64, Plan>;

/// `store::attribution::plan_apply`, from `kept` while nothing it reads has changed.
pub async fn plan_now(db: &Db, kept: &PlanCache) -> sqlx::Result<Arc<Plan>> {
    // Read before the plan's inputs (see `Kept::get`).
    let (ledger_version, overview_version) = store::attribution::inputs_version(db).await?;
    kept.get(ledger_version, overview_version, || store::attribution::plan_apply(db)).await
}
