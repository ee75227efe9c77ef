//! Who is calling over HTTP, and which operations their call runs with.
//!
//! A deployment that serves many users (the HTTP transport with per-user OAuth) cannot hold one
//! [`Ops`]: each call names its agent and its user, in headers or in the request's `_meta`, and
//! an [`OpsProvider`] decides whether the agent may call and hands out the user's operations.
//! The stdio transport and single-credential deployments keep one fixed [`Ops`].

use std::future::Future;
use std::pin::Pin;

use conflux_ops::{OpError, Ops};
use rmcp::model::JsonObject;

/// Header naming the calling agent.
pub const AGENT_HEADER: &str = "x-conflux-agent-id";
/// Header naming the user the agent acts for.
pub const USER_HEADER: &str = "x-conflux-user-id";
/// `_meta` key naming the calling agent (when the header is absent).
pub const AGENT_META: &str = "agent_id";
/// `_meta` key naming the user (when the header is absent).
pub const USER_META: &str = "user_id";

/// Longest id accepted from a header or `_meta`; longer ones count as absent.
const MAX_ID_LEN: usize = 256;

/// The message a call gets when its agent is not on the allowlist.
pub const AGENT_NOT_AUTHORIZED: &str = "This agent is not authorized to use this connector";
/// The message a call gets when it names no agent and the allowlist applies.
pub const AGENT_UNIDENTIFIED: &str = "The calling agent could not be identified";

/// A boxed future, so the trait stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The agent and user a tool call names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub agent_id: Option<String>,
    pub user_id: Option<String>,
}

impl Caller {
    /// Reads the ids from the HTTP headers of the request, falling back to its `_meta`
    /// (`agent_id`, `user_id`; `agentId` / `userId` are accepted too). Blank, over-long or
    /// control-character values count as absent.
    pub fn from_request(headers: Option<&axum::http::HeaderMap>, meta: &JsonObject) -> Caller {
        let header = |name: &str| {
            headers
                .and_then(|h| h.get(name))
                .and_then(|v| v.to_str().ok())
                .and_then(clean)
        };
        let meta_str = |keys: [&str; 2]| {
            keys.iter()
                .find_map(|k| meta.get(*k).and_then(|v| v.as_str()).and_then(clean))
        };
        Caller {
            agent_id: header(AGENT_HEADER).or_else(|| meta_str([AGENT_META, "agentId"])),
            user_id: header(USER_HEADER).or_else(|| meta_str([USER_META, "userId"])),
        }
    }
}

fn clean(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty() && v.len() <= MAX_ID_LEN && !v.chars().any(char::is_control))
        .then(|| v.to_string())
}

/// Decides per call whether the agent may call and which [`Ops`] serve the user. The
/// configuration page's deployment implements it over the connection store.
pub trait OpsProvider: Send + Sync + 'static {
    /// Whether `agent` may call; `None` when the call named no agent (allowed only when the
    /// maintainer allowed all agents).
    fn check_agent<'a>(&'a self, agent: Option<&'a str>) -> BoxFuture<'a, Result<bool, OpError>>;

    /// The operations for `user`'s call; `None` when the call named no user. A user with no
    /// connection gets the error that says where to reconnect.
    fn ops_for<'a>(&'a self, user: Option<&'a str>) -> BoxFuture<'a, Result<Ops, OpError>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};
    use serde_json::json;

    fn meta(v: serde_json::Value) -> JsonObject {
        match v {
            serde_json::Value::Object(m) => m,
            _ => JsonObject::new(),
        }
    }

    #[test]
    fn headers_win_over_meta() {
        let mut h = HeaderMap::new();
        h.insert(AGENT_HEADER, HeaderValue::from_static("agent-h"));
        let m = meta(json!({ "agent_id": "agent-m", "user_id": "alice" }));
        let c = Caller::from_request(Some(&h), &m);
        assert_eq!(c.agent_id.as_deref(), Some("agent-h"));
        assert_eq!(c.user_id.as_deref(), Some("alice"));
    }

    #[test]
    fn meta_alone_and_camel_case() {
        let c = Caller::from_request(None, &meta(json!({ "agentId": "a1", "userId": " bob " })));
        assert_eq!(c.agent_id.as_deref(), Some("a1"));
        assert_eq!(c.user_id.as_deref(), Some("bob"));
    }

    #[test]
    fn blank_long_or_odd_values_are_absent() {
        let mut h = HeaderMap::new();
        h.insert(AGENT_HEADER, HeaderValue::from_static("   "));
        let long = "x".repeat(300);
        let m = meta(json!({ "user_id": long, "agent_id": 5 }));
        assert_eq!(Caller::from_request(Some(&h), &m), Caller::default());
        let m = meta(json!({ "user_id": "a\u{7}b" }));
        assert_eq!(Caller::from_request(None, &m).user_id, None);
    }
}
