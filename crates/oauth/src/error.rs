//! The OAuth layer's error: what went wrong in words a user can act on, never a token.

use conflux_client::ClientError;
use conflux_store::StoreError;

/// The crate's result type.
pub type Result<T, E = OAuthError> = std::result::Result<T, E>;

/// Everything that can go wrong connecting or refreshing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// No OAuth app is available for this tenant.
    #[error("OAuth is not configured: {0}")]
    NotConfigured(String),

    /// The callback's `state` matches no sign-in in progress (tampered, replayed or expired).
    #[error(
        "this sign-in is unknown, already completed or expired (the `state` does not match one \
         in progress): start Connect again"
    )]
    UnknownState,

    /// The callback came from another browser session than the one that started it.
    #[error(
        "this sign-in was started from another browser session: start Connect again from this browser"
    )]
    SessionMismatch,

    /// The sign-in took longer than allowed.
    #[error("this sign-in expired before it was completed: start Connect again")]
    Expired,

    /// The user (or Atlassian) declined on the consent page.
    #[error("Atlassian did not grant access ({error}: {description})")]
    Denied { error: String, description: String },

    /// The callback carried neither a code nor an error.
    #[error("the callback carries no authorization code: start Connect again")]
    MissingCode,

    /// The token endpoint refused the code (reused, expired, PKCE verifier or redirect URI
    /// mismatch).
    #[error("Atlassian refused the authorization code: {description}; start Connect again")]
    CodeRejected { description: String },

    /// The token endpoint refused the app's credentials.
    #[error(
        "Atlassian refused the app's client id or secret: check them in the developer console \
         (https://developer.atlassian.com/console/myapps/) and in the configuration"
    )]
    ClientRejected,

    /// The token endpoint answered something else it should not have.
    #[error("Atlassian's token endpoint answered HTTP {status}: {message}")]
    TokenEndpoint { status: u16, message: String },

    /// The grant does not cover the tenant's site: the person is not one of its members.
    #[error(
        "the Atlassian account you signed in with has no access to this workspace's Confluence \
         site, so it cannot sign in here: sign in with your account on that site, or ask the \
         site's administrator for access"
    )]
    NotAMember,

    /// Confluence would not say who signed in.
    #[error("Confluence would not say which account signed in: {message}")]
    Identity { message: String },

    /// No usable connection: never connected, disconnected, or the grant was revoked.
    #[error("Confluence is not connected for this user: reconnect at {reconnect_url}")]
    NotConnected { reconnect_url: String },

    /// The identity service could not be reached or answered unreadably.
    #[error("could not talk to Atlassian's identity service: {0}")]
    Transport(String),

    #[error(transparent)]
    Store(#[from] StoreError),

    /// Building the Confluence client failed.
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl OAuthError {
    /// Whether trying again later, unchanged, can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            OAuthError::Transport(_) => true,
            OAuthError::TokenEndpoint { status, .. } => *status >= 500 || *status == 429,
            OAuthError::Store(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether the user must go through Connect again.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            OAuthError::NotConnected { .. }
                | OAuthError::UnknownState
                | OAuthError::SessionMismatch
                | OAuthError::Expired
                | OAuthError::CodeRejected { .. }
                | OAuthError::MissingCode
        )
    }

    /// The error as the Confluence client reports it (what a tool call sees).
    pub fn into_client_error(self) -> ClientError {
        match self {
            OAuthError::Client(e) => e,
            OAuthError::Transport(message) => ClientError::Transport {
                message: format!("Atlassian's identity service: {message}"),
                may_have_been_sent: true,
            },
            OAuthError::TokenEndpoint { status, message } if status >= 500 => {
                ClientError::Upstream {
                    status,
                    message: format!("token refresh failed: {message}"),
                }
            }
            OAuthError::NotConnected { reconnect_url } => {
                ClientError::NotConnected { reconnect_url }
            }
            OAuthError::NotConfigured(message) => {
                ClientError::Config(format!("OAuth is not configured: {message}"))
            }
            other => ClientError::Config(other.to_string()),
        }
    }
}
