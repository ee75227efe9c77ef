//! One error type whose variants a caller can act on. Each carries what failed in Confluence
//! terms (its `Display`) and [`ClientError::hint`], the exact next step.

use std::time::Duration;

use conflux_catalog::{Operation, ScopeKind, ScopeSet};

use crate::credential::CredentialKind;

/// The crate's result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Scopes an operation needs that the credential does not hold.
#[derive(Debug, Clone)]
pub struct MissingScopes {
    pub operation: Operation,
    pub credential: CredentialKind,
    /// Granular scopes the operation needs that were not granted (all of them when unknown).
    pub missing_granular: ScopeSet,
    /// The classic alternative, when the operation has one.
    pub classic_alternative: ScopeSet,
    /// What the credential holds, when that can be known (OAuth grants, configured scopes).
    pub granted: Option<ScopeSet>,
    /// Whether `missing_granular` is exactly what is missing; otherwise the credential lacks at
    /// least one of them (a scoped token's scopes cannot be read, and not every scope has a read
    /// that proves it held).
    pub exact: bool,
    /// Confluence said "scope does not match" although the credential is known to hold every
    /// scope the operation lists: the endpoint is closed to this kind of credential (seed 002
    /// reports this for scoped tokens and attachment downloads).
    pub refused_despite_scopes: bool,
    /// Of `missing_granular`, those a read proved missing (the rest could not be checked
    /// without writing).
    pub proven_missing: ScopeSet,
}

impl MissingScopes {
    fn scope_list(set: ScopeSet) -> String {
        set.names()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn message(&self) -> String {
        let op = self.operation.operation_id();
        let list = Self::scope_list(self.missing_granular);
        let cred = self.credential.describe();
        if self.refused_despite_scopes {
            return format!(
                "{op} was refused with \"scope does not match\" although this {cred} holds {list}"
            );
        }
        if self.exact {
            let holds = match self.granted {
                Some(g) if g.is_empty() => " (it holds no Confluence scope)".to_string(),
                Some(g) if g.len() <= 8 => format!(" (it holds {})", Self::scope_list(g)),
                Some(g) => format!(" (it holds {} other scopes)", g.len()),
                None => String::new(),
            };
            format!("{op} needs scope(s) this {cred} does not hold: {list}{holds}")
        } else if !self.proven_missing.is_empty() {
            let unproven = self.missing_granular.difference(self.proven_missing);
            let rest = if unproven.is_empty() {
                String::new()
            } else {
                format!(
                    ", and may lack {} (that cannot be checked without writing)",
                    Self::scope_list(unproven)
                )
            };
            format!(
                "{op} needs scope(s) {list}: this {cred} lacks {}{rest}",
                Self::scope_list(self.proven_missing)
            )
        } else if self.missing_granular.len() == 1 {
            format!(
                "{op} was refused for scopes: this {cred} lacks {list}, or this site refuses \
                 v1 endpoints such as this one to scoped credentials whatever they hold"
            )
        } else {
            format!(
                "{op} needs scope(s) {list}, and this {cred} lacks at least one of them \
                 (`conflux doctor` finds out which)"
            )
        }
    }

    fn hint(&self) -> String {
        if self.refused_despite_scopes {
            let extra = if self.operation == Operation::DownloadAttatchment {
                "; the attachment's metadata and download link (attachments get) still work"
            } else {
                ""
            };
            return format!(
                "Confluence Cloud does not open this endpoint to {} even with the right scopes; \
                 use a classic API token on the site URL for it{extra}",
                self.credential.with_article()
            );
        }
        let add = Self::scope_list(self.missing_granular);
        let classic = if self.classic_alternative.is_empty() {
            String::new()
        } else {
            format!(
                " (or the classic {})",
                Self::scope_list(self.classic_alternative)
            )
        };
        match self.credential {
            CredentialKind::ScopedApiToken if !self.exact && self.missing_granular.len() == 1 => {
                format!(
                    "if the token lacks {add}, create a new scoped API token that includes it{classic} at \
                 https://id.atlassian.com/manage-profile/security/api-tokens; if it holds it, only a \
                 classic API token on the site URL opens this endpoint"
                )
            }
            CredentialKind::ScopedApiToken => format!(
                "create a new scoped API token that includes {add}{classic} at \
                 https://id.atlassian.com/manage-profile/security/api-tokens, or use a classic API token"
            ),
            CredentialKind::OAuth => format!(
                "add {add}{classic} to the app's permissions in the Atlassian developer console \
                 (https://developer.atlassian.com/console/myapps/), then reconnect so the new grant takes effect"
            ),
            _ => format!("the token must hold {add}{classic}; issue one that does"),
        }
    }
}

/// Why Confluence did not accept the credential at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Wrong, revoked or unknown credentials.
    Invalid,
    /// An OAuth access token that has expired and could not be refreshed.
    Expired,
    /// A Bearer token the gateway no longer knows: expired or revoked (it does not say which).
    ExpiredOrRevoked,
}

