//! The MCP side of a deployment: the allowlist check and each call's operations, chosen by the
//! tenant's auth mode. OAuth modes build a client for the calling person's connection (its
//! token refreshes through the store); `apiToken` and `accessToken` share one client.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conflux_authz::AuthServer;
use conflux_client::{Client, ClientConfig, CredentialConfig, TokenKindHint};
use conflux_mcp::{BoxFuture, OpsProvider, VerifiedCaller};
use conflux_oauth::{OAuthError, OAuthFlow};
use conflux_ops::{OpError, Ops};
use conflux_store::{
    AgentId, AppSettings, AuthMode, ConnectionKey, Refusal, Store, TenantId, UserId,
};
use conflux_types::SiteUrl;

/// How many refused agents the maintainer view offers to tick.
pub(crate) const REFUSALS_KEPT: usize = 50;

/// Shared by the pages, the authorization server and the MCP endpoint.
pub(crate) struct Deployment {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) flow: OAuthFlow,
    pub(crate) authz: AuthServer,
    pub(crate) tenant: TenantId,
    pub(crate) ops: conflux_ops::Config,
    pub(crate) client: ClientConfig,
    /// The server's own credential (CONFLUENCE_*), used when the page sets none.
    pub(crate) fallback: Option<CredentialConfig>,
    /// The settings in force until the maintainer saves some.
    pub(crate) defaults: AppSettings,
    /// Where people sign in again; quoted in errors agents show them.
    pub(crate) user_url: String,
    /// The client of the `apiToken` / `accessToken` modes, with the settings it was built from.
    shared: tokio::sync::Mutex<Option<(AuthMode, Option<SystemTime>, Ops)>>,
    /// The settings as last read, for [`SETTINGS_TTL`]: a tool call needs them twice (the
    /// allowlist, then the operations), and every call needs them.
    cached: std::sync::Mutex<Option<(Instant, AppSettings)>>,
}

/// How long settings read from the store serve calls; a save through this process clears
/// them at once, a save through another replica shows within this time.
const SETTINGS_TTL: Duration = Duration::from_secs(2);

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("tenant", &self.tenant)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// What a deployment is made of (see [`Deployment`]'s fields).
pub(crate) struct Parts {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) flow: OAuthFlow,
    pub(crate) authz: AuthServer,
    pub(crate) tenant: TenantId,
    pub(crate) ops: conflux_ops::Config,
    pub(crate) client: ClientConfig,
    pub(crate) fallback: Option<CredentialConfig>,
    pub(crate) defaults: AppSettings,
    pub(crate) user_url: String,
}

impl Deployment {
    pub(crate) fn new(p: Parts) -> Deployment {
        Deployment {
            store: p.store,
            flow: p.flow,
            authz: p.authz,
            tenant: p.tenant,
            ops: p.ops,
            client: p.client,
            fallback: p.fallback,
            defaults: p.defaults,
            user_url: p.user_url,
            shared: tokio::sync::Mutex::new(None),
            cached: std::sync::Mutex::new(None),
        }
    }

    /// The tenant's settings, or the defaults when none are saved.
    pub(crate) async fn settings(&self) -> Result<AppSettings, conflux_store::StoreError> {
        if let Some((at, s)) = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && at.elapsed() < SETTINGS_TTL
        {
            return Ok(s.clone());
        }
        let settings = self
            .store
            .app_settings(&self.tenant)
            .await?
            .unwrap_or_else(|| self.defaults.clone());
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), settings.clone()));
        Ok(settings)
    }

    /// Saves the tenant's settings; this process uses them at once.
    pub(crate) async fn save_settings(
        &self,
        settings: &AppSettings,
    ) -> Result<(), conflux_store::StoreError> {
        let saved = self.store.save_app_settings(&self.tenant, settings).await;
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = None;
        saved
    }

    async fn check(&self, caller: &VerifiedCaller) -> Result<bool, OpError> {
        let settings = self.settings().await.map_err(store_error)?;
        if settings.allow_all_agents {
            return Ok(true);
        }
        let Ok(id) = AgentId::new(caller.agent_id.clone()) else {
            return Ok(false);
        };
        let allowed = self
            .store
            .is_agent_listed(&self.tenant, &id)
            .await
            .map_err(store_error)?;
        if !allowed {
            // Only verified callers get here, so the list holds clients that authenticated,
            // never ids somebody typed into a header.
            let refusal = Refusal {
                agent_id: caller.agent_id.clone(),
                label: caller.agent_name.clone(),
                last_at: SystemTime::now(),
            };
            if let Err(e) = self
                .store
                .record_refusal(&self.tenant, &refusal, REFUSALS_KEPT)
                .await
            {
                tracing::warn!(error = %e, "could not record a refused agent");
            }
        }
        Ok(allowed)
    }

    async fn ops(&self, caller: &VerifiedCaller) -> Result<Ops, OpError> {
        let settings = self.settings().await.map_err(store_error)?;
        match settings.auth_mode {
            AuthMode::OAuthCentral | AuthMode::OAuth => {
                let Some(user) = caller.user_id.as_deref() else {
                    return Err(OpError::policy(
                        "This credential acts for no person, and this workspace signs in to \
                         Confluence per person, so there is no Confluence connection to use",
                        format!(
                            "authorize the client again as yourself (sign in with Atlassian at {}), \
                             or use a personal access key made there",
                            self.user_url
                        ),
                    ));
                };
                let user = UserId::new(user).map_err(|e| {
                    OpError::invalid(
                        format!("the person's account id is not valid: {e}"),
                        "the platform must send the Atlassian account id of the person",
                    )
                })?;
                let key = ConnectionKey::new(self.tenant.clone(), user);
                let client = self
                    .flow
                    .client_for(&key, self.client.clone())
                    .await
                    .map_err(oauth_error)?;
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
                    "the maintainer fixes it on the configuration page (/admin)",
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
                    cloud_id: settings.cloud_id,
                    kind: TokenKindHint::Detect,
                    scopes: None,
                })
            }
            (AuthMode::AccessToken, Some(token)) => Ok(CredentialConfig::AccessToken {
                token,
                site,
                cloud_id: settings.cloud_id,
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

/// An OAuth failure as the agent should read it: "not configured" as itself, "not connected"
/// with where to sign in again.
fn oauth_error(e: OAuthError) -> OpError {
    match e {
        OAuthError::NotConfigured(message) => OpError::other(
            format!("OAuth is not configured: {message}"),
            "the connector's maintainer sets the OAuth app on the configuration page (/admin); \
             nothing you sign in to can fix it",
        ),
        other => OpError::from(other.into_client_error()),
    }
}

fn not_configured(what: &str) -> OpError {
    OpError::other(
        format!("Conflux is not configured with {what} for this auth mode"),
        "the connector's maintainer sets it on the configuration page (/admin)",
    )
}

pub(crate) fn store_error(e: conflux_store::StoreError) -> OpError {
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
    fn check_agent<'a>(
        &'a self,
        caller: &'a VerifiedCaller,
    ) -> BoxFuture<'a, Result<bool, OpError>> {
        Box::pin(self.0.check(caller))
    }

    fn ops_for<'a>(&'a self, caller: &'a VerifiedCaller) -> BoxFuture<'a, Result<Ops, OpError>> {
        Box::pin(self.0.ops(caller))
    }
}
