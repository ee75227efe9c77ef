//! The configuration page of `conflux serve --http`, and the MCP endpoint it configures.
//!
//! One axum router serves:
//!
//! - `/`: the **user view**. The person names the user id their agents send, then Connects
//!   (OAuth 2.0 3LO through Atlassian's identity service), sees which site and scopes were
//!   granted and whether they cover every enabled tool, and can Disconnect.
//! - `/callback`: where the identity service sends the browser back ([`Web::callback_url`] is
//!   the exact URL to register with the app).
//! - `/admin`: the **maintainer view**, behind an admin token (login form, HttpOnly
//!   SameSite=Strict cookie): the auth mode (`oauthCentral`, `oauth`, `apiToken`,
//!   `accessToken`), the app's client id and secret, the scopes, the shared credential of the
//!   token modes, and the agent allowlist.
//! - `/mcp`: the MCP server (streamable HTTP). Each call names its agent and user
//!   (`X-Conflux-Agent-Id` / `X-Conflux-User-Id` or `_meta`); the allowlist is checked, then
//!   the call runs with that user's connection.
//!
//! Every form carries a CSRF token bound to the browser session; secrets are write-only (the
//! pages say "set" or "not set"). Sessions are stateless cookies signed with a key derived
//! from the store's encryption key, so several processes can serve one deployment.
//!
//! Depends on the MCP server, the operations, the OAuth flow and the store; never reads
//! environment variables (the binary builds [`WebConfig`]).
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn conflux_store::TokenStore>, key: conflux_store::EncryptionKey) -> Result<(), Box<dyn std::error::Error>> {
//! let config = conflux_web::WebConfig::new(
//!     "https://conflux.example.com",
//!     conflux_store::TenantId::new("default")?,
//!     key.derive("conflux-web cookies"),
//! )?;
//! let web = conflux_web::Web::new(store, config)?;
//! println!("register this callback URL: {}", web.callback_url());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, web.router()?).await?;
//! # Ok(()) }
//! ```

mod html;
mod pages;
mod provider;
mod session;

use std::sync::Arc;

use conflux_client::{ClientConfig, CredentialConfig};
use conflux_mcp::ConfluxServer;
use conflux_oauth::{AppCredentials, OAuthConfig, OAuthFlow};
use conflux_store::{AppSettings, TenantId, TokenStore};
use conflux_types::Secret;

use crate::provider::{Deployment, Provider};
use crate::session::Signer;

/// What can stop the configuration page from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    #[error("the public URL `{url}` is not usable: {reason}")]
    PublicUrl { url: String, reason: String },
    #[error(transparent)]
    OAuth(#[from] conflux_oauth::OAuthError),
    #[error(transparent)]
    Serve(#[from] conflux_mcp::ServeError),
}

/// Settings of the page and the MCP endpoint; the binary builds them from configuration.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Where browsers and the identity service reach this server, without a trailing slash
    /// (e.g. `https://conflux.example.com`); the callback URL is built from it.
    pub public_url: String,
    /// The tenant this server serves (its settings, allowlist and connections).
    pub tenant: TenantId,
    /// The maintainer's credential for `/admin`; `None` disables the maintainer view.
    pub admin_token: Option<Secret>,
    /// The enabled tools (all when empty); their scopes are requested and checked.
    pub tools: Vec<String>,
    /// Guardrails of every call.
    pub ops: conflux_ops::Config,
    /// Endpoints (Atlassian's or the simulator's), timeouts, retries.
    pub client: ClientConfig,
    /// The platform's app for `oauthCentral` (its secret never leaves the server).
    pub central_app: Option<AppCredentials>,
    /// The server's own credential, used in `apiToken` / `accessToken` mode when the page
    /// sets none.
    pub fallback: Option<CredentialConfig>,
    /// The settings in force until the maintainer saves some.
    pub defaults: AppSettings,
    /// Signs session cookies and CSRF tokens; derive it from the store key
    /// ([`conflux_store::EncryptionKey::derive`]) so every process agrees.
    pub cookie_key: [u8; 32],
}

impl WebConfig {
    /// Defaults for everything but the public URL, the tenant and the cookie key: all tools,
    /// Atlassian's endpoints, `oauthCentral`, no maintainer view.
    pub fn new(
        public_url: &str,
        tenant: TenantId,
        cookie_key: [u8; 32],
    ) -> Result<WebConfig, WebError> {
        Ok(WebConfig {
            public_url: normalise_public_url(public_url)?,
            tenant,
            admin_token: None,
            tools: Vec::new(),
            ops: conflux_ops::Config::default(),
            client: ClientConfig::default(),
            central_app: None,
            fallback: None,
            defaults: AppSettings::default(),
            cookie_key,
        })
    }
}

/// `http(s)://host[:port][/prefix]` without a trailing slash, query or fragment.
fn normalise_public_url(url: &str) -> Result<String, WebError> {
    let bad = |reason: &str| WebError::PublicUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = url::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("it must start with http:// or https://"));
    }
    if parsed.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it must not carry a query or fragment"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

