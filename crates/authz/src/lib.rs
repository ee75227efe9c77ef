//! Conflux as the OAuth 2.1 authorization server of its own MCP endpoint, as the MCP
//! specification (2026-07-28) asks: Protected Resource Metadata (RFC 9728), Authorization Server
//! Metadata (RFC 8414), clients identified by Client ID Metadata Documents or registered
//! dynamically (RFC 7591), authorization codes with PKCE S256, tokens bound to the MCP resource
//! (RFC 8707), rotating refresh tokens whose reuse revokes the family, revocation (RFC 7009),
//! the `iss` authorization response parameter (RFC 9207), and personal access keys for clients
//! that cannot do OAuth.
//!
//! Who the person is (their Atlassian sign-in) and what they consent to is the configuration
//! page's business (`conflux-web`): it calls [`AuthServer::request`] when a client starts an
//! authorization, shows the consent page from [`AuthServer::pending`], and calls
//! [`AuthServer::approve`] with the signed-in [`Subject`]. This crate holds the protocol and
//! the state, which lives in the connection store so that replicas share it; tokens, codes and
//! keys are stored only as hashes. [`AuthServer::verify`] is what `/mcp` asks of every call.
//!
//! Depends on the store and the value types; knows nothing of Confluence, MCP or HTML.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn conflux_store::AuthStore>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = conflux_authz::AuthzConfig::new(
//!     "https://conflux.example.com",
//!     conflux_store::TenantId::new("default")?,
//! )?;
//! let authz = conflux_authz::AuthServer::new(store, config)?;
//! let app = authz.router(); // metadata, token, registration and revocation endpoints
//! match authz.verify("cfx_at_...").await {
//!     Ok(caller) => println!("{} calls as {}", caller.agent.id, caller.subject),
//!     Err(e) => println!("refused: {e}"),
//! }
//! # Ok(()) }
//! ```

pub mod client_metadata;
mod clients;
mod endpoints;
mod error;
mod grants;
mod keys;
#[cfg(feature = "test-support")]
pub mod testing;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use conflux_store::{AuthStore, Subject, TenantId};
use serde_json::{Value, json};

use crate::client_metadata::{ClientMetadataFetcher, FetchPolicy};
pub use crate::clients::ClientView;
pub use crate::error::{AuthorizeError, AuthzError, OAuthFailure, VerifyError};
pub use crate::grants::{Pending, PendingView};
pub use crate::verify::{Agent, Verified};

/// Conflux's own scope for reading tools (every action that changes nothing).
pub const SCOPE_READ: &str = "tools:read";
/// Conflux's own scope for tools that write (implies reading).
pub const SCOPE_WRITE: &str = "tools:write";

/// What a token lets its holder do with the tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Read actions only.
    Read,
    /// Every action.
    ReadWrite,
}

impl Access {
    /// Reads Conflux scopes (space-separated); `None` when none is named.
    pub fn from_scope(scope: &str) -> Option<Access> {
        let words: Vec<&str> = scope.split_whitespace().collect();
        if words.contains(&SCOPE_WRITE) {
            Some(Access::ReadWrite)
        } else if words.contains(&SCOPE_READ) {
            Some(Access::Read)
        } else {
            None
        }
    }

    /// The scope string a token with this access carries.
    pub fn scope(self) -> &'static str {
        match self {
            Access::Read => SCOPE_READ,
            Access::ReadWrite => "tools:read tools:write",
        }
    }

    pub fn can_write(self) -> bool {
        self == Access::ReadWrite
    }

    /// In words, for the consent page.
    pub fn describe(self) -> &'static str {
        match self {
            Access::Read => "read Confluence through Conflux's tools (no changes)",
            Access::ReadWrite => "read and change Confluence through Conflux's tools",
        }
    }
}

