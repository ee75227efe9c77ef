//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout, where every line gets an
//! answer. rmcp's own transport drops lines that do not parse (so that two peers cannot echo
//! errors at each other forever); this one answers them, at most
//! [`ErrorReplies::PER_SECOND`] a second, and hands rmcp only the messages it can take.
//!
//! Reading and writing: when stdin and stdout are pipes (as an MCP client that starts the
//! server makes them), they are read and written by the runtime itself, without blocking, so
//! a call crosses no thread on its way in or out (Tokio's own stdin and stdout hand every read
//! and write to a blocking thread: half the server's CPU for a small call, and seven context
//! switches a call where two are left; docs/mcp.md). Otherwise (a terminal, a file, a socket)
//! stdin is read on a thread of its own, so that a pending read never keeps the process alive
//! once the session is over (a read of Tokio's stdin cannot be cancelled), and stdout is
//! Tokio's. When stdout is gone (the client closed it), the session ends quietly.

use std::io;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use futures::StreamExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServiceExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{Decoder, FramedRead};
use tokio_util::sync::CancellationToken;

use crate::jsonrpc::{ErrorReplies, Incoming, MAX_MESSAGE_BYTES, Refusal, classify};
use crate::{ConfluxServer, ServeError};

/// Serves one session over stdin/stdout until the client closes either. Nothing else may
/// write to stdout.
pub async fn serve_stdio(server: ConfluxServer) -> Result<(), ServeError> {
    let stdin: Box<dyn AsyncRead + Send + Unpin> = match pipe::stdin() {
        Some(pipe) => Box::new(pipe),
        None => Box::new(stdin_reader().map_err(|e| ServeError::Session(format!("stdin: {e}")))?),
    };
    let stdout: Box<dyn AsyncWrite + Send + Unpin> = match pipe::stdout() {
        Some(pipe) => Box::new(pipe),
        None => Box::new(tokio::io::stdout()),
    };
    serve_lines(server, stdin, stdout).await
}

/// Stdin and stdout when they are pipes, read and written without blocking by the runtime.
/// Non-blocking mode belongs to the pipe, not to this process's descriptor, so it is undone
/// when the session lets go of them: whoever shares the pipe afterwards finds it as it was.
#[cfg(unix)]
mod pipe {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::unix::pipe::{Receiver, Sender};

    /// Stdin, when it is a pipe or a FIFO (Tokio checks) and the runtime can watch it.
    pub(super) fn stdin() -> Option<In> {
        let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
        Receiver::from_owned_fd(fd).ok().map(|r| In(Some(r)))
    }

    /// Stdout, when it is a pipe or a FIFO that stderr does not write to as well: a pipe
    /// taken by both (`2>&1`) would make stderr non-blocking too, and a log line written to a
    /// full pipe would then fail instead of waiting.
    pub(super) fn stdout() -> Option<Out> {
        let fd = io::stdout().as_fd().try_clone_to_owned().ok()?;
        let err = io::stderr().as_fd().try_clone_to_owned().ok()?;
        let (out_meta, err_meta) = (
            File::from(fd.try_clone().ok()?).metadata().ok()?,
            File::from(err).metadata().ok()?,
        );
        if (out_meta.dev(), out_meta.ino()) == (err_meta.dev(), err_meta.ino()) {
            return None;
        }
        Sender::from_owned_fd(fd).ok().map(|s| Out(Some(s)))
    }

    pub(super) struct In(Option<Receiver>);
    pub(super) struct Out(Option<Sender>);

    impl Drop for In {
        fn drop(&mut self) {
            if let Some(r) = self.0.take() {
                let _ = r.into_blocking_fd();
            }
        }
    }

    impl Drop for Out {
        fn drop(&mut self) {
            if let Some(s) = self.0.take() {
                let _ = s.into_blocking_fd();
            }
        }
    }

    impl AsyncRead for In {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match self.0.as_mut() {
                Some(r) => Pin::new(r).poll_read(cx, buf),
                None => Poll::Ready(Ok(())),
            }
        }
    }

    fn gone() -> io::Error {
        io::Error::from(io::ErrorKind::BrokenPipe)
    }

    impl AsyncWrite for Out {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            match self.0.as_mut() {
                Some(s) => Pin::new(s).poll_write(cx, buf),
                None => Poll::Ready(Err(gone())),
            }
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.0.as_mut() {
                Some(s) => Pin::new(s).poll_flush(cx),
                None => Poll::Ready(Ok(())),
            }
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            match self.0.as_mut() {
                Some(s) => Pin::new(s).poll_shutdown(cx),
                None => Poll::Ready(Ok(())),
            }
        }
    }
}

/// Elsewhere stdin and stdout are never pipes the runtime can watch.
#[cfg(not(unix))]
mod pipe {
    pub(super) fn stdin() -> Option<tokio::io::Empty> {
        None
    }

    pub(super) fn stdout() -> Option<tokio::io::Sink> {
        None
    }
}

