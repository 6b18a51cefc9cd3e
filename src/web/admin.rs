//! Administration: users (create, role, deactivate, reset password) and the audit log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{checkbox, error_summary, Field};
use super::my_account::{token_error, token_table, TokenOwner};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::history::history_kind;
use crate::auth::roles::{Permission, Role};
use crate::auth::{password, password_problem, CurrentUser};
use crate::domain::dates;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::report::safe_csv::{Cell, CsvWriter};
use crate::store;
use crate::store::audit::{self, AuditFilter, AuditPeriod, AuditRow};
use crate::store::tokens::{self, TokenInfo};
use crate::store::users::{self, User, UserError};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/beheer", Permission::Admin, index)
        .get("/beheer/gebruikers", Permission::Admin, user_list)
        .post("/beheer/gebruikers", Permission::Admin, create_user)
        .get("/beheer/gebruikers/{id}", Permission::Admin, user_detail)
        .post("/beheer/gebruikers/{id}", Permission::Admin, update_user)
        .post("/beheer/gebruikers/{id}/wachtwoord", Permission::Admin, reset_password)
        .post("/beheer/tokens/{id}/intrekken", Permission::Admin, revoke_token)
        .get("/beheer/audit", Permission::Admin, audit_page)
        .get("/beheer/audit.csv", Permission::Admin, audit_csv)
        .get("/historie/{entity}/{id}", Permission::Read, entity_history)
}

async fn index(chrome: Chrome) -> Markup {
    chrome.page(
        "Beheer",
        html! {
            h1 { "Beheer" }
            ul {
                li { a href="/beheer/gebruikers" { "Gebruikers en rollen" } }
                li { a href="/beheer/audit" { "Auditlog: wie wijzigde wat en wanneer" } }
                li { a href="/beheer/backups" { "Back-ups: maken, downloaden en de laatste back-up" } }
                li { a href="/beheer/meldingen" { "E-mail met meldingen: wat is verstuurd en wat mislukte" } }
            }
        },
    )
}

fn role_options() -> Vec<(&'static str, &'static str)> {
    std::iter::once(("", "Kies een rol")).chain(Role::ALL.iter().map(|r| (r.code(), r.label()))).collect()
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct NewUserForm {
    username: String,
    role: String,
    email: String,
    password: String,
}

async fn user_list(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    let all = users::list(&state.db).await?;
    Ok(user_list_page(&chrome, &all, &NewUserForm::default(), &FieldErrors::new()))
}

fn user_list_page(chrome: &Chrome, all: &[User], form: &NewUserForm, errors: &FieldErrors) -> Markup {
    chrome.page(
        "Gebruikers",
        html! {
            p.breadcrumb { a href="/beheer" { "Beheer" } }
            h1 { "Gebruikers" }
            table {
                caption { (crate::domain::words::count(all.len(), "gebruiker", "gebruikers")) }
                thead { tr { th scope="col" { "Gebruikersnaam" } th scope="col" { "Rol" } th scope="col" { "Status" } } }
                tbody {
                    @for u in all {
                        tr {
                            th scope="row" { a href={"/beheer/gebruikers/" (u.id)} { (u.username) } }
                            td { (u.role.label()) }
                            td { @if u.active { "Actief" } @else { "Gedeactiveerd" } }
                        }
                    }
                }
            }
            h2 #nieuw { "Nieuwe gebruiker" }
            (error_summary(errors, &[("username", "Gebruikersnaam"), ("role", "Rol"), ("email", "E-mailadres"), ("password", "Wachtwoord")]))
            form method="post" action="/beheer/gebruikers" novalidate {
                (chrome.csrf_field())
                (Field::new("username", "Gebruikersnaam", &form.username, errors).required().hint("3 tot 64 tekens: letters, cijfers, punt, streepje of liggend streepje.").text())
                (Field::new("role", "Rol", &form.role, errors).required().select(&role_options()))
                (Field::new("email", "E-mailadres", &form.email, errors).hint("Voor de e-mail met meldingen; mag leeg blijven.").input("email"))
                (Field::new("password", "Wachtwoord", "", errors).required().hint("Minstens 12 tekens.").input("password"))
                button type="submit" { "Gebruiker aanmaken" }
            }
        },
    )
}

/// Checks an e-mail address: empty is none; otherwise one address as a mail server accepts it. What the CLI and
/// the admin page both accept.
pub fn parse_email(raw: &str) -> Result<Option<String>, String> {
    let email = raw.trim();
    if email.is_empty() {
        return Ok(None);
    }
    let plain = email.len() <= 254 && email.matches('@').count() == 1 && !email.contains(char::is_whitespace);
    if !plain || email.parse::<lettre::Address>().is_err() {
        return Err(format!("'{email}' is geen e-mailadres; schrijf het als naam@gemeente.nl."));
    }
    Ok(Some(email.to_string()))
}

/// Checks a username: what the CLI and the admin page both accept.
pub fn username_problem(username: &str) -> Option<String> {
    let n = username.chars().count();
    if !(3..=64).contains(&n) {
        return Some(format!("Een gebruikersnaam heeft 3 tot 64 tekens (nu {n})."));
    }
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Some("Een gebruikersnaam bevat alleen letters, cijfers, punt, streepje of liggend streepje.".into());
    }
    None
}

