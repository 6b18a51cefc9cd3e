//! The e-mail digest's words and timing, without any IO: which period a digest belongs to, whether it is due,
//! and its subject, text and HTML. Sending lives in `crate::notify`.

use maud::html;
use time::{OffsetDateTime, Weekday};

use super::notifications::Item;
use crate::auth::roles::Role;
use crate::domain::dates;
use crate::domain::words::count;
use crate::store::notifications::DigestChoice;

/// The period a digest covers, as stored: `2026-12-07` for a daily one, `2026-W50` for a weekly one (ISO week).
/// One digest per user and period is ever claimed.
pub fn period(choice: DigestChoice, now: OffsetDateTime) -> Option<String> {
    let local = dates::in_amsterdam(now);
    match choice {
        DigestChoice::None => None,
        DigestChoice::Daily => Some(dates::iso(local.date())),
        DigestChoice::Weekly => {
            let (year, week, _) = local.date().to_iso_week_date();
            Some(format!("{year}-W{week:02}"))
        }
    }
}

/// Whether this period's digest may go out at `now`: from `hour` (Dutch time) on its day; a weekly digest from
/// Monday at that hour, or later in the week when the server was not running then.
pub fn is_due(choice: DigestChoice, now: OffsetDateTime, hour: u8) -> bool {
    let local = dates::in_amsterdam(now);
    match choice {
        DigestChoice::None => false,
        DigestChoice::Daily => local.hour() >= hour,
        DigestChoice::Weekly => local.weekday() != Weekday::Monday || local.hour() >= hour,
    }
}

/// One digest, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The digest of `items` (most urgent first) for `username` in `role`; None when there is nothing to say.
/// `base` is the public address of taalbudget, without a trailing slash.
pub fn compose(username: &str, role: Role, items: &[Item], base: &str, today: time::Date) -> Option<Digest> {
    if items.is_empty() {
        return None;
    }
    let n = count(items.len(), "melding", "meldingen");
    let subject = format!("taalbudget: {n} ({})", dates::display(today));
    let mut text = format!(
        "Beste {username},\n\nNieuw of dringender sinds uw vorige overzicht, voor uw rol {} ({n}, het dringendste eerst):\n\n",
        role.label().to_lowercase()
    );
    for i in items {
        text.push_str(&format!("- [{}] {}\n", i.urgency.label(), i.text));
        text.push_str(&format!("  {base}{}\n", i.link));
    }
    text.push_str(&format!(
        "\nAlle meldingen: {base}/meldingen\nDit overzicht wijzigen of uitzetten: {base}/account/meldingen\n"
    ));
    let html = html! {
        p { "Beste " (username) "," }
        p { "Nieuw of dringender sinds uw vorige overzicht, voor uw rol " (role.label().to_lowercase()) " (" (n) ", het dringendste eerst):" }
        ul {
            @for i in items {
                li { strong { (i.urgency.label()) } ": " a href={(base) (i.link)} { (i.text) } }
            }
        }
        p { a href={(base) "/meldingen"} { "Alle meldingen" } " · " a href={(base) "/account/meldingen"} { "Dit overzicht wijzigen of uitzetten" } }
    };
    Some(Digest { subject, text, html: html.into_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::notifications::Urgency;
    use time::macros::{date, datetime};

    #[test]
    fn periods_are_dutch_days_and_iso_weeks() {
        // 23:30 UTC on Sunday 6 December is 00:30 on Monday 7 December in Amsterdam (CET).
        let now = datetime!(2026-12-06 23:30 UTC);
        assert_eq!(period(DigestChoice::Daily, now).unwrap(), "2026-12-07");
        assert_eq!(period(DigestChoice::Weekly, now).unwrap(), "2026-W50");
        assert_eq!(period(DigestChoice::None, now), None);
    }

    #[test]
    fn a_digest_is_due_from_its_hour_and_a_weekly_one_from_monday() {
        // 06:59 UTC is 07:59 in Amsterdam in winter.
        let monday_early = datetime!(2026-12-07 05:59 UTC);
        let monday_later = datetime!(2026-12-07 06:00 UTC);
        assert!(!is_due(DigestChoice::Daily, monday_early, 7));
        assert!(is_due(DigestChoice::Daily, monday_later, 7));
        assert!(!is_due(DigestChoice::Weekly, monday_early, 7));
        assert!(is_due(DigestChoice::Weekly, monday_later, 7));
        assert!(is_due(DigestChoice::Weekly, datetime!(2026-12-08 01:00 UTC), 7), "Tuesday: Monday's was missed");
        assert!(!is_due(DigestChoice::None, monday_later, 0));
    }

    #[test]
    fn nothing_to_say_is_no_digest_and_each_line_links_into_taalbudget() {
        assert_eq!(compose("piet", Role::Finance, &[], "https://tb", date!(2026 - 12 - 07)), None);
        let item = Item {
            subject: "wachtrij".into(),
            level: 3,
            threshold: "3".into(),
            urgency: Urgency::Low,
            text: "3 grootboekregels nog niet toegerekend, samen € 10,00.".into(),
            link: "/toerekening/wachtrij".into(),
            due: None,
        };
        let d = compose("piet", Role::Finance, &[item], "https://tb", date!(2026 - 12 - 07)).unwrap();
        assert_eq!(d.subject, "taalbudget: 1 melding (07-12-2026)");
        assert_eq!(
            d.text,
            "Beste piet,\n\nNieuw of dringender sinds uw vorige overzicht, voor uw rol financieel medewerker (1 melding, het dringendste eerst):\n\n\
             - [ter informatie] 3 grootboekregels nog niet toegerekend, samen € 10,00.\n  https://tb/toerekening/wachtrij\n\n\
             Alle meldingen: https://tb/meldingen\nDit overzicht wijzigen of uitzetten: https://tb/account/meldingen\n"
        );
        assert!(d.html.contains("<a href=\"https://tb/toerekening/wachtrij\">3 grootboekregels"));
    }
}
