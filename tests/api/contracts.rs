//! Contracts, tariffs, milestones, options and placements over HTTP, with every refusal.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::route::Route;
use taalbudget::store;

use crate::helpers::{certified_provider, id_from, location, spawn_app, TestApp};

/// A form post and the message it must come back with: (path, fields, message).
type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);

fn contract_fields<'a>(provider: &'a str, reference: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("reference", reference),
        ("title", "B1-route perceel 1"),
        ("provider_id", provider),
        ("lot", "1"),
        ("routes", "b1"),
        ("routes", "z"),
        ("start_date", "2022-01-01"),
        ("initial_end_date", "2025-12-31"),
        ("ceiling", "100.000,00"),
    ]
}

/// A contract with B1 tariffs 10.000,00 (2022) and 10.500,00 (from 2023) and milestones 40/30/30.
async fn priced_contract(app: &TestApp) -> i64 {
    let provider = certified_provider(app, "Taal BV", "12345678").await.to_string();
    let r = app.post_form("/contracten", &contract_fields(&provider, "UTR-1")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let id = id_from(&location(&r), "/contracten/");
    for (from, until, amount) in [("2022-01-01", "2022-12-31", "10.000,00"), ("2023-01-01", "", "10.500,00")] {
        let r = app
            .post_form(
                &format!("/contracten/{id}/tarieven"),
                &[("route", "b1"), ("valid_from", from), ("valid_until", until), ("amount", amount)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = app
        .post_form(
            &format!("/contracten/{id}/betaalmomenten"),
            &[
                ("route", "b1"),
                ("name_1", "Start"),
                ("share_1", "40"),
                ("due_1", "start"),
                ("name_2", "Tussentijds"),
                ("share_2", "30"),
                ("due_2", "months"),
                ("months_2", "12"),
                ("name_3", "Afronding"),
                ("share_3", "30"),
                ("due_3", "completion"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    id
}

fn placement<'a>(contract: &'a str, client: &'a str, start: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_number", client),
        ("cohort", "wi2021"),
        ("contract_id", contract),
        ("route", "b1"),
        ("start_date", start),
        ("planned_end", "2024-12-31"),
        ("status", "started"),
    ]
}

#[tokio::test]
async fn a_contract_with_tariffs_and_milestones_commits_its_placements_per_year_to_the_cent() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await;
    let cid = id.to_string();
    // Placed on the last day of the 2022 tariff and on the first day of the indexed one.
    for (client, start) in [("K-1", "2022-12-31"), ("K-2", "2023-01-01")] {
        let r = app.post_form("/plaatsingen", &placement(&cid, client, start)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    for section in ["", "/betalingen", "/voorwaarden", "/plaatsingen"] {
        let (status, page) = app.get_html(&format!("/contracten/{id}{section}")).await;
        assert_eq!(status, StatusCode::OK, "{section}");
        // The terms page holds several forms; every label must point at exactly one element.
        let ids: Vec<&str> = page.split(" id=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
        let mut seen = std::collections::HashSet::new();
        let doubled: Vec<&&str> = ids.iter().filter(|id| !seen.insert(**id)).collect();
        assert!(doubled.is_empty(), "ids used twice on the contract page {section:?}: {doubled:?}");
    }
    let (_, summary) = app.get_html(&format!("/contracten/{id}")).await;
    assert!(summary.contains("20,5% "), "ceiling use of 100.000,00");
    let (_, page) = app.get_html(&format!("/contracten/{id}/betalingen")).await;
    // K-1: 4.000 (2022), 3.000 (2023), 3.000 (2024); K-2: 4.200 (2023), 3.150 (2024), 3.150 (2024). Nothing is
    // invoiced and Wi2021 has no stream yet, so every year is overdue and without a stream.
    let year_row = |year: &str, amount: &str| {
        format!(
            "<th scope=\"row\">{year}</th><td>Zonder financieringsbron</td><td>B1</td><td class=\"num\">€ {amount}</td>\
             <td class=\"num\">€ 0,00</td><td class=\"num\">€ {amount}</td><td class=\"num\">€ 0,00</td>"
        )
    };
    assert!(page.contains(&year_row("2022", "4.000,00")), "{page}");
    assert!(page.contains(&year_row("2023", "7.200,00")));
    assert!(page.contains(&year_row("2024", "9.300,00")));
    assert!(page.contains("<strong>€ 20.500,00</strong>"));

    // Dropping out stops the milestones not yet due.
    let p = store::placements::list(&app.db, Some(id)).await.unwrap();
    let k2 = p.iter().find(|p| p.client_number.as_str() == "K-2").unwrap();
    let mut fields = placement(&cid, "K-2", "2023-01-01");
    fields[6] = ("status", "dropped_out");
    fields.push(("status_date", "2023-06-30"));
    fields.push(("version", "1"));
    let r = app.post_form(&format!("/plaatsingen/{}", k2.id), &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&format!("/contracten/{id}/betalingen")).await;
    assert!(page.contains("<strong>€ 14.200,00</strong>"), "10.000 + 4.200");
    // A stale edit of the same placement is refused.
    let r = app.post_form(&format!("/plaatsingen/{}", k2.id), &fields).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Iemand anders heeft deze plaatsing intussen gewijzigd"));
}

#[tokio::test]
async fn a_contract_needs_a_provider_with_a_valid_mark_on_its_start_date() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let r = app.post_form("/aanbieders", &[("name", "Zonder Keurmerk"), ("kvk", "87654321")]).await;
    let provider = id_from(&location(&r), "/aanbieders/").to_string();
    let r = app.post_form("/contracten", &contract_fields(&provider, "UTR-9")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Deze aanbieder heeft op de startdatum (01-01-2022) geen geldig Blik op Werk-keurmerk"));
    assert!(store::contracts::list(&app.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_contract_input_is_refused_at_the_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await;
    let base = format!("/contracten/{id}");
    let before = store::contracts::get(&app.db, id).await.unwrap().unwrap();
    let cases: Vec<Case> = vec![
        (
            format!("{base}/betaalmomenten"),
            vec![
                ("route", "b1"),
                ("name_1", "Start"),
                ("share_1", "33,33"),
                ("due_1", "start"),
                ("name_2", "Eind"),
                ("share_2", "33,33"),
                ("due_2", "completion"),
            ],
            "De aandelen tellen op tot 66,66%; dat moet precies 100% zijn.",
        ),
        (
            format!("{base}/tarieven"),
            vec![("route", "b1"), ("valid_from", "2023-06-01"), ("amount", "11.000,00")],
            "Deze periode overlapt met het tarief van € 10.500,00 voor de B1-route (01-01-2023 tot en met onbepaald).",
        ),
        (
            format!("{base}/tarieven"),
            vec![("route", "b1"), ("valid_from", "2030-01-01"), ("amount", "1.000")],
            "dubbelzinnig bedrag",
        ),
        (
            format!("{base}/opties"),
            vec![("new_end_date", "2025-06-30"), ("notice_deadline", "2025-01-01")],
            "De nieuwe einddatum (30-06-2025) moet na de huidige einddatum inclusief opties (31-12-2025) liggen.",
        ),
        (format!("{base}/documenten"), vec![("title", ""), ("location", "Zaak 2022-0815")], "Titel is verplicht."),
        (
            format!("{base}/voortgangsafspraken"),
            vec![("attendance_norm", "80"), ("catch_up_rate", "-5,00"), ("hourly_rate", "")],
            "Een tarief kan niet negatief zijn.",
        ),
    ];
    for (path, fields, message) in cases {
        let r = app.post_form(&path, &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path} {fields:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{path}: expected {message:?}");
        // Every form lives on the terms section and comes back there, as typed.
        assert!(
            page.contains(&format!(
                "<a href=\"{base}/voorwaarden\" aria-current=\"page\">Voorwaarden en afspraken</a>"
            )),
            "{path}"
        );
        for (_, value) in fields.iter().filter(|(k, v)| !v.is_empty() && !k.starts_with("due_") && *k != "route") {
            assert!(page.contains(&format!("value=\"{value}\"")), "{path}: {value} kept");
        }
    }
    assert_eq!(store::contracts::get(&app.db, id).await.unwrap().unwrap(), before);
    assert!(store::contracts::get(&app.db, id).await.unwrap().unwrap().documents.is_empty());
    // Saved, each form leads back to its own part of the terms section.
    for (path, fields, to) in [
        ("documenten", vec![("title", "Raamovereenkomst"), ("location", "Zaak 2022-0815")], "documenten"),
        (
            "voortgangsafspraken",
            vec![("attendance_norm", "80"), ("catch_up_rate", "45,00"), ("hourly_rate", "")],
            "voortgang",
        ),
    ] {
        let r = app.post_form(&format!("{base}/{path}"), &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), format!("{base}/voorwaarden?melding=opgeslagen#{to}"));
    }
}

/// The contract page was 12,458 px tall on the demo: its parts are now sections reached by links (no script),
/// the summary keeps the facts and the ceiling, each section holds only its own part.
#[tokio::test]
async fn the_contract_page_is_split_into_sections_reached_by_links() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await;
    let r = app.post_form("/plaatsingen", &placement(&id.to_string(), "K-1", "2023-01-01")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let base = format!("/contracten/{id}");
    let sections = [
        ("", "Overzicht"),
        ("/betalingen", "Betalingen per jaar"),
        ("/voorwaarden", "Voorwaarden en afspraken"),
        ("/plaatsingen", "Plaatsingen"),
    ];
    // What only one section shows: the ceiling figures, the year table, the tariffs, the placement rows.
    let own = [
        "<h2 id=\"plafond\">",
        "<table id=\"jaren\">",
        "<h2 id=\"tarieven\">",
        ">Plaatsingen op dit contract (1)</caption>",
    ];
    for (i, (path, label)) in sections.iter().enumerate() {
        let (status, page) = app.get_html(&format!("{base}{path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(page.contains("<h1>UTR-1: B1-route perceel 1</h1>"), "{path}");
        for (other, other_label) in sections {
            let current = if other == *path { " aria-current=\"page\"" } else { "" };
            assert!(
                page.contains(&format!("<li><a href=\"{base}{other}\"{current}>{other_label}</a></li>")),
                "{path}: {label}"
            );
        }
        for (j, marker) in own.iter().enumerate() {
            assert_eq!(page.contains(marker), i == j, "{path}: {marker}");
        }
    }
    let (_, summary) = app.get_html(&base).await;
    assert!(summary.contains(&format!("<dt>Plaatsingen</dt><dd><a href=\"{base}/plaatsingen\">1</a></dd>")));
}

#[tokio::test]
async fn bad_placements_are_refused_with_a_reason() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await.to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            placement(&id, "111222333", "2023-01-01"),
            "Dit lijkt een BSN of bevat er een (9 cijfers die de elfproef doorstaan",
        ),
        (
            placement(&id, "K-1", "2021-12-31"),
            "De startdatum valt buiten de contractperiode (01-01-2022 tot en met 31-12-2025, opties inbegrepen).",
        ),
        (placement(&id, "K-1", "2026-01-01"), "De startdatum valt buiten de contractperiode"),
        (
            placement(&id, "K-1", "2025-01-01")
                .into_iter()
                .map(|(k, v)| if k == "route" { (k, "z") } else { (k, v) })
                .collect(),
            "Dit contract heeft geen tarief voor de Z-route op 01-01-2025.",
        ),
        (
            placement(&id, "K-1", "2025-01-01")
                .into_iter()
                .map(|(k, v)| if k == "route" { (k, "education") } else { (k, v) })
                .collect(),
            "Dit contract dekt de Onderwijsroute niet.",
        ),
    ];
    for (fields, message) in cases {
        let r = app.post_form("/plaatsingen", &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(r.text().await.unwrap().contains(message), "expected {message:?}");
    }
    assert!(store::placements::list(&app.db, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn placing_at_a_provider_without_a_valid_mark_on_the_start_date_is_refused() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await;
    let provider = store::contracts::get(&app.db, id).await.unwrap().unwrap().provider_id;
    let r = app
        .post_form(
            &format!("/aanbieders/{provider}/keurmerken"),
            &[
                ("status", "suspended"),
                ("decision_date", "2023-02-20"),
                ("valid_from", "2023-03-01"),
                ("suspended_from", "2023-03-01"),
                ("suspended_until", "2023-05-31"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form("/plaatsingen", &placement(&id.to_string(), "K-7", "2023-04-01")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("De aanbieder van dit contract heeft op 01-04-2023 geen geldig Blik op Werk-keurmerk"));
    let r = app.post_form("/plaatsingen", &placement(&id.to_string(), "K-7", "2023-06-01")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_exercised_option_extends_the_contract_and_a_low_ceiling_is_flagged_not_refused() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await;
    let r = app
        .post_form(
            &format!("/contracten/{id}/opties"),
            &[("new_end_date", "2027-12-31"), ("notice_deadline", "2025-06-30")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let option = store::contracts::get(&app.db, id).await.unwrap().unwrap().terms.period.options[0].id;
    let r = app
        .post_form(
            &format!("/contracten/{id}/opties/{option}"),
            &[("status", "exercised"), ("decision_reference", "B&W 2025/12")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = store::contracts::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(taalbudget::domain::dates::iso(c.terms.period.current_end()), "2027-12-31");
    // A placement on the last day of the exercised option period is allowed.
    let cid = id.to_string();
    let mut fields = placement(&cid, "K-9", "2027-12-31");
    fields[5] = ("planned_end", "2029-12-31");
    let r = app.post_form("/plaatsingen", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());

    // Lowering the ceiling below what is committed is allowed, and flagged.
    let provider = c.provider_id.to_string();
    let version = c.version.to_string();
    let mut edit = contract_fields(&provider, "UTR-1");
    edit[8] = ("ceiling", "5.000,00");
    edit.push(("version", &version));
    let r = app.post_form(&format!("/contracten/{id}"), &edit).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&format!("/contracten/{id}")).await;
    // 10.500,00 expected against 5.000,00; the placement starting in 2027 counts from today.
    assert!(page.contains("Het plafond is bereikt sinds "), "{page}");
    assert!(page.contains(" en nu met € 5.500,00 overschreden: plaats geen nieuwe cursisten zonder besluit."));
    let (_, home) = app.get_html("/").await;
    assert!(home.contains("UTR-1"));
}

#[tokio::test]
async fn a_policy_adviser_sees_contracts_but_no_participant_rows() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let id = priced_contract(&app).await;
    app.post_form("/plaatsingen", &placement(&id.to_string(), "K-12345", "2023-01-01")).await;
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let (status, page) = adviser.get_html(&format!("/contracten/{id}/plaatsingen")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 plaatsing (gegevens per deelnemer zijn niet zichtbaar voor uw rol)."));
    assert!(!page.contains("K-12345"));
    assert_eq!(adviser.get("/plaatsingen").await.status(), StatusCode::FORBIDDEN);
}

/// The route checkboxes arrive as a repeated `routes` field: every ticked route is kept when the contract is
/// created, ticked again when a refused form comes back, and replaced as a whole when it is edited.
#[tokio::test]
async fn every_ticked_route_is_kept_on_create_refusal_and_edit() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let provider = certified_provider(&app, "Taal BV", "12345678").await.to_string();
    let r = app.post_form("/contracten", &contract_fields(&provider, "UTR-1")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = id_from(&location(&r), "/contracten/");
    let c = store::contracts::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(c.terms.routes, [Route::B1, Route::Z]);

    // A refused edit (no title) shows both boxes ticked and the third one not.
    let version = c.version.to_string();
    let mut edit = contract_fields(&provider, "UTR-1");
    edit[1] = ("title", "");
    edit.extend([("routes", "knm"), ("version", &version)]);
    let r = app.post_form(&format!("/contracten/{id}"), &edit).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    for (code, ticked) in [("b1", true), ("z", true), ("knm", true), ("education", false)] {
        let checkbox = format!("id=\"route-{code}\" name=\"routes\" value=\"{code}\"");
        assert!(page.contains(&format!("{checkbox} checked")) == ticked, "{code}: {page}");
        assert!(page.contains(&checkbox), "{code}");
    }

    // Saved with only Z and KNM ticked: B1 is gone.
    let edit = vec![
        ("reference", "UTR-1"),
        ("title", "Z-route en KNM"),
        ("provider_id", &provider),
        ("routes", "z"),
        ("routes", "knm"),
        ("start_date", "2022-01-01"),
        ("initial_end_date", "2025-12-31"),
        ("ceiling", "100.000,00"),
        ("version", &version),
    ];
    assert_eq!(app.post_form(&format!("/contracten/{id}"), &edit).await.status(), StatusCode::SEE_OTHER);
    let c = store::contracts::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(c.terms.routes, [Route::Z, Route::Knm]);

    // A version that is no number is a form that cannot be read: a Dutch 422, nothing saved.
    let mut bad = edit.clone();
    bad[8] = ("version", "twee");
    let r = app.post_form(&format!("/contracten/{id}"), &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Het formulier kon niet worden gelezen."));
    assert_eq!(store::contracts::get(&app.db, id).await.unwrap().unwrap(), c);
}
