//! The council's progress letter (voortgangsbrief, issue 25): the indicators of a year and the two years before
//! it, laid out as the letter's sections with tables, a one-sentence summary per table, charts and the
//! definitions. One model, three outputs: Word (`letter_docx`), a workbook and JSON, so every output carries the
//! same figures. The letter goes to the council, so the small-cell rule always applies: a figure about 1 to 4
//! people reads "minder dan 5" everywhere in it.
//!
//! Freezing: producing the Word letter stores its figures (`Frozen`) as the snapshot "Voortgangsbrief {year}";
//! next year's letter compares its figures of that year with the frozen ones ("verschil met de vorige brief").

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
use time::Date;

use crate::domain::dates;
use crate::domain::fixed::{dutch_decimal, pct_text};
use crate::domain::forecast::InflowGroup;
use crate::domain::inflow::InflowCategory;
use crate::domain::route::Cohort;
use crate::domain::scorecard::ScoreLine;
use crate::domain::small_cell::{SmallCells, HIDDEN};
use crate::money::Money;
use crate::report::indicators::{Indicators, YearIndicators, DEFINITIONS};
use crate::report::scorecard::{hidden, Group, PARTS};

/// One figure of the letter, with its kind so that every output writes it its own way (a number in the
/// workbook, Dutch text in Word and on the page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fig {
    Count(i64),
    Money(Money),
    /// A percentage, one decimal.
    Percent(Decimal),
    /// A number of days, one decimal.
    Days(Decimal),
    /// A figure the small-cell rule hides.
    Hidden,
    /// No figure (nothing reported, no base for a share).
    Missing,
    Text(String),
}

impl Fig {
    /// The figure as the screens write it.
    pub fn text(&self) -> String {
        match self {
            Fig::Count(n) => n.to_string(),
            Fig::Money(m) => m.to_string(),
            Fig::Percent(p) => pct_text(Some(*p)),
            Fig::Days(d) => dutch_decimal(*d),
            Fig::Hidden => HIDDEN.to_string(),
            Fig::Missing => "–".to_string(),
            Fig::Text(t) => t.clone(),
        }
    }

    /// The number behind the figure, if any.
    pub fn value(&self) -> Option<Decimal> {
        match self {
            Fig::Count(n) => Some(Decimal::from(*n)),
            Fig::Money(m) => Some(m.decimal()),
            Fig::Percent(d) | Fig::Days(d) => Some(*d),
            Fig::Hidden | Fig::Missing | Fig::Text(_) => None,
        }
    }

    /// The kind's code in JSON and in the frozen snapshot.
    pub fn kind(&self) -> &'static str {
        match self {
            Fig::Count(_) => "aantal",
            Fig::Money(_) => "bedrag",
            Fig::Percent(_) => "procent",
            Fig::Days(_) => "dagen",
            Fig::Hidden => "verborgen",
            Fig::Missing => "geen",
            Fig::Text(_) => "tekst",
        }
    }

    fn count(cells: SmallCells, n: i64) -> Fig {
        if cells.hides(u32::try_from(n).unwrap_or(u32::MAX)) {
            Fig::Hidden
        } else {
            Fig::Count(n)
        }
    }

    fn percent(p: Option<Decimal>) -> Fig {
        p.map_or(Fig::Missing, Fig::Percent)
    }
}

/// In JSON a figure is `{"tekst": "81,0%", "soort": "procent", "waarde": "81.0"}`: the text as printed and the
/// exact number (a decimal string, as money is everywhere in the JSON) for whoever builds a letter of their own.
impl Serialize for Fig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Fig", 3)?;
        st.serialize_field("tekst", &self.text())?;
        st.serialize_field("soort", self.kind())?;
        st.serialize_field("waarde", &self.value().map(|d| d.normalize().to_string()))?;
        st.end()
    }
}

/// One row: its label and a figure per column.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub label: String,
    pub cells: Vec<Fig>,
}

/// A table of the letter. `years` is true when its columns are the letter's years (those tables are compared
/// with the previous letter).
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    pub id: &'static str,
    pub caption: String,
    /// The generated one-sentence summary that opens the table in the letter.
    pub summary: String,
    /// The first column's heading and the figures' headings.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub years: bool,
    /// The indicator (an id of `DEFINITIONS`) the table shows, if one.
    pub definition: Option<&'static str>,
}

/// A chart: the same SVG as on the indicator page, and its legend (which the page puts next to it).
#[derive(Clone, Debug, Serialize)]
pub struct Chart {
    pub title: String,
    pub description: String,
    #[serde(skip)]
    pub svg: String,
    pub legend: Vec<String>,
}

