//! OAuth 2.0 (3LO) against Atlassian's identity service, per person, over the connection store.
//!
//! Signing in is connecting: [`OAuthFlow::begin`] stores a single-use `state` bound to the
//! browser session and a PKCE verifier, and returns the `/authorize` URL
//! (`audience=api.atlassian.com`, `prompt=consent`, `offline_access`, S256 challenge).
//! [`OAuthFlow::complete`] takes the callback, exchanges the code with the client secret,
//! refuses a grant that does not cover the tenant's site (only its members sign in), asks
//! Confluence who signed in (v1 `user/current` through the gateway) and stores the connection
//! under that Atlassian account id. [`OAuthFlow::client_for`] hands out a
//! `conflux_client::Client` whose token refreshes through the store: rotating refresh tokens,
//! one refresh per connection across tasks and processes, the connection dropped when
//! Atlassian refuses the refresh token.
//!
//! Depends on the client, the store and the value types; never reads environment variables.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn conflux_store::TokenStore>) -> conflux_oauth::Result<()> {
//! use conflux_oauth::{Callback, OAuthConfig, OAuthFlow};
//! use conflux_store::{ConnectionKey, TenantId, UserId};
//! use conflux_types::Secret;
//! let config = OAuthConfig::new(
//!     conflux_client::Endpoints::atlassian(),
//!     "https://conflux.example.com/callback".into(),
//!     "https://conflux.example.com/".into(),
//! );
//! let flow = OAuthFlow::new(store, config)?;
//! let tenant = TenantId::new("acme")?;
//! let session = Secret::new("browser-session-id".to_string());
//! let start = flow.begin(&tenant, &session, "address-digest", None).await?;
//! println!("send the browser to {}", start.url);
//! // ... later, in the callback handler:
//! let signed_in = flow.complete(&session, &Callback::from_query("code=...&state=...")).await?;
//! println!("{} connected to {}", signed_in.display_name, signed_in.connection.site.url);
//! let who = ConnectionKey::new(tenant, UserId::new(signed_in.account_id)?);
//! let client = flow.client_for(&who, conflux_client::ClientConfig::default()).await?;
//! # Ok(()) }
//! ```

mod error;
mod flow;
mod identity;
pub mod observe;
mod refresh;

pub use error::{OAuthError, Result};
pub use flow::{
    AppCredentials, AuthorizationRequest, Callback, OAuthConfig, OAuthFlow, ResolvedApp,
    SIGN_IN_SCOPE, SignedIn,
};
pub use observe::{REFRESH_DURATION, REFRESHES, describe_metrics};
