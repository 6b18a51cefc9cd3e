//! A realistic, clearly fictional demo data set: a regional covenant of 14 language providers with
//! their Blik op Werk histories. Dates are relative to today so the warnings always have something to show.

use time::{Date, Duration};

use crate::auth::roles::Role;
use crate::domain::certification::{CertificationStatus, Decision};
use crate::domain::dates;
use crate::domain::provider::{KvkNumber, ProviderDraft};
use crate::store::{self, Db};

/// The actor recorded in the audit log for demo data.
pub const DEMO_ACTOR: &str = "demo";

struct DemoProvider {
    name: &'static str,
    kvk: &'static str,
    town: &'static str,
    contact: &'static str,
    history: History,
}

/// The shapes of mark history the demo shows.
#[derive(Clone, Copy)]
enum History {
    /// Fixed term from 2020, indefinite since 2022.
    Indefinite,
    /// Fixed term that ends in `days` from today.
    Lapsing(i64),
    /// Indefinite, but suspended from 20 days ago for three months.
    Suspended,
    /// Fixed term, withdrawn about half a year ago.
    Withdrawn,
    /// Fixed term that ended last year and was not renewed.
    Lapsed,
    /// Applied, not granted.
    Refused,
    /// A fixed-term mark valid for another two years.
    FixedTerm,
}

const PROVIDERS: &[DemoProvider] = &[
    DemoProvider {
        name: "Taalschool De Brug (fictief)",
        kvk: "90000011",
        town: "Utrecht",
        contact: "A. de Vries",
        history: History::Indefinite,
    },
    DemoProvider {
        name: "NT2 Centrum Domstad (fictief)",
        kvk: "90000022",
        town: "Utrecht",
        contact: "M. el Amrani",
        history: History::Indefinite,
    },
    DemoProvider {
        name: "Taalinstituut Vecht en Rijn (fictief)",
        kvk: "90000033",
        town: "Maarssen",
        contact: "J. Jansen",
        history: History::Lapsing(45),
    },
    DemoProvider {
        name: "Spreekvaardig Opleidingen (fictief)",
        kvk: "90000044",
        town: "Nieuwegein",
        contact: "S. Bakker",
        history: History::Suspended,
    },
    DemoProvider {
        name: "Inburgeringshuis Lek en IJssel (fictief)",
        kvk: "90000055",
        town: "IJsselstein",
        contact: "R. Visser",
        history: History::Withdrawn,
    },
    DemoProvider {
        name: "Woord voor Woord Taaltrainingen (fictief)",
        kvk: "90000066",
        town: "Zeist",
        contact: "L. Smit",
        history: History::Indefinite,
    },
    DemoProvider {
        name: "Taalpunt Kromme Rijn (fictief)",
        kvk: "90000077",
        town: "Bunnik",
        contact: "K. Mulder",
        history: History::FixedTerm,
    },
    DemoProvider {
        name: "Nieuw Begin Taalonderwijs (fictief)",
        kvk: "90000088",
        town: "Houten",
        contact: "F. Yilmaz",
        history: History::Indefinite,
    },
    DemoProvider {
        name: "Taalkracht Midden-Nederland (fictief)",
        kvk: "90000099",
        town: "Utrecht",
        contact: "E. de Boer",
        history: History::Indefinite,
    },
    DemoProvider {
        name: "Samen Nederlands (fictief)",
        kvk: "90000101",
        town: "Woerden",
        contact: "P. Dekker",
        history: History::Lapsed,
    },
    DemoProvider {
        name: "Taalwerkplaats Heuvelrug (fictief)",
        kvk: "90000112",
        town: "Doorn",
        contact: "H. Peters",
        history: History::Indefinite,
    },
    DemoProvider {
        name: "Stap voor Stap NT2 (fictief)",
        kvk: "90000123",
        town: "Vianen",
        contact: "T. Hendriks",
        history: History::Lapsing(150),
    },
    DemoProvider {
        name: "Taalatelier Zuilen (fictief)",
        kvk: "90000134",
        town: "Utrecht",
        contact: "N. Haddou",
        history: History::Refused,
    },
    DemoProvider {
        name: "Lingua Stichtse Vecht (fictief)",
        kvk: "90000145",
        town: "Breukelen",
        contact: "W. van Dijk",
        history: History::FixedTerm,
    },
];

fn d(y: i32, m: u8, day: u8) -> Date {
    Date::from_calendar_date(y, time::Month::try_from(m).expect("valid month"), day).expect("valid demo date")
}

