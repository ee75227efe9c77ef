//! [`AuthStore`] on SQLite and Postgres: the same queries for both, as in the parent module.

use std::time::{Duration, SystemTime};

use conflux_types::Secret;
use sqlx::Row as _;

use super::{SqlStore, stored_id};
use crate::auth::{
    AccessKey, AuthStore, ClientKind, CodeOutcome, McpAuthorization, McpCode, McpGrant, McpSession,
    McpToken, Pending, PendingCounts, Refusal, RotateOutcome, StoredClient, Subject, TokenKind,
    WebSession,
};
use crate::error::{Result, StoreError};
use crate::model::{TenantId, digest, from_unix, to_unix};

/// A grant with no token and no code left is swept this long after it was made.
const EMPTY_GRANT_GRACE: Duration = Duration::from_secs(3600);

const GRANT_COLUMNS: &str = "g.id AS g_id, g.tenant AS g_tenant, g.client_id AS g_client_id, \
     g.subject AS g_subject, g.subject_name AS g_subject_name, g.scopes AS g_scopes, \
     g.resource AS g_resource, g.created_at AS g_created_at, g.last_used_at AS g_last_used_at, \
     g.revoked AS g_revoked";

const AUTHORIZATION_COLUMNS: &str = "id_hash, tenant, client_id, redirect_uri, client_state, \
     code_challenge, scopes, resource, origin, created_at, expires_at";

const CLIENT_COLUMNS: &str =
    "client_id, kind, metadata, origin, created_at, cache_until, last_used_at, expires_at";

const KEY_COLUMNS: &str = "id, key_hash, tenant, subject, subject_name, name, read_only, \
     created_at, last_used_at";

/// Decodes the `g_*` columns of [`GRANT_COLUMNS`].
macro_rules! grant_row {
    ($row:expr) => {{
        let row = &$row;
        RawGrant {
            id: row.try_get("g_id")?,
            tenant: row.try_get("g_tenant")?,
            client_id: row.try_get("g_client_id")?,
            subject: row.try_get("g_subject")?,
            subject_name: row.try_get("g_subject_name")?,
            scope: row.try_get("g_scopes")?,
            resource: row.try_get("g_resource")?,
            created_at: row.try_get("g_created_at")?,
            last_used_at: row.try_get("g_last_used_at")?,
            revoked: row.try_get("g_revoked")?,
        }
    }};
}

macro_rules! authorization_row {
    ($row:expr) => {{
        let row = &$row;
        RawAuthorization {
            tenant: row.try_get("tenant")?,
            client_id: row.try_get("client_id")?,
            redirect_uri: row.try_get("redirect_uri")?,
            client_state: row.try_get("client_state")?,
            code_challenge: row.try_get("code_challenge")?,
            scope: row.try_get("scopes")?,
            resource: row.try_get("resource")?,
            origin: row.try_get("origin")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        }
    }};
}

macro_rules! client_row {
    ($row:expr) => {{
        let row = &$row;
        RawClient {
            client_id: row.try_get("client_id")?,
            kind: row.try_get("kind")?,
            metadata: row.try_get("metadata")?,
            origin: row.try_get("origin")?,
            created_at: row.try_get("created_at")?,
            cache_until: row.try_get("cache_until")?,
            last_used_at: row.try_get("last_used_at")?,
            expires_at: row.try_get("expires_at")?,
        }
    }};
}

macro_rules! key_row {
    ($row:expr) => {{
        let row = &$row;
        RawKey {
            id: row.try_get("id")?,
            key_hash: row.try_get("key_hash")?,
            tenant: row.try_get("tenant")?,
            subject: row.try_get("subject")?,
            subject_name: row.try_get("subject_name")?,
            name: row.try_get("name")?,
            read_only: row.try_get("read_only")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        }
    }};
}

struct RawGrant {
    id: String,
    tenant: String,
    client_id: String,
    subject: String,
    subject_name: Option<String>,
    scope: String,
    resource: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked: bool,
}

