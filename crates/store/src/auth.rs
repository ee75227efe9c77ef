//! Who may use Conflux: signed-in people and maintainers, MCP clients, their grants, codes and
//! tokens, personal access keys, refused agents and the MCP sessions of older clients.
//!
//! Every secret here (session id, authorization code, access or refresh token, access key) is
//! stored only as its SHA-256 digest: the database never holds a credential that works. The
//! protocol around these rows is `conflux-authz`'s; this module only keeps them.

use std::fmt;
use std::time::SystemTime;

use conflux_types::Secret;

use crate::error::{Result, StoreError};
use crate::model::{TenantId, digest};

/// Whose authority a session, grant or key carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A person, by the Atlassian account id Atlassian gave for their sign-in.
    Account(String),
    /// The maintainer, signed in with the admin token (the token modes' approvals and keys).
    Maintainer,
}

impl Subject {
    /// The stored form: `account:<id>` or `maintainer`.
    pub fn to_stored(&self) -> String {
        match self {
            Subject::Account(id) => format!("account:{id}"),
            Subject::Maintainer => "maintainer".into(),
        }
    }

    pub fn from_stored(s: &str) -> Result<Subject> {
        match s.strip_prefix("account:") {
            Some(id) if !id.is_empty() => Ok(Subject::Account(id.to_string())),
            _ if s == "maintainer" => Ok(Subject::Maintainer),
            _ => Err(StoreError::Corrupt {
                what: "subject",
                detail: "neither an account nor the maintainer".into(),
            }),
        }
    }

    /// The account id, for a person.
    pub fn account_id(&self) -> Option<&str> {
        match self {
            Subject::Account(id) => Some(id),
            Subject::Maintainer => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Account(id) => write!(f, "account {id}"),
            Subject::Maintainer => f.write_str("the maintainer"),
        }
    }
}

/// A signed-in browser session. Stored under the digest of its id.
#[derive(Clone, Debug)]
pub struct WebSession {
    pub tenant: TenantId,
    pub subject: Subject,
    pub display_name: Option<String>,
    /// What the session is bound to besides its id: for a maintainer, the digest of the admin
    /// token in force at sign-in, so that changing the token signs every maintainer out.
    pub binding: Option<String>,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
}

/// How an MCP client identified itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// Its client id is the https URL of a Client ID Metadata Document.
    MetadataDocument,
    /// Registered through Dynamic Client Registration (RFC 7591).
    Registered,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::MetadataDocument => "metadata_document",
            ClientKind::Registered => "registered",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<ClientKind> {
        match s {
            "metadata_document" => Ok(ClientKind::MetadataDocument),
            "registered" => Ok(ClientKind::Registered),
            other => Err(StoreError::Corrupt {
                what: "client kind",
                detail: format!("unknown value `{other}`"),
            }),
        }
    }
}

/// An MCP client that has asked for access.
#[derive(Clone, Debug)]
pub struct StoredClient {
    pub client_id: String,
    pub kind: ClientKind,
    /// Its metadata as JSON (the document, or the registration as accepted).
    pub metadata: String,
    /// Digest of the address that registered it (dynamic registration's rate limit).
    pub origin: Option<String>,
    pub created_at: SystemTime,
    /// A metadata document is fetched again after this.
    pub cache_until: Option<SystemTime>,
    pub last_used_at: Option<SystemTime>,
    /// An unused registration is forgotten after this; using it clears the expiry.
    pub expires_at: Option<SystemTime>,
}

/// An MCP authorization request waiting for the person's sign-in and consent.
#[derive(Clone, Debug)]
pub struct McpAuthorization {
    pub id: Secret,
    pub tenant: TenantId,
    pub client_id: String,
    pub redirect_uri: String,
    /// The client's `state`, echoed back untouched.
    pub client_state: Option<String>,
    pub code_challenge: String,
    /// Conflux scopes asked for (space-separated).
    pub scope: String,
    /// The resource (RFC 8707) the tokens will be bound to.
    pub resource: String,
    /// Digest of the requesting address, for the per-address cap.
    pub origin: String,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
}

/// One consent: `subject` let `client_id` use the tools with `scope`.
#[derive(Clone, Debug)]
pub struct McpGrant {
    pub id: String,
    pub tenant: TenantId,
    pub client_id: String,
    pub subject: Subject,
    pub subject_name: Option<String>,
    pub scope: String,
    pub resource: String,
    pub created_at: SystemTime,
    pub last_used_at: Option<SystemTime>,
    pub revoked: bool,
}

