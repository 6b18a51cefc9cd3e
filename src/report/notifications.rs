//! What needs attention, per role: the one list behind the start page's "Meldingen", the page `/meldingen` and
//! the e-mail digest. Built from the functions the start page counts with (the commitments portfolio, the
//! progress signals, the marks needing attention, the quality follow-up actions, the unattributed queue and the
//! batches awaiting approval), so an item never disagrees with the card beside it.
//!
//! Each item has a subject (what it is about, e.g. `optie-12`) and a level that rises as it becomes more
//! pressing (a deadline at 60, 30, 7 days is level 1, 2, 3; a queue of 41 lines is level 41). A user who saw or
//! was mailed a subject at some level is not told again until the level rises: see [`Item::known`].

use std::collections::HashMap;

use time::Date;

use crate::auth::roles::{Permission, Role};
use crate::domain::certification::{governing_decision, needing_attention, Standing};
use crate::domain::contract::CeilingLevel;
use crate::domain::dates;
use crate::domain::progress::{late_start, Warning};
use crate::domain::quality::is_overdue;
use crate::domain::small_cell::{SmallCells, HIDDEN};
use crate::domain::words::count;
use crate::report::commitments::PortfolioCache;
use crate::report::progress_signals::{self, SignalsCache};
use crate::store::{self, Db};

/// The option decision thresholds, in days before the notice deadline, least pressing first.
pub const OPTION_THRESHOLDS: [i64; 3] = [60, 30, 7];

/// The mark thresholds, in days before a valid mark ends (the first is the marks page's warning).
pub const MARK_THRESHOLDS: [i64; 2] = [crate::domain::certification::LAPSE_WARNING_DAYS, 30];

/// A follow-up action is "due" this many days before its due date.
pub const ACTION_DUE_DAYS: i64 = 7;

/// A late start is news on its own (with its client number) for this many days after its deadline passed.
pub const LATE_START_NEWS_DAYS: i64 = 31;

const LATE_ONE: &str = "lopende plaatsing zonder start binnen 3 maanden na het PIP";
const LATE_MANY: &str = "lopende plaatsingen zonder start binnen 3 maanden na het PIP";

/// How pressing an item is: the list and the digest put the highest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    Low,
    Medium,
    High,
}

impl Urgency {
    pub fn label(self) -> &'static str {
        match self {
            Urgency::High => "dringend",
            Urgency::Medium => "binnenkort",
            Urgency::Low => "ter informatie",
        }
    }

    pub fn css_class(self) -> &'static str {
        match self {
            Urgency::High => "status-bad",
            Urgency::Medium => "status-warn",
            Urgency::Low => "status-ok",
        }
    }
}

/// One thing that needs attention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What the item is about: stays the same while it becomes more pressing (`optie-12`, `plafond-3`).
    pub subject: String,
    /// Rises as the item becomes more pressing (see the module documentation).
    pub level: i64,
    /// The threshold in the key's words: `60d`, `80`, `verlopen`, a number of lines.
    pub threshold: String,
    pub urgency: Urgency,
    /// One Dutch sentence, without participant data beyond a client number (and that only for roles that may
    /// read participant data).
    pub text: String,
    /// Where in taalbudget to act on it (a path, without the deployment's prefix).
    pub link: String,
    pub due: Option<Date>,
}

impl Item {
    /// The stable key: subject and threshold, e.g. `optie-12-30d`.
    pub fn key(&self) -> String {
        format!("{}-{}", self.subject, self.threshold)
    }

    /// Whether the user already knows this item: seen (or mailed) at this level or a higher one.
    pub fn known(&self, levels: &HashMap<String, i64>) -> bool {
        levels.get(&self.subject).is_some_and(|l| *l >= self.level)
    }
}

/// Most urgent first; then the nearest due date (items without one after those with one), then the text.
pub fn sort(items: &mut [Item]) {
    items.sort_by(|a, b| {
        b.urgency
            .cmp(&a.urgency)
            .then_with(|| match (a.due, b.due) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.text.cmp(&b.text))
    });
}

/// What a role is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience {
    /// Option deadlines and marks: the contract manager's work, and the policy adviser's concern.
    pub contracts: bool,
    /// Quality follow-up actions.
    pub actions: bool,
    /// Late starts and third attempts per placement, with the client number.
    pub placements: bool,
    /// Late starts and third attempts as counts only (small groups hidden).
    pub placement_counts: bool,
    /// The unattributed queue and batches awaiting approval.
    pub finance: bool,
}

impl Audience {
    pub fn of(role: Role) -> Audience {
        let manages = role.may(Permission::ManageContracts);
        let participants = role.may(Permission::ParticipantData);
        Audience {
            contracts: manages || !participants,
            actions: manages,
            placements: manages && participants,
            placement_counts: !participants,
            finance: role.may(Permission::ManageFinance),
        }
    }
}

