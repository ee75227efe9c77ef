//! The MCP side of a deployment: the allowlist check and each call's operations, chosen by the
//! tenant's auth mode. OAuth modes build a client for the calling user's connection (its
//! token refreshes through the store); `apiToken` and `accessToken` share one client.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use conflux_client::{Client, ClientConfig, CredentialConfig, TokenKindHint};
use conflux_mcp::{BoxFuture, OpsProvider};
use conflux_oauth::{OAuthError, OAuthFlow};
use conflux_ops::{OpError, Ops};
use conflux_store::{AgentId, AppSettings, AuthMode, ConnectionKey, TenantId, TokenStore, UserId};
use conflux_types::SiteUrl;

/// How many refused agent ids the maintainer view offers to tick.
const SEEN_AGENTS: usize = 50;

/// Shared by the pages and the MCP endpoint.
pub(crate) struct Deployment {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) flow: OAuthFlow,
    pub(crate) tenant: TenantId,
    pub(crate) ops: conflux_ops::Config,
    pub(crate) client: ClientConfig,
    /// The server's own credential (CONFLUENCE_*), used when the page sets none.
    pub(crate) fallback: Option<CredentialConfig>,
    /// The settings in force until the maintainer saves some.
    pub(crate) defaults: AppSettings,
    /// The client of the `apiToken` / `accessToken` modes, with the settings it was built from.
    shared: tokio::sync::Mutex<Option<(AuthMode, Option<SystemTime>, Ops)>>,
    /// Agents refused lately (id → last seen), so the maintainer can tick them.
    seen: Mutex<BTreeMap<String, SystemTime>>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("tenant", &self.tenant)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Deployment {
    pub(crate) fn new(
        store: Arc<dyn TokenStore>,
        flow: OAuthFlow,
        tenant: TenantId,
        ops: conflux_ops::Config,
        client: ClientConfig,
        fallback: Option<CredentialConfig>,
        defaults: AppSettings,
    ) -> Deployment {
        Deployment {
            store,
            flow,
            tenant,
            ops,
            client,
            fallback,
            defaults,
            shared: tokio::sync::Mutex::new(None),
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// The tenant's settings, or the defaults when none are saved.
    pub(crate) async fn settings(&self) -> Result<AppSettings, conflux_store::StoreError> {
        Ok(self
            .store
            .app_settings(&self.tenant)
            .await?
            .unwrap_or_else(|| self.defaults.clone()))
    }

    /// Agent ids refused lately and still not on the allowlist, newest first.
    pub(crate) fn seen_agents(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<(&String, &SystemTime)> = seen.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1));
        v.into_iter().map(|(k, _)| k.clone()).collect()
    }

    pub(crate) fn forget_seen(&self, agent: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(agent);
    }

    fn remember_refused(&self, agent: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(agent.to_string(), SystemTime::now());
        while seen.len() > SEEN_AGENTS {
            let oldest = seen.iter().min_by_key(|(_, t)| **t).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => seen.remove(&k),
                None => break,
            };
        }
    }

    async fn check(&self, agent: Option<&str>) -> Result<bool, OpError> {
        let settings = self.settings().await.map_err(store_error)?;
        if settings.allow_all_agents {
            return Ok(true);
        }
        let Some(agent) = agent else {
            return Ok(false);
        };
        let Ok(id) = AgentId::new(agent) else {
            return Ok(false);
        };
        let allowed = self
            .store
            .is_agent_allowed(&self.tenant, &id)
            .await
            .map_err(store_error)?;
        if !allowed {
            self.remember_refused(agent);
        }
        Ok(allowed)
    }

    async fn ops(&self, user: Option<&str>) -> Result<Ops, OpError> {
        let settings = self.settings().await.map_err(store_error)?;
        match settings.auth_mode {
            AuthMode::OAuthCentral | AuthMode::OAuth => {
                let Some(user) = user else {
                    return Err(OpError::policy(
                        "The call names no user, so Conflux cannot tell whose Confluence \
                         connection to use",
                        "send the user's id in the X-Conflux-User-Id header or as \
                         `_meta.user_id` of the request",
                    ));
                };
                let user = UserId::new(user).map_err(|e| {
                    OpError::invalid(format!("the user id is not valid: {e}"), "send another")
                })?;
                let key = ConnectionKey::new(self.tenant.clone(), user);
                let client = self
                    .flow
                    .client_for(&key, self.client.clone())
                    .await
                    .map_err(|e| OpError::from(OAuthError::into_client_error(e)))?;
                Ok(Ops::new(client, self.ops.clone()))
            }
            mode @ (AuthMode::ApiToken | AuthMode::AccessToken) => {
                self.shared_ops(mode, &settings).await
            }
        }
    }

    /// One client for everyone, rebuilt when the settings change.
    async fn shared_ops(&self, mode: AuthMode, settings: &AppSettings) -> Result<Ops, OpError> {
        let mut shared = self.shared.lock().await;
        if let Some((m, at, ops)) = shared.as_ref()
            && *m == mode
            && *at == settings.updated_at
        {
            return Ok(ops.clone());
        }
        let credential = self.credential(mode, settings)?;
        let client = Client::connect(credential, self.client.clone())
            .await
            .map_err(OpError::from)?;
        let ops = Ops::new(client, self.ops.clone());
        *shared = Some((mode, settings.updated_at, ops.clone()));
        Ok(ops)
    }

    /// The shared credential: the page's settings first, then the server's own.
    fn credential(
        &self,
        mode: AuthMode,
        settings: &AppSettings,
    ) -> Result<CredentialConfig, OpError> {
        let site = settings
            .site_url
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(SiteUrl::parse)
            .transpose()
            .map_err(|e| {
                OpError::invalid(
                    format!("the site URL in the settings is not valid: {e}"),
                    "fix it on the configuration page",
                )
            })?;
        let token = settings.api_token.clone().filter(|t| !t.is_empty());
        match (mode, token) {
            (AuthMode::ApiToken, Some(token)) => {
                let email = settings
                    .api_email
                    .clone()
                    .filter(|e| !e.trim().is_empty())
                    .ok_or_else(|| not_configured("the account email for the API token"))?;
                Ok(CredentialConfig::ApiToken {
                    email,
                    token,
                    site,
                    cloud_id: None,
                    kind: TokenKindHint::Detect,
                    scopes: None,
                })
            }
            (AuthMode::AccessToken, Some(token)) => Ok(CredentialConfig::AccessToken {
                token,
                site,
                cloud_id: None,
            }),
            (AuthMode::ApiToken, None) => match &self.fallback {
                Some(c @ CredentialConfig::ApiToken { .. }) => Ok(c.clone()),
                _ => Err(not_configured("an API token")),
            },
            (_, None) => match &self.fallback {
                Some(c @ CredentialConfig::AccessToken { .. }) => Ok(c.clone()),
                _ => Err(not_configured("an access token")),
            },
            _ => Err(not_configured("a credential")),
        }
    }
}

fn not_configured(what: &str) -> OpError {
    OpError::other(
        format!("Conflux is not configured with {what} for this auth mode"),
        "the maintainer sets it on the configuration page (/admin) or in the server's settings",
    )
}

fn store_error(e: conflux_store::StoreError) -> OpError {
    tracing::warn!(error = %e, "connection store failed");
    OpError::other(
        format!("the connection store failed: {e}"),
        "try again shortly; if it persists, the maintainer should check the database",
    )
}

/// The [`OpsProvider`] handed to the MCP server.
#[derive(Clone, Debug)]
pub(crate) struct Provider(pub(crate) Arc<Deployment>);

impl OpsProvider for Provider {
    fn check_agent<'a>(&'a self, agent: Option<&'a str>) -> BoxFuture<'a, Result<bool, OpError>> {
        Box::pin(self.0.check(agent))
    }

    fn ops_for<'a>(&'a self, user: Option<&'a str>) -> BoxFuture<'a, Result<Ops, OpError>> {
        Box::pin(self.0.ops(user))
    }
}
