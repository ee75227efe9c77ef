//! The four ways teams sign in, each variant holding only what its mode needs.
//!
//! An API token whose kind the configuration does not state is resolved once, by probing
//! ([`crate::Client::connect`]), into [`Credential::ApiToken`] or [`Credential::ScopedToken`];
//! everything downstream sees only resolved credentials.

use std::time::SystemTime;

use base64::Engine as _;
use conflux_catalog::ScopeSet;
use conflux_types::{CloudId, Secret, SiteUrl};

/// A resolved credential.
#[derive(Clone, Debug)]
pub enum Credential {
    /// Classic (unscoped) API token: Basic auth on the site URL, the user's full rights.
    ApiToken(ApiToken),
    /// Scoped API token: Basic auth, accepted only through the API gateway, within its scopes.
    ScopedToken(ScopedToken),
    /// OAuth 2.0 (3LO) access token with optional refresh: Bearer, gateway only.
    OAuth(OAuthToken),
    /// A caller-managed access token used as is: Bearer, gateway only, never refreshed.
    AccessToken(AccessToken),
}

#[derive(Clone, Debug)]
pub struct ApiToken {
    pub email: String,
    pub token: Secret,
    pub site: SiteUrl,
}

#[derive(Clone, Debug)]
pub struct ScopedToken {
    pub email: String,
    pub token: Secret,
    pub cloud_id: CloudId,
    /// The token's scopes when the configuration states them; Atlassian offers no API to read them.
    pub scopes: Option<ScopeSet>,
}

/// Which OAuth app issued a token: one central app for everyone, or a tenant's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthApp {
    Central,
    Tenant,
}

#[derive(Clone, Debug)]
pub struct OAuthToken {
    pub access: Secret,
    pub refresh: Option<Secret>,
    pub expires_at: Option<SystemTime>,
    /// The scopes the grant holds, from the token response or accessible-resources.
    pub scopes: ScopeSet,
    pub cloud_id: CloudId,
    pub app: OAuthApp,
}

impl OAuthToken {
    /// Whether the stored expiry has passed (with `skew` to spare), so a refresh is due.
    pub fn is_stale(&self, now: SystemTime, skew: std::time::Duration) -> bool {
        self.expires_at.is_some_and(|at| now + skew >= at)
    }
}

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub token: Secret,
    pub cloud_id: CloudId,
    /// The scopes accessible-resources reported for the site, when it was asked.
    pub scopes: Option<ScopeSet>,
}

/// The kind of a credential, for reports and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    ApiToken,
    ScopedApiToken,
    OAuth,
    AccessToken,
}

impl CredentialKind {
    /// "a classic API token", "an access token".
    pub fn with_article(self) -> String {
        let d = self.describe();
        let article = if d.starts_with(['a', 'e', 'i', 'o', 'u', 'O']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {d}")
    }

    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::ApiToken => "classic API token",
            CredentialKind::ScopedApiToken => "scoped API token",
            CredentialKind::OAuth => "OAuth 2.0 (3LO) token",
            CredentialKind::AccessToken => "access token",
        }
    }
}

impl Credential {
    pub fn kind(&self) -> CredentialKind {
        match self {
            Credential::ApiToken(_) => CredentialKind::ApiToken,
            Credential::ScopedToken(_) => CredentialKind::ScopedApiToken,
            Credential::OAuth(_) => CredentialKind::OAuth,
            Credential::AccessToken(_) => CredentialKind::AccessToken,
        }
    }

    /// The scopes this credential is known to hold. `None` means "unknown", which is not the
    /// same as "none": classic API tokens are unscoped, and a scoped token's scopes cannot be read.
    pub fn granted_scopes(&self) -> Option<ScopeSet> {
        match self {
            Credential::ApiToken(_) => None,
            Credential::ScopedToken(t) => t.scopes,
            Credential::AccessToken(t) => t.scopes,
            Credential::OAuth(t) => Some(t.scopes),
        }
    }

    /// The value of the `Authorization` header. Only the transport calls this.
    pub(crate) fn authorization(&self) -> String {
        fn basic(email: &str, token: &Secret) -> String {
            let raw = format!("{email}:{}", token.expose());
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        }
        match self {
            Credential::ApiToken(t) => basic(&t.email, &t.token),
            Credential::ScopedToken(t) => basic(&t.email, &t.token),
            Credential::OAuth(t) => format!("Bearer {}", t.access.expose()),
            Credential::AccessToken(t) => format!("Bearer {}", t.token.expose()),
        }
    }
}

/// What the configuration says about an API token's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenKindHint {
    /// Find out by trying (site URL, then `_edge/tenant_info`, then the gateway).
    #[default]
    Detect,
    Classic,
    Scoped,
}

/// A credential as configured, before probing.
#[derive(Clone, Debug)]
pub enum CredentialConfig {
    /// `CONFLUENCE_USERNAME` + `CONFLUENCE_API_TOKEN`; classic or scoped.
    ApiToken {
        email: String,
        token: Secret,
        site: Option<SiteUrl>,
        cloud_id: Option<CloudId>,
        kind: TokenKindHint,
        /// Scopes the user says a scoped token holds (optional; used for planning and reports).
        scopes: Option<ScopeSet>,
    },
    /// `CONFLUENCE_ACCESS_TOKEN`: a raw Bearer token; the cloudId comes from configuration or
    /// from accessible-resources (matched against `site` when the token covers several sites).
    AccessToken {
        token: Secret,
        site: Option<SiteUrl>,
        cloud_id: Option<CloudId>,
    },
    /// An OAuth token obtained elsewhere (the connection store hands these over).
    OAuth(OAuthToken),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers() {
        let c = Credential::ApiToken(ApiToken {
            email: "a@b.c".into(),
            token: Secret::new("tok".into()),
            site: SiteUrl::parse("https://x.atlassian.net").unwrap(),
        });
        assert_eq!(c.authorization(), "Basic YUBiLmM6dG9r");
        let debug = format!("{c:?}");
        assert!(!debug.contains("tok\""), "{debug}");
        let o = Credential::AccessToken(AccessToken {
            token: Secret::new("abc".into()),
            cloud_id: "11111111-2222-4333-8444-555555555555".parse().unwrap(),
            scopes: None,
        });
        assert_eq!(o.authorization(), "Bearer abc");
        assert!(!format!("{o:?}").contains("abc"));
    }
}
