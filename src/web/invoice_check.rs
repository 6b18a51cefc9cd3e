//! The invoice check (factuurcontrole) per contract and period: payable, invoiced and supported by the progress
//! reports, the differences per placement, and a contract manager's decision on each (explained or claim back).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::Field;
use super::views::Chrome;
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::invoice_check::InvoiceCheck;
use crate::domain::progress::Period;
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::store;
use crate::store::contracts::Contract;
use crate::store::progress::{DifferenceDecision, NewDecision};

pub fn routes() -> RouteTable {
    RouteTable::default().get("/factuurcontrole", Permission::ParticipantData, invoice_check).post(
        "/factuurcontrole/besluiten",
        Permission::ManageContracts,
        decide,
    )
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
    let page = load_page(&state, &q).await?;
    Ok(render_check(&chrome, &page).into_response())
}

/// The check for one contract and period, with the kept portfolio.
async fn load_check(state: &AppState, contract_id: i64, period: Period) -> AppResult<InvoiceCheck> {
    crate::report::invoice_check::load(&state.db, Some(&state.commitments_cache), contract_id, period)
        .await?
        .ok_or(AppError::NotFound)
}

/// Why a decision was not saved: the form it came from (its placement, `None` for the contract's), the
/// problems per field (`reason`, or `form` for the decision as a whole) and the reason as typed.
#[derive(Default)]
struct Refusal {
    placement: Option<i64>,
    errors: FieldErrors,
    reason: String,
}

impl Refusal {
    fn whole(placement: Option<i64>, message: &str) -> Refusal {
        let mut errors = FieldErrors::new();
        errors.add("form", message);
        Refusal { placement, errors, reason: String::new() }
    }
}

/// The invoice check page: the contracts to choose from, the period as typed (with its problem, if any), the
/// check when contract and period are both valid, and the refused decision when a POST re-renders the page.
struct CheckPage {
    contracts: Vec<Contract>,
    chosen: Option<i64>,
    periode: String,
    period_error: Option<String>,
    result: Option<CheckResult>,
    refusal: Option<Refusal>,
}

/// The check of one contract and period with the decisions taken on it.
struct CheckResult {
    contract_id: i64,
    reference: String,
    check: InvoiceCheck,
    decisions: Vec<DifferenceDecision>,
    /// Whether the contract's own difference (not a placement's) has been decided.
    contract_decided: bool,
}

async fn load_page(state: &AppState, q: &CheckQuery) -> AppResult<CheckPage> {
    let contracts = store::contracts::list(&state.db).await?;
    let chosen = q.contract.trim().parse::<i64>().ok().filter(|id| contracts.iter().any(|c| c.id == *id));
    let period = Period::parse(&q.periode);
    let period_error = match &period {
        Err(m) if !q.periode.trim().is_empty() => Some(m.clone()),
        _ => None,
    };
    let mut result = None;
    if let (Some(c), Ok(p)) = (chosen.and_then(|id| contracts.iter().find(|c| c.id == id)), period) {
        let check = load_check(state, c.id, p).await?;
        let decisions = store::progress::decisions(&state.db, c.id, p).await?;
        let contract_decided = decisions.iter().any(|d| d.placement_id.is_none());
        result =
            Some(CheckResult { contract_id: c.id, reference: c.reference.clone(), check, decisions, contract_decided });
    }
    Ok(CheckPage { contracts, chosen, periode: q.periode.clone(), period_error, result, refusal: None })
}

/// The page again with the decision that was not saved: status 422, the refused form keeping its reason.
async fn refused(chrome: &Chrome, state: &AppState, q: &CheckQuery, refusal: Refusal) -> AppResult<Response> {
    let page = CheckPage { refusal: Some(refusal), ..load_page(state, q).await? };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_check(chrome, &page)).into_response())
}

