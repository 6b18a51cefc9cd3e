//! Server-drawn SVG charts (maud, so every text is escaped): each has a title and a description, and the
//! page shows the same figures as a table next to it. Coordinates are integer arithmetic on cents. The value
//! axis always covers the data, negative values included, on round steps with zero among them; labels are
//! placed so that they never overlap.

use maud::{html, Markup};

use crate::money::Money;

const WIDTH: i64 = 640;
const HEIGHT: i64 = 300;
const LEFT: i64 = 90;
const RIGHT: i64 = 20;
const TOP: i64 = 20;
const BOTTOM: i64 = 40;
/// Room right of the lines for their names.
const LABEL_ROOM: i64 = 110;
/// Vertical room one line label needs (11 px text plus spacing).
const LABEL_GAP: i64 = 13;
/// Horizontal room a year label ("2027" at 12 px) needs.
const YEAR_LABEL_WIDTH: i64 = 34;

/// Maps cents in [min, max] to a y coordinate in the plot area (max at the top).
fn y_of(cents: i64, axis: &Axis) -> i64 {
    let span = (axis.max - axis.min).max(1) as i128;
    let plot = (HEIGHT - TOP - BOTTOM) as i128;
    TOP + (plot - ((cents - axis.min) as i128 * plot / span)) as i64
}

/// A round size: 1, 2 or 5 times a power of ten whole euros, at least `cents` (and at least one euro).
fn nice_ceiling(cents: i64) -> i64 {
    let euros = (cents.max(100) + 99) / 100;
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= euros {
                return step * m * 100;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The value axis: from `min` to `max` in `step`s, all round numbers, zero always one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Axis {
    min: i64,
    max: i64,
    step: i64,
}

impl Axis {
    /// An axis over `lowest..=highest` (cents) with zero included and about four steps.
    fn over(lowest: i64, highest: i64) -> Axis {
        let (lo, hi) = (lowest.min(0), highest.max(0));
        let step = nice_ceiling(((hi - lo) / 4).max(1));
        let min = -((-lo + step - 1) / step) * step;
        let max = ((hi + step - 1) / step).max(if lo == 0 { 1 } else { 0 }) * step;
        Axis { min, max, step }
    }

    fn ticks(&self) -> Vec<i64> {
        (0..).map(|i| self.min + i * self.step).take_while(|t| *t <= self.max).collect()
    }
}

/// What a chart's values are. A count `n` is drawn as `n` whole units (`n * 100` on the cent scale), so the
/// axis keeps its round steps of 1, 2 or 5 times a power of ten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Euro,
    Count,
}

impl Unit {
    /// A value as a point's tooltip says it: `€ 1.234,56` or `303`.
    fn text(self, m: Money) -> String {
        match self {
            Unit::Euro => m.to_string(),
            Unit::Count => (m.cents() / 100).to_string(),
        }
    }
}

fn axis_label(cents: i64, unit: Unit) -> String {
    match unit {
        Unit::Euro => format!("€ {}", Money::from_cents(cents - cents % 100).dutch().trim_end_matches(",00")),
        Unit::Count => (cents / 100).to_string(),
    }
}

/// Every how many years a year label is drawn so that neighbouring labels do not touch.
fn year_label_every(slot: i64) -> usize {
    ((YEAR_LABEL_WIDTH + slot.max(1) - 1) / slot.max(1)).max(1) as usize
}

/// Moves label positions (wanted y, in any order) apart so that no two are closer than `gap`, keeping them
/// within `top..=bottom` where there is room; returns the positions in the input order.
fn spread(wanted: &[i64], gap: i64, top: i64, bottom: i64) -> Vec<i64> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| (wanted[i], i));
    let mut placed: Vec<i64> = order.iter().map(|&i| wanted[i].clamp(top, bottom)).collect();
    for k in 1..placed.len() {
        placed[k] = placed[k].max(placed[k - 1] + gap);
    }
    // Pushed past the bottom: push back up from there, as far as the top allows.
    if let Some(last) = placed.last_mut() {
        if *last > bottom {
            *last = bottom;
            for k in (0..placed.len() - 1).rev() {
                placed[k] = placed[k].min(placed[k + 1] - gap);
            }
        }
    }
    let mut out = vec![0; wanted.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i] = placed[k];
    }
    out
}

fn value_axis(id: &str, axis: &Axis, unit: Unit) -> Markup {
    html! {
        @for t in axis.ticks() {
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(t, axis)) y2=(y_of(t, axis)) stroke="#c4c8cf" stroke-width="1" {}
            text x=(LEFT - 6) y=(y_of(t, axis) + 4) text-anchor="end" font-size="11" fill="#1a1a1a" { (axis_label(t, unit)) }
        }
        line id={(id) "-nul"} x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(0, axis)) y2=(y_of(0, axis)) stroke="#1a1a1a" stroke-width="2" {}
    }
}

