//! The commitments read from the store: contracts, placements, each cohort's stream and what was invoiced,
//! put through the one definition in `domain::commitment`. The contract pages, the contracts list, the start
//! page and the reconciliation read them here; the multi-year overview uses the same two functions on the
//! inputs it keeps. A server keeps the computed portfolio per day behind `commitment_inputs_version` (see
//! [`super::kept`]): every figure here is computed from all placements, so it is computed once per change.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use time::Date;

use super::kept::Kept;
use crate::domain::commitment::{
    ceiling_reached_since, commitments, contract_figures, funded_payments, Commitments, ContractFigures, FundedPayment,
};
use crate::domain::contract::CeilingLevel;
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

/// A placement that is running (started or ongoing), with what the start page counts of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Running {
    pub id: i64,
    pub contract_id: i64,
    pub pip_date: Option<Date>,
}

/// Contracts with their commitments and figures as of `today`.
pub struct Portfolio {
    pub today: Date,
    pub contracts: Vec<Contract>,
    pub commitments: Commitments,
    /// Each contract's figures, in the order of `contracts`.
    figures: Vec<ContractFigures>,
    /// The running placements of these contracts.
    pub running: Vec<Running>,
    /// Since when each contract over its ceiling has been over it, read from its ledger lines when first asked.
    reached: Mutex<HashMap<i64, Option<Date>>>,
}

/// Portfolios per day, kept at one value of `commitment_inputs_version`.
pub type PortfolioCache = Kept<Date, Portfolio>;

impl Portfolio {
    /// Each contract with its figures.
    pub fn with_figures(&self) -> impl Iterator<Item = (&Contract, &ContractFigures)> {
        self.contracts.iter().zip(&self.figures)
    }

    /// One contract with its figures (None when it is not in the portfolio).
    pub fn contract(&self, id: i64) -> Option<(&Contract, &ContractFigures)> {
        self.with_figures().find(|(c, _)| c.id == id)
    }

    /// Since when the contract's ceiling has been reached (None while it is not exceeded).
    pub async fn reached_since(&self, db: &Db, c: &Contract, f: &ContractFigures) -> sqlx::Result<Option<Date>> {
        if f.level != CeilingLevel::Exceeded {
            return Ok(None);
        }
        if let Some(since) = self.reached.lock().expect("reached lock").get(&c.id) {
            return Ok(*since);
        }
        let invoices = store::attribution::contract_invoices(db, c.id).await?;
        let since = ceiling_reached_since(c.terms.ceiling, c.id, &self.commitments.payments, &invoices, self.today);
        self.reached.lock().expect("reached lock").insert(c.id, since);
        Ok(since)
    }
}

/// Every contract with its commitments as of `today`: kept in `cache` until one of its inputs changes, or
/// computed afresh without one.
pub async fn portfolio(db: &Db, cache: Option<&PortfolioCache>, today: Date) -> sqlx::Result<Arc<Portfolio>> {
    match cache {
        None => Ok(Arc::new(load(db, None, today).await?)),
        Some(cache) => {
            let version = store::contracts::commitment_inputs_version(db).await?;
            cache.get(version, today, || load(db, None, today)).await
        }
    }
}

/// Every contract (or only `contract`) with its commitments as of `today`, computed afresh.
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
    let mut on_contract: HashMap<i64, Vec<&Placement>> = HashMap::new();
    for p in &placements {
        on_contract.entry(p.contract_id).or_default().push(p);
    }
    let figures = contracts
        .iter()
        .map(|c| {
            let ps = on_contract.get(&c.id).into_iter().flatten().map(|p| (p.route, &p.schedule));
            contract_figures(c.id, &c.terms, ps, &commitments, today)
        })
        .collect();
    let running = placements
        .iter()
        .filter(|p| p.schedule.status.running())
        .map(|p| Running { id: p.id, contract_id: p.contract_id, pip_date: p.pip_date })
        .collect();
    Ok(Portfolio { today, contracts, commitments, figures, running, reached: Default::default() })
}
