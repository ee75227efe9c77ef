//! The configuration page of `conflux serve --http`, the authorization server of its MCP
//! endpoint, and the endpoint itself.
//!
//! One axum router serves:
//!
//! - `/`: the **person's view**. In the OAuth modes a person signs in with Atlassian (the 3LO
//!   flow, which also connects Confluence); Atlassian says who they are (their account id is
//!   their key), and only members of the tenant's site get in. They see their connection, the
//!   MCP clients they authorized (and revoke them), and make personal access keys. In the
//!   token modes it shows the connector's status.
//! - `/callback`: where Atlassian sends the browser back ([`Web::callback_url`]).
//! - `/oauth/authorize`, `/oauth/consent`: an MCP client's authorization: sign-in, then the
//!   consent page (the maintainer approves on `/admin/consent` in the token modes);
//!   `/oauth/token`, `/oauth/register`, `/oauth/revoke` and the metadata under
//!   `/.well-known/` come from `conflux-authz`.
//! - `/admin`: the **maintainer's view**, behind the admin token (throttled sign-in, sessions
//!   kept in the store): auth mode, app, scopes, site, shared credential, the clients allowed
//!   to call, agent keys, connections.
//! - `/mcp`: the MCP server (streamable HTTP). Every call carries a credential the server
//!   verifies (an OAuth access token, an access key, or the platform's secret); nobody else
//!   gets in.
//!
//! Every route checks `Host` and `Origin`; every form carries a CSRF token; secrets are
//! write-only; everything that says who may do what lives in the store, so replicas share it.
//!
//! Depends on the MCP server, the operations, the OAuth flow, the authorization server and
//! the store; never reads environment variables (the binary builds [`WebConfig`]).
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn conflux_store::Store>, key: conflux_store::EncryptionKey) -> Result<(), Box<dyn std::error::Error>> {
//! let config = conflux_web::WebConfig::new(
//!     "https://conflux.example.com",
//!     conflux_store::TenantId::new("default")?,
//!     key.derive("conflux-web cookies"),
//! )?;
//! let web = conflux_web::Web::new(store, config)?;
//! println!("register this callback URL: {}", web.callback_url());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, web.app()?).await?;
//! # Ok(()) }
//! ```

mod guard;
mod html;
mod limits;
mod mcp_auth;
mod pages;
mod probes;
mod provider;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conflux_authz::{AuthServer, AuthzConfig};
use conflux_client::{ClientConfig, CredentialConfig};
use conflux_mcp::ConfluxServer;
use conflux_oauth::{AppCredentials, OAuthConfig, OAuthFlow};
use conflux_store::{AppSettings, Store, TenantId, TokenStore};
use conflux_types::Secret;

use crate::guard::Guard;
pub use crate::mcp_auth::AUTH_REFUSALS;
use crate::mcp_auth::{Gate, McpAuth, StoreSessions};
pub use crate::probes::RenderMetrics;
use crate::provider::{Deployment, Parts, Provider};
use crate::session::Signer;

/// Shortest admin token accepted: guessing must be hopeless, not merely slow.
pub const MIN_ADMIN_TOKEN: usize = 32;
/// Shortest platform credential accepted.
pub const MIN_PLATFORM_SECRET: usize = 32;

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
    #[error(
        "the admin token is {0} characters long; it must be at least {MIN_ADMIN_TOKEN} (e.g. \
         `openssl rand -hex 32`)"
    )]
    AdminTokenTooShort(usize),
    #[error(
        "the platform credential is {0} bytes long; it must be at least {MIN_PLATFORM_SECRET} \
         (e.g. `openssl rand -hex 32`)"
    )]
    PlatformSecretTooShort(usize),
    #[error("an open server (anyone may call) must listen on loopback only; its public URL is {0}")]
    OpenNotLoopback(String),
    #[error(transparent)]
    Authz(#[from] conflux_authz::AuthzError),
}

/// Who may call `/mcp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum McpAccess {
    /// Only callers with a credential the server verified (the default).
    #[default]
    Authenticated,
    /// Anyone who reaches the server, as one anonymous caller: the demo, on loopback only.
    Open,
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
    /// The text beside each structured result.
    pub output_format: conflux_mcp::OutputFormat,
    /// Endpoints (Atlassian's or the simulator's), timeouts, retries.
    pub client: ClientConfig,
    /// The platform's app for `oauthCentral` (its secret never leaves the server).
    pub central_app: Option<AppCredentials>,
    /// The server's own credential, used in `apiToken` / `accessToken` mode when the page
    /// sets none.
    pub fallback: Option<CredentialConfig>,
    /// The settings in force until the maintainer saves some.
    pub defaults: AppSettings,
    /// Signs CSRF tokens and sign-in bindings; derive it from the store key
    /// ([`conflux_store::EncryptionKey::derive`]) so every process agrees.
    pub cookie_key: [u8; 32],
    /// Who may call `/mcp`.
    pub mcp_access: McpAccess,
    /// The platform's own credential (at least 32 bytes): a `/mcp` request bearing it may name
    /// its agent and person in headers or `_meta`. Without it those are ignored.
    pub platform_secret: Option<Secret>,
    /// The authorization server's settings (token lifetimes, caps, how client metadata
    /// documents are fetched); its issuer, tenant and ceiling follow this config.
    pub authz: AuthzConfig,
    /// Take the caller's address from `X-Forwarded-For` (behind a trusted reverse proxy).
    pub trust_forwarded: bool,
    /// With `trust_forwarded`: the peers whose `X-Forwarded-For` is taken (the proxies'
    /// addresses or blocks); empty: any peer's.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Browser origins `/mcp` admits besides the public URL's and loopback.
    pub extra_origins: Vec<String>,
    /// An MCP session of an older client idle this long is closed (default 5 minutes).
    pub session_idle: Duration,
    /// How many MCP sessions of older clients are kept, in all and per caller.
    pub session_limits: conflux_mcp::SessionLimits,
}