/// An authorization code, single use.
#[derive(Clone, Debug)]
pub struct McpCode {
    pub code: Secret,
    pub grant_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub expires_at: SystemTime,
}

/// What taking a code found.
// Returned once per exchange and matched at once: boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum CodeOutcome {
    /// Unknown code.
    Unknown,
    /// The code was already used: whoever holds it now is not the client (RFC 6749 §4.1.2).
    Replayed { grant_id: String },
    /// First use: here it is, with its grant.
    Fresh(McpCode, McpGrant),
}

/// Access or refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<TokenKind> {
        match s {
            "access" => Ok(TokenKind::Access),
            "refresh" => Ok(TokenKind::Refresh),
            other => Err(StoreError::Corrupt {
                what: "token kind",
                detail: format!("unknown value `{other}`"),
            }),
        }
    }
}

/// A token as stored: its digest, its grant and its lifetime.
#[derive(Clone, Debug)]
pub struct McpToken {
    pub token_hash: String,
    pub grant_id: String,
    pub kind: TokenKind,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
    /// A refresh token is rotated once; a second use is theft.
    pub rotated_at: Option<SystemTime>,
}

impl McpToken {
    /// The digest a token is stored and looked up under.
    pub fn hash_of(token: &Secret) -> String {
        digest(token.expose())
    }
}

/// What rotating a refresh token found.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum RotateOutcome {
    Unknown,
    /// Already rotated: the family must be revoked.
    Reused {
        grant_id: String,
    },
    /// Rotated now; issue the next pair for this grant.
    Rotated {
        token: McpToken,
        grant: McpGrant,
    },
}

/// A personal access key (or a maintainer's agent key). The key itself is shown once.
#[derive(Clone, Debug)]
pub struct AccessKey {
    /// A short public id, shown in lists and used to revoke.
    pub id: String,
    pub key_hash: String,
    pub tenant: TenantId,
    pub subject: Subject,
    pub subject_name: Option<String>,
    pub name: String,
    pub read_only: bool,
    pub created_at: SystemTime,
    pub last_used_at: Option<SystemTime>,
}

/// An authenticated agent the allowlist refused lately.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub agent_id: String,
    /// What the maintainer sees beside the id (the client's name and metadata URL).
    pub label: Option<String>,
    pub last_at: SystemTime,
}

/// An MCP session of a client on a revision before 2026-07-28.
#[derive(Clone, Debug)]
pub struct McpSession {
    /// Digest of the caller it belongs to; requests from anyone else are refused.
    pub owner: Option<String>,
    /// rmcp's session state (the client's `initialize` parameters) as JSON.
    pub state: Option<String>,
    pub created_at: SystemTime,
    pub last_seen_at: SystemTime,
}

/// How many sign-ins are pending, from one address and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PendingCounts {
    pub from_origin: u64,
    pub total: u64,
}

/// Which pending sign-ins are counted: each kind has its own limits, so that requests anyone
/// can start (an MCP client's authorization) cannot use up the room of people signing in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// A person signing in with Atlassian (`/signin`).
    SignIn,
    /// An MCP client's authorization request waiting for consent (`/oauth/authorize`).
    Consent,
}

