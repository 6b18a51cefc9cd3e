//! Provider quality screens: the dashboard, a provider's quality report (screen, print and xlsx),
//! follow-up actions and results per measurement year. Criteria and plans live in `quality_plans`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use time::Date;

use super::forms::{error_summary, Field};
use super::views::{mark_status, Chrome};
use super::{quality_plans, AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::MarkStatus;
use crate::domain::dates;
use crate::domain::quality::{
    display_decimal, is_overdue, validate_action, validate_result, ActionForm, ActionSource, ActionStatus,
    ExamComponent, NormCheck, NormOutcome, ResultInput,
};
use crate::domain::route::Route;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::report::quality::{compare, norms_for, report_xlsx, ProviderReport};
use crate::store;
use crate::store::providers::Provider;
use crate::store::quality::{FollowUpAction, PlanVersion, QualityError, StoredResult};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/kwaliteit", Permission::Read, dashboard)
        .get("/kwaliteit/acties", Permission::Read, action_list)
        .post("/kwaliteit/acties/{id}", Permission::ManageContracts, update_action)
        .get("/kwaliteit/aanbieders/{id}", Permission::Read, provider_page)
        .get("/kwaliteit/aanbieders/{id}/rapport.xlsx", Permission::Read, provider_xlsx)
        .post("/kwaliteit/aanbieders/{id}/acties", Permission::ManageContracts, create_action)
        .post("/kwaliteit/aanbieders/{id}/resultaten", Permission::ManageContracts, save_result)
        .merge(quality_plans::routes())
}

/// Shows a norm outcome as a word in a coloured tag: never colour alone.
pub fn outcome_tag(o: NormOutcome) -> Markup {
    html! { span.status.(o.css_class()) { (o.label()) } }
}

fn check_line(c: &NormCheck) -> Markup {
    html! {
        (outcome_tag(c.outcome)) " " (c.criterion_code) ": " (c.norm.metric.format(c.value))
        " (norm " (c.norm.describe()) @if !c.note.is_empty() { "; " (c.note) } ")"
    }
}

// ---------------------------------------------------------------------------------------------
// Which norms apply

// `report::quality::norms_for` and `compare`: one lookup for the dashboard, the provider report and the
// indicators.

// ---------------------------------------------------------------------------------------------
// Dashboard

struct DashboardRow {
    provider: Provider,
    mark: MarkStatus,
    latest_plan: Option<PlanVersion>,
    open: usize,
    overdue: usize,
    year: Option<i32>,
    checks: Vec<(Route, NormCheck)>,
    /// How many of `checks` meet their norm.
    met: usize,
}

/// The quality dashboard: every active provider, who needs a conversation first at the top, and the counts of
/// its cards.
struct Dashboard {
    today: Date,
    rows: Vec<DashboardRow>,
    overdue_total: usize,
    red_total: usize,
    no_mark: usize,
}

async fn dashboard(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_dashboard(&chrome, &load_dashboard(&state).await?))
}

