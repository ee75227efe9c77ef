//! Counts the MCP sessions this process holds. Only clients on revisions before 2026-07-28
//! open sessions (the current revision is stateless), so the gauge says how many such clients
//! are still about, by the revision they negotiated: what decides when support for an old
//! revision can go.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::{
    EventStore, RestoreOutcome, ServerSseMessage, SessionId, SessionManager,
};

/// MCP sessions open in this process, by `protocol_version`.
pub const SESSIONS: &str = "conflux_mcp_sessions";

/// Revisions a session can be labelled with; any other counts as `other`.
const REVISIONS: &[&str] = &[
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

pub(crate) fn describe_metrics() {
    metrics::describe_gauge!(
        SESSIONS,
        "MCP sessions open in this process (clients on revisions before 2026-07-28), by the \
         protocol version they negotiated"
    );
}

/// How many MCP sessions one process keeps: each holds a task and its buffers (tens of KB),
/// and a client that opens sessions and never closes them would otherwise hold them until
/// each idles out.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    /// Sessions open in all.
    pub total: usize,
    /// Sessions open for one verified caller (an agent, for one person); the platform's
    /// credential and an open server are one caller each and count only toward `total`.
    pub per_caller: usize,
}

impl Default for SessionLimits {
    /// 5,000 in all (about 250 MB), 100 for one caller.
    fn default() -> Self {
        SessionLimits {
            total: 5000,
            per_caller: 100,
        }
    }
}

/// Why a new session was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Full {
    /// The caller holds `per_caller` sessions.
    Caller(usize),
    /// The process holds `total` sessions.
    Process(usize),
}

/// A session manager that counts the sessions of the one it wraps, in all and by caller.
pub(crate) struct Counted<M> {
    inner: M,
    open: Mutex<HashMap<SessionId, &'static str>>,
    callers: Mutex<Callers>,
    limits: SessionLimits,
}

/// Which caller opened each session, and how many each holds.
#[derive(Default)]
struct Callers {
    of: HashMap<SessionId, String>,
    held: HashMap<String, usize>,
}

impl<M> Counted<M> {
    pub(crate) fn new(inner: M, limits: SessionLimits) -> Counted<M> {
        Counted {
            inner,
            open: Mutex::new(HashMap::new()),
            callers: Mutex::new(Callers::default()),
            limits,
        }
    }

    /// Whether a new session may open for `caller` (`None`: counted only in all). Checked
    /// before the session exists, so requests racing each other may pass a few over.
    pub(crate) fn admit(&self, caller: Option<&str>) -> Result<(), Full> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner()).len();
        if open >= self.limits.total {
            return Err(Full::Process(self.limits.total));
        }
        let callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        match caller.and_then(|c| callers.held.get(c)) {
            Some(&n) if n >= self.limits.per_caller => Err(Full::Caller(self.limits.per_caller)),
            _ => Ok(()),
        }
    }

    /// Counts session `id`, just opened, as `caller`'s.
    pub(crate) fn bind(&self, id: &SessionId, caller: String) {
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if !self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(id)
            || callers.of.contains_key(id)
        {
            return;
        }
        *callers.held.entry(caller.clone()).or_default() += 1;
        callers.of.insert(id.clone(), caller);
    }

    fn opened(&self, id: &SessionId, revision: &'static str) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if open.insert(id.clone(), revision).is_none() {
            metrics::gauge!(SESSIONS, "protocol_version" => revision).increment(1.0);
        }
    }

    fn closed(&self, id: &SessionId) {
        let removed = self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(revision) = removed {
            metrics::gauge!(SESSIONS, "protocol_version" => revision).decrement(1.0);
        }
        let mut callers = self.callers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(caller) = callers.of.remove(id)
            && let Some(n) = callers.held.get_mut(&caller)
        {
            *n -= 1;
            if *n == 0 {
                callers.held.remove(&caller);
            }
        }
    }
}

/// The revision the server answered `initialize` with, bounded to the known ones.
fn negotiated(response: &ServerJsonRpcMessage) -> &'static str {
    let version = serde_json::to_value(response).ok().and_then(|v| {
        v.pointer("/result/protocolVersion")
            .and_then(|p| p.as_str())
            .map(String::from)
    });
    version
        .and_then(|v| REVISIONS.iter().find(|r| **r == v).copied())
        .unwrap_or("other")
}

impl<M: SessionManager> SessionManager for Counted<M> {
    type Error = M::Error;
    type Transport = M::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        self.inner.create_session().await
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        let response = self.inner.initialize_session(id, message).await?;
        self.opened(id, negotiated(&response));
        Ok(response)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.closed(id);
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.resume(id, last_event_id).await
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        self.inner.restore_session(id).await
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}
