//! The multi-year overview for policy advisers: filters in the URL (a permalink), charts with their data as
//! tables, the figures per stream / route / provider / contract with drill-downs (aggregates only), the
//! print view, exports, and snapshots with "change since snapshot".

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use time::Date;

use super::charts::{self, Series, YearBar};
use super::forms::{error_summary, Field};
use super::views::{money_or_dash, Chrome};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::dates;
use crate::domain::forecast::{validate_years, Variant};
use crate::domain::small_cell::{SmallCells, HIDDEN};
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::report::export;
use crate::report::overview::{self, Atom, Figures, Overview, OverviewParams, ViewKind};
use crate::store;
use crate::store::overview::{OverviewError, Snapshot};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/meerjarenoverzicht", Permission::Read, page)
        .get("/meerjarenoverzicht/detail", Permission::Read, detail)
        .get("/meerjarenoverzicht/afdrukken", Permission::Read, print)
        .get("/meerjarenoverzicht/export.csv", Permission::Read, export_csv)
        .get("/meerjarenoverzicht/export.xlsx", Permission::Read, export_xlsx)
        .get("/meerjarenoverzicht/export.json", Permission::Read, export_json)
        .get("/snapshots", Permission::Read, snapshots_page)
        .post("/snapshots", Permission::ManageForecasts, create_snapshot)
        .get("/static/print.css", Permission::Public, print_stylesheet)
}

const PRINT_STYLESHEET: &str = include_str!("../../assets/print.css");

async fn print_stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        PRINT_STYLESHEET,
    )
}

/// The overview's filters as they stand in the URL.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverviewQuery {
    pub van: String,
    pub tot: String,
    pub scenario: String,
    pub variant: String,
    pub prognose_vanaf: String,
    pub bron: String,
    pub snapshot: String,
    /// Drill-down only: the view, the row key and the year ("" for all years shown).
    pub weergave: String,
    pub sleutel: String,
    pub jaar: String,
}

impl OverviewQuery {
    /// Checks the filters; a bad year range is the user's to fix, so it comes back as a Dutch message.
    fn params(&self) -> Result<OverviewParams, String> {
        let this_year = dates::today().year();
        let year = |text: &str, default: i32, what: &str| -> Result<i32, String> {
            match text.trim() {
                "" => Ok(default),
                t => t.parse::<i32>().map_err(|_| format!("{what} '{t}' is geen jaartal.")),
            }
        };
        let from = year(&self.van, this_year - 2, "Van")?;
        let to = year(&self.tot, this_year + 2, "Tot en met")?;
        let years = validate_years(from, to)?;
        let variant = match self.variant.trim() {
            "" => Variant::Expected,
            v => Variant::parse(v).ok_or_else(|| format!("Onbekende variant '{v}'; kies laag, verwacht of hoog."))?,
        };
        Ok(OverviewParams {
            years,
            scenario_id: self.scenario.trim().parse().ok(),
            variant,
            forecast_from: year(&self.prognose_vanaf, this_year + 1, "Prognose vanaf")?,
            stream: Some(self.bron.trim().to_string()).filter(|s| !s.is_empty()),
            snapshot_id: self.snapshot.trim().parse().ok(),
        })
    }
}

/// The canonical query string of an overview: the permalink.
pub fn permalink(p: &OverviewParams) -> String {
    let mut parts = vec![format!("van={}", p.years.start()), format!("tot={}", p.years.end())];
    if let Some(s) = p.scenario_id {
        parts.push(format!("scenario={s}"));
        parts.push(format!("variant={}", p.variant.code()));
        parts.push(format!("prognose_vanaf={}", p.forecast_from));
    }
    if let Some(b) = &p.stream {
        parts.push(format!("bron={}", urlencoding::encode(b)));
    }
    if let Some(s) = p.snapshot_id {
        parts.push(format!("snapshot={s}"));
    }
    parts.join("&")
}

struct Choices {
    scenarios: Vec<(i64, String)>,
    streams: Vec<String>,
    snapshots: Vec<(i64, String)>,
}

