//! The outer layer of every route: who is at the other end of the socket (an address digest
//! for rate limits and caps), and whether the request was meant for this server at all (`Host`
//! and `Origin`, which defeats DNS rebinding and cross-site requests).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use conflux_authz::ClientAddress;

/// What the guard admits.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    /// `host` and `host:port` of the public URL.
    hosts: Vec<String>,
    /// The public URL's origin (`scheme://host[:port]`).
    origin: String,
    /// Browser origins `/mcp` also admits (browser-based MCP clients).
    extra_origins: Vec<String>,
    /// Take the client's address from `X-Forwarded-For` (behind a trusted reverse proxy): from
    /// these peers only, or from any when the list is empty; `None`: never.
    forwarded_from: Option<Vec<ipnet::IpNet>>,
}

impl Guard {
    pub(crate) fn new(
        public_url: &str,
        extra_origins: Vec<String>,
        forwarded_from: Option<Vec<ipnet::IpNet>>,
    ) -> Guard {
        let mut hosts = Vec::new();
        let mut origin = public_url.to_string();
        if let Ok(u) = url::Url::parse(public_url) {
            if let Some(host) = u.host_str() {
                hosts.push(host.to_ascii_lowercase());
                if let Some(port) = u.port() {
                    hosts.push(format!("{}:{port}", host.to_ascii_lowercase()));
                }
            }
            origin = u.origin().ascii_serialization();
        }
        Guard {
            hosts,
            origin,
            extra_origins: extra_origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            forwarded_from,
        }
    }

    /// Whether `host` (a `Host` header) names this server: the public URL's host, or loopback.
    pub(crate) fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        if self.hosts.contains(&host) {
            return true;
        }
        let bare = strip_port(&host);
        bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether a browser `Origin` may drive this route. The OAuth JSON endpoints and metadata
    /// take any origin (CORS, no cookies); `/mcp` takes the public origin, loopback origins and
    /// the configured extra ones; the pages only the public origin.
    fn origin_allowed(&self, path: &str, origin: &str) -> bool {
        if is_cors_path(path) {
            return true;
        }
        let origin = origin.trim_end_matches('/');
        if origin.eq_ignore_ascii_case(&self.origin) {
            return true;
        }
        if is_mcp_path(path) {
            if self.mcp_cors_origin(path, origin) {
                return true;
            }
            return url::Url::parse(origin).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| {
                        h == "localhost"
                            || h.trim_matches(['[', ']'])
                                .parse::<IpAddr>()
                                .is_ok_and(|ip| ip.is_loopback())
                    })
            });
        }
        false
    }

    /// Whether `/mcp` answers `origin` with CORS headers: the public origin and the ones the
    /// maintainer named (`--allowed-origins`), not every loopback page, which may send but
    /// not read.
    fn mcp_cors_origin(&self, path: &str, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        is_mcp_path(path)
            && (origin.eq_ignore_ascii_case(&self.origin)
                || self
                    .extra_origins
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(origin)))
    }

    /// The address the request came from: the socket's peer, or the last hop a trusted proxy
    /// appended to `X-Forwarded-For` when that is an IP address (anything else would make a
    /// new bucket of every string a client sent).
    fn address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientAddress {
        let proxied = self.forwarded_from.as_ref().is_some_and(|proxies| {
            proxies.is_empty()
                || peer.is_some_and(|p| proxies.iter().any(|n| n.contains(&p.ip().to_canonical())))
        });
        if proxied
            && let Some(last) = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|s| !s.is_empty())
            && last.parse::<std::net::IpAddr>().is_ok()
        {
            return ClientAddress::of(last);
        }
        match peer {
            Some(p) => ClientAddress::of(&p.ip().to_string()),
            None => ClientAddress::unknown(),
        }
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The MCP endpoint's routes.
fn is_mcp_path(path: &str) -> bool {
    path == "/mcp" || path.starts_with("/mcp/")
}

