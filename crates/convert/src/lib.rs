//! Converts Confluence storage format (XHTML with `ac:`/`ri:` macros) to Markdown and back.
//!
//! Pure functions, no I/O and no network; this crate depends on nothing else in Conflux.
//! Storage → Markdown → storage keeps every macro with its parameters: what Markdown has a
//! form for is written the way a person would write it (GFM, alerts for panels,
//! `confluence-page:` links), and the rest travels as the original XML inside a
//! `<!--confluence …-->` comment that the reverse direction puts back.
//! Malformed input never panics; it converts what it can and reports the rest with a position.
//!
//! ```
//! use conflux_convert::{markdown_to_storage, storage_to_markdown};
//!
//! let md = storage_to_markdown("<h1>Plan</h1><ac:structured-macro ac:name=\"toc\" />");
//! assert!(md.output.starts_with("# Plan\n"));
//! let back = markdown_to_storage(&md.output);
//! assert!(back.output.contains("ac:name=\"toc\""));
//! ```

mod census;
mod from_md;
mod links;
mod to_md;
mod xml;

use std::fmt;
use std::str::FromStr;

pub use census::{Census, Survival, census, normalized};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, ConvertError>;

/// Errors of this crate. Conversions themselves do not fail: they report [`Warning`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A format name that is neither `storage` nor `markdown`.
    #[error("unknown format `{0}`; use `storage` or `markdown`")]
    UnknownFormat(String),
}

/// The two representations this crate converts between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// Confluence storage format (XHTML with `ac:`/`ri:` elements).
    Storage,
    /// GitHub-flavoured Markdown with Conflux's conventions for Confluence constructs.
    Markdown,
}

impl FromStr for Format {
    type Err = ConvertError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "storage" | "xhtml" => Ok(Format::Storage),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(ConvertError::UnknownFormat(other.to_string())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Storage => "storage",
            Format::Markdown => "markdown",
        })
    }
}

/// Something in the input that could not be converted as written, at a 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

/// Size figures of one conversion, for the fidelity report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes of output.
    pub output_bytes: usize,
    /// Constructs carried as `<!--confluence …-->` placeholders (opaque or wrapping Markdown).
    pub placeholders: usize,
    /// Bytes of output inside placeholder comments.
    pub placeholder_bytes: usize,
    /// Bytes of output written as raw HTML (merged-cell tables, styled spans, …).
    pub html_bytes: usize,
}

impl Stats {
    /// Placeholder bytes as a share of the output, 0.0 to 1.0.
    pub fn placeholder_share(&self) -> f64 {
        if self.output_bytes == 0 {
            0.0
        } else {
            self.placeholder_bytes as f64 / self.output_bytes as f64
        }
    }
}

/// What a conversion produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertOutcome {
    pub output: String,
    /// One per construct that could not be converted as written, in input order.
    pub warnings: Vec<Warning>,
    pub stats: Stats,
    /// True when the command should exit non-zero: nothing was produced from a non-empty
    /// input, or `strict` was asked and there are warnings.
    pub failed: bool,
}

fn warnings(input: &str, mut issues: Vec<xml::Issue>) -> Vec<Warning> {
    issues.sort_by_key(|i| i.pos);
    let index = xml::LineIndex::new(input);
    issues
        .into_iter()
        .map(|i| {
            let (line, col) = index.locate(i.pos);
            Warning {
                line,
                col,
                message: i.message,
            }
        })
        .collect()
}

/// Converts storage format to Markdown.
pub fn storage_to_markdown(storage: &str) -> ConvertOutcome {
    let c = to_md::convert(storage);
    outcome(storage, c.markdown, c.issues, c.stats)
}

/// Converts Markdown to storage format.
pub fn markdown_to_storage(markdown: &str) -> ConvertOutcome {
    let c = from_md::convert(markdown);
    outcome(markdown, c.storage, c.issues, c.stats)
}

fn outcome(input: &str, output: String, issues: Vec<xml::Issue>, stats: Stats) -> ConvertOutcome {
    let failed = output.trim().is_empty() && !input.trim().is_empty();
    ConvertOutcome {
        output,
        warnings: warnings(input, issues),
        stats,
        failed,
    }
}

/// The whole `conflux convert` command: converts `input` and decides the exit status.
///
/// Same-format conversions normalise (storage is re-serialised, Markdown goes through storage
/// and back). The caller prints `output` to stdout, each warning (`line:col: message`) to
/// stderr, and exits non-zero when `failed` is set.
pub fn run_convert(from: Format, to: Format, input: &str, strict: bool) -> ConvertOutcome {
    let mut out = match (from, to) {
        (Format::Storage, Format::Markdown) => storage_to_markdown(input),
        (Format::Markdown, Format::Storage) => markdown_to_storage(input),
        (Format::Storage, Format::Storage) => {
            let mut issues = Vec::new();
            let nodes = xml::parse(input, &mut issues);
            let output = xml::to_string(&nodes, xml::WriteMode::default());
            let stats = Stats {
                output_bytes: output.len(),
                ..Stats::default()
            };
            outcome(input, output, issues, stats)
        }
        (Format::Markdown, Format::Markdown) => {
            let there = markdown_to_storage(input);
            let mut back = storage_to_markdown(&there.output);
            back.warnings = there.warnings;
            back.failed = back.output.trim().is_empty() && !input.trim().is_empty();
            back
        }
    };
    if strict && !out.warnings.is_empty() {
        out.failed = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses() {
        assert_eq!("storage".parse::<Format>().ok(), Some(Format::Storage));
        assert_eq!("Markdown".parse::<Format>().ok(), Some(Format::Markdown));
        assert!("wiki".parse::<Format>().is_err());
    }

    #[test]
    fn strict_fails_on_warnings_only() {
        let ok = run_convert(Format::Storage, Format::Markdown, "<p>fine</p>", true);
        assert!(!ok.failed);
        let bad = run_convert(
            Format::Storage,
            Format::Markdown,
            "<p>x &bogus; y</p>",
            true,
        );
        assert!(bad.failed);
        assert_eq!(
            bad.warnings[0].to_string(),
            "1:6: unknown entity `&bogus;` kept as text"
        );
        let lenient = run_convert(
            Format::Storage,
            Format::Markdown,
            "<p>x &bogus; y</p>",
            false,
        );
        assert!(!lenient.failed);
    }

    #[test]
    fn nothing_converted_fails() {
        let out = run_convert(Format::Storage, Format::Markdown, "<p></p>", false);
        assert!(
            !out.failed,
            "an empty paragraph still produces output: {:?}",
            out.output
        );
        let out = run_convert(Format::Storage, Format::Markdown, "   ", false);
        assert!(!out.failed);
    }
}