impl Chart {
    /// The chart of a page's `figure`: the bare SVG (with the namespace a standalone file needs), its title and
    /// description, and the legend items as text.
    pub fn from_figure(figure: &maud::Markup) -> Chart {
        let html = figure.0.as_str();
        let svg = match (html.find("<svg"), html.find("</svg>")) {
            (Some(a), Some(b)) if a < b => {
                html[a..b + "</svg>".len()].replacen("<svg", r#"<svg xmlns="http://www.w3.org/2000/svg""#, 1)
            }
            _ => String::new(),
        };
        let inner = |tag: &str, from: &str| -> Vec<String> {
            let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
            let mut out = Vec::new();
            let mut rest = from;
            while let Some(a) = rest.find(&open) {
                let Some(start) = rest[a..].find('>').map(|i| a + i + 1) else { break };
                let Some(end) = rest[start..].find(&close).map(|i| start + i) else { break };
                out.push(plain_text(&rest[start..end]));
                rest = &rest[end + close.len()..];
            }
            out
        };
        let svg_part = &html[..html.find("</svg>").unwrap_or(html.len())];
        let legend_part = &html[html.find("<figcaption").unwrap_or(html.len())..];
        Chart {
            title: inner("title", svg_part).into_iter().next().unwrap_or_default(),
            description: inner("desc", svg_part).into_iter().next().unwrap_or_default(),
            svg,
            legend: inner("li", legend_part),
        }
    }
}

/// Markup's text without its tags, entities decoded (the few maud writes).
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub heading: String,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
}

/// One definition for the appendix.
#[derive(Clone, Debug, Serialize)]
pub struct Definition {
    pub name: &'static str,
    pub definition: &'static str,
    pub source: &'static str,
}

/// The letter: title block, sections, the appendix.
#[derive(Clone, Debug, Serialize)]
pub struct Letter {
    pub year: i32,
    pub title: String,
    /// The date the figures were read (the data's date), as `2026-12-07`.
    pub data_date: String,
    #[serde(skip)]
    pub data_day: Date,
    pub scenario: Option<String>,
    pub years: Vec<i32>,
    pub sections: Vec<Section>,
    pub definitions: Vec<Definition>,
}

/// The name of the snapshot a year's letter is frozen as.
pub fn snapshot_name(year: i32) -> String {
    format!("Voortgangsbrief {year}")
}

/// One frozen figure: where it stood in the letter and what it said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frozen {
    pub table: String,
    pub caption: String,
    pub row: String,
    pub year: i32,
    pub kind: String,
    pub text: String,
    pub value: Option<Decimal>,
}

/// The previous letter as stored: when, by whom, and its figures.
#[derive(Clone, Debug)]
pub struct PreviousLetter {
    pub year: i32,
    pub created_at: String,
    pub created_by: String,
    pub figures: Vec<Frozen>,
}

impl Letter {
    /// The figures of the year tables, per year: what freezing stores.
    pub fn frozen(&self) -> Vec<Frozen> {
        let mut out = Vec::new();
        for t in self.sections.iter().flat_map(|s| &s.tables).filter(|t| t.years) {
            for r in &t.rows {
                for (year, f) in self.years.iter().zip(&r.cells) {
                    out.push(Frozen {
                        table: t.id.to_string(),
                        caption: t.caption.clone(),
                        row: r.label.clone(),
                        year: *year,
                        kind: f.kind().to_string(),
                        text: f.text(),
                        value: f.value(),
                    });
                }
            }
        }
        out
    }

    /// Every figure's text, in order (for the checks that each output carries all of them).
    pub fn figure_texts(&self) -> Vec<String> {
        self.sections
            .iter()
            .flat_map(|s| &s.tables)
            .flat_map(|t| t.rows.iter().flat_map(|r| r.cells.iter().map(Fig::text)))
            .collect()
    }
}

fn signed_count(d: i64) -> String {
    match d {
        0 => "evenveel als".into(),
        d if d > 0 => format!("{d} meer dan"),
        d => format!("{} minder dan", -d),
    }
}

/// A row of a year table: the figure `f` gives for each of the letter's years.
fn per_year(label: impl Into<String>, ind: &Indicators, f: impl Fn(&YearIndicators) -> Fig) -> Row {
    Row { label: label.into(), cells: ind.years.iter().map(f).collect() }
}

fn year_columns(first: &str, years: &[i32]) -> Vec<String> {
    std::iter::once(first.to_string()).chain(years.iter().map(|y| y.to_string())).collect()
}

