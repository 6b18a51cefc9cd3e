//! Calendar dates: ISO in storage and JSON, `31-12-2022` on screen, and strict parsing of form input.

use time::macros::format_description;
use time::Date;

/// `31-12-2022`, as Dutch screens show dates.
pub fn display(date: Date) -> String {
    date.format(format_description!("[day]-[month]-[year]")).expect("date formats")
}

/// The months in Dutch, as screens name a period (`maart 2022`).
pub const MONTH_NAMES: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// `7 december 2026`, as a letter writes a date.
pub fn dutch_long(date: Date) -> String {
    format!("{} {} {}", date.day(), MONTH_NAMES[usize::from(u8::from(date.month())) - 1], date.year())
}

/// `2022-12-31`, for storage, JSON, CSV and `<input type=date>`.
pub fn iso(date: Date) -> String {
    iso_text(date).to_string()
}

/// The ISO text of a date without allocating, for the import's per-line work (storage and fingerprint).
pub enum IsoText {
    Digits([u8; 10]),
    /// Years before 0 or after 9999, which no spreadsheet date reaches but `Date` allows.
    Other(String),
}

impl std::ops::Deref for IsoText {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            IsoText::Digits(d) => std::str::from_utf8(d).expect("ASCII digits"),
            IsoText::Other(s) => s,
        }
    }
}

pub fn iso_text(date: Date) -> IsoText {
    let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
    if !(0..=9999).contains(&y) {
        return IsoText::Other(format!("{y:04}-{m:02}-{d:02}"));
    }
    let y = y as u16;
    let digit = |n: u16| b'0' + (n % 10) as u8;
    IsoText::Digits([
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + d / 10,
        b'0' + d % 10,
    ])
}

pub fn parse_iso(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// Form input: the browser's date field sends `2022-12-31`; someone typing may write `31-12-2022`.
/// Both forms are unambiguous (the year position differs), so nothing is guessed.
pub fn parse_form(text: &str) -> Result<Option<Date>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(d) = parse_iso(t) {
        return Ok(Some(d));
    }
    if let Ok(d) = Date::parse(t, format_description!("[day]-[month]-[year]")) {
        return Ok(Some(d));
    }
    Err(format!("'{t}' is geen geldige datum; gebruik dd-mm-jjjj, bijvoorbeeld 31-12-2022."))
}

/// Today's date in the Netherlands (Europe/Amsterdam), whatever time zone the server runs in: from 1 January
/// 00:00 Dutch time it is the new year, also for deciding which years may be closed.
pub fn today() -> Date {
    in_amsterdam(time::OffsetDateTime::now_utc()).date()
}

/// The Dutch wall-clock time of an instant: CET (UTC+1), and CEST (UTC+2) from the last Sunday of March
/// 01:00 UTC until the last Sunday of October 01:00 UTC, the EU rule since 1996. Written out because the
/// server need not have a time-zone database.
pub fn in_amsterdam(instant: time::OffsetDateTime) -> time::OffsetDateTime {
    let utc = instant.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    let switch = |month: time::Month| {
        let last = Date::from_calendar_date(year, month, 31).expect("March and October have 31 days");
        let back = last.weekday().number_days_from_sunday() as i64;
        (last - time::Duration::days(back)).with_hms(1, 0, 0).expect("01:00 exists").assume_utc()
    };
    let summer = utc >= switch(time::Month::March) && utc < switch(time::Month::October);
    let hours = if summer { 2 } else { 1 };
    utc.to_offset(time::UtcOffset::from_hms(hours, 0, 0).expect("a whole hour is a valid offset"))
}

/// A stored timestamp (RFC 3339, as [`now_timestamp`] writes them) as the screens show it: Amsterdam time,
/// `06-12-2026 20:36`. Text that is no timestamp is shown as it is rather than hidden.
pub fn display_timestamp(stored: &str) -> String {
    match time::OffsetDateTime::parse(stored.trim(), &time::format_description::well_known::Rfc3339) {
        Ok(t) => in_amsterdam(t)
            .format(format_description!("[day]-[month]-[year] [hour]:[minute]"))
            .expect("date-time formats"),
        Err(_) => stored.to_string(),
    }
}

