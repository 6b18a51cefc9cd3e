//! Progress over HTTP: the placement timeline with its warnings, reports and route changes entered on screen,
//! the invoice check with a decision on a difference, and the provider scorecard with its xlsx export.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::store;

use crate::helpers::{certified_provider, id_from, import_ledger, ledger_line, location, spawn_app, TestApp};

/// A certified provider with a contract for B1 (10.000,00; 40/30/30) and Z (8.000,00; 50/50).
pub(crate) async fn contract(app: &TestApp, name: &str, kvk: &str, reference: &str) -> i64 {
    let provider = certified_provider(app, name, kvk).await;
    let p = provider.to_string();
    let r = app
        .post_form(
            "/contracten",
            &[
                ("reference", reference),
                ("title", "B1- en Z-route"),
                ("provider_id", &p),
                ("routes", "b1"),
                ("routes", "z"),
                ("start_date", "2022-01-01"),
                ("initial_end_date", "2025-12-31"),
                ("ceiling", "1.000.000,00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let id = id_from(&location(&r), "/contracten/");
    for (route, amount) in [("b1", "10.000,00"), ("z", "8.000,00")] {
        let r = app
            .post_form(
                &format!("/contracten/{id}/tarieven"),
                &[("route", route), ("valid_from", "2022-01-01"), ("valid_until", ""), ("amount", amount)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let b1 = [
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
    ];
    let z = [
        ("route", "z"),
        ("name_1", "Start"),
        ("share_1", "50"),
        ("due_1", "start"),
        ("name_2", "Afronding"),
        ("share_2", "50"),
        ("due_2", "completion"),
    ];
    for fields in [&b1[..], &z[..]] {
        let r = app.post_form(&format!("/contracten/{id}/betaalmomenten"), fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    id
}

pub(crate) async fn placement(app: &TestApp, contract: i64, client: &str, start: &str, end: &str, pip: &str) -> i64 {
    let c = contract.to_string();
    let r = app
        .post_form(
            "/plaatsingen",
            &[
                ("client_number", client),
                ("cohort", "wi2021"),
                ("contract_id", &c),
                ("route", "b1"),
                ("start_date", start),
                ("planned_end", end),
                ("status", "started"),
                ("pip_date", pip),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    id_from(&location(&r), "/plaatsingen/")
}

pub(crate) async fn report(app: &TestApp, placement: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(&format!("/plaatsingen/{placement}/voortgang"), fields).await
}

async fn reports(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM progress_report").fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn the_timeline_shows_attendance_exams_and_each_warning_and_refuses_bad_reports() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let c = contract(&app, "Taal BV", "12345678", "UTR-1").await;
    let p = placement(&app, c, "K-1", "2022-03-01", "2024-02-29", "2022-01-10").await;
    let ok = |r: reqwest::Response| async move {
        let s = r.status();
        assert_eq!(s, StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    };
    ok(report(
        &app,
        p,
        &[
            ("period", "2022-04"),
            ("first_lesson", "2022-04-11"),
            ("offered", "40"),
            ("attended", "20"),
            ("absence", "20"),
            ("absence_reason", "illness"),
            ("exams", "lezen 12-04-2022 gezakt; lezen 28-04-2022 gezakt"),
        ],
    )
    .await)
    .await;
    ok(report(
        &app,
        p,
        &[
            ("period", "2022-05"),
            ("offered", "40"),
            ("attended", "31,5"),
            ("absence", "8,5"),
            ("absence_reason", "own_fault"),
            ("exams", "lezen 10-05-2022 gezakt"),
            ("level_reading", "a2"),
        ],
    )
    .await)
    .await;
    assert_eq!(reports(&app).await, 2);
    assert_eq!(app.audit_count("progress_report").await, 2);

    // Bad input: a clear message, nothing saved.
    for (fields, message) in [
        (vec![("period", "2022-06"), ("offered", "10"), ("attended", "12")], "Er zijn meer uren aanwezig (12) dan aangeboden (10); dat kan niet."),
        (vec![("period", "2022-06"), ("offered", "-1"), ("attended", "0")], "een aantal uren kan niet negatief zijn"),
        (vec![("period", "2022-02"), ("offered", "10"), ("attended", "5")], "De periode februari 2022 ligt vóór de start van de plaatsing (01-03-2022)."),
        (vec![("period", "2022-06"), ("offered", "10"), ("attended", "5"), ("exams", "rekenen 01-06-2022 geslaagd")], "Examens: onbekend examenonderdeel"),
        (vec![("period", "2022-05"), ("offered", "40"), ("attended", "40")], "Conflict: voor deze periode is al een rapportage opgeslagen met andere cijfers (uren aanwezig, uren verzuim, reden verzuim, niveaus, examens)"),
        (vec![("period", "2022-K2"), ("offered", "40"), ("attended", "40")], "Deze periode overlapt met de rapportage over april 2022."),
    ] {
        let r = report(&app, p, &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
    }
    assert_eq!(reports(&app).await, 2);

    let (status, page) = app.get_html(&format!("/plaatsingen/{p}/tijdlijn")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Late start: de lessen begonnen op 11-04-2022, meer dan 3 maanden na het PIP van 10-01-2022 (uiterlijk 10-04-2022)"), "{page}");
    assert!(
        page.contains(
            "Aanwezigheid onder de norm van 80% in twee of meer perioden na elkaar: april 2022 tot en met mei 2022."
        ),
        "{page}"
    );
    assert!(
        page.contains("die de gemeente niet betaalt (niet gefinancierd): 3e poging lezen op 10-05-2022."),
        "{page}"
    );
    assert_eq!(page.matches("<strong>Let op: </strong>").count(), 3, "one line per kind of warning: {page}");
    assert!(page.contains("<td class=\"num\">51,5</td>"), "cumulative hours");
    assert!(page.contains("78,8% (onder de norm)"));
    assert!(page.contains("lezen 28-04-2022: gezakt (poging 2)"));
    assert!(!page.contains("zonder vooruitgang naar B1"), "far below 600 hours");

    // A lower norm on the contract removes the attendance warning (78,8% is above 75%).
    let r = app
        .post_form(
            &format!("/contracten/{c}/voortgangsafspraken"),
            &[("attendance_norm", "75"), ("catch_up_rate", ""), ("hourly_rate", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_html(&format!("/plaatsingen/{p}/tijdlijn")).await;
    assert!(!page.contains("Aanwezigheid onder de norm"), "{page}");

    // Participant data: not for the policy adviser.
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    assert_eq!(adviser.get(&format!("/plaatsingen/{p}/tijdlijn")).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_route_change_keeps_what_was_due_and_recalculates_the_contract_figures() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let c = contract(&app, "Taal BV", "12345678", "UTR-1").await;
    let p = placement(&app, c, "K-2", "2022-09-01", "2024-08-31", "").await;
    let (_, page) = app.get_html(&format!("/contracten/{c}/betalingen")).await;
    assert!(page.contains("<strong>€ 10.000,00</strong>"), "{page}");

    let r = app
        .post_form(
            &format!("/plaatsingen/{p}/routewijzigingen"),
            &[("kind", "resume"), ("decision_date", "2023-10-01"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Er is geen pauze om te hervatten."));
    let r = app
        .post_form(
            &format!("/plaatsingen/{p}/routewijzigingen"),
            &[
                ("kind", "switch"),
                ("new_route", "z"),
                ("decision_date", "2023-10-01"),
                ("reason", "600 uur zonder B1-vooruitgang"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert_eq!(app.audit_count("route_change").await, 1);

    // B1 start 4.000 (2022) and interim 3.000 (due 01-09-2023) stay; Z completion 4.000 replaces B1's 3.000.
    let (_, page) = app.get_html(&format!("/plaatsingen/{p}")).await;
    assert!(page.contains("<strong>€ 11.000,00</strong>"), "{page}");
    assert!(page.contains("Afronding (Z)"));
    let (_, page) = app.get_html(&format!("/contracten/{c}/betalingen")).await;
    assert!(page.contains("<strong>€ 11.000,00</strong>"), "{page}");
    let (_, page) = app.get_html(&format!("/plaatsingen/{p}/tijdlijn")).await;
    assert!(page.contains("Overstap naar Z-route"));
    assert!(page.contains("Huidige leerroute</dt><dd>Z-route"));

    // Stop: nothing after the stop date, and the placement counts as dropped out.
    let r = app
        .post_form(
            &format!("/plaatsingen/{p}/routewijzigingen"),
            &[("kind", "stop"), ("decision_date", "2024-01-15"), ("reason", "verhuisd")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let placement = store::placements::get(&app.db, p).await.unwrap().unwrap();
    assert_eq!(placement.schedule.status.code(), "dropped_out");
    let (_, page) = app.get_html(&format!("/contracten/{c}/betalingen")).await;
    assert!(page.contains("<strong>€ 7.000,00</strong>"), "{page}");
}

#[tokio::test]
async fn the_invoice_check_finds_an_invoice_the_attendance_does_not_support_and_a_claim_back_is_audited() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let c = contract(&app, "Taal BV", "12345678", "UTR-1").await;
    let absent = placement(&app, c, "K-3", "2023-03-10", "2025-03-09", "").await;
    let present = placement(&app, c, "K-4", "2023-03-20", "2025-03-19", "").await;
    for (p, attended) in [(absent, "0"), (present, "8")] {
        let r = report(
            &app,
            p,
            &[
                ("period", "2023-03"),
                ("offered", "10"),
                ("attended", attended),
                ("absence", "2"),
                ("absence_reason", "other"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // One invoice of 9.000,00 for March, attributed to the contract.
    let o = import_ledger(&app, &[ledger_line("2023-03-28", "KP-INB", "20001", "Starts maart", 900_000)]).await;
    assert_eq!(o.summary.rows_imported, 1);
    let stream = store::funding::create_stream(
        &app.db,
        &taalbudget::domain::funding::FundingStream {
            id: 0,
            code: "SPUK".into(),
            name: "SPUK".into(),
            kind: taalbudget::domain::funding::StreamKind::Other,
            cohorts: vec![],
            spend_from: taalbudget::domain::dates::parse_iso("2022-01-01").unwrap(),
            spend_until: None,
            carry_over: false,
            notes: String::new(),
        },
        "test",
    )
    .await
    .unwrap();
    let entry: i64 = sqlx::query_scalar("SELECT id FROM ledger_entry").fetch_one(&app.db).await.unwrap();
    store::attribution::assign_manually(&app.db, entry, stream, Some(c), "factuur UTR-1", "test").await.unwrap();

    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    let url = format!("/factuurcontrole?contract={c}&periode=2023-03");
    let (status, page) = finance.get_html(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Te betalen volgens het contract</th><td class=\"num\">€ 8.000,00"), "{page}");
    assert!(page.contains("Gefactureerd (grootboek)</th><td class=\"num\">€ 9.000,00"));
    assert!(page.contains("Onderbouwd door de voortgang</th><td class=\"num\">€ 4.000,00"));
    assert!(page.contains("Gefactureerd min onderbouwd</th><td class=\"num\">€ 5.000,00"));
    assert!(page.contains("Start € 4.000,00: niet onderbouwd (geen aanwezigheid gerapporteerd)"));
    assert!(!page.contains("Besluit vastleggen"), "finance reads, does not decide");
    let fields = [
        ("contract", c.to_string()),
        ("periode", "2023-03".to_string()),
        ("placement", absent.to_string()),
        ("decision", "claim_back".to_string()),
        ("reason", "Geen lessen gevolgd in maart".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(finance.post_form("/factuurcontrole/besluiten", &fields).await.status(), StatusCode::FORBIDDEN);

    let r = app
        .post_form("/factuurcontrole/besluiten", &[fields[0], fields[1], fields[2], fields[3], ("reason", " ")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Geef een reden voor het besluit."));
    let r = app.post_form("/factuurcontrole/besluiten", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("invoice_difference").await, 1);
    let (amount, decision): (i64, String) =
        sqlx::query_as("SELECT amount_cents, decision FROM invoice_difference").fetch_one(&app.db).await.unwrap();
    assert_eq!((amount, decision.as_str()), (400_000, "claim_back"));
    let (_, page) = finance.get_html(&url).await;
    assert!(page.contains("Terugvordering: Geen lessen gevolgd in maart"), "{page}");

    // A per-hour arrangement on the contract: K-4's 8 attended hours at 12,50 are payable and supported.
    let terms = format!("/contracten/{c}/voortgangsafspraken");
    let r = app.post_form(&terms, &[("attendance_norm", "120"), ("catch_up_rate", ""), ("hourly_rate", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Een aandeel ligt tussen 0 en 100 procent"));
    let r = app.post_form(&terms, &[("attendance_norm", "80"), ("catch_up_rate", ""), ("hourly_rate", "12,50")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = finance.get_html(&url).await;
    assert!(page.contains("Aanwezige uren 8: € 100,00"), "{page}");
    assert!(page.contains("Te betalen volgens het contract</th><td class=\"num\">€ 8.100,00"));
    assert!(page.contains("Onderbouwd door de voortgang</th><td class=\"num\">€ 4.100,00"));
}

/// The check reads only the reports it needs (those of the period and each placement's first report with
/// attendance): a milestone is still supported by attendance reported long before the checked period, and still
/// unsupported when the only attendance came after its due date.
#[tokio::test]
async fn the_invoice_check_counts_attendance_reported_before_the_period_and_not_after_the_due_date() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let c = contract(&app, "Taal BV", "12345678", "UTR-1").await;
    // Tussentijds (30% of 10.000,00) falls due twelve months after the start: 10-03-2024 and 20-03-2024.
    let early = placement(&app, c, "K-5", "2023-03-10", "2025-03-09", "").await;
    let late = placement(&app, c, "K-6", "2023-03-20", "2025-03-19", "").await;
    // Nothing due in March 2024; paid per attended hour for March.
    let hours = placement(&app, c, "K-7", "2023-04-01", "2025-03-31", "").await;
    let reports = [(early, "2023-03", "8"), (late, "2023-03", "0"), (late, "2024-04", "6"), (hours, "2024-03", "5")];
    for (p, period, attended) in reports {
        let absence = (10 - attended.parse::<i64>().unwrap()).to_string();
        let fields = [
            ("period", period),
            ("offered", "10"),
            ("attended", attended),
            ("absence", absence.as_str()),
            ("absence_reason", "other"),
        ];
        let r = report(&app, p, &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    let terms = format!("/contracten/{c}/voortgangsafspraken");
    let r = app.post_form(&terms, &[("attendance_norm", "80"), ("catch_up_rate", ""), ("hourly_rate", "12,50")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The month and its quarter give the same check: K-5's 3.000,00 supported by its report of March 2023, K-6's
    // not (it attended only after 20-03-2024), K-7's 5 hours x 12,50 = 62,50 payable and supported.
    for periode in ["2024-03", "2024-K1"] {
        let (status, page) = app.get_html(&format!("/factuurcontrole?contract={c}&periode={periode}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Per plaatsing (3)"), "{periode}: {page}");
        assert!(page.contains("Te betalen volgens het contract</th><td class=\"num\">€ 6.062,50"), "{periode}: {page}");
        assert!(page.contains("Onderbouwd door de voortgang</th><td class=\"num\">€ 3.062,50"), "{periode}: {page}");
        let row = |client: &str| {
            let from = page.find(&format!(">{client}</a>")).unwrap_or_else(|| panic!("{client} listed: {page}"));
            page[from..].split("</tr>").next().unwrap().to_string()
        };
        assert!(row("K-5").contains("Tussentijds € 3.000,00: onderbouwd<br>"), "{}", row("K-5"));
        assert!(
            row("K-6").contains("Tussentijds € 3.000,00: niet onderbouwd (geen aanwezigheid gerapporteerd)"),
            "{}",
            row("K-6")
        );
        assert!(row("K-7").contains("Aanwezige uren 5: € 62,50"), "{}", row("K-7"));
    }
    // A month with nothing due and no hours lists nobody.
    let (_, page) = app.get_html(&format!("/factuurcontrole?contract={c}&periode=2024-02")).await;
    assert!(page.contains("Per plaatsing (0)"), "{page}");
}

#[tokio::test]
async fn the_scorecard_compares_providers_per_route_and_year_and_exports_xlsx() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let a = contract(&app, "Taal Noord BV", "12345678", "UTR-A").await;
    let b = contract(&app, "Taal Zuid BV", "23456789", "UTR-B").await;
    let pa = placement(&app, a, "K-10", "2023-02-01", "2025-01-31", "2023-01-02").await;
    let pb = placement(&app, b, "K-20", "2023-02-01", "2025-01-31", "2023-01-02").await;
    for (p, attended, exam, first) in
        [(pa, "36", "lezen 20-02-2023 geslaagd", "2023-02-01"), (pb, "20", "lezen 20-02-2023 gezakt", "2023-03-01")]
    {
        let r = report(
            &app,
            p,
            &[
                ("period", "2023-02"),
                ("first_lesson", first),
                ("offered", "40"),
                ("attended", attended),
                ("absence", "4"),
                ("absence_reason", "illness"),
                ("exams", exam),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    // One participant per provider: the policy adviser sees "minder dan 5" (tests/api/small_cells.rs), finance
    // the figures.
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let (status, page) = adviser.get_html("/scorecard?van=2023&tot=2023").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<th scope=\"row\">Taal Noord BV</th><td class=\"num\">minder dan 5</td>"), "{page}");
    assert!(!page.contains("K-10"), "no participant data on the scorecard");
    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    let (status, page) = finance.get_html("/scorecard?van=2023&tot=2023").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h2>2023, B1-route</h2>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Taal Noord BV</th><td class=\"num\">1</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">30</td><td class=\"num\">90%</td>"), "{page}");
    assert!(page.contains("<th scope=\"row\">Taal Zuid BV</th><td class=\"num\">1</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">58</td><td class=\"num\">50%</td>"), "{page}");
    assert!(page.contains("1 van 1 (100%)"));
    assert!(page.contains("0 van 1 (0%)"));
    assert!(!page.contains("K-10"), "no participant data on the scorecard");

    let r = finance.get("/scorecard.xlsx?van=2023&tot=2023").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("scorecard-aanbieders-2023-2023.xlsx"));
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range("Scorecard").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0][..8],
        [
            "Jaar",
            "Route",
            "Aanbieder",
            "Starts (leeg: geen rapportages)",
            "Lopende plaatsingen",
            "Met rapportage",
            "Gem. wachttijd (dagen)",
            "Aanwezigheid (%)"
        ]
    );
    assert_eq!(rows[1][..8], ["2023", "B1", "Taal Noord BV", "1", "1", "1", "30", "90"]);
    assert_eq!(rows[2][2..8], ["Taal Zuid BV", "1", "1", "1", "58", "50"]);
}

/// A bad norm or rate on the progress terms form: the contract page again (422) with the Dutch message next to
/// each field, the values as typed, and nothing saved or audited.
#[tokio::test]
async fn a_bad_norm_or_rate_shows_the_terms_form_again_with_the_message_next_to_the_field() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let c = contract(&app, "Taal Noord BV", "12345678", "UTR-A").await;
    let terms = format!("/contracten/{c}/voortgangsafspraken");
    let stored = || async {
        let row: (i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT attendance_norm_bp, catch_up_rate_cents, hourly_rate_cents FROM contract WHERE id = ?",
        )
        .bind(c)
        .fetch_one(&app.db)
        .await
        .unwrap();
        let audits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&app.db).await.unwrap();
        (row, audits)
    };
    let before = stored().await;
    assert_eq!(before.0, (8000, None, None));

    let r =
        app.post_form(&terms, &[("attendance_norm", "120"), ("catch_up_rate", "-5"), ("hourly_rate", "12,50")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("<h1>UTR-A: "), "the contract page, not a bare error page: {page}");
    assert!(page.contains("Er is iets niet goed ingevuld"), "{page}");
    let norm_error = page.find("id=\"attendance_norm-error\"").expect("the norm's message next to it");
    assert!(page[norm_error..].starts_with("id=\"attendance_norm-error\"><span class=\"visually-hidden\">Fout: </span>Een aandeel ligt tussen 0 en 100 procent; '120' niet. De aanwezigheidsnorm is een percentage, bijvoorbeeld 80."), "{}", &page[norm_error..]);
    assert!(page.contains("id=\"catch_up_rate-error\"><span class=\"visually-hidden\">Fout: </span>Een tarief kan niet negatief zijn."), "{page}");
    assert!(!page.contains("id=\"hourly_rate-error\""), "a good field has no message");
    assert!(page.contains("name=\"attendance_norm\" value=\"120\""), "entered values kept: {page}");
    assert!(page.contains("name=\"catch_up_rate\" value=\"-5\""));
    assert!(page.contains("name=\"hourly_rate\" value=\"12,50\""));
    assert!(page.contains("aria-invalid=\"true\""));
    assert_eq!(stored().await, before, "nothing saved, nothing audited");

    // An empty norm and a rate that is no amount.
    let r = app.post_form(&terms, &[("attendance_norm", " "), ("catch_up_rate", "veel"), ("hourly_rate", "")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Vul een aanwezigheidsnorm in"), "{page}");
    assert!(
        page.contains("id=\"catch_up_rate-error\"><span class=\"visually-hidden\">Fout: </span>Tarief: "),
        "{page}"
    );
    assert!(page.contains("name=\"catch_up_rate\" value=\"veel\""));
    assert_eq!(stored().await, before);

    // Corrected: saved, one audit row.
    let r =
        app.post_form(&terms, &[("attendance_norm", "75,5"), ("catch_up_rate", "45"), ("hourly_rate", "12,50")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = stored().await;
    assert_eq!(after.0, (7550, Some(4500), Some(1250)));
    assert_eq!(after.1, before.1 + 1);
    let (_, page) = app.get_html(&format!("/contracten/{c}/voorwaarden")).await;
    assert!(page.contains("name=\"attendance_norm\" value=\"75,50\""), "{page}");
}

/// The quarter view: a start on the last day of Q1 and the April report in Q2, each in its own table; the
/// export follows the choice (a Kwartaal column with 2023-K1 / 2023-K2, a file name that says per quarter).
#[tokio::test]
async fn the_scorecard_per_quarter_splits_at_the_quarter_boundary_and_the_export_follows() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let a = contract(&app, "Taal Noord BV", "12345678", "UTR-A").await;
    let pa = placement(&app, a, "K-10", "2023-02-01", "2025-01-31", "2023-01-02").await;
    for fields in [
        [("period", "2023-03"), ("first_lesson", "2023-03-31"), ("offered", "4"), ("attended", "4"), ("absence", "0")],
        [("period", "2023-04"), ("first_lesson", ""), ("offered", "40"), ("attended", "30"), ("absence", "10")],
    ] {
        let mut f = fields.to_vec();
        f.push(("absence_reason", "illness"));
        let r = report(&app, pa, &f).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    let finance = app.other_browser();
    finance.login_as(Role::Finance).await;
    let (status, page) = finance.get_html("/scorecard?periode=kwartaal&jaar=2023").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<option value=\"kwartaal\" selected>Per kwartaal</option>"), "{page}");
    let q1 = page.find("<h2>1e kwartaal 2023, B1-route</h2>").expect("a table for Q1");
    let q2 = page.find("<h2>2e kwartaal 2023, B1-route</h2>").expect("a table for Q2");
    let q3 = page.find("<h2>3e kwartaal 2023, B1-route</h2>").expect("the placement runs on in Q3");
    // Q1: the start (88 days after the PIP date), 4 of 4 hours; Q2: no start, 30 of 40 hours; Q3: nothing reported.
    assert!(page[q1..q2].contains("<th scope=\"row\">Taal Noord BV</th><td class=\"num\">1</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">88</td><td class=\"num\">100%</td><td class=\"num\">0</td>"), "{page}");
    assert!(page[q2..q3].contains("<th scope=\"row\">Taal Noord BV</th><td class=\"num\">0</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">–</td><td class=\"num\">75%</td><td class=\"num\">10</td>"), "{page}");
    assert!(page[q3..].contains("<th scope=\"row\">Taal Noord BV</th><td class=\"num\">geen rapportages</td><td>0 van 1 lopende plaatsing</td><td class=\"num\">–</td><td class=\"num\">–</td>"), "{page}");
    assert!(page.contains("href=\"/scorecard.xlsx?periode=kwartaal&amp;van=2023&amp;tot=2023\""), "{page}");

    // The year view of the same data has one line with both.
    let (_, page) = finance.get_html("/scorecard?jaar=2023").await;
    assert!(page.contains("<h2>2023, B1-route</h2>"), "{page}");
    assert!(
        page.contains(
            "<td class=\"num\">1</td><td>1 van 1 lopende plaatsing</td><td class=\"num\">88</td><td class=\"num\">77,3%</td><td class=\"num\">10</td>"
        ),
        "{page}"
    );

    let r = finance.get("/scorecard.xlsx?periode=kwartaal&van=2023&tot=2023").await;
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("scorecard-aanbieders-per-kwartaal-2023-2023.xlsx"), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range("Scorecard").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(rows[0][..4], ["Kwartaal", "Route", "Aanbieder", "Starts (leeg: geen rapportages)"]);
    assert_eq!(rows[1][..8], ["2023-K1", "B1", "Taal Noord BV", "1", "1", "1", "88", "100"]);
    assert_eq!(rows[2][..8], ["2023-K2", "B1", "Taal Noord BV", "0", "1", "1", "", "75"]);
    assert_eq!(rows[3][..8], ["2023-K3", "B1", "Taal Noord BV", "", "1", "0", "", ""]);
}

/// The demo: monthly reports for 2022-2024 only (the same whatever today is), late starts, both route changes,
/// third attempts, one provider below the norm, and exactly one month in those years in which an invoiced
/// milestone has no attendance behind it (besides the demo's credit note).
#[tokio::test]
async fn the_demo_has_progress_and_exactly_one_invoice_the_attendance_does_not_support() {
    use taalbudget::domain::commitment::placement_payments;
    use taalbudget::domain::invoice_check::{check, PlacementInput};
    use taalbudget::domain::progress::{actual_start, late_start, low_attendance, unfunded_attempts, Period};
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    let contracts = store::contracts::list(&app.db).await.unwrap();
    let all = store::progress::all_reports(&app.db).await.unwrap();
    assert!(all.len() > 5_000, "{}", all.len());
    let first = all.iter().map(|r| r.draft.period).min().unwrap();
    let last = all.iter().map(|r| r.draft.period).max().unwrap();
    assert_eq!((first.code(), last.code()), ("2022-01".to_string(), "2024-12".to_string()));
    let changes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM route_change").fetch_one(&app.db).await.unwrap();
    assert_eq!(changes, 3, "a switch, and a pause with its resume");
    let by_placement = store::progress::by_placement(all);
    let placements = store::placements::list(&app.db, None).await.unwrap();
    let third = by_placement.values().filter(|r| !unfunded_attempts(r).is_empty()).count();
    assert!(third >= 3, "{third}");
    let low: std::collections::BTreeSet<i64> = placements
        .iter()
        .filter(|p| by_placement.get(&p.id).is_some_and(|r| !low_attendance(r, 8000).is_empty()))
        .map(|p| p.contract_id)
        .collect();
    let low_refs: Vec<&str> = contracts.iter().filter(|c| low.contains(&c.id)).map(|c| c.reference.as_str()).collect();
    assert_eq!(low_refs, ["UTR-TAAL-2022-02"]);
    let today = taalbudget::domain::dates::today();
    let late = placements
        .iter()
        .filter(|p| {
            let started = by_placement.get(&p.id).and_then(|r| actual_start(r));
            started.is_some_and(|s| s.year() <= 2024) && late_start(p.pip_date, started, today).is_some()
        })
        .count();
    assert!(late >= 3, "a few late starts: {late}");

    let mut found = Vec::new();
    let empty = Vec::new();
    let cache = taalbudget::report::commitments::PortfolioCache::default();
    for c in &contracts {
        let ps: Vec<_> = placements.iter().filter(|p| p.contract_id == c.id).collect();
        let pays: Vec<_> =
            ps.iter().map(|p| placement_payments(&c.terms, p.route, &p.schedule).unwrap_or_default()).collect();
        let mut period = Period::parse("2022-01").unwrap();
        // The years the demo has reports for; later invoices have no report to check against.
        while period <= Period::parse("2024-12").unwrap() && period.end() < today {
            let inputs = ps.iter().zip(&pays).map(|(p, pay)| PlacementInput {
                placement_id: p.id,
                client_number: p.client_number.as_str(),
                payments: pay,
                reports: by_placement.get(&p.id).unwrap_or(&empty),
            });
            let invoiced = store::progress::invoiced(&app.db, c.id, period).await.unwrap();
            let ch = check(period, inputs, Default::default(), invoiced);
            // The page's check (payments from the kept portfolio, only the reports it needs) is this one exactly.
            let kept = taalbudget::report::invoice_check::load(&app.db, Some(&cache), c.id, period).await.unwrap();
            assert_eq!(kept.as_ref(), Some(&ch), "{} {}", c.reference, period.code());
            for d in ch.differences() {
                found.push(format!("{} {} {} {}", c.reference, period.code(), d.client_number, d.unsupported()));
            }
            if !ch.over_payable().is_zero() {
                found.push(format!("{} {} factuur {}", c.reference, period.code(), ch.over_payable()));
            }
            period = period.next();
        }
    }
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("UTR-TAAL-2022-01 2024-04 factuur € -4.150,00"), "{found:?}");
    // The demo's dates follow today (placements are only made up to today), so the month of the one
    // unsupported per-placement invoice moves within 2023; that there is exactly one is what the demo promises.
    assert!(found[1].starts_with("UTR-TAAL-2022-02 2023-") && found[1].contains(" K"), "{found:?}");
}

/// Migration 0010 rebuilds import_batch (for its kind list) on a database that has batches other tables refer
/// to: every batch stays, every reference still resolves and is still enforced, and 'progress' is accepted.
#[tokio::test]
async fn migration_0010_rebuilds_import_batch_keeping_every_batch_and_reference() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oud.db");
    let opts = SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
    let up_to_8 = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(store::MIGRATOR.iter().filter(|m| m.version <= 8).cloned().collect()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    up_to_8.run(&pool).await.unwrap();
    let sha = "a".repeat(64);
    sqlx::raw_sql(&format!(
        "INSERT INTO import_batch (id, kind, template, file_name, file_sha256, imported_by, imported_at, rows_read)
             VALUES (7, 'ledger', 'standaard-grootboek', 'g.xlsx', '{sha}', 'f', '2024-01-01', 1),
                    (8, 'providers', 'standaard-aanbieders', 'a.xlsx', '{sha}', 'f', '2024-01-02', 1);
         INSERT INTO ledger_entry (batch_id, source_row, identity, booking_date, gl_account, cost_centre, description, amount_cents)
             VALUES (7, 2, zeroblob(16), '2023-01-01', '4301', 'KP', 'x', 12345);
         INSERT INTO provider (name, kvk, created_at, updated_at, batch_id) VALUES ('Taal BV', '12345678', 'x', 'x', 8);"
    ))
    .execute(&pool)
    .await
    .unwrap();
    store::MIGRATOR.run(&pool).await.unwrap();
    let batches: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, kind, rows_read FROM import_batch ORDER BY id").fetch_all(&pool).await.unwrap();
    assert_eq!(batches, [(7, "ledger".to_string(), 1), (8, "providers".to_string(), 1)]);
    let problems: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_check").fetch_one(&pool).await.unwrap();
    assert_eq!(problems, 0);
    // The references still point at import_batch and are enforced.
    assert!(sqlx::query("DELETE FROM import_batch WHERE id = 7").execute(&pool).await.is_err());
    sqlx::query(&format!(
        "INSERT INTO import_batch (kind, template, file_name, file_sha256, imported_by, imported_at)
         VALUES ('progress', 'standaard-voortgang', 'v.xlsx', '{sha}', 'f', '2024-01-03')"
    ))
    .execute(&pool)
    .await
    .unwrap();
    assert!(sqlx::query(&format!(
        "INSERT INTO import_batch (kind, template, file_name, file_sha256, imported_by, imported_at)
         VALUES ('iets', 't', 'v.xlsx', '{sha}', 'f', '2024-01-03')"
    ))
    .execute(&pool)
    .await
    .is_err());
}