async fn choices(state: &AppState) -> AppResult<Choices> {
    Ok(Choices {
        scenarios: store::overview::scenarios(&state.db).await?.into_iter().map(|(s, _)| (s.id, s.name)).collect(),
        streams: store::funding::streams(&state.db).await?.into_iter().map(|(s, _)| s.code).collect(),
        snapshots: store::overview::snapshots(&state.db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
    })
}

/// `forecast_default` fills "Prognose voor instroom vanaf" when the filters could not be read.
fn filters(
    q: &OverviewQuery,
    p: Option<&OverviewParams>,
    c: &Choices,
    forecast_default: i32,
    error: Option<&str>,
) -> Markup {
    let from = p.map(|p| p.years.start().to_string()).unwrap_or_else(|| q.van.clone());
    let to = p.map(|p| p.years.end().to_string()).unwrap_or_else(|| q.tot.clone());
    let variant = p.map(|p| p.variant).unwrap_or(Variant::Expected);
    let forecast_from = p.map(|p| p.forecast_from).unwrap_or(forecast_default);
    html! {
        @if let Some(e) = error {
            div.error-summary role="alert" aria-labelledby="filter-fout" tabindex="-1" {
                h2 #filter-fout { "Dit overzicht kan zo niet worden gemaakt" }
                p { a href="#van" { (e) } }
            }
        }
        form.filters method="get" action="/meerjarenoverzicht" {
            div.field.has-error[error.is_some()] { label for="van" { "Van (jaar)" } input #van type="number" name="van" min="2000" max="2100" value=(from) aria-invalid=[error.map(|_| "true")]; }
            div.field { label for="tot" { "Tot en met (jaar)" } input #tot type="number" name="tot" min="2000" max="2100" value=(to); }
            div.field {
                label for="bron" { "Financieringsbron" }
                select #bron name="bron" {
                    option value="" { "Alle bronnen" }
                    @for code in &c.streams { option value=(code) selected[p.and_then(|p| p.stream.as_ref()) == Some(code)] { (code) } }
                }
            }
            div.field {
                label for="scenario" { "Prognosescenario" }
                select #scenario name="scenario" {
                    option value="" { "Geen prognose" }
                    @for (id, name) in &c.scenarios { option value=(id) selected[p.and_then(|p| p.scenario_id) == Some(*id)] { (name) } }
                }
            }
            div.field {
                label for="variant" { "Instroom" }
                select #variant name="variant" {
                    @for v in Variant::ALL { option value=(v.code()) selected[v == variant] { (v.label()) } }
                }
            }
            div.field { label for="prognose_vanaf" { "Prognose voor instroom vanaf" } input #prognose_vanaf type="number" name="prognose_vanaf" min="2000" max="2100" value=(forecast_from); }
            div.field {
                label for="snapshot" { "Vergelijk met snapshot" }
                select #snapshot name="snapshot" {
                    option value="" { "Geen" }
                    @for (id, name) in &c.snapshots { option value=(id) selected[p.and_then(|p| p.snapshot_id) == Some(*id)] { (name) } }
                }
            }
            button type="submit" { "Tonen" }
        }
    }
}

/// A figure that links to what is behind it; `base` is the detail URL of the view (built once per table).
fn drill(base: &str, key: &str, year: Option<i32>, m: Money) -> Markup {
    let href =
        format!("{base}&sleutel={}&jaar={}", urlencoding::encode(key), year.map(|y| y.to_string()).unwrap_or_default());
    html! { a href=(href) { (m) } }
}

fn signed(m: Option<Money>) -> Markup {
    match m {
        Some(m) if m.is_negative() => html! { "−" (m.abs()) },
        Some(m) if m.is_zero() => html! { "0" },
        Some(m) => html! { "+" (m) },
        None => html! { "—" },
    }
}

/// Tables and downloads drawn from kept overviews, kept with them. An overview the inputs cache hands out is
/// never changed and stands for exactly one set of inputs and parameters ([`overview::InputsCache`]), so what
/// is drawn from it alone is current for as long as it is: at ten years of fifty contracts, drawing the tables
/// (0.7 MB of HTML for all four views) or the workbook cost more than all the rest of a request.
#[derive(Default)]
pub struct Drawn {
    tables: DrawnFrom<(ViewKind, bool), String>,
    files: DrawnFrom<&'static str, Vec<u8>>,
}

/// What was drawn from which overview. Each entry holds its overview, so the address it is found by cannot be
/// reused by another overview while the entry is kept.
struct DrawnFrom<K, T> {
    kept: std::sync::Mutex<std::collections::VecDeque<Drawing<K, T>>>,
}

/// The overview, what was drawn of it (a view's table, a file format) and the drawing.
type Drawing<K, T> = (Arc<Overview>, K, Arc<T>);