/// Now as an ISO timestamp, for created/updated/audit columns.
pub fn now_timestamp() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("timestamp formats")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn form_dates_accept_iso_and_dutch_and_refuse_impossible_ones() {
        assert_eq!(parse_form("2022-04-03").unwrap(), Some(date!(2022 - 04 - 03)));
        assert_eq!(parse_form("03-04-2022").unwrap(), Some(date!(2022 - 04 - 03)));
        assert_eq!(parse_form("  ").unwrap(), None);
        assert!(parse_form("31-02-2022").is_err());
        assert!(parse_form("04/03/2022").is_err());
        assert_eq!(display(date!(2022 - 12 - 31)), "31-12-2022");
        assert_eq!(iso(date!(2022 - 01 - 05)), "2022-01-05");
    }

    #[test]
    fn dutch_time_follows_cet_and_cest_and_starts_the_year_at_dutch_midnight() {
        use time::macros::datetime;
        let nl = |utc: time::OffsetDateTime| {
            let t = in_amsterdam(utc);
            (t.date(), t.hour(), t.offset().whole_hours())
        };
        // New Year's Eve 23:30 UTC is already 1 January in the Netherlands.
        assert_eq!(nl(datetime!(2026-12-31 23:30 UTC)), (date!(2027 - 01 - 01), 0, 1));
        assert_eq!(nl(datetime!(2026-12-31 22:59 UTC)), (date!(2026 - 12 - 31), 23, 1));
        // Summer time starts on the last Sunday of March (29 March 2026) at 01:00 UTC ...
        assert_eq!(nl(datetime!(2026-03-29 00:59 UTC)), (date!(2026 - 03 - 29), 1, 1));
        assert_eq!(nl(datetime!(2026-03-29 01:00 UTC)), (date!(2026 - 03 - 29), 3, 2));
        // ... and ends on the last Sunday of October (25 October 2026) at 01:00 UTC.
        assert_eq!(nl(datetime!(2026-10-25 00:59 UTC)), (date!(2026 - 10 - 25), 2, 2));
        assert_eq!(nl(datetime!(2026-10-25 01:00 UTC)), (date!(2026 - 10 - 25), 2, 1));
        // A last day of the month that is itself a Sunday (31 March 2024).
        assert_eq!(nl(datetime!(2024-03-31 01:00 UTC)).2, 2);
        assert_eq!(nl(datetime!(2024-03-30 12:00 UTC)).2, 1);
        assert_eq!(nl(datetime!(2026-07-01 22:30 UTC)), (date!(2026 - 07 - 02), 0, 2));
    }

    #[test]
    fn amsterdam_time_follows_the_eu_summer_time_rule() {
        use time::macros::datetime;
        let local = |t: time::OffsetDateTime| {
            in_amsterdam(t).format(format_description!("[year]-[month]-[day] [hour]:[minute]")).unwrap()
        };
        // Winter: UTC+1. The example, with its nanoseconds.
        assert_eq!(display_timestamp("2026-12-06T19:36:56.039352888Z"), "06-12-2026 20:36");
        // 29 March 2026 is the last Sunday of March: at 01:00 UTC the clock jumps from 02:00 to 03:00.
        assert_eq!(local(datetime!(2026-03-29 00:59 UTC)), "2026-03-29 01:59");
        assert_eq!(local(datetime!(2026-03-29 01:00 UTC)), "2026-03-29 03:00");
        // 25 October 2026 is the last Sunday of October: at 01:00 UTC it goes back from 03:00 to 02:00.
        assert_eq!(local(datetime!(2026-10-25 00:59 UTC)), "2026-10-25 02:59");
        assert_eq!(local(datetime!(2026-10-25 01:00 UTC)), "2026-10-25 02:00");
        // A month whose last day is a Sunday (March 2024): the switch is that very day.
        assert_eq!(local(datetime!(2024-03-31 01:00 UTC)), "2024-03-31 03:00");
        // New Year's Eve late in UTC is already the next year in Amsterdam.
        assert_eq!(display_timestamp("2025-12-31T23:30:00Z"), "01-01-2026 00:30");
        // Another offset is converted first; text that is no timestamp stays as it is.
        assert_eq!(display_timestamp("2026-07-01T12:00:00+02:00"), "01-07-2026 12:00");
        assert_eq!(display_timestamp("onbekend"), "onbekend");
    }

    /// Stored identities hash the ISO text: the fast form must be byte for byte the formatted one.
    #[test]
    fn iso_text_is_the_formatted_date_for_every_year() {
        for d in [date!(0000 - 01 - 01), date!(0999 - 12 - 31), date!(1900 - 02 - 28), date!(9999 - 12 - 31)] {
            let formatted = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            assert_eq!(&*iso_text(d), formatted);
        }
        assert_eq!(&*iso_text(date!(-0005 - 03 - 04)), "-005-03-04");
        let mut d = date!(2022 - 01 - 01);
        while d.year() == 2022 {
            assert_eq!(&*iso_text(d), format!("2022-{:02}-{:02}", u8::from(d.month()), d.day()));
            d = d.next_day().unwrap();
        }
    }
}

/// `date` plus `months` calendar months; the day is clamped to the last day of the target month
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: i32) -> Date {
    let total = date.year() * 12 + (date.month() as i32 - 1) + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from((month0 + 1) as u8).expect("month in 1..=12");
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).expect("clamped day is valid")
}

#[cfg(test)]
mod month_tests {
    use super::add_months;
    use time::macros::date;

    #[test]
    fn months_clamp_to_the_end_of_the_month() {
        assert_eq!(add_months(date!(2022 - 01 - 31), 1), date!(2022 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2022 - 11 - 15), 3), date!(2023 - 02 - 15));
        assert_eq!(add_months(date!(2022 - 03 - 01), -6), date!(2021 - 09 - 01));
        assert_eq!(add_months(date!(2022 - 03 - 01), 0), date!(2022 - 03 - 01));
    }
}
