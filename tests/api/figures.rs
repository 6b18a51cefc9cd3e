//! Figures that agree on every screen: a small data set built by hand, and the same euros asserted on each screen
//! that shows them (contract page, contracts list, start page, invoice check, overview, reconciliation).

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::funding::{FundingStream, StreamKind};
use taalbudget::domain::route::Cohort;
use taalbudget::store;

use crate::helpers::{certified_provider, id_from, import_ledger, ledger_line, location, spawn_app, TestApp};

/// A stream spending from 2022 to 2026 for any cohort.
pub async fn stream(app: &TestApp, code: &str) -> i64 {
    stream_for(app, code, vec![], "2026-12-31").await
}

/// A stream for these cohorts (empty: any), spending from 2022 until `until`.
pub async fn stream_for(app: &TestApp, code: &str, cohorts: Vec<Cohort>, until: &str) -> i64 {
    let day = taalbudget::domain::dates::parse_iso;
    let s = FundingStream {
        id: 0,
        code: code.into(),
        name: format!("Bron {code}"),
        kind: StreamKind::Other,
        cohorts,
        spend_from: day("2022-01-01").unwrap(),
        spend_until: Some(day(until).unwrap()),
        carry_over: false,
        notes: String::new(),
    };
    store::funding::create_stream(&app.db, &s, "test").await.unwrap()
}

/// Contract `reference` at a certified provider for B1, 2022-2027, with one tariff of 10.000,00 from 2022 and
/// milestones 50% at the start and 50% at completion. Returns (provider id, contract id).
pub async fn contract(app: &TestApp, provider: &str, kvk: &str, reference: &str, ceiling: &str) -> (i64, i64) {
    contract_for(app, provider, kvk, reference, ceiling, &[("b1", "10.000,00")]).await
}

/// As [`contract`], for these routes with their tariffs (each with milestones 50% at the start, 50% at completion).
pub async fn contract_for(
    app: &TestApp,
    provider: &str,
    kvk: &str,
    reference: &str,
    ceiling: &str,
    routes: &[(&str, &str)],
) -> (i64, i64) {
    contract_until(app, (provider, kvk), reference, ceiling, routes, "2027-12-31").await
}

