//! Attribution screens: the ordered rules with their effect, a preview before saving, the
//! unattributed queue with manual assignment, creditor links, and the reconciliation with drill-down.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::forms::{error_summary, Field};
use super::views::{not_applicable, Chrome, Confirmation, Confirmed};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::attribution::{
    validate_criteria, AmountSign, ContractChoice, Criteria, CriteriaForm, Move, Pattern, Plan, Rule, Tally,
};
use crate::domain::dates;
use crate::domain::validation::{text, FieldErrors};
use crate::domain::words;
use crate::error::{AppError, AppResult};
use crate::money::Money;
use crate::report::reconciliation::Flag;
use crate::store;
use crate::store::attribution::{AssignError, LineFilter, NewRule, RuleChange, RuleError, NEW_RULE};

pub fn routes() -> RouteTable {
    RouteTable::default()
        .get("/toerekening", Permission::ManageFinance, rules_page)
        .post("/toerekening/regels", Permission::ManageFinance, add_rule)
        .post("/toerekening/regels/{id}/verwijderen", Permission::ManageFinance, delete_rule)
        .post("/toerekening/regels/{id}/omhoog", Permission::ManageFinance, move_up)
        .post("/toerekening/regels/{id}/plaats", Permission::ManageFinance, move_rule)
        .get("/toerekening/wachtrij", Permission::ManageFinance, queue)
        .post("/toerekening/regels-toepassen", Permission::ManageFinance, reapply)
        .post("/grootboek/{id}/toerekenen", Permission::ManageFinance, assign)
        .post("/toerekening/crediteuren", Permission::ManageFinance, link_creditor)
        .get("/aansluiting", Permission::Read, reconciliation)
        .get("/aansluiting/regels", Permission::ManageFinance, drill_lines)
        .get("/aansluiting/signalen", Permission::Read, signal)
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct RuleForm {
    name: String,
    cost_centre: String,
    gl_account: String,
    task_field: String,
    creditor_number: String,
    description_contains: String,
    date_from: String,
    date_until: String,
    amount_sign: String,
    stream_id: String,
    budget_line_id: String,
    contract: String,
    place: String,
    actie: String,
}

/// The rule form's fields with their labels, in the order of the form (for the error summary).
const RULE_FIELDS: [(&str, &str); 13] = [
    ("name", "Naam"),
    ("cost_centre", "Kostenplaats"),
    ("gl_account", "Grootboekrekening"),
    ("task_field", "Taakveld"),
    ("creditor_number", "Crediteurnummer"),
    ("description_contains", "Omschrijving bevat"),
    ("date_from", "Boekdatum vanaf"),
    ("date_until", "Boekdatum tot en met"),
    ("amount_sign", "Bedragen"),
    ("stream_id", "Financieringsbron"),
    ("budget_line_id", "Begrotingspost"),
    ("contract", "Contract"),
    ("place", "Plaats"),
];

const PATTERN_HINT: &str =
    "Eén waarde (4300), een lijst (4300, 4310), een voorvoegsel (6.1-INB-*) of een bereik (4300-4399). Leeg: elke waarde.";

/// A place in the order as typed: empty is last; otherwise 1 up to `max`.
fn parse_place(text: &str, max: usize) -> Result<Option<usize>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<usize>().ok().filter(|p| (1..=max).contains(p)).map(Some).ok_or_else(|| {
        format!("Geef als plaats een getal van 1 tot en met {max}, of laat het veld leeg voor achteraan.")
    })
}

/// A validated rule form: the rule and where it goes.
struct ValidRule {
    rule: NewRule,
    place: Option<usize>,
}

/// `lines`: (budget line id, stream id) of every budget line; `rule_count`: how many rules there are now.
fn validate_rule(
    form: &RuleForm,
    streams: &[i64],
    lines: &[(i64, i64)],
    rule_count: usize,
) -> Result<ValidRule, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = text(&mut e, "name", "Naam", &form.name, 100, true);
    let criteria = validate_criteria(
        &CriteriaForm {
            cost_centre: &form.cost_centre,
            gl_account: &form.gl_account,
            task_field: &form.task_field,
            creditor_number: &form.creditor_number,
            description_contains: &form.description_contains,
            date_from: &form.date_from,
            date_until: &form.date_until,
            amount_sign: &form.amount_sign,
        },
        &mut e,
    );
    let stream_id = form.stream_id.parse::<i64>().ok().filter(|s| streams.contains(s));
    if stream_id.is_none() {
        e.add("stream_id", "Kies een financieringsbron.");
    }
    let contract = match form.contract.as_str() {
        "" => ContractChoice::None,
        "crediteur" => ContractChoice::ViaCreditor,
        other => match other.parse() {
            Ok(id) => ContractChoice::Direct(id),
            Err(_) => {
                e.add("contract", "Kies een contract uit de lijst.");
                ContractChoice::None
            }
        },
    };
    let budget_line_id = match form.budget_line_id.parse::<i64>().ok() {
        None => None,
        Some(id) => match lines.iter().find(|(l, _)| *l == id) {
            Some((_, s)) if Some(*s) == stream_id => Some(id),
            Some(_) => {
                e.add("budget_line_id", "Deze begrotingspost hoort bij een andere financieringsbron.");
                None
            }
            None => {
                e.add("budget_line_id", "Kies een begrotingspost uit de lijst.");
                None
            }
        },
    };
    let place = parse_place(&form.place, rule_count + 1).unwrap_or_else(|m| {
        e.add("place", m);
        None
    });
    match stream_id {
        Some(stream_id) if e.is_empty() => {
            Ok(ValidRule { rule: NewRule { name, criteria, stream_id, budget_line_id, contract }, place })
        }
        _ => Err(e),
    }
}

/// What a change on the rules page would do, shown before it is saved.
struct Preview {
    /// Where the new rule would stand (1 is first).
    place: usize,
    plan: Plan,
}

async fn rules_page(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_rules(&chrome, &load_rules(&state, &RuleForm::default(), &FieldErrors::new(), None, None).await?))
}

/// Names for the streams and rules a plan mentions.
struct PlanNames {
    streams: HashMap<i64, String>,
    rules: HashMap<i64, String>,
}

impl PlanNames {
    async fn load(state: &AppState, rules: &[Rule]) -> AppResult<PlanNames> {
        let streams = store::funding::streams(&state.db).await?.into_iter().map(|(s, _)| (s.id, s.code)).collect();
        let mut names: HashMap<i64, String> = rules.iter().map(|r| (r.id, r.name.clone())).collect();
        names.insert(NEW_RULE, "de nieuwe regel".into());
        Ok(PlanNames { streams, rules: names })
    }

