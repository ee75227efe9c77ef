//! Lenient reading and writing of storage-format XHTML.
//!
//! Storage format is XHTML without a DTD: it uses HTML named entities, undeclared `ac:`/`ri:`
//! prefixes, and pages written by old editors carry unclosed tags and broken CDATA sections
//! (`]] >`). Well-formed text, entities, tags with quoted attributes, CDATA and comments are
//! read here directly, exactly as quick-xml reads them; everything else is one event read by
//! quick-xml at that position. This module adds recovery on top, so one bad byte costs a
//! warning instead of the rest of the page.

use quick_xml::escape::{resolve_html5_entity, resolve_xml_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::MAX_DEPTH;

/// A node of a parsed storage document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    Element(Element<'a>),
    Text(Str<'a>),
    CData(Str<'a>),
    Comment(Str<'a>),
    /// Declarations, processing instructions and doctypes, kept verbatim (without `<` `>`).
    Raw(Str<'a>),
}

/// Whether `n` is text of whitespace alone (the layout between tags).
pub(crate) fn is_blank(n: &Node) -> bool {
    matches!(n, Node::Text(t) if t.trim().is_empty())
}

/// The index of the one node of `nodes` that is not blank, when there is exactly one.
pub(crate) fn lone(nodes: &[Node]) -> Option<usize> {
    let mut found = nodes.iter().enumerate().filter(|(_, n)| !is_blank(n));
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Some(i),
        _ => None,
    }
}

/// How many levels of elements `nodes` hold at their deepest (1: elements without any
/// inside). Walked with a stack of its own: the depth is the input's.
pub(crate) fn depth_of(nodes: &[Node]) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Node, usize)> = nodes.iter().map(|n| (n, 1)).collect();
    while let Some((n, d)) = stack.pop() {
        if let Node::Element(e) = n {
            deepest = deepest.max(d);
            stack.extend(e.children.iter().map(|c| (c, d + 1)));
        }
    }
    deepest
}

/// Text of a node or attribute: borrowed from the input where it is written there as it
/// reads (no entity, no `\r`), owned otherwise.
pub(crate) type Str<'a> = std::borrow::Cow<'a, str>;

/// An element or attribute name: borrowed from the input, or a static string for the names
/// this crate writes itself.
pub(crate) type Name<'a> = std::borrow::Cow<'a, str>;

macro_rules! known_names {
    ($s:expr; $($n:literal)*) => {
        match $s {
            $($n => Some($n),)*
            _ => None,
        }
    };
}

/// The name, without an allocation when it is one of the common ones.
pub(crate) fn name(s: &str) -> Name<'static> {
    let known: Option<&'static str> = known_names!(s;
        "p" "br" "span" "strong" "em" "b" "i" "u" "s" "del" "code" "a" "pre" "div" "hr" "img"
        "ul" "ol" "li" "table" "tbody" "thead" "tr" "td" "th" "colgroup" "col" "blockquote"
        "h1" "h2" "h3" "h4" "h5" "h6" "sub" "sup" "time" "strike"
        "ac:structured-macro" "ac:parameter" "ac:rich-text-body" "ac:plain-text-body"
        "ac:link" "ac:link-body" "ac:plain-text-link-body" "ac:image" "ac:emoticon"
        "ac:task-list" "ac:task" "ac:task-id" "ac:task-uuid" "ac:task-status" "ac:task-body"
        "ac:layout" "ac:layout-section" "ac:layout-cell" "ac:inline-comment-marker"
        "ri:page" "ri:attachment" "ri:user" "ri:url" "ri:space"
        // Attribute names.
        "ac:name" "ac:macro-id" "ac:schema-version" "ac:local-id" "local-id" "class" "style" "id"
        "href" "title" "src" "colspan" "rowspan" "data-layout" "data-table-width" "ac:anchor"
        "ri:content-title" "ri:space-key" "ri:filename" "ri:account-id" "ri:value"
        "ri:version-at-save" "ri:userkey" "ri:username" "ac:type" "ac:breakout-mode" "ac:alt"
        "ac:title" "ac:height" "ac:width" "ac:align" "ac:original-height"
        "ac:original-width" "ac:custom-width" "ac:card-appearance" "ac:thumbnail" "datetime"
    );
    match known {
        Some(k) => Name::Borrowed(k),
        None => Name::Owned(s.to_string()),
    }
}

/// An element with its attributes in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub name: Name<'a>,
    pub attrs: Vec<(Name<'a>, Str<'a>)>,
    pub children: Vec<Node<'a>>,
    /// Byte offset of the start tag in the input, for warnings.
    pub pos: usize,
}

impl<'a> Element<'a> {
    pub fn new(name: impl Into<Name<'a>>) -> Self {
        Element {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
            pos: 0,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| &**v)
    }

    pub fn with_attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs
            .push((self::name(name), Str::Owned(value.into())));
        self
    }

    pub fn with_child(mut self, child: Node<'a>) -> Self {
        self.children.push(child);
        self
    }

    /// Child elements, skipping text and comments.
    pub fn elements(&self) -> impl Iterator<Item = &Element<'a>> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn child(&self, name: &str) -> Option<&Element<'a>> {
        self.elements().find(|e| e.name == name)
    }

    /// [`Element::text`], borrowed when it is one text node.
    pub fn text_cow(&self) -> std::borrow::Cow<'_, str> {
        match self.children.as_slice() {
            [Node::Text(t) | Node::CData(t)] => std::borrow::Cow::Borrowed(t),
            _ => std::borrow::Cow::Owned(self.text()),
        }
    }

    /// Concatenated text and CDATA of all descendants.
    pub fn text(&self) -> String {
        match self.children.as_slice() {
            // Most often one text node: one allocation of the right size, no stack.
            [Node::Text(t) | Node::CData(t)] => t.to_string(),
            [] => String::new(),
            children => {
                let mut out = String::new();
                collect_text(children, &mut out);
                out
            }
        }
    }
}

/// Text of `nodes` and their descendants, in order. Iterative: no recursion on the depth.
fn collect_text(nodes: &[Node], out: &mut String) {
    let mut stack = vec![nodes.iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(Node::Text(t) | Node::CData(t)) => out.push_str(t),
            Some(Node::Element(e)) => stack.push(e.children.iter()),
            Some(_) => {}
        }
    }
}

/// Input nested deeper than [`MAX_DEPTH`]: the byte offset of the first construct too deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooDeep {
    pub pos: usize,
}

/// A problem found in the input, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    pub pos: usize,
    pub message: String,
}

/// One lexical token of storage XHTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    Start {
        name: Name<'a>,
        attrs: Vec<(Name<'a>, Str<'a>)>,
        empty: bool,
        pos: usize,
    },
    End {
        name: Name<'a>,
        pos: usize,
    },
    Text(Str<'a>),
    CData(Str<'a>),
    Comment(Str<'a>),
    Raw(Str<'a>),
}

impl Token<'_> {
    /// The token with nothing borrowed (names this crate knows stay static strings).
    pub fn into_owned(self) -> Token<'static> {
        let own = |s: Str<'_>| -> Str<'static> { std::borrow::Cow::Owned(s.into_owned()) };
        match self {
            Token::Start {
                name: n,
                attrs,
                empty,
                pos,
            } => Token::Start {
                name: name(&n),
                attrs: attrs.into_iter().map(|(k, v)| (name(&k), own(v))).collect(),
                empty,
                pos,
            },
            Token::End { name: n, pos } => Token::End {
                name: name(&n),
                pos,
            },
            Token::Text(t) => Token::Text(own(t)),
            Token::CData(t) => Token::CData(own(t)),
            Token::Comment(t) => Token::Comment(own(t)),
            Token::Raw(t) => Token::Raw(own(t)),
        }
    }
}

/// `part`, a slice of `input` handed out by the reader with a shorter lifetime, as a slice of
/// `input`; a copy when it is not one.
fn lift<'a>(input: &'a str, part: &str) -> Str<'a> {
    let start = (part.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    match start
        .checked_add(part.len())
        .and_then(|end| input.get(start..end))
    {
        Some(s) if std::ptr::eq(s.as_ptr(), part.as_ptr()) => std::borrow::Cow::Borrowed(s),
        _ => std::borrow::Cow::Owned(part.to_string()),
    }
}

/// HTML elements that never have content, so `<br>` without `/>` does not swallow the page.
pub(crate) fn is_void(name: &str) -> bool {
    matches!(
        name,
        "br" | "hr"
            | "img"
            | "col"
            | "input"
            | "meta"
            | "link"
            | "area"
            | "base"
            | "wbr"
            | "source"
            | "embed"
            | "param"
            | "track"
    )
}