impl<K, T> Default for DrawnFrom<K, T> {
    fn default() -> Self {
        DrawnFrom { kept: Default::default() }
    }
}

/// How many drawings are kept: every table and file of a few overviews.
const DRAWN_KEPT: usize = 32;

impl<K: PartialEq, T> DrawnFrom<K, T> {
    fn get<E>(&self, o: &Arc<Overview>, key: K, draw: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
        // An overview compared with a snapshot is assembled afresh for every request: nothing to find again.
        if o.snapshot.is_some() {
            return draw().map(Arc::new);
        }
        {
            let kept = self.kept.lock().expect("drawn overview lock");
            if let Some((_, _, t)) = kept.iter().find(|(of, k, _)| Arc::ptr_eq(of, o) && *k == key) {
                return Ok(t.clone());
            }
        }
        let t = Arc::new(draw()?);
        let mut kept = self.kept.lock().expect("drawn overview lock");
        if kept.len() >= DRAWN_KEPT {
            kept.pop_front();
        }
        kept.push_back((o.clone(), key, t.clone()));
        Ok(t)
    }
}

impl Drawn {
    /// A view's table of `o` (which `p` asked for), with or without links to what is behind each figure.
    fn table(&self, o: &Arc<Overview>, p: &OverviewParams, kind: ViewKind, links: bool) -> Arc<String> {
        let drawn = self
            .tables
            .get(o, (kind, links), || Ok::<_, std::convert::Infallible>(view_table(o, p, kind, links).into_string()));
        drawn.unwrap_or_else(|never| match never {})
    }

