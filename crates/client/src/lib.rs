//! A Confluence Cloud client that knows where each credential works.
//!
//! [`Client::connect`] resolves a configured credential once (an API token of unknown kind is
//! probed: site URL, then `_edge/tenant_info`, then the gateway), picks the base URL that will
//! accept it ([`route::route_for`]), and from then on every call is planned from the operation
//! catalog: the API version whose operation the credential can use, retired v1 endpoints never
//! used on the gateway, refusals turned into [`ClientError`]s that name the fix.
//!
//! ```no_run
//! # async fn demo() -> conflux_client::Result<()> {
//! use conflux_client::{Client, ClientConfig, CredentialConfig, TokenKindHint};
//! use conflux_types::{Secret, SiteUrl};
//! let client = Client::connect(
//!     CredentialConfig::ApiToken {
//!         email: "me@example.com".into(),
//!         token: Secret::new(std::env::var("CONFLUENCE_API_TOKEN").unwrap_or_default()),
//!         site: Some(SiteUrl::parse("https://example.atlassian.net")?),
//!         cloud_id: None,
//!         kind: TokenKindHint::Detect,
//!         scopes: None,
//!     },
//!     ClientConfig::default(),
//! )
//! .await?;
//! let page = client.pages().get("123".into(), None).await?;
//! println!("{}", page.title);
//! # Ok(()) }
//! ```
//!
//! Depends on the catalog and the value types only; it never reads environment variables.

pub mod api;
pub mod credential;
pub mod error;
pub mod models;
pub mod observe;
mod paging;
mod probe;
mod retry;
pub mod route;
mod transport;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use credential::{
    AccessToken, ApiToken, Credential, CredentialConfig, CredentialKind, OAuthApp, OAuthToken,
    ScopedToken, TokenKindHint,
};
pub use error::{AuthFailure, ClientError, ErrorKind, MissingScopes, Result, Surface};
pub use observe::describe_metrics;
pub use paging::{Page, PageRequest};
pub use retry::RetryPolicy;
pub use route::{Endpoints, Route};
pub use transport::{ProbeAnswer, scope_witness};

/// Obtains a fresh OAuth token when the current one is stale. The connection store implements
/// it (rotating refresh tokens, single-flight across processes); the client only calls it.
pub trait TokenRefresher: Send + Sync + 'static {
    fn refresh<'a>(
        &'a self,
        current: &'a OAuthToken,
    ) -> Pin<Box<dyn Future<Output = Result<OAuthToken>> + Send + 'a>>;
}

/// Settings that do not depend on the credential.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoints: Endpoints,
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Refresh OAuth tokens this long before their stored expiry.
    pub refresh_skew: Duration,
    pub user_agent: String,
    /// Longest request URL sent, in bytes; a longer one (a long CQL query) is refused before
    /// sending as invalid input. Atlassian documents no limit; `None` sends any URL and relies
    /// on the 414 a front end answers.
    pub max_url_length: Option<usize>,
}

/// URLs up to 8 KiB: what common front ends accept.
pub const DEFAULT_MAX_URL_LENGTH: usize = 8 * 1024;

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoints: Endpoints::atlassian(),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            refresh_skew: Duration::from_secs(60),
            user_agent: format!("conflux/{}", env!("CARGO_PKG_VERSION")),
            max_url_length: Some(DEFAULT_MAX_URL_LENGTH),
        }
    }
}

/// A connected client. Cheap to clone; clones share the credential and connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    credential: RwLock<Credential>,
    route: Route,
    refresher: Option<Arc<dyn TokenRefresher>>,
    refresh_lock: tokio::sync::Mutex<()>,
    /// Scopes a token of unknown scopes was proven to hold (true) or lack (false).
    scope_facts: std::sync::Mutex<std::collections::HashMap<conflux_catalog::Scope, bool>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("route", &self.inner.route)
            .field("credential", &self.credential().kind())
            .finish()
    }
}

pub(crate) fn http_client(config: &ClientConfig) -> Result<reqwest::Client> {
    // ring, not aws-lc-rs: a far lighter build. Installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .timeout(config.timeout)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| ClientError::Config(format!("could not build the HTTP client: {e}")))
}