impl WebConfig {
    /// Defaults for everything but the public URL, the tenant and the cookie key: all tools,
    /// Atlassian's endpoints, `oauthCentral`, no maintainer view.
    pub fn new(
        public_url: &str,
        tenant: TenantId,
        cookie_key: [u8; 32],
    ) -> Result<WebConfig, WebError> {
        let public_url = normalise_public_url(public_url)?;
        Ok(WebConfig {
            authz: AuthzConfig::new(&public_url, tenant.clone())?,
            public_url,
            tenant,
            mcp_access: McpAccess::Authenticated,
            platform_secret: None,
            trust_forwarded: false,
            trusted_proxies: Vec::new(),
            extra_origins: Vec::new(),
            session_idle: Duration::from_secs(300),
            session_limits: conflux_mcp::SessionLimits::default(),
            admin_token: None,
            tools: Vec::new(),
            ops: conflux_ops::Config::default(),
            output_format: conflux_mcp::OutputFormat::default(),
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

/// The configuration page, authorization server and MCP endpoint of one deployment. Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct Web {
    state: Arc<pages::State>,
    config: Arc<WebConfig>,
    probes: Arc<probes::Probes>,
    /// Ends the MCP sessions of older clients and their event streams ([`Web::close_sessions`]).
    sessions_end: tokio_util::sync::CancellationToken,
}

/// Registers the help text of the metrics the deployment records (this crate's and those of
/// the crates it drives).
pub fn describe_metrics() {
    metrics::describe_counter!(
        AUTH_REFUSALS,
        "Requests to /mcp refused before the MCP server, by reason"
    );
    conflux_mcp::describe_metrics();
    conflux_client::describe_metrics();
    conflux_oauth::describe_metrics();
    conflux_store::describe_metrics();
}

impl Web {
    pub fn new(store: Arc<dyn Store>, config: WebConfig) -> Result<Web, WebError> {
        let public_url = normalise_public_url(&config.public_url)?;
        if let Some(t) = &config.admin_token
            && t.expose().chars().count() < MIN_ADMIN_TOKEN
        {
            return Err(WebError::AdminTokenTooShort(t.expose().chars().count()));
        }
        if let Some(p) = &config.platform_secret
            && p.expose().len() < MIN_PLATFORM_SECRET
        {
            return Err(WebError::PlatformSecretTooShort(p.expose().len()));
        }
        if config.mcp_access == McpAccess::Open && !is_loopback_url(&public_url) {
            return Err(WebError::OpenNotLoopback(public_url));
        }
        let needed = conflux_ops::catalog::scopes_for(&config.tools, config.ops.read_only);
        let needed_read = conflux_ops::catalog::scopes_for(&config.tools, true);
        let mut oauth = OAuthConfig::new(
            config.client.endpoints.clone(),
            format!("{public_url}/callback"),
            format!("{public_url}/"),
        );
        oauth.central_app = config.central_app.clone();
        oauth.default_scopes = needed;
        oauth.refresh_skew = config.client.refresh_skew;
        oauth.default_settings = config.defaults.clone();
        let tokens: Arc<dyn TokenStore> = store.clone();
        let flow = OAuthFlow::new(tokens, oauth)?;
        let mut authz_config = config.authz.clone();
        authz_config.issuer = public_url.clone();
        authz_config.tenant = config.tenant.clone();
        if config.ops.read_only {
            authz_config.max_access = conflux_authz::Access::Read;
        }
        let authz = AuthServer::new(store.clone(), authz_config)?;
        let deployment = Arc::new(Deployment::new(Parts {
            store,
            flow,
            authz,
            tenant: config.tenant.clone(),
            ops: config.ops.clone(),
            client: config.client.clone(),
            fallback: config.fallback.clone(),
            defaults: config.defaults.clone(),
            user_url: format!("{public_url}/"),
        }));
        let signer = Signer::new(config.cookie_key, public_url.starts_with("https://"));
        let probes = Arc::new(probes::Probes::new(deployment.clone()));
        Ok(Web {
            probes,
            sessions_end: tokio_util::sync::CancellationToken::new(),
            state: Arc::new(pages::State {
                deployment,
                signer,
                public_url: public_url.clone(),
                admin_token: config.admin_token.clone().filter(|t| !t.is_empty()),
                needed,
                needed_read,
                central_client_id: config.central_app.as_ref().map(|a| a.client_id.clone()),
                throttle: limits::SignInThrottle::default(),
                open: config.mcp_access == McpAccess::Open,
            }),
            config: Arc::new(WebConfig {
                public_url,
                ..config
            }),
        })
    }

    /// The callback URL to register with the OAuth app, byte for byte.
    pub fn callback_url(&self) -> String {
        format!("{}/callback", self.state.public_url)
    }

    /// The person's view, quoted in "sign in again at …" errors.
    pub fn user_url(&self) -> String {
        format!("{}/", self.state.public_url)
    }

    /// The OAuth flow (status, disconnect, clients) over the same store.
    pub fn flow(&self) -> &OAuthFlow {
        &self.state.deployment.flow
    }

    /// The authorization server of `/mcp`.
    pub fn authz(&self) -> &AuthServer {
        &self.state.deployment.authz
    }

    /// The MCP server whose calls are checked against the allowlist and served with the
    /// caller's connection.
    pub fn mcp_server(&self) -> Result<ConfluxServer, WebError> {
        let provider = Arc::new(Provider(self.state.deployment.clone()));
        Ok(ConfluxServer::with_provider(
            provider,
            self.state.deployment.ops.read_only,
            &self.config.tools,
        )?
        .with_output_format(self.config.output_format))
    }

    /// Every route: the pages, the authorization server and `/mcp`, behind the `Host` /
    /// `Origin` guard, and the probes `/healthz` and `/readyz`, which skip it (load balancers
    /// address a replica by its own address). Serve it with the peer's address
    /// (`into_make_service_with_connect_info`, as [`Web::app`] does) so rate limits and caps
    /// count per address.
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
        let d = &self.state.deployment;
        let gate = match self.config.mcp_access {
            McpAccess::Open => Gate::Open,
            McpAccess::Authenticated => Gate::Authenticated {
                authz: d.authz.clone(),
                platform: self.config.platform_secret.clone(),
                read_only: d.ops.read_only,
            },
        };
        let auth = Arc::new(McpAuth::new(gate, d.store.clone()));
        let mcp = conflux_mcp::http_router_with(
            self.mcp_server()?,
            conflux_mcp::HttpOptions {
                hosts,
                session_store: Some(Arc::new(StoreSessions(d.store.clone()))),
                session_idle: Some(self.config.session_idle),
                session_limits: self.config.session_limits,
                shutdown: Some(self.sessions_end.clone()),
            },
        )
        // A route layer: unknown paths of the merged router stay plain 404s.
        .route_layer(axum::middleware::from_fn_with_state(
            auth,
            mcp_auth::authenticate,
        ));
        let guard = Arc::new(Guard::new(
            &self.state.public_url,
            self.config.extra_origins.clone(),
            self.config
                .trust_forwarded
                .then(|| self.config.trusted_proxies.clone()),
        ));
        Ok(pages::router(self.state.clone())
            .merge(d.authz.router())
            .merge(mcp)
            .layer(axum::middleware::from_fn_with_state(guard, guard::check))
            .merge(self.probe_router()))
    }

    /// `/healthz` (the process answers) and `/readyz` (the store answers and the key opens
    /// it; Confluence reported, never decisive), without the `Host` guard: also served on the
    /// metrics address.
    pub fn probe_router(&self) -> axum::Router {
        probes::router(self.probes.clone())
    }

    /// `/metrics` for whoever holds the admin token (`Authorization: Bearer`), without the
    /// `Host` guard (Prometheus addresses a replica by its own address); an empty router when
    /// no admin token is set. For deployments that cannot give the metrics an address of
    /// their own (`--metrics`).
    pub fn admin_metrics_router(&self, render: RenderMetrics) -> axum::Router {
        probes::metrics_router(self.config.admin_token.clone(), render)
    }

    /// Ends the MCP sessions of clients on older revisions and their open event streams, so
    /// that their connections close: the last step of a graceful shutdown, once the answers
    /// to the requests in flight are sent.
    pub fn close_sessions(&self) {
        self.sessions_end.cancel();
    }

    /// The router as a service that knows each peer's address.
    pub fn app(
        &self,
    ) -> Result<
        axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>,
        WebError,
    > {
        Ok(self
            .router()?
            .into_make_service_with_connect_info::<SocketAddr>())
    }

    /// Deletes what expired (sessions, requests, codes, tokens, unused registrations, idle
    /// MCP sessions); returns how many rows.
    pub async fn sweep(&self) -> Result<u64, WebError> {
        let idle_before = SystemTime::now()
            .checked_sub(self.config.session_idle * 2)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(self.authz().sweep(idle_before).await?)
    }

    /// Sweeps every minute until the runtime stops.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let web = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                match web.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(rows = n, "expired rows swept"),
                    Err(e) => tracing::warn!(error = %e, "sweep failed"),
                }
            }
        })
    }
}

fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    })
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