/// Serves one session of newline-delimited JSON-RPC on any pair of byte streams (stdio, a
/// pipe, a socket), with the checks of [`serve_stdio`]: a line that is not a JSON-RPC
/// message, or is over [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES), is answered with a
/// JSON-RPC error and the session goes on; the session ends when `read` ends or `write`
/// fails.
pub async fn serve_lines<R, W>(server: ConfluxServer, read: R, write: W) -> Result<(), ServeError>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let running = server
        .serve(LineTransport::new(read, write))
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    Ok(())
}

/// Stdin as an async byte stream, read on a thread of its own.
fn stdin_reader() -> io::Result<impl AsyncRead + Send + Unpin + 'static> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(8);
    std::thread::Builder::new()
        .name("conflux-stdin".into())
        .spawn(move || {
            use std::io::Read as _;
            let mut stdin = io::stdin().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let chunk = match stdin.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => Ok(Bytes::copy_from_slice(&buf[..n])),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = chunk.is_err();
                if tx.blocking_send(chunk).is_err() || failed {
                    return;
                }
            }
        })?;
    let chunks = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(tokio_util::io::StreamReader::new(chunks))
}

/// One frame of input: a line (without its line ending), or a line over the limit, dropped
/// as it arrived (its length).
#[derive(Debug)]
enum Frame {
    Line(BytesMut),
    Oversized(usize),
}

/// Newline-delimited frames of at most `max` bytes. A longer line is not buffered: its bytes
/// are dropped as they come and it becomes one [`Frame::Oversized`] at its end, so the stream
/// goes on (tokio-util's `LinesCodec` errors instead, which ends a `FramedRead`).
#[derive(Debug)]
struct Lines {
    max: usize,
    /// Where the search for a newline resumes.
    next_index: usize,
    /// Bytes of an oversized line dropped so far.
    discarding: Option<usize>,
}

impl Lines {
    fn new(max: usize) -> Lines {
        Lines {
            max,
            next_index: 0,
            discarding: None,
        }
    }
}

impl Decoder for Lines {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        if let Some(dropped) = self.discarding {
            return Ok(match buf.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    buf.advance(end + 1);
                    self.discarding = None;
                    Some(Frame::Oversized(dropped + end))
                }
                None => {
                    self.discarding = Some(dropped + buf.len());
                    buf.clear();
                    None
                }
            });
        }
        match buf[self.next_index..].iter().position(|b| *b == b'\n') {
            Some(offset) => {
                let end = self.next_index + offset;
                self.next_index = 0;
                if end > self.max {
                    buf.advance(end + 1);
                    return Ok(Some(Frame::Oversized(end)));
                }
                let mut line = buf.split_to(end + 1);
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                Ok(Some(Frame::Line(line)))
            }
            None if buf.len() > self.max => {
                self.next_index = 0;
                self.discarding = Some(buf.len());
                buf.clear();
                Ok(None)
            }
            None => {
                self.next_index = buf.len();
                Ok(None)
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> io::Result<Option<Frame>> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        self.next_index = 0;
        if let Some(dropped) = self.discarding.take() {
            return Ok(Some(Frame::Oversized(dropped)));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        // A last message without its newline.
        Ok(Some(Frame::Line(buf.split())))
    }
}

/// What the writer task is asked to do.
enum Out {
    Line(Vec<u8>),
    /// Flush, then say so (at the end of the session).
    Flush(oneshot::Sender<()>),
}

/// Queue size of the writer task: answers wait here while the client is slow to read.
const OUT_QUEUE: usize = 64;

/// Where answers go: one task writes them, whole lines in the order they were queued, and
/// cancels `closed` once writing failed (the peer is gone).
#[derive(Clone)]
struct Output {
    queue: mpsc::Sender<Out>,
    closed: CancellationToken,
}

impl Output {
    fn spawn<W: AsyncWrite + Send + Unpin + 'static>(mut writer: W) -> Output {
        let (queue, mut rx) = mpsc::channel::<Out>(OUT_QUEUE);
        let closed = CancellationToken::new();
        let done = closed.clone();
        tokio::spawn(async move {
            while let Some(out) = rx.recv().await {
                let result = match out {
                    Out::Line(line) => {
                        async {
                            writer.write_all(&line).await?;
                            writer.flush().await
                        }
                        .await
                    }
                    Out::Flush(ack) => {
                        let r = writer.flush().await;
                        let _ = ack.send(());
                        r
                    }
                };
                if let Err(e) = result {
                    match e.kind() {
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                            tracing::info!(
                                "the client closed its end of the stream; ending the session"
                            );
                        }
                        _ => {
                            tracing::warn!(error = %e, "writing to the client failed; ending the session");
                        }
                    }
                    done.cancel();
                    return;
                }
            }
        });
        Output { queue, closed }
    }

    /// Queues a line, waiting while the queue is full.
    async fn send(&self, line: Vec<u8>) {
        if !self.closed.is_cancelled() {
            let _ = self.queue.send(Out::Line(line)).await;
        }
    }

    /// Queues a line unless the queue is full (error replies: never worth waiting for).
    fn try_send(&self, line: Vec<u8>) -> bool {
        !self.closed.is_cancelled() && self.queue.try_send(Out::Line(line)).is_ok()
    }

    /// Waits until everything queued so far is written (or writing failed).
    async fn flush(&self) {
        let (ack, written) = oneshot::channel();
        if self.queue.send(Out::Flush(ack)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// The transport rmcp serves on: frames in, checked; messages out, one line each.
struct LineTransport<R> {
    frames: FramedRead<R, Lines>,
    out: Output,
    replies: ErrorReplies,
    /// Whether rmcp left its handshake: before that it ends the session on any message that
    /// is not a request, so those are held back.
    started: bool,
}

impl<R: AsyncRead + Send + Unpin + 'static> LineTransport<R> {
    fn new<W: AsyncWrite + Send + Unpin + 'static>(read: R, write: W) -> LineTransport<R> {
        LineTransport {
            frames: FramedRead::new(read, Lines::new(MAX_MESSAGE_BYTES)),
            out: Output::spawn(write),
            replies: ErrorReplies::new(),
            started: false,
        }
    }

    fn refuse(&mut self, refusal: Refusal) {
        if refusal.silent {
            tracing::debug!(reason = %refusal.message, "stdio: message dropped (JSON-RPC answers no notification or response)");
            return;
        }
        tracing::info!(code = refusal.code, reason = %refusal.message, "stdio: message refused");
        if self.replies.allow(Instant::now()) && !self.out.try_send(refusal.to_line()) {
            tracing::info!(
                "stdio: the client reads its answers too slowly; an error reply was dropped"
            );
        }
    }

    /// The next message rmcp can take, answering what it cannot; `None` at the end.
    async fn next_message(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            let frame = tokio::select! {
                frame = self.frames.next() => frame,
                () = self.out.closed.cancelled() => return None,
            };
            let line = match frame? {
                Ok(Frame::Line(line)) => line,
                Ok(Frame::Oversized(len)) => {
                    self.refuse(Refusal::oversized(Some(len)));
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading from the client failed; ending the session");
                    return None;
                }
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let message = match classify(&line) {
                Incoming::Message(m) => *m,
                Incoming::Refused(refusal) => {
                    self.refuse(refusal);
                    continue;
                }
            };
            if !self.started {
                if !matches!(message, ClientJsonRpcMessage::Request(_)) {
                    tracing::debug!("stdio: a notification or response before initialize, dropped");
                    continue;
                }
                self.started = crate::jsonrpc::starts_lifecycle(&message);
            }
            return Some(message);
        }
    }
}