/// The configuration page and MCP endpoint of one deployment. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Web {
    state: Arc<pages::State>,
}

impl Web {
    pub fn new(store: Arc<dyn TokenStore>, config: WebConfig) -> Result<Web, WebError> {
        let public_url = normalise_public_url(&config.public_url)?;
        let needed = conflux_ops::catalog::scopes_for(&config.tools, config.ops.read_only);
        let mut oauth = OAuthConfig::new(
            config.client.endpoints.clone(),
            format!("{public_url}/callback"),
            format!("{public_url}/"),
        );
        oauth.central_app = config.central_app.clone();
        oauth.default_scopes = needed;
        oauth.refresh_skew = config.client.refresh_skew;
        let flow = OAuthFlow::new(store.clone(), oauth)?;
        let deployment = Arc::new(Deployment::new(
            store,
            flow,
            config.tenant.clone(),
            config.ops.clone(),
            config.client.clone(),
            config.fallback.clone(),
            config.defaults.clone(),
        ));
        let signer = Signer::new(config.cookie_key, public_url.starts_with("https://"));
        Ok(Web {
            state: Arc::new(pages::State {
                deployment,
                signer,
                public_url,
                admin_token: config.admin_token.clone().filter(|t| !t.is_empty()),
                tools: config.tools.clone(),
                needed,
                central_client_id: config.central_app.as_ref().map(|a| a.client_id.clone()),
            }),
        })
    }

    /// The callback URL to register with the OAuth app, byte for byte.
    pub fn callback_url(&self) -> String {
        format!("{}/callback", self.state.public_url)
    }

    /// The user view, quoted in "reconnect at …" errors.
    pub fn user_url(&self) -> String {
        format!("{}/", self.state.public_url)
    }

    /// The OAuth flow (status, disconnect, clients) over the same store.
    pub fn flow(&self) -> &OAuthFlow {
        &self.state.deployment.flow
    }

    /// The MCP server whose calls are checked against the allowlist and served with the
    /// calling user's connection.
    pub fn mcp_server(&self) -> Result<ConfluxServer, WebError> {
        let provider = Arc::new(Provider(self.state.deployment.clone()));
        Ok(ConfluxServer::with_provider(
            provider,
            self.state.deployment.ops.read_only,
            &self.state.tools,
        )?)
    }

    /// The pages, the callback and `/mcp`.
    pub fn router(&self) -> Result<axum::Router, WebError> {
        let mut hosts = Vec::new();
        if let Ok(u) = url::Url::parse(&self.state.public_url)
            && let Some(host) = u.host_str()
        {
            hosts.push(host.to_string());
            if let Some(port) = u.port() {
                hosts.push(format!("{host}:{port}"));
            }
        }
        let mcp = conflux_mcp::http_router_for_hosts(self.mcp_server()?, &hosts);
        Ok(pages::router(self.state.clone()).merge(mcp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_normalised_or_refused() {
        assert_eq!(
            normalise_public_url("https://conflux.example.com/").unwrap(),
            "https://conflux.example.com"
        );
        assert_eq!(
            normalise_public_url("http://127.0.0.1:8080/conflux/").unwrap(),
            "http://127.0.0.1:8080/conflux"
        );
        assert!(normalise_public_url("ftp://x").is_err());
        assert!(normalise_public_url("https://x/?a=1").is_err());
        assert!(normalise_public_url("not a url").is_err());
    }
}