/// The caches a server keeps; the command line passes none and computes afresh.
#[derive(Clone, Copy, Default)]
pub struct Sources<'a> {
    pub signals: Option<&'a SignalsCache>,
    pub commitments: Option<&'a PortfolioCache>,
}

/// Everything that needs attention for `role` on `today`, most urgent first.
pub async fn for_role(db: &Db, sources: Sources<'_>, role: Role, today: Date) -> sqlx::Result<Vec<Item>> {
    let audience = Audience::of(role);
    let mut items = Vec::new();
    let portfolio = crate::report::commitments::portfolio(db, sources.commitments, today).await?;
    for (c, f) in portfolio.with_figures() {
        if audience.contracts {
            for o in c.terms.period.deadlines_within(today, OPTION_THRESHOLDS[0]) {
                let days = (o.notice_deadline - today).whole_days();
                // The most pressing threshold the deadline is within: 60, 30 or 7 days.
                let passed = OPTION_THRESHOLDS.iter().filter(|t| days <= **t).count();
                let threshold = OPTION_THRESHOLDS[passed - 1];
                items.push(Item {
                    subject: format!("optie-{}", o.id),
                    level: passed as i64,
                    threshold: format!("{threshold}d"),
                    urgency: if threshold <= 7 { Urgency::High } else { Urgency::Medium },
                    text: format!(
                        "Besluit over de verlengingsoptie van contract {} ({}) uiterlijk {} (nog {}); verlenging tot {}.",
                        c.reference,
                        c.provider_name,
                        dates::display(o.notice_deadline),
                        count(days, "dag", "dagen"),
                        dates::display(o.new_end_date)
                    ),
                    link: format!("/contracten/{}/voorwaarden#opties", c.id),
                    due: Some(o.notice_deadline),
                });
            }
        }
        let (level, threshold) = match f.level {
            CeilingLevel::Ok => continue,
            CeilingLevel::Warning => (1, 80),
            CeilingLevel::Exceeded => (2, 100),
        };
        let pct = f.ceiling_pct.to_string().replace('.', ",");
        items.push(Item {
            subject: format!("plafond-{}", c.id),
            level,
            threshold: threshold.to_string(),
            urgency: if level == 2 { Urgency::High } else { Urgency::Medium },
            text: if level == 2 {
                format!(
                    "Contract {} ({}) heeft het plafond van {} bereikt: {}% gebruikt ({}).",
                    c.reference, c.provider_name, c.terms.ceiling, pct, f.ceiling_use
                )
            } else {
                format!(
                    "Contract {} ({}) zit op {}% van het plafond van {} ({}).",
                    c.reference, c.provider_name, pct, c.terms.ceiling, f.ceiling_use
                )
            },
            link: format!("/contracten/{}#plafond", c.id),
            due: None,
        });
    }
    if audience.contracts {
        marks(db, today, &mut items).await?;
    }
    if audience.actions {
        for a in store::quality::open_actions(db).await? {
            let overdue = is_overdue(a.status, a.due_date, today);
            let days = (a.due_date - today).whole_days();
            if !overdue && days > ACTION_DUE_DAYS {
                continue;
            }
            items.push(Item {
                // The due date is part of the subject: a new due date is a new appointment.
                subject: format!("actie-{}-{}", a.id, dates::iso(a.due_date)),
                level: if overdue { 2 } else { 1 },
                threshold: if overdue { "verlopen".into() } else { format!("{ACTION_DUE_DAYS}d") },
                urgency: if overdue { Urgency::High } else { Urgency::Medium },
                text: if overdue {
                    format!(
                        "Verbeterpunt van {} is over de streefdatum {}: {}",
                        a.provider_name,
                        dates::display(a.due_date),
                        a.description
                    )
                } else {
                    format!(
                        "Verbeterpunt van {} moet uiterlijk {} klaar zijn: {}",
                        a.provider_name,
                        dates::display(a.due_date),
                        a.description
                    )
                },
                link: format!("/kwaliteit/aanbieders/{}", a.provider_id),
                due: Some(a.due_date),
            });
        }
    }
    if audience.placements || audience.placement_counts {
        placements(db, sources, &portfolio.running, audience, today, &mut items).await?;
    }
    if audience.finance {
        let (lines, amount) = store::attribution::queue_size(db).await?;
        if lines > 0 {
            items.push(Item {
                subject: "wachtrij".into(),
                level: lines,
                threshold: lines.to_string(),
                urgency: Urgency::Low,
                text: format!(
                    "{} nog niet toegerekend, samen {}.",
                    count(lines, "grootboekregel", "grootboekregels"),
                    amount
                ),
                link: "/toerekening/wachtrij".into(),
                due: None,
            });
        }
        for b in store::approval::pending_batches(db).await? {
            items.push(Item {
                subject: format!("goedkeuring-{}", b.id),
                level: 1,
                threshold: "wacht".into(),
                urgency: Urgency::Medium,
                text: format!(
                    "Importbatch {} ({}, {} door {}) wacht op goedkeuring en telt nergens mee.",
                    b.id,
                    b.file_name,
                    count(b.rows_imported, "regel", "regels"),
                    b.imported_by
                ),
                link: format!("/import/batches/{}", b.id),
                due: None,
            });
        }
    }
    if role.may(Permission::Admin) {
        let failed = store::notifications::failed_digests(db).await?;
        if failed > 0 {
            items.push(Item {
                subject: "mail-mislukt".into(),
                level: failed,
                threshold: failed.to_string(),
                urgency: Urgency::Medium,
                text: format!(
                    "{} met meldingen niet verstuurd: de mailserver weigerde of was onbereikbaar.",
                    count(failed, "e-mail", "e-mails")
                ),
                link: "/beheer/meldingen".into(),
                due: None,
            });
        }
    }
    sort(&mut items);
    Ok(items)
}

