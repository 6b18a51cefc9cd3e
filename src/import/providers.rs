//! The providers kind: one row per taalaanbieder. The KvK number identifies a provider; a row whose KvK
//! number is already known is a duplicate and changes nothing, and the summary says which fields differ.

use sha2::{Digest, Sha256};

use super::registers::{self, differs, push_errors, Lookup, Notes, Refusal, RegisterKind, WriteError};
use super::template::CheckedTemplate;
use super::{FieldDef, FieldType, Found, ImportKind, Kind, Prepared, RowValues};
use crate::domain::provider::{ProviderDraft, ProviderForm};
use crate::money::Money;
use crate::store;
use crate::store::imports::RegisterTable;

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

    async fn stored(&self, conn: &mut store::Conn, p: &Prepared<ProviderDraft>) -> sqlx::Result<Option<Found>> {
        registers::stored(self, conn, p).await
    }

    async fn insert(
        &self,
        tx: &mut store::Tx<'_>,
        batch: i64,
        rows: &[Prepared<ProviderDraft>],
    ) -> sqlx::Result<Vec<(usize, Found)>> {
        registers::insert(self, tx, batch, rows).await
    }
}

impl RegisterKind for Providers {
    fn notes(&self) -> Option<&Notes> {
        Some(&self.notes)
    }

    async fn find(&self, conn: &mut store::Conn, p: &Prepared<ProviderDraft>) -> sqlx::Result<Lookup> {
        let d = &p.record;
        let Some(existing) = store::providers::by_kvk_in(conn, d.kvk.as_str()).await? else { return Ok(Lookup::New) };
        let what = format!("Taalaanbieder met KvK-nummer {} ({})", d.kvk.as_str(), existing.name);
        let note = differs(
            &what,
            &[
                ("Naam", existing.name == d.name),
                ("Bezoekadres", existing.address == d.address),
                ("Contactpersoon", existing.contact_person == d.contact_person),
                ("E-mail", existing.email == d.email),
                ("Telefoon", existing.phone == d.phone),
                ("Notities", existing.notes == d.notes),
            ],
        );
        let batch = store::imports::batch_of(conn, RegisterTable::Provider, existing.id).await?;
        Ok(Lookup::Stored { batch, note })
    }

    async fn write(
        &self,
        tx: &mut store::Tx<'_>,
        p: &Prepared<ProviderDraft>,
        _batch: i64,
        actor: &str,
    ) -> Result<Option<(RegisterTable, i64)>, WriteError> {
        use store::providers::ChangeError;
        let kvk = p.record.kvk.as_str();
        let refusal = match store::providers::insert_in(tx, &p.record, actor).await {
            Ok(id) => return Ok(Some((RegisterTable::Provider, id))),
            Err(ChangeError::Db(e)) => return Err(e.into()),
            // `find` saw no provider with this KvK number in this transaction, so the store cannot find one
            // either; kept typed all the same, so it would reach the user as a row error, not a database error.
            Err(ChangeError::DuplicateKvk(kvk, owner)) => Refusal::KvkTaken { kvk, owner },
            Err(e @ (ChangeError::Stale(_) | ChangeError::NotFound)) => Refusal::Store(e.to_string()),
        };
        Err(WriteError::Refused(refusal.on(KVK, kvk)))
    }
}