async fn create_user(
    chrome: Chrome,
    admin: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<NewUserForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::new();
    let username = form.username.trim().to_string();
    if let Some(p) = username_problem(&username) {
        errors.add("username", p);
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add("role", "Kies een rol uit de lijst.");
    }
    if let Some(p) = password_problem(&form.password) {
        errors.add("password", p);
    }
    let email = parse_email(&form.email).unwrap_or_else(|p| {
        errors.add("email", p);
        None
    });
    if let (true, Some(role)) = (errors.is_empty(), role) {
        let hash = password::hash(form.password.clone()).await?;
        match users::create(&state.db, &username, role, &hash, admin.actor()).await {
            Ok(id) => {
                if email.is_some() {
                    store::notifications::set_email(&state.db, id, email.as_deref(), admin.actor()).await?;
                }
                return Ok(Redirect::to(&format!("/beheer/gebruikers/{id}?melding=aangemaakt")).into_response());
            }
            Err(UserError::Exists(_)) => errors.add("username", format!("De gebruikersnaam '{username}' bestaat al.")),
            Err(e) => return Err(user_error(e)),
        }
    }
    let all = users::list(&state.db).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, user_list_page(&chrome, &all, &form, &errors)).into_response())
}

fn user_error(e: UserError) -> AppError {
    match e {
        UserError::NotFound => AppError::NotFound,
        UserError::Db(e) => e.into(),
        other => AppError::Conflict(other.to_string()),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct EditUserForm {
    role: String,
    active: Option<String>,
    email: String,
    version: Option<i64>,
}

async fn user_detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let user = users::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let form = EditUserForm {
        role: user.role.code().into(),
        active: user.active.then(|| "on".into()),
        email: stored_email(&state, id).await?,
        version: Some(user.version),
    };
    let their_tokens = tokens::for_user(&state.db, id).await?;
    Ok(user_page(&chrome, &user, &their_tokens, &form, &FieldErrors::new(), None))
}

/// The user's e-mail address as the form shows it (empty when there is none).
async fn stored_email(state: &AppState, id: i64) -> AppResult<String> {
    Ok(store::notifications::settings(&state.db, id).await?.and_then(|s| s.email).unwrap_or_default())
}

fn user_page(
    chrome: &Chrome,
    user: &User,
    their_tokens: &[TokenInfo],
    form: &EditUserForm,
    errors: &FieldErrors,
    stale: Option<&User>,
) -> Markup {
    chrome.page(
        &user.username,
        html! {
            p.breadcrumb { a href="/beheer/gebruikers" { "Gebruikers" } }
            h1 { "Gebruiker " (user.username) }
            p { a href={"/historie/user/" (user.id)} { "Geschiedenis van deze gebruiker" } }
            @if let Some(now) = stale {
                div.error-summary role="alert" {
                    h2 { "Iemand anders heeft deze gebruiker intussen gewijzigd" }
                    p { "Uw wijziging is niet opgeslagen. Nu opgeslagen: rol " (now.role.label()) ", "
                        @if now.active { "actief" } @else { "gedeactiveerd" } ". Sla opnieuw op om uw keuze te bewaren." }
                }
            }
            (error_summary(errors, &[("role", "Rol"), ("active", "Actief"), ("email", "E-mailadres"), ("password", "Nieuw wachtwoord")]))
            h2 { "Rol en status" }
            form method="post" action={"/beheer/gebruikers/" (user.id)} novalidate {
                (chrome.csrf_field())
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (Field::new("role", "Rol", &form.role, errors).required().select(&role_options()))
                (checkbox("active", "Actief (mag inloggen)", form.active.is_some()))
                (Field::new("email", "E-mailadres", &form.email, errors).hint("Voor de e-mail met meldingen; leeg: geen e-mail.").input("email"))
                button type="submit" { "Opslaan" }
            }
            h2 { "Wachtwoord opnieuw instellen" }
            form method="post" action={"/beheer/gebruikers/" (user.id) "/wachtwoord"} novalidate {
                (chrome.csrf_field())
                (Field::new("password", "Nieuw wachtwoord", "", errors).required().hint("Minstens 12 tekens. Geef het wachtwoord persoonlijk door.").input("password"))
                button type="submit" { "Wachtwoord instellen" }
            }
            h2 #api-tokens { "API-tokens" }
            p { "Tokens waarmee scripts namens deze gebruiker de API gebruiken. Intrekken werkt meteen." }
            (token_table(chrome, their_tokens, dates::today(), TokenOwner::Admin))
        },
    )
}

async fn update_user(
    chrome: Chrome,
    admin: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<EditUserForm>,
) -> AppResult<Response> {
    let user = users::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add("role", "Kies een rol uit de lijst.");
    }
    let active = form.active.is_some();
    let email = parse_email(&form.email).unwrap_or_else(|p| {
        errors.add("email", p);
        None
    });
    // Nobody can lock the municipality out of its own administration.
    let demotes_admin = user.role == Role::Admin && user.active && (role != Some(Role::Admin) || !active);
    if demotes_admin {
        let admins = users::list(&state.db).await?.iter().filter(|u| u.role == Role::Admin && u.active).count();
        if admins <= 1 {
            errors.add("role", "Dit is de laatste actieve beheerder; maak eerst een andere beheerder aan.");
        }
    }
    let (Some(role), Some(version), true) = (role, form.version, errors.is_empty()) else {
        if form.version.is_none() {
            errors.add("role", "Het formulier mist de versie van het record; open de pagina opnieuw.");
        }
        let their_tokens = tokens::for_user(&state.db, id).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, user_page(&chrome, &user, &their_tokens, &form, &errors, None))
            .into_response());
    };
    match users::update(&state.db, id, version, role, active, admin.actor()).await {
        Ok(()) => {
            if stored_email(&state, id).await? != email.clone().unwrap_or_default() {
                store::notifications::set_email(&state.db, id, email.as_deref(), admin.actor()).await?;
            }
            Ok(Redirect::to(&format!("/beheer/gebruikers/{id}?melding=opgeslagen")).into_response())
        }
        Err(UserError::Stale(now)) => {
            let again = EditUserForm { version: Some(now.version), ..form };
            let their_tokens = tokens::for_user(&state.db, id).await?;
            let page = user_page(&chrome, &now, &their_tokens, &again, &FieldErrors::new(), Some(&now));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(user_error(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
}

async fn reset_password(
    chrome: Chrome,
    admin: CurrentUser,
    session: tower_sessions::Session,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let user = users::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if let Some(p) = password_problem(&form.password) {
        let mut errors = FieldErrors::new();
        errors.add("password", p);
        let edit = EditUserForm {
            role: user.role.code().into(),
            active: user.active.then(|| "on".into()),
            email: stored_email(&state, id).await?,
            version: Some(user.version),
        };
        let their_tokens = tokens::for_user(&state.db, id).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, user_page(&chrome, &user, &their_tokens, &edit, &errors, None))
            .into_response());
    }
    let hash = password::hash(form.password).await?;
    // Every session opened with the old password ends at its next request (see auth::session::load_user),
    // except this one when admins set their own password.
    users::set_password(&state.db, id, &hash, admin.actor()).await.map_err(user_error)?;
    if id == admin.id {
        crate::auth::session::restamp(&session, &hash)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("sessie: {e}")))?;
    }
    Ok(Redirect::to(&format!("/beheer/gebruikers/{id}?melding=wachtwoord")).into_response())
}

