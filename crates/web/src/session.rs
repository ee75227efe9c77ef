//! Browser state. Two kinds of cookie:
//!
//! - `conflux_session`: a random id every browser gets, with no server-side state; the CSRF
//!   token of every form and the binding of a sign-in's `state` are HMACs of it under a key
//!   derived from the store's encryption key, so every replica checks them alike.
//! - `conflux_person` and `conflux_admin`: who is signed in. Each is a random id whose digest
//!   keys a row of the store (`web_sessions`): the row says which Atlassian account (or that
//!   the maintainer) signed in, expires, and is deleted at sign-out, so a stolen or old cookie
//!   stops working on the server, on every replica.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

type HmacSha256 = Hmac<sha2::Sha256>;

/// The browser session (SameSite=Lax: it must come back with the identity service's redirect).
pub(crate) const SESSION_COOKIE: &str = "conflux_session";
/// A signed-in person's session (SameSite=Lax: it comes back with the top-level navigation
/// that brings an MCP client's authorization request).
pub(crate) const PERSON_COOKIE: &str = "conflux_person";
/// The maintainer's session (only under /admin).
pub(crate) const ADMIN_COOKIE: &str = "conflux_admin";
/// The MCP authorization request this browser is answering (set by `/oauth/authorize`).
pub(crate) const REQUEST_COOKIE: &str = "conflux_request";

/// Length of a session id: 32 random bytes, base64url without padding.
const SESSION_LEN: usize = 43;

/// Signs and checks everything bound to a session.
#[derive(Clone)]
pub(crate) struct Signer {
    key: [u8; 32],
    secure: bool,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

impl Signer {
    pub(crate) fn new(key: [u8; 32], secure: bool) -> Signer {
        Signer { key, secure }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            // HMAC takes keys of any length; this arm is never taken.
            Err(_) => return [0; 32],
        };
        for p in parts {
            // Length-prefixed, so ("ab","c") and ("a","bc") differ.
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The CSRF token of a session: what every form carries in its hidden `csrf` field.
    pub(crate) fn csrf(&self, session: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(&[b"csrf", session.as_bytes()]))
    }

    pub(crate) fn check_csrf(&self, session: &str, given: &str) -> bool {
        eq(self.csrf(session).as_bytes(), given.as_bytes())
    }

    /// A `Set-Cookie` value: HttpOnly always, Secure when the public URL is https.
    pub(crate) fn set_cookie(
        &self,
        name: &str,
        value: &str,
        same_site: &str,
        path: &str,
        max_age: Option<u64>,
    ) -> Option<HeaderValue> {
        let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
        if let Some(secs) = max_age {
            c.push_str(&format!("; Max-Age={secs}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        HeaderValue::from_str(&c).ok()
    }

    /// A `Set-Cookie` value that deletes the cookie.
    pub(crate) fn clear_cookie(
        &self,
        name: &str,
        same_site: &str,
        path: &str,
    ) -> Option<HeaderValue> {
        self.set_cookie(name, "", same_site, path, Some(0))
    }
}

/// Compares two secrets in constant time (length apart).
pub(crate) fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Compares a typed admin token with the configured one in constant time, whatever their
/// lengths (both are hashed first).
pub(crate) fn token_matches(given: &str, expected: &str) -> bool {
    let a = sha2::Sha256::digest(given.as_bytes());
    let b = sha2::Sha256::digest(expected.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice())) && !expected.is_empty()
}

pub(crate) fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a cookie value looks like a session id this server issued.
pub(crate) fn valid_session_id(s: &str) -> bool {
    s.len() == SESSION_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The request's cookies by name (the first of duplicates wins).
pub(crate) fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for pair in v.split(';') {
            if let Some((k, val)) = pair.trim().split_once('=') {
                out.entry(k.trim().to_string())
                    .or_insert_with(|| val.trim().to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new([3; 32], false)
    }

    #[test]
    fn csrf_is_bound_to_the_session() {
        let s = signer();
        let a = new_session_id();
        let b = new_session_id();
        assert!(valid_session_id(&a));
        assert!(s.check_csrf(&a, &s.csrf(&a)));
        assert!(!s.check_csrf(&b, &s.csrf(&a)));
        assert!(!s.check_csrf(&a, ""));
        assert!(!Signer::new([4; 32], false).check_csrf(&a, &s.csrf(&a)));
    }

    #[test]
    fn token_comparison() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abd", "abc"));
        assert!(!token_matches("", ""));
    }

    #[test]
    fn cookie_header_parsing_and_flags() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; b=two; a=3"));
        let c = cookies(&h);
        assert_eq!(c.get("a").map(String::as_str), Some("1"));
        assert_eq!(c.get("b").map(String::as_str), Some("two"));
        let v = Signer::new([0; 32], true)
            .set_cookie("x", "y", "Strict", "/admin", None)
            .unwrap();
        assert_eq!(
            v.to_str().unwrap(),
            "x=y; Path=/admin; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(format!("{:?}", signer()).contains("***"));
    }
}
