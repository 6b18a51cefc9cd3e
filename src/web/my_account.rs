//! "Mijn account": who you are, your own password, and your personal API tokens (make one, see them, revoke one).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

use super::account::{FAILURE_WINDOW_SECS, MAX_FAILURES};
use super::forms::{error_summary, error_summary_for, Field};
use super::proxy::ClientAddr;
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::{password, password_problem, session, CurrentUser};
use crate::domain::dates;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::store::tokens::{self, TokenError, TokenInfo, DEFAULT_DAYS, MAX_DAYS, MAX_NAME_CHARS};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/account", Permission::SignedIn, account)
        .get("/account/wachtwoord", Permission::SignedIn, password_form)
        .post("/account/wachtwoord", Permission::SignedIn, change_password)
        .post("/account/tokens", Permission::SignedIn, create_token)
        .post("/account/tokens/{id}/intrekken", Permission::SignedIn, revoke_token)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct TokenForm {
    name: String,
    days: String,
}

impl TokenForm {
    fn fresh() -> Self {
        TokenForm { name: String::new(), days: DEFAULT_DAYS.to_string() }
    }
}

async fn account(chrome: Chrome, user: CurrentUser, State(state): State<AppState>) -> AppResult<Markup> {
    let mine = tokens::for_user(&state.db, user.id).await?;
    Ok(account_page(&chrome, &user, &mine, &TokenForm::fresh(), &FieldErrors::new()))
}

const FORM: &str = "token";
const LABELS: &[(&str, &str)] = &[("name", "Naam van het token"), ("days", "Geldig (dagen)")];

fn account_page(
    chrome: &Chrome,
    user: &CurrentUser,
    mine: &[TokenInfo],
    form: &TokenForm,
    errors: &FieldErrors,
) -> Markup {
    chrome.page(
        "Mijn account",
        html! {
            h1 { "Mijn account" }
            dl.facts {
                dt { "Gebruikersnaam" } dd { (user.username) }
                dt { "Rol" } dd { (user.role.label()) }
            }
            h2 { "Wachtwoord" }
            p { a href="/account/wachtwoord" { "Wachtwoord wijzigen" } }

            h2 #api-tokens { "API-tokens" }
            p { "Met een API-token leest of schrijft een script gegevens via de API (" code { "/api/v1" } "), met uw rol ("
                (user.role.label()) "). Het script stuurt het token mee in de kop " code { "Authorization: Bearer …" } ". "
                "Een token werkt niet meer als het verloopt, als u het intrekt, of als uw rol verandert of uw account wordt gedeactiveerd." }
            (token_table(chrome, mine, dates::today(), TokenOwner::Me))

            h3 #nieuw-token { "Nieuw token maken" }
            (error_summary_for(FORM, errors, LABELS))
            form method="post" action="/account/tokens" novalidate {
                (chrome.csrf_field())
                (Field::new("name", LABELS[0].1, &form.name, errors).in_form(FORM).required()
                    .hint("Waarvoor het token dient, bijvoorbeeld ‘dashboard BI-team’; hoogstens 100 tekens.").text())
                (Field::new("days", LABELS[1].1, &form.days, errors).in_form(FORM).required()
                    .hint("1 tot en met 365 dagen; het token werkt tot en met de laatste dag.").input("number"))
                button type="submit" { "Token maken" }
            }

            h2 #meldingen { "Meldingen en agenda" }
            p { a href="/account/meldingen" { "Meldingen en agenda instellen" } }
        },
    )
}

/// Whose tokens a table shows, which decides the revoke button's route and whether the user column appears.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TokenOwner {
    /// The signed-in user's own tokens, on the account page.
    Me,
    /// Another user's tokens, on their page in Beheer.
    Admin,
}

/// A token's state in one word or phrase, and the class that colours it (the words carry the meaning).
pub fn token_status(t: &TokenInfo, today: Date) -> (&'static str, &'static str) {
    match t.not_working(today) {
        None => ("werkt", "status-ok"),
        Some(why) => (why, "status-bad"),
    }
}

