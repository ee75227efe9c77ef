//! Resolving a configured credential into a [`Credential`], once.
//!
//! Classic and scoped API tokens look the same ("there is no way to distinguish them just from
//! the token itself", Atlassian KB), so an API token of unknown kind is tried: on the site URL
//! (classic tokens work there), then, after `_edge/tenant_info` gives the cloudId, on the gateway
//! (scoped tokens work there; a "scope does not match" answer also proves the token is scoped).

use conflux_catalog::ScopeSet;
use conflux_types::{BaseUrl, CloudId, SiteUrl};
use serde::Deserialize;

use crate::ClientConfig;
use crate::credential::{
    AccessToken, ApiToken, Credential, CredentialConfig, CredentialKind, ScopedToken, TokenKindHint,
};
use crate::error::{AuthFailure, ClientError, Result};
use crate::retry::{self, Backoff, RetryPolicy};

/// The request both probes make: cheap, read-only, allowed to any user.
const PROBE_PATH: &str = "/wiki/api/v2/spaces?limit=1";

enum ProbeAnswer {
    Accepted,
    ScopeMismatch,
    Refused,
    Other(u16),
}

/// One answer to a GET, after the transient failures were retried.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
}

/// Sends the GET `build` makes until it gets an answer that is not transient: connection
/// failures, 429 and 5xx are retried with the client's backoff and deadline (a GET changes
/// nothing), and when they outlast it they are named for what they are: `Transport`,
/// `RateLimited`, `Upstream`, never a configuration problem.
pub(crate) async fn get_retried(
    policy: &RetryPolicy,
    what: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer> {
    let mut backoff = Backoff::new(policy);
    loop {
        backoff.attempt();
        let req = build().header(reqwest::header::ACCEPT, "application/json");
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let message = if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    e.without_url().to_string()
                };
                if let Some(wait) = backoff.next_wait(None) {
                    tracing::debug!(what, %message, "request failed; retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(ClientError::Transport {
                    message: format!("{what}: {message}"),
                    may_have_been_sent: false,
                });
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                if let Some(wait) = backoff.next_wait(None) {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(ClientError::Transport {
                    message: format!("{what}: {}", e.without_url()),
                    may_have_been_sent: false,
                });
            }
        };
        if status == 429 || status >= 500 {
            let told = if status == 429 {
                retry::told_wait(&headers, backoff.max_retry_after())
            } else {
                retry::retry_after(&headers, backoff.max_retry_after())
            };
            if let Some(wait) = backoff.next_wait(told) {
                tracing::debug!(what, status, ?wait, "transient refusal; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(if status == 429 {
                ClientError::RateLimited {
                    retry_after: told,
                    attempts: backoff.attempts,
                }
            } else {
                ClientError::Upstream {
                    status,
                    message: format!(
                        "{what}: {}",
                        crate::transport::error_message(&body)
                            .unwrap_or_else(|| format!("HTTP {status}"))
                    ),
                }
            });
        }
        return Ok(Answer {
            status,
            headers,
            body,
        });
    }
}

async fn probe(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    url: &str,
    email: &str,
    token: &str,
) -> Result<ProbeAnswer> {
    let answer = get_retried(policy, "the token-kind probe", || {
        http.get(url).basic_auth(email, Some(token))
    })
    .await?;
    let scope_header = answer
        .headers
        .get("x-failure-category")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("FAILURE_CLIENT_SCOPE_CHECK"));
    let body = String::from_utf8_lossy(&answer.body);
    Ok(match answer.status {
        200..=299 | 403 => ProbeAnswer::Accepted,
        401 if scope_header || body.contains("scope does not match") => ProbeAnswer::ScopeMismatch,
        401 => ProbeAnswer::Refused,
        s => ProbeAnswer::Other(s),
    })
}

#[derive(Deserialize)]
struct TenantInfo {
    #[serde(rename = "cloudId")]
    cloud_id: String,
}