fn decision(
    status: CertificationStatus,
    decided: Date,
    from: Date,
    until: Option<Date>,
    reg: &str,
    note: &str,
) -> Decision {
    Decision {
        id: 0,
        status,
        decision_date: decided,
        valid_from: from,
        valid_until: until,
        suspended_from: None,
        suspended_until: None,
        registration_number: reg.to_string(),
        note: note.to_string(),
    }
}

fn history(kind: History, reg: &str, today: Date) -> Vec<Decision> {
    use CertificationStatus::*;
    let first =
        decision(FixedTerm, d(2020, 3, 2), d(2020, 3, 2), Some(d(2022, 3, 1)), reg, "Eerste toekenning na audit.");
    let days = |n: i64| today + Duration::days(n);
    match kind {
        History::Indefinite => vec![
            first,
            decision(
                Indefinite,
                d(2022, 2, 14),
                d(2022, 3, 2),
                None,
                reg,
                "Omgezet naar onbepaalde tijd na positieve audit meetjaar 2021.",
            ),
        ],
        History::FixedTerm => {
            vec![decision(FixedTerm, days(-300), days(-300), Some(days(430)), reg, "Toegekend voor bepaalde tijd.")]
        }
        History::Lapsing(n) => vec![decision(
            FixedTerm,
            days(-700),
            days(-700),
            Some(days(n)),
            reg,
            "Toegekend voor bepaalde tijd; verlenging aangevraagd.",
        )],
        History::Suspended => vec![
            first,
            decision(Indefinite, d(2022, 2, 10), d(2022, 3, 2), None, reg, ""),
            Decision {
                suspended_from: Some(days(-20)),
                suspended_until: Some(days(70)),
                ..decision(
                    Suspended,
                    days(-25),
                    days(-20),
                    None,
                    reg,
                    "Geschorst: slagingspercentages onder de norm; geen nieuwe cursisten.",
                )
            },
        ],
        History::Withdrawn => vec![
            decision(FixedTerm, d(2021, 6, 1), d(2021, 6, 1), Some(days(400)), reg, ""),
            decision(
                Withdrawn,
                days(-190),
                days(-180),
                None,
                reg,
                "Ingetrokken na herhaalde tekortkomingen in de klassenbezoeken.",
            ),
        ],
        History::Lapsed => vec![
            first,
            decision(FixedTerm, d(2022, 2, 20), d(2022, 3, 2), Some(days(-400)), reg, ""),
            decision(Lapsed, days(-399), days(-399), None, reg, "Niet tijdig verlengd; keurmerk vervallen."),
        ],
        History::Refused => vec![decision(
            Refused,
            days(-120),
            days(-120),
            None,
            reg,
            "Aanvraag afgewezen: onvoldoende NT2-docenten geregistreerd.",
        )],
    }
}

/// One login per role for the demo (printed at start; never use these outside a demo).
pub const DEMO_LOGINS: &[(&str, Role, &str)] = &[
    ("beheerder", Role::Admin, "demo-beheerder-2026"),
    ("contractmanager", Role::ContractManager, "demo-contract-2026"),
    ("financien", Role::Finance, "demo-financien-2026"),
    ("beleid", Role::PolicyAdviser, "demo-beleid-2026"),
];

/// Fills an empty database with the demo data. Refuses a database that already holds providers.
pub async fn fill(db: &Db) -> anyhow::Result<()> {
    let existing = store::providers::list(db, "", store::providers::Filter::All).await?;
    if !existing.is_empty() {
        anyhow::bail!(
            "de database bevat al gegevens ({} taalaanbieders); demogegevens gaan alleen in een lege database",
            existing.len()
        );
    }
    for (username, role, password) in DEMO_LOGINS {
        let hash = crate::auth::password::hash(password.to_string()).await?;
        store::users::create(db, username, *role, &hash, DEMO_ACTOR).await?;
    }
    let today = dates::today();
    for (i, p) in PROVIDERS.iter().enumerate() {
        let draft = ProviderDraft {
            name: p.name.to_string(),
            kvk: KvkNumber::parse(p.kvk).map_err(anyhow::Error::msg)?,
            address: format!("Voorbeeldstraat {} , {} (fictief adres)", 10 + i, p.town).replace(" ,", ","),
            contact_person: p.contact.to_string(),
            email: format!("contact{}@aanbieder.example", i + 1),
            phone: format!("030 000 00{:02}", i + 1),
            notes: "Demogegevens: fictieve aanbieder in het regionale convenant.".to_string(),
            active: true,
        };
        let id = store::providers::create(db, &draft, DEMO_ACTOR).await?;
        let reg = format!("BOW-INB-{:04}", 1100 + i);
        for decision in history(p.history, &reg, today) {
            store::certifications::insert(db, id, &decision, DEMO_ACTOR).await?;
        }
    }
    Ok(())
}
