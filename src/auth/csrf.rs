//! CSRF protection: every state-changing request must carry a token and must not come from another site.
//!
//! Signed in, the token lives in the session. Before login there is no session at all, so that looking at
//! the login page writes nothing to the database: the login form's token lives in a cookie of its own
//! ([`COOKIE_NAME`]), signed with a key this server process draws at start (a signed double-submit
//! cookie). A post must present the token its cookie carries, and only this server can make a cookie that
//! verifies. After a restart an open login form is refused once and works when the page is opened again.
//!
//! The token travels in the form field `_csrf` (in a multipart upload: a field before the file, read from
//! the start of the body without holding the upload in memory) or in the header `X-CSRF-Token`; never in
//! the address, which proxies write to their logs.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use http_body::{Body as HttpBody, Frame, SizeHint};
use rand::RngCore;
use sha2::Sha256;
use tower_sessions::Session;

use super::CurrentUser;
use crate::config::Config;
use crate::error::AppError;

pub const SESSION_KEY: &str = "csrf";
pub const FIELD: &str = "_csrf";
/// The cookie that carries the token of a visitor who has not signed in.
pub const COOKIE_NAME: &str = "taalbudget_csrf";
/// How much of a multipart body is read to find the token; the form puts it first, in about 150 bytes.
const MULTIPART_PREFIX_LIMIT: usize = 64 * 1024;

/// The token of this request, made available to its views.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// The signing key for the cookie of visitors who have not signed in, and the cookie's attributes.
pub struct CookieSigner {
    key: [u8; 32],
    attributes: String,
}

impl CookieSigner {
    pub fn new(config: &Config) -> Arc<CookieSigner> {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        let path = if config.path_prefix.is_empty() { "/" } else { config.path_prefix.as_str() };
        let secure = if config.secure_cookies { "; Secure" } else { "" };
        Arc::new(CookieSigner { key, attributes: format!("; Path={path}; HttpOnly; SameSite=Strict{secure}") })
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    fn set_cookie(&self, token: &str) -> Option<HeaderValue> {
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        HeaderValue::from_str(&format!("{COOKIE_NAME}={token}.{signature}{}", self.attributes)).ok()
    }

    /// The token in the request's cookie, if this server signed it.
    fn token(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
            .find_map(|value| {
                let (token, signature) = value.split_once('.')?;
                let mut mac = self.mac();
                mac.update(token.as_bytes());
                mac.verify_slice(&hex::decode(signature).ok()?).ok()?;
                Some(token.to_string())
            })
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

async fn session_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_KEY).await {
        return t;
    }
    let t = new_token();
    if let Err(e) = session.insert(SESSION_KEY, &t).await {
        tracing::error!(error = %e, "CSRF-token kon niet in de sessie worden bewaard");
    }
    t
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Gives pages their token (the session's, or the cookie's before login) and refuses forged
/// state-changing requests with 403 before any handler runs.
pub async fn protect(State(signer): State<Arc<CookieSigner>>, session: Session, req: Request, next: Next) -> Response {
    // The API takes no cookies, only a bearer token a cross-site page cannot send: nothing to forge there.
    if super::token::is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let signed_in = req.extensions().get::<CurrentUser>().is_some();
    if is_safe(req.method()) {
        let (token, new_cookie) = match signed_in {
            true => (session_token(&session).await, false),
            false => match signer.token(req.headers()) {
                Some(t) => (t, false),
                None => (new_token(), true),
            },
        };
        let mut req = req;
        req.extensions_mut().insert(CsrfToken(token.clone()));
        let mut response = next.run(req).await;
        // Only pages can hold a form; a stylesheet or health check needs no cookie.
        if new_cookie && is_html(response.headers()) {
            if let Some(cookie) = signer.set_cookie(&token) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
        }
        return response;
    }
    let (parts, body) = req.into_parts();
    if let Some(reason) = cross_site(&parts.headers) {
        tracing::warn!(path = %parts.uri.path(), reason, "CSRF: verzoek van een andere site geweigerd");
        return refuse();
    }
    let expected = match signed_in {
        true => session.get::<String>(SESSION_KEY).await.ok().flatten(),
        false => signer.token(&parts.headers),
    };
    let (presented, body) = match presented(&parts.headers, body).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    match (expected, presented) {
        (Some(e), Some(p)) if constant_time_eq(e.as_bytes(), p.as_bytes()) => {
            let mut req = Request::from_parts(parts, body);
            req.extensions_mut().insert(CsrfToken(e));
            next.run(req).await
        }
        _ => {
            tracing::warn!(path = %parts.uri.path(), signed_in, "CSRF: ontbrekend of onjuist token");
            refuse()
        }
    }
}

fn is_html(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("text/html"))
}

/// The token the request presents, and its body to hand on unchanged.
async fn presented(headers: &HeaderMap, body: Body) -> Result<(Option<String>, Body), AppError> {
    if let Some(t) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return Ok((Some(t.to_string()), body));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        // Forms are small (the route's body limit says how small): read the body, hand on the same bytes.
        let bytes =
            axum::body::to_bytes(body, crate::web::FORM_BODY_LIMIT).await.map_err(|_| crate::web::form_too_large())?;
        let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
        return Ok((token, Body::from(bytes)));
    }
    if let Some(boundary) = multipart_boundary(content_type) {
        return multipart_token(body, boundary).await;
    }
    Ok((None, body))
}

