//! Login, logout, timeouts, throttling, CSRF, cookies and security headers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::store;

use crate::helpers::{client, location, spawn_app, spawn_app_with, TestApp, PASSWORD};

#[tokio::test]
async fn a_page_request_without_login_goes_to_the_login_page_and_back_after_login() {
    let app = spawn_app().await;
    app.add_user("marieke", Role::ContractManager).await;
    let r = app.get("/aanbieders?q=brug").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?volgende=%2Faanbieders%3Fq%3Dbrug");

    let token = app.csrf().await;
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("username", "marieke"), ("password", PASSWORD), ("volgende", "/aanbieders?q=brug"), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/aanbieders?q=brug");
    assert_eq!(app.get("/aanbieders").await.status(), StatusCode::OK);

    // Logging out ends the session on the server.
    let r = app.post_form("/logout", &[]).await;
    assert_eq!(location(&r), "/login?melding=uitgelogd");
    assert_eq!(app.get("/aanbieders").await.status(), StatusCode::SEE_OTHER);
}

/// Where `volgende` leads after login: known ways to smuggle another site past a "starts with /" check,
/// each sent to the start page, and local paths kept exactly.
const NEXT_CASES: &[(&str, &str)] = &[
    ("//evil.example", "/"),
    ("///evil.example", "/"),
    ("////evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("\\/evil.example", "/"),
    ("/\\/evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("/\n/x", "/"),
    ("/\r\n/evil.example", "/"),
    ("/\u{0}/evil.example", "/"),
    ("/ /evil.example", "/"),
    (" /aanbieders", "/"),
    ("/aanbieders ", "/"),
    ("/\u{3000}/evil.example", "/"),
    ("/\u{200b}/evil.example", "/"),
    ("https://evil.example/", "/"),
    ("http:evil.example", "/"),
    ("https:/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("data:text/html,<script>alert(1)</script>", "/"),
    ("evil.example", "/"),
    ("@evil.example", "/"),
    ("/login?volgende=//evil.example", "/"),
    ("", "/"),
    // Encoded slashes stay part of a local path: the browser does not decode them into a host.
    ("/%2F/evil.example", "/%2F/evil.example"),
    ("/%5Cevil.example", "/%5Cevil.example"),
    ("/aanbieders?q=brug", "/aanbieders?q=brug"),
    ("/plaatsingen/3#voortgang", "/plaatsingen/3#voortgang"),
    ("/", "/"),
];

#[tokio::test]
async fn login_never_redirects_to_another_site() {
    let app = spawn_app().await;
    app.add_user("marieke", Role::ContractManager).await;
    // Through the login form, as an attacker's link would arrive.
    for (next, expected) in NEXT_CASES.iter().take(6) {
        let browser = app.other_browser();
        let r =
            browser.post_form("/login", &[("username", "marieke"), ("password", PASSWORD), ("volgende", next)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&r), *expected, "{next:?}");
    }
    // A signed-in user opening such a link is sent on at once: every case, by the same rule.
    app.login("marieke", PASSWORD).await;
    for (next, expected) in NEXT_CASES {
        let r = app.get(&format!("/login?volgende={}", urlencoding::encode(next))).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&r), *expected, "{next:?}");
    }
}

#[tokio::test]
async fn the_login_page_keeps_only_a_safe_next_page_in_its_form() {
    let app = spawn_app().await;
    // A newline in `volgende` once gave a 500.
    let (status, page) = app.get_html("/login?volgende=%2F%0A%2Fx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="volgende" value="/""#), "{page}");
    let (_, page) = app.get_html("/login?volgende=%2F%09%2Fevil.example").await;
    assert!(page.contains(r#"name="volgende" value="/""#), "{page}");
    let (_, page) = app.get_html("/login?volgende=%2Fcontracten%2F7").await;
    assert!(page.contains(r#"name="volgende" value="/contracten/7""#), "{page}");
}

#[tokio::test]
async fn wrong_password_unknown_user_and_deactivated_user_are_refused_alike() {
    let app = spawn_app().await;
    let id = app.add_user("piet", Role::Finance).await;
    app.add_user("beheer", Role::Admin).await;
    store::users::update(&app.db, id, 1, Role::Finance, false, "test").await.unwrap();
    for (user, pass) in [("beheer", "verkeerd-wachtwoord"), ("niemand", PASSWORD), ("piet", PASSWORD)] {
        let r = app.login(user, pass).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("De combinatie van gebruikersnaam en wachtwoord is onjuist, of het account is niet actief.")
        );
        assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER, "still signed out");
    }
}

#[tokio::test]
async fn five_failures_for_a_username_throttle_further_logins_with_429() {
    let app = spawn_app().await;
    app.add_user("anna", Role::Finance).await;
    for _ in 0..5 {
        assert_eq!(app.login("anna", "fout-wachtwoord!").await.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused now.
    let r = app.login("anna", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("Te veel mislukte inlogpogingen. Wacht 15 minuten"));
}

/// A login as a browser behind the trusted proxy at 127.0.0.1 that says it forwards for `address`.
async fn login_from(browser: &TestApp, address: &str, username: &str, password: &str) -> reqwest::Response {
    let token = browser.csrf().await;
    browser
        .client
        .post(browser.url("/login"))
        .header("x-forwarded-for", address)
        .form(&[("username", username), ("password", password), ("_csrf", &token)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn wrong_passwords_lock_out_only_the_guessing_address_and_slow_down_the_others() {
    let step = Duration::from_millis(400);
    let app = spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.login_delay_step = step;
        c.login_delay_max = step;
    })
    .await;
    app.add_user("financien", Role::Finance).await;
    app.add_user("kees", Role::PolicyAdviser).await;
    let attacker = app.other_browser();
    for _ in 0..5 {
        let r = login_from(&attacker, "203.0.113.66", "financien", "geraden-wachtwoord").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The guessing pair is locked, even with the right password.
    let r = login_from(&attacker, "203.0.113.66", "financien", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("Te veel mislukte inlogpogingen. Wacht 15 minuten"));

    // The real user at the office still gets in, after the delay five failures on that name earn.
    let office = app.other_browser();
    let started = Instant::now();
    let r = login_from(&office, "198.51.100.10", "financien", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(started.elapsed() >= step, "slowed down: {:?}", started.elapsed());
    assert_eq!(office.get("/").await.status(), StatusCode::OK);

    // A colleague behind the attacking address (one NAT address for a whole office) still gets in too.
    let colleague = app.other_browser();
    let r = login_from(&colleague, "203.0.113.66", "kees", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(colleague.get("/").await.status(), StatusCode::OK);

    // Wrong passwords from the office address count for the office only: five more lock that pair as well.
    for _ in 0..5 {
        assert_eq!(login_from(&office, "198.51.100.10", "kees", "fout").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_from(&office, "198.51.100.10", "kees", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_from(&app.other_browser(), "192.0.2.1", "kees", PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_deactivated_user_loses_an_existing_session() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    let (user, _) = store::users::credentials(&app.db, "test-finance").await.unwrap().unwrap();
    store::users::update(&app.db, user.id, user.version, Role::Finance, false, "test").await.unwrap();
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_password_reset_ends_every_session_of_that_user() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let id = app.add_user("jdevries", Role::Finance).await;
    let laptop = app.other_browser();
    let desktop = app.other_browser();
    for browser in [&laptop, &desktop] {
        assert_eq!(browser.login("jdevries", PASSWORD).await.status(), StatusCode::SEE_OTHER);
        assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    }
    let r = app
        .post_form(&format!("/beheer/gebruikers/{id}/wachtwoord"), &[("password", "een-heel-nieuw-wachtwoord")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for browser in [&laptop, &desktop] {
        let r = browser.get("/").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), "/login?volgende=%2F");
    }
    // The new password opens a new session.
    assert_eq!(laptop.login("jdevries", "een-heel-nieuw-wachtwoord").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/").await.status(), StatusCode::OK);

    // Admins who set their own password stay signed in where they did it; their other sessions end.
    let (me, _) = store::users::credentials(&app.db, "test-admin").await.unwrap().unwrap();
    let elsewhere = app.other_browser();
    elsewhere.login_as(Role::Admin).await;
    let r = app
        .post_form(&format!("/beheer/gebruikers/{}/wachtwoord", me.id), &[("password", "mijn-eigen-nieuwe-wachtwoord")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get("/beheer").await.status(), StatusCode::OK);
    assert_eq!(elsewhere.get("/beheer").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_app_with(|c| c.session_idle = time::Duration::seconds(1)).await;
    app.login_as(Role::Admin).await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_session_ends_at_the_absolute_timeout_however_active() {
    let app = spawn_app_with(|c| c.session_absolute = time::Duration::seconds(1)).await;
    app.login_as(Role::Admin).await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.get("/").await.status(), StatusCode::SEE_OTHER);
}

fn session_cookie(r: &reqwest::Response) -> Option<String> {
    cookie_named(r, "taalbudget_sessie")
}

fn cookie_named(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

async fn session_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn looking_at_the_login_page_writes_no_session() {
    let app = spawn_app().await;
    app.add_user("kees", Role::PolicyAdviser).await;
    assert_eq!(session_rows(&app).await, 0);
    for _ in 0..3 {
        let r = client().get(app.url("/login")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(session_cookie(&r), None);
    }
    // A failed login writes none either; only signing in does.
    assert_eq!(app.login("kees", "verkeerd-wachtwoord").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(session_rows(&app).await, 0);
    assert_eq!(app.login("kees", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&app).await, 1);
}

#[tokio::test]
async fn the_login_forms_token_lives_in_a_signed_cookie_and_the_session_cookie_is_httponly_lax_and_renewed() {
    let app = spawn_app().await;
    app.add_user("kees", Role::PolicyAdviser).await;
    let r = app.get("/login").await;
    assert_eq!(session_cookie(&r), None);
    let csrf = cookie_named(&r, "taalbudget_csrf").expect("the login form's token cookie");
    assert!(csrf.ends_with("; Path=/; HttpOnly; SameSite=Strict"), "{csrf}");
    // The stylesheet needs no token.
    assert_eq!(
        cookie_named(&client().get(app.url("/static/style.css")).send().await.unwrap(), "taalbudget_csrf"),
        None
    );

    // Without the cookie, or with a cookie of our own making, the token in the form is refused.
    let token = crate::helpers::extract_csrf(&r.text().await.unwrap()).unwrap();
    let fields = [("username", "kees"), ("password", PASSWORD), ("_csrf", token.as_str())];
    let r = client().post(app.url("/login")).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let forged = format!("taalbudget_csrf={token}.{}", "0".repeat(64));
    let r = client().post(app.url("/login")).header("cookie", forged).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A session id planted before login is not the one the signed-in session gets.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let planted = "taalbudget_sessie=AAAAAAAAAAAAAAAAAAAAAA";
    let r = plain.get(app.url("/login")).header("cookie", planted).send().await.unwrap();
    let pair = cookie_named(&r, "taalbudget_csrf").unwrap().split(';').next().unwrap().to_string();
    let token = crate::helpers::extract_csrf(&r.text().await.unwrap()).unwrap();
    let r = plain
        .post(app.url("/login"))
        .header("cookie", format!("{planted}; {pair}"))
        .form(&[("username", "kees"), ("password", PASSWORD), ("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = session_cookie(&r).expect("a session cookie at login");
    assert!(after.contains("HttpOnly") && after.contains("SameSite=Lax") && !after.contains("Secure"), "{after}");
    assert!(!after.starts_with(&format!("{planted};")), "{after}");
    let session = after.split(';').next().unwrap().to_string();
    assert_eq!(plain.get(app.url("/")).header("cookie", session).send().await.unwrap().status(), StatusCode::OK);

    // Behind HTTPS both cookies are Secure, and the browser is told to use HTTPS only.
    let secure = spawn_app_with(|c| c.secure_cookies = true).await;
    let r = secure.get("/login").await;
    assert!(cookie_named(&r, "taalbudget_csrf").unwrap().ends_with("; HttpOnly; SameSite=Strict; Secure"));
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(app.get("/login").await.headers().get("strict-transport-security"), None, "not over plain HTTP");
}

#[tokio::test]
async fn a_tampered_session_cookie_is_treated_as_signed_out() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let r = client()
        .get(app.url("/aanbieders"))
        .header("cookie", "taalbudget_sessie=AAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
}

#[tokio::test]
async fn forged_posts_get_403_and_change_nothing() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let fields = [("name", "Vervalst"), ("kvk", "12345678")];
    // No token.
    let r = app.client.post(app.url("/aanbieders")).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("Dit formulier is verlopen of komt niet van taalbudget zelf."));
    // A wrong token.
    let r = app
        .client
        .post(app.url("/aanbieders"))
        .form(&[("name", "Vervalst"), ("kvk", "12345678"), ("_csrf", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The right token, but the browser says the request comes from another site.
    let token = app.csrf().await;
    let with_token = [("name", "Vervalst"), ("kvk", "12345678"), ("_csrf", token.as_str())];
    let r = app
        .client
        .post(app.url("/aanbieders"))
        .header("sec-fetch-site", "cross-site")
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .post(app.url("/aanbieders"))
        .header("origin", "https://evil.example")
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(store::providers::list(&app.db, "", store::providers::Filter::All).await.unwrap().is_empty());
    // The same form from our own page works.
    let r = app
        .client
        .post(app.url("/aanbieders"))
        .header("sec-fetch-site", "same-origin")
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/health", "/static/style.css", "/bestaat-niet", "/aanbieders"] {
        let r = app.get(path).await;
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
        assert_eq!(h.get("referrer-policy").unwrap(), "same-origin", "{path}");
        assert!(h.get("x-request-id").is_some(), "{path}");
    }
}

#[tokio::test]
async fn upload_forms_send_their_token_in_the_body_never_in_the_address() {
    let app = spawn_app().await;
    taalbudget::demo::fill(&app.db).await.unwrap();
    app.login_as(Role::Admin).await;
    for (page, action) in [
        ("/import", "/import"),
        ("/registers/import", "/registers/import"),
        ("/kwaliteit/contracten/1", "/kwaliteit/contracten/1/plannen"),
    ] {
        let (_, html) = app.get_html(page).await;
        let form = html.split(&format!(r#"action="{action}""#)).nth(1).expect(page);
        // The token is the form's first field, so the server finds it before the file.
        let first_field = form.split("<input").nth(1).unwrap();
        assert!(first_field.starts_with(r#" type="hidden" name="_csrf""#), "{page}: {first_field}");
        assert!(!html.contains("_csrf="), "{page}");
    }
    let token = app.csrf().await;
    let file = || reqwest::multipart::Part::bytes(b"Datum;Bedrag\n".to_vec()).file_name("a.csv");
    // The token in the address only: refused, nothing read.
    let form = reqwest::multipart::Form::new().text("sjabloon", "standaard-grootboek").part("bestand", file());
    let r = app.client.post(app.url(&format!("/import?_csrf={token}"))).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The token as the form's first field: accepted (the check of the file follows).
    let form = app.multipart_form().await.text("sjabloon", "standaard-grootboek").part("bestand", file());
    let r = app.client.post(app.url("/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/import/taken/"), "{}", location(&r));
}

#[tokio::test]
async fn forms_take_at_most_one_megabyte_and_uploads_up_to_the_upload_limit() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let token = app.csrf().await;
    let big = "x".repeat(1024 * 1024 + 1);
    let message = "Het formulier is te groot: een formulier zonder bestand mag hoogstens 1 MB zijn. \
                   Maak de ingevulde tekst korter en verstuur het opnieuw.";
    // An ordinary form, its token first and then a description of over 1 MB.
    let r = app
        .client
        .post(app.url("/scenarios"))
        .form(&[("_csrf", token.as_str()), ("name", "Groot"), ("description", &big)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains(message));
    // The same bytes as a file to a route that takes no files, token in the header.
    let form = reqwest::multipart::Form::new().part("bestand", reqwest::multipart::Part::text(big.clone()));
    let r =
        app.client.post(app.url("/aanbieders")).header("x-csrf-token", &token).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains(message));
    // A body just under the limit is read as usual.
    let r = app
        .client
        .post(app.url("/scenarios"))
        .form(&[("_csrf", token.as_str()), ("name", ""), ("description", &big[..1000])])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(store::overview::scenarios(&app.db).await.unwrap().is_empty());
    // An upload route takes a larger file.
    let form = app
        .multipart_form()
        .await
        .text("sjabloon", "standaard-grootboek")
        .part("bestand", reqwest::multipart::Part::bytes(vec![b'x'; 3 * 1024 * 1024]).file_name("groot.csv"));
    let r = app.client.post(app.url("/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_policy_adviser_posting_to_a_write_route_gets_403_and_nothing_changes() {
    let app = spawn_app().await;
    app.login_as(Role::PolicyAdviser).await;
    let r = app.post_form("/aanbieders", &[("name", "Niet toegestaan"), ("kvk", "12345678")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert!(page.contains("Geen toegang") && page.contains("uw rol geeft geen recht op deze actie"));
    assert!(store::providers::list(&app.db, "", store::providers::Filter::All).await.unwrap().is_empty());
    assert_eq!(app.get("/beheer/gebruikers").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn admins_create_users_change_roles_and_reset_passwords() {
    let app = spawn_app().await;
    app.login_as(Role::Admin).await;
    let r = app
        .post_form("/beheer/gebruikers", &[("username", "jdevries"), ("role", "finance"), ("password", "kort")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Een wachtwoord heeft minstens 12 tekens (nu 4)."));
    let r = app
        .post_form("/beheer/gebruikers", &[("username", "jdevries"), ("role", "finance"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (user, _) = store::users::credentials(&app.db, "jdevries").await.unwrap().unwrap();
    assert_eq!(user.role, Role::Finance);

    let r = app
        .post_form(
            &format!("/beheer/gebruikers/{}", user.id),
            &[("role", "policy_adviser"), ("active", "on"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A stale edit is refused.
    let r = app
        .post_form(&format!("/beheer/gebruikers/{}", user.id), &[("role", "admin"), ("active", "on"), ("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(store::users::get(&app.db, user.id).await.unwrap().unwrap().role, Role::PolicyAdviser);

    let r = app
        .post_form(&format!("/beheer/gebruikers/{}/wachtwoord", user.id), &[("password", "een-heel-nieuw-wachtwoord")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let other = app.other_browser();
    assert_eq!(other.login("jdevries", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(other.login("jdevries", "een-heel-nieuw-wachtwoord").await.status(), StatusCode::SEE_OTHER);

    // The last admin cannot be demoted.
    let (me, _) = store::users::credentials(&app.db, "test-admin").await.unwrap().unwrap();
    let r = app
        .post_form(&format!("/beheer/gebruikers/{}", me.id), &[("role", "finance"), ("active", "on"), ("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("laatste actieve beheerder"));
}

fn cli(db: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"));
    c.arg("--db").arg(db).env_remove("TAALBUDGET_PASSWORD").env("TAALBUDGET_LOG", "error");
    c
}

#[tokio::test]
async fn the_command_line_adds_users_with_a_password_from_env_or_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = cli(&db)
        .args(["user", "add", "--username", "eerste", "--role", "admin"])
        .env("TAALBUDGET_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Gebruiker eerste (Beheerder) aangemaakt"));

    let mut child = cli(&db)
        .args(["user", "add", "--username", "tweede", "--role", "policy_adviser"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"nog-een-lang-wachtwoord\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());

    let out = cli(&db)
        .args(["user", "add", "--username", "derde", "--role", "admin"])
        .env("TAALBUDGET_PASSWORD", "kort")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("minstens 12 tekens"));
    let out = cli(&db)
        .args(["user", "add", "--username", "vierde", "--role", "koning"])
        .env("TAALBUDGET_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("onbekende rol 'koning'"));
    let out = cli(&db)
        .args(["user", "add", "--username", "eerste", "--role", "admin"])
        .env("TAALBUDGET_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    let pool = store::connect(&db).await.unwrap();
    let users = store::users::list(&pool).await.unwrap();
    let names: Vec<_> = users.iter().map(|u| (u.username.as_str(), u.role)).collect();
    assert_eq!(names, [("eerste", Role::Admin), ("tweede", Role::PolicyAdviser)]);
    let actors: Vec<String> =
        sqlx::query_scalar("SELECT actor FROM audit_log WHERE entity = 'user'").fetch_all(&pool).await.unwrap();
    assert!(actors.iter().all(|a| a.starts_with("cli:")), "{actors:?}");
}
