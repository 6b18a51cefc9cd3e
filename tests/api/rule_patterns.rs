//! Attribution rules that match how ledgers are coded (issue 22): lists, prefixes, numeric ranges, description,
//! dates and the amount's sign, placed anywhere in the order; the preview, the command line and what applying
//! stores agree line by line.

// Amounts are written as euros_cents (1_234_56 is € 1.234,56) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;

use reqwest::StatusCode;
use taalbudget::auth::roles::Role;
use taalbudget::domain::attribution::{AmountSign, ContractChoice, Criteria, Pattern};
use taalbudget::import::ledger::LedgerLine;
use taalbudget::store;
use taalbudget::store::attribution::{NewRule, RuleChange};

use crate::helpers::{import_ledger, ledger_line, location, other_stream, spawn_app, TestApp};

async fn stream(app: &TestApp, code: &str) -> i64 {
    other_stream(app, code, "2026-12-31").await
}

/// `taalbudget rules ...` against the app's database: (exit code, stdout's last line as JSON, stderr).
fn rules_cli(app: &TestApp, args: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, stdout, stderr) = rules_cli_text(app, args);
    let json = stdout.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or_default();
    (code.unwrap_or(-1), json, stderr)
}

/// `taalbudget rules ARGS` without --json: (exit code, stdout, stderr).
fn rules_cli_text(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taalbudget"))
        .arg("--db")
        .arg(&app.db_path)
        .arg("rules")
        .args(args)
        .env("TAALBUDGET_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A small deterministic generator (no crate needed; the same ledger every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next() as usize % from.len()]
    }
}

const COST_CENTRES: [&str; 7] =
    ["6.1-INB-001", "6.1-INB-002", "6.1-inb-010", "6.1-INBX", "6.2-INB-001", "KP-EIGEN", "6.2-INB"];
const ACCOUNTS: [&str; 8] = ["4300", "4310", "4350", "4399", "4400", "04320", "43AB", "4299"];
const TASK_FIELDS: [&str; 4] = ["6.1", "6.11", "6.2", "0.4"];
const CREDITORS: [&str; 7] = ["2001", "2002", "2005", "2010", "2011", "3001", ""];
const DESCRIPTIONS: [&str; 6] =
    ["B1-route", "ELIP maatwerk", "Creditnota Elip", "Catering", "Wi2013 ondertussen", "nazorg elip"];

fn generated_ledger(n: usize) -> Vec<LedgerLine> {
    let mut g = Lcg(22);
    let start = taalbudget::domain::dates::parse_iso("2023-01-01").unwrap();
    (0..n)
        .map(|i| {
            let day = start + time::Duration::days((g.next() % 700) as i64);
            let cents = (g.next() % 250_000) as i64 + 1;
            let cents = if g.next().is_multiple_of(5) { -cents } else { cents };
            let mut l = ledger_line(
                &taalbudget::domain::dates::iso(day),
                g.pick(&COST_CENTRES),
                g.pick(&CREDITORS),
                g.pick(&DESCRIPTIONS),
                cents,
            );
            l.gl_account = g.pick(&ACCOUNTS).into();
            l.task_field = g.pick(&TASK_FIELDS).into();
            l.document = format!("BS{i:06}");
            l
        })
        .collect()
}

/// The hand-written reference: each rule of the test as plain Rust on the generated values, in order.
fn reference<'a>(rules: &[&'a str], l: &LedgerLine) -> Option<&'a str> {
    let desc = l.description.to_lowercase();
    let gl: Option<u32> = l.gl_account.bytes().all(|b| b.is_ascii_digit()).then(|| l.gl_account.parse().unwrap());
    let cred: Option<u32> = (!l.creditor_number.is_empty()).then(|| l.creditor_number.parse().unwrap());
    let date = taalbudget::domain::dates::iso(l.booking_date);
    let negative = l.amount.is_negative();
    for name in rules {
        let hit = match *name {
            "elip-credit" => desc.contains("elip") && negative,
            "inb-prefix" => {
                l.cost_centre.to_uppercase().starts_with("6.1-INB-")
                    && ["4300", "4310"].contains(&l.gl_account.as_str())
            }
            "43xx-2024" => gl.is_some_and(|n| (4300..=4399).contains(&n)) && date.as_str() >= "2024-01-01",
            "creditors" => cred.is_some_and(|c| c == 2001 || (2005..=2010).contains(&c)) && l.task_field == "6.1",
            "elip" => desc.contains("elip"),
            "task-6" => l.task_field.starts_with("6.") && date.as_str() <= "2023-06-30" && !negative,
            "inb-62" => l.cost_centre.starts_with("6.2-INB-") && gl.is_some_and(|n| (4300..=4399).contains(&n)),
            other => panic!("{other}"),
        };
        if hit {
            return Some(name);
        }
    }
    None
}