/// `GET {site}/_edge/tenant_info` → the site's cloudId (no authentication needed).
pub(crate) async fn tenant_info(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    site: &SiteUrl,
) -> Result<CloudId> {
    let url = site.join("/_edge/tenant_info");
    let answer = get_retried(policy, &format!("{site}/_edge/tenant_info"), || {
        http.get(&url)
    })
    .await?;
    let status = answer.status;
    if !(200..300).contains(&status) {
        return Err(ClientError::Config(format!(
            "{site}/_edge/tenant_info answered HTTP {status}; is {site} a Confluence Cloud site? \
             Set CONFLUENCE_CLOUD_ID to skip this lookup"
        )));
    }
    let info: TenantInfo =
        serde_json::from_slice(&answer.body).map_err(|e| ClientError::Decode {
            status,
            excerpt: format!("tenant_info: {e}"),
        })?;
    info.cloud_id.parse().map_err(|_| {
        ClientError::Config(format!(
            "{site}/_edge/tenant_info gave a cloudId that is not a UUID"
        ))
    })
}

#[derive(Deserialize)]
pub(crate) struct AccessibleResource {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `GET {gateway}/oauth/token/accessible-resources`: the sites a Bearer token can reach.
pub(crate) async fn accessible_resources(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    gateway: &BaseUrl,
    bearer: &str,
) -> Result<Vec<AccessibleResource>> {
    let url = gateway.join("/oauth/token/accessible-resources");
    let answer = get_retried(policy, "accessible-resources", || {
        http.get(&url).bearer_auth(bearer)
    })
    .await?;
    let status = answer.status;
    if status == 401 {
        return Err(ClientError::Unauthorized {
            credential: CredentialKind::AccessToken,
            reason: AuthFailure::Invalid,
        });
    }
    if !(200..300).contains(&status) {
        return Err(ClientError::Upstream {
            status,
            message: "accessible-resources failed".into(),
        });
    }
    serde_json::from_slice(&answer.body).map_err(|e| ClientError::Decode {
        status,
        excerpt: e.to_string(),
    })
}

/// Picks the site a token should use: the one matching `site`, else the only one.
pub(crate) fn pick_site<'r>(
    resources: &'r [AccessibleResource],
    site: Option<&SiteUrl>,
) -> Result<(CloudId, &'r AccessibleResource)> {
    let chosen = match site {
        Some(s) => resources
            .iter()
            .find(|r| SiteUrl::parse(&r.url).map(|u| u == *s).unwrap_or(false)),
        None if resources.len() == 1 => resources.first(),
        None => None,
    };
    match chosen {
        Some(r) => r.id.parse().map(|id| (id, r)).map_err(|_| {
            ClientError::Config(format!(
                "accessible-resources gave a cloudId that is not a UUID: {}",
                r.id
            ))
        }),
        None if resources.is_empty() => Err(ClientError::Config(
            "the token grants access to no Confluence site; reconnect and pick a site".into(),
        )),
        None => {
            let list: Vec<String> = resources
                .iter()
                .map(|r| format!("{} ({}, cloudId {})", r.name, r.url, r.id))
                .collect();
            Err(ClientError::Config(format!(
                "the token covers several sites: {}; set CONFLUENCE_URL or CONFLUENCE_CLOUD_ID to choose",
                list.join(", ")
            )))
        }
    }
}

