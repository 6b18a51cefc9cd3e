//! Running behind a reverse proxy: serving under a path prefix, and believing `X-Forwarded-*` headers
//! only from the proxies the configuration names.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::IpRange;

/// The address of the browser: the TCP peer, or what a trusted proxy says it forwarded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The scheme the browser used (`https` or `http`): from `X-Forwarded-Proto` of a trusted proxy, else `http`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientScheme(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<ClientAddr>() {
            return Ok(*c);
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

/// The client address for a request from `peer`. Headers are believed only when the peer is a trusted
/// proxy; then `X-Forwarded-For` is read from the right (the entry our proxy added) leftwards, skipping
/// further trusted proxies, and the first other address is the client. Anything a browser wrote itself
/// sits further left and is never reached unless every hop to its right is trusted.
pub fn client_addr(peer: IpAddr, trusted: &[IpRange], headers: &HeaderMap) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        let Ok(addr) = hop.parse::<IpAddr>().map(|a| a.to_canonical()) else { break };
        client = addr;
        if !is_trusted(addr) {
            break;
        }
    }
    client
}

/// Puts [`ClientAddr`] and [`ClientScheme`] into every request.
pub async fn forwarded(State(trusted): State<Arc<Vec<IpRange>>>, mut req: Request, next: Next) -> Response {
    if let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) {
        let client = client_addr(peer, &trusted, req.headers());
        let scheme = if trusted.iter().any(|r| r.contains(peer)) {
            req.headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| v == "https" || v == "http")
                .unwrap_or_else(|| "http".into())
        } else {
            "http".into()
        };
        req.extensions_mut().insert(ClientAddr(client));
        req.extensions_mut().insert(ClientScheme(scheme));
    }
    next.run(req).await
}

// Why a rewriting layer rather than prefix-aware views: the views and handlers, written by several
// people, use absolute links (`href="/aanbieders"`) and redirects (`Redirect::to("/aanbieders/1")`).
// Behind a proxy that forwards the full path (`/taalbudget/aanbieders`), this one layer strips the
// prefix on the way in, so every route, extractor and check sees the paths it was written for, and puts
// it back on the way out: in `Location` headers and in the `href`, `action`, `src` and `formaction`
// attributes of HTML pages. maud escapes `"` in user data, so user text can never look like such an
// attribute; protocol-relative `//host` links are left alone. A new view needs no knowledge of the prefix.

/// Serves the app under `prefix` (e.g. `/taalbudget`); outside it answers 404.
pub async fn prefix(State(prefix): State<Arc<str>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    if path == *prefix {
        let to = format!("{prefix}/{query}");
        return (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, to)]).into_response();
    }
    let Some(rest) = path.strip_prefix(&*prefix).filter(|r| r.starts_with('/')) else {
        return outside(&prefix);
    };
    let (mut parts, body) = req.into_parts();
    let mut uri = parts.uri.clone().into_parts();
    uri.path_and_query = match format!("{rest}{query}").parse() {
        Ok(pq) => Some(pq),
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    parts.uri = Uri::from_parts(uri).unwrap_or(parts.uri);
    let response = next.run(Request::from_parts(parts, body)).await;
    add_prefix(response, &prefix).await
}

fn outside(prefix: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Niet gevonden · taalbudget</title></head>\
         <body><h1>Pagina niet gevonden</h1><p>taalbudget staat op <a href=\"{prefix}/\">{prefix}/</a>.</p></body></html>"
    );
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

async fn add_prefix(response: Response, prefix: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(location) = parts.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
        if location.starts_with('/') && !location.starts_with("//") {
            if let Ok(v) = HeaderValue::from_str(&format!("{prefix}{location}")) {
                parts.headers.insert(header::LOCATION, v);
            }
        }
    }
    let is_html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !is_html {
        return Response::from_parts(parts, body);
    }
    // Pages are rendered in memory anyway; buffering them costs nothing extra.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "pagina kon niet worden gelezen voor het padvoorvoegsel");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let html = match String::from_utf8(bytes.to_vec()) {
        Ok(s) => prefix_links(&s, prefix),
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(html))
}

/// Puts `prefix` in front of every root-relative link, form action and source in an HTML page.
pub fn prefix_links(html: &str, prefix: &str) -> String {
    let mut out = html.to_string();
    for attr in [" href=\"/", " action=\"/", " src=\"/", " formaction=\"/"] {
        let mut pieces = out.split(attr);
        let mut next = pieces.next().unwrap_or_default().to_string();
        for piece in pieces {
            next.push_str(&attr[..attr.len() - 1]);
            if !piece.starts_with('/') {
                next.push_str(prefix);
            }
            next.push('/');
            next.push_str(piece);
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_actions_and_sources_get_the_prefix_but_other_sites_and_text_do_not() {
        let page = r#"<a href="/aanbieders">A</a><form action="/login"><img src="/static/x.png"><a href="//x.nl/">x</a><a href="https://x.nl/">y</a><p>href="/niet"</p><a href="/">home</a>"#;
        assert_eq!(
            prefix_links(page, "/tb"),
            r#"<a href="/tb/aanbieders">A</a><form action="/tb/login"><img src="/tb/static/x.png"><a href="//x.nl/">x</a><a href="https://x.nl/">y</a><p>href="/niet"</p><a href="/tb/">home</a>"#
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted: Vec<IpRange> = vec!["10.0.0.2".parse().unwrap(), "192.168.0.0/16".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 203.0.113.7"));
        assert_eq!(client_addr(proxy, &trusted, &headers), "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_addr(proxy, &[], &headers), proxy);
        let other: IpAddr = "10.0.0.3".parse().unwrap();
        assert_eq!(client_addr(other, &trusted, &headers), other);
        headers.insert("x-forwarded-for", HeaderValue::from_static("rommel"));
        assert_eq!(client_addr(proxy, &trusted, &headers), proxy);
    }
}
