//! Screens for the provider register: list, create, edit, detail, archive.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{checkbox, error_summary, Field};
use super::views::{mark_status, Chrome, Confirmation, Confirmed};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::{validate_decision, CertificationStatus, Decision, DecisionForm, MarkStatus};
use crate::domain::dates;
use crate::domain::provider::ProviderForm;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::store::certifications;
use crate::store::providers::{self, ChangeError, Filter, Provider};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/aanbieders", Permission::Read, list)
        .get("/aanbieders/nieuw", Permission::ManageContracts, new_form)
        .post("/aanbieders", Permission::ManageContracts, create)
        .get("/aanbieders/{id}", Permission::Read, detail)
        .get("/aanbieders/{id}/bewerken", Permission::ManageContracts, edit_form)
        .post("/aanbieders/{id}", Permission::ManageContracts, update)
        .post("/aanbieders/{id}/archiveren", Permission::ManageContracts, archive)
        .post("/aanbieders/{id}/terugzetten", Permission::ManageContracts, restore)
        .post("/aanbieders/{id}/keurmerken", Permission::ManageContracts, add_decision)
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
    /// `geldig`, `aandacht` (no valid mark, suspended or lapsing soon) or empty for every provider.
    keurmerk: String,
}

/// The provider list as filtered: each provider with its mark status today.
struct ProvidersList {
    rows: Vec<(Provider, MarkStatus)>,
}

async fn load_list(state: &AppState, query: &ListQuery) -> AppResult<ProvidersList> {
    let filter = match query.status.as_str() {
        "gearchiveerd" => Filter::Archived,
        "alle" => Filter::All,
        _ => Filter::Active,
    };
    let today = crate::domain::dates::today();
    let decisions = certifications::all_by_provider(&state.db).await?;
    let none = Vec::new();
    let rows = providers::list(&state.db, &query.q, filter)
        .await?
        .into_iter()
        .map(|p| {
            let mark = MarkStatus::of(decisions.get(&p.id).unwrap_or(&none), today);
            (p, mark)
        })
        .filter(|(_, m)| match query.keurmerk.as_str() {
            "geldig" => m.is_valid(),
            "aandacht" => m.needs_attention(),
            _ => true,
        })
        .collect();
    Ok(ProvidersList { rows })
}

async fn list(chrome: Chrome, State(state): State<AppState>, Query(query): Query<ListQuery>) -> AppResult<Markup> {
    let page = load_list(&state, &query).await?;
    Ok(render_list(&chrome, &query, &page))
}

fn render_list(chrome: &Chrome, query: &ListQuery, page: &ProvidersList) -> Markup {
    let rows = &page.rows;
    let mark_options = [
        ("", "Alle"),
        ("geldig", "Geldig"),
        ("aandacht", "Aandacht nodig (geen geldig keurmerk, geschorst of verloopt binnenkort)"),
    ];
    let status_options = [("actief", "Actief"), ("gearchiveerd", "Gearchiveerd"), ("alle", "Alle")];
    let current_status = if query.status.is_empty() { "actief" } else { query.status.as_str() };
    chrome.page(
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
                div.field {
                    label for="keurmerk" { "Keurmerk" }
                    select id="keurmerk" name="keurmerk" {
                        @for (v, l) in mark_options {
                            option value=(v) selected[v == query.keurmerk] { (l) }
                        }
                    }
                }
                button type="submit" { "Zoeken" }
            }
            table {
                caption { (crate::domain::words::count(rows.len(), "taalaanbieder", "taalaanbieders")) }
                thead { tr { th scope="col" { "Naam" } th scope="col" { "KvK-nummer" } th scope="col" { "Contactpersoon" } th scope="col" { "Blik op Werk-keurmerk" } th scope="col" { "Status" } } }
                tbody {
                    @for (p, mark) in rows {
                        tr {
                            th scope="row" { a href={"/aanbieders/" (p.id)} { (p.name) } }
                            td { (p.kvk) }
                            td { (p.contact_person) }
                            td { (mark_status(mark)) }
                            td { @if p.active { "Actief" } @else { "Gearchiveerd" } }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="5" { "Geen taalaanbieders gevonden." } } }
                }
            }
        },
    )
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

