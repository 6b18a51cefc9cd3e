//! Each role starts where its work is, and every card's number is the length of the filtered list it links to.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;

use crate::helpers::{location, spawn_app, TestApp};

async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app
}

/// The number in the card that links to `href`, and the card's words.
fn card(page: &str, href: &str) -> (usize, String) {
    let start = page
        .find(&format!("<li class=\"card\"><a href=\"{}\">", href.replace('&', "&amp;")))
        .unwrap_or_else(|| panic!("a card linking to {href} in {page}"));
    let text = &page[start..page[start..].find("</li>").unwrap() + start];
    let n = text.split("<strong>").nth(1).unwrap().split("</strong>").next().unwrap().parse().unwrap();
    (n, text.to_string())
}

/// The number the first table's caption starts with (the layout gives a caption an id: `<caption id="tabel-1">`).
fn first_caption_number(page: &str) -> usize {
    let caption = page.split("<caption").nth(1).unwrap();
    caption.split_once('>').unwrap().1.split(' ').next().unwrap().parse().unwrap()
}

/// The number of placements the list says it holds ("12 plaatsingen", or "1 plaatsing").
fn listed(page: &str) -> usize {
    first_caption_number(page)
}

#[tokio::test]
async fn the_contract_manager_starts_on_contracts_and_quality_with_cards_that_open_their_filtered_list() {
    let app = demo_app().await;
    app.login_as(Role::ContractManager).await;
    let (status, home) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("<h2>Contracten en kwaliteit</h2>") && !home.contains("<h2>Financiën</h2>"), "{home}");
    let mut nonzero = 0;
    for href in [
        "/plaatsingen?status=lopend&keurmerk=ongeldig",
        "/plaatsingen?status=lopend&signaal=late-start",
        "/plaatsingen?status=lopend&signaal=derde-poging",
    ] {
        let (n, words) = card(&home, href);
        let (status, list) = app.get_html(href).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed(&list), n, "{words} versus the list at {href}");
        nonzero += usize::from(n > 0);
    }
    assert!(nonzero >= 2, "the demo has placements behind at least two of these cards");
    let (n, _) = card(&home, "/kwaliteit/acties#te-laat");
    let (_, actions) = app.get_html("/kwaliteit/acties").await;
    assert!(actions.contains(&format!(">{n} verbeterpunten over de streefdatum")), "{actions}");
}

#[tokio::test]
async fn finance_starts_on_the_queue_signals_imports_and_year_close_and_the_policy_adviser_on_the_overview() {
    let app = demo_app().await;
    app.login_as(Role::Finance).await;
    let (status, home) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("<h2>Financiën</h2>") && !home.contains("<h2>Contracten en kwaliteit</h2>"), "{home}");
    // The queue card holds what the queue page holds.
    let (n, words) = card(&home, "/toerekening/wachtrij");
    let (_, queue) = app.get_html("/toerekening/wachtrij").await;
    let total = queue.split("Samen <strong>").nth(1).unwrap().split("</strong>").next().unwrap();
    assert!(words.contains(&format!("nog niet toegerekend, samen {total}")), "{words}");
    assert_eq!(queue.matches("/toerekenen?pagina=1\"").count(), n, "one assign form per waiting line");
    assert!(home.contains("<h3 id=\"signalen\">Signalen in de aansluiting</h3>"), "{home}");
    assert!(home.contains("href=\"/aansluiting/signalen?jaar="), "signals link to what is behind them: {home}");
    assert!(home.contains("<h3 id=\"imports\">Laatste imports</h3>") && home.contains("href=\"/import/batches/"));
    assert!(home.contains("<h3 id=\"jaarafsluiting\">Jaarafsluiting</h3>"), "{home}");

    let admin = app.other_browser();
    admin.login_as(Role::Admin).await;
    let (_, home) = admin.get_html("/").await;
    assert!(home.contains("<h2>Contracten en kwaliteit</h2>") && home.contains("<h2>Financiën</h2>"), "{home}");

    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let r = adviser.get("/").await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/meerjarenoverzicht".to_string()));
}

