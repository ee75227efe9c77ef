//! MCP clients: by Client ID Metadata Document (fetched, validated, cached in the store) or by
//! Dynamic Client Registration (RFC 7591, rate-limited, forgotten when unused).

use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use conflux_store::{ClientKind, StoredClient};

use crate::client_metadata::{ClientMetadata, is_client_id_url};
use crate::error::{AuthorizeError, OAuthFailure};
use crate::{AuthServer, ClientAddress, random_secret};

/// Longest client id accepted (it becomes the agent id the allowlist holds).
const MAX_CLIENT_ID: usize = 255;

/// A client as the consent page and the maintainer's list show it. Every field but `id` and
/// `kind` comes from the client itself: show it as untrusted text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientView {
    pub id: String,
    pub kind: ClientKind,
    /// The name the client gave (untrusted).
    pub name: Option<String>,
    /// The URL of its metadata document, for a metadata-document client.
    pub metadata_url: Option<String>,
    /// The hosts of its redirect URIs: where codes go.
    pub redirect_hosts: Vec<String>,
}

impl ClientView {
    fn of(client: &StoredClient, metadata: &ClientMetadata) -> ClientView {
        let mut hosts: Vec<String> = metadata
            .redirect_uris
            .iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .map(|u| match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                (None, _) => format!("{}:", u.scheme()),
            })
            .collect();
        hosts.sort();
        hosts.dedup();
        ClientView {
            id: client.client_id.clone(),
            kind: client.kind,
            name: metadata.client_name.clone(),
            metadata_url: (client.kind == ClientKind::MetadataDocument)
                .then(|| client.client_id.clone()),
            redirect_hosts: hosts,
        }
    }

    /// A one-line label for lists: the name (untrusted) and where it comes from.
    pub fn label(&self) -> String {
        let name = self.name.as_deref().unwrap_or("(no name given)");
        match &self.metadata_url {
            Some(url) => format!("{name} — metadata document {url}"),
            None => format!(
                "{name} — registered client, redirects to {}",
                self.redirect_hosts.join(", ")
            ),
        }
    }
}

impl AuthServer {
    /// The client `client_id` and its metadata: a metadata document is fetched (or read from
    /// the store while its cache lasts), a registered client read from the store.
    pub(crate) async fn client(
        &self,
        client_id: &str,
        from: &ClientAddress,
    ) -> Result<(StoredClient, ClientMetadata), AuthorizeError> {
        if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID {
            return Err(AuthorizeError::Show(format!(
                "the client id is empty or longer than {MAX_CLIENT_ID} characters"
            )));
        }
        let store = &self.inner.store;
        let now = SystemTime::now();
        let stored = store.mcp_client(client_id).await?;
        if is_client_id_url(client_id) {
            if let Some(c) = &stored
                && c.kind == ClientKind::MetadataDocument
                && c.cache_until.is_some_and(|t| t > now)
                && let Ok(m) = serde_json::from_str::<ClientMetadata>(&c.metadata)
            {
                return Ok((c.clone(), m));
            }
            // Each new document is a fetch to wherever it names and a row: counted with the
            // registrations of the same address, under the same caps.
            if stored.is_none()
                && !self
                    .room_for_a_client(from, now, "client metadata document")
                    .await?
            {
                return Err(AuthorizeError::Busy(
                    "too many new clients were made known from here in the last hour; try \
                     again later"
                        .into(),
                ));
            }
            let fetched = self.inner.fetcher.fetch(client_id).await.map_err(|e| {
                tracing::info!(error = %e, "client metadata document refused");
                AuthorizeError::Show(format!(
                    "Conflux could not accept this client's metadata document: {e}"
                ))
            })?;
            let metadata_json = serde_json::to_string(&fetched.metadata).map_err(|e| {
                AuthorizeError::Show(format!("the client metadata could not be kept: {e}"))
            })?;
            let client = StoredClient {
                client_id: client_id.to_string(),
                kind: ClientKind::MetadataDocument,
                metadata: metadata_json,
                origin: Some(
                    stored
                        .as_ref()
                        .and_then(|c| c.origin.clone())
                        .unwrap_or_else(|| from.0.clone()),
                ),
                created_at: stored.as_ref().map_or(now, |c| c.created_at),
                cache_until: Some(now + fetched.cache_for),
                last_used_at: stored.as_ref().and_then(|c| c.last_used_at),
                // Anyone can name a document: one no grant has used yet is forgotten as an
                // unused registration is, not kept (and listed on /admin) for ever.
                expires_at: match stored.as_ref().and_then(|c| c.last_used_at) {
                    Some(_) => None,
                    None => Some(now + self.inner.config.registration_ttl),
                },
            };
            store.save_mcp_client(&client).await?;
            return Ok((client, fetched.metadata));
        }
        let Some(client) = stored.filter(|c| c.kind == ClientKind::Registered) else {
            return Err(AuthorizeError::Show(
                "this client is not known here: it must register (dynamic client registration) \
                 or use an https URL of its client metadata document as its client id"
                    .into(),
            ));
        };
        if client.expires_at.is_some_and(|t| t <= now) {
            return Err(AuthorizeError::Show(
                "this client's registration expired unused: it must register again".into(),
            ));
        }
        let metadata = serde_json::from_str::<ClientMetadata>(&client.metadata).map_err(|e| {
            AuthorizeError::Show(format!("the stored registration is unreadable: {e}"))
        })?;
        Ok((client, metadata))
    }