/// Archives a provider after a confirmation page that says what archiving does (and that it can be undone).
async fn archive(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(confirmed): Form<Confirmed>,
) -> AppResult<Response> {
    let p = providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let page = format!("/aanbieders/{id}");
    if !p.active {
        return Ok(Redirect::to(&page).into_response());
    }
    if !confirmed.yes() {
        return Ok(chrome
            .confirmation(Confirmation {
                title: format!("{} archiveren?", p.name),
                back: (&page, &p.name),
                consequences: html! {
                    p { "Na archiveren:" }
                    ul {
                        li { "staat de aanbieder niet meer in de lijst van actieve aanbieders en niet meer in de keuzelijsten voor nieuwe contracten;" }
                        li { "blijven alle contracten, plaatsingen, keurmerkbesluiten en kwaliteitsresultaten bewaard en zichtbaar;" }
                        li { "kunt u de aanbieder op zijn pagina weer terugzetten." }
                    }
                },
                action: &format!("/aanbieders/{id}/archiveren"),
                confirm: "Ja, archiveren",
                cancel: "Niet archiveren",
                danger: false,
            })
            .into_response());
    }
    providers::set_active(&state.db, id, false, user.actor()).await.map_err(change_error)?;
    Ok(Redirect::to(&format!("{page}?melding=gearchiveerd")).into_response())
}

/// Makes an archived provider active again.
async fn restore(user: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Redirect> {
    providers::set_active(&state.db, id, true, user.actor()).await.map_err(change_error)?;
    Ok(Redirect::to(&format!("/aanbieders/{id}?melding=teruggezet")))
}

async fn detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    detail_page(&state, &chrome, id, &DecisionForm::default(), &FieldErrors::new()).await
}

/// A provider's page: its facts, its mark decisions and status today, and its contracts with their placements.
struct ProviderPage {
    provider: Provider,
    decisions: Vec<Decision>,
    mark: MarkStatus,
    /// Each contract with its number of placements and of running ones.
    contracts: Vec<(crate::store::contracts::Contract, usize, usize)>,
    placements: usize,
}

async fn load_detail(state: &AppState, id: i64) -> AppResult<ProviderPage> {
    let provider = providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let decisions = certifications::for_provider(&state.db, id).await?;
    let mark = MarkStatus::of(&decisions, dates::today());
    let mut contracts = Vec::new();
    let mut placements = 0;
    let counts = crate::store::placements::status_counts_of_provider(&state.db, id).await?;
    for c in crate::store::contracts::list(&state.db).await?.into_iter().filter(|c| c.provider_id == id) {
        let statuses = counts.get(&c.id).map(Vec::as_slice).unwrap_or_default();
        let on_contract = statuses.iter().map(|(_, n)| n).sum();
        let running = statuses.iter().filter(|(s, _)| s.running()).map(|(_, n)| n).sum();
        placements += on_contract;
        contracts.push((c, on_contract, running));
    }
    Ok(ProviderPage { provider, decisions, mark, contracts, placements })
}

/// The provider page; also shown again (with errors) when a mark decision is refused.
async fn detail_page(
    state: &AppState,
    chrome: &Chrome,
    id: i64,
    decision_form: &DecisionForm,
    errors: &FieldErrors,
) -> AppResult<Markup> {
    Ok(detail_view(chrome, &load_detail(state, id).await?, decision_form, errors))
}

fn detail_view(chrome: &Chrome, page: &ProviderPage, decision_form: &DecisionForm, errors: &FieldErrors) -> Markup {
    let p = &page.provider;
    let participants = chrome.may(Permission::ParticipantData);
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
                            button.secondary type="submit" { "Archiveren…" }
                        }
                    } @else {
                        form method="post" action={"/aanbieders/" (p.id) "/terugzetten"} {
                            (chrome.csrf_field())
                            button.secondary type="submit" { "Terugzetten" }
                        }
                    }
                }
            }
            p { a href={"/historie/provider/" (p.id)} { "Geschiedenis van deze aanbieder" } " · " a href={"/kwaliteit/aanbieders/" (p.id)} { "Kwaliteitsrapport" } }
            h2 #contracten { "Contracten" }
            table {
                caption { (crate::domain::words::count(page.contracts.len(), "contract", "contracten")) " met deze aanbieder" }
                thead { tr { th scope="col" { "Contract" } th scope="col" { "Omschrijving" } th scope="col" { "Looptijd" } th.num scope="col" { "Plaatsingen" } th.num scope="col" { "Lopend" } } }
                tbody {
                    @for (c, placements, running) in &page.contracts {
                        tr {
                            th scope="row" { a href={"/contracten/" (c.id)} { (c.reference) } }
                            td { (c.title) }
                            td { (crate::domain::dates::display(c.terms.period.start_date)) " – " (crate::domain::dates::display(c.terms.period.current_end())) }
                            td.num { (placements) }
                            td.num { (running) }
                        }
                    }
                    @if page.contracts.is_empty() { tr { td colspan="5" { "Geen contracten." } } }
                }
            }
            @if participants && page.placements > 0 {
                p { a href={"/plaatsingen?aanbieder=" (p.id)} { "Alle " (crate::domain::words::count(page.placements, "plaatsing", "plaatsingen")) " bij deze aanbieder" } }
            }
            (history_section(chrome, p.id, &page.decisions, &page.mark, decision_form, errors))
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

