//! Converts Confluence storage format (XHTML with `ac:`/`ri:` macros) to Markdown and back.
//!
//! Pure functions, no I/O and no network; this crate depends on nothing else in Conflux.
//! Storage → Markdown → storage keeps every macro with its parameters: what Markdown has a
//! form for is written the way a person would write it (GFM, alerts for panels,
//! `confluence-page:` links), macros without one are directives (`::toc{maxLevel=2}`,
//! `:::panel{…}`, `:name{…}` inside text), spans are bracketed spans (`[text]{color=red}`),
//! and the little that has no form at all travels as the original XML inside a
//! `<!--confluence …-->` comment that the reverse direction puts back.
//! Malformed input never panics; it converts what it can and reports the rest with a position.
//! Input nested deeper than [`MAX_DEPTH`] is refused with [`ConvertError::TooDeep`]: every
//! walk over a document is bounded by that depth, so no input can overflow a thread's stack.
//!
//! ```
//! use conflux_convert::{markdown_to_storage, storage_to_markdown};
//!
//! let md = storage_to_markdown("<h1>Plan</h1><ac:structured-macro ac:name=\"toc\" />")?;
//! assert!(md.output.starts_with("# Plan\n"));
//! let back = markdown_to_storage(&md.output)?;
//! assert!(back.output.contains("ac:name=\"toc\""));
//!
//! // Input nested deeper than MAX_DEPTH is refused, never a stack overflow.
//! let deep = "<div>".repeat(conflux_convert::MAX_DEPTH + 1);
//! assert!(storage_to_markdown(&deep).is_err());
//! # Ok::<(), conflux_convert::ConvertError>(())
//! ```

mod census;
mod directive;
mod from_md;
mod links;
mod to_md;
mod xml;

use std::fmt;
use std::str::FromStr;

pub use census::{Census, Survival, census, normalized};
pub use directive::markup_bytes;

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, ConvertError>;

/// The deepest nesting of storage elements this crate reads or writes: 512.
///
/// The parsers refuse deeper input with [`ConvertError::TooDeep`] instead of recursing until the
/// thread's stack runs out (a stack overflow aborts the whole process and cannot be caught).
/// Depth counts storage elements: `<ul><li>` is two levels, and Markdown is measured by the
/// storage it becomes (`> ` is one level, a list item two, a `> [!NOTE]` panel two).
/// Pages written in Confluence's editors nest a few dozen levels at most.
///
/// At this depth a conversion there and back uses about a quarter of a 2 MiB thread stack
/// (tokio's default for worker threads) in a debug build; the tests run every conversion at
/// the limit on such a thread.
pub const MAX_DEPTH: usize = 512;

/// Errors of this crate. Conversions of well-formed or malformed input do not fail: they
/// report [`Warning`]s. Only input nested deeper than [`MAX_DEPTH`] is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// A format name that is neither `storage` nor `markdown`.
    #[error("unknown format `{0}`; use `storage` or `markdown`")]
    UnknownFormat(String),
    /// The input nests deeper than [`MAX_DEPTH`] levels; nothing was converted.
    #[error(
        "the {format} input is nested deeper than {limit} levels (at line {line}, column {col}); \
         flatten it, or keep that part as storage"
    )]
    TooDeep {
        /// The input format.
        format: Format,
        /// The limit, [`MAX_DEPTH`].
        limit: usize,
        /// 1-based line of the first construct past the limit.
        line: usize,
        /// 1-based column (in characters) of that construct.
        col: usize,
    },
}

impl ConvertError {
    fn too_deep(format: Format, input: &str, deep: xml::TooDeep) -> Self {
        let (line, col) = xml::LineCursor::new(input).locate(deep.pos);
        ConvertError::TooDeep {
            format,
            limit: MAX_DEPTH,
            line,
            col,
        }
    }
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
    /// Constructs with no Markdown form of their own: `<!--confluence …-->` placeholders
    /// (opaque or wrapping Markdown) and directives.
    pub placeholders: usize,
    /// Bytes of output inside placeholder comments, and of directives' fences and attributes.
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
    /// The warnings of constructs that were left out of the output (also among `warnings`):
    /// a directive attribute that is not an XML name. A writer that must lose nothing
    /// refuses the input when there are any.
    pub left_out: Vec<Warning>,
    pub stats: Stats,
    /// True when the command should exit non-zero: nothing was produced from a non-empty
    /// input, or `strict` was asked and there are warnings.
    pub failed: bool,
}

