//! Shared page layout, components, the start page and the stylesheet.

pub mod layout;
pub mod tables;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use maud::{html, Markup};

use super::{AppState, RouteTable};
use crate::auth::csrf::CsrfToken;
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::holds_valid_mark;
use crate::domain::contract::CeilingLevel;
use crate::domain::dates;
use crate::domain::placement::PlacementStatus;
use crate::error::AppResult;
use crate::store;

/// What every page needs around its content: where we are and who is looking.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub path: String,
    pub demo: bool,
    /// A fixed, known notice chosen by a query parameter after a redirect (never user text).
    pub notice: Option<&'static str>,
    pub user: Option<CurrentUser>,
    /// The session's CSRF token, for every form on the page.
    pub csrf: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Chrome {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let demo = parts.extensions.get::<DemoMode>().is_some();
        let notice = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("melding=")).and_then(notice_text));
        Ok(Chrome {
            path: parts.uri.path().to_string(),
            demo,
            notice,
            user: parts.extensions.get::<CurrentUser>().cloned(),
            csrf: parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
        })
    }
}

/// Marker put on requests when the server runs on throw-away demo data.
#[derive(Clone, Copy, Debug)]
pub struct DemoMode;

/// The success notices a redirect may ask for.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "aangemaakt" => "Opgeslagen: het nieuwe record is aangemaakt.",
        "opgeslagen" => "Opgeslagen: uw wijzigingen zijn bewaard.",
        "gearchiveerd" => {
            "Gearchiveerd: de aanbieder wordt nog gebruikt en is daarom niet verwijderd maar gearchiveerd."
        }
        "verwijderd" => "Verwijderd: de aanbieder had geen gekoppelde gegevens en is verwijderd.",
        "besluit" => "Opgeslagen: het keurmerkbesluit is toegevoegd.",
        "uitgelogd" => "U bent uitgelogd.",
        "ongedaan" => "De import is ongedaan gemaakt: de regels van de batch zijn verwijderd.",
        "wachtwoord" => "Het nieuwe wachtwoord is opgeslagen.",
        "backup" => {
            "De back-up is gemaakt en gecontroleerd: integriteit in orde, aantallen rijen gelijk aan de database."
        }
        _ => return None,
    })
}

/// Ceiling use as a meter with the percentage in text (never colour alone).
pub fn ceiling_meter(pct: rust_decimal::Decimal, level: CeilingLevel, id: &str) -> Markup {
    let (class, word) = match level {
        CeilingLevel::Ok => ("status-ok", "binnen plafond"),
        CeilingLevel::Warning => ("status-warn", "80% of meer"),
        CeilingLevel::Exceeded => ("status-bad", "plafond bereikt"),
    };
    let shown = pct.min(rust_decimal::Decimal::ONE_HUNDRED);
    html! {
        span.ceiling {
            meter id=(id) min="0" max="100" low="80" high="99.9" optimum="0" value=(shown) { (pct) "%" }
            " "
            label for=(id) { (pct.to_string().replace('.', ",")) "% " span.status.(class) { (word) } }
        }
    }
}

/// A provider's Blik op Werk mark in its one set of words (the class adds colour, the words carry the meaning).
pub fn mark_status(m: &crate::domain::certification::MarkStatus) -> Markup {
    use crate::domain::certification::Tone;
    let class = match m.tone() {
        Tone::Ok => "status-ok",
        Tone::Warn => "status-warn",
        Tone::Bad => "status-bad",
    };
    html! { span.status.(class) { (m.words()) } }
}

impl Chrome {
    pub fn page(&self, title: &str, body: Markup) -> Markup {
        layout::page(self, title, body)
    }

    /// The hidden CSRF field every POST form carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name=(crate::auth::csrf::FIELD) value=(self.csrf); }
    }

    /// Whether the current user's role allows `permission` (for showing buttons; the server checks again).
    pub fn may(&self, permission: Permission) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.may(permission))
    }

    /// The small-cell rule for this viewer: it hides figures of small groups from whoever may not read
    /// participant-level data.
    pub fn small_cells(&self) -> crate::domain::small_cell::SmallCells {
        crate::domain::small_cell::SmallCells::new(!self.may(Permission::ParticipantData))
    }
}

pub fn routes() -> RouteTable {
    RouteTable::default().get("/", Permission::Read, home).get("/static/style.css", Permission::Public, stylesheet).get(
        "/static/favicon.svg",
        Permission::Public,
        favicon,
    )
}

const STYLESHEET: &str = include_str!("../../../assets/style.css");
const FAVICON: &str = include_str!("../../../assets/favicon.svg");

/// A file built into the binary, cached by the browser for an hour.
fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
}

async fn stylesheet() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// The icon in the browser's tab; without one every page load logs a 404 in the console.
async fn favicon() -> impl IntoResponse {
    asset("image/svg+xml", FAVICON)
}

