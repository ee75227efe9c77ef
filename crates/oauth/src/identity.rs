//! Calls to Atlassian's identity service and the gateway's accessible-resources.
//!
//! Token responses are turned into [`Tokens`] (secrets wrapped) as soon as they are read;
//! error messages carry Atlassian's `error`/`error_description`, never a response body that
//! could hold a token.

use std::time::{Duration, SystemTime};

use conflux_client::Endpoints;
use conflux_store::{Site, Tokens};
use conflux_types::Secret;
use serde::Deserialize;

use crate::error::OAuthError;

/// Why the token endpoint refused.
#[derive(Debug)]
pub(crate) enum TokenFailure {
    /// `invalid_grant`: the code or refresh token is used, expired or revoked.
    InvalidGrant(String),
    /// The client id or secret was refused.
    Client,
    /// Any other refusal, or an unreadable answer.
    Other { status: u16, message: String },
    /// No answer.
    Transport(String),
}

impl TokenFailure {
    pub(crate) fn into_error(self, during_code_exchange: bool) -> OAuthError {
        match self {
            TokenFailure::InvalidGrant(description) if during_code_exchange => {
                OAuthError::CodeRejected { description }
            }
            TokenFailure::InvalidGrant(description) => OAuthError::TokenEndpoint {
                status: 403,
                message: format!("invalid_grant: {description}"),
            },
            TokenFailure::Client => OAuthError::ClientRejected,
            TokenFailure::Other { status, message } if during_code_exchange && status == 400 => {
                OAuthError::CodeRejected {
                    description: message,
                }
            }
            TokenFailure::Other { status, message } => {
                OAuthError::TokenEndpoint { status, message }
            }
            TokenFailure::Transport(m) => OAuthError::Transport(m),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorResponse {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct Resource {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// The identity service and gateway, over one HTTP client.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    http: reqwest::Client,
    endpoints: Endpoints,
}

/// What a token request carries besides the grant.
pub(crate) struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
}

impl Identity {
    pub(crate) fn new(endpoints: Endpoints, timeout: Duration) -> Result<Identity, OAuthError> {
        // ring, not aws-lc-rs; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(format!("conflux/{}", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OAuthError::Transport(format!("could not build the HTTP client: {e}")))?;
        Ok(Identity { http, endpoints })
    }

    /// `authorization_code` grant, with the PKCE verifier.
    pub(crate) async fn exchange_code(
        &self,
        client: ClientAuth<'_>,
        code: &str,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<Tokens, TokenFailure> {
        self.token_request(serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": client.client_id,
            "client_secret": client.client_secret.expose(),
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier.expose(),
        }))
        .await
    }

    /// `refresh_token` grant. Atlassian rotates the refresh token on every use.
    pub(crate) async fn refresh(
        &self,
        client: ClientAuth<'_>,
        refresh_token: &Secret,
    ) -> Result<Tokens, TokenFailure> {
        self.token_request(serde_json::json!({
            "grant_type": "refresh_token",
            "client_id": client.client_id,
            "client_secret": client.client_secret.expose(),
            "refresh_token": refresh_token.expose(),
        }))
        .await
    }

    async fn token_request(&self, body: serde_json::Value) -> Result<Tokens, TokenFailure> {
        let url = format!("{}/oauth/token", self.endpoints.identity.as_str());
        let sent_at = SystemTime::now();
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| TokenFailure::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| TokenFailure::Transport(e.to_string()))?;
        tracing::debug!(status, "token endpoint answered");
        if status == 200 {
            let t: TokenResponse =
                serde_json::from_slice(&bytes).map_err(|_| TokenFailure::Other {
                    status,
                    message: "the token response is not the JSON Atlassian documents".into(),
                })?;
            if t.access_token.is_empty() {
                return Err(TokenFailure::Other {
                    status,
                    message: "the token response has an empty access_token".into(),
                });
            }
            return Ok(Tokens {
                access: Secret::new(t.access_token),
                refresh: t.refresh_token.filter(|r| !r.is_empty()).map(Secret::new),
                // Counted from when the request left, so the stored expiry is never late.
                expires_at: t.expires_in.map(|s| sent_at + Duration::from_secs(s)),
                scope: t.scope.unwrap_or_default(),
            });
        }
        let e: ErrorResponse = serde_json::from_slice(&bytes).unwrap_or_default();
        let error = e.error.unwrap_or_default();
        let description = e
            .error_description
            .unwrap_or_else(|| format!("HTTP {status}"));
        Err(match error.as_str() {
            "invalid_grant" => TokenFailure::InvalidGrant(description),
            "invalid_client" | "unauthorized_client" | "access_denied" => TokenFailure::Client,
            _ if status == 401 => TokenFailure::Client,
            "" => TokenFailure::Other {
                status,
                message: description,
            },
            _ => TokenFailure::Other {
                status,
                message: format!("{error}: {description}"),
            },
        })
    }

    /// The Confluence sites an access token reaches.
    pub(crate) async fn accessible_resources(
        &self,
        access: &Secret,
    ) -> Result<Vec<Site>, OAuthError> {
        let url = format!(
            "{}/oauth/token/accessible-resources",
            self.endpoints.gateway.as_str()
        );
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", access.expose()))
                .map_err(|_| OAuthError::TokenEndpoint {
                    status: 200,
                    message: "the access token holds characters that cannot be sent".into(),
                })?;
        auth.set_sensitive(true);
        let response = self
            .http
            .get(&url)
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| OAuthError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| OAuthError::Transport(e.to_string()))?;
        if status != 200 {
            return Err(OAuthError::TokenEndpoint {
                status,
                message: "accessible-resources refused the new access token".into(),
            });
        }
        let resources: Vec<Resource> =
            serde_json::from_slice(&bytes).map_err(|e| OAuthError::TokenEndpoint {
                status,
                message: format!("accessible-resources answered unreadable JSON: {e}"),
            })?;
        Ok(confluence_sites(resources))
    }
}

/// Sites whose scopes include Confluence ones (all sites when none lists scopes), once each.
fn confluence_sites(resources: Vec<Resource>) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::new();
    for r in resources {
        let Ok(cloud_id) = r.id.parse() else {
            tracing::warn!("accessible-resources listed a site whose id is not a UUID; skipped");
            continue;
        };
        let confluence = r.scopes.is_empty() || r.scopes.iter().any(|s| s.contains("confluence"));
        if !confluence || sites.iter().any(|s| s.cloud_id == cloud_id) {
            continue;
        }
        sites.push(Site {
            cloud_id,
            url: r.url,
            name: r.name,
            scopes: r.scopes,
        });
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_confluence_sites_once_each() {
        let r = |id: &str, scopes: &[&str]| Resource {
            id: id.into(),
            name: "n".into(),
            url: "https://x.atlassian.net".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        let a = "11111111-2222-4333-8444-555555555555";
        let b = "66666666-7777-4888-9999-000000000000";
        let sites = confluence_sites(vec![
            r(a, &["read:page:confluence"]),
            r(a, &["read:page:confluence"]),
            r(b, &["read:jira-work"]),
            r("not-a-uuid", &["read:page:confluence"]),
        ]);
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].cloud_id.to_string(), a);
    }
}
