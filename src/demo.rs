//! A realistic, clearly fictional demo data set: a regional covenant of 14 language providers with
//! their Blik op Werk histories. Dates are relative to today so the warnings always have something to show.

use time::{Date, Duration};

use crate::auth::roles::Role;
use crate::domain::certification::{CertificationStatus, Decision};
use crate::domain::contract::{ContractDraft, Due, ExtensionOption, Milestone, OptionStatus, Share, Tariff};
use crate::domain::dates;
use crate::domain::fixed::Fixed;
use crate::domain::placement::{ClientNumber, PlacementDraft, PlacementSchedule, PlacementStatus};
use crate::domain::provider::{KvkNumber, ProviderDraft};
use crate::domain::route::{Cohort, Route};
use crate::money::Money;
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

/// The demo users' digest choice: the working roles daily, the admin and the policy adviser weekly.
pub fn demo_digest(role: Role) -> store::notifications::DigestChoice {
    use store::notifications::DigestChoice;
    match role {
        Role::ContractManager | Role::Finance => DigestChoice::Daily,
        Role::Admin | Role::PolicyAdviser => DigestChoice::Weekly,
    }
}

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
        let id = store::users::create(db, username, *role, &hash, DEMO_ACTOR).await?;
        // Every demo user has an address at example.org (a domain that never receives mail) and a digest choice,
        // so `notify --dry-run` shows each role's digest.
        let email = format!("{username}@example.org");
        store::notifications::set_email(db, id, Some(&email), DEMO_ACTOR).await?;
        store::notifications::set_digest(db, id, demo_digest(*role), DEMO_ACTOR).await?;
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
    contracts(db, today).await?;
    progress(db, today).await?;
    setup(db).await?;
    ledger(db, today).await?;
    quality(db, today).await?;
    overview(db, today).await?;
    inflow(db).await?;
    Ok(())
}

/// Monthly inflow 2022 per newcomer group, in the spirit of DOMAIN's Utrecht figures: January to April add up to
/// the 174 linked in spring 2022 (92 family migrants; 82 asylum migrants, 13 housed and 69 in the AZC), the year to
/// about 300 asylum migrants and 426 family and other migrants (expected: 375 to 550).
const INFLOW_2022: [(&str, [i64; 12]); 4] = [
    ("asiel gehuisvest", [2, 3, 4, 4, 10, 12, 12, 13, 14, 14, 15, 15]),
    ("asiel azc", [12, 16, 19, 22, 16, 16, 15, 15, 14, 14, 13, 13]),
    ("gezin", [18, 22, 25, 27, 30, 32, 30, 28, 34, 36, 35, 33]),
    ("overig", [0, 0, 0, 0, 8, 9, 10, 9, 10, 11, 10, 9]),
];

/// Later years as 2022 times a growth in percent (nationally 26.2k new obligations in 2022, 36.1k in 2023).
const INFLOW_GROWTH: [(i32, i64); 4] = [(2022, 100), (2023, 120), (2024, 110), (2025, 105)];

/// The inflow rows of the demo, in the template's column order (Periode, Groep, Aantal): each year's months per
/// group, and the Ondertussengroep's size per quarter, Wi2013 shrinking by 60 a quarter from 1,000 and ELIP
/// from 120 by 5 a quarter once its growth stops in 2022.
pub fn inflow_rows() -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (year, pct) in INFLOW_GROWTH {
        for (group, months) in INFLOW_2022 {
            for (m, n) in months.iter().enumerate() {
                rows.push(vec![format!("{year}-{:02}", m + 1), group.to_string(), (n * pct / 100).to_string()]);
            }
        }
        for quarter in 1..=4i64 {
            let index = i64::from(year - 2022) * 4 + quarter - 1;
            let wi2013 = (1000 - 60 * index).max(200);
            let elip = if index < 3 { 120 + 5 * index } else { (130 - 5 * (index - 2)).max(40) };
            rows.push(vec![format!("{year}-K{quarter}"), "wi2013".into(), wi2013.to_string()]);
            rows.push(vec![format!("{year}-K{quarter}"), "elip".into(), elip.to_string()]);
        }
    }
    rows
}

/// Loads the demo's inflow through the import engine, as one `instroom` batch.
async fn inflow(db: &Db) -> anyhow::Result<()> {
    let template = crate::import::template::find("standaard-instroom").map_err(anyhow::Error::msg)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo-instroom.xlsx");
    std::fs::write(
        &path,
        crate::import::example::workbook_text(&template, &inflow_rows()).map_err(anyhow::Error::msg)?,
    )?;
    let req = crate::import::engine::ImportRequest {
        path,
        file_name: "instroom-2022-2025.xlsx".into(),
        template,
        actor: DEMO_ACTOR.into(),
    };
    let outcome = crate::import::engine::run(db, crate::import::inflow::Inflow::new(), req, Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("demo-instroom: {e}"))?;
    if outcome.summary.batch.is_none() || outcome.summary.has_errors() {
        anyhow::bail!("demo-instroom niet geïmporteerd: {:?}", outcome.summary.errors.first());
    }
    Ok(())
}