impl<R: AsyncRead + Send + Unpin + 'static> Transport<RoleServer> for LineTransport<R> {
    type Error = io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), io::Error>> + Send + 'static {
        let out = self.out.clone();
        let line = serde_json::to_vec(&item).map(|mut l| {
            l.push(b'\n');
            l
        });
        async move {
            // A write that fails ends the session through `receive`; rmcp need not log it.
            out.send(line.map_err(io::Error::other)?).await;
            Ok(())
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        self.next_message().await
    }

    async fn close(&mut self) -> Result<(), io::Error> {
        self.out.flush().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;

    /// A reader that never yields: for tests of the writer side.
    struct Pending;

    impl AsyncRead for Pending {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            _buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    fn frames(input: &[u8], max: usize) -> Vec<String> {
        let mut codec = Lines::new(max);
        let mut out = Vec::new();
        // Fed in small pieces, as a pipe delivers them.
        let mut buf = BytesMut::new();
        for chunk in input.chunks(3) {
            buf.extend_from_slice(chunk);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
            out.push(f);
        }
        out.into_iter()
            .map(|f| match f {
                Frame::Line(l) => String::from_utf8_lossy(&l).into_owned(),
                Frame::Oversized(n) => format!("<{n}>"),
            })
            .collect()
    }

    #[test]
    fn lines_over_the_limit_become_one_oversized_frame_and_the_stream_goes_on() {
        assert_eq!(frames(b"ab\r\ncd\n", 10), ["ab", "cd"]);
        assert_eq!(
            frames(b"short\n0123456789abcdef\nnext\n", 10),
            ["short", "<16>", "next"]
        );
        assert_eq!(frames(b"0123456789a", 10), ["<11>"]);
        assert_eq!(frames(b"last", 10), ["last"]);
        assert_eq!(frames(b"0123456789\n", 10), ["0123456789"]);
    }

    #[tokio::test]
    async fn a_closed_writer_ends_the_session() {
        let (write, read_back) = tokio::io::duplex(64);
        drop(read_back);
        let mut t = LineTransport::new(Pending, write);
        let send = t.send(ServerJsonRpcMessage::error(
            rmcp::model::ErrorData::internal_error("x", None),
            None,
        ));
        send.await.unwrap();
        assert!(t.receive().await.is_none());
    }
}
