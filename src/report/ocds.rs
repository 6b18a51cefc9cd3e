//! The contracts as an OCDS 1.1 release package (Open Contracting Data Standard): one release per contract with
//! its tender, award, value, period, items per route, exercised options and the ledger lines paid on it. Nothing
//! about participants; a field the data does not know is left out rather than made up.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use crate::domain::contract::{OptionStatus, Tariff};
use crate::domain::dates;
use crate::domain::route::Route;
use crate::money::Money;
use crate::store::attribution::ContractPayment;
use crate::store::contracts::{Contract, PublicationFacts};
use crate::store::{self, Db};

/// The OCDS version the package follows (the schema's `major.minor`).
pub const OCDS_VERSION: &str = "1.1";

/// The prefix until the municipality has registered its own: `xxxxxx` is the standard's own placeholder, so
/// nobody mistakes it for a registered one.
pub const DEFAULT_PREFIX: &str = "ocds-xxxxxx";

/// The buyer's name until it is set: says plainly that it is not.
pub const DEFAULT_BUYER_NAME: &str = "Gemeente (naam niet ingesteld)";

/// Lots (percelen) are not in the OCDS core; the package names the extension that adds them.
pub const LOTS_EXTENSION: &str =
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json";

/// Where the API serves the package, under the app's address.
pub const PACKAGE_PATH: &str = "/api/v1/ocds/releases";

/// The package's `uri`: the public address (`base_url`) when set, else the address the server listens on.
pub fn package_uri(config: &crate::config::Config) -> String {
    let base = match &config.base_url {
        Some(url) => url.clone(),
        None => format!("http://{}{}", config.listen, config.path_prefix),
    };
    format!("{base}{PACKAGE_PATH}")
}

/// Who publishes, and under which prefix (settings `ocds_prefix`, `ocds_buyer_name`, `ocds_buyer_id`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub prefix: String,
    pub buyer_name: String,
    pub buyer_id: Option<OrgId>,
}

impl Default for Publication {
    fn default() -> Publication {
        Publication { prefix: DEFAULT_PREFIX.into(), buyer_name: DEFAULT_BUYER_NAME.into(), buyer_id: None }
    }
}

impl Publication {
    /// What still stands at its default, in Dutch, for a warning before publishing.
    pub fn unset(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.prefix == DEFAULT_PREFIX {
            out.push("ocds_prefix (nog niet geregistreerd bij de beheerders van OCDS)");
        }
        if self.buyer_name == DEFAULT_BUYER_NAME {
            out.push("ocds_buyer_name (naam van de gemeente)");
        }
        if self.buyer_id.is_none() {
            out.push("ocds_buyer_id (OIN of KvK-nummer van de gemeente)");
        }
        out
    }
}

/// An organisation identifier with its org-id.guide scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgId {
    pub scheme: &'static str,
    pub id: String,
}

