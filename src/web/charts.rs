//! Server-drawn SVG charts (maud, so every text is escaped): each has a title and a description, and the
//! page shows the same figures as a table next to it. Coordinates are integer arithmetic on cents.

use maud::{html, Markup};

use crate::money::Money;

const WIDTH: i64 = 640;
const HEIGHT: i64 = 300;
const LEFT: i64 = 90;
const RIGHT: i64 = 20;
const TOP: i64 = 20;
const BOTTOM: i64 = 40;

/// Maps cents in [min, max] to a y coordinate in the plot area (max at the top).
fn y_of(cents: i64, min: i64, max: i64) -> i64 {
    let span = (max - min).max(1) as i128;
    let plot = (HEIGHT - TOP - BOTTOM) as i128;
    TOP + (plot - ((cents - min) as i128 * plot / span)) as i64
}

/// A round upper bound for the axis: 1, 2 or 5 times a power of ten (in whole euros).
fn nice_ceiling(cents: i64) -> i64 {
    let euros = (cents.max(100) + 99) / 100;
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if step * m >= euros {
                return step * m * 100;
            }
        }
        step *= 10;
    }
}

fn axis_label(cents: i64) -> String {
    format!("€ {}", Money::from_cents(cents - cents % 100).dutch().trim_end_matches(",00"))
}

/// One year's bar: actual, committed and forecast stacked, against what is available.
pub struct YearBar {
    pub year: i32,
    pub actual: Money,
    pub committed: Money,
    pub forecast: Money,
    pub available: Option<Money>,
}

