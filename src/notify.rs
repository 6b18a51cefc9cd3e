//! Sending the e-mail digests: who is due, claiming each digest once, composing it from what is new for the
//! user and sending it over SMTP. `serve` runs [`run`] once a minute (`Config::digest_interval`); `taalbudget notify` runs it by hand.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use time::OffsetDateTime;

use crate::config::{Config, Smtp, SmtpTls};
use crate::domain::dates;
use crate::report::digest::{self, Digest};
use crate::report::notifications::{self, Item, Sources};
use crate::store::notifications::{self as stored, DigestChoice, Recipient};
use crate::store::Db;

/// Attempts per digest: a mail server that is down for a few minutes does not cost anyone their digest, one that
/// stays down does not get asked forever. Failures show on `/beheer/meldingen`.
pub const MAX_ATTEMPTS: i64 = 3;

/// The address the links in a digest start with: the public address, else the listen address.
pub fn base_url(config: &Config) -> String {
    match &config.base_url {
        Some(b) => b.clone(),
        None => format!("http://{}{}", config.listen, config.path_prefix),
    }
}

/// What is new or more pressing for this user since the last digest (and not already seen in the app).
pub async fn new_items(db: &Db, sources: Sources<'_>, r: &Recipient, today: time::Date) -> sqlx::Result<Vec<Item>> {
    let items = notifications::for_role(db, sources, r.role, today).await?;
    let mailed = stored::mailed(db, r.user_id).await?;
    let seen = stored::seen(db, r.user_id).await?;
    Ok(items.into_iter().filter(|i| !i.known(&mailed) && !i.known(&seen)).collect())
}

/// What happened to one user's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent with this many items.
    Sent(usize),
    /// Nothing new to say this period: nothing sent.
    Empty,
    /// This attempt failed; retried on a later run while attempts are left.
    Failed { attempt: i64, error: String },
    /// Not this user's turn, or not for this user: why.
    Skipped(&'static str),
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Sent(n) => format!("verstuurd ({})", crate::domain::words::count(*n, "melding", "meldingen")),
            Outcome::Empty => "niets nieuws te melden, niets verstuurd".into(),
            Outcome::Failed { attempt, error } => {
                format!("mislukt (poging {attempt} van {MAX_ATTEMPTS}): {error}")
            }
            Outcome::Skipped(why) => format!("overgeslagen: {why}"),
        }
    }
}

/// Sends every digest that is due at `now` (with `force`: now, whatever the schedule; each forced run is a period
/// of its own, so it too is claimed once), or only `only`'s. Each digest is claimed before it is sent.
pub async fn run(
    db: &Db,
    config: &Config,
    sources: Sources<'_>,
    only: Option<&str>,
    force: bool,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<(String, Outcome)>> {
    let smtp = config
        .smtp
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("er is geen mailserver ingesteld (smtp_host); zie 'taalbudget config'"))?;
    let mailer = Mailer::new(smtp)?;
    let base = base_url(config);
    let today = dates::in_amsterdam(now).date();
    let mut out = Vec::new();
    for r in stored::recipients(db, only).await? {
        let outcome = match due(&r, config.digest_hour, force, now) {
            Err(why) => Outcome::Skipped(why),
            Ok((period, email)) => match stored::claim(db, r.user_id, &period, MAX_ATTEMPTS).await? {
                None => Outcome::Skipped(
                    "het overzicht van deze periode is al verstuurd, wordt verstuurd of is te vaak mislukt",
                ),
                Some(claim) => {
                    let items = new_items(db, sources, &r, today).await?;
                    match digest::compose(&r.username, r.role, &items, &base, today) {
                        None => {
                            stored::empty(db, claim).await?;
                            Outcome::Empty
                        }
                        Some(d) => match mailer.send(&email, &d).await {
                            Ok(()) => {
                                let said: Vec<(String, i64)> =
                                    items.iter().map(|i| (i.subject.clone(), i.level)).collect();
                                stored::sent(db, claim, r.user_id, &said).await?;
                                Outcome::Sent(items.len())
                            }
                            Err(error) => {
                                tracing::warn!(user = %r.username, attempt = claim.attempt, %error, "e-mail met meldingen niet verstuurd");
                                stored::failed(db, claim, &error).await?;
                                Outcome::Failed { attempt: claim.attempt, error }
                            }
                        },
                    }
                }
            },
        };
        out.push((r.username, outcome));
    }
    Ok(out)
}

/// The period and address of a user's digest at `now`, or why there is none.
fn due(r: &Recipient, hour: u8, force: bool, now: OffsetDateTime) -> Result<(String, String), &'static str> {
    if r.digest == DigestChoice::None {
        return Err("geen e-mail gekozen");
    }
    let email = r.email.clone().ok_or("geen e-mailadres")?;
    if force {
        let stamp = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        return Ok((format!("handmatig-{stamp}"), email));
    }
    if !digest::is_due(r.digest, now, hour) {
        return Err("nog niet aan de beurt");
    }
    Ok((digest::period(r.digest, now).ok_or("geen e-mail gekozen")?, email))
}

/// What `notify --dry-run` prints: per user, the digest that would be sent now (or why none), without sending or
/// recording anything.
pub async fn preview(
    db: &Db,
    config: &Config,
    only: Option<&str>,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<(Recipient, Result<Digest, &'static str>)>> {
    let base = base_url(config);
    let today = dates::in_amsterdam(now).date();
    let mut out = Vec::new();
    for r in stored::recipients(db, only).await? {
        let planned = if r.digest == DigestChoice::None {
            Err("geen e-mail gekozen")
        } else if r.email.is_none() {
            Err("geen e-mailadres")
        } else {
            let items = new_items(db, Sources::default(), &r, today).await?;
            digest::compose(&r.username, r.role, &items, &base, today).ok_or("niets nieuws te melden")
        };
        out.push((r, planned));
    }
    Ok(out)
}

/// An SMTP connection as the settings describe it.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(smtp: &Smtp) -> anyhow::Result<Mailer> {
        let builder = match smtp.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(30)));
        if !smtp.user.is_empty() {
            builder = builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
        }
        let from = smtp.from.parse().map_err(|e| anyhow::anyhow!("afzender {}: {e}", smtp.from))?;
        Ok(Mailer { transport: builder.build(), from })
    }

    /// Sends one digest as text and HTML; the error in words when it fails.
    pub async fn send(&self, to: &str, d: &Digest) -> Result<(), String> {
        let message = message(&self.from, to, d)?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// The e-mail: a text part and an HTML part, both quoted-printable (plain ASCII survives any relay).
pub fn message(from: &Mailbox, to: &str, d: &Digest) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e| format!("ongeldig e-mailadres {to}: {e}"))?;
    let html = format!(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>{}</body></html>",
        maud::html! { (d.subject) }.into_string(),
        d.html
    );
    let part = |kind: ContentType, body: String| {
        SinglePart::builder().header(kind).header(ContentTransferEncoding::QuotedPrintable).body(body)
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&d.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, d.text.clone()))
                .singlepart(part(ContentType::TEXT_HTML, html)),
        )
        .map_err(|e| e.to_string())
}
