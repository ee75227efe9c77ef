//! What the store keeps: connections keyed by (tenant, user), authorizations in flight,
//! per-tenant app settings and the agent allowlist.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use conflux_catalog::ScopeSet;
use conflux_types::{CloudId, Secret};

use crate::error::{Result, StoreError};

const MAX_ID_LEN: usize = 256;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Accepts 1 to 256 characters with no control characters.
            pub fn new(value: impl Into<String>) -> Result<Self> {
                let value = value.into();
                if value.is_empty() || value.len() > MAX_ID_LEN {
                    return Err(StoreError::Invalid {
                        what: $what,
                        detail: format!("must be 1 to {MAX_ID_LEN} bytes long"),
                    });
                }
                if value.chars().any(char::is_control) {
                    return Err(StoreError::Invalid {
                        what: $what,
                        detail: "must not contain control characters".into(),
                    });
                }
                Ok($name(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A tenant (workspace) that installed the connector; every row belongs to one.
    TenantId,
    "tenant id"
);
name_type!(
    /// The person a connection belongs to: their Atlassian account id, learned at sign-in.
    UserId,
    "user id"
);
name_type!(
    /// An agent calling the connector: an authenticated MCP client (its client id), an access
    /// key (`key:<id>`), or an agent named by the platform on a request carrying its credential.
    AgentId,
    "agent id"
);

/// Who a connection belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    pub tenant: TenantId,
    pub user: UserId,
}

impl ConnectionKey {
    pub fn new(tenant: TenantId, user: UserId) -> Self {
        ConnectionKey { tenant, user }
    }
}

impl fmt::Display for ConnectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant, self.user)
    }
}

/// Which OAuth app issued a grant: the platform's central app or the tenant's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    Central,
    Tenant,
}

impl AppKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Central => "central",
            AppKind::Tenant => "tenant",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<AppKind> {
        match s {
            "central" => Ok(AppKind::Central),
            "tenant" => Ok(AppKind::Tenant),
            other => Err(StoreError::Corrupt {
                what: "app kind",
                detail: format!("unknown value `{other}`"),
            }),
        }
    }
}

/// The tokens of a grant, as the token endpoint issued them.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: Secret,
    /// Present when `offline_access` was granted. Atlassian rotates it on every refresh.
    pub refresh: Option<Secret>,
    pub expires_at: Option<SystemTime>,
    /// The granted scopes as Atlassian wrote them (space-separated, `offline_access` included).
    pub scope: String,
}

impl Tokens {
    /// The granted Confluence scopes the catalog knows (`offline_access` and others dropped).
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse_lenient(&self.scope).0
    }
}

/// A site a grant covers, from accessible-resources.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Site {
    pub cloud_id: CloudId,
    pub url: String,
    pub name: String,
    /// Scopes accessible-resources lists for this site.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// One user's OAuth connection to one Confluence site.
#[derive(Clone, Debug)]
pub struct Connection {
    pub key: ConnectionKey,
    /// The person's name as Atlassian gave it at sign-in.
    pub display_name: Option<String>,
    pub site: Site,
    pub app: AppKind,
    pub tokens: Tokens,
    /// Bumped on every write, so a reader can tell a row changed under it.
    pub generation: i64,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

impl Connection {
    /// Whether the stored expiry has passed, with `skew` to spare.
    pub fn is_stale(&self, now: SystemTime, skew: Duration) -> bool {
        self.tokens.expires_at.is_some_and(|at| now + skew >= at)
    }

    /// What the configuration page shows: everything but the tokens.
    pub fn summary(&self) -> ConnectionSummary {
        ConnectionSummary {
            key: self.key.clone(),
            display_name: self.display_name.clone(),
            site: self.site.clone(),
            app: self.app,
            scope: self.tokens.scope.clone(),
            has_refresh_token: self.tokens.refresh.is_some(),
            expires_at: self.tokens.expires_at,
            updated_at: self.updated_at,
        }
    }
}

/// A connection without its tokens.
#[derive(Clone, Debug)]
pub struct ConnectionSummary {
    pub key: ConnectionKey,
    pub display_name: Option<String>,
    pub site: Site,
    pub app: AppKind,
    pub scope: String,
    pub has_refresh_token: bool,
    pub expires_at: Option<SystemTime>,
    pub updated_at: SystemTime,
}

impl ConnectionSummary {
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse_lenient(&self.scope).0
    }
}

/// A browser session, kept only as a SHA-256 digest so the database never holds a live
/// session id.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionBinding(String);

impl fmt::Debug for SessionBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionBinding(***)")
    }
}

impl SessionBinding {
    pub fn of(session: &Secret) -> SessionBinding {
        SessionBinding(digest(session.expose()))
    }