/// Stacked bars per year (actual, committed, forecast) with a marker for what is available.
pub fn stacked_years(id: &str, title: &str, description: &str, bars: &[YearBar]) -> Markup {
    let max_value = bars
        .iter()
        .map(|b| {
            let stacked = b.actual.cents().max(0) + b.committed.cents().max(0) + b.forecast.cents().max(0);
            stacked.max(b.available.map(|a| a.cents()).unwrap_or(0))
        })
        .max()
        .unwrap_or(0);
    let max = nice_ceiling(max_value);
    let n = bars.len().max(1) as i64;
    let slot = (WIDTH - LEFT - RIGHT) / n;
    let bar_w = (slot * 3 / 5).max(4);
    let ticks: Vec<i64> = (0..=4).map(|i| max * i / 4).collect();
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
                @for t in &ticks {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(*t, 0, max)) y2=(y_of(*t, 0, max)) stroke="#c4c8cf" stroke-width="1" {}
                    text x=(LEFT - 6) y=(y_of(*t, 0, max) + 4) text-anchor="end" font-size="11" fill="#1a1a1a" { (axis_label(*t)) }
                }
                @for (i, b) in bars.iter().enumerate() {
                    @let x = LEFT + slot * i as i64 + (slot - bar_w) / 2;
                    @let a = b.actual.cents().max(0);
                    @let c = b.committed.cents().max(0);
                    @let f = b.forecast.cents().max(0);
                    rect x=(x) width=(bar_w) y=(y_of(a, 0, max)) height=(y_of(0, 0, max) - y_of(a, 0, max)) fill="#0b4f9c" {
                        title { (b.year) " realisatie " (b.actual) }
                    }
                    rect x=(x) width=(bar_w) y=(y_of(a + c, 0, max)) height=(y_of(a, 0, max) - y_of(a + c, 0, max)) fill="#6fa8dc" stroke="#0b4f9c" {
                        title { (b.year) " verplichtingen " (b.committed) }
                    }
                    rect x=(x) width=(bar_w) y=(y_of(a + c + f, 0, max)) height=(y_of(a + c, 0, max) - y_of(a + c + f, 0, max)) fill={"url(#" (id) "-streep)"} stroke="#7a4a00" {
                        title { (b.year) " prognose " (b.forecast) }
                    }
                    @if let Some(av) = b.available {
                        @let y = y_of(av.cents().max(0), 0, max);
                        line x1=(x - 6) x2=(x + bar_w + 6) y1=(y) y2=(y) stroke="#1a1a1a" stroke-width="3" stroke-dasharray="6 3" {
                            title { (b.year) " beschikbaar " (av) }
                        }
                    }
                    text x=(x + bar_w / 2) y=(HEIGHT - BOTTOM + 16) text-anchor="middle" font-size="12" fill="#1a1a1a" { (b.year) }
                }
            }
            figcaption {
                ul.legend {
                    li { span.swatch.swatch-actual aria-hidden="true" {} "Realisatie (donkerblauw, onderaan)" }
                    li { span.swatch.swatch-committed aria-hidden="true" {} "Verplichtingen (lichtblauw, midden)" }
                    li { span.swatch.swatch-forecast aria-hidden="true" {} "Prognose (gestreept, bovenaan)" }
                    li { span.swatch.swatch-available aria-hidden="true" {} "Beschikbaar (gestippelde lijn)" }
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

/// Lines per series over the years (e.g. the remaining balance per stream), with a zero line; each line has
/// its own marker shape and its name at its end, so colour is never the only cue.
pub fn lines(id: &str, title: &str, description: &str, years: &[i32], series: &[Series]) -> Markup {
    let values: Vec<i64> = series.iter().flat_map(|s| s.points.iter().map(|(_, m)| m.cents())).collect();
    let max = nice_ceiling(values.iter().copied().max().unwrap_or(0).max(0));
    let min = -nice_ceiling(-(values.iter().copied().min().unwrap_or(0).min(0))).min(0);
    let min = if values.iter().all(|v| *v >= 0) { 0 } else { min };
    let n = years.len().max(1) as i64;
    let slot = (WIDTH - LEFT - RIGHT - 110) / n;
    let x_of = |year: i32| -> i64 {
        let i = years.iter().position(|y| *y == year).unwrap_or(0) as i64;
        LEFT + slot * i + slot / 2
    };
    let ticks: Vec<i64> = (0..=4).map(|i| min + (max - min) * i / 4).collect();
    html! {
        figure.chart {
            svg role="img" aria-labelledby={(id) "-titel " (id) "-beschrijving"} viewBox={"0 0 " (WIDTH) " " (HEIGHT)} width="100%" {
                title id={(id) "-titel"} { (title) }
                desc id={(id) "-beschrijving"} { (description) }
                @for t in &ticks {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(*t, min, max)) y2=(y_of(*t, min, max)) stroke="#c4c8cf" stroke-width="1" {}
                    text x=(LEFT - 6) y=(y_of(*t, min, max) + 4) text-anchor="end" font-size="11" fill="#1a1a1a" { (axis_label(*t)) }
                }
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(0, min, max)) y2=(y_of(0, min, max)) stroke="#1a1a1a" stroke-width="2" {}
                @for y in years {
                    text x=(x_of(*y)) y=(HEIGHT - BOTTOM + 16) text-anchor="middle" font-size="12" fill="#1a1a1a" { (y) }
                }
                @for (i, s) in series.iter().enumerate() {
                    @let colour = STROKES[i % 4];
                    @let points = s.points.iter().map(|(y, m)| format!("{},{}", x_of(*y), y_of(m.cents(), min, max))).collect::<Vec<_>>().join(" ");
                    polyline points=(points) fill="none" stroke=(colour) stroke-width="2" {}
                    @for (y, m) in &s.points {
                        g { title { (s.label) " " (y) ": " (m) } (marker(i, x_of(*y), y_of(m.cents(), min, max), colour)) }
                    }
                    @if let Some((y, m)) = s.points.last() {
                        text x=(x_of(*y) + 10) y=(y_of(m.cents(), min, max) + 4) font-size="11" fill=(colour) { (s.label) }
                    }
                }
            }
            figcaption {
                ul.legend {
                    @for (i, s) in series.iter().enumerate() {
                        li { (s.label) ": " (MARKERS[i % 4]) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_bounds_are_round_and_coordinates_stay_in_the_plot() {
        assert_eq!(nice_ceiling(12_345_678), 20_000_000);
        assert_eq!(nice_ceiling(0), 100);
        assert_eq!(y_of(0, 0, 1000), HEIGHT - BOTTOM);
        assert_eq!(y_of(1000, 0, 1000), TOP);
    }

    #[test]
    fn chart_text_is_escaped() {
        let m = stacked_years("x", "<script>", "a & b", &[]).into_string();
        assert!(m.contains("&lt;script&gt;") && m.contains("a &amp; b") && !m.contains("<script>"));
    }
}
