//! OAuth 2.0 (3LO) against Atlassian's identity service, per user, over the connection store.
//!
//! [`OAuthFlow::begin`] stores a single-use `state` bound to the user's browser session and a
//! PKCE verifier, and returns the `/authorize` URL (`audience=api.atlassian.com`,
//! `prompt=consent`, `offline_access`, S256 challenge). [`OAuthFlow::complete`] takes the
//! callback, exchanges the code with the client secret, asks accessible-resources which sites
//! the grant covers, and stores the connection (or asks the user to pick a site).
//! [`OAuthFlow::client_for`] hands out a `conflux_client::Client` whose token refreshes
//! through the store: rotating refresh tokens, one refresh per connection across tasks and
//! processes, the connection dropped when Atlassian refuses the refresh token.
//!
//! Depends on the client, the store and the value types; never reads environment variables.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn conflux_store::TokenStore>) -> conflux_oauth::Result<()> {
//! use conflux_oauth::{Callback, Completion, OAuthConfig, OAuthFlow};
//! use conflux_store::{ConnectionKey, TenantId, UserId};
//! use conflux_types::Secret;
//! let config = OAuthConfig::new(
//!     conflux_client::Endpoints::atlassian(),
//!     "https://conflux.example.com/callback".into(),
//!     "https://conflux.example.com/".into(),
//! );
//! let flow = OAuthFlow::new(store, config)?;
//! let who = ConnectionKey::new(TenantId::new("acme")?, UserId::new("alice")?);
//! let session = Secret::new("browser-session-id".to_string());
//! let start = flow.begin(&who, &session).await?;
//! println!("send the browser to {}", start.url);
//! // ... later, in the callback handler:
//! match flow.complete(&session, &Callback::from_query("code=...&state=...")).await? {
//!     Completion::Connected(c) => println!("connected to {}", c.site.url),
//!     Completion::ChooseSite { sites, .. } => println!("{} sites to choose from", sites.len()),
//!     _ => {}
//! }
//! let client = flow.client_for(&who, conflux_client::ClientConfig::default()).await?;
//! # Ok(()) }
//! ```

mod error;
mod flow;
mod identity;
mod refresh;

pub use error::{OAuthError, Result};
pub use flow::{
    AppCredentials, AuthorizationRequest, Callback, Completion, OAuthConfig, OAuthFlow, ResolvedApp,
};
