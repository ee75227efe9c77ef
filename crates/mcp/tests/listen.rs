//! The HTTP listener's bounds, against a real socket: slow or idle clients lose their
//! connections, connections past the cap wait, a streamed answer is not cut.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use conflux_mcp::listen::{Limits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SHORT: Duration = Duration::from_millis(400);

/// A server within short bounds: `/echo` answers the body's length (or 408 when the body
/// did not come), `/peer` the address it saw, `/stream` five chunks 200 ms apart.
async fn start(max_connections: usize) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let router = axum::Router::new()
        .route(
            "/echo",
            post(|body: Body| async move {
                match axum::body::to_bytes(body, 1 << 20).await {
                    Ok(b) => (axum::http::StatusCode::OK, b.len().to_string()),
                    Err(e) => (axum::http::StatusCode::REQUEST_TIMEOUT, e.to_string()),
                }
            }),
        )
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/stream",
            get(|| async {
                let chunks = futures::stream::unfold(0, |i| async move {
                    if i == 5 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    Some((Ok::<_, std::io::Error>(format!("chunk{i}\n")), i + 1))
                });
                Body::from_stream(chunks)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let limits = Limits {
        max_connections,
        header_timeout: SHORT,
        body_timeout: SHORT,
    };
    tokio::spawn(serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// A connection to `addr` with `request` written on it.
async fn send(addr: SocketAddr, request: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    s
}

/// Everything the server sends until it closes the connection, or what came within `wait`.
async fn read_all(s: &mut TcpStream, wait: Duration) -> (String, bool) {
    let mut out = Vec::new();
    let closed = tokio::time::timeout(wait, s.read_to_end(&mut out))
        .await
        .is_ok();
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let (addr, _stop) = start(8).await;
    let mut s = send(addr, b"GET /peer HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
    let began = Instant::now();
    let (_, closed) = read_all(&mut s, Duration::from_secs(10)).await;
    assert!(closed, "the connection stayed open");
    assert!(began.elapsed() >= SHORT / 2, "closed before the timeout");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let (addr, _stop) = start(8).await;
    let mut s = send(addr, b"GET /peer HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let (answer, closed) = read_all(&mut s, Duration::from_secs(10)).await;
    assert!(closed, "a kept-alive connection stayed open: {answer}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The peer address reaches the handlers.
    let local = s.local_addr().unwrap().to_string();
    assert!(answer.ends_with(&local), "{answer} (peer {local})");
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_refused_when_its_time_is_up() {
    let (addr, _stop) = start(8).await;
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = s.into_split();
    w.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let trickle = async {
        for _ in 0..40 {
            if w.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        // Until the server closes the connection, or the whole message has come.
        while !String::from_utf8_lossy(&answer).ends_with(" s") {
            if r.read_buf(&mut answer).await.unwrap() == 0 {
                break;
            }
        }
    });
    let (got, ()) = tokio::join!(read, trickle);
    got.expect("an answer within 10 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The deadline's answer, not the end of the trickle's 40 bytes (the body wants 1,000):
    // no bound on time here, which the machine's load would move.
    assert!(answer.contains("did not arrive within"), "{answer}");
}

#[tokio::test]
async fn a_body_in_time_is_read_whole() {
    let (addr, _stop) = start(8).await;
    let mut s = send(
        addr,
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    let (answer, closed) = read_all(&mut s, Duration::from_secs(10)).await;
    assert!(closed);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n5"), "{answer}");
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_one_to_close() {
    let (addr, _stop) = start(2).await;
    // Two connections that send nothing hold both places until the header timeout.
    let _a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let began = Instant::now();
    let mut c = send(
        addr,
        b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (answer, closed) = read_all(&mut c, Duration::from_secs(10)).await;
    assert!(closed && answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Answered only once the idle two were cut off.
    assert!(began.elapsed() >= SHORT / 2, "{:?}", began.elapsed());
}

#[tokio::test]
async fn a_streamed_answer_outlives_the_timeouts() {
    let (addr, _stop) = start(8).await;
    let mut s = send(
        addr,
        b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (answer, closed) = read_all(&mut s, Duration::from_secs(10)).await;
    assert!(closed, "{answer}");
    for i in 0..5 {
        assert!(answer.contains(&format!("chunk{i}")), "{answer}");
    }
}

#[tokio::test]
async fn shutting_down_finishes_the_answer_in_progress_then_returns() {
    let router = axum::Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, Limits::default(), async {
        let _ = stopped.await;
    }));
    let mut s = send(addr, b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let (answer, closed) = read_all(&mut s, Duration::from_secs(10)).await;
    assert!(closed && answer.ends_with("done"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server returns")
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
