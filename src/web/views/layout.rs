//! The page frame: skip link, header with navigation, main content, footer.

use axum::http::StatusCode;
use maud::{html, Markup, DOCTYPE};

use super::Chrome;

const NAV: &[(&str, &str)] = &[("/", "Overzicht"), ("/aanbieders", "Taalaanbieders"), ("/keurmerken", "Keurmerken")];

pub fn page(chrome: &Chrome, title: &str, body: Markup) -> Markup {
    frame(
        title,
        chrome.demo,
        html! {
            nav aria-label="Hoofdmenu" {
                ul {
                    @for (href, label) in NAV {
                        @let current = if *href == "/" { chrome.path == "/" } else { chrome.path.starts_with(href) };
                        li { a href=(href) aria-current=[current.then_some("page")] { (label) } }
                    }
                }
            }
        },
        html! {
            @if let Some(notice) = chrome.notice {
                div.notice role="status" { (notice) }
            }
            (body)
        },
    )
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
            p.muted { "Foutcode " (status.as_u16()) " · meldingsnummer " code { (request_id) } }
            p { a href="/" { "Naar het overzicht" } }
        },
    )
}