/// The difference between two figures of the same kind, in the kind's own words ("+12", "-1,5 procentpunt").
fn difference(kind: &str, then: Decimal, now: Decimal) -> String {
    let d = now - then;
    let sign = if d > Decimal::ZERO { "+" } else { "" };
    match kind {
        "bedrag" => {
            let m = Money::from_decimal(d);
            if d > Decimal::ZERO {
                format!("+{m}")
            } else {
                m.to_string()
            }
        }
        "procent" => format!("{sign}{} procentpunt", dutch_decimal(d)),
        _ => format!("{sign}{}", dutch_decimal(d)),
    }
}

/// Builds the letter of the last year of `ind` (the years before it are its comparison columns), with the
/// charts drawn by `charts` (the indicator page's), against the previous letter when one was frozen.
pub fn build(ind: &Indicators, today: Date, previous: Option<&PreviousLetter>) -> Option<Letter> {
    let this = ind.years.last()?;
    let ys: Vec<i32> = ind.years.iter().map(|y| y.year).collect();
    let cells = SmallCells::new(true);
    let scenario = ind.scenario.as_ref().map(|(_, n)| n.clone());
    let mut sections =
        vec![inflow_section(ind, this, &ys, cells), starts_section(ind, this, &ys, cells), providers_section(ind, &ys)];
    sections.push(money_section(ind, this, &ys));
    let mut letter = Letter {
        year: this.year,
        title: format!("Voortgangsbrief inburgering {}", this.year),
        data_date: dates::iso(today),
        data_day: today,
        scenario,
        years: ys,
        sections,
        definitions: DEFINITIONS
            .iter()
            .map(|d| Definition { name: d.name, definition: d.definition, source: d.source.1 })
            .collect(),
    };
    if let Some(p) = previous {
        letter.sections.push(difference_section(&letter, p));
    }
    Some(letter)
}

fn previous_year(ind: &Indicators) -> Option<&YearIndicators> {
    ind.years.len().checked_sub(2).map(|i| &ind.years[i])
}

fn inflow_section(ind: &Indicators, this: &YearIndicators, ys: &[i32], cells: SmallCells) -> Section {
    let mut rows: Vec<Row> = InflowCategory::NEWCOMERS
        .iter()
        .map(|c| per_year(c.label(), ind, |y| Fig::count(cells, y.inflow.inflow.get(c).copied().unwrap_or(0))))
        .collect();
    rows.push(per_year("Totaal", ind, |y| Fig::count(cells, y.inflow.total())));
    rows.push(per_year("Maanden met een telling", ind, |y| Fig::Count(i64::from(y.inflow.months_counted))));
    let total = this.inflow.total();
    let asylum = this.inflow.scenario_group(InflowGroup::Asylum);
    let family = this.inflow.scenario_group(InflowGroup::Family);
    let mut summary =
        format!("In {} werden {} nieuwe inburgeringsplichtigen aan de gemeente gekoppeld", this.year, total);
    if let Some(prev) = previous_year(ind).filter(|p| p.inflow.months_counted > 0) {
        summary += &format!(", {} in {}", signed_count(total - prev.inflow.total()), prev.year);
    }
    summary += &format!(": {asylum} asielmigranten en {family} gezins- en overige migranten.");
    if this.inflow.months_counted < 12 {
        summary = format!(
            "{} Het jaar is niet compleet: {} van de 12 maanden hebben een telling.",
            summary.trim_end(),
            this.inflow.months_counted
        );
    }
    let mut tables = vec![Table {
        id: "instroom",
        caption: "Nieuwe inburgeringsplichtigen per groep en jaar".into(),
        summary,
        columns: year_columns("Groep", ys),
        rows,
        years: true,
        definition: Some("instroom"),
    }];
    if let (Some((_, name)), false) = (&ind.scenario, this.expectations.is_empty()) {
        let rows = this
            .expectations
            .iter()
            .map(|e| Row {
                label: e.group.label().to_string(),
                cells: vec![Fig::count(cells, e.actual), Fig::Count(e.low), Fig::Count(e.expected), Fig::Count(e.high)],
            })
            .collect();
        let words: Vec<String> = this
            .expectations
            .iter()
            .map(|e| {
                let place = if e.actual < e.low {
                    "onder de lage verwachting"
                } else if e.actual > e.high {
                    "boven de hoge verwachting"
                } else {
                    "binnen de bandbreedte"
                };
                format!("{} {} ({} tot {})", e.group.label().to_lowercase(), place, e.low, e.high)
            })
            .collect();
        tables.push(Table {
            id: "scenario",
            caption: format!("Werkelijke instroom {} en de verwachting van scenario ‘{name}’", this.year),
            summary: format!("Tegen scenario ‘{name}’ lag de instroom van {}.", words.join(" en van ")),
            columns: ["Groep", "Werkelijk", "Laag", "Verwacht", "Hoog"].map(String::from).to_vec(),
            rows,
            years: false,
            definition: Some("scenario"),
        });
    }
    let waiting_rows: Vec<Row> = InflowCategory::WAITING
        .iter()
        .map(|c| {
            per_year(c.label(), ind, |y| y.inflow.waiting.get(c).map_or(Fig::Missing, |(_, n)| Fig::count(cells, *n)))
        })
        .collect();
    let sizes: Vec<String> = InflowCategory::WAITING
        .iter()
        .filter_map(|c| this.inflow.waiting.get(c).map(|(q, n)| (c, q, *n)))
        .map(|(c, q, n)| {
            let who = if *c == InflowCategory::Elip { "in de ELIP-groep" } else { "onder de Wi2013 (zonder ELIP)" };
            format!("{} {who} (stand K{q})", Fig::count(cells, n).text())
        })
        .collect();
    tables.push(Table {
        id: "ondertussengroep",
        caption: "Omvang van de Ondertussengroep aan het eind van het laatst gemeten kwartaal".into(),
        summary: if sizes.is_empty() {
            format!("Voor {} is de omvang van de Ondertussengroep niet vastgelegd.", this.year)
        } else {
            format!("Eind {} telde de Ondertussengroep {}.", this.year, sizes.join(" en "))
        },
        columns: year_columns("Groep", ys),
        rows: waiting_rows,
        years: true,
        definition: Some("ondertussengroep"),
    });
    Section {
        heading: "Instroom".into(),
        tables,
        charts: vec![Chart::from_figure(&crate::web::indicators::inflow_chart(ind, cells))],
    }
}