/// Every line lands where the reference says: (rule name -> (lines, cents)), checked line by line.
async fn check_every_line(
    app: &TestApp,
    ledger: &[LedgerLine],
    order: &[&str],
    ids: &BTreeMap<&str, i64>,
) -> BTreeMap<String, (usize, i64)> {
    let stored: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT e.document, a.rule_id FROM ledger_entry e LEFT JOIN ledger_attribution a ON a.ledger_entry_id = e.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let by_document: BTreeMap<String, Option<i64>> = stored.into_iter().collect();
    assert_eq!(by_document.len(), ledger.len());
    let mut counts: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for l in ledger {
        let want = reference(order, l);
        let got = by_document[&l.document];
        assert_eq!(got, want.map(|n| ids[n]), "line {} ({l:?}) should go to {want:?}", l.document);
        let c = counts.entry(want.unwrap_or("wachtrij").to_string()).or_default();
        c.0 += 1;
        c.1 += l.amount.cents();
    }
    counts
}

fn form_rule<'a>(
    name: &'a str,
    stream: &'a str,
    fields: &[(&'a str, &'a str)],
    place: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("name", name), ("stream_id", stream), ("place", place), ("actie", "opslaan")];
    form.extend_from_slice(fields);
    form
}

/// 10,000 generated lines and six overlapping rules (prefix vs range vs list vs description vs dates vs sign),
/// entered through the form in scrambled order with places: every line lands where the reference matcher says,
/// after the import and after a seventh rule is put at place 2; the preview's per-rule counts and what moves equal
/// what applying stores; the command line says the same.
#[tokio::test]
async fn ten_thousand_lines_land_where_the_reference_matcher_says_and_the_preview_equals_what_is_applied() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let mut streams = BTreeMap::new();
    for code in ["A", "B", "C", "D", "E"] {
        streams.insert(code, stream(&app, code).await.to_string());
    }
    // Scrambled, with places, to end as elip-credit, inb-prefix, 43xx-2024, creditors, elip, task-6.
    let forms = [
        form_rule("elip", &streams["E"], &[("description_contains", "ELIP")], ""),
        form_rule("inb-prefix", &streams["A"], &[("cost_centre", "6.1-INB-*"), ("gl_account", "4300, 4310")], "1"),
        form_rule(
            "task-6",
            &streams["D"],
            &[("task_field", "6.*"), ("date_until", "2023-06-30"), ("amount_sign", "invoices")],
            "",
        ),
        form_rule(
            "elip-credit",
            &streams["E"],
            &[("description_contains", "elip"), ("amount_sign", "credit_notes")],
            "1",
        ),
        form_rule("43xx-2024", &streams["B"], &[("gl_account", "4300-4399"), ("date_from", "01-01-2024")], "3"),
        form_rule("creditors", &streams["C"], &[("creditor_number", "2001, 2005-2010"), ("task_field", "6.1")], "4"),
    ];
    for form in &forms {
        let r = app.post_form("/toerekening/regels", form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}: {}", form[0], r.text().await.unwrap());
    }
    let order = ["elip-credit", "inb-prefix", "43xx-2024", "creditors", "elip", "task-6"];
    let rules = store::attribution::rules(&app.db).await.unwrap();
    assert_eq!(rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), order);
    assert_eq!(rules.iter().map(|r| r.position).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6]);
    let mut ids: BTreeMap<&str, i64> =
        rules.iter().map(|r| (order.iter().find(|n| **n == r.name).copied().unwrap(), r.id)).collect();

    let ledger = generated_ledger(10_000);
    let out = import_ledger(&app, &ledger).await;
    assert_eq!(out.summary.rows_imported, 10_000);
    let counts = check_every_line(&app, &ledger, &order, &ids).await;
    eprintln!("after import: {counts:?}");
    // Every rule takes lines, and the rules overlap: many lines match more than one.
    assert!(order.iter().all(|n| counts[*n].0 > 0), "{counts:?}");
    let overlapping =
        ledger.iter().filter(|l| order.iter().filter(|n| reference(&[n], l).is_some()).count() > 1).count();
    assert!(overlapping > 1_000, "{overlapping}");

    // The rules page shows what each rule takes now, from the same plan.
    let now = store::attribution::plan_apply(&app.db).await.unwrap();
    for name in order {
        assert_eq!((now.takes[&ids[name]].lines, now.takes[&ids[name]].total.cents()), counts[name], "{name}");
    }
    assert_eq!((now.queue.lines, now.queue.total.cents()), counts["wachtrij"]);
    assert_eq!(now.moved().lines, 0);

    // A seventh rule at place 2: the preview's figures equal what saving it stores.
    let new_rule = NewRule {
        name: "inb-62".into(),
        criteria: Criteria {
            cost_centre: Pattern::parse("6.2-INB-*").unwrap(),
            gl_account: Pattern::parse("4300-4399").unwrap(),
            ..Default::default()
        },
        stream_id: streams["D"].parse().unwrap(),
        budget_line_id: None,
        contract: ContractChoice::None,
    };
    let change = RuleChange::Add { rule: Box::new(new_rule.clone()), place: Some(2) };
    let plan = store::attribution::plan_change(&app.db, &change).await.unwrap();
    let (id, outcome) = store::attribution::add_rule_at(&app.db, &new_rule, Some(2), "test").await.unwrap();
    ids.insert("inb-62", id);
    let order = ["elip-credit", "inb-62", "inb-prefix", "43xx-2024", "creditors", "elip", "task-6"];
    let counts_after = check_every_line(&app, &ledger, &order, &ids).await;
    eprintln!("after inb-62 at place 2: {counts_after:?}");
    let moved_by_reference = ledger
        .iter()
        .filter(|l| {
            reference(&order, l) != reference(&order[..1].iter().chain(&order[2..]).copied().collect::<Vec<_>>(), l)
        })
        .count();
    assert_eq!(plan.moved().lines, moved_by_reference);
    assert_eq!(outcome.changed, moved_by_reference);
    for name in order {
        let id = if name == "inb-62" { store::attribution::NEW_RULE } else { ids[name] };
        let preview = plan.takes.get(&id).copied().unwrap_or_default();
        assert_eq!((preview.lines, preview.total.cents()), counts_after[name], "{name}");
        let applied = store::attribution::rule_usage(&app.db, ids[name]).await.unwrap();
        assert_eq!((applied.0 as usize, applied.1.cents()), counts_after[name], "{name}");
    }
    assert_eq!((plan.queue.lines, plan.queue.total.cents()), counts_after["wachtrij"]);
    assert!(plan.closed_moves.is_empty());

    // The command line lists the same figures; a dry run moves nothing now.
    let (code, list, err) = rules_cli(&app, &["list", "--json"]);
    assert_eq!(code, 0, "{err}");
    for (i, name) in order.iter().enumerate() {
        let r = &list["rules"][i];
        assert_eq!(r["name"], *name);
        assert_eq!(r["place"], i + 1);
        assert_eq!(r["lines"], counts_after[*name].0);
        assert_eq!(r["amount"], taalbudget::money::Money::from_cents(counts_after[*name].1).plain());
    }
    assert_eq!(list["rules"][1]["gl_account"], "4300-4399");
    assert_eq!(list["rules"][1]["cost_centre"], "6.2-INB-*");
    let (code, dry, err) = rules_cli(&app, &["apply", "--dry-run", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(dry["moved"], serde_json::json!({"lines": 0, "amount": "0.00"}));
    assert_eq!(dry["queue"]["lines"], counts_after["wachtrij"].0);
}

/// A bad pattern is refused next to its field with a Dutch message that says what to write; nothing is stored.
#[tokio::test]
async fn a_bad_pattern_or_place_on_the_rule_form_is_refused_with_422_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let spuk = stream(&app, "SPUK").await.to_string();
    for (field, value, message) in [
        ("gl_account", "4399-4300", "Bereik 4399-4300: het begin is groter dan het eind; schrijf 4300-4399."),
        (
            "cost_centre",
            "6.1-*-INB",
            "'6.1-*-INB': een * mag alleen aan het eind staan, voor een voorvoegsel zoals 6.1-INB-*.",
        ),
        (
            "creditor_number",
            "2001,,2002",
            "De lijst '2001,,2002' heeft een lege waarde: haal de dubbele of losse komma weg.",
        ),
        ("task_field", "*", "Alleen * zou elke waarde nemen: laat het veld leeg als elke waarde goed is."),
        ("place", "3", "Geef als plaats een getal van 1 tot en met 1, of laat het veld leeg voor achteraan."),
    ] {
        let mut form = vec![("name", "Fout"), ("stream_id", spuk.as_str()), ("actie", "opslaan"), (field, value)];
        if field == "place" {
            form.push(("cost_centre", "KP"));
        }
        let r = app.post_form("/toerekening/regels", &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{field}: {message}\n{body}");
        assert!(body.contains(&format!("value=\"{value}\"")), "the typed value stays: {field}");
        assert!(store::attribution::rules(&app.db).await.unwrap().is_empty(), "{field}");
    }
    // The sign alone is no rule.
    let r = app
        .post_form(
            "/toerekening/regels",
            &[("name", "Alles"), ("stream_id", &spuk), ("amount_sign", "invoices"), ("actie", "opslaan")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Geef minstens één kenmerk op"));
}

/// Closed years do not change: a new rule, a move or a delete that would move 2023 lines to another stream is
/// refused with a Dutch message and stores nothing; limited to 2024 it is saved. A database whose closed lines
/// differ from the rules (a rule edited after closing, as earlier versions allowed) makes the dry run exit 1.
#[tokio::test]
async fn a_change_that_would_move_lines_of_a_closed_year_between_streams_is_refused() {
    let app = spawn_app().await;
    app.login_as(Role::Finance).await;
    let spuk = stream(&app, "SPUK").await.to_string();
    let elip = stream(&app, "ELIP").await.to_string();
    import_ledger(
        &app,
        &[
            ledger_line("2023-03-01", "6.1-INB-001", "2001", "ELIP maatwerk", 500_00),
            ledger_line("2023-04-01", "6.1-INB-002", "2001", "B1-route", 1_234_56),
            ledger_line("2024-02-01", "6.1-INB-001", "2001", "ELIP maatwerk", 250_00),
        ],
    )
    .await;
    let r = app
        .post_form("/toerekening/regels", &form_rule("Inburgering", &spuk, &[("cost_centre", "6.1-INB-*")], ""))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.post_form("/financiering/jaren/2023/afsluiten", &[("bevestigd", "ja")]).await.status(),
        StatusCode::SEE_OTHER
    );

    // ELIP before Inburgering would take the 2023 ELIP line from SPUK: refused, also in the preview.
    let elip_rule = form_rule("ELIP", &elip, &[("description_contains", "elip")], "1");
    let r = app.post_form("/toerekening/regels", &elip_rule).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    let refusal = "Deze wijziging zou 1 grootboekregel (€ 500,00) in afgesloten jaar 2023 naar een andere financieringsbron verplaatsen, en een afgesloten jaar verandert niet. Laat de regel gelden vanaf een boekdatum na 2023 (veld 'Boekdatum vanaf'), of vraag een beheerder het jaar te heropenen.";
    assert!(body.contains(refusal), "{body}");
    assert_eq!(store::attribution::rules(&app.db).await.unwrap().len(), 1);
    let mut preview = elip_rule.clone();
    preview.retain(|(k, _)| *k != "actie");
    preview.push(("actie", "voorvertoning"));
    let body = app.post_form("/toerekening/regels", &preview).await.text().await.unwrap();
    assert!(
        body.contains(refusal)
            && body
                .contains("op plaats 1 zou deze regel <strong>1 regel</strong> nemen, samen <strong>€ 250,00</strong>"),
        "{body}"
    );

    // From 2024 on it is allowed, at place 1; it takes the 2024 line only.
    let mut from_2024 = elip_rule.clone();
    from_2024.push(("date_from", "2024-01-01"));
    assert_eq!(app.post_form("/toerekening/regels", &from_2024).await.status(), StatusCode::SEE_OTHER);
    let rules = store::attribution::rules(&app.db).await.unwrap();
    assert_eq!(rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["ELIP", "Inburgering"]);
    assert_eq!(store::attribution::rule_usage(&app.db, rules[0].id).await.unwrap().1.cents(), 250_00);

    // Deleting Inburgering would send the 2023 lines to the queue: refused, before and after confirming.
    let inb = rules[1].id;
    for form in [vec![], vec![("bevestigd", "ja")]] {
        let r = app.post_form(&format!("/toerekening/regels/{inb}/verwijderen"), &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("Deze wijziging zou 2 grootboekregels (€ 1.734,56) in afgesloten jaar 2023"));
    }
    assert_eq!(store::attribution::rules(&app.db).await.unwrap().len(), 2);
    // Moving ELIP down changes nothing in 2023 (it starts in 2024): the confirmation shows what moves, then it moves.
    let r = app.post_form(&format!("/toerekening/regels/{}/plaats", rules[0].id), &[("plaats", "2")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Toerekenregel ELIP naar plaats 2?")
            && body.contains("Wat verschuift: 1 grootboekregel, samen € 250,00"),
        "{body}"
    );
    let r =
        app.post_form(&format!("/toerekening/regels/{}/plaats?plaats=2", rules[0].id), &[("bevestigd", "ja")]).await;
    assert_eq!(location(&r), "/toerekening?melding=opgeslagen");
    let names: Vec<String> = store::attribution::rules(&app.db).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Inburgering", "ELIP"]);

    // A rule edited behind the closed year's back: the dry run names what would move there, and exits 1.
    sqlx::query("UPDATE attribution_rule SET stream_id = ? WHERE id = ?")
        .bind(elip.parse::<i64>().unwrap())
        .bind(inb)
        .execute(&app.db)
        .await
        .unwrap();
    let (code, dry, _) = rules_cli(&app, &["apply", "--dry-run", "--json"]);
    assert_eq!(code, 1);
    assert_eq!(dry["closed_moved"], serde_json::json!({"lines": 2, "amount": "1734.56"}));
    assert_eq!(dry["closed_moves"][0]["closed_year"], 2023);
    assert_eq!(dry["closed_moves"][0]["from_stream"], "SPUK");
    assert_eq!(dry["closed_moves"][0]["to_stream"], "ELIP");
    assert_eq!(dry["moved"], serde_json::json!({"lines": 1, "amount": "250.00"}), "the 2024 line would move");
    let (code, text, stderr) = rules_cli_text(&app, &["apply", "--dry-run"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("Toepassen zou verplaatsen 1 grootboekregel, samen € 250,00."), "{text}");
    assert!(stderr.contains("geweigerd: 2 grootboekregels in afgesloten jaar 2023 zouden van SPUK (regel 1 Inburgering) naar ELIP (regel 1 Inburgering) gaan (€ 1.734,56); die blijven staan"), "{stderr}");
    // Applying moves the open year only; the closed year keeps SPUK, and that is said and exits 1 as in the dry run.
    let (code, text, stderr) = rules_cli_text(&app, &["apply"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("Toepassen verplaatst 1 grootboekregel, samen € 250,00."), "{text}");
    assert!(
        stderr.contains(
            "Niet alles toegepast: 2 grootboekregels (€ 1.734,56) in een afgesloten jaar zijn niet verplaatst; de \
             rest is toegepast. Laat de gewijzigde regel gelden vanaf een boekdatum na het afgesloten jaar, of vraag \
             een beheerder het jaar te heropenen."
        ),
        "{stderr}"
    );
    let (code, applied, _) = rules_cli(&app, &["apply", "--json"]);
    assert_eq!(
        (code, applied["changed"].as_u64()),
        (1, Some(0)),
        "nothing left to move, the closed year still refuses"
    );
    assert_eq!(applied["closed_moved"], serde_json::json!({"lines": 2, "amount": "1734.56"}));
    let sums = store::attribution::sums(&app.db).await.unwrap();
    assert_eq!(sums.actual_by_stream[&(spuk.parse().unwrap(), 2023)].cents(), 1_734_56);
}

/// A database built by migrations 0001-0012, with stream 1 and these `attribution_rule` rows (position, name, cost
/// centre, account, task field, creditor number, stream id, created at), then migrated to the end.
async fn migrated_from_0012(rules: &str) -> (tempfile::TempDir, sqlx::SqlitePool) {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let opts =
        SqliteConnectOptions::new().filename(dir.path().join("oud.db")).create_if_missing(true).foreign_keys(true);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.unwrap();
    let up_to_12 = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(store::MIGRATOR.iter().filter(|m| m.version <= 12).cloned().collect()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    up_to_12.run(&pool).await.unwrap();
    sqlx::raw_sql(&format!(
        "INSERT INTO funding_stream (id, code, name, kind, spend_from, created_at, updated_at)
             VALUES (1, 'SPUK', 'Spuk', 'other', '2022-01-01', 'x', 'x');
         INSERT INTO attribution_rule (position, name, cost_centre, gl_account, task_field, creditor_number, stream_id, created_at)
             VALUES {rules};"
    ))
    .execute(&pool)
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    store::MIGRATOR.run(&pool).await.unwrap();
    (dir, pool)
}

/// Migration 0013 keeps every existing rule matching what it matched: an exact value that would now read as a
/// range, list or prefix is quoted; other values stay as they were; the sign is 'both'.
#[tokio::test]
async fn migration_0013_quotes_old_exact_values_that_would_read_as_patterns() {
    let (_dir, pool) = migrated_from_0012(
        "(1, 'oud', 'KP6100-INB', '4300-4399', 'a,b', '2001*', 1, 'x'),
         (2, 'gewoon', 'KP-INB', '4301', '6.1', '', 1, 'x')",
    )
    .await;
    let rules = store::attribution::rules(&pool).await.unwrap();
    let c = &rules[0].criteria;
    assert_eq!(
        [c.cost_centre.as_str(), c.gl_account.as_str(), c.task_field.as_str(), c.creditor_number.as_str()],
        ["KP6100-INB", "\"4300-4399\"", "\"a,b\"", "\"2001*\""]
    );
    assert!(c.gl_account.matches("4300-4399") && !c.gl_account.matches("4310"));
    assert!(c.task_field.matches("a,b") && !c.task_field.matches("a"));
    assert!(c.creditor_number.matches("2001*") && !c.creditor_number.matches("20015"));
    assert_eq!(c.amount_sign, AmountSign::Both);
    let c = &rules[1].criteria;
    assert_eq!([c.cost_centre.as_str(), c.gl_account.as_str(), c.task_field.as_str()], ["KP-INB", "4301", "6.1"]);
}

/// An old exact value with a double quote in it (a code `KP"6`, a value `"4300"` typed with its quotes) was put in
/// quotes by migration 0013 (`"KP"6"`), which the list syntax cannot read: loading the rules failed. Such a whole
/// quoted field now reads as exactly the value inside, so the rule loads and matches what it matched before, and the
/// rules page and the rules command can show it.
#[tokio::test]
async fn an_old_exact_value_with_a_double_quote_keeps_matching_after_migration_0013() {
    let (_dir, pool) = migrated_from_0012(r#"(1, 'aanhalingsteken', 'KP"6', '"4300"', '', 'a",b', 1, 'x')"#).await;
    let rules = store::attribution::rules(&pool).await.unwrap_or_else(|e| panic!("{e}"));
    let c = &rules[0].criteria;
    assert_eq!(
        [c.cost_centre.as_str(), c.gl_account.as_str(), c.creditor_number.as_str()],
        [r#""KP"6""#, r#"""4300"""#, r#""a",b""#]
    );
    assert!(c.cost_centre.matches(r#"kp"6"#) && !c.cost_centre.matches("KP6"));
    assert!(c.gl_account.matches(r#""4300""#) && !c.gl_account.matches("4300"));
    assert!(c.creditor_number.matches(r#"A",B"#) && !c.creditor_number.matches("a"));
}
