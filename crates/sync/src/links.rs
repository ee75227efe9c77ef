//! Links between exported pages as relative file links, and back: the converter writes a page
//! link as `confluence-page:SPACE/Title#anchor` and an attachment as `attachment:file`; in the
//! folder they become `../Other/Page.md#anchor` and `Page.attachments/file.png`, so the folder
//! reads well in any Markdown viewer, and a publish turns them back.

use std::ops::Range;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag};

pub(crate) const PAGE: &str = "confluence-page:";
pub(crate) const ATTACHMENT: &str = "attachment:";

/// What a page link names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PageLink {
    pub space: Option<String>,
    pub title: String,
    pub anchor: Option<String>,
}

/// Reads the converter's `confluence-page:` destination.
pub(crate) fn parse_page_link(dest: &str) -> Option<PageLink> {
    let rest = dest.strip_prefix(PAGE)?;
    let (target, anchor) = match rest.split_once('#') {
        Some((t, a)) => (t, Some(a.to_string())),
        None => (rest, None),
    };
    let (space, title) = match target.split_once('/') {
        Some((s, t)) => (Some(s.to_string()), t),
        None => (None, target),
    };
    if title.is_empty() {
        return None;
    }
    Some(PageLink {
        space,
        title: decode(title),
        anchor,
    })
}

pub(crate) fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// What a title or file name must not hold raw in a destination (the converter's own set).
const TITLE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'(')
    .add(b')')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'=')
    .add(b'/');

/// A relative path's segments keep their `/`.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'(')
    .add(b')')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|');

pub(crate) fn encode_title(s: &str) -> String {
    utf8_percent_encode(s, TITLE).to_string()
}

pub(crate) fn encode_path(s: &str) -> String {
    utf8_percent_encode(s, PATH).to_string()
}

/// The link from the file at `from` to the file at `to` (both `/`-separated, relative to the
/// folder), percent-encoded for a Markdown destination.
pub(crate) fn relative(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = match from.rsplit_once('/') {
        Some((d, _)) => d.split('/').collect(),
        None => Vec::new(),
    };
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<&str> = vec![".."; from_dir.len() - common];
    parts.extend(&to_parts[common..]);
    encode_path(&parts.join("/"))
}

/// Resolves a relative link `dest` (percent-encoded) written in the file at `from`: the
/// target's `/`-separated path in the folder, or `None` when it leads out of the folder.
pub(crate) fn resolve(from: &str, dest: &str) -> Option<String> {
    let mut parts: Vec<String> = match from.rsplit_once('/') {
        Some((d, _)) => d.split('/').map(String::from).collect(),
        None => Vec::new(),
    };
    for seg in decode(dest).split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s.to_string()),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Whether a destination is a path in the folder rather than a URL or an anchor.
pub(crate) fn is_relative(dest: &str) -> bool {
    if dest.is_empty() || dest.starts_with('#') || dest.starts_with('/') {
        return false;
    }
    let scheme = dest
        .split_once(':')
        .map(|(s, _)| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
        })
        .unwrap_or(false);
    !scheme
}

/// Replaces the destination of every inline link and image of `md` for which `rewrite`
/// answers a new one (already encoded). Code spans and blocks are left alone: only what
/// Markdown reads as a link is touched.
pub(crate) fn rewrite(md: &str, mut rewrite: impl FnMut(&str) -> Option<String>) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (event, range) in Parser::new_ext(md, options).into_offset_iter() {
        let (link_type, dest) = match &event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) => (*link_type, dest_url.to_string()),
            _ => continue,
        };
        if link_type != LinkType::Inline {
            continue;
        }
        let Some(at) = dest_range(md, range.clone(), &dest) else {
            continue;
        };
        if let Some(new) = rewrite(&dest) {
            edits.push((at, new));
        }
    }
    // Nested links (an image in a link) give ranges inside ranges: apply from the end.
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = md.to_string();
    let mut last = usize::MAX;
    for (r, new) in edits {
        if r.end > last {
            continue;
        }
        out.replace_range(r.clone(), &new);
        last = r.start;
    }
    out
}

/// Where, in the source of one inline link, its destination is written: after the last `](`
/// whose destination reads back as `dest`.
fn dest_range(md: &str, range: Range<usize>, dest: &str) -> Option<Range<usize>> {
    let src = md.get(range.clone())?;
    let mut search = src.len();
    // Slices are taken with `get`: a position that is no character boundary ends the search
    // instead of panicking.
    while let Some(open) = src.get(..search)?.rfind("](") {
        let start = open + 2;
        let tail = src.get(start..)?;
        let tail_trimmed = tail.trim_start();
        let lead = tail.len() - tail_trimmed.len();
        let (written, len) = if let Some(inner) = tail_trimmed.strip_prefix('<') {
            let end = inner.find('>')?;
            (inner.get(..end)?.to_string(), end + 2)
        } else {
            // Up to the title's space, else up to the link's closing parenthesis.
            let end = tail_trimmed
                .find(|c: char| c.is_whitespace())
                .unwrap_or(tail_trimmed.len().saturating_sub(1));
            (tail_trimmed.get(..end)?.to_string(), end)
        };
        if unescape(&written) == dest {
            let s = range.start + start + lead;
            return Some(s..s + len);
        }
        search = open;
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && n.is_ascii_punctuation()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_parse() {
        assert_eq!(
            parse_page_link("confluence-page:ENG/My%20Page#sec").unwrap(),
            PageLink {
                space: Some("ENG".into()),
                title: "My Page".into(),
                anchor: Some("sec".into())
            }
        );
        assert_eq!(
            parse_page_link("confluence-page:A%2FB").unwrap().title,
            "A/B"
        );
        assert!(parse_page_link("confluence-page:#anchor").is_none());
    }

    #[test]
    fn relative_paths_both_ways() {
        assert_eq!(relative("a/b/c.md", "a/d.md"), "../d.md");
        assert_eq!(relative("x.md", "a b/c.md"), "a%20b/c.md");
        assert_eq!(relative("a/index.md", "a/b.md"), "b.md");
        assert_eq!(resolve("a/b/c.md", "../d.md").as_deref(), Some("a/d.md"));
        assert_eq!(resolve("x.md", "a%20b/c.md").as_deref(), Some("a b/c.md"));
        assert_eq!(resolve("x.md", "../../etc/passwd"), None);
        assert!(is_relative("a/b.md") && !is_relative("https://x") && !is_relative("#a"));
        assert!(!is_relative("confluence-page:X") && !is_relative("/abs"));
    }

    #[test]
    fn only_real_links_are_rewritten() {
        let md = "See [the page](confluence-page:ENG/A%20B \"t\") and ![i](<attachment:a b.png>).\n\n\
                  `[code](confluence-page:ENG/X)`\n\n```\n[block](confluence-page:ENG/Y)\n```\n\n\
                  [x [nested](y)](confluence-page:Z)\n";
        let out = rewrite(md, |d| Some(format!("NEW<{d}>")));
        assert!(
            out.contains("[the page](NEW<confluence-page:ENG/A%20B> \"t\")"),
            "{out}"
        );
        assert!(out.contains("![i](NEW<attachment:a b.png>)"), "{out}");
        assert!(out.contains("`[code](confluence-page:ENG/X)`"));
        assert!(out.contains("[block](confluence-page:ENG/Y)"));
    }
}
