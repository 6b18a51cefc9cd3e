//! Personal API tokens around the API: the account page (and its password change), the admin's user page, the
//! `token` command and the throttling of failed tokens.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use taalbudget::auth::roles::Role;
use taalbudget::domain::dates;
use taalbudget::store;

use crate::helpers::{location, spawn_app, spawn_app_with, TestApp, PASSWORD};

const API: &str = "/api/v1/ocds/releases";

/// Whether the API let the token in (the empty database answers 404 "no contracts yet" when it does).
async fn works(app: &TestApp, token: &str) -> bool {
    let status = app.api_get(API, token).await.status();
    assert!(status == StatusCode::NOT_FOUND || status == StatusCode::UNAUTHORIZED, "{status}");
    status == StatusCode::NOT_FOUND
}

/// The secret on the page that shows it: the value of the read-only field `secret`.
fn secret_in(body: &str) -> Option<String> {
    let at = body.find("id=\"secret\" value=\"")? + "id=\"secret\" value=\"".len();
    Some(body[at..].split('"').next()?.to_string())
}

async fn make_on_page(app: &TestApp, name: &str, days: &str) -> reqwest::Response {
    app.post_form("/account/tokens", &[("name", name), ("days", days)]).await
}

fn in_days(days: i64) -> String {
    dates::display(dates::today() + time::Duration::days(days))
}

#[tokio::test]
async fn the_account_page_makes_a_token_shows_its_secret_once_and_stores_only_its_hash() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;

    // The header links to the page, next to the user's name and the logout button.
    let (_, home) = app.get_html("/aanbieders").await;
    assert!(home.contains("<a href=\"/account\">Mijn account</a>"), "{home}");

    let (status, page) = app.get_html("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<dd>test-finance</dd>") && page.contains("<dd>Financieel medewerker</dd>"), "{page}");
    assert!(page.contains("Er zijn nog geen API-tokens."));
    assert!(page.contains("value=\"90\""), "the form proposes 90 days");
    // The place the notifications page hangs from.
    assert!(page.contains("<h2 id=\"meldingen\">Meldingen en agenda</h2>"));
    assert!(page.contains("href=\"/account/meldingen\""));

    let r = make_on_page(&app, "dashboard BI", "90").await;
    assert_eq!(r.status(), StatusCode::OK, "the secret is the answer to the POST, not behind a redirect");
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains("Het wordt niet opnieuw getoond"), "{body}");
    assert!(body.contains(&format!("Geldig tot en met {}", in_days(90))), "{body}");
    let secret = secret_in(&body).expect("the secret on the page");
    assert!(secret.starts_with("tb_") && secret.len() == 67, "{secret}");
    assert!(works(&app, &secret).await);

    // Never again: the list shows the first characters and the status, not the secret.
    let (_, page) = app.get_html("/account").await;
    assert!(!page.contains(&secret));
    assert!(page.contains(&format!("<code>{}…</code>", &secret[..11])), "{page}");
    assert!(page.contains("dashboard BI") && page.contains(&in_days(90)) && page.contains("werkt"));
    let used: String = sqlx::query_scalar("SELECT last_used_at FROM api_token").fetch_one(&app.db).await.unwrap();
    assert!(page.contains(&format!("<td>{}</td>", dates::display_timestamp(&used))), "last used: {used}");

    // The database holds the hash and nothing from which the secret could be read back.
    let row: (String, String, String, String) =
        sqlx::query_as("SELECT secret_hash, prefix, name, role FROM api_token").fetch_one(&app.db).await.unwrap();
    assert_eq!(row.0, hex::encode(Sha256::digest(secret.as_bytes())));
    assert_eq!((row.1.as_str(), row.2.as_str(), row.3.as_str()), (&secret[..11], "dashboard BI", "finance"));
    let audit: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, action, after_json FROM audit_log WHERE entity = 'api_token'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].0.as_str(), audit[0].1.as_str()), ("test-finance", "create"));
    assert!(!audit[0].2.contains(&secret) && !audit[0].2.contains(&row.0), "neither secret nor hash in the log");
}

#[tokio::test]
async fn the_token_form_refuses_a_year_and_a_day_no_days_and_no_name() {
    let app = spawn_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let long = "x".repeat(101);
    let cases: [(&str, &str, &str); 5] = [
        ("script", "366", "Een token is 1 tot en met 365 dagen geldig (u vroeg 366)."),
        ("script", "0", "Een token is 1 tot en met 365 dagen geldig (u vroeg 0)."),
        ("script", "een jaar", "Vul een aantal dagen in: een heel getal van 1 tot en met 365."),
        ("   ", "30", "Geef het token een naam, zodat u het later herkent."),
        (&long, "30", "Een naam heeft hoogstens 100 tekens (nu 101)."),
    ];
    for (name, days, message) in cases {
        let r = make_on_page(&app, name, days).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name} {days}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{name} {days}: {body}");
        assert!(secret_in(&body).is_none());
        assert!(body.contains(&format!("value=\"{days}\"")), "what was typed is kept");
    }
    assert!(store::tokens::all(&app.db).await.unwrap().is_empty());

    let r = make_on_page(&app, "een jaar", "365").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains(&format!("Geldig tot en met {}", in_days(365))));
}