    /// A download of `o`, drawn by `draw` when not kept: `kind` names the format.
    fn file<E>(
        &self,
        o: &Arc<Overview>,
        kind: &'static str,
        draw: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<Vec<u8>>, E> {
        self.files.get(o, kind, draw)
    }
}

/// One view as a table: a row per entity and year, a total per entity, and the view's totals.
fn view_table(o: &Overview, p: &OverviewParams, kind: ViewKind, links: bool) -> Markup {
    let v = o.view(kind);
    let compared = o.snapshot.is_some();
    let stream = kind == ViewKind::Stream;
    let base = format!("/meerjarenoverzicht/detail?{}&weergave={}", permalink(p), kind.code());
    let cell = |key: &str, year: Option<i32>, f: &Figures| -> Markup {
        let link = |m: Money| {
            if links && !m.is_zero() {
                drill(&base, key, year, m)
            } else {
                html! { (m) }
            }
        };
        html! {
            td.num { (money_or_dash(f.available)) }
            td.num { (link(f.actual)) }
            td.num { (link(f.overdue)) }
            td.num { (link(f.to_come)) }
            td.num { (link(f.forecast)) }
            td.num { (money_or_dash(f.remaining)) }
            @if compared {
                td.num { (signed(f.change_spend)) }
                @if stream { td.num { (signed(f.change_remaining)) } }
            }
        }
    };
    html! {
        table.overview {
            caption {
                (v.title) ", " (o.from) "–" (o.to)
                @if kind == ViewKind::Stream { ". Resterend = beschikbaar − realisatie − verplichtingen − prognose. Verplichtingen van een doelgroep zonder bron staan onder ‘Zonder financieringsbron’." }
                @if kind == ViewKind::Route { ". " (crate::domain::commitment::ROUTE_SPLIT) }
                @if kind == ViewKind::Contract { ". In de totaalregel: beschikbaar = plafond, resterend = plafondruimte over de hele looptijd." }
            }
            thead { tr {
                th scope="col" { "Omschrijving" } th scope="col" { "Jaar" }
                th.num scope="col" { "Beschikbaar" } th.num scope="col" { "Realisatie" }
                th.num scope="col" { "Verplichtingen: vervallen, niet gefactureerd" } th.num scope="col" { "Verplichtingen: nog te betalen" }
                th.num scope="col" { "Prognose" } th.num scope="col" { "Resterend" }
                @if compared {
                    th.num scope="col" { "Verschil uitgaven sinds snapshot" }
                    @if stream { th.num scope="col" { "Verschil resterend sinds snapshot" } }
                }
            } }
            @for r in v.rows.iter().chain(std::iter::once(&v.totals)) {
                tbody.group.totals[r.key == "totaal"] {
                    @for (i, c) in r.years.iter().enumerate() {
                        tr {
                            @if i == 0 { th scope="row" { (r.label) } } @else { td { span.visually-hidden { (r.label) } } }
                            td { (c.year) }
                            (cell(&r.key, Some(c.year), &c.figures))
                        }
                    }
                    tr.subtotal {
                        th scope="row" { @if r.key == "totaal" { "Totaal" } @else { "Totaal " (r.label) } }
                        td { (o.from) "–" (o.to) }
                        (cell(&r.key, None, &r.total))
                    }
                }
            }
        }
    }
}

fn charts_of(o: &Overview) -> Markup {
    let stream = o.view(ViewKind::Stream);
    let bars: Vec<YearBar> = stream
        .totals
        .years
        .iter()
        .map(|c| YearBar {
            year: c.year,
            actual: c.figures.actual,
            committed: c.figures.committed,
            forecast: c.figures.forecast,
            available: c.figures.available,
        })
        .collect();
    let years: Vec<i32> = (o.from..=o.to).collect();
    let series: Vec<Series> = stream
        .rows
        .iter()
        .map(|r| Series {
            label: r.key.clone(),
            points: r.years.iter().map(|c| (c.year, c.figures.remaining.unwrap_or_default())).collect(),
        })
        .collect();
    let description = format!(
        "Per jaar van {} tot en met {}: realisatie, verplichtingen en prognose op elkaar gestapeld, met het beschikbare bedrag als lijn. De cijfers staan in de tabel hiernaast.",
        o.from, o.to
    );
    html! {
        div.chart-pair {
            (charts::stacked_years("grafiek-jaren", "Uitgaven per jaar tegenover het beschikbare bedrag", &description, &bars))
            table {
                caption { "Gegevens van de grafiek: uitgaven per jaar" }
                thead { tr { th scope="col" { "Jaar" } th.num scope="col" { "Realisatie" } th.num scope="col" { "Verplichtingen" } th.num scope="col" { "Prognose" } th.num scope="col" { "Beschikbaar" } } }
                tbody { @for b in &bars { tr { th scope="row" { (b.year) } td.num { (b.actual) } td.num { (b.committed) } td.num { (b.forecast) } td.num { (money_or_dash(b.available)) } } } }
            }
        }
        div.chart-pair {
            (charts::lines("grafiek-resterend", "Resterend saldo per financieringsbron", "Per financieringsbron het resterende bedrag aan het eind van elk jaar; onder de nullijn is tekort. De cijfers staan in de tabel hiernaast.", &years, &series))
            table {
                caption { "Gegevens van de grafiek: resterend per bron" }
                thead { tr { th scope="col" { "Bron" } @for y in &years { th.num scope="col" { (y) } } } }
                tbody { @for s in &series { tr { th scope="row" { (s.label) } @for (_, m) in &s.points { td.num { (m) } } } } }
            }
        }
    }
}

fn scenario_line(o: &Overview) -> Markup {
    html! {
        p.lead {
            @match &o.scenario {
                Some(s) => {
                    "Prognose volgens scenario " a href={"/scenarios/" (s.id)} { "‘" (s.name) "’" }
                    " (instroom " (s.variant.label()) ", voor instroom vanaf " (s.forecast_from) ")."
                    @if !s.unpriced_routes.is_empty() {
                        " Niet geprijsd (geen tarief in een contract): " (s.unpriced_routes.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) "."
                    }
                }
                None => { "Zonder prognose: kies een scenario om de verwachte instroom mee te nemen." }
            }
            @if let Some(s) = &o.snapshot { " Vergeleken met snapshot ‘" (s.name) "’." }
            @if let Some(b) = &o.stream { " Alleen bron " (b) "." }
        }
        @if let Some(s) = &o.scenario {
            p #prognoseregel {
                "Wie al geplaatst is, telt als verplichting en niet nog eens als prognose: per instroomjaar telt de prognose alleen de instroom die nog niet geplaatst is (instroom − plaatsingen Wet inburgering 2021 met een start in dat jaar, nooit onder nul)."
                @for c in s.counted.iter().filter(|c| c.placed > 0) {
                    " " (c.year) ": instroom " (c.inflow) " (" (s.variant.label()) "), al geplaatst " (c.placed) ", in de prognose " (c.counted) "."
                }
            }
        }
    }
}

