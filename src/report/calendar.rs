//! The dates a role keeps in its own calendar: option decision deadlines, contract and option ends, mark expiry
//! dates, follow-up action due dates and year-close reminders. Each date has a UID that stays the same while the
//! thing it belongs to exists, so a calendar that reads the feed again updates the event instead of adding one.
//! No participant data: a calendar lives outside taalbudget.

use time::{Date, Month};

use crate::auth::roles::{Permission, Role};
use crate::domain::certification::{standing, Standing};
use crate::domain::contract::OptionStatus;
use crate::domain::dates;
use crate::store::{self, Db};

/// How far back the feed keeps dates: a calendar shows the recent past, not every contract ever.
pub const DAYS_BACK: i64 = 366;

/// One all-day event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable: kind and id, e.g. `optie-12-beslisdatum@taalbudget`.
    pub uid: String,
    pub date: Date,
    pub summary: String,
    pub description: String,
    /// A path into taalbudget (without the deployment's prefix).
    pub link: String,
}

/// The day after which a year may be closed is the end of the year; the reminder falls a month later, when the
/// last invoices of the year are usually booked.
pub fn year_close_reminder(year: i32) -> Date {
    Date::from_calendar_date(year + 1, Month::January, 31).expect("31 January exists")
}

/// The events of `role` around `today`: every date from [`DAYS_BACK`] days ago onward, by date.
pub async fn events(db: &Db, role: Role, today: Date) -> sqlx::Result<Vec<CalendarEvent>> {
    let from = today - time::Duration::days(DAYS_BACK);
    let mut out = Vec::new();
    for c in store::contracts::list(db).await? {
        let name = format!("{} ({})", c.reference, c.provider_name);
        let link = format!("/contracten/{}/voorwaarden", c.id);
        let period = &c.terms.period;
        // The end as it stands: the initial end, or the end of the last option taken.
        out.push(CalendarEvent {
            uid: format!("contract-{}-einde@taalbudget", c.id),
            date: period.current_end(),
            summary: format!("Contract {name} eindigt"),
            description: format!("Laatste dag van contract {name}, met de gelichte verlengingsopties."),
            link: link.clone(),
        });
        for o in period.options.iter().filter(|o| o.status == OptionStatus::Pending) {
            out.push(CalendarEvent {
                uid: format!("optie-{}-beslisdatum@taalbudget", o.id),
                date: o.notice_deadline,
                summary: format!("Besluit verlengingsoptie {name}"),
                description: format!(
                    "Uiterlijk vandaag de aanbieder laten weten of de optie wordt gelicht (verlenging tot {}).",
                    dates::display(o.new_end_date)
                ),
                link: link.clone(),
            });
            out.push(CalendarEvent {
                uid: format!("optie-{}-einde@taalbudget", o.id),
                date: o.new_end_date,
                summary: format!("Contract {name} eindigt als de optie wordt gelicht"),
                description: format!(
                    "Einde van de verlengingsoptie waarover nog niet is besloten (besluit uiterlijk {}).",
                    dates::display(o.notice_deadline)
                ),
                link: link.clone(),
            });
        }
    }
    let decisions = store::certifications::all_by_provider(db).await?;
    for p in store::providers::list(db, "", store::providers::Filter::Active).await? {
        let Some(own) = decisions.get(&p.id) else { continue };
        if let Standing::Valid { until: Some(until), .. } = standing(own, today) {
            out.push(CalendarEvent {
                uid: format!("keurmerk-{}-{}-einde@taalbudget", p.id, dates::iso(until)),
                date: until,
                summary: format!("Keurmerk {} verloopt", p.name),
                description: format!(
                    "Laatste geldige dag van het Blik op Werk-keurmerk van {}; daarna geen nieuwe plaatsingen zonder nieuw besluit.",
                    p.name
                ),
                link: format!("/aanbieders/{}", p.id),
            });
        }
    }
    if role.may(Permission::ManageContracts) {
        for a in store::quality::open_actions(db).await? {
            out.push(CalendarEvent {
                uid: format!("actie-{}-streefdatum@taalbudget", a.id),
                date: a.due_date,
                summary: format!("Verbeterpunt {}", a.provider_name),
                description: a.description.clone(),
                link: format!("/kwaliteit/aanbieders/{}", a.provider_id),
            });
        }
    }
    if role.may(Permission::ManageFinance) {
        let last_closed = store::funding::last_closed(&mut *db.acquire().await?).await?;
        let years = store::attribution::sums(db).await?.imported.into_keys();
        for year in years.filter(|y| !store::funding::year_is_closed(*y, last_closed)) {
            out.push(CalendarEvent {
                uid: format!("jaar-{year}-afsluiten@taalbudget"),
                date: year_close_reminder(year),
                summary: format!("Jaarafsluiting {year}"),
                description: format!(
                    "Jaar {year} is nog niet afgesloten: controleer de aansluiting en de wachtrij en sluit het jaar af."
                ),
                link: format!("/financiering?jaar={year}"),
            });
        }
    }
    out.retain(|e| e.date >= from);
    out.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.uid.cmp(&b.uid)));
    Ok(out)
}