    /// Whether `from` may make one more client known (a registration, or a metadata document
    /// named for the first time): at most `registrations_per_address` from one address and
    /// `registrations_total` in all, over the last hour. A refusal is logged as `what`'s.
    async fn room_for_a_client(
        &self,
        from: &ClientAddress,
        now: SystemTime,
        what: &str,
    ) -> Result<bool, conflux_store::StoreError> {
        let config = &self.inner.config;
        let hour_ago = now.checked_sub(Duration::from_secs(3600)).unwrap_or(now);
        let counts = self
            .inner
            .store
            .registrations_since(&from.0, hour_ago)
            .await?;
        let room = counts.from_origin < config.registrations_per_address
            && counts.total < config.registrations_total;
        if !room {
            tracing::warn!(
                from_address = counts.from_origin,
                total = counts.total,
                "{what} refused: too many new clients lately"
            );
        }
        Ok(room)
    }

    /// What to show of a client; a client the store no longer has shows as its bare id.
    pub async fn client_view(&self, client_id: &str) -> Result<ClientView, crate::AuthzError> {
        let stored = self.inner.store.mcp_client(client_id).await?;
        Ok(match stored {
            Some(c) => match serde_json::from_str::<ClientMetadata>(&c.metadata) {
                Ok(m) => ClientView::of(&c, &m),
                Err(_) => bare_view(client_id),
            },
            None => bare_view(client_id),
        })
    }

    /// Every client that has asked, for the maintainer's list.
    pub async fn clients(&self) -> Result<Vec<ClientView>, crate::AuthzError> {
        let clients = self.inner.store.mcp_clients().await?;
        Ok(clients
            .iter()
            .map(
                |c| match serde_json::from_str::<ClientMetadata>(&c.metadata) {
                    Ok(m) => ClientView::of(c, &m),
                    Err(_) => bare_view(&c.client_id),
                },
            )
            .collect())
    }

