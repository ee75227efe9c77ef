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

use crate::jsonrpc::{Incoming, MAX_MESSAGE_BYTES, Refusal, classify};
use crate::{ConfluxServer, ServeError};

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
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("hosts", &self.hosts)
            .field("session_store", &self.session_store.is_some())
            .field("session_idle", &self.session_idle)
            .field("shutdown", &self.shutdown.is_some())
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
    let sessions = Arc::new(crate::sessions::Counted::new(sessions));
    let service = StreamableHttpService::new(move || Ok(server.clone()), sessions, config);
    axum::Router::new()
        .nest_service("/mcp", service)
        .route_layer(axum::middleware::from_fn(check_message))
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
async fn check_message(req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
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
        Incoming::Message(_) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Incoming::Refused(refusal) => refuse(StatusCode::BAD_REQUEST, refusal),
    }
}

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
