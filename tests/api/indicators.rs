//! The indicator page (issue 25) on a data set built by hand: every figure worked out in the comments and asserted
//! exactly, and the same figure found on the screen it comes from (scorecard, reconciliation, inflow).

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::route::Cohort;
use taalbudget::domain::scorecard::Grain;
use taalbudget::money::Money;

use crate::figures::{grant, rule, stream_for};
use crate::helpers::{import_ledger, ledger_line, spawn_app, TestApp};
use crate::inflow::import_inflow;
use crate::progress::{contract, placement, report};

fn euros(cents: i64) -> String {
    maud::html! { (Money::from_cents(cents)) }.into_string()
}

/// Two providers with a B1 placement each (PIP 02-01-2023, lessons from 01-02 and 01-03-2023), their February
/// reports (36 and 20 of 40 hours; reading passed and failed at the first attempt), two streams (SPUK for any
/// cohort, ENO for the Ondertussengroep only) with 2023 grants and spend, 2023 inflow and a scenario. Contract
/// UTR-A agreed an attendance norm of 95%, UTR-B one of 50%. A criteria set (NT2 share at least 80%, groups of at
/// most 16) and B1 results: Taal Noord 2023 NT2 85%, group 17; Taal Zuid 2023 NT2 70%, group 16, and 2022 NT2 75%,
/// group 12. Returns the contract ids (UTR-A, UTR-B).
pub(crate) async fn hand_built(app: &TestApp) -> (i64, i64) {
    app.login_as(Role::Admin).await;
    let a = contract(app, "Taal Noord BV", "12345678", "UTR-A").await;
    let b = contract(app, "Taal Zuid BV", "23456789", "UTR-B").await;
    let pa = placement(app, a, "K-10", "2023-02-01", "2025-01-31", "2023-01-02").await;
    let pb = placement(app, b, "K-20", "2023-02-01", "2025-01-31", "2023-01-02").await;
    for (p, attended, exam, first) in
        [(pa, "36", "lezen 20-02-2023 geslaagd", "2023-02-01"), (pb, "20", "lezen 20-02-2023 gezakt", "2023-03-01")]
    {
        let fields = [
            ("period", "2023-02"),
            ("first_lesson", first),
            ("offered", "40"),
            ("attended", attended),
            ("absence", "4"),
            ("absence_reason", "illness"),
            ("exams", exam),
        ];
        let r = report(app, p, &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    let spuk = stream_for(app, "SPUK", vec![], "2026-12-31").await;
    let eno = stream_for(app, "ENO", vec![Cohort::Wi2013], "2026-12-31").await;
    grant(app, spuk, "2023", "100.000,00").await;
    grant(app, eno, "2023", "20.000,00").await;
    rule(app, "7001", spuk, "").await;
    rule(app, "7002", eno, "").await;
    import_ledger(
        app,
        &[
            ledger_line("2023-03-01", "KP1", "7001", "Taalles", 300_000),
            ledger_line("2023-04-01", "KP1", "7002", "Ondertussen", 100_000),
        ],
    )
    .await;
    let (code, json) = import_inflow(
        app,
        &[
            ["2023-01", "asiel gehuisvest", "10"],
            ["2023-01", "asiel azc", "25"],
            ["2023-02", "gezin", "40"],
            ["2023-03", "overig", "3"],
            ["2023-K4", "wi2013", "700"],
            ["2023-K4", "elip", "90"],
            ["2022-06", "gezin", "30"],
        ],
        &[],
    );
    assert_eq!(code, 0, "{json}");
    let r = app
        .post_form(
            "/scenarios",
            &[
                ("name", "Basis"),
                ("description", ""),
                ("tariff_index", "2,5"),
                ("duration_b1", "30"),
                ("duration_z", "24"),
                ("duration_education", "36"),
                ("inflow", "2023; asiel; 30; 40; 50; 45; 40; 15; 10\n2023; gezin; 35; 45; 55; 55; 30; 15; 10"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    for (c, norm) in [(a, "95"), (b, "50")] {
        let r = app
            .post_form(
                &format!("/contracten/{c}/voortgangsafspraken"),
                &[("attendance_norm", norm), ("catch_up_rate", ""), ("hourly_rate", "")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    crate::quality::criteria_set(app).await;
    for (c, year, nt2, group) in [(a, "2023", "85", "17"), (b, "2023", "70", "16"), (b, "2022", "75", "12")] {
        let provider = taalbudget::store::contracts::get(&app.db, c).await.unwrap().unwrap().provider_id;
        let fields = [
            ("year", year),
            ("route", "b1"),
            ("started", "40"),
            ("completed", "30"),
            ("dropped_out", "4"),
            ("nt2_share", nt2),
            ("group_size", group),
        ];
        let r = app.post_form(&format!("/kwaliteit/aanbieders/{provider}/resultaten"), &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    (a, b)
}

#[tokio::test]
async fn the_indicators_of_a_hand_built_year_are_exact_and_the_same_as_on_their_source_screens() {
    let app = spawn_app().await;
    hand_built(&app).await;
    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    let (status, page) = finance.get_html("/indicatoren?jaar=2023").await;
    assert_eq!(status, StatusCode::OK);
    // Inflow 2021, 2022, 2023 side by side: 2022 has only June's 30 family migrants.
    assert!(page.contains(&row("Asielmigranten met huisvesting", &["0", "0", "10"])), "{page}");
    assert!(page.contains(&row("Gezinsmigranten", &["0", "30", "40"])), "{page}");
    // 10 + 25 + 40 + 3.
    assert!(page.contains(&row("Totaal", &["0", "30", "78"])), "{page}");
    // Against the scenario: asylum 10 + 25 = 35 (30/40/50); family and other 40 + 3 = 43 (35/45/55).
    assert!(page.contains(&row("Asielmigranten", &["35", "30", "40", "50"])), "{page}");
    assert!(page.contains(&row("Gezins- en overige migranten", &["43", "35", "45", "55"])), "{page}");
    assert!(page.contains("<td class=\"num\">700 (K4)</td>"), "{page}");

    // Starts 2023 on B1: one per provider, 2 in all (the scorecard shows 1 and 1).
    assert!(page.contains(&row("B1-route", &["–", "–", "2"])), "{page}");
    // Waiting: (30 + 58) / 2 = 44 days on average and as the median of two; both first lessons (01-02 and
    // 01-03-2023) fall on or before 02-04-2023, three months after the PIP: 100%. Attendance (36 + 20) / (40 + 40)
    // = 70%; reading 1 of 2 at the first attempt.
    assert!(page.contains(
        "<th scope=\"row\">B1-route</th><td class=\"num\">44</td><td class=\"num\">44</td><td class=\"num\">100%</td><td class=\"num\">70%</td><td>1 van 2 (50%)</td>"
    ), "{page}");
    // Both are Wi2021 placements: 2 starts for the cohort, as many as the routes' total.
    assert!(page.contains(&row("Wet inburgering 2021", &["0", "0", "2"])), "{page}");
    let (_, scorecard) = finance.get_html("/scorecard?van=2023&tot=2023").await;
    assert!(scorecard.contains("<th scope=\"row\">Taal Noord BV</th><td class=\"num\">1</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">30</td><td class=\"num\">90%</td>"));
    assert!(scorecard.contains("<th scope=\"row\">Taal Zuid BV</th><td class=\"num\">1</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">58</td><td class=\"num\">50%</td>"));

    // Providers: both contracts run on 31-12-2023 and both providers hold a mark that day.
    assert!(page.contains(&row("Met een lopend contract", &["0", "2", "2"])), "{page}");
    assert!(page.contains(&row("Waarvan met een geldig keurmerk", &["0", "2", "2"])), "{page}");

    // Money 2023 as on the reconciliation: SPUK 100.000,00 available, 3.000,00 actual, 97.000,00 remaining;
    // ENO 20.000,00, 1.000,00 and 19.000,00.
    let (_, reconciliation) = finance.get_html("/aansluiting?jaar=2023").await;
    for cents in [10_000_000, 300_000, 9_700_000, 2_000_000, 100_000, 1_900_000] {
        assert!(page.contains(&euros(cents)), "{} missing on the indicators", euros(cents));
        assert!(reconciliation.contains(&euros(cents)), "{} missing on the reconciliation", euros(cents));
    }
    assert!(page.contains(&format!(
        "<th scope=\"row\">Bron SPUK (SPUK)</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        euros(10_000_000),
        euros(300_000),
        euros(0),
        euros(9_700_000)
    )), "{page}");
    // 4.000,00 actual over 2 starts: 2.000,00 each; ENO's 1.000,00 is 25% of it; no ELIP-only stream.
    assert!(page.contains(&format!("Gerealiseerd, alle bronnen</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>", euros(0), euros(0), euros(400_000))), "{page}");
    assert!(
        page.contains(&format!(
            "Per gestarte deelnemer</a></th><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">{}</td>",
            euros(200_000)
        )),
        "{page}"
    );
    assert!(page.contains("Aandeel Ondertussengroep</a></th><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">25%</td>"), "{page}");
    assert!(
        page.contains(
            "Waarvan aandeel ELIP</a></th><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">–</td>"
        ),
        "{page}"
    );

    // The same figures from the one function the letter will use.
    let y = taalbudget::report::indicators::for_year(&app.db, 2023, None, taalbudget::domain::dates::today())
        .await
        .unwrap();
    assert_eq!(y.total.reported_starts(), Some(2));
    assert_eq!(y.starts_by_cohort.values().sum::<u32>(), y.total.starts, "cohorts add up to the routes' starts");
    assert_eq!(y.spend_per_start, Some(Money::from_cents(200_000)));
    assert_eq!(y.inflow.total(), 78);
    assert!(y.expectations.is_empty(), "no scenario asked for");

    // Each indicator's definition is one click away.
    let (status, defs) = finance.get_html("/indicatoren/definities").await;
    assert_eq!(status, StatusCode::OK);
    for d in taalbudget::report::indicators::DEFINITIONS {
        assert!(page.contains(&format!("/indicatoren/definities#{}", d.id)), "no link to {}", d.id);
        assert!(defs.contains(&format!("<dt id=\"{}\">", d.id)), "no definition {}", d.id);
    }
}

#[tokio::test]
async fn attendance_against_each_contracts_own_norm_and_results_against_the_norms_are_exact_and_as_on_their_screens() {
    let app = spawn_app().await;
    let (a, b) = hand_built(&app).await;
    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    let (status, page) = finance.get_html("/indicatoren?jaar=2023").await;
    assert_eq!(status, StatusCode::OK);
    // UTR-A: 36 of 40 hours = 90%, below its own 95% (36 * 10000 = 360000 < 40 * 9500 = 380000); UTR-B: 20 of 40
    // = 50%, exactly its own 50% norm (200000 = 200000): voldoet. Under a common 80% it would be the other way
    // round. No reports in 2021 or 2022.
    assert!(page.contains(&row("Met aangeboden uren", &["0", "0", "2"])), "{page}");
    assert!(page.contains(&row("Waarvan op of boven hun norm (voldoet)", &["0", "0", "1"])), "{page}");
    assert!(page.contains(&row("Waarvan onder hun norm", &["0", "0", "1"])), "{page}");
    assert!(page.contains(&format!("<th scope=\"row\"><a href=\"/contracten/{a}/voorwaarden#aanwezigheid\">UTR-A</a></th><td>Taal Noord BV</td><td class=\"num\">1</td><td class=\"num\">90%</td><td class=\"num\">95%</td><td><span class=\"status status-bad\">onder de norm</span></td>")), "{page}");
    assert!(page.contains(&format!("<th scope=\"row\"><a href=\"/contracten/{b}/voorwaarden#aanwezigheid\">UTR-B</a></th><td>Taal Zuid BV</td><td class=\"num\">1</td><td class=\"num\">50%</td><td class=\"num\">50%</td><td><span class=\"status status-ok\">voldoet</span></td>")), "{page}");
    // The same figures on each contract's own page (the source screen).
    let (_, terms) = finance.get_html(&format!("/contracten/{a}/voorwaarden")).await;
    assert!(terms.contains("<th scope=\"row\">2023</th><td class=\"num\">1</td><td class=\"num\">40</td><td class=\"num\">36</td><td class=\"num\">90%</td><td class=\"num\">95%</td><td><span class=\"status status-bad\">onder de norm</span></td>"), "{terms}");
    let (_, terms) = finance.get_html(&format!("/contracten/{b}/voorwaarden")).await;
    assert!(terms.contains("<th scope=\"row\">2023</th><td class=\"num\">1</td><td class=\"num\">40</td><td class=\"num\">20</td><td class=\"num\">50%</td><td class=\"num\">50%</td><td><span class=\"status status-ok\">voldoet</span></td>"), "{terms}");
    // And a provider's contracts add up to the scorecard's hours of that provider (the same reports, the same year).
    let today = taalbudget::domain::dates::today();
    let score = taalbudget::report::scorecard::rows(&app.db, (Grain::Year, 2022, 2023, today), None).await.unwrap();
    let per_contract = taalbudget::report::contract_attendance::per_year(&app.db, None).await.unwrap();
    assert_eq!(per_contract.len(), 2, "{per_contract:?}");
    for provider in ["Taal Noord BV", "Taal Zuid BV"] {
        for year in [2022, 2023] {
            let on_card = score.iter().filter(|r| r.provider == provider && r.period.year() == year);
            let on_card: (i64, i64) =
                on_card.fold((0, 0), |s, r| (s.0 + r.line.offered.x100(), s.1 + r.line.attended.x100()));
            let ours = per_contract.iter().filter(|h| h.provider_name == provider && h.year == year);
            let ours: (i64, i64) =
                ours.fold((0, 0), |s, h| (s.0 + h.against.offered.x100(), s.1 + h.against.attended.x100()));
            assert_eq!(ours, on_card, "{provider} {year}");
        }
    }

    // Results against the norms (NT2 share at least 80: amber from 72; groups at most 16: amber up to 17,6):
    // 2022: Zuid 75 amber, 12 green. 2023: Noord 85 green, 17 amber; Zuid 70 red, 16 green.
    assert!(page.contains(&row("Voldoet", &["0", "1", "2"])), "{page}");
    assert!(page.contains(&row("Net onder de norm", &["0", "1", "1"])), "{page}");
    assert!(page.contains(&row("Voldoet niet", &["0", "0", "1"])), "{page}");
    assert!(page.contains(&row("Aanbieders met minstens één ‘voldoet niet’", &["0", "0", "1"])), "{page}");
    let y = taalbudget::report::indicators::for_year(&app.db, 2023, None, today).await.unwrap();
    let names: Vec<(&str, u32, u32, u32)> =
        y.provider_norms.iter().map(|p| (p.provider.as_str(), p.counts.met, p.counts.near, p.counts.failed)).collect();
    assert_eq!(names, [("Taal Noord BV", 1, 1, 0), ("Taal Zuid BV", 1, 0, 1)]);
    assert_eq!((y.contracts_reporting, y.contracts_meeting_norm, y.contracts_below_norm), (2, 1, 1));
    // The dashboard shows each provider's latest meetjaar, 2023 for both: 1 of 2 norms met each (the indicator's
    // 2 comparisons that meet), and 1 provider with a result that does not meet its norm.
    let (_, dashboard) = finance.get_html("/kwaliteit").await;
    assert_eq!(dashboard.matches("Meetjaar 2023</a>: 1 van 2 normen gehaald").count(), 2, "{dashboard}");
    assert!(
        dashboard.contains("<strong>1</strong> aanbieders met een resultaat dat niet aan de norm voldoet"),
        "{dashboard}"
    );
    // And the provider report (every meetjaar, the same norms): Zuid's 2022 NT2 share is net onder de norm there.
    let zuid = taalbudget::store::contracts::get(&app.db, b).await.unwrap().unwrap().provider_id;
    let (_, report) = finance.get_html(&format!("/kwaliteit/aanbieders/{zuid}")).await;
    let norms = report.split("id=\"normen\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert_eq!(norms.matches("status status-warn").count(), 1, "{norms}");
    assert_eq!(norms.matches("status status-bad").count(), 1, "{norms}");
    assert_eq!(norms.matches("status status-ok").count(), 2, "{norms}");

    // The letter carries both as tables of their own, the same counts (2021, 2022, 2023).
    let letter = taalbudget::report::letter::load(&app.db, 2023, None, today, None).await.unwrap();
    let table = |id: &str| letter.sections.iter().flat_map(|s| &s.tables).find(|t| t.id == id).unwrap().clone();
    let texts = |t: &taalbudget::report::letter::Table| -> Vec<Vec<String>> {
        t.rows.iter().map(|r| r.cells.iter().map(|f| f.text()).collect()).collect()
    };
    assert_eq!(texts(&table("aanwezigheid-norm")), [["0", "0", "2"], ["0", "0", "1"], ["0", "0", "1"]]);
    assert_eq!(
        texts(&table("resultaten-normen")),
        [["0", "1", "2"], ["0", "1", "1"], ["0", "0", "1"], ["0", "0", "1"]]
    );
    assert!(table("resultaten-normen")
        .summary
        .contains("voldeden er 2, bleven er 1 net onder de norm en voldeden er 1 niet"));

    // The page reads kept sums; a changed norm is a change to their inputs: at 90%, UTR-A's 90% meets it.
    let r = app
        .post_form(
            &format!("/contracten/{a}/voortgangsafspraken"),
            &[("attendance_norm", "90"), ("catch_up_rate", ""), ("hourly_rate", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = finance.get_html("/indicatoren?jaar=2023").await;
    assert!(page.contains(&row("Waarvan op of boven hun norm (voldoet)", &["0", "0", "2"])), "{page}");
    assert!(
        page.contains(
            "<td class=\"num\">90%</td><td class=\"num\">90%</td><td><span class=\"status status-ok\">voldoet</span>"
        ),
        "{page}"
    );

    let (status, defs) = finance.get_html("/indicatoren/definities").await;
    assert_eq!(status, StatusCode::OK);
    for id in ["aanwezigheid-norm", "resultaten-normen"] {
        assert!(page.contains(&format!("/indicatoren/definities#{id}")), "no link to {id}");
        assert!(defs.contains(&format!("<dt id=\"{id}\">")), "no definition {id}");
    }
}

#[tokio::test]
async fn the_policy_adviser_sees_minder_dan_5_for_small_groups_on_the_indicators() {
    let app = spawn_app().await;
    hand_built(&app).await;
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let (status, page) = adviser.get_html("/indicatoren?jaar=2023").await;
    assert_eq!(status, StatusCode::OK);
    // Two B1 starts and 3 other migrants: fewer than 5; 40 family migrants and 700 in the Ondertussengroep: shown.
    assert!(page.contains("<th scope=\"row\">B1-route</th><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">minder dan 5</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Overige migranten</th><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">minder dan 5</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Gezinsmigranten</th><td class=\"num\">0</td><td class=\"num\">30</td><td class=\"num\">40</td>"));
    assert!(!page.contains("K-10"), "no participant data");
    // One reporting placement per contract: its attendance and outcome are hidden, the norm (an agreement) is not.
    assert!(page.contains("<td class=\"num\">minder dan 5</td><td class=\"num\">minder dan 5</td><td class=\"num\">95%</td><td>minder dan 5</td>"), "{page}");
    assert!(!page.contains("onder de norm</span>"), "{page}");
    // A year or scenario that is no number falls back instead of failing.
    assert_eq!(adviser.get("/indicatoren?jaar=abc&scenario=%27").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn report_indicatoren_writes_the_pages_figures_as_json_with_money_as_decimal_strings() {
    let app = spawn_app().await;
    hand_built(&app).await;
    let (code, json, out) = crate::inflow::cli(
        &app.db_path,
        &["report", "indicatoren", "--year", "2023", "--scenario", "Basis", "--format", "json"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(json["year"], 2023);
    assert_eq!(json["actual_total"], "4000.00");
    assert_eq!(json["spend_per_start"], "2000.00");
    assert_eq!(json["inflow"]["inflow"]["family"], 40);
    assert_eq!(json["inflow"]["waiting"]["wi2013"], serde_json::json!([4, 700]));
    assert_eq!(json["expectations"][0]["group"], "asylum");
    assert_eq!(json["expectations"][0]["actual"], 35);
    assert_eq!(json["expectations"][0]["expected"], 40);
    assert_eq!(json["streams"][0]["code"], "ENO");
    assert_eq!(json["streams"][0]["remaining"], "19000.00");
    assert_eq!(json["total"]["starts"], 2);
    assert_eq!(json["contracts_reporting"], 2);
    assert_eq!(json["contracts_below_norm"], 1);
    assert_eq!(json["contract_attendance"][0]["reference"], "UTR-A");
    assert_eq!(json["contract_attendance"][0]["attended"], "36.00");
    assert_eq!(json["contract_attendance"][0]["norm_pct"], "95.00");
    assert_eq!(json["contract_attendance"][0]["below_norm"], true);
    assert_eq!(json["norm_results"], serde_json::json!({"met": 2, "near": 1, "failed": 1}));
    assert_eq!(json["providers_failing_norm"], 1);
    let (code, _, out) =
        crate::inflow::cli(&app.db_path, &["report", "indicatoren", "--year", "2023", "--scenario", "Onbekend"]);
    assert_eq!(code, 2);
    assert!(out.contains("onbekend scenario 'Onbekend'"), "{out}");
}

/// A row of the page's year tables as HTML: its header and a figure per year.
fn row(th: &str, cells: &[&str]) -> String {
    let mut s = format!("<th scope=\"row\">{th}</th>");
    for c in cells {
        s.push_str(&format!("<td class=\"num\">{c}</td>"));
    }
    s
}

/// The text of the last cell of the row whose header holds `header`.
fn last_cell(page: &str, header: &str) -> String {
    let at = page.find(header).unwrap_or_else(|| panic!("no row {header}"));
    let row = &page[at..at + page[at..].find("</tr>").unwrap()];
    let last = row.rfind("<td class=\"num\">").unwrap() + "<td class=\"num\">".len();
    row[last..].trim_end_matches("</td>").to_string()
}

#[tokio::test]
async fn the_demo_indicators_agree_with_the_quality_dashboard_and_the_demo_inflow() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app.login_as(Role::ContractManager).await;
    let year = taalbudget::domain::dates::today().year();
    let (status, page) = app.get_html(&format!("/indicatoren?jaar={year}")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, dashboard) = app.get_html("/kwaliteit").await;
    let overdue = last_cell(&page, "Verbeterpunten over de streefdatum</a></th>");
    assert!(
        dashboard.contains(&format!("<strong>{overdue}</strong> verbeterpunten over de streefdatum")),
        "the indicator says {overdue}: {dashboard}"
    );
    // The demo's 2022 inflow (src/demo.rs): 118 housed + 185 AZC asylum migrants, 350 family, 76 other = 729.
    let (status, page) = app.get_html("/indicatoren?jaar=2022").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(last_cell(&page, "<th scope=\"row\">Asielmigranten met huisvesting</th>"), "118");
    assert_eq!(last_cell(&page, "<th scope=\"row\">Totaal</th>"), "729");
    // Against the demo's first scenario by name ("Basis"): 303 asylum migrants against 250 / 300 / 350.
    assert!(page.contains("<th scope=\"row\">Asielmigranten</th><td class=\"num\">303</td><td class=\"num\">250</td><td class=\"num\">300</td><td class=\"num\">350</td>"), "{page}");
    for y in 2023..=2025 {
        assert_eq!(app.get(&format!("/indicatoren?jaar={y}")).await.status(), StatusCode::OK);
    }

    // Both norm indicators have something to say in every year of the demo's progress.
    let today = taalbudget::domain::dates::today();
    let ind = taalbudget::report::indicators::for_years(&app.db, &[2022, 2023, 2024, year - 1], None, today, None)
        .await
        .unwrap();
    for y in &ind.years[..3] {
        assert!(y.contracts_meeting_norm > 0 && y.contracts_below_norm > 0, "{}: {y:?}", y.year);
        assert_eq!(y.contracts_reporting, y.contracts_meeting_norm + y.contracts_below_norm);
        assert!(y.norm_results.met > 0 && y.norm_results.failed > 0 && y.providers_failing_norm > 0, "{}", y.year);
    }
    // The dashboard's meetjaar (each provider's latest: last year) has the dashboard's counts: the norms met per
    // provider add up to the indicator's, and its card counts the providers with a "voldoet niet".
    let latest = &ind.years[3];
    let marker = format!("Meetjaar {}</a>: ", year - 1);
    let (mut met, mut all) = (0, 0);
    for part in dashboard.split(&marker).skip(1) {
        let (m, rest) = part.split_once(" van ").unwrap();
        met += m.parse::<u32>().unwrap();
        all += rest.split_once(' ').unwrap().0.parse::<u32>().unwrap();
    }
    assert_eq!((met, all), (latest.norm_results.met, latest.norm_results.total()), "{dashboard}");
    assert!(dashboard.contains(&format!(
        "<strong>{}</strong> aanbieders met een resultaat dat niet aan de norm voldoet",
        latest.providers_failing_norm
    )));
}
