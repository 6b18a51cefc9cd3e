//! Funding streams, allocations, budget lines, cohort defaults and year close over HTTP.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::dates;
use taalbudget::domain::route::Cohort;
use taalbudget::store;

use crate::helpers::{location, spawn_app, TestApp};

async fn spuk(app: &TestApp) -> i64 {
    let r = app
        .post_form(
            "/financiering",
            &[
                ("code", "spuk"),
                ("name", "SPUK inburgering"),
                ("kind", "specific_grant"),
                ("cohorts", "wi2021"),
                ("spend_from", "2022-01-01"),
                ("spend_until", "2024-12-31"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    location(&r).trim_start_matches("/financiering/").split('?').next().unwrap().parse().unwrap()
}

async fn allocate(app: &TestApp, id: i64, year: &str, kind: &str, amount: &str) -> reqwest::Response {
    app.post_form(
        &format!("/financiering/{id}/toekenningen"),
        &[
            ("year", year),
            ("kind", kind),
            ("amount", amount),
            ("reference", "Beschikking"),
            ("decided_on", "2022-01-15"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_final_settlement_replaces_the_advances_and_the_reclaim_is_shown() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let id = spuk(&app).await;
    for _ in 0..12 {
        assert_eq!(allocate(&app, id, "2022", "advance", "200.000,00").await.status(), StatusCode::SEE_OTHER);
    }
    let (_, page) = app.get_html("/financiering?jaar=2022").await;
    assert!(page.contains("€ 2.400.000,00"), "twelve advances");
    allocate(&app, id, "2022", "final_settlement", "2.187.512,50").await;
    let (_, page) = app.get_html("/financiering?jaar=2022").await;
    assert!(page.contains("€ 2.187.512,50") && page.contains("terugvordering € 212.487,50"), "{page}");
    let (_, page) = app.get_html(&format!("/financiering/{id}")).await;
    assert!(page.contains("<th scope=\"row\">2022</th><td class=\"num\">€ 2.187.512,50</td><td class=\"num\">terugvordering € 212.487,50</td>"));
}

#[tokio::test]
async fn bad_funding_input_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let id = spuk(&app).await;
    let r = allocate(&app, id, "2025", "advance", "100,00").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("2025 valt buiten de bestedingsperiode van SPUK (01-01-2022 tot en met 31-12-2024)."));
    let r = allocate(&app, id, "2022", "advance", "-100,00").await;
    assert!(r.text().await.unwrap().contains("Alleen een correctie kan negatief zijn."));
    let r = app
        .post_form(
            &format!("/financiering/{id}/begrotingsposten"),
            &[("category", "B1"), ("year", "2022"), ("amount", "-5,00")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Een begrotingspost kan niet negatief zijn."));
    let r = app
        .post_form(
            "/financiering",
            &[("code", "SPUK"), ("name", "Dubbel"), ("kind", "other"), ("spend_from", "2022-01-01")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("De code SPUK is al in gebruik."));
    assert!(store::funding::allocations(&app.db, None).await.unwrap().is_empty());
    assert!(store::funding::budget_lines(&app.db, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn budget_lines_above_what_is_available_show_a_warning() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let id = spuk(&app).await;
    allocate(&app, id, "2023", "advance", "1.000,00").await;
    app.post_form(
        &format!("/financiering/{id}/begrotingsposten"),
        &[("category", "B1"), ("year", "2023"), ("amount", "800,00")],
    )
    .await;
    app.post_form(
        &format!("/financiering/{id}/begrotingsposten"),
        &[("category", "Z"), ("year", "2023"), ("amount", "300,01")],
    )
    .await;
    let (_, page) = app.get_html(&format!("/financiering/{id}")).await;
    assert!(
        page.contains("Let op: de begrotingsposten van 2023 zijn € 100,01 hoger dan wat beschikbaar is."),
        "{page}"
    );
}

#[tokio::test]
async fn a_closed_year_refuses_changes_until_an_admin_reopens_it() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let id = spuk(&app).await;
    assert_eq!(
        app.post_form("/financiering/jaren/2022/afsluiten", &[("bevestigd", "ja")]).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = allocate(&app, id, "2022", "correction", "10,00").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Jaar 2022 is afgesloten; een beheerder kan het heropenen."));
    assert_eq!(app.post_form("/financiering/jaren/2022/heropenen", &[]).await.status(), StatusCode::FORBIDDEN);
    let admin = app.other_browser();
    admin.login_as(Role::Admin).await;
    assert_eq!(admin.post_form("/financiering/jaren/2022/heropenen", &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(allocate(&app, id, "2022", "correction", "10,00").await.status(), StatusCode::SEE_OTHER);
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE entity = 'year' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(actions, ["close", "reopen"]);
}

#[tokio::test]
async fn only_a_year_that_is_over_can_be_closed_and_only_after_confirmation() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let now = taalbudget::domain::dates::today().year();
    let last = now - 1;
    let not_over = |y: &str| {
        format!(
            "Jaar {y} is nog niet voorbij. Een jaar kan pas worden afgesloten na 31 december van dat jaar; \
             het laatste jaar dat nu kan worden afgesloten is {last}."
        )
    };
    let cases = [
        (now.to_string(), not_over(&now.to_string())),
        ((now + 1).to_string(), not_over(&(now + 1).to_string())),
        ("2099".to_string(), not_over("2099")),
        ("2147483647".to_string(), not_over("2147483647")),
        ("2147483648".to_string(), not_over("2147483648")),
        (
            "99999999999999999999".to_string(),
            format!("‘99999999999999999999’ is geen jaartal; kies een jaar zoals {last}."),
        ),
        ("twintig".to_string(), format!("‘twintig’ is geen jaartal; kies een jaar zoals {last}.")),
        ("1999".to_string(), "Jaar 1999 ligt vóór 2000; taalbudget houdt jaren vanaf 2000 bij.".to_string()),
    ];
    for (year, message) in &cases {
        for fields in [&[][..], &[("bevestigd", "ja")][..]] {
            let r = app.post_form(&format!("/financiering/jaren/{year}/afsluiten"), fields).await;
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{year}");
            let page = r.text().await.unwrap();
            assert!(page.contains(message.as_str()), "{year}: {page}");
        }
    }
    assert!(store::funding::closed_years(&app.db).await.unwrap().is_empty());
    assert_eq!(app.audit_count("year").await, 0);

    // The current year's page explains when it can be closed and offers no button.
    let (_, page) = app.get_html(&format!("/financiering?jaar={now}")).await;
    assert!(page.contains(&format!("Afsluiten kan na 31 december {now}.")), "{page}");
    assert!(!page.contains(&format!("/financiering/jaren/{now}/afsluiten")));
    let (_, page) = app.get_html(&format!("/financiering?jaar={last}")).await;
    assert!(page.contains(&format!("action=\"/financiering/jaren/{last}/afsluiten\"")), "{page}");

    // Last year: first the page that says what closing means, nothing closed yet ...
    let r = app.post_form(&format!("/financiering/jaren/{last}/afsluiten"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("Jaar {last} afsluiten?")), "{page}");
    assert!(page.contains("alleen een beheerder kan het jaar heropenen."));
    assert!(page.contains(r#"name="bevestigd" value="ja""#));
    assert!(store::funding::closed_years(&app.db).await.unwrap().is_empty());
    // ... then, confirmed, it is closed.
    let r = app.post_form(&format!("/financiering/jaren/{last}/afsluiten"), &[("bevestigd", "ja")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let closed: Vec<i32> =
        store::funding::closed_years(&app.db).await.unwrap().into_iter().map(|(y, _, _)| y).collect();
    assert_eq!(closed, [last]);
}

#[tokio::test]
async fn the_demo_reconciles_commitments_through_each_cohorts_stream() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    // Without invoices, every expected euro of a funded cohort is committed to its stream.
    let contracts = store::contracts::list(&app.db).await.unwrap();
    let placements = store::placements::list(&app.db, None).await.unwrap();
    let cohort_streams = store::funding::cohort_streams(&app.db).await.unwrap();
    let payments = taalbudget::report::commitments::payments_of(&contracts, &placements, &cohort_streams);
    let total_expected: i64 = payments.iter().filter(|p| p.stream.is_some()).map(|p| p.amount.cents()).sum();
    let outside: i64 = payments
        .iter()
        .filter(|p| p.stream.is_some() && !(2022..=2026).contains(&p.due.year()))
        .map(|p| p.amount.cents())
        .sum();
    let all = taalbudget::domain::commitment::commitments(payments.into(), &Default::default(), dates::today());
    let rows =
        taalbudget::report::reconciliation::build(&app.db, 2022..=2026, &Default::default(), &all).await.unwrap();
    let total_committed: i64 = rows.iter().flat_map(|r| &r.years).map(|y| y.committed.cents()).sum();
    assert_eq!(total_committed, total_expected - outside, "every expected euro is committed to exactly one stream");
    for r in &rows {
        for y in &r.years {
            assert_eq!(y.remaining, y.available - y.actual - y.committed);
        }
    }
    let spuk = rows.iter().find(|r| r.stream.code == "SPUK").unwrap();
    assert_eq!(spuk.years[0].available.cents(), 218_751_250);
    assert_eq!(spuk.years[0].settlement_difference.unwrap().cents(), -21_248_750);
}

/// The cohort checkboxes arrive as a repeated `cohorts` field: both ticked cohorts are stored, and the
/// edit form ticks both again.
#[tokio::test]
async fn a_stream_keeps_every_ticked_cohort() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let fields = [
        ("code", "brede"),
        ("name", "Brede uitkering"),
        ("kind", "specific_grant"),
        ("cohorts", "wi2013"),
        ("cohorts", "wi2021"),
        ("spend_from", "2022-01-01"),
        ("carry_over", "on"),
    ];
    let r = app.post_form("/financiering", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let id: i64 = location(&r).trim_start_matches("/financiering/").split('?').next().unwrap().parse().unwrap();
    let (stream, _) = store::funding::stream(&app.db, id).await.unwrap().unwrap();
    assert_eq!(stream.cohorts, [Cohort::Wi2013, Cohort::Wi2021]);
    assert!(stream.carry_over);
    let (_, page) = app.get_html(&format!("/financiering/{id}/bewerken")).await;
    for (code, ticked) in [("wi2013", true), ("wi2021", true), ("other", false)] {
        let checkbox = format!("id=\"cohort-{code}\" name=\"cohorts\" value=\"{code}\"");
        assert!(page.contains(&checkbox), "{code}: {page}");
        assert_eq!(page.contains(&format!("{checkbox} checked")), ticked, "{code}");
    }
}

/// A new stream carries over as is usual for its kind unless the form says otherwise: municipality-fund money does,
/// a SPUK does not; the new form says so (also with the kind chosen in advance), with a worked example.
#[tokio::test]
async fn a_new_stream_carries_over_as_is_usual_for_its_kind_unless_the_form_says_otherwise() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let (_, form) = app.get_html("/financiering/nieuw").await;
    assert!(
        form.contains(
            "<input type=\"radio\" id=\"carry_over-soort\" name=\"carry_over\" value=\"soort\" checked><label \
             for=\"carry_over-soort\">Zoals gebruikelijk bij de soort bron</label>"
        ),
        "{form}"
    );
    assert!(form.contains(
        "Bijvoorbeeld: elk jaar € 100.000,00 toegekend en in het eerste jaar € 80.000,00 besteed. Met meenemen is \
         ‘beschikbaar’ in het tweede jaar € 100.000,00 + € 20.000,00 = € 120.000,00; zonder meenemen € 100.000,00."
    ));
    assert!(form
        .contains("<strong>Gemeentefonds (decentralisatie-uitkering)</strong>: ja: het geld is van de gemeente zelf"));
    let (_, form) = app.get_html("/financiering/nieuw?soort=municipality_fund").await;
    assert!(form.contains("<option value=\"municipality_fund\" selected>"), "{form}");
    assert!(form.contains("Zoals gebruikelijk bij de soort bron (bij Gemeentefonds (decentralisatie-uitkering): ja)"));

    let create = |code: &'static str, kind: &'static str, choice: Option<&'static str>| {
        let app = &app;
        async move {
            let mut fields = vec![("code", code), ("name", code), ("kind", kind), ("spend_from", "2022-01-01")];
            fields.extend(choice.map(|c| ("carry_over", c)));
            let r = app.post_form("/financiering", &fields).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
            let id = location(&r).trim_start_matches("/financiering/").split('?').next().unwrap().parse().unwrap();
            store::funding::stream(&app.db, id).await.unwrap().unwrap().0.carry_over
        }
    };
    assert!(create("ENO", "municipality_fund", None).await, "no choice: the kind's default");
    assert!(create("ELIP", "municipality_fund", Some("soort")).await);
    assert!(!create("SPUK", "specific_grant", Some("soort")).await);
    assert!(!create("EIGEN", "own_funds", None).await);
    assert!(!create("DU", "municipality_fund", Some("nee")).await, "the user's own choice wins");
    assert!(create("SUB", "other", Some("ja")).await);
    let r = app
        .post_form(
            "/financiering",
            &[
                ("code", "X"),
                ("name", "X"),
                ("kind", "other"),
                ("spend_from", "2022-01-01"),
                ("carry_over", "wellicht"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Kies ja, nee of ‘zoals gebruikelijk bij de soort bron’."));
}

/// An existing stream keeps its stored choice: its form shows it, and an update that does not mention it keeps it.
/// The form explains carrying over with the stream's own figures, worked out by hand:
/// ENO (no carry-over), 10.000,00 granted for 2024 and 12.000,00 for 2025; 2.500,00 spent in 2024, 12.000,00 in
/// 2025. Left: 7.500,00 at the end of 2024, nothing at the end of 2025, so the example is 2024: 2025's ‘available’
/// would be 12.000,00 + 7.500,00 = 19.500,00 with carrying over, and is 12.000,00 without.
#[tokio::test]
async fn an_existing_stream_keeps_its_choice_and_its_form_explains_it_with_its_own_figures() {
    use crate::figures::{grant, rule};
    use crate::helpers::{import_ledger, ledger_line};
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let fields = [
        ("code", "ENO"),
        ("name", "En ondertussen"),
        ("kind", "municipality_fund"),
        ("spend_from", "2022-01-01"),
        ("spend_until", "2025-12-31"),
        ("carry_over", "nee"),
    ];
    let r = app.post_form("/financiering", &fields).await;
    let id: i64 = location(&r).trim_start_matches("/financiering/").split('?').next().unwrap().parse().unwrap();
    grant(&app, id, "2024", "10.000,00").await;
    grant(&app, id, "2025", "12.000,00").await;
    import_ledger(
        &app,
        &[
            ledger_line("2024-06-30", "KP-INB", "4001", "ENO 2024", 250_000),
            ledger_line("2025-03-31", "KP-INB", "4001", "ENO 2025", 1_200_000),
        ],
    )
    .await;
    rule(&app, "4001", id, "").await;

    let (_, form) = app.get_html(&format!("/financiering/{id}/bewerken")).await;
    assert!(form.contains("name=\"carry_over\" value=\"nee\" checked>"), "{form}");
    assert!(!form.contains("value=\"soort\" checked"));
    assert!(
        form.contains(
            "Met de cijfers van deze bron: eind 2024 is € 7.500,00 over. Met meenemen is ‘beschikbaar’ in 2025 \
             € 12.000,00 toegekend + € 7.500,00 = € 19.500,00; zonder meenemen € 12.000,00."
        ),
        "{form}"
    );
    // Saved without the choice (an old form or a script): the stored "no" stays, although the kind's default is yes.
    let version = store::funding::stream(&app.db, id).await.unwrap().unwrap().1.to_string();
    let mut update: Vec<(&str, &str)> = fields.iter().filter(|(k, _)| *k != "carry_over").copied().collect();
    update.push(("version", &version));
    let r = app.post_form(&format!("/financiering/{id}"), &update).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert!(!store::funding::stream(&app.db, id).await.unwrap().unwrap().0.carry_over);
    // Choosing yes shows at once in 2025's available.
    let version = store::funding::stream(&app.db, id).await.unwrap().unwrap().1.to_string();
    update.retain(|(k, _)| *k != "version");
    update.extend([("version", version.as_str()), ("carry_over", "ja")]);
    let r = app.post_form(&format!("/financiering/{id}"), &update).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (_, page) = app.get_html("/financiering?jaar=2025").await;
    assert!(
        page.contains(
            "<td class=\"num\">€ 12.000,00</td><td class=\"num\">€ 7.500,00</td><td class=\"num\">€ 19.500,00</td>"
        ),
        "{page}"
    );
}
