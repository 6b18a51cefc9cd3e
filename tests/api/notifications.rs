//! Notifications (#24): the list per role on `/meldingen` and the start page, seen marks, the calendar feed and
//! the e-mail digest through a real SMTP conversation with a sink this test runs.

use std::sync::{Arc, Mutex};

use icalendar::{Component, DatePerhapsTime};
use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::config::{Smtp, SmtpTls};
use taalbudget::domain::dates;
use taalbudget::notify::{self, Outcome};
use taalbudget::report::notifications::{self, Sources};
use taalbudget::store;
use taalbudget::store::notifications::DigestChoice;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{import_ledger, ledger_line, location, spawn_app, spawn_app_with, TestApp};

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app
}

/// The rows of the table under the heading with this id, up to the next heading.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("#{id} in {page}"));
    let rest = &page[start..];
    let end = rest[1..].find("<h2").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[tokio::test]
async fn the_list_follows_the_start_page_and_a_seen_item_moves_apart_until_it_becomes_more_pressing() {
    let app = demo_app().await;
    app.login_as(Role::ContractManager).await;
    let (status, home) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("<h2 id=\"meldingen-titel\">Meldingen</h2>"), "{home}");
    assert!(home.contains("href=\"/meldingen\""), "a link to all notifications: {home}");
    let (status, page) = app.get_html("/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    let new = section(&page, "nieuw");
    // One figure, one source: the option deadlines and ceilings the start page lists are the items here.
    let options_on_home = section(&home, "opties").matches("/voorwaarden#opties\"").count();
    assert!(options_on_home > 0, "the demo has option deadlines within 60 days");
    assert_eq!(new.matches("/voorwaarden#opties\"").count(), options_on_home, "{new}");
    let ceilings_on_home = section(&home, "plafonds").matches("#plafond\"").count();
    assert_eq!(new.matches("#plafond\"").count(), ceilings_on_home, "{new}");
    assert!(new.contains("Klant "), "the contract manager sees client numbers: {new}");
    let before = new.matches("name=\"onderwerp\"").count();
    assert!(before > 0);

    // Mark the first item seen: it moves to "Gezien", the rest stay.
    let subject = new.split("name=\"onderwerp\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let level = new.split("name=\"niveau\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let r = app.post_form("/meldingen/gezien", &[("onderwerp", &subject), ("niveau", &level)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_html("/meldingen").await;
    assert_eq!(section(&page, "nieuw").matches("name=\"onderwerp\"").count(), before - 1);
    assert!(!section(&page, "nieuw").contains(&format!("value=\"{subject}\"")));
    assert!(section(&page, "gezien").contains("1 melding al gezien"), "{page}");
    let user = store::users::credentials(&app.db, "test-contract_manager").await.unwrap().unwrap().0;
    let seen = store::notifications::seen(&app.db, user.id).await.unwrap();
    assert_eq!(seen.get(&subject), Some(&level.parse().unwrap()));
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = 'notifications_seen'")
            .fetch_one(&app.db)
            .await
            .unwrap(),
        1
    );
    // The same subject one level up is news again.
    let items =
        notifications::for_role(&app.db, Sources::default(), Role::ContractManager, dates::today()).await.unwrap();
    let mut higher = items.iter().find(|i| i.subject == subject).unwrap().clone();
    assert!(higher.known(&seen));
    higher.level += 1;
    assert!(!higher.known(&seen));

    // A made-up subject marks nothing; "all" marks every new item.
    let r = app.post_form("/meldingen/gezien", &[("onderwerp", "verzonnen"), ("niveau", "99")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!store::notifications::seen(&app.db, user.id).await.unwrap().contains_key("verzonnen"));
    app.post_form("/meldingen/gezien", &[("alles", "ja")]).await;
    let (_, page) = app.get_html("/meldingen").await;
    assert!(section(&page, "nieuw").contains("Geen meldingen."), "{page}");
    assert!(section(&page, "gezien").contains(&format!("{before} meldingen al gezien")), "{page}");
}

#[tokio::test]
async fn each_role_hears_about_its_own_work_and_the_policy_adviser_only_counts() {
    let app = demo_app().await;
    let today = dates::today();
    let items = |role| notifications::for_role(&app.db, Sources::default(), role, today);
    let finance = items(Role::Finance).await.unwrap();
    let (lines, amount) = store::attribution::queue_size(&app.db).await.unwrap();
    let queue = finance.iter().find(|i| i.subject == "wachtrij").expect("the demo has a queue");
    assert_eq!(queue.level, lines);
    assert_eq!(queue.text, format!("{lines} grootboekregels nog niet toegerekend, samen {amount}."));
    assert!(finance.iter().all(|i| !i.subject.starts_with("optie-") && !i.subject.starts_with("late-start")));

    let adviser = items(Role::PolicyAdviser).await.unwrap();
    assert!(adviser.iter().any(|i| i.subject.starts_with("optie-")));
    assert!(adviser.iter().all(|i| !i.text.contains("Klant") && !i.link.starts_with("/plaatsingen")), "{adviser:?}");
    let counted = adviser.iter().find(|i| i.subject == "late-starts").expect("the demo has late starts");
    let manager = items(Role::ContractManager).await.unwrap();
    let summary = manager.iter().find(|i| i.subject == "late-starts").unwrap();
    assert_eq!(summary.link, "/plaatsingen?status=lopend&signaal=late-start");
    let late = summary.level as usize;
    assert_eq!(counted.level, summary.level, "the adviser's count is the contract manager's");
    // The card on the start page counts the same placements as the list it links to.
    let browser = app.other_browser();
    browser.login_as(Role::ContractManager).await;
    let (_, list) = browser.get_html(&summary.link).await;
    assert!(list.contains(&format!("<caption id=\"tabel-1\">{late} plaatsingen")), "{late}");
    // Only the late starts of the last month are news one by one, with their client number.
    for i in manager.iter().filter(|i| i.subject.starts_with("late-start-")) {
        let passed = (today - i.due.unwrap()).whole_days();
        assert!((0..=notifications::LATE_START_NEWS_DAYS).contains(&passed), "{i:?}");
        assert!(i.text.starts_with("Klant K"), "{}", i.text);
    }
    if late < 5 {
        assert!(counted.text.starts_with("minder dan 5 "), "{}", counted.text);
    } else {
        assert!(counted.text.starts_with(&format!("{late} lopende plaatsingen")), "{}", counted.text);
    }
    let admin = items(Role::Admin).await.unwrap();
    assert_eq!(admin.len(), {
        let mut both: Vec<String> = manager.iter().chain(&finance).map(|i| i.key()).collect();
        both.sort();
        both.dedup();
        both.len()
    });

    // The page shows each role its own list.
    app.login_as(Role::PolicyAdviser).await;
    let (status, page) = app.get_html("/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Klant ") && !page.contains("href=\"/plaatsingen/"), "{page}");
}

