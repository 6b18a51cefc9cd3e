//! Money: an exact euro amount with two decimals. Decimal inside, INTEGER cents in the database,
//! `€ 1.234,56` on screen, `"1234.56"` in JSON and CSV, and a strict parser for text amounts.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in euros, always held at exactly two decimals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

/// How a text amount is written. The import templates declare one; `Auto` accepts both Dutch and plain
/// notation but refuses anything that could be read two ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AmountStyle {
    /// `1.234,56`: dot groups thousands, comma marks the decimals (a lone `1234.56` is also accepted).
    Dutch,
    /// `1234.56`: dot marks the decimals, no thousands separator.
    Plain,
    /// Either of the above, refusing what is ambiguous (`1.234`, `1,234`).
    #[default]
    Auto,
}

/// Why a text is not an amount. The message is Dutch and says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyParseError {
    #[error("leeg bedrag")]
    Empty,
    #[error(
        "dubbelzinnig bedrag: '{0}' kan duizendtallen of decimalen betekenen; schrijf bijvoorbeeld 1.234,00 of 1,23"
    )]
    Ambiguous(String),
    #[error("bedrag '{0}' heeft meer dan twee decimalen")]
    TooManyDecimals(String),
    #[error("ongeldig bedrag '{0}': {1}")]
    Malformed(String, &'static str),
    #[error("bedrag '{0}' is te groot")]
    TooLarge(String),
}

/// The largest amount we accept: a thousand billion euros fits every municipal budget and keeps cents in i64.
const MAX_ABS_CENTS: i64 = 100_000_000_000_000;

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Rounds to cents, half away from zero (not banker's rounding).
    pub fn from_decimal(d: Decimal) -> Money {
        let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        r.rescale(2);
        Money(r)
    }

    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, 2))
    }

    /// Within the bounds Money accepts (a thousand billion euros either way).
    pub fn in_range(d: Decimal) -> bool {
        d.abs() <= Decimal::new(MAX_ABS_CENTS, 2)
    }

    pub fn cents(&self) -> i64 {
        (self.0 * Decimal::ONE_HUNDRED).to_i64().expect("Money is bounded to i64 cents")
    }

    pub fn decimal(&self) -> Decimal {
        self.0
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        !self.is_zero() && !self.is_negative()
    }

    pub fn abs(&self) -> Money {
        Money(self.0.abs())
    }

    /// `1.234,56` and `-1.234,56`: Dutch notation without the euro sign, for Dutch CSV files.
    pub fn dutch(&self) -> String {
        let cents = self.cents();
        let sign = if cents < 0 { "-" } else { "" };
        let abs = cents.unsigned_abs();
        let euros = (abs / 100).to_string();
        let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
        for (i, c) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped},{:02}", abs % 100)
    }

    /// `1234.56`: for JSON, CSV and form values.
    pub fn plain(&self) -> String {
        format!("{:.2}", self.0)
    }

    /// Parses text in any accepted notation (see [`AmountStyle::Auto`]).
    pub fn parse(text: &str) -> Result<Money, MoneyParseError> {
        Money::parse_with(text, AmountStyle::Auto)
    }

    /// Parses text written in the given style. Never guesses: a value that could be read two ways is an error.
    pub fn parse_with(text: &str, style: AmountStyle) -> Result<Money, MoneyParseError> {
        let original = text.trim_matches(is_space);
        if original.is_empty() {
            return Err(MoneyParseError::Empty);
        }
        let malformed = |why| MoneyParseError::Malformed(original.to_string(), why);
        let (negative, body) = strip_sign_and_currency(original)
            .ok_or_else(|| malformed("teken of valuta staat op een onverwachte plek"))?;
        if body.is_empty() {
            return Err(malformed("geen cijfers"));
        }
        if let Some(c) = body.chars().find(|c| !c.is_ascii_digit() && *c != '.' && *c != ',') {
            return Err(MoneyParseError::Malformed(
                original.to_string(),
                if c.is_alphabetic() { "bevat letters" } else { "bevat een onverwacht teken" },
            ));
        }
        let (int_part, frac_part) = split_decimal(body, style, original)?;
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(malformed("geen cijfers"));
        }
        if frac_part.len() > 2 {
            return Err(MoneyParseError::TooManyDecimals(original.to_string()));
        }
        if int_part.len() > 13 {
            return Err(MoneyParseError::TooLarge(original.to_string()));
        }
        let int: i64 =
            if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| malformed("geen geldig getal"))? };
        let frac: i64 = match frac_part.len() {
            0 => 0,
            1 => frac_part.parse::<i64>().map_err(|_| malformed("geen geldig getal"))? * 10,
            _ => frac_part.parse().map_err(|_| malformed("geen geldig getal"))?,
        };
        let cents = int * 100 + frac;
        if cents > MAX_ABS_CENTS {
            return Err(MoneyParseError::TooLarge(original.to_string()));
        }
        Ok(Money::from_cents(if negative { -cents } else { cents }))
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}'
}

