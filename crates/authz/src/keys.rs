//! Access keys: personal keys a signed-in person makes for clients that cannot do OAuth, and
//! the maintainer's agent keys in the token modes. Shown once, stored as a hash, named,
//! revocable, optionally read-only, with their last use.

use std::time::SystemTime;

use conflux_store::{AccessKey, McpToken, Subject};
use conflux_types::Secret;
use rand::RngCore as _;

use crate::error::AuthzError;
use crate::{AuthServer, random_secret};

/// Every access key starts with this, so `/mcp` knows where to look it up.
pub const KEY_PREFIX: &str = "cfx_pk_";

/// Longest key name.
const MAX_NAME: usize = 80;

impl AuthServer {
    /// Makes a key for `subject`; returns it with the key itself, which is never shown again.
    pub async fn create_key(
        &self,
        subject: Subject,
        subject_name: Option<String>,
        name: &str,
        read_only: bool,
    ) -> Result<(AccessKey, Secret), AuthzError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(AuthzError::Config(format!(
                "a key's name is 1 to {MAX_NAME} characters without control characters"
            )));
        }
        let secret = Secret::new(random_secret(KEY_PREFIX));
        let mut id = [0u8; 6];
        rand::rng().fill_bytes(&mut id);
        let key = AccessKey {
            id: id.iter().map(|b| format!("{b:02x}")).collect(),
            key_hash: McpToken::hash_of(&secret),
            tenant: self.inner.config.tenant.clone(),
            subject,
            subject_name,
            name: name.to_string(),
            read_only,
            created_at: SystemTime::now(),
            last_used_at: None,
        };
        self.inner.store.put_access_key(&key).await?;
        tracing::info!(key = %key.id, read_only, "access key created");
        Ok((key, secret))
    }

    /// The subject's keys, newest first.
    pub async fn keys_of(&self, subject: &Subject) -> Result<Vec<AccessKey>, AuthzError> {
        Ok(self
            .inner
            .store
            .access_keys_of(&self.inner.config.tenant, subject)
            .await?)
    }

    /// Revokes one of the subject's keys; someone else's key id changes nothing.
    pub async fn revoke_key(&self, subject: &Subject, id: &str) -> Result<bool, AuthzError> {
        let revoked = self
            .inner
            .store
            .delete_access_key(&self.inner.config.tenant, subject, id)
            .await?;
        if revoked {
            self.inner.cache.clear();
            tracing::info!(key = %id, "access key revoked");
        }
        Ok(revoked)
    }
}
