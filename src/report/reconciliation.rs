//! The reconciliation (aansluiting) per funding stream and year: available, actual, committed, remaining.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::domain::commitment::Commitments;
use crate::domain::dates;
use crate::domain::funding::{
    budget_overrun, granted_by_year, left_at_period_end, looks_ahead_from, year_figures, BudgetLine, FundingStream,
    YearFigures,
};
use crate::money::Money;
use crate::report::kept::Kept;
use crate::store::contracts::Contract;
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

/// What the reconciliation reads of the funding set-up: the streams, their allocations and budget lines (a few
/// dozen rows), read once per request however many years it shows.
pub struct FundingInputs {
    streams: Vec<(FundingStream, i64)>,
    allocations: Vec<crate::domain::funding::Allocation>,
    lines: Vec<BudgetLine>,
}

impl FundingInputs {
    pub async fn load(db: &Db) -> sqlx::Result<FundingInputs> {
        Ok(FundingInputs {
            streams: store::funding::streams(db).await?,
            allocations: store::funding::allocations(db, None).await?,
            lines: store::funding::budget_lines(db, None).await?,
        })
    }
}

/// Figures for every stream over `years`: actual spend per stream from attributed ledger lines, committed from
/// the commitments (see `domain::commitment`).
pub async fn build(
    db: &Db,
    years: std::ops::RangeInclusive<i32>,
    actual_by_stream: &BTreeMap<(i64, i32), Money>,
    commitments: &Commitments,
) -> sqlx::Result<Vec<StreamReconciliation>> {
    Ok(build_from(&FundingInputs::load(db).await?, years, actual_by_stream, commitments))
}

/// [`build`] on funding inputs already read.
pub fn build_from(
    inputs: &FundingInputs,
    years: std::ops::RangeInclusive<i32>,
    actual_by_stream: &BTreeMap<(i64, i32), Money>,
    commitments: &Commitments,
) -> Vec<StreamReconciliation> {
    let (allocations, lines) = (&inputs.allocations, &inputs.lines);
    let committed: BTreeMap<(i64, i32), Money> =
        commitments.per_stream_year().into_iter().filter_map(|((s, y), c)| s.map(|s| ((s, y), c.open()))).collect();
    inputs
        .streams
        .iter()
        .map(|(stream, _)| {
            let stream = stream.clone();
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
        .collect()
}

/// One stream in the year report (the JSON of `report reconciliation`).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StreamYear {
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The stream's last spending day, for the signals page.
    #[serde(skip)]
    pub spend_until: Option<time::Date>,
    pub available: Money,
    pub actual: Money,
    /// overdue + to come.
    pub committed: Money,
    /// Of the commitments: fell due on or before today, not invoiced ("vervallen, niet gefactureerd").
    pub overdue: Money,
    /// Of the commitments: falls due later ("nog te betalen").
    pub to_come: Money,
    pub remaining: Money,
    pub budget_lines: Vec<BudgetLineYear>,
}

/// Commitments of the year that no stream carries: placements of a cohort without a default stream.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Unfunded {
    pub committed: Money,
    pub overdue: Money,
    pub to_come: Money,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BudgetLineYear {
    pub category: String,
    pub amount: Money,
    pub actual: Money,
}

/// What the ids of a signal point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagSubject {
    LedgerLines,
    Placements,
    Contracts,
    Streams,
}

impl FlagSubject {
    /// "1 regel", "3 plaatsingen".
    pub fn count(self, n: usize) -> String {
        let (one, many) = match self {
            FlagSubject::LedgerLines => ("grootboekregel", "grootboekregels"),
            FlagSubject::Placements => ("plaatsing", "plaatsingen"),
            FlagSubject::Contracts => ("contract", "contracten"),
            FlagSubject::Streams => ("bron", "bronnen"),
        };
        crate::domain::words::count(n, one, many)
    }
}

/// A signal with what is behind it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Flag {
    pub code: &'static str,
    pub title: &'static str,
    pub subject: FlagSubject,
    pub count: usize,
    pub total: Money,
    /// Ids of the ledger lines, placements, contracts or streams behind the signal (see `subject`).
    pub ids: Vec<i64>,
    /// The amount of each, in the order of `ids`.
    pub amounts: Vec<Money>,
}