/// Where an error is shown, which decides how its fix is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// `conflux ...` on the person's own machine: flags and variables.
    #[default]
    Cli,
    /// `conflux serve` started by an MCP client: its configuration in that client.
    Stdio,
    /// `conflux serve --http`: callers who neither run the server nor hold its settings.
    Http,
}

/// Everything that can go wrong talking to Confluence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("{}", .0.message())]
    MissingScopes(Box<MissingScopes>),

    #[error("{operation} is not open to any {credential}: Atlassian publishes no scope for it",
        operation = .operation.operation_id(), credential = .credential.describe())]
    NoPublishedScope {
        operation: Operation,
        credential: CredentialKind,
    },

    #[error("Confluence refused the {} ({})", .credential.describe(), match .reason {
        AuthFailure::Invalid => "unknown, wrong or revoked credentials",
        AuthFailure::Expired => "the access token has expired",
        AuthFailure::ExpiredOrRevoked => "the access token has expired or been revoked",
    })]
    Unauthorized {
        credential: CredentialKind,
        reason: AuthFailure,
    },

    #[error("permission denied: {message}")]
    Forbidden {
        operation: Operation,
        message: String,
    },

    #[error("not found: {message}")]
    NotFound {
        operation: Operation,
        message: String,
    },

    #[error("version conflict: {message}")]
    VersionConflict {
        current: Option<u64>,
        message: String,
    },

    #[error("{operation} has been retired on this route (410 Gone)", operation = .operation.operation_id())]
    Gone { operation: Operation },

    #[error("rate limited by Confluence after {attempts} attempt(s)")]
    RateLimited {
        retry_after: Option<Duration>,
        attempts: u32,
    },

    #[error("Confluence rejected the request: {message}")]
    BadRequest {
        operation: Operation,
        message: String,
    },

    #[error("Confluence failed with HTTP {status}: {message}")]
    Upstream { status: u16, message: String },

    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The request URL is longer than Confluence (or the configured limit) accepts: a long CQL
    /// query, most often. Nothing was applied; sending it again cannot help.
    #[error("invalid input: the request URL would be {length} bytes, {}", match .limit {
        Some(l) => format!("over the limit of {l} bytes"),
        None => "longer than Confluence accepts (HTTP 414)".to_string(),
    })]
    UrlTooLong { length: usize, limit: Option<usize> },

    #[error("could not reach Confluence: {message}")]
    Transport {
        message: String,
        may_have_been_sent: bool,
    },

    /// A write whose answer was lost (or was a 5xx) and that no lookup can confirm or rule
    /// out: it may have been applied.
    #[error("unknown whether it was applied: {message}")]
    OutcomeUnknown { message: String, check: String },

    #[error("Confluence answered HTTP {status} with a body Conflux could not read: {excerpt}")]
    Decode { status: u16, excerpt: String },

    #[error("configuration: {0}")]
    Config(String),

    /// No OAuth connection for this user: never connected, disconnected, or the grant was
    /// revoked. The user signs in again at `reconnect_url`.
    #[error("Confluence is not connected for this user: reconnect at {reconnect_url}")]
    NotConnected { reconnect_url: String },
}

