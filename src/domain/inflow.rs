//! Inflow (instroom): counts, never persons, of people newly subject to the law linked to the municipality per
//! month and newcomer group, and the Ondertussengroep's size (Wi2013, ELIP) per quarter. Parsing of the period
//! and group words the import and the screen share, and the year totals the indicators read.

use std::collections::BTreeMap;

use serde::Serialize;

use super::forecast::InflowGroup;
use super::validation::FieldErrors;

/// What a count is about: one of the four newcomer groups (an inflow per month) or one part of the
/// Ondertussengroep (its size at the end of a quarter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InflowCategory {
    AsylumHoused,
    AsylumAzc,
    Family,
    Other,
    Wi2013,
    Elip,
}

impl InflowCategory {
    pub const ALL: [InflowCategory; 6] = [
        InflowCategory::AsylumHoused,
        InflowCategory::AsylumAzc,
        InflowCategory::Family,
        InflowCategory::Other,
        InflowCategory::Wi2013,
        InflowCategory::Elip,
    ];
    /// The newcomer groups, counted per month.
    pub const NEWCOMERS: [InflowCategory; 4] =
        [InflowCategory::AsylumHoused, InflowCategory::AsylumAzc, InflowCategory::Family, InflowCategory::Other];
    /// The Ondertussengroep, measured per quarter.
    pub const WAITING: [InflowCategory; 2] = [InflowCategory::Wi2013, InflowCategory::Elip];

    pub fn code(self) -> &'static str {
        match self {
            InflowCategory::AsylumHoused => "asylum_housed",
            InflowCategory::AsylumAzc => "asylum_azc",
            InflowCategory::Family => "family",
            InflowCategory::Other => "other",
            InflowCategory::Wi2013 => "wi2013",
            InflowCategory::Elip => "elip",
        }
    }

    /// The word the template's Groep column and the export use.
    pub fn word(self) -> &'static str {
        match self {
            InflowCategory::AsylumHoused => "asiel gehuisvest",
            InflowCategory::AsylumAzc => "asiel azc",
            InflowCategory::Family => "gezin",
            InflowCategory::Other => "overig",
            InflowCategory::Wi2013 => "wi2013",
            InflowCategory::Elip => "elip",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InflowCategory::AsylumHoused => "Asielmigranten met huisvesting",
            InflowCategory::AsylumAzc => "Asielmigranten in het azc",
            InflowCategory::Family => "Gezinsmigranten",
            InflowCategory::Other => "Overige migranten",
            InflowCategory::Wi2013 => "Ondertussengroep Wi2013 (zonder ELIP)",
            InflowCategory::Elip => "ELIP-groep",
        }
    }

    /// Accepts the code, the word and the label, case- and space-insensitively.
    pub fn parse(text: &str) -> Option<InflowCategory> {
        let norm = |s: &str| s.replace(['-', '_'], " ").split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let t = norm(text);
        InflowCategory::ALL.into_iter().find(|c| norm(c.code()) == t || norm(c.word()) == t || norm(c.label()) == t)
    }

    /// Whether the count is the Ondertussengroep's size per quarter rather than an inflow per month.
    pub fn per_quarter(self) -> bool {
        matches!(self, InflowCategory::Wi2013 | InflowCategory::Elip)
    }

    /// The forecast scenario's group this newcomer group belongs to (asylum; family and other).
    pub fn scenario_group(self) -> Option<InflowGroup> {
        match self {
            InflowCategory::AsylumHoused | InflowCategory::AsylumAzc => Some(InflowGroup::Asylum),
            InflowCategory::Family | InflowCategory::Other => Some(InflowGroup::Family),
            InflowCategory::Wi2013 | InflowCategory::Elip => None,
        }
    }
}

/// A month (`2022-03`) or a quarter (`2022-K1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum InflowPeriod {
    Month { year: i32, month: u8 },
    Quarter { year: i32, quarter: u8 },
}

impl InflowPeriod {
    /// Reads `2022-03`, `03-2022`, `2022-K1`, `K1 2022` (also with Q). Years 2000 to 2100.
    pub fn parse(text: &str) -> Option<InflowPeriod> {
        let t = text.trim().to_uppercase().replace([' ', '/'], "-");
        let (a, b) = t.split_once('-')?;
        let (year, rest) = if a.len() == 4 { (a, b) } else { (b, a) };
        let year: i32 = year.parse().ok().filter(|y| (2000..=2100).contains(y))?;
        if let Some(q) = rest.strip_prefix('K').or_else(|| rest.strip_prefix('Q')) {
            let quarter: u8 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
            return Some(InflowPeriod::Quarter { year, quarter });
        }
        if rest.is_empty() || rest.len() > 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let month: u8 = rest.parse().ok().filter(|m| (1..=12).contains(m))?;
        Some(InflowPeriod::Month { year, month })
    }

