//! Directives: the Markdown form of constructs Markdown has no syntax for.
//!
//! In the family of Pandoc fenced divs, MyST and remark-directive. A container directive is a
//! fence of three or more colons with a name and an attribute block, the body as Markdown, and
//! a closing fence of the same colons (an outer directive has more colons than any inside it):
//!
//! ```text
//! :::panel{bgColor=#E3FCEF title="Before you start"}
//!
//! Converted *Markdown* body.
//!
//! :::
//! ```
//!
//! A macro without a body is a leaf directive on one line: `::toc{maxLevel=2}`. Macro
//! parameters are attributes (`key=value`, `key="quoted \" value"`), an element-valued
//! parameter is `key:xml="<ri:page … />"`, and other attributes of the macro element are
//! `@attr=value`. Layouts are `layout` / `section{type=two_equal}` / `cell` directives, and a
//! table whose cells hold blocks is a `list-table` (rows are `*` items, cells `-` items inside
//! them, `header-rows=N`). The fences are read where pulldown-cmark sees a paragraph, so
//! fences inside code blocks stay code; each one becomes the storage XML it stands for.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::links;
use crate::xml::{self, Element, Node, WriteMode};

/// Marks a `table` written from a `list-table` directive until its rows are rebuilt.
pub(crate) const HEADER_ROWS: &str = "conflux:header-rows";

/// One fence line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fence {
    Open {
        colons: usize,
        name: String,
        attrs: Vec<Attr>,
    },
    Leaf {
        name: String,
        attrs: Vec<Attr>,
    },
    Close {
        colons: usize,
    },
}

/// One `key=value` of an attribute block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    pub key: String,
    pub value: String,
    /// A quoted key is a parameter name, never `@attr` or `key:xml`.
    pub quoted_key: bool,
}

/// Reads a fence line (without its line end); `None` when the line is not one.
pub(crate) fn parse_fence(line: &str) -> Option<Fence> {
    let line = line.trim_end();
    let colons = line.bytes().take_while(|b| *b == b':').count();
    if colons < 2 {
        return None;
    }
    let rest = line[colons..].trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return (colons >= 3).then_some(Fence::Close { colons });
    }
    let name_len = directive_name_len(rest);
    if name_len == 0 {
        return None;
    }
    let name = rest[..name_len].to_string();
    let rest = rest[name_len..].trim_start_matches([' ', '\t']);
    let attrs = if rest.is_empty() {
        Vec::new()
    } else {
        let (attrs, after) = parse_attrs(rest)?;
        if !after.trim().is_empty() {
            return None;
        }
        attrs
    };
    Some(if colons == 2 {
        Fence::Leaf { name, attrs }
    } else {
        Fence::Open {
            colons,
            name,
            attrs,
        }
    })
}

/// Reads `{k=v "k 2"="v 2"}` at the start of `s`; returns the attributes and the rest.
pub(crate) fn parse_attrs(s: &str) -> Option<(Vec<Attr>, &str)> {
    let mut rest = s.strip_prefix('{')?;
    let mut attrs = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((attrs, after));
        }
        let quoted_key = rest.starts_with('"');
        let (key, after) = word(rest, true)?;
        let after = after.strip_prefix('=')?;
        let (value, after) = word(after, false)?;
        attrs.push(Attr {
            key,
            value,
            quoted_key,
        });
        rest = after;
    }
}

/// A text directive, `:name{attrs}`, whose colon is at `pos` in `src`: its name, attributes
/// and end. The colon follows neither a letter, a digit nor a colon (`a:b{…}`, `::leaf{…}`).
pub(crate) fn text_directive_at(src: &str, pos: usize) -> Option<(String, Vec<Attr>, usize)> {
    let before = src.get(..pos)?.chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric() || c == ':') {
        return None;
    }
    let rest = src.get(pos + 1..)?;
    let name_len = directive_name_len(rest);
    let after = rest.get(name_len..)?;
    if name_len == 0 || !after.starts_with('{') {
        return None;
    }
    let (attrs, tail) = parse_attrs(after)?;
    Some((rest[..name_len].to_string(), attrs, src.len() - tail.len()))
}