/// The cloudId of `site`, from `{site}/_edge/tenant_info` (no credential needed): what a
/// deployment learns once when its maintainer names the site.
pub async fn site_cloud_id(
    site: &conflux_types::SiteUrl,
    config: &ClientConfig,
) -> Result<conflux_types::CloudId> {
    probe::tenant_info(&http_client(config)?, &config.retry, site).await
}

impl Client {
    /// Resolves `credential` (probing an API token of unknown kind once) and connects.
    pub async fn connect(credential: CredentialConfig, config: ClientConfig) -> Result<Client> {
        let http = http_client(&config)?;
        let resolved = probe::resolve(&http, &config, credential).await?;
        Ok(Client::from_parts(http, config, resolved))
    }

    /// A client for an already-resolved credential; no request is made.
    pub fn new(credential: Credential, config: ClientConfig) -> Result<Client> {
        let http = http_client(&config)?;
        Ok(Client::from_parts(http, config, credential))
    }

    fn from_parts(http: reqwest::Client, config: ClientConfig, credential: Credential) -> Client {
        let route = route::route_for(&credential, &config.endpoints);
        tracing::debug!(kind = ?credential.kind(), route = route.name(), "connected");
        Client {
            inner: Arc::new(Inner {
                http,
                config,
                credential: RwLock::new(credential),
                route,
                refresher: None,
                refresh_lock: tokio::sync::Mutex::new(()),
                scope_facts: Default::default(),
            }),
        }
    }

    /// Installs the refresher that renews OAuth tokens.
    pub fn with_refresher(self, refresher: Arc<dyn TokenRefresher>) -> Client {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(shared) => Inner {
                http: shared.http.clone(),
                config: shared.config.clone(),
                credential: RwLock::new(read_lock(&shared.credential).clone()),
                route: shared.route.clone(),
                refresher: None,
                refresh_lock: tokio::sync::Mutex::new(()),
                scope_facts: Default::default(),
            },
        };
        Client {
            inner: Arc::new(Inner {
                refresher: Some(refresher),
                ..inner
            }),
        }
    }

    /// The cloudId of `site`, from `{site}/_edge/tenant_info` (no authentication needed).
    pub async fn discover_cloud_id(
        &self,
        site: &conflux_types::SiteUrl,
    ) -> Result<conflux_types::CloudId> {
        probe::tenant_info(&self.inner.http, &self.inner.config.retry, site).await
    }

    pub(crate) fn known_scope(&self, scope: conflux_catalog::Scope) -> Option<bool> {
        self.inner
            .scope_facts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&scope)
            .copied()
    }

    pub(crate) fn remember_scope(&self, scope: conflux_catalog::Scope, held: bool) {
        self.inner
            .scope_facts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(scope, held);
    }

    /// The resolved credential (secrets stay wrapped).
    pub fn credential(&self) -> Credential {
        read_lock(&self.inner.credential).clone()
    }

    pub fn route(&self) -> Route {
        self.inner.route.clone()
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Refreshes the OAuth token when it is stale (or when `force`), once even under many
    /// concurrent callers: whoever gets the lock refreshes, the others see the new token.
    /// Returns whether the token was renewed.
    pub(crate) async fn refresh_if_stale(&self, force: bool) -> Result<bool> {
        let Some(refresher) = self.inner.refresher.as_ref() else {
            return Ok(false);
        };
        let skew = self.inner.config.refresh_skew;
        let before = match self.credential() {
            Credential::OAuth(t) if force || t.is_stale(std::time::SystemTime::now(), skew) => t,
            _ => return Ok(false),
        };
        let _guard = self.inner.refresh_lock.lock().await;
        let current = match self.credential() {
            Credential::OAuth(t) => t,
            _ => return Ok(false),
        };
        if current.access != before.access {
            return Ok(true); // someone else refreshed while we waited
        }
        let fresh = refresher.refresh(&current).await?;
        *write_lock(&self.inner.credential) = Credential::OAuth(fresh);
        tracing::debug!("oauth token refreshed");
        Ok(true)
    }
}

fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}
