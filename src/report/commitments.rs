//! The commitments read from the store: contracts, placements, each cohort's stream and what was invoiced,
//! put through the one definition in `domain::commitment`. The contract page, the contracts list, the start
//! page and the reconciliation read them here; the multi-year overview uses the same two functions on the
//! inputs it keeps.

use std::collections::{BTreeMap, HashMap};

use time::Date;

use crate::domain::commitment::{
    commitments, contract_figures, funded_payments, Commitments, ContractFigures, FundedPayment,
};
use crate::domain::funding::ContractYear;
use crate::domain::route::Cohort;
use crate::money::Money;
use crate::store::contracts::Contract;
use crate::store::overview::SpendRow;
use crate::store::placements::Placement;
use crate::store::{self, Db};

/// Every placement's expected payments, funded by its cohort's default stream (None when the cohort has none).
pub fn payments_of(
    contracts: &[Contract],
    placements: &[Placement],
    cohort_streams: &HashMap<Cohort, i64>,
) -> Vec<FundedPayment> {
    let by_id: HashMap<i64, &Contract> = contracts.iter().map(|c| (c.id, c)).collect();
    let mut out = Vec::new();
    for p in placements {
        let Some(c) = by_id.get(&p.contract_id) else { continue };
        let stream = cohort_streams.get(&p.cohort).copied();
        out.extend(funded_payments(&c.terms, c.id, p.id, p.route, &p.schedule, stream).unwrap_or_default());
    }
    out
}

/// What was invoiced per (stream, contract, booking year), from the kept spend aggregates.
pub fn invoiced_of(spend: &[SpendRow]) -> BTreeMap<ContractYear, Money> {
    let mut out: BTreeMap<ContractYear, Money> = BTreeMap::new();
    for s in spend {
        if let Some(c) = s.contract_id {
            *out.entry((s.stream_id, c, s.year)).or_default() += s.amount;
        }
    }
    out
}

/// Contracts with their placements and commitments.
pub struct Portfolio {
    pub contracts: Vec<Contract>,
    pub placements: Vec<Placement>,
    pub commitments: Commitments,
}

impl Portfolio {
    /// The figures of one contract of the portfolio.
    pub fn figures(&self, c: &Contract) -> ContractFigures {
        let ps = self.placements.iter().filter(|p| p.contract_id == c.id).map(|p| (p.route, &p.schedule));
        contract_figures(c.id, &c.terms, ps, &self.commitments, self.commitments.today)
    }
}

/// Every contract (or only `contract`) with its commitments as of `today`.
pub async fn load(db: &Db, contract: Option<i64>, today: Date) -> sqlx::Result<Portfolio> {
    let contracts = match contract {
        Some(id) => store::contracts::get(db, id).await?.into_iter().collect(),
        None => store::contracts::list(db).await?,
    };
    let placements = store::placements::list(db, contract).await?;
    let cohort_streams = store::funding::cohort_streams(db).await?;
    let mut invoiced = invoiced_of(&store::overview::spend(db).await?);
    if let Some(id) = contract {
        invoiced.retain(|(_, c, _), _| *c == id);
    }
    let commitments = commitments(payments_of(&contracts, &placements, &cohort_streams).into(), &invoiced, today);
    Ok(Portfolio { contracts, placements, commitments })
}
