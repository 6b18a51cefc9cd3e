//! Progress screens: a placement's timeline with its warnings (and the forms for a report and a route change).
//! A contract's progress terms (attendance norm, rates) are on the contract's terms section (web/contracts.rs);
//! the invoice check and the scorecard have their own modules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use time::Date;

use super::forms::{error_summary, Field};
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::commitment::placement_payments;
use crate::domain::contract::Share;
use crate::domain::dates;
use crate::domain::placement::ExpectedPayment;
use crate::domain::progress::{
    actual_start, attendance_pct, below_norm, merged_messages, numbered_attempts, start_deadline, validate_report,
    warnings, AbsenceReason, ExamResult, Hours, Report, ReportForm,
};
use crate::domain::route::Route;
use crate::domain::route_change::{paused, route_on, stopped, validate_change, ChangeForm};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::store;
use crate::store::contracts::Contract;
use crate::store::placements::Placement;
use crate::store::progress::ReportError;

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/plaatsingen/{id}/tijdlijn", Permission::ParticipantData, timeline)
        .post("/plaatsingen/{id}/voortgang", Permission::ManageContracts, add_report)
        .post("/plaatsingen/{id}/routewijzigingen", Permission::ManageContracts, add_change)
}

pub use crate::domain::fixed::pct_text;