/// One year's bar: actual, committed and forecast stacked, against what is available.
pub struct YearBar {
    pub year: i32,
    pub actual: Money,
    pub committed: Money,
    pub forecast: Money,
    pub available: Option<Money>,
}

impl YearBar {
    /// (bottom, top) of each part in cents: positive parts stack up from zero, negative ones down from it.
    fn stacked(&self) -> [(i64, i64); 3] {
        let (mut up, mut down) = (0i64, 0i64);
        [self.actual, self.committed, self.forecast].map(|m| {
            let c = m.cents();
            if c >= 0 {
                up += c;
                (up - c, up)
            } else {
                down += c;
                (down, down - c)
            }
        })
    }
}

/// Stacked bars per year (actual, committed, forecast) with a marker for what is available.
pub fn stacked_years(id: &str, title: &str, description: &str, bars: &[YearBar]) -> Markup {
    let mut lowest = 0i64;
    let mut highest = 0i64;
    for b in bars {
        for (bottom, top) in b.stacked() {
            lowest = lowest.min(bottom);
            highest = highest.max(top);
        }
        if let Some(a) = b.available {
            lowest = lowest.min(a.cents());
            highest = highest.max(a.cents());
        }
    }
    let axis = Axis::over(lowest, highest);
    let n = bars.len().max(1) as i64;
    let slot = (WIDTH - LEFT - RIGHT) / n;
    let bar_w = (slot * 3 / 5).max(4);
    let every = year_label_every(slot);
    let parts =
        [("realisatie", "#0b4f9c", "#0b4f9c"), ("verplichtingen", "#6fa8dc", "#0b4f9c"), ("prognose", "", "#7a4a00")];
    html! {
        figure.chart {
            svg role="img" aria-labelledby={(id) "-titel " (id) "-beschrijving"} viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width="100%" {
                title id={(id) "-titel"} { (title) }
                desc id={(id) "-beschrijving"} { (description) }
                defs {
                    pattern id={(id) "-streep"} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                        rect width="6" height="6" fill="#f2c46d" {}
                        line x1="0" y1="0" x2="0" y2="6" stroke="#7a4a00" stroke-width="2" {}
                    }
                }
                (value_axis(id, &axis, Unit::Euro))
                @for (i, b) in bars.iter().enumerate() {
                    @let x = LEFT + slot * i as i64 + (slot - bar_w) / 2;
                    @for ((bottom, top), ((word, fill, stroke), amount)) in b.stacked().into_iter().zip(parts.iter().zip([b.actual, b.committed, b.forecast])) {
                        // A part too small to be a pixel high is left out (an SVG rect of height 0 is invalid).
                        @if y_of(bottom, &axis) > y_of(top, &axis) {
                            rect x=(x) width=(bar_w) y=(y_of(top, &axis)) height=(y_of(bottom, &axis) - y_of(top, &axis))
                                fill=(if fill.is_empty() { format!("url(#{id}-streep)") } else { fill.to_string() }) stroke=(stroke) {
                                title { (b.year) " " (word) " " (amount) }
                            }
                        }
                    }
                    @if let Some(av) = b.available {
                        @let y = y_of(av.cents(), &axis);
                        line x1=(x - 6) x2=(x + bar_w + 6) y1=(y) y2=(y) stroke="#1a1a1a" stroke-width="3" stroke-dasharray="6 3" {
                            title { (b.year) " beschikbaar " (av) }
                        }
                    }
                    @if i % every == 0 {
                        text x=(x + bar_w / 2) y=(HEIGHT - BOTTOM + 16) text-anchor="middle" font-size="12" fill="#1a1a1a" { (b.year) }
                    }
                }
            }
            figcaption {
                ul.legend {
                    li { span.swatch.swatch-actual aria-hidden="true" {} "Realisatie (donkerblauw, onderaan)" }
                    li { span.swatch.swatch-committed aria-hidden="true" {} "Verplichtingen (lichtblauw, midden)" }
                    li { span.swatch.swatch-forecast aria-hidden="true" {} "Prognose (gestreept, bovenaan)" }
                    li { span.swatch.swatch-available aria-hidden="true" {} "Beschikbaar (gestippelde lijn)" }
                    li { "Bedragen onder nul staan onder de nullijn (dikke lijn)." }
                }
            }
        }
    }
}

/// One line of the remaining-balance chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(i32, Money)>,
}

const MARKERS: [&str; 4] = ["cirkel", "vierkant", "driehoek", "ruit"];
const STROKES: [&str; 4] = ["#0b4f9c", "#b30000", "#1d6b2f", "#7a4a00"];
/// Dash patterns, so that even lines of the same colour (a fifth series) differ.
const DASHES: [&str; 2] = ["none", "6 3"];