/// The overview page: the filters as typed, and either the overview they ask for or why it cannot be made.
struct OverviewPage {
    query: OverviewQuery,
    choices: Choices,
    /// The forecast year the filters propose: next year.
    forecast_default: i32,
    shown: Result<ShownOverview, String>,
}

/// An overview that could be made from the filters.
struct ShownOverview {
    params: OverviewParams,
    /// The tables shown, drawn (see [`Drawn`]).
    tables: Vec<(ViewKind, Arc<String>)>,
    overview: std::sync::Arc<Overview>,
    /// The permalink's query string.
    link: String,
    /// The view whose table is shown, or "alle".
    view: &'static str,
}

async fn load_overview(state: &AppState, q: OverviewQuery) -> AppResult<OverviewPage> {
    let forecast_default = dates::today().year() + 1;
    let p = match q.params() {
        Ok(p) => p,
        Err(e) => {
            return Ok(OverviewPage { choices: choices(state).await?, query: q, forecast_default, shown: Err(e) })
        }
    };
    let (o, inputs) = overview::build(&state.db, &p, Some(&state.overview_cache)).await?;
    // The choices come from the kept inputs; only the (small) snapshot list is read.
    let c = Choices {
        scenarios: inputs.scenarios.iter().map(|s| (s.id, s.name.clone())).collect(),
        streams: inputs.streams.iter().map(|s| s.code.clone()).collect(),
        snapshots: store::overview::snapshots(&state.db).await?.into_iter().map(|s| (s.id, s.name)).collect(),
    };
    let link = permalink(&p);
    // One view's table at a time keeps the page readable (and light); the print view and exports hold all.
    let view = match q.weergave.trim() {
        "alle" => "alle",
        w => ViewKind::parse(w).unwrap_or(ViewKind::Stream).code(),
    };
    let tables = ViewKind::ALL
        .into_iter()
        .filter(|kind| view == "alle" || view == kind.code())
        .map(|kind| (kind, state.overview_drawn.table(&o, &p, kind, true)))
        .collect();
    Ok(OverviewPage {
        query: q,
        choices: c,
        forecast_default,
        shown: Ok(ShownOverview { tables, params: p, overview: o, link, view }),
    })
}

async fn page(chrome: Chrome, State(state): State<AppState>, Query(q): Query<OverviewQuery>) -> AppResult<Response> {
    let page = load_overview(&state, q).await?;
    let status = if page.shown.is_ok() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, render_overview(&chrome, &page)).into_response())
}

fn render_overview(chrome: &Chrome, page: &OverviewPage) -> Markup {
    let (q, c) = (&page.query, &page.choices);
    let ShownOverview { params: p, overview: o, link, view: shown, tables } = match &page.shown {
        Ok(s) => s,
        Err(e) => {
            let body =
                html! { h1 { "Meerjarenoverzicht" } (filters(q, None, c, page.forecast_default, Some(e.as_str()))) };
            return chrome.page("Meerjarenoverzicht", body);
        }
    };
    let shown = *shown;
    let may_freeze = chrome.may(Permission::ManageForecasts);
    let body = html! {
        h1 { "Meerjarenoverzicht " (o.from) "–" (o.to) }
        (scenario_line(o))
        (filters(q, Some(p), c, page.forecast_default, None))
        p { "Vaste link naar dit overzicht: " a href={"/meerjarenoverzicht?" (link)} { code { "/meerjarenoverzicht?" (link) } } }
        div.actions {
            a.button.secondary href={"/meerjarenoverzicht/afdrukken?" (link)} { "Afdrukversie" }
            a.button.secondary href={"/meerjarenoverzicht/export.xlsx?" (link)} { "Download Excel (xlsx)" }
            a.button.secondary href={"/meerjarenoverzicht/export.csv?" (link)} { "Download CSV" }
            a.button.secondary href={"/meerjarenoverzicht/export.json?" (link)} { "Download JSON" }
            a href="/scenarios" { "Scenario's" }
            a href="/snapshots" { "Snapshots" }
        }
        @if may_freeze {
            (snapshot_form(chrome, p, "", &FieldErrors::new()))
        }
        h2 { "Grafieken" }
        (charts_of(o))
        h2 #cijfers { "Cijfers" }
        nav.view-tabs aria-label="Weergave van de cijfers" {
            ul {
                @for (code, label) in ViewKind::ALL.iter().map(|k| (k.code(), k.title())).chain(std::iter::once(("alle", "Alle weergaven"))) {
                    li { a href={"/meerjarenoverzicht?" (link) "&weergave=" (code) "#cijfers"} aria-current=[(code == shown).then_some("page")] { (label) } }
                }
            }
        }
        @for (kind, table) in tables {
            h3 #(kind.code()) { (kind.title()) }
            // Drawn by view_table from the same overview and parameters (maud escaped what it holds).
            (PreEscaped(table.as_str()))
        }
    };
    chrome.page("Meerjarenoverzicht", body)
}