/// Coarse classes callers match on (exit codes, MCP error categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    MissingScopes,
    Unauthorized,
    Forbidden,
    NotFound,
    VersionConflict,
    Gone,
    RateLimited,
    BadRequest,
    Upstream,
    InvalidInput,
    Transport,
    Config,
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::MissingScopes(_) | ClientError::NoPublishedScope { .. } => {
                ErrorKind::MissingScopes
            }
            ClientError::Unauthorized { .. } | ClientError::NotConnected { .. } => {
                ErrorKind::Unauthorized
            }
            ClientError::Forbidden { .. } => ErrorKind::Forbidden,
            ClientError::NotFound { .. } => ErrorKind::NotFound,
            ClientError::VersionConflict { .. } => ErrorKind::VersionConflict,
            ClientError::Gone { .. } => ErrorKind::Gone,
            ClientError::RateLimited { .. } => ErrorKind::RateLimited,
            ClientError::BadRequest { .. } => ErrorKind::BadRequest,
            ClientError::Upstream { .. } | ClientError::Decode { .. } => ErrorKind::Upstream,
            ClientError::InvalidInput(_) | ClientError::UrlTooLong { .. } => {
                ErrorKind::InvalidInput
            }
            ClientError::Transport { .. } | ClientError::OutcomeUnknown { .. } => {
                ErrorKind::Transport
            }
            ClientError::Config(_) => ErrorKind::Config,
        }
    }

    /// Whether trying again later can succeed without changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ClientError::RateLimited { .. }
                | ClientError::Upstream { .. }
                | ClientError::Transport { .. }
        )
    }

    /// The next step in the words of the surface that shows it: the CLI names flags and
    /// variables; a local MCP server names its configuration in the MCP client; a hosted one
    /// names the configuration page, or whoever runs the server where the fix is theirs.
    pub fn hint_for(&self, surface: Surface) -> String {
        let by_operator = |what: &str| {
            format!("{what}: whoever runs this Conflux server must fix it; the caller cannot")
        };
        match (surface, self) {
            (Surface::Cli, _) => self.hint(),
            (
                Surface::Stdio,
                ClientError::Unauthorized {
                    credential: CredentialKind::ApiToken | CredentialKind::ScopedApiToken,
                    reason: AuthFailure::Invalid,
                },
            ) => "check CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN in the MCP client's \
                configuration of this server (its `env` block) and restart the server; the token \
                may have expired or been revoked at \
                https://id.atlassian.com/manage-profile/security/api-tokens"
                .to_string(),
            (
                Surface::Stdio,
                ClientError::Unauthorized {
                    credential: CredentialKind::AccessToken,
                    ..
                },
            ) => "put a fresh token in CONFLUENCE_ACCESS_TOKEN in the MCP client's configuration \
                of this server and restart the server"
                .to_string(),
            (Surface::Stdio, ClientError::Config(_)) => {
                "fix the server's configuration in the MCP \
                client (its command line or `env` block) as the message says, then restart it"
                    .to_string()
            }
            (
                Surface::Http,
                ClientError::Unauthorized {
                    credential: CredentialKind::OAuth,
                    ..
                },
            ) => "connect Confluence again on this server's page (sign in with Atlassian), then \
                call again"
                .to_string(),
            (Surface::Http, ClientError::Unauthorized { .. }) => {
                by_operator("the server's own Confluence credential was refused")
            }
            (Surface::Http, ClientError::Config(_)) => {
                by_operator("the server's configuration is incomplete")
            }
            (Surface::Http, ClientError::MissingScopes(m)) if m.refused_despite_scopes => m.hint(),
            (Surface::Http, ClientError::MissingScopes(m)) => match m.credential {
                CredentialKind::OAuth => format!(
                    "the Atlassian grant of this connection lacks {}: whoever runs this server \
                     adds it to the server's OAuth app (developer console), then connect again on \
                     this server's page",
                    MissingScopes::scope_list(m.missing_granular)
                ),
                _ => by_operator(&format!(
                    "the server's credential lacks {}",
                    MissingScopes::scope_list(m.missing_granular)
                )),
            },
            _ => self.hint(),
        }
    }

    /// The exact next step, in the CLI's words (flags and variables).
    pub fn hint(&self) -> String {
        match self {
            ClientError::MissingScopes(m) => m.hint(),
            ClientError::NoPublishedScope { .. } => "no scoped token or OAuth app can call this \
                endpoint; only a classic API token on the site URL (or Atlassian's own UI) can"
                .to_string(),
            ClientError::Unauthorized { reason: AuthFailure::Invalid, credential } => match credential {
                CredentialKind::ApiToken => "check the email and API token (--username and --token, \
                    or CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN); the token may have expired or been revoked at \
                    https://id.atlassian.com/manage-profile/security/api-tokens. A scoped API token is \
                    refused on the site URL: it only works through \
                    https://api.atlassian.com/ex/confluence/{cloudId}, so leave the token kind unset \
                    (Conflux detects it) or set CONFLUX_TOKEN_KIND=scoped"
                    .to_string(),
                CredentialKind::ScopedApiToken => "check the email and API token (--username and --token, \
                    or CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN); the token may have expired or been revoked at \
                    https://id.atlassian.com/manage-profile/security/api-tokens"
                    .to_string(),
                CredentialKind::OAuth => {
                    "the OAuth grant is no longer valid: reconnect Confluence to sign in again".to_string()
                }
                CredentialKind::AccessToken => {
                    "the access token is not valid: obtain a fresh one (CONFLUENCE_ACCESS_TOKEN)".to_string()
                }
            },
            ClientError::Unauthorized { reason: AuthFailure::ExpiredOrRevoked, credential: CredentialKind::AccessToken } => {
                "the access token has expired or been revoked: obtain a fresh one \
                    (CONFLUENCE_ACCESS_TOKEN)".to_string()
            }
            ClientError::Unauthorized { reason: AuthFailure::ExpiredOrRevoked, .. } => {
                "the access token has expired or been revoked and could not be refreshed: \
                    reconnect Confluence to sign in again".to_string()
            }
            ClientError::Unauthorized { reason: AuthFailure::Expired, .. } => {
                "the access token has expired: reconnect (OAuth) or supply a fresh token".to_string()
            }
            ClientError::Forbidden { .. } => "the account lacks permission for this in the space: ask a \
                space admin to grant it (Space settings → Permissions), or use another space"
                .to_string(),
            ClientError::NotFound { .. } => "check the id; Confluence also answers 404 when the account \
                may not view the content, so check the space permissions too"
                .to_string(),
            ClientError::VersionConflict { current: Some(n), .. } => format!(
                "the page changed since it was read (now version {n}): re-read it and send version {}",
                n + 1
            ),
            ClientError::VersionConflict { current: None, .. } => {
                "the page changed since it was read: re-read it and send the current version + 1".to_string()
            }
            ClientError::Gone { operation } => match crate::route::v2_replacement(*operation) {
                Some(v2) => format!(
                    "this endpoint was retired on the API gateway; Conflux uses v2 {} ({} {}) instead",
                    v2.operation_id(),
                    v2.method().as_str(),
                    v2.path()
                ),
                None => "this v1 endpoint was retired on the API gateway and v2 has no equivalent; \
                    use a classic API token on the site URL for it"
                    .to_string(),
            },
            ClientError::RateLimited { retry_after: Some(d), .. } => {
                format!("wait {}s and try again, or lower the request rate", d.as_secs().max(1))
            }
            ClientError::RateLimited { retry_after: None, .. } => {
                "wait a minute and try again, or lower the request rate".to_string()
            }
            ClientError::BadRequest { .. } => "fix the request as the message says".to_string(),
            ClientError::Upstream { .. } | ClientError::Decode { .. } => {
                "Confluence had a transient failure; try again shortly".to_string()
            }
            ClientError::InvalidInput(_) => "fix the input as the message says".to_string(),
            ClientError::UrlTooLong { .. } => "shorten the query (fewer terms, or split it into \
                several searches); the request was not sent or not applied"
                .to_string(),
            ClientError::Transport { may_have_been_sent: true, .. } => "check connectivity to the site; \
                the request may have been applied, so read before writing again"
                .to_string(),
            ClientError::Transport { .. } => "check the site URL and network connectivity".to_string(),
            ClientError::OutcomeUnknown { check, .. } => {
                format!("check {check} before sending it again: it may exist already")
            }
            ClientError::Config(_) => "fix the configuration as the message says".to_string(),
            ClientError::NotConnected { reconnect_url } => format!(
                "open {reconnect_url} in a browser and sign in with Atlassian (that connects \
                 Confluence again), then call again"
            ),
        }
    }

    /// The missing scopes, when that is what went wrong.
    pub fn missing_scopes(&self) -> Option<&MissingScopes> {
        match self {
            ClientError::MissingScopes(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn missing(
        operation: Operation,
        credential: CredentialKind,
        granted: Option<ScopeSet>,
    ) -> ClientError {
        let info = operation.info();
        let held = granted.unwrap_or(ScopeSet::EMPTY);
        let missing_granular = info.granular.difference(held);
        ClientError::MissingScopes(Box::new(MissingScopes {
            operation,
            credential,
            missing_granular: if missing_granular.is_empty() {
                info.granular
            } else {
                missing_granular
            },
            classic_alternative: info.classic,
            granted,
            // One scope refused is that scope missing, except on v1: some sites refuse v1
            // endpoints to scoped credentials whatever they hold (seed 002), and without the
            // grant in hand the two cannot be told apart.
            exact: granted.is_some()
                || (info.granular.len() <= 1 && info.api == conflux_catalog::ApiVersion::V2),
            proven_missing: ScopeSet::EMPTY,
            refused_despite_scopes: granted
                .is_some_and(|g| !info.granular.is_empty() && g.contains_all(info.granular)),
        }))
    }
}

impl From<conflux_types::UrlError> for ClientError {
    fn from(e: conflux_types::UrlError) -> Self {
        ClientError::Config(e.to_string())
    }
}

/// Keeps the kind of scope a verdict was satisfied with in logs.
pub(crate) fn kind_name(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::Classic => "classic",
        ScopeKind::Granular => "granular",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use conflux_catalog::Scope;

    #[test]
    fn missing_scope_names_the_scope_and_the_fix() {
        let granted: ScopeSet = [Scope::ReadSpaceConfluence].into_iter().collect();
        let e = ClientError::missing(Operation::GetPages, CredentialKind::OAuth, Some(granted));
        assert_eq!(
            e.to_string(),
            "getPages needs scope(s) this OAuth 2.0 (3LO) token does not hold: `read:page:confluence` \
             (it holds `read:space:confluence`)"
        );
        assert!(e.hint().contains("developer console"), "{}", e.hint());
        assert!(e.hint().contains("read:page:confluence"));
    }

    #[test]
    fn classic_alternative_is_offered() {
        let e = ClientError::missing(Operation::SearchByCQL, CredentialKind::ScopedApiToken, None);
        let hint = e.hint();
        assert!(hint.contains("`read:content-details:confluence`"), "{hint}");
        assert!(hint.contains("classic `search:confluence`"), "{hint}");
    }

    #[test]
    fn not_connected_names_the_reconnect_url() {
        let e = ClientError::NotConnected {
            reconnect_url: "https://conflux.example/".into(),
        };
        assert_eq!(
            e.to_string(),
            "Confluence is not connected for this user: reconnect at https://conflux.example/"
        );
        assert_eq!(e.kind(), ErrorKind::Unauthorized);
        assert!(
            e.hint().contains("https://conflux.example/"),
            "{}",
            e.hint()
        );
    }

    #[test]
    fn version_conflict_hint_gives_the_next_number() {
        let e = ClientError::VersionConflict {
            current: Some(4),
            message: "stale".into(),
        };
        assert!(e.hint().contains("send version 5"));
    }
}
