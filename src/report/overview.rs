//! The multi-year overview: per funding stream, route, provider and contract, per year: available, actual,
//! committed, forecast and remaining, with totals; the drill-down behind every figure; and the comparison
//! with a frozen snapshot. Actual spend comes from the kept aggregates, never from the ledger itself.
//!
//! Every amount is first laid out as an [`Atom`] (one kind of money for one year, stream, contract and
//! route); each view groups the same atoms by its own key, so all views add up to the same totals and a
//! drill-down lists exactly the atoms behind a figure.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::domain::commitment::{commitments, split_over_routes, FundedPayment};
use crate::domain::forecast::{self, InflowGroup, RoutePricing, Scenario, Variant, FORECAST_ROUTES};
use crate::domain::funding::{granted_by_year, year_figures, FundingStream};
use crate::domain::route::{Cohort, Route};
use crate::money::Money;
use crate::store::overview::{SnapshotRow, SpendRow};
use crate::store::{self, Db};

/// What an overview shows (the URL's filters).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OverviewParams {
    pub years: std::ops::RangeInclusive<i32>,
    pub scenario_id: Option<i64>,
    pub variant: Variant,
    /// First inflow year the forecast counts (earlier inflow is placed already: commitments).
    pub forecast_from: i32,
    /// Only this stream (its code).
    pub stream: Option<String>,
    pub snapshot_id: Option<i64>,
}

/// The views an overview has, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    Stream,
    Route,
    Provider,
    Contract,
}

impl ViewKind {
    pub const ALL: [ViewKind; 4] = [ViewKind::Stream, ViewKind::Route, ViewKind::Provider, ViewKind::Contract];

    pub fn code(self) -> &'static str {
        match self {
            ViewKind::Stream => "stream",
            ViewKind::Route => "route",
            ViewKind::Provider => "provider",
            ViewKind::Contract => "contract",
        }
    }

    pub fn parse(code: &str) -> Option<ViewKind> {
        ViewKind::ALL.into_iter().find(|v| v.code() == code.trim())
    }

    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Stream => "Per financieringsbron",
            ViewKind::Route => "Per leerroute",
            ViewKind::Provider => "Per taalaanbieder",
            ViewKind::Contract => "Per contract",
        }
    }

    pub fn sheet(self) -> &'static str {
        match self {
            ViewKind::Stream => "Per bron",
            ViewKind::Route => "Per route",
            ViewKind::Provider => "Per aanbieder",
            ViewKind::Contract => "Per contract",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AtomKind {
    Actual,
    Committed,
    Forecast,
}

impl AtomKind {
    pub fn label(self) -> &'static str {
        match self {
            AtomKind::Actual => "Realisatie",
            AtomKind::Committed => "Verplichting",
            AtomKind::Forecast => "Prognose",
        }
    }
}

/// One amount with everything it can be grouped by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Atom {
    pub kind: AtomKind,
    pub year: i32,
    pub stream_id: Option<i64>,
    pub contract_id: Option<i64>,
    pub route: Option<Route>,
    pub amount: Money,
    /// A commitment that fell due on or before today and is not invoiced ("vervallen, niet gefactureerd").
    pub overdue: bool,
    /// What it is, in words (aggregates only: never a participant).
    pub description: String,
    /// For money that follows participants (commitments): how many placements it comes from, and what it is
    /// without its amounts, for the small-cell rule. None for booked spend and forecasts.
    pub participants: Option<(u32, String)>,
}

/// The figures of one cell (a year, or the total of a row).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Only for streams (money is made available per stream) and, in the total, the ceiling of a contract.
    pub available: Option<Money>,
    pub actual: Money,
    /// Expected payments not invoiced: overdue + to come.
    pub committed: Money,
    /// Of the commitments: fell due on or before today, not invoiced ("vervallen, niet gefactureerd").
    pub overdue: Money,
    /// Of the commitments: falls due later ("nog te betalen"); overdue + to come = committed.
    pub to_come: Money,
    pub forecast: Money,
    pub remaining: Option<Money>,
    /// Change since the chosen snapshot of actual + committed + forecast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_spend: Option<Money>,
    /// Change since the chosen snapshot of the remaining amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_remaining: Option<Money>,
}

