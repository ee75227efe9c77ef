//! The authorization code grant: the request, the consent's outcome, the token endpoint
//! (codes and rotating refresh tokens) and revocation.

use std::time::SystemTime;

use axum::http::StatusCode;
use base64::Engine as _;
use conflux_store::{
    CodeOutcome, McpAuthorization, McpCode, McpGrant, McpToken, RotateOutcome, Subject, TokenKind,
};
use conflux_types::Secret;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::clients::{ClientView, redirect_allowed};
use crate::error::{AuthorizeError, AuthzError, OAuthFailure};
use crate::{Access, AuthServer, ClientAddress, SCOPE_READ, SCOPE_WRITE, random_secret};

/// A stored authorization request: its id goes through the sign-in and comes back to consent.
#[derive(Debug)]
pub struct Pending {
    /// The request's id (secret: whoever holds it can answer the consent).
    pub id: Secret,
}

/// What the consent page shows of a pending request.
#[derive(Clone, Debug)]
pub struct PendingView {
    pub client: ClientView,
    /// Where the browser goes after the answer (the redirect URI asked for).
    pub redirect_uri: String,
    pub access: Access,
}

/// The query of `/oauth/authorize`.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Appends `params` to `uri`'s query.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.into()
        }
        Err(_) => uri.to_string(),
    }
}

