//! The streamable-HTTP transport: rmcp's service at `/mcp`, behind a check that answers every
//! POST whose body is not a JSON-RPC message with a JSON-RPC error (status 400, or 413 over
//! [`MAX_MESSAGE_BYTES`]) instead of rmcp's plain-text answers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::identity::Caller;
use crate::jsonrpc::{Incoming, MAX_MESSAGE_BYTES, Refusal, classify};
use crate::sessions::{Full, SessionLimits};
use crate::{ConfluxServer, ServeError};
use axum::extract::State;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, JsonRpcMessage, RequestId};
use rmcp::transport::streamable_http_server::session::SessionId;

/// The streamable-HTTP app: the MCP endpoint at `/mcp`, answering loopback hosts only.
pub fn http_router(server: ConfluxServer) -> axum::Router {
    http_router_with(server, HttpOptions::default())
}

/// How the streamable-HTTP endpoint is served.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// Hosts admitted besides loopback (`name` or `name:port`, e.g. the public URL's host);
    /// other `Host` headers are refused, which defeats DNS rebinding.
    pub hosts: Vec<String>,
    /// Where the sessions of clients on revisions before 2026-07-28 are kept, so that any
    /// replica can serve them (`None`: this process's memory only).
    pub session_store:
        Option<Arc<dyn rmcp::transport::streamable_http_server::session::SessionStore>>,
    /// A session idle this long is closed (default 5 minutes): clients that never close their
    /// sessions cannot pile them up.
    pub session_idle: Option<std::time::Duration>,
    /// Cancelling it ends every session and its event streams (a shutdown, once the calls in
    /// flight are done); `None`: they end with the process.
    pub shutdown: Option<tokio_util::sync::CancellationToken>,
    /// How many sessions are kept, in all and per caller; an `initialize` past them is
    /// refused (429 for the caller's, 503 for the process's).
    pub session_limits: SessionLimits,
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("hosts", &self.hosts)
            .field("session_store", &self.session_store.is_some())
            .field("session_idle", &self.session_idle)
            .field("shutdown", &self.shutdown.is_some())
            .field("session_limits", &self.session_limits)
            .finish()
    }
}

/// The streamable-HTTP app at `/mcp` with `options`.
pub fn http_router_with(server: ConfluxServer, options: HttpOptions) -> axum::Router {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
        session::local::{LocalSessionManager, SessionConfig},
    };
    let mut config = StreamableHttpServerConfig::default();
    if !options.hosts.is_empty() {
        let mut allowed = config.allowed_hosts.clone();
        allowed.extend(options.hosts.iter().cloned());
        config = config.with_allowed_hosts(allowed);
    }
    config.session_store = options.session_store.clone();
    let mut sessions = LocalSessionManager::default();
    let mut session_config = SessionConfig::default();
    if let Some(idle) = options.session_idle {
        session_config.keep_alive = Some(idle);
    }
    sessions.session_config = session_config;
    config.max_request_body_bytes = MAX_MESSAGE_BYTES;
    if let Some(token) = options.shutdown {
        config = config.with_cancellation_token(token);
    }
    let sessions = Arc::new(crate::sessions::Counted::new(
        sessions,
        options.session_limits,
    ));
    let service = StreamableHttpService::new(move || Ok(server.clone()), sessions.clone(), config);
    axum::Router::new()
        .nest_service("/mcp", service)
        .route_layer(axum::middleware::from_fn_with_state(
            sessions,
            check_message,
        ))
}

/// The sessions `check_message` counts before an `initialize` and binds after it.
type Sessions = crate::sessions::Counted<
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
>;

/// The caller a session is counted for: a verified agent for one person. The platform's
/// credential and an open server count only in the process's total.
fn session_caller(req: &Request) -> Option<String> {
    match req.extensions().get::<Caller>()? {
        Caller::Verified(v) => Some(format!(
            "{}\0{}",
            v.agent_id,
            v.user_id.as_deref().unwrap_or("")
        )),
        Caller::Local | Caller::Platform { .. } => None,
    }
}

/// The id of an `initialize` request that would open a session (a revision before
/// 2026-07-28, whose clients keep one); `None` for any other message. Read from the message
/// as parsed, so that no spelling of the method gets past.
fn opens_session(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    let JsonRpcMessage::Request(request) = message else {
        return None;
    };
    let ClientRequest::InitializeRequest(init) = &request.request else {
        return None;
    };
    let revision = init.params.protocol_version.to_string();
    (revision.as_str() < "2026-07-28").then(|| request.id.clone())
}

