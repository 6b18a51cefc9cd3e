//! No BSN gets in through a form: client numbers that are or hold one, and free text (route-change reason,
//! progress remark, invoice-difference reason, attribution reason) with one, are refused with a Dutch message
//! next to the field, and nothing is stored.

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::bsn::free_text_refusal;
use taalbudget::domain::placement::CLIENT_NUMBER_BSN;
use taalbudget::store;

use crate::helpers::{import_ledger, ledger_line, spawn_app, TestApp};
use crate::progress::{contract, placement, report};

/// The error as `Field` puts it next to its input (the id ties it to the field).
fn next_to(field_id: &str, message: &str) -> String {
    format!(
        "<p class=\"error-message\" id=\"{field_id}-error\"><span class=\"visually-hidden\">Fout: </span>{message}</p>"
    )
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_client_number_that_is_or_holds_a_bsn_is_refused_on_the_form() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let c = contract(&app, "Taal BV", "12345678", "UTR-1").await.to_string();
    for client in ["12345672", "K111222333"] {
        let r = app
            .post_form(
                "/plaatsingen",
                &[
                    ("client_number", client),
                    ("cohort", "wi2021"),
                    ("contract_id", &c),
                    ("route", "b1"),
                    ("start_date", "2022-03-01"),
                    ("planned_end", "2024-02-29"),
                    ("status", "started"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{client}");
        let body = r.text().await.unwrap();
        assert!(body.contains(&next_to("client_number", CLIENT_NUMBER_BSN)), "{client}: {body}");
    }
    assert_eq!(count(&app, "placement").await, 0);
}

#[tokio::test]
async fn free_text_with_a_bsn_is_refused_next_to_its_field_on_every_reason_and_remark() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let c = contract(&app, "Taal BV", "12345678", "UTR-1").await;
    let p = placement(&app, c, "K-3", "2023-03-10", "2025-03-09", "").await;
    let reason = free_text_refusal("Reden");

    // Route change: the reason (123456782 passes the 11-test).
    let r = app
        .post_form(
            &format!("/plaatsingen/{p}/routewijzigingen"),
            &[("kind", "pause"), ("decision_date", "2023-06-01"), ("reason", "Gesprek met 123456782 over ziekte")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains(&next_to("reason", &reason)));
    assert_eq!(count(&app, "route_change").await, 0);

    // Progress report: the remark, the BSN written with dots.
    let fields = [("period", "2023-03"), ("offered", "10"), ("attended", "0"), ("absence", "2")];
    let mut with_remark = fields.to_vec();
    with_remark.extend([("absence_reason", "other"), ("remarks", "BSN 1234.56.782 afgemeld")]);
    let r = report(&app, p, &with_remark).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains(&next_to("remarks", &free_text_refusal("Opmerkingen"))));
    assert_eq!(count(&app, "progress_report").await, 0);
    let mut without = fields.to_vec();
    without.push(("absence_reason", "other"));
    assert_eq!(report(&app, p, &without).await.status(), StatusCode::SEE_OTHER);

    // An invoice of 9.000,00 for March on the contract, nothing attended: a difference to decide on.
    import_ledger(&app, &[ledger_line("2023-03-28", "KP-INB", "20001", "Starts maart", 900_000)]).await;
    let r = app
        .post_form(
            "/financiering",
            &[("code", "SPUK"), ("name", "SPUK"), ("kind", "other"), ("spend_from", "2022-01-01")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stream = store::funding::streams(&app.db).await.unwrap()[0].0.id.to_string();
    let entry: i64 = sqlx::query_scalar("SELECT id FROM ledger_entry").fetch_one(&app.db).await.unwrap();

    // Attribution: the reason, the BSN in groups of three.
    let url = format!("/grootboek/{entry}/toerekenen");
    let attribute = |why: &'static str| {
        let (stream, c) = (stream.clone(), c.to_string());
        let app = &app;
        let url = url.clone();
        async move {
            app.post_form(&url, &[("stream_id", stream.as_str()), ("contract_id", c.as_str()), ("reason", why)]).await
        }
    };
    let r = attribute("factuur voor 123 456 782").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains(&next_to(&format!("regel-{entry}-reason"), &reason)), "{body}");
    assert!(body.contains("value=\"factuur voor 123 456 782\""), "the typed reason is kept");
    assert_eq!(store::attribution::sums(&app.db).await.unwrap().actual_by_stream.len(), 0);
    assert_eq!(attribute("factuur UTR-1 maart").await.status(), StatusCode::SEE_OTHER);

    // Invoice difference: the reason.
    let (cs, ps) = (c.to_string(), p.to_string());
    let decide = |why: &'static str| {
        let (cs, ps) = (cs.clone(), ps.clone());
        let app = &app;
        async move {
            app.post_form(
                "/factuurcontrole/besluiten",
                &[
                    ("contract", cs.as_str()),
                    ("periode", "2023-03"),
                    ("placement", ps.as_str()),
                    ("decision", "claim_back"),
                    ("reason", why),
                ],
            )
            .await
        }
    };
    let r = decide("Klant 111222333 volgde geen les").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains(&next_to(&format!("besluit-{p}-reason"), &reason)), "{body}");
    assert_eq!(count(&app, "invoice_difference").await, 0);
    assert_eq!(decide("Geen lessen gevolgd in maart").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "invoice_difference").await, 1);
}