/// The length of the directive name at the start of `s`: a letter, then letters, digits,
/// `-` and `_`.
pub(crate) fn directive_name_len(s: &str) -> usize {
    s.char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_alphabetic() || (*i > 0 && (c.is_ascii_digit() || matches!(c, '-' | '_'))))
        })
        .map_or(s.len(), |(i, _)| i)
}

/// Marks a paragraph written from a `:::p{…}` directive until its body's paragraph is
/// unwrapped into it (a `p` inside a `p` would close it in the tree builder).
pub(crate) const PARAGRAPH: &str = "conflux:p";

/// Marks a heading written from a `:::h2{…}` directive (the name ends with the level) until
/// its body's paragraph is unwrapped into it, as [`PARAGRAPH`].
pub(crate) const HEADING: &str = "conflux:";

/// Marks a `:::decision-list` until its Markdown list becomes Cloud's `ac:adf-extension`.
pub(crate) const DECISIONS: &str = "conflux:decisions";

/// Marks an `:::adf-TYPE{…}` directive (the name ends with the type) until its body becomes
/// Cloud's `ac:adf-extension`.
pub(crate) const ADF: &str = "conflux:adf-";

/// Marks a `::fallback{…}` line, a `div` of an `ac:adf-extension`'s HTML fallback, until the
/// extension takes it; anywhere else it is the macro of that name.
pub(crate) const FALLBACK: &str = "conflux:fallback";

/// Marks the image and caption written from a `:::figure` directive until they are put
/// back together: the image of its first paragraph, the rest its `ac:caption`.
pub(crate) const FIGURE: &str = "conflux:figure";

/// The attribute that makes a bracketed span an inline comment's marker,
/// `[text]{ac:ref=…}` ↔ `<ac:inline-comment-marker ac:ref="…">text</…>`.
pub(crate) const COMMENT_REF: &str = "ac:ref";

/// The attributes of a bracketed span, `[text]{style="…" class=x}`, at the start of `s`,
/// and the length of the block. `color=X` stands for `style="color: X;"`. `None` when `s`
/// does not start with an attribute block of element attributes.
pub(crate) fn span_attrs(s: &str) -> Option<(Vec<(xml::Name<'static>, xml::Str<'static>)>, usize)> {
    let (attrs, after) = parse_attrs(s)?;
    let mut out = Vec::with_capacity(attrs.len());
    for a in attrs {
        if !a.quoted_key && a.key == "color" {
            out.push((xml::name("style"), format!("color: {};", a.value).into()));
        } else if xml::valid_name(&a.key) {
            out.push((xml::name(&a.key), a.value.into()));
        } else {
            return None;
        }
    }
    Some((out, s.len() - after.len()))
}

/// The attribute block of a bracketed span for an element's attributes; `None` when one
/// of them could not be read back as written (a `color` attribute, which `color=X` stands
/// for, or a name that is not plain). Values are quoted unless they are plain words, and
/// inside quotes Markdown's punctuation is escaped, so that Markdown reads no syntax there.
pub(crate) fn span_attr_block(attrs: &[(xml::Name<'_>, xml::Str<'_>)]) -> Option<String> {
    // Room for every attribute as it is, quotes and separators: one allocation.
    let room = attrs
        .iter()
        .map(|(k, v)| k.len() + v.len() + 4)
        .sum::<usize>()
        + 2;
    let mut out = String::with_capacity(room);
    out.push('{');
    for (i, (k, v)) in attrs.iter().enumerate() {
        if k == "color" || !xml::valid_name(k) {
            return None;
        }
        if i > 0 {
            out.push(' ');
        }
        let colour = (k == "style")
            .then(|| v.strip_prefix("color: ")?.strip_suffix(';'))
            .flatten()
            .filter(|c| !c.is_empty() && c.trim() == *c && !c.contains(';'));
        let (key, value) = match colour {
            Some(c) => ("color", c),
            None => (&**k, &**v),
        };
        out.push_str(key);
        out.push('=');
        let bare = !value.is_empty()
            && value.chars().all(|c| {
                c.is_alphanumeric()
                    || matches!(
                        c,
                        '-' | '.' | '#' | '/' | ',' | '+' | '%' | ':' | '(' | ')' | ';'
                    )
            });
        if bare {
            out.push_str(value);
        } else {
            push_inline_quoted(&mut out, value);
        }
    }
    out.push('}');
    Some(out)
}