    pub fn year(self) -> i32 {
        match self {
            InflowPeriod::Month { year, .. } | InflowPeriod::Quarter { year, .. } => year,
        }
    }

    /// The stored form: `2022-03` or `2022-K1`.
    pub fn code(self) -> String {
        match self {
            InflowPeriod::Month { year, month } => format!("{year:04}-{month:02}"),
            InflowPeriod::Quarter { year, quarter } => format!("{year:04}-K{quarter}"),
        }
    }

    /// As the screens show it: `maart 2022`, `1e kwartaal 2022`.
    pub fn display(self) -> String {
        match self {
            InflowPeriod::Month { year, month } => {
                format!("{} {year}", crate::domain::dates::MONTH_NAMES[usize::from(month - 1)])
            }
            InflowPeriod::Quarter { year, quarter } => format!("{quarter}e kwartaal {year}"),
        }
    }
}

/// One count: a period, a group and the number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InflowCount {
    pub period: InflowPeriod,
    pub category: InflowCategory,
    pub count: i64,
}

/// The highest count accepted: far above any municipality's yearly inflow, low enough to catch a typo.
pub const MAX_COUNT: i64 = 1_000_000;

/// What the screen's form sends.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct InflowForm {
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub count: String,
    pub version: Option<i64>,
}

/// The one check of a count, for the import and the screen alike: a known group, a period of the kind the group
/// is counted in (months for newcomers, quarters for the Ondertussengroep), a whole number from 0.
pub fn validate(period: &str, category: &str, count: &str) -> Result<InflowCount, FieldErrors> {
    let mut e = FieldErrors::new();
    let cat = InflowCategory::parse(category);
    if cat.is_none() {
        e.add(
            "category",
            format!(
                "Onbekende groep '{}'; kies uit asiel gehuisvest, asiel azc, gezin, overig, wi2013 of elip.",
                category.trim()
            ),
        );
    }
    let per = InflowPeriod::parse(period);
    match (per, cat) {
        (None, _) => e.add(
            "period",
            format!("'{}' is geen periode; schrijf een maand als 2022-03 of een kwartaal als 2022-K1.", period.trim()),
        ),
        (Some(InflowPeriod::Quarter { .. }), Some(c)) if !c.per_quarter() => e.add(
            "period",
            format!("{} wordt per maand geteld; schrijf de maand als 2022-03, niet '{}'.", c.label(), period.trim()),
        ),
        (Some(InflowPeriod::Month { .. }), Some(c)) if c.per_quarter() => e.add(
            "period",
            format!(
                "De omvang van de {} wordt per kwartaal vastgelegd; schrijf het kwartaal als 2022-K1, niet '{}'.",
                c.label(),
                period.trim()
            ),
        ),
        _ => {}
    }
    let n = parse_count(count);
    if let Err(m) = &n {
        e.add("count", m.clone());
    }
    match (per, cat, n) {
        (Some(period), Some(category), Ok(count)) if e.is_empty() => Ok(InflowCount { period, category, count }),
        _ => Err(e),
    }
}

fn parse_count(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Vul een aantal in.".into());
    }
    match t.parse::<i64>() {
        Ok(n) if (0..=MAX_COUNT).contains(&n) => Ok(n),
        Ok(_) => Err(format!("Een aantal ligt tussen 0 en {MAX_COUNT}; '{t}' niet.")),
        Err(_) => Err(format!("'{t}' is geen geheel aantal.")),
    }
}

/// A year's counts in the form the indicators use: the newcomer inflow summed over the year's months per group,
/// and the Ondertussengroep's size in the year's last quarter that has a figure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InflowYear {
    pub year: i32,
    /// Per newcomer group: the sum of its monthly counts; None when no month of the year has a count.
    pub inflow: BTreeMap<InflowCategory, i64>,
    /// Months with at least one count: a year with fewer than 12 is incomplete.
    pub months_counted: u32,
    /// Per part of the Ondertussengroep: (quarter, size) of the last quarter with a figure.
    pub waiting: BTreeMap<InflowCategory, (u8, i64)>,
}

impl InflowYear {
    pub fn of(year: i32, counts: &[InflowCount]) -> InflowYear {
        let mut y = InflowYear { year, ..Default::default() };
        let mut months = std::collections::BTreeSet::new();
        for c in counts.iter().filter(|c| c.period.year() == year) {
            match c.period {
                InflowPeriod::Month { month, .. } => {
                    months.insert(month);
                    *y.inflow.entry(c.category).or_default() += c.count;
                }
                InflowPeriod::Quarter { quarter, .. } => {
                    let e = y.waiting.entry(c.category).or_insert((quarter, c.count));
                    if quarter >= e.0 {
                        *e = (quarter, c.count);
                    }
                }
            }
        }
        y.months_counted = months.len() as u32;
        y
    }