#[tokio::test]
async fn the_placements_list_is_paged_filtered_and_shows_the_provider() {
    let app = demo_app().await;
    app.login_as(Role::ContractManager).await;
    let (_, all) = app.get_html("/plaatsingen").await;
    let total = listed(&all);
    assert!(total > 50, "the demo has more than one page of placements");
    let pages = total.div_ceil(50);
    assert!(all.contains(&format!(", pagina 1 van {pages}</caption>")), "{all}");
    assert_eq!(all.matches("<th scope=\"row\"><a href=\"/plaatsingen/").count(), 50);
    assert!(all.contains("<th scope=\"col\">Aanbieder</th>"), "{all}");
    assert!(all.contains("href=\"/plaatsingen?pagina=2\" rel=\"next\""), "{all}");
    let (_, last) = app.get_html(&format!("/plaatsingen?pagina={pages}")).await;
    assert_eq!(last.matches("<th scope=\"row\"><a href=\"/plaatsingen/").count(), total - 50 * (pages - 1));
    // A page past the end shows the last page, not an error.
    assert_eq!(app.get_html("/plaatsingen?pagina=9999").await.1, last);

    // Filters add up: every route's list together is the whole list; a filter is kept in the paging links.
    let mut by_route = 0;
    for route in ["b1", "z", "education", "map", "knm", "alfa"] {
        by_route += listed(&app.get_html(&format!("/plaatsingen?route={route}")).await.1);
    }
    assert_eq!(by_route, total);
    let running = listed(&app.get_html("/plaatsingen?status=lopend").await.1);
    let started = listed(&app.get_html("/plaatsingen?status=started").await.1);
    let ongoing = listed(&app.get_html("/plaatsingen?status=ongoing").await.1);
    assert_eq!(running, started + ongoing);
    let valid = listed(&app.get_html("/plaatsingen?keurmerk=geldig").await.1);
    let invalid = listed(&app.get_html("/plaatsingen?keurmerk=ongeldig").await.1);
    assert_eq!(valid + invalid, total);
    let (_, b1) = app.get_html("/plaatsingen?route=b1").await;
    if listed(&b1) > 50 {
        assert!(b1.contains("href=\"/plaatsingen?route=b1&amp;pagina=2\""), "{b1}");
    }
    let (_, none) = app.get_html("/plaatsingen?klantnummer=bestaat-niet").await;
    assert!(none.contains("Geen plaatsingen met dit filter."), "{none}");
}

