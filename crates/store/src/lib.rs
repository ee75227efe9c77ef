//! The connection store: per-person OAuth connections, sign-ins in flight, per-tenant app
//! settings and the agent allowlist ([`TokenStore`]), and everything that says who may use
//! Conflux: sessions, MCP clients, grants, tokens, access keys ([`AuthStore`]); on SQLite
//! (embedded, the default) or Postgres.
//!
//! Both backends share one schema (each owns its migrations directory) and one set of
//! runtime queries. Tokens and client secrets are sealed with XChaCha20-Poly1305 under a key
//! the caller supplies and the store never writes, so a copy of the database alone reveals no
//! token. [`TokenStore::refresh_locked`] is the primitive that makes OAuth refresh
//! single-flight across processes: it holds the row's lock (`SELECT … FOR UPDATE` on
//! Postgres, `BEGIN IMMEDIATE` on SQLite) while the caller refreshes.
//!
//! This crate knows nothing of HTTP or of Atlassian's identity service (that is
//! `conflux-oauth`) and never reads environment variables.
//!
//! ```no_run
//! # async fn demo() -> conflux_store::Result<()> {
//! use conflux_store::{ConnectionKey, EncryptionKey, SqlStore, TenantId, TokenStore, UserId};
//! let key = EncryptionKey::load_or_create(std::path::Path::new("/var/lib/conflux/store.key"))?;
//! let store = SqlStore::open("sqlite:///var/lib/conflux/conflux.db", key).await?;
//! let who = ConnectionKey::new(TenantId::new("acme")?, UserId::new("alice")?);
//! if let Some(connection) = store.connection(&who).await? {
//!     println!("alice is connected to {}", connection.site.url);
//! }
//! # Ok(()) }
//! ```

mod auth;
mod crypto;
mod error;
mod model;
pub mod observe;
mod sql;
#[cfg(feature = "test-support")]
pub mod testing;

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use conflux_types::Secret;

pub use auth::{
    AccessKey, AuthStore, ClientKind, CodeOutcome, McpAuthorization, McpCode, McpGrant, McpSession,
    McpToken, Pending, PendingCounts, Refusal, RotateOutcome, StoredClient, Subject, TokenKind,
    WebSession,
};
pub use crypto::EncryptionKey;
pub use error::{Result, StoreError};
pub use model::{
    AgentId, AllowedAgent, AppKind, AppSettings, AuthMode, Connection, ConnectionKey,
    ConnectionSummary, PendingAuthorization, SessionBinding, Site, TenantId, Tokens, UserId,
};
pub use observe::describe_metrics;
pub use sql::{Backend, SqlStore, default_database_path};

/// An error raised by a refresh step; handed back untouched in [`RefreshOutcome::Failed`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a refresh step decided, having seen the row under lock.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshStep {
    /// The stored tokens are good (another process refreshed them): change nothing.
    Keep,
    /// Store these tokens. A `None` refresh token keeps the stored one.
    Replace(Tokens),
    /// The grant is gone (revoked or expired): delete the connection.
    Drop,
}

/// The refresh step: given the row as it is under lock, decide what to store.
pub type RefreshFn = Box<
    dyn FnOnce(Connection) -> Pin<Box<dyn Future<Output = Result<RefreshStep, BoxError>> + Send>>
        + Send,
>;

/// What [`TokenStore::refresh_locked`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// No connection for this key.
    NotConnected,
    /// The step kept the row; here it is.
    Kept(Connection),
    /// The step stored new tokens; here is the new row.
    Replaced(Connection),
    /// The step dropped the connection.
    Dropped,
    /// The step failed; the row (and its still-valid refresh token) is untouched.
    Failed(BoxError),
}

/// Both halves of the store, as one object the server holds.
pub trait Store: TokenStore + AuthStore {}
impl<T: TokenStore + AuthStore> Store for T {}

/// Storage for connections, sign-ins in flight, app settings and the allowlist.
///
/// Implementations must make [`TokenStore::refresh_locked`] exclusive per connection across
/// every handle on the same database, in this process or another.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug + 'static {
    fn backend(&self) -> Backend;

    /// Proves the database answers and this process's key opens what it sealed (one read of
    /// the key check written at first open): what a readiness probe asks.
    async fn ping(&self) -> Result<()>;

    /// The connection for `key`, decrypted.
    async fn connection(&self, key: &ConnectionKey) -> Result<Option<Connection>>;

    /// Stores (or replaces) a connection; returns it as stored (generation and times set).
    async fn save_connection(
        &self,
        key: &ConnectionKey,
        display_name: Option<&str>,
        site: &Site,
        app: AppKind,
        tokens: &Tokens,
    ) -> Result<Connection>;

    /// Deletes a connection; returns whether one existed.
    async fn delete_connection(&self, key: &ConnectionKey) -> Result<bool>;

    /// A tenant's connections, without tokens.
    async fn list_connections(&self, tenant: &TenantId) -> Result<Vec<ConnectionSummary>>;

    /// Runs `step` on the connection while holding its lock, so that at most one refresh per
    /// connection runs at a time across every process sharing the database; whoever comes
    /// next sees the row as the first left it.
    async fn refresh_locked(&self, key: &ConnectionKey, step: RefreshFn) -> Result<RefreshOutcome>;

    async fn put_pending_authorization(&self, pending: &PendingAuthorization) -> Result<()>;

    /// Removes and returns the authorization started with `state`: a second call with the same
    /// state finds nothing.
    async fn take_pending_authorization(
        &self,
        state: &Secret,
    ) -> Result<Option<PendingAuthorization>>;

    /// Deletes sign-ins that expired before `now`; returns how many.
    async fn purge_expired(&self, now: SystemTime) -> Result<u64>;

    async fn app_settings(&self, tenant: &TenantId) -> Result<Option<AppSettings>>;

    async fn save_app_settings(&self, tenant: &TenantId, settings: &AppSettings) -> Result<()>;

    /// Adds (or relabels) an agent on the tenant's allowlist.
    async fn allow_agent(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        label: Option<&str>,
    ) -> Result<()>;

    /// Removes an agent; returns whether it was listed.
    async fn disallow_agent(&self, tenant: &TenantId, agent: &AgentId) -> Result<bool>;

    async fn allowed_agents(&self, tenant: &TenantId) -> Result<Vec<AllowedAgent>>;

    /// Whether `agent` may call: listed, or the tenant allows all agents.
    async fn is_agent_allowed(&self, tenant: &TenantId, agent: &AgentId) -> Result<bool>;

    /// Whether `agent` is on the tenant's allowlist (whatever "allow all" says).
    async fn is_agent_listed(&self, tenant: &TenantId, agent: &AgentId) -> Result<bool>;
}