fn snapshot_form(chrome: &Chrome, p: &OverviewParams, name: &str, errors: &FieldErrors) -> Markup {
    html! {
        form.inline method="post" action="/snapshots" {
            (chrome.csrf_field())
            input type="hidden" name="van" value=(p.years.start());
            input type="hidden" name="tot" value=(p.years.end());
            @if let Some(s) = p.scenario_id {
                input type="hidden" name="scenario" value=(s);
                input type="hidden" name="variant" value=(p.variant.code());
                input type="hidden" name="prognose_vanaf" value=(p.forecast_from);
            }
            @if let Some(b) = &p.stream { input type="hidden" name="bron" value=(b); }
            (Field::new("name", "Bevries dit overzicht als snapshot, naam", name, errors).hint("Bijvoorbeeld ‘Begroting 2027’ of ‘Voorjaarsnota 2027’; de naam moet uniek zijn").text())
            button type="submit" { "Snapshot opslaan" }
        }
    }
}

/// What is behind one figure of the overview: its amounts, aggregates only.
struct DetailPage {
    params: OverviewParams,
    kind: ViewKind,
    /// The row's label and the year or years of the figure.
    label: String,
    when: String,
    /// Each amount with, when the small-cell rule hides it, what it is without its participants.
    atoms: Vec<(Atom, Option<String>)>,
    total: Money,
}

/// `cells` is the viewer's small-cell rule: money of fewer than 5 placements is not shown to the policy adviser.
async fn load_detail(state: &AppState, q: &OverviewQuery, cells: SmallCells) -> AppResult<DetailPage> {
    let p = q.params().map_err(AppError::BadRequest)?;
    let kind = ViewKind::parse(&q.weergave).ok_or_else(|| AppError::BadRequest("onbekende weergave".into()))?;
    let year = q.jaar.trim().parse::<i32>().ok();
    let (o, inputs) = overview::build(&state.db, &p, Some(&state.overview_cache)).await?;
    let atoms = overview::behind(&inputs, &o, kind, &q.sleutel, year);
    let label = o
        .view(kind)
        .rows
        .iter()
        .chain(std::iter::once(&o.view(kind).totals))
        .find(|r| r.key == q.sleutel)
        .map(|r| r.label.clone())
        .ok_or(AppError::NotFound)?;
    let total: Money = atoms.iter().map(|a| a.amount).sum();
    let when = year.map(|y| y.to_string()).unwrap_or_else(|| format!("{}–{}", o.from, o.to));
    let atoms = atoms
        .into_iter()
        .map(|a| {
            let hidden = a.participants.as_ref().filter(|(n, _)| cells.hides(*n)).map(|(_, what)| what.clone());
            (a.clone(), hidden)
        })
        .collect();
    Ok(DetailPage { params: p, kind, label, when, atoms, total })
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Query(q): Query<OverviewQuery>) -> AppResult<Markup> {
    Ok(render_detail(&chrome, &load_detail(&state, &q, chrome.small_cells()).await?))
}

fn render_detail(chrome: &Chrome, page: &DetailPage) -> Markup {
    let DetailPage { params: p, kind, label, when, atoms, total } = page;
    let kind = *kind;
    let finance = chrome.may(Permission::ManageFinance);
    chrome.page(
        "Wat zit erachter",
        html! {
            p.breadcrumb { a href={"/meerjarenoverzicht?" (permalink(p)) "#" (kind.code())} { "Meerjarenoverzicht" } }
            h1 { (label) ", " (when) }
            p { "De bedragen achter dit cijfer (" (kind.title().to_lowercase()) "), samen " (total) ". Geen gegevens van deelnemers: alleen totalen." }
            table {
                caption { "Opbouw" }
                thead { tr { th scope="col" { "Soort" } th scope="col" { "Jaar" } th scope="col" { "Omschrijving" } th.num scope="col" { "Bedrag" } } }
                tbody {
                    @for (a, hidden) in atoms {
                        tr {
                            td { (a.kind.label()) @if a.overdue { " (vervallen, niet gefactureerd)" } }
                            td { (a.year) }
                            td {
                                @match hidden { Some(what) => { (what) " (" (HIDDEN) " deelnemers)" } None => { (a.description) } }
                                @if finance && a.kind == overview::AtomKind::Actual {
                                    @if let Some(s) = a.stream_id { " · " a href={"/aansluiting/regels?jaar=" (a.year) "&bron=" (s)} { "boekingsregels" } }
                                }
                            }
                            td.num { @if hidden.is_some() { (HIDDEN) } @else { (a.amount) } }
                        }
                    }
                    @if atoms.is_empty() { tr { td colspan="4" { "Geen bedragen." } } }
                }
                tfoot { tr { th scope="row" colspan="3" { "Totaal" } td.num { (total) } } }
            }
        },
    )
}