async fn load_dashboard(state: &AppState) -> AppResult<Dashboard> {
    let today = dates::today();
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    let decisions = store::certifications::all_by_provider(&state.db).await?;
    let plans = store::quality::all_plans(&state.db).await?;
    // Only what the dashboard shows: open actions and each provider's latest results.
    let actions = store::quality::open_actions(&state.db).await?;
    let results = store::quality::latest_results(&state.db).await?;
    let sets = store::quality::list_sets(&state.db).await?;
    let mut cache = HashMap::new();
    let none = Vec::new();
    let mut rows = Vec::new();
    for p in providers {
        let own_plans: Vec<PlanVersion> = plans.iter().filter(|v| v.provider_id == p.id).cloned().collect();
        let (_, norms) = norms_for(&state.db, &sets, &own_plans, &mut cache).await?;
        let own_actions: Vec<&FollowUpAction> = actions.iter().filter(|a| a.provider_id == p.id).collect();
        let year = results.iter().filter(|r| r.provider_id == p.id).map(|r| r.result.year).max();
        let latest: Vec<StoredResult> =
            results.iter().filter(|r| r.provider_id == p.id && Some(r.result.year) == year).cloned().collect();
        let mut checks: Vec<(Route, NormCheck)> = compare(latest, &norms)
            .into_iter()
            .flat_map(|rc| rc.checks.into_iter().map(move |c| (rc.result.result.route, c)))
            .collect();
        checks.sort_by(|a, b| b.1.outcome.cmp(&a.1.outcome).then(a.0.cmp(&b.0)));
        rows.push(DashboardRow {
            mark: MarkStatus::of(decisions.get(&p.id).unwrap_or(&none), today),
            latest_plan: own_plans.iter().max_by_key(|v| (v.submitted_on, v.id)).cloned(),
            open: own_actions.iter().filter(|a| !a.status.is_closed()).count(),
            overdue: own_actions.iter().filter(|a| is_overdue(a.status, a.due_date, today)).count(),
            year,
            met: checks.iter().filter(|(_, c)| c.outcome == NormOutcome::Green).count(),
            checks,
            provider: p,
        });
    }
    // Who needs a conversation first: no valid mark, then overdue actions, then results below the norm.
    let urgency = |r: &DashboardRow| {
        let worst = r.checks.iter().map(|(_, c)| c.outcome).max();
        (!r.mark.is_valid(), r.overdue, worst == Some(NormOutcome::Red), worst == Some(NormOutcome::Amber), r.open)
    };
    rows.sort_by(|a, b| urgency(b).cmp(&urgency(a)).then_with(|| a.provider.name.cmp(&b.provider.name)));
    let overdue_total: usize = rows.iter().map(|r| r.overdue).sum();
    let red_total = rows.iter().filter(|r| r.checks.iter().any(|(_, c)| c.outcome == NormOutcome::Red)).count();
    let no_mark = rows.iter().filter(|r| !r.mark.is_valid()).count();
    Ok(Dashboard { today, rows, overdue_total, red_total, no_mark })
}

