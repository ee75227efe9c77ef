//! The authorization-code flow: Connect → consent → callback → (site choice) → connection.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use conflux_catalog::ScopeSet;
use conflux_client::{Client, ClientConfig, Credential, Endpoints};
use conflux_store::{
    AppKind, AuthMode, ConnectionKey, ConnectionSummary, PendingAuthorization, SessionBinding,
    Site, TenantId, TokenStore, Tokens, UserId,
};
use conflux_types::{CloudId, Secret};
use rand::RngCore as _;
use sha2::Digest as _;

use crate::error::{OAuthError, Result};
use crate::identity::{ClientAuth, Identity};
use crate::refresh::{StoreRefresher, to_oauth_token};

/// Scopes an authorize request may carry besides Confluence's own.
const EXTRA_SCOPES: [&str; 3] = ["offline_access", "read:me", "read:account"];

/// An OAuth app's client id and secret.
#[derive(Clone, Debug)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

/// Settings of the OAuth side of a deployment. The binary builds it from configuration.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    /// Atlassian's (or the simulator's) identity service and gateway.
    pub endpoints: Endpoints,
    /// The callback URL, exactly as registered with the app in the developer console.
    pub redirect_uri: String,
    /// The platform's central app, used by tenants in `oauthCentral` mode (the default).
    pub central_app: Option<AppCredentials>,
    /// Scopes requested when a tenant sets none: what the enabled tools need.
    pub default_scopes: ScopeSet,
    /// Where a user connects again; quoted in "not connected" errors.
    pub reconnect_url: String,
    /// How long a sign-in may take from Connect to callback (and to the site choice).
    pub sign_in_ttl: Duration,
    /// Refresh this long before the stored expiry.
    pub refresh_skew: Duration,
    /// Timeout of each identity-service request.
    pub timeout: Duration,
    /// The settings in force for a tenant that has saved none.
    pub default_settings: conflux_store::AppSettings,
}

impl OAuthConfig {
    /// Defaults for everything but the endpoints, the callback URL and the reconnect URL.
    pub fn new(endpoints: Endpoints, redirect_uri: String, reconnect_url: String) -> Self {
        OAuthConfig {
            endpoints,
            redirect_uri,
            central_app: None,
            default_scopes: ScopeSet::EMPTY,
            reconnect_url,
            sign_in_ttl: Duration::from_secs(600),
            refresh_skew: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            default_settings: conflux_store::AppSettings::default(),
        }
    }
}

/// The app a tenant's users sign in with, and the scopes they are asked for.
#[derive(Clone, Debug)]
pub struct ResolvedApp {
    pub kind: AppKind,
    pub credentials: AppCredentials,
    /// Space-separated, `offline_access` included.
    pub scope: String,
}