/// Removes a currency mark (`€`, `EUR`) and the sign (`-`, `+`, a trailing `-`, or parentheses) wherever
/// ledgers put them. Returns None when signs are doubled or contradictory.
fn strip_sign_and_currency(text: &str) -> Option<(bool, &str)> {
    let mut s = text;
    let mut negative = false;
    let mut signs = 0;
    let mut parens = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        s = inner.trim_matches(is_space);
        negative = true;
        parens = true;
        signs += 1;
    }
    // A sign may stand before or after the currency mark: "-€ 12,00" and "€ -12,00" both occur.
    for _ in 0..2 {
        if let Some(r) = s.strip_prefix('-') {
            s = r.trim_start_matches(is_space);
            negative = true;
            signs += 1;
        } else if let Some(r) = s.strip_prefix('+') {
            s = r.trim_start_matches(is_space);
            signs += 1;
        }
        if let Some(r) = s.strip_prefix('€').or_else(|| s.strip_prefix("EUR")) {
            s = r.trim_start_matches(is_space);
        }
    }
    if let Some(r) = s.strip_suffix('€').or_else(|| s.strip_suffix("EUR")) {
        s = r.trim_end_matches(is_space);
    }
    if let Some(r) = s.strip_suffix('-') {
        s = r.trim_end_matches(is_space);
        negative = true;
        signs += 1;
    }
    if signs > 1 || (parens && s.starts_with('(')) {
        return None;
    }
    Some((negative, s))
}

/// Splits the digits into integer and decimal part, checking thousands groups.
fn split_decimal<'a>(body: &'a str, style: AmountStyle, original: &str) -> Result<(String, &'a str), MoneyParseError> {
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    let ambiguous = || MoneyParseError::Ambiguous(original.to_string());
    let malformed = |why| MoneyParseError::Malformed(original.to_string(), why);
    match (dots, commas) {
        (0, 0) => Ok((body.to_string(), "")),
        (_, _) if dots > 0 && commas > 0 => {
            // Both present: the last one marks the decimals, the other groups thousands.
            let last_dot = body.rfind('.').unwrap_or(0);
            let last_comma = body.rfind(',').unwrap_or(0);
            let (group_sep, dec_sep) = if last_comma > last_dot { ('.', ',') } else { (',', '.') };
            if style == AmountStyle::Plain {
                return Err(malformed("scheidingstekens voor duizendtallen passen niet bij de stijl 'plain'"));
            }
            if style == AmountStyle::Dutch && dec_sep == '.' {
                return Err(malformed("in Nederlandse notatie scheidt de komma de decimalen"));
            }
            if body.matches(dec_sep).count() != 1 {
                return Err(malformed("meer dan één decimaalteken"));
            }
            let (int, frac) = body.split_once(dec_sep).expect("one separator");
            Ok((
                ungroup(int, group_sep).ok_or_else(|| malformed("duizendtallen staan niet in groepen van drie"))?,
                frac,
            ))
        }
        (d, c) => {
            let n = d + c;
            let sep = if dots > 0 { '.' } else { ',' };
            let comma_decimal_not_allowed = style == AmountStyle::Plain && sep == ',';
            if comma_decimal_not_allowed {
                return Err(malformed("een komma past niet bij de stijl 'plain' (1234.56)"));
            }
            if n > 1 {
                if style != AmountStyle::Auto && !(style == AmountStyle::Dutch && sep == '.') {
                    return Err(malformed("meer dan één decimaalteken"));
                }
                return Ok((
                    ungroup(body, sep).ok_or_else(|| malformed("duizendtallen staan niet in groepen van drie"))?,
                    "",
                ));
            }
            let (int, frac) = body.split_once(sep).expect("one separator");
            if frac.len() == 3 {
                // "1.234" or "1,234": thousands or decimals? Plain "0.125" is merely too precise.
                let could_be_thousands = !int.is_empty() && int.len() <= 3 && !int.starts_with('0');
                let reads_as_thousands_only = style == AmountStyle::Plain;
                if could_be_thousands && !reads_as_thousands_only {
                    return Err(ambiguous());
                }
                return Err(MoneyParseError::TooManyDecimals(original.to_string()));
            }
            Ok((int.to_string(), frac))
        }
    }
}

/// "1.234.567" -> "1234567" when every group after the first has exactly three digits.
fn ungroup(int: &str, sep: char) -> Option<String> {
    let mut groups = int.split(sep);
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl std::ops::SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// On screen: `€ 1.234,56` and `€ -1.234,56`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "€ {}", self.dutch())
    }
}

impl maud::Render for Money {
    fn render_to(&self, buffer: &mut String) {
        buffer.push_str(&self.to_string());
    }
}

impl FromStr for Money {
    type Err = MoneyParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.plain())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Money::parse_with(&s, AmountStyle::Plain).map_err(serde::de::Error::custom)
    }
}