/// Storage for everything that says who may use Conflux.
#[async_trait::async_trait]
pub trait AuthStore: Send + Sync + fmt::Debug + 'static {
    // ---- sessions of the configuration page
    async fn create_web_session(&self, id: &Secret, session: &WebSession) -> Result<()>;
    /// The session, when it exists and has not expired at `now`.
    async fn web_session(&self, id: &Secret, now: SystemTime) -> Result<Option<WebSession>>;
    async fn delete_web_session(&self, id: &Secret) -> Result<bool>;

    /// Sign-ins (Atlassian) and MCP authorizations pending, from `origin` and in all.
    async fn pending_counts(
        &self,
        kind: Pending,
        origin: &str,
        now: SystemTime,
    ) -> Result<PendingCounts>;

    // ---- MCP clients
    async fn mcp_client(&self, client_id: &str) -> Result<Option<StoredClient>>;
    async fn save_mcp_client(&self, client: &StoredClient) -> Result<()>;
    /// Marks a client used (and so no longer expiring).
    async fn touch_mcp_client(&self, client_id: &str, now: SystemTime) -> Result<()>;
    /// Clients made known since `since` (registered, or named by a metadata document for the
    /// first time), from `origin` and in all.
    async fn registrations_since(&self, origin: &str, since: SystemTime) -> Result<PendingCounts>;
    /// Clients by id, for the maintainer's list.
    async fn mcp_clients(&self) -> Result<Vec<StoredClient>>;

    // ---- authorization requests, grants, codes, tokens
    async fn put_mcp_authorization(&self, a: &McpAuthorization) -> Result<()>;
    async fn mcp_authorization(&self, id: &Secret) -> Result<Option<McpAuthorization>>;
    /// Removes and returns it: a consent is answered once.
    async fn take_mcp_authorization(&self, id: &Secret) -> Result<Option<McpAuthorization>>;

    async fn create_mcp_grant(&self, grant: &McpGrant) -> Result<()>;
    async fn mcp_grant(&self, id: &str) -> Result<Option<McpGrant>>;
    /// The live grants of `subject` in `tenant`.
    async fn mcp_grants_of(&self, tenant: &TenantId, subject: &Subject) -> Result<Vec<McpGrant>>;
    /// Revokes a grant and with it every code and token it issued.
    async fn revoke_mcp_grant(&self, id: &str) -> Result<bool>;
    async fn touch_mcp_grant(&self, id: &str, now: SystemTime) -> Result<()>;

    async fn put_mcp_code(&self, code: &McpCode) -> Result<()>;
    /// Marks the code used, atomically: of two exchanges with one code, one gets it.
    async fn take_mcp_code(&self, code: &Secret) -> Result<CodeOutcome>;

    async fn put_mcp_token(&self, token: &McpToken) -> Result<()>;
    /// The token by its digest, with its grant.
    async fn mcp_token(&self, token_hash: &str) -> Result<Option<(McpToken, McpGrant)>>;
    /// Rotates a refresh token, atomically: of two refreshes with one token, one rotates it
    /// and the other finds it reused.
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        now: SystemTime,
    ) -> Result<RotateOutcome>;
    async fn delete_mcp_token(&self, token_hash: &str) -> Result<bool>;

    // ---- access keys
    async fn put_access_key(&self, key: &AccessKey) -> Result<()>;
    async fn access_key(&self, key_hash: &str) -> Result<Option<AccessKey>>;
    async fn access_keys_of(&self, tenant: &TenantId, subject: &Subject) -> Result<Vec<AccessKey>>;
    async fn delete_access_key(
        &self,
        tenant: &TenantId,
        subject: &Subject,
        id: &str,
    ) -> Result<bool>;
    async fn touch_access_key(&self, id: &str, now: SystemTime) -> Result<()>;

    // ---- refused agents
    /// Records a refusal; keeps the `keep` most recent per tenant.
    async fn record_refusal(&self, tenant: &TenantId, refusal: &Refusal, keep: usize)
    -> Result<()>;
    async fn refusals(&self, tenant: &TenantId) -> Result<Vec<Refusal>>;
    async fn forget_refusal(&self, tenant: &TenantId, agent_id: &str) -> Result<()>;

    // ---- MCP sessions of older clients
    async fn mcp_session(&self, id: &str) -> Result<Option<McpSession>>;
    async fn save_mcp_session_state(&self, id: &str, state: &str, now: SystemTime) -> Result<()>;
    /// Binds a session to its caller on first sight; returns the owner in force (the one
    /// given, or the one bound before).
    async fn bind_mcp_session(&self, id: &str, owner: &str, now: SystemTime) -> Result<String>;
    async fn delete_mcp_session(&self, id: &str) -> Result<()>;

    // ---- upkeep
    /// Connection keys dropped by the move to Atlassian sign-in, once: later calls find none.
    async fn take_legacy_connections(&self) -> Result<Vec<(String, String)>>;
    /// Deletes what expired before `now` (sessions, requests, codes, tokens, unused
    /// registrations, MCP sessions idle since `idle_before`); returns how many rows.
    async fn sweep(&self, now: SystemTime, idle_before: SystemTime) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        for s in [Subject::Account("557058:abc".into()), Subject::Maintainer] {
            assert_eq!(Subject::from_stored(&s.to_stored()).unwrap(), s);
        }
        assert!(Subject::from_stored("account:").is_err());
        assert!(Subject::from_stored("root").is_err());
    }
}
