//! History pages (`/historie/{kind}/{id}`) deny by default: every kind the audit log records is in
//! `auth::history::HISTORY_KINDS` with the permission it needs, any other kind is not found. Walked for every
//! role over the demo data, with a real record of each kind.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use taalbudget::auth::history::{history_kind, HISTORY_KINDS};
use taalbudget::auth::roles::Role;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_history_kind_answers_every_role_as_the_table_says_and_other_kinds_are_not_found() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app.login_as(Role::Admin).await;
    assert_eq!(app.post_form("/beheer/backups", &[]).await.status(), StatusCode::SEE_OTHER);

    // A real record of every kind in the log (the demo's and the backup just made); kinds without one use id 1.
    let logged: Vec<(String, String)> = sqlx::query_as("SELECT entity, MIN(entity_id) FROM audit_log GROUP BY entity")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let mut ids: BTreeMap<String, String> = HISTORY_KINDS.iter().map(|(k, _, _)| (k.to_string(), "1".into())).collect();
    for (kind, id) in &logged {
        assert!(history_kind(kind).is_some(), "the demo logs '{kind}', which has no entry in HISTORY_KINDS");
        ids.insert(kind.clone(), id.clone());
    }
    for kind in ["route_change", "progress_report", "placement", "backup", "import_batch"] {
        assert!(logged.iter().any(|(k, _)| k == kind), "the walk covers a real {kind}");
    }

    for role in Role::ALL {
        let browser = app.other_browser();
        browser.login_as(role).await;
        for (kind, id) in &ids {
            let (label, permission) = history_kind(kind).unwrap();
            let (status, body) = browser.get_html(&format!("/historie/{kind}/{id}")).await;
            if role.may(permission) {
                assert_eq!(status, StatusCode::OK, "{role:?} {kind}");
                assert!(body.contains(&format!("Geschiedenis van {label} {id}")), "{role:?} {kind}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {kind}");
            }
        }
        for unknown in ["participant", "audit_log", "tower_sessions", "Provider"] {
            assert_eq!(browser.get(&format!("/historie/{unknown}/1")).await.status(), StatusCode::NOT_FOUND);
        }
    }
}

#[tokio::test]
async fn the_policy_adviser_reads_no_reasons_ledger_lines_or_backup_paths_and_the_admin_does() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app.login_as(Role::Admin).await;
    assert_eq!(app.post_form("/beheer/backups", &[]).await.status(), StatusCode::SEE_OTHER);
    let path: String = sqlx::query_scalar("SELECT path FROM backup_log").fetch_one(&app.db).await.unwrap();
    let (reason, change): (String, i64) =
        sqlx::query_as("SELECT reason, id FROM route_change ORDER BY id LIMIT 1").fetch_one(&app.db).await.unwrap();
    let adviser = app.other_browser();
    adviser.login_as(Role::PolicyAdviser).await;
    for page in
        [format!("/historie/route_change/{change}"), "/historie/ledger_entry/1".into(), "/historie/backup/1".into()]
    {
        let (status, body) = adviser.get_html(&page).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(!body.contains(&reason) && !body.contains(&path), "{page}");
    }
    let (_, body) = app.get_html("/historie/backup/1").await;
    assert!(body.contains(&path), "the admin sees where the backup is: {body}");
    let (_, body) = app.get_html(&format!("/historie/route_change/{change}")).await;
    assert!(body.contains(&reason), "the contract manager's reasons are in the admin's history: {body}");
}
