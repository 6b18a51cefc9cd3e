//! The providers kind: one row per taalaanbieder. The KvK number identifies a provider; a row whose KvK
//! number is already known is a duplicate and changes nothing, and the summary says which fields differ.

use sha2::{Digest, Sha256};

use super::registers::{batch_actor, batch_of, differs, mark_batch, push_errors, Notes};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, ImportKind, Kind, Prepared, RowValues};
use crate::domain::provider::{ProviderDraft, ProviderForm};
use crate::money::Money;
use crate::store;

pub const NAME: usize = 0;
pub const KVK: usize = 1;
pub const ADDRESS: usize = 2;
pub const CONTACT: usize = 3;
pub const EMAIL: usize = 4;
pub const PHONE: usize = 5;
pub const NOTES: usize = 6;

const fn text(name: &'static str, label: &'static str, max: usize, required: bool, explain: &'static str) -> FieldDef {
    FieldDef { name, label, ty: FieldType::Text { max }, required, explain }
}

pub const FIELDS: &[FieldDef] = &[
    text("name", "Naam", 300, true, "Naam van de taalaanbieder."),
    text("kvk", "KvK-nummer", 30, true, "KvK-nummer, 8 cijfers; herkent de aanbieder bij een volgende import."),
    text("address", "Bezoekadres", 400, false, "Bezoekadres."),
    text("contact_person", "Contactpersoon", 300, false, "Naam van de contactpersoon."),
    text("email", "E-mail", 300, false, "E-mailadres (naam@domein.nl)."),
    text("phone", "Telefoon", 50, false, "Telefoonnummer: cijfers, spaties en + - ( )."),
    text("notes", "Notities", 6000, false, "Vrije notities."),
];

/// The domain form's field names and the kind's field indexes.
const FORM_FIELDS: &[(&str, usize)] = &[
    ("name", NAME),
    ("kvk", KVK),
    ("address", ADDRESS),
    ("contact_person", CONTACT),
    ("email", EMAIL),
    ("phone", PHONE),
    ("notes", NOTES),
];

#[derive(Default)]
pub struct Providers {
    notes: Notes,
}

impl Providers {
    pub fn new() -> Providers {
        Providers::default()
    }
}

impl ImportKind for Providers {
    type Record = ProviderDraft;

    fn kind(&self) -> Kind {
        Kind::Providers
    }

    fn build(
        &self,
        _t: &CheckedTemplate,
        v: &mut RowValues,
        problems: &mut Vec<(usize, String)>,
    ) -> Option<ProviderDraft> {
        let form = ProviderForm {
            name: v.take_text(NAME),
            kvk: v.take_text(KVK),
            address: v.take_text(ADDRESS),
            contact_person: v.take_text(CONTACT),
            email: v.take_text(EMAIL),
            phone: v.take_text(PHONE),
            notes: v.take_text(NOTES),
            active: Some("on".into()),
            version: None,
        };
        match form.validate() {
            Ok(draft) => Some(draft),
            Err(e) => {
                push_errors(&e, FORM_FIELDS, NAME, problems);
                None
            }
        }
    }

    fn fingerprint(&self, r: &ProviderDraft, h: &mut Sha256) {
        h.update(r.kvk.as_str());
    }

    fn amount(&self, _r: &ProviderDraft) -> Money {
        Money::ZERO
    }

    fn preview_headers(&self) -> &'static [&'static str] {
        &["KvK-nummer", "Naam", "Bezoekadres", "Contactpersoon", "E-mail", "Telefoon"]
    }

    fn preview(&self, r: &ProviderDraft) -> Vec<String> {
        vec![
            r.kvk.as_str().to_string(),
            r.name.clone(),
            r.address.clone(),
            r.contact_person.clone(),
            r.email.clone(),
            r.phone.clone(),
        ]
    }

    fn duplicate_note(&self, row: u32) -> Option<String> {
        self.notes.get(row)
    }

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<ProviderDraft>) -> sqlx::Result<Option<i64>> {
        let d = &p.record;
        let Some(existing) = store::providers::by_kvk_in(conn, d.kvk.as_str()).await? else { return Ok(None) };
        let what = format!("Taalaanbieder met KvK-nummer {} ({})", d.kvk.as_str(), existing.name);
        if let Some(note) = differs(
            &what,
            &[
                ("Naam", existing.name == d.name),
                ("Bezoekadres", existing.address == d.address),
                ("Contactpersoon", existing.contact_person == d.contact_person),
                ("E-mail", existing.email == d.email),
                ("Telefoon", existing.phone == d.phone),
                ("Notities", existing.notes == d.notes),
            ],
        ) {
            self.notes.set(p.row, note);
        }
        Ok(Some(batch_of(conn, "provider", existing.id).await?))
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<ProviderDraft>],
    ) -> sqlx::Result<Vec<(usize, i64)>> {
        let mut dups = Vec::new();
        let actor = batch_actor(tx, batch).await?;
        for (i, p) in rows.iter().enumerate() {
            if let Some(from) = self.stored(tx, p).await? {
                dups.push((i, from));
                continue;
            }
            let d = &p.record;
            let id = match store::providers::insert_in(tx, d, &actor).await {
                Ok(id) => id,
                Err(store::providers::ChangeError::Db(e)) => return Err(e),
                Err(e) => return Err(sqlx::Error::Protocol(e.to_string())),
            };
            mark_batch(tx, "provider", id, batch).await?;
        }
        Ok(dups)
    }
}