/// The calendar address on the settings page just after it was made.
fn calendar_url(page: &str) -> String {
    page.split("<code id=\"agenda-adres\">").nth(1).unwrap().split('<').next().unwrap().to_string()
}

fn day(d: DatePerhapsTime) -> time::Date {
    match d {
        DatePerhapsTime::Date(n) => {
            use chrono::Datelike;
            time::Date::from_calendar_date(n.year(), (n.month() as u8).try_into().unwrap(), n.day() as u8).unwrap()
        }
        other => panic!("an all-day event, not {other:?}"),
    }
}

#[tokio::test]
async fn the_calendar_feed_parses_and_every_event_matches_the_data() {
    let app = demo_app().await;
    app.login_as(Role::Admin).await;
    let (status, settings) = app.get_html("/account/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(settings.contains("Agenda-adres maken"), "{settings}");
    let r = app.post_form("/account/meldingen/agenda", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let url = calendar_url(&r.text().await.unwrap());
    assert!(url.starts_with(&format!("http://{}/agenda/", app.addr)) && url.ends_with(".ics"), "{url}");
    // The secret is the credential: no session needed, and only its hash is stored.
    let anonymous = reqwest::Client::new();
    let r = anonymous.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/calendar; charset=utf-8");
    let body = r.text().await.unwrap();
    let secret = url.rsplit('/').next().unwrap().trim_end_matches(".ics");
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM calendar_feed").fetch_one(&app.db).await.unwrap();
    assert_ne!(stored, secret);
    assert_eq!(stored, taalbudget::web::notifications::secret_hash(secret));

    let calendar: icalendar::Calendar = body.parse().expect("RFC 5545");
    let events: Vec<&icalendar::Event> = calendar.events().collect();
    let today = dates::today();
    let from = today - time::Duration::days(taalbudget::report::calendar::DAYS_BACK);
    let (mut options, mut ends, mut marks, mut actions, mut years) = (0, 0, 0, 0, 0);
    let contracts = store::contracts::list(&app.db).await.unwrap();
    let decisions = store::certifications::all_by_provider(&app.db).await.unwrap();
    for e in &events {
        let uid = e.get_uid().unwrap();
        let start = day(e.get_start().unwrap());
        assert_eq!(day(e.get_end().unwrap()), start.next_day().unwrap(), "{uid}: one whole day");
        assert!(e.get_url().unwrap().starts_with(&format!("http://{}/", app.addr)), "{uid}");
        let parts: Vec<&str> = uid.trim_end_matches("@taalbudget").split('-').collect();
        match parts.as_slice() {
            ["optie", id, "beslisdatum"] => {
                let o =
                    contracts.iter().flat_map(|c| &c.terms.period.options).find(|o| o.id.to_string() == *id).unwrap();
                assert_eq!(o.notice_deadline, start, "{uid}");
                options += 1;
            }
            ["optie", id, "einde"] => {
                let o =
                    contracts.iter().flat_map(|c| &c.terms.period.options).find(|o| o.id.to_string() == *id).unwrap();
                assert_eq!(o.new_end_date, start, "{uid}");
            }
            ["contract", id, "einde"] => {
                let c = contracts.iter().find(|c| c.id.to_string() == *id).unwrap();
                assert_eq!(c.terms.period.current_end(), start, "{uid}");
                ends += 1;
            }
            ["keurmerk", provider, y, m, d, "einde"] => {
                assert_eq!(format!("{y}-{m}-{d}"), dates::iso(start), "{uid}");
                let own = &decisions[&provider.parse::<i64>().unwrap()];
                assert!(taalbudget::domain::certification::holds_valid_mark(own, start));
                assert!(!taalbudget::domain::certification::holds_valid_mark(own, start.next_day().unwrap()));
                marks += 1;
            }
            ["actie", id, "streefdatum"] => {
                let a = store::quality::action(&app.db, id.parse().unwrap()).await.unwrap().unwrap();
                assert_eq!(a.due_date, start, "{uid}");
                assert!(!a.status.is_closed());
                actions += 1;
            }
            ["jaar", y, "afsluiten"] => {
                assert_eq!(dates::iso(start), format!("{}-01-31", y.parse::<i32>().unwrap() + 1));
                years += 1;
            }
            other => panic!("unexpected event {other:?}"),
        }
        assert!(start >= from);
    }
    // And the other way round: every date in the data is in the feed.
    let pending = contracts
        .iter()
        .flat_map(|c| &c.terms.period.options)
        .filter(|o| o.status == taalbudget::domain::contract::OptionStatus::Pending && o.notice_deadline >= from)
        .count();
    assert_eq!(options, pending);
    assert_eq!(ends, contracts.iter().filter(|c| c.terms.period.current_end() >= from).count());
    let open = store::quality::open_actions(&app.db).await.unwrap();
    assert_eq!(actions, open.iter().filter(|a| a.due_date >= from).count());
    assert!(options > 0 && marks > 0 && actions > 0 && years > 0, "{options} {marks} {actions} {years}");
    // UIDs are unique, so a calendar updates each event instead of adding one.
    let mut uids: Vec<&str> = events.iter().map(|e| e.get_uid().unwrap()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), events.len());

    // A new address replaces the old; revoking ends it; a wrong secret is not found.
    let r = app.post_form("/account/meldingen/agenda", &[]).await;
    let second = calendar_url(&r.text().await.unwrap());
    assert_eq!(anonymous.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(anonymous.get(&second).send().await.unwrap().status(), StatusCode::OK);
    let r = app.post_form("/account/meldingen/agenda/intrekken", &[]).await;
    assert_eq!(location(&r), "/account/meldingen?melding=opgeslagen#agenda");
    assert_eq!(anonymous.get(&second).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/agenda/{}.ics", "0".repeat(64))).await.status(), StatusCode::NOT_FOUND);
    assert!(app.audit_count("user").await >= 3);
}

#[tokio::test]
async fn a_deactivated_users_calendar_is_gone_and_the_policy_adviser_gets_no_actions_or_year_close() {
    let app = demo_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let r = app.post_form("/account/meldingen/agenda", &[]).await;
    let url = calendar_url(&r.text().await.unwrap());
    let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let calendar: icalendar::Calendar = body.parse().unwrap();
    let uids: Vec<String> = calendar.events().map(|e| e.get_uid().unwrap().to_string()).collect();
    assert!(uids.iter().any(|u| u.starts_with("optie-")), "{uids:?}");
    assert!(uids.iter().all(|u| !u.starts_with("actie-") && !u.starts_with("jaar-")), "{uids:?}");
    let adviser = store::users::credentials(&app.db, "test-policy_adviser").await.unwrap().unwrap().0;
    store::users::update(&app.db, adviser.id, adviser.version, adviser.role, false, "test").await.unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// One message as the SMTP sink received it.
#[derive(Clone, Debug)]
struct Received {
    from: String,
    to: Vec<String>,
    data: String,
}

/// An SMTP server on port 0 that accepts every message and keeps it: just enough of RFC 5321 for lettre.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let kept = inbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let inbox = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut current = Received { from: String::new(), to: vec![], data: String::new() };
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_uppercase();
                    let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        current.from = line[10..].trim().to_string();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        current.to.push(line[8..].trim().to_string());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            lines.read_line(&mut line).await.unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        current.data = data;
                        inbox.lock().unwrap().push(current.clone());
                        current = Received { from: String::new(), to: vec![], data: String::new() };
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, inbox)
}

fn smtp(port: u16) -> Smtp {
    Smtp {
        host: "127.0.0.1".into(),
        port,
        user: String::new(),
        password: String::new(),
        from: "taalbudget <taalbudget@gemeente.example>".into(),
        tls: SmtpTls::None,
    }
}

/// The decoded text part of a message (quoted-printable, as `notify::message` writes it).
fn text_part(data: &str) -> String {
    let part = data.split("Content-Type: text/plain").nth(1).unwrap();
    let body = part.split_once("\r\n\r\n").unwrap().1.split("\r\n--").next().unwrap();
    let joined = body.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let raw = joined.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'=' && i + 2 < raw.len() {
            bytes.push(u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

fn header<'a>(data: &'a str, name: &str) -> &'a str {
    data.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or("")
}

#[tokio::test]
async fn digests_arrive_once_per_role_with_exactly_what_is_new_and_nothing_for_a_user_who_chose_none() {
    let (port, inbox) = smtp_sink().await;
    let app = spawn_app_with(|c| c.smtp = Some(smtp(port))).await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    let config = app.state.config.clone();
    // A user who chose none, with an address: gets nothing.
    let quiet = app.add_user("stil", Role::ContractManager).await;
    store::notifications::set_email(&app.db, quiet, Some("stil@example.org"), "test").await.unwrap();
    // Monday 7 December 2026 09:00 in Amsterdam: daily and weekly digests are both due (the hour is 7).
    let now = time::macros::datetime!(2026-12-07 08:00 UTC);
    let today = dates::in_amsterdam(now).date();
    let expected: Vec<(String, Role, Vec<notifications::Item>)> = {
        let mut out = Vec::new();
        for (name, role, _) in taalbudget::demo::DEMO_LOGINS {
            let items = notifications::for_role(&app.db, Sources::default(), *role, today).await.unwrap();
            out.push((name.to_string(), *role, items));
        }
        out
    };
    // Two runs at once, as two servers on one database would: each digest is claimed once.
    let (a, b) = tokio::join!(
        notify::run(&app.db, &config, Sources::default(), None, false, now),
        notify::run(&app.db, &config, Sources::default(), None, false, now)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let sent = |o: &[(String, Outcome)]| o.iter().filter(|(_, o)| matches!(o, Outcome::Sent(_))).count();
    assert_eq!(sent(&a) + sent(&b), 4, "{a:?} {b:?}");
    assert!(a.iter().chain(&b).any(|(u, o)| u == "stil" && *o == Outcome::Skipped("geen e-mail gekozen")));
    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 4, "one message per demo user, none for 'stil'");
    let base = notify::base_url(&config);
    for (name, role, items) in &expected {
        let m = received.iter().find(|m| m.to == [format!("<{name}@example.org>")]).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(m.from, "<taalbudget@gemeente.example>");
        let digest = taalbudget::report::digest::compose(name, *role, items, &base, today).unwrap();
        assert_eq!(text_part(&m.data), digest.text, "{name}");
        assert!(m.data.contains("Content-Type: text/html"), "{name}: an HTML part too");
        assert_eq!(header(&m.data, "Subject"), digest.subject, "{name}");
        let text = &digest.text;
        match role {
            Role::ContractManager => assert!(text.contains("Klant ") && text.contains("verlengingsoptie"), "{text}"),
            Role::Finance => assert!(text.contains("grootboekregels nog niet toegerekend") && !text.contains("Klant")),
            Role::PolicyAdviser => assert!(!text.contains("Klant ") && text.contains("lopende plaatsingen")),
            Role::Admin => assert!(text.contains("Klant ") && text.contains("grootboekregels")),
        }
    }

    // A restart (or a run an hour later) in the same period sends nothing again.
    let later =
        notify::run(&app.db, &config, Sources::default(), None, false, now + time::Duration::hours(1)).await.unwrap();
    assert_eq!(sent(&later), 0, "{later:?}");
    assert_eq!(inbox.lock().unwrap().len(), 4);
    // The next day's daily digest has nothing new to say: nothing is sent.
    let tomorrow = now + time::Duration::days(1);
    let next = notify::run(&app.db, &config, Sources::default(), None, false, tomorrow).await.unwrap();
    assert!(next.iter().any(|(u, o)| u == "contractmanager" && *o == Outcome::Empty), "{next:?}");
    assert!(next.iter().any(|(u, o)| u == "beleid" && matches!(o, Outcome::Skipped(_))), "weekly: {next:?}");
    assert_eq!(inbox.lock().unwrap().len(), 4);
    // Something new (a larger queue) is told the next time, and only that.
    let (lines, _) = store::attribution::queue_size(&app.db).await.unwrap();
    import_ledger(&app, &[ledger_line("2026-11-30", "ONBEKEND", "999999", "niet toe te rekenen", 1000)]).await;
    assert_eq!(store::attribution::queue_size(&app.db).await.unwrap().0, lines + 1);
    let forced = notify::run(&app.db, &config, Sources::default(), Some("financien"), true, tomorrow).await.unwrap();
    assert_eq!(forced, vec![("financien".to_string(), Outcome::Sent(1))]);
    let last = inbox.lock().unwrap().last().unwrap().clone();
    assert!(
        text_part(&last.data).contains(&format!("- [ter informatie] {} grootboekregels", lines + 1)),
        "{}",
        last.data
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_up_to_the_limit_and_shown_to_admins() {
    // A port nobody listens on: bound, then closed again.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_app_with(|c| c.smtp = Some(smtp(port))).await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    let config = app.state.config.clone();
    let now = time::macros::datetime!(2026-12-07 08:00 UTC);
    for attempt in 1..=notify::MAX_ATTEMPTS {
        let out = notify::run(&app.db, &config, Sources::default(), Some("financien"), false, now).await.unwrap();
        match &out[0].1 {
            Outcome::Failed { attempt: a, error } => {
                assert_eq!(*a, attempt);
                assert!(!error.is_empty());
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    let out = notify::run(&app.db, &config, Sources::default(), Some("financien"), false, now).await.unwrap();
    assert!(matches!(out[0].1, Outcome::Skipped(_)), "no fourth attempt: {out:?}");
    app.login_as(Role::Admin).await;
    let (status, page) = app.get_html("/beheer/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    let failed = page.split("<h2>Mislukt</h2>").nth(1).unwrap().split("<h2>").next().unwrap();
    assert!(failed.contains("1 overzicht die niet verstuurd konden worden"), "{failed}");
    assert!(
        failed.contains(">financien</th>") && failed.contains("3 van 3") && failed.contains("2026-12-07"),
        "{failed}"
    );
    let (_, admin) = app.get_html("/beheer").await;
    assert!(admin.contains("href=\"/beheer/meldingen\""));
    // The admins hear of it among their notifications.
    let (_, list) = app.get_html("/meldingen").await;
    assert!(list.contains("<a href=\"/beheer/meldingen\">1 e-mail met meldingen niet verstuurd"), "{list}");
}

#[tokio::test]
async fn serve_sends_the_digests_on_schedule() {
    let (port, inbox) = smtp_sink().await;
    let app = spawn_app_with(|c| {
        c.smtp = Some(smtp(port));
        c.digest_hour = 0;
        c.digest_interval = std::time::Duration::from_millis(200);
    })
    .await;
    let id = app.add_user("dagelijks", Role::Finance).await;
    store::notifications::set_email(&app.db, id, Some("dagelijks@example.org"), "test").await.unwrap();
    // Something to say: one ledger line nobody attributed.
    import_ledger(&app, &[ledger_line("2026-11-30", "ONBEKEND", "999999", "niet toe te rekenen", 12345)]).await;
    store::notifications::set_digest(&app.db, id, DigestChoice::Daily, "test").await.unwrap();
    for _ in 0..100 {
        if !inbox.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(text_part(&received[0].data).contains("1 grootboekregel nog niet toegerekend, samen € 123,45."));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(inbox.lock().unwrap().len(), 1, "one digest per day, however often the server looks");
}

#[tokio::test]
async fn the_user_chooses_the_digest_on_the_account_page_and_the_admin_sets_the_address() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let r = app
        .post_form(
            "/beheer/gebruikers",
            &[
                ("username", "nieuw"),
                ("role", "finance"),
                ("email", "geen adres"),
                ("password", "lang-genoeg-wachtwoord"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("is geen e-mailadres"));
    let r = app
        .post_form(
            "/beheer/gebruikers",
            &[
                ("username", "nieuw"),
                ("role", "finance"),
                ("email", "nieuw@example.org"),
                ("password", "lang-genoeg-wachtwoord"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = crate::helpers::id_from(&location(&r), "/beheer/gebruikers/");
    let s = store::notifications::settings(&app.db, id).await.unwrap().unwrap();
    assert_eq!((s.email.as_deref(), s.digest), (Some("nieuw@example.org"), DigestChoice::None));

    let user = app.other_browser();
    user.login("nieuw", "lang-genoeg-wachtwoord").await;
    let (status, page) = user.get_html("/account/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<strong>nieuw@example.org</strong>"), "{page}");
    let r = user.post_form("/account/meldingen", &[("digest", "maandelijks")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = user.post_form("/account/meldingen", &[("digest", "weekly")]).await;
    assert_eq!(location(&r), "/account/meldingen?melding=opgeslagen");
    assert_eq!(store::notifications::settings(&app.db, id).await.unwrap().unwrap().digest, DigestChoice::Weekly);
    let (_, page) = user.get_html("/account/meldingen").await;
    assert!(page.contains("value=\"weekly\" checked"), "{page}");
}

fn cli(db: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("TAALBUDGET_PASSWORD", "lang-genoeg-wachtwoord")
        .env_remove("TAALBUDGET_SMTP_HOST")
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn the_command_line_adds_an_address_previews_each_digest_and_refuses_to_send_without_a_mail_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    assert_eq!(cli(&db, &["demo"]).0, 0);
    let (code, _, err) = cli(&db, &["user", "add", "--username", "kim", "--role", "finance", "--email", "geen adres"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is geen e-mailadres"), "{err}");
    let (code, out, err) =
        cli(&db, &["user", "add", "--username", "kim", "--role", "finance", "--email", "kim@example.org"]);
    assert_eq!(code, 0, "{out}{err}");

    // Every demo user with the digest they would get; kim chose none (the default).
    let (code, out, err) = cli(&db, &["notify", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    for (name, role, _) in taalbudget::demo::DEMO_LOGINS {
        assert!(out.contains(&format!("== {name} ({}, {name}@example.org)", role.label())), "{name}: {out}");
    }
    assert!(out.contains("== kim (Financieel medewerker, kim@example.org), geen e-mail: geen e-mail gekozen"), "{out}");
    assert!(out.contains("Onderwerp: taalbudget: "), "{out}");
    let (code, one, _) = cli(&db, &["notify", "--dry-run", "--user", "financien"]);
    assert_eq!(code, 0);
    assert!(one.starts_with("== financien ") && !one.contains("== beheerder"), "{one}");
    assert!(one.contains("grootboekregels nog niet toegerekend"), "{one}");
    // A dry run records nothing.
    let (code, again, _) = cli(&db, &["notify", "--dry-run", "--user", "financien"]);
    assert_eq!((code, again), (0, one));

    let (code, _, err) = cli(&db, &["notify", "--user", "niemand"]);
    assert_eq!(code, 2);
    assert!(err.contains("geen actieve gebruiker 'niemand'"), "{err}");
    let (code, _, err) = cli(&db, &["notify", "--now"]);
    assert_eq!(code, 2);
    assert!(err.contains("geen mailserver ingesteld"), "{err}");
}
