//! Import templates: one TOML file per spreadsheet layout, parsed and checked against the entity kind's fields.

use serde::Deserialize;

use super::{FieldDef, Kind};
use crate::money::AmountStyle;

/// The templates shipped with taalbudget, embedded so `templates list` works from any directory.
const SHIPPED: &[(&str, &str)] = &[
    ("standaard-grootboek", include_str!("../../import-templates/standaard-grootboek.toml")),
    ("grootboek-debet-credit", include_str!("../../import-templates/grootboek-debet-credit.toml")),
    ("grootboek-csv-1252", include_str!("../../import-templates/grootboek-csv-1252.toml")),
    ("standaard-aanbieders", include_str!("../../import-templates/standaard-aanbieders.toml")),
    ("standaard-keurmerken", include_str!("../../import-templates/standaard-keurmerken.toml")),
    ("standaard-contracten", include_str!("../../import-templates/standaard-contracten.toml")),
    ("standaard-tarieven", include_str!("../../import-templates/standaard-tarieven.toml")),
    ("standaard-plaatsingen", include_str!("../../import-templates/standaard-plaatsingen.toml")),
    ("standaard-financiering", include_str!("../../import-templates/standaard-financiering.toml")),
    ("standaard-resultaten", include_str!("../../import-templates/standaard-resultaten.toml")),
    ("standaard-voortgang", include_str!("../../import-templates/standaard-voortgang.toml")),
    ("standaard-bronnen", include_str!("../../import-templates/standaard-bronnen.toml")),
    ("standaard-regels", include_str!("../../import-templates/standaard-regels.toml")),
    ("standaard-instroom", include_str!("../../import-templates/standaard-instroom.toml")),
];

/// A file type a template accepts; the actual type is recognised from the file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    Xlsx,
    Xlsm,
    Xls,
    Ods,
    Csv,
}

impl FileType {
    pub fn label(self) -> &'static str {
        match self {
            FileType::Xlsx => "Excel-werkmap (xlsx)",
            FileType::Xlsm => "Excel-werkmap met macro's (xlsm)",
            FileType::Xls => "oude Excel-werkmap (xls)",
            FileType::Ods => "OpenDocument-werkmap (ods)",
            FileType::Csv => "tekstbestand (CSV)",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SheetRef {
    /// 1 is the first sheet.
    Position(usize),
    Name(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderRow {
    /// Found among the first [`HEADER_SEARCH_ROWS`] rows as the first row holding every required header.
    Auto,
    /// The row number as the spreadsheet shows it.
    Fixed(u32),
}

pub const HEADER_SEARCH_ROWS: u32 = 20;

impl<'de> Deserialize<'de> for HeaderRow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u32),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(0) => Err(serde::de::Error::custom("header_row telt vanaf 1")),
            Raw::N(n) => Ok(HeaderRow::Fixed(n)),
            Raw::S(s) if s == "auto" => Ok(HeaderRow::Auto),
            Raw::S(s) => Err(serde::de::Error::custom(format!("header_row is een rijnummer of \"auto\", niet '{s}'"))),
        }
    }
}

/// How the sign of an amount is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SignConvention {
    /// One amount column; credits are negative.
    #[default]
    Signed,
    /// Separate `debit` and `credit` columns; the amount is debit minus credit.
    DebitCredit,
    /// An unsigned `amount` plus an `indicator` column (D/C).
    Indicator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
