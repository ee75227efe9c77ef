//! Markdown → storage format.
//!
//! pulldown-cmark (GFM: tables, task lists, strikethrough, alerts, heading ids) reads the
//! Markdown. Raw HTML and placeholder comments are tokenized as storage XML and fed into the
//! same tree as the Markdown structure, so `<details>`, `<span style>` and
//! `<!--confluence <ac:layout>-->` wrappers nest around converted Markdown.

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{
    Alignment, BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options,
    Parser, Tag, TagEnd,
};

use crate::to_md::{EMOTICONS, INLINE_MACROS, MARK, PANELS, PLACEHOLDER_OPEN};
use crate::xml::TooDeep;
use crate::xml::{self, Issue, WriteMode};

/// The tree this direction builds borrows the Markdown's text where it is verbatim; raw HTML's
/// tokens own theirs.
type Node<'a> = xml::Node<'a>;
type Element<'a> = xml::Element<'a>;
type Token = xml::Token<'static>;
use crate::{MAX_DEPTH, Stats};
use crate::{directive, links};

pub(crate) struct Converted {
    pub storage: String,
    pub issues: Vec<Issue>,
    /// The issues that left part of the input out (also among `issues`).
    pub left_out: Vec<Issue>,
    pub stats: Stats,
}

pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_GFM
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// The `align` heading attribute, when it names one of the alignments storage writes as
/// `style="text-align: X;"`.
fn align_attr<'a>(attrs: &'a [(CowStr<'a>, Option<CowStr<'a>>)]) -> Option<&'a str> {
    attrs.iter().find_map(|(k, v)| match (&**k, v.as_deref()) {
        ("align", Some(v)) if crate::to_md::HEADING_ALIGNS.contains(&v) => Some(v),
        _ => None,
    })
}

/// Converts a Markdown document. Each top-level node is written out and dropped as soon as it
/// is complete, so memory holds the input, pulldown-cmark's block tree, the storage and one
/// top-level subtree.
pub(crate) fn convert(input: &str) -> Result<Converted, TooDeep> {
    let (protected, sentinels) = protect_placeholder_paragraphs(input);
    let input = protected.as_deref().unwrap_or(input);
    // Warnings and errors name places in the text as the caller wrote it.
    let original = |pos: usize| pos - SENTINEL.len_utf8() * sentinels.partition_point(|&s| s < pos);
    let mut b = Builder {
        src: input,
        stack: vec![Frame::new(Element::new("#root"), Kind::Root, 0, Role::None)],
        depth: 0,
        issues: Vec::new(),
        left_out: Vec::new(),
        table: TableState::default(),
        code: None,
        html_block: None,
        directives: Vec::new(),
        para: ParaSkip::default(),
        orphan_ends: Vec::new(),
        line_start: false,
        skip: 0..0,
    };
    let mut out = Output {
        storage: String::with_capacity(input.len() / 2 * 3),
        next_task: 1,
    };
    for (event, mut range) in Parser::new_ext(input, options()).into_offset_iter() {
        let event = match event {
            // The mark that made a placeholder's line read as a paragraph is no text.
            Event::Text(t) if sentinels.binary_search(&range.start).is_ok() => {
                let rest = t.strip_prefix(SENTINEL).unwrap_or(&t).to_string();
                range.start += SENTINEL.len_utf8();
                if rest.is_empty() {
                    continue;
                }
                Event::Text(rest.into())
            }
            other => other,
        };
        b.event(event, range).map_err(|d| TooDeep {
            pos: original(d.pos),
        })?;
        out.write(b.drain_complete());
    }
    let mut issues = std::mem::take(&mut b.issues);
    while b.stack.len() > 1 {
        b.pop_top(&mut issues);
    }
    for issue in issues.iter_mut().chain(b.left_out.iter_mut()) {
        issue.pos = original(issue.pos);
    }
    out.write(b.stack[0].el.children.drain(..));
    let stats = Stats {
        output_bytes: out.storage.len(),
        ..Stats::default()
    };
    Ok(Converted {
        storage: out.storage,
        issues,
        left_out: b.left_out,
        stats,
    })
}

/// Put before a line that must read as a paragraph; never left in the output.
const SENTINEL: char = '\u{FEFF}';

/// A paragraph whose first line starts with a placeholder comment (`<!--confluence
/// <ac:inline-comment-marker …>-->text`, as storage → Markdown writes a paragraph that starts
/// with an inline comment's marker) is what CommonMark reads as an HTML block: the text after
/// the comment would stay raw (a code span as literal backticks) and the paragraph's next lines
/// would part from it. Such lines get [`SENTINEL`] in front, so they read as the paragraph they
/// are; answers the input so changed (`None`: unchanged) and the sentinels' offsets in it.
fn protect_placeholder_paragraphs(input: &str) -> (Option<String>, Vec<usize>) {
    // Finding the blocks takes a second parse of the whole text: only done when one can be.
    let at = if may_start_placeholder_paragraph(input) {
        placeholder_paragraphs(input)
    } else {
        Vec::new()
    };
    if at.is_empty() {
        return (None, at);
    }
    let mut out = String::with_capacity(input.len() + at.len() * SENTINEL.len_utf8());
    let mut offsets = Vec::with_capacity(at.len());
    let mut last = 0;
    for pos in at {
        out.push_str(&input[last..pos]);
        offsets.push(out.len());
        out.push(SENTINEL);
        last = pos;
    }
    out.push_str(&input[last..]);
    (Some(out), offsets)
}

/// Whether `input` may hold a paragraph that starts with a placeholder: one with text after
/// it on its line. Only the first placeholder of a line (ended by `\n` or `\r`, as
/// pulldown-cmark ends lines) can start a block, so only it is looked at; and the looks
/// together read at most about twice the input, past which the answer is yes (the parse then
/// decides), so that a line of many placeholders costs no more than its length.
fn may_start_placeholder_paragraph(input: &str) -> bool {
    let bytes = input.as_bytes();
    let mut budget = 2 * input.len() + 4096;
    let mut searched = 0;
    let mut line_start = 0;
    let mut looked_at = None;
    for i in memchr::memmem::find_iter(bytes, PLACEHOLDER_OPEN.as_bytes()) {
        if let Some(b) = memchr::memrchr2(b'\n', b'\r', &bytes[searched..i]) {
            line_start = searched + b + 1;
        }
        searched = i;
        if looked_at == Some(line_start) {
            continue;
        }
        looked_at = Some(line_start);
        let line = input[i..].lines().next().unwrap_or("");
        let Some(left) = budget.checked_sub(line.len()) else {
            return true;
        };
        budget = left;
        if has_text_beside_comments(line) {
            return true;
        }
    }
    false
}

/// Where the paragraphs that CommonMark reads as HTML blocks start their placeholder.
fn placeholder_paragraphs(input: &str) -> Vec<usize> {
    let mut at = Vec::new();
    for (event, range) in Parser::new_ext(input, options()).into_offset_iter() {
        let Event::Start(Tag::HtmlBlock) = event else {
            continue;
        };
        let block = input.get(range.clone()).unwrap_or("");
        let Some(lead) = block.find(PLACEHOLDER_OPEN) else {
            continue;
        };
        if !block[..lead].chars().all(|c| c == ' ') {
            continue;
        }
        if starts_placeholder_paragraph(block[lead..].lines().next().unwrap_or("")) {
            at.push(range.start + lead);
        }
    }
    at
}

/// `a` and `b` as one slice of `src`, when both are slices of it and `b` follows `a` directly.
fn adjacent<'a>(src: &'a str, a: &str, b: &str) -> Option<&'a str> {
    let base = src.as_ptr() as usize;
    let start = (a.as_ptr() as usize).checked_sub(base)?;
    let mid = (b.as_ptr() as usize).checked_sub(base)?;
    if start + a.len() != mid {
        return None;
    }
    src.get(start..mid + b.len())
}

/// Drops the `\n` a text ends with, if it does, without copying a borrowed text.
fn drop_newline(t: &mut xml::Str<'_>) {
    match t {
        Cow::Borrowed(s) => *s = s.strip_suffix('\n').unwrap_or(s),
        Cow::Owned(s) => {
            if s.ends_with('\n') {
                s.pop();
            }
        }
    }
}

/// A Markdown event's text as the tree keeps it: borrowed when pulldown-cmark borrowed it.
fn text_of(t: CowStr<'_>) -> xml::Str<'_> {
    match t {
        CowStr::Borrowed(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.into_string()),
    }
}

/// Whether a line that starts with a placeholder is a paragraph's first line to the reader:
/// text stands beside its comments ([`protect_placeholder_paragraphs`]).
pub(crate) fn starts_placeholder_paragraph(line: &str) -> bool {
    line.starts_with(PLACEHOLDER_OPEN) && has_text_beside_comments(line)
}

/// Whether a line holds text besides its HTML comments and tags.
fn has_text_beside_comments(line: &str) -> bool {
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return false;
        }
        if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = &after[end + 3..],
                None => return false,
            }
        } else if rest.starts_with('<') {
            match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => return true,
            }
        } else {
            return true;
        }
    }
}

/// The storage written so far, and the next task id.
struct Output {
    storage: String,
    next_task: u32,
}

impl Output {
    /// Finishes complete top-level nodes (post-order rewrites) and writes them.
    fn write<'a>(&mut self, nodes: impl Iterator<Item = Node<'a>>) {
        for mut node in nodes {
            fix_nodes(std::slice::from_mut(&mut node), &mut self.next_task);
            stray_fallbacks(std::slice::from_mut(&mut node));
            xml::write_nodes(
                std::slice::from_ref(&node),
                WriteMode::default(),
                &mut self.storage,
            );
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Root,
    /// Opened by Markdown syntax; closed only by the matching Markdown end.
    Md(TagEnd),
    Alert,
    Link {
        url: String,
        title: String,
        autolink: bool,
    },
    Image {
        url: String,
        title: String,
    },
    /// Opened by raw HTML or a placeholder comment.
    Html,
}

struct Frame<'a> {
    el: Element<'a>,
    kind: Kind,
    /// Storage levels this frame can become (see [`levels`]).
    levels: usize,
    /// Its place in a `list-table` directive, which the storage counts differently.
    role: Role,
    /// `[` that may open a bracketed span (see [`BRACKET`]) among its children; each holds a
    /// level of depth for the span it may become.
    brackets: usize,
    /// No child before this index is such a `[`.
    bracket_from: usize,
    /// A paragraph with no room for its `p` (see [`Builder::paragraph`]): its children go
    /// into its parent.
    unwrap: bool,
}

