//! Accepting HTTP connections with the bounds a listener open to a network needs.
//!
//! `axum::serve` sets none: a client that sent its headers or its body a byte every few
//! seconds kept its connection for as long as it liked, and twenty thousand such clients,
//! without any credential, used every descriptor of the process so that nobody else got
//! in. Here a client has [`Limits::header_timeout`] to send a request's headers (also how
//! long a kept-alive connection may sit idle between requests) and [`Limits::body_timeout`]
//! for its whole body; past [`Limits::max_connections`] new connections wait in the
//! kernel's backlog until one closes. A response that streams (the event stream of an
//! older MCP client) is not bounded: the client reads it, it sends nothing.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

/// The bounds on a listener's connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Time to send a request's headers, from the connection's start or the end of the
    /// previous answer (so also the longest idle keep-alive).
    pub header_timeout: Duration,
    /// Time to send a request's whole body, from the end of its headers.
    pub body_timeout: Duration,
}

impl Default for Limits {
    /// 4,096 connections (under the 20,000-odd descriptors a service usually gets, with room
    /// for the store's and Confluence's), 30 s for headers (hyper's own default, when it has
    /// a timer), 60 s for a body of at most 4 MiB (70 KB/s).
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves; then accepts no
/// more connections, lets each one finish the request it is answering, and returns when all
/// are closed. Requests carry the peer's address as [`ConnectInfo<SocketAddr>`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = accept(&listener, &permits) => accepted,
        };
        let (stream, peer, permit) = accepted;
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
            let mut req: Request =
                req.map(|incoming| Body::new(Deadline::new(Body::new(incoming), body_timeout)));
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, peer = %peer, "HTTP connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The next connection, once one of `permits` is free. An accept error (descriptors run out,
/// a connection reset before it was taken) is logged and waited out, as `axum::serve` does.
async fn accept(
    listener: &tokio::net::TcpListener,
    permits: &Arc<tokio::sync::Semaphore>,
) -> (
    tokio::net::TcpStream,
    SocketAddr,
    tokio::sync::OwnedSemaphorePermit,
) {
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            // The semaphore is never closed; wait as if it were full.
            std::future::pending::<()>().await;
            continue;
        };
        match listener.accept().await {
            Ok((stream, peer)) => return (stream, peer, permit),
            Err(e) => {
                tracing::warn!(error = %e, "HTTP: accepting a connection failed");
                drop(permit);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// A request body that fails once its time is up, whatever has come by then.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl Deadline {
    fn new(inner: Body, limit: Duration) -> Self {
        Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }
}

/// Why a body was cut off.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs())]
struct TooSlow(Duration);

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            let limit = self.limit;
            return Poll::Ready(Some(Err(axum::Error::new(TooSlow(limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
