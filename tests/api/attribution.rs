//! Attribution of imported spend to funding streams, the unattributed queue, year close, and the
//! reconciliation adding up to the cent.

// Amounts are written as euros_cents (1_234_56 is € 1.234,56) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::report::reconciliation;
use taalbudget::store;

use crate::helpers::{import_ledger, ledger_line, location, other_stream, spawn_app, TestApp};

async fn stream(app: &TestApp, code: &str) -> i64 {
    other_stream(app, code, "2024-12-31").await
}

fn ledger() -> Vec<taalbudget::import::ledger::LedgerLine> {
    vec![
        ledger_line("2023-01-15", "KP-INB", "2001", "B1-route januari", 1_234_56),
        ledger_line("2023-02-15", "KP-INB", "2001", "ELIP maatwerk februari", 500_00),
        ledger_line("2023-03-15", "KP-INB", "2002", "B1-route maart", 99_99),
        ledger_line("2023-04-01", "KP-OVERIG", "3003", "Catering", 45_10),
        ledger_line("2023-05-01", "KP-INB", "2001", "Creditnota B1", -100_00),
    ]
}

#[tokio::test]
async fn rules_attribute_spend_first_match_first_and_everything_adds_up_to_the_cent() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let spuk = stream(&app, "SPUK").await;
    let elip = stream(&app, "ELIP").await;
    let outcome = import_ledger(&app, &ledger()).await;
    assert_eq!(outcome.summary.rows_imported, 5);

    // Preview first: the ELIP rule would take one line of 500,00; nothing is saved yet.
    let elip_id = elip.to_string();
    let spuk_id = spuk.to_string();
    let preview = [
        ("name", "ELIP maatwerk"),
        ("description_contains", "elip"),
        ("stream_id", elip_id.as_str()),
        ("actie", "voorvertoning"),
    ];
    let r = app.post_form("/toerekening/regels", &preview).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("op plaats 1 zou deze regel <strong>1 regel</strong> nemen, samen <strong>€ 500,00</strong>"));
    assert!(store::attribution::rules(&app.db).await.unwrap().is_empty());

    for (name, key, value, stream) in [
        ("ELIP maatwerk", "description_contains", "elip", &elip_id),
        ("Inburgering", "cost_centre", "KP-INB", &spuk_id),
    ] {
        let r = app
            .post_form(
                "/toerekening/regels",
                &[("name", name), (key, value), ("stream_id", stream), ("actie", "opslaan")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let sums = store::attribution::sums(&app.db).await.unwrap();
    assert_eq!(sums.imported[&2023].cents(), 1_234_56 + 500_00 + 99_99 + 45_10 - 100_00);
    assert_eq!(sums.actual_by_stream[&(elip, 2023)].cents(), 500_00);
    assert_eq!(sums.actual_by_stream[&(spuk, 2023)].cents(), 1_234_56 + 99_99 - 100_00);
    assert_eq!(sums.unattributed[&2023].cents(), 45_10);

    let (_, rules) = app.get_html("/toerekening").await;
    assert!(rules.contains("<td class=\"num\">1</td><td class=\"num\">€ 500,00</td>"), "ELIP rule effect");
    assert!(
        rules.contains("<td class=\"num\">3</td><td class=\"num\">€ 1.234,55</td>"),
        "cost-centre rule takes the rest"
    );

    // The queue holds the catering line; assigning it needs a reason.
    let (_, queue) = app.get_html("/toerekening/wachtrij").await;
    assert!(queue.contains("Catering") && queue.contains("Samen <strong>€ 45,10</strong>"));
    let line_id: i64 = sqlx::query_scalar("SELECT id FROM ledger_entry WHERE description = 'Catering'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let r =
        app.post_form(&format!("/grootboek/{line_id}/toerekenen"), &[("stream_id", &spuk_id), ("reason", " ")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Geef een reden op"));
    // The stream choice starts on "Kies een bron", and leaving it there is a Dutch error, not the first stream.
    assert!(
        queue.contains(&format!(
            "<select id=\"bron-{line_id}\" name=\"stream_id\"><option value=\"\" selected>Kies een bron</option>"
        )),
        "{queue}"
    );
    let r = app
        .post_form(&format!("/grootboek/{line_id}/toerekenen"), &[("stream_id", ""), ("reason", "Lunch bij intakedag")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Kies een financieringsbron."));
    let r = app
        .post_form(
            &format!("/grootboek/{line_id}/toerekenen"),
            &[("stream_id", &spuk_id), ("reason", "Lunch bij intakedag, afspraak met controller")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // A preview puts the new rule after the existing ones and leaves manual lines alone: the catering line is
    // assigned by hand and every KP-INB line is taken by an earlier rule, so this rule would take nothing.
    for (key, value) in [("cost_centre", "KP-OVERIG"), ("creditor_number", "2001")] {
        let preview = [("name", "Te laat"), (key, value), ("stream_id", elip_id.as_str()), ("actie", "voorvertoning")];
        let page = app.post_form("/toerekening/regels", &preview).await.text().await.unwrap();
        assert!(
            page.contains("op plaats 3 zou deze regel <strong>0 regels</strong> nemen, samen <strong>€ 0,00</strong>"),
            "{page}"
        );
    }
    assert_eq!(store::attribution::rules(&app.db).await.unwrap().len(), 2, "a preview saves nothing");

    let report = reconciliation::for_year(&app.db, 2023).await.unwrap();
    assert_eq!(report.unattributed.cents(), 0);
    assert_eq!(report.attributed_total() + report.unattributed, report.imported_total);
    let spuk_row = report.streams.iter().find(|s| s.code == "SPUK").unwrap();
    assert_eq!(spuk_row.actual.cents(), 1_234_56 + 99_99 - 100_00 + 45_10);
    assert_eq!(spuk_row.remaining, spuk_row.available - spuk_row.actual - spuk_row.committed);

    // Every line says why it is where it is.
    let (_, drill) = app.get_html(&format!("/aansluiting/regels?jaar=2023&bron={spuk}")).await;
    assert!(drill.contains("regel &#39;Inburgering&#39;") || drill.contains("regel 'Inburgering'"), "{drill}");
    assert!(drill.contains("handmatig door test-finance: Lunch bij intakedag, afspraak met controller"));
    // How many and their total come from the kept figures: the same as the stream's actual.
    assert!(drill.contains("4 regels, samen <strong>€ 1.279,65</strong>."), "{drill}");
    assert!(!drill.contains("Volgende pagina"), "one page");

    // A manual assignment survives re-applying the rules; deleting the ELIP rule moves its line to SPUK.
    // Deleting asks first, with what the rule attributes now.
    let elip_rule_id = store::attribution::rules(&app.db).await.unwrap()[0].id;
    let r = app.post_form(&format!("/toerekening/regels/{elip_rule_id}/verwijderen"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let confirm = r.text().await.unwrap();
    assert!(confirm.contains("Deze regel rekent nu 1 grootboekregel toe, samen € 500,00."), "{confirm}");
    assert_eq!(store::attribution::rules(&app.db).await.unwrap()[0].id, elip_rule_id, "not deleted yet");
    let r = app.post_form(&format!("/toerekening/regels/{elip_rule_id}/verwijderen"), &[("bevestigd", "ja")]).await;
    assert_eq!(location(&r), "/toerekening?melding=regel-verwijderd");
    let sums = store::attribution::sums(&app.db).await.unwrap();
    assert_eq!(sums.actual_by_stream[&(spuk, 2023)].cents(), 1_234_56 + 500_00 + 99_99 - 100_00 + 45_10);
    assert!(!sums.actual_by_stream.contains_key(&(elip, 2023)));
}

#[tokio::test]
async fn a_closed_year_refuses_imports_undos_and_assignments_and_its_figures_do_not_change() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let spuk = stream(&app, "SPUK").await;
    let first = import_ledger(&app, &ledger()).await;
    let batch = first.summary.batch.unwrap();
    app.post_form(
        "/toerekening/regels",
        &[("name", "Alles INB"), ("cost_centre", "KP-INB"), ("stream_id", &spuk.to_string()), ("actie", "opslaan")],
    )
    .await;
    let before = reconciliation::for_year(&app.db, 2023).await.unwrap();
    assert_eq!(
        app.post_form("/financiering/jaren/2023/afsluiten", &[("bevestigd", "ja")]).await.status(),
        StatusCode::SEE_OTHER
    );

    // Importing more 2023 spend is refused as a whole.
    let more = import_ledger(&app, &[ledger_line("2023-12-31", "KP-INB", "2001", "Nagekomen", 10_00)]).await;
    assert_eq!(more.summary.batch, None);
    assert!(more.summary.errors[0].message.contains("Het bestand bevat boekingen in 2023, en dat jaar is afgesloten."));
    // Undoing the batch is refused.
    let undo = store::imports::undo_batch(&app.db, batch, "test").await.unwrap_err();
    assert!(undo.to_string().contains("afgesloten jaar 2023"));
    // A manual assignment is refused; a new rule does not move 2023 lines.
    let line_id: i64 = sqlx::query_scalar("SELECT id FROM ledger_entry WHERE description = 'Catering'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let r = app
        .post_form(
            &format!("/grootboek/{line_id}/toerekenen"),
            &[("stream_id", &spuk.to_string()), ("reason", "te laat")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Jaar 2023 is afgesloten"));
    app.post_form(
        "/toerekening/regels",
        &[
            ("name", "Catering"),
            ("description_contains", "Catering"),
            ("stream_id", &spuk.to_string()),
            ("actie", "opslaan"),
        ],
    )
    .await;
    let after = reconciliation::for_year(&app.db, 2023).await.unwrap();
    assert_eq!(serde_json::to_value(&before.streams).unwrap(), serde_json::to_value(&after.streams).unwrap());
    assert_eq!((before.unattributed, before.imported_total), (after.unattributed, after.imported_total));
}

/// Rules are applied chunk by chunk (10,000 lines at a time): a batch of 25,001 lines is attributed whole when
/// it is imported, and removing the rule takes every line back into the queue; the kept aggregate follows.
#[tokio::test]
async fn rules_attribute_every_line_of_a_batch_larger_than_a_chunk_and_let_go_of_every_line() {
    use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
    let app = spawn_app().await;
    let spuk = stream(&app, "SPUK").await;
    let rule = store::attribution::NewRule {
        name: "Inburgering".into(),
        criteria: Criteria { cost_centre: Pattern::exact("KP-INB"), ..Default::default() },
        stream_id: spuk,
        budget_line_id: None,
        contract: ContractChoice::None,
    };
    let (rule_id, _) = store::attribution::add_rule(&app.db, &rule, "test").await.unwrap();
    // Every third line is booked elsewhere; line i costs i cents.
    let lines: Vec<_> = (0..25_001)
        .map(|i| {
            let centre = if i % 3 == 0 { "KP-OVERIG" } else { "KP-INB" };
            let mut l = ledger_line("2023-06-15", centre, "2001", &format!("Regel {i}"), i);
            l.document = format!("BS{i:06}");
            l
        })
        .collect();
    let out = import_ledger(&app, &lines).await;
    assert_eq!(out.summary.rows_imported, 25_001);
    let expected: i64 = (0..25_001).filter(|i| i % 3 != 0).sum();
    let attributed: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), SUM(e.amount_cents) FROM ledger_attribution a JOIN ledger_entry e ON e.id = a.ledger_entry_id
         WHERE a.stream_id = ? AND a.rule_id = ?",
    )
    .bind(spuk)
    .bind(rule_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(attributed, (16_667, expected));
    let kept: (i64, i64) =
        sqlx::query_as("SELECT SUM(lines), SUM(amount_cents) FROM spend_aggregate WHERE year = 2023 AND stream_id = ?")
            .bind(spuk)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(kept, (16_667, expected));

    let outcome = store::attribution::delete_rule(&app.db, rule_id, "test").await.unwrap();
    assert_eq!((outcome.examined, outcome.changed), (25_001, 16_667));
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_attribution").fetch_one(&app.db).await.unwrap();
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM spend_aggregate").fetch_one(&app.db).await.unwrap();
    assert_eq!((left, kept), (0, 0));
}

/// An import attributes its lines while it reads them (outside the write lock) and only stores that in its write
/// phase: what it stores is exactly what applying the rules gives, contracts found through the creditor included.
#[tokio::test]
async fn an_imports_attributions_are_exactly_what_applying_the_rules_gives() {
    use taalbudget::domain::attribution::{ContractChoice, Criteria, Pattern};
    use taalbudget::domain::contract::ContractDraft;
    use taalbudget::domain::route::Route;
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let provider = crate::helpers::certified_provider(&app, "Taalschool Oost", "23456789").await;
    let day = |s| taalbudget::domain::dates::parse_iso(s).unwrap();
    let draft = ContractDraft {
        reference: "K-2023".into(),
        title: "Taalonderwijs 2023".into(),
        provider_id: provider,
        lot: String::new(),
        routes: vec![Route::B1],
        start_date: day("2023-01-01"),
        initial_end_date: day("2023-06-30"),
        ceiling: taalbudget::money::Money::from_cents(100_000_00),
        notes: String::new(),
    };
    let contract = store::contracts::create(&app.db, &draft, "test").await.unwrap();
    store::attribution::link_creditor(&app.db, "2001", provider, "test").await.unwrap();
    let spuk = stream(&app, "SPUK").await;
    let elip = stream(&app, "ELIP").await;
    let mut rule_ids = Vec::new();
    for (name, criteria, stream_id, contract) in [
        ("ELIP", Criteria { description_contains: "elip".into(), ..Default::default() }, elip, ContractChoice::None),
        (
            "Inburgering",
            Criteria { cost_centre: Pattern::exact("KP-INB"), ..Default::default() },
            spuk,
            ContractChoice::ViaCreditor,
        ),
    ] {
        let rule =
            store::attribution::NewRule { name: name.into(), criteria, stream_id, budget_line_id: None, contract };
        rule_ids.push(store::attribution::add_rule(&app.db, &rule, "test").await.unwrap().0);
    }
    let mut lines = ledger();
    // After the contract's end: the creditor's provider has no contract that day.
    lines.push(ledger_line("2023-07-15", "KP-INB", "2001", "B1-route juli", 300_00));
    assert_eq!(import_ledger(&app, &lines).await.summary.rows_imported, 6);

    async fn attributions(app: &TestApp) -> Vec<(String, i64, Option<i64>, Option<i64>)> {
        sqlx::query_as(
            "SELECT e.description, a.stream_id, a.contract_id, a.rule_id FROM ledger_attribution a
             JOIN ledger_entry e ON e.id = a.ledger_entry_id ORDER BY e.id",
        )
        .fetch_all(&app.db)
        .await
        .unwrap()
    }
    let (elip_rule, inb_rule) = (Some(rule_ids[0]), Some(rule_ids[1]));
    let expected = vec![
        ("B1-route januari".to_string(), spuk, Some(contract), inb_rule),
        ("ELIP maatwerk februari".to_string(), elip, None, elip_rule),
        ("B1-route maart".to_string(), spuk, None, inb_rule),
        ("Creditnota B1".to_string(), spuk, Some(contract), inb_rule),
        ("B1-route juli".to_string(), spuk, None, inb_rule),
    ];
    assert_eq!(attributions(&app).await, expected);
    // Applying the rules to the whole ledger now changes nothing.
    let outcome = store::attribution::apply(&app.db, "test").await.unwrap();
    assert_eq!((outcome.examined, outcome.changed), (6, 0));
    assert_eq!(attributions(&app).await, expected);
}
