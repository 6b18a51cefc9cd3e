//! Parsing one cell by its field's rule: dates (date cells always, text only in declared formats), amounts
//! (number cells via `money_from_number`, text in the declared style), text and whole numbers. Never guesses.

use crate::domain::bsn;
use crate::money::Money;

use super::source::{number_text, RawValue};
use super::template::ResolvedColumn;
use super::{FieldType, Value};

fn excel_date(y: u16, m: u8, d: u8) -> Result<time::Date, String> {
    let month = time::Month::try_from(m).map_err(|_| "ongeldige datumcel".to_string())?;
    time::Date::from_calendar_date(y as i32, month, d)
        .map_err(|_| format!("datumcel {d:02}-{m:02}-{y} bestaat niet in de kalender"))
}

/// Parses a cell for a field. `Ok(None)` means the cell is empty.
pub fn parse(raw: Option<&RawValue>, ty: FieldType, col: &ResolvedColumn) -> Result<Option<Value>, String> {
    let Some(raw) = raw else { return Ok(None) };
    if let RawValue::Error(e) = raw {
        return Err(format!("de cel bevat een formulefout ({e}); herstel de formule in de bron"));
    }
    let value = match ty {
        FieldType::Date => Value::Date(parse_date(raw, col)?),
        FieldType::Amount => Value::Money(parse_amount(raw, col)?),
        FieldType::Text { max } => {
            let text = match raw {
                RawValue::Text(s) => s.trim().to_string(),
                RawValue::Date(_) | RawValue::DateIso(_) => match parse_date(raw, col) {
                    Ok(d) => crate::domain::dates::iso(d),
                    Err(_) => raw.display(),
                },
                other => other.display(),
            };
            // Byte length bounds the character count, so most cells skip the count.
            if text.len() > max {
                let n = text.chars().count();
                if n > max {
                    return Err(format!("de tekst is {n} tekens lang; hoogstens {max} zijn toegestaan"));
                }
            }
            // Control characters are below 0x20, 0x7F, or U+0080..U+009F (which UTF-8 starts with 0xC2).
            let suspicious = text.bytes().any(|b| b < 0x20 || b == 0x7F || b == 0xC2);
            if suspicious && text.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                return Err("de tekst bevat onzichtbare stuurtekens".into());
            }
            if col.column.refuse_bsn && bsn::looks_like_bsn(&text) {
                return Err(bsn::REFUSAL.into());
            }
            Value::Text(text)
        }
        FieldType::Integer { min, max } => {
            let n = match raw {
                RawValue::Int(i) => *i,
                RawValue::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => *f as i64,
                RawValue::Text(s) => {
                    let t = s.trim();
                    if t.is_empty() || t.len() > 15 || !t.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!("'{t}' is geen geheel getal"));
                    }
                    t.parse().map_err(|_| format!("'{t}' is geen geheel getal"))?
                }
                other => return Err(format!("'{}' is geen geheel getal", other.display())),
            };
            if n < min || n > max {
                return Err(format!("{n} ligt niet tussen {min} en {max}"));
            }
            Value::Int(n)
        }
    };
    Ok(Some(value))
}

fn parse_date(raw: &RawValue, col: &ResolvedColumn) -> Result<time::Date, String> {
    match raw {
        RawValue::Date(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            excel_date(y, m, day)
        }
        RawValue::DateIso(s) => crate::domain::dates::parse_iso(s.get(..10).unwrap_or(s))
            .ok_or_else(|| format!("datumcel '{s}' is onleesbaar")),
        RawValue::Number(_) | RawValue::Int(_) => Err(format!(
            "'{}' is een getal zonder datumopmaak; geef de cel een datumopmaak of schrijf de datum als {}",
            raw.display(),
            formats_text(col)
        )),
        RawValue::Text(s) => {
            let t = s.trim();
            for f in &col.date_formats {
                if let Some(parsed) = f.parse(t) {
                    return parsed;
                }
            }
            if col.date_formats.is_empty() {
                return Err(format!("'{t}' is tekst; het sjabloon accepteert in deze kolom alleen echte datumcellen"));
            }
            Err(format!("'{t}' past niet bij de datumnotatie van het sjabloon ({})", formats_text(col)))
        }
        other => Err(format!("'{}' is geen datum", other.display())),
    }
}

fn formats_text(col: &ResolvedColumn) -> String {
    if col.date_formats.is_empty() {
        return "een datumcel".into();
    }
    col.date_formats.iter().map(|f| f.text.as_str()).collect::<Vec<_>>().join(" of ")
}

/// The one place a spreadsheet number (which arrives as f64) becomes money: through `Decimal::from_f64`, then
/// rounded to cents half away from zero, so 1.005 typed in Excel is 1,01. Past this point money is exact.
pub fn money_from_number(value: f64) -> Option<Money> {
    use rust_decimal::prelude::FromPrimitive;
    let d = rust_decimal::Decimal::from_f64(value).filter(|_| value.is_finite())?;
    Money::in_range(d).then(|| Money::from_decimal(d))
}

fn parse_amount(raw: &RawValue, col: &ResolvedColumn) -> Result<Money, String> {
    match raw {
        RawValue::Number(f) => {
            money_from_number(*f).ok_or_else(|| format!("bedrag {} is te groot of geen getal", number_text(*f)))
        }
        RawValue::Int(i) => i
            .checked_mul(100)
            .filter(|c| c.abs() <= 100_000_000_000_000)
            .map(Money::from_cents)
            .ok_or_else(|| format!("bedrag {i} is te groot")),
        RawValue::Text(s) => Money::parse_with(s, col.amount_style).map_err(|e| e.to_string()),
        other => Err(format!("'{}' is geen bedrag", other.display())),
    }
}

#[cfg(test)]
mod number_tests {
    use super::money_from_number;

    #[test]
    fn spreadsheet_numbers_become_the_cents_people_typed() {
        assert_eq!(money_from_number(1.005).unwrap().cents(), 101);
        assert_eq!(money_from_number(0.1 + 0.2).unwrap().cents(), 30);
        assert_eq!(money_from_number(-1234.565).unwrap().cents(), -123457);
        assert_eq!(money_from_number(13.75).unwrap().cents(), 1375);
        assert_eq!(money_from_number(1e20), None);
        assert_eq!(money_from_number(f64::NAN), None);
        assert_eq!(money_from_number(f64::INFINITY), None);
    }
}
