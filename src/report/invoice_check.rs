//! The invoice check of one contract and period read from the store: the expected payments from the kept
//! portfolio, the reports and client numbers of only the placements with something in the period, put through
//! `domain::invoice_check`.

use std::collections::BTreeMap;

use super::commitments::{portfolio, PortfolioCache};
use crate::domain::dates;
use crate::domain::invoice_check::{check, InvoiceCheck, PlacementInput};
use crate::domain::placement::ExpectedPayment;
use crate::domain::progress::{Period, Report};
use crate::store::{self, Db};

/// The check of `contract_id` over `period` (None when the contract does not exist). The payments come from the
/// portfolio kept in `cache` (every placement's payment schedule, computed once per change to what it depends
/// on), or computed afresh without one; the reports are those of the period and each due placement's first report
/// with attendance (see `store::progress::reports_for_check`).
pub async fn load(
    db: &Db,
    cache: Option<&PortfolioCache>,
    contract_id: i64,
    period: Period,
) -> sqlx::Result<Option<InvoiceCheck>> {
    let Some(terms) = store::progress::progress_terms(db, contract_id).await? else { return Ok(None) };
    let portfolio = portfolio(db, cache, dates::today()).await?;
    if portfolio.contract(contract_id).is_none() {
        return Ok(None);
    }
    // Only the payments due in the period count (see `domain::invoice_check::check`).
    let mut payments: BTreeMap<i64, Vec<ExpectedPayment>> = BTreeMap::new();
    for p in portfolio.commitments.payments.iter().filter(|p| p.contract == contract_id && period.contains(p.due)) {
        payments.entry(p.placement).or_default().push(ExpectedPayment {
            milestone: p.milestone.clone(),
            due_date: p.due,
            amount: p.amount,
        });
    }
    let due: Vec<i64> = payments.keys().copied().collect();
    let mut reports =
        store::progress::by_placement(store::progress::reports_for_check(db, contract_id, period, &due).await?);
    let mut ids = due;
    ids.extend(reports.keys().copied().filter(|id| !payments.contains_key(id)));
    // Newest first, as the contract's placements are listed: the check keeps that order among equal client numbers.
    let inputs: Vec<(i64, String, Vec<ExpectedPayment>, Vec<Report>)> =
        store::placements::client_numbers_newest_first(db, &ids)
            .await?
            .into_iter()
            .map(|(id, client)| {
                (id, client, payments.remove(&id).unwrap_or_default(), reports.remove(&id).unwrap_or_default())
            })
            .collect();
    let inputs = inputs.iter().map(|(id, client, pay, rep)| PlacementInput {
        placement_id: *id,
        client_number: client,
        payments: pay,
        reports: rep,
    });
    let invoiced = store::progress::invoiced(db, contract_id, period).await?;
    Ok(Some(check(period, inputs, terms.rates, invoiced)))
}