#[tokio::test]
async fn a_user_revokes_their_own_token_but_gets_a_404_for_someone_elses() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let body = make_on_page(&app, "mijn script", "30").await.text().await.unwrap();
    let secret = secret_in(&body).unwrap();
    let id = store::tokens::all(&app.db).await.unwrap()[0].id;

    let other = app.other_browser();
    other.login_as(Role::Admin).await;
    let r = other.post_form(&format!("/account/tokens/{id}/intrekken"), &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not even an admin revokes someone else's token here");
    assert_eq!(other.post_form("/account/tokens/999/intrekken", &[]).await.status(), StatusCode::NOT_FOUND);
    assert!(works(&app, &secret).await);

    let r = app.post_form(&format!("/account/tokens/{id}/intrekken"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account?melding=token-ingetrokken#api-tokens");
    assert!(!works(&app, &secret).await);
    let (_, page) = app.get_html("/account?melding=token-ingetrokken").await;
    assert!(page.contains("Het API-token is ingetrokken"));
    assert!(page.contains("ingetrokken</span>") && page.contains("door test-finance"), "{page}");
    assert!(!page.contains(&format!("/account/tokens/{id}/intrekken")), "no button for a revoked token");
    let revokes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE entity = 'api_token' AND action = 'revoke' AND actor = 'test-finance'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(revokes, 1);
}

#[tokio::test]
async fn an_admin_sees_anyones_tokens_with_their_status_and_revokes_them() {
    let app = spawn_app().await;
    let user = app.add_user("scriptbeheer", Role::ContractManager).await;
    let live = store::tokens::create(&app.db, user, "nachtelijke export", 90, "test").await.unwrap();
    let old = store::tokens::create(&app.db, user, "oud script", 30, "test").await.unwrap();
    sqlx::query("UPDATE api_token SET expires_on = date('now', '-1 day') WHERE id = ?")
        .bind(old.id)
        .execute(&app.db)
        .await
        .unwrap();
    app.login_as(Role::Admin).await;

    let (status, page) = app.get_html(&format!("/beheer/gebruikers/{user}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("nachtelijke export") && page.contains("oud script"));
    assert!(page.contains(">werkt</span>") && page.contains(">verlopen</span>"), "{page}");
    assert!(page.contains(&format!("action=\"/beheer/tokens/{}/intrekken\"", live.id)));
    assert!(!page.contains(&live.secret));

    let r = app.post_form(&format!("/beheer/tokens/{}/intrekken", live.id), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/beheer/gebruikers/{user}?melding=token-ingetrokken#api-tokens"));
    assert!(!works(&app, &live.secret).await);
    let token = store::tokens::get(&app.db, live.id).await.unwrap().unwrap();
    assert_eq!(token.revoked_by.as_deref(), Some("test-admin"));
    assert_eq!(app.post_form("/beheer/tokens/999/intrekken", &[]).await.status(), StatusCode::NOT_FOUND);

    // A role change stops every token of the user, and the page says so.
    let fresh = store::tokens::create(&app.db, user, "nieuw", 10, "test").await.unwrap();
    assert!(works(&app, &fresh.secret).await);
    let u = store::users::get(&app.db, user).await.unwrap().unwrap();
    let r = app
        .post_form(
            &format!("/beheer/gebruikers/{user}"),
            &[("role", "finance"), ("active", "on"), ("version", &u.version.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!works(&app, &fresh.secret).await);
    let (_, page) = app.get_html(&format!("/beheer/gebruikers/{user}")).await;
    assert!(page.contains(">werkt niet meer: de gebruiker is gedeactiveerd of heeft een andere rol</span>"), "{page}");
}

fn cli(app: &TestApp) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"));
    c.arg("--db").arg(&app.db_path).env("TAALBUDGET_LOG", "error").env("USER", "beheerder");
    c
}

#[tokio::test]
async fn the_command_line_makes_lists_and_revokes_tokens_with_the_secret_alone_on_stdout() {
    let app = spawn_app().await;
    app.add_user("bi-team", Role::PolicyAdviser).await;

    let out = cli(&app).args(["token", "create", "--user", "bi-team", "--name", "dashboard"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let secret = stdout.strip_suffix('\n').unwrap();
    assert!(secret.starts_with("tb_") && secret.len() == 67 && !secret.contains(char::is_whitespace), "{stdout:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("geldig tot en met {}", in_days(90))), "{stderr}");
    assert!(works(&app, secret).await, "the server reads the token the command wrote");

    // At most a year, a name, an active user; nothing is made otherwise.
    for (args, code, message) in [
        (vec!["--user", "bi-team", "--name", "x", "--days", "366"], 2, "1 tot en met 365 dagen geldig (gevraagd: 366)"),
        (vec!["--user", "bi-team", "--name", "x", "--days", "0"], 2, "1 tot en met 365 dagen geldig (gevraagd: 0)"),
        (vec!["--user", "bi-team", "--name", " ", "--days", "30"], 2, "geef het token een naam"),
        (vec!["--user", "niemand", "--name", "x"], 1, "er is geen actieve gebruiker 'niemand'"),
    ] {
        let out = cli(&app).args(["token", "create"]).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(message), "{args:?}");
    }
    let out = cli(&app).args(["token", "create", "--user", "bi-team", "--name", "jaar", "--days", "365"]).output();
    assert_eq!(out.unwrap().status.code(), Some(0));
    assert_eq!(store::tokens::all(&app.db).await.unwrap().len(), 2);

    let out = cli(&app).args(["token", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    let first = table.lines().find(|l| l.contains("dashboard")).expect("a row per token");
    let used = store::tokens::get(&app.db, 1).await.unwrap().unwrap().last_used_at.expect("used above");
    let expires = dates::iso(dates::today() + time::Duration::days(90));
    let expected = format!("1 bi-team dashboard {} {expires} {} werkt", &secret[..11], dates::display_timestamp(&used));
    assert_eq!(first.split_whitespace().collect::<Vec<_>>().join(" "), expected);
    let second = table.lines().find(|l| l.contains("jaar")).unwrap();
    assert!(second.split_whitespace().rev().take(2).eq(["werkt", "nooit"]), "{second}");
    assert!(!table.contains(secret));

    let out = cli(&app).args(["token", "revoke", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("API-token 1 ‘dashboard’ van bi-team is ingetrokken."));
    assert!(!works(&app, secret).await);
    assert_eq!(cli(&app).args(["token", "revoke", "1"]).output().unwrap().status.code(), Some(0), "again: done");
    let out = cli(&app).args(["token", "revoke", "99"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("er is geen API-token met nummer 99"));

    let out = cli(&app).args(["token", "list", "--json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("jaar", "werkt"), ("dashboard", "ingetrokken")]);
    assert_eq!(listed[1]["revoked_by"], "cli:beheerder");
    assert!(listed[0].get("secret_hash").is_none());

    let actors: Vec<String> = sqlx::query_scalar("SELECT actor FROM audit_log WHERE entity = 'api_token' ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(actors, ["cli:beheerder", "cli:beheerder", "cli:beheerder"], "two made, one revoked");
}

/// A bearer request as it arrives through the trusted proxy from `address`.
async fn api_from(app: &TestApp, address: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new().get(app.url(API)).bearer_auth(token).header("x-forwarded-for", address).send().await.unwrap()
}

#[tokio::test]
async fn failed_tokens_are_delayed_then_refused_per_address_while_valid_tokens_keep_working() {
    let step = Duration::from_millis(400);
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.login_delay_step = step;
        c.login_delay_max = step;
    })
    .await;
    let valid = app.api_token(Role::Finance).await;
    let wrong = format!("tb_{}", "a".repeat(64));
    let broken_script = "203.0.113.7";

    // Five failures answer at once, as five wrong passwords do; the sixth waits.
    for n in 1..=5 {
        let started = Instant::now();
        assert_eq!(api_from(&app, broken_script, &wrong).await.status(), StatusCode::UNAUTHORIZED);
        assert!(started.elapsed() < step, "failure {n} is not delayed: {:?}", started.elapsed());
    }
    let started = Instant::now();
    assert_eq!(api_from(&app, broken_script, &wrong).await.status(), StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() >= step, "the sixth failure waits: {:?}", started.elapsed());

    // A valid token from the same address is neither delayed nor refused: it cannot have been guessed.
    let started = Instant::now();
    assert_eq!(api_from(&app, broken_script, &valid).await.status(), StatusCode::NOT_FOUND);
    assert!(started.elapsed() < step, "{:?}", started.elapsed());

    // Up to the limit (20 in 15 minutes; the rest recorded directly rather than waited for), then 429.
    for _ in 6..taalbudget::auth::token::REFUSE_AFTER {
        store::users::record_attempt(&app.db, "(api-token)", broken_script, false).await.unwrap();
    }
    let started = Instant::now();
    let r = api_from(&app, broken_script, &wrong).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(started.elapsed() < step, "a refusal does not wait: {:?}", started.elapsed());
    assert_eq!(r.headers().get("retry-after").unwrap(), "900");
    assert_eq!(r.headers().get("content-type").unwrap(), "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 429);
    assert!(problem["detail"].as_str().unwrap().contains("Te veel verzoeken met een ongeldig token"), "{problem}");
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_attempt").fetch_one(&app.db).await.unwrap();
    assert_eq!(api_from(&app, broken_script, "geen-token").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_attempt").fetch_one(&app.db).await.unwrap();
    assert_eq!(before, after, "refused attempts are not recorded: a flood cannot grow the table");

    // Still: the valid token from that address, and a wrong one from elsewhere, which is merely a 401.
    assert_eq!(api_from(&app, broken_script, &valid).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api_from(&app, "198.51.100.20", &wrong).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api_from(&app, "198.51.100.20", &valid).await.status(), StatusCode::NOT_FOUND);

    // Failed tokens are their own count: they do not slow down the logins of the people at that address.
    app.add_user("collega", Role::Finance).await;
    let browser = app.other_browser();
    let token = browser.csrf().await;
    let started = Instant::now();
    let r = browser
        .client
        .post(browser.url("/login"))
        .header("x-forwarded-for", broken_script)
        .form(&[("username", "collega"), ("password", PASSWORD), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(started.elapsed() < step, "{:?}", started.elapsed());
}

#[tokio::test]
async fn csrf_protection_does_not_stand_in_the_way_of_a_bearer_request() {
    // No API route takes a POST yet (h-api adds them): a POST without a CSRF field to an API path reaches the
    // router (405 for a GET-only route) instead of being refused by the CSRF check, which a form path is.
    let app = spawn_app().await;
    let token = app.api_token(Role::Admin).await;
    let r = reqwest::Client::new().post(app.url(API)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    app.login_as(Role::Admin).await;
    let r = app.client.post(app.url("/account/tokens")).form(&[("name", "x"), ("days", "30")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a form without its CSRF field is refused");
    assert_eq!(store::tokens::all(&app.db).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_user_changes_their_own_password_after_giving_the_current_one() {
    let app = spawn_app().await;
    app.login_as(Role::ContractManager).await;
    let elsewhere = app.other_browser();
    elsewhere.login_as(Role::ContractManager).await;
    let token = app.api_token(Role::ContractManager).await;
    let (_, page) = app.get_html("/account").await;
    assert!(page.contains("<a href=\"/account/wachtwoord\">Wachtwoord wijzigen</a>"));
    let (status, form) = app.get_html("/account/wachtwoord").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("<label for=\"current\">Huidig wachtwoord"), "{form}");

    let new = "een-heel-nieuw-wachtwoord";
    for (current, new, repeat, message) in [
        ("geraden-wachtwoord", new, new, "Dit is niet uw huidige wachtwoord."),
        (PASSWORD, "kort", "kort", "Een wachtwoord heeft minstens 12 tekens (nu 4)."),
        (PASSWORD, new, "een-ander-nieuw-wachtwoord", "De twee nieuwe wachtwoorden zijn niet gelijk."),
    ] {
        let r = app.post_form("/account/wachtwoord", &[("current", current), ("new", new), ("repeat", repeat)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
        assert!(!body.contains(current) && !body.contains(new), "no password is sent back");
    }
    let r = app.post_form("/account/wachtwoord", &[("current", PASSWORD), ("new", new), ("repeat", new)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account?melding=wachtwoord");

    // This browser stays in, the other session ends, the new password logs in and the old one not; tokens work on.
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    assert!(location(&elsewhere.get("/account").await).starts_with("/login"));
    assert_eq!(app.other_browser().login("test-contract_manager", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.other_browser().login("test-contract_manager", new).await.status(), StatusCode::SEE_OTHER);
    assert!(works(&app, &token).await);
    let actors: Vec<String> =
        sqlx::query_scalar("SELECT actor FROM audit_log WHERE entity = 'user' AND action = 'reset_password'")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(actors, ["test-contract_manager"]);

    // A wrong current password counts as a failed login: after five from this address, the form (and the login
    // page, for this user from here) refuses for 15 minutes.
    // Failures count from the second after the pair's last successful login: a fresh sign-in, then a pause.
    let guesser = app.other_browser();
    guesser.login_as(Role::Finance).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let guess = [("current", "nog-een-gok-123"), ("new", "nog-een-wachtwoord"), ("repeat", "nog-een-wachtwoord")];
    for _ in 0..5 {
        let r = guesser.post_form("/account/wachtwoord", &guess).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(guesser.post_form("/account/wachtwoord", &guess).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = guesser.other_browser().login("test-finance", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the login page counts them too");
}
