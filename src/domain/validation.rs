//! Field-level validation errors, gathered so a form can show every problem next to its field.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// Dutch messages per form field name. Empty means valid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the first message per field: the most basic problem is the one to fix first.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// Ok when no field has an error.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// Checks a free-text field: trimmed, at most `max` characters, required when `required`, no control
/// characters and no BSN.
pub fn text(
    errors: &mut FieldErrors,
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
    required: bool,
) -> String {
    let v = value.trim();
    if required && v.is_empty() {
        errors.add(field, format!("{label} is verplicht."));
    }
    if v.chars().count() > max {
        errors.add(field, format!("{label} mag hoogstens {max} tekens lang zijn (nu {}).", v.chars().count()));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.add(field, format!("{label} bevat onzichtbare stuurtekens."));
    }
    // Free text is where a BSN slips in unnoticed (a reason, a remark): every form's text goes through here.
    if super::bsn::contains_bsn(v) {
        errors.add(field, super::bsn::free_text_refusal(label));
    }
    v.to_string()
}

/// Checks a required date field (ISO from the browser's date field, or dd-mm-jjjj typed by hand).
pub fn required_date(errors: &mut FieldErrors, field: &'static str, label: &str, value: &str) -> Option<time::Date> {
    match super::dates::parse_form(value) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            errors.add(field, format!("{label} is verplicht."));
            None
        }
        Err(m) => {
            errors.add(field, m);
            None
        }
    }
}

/// A field a form repeats (one checkbox per choice), read by a repeated-key form reader (`serde_html_form`)
/// into the comma-separated list the domain and the import's cells use: `routes=b1&routes=z` is "b1,z".
pub fn comma_joined<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Vec::<String>::deserialize(d)?.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_with_a_bsn_is_refused_naming_the_field_and_other_numbers_pass() {
        let mut e = FieldErrors::new();
        text(&mut e, "notes", "Notities", "Deelnemer 111222333 gebeld", 5000, false);
        text(&mut e, "title", "Titel", "Perceel 2 (2023-0001), 12 deelnemers", 200, true);
        assert_eq!(
            e.get("notes"),
            Some(
                "Notities bevat een nummer dat een BSN lijkt (9 cijfers die de elfproef doorstaan). taalbudget \
                 bewaart geen BSN: laat het nummer weg of gebruik het klantnummer van de gemeente."
            )
        );
        assert_eq!(e.get("title"), None);
    }
}
