//! The small-cell rule: the policy adviser sees no figure of a group of fewer than 5 participants on the
//! scorecard (page and xlsx) and the overview's drill-down, but "minder dan 5"; a group of 5 is shown, and
//! roles that may read participants see every figure.

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::funding::{FundingStream, StreamKind};
use taalbudget::domain::route::Cohort;
use taalbudget::store;

use crate::helpers::{spawn_app, TestApp};
use crate::progress::{contract, placement, report};

/// Contract UTR-A (provider Taal A) with 4 placements and UTR-B (Taal B) with 5, all B1 (10.000,00, 40% at the
/// start) starting in March 2023 with a report of 10 hours offered, 8 attended and 2 absent.
async fn groups_of_four_and_five(app: &TestApp) {
    app.login_as(Role::Admin).await;
    let stream = FundingStream {
        id: 0,
        code: "SPUK".into(),
        name: "SPUK".into(),
        kind: StreamKind::Other,
        cohorts: vec![Cohort::Wi2021],
        spend_from: taalbudget::domain::dates::parse_iso("2022-01-01").unwrap(),
        spend_until: None,
        carry_over: false,
        notes: String::new(),
    };
    let s = store::funding::create_stream(&app.db, &stream, "test").await.unwrap();
    store::funding::set_cohort_stream(&app.db, Cohort::Wi2021, s, "test").await.unwrap();
    for (name, kvk, reference, n) in [("Taal A", "11111111", "UTR-A", 4), ("Taal B", "22222222", "UTR-B", 5)] {
        let c = contract(app, name, kvk, reference).await;
        for i in 0..n {
            let p = placement(app, c, &format!("K-{reference}-{i}"), "2023-03-06", "2025-03-05", "").await;
            let r = report(
                app,
                p,
                &[
                    ("period", "2023-03"),
                    ("first_lesson", "2023-03-06"),
                    ("offered", "10"),
                    ("attended", "8"),
                    ("absence", "2"),
                    ("absence_reason", "illness"),
                ],
            )
            .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
        }
    }
}

fn hidden_row(provider: &str) -> String {
    let cell = |class: &str| format!("<td{class}>minder dan 5</td>");
    let num = cell(" class=\"num\"");
    let mut row = format!("<th scope=\"row\">{provider}</th>");
    row.push_str(&num);
    row.push_str(&cell(""));
    row.push_str(&num.repeat(3));
    row.push_str(&cell("").repeat(5));
    row.push_str(&num.repeat(2));
    row
}

#[tokio::test]
async fn the_policy_adviser_sees_minder_dan_5_for_a_group_of_four_and_the_figures_of_a_group_of_five() {
    let app = spawn_app().await;
    groups_of_four_and_five(&app).await;
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let manager = app.other_browser();
    manager.login_as(Role::ContractManager).await;

    // Scorecard 2023: a line per provider.
    let (status, page) = adviser.get_html("/scorecard?jaar=2023").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&hidden_row("Taal A")), "{page}");
    assert!(
        page.contains(
            "<th scope=\"row\">Taal B</th><td class=\"num\">5</td><td>5 van 5 lopende plaatsingen</td><td class=\"num\">–</td><td class=\"num\">80%</td>"
        ),
        "{page}"
    );
    let (_, page) = manager.get_html("/scorecard?jaar=2023").await;
    assert!(
        page.contains(
            "<th scope=\"row\">Taal A</th><td class=\"num\">4</td><td>4 van 4 lopende plaatsingen</td><td class=\"num\">–</td><td class=\"num\">80%</td>"
        ),
        "{page}"
    );
    assert!(!page.contains("minder dan 5"));

    // The xlsx: the text in the cell, the number for the group of five.
    let xlsx = |bytes: Vec<u8>| {
        let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("Scorecard").unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        rows
    };
    let rows = xlsx(adviser.get("/scorecard.xlsx?jaar=2023").await.bytes().await.unwrap().to_vec());
    let line = |name: &str| rows.iter().find(|r| r[2] == Data::String(name.into())).unwrap().clone();
    assert_eq!(line("Taal A")[3], Data::String("minder dan 5".into()));
    assert_eq!(line("Taal A")[7], Data::String("minder dan 5".into()));
    assert_eq!(line("Taal B")[3], Data::Float(5.0));
    assert_eq!(line("Taal B")[7], Data::Float(80.0));
    let rows = xlsx(manager.get("/scorecard.xlsx?jaar=2023").await.bytes().await.unwrap().to_vec());
    let line = rows.iter().find(|r| r[2] == Data::String("Taal A".into())).unwrap();
    assert_eq!(line[3], Data::Float(4.0));
}

#[tokio::test]
async fn the_overview_drill_down_hides_the_commitments_of_fewer_than_5_placements_from_the_policy_adviser() {
    let app = spawn_app().await;
    groups_of_four_and_five(&app).await;
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let manager = app.other_browser();
    manager.login_as(Role::ContractManager).await;
    // The commitments of 2023 are the start payments, 4 x 4.000,00 and 5 x 4.000,00, due in 2023 and not
    // invoiced: overdue.
    let detail = |reference: &str| {
        format!("/meerjarenoverzicht/detail?van=2023&tot=2023&weergave=contract&sleutel={reference}&jaar=2023")
    };
    let what = |reference: &str| {
        format!("Vervallen, niet gefactureerde betalingen van plaatsingen op contract {reference} via SPUK, B1")
    };
    let (status, a) = adviser.get_html(&detail("UTR-A")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        a.contains(&format!("{} (minder dan 5 deelnemers)</td><td class=\"num\">minder dan 5</td>", what("UTR-A"))),
        "{a}"
    );
    assert!(!a.contains("€ 16.000,00</td><td") && !a.contains("verwacht €"), "{a}");
    let (_, b) = adviser.get_html(&detail("UTR-B")).await;
    assert!(b.contains(&format!("{}: in 2023 verwacht € 20.000,00, gefactureerd € 0,00", what("UTR-B"))), "{b}");
    assert!(b.contains("</td><td class=\"num\">€ 20.000,00</td>"), "{b}");
    let (_, a) = manager.get_html(&detail("UTR-A")).await;
    assert!(a.contains(&format!("{}: in 2023 verwacht € 16.000,00", what("UTR-A"))), "{a}");
    assert!(!a.contains("minder dan 5"), "{a}");
}
