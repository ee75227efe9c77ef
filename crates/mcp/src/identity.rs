//! Who is calling over HTTP, and which operations their call runs with.
//!
//! The HTTP layer in front of this server verifies each request's credential and attaches a
//! [`Caller`] to it (a request extension); the server never takes an identity from what a
//! request merely claims. The one exception is [`Caller::Platform`]: the request carried the
//! platform's own credential, which the HTTP layer verified, so the agent and user the request
//! names (headers or `_meta`, as seed 003's platforms inject them) are taken as the platform
//! says. A deployment serving many people asks an [`OpsProvider`] whether the agent may call
//! and for the caller's operations. The stdio transport keeps one fixed [`Ops`].

use std::future::Future;
use std::pin::Pin;

use conflux_ops::{OpError, Ops};
use rmcp::model::JsonObject;

/// Header naming the calling agent (counted only with the platform's credential).
pub const AGENT_HEADER: &str = "x-conflux-agent-id";
/// Header naming the person the agent acts for (counted only with the platform's credential).
pub const USER_HEADER: &str = "x-conflux-user-id";
/// `_meta` key naming the calling agent (when the header is absent).
pub const AGENT_META: &str = "agent_id";
/// `_meta` key naming the person (when the header is absent).
pub const USER_META: &str = "user_id";

/// Longest id accepted from a header or `_meta`; longer ones count as absent.
const MAX_ID_LEN: usize = 256;

/// The message a call gets when its agent is not on the allowlist.
pub const AGENT_NOT_AUTHORIZED: &str = "This agent is not authorized to use this connector";
/// The message a call gets when it names no agent and the allowlist applies.
pub const AGENT_UNIDENTIFIED: &str = "The calling agent could not be identified";

/// A boxed future, so the trait stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who is calling, as the transport established it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Caller {
    /// The person who started the process (stdio), or a server that lets anyone in (the
    /// demo): no identity to check.
    #[default]
    Local,
    /// Verified by the HTTP layer: an OAuth access token or an access key.
    Verified(VerifiedCaller),
    /// The request carried the platform's credential (verified by the HTTP layer): the agent
    /// and user it names in headers or `_meta` count.
    Platform { read_only: bool },
}

/// A caller whose credential was verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCaller {
    /// What the allowlist holds: the authenticated client's id, an access key's `key:<id>`, or
    /// the agent a platform named.
    pub agent_id: String,
    /// What the client calls itself (untrusted, for the maintainer's list).
    pub agent_name: Option<String>,
    /// The person whose Confluence connection the call uses (their Atlassian account id);
    /// `None` when the call uses the deployment's shared credential.
    pub user_id: Option<String>,
    /// The credential grants read-only tools.
    pub read_only: bool,
}

impl Caller {
    /// Whether this caller may use write actions.
    pub fn read_only(&self) -> bool {
        match self {
            Caller::Local => false,
            Caller::Verified(v) => v.read_only,
            Caller::Platform { read_only } => *read_only,
        }
    }

    /// The verified caller, resolving a platform's request from its headers or `_meta`
    /// (`agent_id`, `user_id`; `agentId` / `userId` too; headers win). `None` for a local
    /// caller. A platform request naming no agent resolves to an empty agent id, which no
    /// allowlist holds.
    pub fn resolve(
        &self,
        headers: Option<&axum::http::HeaderMap>,
        meta: &[&JsonObject],
    ) -> Option<VerifiedCaller> {
        match self {
            Caller::Local => None,
            Caller::Verified(v) => Some(v.clone()),
            Caller::Platform { read_only } => {
                let header = |name: &str| {
                    headers
                        .and_then(|h| h.get(name))
                        .and_then(|v| v.to_str().ok())
                        .and_then(clean)
                };
                let meta_str = |keys: [&str; 2]| {
                    meta.iter().find_map(|m| {
                        keys.iter()
                            .find_map(|k| m.get(*k).and_then(|v| v.as_str()).and_then(clean))
                    })
                };
                Some(VerifiedCaller {
                    agent_id: header(AGENT_HEADER)
                        .or_else(|| meta_str([AGENT_META, "agentId"]))
                        .unwrap_or_default(),
                    agent_name: None,
                    user_id: header(USER_HEADER).or_else(|| meta_str([USER_META, "userId"])),
                    read_only: *read_only,
                })
            }
        }
    }
}

fn clean(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty() && v.len() <= MAX_ID_LEN && !v.chars().any(char::is_control))
        .then(|| v.to_string())
}

/// Decides per call whether the agent may call and which [`Ops`] serve the caller. The
/// configuration page's deployment implements it over the connection store.
pub trait OpsProvider: Send + Sync + 'static {
    /// Whether the caller's agent may call (the allowlist).
    fn check_agent<'a>(
        &'a self,
        caller: &'a VerifiedCaller,
    ) -> BoxFuture<'a, Result<bool, OpError>>;

    /// The operations for the caller's call. A person with no connection gets the error that
    /// says where to sign in again.
    fn ops_for<'a>(&'a self, caller: &'a VerifiedCaller) -> BoxFuture<'a, Result<Ops, OpError>>;
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

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    /// Issue 10: headers and `_meta` named anyone's identity; they count only for a platform.
    #[test]
    fn claimed_ids_count_only_with_the_platform_credential() {
        let h = headers(&[(AGENT_HEADER, "agent-h"), (USER_HEADER, "alice")]);
        let m = meta(json!({ "agent_id": "agent-m", "user_id": "mallory" }));
        assert_eq!(Caller::Local.resolve(Some(&h), &[&m]), None);
        let verified = VerifiedCaller {
            agent_id: "https://client.example/meta.json".into(),
            agent_name: None,
            user_id: Some("557058:bob".into()),
            read_only: false,
        };
        let c = Caller::Verified(verified.clone());
        assert_eq!(c.resolve(Some(&h), &[&m]), Some(verified));
        let p = Caller::Platform { read_only: true }
            .resolve(Some(&h), &[&m])
            .unwrap();
        assert_eq!(p.agent_id, "agent-h");
        assert_eq!(p.user_id.as_deref(), Some("alice"));
        assert!(p.read_only);
    }

    #[test]
    fn platform_meta_alone_camel_case_and_odd_values() {
        let p = Caller::Platform { read_only: false };
        let c = p
            .resolve(
                None,
                &[&meta(json!({ "agentId": "a1", "userId": " bob " }))],
            )
            .unwrap();
        assert_eq!(c.agent_id, "a1");
        assert_eq!(c.user_id.as_deref(), Some("bob"));
        let h = headers(&[(AGENT_HEADER, "   ")]);
        let long = "x".repeat(300);
        let c = p
            .resolve(
                Some(&h),
                &[&meta(json!({ "user_id": long, "agent_id": 5 }))],
            )
            .unwrap();
        assert_eq!(c.agent_id, "");
        assert_eq!(c.user_id, None);
        let c = p
            .resolve(None, &[&meta(json!({ "user_id": "a\u{7}b" }))])
            .unwrap();
        assert_eq!(c.user_id, None);
    }
}