/// ASCII bytes that may follow the first character of a name, as a table (one load a byte).
static NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.');
        b += 1;
    }
    t
};

pub(crate) fn valid_name(name: &str) -> bool {
    // Names are nearly always ASCII: check their bytes without decoding characters.
    if let [first, rest @ ..] = name.as_bytes()
        && (first.is_ascii_alphabetic() || matches!(first, b'_' | b':'))
        && rest.iter().all(|b| NAME_BYTE[usize::from(*b)])
    {
        return true;
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
}

/// A decoded entity: one character, or the text of a named entity.
pub(crate) enum Entity {
    Char(char),
    Str(&'static str),
}

impl Entity {
    pub fn push_to(&self, out: &mut String) {
        match self {
            Entity::Char(c) => out.push(*c),
            Entity::Str(s) => out.push_str(s),
        }
    }
}

/// Decodes one entity body (between `&` and `;`), HTML5 names included.
pub(crate) fn resolve_entity(body: &str) -> Option<Entity> {
    if let Some(num) = body.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        return char::from_u32(code)
            .filter(|c| *c != '\0')
            .map(Entity::Char);
    }
    resolve_xml_entity(body)
        .or_else(|| resolve_html5_entity(body))
        .map(Entity::Str)
}

/// Decodes entities in text or attribute values; unknown ones stay literal and are reported.
pub(crate) fn unescape<'r>(
    raw: &'r str,
    pos: usize,
    issues: &mut Vec<Issue>,
) -> std::borrow::Cow<'r, str> {
    if !raw.contains('&') {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    let mut offset = 0;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .char_indices()
            .take(40)
            .find(|(_, c)| *c == ';' || c.is_whitespace() || *c == '&' || *c == '<')
            .filter(|(_, c)| *c == ';')
            .map(|(j, _)| j);
        match end.and_then(|j| resolve_entity(&after[..j]).map(|s| (j, s))) {
            Some((j, s)) => {
                s.push_to(&mut out);
                rest = &after[j + 1..];
                offset += i + j + 2;
            }
            None => {
                if let Some(j) = end {
                    issues.push(Issue {
                        pos: pos + offset + i,
                        message: format!("unknown entity `&{};` kept as text", &after[..j]),
                    });
                }
                out.push('&');
                rest = after;
                offset += i + 1;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// `pos` moved back to the nearest char boundary: quick-xml counts bytes, and a position inside
/// a multi-byte character must never be sliced at.
fn floor_boundary(s: &str, pos: usize) -> usize {
    let mut p = pos.min(s.len());
    while !s.is_char_boundary(p) {
        p -= 1;
    }
    p
}

/// The boundary after the character at `pos` (a boundary).
fn next_boundary(s: &str, pos: usize) -> usize {
    pos + s[pos..].chars().next().map_or(1, char::len_utf8)
}

/// What the reader hands its tokens to.
pub(crate) trait Sink<'a> {
    type Error;

    fn token(&mut self, token: Token<'a>, issues: &mut Vec<Issue>) -> Result<(), Self::Error>;

    /// An empty list for a start tag's attributes: with room from an earlier element when
    /// the sink keeps them (a document's elements then cost no allocation for it each).
    fn attr_list(&mut self) -> Vec<(Name<'a>, Str<'a>)> {
        Vec::new()
    }
}

impl<'a, E, F: FnMut(Token<'a>, &mut Vec<Issue>) -> Result<(), E>> Sink<'a> for F {
    type Error = E;

    fn token(&mut self, token: Token<'a>, issues: &mut Vec<Issue>) -> Result<(), E> {
        self(token, issues)
    }
}

/// Hands tokens to a sink as they are read, joining adjacent text into one token.
struct Out<'a, S> {
    text: Option<Str<'a>>,
    sink: S,
}

impl<'a, S: Sink<'a>> Out<'a, S> {
    fn text(&mut self, t: Str<'a>) {
        self.text_eol(eol_cow(t));
    }

    /// [`Out::text`] of text whose line ends are already XML's.
    fn text_eol(&mut self, t: Str<'a>) {
        match &mut self.text {
            Some(prev) => prev.to_mut().push_str(&t),
            None => self.text = Some(t),
        }
    }

    fn flush(&mut self, issues: &mut Vec<Issue>) -> Result<(), S::Error> {
        match self.text.take() {
            Some(t) => self.sink.token(Token::Text(t), issues),
            None => Ok(()),
        }
    }

    fn token(&mut self, token: Token<'a>, issues: &mut Vec<Issue>) -> Result<(), S::Error> {
        self.flush(issues)?;
        self.sink.token(token, issues)
    }
}

/// Splits `input` into tokens, recovering from every syntax error, and hands each to `sink`
/// as soon as it is read (no token list is held). Stops at the first error `sink` returns.
pub(crate) fn tokenize<'a, E>(
    input: &'a str,
    base: usize,
    issues: &mut Vec<Issue>,
    sink: impl FnMut(Token<'a>, &mut Vec<Issue>) -> Result<(), E>,
) -> Result<(), E> {
    tokenize_with(input, base, issues, sink, true)
}

/// [`tokenize`]; with `fast` false every event is read by quick-xml (the tests compare both).
fn tokenize_with<'a, S: Sink<'a>>(
    input: &'a str,
    base: usize,
    issues: &mut Vec<Issue>,
    sink: S,
    fast: bool,
) -> Result<(), S::Error> {
    let mut out = Out { text: None, sink };
    // A byte-order mark is not content (quick-xml skips it too, which would shift positions).
    let mut start = if input.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    // Where reading starts over (here, and after a syntax error), a byte-order mark is skipped
    // as quick-xml's reader skips one at its start.
    let mut fresh = true;
    let mut tails = Tails::default();
    while start < input.len() {
        if std::mem::take(&mut fresh) && input[start..].starts_with('\u{feff}') {
            start += '\u{feff}'.len_utf8();
            continue;
        }
        let quick = if fast {
            next_fast(input, start, &mut tails, base, &mut out, issues)?
        } else {
            None
        };
        start = match quick {
            Some(next) => next,
            None => {
                let (next, restarted) =
                    slow_event(input, start, &mut tails, base, &mut out, issues)?;
                fresh = restarted;
                next
            }
        };
    }
    out.flush(issues)
}

/// Reads one event at `start` the quick way, when it is one of the common well-formed forms
/// (text, an entity, a start or end tag with quoted attributes, CDATA, a comment), exactly as
/// quick-xml would read it. Returns where reading goes on, or `None` to leave the event to
/// [`slow_event`]. Nothing is reported before the event is known to be one of these forms.
fn next_fast<'a, S: Sink<'a>>(
    input: &'a str,
    start: usize,
    tails: &mut Tails,
    base: usize,
    out: &mut Out<'a, S>,
    issues: &mut Vec<Issue>,
) -> Result<Option<usize>, S::Error> {
    let bytes = input.as_bytes();
    match bytes[start] {
        b'<' => match bytes.get(start + 1) {
            Some(b'/') => {
                let from = start + 2;
                let n = name_len(&bytes[from..]);
                if n == 0 {
                    return Ok(None);
                }
                let mut k = from + n;
                while k < bytes.len() && is_xml_ws(bytes[k]) {
                    k += 1;
                }
                if bytes.get(k) != Some(&b'>') {
                    return Ok(None);
                }
                let token = Token::End {
                    name: Name::Borrowed(&input[from..from + n]),
                    pos: base + start,
                };
                out.token(token, issues)?;
                Ok(Some(k + 1))
            }
            Some(b'!') => {
                let rest = &bytes[start..];
                if rest.starts_with(b"<![CDATA[") {
                    let Some(end) = find_cdata_end(&rest[9..]) else {
                        return Ok(None);
                    };
                    let body = &input[start + 9..start + 9 + end];
                    if let Some(cut) = broken_cdata_terminator(body) {
                        // As quick-xml's reading of it is handled (see `slow_event`), without
                        // its UTF-8 check of everything up to the next proper end.
                        let gt = body[cut + 2..]
                            .find('>')
                            .map_or(body.len(), |g| cut + 2 + g);
                        issues.push(Issue {
                            pos: base + start,
                            message: "CDATA section ended with `]] >`; read as its end".into(),
                        });
                        let cdata = eol(&body[..cut]).into_owned();
                        out.token(Token::CData(cdata.into()), issues)?;
                        // Reading starts over after it: a byte-order mark there is skipped.
                        let next = start + 9 + gt + 1;
                        let bom = if input[next..].starts_with('\u{feff}') {
                            3
                        } else {
                            0
                        };
                        return Ok(Some(next + bom));
                    }
                    out.token(Token::CData(eol(body)), issues)?;
                    Ok(Some(start + 9 + end + 3))
                } else if rest.starts_with(b"<!--") {
                    if tails.unclosed(input, start) {
                        return Ok(None);
                    }
                    // quick-xml ends a comment at the first `>` after `--`, at least six bytes on.
                    let mut i = 6;
                    loop {
                        let Some(gt) = rest.get(i..).and_then(|r| memchr::memchr(b'>', r)) else {
                            return Ok(None);
                        };
                        i += gt;
                        if rest[..i].ends_with(b"--") {
                            break;
                        }
                        i += 1;
                    }
                    let body = &input[start + 4..start + i - 2];
                    out.token(Token::Comment(Str::Borrowed(body)), issues)?;
                    Ok(Some(start + i + 1))
                } else {
                    Ok(None)
                }
            }
            Some(b'?') | None => Ok(None),
            Some(_) => {
                let Some(tag) = start_tag(input, start + 1, &mut out.sink) else {
                    return Ok(None);
                };
                let pos = base + start;
                let token = Token::Start {
                    name: Name::Borrowed(tag.name),
                    attrs: attr_values(tag.attrs, pos, issues),
                    empty: tag.empty,
                    pos,
                };
                out.token(token, issues)?;
                Ok(Some(tag.next))
            }
        },
        b'&' => {
            // quick-xml reads a reference up to the first `;`, `&` or `<`; only the first
            // makes it one.
            match memchr::memchr3(b';', b'&', b'<', &bytes[start + 1..]) {
                Some(j) if bytes[start + 1 + j] == b';' => {
                    general_ref(&input[start + 1..start + 1 + j], base + start, out, issues);
                    Ok(Some(start + 1 + j + 1))
                }
                _ => Ok(None),
            }
        }
        _ => {
            // Text runs to the next `<` or `&`; a `\r` in it is found in the same scan.
            let mut end = start;
            let mut cr = false;
            loop {
                match memchr::memchr3(b'<', b'&', b'\r', &bytes[end..]) {
                    Some(i) if bytes[end + i] == b'\r' => {
                        cr = true;
                        end += i + 1;
                    }
                    Some(i) => {
                        end += i;
                        break;
                    }
                    None => {
                        end = input.len();
                        break;
                    }
                }
            }
            let text = &input[start..end];
            out.text_eol(if cr { eol(text) } else { Str::Borrowed(text) });
            Ok(Some(end))
        }
    }
}

