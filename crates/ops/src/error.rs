//! `OpError`: what failed, in Confluence terms, and the exact fix.

use conflux_client::{ClientError, ErrorKind};

/// The crate's result type.
pub type Result<T, E = OpError> = std::result::Result<T, E>;

/// Coarse classes of failure; the MCP layer and the CLI pick their wording and codes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OpErrorKind {
    /// A parameter is missing or wrong; nothing was sent.
    InvalidInput,
    /// Conflux's own policy (read-only mode, space lists) refused the call; nothing was sent.
    Policy,
    MissingScopes,
    Unauthorized,
    Forbidden,
    NotFound,
    VersionConflict,
    RateLimited,
    Upstream,
    Transport,
    Other,
}

/// A failed operation: `message` says what failed, `hint` says what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct OpError {
    pub kind: OpErrorKind,
    pub message: String,
    pub hint: String,
    /// For version conflicts: the page's current version, when known.
    pub current_version: Option<u64>,
}

impl OpError {
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> OpError {
        OpError {
            kind: OpErrorKind::InvalidInput,
            message: message.into(),
            hint: hint.into(),
            current_version: None,
        }
    }

    pub fn policy(message: impl Into<String>, hint: impl Into<String>) -> OpError {
        OpError {
            kind: OpErrorKind::Policy,
            message: message.into(),
            hint: hint.into(),
            current_version: None,
        }
    }

    pub fn other(message: impl Into<String>, hint: impl Into<String>) -> OpError {
        OpError {
            kind: OpErrorKind::Other,
            message: message.into(),
            hint: hint.into(),
            current_version: None,
        }
    }
}

impl From<ClientError> for OpError {
    fn from(e: ClientError) -> Self {
        let kind = match e.kind() {
            ErrorKind::MissingScopes => OpErrorKind::MissingScopes,
            ErrorKind::Unauthorized => OpErrorKind::Unauthorized,
            ErrorKind::Forbidden => OpErrorKind::Forbidden,
            ErrorKind::NotFound | ErrorKind::Gone => OpErrorKind::NotFound,
            ErrorKind::VersionConflict => OpErrorKind::VersionConflict,
            ErrorKind::RateLimited => OpErrorKind::RateLimited,
            ErrorKind::Upstream => OpErrorKind::Upstream,
            ErrorKind::Transport => OpErrorKind::Transport,
            ErrorKind::InvalidInput | ErrorKind::BadRequest | ErrorKind::Config => {
                OpErrorKind::InvalidInput
            }
        };
        let current_version = match &e {
            ClientError::VersionConflict { current, .. } => *current,
            _ => None,
        };
        OpError {
            kind,
            message: e.to_string(),
            hint: e.hint(),
            current_version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_connected_keeps_the_exact_message_and_the_reconnect_url() {
        let e: OpError = ClientError::NotConnected {
            reconnect_url: "https://conflux.example/".into(),
        }
        .into();
        assert_eq!(e.kind, OpErrorKind::Unauthorized);
        assert_eq!(
            e.message,
            "Confluence is not connected for this user: reconnect at https://conflux.example/"
        );
        assert!(e.hint.contains("https://conflux.example/"), "{}", e.hint);
    }

    #[test]
    fn version_conflict_keeps_the_number_and_the_fix() {
        let e: OpError = ClientError::VersionConflict {
            current: Some(7),
            message: "stale".into(),
        }
        .into();
        assert_eq!(e.kind, OpErrorKind::VersionConflict);
        assert_eq!(e.current_version, Some(7));
        assert!(e.hint.contains("send version 8"), "{}", e.hint);
    }
}
