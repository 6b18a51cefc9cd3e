//! Criteria sets (the municipality's extra quality requirements) and quality plans: upload of a plan
//! version, its download, the assessment per criterion and the overall decision.

use std::collections::BTreeMap;

use axum::extract::{Multipart, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{checkbox, error_summary, Field};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::dates;
use crate::domain::document::{check_upload, content_disposition, MAX_DOCUMENT_BYTES};
use crate::domain::quality::{
    display_decimal, validate_assessment, validate_criterion, validate_plan_decision, AssessmentInput, Comparison,
    CriterionForm, Metric, Scoring,
};
use crate::domain::validation::{text, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::contracts::Contract;
use crate::store::quality::{Assessment, CriteriaSet, Criterion, NewPlan, PlanVersion, QualityError};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/kwaliteit/eisen", Permission::Read, set_list)
        .post("/kwaliteit/eisen", Permission::ManageContracts, create_set)
        .get("/kwaliteit/eisen/{id}", Permission::Read, set_detail)
        .post("/kwaliteit/eisen/{id}/eisen", Permission::ManageContracts, add_criterion)
        .get("/kwaliteit/eisen/{id}/eisen/{criterion_id}", Permission::ManageContracts, edit_criterion)
        .post("/kwaliteit/eisen/{id}/eisen/{criterion_id}", Permission::ManageContracts, update_criterion)
        .post("/kwaliteit/eisen/{id}/nieuwe-versie", Permission::ManageContracts, new_set_version)
        .get("/kwaliteit/contracten/{id}", Permission::Read, contract_plans)
        .upload("/kwaliteit/contracten/{id}/plannen", Permission::ManageContracts, upload_plan)
        .get("/kwaliteit/plannen/{id}", Permission::Read, plan_detail)
        .get("/kwaliteit/plannen/{id}/document", Permission::Read, download)
        .post("/kwaliteit/plannen/{id}/beoordeling", Permission::ManageContracts, assess)
        .post("/kwaliteit/plannen/{id}/besluit", Permission::ManageContracts, decide)
}

fn frozen_tag(set: &CriteriaSet) -> Markup {
    html! {
        @if set.is_frozen() { span.status.status-warn { "Bevroren" } } @else { span.status.status-ok { "Te bewerken" } }
    }
}

// ---------------------------------------------------------------------------------------------
// Criteria sets

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct SetForm {
    tender: String,
    title: String,
}

/// The list of criteria sets with the form for a new one.
struct SetListPage {
    sets: Vec<CriteriaSet>,
    form: SetForm,
    errors: FieldErrors,
}

async fn load_set_list(state: &AppState) -> AppResult<SetListPage> {
    let sets = store::quality::list_sets(&state.db).await?;
    Ok(SetListPage { sets, form: SetForm::default(), errors: FieldErrors::new() })
}

async fn set_list(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_set_list(&chrome, &load_set_list(&state).await?))
}

fn render_set_list(chrome: &Chrome, page: &SetListPage) -> Markup {
    let (sets, form, errors) = (&page.sets, &page.form, &page.errors);
    chrome.page(
        "Toetsingskaders",
        html! {
            p.breadcrumb { a href="/kwaliteit" { "Kwaliteit" } }
            h1 { "Toetsingskaders: de extra kwaliteitseisen van de gemeente" }
            p { "Een toetsingskader hoort bij een aanbesteding en heeft versies. Zodra een kwaliteitsplan met een versie is beoordeeld, is die versie bevroren; wijzigen kan dan alleen in een nieuwe versie." }
            table {
                caption { (crate::domain::words::count(sets.len(), "toetsingskader", "toetsingskaders")) }
                thead { tr { th scope="col" { "Aanbesteding" } th scope="col" { "Versie" } th scope="col" { "Titel" } th.num scope="col" { "Eisen" } th scope="col" { "Status" } } }
                tbody {
                    @for s in sets {
                        tr {
                            th scope="row" { a href={"/kwaliteit/eisen/" (s.id)} { (s.tender) } }
                            td { (s.version_no) } td { (s.title) } td.num { (s.criteria_count) } td { (frozen_tag(s)) }
                        }
                    }
                    @if sets.is_empty() { tr { td colspan="5" { "Nog geen toetsingskaders." } } }
                }
            }
            @if chrome.may(Permission::ManageContracts) {
                h2 #nieuw-kader { "Nieuw toetsingskader" }
                (error_summary(errors, &[("tender", "Aanbesteding"), ("title", "Titel")]))
                form method="post" action="/kwaliteit/eisen#nieuw-kader" novalidate {
                    (chrome.csrf_field())
                    (Field::new("tender", "Aanbesteding", &form.tender, errors).required().hint("Bijvoorbeeld: Taalonderwijs Wi2021 regio Utrecht 2022").text())
                    (Field::new("title", "Titel", &form.title, errors).required().text())
                    button type="submit" { "Toetsingskader aanmaken" }
                }
            }
        },
    )
}

