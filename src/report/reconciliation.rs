//! The reconciliation (aansluiting) per funding stream and year: available, actual, committed, remaining.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::commitment::placement_payments;
use crate::domain::funding::{
    budget_overrun, granted_by_year, year_figures, BudgetLine, ContractYear, FundingStream, YearFigures,
};
use crate::money::Money;
use crate::store::{self, Db};

/// One stream with its figures for the requested years and its budget lines.
#[derive(Clone, Debug, Serialize)]
pub struct StreamReconciliation {
    pub stream: FundingStream,
    pub years: Vec<YearFigures>,
    pub budget_lines: Vec<BudgetLine>,
    /// Per year, how much the budget lines exceed what is available.
    pub overruns: BTreeMap<i32, Money>,
}

/// Expected payments per (stream, contract, year) from placements, through each cohort's default stream.
pub async fn expected_by_stream(db: &Db) -> sqlx::Result<BTreeMap<ContractYear, Money>> {
    let contracts = store::contracts::list(db).await?;
    let placements = store::placements::list(db, None).await?;
    let cohort_streams = store::funding::cohort_streams(db).await?;
    let mut out: BTreeMap<ContractYear, Money> = BTreeMap::new();
    for p in &placements {
        let (Some(stream), Some(contract)) =
            (cohort_streams.get(&p.cohort), contracts.iter().find(|c| c.id == p.contract_id))
        else {
            continue;
        };
        for payment in placement_payments(&contract.terms, p.route, &p.schedule).unwrap_or_default() {
            *out.entry((*stream, contract.id, payment.due_date.year())).or_default() += payment.amount;
        }
    }
    Ok(out)
}

/// Figures for every stream over `years`. Actual spend per stream and contract comes from attributed
/// ledger lines (`invoiced`), keyed like the expected payments.
pub async fn build(
    db: &Db,
    years: std::ops::RangeInclusive<i32>,
    actual_by_stream: &BTreeMap<(i64, i32), Money>,
    invoiced: &BTreeMap<ContractYear, Money>,
) -> sqlx::Result<Vec<StreamReconciliation>> {
    let streams = store::funding::streams(db).await?;
    let allocations = store::funding::allocations(db, None).await?;
    let lines = store::funding::budget_lines(db, None).await?;
    let committed = crate::domain::funding::committed_by_stream_year(&expected_by_stream(db).await?, invoiced);
    Ok(streams
        .into_iter()
        .map(|(stream, _)| {
            let own: Vec<_> = allocations.iter().filter(|a| a.stream_id == stream.id).cloned().collect();
            let granted = granted_by_year(&own);
            let pick = |m: &BTreeMap<(i64, i32), Money>| -> BTreeMap<i32, Money> {
                m.iter().filter(|((s, _), _)| *s == stream.id).map(|((_, y), v)| (*y, *v)).collect()
            };
            let figures = year_figures(&stream, &granted, &pick(actual_by_stream), &pick(&committed), years.clone());
            let budget_lines: Vec<BudgetLine> =
                lines.iter().filter(|l| l.stream_id == stream.id && years.contains(&l.year)).cloned().collect();
            let overruns = figures
                .iter()
                .filter_map(|f| {
                    let of_year: Vec<BudgetLine> = budget_lines.iter().filter(|l| l.year == f.year).cloned().collect();
                    budget_overrun(&of_year, f.available).map(|o| (f.year, o))
                })
                .collect();
            StreamReconciliation { stream, years: figures, budget_lines, overruns }
        })
        .collect())
}