fn line_fig(cells: SmallCells, l: &ScoreLine, group: Group, f: Fig) -> Fig {
    if hidden(cells, l, group) {
        Fig::Hidden
    } else {
        f
    }
}

fn starts_fig(cells: SmallCells, l: &ScoreLine) -> Fig {
    line_fig(cells, l, Group::Line, l.reported_starts().map_or(Fig::Missing, |n| Fig::Count(n.into())))
}

fn starts_section(ind: &Indicators, this: &YearIndicators, ys: &[i32], cells: SmallCells) -> Section {
    let mut routes: Vec<_> = ind.years.iter().flat_map(|y| y.routes.iter().map(|r| r.route)).collect();
    routes.sort();
    routes.dedup();
    let mut rows: Vec<Row> = routes
        .iter()
        .map(|route| Row {
            label: route.label().to_string(),
            cells: ind
                .years
                .iter()
                .map(|y| {
                    y.routes.iter().find(|r| r.route == *route).map_or(Fig::Missing, |r| starts_fig(cells, &r.line))
                })
                .collect(),
        })
        .collect();
    rows.push(per_year("Alle routes", ind, |y| starts_fig(cells, &y.total)));
    let t = &this.total;
    let summary = match t.reported_starts() {
        None => format!("Voor {} zijn nog geen voortgangsrapportages met starts ontvangen.", this.year),
        Some(n) => {
            let mut s = format!("In {} startten {} inburgeraars", this.year, starts_fig(cells, t).text());
            if let Some(p) = previous_year(ind).and_then(|p| p.total.reported_starts()) {
                if !hidden(cells, t, Group::Line) {
                    s += &format!(", {} in {}", signed_count(i64::from(n) - i64::from(p)), this.year - 1);
                }
            }
            match t.within_three_months_pct() {
                Some(pct) if !hidden(cells, t, Group::Waiting) => {
                    s += &format!("; {} binnen drie maanden na het PIP.", pct_text(Some(pct)))
                }
                _ => s += ".",
            }
            s
        }
    };
    let mut tables = vec![Table {
        id: "starts",
        caption: "Gestarte plaatsingen per leerroute en jaar (uit de voortgangsrapportages)".into(),
        summary,
        columns: year_columns("Route", ys),
        rows,
        years: true,
        definition: Some("starts"),
    }];
    let cohort_rows: Vec<Row> = Cohort::ALL
        .iter()
        .map(|c| {
            per_year(c.label(), ind, |y| Fig::count(cells, i64::from(y.starts_by_cohort.get(c).copied().unwrap_or(0))))
        })
        .collect();
    let waiting = i64::from(this.starts_by_cohort.get(&Cohort::Wi2013).copied().unwrap_or(0))
        + i64::from(this.starts_by_cohort.get(&Cohort::Elip).copied().unwrap_or(0));
    tables.push(Table {
        id: "doelgroep",
        caption: "Gestarte plaatsingen per doelgroep en jaar".into(),
        summary: format!(
            "Van de starts in {} hoorden er {} bij de Ondertussengroep (Wi2013 en ELIP).",
            this.year,
            Fig::count(cells, waiting).text()
        ),
        columns: year_columns("Doelgroep", ys),
        rows: cohort_rows,
        years: true,
        definition: Some("doelgroep"),
    });
    // One column per route (and all routes), one row per figure: a letter's page is narrower than a screen.
    let lines: Vec<(&str, &ScoreLine)> = this
        .routes
        .iter()
        .map(|r| (r.route.label(), &r.line))
        .chain(std::iter::once(("Alle routes", &this.total)))
        .collect();
    let mut columns = vec!["Cijfer".to_string()];
    columns.extend(lines.iter().map(|(label, _)| label.to_string()));
    type Figure = Box<dyn Fn(&ScoreLine) -> Fig>;
    let mut figures: Vec<(String, Figure)> = vec![
        (
            "Gem. wachttijd PIP–eerste les (dagen)".into(),
            Box::new(move |l| line_fig(cells, l, Group::Waiting, l.avg_wait_days().map_or(Fig::Missing, Fig::Days))),
        ),
        (
            "Mediaan wachttijd (dagen)".into(),
            Box::new(move |l| line_fig(cells, l, Group::Waiting, l.median_wait_days().map_or(Fig::Missing, Fig::Days))),
        ),
        (
            "Binnen 3 maanden na PIP gestart".into(),
            Box::new(move |l| line_fig(cells, l, Group::Waiting, Fig::percent(l.within_three_months_pct()))),
        ),
        (
            "Aanwezigheid".into(),
            Box::new(move |l| line_fig(cells, l, Group::Reporting, Fig::percent(l.attendance_pct()))),
        ),
    ];
    for part in PARTS {
        figures.push((
            format!("Geslaagd bij 1e poging {}", part.label()),
            Box::new(move |l| {
                let f = l.first_attempts.get(&part).copied().unwrap_or_default();
                line_fig(cells, l, Group::Exam(part), if f.taken > 0 { Fig::percent(f.pct()) } else { Fig::Missing })
            }),
        ));
    }
    figures.push((
        "Routewijzigingen".into(),
        Box::new(move |l| line_fig(cells, l, Group::Line, Fig::Count(l.route_changes.into()))),
    ));
    figures.push(("Uitval".into(), Box::new(move |l| line_fig(cells, l, Group::Line, Fig::Count(l.dropouts.into())))));
    let progress_rows: Vec<Row> = figures
        .iter()
        .map(|(label, f)| Row { label: label.clone(), cells: lines.iter().map(|(_, l)| f(l)).collect() })
        .collect();
    let mut summary = format!("In {} was de aanwezigheid over alle routes {}", this.year, {
        line_fig(cells, t, Group::Reporting, Fig::percent(t.attendance_pct())).text()
    });
    summary += &format!(
        ", de mediaan wachttijd van PIP tot eerste les {} dagen, met {} routewijzigingen en {} uitvallers.",
        line_fig(cells, t, Group::Waiting, t.median_wait_days().map_or(Fig::Missing, Fig::Days)).text(),
        line_fig(cells, t, Group::Line, Fig::Count(t.route_changes.into())).text(),
        line_fig(cells, t, Group::Line, Fig::Count(t.dropouts.into())).text(),
    );
    tables.push(Table {
        id: "verloop",
        caption: format!("Verloop per leerroute in {}", this.year),
        summary,
        columns,
        rows: progress_rows,
        years: false,
        definition: Some("aanwezigheid"),
    });
    let count = |n: u32| Fig::Count(n.into());
    tables.push(Table {
        id: "aanwezigheid-norm",
        caption: "Contracten tegen hun eigen aanwezigheidsnorm, per jaar".into(),
        summary: format!(
            "In {} haalden {} van de {} contracten met aangeboden uren hun eigen aanwezigheidsnorm; {} bleven eronder.",
            this.year, this.contracts_meeting_norm, this.contracts_reporting, this.contracts_below_norm
        ),
        columns: year_columns("Contracten", ys),
        rows: vec![
            per_year("Met aangeboden uren", ind, |y| count(y.contracts_reporting)),
            per_year("Waarvan op of boven hun norm", ind, |y| count(y.contracts_meeting_norm)),
            per_year("Waarvan onder hun norm", ind, |y| count(y.contracts_below_norm)),
        ],
        years: true,
        definition: Some("aanwezigheid-norm"),
    });
    Section { heading: "Start en verloop".into(), tables, charts: Vec::new() }
}

