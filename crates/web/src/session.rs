//! Browser sessions without server-side state: a random session id in a cookie, and
//! everything else (the CSRF token, the user id, the maintainer's login) bound to it by an
//! HMAC under a key derived from the store's encryption key. Several server processes behind
//! one address therefore accept each other's cookies, and a restart keeps people signed in.

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
/// Who the person at the browser says they are (the user id their agents send).
pub(crate) const USER_COOKIE: &str = "conflux_user";
/// The maintainer's login (SameSite=Strict, only under /admin).
pub(crate) const ADMIN_COOKIE: &str = "conflux_admin";

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

    /// `base64(user).base64(mac)`: the user id, bound to this session.
    pub(crate) fn user_cookie(&self, session: &str, user: &str) -> String {
        let mac = self.mac(&[b"user", session.as_bytes(), user.as_bytes()]);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(user),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    pub(crate) fn user_from_cookie(&self, session: &str, value: &str) -> Option<String> {
        let (user, mac) = value.split_once('.')?;
        let user = String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let expected = self.mac(&[b"user", session.as_bytes(), user.as_bytes()]);
        eq(&expected, &mac).then_some(user)
    }

    /// Proof of the maintainer's login in this session, for this admin token: changing the
    /// token signs every maintainer out.
    pub(crate) fn admin_cookie(&self, session: &str, admin_token: &str) -> String {
        let token_digest = sha2::Sha256::digest(admin_token.as_bytes());
        URL_SAFE_NO_PAD.encode(self.mac(&[b"admin", session.as_bytes(), &token_digest]))
    }

    pub(crate) fn check_admin(&self, session: &str, admin_token: &str, value: &str) -> bool {
        eq(
            self.admin_cookie(session, admin_token).as_bytes(),
            value.as_bytes(),
        )
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
    fn user_cookie_round_trips_and_resists_tampering() {
        let s = signer();
        let session = new_session_id();
        let c = s.user_cookie(&session, "alice@example.com");
        assert_eq!(
            s.user_from_cookie(&session, &c).as_deref(),
            Some("alice@example.com")
        );
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("bob"),
            c.split_once('.').unwrap().1
        );
        assert_eq!(s.user_from_cookie(&session, &forged), None);
        assert_eq!(s.user_from_cookie(&new_session_id(), &c), None);
        assert_eq!(s.user_from_cookie(&session, "garbage"), None);
    }

    #[test]
    fn admin_login_depends_on_the_token() {
        let s = signer();
        let session = new_session_id();
        let c = s.admin_cookie(&session, "token-1");
        assert!(s.check_admin(&session, "token-1", &c));
        assert!(!s.check_admin(&session, "token-2", &c));
        assert!(!s.check_admin(&new_session_id(), "token-1", &c));
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
