//! Attendance per contract and year against the contract's own norm (its progress terms): the one function behind
//! the table on the contract page and the indicators (issue 25), so both say the same.

use crate::domain::small_cell::SmallCells;
use crate::store::{self, Db};

pub use crate::store::progress::ContractHours;

/// Each contract's reported hours per year with its norm (all contracts, or one), ordered by year and reference.
/// A report counts in the year its period starts in, as on the scorecard, so a provider's contracts add up to
/// the scorecard's attended and offered hours of that provider.
pub async fn per_year(db: &Db, contract_id: Option<i64>) -> sqlx::Result<Vec<ContractHours>> {
    store::progress::hours_per_contract_year(db, contract_id).await
}

/// Whether the small-cell rule hides a contract's attendance and outcome from the viewer: the line is about 1 to 4
/// `placements` with a report (as `report::scorecard::hidden` hides a scorecard line's attendance).
pub fn hidden(cells: SmallCells, placements: u32) -> bool {
    cells.hides(placements)
}
