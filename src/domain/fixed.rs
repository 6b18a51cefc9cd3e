//! One fixed-point number with two decimals, typed and shown the Dutch way: shares and percentages
//! (hundredths of a percent), hours and the quality figures are all this, so each is parsed by one
//! function, shown one way, and stays an INTEGER column of hundredths in the database.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// A number with at most two decimals, kept as a count of hundredths: 12,5 is `Fixed(1250)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Fixed(i64);

/// What a typed number must be, and how a refusal says so. One constant per quantity, next to its type.
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    /// What a text that is no number is not: "'abc' is geen {noun}."
    pub noun: &'static str,
    /// Whether a trailing `%` may be typed (percentages).
    pub percent: bool,
    /// The allowed values, both inclusive unless `min_exclusive`; `None` leaves that side to the caller.
    pub min: Option<Fixed>,
    pub max: Option<Fixed>,
    /// Whether `min` itself is refused too (a share of 0% is no share).
    pub min_exclusive: bool,
    /// Said of a negative value when negatives get their own sentence; `{}` stands for the typed text.
    pub negative: Option<&'static str>,
    /// Said of a value outside `min..=max`; `{}` stands for the typed text.
    pub out_of_range: &'static str,
}

impl Fixed {
    pub const ZERO: Fixed = Fixed(0);
    /// The number of decimals kept.
    pub const DECIMALS: u32 = 2;
    const ONE: i64 = 100;

    pub const fn from_hundredths(h: i64) -> Fixed {
        Fixed(h)
    }

    pub const fn whole(n: i64) -> Fixed {
        Fixed(n * Fixed::ONE)
    }

    /// What the database stores.
    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub fn decimal(self) -> Decimal {
        Decimal::new(self.0, Fixed::DECIMALS)
    }

    /// A percentage as the fraction it stands for: 12,5 (%) is 0.125.
    pub fn per_hundred(self) -> Decimal {
        Decimal::new(self.0, Fixed::DECIMALS + 2)
    }

    /// A computed decimal kept to two decimals, rounded half away from zero (a parsed value has two at
    /// most, so nothing is lost); saturates instead of wrapping.
    pub fn from_decimal(d: Decimal) -> Fixed {
        let h = d
            .checked_mul(Decimal::ONE_HUNDRED)
            .map(|h| h.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
            .and_then(|h| h.to_i64());
        Fixed(h.unwrap_or(if d.is_sign_negative() { i64::MIN } else { i64::MAX }))
    }

    /// "12,5", "40", "0,25", "-3,1": the decimals it has, without trailing zeros and without thousands
    /// separators (a "1.500" would read back as 1,5).
    pub fn dutch(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let (whole, frac) = (self.0.unsigned_abs() / 100, self.0.unsigned_abs() % 100);
        match frac {
            0 => format!("{sign}{whole}"),
            f if f % 10 == 0 => format!("{sign}{whole},{}", f / 10),
            f => format!("{sign}{whole},{f:02}"),
        }
    }

    /// "12,50", "40": a whole number plain, any other with both decimals, as contracts write shares.
    pub fn dutch_padded(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let (whole, frac) = (self.0.unsigned_abs() / 100, self.0.unsigned_abs() % 100);
        if frac == 0 {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole},{frac:02}")
        }
    }

    /// "12,5%".
    pub fn dutch_percent(self) -> String {
        format!("{}%", self.dutch())
    }

