//! Authentication of `/mcp`, in front of the MCP service: every request carries a bearer
//! credential the server verifies (an OAuth access token of Conflux's own authorization
//! server, an access key, or the platform's secret), which becomes the [`Caller`] the MCP
//! server reads. Without one: 401 with `WWW-Authenticate` pointing at the resource metadata;
//! a write with read-only access: 403 `insufficient_scope`. Sessions of older clients are
//! bound to the caller that opened them and shared through the store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use conflux_authz::{AuthServer, VerifyError};
use conflux_mcp::{Caller, ConfluxServer, VerifiedCaller};
use conflux_store::Store;
use conflux_types::Secret;
use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};
use serde_json::{Value, json};
use subtle::ConstantTimeEq as _;

/// Largest `/mcp` request body read to check a read-only caller's writes (the MCP service's
/// own limit applies to the rest).
const INSPECT_LIMIT: usize = conflux_mcp::MAX_MESSAGE_BYTES;

const SESSION_HEADER: &str = "mcp-session-id";

/// Most of a refused request's body read so that its connection can carry the next request.
const DRAIN_LIMIT: usize = 256 * 1024;

/// Requests to `/mcp` this layer refused, by `reason`: `missing_credential`, `invalid_token`,
/// `wrong_audience`, `wrong_tenant`, `store_unavailable`, `insufficient_scope`,
/// `body_too_large`, `session_not_owned`, `session_store_unavailable`.
pub const AUTH_REFUSALS: &str = "conflux_mcp_auth_refusals_total";

fn refused(reason: &'static str) {
    metrics::counter!(AUTH_REFUSALS, "reason" => reason).increment(1);
}

/// The label of a credential the authorization server did not accept.
fn verify_reason(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::WrongAudience => "wrong_audience",
        VerifyError::WrongTenant => "wrong_tenant",
        VerifyError::Store(_) => "store_unavailable",
        _ => "invalid_token",
    }
}

/// How `/mcp` callers are let in.
#[derive(Clone)]
pub(crate) enum Gate {
    /// Everyone, as one anonymous caller (the demo on loopback).
    Open,
    /// Only callers with a credential the server verified.
    Authenticated {
        authz: AuthServer,
        /// The platform's own credential: with it, agent and user ids in headers or `_meta` count.
        platform: Option<Secret>,
        /// The whole deployment is read-only.
        read_only: bool,
    },
}

pub(crate) struct McpAuth {
    pub(crate) gate: Gate,
    pub(crate) store: Arc<dyn Store>,
    /// Sessions whose owner this process has checked, and when it last told the store the
    /// session was in use: most requests then cost no store query at all.
    pub(crate) owners: std::sync::Mutex<HashMap<String, (String, Instant)>>,
}

/// How often a session in use is marked seen in the store (so the sweep keeps it).
const SEEN_EVERY: Duration = Duration::from_secs(60);
/// Most sessions whose owner is remembered in memory.
const OWNERS_KEPT: usize = 10_000;