impl RawGrant {
    fn into_grant(self) -> Result<McpGrant> {
        Ok(McpGrant {
            id: self.id,
            tenant: stored_id(TenantId::new(self.tenant))?,
            client_id: self.client_id,
            subject: Subject::from_stored(&self.subject)?,
            subject_name: self.subject_name,
            scope: self.scope,
            resource: self.resource,
            created_at: from_unix(self.created_at),
            last_used_at: self.last_used_at.map(from_unix),
            revoked: self.revoked,
        })
    }
}

struct RawAuthorization {
    tenant: String,
    client_id: String,
    redirect_uri: String,
    client_state: Option<String>,
    code_challenge: String,
    scope: String,
    resource: String,
    origin: String,
    created_at: i64,
    expires_at: i64,
}

impl RawAuthorization {
    fn into_authorization(self, id: Secret) -> Result<McpAuthorization> {
        Ok(McpAuthorization {
            id,
            tenant: stored_id(TenantId::new(self.tenant))?,
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            client_state: self.client_state,
            code_challenge: self.code_challenge,
            scope: self.scope,
            resource: self.resource,
            origin: self.origin,
            created_at: from_unix(self.created_at),
            expires_at: from_unix(self.expires_at),
        })
    }
}

struct RawClient {
    client_id: String,
    kind: String,
    metadata: String,
    origin: Option<String>,
    created_at: i64,
    cache_until: Option<i64>,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
}

impl RawClient {
    fn into_client(self) -> Result<StoredClient> {
        Ok(StoredClient {
            client_id: self.client_id,
            kind: ClientKind::parse(&self.kind)?,
            metadata: self.metadata,
            origin: self.origin,
            created_at: from_unix(self.created_at),
            cache_until: self.cache_until.map(from_unix),
            last_used_at: self.last_used_at.map(from_unix),
            expires_at: self.expires_at.map(from_unix),
        })
    }
}

