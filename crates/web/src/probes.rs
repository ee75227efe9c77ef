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
//! error text, no count, only `ok`-style words.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use conflux_client::{ClientConfig, CredentialConfig};
use conflux_types::SiteUrl;
use serde_json::json;

use crate::provider::Deployment;

/// How long a Confluence check result is used before the next probe starts another.
pub(crate) const CONFLUENCE_EVERY: Duration = Duration::from_secs(30);
/// Longest wait for the store before the replica counts as unready.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);
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

#[derive(Debug)]
pub(crate) struct Probes {
    deployment: Arc<Deployment>,
    /// The last check and when it ended; `checking` while one runs.
    confluence: Mutex<(Confluence, Option<Instant>, bool)>,
}

impl Probes {
    pub(crate) fn new(deployment: Arc<Deployment>) -> Probes {
        Probes {
            deployment,
            confluence: Mutex::new((Confluence::Unknown, None, false)),
        }
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
        let config = ClientConfig {
            timeout: CONFLUENCE_TIMEOUT,
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
    let store = tokio::time::timeout(STORE_TIMEOUT, probes.deployment.store.ping()).await;
    let (store, key) = match store {
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