/// The print view: every view's table, with the date the figures stand on.
struct PrintPage {
    params: OverviewParams,
    overview: std::sync::Arc<Overview>,
    /// Every view's table, drawn without links (see [`Drawn`]).
    tables: Vec<(ViewKind, Arc<String>)>,
    as_of: Date,
}

async fn load_print(state: &AppState, q: &OverviewQuery) -> AppResult<PrintPage> {
    let params = q.params().map_err(AppError::BadRequest)?;
    let (overview, _) = overview::build(&state.db, &params, Some(&state.overview_cache)).await?;
    let tables = ViewKind::ALL
        .into_iter()
        .map(|kind| (kind, state.overview_drawn.table(&overview, &params, kind, false)))
        .collect();
    Ok(PrintPage { params, overview, tables, as_of: dates::today() })
}

async fn print(chrome: Chrome, State(state): State<AppState>, Query(q): Query<OverviewQuery>) -> AppResult<Markup> {
    Ok(render_print(&chrome, &load_print(&state, &q).await?))
}

fn render_print(chrome: &Chrome, page: &PrintPage) -> Markup {
    let (p, o) = (&page.params, &page.overview);
    let title = format!("Meerjarenoverzicht inburgering {}–{}", o.from, o.to);
    // The print view has its own frame; on screen its tables scroll in their own region as on every page.
    crate::web::views::tables::scroll_tables(html! {
        (maud::DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · taalbudget" }
                link rel="stylesheet" href="/static/style.css";
                link rel="stylesheet" href="/static/print.css";
                link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
            }
            body.print-view {
                main.memo {
                    p.no-print { a href={"/meerjarenoverzicht?" (permalink(p))} { "Terug naar het overzicht" } " · gebruik de afdrukfunctie van uw browser" }
                    h1 { (title) }
                    (scenario_line(o))
                    p.muted { "Stand van " (dates::display(page.as_of)) ". Bedragen in euro's; bron: taalbudget (" (chrome.user.as_ref().map(|u| u.username.as_str()).unwrap_or("")) ")." }
                    (charts_of(o))
                    @for (kind, table) in &page.tables {
                        section.view {
                            h2 { (kind.title()) }
                            // Drawn by view_table from the same overview and parameters.
                            (PreEscaped(table.as_str()))
                        }
                    }
                }
            }
        }
    })
}

async fn exported(state: &AppState, q: &OverviewQuery) -> AppResult<std::sync::Arc<Overview>> {
    let p = q.params().map_err(AppError::BadRequest)?;
    Ok(overview::build(&state.db, &p, Some(&state.overview_cache)).await?.0)
}

fn file_name(o: &Overview, ext: &str) -> String {
    format!("meerjarenoverzicht-{}-{}.{ext}", o.from, o.to)
}

async fn export_csv(State(state): State<AppState>, Query(q): Query<OverviewQuery>) -> AppResult<Response> {
    let o = exported(&state, &q).await?;
    let bytes =
        state.overview_drawn.file(&o, "csv", || export::overview_csv(&o)).map_err(|e| AppError::Internal(e.into()))?;
    Ok(super::download(bytes.to_vec(), "text/csv; charset=utf-8", &file_name(&o, "csv")))
}

async fn export_xlsx(State(state): State<AppState>, Query(q): Query<OverviewQuery>) -> AppResult<Response> {
    let o = exported(&state, &q).await?;
    let bytes = state
        .overview_drawn
        .file(&o, "xlsx", || export::overview_xlsx(&o))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(super::download(bytes.to_vec(), super::XLSX, &file_name(&o, "xlsx")))
}

