//! Screens for the provider register: list, create, edit, detail, archive.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{checkbox, error_summary, Field};
use super::views::Chrome;
use super::{marks, AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::DecisionForm;
use crate::domain::provider::ProviderForm;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::store::certifications;
use crate::store::providers::{self, ChangeError, Filter, Provider, Removal};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/aanbieders", Permission::Read, list)
        .get("/aanbieders/nieuw", Permission::ManageContracts, new_form)
        .post("/aanbieders", Permission::ManageContracts, create)
        .get("/aanbieders/{id}", Permission::Read, detail)
        .get("/aanbieders/{id}/bewerken", Permission::ManageContracts, edit_form)
        .post("/aanbieders/{id}", Permission::ManageContracts, update)
        .post("/aanbieders/{id}/archiveren", Permission::ManageContracts, archive)
}

const LABELS: &[(&str, &str)] = &[
    ("name", "Naam"),
    ("kvk", "KvK-nummer"),
    ("address", "Bezoekadres"),
    ("contact_person", "Contactpersoon"),
    ("email", "E-mailadres"),
    ("phone", "Telefoonnummer"),
    ("notes", "Notities"),
];

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    q: String,
    status: String,
}

async fn list(chrome: Chrome, State(state): State<AppState>, Query(query): Query<ListQuery>) -> AppResult<Markup> {
    let filter = match query.status.as_str() {
        "gearchiveerd" => Filter::Archived,
        "alle" => Filter::All,
        _ => Filter::Active,
    };
    let rows = providers::list(&state.db, &query.q, filter).await?;
    let status_options = [("actief", "Actief"), ("gearchiveerd", "Gearchiveerd"), ("alle", "Alle")];
    let current_status = if query.status.is_empty() { "actief" } else { query.status.as_str() };
    Ok(chrome.page(
        "Taalaanbieders",
        html! {
            h1 { "Taalaanbieders" }
            @if chrome.may(Permission::ManageContracts) {
                p { a.button href="/aanbieders/nieuw" { "Nieuwe taalaanbieder" } }
            }
            form.filters method="get" action="/aanbieders" role="search" {
                div.field {
                    label for="q" { "Zoek op naam of KvK-nummer" }
                    input type="search" id="q" name="q" value=(query.q);
                }
                div.field {
                    label for="status" { "Toon" }
                    select id="status" name="status" {
                        @for (v, l) in status_options {
                            option value=(v) selected[v == current_status] { (l) }
                        }
                    }
                }
                button type="submit" { "Zoeken" }
            }
            table {
                caption { (crate::domain::words::count(rows.len(), "taalaanbieder", "taalaanbieders")) }
                thead { tr { th scope="col" { "Naam" } th scope="col" { "KvK-nummer" } th scope="col" { "Contactpersoon" } th scope="col" { "Status" } } }
                tbody {
                    @for p in &rows {
                        tr {
                            th scope="row" { a href={"/aanbieders/" (p.id)} { (p.name) } }
                            td { (p.kvk) }
                            td { (p.contact_person) }
                            td { @if p.active { "Actief" } @else { "Gearchiveerd" } }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="4" { "Geen taalaanbieders gevonden." } } }
                }
            }
        },
    ))
}

async fn new_form(chrome: Chrome) -> Markup {
    let form = ProviderForm { active: Some("on".into()), ..Default::default() };
    form_page(&chrome, None, &form, &FieldErrors::new(), None)
}

async fn create(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<ProviderForm>,
) -> AppResult<Response> {
    let draft = match form.validate() {
        Ok(d) => d,
        Err(errors) => return Ok(invalid(form_page(&chrome, None, &form, &errors, None))),
    };
    match providers::create(&state.db, &draft, user.actor()).await {
        Ok(id) => Ok(Redirect::to(&format!("/aanbieders/{id}?melding=aangemaakt")).into_response()),
        Err(ChangeError::DuplicateKvk(kvk, owner)) => {
            let mut errors = FieldErrors::new();
            errors.add("kvk", format!("KvK-nummer {kvk} is al geregistreerd bij {owner}."));
            Ok(invalid(form_page(&chrome, None, &form, &errors, None)))
        }
        Err(e) => Err(change_error(e)),
    }
}