/// Settings of the authorization server; the binary builds them from configuration.
#[derive(Clone, Debug)]
pub struct AuthzConfig {
    /// The issuer: the server's public URL without a trailing slash (a path prefix allowed).
    pub issuer: String,
    /// The tenant this server serves; tokens of another tenant are refused.
    pub tenant: TenantId,
    /// The most a token may grant (read-only deployments: [`Access::Read`]).
    pub max_access: Access,
    /// Lifetime of access tokens: short, since refresh tokens renew them.
    pub access_ttl: Duration,
    /// Lifetime of a refresh token (each rotation starts a new one).
    pub refresh_ttl: Duration,
    /// Lifetime of an authorization code.
    pub code_ttl: Duration,
    /// How long an authorization may wait for sign-in and consent.
    pub request_ttl: Duration,
    /// An unused dynamic registration is forgotten after this.
    pub registration_ttl: Duration,
    /// How stale a verified token may be served from memory: bounds how late a revocation
    /// takes effect on this replica (at most 5 s).
    pub verify_cache: Duration,
    /// Pending authorizations (sign-ins and MCP consents) allowed per address and in all.
    pub pending_per_address: u64,
    pub pending_total: u64,
    /// Dynamic registrations allowed per address and in all, per hour.
    pub registrations_per_address: u64,
    pub registrations_total: u64,
    /// How Client ID Metadata Documents are fetched.
    pub fetch: FetchPolicy,
}

/// The longest [`AuthzConfig::verify_cache`] may be.
pub const MAX_VERIFY_STALENESS: Duration = Duration::from_secs(5);

impl AuthzConfig {
    /// Defaults for everything but the issuer and the tenant.
    pub fn new(issuer: &str, tenant: TenantId) -> Result<AuthzConfig, AuthzError> {
        let issuer = issuer.trim().trim_end_matches('/').to_string();
        let parsed = url::Url::parse(&issuer).map_err(|e| AuthzError::Config(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(AuthzError::Config(format!(
                "the issuer `{issuer}` must be an http(s) URL with a host"
            )));
        }
        Ok(AuthzConfig {
            issuer,
            tenant,
            max_access: Access::ReadWrite,
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            code_ttl: Duration::from_secs(120),
            request_ttl: Duration::from_secs(600),
            registration_ttl: Duration::from_secs(24 * 3600),
            verify_cache: MAX_VERIFY_STALENESS,
            pending_per_address: 20,
            pending_total: 2000,
            registrations_per_address: 20,
            registrations_total: 500,
            fetch: FetchPolicy::default(),
        })
    }
}

/// The authorization server of one deployment. Cheap to clone.
#[derive(Clone)]
pub struct AuthServer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn AuthStore>,
    config: AuthzConfig,
    fetcher: ClientMetadataFetcher,
    cache: verify::Cache,
}

impl std::fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthServer")
            .field("issuer", &self.inner.config.issuer)
            .field("tenant", &self.inner.config.tenant)
            .finish_non_exhaustive()
    }
}

impl AuthServer {
    pub fn new(
        store: Arc<dyn AuthStore>,
        mut config: AuthzConfig,
    ) -> Result<AuthServer, AuthzError> {
        config.verify_cache = config.verify_cache.min(MAX_VERIFY_STALENESS);
        let fetcher = ClientMetadataFetcher::new(config.fetch.clone())
            .map_err(|e| AuthzError::Config(e.to_string()))?;
        let cache = verify::Cache::new(config.verify_cache);
        Ok(AuthServer {
            inner: Arc::new(Inner {
                store,
                config,
                fetcher,
                cache,
            }),
        })
    }

    pub fn config(&self) -> &AuthzConfig {
        &self.inner.config
    }

    /// The issuer (the public URL).
    pub fn issuer(&self) -> &str {
        &self.inner.config.issuer
    }

    /// The protected resource every token is bound to: `{issuer}/mcp`.
    pub fn resource(&self) -> String {
        format!("{}/mcp", self.inner.config.issuer)
    }

