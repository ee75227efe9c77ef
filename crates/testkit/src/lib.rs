//! conflux-testkit: what the workspace's tests share, so that each test crate states only what
//! it tests. Dev-only: a test crate names it under `[dev-dependencies]`, nothing else does.
//!
//! - [`Sim`]: a simulator started for one test, with its [`SimInfo`] and HTTP client;
//! - [`Admin`]: the simulator's admin API (tokens, users, switches, stats), also from a bare
//!   admin URL (a simulator started by another process);
//! - [`mcp`]: MCP client sessions and tool calls, over rmcp.
//!
//! Helpers panic with the call that failed: they run inside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod mcp;

use conflux_sim::{SimConfig, SimHandle, SimInfo};
use serde_json::{Value, json};

/// Installs rustls' `ring` provider for the process (reqwest is built without one); a second
/// call is a no-op.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A simulator started for one test; dropping it stops the simulator.
pub struct Sim {
    pub handle: SimHandle,
    pub info: SimInfo,
    pub http: reqwest::Client,
}

impl Sim {
    /// The demo site of `seed` with every default.
    pub async fn demo(seed: u64) -> Sim {
        Sim::start(SimConfig::demo(seed)).await
    }

    pub async fn start(config: SimConfig) -> Sim {
        install_crypto();
        let handle = conflux_sim::spawn(config).await.expect("simulator starts");
        let info = handle.info();
        Sim {
            handle,
            info,
            http: reqwest::Client::new(),
        }
    }

    /// The simulator's admin API.
    pub fn admin_api(&self) -> Admin {
        Admin {
            url: self.info.admin_url.clone(),
            http: self.http.clone(),
        }
    }

    /// See [`Admin::call`].
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.admin_api().call(method, path, body).await
    }

    /// See [`Admin::token`].
    pub async fn token(&self, body: Value) -> String {
        self.admin_api().token(body).await
    }

    /// See [`Admin::stats`].
    pub async fn stats(&self) -> Value {
        self.admin_api().stats().await
    }

    /// See [`Admin::behaviour`].
    pub async fn behaviour(&self, patch: Value) {
        self.admin_api().behaviour(patch).await;
    }
}

/// The simulator's admin API (`docs/simulator.md`, "Admin API"): every call must succeed.
#[derive(Clone)]
pub struct Admin {
    url: String,
    http: reqwest::Client,
}

impl Admin {
    /// The admin API at `admin_url` (`SimInfo::admin_url`).
    pub fn new(admin_url: &str) -> Admin {
        Admin {
            url: admin_url.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// `method {admin}{path}` with a JSON body; the answer's JSON (null when it has none).
    /// Panics unless the status is a success.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("admin {path}: {e}"));
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "admin {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, json!({})).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// A new API token (`POST /tokens`: `kind`, `email`, `scopes`, `expires_in`...).
    pub async fn token(&self, body: Value) -> String {
        let v = self.post("/tokens", body).await;
        v["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {v}"))
            .to_string()
    }

    /// The request counters (`GET /stats`).
    pub async fn stats(&self) -> Value {
        self.get("/stats").await
    }

    /// Turns the named switches of Cloud's quirks on or off (`PUT /behaviour`).
    pub async fn behaviour(&self, patch: Value) {
        self.call(reqwest::Method::PUT, "/behaviour", patch).await;
    }
}
