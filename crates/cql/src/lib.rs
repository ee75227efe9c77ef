//! Confluence Query Language (CQL): a parser, an evaluator and a normalised printer.
//!
//! The Conflux simulator answers `GET /wiki/rest/api/search?cql=…` with it, so the grammar and
//! the error messages follow Atlassian's
//! [Advanced searching using CQL](https://developer.atlassian.com/cloud/confluence/advanced-searching-using-cql/).
//! The crate is pure: no I/O, no clock (callers pass "now" in a [`Context`]), and nothing of ours.
//!
//! Semantics, where Atlassian leaves room:
//! - `~` matches every word (case-insensitive, split on non-alphanumerics) somewhere in the
//!   field; `word*` is a prefix; `"\"two words\""` is a phrase. `text` covers title and
//!   body, `siteSearch` also labels, `title` only the title.
//! - Dates are UTC and weeks start on Monday. A day literal is that whole day for `=`/`!=`
//!   and its midnight for `<`, `<=`, `>`, `>=`; `"-4w"` means `now("-4w")`.
//! - `!=`, `!~` and `NOT IN` are the plain negation of `=`, `~` and `IN`.
//!
//! ```
//! use conflux_cql::{parse, Context, Document};
//!
//! struct Page { labels: Vec<String>, none: Vec<String> }
//! impl Document for Page {
//!     fn content_type(&self) -> &str { "page" }
//!     fn id(&self) -> &str { "42" }
//!     fn space_key(&self) -> &str { "DEV" }
//!     fn title(&self) -> &str { "Release notes" }
//!     fn text(&self) -> &str { "What changed in 2.0" }
//!     fn labels(&self) -> &[String] { &self.labels }
//!     fn ancestor_ids(&self) -> &[String] { &self.none }
//!     fn parent_id(&self) -> Option<&str> { None }
//!     fn creator(&self) -> &str { "acc-1" }
//!     fn created(&self) -> i64 { 1_700_000_000_000 }
//!     fn last_modified(&self) -> i64 { 1_700_000_000_000 }
//!     fn contributors(&self) -> &[String] { &self.none }
//! }
//!
//! let q = parse(r#"type=page and space.key = dev AND text ~ "chang*" order by created desc"#)?;
//! assert_eq!(q.to_string(), "type = page AND space = dev AND text ~ chang* ORDER BY created DESC");
//! let page = Page { labels: vec!["release".into()], none: vec![] };
//! let ctx = Context { current_user: Some("acc-1".into()), now_ms: 1_710_000_000_000 };
//! assert!(q.matches(&page, &ctx));
//! assert!(parse("creator = currentUser() AND created > now(\"-52w\")")?.matches(&page, &ctx));
//!
//! let err = parse("label ~ x").unwrap_err();
//! assert_eq!(err.column(), 7);
//! # Ok::<(), conflux_cql::CqlError>(())
//! ```

mod ast;
mod date;
mod error;
mod eval;
mod lexer;
mod parser;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

pub use error::{CqlError, CqlErrorKind};

/// Crate-wide result type.
pub type Result<T> = std::result::Result<T, CqlError>;

/// The deepest nesting of parentheses and `NOT`s a query may have: 64.
///
/// The parser descends one level per `(` and `NOT`, and evaluation and printing walk the
/// parsed tree the same way, so deeper input is refused with [`CqlErrorKind::TooDeep`]
/// instead of exhausting the thread's stack (a stack overflow aborts the process). People
/// and tools write a handful of levels; at 64, parsing, evaluating and printing use a small
/// part of a 2 MiB thread stack even in a debug build (the tests check it).
pub const MAX_DEPTH: usize = 64;

/// Parses a CQL query. Field names, keywords and function names ignore case.
///
/// Every value is checked against its field here (dates, offsets, functions, numeric ids),
/// so a query that parses always evaluates.
pub fn parse(input: &str) -> Result<Query> {
    parser::parse(input)
}

/// A parsed CQL query: a condition plus optional ORDER BY keys.
///
/// `Display` gives a normalised form (canonical field names, upper-case keywords, minimal
/// parentheses, quoting only where needed) that parses back to an equal `Query`; it suits the
/// `cqlQuery` field of search responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    expr: ast::Expr,
    order: Vec<ast::OrderKey>,
}

impl Query {
    /// Whether `doc` satisfies the condition. Dates resolve against `ctx.now_ms` (UTC), and
    /// `currentUser()` against `ctx.current_user` (nobody matches when it is `None`).
    pub fn matches(&self, doc: &dyn Document, ctx: &Context) -> bool {
        self.expr.matches(doc, ctx)
    }

    /// Orders two documents by the ORDER BY keys in turn; `Equal` when there are none, so a
    /// stable sort keeps the caller's default order.
    pub fn compare(&self, a: &dyn Document, b: &dyn Document) -> Ordering {
        self.order
            .iter()
            .map(|k| k.compare(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// Whether the query has an ORDER BY clause (otherwise the caller picks the order).
    pub fn has_order_by(&self) -> bool {
        !self.order.is_empty()
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        for (i, key) in self.order.iter().enumerate() {
            f.write_str(if i == 0 { " ORDER BY " } else { ", " })?;
            key.fmt(f)?;
        }
        Ok(())
    }
}

impl FromStr for Query {
    type Err = CqlError;

    fn from_str(s: &str) -> Result<Self> {
        parse(s)
    }
}

/// Content as the evaluator sees it. The simulator implements this for its stored content.
pub trait Document {
    /// `page`, `blogpost`, `comment`, `attachment`, `folder` or `database`.
    fn content_type(&self) -> &str;
    /// The content id (numeric string).
    fn id(&self) -> &str;
    /// Key of the containing space.
    fn space_key(&self) -> &str;
    fn title(&self) -> &str;
    /// Plain text of the body, searched by `text ~` and `siteSearch ~`.
    fn text(&self) -> &str;
    fn labels(&self) -> &[String];
    /// Ids of every ancestor, nearest or farthest first (order does not matter).
    fn ancestor_ids(&self) -> &[String];
    fn parent_id(&self) -> Option<&str>;
    /// Account id of the creator.
    fn creator(&self) -> &str;
    /// Unix ms.
    fn created(&self) -> i64;
    /// Unix ms.
    fn last_modified(&self) -> i64;
    /// Account ids of everyone who edited the content (Confluence includes the creator).
    fn contributors(&self) -> &[String];
}

/// What a query is evaluated against besides the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Account id that `currentUser()` stands for; `None` for anonymous access.
    pub current_user: Option<String>,
    /// "Now" for `now()`, `startOfDay()` and relative dates, in Unix ms.
    pub now_ms: i64,
}
