//! Attendance per contract and year against the contract's own norm (its progress terms): the one function behind
//! the table on the contract page and the indicators (issue 25), so both say the same.

use std::sync::Arc;

use crate::domain::small_cell::SmallCells;
use crate::report::kept::Kept;
use crate::store::{self, Db};

pub use crate::store::progress::ContractHours;

/// Every contract's hours per year, kept at one value of `progress_inputs_version` (its triggers move on every
/// change to reports, placements, contracts, their norms included, and providers). Summing the reports costs
/// about half a second at ten times a big city (400,000 reports); the pages then read the kept sums.
pub type ContractAttendanceCache = Kept<(), Vec<ContractHours>>;

/// Each contract's reported hours per year with its norm, ordered by year and reference; from the cache while
/// its inputs did not change (the command line passes None and sums afresh). A report counts in the year its
/// period starts in, as on the scorecard, so a provider's contracts add up to the scorecard's attended and
/// offered hours of that provider.
pub async fn per_year(db: &Db, cache: Option<&ContractAttendanceCache>) -> sqlx::Result<Arc<Vec<ContractHours>>> {
    match cache {
        None => Ok(Arc::new(store::progress::hours_per_contract_year(db).await?)),
        Some(cache) => {
            cache
                .get(store::progress::inputs_version(db).await?, (), || store::progress::hours_per_contract_year(db))
                .await
        }
    }
}

/// Whether the small-cell rule hides a contract's attendance and outcome from the viewer: the line is about 1 to 4
/// `placements` with a report (as `report::scorecard::hidden` hides a scorecard line's attendance).
pub fn hidden(cells: SmallCells, placements: u32) -> bool {
    cells.hides(placements)
}