/// The first `]]>` in `body`, found from its `]`s (rarer in code than `>`; a substring
/// searcher's setup costs more than the search in most sections).
fn find_cdata_end(body: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b']', body).find(|&i| body[i..].starts_with(b"]]>"))
}

/// XML's whitespace, as quick-xml reads it.
fn is_xml_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The length of the ASCII name at the start of `bytes`, 0 when there is none.
fn name_len(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || matches!(b, b'_' | b':') => name_bytes(bytes, 1),
        _ => 0,
    }
}

/// Where the run of name bytes starting at `from` ends. Names are most of a tag's bytes
/// (`ac:structured-macro`, `ri:content-title`): four are looked at per step.
fn name_bytes(bytes: &[u8], from: usize) -> usize {
    let name = |b: u8| NAME_BYTE[usize::from(b)];
    let mut i = from;
    while let Some(&[a, b, c, d]) = bytes.get(i..i + 4) {
        if !(name(a) & name(b) & name(c) & name(d)) {
            break;
        }
        i += 4;
    }
    while i < bytes.len() && name(bytes[i]) {
        i += 1;
    }
    i
}

/// A start tag read the quick way: its name, attributes (values raw, not yet unescaped),
/// whether it closes itself, and where reading goes on after its `>`.
struct StartTag<'a> {
    name: &'a str,
    attrs: Vec<(Name<'a>, Str<'a>)>,
    empty: bool,
    next: usize,
}

/// The start tag whose name begins at `from`, in one pass, when it has the common form: a
/// name, then attributes written `name="value"` or `name='value'` each after whitespace, then
/// `>` or `/>` (whitespace allowed before either). `None` for anything else (left to
/// quick-xml's reading), which is everything quick-xml would read differently.
fn start_tag<'a, S: Sink<'a>>(input: &'a str, from: usize, sink: &mut S) -> Option<StartTag<'a>> {
    let b = input.as_bytes();
    let n = name_len(&b[from..]);
    if n == 0 {
        return None;
    }
    let name = &input[from..from + n];
    let mut attrs = Vec::new();
    let mut i = from + n;
    loop {
        let ws = i;
        while i < b.len() && is_xml_ws(b[i]) {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                return Some(StartTag {
                    name,
                    attrs,
                    empty: false,
                    next: i + 1,
                });
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some(StartTag {
                    name,
                    attrs,
                    empty: true,
                    next: i + 2,
                });
            }
            _ if i == ws => return None,
            _ => {}
        }
        let key = i;
        i = name_bytes(b, i);
        if i == key || b.get(i) != Some(&b'=') {
            return None;
        }
        let quote = *b.get(i + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value = i + 2;
        let len = memchr::memchr(quote, &b[value..])?;
        if attrs.capacity() == 0 {
            attrs = sink.attr_list();
        }
        attrs.push((
            Name::Borrowed(&input[key..i]),
            Str::Borrowed(&input[value..value + len]),
        ));
        i = value + len + 1;
    }
}

/// Unescapes raw attribute values in place and keeps the last of duplicates, reporting each
/// as [`start_token`] does.
fn attr_values<'a>(
    mut attrs: Vec<(Name<'a>, Str<'a>)>,
    pos: usize,
    issues: &mut Vec<Issue>,
) -> Vec<(Name<'a>, Str<'a>)> {
    let mut kept = 0;
    for r in 0..attrs.len() {
        let value = match std::mem::take(&mut attrs[r].1) {
            std::borrow::Cow::Borrowed(raw) => unescape(raw, pos, issues),
            owned => owned,
        };
        if let Some(j) = attrs[..kept].iter().position(|(k, _)| *k == attrs[r].0) {
            issues.push(Issue {
                pos,
                message: format!("duplicate attribute `{}`", attrs[r].0),
            });
            attrs[j].1 = value;
        } else {
            attrs.swap(kept, r);
            attrs[kept].1 = value;
            kept += 1;
        }
    }
    attrs.truncate(kept);
    attrs
}

/// An entity reference `&body;` as text, reported and kept literally when unknown.
fn general_ref<'a, S: Sink<'a>>(
    body: &str,
    at: usize,
    out: &mut Out<'a, S>,
    issues: &mut Vec<Issue>,
) {
    match resolve_entity(body) {
        Some(Entity::Str(s)) => out.text(s.into()),
        Some(Entity::Char(c)) => {
            let mut buf = [0u8; 4];
            out.text(std::borrow::Cow::Owned(c.encode_utf8(&mut buf).to_string()));
        }
        None => {
            issues.push(Issue {
                pos: at,
                message: format!("unknown entity `&{body};` kept as text"),
            });
            out.text(std::borrow::Cow::Owned(format!("&{body};")));
        }
    }
}