    fn charge(&self, stream: Option<i64>, rule: Option<i64>) -> String {
        match stream {
            None => "wachtrij".into(),
            Some(s) => {
                let code = self.streams.get(&s).cloned().unwrap_or_default();
                match rule.and_then(|r| self.rules.get(&r)) {
                    Some(name) => format!("{code} (regel {name})"),
                    None => format!("{code} (zonder regel)"),
                }
            }
        }
    }
}

/// The lines a plan moves, from where to where, and the moves a closed year refuses.
fn moves_table(plan: &Plan, names: &PlanNames) -> Markup {
    let row = |m: &Move, t: &Tally| {
        html! { tr {
            td { (names.charge(m.from_stream, m.from_rule)) }
            td { (names.charge(m.to_stream, m.to_rule)) }
            td.num { (t.lines) } td.num { (t.total) }
        } }
    };
    html! {
        @if plan.moves.is_empty() {
            p { "Er verschuift niets in open jaren." }
        } @else {
            table {
                caption { "Wat verschuift: " (words::count(plan.moved().lines, "grootboekregel", "grootboekregels")) ", samen " (plan.moved().total) }
                thead { tr { th scope="col" { "Van" } th scope="col" { "Naar" } th.num scope="col" { "Regels" } th.num scope="col" { "Bedrag" } } }
                tbody { @for (m, t) in &plan.moves { (row(m, t)) } }
            }
        }
        @if let Some(refusal) = plan.closed_refusal() {
            div.error-summary role="alert" {
                h2 { "Niet toegestaan in een afgesloten jaar" }
                p { (refusal) }
            }
            table {
                caption { "Wat in een afgesloten jaar zou verschuiven (dat blijft staan)" }
                thead { tr { th scope="col" { "Jaar" } th scope="col" { "Van" } th scope="col" { "Naar" } th.num scope="col" { "Regels" } th.num scope="col" { "Bedrag" } } }
                tbody { @for (m, t) in &plan.closed_moves { tr {
                    td { (m.closed_year.unwrap_or_default()) }
                    td { (names.charge(m.from_stream, m.from_rule)) }
                    td { (names.charge(m.to_stream, m.to_rule)) }
                    td.num { (t.lines) } td.num { (t.total) }
                } } }
            }
        }
    }
}

/// The rules page: the rules in order with what each one takes now, the choices for a new rule, the creditor
/// links, and the form (with its errors, preview or refusal) when a change is shown again.
struct RulesPage {
    rules: Vec<Rule>,
    /// One pass over the ledger: what each rule holds now, and what applying again would move.
    now: Arc<Plan>,
    names: PlanNames,
    streams: Vec<(crate::domain::funding::FundingStream, i64)>,
    contracts: Vec<store::contracts::Contract>,
    links: Vec<(String, i64, String)>,
    providers: Vec<store::providers::Provider>,
    budget_lines: Vec<crate::domain::funding::BudgetLine>,
    form: RuleForm,
    errors: FieldErrors,
    preview: Option<Preview>,
    problem: Option<String>,
}

async fn load_rules(
    state: &AppState,
    form: &RuleForm,
    errors: &FieldErrors,
    preview: Option<Preview>,
    problem: Option<&str>,
) -> AppResult<RulesPage> {
    let rules = store::attribution::rules(&state.db).await?;
    let now = crate::report::rules::plan_now(&state.db, &state.plan_cache).await?;
    let names = PlanNames::load(state, &rules).await?;
    let streams = store::funding::streams(&state.db).await?;
    let contracts = store::contracts::list(&state.db).await?;
    let links = store::attribution::creditor_links(&state.db).await?;
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    let budget_lines = store::funding::budget_lines(&state.db, None).await?;
    Ok(RulesPage {
        rules,
        now,
        names,
        streams,
        contracts,
        links,
        providers,
        budget_lines,
        form: form.clone(),
        errors: errors.clone(),
        preview,
        problem: problem.map(str::to_string),
    })
}