pub enum Encoding {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1252")]
    Windows1252,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSettings {
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    #[serde(default)]
    pub encoding: Encoding,
}

fn default_delimiter() -> char {
    ';'
}

impl Default for CsvSettings {
    fn default() -> Self {
        CsvSettings { delimiter: ';', encoding: Encoding::Utf8 }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipRules {
    #[serde(default = "yes")]
    pub blank_rows: bool,
    /// A row whose first filled cell starts with one of these (case-insensitive) is a totals row and skipped.
    #[serde(default)]
    pub first_cell_starts_with: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for SkipRules {
    fn default() -> Self {
        SkipRules { blank_rows: true, first_cell_starts_with: Vec::new() }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub debit: Vec<String>,
    pub credit: Vec<String>,
}

impl Default for Indicator {
    fn default() -> Self {
        Indicator { debit: vec!["D".into()], credit: vec!["C".into()] }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub field: String,
    /// Header text, matched case- and space-insensitively.
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Column letter (`A`, `M`, `AB`) instead of a header.
    #[serde(default)]
    pub letter: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub date_formats: Option<Vec<String>>,
    #[serde(default)]
    pub amount_style: Option<AmountStyle>,
    /// Refuse a value that looks like a BSN (9 digits passing the 11-test, or 8 with the leading zero dropped).
    #[serde(default)]
    pub refuse_bsn: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub description: String,
    pub file_types: Vec<FileType>,
    #[serde(default)]
    pub sheet: Option<SheetRef>,
    #[serde(default = "auto_header")]
    pub header_row: HeaderRow,
    #[serde(default)]
    pub date_formats: Vec<String>,
    #[serde(default)]
    pub amount_style: AmountStyle,
    #[serde(default)]
    pub sign: SignConvention,
    /// Field names that together identify a line; empty: a fingerprint of the whole line is used.
    #[serde(default)]
    pub key: Vec<String>,
    #[serde(default)]
    pub skip: SkipRules,
    #[serde(default)]
    pub csv: Option<CsvSettings>,
    #[serde(default)]
    pub indicator: Option<Indicator>,
    #[serde(rename = "column")]
    pub columns: Vec<Column>,
}

fn auto_header() -> HeaderRow {
    HeaderRow::Auto
}

/// A date format in the template's notation (`dd-mm-jjjj`), compiled once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateFormat {
    pub text: String,
    pub parts: Vec<DatePart>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatePart {
    Day { exact: bool },
    Month { exact: bool },
    Year,
    Literal(char),
}

impl DateFormat {
    /// `dd`/`d` day, `mm`/`m` month, `jjjj` (or `yyyy`) year; anything else is a literal separator.
    pub fn compile(text: &str) -> Result<DateFormat, String> {
        let lower = text.to_lowercase();
        let mut parts = Vec::new();
        let mut rest = lower.as_str();
        while !rest.is_empty() {
            let (part, len) = if rest.starts_with("jjjj") || rest.starts_with("yyyy") {
                (DatePart::Year, 4)
            } else if rest.starts_with("dd") {
                (DatePart::Day { exact: true }, 2)
            } else if rest.starts_with("mm") {
                (DatePart::Month { exact: true }, 2)
            } else if rest.starts_with('d') {
                (DatePart::Day { exact: false }, 1)
            } else if rest.starts_with('m') {
                (DatePart::Month { exact: false }, 1)
            } else {
                let c = rest.chars().next().expect("not empty");
                if c.is_alphanumeric() {
                    return Err(format!("datumnotatie '{text}': onbekend teken '{c}' (gebruik dd, mm, jjjj)"));
                }
                (DatePart::Literal(c), c.len_utf8())
            };
            parts.push(part);
            rest = &rest[len..];
        }
        let count = |f: fn(&DatePart) -> bool| parts.iter().filter(|p| f(p)).count();
        if count(|p| matches!(p, DatePart::Day { .. })) != 1
            || count(|p| matches!(p, DatePart::Month { .. })) != 1
            || count(|p| matches!(p, DatePart::Year)) != 1
        {
            return Err(format!("datumnotatie '{text}' moet precies één dag, maand en jaar (jjjj) bevatten"));
        }
        Ok(DateFormat { text: text.to_string(), parts })
    }

    /// Parses exactly this format; None when the text does not fit it. Impossible dates are an Err.
    pub fn parse(&self, text: &str) -> Option<Result<time::Date, String>> {
        let b = text.as_bytes();
        let mut i = 0;
        let (mut d, mut m, mut y) = (0u32, 0u32, 0i32);
        let digits = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
            let start = *i;
            while *i < b.len() && *i - start < max && b[*i].is_ascii_digit() {
                *i += 1;
            }
            if *i - start < min {
                return None;
            }
            text[start..*i].parse().ok()
        };
        for part in &self.parts {
            match part {
                DatePart::Day { exact } => d = digits(&mut i, if *exact { 2 } else { 1 }, 2)?,
                DatePart::Month { exact } => m = digits(&mut i, if *exact { 2 } else { 1 }, 2)?,
                DatePart::Year => y = digits(&mut i, 4, 4)? as i32,
                DatePart::Literal(c) => {
                    let mut buf = [0u8; 4];
                    let s = c.encode_utf8(&mut buf);
                    if !text[i..].starts_with(&*s) {
                        return None;
                    }
                    i += s.len();
                }
            }
        }
        if i != b.len() {
            return None;
        }
        let month = match time::Month::try_from(m as u8) {
            Ok(month) if m <= 12 => month,
            _ => return Some(Err(format!("maand {m} bestaat niet"))),
        };
        Some(
            time::Date::from_calendar_date(y, month, d as u8)
                .map_err(|_| format!("{d:02}-{m:02}-{y} bestaat niet in de kalender")),
        )
    }
}

/// A column of the template resolved against the kind's fields.
#[derive(Clone, Debug)]
pub struct ResolvedColumn {
    pub field: usize,
    pub column: Column,
    pub date_formats: Vec<DateFormat>,
    pub amount_style: AmountStyle,
}

/// A template that has been checked: every field exists for its kind, formats compile, the sign convention
/// has the columns it needs.
#[derive(Clone, Debug)]
pub struct CheckedTemplate {
    pub template: Template,
    pub columns: Vec<ResolvedColumn>,
    pub key_fields: Vec<usize>,
    pub fields: &'static [FieldDef],
}

impl CheckedTemplate {
    pub fn name(&self) -> &str {
        &self.template.name
    }

    pub fn is_csv(&self) -> bool {
        self.template.file_types.contains(&FileType::Csv)
    }

    /// Whether a row must fill `column`: when the kind requires its field or it is part of the key; only in the
    /// cases the kind names; else when the template marks the column required.
    pub fn requirement(&self, column: &ResolvedColumn) -> super::Requirement {
        let field = &self.fields[column.field];
        if field.required || self.key_fields.contains(&column.field) {
            super::Requirement::Always
        } else if let Some(case) = self.template.kind.required_when(field.name) {
            // Before the column's own mark: Debet and Credit must both be in the header, one of them filled.
            super::Requirement::When(case)
        } else if column.column.required {
            super::Requirement::Always
        } else {
            super::Requirement::Never
        }
    }

    /// Per field of the kind: whether every row must fill it (see [`CheckedTemplate::requirement`]).
    pub fn fields_every_row_fills(&self) -> Vec<bool> {
        let mut must = vec![false; self.fields.len()];
        for c in &self.columns {
            must[c.field] = self.requirement(c) == super::Requirement::Always;
        }
        for (i, f) in self.fields.iter().enumerate() {
            must[i] |= f.required || self.key_fields.contains(&i);
        }
        must
    }

    pub fn column_for(&self, field: &str) -> Option<&ResolvedColumn> {
        self.columns.iter().find(|c| self.fields[c.field].name == field)
    }

    pub fn csv(&self) -> CsvSettings {
        self.template.csv.clone().unwrap_or_default()
    }

    pub fn indicator(&self) -> Indicator {
        self.template.indicator.clone().unwrap_or_default()
    }
}

/// Parses and checks a template's TOML text. Errors are Dutch and name the problem.
pub fn parse(text: &str) -> Result<CheckedTemplate, String> {
    let template: Template = toml::from_str(text).map_err(|e| format!("sjabloon is geen geldige TOML: {e}"))?;
    check(template)
}

fn check(template: Template) -> Result<CheckedTemplate, String> {
    let fields = template.kind.fields();
    let name = &template.name;
    if template.file_types.is_empty() {
        return Err(format!("sjabloon {name}: file_types is leeg"));
    }
    let csv = template.file_types.contains(&FileType::Csv);
    if csv && template.file_types.len() > 1 {
        return Err(format!("sjabloon {name}: een CSV-sjabloon kan geen werkmappen lezen; maak er twee sjablonen van"));
    }
    let global_formats = template
        .date_formats
        .iter()
        .map(|f| DateFormat::compile(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("sjabloon {name}: {e}"))?;
    let mut columns = Vec::new();
    for c in &template.columns {
        let field = fields.iter().position(|f| f.name == c.field).ok_or_else(|| {
            format!("sjabloon {name}: onbekend veld '{}' voor soort {}", c.field, template.kind.as_str())
        })?;
        if columns.iter().any(|r: &ResolvedColumn| r.field == field) {
            return Err(format!("sjabloon {name}: veld '{}' staat twee keer in het sjabloon", c.field));
        }
        if c.header.is_none() == c.letter.is_none() {
            return Err(format!("sjabloon {name}: geef voor veld '{}' óf een header óf een letter", c.field));
        }
        if let Some(letter) = &c.letter {
            column_index(letter).ok_or_else(|| format!("sjabloon {name}: '{letter}' is geen kolomletter"))?;
        }
        let date_formats = match &c.date_formats {
            Some(list) => list
                .iter()
                .map(|f| DateFormat::compile(f))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("sjabloon {name}: {e}"))?,
            None => global_formats.clone(),
        };
        columns.push(ResolvedColumn {
            field,
            column: c.clone(),
            date_formats,
            amount_style: c.amount_style.unwrap_or(template.amount_style),
        });
    }
    let has = |f: &str| columns.iter().any(|c| fields[c.field].name == f);
    let need = |cond: bool, what: &str| if cond { Ok(()) } else { Err(format!("sjabloon {name}: {what}")) };
    if template.kind == Kind::Ledger {
        match template.sign {
            SignConvention::Signed => need(
                has("amount") && !has("debit") && !has("credit"),
                "sign = \"signed\" vraagt één kolom amount (en geen debit/credit)",
            )?,
            SignConvention::DebitCredit => need(
                has("debit") && has("credit") && !has("amount"),
                "sign = \"debit_credit\" vraagt kolommen debit en credit",
            )?,
            SignConvention::Indicator => {
                need(has("amount") && has("indicator"), "sign = \"indicator\" vraagt kolommen amount en indicator")?
            }
        }
    }
    if template.kind == Kind::Contracts {
        super::contracts::check_layout(&has).map_err(|e| format!("sjabloon {name}: {e}"))?;
    }
    for f in fields.iter().filter(|f| f.required) {
        need(has(f.name), &format!("verplicht veld '{}' ({}) ontbreekt", f.name, f.label))?;
    }
    let mut key_fields = Vec::new();
    for k in &template.key {
        let i = fields
            .iter()
            .position(|f| f.name == k)
            .ok_or_else(|| format!("sjabloon {name}: onbekend sleutelveld '{k}'"))?;
        need(has(k), &format!("sleutelveld '{k}' heeft geen kolom"))?;
        key_fields.push(i);
    }
    Ok(CheckedTemplate { template, columns, key_fields, fields })
}

/// `A` -> 0, `Z` -> 25, `AA` -> 26. Up to `XFD`.
pub fn column_index(letter: &str) -> Option<u32> {
    let t = letter.trim();
    if t.is_empty() || t.len() > 3 {
        return None;
    }
    let mut n: u32 = 0;
    for c in t.chars() {
        let c = c.to_ascii_uppercase();
        if !c.is_ascii_uppercase() {
            return None;
        }
        n = n * 26 + (c as u32 - 'A' as u32 + 1);
    }
    (n <= 16384).then(|| n - 1)
}

/// 0 -> `A`, 26 -> `AA`.
pub fn column_letter(index: u32) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = ((n - 1) % 26) as u8;
        out.push((b'A' + r) as char);
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// Every shipped template, checked.
pub fn shipped() -> Vec<CheckedTemplate> {
    SHIPPED.iter().map(|(n, t)| parse(t).unwrap_or_else(|e| panic!("shipped template {n} is invalid: {e}"))).collect()
}

/// A shipped template by name, or a template file when `name` is a path to a `.toml` file.
pub fn find(name: &str) -> Result<CheckedTemplate, String> {
    if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
        return parse(text);
    }
    if name.ends_with(".toml") {
        let text = std::fs::read_to_string(name).map_err(|e| format!("kan sjabloonbestand {name} niet lezen: {e}"))?;
        return parse(&text);
    }
    let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
    Err(format!(
        "onbekend sjabloon '{name}'; beschikbaar: {} (of een pad naar een eigen .toml-bestand)",
        names.join(", ")
    ))
}

/// Case- and space-insensitive header comparison key.
pub fn normalize_header(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_is_valid() {
        let all = shipped();
        assert_eq!(all.len(), 14);
        for t in &all {
            assert_eq!(find(t.name()).unwrap().name(), t.name());
        }
    }

    #[test]
    fn date_formats_are_strict_and_never_guess() {
        let f = DateFormat::compile("dd-mm-jjjj").unwrap();
        assert_eq!(f.parse("03-04-2022").unwrap().unwrap(), time::macros::date!(2022 - 04 - 03));
        assert!(f.parse("3-4-2022").is_none());
        assert!(f.parse("2022-04-03").is_none());
        assert!(f.parse("03-04-2022 00:00").is_none());
        assert!(f.parse("31-02-2022").unwrap().is_err());
        assert!(f.parse("01-13-2022").unwrap().is_err());
        let g = DateFormat::compile("jjjj-mm-dd").unwrap();
        assert_eq!(g.parse("2022-12-31").unwrap().unwrap(), time::macros::date!(2022 - 12 - 31));
        let h = DateFormat::compile("d/m/jjjj").unwrap();
        assert_eq!(h.parse("3/4/2022").unwrap().unwrap(), time::macros::date!(2022 - 04 - 03));
        assert!(DateFormat::compile("dd-mm").is_err());
        assert!(DateFormat::compile("dd-mm-jjjj hh").is_err());
    }

    #[test]
    fn column_letters_round_trip() {
        assert_eq!(column_index("A"), Some(0));
        assert_eq!(column_index("m"), Some(12));
        assert_eq!(column_index("XFD"), Some(16383));
        assert_eq!(column_index("XFE"), None);
        for i in [0, 25, 26, 701, 702, 16383] {
            assert_eq!(column_index(&column_letter(i)), Some(i));
        }
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let base = include_str!("../../import-templates/standaard-grootboek.toml");
        let e = parse(&base.replace("field = \"amount\"", "field = \"bedragje\"")).unwrap_err();
        assert!(e.contains("onbekend veld 'bedragje'"), "{e}");
        let e = parse(&base.replace("sign = \"signed\"", "sign = \"debit_credit\"")).unwrap_err();
        assert!(e.contains("debit_credit"), "{e}");
        let e = parse(&base.replace("[\"dd-mm-jjjj\", \"jjjj-mm-dd\"]", "[\"qq-mm-jjjj\"]")).unwrap_err();
        assert!(e.contains("onbekend teken"), "{e}");
    }
}
