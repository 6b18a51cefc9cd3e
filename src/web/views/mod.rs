//! Shared page layout, components (confirmation pages, marks, ceilings), the stylesheet and the favicon.

pub mod layout;
pub mod tables;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use maud::{html, Markup};

use super::RouteTable;
use crate::auth::csrf::CsrfToken;
use crate::auth::roles::Permission;
use crate::auth::CurrentUser;
use crate::domain::contract::CeilingLevel;

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
            "Gearchiveerd: de aanbieder staat niet meer in de lijsten; alle gegevens zijn bewaard en u kunt hem terugzetten."
        }
        "teruggezet" => "Teruggezet: de aanbieder is weer actief.",
        "regel-verwijderd" => "De toerekenregel is verwijderd en de regels zijn opnieuw toegerekend.",
        "besluit" => "Opgeslagen: het keurmerkbesluit is toegevoegd.",
        "uitgelogd" => "U bent uitgelogd.",
        "ongedaan" => "De import is ongedaan gemaakt: de regels van de batch zijn verwijderd.",
        "wachtwoord" => "Het nieuwe wachtwoord is opgeslagen.",
        "token-ingetrokken" => "Het API-token is ingetrokken: het werkt vanaf nu niet meer.",
        "gezien" => "Gemarkeerd als gezien: de melding staat nu onder Gezien, tot ze dringender wordt.",
        "backup" => {
            "De back-up is gemaakt en gecontroleerd: integriteit in orde, aantallen rijen gelijk aan de database."
        }
        _ => return None,
    })
}

/// Ceiling use as a meter with the percentage in text (never colour alone).
/// A cell with no figure by definition (an unfunded row has no budget), read out as such.
pub fn not_applicable() -> Markup {
    html! { span aria-label="niet van toepassing" { "—" } }
}

/// An optional amount, or [`not_applicable`].
pub fn money_or_dash(m: Option<crate::money::Money>) -> Markup {
    match m {
        Some(m) => html! { (m) },
        None => not_applicable(),
    }
}

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

    /// A confirmation step before something that changes a lot or cannot simply be taken back: a page (not a
    /// script dialog) that says what will happen, a button that posts the same form again with `bevestigd=ja`
    /// (see [`Confirmed`]), and a way back that changes nothing.
    pub fn confirmation(&self, step: Confirmation<'_>) -> Markup {
        self.page(
            &step.title,
            html! {
                p.breadcrumb { a href=(step.back.0) { (step.back.1) } }
                h1 { (step.title) }
                (step.consequences)
                form method="post" action=(step.action) {
                    (self.csrf_field())
                    input type="hidden" name="bevestigd" value="ja";
                    div.actions {
                        @if step.danger { button.danger type="submit" { (step.confirm) } } @else { button type="submit" { (step.confirm) } }
                        a.button.secondary href=(step.back.0) { (step.cancel) }
                    }
                }
            },
        )
    }

    /// The small-cell rule for this viewer: it hides figures of small groups from whoever may not read
    /// participant-level data.
    pub fn small_cells(&self) -> crate::domain::small_cell::SmallCells {
        crate::domain::small_cell::SmallCells::new(!self.may(Permission::ParticipantData))
    }
}

/// What a confirmation page says and does (see [`Chrome::confirmation`]).
pub struct Confirmation<'a> {
    /// The question, as page title and heading: "Aanbieder X archiveren?".
    pub title: String,
    /// Where the user came from (href, label): the breadcrumb, and where "no" leads.
    pub back: (&'a str, &'a str),
    /// What will happen, in a few sentences or a list.
    pub consequences: Markup,
    /// The form's action: the same route that asked for the confirmation.
    pub action: &'a str,
    /// The button that goes ahead ("Ja, archiveren").
    pub confirm: &'a str,
    /// The way out ("Niet archiveren").
    pub cancel: &'a str,
    /// Whether going ahead destroys something (the button then looks dangerous).
    pub danger: bool,
}

/// The field a confirmation page posts: a form without `bevestigd=ja` gets the confirmation page first.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct Confirmed {
    bevestigd: String,
}

impl Confirmed {
    pub fn yes(&self) -> bool {
        self.bevestigd == "ja"
    }
}

pub fn routes() -> RouteTable {
    RouteTable::default().get("/static/style.css", Permission::Public, stylesheet).get(
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
