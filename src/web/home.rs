//! The start page: each role starts where its work is. A contract manager sees what needs a decision or a
//! follow-up, finance the queue, the signals of the open years, the last imports and the year close, and the
//! policy adviser goes straight to the multi-year overview. An admin sees both working lists. Every card links
//! to the filtered list behind its number.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use time::Date;

use super::views::{ceiling_meter, Chrome};
use super::{AppState, RouteTable};
use crate::auth::roles::{Permission, Role};
use crate::domain::certification::holds_valid_mark;
use crate::domain::commitment::ContractFigures;
use crate::domain::contract::{CeilingLevel, ExtensionOption};
use crate::domain::dates;
use crate::domain::progress::late_start;
use crate::domain::words::noun;
use crate::error::AppResult;
use crate::money::Money;
use crate::report::reconciliation::{self, Flag};
use crate::store;
use crate::store::contracts::Contract;
use crate::store::imports::BatchRow;

pub fn routes() -> RouteTable {
    RouteTable::default().get("/", Permission::Read, home)
}

/// How far ahead the start page looks for option deadlines.
const OPTION_DEADLINE_DAYS: i64 = 60;

/// How many recent imports finance sees.
const RECENT_IMPORTS: i64 = 5;

async fn home(chrome: Chrome, State(state): State<AppState>) -> AppResult<Response> {
    if chrome.user.as_ref().is_some_and(|u| u.role == Role::PolicyAdviser) {
        return Ok(Redirect::to("/meerjarenoverzicht").into_response());
    }
    let page = load_home(&state, &chrome).await?;
    Ok(render_home(&chrome, &page).into_response())
}

/// The start page: the working lists of the roles the user has, as of today.
struct HomePage {
    today: Date,
    /// What needs the user's attention, from the same list as `/meldingen` and the e-mail digest.
    notifications: Option<super::notifications::Split>,
    contract_work: Option<ContractWork>,
    finance_work: Option<FinanceWork>,
}

async fn load_home(state: &AppState, chrome: &Chrome) -> AppResult<HomePage> {
    let today = dates::today();
    let contract_work =
        if chrome.may(Permission::ManageContracts) { Some(ContractWork::load(state, today).await?) } else { None };
    let finance_work =
        if chrome.may(Permission::ManageFinance) { Some(FinanceWork::load(state, today).await?) } else { None };
    let notifications = match &chrome.user {
        Some(user) => Some(super::notifications::for_user(state, user).await?),
        None => None,
    };
    Ok(HomePage { today, notifications, contract_work, finance_work })
}

fn render_home(chrome: &Chrome, page: &HomePage) -> Markup {
    chrome.page(
        "Overzicht",
        html! {
            h1 { "Vandaag aandacht nodig" }
            p.lead { "Inkoop van taalonderwijs voor inburgering: contracten, keurmerken, uitgaven en budgetten. Stand van " (dates::display(page.today)) "." }
            @if let Some(n) = &page.notifications { (super::notifications::start_page_list(n)) }
            @if let Some(w) = &page.contract_work { (w.view()) }
            @if let Some(w) = &page.finance_work { (w.view()) }
        },
    )
}

/// What a contract manager needs to act on today.
struct ContractWork {
    marks: usize,
    /// Options to decide on soon, with the days left until their notice deadline.
    deadlines: Vec<(Contract, ExtensionOption, i64)>,
    ceilings: Vec<(Contract, ContractFigures, Option<Date>)>,
    at_risk: usize,
    overdue_actions: usize,
    late_starts: usize,
    third_attempts: usize,
}

impl ContractWork {
    async fn load(state: &AppState, today: Date) -> AppResult<ContractWork> {
        let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
        let decisions = store::certifications::all_by_provider(&state.db).await?;
        let marks = crate::domain::certification::needing_attention(&providers, &decisions, today).len();
        let all = super::contracts::portfolio(state, today).await?;
        let mut deadlines = Vec::new();
        let mut ceilings = Vec::new();
        for (c, f) in all.with_figures() {
            for o in c.terms.period.deadlines_within(today, OPTION_DEADLINE_DAYS) {
                deadlines.push((c.clone(), o.clone(), (o.notice_deadline - today).whole_days()));
            }
            if f.level != CeilingLevel::Ok {
                let since = all.reached_since(&state.db, c, f).await?;
                ceilings.push((c.clone(), f.clone(), since));
            }
        }
        let none = Vec::new();
        let unmarked: std::collections::HashSet<i64> = all
            .contracts
            .iter()
            .filter(|c| !holds_valid_mark(decisions.get(&c.provider_id).unwrap_or(&none), today))
            .map(|c| c.id)
            .collect();
        let running = &all.running;
        let at_risk = running.iter().filter(|p| unmarked.contains(&p.contract_id)).count();
        let signals = crate::report::progress_signals::signals(&state.db, Some(&state.signals_cache)).await?;
        let of = |id: i64| crate::report::progress_signals::of(&signals, id);
        let late_starts =
            running.iter().filter(|p| late_start(p.pip_date, of(p.id).actual_start, today).is_some()).count();
        let third_attempts = running.iter().filter(|p| of(p.id).third_attempt).count();
        let overdue_actions = store::quality::actions(&state.db, None)
            .await?
            .iter()
            .filter(|a| crate::domain::quality::is_overdue(a.status, a.due_date, today))
            .count();
        Ok(ContractWork { marks, deadlines, ceilings, at_risk, overdue_actions, late_starts, third_attempts })
    }

