//! Blik op Werk marks: a provider's decision history, recording a decision, and the overview of
//! providers that need attention.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::forms::{error_summary, Field};
use super::views::{mark_status, Chrome};
use super::{providers, AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::{
    self, needing_attention, validate_decision, CertificationStatus, Decision, DecisionForm, MarkStatus, Standing,
};
use crate::domain::dates;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::store;

pub fn routes() -> RouteTable {
    RouteTable::default().get("/keurmerken", Permission::Read, overview).post(
        "/aanbieders/{id}/keurmerken",
        Permission::ManageContracts,
        add_decision,
    )
}

const LABELS: &[(&str, &str)] = &[
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
    store::providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    match store::certifications::insert_checked(&state.db, id, user.actor(), |existing| {
        validate_decision(&form, existing)
    })
    .await?
    {
        Ok(_) => Ok(Redirect::to(&format!("/aanbieders/{id}?melding=besluit#keurmerk")).into_response()),
        Err(errors) => {
            let page = providers::detail_page(&state, &chrome, id, &form, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

async fn overview(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    let decisions = store::certifications::all_by_provider(&state.db).await?;
    let today = dates::today();
    let rows = needing_attention(&providers, &decisions, today);
    Ok(chrome.page(
        "Keurmerken",
        html! {
            h1 { "Blik op Werk-keurmerken" }
            p { "Actieve taalaanbieders zonder geldig keurmerk op " (dates::display(today)) ", geschorste aanbieders, en keurmerken die binnen "
                (certification::LAPSE_WARNING_DAYS) " dagen verlopen. De meest urgente staan bovenaan." }
            @if chrome.may(Permission::ManageContracts) {
                p.actions {
                    a href="/registers/import?sjabloon=standaard-keurmerken" { "Besluiten uit het Blik op Werk-register importeren" }
                    " (u ziet eerst per aanbieder de huidige en de nieuwe status)"
                }
            }
            table {
                caption { (crate::domain::words::count(rows.len(), "aanbieder vraagt", "aanbieders vragen")) " aandacht" }
                thead { tr {
                    th scope="col" { "Taalaanbieder" } th scope="col" { "Situatie" } th scope="col" { "Tot en met" } th scope="col" { "Dagen over" }
                } }
                tbody {
                    @for a in &rows {
                        tr {
                            th scope="row" { a href={"/aanbieders/" (a.provider.id) "#keurmerk"} { (a.provider.name) } }
                            td { (mark_status(&a.mark)) }
                            td { (until_of(&a.mark.standing)) }
                            td { (a.mark.days.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="4" { "Alle actieve aanbieders hebben een geldig keurmerk dat de komende 90 dagen niet verloopt." } } }
                }
            }
        },
    ))
}

/// The last day of a valid mark or a suspension, when known.
fn until_of(s: &Standing) -> String {
    match s {
        Standing::Valid { until: Some(u), .. } | Standing::Suspended { until: Some(u) } => dates::display(*u),
        _ => "—".into(),
    }
}

/// The mark history on a provider's page, with the form to record a new decision.
pub fn history_section(
    chrome: &Chrome,
    provider_id: i64,
    decisions: &[Decision],
    form: &DecisionForm,
    errors: &FieldErrors,
) -> Markup {
    let mark = MarkStatus::of(decisions, dates::today());
    let statuses: Vec<(&str, &str)> = std::iter::once(("", "Kies een status"))
        .chain(CertificationStatus::ALL.iter().map(|s| (s.code(), s.label())))
        .collect();
    html! {
        section aria-labelledby="keurmerk" {
            h2 #keurmerk { "Blik op Werk-keurmerk" }
            p { "Vandaag: " (mark_status(&mark)) }
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
            (error_summary(errors, LABELS))
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