    /// The issuer's origin (`scheme://host[:port]`) and path prefix (empty at the root).
    fn origin_and_prefix(&self) -> (String, String) {
        match url::Url::parse(&self.inner.config.issuer) {
            Ok(u) => {
                let origin = u.origin().ascii_serialization();
                let prefix = u.path().trim_end_matches('/').to_string();
                (origin, prefix)
            }
            Err(_) => (self.inner.config.issuer.clone(), String::new()),
        }
    }

    /// Where the Protected Resource Metadata of `/mcp` lives (RFC 9728 §3.1: the well-known
    /// segment inserted before the resource's path).
    pub fn resource_metadata_url(&self) -> String {
        let (origin, prefix) = self.origin_and_prefix();
        format!("{origin}/.well-known/oauth-protected-resource{prefix}/mcp")
    }

    /// The path (from the host's root) of the resource metadata, and of its root form.
    pub fn resource_metadata_paths(&self) -> Vec<String> {
        let (_, prefix) = self.origin_and_prefix();
        let mut paths = vec![
            format!("/.well-known/oauth-protected-resource{prefix}/mcp"),
            "/.well-known/oauth-protected-resource".to_string(),
        ];
        if !prefix.is_empty() {
            paths.push(format!("/.well-known/oauth-protected-resource{prefix}"));
        }
        paths
    }

    /// The paths of the Authorization Server Metadata (RFC 8414 §3.1, path inserted for a
    /// prefixed issuer, and the root form), and of the OpenID discovery form clients also try.
    pub fn server_metadata_paths(&self) -> Vec<String> {
        let (_, prefix) = self.origin_and_prefix();
        let mut paths = vec![format!("/.well-known/oauth-authorization-server{prefix}")];
        if !prefix.is_empty() {
            paths.push("/.well-known/oauth-authorization-server".to_string());
        }
        paths.push(format!("/.well-known/openid-configuration{prefix}"));
        paths
    }

    /// The scopes a client is told to ask for.
    pub fn scopes_supported(&self) -> Vec<&'static str> {
        match self.inner.config.max_access {
            Access::Read => vec![SCOPE_READ],
            Access::ReadWrite => vec![SCOPE_READ, SCOPE_WRITE],
        }
    }

    /// The `WWW-Authenticate` value of a refusal on `/mcp`: where the metadata is, what scope
    /// to ask for, and (RFC 6750 §3.1) why the token presented was refused.
    pub fn www_authenticate(&self, error: Option<(&str, &str)>, scope: &str) -> String {
        let mut v = format!(
            "Bearer resource_metadata=\"{}\", scope=\"{scope}\"",
            self.resource_metadata_url()
        );
        if let Some((code, description)) = error {
            v.push_str(&format!(
                ", error=\"{code}\", error_description=\"{}\"",
                description.replace(['"', '\\'], "'")
            ));
        }
        v
    }

    /// RFC 9728 Protected Resource Metadata for `/mcp`.
    pub fn protected_resource_metadata(&self) -> Value {
        json!({
            "resource": self.resource(),
            "authorization_servers": [self.inner.config.issuer],
            "scopes_supported": self.scopes_supported(),
            "bearer_methods_supported": ["header"],
            "resource_name": "Conflux (Confluence Cloud tools)",
        })
    }

    /// RFC 8414 Authorization Server Metadata.
    pub fn authorization_server_metadata(&self) -> Value {
        let issuer = &self.inner.config.issuer;
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "registration_endpoint": format!("{issuer}/oauth/register"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "scopes_supported": self.scopes_supported(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "client_id_metadata_document_supported": true,
            "authorization_response_iss_parameter_supported": true,
            "resource_indicators_supported": true,
        })
    }

    /// The subject's live grants, newest first, with the client each was given to.
    pub async fn grants_of(
        &self,
        subject: &Subject,
    ) -> Result<Vec<(conflux_store::McpGrant, ClientView)>, AuthzError> {
        let grants = self
            .inner
            .store
            .mcp_grants_of(&self.inner.config.tenant, subject)
            .await?;
        let mut out = Vec::with_capacity(grants.len());
        for g in grants {
            let view = self.client_view(&g.client_id).await?;
            out.push((g, view));
        }
        Ok(out)
    }

    /// Revokes one of the subject's grants (a person revoking a client on the page): every
    /// token it issued stops working within [`AuthzConfig::verify_cache`].
    pub async fn revoke_grant_of(
        &self,
        subject: &Subject,
        grant_id: &str,
    ) -> Result<bool, AuthzError> {
        let store = &self.inner.store;
        match store.mcp_grant(grant_id).await? {
            Some(g) if &g.subject == subject && g.tenant == self.inner.config.tenant => {
                let revoked = store.revoke_mcp_grant(grant_id).await?;
                self.inner.cache.clear();
                tracing::info!(client = %g.client_id, "grant revoked by its owner");
                Ok(revoked)
            }
            _ => Ok(false),
        }
    }

    /// Deletes what expired; the server calls it now and then.
    pub async fn sweep(
        &self,
        idle_sessions_before: std::time::SystemTime,
    ) -> Result<u64, AuthzError> {
        Ok(self
            .inner
            .store
            .sweep(std::time::SystemTime::now(), idle_sessions_before)
            .await?)
    }

    /// The JSON endpoints: metadata (RFC 9728, RFC 8414), token, registration and revocation,
    /// each answering CORS preflights so that browser-based clients work. Expects the
    /// caller's address digest as a [`ClientAddress`] request extension (set by the server's
    /// outer layer); without one, every caller shares one rate-limit bucket.
    pub fn router(&self) -> axum::Router {
        endpoints::router(self.clone())
    }
}