/// A quoted attribute value inside a paragraph. Markdown must read no syntax in it that could
/// reach past the attribute block: code spans, emphasis, links and table cells are escaped,
/// and so is a `<` that no `>` closes inside the value (it could start raw HTML).
pub(crate) fn push_inline_quoted(out: &mut String, value: &str) {
    out.push('"');
    for (i, c) in value.char_indices() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' | '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '<' if !value[i..].contains('>') => out.push_str("\\<"),
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// A bare word (up to a space, `=` for keys, or `}`) or a quoted string with escapes.
fn word(s: &str, key: bool) -> Option<(String, &str)> {
    if let Some(body) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((out, &body[i + 1..])),
                '\\' => match chars.next()?.1 {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    other => out.push(other),
                },
                _ => out.push(c),
            }
        }
        return None;
    }
    let end = s
        .find(|c: char| c == ' ' || c == '\t' || c == '}' || c == '"' || (key && c == '='))
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].to_string(), &s[end..]))
}

/// The storage a directive stands for: (opening XML, closing XML) for a container, or
/// (the whole element, "") for a leaf.
///
/// An attribute that would become an element's attribute (`:::p{…}`, a layout's, a macro's
/// `@name`, a list table's `@name`) is left out when its name is not an XML name (`1x`, a
/// quoted `"a b"`): written as it is, it would make the storage malformed or read as other
/// attributes. Its key goes to `dropped`, for the caller to report.
pub(crate) fn storage(
    name: &str,
    attrs: &[Attr],
    container: bool,
    dropped: &mut Vec<String>,
) -> (String, String) {
    let mode = WriteMode::default();
    let structural = match name {
        "layout" => Some("ac:layout"),
        "section" => Some("ac:layout-section"),
        "cell" => Some("ac:layout-cell"),
        _ => None,
    };
    if let Some(tag) = structural {
        let mut el = Element::new(tag);
        for a in attrs {
            push_attr(&mut el, &format!("ac:{}", a.key), a, dropped);
        }
        return element_parts(&el, container, mode);
    }
    if name == "decision" && !container {
        // An item's state, as the item's `ac:adf-attribute` (the list moves it into place).
        let state = attrs
            .iter()
            .find(|a| a.key == "state")
            .map_or("", |a| a.value.as_str());
        let el = Element::new("ac:adf-attribute")
            .with_attr("key", "state")
            .with_child(Node::Text(state.to_string().into()));
        let mut whole = String::new();
        xml::write_element(&el, mode, &mut whole);
        return (whole, String::new());
    }
    if name == "figure" {
        // An image and its caption (see `FIGURE`); the directive has no attributes of its own.
        return element_parts(&Element::new(FIGURE), container, mode);
    }
    // Marked elements with the directive's attributes as theirs, rebuilt once their body is
    // read: a paragraph with attributes (see `PARAGRAPH`) or a heading (`HEADING`), Cloud's decisions (see `DECISIONS`;
    // `fallback=false` when the page had no HTML fallback), Cloud's other extensions (`ADF`
    // and the node's type) and their fallbacks' `div`s (`FALLBACK`).
    let marked = match name {
        "p" => Some(xml::Name::Borrowed(PARAGRAPH)),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" if container => {
            Some(xml::Name::Owned(format!("{HEADING}{name}")))
        }
        "decision-list" if container => Some(xml::Name::Borrowed(DECISIONS)),
        _ if name == crate::to_md::FALLBACK && !container => Some(xml::Name::Borrowed(FALLBACK)),
        _ => name
            .strip_prefix(crate::to_md::ADF_PREFIX)
            .filter(|kind| container && !kind.is_empty())
            .map(|kind| xml::Name::Owned(format!("{ADF}{kind}"))),
    };
    if let Some(marked) = marked {
        let mut el = Element::new(marked);
        for a in attrs {
            push_attr(&mut el, &a.key, a, dropped);
        }
        return element_parts(&el, container, mode);
    }
    if name == "list-table" && container {
        let rows = attrs
            .iter()
            .find(|a| a.key == "header-rows")
            .map_or("0", |a| a.value.as_str());
        let mut el = Element::new("table").with_attr(HEADER_ROWS, rows);
        for a in attrs {
            if let Some(k) = a.key.strip_prefix('@').filter(|_| !a.quoted_key) {
                push_attr(&mut el, k, a, dropped);
            }
        }
        return element_parts(&el, true, mode);
    }
    let mut m = Element::new("ac:structured-macro").with_attr("ac:name", name);
    let mut params = String::new();
    for a in attrs {
        if !a.quoted_key
            && let Some(attr) = a.key.strip_prefix('@')
        {
            push_attr(&mut m, attr, a, dropped);
            continue;
        }
        if !a.quoted_key && a.key == crate::to_md::COMMENT_KEY {
            let text = Node::Comment(a.value.clone().into());
            xml::write_nodes(std::slice::from_ref(&text), mode, &mut params);
            continue;
        }
        let (key, value) = match (a.key.strip_suffix(":xml"), a.key.strip_suffix(":link")) {
            (Some(k), _) if !a.quoted_key => (k, Value::Xml),
            (_, Some(k)) if !a.quoted_key => (k, Value::Link),
            _ => (a.key.as_str(), Value::Text),
        };
        let p = Element::new("ac:parameter").with_attr("ac:name", key);
        xml::write_open(&p, mode, &mut params);
        match value {
            Value::Xml => params.push_str(&a.value),
            Value::Link => {
                let wrapped = a.value.strip_prefix('<').and_then(|v| v.strip_suffix('>'));
                let r = links::resource_element(wrapped.unwrap_or(&a.value));
                let r = match wrapped {
                    Some(_) => Element::new("ac:link").with_child(Node::Element(r)),
                    None => r,
                };
                xml::write_nodes(&[Node::Element(r)], mode, &mut params);
            }
            Value::Text => {
                xml::write_nodes(&[Node::Text(a.value.clone().into())], mode, &mut params)
            }
        }
        xml::write_end("ac:parameter", &mut params);
    }
    let mut open = String::new();
    xml::write_open(&m, mode, &mut open);
    open.push_str(&params);
    if container {
        open.push_str("<ac:rich-text-body>");
        (
            open,
            "</ac:rich-text-body></ac:structured-macro>".to_string(),
        )
    } else {
        xml::write_end("ac:structured-macro", &mut open);
        (open, String::new())
    }
}