fn providers_section(ind: &Indicators, ys: &[i32]) -> Section {
    let this = ind.years.last().expect("a letter has a year");
    let count = |n: u32| Fig::Count(n.into());
    let rows = vec![
        per_year("Met een lopend contract op 31 december", ind, |y| count(y.providers_under_contract)),
        per_year("Waarvan met een geldig keurmerk die dag", ind, |y| count(y.providers_with_mark)),
        per_year("Kwaliteitsplannen goedgekeurd", ind, |y| count(y.plans_approved)),
        per_year("Verbeterpunten over de streefdatum", ind, |y| count(y.overdue_actions)),
    ];
    let summary = format!(
        "Op 31 december {} hadden {} van de {} aanbieders met een lopend contract een geldig Blik op Werk-keurmerk; in het jaar werden {} kwaliteitsplannen goedgekeurd en stonden {} verbeterpunten over de streefdatum.",
        this.year, this.providers_with_mark, this.providers_under_contract, this.plans_approved, this.overdue_actions
    );
    let n = this.norm_results;
    let norms = Table {
        id: "resultaten-normen",
        caption: "Resultaten van de aanbieders tegen de normen, per meetjaar".into(),
        summary: format!(
            "Van de {} vergelijkingen van resultaten met meetjaar {} met de normen voldeden er {}, bleven er {} net onder de norm en voldeden er {} niet; {} aanbieders hadden minstens één ‘voldoet niet’.",
            n.total(),
            this.year,
            n.met,
            n.near,
            n.failed,
            this.providers_failing_norm
        ),
        columns: year_columns("Uitkomst", ys),
        rows: vec![
            per_year("Voldoet", ind, |y| count(y.norm_results.met)),
            per_year("Net onder de norm", ind, |y| count(y.norm_results.near)),
            per_year("Voldoet niet", ind, |y| count(y.norm_results.failed)),
            per_year("Aanbieders met minstens één ‘voldoet niet’", ind, |y| count(y.providers_failing_norm)),
        ],
        years: true,
        definition: Some("resultaten-normen"),
    };
    Section {
        heading: "Aanbieders".into(),
        tables: vec![
            Table {
                id: "aanbieders",
                caption: "Aanbieders, keurmerken en kwaliteit per jaar".into(),
                summary,
                columns: year_columns("Aanbieders", ys),
                rows,
                years: true,
                definition: Some("keurmerk"),
            },
            norms,
        ],
        charts: Vec::new(),
    }
}