/// "voldoet" or "onder de norm" in words (never colour alone), or a dash without offered hours.
pub fn norm_outcome(a: &crate::domain::progress::AgainstNorm) -> Markup {
    html! {
        @if a.below() { span.status.status-bad { "onder de norm" } }
        @else if a.meets() { span.status.status-ok { "voldoet" } }
        @else { "–" }
    }
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

/// A placement's timeline: its route now, its warnings merged per kind, each report with its attendance against
/// the contract's norm and its numbered exam attempts, and the payments expected after route changes.
struct TimelinePage {
    placement: Placement,
    contract: Contract,
    current: Route,
    /// " (gestopt)", " (gepauzeerd)" or nothing, after the current route.
    state_text: &'static str,
    /// None without warnings; else one message per kind.
    warnings: Option<Vec<String>>,
    started: Option<Date>,
    norm: String,
    reports: Vec<ReportRow>,
    payments: Vec<ExpectedPayment>,
    total: Money,
}

/// One progress report on the timeline.
struct ReportRow {
    report: Report,
    attendance: String,
    below_norm: bool,
    /// Hours attended up to and including this report.
    total_attended: Hours,
    /// The report's exam results with their attempt number.
    exams: Vec<(u32, ExamResult)>,
}

async fn load_timeline(state: &AppState, id: i64) -> AppResult<TimelinePage> {
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
    let state_text = if stopped(&p.schedule.changes) {
        " (gestopt)"
    } else if paused(&p.schedule.changes) {
        " (gepauzeerd)"
    } else {
        ""
    };
    let mut total_attended = Hours::ZERO;
    let reports = reports
        .into_iter()
        .map(|r| {
            let d = &r.draft;
            total_attended = total_attended + d.attended;
            ReportRow {
                attendance: pct_text(attendance_pct(d.offered, d.attended)),
                below_norm: below_norm(d.offered, d.attended, terms.attendance_norm_bp),
                total_attended,
                exams: attempts
                    .iter()
                    .filter(|(_, x)| d.period.contains(x.date) && d.exams.contains(x))
                    .cloned()
                    .collect(),
                report: r,
            }
        })
        .collect();
    Ok(TimelinePage {
        current,
        state_text,
        warnings: (!warns.is_empty()).then(|| merged_messages(&warns)),
        started,
        norm: Share::from_basis_points(terms.attendance_norm_bp).display(),
        reports,
        payments,
        total,
        placement: p,
        contract: c,
    })
}

/// The timeline, with `forms` as entered when one came back with errors.
async fn render_timeline(chrome: &Chrome, state: &AppState, id: i64, forms: &TimelineForms) -> AppResult<Markup> {
    Ok(timeline_view(chrome, &load_timeline(state, id).await?, forms))
}

fn timeline_view(chrome: &Chrome, t: &TimelinePage, forms: &TimelineForms) -> Markup {
    let (p, c, current, started) = (&t.placement, &t.contract, t.current, t.started);
    let manage = chrome.may(Permission::ManageContracts);
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
    chrome.page(
        &format!("Tijdlijn {}", p.client_number.as_str()),
        html! {
            p.breadcrumb { a href="/plaatsingen" { "Plaatsingen" } " › " a href={"/plaatsingen/" (p.id)} { "Plaatsing " (p.client_number.as_str()) } }
            h1 { "Tijdlijn van plaatsing " (p.client_number.as_str()) }
            dl.facts {
                dt { "Contract" } dd { a href={"/contracten/" (c.id)} { (c.reference) } " (" (c.provider_name) ")" }
                dt { "Leerroute bij de start" } dd { (p.route.label()) }
                dt { "Huidige leerroute" } dd { (current.label()) (t.state_text) }
                dt { "PIP vastgesteld" } dd { @match p.pip_date { Some(d) => { (dates::display(d)) " (lessen uiterlijk " (dates::display(start_deadline(d))) ")" } None => { "onbekend" } } }
                dt { "Geplande start" } dd { (dates::display(p.schedule.start_date)) }
                dt { "Werkelijke start" } dd { @match started { Some(d) => { (dates::display(d)) } None => { "nog geen lessen gevolgd" } } }
                dt { "Aanwezigheidsnorm van het contract" } dd { (t.norm) }
                dt { "Status" } dd { (p.schedule.status.label()) @if let Some(d) = p.schedule.status_date { " op " (dates::display(d)) } }
            }
            h2 { "Signalen" }
            @match &t.warnings {
                None => { p { "Geen signalen." } }
                Some(messages) => {
                    ul.warnings {
                        @for message in messages { li { strong { "Let op: " } (message) } }
                    }
                }
            }
            h2 { "Voortgang per periode" }
            @if t.reports.is_empty() {
                p { "Er zijn nog geen voortgangsrapportages voor deze plaatsing." }
            } @else {
                table {
                    caption { "Rapportages van de aanbieder (" (t.reports.len()) ")" }
                    thead { tr {
                        th scope="col" { "Periode" } th.num scope="col" { "Aangeboden" } th.num scope="col" { "Aanwezig" }
                        th.num scope="col" { "Aanwezigheid" } th.num scope="col" { "Totaal aanwezig" } th scope="col" { "Verzuim" }
                        th.num scope="col" { "Inhaaluren" } th scope="col" { "Niveaus (L/Lu/S/Sc)" } th scope="col" { "Examens" } th scope="col" { "Opmerkingen" }
                    } }
                    tbody {
                        @for r in &t.reports {
                            @let d = &r.report.draft;
                            tr {
                                th scope="row" { (d.period.label()) }
                                td.num { (d.offered.dutch()) }
                                td.num { (d.attended.dutch()) }
                                td.num {
                                    (r.attendance)
                                    @if r.below_norm { " (onder de norm)" }
                                }
                                td.num { (r.total_attended.dutch()) }
                                td { (d.absence.dutch()) " uur" @if let Some(reason) = d.absence_reason { " (" (reason.label()) ")" } }
                                td.num { (d.catch_up.dutch()) }
                                td { (d.levels.iter().map(|l| if l.is_empty() { "–" } else { l.as_str() }).collect::<Vec<_>>().join(" / ")) }
                                td {
                                    @for (n, x) in &r.exams {
                                        (x.part.label()) " " (dates::display(x.date)) ": " (if x.passed { "geslaagd" } else { "gezakt" }) " (poging " (n) ")" br;
                                    }
                                }
                                td.text { (d.remarks) }
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
                            tr { th scope="row" { (dates::display(ch.decision_date)) } td { (ch.kind.label()) } td.text { (ch.reason) } }
                        }
                    }
                }
            }
            h2 { "Verwachte betalingen" }
            (super::placements::payments_table("Betaalmomenten volgens het contract, na routewijzigingen", &t.payments, t.total))
            (super::placements::year_totals(&t.payments))
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
    )
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