/// Reads one event at `start` with quick-xml, recovering from syntax errors; returns where
/// reading goes on, and whether it starts over there after an error.
fn slow_event<'a, S: Sink<'a>>(
    input: &'a str,
    start: usize,
    tails: &mut Tails,
    base: usize,
    out: &mut Out<'a, S>,
    issues: &mut Vec<Issue>,
) -> Result<(usize, bool), S::Error> {
    let slice = &input[start..];
    // A `<` that no name can follow, or with no `>` after it, is text whatever comes after
    // it: quick-xml would read on to the next `>` (or the end) first, and text holding many
    // (`a < b`, pasted code, a document cut short) would cost the rest of it for each.
    let text_anyway = match slice.as_bytes() {
        [b'<', _, ..] if tails.unclosed(input, start) => {
            Some("the markup this `<` starts does not end before the end of input; kept as text")
        }
        [b'<', next, ..]
            if !(name_len(&slice.as_bytes()[1..]) > 0
                || !next.is_ascii()
                || matches!(next, b'/' | b'!' | b'?')) =>
        {
            Some("`<` does not start a valid tag; kept as text")
        }
        _ => None,
    };
    if let Some(message) = text_anyway {
        issues.push(Issue {
            pos: base + start,
            message: message.into(),
        });
        out.text("<".into());
        return Ok((start + 1, true));
    }
    let mut reader = Reader::from_str(slice);
    let cfg = reader.config_mut();
    cfg.allow_dangling_amp = true;
    cfg.allow_unmatched_ends = true;
    cfg.check_end_names = false;
    cfg.check_comments = false;
    cfg.expand_empty_elements = false;
    let at = floor_boundary(input, start);
    let event = match reader.read_event() {
        Ok(ev) => ev,
        Err(err) => {
            let epos = floor_boundary(input, start + reader.error_position() as usize);
            if input[epos..].starts_with("<![CDATA[") {
                let body_start = epos + 9;
                let (body, next) = lenient_cdata_end(input, body_start);
                issues.push(Issue {
                    pos: base + epos,
                    message: "CDATA section without a proper `]]>` end; read up to the \
                              nearest `]]` `>`"
                        .into(),
                });
                let cdata = eol(&input[body_start..body]);
                out.token(Token::CData(cdata), issues)?;
                return Ok((next, true));
            }
            issues.push(Issue {
                pos: base + epos,
                message: format!("{err}; the `<` is kept as text"),
            });
            out.text("<".into());
            return Ok((next_boundary(input, epos), true));
        }
    };
    match event {
        Event::Eof => return Ok((input.len(), false)),
        Event::Start(e) | Event::Empty(e) if !valid_name(&utf8(e.name().as_ref())) => {
            issues.push(Issue {
                pos: base + at,
                message: "`<` does not start a valid tag; kept as text".into(),
            });
            out.text("<".into());
            return Ok((next_boundary(input, at), true));
        }
        Event::Start(e) => {
            let token = start_token(input, &e, false, base + at, issues);
            out.token(token, issues)?;
        }
        Event::Empty(e) => {
            let token = start_token(input, &e, true, base + at, issues);
            out.token(token, issues)?;
        }
        Event::End(e) => {
            let name = lift(input, e.name().as_ref().trim());
            if !valid_name(&name) {
                issues.push(Issue {
                    pos: base + at,
                    message: "malformed end tag kept as text".into(),
                });
                out.text("<".into());
                return Ok((next_boundary(input, at), true));
            }
            let token = Token::End {
                name,
                pos: base + at,
            };
            out.token(token, issues)?;
        }
        Event::Text(t) => out.text(match t.into_inner() {
            std::borrow::Cow::Borrowed(raw) => unescape(raw, base + at, issues),
            std::borrow::Cow::Owned(raw) => {
                std::borrow::Cow::Owned(unescape(&raw, base + at, issues).into_owned())
            }
        }),
        Event::GeneralRef(r) => general_ref(&utf8(&r), base + at, out, issues),
        Event::CData(c) => {
            let body = c.into_inner();
            // A `]] >` followed by an end tag is a broken terminator written by old
            // exporters; quick-xml reads past it to the next real `]]>`.
            if let Some(cut) = broken_cdata_terminator(&body) {
                // The broken end's `>` is inside what quick-xml read (up to the next
                // `]]>`): reading on starts after it, with no search past the body.
                let gt = body[cut + 2..]
                    .find('>')
                    .map_or(body.len(), |g| cut + 2 + g);
                let next = at + 9 + gt + 1;
                issues.push(Issue {
                    pos: base + at,
                    message: "CDATA section ended with `]] >`; read as its end".into(),
                });
                let cdata = eol(&body[..cut]).into_owned();
                out.token(Token::CData(cdata.into()), issues)?;
                return Ok((next, true));
            }
            out.token(Token::CData(eol_cow(body)), issues)?;
        }
        Event::Comment(c) => out.token(Token::Comment(c.into_inner()), issues)?,
        Event::Decl(d) => out.token(Token::Raw(format!("?{}?", utf8(&d)).into()), issues)?,
        Event::PI(p) => out.token(Token::Raw(format!("?{}?", utf8(&p)).into()), issues)?,
        Event::DocType(d) => {
            out.token(Token::Raw(format!("!DOCTYPE {}", utf8(&d)).into()), issues)?
        }
    }
    Ok((start + reader.buffer_position() as usize, false))
}

/// Where the last `>`, `-->` and `?>` of a document end, each found when first needed: a
/// tag, comment or processing instruction that starts after it cannot end.
#[derive(Default)]
struct Tails {
    gt: Option<usize>,
    comment: Option<usize>,
    pi: Option<usize>,
}

impl Tails {
    /// Whether the markup starting with the `<` at `start` has no end in `input` (CDATA
    /// aside: it is read leniently, to the end).
    fn unclosed(&mut self, input: &str, start: usize) -> bool {
        let rest = &input[start..];
        let after = |end: &str| {
            memchr::memmem::rfind(input.as_bytes(), end.as_bytes()).map_or(0, |i| i + end.len())
        };
        if rest.starts_with("<![CDATA[") {
            false
        } else if rest.starts_with("<!--") {
            start >= *self.comment.get_or_insert_with(|| after("-->"))
        } else if rest.starts_with("<?") {
            start >= *self.pi.get_or_insert_with(|| after("?>"))
        } else {
            start >= *self.gt.get_or_insert_with(|| after(">"))
        }
    }
}

fn utf8(s: &str) -> std::borrow::Cow<'_, str> {
    std::borrow::Cow::Borrowed(s)
}

/// XML end-of-line handling: `\r\n` and lone `\r` read as `\n`.
fn eol(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// [`eol`] of text that may be borrowed already.
fn eol_cow(text: Str<'_>) -> Str<'_> {
    match text {
        std::borrow::Cow::Borrowed(t) => eol(t),
        std::borrow::Cow::Owned(t) if t.contains('\r') => eol(&t).into_owned().into(),
        owned => owned,
    }
}

/// Finds `]]`, optional whitespace, `>` followed by optional whitespace and `</`.
fn broken_cdata_terminator(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while let Some(found) = memchr::memchr(b']', &bytes[i..]) {
        let at = i + found;
        if bytes.get(at + 1) != Some(&b']') {
            i = at + 1;
            continue;
        }
        let mut j = at + 2;
        let ws_start = j;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j > ws_start && j < bytes.len() && bytes[j] == b'>' {
            let mut k = j + 1;
            while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                k += 1;
            }
            if body[k..].starts_with("</") {
                return Some(at);
            }
        }
        i = at + 1;
    }
    None
}

/// Returns (end of CDATA body, position after the terminator) for a body starting at `from`.
fn lenient_cdata_end(input: &str, from: usize) -> (usize, usize) {
    let body = &input[from..];
    let strict = body.find("]]>");
    // A broken end only counts before the first proper one: looking further would scan the
    // rest of the document for every such section (quadratic in a long document).
    let broken = broken_cdata_terminator(strict.map_or(body, |s| &body[..s + 3]));
    match (strict, broken) {
        (Some(s), Some(b)) if b < s => {
            let after = body[b + 2..]
                .find('>')
                .map_or(input.len(), |g| from + b + 2 + g + 1);
            (from + b, after)
        }
        (Some(s), _) => (from + s, from + s + 3),
        (None, Some(b)) => {
            let after = body[b + 2..]
                .find('>')
                .map_or(input.len(), |g| from + b + 2 + g + 1);
            (from + b, after)
        }
        (None, None) => (input.len(), input.len()),
    }
}

fn start_token<'a>(
    input: &'a str,
    e: &BytesStart<'_>,
    empty: bool,
    pos: usize,
    issues: &mut Vec<Issue>,
) -> Token<'a> {
    let el_name = lift(input, e.name().as_ref());
    let mut attrs: Vec<(Name<'a>, Str<'a>)> = Vec::new();
    for attr in e.html_attributes().with_checks(false) {
        match attr {
            Ok(a) => {
                let key = lift(input, a.key.as_ref());
                let value = match lift(input, &a.value) {
                    std::borrow::Cow::Borrowed(raw) => unescape(raw, pos, issues),
                    std::borrow::Cow::Owned(raw) => {
                        std::borrow::Cow::Owned(unescape(&raw, pos, issues).into_owned())
                    }
                };
                if let Some(existing) = attrs.iter_mut().find(|(k, _)| *k == key) {
                    issues.push(Issue {
                        pos,
                        message: format!("duplicate attribute `{key}`"),
                    });
                    existing.1 = value;
                } else {
                    attrs.push((key, value));
                }
            }
            Err(err) => {
                issues.push(Issue {
                    pos,
                    message: format!(
                        "malformed attribute in `<{el_name}>`: {err}; later ones dropped"
                    ),
                });
                break;
            }
        }
    }
    Token::Start {
        name: el_name,
        attrs,
        empty,
        pos,
    }
}

/// What the reader does with the block ids Confluence Cloud's editor gives HTML elements
/// (`<p local-id="…">`, `<td ac:local-id="…">`): kept, or dropped as the reader builds the
/// tree (for Markdown, which has no place for them; Confluence accepts storage without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockIds {
    Keep,
    Drop,
}

