//! Rotating refresh through the store, once per connection however many callers and
//! processes find the token stale at the same time.
//!
//! A refresh takes this process's lock for the connection, then the store's row lock
//! ([`TokenStore::refresh_locked`]), and re-reads the row under it: when another task or
//! process has already replaced the token the caller held, that token is returned and
//! Atlassian is not asked again. A refused refresh (`invalid_grant`: revoked or expired)
//! drops the connection; any other failure leaves the row, and its still-valid refresh token,
//! untouched.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use conflux_client::{OAuthApp, OAuthToken, TokenRefresher};
use conflux_store::{
    AppKind, BoxError, Connection, ConnectionKey, RefreshFn, RefreshOutcome, RefreshStep,
};

use crate::error::{OAuthError, Result};
use crate::flow::Inner;
use crate::identity::{ClientAuth, TokenFailure};
use crate::observe::{self, Refresh};

/// The client's view of a stored connection.
pub(crate) fn to_oauth_token(c: &Connection) -> OAuthToken {
    OAuthToken {
        access: c.tokens.access.clone(),
        refresh: c.tokens.refresh.clone(),
        expires_at: c.tokens.expires_at,
        scopes: c.tokens.scopes(),
        cloud_id: c.site.cloud_id,
        app: match c.app {
            AppKind::Central => OAuthApp::Central,
            AppKind::Tenant => OAuthApp::Tenant,
        },
    }
}

/// [`TokenRefresher`] for one connection, backed by the store.
pub(crate) struct StoreRefresher {
    inner: Arc<Inner>,
    key: ConnectionKey,
}

impl StoreRefresher {
    pub(crate) fn new(inner: Arc<Inner>, key: ConnectionKey) -> Self {
        StoreRefresher { inner, key }
    }

    #[tracing::instrument(skip_all, fields(connection = %self.key))]
    async fn refresh_now(&self, current: &OAuthToken) -> Result<OAuthToken> {
        let lock = self.inner.lock_for(&self.key);
        let _held = lock.lock().await;
        let held_access = current.access.clone();
        let inner = self.inner.clone();
        // The app's credentials are read before the row is locked: reading them under the
        // lock would hold one database connection while asking for another, which starves a
        // small pool when many calls wait on the same lock.
        let kind = match current.app {
            OAuthApp::Central => AppKind::Central,
            OAuthApp::Tenant => AppKind::Tenant,
        };
        let prefetched = self.inner.credentials(&self.key.tenant, kind).await.ok();
        let step: RefreshFn = Box::new(move |row: Connection| {
            Box::pin(async move {
                let app = match prefetched {
                    Some(app) if row.app == kind => Some(app),
                    _ => None,
                };
                refresh_step(&inner, row, held_access, app).await
            })
        });
        let started = Instant::now();
        let outcome = self.inner.store.refresh_locked(&self.key, step).await;
        observe::refreshed(
            match &outcome {
                Ok(RefreshOutcome::Kept(_)) => Refresh::Reused,
                Ok(RefreshOutcome::Replaced(_)) => Refresh::Refreshed,
                Ok(RefreshOutcome::Dropped) => Refresh::Dropped,
                Ok(RefreshOutcome::Failed(_)) | Err(_) => Refresh::Failed,
                Ok(_) => Refresh::NotConnected,
            },
            started.elapsed(),
        );
        match outcome? {
            RefreshOutcome::Kept(c) => {
                tracing::debug!("token already refreshed elsewhere; reused");
                Ok(to_oauth_token(&c))
            }
            RefreshOutcome::Replaced(c) => {
                tracing::debug!(generation = c.generation, "token refreshed");
                Ok(to_oauth_token(&c))
            }
            RefreshOutcome::Dropped => {
                tracing::warn!("refresh token revoked or expired: connection dropped");
                Err(self.inner.not_connected())
            }
            RefreshOutcome::Failed(e) => Err(match e.downcast::<OAuthError>() {
                Ok(e) => *e,
                Err(other) => OAuthError::Transport(other.to_string()),
            }),
            RefreshOutcome::NotConnected => Err(self.inner.not_connected()),
            _ => Err(self.inner.not_connected()),
        }
    }
}

/// Runs under the row lock: reuse a token another process stored, or refresh.
async fn refresh_step(
    inner: &Inner,
    row: Connection,
    held_access: conflux_types::Secret,
    app: Option<crate::AppCredentials>,
) -> std::result::Result<RefreshStep, BoxError> {
    let skew = inner.config.refresh_skew;
    if row.tokens.access != held_access && !row.is_stale(SystemTime::now(), skew) {
        return Ok(RefreshStep::Keep);
    }
    let Some(refresh_token) = row.tokens.refresh.clone() else {
        // No offline_access in the grant: nothing to refresh with.
        return Err(Box::new(inner.not_connected()));
    };
    let app = match app {
        Some(app) => app,
        None => inner
            .credentials(&row.key.tenant, row.app)
            .await
            .map_err(|e| Box::new(e) as BoxError)?,
    };
    let auth = ClientAuth {
        client_id: &app.client_id,
        client_secret: &app.client_secret,
    };
    match inner.identity.refresh(auth, &refresh_token).await {
        Ok(tokens) => Ok(RefreshStep::Replace(tokens)),
        Err(TokenFailure::InvalidGrant(_)) => Ok(RefreshStep::Drop),
        Err(failure) => Err(Box::new(failure.into_error(false))),
    }
}

impl TokenRefresher for StoreRefresher {
    fn refresh<'a>(
        &'a self,
        current: &'a OAuthToken,
    ) -> Pin<Box<dyn Future<Output = conflux_client::Result<OAuthToken>> + Send + 'a>> {
        Box::pin(async move {
            self.refresh_now(current)
                .await
                .map_err(OAuthError::into_client_error)
        })
    }
}