impl McpAuth {
    pub(crate) fn new(gate: Gate, store: Arc<dyn Store>) -> McpAuth {
        McpAuth {
            gate,
            store,
            owners: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The owner of session `id`, binding it to `owner` on first sight (in the store, so
    /// every replica agrees). `issued` when this process just answered the `initialize` that
    /// opened it; otherwise an id no replica has recorded was never issued: `None`, and
    /// nothing is written (every request with a made-up id added a row before).
    async fn owner_of_session(
        &self,
        id: &str,
        owner: &str,
        issued: bool,
    ) -> Result<Option<String>, conflux_store::StoreError> {
        let known = self
            .owners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        match known {
            Some((bound, seen)) if seen.elapsed() < SEEN_EVERY || bound != owner => Ok(Some(bound)),
            None if !issued && self.store.mcp_session(id).await?.is_none() => Ok(None),
            _ => {
                let bound = self
                    .store
                    .bind_mcp_session(id, owner, SystemTime::now())
                    .await?;
                let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
                if owners.len() >= OWNERS_KEPT {
                    owners.clear();
                }
                owners.insert(id.to_string(), (bound.clone(), Instant::now()));
                Ok(Some(bound))
            }
        }
    }
}

/// The anonymous caller of an open server.
fn open_caller() -> Caller {
    Caller::Verified(VerifiedCaller {
        agent_id: "anonymous".into(),
        agent_name: Some("anyone (open server)".into()),
        user_id: None,
        read_only: false,
    })
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn challenge(authz: &AuthServer, status: StatusCode, error: Option<(&str, &str)>) -> Response {
    let scope = authz.scopes_supported().join(" ");
    let description = error.map_or(
        "this endpoint needs an OAuth access token from this server (see the resource metadata) \
         or an access key",
        |(_, d)| d,
    );
    let mut r = (
        status,
        axum::Json(json!({
            "error": error.map_or("unauthorized", |(e, _)| e),
            "error_description": description,
            "resource_metadata": authz.resource_metadata_url(),
        })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&authz.www_authenticate(error, &scope)) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// The caller's identity as a session owner: sessions answer only the caller that opened them.
fn owner_of(caller: &Caller) -> String {
    use sha2::Digest as _;
    let text = match caller {
        Caller::Local => "local".to_string(),
        Caller::Verified(v) => format!(
            "verified\0{}\0{}",
            v.agent_id,
            v.user_id.as_deref().unwrap_or("")
        ),
        Caller::Platform { .. } => "platform".to_string(),
    };
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether a JSON-RPC message (or batch) calls a tool action that writes.
fn calls_a_write(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let one = |m: &Value| {
        m.get("method").and_then(Value::as_str) == Some("tools/call")
            && m.get("params").is_some_and(|p| {
                let tool = p.get("name").and_then(Value::as_str).unwrap_or("");
                let action = p
                    .get("arguments")
                    .and_then(|a| a.get("action"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                ConfluxServer::action_writes(tool, action)
            })
    };
    match &v {
        Value::Array(batch) => batch.iter().any(one),
        m => one(m),
    }
}

/// `response` to a request refused before its body was read. The body is read first (up to
/// [`DRAIN_LIMIT`]): answering over an unread body makes hyper close the connection without
/// saying so, and a client that sends its next request on it at once (an MCP client's
/// discovery after the 401) fails with "server disconnected". A larger body gets
/// `Connection: close`, so the client knows.
async fn refuse(body: Body, mut response: Response) -> Response {
    if axum::body::to_bytes(body, DRAIN_LIMIT).await.is_err() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The middleware in front of the MCP service.
pub(crate) async fn authenticate(
    State(auth): State<Arc<McpAuth>>,
    req: Request,
    next: Next,
) -> Response {
    let (authz, platform, read_only) = match &auth.gate {
        Gate::Open => {
            let mut req = req;
            req.extensions_mut().insert(open_caller());
            return next.run(req).await;
        }
        Gate::Authenticated {
            authz,
            platform,
            read_only,
        } => (authz, platform, *read_only),
    };
    let Some(token) = bearer(&req) else {
        refused("missing_credential");
        return refuse(
            req.into_body(),
            challenge(authz, StatusCode::UNAUTHORIZED, None),
        )
        .await;
    };
    let caller = match platform {
        Some(p) if bool::from(p.expose().as_bytes().ct_eq(token.as_bytes())) => {
            Caller::Platform { read_only }
        }
        _ => match authz.verify(&token).await {
            Ok(v) => Caller::Verified(VerifiedCaller {
                agent_id: v.agent.id,
                agent_name: v.agent.name,
                user_id: v.subject.account_id().map(String::from),
                read_only: read_only || !v.access.can_write(),
            }),
            Err(VerifyError::Store(e)) => {
                refused("store_unavailable");
                tracing::warn!(error = %e, "token check failed on the store");
                return refuse(
                    req.into_body(),
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The credential store could not be reached; try again shortly.",
                    )
                        .into_response(),
                )
                .await;
            }
            Err(e) => {
                refused(verify_reason(&e));
                tracing::info!(reason = %e, "call refused: credential not accepted");
                return refuse(
                    req.into_body(),
                    challenge(
                        authz,
                        StatusCode::UNAUTHORIZED,
                        Some(("invalid_token", &e.to_string())),
                    ),
                )
                .await;
            }
        },
    };
    let (mut parts, body) = req.into_parts();
    // A read-only caller asking a write: refused here with the scope it lacks (the tool layer
    // refuses it too).
    let body = if caller.read_only() && parts.method == Method::POST {
        let bytes = match axum::body::to_bytes(body, INSPECT_LIMIT).await {
            Ok(b) => b,
            Err(_) => {
                refused("body_too_large");
                // Answered as the MCP layer answers an oversized message: a JSON-RPC error.
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    axum::Json(json!({
                        "jsonrpc": "2.0",
                        "id": null,
                        "error": {
                            "code": conflux_mcp::INVALID_REQUEST,
                            "message": format!(
                                "the message is over {INSPECT_LIMIT} bytes, the most this server reads"
                            ),
                        },
                    })),
                )
                    .into_response();
            }
        };
        if calls_a_write(&bytes) {
            refused("insufficient_scope");
            tracing::info!("call refused: write with read-only access");
            return challenge(
                authz,
                StatusCode::FORBIDDEN,
                Some((
                    "insufficient_scope",
                    "this credential grants read-only tools (tools:read); writing needs tools:write",
                )),
            );
        }
        Body::from(bytes)
    } else {
        body
    };
    let owner = owner_of(&caller);
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    if let Some(id) = &session {
        match auth.owner_of_session(id, &owner, false).await {
            Ok(Some(bound)) if bound == owner => {}
            Ok(bound) => {
                let (reason, why) = match bound {
                    Some(_) => ("session_not_owned", "MCP session belongs to another caller"),
                    None => ("session_unknown", "no replica issued this MCP session id"),
                };
                refused(reason);
                tracing::warn!("request refused: {why}");
                return refuse(
                    body,
                    (StatusCode::NOT_FOUND, "Session not found").into_response(),
                )
                .await;
            }
            Err(e) => {
                refused("session_store_unavailable");
                tracing::warn!(error = %e, "session check failed on the store");
                return refuse(
                    body,
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The session store could not be reached; try again shortly.",
                    )
                        .into_response(),
                )
                .await;
            }
        }
    }
    parts.extensions.insert(caller);
    let response = next.run(Request::from_parts(parts, body)).await;
    if session.is_none()
        && let Some(id) = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
        && let Err(e) = auth.owner_of_session(id, &owner, true).await
    {
        tracing::warn!(error = %e, "could not bind a new MCP session to its caller");
    }
    response
}

/// rmcp's session store over the connection store, so that any replica can serve an older
/// client's session.
pub(crate) struct StoreSessions(pub(crate) Arc<dyn Store>);

#[async_trait::async_trait]
impl SessionStore for StoreSessions {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let Some(s) = self.0.mcp_session(session_id).await? else {
            return Ok(None);
        };
        match s.state {
            Some(text) => Ok(Some(serde_json::from_str(&text)?)),
            None => Ok(None),
        }
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let text = serde_json::to_string(state)?;
        self.0
            .save_mcp_session_state(session_id, &text, SystemTime::now())
            .await?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        self.0.delete_mcp_session(session_id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_found_in_messages_and_batches() {
        let call = |tool: &str, action: &str| {
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": tool, "arguments": {"action": action}}})
        };
        let w = |v: Value| calls_a_write(v.to_string().as_bytes());
        assert!(w(call("pages", "create")));
        assert!(!w(call("pages", "get")));
        assert!(w(call("pages", "no-such-action")));
        assert!(!w(
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        ));
        assert!(w(json!([
            call("spaces", "list"),
            call("labels", "addToPage")
        ])));
        assert!(!calls_a_write(b"not json"));
    }

    #[test]
    fn owners_differ_per_caller() {
        let a = Caller::Verified(VerifiedCaller {
            agent_id: "c".into(),
            agent_name: None,
            user_id: Some("alice".into()),
            read_only: false,
        });
        let b = Caller::Verified(VerifiedCaller {
            agent_id: "c".into(),
            agent_name: None,
            user_id: Some("bob".into()),
            read_only: false,
        });
        assert_ne!(owner_of(&a), owner_of(&b));
        assert_eq!(owner_of(&a), owner_of(&a.clone()));
    }
}