/// The routes any browser origin may call: metadata and the OAuth JSON endpoints.
fn is_cors_path(path: &str) -> bool {
    path.starts_with("/.well-known/")
        || matches!(path, "/oauth/token" | "/oauth/register" | "/oauth/revoke")
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let mut r = (status, message.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The middleware: refuses a foreign `Host` or `Origin`, and attaches the [`ClientAddress`].
pub(crate) async fn check(
    State(guard): State<Arc<Guard>>,
    mut req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(String::from)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if guard.host_allowed(&h) => {}
        _ => {
            tracing::warn!("request refused: Host is not this server's");
            return refuse(
                StatusCode::MISDIRECTED_REQUEST,
                "This server answers only at its public URL's host (or loopback).",
            );
        }
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| guard.origin_allowed(req.uri().path(), o));
        if !ok {
            tracing::warn!(path = req.uri().path(), "request refused: foreign Origin");
            return refuse(
                StatusCode::FORBIDDEN,
                "This request came from a page of another site, so it was refused.",
            );
        }
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let address = guard.address(req.headers(), peer);
    req.extensions_mut().insert(address);
    let cors = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| {
            o.to_str()
                .is_ok_and(|o| guard.mcp_cors_origin(req.uri().path(), o))
        })
        .cloned();
    let Some(origin) = cors else {
        return next.run(req).await;
    };
    // A browser-based MCP client the maintainer admitted: its preflight is answered here,
    // before authentication (a preflight carries no credential), and its answers say it may
    // read them. The credential is a bearer token, never a cookie: no credentials mode.
    let preflight = req.method() == axum::http::Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::HeaderValue::from_static("GET, POST, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::HeaderValue::from_static(
                "authorization, content-type, accept, last-event-id, mcp-session-id, \
                 mcp-protocol-version, mcp-method, mcp-name",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            header::HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(req).await
    };
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static("mcp-session-id, mcp-protocol-version, www-authenticate"),
    );
    h.append(header::VARY, header::HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_public_or_loopback() {
        let g = Guard::new("https://conflux.example.com", vec![], None);
        assert!(g.host_allowed("conflux.example.com"));
        assert!(g.host_allowed("CONFLUX.example.com"));
        assert!(g.host_allowed("127.0.0.1:8080"));
        assert!(g.host_allowed("[::1]:8080"));
        assert!(g.host_allowed("localhost"));
        assert!(!g.host_allowed("evil.example"));
        assert!(!g.host_allowed("conflux.example.com.evil.example"));
        assert!(!g.host_allowed("127.0.0.2.nip.io"));
    }

    #[test]
    fn origins_per_route() {
        let g = Guard::new(
            "https://conflux.example.com/prefix",
            vec!["https://inspector.example".into()],
            None,
        );
        assert!(g.origin_allowed("/", "https://conflux.example.com"));
        assert!(!g.origin_allowed("/", "https://evil.example"));
        assert!(!g.origin_allowed("/admin/login", "null"));
        assert!(!g.origin_allowed("/", "http://localhost:6274"));
        assert!(g.origin_allowed("/mcp", "http://localhost:6274"));
        assert!(g.origin_allowed("/mcp", "https://inspector.example"));
        assert!(!g.origin_allowed("/mcp", "https://evil.example"));
        assert!(g.origin_allowed("/oauth/token", "https://anything.example"));
        assert!(g.origin_allowed(
            "/.well-known/oauth-authorization-server",
            "https://a.example"
        ));
        assert!(!g.origin_allowed("/oauth/authorize", "https://evil.example"));
    }

    #[test]
    fn addresses_from_the_socket_or_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let direct = Guard::new("https://x.example", vec![], None);
        assert_eq!(
            direct.address(&h, Some(peer)),
            ClientAddress::of("10.0.0.1")
        );
        let proxied = Guard::new("https://x.example", vec![], Some(vec![]));
        assert_eq!(
            proxied.address(&h, Some(peer)),
            ClientAddress::of("198.51.100.7")
        );
        assert_eq!(direct.address(&h, None), ClientAddress::unknown());
        // Only from the proxies named, when some are: a peer elsewhere (a client reaching a
        // replica directly) is taken at its own address whatever it sends.
        let named = Guard::new(
            "https://x.example",
            vec![],
            Some(vec!["10.0.0.0/24".parse().unwrap()]),
        );
        assert_eq!(
            named.address(&h, Some(peer)),
            ClientAddress::of("198.51.100.7")
        );
        let mapped: SocketAddr = "[::ffff:10.0.0.7]:5000".parse().unwrap();
        assert_eq!(
            named.address(&h, Some(mapped)),
            ClientAddress::of("198.51.100.7")
        );
        let outsider: SocketAddr = "203.0.113.50:5000".parse().unwrap();
        assert_eq!(
            named.address(&h, Some(outsider)),
            ClientAddress::of("203.0.113.50")
        );
        // A last hop that is no address is not taken.
        h.insert("x-forwarded-for", "198.51.100.7, evil-1".parse().unwrap());
        assert_eq!(
            proxied.address(&h, Some(peer)),
            ClientAddress::of("10.0.0.1")
        );
    }

    /// An IPv6 client counts as its /64 (one subscriber's block), a v4-mapped one as its IPv4.
    #[test]
    fn ipv6_addresses_count_by_their_64() {
        assert_eq!(
            ClientAddress::of("2001:db8:1:2::1"),
            ClientAddress::of("2001:db8:1:2:ffff:1:2:3")
        );
        assert_ne!(
            ClientAddress::of("2001:db8:1:2::1"),
            ClientAddress::of("2001:db8:1:3::1")
        );
        assert_eq!(
            ClientAddress::of("::ffff:203.0.113.9"),
            ClientAddress::of("203.0.113.9")
        );
        assert_ne!(
            ClientAddress::of("203.0.113.9"),
            ClientAddress::of("203.0.113.10")
        );
    }
}