    /// RFC 7591 Dynamic Client Registration: validates the metadata, registers a public client
    /// (`token_endpoint_auth_method: none`; no secret is issued) and answers the registration.
    /// Rate-limited per address and in all; a registration unused within
    /// [`crate::AuthzConfig::registration_ttl`] is forgotten.
    pub async fn register(
        &self,
        body: &[u8],
        from: &ClientAddress,
    ) -> Result<serde_json::Value, OAuthFailure> {
        let config = &self.inner.config;
        let store = &self.inner.store;
        let now = SystemTime::now();
        if !self
            .room_for_a_client(from, now, "dynamic registration")
            .await?
        {
            let mut f = OAuthFailure::new(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                "too many client registrations lately; try again later, or use a client \
                 metadata document (an https URL as client_id), which needs no registration",
            );
            f.retry_after = Some(600);
            return Err(f);
        }
        let mut request: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            OAuthFailure::bad(
                "invalid_client_metadata",
                format!(
                    "the registration is not JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        if let Some(fields) = request.as_object_mut() {
            // RFC 7591 §2 lets the server register other values than asked: this server issues
            // no secrets, so a client asking for one is registered as a public client and told
            // so in the answer. A client id is the server's to give.
            if fields
                .get("token_endpoint_auth_method")
                .is_some_and(|m| m.as_str() != Some("none"))
            {
                tracing::debug!("registration asked for a secret; registered as a public client");
                fields.remove("token_endpoint_auth_method");
            }
            fields.remove("client_id");
        }
        let body = serde_json::to_vec(&request)
            .map_err(|e| OAuthFailure::bad("invalid_client_metadata", e.to_string()))?;
        let mut metadata = ClientMetadata::from_json(&body)
            .map_err(|e| OAuthFailure::bad(e.error_code(), e.to_string()))?;
        let client_id = random_secret("cfx_client_");
        metadata.client_id = client_id.clone();
        metadata.token_endpoint_auth_method = "none".into();
        let stored = StoredClient {
            client_id: client_id.clone(),
            kind: ClientKind::Registered,
            metadata: serde_json::to_string(&metadata)
                .map_err(|e| OAuthFailure::bad("invalid_client_metadata", e.to_string()))?,
            origin: Some(from.0.clone()),
            created_at: now,
            cache_until: None,
            last_used_at: None,
            expires_at: Some(now + config.registration_ttl),
        };
        store.save_mcp_client(&stored).await?;
        tracing::info!(client = %client_id, "client registered");
        let mut answer = serde_json::to_value(&metadata)
            .map_err(|e| OAuthFailure::bad("invalid_client_metadata", e.to_string()))?;
        if let Some(o) = answer.as_object_mut() {
            o.retain(|_, v| !v.is_null());
            o.insert(
                "client_id_issued_at".into(),
                serde_json::json!(
                    now.duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0)
                ),
            );
        }
        Ok(answer)
    }
}

fn bare_view(client_id: &str) -> ClientView {
    ClientView {
        id: client_id.to_string(),
        kind: if is_client_id_url(client_id) {
            ClientKind::MetadataDocument
        } else {
            ClientKind::Registered
        },
        name: None,
        metadata_url: is_client_id_url(client_id).then(|| client_id.to_string()),
        redirect_hosts: Vec::new(),
    }
}

/// Whether `given` is one of the client's redirect URIs: exactly, except that a loopback IP
/// literal over http may carry any port (RFC 8252 §7.3: native apps get a port at run time).
pub(crate) fn redirect_allowed(metadata: &ClientMetadata, given: &str) -> bool {
    if metadata.redirect_uris.iter().any(|r| r == given) {
        return true;
    }
    let Ok(g) = url::Url::parse(given) else {
        return false;
    };
    let loopback_ip = |u: &url::Url| {
        u.scheme() == "http"
            && matches!(
                u.host(),
                Some(url::Host::Ipv4(a)) if a.is_loopback()
            )
            || u.scheme() == "http"
                && matches!(u.host(), Some(url::Host::Ipv6(a)) if a.is_loopback())
    };
    if !loopback_ip(&g) {
        return false;
    }
    metadata.redirect_uris.iter().any(|r| {
        url::Url::parse(r).is_ok_and(|r| {
            loopback_ip(&r)
                && r.host() == g.host()
                && r.path() == g.path()
                && r.query() == g.query()
                && g.fragment().is_none()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(uris: &[&str]) -> ClientMetadata {
        ClientMetadata {
            client_id: "https://app.example/client.json".into(),
            client_name: None,
            client_uri: None,
            logo_uri: None,
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            grant_types: vec![],
            response_types: vec![],
            token_endpoint_auth_method: "none".into(),
            scope: None,
            software_id: None,
            software_version: None,
        }
    }

    #[test]
    fn redirect_uris_match_exactly_or_by_loopback_port() {
        let m = meta(&["https://app.example/cb", "http://127.0.0.1/callback"]);
        assert!(redirect_allowed(&m, "https://app.example/cb"));
        assert!(!redirect_allowed(&m, "https://app.example/cb/"));
        assert!(!redirect_allowed(&m, "https://app.example/cb?x=1"));
        assert!(!redirect_allowed(&m, "https://evil.example/cb"));
        assert!(redirect_allowed(&m, "http://127.0.0.1:53124/callback"));
        assert!(!redirect_allowed(&m, "http://127.0.0.1:53124/other"));
        assert!(!redirect_allowed(&m, "http://localhost:53124/callback"));
        let https_only = meta(&["https://app.example:8443/cb"]);
        assert!(!redirect_allowed(
            &https_only,
            "https://app.example:9443/cb"
        ));
    }
}
