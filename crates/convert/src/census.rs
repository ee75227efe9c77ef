//! Comparing storage documents by meaning: a normalised tree and a census of the constructs
//! people lose in conversions (macros, page links, images, tasks, mentions).
//!
//! Tests use this to check round trips, the benchmark to score other converters, and callers
//! can use it to refuse an update that would drop a macro.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::to_md::{regenerated_attr, stands_alone};
use crate::xml::{self, Node};
use crate::{ConvertError, Format, Result};

/// The constructs of a storage document, each as a comparable signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// `name(param=value,…)` for every `ac:structured-macro` and `ac:macro`.
    pub macros: Vec<String>,
    /// `SPACE/Title#anchor` for every `ac:link` to a page.
    pub page_links: Vec<String>,
    /// The attachment file name or URL of every `ac:image`.
    pub images: Vec<String>,
    /// `[x] text` / `[ ] text` for every `ac:task`.
    pub tasks: Vec<String>,
    /// The account id, user name or user key of every user link.
    pub mentions: Vec<String>,
}

/// How many of one document's constructs another document still has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Survival {
    pub macros: (usize, usize),
    pub page_links: (usize, usize),
    pub images: (usize, usize),
    pub tasks: (usize, usize),
    pub mentions: (usize, usize),
}

impl Survival {
    /// Adds another document's figures.
    pub fn add(&mut self, o: &Survival) {
        for (a, b) in [
            (&mut self.macros, o.macros),
            (&mut self.page_links, o.page_links),
            (&mut self.images, o.images),
            (&mut self.tasks, o.tasks),
            (&mut self.mentions, o.mentions),
        ] {
            a.0 += b.0;
            a.1 += b.1;
        }
    }
}

impl Census {
    /// For each kind: (kept in `after`, present in `self`), matching signatures as multisets.
    pub fn survival(&self, after: &Census) -> Survival {
        Survival {
            macros: kept(&self.macros, &after.macros),
            page_links: kept(&self.page_links, &after.page_links),
            images: kept(&self.images, &after.images),
            tasks: kept(&self.tasks, &after.tasks),
            mentions: kept(&self.mentions, &after.mentions),
        }
    }
}

fn kept(before: &[String], after: &[String]) -> (usize, usize) {
    let mut pool: HashMap<&str, usize> = HashMap::new();
    for a in after {
        *pool.entry(a.as_str()).or_default() += 1;
    }
    let mut n = 0;
    for b in before {
        if let Some(c) = pool.get_mut(b.as_str())
            && *c > 0
        {
            *c -= 1;
            n += 1;
        }
    }
    (n, before.len())
}

/// Counts the constructs of a storage document (parsed leniently).
///
/// Fails only on input nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
pub fn census(storage: &str) -> Result<Census> {
    let mut nodes = parse(storage)?;
    normalize_nodes(&mut nodes, false);
    let mut c = Census::default();
    walk(&nodes, &mut c);
    Ok(c)
}

fn parse(storage: &str) -> Result<Vec<Node<'_>>> {
    let mut issues = Vec::new();
    xml::parse(storage, &mut issues)
        .map_err(|d| ConvertError::too_deep(Format::Storage, storage, d))
}

/// Counts every element of `nodes`, in document order. Iterative: no recursion on the depth.
fn walk(nodes: &[Node], c: &mut Census) {
    let mut stack = vec![nodes.iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            None => {
                stack.pop();
            }
            Some(Node::Element(e)) => {
                count(e, c);
                stack.push(e.children.iter());
            }
            Some(_) => {}
        }
    }
}