/// Whether `attr` of the element `name` is a block id of Cloud's editor: `local-id` or
/// `ac:local-id` on an HTML element (a macro's `ac:local-id` is the macro's, not this).
pub(crate) fn is_block_id(name: &str, attr: &str) -> bool {
    matches!(attr, "local-id" | "ac:local-id") && !name.contains(':')
}

/// Builds a tree from tokens, closing what was left open and ignoring stray end tags.
pub(crate) struct TreeBuilder<'a> {
    stack: Vec<Element<'a>>,
    /// Child lists of elements already converted, reused for new elements.
    pool: Pool<'a>,
    ids: BlockIds,
}

/// Child lists of finished nodes, kept to be reused: a document's elements then cost no
/// allocation each (nor the reallocations of a growing list, nor a free when dropped).
#[derive(Default)]
pub(crate) struct Pool<'a> {
    lists: Vec<Vec<Node<'a>>>,
    /// Attribute lists of finished elements, reused the same way.
    attr_lists: Vec<Vec<(Name<'a>, Str<'a>)>>,
    /// Child lists being taken apart (a stack instead of recursion).
    work: Vec<Vec<Node<'a>>>,
}

/// Empty lists that earlier conversions on this thread left, without the lifetime of their
/// input. A process that converts page after page (the MCP server, `export`, the benchmark)
/// then starts each conversion with lists that already have room, instead of allocating and
/// growing them again.
#[derive(Default)]
struct Spare {
    lists: Vec<Vec<Node<'static>>>,
    attr_lists: Vec<Vec<(Name<'static>, Str<'static>)>>,
}

thread_local! {
    static SPARE: std::cell::Cell<Spare> = std::cell::Cell::new(Spare::default());
}

/// `v` emptied and detached from the lifetime of its contents, keeping its allocation: an
/// in-place `collect` of an empty vector into one whose element has the same layout.
fn detached<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

impl<'a> Pool<'a> {
    /// How many child lists are kept at most.
    const KEEP: usize = 256;
    /// The largest list kept for later conversions (a list of a huge table would hold its
    /// memory for the thread's life): with [`Pool::KEEP`], about 1 MB a thread at most.
    const SPARE_ROOM: usize = 32;

    /// A pool holding the lists an earlier conversion on this thread left ([`Pool::park`]).
    pub fn warm() -> Self {
        let spare = SPARE.take();
        Pool {
            lists: spare.lists,
            attr_lists: spare.attr_lists,
            work: Vec::new(),
        }
    }

    /// Leaves this pool's lists (the ones of moderate room) for the next conversion on this
    /// thread.
    pub fn park(self) {
        // The lists of moderate room, detached (the outer vector keeps its allocation too).
        fn spare<T, U>(lists: Vec<Vec<T>>) -> Vec<Vec<U>> {
            lists
                .into_iter()
                .filter(|l| (1..=Pool::SPARE_ROOM).contains(&l.capacity()))
                .map(detached)
                .collect()
        }
        let mut lists: Vec<Vec<Node<'static>>> = spare(self.lists);
        let mut attr_lists: Vec<Vec<(Name<'static>, Str<'static>)>> = spare(self.attr_lists);
        // A conversion inside another took the spare lists first: both sets are kept.
        let earlier = SPARE.take();
        lists.extend(earlier.lists);
        attr_lists.extend(earlier.attr_lists);
        lists.truncate(Self::KEEP);
        attr_lists.truncate(Self::KEEP);
        SPARE.set(Spare { lists, attr_lists });
    }

    /// An empty child list, with room from an earlier element when there is one.
    fn list(&mut self) -> Vec<Node<'a>> {
        self.lists.pop().unwrap_or_default()
    }

    /// Takes a finished node apart, keeping its elements' child and attribute lists for
    /// reuse. Iterative: no recursion on the depth; the nodes are dropped where they are, only
    /// lists move.
    pub fn put(&mut self, node: Node<'a>) {
        let Node::Element(e) = node else { return };
        self.keep_attrs(e.attrs);
        self.work.push(e.children);
        while let Some(mut list) = self.work.pop() {
            // Each node taken apart by its parts: dropping a whole `Node` is a call to its
            // drop glue per node, most of them text that owns nothing.
            for n in list.drain(..) {
                match n {
                    Node::Element(Element {
                        attrs, children, ..
                    }) => {
                        self.keep_attrs(attrs);
                        if children.capacity() > 0 {
                            self.work.push(children);
                        }
                    }
                    Node::Text(t) | Node::CData(t) | Node::Comment(t) | Node::Raw(t) => drop(t),
                }
            }
            if list.capacity() > 0 && self.lists.len() < Self::KEEP {
                self.lists.push(list);
            }
        }
    }

    fn keep_attrs(&mut self, mut attrs: Vec<(Name<'a>, Str<'a>)>) {
        if attrs.capacity() > 0 && self.attr_lists.len() < Self::KEEP {
            attrs.clear();
            self.attr_lists.push(attrs);
        }
    }
}

impl<'a> TreeBuilder<'a> {
    pub fn new(ids: BlockIds) -> Self {
        TreeBuilder {
            stack: vec![Element::new("#root")],
            pool: Pool::warm(),
            ids,
        }
    }

    fn top(&mut self) -> &mut Element<'a> {
        // The root is never popped, so the stack is never empty.
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    pub fn push_node(&mut self, node: Node<'a>) {
        let top = self.top();
        if let (Node::Text(t), Some(Node::Text(prev))) = (&node, top.children.last_mut()) {
            prev.to_mut().push_str(t);
            return;
        }
        top.children.push(node);
    }

    /// Adds one token to the tree. An element that would sit deeper than [`MAX_DEPTH`] is
    /// refused: the caller stops there.
    pub fn feed(&mut self, token: Token<'a>, issues: &mut Vec<Issue>) -> Result<(), TooDeep> {
        match token {
            Token::Start {
                name,
                mut attrs,
                empty,
                pos,
            } => {
                if self.ids == BlockIds::Drop && !attrs.is_empty() {
                    attrs.retain(|(k, _)| !is_block_id(&name, k));
                }
                self.implied_end(&name, pos, issues);
                // The new element's depth is the number of open elements plus one, and the
                // stack holds the root besides the open elements.
                if self.stack.len() > MAX_DEPTH {
                    return Err(TooDeep { pos });
                }
                let leaf = empty || is_void(&name);
                let el = Element {
                    name,
                    attrs,
                    children: if leaf { Vec::new() } else { self.pool.list() },
                    pos,
                };
                if leaf {
                    self.push_node(Node::Element(el));
                } else {
                    self.stack.push(el);
                }
            }
            Token::End { name, pos } => {
                if is_void(&name) {
                    return Ok(());
                }
                match self.stack.iter().rposition(|e| e.name == name) {
                    Some(idx) if idx > 0 => {
                        while self.stack.len() > idx + 1 {
                            let open = self
                                .stack
                                .last()
                                .map(|e| e.name.clone())
                                .unwrap_or_default();
                            let at = self.pop();
                            issues.push(Issue {
                                pos: at,
                                message: format!(
                                    "`<{open}>` not closed before `</{name}>`; closed there"
                                ),
                            });
                        }
                        self.pop();
                    }
                    _ => issues.push(Issue {
                        pos,
                        message: format!("stray `</{name}>` without an open tag; ignored"),
                    }),
                }
            }
            Token::Text(t) => self.push_node(Node::Text(t)),
            Token::CData(t) => self.push_node(Node::CData(t)),
            Token::Comment(t) => self.push_node(Node::Comment(t)),
            Token::Raw(t) => self.push_node(Node::Raw(t)),
        }
        Ok(())
    }

    /// Whether a top-level node is complete (all of them but a last text node, which later
    /// text may still join): most tokens complete
    /// nothing at the top level, and a drain costs its setup and teardown.
    pub fn has_complete(&self) -> bool {
        !matches!(self.stack[0].children.as_slice(), [] | [Node::Text(_)])
    }