/// `BASE64URL(SHA256(verifier))`.
fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// Constant-time comparison of two strings.
fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl AuthServer {
    /// Step one of `/oauth/authorize` (`query` is its raw query): checks the client and its
    /// redirect URI (a refusal here is shown, never redirected), then the rest (refused back
    /// to the client), and stores the request until the person has signed in and answered.
    pub async fn request(
        &self,
        query: &str,
        from: &ClientAddress,
    ) -> Result<Pending, AuthorizeError> {
        let config = &self.inner.config;
        let pairs = form(query.as_bytes());
        let Some(client_id) = param(&pairs, "client_id") else {
            return Err(AuthorizeError::Show(
                "the request names no client_id".into(),
            ));
        };
        let (client, metadata) = self.client(client_id, from).await?;
        let Some(redirect_uri) = param(&pairs, "redirect_uri") else {
            return Err(AuthorizeError::Show(
                "the request names no redirect_uri, so Conflux cannot tell where to answer".into(),
            ));
        };
        if !redirect_allowed(&metadata, redirect_uri) {
            return Err(AuthorizeError::Show(format!(
                "the redirect_uri is not one this client registered ({}), so Conflux will not \
                 send the browser there",
                metadata.redirect_uris.join(", ")
            )));
        }
        let state = param(&pairs, "state");
        let refuse = |error: &str, description: &str| {
            let mut params = vec![
                ("error", error),
                ("error_description", description),
                ("iss", config.issuer.as_str()),
            ];
            if let Some(s) = state {
                params.push(("state", s));
            }
            AuthorizeError::Redirect(with_query(redirect_uri, &params))
        };
        if param(&pairs, "response_type") != Some("code") {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        let Some(challenge) = param(&pairs, "code_challenge") else {
            return Err(refuse(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        };
        if param(&pairs, "code_challenge_method") != Some("S256") {
            return Err(refuse(
                "invalid_request",
                "only code_challenge_method=S256 is supported",
            ));
        }
        if challenge.len() != 43
            || !challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(refuse(
                "invalid_request",
                "code_challenge must be BASE64URL(SHA256(verifier)), 43 characters",
            ));
        }
        let resource = self.resource();
        if let Some(r) = param(&pairs, "resource")
            && r.trim_end_matches('/') != resource
        {
            return Err(refuse(
                "invalid_target",
                "this server issues tokens only for its own /mcp resource",
            ));
        }
        let access = match param(&pairs, "scope") {
            None => config.max_access,
            Some(scope) => {
                if let Some(bad) = scope
                    .split_whitespace()
                    .find(|s| *s != SCOPE_READ && *s != SCOPE_WRITE)
                {
                    return Err(refuse(
                        "invalid_scope",
                        &format!(
                            "unknown scope `{bad}`; this server offers tools:read and tools:write"
                        ),
                    ));
                }
                Access::from_scope(scope)
                    .unwrap_or(config.max_access)
                    .min(config.max_access)
            }
        };
        let now = SystemTime::now();
        let counts = self
            .inner
            .store
            .pending_counts(conflux_store::Pending::Consent, &from.0, now)
            .await?;
        if counts.from_origin >= config.pending_per_address || counts.total >= config.pending_total
        {
            tracing::warn!(
                from_address = counts.from_origin,
                total = counts.total,
                "authorization refused: too many pending"
            );
            return Err(AuthorizeError::Busy(
                "too many authorizations are waiting for consent; finish or abandon them, and \
                 try again in a few minutes"
                    .into(),
            ));
        }
        let id = Secret::new(random_secret(""));
        self.inner
            .store
            .put_mcp_authorization(&McpAuthorization {
                id: id.clone(),
                tenant: config.tenant.clone(),
                client_id: client.client_id.clone(),
                redirect_uri: redirect_uri.to_string(),
                client_state: state.map(String::from),
                code_challenge: challenge.to_string(),
                scope: access.scope().to_string(),
                resource,
                origin: from.0.clone(),
                created_at: now,
                expires_at: now + config.request_ttl,
            })
            .await?;
        tracing::debug!(client = %client.client_id, "authorization request stored");
        Ok(Pending { id })
    }

    /// The pending request `id`, for the consent page; `None` when unknown or expired.
    pub async fn pending(&self, id: &Secret) -> Result<Option<PendingView>, AuthzError> {
        let Some(a) = self.inner.store.mcp_authorization(id).await? else {
            return Ok(None);
        };
        if a.expires_at <= SystemTime::now() || a.tenant != self.inner.config.tenant {
            return Ok(None);
        }
        Ok(Some(PendingView {
            client: self.client_view(&a.client_id).await?,
            redirect_uri: a.redirect_uri,
            access: Access::from_scope(&a.scope).unwrap_or(Access::Read),
        }))
    }

    /// The person approved: a grant for `subject` and a code, and the URL to send the browser
    /// to (the client's redirect URI with `code`, `state` and `iss`). `None` when the request is
    /// unknown, expired or already answered.
    pub async fn approve(
        &self,
        id: &Secret,
        subject: Subject,
        subject_name: Option<String>,
    ) -> Result<Option<String>, AuthzError> {
        let store = &self.inner.store;
        let config = &self.inner.config;
        let Some(a) = store.take_mcp_authorization(id).await? else {
            return Ok(None);
        };
        let now = SystemTime::now();
        if a.expires_at <= now || a.tenant != config.tenant {
            return Ok(None);
        }
        let grant = McpGrant {
            id: random_secret("grant_"),
            tenant: a.tenant.clone(),
            client_id: a.client_id.clone(),
            subject,
            subject_name,
            scope: a.scope.clone(),
            resource: a.resource.clone(),
            created_at: now,
            last_used_at: None,
            revoked: false,
        };
        store.create_mcp_grant(&grant).await?;
        let code = Secret::new(random_secret("cfx_code_"));
        store
            .put_mcp_code(&McpCode {
                code: code.clone(),
                grant_id: grant.id.clone(),
                redirect_uri: a.redirect_uri.clone(),
                code_challenge: a.code_challenge.clone(),
                expires_at: now + config.code_ttl,
            })
            .await?;
        tracing::info!(client = %a.client_id, subject = %grant.subject, "authorization approved");
        let mut params: Vec<(&str, &str)> = vec![
            ("code", code.expose().as_str()),
            ("iss", config.issuer.as_str()),
        ];
        if let Some(s) = &a.client_state {
            params.push(("state", s.as_str()));
        }
        Ok(Some(with_query(&a.redirect_uri, &params)))
    }

    /// The person declined: the URL that tells the client (`error=access_denied`).
    pub async fn deny(&self, id: &Secret) -> Result<Option<String>, AuthzError> {
        let Some(a) = self.inner.store.take_mcp_authorization(id).await? else {
            return Ok(None);
        };
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "the person declined"),
            ("iss", self.inner.config.issuer.as_str()),
        ];
        if let Some(s) = &a.client_state {
            params.push(("state", s.as_str()));
        }
        Ok(Some(with_query(&a.redirect_uri, &params)))
    }

    /// The token endpoint (form-encoded body): `authorization_code` with PKCE, and
    /// `refresh_token` with rotation. Public clients authenticate by `client_id` alone.
    pub async fn token(&self, body: &[u8], basic_auth: bool) -> Result<Value, OAuthFailure> {
        if basic_auth {
            return Err(OAuthFailure::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "this server issues no client secrets: send client_id in the body \
                 (token_endpoint_auth_method none)",
            ));
        }
        let pairs = form(body);
        let Some(client_id) = param(&pairs, "client_id") else {
            return Err(OAuthFailure::bad(
                "invalid_request",
                "client_id is required",
            ));
        };
        if let Some(r) = param(&pairs, "resource")
            && r.trim_end_matches('/') != self.resource()
        {
            return Err(OAuthFailure::bad(
                "invalid_target",
                "this server issues tokens only for its own /mcp resource",
            ));
        }
        match param(&pairs, "grant_type") {
            Some("authorization_code") => self.exchange_code(&pairs, client_id).await,
            Some("refresh_token") => self.refresh(&pairs, client_id).await,
            _ => Err(OAuthFailure::bad(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )),
        }
    }

    async fn exchange_code(
        &self,
        pairs: &[(String, String)],
        client_id: &str,
    ) -> Result<Value, OAuthFailure> {
        let store = &self.inner.store;
        let (Some(code), Some(verifier)) = (param(pairs, "code"), param(pairs, "code_verifier"))
        else {
            return Err(OAuthFailure::bad(
                "invalid_request",
                "code and code_verifier are required",
            ));
        };
        let invalid = || {
            OAuthFailure::bad(
                "invalid_grant",
                "the authorization code is unknown, used, expired or not this client's",
            )
        };
        let (code, grant) = match store.take_mcp_code(&Secret::new(code.to_string())).await? {
            CodeOutcome::Fresh(code, grant) => (code, grant),
            CodeOutcome::Replayed { grant_id } => {
                // RFC 6749 §4.1.2: a code used twice revokes what it issued.
                store.revoke_mcp_grant(&grant_id).await?;
                self.inner.cache.clear();
                tracing::warn!("authorization code replayed: its grant is revoked");
                return Err(invalid());
            }
            _ => return Err(invalid()),
        };
        if code.expires_at <= SystemTime::now()
            || grant.revoked
            || !same(&grant.client_id, client_id)
            || grant.tenant != self.inner.config.tenant
        {
            return Err(invalid());
        }
        if param(pairs, "redirect_uri") != Some(code.redirect_uri.as_str()) {
            return Err(OAuthFailure::bad(
                "invalid_grant",
                "redirect_uri does not match the authorization request",
            ));
        }
        if !same(&s256(verifier), &code.code_challenge) {
            return Err(OAuthFailure::bad(
                "invalid_grant",
                "code_verifier does not match the code_challenge",
            ));
        }
        store
            .touch_mcp_client(&grant.client_id, SystemTime::now())
            .await?;
        self.issue(&grant).await
    }

    async fn refresh(
        &self,
        pairs: &[(String, String)],
        client_id: &str,
    ) -> Result<Value, OAuthFailure> {
        let store = &self.inner.store;
        let Some(refresh) = param(pairs, "refresh_token") else {
            return Err(OAuthFailure::bad(
                "invalid_request",
                "refresh_token is required",
            ));
        };
        let invalid = || {
            OAuthFailure::bad(
                "invalid_grant",
                "the refresh token is unknown, expired, revoked or already used",
            )
        };
        let hash = McpToken::hash_of(&Secret::new(refresh.to_string()));
        let now = SystemTime::now();
        let grant = match store.rotate_refresh_token(&hash, now).await? {
            RotateOutcome::Rotated { token, grant } => {
                if token.expires_at <= now
                    || grant.revoked
                    || !same(&grant.client_id, client_id)
                    || grant.tenant != self.inner.config.tenant
                {
                    return Err(invalid());
                }
                grant
            }
            RotateOutcome::Reused { grant_id } => {
                // A rotated refresh token used again: someone else has a copy. The whole family
                // goes, and the person authorizes the client again.
                store.revoke_mcp_grant(&grant_id).await?;
                self.inner.cache.clear();
                tracing::warn!("refresh token reused: its grant is revoked");
                return Err(invalid());
            }
            _ => return Err(invalid()),
        };
        self.issue(&grant).await
    }

    /// A new access token and refresh token for `grant`.
    async fn issue(&self, grant: &McpGrant) -> Result<Value, OAuthFailure> {
        let config = &self.inner.config;
        let now = SystemTime::now();
        let access = Secret::new(random_secret("cfx_at_"));
        let refresh = Secret::new(random_secret("cfx_rt_"));
        for (token, kind, ttl) in [
            (&access, TokenKind::Access, config.access_ttl),
            (&refresh, TokenKind::Refresh, config.refresh_ttl),
        ] {
            self.inner
                .store
                .put_mcp_token(&McpToken {
                    token_hash: McpToken::hash_of(token),
                    grant_id: grant.id.clone(),
                    kind,
                    created_at: now,
                    expires_at: now + ttl,
                    rotated_at: None,
                })
                .await?;
        }
        self.inner.store.touch_mcp_grant(&grant.id, now).await?;
        Ok(json!({
            "access_token": access.expose(),
            "token_type": "Bearer",
            "expires_in": config.access_ttl.as_secs(),
            "refresh_token": refresh.expose(),
            "scope": grant.scope,
        }))
    }

    /// RFC 7009 revocation: a refresh token revokes its grant (and every token of it), an
    /// access token only itself. Unknown tokens are not an error.
    pub async fn revoke(&self, body: &[u8]) -> Result<(), OAuthFailure> {
        let pairs = form(body);
        let Some(token) = param(&pairs, "token") else {
            return Err(OAuthFailure::bad("invalid_request", "token is required"));
        };
        let store = &self.inner.store;
        let hash = McpToken::hash_of(&Secret::new(token.to_string()));
        if let Some((t, grant)) = store.mcp_token(&hash).await? {
            let client_ok = param(&pairs, "client_id").is_none_or(|c| same(c, &grant.client_id));
            if client_ok {
                match t.kind {
                    TokenKind::Refresh => {
                        store.revoke_mcp_grant(&grant.id).await?;
                    }
                    TokenKind::Access => {
                        store.delete_mcp_token(&hash).await?;
                    }
                }
                self.inner.cache.clear();
                tracing::info!(client = %grant.client_id, kind = t.kind.as_str(), "token revoked");
            }
        }
        Ok(())
    }
}
