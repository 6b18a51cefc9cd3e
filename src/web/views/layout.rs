//! The page frame: skip link, header with navigation and the signed-in user, main content, footer.

use axum::http::StatusCode;
use maud::{html, Markup, DOCTYPE};

use super::Chrome;
use crate::auth::roles::Permission;

/// Menu items and the permission needed to see them (the routes check again on the server).
const NAV: &[(&str, &str, Permission)] = &[
    ("/", "Overzicht", Permission::Read),
    ("/meldingen", "Meldingen", Permission::Read),
    ("/aanbieders", "Taalaanbieders", Permission::Read),
    ("/keurmerken", "Keurmerken", Permission::Read),
    ("/contracten", "Contracten", Permission::Read),
    ("/kwaliteit", "Kwaliteit", Permission::Read),
    ("/plaatsingen", "Plaatsingen", Permission::ParticipantData),
    ("/factuurcontrole", "Factuurcontrole", Permission::ParticipantData),
    ("/scorecard", "Scorecard", Permission::Read),
    ("/financiering", "Financiering", Permission::Read),
    ("/aansluiting", "Aansluiting", Permission::Read),
    ("/meerjarenoverzicht", "Meerjarenoverzicht", Permission::Read),
    ("/indicatoren", "Indicatoren", Permission::Read),
    ("/toerekening", "Toerekening", Permission::ManageFinance),
    ("/import", "Import", Permission::ManageFinance),
    ("/registers/import", "Registerimport", Permission::ManageContracts),
    ("/beheer", "Beheer", Permission::Admin),
];

pub fn page(chrome: &Chrome, title: &str, body: Markup) -> Markup {
    let nav = html! {
        @if let Some(user) = &chrome.user {
            nav aria-label="Hoofdmenu" {
                ul {
                    @for (href, label, permission) in NAV {
                        @if user.role.may(*permission) {
                            @let current = if *href == "/" { chrome.path == "/" } else { chrome.path.starts_with(href) };
                            li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
                        }
                    }
                }
            }
            div.user {
                span { (user.username) " (" (user.role.label()) ")" }
                a href="/account" aria-current=[chrome.path.starts_with("/account").then_some("page")] { "Mijn account" }
                form method="post" action="/logout" {
                    (chrome.csrf_field())
                    button.link-button type="submit" { "Uitloggen" }
                }
            }
        }
    };
    let main = super::tables::scroll_tables(html! {
        @if let Some(notice) = chrome.notice {
            div.notice role="status" { (notice) }
        }
        (body)
    });
    frame(title, chrome.demo, nav, main)
}

fn frame(title: &str, demo: bool, nav: Markup, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="nl" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · taalbudget" }
                link rel="stylesheet" href="/static/style.css";
                link rel="icon" href="/static/favicon.svg" type="image/svg+xml";
            }
            body {
                a.skip-link href="#inhoud" { "Direct naar de inhoud" }
                header.site-header {
                    div.wrap {
                        a.brand href="/" { "taalbudget" }
                        @if demo { span.demo-badge { "Demo: fictieve gegevens" } }
                        (nav)
                    }
                }
                main #inhoud.wrap tabindex="-1" { (main) }
                footer.site-footer { div.wrap { "taalbudget · inkoop taalonderwijs Wet inburgering" } }
            }
        }
    }
}

/// The page for any error: a short explanation, the status, and the request id to quote.
pub fn error_page(status: StatusCode, message: &str, request_id: &str) -> Markup {
    let title = match status.as_u16() {
        401 => "Inloggen nodig",
        403 => "Geen toegang",
        404 => "Pagina niet gevonden",
        409 => "Conflict",
        413 => "Te groot",
        429 => "Even geduld",
        s if s >= 500 => "Er ging iets mis",
        _ => "Verzoek niet verwerkt",
    };
    frame(
        title,
        false,
        html! {},
        html! {
            h1 { (title) }
            p { (message) }
            @if status == StatusCode::UNAUTHORIZED { p { a href="/login" { "Inloggen" } } }
            p.muted { "Foutcode " (status.as_u16()) " · meldingsnummer " code { (request_id) } }
            p { a href="/" { "Naar het overzicht" } }
        },
    )
}