async fn create_set(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<SetForm>,
) -> AppResult<Response> {
    let mut e = FieldErrors::new();
    let tender = text(&mut e, "tender", "Aanbesteding", &form.tender, 200, true);
    let title = text(&mut e, "title", "Titel", &form.title, 200, true);
    if !e.is_empty() {
        let page = SetListPage { form, errors: e, ..load_set_list(&state).await? };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render_set_list(&chrome, &page)).into_response());
    }
    let id = store::quality::create_set(&state.db, &tender, &title, user.actor()).await?;
    Ok(Redirect::to(&format!("/kwaliteit/eisen/{id}?melding=aangemaakt")).into_response())
}

const CRITERION_LABELS: &[(&str, &str)] = &[
    ("code", "Code"),
    ("title", "Titel"),
    ("description", "Omschrijving"),
    ("scoring", "Beoordeling"),
    ("norm_metric", "Norm: wat wordt gemeten"),
    ("norm_comparison", "Norm: vergelijking"),
    ("norm_value", "Norm: waarde"),
];

fn criterion_fields(form: &CriterionForm, errors: &FieldErrors) -> Markup {
    let scorings: Vec<(&str, &str)> = std::iter::once(("", "Kies hoe de eis wordt beoordeeld"))
        .chain(Scoring::ALL.iter().map(|s| (s.code(), s.label())))
        .collect();
    let metrics: Vec<(&str, &str)> =
        std::iter::once(("", "Geen meetbare norm")).chain(Metric::ALL.iter().map(|m| (m.code(), m.label()))).collect();
    let comparisons: Vec<(&str, &str)> =
        std::iter::once(("", "—")).chain(Comparison::ALL.iter().map(|c| (c.code(), c.label()))).collect();
    html! {
        div.field-row {
            (Field::new("code", "Code", &form.code, errors).required().hint("Bijvoorbeeld K-01").text())
            (Field::new("title", "Titel", &form.title, errors).required().text())
        }
        (Field::new("description", "Omschrijving", &form.description, errors).textarea())
        (Field::new("scoring", "Beoordeling", &form.scoring, errors).required().select(&scorings))
        (checkbox("knock_out", "Knock-outeis: een plan dat hier niet aan voldoet kan niet worden goedgekeurd", form.knock_out.is_some()))
        fieldset.field {
            legend { "Meetbare norm (optioneel), bijvoorbeeld: lessen door NT2-docenten minstens 80" }
            div.field-row {
                (Field::new("norm_metric", "Wat wordt gemeten", &form.norm_metric, errors).select(&metrics))
                (Field::new("norm_comparison", "Vergelijking", &form.norm_comparison, errors).select(&comparisons))
                (Field::new("norm_value", "Waarde", &form.norm_value, errors).hint("Percentage, cijfer of aantal").text())
            }
        }
    }
}

fn form_of(c: &Criterion) -> CriterionForm {
    CriterionForm {
        code: c.code.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
        scoring: c.scoring.code().into(),
        knock_out: c.knock_out.then(|| "on".into()),
        norm_metric: c.norm.map(|n| n.metric.code().to_string()).unwrap_or_default(),
        norm_comparison: c.norm.map(|n| n.comparison.code().to_string()).unwrap_or_default(),
        norm_value: c.norm.map(|n| display_decimal(n.value)).unwrap_or_default(),
        version: Some(c.version),
    }
}

fn norm_text(c: &Criterion) -> String {
    c.norm.map(|n| format!("{}: {}", n.metric.label(), n.describe())).unwrap_or_else(|| "—".into())
}

/// One criteria set with its criteria and the form for a new criterion.
struct SetPage {
    set: CriteriaSet,
    items: Vec<Criterion>,
    form: CriterionForm,
    errors: FieldErrors,
    /// Why the last change was refused as a whole (the set froze meanwhile).
    refusal: Option<String>,
}

async fn load_set(state: &AppState, id: i64) -> AppResult<SetPage> {
    let set = store::quality::get_set(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let items = store::quality::criteria(&state.db, id).await?;
    Ok(SetPage { set, items, form: CriterionForm::default(), errors: FieldErrors::new(), refusal: None })
}

async fn set_detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    Ok(render_set(&chrome, &load_set(&state, id).await?))
}