#[tokio::test]
async fn the_providers_list_shows_and_filters_the_mark_and_a_provider_page_lists_its_contracts_and_placements() {
    let app = demo_app().await;
    app.login_as(Role::ContractManager).await;
    let (_, list) = app.get_html("/aanbieders").await;
    assert!(list.contains("<th scope=\"col\">Blik op Werk-keurmerk</th>"), "{list}");
    let providers = first_caption_number;
    let all = providers(&list);
    let valid = providers(&app.get_html("/aanbieders?keurmerk=geldig").await.1);
    let (_, attention) = app.get_html("/aanbieders?keurmerk=aandacht").await;
    assert!(valid < all && providers(&attention) > 0, "the demo has providers with and without a valid mark");
    // The start page's marks card counts the same providers as the list's "aandacht" filter.
    let (_, home) = app.get_html("/").await;
    assert_eq!(card(&home, "/keurmerken").0, providers(&attention), "{attention}");

    // A provider's page: its contracts, and a link to its placements that holds as many as it says.
    let id: i64 =
        sqlx::query_scalar("SELECT provider_id FROM contract ORDER BY id LIMIT 1").fetch_one(&app.db).await.unwrap();
    let (_, page) = app.get_html(&format!("/aanbieders/{id}")).await;
    assert!(page.contains("<h2 id=\"contracten\">Contracten</h2>"), "{page}");
    let reference: String =
        sqlx::query_scalar("SELECT reference FROM contract WHERE provider_id = ? ORDER BY id LIMIT 1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(page.contains(&format!(">{reference}</a></th>")), "{page}");
    let link = format!("<a href=\"/plaatsingen?aanbieder={id}\">Alle ");
    let n: usize =
        page.split(&link).nth(1).expect("a link to the placements").split(' ').next().unwrap().parse().unwrap();
    assert_eq!(listed(&app.get_html(&format!("/plaatsingen?aanbieder={id}")).await.1), n);
}

#[tokio::test]
async fn a_contracts_placements_come_50_to_a_page_and_every_placement_is_on_one_of_them() {
    let app = demo_app().await;
    app.login_as(Role::ContractManager).await;
    let (id, total): (i64, i64) = sqlx::query_as(
        "SELECT contract_id, COUNT(*) FROM placement GROUP BY contract_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let total = total as usize;
    assert!(total > 50, "the demo's largest contract has more than one page of placements");
    let pages = total.div_ceil(50);
    let base = format!("/contracten/{id}/plaatsingen");
    let (_, first) = app.get_html(&base).await;
    assert!(
        first.contains(&format!(">Plaatsingen op dit contract ({total}), pagina 1 van {pages}</caption>")),
        "{first}"
    );
    assert!(first.contains(&format!("href=\"{base}?pagina=2\" rel=\"next\"")), "{first}");
    let mut seen = 0;
    for n in 1..=pages {
        let (_, page) = app.get_html(&format!("{base}?pagina={n}")).await;
        seen += page.matches("<th scope=\"row\"><a href=\"/plaatsingen/").count();
    }
    assert_eq!(seen, total);
}

#[tokio::test]
async fn a_contracts_overdue_payments_come_50_to_a_page_and_an_out_of_range_page_shows_the_last() {
    let app = demo_app().await;
    app.login_as(Role::ContractManager).await;
    // The contract with the most overdue payments, and those payments in the order the page lists them.
    let today = taalbudget::domain::dates::today();
    let portfolio = taalbudget::report::commitments::load(&app.db, None, today).await.unwrap();
    let (id, overdue) = portfolio
        .contracts
        .iter()
        .map(|c| (c.id, portfolio.commitments.overdue_of(c.id)))
        .max_by_key(|(_, o)| o.len())
        .unwrap();
    let total = overdue.len();
    assert!(total > 50, "the demo's largest contract has more than one page of overdue payments ({total})");
    let pages = total.div_ceil(50);
    let base = format!("/contracten/{id}/betalingen");
    let row = |n: usize| {
        let (p, _) = &overdue[n - 1];
        format!(
            "<tr><th scope=\"row\">{}</th><td><a href=\"/plaatsingen/{}\">",
            taalbudget::domain::dates::display(p.due),
            p.placement
        )
    };
    let rows = |page: &str| page.matches("<td><a href=\"/plaatsingen/").count();

    let (_, first) = app.get_html(&base).await;
    assert!(first.contains(&format!("{total} betalingen, samen ")), "{first}");
    assert!(first.contains(&format!(", pagina 1 van {pages}</caption>")), "{first}");
    assert!(first.contains(&format!("href=\"{base}?pagina=2#vervallen\" rel=\"next\"")), "{first}");
    assert!(first.contains("<nav aria-label=\"Paginering\">"), "{first}");
    assert_eq!(rows(&first), 50);
    assert!(first.contains(&row(50)), "{first}");

    let (_, second) = app.get_html(&format!("{base}?pagina=2")).await;
    assert!(second.contains(&format!(", pagina 2 van {pages}</caption>")), "{second}");
    let first_row = second.split("<tbody>").nth(2).expect("the overdue table's body");
    assert!(first_row.starts_with(&row(51)), "the 51st payment opens page 2: {second}");
    assert!(second.contains(&format!("href=\"{base}?pagina=1#vervallen\" rel=\"prev\"")), "{second}");

    let (_, last) = app.get_html(&format!("{base}?pagina={pages}")).await;
    assert_eq!(rows(&last), total - (pages - 1) * 50);
    assert!(last.contains(&row(total)), "{last}");
    assert_eq!(app.get_html(&format!("{base}?pagina=9999")).await.1, last, "a page past the end shows the last");
    assert_eq!(app.get_html(&format!("{base}?pagina=0")).await.1, first, "page 0 shows the first");
}
