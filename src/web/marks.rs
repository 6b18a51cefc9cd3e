//! Blik op Werk marks: the overview of providers whose mark needs attention. A provider's decision history and
//! the form to record a decision live on the provider's page (web/providers.rs), which a refused form re-shows.

use axum::extract::State;
use maud::{html, Markup};
use time::Date;

use super::views::{mark_status, Chrome};
use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::domain::certification::{self, needing_attention, MarkStatus, Standing};
use crate::domain::dates;
use crate::error::AppResult;
use crate::store;

pub fn routes() -> RouteTable {
    RouteTable::default().get("/keurmerken", Permission::Read, overview)
}

/// The providers whose mark needs attention, most urgent first: id, name and mark status.
struct MarksPage {
    today: Date,
    rows: Vec<(i64, String, MarkStatus)>,
}

async fn load_marks(state: &AppState) -> AppResult<MarksPage> {
    let providers = store::providers::list(&state.db, "", store::providers::Filter::Active).await?;
    let decisions = store::certifications::all_by_provider(&state.db).await?;
    let today = dates::today();
    let rows = needing_attention(&providers, &decisions, today)
        .into_iter()
        .map(|a| (a.provider.id, a.provider.name.clone(), a.mark))
        .collect();
    Ok(MarksPage { today, rows })
}

async fn overview(chrome: Chrome, State(state): State<AppState>) -> AppResult<Markup> {
    Ok(render_marks(&chrome, &load_marks(&state).await?))
}

fn render_marks(chrome: &Chrome, page: &MarksPage) -> Markup {
    let (today, rows) = (page.today, &page.rows);
    chrome.page(
        "Keurmerken",
        html! {
            h1 { "Blik op Werk-keurmerken" }
            p { "Actieve taalaanbieders zonder geldig keurmerk op " (dates::display(today)) ", geschorste aanbieders, en keurmerken die binnen "
                (certification::LAPSE_WARNING_DAYS) " dagen verlopen. De meest urgente staan bovenaan." }
            @if chrome.may(Permission::ManageContracts) {
                p.actions {
                    a href="/registers/import?sjabloon=standaard-keurmerken" { "Besluiten uit het Blik op Werk-register importeren" }
                    " (u ziet eerst per aanbieder de huidige en de nieuwe status)"
                }
            }
            table {
                caption { (crate::domain::words::count(rows.len(), "aanbieder vraagt", "aanbieders vragen")) " aandacht" }
                thead { tr {
                    th scope="col" { "Taalaanbieder" } th scope="col" { "Situatie" } th scope="col" { "Tot en met" } th scope="col" { "Dagen over" }
                } }
                tbody {
                    @for (id, name, mark) in rows {
                        tr {
                            th scope="row" { a href={"/aanbieders/" (id) "#keurmerk"} { (name) } }
                            td { (mark_status(mark)) }
                            td { (until_of(&mark.standing)) }
                            td { (mark.days.map(|d| d.to_string()).unwrap_or_else(|| "—".into())) }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="4" { "Alle actieve aanbieders hebben een geldig keurmerk dat de komende 90 dagen niet verloopt." } } }
                }
            }
        },
    )
}

/// The last day of a valid mark or a suspension, when known.
fn until_of(s: &Standing) -> String {
    match s {
        Standing::Valid { until: Some(u), .. } | Standing::Suspended { until: Some(u) } => dates::display(*u),
        _ => "—".into(),
    }
}
