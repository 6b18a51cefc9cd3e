//! Progress screens: a placement's timeline with its warnings (and the forms for a report and a route change),
//! the invoice check per contract and period, the provider scorecard (also as xlsx), and a contract's progress
//! terms (attendance norm, catch-up rate).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::forms::{error_summary, Field};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::commitment::placement_payments;
use crate::domain::contract::Share;
use crate::domain::dates;
use crate::domain::invoice_check::{check, InvoiceCheck, PlacementInput};
use crate::domain::progress::{
    actual_start, attendance_pct, below_norm, numbered_attempts, start_deadline, validate_report, warnings,
    AbsenceReason, ExamPart, Hours, Period, Report, ReportForm,
};
use crate::domain::route::Route;
use crate::domain::route_change::{paused, route_on, stopped, validate_change, ChangeForm};
use crate::domain::scorecard::{scorecard, ScoreInput, ScoreKey, ScoreLine};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::store;
use crate::store::progress::{NewDecision, ProgressTerms, ReportError};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/plaatsingen/{id}/tijdlijn", Permission::ParticipantData, timeline)
        .post("/plaatsingen/{id}/voortgang", Permission::ManageContracts, add_report)
        .post("/plaatsingen/{id}/routewijzigingen", Permission::ManageContracts, add_change)
        .get("/factuurcontrole", Permission::ParticipantData, invoice_check)
        .post("/factuurcontrole/besluiten", Permission::ManageContracts, decide)
        .get("/scorecard", Permission::Read, scorecard_page)
        .get("/scorecard.xlsx", Permission::Read, scorecard_xlsx)
        .post("/contracten/{id}/voortgangsafspraken", Permission::ManageContracts, set_terms)
}

fn pct_text(p: Option<Decimal>) -> String {
    p.map(|p| format!("{}%", p.normalize().to_string().replace('.', ","))).unwrap_or_else(|| "–".into())
}

const REPORT_LABELS: &[(&str, &str)] = &[
    ("period", "Periode"),
    ("first_lesson", "Eerste lesdag"),
    ("offered", "Uren aangeboden"),
    ("attended", "Uren aanwezig"),
    ("absence", "Uren verzuim"),
    ("absence_reason", "Reden verzuim"),
    ("catch_up", "Inhaaluren"),
    ("level_reading", "Niveau lezen"),
    ("level_listening", "Niveau luisteren"),
    ("level_speaking", "Niveau spreken"),
    ("level_writing", "Niveau schrijven"),
    ("exams", "Examens"),
    ("remarks", "Opmerkingen"),
];

const CHANGE_LABELS: &[(&str, &str)] = &[
    ("kind", "Soort wijziging"),
    ("new_route", "Nieuwe leerroute"),
    ("decision_date", "Besluitdatum"),
    ("reason", "Reden"),
];

#[derive(Default)]
struct TimelineForms {
    report: (ReportForm, FieldErrors),
    change: (ChangeForm, FieldErrors),
}

