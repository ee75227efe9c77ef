//! Stopping `conflux serve --http` without cutting calls in half: on SIGTERM (what systemd,
//! Docker and Kubernetes send) or SIGINT (Ctrl-C) the server stops accepting connections, lets
//! the tool calls in flight finish within the grace period, then ends the sessions of older
//! clients (their event streams would otherwise hold connections open) and returns, so that
//! the caller closes the store and the process exits 0.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use crate::observe::notice;

/// What `--shutdown-grace` defaults to: within Kubernetes' default 30 s termination grace.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(20);

/// Resolves on the first SIGTERM or SIGINT.
pub async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be caught; only Ctrl-C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

static REQUESTS: AtomicUsize = AtomicUsize::new(0);
static DONE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Counts a request from its arrival until its response body has been sent (or dropped).
struct Request;

impl Request {
    fn start() -> Request {
        REQUESTS.fetch_add(1, Ordering::SeqCst);
        Request
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if REQUESTS.fetch_sub(1, Ordering::SeqCst) == 1 {
            DONE.notify_waiters();
        }
    }
}

/// Resolves when no counted request is in progress.
async fn requests_done() {
    loop {
        let done = DONE.notified();
        if REQUESTS.load(Ordering::SeqCst) == 0 {
            return;
        }
        done.await;
    }
}

/// The middleware that counts requests until their answer is sent: a tool call's answer is
/// written before the shutdown ends anything. The event streams older MCP clients keep open
/// (`GET /mcp`) are not counted: they end when their sessions are closed.
async fn count(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == axum::http::Method::GET && req.uri().path() == "/mcp" {
        return next.run(req).await;
    }
    let counted = Request::start();
    let response = next.run(req).await;
    response.map(|body| {
        axum::body::Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _sending = &counted;
            chunk
        }))
    })
}

/// Serves `router` on `listener` within `limits` until `stop` resolves, then shuts down
/// gracefully within `grace`: no new connections; the requests in progress (tool calls among
/// them) are answered; then `close_sessions` ends the event streams of older clients and the
/// server returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: conflux_mcp::listen::Limits,
    grace: Duration,
    stop: impl Future<Output = &'static str>,
    close_sessions: impl FnOnce(),
) -> anyhow::Result<()> {
    let app = router.layer(axum::middleware::from_fn(count));
    let (begin, began) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(conflux_mcp::listen::serve(listener, app, limits, async {
        let _ = began.await;
    }));
    let why = tokio::select! {
        why = stop => why,
        ended = &mut server => {
            // The server stopped by itself: only a panic does that.
            return ended.map_err(|e| anyhow::anyhow!("the HTTP server task failed: {e}"));
        }
    };
    let deadline = Instant::now() + grace;
    let in_flight = conflux_mcp::calls_in_flight();
    notice!(
        "{why}: shutting down; no new connections; waiting up to {} s for {in_flight} tool \
         call(s) in flight",
        grace.as_secs_f64()
    );
    tracing::info!(
        signal = why,
        in_flight,
        grace_s = grace.as_secs_f64(),
        "shutdown started"
    );
    let _ = begin.send(());
    let answered = tokio::time::timeout_at(deadline.into(), requests_done())
        .await
        .is_ok();
    close_sessions();
    if !answered {
        let cut = conflux_mcp::calls_in_flight();
        server.abort();
        notice!(
            "shutdown: the grace period ({} s) ended with {cut} tool call(s) still running; they \
             were cut short",
            grace.as_secs_f64()
        );
        tracing::warn!(
            cut,
            "shutdown grace period ended before every call finished"
        );
        return Ok(());
    }
    // Every answer is sent; connections still open (event streams of older clients) get a
    // moment to close after their sessions ended.
    let closing = deadline.max(Instant::now() + Duration::from_millis(500));
    if tokio::time::timeout_at(closing.into(), &mut server)
        .await
        .is_err()
    {
        server.abort();
        notice!("shutdown: every call finished; connections still open were closed");
    } else {
        notice!("shutdown: every call finished");
    }
    Ok(())
}