fn render_dashboard(chrome: &Chrome, d: &Dashboard) -> Markup {
    let Dashboard { today, rows, overdue_total, red_total, no_mark } = d;
    chrome.page(
        "Kwaliteit",
        html! {
            h1 { "Kwaliteit van de taalaanbieders" }
            p.lead { "Keurmerk, kwaliteitsplan, verbeterpunten en resultaten per aanbieder, stand van " (dates::display(*today)) "." }
            ul.cards {
                li.card { a href="#aanbieders" { strong { (no_mark) } " aanbieders zonder geldig keurmerk of geschorst" } }
                li.card { a href="/kwaliteit/acties" { strong { (overdue_total) } " verbeterpunten over de streefdatum" } }
                li.card { a href="#aanbieders" { strong { (red_total) } " aanbieders met een resultaat dat niet aan de norm voldoet" } }
            }
            p.actions {
                a href="/kwaliteit/eisen" { "Toetsingskaders en eisen" }
                a href="/kwaliteit/acties" { "Alle openstaande verbeterpunten" }
                @if chrome.may(Permission::ManageContracts) {
                    a href="/registers/import?sjabloon=standaard-resultaten" { "Resultaten importeren" }
                    a href="/registers/import?sjabloon=standaard-keurmerken" { "Keurmerkbesluiten importeren (Blik op Werk-register)" }
                }
            }
            p.hint { "Normuitkomst: " (outcome_tag(NormOutcome::Green)) " haalt de norm; " (outcome_tag(NormOutcome::Amber))
                " mist de norm met hoogstens 10% van de normwaarde; " (outcome_tag(NormOutcome::Red)) " mist de norm met meer dan 10%." }
            table #aanbieders {
                caption { "Kwaliteit per actieve taalaanbieder, wie het meest aandacht vraagt bovenaan" }
                thead { tr {
                    th scope="col" { "Taalaanbieder" } th scope="col" { "Keurmerk" } th scope="col" { "Laatste kwaliteitsplan" }
                    th.num scope="col" { "Open verbeterpunten" } th.num scope="col" { "Te laat" } th scope="col" { "Resultaten tegen de normen" }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            th scope="row" { a href={"/kwaliteit/aanbieders/" (r.provider.id)} { (r.provider.name) } }
                            td { (mark_status(&r.mark)) }
                            td {
                                @match &r.latest_plan {
                                    Some(p) => {
                                        a href={"/kwaliteit/plannen/" (p.id)} { (p.contract_reference) " versie " (p.version_no) }
                                        " " span.status.(p.status.css_class()) { (p.status.label()) }
                                    }
                                    None => { "Geen plan ingediend" }
                                }
                            }
                            td.num { a href={"/kwaliteit/aanbieders/" (r.provider.id) "#acties"} { (r.open) } }
                            td.num { @if r.overdue > 0 { span.status.status-bad { (r.overdue) " te laat" } } @else { "0" } }
                            td {
                                @match r.year {
                                    None => { "Nog geen resultaten" }
                                    Some(y) => {
                                        a href={"/kwaliteit/aanbieders/" (r.provider.id) "#resultaten"} { "Meetjaar " (y) } ": "
                                        (r.met) " van " (crate::domain::words::count(r.checks.len(), "norm", "normen")) " gehaald"
                                        ul.compact {
                                            @for (route, c) in r.checks.iter().filter(|(_, c)| c.outcome != NormOutcome::Green) {
                                                li { (route.short_label()) " · " (check_line(c)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="6" { "Geen actieve taalaanbieders." } } }
                }
            }
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Actions

fn action_table(
    chrome: &Chrome,
    actions: &[FollowUpAction],
    caption: &str,
    with_provider: bool,
    today: Date,
) -> Markup {
    let manage = chrome.may(Permission::ManageContracts);
    let statuses: Vec<(&str, &str)> = ActionStatus::ALL.iter().map(|s| (s.code(), s.label())).collect();
    html! {
        table {
            caption { (caption) }
            thead { tr {
                th scope="col" { "Verbeterpunt" }
                @if with_provider { th scope="col" { "Taalaanbieder" } }
                th scope="col" { "Bron" } th scope="col" { "Eigenaar" } th scope="col" { "Aangemaakt" } th scope="col" { "Streefdatum" }
                th scope="col" { "Status" } th scope="col" { "Reactie aanbieder" }
                @if manage { th.no-print scope="col" { "Bijwerken" } }
            } }
            tbody {
                @for a in actions {
                    tr #{"actie-" (a.id)} {
                        th.text scope="row" { (a.description) }
                        @if with_provider { td { a href={"/kwaliteit/aanbieders/" (a.provider_id) "#acties"} { (a.provider_name) } } }
                        td { (a.source.label()) @if let Some(p) = a.plan_version_id { " (" a href={"/kwaliteit/plannen/" (p)} { "plan" } ")" } }
                        td { (a.owner) }
                        td { (dates::display(a.created_on)) }
                        td { (dates::display(a.due_date))
                            @if is_overdue(a.status, a.due_date, today) { " " span.status.status-bad { "te laat: " (crate::domain::words::count((today - a.due_date).whole_days(), "dag", "dagen")) } } }
                        td { (a.status.label()) }
                        td.pre { (a.provider_response) }
                        @if manage {
                            td.no-print {
                                form.stacked method="post" action={"/kwaliteit/acties/" (a.id)} {
                                    (chrome.csrf_field())
                                    input type="hidden" name="version" value=(a.version);
                                    input type="hidden" name="source" value=(a.source.code());
                                    input type="hidden" name="description" value=(a.description);
                                    input type="hidden" name="owner" value=(a.owner);
                                    label for={"due-" (a.id)} { "Streefdatum" }
                                    input type="date" id={"due-" (a.id)} name="due_date" value=(dates::iso(a.due_date));
                                    label for={"status-" (a.id)} { "Status" }
                                    select id={"status-" (a.id)} name="status" {
                                        @for (v, l) in &statuses { option value=(v) selected[*v == a.status.code()] { (l) } }
                                    }
                                    label for={"response-" (a.id)} { "Reactie aanbieder" }
                                    textarea id={"response-" (a.id)} name="provider_response" rows="2" { (a.provider_response) }
                                    button type="submit" { "Opslaan" }
                                }
                            }
                        }
                    }
                }
                @if actions.is_empty() { tr { td colspan="9" { "Geen verbeterpunten." } } }
            }
        }
    }
}

/// The open follow-up actions of every provider: those past their due date, and the others.
struct ActionsPage {
    today: Date,
    overdue: Vec<FollowUpAction>,
    open: Vec<FollowUpAction>,
}

async fn load_actions(state: &AppState) -> AppResult<ActionsPage> {
    let today = dates::today();
    let (overdue, open): (Vec<FollowUpAction>, Vec<FollowUpAction>) = store::quality::open_actions(&state.db)
        .await?
        .into_iter()
        .partition(|a| is_overdue(a.status, a.due_date, today));
    Ok(ActionsPage { today, overdue, open })
}

async fn action_list(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_actions(&chrome, &load_actions(&state).await?))
}

fn render_actions(chrome: &Chrome, page: &ActionsPage) -> Markup {
    let ActionsPage { today, overdue, open } = page;
    let today = *today;
    chrome.page(
        "Verbeterpunten",
        html! {
            p.breadcrumb { a href="/kwaliteit" { "Kwaliteit" } }
            h1 { "Verbeterpunten" }
            h2 #te-laat { "Over de streefdatum" }
            (action_table(chrome, overdue, &format!("{} verbeterpunten over de streefdatum, oudste eerst", overdue.len()), true, today))
            h2 #open { "Open, binnen de termijn" }
            (action_table(chrome, open, &format!("{} open verbeterpunten", open.len()), true, today))
            p { "Afgeronde en vervallen verbeterpunten staan bij de aanbieder." }
        },
    )
}

async fn create_action(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let provider = store::providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let today = dates::today();
    let plans = store::quality::plans_for_provider(&state.db, id).await?;
    let mut result = validate_action(&form, today);
    let plan_id = form.plan_version_id.trim().parse::<i64>().ok();
    if let Some(p) = plan_id {
        if !plans.iter().any(|v| v.id == p) {
            let mut e = result.err().unwrap_or_default();
            e.add("plan_version_id", "Kies een kwaliteitsplan van deze aanbieder.");
            result = Err(e);
        }
    }
    match result {
        Ok(draft) => {
            store::quality::create_action(&state.db, provider.id, plan_id, &draft, today, user.actor()).await?;
            Ok(Redirect::to(&format!("/kwaliteit/aanbieders/{id}?melding=aangemaakt#acties")).into_response())
        }
        Err(errors) => {
            let forms = ReportForms { action: (form, errors), ..Default::default() };
            let page = render_provider(&chrome, &state, id, &forms).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

async fn update_action(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let current = store::quality::action(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let back = format!("/kwaliteit/aanbieders/{}", current.provider_id);
    let version = form.version.ok_or_else(|| AppError::BadRequest("het formulier mist de versie".into()))?;
    let outcome = match validate_action(&form, current.created_on) {
        Ok(draft) => match store::quality::update_action(&state.db, id, version, &draft, user.actor()).await {
            Ok(()) => return Ok(Redirect::to(&format!("{back}?melding=opgeslagen#actie-{id}")).into_response()),
            Err(QualityError::StaleAction(now)) => {
                let mut e = FieldErrors::new();
                e.add(
                    "status",
                    format!(
                        "Iemand anders heeft dit verbeterpunt intussen gewijzigd (nu: status {}, streefdatum {}, reactie '{}'). Uw wijziging is niet opgeslagen; bekijk de nieuwe stand en probeer het opnieuw.",
                        now.status.label().to_lowercase(),
                        dates::display(now.due_date),
                        now.provider_response
                    ),
                );
                (StatusCode::CONFLICT, e)
            }
            Err(QualityError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        },
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let (status, errors) = outcome;
    let forms = ReportForms { update: Some((id, errors)), ..Default::default() };
    Ok((status, render_provider(&chrome, &state, current.provider_id, &forms).await?).into_response())
}

// ---------------------------------------------------------------------------------------------
// Results

const RESULT_LABELS: &[(&str, &str)] = &[
    ("year", "Meetjaar"),
    ("route", "Leerroute"),
    ("started", "Gestart"),
    ("completed", "Afgerond"),
    ("dropped_out", "Uitgevallen"),
    ("pass_lezen", "Slagingspercentage lezen"),
    ("pass_luisteren", "Slagingspercentage luisteren"),
    ("pass_schrijven", "Slagingspercentage schrijven"),
    ("pass_spreken", "Slagingspercentage spreken"),
    ("pass_knm", "Slagingspercentage KNM"),
    ("satisfaction", "Tevredenheid"),
    ("nt2_share", "Aandeel lessen door NT2-docenten"),
    ("group_size", "Gemiddelde groepsgrootte"),
];

async fn save_result(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ResultInput>,
) -> AppResult<Response> {
    store::providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    match validate_result(&form, dates::today()) {
        Ok(r) => {
            store::quality::save_result(&state.db, id, &r, user.actor()).await?;
            Ok(Redirect::to(&format!("/kwaliteit/aanbieders/{id}?melding=opgeslagen#resultaten")).into_response())
        }
        Err(errors) => {
            let forms = ReportForms { result: (form, errors), ..Default::default() };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render_provider(&chrome, &state, id, &forms).await?).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A provider's quality report

async fn load_report(state: &AppState, id: i64) -> AppResult<ProviderReport> {
    let provider = store::providers::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let today = dates::today();
    let decisions = store::certifications::for_provider(&state.db, id).await?;
    let plans = store::quality::plans_for_provider(&state.db, id).await?;
    let sets = store::quality::list_sets(&state.db).await?;
    let (norms_from, norms) = norms_for(&state.db, &sets, &plans, &mut HashMap::new()).await?;
    let results = compare(store::quality::results(&state.db, Some(id)).await?, &norms);
    Ok(ProviderReport {
        mark: MarkStatus::of(&decisions, today),
        actions: store::quality::actions(&state.db, Some(id)).await?,
        provider,
        plans,
        norms_from,
        results,
        today,
    })
}

#[derive(Default)]
struct ReportForms {
    action: (ActionForm, FieldErrors),
    result: (ResultInput, FieldErrors),
    /// An action update that came back with errors: (action id, errors).
    update: Option<(i64, FieldErrors)>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ReportQuery {
    /// A plan version to start a new follow-up action from (link on the plan page).
    plan: String,
}

async fn provider_page(
    chrome: Chrome,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Markup> {
    let mut forms = ReportForms::default();
    if !q.plan.is_empty() {
        forms.action.0 = ActionForm { source: "assessment".into(), plan_version_id: q.plan, ..Default::default() };
    }
    render_provider(&chrome, &state, id, &forms).await
}

/// A provider's quality page: the report (as its download has it) and the provider's contracts, whose quality
/// plans it links to.
struct ProviderQualityPage {
    report: ProviderReport,
    contracts: Vec<store::contracts::Contract>,
}

async fn load_provider_page(state: &AppState, id: i64) -> AppResult<ProviderQualityPage> {
    let report = load_report(state, id).await?;
    let contracts = store::contracts::list(&state.db).await?.into_iter().filter(|c| c.provider_id == id).collect();
    Ok(ProviderQualityPage { report, contracts })
}

/// The provider's quality page, with `forms` as entered when one came back with errors.
async fn render_provider(chrome: &Chrome, state: &AppState, id: i64, forms: &ReportForms) -> AppResult<Markup> {
    Ok(provider_view(chrome, &load_provider_page(state, id).await?, forms))
}

fn provider_view(chrome: &Chrome, page: &ProviderQualityPage, forms: &ReportForms) -> Markup {
    let (r, contracts) = (&page.report, &page.contracts);
    let manage = chrome.may(Permission::ManageContracts);
    let p = &r.provider;
    let sources: Vec<(&str, &str)> =
        std::iter::once(("", "Kies de bron")).chain(ActionSource::ALL.iter().map(|s| (s.code(), s.label()))).collect();
    let plan_labels: Vec<(String, String)> =
        std::iter::once((String::new(), "Geen (bijvoorbeeld uit een gesprek)".into()))
            .chain(
                r.plans.iter().map(|v| (v.id.to_string(), format!("{} versie {}", v.contract_reference, v.version_no))),
            )
            .collect();
    let plan_options: Vec<(&str, &str)> = plan_labels.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let route_options: Vec<(&str, &str)> =
        std::iter::once(("", "Kies een leerroute")).chain(Route::ALL.iter().map(|r| (r.code(), r.label()))).collect();
    let (af, ae) = &forms.action;
    let (rf, re) = &forms.result;
    chrome.page(
        &format!("Kwaliteit {}", p.name),
        html! {
            p.breadcrumb { a href="/kwaliteit" { "Kwaliteit" } }
            h1 { "Kwaliteitsrapport " (p.name) }
            p.muted { "Stand van " (dates::display(r.today)) ". "
                a href={"/aanbieders/" (p.id)} { "Gegevens van de aanbieder" } }
            div.actions {
                a.button href={"/kwaliteit/aanbieders/" (p.id) "/rapport.xlsx"} { "Download als Excel (xlsx)" }
                span.muted { "Afdrukken: gebruik de afdrukfunctie van uw browser; formulieren en menu worden dan weggelaten." }
            }
            @if let Some((action_id, errors)) = &forms.update {
                div.error-summary role="alert" {
                    h2 { "Verbeterpunt niet bijgewerkt" }
                    ul { @for (_, m) in errors.iter() { li { a href={"#actie-" (action_id)} { (m) } } } }
                }
            }

            h2 #keurmerk { "Blik op Werk-keurmerk" }
            p { (mark_status(&r.mark)) }

            h2 #plannen { "Kwaliteitsplannen" }
            table {
                caption { "Kwaliteitsplannen per contract" }
                thead { tr { th scope="col" { "Contract" } th scope="col" { "Versie" } th scope="col" { "Ingediend" } th scope="col" { "Status" } th scope="col" { "Besluit" } } }
                tbody {
                    @for v in &r.plans {
                        tr {
                            th scope="row" { a href={"/kwaliteit/contracten/" (v.contract_id)} { (v.contract_reference) } }
                            td { a href={"/kwaliteit/plannen/" (v.id)} { "Versie " (v.version_no) } }
                            td { (dates::display(v.submitted_on)) }
                            td { span.status.(v.status.css_class()) { (v.status.label()) } }
                            td { @if let Some(d) = v.decided_on { (dates::display(d)) ": " } (v.decision_reasoning) }
                        }
                    }
                    @if r.plans.is_empty() { tr { td colspan="5" { "Nog geen kwaliteitsplan ingediend." } } }
                }
            }
            @if !contracts.is_empty() {
                p { "Plan indienen of bekijken per contract: "
                    @for (i, c) in contracts.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={"/kwaliteit/contracten/" (c.id)} { (c.reference) }
                    }
                }
            }

            h2 #acties { "Verbeterpunten" }
            (action_table(chrome, &r.actions, &format!("{} verbeterpunten, alle jaren, op streefdatum", r.actions.len()), false, r.today))
            @if manage {
                h3 #nieuw-verbeterpunt { "Verbeterpunt toevoegen" }
                (error_summary(ae, &[("source", "Bron"), ("plan_version_id", "Kwaliteitsplan"), ("description", "Omschrijving"), ("owner", "Eigenaar"), ("due_date", "Streefdatum"), ("status", "Status")]))
                form method="post" action={"/kwaliteit/aanbieders/" (p.id) "/acties#nieuw-verbeterpunt"} novalidate {
                    (chrome.csrf_field())
                    div.field-row {
                        (Field::new("source", "Bron", &af.source, ae).required().select(&sources))
                        (Field::new("plan_version_id", "Kwaliteitsplan", &af.plan_version_id, ae).select(&plan_options))
                    }
                    (Field::new("description", "Omschrijving", &af.description, ae).required().textarea())
                    div.field-row {
                        (Field::new("owner", "Eigenaar", &af.owner, ae).required().hint("Wie bij de aanbieder of gemeente het oppakt").text())
                        (Field::new("due_date", "Streefdatum", &af.due_date, ae).required().hint("Niet vóór vandaag").date())
                    }
                    button type="submit" { "Verbeterpunt toevoegen" }
                }
            }

            h2 #resultaten { "Resultaten per meetjaar" }
            p { @match &r.norms_from {
                Some(s) => { "Getoetst aan de normen van toetsingskader " a href={"/kwaliteit/eisen/" (s.id)} { (s.label()) } "." }
                None => { "Er is nog geen toetsingskader met normen." }
            } }
            table {
                caption { "Resultaten per meetjaar en leerroute" }
                thead { tr {
                    th scope="col" { "Meetjaar" } th scope="col" { "Route" } th.num scope="col" { "Gestart" } th.num scope="col" { "Afgerond" } th.num scope="col" { "Uitgevallen" }
                    @for c in ExamComponent::ALL { th.num scope="col" { "Geslaagd " (c.in_sentence()) } }
                    th.num scope="col" { "Tevredenheid" } th.num scope="col" { "NT2-docenten" } th.num scope="col" { "Groepsgrootte" }
                } }
                tbody {
                    @for rc in &r.results {
                        @let x = &rc.result.result;
                        tr {
                            th scope="row" { (x.year) } td { (x.route.short_label()) }
                            td.num { (x.started) } td.num { (x.completed) } td.num { (x.dropped_out) }
                            @for c in ExamComponent::ALL { td.num { (x.pass_rates.get(&c).map(|v| format!("{}%", display_decimal(*v))).unwrap_or_else(|| "—".into())) } }
                            td.num { (x.satisfaction.map(display_decimal).unwrap_or_else(|| "—".into())) }
                            td.num { (x.nt2_share.map(|v| format!("{}%", display_decimal(v))).unwrap_or_else(|| "—".into())) }
                            td.num { (x.group_size.map(display_decimal).unwrap_or_else(|| "—".into())) }
                        }
                    }
                    @if r.results.is_empty() { tr { td colspan="13" { "Nog geen resultaten vastgelegd." } } }
                }
            }
            table #normen {
                caption { "Resultaten tegen de normen (groen: gehaald; oranje: hoogstens 10% van de normwaarde eronder; rood: verder eronder)" }
                thead { tr { th scope="col" { "Meetjaar en route" } th scope="col" { "Eis" } th scope="col" { "Norm" } th.num scope="col" { "Resultaat" } th scope="col" { "Uitkomst" } } }
                tbody {
                    @for rc in &r.results {
                        @for c in &rc.checks {
                            tr {
                                th scope="row" { (rc.result.result.year) " " (rc.result.result.route.short_label()) }
                                td { (c.criterion_code) ": " (c.norm.metric.label()) }
                                td { (c.norm.describe()) }
                                td.num { (c.norm.metric.format(c.value)) @if !c.note.is_empty() { " (" (c.note) ")" } }
                                td { (outcome_tag(c.outcome)) }
                            }
                        }
                    }
                    @if r.results.iter().all(|rc| rc.checks.is_empty()) { tr { td colspan="5" { "Geen resultaten om met normen te vergelijken." } } }
                }
            }
            @if manage {
                h3 #nieuwe-resultaten { "Resultaten vastleggen" }
                p.hint { "Een meetjaar en route die al bestaan worden vervangen; de vorige waarden blijven in de geschiedenis. "
                    "Resultaten van meerdere aanbieders tegelijk: " a href="/registers/import?sjabloon=standaard-resultaten" { "importeer een spreadsheet" } "." }
                (error_summary(re, RESULT_LABELS))
                form method="post" action={"/kwaliteit/aanbieders/" (p.id) "/resultaten#nieuwe-resultaten"} novalidate {
                    (chrome.csrf_field())
                    div.field-row {
                        (Field::new("year", "Meetjaar", &rf.year, re).required().hint("Bijvoorbeeld 2024").text())
                        (Field::new("route", "Leerroute", &rf.route, re).required().select(&route_options))
                    }
                    div.field-row {
                        (Field::new("started", "Gestart", &rf.started, re).required().input("number"))
                        (Field::new("completed", "Afgerond", &rf.completed, re).required().input("number"))
                        (Field::new("dropped_out", "Uitgevallen", &rf.dropped_out, re).required().input("number"))
                    }
                    fieldset.field {
                        legend { "Slagingspercentages per examenonderdeel (%)" }
                        div.field-row {
                            (Field::new("pass_lezen", "Lezen", &rf.pass_lezen, re).text())
                            (Field::new("pass_luisteren", "Luisteren", &rf.pass_luisteren, re).text())
                            (Field::new("pass_schrijven", "Schrijven", &rf.pass_schrijven, re).text())
                            (Field::new("pass_spreken", "Spreken", &rf.pass_spreken, re).text())
                            (Field::new("pass_knm", "KNM", &rf.pass_knm, re).text())
                        }
                    }
                    div.field-row {
                        (Field::new("satisfaction", "Tevredenheid (1 tot 10)", &rf.satisfaction, re).text())
                        (Field::new("nt2_share", "Lessen door geregistreerde NT2-docenten (%)", &rf.nt2_share, re).text())
                        (Field::new("group_size", "Gemiddelde groepsgrootte", &rf.group_size, re).text())
                    }
                    button type="submit" { "Resultaten opslaan" }
                }
            }
            p { a href={"/historie/provider/" (p.id)} { "Geschiedenis van deze aanbieder" } }
        },
    )
}

async fn provider_xlsx(State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Response> {
    let report = load_report(&state, id).await?;
    let bytes = report_xlsx(&report).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let name = format!("kwaliteitsrapport-aanbieder-{}-{}.xlsx", id, dates::iso(report.today));
    Ok(super::download(bytes, super::XLSX, &name))
}