fn render_check(chrome: &Chrome, page: &CheckPage) -> Markup {
    let error = &page.refusal;
    let manage = chrome.may(Permission::ManageContracts);
    let none = FieldErrors::new();
    let decision_form = |contract_id: i64, period: Period, placement: Option<i64>| {
        let suffix = placement.map(|p| p.to_string()).unwrap_or_else(|| "contract".into());
        let form_id = format!("besluit-{suffix}");
        // The refused form keeps its reason and shows the problem next to it.
        let (errors, reason) = match error {
            Some(r) if r.placement == placement => (&r.errors, r.reason.as_str()),
            _ => (&none, ""),
        };
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
                (Field::new("reason", "Reden", reason, errors).in_form(&form_id).text())
                button type="submit" { "Besluit vastleggen" }
            }
        }
    };
    chrome.page(
        "Factuurcontrole",
        html! {
            h1 { "Factuurcontrole" }
            p.lead { "Per contract en periode: wat het contract verschuldigd maakt, wat er is gefactureerd (toegerekende grootboekregels) en wat de voortgangsrapportages onderbouwen." }
            @if let Some(r) = error {
                @let suffix = r.placement.map(|p| p.to_string()).unwrap_or_else(|| "contract".into());
                div.error-summary role="alert" {
                    h2 { "Het besluit is niet opgeslagen" }
                    @for (field, message) in r.errors.iter() {
                        @if field == "reason" { p { a href={"#besluit-" (suffix) "-reason"} { "Reden" } ": " (message) } }
                        @else { p { (message) } }
                    }
                }
            }
            form.filters method="get" action="/factuurcontrole" {
                div.field {
                    label for="contract" { "Contract" }
                    select #contract name="contract" {
                        option value="" { "Kies een contract" }
                        @for c in &page.contracts { option value=(c.id) selected[Some(c.id) == page.chosen] { (c.reference) " · " (c.provider_name) } }
                    }
                }
                div.field {
                    label for="periode" { "Periode" }
                    input #periode type="text" name="periode" value=(page.periode) aria-describedby="periode-hint";
                    p.hint #periode-hint { "Maand als 2023-03 of kwartaal als 2023-K1." }
                }
                button type="submit" { "Controleren" }
            }
            @if let Some(m) = &page.period_error { p.error-message { (m) } }
            @if let Some(r) = &page.result {
                @let (ch, decisions) = (&r.check, &r.decisions);
                h2 { (r.reference) ", " (ch.period.label()) }
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
                    @if manage && !r.contract_decided { (decision_form(r.contract_id, ch.period, None)) }
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
                                    @if !pc.per_hour.is_zero() { "Aanwezige uren " (pc.attended_hours.dutch()) ": " (pc.per_hour) br; }
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
                                        @if manage { (decision_form(r.contract_id, ch.period, Some(pc.placement_id))) }
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
                            li { (d.label()) " " (Money::from_cents(d.amount_cents)) @if d.placement_id.is_none() { " (contract)" } ": " (d.reason) " — " (d.decided_by) ", " (crate::domain::dates::display_timestamp(&d.decided_at)) }
                        }
                    }
                }
            }
        },
    )
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
    let mut errors = FieldErrors::new();
    let reason = validation::text(&mut errors, "reason", "Reden", &f.reason, 2000, false);
    if reason.is_empty() {
        errors.add("reason", "Geef een reden voor het besluit.");
    }
    if !matches!(f.decision.as_str(), "explained" | "claim_back") {
        errors.add("form", "Kies verklaard of terugvorderen.");
    }
    if !errors.is_empty() {
        let refusal = Refusal { placement: placement_id, errors, reason: f.reason.clone() };
        return refused(&chrome, &state, &q, refusal).await;
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
        let refusal = Refusal::whole(placement_id, "Hier is (nu) geen verschil om over te besluiten.");
        return refused(&chrome, &state, &q, refusal).await;
    }
    let existing = store::progress::decisions(&state.db, contract_id, period).await?;
    if existing.iter().any(|d| d.placement_id == placement_id) {
        let refusal = Refusal::whole(placement_id, "Over dit verschil is al besloten.");
        return refused(&chrome, &state, &q, refusal).await;
    }
    let d = NewDecision { contract_id, period, placement_id, amount, claim_back: f.decision == "claim_back", reason };
    store::progress::decide_difference(&state.db, &d, user.actor()).await?;
    Ok(Redirect::to(&format!("/factuurcontrole?contract={contract_id}&periode={}&melding=opgeslagen", period.code()))
        .into_response())
}
