//! Resolving a configured credential into a [`Credential`], once.
//!
//! Classic and scoped API tokens look the same ("there is no way to distinguish them just from
//! the token itself", Atlassian KB), so an API token of unknown kind is tried: on the site URL
//! (classic tokens work there), then, after `_edge/tenant_info` gives the cloudId, on the gateway
//! (scoped tokens work there; a "scope does not match" answer also proves the token is scoped).

use conflux_catalog::ScopeSet;
use conflux_types::{BaseUrl, CloudId, SiteUrl};
use serde::Deserialize;

use crate::credential::{
    AccessToken, ApiToken, Credential, CredentialConfig, CredentialKind, ScopedToken, TokenKindHint,
};
use crate::error::{AuthFailure, ClientError, Result};
use crate::route::Endpoints;

/// The request both probes make: cheap, read-only, allowed to any user.
const PROBE_PATH: &str = "/wiki/api/v2/spaces?limit=1";

enum ProbeAnswer {
    Accepted,
    ScopeMismatch,
    Refused,
    Other(u16),
}

async fn probe(http: &reqwest::Client, url: &str, email: &str, token: &str) -> Result<ProbeAnswer> {
    let resp = http
        .get(url)
        .basic_auth(email, Some(token))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| ClientError::Transport {
            message: e.without_url().to_string(),
            may_have_been_sent: false,
        })?;
    let status = resp.status().as_u16();
    let scope_header = resp
        .headers()
        .get("x-failure-category")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("FAILURE_CLIENT_SCOPE_CHECK"));
    let body = resp.text().await.unwrap_or_default();
    Ok(match status {
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
pub(crate) async fn tenant_info(http: &reqwest::Client, site: &SiteUrl) -> Result<CloudId> {
    let url = site.join("/_edge/tenant_info");
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| ClientError::Transport {
            message: format!("{} ({})", e.without_url(), site),
            may_have_been_sent: false,
        })?;
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        return Err(ClientError::Config(format!(
            "{site}/_edge/tenant_info answered HTTP {status}; is {site} a Confluence Cloud site? \
             Set CONFLUENCE_CLOUD_ID to skip this lookup"
        )));
    }
    let info: TenantInfo = resp.json().await.map_err(|e| ClientError::Decode {
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
    gateway: &BaseUrl,
    bearer: &str,
) -> Result<Vec<AccessibleResource>> {
    let resp = http
        .get(gateway.join("/oauth/token/accessible-resources"))
        .bearer_auth(bearer)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| ClientError::Transport {
            message: e.without_url().to_string(),
            may_have_been_sent: false,
        })?;
    let status = resp.status().as_u16();
    if status == 401 {
        return Err(ClientError::Unauthorized {
            credential: CredentialKind::AccessToken,
            reason: AuthFailure::Invalid,
        });
    }
    if !resp.status().is_success() {
        return Err(ClientError::Upstream {
            status,
            message: "accessible-resources failed".into(),
        });
    }
    resp.json().await.map_err(|e| ClientError::Decode {
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
    endpoints: &Endpoints,
    config: CredentialConfig,
) -> Result<Credential> {
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
                        accessible_resources(http, &endpoints.gateway, token.expose()).await?;
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
                    match probe(http, &site.join(PROBE_PATH), &email, token.expose()).await? {
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
                                None => tenant_info(http, &site).await?,
                            };
                            scoped(http, endpoints, email, token, cloud_id, scopes, true).await
                        }
                    }
                }
                (_, site) => {
                    let cloud_id = match (cloud_id, site) {
                        (Some(c), _) => c,
                        (None, Some(site)) => tenant_info(http, &site).await?,
                        (None, None) => {
                            return Err(ClientError::Config(
                                "set CONFLUENCE_URL (the site) or CONFLUENCE_CLOUD_ID".into(),
                            ));
                        }
                    };
                    let verify = kind == TokenKindHint::Detect;
                    scoped(http, endpoints, email, token, cloud_id, scopes, verify).await
                }
            }
        }
    }
}

async fn scoped(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    email: String,
    token: conflux_types::Secret,
    cloud_id: CloudId,
    scopes: Option<ScopeSet>,
    verify: bool,
) -> Result<Credential> {
    if verify {
        let url = format!(
            "{}/ex/confluence/{cloud_id}{PROBE_PATH}",
            endpoints.gateway.as_str()
        );
        match probe(http, &url, &email, token.expose()).await? {
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