/// Two forecast scenarios built on DOMAIN's Utrecht figures (2022: about 300 asylum migrants and 375-550
/// family and other migrants) and one snapshot of this year's overview.
async fn overview(db: &Db, today: Date) -> anyhow::Result<()> {
    use crate::domain::forecast::{InflowGroup, InflowLine, Scenario, Variant};
    use crate::report::overview::{self, OverviewParams};
    let this_year = today.year();
    let lines = |growth_pct: i64| -> Vec<InflowLine> {
        let mut out = Vec::new();
        for year in 2022..=this_year + 4 {
            // 2022 as in the spring 2022 expectation; later years grow by `growth_pct` a year on it.
            let factor = 100 + growth_pct * i64::from(year - 2022);
            let scale = |n: i64| n * factor / 100;
            out.push(InflowLine {
                year,
                group: InflowGroup::Asylum,
                low: scale(250),
                expected: scale(300),
                high: scale(350),
                share_b1: Fixed::whole(40),
                share_z: Fixed::whole(45),
                share_education: Fixed::whole(15),
                dropout: Fixed::whole(12),
            });
            out.push(InflowLine {
                year,
                group: InflowGroup::Family,
                low: scale(375),
                expected: scale(460),
                high: scale(550),
                share_b1: Fixed::whole(55),
                share_z: Fixed::whole(30),
                share_education: Fixed::whole(15),
                dropout: Fixed::whole(10),
            });
        }
        out
    };
    let base = Scenario {
        id: 0,
        name: "Basis".into(),
        description: "Instroom 2022 volgens de verwachting van voorjaar 2022 (300 asielmigranten, 375-550 gezins- en overige migranten), daarna gelijk.".into(),
        tariff_index: Fixed::from_hundredths(250),
        duration_b1_months: 30,
        duration_z_months: 24,
        duration_education_months: 36,
        lines: lines(0),
    };
    let high = Scenario {
        name: "Hoge instroom".into(),
        description: "Als Basis, maar de instroom groeit elk jaar met 15% van het niveau van 2022 (landelijk: 26,2 duizend nieuwe inburgeringsplichtigen in 2022, 36,1 duizend in 2023).".into(),
        tariff_index: Fixed::from_hundredths(350),
        lines: lines(15),
        ..base.clone()
    };
    let base_id = store::overview::create_scenario(db, &base, DEMO_ACTOR).await?;
    store::overview::create_scenario(db, &high, DEMO_ACTOR).await?;
    let params = OverviewParams {
        years: (this_year - 2)..=(this_year + 3),
        scenario_id: Some(base_id),
        variant: Variant::Expected,
        forecast_from: this_year + 1,
        stream: None,
        snapshot_id: None,
    };
    let (o, _) = overview::build(db, &params, None).await?;
    let scenario = o.scenario.as_ref().map(|s| format!("{} ({})", s.name, s.variant.label()));
    store::overview::create_snapshot(
        db,
        &format!("Begroting {}", this_year + 1),
        params.years.clone(),
        scenario.as_deref(),
        &overview::snapshot_rows(&o),
        DEMO_ACTOR,
    )
    .await?;
    Ok(())
}

/// Creditor number of a demo provider in the financial system.
fn creditor_of(provider_id: i64) -> String {
    format!("2{:05}", provider_id)
}

/// Attribution rules, creditor links and three years of invoices (imported through the real engine), with
/// a few lines no rule matches and one creditor without a contract.
async fn ledger(db: &Db, today: Date) -> anyhow::Result<()> {
    use crate::import::ledger::LedgerLine;
    for provider_id in 1..=PROVIDERS.len() as i64 {
        store::attribution::link_creditor(db, &creditor_of(provider_id), provider_id, DEMO_ACTOR).await?;
    }
    // One invoice per contract, month and cohort group for the milestones that fell due, up to last month.
    let contracts = store::contracts::list(db).await?;
    let placements = store::placements::list(db, None).await?;
    let mut invoices: std::collections::BTreeMap<(i64, i32, u8, Cohort), Money> = std::collections::BTreeMap::new();
    let last_day = d(today.year(), today.month() as u8, 1) - Duration::days(1);
    for p in &placements {
        let Some(c) = contracts.iter().find(|c| c.id == p.contract_id) else { continue };
        for pay in crate::domain::commitment::placement_payments(&c.terms, p.route, &p.schedule).unwrap_or_default() {
            if pay.due_date <= last_day && pay.due_date.year() <= 2025 {
                *invoices.entry((c.id, pay.due_date.year(), pay.due_date.month() as u8, p.cohort)).or_default() +=
                    pay.amount;
            }
        }
    }
    let mut lines = Vec::new();
    let mut doc = 700_000;
    let mut line = |date: Date, cost_centre: &str, creditor: String, name: &str, description: String, amount: Money| {
        doc += 1;
        LedgerLine {
            booking_date: date,
            fiscal_year: Some(date.year() as i64),
            period: Some(date.month() as i64),
            document: format!("IK{doc}"),
            line: "1".into(),
            gl_account: "4301".into(),
            cost_centre: cost_centre.into(),
            task_field: "6.1".into(),
            creditor_number: creditor,
            creditor_name: name.into(),
            invoice_number: format!("F{}-{doc}", date.year()),
            description,
            amount,
        }
    };
    for ((contract_id, year, month, cohort), amount) in &invoices {
        let c = contracts.iter().find(|c| c.id == *contract_id).expect("contract exists");
        // Booked on the last day of the month the milestones fell due, so the invoice check of that month sees it.
        let date = (dates::add_months(d(*year, *month, 1), 1) - Duration::days(1)).min(last_day);
        let (cost_centre, label) = match cohort {
            Cohort::Wi2021 => ("KP6100-INB", "Taalonderwijs Wi2021"),
            Cohort::Wi2013 => ("KP6100-INB", "Taalonderwijs Wi2013"),
            Cohort::Elip => ("KP6100-INB", "ELIP maatwerk"),
            Cohort::Other => ("KP6100-EIGEN", "Taalonderwijs statushouders overig"),
        };
        let description = format!("{label} {} {month:02}-{year}", c.reference);
        lines.push(line(date, cost_centre, creditor_of(c.provider_id), &c.provider_name, description, *amount));
    }
    // Spend no rule knows, a credit note, and a creditor without any contract (procurement legality risk).
    lines.push(line(
        d(2023, 3, 14),
        "KP6100-ALG",
        "400120".into(),
        "Tolkendienst Midden (fictief)",
        "Tolkkosten intakegesprekken".into(),
        Money::from_cents(184_250),
    ));
    lines.push(line(
        d(2023, 9, 5),
        "KP6100-ALG",
        "400377".into(),
        "Zaalverhuur Centrum (fictief)",
        "Zaalhuur informatiebijeenkomst".into(),
        Money::from_cents(62_500),
    ));
    lines.push(line(
        d(2024, 2, 20),
        "KP6100-INB",
        "299999".into(),
        "Taalcafé De Ontmoeting (fictief)",
        "Taalonderwijs Wi2021 taalcafé extra lessen".into(),
        Money::from_cents(1_250_000),
    ));
    lines.push(line(
        d(2024, 4, 2),
        "KP6100-INB",
        creditor_of(1),
        PROVIDERS[0].name,
        "Creditnota te veel gefactureerd Taalonderwijs Wi2021".into(),
        Money::from_cents(-415_000),
    ));

    let template = crate::import::template::find("standaard-grootboek").map_err(anyhow::Error::msg)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo-grootboek.xlsx");
    std::fs::write(&path, crate::import::example::workbook(&template, &lines).map_err(anyhow::Error::msg)?)?;
    let req = crate::import::engine::ImportRequest {
        path,
        file_name: "demo-grootboek.xlsx".into(),
        template,
        actor: DEMO_ACTOR.into(),
    };
    let outcome = crate::import::engine::run(db, crate::import::ledger::Ledger::new(), req, Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("demogrootboek: {e}"))?;
    if outcome.summary.batch.is_none() {
        anyhow::bail!("demogrootboek niet geïmporteerd: {:?}", outcome.summary.errors.first());
    }
    Ok(())
}

