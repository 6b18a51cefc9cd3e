//! Notifications in the app: the page `/meldingen` (each item markable as seen), the user's own settings on
//! `/account/meldingen` (digest choice, secret calendar address) and the calendar feed itself.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::forms::Field;
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::{Permission, Role};
use crate::auth::CurrentUser;
use crate::domain::dates;
use crate::domain::validation::FieldErrors;
use crate::domain::words::count;
use crate::error::{AppError, AppResult};
use crate::report::notifications::{self, Item, Sources};
use crate::store;
use crate::store::notifications::DigestChoice;

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/meldingen", Permission::Read, list)
        .post("/meldingen/gezien", Permission::Read, mark_seen)
        .get("/account/meldingen", Permission::SignedIn, settings)
        .post("/account/meldingen", Permission::SignedIn, save_settings)
        .post("/account/meldingen/agenda", Permission::SignedIn, new_calendar)
        .post("/account/meldingen/agenda/intrekken", Permission::SignedIn, revoke_calendar)
        .get("/agenda/{secret}", Permission::Public, calendar_feed)
        .get("/beheer/meldingen", Permission::Admin, digest_log)
}

/// How many digests the admins' overview lists.
const DIGEST_LOG: i64 = 100;

/// For admins: the digests that failed (with their error and attempts), and the most recent ones.
async fn digest_log(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    let failed = store::notifications::digests(&state.db, true, DIGEST_LOG).await?;
    let recent = store::notifications::digests(&state.db, false, DIGEST_LOG).await?;
    let configured = state.config.smtp.as_ref().map(|s| format!("{}:{}", s.host, s.port));
    Ok(render_digest_log(&chrome, configured.as_deref(), &failed, &recent))
}

fn digest_table(caption: &str, rows: &[store::notifications::DigestRow]) -> Markup {
    let status = |s: &str| match s {
        "sent" => "verstuurd",
        "empty" => "niets te melden",
        "sending" => "wordt verstuurd (of onderbroken)",
        _ => "mislukt",
    };
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Gebruiker" } th scope="col" { "Periode" } th scope="col" { "Stand" }
                th.num scope="col" { "Pogingen" } th.num scope="col" { "Meldingen" } th scope="col" { "Tijdstip" } th scope="col" { "Fout" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        th scope="row" { (r.username) }
                        td { (r.period) }
                        td { @if r.status == "failed" { strong { (status(&r.status)) } } @else { (status(&r.status)) } }
                        td.num { (r.attempts) " van " (crate::notify::MAX_ATTEMPTS) }
                        td.num { (r.items) }
                        td { (dates::display_timestamp(r.sent_at.as_deref().unwrap_or(&r.claimed_at))) }
                        td { (r.last_error.as_deref().unwrap_or("—")) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="7" { "Geen." } } }
            }
        }
    }
}

fn render_digest_log(
    chrome: &Chrome,
    configured: Option<&str>,
    failed: &[store::notifications::DigestRow],
    recent: &[store::notifications::DigestRow],
) -> Markup {
    chrome.page(
        "E-mail met meldingen",
        html! {
            p.breadcrumb { a href="/beheer" { "Beheer" } }
            h1 { "E-mail met meldingen" }
            p {
                @match configured {
                    Some(server) => { "Mailserver: " (server) ". Elk overzicht wordt één keer verstuurd; een mislukte verzending wordt tot " (crate::notify::MAX_ATTEMPTS) " keer geprobeerd." }
                    None => { "Er is geen mailserver ingesteld (smtp_host): er wordt geen e-mail verstuurd." }
                }
            }
            h2 { "Mislukt" }
            (digest_table(&format!("{} die niet verstuurd konden worden", count(failed.len(), "overzicht", "overzichten")), failed))
            h2 { "Laatste overzichten" }
            (digest_table(&format!("De laatste {DIGEST_LOG}, nieuwste eerst"), recent))
        },
    )
}

/// How many items the start page shows before "alle meldingen".
pub const ON_START_PAGE: usize = 5;