struct RawKey {
    id: String,
    key_hash: String,
    tenant: String,
    subject: String,
    subject_name: Option<String>,
    name: String,
    read_only: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl RawKey {
    fn into_key(self) -> Result<AccessKey> {
        Ok(AccessKey {
            id: self.id,
            key_hash: self.key_hash,
            tenant: stored_id(TenantId::new(self.tenant))?,
            subject: Subject::from_stored(&self.subject)?,
            subject_name: self.subject_name,
            name: self.name,
            read_only: self.read_only,
            created_at: from_unix(self.created_at),
            last_used_at: self.last_used_at.map(from_unix),
        })
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait::async_trait]
impl AuthStore for SqlStore {
    async fn create_web_session(&self, id: &Secret, s: &WebSession) -> Result<()> {
        let (kind, account) = match &s.subject {
            Subject::Account(a) => ("person", Some(a.as_str())),
            Subject::Maintainer => ("maintainer", None),
        };
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO web_sessions (id_hash, tenant, kind, account_id, display_name, \
                 binding, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(digest(id.expose()))
            .bind(s.tenant.as_str())
            .bind(kind)
            .bind(account)
            .bind(&s.display_name)
            .bind(&s.binding)
            .bind(to_unix(s.created_at))
            .bind(to_unix(s.expires_at))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn web_session(&self, id: &Secret, now: SystemTime) -> Result<Option<WebSession>> {
        type Raw = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
        );
        let raw: Option<Raw> = on_pool!(self, p => {
            match sqlx::query(
                "SELECT tenant, kind, account_id, display_name, binding, created_at, expires_at \
                 FROM web_sessions WHERE id_hash = $1 AND expires_at > $2",
            )
            .bind(digest(id.expose()))
            .bind(to_unix(now))
            .fetch_optional(p)
            .await?
            {
                Some(row) => Some((
                    row.try_get("tenant")?,
                    row.try_get("kind")?,
                    row.try_get("account_id")?,
                    row.try_get("display_name")?,
                    row.try_get("binding")?,
                    row.try_get("created_at")?,
                    row.try_get("expires_at")?,
                )),
                None => None,
            }
        });
        let Some((tenant, kind, account, display_name, binding, created, expires)) = raw else {
            return Ok(None);
        };
        let subject = match (kind.as_str(), account) {
            ("person", Some(a)) if !a.is_empty() => Subject::Account(a),
            ("maintainer", _) => Subject::Maintainer,
            _ => {
                return Err(StoreError::Corrupt {
                    what: "web session",
                    detail: "neither a person with an account nor the maintainer".into(),
                });
            }
        };
        Ok(Some(WebSession {
            tenant: stored_id(TenantId::new(tenant))?,
            subject,
            display_name,
            binding,
            created_at: from_unix(created),
            expires_at: from_unix(expires),
        }))
    }

    async fn delete_web_session(&self, id: &Secret) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
                .bind(digest(id.expose()))
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn pending_counts(
        &self,
        kind: Pending,
        origin: &str,
        now: SystemTime,
    ) -> Result<PendingCounts> {
        let now = to_unix(now);
        let table = match kind {
            Pending::SignIn => "pending_authorizations",
            Pending::Consent => "mcp_authorizations",
        };
        let sql = format!(
            "SELECT \
             (SELECT COUNT(*) FROM {table} WHERE origin = $1 AND expires_at > $2) AS from_origin, \
             (SELECT COUNT(*) FROM {table} WHERE expires_at > $2) AS total"
        );
        let (from_origin, total): (i64, i64) = on_pool!(self, p => {
            let row = sqlx::query(&sql)
                .bind(origin)
                .bind(now)
                .fetch_one(p)
                .await?;
            (row.try_get("from_origin")?, row.try_get("total")?)
        });
        Ok(PendingCounts {
            from_origin: count(from_origin),
            total: count(total),
        })
    }

    async fn mcp_client(&self, client_id: &str) -> Result<Option<StoredClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM mcp_clients WHERE client_id = $1");
        let raw = on_pool!(self, p => {
            match sqlx::query(&sql).bind(client_id).fetch_optional(p).await? {
                Some(row) => Some(client_row!(row)),
                None => None,
            }
        });
        raw.map(RawClient::into_client).transpose()
    }

    async fn save_mcp_client(&self, c: &StoredClient) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_clients (client_id, kind, metadata, origin, created_at, \
                 cache_until, last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, \
                 metadata = excluded.metadata, cache_until = excluded.cache_until, \
                 expires_at = excluded.expires_at",
            )
            .bind(&c.client_id)
            .bind(c.kind.as_str())
            .bind(&c.metadata)
            .bind(&c.origin)
            .bind(to_unix(c.created_at))
            .bind(c.cache_until.map(to_unix))
            .bind(c.last_used_at.map(to_unix))
            .bind(c.expires_at.map(to_unix))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn touch_mcp_client(&self, client_id: &str, now: SystemTime) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "UPDATE mcp_clients SET last_used_at = $2, expires_at = NULL WHERE client_id = $1",
            )
            .bind(client_id)
            .bind(to_unix(now))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn registrations_since(&self, origin: &str, since: SystemTime) -> Result<PendingCounts> {
        let (from_origin, total): (i64, i64) = on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT \
                 (SELECT COUNT(*) FROM mcp_clients WHERE origin = $1 AND created_at >= $2) AS from_origin, \
                 (SELECT COUNT(*) FROM mcp_clients WHERE origin IS NOT NULL AND created_at >= $2) AS total",
            )
            .bind(origin)
            .bind(to_unix(since))
            .fetch_one(p)
            .await?;
            (row.try_get("from_origin")?, row.try_get("total")?)
        });
        Ok(PendingCounts {
            from_origin: count(from_origin),
            total: count(total),
        })
    }

    async fn mcp_clients(&self) -> Result<Vec<StoredClient>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM mcp_clients ORDER BY client_id");
        let raws: Vec<RawClient> = on_pool!(self, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(client_row!(row));
            }
            out
        });
        raws.into_iter().map(RawClient::into_client).collect()
    }

    async fn put_mcp_authorization(&self, a: &McpAuthorization) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_authorizations (id_hash, tenant, client_id, redirect_uri, \
                 client_state, code_challenge, scopes, resource, origin, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(digest(a.id.expose()))
            .bind(a.tenant.as_str())
            .bind(&a.client_id)
            .bind(&a.redirect_uri)
            .bind(&a.client_state)
            .bind(&a.code_challenge)
            .bind(&a.scope)
            .bind(&a.resource)
            .bind(&a.origin)
            .bind(to_unix(a.created_at))
            .bind(to_unix(a.expires_at))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn mcp_authorization(&self, id: &Secret) -> Result<Option<McpAuthorization>> {
        let sql =
            format!("SELECT {AUTHORIZATION_COLUMNS} FROM mcp_authorizations WHERE id_hash = $1");
        let raw = on_pool!(self, p => {
            match sqlx::query(&sql).bind(digest(id.expose())).fetch_optional(p).await? {
                Some(row) => Some(authorization_row!(row)),
                None => None,
            }
        });
        raw.map(|r| r.into_authorization(id.clone())).transpose()
    }

    async fn take_mcp_authorization(&self, id: &Secret) -> Result<Option<McpAuthorization>> {
        let sql = format!(
            "DELETE FROM mcp_authorizations WHERE id_hash = $1 RETURNING {AUTHORIZATION_COLUMNS}"
        );
        let raw = on_pool!(self, p => {
            match sqlx::query(&sql).bind(digest(id.expose())).fetch_optional(p).await? {
                Some(row) => Some(authorization_row!(row)),
                None => None,
            }
        });
        raw.map(|r| r.into_authorization(id.clone())).transpose()
    }

    async fn create_mcp_grant(&self, g: &McpGrant) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_grants (id, tenant, client_id, subject, subject_name, scopes, \
                 resource, created_at, last_used_at, revoked) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&g.id)
            .bind(g.tenant.as_str())
            .bind(&g.client_id)
            .bind(g.subject.to_stored())
            .bind(&g.subject_name)
            .bind(&g.scope)
            .bind(&g.resource)
            .bind(to_unix(g.created_at))
            .bind(g.last_used_at.map(to_unix))
            .bind(g.revoked)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn mcp_grant(&self, id: &str) -> Result<Option<McpGrant>> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM mcp_grants g WHERE g.id = $1");
        let raw = on_pool!(self, p => {
            match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
                Some(row) => Some(grant_row!(row)),
                None => None,
            }
        });
        raw.map(RawGrant::into_grant).transpose()
    }

    async fn mcp_grants_of(&self, tenant: &TenantId, subject: &Subject) -> Result<Vec<McpGrant>> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM mcp_grants g WHERE g.tenant = $1 AND g.subject = $2 \
             AND NOT g.revoked AND EXISTS (SELECT 1 FROM mcp_tokens t WHERE t.grant_id = g.id) \
             ORDER BY g.created_at DESC"
        );
        let raws: Vec<RawGrant> = on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(subject.to_stored())
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(grant_row!(row));
            }
            out
        });
        raws.into_iter().map(RawGrant::into_grant).collect()
    }

    async fn revoke_mcp_grant(&self, id: &str) -> Result<bool> {
        let n = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let n = sqlx::query("UPDATE mcp_grants SET revoked = TRUE WHERE id = $1 AND NOT revoked")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM mcp_tokens WHERE grant_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM mcp_codes WHERE grant_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            n
        });
        Ok(n > 0)
    }

    async fn touch_mcp_grant(&self, id: &str, now: SystemTime) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE mcp_grants SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(to_unix(now))
                .execute(p)
                .await?;
        });
        Ok(())
    }

    async fn put_mcp_code(&self, c: &McpCode) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_codes (code_hash, grant_id, redirect_uri, code_challenge, \
                 expires_at, used) VALUES ($1, $2, $3, $4, $5, FALSE)",
            )
            .bind(digest(c.code.expose()))
            .bind(&c.grant_id)
            .bind(&c.redirect_uri)
            .bind(&c.code_challenge)
            .bind(to_unix(c.expires_at))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn take_mcp_code(&self, code: &Secret) -> Result<CodeOutcome> {
        let hash = digest(code.expose());
        type Fresh = (String, String, String, i64);
        let fresh: Option<Fresh> = on_pool!(self, p => {
            match sqlx::query(
                "UPDATE mcp_codes SET used = TRUE WHERE code_hash = $1 AND NOT used \
                 RETURNING grant_id, redirect_uri, code_challenge, expires_at",
            )
            .bind(&hash)
            .fetch_optional(p)
            .await?
            {
                Some(row) => Some((
                    row.try_get("grant_id")?,
                    row.try_get("redirect_uri")?,
                    row.try_get("code_challenge")?,
                    row.try_get("expires_at")?,
                )),
                None => None,
            }
        });
        let Some((grant_id, redirect_uri, code_challenge, expires)) = fresh else {
            let used: Option<String> = on_pool!(self, p => {
                match sqlx::query("SELECT grant_id FROM mcp_codes WHERE code_hash = $1")
                    .bind(&hash)
                    .fetch_optional(p)
                    .await?
                {
                    Some(row) => Some(row.try_get("grant_id")?),
                    None => None,
                }
            });
            return Ok(match used {
                Some(grant_id) => CodeOutcome::Replayed { grant_id },
                None => CodeOutcome::Unknown,
            });
        };
        let Some(grant) = self.mcp_grant(&grant_id).await? else {
            return Ok(CodeOutcome::Unknown);
        };
        Ok(CodeOutcome::Fresh(
            McpCode {
                code: code.clone(),
                grant_id,
                redirect_uri,
                code_challenge,
                expires_at: from_unix(expires),
            },
            grant,
        ))
    }

    async fn put_mcp_token(&self, t: &McpToken) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_tokens (token_hash, grant_id, kind, created_at, expires_at, \
                 rotated_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&t.token_hash)
            .bind(&t.grant_id)
            .bind(t.kind.as_str())
            .bind(to_unix(t.created_at))
            .bind(to_unix(t.expires_at))
            .bind(t.rotated_at.map(to_unix))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn mcp_token(&self, token_hash: &str) -> Result<Option<(McpToken, McpGrant)>> {
        let sql = format!(
            "SELECT t.token_hash, t.grant_id, t.kind, t.created_at, t.expires_at, t.rotated_at, \
             {GRANT_COLUMNS} FROM mcp_tokens t JOIN mcp_grants g ON g.id = t.grant_id \
             WHERE t.token_hash = $1"
        );
        type Raw = (String, String, String, i64, i64, Option<i64>, RawGrant);
        let raw: Option<Raw> = on_pool!(self, p => {
            match sqlx::query(&sql).bind(token_hash).fetch_optional(p).await? {
                Some(row) => Some((
                    row.try_get("token_hash")?,
                    row.try_get("grant_id")?,
                    row.try_get("kind")?,
                    row.try_get("created_at")?,
                    row.try_get("expires_at")?,
                    row.try_get("rotated_at")?,
                    grant_row!(row),
                )),
                None => None,
            }
        });
        let Some((hash, grant_id, kind, created, expires, rotated, grant)) = raw else {
            return Ok(None);
        };
        Ok(Some((
            McpToken {
                token_hash: hash,
                grant_id,
                kind: TokenKind::parse(&kind)?,
                created_at: from_unix(created),
                expires_at: from_unix(expires),
                rotated_at: rotated.map(from_unix),
            },
            grant.into_grant()?,
        )))
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        now: SystemTime,
    ) -> Result<RotateOutcome> {
        let rotated: Option<String> = on_pool!(self, p => {
            match sqlx::query(
                "UPDATE mcp_tokens SET rotated_at = $2 WHERE token_hash = $1 \
                 AND kind = 'refresh' AND rotated_at IS NULL RETURNING grant_id",
            )
            .bind(token_hash)
            .bind(to_unix(now))
            .fetch_optional(p)
            .await?
            {
                Some(row) => Some(row.try_get("grant_id")?),
                None => None,
            }
        });
        match rotated {
            Some(_) => match self.mcp_token(token_hash).await? {
                Some((token, grant)) => Ok(RotateOutcome::Rotated { token, grant }),
                None => Ok(RotateOutcome::Unknown),
            },
            None => match self.mcp_token(token_hash).await? {
                Some((t, _)) if t.kind == TokenKind::Refresh && t.rotated_at.is_some() => {
                    Ok(RotateOutcome::Reused {
                        grant_id: t.grant_id,
                    })
                }
                _ => Ok(RotateOutcome::Unknown),
            },
        }
    }

    async fn delete_mcp_token(&self, token_hash: &str) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM mcp_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn put_access_key(&self, k: &AccessKey) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO access_keys (id, key_hash, tenant, subject, subject_name, name, \
                 read_only, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&k.id)
            .bind(&k.key_hash)
            .bind(k.tenant.as_str())
            .bind(k.subject.to_stored())
            .bind(&k.subject_name)
            .bind(&k.name)
            .bind(k.read_only)
            .bind(to_unix(k.created_at))
            .bind(k.last_used_at.map(to_unix))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn access_key(&self, key_hash: &str) -> Result<Option<AccessKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE key_hash = $1");
        let raw = on_pool!(self, p => {
            match sqlx::query(&sql).bind(key_hash).fetch_optional(p).await? {
                Some(row) => Some(key_row!(row)),
                None => None,
            }
        });
        raw.map(RawKey::into_key).transpose()
    }

    async fn access_keys_of(&self, tenant: &TenantId, subject: &Subject) -> Result<Vec<AccessKey>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM access_keys WHERE tenant = $1 AND subject = $2 \
             ORDER BY created_at DESC"
        );
        let raws: Vec<RawKey> = on_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(tenant.as_str())
                .bind(subject.to_stored())
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(key_row!(row));
            }
            out
        });
        raws.into_iter().map(RawKey::into_key).collect()
    }

    async fn delete_access_key(
        &self,
        tenant: &TenantId,
        subject: &Subject,
        id: &str,
    ) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM access_keys WHERE tenant = $1 AND subject = $2 AND id = $3")
                .bind(tenant.as_str())
                .bind(subject.to_stored())
                .bind(id)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn touch_access_key(&self, id: &str, now: SystemTime) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE access_keys SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(to_unix(now))
                .execute(p)
                .await?;
        });
        Ok(())
    }

    async fn record_refusal(&self, tenant: &TenantId, r: &Refusal, keep: usize) -> Result<()> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO agent_refusals (tenant, agent_id, label, last_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant, agent_id) DO UPDATE SET label = excluded.label, \
                 last_at = excluded.last_at",
            )
            .bind(tenant.as_str())
            .bind(&r.agent_id)
            .bind(&r.label)
            .bind(to_unix(r.last_at))
            .execute(p)
            .await?;
            sqlx::query(
                "DELETE FROM agent_refusals WHERE tenant = $1 AND agent_id NOT IN \
                 (SELECT agent_id FROM agent_refusals WHERE tenant = $1 \
                 ORDER BY last_at DESC, agent_id LIMIT $2)",
            )
            .bind(tenant.as_str())
            .bind(keep)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn refusals(&self, tenant: &TenantId) -> Result<Vec<Refusal>> {
        let rows: Vec<Refusal> = on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT agent_id, label, last_at FROM agent_refusals WHERE tenant = $1 \
                 ORDER BY last_at DESC, agent_id",
            )
            .bind(tenant.as_str())
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(Refusal {
                    agent_id: row.try_get("agent_id")?,
                    label: row.try_get("label")?,
                    last_at: from_unix(row.try_get("last_at")?),
                });
            }
            out
        });
        Ok(rows)
    }

    async fn forget_refusal(&self, tenant: &TenantId, agent_id: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM agent_refusals WHERE tenant = $1 AND agent_id = $2")
                .bind(tenant.as_str())
                .bind(agent_id)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    async fn mcp_session(&self, id: &str) -> Result<Option<McpSession>> {
        let raw: Option<(Option<String>, Option<String>, i64, i64)> = on_pool!(self, p => {
            match sqlx::query(
                "SELECT owner, state, created_at, last_seen_at FROM mcp_sessions WHERE id_hash = $1",
            )
            .bind(digest(id))
            .fetch_optional(p)
            .await?
            {
                Some(row) => Some((
                    row.try_get("owner")?,
                    row.try_get("state")?,
                    row.try_get("created_at")?,
                    row.try_get("last_seen_at")?,
                )),
                None => None,
            }
        });
        Ok(raw.map(|(owner, state, created, seen)| McpSession {
            owner,
            state,
            created_at: from_unix(created),
            last_seen_at: from_unix(seen),
        }))
    }

    async fn save_mcp_session_state(&self, id: &str, state: &str, now: SystemTime) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_sessions (id_hash, owner, state, created_at, last_seen_at) \
                 VALUES ($1, NULL, $2, $3, $3) ON CONFLICT (id_hash) DO UPDATE SET \
                 state = excluded.state, last_seen_at = excluded.last_seen_at",
            )
            .bind(digest(id))
            .bind(state)
            .bind(to_unix(now))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn bind_mcp_session(&self, id: &str, owner: &str, now: SystemTime) -> Result<String> {
        let bound: Option<String> = on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO mcp_sessions (id_hash, owner, state, created_at, last_seen_at) \
                 VALUES ($1, $2, NULL, $3, $3) ON CONFLICT (id_hash) DO UPDATE SET \
                 owner = COALESCE(mcp_sessions.owner, excluded.owner), \
                 last_seen_at = excluded.last_seen_at RETURNING owner",
            )
            .bind(digest(id))
            .bind(owner)
            .bind(to_unix(now))
            .fetch_one(p)
            .await?
            .try_get("owner")?
        });
        Ok(bound.unwrap_or_else(|| owner.to_string()))
    }

    async fn delete_mcp_session(&self, id: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM mcp_sessions WHERE id_hash = $1")
                .bind(digest(id))
                .execute(p)
                .await?;
        });
        Ok(())
    }

    async fn take_legacy_connections(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let rows = sqlx::query("SELECT tenant, user_id FROM legacy_connections ORDER BY tenant, user_id")
                .fetch_all(&mut *tx)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("tenant")?, row.try_get("user_id")?));
            }
            sqlx::query("DELETE FROM legacy_connections").execute(&mut *tx).await?;
            tx.commit().await?;
            out
        });
        Ok(rows)
    }

    async fn sweep(&self, now: SystemTime, idle_before: SystemTime) -> Result<u64> {
        let t = to_unix(now);
        let idle = to_unix(idle_before);
        let grace = to_unix(now.checked_sub(EMPTY_GRANT_GRACE).unwrap_or(now));
        let n = on_pool!(self, p => {
            let mut n = 0;
            for (sql, arg) in [
                ("DELETE FROM web_sessions WHERE expires_at <= $1", t),
                ("DELETE FROM pending_authorizations WHERE expires_at <= $1", t),
                ("DELETE FROM mcp_authorizations WHERE expires_at <= $1", t),
                ("DELETE FROM mcp_codes WHERE expires_at <= $1", t),
                ("DELETE FROM mcp_tokens WHERE expires_at <= $1", t),
                ("DELETE FROM mcp_clients WHERE expires_at IS NOT NULL AND expires_at <= $1", t),
                ("DELETE FROM mcp_sessions WHERE last_seen_at <= $1", idle),
                (
                    "DELETE FROM mcp_grants WHERE revoked OR (created_at <= $1 \
                     AND NOT EXISTS (SELECT 1 FROM mcp_tokens tk WHERE tk.grant_id = mcp_grants.id) \
                     AND NOT EXISTS (SELECT 1 FROM mcp_codes c WHERE c.grant_id = mcp_grants.id))",
                    grace,
                ),
            ] {
                n += sqlx::query(sql).bind(arg).execute(p).await?.rows_affected();
            }
            n
        });
        Ok(n)
    }
}