/// Gives `el` the attribute `name` with `a`'s value; when `name` is not an XML name, `a`'s key
/// goes to `dropped` instead (see [`storage`]).
fn push_attr(el: &mut Element, name: &str, a: &Attr, dropped: &mut Vec<String>) {
    if xml::valid_name(name) {
        el.attrs.push((xml::name(name), a.value.clone().into()));
    } else {
        dropped.push(a.key.clone());
    }
}

/// How a directive attribute's value becomes a macro parameter: text, the storage XML of
/// `key:xml`, or the resource of `key:link` (inside an `ac:link` when written `<DEST>`).
enum Value {
    Text,
    Xml,
    Link,
}

fn element_parts(el: &Element, container: bool, mode: WriteMode) -> (String, String) {
    let mut open = String::new();
    xml::write_open(el, mode, &mut open);
    let mut close = String::new();
    xml::write_end(&el.name, &mut close);
    if container {
        (open, close)
    } else {
        open.push_str(&close);
        (open, String::new())
    }
}

/// Rebuilds a `list-table`: the items of its list are rows, the items of each row's list
/// its cells; the first `header_rows` rows have `th` cells. Content in neither place gets a
/// row (or cell) of its own, so nothing is dropped.
pub(crate) fn list_table(children: Vec<Node>, header_rows: usize) -> Element {
    let mut body = Element::new("tbody");
    for n in children {
        match n {
            // Rows that all had task markers: each task is a row again.
            Node::Element(tasks) if tasks.name == "ac:task-list" => {
                for task in tasks.children {
                    let Node::Element(task) = task else { continue };
                    let cell = if body.children.len() < header_rows {
                        "th"
                    } else {
                        "td"
                    };
                    let children = task
                        .children
                        .into_iter()
                        .find_map(|n| match n {
                            Node::Element(b) if b.name == "ac:task-body" => Some(b.children),
                            _ => None,
                        })
                        .unwrap_or_default();
                    body.children.push(Node::Element(row(children, cell)));
                }
            }
            Node::Element(list) if matches!(&*list.name, "ul" | "ol") => {
                for item in list.children {
                    match item {
                        Node::Element(li) if li.name == "li" => {
                            let cell = if body.children.len() < header_rows {
                                "th"
                            } else {
                                "td"
                            };
                            body.children.push(Node::Element(row(li.children, cell)));
                        }
                        other => push_loose(&mut body, other),
                    }
                }
            }
            other => push_loose(&mut body, other),
        }
    }
    Element::new("table").with_child(Node::Element(body))
}