async fn timeline(chrome: Chrome, State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Markup> {
    render_timeline(&chrome, &state, id, &TimelineForms::default()).await
}

async fn render_timeline(chrome: &Chrome, state: &AppState, id: i64, forms: &TimelineForms) -> AppResult<Markup> {
    let p = store::placements::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let c = store::contracts::get(&state.db, p.contract_id).await?.ok_or(AppError::NotFound)?;
    let terms = store::progress::progress_terms(&state.db, c.id).await?.ok_or(AppError::NotFound)?;
    let reports = store::progress::reports_for_placement(&state.db, id).await?;
    let today = dates::today();
    let current = route_on(p.route, &p.schedule.changes, today);
    let warns = warnings(p.pip_date, current, &reports, terms.attendance_norm_bp, today);
    let started = actual_start(&reports);
    let attempts = numbered_attempts(&reports);
    let payments = placement_payments(&c.terms, p.route, &p.schedule).unwrap_or_default();
    let total: Money = payments.iter().map(|x| x.amount).sum();
    let norm = Share::from_basis_points(terms.attendance_norm_bp).display();
    let manage = chrome.may(Permission::ManageContracts);
    let state_text = if stopped(&p.schedule.changes) {
        " (gestopt)"
    } else if paused(&p.schedule.changes) {
        " (gepauzeerd)"
    } else {
        ""
    };
    let cumulative: Vec<Hours> = reports
        .iter()
        .scan(Hours::ZERO, |sum, r| {
            *sum = *sum + r.draft.attended;
            Some(*sum)
        })
        .collect();
    let (rf, re) = &forms.report;
    let (cf, ce) = &forms.change;
    let reasons: Vec<(&str, &str)> =
        std::iter::once(("", "Geen verzuim")).chain(AbsenceReason::ALL.iter().map(|r| (r.code(), r.label()))).collect();
    let kinds: Vec<(&str, &str)> = vec![
        ("", "Kies een wijziging"),
        ("switch", "Overstap naar een andere leerroute"),
        ("pause", "Pauze"),
        ("resume", "Hervatten na een pauze"),
        ("stop", "Stoppen"),
    ];
    let routes: Vec<(&str, &str)> = std::iter::once(("", "Alleen bij een overstap"))
        .chain(c.terms.routes.iter().map(|r| (r.code(), r.label())))
        .collect();
    Ok(chrome.page(
        &format!("Tijdlijn {}", p.client_number.as_str()),
        html! {
            p.breadcrumb { a href="/plaatsingen" { "Plaatsingen" } " › " a href={"/plaatsingen/" (p.id)} { "Plaatsing " (p.client_number.as_str()) } }
            h1 { "Tijdlijn van plaatsing " (p.client_number.as_str()) }
            dl.facts {
                dt { "Contract" } dd { a href={"/contracten/" (c.id)} { (c.reference) } " (" (c.provider_name) ")" }
                dt { "Leerroute bij de start" } dd { (p.route.label()) }
                dt { "Huidige leerroute" } dd { (current.label()) (state_text) }
                dt { "PIP vastgesteld" } dd { @match p.pip_date { Some(d) => { (dates::display(d)) " (lessen uiterlijk " (dates::display(start_deadline(d))) ")" } None => { "onbekend" } } }
                dt { "Geplande start" } dd { (dates::display(p.schedule.start_date)) }
                dt { "Werkelijke start" } dd { @match started { Some(d) => { (dates::display(d)) } None => { "nog geen lessen gevolgd" } } }
                dt { "Aanwezigheidsnorm van het contract" } dd { (norm) }
                dt { "Status" } dd { (p.schedule.status.label()) @if let Some(d) = p.schedule.status_date { " op " (dates::display(d)) } }
            }
            h2 { "Signalen" }
            @if warns.is_empty() {
                p { "Geen signalen." }
            } @else {
                ul.warnings {
                    @for w in &warns { li { strong { "Let op: " } (w.message()) } }
                }
            }
            h2 { "Voortgang per periode" }
            @if reports.is_empty() {
                p { "Er zijn nog geen voortgangsrapportages voor deze plaatsing." }
            } @else {
                table {
                    caption { "Rapportages van de aanbieder (" (reports.len()) ")" }
                    thead { tr {
                        th scope="col" { "Periode" } th.num scope="col" { "Aangeboden" } th.num scope="col" { "Aanwezig" }
                        th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Totaal aanwezig" } th scope="col" { "Verzuim" }
                        th.num scope="col" { "Inhaaluren" } th scope="col" { "Niveaus (L/Lu/S/Sc)" } th scope="col" { "Examens" } th scope="col" { "Opmerkingen" }
                    } }
                    tbody {
                        @for (r, total_attended) in reports.iter().zip(&cumulative) {
                            @let d = &r.draft;
                            tr {
                                th scope="row" { (d.period.label()) }
                                td.num { (d.offered.dutch()) }
                                td.num { (d.attended.dutch()) }
                                td.num {
                                    (pct_text(attendance_pct(d.offered, d.attended)))
                                    @if below_norm(d.offered, d.attended, terms.attendance_norm_bp) { " (onder de norm)" }
                                }
                                td.num { (total_attended.dutch()) }
                                td { (d.absence.dutch()) " uur" @if let Some(reason) = d.absence_reason { " (" (reason.label()) ")" } }
                                td.num { (d.catch_up.dutch()) }
                                td { (d.levels.iter().map(|l| if l.is_empty() { "–" } else { l.as_str() }).collect::<Vec<_>>().join(" / ")) }
                                td {
                                    @for (n, x) in attempts.iter().filter(|(_, x)| d.period.contains(x.date) && d.exams.contains(x)) {
                                        (x.part.label()) " " (dates::display(x.date)) ": " (if x.passed { "geslaagd" } else { "gezakt" }) " (poging " (n) ")" br;
                                    }
                                }
                                td { (d.remarks) }
                            }
                        }
                    }
                }
            }
            h2 { "Routewijzigingen" }
            @if p.schedule.changes.is_empty() {
                p { "Geen routewijzigingen." }
            } @else {
                table {
                    caption { "Besluiten over de route" }
                    thead { tr { th scope="col" { "Besluitdatum" } th scope="col" { "Wijziging" } th scope="col" { "Reden" } } }
                    tbody {
                        @for ch in &p.schedule.changes {
                            tr { th scope="row" { (dates::display(ch.decision_date)) } td { (ch.kind.label()) } td { (ch.reason) } }
                        }
                    }
                }
            }
            h2 { "Verwachte betalingen" }
            table {
                caption { "Betaalmomenten volgens het contract, na routewijzigingen" }
                thead { tr { th scope="col" { "Moment" } th scope="col" { "Verschuldigd op" } th.num scope="col" { "Bedrag" } } }
                tbody {
                    @for x in &payments { tr { th scope="row" { (x.milestone) } td { (dates::display(x.due_date)) } td.num { (x.amount) } } }
                    tr { th scope="row" { "Totaal" } td {} td.num { strong { (total) } } }
                }
            }
            @if manage {
                h2 #rapportage { "Rapportage invoeren" }
                (error_summary(re, REPORT_LABELS))
                form method="post" action={"/plaatsingen/" (p.id) "/voortgang"} novalidate {
                    (chrome.csrf_field())
                    div.field-row {
                        (Field::new("period", "Periode", &rf.period, re).required().hint("Maand als 2023-03 of kwartaal als 2023-K1.").text())
                        (Field::new("first_lesson", "Eerste lesdag", &rf.first_lesson, re).date())
                    }
                    div.field-row {
                        (Field::new("offered", "Uren aangeboden", &rf.offered, re).required().text())
                        (Field::new("attended", "Uren aanwezig", &rf.attended, re).required().text())
                        (Field::new("catch_up", "Inhaaluren", &rf.catch_up, re).text())
                    }
                    div.field-row {
                        (Field::new("absence", "Uren verzuim", &rf.absence, re).text())
                        (Field::new("absence_reason", "Reden verzuim", &rf.absence_reason, re).select(&reasons))
                    }
                    div.field-row {
                        (Field::new("level_reading", "Niveau lezen", &rf.level_reading, re).text())
                        (Field::new("level_listening", "Niveau luisteren", &rf.level_listening, re).text())
                        (Field::new("level_speaking", "Niveau spreken", &rf.level_speaking, re).text())
                        (Field::new("level_writing", "Niveau schrijven", &rf.level_writing, re).text())
                    }
                    (Field::new("exams", "Examens", &rf.exams, re).hint("Bijvoorbeeld: lezen 12-03-2023 geslaagd; spreken 14-03-2023 gezakt. Onderdelen: lezen, luisteren, spreken, schrijven, KNM, ONA.").text())
                    (Field::new("remarks", "Opmerkingen", &rf.remarks, re).textarea())
                    button type="submit" { "Rapportage opslaan" }
                }
                h2 #routewijziging { "Routewijziging vastleggen" }
                (error_summary(ce, CHANGE_LABELS))
                form method="post" action={"/plaatsingen/" (p.id) "/routewijzigingen"} novalidate {
                    (chrome.csrf_field())
                    div.field-row {
                        (Field::new("kind", "Soort wijziging", &cf.kind, ce).required().select(&kinds))
                        (Field::new("new_route", "Nieuwe leerroute", &cf.new_route, ce).select(&routes))
                        (Field::new("decision_date", "Besluitdatum", &cf.decision_date, ce).required().date())
                    }
                    (Field::new("reason", "Reden", &cf.reason, ce).required().textarea())
                    p.hint { "Wat op de besluitdatum verschuldigd was, blijft verschuldigd; betaalmomenten daarna volgen de nieuwe situatie." }
                    button type="submit" { "Wijziging vastleggen" }
                }
            }
        },
    ))
}

async fn add_report(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let p = store::placements::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let c = store::contracts::get(&state.db, p.contract_id).await?.ok_or(AppError::NotFound)?;
    let mut errors = match validate_report(&form, p.schedule.start_date) {
        Ok(draft) => {
            let stored = store::progress::reports_for_placement(&state.db, id).await?;
            let mut e = FieldErrors::new();
            if let Some(o) =
                stored.iter().find(|r| r.draft.period != draft.period && r.draft.period.overlaps(draft.period))
            {
                e.add("period", format!("Deze periode overlapt met de rapportage over {}.", o.draft.period.label()));
            } else {
                match store::progress::create_report(&state.db, id, c.provider_id, &draft, user.actor()).await {
                    Ok(_) => return Ok(Redirect::to(&format!("/plaatsingen/{id}/tijdlijn?melding=opgeslagen")).into_response()),
                    Err(ReportError::Exists(diff)) if diff.is_empty() => {
                        e.add("period", "Deze rapportage is al opgeslagen (dezelfde cijfers); er is niets veranderd.")
                    }
                    Err(ReportError::Exists(diff)) => e.add(
                        "period",
                        format!(
                            "Conflict: voor deze periode is al een rapportage opgeslagen met andere cijfers ({}). Er is niets samengevoegd of overschreven.",
                            diff.join(", ")
                        ),
                    ),
                    Err(ReportError::Db(e)) => return Err(e.into()),
                }
            }
            e
        }
        Err(e) => e,
    };
    if errors.is_empty() {
        errors.add("period", "De rapportage is niet opgeslagen.");
    }
    let forms = TimelineForms { report: (form, errors), ..Default::default() };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_timeline(&chrome, &state, id, &forms).await?).into_response())
}

