//! The `token` commands: make a personal API token for a user (the secret alone on stdout), list every token,
//! revoke one. Exit codes as the other operator commands: 0 done, 1 refused (nothing changed), 2 bad usage.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::cli_actor;
use crate::domain::dates;
use crate::store::tokens::{self, TokenError, TokenInfo, MAX_DAYS};
use crate::store::{self, users};

/// `token create --user NAME --name LABEL [--days N]`. Only the secret goes to stdout, so that
/// `TOKEN=$(taalbudget token create ...)` captures exactly it; what was made is said on stderr.
pub async fn create(db_path: &Path, username: &str, name: &str, days: i64) -> anyhow::Result<ExitCode> {
    if !(1..=MAX_DAYS).contains(&days) {
        eprintln!("fout: {}", TokenError::Days(days));
        return Ok(ExitCode::from(2));
    }
    let db = store::connect(db_path).await?;
    let user = users::credentials(&db, username.trim()).await?.map(|(u, _)| u);
    let Some(user) = user.filter(|u| u.active) else {
        eprintln!("fout: er is geen actieve gebruiker '{}'", username.trim());
        return Ok(ExitCode::from(1));
    };
    match tokens::create(&db, user.id, name, days, &cli_actor()).await {
        Ok(made) => {
            println!("{}", made.secret);
            eprintln!(
                "API-token {} ‘{}’ gemaakt voor {} ({}), geldig tot en met {}. Het token hierboven wordt niet opnieuw getoond.",
                made.id,
                name.trim(),
                user.username,
                user.role.label(),
                dates::display(made.expires_on)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (TokenError::Name | TokenError::Days(_))) => {
            eprintln!("fout: {e}");
            Ok(ExitCode::from(2))
        }
        Err(e @ TokenError::NoUser) => {
            eprintln!("fout: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// A token in `token list --json`: what the table shows, with its status in words.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    token: &'a TokenInfo,
    status: &'static str,
}

/// The status word of a token as the command line shows it (the screens say the same).
fn status(t: &TokenInfo, today: time::Date) -> &'static str {
    match t.not_working(today) {
        None => "werkt",
        Some(why) if why.starts_with("werkt niet meer") => "werkt niet meer",
        Some(why) => why,
    }
}

/// `token list [--json]`: every token of every user, newest first. Never a secret: none is stored.
pub async fn list(db_path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let db = store::connect(db_path).await?;
    let all = tokens::all(&db).await?;
    let today = dates::today();
    if json {
        let listed: Vec<Listed> = all.iter().map(|t| Listed { token: t, status: status(t, today) }).collect();
        println!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        eprintln!("Er zijn nog geen API-tokens.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>5}  {:<20}  {:<30}  {:<12}  {:<10}  {:<16}  status",
        "id", "gebruiker", "naam", "begint met", "geldig t/m", "laatst gebruikt"
    );
    for t in &all {
        let last = t.last_used_at.as_deref().map(dates::display_timestamp).unwrap_or_else(|| "nooit".into());
        println!(
            "{:>5}  {:<20}  {:<30}  {:<12}  {:<10}  {:<16}  {}",
            t.id,
            t.username,
            t.name,
            t.prefix,
            t.expires_on,
            last,
            status(t, today)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `token revoke ID`: revoking a revoked token again is done, not an error; an unknown one is refused.
pub async fn revoke(db_path: &Path, id: i64) -> anyhow::Result<ExitCode> {
    let db = store::connect(db_path).await?;
    let Some(token) = tokens::get(&db, id).await? else {
        eprintln!("fout: er is geen API-token met nummer {id}");
        return Ok(ExitCode::from(1));
    };
    if token.revoked_at.is_some() {
        println!("API-token {id} ‘{}’ van {} was al ingetrokken.", token.name, token.username);
        return Ok(ExitCode::SUCCESS);
    }
    match tokens::revoke(&db, id, &cli_actor()).await {
        Ok(()) => {
            println!("API-token {id} ‘{}’ van {} is ingetrokken.", token.name, token.username);
            Ok(ExitCode::SUCCESS)
        }
        Err(TokenError::NotFound) => {
            eprintln!("fout: er is geen API-token met nummer {id}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}
