//! Language providers (taalaanbieders): the validated shape of a provider and its KvK number.

use serde::Serialize;

use super::validation::{text, FieldErrors};

/// A Chamber of Commerce number: exactly eight digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KvkNumber(String);

impl KvkNumber {
    pub fn parse(input: &str) -> Result<KvkNumber, String> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err("KvK-nummer is verplicht.".into());
        }
        if compact.len() != 8 || !compact.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("Een KvK-nummer bestaat uit precies 8 cijfers; '{}' is dat niet.", input.trim()));
        }
        Ok(KvkNumber(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a user typed into the provider form, as text, so the form can be shown again unchanged.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct ProviderForm {
    pub name: String,
    pub kvk: String,
    pub address: String,
    pub contact_person: String,
    pub email: String,
    pub phone: String,
    pub notes: String,
    pub active: Option<String>,
    pub version: Option<i64>,
}

/// A provider's fields after validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderDraft {
    pub name: String,
    pub kvk: KvkNumber,
    pub address: String,
    pub contact_person: String,
    pub email: String,
    pub phone: String,
    pub notes: String,
    pub active: bool,
}

impl ProviderForm {
    pub fn validate(&self) -> Result<ProviderDraft, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = text(&mut e, "name", "Naam", &self.name, 200, true);
        let kvk = KvkNumber::parse(&self.kvk).map_err(|m| e.add("kvk", m)).ok();
        let address = text(&mut e, "address", "Bezoekadres", &self.address, 300, false);
        let contact_person = text(&mut e, "contact_person", "Contactpersoon", &self.contact_person, 200, false);
        let email = text(&mut e, "email", "E-mailadres", &self.email, 254, false);
        if !email.is_empty() && !looks_like_email(&email) {
            e.add("email", format!("'{email}' is geen geldig e-mailadres (naam@domein.nl)."));
        }
        let phone = text(&mut e, "phone", "Telefoonnummer", &self.phone, 30, false);
        if !phone.is_empty() && !phone.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) {
            e.add("phone", "Een telefoonnummer bevat alleen cijfers, spaties en + - ( ).");
        }
        let notes = text(&mut e, "notes", "Notities", &self.notes, 5000, false);
        let active = self.active.is_some();
        match kvk {
            Some(kvk) if e.is_empty() => {
                Ok(ProviderDraft { name, kvk, address, contact_person, email, phone, notes, active })
            }
            _ => Err(e),
        }
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvk_numbers_are_exactly_eight_digits() {
        assert_eq!(KvkNumber::parse("12345678").unwrap().as_str(), "12345678");
        assert_eq!(KvkNumber::parse(" 1234 5678 ").unwrap().as_str(), "12345678");
        assert!(KvkNumber::parse("1234567").is_err());
        assert!(KvkNumber::parse("123456789").is_err());
        assert!(KvkNumber::parse("1234567a").is_err());
        assert!(KvkNumber::parse("").unwrap_err().contains("verplicht"));
    }

    #[test]
    fn a_form_with_errors_names_each_field() {
        let form = ProviderForm { name: " ".into(), kvk: "12".into(), email: "geen-mail".into(), ..Default::default() };
        let errors = form.validate().unwrap_err();
        assert_eq!(errors.get("name"), Some("Naam is verplicht."));
        assert!(errors.get("kvk").unwrap().contains("8 cijfers"));
        assert!(errors.get("email").unwrap().contains("geen geldig e-mailadres"));
    }
}