fn render_rules(chrome: &Chrome, page: &RulesPage) -> Markup {
    let RulesPage {
        rules,
        now,
        names,
        streams,
        contracts,
        links,
        providers,
        budget_lines,
        form,
        errors,
        preview,
        problem,
    } = page;
    let stream_name =
        |id: i64| streams.iter().find(|(s, _)| s.id == id).map(|(s, _)| s.code.clone()).unwrap_or_default();
    let line_options: Vec<(String, String)> = std::iter::once((String::new(), "Geen begrotingspost".to_string()))
        .chain(
            budget_lines
                .iter()
                .map(|l| (l.id.to_string(), format!("{} {} · {}", stream_name(l.stream_id), l.year, l.category))),
        )
        .collect();
    let line_options: Vec<(&str, &str)> = line_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let stream_options: Vec<(String, String)> = std::iter::once((String::new(), "Kies een bron".to_string()))
        .chain(streams.iter().map(|(s, _)| (s.id.to_string(), format!("{} {}", s.code, s.name))))
        .collect();
    let stream_options: Vec<(&str, &str)> = stream_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let sign_options: Vec<(&str, &str)> = AmountSign::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
    let contract_options: Vec<(String, String)> = [
        (String::new(), "Geen contract".to_string()),
        ("crediteur".into(), "Via de crediteur (contract van de gekoppelde aanbieder)".into()),
    ]
    .into_iter()
    .chain(contracts.iter().map(|c| (c.id.to_string(), format!("{} · {}", c.reference, c.provider_name))))
    .collect();
    let contract_options: Vec<(&str, &str)> = contract_options.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let contract_label = |r: &Rule| match r.contract {
        ContractChoice::None => "—".to_string(),
        ContractChoice::ViaCreditor => "via crediteur".to_string(),
        ContractChoice::Direct(id) => {
            contracts.iter().find(|c| c.id == id).map(|c| c.reference.clone()).unwrap_or_default()
        }
    };
    let place_hint = format!(
        "Leeg: achteraan (plaats {}). Een nummer zet de regel vóór de regel die nu op die plaats staat.",
        rules.len() + 1
    );
    let sign = if form.amount_sign.is_empty() { AmountSign::Both.as_str() } else { form.amount_sign.as_str() };
    chrome.page(
        "Toerekening",
        html! {
            h1 { "Toerekeningsregels" }
            p { "Regels wijzen grootboekregels toe aan een financieringsbron (en eventueel een contract). De eerste regel die past, wint. Handmatige toewijzingen gaan altijd voor. "
                a href="/toerekening/wachtrij" { "Naar de wachtrij met niet-toegerekende regels" } "." }
            @if let Some(p) = problem {
                div.error-summary role="alert" tabindex="-1" { h2 { "Niet opgeslagen" } p { (p) } }
            }
            table {
                caption { (words::count(rules.len(), "regel", "regels")) ", in volgorde van toepassing" }
                thead { tr {
                    th scope="col" { "Nr." } th scope="col" { "Naam" } th scope="col" { "Kenmerken" } th scope="col" { "Bron" }
                    th scope="col" { "Contract" } th.num scope="col" { "Neemt regels" } th.num scope="col" { "Neemt bedrag" } th scope="col" { "Acties" }
                } }
                tbody {
                    @for (i, r) in rules.iter().enumerate() {
                        @let taken = now.takes.get(&r.id).copied().unwrap_or_default();
                        tr {
                            th scope="row" { (i + 1) }
                            td { (r.name) }
                            td { (criteria_text(&r.criteria)) }
                            td { (stream_name(r.stream_id)) }
                            td { (contract_label(r)) }
                            td.num { (taken.lines) @if taken.lines == 0 { br; small.status.status-warn { "past op niets" } } }
                            td.num { (taken.total) }
                            td {
                                form.inline method="post" action={"/toerekening/regels/" (r.id) "/omhoog"} { (chrome.csrf_field()) button.secondary type="submit" aria-label={"Regel " (r.name) " omhoog"} { "Omhoog" } }
                                form.inline method="post" action={"/toerekening/regels/" (r.id) "/plaats"} {
                                    (chrome.csrf_field())
                                    label for={"plaats-" (r.id)} { "Naar plaats" }
                                    input #{"plaats-" (r.id)} type="number" name="plaats" min="1" max=(rules.len()) value=(i + 1) size="3";
                                    button.secondary type="submit" aria-label={"Regel " (r.name) " verplaatsen"} { "Verplaatsen…" }
                                }
                                form.inline method="post" action={"/toerekening/regels/" (r.id) "/verwijderen"} { (chrome.csrf_field()) button.danger type="submit" aria-label={"Regel " (r.name) " verwijderen"} { "Verwijderen…" } }
                            }
                        }
                    }
                    @if rules.is_empty() { tr { td colspan="8" { "Nog geen regels: alle geïmporteerde regels staan in de wachtrij." } } }
                }
                tfoot { tr { th scope="row" colspan="5" { "Wachtrij (geen regel past)" } td.num { (now.queue.lines) } td.num { (now.queue.total) } td {} } }
            }
            @if now.moved().lines > 0 {
                p { "Opnieuw toepassen verplaatst " (words::count(now.moved().lines, "grootboekregel", "grootboekregels")) ", samen " (now.moved().total) "." }
            }
            @if now.closed_moved().lines > 0 {
                p { (words::count(now.closed_moved().lines, "grootboekregel", "grootboekregels")) " in een afgesloten jaar staan bij een andere bron dan de regels nu zeggen; die blijven staan." }
            }
            form method="post" action="/toerekening/regels-toepassen" { (chrome.csrf_field()) button.secondary type="submit" { "Regels opnieuw toepassen" } }
            h2 #nieuwe-regel { "Nieuwe regel" }
            (error_summary(errors, &RULE_FIELDS))
            @if let Some(p) = preview {
                @let taken = p.plan.takes.get(&NEW_RULE).copied().unwrap_or_default();
                div.notice role="status" {
                    p { "Voorvertoning: op plaats " (p.place) " zou deze regel " strong { (words::count(taken.lines, "regel", "regels")) } " nemen, samen " strong { (taken.total) } "."
                        @if p.plan.closed_refusal().is_none() { " Klik op Opslaan om hem toe te voegen." } }
                    (moves_table(&p.plan, names))
                }
            }
            form method="post" action="/toerekening/regels#nieuwe-regel" novalidate {
                (chrome.csrf_field())
                (Field::new("name", "Naam", &form.name, errors).required().text())
                p.hint { (PATTERN_HINT) " Een waarde tussen aanhalingstekens (\"100-200\") telt precies zoals ze er staat." }
                div.field-row {
                    (Field::new("cost_centre", "Kostenplaats", &form.cost_centre, errors).hint("Bijvoorbeeld 6.1-INB-*").text())
                    (Field::new("gl_account", "Grootboekrekening", &form.gl_account, errors).hint("Bijvoorbeeld 4300-4399").text())
                    (Field::new("task_field", "Taakveld", &form.task_field, errors).hint("Bijvoorbeeld 6.1").text())
                }
                div.field-row {
                    (Field::new("creditor_number", "Crediteurnummer", &form.creditor_number, errors).hint("Bijvoorbeeld 2001, 2002").text())
                    (Field::new("description_contains", "Omschrijving bevat", &form.description_contains, errors).hint("Hoofdletters tellen niet").text())
                }
                div.field-row {
                    (Field::new("date_from", "Boekdatum vanaf", &form.date_from, errors).date())
                    (Field::new("date_until", "Boekdatum tot en met", &form.date_until, errors).date())
                    (Field::new("amount_sign", "Bedragen", sign, errors).select(&sign_options))
                }
                (Field::new("stream_id", "Financieringsbron", &form.stream_id, errors).required().select(&stream_options))
                (Field::new("budget_line_id", "Begrotingspost", &form.budget_line_id, errors).select(&line_options))
                (Field::new("contract", "Contract", &form.contract, errors).select(&contract_options))
                (Field::new("place", "Plaats", &form.place, errors).hint(&place_hint).input("number"))
                div.actions {
                    button.secondary type="submit" name="actie" value="voorvertoning" { "Voorvertoning" }
                    button type="submit" name="actie" value="opslaan" { "Opslaan" }
                }
            }
            h2 #crediteuren { "Crediteuren gekoppeld aan taalaanbieders" }
            table {
                caption { "Koppelingen voor 'contract via de crediteur'" }
                thead { tr { th scope="col" { "Crediteurnummer" } th scope="col" { "Taalaanbieder" } } }
                tbody {
                    @for (number, id, name) in links { tr { th scope="row" { (number) } td { a href={"/aanbieders/" (id)} { (name) } } } }
                    @if links.is_empty() { tr { td colspan="2" { "Nog geen koppelingen." } } }
                }
            }
            form.inline method="post" action="/toerekening/crediteuren" {
                (chrome.csrf_field())
                label for="link-creditor" { "Crediteurnummer" }
                input #link-creditor type="text" name="creditor_number" required;
                label for="link-provider" { "Taalaanbieder" }
                select #link-provider name="provider_id" { @for p in providers { option value=(p.id) { (p.name) } } }
                button type="submit" { "Koppelen" }
            }
        },
    )
}

fn criteria_text(c: &Criteria) -> String {
    let mut parts = Vec::new();
    let mut add = |label: &str, v: &Pattern| {
        if !v.is_empty() {
            parts.push(format!("{label} {v}"));
        }
    };
    add("kostenplaats", &c.cost_centre);
    add("rekening", &c.gl_account);
    add("taakveld", &c.task_field);
    add("crediteur", &c.creditor_number);
    if !c.description_contains.trim().is_empty() {
        parts.push(format!("omschrijving bevat '{}'", c.description_contains));
    }
    if let Some(f) = c.date_from {
        parts.push(format!("vanaf {}", dates::display(f)));
    }
    if let Some(u) = c.date_until {
        parts.push(format!("tot en met {}", dates::display(u)));
    }
    match c.amount_sign {
        AmountSign::Both => {}
        AmountSign::Invoices => parts.push("alleen facturen".into()),
        AmountSign::CreditNotes => parts.push("alleen creditnota's".into()),
    }
    parts.join(", ")
}