    fn view(&self) -> Markup {
        let card = |href: &str, n: usize, one: &str, many: &str, rest: &str| {
            html! { li.card { a href=(href) { strong { (n) } " " (noun(n, one, many)) " " (rest) } } }
        };
        html! {
            h2 { "Contracten en kwaliteit" }
            ul.cards {
                (card("/keurmerken", self.marks, "aanbieder", "aanbieders", "zonder geldig keurmerk, geschorst of verlopend binnen 90 dagen"))
                (card("#opties", self.deadlines.len(), "optiebesluit", "optiebesluiten", &format!("binnen {OPTION_DEADLINE_DAYS} dagen")))
                (card("#plafonds", self.ceilings.len(), "contract", "contracten", "op 80% of meer van het plafond"))
                (card("/plaatsingen?status=lopend&keurmerk=ongeldig", self.at_risk, "lopende plaatsing", "lopende plaatsingen", "bij een aanbieder zonder geldig keurmerk"))
                (card("/kwaliteit/acties#te-laat", self.overdue_actions, "verbeterpunt", "verbeterpunten", "over de streefdatum"))
                (card("/plaatsingen?status=lopend&signaal=late-start", self.late_starts, "lopende plaatsing", "lopende plaatsingen", "met een late start (meer dan 3 maanden na het PIP)"))
                (card("/plaatsingen?status=lopend&signaal=derde-poging", self.third_attempts, "lopende plaatsing", "lopende plaatsingen", "met een derde examenpoging (niet gefinancierd)"))
            }
            h3 #opties { "Verlengingsopties: besluit nodig" }
            table {
                caption { "Opties met een besluitdatum binnen " (OPTION_DEADLINE_DAYS) " dagen" }
                thead { tr { th scope="col" { "Contract" } th scope="col" { "Taalaanbieder" } th scope="col" { "Uiterlijk besluiten op" } th.num scope="col" { "Dagen" } th scope="col" { "Verlenging tot" } } }
                tbody {
                    @for (c, o, days) in &self.deadlines {
                        tr {
                            th scope="row" { a href={"/contracten/" (c.id) "/voorwaarden#opties"} { (c.reference) } }
                            td { (c.provider_name) }
                            td { (dates::display(o.notice_deadline)) }
                            td.num { (days) }
                            td { (dates::display(o.new_end_date)) }
                        }
                    }
                    @if self.deadlines.is_empty() { tr { td colspan="5" { "Geen optiebesluiten op korte termijn." } } }
                }
            }
            h3 #plafonds { "Contractplafonds" }
            table {
                caption { "Contracten op 80% of meer van het plafond" }
                thead { tr { th scope="col" { "Contract" } th scope="col" { "Gebruik" } th.num scope="col" { "Gefactureerd + verplichting" } th.num scope="col" { "Plafond" } th scope="col" { "Plafond bereikt" } } }
                tbody {
                    @for (c, f, since) in &self.ceilings {
                        tr {
                            th scope="row" { a href={"/contracten/" (c.id) "#plafond"} { (c.reference) } }
                            td { (ceiling_meter(f.ceiling_pct, f.level, &format!("start-plafond-{}", c.id))) }
                            td.num { (f.ceiling_use) }
                            td.num { (c.terms.ceiling) }
                            td { (super::contracts::ceiling_words(f, *since)) }
                        }
                    }
                    @if self.ceilings.is_empty() { tr { td colspan="5" { "Alle contracten zitten onder 80% van hun plafond." } } }
                }
            }
        }
    }
}

/// What finance needs to act on today.
struct FinanceWork {
    /// Ledger lines no rule or person has attributed yet, and their total.
    queue: (i64, Money),
    /// How many signals `signals` holds over all years.
    signal_count: usize,
    /// Per open year with ledger lines: the reconciliation signals that have something behind them.
    signals: Vec<(i32, Vec<Flag>)>,
    imports: Vec<BatchRow>,
    /// Batches waiting for four-eyes approval, oldest first: they count nowhere until someone approves them.
    pending: Vec<BatchRow>,
    last_closed: Option<i32>,
    /// Years that are over, not closed yet, and have ledger lines: ready for the year close.
    closable: Vec<i32>,
}