    /// Reads "12,5", "12.5", "12", ",5" (and "12,5%" for a percentage): one decimal separator, comma or
    /// point, at most two decimals (trailing zeros do not count), an optional sign, nothing else. A
    /// thousands separator is refused rather than guessed, as for money. Every refusal is one Dutch
    /// sentence from `q`.
    pub fn parse(text: &str, q: &Quantity) -> Result<Fixed, String> {
        let typed = text.trim();
        let number = if q.percent { typed.trim_end_matches('%').trim() } else { typed };
        let say = |sentence: &str| sentence.replace("{}", typed);
        let not_a_number = || format!("'{typed}' is geen {}.", q.noun);
        let (negative, digits) = match number.as_bytes().first() {
            Some(b'-') => (true, &number[1..]),
            Some(b'+') => (false, &number[1..]),
            _ => (false, number),
        };
        let (whole, frac) = match digits.find([',', '.']) {
            Some(at) => (&digits[..at], &digits[at + 1..]),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
            return Err(not_a_number());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > Fixed::DECIMALS as usize {
            return Err(format!("'{typed}' heeft meer dan twee decimalen."));
        }
        let frac_value = format!("{frac:0<2}").parse::<i64>().unwrap_or(0);
        let whole = whole.trim_start_matches('0');
        let magnitude = if whole.is_empty() { Some(0) } else { whole.parse::<i64>().ok() }
            .and_then(|w| w.checked_mul(Fixed::ONE))
            .and_then(|w| w.checked_add(frac_value));
        let Some(magnitude) = magnitude else {
            // Too many digits for any quantity here: out of range when there is one, else unreadable.
            return Err(if q.min.is_some() || q.max.is_some() { say(q.out_of_range) } else { not_a_number() });
        };
        let value = Fixed(if negative { -magnitude } else { magnitude });
        if let Some(sentence) = q.negative.filter(|_| value.0 < 0) {
            return Err(say(sentence));
        }
        let below = q.min.is_some_and(|min| value < min || (q.min_exclusive && value == min));
        if below || q.max.is_some_and(|max| value > max) {
            return Err(say(q.out_of_range));
        }
        Ok(value)
    }
}

impl std::ops::Add for Fixed {
    type Output = Fixed;
    fn add(self, o: Fixed) -> Fixed {
        Fixed(self.0 + o.0)
    }
}

impl std::iter::Sum for Fixed {
    fn sum<I: Iterator<Item = Fixed>>(iter: I) -> Fixed {
        Fixed(iter.map(|f| f.0).sum())
    }
}

/// A computed decimal (a ratio, an average) shown the way a [`Fixed`] is: Dutch comma, no trailing zeros.
pub fn dutch_decimal(d: Decimal) -> String {
    d.normalize().to_string().replace('.', ",")
}

/// A computed percentage as every screen writes it: `81,5%`, or `–` when there is no base for it.
pub fn pct_text(p: Option<Decimal>) -> String {
    p.map(|p| format!("{}%", dutch_decimal(p))).unwrap_or_else(|| "–".into())
}

/// A message about one field: "Uren aangeboden: een aantal uren kan niet negatief zijn (-1)."
pub fn labelled(label: &str, message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{label}: {}{}", first.to_lowercase(), chars.as_str()),
        None => label.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The scenario percentage (0 to 100 inclusive) as the forecast declares it.
    use crate::domain::forecast::PERCENT;

    const SHARE: Quantity = Quantity {
        min_exclusive: true,
        negative: None,
        out_of_range: "Een aandeel ligt tussen 0 en 100 procent; '{}' niet.",
        ..PERCENT
    };

    const ANY: Quantity = Quantity {
        noun: "getal",
        percent: false,
        min: None,
        max: None,
        min_exclusive: false,
        negative: None,
        out_of_range: "",
    };

    #[test]
    fn parses_dutch_and_plain_numbers_to_hundredths() {
        let table: &[(&str, &Quantity, i64)] = &[
            ("12,5", &PERCENT, 1250),
            ("12.5", &PERCENT, 1250),
            (" 40 ", &PERCENT, 4000),
            ("40%", &PERCENT, 4000),
            ("12,5 %", &PERCENT, 1250),
            ("33,33", &PERCENT, 3333),
            ("12,500", &PERCENT, 1250),
            (",5", &PERCENT, 50),
            ("7.", &PERCENT, 700),
            ("+3", &PERCENT, 300),
            ("-0", &PERCENT, 0),
            ("0", &PERCENT, 0),
            ("100", &PERCENT, 10_000),
            ("100,00", &SHARE, 10_000),
            ("0,01", &SHARE, 1),
            ("-3,25", &ANY, -325),
            ("007", &ANY, 700),
        ];
        for (text, q, hundredths) in table {
            assert_eq!(Fixed::parse(text, q), Ok(Fixed(*hundredths)), "{text}");
        }
    }

    #[test]
    fn refuses_with_one_dutch_sentence_naming_what_was_typed() {
        let table: &[(&str, &Quantity, &str)] = &[
            ("veertig", &PERCENT, "'veertig' is geen percentage."),
            ("", &PERCENT, "'' is geen percentage."),
            ("%", &PERCENT, "'%' is geen percentage."),
            ("-", &ANY, "'-' is geen getal."),
            ("1.000,5", &ANY, "'1.000,5' is geen getal."),
            ("1,2,3", &ANY, "'1,2,3' is geen getal."),
            ("1 000", &ANY, "'1 000' is geen getal."),
            ("1e3", &ANY, "'1e3' is geen getal."),
            ("1_000", &ANY, "'1_000' is geen getal."),
            ("40%", &ANY, "'40%' is geen getal."),
            ("33,333", &PERCENT, "'33,333' heeft meer dan twee decimalen."),
            ("-5", &PERCENT, "Een percentage kan niet negatief zijn ('-5')."),
            ("100,01", &PERCENT, "Een percentage ligt tussen 0 en 100; '100,01' niet."),
            ("0", &SHARE, "Een aandeel ligt tussen 0 en 100 procent; '0' niet."),
            ("-5", &SHARE, "Een aandeel ligt tussen 0 en 100 procent; '-5' niet."),
            ("99999999999999999999", &SHARE, "Een aandeel ligt tussen 0 en 100 procent; '99999999999999999999' niet."),
            ("99999999999999999999", &ANY, "'99999999999999999999' is geen getal."),
        ];
        for (text, q, message) in table {
            assert_eq!(Fixed::parse(text, q), Err(message.to_string()), "{text}");
        }
    }

    #[test]
    fn renders_without_trailing_zeros() {
        let table = [
            (1250, "12,5"),
            (1205, "12,05"),
            (4000, "40"),
            (3333, "33,33"),
            (5, "0,05"),
            (0, "0"),
            (-325, "-3,25"),
            (-50, "-0,5"),
            (150_000, "1500"),
        ];
        for (h, shown) in table {
            assert_eq!(Fixed(h).dutch(), shown);
        }
        assert_eq!(Fixed(1250).dutch_percent(), "12,5%");
        let padded = [(1250, "12,50"), (1205, "12,05"), (4000, "40"), (-50, "-0,50")];
        for (h, shown) in padded {
            assert_eq!(Fixed(h).dutch_padded(), shown);
        }
    }

    #[test]
    fn converts_to_and_from_decimal() {
        assert_eq!(Fixed(1250).decimal(), Decimal::new(125, 1));
        assert_eq!(Fixed(1250).per_hundred(), Decimal::new(125, 3));
        assert_eq!(Fixed::from_decimal(Decimal::new(805, 1)), Fixed(8050));
        // Half away from zero, not to even: 0,125 is 0,13 and -0,125 is -0,13.
        assert_eq!(Fixed::from_decimal(Decimal::new(125, 3)), Fixed(13));
        assert_eq!(Fixed::from_decimal(Decimal::new(-125, 3)), Fixed(-13));
        assert_eq!(Fixed::from_decimal(Decimal::MAX), Fixed(i64::MAX));
        assert_eq!(dutch_decimal(Decimal::new(66_70, 2)), "66,7");
    }

    #[test]
    fn a_label_names_the_field() {
        assert_eq!(
            labelled("Uren aangeboden", "Een aantal uren kan niet negatief zijn (-1)."),
            "Uren aangeboden: een aantal uren kan niet negatief zijn (-1)."
        );
        assert_eq!(labelled("Tevredenheid", "'x' is geen getal."), "Tevredenheid: 'x' is geen getal.");
    }

    proptest! {
        #[test]
        fn rendering_reads_back_as_the_same_value(h in -10_000_000_000i64..10_000_000_000) {
            let f = Fixed(h);
            prop_assert_eq!(Fixed::parse(&f.dutch(), &ANY), Ok(f));
            prop_assert_eq!(Fixed::parse(&f.dutch().replace(',', "."), &ANY), Ok(f));
            prop_assert_eq!(Fixed::parse(&f.dutch_padded(), &ANY), Ok(f));
        }

        #[test]
        fn a_percentage_reads_back_with_its_sign(h in 0i64..=10_000) {
            let f = Fixed(h);
            prop_assert_eq!(Fixed::parse(&f.dutch_percent(), &PERCENT), Ok(f));
        }
    }
}