/// Where to send the user's browser to start a sign-in.
#[derive(Clone)]
pub struct AuthorizationRequest {
    /// The identity service's `/authorize` URL with every parameter.
    pub url: String,
    pub expires_at: SystemTime,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL carries the state; print only where it goes.
        let target = self.url.split('?').next().unwrap_or("");
        f.debug_struct("AuthorizationRequest")
            .field("url", &format_args!("{target}?…"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The query of the callback request (`?code=…&state=…` or `?error=…`).
#[derive(Clone, Default)]
pub struct Callback {
    pub code: Option<Secret>,
    pub state: Option<Secret>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("code", &self.code.as_ref().map(|_| "***"))
            .field("state", &self.state.as_ref().map(|_| "***"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

impl Callback {
    /// Parses the callback's query string (without the `?`).
    pub fn from_query(query: &str) -> Callback {
        let mut c = Callback::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "code" => c.code = Some(Secret::new(v)),
                "state" => c.state = Some(Secret::new(v)),
                "error" => c.error = Some(v),
                "error_description" => c.error_description = Some(v),
                _ => {}
            }
        }
        c
    }
}

/// A completed sign-in: who Atlassian says signed in, and their connection to the tenant's site.
#[derive(Debug)]
pub struct SignedIn {
    /// The Atlassian account id (from v1 `GET /wiki/rest/api/user/current`): the person's
    /// key in the store.
    pub account_id: String,
    pub display_name: String,
    pub connection: ConnectionSummary,
    /// What the sign-in was started for (e.g. an MCP authorization waiting for consent).
    pub return_to: Option<String>,
}

/// The OAuth client side: starts sign-ins, completes callbacks, and hands out Confluence
/// clients whose tokens refresh through the store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OAuthFlow {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) identity: Identity,
    pub(crate) config: OAuthConfig,
    /// One lock per connection, so tasks of this process queue here rather than on the
    /// database lock.
    locks: Mutex<HashMap<ConnectionKey, Weak<tokio::sync::Mutex<()>>>>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthFlow")
            .field("store", &self.store)
            .field("redirect_uri", &self.config.redirect_uri)
            .finish()
    }
}

impl Inner {
    pub(crate) fn lock_for(&self, key: &ConnectionKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = map.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if map.len() > 1024 {
            map.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(key.clone(), Arc::downgrade(&lock));
        lock
    }

    /// The tenant's saved settings, or the defaults.
    pub(crate) async fn settings(&self, tenant: &TenantId) -> Result<conflux_store::AppSettings> {
        Ok(self
            .store
            .app_settings(tenant)
            .await?
            .unwrap_or_else(|| self.config.default_settings.clone()))
    }

    pub(crate) fn not_connected(&self) -> OAuthError {
        OAuthError::NotConnected {
            reconnect_url: self.config.reconnect_url.clone(),
        }
    }

    /// The credentials of the app that issued a grant of `kind` for `tenant`.
    pub(crate) async fn credentials(
        &self,
        tenant: &TenantId,
        kind: AppKind,
    ) -> Result<AppCredentials> {
        match kind {
            AppKind::Central => self.config.central_app.clone().ok_or_else(|| {
                OAuthError::NotConfigured(
                    "no central OAuth app is provisioned on this server: ask the platform \
                     maintainer to set its client id and secret, or switch the tenant to `oauth` \
                     with its own app"
                        .into(),
                )
            }),
            AppKind::Tenant => {
                let settings = self.settings(tenant).await?;
                match (settings.client_id, settings.client_secret) {
                    (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
                        Ok(AppCredentials {
                            client_id: id,
                            client_secret: secret,
                        })
                    }
                    _ => Err(OAuthError::NotConfigured(
                        "this workspace uses its own OAuth app but its client id or secret is not \
                         set: enter both on the configuration page"
                            .into(),
                    )),
                }
            }
        }
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636's S256.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The scope that lets sign-in read who signed in (`getCurrentUser`), added when the scopes
/// asked for do not already cover it, whatever set the maintainer chose.
pub const SIGN_IN_SCOPE: &str = "read:content-details:confluence";

/// The scope parameter: the tenant's override or the default set, plus `offline_access` and
/// what sign-in needs to learn the account.
pub(crate) fn requested_scope(default: ScopeSet, tenant_override: Option<&str>) -> Result<String> {
    let mut names: Vec<String> = match tenant_override.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            let (_, unknown) = ScopeSet::parse_lenient(text);
            let bad: Vec<&String> = unknown
                .iter()
                .filter(|u| !EXTRA_SCOPES.contains(&u.as_str()))
                .collect();
            if !bad.is_empty() {
                return Err(OAuthError::NotConfigured(format!(
                    "the scope setting names scopes Atlassian does not define for Confluence: {}",
                    bad.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            text.split([' ', ',', '\n', '\t'])
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }
        None => default.names().into_iter().map(String::from).collect(),
    };
    if names.iter().all(|n| n == "offline_access") {
        return Err(OAuthError::NotConfigured(
            "no Confluence scope to request: enable tools or set the scopes".into(),
        ));
    }
    let asked = ScopeSet::parse_lenient(&names.join(" ")).0;
    if !matches!(
        conflux_catalog::Operation::GetCurrentUser.check(asked),
        conflux_catalog::Verdict::Satisfied(_)
    ) {
        names.push(SIGN_IN_SCOPE.into());
    }
    if !names.iter().any(|n| n == "offline_access") {
        names.push("offline_access".into());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    Ok(names.join(" "))
}

impl OAuthFlow {
    pub fn new(store: Arc<dyn TokenStore>, config: OAuthConfig) -> Result<OAuthFlow> {
        let identity = Identity::new(config.endpoints.clone(), config.timeout)?;
        Ok(OAuthFlow {
            inner: Arc::new(Inner {
                store,
                identity,
                config,
                locks: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.inner.config
    }

    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The app `tenant`'s users sign in with and the scopes they are asked for, from the
    /// tenant's settings (default: the central app and the default scopes).
    pub async fn app_for(&self, tenant: &TenantId) -> Result<ResolvedApp> {
        let settings = self.inner.settings(tenant).await?;
        let kind = match settings.auth_mode {
            AuthMode::OAuthCentral => AppKind::Central,
            AuthMode::OAuth => AppKind::Tenant,
            other => {
                return Err(OAuthError::NotConfigured(format!(
                    "this workspace signs in with `{}`, not OAuth: no Connect is needed",
                    other.as_str()
                )));
            }
        };
        let credentials = self.inner.credentials(tenant, kind).await?;
        let scope = requested_scope(self.inner.config.default_scopes, settings.scopes.as_deref())?;
        Ok(ResolvedApp {
            kind,
            credentials,
            scope,
        })
    }

    /// Starts a sign-in to `tenant` from browser session `session` (requested from the
    /// address whose digest is `origin`): stores a single-use `state` bound to the session and a
    /// PKCE verifier, and returns the authorize URL. Who signs in is learned at the callback.
    #[tracing::instrument(skip_all, fields(tenant = %tenant))]
    pub async fn begin(
        &self,
        tenant: &TenantId,
        session: &Secret,
        origin: &str,
        return_to: Option<String>,
    ) -> Result<AuthorizationRequest> {
        let app = self.app_for(tenant).await?;
        // Abandoned sign-ins would otherwise pile up; this is the natural moment to sweep.
        let now = SystemTime::now();
        self.inner.store.purge_expired(now).await?;
        let state = Secret::new(random_token());
        let verifier = Secret::new(random_token());
        let expires_at = now + self.inner.config.sign_in_ttl;
        let redirect_uri = self.inner.config.redirect_uri.clone();
        let mut url = url::Url::parse(&format!(
            "{}/authorize",
            self.inner.config.endpoints.identity.as_str()
        ))
        .map_err(|e| OAuthError::NotConfigured(format!("the identity service URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("audience", "api.atlassian.com")
            .append_pair("client_id", &app.credentials.client_id)
            .append_pair("scope", &app.scope)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("state", state.expose())
            .append_pair("response_type", "code")
            .append_pair("prompt", "consent")
            // Atlassian does not document PKCE; sending it costs nothing and protects the code.
            .append_pair("code_challenge", &pkce_challenge(verifier.expose()))
            .append_pair("code_challenge_method", "S256");
        self.inner
            .store
            .put_pending_authorization(&PendingAuthorization {
                state,
                tenant: tenant.clone(),
                session: SessionBinding::of(session),
                origin: origin.to_string(),
                pkce_verifier: verifier,
                redirect_uri,
                app: app.kind,
                scope: app.scope,
                return_to,
                created_at: now,
                expires_at,
            })
            .await?;
        tracing::debug!(app = app.kind.as_str(), "sign-in started");
        Ok(AuthorizationRequest {
            url: url.into(),
            expires_at,
        })
    }

    /// Completes a sign-in from the callback's query: exchanges the code, checks that the
    /// grant covers the tenant's site (only its members may sign in), learns the account from
    /// Confluence, and stores the connection under that account. The `state` is consumed
    /// whatever the outcome, so a callback URL works at most once.
    #[tracing::instrument(skip_all)]
    pub async fn complete(&self, session: &Secret, callback: &Callback) -> Result<SignedIn> {
        let state = callback.state.as_ref().ok_or(OAuthError::UnknownState)?;
        let pending = self
            .inner
            .store
            .take_pending_authorization(state)
            .await?
            .ok_or(OAuthError::UnknownState)?;
        if !pending.session.matches(session) {
            tracing::warn!(tenant = %pending.tenant, "callback from another session refused");
            return Err(OAuthError::SessionMismatch);
        }
        let now = SystemTime::now();
        if now > pending.expires_at {
            return Err(OAuthError::Expired);
        }
        if let Some(error) = &callback.error {
            return Err(OAuthError::Denied {
                error: error.clone(),
                description: callback
                    .error_description
                    .clone()
                    .unwrap_or_else(|| "no description".into()),
            });
        }
        let code = callback.code.as_ref().ok_or(OAuthError::MissingCode)?;
        let site_id = self.tenant_site(&pending.tenant).await?;
        let app = self.inner.credentials(&pending.tenant, pending.app).await?;
        let tokens = self
            .inner
            .identity
            .exchange_code(
                ClientAuth {
                    client_id: &app.client_id,
                    client_secret: &app.client_secret,
                },
                code.expose(),
                &pending.redirect_uri,
                &pending.pkce_verifier,
            )
            .await
            .map_err(|f| f.into_error(true))?;
        let tokens = Tokens {
            scope: if tokens.scope.is_empty() {
                pending.scope.clone()
            } else {
                tokens.scope
            },
            ..tokens
        };
        if tokens.refresh.is_none() {
            tracing::warn!(tenant = %pending.tenant, "no refresh token granted (offline_access missing?): the connection will need a new sign-in when the access token expires");
        }
        let sites = self
            .inner
            .identity
            .accessible_resources(&tokens.access)
            .await?;
        let Some(site) = sites.into_iter().find(|s| s.cloud_id == site_id) else {
            tracing::info!(tenant = %pending.tenant, "sign-in refused: the grant does not cover the tenant's site");
            return Err(OAuthError::NotAMember);
        };
        let me = self.whoami(&tokens, &site, pending.app).await?;
        let user = UserId::new(me.account_id.clone()).map_err(|e| OAuthError::Identity {
            message: format!("Confluence named an account id Conflux cannot use: {e}"),
        })?;
        let key = ConnectionKey::new(pending.tenant.clone(), user);
        let c = self
            .inner
            .store
            .save_connection(&key, Some(&me.display_name), &site, pending.app, &tokens)
            .await?;
        tracing::info!(tenant = %pending.tenant, cloud_id = %site.cloud_id, "signed in and connected");
        Ok(SignedIn {
            account_id: me.account_id,
            display_name: me.display_name,
            connection: c.summary(),
            return_to: pending.return_to,
        })
    }

    /// The cloudId of the tenant's site, which every sign-in must cover.
    async fn tenant_site(&self, tenant: &TenantId) -> Result<CloudId> {
        let settings = self.inner.settings(tenant).await?;
        if let Some(id) = settings.cloud_id {
            return Ok(id);
        }
        let not_set = || {
            OAuthError::NotConfigured(
                "this workspace's Confluence site is not set, so Conflux cannot tell who may sign \
                 in: the maintainer sets the site URL on the configuration page (/admin)"
                    .into(),
            )
        };
        let site = settings
            .site_url
            .as_deref()
            .and_then(|u| conflux_types::SiteUrl::parse(u).ok())
            .ok_or_else(not_set)?;
        let config = ClientConfig {
            endpoints: self.inner.config.endpoints.clone(),
            ..ClientConfig::default()
        };
        conflux_client::site_cloud_id(&site, &config)
            .await
            .map_err(|e| OAuthError::Identity {
                message: format!("the cloudId of {site} could not be read: {e}"),
            })
    }

    /// The account the new tokens act as: v1 `GET /wiki/rest/api/user/current` through the
    /// gateway (Atlassian's specs document it; `api.atlassian.com/me` is in none of them).
    async fn whoami(
        &self,
        tokens: &Tokens,
        site: &Site,
        app: AppKind,
    ) -> Result<conflux_client::models::User> {
        let config = ClientConfig {
            endpoints: self.inner.config.endpoints.clone(),
            ..ClientConfig::default()
        };
        let token = conflux_client::OAuthToken {
            access: tokens.access.clone(),
            refresh: None,
            expires_at: tokens.expires_at,
            scopes: tokens.scopes(),
            cloud_id: site.cloud_id,
            app: match app {
                AppKind::Central => conflux_client::OAuthApp::Central,
                AppKind::Tenant => conflux_client::OAuthApp::Tenant,
            },
        };
        let client = Client::new(Credential::OAuth(token), config)?;
        client
            .users()
            .current()
            .await
            .map_err(|e| OAuthError::Identity {
                message: e.to_string(),
            })
    }

    /// The person's connection, without tokens.
    pub async fn status(&self, key: &ConnectionKey) -> Result<Option<ConnectionSummary>> {
        Ok(self.inner.store.connection(key).await?.map(|c| c.summary()))
    }

    /// Forgets the user's connection. (Atlassian offers no token revocation endpoint for
    /// 3LO; the user can also remove the app from their account's connected apps.)
    pub async fn disconnect(&self, key: &ConnectionKey) -> Result<bool> {
        Ok(self.inner.store.delete_connection(key).await?)
    }

    /// A Confluence client for the user's connection, whose token refreshes through the
    /// store (single-flight per connection across tasks and processes).
    pub async fn client_for(&self, key: &ConnectionKey, config: ClientConfig) -> Result<Client> {
        let connection = self
            .inner
            .store
            .connection(key)
            .await?
            .ok_or_else(|| self.inner.not_connected())?;
        let config = ClientConfig {
            endpoints: self.inner.config.endpoints.clone(),
            refresh_skew: self.inner.config.refresh_skew,
            ..config
        };
        let client = Client::new(Credential::OAuth(to_oauth_token(&connection)), config)?;
        Ok(client.with_refresher(self.refresher(key)))
    }

    /// The refresher for one connection, for callers that build their own client.
    pub fn refresher(&self, key: &ConnectionKey) -> Arc<dyn conflux_client::TokenRefresher> {
        Arc::new(StoreRefresher::new(self.inner.clone(), key.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_catalog::Scope;

    #[test]
    fn pkce_s256_matches_rfc_7636_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn scope_parameter() {
        let default: ScopeSet = [Scope::ReadPageConfluence, Scope::ReadSpaceConfluence]
            .into_iter()
            .collect();
        assert_eq!(
            requested_scope(default, None).unwrap(),
            "read:page:confluence read:space:confluence read:content-details:confluence offline_access"
        );
        assert_eq!(
            requested_scope(default, Some("read:page:confluence offline_access")).unwrap(),
            "read:page:confluence offline_access read:content-details:confluence"
        );
        // A classic set that covers the current user needs nothing more.
        assert_eq!(
            requested_scope(
                default,
                Some("read:confluence-user read:confluence-space.summary")
            )
            .unwrap(),
            "read:confluence-user read:confluence-space.summary offline_access"
        );
        let err = requested_scope(default, Some("read:page:confluence read:jira-work"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("read:jira-work"), "{err}");
        assert!(requested_scope(ScopeSet::EMPTY, None).is_err());
    }

    #[test]
    fn callback_parsing_and_debug() {
        let c = Callback::from_query("code=abc123&state=st%2Fx&extra=1");
        assert_eq!(c.code.as_ref().unwrap().expose(), "abc123");
        assert_eq!(c.state.as_ref().unwrap().expose(), "st/x");
        let d = format!("{c:?}");
        assert!(!d.contains("abc123") && !d.contains("st/x"), "{d}");
        let e = Callback::from_query("error=access_denied&error_description=The+user+denied");
        assert_eq!(e.error.as_deref(), Some("access_denied"));
        assert_eq!(e.error_description.as_deref(), Some("The user denied"));
    }
}