    /// The inflow of a forecast scenario's group: asylum (housed and AZC) or family and other.
    pub fn scenario_group(&self, group: InflowGroup) -> i64 {
        self.inflow.iter().filter(|(c, _)| c.scenario_group() == Some(group)).map(|(_, n)| n).sum()
    }

    /// All newcomers of the year.
    pub fn total(&self) -> i64 {
        self.inflow.values().sum()
    }

    /// The Ondertussengroep's size at the year's last measured quarter (Wi2013 and ELIP together).
    pub fn waiting_total(&self) -> Option<i64> {
        (!self.waiting.is_empty()).then(|| self.waiting.values().map(|(_, n)| n).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_months_and_quarters_and_refuse_the_rest() {
        assert_eq!(InflowPeriod::parse("2022-03"), Some(InflowPeriod::Month { year: 2022, month: 3 }));
        assert_eq!(InflowPeriod::parse("03-2022"), Some(InflowPeriod::Month { year: 2022, month: 3 }));
        assert_eq!(InflowPeriod::parse("2022-k2"), Some(InflowPeriod::Quarter { year: 2022, quarter: 2 }));
        assert_eq!(InflowPeriod::parse("Q4 2023"), Some(InflowPeriod::Quarter { year: 2023, quarter: 4 }));
        for bad in ["2022", "2022-13", "2022-K5", "1999-01", "maart", "2022-3a", ""] {
            assert_eq!(InflowPeriod::parse(bad), None, "{bad}");
        }
        assert_eq!(InflowPeriod::Month { year: 2022, month: 3 }.code(), "2022-03");
        assert_eq!(InflowPeriod::Quarter { year: 2022, quarter: 1 }.display(), "1e kwartaal 2022");
    }

    #[test]
    fn a_group_must_be_counted_in_its_own_kind_of_period() {
        assert_eq!(
            validate("2022-04", "asiel azc", "69").unwrap(),
            InflowCount {
                period: InflowPeriod::Month { year: 2022, month: 4 },
                category: InflowCategory::AsylumAzc,
                count: 69
            }
        );
        let e = validate("2022-K1", "gezin", "5").unwrap_err();
        assert!(e.get("period").unwrap().contains("per maand"), "{e:?}");
        for c in InflowCategory::ALL {
            assert_eq!(InflowCategory::parse(c.code()), Some(c));
            assert_eq!(InflowCategory::parse(c.word()), Some(c));
        }
        let e = validate("2022-01", "ELIP", "5").unwrap_err();
        assert!(e.get("period").unwrap().contains("per kwartaal"), "{e:?}");
        let e = validate("2022-01", "vluchteling", "-1").unwrap_err();
        assert!(e.get("category").unwrap().contains("Onbekende groep 'vluchteling'"));
        assert_eq!(e.get("count"), Some("Een aantal ligt tussen 0 en 1000000; '-1' niet."));
    }

    #[test]
    fn a_year_sums_its_months_and_keeps_the_last_quarter() {
        let m =
            |month, category, count| InflowCount { period: InflowPeriod::Month { year: 2022, month }, category, count };
        let q = |quarter, category, count| InflowCount {
            period: InflowPeriod::Quarter { year: 2022, quarter },
            category,
            count,
        };
        let counts = vec![
            m(3, InflowCategory::AsylumHoused, 13),
            m(4, InflowCategory::AsylumAzc, 69),
            m(4, InflowCategory::Family, 92),
            m(5, InflowCategory::Family, 8),
            m(5, InflowCategory::Other, 3),
            q(1, InflowCategory::Wi2013, 900),
            q(3, InflowCategory::Wi2013, 850),
            q(2, InflowCategory::Elip, 120),
            InflowCount {
                period: InflowPeriod::Month { year: 2023, month: 1 },
                category: InflowCategory::Family,
                count: 40,
            },
        ];
        let y = InflowYear::of(2022, &counts);
        // 13 + 69 asylum; 92 + 8 family and 3 other.
        assert_eq!(y.scenario_group(InflowGroup::Asylum), 82);
        assert_eq!(y.scenario_group(InflowGroup::Family), 103);
        assert_eq!(y.total(), 185);
        assert_eq!(y.months_counted, 3);
        assert_eq!(y.waiting[&InflowCategory::Wi2013], (3, 850));
        // 850 (Wi2013 at Q3) + 120 (ELIP at Q2).
        assert_eq!(y.waiting_total(), Some(970));
    }
}