fn warnings(input: &str, mut issues: Vec<xml::Issue>) -> Vec<Warning> {
    issues.sort_by_key(|i| i.pos);
    let mut index = xml::LineCursor::new(input);
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
///
/// Fails only on input nested deeper than [`MAX_DEPTH`].
pub fn storage_to_markdown(storage: &str) -> Result<ConvertOutcome> {
    let c = to_md::convert(storage, None)
        .map_err(|d| ConvertError::too_deep(Format::Storage, storage, d))?;
    Ok(outcome(storage, c.markdown, c.issues, Vec::new(), c.stats))
}

/// Converts Markdown to storage format.
///
/// Fails only on input nested deeper than [`MAX_DEPTH`], counted in the storage it becomes.
pub fn markdown_to_storage(markdown: &str) -> Result<ConvertOutcome> {
    let c = from_md::convert(markdown)
        .map_err(|d| ConvertError::too_deep(Format::Markdown, markdown, d))?;
    Ok(outcome(markdown, c.storage, c.issues, c.left_out, c.stats))
}

fn outcome(
    input: &str,
    output: String,
    issues: Vec<xml::Issue>,
    left_out: Vec<xml::Issue>,
    stats: Stats,
) -> ConvertOutcome {
    let failed = output.trim().is_empty() && !input.trim().is_empty();
    ConvertOutcome {
        output,
        warnings: warnings(input, issues),
        left_out: warnings(input, left_out),
        stats,
        failed,
    }
}

/// The whole `conflux convert` command: converts `input` and decides the exit status.
///
/// Same-format conversions normalise (storage is re-serialised, Markdown goes through storage
/// and back). The caller prints `output` to stdout, each warning (`line:col: message`) to
/// stderr, and exits non-zero when `failed` is set. Input nested deeper than [`MAX_DEPTH`] is
/// an error.
pub fn run_convert(from: Format, to: Format, input: &str, strict: bool) -> Result<ConvertOutcome> {
    let out = match (from, to) {
        (Format::Storage, Format::Markdown) => storage_to_markdown(input)?,
        (Format::Markdown, Format::Storage) => markdown_to_storage(input)?,
        (Format::Storage, Format::Storage) => {
            let mut issues = Vec::new();
            let mut output = String::with_capacity(input.len());
            xml::parse_each(input, xml::BlockIds::Keep, &mut issues, |node, pool| {
                xml::write_nodes(
                    std::slice::from_ref(&node),
                    xml::WriteMode::default(),
                    &mut output,
                );
                pool.put(node);
            })
            .map_err(|d| ConvertError::too_deep(Format::Storage, input, d))?
            .park();
            let stats = Stats {
                output_bytes: output.len(),
                ..Stats::default()
            };
            outcome(input, output, issues, Vec::new(), stats)
        }
        (Format::Markdown, Format::Markdown) => {
            let there = markdown_to_storage(input)?;
            let mut back = storage_to_markdown(&there.output)?;
            back.warnings = there.warnings;
            back.left_out = there.left_out;
            back.failed = back.output.trim().is_empty() && !input.trim().is_empty();
            back
        }
    };
    Ok(strictly(out, strict))
}

/// `--strict`: a conversion with warnings fails, whatever it produced.
fn strictly(mut out: ConvertOutcome, strict: bool) -> ConvertOutcome {
    if strict && !out.warnings.is_empty() {
        out.failed = true;
    }
    out
}

/// [`run_convert`], handing the output to `write` as it is produced instead of returning it
/// (the outcome's `output` is empty): storage → Markdown in pieces of about a megabyte, so
/// the Markdown of a large document is never in memory whole; the other directions in one
/// piece at the end.
pub fn run_convert_into(
    from: Format,
    to: Format,
    input: &str,
    strict: bool,
    write: &mut dyn FnMut(&str),
) -> Result<ConvertOutcome> {
    if (from, to) != (Format::Storage, Format::Markdown) {
        let mut out = run_convert(from, to, input, strict)?;
        write(&out.output);
        out.output = String::new();
        return Ok(out);
    }
    let c = to_md::convert(input, Some(write))
        .map_err(|d| ConvertError::too_deep(Format::Storage, input, d))?;
    let mut out = outcome(input, String::new(), c.issues, Vec::new(), c.stats);
    // `outcome` judges the output it is given, empty here: the converter says whether the
    // pieces it handed on were blank.
    out.failed = c.blank && !input.trim().is_empty();
    Ok(strictly(out, strict))
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
        let ok = run_convert(Format::Storage, Format::Markdown, "<p>fine</p>", true).unwrap();
        assert!(!ok.failed);
        let bad = run_convert(
            Format::Storage,
            Format::Markdown,
            "<p>x &bogus; y</p>",
            true,
        )
        .unwrap();
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
        )
        .unwrap();
        assert!(!lenient.failed);
    }

    /// Written in pieces, the output is the same, and so are the outcome's verdicts.
    #[test]
    fn output_handed_on_in_pieces_is_the_output() {
        let para = "<p>A <strong>paragraph</strong> with <code>code</code> &amp; text.</p>\n";
        let big = para.repeat(6 * to_md::PIECE / para.len());
        let cases = [
            (Format::Storage, Format::Markdown, big.as_str(), false),
            (
                Format::Storage,
                Format::Markdown,
                "<p>x &bogus; y</p>",
                true,
            ),
            (Format::Storage, Format::Markdown, "<p>x</p>", false),
            (Format::Storage, Format::Markdown, "   ", false),
            (Format::Storage, Format::Markdown, "<p> </p>", false),
            (Format::Storage, Format::Markdown, "", false),
            (Format::Markdown, Format::Storage, "# Title\n\ntext", false),
            (Format::Storage, Format::Storage, "<p>x</p>", false),
        ];
        for (from, to, input, strict) in cases {
            let whole = run_convert(from, to, input, strict).unwrap();
            let mut pieces = Vec::new();
            let streamed =
                run_convert_into(from, to, input, strict, &mut |p| pieces.push(p.to_string()))
                    .unwrap();
            assert_eq!(pieces.concat(), whole.output, "{input:.40}");
            assert_eq!(
                (
                    streamed.failed,
                    &streamed.warnings,
                    streamed.stats.output_bytes
                ),
                (whole.failed, &whole.warnings, whole.stats.output_bytes),
                "{input:.40}"
            );
            assert!(streamed.output.is_empty());
            if whole.output.len() > 3 * to_md::PIECE {
                assert!(pieces.len() >= 3, "{} pieces", pieces.len());
                assert!(pieces.iter().all(|p| p.len() < 2 * to_md::PIECE));
            }
        }
    }

    #[test]
    fn nothing_converted_fails() {
        let out = run_convert(Format::Storage, Format::Markdown, "<p></p>", false).unwrap();
        assert!(
            !out.failed,
            "an empty paragraph still produces output: {:?}",
            out.output
        );
        let out = run_convert(Format::Storage, Format::Markdown, "   ", false).unwrap();
        assert!(!out.failed);
    }

    /// A directive's attribute that would become an element's attribute must be an XML name:
    /// written as it is, `1x` makes the storage malformed and a quoted `"a b"` reads as two
    /// attributes. It is left out, with a warning that names it.
    #[test]
    fn directive_attributes_that_are_not_names_are_left_out() {
        let cases = [
            (
                ":::p{1x=2 align=center}\nHello\n:::",
                "<p align=\"center\">Hello</p>",
                "1x",
            ),
            (":::p{\"a b\"=1}\nHello\n:::", "<p>Hello</p>", "a b"),
            (
                ":::::layout{\"q r\"=1}\n\n::::section\n\n:::cell\nHi\n:::\n\n::::\n\n:::::",
                "<ac:layout><ac:layout-section><ac:layout-cell><p>Hi</p></ac:layout-cell></ac:layout-section></ac:layout>",
                "q r",
            ),
            (
                "x :status{@1x=2 colour=Green}",
                "<p>x <ac:structured-macro ac:name=\"status\"><ac:parameter ac:name=\"colour\">Green</ac:parameter></ac:structured-macro></p>",
                "@1x",
            ),
        ];
        for (md, storage, key) in cases {
            let out = markdown_to_storage(md).unwrap();
            assert_eq!(out.output, storage, "{md}");
            assert!(
                out.warnings
                    .iter()
                    .any(|w| w.message.contains(&format!("`{key}`"))
                        && w.message.contains("not an XML name")),
                "{md}: {:?}",
                out.warnings
            );
            // Told apart from the other warnings, for writers that must lose nothing.
            assert_eq!(out.left_out.len(), 1, "{md}: {:?}", out.left_out);
            assert!(out.left_out[0].message.contains(&format!("`{key}`")));
        }
        // Other warnings are not: a directive closed around an open one loses nothing.
        let kept = markdown_to_storage("::::outer\n\n:::inner\n\nx\n\n::::\n").unwrap();
        assert_eq!(kept.warnings.len(), 1, "{:?}", kept.warnings);
        assert!(kept.left_out.is_empty(), "{:?}", kept.left_out);
        // Storage holding such a name (read leniently) keeps it: it is not made a directive.
        for storage in [
            "<p 1x=\"2\">Hello</p>",
            "<ac:structured-macro ac:name=\"toc\" 1x=\"2\" />",
        ] {
            let md = storage_to_markdown(storage).unwrap().output;
            assert!(!md.contains(":::p") && !md.contains("@1x"), "{md}");
            assert_eq!(markdown_to_storage(&md).unwrap().output, storage, "{md}");
        }
    }
}