/// An admin revokes anyone's token; back to that user's page.
async fn revoke_token(admin: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Redirect> {
    let token = tokens::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    tokens::revoke(&state.db, token.id, admin.actor()).await.map_err(token_error)?;
    Ok(Redirect::to(&format!("/beheer/gebruikers/{}?melding=token-ingetrokken#api-tokens", token.user_id)))
}

/// The most entries a record's history page shows.
const AUDIT_PAGE_LIMIT: i64 = 500;

/// Entries per page of the audit log: each shows its values before and after, so a page of 500 was over
/// 100,000 px tall on the demo.
const AUDIT_PER_PAGE: i64 = 50;

/// Where a page of the audit log starts: `voor` is the id the page's entries are older than.
#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditPage {
    voor: Option<i64>,
}

/// A page of the audit log: the filter, its entries, where the page starts and whether older entries exist.
struct AuditLogPage {
    filter: AuditFilter,
    /// The filter as a query string, for the export and paging links.
    query: String,
    rows: Vec<AuditRow>,
    before: Option<i64>,
    older: bool,
}

async fn load_audit_log(state: &AppState, filter: AuditFilter, before: Option<i64>) -> AppResult<AuditLogPage> {
    // One more than shown: whether there is an older page.
    let mut rows = audit::list_before(&state.db, &filter.in_effect(dates::today()), before, AUDIT_PER_PAGE + 1).await?;
    let older = rows.len() as i64 > AUDIT_PER_PAGE;
    rows.truncate(AUDIT_PER_PAGE as usize);
    let query = serde_urlencoded::to_string([
        ("actor", &filter.actor),
        ("entity", &filter.entity),
        ("entity_id", &filter.entity_id),
        ("from", &filter.from),
        ("until", &filter.until),
        ("periode", &filter.periode.code().to_string()),
    ])
    .unwrap_or_default();
    Ok(AuditLogPage { filter, query, rows, before, older })
}