    /// HTML's implied end tags: a block start closes an open `<p>`, and a list item, row or
    /// cell closes its open sibling. Old editors relied on this.
    fn implied_end(&mut self, name: &str, pos: usize, issues: &mut Vec<Issue>) {
        // What `name` closes, and what stops the search for it (matched by `match`, not by
        // scanning lists of names).
        let target: fn(&str) -> bool = match name {
            "li" => |n| n == "li",
            "tr" => |n| matches!(n, "tr" | "td" | "th"),
            "td" | "th" => |n| matches!(n, "td" | "th"),
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "table"
            | "blockquote" | "pre" | "div" | "hr" | "dl" | "ac:task-list" | "ac:layout"
            | "ac:layout-section" | "ac:layout-cell" => |n| n == "p",
            _ => return,
        };
        let barrier: fn(&str) -> bool = match name {
            "li" => |n| matches!(n, "ul" | "ol"),
            "tr" => |n| matches!(n, "table" | "tbody" | "thead" | "tfoot" | "tr"),
            "td" | "th" => |n| matches!(n, "table" | "tbody" | "thead" | "tfoot"),
            _ => |n| {
                matches!(
                    n,
                    "div"
                        | "td"
                        | "th"
                        | "li"
                        | "blockquote"
                        | "ac:rich-text-body"
                        | "ac:layout-cell"
                        | "ac:task-body"
                        // An image's caption holds paragraphs, and the image may sit in one.
                        | "ac:caption"
                        | "ac:adf-content"
                        | "ac:adf-fallback"
                )
            },
        };
        let mut found = None;
        for (i, e) in self.stack.iter().enumerate().skip(1).rev() {
            if target(&e.name) {
                found = Some(i);
                break;
            }
            if barrier(&e.name) {
                break;
            }
        }
        let Some(idx) = found else { return };
        while self.stack.len() > idx {
            let open = self
                .stack
                .last()
                .map(|e| e.name.clone())
                .unwrap_or_default();
            let at = self.pop();
            if !matches!(&*open, "li" | "td" | "th" | "tr" | "p") || open != name {
                issues.push(Issue {
                    pos: at,
                    message: format!("`<{open}>` not closed before `<{name}>`; closed there"),
                });
            }
        }
        let _ = pos;
    }

    /// Pops the top element into its parent; returns its position.
    fn pop(&mut self) -> usize {
        if self.stack.len() <= 1 {
            return 0;
        }
        match self.stack.pop() {
            Some(el) => {
                let pos = el.pos;
                self.top().children.push(Node::Element(el));
                pos
            }
            None => 0,
        }
    }

    pub fn finish(mut self, issues: &mut Vec<Issue>) -> Vec<Node<'a>> {
        while self.stack.len() > 1 {
            let name = self
                .stack
                .last()
                .map(|e| e.name.clone())
                .unwrap_or_default();
            let pos = self.pop();
            issues.push(Issue {
                pos,
                message: format!("`<{name}>` never closed; closed at end"),
            });
        }
        self.stack.pop().map(|r| r.children).unwrap_or_default()
    }
}

/// Parses a storage fragment (no root element needed) into nodes.
pub(crate) fn parse<'a>(input: &'a str, issues: &mut Vec<Issue>) -> Result<Vec<Node<'a>>, TooDeep> {
    let mut builder = TreeBuilder::new(BlockIds::Keep);
    tokenize(input, 0, issues, |token, issues| {
        builder.feed(token, issues)
    })?;
    let pool = std::mem::take(&mut builder.pool);
    let nodes = builder.finish(issues);
    pool.park();
    Ok(nodes)
}

/// Parses a storage fragment and hands each top-level node to `each` as soon as it is
/// complete, so only one top-level subtree is held at a time. `each` gives nodes it is done
/// with to the pool, whose child lists the parser reuses; the pool is returned for the nodes
/// the caller still holds, and then [`Pool::park`]ed.
pub(crate) fn parse_each<'a>(
    input: &'a str,
    ids: BlockIds,
    issues: &mut Vec<Issue>,
    each: impl FnMut(Node<'a>, &mut Pool<'a>),
) -> Result<Pool<'a>, TooDeep> {
    let mut sink = Each {
        builder: TreeBuilder::new(ids),
        each,
    };
    tokenize_with(input, 0, issues, &mut sink, true)?;
    let Each {
        mut builder,
        mut each,
    } = sink;
    let mut pool = std::mem::take(&mut builder.pool);
    for node in builder.finish(issues) {
        each(node, &mut pool);
    }
    Ok(pool)
}

/// [`parse_each`]'s tree builder and the function its top-level nodes go to.
struct Each<'a, G> {
    builder: TreeBuilder<'a>,
    each: G,
}

impl<'a, G: FnMut(Node<'a>, &mut Pool<'a>)> Sink<'a> for &mut Each<'a, G> {
    type Error = TooDeep;

    fn token(&mut self, token: Token<'a>, issues: &mut Vec<Issue>) -> Result<(), TooDeep> {
        let builder = &mut self.builder;
        builder.feed(token, issues)?;
        if builder.has_complete() {
            let TreeBuilder { stack, pool, .. } = builder;
            let root = &mut stack[0].children;
            let keep = usize::from(matches!(root.last(), Some(Node::Text(_))));
            let end = root.len().saturating_sub(keep);
            for node in root.drain(..end) {
                (self.each)(node, pool);
            }
        }
        Ok(())
    }

    fn attr_list(&mut self) -> Vec<(Name<'a>, Str<'a>)> {
        self.builder.pool.attr_lists.pop().unwrap_or_default()
    }
}

/// How to write XML.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WriteMode {
    /// The output goes inside an HTML comment: no `--`, nested comments encoded.
    pub in_comment: bool,
    /// The output must not contain a blank line (Markdown would end the HTML block there).
    pub no_blank_lines: bool,
    /// The output must stay on one line.
    pub one_line: bool,
    /// Leave out text that is only layout (see [`layout_whitespace`]): the output is read
    /// back as a Markdown HTML block, which drops such text.
    pub skip_layout: bool,
}

/// Text that is only the layout of XML written over several lines: ASCII whitespace with a
/// line break. A Markdown HTML block drops it when read back (its line breaks and indentation
/// are the Markdown's), so storage → Markdown leaves it out of raw HTML blocks as well. Other
/// whitespace (a space between two spans, a no-break space) is content and is kept.
pub(crate) fn layout_whitespace(t: &str) -> bool {
    let mut line_break = false;
    for b in t.bytes() {
        match b {
            b'\n' => line_break = true,
            b' ' | b'\t' | b'\r' | b'\x0c' => {}
            _ => return false,
        }
    }
    line_break
}

/// Element name used to carry a storage comment inside a placeholder comment.
pub(crate) const NESTED_COMMENT: &str = "conflux:comment";

/// Writes `nodes` as XML. Iterative, with an explicit stack, so no input depth can exhaust
/// the thread's stack.
pub(crate) fn write_nodes(nodes: &[Node], mode: WriteMode, out: &mut String) {
    let mut open: Vec<(&str, std::slice::Iter<'_, Node>)> = Vec::new();
    let mut iter = nodes.iter();
    loop {
        let Some(node) = iter.next() else {
            match open.pop() {
                Some((name, rest)) => {
                    write_end(name, out);
                    iter = rest;
                    continue;
                }
                None => break,
            }
        };
        match node {
            Node::Element(e) => {
                write_start(e, mode, out);
                if !writes_empty(e, mode) || !can_self_close(&e.name) {
                    let rest = std::mem::replace(&mut iter, e.children.iter());
                    open.push((&e.name, rest));
                }
            }
            leaf => write_leaf(leaf, mode, out),
        }
    }
}

pub(crate) fn to_string(nodes: &[Node], mode: WriteMode) -> String {
    let mut out = String::new();
    write_nodes(nodes, mode, &mut out);
    out
}

/// Writes one element and its content.
pub(crate) fn write_element(e: &Element, mode: WriteMode, out: &mut String) {
    write_start(e, mode, out);
    if !writes_empty(e, mode) || !can_self_close(&e.name) {
        write_nodes(&e.children, mode, out);
        write_end(&e.name, out);
    }
}

/// Writes a node that is not an element.
fn write_leaf(node: &Node, mode: WriteMode, out: &mut String) {
    match node {
        Node::Element(e) => write_element(e, mode, out),
        Node::Text(t) if mode.skip_layout && layout_whitespace(t) => {}
        Node::Text(t) => escape_text(t, mode, out),
        Node::CData(t) => {
            let plain =
                !mode.in_comment && !mode.one_line && (!mode.no_blank_lines || !has_blank_line(t));
            if plain {
                out.push_str("<![CDATA[");
                out.push_str(&t.replace("]]>", "]]]]><![CDATA[>"));
                out.push_str("]]>");
            } else {
                escape_text(t, mode, out);
            }
        }
        Node::Comment(t) => {
            if mode.in_comment {
                out.push('<');
                out.push_str(NESTED_COMMENT);
                out.push('>');
                escape_text(t, mode, out);
                out.push_str("</");
                out.push_str(NESTED_COMMENT);
                out.push('>');
            } else {
                out.push_str("<!--");
                out.push_str(&t.replace("--", "- -"));
                out.push_str("-->");
            }
        }
        Node::Raw(t) => {
            out.push('<');
            out.push_str(t);
            out.push('>');
        }
    }
}

/// Elements written as `<x />` when empty. HTML elements that are not void keep `<x></x>`,
/// because browsers read `<p />` as an open tag.
fn can_self_close(name: &str) -> bool {
    name.contains(':') || is_void(name)
}

/// Writes a start tag, or `<x />` when the element is empty and may self-close.
pub(crate) fn write_start(e: &Element, mode: WriteMode, out: &mut String) {
    write_tag(
        e,
        writes_empty(e, mode) && can_self_close(&e.name),
        mode,
        out,
    );
}

/// Whether an element's content writes as nothing: no children, or (in a comment or on one
/// line, where CDATA is written as text) only empty CDATA sections, so that it is `<x />`
/// the first time as it is once read back.
fn writes_empty(e: &Element, mode: WriteMode) -> bool {
    e.children.is_empty()
        || ((mode.in_comment || mode.one_line)
            && e.children
                .iter()
                .all(|n| matches!(n, Node::CData(t) if t.is_empty())))
}

/// Writes a start tag that is never self-closing, for a container written in parts.
pub(crate) fn write_open(e: &Element, mode: WriteMode, out: &mut String) {
    write_tag(e, false, mode, out);
}

fn write_tag(e: &Element, self_close: bool, mode: WriteMode, out: &mut String) {
    out.push('<');
    out.push_str(&e.name);
    for (k, v) in &e.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_attr(v, mode, out);
        out.push('"');
    }
    out.push_str(if self_close { " />" } else { ">" });
}