impl<'a> Frame<'a> {
    /// A frame holding nothing yet.
    fn new(el: Element<'a>, kind: Kind, levels: usize, role: Role) -> Self {
        Frame {
            el,
            kind,
            levels,
            role,
            brackets: 0,
            bracket_from: 0,
            unwrap: false,
        }
    }
}

/// Stands among a frame's children for a `[` that a `]{attrs}` may still close as a
/// bracketed span. Storage never yields a raw node like it (those start with `?` or `!`);
/// one left over is the text `[`.
const BRACKET: &str = "[";

fn is_bracket(n: &Node) -> bool {
    matches!(n, Node::Raw(r) if r == BRACKET)
}

/// Turns the `[` that closed no span back into text.
fn settle_brackets(children: &mut [Node]) {
    for n in children {
        if is_bracket(n) {
            *n = Node::Text(BRACKET.into());
        }
    }
}

/// Where a frame sits in a `list-table`: the directive is the `table`, its list the `tbody`,
/// an item of that list a `tr`, the list in it nothing, and that list's items the cells.
/// Anything else directly in the directive or a row is wrapped (`tbody`/`tr`/`td` or `td`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    None,
    ListTable,
    Rows,
    Row,
    Cells,
}

impl Role {
    /// The role of a child element of a frame with this role, and the levels it adds to (or
    /// takes from) the child's own.
    fn child(self, name: &str) -> (Role, isize) {
        let list = matches!(name, "ul" | "ol");
        match self {
            Role::ListTable if list => (Role::Rows, 0),
            Role::ListTable => (Role::None, 3),
            Role::Rows if name == "li" => (Role::Row, 0),
            Role::Row if list => (Role::Cells, -1),
            Role::Row => (Role::None, 1),
            _ => (Role::None, 0),
        }
    }
}

/// Whether an element is the Markdown form of an anchor macro (`<a id="x"></a>`, [`fix_node`])
/// when it ends empty: an `<a>` with an `id` alone (a placeholder's carries [`VERBATIM`] too).
fn anchor_form(el: &Element) -> bool {
    el.name == "a" && el.attrs.len() == 1 && el.attr("id").is_some()
}

/// How many levels of storage an element opened here can become, so that the depth the
/// builder counts bounds the depth of the storage it writes: a panel becomes
/// `ac:structured-macro` + `ac:rich-text-body`, a link to one of our schemes `ac:link` +
/// `ac:link-body`, an image `ac:image` + `ri:url`, `<details>` an expand macro with its body,
/// marked directives what they become. (A task item, `ac:task` + `ac:task-body`, takes its
/// second level when its marker arrives; an `<a id>` that ends empty, an anchor macro with its
/// parameter, is settled when it ends: [`Builder::finish_html`].)
fn levels(el: &Element, kind: &Kind) -> usize {
    match kind {
        Kind::Alert | Kind::Image { .. } => 2,
        Kind::Link { url, .. } if links::is_ours(url) => 2,
        // `<details>` becomes an expand macro, unless a placeholder carried it.
        Kind::Html if el.name == "details" && !el.attrs.iter().any(|(k, _)| k == VERBATIM) => 2,
        // Marked directives: an image and its caption around the body; Cloud's extension, its
        // node and its content (the fallback holds the body as deep: two `div`s); the
        // extension, the list node and an item's content around a decision's text.
        Kind::Html if el.name == directive::FIGURE || el.name == directive::DECISIONS => 2,
        Kind::Html if el.name.starts_with(directive::ADF) => 3,
        _ => 1,
    }
}

#[derive(Default)]
struct TableState {
    aligns: Vec<Alignment>,
    in_head: bool,
    col: usize,
}

struct Builder<'a> {
    src: &'a str,
    stack: Vec<Frame<'a>>,
    /// Storage depth of the open frames: the sum of their `levels`.
    depth: usize,
    issues: Vec<Issue>,
    /// Issues that left part of the input out, which a writer that must lose nothing refuses.
    left_out: Vec<Issue>,
    table: TableState,
    /// Fenced code being collected: (info, text).
    code: Option<(String, String)>,
    /// An HTML block being collected: (start offset, text). pulldown-cmark gives it line by line.
    html_block: Option<(usize, String)>,
    /// Open container directives, innermost last.
    directives: Vec<OpenDirective>,
    /// Parts of the current paragraph that are directive fences, not text.
    para: ParaSkip,
    /// Markdown ends still to come for frames a directive's closing fence closed early.
    orphan_ends: Vec<TagEnd>,
    /// The last event started a line of a tight list item's text (its start, a soft break).
    line_start: bool,
    /// The attribute block of the last bracketed span: events inside it are skipped.
    skip: Range<usize>,
}

/// A container directive whose closing fence has not come yet.
struct OpenDirective {
    colons: usize,
    /// The storage end tags its closing fence writes.
    close: String,
    /// Frames open before it, so a fence after its frames were closed writes nothing.
    frames: usize,
    /// Frames open once it was opened: what is above them when it closes is closed first.
    inner: usize,
}

/// Which events of the current paragraph belong to directive fences.
#[derive(Default)]
struct ParaSkip {
    /// The whole paragraph is a fence: skip everything up to its end.
    all: bool,
    /// Events ending at or before this offset are the opening fence line.
    until: usize,
    /// A closing fence on the paragraph's last line: its offset and colons.
    close: Option<(usize, usize)>,
}