/// A refusal the rules page shows (a closed year), or the error it is.
fn refused(e: RuleError) -> AppResult<String> {
    match e {
        RuleError::ClosedYear(message) => Ok(message),
        RuleError::NotFound => Err(AppError::NotFound),
        RuleError::Db(e) => Err(e.into()),
    }
}

/// The rules page with a refusal on top, as 422.
async fn refusal_page(chrome: &Chrome, state: &AppState, message: &str) -> AppResult<Response> {
    let page =
        render_rules(chrome, &load_rules(state, &RuleForm::default(), &FieldErrors::new(), None, Some(message)).await?);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn add_rule(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<RuleForm>,
) -> AppResult<Response> {
    let streams: Vec<i64> = store::funding::streams(&state.db).await?.iter().map(|(s, _)| s.id).collect();
    let lines: Vec<(i64, i64)> =
        store::funding::budget_lines(&state.db, None).await?.iter().map(|l| (l.id, l.stream_id)).collect();
    let count = store::attribution::rules(&state.db).await?.len();
    let unprocessable = |e: FieldErrors, form: RuleForm, state: AppState, chrome: Chrome| async move {
        let page = render_rules(&chrome, &load_rules(&state, &form, &e, None, None).await?);
        AppResult::Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let ValidRule { rule, place } = match validate_rule(&form, &streams, &lines, count) {
        Ok(r) => r,
        Err(e) => return unprocessable(e, form, state, chrome).await,
    };
    if form.actie != "opslaan" {
        let plan =
            match store::attribution::plan_change(&state.db, &RuleChange::Add { rule: Box::new(rule), place }).await {
                Ok(plan) => plan,
                Err(e) => return refusal_page(&chrome, &state, &refused(e)?).await,
            };
        let preview = Preview { place: place.unwrap_or(count + 1), plan };
        let page = render_rules(&chrome, &load_rules(&state, &form, &FieldErrors::new(), Some(preview), None).await?);
        return Ok(page.into_response());
    }
    match store::attribution::add_rule_at(&state.db, &rule, place, user.actor()).await {
        Ok(_) => Ok(Redirect::to("/toerekening?melding=opgeslagen").into_response()),
        Err(e) => {
            let mut errors = FieldErrors::new();
            errors.add("date_from", refused(e)?);
            unprocessable(errors, form, state, chrome).await
        }
    }
}

/// Deletes a rule after a confirmation page that says how many lines it attributes now and what becomes of them.
async fn delete_rule(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(confirmed): Form<Confirmed>,
) -> AppResult<Response> {
    let rules = store::attribution::rules(&state.db).await?;
    let rule = rules.iter().find(|r| r.id == id).ok_or(AppError::NotFound)?;
    if !confirmed.yes() {
        let plan = match store::attribution::plan_change(&state.db, &RuleChange::Delete { id }).await {
            Ok(plan) => plan,
            Err(e) => return refusal_page(&chrome, &state, &refused(e)?).await,
        };
        if let Some(message) = plan.closed_refusal() {
            return refusal_page(&chrome, &state, &message).await;
        }
        let (lines, total) = store::attribution::rule_usage(&state.db, id).await?;
        let names = PlanNames::load(&state, &rules).await?;
        return Ok(chrome
            .confirmation(Confirmation {
                title: format!("Toerekenregel {} verwijderen?", rule.name),
                back: ("/toerekening", "Toerekening"),
                consequences: html! {
                    p { "Deze regel rekent nu " (words::count(lines, "grootboekregel", "grootboekregels")) " toe, samen " (total) "." }
                    ul {
                        li { "Na verwijderen worden alle grootboekregels opnieuw toegerekend met de overige regels; wat geen regel meer vindt, komt in de wachtrij van niet-toegerekende regels." }
                        li { "Regels die iemand met de hand heeft toegewezen, blijven zoals ze zijn." }
                        li { "Boekingen in een afgesloten jaar veranderen niet." }
                        li { "De regel is weg; wilt u hem terug, dan maakt u hem opnieuw aan." }
                    }
                    (moves_table(&plan, &names))
                },
                action: &format!("/toerekening/regels/{id}/verwijderen"),
                confirm: "Ja, regel verwijderen",
                cancel: "Niet verwijderen",
                danger: true,
            })
            .into_response());
    }
    match store::attribution::delete_rule(&state.db, id, user.actor()).await {
        Ok(_) => Ok(Redirect::to("/toerekening?melding=regel-verwijderd").into_response()),
        Err(e) => refusal_page(&chrome, &state, &refused(e)?).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PlaceForm {
    plaats: String,
    bevestigd: String,
}

/// Moves a rule to another place, after a confirmation page that shows what would move. The confirmation posts
/// the place in the query string (the confirmation form carries only `bevestigd`).
async fn move_rule(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(query): Query<PlaceForm>,
    Form(form): Form<PlaceForm>,
) -> AppResult<Response> {
    let rules = store::attribution::rules(&state.db).await?;
    let rule = rules.iter().find(|r| r.id == id).ok_or(AppError::NotFound)?;
    let typed = if form.plaats.trim().is_empty() { &query.plaats } else { &form.plaats };
    let place = match parse_place(typed, rules.len()) {
        Ok(Some(place)) => place,
        Ok(None) => return refusal_page(&chrome, &state, "Geef de plaats op waar de regel heen moet.").await,
        Err(message) => return refusal_page(&chrome, &state, &message).await,
    };
    if form.bevestigd != "ja" {
        let plan = match store::attribution::plan_change(&state.db, &RuleChange::Move { id, place }).await {
            Ok(plan) => plan,
            Err(e) => return refusal_page(&chrome, &state, &refused(e)?).await,
        };
        if let Some(message) = plan.closed_refusal() {
            return refusal_page(&chrome, &state, &message).await;
        }
        let names = PlanNames::load(&state, &rules).await?;
        return Ok(chrome
            .confirmation(Confirmation {
                title: format!("Toerekenregel {} naar plaats {place}?", rule.name),
                back: ("/toerekening", "Toerekening"),
                consequences: html! {
                    p { "De regel staat nu op plaats " (rules.iter().position(|r| r.id == id).unwrap_or(0) + 1) ". Daarna worden alle grootboekregels opnieuw toegerekend; handmatige toewijzingen en afgesloten jaren blijven zoals ze zijn." }
                    (moves_table(&plan, &names))
                },
                action: &format!("/toerekening/regels/{id}/plaats?plaats={place}"),
                confirm: "Ja, verplaatsen",
                cancel: "Niet verplaatsen",
                danger: false,
            })
            .into_response());
    }
    match store::attribution::move_rule(&state.db, id, place, user.actor()).await {
        Ok(_) => Ok(Redirect::to("/toerekening?melding=opgeslagen").into_response()),
        Err(e) => refusal_page(&chrome, &state, &refused(e)?).await,
    }
}

async fn move_up(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    match store::attribution::move_up(&state.db, id, user.actor()).await {
        Ok(_) => Ok(Redirect::to("/toerekening?melding=opgeslagen").into_response()),
        Err(e) => refusal_page(&chrome, &state, &refused(e)?).await,
    }
}

async fn reapply(user: CurrentUser, State(state): State<AppState>) -> AppResult<Redirect> {
    store::attribution::apply(&state.db, user.actor()).await?;
    Ok(Redirect::to("/toerekening?melding=opgeslagen"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LinkForm {
    creditor_number: String,
    provider_id: String,
}

async fn link_creditor(
    user: CurrentUser,
    State(state): State<AppState>,
    Form(form): Form<LinkForm>,
) -> AppResult<Redirect> {
    let number = form.creditor_number.trim();
    if number.is_empty() || number.chars().count() > 50 {
        return Err(AppError::BadRequest("geef een crediteurnummer op (hoogstens 50 tekens)".into()));
    }
    let provider =
        form.provider_id.parse::<i64>().map_err(|_| AppError::BadRequest("kies een taalaanbieder".into()))?;
    store::providers::get(&state.db, provider)
        .await?
        .ok_or_else(|| AppError::BadRequest("onbekende taalaanbieder".into()))?;
    store::attribution::link_creditor(&state.db, number, provider, user.actor()).await?;
    Ok(Redirect::to("/toerekening?melding=opgeslagen#crediteuren"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueueQuery {
    pagina: String,
}

async fn queue(chrome: Chrome, State(state): State<AppState>, Query(q): Query<QueueQuery>) -> AppResult<Markup> {
    let page = load_queue(&state, q.pagina.trim().parse().unwrap_or(1), None).await?;
    Ok(render_queue(&chrome, &page))
}

/// Lines per page of the queue: each has its own form with every stream and contract to choose from.
const QUEUE_LIMIT: i64 = 50;

/// Why an assignment was not saved: the line, the field the problem is about (`reason`, or `form` for the
/// assignment as a whole), the message and the reason as typed.
struct Refusal {
    line: i64,
    field: &'static str,
    message: String,
    reason: String,
}

/// The queue: the newest unattributed ledger lines, what they add up to, the streams and contracts to assign them
/// to, and the refused assignment when the page is shown again after one.
struct QueuePage {
    lines: Vec<store::attribution::AttributedLine>,
    /// The page shown (1-based) and whether there is a next one.
    page: i64,
    more: bool,
    waiting: Money,
    streams: Vec<(crate::domain::funding::FundingStream, i64)>,
    /// Contract ids and references, to choose from.
    contracts: Vec<(i64, String)>,
    error: Option<Refusal>,
}

async fn load_queue(state: &AppState, page: i64, error: Option<Refusal>) -> AppResult<QueuePage> {
    let page = page.clamp(1, i64::MAX / QUEUE_LIMIT);
    let filter = LineFilter {
        unattributed_only: true,
        with_pending: true,
        // One more than a page tells whether there is a next one.
        limit: QUEUE_LIMIT + 1,
        offset: (page - 1) * QUEUE_LIMIT,
        ..Default::default()
    };
    let mut lines = store::attribution::lines(&state.db, &filter).await?;
    let more = lines.len() as i64 > QUEUE_LIMIT;
    lines.truncate(QUEUE_LIMIT as usize);
    let (_, waiting) = store::attribution::queue_size(&state.db).await?;
    let streams = store::funding::streams(&state.db).await?;
    let contracts = store::contracts::references(&state.db).await?;
    Ok(QueuePage { lines, page, more, waiting, streams, contracts, error })
}

fn render_queue(chrome: &Chrome, page: &QueuePage) -> Markup {
    let (lines, waiting, streams, contracts, error) =
        (&page.lines, page.waiting, &page.streams, &page.contracts, &page.error);
    // The refused line keeps its reason and shows the problem next to it.
    let mut refused = FieldErrors::new();
    if let Some(r) = error.as_ref().filter(|r| r.field == "reason") {
        refused.add("reason", r.message.clone());
    }
    let none = FieldErrors::new();
    let mine = |id: i64| error.as_ref().filter(|r| r.line == id);
    let reason_of = |id: i64| mine(id).map_or("", |r| r.reason.as_str());
    let errors_of = |id: i64| if mine(id).is_some() { &refused } else { &none };
    // Every line's form offers the same choices: drawn once (escaped by maud here), repeated per line.
    let stream_options = html! { @for (s, _) in streams { option value=(s.id) { (s.code) } } };
    let contract_options = html! { @for (id, reference) in contracts { option value=(id) { (reference) } } };
    chrome.page(
        "Wachtrij toerekening",
        html! {
            p.breadcrumb { a href="/toerekening" { "Toerekening" } }
            h1 { "Niet-toegerekende regels" }
            p { "Samen " strong { (waiting) } ". Wijs een regel handmatig toe met een reden; dat gaat voor elke regel." }
            @let pending = lines.iter().filter(|l| l.pending).count();
            @if pending > 0 {
                p { (crate::domain::words::count(pending, "regel hoort", "regels horen")) " bij een importbatch die "
                    strong { (store::attribution::AWAITS_APPROVAL) } " (vier ogen): die tellen nergens mee en kunnen pas na goedkeuring worden toegewezen." }
            }
            @if let Some(r) = error {
                div.error-summary role="alert" {
                    h2 { "Toewijzen is niet gelukt" }
                    @if r.field == "reason" { p { a href={"#regel-" (r.line) "-reason"} { "Reden" } ": " (r.message) } }
                    @else { p { (r.message) } }
                }
            }
            table {
                caption { (crate::domain::words::count(lines.len(), "regel", "regels")) @if page.page > 1 || page.more { ", pagina " (page.page) " (de nieuwste eerst)" } }
                thead { tr {
                    th scope="col" { "Boekdatum" } th scope="col" { "Omschrijving" } th scope="col" { "Kostenplaats" } th scope="col" { "Rekening" }
                    th scope="col" { "Crediteur" } th.num scope="col" { "Bedrag" } th scope="col" { "Toewijzen" }
                } }
                tbody {
                    @for l in lines {
                        tr {
                            th scope="row" { (dates::display(l.booking_date)) }
                            td { (l.description) }
                            td { (l.cost_centre) }
                            td { (l.gl_account) }
                            td { (l.creditor_number) " " (l.creditor_name) }
                            td.num { (l.amount()) }
                            @if l.pending {
                                td { strong { (store::attribution::AWAITS_APPROVAL) } " (" a href={"/import/batches/" (l.batch_id)} { "batch " (l.batch_id) } ")" }
                            } @else {
                            td {
                                form.inline method="post" action={"/grootboek/" (l.id) "/toerekenen?pagina=" (page.page)} {
                                    (chrome.csrf_field())
                                    label for={"bron-" (l.id)} { "Bron" }
                                    select id={"bron-" (l.id)} name="stream_id" {
                                        // No preselected stream: one click must not charge a line to the first one.
                                        option value="" selected { "Kies een bron" }
                                        (stream_options)
                                    }
                                    label for={"contract-" (l.id)} { "Contract" }
                                    select id={"contract-" (l.id)} name="contract_id" {
                                        option value="" { "geen" }
                                        (contract_options)
                                    }
                                    @let form_id = format!("regel-{}", l.id);
                                    (Field::new("reason", "Reden", reason_of(l.id), errors_of(l.id)).in_form(&form_id).required().text())
                                    button type="submit" { "Toewijzen" }
                                }
                            }
                            }
                        }
                    }
                    @if lines.is_empty() { tr { td colspan="7" { "Alle regels zijn toegerekend." } } }
                }
            }
            @if page.page > 1 || page.more {
                nav aria-label="Paginering" {
                    ul.pagination {
                        @if page.page > 1 { li { a href={"/toerekening/wachtrij?pagina=" (page.page - 1)} rel="prev" { "Vorige pagina" } } }
                        li { "Pagina " (page.page) }
                        @if page.more { li { a href={"/toerekening/wachtrij?pagina=" (page.page + 1)} rel="next" { "Volgende pagina" } } }
                    }
                }
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssignForm {
    stream_id: String,
    contract_id: String,
    reason: String,
}

async fn assign(
    chrome: Chrome,
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
    Form(form): Form<AssignForm>,
) -> AppResult<Response> {
    // Back to the page the line was on (the form says which), or the first.
    let page: i64 = q.pagina.trim().parse().unwrap_or(1);
    let (field, message) = match assign_checked(&state, &user, id, &form).await? {
        None => {
            return Ok(Redirect::to(&format!("/toerekening/wachtrij?pagina={page}&melding=opgeslagen")).into_response())
        }
        Some(problem) => problem,
    };
    let refusal = Refusal { line: id, field, message, reason: form.reason };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render_queue(&chrome, &load_queue(&state, page, Some(refusal)).await?))
        .into_response())
}

/// Assigns the line, or says in Dutch why not and which field it is about.
async fn assign_checked(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    form: &AssignForm,
) -> AppResult<Option<(&'static str, String)>> {
    let mut errors = FieldErrors::new();
    let reason = text(&mut errors, "reason", "Reden", &form.reason, 500, false);
    if reason.is_empty() {
        errors.add("reason", "Geef een reden op: elke handmatige toewijzing moet later te verklaren zijn.");
    }
    if let Some(message) = errors.get("reason") {
        return Ok(Some(("reason", message.to_string())));
    }
    let streams = store::funding::streams(&state.db).await?;
    let Some(stream) = form.stream_id.parse::<i64>().ok().filter(|s| streams.iter().any(|(x, _)| x.id == *s)) else {
        return Ok(Some(("form", "Kies een financieringsbron.".into())));
    };
    let contract = form.contract_id.parse::<i64>().ok();
    match store::attribution::assign_manually(&state.db, id, stream, contract, &reason, user.actor()).await {
        Ok(()) => Ok(None),
        Err(AssignError::ClosedYear(y)) => {
            Ok(Some(("form", format!("Jaar {y} is afgesloten; een beheerder kan het heropenen."))))
        }
        Err(e @ AssignError::AwaitsApproval(_)) => {
            let message = e.to_string();
            Ok(Some(("form", format!("{}{}.", message[..1].to_uppercase(), &message[1..]))))
        }
        Err(AssignError::NotFound) => Err(AppError::NotFound),
        Err(AssignError::Db(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct YearQuery {
    jaar: String,
}

/// The year asked for, else the latest year with ledger lines (an empty year would show a green "sluit op de
/// cent" over zeros), else this year.
async fn reconciliation_year(state: &AppState, asked: &str) -> AppResult<i32> {
    if let Some(y) = asked.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)) {
        return Ok(y);
    }
    Ok(store::attribution::latest_ledger_year(&state.db).await?.unwrap_or(dates::today().year()))
}

/// An amount that is below zero says so in words as well as in colour.
fn marked(m: Money, word: &str) -> Markup {
    html! {
        @if m.is_negative() { span.negative { (m) " " span.negative-word { "(" (word) ")" } } } @else { (m) }
    }
}

async fn reconciliation(
    chrome: Chrome,
    State(state): State<AppState>,
    Query(q): Query<YearQuery>,
) -> AppResult<Markup> {
    let page = load_reconciliation(&state, &q).await?;
    Ok(render_reconciliation(&chrome, &page))
}

/// The reconciliation of one year with its totals and checks worked out.
struct ReconciliationPage {
    report: crate::report::reconciliation::YearReport,
    /// Streams with the overspending signal.
    overspent: Vec<i64>,
    /// Nothing booked in the year at all.
    empty: bool,
    /// Attributed plus unattributed equals what was imported, to the cent.
    balances: bool,
    attributed: Money,
    available: Money,
    committed: Money,
    overdue: Money,
    to_come: Money,
}

async fn load_reconciliation(state: &AppState, q: &YearQuery) -> AppResult<ReconciliationPage> {
    let year = reconciliation_year(state, &q.jaar).await?;
    let report = crate::report::reconciliation::for_years(
        &state.db,
        &[year],
        Some(&state.line_flags_cache),
        Some(&state.commitments_cache),
    )
    .await?
    .remove(0);
    let overspent: Vec<i64> =
        report.flags.iter().filter(|f| f.code == "stream_overspent").flat_map(|f| f.ids.clone()).collect();
    let attributed = report.attributed_total();
    let empty = report.imported_total.is_zero() && report.unattributed.is_zero() && attributed.is_zero();
    let balances = attributed + report.unattributed == report.imported_total;
    let available = report.streams.iter().map(|s| s.available).sum::<Money>();
    let (committed, overdue, to_come) = (report.committed_total(), report.overdue_total(), report.to_come_total());
    Ok(ReconciliationPage { report, overspent, empty, balances, attributed, available, committed, overdue, to_come })
}

fn render_reconciliation(chrome: &Chrome, page: &ReconciliationPage) -> Markup {
    let (report, overspent, empty) = (&page.report, &page.overspent, page.empty);
    let year = report.year;
    let finance = chrome.may(Permission::ManageFinance);
    let drill = |stream: Option<i64>, label: Markup| -> Markup {
        if finance {
            let href = match stream {
                Some(s) => format!("/aansluiting/regels?jaar={year}&bron={s}"),
                None => format!("/aansluiting/regels?jaar={year}&bron=geen"),
            };
            html! { a href=(href) { (label) } }
        } else {
            label
        }
    };
    chrome.page(
        "Aansluiting",
        html! {
            h1 { "Aansluiting " (year) }
            form.filters method="get" action="/aansluiting" {
                div.field { label for="jaar" { "Jaar" } input #jaar type="number" name="jaar" min="2000" max="2100" value=(year); }
                button type="submit" { "Tonen" }
            }
            dl.facts {
                dt { "Geïmporteerd (boekjaar " (year) ")" } dd { (report.imported_total) }
                dt { "Toegerekend aan een bron" } dd { (page.attributed) }
                dt { "Niet toegerekend (wachtrij)" } dd { (drill(None, maud::html! { (report.unattributed) })) }
                dt { "Controle" } dd {
                    @if empty {
                        "Geen geboekte bedragen in " (year) "."
                    } @else if page.balances {
                        span.status.status-ok { "Sluit op de cent" }
                    } @else {
                        span.status.status-bad { "Sluit niet" }
                    }
                }
            }
            table {
                caption { "Per financieringsbron: resterend = beschikbaar − realisatie − verplichtingen. Verplichtingen zijn verwachte betalingen die nog niet gefactureerd zijn: vervallen (op of vóór vandaag) of nog te betalen." }
                thead { tr {
                    th scope="col" { "Bron" } th.num scope="col" { "Beschikbaar" } th.num scope="col" { "Realisatie" }
                    th.num scope="col" { "Verplichtingen" } th.num scope="col" { "waarvan vervallen, niet gefactureerd" }
                    th.num scope="col" { "waarvan nog te betalen" } th.num scope="col" { "Resterend" }
                } }
                tbody {
                    @for s in &report.streams {
                        tr {
                            th scope="row" {
                                a href={"/financiering/" (s.id)} { (s.code) } " " (s.name)
                                @if overspent.contains(&s.id) { " " span.status.status-bad { "overbesteding" } }
                            }
                            td.num { a href={"/financiering/" (s.id) "#toekenningen"} { (s.available) } }
                            td.num { (drill(Some(s.id), marked(s.actual, "negatief"))) }
                            td.num { (s.committed) }
                            td.num { (s.overdue) }
                            td.num { (s.to_come) }
                            td.num { (marked(s.remaining, "tekort")) }
                        }
                    }
                    @if !report.unfunded.committed.is_zero() {
                        tr {
                            th scope="row" {
                                a href={"/aansluiting/signalen?jaar=" (year) "&soort=unfunded_commitments"} { "Zonder financieringsbron" }
                                " " span.status.status-bad { "geen bron" }
                            }
                            td.num { (not_applicable()) } td.num { (not_applicable()) }
                            td.num { (report.unfunded.committed) }
                            td.num { (report.unfunded.overdue) }
                            td.num { (report.unfunded.to_come) }
                            td.num { (not_applicable()) }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" { "Totaal (verplichtingen met die zonder bron)" }
                    td.num { (page.available) }
                    td.num { (page.attributed) }
                    td.num { (page.committed) }
                    td.num { (page.overdue) }
                    td.num { (page.to_come) }
                    td.num { (not_applicable()) }
                } }
            }
            @for s in &report.streams {
                @if !s.budget_lines.is_empty() {
                    table {
                        caption { "Begrotingsposten " (s.code) " " (year) }
                        thead { tr { th scope="col" { "Categorie" } th.num scope="col" { "Begroot" } th.num scope="col" { "Realisatie" } } }
                        tbody { @for l in &s.budget_lines { tr { th scope="row" { (l.category) } td.num { (l.amount) } td.num { (l.actual) } } } }
                    }
                }
            }
            h2 #signalen { "Signalen" }
            ul {
                @for f in &report.flags {
                    li {
                        strong { (f.title) } ": "
                        a href={"/aansluiting/signalen?jaar=" (year) "&soort=" (f.code)} { (f.subject.count(f.count)) }
                        @if !f.total.is_zero() { ", " (f.total) }
                    }
                }
                @if report.flags.is_empty() { li { "Geen signalen." } }
            }
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignalQuery {
    jaar: String,
    soort: String,
}

/// What is behind one signal: the ledger lines (finance staff), placements (roles that see participants),
/// contracts or streams; other roles get the totals only.
async fn signal(chrome: Chrome, State(state): State<AppState>, Query(q): Query<SignalQuery>) -> AppResult<Markup> {
    let page = load_signal(&state, &chrome, &q).await?;
    Ok(render_signal(&chrome, &page))
}

/// One signal of one year, or `None` when the year does not have it (any more).
struct SignalPage {
    year: i32,
    signal: Option<(Flag, Behind)>,
}

/// What is behind a signal, as far as the user's role may see it.
enum Behind {
    Lines(Vec<store::attribution::AttributedLine>),
    /// Placements with the amount each one adds to the signal.
    Placements(Vec<(store::placements::Placement, Money)>),
    /// Contract id, reference ("?" when gone) and amount.
    Contracts(Vec<(i64, String, Money)>),
    Streams(Vec<crate::report::reconciliation::StreamYear>),
    /// The role sees the totals only.
    Hidden,
}

async fn load_signal(state: &AppState, chrome: &Chrome, q: &SignalQuery) -> AppResult<SignalPage> {
    use crate::report::reconciliation::FlagSubject;
    let year = reconciliation_year(state, &q.jaar).await?;
    let report = crate::report::reconciliation::for_years(
        &state.db,
        &[year],
        Some(&state.line_flags_cache),
        Some(&state.commitments_cache),
    )
    .await?
    .remove(0);
    let Some(f) = report.flags.iter().find(|f| f.code == q.soort.trim()) else {
        return Ok(SignalPage { year, signal: None });
    };
    let pairs: Vec<(i64, Money)> = f.ids.iter().copied().zip(f.amounts.iter().copied()).collect();
    let behind = match f.subject {
        FlagSubject::LedgerLines if chrome.may(Permission::ManageFinance) => {
            Behind::Lines(store::attribution::lines_by_id(&state.db, &f.ids).await?)
        }
        FlagSubject::Placements if chrome.may(Permission::ParticipantData) => {
            let placements = store::placements::list(&state.db, None).await?;
            Behind::Placements(
                pairs
                    .iter()
                    .filter_map(|(id, m)| placements.iter().find(|p| p.id == *id).map(|p| (p.clone(), *m)))
                    .collect(),
            )
        }
        FlagSubject::Contracts => {
            let contracts = store::contracts::list(&state.db).await?;
            Behind::Contracts(
                pairs
                    .iter()
                    .map(|(id, m)| {
                        let reference = contracts.iter().find(|c| c.id == *id).map(|c| c.reference.as_str());
                        (*id, reference.unwrap_or("?").to_string(), *m)
                    })
                    .collect(),
            )
        }
        FlagSubject::Streams => {
            Behind::Streams(report.streams.iter().filter(|s| f.ids.contains(&s.id)).cloned().collect())
        }
        _ => Behind::Hidden,
    };
    Ok(SignalPage { year, signal: Some((f.clone(), behind)) })
}

fn render_signal(chrome: &Chrome, page: &SignalPage) -> Markup {
    let year = page.year;
    let Some((f, behind)) = &page.signal else {
        return chrome.page(
            "Signaal",
            html! {
                p.breadcrumb { a href={"/aansluiting?jaar=" (year) "#signalen"} { "Aansluiting " (year) } }
                h1 { "Geen signaal" }
                p { "Dit signaal is er in " (year) " niet (meer)." }
            },
        );
    };
    let body = match behind {
        Behind::Lines(lines) => line_table(lines),
        Behind::Placements(placements) => html! { ul { @for (p, m) in placements {
            li {
                a href={"/plaatsingen/" (p.id)} { (p.client_number.as_str()) } ", start " (dates::display(p.schedule.start_date))
                @if !m.is_zero() { ": " (m) }
            }
        } } },
        Behind::Contracts(contracts) => html! { ul { @for (id, reference, m) in contracts {
            li { a href={"/contracten/" (id)} { (reference) } ": " (m) " meer gefactureerd dan verwacht" }
        } } },
        Behind::Streams(streams) => html! { ul { @for s in streams {
            li { a href={"/financiering/" (s.id)} { (s.code) " " (s.name) } ": beschikbaar " (s.available) ", realisatie " (s.actual)
                ", verplichtingen " (s.committed) ", resterend " (marked(s.remaining, "tekort"))
                @if let Some(u) = s.spend_until { "; besteden tot en met " (dates::display(u)) } }
        } } },
        Behind::Hidden => {
            html! { p { "De gegevens per regel of deelnemer zijn niet zichtbaar voor uw rol; hierboven staan de totalen." } }
        }
    };
    chrome.page(
        "Signaal",
        html! {
            p.breadcrumb { a href={"/aansluiting?jaar=" (year) "#signalen"} { "Aansluiting " (year) } }
            h1 { (f.title) }
            p { (f.subject.count(f.count)) @if !f.total.is_zero() { ", samen " strong { (f.total) } } " in " (year) "." }
            (body)
        },
    )
}

/// Ledger lines with their attribution and the reason for it.
fn line_table(lines: &[store::attribution::AttributedLine]) -> Markup {
    html! {
        table {
            caption { "Regels met hun toerekening en de reden ervan" }
            thead { tr {
                th scope="col" { "Boekdatum" } th scope="col" { "Omschrijving" } th scope="col" { "Crediteur" } th.num scope="col" { "Bedrag" }
                th scope="col" { "Bron" } th scope="col" { "Contract" } th scope="col" { "Waarom hier" }
            } }
            tbody {
                @for l in lines {
                    tr {
                        th scope="row" { (dates::display(l.booking_date)) }
                        td { (l.description) }
                        td { (l.creditor_number) " " (l.creditor_name) }
                        td.num { (l.amount()) }
                        td { (l.stream_code.as_deref().unwrap_or("—")) }
                        td { (l.contract_reference.as_deref().unwrap_or("—")) }
                        td { (l.why()) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DrillQuery {
    jaar: String,
    bron: String,
    contract: String,
    /// The last line of the page before (booking date and id, as `2025-06-30.123`): this page starts after it.
    na: String,
}

const DRILL_LINES: i64 = 100;

/// The ledger lines behind one amount of the reconciliation: how many there are and their total (kept figures),
/// and one page of them, newest first.
struct DrillPage {
    /// The query as asked, for the way back and the next page.
    year: String,
    query: String,
    lines: Vec<store::attribution::AttributedLine>,
    count: i64,
    total: Money,
    /// Where the next page starts, when there is one.
    next: Option<String>,
    /// Not the first page.
    later: bool,
}

async fn drill_lines(chrome: Chrome, State(state): State<AppState>, Query(q): Query<DrillQuery>) -> AppResult<Markup> {
    let page = load_drill(&state, q).await?;
    Ok(render_drill(&chrome, &page))
}

/// `2025-06-30.123`: a line's place in the list (booking date, id).
fn parse_cursor(text: &str) -> Option<(time::Date, i64)> {
    let (date, id) = text.trim().split_once('.')?;
    Some((dates::parse_iso(date)?, id.parse().ok()?))
}

async fn load_drill(state: &AppState, q: DrillQuery) -> AppResult<DrillPage> {
    let year = q.jaar.parse::<i32>().ok();
    let before = parse_cursor(&q.na);
    let filter = LineFilter {
        unattributed_only: q.bron == "geen",
        stream_id: q.bron.parse().ok(),
        contract_id: q.contract.parse().ok(),
        year,
        // The lines behind a figure: those that count.
        with_pending: false,
        // One more than a page tells whether there is a next one.
        limit: DRILL_LINES + 1,
        offset: 0,
        before,
    };
    let mut lines = store::attribution::lines(&state.db, &filter).await?;
    let next = if lines.len() as i64 > DRILL_LINES {
        lines.truncate(DRILL_LINES as usize);
        lines.last().map(|l| format!("{}.{}", dates::iso(l.booking_date), l.id))
    } else {
        None
    };
    let (count, total) = store::attribution::lines_total(&state.db, &filter).await?;
    let query = serde_urlencoded::to_string([("jaar", &q.jaar), ("bron", &q.bron), ("contract", &q.contract)])
        .expect("query encodes");
    Ok(DrillPage { year: q.jaar, query, lines, count, total, next, later: before.is_some() })
}

fn render_drill(chrome: &Chrome, page: &DrillPage) -> Markup {
    chrome.page(
        "Grootboekregels",
        html! {
            p.breadcrumb { a href={"/aansluiting?jaar=" (page.year)} { "Aansluiting" } }
            h1 { "Grootboekregels achter het bedrag" }
            p { (crate::domain::words::count(page.count.max(0) as usize, "regel", "regels")) ", samen " strong { (page.total) } "."
                @if page.count > DRILL_LINES { " Per pagina de " (DRILL_LINES) " volgende regels, de nieuwste eerst." } }
            (line_table(&page.lines))
            @if page.later || page.next.is_some() {
                nav aria-label="Paginering" {
                    ul.pagination {
                        @if page.later { li { a href={"/aansluiting/regels?" (page.query)} { "Eerste pagina" } } }
                        @if let Some(n) = &page.next { li { a href={"/aansluiting/regels?" (page.query) "&na=" (n)} rel="next" { "Volgende pagina" } } }
                    }
                }
            }
        },
    )
}