/// The reconciliation of one year: every stream, the unattributed queue and the signals.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct YearReport {
    pub year: i32,
    pub imported_total: Money,
    pub unattributed: Money,
    pub streams: Vec<StreamYear>,
    /// "Zonder financieringsbron": a row of its own wherever commitments are totalled.
    pub unfunded: Unfunded,
    pub flags: Vec<Flag>,
}

impl YearReport {
    pub fn attributed_total(&self) -> Money {
        self.streams.iter().map(|s| s.actual).sum()
    }

    /// Every commitment of the year, the unfunded ones included.
    pub fn committed_total(&self) -> Money {
        self.streams.iter().map(|s| s.committed).sum::<Money>() + self.unfunded.committed
    }

    /// Of all commitments of the year: fell due on or before today, not invoiced.
    pub fn overdue_total(&self) -> Money {
        self.streams.iter().map(|s| s.overdue).sum::<Money>() + self.unfunded.overdue
    }

    /// Of all commitments of the year: fall due later.
    pub fn to_come_total(&self) -> Money {
        self.streams.iter().map(|s| s.to_come).sum::<Money>() + self.unfunded.to_come
    }
}

/// The signals on ledger lines and placements of one year (spend without a contract, outside the spending
/// period, on a stream that does not fit the cohort; placements without a mark), kept per year at one value of
/// `store::attribution::inputs_version`: they read every line of the year, and nothing they read moves without
/// moving that counter.
pub type LineFlagsCache = Kept<(i64, i32), Vec<Flag>>;

pub async fn for_year(db: &Db, year: i32) -> sqlx::Result<YearReport> {
    Ok(for_years(db, &[year], None, None).await?.remove(0))
}

/// The reconciliation of each of `years`, in that order: the ledger's sums and the commitments read once for all;
/// the line signals from `kept` and the commitments from `portfolio` when given (None: computed afresh).
pub async fn for_years(
    db: &Db,
    years: &[i32],
    kept: Option<&LineFlagsCache>,
    portfolio: Option<&super::commitments::PortfolioCache>,
) -> sqlx::Result<Vec<YearReport>> {
    // Read before anything the kept signals are computed from (see `Kept::get`).
    let (ledger_version, overview_version) = store::attribution::inputs_version(db).await?;
    let sums = store::attribution::sums(db).await?;
    let today = dates::today();
    let portfolio = super::commitments::portfolio(db, portfolio, today).await?;
    let commitments = &portfolio.commitments;
    // The portfolio's contracts are current: it is kept at a counter every change to a contract moves.
    let contracts = &portfolio.contracts;
    let funding = FundingInputs::load(db).await?;
    let mut out = Vec::with_capacity(years.len());
    for &year in years {
        let line_flags = match kept {
            None => Arc::new(line_flags(db, year).await?),
            Some(kept) => kept.get(ledger_version, (overview_version, year), || line_flags(db, year)).await?,
        };
        out.push(year_report(&funding, year, today, &sums, commitments, contracts, &line_flags));
    }
    Ok(out)
}

