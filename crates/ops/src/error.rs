//! `OpError`: what failed, in Confluence terms, and the exact fix.

use std::sync::Arc;

use conflux_client::{ClientError, ErrorKind, MissingScopes, Surface};

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
    /// Confluence's refusal as the client classified it, when the error came from there.
    source: Option<Arc<ClientError>>,
}

impl OpError {
    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> OpError {
        OpError {
            kind: OpErrorKind::InvalidInput,
            message: message.into(),
            hint: hint.into(),
            current_version: None,
            source: None,
        }
    }

    pub fn policy(message: impl Into<String>, hint: impl Into<String>) -> OpError {
        OpError {
            kind: OpErrorKind::Policy,
            message: message.into(),
            hint: hint.into(),
            current_version: None,
            source: None,
        }
    }

    pub fn other(message: impl Into<String>, hint: impl Into<String>) -> OpError {
        OpError {
            kind: OpErrorKind::Other,
            message: message.into(),
            hint: hint.into(),
            current_version: None,
            source: None,
        }
    }
}

impl OpError {
    /// The client's error this one came from (Confluence's refusal, a transport failure).
    pub fn client_error(&self) -> Option<&ClientError> {
        self.source.as_deref()
    }

    /// The scopes a refusal names, when it was one for scopes.
    pub fn missing_scopes(&self) -> Option<&MissingScopes> {
        self.client_error().and_then(ClientError::missing_scopes)
    }

    /// The same error with its fix worded for `surface` (errors of Conflux's own are worded
    /// where they are made).
    pub fn for_surface(mut self, surface: Surface) -> OpError {
        if let Some(e) = &self.source {
            self.hint = e.hint_for(surface);
        }
        self
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
            source: Some(Arc::new(e)),
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

/// Every hint Conflux gives, on every surface, in one reviewed snapshot: a change of wording
/// shows up here, and a hint that names a flag where the caller has none stands out.
#[cfg(test)]
mod every_hint {
    use std::fmt::Write as _;
    use std::time::Duration;

    use conflux_catalog::{Operation, Scope, ScopeSet};
    use conflux_client::CredentialKind as C;
    use conflux_client::{AuthFailure, ClientError, MissingScopes, Surface};

    use crate::{Guard, policy_hint};

    fn missing(credential: C, exact: bool, despite: bool) -> ClientError {
        let granular: ScopeSet = [Scope::WritePageConfluence].into_iter().collect();
        ClientError::MissingScopes(Box::new(MissingScopes {
            operation: Operation::CreatePage,
            credential,
            missing_granular: granular,
            classic_alternative: ScopeSet::EMPTY,
            granted: exact.then_some(ScopeSet::EMPTY),
            exact,
            refused_despite_scopes: despite,
            proven_missing: ScopeSet::EMPTY,
        }))
    }

    fn client_errors() -> Vec<(String, ClientError)> {
        let mut all = Vec::new();
        for c in [C::ApiToken, C::ScopedApiToken, C::OAuth, C::AccessToken] {
            // Only Bearer tokens expire; API tokens are refused as invalid.
            let reasons: &[AuthFailure] = match c {
                C::OAuth | C::AccessToken => &[
                    AuthFailure::Invalid,
                    AuthFailure::Expired,
                    AuthFailure::ExpiredOrRevoked,
                ],
                _ => &[AuthFailure::Invalid],
            };
            for &reason in reasons {
                all.push((
                    format!("unauthorized {c:?} {reason:?}"),
                    ClientError::Unauthorized {
                        credential: c,
                        reason,
                    },
                ));
            }
            all.push((format!("missing scopes {c:?}"), missing(c, true, false)));
            all.push((
                format!("missing scopes {c:?}, unknown grant"),
                missing(c, false, false),
            ));
            all.push((
                format!("refused despite scopes {c:?}"),
                missing(c, true, true),
            ));
        }
        let op = Operation::GetPageById;
        all.extend([
            (
                "no published scope".to_string(),
                ClientError::NoPublishedScope {
                    operation: op,
                    credential: C::OAuth,
                },
            ),
            (
                "forbidden".into(),
                ClientError::Forbidden {
                    operation: op,
                    message: "m".into(),
                },
            ),
            (
                "not found".into(),
                ClientError::NotFound {
                    operation: op,
                    message: "m".into(),
                },
            ),
            (
                "version conflict".into(),
                ClientError::VersionConflict {
                    current: Some(4),
                    message: "m".into(),
                },
            ),
            (
                "gone".into(),
                ClientError::Gone {
                    operation: Operation::GetContentById,
                },
            ),
            (
                "rate limited".into(),
                ClientError::RateLimited {
                    retry_after: Some(Duration::from_secs(30)),
                    attempts: 4,
                },
            ),
            (
                "bad request".into(),
                ClientError::BadRequest {
                    operation: op,
                    message: "m".into(),
                },
            ),
            (
                "upstream".into(),
                ClientError::Upstream {
                    status: 503,
                    message: "m".into(),
                },
            ),
            (
                "transport, maybe sent".into(),
                ClientError::Transport {
                    message: "m".into(),
                    may_have_been_sent: true,
                },
            ),
            ("config".into(), ClientError::Config("m".into())),
            (
                "not connected".into(),
                ClientError::NotConnected {
                    reconnect_url: "https://conflux.example/".into(),
                },
            ),
        ]);
        all
    }

    #[test]
    fn every_hint_on_every_surface() {
        let mut text = String::new();
        for surface in [Surface::Cli, Surface::Stdio, Surface::Http] {
            let _ = writeln!(text, "## {surface:?}");
            for (what, e) in client_errors() {
                let _ = writeln!(text, "{what}: {}", e.hint_for(surface));
            }
            for guard in [
                Guard::ReadOnly,
                Guard::DenySpaces,
                Guard::AllowSpaces,
                Guard::ReadOnlySpaces,
            ] {
                let _ = writeln!(text, "policy {guard:?}: {}", policy_hint(surface, guard));
            }
        }
        // Callers of a hosted server hold none of its settings: no hint may tell them to
        // set a variable.
        let hosted = text.split("## Http").nth(1).unwrap_or_default();
        for line in hosted.lines() {
            if line.contains("CONFLUENCE_") || line.contains("CONFLUX_") {
                panic!("a hosted server's hint names a variable: {line}");
            }
        }
        insta::assert_snapshot!(text);
    }
}
