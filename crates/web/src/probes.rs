//! `/healthz` and `/readyz`, for load balancers and process managers.
//!
//! - `/healthz`: the process answers (200, always, with no I/O).
//! - `/readyz`: this replica can serve: the store answers and the encryption key in memory
//!   opens what the store sealed (200, else 503). Whether Confluence answers is reported
//!   (`confluence`), but never makes the replica unready: an Atlassian outage must not empty
//!   the pool, since every replica would see the same outage and pages and sign-in still work.
//!   The Confluence check (`GET {site}/_edge/tenant_info`, no credential) runs in the
//!   background at most every [`CONFLUENCE_EVERY`]; the probe answers from its last result.
//!
//! Both skip the `Host` and `Origin` guard: probes address a replica by its pod or VM address,
//! which is not the public URL's host. They say nothing that needs guarding: no URL, no
//! error text, no count, only `ok`-style words. The store is asked at most once every
//! [`STORE_EVERY`], however often the probe is called: a flood of probes on the public address
//! cannot become a flood of queries.
//!
//! `/metrics` on the public address ([`metrics_router`]) is for deployments that cannot open a
//! second port: it answers only a request carrying the admin token (`Authorization: Bearer`),
//! and does not exist when no admin token is set. Prometheus sends the token with
//! `authorization: {credentials_file: …}`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use conflux_client::{ClientConfig, CredentialConfig};
use conflux_types::{Secret, SiteUrl};
use serde_json::json;
use subtle::ConstantTimeEq as _;

use crate::provider::Deployment;

/// How long a Confluence check result is used before the next probe starts another.
pub(crate) const CONFLUENCE_EVERY: Duration = Duration::from_secs(30);
/// Longest wait for the store before the replica counts as unready.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a store check's result answers the probes that follow it.
pub(crate) const STORE_EVERY: Duration = Duration::from_secs(1);
/// Longest wait for Confluence's answer in a check.
const CONFLUENCE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the last Confluence check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Confluence {
    /// Not checked yet (the first check is under way).
    Unknown,
    /// No site is configured, so there is nothing to reach.
    NotConfigured,
    Reachable,
    Unreachable,
}

impl Confluence {
    fn name(self) -> &'static str {
        match self {
            Confluence::Unknown => "unknown",
            Confluence::NotConfigured => "not_configured",
            Confluence::Reachable => "reachable",
            Confluence::Unreachable => "unreachable",
        }
    }
}

/// What the last store check found: the store's word and the key's.
type StoreCheck = (&'static str, &'static str);

#[derive(Debug)]
pub(crate) struct Probes {
    deployment: Arc<Deployment>,
    /// The last check and when it ended; `checking` while one runs.
    confluence: Mutex<(Confluence, Option<Instant>, bool)>,
    /// The last store check and when it ended. Held across a check, so that probes arriving
    /// meanwhile wait for its result instead of starting their own.
    store: tokio::sync::Mutex<Option<(Instant, StoreCheck)>>,
}

impl Probes {
    pub(crate) fn new(deployment: Arc<Deployment>) -> Probes {
        Probes {
            deployment,
            confluence: Mutex::new((Confluence::Unknown, None, false)),
            store: tokio::sync::Mutex::new(None),
        }
    }

    /// The store's state, from a check at most [`STORE_EVERY`] old.
    async fn store(&self) -> StoreCheck {
        let mut last = self.store.lock().await;
        if let Some((at, found)) = *last
            && at.elapsed() < STORE_EVERY
        {
            return found;
        }
        let found = match tokio::time::timeout(STORE_TIMEOUT, self.deployment.store.ping()).await {
            Ok(Ok(())) => ("ok", "ok"),
            Ok(Err(conflux_store::StoreError::WrongKey)) => ("ok", "wrong_key"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the store did not answer");
                ("unreachable", "unknown")
            }
            Err(_) => {
                tracing::warn!("readiness: the store did not answer in time");
                ("timeout", "unknown")
            }
        };
        *last = Some((Instant::now(), found));
        found
    }