async fn audit_page(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(filter): Query<AuditFilter>,
    Query(at): Query<AuditPage>,
) -> AppResult<Markup> {
    Ok(render_audit_log(&chrome, &load_audit_log(&state, filter, at.voor).await?))
}

fn render_audit_log(chrome: &Chrome, p: &AuditLogPage) -> Markup {
    let (filter, query, none) = (&p.filter, &p.query, FieldErrors::new());
    chrome.page(
        "Auditlog",
        html! {
            p.breadcrumb { a href="/beheer" { "Beheer" } }
            h1 { "Auditlog" }
            p { "Elke wijziging via het scherm of de opdrachtregel, met de waarden ervoor en erna. Het log kan niet worden gewijzigd." }
            form.filters method="get" action="/beheer/audit" {
                (Field::new("actor", "Gebruiker", &filter.actor, &none).text())
                (Field::new("entity", "Soort record", &filter.entity, &none).hint("bijvoorbeeld provider, certification, user").text())
                (Field::new("entity_id", "Recordnummer", &filter.entity_id, &none).text())
                (Field::new("from", "Vanaf", &filter.from, &none).date())
                (Field::new("until", "Tot en met", &filter.until, &none).date())
                (Field::new("periode", "Periode", filter.periode.code(), &none)
                    .hint("als Vanaf leeg is; de export volgt het filter")
                    .select(&AuditPeriod::CHOICES))
                button type="submit" { "Filteren" }
            }
            p { a href={"/beheer/audit.csv?" (query)} { "Download als CSV" } }
            (audit_table(&p.rows, None))
            @if p.older || p.before.is_some() {
                nav aria-label="Paginering" {
                    ul.pagination {
                        @if p.before.is_some() { li { a href={"/beheer/audit?" (query)} rel="first" { "Nieuwste wijzigingen" } } }
                        @if let (true, Some(last)) = (p.older, p.rows.last()) {
                            li { a href={"/beheer/audit?" (query) "&voor=" (last.id)} rel="next" { "Oudere wijzigingen" } }
                        }
                    }
                }
            }
        },
    )
}