pub(crate) fn write_end(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn has_blank_line(t: &str) -> bool {
    t.split('\n').skip(1).any(|line| line.trim().is_empty())
}

fn current_line_blank(out: &str) -> bool {
    out.rsplit('\n').next().is_none_or(|l| l.trim().is_empty())
}

/// A byte table with `bytes` set: text is scanned byte by byte, and a lookup is one load.
pub(crate) const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

/// Bytes that [`escape_text`] and [`escape_attr`] may write otherwise than as they are (all
/// ASCII: text between them is copied in runs, not character by character).
static XML_SPECIAL: [bool; 256] = byte_set(b"&<>\r\n\t\"-");

fn escape_text(t: &str, mode: WriteMode, out: &mut String) {
    escape_runs(t, out, |out, b, next| match b {
        b'-' => comment_dash(mode, out, next),
        b'\n' if mode.one_line || (mode.no_blank_lines && current_line_blank(out)) => Some("&#10;"),
        _ => markup_ref(b),
    });
}

fn escape_attr(v: &str, mode: WriteMode, out: &mut String) {
    escape_runs(v, out, |out, b, next| match b {
        b'-' => comment_dash(mode, out, next),
        b'"' => Some("&quot;"),
        b'\n' => Some("&#10;"),
        b'\t' => Some("&#9;"),
        _ => markup_ref(b),
    });
}

/// What text and attribute values both write as references: markup, and `\r` (which XML
/// would read as a line break).
fn markup_ref(b: u8) -> Option<&'static str> {
    match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'\r' => Some("&#13;"),
        _ => None,
    }
}

/// A `-` inside a comment is written as a reference where it would make `--` with the one
/// written before it or the one after it.
fn comment_dash(mode: WriteMode, out: &str, next: Option<u8>) -> Option<&'static str> {
    (mode.in_comment && (out.ends_with('-') || next == Some(b'-'))).then_some("&#45;")
}

/// Copies `t` onto `out` in runs of bytes, writing `escape`'s text instead of each byte of
/// [`XML_SPECIAL`] it gives one for. `escape` sees what is written so far (the run before
/// the byte included), the byte, and the byte after it.
fn escape_runs(
    t: &str,
    out: &mut String,
    escape: impl Fn(&str, u8, Option<u8>) -> Option<&'static str>,
) {
    let bytes = t.as_bytes();
    out.reserve(t.len());
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !XML_SPECIAL[usize::from(b)] {
            continue;
        }
        // What comes before is written first: `escape` may read `out`.
        out.push_str(&t[from..i]);
        from = i;
        if let Some(esc) = escape(out, b, bytes.get(i + 1).copied()) {
            out.push_str(esc);
            from = i + 1;
        }
    }
    out.push_str(&t[from..]);
}

/// Maps byte offsets, given in non-decreasing order, to 1-based line and column (columns
/// count characters). It reads the text once, only as far as the last offset, and keeps no
/// list of lines: a document of a million lines with a few warnings costs one count of its
/// line breaks up to the last one, and a megabyte on one line with thousands of warnings one
/// count of its characters (the column is carried from one offset to the next, not counted
/// again from the line's start).
pub(crate) struct LineCursor<'a> {
    text: &'a str,
    /// How far the text has been read, the line it is on and the column there (0-based).
    at: usize,
    line: usize,
    col: usize,
}

impl<'a> LineCursor<'a> {
    pub fn new(text: &'a str) -> Self {
        LineCursor {
            text,
            at: 0,
            line: 0,
            col: 0,
        }
    }

    /// Line and column of `pos`; a position before the last one asked is read from the start.
    pub fn locate(&mut self, pos: usize) -> (usize, usize) {
        let pos = floor_boundary(self.text, pos);
        if pos < self.at {
            *self = LineCursor::new(self.text);
        }
        let read = &self.text[self.at..pos];
        // memchr counts with vector instructions; the column starts after the last break.
        match memchr::memrchr(b'\n', read.as_bytes()) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', read.as_bytes()).count();
                self.col = read[last + 1..].chars().count();
            }
            None => self.col += read.chars().count(),
        }
        self.at = pos;
        (self.line + 1, self.col + 1)
    }
}

