//! `conflux convert`: storage format ↔ Markdown, offline. Output on stdout, one `line:col`
//! warning per construct that could not be converted on stderr.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use conflux_convert::Format;

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
pub fn run(args: &ConvertArgs) -> anyhow::Result<bool> {
    let from: Format = args.from.parse().context("--from")?;
    let to: Format = args.to.parse().context("--to")?;
    let input = match &args.file {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading stdin")?;
            s
        }
    };
    let outcome = conflux_convert::run_convert(from, to, &input, args.strict);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(outcome.output.as_bytes())?;
    if !outcome.output.ends_with('\n') && !outcome.output.is_empty() {
        stdout.write_all(b"\n")?;
    }
    let name = args
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<stdin>".into());
    for w in &outcome.warnings {
        eprintln!("warning: {name}:{w}");
    }
    Ok(outcome.failed)
}
