//! Shared page layout, components, the start page and the stylesheet.

pub mod layout;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use maud::{html, Markup};

use super::{AppState, RouteTable};
use crate::auth::csrf::CsrfToken;
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::certification::Standing;
use crate::domain::dates;
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
        "wachtwoord" => "Het nieuwe wachtwoord is opgeslagen.",
        "backup" => {
            "De back-up is gemaakt en gecontroleerd: integriteit in orde, aantallen rijen gelijk aan de database."
        }
        _ => return None,
    })
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
}

pub fn routes() -> RouteTable {
    RouteTable::default().get("/", Permission::Read, home).get("/static/style.css", Permission::Public, stylesheet)
}

const STYLESHEET: &str = include_str!("../../../assets/style.css");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        STYLESHEET,
    )
}

/// The start page: what needs attention today.
async fn home(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    let decisions = store::certifications::all_by_provider(&state.db).await?;
    let today = dates::today();
    let attention = super::marks::needing_attention(&providers, &decisions, today);
    let suspended = attention.iter().filter(|a| matches!(a.standing, Standing::Suspended { .. })).count();
    let invalid = attention.iter().filter(|a| matches!(a.standing, Standing::NotValid { .. })).count();
    let lapsing = attention.len() - suspended - invalid;
    Ok(chrome.page(
        "Overzicht",
        html! {
            h1 { "taalbudget" }
            p.lead { "Inkoop van taalonderwijs voor inburgering: contracten, keurmerken, uitgaven en budgetten." }
            h2 { "Vandaag aandacht nodig" }
            ul.cards {
                li.card { a href="/keurmerken" { strong { (invalid) } " aanbieders zonder geldig keurmerk" } }
                li.card { a href="/keurmerken" { strong { (suspended) } " aanbieders geschorst" } }
                li.card { a href="/keurmerken" { strong { (lapsing) } " keurmerken verlopen binnen 90 dagen" } }
                li.card { a href="/aanbieders" { strong { (providers.len()) } " actieve taalaanbieders" } }
            }
        },
    ))
}
