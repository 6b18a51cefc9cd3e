//! Provider quality over HTTP: criteria sets, plan upload and download, assessment and decision,
//! follow-up actions, results against norms, the dashboard and the xlsx report, with every refusal.

use std::io::{Cursor, Write};

use calamine::{Reader, Xlsx};
use reqwest::multipart::Part;
use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::dates;
use taalbudget::domain::quality::{ActionDraft, ActionSource, ActionStatus};
use taalbudget::store;
use time::Duration;

use crate::helpers::{certified_provider, id_from, location, spawn_app, TestApp};

/// A certified provider with one contract; returns (provider id, contract id).
async fn provider_with_contract(app: &TestApp) -> (i64, i64) {
    let provider = certified_provider(app, "Taal BV", "12345678").await;
    let p = provider.to_string();
    let r = app
        .post_form(
            "/contracten",
            &[
                ("reference", "UTR-Q-1"),
                ("title", "B1-route"),
                ("provider_id", &p),
                ("routes", "b1"),
                ("start_date", "2022-01-01"),
                ("initial_end_date", "2025-12-31"),
                ("ceiling", "100.000,00"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    (provider, id_from(&location(&r), "/contracten/"))
}

/// A criteria set with K-01 (knock-out, met/partly, norm NT2 share at least 80) and K-02 (1-5,
/// norm group size at most 16); returns (set id, [K-01 id, K-02 id]).
pub(crate) async fn criteria_set(app: &TestApp) -> (i64, [i64; 2]) {
    let r = app.post_form("/kwaliteit/eisen", &[("tender", "Taalonderwijs 2022"), ("title", "Extra eisen")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = id_from(&location(&r), "/kwaliteit/eisen/");
    for fields in [
        vec![
            ("code", "K-01"),
            ("title", "Geregistreerde NT2-docenten"),
            ("scoring", "met_partly"),
            ("knock_out", "on"),
            ("norm_metric", "nt2_share"),
            ("norm_comparison", "at_least"),
            ("norm_value", "80"),
        ],
        vec![
            ("code", "K-02"),
            ("title", "Kleine groepen"),
            ("scoring", "scale_1_5"),
            ("norm_metric", "group_size"),
            ("norm_comparison", "at_most"),
            ("norm_value", "16"),
        ],
    ] {
        let r = app.post_form(&format!("/kwaliteit/eisen/{set}/eisen"), &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    }
    let ids: Vec<i64> = store::quality::criteria(&app.db, set).await.unwrap().iter().map(|c| c.id).collect();
    (set, [ids[0], ids[1]])
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec()
}

fn docx() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for name in ["[Content_Types].xml", "word/document.xml"] {
        w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(b"<w:document/>").unwrap();
    }
    w.finish().unwrap().into_inner()
}

async fn upload(app: &TestApp, contract: i64, set: i64, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = app
        .multipart_form()
        .await
        .text("submitted_on", "2024-03-01")
        .text("criteria_set_id", set.to_string())
        .part("document", Part::bytes(bytes).file_name(name.to_string()));
    app.client.post(app.url(&format!("/kwaliteit/contracten/{contract}/plannen"))).multipart(form).send().await.unwrap()
}

async fn plan_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM quality_plan_version").fetch_one(&app.db).await.unwrap()
}

async fn assessment_rows(app: &TestApp) -> Vec<(i64, i64, String, bool)> {
    sqlx::query_as(
        "SELECT plan_version_id, criterion_id, score, carried_over FROM quality_assessment ORDER BY plan_version_id, criterion_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Everything up to an uploaded first plan version: (provider, contract, set, criteria, plan).
async fn uploaded_plan(app: &TestApp) -> (i64, i64, i64, [i64; 2], i64) {
    app.login_as(Role::ContractManager).await;
    let (provider, contract) = provider_with_contract(app).await;
    let (set, criteria) = criteria_set(app).await;
    let r = upload(app, contract, set, "Kwaliteitsplan 2024.pdf", pdf()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let plan = id_from(&location(&r), "/kwaliteit/plannen/");
    (provider, contract, set, criteria, plan)
}

#[tokio::test]
async fn a_plan_is_uploaded_assessed_decided_frozen_and_its_next_version_starts_from_the_assessment() {
    let app = spawn_app().await;
    let (_, contract, _, [k1, k2], plan) = uploaded_plan(&app).await;

    // The document comes back as it went in, with a safe name and the right type.
    let r = app.get(&format!("/kwaliteit/plannen/{plan}/document")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"Kwaliteitsplan_2024.pdf\"; filename*=UTF-8''Kwaliteitsplan%202024.pdf"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf());

    let (_, page) = app.get_html(&format!("/kwaliteit/plannen/{plan}")).await;
    assert!(page.contains("Ingediend") && page.contains("0 van 2 eisen"), "{page}");

    // Assessment: the version goes into review.
    let (s1, s2) = (format!("score_{k1}"), format!("score_{k2}"));
    let (f1, f2) = (format!("finding_{k1}"), format!("finding_{k2}"));
    let r = app
        .post_form(
            &format!("/kwaliteit/plannen/{plan}/beoordeling"),
            &[("version", "1"), (&s1, "met"), (&f1, "Alle docenten geregistreerd"), (&s2, "4"), (&f2, "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert_eq!(store::quality::plan(&app.db, plan).await.unwrap().unwrap().status.code(), "in_review");

    // Decision: approved, and from then on frozen.
    let r = app
        .post_form(
            &format!("/kwaliteit/plannen/{plan}/besluit"),
            &[("version", "2"), ("decision", "approved"), ("reasoning", "Voldoet aan alle eisen.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (_, page) = app.get_html(&format!("/kwaliteit/plannen/{plan}")).await;
    assert!(page.contains("Goedgekeurd") && page.contains("(bevroren)") && page.contains("Voldoet aan alle eisen."));

    // An assessment on the frozen version is refused with a message and changes nothing.
    let before = assessment_rows(&app).await;
    let audit = app.audit_count("quality_assessment").await;
    let r = app
        .post_form(&format!("/kwaliteit/plannen/{plan}/beoordeling"), &[("version", "3"), (&s1, "not_met"), (&f1, "")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("Versie 1 van dit kwaliteitsplan is bevroren: er is al besloten (goedgekeurd)."), "{page}");
    assert_eq!(assessment_rows(&app).await, before);
    assert_eq!(app.audit_count("quality_assessment").await, audit);
    // A second decision on it is refused too.
    let r = app
        .post_form(
            &format!("/kwaliteit/plannen/{plan}/besluit"),
            &[("version", "3"), ("decision", "rejected"), ("reasoning", "Toch niet")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(store::quality::plan(&app.db, plan).await.unwrap().unwrap().status.code(), "approved");

    // Version 2 (a Word document) starts from version 1's assessment, marked as carried over.
    let set = store::quality::plan(&app.db, plan).await.unwrap().unwrap().criteria_set_id;
    let r = upload(&app, contract, set, "plan-v2.docx", docx()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v2 = id_from(&location(&r), "/kwaliteit/plannen/");
    assert_eq!(assessment_rows(&app).await[2..], [(v2, k1, "met".to_string(), true), (v2, k2, "4".to_string(), true)]);
    let (_, page) = app.get_html(&format!("/kwaliteit/plannen/{v2}")).await;
    assert!(page.contains("waarvan 2 overgenomen uit versie 1"), "{page}");
    assert!(page.contains("Overgenomen uit vorige versie"));
    assert!(page.contains("met de beoordeling van versie 1 ernaast"));
    let r = app.get(&format!("/kwaliteit/plannen/{v2}/document")).await;
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");

    // Re-scoring one criterion clears its carried-over mark and shows it changed.
    let r = app
        .post_form(&format!("/kwaliteit/plannen/{v2}/beoordeling"), &[("version", "1"), (&s2, "5"), (&f2, "Beter")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(assessment_rows(&app).await[2..], [(v2, k1, "met".to_string(), true), (v2, k2, "5".to_string(), false)]);
    let (_, page) = app.get_html(&format!("/kwaliteit/plannen/{v2}")).await;
    assert!(page.contains("Gewijzigd in deze versie"));
}

#[tokio::test]
async fn uploads_that_are_not_what_their_name_says_too_large_or_empty_are_refused_and_nothing_is_saved() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let (_, contract) = provider_with_contract(&app).await;
    let (set, _) = criteria_set(&app).await;
    let mut big = pdf();
    big.resize(20 * 1024 * 1024 + 1, b' ');
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "plan.docx",
            pdf(),
            "Het bestand 'plan.docx' heet een Word-document (DOCX) maar is een PDF. Geef het de juiste naam of kies het juiste bestand.",
        ),
        ("plan.pdf", b"MZ\x90\x00 een programma".to_vec(), "heet een PDF maar de inhoud is dat niet"),
        ("plan.xlsx", docx(), "heet een Excel-werkmap (XLSX) maar is een Word-document (DOCX)"),
        ("plan.exe", pdf(), "is geen PDF, DOCX of XLSX"),
        ("leeg.pdf", Vec::new(), "Het bestand 'leeg.pdf' is leeg (0 bytes)."),
        ("groot.pdf", big, "is 20,1 MB; een kwaliteitsplan mag hoogstens 20 MB zijn."),
    ];
    for (name, bytes, message) in cases {
        let r = upload(&app, contract, set, name, bytes).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{name}: {page}");
        assert!(page.contains("id=\"document-error\""), "the message sits at the field");
    }
    assert_eq!(plan_count(&app).await, 0);
    assert_eq!(app.audit_count("quality_plan_version").await, 0);
}

#[tokio::test]
async fn a_frozen_criteria_set_cannot_be_edited_but_a_new_version_of_it_can() {
    let app = spawn_app().await;
    let (_, _, set, [k1, k2], plan) = uploaded_plan(&app).await;
    let edit = [
        ("version", "1"),
        ("code", "K-01"),
        ("title", "NT2-docenten (aangescherpt)"),
        ("scoring", "met_partly"),
        ("norm_metric", "nt2_share"),
        ("norm_comparison", "at_least"),
        ("norm_value", "90"),
    ];
    // Not used yet: editable.
    let r = app.post_form(&format!("/kwaliteit/eisen/{set}/eisen/{k1}"), &edit).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());

    // Taking the plan into review without a score does not freeze the set yet.
    let r = app.post_form(&format!("/kwaliteit/plannen/{plan}/beoordeling"), &[("version", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(store::quality::plan(&app.db, plan).await.unwrap().unwrap().status.code(), "in_review");
    assert!(!store::quality::get_set(&app.db, set).await.unwrap().unwrap().is_frozen());

    // The first score freezes it.
    let s2 = format!("score_{k2}");
    let r = app.post_form(&format!("/kwaliteit/plannen/{plan}/beoordeling"), &[("version", "2"), (&s2, "3")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let frozen = store::quality::get_set(&app.db, set).await.unwrap().unwrap();
    assert!(frozen.is_frozen());
    let criteria_before = store::quality::criteria(&app.db, set).await.unwrap();

    let mut again = edit.to_vec();
    again[0] = ("version", "2");
    again[6] = ("norm_value", "70");
    let r = app.post_form(&format!("/kwaliteit/eisen/{set}/eisen/{k1}"), &again).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("Dit toetsingskader is bevroren: er is al een kwaliteitsplan mee beoordeeld."), "{page}");
    let r = app
        .post_form(
            &format!("/kwaliteit/eisen/{set}/eisen"),
            &[("code", "K-03"), ("title", "Nieuw"), ("scoring", "met_partly")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(store::quality::criteria(&app.db, set).await.unwrap(), criteria_before);
    let (_, page) = app.get_html(&format!("/kwaliteit/eisen/{set}")).await;
    assert!(page.contains("Bevroren") && !page.contains("Eis toevoegen"));

    // A new version copies the criteria and is open for editing.
    let r = app.post_form(&format!("/kwaliteit/eisen/{set}/nieuwe-versie"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v2 = id_from(&location(&r), "/kwaliteit/eisen/");
    let copied = store::quality::criteria(&app.db, v2).await.unwrap();
    assert_eq!(copied.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["K-01", "K-02"]);
    assert_eq!(copied[0].norm.unwrap().value.to_string(), "90");
    let r = app
        .post_form(
            &format!("/kwaliteit/eisen/{v2}/eisen"),
            &[("code", "K-03"), ("title", "Nieuw"), ("scoring", "met_partly")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set2 = store::quality::get_set(&app.db, v2).await.unwrap().unwrap();
    assert_eq!((set2.version_no, set2.criteria_count, set2.is_frozen()), (2, 3, false));
}

#[tokio::test]
async fn a_score_outside_the_scale_or_a_doubtful_approval_is_refused_at_its_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let (_, _, _, [k1, k2], plan) = uploaded_plan(&app).await;
    let (s1, s2) = (format!("score_{k1}"), format!("score_{k2}"));
    let r = app
        .post_form(&format!("/kwaliteit/plannen/{plan}/beoordeling"), &[("version", "1"), (&s1, "met"), (&s2, "6")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("K-02: Score '6' valt buiten de schaal; geef een score van 1 tot en met 5."), "{page}");
    assert!(page.contains(&format!("id=\"score_{k2}-error\"")));
    assert!(assessment_rows(&app).await.is_empty(), "the valid score is not saved either");
    assert!(!store::quality::get_set(&app.db, 1).await.unwrap().unwrap().is_frozen());

    // A failed knock-out criterion blocks approval; rejection is possible.
    let r = app
        .post_form(&format!("/kwaliteit/plannen/{plan}/beoordeling"), &[("version", "1"), (&s1, "not_met"), (&s2, "4")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(
            &format!("/kwaliteit/plannen/{plan}/besluit"),
            &[("version", "2"), ("decision", "approved"), ("reasoning", "Ok")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Goedkeuren kan niet: knock-outeis K-01 is niet voldaan."));
    assert_eq!(store::quality::plan(&app.db, plan).await.unwrap().unwrap().status.code(), "in_review");
    let r = app
        .post_form(
            &format!("/kwaliteit/plannen/{plan}/besluit"),
            &[("version", "2"), ("decision", "revision_requested"), ("reasoning", "Meer NT2-docenten inzetten.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(store::quality::plan(&app.db, plan).await.unwrap().unwrap().status.code(), "revision_requested");
}

#[tokio::test]
async fn follow_up_actions_are_listed_when_overdue_and_cannot_be_due_before_they_were_created() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let (provider, _) = provider_with_contract(&app).await;
    let yesterday = dates::iso(dates::today() - Duration::days(1));
    let path = format!("/kwaliteit/aanbieders/{provider}/acties");
    let fields = |due: &str| {
        [
            ("source", "meeting".to_string()),
            ("description", "Klassenbezoek inplannen".to_string()),
            ("owner", "J. Jansen".to_string()),
            ("due_date", due.to_string()),
        ]
    };
    let owned = fields(&yesterday);
    let f: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.post_form(&path, &f).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    let expected = format!(
        "De streefdatum ({}) ligt vóór de aanmaakdatum van het verbeterpunt ({}).",
        dates::display(dates::today() - Duration::days(1)),
        dates::display(dates::today())
    );
    assert!(page.contains(&expected), "{page}");
    assert!(page.contains("id=\"due_date-error\""));
    assert!(store::quality::actions(&app.db, None).await.unwrap().is_empty());

    // Due in two weeks: open, not overdue.
    let due = dates::iso(dates::today() + Duration::days(14));
    let owned = fields(&due);
    let f: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post_form(&path, &f).await.status(), StatusCode::SEE_OTHER);
    // One from a meeting two months ago, due last week: overdue.
    let old = ActionDraft {
        source: ActionSource::Meeting,
        description: "Verzuimregistratie op orde".into(),
        owner: "M. de Wit".into(),
        due_date: dates::today() - Duration::days(7),
        status: ActionStatus::Open,
        provider_response: String::new(),
    };
    let late =
        store::quality::create_action(&app.db, provider, None, &old, dates::today() - Duration::days(60), "test")
            .await
            .unwrap();
    let (_, page) = app.get_html("/kwaliteit/acties").await;
    let (overdue, open) = page.split_once("Open, binnen de termijn").unwrap();
    assert!(overdue.contains("Verzuimregistratie op orde") && overdue.contains("te laat: 7 dagen"), "{overdue}");
    assert!(overdue.contains("1 verbeterpunten over de streefdatum"));
    assert!(open.contains("Klassenbezoek inplannen") && !open.contains("Verzuimregistratie"));
    let (_, dash) = app.get_html("/kwaliteit").await;
    assert!(dash.contains("1 te laat"), "{dash}");

    // The provider responds and the action is done: off the overdue list, still in the history.
    let due_old = dates::iso(old.due_date);
    let update = [
        ("version", "1"),
        ("source", "meeting"),
        ("description", "Verzuimregistratie op orde"),
        ("owner", "M. de Wit"),
        ("due_date", due_old.as_str()),
        ("status", "done"),
        ("provider_response", "Nieuw systeem in gebruik sinds maandag."),
    ];
    let r = app.post_form(&format!("/kwaliteit/acties/{late}"), &update).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (_, page) = app.get_html("/kwaliteit/acties").await;
    assert!(page.contains("0 verbeterpunten over de streefdatum"));
    let (_, history) = app.get_html(&format!("/kwaliteit/aanbieders/{provider}")).await;
    assert!(history.contains("Nieuw systeem in gebruik sinds maandag.") && history.contains("Afgerond"));
    // The same form again is stale.
    let r = app.post_form(&format!("/kwaliteit/acties/{late}"), &update).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Iemand anders heeft dit verbeterpunt intussen gewijzigd"));
    assert_eq!(app.audit_count("follow_up_action").await, 3);
}

#[tokio::test]
async fn results_are_shown_against_the_norms_with_their_numbers_and_impossible_counts_are_refused() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let (provider, _) = provider_with_contract(&app).await;
    criteria_set(&app).await;
    let path = format!("/kwaliteit/aanbieders/{provider}/resultaten");
    let r = app
        .post_form(
            &path,
            &[("year", "2024"), ("route", "b1"), ("started", "10"), ("completed", "12"), ("dropped_out", "0")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Er zijn meer deelnemers afgerond (12) dan gestart (10); dat kan niet."), "{page}");
    assert!(page.contains("id=\"completed-error\""));
    assert!(store::quality::results(&app.db, None).await.unwrap().is_empty());

    let r = app
        .post_form(
            &path,
            &[
                ("year", "2024"),
                ("route", "b1"),
                ("started", "40"),
                ("completed", "30"),
                ("dropped_out", "4"),
                ("pass_lezen", "81"),
                ("pass_schrijven", "58,5"),
                ("nt2_share", "75"),
                ("group_size", "16"),
                ("satisfaction", "7,8"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let (_, page) = app.get_html(&format!("/kwaliteit/aanbieders/{provider}")).await;
    let norms = page.split("id=\"normen\"").nth(1).unwrap();
    assert!(
        norms.contains("<td class=\"num\">75%</td><td><span class=\"status status-warn\">net onder de norm</span>"),
        "{norms}"
    );
    assert!(norms.contains("minstens 80%"));
    assert!(norms.contains("<td class=\"num\">16</td><td><span class=\"status status-ok\">voldoet</span>"));
    let (_, dash) = app.get_html("/kwaliteit").await;
    assert!(dash.contains("Meetjaar 2024") && dash.contains("1 van 2 normen gehaald"), "{dash}");
    assert!(dash.contains("net onder de norm</span> K-01: 75% (norm minstens 80%)"), "{dash}");

    // Entering the same year and route again replaces it; the audit keeps both.
    let r = app
        .post_form(
            &path,
            &[
                ("year", "2024"),
                ("route", "b1"),
                ("started", "40"),
                ("completed", "30"),
                ("dropped_out", "4"),
                ("nt2_share", "70"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let results = store::quality::results(&app.db, Some(provider)).await.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].result.nt2_share.unwrap().to_string(), "70");
    assert_eq!(app.audit_count("quality_result").await, 2);
    let (_, page) = app.get_html(&format!("/kwaliteit/aanbieders/{provider}")).await;
    assert!(page.contains("<td class=\"num\">70%</td><td><span class=\"status status-bad\">voldoet niet</span>"));
}

#[tokio::test]
async fn the_quality_report_downloads_as_a_workbook_with_a_sheet_per_part() {
    let app = spawn_app().await;
    let (provider, _, _, _, _) = uploaded_plan(&app).await;
    app.post_form(
        &format!("/kwaliteit/aanbieders/{provider}/resultaten"),
        &[
            ("year", "2024"),
            ("route", "b1"),
            ("started", "20"),
            ("completed", "15"),
            ("dropped_out", "2"),
            ("nt2_share", "60"),
        ],
    )
    .await;
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    let r = adviser.get(&format!("/kwaliteit/aanbieders/{provider}/rapport.xlsx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"kwaliteitsrapport-aanbieder-1-"));
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), ["Samenvatting", "Kwaliteitsplannen", "Verbeterpunten", "Resultaten", "Normen"]);
    let summary = wb.worksheet_range("Samenvatting").unwrap();
    assert_eq!(summary.get_value((0, 1)).unwrap().to_string(), "Taal BV");
    assert_eq!(summary.get_value((3, 1)).unwrap().to_string(), "Geldig voor onbepaalde tijd");
    assert_eq!(summary.get_value((4, 1)).unwrap().to_string(), "UTR-Q-1 versie 1: Ingediend");
    // Decided by the column, not by trying to parse: a KvK number is text, a count a number.
    assert_eq!(summary.get_value((2, 1)), Some(&calamine::Data::String("12345678".into())));
    assert_eq!(summary.get_value((5, 1)), Some(&calamine::Data::Float(0.0)));
    let plans = wb.worksheet_range("Kwaliteitsplannen").unwrap();
    assert_eq!(plans.get_value((1, 0)), Some(&calamine::Data::String("UTR-Q-1".into())));
    assert_eq!(plans.get_value((1, 1)), Some(&calamine::Data::Float(1.0)));
    assert!(matches!(plans.get_value((1, 2)), Some(calamine::Data::DateTime(_))), "{:?}", plans.get_value((1, 2)));
    let norms = wb.worksheet_range("Normen").unwrap();
    let row: Vec<String> = norms.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        row,
        [
            "2024",
            "B1",
            "K-01",
            "Lessen door geregistreerde NT2-docenten",
            "minstens 80%",
            "60%",
            "",
            "voldoet niet",
            "rood"
        ]
    );
    let results = wb.worksheet_range("Resultaten").unwrap();
    assert_eq!(results.get_value((0, 0)).unwrap().to_string(), "Meetjaar");
    assert_eq!(results.get_value((1, 2)), Some(&calamine::Data::Float(20.0)));

    // Readers may see the screens but not change anything.
    let (status, page) = adviser.get_html(&format!("/kwaliteit/aanbieders/{provider}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Resultaten vastleggen"));
    let r = adviser.post_form(&format!("/kwaliteit/aanbieders/{provider}/resultaten"), &[("year", "2024")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_demo_data_fills_every_quality_screen() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app.login_as(Role::ContractManager).await;
    let plans = store::quality::all_plans(&app.db).await.unwrap();
    let mut statuses: Vec<&str> = plans.iter().map(|p| p.status.code()).collect();
    statuses.sort();
    statuses.dedup();
    assert_eq!(statuses, ["approved", "in_review", "rejected", "revision_requested", "submitted"]);
    let today = dates::today();
    let actions = store::quality::actions(&app.db, None).await.unwrap();
    assert!(
        actions.iter().filter(|a| taalbudget::domain::quality::is_overdue(a.status, a.due_date, today)).count() >= 2
    );
    let years: std::collections::BTreeSet<i32> =
        store::quality::results(&app.db, None).await.unwrap().iter().map(|r| r.result.year).collect();
    // From 2022 (the first year of the demo's progress) to last year, whatever today is.
    assert_eq!(years.iter().copied().collect::<Vec<_>>(), (2022..today.year()).collect::<Vec<_>>());
    // The latest year came in as one import batch of results, visible on the register import screen.
    let latest = *years.iter().next_back().unwrap();
    let (batch, imported): (i64, i64) =
        sqlx::query_as("SELECT id, rows_imported FROM import_batch WHERE kind = 'results' AND status = 'active'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let in_batch: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quality_result WHERE batch_id = ? AND year = ?")
        .bind(batch)
        .bind(latest)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(imported > 0);
    assert_eq!(in_batch, imported);
    let (_, import_page) = app.get_html("/registers/import").await;
    assert!(import_page.contains("resultaten-blik-op-werk.xlsx"), "{import_page}");
    assert_eq!(app.get_html(&format!("/registers/import/batches/{batch}")).await.0, StatusCode::OK);

    let (status, dash) = app.get_html("/kwaliteit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dash.contains("Spreekvaardig Opleidingen (fictief)") && dash.contains("Geschorst"));
    assert!(dash.contains("voldoet niet"));
    for path in ["/kwaliteit/acties", "/kwaliteit/eisen", "/kwaliteit/eisen/1"] {
        assert_eq!(app.get_html(path).await.0, StatusCode::OK, "{path}");
    }
    for p in &plans {
        assert_eq!(app.get_html(&format!("/kwaliteit/plannen/{}", p.id)).await.0, StatusCode::OK);
        assert_eq!(app.get(&format!("/kwaliteit/plannen/{}/document", p.id)).await.status(), StatusCode::OK);
    }
    for id in 1..=14 {
        assert_eq!(app.get_html(&format!("/kwaliteit/aanbieders/{id}")).await.0, StatusCode::OK);
        assert_eq!(app.get(&format!("/kwaliteit/aanbieders/{id}/rapport.xlsx")).await.status(), StatusCode::OK);
    }
    for id in 1..=6 {
        assert_eq!(app.get_html(&format!("/kwaliteit/contracten/{id}")).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_save_over_a_newer_version_is_refused_and_says_what_changed() {
    let app = spawn_app().await;
    let (_, _, set, [k1, k2], plan) = uploaded_plan(&app).await;
    let edit =
        |title: &'static str| vec![("version", "1"), ("code", "K-02"), ("title", title), ("scoring", "scale_1_5")];
    let path = format!("/kwaliteit/eisen/{set}/eisen/{k2}");
    assert_eq!(app.post_form(&path, &edit("Groepsgrootte")).await.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&path, &edit("Kleine groepen, hoogstens 14")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page.contains("Iemand anders heeft deze eis intussen gewijzigd (nu: K-02 Groepsgrootte"), "{page}");
    assert!(page.contains("name=\"version\" value=\"2\""), "saving again is a conscious overwrite");

    // Two reviewers on one plan version: the second save is refused, their scores stay in the form.
    let s1 = format!("score_{k1}");
    let beoordeling = format!("/kwaliteit/plannen/{plan}/beoordeling");
    assert_eq!(app.post_form(&beoordeling, &[("version", "1"), (&s1, "met")]).await.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&beoordeling, &[("version", "1"), (&s1, "partly")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = r.text().await.unwrap();
    assert!(page
        .contains("Iemand anders heeft deze versie intussen beoordeeld of van status veranderd (nu: in beoordeling)."));
    assert!(page.contains("<option value=\"partly\" selected>"));
    assert_eq!(assessment_rows(&app).await, [(plan, k1, "met".to_string(), false)]);
}

#[tokio::test]
async fn the_dashboard_reads_only_open_actions_and_each_providers_latest_results() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let a = certified_provider(&app, "Taal BV", "12345678").await;
    let b = certified_provider(&app, "Les BV", "87654321").await;
    sqlx::query(
        "INSERT INTO quality_result (provider_id, year, route, started, completed, dropped_out, created_at, updated_at)
         VALUES (?1, 2023, 'b1', 10, 5, 1, 'x', 'x'), (?1, 2024, 'b1', 12, 6, 1, 'x', 'x'), (?1, 2024, 'z', 8, 4, 0, 'x', 'x'),
                (?2, 2022, 'z', 9, 3, 2, 'x', 'x')",
    )
    .bind(a)
    .bind(b)
    .execute(&app.db)
    .await
    .unwrap();
    let latest: Vec<(i64, i32, i64)> = store::quality::latest_results(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.provider_id, r.result.year, r.result.started))
        .collect();
    assert_eq!(latest, [(a, 2024, 12), (a, 2024, 8), (b, 2022, 9)]);

    for (status, due) in
        [("open", "2025-03-01"), ("done", "2025-01-01"), ("in_progress", "2025-02-01"), ("cancelled", "2025-01-15")]
    {
        sqlx::query(
            "INSERT INTO follow_up_action (provider_id, source, description, owner, created_on, due_date, status, created_at, updated_at)
             VALUES (?, 'meeting', ?, 'Coördinator', '2024-12-01', ?, ?, 'x', 'x')",
        )
        .bind(a)
        .bind(format!("Actie {status}"))
        .bind(due)
        .bind(status)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let open: Vec<String> =
        store::quality::open_actions(&app.db).await.unwrap().into_iter().map(|a| a.description).collect();
    assert_eq!(open, ["Actie in_progress", "Actie open"], "open ones only, by due date");
}