/// The items for a user, split into those not seen yet and those seen, each most urgent first.
pub struct Split {
    pub new: Vec<Item>,
    pub seen: Vec<Item>,
}

/// What needs the user's attention now, as the start page and `/meldingen` show it.
pub async fn for_user(state: &AppState, user: &CurrentUser) -> AppResult<Split> {
    let sources = Sources { signals: Some(&state.signals_cache), commitments: Some(&state.commitments_cache) };
    let items = notifications::for_role(&state.db, sources, user.role, dates::today()).await?;
    let levels = store::notifications::seen(&state.db, user.id).await?;
    let (seen, new) = items.into_iter().partition(|i| i.known(&levels));
    Ok(Split { new, seen })
}

/// One item as a list entry: urgency in words, the text as a link, the date.
fn item_line(i: &Item) -> Markup {
    html! {
        span.status.(i.urgency.css_class()) { (i.urgency.label()) }
        " "
        a href=(i.link) { (i.text) }
    }
}

/// The start page's short list: the most urgent items not seen yet.
pub fn start_page_list(split: &Split) -> Markup {
    html! {
        section aria-labelledby="meldingen-titel" {
            h2 #meldingen-titel { "Meldingen" }
            @if split.new.is_empty() {
                p { "Geen nieuwe meldingen." }
            } @else {
                ul.notifications {
                    @for i in split.new.iter().take(ON_START_PAGE) { li { (item_line(i)) } }
                }
            }
            p { a href="/meldingen" { "Alle meldingen (" (split.new.len()) " nieuw, " (split.seen.len()) " gezien)" } }
        }
    }
}

async fn list(chrome: Chrome, user: CurrentUser, State(state): State<AppState>) -> AppResult<Markup> {
    let split = for_user(&state, &user).await?;
    Ok(render_list(&chrome, user.role, &split))
}

fn items_table(chrome: &Chrome, caption: &str, items: &[Item], markable: bool) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Urgentie" }
                th scope="col" { "Melding" }
                th scope="col" { "Datum" }
                @if markable { th scope="col" { "Actie" } }
            } }
            tbody {
                @for i in items {
                    tr {
                        td { span.status.(i.urgency.css_class()) { (i.urgency.label()) } }
                        th scope="row" { a href=(i.link) { (i.text) } }
                        td { @if let Some(d) = i.due { (dates::display(d)) } @else { "—" } }
                        @if markable {
                            td {
                                form method="post" action="/meldingen/gezien" {
                                    (chrome.csrf_field())
                                    input type="hidden" name="onderwerp" value=(i.subject);
                                    input type="hidden" name="niveau" value=(i.level);
                                    button.secondary type="submit" { "Gezien" span.visually-hidden { ": " (i.text) } }
                                }
                            }
                        }
                    }
                }
                @if items.is_empty() { tr { td colspan=(if markable { 4 } else { 3 }) { "Geen meldingen." } } }
            }
        }
    }
}