/// Debug rendering used by tests: one node per line, indented.
#[cfg(test)]
pub(crate) fn outline(nodes: &[Node]) -> String {
    use std::fmt::Write as _;
    fn go(nodes: &[Node], depth: usize, out: &mut String) {
        for n in nodes {
            let pad = "  ".repeat(depth);
            match n {
                Node::Element(e) => {
                    let _ = write!(out, "{pad}<{}", e.name);
                    for (k, v) in &e.attrs {
                        let _ = write!(out, " {k}={v:?}");
                    }
                    out.push_str(">\n");
                    go(&e.children, depth + 1, out);
                }
                Node::Text(t) => {
                    let _ = writeln!(out, "{pad}{t:?}");
                }
                Node::CData(t) => {
                    let _ = writeln!(out, "{pad}CDATA{t:?}");
                }
                Node::Comment(t) => {
                    let _ = writeln!(out, "{pad}COMMENT{t:?}");
                }
                Node::Raw(t) => {
                    let _ = writeln!(out, "{pad}RAW{t:?}");
                }
            }
        }
    }
    let mut out = String::new();
    go(nodes, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_outlive_their_conversion_with_their_room() {
        let list: Vec<Node<'_>> = Vec::with_capacity(12);
        let at = list.as_ptr() as usize;
        let kept: Vec<Node<'static>> = detached(list);
        assert_eq!((kept.capacity(), kept.as_ptr() as usize), (12, at));

        let input = String::from("<p>one <em>two</em></p><ul><li>three</li></ul>");
        let mut issues = Vec::new();
        let pool = parse_each(&input, BlockIds::Keep, &mut issues, |node, pool| {
            pool.put(node)
        })
        .unwrap();
        pool.park();
        drop(input);
        let warm = Pool::warm();
        assert!(warm.lists.iter().all(|l| l.is_empty() && l.capacity() > 0));
        // `<ul>` and `<li>` took the lists of `<p>` and `<em>`: two lists in all.
        assert_eq!(warm.lists.len(), 2);
        warm.park();
    }

    /// Tokens and issues of `input`, read with or without the fast reader.
    fn tokens(input: &str, fast: bool) -> (Vec<Token<'_>>, Vec<Issue>) {
        let mut issues = Vec::new();
        let mut tokens = Vec::new();
        tokenize_with(
            input,
            0,
            &mut issues,
            |t, _: &mut Vec<Issue>| {
                tokens.push(t);
                Ok::<(), ()>(())
            },
            fast,
        )
        .unwrap();
        (tokens, issues)
    }

    #[test]
    fn fast_reader_reads_as_quick_xml_does() {
        for input in [
            "<p a=\"1\" b='2'>x &amp; y &bogus; & z &#x41;</p>",
            "<br/><br /><img src=\"a>b\" alt='c\"d'/>",
            "<p a=\"1\"b=\"2\">x</p ><p a = \"1\">y</p\t>",
            "<p a=1 b>x</p><p a=\"&lt;&q;\" a=\"2\">y</p>",
            "<![CDATA[a]]b]]><![CDATA[x]] >\n</p><!-- c --><!----><!--->--><!-->-->",
            "<?xml version=\"1.0\"?><!DOCTYPE html><a\u{e9}>t</a\u{e9}>",
            "a\r\nb\rc<p\r\nclass=\"x\r\ny\">&amp;\r</p>",
            "< p></ p><1a></><p/ a=\"b\"><p a=\"b></p>",
            "x &am<p>y &amp&lt; z & &a b; <",
            "<![CDATA[a]] >\u{feff}</p>]]><![CDATA[b]]  >  </x>",
        ] {
            assert_eq!(tokens(input, true), tokens(input, false), "{input:?}");
        }
    }

    /// A `<` no name follows, or one with no `>` after it, is text at once (quick-xml would
    /// read to the next `>` or the end for each, and a megabyte of `a < b` took seconds);
    /// CDATA with no end is still read leniently.
    #[test]
    fn a_lt_that_can_start_nothing_is_text_at_once() {
        for (input, text) in [
            ("a < b < c", "a < b < c"),
            ("a <1 b <= c", "a <1 b <= c"),
            ("a <b c <!-- d <?e", "a <b c <!-- d <?e"),
            ("<b>x</b> <i \"y <i \"z", "x <i \"y <i \"z"),
        ] {
            let (nodes, issues) = parse_ok(input);
            let got: String = nodes
                .iter()
                .map(|n| match n {
                    Node::Text(t) => t.to_string(),
                    Node::Element(e) => e.text(),
                    _ => String::new(),
                })
                .collect();
            assert_eq!(got, text, "{input}");
            assert_eq!(
                issues.len(),
                text.matches('<').count(),
                "{input}: {issues:?}"
            );
        }
        let (nodes, _) = parse_ok("a <![CDATA[ b <c");
        assert!(
            nodes
                .iter()
                .any(|n| matches!(n, Node::CData(c) if &**c == " b <c")),
            "{nodes:?}"
        );
    }

    #[test]
    fn byte_order_mark_after_a_syntax_error_is_skipped() {
        let (nodes, _) = parse_ok("a<\u{feff}b");
        assert_eq!(nodes, vec![Node::Text("a<b".into())]);
    }

    /// The character-by-character writers the byte-run ones replaced, kept to check them.
    fn escape_reference(t: &str, mode: WriteMode, attr: bool) -> String {
        let mut out = String::new();
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if attr => out.push_str("&quot;"),
                '\t' if attr => out.push_str("&#9;"),
                '\n' if attr => out.push_str("&#10;"),
                '-' if mode.in_comment && (out.ends_with('-') || chars.peek() == Some(&'-')) => {
                    out.push_str("&#45;")
                }
                '\n' if mode.one_line => out.push_str("&#10;"),
                '\n' if mode.no_blank_lines && current_line_blank(&out) => out.push_str("&#10;"),
                '\r' => out.push_str("&#13;"),
                _ => out.push(c),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn escapes_match_reference(
            t in "(&|<|>|\"|-|--|\n|\r|\t| |a|\u{e9}|\u{1f600}){0,30}",
            in_comment: bool,
            no_blank_lines: bool,
            one_line: bool,
        ) {
            let mode = WriteMode { in_comment, no_blank_lines, one_line, skip_layout: false };
            let mut text = String::new();
            escape_text(&t, mode, &mut text);
            proptest::prop_assert_eq!(text, escape_reference(&t, mode, false));
            let mut attr = String::new();
            escape_attr(&t, mode, &mut attr);
            proptest::prop_assert_eq!(attr, escape_reference(&t, mode, true));
        }

        #[test]
        fn fast_reader_matches_quick_xml(
            s in "(<|>|/|!|\\?|=|\"|'|&|;|#|x|a|p|b|:|-| |\n|\r|\\[|\\]|CDATA|--|amp|lt|\u{e9}){0,40}"
        ) {
            proptest::prop_assert_eq!(tokens(&s, true), tokens(&s, false));
        }
    }

    fn parse_ok(s: &str) -> (Vec<Node<'_>>, Vec<Issue>) {
        let mut issues = Vec::new();
        let nodes = parse(s, &mut issues).unwrap();
        (nodes, issues)
    }

    #[test]
    fn entities_html_set_and_unknown() {
        let (nodes, issues) = parse_ok("<p>a&nbsp;b &rsquo; &#x21a9; &bogus; AT&T</p>");
        let text = match &nodes[0] {
            Node::Element(e) => e.text(),
            _ => String::new(),
        };
        assert_eq!(text, "a\u{a0}b \u{2019} \u{21a9} &bogus; AT&T");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(issues[0].message.contains("bogus"));
    }

    #[test]
    fn broken_cdata_terminator_is_recovered() {
        let src = "<ac:plain-text-body><![CDATA[int x;]] ></ac:plain-text-body><p>after</p>";
        let (nodes, issues) = parse_ok(src);
        let out = outline(&nodes);
        assert!(out.contains("CDATA\"int x;\""), "{out}");
        assert!(out.contains("\"after\""), "{out}");
        assert_eq!(issues.len(), 1);
    }

    #[test]
    fn broken_cdata_before_a_good_one() {
        let src = "<a><![CDATA[one]] ></a><b><![CDATA[two]]></b>";
        let (nodes, _) = parse_ok(src);
        let out = outline(&nodes);
        assert!(out.contains("CDATA\"one\""), "{out}");
        assert!(out.contains("CDATA\"two\""), "{out}");
    }

    #[test]
    fn unclosed_and_stray_tags() {
        let (nodes, issues) = parse_ok("<div><p>one<p>two</div></span>tail<br>");
        let out = outline(&nodes);
        assert!(out.contains("\"tail\""), "{out}");
        assert!(
            issues.iter().any(|i| i.message.contains("stray")),
            "{issues:?}"
        );
        assert!(
            issues.iter().any(|i| i.message.contains("not closed")),
            "{issues:?}"
        );
    }

    /// A paragraph starting inside an image's caption does not close the paragraph the image
    /// sits in: the caption is a container of its own, as a macro's body is.
    #[test]
    fn a_caption_paragraph_leaves_the_outer_paragraph_open() {
        let (nodes, issues) = parse_ok(
            "<p>a<ac:image><ri:attachment ri:filename=\"f.png\" /><ac:caption><p>c</p></ac:caption></ac:image>b</p>",
        );
        assert!(issues.is_empty(), "{issues:?}");
        let [Node::Element(p)] = nodes.as_slice() else {
            panic!("{nodes:?}")
        };
        let names: Vec<String> = p
            .children
            .iter()
            .map(|n| match n {
                Node::Element(e) => e.name.to_string(),
                Node::Text(t) => format!("{t:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(names, ["\"a\"", "ac:image", "\"b\""], "{}", outline(&nodes));
        let image = p.child("ac:image").unwrap();
        assert_eq!(
            image
                .child("ac:caption")
                .unwrap()
                .child("p")
                .unwrap()
                .text(),
            "c"
        );
    }

    #[test]
    fn lone_less_than_is_text() {
        let (nodes, issues) = parse_ok("<p>a < b</p><p>c</p>");
        let out = outline(&nodes);
        assert!(out.contains("\"a < b\""), "{out}");
        assert!(out.contains("\"c\""), "{out}");
        assert!(!issues.is_empty());
    }

    #[test]
    fn positions_are_line_and_column() {
        let text = "ab\ncdé\nf";
        let mut lines = LineCursor::new(text);
        let cases = [
            (0, (1, 1)),
            (3, (2, 1)),
            (5, (2, 3)),
            (6, (2, 3)),
            (7, (2, 4)),
            (8, (3, 1)),
        ];
        for (pos, want) in cases {
            assert_eq!(lines.locate(pos), want, "{pos}");
            // A fresh cursor (as an error's position is placed) reads the same.
            assert_eq!(LineCursor::new(text).locate(pos), want, "{pos}");
        }
        // Inside `é` (bytes 5 and 6) is the character's own column; the end is after `f`.
        assert_eq!(lines.locate(9), (3, 2));
        assert_eq!(lines.locate(99), (3, 2));
        // Going back starts over.
        assert_eq!(lines.locate(3), (2, 1));
    }

    #[test]
    fn write_roundtrip_and_comment_safety() {
        let (nodes, _) = parse_ok(
            "<ac:x a=\"1 &amp; 2\"><ac:p><![CDATA[a]]>b]]></ac:p><!-- c --><br/>x--y</ac:x>",
        );
        let plain = to_string(&nodes, WriteMode::default());
        let (again, _) = parse_ok(&plain);
        assert_eq!(outline(&nodes), outline(&again));
        let safe = to_string(
            &nodes,
            WriteMode {
                in_comment: true,
                one_line: true,
                ..WriteMode::default()
            },
        );
        assert!(!safe.contains("--"), "{safe}");
        assert!(!safe.contains('\n'));
    }
}