const DECISION_LABELS: &[(&str, &str)] = &[
    ("status", "Status"),
    ("decision_date", "Besluitdatum"),
    ("valid_from", "Geldig vanaf"),
    ("valid_until", "Geldig tot en met"),
    ("suspended_from", "Geschorst vanaf"),
    ("suspended_until", "Geschorst tot en met"),
    ("registration_number", "Registratienummer"),
    ("note", "Toelichting"),
];

async fn add_decision(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    match certifications::insert_checked(&state.db, id, user.actor(), |existing| validate_decision(&form, existing))
        .await?
    {
        Ok(_) => Ok(Redirect::to(&format!("/aanbieders/{id}?melding=besluit#keurmerk")).into_response()),
        Err(errors) => {
            let page = detail_page(&state, &chrome, id, &form, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// The mark history on a provider's page, with the form to record a new decision.
fn history_section(
    chrome: &Chrome,
    provider_id: i64,
    decisions: &[Decision],
    mark: &MarkStatus,
    form: &DecisionForm,
    errors: &FieldErrors,
) -> Markup {
    let statuses: Vec<(&str, &str)> = std::iter::once(("", "Kies een status"))
        .chain(CertificationStatus::ALL.iter().map(|s| (s.code(), s.label())))
        .collect();
    html! {
        section aria-labelledby="keurmerk" {
            h2 #keurmerk { "Blik op Werk-keurmerk" }
            p { "Vandaag: " (mark_status(mark)) }
            table {
                caption { "Besluiten, nieuwste eerst" }
                thead { tr {
                    th scope="col" { "Besluitdatum" } th scope="col" { "Status" } th scope="col" { "Geldig vanaf" }
                    th scope="col" { "Geldig tot en met" } th scope="col" { "Schorsing" } th scope="col" { "Registratienummer" } th scope="col" { "Toelichting" }
                } }
                tbody {
                    @for d in decisions.iter().rev() {
                        tr {
                            th scope="row" { (dates::display(d.decision_date)) }
                            td { (d.status.label()) }
                            td { (dates::display(d.valid_from)) }
                            td { (d.valid_until.map(dates::display).unwrap_or_else(|| "—".into())) }
                            td { @if let Some(f) = d.suspended_from { (dates::display(f)) " t/m " (d.suspended_until.map(dates::display).unwrap_or_else(|| "onbepaald".into())) } @else { "—" } }
                            td { (d.registration_number) }
                            td { (d.note) }
                        }
                    }
                    @if decisions.is_empty() { tr { td colspan="7" { "Nog geen besluiten vastgelegd." } } }
                }
            }
            @if chrome.may(Permission::ManageContracts) {
            h3 #nieuw-besluit { "Besluit vastleggen" }
            (error_summary(errors, DECISION_LABELS))
            form method="post" action={"/aanbieders/" (provider_id) "/keurmerken"} novalidate {
                (chrome.csrf_field())
                (Field::new("status", "Status", &form.status, errors).required().select(&statuses))
                div.field-row {
                    (Field::new("decision_date", "Besluitdatum", &form.decision_date, errors).required().date())
                    (Field::new("valid_from", "Geldig vanaf", &form.valid_from, errors).required().hint("Bij intrekking of verval: de datum waarop het ingaat.").date())
                    (Field::new("valid_until", "Geldig tot en met", &form.valid_until, errors).hint("Alleen bij bepaalde tijd.").date())
                }
                div.field-row {
                    (Field::new("suspended_from", "Geschorst vanaf", &form.suspended_from, errors).hint("Alleen bij een schorsing.").date())
                    (Field::new("suspended_until", "Geschorst tot en met", &form.suspended_until, errors).date())
                }
                (Field::new("registration_number", "Registratienummer", &form.registration_number, errors).text())
                (Field::new("note", "Toelichting", &form.note, errors).textarea())
                button type="submit" { "Besluit opslaan" }
            }
            }
        }
    }
}