/// How far ahead the start page looks for option deadlines.
const OPTION_DEADLINE_DAYS: i64 = 60;

/// The start page: what needs attention today (option deadlines, ceilings, marks, placements at risk).
async fn home(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    let decisions = store::certifications::all_by_provider(&state.db).await?;
    let today = dates::today();
    let attention = super::marks::needing_attention(&providers, &decisions, today);
    let all = crate::report::commitments::load(&state.db, None, today).await?;
    let portfolio: Vec<_> = all.contracts.iter().map(|c| (c, all.figures(c))).collect();
    let deadlines: Vec<_> = portfolio
        .iter()
        .flat_map(|(c, _)| {
            c.terms.period.deadlines_within(today, OPTION_DEADLINE_DAYS).into_iter().map(move |o| (*c, o))
        })
        .collect();
    let mut ceilings = Vec::new();
    for (c, f) in portfolio.iter().filter(|(_, f)| f.level != CeilingLevel::Ok) {
        let since = super::contracts::reached_since(&state, c, f, &all.commitments.payments, today).await?;
        ceilings.push((c, f, since));
    }
    let placements = &all.placements;
    let none = Vec::new();
    // Running placements at a provider that has no valid mark today.
    let at_risk = placements
        .iter()
        .filter(|p| matches!(p.schedule.status, PlacementStatus::Started | PlacementStatus::Ongoing))
        .filter(|p| {
            portfolio
                .iter()
                .find(|(c, _)| c.id == p.contract_id)
                .is_some_and(|(c, _)| !holds_valid_mark(decisions.get(&c.provider_id).unwrap_or(&none), today))
        })
        .count();
    Ok(chrome.page(
        "Overzicht",
        html! {
            h1 { "Vandaag aandacht nodig" }
            p.lead { "Inkoop van taalonderwijs voor inburgering: contracten, keurmerken, uitgaven en budgetten. Stand van " (dates::display(today)) "." }
            ul.cards {
                li.card { a href="/keurmerken" { strong { (attention.len()) } " " (crate::domain::words::noun(attention.len(), "aanbieder", "aanbieders")) " zonder geldig keurmerk, geschorst of verlopend binnen 90 dagen" } }
                li.card { a href="#opties" { strong { (deadlines.len()) } " " (crate::domain::words::noun(deadlines.len(), "optiebesluit", "optiebesluiten")) " binnen " (OPTION_DEADLINE_DAYS) " dagen" } }
                li.card { a href="#plafonds" { strong { (ceilings.len()) } " " (crate::domain::words::noun(ceilings.len(), "contract", "contracten")) " op 80% of meer van het plafond" } }
                li.card { a href="/contracten" { strong { (at_risk) } " " (crate::domain::words::noun(at_risk, "lopende plaatsing", "lopende plaatsingen")) " bij een aanbieder zonder geldig keurmerk" } }
            }
            h2 #opties { "Verlengingsopties: besluit nodig" }
            table {
                caption { "Opties met een besluitdatum binnen " (OPTION_DEADLINE_DAYS) " dagen" }
                thead { tr { th scope="col" { "Contract" } th scope="col" { "Taalaanbieder" } th scope="col" { "Uiterlijk besluiten op" } th.num scope="col" { "Dagen" } th scope="col" { "Verlenging tot" } } }
                tbody {
                    @for (c, o) in &deadlines {
                        tr {
                            th scope="row" { a href={"/contracten/" (c.id) "#opties"} { (c.reference) } }
                            td { (c.provider_name) }
                            td { (dates::display(o.notice_deadline)) }
                            td.num { ((o.notice_deadline - today).whole_days()) }
                            td { (dates::display(o.new_end_date)) }
                        }
                    }
                    @if deadlines.is_empty() { tr { td colspan="5" { "Geen optiebesluiten op korte termijn." } } }
                }
            }
            h2 #plafonds { "Contractplafonds" }
            table {
                caption { "Contracten op 80% of meer van het plafond" }
                thead { tr { th scope="col" { "Contract" } th scope="col" { "Gebruik" } th.num scope="col" { "Gefactureerd + verplichting" } th.num scope="col" { "Plafond" } th scope="col" { "Plafond bereikt" } } }
                tbody {
                    @for (c, f, since) in &ceilings {
                        tr {
                            th scope="row" { a href={"/contracten/" (c.id) "#plafond"} { (c.reference) } }
                            td { (ceiling_meter(f.ceiling_pct, f.level, &format!("start-plafond-{}", c.id))) }
                            td.num { (f.ceiling_use) }
                            td.num { (c.terms.ceiling) }
                            td { (super::contracts::ceiling_words(f, *since)) }
                        }
                    }
                    @if ceilings.is_empty() { tr { td colspan="5" { "Alle contracten zitten onder 80% van hun plafond." } } }
                }
            }
        },
    ))
}