/// An OCDS prefix as the standard's maintainers hand them out: `ocds-` and six lowercase letters or digits.
pub fn parse_prefix(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let ok = raw
        .strip_prefix("ocds-")
        .is_some_and(|rest| rest.len() == 6 && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if ok {
        Ok(raw.to_string())
    } else {
        Err("een OCDS-prefix is 'ocds-' met zes kleine letters of cijfers, zoals de beheerders van de standaard \
             hem toekennen (bijvoorbeeld ocds-213czf)"
            .into())
    }
}

/// The municipality's identifier: an OIN (20 digits, scheme NL-OIN), a KvK number (8 digits, NL-KVK), or empty.
pub fn parse_buyer_id(raw: &str) -> Result<Option<OrgId>, String> {
    let raw = raw.trim();
    let digits = raw.chars().all(|c| c.is_ascii_digit());
    match raw.len() {
        0 => Ok(None),
        20 if digits => Ok(Some(OrgId { scheme: "NL-OIN", id: raw.into() })),
        8 if digits => Ok(Some(OrgId { scheme: "NL-KVK", id: raw.into() })),
        _ => Err(format!(
            "'{raw}' is geen OIN (20 cijfers) en geen KvK-nummer (8 cijfers); vul een van beide in, of laat het leeg"
        )),
    }
}

/// Everything the package is built from, loaded in one go.
#[derive(Clone, Debug)]
pub struct Sources {
    pub contracts: Vec<Contract>,
    pub facts: Vec<PublicationFacts>,
    pub payments: Vec<ContractPayment>,
}

pub async fn load(db: &Db) -> sqlx::Result<Sources> {
    Ok(Sources {
        contracts: store::contracts::list(db).await?,
        facts: store::contracts::publication_facts(db).await?,
        payments: store::attribution::contract_payments(db).await?,
    })
}

/// An amount as a JSON number written from its decimal digits: OCDS wants numbers, and a detour through f64
/// could change a cent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Money);

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.plain()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Value {
    pub amount: Amount,
    pub currency: &'static str,
}

fn euros(m: Money) -> Value {
    Value { amount: Amount(m), currency: "EUR" }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub uri: String,
    pub version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<&'static str>,
    pub published_date: String,
    pub publisher: Publisher,
    pub releases: Vec<Release>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Publisher {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub ocid: String,
    pub id: String,
    pub date: String,
    pub tag: Vec<&'static str>,
    pub initiation_type: &'static str,
    pub language: &'static str,
    pub parties: Vec<Party>,
    pub buyer: OrgRef,
    pub tender: Tender,
    pub awards: Vec<Award>,
    pub contracts: Vec<OcdsContract>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Party {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    pub roles: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    pub scheme: &'static str,
    pub id: String,
    pub legal_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tender {
    pub id: String,
    pub title: String,
    pub status: &'static str,
    pub procuring_entity: OrgRef,
    pub main_procurement_category: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<Lot>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub id: String,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Award {
    pub id: String,
    pub status: &'static str,
    pub suppliers: Vec<OrgRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_lots: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OcdsContract {
    pub id: String,
    #[serde(rename = "awardID")]
    pub award_id: String,
    pub title: String,
    pub description: String,
    pub period: Period,
    pub value: Value,
    pub items: Vec<Item>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<Amendment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    pub start_date: String,
    pub end_date: String,
    pub max_extent_date: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_lot: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unit {
    pub name: &'static str,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Amendment {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    pub rationale: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Implementation {
    pub transactions: Vec<Transaction>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transaction {
    pub id: String,
    pub date: String,
    pub value: Value,
    pub payer: OrgRef,
    /// Only a creditor linked to a provider: any other creditor name may be a person's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payee: Option<OrgRef>,
}

/// A calendar day at a Dutch wall-clock time, as OCDS dates are: date-times with their offset.
fn day_at(day: Date, hour: u8, minute: u8, second: u8) -> String {
    let local = day.with_hms(hour, minute, second).expect("a valid time of day");
    let offset = dates::in_amsterdam(local.assume_utc()).offset();
    rfc3339(local.assume_offset(offset))
}

fn start_of(day: Date) -> String {
    day_at(day, 0, 0, 0)
}

fn end_of(day: Date) -> String {
    day_at(day, 23, 59, 59)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).expect("date-times format")
}

/// A stored timestamp in Dutch time, to the second.
fn stamp(stored: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(stored.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| dates::in_amsterdam(t).replace_nanosecond(0).expect("zero nanoseconds"))
}

/// The party of a provider: identified by its KvK number.
fn provider_party(kvk: &str, name: &str) -> Party {
    Party {
        id: format!("NL-KVK-{kvk}"),
        name: name.to_string(),
        identifier: Some(Identifier { scheme: "NL-KVK", id: kvk.to_string(), legal_name: name.to_string() }),
        roles: Vec::new(),
    }
}

fn reference(p: &Party) -> OrgRef {
    OrgRef { id: p.id.clone(), name: p.name.clone() }
}

fn add_role(party: &mut Party, role: &'static str) {
    if !party.roles.contains(&role) {
        party.roles.push(role);
    }
}

/// The release package of every contract. Pure: the same sources give the same package, byte for byte, so
/// consumers can compare two downloads. `uri` is where the package is served.
pub fn build(sources: &Sources, publication: &Publication, uri: &str) -> Package {
    let facts: BTreeMap<i64, &PublicationFacts> = sources.facts.iter().map(|f| (f.contract_id, f)).collect();
    let mut payments: BTreeMap<i64, Vec<&ContractPayment>> = BTreeMap::new();
    for p in &sources.payments {
        payments.entry(p.contract_id).or_default().push(p);
    }
    let mut contracts: Vec<&Contract> = sources.contracts.iter().collect();
    contracts.sort_by_key(|c| c.id);
    let releases: Vec<Release> = contracts
        .into_iter()
        .filter_map(|c| {
            let f = facts.get(&c.id)?;
            Some(release(c, f, payments.get(&c.id).map(Vec::as_slice).unwrap_or(&[]), publication))
        })
        .collect();
    let published =
        releases.iter().map(|r| r.date.clone()).max().unwrap_or_else(|| rfc3339(OffsetDateTime::UNIX_EPOCH));
    let extensions = if releases.iter().any(|r| !r.tender.lots.is_empty()) { vec![LOTS_EXTENSION] } else { vec![] };
    Package {
        uri: uri.to_string(),
        version: OCDS_VERSION,
        extensions,
        published_date: published,
        publisher: Publisher {
            name: publication.buyer_name.clone(),
            scheme: publication.buyer_id.as_ref().map(|i| i.scheme),
            uid: publication.buyer_id.as_ref().map(|i| i.id.clone()),
        },
        releases,
    }
}

/// The package as published: indented JSON, so a diff between two downloads reads line by line.
pub fn to_json(package: &Package) -> String {
    serde_json::to_string_pretty(package).expect("the package serializes") + "\n"
}

fn buyer_party(publication: &Publication) -> Party {
    match &publication.buyer_id {
        Some(id) => Party {
            id: format!("{}-{}", id.scheme, id.id),
            name: publication.buyer_name.clone(),
            identifier: Some(Identifier {
                scheme: id.scheme,
                id: id.id.clone(),
                legal_name: publication.buyer_name.clone(),
            }),
            roles: vec!["buyer", "procuringEntity"],
        },
        None => Party {
            id: "gemeente".into(),
            name: publication.buyer_name.clone(),
            identifier: None,
            roles: vec!["buyer", "procuringEntity"],
        },
    }
}

fn release(
    c: &Contract,
    facts: &PublicationFacts,
    payments: &[&ContractPayment],
    publication: &Publication,
) -> Release {
    let ocid = format!("{}-contract-{}", publication.prefix, c.id);
    let mut buyer = buyer_party(publication);
    let mut supplier = provider_party(&facts.provider_kvk, &c.provider_name);
    add_role(&mut supplier, "supplier");
    // Other providers paid on this contract (a creditor linked to another provider), by KvK number.
    let mut others: BTreeMap<String, Party> = BTreeMap::new();
    let lot = c.lot.trim();
    let lot_id = (!lot.is_empty()).then(|| lot.to_string());

    let transactions: Vec<Transaction> = payments
        .iter()
        .map(|p| {
            let payee = match (&p.payee_kvk, &p.payee_name) {
                (Some(kvk), Some(_)) if *kvk == facts.provider_kvk => {
                    add_role(&mut supplier, "payee");
                    Some(reference(&supplier))
                }
                (Some(kvk), Some(name)) => {
                    let party = others.entry(kvk.clone()).or_insert_with(|| provider_party(kvk, name));
                    add_role(party, "payee");
                    Some(reference(party))
                }
                _ => None,
            };
            Transaction {
                id: format!("grootboekregel-{}", p.entry_id),
                date: start_of(p.booking_date),
                value: euros(Money::from_cents(p.amount_cents)),
                payer: reference(&buyer),
                payee,
            }
        })
        .collect();
    if !transactions.is_empty() {
        add_role(&mut buyer, "payer");
    }

    let period = &c.terms.period;
    let mut amendments = Vec::new();
    let mut end = period.initial_end_date;
    for o in period.options.iter().filter(|o| o.status == OptionStatus::Exercised) {
        let decision = if o.decision_reference.trim().is_empty() {
            String::new()
        } else {
            format!(" ({})", o.decision_reference.trim())
        };
        amendments.push(Amendment {
            id: format!("verlengingsoptie-{}", o.id),
            date: o.decision_date.map(start_of),
            rationale: format!("Verlengingsoptie gelicht{decision}"),
            description: format!("Einddatum verlengd van {} tot {}", dates::iso(end), dates::iso(o.new_end_date)),
        });
        end = end.max(o.new_end_date);
    }

    let mut tags = vec!["tender", "award", "contract"];
    if !amendments.is_empty() {
        tags.push("contractAmendment");
    }
    if !transactions.is_empty() {
        tags.push("implementation");
    }

    let changed = [&facts.contract_updated_at, &facts.provider_updated_at]
        .into_iter()
        .chain(payments.iter().map(|p| &p.assigned_at))
        .filter_map(|s| stamp(s))
        .max()
        .map(rfc3339)
        .unwrap_or_else(|| start_of(period.start_date));

    let award_id = format!("{ocid}-gunning");
    let mut parties = vec![buyer.clone(), supplier.clone()];
    parties.extend(others.into_values());
    let mut r = Release {
        ocid: ocid.clone(),
        id: String::new(),
        date: changed,
        tag: tags,
        initiation_type: "tender",
        language: "nl",
        buyer: reference(&buyer),
        parties,
        tender: Tender {
            id: format!("{ocid}-aanbesteding"),
            title: c.title.clone(),
            status: "complete",
            procuring_entity: reference(&buyer),
            main_procurement_category: "services",
            lots: lot_id.iter().map(|id| Lot { id: id.clone(), title: lot_title(id) }).collect(),
        },
        awards: vec![Award {
            id: award_id.clone(),
            status: "active",
            suppliers: vec![reference(&supplier)],
            related_lots: lot_id.iter().cloned().collect(),
        }],
        contracts: vec![OcdsContract {
            id: format!("{ocid}-contract"),
            award_id,
            title: c.title.clone(),
            description: format!("Kenmerk {}", c.reference),
            period: Period {
                start_date: start_of(period.start_date),
                end_date: end_of(period.current_end()),
                max_extent_date: end_of(period.furthest_end()),
            },
            value: euros(c.terms.ceiling),
            items: items(&c.terms.routes, &c.terms.tariffs, lot_id.as_deref()),
            amendments,
            implementation: (!transactions.is_empty()).then_some(Implementation { transactions }),
        }],
    };
    r.id = release_id(&r);
    r
}

/// `Perceel 3` for a lot stored as `3`; a lot stored with its own name keeps it.
fn lot_title(lot: &str) -> String {
    if lot.to_lowercase().starts_with("perceel") {
        lot.to_string()
    } else {
        format!("Perceel {lot}")
    }
}

/// One item per route and tariff period: the fixed budget per participant as the unit price. A route without a
/// tariff yet is an item without a price.
fn items(routes: &[Route], tariffs: &[Tariff], lot: Option<&str>) -> Vec<Item> {
    let all: BTreeSet<Route> = routes.iter().copied().chain(tariffs.iter().map(|t| t.route)).collect();
    let mut out = Vec::new();
    for route in all {
        let mut of_route: Vec<&Tariff> = tariffs.iter().filter(|t| t.route == route).collect();
        of_route.sort_by_key(|t| t.valid_from);
        if of_route.is_empty() {
            out.push(Item {
                id: route.code().to_string(),
                description: route.label().to_string(),
                unit: None,
                related_lot: lot.map(str::to_string),
            });
        }
        for t in of_route {
            let until = t.valid_until.map(|u| format!(" tot en met {}", dates::iso(u))).unwrap_or_default();
            out.push(Item {
                id: format!("{}-{}", route.code(), dates::iso(t.valid_from)),
                description: format!(
                    "{}: vast budget per cursist, geldig vanaf {}{until}",
                    route.label(),
                    dates::iso(t.valid_from)
                ),
                unit: Some(Unit { name: "cursist", value: euros(t.amount) }),
                related_lot: lot.map(str::to_string),
            });
        }
    }
    out
}

/// The release's id: its ocid and a digest of its content, so the same data keeps its id and any change gives
/// a new one (OCDS wants a new release id for every change).
fn release_id(r: &Release) -> String {
    let bytes = serde_json::to_vec(r).expect("a release serializes");
    let digest = Sha256::digest(&bytes);
    format!("{}-{}", r.ocid, hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn prefixes_follow_the_registered_form() {
        assert_eq!(parse_prefix(" ocds-213czf ").unwrap(), "ocds-213czf");
        assert_eq!(parse_prefix(DEFAULT_PREFIX).unwrap(), DEFAULT_PREFIX);
        for bad in ["213czf", "ocds-213CZF", "ocds-213cz", "ocds-213czf-utrecht", ""] {
            assert!(parse_prefix(bad).unwrap_err().contains("zes kleine letters of cijfers"), "{bad}");
        }
    }

    #[test]
    fn buyer_ids_are_an_oin_or_a_kvk_number() {
        assert_eq!(parse_buyer_id("").unwrap(), None);
        let oin = parse_buyer_id("00000001002220647000").unwrap().unwrap();
        assert_eq!((oin.scheme, oin.id.as_str()), ("NL-OIN", "00000001002220647000"));
        let kvk = parse_buyer_id("30280353").unwrap().unwrap();
        assert_eq!((kvk.scheme, kvk.id.as_str()), ("NL-KVK", "30280353"));
        assert_eq!(
            parse_buyer_id("3028035").unwrap_err(),
            "'3028035' is geen OIN (20 cijfers) en geen KvK-nummer (8 cijfers); vul een van beide in, of laat het leeg"
        );
    }

    #[test]
    fn days_carry_the_dutch_offset_of_that_day() {
        // Winter time (CET, +01:00) and summer time (CEST, +02:00); 2023's switches were 26 March and 29 October.
        assert_eq!(start_of(date!(2023 - 01 - 15)), "2023-01-15T00:00:00+01:00");
        assert_eq!(end_of(date!(2023 - 07 - 01)), "2023-07-01T23:59:59+02:00");
        assert_eq!(start_of(date!(2023 - 03 - 26)), "2023-03-26T00:00:00+01:00");
        assert_eq!(end_of(date!(2023 - 03 - 26)), "2023-03-26T23:59:59+02:00");
        assert_eq!(start_of(date!(2023 - 10 - 29)), "2023-10-29T00:00:00+02:00");
        assert_eq!(end_of(date!(2023 - 10 - 29)), "2023-10-29T23:59:59+01:00");
    }

    #[test]
    fn amounts_are_json_numbers_with_every_digit() {
        // 90071992547409.93 has more significant digits than an f64 holds: written from the decimal it stays.
        let v = euros(Money::from_cents(9_007_199_254_740_993));
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"amount":90071992547409.93,"currency":"EUR"}"#);
        assert_eq!(
            serde_json::to_string(&euros(Money::from_cents(-1050))).unwrap(),
            r#"{"amount":-10.50,"currency":"EUR"}"#
        );
    }
}
