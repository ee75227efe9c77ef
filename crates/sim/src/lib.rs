//! conflux-sim: a local simulator of Confluence Cloud, faithful enough to test a connector
//! against, with switches for the quirks Cloud has today.
//!
//! Four faces on four loopback listeners, so a client can never confuse them:
//! - **site** (`https://{name}.atlassian.net`): v1 `/wiki/rest/api/...`, v2 `/wiki/api/v2/...`,
//!   the download servlet `/wiki/download/attachments/...`, `/_edge/tenant_info`;
//! - **gateway** (`https://api.atlassian.com`): `/ex/confluence/{cloudId}/wiki/...` (same routes)
//!   and `/oauth/token/accessible-resources`;
//! - **identity** (`https://auth.atlassian.com`): `/authorize` and `/oauth/token`;
//! - **admin**: a JSON API to set up scenarios (tokens, users, permissions, switches, faults,
//!   rate limits, the simulated clock). See `docs/simulator.md`.
//!
//! Scope checks use the simulator's own reading of `scopes.tsv` (never `conflux-catalog`), so a
//! bug in the client's table cannot hide itself. The only crate of ours it imports is
//! `conflux-cql`, for search.
//!
//! ```no_run
//! # async fn demo() -> Result<(), conflux_sim::SimError> {
//! let sim = conflux_sim::spawn(conflux_sim::SimConfig::demo(7)).await?;
//! let info = sim.info();
//! println!("{}", serde_json::to_string(&info).unwrap_or_default());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod analytics;
mod api;
mod config;
mod content;
mod copy;
pub mod demo;
mod error;
pub mod fixture;
mod handler;
mod http;
mod identity;
mod info;
mod links;
mod people;
mod render;
mod restrict;
mod router;
mod scopes;
mod search;
mod server;
mod state;
mod templates;
mod v1;
mod v2;

pub use config::{Behaviour, FailNext, Faults, Ports, PublicUrls, RateLimit, SimConfig};
pub use error::{Result, SimError};
pub use fixture::Fixture;
pub use info::{Account, BasicCredential, OAuthClientInfo, ScopedToken, ScopedTokens, SimInfo};
pub use server::{SimHandle, spawn};