/// Digest of the address a request came from, set by the server for rate limits and caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl ClientAddress {
    /// The digest of an address (the raw address is not kept). An IPv6 address counts as its
    /// /64, the block one subscriber gets: counted one by one, a single host could use up
    /// any per-address limit's worth of addresses in a second.
    pub fn of(address: &str) -> ClientAddress {
        use sha2::Digest as _;
        let bucket = match address
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_canonical())
        {
            Ok(std::net::IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Ok(v4) => v4.to_string(),
            Err(_) => address.to_string(),
        };
        let d = sha2::Sha256::digest(bucket.as_bytes());
        ClientAddress(d.iter().take(16).map(|b| format!("{b:02x}")).collect())
    }

    /// The bucket of requests whose address is unknown.
    pub fn unknown() -> ClientAddress {
        ClientAddress("unknown".into())
    }
}

/// A fresh random secret with a prefix that says what it is (`cfx_at_`, `cfx_rt_`, ...).
pub(crate) fn random_secret(prefix: &str) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_from_scopes() {
        assert_eq!(Access::from_scope("tools:read"), Some(Access::Read));
        assert_eq!(
            Access::from_scope("tools:write tools:read"),
            Some(Access::ReadWrite)
        );
        assert_eq!(Access::from_scope("tools:write"), Some(Access::ReadWrite));
        assert_eq!(Access::from_scope("openid"), None);
        assert_eq!(
            Access::from_scope(Access::ReadWrite.scope()),
            Some(Access::ReadWrite)
        );
    }

    #[test]
    fn metadata_locations_insert_the_well_known_segment() {
        let tenant = TenantId::new("t").unwrap();
        let c = AuthzConfig::new("https://example.com/conflux/", tenant.clone()).unwrap();
        assert_eq!(c.issuer, "https://example.com/conflux");
        assert!(AuthzConfig::new("ftp://x", tenant).is_err());
    }

    #[test]
    fn secrets_are_prefixed_and_distinct() {
        let a = random_secret("cfx_at_");
        assert!(a.starts_with("cfx_at_") && a.len() == 7 + 43);
        assert_ne!(a, random_secret("cfx_at_"));
    }
}