/// The ids of the demo funding streams.
/// The demo's finance set-up: a readable description of the set-up workbook (streams with each cohort's default,
/// allocations, budget lines, attribution rules), loaded through `import setup` as a finance officer would load
/// theirs.
const SETUP: &str = include_str!("../demo/inrichting.toml");

#[derive(serde::Deserialize)]
struct SetupDescription {
    sheet: Vec<SetupSheet>,
}

#[derive(serde::Deserialize)]
struct SetupSheet {
    name: String,
    rows: Vec<Vec<String>>,
}

/// Loads `demo/inrichting.toml` as a set-up workbook through `import setup`, in one batch.
async fn setup(db: &Db) -> anyhow::Result<()> {
    let description: SetupDescription = toml::from_str(SETUP)?;
    let sheets: Vec<(String, Vec<Vec<String>>)> = description.sheet.into_iter().map(|s| (s.name, s.rows)).collect();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("inrichting.xlsx");
    std::fs::write(&path, crate::report::setup::text_workbook(&sheets)?)?;
    let outcome = crate::import::setup::run(db, &path, "inrichting.xlsx", DEMO_ACTOR, Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("demo-inrichting: {e}"))?;
    if outcome.summary.batch.is_none() {
        anyhow::bail!("demo-inrichting niet geladen: {:?}", outcome.summary.errors.first());
    }
    Ok(())
}

struct DemoContract {
    reference: &'static str,
    title: &'static str,
    /// Index into PROVIDERS (database ids follow insertion order, starting at 1).
    provider: usize,
    lot: &'static str,
    routes: &'static [Route],
    ceiling_euros: i64,
    /// Placements per year 2022 to 2026 (none are made after today).
    placements: [u32; 5],
}

const CONTRACTS: &[DemoContract] = &[
    DemoContract {
        reference: "UTR-TAAL-2022-01",
        title: "B1-route perceel 1 (Utrecht-stad)",
        provider: 0,
        lot: "1",
        routes: &[Route::B1],
        ceiling_euros: 2_500_000,
        placements: [35, 45, 45, 30, 25],
    },
    DemoContract {
        reference: "UTR-TAAL-2022-02",
        title: "B1-route perceel 1 (Utrecht-stad)",
        provider: 1,
        lot: "1",
        routes: &[Route::B1],
        ceiling_euros: 1_200_000,
        placements: [30, 40, 35, 10, 8],
    },
    DemoContract {
        reference: "UTR-TAAL-2022-03",
        title: "Z-route perceel 2",
        provider: 3,
        lot: "2",
        routes: &[Route::Z],
        ceiling_euros: 1_800_000,
        placements: [15, 25, 20, 15, 10],
    },
    DemoContract {
        reference: "UTR-TAAL-2022-04",
        title: "Z-route perceel 2",
        provider: 5,
        lot: "2",
        routes: &[Route::Z],
        ceiling_euros: 1_800_000,
        placements: [15, 20, 25, 15, 12],
    },
    DemoContract {
        reference: "UTR-TAAL-2022-05",
        title: "B1- en Z-route perceel 3 (regio U16)",
        provider: 7,
        lot: "3",
        routes: &[Route::B1, Route::Z],
        ceiling_euros: 2_000_000,
        placements: [20, 30, 30, 20, 15],
    },
    DemoContract {
        reference: "UTR-TAAL-2023-06",
        title: "B1-route met alfabetisering",
        provider: 8,
        lot: "4",
        routes: &[Route::B1, Route::Alfa],
        ceiling_euros: 1_500_000,
        placements: [0, 20, 30, 25, 20],
    },
];

/// A tiny deterministic generator, so every demo run shows the same data.
struct Dice(u64);