/// A cell of a `list-table` row: a leaf `::cell{…}` before its content (read as an empty
/// `ac:layout-cell`) gives the cell its attributes (`colspan`, colours).
fn cell_of<'a>(mut children: Vec<Node<'a>>, cell: &'static str) -> Element<'a> {
    let mut c = Element::new(cell);
    let first = children.iter().position(|n| !xml::is_blank(n));
    if let Some(i) = first
        && let Node::Element(lc) = &children[i]
        && lc.name == "ac:layout-cell"
        && lc.children.is_empty()
        && let Node::Element(lc) = children.remove(i)
    {
        for (k, v) in lc.attrs {
            let k = k.strip_prefix("ac:").map(xml::name).unwrap_or(k);
            c.attrs.push((k, v));
        }
    }
    c.children = children;
    c
}

fn push_loose<'a>(body: &mut Element<'a>, n: Node<'a>) {
    if xml::is_blank(&n) {
        return;
    }
    let cell = Element::new("td").with_child(n);
    body.children.push(Node::Element(
        Element::new("tr").with_child(Node::Element(cell)),
    ));
}

fn row<'a>(children: Vec<Node<'a>>, cell: &'static str) -> Element<'a> {
    let mut tr = Element::new("tr");
    for n in children {
        match n {
            Node::Element(list) if matches!(&*list.name, "ul" | "ol") => {
                for item in list.children {
                    match item {
                        Node::Element(li) if li.name == "li" => {
                            tr.children.push(Node::Element(cell_of(li.children, cell)));
                        }
                        Node::Text(t) if t.trim().is_empty() => {}
                        other => tr
                            .children
                            .push(Node::Element(Element::new(cell).with_child(other))),
                    }
                }
            }
            // A cell list whose items all had task markers: each task is a cell again.
            Node::Element(tasks) if tasks.name == "ac:task-list" => {
                for task in tasks.children {
                    let Node::Element(task) = task else { continue };
                    let done = task
                        .child("ac:task-status")
                        .is_some_and(|s| s.text() == "complete");
                    let mut c = Element::new(cell);
                    c.children
                        .push(Node::Text(if done { "[x] " } else { "[ ] " }.into()));
                    if let Some(body) = task.children.into_iter().find_map(|n| match n {
                        Node::Element(b) if b.name == "ac:task-body" => Some(b),
                        _ => None,
                    }) {
                        c.children.extend(body.children);
                    }
                    tr.children.push(Node::Element(c));
                }
            }
            Node::Text(t) if t.trim().is_empty() => {}
            other => tr
                .children
                .push(Node::Element(Element::new(cell).with_child(other))),
        }
    }
    tr
}

/// Whether the byte at `pos` of Markdown `src` is escaped by an odd run of backslashes
/// before it.
pub(crate) fn escaped_at(src: &[u8], pos: usize) -> bool {
    let before = src.get(..pos).unwrap_or_default();
    before.iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
}