    /// The last Confluence result; starts a check in the background when it is stale.
    fn confluence(self: &Arc<Self>) -> Confluence {
        let mut c = self.confluence.lock().unwrap_or_else(|p| p.into_inner());
        let stale = c.1.is_none_or(|at| at.elapsed() >= CONFLUENCE_EVERY);
        if stale && !c.2 {
            c.2 = true;
            let probes = self.clone();
            tokio::spawn(async move {
                let found = probes.check_confluence().await;
                let mut c = probes.confluence.lock().unwrap_or_else(|p| p.into_inner());
                *c = (found, Some(Instant::now()), false);
            });
        }
        c.0
    }

    async fn check_confluence(&self) -> Confluence {
        let d = &self.deployment;
        let from_settings = match d.settings().await {
            Ok(s) => s.site_url.filter(|u| !u.trim().is_empty()),
            Err(_) => None,
        };
        let site = from_settings
            .and_then(|u| SiteUrl::parse(&u).ok())
            .or_else(|| match &d.fallback {
                Some(
                    CredentialConfig::ApiToken { site, .. }
                    | CredentialConfig::AccessToken { site, .. },
                ) => site.clone(),
                _ => None,
            });
        let Some(site) = site else {
            return Confluence::NotConfigured;
        };
        // A readiness check reports what it sees now: one attempt, no retry.
        let config = ClientConfig {
            timeout: CONFLUENCE_TIMEOUT,
            retry: conflux_client::RetryPolicy::once(),
            ..d.client.clone()
        };
        match conflux_client::site_cloud_id(&site, &config).await {
            Ok(_) => Confluence::Reachable,
            Err(e) => {
                tracing::info!(error = %e, "readiness: Confluence did not answer the site check");
                Confluence::Unreachable
            }
        }
    }
}

pub(crate) fn router(probes: Arc<Probes>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(probes)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, json!({ "status": "ok" }))
}

async fn readyz(State(probes): State<Arc<Probes>>) -> Response {
    let confluence = probes.confluence();
    let (store, key) = probes.store().await;
    let ready = store == "ok" && key == "ok";
    json_response(
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        json!({
            "status": if ready { "ready" } else { "unready" },
            "store": store,
            "encryption_key": key,
            "confluence": confluence.name(),
        }),
    )
}

/// What writes the figures `/metrics` serves: the binary's Prometheus recorder.
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// The `Content-Type` of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics` for the holder of `admin_token`; nothing when there is none.
pub(crate) fn metrics_router(admin_token: Option<Secret>, render: RenderMetrics) -> axum::Router {
    let Some(token) = admin_token.filter(|t| !t.is_empty()) else {
        return axum::Router::new();
    };
    let token = Arc::new(token);
    axum::Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let (token, render) = (token.clone(), render.clone());
            async move { scrape(&headers, &token, &*render) }
        }),
    )
}

/// Whether `headers` carry `Authorization: Bearer <expected>` (compared in constant time).
fn bearer_is(headers: &HeaderMap, expected: &Secret) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .unwrap_or("");
    let expected = expected.expose().as_bytes();
    given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected))
}

fn scrape(
    headers: &HeaderMap,
    token: &Secret,
    render: &(dyn Fn() -> String + Send + Sync),
) -> Response {
    if !bearer_is(headers, token) {
        tracing::info!("metrics scrape refused: no admin token, or not the right one");
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "/metrics on this address needs the admin token (Authorization: Bearer).\n",
        )
            .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"conflux-metrics\""),
        );
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        return r;
    }
    let mut r = ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], render()).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_admin_token_as_bearer_reads_the_metrics() {
        let token = Secret::new("a".repeat(40));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(bearer_is(
            &with(&format!("Bearer {}", "a".repeat(40))),
            &token
        ));
        assert!(bearer_is(
            &with(&format!("bearer  {}", "a".repeat(40))),
            &token
        ));
        assert!(!bearer_is(&HeaderMap::new(), &token));
        assert!(!bearer_is(&with(&"a".repeat(40)), &token));
        assert!(!bearer_is(
            &with(&format!("Basic {}", "a".repeat(40))),
            &token
        ));
        assert!(!bearer_is(
            &with(&format!("Bearer {}", "a".repeat(39))),
            &token
        ));
        assert!(!bearer_is(
            &with(&format!("Bearer {}b", "a".repeat(40))),
            &token
        ));
        assert!(!bearer_is(&with("Bearer "), &token));
    }
}