impl<'a> Builder<'a> {
    fn top(&mut self) -> &mut Element<'a> {
        let last = self.stack.len() - 1;
        &mut self.stack[last].el
    }

    fn push_node(&mut self, node: Node<'a>) {
        let src = self.src;
        let top = self.top();
        if let (Node::Text(t), Some(Node::Text(prev))) = (&node, top.children.last_mut()) {
            // Lines of a paragraph are one slice of the source: they stay borrowed.
            match (&*prev, t) {
                (Cow::Borrowed(p), Cow::Borrowed(n)) if let Some(both) = adjacent(src, p, n) => {
                    *prev = Cow::Borrowed(both);
                }
                _ => prev.to_mut().push_str(t),
            }
            return;
        }
        top.children.push(node);
    }

    /// Refuses an element `levels` deep below the open frames when that passes [`MAX_DEPTH`].
    /// The levels held by `[` that may still open a span are given up first, outermost
    /// first: those `[` are text.
    /// Last, an open paragraph that came first in its container gives up its `p` (see
    /// [`Builder::paragraph`]).
    fn room(&mut self, levels: usize, pos: usize) -> Result<(), TooDeep> {
        while self.depth + levels > MAX_DEPTH {
            if !self.release_bracket() && !self.release_paragraph() {
                return Err(TooDeep { pos });
            }
        }
        Ok(())
    }

    /// Makes the open paragraph, if it came first in its container, its text alone: one
    /// level fewer. False when there is none to make so.
    fn release_paragraph(&mut self) -> bool {
        let Some(at) = self
            .stack
            .iter()
            .rposition(|f| f.kind == Kind::Md(TagEnd::Paragraph))
        else {
            return false;
        };
        if at < 1 || self.stack[at].unwrap || !self.first_in(at - 1) {
            return false;
        }
        let f = &mut self.stack[at];
        f.unwrap = true;
        f.levels -= 1;
        self.depth -= 1;
        true
    }

    /// Whether a paragraph opened in frame `at` may be its text alone: nothing before it in
    /// the frame but blanks, blocks and an expand's `<summary>`, so that its text joins no
    /// text or inline element before it (two paragraphs would read as one).
    fn first_in(&self, at: usize) -> bool {
        let f = &self.stack[at];
        let last = f.el.children.iter().rev().find(|n| !crate::to_md::is_ws(n));
        at > 0
            && last.is_none_or(|n| {
                crate::to_md::is_block(n)
                    || (f.el.name == "details"
                        && matches!(n, Node::Element(s) if s.name == "summary"))
            })
    }

    /// Turns the outermost `[` that holds a level into text; false when there is none.
    fn release_bracket(&mut self) -> bool {
        for f in &mut self.stack {
            if f.brackets == 0 {
                continue;
            }
            // Children before `bracket_from` hold no `[`: each search starts where the last
            // one stopped.
            let from = f.bracket_from.min(f.el.children.len());
            if let Some(i) = f.el.children[from..].iter().position(is_bracket) {
                f.el.children[from + i] = Node::Text(BRACKET.into());
                f.bracket_from = from + i + 1;
                f.brackets -= 1;
                self.depth -= 1;
                return true;
            }
        }
        false
    }

    fn open(&mut self, name: &str, kind: Kind, pos: usize) -> Result<(), TooDeep> {
        let mut el = Element::new(xml::name(name));
        el.pos = pos;
        self.push_frame(el, kind)
    }

    fn push_frame(&mut self, el: Element<'a>, kind: Kind) -> Result<(), TooDeep> {
        let (role, extra) = self.child_role(&el.name);
        let role = if el.name == "table" && el.attr(directive::HEADER_ROWS).is_some() {
            Role::ListTable
        } else {
            role
        };
        // An expand's (first) `<summary>` is its title parameter, beside its body: no level of
        // its own.
        let title = el.name == "summary"
            && self.stack.last().is_some_and(|f| {
                f.el.name == "details"
                    && f.el.attr(VERBATIM).is_none()
                    && !f
                        .el
                        .children
                        .iter()
                        .any(|n| matches!(n, Node::Element(s) if s.name == "summary"))
            });
        let levels = if title {
            0
        } else {
            levels(&el, &kind).saturating_add_signed(extra)
        };
        self.room(levels, el.pos)?;
        self.depth += levels;
        self.stack.push(Frame::new(el, kind, levels, role));
        Ok(())
    }

    /// The role and extra levels of an element opened in the top frame.
    fn child_role(&self, name: &str) -> (Role, isize) {
        self.stack
            .last()
            .map_or((Role::None, 0), |f| f.role.child(name))
    }

    /// Adds an element with no frame of its own, `levels` deep (a code macro is two).
    fn push_leaf(&mut self, el: Element<'a>, levels: usize, pos: usize) -> Result<(), TooDeep> {
        let levels = levels.saturating_add_signed(self.child_role(&el.name).1);
        self.room(levels, pos)?;
        self.push_node(Node::Element(el));
        Ok(())
    }

    /// Removes the top frame; the root stays.
    fn pop_frame(&mut self) -> Option<Frame<'a>> {
        if self.stack.len() <= 1 {
            return None;
        }
        let mut frame = self.stack.pop()?;
        self.depth -= frame.levels + frame.brackets;
        if frame.brackets > 0 {
            settle_brackets(&mut frame.el.children);
        }
        Some(frame)
    }

    /// Takes the complete top-level nodes: all but a last text node, which later text may
    /// still join.
    fn drain_complete(&mut self) -> std::vec::Drain<'_, Node<'a>> {
        let root = &mut self.stack[0].el.children;
        let keep = usize::from(matches!(root.last(), Some(Node::Text(_))));
        let end = root.len().saturating_sub(keep);
        root.drain(..end)
    }

    /// Pops the top frame into its parent, turning link/image frames into storage.
    fn pop_top(&mut self, issues: &mut Vec<Issue>) {
        let Some(frame) = self.pop_frame() else {
            return;
        };
        if frame.kind == Kind::Html {
            issues.push(Issue {
                pos: frame.el.pos,
                message: format!(
                    "`<{}>` not closed in the Markdown; closed at its container's end",
                    frame.el.name
                ),
            });
        }
        if frame.unwrap {
            frame
                .el
                .children
                .into_iter()
                .for_each(|n| self.push_node(n));
            return;
        }
        let node = self.finish_html(frame);
        self.push_node(node);
    }

    /// Puts the nodes the top frame got from `before` on into a paragraph when they are
    /// all inline: a line of placeholders that hold no block is a paragraph of storage that
    /// Markdown can only write as an HTML block (an image with a layout alone in its
    /// paragraph). Bare, two such paragraphs in a row were written back as one line. A macro
    /// alone first in a list item, or what has no room for the `p`, stays bare.
    fn paragraph_of_placeholders(&mut self, before: usize) {
        let depth = self.depth;
        let Some(f) = self.stack.last_mut() else {
            return;
        };
        // A macro alone first in a list item may be a tight item's text, which has no `p`.
        let in_item = f.kind == Kind::Md(TagEnd::Item);
        let top = &mut f.el;
        let Some(new) = top.children.get(before..) else {
            return;
        };
        // Elements of a paragraph's text; not the parts a placeholder may carry for the
        // element around it (an alert's `ac:parameter`). (A macro with a body stands alone.)
        let text_element = |n: &Node| match n {
            Node::Element(e) => {
                let part = e.name.starts_with("ri:")
                    || e.name.starts_with("ac:task")
                    || e.name.starts_with("ac:adf-")
                    || matches!(
                        &*e.name,
                        "ac:parameter"
                            | "ac:plain-text-body"
                            | "ac:link-body"
                            | "ac:plain-text-link-body"
                            | "ac:caption"
                    );
                !crate::to_md::stands_alone(n) && !part
            }
            _ => true,
        };
        // A paragraph that starts with a comment (in a placeholder, an element until
        // `fix_node`) is written as HTML (`Cx::paragraph_block`).
        let mut content = new.iter().filter(|n| !xml::is_blank(n));
        let (first, second) = (content.next(), content.next());
        let inline = new.iter().any(|n| matches!(n, Node::Element(_)))
            && !matches!(first, Some(Node::Comment(_)))
            && !matches!(first, Some(Node::Element(c)) if c.name == xml::NESTED_COMMENT)
            && new.iter().all(text_element);
        let lone_macro = matches!((first, second),
            (Some(Node::Element(m)), None) if m.name == "ac:structured-macro");
        let first_in_item = in_item && top.children.iter().take(before).all(xml::is_blank);
        if !inline || (first_in_item && lone_macro) || depth + 1 + xml::depth_of(new) > MAX_DEPTH {
            return;
        }
        let mut p = Element::new(xml::name("p"));
        p.children = top.children.split_off(before);
        top.children.push(Node::Element(p));
    }

    /// [`finish_frame`], once the frame is popped. An `<a id>` that ended empty becomes an
    /// anchor macro, one level deeper than the element (its parameter). One level short, the
    /// paragraph around it gives up its `p` when it may ([`Builder::release_paragraph`]:
    /// storage holds an anchor right in a container at the limit, which Markdown can only
    /// write in a paragraph); with no room still, it stays the element, as a placeholder's
    /// does.
    fn finish_html(&mut self, mut frame: Frame<'a>) -> Node<'a> {
        if frame.kind == Kind::Html
            && anchor_form(&frame.el)
            && frame.el.children.is_empty()
            && self.depth + 2 > MAX_DEPTH
            && !(self.depth < MAX_DEPTH && self.release_paragraph())
        {
            frame.el.attrs.push((VERBATIM.into(), "".into()));
        }
        finish_frame(frame)
    }

    /// A `::fallback` line in an `:::adf-…` directive is a `div` of its HTML fallback, each
    /// inside the one before around the content: past the first, each is a level deeper than
    /// the directive counts ([`levels`]).
    fn fallback_level(&mut self, pos: usize) -> Result<(), TooDeep> {
        let Some(f) = self.stack.last() else {
            return Ok(());
        };
        let another = f.el.name.starts_with(directive::ADF)
            && f.el
                .children
                .iter()
                .any(|n| matches!(n, Node::Element(x) if x.name == directive::FALLBACK));
        if another {
            self.room(1, pos)?;
            self.depth += 1;
            if let Some(f) = self.stack.last_mut() {
                f.levels += 1;
            }
        }
        Ok(())
    }

    /// Opens a paragraph. Storage may hold text right in a container at [`MAX_DEPTH`] (a
    /// quote, a panel's body), which Markdown can only write as a paragraph: a paragraph with
    /// no room for its `p`, or for an element in it ([`Builder::room`]), whose container
    /// holds nothing else yet is written as its text alone, so that such storage comes back.
    fn paragraph(&mut self, pos: usize) -> Result<(), TooDeep> {
        let Err(too_deep) = self.room(1, pos) else {
            return self.open("p", Kind::Md(TagEnd::Paragraph), pos);
        };
        // In a list-table the paragraph's place is wrapped in cells, which need room too.
        if self.child_role("p").1 != 0 || !self.first_in(self.stack.len() - 1) {
            return Err(too_deep);
        }
        let mut el = Element::new(xml::name("p"));
        el.pos = pos;
        self.stack.push(Frame {
            unwrap: true,
            ..Frame::new(el, Kind::Md(TagEnd::Paragraph), 0, Role::None)
        });
        Ok(())
    }

    fn close_md(&mut self, end: TagEnd) {
        let idx = self.stack.iter().rposition(|f| match &f.kind {
            Kind::Md(t) => *t == end,
            Kind::Alert => end == TagEnd::BlockQuote(None) || matches!(end, TagEnd::BlockQuote(_)),
            Kind::Link { .. } => end == TagEnd::Link,
            Kind::Image { .. } => end == TagEnd::Image,
            _ => false,
        });
        let Some(idx) = idx else { return };
        if idx == 0 {
            return;
        }
        let mut issues = std::mem::take(&mut self.issues);
        while self.stack.len() > idx {
            self.pop_top(&mut issues);
        }
        self.issues = issues;
    }

    fn event(&mut self, event: Event<'a>, range: Range<usize>) -> Result<(), TooDeep> {
        let pos = range.start;
        if let Some((_, text)) = &mut self.code {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((info, text)) = self.code.take() {
                        let el = code_macro(&info, &text);
                        self.push_leaf(el, 2, pos)?;
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        if let Some((_, buf)) = &mut self.html_block {
            match event {
                Event::Html(h) => {
                    buf.push_str(&h);
                    return Ok(());
                }
                Event::End(TagEnd::HtmlBlock) => {
                    if let Some((at, buf)) = self.html_block.take() {
                        let before = self.top().children.len();
                        self.html(&buf, at, true)?;
                        if crate::to_md::only_placeholders(&buf) {
                            self.paragraph_of_placeholders(before);
                        }
                    }
                    // What follows starts a line (a leaf directive after a placeholder alone
                    // on its line in a tight item).
                    self.line_start = true;
                    return Ok(());
                }
                _ => {}
            }
        }
        if range.start >= self.skip.start && range.start < self.skip.end {
            // The attribute block of a bracketed span was read from the source: what lies in
            // it is not content, and a text that runs past it keeps what follows it.
            let end = self.skip.end;
            if range.end <= end {
                return Ok(());
            }
            if let Event::Text(_) = &event {
                self.skip = 0..0;
                let src = self.src;
                return self.text(src.get(end..range.end).unwrap_or(""), end..range.end);
            }
        }
        // A task item's marker comes inside its first paragraph, before the text: it is the
        // item's, even when that paragraph is a directive fence.
        let marker = matches!(event, Event::TaskListMarker(_));
        if self.para.all && !marker {
            if matches!(event, Event::End(TagEnd::Paragraph)) {
                self.para.all = false;
            }
            return Ok(());
        }
        if !matches!(event, Event::End(TagEnd::Paragraph)) && !marker {
            if range.end <= self.para.until {
                return Ok(());
            }
            if self.para.close.is_some_and(|(at, _)| range.start >= at) {
                return Ok(());
            }
        }
        // A task item's marker comes between the item's start and its text.
        let starts_line = matches!(event, Event::Start(Tag::Item) | Event::SoftBreak)
            || (self.line_start && matches!(event, Event::TaskListMarker(_)));
        let line_start = std::mem::replace(&mut self.line_start, starts_line);
        if line_start
            && let Event::Text(t) = &event
            && self.tight_item_fence(t, &range)?
        {
            return Ok(());
        }
        match event {
            Event::Start(Tag::Paragraph) => {
                if self.paragraph_start(range)? {
                    self.start(Tag::Paragraph, pos)?;
                }
            }
            Event::End(TagEnd::Paragraph) => {
                self.para.until = 0;
                if self.para.close.is_some()
                    && let Some(Node::Text(t)) = self.top().children.last_mut()
                {
                    drop_newline(t);
                }
                self.end(TagEnd::Paragraph);
                if let Some((at, colons)) = self.para.close.take() {
                    self.close_directive(colons, at)?;
                }
            }
            Event::Start(Tag::HtmlBlock) => self.html_block = Some((pos, String::new())),
            // A heading's attribute block stands apart from its text (`# Title {align=center}`);
            // right after a `]` it is a bracketed span's, which the span reads from the source.
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => {
                let apart = self.src.get(range).and_then(directive::heading_attr_block);
                let attrs = if apart.is_some() { attrs } else { Vec::new() };
                let tag = Tag::Heading {
                    level,
                    id,
                    classes,
                    attrs,
                };
                self.start(tag, pos)?
            }
            Event::Start(tag) => self.start(tag, pos)?,
            Event::End(end) => self.end(end),
            Event::Text(t) => self.text(&t, range)?,
            Event::Code(t) => {
                let el = Element::new("code").with_child(Node::Text(text_of(t)));
                self.push_leaf(el, 1, pos)?;
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                self.push_node(Node::Text(t.to_string().into()))
            }
            Event::Html(h) => self.html(&h, pos, true)?,
            Event::InlineHtml(h) => self.html(&h, pos, false)?,
            Event::FootnoteReference(f) => self.push_node(Node::Text(format!("[^{f}]").into())),
            Event::SoftBreak => {
                let own = self.src.get(range).filter(|b| *b == "\n");
                self.push_node(Node::Text(Cow::Borrowed(own.unwrap_or("\n"))));
            }
            Event::HardBreak => self.push_leaf(Element::new("br"), 1, pos)?,
            Event::Rule => self.push_leaf(Element::new("hr"), 1, pos)?,
            Event::TaskListMarker(done) => {
                // The marker belongs to the item; in a loose list its paragraph is open already.
                let mut at = self.stack.len() - 1;
                if at > 1 && self.stack[at].el.name == "p" && self.stack[at].el.children.is_empty()
                {
                    at -= 1;
                }
                if at > 0 && self.stack[at].el.name == "li" {
                    // A task item becomes `ac:task` + `ac:task-body`: one level more than `li`.
                    self.room(1, pos)?;
                    self.depth += 1;
                    let f = &mut self.stack[at];
                    f.levels += 1;
                    f.el.attrs.push((
                        "data-task".into(),
                        if done { "complete" } else { "incomplete" }.into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn start(&mut self, tag: Tag<'_>, pos: usize) -> Result<(), TooDeep> {
        match tag {
            Tag::Paragraph => self.paragraph(pos)?,
            Tag::Heading {
                level,
                id,
                classes,
                attrs,
            } => {
                let n = match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    HeadingLevel::H4 => 4,
                    HeadingLevel::H5 => 5,
                    HeadingLevel::H6 => 6,
                };
                self.open(&format!("h{n}"), Kind::Md(TagEnd::Heading(level)), pos)?;
                if let Some(id) = id {
                    self.top().attrs.push(("id".into(), id.to_string().into()));
                }
                if !classes.is_empty() {
                    let c: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
                    self.top().attrs.push(("class".into(), c.join(" ").into()));
                }
                if let Some(a) = align_attr(&attrs) {
                    let style = format!("text-align: {a};");
                    self.top().attrs.push(("style".into(), style.into()));
                }
            }
            Tag::BlockQuote(None) => {
                self.open("blockquote", Kind::Md(TagEnd::BlockQuote(None)), pos)?
            }
            Tag::BlockQuote(Some(kind)) => {
                let name = match kind {
                    BlockQuoteKind::Note => "info",
                    BlockQuoteKind::Tip => "tip",
                    BlockQuoteKind::Important | BlockQuoteKind::Warning => "note",
                    BlockQuoteKind::Caution => "warning",
                };
                debug_assert!(PANELS.iter().any(|(n, _)| *n == name));
                self.open("ac:structured-macro", Kind::Alert, pos)?;
                self.top().attrs.push(("ac:name".into(), name.into()));
            }
            Tag::CodeBlock(kind) => {
                let info = match kind {
                    CodeBlockKind::Fenced(i) => i.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((info, String::new()));
            }
            Tag::HtmlBlock => {}
            Tag::List(start) => match start {
                Some(n) => {
                    self.open("ol", Kind::Md(TagEnd::List(true)), pos)?;
                    if n != 1 {
                        self.top()
                            .attrs
                            .push(("start".into(), n.to_string().into()));
                    }
                }
                None => self.open("ul", Kind::Md(TagEnd::List(false)), pos)?,
            },
            Tag::Item => self.open("li", Kind::Md(TagEnd::Item), pos)?,
            Tag::Table(aligns) => {
                self.table = TableState {
                    aligns,
                    in_head: false,
                    col: 0,
                };
                self.open("table", Kind::Md(TagEnd::Table), pos)?;
                self.open("tbody", Kind::Md(TagEnd::Table), pos)?;
            }
            Tag::TableHead => {
                self.table.in_head = true;
                self.table.col = 0;
                self.open("tr", Kind::Md(TagEnd::TableHead), pos)?;
            }
            Tag::TableRow => {
                self.table.col = 0;
                self.open("tr", Kind::Md(TagEnd::TableRow), pos)?;
            }
            Tag::TableCell => {
                let name = if self.table.in_head { "th" } else { "td" };
                self.open(name, Kind::Md(TagEnd::TableCell), pos)?;
                let align = match self.table.aligns.get(self.table.col) {
                    Some(Alignment::Left) => Some("left"),
                    Some(Alignment::Center) => Some("center"),
                    Some(Alignment::Right) => Some("right"),
                    _ => None,
                };
                if let Some(a) = align {
                    self.top()
                        .attrs
                        .push(("style".into(), format!("text-align: {a};").into()));
                }
                self.table.col += 1;
            }
            Tag::Emphasis => self.open("em", Kind::Md(TagEnd::Emphasis), pos)?,
            Tag::Strong => self.open("strong", Kind::Md(TagEnd::Strong), pos)?,
            Tag::Strikethrough => self.open("del", Kind::Md(TagEnd::Strikethrough), pos)?,
            Tag::Superscript => self.open("sup", Kind::Md(TagEnd::Superscript), pos)?,
            Tag::Subscript => self.open("sub", Kind::Md(TagEnd::Subscript), pos)?,
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => {
                let autolink = matches!(link_type, LinkType::Autolink | LinkType::Email);
                let kind = Kind::Link {
                    url: dest_url.to_string(),
                    title: title.to_string(),
                    autolink,
                };
                self.open("a", kind, pos)?;
            }
            Tag::Image {
                dest_url, title, ..
            } => {
                let kind = Kind::Image {
                    url: dest_url.to_string(),
                    title: title.to_string(),
                };
                self.open("ac:image", kind, pos)?;
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.open("div", Kind::Md(TagEnd::Paragraph), pos)?,
        }
        Ok(())
    }

    fn end(&mut self, end: TagEnd) {
        let same = |e: &TagEnd| {
            *e == end || matches!((e, &end), (TagEnd::BlockQuote(_), TagEnd::BlockQuote(_)))
        };
        if let Some(i) = self.orphan_ends.iter().rposition(same) {
            self.orphan_ends.remove(i);
            return;
        }
        match end {
            TagEnd::HtmlBlock | TagEnd::CodeBlock => {}
            TagEnd::TableHead => {
                self.close_md(TagEnd::TableHead);
                self.table.in_head = false;
            }
            TagEnd::Table => {
                self.close_md(TagEnd::Table);
                self.close_md(TagEnd::Table);
            }
            TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => self.close_md(TagEnd::Paragraph),
            other => self.close_md(other),
        }
    }

    /// Text, with `:name:` shortcodes of Confluence emoticons turned into `ac:emoticon`.
    fn text(&mut self, t: &str, range: Range<usize>) -> Result<(), TooDeep> {
        // Text right in a list-table's row (a tight `* x`) gets a cell of its own.
        if self.stack.last().is_some_and(|f| f.role == Role::Row) {
            self.room(1, range.start)?;
        }
        let Some(t) = self.src.get(range.clone()).filter(|s| *s == t) else {
            self.push_node(Node::Text(t.to_string().into()));
            return Ok(());
        };
        if matches!(t, "[" | "![" | "]") && !self.escaped(range.start) {
            // `![` that opens no image comes as one text.
            if let Some(bang) = t.strip_suffix('[') {
                if !bang.is_empty() {
                    self.push_node(Node::Text(Cow::Borrowed(bang)));
                }
                self.open_bracket(range.end - 1);
                return Ok(());
            }
            if self.close_bracket(range.end)? {
                return Ok(());
            }
        }
        if !t.contains(':') {
            self.push_node(Node::Text(Cow::Borrowed(t)));
            return Ok(());
        }
        // Text directives, `:name{attrs}`: the macros they stand for, read from the source.
        let mut t = t;
        let mut start = range.start;
        while let Some((i, name, attrs, end)) = self.text_directive(t, start) {
            if i > 0 {
                self.shortcodes(&t[..i], start..start + i)?;
            }
            let (whole, _) = self.directive_storage(&name, &attrs, false, start + i);
            self.html(&whole, start + i, false)?;
            if end >= start + t.len() {
                // The attribute block runs past this text: what lies in it is skipped.
                self.skip = start + i..end;
                return Ok(());
            }
            t = &t[end - start..];
            start = end;
        }
        self.shortcodes(t, start..range.end)
    }

    /// The first text directive in `t` (verbatim source from `start`): its offset in `t`,
    /// name, attributes and end offset in the source.
    fn text_directive(
        &self,
        t: &str,
        start: usize,
    ) -> Option<(usize, String, Vec<directive::Attr>, usize)> {
        t.match_indices(':').find_map(|(i, _)| {
            let pos = start + i;
            if self.escaped(pos) {
                return None;
            }
            let (name, attrs, end) = directive::text_directive_at(self.src, pos)?;
            Some((i, name, attrs, end))
        })
    }

    /// Text, with `:name:` shortcodes of Confluence emoticons turned into `ac:emoticon`.
    fn shortcodes(&mut self, t: &'a str, range: Range<usize>) -> Result<(), TooDeep> {
        let escaped_start =
            range.start > 0 && self.src.as_bytes().get(range.start - 1) == Some(&b'\\');
        let mut rest = t;
        let mut at_start = true;
        while let Some(i) = rest.find(':') {
            let tail = &rest[i + 1..];
            let hit = EMOTICONS
                .iter()
                .find(|e| tail.starts_with(**e) && tail[e.len()..].starts_with(':'));
            match hit {
                Some(name) if !(at_start && i == 0 && escaped_start) => {
                    if i > 0 {
                        self.push_node(Node::Text(Cow::Borrowed(&rest[..i])));
                    }
                    let el = Element::new("ac:emoticon").with_attr("ac:name", *name);
                    self.push_leaf(el, 1, range.start)?;
                    rest = &tail[name.len() + 1..];
                }
                _ => {
                    self.push_node(Node::Text(Cow::Borrowed(&rest[..=i])));
                    rest = tail;
                }
            }
            at_start = false;
        }
        if !rest.is_empty() {
            self.push_node(Node::Text(Cow::Borrowed(rest)));
        }
        Ok(())
    }

    /// Whether the byte at `pos` is escaped by an odd run of backslashes before it.
    fn escaped(&self, pos: usize) -> bool {
        crate::directive::escaped_at(self.src.as_bytes(), pos)
    }

    /// A `[` in text: it may open a bracketed span, so it holds a level of depth until its
    /// frame ends; without room it is text.
    fn open_bracket(&mut self, pos: usize) {
        if self.room(1, pos).is_err() {
            self.push_node(Node::Text(BRACKET.into()));
            return;
        }
        self.depth += 1;
        if let Some(f) = self.stack.last_mut() {
            f.brackets += 1;
        }
        self.top().children.push(Node::Raw(BRACKET.into()));
    }

    /// A `]` in text followed by an attribute block closes the nearest open `[` of the same
    /// frame as a bracketed span: `[text]{style="…"}` is `<span style="…">text</span>`.
    fn close_bracket(&mut self, end: usize) -> Result<bool, TooDeep> {
        let has_open = self.stack.last().is_some_and(|f| f.brackets > 0);
        let rest = self.src.get(end..).unwrap_or("");
        if !has_open || !rest.starts_with('{') {
            return Ok(false);
        }
        let Some(span) = directive::span_attrs(rest) else {
            return Ok(false);
        };
        let (attrs, len) = span;
        let Some(frame) = self.stack.last_mut() else {
            return Ok(false);
        };
        let Some(at) = frame.el.children.iter().rposition(is_bracket) else {
            return Ok(false);
        };
        let comment = matches!(attrs.as_slice(), [(k, _)] if k == directive::COMMENT_REF);
        let mut el = Element::new(if comment {
            "ac:inline-comment-marker"
        } else {
            "span"
        });
        el.attrs = attrs;
        el.children = frame.el.children.split_off(at + 1);
        el.pos = end;
        frame.el.children.pop();
        frame.brackets -= 1;
        // The level the `[` held is the span's.
        self.depth -= 1;
        self.push_node(Node::Element(el));
        self.skip = end..end + len;
        Ok(true)
    }

    /// A paragraph that starts with a directive fence opens (or closes) the directive, and a
    /// closing fence on its last line closes one after it. Returns whether the paragraph has
    /// text of its own.
    fn paragraph_start(&mut self, range: Range<usize>) -> Result<bool, TooDeep> {
        let Some(text) = self.src.get(range.clone()) else {
            return Ok(true);
        };
        let text = text.trim_end();
        let first_end = text.find('\n').unwrap_or(text.len());
        let multi = first_end < text.len();
        if text.starts_with("::")
            && let Some(fence) = directive::parse_fence(&text[..first_end])
            && self.apply_fence(fence, range.start, true)?
        {
            if !multi {
                self.para.all = true;
                return Ok(false);
            }
            self.para.until = range.start + first_end + 1;
        }
        if multi && let Some(nl) = text.rfind('\n') {
            let last = &text[nl + 1..];
            let lead = last.len() - last.trim_start_matches([' ', '\t', '>']).len();
            if let Some(directive::Fence::Close { colons }) = directive::parse_fence(&last[lead..])
                && self.directives.iter().any(|d| d.colons == colons)
            {
                self.para.close = Some((range.start + nl + 1 + lead, colons));
            }
        }
        Ok(true)
    }

    /// A fence line in a tight list item's text, where pulldown-cmark has no paragraph.
    fn tight_item_fence(&mut self, t: &str, range: &Range<usize>) -> Result<bool, TooDeep> {
        let in_item = self
            .stack
            .last()
            .is_some_and(|f| f.kind == Kind::Md(TagEnd::Item));
        // An escaped first colon (`\:::`) is text: pulldown-cmark's text starts after the `\`.
        if !in_item
            || !t.starts_with("::")
            || self.src.get(range.clone()) != Some(t)
            || self.escaped(range.start)
        {
            return Ok(false);
        }
        // The fence is the whole line, read from the source: Markdown may have split its
        // attribute block into several texts.
        let rest = self.src.get(range.start..).unwrap_or("");
        let line = rest.split('\n').next().unwrap_or("");
        let Some(fence) = directive::parse_fence(line) else {
            return Ok(false);
        };
        if !self.apply_fence(fence, range.start, false)? {
            return Ok(false);
        }
        self.skip = range.start..range.start + line.len();
        Ok(true)
    }

    /// Opens, writes or closes a directive; `paragraph` when the fence is a paragraph's line
    /// (not a tight item's text). `false` for a closing fence that closes nothing (it stays
    /// text).
    fn apply_fence(
        &mut self,
        fence: directive::Fence,
        pos: usize,
        paragraph: bool,
    ) -> Result<bool, TooDeep> {
        match fence {
            directive::Fence::Close { colons } => {
                if !self.directives.iter().any(|d| d.colons == colons) {
                    return Ok(false);
                }
                self.close_directive(colons, pos)?;
            }
            directive::Fence::Open {
                colons,
                name,
                attrs,
            } => {
                let (open, close) = self.directive_storage(&name, &attrs, true, pos);
                let frames = self.stack.len();
                self.html(&open, pos, false)?;
                self.directives.push(OpenDirective {
                    colons,
                    close,
                    frames,
                    inner: self.stack.len(),
                });
            }
            directive::Fence::Leaf { name, attrs } => {
                let (whole, _) = self.directive_storage(&name, &attrs, false, pos);
                // A macro that storage holds inline (a status) on a line of its own was alone
                // in a paragraph, the `p` its place: bare, two such lines would be written
                // back as one line of text (`:status{…}:status{…}`), and one after a tight
                // item's text would join it. First in a tight item it stays bare (the item
                // holds no `p`), and so it does with no room for one.
                // (Its tags bound its depth: an attribute may hold storage.)
                let apart = paragraph || !self.first_in(self.stack.len() - 1);
                let room = self.depth + 1 + whole.matches('<').count() <= MAX_DEPTH;
                if apart && room && INLINE_MACROS.contains(&&*name) {
                    self.html("<p>", pos, false)?;
                    self.html(&whole, pos, false)?;
                    self.html("</p>", pos, false)?;
                } else {
                    self.html(&whole, pos, false)?;
                }
            }
        }
        Ok(true)
    }

    /// [`directive::storage`], reporting the attributes it leaves out.
    fn directive_storage(
        &mut self,
        name: &str,
        attrs: &[directive::Attr],
        container: bool,
        pos: usize,
    ) -> (String, String) {
        let mut dropped = Vec::new();
        let parts = directive::storage(name, attrs, container, &mut dropped);
        for key in dropped {
            let issue = Issue {
                pos,
                message: format!(
                    "attribute `{key}` of directive `{name}` is not an XML name; left out"
                ),
            };
            self.left_out.push(issue.clone());
            self.issues.push(issue);
        }
        parts
    }

    /// Closes the innermost open directive with `colons` colons, and any opened inside it.
    fn close_directive(&mut self, colons: usize, pos: usize) -> Result<(), TooDeep> {
        // The line break before a closing fence on the last line of a text is not content.
        for f in self.stack.iter_mut().rev().take(2) {
            if let Some(Node::Text(t)) = f.el.children.last_mut() {
                drop_newline(t);
            }
        }
        let Some(idx) = self.directives.iter().rposition(|d| d.colons == colons) else {
            return Ok(());
        };
        if idx + 1 < self.directives.len() {
            self.issues.push(Issue {
                pos,
                message: "directive closed while a directive inside it was open; both closed here"
                    .into(),
            });
        }
        while self.directives.len() > idx {
            let Some(d) = self.directives.pop() else {
                break;
            };
            if self.stack.len() < d.inner || d.inner <= d.frames {
                continue;
            }
            // A fence ends what was opened inside the directive, as a block parser would
            // (a lazy continuation line can put it inside a list item opened there).
            let mut issues = std::mem::take(&mut self.issues);
            while self.stack.len() > d.inner {
                if let Some(end) = self.stack.last().and_then(|f| md_end(&f.kind))
                    // A GFM table is two frames (`table`, `tbody`) for one end.
                    && !(end == TagEnd::Table && self.orphan_ends.last() == Some(&end))
                {
                    self.orphan_ends.push(end);
                }
                self.pop_top(&mut issues);
            }
            self.issues = issues;
            self.html(&d.close, pos, false)?;
        }
        Ok(())
    }

    /// Reads XML into the tree. `block` for a Markdown HTML block, whose layout whitespace
    /// ([`xml::layout_whitespace`]) is the Markdown's and is dropped; not for inline HTML nor
    /// for the storage a directive stands for, which keep every text.
    fn html(&mut self, html: &str, pos: usize, block: bool) -> Result<(), TooDeep> {
        let mut issues = std::mem::take(&mut self.issues);
        let fed = xml::tokenize(html, pos, &mut issues, |token, issues| {
            self.feed(token.into_owned(), block, false, issues)
        });
        self.issues = issues;
        fed
    }

    /// Adds one token of raw HTML or of a placeholder's storage (`verbatim`) to the tree.
    fn feed(
        &mut self,
        token: Token,
        block: bool,
        verbatim: bool,
        issues: &mut Vec<Issue>,
    ) -> Result<(), TooDeep> {
        match token {
            Token::Start {
                name,
                mut attrs,
                empty,
                pos,
            } => {
                // In a placeholder's storage, `<a id>` and `<details>` are those elements, not
                // the Markdown forms of an anchor and an expand ([`fix_node`]); a task there or
                // in raw HTML is as it was, without an id when it had none ([`number_task`]):
                // numbered, it came back with one, and its Markdown changed the second time.
                if (verbatim && matches!(&*name, "a" | "details")) || name == "ac:task" {
                    attrs.push((VERBATIM.into(), "".into()));
                }
                let el = Element {
                    name,
                    attrs,
                    children: Vec::new(),
                    pos,
                };
                if el.name == directive::FALLBACK {
                    self.fallback_level(pos)?;
                }
                if empty || xml::is_void(&el.name) {
                    let levels = if anchor_form(&el) {
                        2
                    } else {
                        levels(&el, &Kind::Html)
                    };
                    self.push_leaf(el, levels, pos)?;
                } else {
                    self.push_frame(el, Kind::Html)?;
                }
            }
            Token::End { name, pos } => {
                if xml::is_void(&name) {
                    return Ok(());
                }
                let mut found = None;
                for (i, f) in self.stack.iter().enumerate().rev() {
                    if f.kind != Kind::Html {
                        break;
                    }
                    if f.el.name == name {
                        found = Some(i);
                        break;
                    }
                }
                match found {
                    Some(idx) => {
                        while self.stack.len() > idx + 1 {
                            self.pop_top(issues);
                        }
                        if let Some(frame) = self.pop_frame() {
                            let node = self.finish_html(frame);
                            self.push_node(node);
                        }
                    }
                    None => issues.push(Issue {
                        pos,
                        message: format!("`</{name}>` closes nothing open here; ignored"),
                    }),
                }
            }
            Token::Text(t) => {
                if !(block && xml::layout_whitespace(&t)) {
                    self.push_node(Node::Text(t));
                }
            }
            Token::CData(t) => self.push_node(Node::CData(t)),
            Token::Comment(c) => match c.strip_prefix(MARK) {
                Some(inner) if inner.starts_with([' ', '\n', '\t']) => {
                    // Placeholder: the storage XML it carries goes back into the tree.
                    let base = self.stack.last().map(|f| f.el.pos).unwrap_or(0);
                    // It is the storage as written, whitespace and all: nothing in it is the
                    // Markdown's layout.
                    xml::tokenize(&inner[1..], base, issues, |t, issues| {
                        self.feed(t.into_owned(), false, true, issues)
                    })?;
                }
                _ => self.push_node(Node::Comment(c)),
            },
            Token::Raw(r) => self.push_node(Node::Raw(r)),
        }
        Ok(())
    }
}

/// The Markdown end event that closes a frame of this kind, if Markdown opened it.
fn md_end(kind: &Kind) -> Option<TagEnd> {
    match kind {
        Kind::Md(t) => Some(*t),
        Kind::Alert => Some(TagEnd::BlockQuote(None)),
        Kind::Link { .. } => Some(TagEnd::Link),
        Kind::Image { .. } => Some(TagEnd::Image),
        Kind::Root | Kind::Html => None,
    }
}

/// Turns a closed frame into its storage node.
fn finish_frame(frame: Frame) -> Node {
    let Frame { el, kind, .. } = frame;
    match kind {
        Kind::Link {
            url,
            title,
            autolink,
        } => match links::link_element(&url, &title, el.children, autolink) {
            Ok(link) => Node::Element(link),
            Err(children) => {
                let mut a = Element::new("a").with_attr("href", url);
                if let Some(data) = links::parse_data_title(&title) {
                    a.attrs.extend(data);
                } else if !title.is_empty() {
                    a.attrs.push(("title".into(), title.into()));
                }
                a.children = children;
                Node::Element(a)
            }
        },
        Kind::Image { url, title } => {
            let alt = el.text();
            Node::Element(links::image_element(&url, &title, &alt))
        }
        Kind::Alert => {
            let Element {
                name,
                attrs,
                children,
                pos,
            } = el;
            let mut m = Element {
                name,
                attrs,
                children: Vec::new(),
                pos,
            };
            let mut body = Element::new("ac:rich-text-body");
            let mut leading = true;
            for n in children {
                match n {
                    Node::Element(p) if leading && p.name == "ac:parameter" => {
                        m.children.push(Node::Element(p))
                    }
                    Node::Text(t) if leading && t.trim().is_empty() => {}
                    other => {
                        leading = false;
                        body.children.push(other);
                    }
                }
            }
            m.children.push(Node::Element(body));
            Node::Element(m)
        }
        Kind::Md(TagEnd::List(_)) => Node::Element(task_lists(el)),
        _ => Node::Element(el),
    }
}

/// A list whose items carry task markers becomes `ac:task-list`; mixed lists are split.
fn task_lists(list: Element) -> Element {
    let has_task = list.elements().any(|li| li.attr("data-task").is_some());
    if !has_task {
        return list;
    }
    let all_tasks = list.elements().all(|li| li.attr("data-task").is_some());
    if !all_tasks {
        // Confluence has no mixed list; keep non-task items, drop the marker attribute.
        let mut out = list;
        for n in &mut out.children {
            if let Node::Element(li) = n
                && let Some(status) = li.attr("data-task").map(str::to_string)
            {
                li.attrs.retain(|(k, _)| k != "data-task");
                let mark = if status == "complete" { "[x] " } else { "[ ] " };
                li.children.insert(0, Node::Text(mark.into()));
            }
        }
        return out;
    }
    let mut tl = Element::new("ac:task-list");
    for n in list.children {
        if let Node::Element(li) = n {
            let status = li.attr("data-task").unwrap_or("incomplete").to_string();
            let mut task = Element::new("ac:task");
            task.children.push(Node::Element(
                Element::new("ac:task-status").with_child(Node::Text(status.into())),
            ));
            let mut body = Element::new("ac:task-body");
            body.children = trim_task_body(li.children);
            task.children.push(Node::Element(body));
            tl.children.push(Node::Element(task));
        }
    }
    tl
}

fn trim_task_body(mut nodes: Vec<Node>) -> Vec<Node> {
    // A loose task item holds one paragraph; the task body takes its content.
    let only_p = nodes.len() == 1 && matches!(&nodes[0], Node::Element(p) if p.name == "p");
    if only_p && let Some(Node::Element(p)) = nodes.pop() {
        return p.children;
    }
    nodes.retain(|n| !matches!(n, Node::Comment(c) if c.trim().is_empty()));
    // The empty comment that lets a body start with a block on the next line (`- [ ] <!-- -->`)
    // is a paragraph of its own when the item is loose.
    let empty_comment = |n: &Node| match n {
        Node::Comment(c) => c.trim().is_empty(),
        Node::Text(t) => t.trim().is_empty(),
        _ => false,
    };
    if let Some(Node::Element(p)) = nodes.first()
        && p.name == "p"
        && p.attrs.is_empty()
        && p.children.iter().any(|n| matches!(n, Node::Comment(_)))
        && p.children.iter().all(empty_comment)
    {
        nodes.remove(0);
    }
    if let Some(Node::Text(t)) = nodes.first_mut() {
        *t = t.trim_start().to_string().into();
    }
    nodes
}

/// Post-order rewrites: `<details>` → expand, `<a id>` → anchor, nested comments, task ids.
/// Recursive: the depth is bounded by [`MAX_DEPTH`] (the builder refuses deeper input).
fn fix_nodes(nodes: &mut [Node], next_task: &mut u32) {
    settle_brackets(nodes);
    for n in nodes.iter_mut() {
        if let Node::Element(e) = n {
            // Task ids in document order: the outer task before the tasks in its body.
            number_task(e, next_task);
            fix_nodes(&mut e.children, next_task);
            fix_node(n);
        }
    }
}

/// A `:::decision-list`'s Markdown list as Cloud's decision list: an item's leading
/// `::decision{state=…}` is its state (`DECIDED` without one), the rest its content; the HTML
/// fallback Confluence writes beside it unless `fallback=false`. A body of another shape
/// becomes a `div` around it.
fn decisions(mut e: Element) -> Element {
    let Some(i) = xml::lone(&e.children).filter(
        |&i| matches!(&e.children[i], Node::Element(ul) if ul.name == "ul" && ul.attrs.is_empty()),
    ) else {
        e.name = "div".into();
        e.attrs.clear();
        return e;
    };
    let fallback = e.attr("fallback") != Some("false");
    let Node::Element(items) = e.children.swap_remove(i) else {
        return e;
    };
    let mut list = Element::new("ac:adf-node").with_attr("type", "decision-list");
    for li in items.children {
        let Node::Element(li) = li else { continue };
        let mut rest: Vec<Node> = li
            .children
            .into_iter()
            .filter(|n| !xml::is_blank(n))
            .collect();
        let mut state = Node::Text("DECIDED".into());
        if let Some(Node::Element(a)) = rest.first()
            && crate::to_md::adf_attribute(a, "state")
        {
            state = Node::Text(a.text().into());
            rest.remove(0);
        }
        let mut body = Element::new("ac:adf-content");
        body.children = match rest.pop() {
            Some(Node::Element(p)) if rest.is_empty() && p.name == "p" && p.attrs.is_empty() => {
                p.children
            }
            last => rest.into_iter().chain(last).collect(),
        };
        let attr = Element::new("ac:adf-attribute")
            .with_attr("key", "state")
            .with_child(state);
        let item = Element::new("ac:adf-node")
            .with_attr("type", "decision-item")
            .with_child(Node::Element(attr))
            .with_child(Node::Element(body));
        list.children.push(Node::Element(item));
    }
    // The fallback is what Confluence writes beside the items: their content again.
    let fallback = fallback.then(|| {
        let mut f = Element::new("ac:adf-fallback");
        f.children = crate::to_md::decision_fallback(list.children.iter().filter_map(|item| {
            let Node::Element(item) = item else {
                return None;
            };
            item.child("ac:adf-content").map(|c| c.children.iter())
        }));
        f
    });
    extension(list, fallback)
}

/// An `:::adf-TYPE{…}` directive as Cloud's `ac:adf-extension`: its attributes are the
/// node's `ac:adf-attribute`s, its body the node's `ac:adf-content`; the `::fallback{…}`
/// lines first in the body are the `div`s of the HTML fallback, outermost first, around the
/// same content (without them, no fallback).
fn adf_extension<'a>(kind: &str, e: Element<'a>) -> Element<'a> {
    let mut divs = Vec::new();
    let mut content = Vec::new();
    for n in e.children {
        match n {
            Node::Element(f) if content.is_empty() && f.name == directive::FALLBACK => {
                divs.push(f);
            }
            n if content.is_empty() && xml::is_blank(&n) => {}
            n => content.push(n),
        }
    }
    stray_fallbacks(&mut content);
    let mut node = Element::new("ac:adf-node").with_attr("type", kind);
    for (k, v) in e.attrs {
        let mut a = Element::new("ac:adf-attribute").with_attr("key", k);
        if !v.is_empty() {
            a.children.push(Node::Text(v));
        }
        node.children.push(Node::Element(a));
    }
    let fallback = (!divs.is_empty()).then(|| {
        let mut inside = content.clone();
        for mut div in divs.into_iter().rev() {
            div.name = "div".into();
            div.children = inside;
            inside = vec![Node::Element(div)];
        }
        let mut f = Element::new("ac:adf-fallback");
        f.children = inside;
        f
    });
    let mut body = Element::new("ac:adf-content");
    body.children = content;
    node.children.push(Node::Element(body));
    extension(node, fallback)
}

/// Cloud's `ac:adf-extension` of an ADF node and its HTML fallback.
fn extension<'a>(node: Element<'a>, fallback: Option<Element<'a>>) -> Element<'a> {
    let mut ext = Element::new("ac:adf-extension").with_child(Node::Element(node));
    ext.children.extend(fallback.map(Node::Element));
    ext
}

/// `::fallback{…}` lines outside the start of an `:::adf-…` directive are the macro of that
/// name, their attributes its parameters.
fn stray_fallbacks(nodes: &mut [Node]) {
    for n in nodes {
        if let Node::Element(e) = n
            && e.name == directive::FALLBACK
        {
            let mut m = Element::new("ac:structured-macro").with_attr("ac:name", "fallback");
            for (k, v) in std::mem::take(&mut e.attrs) {
                let p = Element::new("ac:parameter")
                    .with_attr("ac:name", k)
                    .with_child(Node::Text(v));
                m.children.push(Node::Element(p));
            }
            *e = m;
        }
    }
}

/// The image of a `:::figure` (alone in its first paragraph) with the rest of the body as
/// its caption; a body of another shape becomes a `div` around it.
fn figure(mut e: Element) -> Element {
    let first = e.children.iter().position(|n| !xml::is_blank(n));
    if let Some(i) = first
        && let Node::Element(p) = &e.children[i]
        && p.name == "p"
        && p.attrs.is_empty()
        && let Some(j) = xml::lone(&p.children)
        && matches!(&p.children[j], Node::Element(x) if x.name == "ac:image")
        && let Node::Element(mut p) = e.children.remove(i)
        && let Node::Element(mut img) = p.children.swap_remove(j)
    {
        let mut caption = Element::new("ac:caption");
        caption.children = e.children.split_off(i);
        img.children.push(Node::Element(caption));
        return img;
    }
    e.name = "div".into();
    e
}

/// The heading element named `name`, if it is one.
fn heading_level(name: &str) -> Option<&'static str> {
    ["h1", "h2", "h3", "h4", "h5", "h6"]
        .into_iter()
        .find(|h| *h == name)
}

/// The mark of an element that a placeholder carried, for [`fix_node`] to leave as it is: not
/// an XML name, so no attribute of the input can be it.
const VERBATIM: &str = " verbatim";

/// Gives a task without an id the next one.
fn number_task(e: &mut Element, next_task: &mut u32) {
    if e.name == "ac:task"
        && e.child("ac:task-id").is_none()
        && !e.attrs.iter().any(|(k, _)| k == VERBATIM)
    {
        let id = Element::new("ac:task-id").with_child(Node::Text(next_task.to_string().into()));
        e.children.insert(0, Node::Element(id));
        *next_task += 1;
    }
}

/// Whether an element of raw HTML is what [`fix_node`] rewrites rather than keeps: an
/// `<a id>` that is empty (an anchor macro), a `<details>` without attributes (an expand),
/// a `conflux:` name or attribute (a directive's marks). Storage holding one cannot be
/// written as raw HTML and come back as it was.
pub(crate) fn rewritten_when_read(e: &Element) -> bool {
    (anchor_form(e) && e.children.is_empty())
        || is_expand_form(e)
        || e.name.starts_with("conflux:")
        || e.attrs.iter().any(|(k, _)| k.starts_with("conflux:"))
}

/// Whether an element is the Markdown form of an expand macro (`<details>`, [`fix_node`]).
fn is_expand_form(e: &Element) -> bool {
    e.name == "details" && e.attrs.is_empty()
}

/// The rewrite of one element whose children are done (kept out of the recursive
/// [`fix_nodes`] so its frame stays small).
fn fix_node(n: &mut Node) {
    let Node::Element(e) = n else { return };
    if let Some(i) = e.attrs.iter().position(|(k, _)| k == VERBATIM) {
        e.attrs.remove(i);
        return;
    }
    if let Some(kind) = e.name.strip_prefix(directive::ADF) {
        let kind = kind.to_string();
        *n = Node::Element(adf_extension(
            &kind,
            std::mem::replace(e, Element::new("x")),
        ));
        return;
    }
    stray_fallbacks(&mut e.children);
    if e.name == xml::NESTED_COMMENT {
        *n = Node::Comment(e.text().into());
    } else if e.name == directive::DECISIONS {
        *n = Node::Element(decisions(std::mem::replace(e, Element::new("x"))));
    } else if e.name == directive::FIGURE {
        *n = Node::Element(figure(std::mem::replace(e, Element::new("x"))));
    } else if let Some(name) = (e.name == directive::PARAGRAPH)
        .then_some("p")
        .or_else(|| heading_level(e.name.strip_prefix(directive::HEADING)?))
    {
        e.name = name.into();
        // One paragraph in the body: it is this paragraph or heading's text. Anything else
        // stays inside.
        if let Some(i) = xml::lone(&e.children)
            && matches!(&e.children[i], Node::Element(p) if p.name == "p" && p.attrs.is_empty())
            && let Node::Element(p) = e.children.swap_remove(i)
        {
            e.children = p.children;
        }
    } else if e.name == "table"
        && let Some(rows) = e.attr(directive::HEADER_ROWS)
    {
        let header_rows = rows.parse::<usize>().unwrap_or(0);
        let children = std::mem::take(&mut e.children);
        let mut table = directive::list_table(children, header_rows);
        table.attrs = std::mem::take(&mut e.attrs);
        table.attrs.retain(|(k, _)| k != directive::HEADER_ROWS);
        *n = Node::Element(table);
    } else if is_expand_form(e) {
        *n = Node::Element(expand_macro(std::mem::replace(e, Element::new("x"))));
    } else if anchor_form(e)
        && e.children.is_empty()
        && let Some(id) = e.attr("id")
    {
        let param = Element::new("ac:parameter")
            .with_attr("ac:name", "")
            .with_child(Node::Text(id.to_string().into()));
        let m = Element::new("ac:structured-macro")
            .with_attr("ac:name", "anchor")
            .with_child(Node::Element(param));
        *n = Node::Element(m);
    }
}

fn expand_macro(details: Element) -> Element {
    let mut m = Element::new("ac:structured-macro").with_attr("ac:name", "expand");
    let mut body = Element::new("ac:rich-text-body");
    let mut seen_summary = false;
    for n in details.children {
        match n {
            Node::Element(s) if s.name == "summary" && !seen_summary => {
                seen_summary = true;
                let title = s.text().trim().to_string();
                m.children.push(Node::Element(
                    Element::new("ac:parameter")
                        .with_attr("ac:name", "title")
                        .with_child(Node::Text(title.into())),
                ));
            }
            Node::Text(t) if t.trim().is_empty() => {}
            other => body.children.push(other),
        }
    }
    m.children.push(Node::Element(body));
    m
}

/// A fenced block back to its macro: info `lang key="v" macro=name @attr="v"`.
fn code_macro(info: &str, text: &str) -> Element<'static> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut name = "code".to_string();
    let mut params: Vec<(String, String)> = Vec::new();
    let mut attrs: Vec<(xml::Name<'static>, xml::Str<'static>)> = Vec::new();
    let mut lang = None;
    match parse_info(info) {
        Some(tokens) => {
            for (i, (k, v)) in tokens.into_iter().enumerate() {
                match (k, v) {
                    (k, None) if i == 0 => lang = Some(k),
                    (k, Some(v)) if k == "macro" => name = v,
                    (k, Some(v)) if k.starts_with('@') => {
                        attrs.push((xml::name(&k[1..]), v.into()))
                    }
                    (k, Some(v)) => params.push((k, v)),
                    (k, None) => params.push((k, String::new())),
                }
            }
        }
        None => {
            let l = info.trim();
            if !l.is_empty() {
                lang = Some(l.to_string());
            }
        }
    }
    let mut m = Element::new("ac:structured-macro").with_attr("ac:name", name);
    m.attrs.extend(attrs);
    let param = |k: &str, v: String| {
        Node::Element(
            Element::new("ac:parameter")
                .with_attr("ac:name", k.to_string())
                .with_child(Node::Text(v.into())),
        )
    };
    if let Some(l) = lang {
        m.children.push(param("language", l));
    }
    for (k, v) in params {
        m.children.push(param(&k, v));
    }
    m.children.push(Node::Element(
        Element::new("ac:plain-text-body").with_child(Node::CData(body.to_string().into())),
    ));
    m
}

/// Splits an info string into `key` / `key="value"` tokens; `None` if it is not that shape.
fn parse_info(info: &str) -> Option<Vec<(String, Option<String>)>> {
    let mut out = Vec::new();
    let mut chars = info.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() == Some(&'=') {
            chars.next();
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '"' {
                        closed = true;
                        break;
                    }
                    value.push(c);
                }
                if !closed {
                    return None;
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            out.push((key, Some(value)));
        } else {
            if !out.is_empty() {
                return None;
            }
            out.push((key, None));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(md: &str) -> String {
        convert(md).unwrap().storage
    }

    #[test]
    fn bracketed_spans() {
        assert_eq!(
            st("a [red *it*]{color=rgb(255,0,0)} b"),
            "<p>a <span style=\"color: rgb(255,0,0);\">red <em>it</em></span> b</p>"
        );
        // Nested, after `!`, with quoted values whose punctuation is escaped.
        assert_eq!(
            st("Hi![[x]{class=pre}]{} [y]{title=\"a \\*b\\* \\\"c\\\"\"}"),
            "<p>Hi!<span><span class=\"pre\">x</span></span> <span title=\"a *b* &quot;c&quot;\">y</span></p>"
        );
        // Escaped brackets, a `]{` with no `[`, a `[` with no `]{`, a link: all text.
        assert_eq!(
            st("\\[x]{a=1} y]{b=2} [z [l](https://x.org)"),
            "<p>[x]{a=1} y]{b=2} [z <a href=\"https://x.org\">l</a></p>"
        );
        // Brackets in different containers do not pair.
        assert_eq!(st("*[a*]{b=1}"), "<p><em>[a</em>]{b=1}</p>");
        // What follows the attribute block in the same text stays.
        assert_eq!(
            st("[a]{x=\"\\*\"} tail"),
            "<p><span x=\"*\">a</span> tail</p>"
        );
    }

    #[test]
    fn many_open_brackets_stay_within_the_depth_limit() {
        let md = format!("{}x{}", "[".repeat(100_000), "]{}".repeat(100_000));
        let storage = st(&md);
        assert_eq!(storage.matches("<span>").count(), MAX_DEPTH - 1);
        assert!(crate::storage_to_markdown(&storage).is_ok());
    }

    #[test]
    fn task_whose_text_is_a_leaf_directive() {
        for md in [
            "- [ ] ::m{q=\"a *\"}\n",
            "- [ ] ::m{q=\"a *\"}\n\n  b\n",
            "- [x] ::m{q=\"a *\"}\n  b\n",
        ] {
            let s = st(md);
            assert!(s.contains("<ac:task-list><ac:task>"), "{md}: {s}");
            assert!(
                s.contains("<ac:structured-macro ac:name=\"m\"><ac:parameter ac:name=\"q\">a *</ac:parameter></ac:structured-macro>"),
                "{md}: {s}"
            );
        }
    }

    #[test]
    fn paragraphs_and_emphasis() {
        assert_eq!(
            st("Hello **b** *i* ~~s~~ `c`"),
            "<p>Hello <strong>b</strong> <em>i</em> <del>s</del> <code>c</code></p>"
        );
    }

    #[test]
    fn alert_with_params() {
        let s = st(
            "> [!NOTE]\n> <!--confluence <ac:parameter ac:name=\"title\">T</ac:parameter>-->\n>\n> body\n",
        );
        assert_eq!(
            s,
            "<ac:structured-macro ac:name=\"info\"><ac:parameter ac:name=\"title\">T</ac:parameter><ac:rich-text-body><p>body</p></ac:rich-text-body></ac:structured-macro>"
        );
    }

    #[test]
    fn fence_to_code_macro() {
        let s = st("```py title=\"T\"\nx\n```\n");
        assert_eq!(
            s,
            "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">py</ac:parameter><ac:parameter ac:name=\"title\">T</ac:parameter><ac:plain-text-body><![CDATA[x]]></ac:plain-text-body></ac:structured-macro>"
        );
    }

    #[test]
    fn tasks_and_emoticons() {
        let s = st("- [x] done :smile:\n- [ ] todo \\:smile:\n");
        assert!(s.starts_with("<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>done <ac:emoticon ac:name=\"smile\" /></ac:task-body>"), "{s}");
        assert!(s.contains("todo :smile:</ac:task-body>"), "{s}");
    }

    #[test]
    fn details_become_expand() {
        let s = st("<details>\n<summary>T</summary>\n\nbody\n\n</details>\n");
        assert_eq!(
            s,
            "<ac:structured-macro ac:name=\"expand\"><ac:parameter ac:name=\"title\">T</ac:parameter><ac:rich-text-body><p>body</p></ac:rich-text-body></ac:structured-macro>"
        );
    }

    #[test]
    fn unclosed_inline_html_is_reported() {
        let c = convert("a <span>b\n\nc").unwrap();
        assert!(c.storage.contains("<span>b</span>"), "{}", c.storage);
        assert_eq!(c.issues.len(), 1, "{:?}", c.issues);
    }

    #[test]
    fn texts_join_into_one_slice_only_when_adjacent_in_the_source() {
        let src = String::from("one\ntwo three");
        let (a, b, c) = (&src[0..3], &src[3..4], &src[4..7]);
        assert_eq!(adjacent(&src, a, b), Some("one\n"));
        assert_eq!(adjacent(&src, &src[0..4], c), Some("one\ntwo"));
        assert_eq!(adjacent(&src, a, c), None, "a gap between them");
        assert_eq!(adjacent(&src, b, a), None, "the wrong order");
        assert_eq!(adjacent(&src, a, "\n"), None, "not a slice of the source");
        assert_eq!(adjacent(&src, "\n", c), None, "not a slice of the source");
        // As the builder joins them: a paragraph's lines and what follows.
        assert_eq!(st("one\ntwo three"), "<p>one\ntwo three</p>");
        assert_eq!(st("a &amp; b\nc"), "<p>a &amp; b\nc</p>");
    }

    #[test]
    fn placeholders_open_as_storage_to_markdown_writes_them() {
        assert_eq!(PLACEHOLDER_OPEN, format!("<!--{MARK} "));
    }

    /// What a placeholder carries comes back as it was: `<a id>` and `<details>` are not
    /// rewritten into the anchor and expand macros they mean in Markdown, and a task gets no
    /// id it did not have. Outside a placeholder they are.
    #[test]
    fn placeholders_are_left_as_they_were() {
        for storage in [
            "<p>a<a id=\"x\"></a>b</p>",
            "<details><summary>s</summary><p>x</p></details>",
            "<ac:task-list><ac:task><ac:task-status>weird</ac:task-status><ac:task-body>x</ac:task-body></ac:task></ac:task-list>",
        ] {
            let md = crate::storage_to_markdown(storage).unwrap().output;
            assert!(md.contains(PLACEHOLDER_OPEN), "{md}");
            assert_eq!(convert(&md).unwrap().storage, storage, "{md}");
        }
        let md = "<a id=\"x\"></a>\n\n- [ ] t\n";
        let storage = convert(md).unwrap().storage;
        assert!(storage.contains("ac:name=\"anchor\""), "{storage}");
        assert!(storage.contains("<ac:task-id>1</ac:task-id>"), "{storage}");
    }

    /// The second parse is skipped only where it would find nothing: over the Markdown of
    /// every fixture and corpus document (as written, and as storage → Markdown writes it)
    /// and placeholders in every container, a text the cheap check passes over has no
    /// placeholder paragraph, and the check passes none that has one.
    #[test]
    fn placeholder_paragraphs_are_looked_for_wherever_they_can_be() {
        let marker = "<!--confluence <ac:inline-comment-marker ac:ref=\"r\" ac:x=\"1\">-->";
        let mut texts: Vec<String> = Vec::new();
        for prefix in ["", "  ", "> ", "- ", "1. ", "> - ", "   > "] {
            texts.push(format!("{prefix}{marker}text\n"));
            texts.push(format!("{prefix}{marker}<!--x-->\n"));
            texts.push(format!("{prefix}{marker} <br/>\nnext line\n"));
            texts.push(format!(
                "para\n{prefix}{marker}\n\n{prefix}{marker}`code`\n"
            ));
        }
        let dirs = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus/storage"
            ),
        ];
        for dir in dirs {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let Ok(text) = std::fs::read_to_string(entry.path()) else {
                    continue;
                };
                if entry.path().extension().is_some_and(|e| e == "md") {
                    texts.push(text);
                } else if let Ok(md) = crate::storage_to_markdown(&text) {
                    texts.push(md.output);
                }
            }
        }
        let mut found = 0;
        for t in &texts {
            let at = placeholder_paragraphs(t);
            found += at.len();
            if !may_start_placeholder_paragraph(t) {
                assert!(at.is_empty(), "skipped, yet it has one at {at:?}:\n{t}");
            }
        }
        assert!(
            found >= 7 && texts.len() > 60,
            "{found} in {} texts",
            texts.len()
        );
        // A lone `\r` ends a line: a placeholder after one starts a block.
        for t in [
            format!("para\r{marker}text\n"),
            format!("{}text\n", "<!--confluence -->".repeat(1000)),
        ] {
            assert!(!placeholder_paragraphs(&t).is_empty(), "{t:?}");
            assert!(may_start_placeholder_paragraph(&t), "{t:?}");
        }
        // So the first placeholder after each `\r` is looked at, even when one before it on
        // the same `\n` line has no text after it.
        let t = "<!--confluence a--><x\r<!--confluence <m><!--->text\n";
        assert!(may_start_placeholder_paragraph(t));
        // Many placeholders on one line are looked at once; past the reading budget the
        // parse decides (it finds none here).
        let lines = "<!--confluence -->\n".repeat(2000);
        assert!(!may_start_placeholder_paragraph(&lines));
        let segments = format!("{}\n", "<!--confluence -->\r".repeat(2000));
        assert!(may_start_placeholder_paragraph(&segments));
        assert!(placeholder_paragraphs(&segments).is_empty());
    }

    /// Warnings name the line and column of the text as written, not of the text with the
    /// marks that keep placeholder paragraphs together.
    #[test]
    fn warnings_after_a_placeholder_paragraph_point_into_the_text_as_written() {
        let md = "<!--confluence <ac:inline-comment-marker ac:ref=\"r\" ac:x=\"1\">-->text</b> x\nnext </i>\n";
        let w: Vec<String> = crate::markdown_to_storage(md)
            .unwrap()
            .warnings
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(
            w,
            [
                "1:1: `<ac:inline-comment-marker>` not closed in the Markdown; closed at its container's end",
                "1:69: `</b>` closes nothing open here; ignored",
                "2:6: `</i>` closes nothing open here; ignored"
            ]
        );
    }

    #[test]
    fn a_paragraph_that_starts_with_a_placeholder_stays_a_paragraph() {
        // A marker with more than its `ac:ref` stays placeholders (with it alone, a span).
        let storage = "<p><ac:inline-comment-marker ac:ref=\"r1\" ac:x=\"1\">Note.</ac:inline-comment-marker> \
                       Set <code>X</code> now.</p><p>Next.</p>";
        let md = crate::storage_to_markdown(storage).unwrap().output;
        assert!(md.starts_with("<!--confluence "), "{md}");
        let back = st(&md);
        assert_eq!(
            crate::normalized(&back).unwrap(),
            crate::normalized(storage).unwrap(),
            "{back}"
        );
        assert!(!back.contains('\u{feff}'), "{back}");
        assert_eq!(crate::storage_to_markdown(&back).unwrap().output, md);
        // A line of placeholders alone is still the block it was.
        let block = "<!--confluence <ac:layout>-->\n\ntext\n\n<!--confluence </ac:layout>-->\n";
        assert!(!st(block).contains("<p><ac:layout"), "{}", st(block));
        assert!(has_text_beside_comments("<!--x-->a"));
        assert!(!has_text_beside_comments("<!--x--><!--y--> <br/>"));
    }
}
