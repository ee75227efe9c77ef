//! Errors of the authorization server, each in the form its caller answers with.

use axum::http::StatusCode;
use conflux_store::StoreError;

/// A failure of the server itself (configuration, store).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthzError {
    #[error("authorization server configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An OAuth error answered as JSON (`{"error", "error_description"}`, RFC 6749 §5.2, RFC 7591
/// §3.2.2) with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthFailure {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// Seconds to wait, for rate limits.
    pub retry_after: Option<u64>,
}

impl OAuthFailure {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        OAuthFailure {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    pub(crate) fn bad(error: &'static str, description: impl Into<String>) -> Self {
        OAuthFailure::new(StatusCode::BAD_REQUEST, error, description)
    }

    pub(crate) fn server(e: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %e, "authorization server failure");
        OAuthFailure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the authorization server could not reach its store; try again shortly",
        )
    }
}

impl From<AuthzError> for OAuthFailure {
    fn from(e: AuthzError) -> Self {
        OAuthFailure::server(e)
    }
}

impl From<StoreError> for OAuthFailure {
    fn from(e: StoreError) -> Self {
        OAuthFailure::server(e)
    }
}

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// The client or its redirect URI cannot be trusted: say so on a page and never redirect
    /// (RFC 6749 §4.1.2.1).
    Show(String),
    /// Tell the client: send the browser to this URL (the client's redirect URI with `error`,
    /// `error_description`, `state` and `iss`).
    Redirect(String),
    /// Too many authorizations pending from this address, or in all.
    Busy(String),
    /// The store failed.
    Unavailable,
}

impl std::fmt::Display for AuthorizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthorizeError::Show(m) | AuthorizeError::Busy(m) => f.write_str(m),
            AuthorizeError::Redirect(_) => f.write_str("the request was sent back to the client"),
            AuthorizeError::Unavailable => {
                f.write_str("the authorization server could not reach its store; try again shortly")
            }
        }
    }
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "authorization request failed on the store");
        AuthorizeError::Unavailable
    }
}

impl From<AuthzError> for AuthorizeError {
    fn from(e: AuthzError) -> Self {
        tracing::warn!(error = %e, "authorization request failed");
        AuthorizeError::Unavailable
    }
}

/// Why a bearer credential on `/mcp` was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("the access token is unknown, expired or revoked")]
    Invalid,
    #[error("the access token was issued for another resource than this server's /mcp")]
    WrongAudience,
    #[error("the access token belongs to another tenant")]
    WrongTenant,
    #[error("the credential store could not be reached")]
    Store(#[from] StoreError),
}