fn render_set(chrome: &Chrome, page: &SetPage) -> Markup {
    let (set, items, form, errors) = (&page.set, &page.items, &page.form, &page.errors);
    let manage = chrome.may(Permission::ManageContracts);
    chrome.page(
        &set.label(),
        html! {
            p.breadcrumb { a href="/kwaliteit" { "Kwaliteit" } " › " a href="/kwaliteit/eisen" { "Toetsingskaders" } }
            h1 { (set.tender) " (versie " (set.version_no) ")" }
            p { (set.title) " " (frozen_tag(set)) }
            @if let Some(m) = &page.refusal { div.error-summary role="alert" { h2 { "Niet opgeslagen" } p #weigering { (m) } } }
            @if set.is_frozen() {
                p { "Dit kader is bevroren sinds " (dates::display_timestamp(set.frozen_at.as_deref().unwrap_or(""))) ": er is een kwaliteitsplan mee beoordeeld, dus de eisen liggen vast." }
            }
            table {
                caption { (crate::domain::words::count(items.len(), "eis", "eisen")) }
                thead { tr { th scope="col" { "Code" } th scope="col" { "Eis" } th scope="col" { "Beoordeling" } th scope="col" { "Knock-out" } th scope="col" { "Norm" } @if manage && !set.is_frozen() { th scope="col" { "Actie" } } } }
                tbody {
                    @for c in items {
                        tr {
                            th scope="row" { (c.code) }
                            td.text { strong { (c.title) } @if !c.description.is_empty() { br; span.muted { (c.description) } } }
                            td { (c.scoring.label()) }
                            td { @if c.knock_out { "Ja" } @else { "Nee" } }
                            td { (norm_text(c)) }
                            @if manage && !set.is_frozen() { td { a href={"/kwaliteit/eisen/" (set.id) "/eisen/" (c.id)} { "Bewerken" span.visually-hidden { " " (c.code) } } } }
                        }
                    }
                    @if items.is_empty() { tr { td colspan="6" { "Nog geen eisen." } } }
                }
            }
            @if manage {
                form method="post" action={"/kwaliteit/eisen/" (set.id) "/nieuwe-versie"} {
                    (chrome.csrf_field())
                    button.secondary type="submit" { "Nieuwe versie van dit kader maken" }
                }
                @if !set.is_frozen() {
                    h2 #nieuwe-eis { "Eis toevoegen" }
                    (error_summary(errors, CRITERION_LABELS))
                    form method="post" action={"/kwaliteit/eisen/" (set.id) "/eisen#nieuwe-eis"} novalidate {
                        (chrome.csrf_field())
                        (criterion_fields(form, errors))
                        button type="submit" { "Eis toevoegen" }
                    }
                }
            }
        },
    )
}

fn frozen_message(e: &QualityError) -> Option<String> {
    match e {
        QualityError::Frozen(m) => Some(m.clone()),
        _ => None,
    }
}

async fn add_criterion(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<CriterionForm>,
) -> AppResult<Response> {
    let errors = match validate_criterion(&form) {
        Ok(d) => match store::quality::add_criterion(&state.db, id, &d, user.actor()).await {
            Ok(_) => return Ok(Redirect::to(&format!("/kwaliteit/eisen/{id}?melding=opgeslagen")).into_response()),
            Err(QualityError::DuplicateCode(code)) => {
                let mut e = FieldErrors::new();
                e.add("code", format!("Code {code} is al in gebruik in dit toetsingskader."));
                e
            }
            Err(e @ QualityError::Frozen(_)) => {
                let page = SetPage { form, refusal: frozen_message(&e), ..load_set(&state, id).await? };
                return Ok((StatusCode::CONFLICT, render_set(&chrome, &page)).into_response());
            }
            Err(QualityError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        },
        Err(e) => e,
    };
    let page = SetPage { form, errors, ..load_set(&state, id).await? };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_set(&chrome, &page)).into_response())
}

/// The edit form of one criterion.
struct CriterionPage {
    set: CriteriaSet,
    criterion: Criterion,
    form: CriterionForm,
    errors: FieldErrors,
    /// Why the change was refused as a whole (frozen set, someone else's change).
    refusal: Option<String>,
}

async fn load_criterion(state: &AppState, id: i64, criterion_id: i64) -> AppResult<CriterionPage> {
    let set = store::quality::get_set(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let criterion = store::quality::criteria(&state.db, id)
        .await?
        .into_iter()
        .find(|c| c.id == criterion_id)
        .ok_or(AppError::NotFound)?;
    let form = form_of(&criterion);
    Ok(CriterionPage { set, criterion, form, errors: FieldErrors::new(), refusal: None })
}

async fn edit_criterion(
    chrome: Chrome,
    State(state): State<AppState>,
    Path((id, criterion_id)): Path<(i64, i64)>,
) -> AppResult<Markup> {
    Ok(criterion_page(&chrome, &load_criterion(&state, id, criterion_id).await?))
}

fn criterion_page(chrome: &Chrome, page: &CriterionPage) -> Markup {
    let (set, c, form, errors) = (&page.set, &page.criterion, &page.form, &page.errors);
    chrome.page(
        &format!("Eis {} bewerken", c.code),
        html! {
            p.breadcrumb { a href={"/kwaliteit/eisen/" (set.id)} { (set.label()) } }
            h1 { "Eis " (c.code) " bewerken" }
            @if let Some(m) = &page.refusal { div.error-summary role="alert" { h2 { "Niet opgeslagen" } p #weigering { (m) } } }
            (error_summary(errors, CRITERION_LABELS))
            form method="post" action={"/kwaliteit/eisen/" (set.id) "/eisen/" (c.id)} novalidate {
                (chrome.csrf_field())
                @if let Some(v) = form.version { input type="hidden" name="version" value=(v); }
                (criterion_fields(form, errors))
                button type="submit" { "Opslaan" }
            }
        },
    )
}

async fn update_criterion(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path((id, criterion_id)): Path<(i64, i64)>,
    Form(form): Form<CriterionForm>,
) -> AppResult<Response> {
    let loaded = load_criterion(&state, id, criterion_id).await?;
    let draft = match validate_criterion(&form) {
        Ok(d) => d,
        Err(errors) => {
            let page = CriterionPage { form, errors, ..loaded };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, criterion_page(&chrome, &page)).into_response());
        }
    };
    let version = form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie van de eis".into()))?;
    match store::quality::update_criterion(&state.db, id, criterion_id, version, &draft, user.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/kwaliteit/eisen/{id}?melding=opgeslagen")).into_response()),
        Err(QualityError::Frozen(m)) => {
            let page = CriterionPage { form, refusal: Some(m), ..loaded };
            Ok((StatusCode::CONFLICT, criterion_page(&chrome, &page)).into_response())
        }
        Err(QualityError::StaleCriterion(now)) => {
            let m = format!(
                "Iemand anders heeft deze eis intussen gewijzigd (nu: {} {}, {}, norm {}). Uw wijzigingen zijn niet opgeslagen; controleer ze en sla opnieuw op.",
                now.code,
                now.title,
                now.scoring.label().to_lowercase(),
                norm_text(&now)
            );
            let form = CriterionForm { version: Some(now.version), ..form };
            let page = CriterionPage { criterion: *now, form, refusal: Some(m), ..loaded };
            Ok((StatusCode::CONFLICT, criterion_page(&chrome, &page)).into_response())
        }
        Err(QualityError::DuplicateCode(code)) => {
            let mut e = FieldErrors::new();
            e.add("code", format!("Code {code} is al in gebruik in dit toetsingskader."));
            let page = CriterionPage { form, errors: e, ..loaded };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, criterion_page(&chrome, &page)).into_response())
        }
        Err(QualityError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

async fn new_set_version(user: CurrentUser, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Response> {
    match store::quality::new_set_version(&state.db, id, user.actor()).await {
        Ok(new) => Ok(Redirect::to(&format!("/kwaliteit/eisen/{new}?melding=aangemaakt")).into_response()),
        Err(QualityError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Plans per contract and upload

#[derive(Default, Clone)]
struct UploadForm {
    submitted_on: String,
    criteria_set_id: String,
}

/// The plan versions of one contract with the upload form for the next one.
struct ContractPlansPage {
    contract: Contract,
    plans: Vec<PlanVersion>,
    sets: Vec<CriteriaSet>,
    /// The set the form proposes: the one of the latest version, else the newest set.
    default_set: i64,
    form: UploadForm,
    errors: FieldErrors,
}

async fn load_contract_plans(state: &AppState, id: i64) -> AppResult<ContractPlansPage> {
    let contract = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let plans = store::quality::plans_for_contract(&state.db, id).await?;
    let sets = store::quality::list_sets(&state.db).await?;
    let default_set =
        plans.last().map(|p| p.criteria_set_id).or_else(|| sets.iter().map(|s| s.id).max()).unwrap_or_default();
    let form = UploadForm { submitted_on: dates::iso(dates::today()), criteria_set_id: String::new() };
    Ok(ContractPlansPage { contract, plans, sets, default_set, form, errors: FieldErrors::new() })
}

async fn contract_plans(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    Ok(render_contract(&chrome, &load_contract_plans(&state, id).await?))
}

fn render_contract(chrome: &Chrome, page: &ContractPlansPage) -> Markup {
    let (c, plans, sets, form, errors) = (&page.contract, &page.plans, &page.sets, &page.form, &page.errors);
    let chosen =
        if form.criteria_set_id.is_empty() { page.default_set.to_string() } else { form.criteria_set_id.clone() };
    let set_labels: Vec<(String, String)> = sets.iter().map(|s| (s.id.to_string(), s.label())).collect();
    let set_options: Vec<(&str, &str)> = set_labels.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    chrome.page(
        &format!("Kwaliteitsplan {}", c.reference),
        html! {
            p.breadcrumb { a href="/kwaliteit" { "Kwaliteit" } " › " a href={"/kwaliteit/aanbieders/" (c.provider_id)} { (c.provider_name) } }
            h1 { "Kwaliteitsplan bij contract " (c.reference) }
            p { (c.title) " · " a href={"/contracten/" (c.id)} { "Contractgegevens" } }
            table {
                caption { (crate::domain::words::count(plans.len(), "versie", "versies")) " van het kwaliteitsplan" }
                thead { tr { th scope="col" { "Versie" } th scope="col" { "Ingediend" } th scope="col" { "Status" } th scope="col" { "Document" } } }
                tbody {
                    @for p in plans.iter().rev() {
                        tr {
                            th scope="row" { a href={"/kwaliteit/plannen/" (p.id)} { "Versie " (p.version_no) } }
                            td { (dates::display(p.submitted_on)) }
                            td { span.status.(p.status.css_class()) { (p.status.label()) } }
                            td { a href={"/kwaliteit/plannen/" (p.id) "/document"} { (p.file_name) } " (" (p.document_kind.label()) ", " (size_text(p.size_bytes)) ")" }
                        }
                    }
                    @if plans.is_empty() { tr { td colspan="4" { "Nog geen kwaliteitsplan ingediend." } } }
                }
            }
            @if chrome.may(Permission::ManageContracts) {
                h2 #indienen { "Nieuwe versie vastleggen" }
                @if !plans.is_empty() { p.hint { "De nieuwe versie begint met de beoordeling van de vorige versie; de beoordelaar ziet per eis wat is overgenomen." } }
                (error_summary(errors, &[("submitted_on", "Ingediend op"), ("criteria_set_id", "Toetsingskader"), ("document", "Document")]))
                @if sets.is_empty() {
                    p { "Maak eerst een " a href="/kwaliteit/eisen" { "toetsingskader" } " aan." }
                } @else {
                    form method="post" enctype="multipart/form-data" action={"/kwaliteit/contracten/" (c.id) "/plannen"} novalidate {
                        // First, before the file: the token is read from the start of the body.
                        (chrome.csrf_field())
                        div.field-row {
                            (Field::new("submitted_on", "Ingediend op", &form.submitted_on, errors).required().date())
                            (Field::new("criteria_set_id", "Toetsingskader", &chosen, errors).required().select(&set_options))
                        }
                        div.field.has-error[errors.get("document").is_some()] {
                            label for="document" { "Document" span.required aria-hidden="true" { " *" } }
                            p.hint #document-hint { "PDF, DOCX of XLSX, hoogstens 20 MB." }
                            @if let Some(e) = errors.get("document") { p.error-message #document-error { span.visually-hidden { "Fout: " } (e) } }
                            input type="file" id="document" name="document" accept=".pdf,.docx,.xlsx" required
                                aria-describedby={"document-hint" @if errors.get("document").is_some() { " document-error" }}
                                aria-invalid=[errors.get("document").map(|_| "true")];
                        }
                        button type="submit" { "Versie vastleggen" }
                    }
                }
            }
        },
    )
}

fn size_text(bytes: i64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} kB", (bytes + 1023) / 1024)
    } else {
        format!("{} MB", display_decimal(rust_decimal::Decimal::new(bytes * 10 / (1024 * 1024), 1)))
    }
}

fn unreadable() -> AppError {
    AppError::BadRequest(
        "het formulier kon niet worden gelezen; kies het bestand opnieuw en verstuur het nog eens".into(),
    )
}

async fn upload_plan(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let contract = store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mut form = UploadForm::default();
    let (mut file_name, mut bytes, mut size) = (String::new(), Vec::new(), 0usize);
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name() {
            Some("document") => {
                file_name = field.file_name().unwrap_or_default().to_string();
                // Read everything (the global body limit caps it) but keep no more than the limit allows.
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                    size += chunk.len();
                    if bytes.len() <= MAX_DOCUMENT_BYTES {
                        bytes.extend_from_slice(&chunk);
                    }
                }
            }
            Some("submitted_on") => form.submitted_on = field.text().await.map_err(|_| unreadable())?,
            Some("criteria_set_id") => form.criteria_set_id = field.text().await.map_err(|_| unreadable())?,
            _ => {}
        }
    }
    let mut e = FieldErrors::new();
    let today = dates::today();
    let submitted_on = match dates::parse_form(&form.submitted_on) {
        Ok(Some(d)) if d > today => {
            e.add("submitted_on", "De indieningsdatum ligt in de toekomst.");
            None
        }
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            e.add("submitted_on", "Ingediend op is verplicht.");
            None
        }
        Err(m) => {
            e.add("submitted_on", m);
            None
        }
    };
    let set = match form.criteria_set_id.trim().parse::<i64>() {
        Ok(sid) => store::quality::get_set(&state.db, sid).await?,
        Err(_) => None,
    };
    if set.is_none() {
        e.add("criteria_set_id", "Kies het toetsingskader waartegen dit plan wordt beoordeeld.");
    }
    let kind = check_upload(&file_name, &bytes, size).map_err(|m| e.add("document", m)).ok();
    if let (Some(submitted_on), Some(set), Some(kind), true) = (submitted_on, set, kind, e.is_empty()) {
        let new = NewPlan {
            contract_id: contract.id,
            criteria_set_id: set.id,
            submitted_on,
            file_name: file_name.trim(),
            kind,
            bytes: &bytes,
        };
        let plan_id = store::quality::submit_plan(&state.db, &new, user.actor())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        return Ok(Redirect::to(&format!("/kwaliteit/plannen/{plan_id}?melding=aangemaakt")).into_response());
    }
    let page = ContractPlansPage { form, errors: e, ..load_contract_plans(&state, id).await? };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_contract(&chrome, &page)).into_response())
}

async fn download(State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Response> {
    let (name, kind, bytes) = store::quality::document(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, kind.content_type().to_string()),
            (header::CONTENT_DISPOSITION, content_disposition(&name, kind)),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// A plan version: assessment and decision

/// What came back with errors on the plan page.
#[derive(Default)]
struct PlanForms {
    /// Typed scores and findings per criterion id.
    typed: BTreeMap<i64, (String, String)>,
    /// Errors per criterion id.
    errors: BTreeMap<i64, String>,
    /// A refusal of the whole assessment (frozen version, stale form).
    refusal: Option<String>,
    decision: (String, String),
    decision_errors: FieldErrors,
}

/// One plan version: its facts, the assessment per criterion next to the previous version's, the decision.
struct PlanPage {
    plan: PlanVersion,
    set: CriteriaSet,
    items: Vec<Criterion>,
    current: Vec<Assessment>,
    previous: Option<PlanVersion>,
    /// The previous version's scores by criterion code.
    before: BTreeMap<String, Assessment>,
    /// Criteria scored in this version, and how many of those were carried over unseen.
    scored: usize,
    carried: usize,
    forms: PlanForms,
}

async fn plan_detail(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    Ok(plan_page(&chrome, &load_plan(&state, id).await?))
}

async fn load_plan(state: &AppState, id: i64) -> AppResult<PlanPage> {
    let plan = store::quality::plan(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let set = store::quality::get_set(&state.db, plan.criteria_set_id).await?.ok_or(AppError::NotFound)?;
    let items = store::quality::criteria(&state.db, set.id).await?;
    let current = store::quality::assessments(&state.db, id).await?;
    let versions = store::quality::plans_for_contract(&state.db, plan.contract_id).await?;
    let previous = versions.into_iter().rev().find(|v| v.version_no < plan.version_no);
    // The previous version's scores by criterion code, so a changed set still lines up.
    let mut before: BTreeMap<String, Assessment> = BTreeMap::new();
    if let Some(prev) = &previous {
        let prev_items = store::quality::criteria(&state.db, prev.criteria_set_id).await?;
        for a in store::quality::assessments(&state.db, prev.id).await? {
            if let Some(c) = prev_items.iter().find(|c| c.id == a.criterion_id) {
                before.insert(c.code.clone(), a);
            }
        }
    }
    let scored = current.len();
    let carried = current.iter().filter(|a| a.carried_over).count();
    Ok(PlanPage { plan, set, items, current, previous, before, scored, carried, forms: PlanForms::default() })
}

fn plan_page(chrome: &Chrome, page: &PlanPage) -> Markup {
    let (plan, set, items, current, before, forms) =
        (&page.plan, &page.set, &page.items, &page.current, &page.before, &page.forms);
    let (previous, scored, carried) = (page.previous.as_ref(), page.scored, page.carried);
    let editable = chrome.may(Permission::ManageContracts) && !plan.status.is_frozen();
    let decisions = [
        ("", "Kies een besluit"),
        ("approved", "Goedkeuren"),
        ("revision_requested", "Aanpassing vragen"),
        ("rejected", "Afwijzen"),
    ];
    let assessment_table = html! {
        table {
            caption { "Eisen uit " (set.label()) @if let Some(p) = previous { ", met de beoordeling van versie " (p.version_no) " ernaast" } }
            thead { tr {
                th scope="col" { "Eis" } th scope="col" { "Norm" }
                @if previous.is_some() { th scope="col" { "Vorige versie" } }
                th scope="col" { "Score" } th scope="col" { "Bevinding" } th scope="col" { "Beoordelaar" }
            } }
            tbody {
                @for c in items.iter() {
                    @let a = current.iter().find(|a| a.criterion_id == c.id);
                    @let typed = forms.typed.get(&c.id);
                    @let score_value = typed.map(|t| t.0.clone()).or_else(|| a.map(|a| a.score.code())).unwrap_or_default();
                    @let finding_value = typed.map(|t| t.1.clone()).or_else(|| a.map(|a| a.finding.clone())).unwrap_or_default();
                    @let err = forms.errors.get(&c.id);
                    tr class=[err.map(|_| "has-error")] {
                        th scope="row" { (c.code) " " (c.title) @if c.knock_out { " " span.tag { "knock-out" } } }
                        td { (norm_text(c)) }
                        @if previous.is_some() {
                            td {
                                @match before.get(&c.code) {
                                    Some(b) => {
                                        (b.score.label()) @if !b.finding.is_empty() { br; span.muted { (b.finding) } }
                                        @if let Some(a) = a { @if !a.carried_over && (a.score != b.score || a.finding != b.finding) { br; strong { "Gewijzigd in deze versie" } } }
                                    }
                                    None => { "Niet beoordeeld" }
                                }
                            }
                        }
                        td {
                            @if let Some(m) = err { p.error-message id={"score_" (c.id) "-error"} { span.visually-hidden { "Fout: " } (m) } }
                            @if editable {
                                label.visually-hidden for={"score_" (c.id)} { "Score " (c.code) }
                                select id={"score_" (c.id)} name={"score_" (c.id)} aria-invalid=[err.map(|_| "true")] {
                                    option value="" { "Nog niet beoordeeld" }
                                    @for (v, l) in c.scoring.options() { option value=(v) selected[v == score_value] { (l) } }
                                }
                            } @else {
                                (a.map(|a| a.score.label()).unwrap_or_else(|| "Niet beoordeeld".into()))
                            }
                            @if a.is_some_and(|a| a.carried_over) { br; span.status.status-warn { "Overgenomen uit vorige versie" } }
                        }
                        td {
                            @if editable {
                                label.visually-hidden for={"finding_" (c.id)} { "Bevinding " (c.code) }
                                textarea id={"finding_" (c.id)} name={"finding_" (c.id)} rows="2" { (finding_value) }
                            } @else { span.pre { (finding_value) } }
                        }
                        td { @if let Some(a) = a { (a.assessor) br; (dates::display(a.assessed_on)) } @else { "—" } }
                    }
                }
                @if items.is_empty() { tr { td colspan="6" { "Dit toetsingskader heeft nog geen eisen." } } }
            }
        }
    };
    html! {
        (chrome.page(
            &format!("Kwaliteitsplan {} versie {}", plan.contract_reference, plan.version_no),
            html! {
                p.breadcrumb { a href="/kwaliteit" { "Kwaliteit" } " › " a href={"/kwaliteit/contracten/" (plan.contract_id)} { "Kwaliteitsplan " (plan.contract_reference) } }
                h1 { "Kwaliteitsplan " (plan.contract_reference) ", versie " (plan.version_no) }
                p { a href={"/historie/quality_plan_version/" (plan.id)} { "Geschiedenis van deze versie" } }
                dl.facts {
                    dt { "Taalaanbieder" } dd { a href={"/kwaliteit/aanbieders/" (plan.provider_id)} { (plan.provider_name) } }
                    dt { "Ingediend op" } dd { (dates::display(plan.submitted_on)) }
                    dt { "Status" } dd { span.status.(plan.status.css_class()) { (plan.status.label()) } @if plan.status.is_frozen() { " (bevroren)" } }
                    dt { "Document" } dd { a href={"/kwaliteit/plannen/" (plan.id) "/document"} { (plan.file_name) } " (" (plan.document_kind.label()) ", " (size_text(plan.size_bytes)) ")" }
                    dt { "Toetsingskader" } dd { a href={"/kwaliteit/eisen/" (set.id)} { (set.label()) } }
                    dt { "Beoordeeld" } dd { (scored) " van " (crate::domain::words::count(items.len(), "eis", "eisen")) @if carried > 0 { ", waarvan " (carried) " overgenomen uit versie " (previous.map(|p| p.version_no).unwrap_or_default()) " en nog niet opnieuw bekeken" } }
                    @if let Some(d) = plan.decided_on {
                        dt { "Besluit" } dd { (plan.status.label()) " op " (dates::display(d)) " door " (plan.decided_by.as_deref().unwrap_or("")) }
                        dt { "Onderbouwing" } dd.pre { (plan.decision_reasoning) }
                    }
                }
                h2 #beoordeling { "Beoordeling per eis" }
                @if let Some(m) = &forms.refusal { div.error-summary role="alert" { h2 { "Beoordeling niet opgeslagen" } p #weigering { (m) } } }
                @if !forms.errors.is_empty() {
                    div.error-summary role="alert" {
                        h2 { "Er is iets niet goed ingevuld" }
                        ul { @for (cid, m) in &forms.errors { li { a href={"#score_" (cid)} { (m) } } } }
                    }
                }
                @if editable {
                    form method="post" action={"/kwaliteit/plannen/" (plan.id) "/beoordeling"} novalidate {
                        (chrome.csrf_field())
                        input type="hidden" name="version" value=(plan.version);
                        (assessment_table)
                        button type="submit" { "Beoordeling opslaan" }
                    }
                } @else {
                    (assessment_table)
                }
                @if chrome.may(Permission::ManageContracts) {
                    p { a href={"/kwaliteit/aanbieders/" (plan.provider_id) "?plan=" (plan.id) "#nieuw-verbeterpunt"} { "Verbeterpunt uit deze beoordeling vastleggen" } }
                }
                h2 #besluit { "Besluit over deze versie" }
                @if plan.status.is_frozen() {
                    (error_summary(&forms.decision_errors, &[("decision", "Besluit"), ("reasoning", "Onderbouwing")]))
                    p { "Besloten: " span.status.(plan.status.css_class()) { (plan.status.label()) } ". Deze versie is bevroren; een nieuwe beoordeling vraagt een nieuwe versie." }
                } @else if editable {
                    p.hint { "Goedkeuren kan als elke eis een score heeft en geen knock-outeis 'niet voldaan' of 1–2 scoort. Na het besluit is deze versie bevroren." }
                    (error_summary(&forms.decision_errors, &[("decision", "Besluit"), ("reasoning", "Onderbouwing")]))
                    form method="post" action={"/kwaliteit/plannen/" (plan.id) "/besluit#besluit"} novalidate {
                        (chrome.csrf_field())
                        input type="hidden" name="version" value=(plan.version);
                        (Field::new("decision", "Besluit", &forms.decision.0, &forms.decision_errors).required().select(&decisions))
                        (Field::new("reasoning", "Onderbouwing", &forms.decision.1, &forms.decision_errors).required().textarea())
                        button type="submit" { "Besluit vastleggen" }
                    }
                } @else {
                    p { "Nog geen besluit." }
                }
            }
        ))
    }
}

async fn assess(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let plan = store::quality::plan(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let items = store::quality::criteria(&state.db, plan.criteria_set_id).await?;
    let mut typed: BTreeMap<i64, (String, String)> = BTreeMap::new();
    let mut version = None;
    for (k, v) in fields {
        if k == "version" {
            version = v.trim().parse::<i64>().ok();
        } else if let Some(cid) = k.strip_prefix("score_").and_then(|n| n.parse::<i64>().ok()) {
            typed.entry(cid).or_default().0 = v;
        } else if let Some(cid) = k.strip_prefix("finding_").and_then(|n| n.parse::<i64>().ok()) {
            typed.entry(cid).or_default().1 = v;
        }
    }
    let version = version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie van het plan".into()))?;
    let inputs: Vec<AssessmentInput> = typed
        .iter()
        .map(|(cid, (score, finding))| AssessmentInput {
            criterion_id: *cid,
            score: score.clone(),
            finding: finding.clone(),
        })
        .collect();
    let refs: Vec<_> = items.iter().map(Criterion::as_ref).collect();
    let mut forms = PlanForms { typed, ..Default::default() };
    let status = match validate_assessment(&refs, &inputs) {
        Ok(drafts) => {
            match store::quality::save_assessment(&state.db, id, version, &drafts, dates::today(), user.actor()).await {
                Ok(()) => {
                    return Ok(Redirect::to(&format!("/kwaliteit/plannen/{id}?melding=opgeslagen#beoordeling"))
                        .into_response())
                }
                Err(QualityError::Frozen(m)) => {
                    forms.refusal = Some(m);
                    StatusCode::CONFLICT
                }
                Err(QualityError::StalePlan(now)) => {
                    forms.refusal = Some(format!(
                        "Iemand anders heeft deze versie intussen beoordeeld of van status veranderd (nu: {}). Uw scores zijn niet opgeslagen; ze staan hieronder nog ingevuld, controleer ze en sla opnieuw op.",
                        now.status.label().to_lowercase()
                    ));
                    StatusCode::CONFLICT
                }
                Err(QualityError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Err(errors) => {
            forms.errors = errors;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let page = PlanPage { forms, ..load_plan(&state, id).await? };
    Ok((status, plan_page(&chrome, &page)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecideForm {
    decision: String,
    reasoning: String,
    version: Option<i64>,
}

async fn decide(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<DecideForm>,
) -> AppResult<Response> {
    let plan = store::quality::plan(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let items = store::quality::criteria(&state.db, plan.criteria_set_id).await?;
    let current = store::quality::assessments(&state.db, id).await?;
    let refs: Vec<_> = items.iter().map(Criterion::as_ref).collect();
    let scores: Vec<_> = current.iter().map(|a| (a.criterion_id, a.score)).collect();
    let version =
        form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie van het plan".into()))?;
    let mut forms = PlanForms { decision: (form.decision.clone(), form.reasoning.clone()), ..Default::default() };
    let status = match validate_plan_decision(&form.decision, &form.reasoning, &refs, &scores) {
        Ok((status, reasoning)) => {
            match store::quality::decide_plan(&state.db, id, version, status, &reasoning, dates::today(), user.actor())
                .await
            {
                Ok(()) => {
                    return Ok(
                        Redirect::to(&format!("/kwaliteit/plannen/{id}?melding=opgeslagen#besluit")).into_response()
                    )
                }
                Err(QualityError::Frozen(m)) => {
                    forms.decision_errors.add("decision", m);
                    StatusCode::CONFLICT
                }
                Err(QualityError::StalePlan(now)) => {
                    forms.decision_errors.add(
                        "decision",
                        format!(
                            "Iemand anders heeft deze versie intussen gewijzigd (nu: {}). Bekijk de beoordeling opnieuw voordat u besluit.",
                            now.status.label().to_lowercase()
                        ),
                    );
                    StatusCode::CONFLICT
                }
                Err(QualityError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => {
            forms.decision_errors = e;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let page = PlanPage { forms, ..load_plan(&state, id).await? };
    Ok((status, plan_page(&chrome, &page)).into_response())
}