/// Providers without a valid mark, suspended, or lapsing within 90 or 30 days (the marks page's list).
async fn marks(db: &Db, today: Date, items: &mut Vec<Item>) -> sqlx::Result<()> {
    let providers = store::providers::list(db, "", store::providers::Filter::Active).await?;
    let decisions = store::certifications::all_by_provider(db).await?;
    let none = Vec::new();
    for a in needing_attention(&providers, &decisions, today) {
        let p = a.provider;
        let own = decisions.get(&p.id).unwrap_or(&none);
        // The decision the state comes from: a new decision is a new subject, so a second suspension is news.
        let decision = governing_decision(own, today)
            .or_else(|| own.iter().filter(|d| d.decision_date <= today).max_by_key(|d| (d.decision_date, d.id)))
            .map_or(0, |d| d.id);
        let link = format!("/aanbieders/{}", p.id);
        let words = a.mark.words();
        let item = match a.mark.standing {
            Standing::Valid { until: Some(until), .. } => {
                let days = a.mark.days.unwrap_or_default();
                let passed = MARK_THRESHOLDS.iter().filter(|t| days <= **t).count().max(1);
                Item {
                    subject: format!("keurmerk-{}-tot-{}", p.id, dates::iso(until)),
                    level: passed as i64,
                    threshold: format!("{}d", MARK_THRESHOLDS[passed - 1]),
                    urgency: if passed == 2 { Urgency::High } else { Urgency::Medium },
                    text: format!("Keurmerk van {}: {}.", p.name, words),
                    link,
                    due: Some(until),
                }
            }
            Standing::Valid { until: None, .. } => continue,
            Standing::Suspended { until } => Item {
                subject: format!("keurmerk-{}-besluit-{decision}", p.id),
                level: 1,
                threshold: "geschorst".into(),
                urgency: Urgency::High,
                text: format!("Keurmerk van {}: {}. Plaats hier geen nieuwe deelnemers.", p.name, words),
                link,
                due: until,
            },
            Standing::NotValid { .. } => Item {
                subject: format!("keurmerk-{}-besluit-{decision}", p.id),
                level: 1,
                threshold: "ongeldig".into(),
                urgency: Urgency::High,
                text: format!("{}: {}. Plaats hier geen nieuwe deelnemers.", p.name, words),
                link,
                due: None,
            },
        };
        items.push(item);
    }
    Ok(())
}