fn marker(kind: usize, x: i64, y: i64, colour: &str) -> Markup {
    match kind % 4 {
        0 => html! { circle cx=(x) cy=(y) r="5" fill=(colour) {} },
        1 => html! { rect x=(x - 5) y=(y - 5) width="10" height="10" fill=(colour) {} },
        2 => {
            html! { polygon points={(x) "," (y - 6) " " (x - 6) "," (y + 5) " " (x + 6) "," (y + 5)} fill=(colour) {} }
        }
        _ => {
            html! { polygon points={(x) "," (y - 6) " " (x + 6) "," (y) " " (x) "," (y + 6) " " (x - 6) "," (y)} fill=(colour) {} }
        }
    }
}

/// A small picture of series `i`'s line and marker, for the legend.
fn swatch(i: usize) -> Markup {
    let colour = STROKES[i % 4];
    html! {
        svg.line-swatch width="28" height="14" viewBox="0 0 28 14" aria-hidden="true" focusable="false" {
            line x1="0" y1="7" x2="28" y2="7" stroke=(colour) stroke-width="2" stroke-dasharray=(DASHES[(i / 4) % 2]) {}
            (marker(i, 14, 7, colour))
        }
    }
}

/// Lines per series over the years (e.g. the remaining balance per stream), with a zero line; each line has
/// its own marker shape and its name at its end, so colour is never the only cue.
pub fn lines(id: &str, title: &str, description: &str, years: &[i32], series: &[Series]) -> Markup {
    lines_in(Unit::Euro, id, title, description, years, series)
}