/// The entries; with `limit`, the caption says when there may be older ones than shown.
fn audit_table(rows: &[AuditRow], limit: Option<i64>) -> Markup {
    html! {
        table {
            caption {
                (crate::domain::words::count(rows.len(), "wijziging", "wijzigingen"))
                @if let Some(limit) = limit.filter(|l| rows.len() as i64 >= *l) { " (de nieuwste " (limit) "; verfijn het filter voor oudere)" }
            }
            thead { tr {
                th scope="col" { "Tijdstip (UTC)" } th scope="col" { "Gebruiker" } th scope="col" { "Actie" }
                th scope="col" { "Record" } th scope="col" { "Ervoor" } th scope="col" { "Erna" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        th scope="row" { (crate::domain::dates::display_timestamp(&r.at)) }
                        td { (r.actor) }
                        td { (r.action) }
                        td { a href={"/historie/" (r.entity) "/" (r.entity_id)} { (r.entity) " " (r.entity_id) } }
                        td.text { pre.json { (r.before_json.as_deref().unwrap_or("—")) } }
                        td.text { pre.json { (r.after_json.as_deref().unwrap_or("—")) } }
                    }
                }
            }
        }
    }
}

/// The audit log as CSV: the entries the screen shows for the same filter (all of them, not a page), written
/// a page at a time as they are read.
async fn audit_csv(State(state): State<AppState>, Query(filter): Query<AuditFilter>) -> Response {
    let filter = filter.in_effect(dates::today());
    super::streamed_download("text/csv; charset=utf-8", "auditlog.csv", move |chunks| async move {
        if let Err(e) = write_audit_csv(&state, &filter, &chunks).await {
            tracing::error!(error = %e, "het auditlog kon niet volledig worden geëxporteerd");
            // The answer has started: breaking it off is all that is left.
            let _ = chunks.send(Err(std::io::Error::other("export afgebroken"))).await;
        }
    })
}

async fn write_audit_csv(state: &AppState, filter: &AuditFilter, chunks: &super::Chunks) -> anyhow::Result<()> {
    let mut out = CsvWriter::new();
    out.header(["id", "at", "actor", "action", "entity", "entity_id", "before", "after"])?;
    let mut before = None;
    loop {
        let page = audit::export_page(&state.db, filter, before).await?;
        for r in &page {
            out.row([
                Cell::from(r.id),
                (&r.at).into(),
                (&r.actor).into(),
                (&r.action).into(),
                (&r.entity).into(),
                (&r.entity_id).into(),
                r.before_json.as_deref().unwrap_or("").into(),
                r.after_json.as_deref().unwrap_or("").into(),
            ])?;
        }
        // When sending fails the reader went away: stop reading.
        if chunks.send(Ok(out.chunk()?)).await.is_err() || page.len() < audit::EXPORT_PAGE {
            return Ok(());
        }
        before = page.last().map(|r| r.id);
    }
}

/// The history of one record. Deny by default: only kinds in [`HISTORY_KINDS`] have a history page, each
/// behind its own permission (the route itself only asks for a signed-in reader).
///
/// [`HISTORY_KINDS`]: crate::auth::history::HISTORY_KINDS
async fn entity_history(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, String)>,
) -> AppResult<Markup> {
    let (label, permission) = history_kind(&entity).ok_or(AppError::NotFound)?;
    if !user.role.may(permission) {
        return Err(AppError::Forbidden);
    }
    let rows = audit::of_entity(&state.db, &entity, &id, AUDIT_PAGE_LIMIT).await?;
    Ok(render_history(&chrome, label, &id, &rows))
}

fn render_history(chrome: &Chrome, label: &str, id: &str, rows: &[AuditRow]) -> Markup {
    chrome.page(
        "Geschiedenis",
        html! {
            h1 { "Geschiedenis van " (label) " " (id) }
            (audit_table(rows, Some(AUDIT_PAGE_LIMIT)))
        },
    )
}