pub(crate) async fn resolve(
    http: &reqwest::Client,
    client: &ClientConfig,
    config: CredentialConfig,
) -> Result<Credential> {
    let endpoints = &client.endpoints;
    let policy = &client.retry;
    match config {
        CredentialConfig::OAuth(t) => Ok(Credential::OAuth(t)),
        CredentialConfig::AccessToken {
            token,
            site,
            cloud_id,
        } => {
            let (cloud_id, scopes) = match cloud_id {
                Some(c) => (c, None),
                None => {
                    let resources =
                        accessible_resources(http, policy, &endpoints.gateway, token.expose())
                            .await?;
                    let (id, r) = pick_site(&resources, site.as_ref())?;
                    (id, Some(ScopeSet::parse_lenient(&r.scopes.join(" ")).0))
                }
            };
            Ok(Credential::AccessToken(AccessToken {
                token,
                cloud_id,
                scopes,
            }))
        }
        CredentialConfig::ApiToken {
            email,
            token,
            site,
            cloud_id,
            kind,
            scopes,
        } => {
            if email.trim().is_empty() {
                return Err(ClientError::Config(
                    "an API token needs the account email (CONFLUENCE_USERNAME)".into(),
                ));
            }
            let classic = |site: SiteUrl, token| {
                Credential::ApiToken(ApiToken {
                    email: email.clone(),
                    token,
                    site,
                })
            };
            match (kind, site) {
                (TokenKindHint::Classic, Some(site)) => Ok(classic(site, token)),
                (TokenKindHint::Classic, None) => Err(ClientError::Config(
                    "a classic API token needs the site URL (CONFLUENCE_URL)".into(),
                )),
                (TokenKindHint::Detect, Some(site)) => {
                    match probe(http, policy, &site.join(PROBE_PATH), &email, token.expose())
                        .await?
                    {
                        ProbeAnswer::Accepted => {
                            tracing::debug!("API token accepted on the site URL: classic");
                            Ok(classic(site, token))
                        }
                        ProbeAnswer::Other(s) => Err(ClientError::Config(format!(
                            "{site} answered HTTP {s} to an API request; is it a Confluence Cloud site?"
                        ))),
                        ProbeAnswer::Refused | ProbeAnswer::ScopeMismatch => {
                            let cloud_id = match cloud_id {
                                Some(c) => c,
                                None => tenant_info(http, policy, &site).await?,
                            };
                            scoped(http, client, email, token, cloud_id, scopes, true).await
                        }
                    }
                }
                (_, site) => {
                    let cloud_id = match (cloud_id, site) {
                        (Some(c), _) => c,
                        (None, Some(site)) => tenant_info(http, policy, &site).await?,
                        (None, None) => {
                            return Err(ClientError::Config(
                                "set CONFLUENCE_URL (the site) or CONFLUENCE_CLOUD_ID".into(),
                            ));
                        }
                    };
                    let verify = kind == TokenKindHint::Detect;
                    scoped(http, client, email, token, cloud_id, scopes, verify).await
                }
            }
        }
    }
}

async fn scoped(
    http: &reqwest::Client,
    client: &ClientConfig,
    email: String,
    token: conflux_types::Secret,
    cloud_id: CloudId,
    scopes: Option<ScopeSet>,
    verify: bool,
) -> Result<Credential> {
    if verify {
        let url = format!(
            "{}/ex/confluence/{cloud_id}{PROBE_PATH}",
            client.endpoints.gateway.as_str()
        );
        match probe(http, &client.retry, &url, &email, token.expose()).await? {
            ProbeAnswer::Accepted | ProbeAnswer::ScopeMismatch => {
                tracing::debug!("API token accepted by the gateway: scoped");
            }
            ProbeAnswer::Refused => {
                return Err(ClientError::Unauthorized {
                    credential: CredentialKind::ApiToken,
                    reason: AuthFailure::Invalid,
                });
            }
            ProbeAnswer::Other(404) => {
                return Err(ClientError::Config(format!(
                    "the API gateway does not know cloudId {cloud_id}; check CONFLUENCE_CLOUD_ID"
                )));
            }
            ProbeAnswer::Other(s) => {
                return Err(ClientError::Upstream {
                    status: s,
                    message: "the API gateway refused the token probe".into(),
                });
            }
        }
    }
    Ok(Credential::ScopedToken(ScopedToken {
        email,
        token,
        cloud_id,
        scopes,
    }))
}