async fn edit_form(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let p = providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(form_page(&chrome, Some(&p), &form_of(&p), &FieldErrors::new(), None))
}

async fn update(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ProviderForm>,
) -> AppResult<Response> {
    let current = providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let draft = match form.validate() {
        Ok(d) => d,
        Err(errors) => return Ok(invalid(form_page(&chrome, Some(&current), &form, &errors, None))),
    };
    let Some(version) = form.version else {
        return Err(AppError::BadRequest(
            "het formulier mist de versie van het record; open het bewerkscherm opnieuw".into(),
        ));
    };
    match providers::update(&state.db, id, version, &draft, user.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/aanbieders/{id}?melding=opgeslagen")).into_response()),
        Err(ChangeError::DuplicateKvk(kvk, owner)) => {
            let mut errors = FieldErrors::new();
            errors.add("kvk", format!("KvK-nummer {kvk} is al geregistreerd bij {owner}."));
            Ok(invalid(form_page(&chrome, Some(&current), &form, &errors, None)))
        }
        Err(ChangeError::Stale(newer)) => {
            let changes = differences(&form, &newer);
            // The form keeps what the user typed but now carries the newer version: saving again is a
            // conscious choice to overwrite what the other person changed.
            let mut again = form.clone();
            again.version = Some(newer.version);
            let page = form_page(&chrome, Some(&newer), &again, &FieldErrors::new(), Some(&changes));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(change_error(e)),
    }
}

async fn archive(user: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Redirect> {
    match providers::remove(&state.db, id, user.actor()).await {
        Ok(Removal::Archived) => Ok(Redirect::to(&format!("/aanbieders/{id}?melding=gearchiveerd"))),
        Ok(Removal::Deleted) => Ok(Redirect::to("/aanbieders?melding=verwijderd")),
        Err(e) => Err(change_error(e)),
    }
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    let p = providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let decisions = certifications::for_provider(&state.db, id).await?;
    Ok(detail_page(&chrome, &p, &decisions, &DecisionForm::default(), &FieldErrors::new()))
}

/// The provider page; also shown again (with errors) when a mark decision is refused.
pub fn detail_page(
    chrome: &Chrome,
    p: &Provider,
    decisions: &[crate::domain::certification::Decision],
    decision_form: &DecisionForm,
    errors: &FieldErrors,
) -> Markup {
    chrome.page(
        &p.name,
        html! {
            p.breadcrumb { a href="/aanbieders" { "Taalaanbieders" } }
            h1 { (p.name) @if !p.active { " " span.tag { "Gearchiveerd" } } }
            dl.facts {
                dt { "KvK-nummer" } dd { (p.kvk) }
                dt { "Bezoekadres" } dd { (p.address) }
                dt { "Contactpersoon" } dd { (p.contact_person) }
                dt { "E-mailadres" } dd { (p.email) }
                dt { "Telefoonnummer" } dd { (p.phone) }
                dt { "Notities" } dd.pre { (p.notes) }
            }
            @if chrome.may(Permission::ManageContracts) {
                div.actions {
                    a.button href={"/aanbieders/" (p.id) "/bewerken"} { "Bewerken" }
                    @if p.active {
                        form method="post" action={"/aanbieders/" (p.id) "/archiveren"} {
                            (chrome.csrf_field())
                            button.secondary type="submit" { "Archiveren" }
                        }
                    }
                }
            }
            p { a href={"/historie/provider/" (p.id)} { "Geschiedenis van deze aanbieder" } " · " a href={"/kwaliteit/aanbieders/" (p.id)} { "Kwaliteitsrapport" } }
            (marks::history_section(chrome, p.id, decisions, decision_form, errors))
        },
    )
}

fn form_of(p: &Provider) -> ProviderForm {
    ProviderForm {
        name: p.name.clone(),
        kvk: p.kvk.clone(),
        address: p.address.clone(),
        contact_person: p.contact_person.clone(),
        email: p.email.clone(),
        phone: p.phone.clone(),
        notes: p.notes.clone(),
        active: p.active.then(|| "on".into()),
        version: Some(p.version),
    }
}

/// Fields where the stored record differs from what the user submitted: (label, theirs, stored).
fn differences(form: &ProviderForm, stored: &Provider) -> Vec<(&'static str, String, String)> {
    let theirs = form_of(stored);
    let pairs = [
        ("Naam", &form.name, &theirs.name),
        ("KvK-nummer", &form.kvk, &theirs.kvk),
        ("Bezoekadres", &form.address, &theirs.address),
        ("Contactpersoon", &form.contact_person, &theirs.contact_person),
        ("E-mailadres", &form.email, &theirs.email),
        ("Telefoonnummer", &form.phone, &theirs.phone),
        ("Notities", &form.notes, &theirs.notes),
    ];
    let mut out: Vec<_> = pairs
        .into_iter()
        .filter(|(_, a, b)| a.trim() != b.trim())
        .map(|(l, a, b)| (l, a.trim().to_string(), b.clone()))
        .collect();
    if form.active.is_some() != stored.active {
        let yn = |b: bool| if b { "actief" } else { "gearchiveerd" }.to_string();
        out.push(("Status", yn(form.active.is_some()), yn(stored.active)));
    }
    out
}

fn invalid(page: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

fn change_error(e: ChangeError) -> AppError {
    match e {
        ChangeError::NotFound => AppError::NotFound,
        ChangeError::Db(e) => e.into(),
        other => AppError::Conflict(other.to_string()),
    }
}

type Changes = Vec<(&'static str, String, String)>;

fn form_page(
    chrome: &Chrome,
    existing: Option<&Provider>,
    form: &ProviderForm,
    errors: &FieldErrors,
    stale: Option<&Changes>,
) -> Markup {
    let (title, action) = match existing {
        Some(p) => (format!("{} bewerken", p.name), format!("/aanbieders/{}", p.id)),
        None => ("Nieuwe taalaanbieder".to_string(), "/aanbieders".to_string()),
    };
    chrome.page(
        &title,
        html! {
            p.breadcrumb { a href="/aanbieders" { "Taalaanbieders" } }
            h1 { (title) }
            @if let Some(changes) = stale {
                div.error-summary role="alert" {
                    h2 { "Iemand anders heeft deze aanbieder intussen gewijzigd" }
                    p { "Uw wijzigingen zijn nog niet opgeslagen. Dit is er intussen veranderd:" }
                    table {
                        caption { "Verschillen tussen uw invoer en de opgeslagen gegevens" }
                        thead { tr { th scope="col" { "Veld" } th scope="col" { "Uw invoer" } th scope="col" { "Nu opgeslagen" } } }
                        tbody { @for (label, mine, stored) in changes { tr { th scope="row" { (label) } td { (mine) } td { (stored) } } } }
                    }
                    p { "Sla opnieuw op om uw versie te bewaren, of " a href={"/aanbieders/" (existing.map(|p| p.id).unwrap_or_default()) } { "bekijk de opgeslagen gegevens" } "." }
                }
            }
            (error_summary(errors, LABELS))
            form method="post" action=(action) novalidate {
                (chrome.csrf_field())
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (Field::new("name", "Naam", &form.name, errors).required().text())
                (Field::new("kvk", "KvK-nummer", &form.kvk, errors).required().hint("8 cijfers, bijvoorbeeld 12345678").text())
                (Field::new("address", "Bezoekadres", &form.address, errors).text())
                (Field::new("contact_person", "Contactpersoon", &form.contact_person, errors).text())
                (Field::new("email", "E-mailadres", &form.email, errors).input("email"))
                (Field::new("phone", "Telefoonnummer", &form.phone, errors).input("tel"))
                (Field::new("notes", "Notities", &form.notes, errors).textarea())
                (checkbox("active", "Actief (niet gearchiveerd)", form.active.is_some()))
                button type="submit" { "Opslaan" }
            }
        },
    )
}