fn count(e: &xml::Element, c: &mut Census) {
    match &*e.name {
        "ac:structured-macro" | "ac:macro" => {
            let mut params: Vec<String> = e
                .elements()
                .filter(|p| p.name == "ac:parameter" || p.name == "ac:default-parameter")
                .map(|p| {
                    let value = if p.elements().next().is_some() {
                        compact(&p.children)
                    } else {
                        p.text().trim().to_string()
                    };
                    format!("{}={}", p.attr("ac:name").unwrap_or(""), value)
                })
                .collect();
            params.sort();
            c.macros.push(format!(
                "{}({})",
                e.attr("ac:name").unwrap_or(""),
                params.join(",")
            ));
        }
        "ac:link" => {
            let anchor = e
                .attr("ac:anchor")
                .map(|a| format!("#{a}"))
                .unwrap_or_default();
            if let Some(p) = e.child("ri:page") {
                let space = p.attr("ri:space-key").unwrap_or("");
                let title = p.attr("ri:content-title").unwrap_or("");
                c.page_links.push(format!("{space}/{title}{anchor}"));
            }
            if let Some(u) = e.child("ri:user") {
                let id = u
                    .attr("ri:account-id")
                    .or_else(|| u.attr("ri:username"))
                    .or_else(|| u.attr("ri:userkey"))
                    .unwrap_or("");
                c.mentions.push(id.to_string());
            }
        }
        "ac:image" => {
            let r = e.elements().find(|r| r.name.starts_with("ri:"));
            let sig = match r {
                Some(r) => r
                    .attr("ri:filename")
                    .or_else(|| r.attr("ri:value"))
                    .unwrap_or("")
                    .to_string(),
                None => String::new(),
            };
            c.images.push(sig);
        }
        "ac:task" => {
            let done = e
                .child("ac:task-status")
                .map(|s| s.text().trim() == "complete")
                .unwrap_or(false);
            let body = e
                .child("ac:task-body")
                .map(|b| collapse(&b.text()))
                .unwrap_or_default();
            c.tasks
                .push(format!("[{}] {body}", if done { "x" } else { " " }));
        }
        _ => {}
    }
}

fn compact(nodes: &[Node]) -> String {
    xml::to_string(
        nodes,
        xml::WriteMode {
            one_line: true,
            ..xml::WriteMode::default()
        },
    )
}