fn money_section(ind: &Indicators, this: &YearIndicators, ys: &[i32]) -> Section {
    let stream_rows: Vec<Row> = this
        .streams
        .iter()
        .map(|s| Row {
            label: format!("{} ({})", s.name, s.code),
            cells: vec![
                Fig::Money(s.available),
                Fig::Money(s.actual),
                Fig::Money(s.committed),
                Fig::Money(s.remaining),
            ],
        })
        .collect();
    let sum = |f: fn(&crate::report::indicators::StreamMoney) -> Money| -> Money { this.streams.iter().map(f).sum() };
    let (available, actual, committed, remaining) =
        (sum(|s| s.available), sum(|s| s.actual), sum(|s| s.committed), sum(|s| s.remaining));
    let stream_summary = if this.streams.is_empty() {
        "Er zijn nog geen financieringsbronnen vastgelegd.".to_string()
    } else {
        format!(
            "In {} was over alle bronnen {available} beschikbaar, {actual} gerealiseerd en {committed} verplicht; er resteert {remaining}.",
            this.year
        )
    };
    let spend_rows = vec![
        per_year("Gerealiseerd, alle bronnen", ind, |y| Fig::Money(y.actual_total)),
        per_year("Per gestarte deelnemer", ind, |y| y.spend_per_start.map_or(Fig::Missing, Fig::Money)),
        per_year("Aandeel Ondertussengroep", ind, |y| Fig::percent(y.waiting_share)),
        per_year("Waarvan aandeel ELIP", ind, |y| Fig::percent(y.elip_share)),
    ];
    let mut spend_summary = format!("In {} werd {} gerealiseerd", this.year, this.actual_total);
    if let Some(p) = this.spend_per_start {
        spend_summary += &format!(", {p} per gestarte deelnemer");
    }
    match (this.waiting_share, this.elip_share) {
        (Some(w), Some(e)) => {
            spend_summary += &format!(
                "; {} ging naar de Ondertussengroep (waarvan {} naar ELIP).",
                pct_text(Some(w)),
                pct_text(Some(e))
            )
        }
        (Some(w), None) => spend_summary += &format!("; {} ging naar de Ondertussengroep.", pct_text(Some(w))),
        (None, Some(e)) => spend_summary += &format!("; {} ging naar ELIP.", pct_text(Some(e))),
        (None, None) => spend_summary += ".",
    }
    Section {
        heading: "Geld".into(),
        tables: vec![
            Table {
                id: "geld",
                caption: format!("Per financieringsbron in {} (de cijfers van de aansluiting)", this.year),
                summary: stream_summary,
                columns: ["Bron", "Beschikbaar", "Gerealiseerd", "Verplicht", "Resterend"].map(String::from).to_vec(),
                rows: stream_rows,
                years: false,
                definition: Some("geld"),
            },
            Table {
                id: "besteding",
                caption: "Besteding per jaar".into(),
                summary: spend_summary,
                columns: year_columns("Cijfer", ys),
                rows: spend_rows,
                years: true,
                definition: Some("per-deelnemer"),
            },
        ],
        charts: vec![Chart::from_figure(&crate::web::indicators::spend_chart(ind))],
    }
}