/// The streamable-HTTP app answering requests whose `Host` is loopback or one of `hosts`.
pub fn http_router_for_hosts(server: ConfluxServer, hosts: &[String]) -> axum::Router {
    http_router_with(
        server,
        HttpOptions {
            hosts: hosts.to_vec(),
            ..HttpOptions::default()
        },
    )
}

/// Serves streamable HTTP on an already-bound listener until `shutdown` resolves.
pub async fn serve_http_on(
    server: ConfluxServer,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    crate::listen::serve(
        listener,
        http_router(server),
        crate::listen::Limits::default(),
        shutdown,
    )
    .await;
    Ok(())
}

/// Binds `addr` and serves streamable HTTP at `http://{addr}/mcp` until `shutdown` resolves.
pub async fn serve_http(
    server: ConfluxServer,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    tracing::info!(
        "MCP endpoint: http://{}/mcp",
        listener.local_addr().unwrap_or(addr)
    );
    serve_http_on(server, listener, shutdown).await
}

/// Reads a POST's body (at most [`MAX_MESSAGE_BYTES`]) and answers what is not a JSON-RPC
/// message rmcp can take; passes the rest on with the same bytes.
async fn check_message(
    State(sessions): State<Arc<Sessions>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let new_session = !req.headers().contains_key(SESSION_HEADER);
    let caller = session_caller(&req);
    let (parts, body) = req.into_parts();
    let bytes = match read_bounded(body).await {
        Ok(b) => b,
        Err(BodyError::TooLarge(size)) => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, Refusal::oversized(size));
        }
        Err(BodyError::Read(e)) => {
            tracing::info!(error = %e, "HTTP: the request body could not be read");
            return refuse(
                StatusCode::BAD_REQUEST,
                Refusal::unreadable(format!(
                    "Parse error: the request body could not be read ({e})"
                )),
            );
        }
    };
    match classify(&bytes) {
        Incoming::Message(message) => {
            let opening = new_session.then(|| opens_session(&message)).flatten();
            if let Some(id) = &opening
                && let Err(full) = sessions.admit(caller.as_deref())
            {
                let (status, why) = match full {
                    Full::Caller(n) => (
                        StatusCode::TOO_MANY_REQUESTS,
                        format!(
                            "this caller already holds {n} open MCP sessions, the most it may: \
                             close the ones it no longer uses (DELETE /mcp with their \
                             Mcp-Session-Id), let them idle out, or use protocol revision \
                             2026-07-28, which keeps none"
                        ),
                    ),
                    Full::Process(n) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "this server holds {n} open MCP sessions, the most it keeps; try \
                             again shortly, or use protocol revision 2026-07-28, which keeps \
                             none"
                        ),
                    ),
                };
                tracing::warn!(status = status.as_u16(), "MCP session refused: {why}");
                return refuse(status, Refusal::server_busy(Some(id.clone()), why));
            }
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if opening.is_some()
                && let Some(caller) = caller
                && let Some(id) = response
                    .headers()
                    .get(SESSION_HEADER)
                    .and_then(|v| v.to_str().ok())
            {
                sessions.bind(&SessionId::from(id), caller);
            }
            response
        }
        Incoming::Refused(refusal) => refuse(StatusCode::BAD_REQUEST, refusal),
    }
}

/// The header that carries an MCP session's id.
const SESSION_HEADER: &str = "mcp-session-id";

/// How much of a body over the limit is read (and dropped) before the 413 goes out: a client
/// still writing its body when the server answers and closes may never see the answer
/// (broken pipe). Past this, the answer goes out at once.
const DRAIN_BYTES: usize = 4 * MAX_MESSAGE_BYTES;

enum BodyError {
    /// Over the limit; its size when it ended within [`DRAIN_BYTES`].
    TooLarge(Option<usize>),
    Read(axum::Error),
}

/// The body, at most [`MAX_MESSAGE_BYTES`]; a longer one is read on without being kept.
async fn read_bounded(body: Body) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let mut collected = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyError::Read)?;
        seen = seen.saturating_add(chunk.len());
        if seen > DRAIN_BYTES {
            return Err(BodyError::TooLarge(None));
        }
        if seen <= MAX_MESSAGE_BYTES {
            collected.extend_from_slice(&chunk);
        } else {
            collected = Vec::new();
        }
    }
    if seen > MAX_MESSAGE_BYTES {
        return Err(BodyError::TooLarge(Some(seen)));
    }
    Ok(Bytes::from(collected))
}

fn refuse(status: StatusCode, refusal: Refusal) -> Response {
    tracing::info!(status = status.as_u16(), code = refusal.code, reason = %refusal.message, "HTTP: message refused");
    let mut response = (status, refusal.to_json().to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