impl FinanceWork {
    async fn load(state: &AppState, today: Date) -> AppResult<FinanceWork> {
        let queue = store::attribution::queue_size(&state.db).await?;
        let last_closed = store::funding::last_closed(&mut *state.db.acquire().await?).await?;
        let years: Vec<i32> = store::attribution::sums(&state.db)
            .await?
            .imported
            .into_keys()
            .filter(|y| !store::funding::year_is_closed(*y, last_closed))
            .collect();
        let newest_first: Vec<i32> = years.iter().rev().copied().collect();
        let signals: Vec<(i32, Vec<Flag>)> = reconciliation::for_years(
            &state.db,
            &newest_first,
            Some(&state.line_flags_cache),
            Some(&state.commitments_cache),
        )
        .await?
        .into_iter()
        .map(|r| (r.year, r.flags.into_iter().filter(|f| f.count > 0).collect()))
        .collect();
        let closable = years.into_iter().filter(|y| *y < today.year()).collect();
        let imports =
            store::imports::list_batches_of(&state.db, super::imports::Area::Finance.kinds(), RECENT_IMPORTS).await?;
        let signal_count = signals.iter().map(|(_, f)| f.len()).sum();
        let pending = store::approval::pending_batches(&state.db).await?;
        Ok(FinanceWork { queue, signal_count, signals, imports, pending, last_closed, closable })
    }

    fn view(&self) -> Markup {
        let (lines, amount) = self.queue;
        let signal_count = self.signal_count;
        html! {
            h2 { "Financiën" }
            ul.cards {
                @if !self.pending.is_empty() {
                    li.card { a href="#goedkeuring" { strong { (self.pending.len()) } " " (noun(self.pending.len(), "importbatch wacht", "importbatches wachten")) " op goedkeuring" } }
                }
                li.card { a href="/toerekening/wachtrij" { strong { (lines) } " " (noun(lines, "grootboekregel", "grootboekregels")) " nog niet toegerekend, samen " (amount) } }
                li.card { a href="#signalen" { strong { (signal_count) } " " (noun(signal_count, "signaal", "signalen")) " in de aansluiting van de open jaren" } }
                li.card { a href="#jaarafsluiting" {
                    @match self.closable.as_slice() {
                        [] => { "Geen jaar klaar om af te sluiten" }
                        years => { strong { (years.len()) } " " (noun(years.len(), "jaar", "jaren")) " voorbij en nog niet afgesloten" }
                    }
                } }
            }
            @if !self.pending.is_empty() {
                h3 #goedkeuring { "Wachten op goedkeuring" }
                p { "Deze imports tellen nergens mee tot een andere financieel medewerker of een beheerder ze op de batchpagina goedkeurt; wie importeerde kan dat niet zelf." }
                table {
                    caption { "Importbatches die op goedkeuring wachten, oudste eerst" }
                    thead { tr { th scope="col" { "Batch" } th scope="col" { "Bestand" } th scope="col" { "Geïmporteerd door" } th scope="col" { "Tijdstip" } th.num scope="col" { "Regels" } th.num scope="col" { "Totaal" } } }
                    tbody {
                        @for b in &self.pending {
                            tr {
                                th scope="row" { a href={"/import/batches/" (b.id)} { (b.id) } }
                                td { (b.file_name) }
                                td { (b.imported_by) }
                                td { (dates::display_timestamp(&b.imported_at)) }
                                td.num { (b.rows_imported) }
                                td.num { (b.amount_total()) }
                            }
                        }
                    }
                }
            }
            h3 #signalen { "Signalen in de aansluiting" }
            @if self.signals.is_empty() { p { "Geen open jaren met grootboekregels." } }
            @for (year, flags) in &self.signals {
                h4 { a href={"/aansluiting?jaar=" (year)} { "Aansluiting " (year) } }
                @if flags.is_empty() { p { "Geen signalen." } } @else {
                    ul {
                        @for f in flags {
                            li { a href={"/aansluiting/signalen?jaar=" (year) "&soort=" (f.code)} { (f.title) } ": " (f.subject.count(f.count)) ", " (f.total) }
                        }
                    }
                }
            }
            h3 #imports { "Laatste imports" }
            table {
                caption { "De laatste imports, nieuwste eerst" }
                thead { tr { th scope="col" { "Batch" } th scope="col" { "Bestand" } th scope="col" { "Tijdstip" } th.num scope="col" { "Geïmporteerd" } th scope="col" { "Stand" } } }
                tbody {
                    @for b in &self.imports {
                        tr {
                            th scope="row" { a href={"/import/batches/" (b.id)} { (b.id) } }
                            td { (b.file_name) }
                            td { (dates::display_timestamp(&b.imported_at)) }
                            td.num { (b.rows_imported) }
                            td { @if b.undone_at.is_some() { "ongedaan gemaakt" } @else if b.awaits_approval() { strong { (store::attribution::AWAITS_APPROVAL) } } @else { "geïmporteerd" } }
                        }
                    }
                    @if self.imports.is_empty() { tr { td colspan="5" { "Nog geen imports." } } }
                }
            }
            p { a href="/import" { "Naar importeren" } }
            h3 #jaarafsluiting { "Jaarafsluiting" }
            p {
                @match self.last_closed { Some(y) => { "Afgesloten tot en met " (y) "." } None => { "Nog geen jaar afgesloten." } }
                @for y in &self.closable { " " a href={"/financiering?jaar=" (y)} { "Jaar " (y) " afsluiten" } }
            }
        }
    }
}