fn collapse(s: &str) -> String {
    s.split(|c: char| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A normalised outline of a storage document, for comparing documents by meaning.
///
/// Ignores what Confluence regenerates or what has two spellings: macro ids and schema
/// versions, task ids, a `<p>` alone in its container or beside a block (paragraphs stay
/// apart), `thead`/`tbody`, CDATA versus text, whitespace outside code, `b`/`strong` and
/// `i`/`em`, link-body kinds, parameter order.
///
/// Fails only on input nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
pub fn normalized(storage: &str) -> Result<String> {
    let mut nodes = parse(storage)?;
    normalize_nodes(&mut nodes, false);
    let mut out = String::new();
    outline(&nodes, &mut out);
    Ok(out)
}

/// Normalises a node list in place. Recursive, with a small frame: the per-element work is
/// in helpers, and the depth is bounded by [`MAX_DEPTH`](crate::MAX_DEPTH).
fn normalize_nodes(nodes: &mut Vec<Node>, verbatim: bool) {
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
    for n in nodes.drain(..) {
        match n {
            Node::Element(mut e) => {
                if !normalize_tag(&mut e) {
                    continue;
                }
                let inner_verbatim = verbatim || e.name == "ac:plain-text-body";
                normalize_nodes(&mut e.children, inner_verbatim);
                normalize_content(e, verbatim, &mut out);
            }
            Node::CData(t) | Node::Text(t) => out.push(Node::Text(t)),
            Node::Comment(c) => out.push(Node::Comment(c.trim().to_string().into())),
            Node::Raw(r) => out.push(Node::Raw(r)),
        }
    }
    *nodes = merge_text(out, verbatim);
}

/// One spelling per element name and attribute; `false` drops the element.
fn normalize_tag(e: &mut xml::Element) -> bool {
    let name = match &*e.name {
        "b" => "strong",
        "i" => "em",
        "s" | "strike" => "del",
        "ac:plain-text-link-body" => "ac:link-body",
        other => other,
    }
    .to_string();
    e.name = name.into();
    if matches!(&*e.name, "ac:task-id" | "ac:task-uuid" | "colgroup") {
        return false;
    }
    // An ADF node's block id, as Cloud's editor writes it in an `ac:adf-extension`: only in
    // the form the converter leaves out (the attribute `key` alone, text inside), so another
    // form that a conversion lost would show.
    if crate::to_md::adf_local_id(e) {
        return false;
    }
    let name = &e.name;
    e.attrs.retain(|(k, v)| {
        !regenerated_attr(k)
            && !xml::is_block_id(name, k)
            && !matches!(&**k, "data-layout" | "data-table-width")
            && (k != "start" || v != "1")
            && (k != "class" || !v.starts_with("confluence"))
    });
    for (k, v) in &mut e.attrs {
        if k == "style" {
            *v = v
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase()
                .into();
            while v.ends_with(';') {
                v.to_mut().pop();
            }
        }
    }
    true
}

/// Macro parameters in name order; table sections unwrapped outside code, and `<p>` too,
/// its edges marked ([`PARAGRAPH_EDGE`]).
fn normalize_content<'a>(mut e: xml::Element<'a>, verbatim: bool, out: &mut Vec<Node<'a>>) {
    if matches!(&*e.name, "ac:structured-macro" | "ac:macro") {
        let (mut params, rest): (Vec<Node>, Vec<Node>) = e
            .children
            .drain(..)
            .partition(|c| matches!(c, Node::Element(p) if p.name == "ac:parameter"));
        // A parameter whose value is what its absence says goes as the converter leaves it out.
        let name = e.attr("ac:name").unwrap_or("");
        params.retain(|p| {
            !matches!(p, Node::Element(p) if crate::to_md::implied_param(name, p.attr("ac:name").unwrap_or(""), &p.text_cow()))
        });
        params.sort_by_key(|p| match p {
            Node::Element(p) => p.attr("ac:name").unwrap_or("").to_string(),
            _ => String::new(),
        });
        e.children = params;
        e.children.extend(rest);
    }
    if !verbatim && e.name == "p" && e.attrs.is_empty() {
        out.push(Node::Text(PARAGRAPH_EDGE.into()));
        out.extend(e.children);
        out.push(Node::Text(PARAGRAPH_EDGE.into()));
    } else if !verbatim && matches!(&*e.name, "thead" | "tbody" | "tfoot") && e.attrs.is_empty() {
        out.push(Node::Text(" ".into()));
        out.extend(e.children);
        out.push(Node::Text(" ".into()));
    } else {
        out.push(Node::Element(e));
    }
}

/// Merges adjacent text, then trims it outside code.
fn merge_text(out: Vec<Node>, verbatim: bool) -> Vec<Node> {
    let mut merged: Vec<Node> = Vec::with_capacity(out.len());
    for n in out {
        if let (Node::Text(t), Some(Node::Text(prev))) = (&n, merged.last_mut()) {
            prev.to_mut().push_str(t);
            continue;
        }
        merged.push(n);
    }
    if verbatim {
        // An empty CDATA section is no text (`<![CDATA[]]>` and nothing compare equal).
        merged.retain(|n| !matches!(n, Node::Text(t) if t.is_empty()));
    } else {
        for i in 0..merged.len() {
            let block_before = i == 0 || stands_alone(&merged[i - 1]);
            let block_after = merged.get(i + 1).is_none_or(stands_alone);
            if let Node::Text(t) = &mut merged[i] {
                let words = collapse(&t.replace('\u{a0}', " "));
                *t = paragraph_edges(words, block_before, block_after).into();
            }
        }
        merged.retain(|n| !matches!(n, Node::Text(t) if t.is_empty()));
    }
    merged
}

/// Where a paragraph starts or ends in a text being normalised (a word of its own): two
/// paragraphs are not one (`<p>a</p><p>b</p>` is not `<p>a b</p>`, nor two statuses in their
/// paragraphs the two on one line), while the `p` of a paragraph alone in its container or
/// beside a block is not told from its content (`<li><p>a</p></li>` is `<li>a</li>`).
const PARAGRAPH_EDGE: &str = " \u{2029} ";

/// [`PARAGRAPH_EDGE`] as a word.
const EDGE: &str = "\u{2029}";

/// The collapsed words of a text with one paragraph edge where several meet, and none at an
/// end that a block or the container's edge meets.
fn paragraph_edges(words: String, block_before: bool, block_after: bool) -> String {
    if !words.contains(EDGE) {
        return words;
    }
    let mut kept: Vec<&str> = Vec::new();
    for w in words.split(' ') {
        if w == EDGE && (kept.last() == Some(&EDGE) || (kept.is_empty() && block_before)) {
            continue;
        }
        kept.push(w);
    }
    if block_after && kept.last() == Some(&EDGE) {
        kept.pop();
    }
    kept.join(" ")
}

/// One line per node, indented by depth. Iterative: no recursion on the depth.
fn outline(nodes: &[Node], out: &mut String) {
    let mut stack = vec![nodes.iter()];
    while let Some(top) = stack.last_mut() {
        let Some(n) = top.next() else {
            stack.pop();
            continue;
        };
        outline_line(n, stack.len() - 1, out);
        if let Node::Element(e) = n {
            stack.push(e.children.iter());
        }
    }
}

fn outline_line(n: &Node, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match n {
        Node::Element(e) => {
            let _ = write!(out, "{pad}<{}", e.name);
            let mut attrs = e.attrs.clone();
            attrs.sort();
            for (k, v) in &attrs {
                let _ = write!(out, " {k}={v:?}");
            }
            out.push_str(">\n");
        }
        Node::Text(t) | Node::CData(t) => {
            let _ = writeln!(out, "{pad}{t:?}");
        }
        Node::Comment(c) => {
            let _ = writeln!(out, "{pad}<!--{c:?}-->");
        }
        Node::Raw(r) => {
            let _ = writeln!(out, "{pad}<{r:?}>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_ignores_spelling() {
        let a = "<p><b>x</b> y</p><ac:structured-macro ac:name=\"m\" ac:macro-id=\"1\"><ac:parameter ac:name=\"b\">2</ac:parameter><ac:parameter ac:name=\"a\">1</ac:parameter></ac:structured-macro>";
        let b = "<strong>x</strong>y<ac:structured-macro ac:name=\"m\"><ac:parameter ac:name=\"a\">1</ac:parameter><ac:parameter ac:name=\"b\">2</ac:parameter></ac:structured-macro>";
        assert_eq!(normalized(a).unwrap(), normalized(b).unwrap());
        assert_ne!(normalized(a).unwrap(), normalized("<p>x y</p>").unwrap());
    }

    /// Two paragraphs are not one, nor one paragraph's text beside another's content; a
    /// paragraph alone in its container, or beside a block, is its content.
    #[test]
    fn normalised_keeps_paragraphs_apart() {
        let n = |s: &str| normalized(s).unwrap();
        let status = "<ac:structured-macro ac:name=\"status\" />";
        for (a, b) in [
            ("<p>a</p><p>b</p>", "<p>a b</p>".to_string()),
            ("<p>a</p><p><em>b</em></p>", "<p>a <em>b</em></p>".into()),
            (
                &format!("<ul><li><p>{status}</p><p>{status}</p></li></ul>"),
                format!("<ul><li>{status}{status}</li></ul>"),
            ),
        ] {
            assert_ne!(n(a), n(&b), "{a} {b}");
        }
        for (a, b) in [
            ("<ul><li><p>a</p></li></ul>", "<ul><li>a</li></ul>"),
            (
                "<ul><li><p>a</p><ul><li>b</li></ul></li></ul>",
                "<ul><li>a<ul><li>b</li></ul></li></ul>",
            ),
            ("<p>a</p><p></p><p>b</p>", "<p>a</p>\n<p>b</p>"),
            ("<p>a</p><hr /><p>b</p>", "a<hr />b"),
            ("<p>a</p>b", "<p>a</p><p>b</p>"),
        ] {
            assert_eq!(n(a), n(b), "{a} {b}");
        }
    }

    #[test]
    fn census_counts_and_survival() {
        let doc = "<ac:structured-macro ac:name=\"toc\" /><ac:link><ri:page ri:content-title=\"T\" /></ac:link><ac:link><ri:user ri:account-id=\"u1\" /></ac:link><ac:image><ri:attachment ri:filename=\"a.png\" /></ac:image><ac:task-list><ac:task><ac:task-status>complete</ac:task-status><ac:task-body>Do</ac:task-body></ac:task></ac:task-list>";
        let c = census(doc).unwrap();
        assert_eq!(c.macros, vec!["toc()"]);
        assert_eq!(c.page_links, vec!["/T"]);
        assert_eq!(c.mentions, vec!["u1"]);
        assert_eq!(c.images, vec!["a.png"]);
        assert_eq!(c.tasks, vec!["[x] Do"]);
        let s = c.survival(&census("<ac:structured-macro ac:name=\"toc\" />").unwrap());
        assert_eq!(s.macros, (1, 1));
        assert_eq!(s.page_links, (0, 1));
    }
}