impl Dice {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn tariffs_for(route: Route) -> [(Date, Option<Date>, i64); 3] {
    // Indexed every 1 January; cents.
    let base: i64 = match route {
        Route::B1 => 1_015_000,
        Route::Z => 930_000,
        _ => 450_000,
    };
    [
        (d(2022, 1, 1), Some(d(2022, 12, 31)), base),
        (d(2023, 1, 1), Some(d(2023, 12, 31)), base * 105 / 100),
        (d(2024, 1, 1), None, base * 105 / 100 * 1035 / 1000),
    ]
}

fn milestones_for(route: Route) -> Vec<Milestone> {
    let m = |name: &str, share: &str, due: Due| Milestone {
        name: name.into(),
        share: Share::parse(share).expect("demo share"),
        due,
    };
    match route {
        Route::B1 => vec![
            m("Start", "40", Due::AtStart),
            m("Tussentijds (12 maanden)", "30", Due::MonthsAfterStart(12)),
            m("Afronding", "30", Due::AtCompletion),
        ],
        Route::Z => vec![m("Start", "50", Due::AtStart), m("Afronding", "50", Due::AtCompletion)],
        _ => vec![m("Start", "60", Due::AtStart), m("Afronding", "40", Due::AtCompletion)],
    }
}

async fn contracts(db: &Db, today: Date) -> anyhow::Result<()> {
    let mut dice = Dice(0x5EED_2022_0101);
    let mut client = 100_000;
    for c in CONTRACTS {
        let start = if c.placements[0] == 0 { d(2023, 3, 1) } else { d(2022, 1, 1) };
        let end = Date::from_calendar_date(start.year() + 4, start.month(), 1).expect("date") - Duration::days(1);
        let draft = ContractDraft {
            reference: c.reference.into(),
            title: c.title.into(),
            provider_id: c.provider as i64 + 1,
            lot: c.lot.into(),
            routes: c.routes.to_vec(),
            start_date: start,
            initial_end_date: end,
            ceiling: Money::from_cents(c.ceiling_euros * 100),
            notes: "Demogegevens: raamovereenkomst 4 jaar met twee opties van 2 jaar.".into(),
        };
        let id = store::contracts::create(db, &draft, DEMO_ACTOR).await?;
        for route in c.routes {
            for (from, until, cents) in tariffs_for(*route) {
                let from = from.max(start);
                let t = Tariff {
                    id: 0,
                    route: *route,
                    valid_from: from,
                    valid_until: until,
                    amount: Money::from_cents(cents),
                };
                store::contracts::add_tariff(db, id, &t, DEMO_ACTOR).await?;
            }
            store::contracts::set_milestones(db, id, *route, &milestones_for(*route), DEMO_ACTOR).await?;
        }
        // Two options of two years. The first was exercised in 2025 where the contract started in 2022;
        // the later contract's first option is up for decision soon, so the start page has something to show.
        let first_end = Date::from_calendar_date(end.year() + 2, end.month(), end.day()).expect("date");
        let second_end = Date::from_calendar_date(end.year() + 4, end.month(), end.day()).expect("date");
        let exercised = start.year() == 2022;
        let first = ExtensionOption {
            id: 0,
            new_end_date: first_end,
            notice_deadline: if exercised { end - Duration::days(184) } else { today + Duration::days(40) },
            status: if exercised { OptionStatus::Exercised } else { OptionStatus::Pending },
            decision_reference: if exercised { "Collegebesluit 2025/118".into() } else { String::new() },
            decision_date: exercised.then(|| d(2025, 5, 20)),
        };
        store::contracts::add_option(db, id, &first, DEMO_ACTOR).await?;
        let second = ExtensionOption {
            id: 0,
            new_end_date: second_end,
            notice_deadline: first_end - Duration::days(184),
            status: OptionStatus::Pending,
            decision_reference: String::new(),
            decision_date: None,
        };
        store::contracts::add_option(db, id, &second, DEMO_ACTOR).await?;
        store::contracts::add_document(
            db,
            id,
            "Raamovereenkomst (getekend)",
            &format!("Zaak 2021-{:05}", 4400 + id),
            DEMO_ACTOR,
        )
        .await?;

        for (year_index, count) in c.placements.iter().enumerate() {
            let year = 2022 + year_index as i32;
            for _ in 0..*count {
                client += 1 + dice.next(7) as i64;
                let route = c.routes[dice.next(c.routes.len() as u64) as usize];
                let month = 1 + dice.next(12) as u8;
                let start_date = d(year, month, 1 + dice.next(28) as u8).max(start);
                if start_date > today {
                    continue;
                }
                let months = if route == Route::Z { 30 } else { 24 };
                let planned_end = crate::domain::dates::add_months(start_date, months);
                let roll = dice.next(100);
                let (status, status_date) = if roll < 9 {
                    let dropped = crate::domain::dates::add_months(start_date, 2 + dice.next(14) as i32);
                    if dropped < today {
                        (PlacementStatus::DroppedOut, Some(dropped))
                    } else {
                        (PlacementStatus::Ongoing, None)
                    }
                } else if planned_end < today {
                    (PlacementStatus::Completed, Some(planned_end - Duration::days(dice.next(60) as i64)))
                } else if start_date + Duration::days(30) > today {
                    (PlacementStatus::Started, None)
                } else {
                    (PlacementStatus::Ongoing, None)
                };
                let cohort = match dice.next(20) {
                    0 => Cohort::Elip,
                    1 | 2 => Cohort::Wi2013,
                    3 => Cohort::Other,
                    _ => Cohort::Wi2021,
                };
                let draft = PlacementDraft {
                    client_number: ClientNumber::parse(&format!("K{client}")).map_err(anyhow::Error::msg)?,
                    cohort,
                    route,
                    contract_id: id,
                    schedule: PlacementSchedule { start_date, planned_end, status, status_date, changes: Vec::new() },
                    // The PIP was set two to eight weeks before the placement (from the client number, so the
                    // dice sequence, and with it the rest of the demo, stays as it was).
                    // Every 29th client waited longer than 3 months for lessons (a late start).
                    pip_date: Some(if client % 29 == 3 {
                        dates::add_months(start_date, -3) - Duration::days(5 + client % 30)
                    } else {
                        start_date - Duration::days(14 + (client % 43))
                    }),
                };
                store::placements::create(db, &draft, DEMO_ACTOR).await?;
            }
        }
    }
    Ok(())
}

/// Monthly progress reports for 2022-2024 (as the issue asks; never past last month), from each placement's
/// start, with levels, exams and absence; one
/// provider (UTR-TAAL-2022-02) with low attendance, some third exam attempts, a B1 -> Z switch and a pause,
/// and one participant who never came while the start was invoiced. Inserted in bulk (the demo stays fast).
async fn progress(db: &Db, today: Date) -> anyhow::Result<()> {
    use crate::domain::progress::{AbsenceReason, ExamPart, ExamResult, Hours, Period, ReportDraft};
    use crate::domain::route_change::{ChangeKind, RouteChange};
    let contracts = store::contracts::list(db).await?;
    let mut placements = store::placements::list(db, None).await?;
    placements.sort_by_key(|p| p.id);
    let mut dice = Dice(0x0060_7247_2024_0101);
    // Reports stop at December 2024 whatever today is, so the demo's progress is the same on every run.
    let last = Period::month_of(dates::add_months(today, -1)).min(Period::Month { year: 2024, month: 12 });
    let reference = |id: i64| contracts.iter().find(|c| c.id == id).map(|c| c.reference.as_str()).unwrap_or("");
    let provider = |id: i64| contracts.iter().find(|c| c.id == id).map(|c| c.provider_id).unwrap_or(0);
    // Two route changes: a slow B1 learner on the B1+Z contract moves to Z; a participant pauses and resumes.
    let switch = placements.iter().find(|p| {
        reference(p.contract_id) == "UTR-TAAL-2022-05"
            && p.route == Route::B1
            && p.id % 3 == 0
            && p.schedule.start_date.year() == 2022
            && p.schedule.status != PlacementStatus::DroppedOut
    });
    let pause = placements.iter().find(|p| {
        reference(p.contract_id) == "UTR-TAAL-2022-01"
            && p.schedule.start_date.year() == 2023
            && p.schedule.status != PlacementStatus::DroppedOut
    });
    let no_show = placements
        .iter()
        .find(|p| {
            reference(p.contract_id) == "UTR-TAAL-2022-02"
                && p.schedule.start_date.year() == 2023
                && p.schedule.status != PlacementStatus::DroppedOut
        })
        .map(|p| p.id);
    let mut changes: std::collections::HashMap<i64, Vec<RouteChange>> = std::collections::HashMap::new();
    if let Some(p) = switch {
        let day = dates::add_months(p.schedule.start_date, 17);
        let c = RouteChange {
            kind: ChangeKind::Switch(Route::Z),
            decision_date: day,
            reason: "Ruim 600 uur aanwezig zonder vooruitgang naar B1; na gesprek en nieuwe leerbaarheidstoets naar de Z-route."
                .into(),
        };
        store::progress::add_route_change(db, p.id, &c, DEMO_ACTOR).await?;
        changes.entry(p.id).or_default().push(c);
    }
    if let Some(p) = pause {
        let from = dates::add_months(p.schedule.start_date, 4);
        let until = dates::add_months(p.schedule.start_date, 7);
        for (kind, day, reason) in
            [(ChangeKind::Pause, from, "Zwangerschapsverlof"), (ChangeKind::Resume, until, "Lessen hervat na verlof")]
        {
            let c = RouteChange { kind, decision_date: day, reason: reason.into() };
            store::progress::add_route_change(db, p.id, &c, DEMO_ACTOR).await?;
            changes.entry(p.id).or_default().push(c);
        }
    }
    let mut rows = Vec::new();
    for p in &placements {
        let start = p.schedule.start_date;
        let end = match p.schedule.status_date {
            Some(d) => d,
            None => p.schedule.planned_end,
        };
        let low = reference(p.contract_id) == "UTR-TAAL-2022-02";
        let slow = p.id % 3 == 0;
        // Every 11th B1 learner fails reading twice and needs a third (unfunded) attempt.
        let third_attempt = p.id % 11 == 4;
        let my_changes = changes.get(&p.id).map(Vec::as_slice).unwrap_or_default();
        let mut period = Period::month_of(start);
        let mut month = 0;
        while period.start() <= end && period <= last {
            let paused = {
                let mut on = false;
                for c in my_changes {
                    match c.kind {
                        ChangeKind::Pause if c.decision_date <= period.start() => on = true,
                        ChangeKind::Resume if c.decision_date <= period.start() => on = false,
                        _ => {}
                    }
                }
                on
            };
            if paused {
                period = period.next();
                month += 1;
                continue;
            }
            let route = crate::domain::route_change::route_on(p.route, my_changes, period.start());
            let full: i64 = match route {
                Route::B1 => 36,
                Route::Z => 30,
                _ => 24,
            };
            let offered = if month == 0 && start.day() > 15 { full / 2 } else { full };
            let rate = if low { 58 + dice.next(22) as i64 } else { 81 + dice.next(18) as i64 };
            let rate = if Some(p.id) == no_show && month < 3 { 0 } else { rate };
            // Attended hours rounded up to half an hour (never below the rate, never above what was offered).
            let attended_x100 = ((offered * rate + 49) / 50 * 50).min(offered * 100);
            let absence_x100 = offered * 100 - attended_x100;
            let absence_reason = (absence_x100 > 0).then(|| match (Some(p.id) == no_show, dice.next(10)) {
                (true, _) => AbsenceReason::OwnFault,
                (_, 0..=4) => AbsenceReason::Illness,
                (_, 5..=6) => AbsenceReason::Appointment,
                (_, 7..=8) => AbsenceReason::OwnFault,
                _ => AbsenceReason::Other,
            });
            let catch_up = if absence_reason == Some(AbsenceReason::Illness) { Hours::whole(2) } else { Hours::ZERO };
            let level = match (route, slow, month) {
                (Route::B1, _, 0..=5) => "A1",
                (Route::B1, true, _) => "A2",
                (Route::B1, false, 6..=13) => "A2",
                (Route::B1, false, _) => "B1",
                (Route::Z, _, 0..=9) => "A0",
                (Route::Z, _, _) => "A1",
                _ => "",
            };
            let levels: [String; 4] =
                if month % 3 == 2 { std::array::from_fn(|_| level.to_string()) } else { Default::default() };
            let exam_day = period.start() + Duration::days(9);
            let mut exams = Vec::new();
            if route == Route::B1 && !slow {
                let x = |part, passed| ExamResult { part, date: exam_day, passed };
                match month {
                    15 => {
                        exams.push(x(ExamPart::Reading, !third_attempt && dice.next(10) < 8));
                        exams.push(x(ExamPart::Listening, dice.next(10) < 8));
                        exams.push(x(ExamPart::Speaking, dice.next(10) < 7));
                        exams.push(x(ExamPart::Writing, dice.next(10) < 7));
                    }
                    17 if third_attempt => exams.push(x(ExamPart::Reading, false)),
                    19 if third_attempt => exams.push(x(ExamPart::Reading, true)),
                    _ => {}
                }
            }
            if route == Route::Z && month == 12 {
                exams.push(ExamResult { part: ExamPart::Knm, date: exam_day, passed: dice.next(10) < 8 });
            }
            let remarks = if Some(p.id) == no_show && month < 3 {
                "Deelnemer niet verschenen; aanbieder heeft contact gezocht.".to_string()
            } else {
                String::new()
            };
            rows.push((
                p.id,
                provider(p.contract_id),
                ReportDraft {
                    period,
                    first_lesson: (month == 0 && Some(p.id) != no_show).then_some(start),
                    offered: Hours::whole(offered),
                    attended: Hours::from_x100(attended_x100),
                    absence: Hours::from_x100(absence_x100),
                    absence_reason,
                    catch_up,
                    levels,
                    exams,
                    remarks,
                },
            ));
            period = period.next();
            month += 1;
        }
    }
    store::progress::insert_reports_bulk(db, &rows, DEMO_ACTOR).await?;
    // One contract agreed a stricter attendance norm than the default 80%, so the indicators visibly hold each
    // contract against its own norm.
    if let Some(c) = contracts.iter().find(|c| c.reference == "UTR-TAAL-2022-03") {
        if let Some(mut terms) = store::progress::progress_terms(db, c.id).await? {
            terms.attendance_norm_bp = 9000;
            store::progress::set_progress_terms(db, c.id, &terms, DEMO_ACTOR).await?;
        }
    }
    Ok(())
}

/// A small, valid PDF standing in for a provider's quality plan.
fn demo_pdf(reference: &str, version: i64) -> Vec<u8> {
    format!(
        "%PDF-1.4\n% Demogegevens: fictief kwaliteitsplan {reference} versie {version}\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// A measurable norm as the criterion form takes it: (metric, comparison, value).
type DemoNorm = Option<(&'static str, &'static str, &'static str)>;

/// The demo's quality requirements: (code, title, scoring, knock-out, norm).
const CRITERIA: &[(&str, &str, &str, bool, DemoNorm)] = &[
    (
        "K-01",
        "Lessen door geregistreerde NT2-docenten (BVNT2 of register)",
        "met_partly",
        true,
        Some(("nt2_share", "at_least", "80")),
    ),
    ("K-02", "Groepen van hoogstens 16 deelnemers", "scale_1_5", false, Some(("group_size", "at_most", "16"))),
    ("K-03", "Slagingspercentage per examenonderdeel", "scale_1_5", false, Some(("pass_rate", "at_least", "60"))),
    ("K-04", "Tevredenheid van deelnemers", "scale_1_5", false, Some(("satisfaction", "at_least", "7"))),
    ("K-05", "Beperkte uitval", "met_partly", false, Some(("dropout_rate", "at_most", "15"))),
    ("K-06", "Doorlopende leerlijn en voortgangsbewaking in het kwaliteitsplan", "met_partly", true, None),
    ("K-07", "Praktijkopdrachten (circa 100 uur) in de Z-route", "met_partly", false, None),
];

async fn quality(db: &Db, today: Date) -> anyhow::Result<()> {
    use crate::domain::document::DocumentKind;
    use crate::domain::quality::{
        validate_action, validate_criterion, validate_result, ActionForm, AssessmentDraft, CriterionForm, PlanStatus,
        Score,
    };
    use crate::store::quality as q;

    let set = q::create_set(
        db,
        "Taalonderwijs Wi2021 regio Utrecht 2022",
        "Extra kwaliteitseisen gemeente Utrecht (bovenop het Blik op Werk-keurmerk)",
        DEMO_ACTOR,
    )
    .await?;
    for (code, title, scoring, knock_out, norm) in CRITERIA {
        let (m, c, v) = norm.unwrap_or(("", "", ""));
        let form = CriterionForm {
            code: code.to_string(),
            title: title.to_string(),
            description: String::new(),
            scoring: scoring.to_string(),
            knock_out: knock_out.then(|| "on".into()),
            norm_metric: m.into(),
            norm_comparison: c.into(),
            norm_value: v.into(),
            version: None,
        };
        let draft = validate_criterion(&form).map_err(|e| anyhow::anyhow!("demo-eis {code}: {e:?}"))?;
        q::add_criterion(db, set, &draft, DEMO_ACTOR).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let criteria = q::criteria(db, set).await?;
    let scores = |pattern: &[&str]| -> Vec<AssessmentDraft> {
        criteria
            .iter()
            .zip(pattern)
            .filter(|(_, s)| !s.is_empty())
            .map(|(c, s)| AssessmentDraft {
                criterion_id: c.id,
                score: Score::from_stored(s).expect("demo score"),
                finding: match *s {
                    "not_met" | "1" | "2" => "Onvoldoende onderbouwd in het plan; zie verbeterpunt.".into(),
                    "partly" | "3" => "Grotendeels in orde, enkele punten aanscherpen.".into(),
                    _ => "In orde.".into(),
                },
            })
            .collect()
    };
    const GOOD: [&str; 7] = ["met", "4", "4", "4", "met", "met", "met"];
    const WEAK: [&str; 7] = ["partly", "3", "2", "3", "partly", "not_met", "partly"];
    const POOR: [&str; 7] = ["not_met", "2", "2", "3", "not_met", "not_met", "partly"];
    // Per contract id: versions of (months ago submitted, scores, decision, reasoning).
    type Version = (i64, &'static [&'static str], Option<PlanStatus>, &'static str);
    let plans: [(i64, Vec<Version>); 6] = [
        (
            1,
            vec![
                (
                    30,
                    &WEAK,
                    Some(PlanStatus::RevisionRequested),
                    "Leerlijn en voortgangsbewaking ontbreken; graag aanvullen.",
                ),
                (27, &GOOD, Some(PlanStatus::Approved), "Aangevuld plan voldoet aan alle eisen."),
            ],
        ),
        (2, vec![(26, &GOOD, Some(PlanStatus::Approved), "Voldoet; aandacht voor groepsgrootte blijft.")]),
        (
            3,
            vec![
                (20, &POOR, Some(PlanStatus::Rejected), "Knock-outeisen K-01 en K-06 niet voldaan."),
                (2, &["met", "3", "", "", "", "", ""], None, ""),
            ],
        ),
        (4, vec![(1, &[], None, "")]),
        (5, vec![(28, &GOOD, Some(PlanStatus::Approved), "Voldoet aan alle eisen."), (0, &[], None, "")]),
        (6, vec![(10, &WEAK, Some(PlanStatus::RevisionRequested), "Voortgangsbewaking alfabetisering uitwerken.")]),
    ];
    let contracts = store::contracts::list(db).await?;
    let mut plan_ids = Vec::new();
    for (contract_id, versions) in &plans {
        let contract = contracts.iter().find(|c| c.id == *contract_id).expect("demo contract");
        for (n, (months_ago, pattern, decision, reasoning)) in versions.iter().enumerate() {
            let submitted_on = dates::add_months(today, -(*months_ago as i32)) - Duration::days(3);
            let bytes = demo_pdf(&contract.reference, n as i64 + 1);
            let name = format!("Kwaliteitsplan {} v{}.pdf", contract.reference, n + 1);
            let plan = q::NewPlan {
                contract_id: *contract_id,
                criteria_set_id: set,
                submitted_on,
                file_name: &name,
                kind: DocumentKind::Pdf,
                bytes: &bytes,
            };
            let id = q::submit_plan(db, &plan, DEMO_ACTOR).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut version = 1;
            let drafts = scores(pattern);
            let assessed_on = (submitted_on + Duration::days(21)).min(today);
            if !drafts.is_empty() {
                q::save_assessment(db, id, version, &drafts, assessed_on, "contractmanager")
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                version += 1;
            }
            if let Some(status) = decision {
                q::decide_plan(db, id, version, *status, reasoning, assessed_on + Duration::days(7), "contractmanager")
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            plan_ids.push((contract.provider_id, id));
        }
    }

    // Follow-up actions: (provider id, from a plan?, description, owner, created days ago, due in days from
    // creation, status, provider response).
    type DemoAction = (i64, bool, &'static str, &'static str, i64, i64, &'static str, &'static str);
    let actions: &[DemoAction] = &[
        (
            1,
            true,
            "Voortgangsbewaking per deelnemer vastleggen in het volgsysteem",
            "A. de Vries",
            900,
            60,
            "done",
            "Ingevoerd per 1 maart.",
        ),
        (
            4,
            true,
            "Inzet geregistreerde NT2-docenten naar minstens 80% van de lessen",
            "S. Bakker",
            120,
            90,
            "in_progress",
            "Twee docenten in registratietraject.",
        ),
        (4, false, "Plan van aanpak slagingspercentages schrijven en spreken", "S. Bakker", 75, 30, "open", ""),
        (4, false, "Klassenbezoek inplannen met de contractmanager", "Contractmanager", 20, 40, "open", ""),
        (
            2,
            false,
            "Groepsgrootte B1-groepen terugbrengen naar 16",
            "M. el Amrani",
            200,
            120,
            "open",
            "Extra groep start na de zomer.",
        ),
        (9, true, "Uitwerking voortgangsbewaking alfabetisering", "E. de Boer", 280, 60, "in_progress", ""),
        (
            6,
            false,
            "Tevredenheidsonderzoek onder deelnemers herhalen",
            "L. Smit",
            400,
            90,
            "done",
            "Uitgevoerd, rapport gedeeld.",
        ),
        (
            8,
            false,
            "Informatie over praktijkopdrachten Z-route aan deelnemers verbeteren",
            "F. Yilmaz",
            60,
            120,
            "open",
            "",
        ),
        (
            6,
            false,
            "Afspraken over verzuimregistratie vastleggen",
            "L. Smit",
            150,
            30,
            "cancelled",
            "Vervangen door landelijke afspraak.",
        ),
    ];
    for (provider, from_plan, description, owner, ago, due_after, status, response) in actions {
        let created_on = today - Duration::days(*ago);
        let form = ActionForm {
            source: if *from_plan { "assessment" } else { "meeting" }.into(),
            plan_version_id: String::new(),
            description: description.to_string(),
            owner: owner.to_string(),
            due_date: dates::iso(created_on + Duration::days(*due_after)),
            status: status.to_string(),
            provider_response: response.to_string(),
            version: None,
        };
        let draft = validate_action(&form, created_on).map_err(|e| anyhow::anyhow!("demo-actie: {e:?}"))?;
        let plan = plan_ids.iter().filter(|(p, _)| p == provider).map(|(_, id)| *id).next_back().filter(|_| *from_plan);
        q::create_action(db, *provider, plan, &draft, created_on, DEMO_ACTOR).await?;
    }

    // Two measurement years of results for every contracted provider and route: the older year entered on the
    // screen, the latest one imported as a batch through the engine (template standaard-resultaten), so the
    // demo shows an import of results that can be looked at and undone.
    let mut dice = Dice(0x0051_7A11_2024);
    let mut imported: Vec<Vec<String>> = Vec::new();
    for c in &contracts {
        let kvk = crate::store::providers::get(db, c.provider_id)
            .await?
            .map(|p| p.kvk)
            .ok_or_else(|| anyhow::anyhow!("demo-aanbieder {} ontbreekt", c.provider_id))?;
        // Provider 4 (suspended) scores poorly; the rest vary around the norms.
        let weak = c.provider_id == 4;
        for route in &c.terms.routes {
            for year in [today.year() - 2, today.year() - 1] {
                let input = demo_result(&mut dice, weak, *route, year);
                let result = validate_result(&input, today).map_err(|e| anyhow::anyhow!("demo-resultaat: {e:?}"))?;
                if year == today.year() - 1 {
                    imported.push(vec![
                        kvk.clone(),
                        input.year,
                        input.route,
                        input.started,
                        input.completed,
                        input.dropped_out,
                        input.pass_lezen,
                        input.pass_luisteren,
                        input.pass_schrijven,
                        input.pass_spreken,
                        input.pass_knm,
                        input.satisfaction,
                        input.nt2_share,
                        input.group_size,
                    ]);
                } else {
                    q::save_result(db, c.provider_id, &result, DEMO_ACTOR).await?;
                }
            }
        }
    }
    // Older measurement years back to 2022, entered on the screen, so that every year of the demo's progress
    // (2022-2024) has results against the norms whatever today is. Their own dice: the two years above stay as
    // they were.
    let mut older = Dice(0x0051_7A11_2022);
    for c in &contracts {
        let weak = c.provider_id == 4;
        for route in &c.terms.routes {
            for year in 2022..today.year() - 2 {
                let input = demo_result(&mut older, weak, *route, year);
                let result = validate_result(&input, today).map_err(|e| anyhow::anyhow!("demo-resultaat: {e:?}"))?;
                q::save_result(db, c.provider_id, &result, DEMO_ACTOR).await?;
            }
        }
    }
    import_results(db, &imported).await
}

/// One provider's demo results of a measurement year and route, as the screen's form has them: counts around
/// the norms, a weak provider (`weak`) below them.
fn demo_result(dice: &mut Dice, weak: bool, route: Route, year: i32) -> crate::domain::quality::ResultInput {
    let started = 20 + dice.next(40) as i64;
    let dropped = (started * (if weak { 18 } else { 5 } + dice.next(10) as i64) / 100).min(started);
    let completed = ((started - dropped) * (60 + dice.next(30) as i64) / 100).min(started - dropped);
    let mut pct = |base: u64| (base + dice.next(25)).min(100).to_string();
    let pass_base = if weak { 45 } else { 55 };
    let (lezen, luisteren, schrijven, spreken) =
        (pct(pass_base + 5), pct(pass_base + 8), pct(pass_base), pct(pass_base));
    let knm = if route == Route::B1 { pct(pass_base + 10) } else { String::new() };
    let nt2_share = pct(if weak { 58 } else { 72 });
    crate::domain::quality::ResultInput {
        year: year.to_string(),
        route: route.code().into(),
        started: started.to_string(),
        completed: completed.to_string(),
        dropped_out: dropped.to_string(),
        pass_lezen: lezen,
        pass_luisteren: luisteren,
        pass_schrijven: schrijven,
        pass_spreken: spreken,
        pass_knm: knm,
        satisfaction: format!("{},{}", 6 + dice.next(3), dice.next(10)),
        nt2_share,
        group_size: (12 + dice.next(7)).to_string(),
    }
}

/// Imports results rows (in the template's column order) as one batch through the import engine.
async fn import_results(db: &Db, rows: &[Vec<String>]) -> anyhow::Result<()> {
    let template = crate::import::template::find("standaard-resultaten").map_err(anyhow::Error::msg)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo-resultaten.xlsx");
    std::fs::write(&path, crate::import::example::workbook_text(&template, rows).map_err(anyhow::Error::msg)?)?;
    let req = crate::import::engine::ImportRequest {
        path,
        file_name: "resultaten-blik-op-werk.xlsx".into(),
        template,
        actor: DEMO_ACTOR.into(),
    };
    let kind = crate::import::results::Results::load(db).await?;
    let outcome = crate::import::engine::run(db, kind, req, Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("demoresultaten: {e}"))?;
    if outcome.summary.batch.is_none() {
        anyhow::bail!("demoresultaten niet geïmporteerd: {:?}", outcome.summary.errors.first());
    }
    Ok(())
}

#[cfg(test)]
mod inflow_tests {
    use crate::domain::forecast::InflowGroup;
    use crate::domain::inflow::{validate, InflowCategory, InflowYear};

    #[test]
    fn the_demo_inflow_matches_the_spring_2022_figures_and_the_2022_expectation() {
        let counts: Vec<_> = super::inflow_rows().iter().map(|r| validate(&r[0], &r[1], &r[2]).unwrap()).collect();
        let spring: Vec<_> = counts
            .iter()
            .filter(
                |c| matches!(c.period, crate::domain::inflow::InflowPeriod::Month { year: 2022, month } if month <= 4),
            )
            .cloned()
            .collect();
        let s = InflowYear::of(2022, &spring);
        assert_eq!(s.total(), 174);
        assert_eq!(s.inflow[&InflowCategory::Family], 92);
        assert_eq!(s.inflow[&InflowCategory::AsylumHoused], 13);
        assert_eq!(s.inflow[&InflowCategory::AsylumAzc], 69);
        let y = InflowYear::of(2022, &counts);
        // 118 housed + 185 in the AZC; 350 family + 76 other.
        assert_eq!(y.scenario_group(InflowGroup::Asylum), 303);
        assert_eq!(y.scenario_group(InflowGroup::Family), 426);
        // Q4 2022: Wi2013 1,000 - 3 x 60; ELIP 120, 125, 130, then 125.
        assert_eq!(y.waiting_total(), Some(820 + 125));
        for year in 2022..=2025 {
            assert_eq!(InflowYear::of(year, &counts).months_counted, 12, "{year}");
        }
    }
}