/// Late starts and third exam attempts of running placements: per placement with its client number, or as
/// counts (hiding groups under five) for whoever may see aggregates only.
async fn placements(
    db: &Db,
    sources: Sources<'_>,
    running: &[crate::report::commitments::Running],
    audience: Audience,
    today: Date,
    items: &mut Vec<Item>,
) -> sqlx::Result<()> {
    let signals = progress_signals::signals(db, sources.signals).await?;
    let mut late: Vec<(i64, Date)> = Vec::new();
    let mut third = Vec::new();
    for p in running {
        let signal = progress_signals::of(&signals, p.id);
        if let Some(Warning::LateStart { deadline, .. }) = late_start(p.pip_date, signal.actual_start, today) {
            late.push((p.id, deadline));
        }
        if signal.third_attempt {
            third.push(p.id);
        }
    }
    if audience.placements {
        // The list behind the start page's card, as one item that grows; each late start is news on its own only
        // in the month its deadline passed (older ones were news then, and stay in the list).
        if !late.is_empty() {
            items.push(Item {
                subject: "late-starts".into(),
                level: late.len() as i64,
                threshold: late.len().to_string(),
                urgency: Urgency::Low,
                text: format!("{}.", count(late.len(), LATE_ONE, LATE_MANY)),
                link: "/plaatsingen?status=lopend&signaal=late-start".into(),
                due: None,
            });
        }
        late.retain(|(_, deadline)| (today - *deadline).whole_days() <= LATE_START_NEWS_DAYS);
        let ids: Vec<i64> = late.iter().map(|(id, _)| *id).chain(third.iter().copied()).collect();
        let clients = store::placements::client_numbers(db, &ids).await?;
        let client = |id: i64| clients.get(&id).map_or("?", String::as_str).to_string();
        for (id, deadline) in late {
            items.push(Item {
                subject: format!("late-start-{id}"),
                level: 1,
                threshold: "3m".into(),
                urgency: Urgency::Medium,
                text: format!(
                    "Klant {} (plaatsing {id}) is niet binnen 3 maanden na het PIP gestart (uiterlijk {}).",
                    client(id),
                    dates::display(deadline)
                ),
                link: format!("/plaatsingen/{id}"),
                due: Some(deadline),
            });
        }
        for id in third {
            items.push(Item {
                subject: format!("derde-poging-{id}"),
                level: 1,
                threshold: "3".into(),
                urgency: Urgency::Medium,
                text: format!(
                    "Klant {} (plaatsing {id}) doet een derde examenpoging; die wordt niet gefinancierd.",
                    client(id)
                ),
                link: format!("/plaatsingen/{id}"),
                due: None,
            });
        }
    } else if audience.placement_counts {
        let cells = SmallCells::new(true);
        let mut counted = |subject: &str, n: usize, one: &str, many: &str| {
            if n == 0 {
                return;
            }
            let shown =
                if cells.hides(n as u32) { format!("{HIDDEN} {many}.") } else { format!("{}.", count(n, one, many)) };
            items.push(Item {
                subject: subject.into(),
                level: n as i64,
                threshold: n.to_string(),
                urgency: Urgency::Low,
                text: shown,
                link: "/scorecard".into(),
                due: None,
            });
        };
        counted("late-starts", late.len(), LATE_ONE, LATE_MANY);
        counted(
            "derde-pogingen",
            third.len(),
            "lopende plaatsing met een derde examenpoging (niet gefinancierd)",
            "lopende plaatsingen met een derde examenpoging (niet gefinancierd)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn item(subject: &str, level: i64, urgency: Urgency, due: Option<Date>) -> Item {
        Item {
            subject: subject.into(),
            level,
            threshold: level.to_string(),
            urgency,
            text: subject.into(),
            link: "/".into(),
            due,
        }
    }

    #[test]
    fn an_item_is_known_only_at_its_level_or_a_lower_one() {
        let seen: HashMap<String, i64> = [("optie-1".to_string(), 2)].into();
        assert!(item("optie-1", 1, Urgency::Medium, None).known(&seen), "60 days after 30 were seen");
        assert!(item("optie-1", 2, Urgency::Medium, None).known(&seen));
        assert!(!item("optie-1", 3, Urgency::High, None).known(&seen), "7 days is news");
        assert!(!item("optie-2", 1, Urgency::Medium, None).known(&seen));
    }

    #[test]
    fn the_most_urgent_come_first_then_the_nearest_date() {
        let mut items = vec![
            item("a", 1, Urgency::Low, None),
            item("b", 1, Urgency::Medium, None),
            item("c", 1, Urgency::Medium, Some(date!(2027 - 01 - 05))),
            item("d", 1, Urgency::High, None),
            item("e", 1, Urgency::Medium, Some(date!(2027 - 01 - 01))),
        ];
        sort(&mut items);
        let order: Vec<&str> = items.iter().map(|i| i.subject.as_str()).collect();
        assert_eq!(order, ["d", "e", "c", "b", "a"]);
    }

    #[test]
    fn each_role_hears_about_its_own_work() {
        let a = Audience::of(Role::ContractManager);
        assert!(a.contracts && a.actions && a.placements && !a.placement_counts && !a.finance);
        let f = Audience::of(Role::Finance);
        assert!(!f.contracts && !f.actions && !f.placements && !f.placement_counts && f.finance);
        let p = Audience::of(Role::PolicyAdviser);
        assert!(p.contracts && !p.actions && !p.placements && p.placement_counts && !p.finance);
        let admin = Audience::of(Role::Admin);
        assert!(admin.contracts && admin.actions && admin.placements && !admin.placement_counts && admin.finance);
    }
}