/// In the API's OpenAPI document an amount is what it is in JSON: a decimal string with two decimals.
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^-?[0-9]+\.[0-9]{2}$"))
            .description(Some("Een bedrag in euro's: tekst met twee decimalen, bijvoorbeeld \"1234.50\"."))
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> i64 {
        Money::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}")).cents()
    }

    #[test]
    fn accepted_notations_parse_to_exact_cents() {
        let cases: &[(&str, i64)] = &[
            ("1234.56", 123456),
            ("1234,56", 123456),
            ("1.234,56", 123456),
            ("-1.234,56", -123456),
            ("(1.234,56)", -123456),
            ("€ 1.234,56", 123456),
            ("€1.234,56", 123456),
            ("€\u{a0}1.234,56", 123456),
            ("\u{a0}1.234,56\u{a0}", 123456),
            ("€ -1.234,56", -123456),
            ("-€ 1.234,56", -123456),
            ("1.234,56-", -123456),
            ("1,234.56", 123456),
            ("13,75", 1375),
            ("13,7", 1370),
            ("0,05", 5),
            (",50", 50),
            ("0", 0),
            ("12", 1200),
            ("1.234.567,89", 123456789),
            ("1.234.567", 123456700),
            ("+12,00", 1200),
            ("EUR 12,00", 1200),
            ("12,00 €", 1200),
            ("( 1.000,00 )", -100000),
            ("999999999,99", 99999999999),
            ("-0,01", -1),
        ];
        for (input, cents) in cases {
            assert_eq!(ok(input), *cents, "input {input:?}");
        }
    }

    #[test]
    fn ambiguous_amounts_are_refused_not_guessed() {
        for s in ["1.234", "1,234", "-1.234", "€ 12,345", "(1.000)"] {
            assert!(matches!(Money::parse(s), Err(MoneyParseError::Ambiguous(_))), "{s:?}");
        }
    }

    #[test]
    fn malformed_amounts_say_why() {
        let cases = [
            ("", "leeg bedrag"),
            ("abc", "bevat letters"),
            ("12a,00", "bevat letters"),
            ("1.2.3", "groepen van drie"),
            ("1,23,45", "groepen van drie"),
            ("--12", "onverwachte plek"),
            ("(-12)", "onverwachte plek"),
            ("12#", "onverwacht teken"),
            ("1.234,567", "meer dan twee decimalen"),
            ("0,125", "meer dan twee decimalen"),
            ("1,234,56.7", "groepen van drie"),
            ("99999999999999999", "te groot"),
            ("€", "geen cijfers"),
        ];
        for (input, needle) in cases {
            let err = Money::parse(input).expect_err(input).to_string();
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }

    #[test]
    fn declared_styles_are_strict() {
        assert_eq!(Money::parse_with("1.234,56", AmountStyle::Dutch).unwrap().cents(), 123456);
        assert_eq!(Money::parse_with("1234.56", AmountStyle::Dutch).unwrap().cents(), 123456);
        assert!(Money::parse_with("1,234.56", AmountStyle::Dutch).is_err());
        assert!(Money::parse_with("1.234", AmountStyle::Dutch).is_err());
        assert_eq!(Money::parse_with("1234.56", AmountStyle::Plain).unwrap().cents(), 123456);
        assert!(Money::parse_with("13,75", AmountStyle::Plain).is_err());
        assert!(Money::parse_with("1.234,56", AmountStyle::Plain).is_err());
    }

    #[test]
    fn displays_dutch() {
        assert_eq!(Money::from_cents(123456).to_string(), "€ 1.234,56");
        assert_eq!(Money::from_cents(-123456).to_string(), "€ -1.234,56");
        assert_eq!(Money::from_cents(5).to_string(), "€ 0,05");
        assert_eq!(Money::from_cents(-5).to_string(), "€ -0,05");
        assert_eq!(Money::from_cents(100_000_000).to_string(), "€ 1.000.000,00");
        assert_eq!(Money::from_cents(99_999).to_string(), "€ 999,99");
        assert_eq!(Money::from_cents(123456).plain(), "1234.56");
        assert_eq!(Money::from_cents(-123456).dutch(), "-1.234,56");
        assert_eq!(Money::from_cents(-7).plain(), "-0.07");
        assert_eq!(serde_json::to_string(&Money::from_cents(123450)).unwrap(), "\"1234.50\"");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        use rust_decimal_macros::dec;
        assert_eq!(Money::from_decimal(dec!(0.125)).cents(), 13);
        assert_eq!(Money::from_decimal(dec!(-0.125)).cents(), -13);
        assert_eq!(Money::from_decimal(dec!(0.135)).cents(), 14);
        assert_eq!(Money::from_decimal(dec!(2.345)).cents(), 235);
        assert_eq!(Money::from_decimal(dec!(0.124999)).cents(), 12);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(cents in -MAX_ABS_CENTS..MAX_ABS_CENTS) {
            let m = Money::from_cents(cents);
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
            prop_assert_eq!(Money::parse(&m.plain()).unwrap(), m);
            prop_assert_eq!(Money::parse_with(&m.plain(), AmountStyle::Plain).unwrap(), m);
        }

        #[test]
        fn cents_round_trip(cents in any::<i32>()) {
            prop_assert_eq!(Money::from_cents(cents as i64).cents(), cents as i64);
        }
    }
}