/// Reads the start of a multipart body until the token field has arrived (or 64 kB have), and gives back
/// a body that yields those bytes again followed by the rest, still unread.
async fn multipart_token(mut body: Body, boundary: &str) -> Result<(Option<String>, Body), AppError> {
    let mut start = Vec::new();
    let mut token = None;
    while token.is_none() && start.len() < MULTIPART_PREFIX_LIMIT {
        match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    start.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => {
                return Err(AppError::BadRequest("het formulier kwam niet volledig aan; verstuur het opnieuw".into()))
            }
            None => break,
        }
        token = multipart_field(&start, boundary, FIELD);
    }
    Ok((token, Body::new(Prefixed { start: Some(Bytes::from(start)), rest: body })))
}

/// A body whose first bytes were already read: those, then the rest.
struct Prefixed {
    start: Option<Bytes>,
    rest: Body,
}

impl HttpBody for Prefixed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Some(start) = self.start.take().filter(|s| !s.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(start))));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.start.as_ref().is_none_or(Bytes::is_empty) && self.rest.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let start = self.start.as_ref().map_or(0, |s| s.len() as u64);
        let rest = self.rest.size_hint();
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + start);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + start);
        }
        hint
    }
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<&str> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .split(';')
        .find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"'))
        })
        .filter(|b| !b.is_empty())
}

/// The value of field `name` in the start of a multipart body, once that part has arrived whole.
fn multipart_field(start: &[u8], boundary: &str, name: &str) -> Option<String> {
    let delimiter = format!("\r\n--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The first delimiter has no line break before it.
    let first = find(start, &delimiter[2..])?;
    let mut rest = &start[first + delimiter.len() - 2..];
    let wanted = format!("name=\"{name}\"");
    loop {
        // After a delimiter comes a line break, or `--` at the end of the body.
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter)?;
        let is_wanted = head.split("\r\n").any(|line| {
            line.split_once(':').is_some_and(|(key, value)| {
                key.trim().eq_ignore_ascii_case("content-disposition")
                    && value.split(';').skip(1).any(|p| p.trim() == wanted)
            })
        });
        if is_wanted {
            return String::from_utf8(content[..end].to_vec()).ok();
        }
        rest = &content[end + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn refuse() -> Response {
    AppError::ForbiddenWith(
        "Dit formulier is verlopen of komt niet van taalbudget zelf. Open de pagina opnieuw en probeer het nog eens"
            .into(),
    )
    .into_response()
}

/// A browser tells us when a request comes from another site; believe it.
fn cross_site(headers: &HeaderMap) -> Option<&'static str> {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Some("Sec-Fetch-Site: cross-site");
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    (origin == "null" || origin_host != host).then_some("Origin wijkt af van Host")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(name: &str, extra: &str, content: &str) -> String {
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{content}\r\n")
    }

    #[test]
    fn the_token_is_found_in_the_start_of_a_multipart_body_wherever_its_part_is_whole() {
        let token = "ab12".repeat(16);
        let first = format!("{}{}--XyZ--\r\n", part("_csrf", "", &token), part("sjabloon", "", "standaard"));
        assert_eq!(multipart_field(first.as_bytes(), "XyZ", FIELD), Some(token.clone()));
        // After other fields, and before a file whose start is all that has arrived.
        let later = format!(
            "{}{}--XyZ\r\nContent-Disposition: form-data; name=\"bestand\"; filename=\"a.xlsx\"\r\n\r\nPK\x03\x04",
            part("sjabloon", "", "standaard"),
            part("_csrf", "", &token)
        );
        assert_eq!(multipart_field(later.as_bytes(), "XyZ", FIELD), Some(token.clone()));
        // Cut off inside the token's part: not yet.
        let cut = &first.as_bytes()[..40];
        assert_eq!(multipart_field(cut, "XyZ", FIELD), None);
        // A file called _csrf, or a field that merely ends in the name, is not the token.
        let file = format!("{}--XyZ--\r\n", part("bestand", "; filename=\"_csrf\"", "x"));
        assert_eq!(multipart_field(file.as_bytes(), "XyZ", FIELD), None);
        let other = format!("{}--XyZ--\r\n", part("x_csrf", "", "x"));
        assert_eq!(multipart_field(other.as_bytes(), "XyZ", FIELD), None);
        assert_eq!(multipart_field(first.as_bytes(), "Other", FIELD), None);
    }

    #[test]
    fn boundaries_are_read_from_the_content_type() {
        assert_eq!(multipart_boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(multipart_boundary("Multipart/Form-Data; charset=utf-8; Boundary=\"a b\""), Some("a b"));
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(multipart_boundary("multipart/form-data; boundary="), None);
        assert_eq!(multipart_boundary("text/plain; boundary=abc"), None);
    }

    #[test]
    fn only_a_cookie_this_server_signed_gives_a_token() {
        let config = Config::new("127.0.0.1:0".parse().unwrap(), "x.db".into());
        let signer = CookieSigner::new(&config);
        let cookie = signer.set_cookie("abc").unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict; Secure"), "{cookie}");
        let pair = cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("a=b; {pair}")).unwrap());
        assert_eq!(signer.token(&headers), Some("abc".to_string()));
        // Another server's key, a changed token, or no signature: nothing.
        let other = CookieSigner::new(&config);
        assert_eq!(other.token(&headers), None);
        let forged = pair.replace("=abc.", "=abd.");
        headers.insert(header::COOKIE, HeaderValue::from_str(&forged).unwrap());
        assert_eq!(signer.token(&headers), None);
        headers.insert(header::COOKIE, HeaderValue::from_static("taalbudget_csrf=abc"));
        assert_eq!(signer.token(&headers), None);
    }
}