async fn export_json(State(state): State<AppState>, Query(q): Query<OverviewQuery>) -> AppResult<Response> {
    let o = exported(&state, &q).await?;
    let bytes = state
        .overview_drawn
        .file(&o, "json", || Ok::<_, std::convert::Infallible>(export::overview_json(&o).into_bytes()));
    let bytes = bytes.unwrap_or_else(|never| match never {});
    Ok(super::download(bytes.to_vec(), "application/json", &file_name(&o, "json")))
}

/// The list of snapshots.
struct SnapshotsPage {
    snapshots: Vec<Snapshot>,
}

async fn load_snapshots(state: &AppState) -> AppResult<SnapshotsPage> {
    Ok(SnapshotsPage { snapshots: store::overview::snapshots(&state.db).await? })
}

async fn snapshots_page(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_snapshots(&chrome, &load_snapshots(&state).await?))
}

fn render_snapshots(chrome: &Chrome, page: &SnapshotsPage) -> Markup {
    let list = &page.snapshots;
    chrome.page(
        "Snapshots",
        html! {
            p.breadcrumb { a href="/meerjarenoverzicht" { "Meerjarenoverzicht" } }
            h1 { "Snapshots" }
            p { "Een snapshot bevriest de cijfers van een overzicht (bijvoorbeeld voor de begroting). Open een overzicht met een snapshot om per cijfer het verschil sindsdien te zien. Een snapshot maakt u vanaf het meerjarenoverzicht." }
            table {
                caption { "Bevroren overzichten" }
                thead { tr { th scope="col" { "Naam" } th scope="col" { "Jaren" } th scope="col" { "Scenario" } th scope="col" { "Gemaakt door" } th scope="col" { "Op" } } }
                tbody {
                    @for s in list {
                        tr {
                            th scope="row" { a href={"/meerjarenoverzicht?van=" (s.from_year) "&tot=" (s.to_year) "&snapshot=" (s.id)} { (s.name) } }
                            td { (s.from_year) "–" (s.to_year) }
                            td { (s.scenario_name.clone().unwrap_or_else(|| "geen".into())) }
                            td { (s.created_by) }
                            td { (dates::display_timestamp(&s.created_at)) }
                        }
                    }
                    @if list.is_empty() { tr { td colspan="5" { "Nog geen snapshots." } } }
                }
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SnapshotForm {
    name: String,
    #[serde(flatten)]
    query: OverviewQuery,
}

async fn create_snapshot(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<SnapshotForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let name = validation::text(&mut errors, "name", "Naam", &form.name, 100, true);
    let p = match form.query.params() {
        Ok(p) => p,
        Err(e) => return Err(AppError::BadRequest(e)),
    };
    let refuse = |status: StatusCode, errors: FieldErrors| -> Response {
        let body = html! {
            p.breadcrumb { a href={"/meerjarenoverzicht?" (permalink(&p))} { "Meerjarenoverzicht" } }
            h1 { "Snapshot opslaan" }
            (error_summary(&errors, &[("name", "Naam")]))
            (snapshot_form(&chrome, &p, &form.name, &errors))
        };
        (status, chrome.page("Snapshot opslaan", body)).into_response()
    };
    if !errors.is_empty() {
        return Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, errors));
    }
    // The snapshot freezes the figures themselves, never a comparison with another snapshot.
    let params = OverviewParams { snapshot_id: None, ..p.clone() };
    let (o, _) = overview::build(&state.db, &params, Some(&state.overview_cache)).await?;
    let rows = overview::snapshot_rows(&o);
    let scenario = o.scenario.as_ref().map(|s| format!("{} ({})", s.name, s.variant.label()));
    match store::overview::create_snapshot(&state.db, &name, p.years.clone(), scenario.as_deref(), &rows, user.actor())
        .await
    {
        Ok(id) => {
            let to = OverviewParams { snapshot_id: Some(id), ..params };
            Ok(Redirect::to(&format!("/meerjarenoverzicht?{}", permalink(&to))).into_response())
        }
        Err(OverviewError::DuplicateName(n)) => {
            let mut e = FieldErrors::new();
            e.add("name", format!("Er is al een snapshot met de naam ‘{n}’; kies een andere naam."));
            Ok(refuse(StatusCode::CONFLICT, e))
        }
        Err(e) => Err(e.into()),
    }
}
