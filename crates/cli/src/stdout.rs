//! Standard output, for every command of the binary.
//!
//! `println!` panics when stdout is closed (`conflux sim | head -1`, a pager that quits). Here
//! a write returns its error instead; `main` ends the process quietly, with status 0, when the
//! error is a closed pipe, the way programs read by `head` are expected to behave. A panic hook
//! does the same for a `println!` left anywhere else.

use std::fmt;
use std::io::{self, Write as _};

/// `println!` that returns the write error instead of panicking.
macro_rules! outln {
    () => {
        $crate::stdout::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::stdout::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that returns the write error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write_fmt(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};

/// Writes formatted text to stdout.
pub fn write_fmt(args: fmt::Arguments<'_>) -> io::Result<()> {
    io::stdout().lock().write_fmt(args)
}

/// Writes bytes to stdout and flushes them.
pub fn write_all(bytes: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}

/// Whether the error comes from writing to a stdout whose reader has gone away.
pub fn is_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Ends the process quietly (status 0) when a `println!` somewhere panics on a closed stdout;
/// every other panic goes to the default hook. Commands write through this module, so this
/// only catches prints outside it.
pub fn exit_quietly_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        // std's message is "failed printing to stdout: <the io::Error>"; EPIPE is 32 on every
        // Unix Conflux runs on, and the `(os error N)` part is not localised.
        if message.starts_with("failed printing to stdout") && message.contains("(os error 32)") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Resolves when the reader of stdout goes away (the read end of its pipe is closed), so a
/// long-running command that has said what it had to say can end with it. Never resolves
/// when stdout cannot go away that way (a file, `/dev/null`) or cannot be watched.
pub async fn closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // A plain thread, blocked in poll(2): the runtime never waits for it at exit.
    let watcher = std::thread::Builder::new()
        .name("stdout-watch".into())
        .spawn(move || {
            if wait_for_reader_to_leave() {
                let _ = tx.send(());
            }
        });
    if watcher.is_ok() && rx.await.is_ok() {
        return;
    }
    std::future::pending::<()>().await
}

/// Blocks until stdout reports an error or a hang-up: for a pipe, its reader is gone.
#[cfg(unix)]
fn wait_for_reader_to_leave() -> bool {
    use rustix::event::{PollFd, PollFlags, poll};
    let stdout = io::stdout();
    loop {
        // No events asked for: poll(2) still reports POLLERR (a pipe with no reader) and
        // POLLHUP, and never wakes for a regular file.
        let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
        match poll(&mut fds, None) {
            Ok(_) if fds[0].revents().contains(PollFlags::NVAL) => return false,
            Ok(_) if fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP) => return true,
            Ok(_) | Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return false,
        }
    }
}

#[cfg(not(unix))]
fn wait_for_reader_to_leave() -> bool {
    false
}