/// Bytes of `markdown` that are neither CommonMark/GFM nor text: raw HTML (tags, blocks and
/// comments, placeholders included), directive fence lines with their attribute blocks, text
/// directives (`:name{…}`), the brackets and attribute blocks of bracketed spans
/// (`[text]{…}`), and headings' attribute blocks (`# Title {#id align=center}`). The Markdown
/// inside a directive or a span counts as Markdown.
pub fn markup_bytes(markdown: &str) -> usize {
    let mut total = 0;
    let mut in_para: Option<std::ops::Range<usize>> = None;
    let mut html_block: Option<String> = None;
    let parser = Parser::new_ext(markdown, crate::from_md::options()).into_offset_iter();
    for (event, range) in parser {
        match event {
            // An HTML block comes line by line; a comment may span lines.
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::End(TagEnd::HtmlBlock) => {
                total += html_block.take().map_or(0, |h| tag_bytes(&h));
            }
            Event::Html(h) if html_block.is_some() => {
                if let Some(b) = &mut html_block {
                    b.push_str(&h);
                }
            }
            Event::Html(h) | Event::InlineHtml(h) => total += tag_bytes(&h),
            // Text directives, read from the source of a text.
            Event::Text(t) if t.contains(':') && markdown.get(range.clone()) == Some(&*t) => {
                let mut from = range.start;
                while let Some(i) = markdown.get(from..range.end).and_then(|s| s.find(':')) {
                    let pos = from + i;
                    let escaped = escaped_at(markdown.as_bytes(), pos);
                    match text_directive_at(markdown, pos) {
                        Some((_, _, end)) if !escaped => {
                            total += end - pos;
                            from = end;
                        }
                        _ => from = pos + 1,
                    }
                }
            }
            // A bracketed span: its `[`, its `]` and its attribute block.
            Event::Text(t)
                if &*t == "]"
                    && markdown.get(range.clone()) == Some("]")
                    && !escaped_at(markdown.as_bytes(), range.start) =>
            {
                if let Some((_, len)) = markdown.get(range.end..).and_then(span_attrs) {
                    total += 2 + len;
                }
            }
            Event::Start(Tag::Heading { .. }) => {
                total += markdown
                    .get(range)
                    .and_then(heading_attr_block)
                    .unwrap_or(0);
            }
            Event::Start(Tag::Paragraph) => in_para = Some(range),
            Event::End(TagEnd::Paragraph) => {
                if let Some(r) = in_para.take()
                    && let Some(text) = markdown.get(r)
                {
                    let text = text.trim_end();
                    let first = text.split('\n').next().unwrap_or("");
                    if parse_fence(first).is_some() {
                        total += first.len();
                    }
                    if let Some(nl) = text.rfind('\n') {
                        let last = text[nl + 1..].trim_start_matches([' ', '\t', '>']);
                        if matches!(parse_fence(last), Some(Fence::Close { .. })) {
                            total += last.len();
                        }
                    }
                }
            }
            _ => {}
        }
    }
    total
}

/// The length of the attribute block that ends an ATX heading's source, with the spaces
/// before it (`# Title {#id align=center}`), when it stands apart from the text: right after
/// a `]` it is a bracketed span's.
pub(crate) fn heading_attr_block(heading: &str) -> Option<usize> {
    let src = heading.trim_end();
    let open = src.strip_suffix('}')?.rfind('{')?;
    let before = src[..open].trim_end_matches([' ', '\t']);
    (before.len() < open).then_some(src.len() - before.len())
}

/// Bytes of raw HTML that are tags or comments; the text between tags is text.
fn tag_bytes(html: &str) -> usize {
    let mut total = 0;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let tail = &rest[i..];
        let end = if tail.starts_with("<!--") {
            tail.find("-->").map(|j| j + 3)
        } else {
            tail.find('>').map(|j| j + 1)
        };
        let Some(end) = end else {
            total += tail.len();
            break;
        };
        total += end;
        rest = &tail[end..];
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_parse() {
        assert_eq!(parse_fence(":::"), Some(Fence::Close { colons: 3 }));
        assert_eq!(parse_fence("::"), None);
        assert_eq!(parse_fence(":::1x"), None);
        let Some(Fence::Open {
            colons,
            name,
            attrs,
        }) = parse_fence("::::panel{bgColor=#fff \"a b\"=\"x \\\" \\n y\" @data-layout=wide}")
        else {
            panic!("not an open fence");
        };
        assert_eq!((colons, name.as_str()), (4, "panel"));
        assert_eq!(attrs.len(), 3);
        assert_eq!(attrs[1].key, "a b");
        assert!(attrs[1].quoted_key);
        assert_eq!(attrs[1].value, "x \" \n y");
        assert_eq!(
            parse_fence("::toc{maxLevel=2}"),
            Some(Fence::Leaf {
                name: "toc".into(),
                attrs: vec![Attr {
                    key: "maxLevel".into(),
                    value: "2".into(),
                    quoted_key: false
                }]
            })
        );
        assert_eq!(parse_fence(":::panel{a=1} trailing"), None);
        assert_eq!(parse_fence(":::panel{a=\"unclosed}"), None);
    }
}