/// As [`contract_for`], running from 2022 until `end`.
pub async fn contract_until(
    app: &TestApp,
    (provider, kvk): (&str, &str),
    reference: &str,
    ceiling: &str,
    routes: &[(&str, &str)],
    end: &str,
) -> (i64, i64) {
    let provider = certified_provider(app, provider, kvk).await;
    let pid = provider.to_string();
    let mut fields = vec![
        ("reference", reference),
        ("title", "Taalroutes"),
        ("provider_id", &pid),
        ("lot", "1"),
        ("start_date", "2022-01-01"),
        ("initial_end_date", end),
        ("ceiling", ceiling),
    ];
    fields.extend(routes.iter().map(|(r, _)| ("routes", *r)));
    let r = app.post_form("/contracten", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let id = id_from(&location(&r), "/contracten/");
    for (route, tariff) in routes {
        let r = app
            .post_form(
                &format!("/contracten/{id}/tarieven"),
                &[("route", route), ("valid_from", "2022-01-01"), ("valid_until", ""), ("amount", tariff)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = app
            .post_form(
                &format!("/contracten/{id}/betaalmomenten"),
                &[
                    ("route", route),
                    ("name_1", "Start"),
                    ("share_1", "50"),
                    ("due_1", "start"),
                    ("name_2", "Afronding"),
                    ("share_2", "50"),
                    ("due_2", "completion"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    (provider, id)
}

/// Grants `amount` to a stream for a year (an advance).
pub async fn grant(app: &TestApp, stream: i64, year: &str, amount: &str) {
    let r = app
        .post_form(
            &format!("/financiering/{stream}/toekenningen"),
            &[
                ("year", year),
                ("kind", "advance"),
                ("amount", amount),
                ("reference", "B"),
                ("decided_on", "2022-01-03"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
}

/// A placement of `cohort` on the contract's B1-route.
pub async fn place(app: &TestApp, contract: i64, client: &str, cohort: &str, start: &str, end: &str) -> i64 {
    place_on(app, contract, "b1", client, cohort, start, end).await
}

/// A placement of `cohort` on `route`.
pub async fn place_on(
    app: &TestApp,
    contract: i64,
    route: &str,
    client: &str,
    cohort: &str,
    start: &str,
    end: &str,
) -> i64 {
    let cid = contract.to_string();
    let r = app
        .post_form(
            "/plaatsingen",
            &[
                ("client_number", client),
                ("cohort", cohort),
                ("contract_id", &cid),
                ("route", route),
                ("start_date", start),
                ("planned_end", end),
                ("status", "started"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    id_from(&location(&r), "/plaatsingen/")
}

/// Links a creditor to a provider and attributes its lines to `stream` and the provider's contract on the
/// booking date.
pub async fn attribute_creditor(app: &TestApp, creditor: &str, provider: i64, stream: i64) {
    let pid = provider.to_string();
    let r = app.post_form("/toerekening/crediteuren", &[("creditor_number", creditor), ("provider_id", &pid)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    rule(app, creditor, stream, "crediteur").await;
}

/// A rule: the creditor's lines go to `stream`, with `contract` ("crediteur", a contract id or "" for none).
pub async fn rule(app: &TestApp, creditor: &str, stream: i64, contract: &str) {
    rule_on(app, ("creditor_number", creditor), stream, contract).await
}

/// A rule on one criterion (field, value), e.g. ("description_contains", "ELIP").
pub async fn rule_on(app: &TestApp, (field, value): (&str, &str), stream: i64, contract: &str) {
    let sid = stream.to_string();
    let r = app
        .post_form(
            "/toerekening/regels",
            &[
                ("name", &format!("Regel {value}")),
                (field, value),
                ("stream_id", &sid),
                ("contract", contract),
                ("actie", "opslaan"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
}

/// An overview cell as (available, actual, committed, forecast, remaining) in cents.
pub type Cell = (Option<i64>, i64, i64, i64, Option<i64>);

/// A signal as (code, count, total cents, ids, cents per id).
pub type FlagFigures = (&'static str, usize, i64, Vec<i64>, Vec<i64>);

pub fn json_cents(v: &serde_json::Value) -> i64 {
    taalbudget::money::Money::parse_with(v.as_str().unwrap(), taalbudget::money::AmountStyle::Plain).unwrap().cents()
}

/// One contract, ceiling 19.000,00; placements K-1 (01-03-2023 to 29-02-2024) and K-2 (01-06-2023 to 31-05-2024),
/// each 5.000,00 at the start and 5.000,00 at completion; invoices of 5.000,00 (31-03-2023) and 7.500,00
/// (30-06-2023), so 2.500,00 more than expected in 2023 and nothing of the 10.000,00 due in 2024.
///
/// - actual (invoiced) = 5.000 + 7.500 = 12.500,00
/// - open commitment = 2023: 10.000 expected - 12.500 invoiced -> 0 (never negative); 2024: 10.000 - 0 = 10.000,00
/// - ceiling use = 12.500 + 10.000 = 22.500,00 of 19.000,00 = 118,42...% -> 118,4%, 3.500,00 over
/// - reached on 01-06-2023: K-1 counts 10.000,00 from 01-03-2023 (its 5.000,00 invoice on 31-03 changes nothing,
///   the larger of expected and invoiced counts); K-2's start adds 10.000,00: 20.000,00 >= 19.000,00.
#[tokio::test]
async fn contract_spend_and_ceiling_use_are_the_same_on_every_screen() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let (provider, id) = contract(&app, "Taal BV", "12345678", "UTR-1", "19.000,00").await;
    let spuk = stream(&app, "SPUK").await;
    store::funding::set_cohort_stream(&app.db, Cohort::Wi2021, spuk, "test").await.unwrap();
    place(&app, id, "K-1", "wi2021", "2023-03-01", "2024-02-29").await;
    place(&app, id, "K-2", "wi2021", "2023-06-01", "2024-05-31").await;
    import_ledger(
        &app,
        &[
            ledger_line("2023-03-31", "KP-INB", "2001", "Taal BV start K-1", 500_000),
            ledger_line("2023-06-30", "KP-INB", "2001", "Taal BV start K-2 en meer", 750_000),
        ],
    )
    .await;
    attribute_creditor(&app, "2001", provider, spuk).await;

    let (status, page) = app.get_html(&format!("/contracten/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<dt>Verwachte betalingen (alle plaatsingen)</dt><dd>€ 20.000,00</dd>"), "{page}");
    assert!(page.contains(&format!(
        "<dt>Gefactureerd (realisatie)</dt><dd><a href=\"/aansluiting/regels?contract={id}\">€ 12.500,00</a></dd>"
    )));
    assert!(page.contains("<dt>Openstaande verplichting</dt><dd>€ 10.000,00</dd>"));
    assert!(page.contains("<dd>€ 22.500,00 van € 19.000,00</dd>"));
    assert!(page.contains("118,4% "));
    assert!(page.contains(
        "Het plafond is bereikt sinds 01-06-2023 en nu met € 3.500,00 overschreden: plaats geen nieuwe cursisten zonder besluit."
    ));
    assert!(!page.contains("Plafond bereikt op"), "never 'reached on <today>'");

    let (_, list) = app.get_html("/contracten").await;
    assert!(list.contains("<td>€ 22.500,00 van € 19.000,00 <span class=\"ceiling\">"), "{list}");
    assert!(list.contains(">1 contract</caption>"), "Dutch singular: {list}");
    assert!(list.contains("118,4% "));

    let (_, home) = app.get_html("/").await;
    assert!(home.contains("<td class=\"num\">€ 22.500,00</td><td class=\"num\">€ 19.000,00</td>"), "{home}");
    assert!(home.contains("<strong>1</strong> contract op 80% of meer van het plafond"), "{home}");
    assert!(home.contains("<strong>0</strong> optiebesluiten binnen 60 dagen"));
    let deadline = taalbudget::domain::dates::iso(taalbudget::domain::dates::today() + time::Duration::days(30));
    let r = app
        .post_form(
            &format!("/contracten/{id}/opties"),
            &[("new_end_date", "2029-12-31"), ("notice_deadline", &deadline)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (_, home) = app.get_html("/").await;
    assert!(home.contains("<strong>1</strong> optiebesluit binnen 60 dagen"), "{home}");
    assert!(home.contains("<td class=\"num\">30</td>"), "30 days left");
    assert!(home.contains("<td>bereikt sinds 01-06-2023 en nu met € 3.500,00 overschreden</td>"));

    // The invoice check per quarter: 5.000,00 in the first, 7.500,00 in the second; together the 12.500,00.
    let (_, q1) = app.get_html(&format!("/factuurcontrole?contract={id}&periode=2023-K1")).await;
    assert!(q1.contains("<th scope=\"row\">Gefactureerd (grootboek)</th><td class=\"num\">€ 5.000,00</td>"), "{q1}");
    let (_, q2) = app.get_html(&format!("/factuurcontrole?contract={id}&periode=2023-K2")).await;
    assert!(q2.contains("<th scope=\"row\">Gefactureerd (grootboek)</th><td class=\"num\">€ 7.500,00</td>"));
    assert!(q2.contains("<th scope=\"row\">Te betalen volgens het contract</th><td class=\"num\">€ 5.000,00</td>"));

    // The overview per contract: the same actual and commitment, the ceiling room is the ceiling minus their sum.
    let json: serde_json::Value =
        app.get("/meerjarenoverzicht/export.json?van=2023&tot=2024").await.json().await.unwrap();
    let view = json["views"].as_array().unwrap().iter().find(|v| v["view"] == "contract").unwrap();
    let row = view["rows"].as_array().unwrap().iter().find(|r| r["key"] == "UTR-1").unwrap();
    let figures = |f: &serde_json::Value| {
        (
            json_cents(&f["actual"]),
            json_cents(&f["committed"]),
            f["available"].as_str().map(|_| json_cents(&f["available"])),
        )
    };
    assert_eq!(figures(&row["years"][0]), (1_250_000, 0, None));
    assert_eq!(figures(&row["years"][1]), (0, 1_000_000, None));
    assert_eq!(figures(&row["total"]), (1_250_000, 1_000_000, Some(1_900_000)));
    assert_eq!(json_cents(&row["total"]["remaining"]), -350_000);
    let (_, overview) = app.get_html("/meerjarenoverzicht?van=2023&tot=2024&weergave=contract").await;
    assert!(overview.contains("€ 12.500,00") && overview.contains("€ 10.000,00"));

    // The reconciliation: SPUK's actual in 2023, its commitment in 2024, and the 2.500,00 invoiced above expected.
    let r2023 = taalbudget::report::reconciliation::for_year(&app.db, 2023).await.unwrap();
    let s = r2023.streams.iter().find(|s| s.code == "SPUK").unwrap();
    assert_eq!((s.actual.cents(), s.committed.cents()), (1_250_000, 0));
    let above = r2023.flags.iter().find(|f| f.code == "contract_above_expected").unwrap();
    assert_eq!((above.count, above.total.cents(), above.ids.clone()), (1, 250_000, vec![id]));
    let r2024 = taalbudget::report::reconciliation::for_year(&app.db, 2024).await.unwrap();
    let s = r2024.streams.iter().find(|s| s.code == "SPUK").unwrap();
    assert_eq!((s.actual.cents(), s.committed.cents()), (0, 1_000_000));
    let (_, recon) = app.get_html("/aansluiting?jaar=2024").await;
    assert!(recon.contains("<td class=\"num\">€ 10.000,00</td>"), "{recon}");
}

/// The five reconciliation signals and overspending, for 2024, on a data set built for them:
///
/// - contract UTR-1 at Taal BV (creditor 2001) and UTR-2 at Merkloos BV (creditor 2002), both 2022-2025;
/// - SPUK pays for Wi2021 only and may be spent until 30-06-2024 (20.000,00 granted for 2024); EIGEN for anyone,
///   nothing granted; Wi2021 is funded by SPUK, ELIP by no stream;
/// - K-1 (Wi2021) on UTR-1 from 15-01-2024: 5.000,00 due that day, 5.000,00 on 14-01-2025;
///   K-9 (ELIP) on UTR-2 from 01-03-2024, after which Blik op Werk withdraws Merkloos BV's mark from 01-02-2024;
/// - ledger 2024: L1 31-01 creditor 2001 5.000,00 and L2 31-08 creditor 2001 3.000,00 (SPUK, UTR-1);
///   L3 15-05 creditor 9999 1.234,56 (EIGEN, no contract, creditor linked to nobody);
///   L4 30-04 creditor 2002 2.000,00 (SPUK, UTR-2).
///
/// Worked out by hand:
/// - spend without contract: L3 only (2001 and 2002 have a contract on the booking date): 1 line, 1.234,56;
/// - outside the spending period: L2 (31-08-2024 after SPUK's 30-06-2024): 1 line, 3.000,00;
/// - stream versus cohort: L4 (SPUK on UTR-2, whose only placement is ELIP): 1 line, 2.000,00;
/// - placement without a valid mark: K-9 (started 01-03-2024, mark withdrawn from 01-02-2024): 1 placement;
/// - commitments without a stream: K-9's start payment of 5.000,00 (due 01-03-2024; ELIP has no stream, so
///   no invoice can match it): 1 placement, 5.000,00;
/// - invoiced above expected, per stream: UTR-1 on SPUK 2024 expected 5.000,00, invoiced 8.000,00 -> 3.000,00;
///   UTR-2 on SPUK 2024 expected 0 (K-9 has no stream), invoiced 2.000,00 -> 2.000,00; together 5.000,00;
/// - overspending: EIGEN available 0,00, actual 1.234,56, remaining -1.234,56 -> 1 stream, 1.234,56; SPUK has
///   20.000,00 - 10.000,00 actual - 0,00 committed (2024's 5.000,00 is invoiced) = 10.000,00 left.
#[tokio::test]
async fn the_reconciliation_signals_have_exact_amounts_and_link_to_what_is_behind_them() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let (taal, utr1) = contract(&app, "Taal BV", "12345678", "UTR-1", "100.000,00").await;
    let (merkloos, utr2) = contract(&app, "Merkloos BV", "23456789", "UTR-2", "100.000,00").await;
    let spuk = stream_for(&app, "SPUK", vec![Cohort::Wi2021], "2024-06-30").await;
    let eigen = stream(&app, "EIGEN").await;
    store::funding::set_cohort_stream(&app.db, Cohort::Wi2021, spuk, "test").await.unwrap();
    let r = app
        .post_form(
            &format!("/financiering/{spuk}/toekenningen"),
            &[
                ("year", "2024"),
                ("kind", "advance"),
                ("amount", "20.000,00"),
                ("reference", "B"),
                ("decided_on", "2024-01-02"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    place(&app, utr1, "K-1", "wi2021", "2024-01-15", "2025-01-14").await;
    let k9 = place(&app, utr2, "K-9", "elip", "2024-03-01", "2025-02-28").await;
    let r = app
        .post_form(
            &format!("/aanbieders/{merkloos}/keurmerken"),
            &[("status", "withdrawn"), ("decision_date", "2024-06-01"), ("valid_from", "2024-02-01")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    import_ledger(
        &app,
        &[
            ledger_line("2024-01-31", "KP-INB", "2001", "L1 start K-1", 500_000),
            ledger_line("2024-08-31", "KP-INB", "2001", "L2 na de bestedingsperiode", 300_000),
            ledger_line("2024-05-15", "KP-INB", "9999", "L3 onbekende aanbieder", 123_456),
            ledger_line("2024-04-30", "KP-INB", "2002", "L4 ELIP op SPUK", 200_000),
        ],
    )
    .await;
    attribute_creditor(&app, "2001", taal, spuk).await;
    attribute_creditor(&app, "2002", merkloos, spuk).await;
    rule(&app, "9999", eigen, "").await;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM ledger_entry ORDER BY substr(description, 1, 2)")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let (l2, l3, l4) = (ids[1], ids[2], ids[3]);

    let report = taalbudget::report::reconciliation::for_year(&app.db, 2024).await.unwrap();
    let flags: Vec<FlagFigures> = report
        .flags
        .iter()
        .map(|f| (f.code, f.count, f.total.cents(), f.ids.clone(), f.amounts.iter().map(|m| m.cents()).collect()))
        .collect();
    assert_eq!(
        flags,
        [
            ("stream_overspent", 1, 123_456, vec![eigen], vec![123_456]),
            ("creditor_without_contract", 1, 123_456, vec![l3], vec![123_456]),
            ("outside_spending_period", 1, 300_000, vec![l2], vec![300_000]),
            ("cohort_mismatch", 1, 200_000, vec![l4], vec![200_000]),
            ("placement_without_mark", 1, 0, vec![k9], vec![0]),
            ("unfunded_commitments", 1, 500_000, vec![k9], vec![500_000]),
            ("contract_above_expected", 2, 500_000, vec![utr1, utr2], vec![300_000, 200_000]),
        ]
    );
    let s = report.streams.iter().find(|s| s.code == "SPUK").unwrap();
    assert_eq!(
        (s.available.cents(), s.actual.cents(), s.committed.cents(), s.remaining.cents()),
        (2_000_000, 1_000_000, 0, 1_000_000)
    );

    // The page opens on 2024, the latest year with ledger lines, marks EIGEN's shortfall in words and links each
    // signal to what is behind it.
    let (_, page) = app.get_html("/aansluiting").await;
    assert!(page.contains("<h1>Aansluiting 2024</h1>"), "{page}");
    assert!(page.contains("Bron EIGEN <span class=\"status status-bad\">overbesteding</span>"), "{page}");
    assert!(page.contains("<span class=\"negative\">€ -1.234,56 <span class=\"negative-word\">(tekort)</span></span>"));
    assert!(page.contains("<a href=\"/aansluiting/signalen?jaar=2024&amp;soort=creditor_without_contract\">1 grootboekregel</a>, € 1.234,56"));
    assert!(page.contains(
        "<a href=\"/aansluiting/signalen?jaar=2024&amp;soort=contract_above_expected\">2 contracten</a>, € 5.000,00"
    ));
    assert!(
        page.contains("<a href=\"/aansluiting/signalen?jaar=2024&amp;soort=placement_without_mark\">1 plaatsing</a>")
    );
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2024&soort=outside_spending_period").await;
    assert!(behind.contains("L2 na de bestedingsperiode") && behind.contains("€ 3.000,00"), "{behind}");
    assert!(!behind.contains("L1 start K-1"));
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2024&soort=placement_without_mark").await;
    assert!(behind.contains(&format!("<a href=\"/plaatsingen/{k9}\">K-9</a>, start 01-03-2024")), "{behind}");
    assert!(page.contains(
        "<a href=\"/aansluiting/signalen?jaar=2024&amp;soort=unfunded_commitments\">1 plaatsing</a>, € 5.000,00"
    ));
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2024&soort=unfunded_commitments").await;
    assert!(
        behind.contains(&format!("<a href=\"/plaatsingen/{k9}\">K-9</a>, start 01-03-2024: € 5.000,00")),
        "{behind}"
    );
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2024&soort=contract_above_expected").await;
    assert!(behind
        .contains(&format!("<a href=\"/contracten/{utr1}\">UTR-1</a>: € 3.000,00 meer gefactureerd dan verwacht")));
    // A policy adviser gets the totals, never the lines or the participants.
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    for soort in ["outside_spending_period", "placement_without_mark"] {
        let (status, behind) = adviser.get_html(&format!("/aansluiting/signalen?jaar=2024&soort={soort}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!behind.contains("L2 na") && !behind.contains("K-9"), "{behind}");
        assert!(behind.contains("niet zichtbaar voor uw rol"));
    }
}

/// The two signals on a stream's spending period, for 2024 (a year that is over, so the reconciliation looks ahead
/// from 31-12-2024 to 30-06-2025, whatever today is):
///
/// - SPUK may be spent until 30-06-2024, 5.000,00 granted; a line of 3.000,00 booked 31-08-2024 (creditor 3001);
/// - ENO until 31-03-2025, 10.000,00 granted, 2.500,00 spent 31-05-2024 (creditor 3002);
/// - GRENS until 30-06-2025 (the last day of the six months), 500,00 granted, nothing spent;
/// - LAAT until 01-07-2025 (one day past), 900,00 granted, nothing spent;
/// - OP until 31-01-2025, 1.000,00 granted, 1.000,00 spent 29-02-2024 (creditor 3003).
///
/// Worked out by hand:
/// - spend after the spending period: SPUK's 31-08-2024 line: 1 line, 3.000,00;
/// - money left while the period ends within six months: ENO 10.000,00 - 2.500,00 = 7.500,00 and GRENS 500,00;
///   not LAAT (ends too late), not OP (nothing left), not SPUK (its period is already over, 2.000,00 left then):
///   2 streams, 8.000,00.
#[tokio::test]
async fn the_spending_period_signals_name_late_spend_and_money_left_before_the_period_ends() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let mut ids = std::collections::BTreeMap::new();
    for (code, until, granted) in [
        ("SPUK", "2024-06-30", "5.000,00"),
        ("ENO", "2025-03-31", "10.000,00"),
        ("GRENS", "2025-06-30", "500,00"),
        ("LAAT", "2025-07-01", "900,00"),
        ("OP", "2025-01-31", "1.000,00"),
    ] {
        let id = stream_for(&app, code, vec![], until).await;
        grant(&app, id, "2024", granted).await;
        ids.insert(code, id);
    }
    import_ledger(
        &app,
        &[
            ledger_line("2024-08-31", "KP-INB", "3001", "SPUK na de bestedingsperiode", 300_000),
            ledger_line("2024-05-31", "KP-INB", "3002", "ENO cursus", 250_000),
            ledger_line("2024-02-29", "KP-INB", "3003", "OP cursus", 100_000),
        ],
    )
    .await;
    for (creditor, code) in [("3001", "SPUK"), ("3002", "ENO"), ("3003", "OP")] {
        rule(&app, creditor, ids[code], "").await;
    }
    let late: i64 = sqlx::query_scalar("SELECT id FROM ledger_entry WHERE creditor_number = '3001'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let (eno, grens) = (ids["ENO"], ids["GRENS"]);

    let report = taalbudget::report::reconciliation::for_year(&app.db, 2024).await.unwrap();
    let flags: Vec<FlagFigures> = report
        .flags
        .iter()
        .filter(|f| f.code.contains("spending_period"))
        .map(|f| (f.code, f.count, f.total.cents(), f.ids.clone(), f.amounts.iter().map(|m| m.cents()).collect()))
        .collect();
    assert_eq!(
        flags,
        [
            ("outside_spending_period", 1, 300_000, vec![late], vec![300_000]),
            ("spending_period_ending", 2, 800_000, vec![eno, grens], vec![750_000, 50_000]),
        ]
    );

    // The same in `report reconciliation --json`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&app.db_path)
        .args(["report", "reconciliation", "--year", "2024", "--format", "json"])
        .env("TAALBUDGET_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ending = json["flags"].as_array().unwrap().iter().find(|f| f["code"] == "spending_period_ending").unwrap();
    assert_eq!(
        (&ending["count"], &ending["total"], &ending["ids"], &ending["amounts"]),
        (
            &serde_json::json!(2),
            &serde_json::json!("8000.00"),
            &serde_json::json!([eno, grens]),
            &serde_json::json!(["7500.00", "500.00"])
        )
    );

    // The reconciliation page lists both and links each to what is behind it.
    let (_, page) = app.get_html("/aansluiting?jaar=2024").await;
    assert!(
        page.contains(
            "<strong>Bronnen met geld over terwijl de bestedingsperiode binnen zes maanden eindigt</strong>: <a \
         href=\"/aansluiting/signalen?jaar=2024&amp;soort=spending_period_ending\">2 bronnen</a>, € 8.000,00"
        ),
        "{page}"
    );
    assert!(page.contains(
        "<a href=\"/aansluiting/signalen?jaar=2024&amp;soort=outside_spending_period\">1 grootboekregel</a>, € 3.000,00"
    ));
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2024&soort=spending_period_ending").await;
    assert!(
        behind.contains(&format!(
            "<a href=\"/financiering/{eno}\">ENO Bron ENO</a>: beschikbaar € 10.000,00, realisatie € 2.500,00, \
         verplichtingen € 0,00, resterend € 7.500,00; besteden tot en met 31-03-2025"
        )),
        "{behind}"
    );
    assert!(behind.contains(&format!("<a href=\"/financiering/{grens}\">GRENS Bron GRENS</a>")));
    assert!(!behind.contains("LAAT") && !behind.contains("Bron OP") && !behind.contains("Bron SPUK"), "{behind}");
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2024&soort=outside_spending_period").await;
    assert!(behind.contains("SPUK na de bestedingsperiode") && behind.contains("€ 3.000,00"), "{behind}");
    assert!(!behind.contains("ENO cursus"), "{behind}");
}

/// The overview's four views, years 2024-2026, forecast from 2026, on a data set worked out by hand:
///
/// - UTR-1 (Taal BV, B1 only, ceiling 50.000,00): K-1 Wi2021 from 01-03-2024 (5.000,00 in 2024 and in 2025) and
///   K-4 Wi2021 from 01-02-2026 (5.000,00 in 2026, 5.000,00 in 2027); invoiced 5.000,00 on 31-03-2024 (SPUK);
/// - UTR-2 (Zuid BV, B1 at 10.000,00 and Z at 8.000,00, ceiling 60.000,00): K-2 Wi2021 B1 from 15-01-2025
///   (5.000,00 in 2025 and 2026) and K-3 ELIP Z from 01-06-2025 (4.000,00 in 2025 and 2026); invoiced 5.000,00 on
///   31-01-2025 (SPUK) and 4.000,00 on 30-06-2025 (ELIP);
/// - SPUK (Wi2021) 30.000,00 granted each year 2024-2026; ELIP (ELIP) 10.000,00 in 2025;
/// - scenario: 2026 inflow 3 asylum migrants, all B1, no dropout, B1 takes 12 months; 1 Wi2021 placement (K-4)
///   starts in 2026, so the forecast counts 3 - 1 = 2 at the 2026 B1 tariff (average of 10.000,00 and 10.000,00):
///   start 2 x 5.000,00 = 10.000,00 in 2026 (completion in 2027 is outside the view).
///
/// Atoms: actual 2024 SPUK UTR-1 B1 5.000; 2025 SPUK UTR-2 5.000 (two routes: it paid K-2's B1 start, so B1);
/// 2025 ELIP UTR-2 4.000 (it paid K-3's Z start, so Z). Committed (expected not invoiced): 2025 SPUK UTR-1 B1 5.000 (K-1 completion); 2026 SPUK UTR-1 B1
/// 5.000 (K-4 start); 2026 SPUK UTR-2 B1 5.000 (K-2 completion); 2026 ELIP UTR-2 Z 4.000 (K-3 completion).
/// Forecast 2026 SPUK B1 10.000.
#[tokio::test]
async fn each_view_of_the_overview_adds_up_to_figures_worked_out_by_hand() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let (taal, utr1) = contract(&app, "Taal BV", "12345678", "UTR-1", "50.000,00").await;
    let (zuid, utr2) =
        contract_for(&app, "Zuid BV", "23456789", "UTR-2", "60.000,00", &[("b1", "10.000,00"), ("z", "8.000,00")])
            .await;
    let spuk = stream_for(&app, "SPUK", vec![Cohort::Wi2021], "2026-12-31").await;
    let elip = stream_for(&app, "ELIP", vec![Cohort::Elip], "2026-12-31").await;
    store::funding::set_cohort_stream(&app.db, Cohort::Wi2021, spuk, "test").await.unwrap();
    store::funding::set_cohort_stream(&app.db, Cohort::Elip, elip, "test").await.unwrap();
    for year in ["2024", "2025", "2026"] {
        grant(&app, spuk, year, "30.000,00").await;
    }
    grant(&app, elip, "2025", "10.000,00").await;
    place(&app, utr1, "K-1", "wi2021", "2024-03-01", "2025-02-28").await;
    place(&app, utr1, "K-4", "wi2021", "2026-02-01", "2027-01-31").await;
    place_on(&app, utr2, "b1", "K-2", "wi2021", "2025-01-15", "2026-01-14").await;
    place_on(&app, utr2, "z", "K-3", "elip", "2025-06-01", "2026-05-31").await;
    import_ledger(
        &app,
        &[
            ledger_line("2024-03-31", "KP-INB", "2001", "Start K-1", 500_000),
            ledger_line("2025-01-31", "KP-INB", "2002", "Start K-2", 500_000),
            ledger_line("2025-06-30", "KP-INB", "2002", "ELIP start K-3", 400_000),
        ],
    )
    .await;
    rule_on(&app, ("description_contains", "ELIP"), elip, "crediteur").await;
    attribute_creditor(&app, "2001", taal, spuk).await;
    attribute_creditor(&app, "2002", zuid, spuk).await;
    let r = app
        .post_form(
            "/scenarios",
            &[
                ("name", "Basis"),
                ("tariff_index", "0"),
                ("duration_b1", "12"),
                ("duration_z", "12"),
                ("duration_education", "12"),
                ("inflow", "2026; asiel; 1; 3; 5; 100; 0; 0; 0"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let scenario = id_from(&location(&r), "/scenarios/");

    let link = format!("van=2024&tot=2026&scenario={scenario}&variant=verwacht&prognose_vanaf=2026");
    let json: serde_json::Value =
        app.get(&format!("/meerjarenoverzicht/export.json?{link}")).await.json().await.unwrap();
    let view = |name: &str| json["views"].as_array().unwrap().iter().find(|v| v["view"] == name).unwrap().clone();
    let opt = |v: &serde_json::Value| v.as_str().map(|_| json_cents(v));
    // Per cell: (available, actual, committed, forecast, remaining) in cents.
    let cell = |f: &serde_json::Value| {
        (
            opt(&f["available"]),
            json_cents(&f["actual"]),
            json_cents(&f["committed"]),
            json_cents(&f["forecast"]),
            opt(&f["remaining"]),
        )
    };
    let row = |v: &serde_json::Value, key: &str| -> Vec<Cell> {
        let r =
            v["rows"].as_array().unwrap().iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("{key} in {v}"));
        r["years"].as_array().unwrap().iter().chain(std::iter::once(&r["total"])).map(cell).collect()
    };
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
    };

    // Per stream: SPUK 2024 30.000 - 5.000 = 25.000; 2025 30.000 - 5.000 - 5.000 = 20.000;
    // 2026 30.000 - 10.000 committed - 10.000 forecast = 10.000; total 90.000 - 35.000 = 55.000.
    // ELIP 2025 10.000 - 4.000 = 6.000; 2026 0 - 4.000 = -4.000; total 10.000 - 8.000 = 2.000.
    let streams = view("stream");
    assert_eq!(keys(&streams), ["ELIP", "SPUK"], "streams in code order");
    assert_eq!(
        row(&streams, "SPUK"),
        [
            (Some(3_000_000), 500_000, 0, 0, Some(2_500_000)),
            (Some(3_000_000), 500_000, 500_000, 0, Some(2_000_000)),
            (Some(3_000_000), 0, 1_000_000, 1_000_000, Some(1_000_000)),
            (Some(9_000_000), 1_000_000, 1_500_000, 1_000_000, Some(5_500_000)),
        ]
    );
    assert_eq!(
        row(&streams, "ELIP"),
        [
            (Some(0), 0, 0, 0, Some(0)),
            (Some(1_000_000), 400_000, 0, 0, Some(600_000)),
            (Some(0), 0, 400_000, 0, Some(-400_000)),
            (Some(1_000_000), 400_000, 400_000, 0, Some(200_000)),
        ]
    );
    assert_eq!(cell(&streams["totals"]["total"]), (Some(10_000_000), 1_400_000, 1_900_000, 1_000_000, Some(5_700_000)));

    // Per route: UTR-1 has one route, so its invoice is B1; UTR-2 has two, so each invoice goes to the route of
    // the payment it paid (SPUK 2025: K-2's B1 start; ELIP 2025: K-3's Z start), nothing is left without a route.
    let routes = view("route");
    assert_eq!(keys(&routes), ["b1", "z"]);
    assert_eq!(
        row(&routes, "b1"),
        [
            (None, 500_000, 0, 0, None),
            (None, 500_000, 500_000, 0, None),
            (None, 0, 1_000_000, 1_000_000, None),
            (None, 1_000_000, 1_500_000, 1_000_000, None),
        ]
    );
    assert_eq!(row(&routes, "z")[3], (None, 400_000, 400_000, 0, None));

    // Per provider and per contract: the forecast is nobody's yet; the contract total shows the ceiling room over
    // the contract's whole life, so K-4's completion in 2027 counts too: UTR-1 50.000 - (5.000 actual + 5.000 +
    // 5.000 + 5.000 committed) = 30.000; UTR-2 60.000 - (9.000 + 9.000) = 42.000.
    let providers = view("provider");
    let (pt, pz) = (format!("aanbieder-{taal}"), format!("aanbieder-{zuid}"));
    assert_eq!(keys(&providers), [pt.as_str(), pz.as_str(), "prognose"]);
    assert_eq!(row(&providers, &pt)[3], (None, 500_000, 1_000_000, 0, None));
    assert_eq!(row(&providers, &pz)[3], (None, 900_000, 900_000, 0, None));
    assert_eq!(row(&providers, "prognose")[3], (None, 0, 0, 1_000_000, None));
    let contracts = view("contract");
    assert_eq!(keys(&contracts), ["UTR-1", "UTR-2", "prognose"]);
    assert_eq!(row(&contracts, "UTR-1")[1], (None, 0, 500_000, 0, None));
    assert_eq!(row(&contracts, "UTR-1")[3], (Some(5_000_000), 500_000, 1_000_000, 0, Some(3_000_000)));
    assert_eq!(row(&contracts, "UTR-2")[3], (Some(6_000_000), 900_000, 900_000, 0, Some(4_200_000)));
    // Every view adds up to the same spend.
    for v in ["stream", "route", "provider", "contract"] {
        let t = cell(&view(v)["totals"]["total"]);
        assert_eq!((t.1, t.2, t.3), (1_400_000, 1_900_000, 1_000_000), "{v}");
    }
    assert_eq!(json["scenario"]["counted"][0]["placed"], 1);
    assert_eq!(json["scenario"]["counted"][0]["counted"], 2);

    // The page says the forecast rule and the numbers behind it, and shows the same euros.
    let (_, page) = app.get_html(&format!("/meerjarenoverzicht?{link}&weergave=alle")).await;
    assert!(page.contains("2026: instroom 3 (verwacht), al geplaatst 1, in de prognose 2."), "{page}");
    assert!(page.contains("€ 55.000,00") && page.contains("€ 30.000,00") && page.contains("€ 42.000,00"));
    assert!(page.contains("€ -4.000,00"));
    assert!(!page.contains("Totaal Totaal") && page.contains("<th scope=\"row\">Totaal</th>"), "{page}");
}