fn year_report(
    funding: &FundingInputs,
    year: i32,
    today: time::Date,
    sums: &store::attribution::LedgerSums,
    commitments: &Commitments,
    contracts: &[Contract],
    line_flags: &[Flag],
) -> YearReport {
    let streams = build_from(funding, year..=year, &sums.actual_by_stream, commitments);
    let per_stream = commitments.per_stream_year();
    let part = |stream: Option<i64>| per_stream.get(&(stream, year)).copied().unwrap_or_default();
    let streams_out = streams
        .iter()
        .map(|r| {
            let f = r.years.first().cloned().unwrap_or_default();
            let c = part(Some(r.stream.id));
            StreamYear {
                id: r.stream.id,
                code: r.stream.code.clone(),
                name: r.stream.name.clone(),
                spend_until: r.stream.spend_until,
                available: f.available,
                actual: f.actual,
                committed: f.committed,
                overdue: c.overdue,
                to_come: c.to_come,
                remaining: f.remaining,
                budget_lines: r
                    .budget_lines
                    .iter()
                    .filter(|l| l.year == year)
                    .map(|l| BudgetLineYear {
                        category: l.category.clone(),
                        amount: l.amount,
                        actual: sums.by_budget_line.get(&(l.id, year)).copied().unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    let flags = flags(year, today, &streams, commitments, contracts, line_flags);
    YearReport {
        year,
        imported_total: sums.imported.get(&year).copied().unwrap_or_default(),
        unattributed: sums.unattributed.get(&year).copied().unwrap_or_default(),
        streams: streams_out,
        unfunded: {
            let c = part(None);
            Unfunded { committed: c.open(), overdue: c.overdue, to_come: c.to_come }
        },
        flags,
    }
}

/// A signal named `code` with what is behind it, or nothing when nothing is.
fn flag(code: &'static str, title: &'static str, subject: FlagSubject, picked: Vec<(i64, Money)>) -> Option<Flag> {
    (!picked.is_empty()).then(|| Flag {
        code,
        title,
        subject,
        count: picked.len(),
        total: picked.iter().map(|(_, m)| *m).sum(),
        ids: picked.iter().map(|(i, _)| *i).collect(),
        amounts: picked.iter().map(|(_, m)| *m).collect(),
    })
}

/// The year's signals in their order: overspending, then the line and placement signals (`line_flags`), then the
/// commitments' ones.
fn flags(
    year: i32,
    today: time::Date,
    streams: &[StreamReconciliation],
    commitments: &Commitments,
    contracts: &[Contract],
    line_flags: &[Flag],
) -> Vec<Flag> {
    // Overspending: more spent than available, or less than nothing left once commitments count.
    let overspent: Vec<(i64, Money)> = streams
        .iter()
        .filter_map(|r| {
            let f = r.years.iter().find(|f| f.year == year)?;
            let above = f.actual - f.available;
            let short = -f.remaining;
            let worst = if above > short { above } else { short };
            (worst > Money::ZERO).then_some((r.stream.id, worst))
        })
        .collect();
    let mut out: Vec<Flag> = flag(
        "stream_overspent",
        "Bronnen met meer realisatie dan beschikbaar of een negatief resterend bedrag (overbesteding)",
        FlagSubject::Streams,
        overspent,
    )
    .into_iter()
    .chain(line_flags.iter().cloned())
    .collect();
    let mut push = |code, title, subject, picked: Vec<(i64, Money)>| out.extend(flag(code, title, subject, picked));
    // Money that will be left when the spending period ends soon: see PERIOD_END_WARNING_MONTHS for the six.
    let from = looks_ahead_from(year, today);
    let period_ending: Vec<(i64, Money)> = streams
        .iter()
        .filter_map(|r| {
            let f = r.years.iter().find(|f| f.year == year)?;
            left_at_period_end(&r.stream, f, from).map(|(_, left)| (r.stream.id, left))
        })
        .collect();
    push(
        "spending_period_ending",
        "Bronnen met geld over terwijl de bestedingsperiode binnen zes maanden eindigt",
        FlagSubject::Streams,
        period_ending,
    );
    // Commitments no stream carries: per placement, its payments of the year that no invoice matches.
    let mut unfunded: BTreeMap<i64, Money> = BTreeMap::new();
    for (_, open) in commitments.open.iter().filter(|((s, _, y), _)| s.is_none() && *y == year) {
        for &(i, m) in open {
            *unfunded.entry(commitments.payments[i].placement).or_default() += m;
        }
    }
    push(
        "unfunded_commitments",
        "Verplichtingen zonder financieringsbron (een doelgroep zonder standaardbron)",
        FlagSubject::Placements,
        unfunded.into_iter().collect(),
    );
    // Per stream: an invoice on one stream does not pay for a payment another stream (or none) was to fund.
    let over: Vec<(i64, Money)> = contracts
        .iter()
        .filter_map(|c| {
            let above: Money =
                commitments.of_contract(c.id).filter(|((_, _, y), _)| *y == year).map(|(_, x)| x.over_invoiced()).sum();
            (!above.is_zero()).then_some((c.id, above))
        })
        .collect();
    push(
        "contract_above_expected",
        "Contracten met meer gefactureerd dan verwacht (per bron en jaar)",
        FlagSubject::Contracts,
        over,
    );
    out
}

/// The signals on the year's ledger lines and placements: everything here reads every line of the year.
async fn line_flags(db: &Db, year: i32) -> sqlx::Result<Vec<Flag>> {
    use crate::domain::certification::holds_valid_mark;
    let lines =
        store::attribution::lines(db, &store::attribution::LineFilter { year: Some(year), ..Default::default() })
            .await?;
    let streams: Vec<FundingStream> = store::funding::streams(db).await?.into_iter().map(|(s, _)| s).collect();
    let contracts = store::contracts::list(db).await?;
    let links: BTreeMap<String, i64> =
        store::attribution::creditor_links(db).await?.into_iter().map(|(c, p, _)| (c, p)).collect();
    let placements = store::placements::list(db, None).await?;
    let decisions = store::certifications::all_by_provider(db).await?;
    let stream_by_code = |code: &Option<String>| streams.iter().find(|s| Some(&s.code) == code.as_ref());
    // The cohorts placed under each contract, by reference (what a line names), worked out once for all lines.
    let mut cohorts_of: HashMap<&str, Vec<_>> = HashMap::new();
    for c in &contracts {
        // The first contract with a reference is the one a line's reference finds.
        cohorts_of
            .entry(c.reference.as_str())
            .or_insert_with(|| placements.iter().filter(|p| p.contract_id == c.id).map(|p| p.cohort).collect());
    }
    let mut out = Vec::new();
    let mut push = |code, title, subject, picked: Vec<(i64, Money)>| out.extend(flag(code, title, subject, picked));
    // Procurement legality: spend on a creditor without a contract covering the booking date.
    let no_contract: Vec<(i64, Money)> = lines
        .iter()
        .filter(|l| !l.creditor_number.trim().is_empty())
        .filter(|l| {
            let provider = links.get(l.creditor_number.trim());
            !contracts.iter().any(|c| {
                Some(&c.provider_id) == provider
                    && c.terms.period.current_end() >= l.booking_date
                    && c.terms.period.start_date <= l.booking_date
            })
        })
        .map(|l| (l.id, l.amount()))
        .collect();
    push(
        "creditor_without_contract",
        "Uitgaven bij een crediteur zonder contract op de boekdatum (rechtmatigheidsrisico)",
        FlagSubject::LedgerLines,
        no_contract,
    );
    let outside: Vec<(i64, Money)> = lines
        .iter()
        .filter(|l| stream_by_code(&l.stream_code).is_some_and(|s| !s.in_spending_period(l.booking_date)))
        .map(|l| (l.id, l.amount()))
        .collect();
    push(
        "outside_spending_period",
        "Uitgaven buiten de bestedingsperiode van de bron",
        FlagSubject::LedgerLines,
        outside,
    );
    let cohort_mismatch: Vec<(i64, Money)> = lines
        .iter()
        .filter(|l| {
            let (Some(s), Some(reference)) = (stream_by_code(&l.stream_code), &l.contract_reference) else {
                return false;
            };
            let Some(cohorts) = cohorts_of.get(reference.as_str()) else { return false };
            !cohorts.is_empty() && !cohorts.iter().any(|co| s.allows_cohort(*co))
        })
        .map(|l| (l.id, l.amount()))
        .collect();
    push(
        "cohort_mismatch",
        "Uitgaven op een bron die niet past bij de doelgroep van de plaatsingen",
        FlagSubject::LedgerLines,
        cohort_mismatch,
    );
    let none = Vec::new();
    let without_mark: Vec<(i64, Money)> = placements
        .iter()
        .filter(|p| p.schedule.start_date.year() == year)
        .filter(|p| {
            contracts.iter().find(|c| c.id == p.contract_id).is_some_and(|c| {
                p.route.needs_mark()
                    && !holds_valid_mark(decisions.get(&c.provider_id).unwrap_or(&none), p.schedule.start_date)
            })
        })
        .map(|p| (p.id, Money::ZERO))
        .collect();
    push(
        "placement_without_mark",
        "Plaatsingen bij een aanbieder zonder geldig keurmerk op de startdatum",
        FlagSubject::Placements,
        without_mark,
    );
    Ok(out)
}