async fn add_change(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    let p = store::placements::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let c = store::contracts::get(&state.db, p.contract_id).await?.ok_or(AppError::NotFound)?;
    match validate_change(&form, p.route, &p.schedule, &c.terms) {
        Ok(change) => {
            store::progress::add_route_change(&state.db, id, &change, user.actor()).await?;
            Ok(Redirect::to(&format!("/plaatsingen/{id}/tijdlijn?melding=opgeslagen")).into_response())
        }
        Err(errors) => {
            let forms = TimelineForms { change: (form, errors), ..Default::default() };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render_timeline(&chrome, &state, id, &forms).await?).into_response())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CheckQuery {
    contract: String,
    periode: String,
}

async fn invoice_check(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(q): Query<CheckQuery>,
) -> AppResult<Response> {
    Ok(render_check(&chrome, &state, &q, None).await?.into_response())
}

/// The check for one contract and period, from the store.
async fn load_check(state: &AppState, contract_id: i64, period: Period) -> AppResult<InvoiceCheck> {
    let c = store::contracts::get(&state.db, contract_id).await?.ok_or(AppError::NotFound)?;
    let terms = store::progress::progress_terms(&state.db, contract_id).await?.ok_or(AppError::NotFound)?;
    let placements = store::placements::list(&state.db, Some(contract_id)).await?;
    let mut reports =
        store::progress::by_placement(store::progress::reports_for_contract(&state.db, contract_id).await?);
    let payments: Vec<_> =
        placements.iter().map(|p| placement_payments(&c.terms, p.route, &p.schedule).unwrap_or_default()).collect();
    let empty = Vec::new();
    let reports: Vec<Vec<Report>> = placements.iter().map(|p| reports.remove(&p.id).unwrap_or_default()).collect();
    let inputs = placements.iter().zip(&payments).zip(&reports).map(|((p, pay), rep)| PlacementInput {
        placement_id: p.id,
        client_number: p.client_number.as_str(),
        payments: pay,
        reports: if rep.is_empty() { &empty } else { rep },
    });
    let invoiced = store::progress::invoiced(&state.db, contract_id, period).await?;
    Ok(check(period, inputs, terms.catch_up_rate, invoiced))
}

async fn render_check(
    chrome: &Chrome,
    state: &AppState,
    q: &CheckQuery,
    error: Option<String>,
) -> AppResult<(StatusCode, Markup)> {
    let contracts = store::contracts::list(&state.db).await?;
    let contract = q.contract.trim().parse::<i64>().ok().and_then(|id| contracts.iter().find(|c| c.id == id));
    let period = Period::parse(&q.periode);
    let mut result = None;
    if let (Some(c), Ok(p)) = (contract, period.as_ref()) {
        let ch = load_check(state, c.id, *p).await?;
        let decisions = store::progress::decisions(&state.db, c.id, *p).await?;
        result = Some((c, ch, decisions));
    }
    let manage = chrome.may(Permission::ManageContracts);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let decision_form = |contract_id: i64, period: Period, placement: Option<i64>| {
        let suffix = placement.map(|p| p.to_string()).unwrap_or_else(|| "contract".into());
        html! {
            form method="post" action="/factuurcontrole/besluiten" {
                (chrome.csrf_field())
                input type="hidden" name="contract" value=(contract_id);
                input type="hidden" name="periode" value=(period.code());
                @if let Some(p) = placement { input type="hidden" name="placement" value=(p); }
                div.field {
                    label for={"besluit-" (suffix)} { "Besluit" }
                    select id={"besluit-" (suffix)} name="decision" {
                        option value="explained" { "Verklaard" }
                        option value="claim_back" { "Terugvorderen bij de aanbieder" }
                    }
                }
                div.field {
                    label for={"reden-" (suffix)} { "Reden" }
                    input id={"reden-" (suffix)} type="text" name="reason" maxlength="2000";
                }
                button type="submit" { "Besluit vastleggen" }
            }
        }
    };
    Ok((
        status,
        chrome.page(
            "Factuurcontrole",
            html! {
                h1 { "Factuurcontrole" }
                p.lead { "Per contract en periode: wat het contract verschuldigd maakt, wat er is gefactureerd (toegerekende grootboekregels) en wat de voortgangsrapportages onderbouwen." }
                @if let Some(e) = &error {
                    div.error-summary role="alert" { h2 { "Het besluit is niet opgeslagen" } p { (e) } }
                }
                form.filters method="get" action="/factuurcontrole" {
                    div.field {
                        label for="contract" { "Contract" }
                        select #contract name="contract" {
                            option value="" { "Kies een contract" }
                            @for c in &contracts { option value=(c.id) selected[Some(c.id) == contract.map(|x| x.id)] { (c.reference) " · " (c.provider_name) } }
                        }
                    }
                    div.field {
                        label for="periode" { "Periode" }
                        input #periode type="text" name="periode" value=(q.periode) aria-describedby="periode-hint";
                        p.hint #periode-hint { "Maand als 2023-03 of kwartaal als 2023-K1." }
                    }
                    button type="submit" { "Controleren" }
                }
                @if let (false, Err(m)) = (q.periode.trim().is_empty(), &period) { p.error-message { (m) } }
                @if let Some((c, ch, decisions)) = &result {
                    h2 { (c.reference) ", " (ch.period.label()) }
                    table {
                        caption { "Totalen" }
                        tbody {
                            tr { th scope="row" { "Te betalen volgens het contract" } td.num { (ch.payable) } }
                            tr { th scope="row" { "Gefactureerd (grootboek)" } td.num { (ch.invoiced) } }
                            tr { th scope="row" { "Onderbouwd door de voortgang" } td.num { (ch.supported) } }
                            tr { th scope="row" { "Gefactureerd min te betalen" } td.num { (ch.over_payable()) } }
                            tr { th scope="row" { "Gefactureerd min onderbouwd" } td.num { (ch.over_supported()) } }
                        }
                    }
                    @if !ch.over_payable().is_zero() {
                        p { strong { "Verschil: " } "er is " (ch.over_payable().abs()) (if ch.over_payable().is_negative() { " minder" } else { " meer" }) " gefactureerd dan het contract verschuldigd maakt." }
                        @if manage && !decisions.iter().any(|d| d.placement_id.is_none()) { (decision_form(c.id, ch.period, None)) }
                    }
                    table {
                        caption { "Per plaatsing (" (ch.placements.len()) ")" }
                        thead { tr {
                            th scope="col" { "Klantnummer" } th scope="col" { "Betaalmomenten" } th.num scope="col" { "Te betalen" }
                            th.num scope="col" { "Onderbouwd" } th.num scope="col" { "Verschil" } th scope="col" { "Besluit" }
                        } }
                        tbody {
                            @for pc in &ch.placements {
                                tr {
                                    th scope="row" { a href={"/plaatsingen/" (pc.placement_id) "/tijdlijn"} { (pc.client_number) } }
                                    td {
                                        @for (x, ok) in &pc.milestones {
                                            (x.milestone) " " (x.amount) ": " (if *ok { "onderbouwd" } else { "niet onderbouwd (geen aanwezigheid gerapporteerd)" }) br;
                                        }
                                        @if !pc.catch_up.is_zero() { "Inhaaluren " (pc.catch_up_hours.dutch()) ": " (pc.catch_up) }
                                    }
                                    td.num { (pc.payable) }
                                    td.num { (pc.supported) }
                                    td.num { (pc.unsupported()) }
                                    td {
                                        @if let Some(d) = decisions.iter().find(|d| d.placement_id == Some(pc.placement_id)) {
                                            (d.label()) ": " (d.reason) " (" (d.decided_by) ")"
                                        } @else if !pc.unsupported().is_zero() {
                                            "Open verschil"
                                            @if manage { (decision_form(c.id, ch.period, Some(pc.placement_id))) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if !decisions.is_empty() {
                        h2 { "Besluiten" }
                        ul {
                            @for d in decisions {
                                li { (d.label()) " " (Money::from_cents(d.amount_cents)) @if d.placement_id.is_none() { " (contract)" } ": " (d.reason) " — " (d.decided_by) ", " (d.decided_at.get(..10).unwrap_or_default()) }
                            }
                        }
                    }
                }
            },
        ),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    contract: String,
    periode: String,
    placement: String,
    decision: String,
    reason: String,
}

async fn decide(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(f): Form<DecisionForm>,
) -> AppResult<Response> {
    let q = CheckQuery { contract: f.contract.clone(), periode: f.periode.clone() };
    let contract_id =
        f.contract.trim().parse::<i64>().map_err(|_| AppError::BadRequest("geen contract gekozen".into()))?;
    let period = Period::parse(&f.periode).map_err(AppError::BadRequest)?;
    let placement_id = f.placement.trim().parse::<i64>().ok();
    let fail = |m: &str| m.to_string();
    let reason = f.reason.trim();
    let error = if reason.is_empty() {
        Some(fail("Geef een reden voor het besluit."))
    } else if reason.chars().count() > 2000 {
        Some(fail("De reden is langer dan 2000 tekens."))
    } else if !matches!(f.decision.as_str(), "explained" | "claim_back") {
        Some(fail("Kies verklaard of terugvorderen."))
    } else {
        None
    };
    if let Some(e) = error {
        return Ok(render_check(&chrome, &state, &q, Some(e)).await?.into_response());
    }
    // The amount comes from the check as it is now, not from the form.
    let ch = load_check(&state, contract_id, period).await?;
    let amount = match placement_id {
        Some(pid) => {
            ch.placements.iter().find(|p| p.placement_id == pid).map(|p| p.unsupported()).unwrap_or(Money::ZERO)
        }
        None => ch.over_payable(),
    };
    if amount.is_zero() {
        return Ok(render_check(&chrome, &state, &q, Some("Hier is (nu) geen verschil om over te besluiten.".into()))
            .await?
            .into_response());
    }
    let existing = store::progress::decisions(&state.db, contract_id, period).await?;
    if existing.iter().any(|d| d.placement_id == placement_id) {
        return Ok(render_check(&chrome, &state, &q, Some("Over dit verschil is al besloten.".into()))
            .await?
            .into_response());
    }
    let d = NewDecision {
        contract_id,
        period,
        placement_id,
        amount,
        claim_back: f.decision == "claim_back",
        reason: reason.to_string(),
    };
    store::progress::decide_difference(&state.db, &d, user.actor()).await?;
    Ok(Redirect::to(&format!("/factuurcontrole?contract={contract_id}&periode={}&melding=opgeslagen", period.code()))
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScoreQuery {
    van: String,
    tot: String,
}

/// One scorecard row as shown and exported.
struct ScoreRow {
    year: i32,
    route: Route,
    provider: String,
    line: ScoreLine,
}

const PARTS: [ExamPart; 5] =
    [ExamPart::Reading, ExamPart::Listening, ExamPart::Speaking, ExamPart::Writing, ExamPart::Knm];

async fn load_scorecard(state: &AppState, q: &ScoreQuery) -> AppResult<(i32, i32, Vec<ScoreRow>)> {
    let this_year = dates::today().year();
    let from = q.van.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).unwrap_or(2022);
    let until = q.tot.trim().parse::<i32>().ok().filter(|y| (from..=2100).contains(y)).unwrap_or(this_year.max(from));
    let contracts = store::contracts::list(&state.db).await?;
    let providers: HashMap<i64, (i64, String)> =
        contracts.iter().map(|c| (c.id, (c.provider_id, c.provider_name.clone()))).collect();
    let placements = store::placements::list(&state.db, None).await?;
    let mut reports = store::progress::by_placement(store::progress::all_reports(&state.db).await?);
    let reports: Vec<Vec<Report>> = placements.iter().map(|p| reports.remove(&p.id).unwrap_or_default()).collect();
    let inputs: Vec<ScoreInput> = placements
        .iter()
        .zip(&reports)
        .map(|(p, r)| ScoreInput {
            provider_id: providers.get(&p.contract_id).map(|x| x.0).unwrap_or_default(),
            route: p.route,
            pip_date: p.pip_date,
            dropped_out_on: (p.schedule.status == crate::domain::placement::PlacementStatus::DroppedOut)
                .then_some(p.schedule.status_date)
                .flatten(),
            change_dates: p.schedule.changes.iter().map(|c| c.decision_date).collect(),
            reports: r,
        })
        .collect();
    let names: HashMap<i64, String> = providers.values().cloned().collect();
    let lines = scorecard(&inputs, from..=until);
    let mut rows: Vec<ScoreRow> = lines
        .into_iter()
        .map(|((pid, route, year), line): (ScoreKey, ScoreLine)| ScoreRow {
            year,
            route,
            provider: names.get(&pid).cloned().unwrap_or_default(),
            line,
        })
        .collect();
    rows.sort_by(|a, b| (a.year, a.route, &a.provider).cmp(&(b.year, b.route, &b.provider)));
    Ok((from, until, rows))
}

fn first_attempt_text(line: &ScoreLine, part: ExamPart) -> String {
    match line.first_attempts.get(&part) {
        Some(f) if f.taken > 0 => format!("{} van {} ({})", f.passed, f.taken, pct_text(f.pct())),
        _ => "–".into(),
    }
}

async fn scorecard_page(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(q): Query<ScoreQuery>,
) -> AppResult<Markup> {
    let (from, until, rows) = load_scorecard(&state, &q).await?;
    let mut groups: Vec<((i32, Route), Vec<&ScoreRow>)> = Vec::new();
    for r in &rows {
        match groups.last_mut() {
            Some((k, v)) if *k == (r.year, r.route) => v.push(r),
            _ => groups.push(((r.year, r.route), vec![r])),
        }
    }
    Ok(chrome.page(
        "Scorecard aanbieders",
        html! {
            h1 { "Scorecard aanbieders" }
            p.lead { "Per jaar en leerroute (de route bij de start) de aanbieders naast elkaar: starts, wachttijd van PIP tot eerste les, aanwezigheid, verzuim, geslaagd bij de eerste examenpoging, routewijzigingen en uitval." }
            form.filters method="get" action="/scorecard" {
                div.field { label for="van" { "Van jaar" } input #van type="number" name="van" value=(from); }
                div.field { label for="tot" { "Tot en met jaar" } input #tot type="number" name="tot" value=(until); }
                button type="submit" { "Tonen" }
            }
            p { a href={"/scorecard.xlsx?van=" (from) "&tot=" (until)} { "Download als Excel (xlsx)" } }
            @if groups.is_empty() { p { "Geen voortgangsgegevens in deze jaren." } }
            @for ((year, route), lines) in &groups {
                h2 { (year) ", " (route.label()) }
                table {
                    caption { "Aanbieders vergeleken, " (route.short_label()) " " (year) }
                    thead { tr {
                        th scope="col" { "Aanbieder" } th.num scope="col" { "Starts" } th.num scope="col" { "Gem. wachttijd (dagen)" }
                        th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Verzuim (uren)" }
                        @for part in PARTS { th scope="col" { "1e poging " (part.label()) } }
                        th.num scope="col" { "Routewijzigingen" } th.num scope="col" { "Uitval" }
                    } }
                    tbody {
                        @for r in lines {
                            tr {
                                th scope="row" { (r.provider) }
                                td.num { (r.line.starts) }
                                td.num { (r.line.avg_wait_days().map(|d| d.normalize().to_string().replace('.', ",")).unwrap_or_else(|| "–".into())) }
                                td.num { (pct_text(r.line.attendance_pct())) }
                                td.num { (r.line.absence.dutch()) }
                                @for part in PARTS { td { (first_attempt_text(&r.line, part)) } }
                                td.num { (r.line.route_changes) }
                                td.num { (r.line.dropouts) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn scorecard_book(rows: &[ScoreRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::report::export::header_format;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Scorecard")?;
    let head = header_format();
    let pct = rust_xlsxwriter::Format::new().set_num_format("0.0");
    let mut headers: Vec<String> =
        ["Jaar", "Route", "Aanbieder", "Starts", "Gem. wachttijd (dagen)", "Aanwezigheid (%)", "Verzuim (uren)"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for part in PARTS {
        headers.push(format!("1e poging {} afgelegd", part.label()));
        headers.push(format!("1e poging {} geslaagd (%)", part.label()));
    }
    headers.extend(["Routewijzigingen".to_string(), "Uitval".to_string()]);
    for (i, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &head)?;
        ws.set_column_width(i as u16, (h.chars().count() as u16 + 2).max(10))?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, r.year)?;
        ws.write_string(row, 1, r.route.short_label())?;
        ws.write_string(row, 2, &r.provider)?;
        ws.write_number(row, 3, r.line.starts)?;
        if let Some(d) = r.line.avg_wait_days() {
            ws.write_with_format(row, 4, d, &pct)?;
        }
        if let Some(p) = r.line.attendance_pct() {
            ws.write_with_format(row, 5, p, &pct)?;
        }
        ws.write_with_format(row, 6, r.line.absence.decimal(), &pct)?;
        let mut col = 7u16;
        for part in PARTS {
            let f = r.line.first_attempts.get(&part).copied().unwrap_or_default();
            ws.write_number(row, col, f.taken)?;
            if let Some(p) = f.pct() {
                ws.write_with_format(row, col + 1, p, &pct)?;
            }
            col += 2;
        }
        ws.write_number(row, col, r.line.route_changes)?;
        ws.write_number(row, col + 1, r.line.dropouts)?;
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

async fn scorecard_xlsx(State(state): State<AppState>, Query(q): Query<ScoreQuery>) -> AppResult<Response> {
    let (from, until, rows) = load_scorecard(&state, &q).await?;
    let bytes = scorecard_book(&rows).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let name = format!("scorecard-aanbieders-{from}-{until}.xlsx");
    Ok((
        [
            (header::CONTENT_TYPE, crate::domain::document::DocumentKind::Xlsx.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

/// The progress terms on a contract's page: the attendance norm and the catch-up rate, with a form for managers.
pub fn terms_section(chrome: &Chrome, contract_id: i64, t: &ProgressTerms) -> Markup {
    let norm = Share::from_basis_points(t.attendance_norm_bp).display();
    let norm_value = norm.trim_end_matches('%').to_string();
    let rate_value = t.catch_up_rate.map(|m| m.dutch()).unwrap_or_default();
    html! {
        h2 #voortgang { "Voortgang en factuurcontrole" }
        dl.facts {
            dt { "Aanwezigheidsnorm" } dd { (norm) }
            dt { "Inhaalregeling" } dd { @match t.catch_up_rate { Some(r) => { (r) " per inhaaluur" } None => { "geen: inhaallessen zijn voor rekening van de aanbieder" } } }
        }
        p { a href={"/factuurcontrole?contract=" (contract_id)} { "Factuurcontrole voor dit contract" } " · " a href="/scorecard" { "Scorecard aanbieders" } }
        @if chrome.may(Permission::ManageContracts) {
            form method="post" action={"/contracten/" (contract_id) "/voortgangsafspraken"} {
                (chrome.csrf_field())
                div.field-row {
                    div.field { label for="attendance_norm" { "Aanwezigheidsnorm (%)" } input #attendance_norm type="text" name="attendance_norm" value=(norm_value); }
                    div.field { label for="catch_up_rate" { "Tarief per inhaaluur (leeg: geen)" } input #catch_up_rate type="text" name="catch_up_rate" value=(rate_value); }
                }
                button type="submit" { "Afspraken opslaan" }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TermsForm {
    attendance_norm: String,
    catch_up_rate: String,
}

async fn set_terms(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<TermsForm>,
) -> AppResult<Response> {
    store::contracts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let norm = Share::parse(&f.attendance_norm).map_err(|m| AppError::BadRequest(format!("Aanwezigheidsnorm: {m}")))?;
    let rate = if f.catch_up_rate.trim().is_empty() {
        None
    } else {
        let m =
            Money::parse(&f.catch_up_rate).map_err(|e| AppError::BadRequest(format!("Tarief per inhaaluur: {e}")))?;
        if m.is_negative() {
            return Err(AppError::BadRequest("Tarief per inhaaluur: een tarief kan niet negatief zijn.".into()));
        }
        Some(m)
    };
    let t = ProgressTerms { attendance_norm_bp: norm.basis_points(), catch_up_rate: rate };
    store::progress::set_progress_terms(&state.db, id, &t, user.actor()).await?;
    Ok(Redirect::to(&format!("/contracten/{id}?melding=opgeslagen#voortgang")).into_response())
}
