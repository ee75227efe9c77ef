//! `conflux convert`: storage format ↔ Markdown, offline. Output on stdout, one `line:col`
//! warning per construct that could not be converted on stderr.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use conflux_client::ClientError;
use conflux_convert::Format;

use crate::stdout;

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input format: storage or markdown.
    #[arg(long)]
    from: String,
    /// Output format: markdown or storage.
    #[arg(long)]
    to: String,
    /// Fail (exit 1) when anything could not be converted.
    #[arg(long)]
    strict: bool,
    /// Input file (stdin when absent).
    file: Option<PathBuf>,
}

/// Returns whether the command failed (nothing produced, or a warning under --strict).
///
/// Input that cannot be read or converted (nested deeper than the converter's limit) is an
/// invalid-input error; a failed write to stdout stays an I/O error, so that a closed stdout
/// ends the command quietly.
pub fn run(args: &ConvertArgs) -> anyhow::Result<bool> {
    let invalid = |e: anyhow::Error| ClientError::InvalidInput(format!("{e:#}"));
    let from: Format = args.from.parse().context("--from").map_err(invalid)?;
    let to: Format = args.to.parse().context("--to").map_err(invalid)?;
    let input = read_input(args.file.as_deref()).map_err(invalid)?;
    // The output is written as the converter produces it (Markdown in pieces): a large
    // document's output is never in memory whole. After a failed write nothing more is
    // written, and the error is the command's.
    let mut written: std::io::Result<Option<char>> = Ok(None);
    let mut write = |piece: &str| {
        if let Ok(last) = &mut written
            && !piece.is_empty()
        {
            match stdout::write_all(piece.as_bytes()) {
                Ok(()) => *last = piece.chars().next_back(),
                Err(e) => written = Err(e),
            }
        }
    };
    let outcome = conflux_convert::run_convert_into(from, to, &input, args.strict, &mut write)
        .map_err(|e| invalid(e.into()))?;
    drop(input);
    if !matches!(written?, None | Some('\n')) {
        stdout::write_all(b"\n")?;
    }
    let name = args
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<stdin>".into());
    // Written at once: stderr is unbuffered, and a line written piece by piece costs a system
    // call a piece (a large document can have thousands of warnings).
    let mut lines = String::new();
    for w in &outcome.warnings {
        let _ = writeln!(lines, "warning: {name}:{w}");
    }
    if !lines.is_empty() {
        // Nothing to do when stderr is gone; the exit status still says whether it failed.
        let _ = std::io::stderr().lock().write_all(lines.as_bytes());
    }
    Ok(outcome.failed)
}

/// The whole input, from the file or stdin.
fn read_input(file: Option<&Path>) -> anyhow::Result<String> {
    match file {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())),
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading stdin")?;
            Ok(s)
        }
    }
}
