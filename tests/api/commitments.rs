//! Commitments that never drop out of sight (#26): one hand-built data set with an unfunded cohort, an overdue
//! milestone, an over-invoiced year and an invoice split over two routes, and the same euros on the contract
//! page, the contracts list, the placement page, the reconciliation and each view of the overview.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::route::Cohort;
use taalbudget::store;

use crate::figures::{attribute_creditor, contract_until, json_cents, place_on, stream_for};
use crate::helpers::{import_ledger, ledger_line, spawn_app};

/// Contract UTR-1 (Taal BV, creditor 2001), 2022-2032, ceiling 50.000,00, B1 at 10.000,00 and Z at 8.000,00, each
/// 50% at the start and 50% at completion. SPUK pays for Wi2021; ELIP has no stream ("Geen").
///
/// - K-1 Wi2021 B1 01-03-2024 to 28-02-2025: 5.000,00 due 01-03-2024 and 5.000,00 due 28-02-2025 (SPUK);
/// - K-2 Wi2021 Z 01-03-2026 to 28-02-2030: 4.000,00 due 01-03-2026 and 4.000,00 due 28-02-2030 (SPUK);
/// - K-3 ELIP B1 15-01-2026 to 14-01-2030: 5.000,00 due 15-01-2026 and 5.000,00 due 14-01-2030 (no stream);
/// - invoices on SPUK: 7.000,00 on 31-03-2024 (2.000,00 above 2024's 5.000,00) and 4.000,00 on 31-03-2026;
///   nothing in 2025, so K-1's completion is overdue.
///
/// By hand, per (stream, year), invoices matched to the payments earliest due first, today after 15-01-2026 and
/// before 2030:
/// - SPUK 2024: expected 5.000 (K-1 B1), invoiced 7.000: nothing open, 2.000 above expected (no route);
/// - SPUK 2025: expected 5.000 (K-1 B1), invoiced 0: 5.000 overdue;
/// - SPUK 2026: expected 4.000 (K-2 Z), invoiced 4.000: nothing open, the invoice is Z's;
/// - SPUK 2030: expected 4.000 (K-2 Z): 4.000 still to come;
/// - no stream 2026: 5.000 (K-3 B1) overdue; no stream 2030: 5.000 (K-3 B1) still to come.
///
/// Contract: expected 10.000 + 8.000 + 10.000 = 28.000; invoiced 7.000 + 4.000 = 11.000; open commitment
/// 5.000 + 4.000 + 5.000 + 5.000 = 19.000, of which overdue 5.000 + 5.000 = 10.000, to come 4.000 + 5.000 =
/// 9.000 and without a stream 5.000 + 5.000 = 10.000; ceiling use 11.000 + 19.000 = 30.000 of 50.000 (60,0%).
#[tokio::test]
async fn unfunded_overdue_and_over_invoiced_commitments_are_the_same_euros_on_every_screen() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let routes = [("b1", "10.000,00"), ("z", "8.000,00")];
    let (taal, utr1) = contract_until(&app, ("Taal BV", "12345678"), "UTR-1", "50.000,00", &routes, "2032-12-31").await;
    let spuk = stream_for(&app, "SPUK", vec![Cohort::Wi2021], "2032-12-31").await;
    store::funding::set_cohort_stream(&app.db, Cohort::Wi2021, spuk, "test").await.unwrap();
    let k1 = place_on(&app, utr1, "b1", "K-1", "wi2021", "2024-03-01", "2025-02-28").await;
    place_on(&app, utr1, "z", "K-2", "wi2021", "2026-03-01", "2030-02-28").await;
    let k3 = place_on(&app, utr1, "b1", "K-3", "elip", "2026-01-15", "2030-01-14").await;
    import_ledger(
        &app,
        &[
            ledger_line("2024-03-31", "KP-INB", "2001", "Start K-1 en meer", 700_000),
            ledger_line("2026-03-31", "KP-INB", "2001", "Start K-2", 400_000),
        ],
    )
    .await;
    attribute_creditor(&app, "2001", taal, spuk).await;

    // Contract summary: the figures, the overdue euros linking to the payments section.
    let (status, page) = app.get_html(&format!("/contracten/{utr1}")).await;
    assert_eq!(status, StatusCode::OK);
    let overdue_link = format!("<a href=\"/contracten/{utr1}/betalingen#vervallen\">€ 10.000,00</a>");
    for (term, value) in [
        ("Verwachte betalingen (alle plaatsingen)", "€ 28.000,00"),
        ("Openstaande verplichting", "€ 19.000,00"),
        ("waarvan vervallen, niet gefactureerd", overdue_link.as_str()),
        ("waarvan nog te betalen", "€ 9.000,00"),
        ("Plafondgebruik (gefactureerd + openstaande verplichting)", "€ 30.000,00 van € 50.000,00"),
    ] {
        assert!(page.contains(&format!("<dt>{term}</dt><dd>{value}</dd>")), "{term}: {page}");
    }
    assert!(page.contains("<dt>Gefactureerd (realisatie)</dt><dd>"), "{page}");
    assert!(page.contains("€ 11.000,00</a></dd>") || page.contains("€ 11.000,00</dd>"));
    assert!(page.contains(
        "<dt>waarvan zonder financieringsbron</dt><dd>€ 10.000,00 <span class=\"status status-bad\">geen bron</span>"
    ));
    // The payments section: the year table and the overdue payments the summary links to.
    let (status, page) = app.get_html(&format!("/contracten/{utr1}/betalingen")).await;
    assert_eq!(status, StatusCode::OK);
    let line = |year: &str, stream: &str, route: &str, [e, i, o, t]: [&str; 4]| {
        format!(
            "<tr><th scope=\"row\">{year}</th><td>{stream}</td><td>{route}</td><td class=\"num\">€ {e}</td>\
             <td class=\"num\">€ {i}</td><td class=\"num\">€ {o}</td><td class=\"num\">€ {t}</td></tr>"
        )
    };
    let above = "Niet aan een route toe te wijzen (meer gefactureerd dan verwacht)";
    let table = [
        line("2024", "SPUK", above, ["0,00", "2.000,00", "0,00", "0,00"]),
        line("2024", "SPUK", "B1", ["5.000,00", "5.000,00", "0,00", "0,00"]),
        line("2025", "SPUK", "B1", ["5.000,00", "0,00", "5.000,00", "0,00"]),
        line("2026", "Zonder financieringsbron", "B1", ["5.000,00", "0,00", "5.000,00", "0,00"]),
        line("2026", "SPUK", "Z", ["4.000,00", "4.000,00", "0,00", "0,00"]),
        line("2030", "Zonder financieringsbron", "B1", ["5.000,00", "0,00", "0,00", "5.000,00"]),
        line("2030", "SPUK", "Z", ["4.000,00", "0,00", "0,00", "4.000,00"]),
    ]
    .concat();
    assert!(page.contains(&format!("<tbody>{table}</tbody>")), "{page}");
    assert!(page.contains(
        "<th scope=\"row\" colspan=\"3\">Totaal</th><td class=\"num\"><strong>€ 28.000,00</strong></td>\
         <td class=\"num\"><strong>€ 11.000,00</strong></td><td class=\"num\"><strong>€ 10.000,00</strong></td>\
         <td class=\"num\"><strong>€ 9.000,00</strong></td>"
    ));
    assert!(page.contains(taalbudget::domain::commitment::ROUTE_SPLIT), "the rule is on the page");
    assert!(page.contains(">2 betalingen, samen € 10.000,00</caption>"));
    let overdue = |due: &str, id: i64, client: &str, milestone: &str, stream: &str| {
        format!(
            "<tr><th scope=\"row\">{due}</th><td><a href=\"/plaatsingen/{id}\">{client}</a></td><td>B1</td>\
             <td>{milestone}</td><td>{stream}</td><td class=\"num\">€ 5.000,00</td></tr>"
        )
    };
    assert!(page.contains(&overdue("28-02-2025", k1, "K-1", "Afronding", "SPUK")), "{page}");
    assert!(page.contains(&overdue("15-01-2026", k3, "K-3", "Start", "Zonder financieringsbron")));

    // Contracts list: the same invoiced, open and overdue euros.
    let (_, list) = app.get_html("/contracten").await;
    assert!(
        list.contains(
            "<td class=\"num\">€ 11.000,00</td><td class=\"num\">€ 19.000,00<br>waarvan vervallen € 10.000,00</td>\
             <td>€ 30.000,00 van € 50.000,00"
        ),
        "{list}"
    );

    // Placement page: K-3's expected payments per year.
    let (_, placement) = app.get_html(&format!("/plaatsingen/{k3}")).await;
    assert!(
        placement.contains(
            "<tbody><tr><th scope=\"row\">2026</th><td class=\"num\">€ 5.000,00</td></tr>\
             <tr><th scope=\"row\">2030</th><td class=\"num\">€ 5.000,00</td></tr></tbody>"
        ),
        "{placement}"
    );

    // Reconciliation, per year: what each stream and the unfunded row commit, split in overdue and to come.
    // (stream committed, overdue, to come; unfunded committed, overdue, to come) in cents.
    let mut committed = 0;
    for (year, spuk_split, unfunded) in [
        (2024, (0, 0, 0), (0, 0, 0)),
        (2025, (500_000, 500_000, 0), (0, 0, 0)),
        (2026, (0, 0, 0), (500_000, 500_000, 0)),
        (2030, (400_000, 0, 400_000), (500_000, 0, 500_000)),
    ] {
        let r = taalbudget::report::reconciliation::for_year(&app.db, year).await.unwrap();
        let s = r.streams.iter().find(|s| s.code == "SPUK").unwrap();
        assert_eq!((s.committed.cents(), s.overdue.cents(), s.to_come.cents()), spuk_split, "SPUK {year}");
        let u = &r.unfunded;
        assert_eq!((u.committed.cents(), u.overdue.cents(), u.to_come.cents()), unfunded, "unfunded {year}");
        let signal = r.flags.iter().find(|f| f.code == "unfunded_commitments");
        let signal = signal.map(|f| (f.count, f.total.cents(), f.ids.clone()));
        assert_eq!(signal, (unfunded.0 > 0).then(|| (1, unfunded.0, vec![k3])), "signal {year}");
        let above =
            r.flags.iter().find(|f| f.code == "contract_above_expected").map(|f| (f.total.cents(), f.ids.clone()));
        assert_eq!(above, (year == 2024).then(|| (200_000, vec![utr1])), "over-invoiced {year}");
        committed += r.committed_total().cents();
    }
    assert_eq!(committed, 1_900_000, "the years add up to the contract's open commitment");
    // The unfunded row of 2030 in the CSV: committed, then (last columns) overdue and to come.
    let r2030 = taalbudget::report::reconciliation::for_year(&app.db, 2030).await.unwrap();
    let csv = String::from_utf8(taalbudget::report::export::reconciliation_csv(&r2030).unwrap()).unwrap();
    assert!(csv.contains("2030,,Zonder financieringsbron,,,0.00,5000.00,,0.00,5000.00"), "{csv}");
    let (_, recon) = app.get_html("/aansluiting?jaar=2026").await;
    assert!(recon.contains(
        "<a href=\"/aansluiting/signalen?jaar=2026&amp;soort=unfunded_commitments\">Zonder financieringsbron</a> \
         <span class=\"status status-bad\">geen bron</span></th><td class=\"num\"><span aria-label=\"niet van toepassing\">—</span></td>\
         <td class=\"num\"><span aria-label=\"niet van toepassing\">—</span></td><td class=\"num\">€ 5.000,00</td>\
         <td class=\"num\">€ 5.000,00</td><td class=\"num\">€ 0,00</td>"
    ), "{recon}");
    assert!(recon.contains(
        "<strong>Verplichtingen zonder financieringsbron (een doelgroep zonder standaardbron)</strong>: \
         <a href=\"/aansluiting/signalen?jaar=2026&amp;soort=unfunded_commitments\">1 plaatsing</a>, € 5.000,00"
    ));
    let (_, behind) = app.get_html("/aansluiting/signalen?jaar=2026&soort=unfunded_commitments").await;
    assert!(
        behind.contains(&format!("<a href=\"/plaatsingen/{k3}\">K-3</a>, start 15-01-2026: € 5.000,00")),
        "{behind}"
    );

    // Overview 2024-2030, no forecast. Per cell (available, actual, committed, overdue, to come, remaining).
    let json: serde_json::Value =
        app.get("/meerjarenoverzicht/export.json?van=2024&tot=2030").await.json().await.unwrap();
    let view = |name: &str| json["views"].as_array().unwrap().iter().find(|v| v["view"] == name).unwrap().clone();
    let opt = |v: &serde_json::Value| v.as_str().map(|_| json_cents(v));
    let cell = |f: &serde_json::Value| {
        (
            opt(&f["available"]),
            json_cents(&f["actual"]),
            json_cents(&f["committed"]),
            json_cents(&f["overdue"]),
            json_cents(&f["to_come"]),
            opt(&f["remaining"]),
        )
    };
    let total = |v: &serde_json::Value, key: &str| {
        let rows = v["rows"].as_array().unwrap();
        cell(&rows.iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("{key} in {v}"))["total"])
    };
    let year = |v: &serde_json::Value, key: &str, y: i64| {
        let rows = v["rows"].as_array().unwrap();
        let r = rows.iter().find(|r| r["key"] == key).unwrap();
        cell(r["years"].as_array().unwrap().iter().find(|c| c["year"] == y).unwrap())
    };
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap().to_string()).collect()
    };
    // Per stream: SPUK actual 11.000, committed 5.000 (2025, overdue) + 4.000 (2030, to come); nothing granted,
    // so 0 - 20.000 = -20.000. Without a stream: 5.000 overdue (2026) + 5.000 to come (2030), a row of its own.
    let streams = view("stream");
    assert_eq!(keys(&streams), ["SPUK", "geen-bron"]);
    assert_eq!(total(&streams, "SPUK"), (Some(0), 1_100_000, 900_000, 500_000, 400_000, Some(-2_000_000)));
    assert_eq!(total(&streams, "geen-bron"), (Some(0), 0, 1_000_000, 500_000, 500_000, Some(-1_000_000)));
    // Per route: the 2024 invoice paid K-1's 5.000 B1 start, its other 2.000 has no route; the 2026 invoice paid
    // K-2's Z start. B1 commits K-1's completion (2025) and K-3's start (2026), both overdue, and K-3's completion
    // (2030); Z commits K-2's completion (2030).
    let routes = view("route");
    assert_eq!(keys(&routes), ["b1", "z", "geen-route"]);
    assert_eq!(total(&routes, "b1"), (None, 500_000, 1_500_000, 1_000_000, 500_000, None));
    assert_eq!(year(&routes, "b1", 2024), (None, 500_000, 0, 0, 0, None));
    assert_eq!(year(&routes, "b1", 2026), (None, 0, 500_000, 500_000, 0, None));
    assert_eq!(total(&routes, "z"), (None, 400_000, 400_000, 0, 400_000, None));
    assert_eq!(total(&routes, "geen-route"), (None, 200_000, 0, 0, 0, None));
    // Per provider and per contract: the contract page's euros; the contract's remaining is its ceiling room
    // 50.000 - 30.000 = 20.000.
    let providers = view("provider");
    let taal_key = format!("aanbieder-{taal}");
    assert_eq!(total(&providers, &taal_key), (None, 1_100_000, 1_900_000, 1_000_000, 900_000, None));
    let contracts = view("contract");
    assert_eq!(
        total(&contracts, "UTR-1"),
        (Some(5_000_000), 1_100_000, 1_900_000, 1_000_000, 900_000, Some(2_000_000))
    );
    for v in ["stream", "route", "provider", "contract"] {
        let t = cell(&view(v)["totals"]["total"]);
        assert_eq!((t.1, t.2, t.3, t.4), (1_100_000, 1_900_000, 1_000_000, 900_000), "{v}");
    }
    // The page shows the split and the rule; the drill-down says which part of an invoice went where.
    let (_, overview) = app.get_html("/meerjarenoverzicht?van=2024&tot=2030&weergave=alle").await;
    assert!(overview.contains(taalbudget::domain::commitment::ROUTE_SPLIT), "{overview}");
    assert!(overview.contains("<th class=\"num\" scope=\"col\">Verplichtingen: vervallen, niet gefactureerd</th>"));
    let (_, detail) =
        app.get_html("/meerjarenoverzicht/detail?van=2024&tot=2030&weergave=route&sleutel=geen-route&jaar=2024").await;
    assert!(
        detail.contains(&format!(
            "1 geboekte regel op SPUK, contract UTR-1: deel boven de verwachte betalingen van het jaar \
             (niet aan een route toe te wijzen) · <a href=\"/aansluiting/regels?jaar=2024&amp;bron={spuk}\">\
             boekingsregels</a></td><td class=\"num\">€ 2.000,00</td>"
        )),
        "{detail}"
    );
}