/// A stored timestamp (`2026-12-07T11:37:25Z`) as a letter writes its day: `7 december 2026`.
fn day_of(timestamp: &str) -> String {
    timestamp
        .get(..10)
        .and_then(|d| Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .map_or_else(|| timestamp.to_string(), dates::dutch_long)
}

fn difference_section(letter: &Letter, previous: &PreviousLetter) -> Section {
    let now = letter.frozen();
    let mut rows = Vec::new();
    let mut compared = 0usize;
    for then in previous.figures.iter().filter(|f| f.year == previous.year) {
        let Some(current) = now.iter().find(|n| n.table == then.table && n.row == then.row && n.year == then.year)
        else {
            continue;
        };
        compared += 1;
        if current.text != then.text {
            let diff = match (then.value, current.value) {
                (Some(a), Some(b)) if then.kind == current.kind => difference(&current.kind, a, b),
                _ => "–".to_string(),
            };
            rows.push(Row {
                label: format!("{}: {}", then.caption, then.row),
                cells: vec![Fig::Text(then.text.clone()), Fig::Text(current.text.clone()), Fig::Text(diff)],
            });
        }
    }
    let summary = if rows.is_empty() {
        format!(
            "Alle {compared} cijfers over {} in deze brief zijn gelijk aan die in de vorige brief ({}, vastgelegd op {}).",
            previous.year,
            snapshot_name(previous.year),
            day_of(&previous.created_at)
        )
    } else {
        format!(
            "Sinds de vorige brief ({}, vastgelegd op {}) zijn {} van de {compared} cijfers over {} veranderd, bijvoorbeeld door late boekingen of rapportages.",
            snapshot_name(previous.year),
            day_of(&previous.created_at),
            rows.len(),
            previous.year
        )
    };
    Section {
        heading: "Verschil met de vorige brief".into(),
        tables: vec![Table {
            id: "verschil",
            caption: format!("Cijfers over {} in de vorige brief en nu", previous.year),
            summary,
            columns: ["Cijfer", "In de vorige brief", "Nu", "Verschil"].map(String::from).to_vec(),
            rows,
            years: false,
            definition: None,
        }],
        charts: Vec::new(),
    }
}

/// How many years a letter sets side by side: its own and the two before it.
pub const LETTER_YEARS: i32 = 3;

/// The letter of `year` from the database: the indicators of that year and the two before it (through the
/// indicator page's one function), against the letter frozen for the year before, if any.
pub async fn load(
    db: &crate::store::Db,
    year: i32,
    scenario: Option<i64>,
    today: Date,
    kept: Option<crate::report::indicators::KeptInputs<'_>>,
) -> sqlx::Result<Letter> {
    let years: Vec<i32> = ((year - LETTER_YEARS + 1)..=year).collect();
    let ind = crate::report::indicators::for_years(db, &years, scenario, today, kept).await?;
    let previous = crate::store::letters::for_year(db, year - 1).await?;
    Ok(build(&ind, today, previous.as_ref()).expect("the indicators hold the letter's year"))
}

/// The letter as a workbook: a sheet "Brief" with the title block and every table's summary, a sheet per table
/// (numbers as numbers, a hidden figure as the text "minder dan 5") and the definitions.
pub fn letter_xlsx(letter: &Letter) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::report::export::{table_sheet, write_header, Cell};
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let tables: Vec<&Table> = letter.sections.iter().flat_map(|s| &s.tables).collect();
    {
        let ws = wb.add_worksheet();
        ws.set_name("Brief")?;
        write_header(ws, 0, &[("Onderdeel", 40.0), ("Tekst", 120.0)])?;
        let mut row = 1u32;
        for (k, v) in [
            ("Titel", letter.title.clone()),
            ("Stand van de gegevens", letter.data_date.clone()),
            ("Scenario", letter.scenario.clone().unwrap_or_else(|| "geen".into())),
        ] {
            ws.write_string(row, 0, k)?;
            ws.write_string(row, 1, v)?;
            row += 1;
        }
        for t in &tables {
            ws.write_string(row, 0, &t.caption)?;
            ws.write_string(row, 1, &t.summary)?;
            row += 1;
        }
    }
    let cell = |f: &Fig| -> Cell {
        match f {
            Fig::Count(n) => Cell::Count(*n),
            Fig::Money(m) => Cell::Money(*m),
            Fig::Percent(d) | Fig::Days(d) => Cell::Number(*d),
            Fig::Hidden => Cell::text(HIDDEN),
            Fig::Missing => Cell::Empty,
            Fig::Text(t) => Cell::text(t.clone()),
        }
    };
    for t in &tables {
        let columns: Vec<(String, f64)> =
            t.columns.iter().enumerate().map(|(i, c)| (c.clone(), if i == 0 { 44.0 } else { 18.0 })).collect();
        let rows = t
            .rows
            .iter()
            .map(|r| std::iter::once(Cell::text(r.label.clone())).chain(r.cells.iter().map(cell)).collect());
        table_sheet(&mut wb, t.id, &columns, rows)?;
    }
    table_sheet(
        &mut wb,
        "Definities",
        &[("Indicator", 40.0), ("Definitie", 120.0), ("Bron", 20.0)],
        letter.definitions.iter().map(|d| vec![Cell::text(d.name), Cell::text(d.definition), Cell::text(d.source)]),
    )?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_difference_is_said_in_its_figures_own_words() {
        assert_eq!(difference("aantal", dec!(40), dec!(45)), "+5");
        assert_eq!(difference("aantal", dec!(45), dec!(40)), "-5");
        assert_eq!(difference("procent", dec!(81.5), dec!(80)), "-1,5 procentpunt");
        assert_eq!(difference("bedrag", dec!(1000), dec!(1234.56)), "+€ 234,56");
        assert_eq!(difference("bedrag", dec!(1000), dec!(900)), "€ -100,00");
        assert_eq!(difference("dagen", dec!(37), dec!(37)), "0");
    }

    #[test]
    fn a_figure_keeps_its_number_and_prints_as_the_screens_do() {
        assert_eq!(Fig::Percent(dec!(97.8)).text(), "97,8%");
        assert_eq!(Fig::Days(dec!(38.5)).text(), "38,5");
        assert_eq!(Fig::Money(Money::from_cents(123_456)).text(), "€ 1.234,56");
        assert_eq!(Fig::Hidden.text(), "minder dan 5");
        assert_eq!(Fig::Hidden.value(), None);
        assert_eq!(Fig::count(SmallCells::new(true), 4), Fig::Hidden);
        assert_eq!(Fig::count(SmallCells::new(true), 0), Fig::Count(0), "a group of none reveals no one");
        assert_eq!(
            serde_json::to_value(Fig::Money(Money::from_cents(400_000))).unwrap(),
            serde_json::json!({"tekst": "€ 4.000,00", "soort": "bedrag", "waarde": "4000"})
        );
    }

    #[test]
    fn a_chart_comes_out_of_the_pages_figure_with_its_title_legend_and_a_standalone_svg() {
        let figure = maud::html! {
            figure.chart {
                svg role="img" viewBox="0 0 640 300" width="100%" { title { "Instroom & meer" } desc { "Per groep" } line x1="0" {} }
                figcaption { ul.legend { li { svg { line {} } "Gezinsmigranten (driehoek)" } li { "Onder <nul>" } } }
            }
        };
        let c = Chart::from_figure(&figure);
        assert_eq!(c.title, "Instroom & meer");
        assert_eq!(c.description, "Per groep");
        assert_eq!(c.legend, ["Gezinsmigranten (driehoek)", "Onder <nul>"]);
        assert!(c.svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" role="img""#), "{}", c.svg);
        assert!(c.svg.ends_with("</svg>"));
        assert_eq!(day_of("2026-12-07T11:37:25.99Z"), "7 december 2026");
    }
}