/// [`lines`] for values of any [`Unit`].
pub fn lines_in(unit: Unit, id: &str, title: &str, description: &str, years: &[i32], series: &[Series]) -> Markup {
    let values: Vec<i64> = series.iter().flat_map(|s| s.points.iter().map(|(_, m)| m.cents())).collect();
    let axis = Axis::over(values.iter().copied().min().unwrap_or(0), values.iter().copied().max().unwrap_or(0));
    let n = years.len().max(1) as i64;
    let slot = (WIDTH - LEFT - RIGHT - LABEL_ROOM) / n;
    let every = year_label_every(slot);
    let x_of = |year: i32| -> i64 {
        let i = years.iter().position(|y| *y == year).unwrap_or(0) as i64;
        LEFT + slot * i + slot / 2
    };
    // The names at the end of each line, moved apart where lines end close together.
    let ends: Vec<(usize, i32, i64)> = series
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.points.last().map(|(y, m)| (i, *y, y_of(m.cents(), &axis))))
        .collect();
    let label_y = spread(&ends.iter().map(|e| e.2 + 4).collect::<Vec<_>>(), LABEL_GAP, TOP + 4, HEIGHT - BOTTOM + 4);
    html! {
        figure.chart {
            svg role="img" aria-labelledby={(id) "-titel " (id) "-beschrijving"} viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width="100%" {
                title id={(id) "-titel"} { (title) }
                desc id={(id) "-beschrijving"} { (description) }
                (value_axis(id, &axis, unit))
                @for (i, y) in years.iter().enumerate() {
                    @if i % every == 0 {
                        text x=(x_of(*y)) y=(HEIGHT - BOTTOM + 16) text-anchor="middle" font-size="12" fill="#1a1a1a" { (y) }
                    }
                }
                @for (i, s) in series.iter().enumerate() {
                    @let colour = STROKES[i % 4];
                    @let points = s.points.iter().map(|(y, m)| format!("{},{}", x_of(*y), y_of(m.cents(), &axis))).collect::<Vec<_>>().join(" ");
                    polyline points=(points) fill="none" stroke=(colour) stroke-width="2" stroke-dasharray=(DASHES[(i / 4) % 2]) {}
                    @for (y, m) in &s.points {
                        g { title { (s.label) " " (y) ": " (unit.text(*m)) } (marker(i, x_of(*y), y_of(m.cents(), &axis), colour)) }
                    }
                }
                @for ((i, year, end_y), text_y) in ends.iter().zip(&label_y) {
                    @let colour = STROKES[i % 4];
                    @if *text_y != end_y + 4 {
                        line x1=(x_of(*year) + 6) y1=(end_y) x2=(x_of(*year) + 12) y2=(text_y - 4) stroke=(colour) stroke-width="1" {}
                    }
                    text x=(x_of(*year) + 14) y=(text_y) font-size="11" fill=(colour) { (series[*i].label) }
                }
            }
            figcaption {
                ul.legend {
                    @for (i, s) in series.iter().enumerate() {
                        li { (swatch(i)) (s.label) " (" (MARKERS[i % 4]) ")" }
                    }
                    @if unit == Unit::Euro { li { "Onder de nullijn (dikke lijn) is tekort." } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euros(e: i64) -> i64 {
        e * 100
    }

    #[test]
    fn the_axis_covers_negative_values_on_round_steps_with_zero_among_them() {
        assert_eq!(nice_ceiling(12_345_678), 20_000_000);
        assert_eq!(nice_ceiling(0), 100);
        // Remaining per stream from -4.572.914,83 to 1.250.000,00: steps of 2 million, -6 to +2 million.
        let a = Axis::over(-457_291_483, euros(1_250_000));
        assert_eq!(a, Axis { min: euros(-6_000_000), max: euros(2_000_000), step: euros(2_000_000) });
        assert!(a.ticks().contains(&0));
        assert!(y_of(-457_291_483, &a) <= HEIGHT - BOTTOM && y_of(-457_291_483, &a) >= TOP, "drawn inside the plot");
        // Only positive: from zero; only negative: up to zero; nothing: zero to one euro.
        assert_eq!(Axis::over(0, euros(90_000)), Axis { min: 0, max: euros(100_000), step: euros(50_000) });
        assert_eq!(Axis::over(euros(-30_000), 0), Axis { min: euros(-30_000), max: 0, step: euros(10_000) });
        assert_eq!(Axis::over(0, 0), Axis { min: 0, max: 100, step: 100 });
        assert_eq!(y_of(0, &Axis::over(0, 1000)), HEIGHT - BOTTOM);
        assert_eq!(y_of(euros(100_000), &Axis::over(0, euros(90_000))), TOP);
    }

    #[test]
    fn negative_parts_of_a_bar_hang_below_zero() {
        let bar = YearBar {
            year: 2027,
            actual: Money::from_cents(-500),
            committed: Money::from_cents(2_000),
            forecast: Money::from_cents(1_000),
            available: None,
        };
        assert_eq!(bar.stacked(), [(-500, 0), (0, 2_000), (2_000, 3_000)]);
        let m = stacked_years("x", "t", "d", &[bar]).into_string();
        assert!(m.contains("2027 realisatie € -5,00"));
    }

    #[test]
    fn line_labels_never_collide_and_stay_in_the_plot() {
        let (top, bottom) = (TOP + 4, HEIGHT - BOTTOM + 4);
        for wanted in [
            vec![100, 100, 100, 100],
            vec![250, 251, 60, 259],
            vec![bottom, bottom, bottom],
            vec![top, top - 50, top],
            vec![150],
            vec![],
        ] {
            let got = spread(&wanted, LABEL_GAP, top, bottom);
            assert_eq!(got.len(), wanted.len());
            let mut sorted = got.clone();
            sorted.sort();
            for w in sorted.windows(2) {
                assert!(w[1] - w[0] >= LABEL_GAP, "{wanted:?} -> {got:?}");
            }
            assert!(got.iter().all(|y| (top..=bottom).contains(y)), "{wanted:?} -> {got:?}");
        }
        // Far apart stays where wanted.
        assert_eq!(spread(&[50, 200], LABEL_GAP, top, bottom), [50, 200]);
    }

    #[test]
    fn year_labels_leave_room_between_them_for_fifteen_years() {
        for charted in [WIDTH - LEFT - RIGHT, WIDTH - LEFT - RIGHT - LABEL_ROOM] {
            for n in 1..=15 {
                let slot = charted / n;
                let every = year_label_every(slot) as i64;
                assert!(slot * every >= YEAR_LABEL_WIDTH, "{n} years, slot {slot}, every {every}");
            }
        }
        let years: Vec<i32> = (2022..=2036).collect();
        let series = [Series { label: "SPUK".into(), points: years.iter().map(|y| (*y, Money::ZERO)).collect() }];
        let m = lines("r", "t", "d", &years, &series).into_string();
        assert!(m.contains(">2022</text>") && !m.contains(">2023</text>"), "every other year on 15 years");
    }

    #[test]
    fn the_legend_has_a_swatch_per_line_and_chart_text_is_escaped() {
        let series = [
            Series { label: "SPUK".into(), points: vec![(2026, Money::from_cents(100))] },
            Series { label: "ELIP".into(), points: vec![(2026, Money::from_cents(100))] },
        ];
        let m = lines("r", "t", "d", &[2026], &series).into_string();
        assert_eq!(m.matches("class=\"line-swatch\"").count(), 2);
        assert!(m.contains("SPUK (cirkel)") && m.contains("ELIP (vierkant)"));
        let m = stacked_years("x", "<script>", "a & b", &[]).into_string();
        assert!(m.contains("&lt;script&gt;") && m.contains("a &amp; b") && !m.contains("<script>"));
    }
}