pub fn token_table(chrome: &Chrome, list: &[TokenInfo], today: Date, owner: TokenOwner) -> Markup {
    html! {
        @if list.is_empty() {
            p { "Er zijn nog geen API-tokens." }
        } @else {
            table {
                caption { (crate::domain::words::count(list.len(), "API-token", "API-tokens")) }
                thead { tr {
                    th scope="col" { "Naam" } th scope="col" { "Begint met" } th scope="col" { "Gemaakt" }
                    th scope="col" { "Geldig tot en met" } th scope="col" { "Laatst gebruikt" } th scope="col" { "Status" }
                    th scope="col" { span.visually-hidden { "Actie" } }
                } }
                tbody {
                    @for t in list {
                        @let (words, class) = token_status(t, today);
                        tr {
                            th scope="row" { (t.name) }
                            td { code { (t.prefix) "…" } }
                            td { (dates::display_timestamp(&t.created_at)) }
                            td { (dates::parse_iso(&t.expires_on).map(dates::display).unwrap_or_else(|| t.expires_on.clone())) }
                            td { @match &t.last_used_at { Some(at) => (dates::display_timestamp(at)), None => "nooit" } }
                            td { span.status.(class) { (words) } }
                            td {
                                @if t.revoked_at.is_none() {
                                    @let action = match owner {
                                        TokenOwner::Me => format!("/account/tokens/{}/intrekken", t.id),
                                        TokenOwner::Admin => format!("/beheer/tokens/{}/intrekken", t.id),
                                    };
                                    form.inline method="post" action=(action) {
                                        (chrome.csrf_field())
                                        button.danger type="submit" aria-label={"Token " (t.name) " intrekken"} { "Intrekken" }
                                    }
                                } @else if let Some(by) = &t.revoked_by {
                                    "door " (by)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn create_token(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.add("name", "Geef het token een naam, zodat u het later herkent.");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.add("name", format!("Een naam heeft hoogstens {MAX_NAME_CHARS} tekens (nu {}).", name.chars().count()));
    }
    let days = match form.days.trim().parse::<i64>() {
        Ok(d) if (1..=MAX_DAYS).contains(&d) => Some(d),
        Ok(d) => {
            errors.add("days", format!("Een token is 1 tot en met {MAX_DAYS} dagen geldig (u vroeg {d})."));
            None
        }
        Err(_) => {
            errors.add("days", format!("Vul een aantal dagen in: een heel getal van 1 tot en met {MAX_DAYS}."));
            None
        }
    };
    if let (true, Some(days)) = (errors.is_empty(), days) {
        match tokens::create(&state.db, user.id, name, days, user.actor()).await {
            Ok(made) => {
                let base = state.config.base_url.as_deref().unwrap_or("https://…");
                return Ok(secret_page(&chrome, name, &made.secret, made.expires_on, base));
            }
            Err(TokenError::Name) => errors.add("name", TokenError::Name.to_string()),
            Err(TokenError::Days(d)) => errors.add("days", TokenError::Days(d).to_string()),
            Err(e) => return Err(token_error(e)),
        }
    }
    let mine = tokens::for_user(&state.db, user.id).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, account_page(&chrome, &user, &mine, &form, &errors)).into_response())
}

/// The one page that shows a secret: the answer to the POST itself, never a redirect (a secret in a URL
/// ends up in history and logs), and not stored by the browser or anything in between.
fn secret_page(chrome: &Chrome, name: &str, secret: &str, expires_on: Date, base: &str) -> Response {
    let page = chrome.page(
        "Token gemaakt",
        html! {
            p.breadcrumb { a href="/account" { "Mijn account" } }
            h1 { "Token ‘" (name) "’ gemaakt" }
            div.notice.warning role="alert" {
                strong { "Kopieer het token nu. " }
                "Het wordt niet opnieuw getoond: taalbudget bewaart alleen een controlegetal, niet het token zelf. "
                "Kwijt? Trek het in en maak een nieuw."
            }
            div.field {
                label for="secret" { "Uw API-token" }
                p.hint id="secret-hint" { "Geldig tot en met " (dates::display(expires_on)) ". Bewaar het zoals een wachtwoord." }
                input type="text" id="secret" value=(secret) readonly aria-describedby="secret-hint" autocomplete="off" spellcheck="false" size="70";
            }
            h2 { "Gebruiken" }
            p { "Stuur het token mee in de kop " code { "Authorization" } ", bijvoorbeeld:" }
            pre { "curl -H \"Authorization: Bearer " (secret) "\" " (base.trim_end_matches('/')) "/api/v1/ocds/releases" }
            p { a href="/account#api-tokens" { "Terug naar Mijn account" } }
        },
    );
    let mut response = page.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn revoke_token(user: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Redirect> {
    // Someone else's token answers as a missing one: its number says nothing about whether it exists.
    let token = tokens::get(&state.db, id).await?.filter(|t| t.user_id == user.id).ok_or(AppError::NotFound)?;
    tokens::revoke(&state.db, token.id, user.actor()).await.map_err(token_error)?;
    Ok(Redirect::to("/account?melding=token-ingetrokken#api-tokens"))
}

pub fn token_error(e: TokenError) -> AppError {
    match e {
        TokenError::NotFound => AppError::NotFound,
        TokenError::Db(e) => e.into(),
        other => AppError::Conflict(other.to_string()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

const PASSWORD_LABELS: &[(&str, &str)] =
    &[("current", "Huidig wachtwoord"), ("new", "Nieuw wachtwoord"), ("repeat", "Nieuw wachtwoord nog eens")];

async fn password_form(chrome: Chrome) -> Markup {
    password_page(&chrome, &FieldErrors::new())
}

/// Passwords are never sent back into the form: after an error every field is typed again.
fn password_page(chrome: &Chrome, errors: &FieldErrors) -> Markup {
    chrome.page(
        "Wachtwoord wijzigen",
        html! {
            p.breadcrumb { a href="/account" { "Mijn account" } }
            h1 { "Wachtwoord wijzigen" }
            p { "Na het wijzigen blijft u hier ingelogd; elders (een andere browser of computer) moet u opnieuw inloggen. Uw API-tokens blijven werken." }
            (error_summary(errors, PASSWORD_LABELS))
            form method="post" action="/account/wachtwoord" novalidate {
                (chrome.csrf_field())
                (Field::new("current", PASSWORD_LABELS[0].1, "", errors).required().input("password"))
                (Field::new("new", PASSWORD_LABELS[1].1, "", errors).required().hint("Minstens 12 tekens.").input("password"))
                (Field::new("repeat", PASSWORD_LABELS[2].1, "", errors).required().input("password"))
                button type="submit" { "Wachtwoord wijzigen" }
            }
        },
    )
}

/// Changes the signed-in user's own password after checking the current one. Wrong current passwords count as
/// failed logins of that user from that address, so a session left open cannot be used to guess faster than
/// the login page allows.
async fn change_password(
    chrome: Chrome,
    user: CurrentUser,
    client: ClientAddr,
    session: tower_sessions::Session,
    State(state): State<AppState>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let address = client.0.to_string();
    let failures =
        crate::store::users::recent_failures(&state.db, &user.username, &address, FAILURE_WINDOW_SECS).await?;
    if failures.pair >= MAX_FAILURES {
        return Err(AppError::TooManyRequests(
            "Te vaak een onjuist huidig wachtwoord. Wacht 15 minuten en probeer het dan opnieuw, of vraag de beheerder om hulp"
                .into(),
        ));
    }
    let (_, stored) =
        crate::store::users::credentials_by_id(&state.db, user.id).await?.ok_or(AppError::Unauthorized)?;
    let mut errors = FieldErrors::new();
    if !password::verify(form.current.clone(), Some(stored)).await {
        crate::store::users::record_attempt(&state.db, &user.username, &address, false).await?;
        errors.add("current", "Dit is niet uw huidige wachtwoord.");
    }
    if let Some(p) = password_problem(&form.new) {
        errors.add("new", p);
    }
    if form.repeat != form.new {
        errors.add("repeat", "De twee nieuwe wachtwoorden zijn niet gelijk.");
    }
    if !errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, password_page(&chrome, &errors)).into_response());
    }
    let hash = password::hash(form.new).await?;
    crate::store::users::set_password(&state.db, user.id, &hash, user.actor()).await.map_err(|e| match e {
        crate::store::users::UserError::Db(e) => AppError::from(e),
        _ => AppError::NotFound,
    })?;
    // Other sessions end at their next request (they carry the old hash); this one goes on.
    session::restamp(&session, &hash).await.map_err(|e| AppError::Internal(anyhow::anyhow!("sessie: {e}")))?;
    Ok(Redirect::to("/account?melding=wachtwoord").into_response())
}