fn render_list(chrome: &Chrome, role: Role, split: &Split) -> Markup {
    chrome.page(
        "Meldingen",
        html! {
            h1 { "Meldingen" }
            p.lead { "Wat voor uw rol (" (role.label().to_lowercase()) ") aandacht nodig heeft, het dringendste eerst. Stand van " (dates::display(dates::today())) "." }
            p { "Een melding die u als gezien markeert, komt terug zodra ze dringender wordt (bijvoorbeeld 30 in plaats van 60 dagen voor een besluitdatum). "
                a href="/account/meldingen" { "E-mail en agenda instellen" } }
            @if !split.new.is_empty() {
                form method="post" action="/meldingen/gezien" {
                    (chrome.csrf_field())
                    input type="hidden" name="alles" value="ja";
                    button.secondary type="submit" { "Alle nieuwe meldingen als gezien markeren" }
                }
            }
            h2 #nieuw { "Nieuw" }
            (items_table(chrome, &format!("{} nog niet gezien", count(split.new.len(), "melding", "meldingen")), &split.new, true))
            h2 #gezien { "Gezien" }
            (items_table(chrome, &format!("{} al gezien, nog steeds van kracht", count(split.seen.len(), "melding", "meldingen")), &split.seen, false))
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SeenForm {
    onderwerp: String,
    niveau: i64,
    alles: String,
}

/// Marks one item, or all new ones, as seen. Only items the user is shown now can be marked: the server
/// computes them again, so a posted subject cannot plant anything else.
async fn mark_seen(
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<SeenForm>,
) -> AppResult<Response> {
    let split = for_user(&state, &user).await?;
    let chosen: Vec<(String, i64)> = split
        .new
        .iter()
        .filter(|i| form.alles == "ja" || (i.subject == form.onderwerp && i.level == form.niveau))
        .map(|i| (i.subject.clone(), i.level))
        .collect();
    if chosen.is_empty() {
        // Already seen, or no longer current: nothing to do, and no reason to refuse.
        return Ok(Redirect::to("/meldingen?melding=gezien").into_response());
    }
    store::notifications::mark_seen(&state.db, user.id, &chosen, user.actor()).await?;
    Ok(Redirect::to("/meldingen?melding=gezien#nieuw").into_response())
}

/// The user's notification settings page: the digest, the e-mail address it goes to, the calendar address.
struct SettingsPage {
    settings: store::notifications::Settings,
    calendar_since: Option<String>,
    /// A calendar address made just now: shown once, never again (only its hash is kept).
    new_url: Option<String>,
    mail_configured: bool,
}

async fn load_settings(state: &AppState, user: &CurrentUser) -> AppResult<SettingsPage> {
    let settings = store::notifications::settings(&state.db, user.id).await?.ok_or(AppError::NotFound)?;
    let calendar_since = store::notifications::calendar_created(&state.db, user.id).await?;
    Ok(SettingsPage { settings, calendar_since, new_url: None, mail_configured: state.config.smtp.is_some() })
}

async fn settings(chrome: Chrome, user: CurrentUser, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_settings(&chrome, &load_settings(&state, &user).await?, &FieldErrors::new()))
}

fn render_settings(chrome: &Chrome, page: &SettingsPage, errors: &FieldErrors) -> Markup {
    let choices: Vec<(&str, &str)> = DigestChoice::ALL.iter().map(|c| (c.code(), c.label())).collect();
    chrome.page(
        "Meldingen en agenda",
        html! {
            p.breadcrumb { a href="/account" { "Mijn account" } }
            h1 { "Meldingen en agenda" }
            h2 { "E-mail met meldingen" }
            p { "Een overzicht per e-mail van wat nieuw of dringender is sinds het vorige overzicht, met een link naar taalbudget. Is er niets te melden, dan krijgt u geen e-mail." }
            p {
                "Uw e-mailadres: "
                @match &page.settings.email {
                    Some(e) => { strong { (e) } }
                    None => { strong { "geen" } " (de beheerder stelt het in)" }
                }
            }
            @if !page.mail_configured { p.hint { "Op deze installatie is nog geen mailserver ingesteld; uw keuze geldt zodra dat gebeurt." } }
            form method="post" action="/account/meldingen" novalidate {
                (chrome.csrf_field())
                (Field::new("digest", "Hoe vaak wilt u het overzicht?", page.settings.digest.code(), errors).radios(&choices))
                button type="submit" { "Opslaan" }
            }
            h2 #agenda { "Agenda" }
            p { "Een geheim agenda-adres met de datums van uw rol als hele-dag-afspraken (besluitdatums van opties, einddatums van contracten en keurmerken, streefdatums van verbeterpunten, de jaarafsluiting). Abonneer u erop in Outlook of Google Agenda. Wie het adres kent, kan de agenda lezen: deel het niet. Deelnemergegevens staan er nooit in." }
            @if let Some(url) = &page.new_url {
                div.notice role="status" {
                    p { "Uw nieuwe agenda-adres (het wordt maar één keer getoond; bewaar het nu):" }
                    p { code #agenda-adres { (url) } }
                }
            }
            @match &page.calendar_since {
                Some(since) => {
                    p { "U hebt een agenda-adres sinds " (dates::display_timestamp(since)) "." }
                    div.actions {
                        form method="post" action="/account/meldingen/agenda" {
                            (chrome.csrf_field())
                            button type="submit" { "Nieuw adres maken (het oude werkt dan niet meer)" }
                        }
                        form method="post" action="/account/meldingen/agenda/intrekken" {
                            (chrome.csrf_field())
                            button.danger type="submit" { "Agenda-adres intrekken" }
                        }
                    }
                }
                None => {
                    form method="post" action="/account/meldingen/agenda" {
                        (chrome.csrf_field())
                        button type="submit" { "Agenda-adres maken" }
                    }
                }
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    digest: String,
}

async fn save_settings(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    let Some(choice) = DigestChoice::parse(&form.digest) else {
        let mut errors = FieldErrors::new();
        errors.add("digest", "Kies elke dag, elke week of geen e-mail.");
        let page = load_settings(&state, &user).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render_settings(&chrome, &page, &errors)).into_response());
    };
    store::notifications::set_digest(&state.db, user.id, choice, user.actor()).await?;
    Ok(Redirect::to("/account/meldingen?melding=opgeslagen").into_response())
}

/// The SHA-256 of a calendar secret, as stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new calendar secret: 32 random bytes, hex (URL-safe, and too long to guess).
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The public address of a path: the configured base URL, else the address this request came in on.
fn public_url(state: &AppState, host: Option<&str>, path: &str) -> String {
    match &state.config.base_url {
        Some(base) => format!("{base}{path}"),
        None => format!("http://{}{}{path}", host.unwrap_or("localhost"), state.config.path_prefix),
    }
}

async fn new_calendar(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> AppResult<Markup> {
    let secret = new_secret();
    store::notifications::set_calendar(&state.db, user.id, &secret_hash(&secret), user.actor()).await?;
    let mut page = load_settings(&state, &user).await?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    page.new_url = Some(public_url(&state, host, &format!("/agenda/{secret}.ics")));
    Ok(render_settings(&chrome, &page, &FieldErrors::new()))
}

async fn revoke_calendar(user: CurrentUser, State(state): State<AppState>) -> AppResult<Response> {
    store::notifications::revoke_calendar(&state.db, user.id, user.actor()).await?;
    Ok(Redirect::to("/account/meldingen?melding=opgeslagen#agenda").into_response())
}

/// The calendar of the user whose secret this is; any other secret, and a deactivated user's, is not found.
async fn calendar_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let secret = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let owner =
        store::notifications::calendar_owner(&state.db, &secret_hash(secret)).await?.ok_or(AppError::NotFound)?;
    let events = crate::report::calendar::events(&state.db, owner.role, dates::today()).await?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let body = ics(&events, &public_url(&state, host, ""));
    Ok(([(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CACHE_CONTROL, "private, no-store")], body)
        .into_response())
}

/// The events as an iCalendar file (RFC 5545): all-day events with stable UIDs.
pub fn ics(events: &[crate::report::calendar::CalendarEvent], base: &str) -> String {
    use icalendar::{Calendar, Component, EventLike};
    let mut calendar = Calendar::new();
    calendar.name("taalbudget").description("Datums uit taalbudget");
    for e in events {
        let url = format!("{base}{}", e.link);
        let day = naive(e.date);
        // DTEND is exclusive (RFC 5545, 3.6.1): an all-day event ends at the start of the next day.
        let next = naive(e.date.next_day().unwrap_or(e.date));
        calendar.push(
            icalendar::Event::new()
                .uid(&e.uid)
                .summary(&e.summary)
                .description(&format!("{}\n{url}", e.description))
                .url(&url)
                .starts(day)
                .ends(next)
                .done(),
        );
    }
    calendar.done().to_string()
}

fn naive(d: time::Date) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(d.year(), d.month() as u32, d.day() as u32).expect("a valid date is a valid date")
}
