//! Bearer verification for `/mcp`: an access token or an access key, checked against the
//! store, or against a cache whose staleness bounds how late a revocation takes effect.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use conflux_store::{McpToken, Subject, TenantId, TokenKind};
use conflux_types::Secret;

use crate::error::VerifyError;
use crate::keys::KEY_PREFIX;
use crate::{Access, AuthServer};

/// Most entries the cache holds; past it, it is emptied (a miss costs one query).
const CACHE_LIMIT: usize = 10_000;

/// The agent behind a verified call: the client the token was issued to, or the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    /// The client id (a metadata-document URL or a registered id), or `key:<id>` for an
    /// access key: what the allowlist holds.
    pub id: String,
    /// What to show beside the id (the client's own name, untrusted; or the key's name).
    pub name: Option<String>,
}

/// A caller of `/mcp` whose credential the server verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub tenant: TenantId,
    /// Whose Confluence connection the call uses.
    pub subject: Subject,
    pub subject_name: Option<String>,
    pub agent: Agent,
    pub access: Access,
}

/// A cache entry: when the credential was verified, when it expires (an access token's end;
/// none for an access key), and whose it is.
type Entry = (Instant, Option<SystemTime>, Verified);

/// Verified credentials kept in memory.
pub(crate) struct Cache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Cache {
    pub(crate) fn new(ttl: Duration) -> Cache {
        Cache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for `hash` if it is fresh and the credential has not expired since: the
    /// cache may make a revocation late, never an expired token good.
    fn get(&self, hash: &str, now: SystemTime) -> Option<Verified> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(at, expires_at, _)| {
                at.elapsed() < self.ttl && expires_at.is_none_or(|end| now < end)
            })
            .map(|(_, _, v)| v.clone())
    }

    fn put(&self, hash: String, expires_at: Option<SystemTime>, v: Verified) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CACHE_LIMIT {
            let ttl = self.ttl;
            entries.retain(|_, (at, _, _)| at.elapsed() < ttl);
            if entries.len() >= CACHE_LIMIT {
                entries.clear();
            }
        }
        entries.insert(hash, (Instant::now(), expires_at, v));
    }

    /// Forgets everything: a revocation made by this replica takes effect here at once.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl AuthServer {
    /// Verifies the bearer credential of a `/mcp` call: an access token this server issued
    /// for its own `/mcp` (not expired, its grant not revoked) or an access key. A revocation
    /// takes effect within [`crate::AuthzConfig::verify_cache`] on every replica.
    pub async fn verify(&self, bearer: &str) -> Result<Verified, VerifyError> {
        let secret = Secret::new(bearer.trim().to_string());
        let hash = McpToken::hash_of(&secret);
        if let Some(v) = self.inner.cache.get(&hash, SystemTime::now()) {
            return Ok(v);
        }
        let (verified, expires_at) = if secret.expose().starts_with(KEY_PREFIX) {
            (self.verify_key(&hash).await?, None)
        } else {
            let (verified, expires_at) = self.verify_token(&hash).await?;
            (verified, Some(expires_at))
        };
        self.inner.cache.put(hash, expires_at, verified.clone());
        Ok(verified)
    }

    /// The caller behind an access token, and when the token expires.
    async fn verify_token(&self, hash: &str) -> Result<(Verified, SystemTime), VerifyError> {
        let store = &self.inner.store;
        let Some((token, grant)) = store.mcp_token(hash).await? else {
            return Err(VerifyError::Invalid);
        };
        let now = SystemTime::now();
        if token.kind != TokenKind::Access || token.expires_at <= now || grant.revoked {
            return Err(VerifyError::Invalid);
        }
        if grant.resource != self.resource() {
            return Err(VerifyError::WrongAudience);
        }
        if grant.tenant != self.inner.config.tenant {
            return Err(VerifyError::WrongTenant);
        }
        store.touch_mcp_grant(&grant.id, now).await?;
        let name = match self.client_view(&grant.client_id).await {
            Ok(v) => v.name,
            Err(_) => None,
        };
        let verified = Verified {
            tenant: grant.tenant,
            subject: grant.subject,
            subject_name: grant.subject_name,
            agent: crate::Agent {
                id: grant.client_id,
                name,
            },
            access: Access::from_scope(&grant.scope)
                .unwrap_or(Access::Read)
                .min(self.inner.config.max_access),
        };
        Ok((verified, token.expires_at))
    }

    async fn verify_key(&self, hash: &str) -> Result<Verified, VerifyError> {
        let store = &self.inner.store;
        let Some(key) = store.access_key(hash).await? else {
            return Err(VerifyError::Invalid);
        };
        if key.tenant != self.inner.config.tenant {
            return Err(VerifyError::WrongTenant);
        }
        store.touch_access_key(&key.id, SystemTime::now()).await?;
        let access = if key.read_only {
            Access::Read
        } else {
            Access::ReadWrite
        };
        Ok(Verified {
            tenant: key.tenant,
            subject: key.subject,
            subject_name: key.subject_name,
            agent: crate::Agent {
                id: format!("key:{}", key.id),
                name: Some(key.name),
            },
            access: access.min(self.inner.config.max_access),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified() -> Verified {
        Verified {
            tenant: TenantId::new("default").unwrap(),
            subject: Subject::Account("712020:someone".into()),
            subject_name: None,
            agent: Agent {
                id: "client".into(),
                name: None,
            },
            access: Access::Read,
        }
    }

    /// An access token verified a moment ago and expired since is not served from memory:
    /// with a short token lifetime, a token the cache had just seen was still accepted for up
    /// to the cache's staleness after it expired.
    #[test]
    fn an_expired_token_is_not_served_from_the_cache() {
        let cache = Cache::new(Duration::from_secs(5));
        let now = SystemTime::now();
        cache.put("a".into(), Some(now + Duration::from_secs(1)), verified());
        cache.put("key".into(), None, verified());
        assert!(cache.get("a", now).is_some(), "fresh and not expired");
        assert!(
            cache.get("a", now + Duration::from_secs(2)).is_none(),
            "expired while cached"
        );
        assert!(
            cache.get("key", now + Duration::from_secs(3600)).is_some(),
            "access keys do not expire"
        );
        cache.clear();
        assert!(cache.get("key", now).is_none());
    }
}