    /// Whether `session` is the one bound, compared in constant time.
    pub fn matches(&self, session: &Secret) -> bool {
        let other = digest(session.expose());
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    pub(crate) fn from_digest(hex: String) -> SessionBinding {
        SessionBinding(hex)
    }

    pub(crate) fn digest_hex(&self) -> &str {
        &self.0
    }
}

/// Hex SHA-256, used to look rows up by a secret without storing it.
pub(crate) fn digest(value: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A sign-in sent to the identity service and not yet called back. Stored under a hash of its
/// `state`; taken (and so deleted) exactly once. Who signs in is learned at the callback.
#[derive(Clone, Debug)]
pub struct PendingAuthorization {
    pub state: Secret,
    pub tenant: TenantId,
    /// The browser session that started it; the callback must come from the same one.
    pub session: SessionBinding,
    /// Digest of the address that started it, for the per-address cap.
    pub origin: String,
    pub pkce_verifier: Secret,
    pub redirect_uri: String,
    pub app: AppKind,
    /// The scopes requested (space-separated).
    pub scope: String,
    /// What to continue with once signed in (an MCP authorization waiting for consent).
    pub return_to: Option<String>,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
}

/// How a tenant's users sign in to Confluence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum AuthMode {
    /// One 3LO app for everyone; its secret is held only by the server.
    #[default]
    #[serde(rename = "oauthCentral")]
    OAuthCentral,
    /// The tenant's own 3LO app (client id and secret in these settings).
    #[serde(rename = "oauth")]
    OAuth,
    /// An Atlassian account email and API token (classic or scoped).
    #[serde(rename = "apiToken")]
    ApiToken,
    /// A caller-managed access token used as is.
    #[serde(rename = "accessToken")]
    AccessToken,
}

impl AuthMode {
    pub const ALL: [AuthMode; 4] = [
        AuthMode::OAuthCentral,
        AuthMode::OAuth,
        AuthMode::ApiToken,
        AuthMode::AccessToken,
    ];

    /// The configuration name (`oauthCentral`, `oauth`, `apiToken`, `accessToken`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::OAuthCentral => "oauthCentral",
            AuthMode::OAuth => "oauth",
            AuthMode::ApiToken => "apiToken",
            AuthMode::AccessToken => "accessToken",
        }
    }

    pub fn parse(s: &str) -> Result<AuthMode> {
        AuthMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| StoreError::Invalid {
                what: "auth mode",
                detail: format!("`{s}` is not one of oauthCentral, oauth, apiToken, accessToken"),
            })
    }
}

/// A tenant's settings from the configuration page. Secrets are encrypted at rest.
#[derive(Clone, Debug, Default)]
pub struct AppSettings {
    pub auth_mode: AuthMode,
    /// The tenant's OAuth client id (`oauth` mode).
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// Requested scopes overriding the default set (space-separated), e.g. a read-only set.
    pub scopes: Option<String>,
    /// The tenant's Confluence site: the shared credential's in the token modes, and in the
    /// OAuth modes the site whose members may sign in.
    pub site_url: Option<String>,
    /// The site's cloudId (from `{site}/_edge/tenant_info` or set directly); a sign-in whose
    /// grant does not cover it is refused.
    pub cloud_id: Option<CloudId>,
    /// The account email (`apiToken` mode).
    pub api_email: Option<String>,
    /// The API token (`apiToken`) or access token (`accessToken`).
    pub api_token: Option<Secret>,
    /// Let every agent call the connector, allowlist or not.
    pub allow_all_agents: bool,
    /// Set by the store on save.
    pub updated_at: Option<SystemTime>,
}

/// An agent on a tenant's allowlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedAgent {
    pub agent: AgentId,
    pub label: Option<String>,
    pub added_at: SystemTime,
}

pub(crate) fn to_unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn from_unix(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(TenantId::new("acme").is_ok());
        assert!(TenantId::new("").is_err());
        assert!(UserId::new("a\nb").is_err());
        assert!(AgentId::new("x".repeat(257)).is_err());
    }

    #[test]
    fn auth_modes_round_trip() {
        for m in AuthMode::ALL {
            assert_eq!(AuthMode::parse(m.as_str()).unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
        let err = AuthMode::parse("basic").unwrap_err().to_string();
        assert!(err.contains("oauthCentral"), "{err}");
    }

    #[test]
    fn unix_times_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(from_unix(to_unix(t)), t);
        assert_eq!(to_unix(from_unix(-5)), -5);
    }

    #[test]
    fn session_binding_matches_only_its_session() {
        let s = Secret::new("session-1".to_string());
        let b = SessionBinding::of(&s);
        assert!(b.matches(&s));
        assert!(!b.matches(&Secret::new("session-2".to_string())));
        assert!(!format!("{b:?}").contains(&digest("session-1")));
    }

    #[test]
    fn tokens_never_print() {
        let t = Tokens {
            access: Secret::new("acc-secret".into()),
            refresh: Some(Secret::new("ref-secret".into())),
            expires_at: None,
            scope: "read:page:confluence offline_access".into(),
        };
        let d = format!("{t:?}");
        assert!(
            !d.contains("acc-secret") && !d.contains("ref-secret"),
            "{d}"
        );
        assert_eq!(t.scopes().names(), vec!["read:page:confluence"]);
    }
}