impl Figures {
    /// actual + committed + forecast.
    pub fn spend(&self) -> Money {
        self.actual + self.committed + self.forecast
    }

    fn add(&mut self, other: &Figures) {
        self.actual += other.actual;
        self.committed += other.committed;
        self.overdue += other.overdue;
        self.to_come += other.to_come;
        self.forecast += other.forecast;
        if let Some(a) = other.available {
            *self.available.get_or_insert(Money::ZERO) += a;
        }
        if let Some(r) = other.remaining {
            *self.remaining.get_or_insert(Money::ZERO) += r;
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct YearCell {
    pub year: i32,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub years: Vec<YearCell>,
    pub total: Figures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct View {
    pub view: ViewKind,
    pub title: String,
    pub rows: Vec<Row>,
    /// The sum of the rows.
    pub totals: Row,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioUsed {
    pub id: i64,
    pub name: String,
    pub variant: Variant,
    pub forecast_from: i32,
    /// Routes with inflow that no contract prices (left out of the forecast).
    pub unpriced_routes: Vec<Route>,
    /// Per inflow year: the inflow, how much of it is placed already (a commitment) and what the forecast counts.
    pub counted: Vec<forecast::InflowCounted>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SnapshotUsed {
    pub id: i64,
    pub name: String,
}

/// The whole overview: what the page, the exports and `report overview` show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub from: i32,
    pub to: i32,
    pub stream: Option<String>,
    /// The forecast scenario used (its name, variant and what it counted); null without one.
    #[schema(value_type = Option<Object>)]
    pub scenario: Option<ScenarioUsed>,
    pub snapshot: Option<SnapshotUsed>,
    pub views: Vec<View>,
    #[serde(skip)]
    pub atoms: Vec<Atom>,
    #[serde(skip)]
    pub assumptions: Option<Scenario>,
}

impl Overview {
    pub fn view(&self, kind: ViewKind) -> &View {
        self.views.iter().find(|v| v.view == kind).expect("every view is built")
    }
}

/// Everything the overview is computed from: the kept fixed part (shared), the aggregates and the scenario.
pub struct Inputs {
    fixed: std::sync::Arc<Fixed>,
    pub spend: Vec<SpendRow>,
    pub scenario: Option<Scenario>,
    /// The day commitments are split into overdue and still to come.
    pub today: time::Date,
}

impl std::ops::Deref for Inputs {
    type Target = Fixed;

    fn deref(&self) -> &Fixed {
        &self.fixed
    }
}

/// Everything but the ledger aggregates and the chosen scenario: what changes rarely, so a server keeps it.
pub struct Fixed {
    pub streams: Vec<FundingStream>,
    pub allocations: Vec<crate::domain::funding::Allocation>,
    pub contracts: Vec<store::contracts::Contract>,
    /// Every placement's expected payments with its stream (see `report::commitments`).
    pub payments: std::sync::Arc<[FundedPayment]>,
    /// Placements under the Wet inburgering 2021 per start year: inflow that is placed already.
    pub placed: BTreeMap<i32, i64>,
    pub cohort_streams: HashMap<Cohort, i64>,
    pub budget_lines: HashMap<i64, String>,
    pub scenarios: Vec<Scenario>,
}

/// The fixed inputs of the last overview with the `overview_inputs_version` they were read at; triggers
/// move that counter on every change to providers, contracts, placements, funding and scenarios. Next to them,
/// the overviews assembled from exactly those inputs (see [`Assembled`]).
#[derive(Default)]
pub struct InputsCache {
    inner: std::sync::Mutex<Option<(i64, std::sync::Arc<Fixed>)>>,
    assembled: std::sync::Mutex<Option<Assembled>>,
}

/// Overviews kept together with every input they were assembled from, compared on each request: the fixed
/// inputs (the very `Arc` the cache above holds, replaced whenever their counter moves), the spend aggregates
/// (read on every request anyway: a few thousand rows, compared row by row) and today's date (what is overdue).
/// Assembling is a pure function of those and the parameters, so a kept overview is never stale; at ten years
/// of 10,000 placements it is most of an overview request's work (the payments' matching to invoices).
struct Assembled {
    fixed: std::sync::Arc<Fixed>,
    spend: Vec<SpendRow>,
    today: time::Date,
    overviews: HashMap<OverviewParams, std::sync::Arc<Overview>>,
}

/// How many parameter sets one state of the inputs keeps: the handful of views users switch between.
const ASSEMBLED_KEPT: usize = 16;

impl InputsCache {
    /// The overview of `params` (without a snapshot to compare with) from `inputs`, assembled when not kept.
    fn assembled(&self, inputs: &Inputs, params: &OverviewParams) -> std::sync::Arc<Overview> {
        let same = |a: &Assembled| {
            std::sync::Arc::ptr_eq(&a.fixed, &inputs.fixed) && a.today == inputs.today && a.spend == inputs.spend
        };
        {
            let kept = self.assembled.lock().expect("overview cache lock");
            if let Some(o) = kept.as_ref().filter(|a| same(a)).and_then(|a| a.overviews.get(params)) {
                return o.clone();
            }
        }
        let o = std::sync::Arc::new(assemble(inputs, params));
        let mut kept = self.assembled.lock().expect("overview cache lock");
        if !kept.as_ref().is_some_and(same) {
            *kept = Some(Assembled {
                fixed: inputs.fixed.clone(),
                spend: inputs.spend.clone(),
                today: inputs.today,
                overviews: HashMap::new(),
            });
        }
        let overviews = &mut kept.as_mut().expect("just set").overviews;
        if overviews.len() >= ASSEMBLED_KEPT {
            overviews.clear();
        }
        overviews.insert(params.clone(), o.clone());
        o
    }
}

async fn load_fixed(db: &Db) -> sqlx::Result<Fixed> {
    let streams = store::funding::streams(db).await?.into_iter().map(|(s, _)| s).collect();
    let allocations = store::funding::allocations(db, None).await?;
    let contracts = store::contracts::list(db).await?;
    let cohort_streams = store::funding::cohort_streams(db).await?;
    // Placements are read for their expected payments only: no participant leaves this function.
    let placements = store::placements::list(db, None).await?;
    let payments = super::commitments::payments_of(&contracts, &placements, &cohort_streams).into();
    let mut placed: BTreeMap<i32, i64> = BTreeMap::new();
    for p in placements.iter().filter(|p| p.cohort == Cohort::Wi2021) {
        *placed.entry(p.schedule.start_date.year()).or_default() += 1;
    }
    let budget_lines = store::funding::budget_lines(db, None)
        .await?
        .into_iter()
        .map(|l| (l.id, format!("{} {}", l.category, l.year)))
        .collect();
    let scenarios = store::overview::scenarios(db).await?.into_iter().map(|(s, _)| s).collect();
    Ok(Fixed { streams, allocations, contracts, payments, placed, cohort_streams, budget_lines, scenarios })
}

/// Loads the inputs; with a cache, the fixed part is read again only when the version counter moved.
pub async fn load(db: &Db, scenario_id: Option<i64>, cache: Option<&InputsCache>) -> sqlx::Result<Inputs> {
    let fixed = match cache {
        None => std::sync::Arc::new(load_fixed(db).await?),
        Some(cache) => {
            // Read the counter before the data: data changed meanwhile is then stored under the older
            // number and read again next time, never the other way round.
            let version = crate::store::overview::inputs_version(db).await?;
            let hit =
                cache.inner.lock().expect("cache lock").as_ref().filter(|(v, _)| *v == version).map(|(_, f)| f.clone());
            match hit {
                Some(f) => f,
                None => {
                    let f = std::sync::Arc::new(load_fixed(db).await?);
                    *cache.inner.lock().expect("cache lock") = Some((version, f.clone()));
                    f
                }
            }
        }
    };
    let spend = store::overview::spend(db).await?;
    let scenario = scenario_id.and_then(|id| fixed.scenarios.iter().find(|s| s.id == id).cloned());
    Ok(Inputs { fixed, spend, scenario, today: crate::domain::dates::today() })
}

/// The known tariff per route and year (the average of the contracts' tariffs valid on 1 July, rounded to
/// the cent) and the payment milestones of the first contract that has them for the route.
pub fn route_pricing(
    contracts: &[store::contracts::Contract],
    years: std::ops::RangeInclusive<i32>,
) -> BTreeMap<Route, RoutePricing> {
    let mut out = BTreeMap::new();
    for route in FORECAST_ROUTES {
        let mut known = BTreeMap::new();
        for year in years.clone() {
            let day = forecast::assumed_start(year);
            let valid: Vec<Money> = contracts
                .iter()
                .filter_map(|c| crate::domain::contract::tariff_on(&c.terms.tariffs, route, day).map(|t| t.amount))
                .collect();
            if !valid.is_empty() {
                let sum: Money = valid.iter().copied().sum();
                known.insert(year, Money::from_decimal(sum.decimal() / rust_decimal::Decimal::from(valid.len())));
            }
        }
        let milestones = contracts
            .iter()
            .find_map(|c| c.terms.milestones.get(&route).filter(|m| !m.is_empty()).cloned())
            .unwrap_or_default();
        out.insert(route, RoutePricing { known_tariffs: known, milestones });
    }
    out
}

/// Lays out every amount as an atom.
pub fn atoms(inputs: &Inputs, params: &OverviewParams) -> (Vec<Atom>, Option<ScenarioUsed>) {
    let contract = |id: Option<i64>| id.and_then(|id| inputs.contracts.iter().find(|c| c.id == id));
    let stream_code =
        |id: i64| inputs.streams.iter().find(|s| s.id == id).map(|s| s.code.clone()).unwrap_or_else(|| id.to_string());
    let mut out = Vec::new();
    // Invoices carry no route. They are matched to the expected payments of their stream, contract and year in
    // order of due date (domain::commitment): what they paid of a payment is actual of that payment's route, what
    // is left open of it is committed on that route (overdue when it fell due on or before today).
    let invoiced = super::commitments::invoiced_of(&inputs.spend);
    let all = commitments(inputs.payments.clone(), &invoiced, inputs.today);
    let mut paid = all.matched_by_route();
    for s in &inputs.spend {
        let c = contract(s.contract_id);
        let line = s.budget_line_id.and_then(|l| inputs.budget_lines.get(&l)).map(|l| format!(", begrotingspost {l}"));
        let described = format!(
            "{} op {}, {}{}",
            crate::domain::words::count(s.lines, "geboekte regel", "geboekte regels"),
            stream_code(s.stream_id),
            c.map(|c| format!("contract {}", c.reference)).unwrap_or_else(|| "zonder contract".into()),
            line.unwrap_or_default()
        );
        let parts = match c {
            // A contract for one route tells which route all its money was for.
            Some(c) if c.terms.routes.len() == 1 => vec![(Some(c.terms.routes[0]), s.amount)],
            Some(c) => {
                let pools = paid.entry((Some(s.stream_id), c.id, s.year)).or_default();
                split_over_routes(pools, s.amount)
            }
            None => vec![(None, s.amount)],
        };
        let split = c.is_some_and(|c| c.terms.routes.len() > 1);
        for (route, amount) in parts {
            let description = match (split, route) {
                (false, _) => described.clone(),
                (true, Some(r)) => format!(
                    "{described}: deel {} (wat de facturen betaalden van de verwachte betalingen op die route)",
                    r.short_label()
                ),
                (true, None) => format!(
                    "{described}: deel boven de verwachte betalingen van het jaar (niet aan een route toe te wijzen)"
                ),
            };
            out.push(Atom {
                kind: AtomKind::Actual,
                year: s.year,
                stream_id: Some(s.stream_id),
                contract_id: s.contract_id,
                route,
                amount,
                overdue: false,
                description,
                participants: None,
            });
        }
    }
    for (&(s, cid, y), open) in &all.open {
        let c = &all.by_key[&(s, cid, y)];
        let mut parts: BTreeMap<(Route, bool), Money> = BTreeMap::new();
        let mut placements: BTreeMap<(Route, bool), std::collections::BTreeSet<i64>> = BTreeMap::new();
        for &(i, m) in open {
            let p = &all.payments[i];
            *parts.entry((p.route, p.due <= all.today)).or_default() += m;
            placements.entry((p.route, p.due <= all.today)).or_default().insert(p.placement);
        }
        let reference = contract(Some(cid)).map(|c| c.reference.clone()).unwrap_or_default();
        let funded_by = s.map(stream_code).unwrap_or_else(|| "geen financieringsbron".into());
        for ((route, overdue), amount) in parts {
            let what = format!(
                "{} van plaatsingen op contract {reference} via {funded_by}, {}",
                if overdue { "Vervallen, niet gefactureerde betalingen" } else { "Nog te betalen" },
                route.short_label()
            );
            let placed = placements.get(&(route, overdue)).map_or(0, |p| p.len() as u32);
            out.push(Atom {
                kind: AtomKind::Committed,
                year: y,
                stream_id: s,
                contract_id: Some(cid),
                route: Some(route),
                amount,
                overdue,
                description: format!(
                    "{what}: in {y} verwacht {}, gefactureerd {} (facturen toegewezen aan de vroegst vervallen betalingen)",
                    c.expected, c.invoiced
                ),
                participants: Some((placed, what)),
            });
        }
    }
    let mut used = None;
    if let Some(scenario) = &inputs.scenario {
        let first = params.forecast_from.min(*params.years.start());
        let last = *params.years.end();
        let pricing = route_pricing(&inputs.contracts, (first - 10)..=last);
        let f = forecast::forecast(scenario, &pricing, params.variant, params.forecast_from, &inputs.placed);
        // New inflow falls under the Wet inburgering 2021: its stream pays.
        let stream = inputs.cohort_streams.get(&Cohort::Wi2021).copied();
        for (&(year, inflow_year, group, route), &amount) in &f.amounts {
            out.push(Atom {
                kind: AtomKind::Forecast,
                year,
                stream_id: stream,
                contract_id: None,
                route: Some(route),
                amount,
                overdue: false,
                description: format!(
                    "Prognose '{}' ({}): instroom {inflow_year}, {}, {}",
                    scenario.name,
                    params.variant.label(),
                    match group {
                        InflowGroup::Asylum => "asielmigranten",
                        InflowGroup::Family => "gezins- en overige migranten",
                    },
                    route.label()
                ),
                participants: None,
            });
        }
        used = Some(ScenarioUsed {
            id: scenario.id,
            name: scenario.name.clone(),
            variant: params.variant,
            forecast_from: params.forecast_from,
            unpriced_routes: f.unpriced,
            counted: f.counted,
        });
    }
    if let Some(code) = &params.stream {
        let id = inputs.streams.iter().find(|s| s.code.eq_ignore_ascii_case(code)).map(|s| s.id);
        out.retain(|a| a.stream_id.is_some() && a.stream_id == id);
    }
    (out, used)
}

/// The key and label of an atom in a view.
pub fn key_of(inputs: &Inputs, view: ViewKind, a: &Atom) -> (String, String) {
    let key = key_only(inputs, view, a);
    let label = label_of(inputs, view, a);
    (key, label)
}

/// The key of an atom in a view (cheap: no label).
pub fn key_only(inputs: &Inputs, view: ViewKind, a: &Atom) -> String {
    let contract = a.contract_id.and_then(|id| inputs.contracts.iter().find(|c| c.id == id));
    match view {
        ViewKind::Stream => match a.stream_id.and_then(|id| inputs.streams.iter().find(|s| s.id == id)) {
            Some(s) => s.code.clone(),
            None => "geen-bron".into(),
        },
        ViewKind::Route => a.route.map(|r| r.code()).unwrap_or("geen-route").into(),
        ViewKind::Provider | ViewKind::Contract => match (contract, a.kind) {
            (Some(c), _) if view == ViewKind::Provider => format!("aanbieder-{}", c.provider_id),
            (Some(c), _) => c.reference.clone(),
            (None, AtomKind::Forecast) => "prognose".into(),
            (None, _) => "geen-contract".into(),
        },
    }
}

fn label_of(inputs: &Inputs, view: ViewKind, a: &Atom) -> String {
    key_and_label(inputs, view, a).1
}

fn key_and_label(inputs: &Inputs, view: ViewKind, a: &Atom) -> (String, String) {
    let contract = a.contract_id.and_then(|id| inputs.contracts.iter().find(|c| c.id == id));
    let outside = || match a.kind {
        AtomKind::Forecast => ("prognose".to_string(), "Prognose: nog niet geplaatste instroom".to_string()),
        _ => ("geen-contract".to_string(), "Zonder contract".to_string()),
    };
    match view {
        ViewKind::Stream => match a.stream_id.and_then(|id| inputs.streams.iter().find(|s| s.id == id)) {
            Some(s) => (s.code.clone(), format!("{} {}", s.code, s.name)),
            None => (
                "geen-bron".into(),
                "Zonder financieringsbron (stel onder Financiering › Doelgroepen een bron in)".into(),
            ),
        },
        ViewKind::Route => match a.route {
            Some(r) => (r.code().into(), r.label().into()),
            None => (
                "geen-route".into(),
                "Niet aan een route toe te wijzen (geen contract, of boven de verwachte betalingen van een contract voor meerdere routes)".into(),
            ),
        },
        ViewKind::Provider => match contract {
            Some(c) => (format!("aanbieder-{}", c.provider_id), c.provider_name.clone()),
            None => outside(),
        },
        ViewKind::Contract => match contract {
            Some(c) => (c.reference.clone(), format!("{} {}", c.reference, c.title)),
            None => outside(),
        },
    }
}

fn ensure(
    rows: &mut Vec<Row>,
    index: &mut HashMap<String, usize>,
    years: &std::ops::RangeInclusive<i32>,
    key: String,
    label: String,
) -> usize {
    *index.entry(key.clone()).or_insert_with(|| {
        rows.push(Row { key, label, years: empty_cells(years), total: Figures::default() });
        rows.len() - 1
    })
}

fn empty_cells(years: &std::ops::RangeInclusive<i32>) -> Vec<YearCell> {
    years.clone().map(|year| YearCell { year, figures: Figures::default() }).collect()
}

/// Builds the overview from the inputs (pure).
pub fn assemble(inputs: &Inputs, params: &OverviewParams) -> Overview {
    let (atoms, scenario) = atoms(inputs, params);
    let years = params.years.clone();
    let mut views = Vec::new();
    for kind in ViewKind::ALL {
        let mut rows: Vec<Row> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        // Every stream and contract gets a row, also without figures: an empty row is information too.
        match kind {
            ViewKind::Stream => {
                for s in &inputs.streams {
                    if params.stream.as_ref().is_none_or(|c| c.eq_ignore_ascii_case(&s.code)) {
                        ensure(&mut rows, &mut index, &years, s.code.clone(), format!("{} {}", s.code, s.name));
                    }
                }
            }
            ViewKind::Contract if params.stream.is_none() => {
                for c in &inputs.contracts {
                    ensure(&mut rows, &mut index, &years, c.reference.clone(), format!("{} {}", c.reference, c.title));
                }
            }
            _ => {}
        }
        for a in atoms.iter().filter(|a| years.contains(&a.year)) {
            let key = key_only(inputs, kind, a);
            let i = match index.get(&key) {
                Some(i) => *i,
                None => {
                    let label = label_of(inputs, kind, a);
                    ensure(&mut rows, &mut index, &years, key, label)
                }
            };
            let f = &mut rows[i].years[(a.year - years.start()) as usize].figures;
            match a.kind {
                AtomKind::Actual => f.actual += a.amount,
                AtomKind::Committed => {
                    f.committed += a.amount;
                    if a.overdue {
                        f.overdue += a.amount;
                    } else {
                        f.to_come += a.amount;
                    }
                }
                AtomKind::Forecast => f.forecast += a.amount,
            }
        }
        if kind == ViewKind::Stream {
            fill_available(inputs, &atoms, &years, &mut rows);
        }
        for r in &mut rows {
            let mut total = Figures::default();
            for c in &r.years {
                total.actual += c.figures.actual;
                total.committed += c.figures.committed;
                total.overdue += c.figures.overdue;
                total.to_come += c.figures.to_come;
                total.forecast += c.figures.forecast;
            }
            if kind == ViewKind::Stream {
                // Granted in the range plus what the year before carried in; remaining follows from it.
                let available = match inputs.streams.iter().find(|s| s.code == r.key) {
                    Some(stream) => {
                        let f = figures_of(inputs, stream, &atoms, years.clone());
                        f.iter().map(|y| y.granted).sum::<Money>()
                            + f.first().map(|y| y.carried_over).unwrap_or_default()
                    }
                    None => Money::ZERO,
                };
                total.available = Some(available);
                total.remaining = Some(available - total.spend());
            }
            if kind == ViewKind::Contract {
                if let Some(c) = inputs.contracts.iter().find(|c| c.reference == r.key) {
                    // Ceiling room over the contract's whole life, not only the years shown.
                    let all: Money = atoms
                        .iter()
                        .filter(|a| a.contract_id == Some(c.id) && a.kind != AtomKind::Forecast)
                        .map(|a| a.amount)
                        .sum();
                    total.available = Some(c.terms.ceiling);
                    total.remaining = Some(c.terms.ceiling - all);
                }
            }
            r.total = total;
        }
        if kind != ViewKind::Stream && kind != ViewKind::Contract {
            rows.sort_by(|a, b| extra_last(&a.key).cmp(&extra_last(&b.key)).then(a.label.cmp(&b.label)));
        }
        if kind == ViewKind::Contract {
            rows.sort_by(|a, b| extra_last(&a.key).cmp(&extra_last(&b.key)).then(a.key.cmp(&b.key)));
        }
        let mut totals =
            Row { key: "totaal".into(), label: "Totaal".into(), years: empty_cells(&years), total: Figures::default() };
        for r in &rows {
            for (t, c) in totals.years.iter_mut().zip(&r.years) {
                t.figures.add(&c.figures);
            }
            totals.total.add(&r.total);
        }
        views.push(View { view: kind, title: kind.title().into(), rows, totals });
    }
    Overview {
        from: *years.start(),
        to: *years.end(),
        stream: params.stream.clone(),
        scenario,
        snapshot: None,
        views,
        atoms,
        assumptions: inputs.scenario.clone(),
    }
}

/// Rows such as "zonder contract" and "prognose" go below the named ones.
fn extra_last(key: &str) -> bool {
    matches!(key, "geen-contract" | "prognose" | "geen-route" | "geen-bron")
}

fn figures_of(
    inputs: &Inputs,
    stream: &FundingStream,
    atoms: &[Atom],
    years: std::ops::RangeInclusive<i32>,
) -> Vec<crate::domain::funding::YearFigures> {
    let own: Vec<_> = inputs.allocations.iter().filter(|a| a.stream_id == stream.id).cloned().collect();
    let granted = granted_by_year(&own);
    let mut actual: BTreeMap<i32, Money> = BTreeMap::new();
    let mut planned: BTreeMap<i32, Money> = BTreeMap::new();
    for a in atoms.iter().filter(|a| a.stream_id == Some(stream.id)) {
        match a.kind {
            AtomKind::Actual => *actual.entry(a.year).or_default() += a.amount,
            _ => *planned.entry(a.year).or_default() += a.amount,
        }
    }
    // Committed and forecast together reduce what is left, so the carry-over chain sees both.
    year_figures(stream, &granted, &actual, &planned, years)
}

fn fill_available(inputs: &Inputs, atoms: &[Atom], years: &std::ops::RangeInclusive<i32>, rows: &mut [Row]) {
    for r in rows.iter_mut() {
        let Some(stream) = inputs.streams.iter().find(|s| s.code == r.key) else { continue };
        for f in figures_of(inputs, stream, atoms, years.clone()) {
            let cell = &mut r.years[(f.year - years.start()) as usize].figures;
            cell.available = Some(f.available);
            cell.remaining = Some(f.remaining);
        }
    }
}

/// The atoms behind one figure (a view's row, in one year or all years shown), for the drill-down.
pub fn behind<'a>(
    inputs: &Inputs,
    overview: &'a Overview,
    view: ViewKind,
    key: &str,
    year: Option<i32>,
) -> Vec<&'a Atom> {
    let years = overview.from..=overview.to;
    overview
        .atoms
        .iter()
        .filter(|a| years.contains(&a.year) && year.is_none_or(|y| a.year == y))
        .filter(|a| key == "totaal" || key_only(inputs, view, a) == key)
        .collect()
}

/// The overview's figures as rows to freeze (per year, plus the row total as year 0).
pub fn snapshot_rows(o: &Overview) -> Vec<SnapshotRow> {
    let mut out = Vec::new();
    for v in &o.views {
        for r in v.rows.iter().chain(std::iter::once(&v.totals)) {
            let cells = r.years.iter().map(|c| (c.year, &c.figures)).chain(std::iter::once((0, &r.total)));
            for (year, f) in cells {
                out.push(SnapshotRow {
                    view: v.view.code().into(),
                    key: r.key.clone(),
                    label: r.label.clone(),
                    year,
                    available: f.available,
                    actual: f.actual,
                    committed: f.committed,
                    forecast: f.forecast,
                    remaining: f.remaining,
                });
            }
        }
    }
    out
}

/// Fills the "change since snapshot" of every cell (a figure the snapshot did not have counts from zero).
pub fn compare_with(o: &mut Overview, id: i64, name: &str, rows: &[SnapshotRow]) {
    let frozen: HashMap<(&str, &str, i32), &SnapshotRow> =
        rows.iter().map(|r| ((r.view.as_str(), r.key.as_str(), r.year), r)).collect();
    let set = |view: &str, key: &str, year: i32, f: &mut Figures| {
        let before = frozen.get(&(view, key, year));
        let spend_before = before.map(|b| b.actual + b.committed + b.forecast).unwrap_or_default();
        f.change_spend = Some(f.spend() - spend_before);
        if let Some(now) = f.remaining {
            f.change_remaining = Some(now - before.and_then(|b| b.remaining).unwrap_or_default());
        }
    };
    for v in &mut o.views {
        let code = v.view.code();
        for r in v.rows.iter_mut().chain(std::iter::once(&mut v.totals)) {
            for c in &mut r.years {
                set(code, &r.key, c.year, &mut c.figures);
            }
            set(code, &r.key, 0, &mut r.total);
        }
    }
    o.snapshot = Some(SnapshotUsed { id, name: name.to_string() });
}

/// Loads, assembles and (when asked) compares with a snapshot. With a cache, an overview assembled before from
/// the same inputs is used again (see [`InputsCache`]).
pub async fn build(
    db: &Db,
    params: &OverviewParams,
    cache: Option<&InputsCache>,
) -> sqlx::Result<(std::sync::Arc<Overview>, Inputs)> {
    let inputs = load(db, params.scenario_id, cache).await?;
    if let (Some(cache), None) = (cache, params.snapshot_id) {
        return Ok((cache.assembled(&inputs, params), inputs));
    }
    let mut o = assemble(&inputs, params);
    if let Some(id) = params.snapshot_id {
        if let Some((s, rows)) = store::overview::snapshot(db, id).await? {
            compare_with(&mut o, s.id, &s.name, &rows);
        }
    }
    Ok((std::sync::Arc::new(o), inputs))
}
