//! Sections of a storage-format body, cut at its headings, so a large page can be read and
//! rewritten one section at a time. A section runs from its heading to the next heading of
//! the same or a higher level; its id is the heading's slug (made unique), stable across edits
//! elsewhere in the page.

/// One heading and the byte ranges of its section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub level: u8,
    /// From the heading's `<hN` to the section's end.
    pub start: usize,
    /// Just after the heading's `</hN>`: where the section's content begins.
    pub content_start: usize,
    pub end: usize,
    pub parent: Option<usize>,
}

/// The sections of `body`, in document order.
pub fn sections(body: &str) -> Vec<Section> {
    let bytes = body.as_bytes();
    let mut found: Vec<(usize, usize, u8, String)> = Vec::new();
    let mut i = 0;
    while let Some(off) = body[i..].find("<h") {
        let at = i + off;
        i = at + 2;
        let Some(&d) = bytes.get(at + 2) else { break };
        if !(b'1'..=b'6').contains(&d) {
            continue;
        }
        match bytes.get(at + 3) {
            Some(b'>' | b' ' | b'\t' | b'\n' | b'\r') => {}
            _ => continue,
        }
        let level = d - b'0';
        let close = format!("</h{level}>");
        let Some(open_end) = body[at..].find('>').map(|o| at + o + 1) else {
            break;
        };
        let Some(close_at) = body[open_end..].find(&close).map(|o| open_end + o) else {
            continue;
        };
        let title = strip_tags(&body[open_end..close_at]);
        found.push((at, close_at + close.len(), level, title));
        i = close_at + close.len();
    }
    let mut out: Vec<Section> = Vec::with_capacity(found.len());
    let mut used: Vec<String> = Vec::new();
    for (n, (start, content_start, level, title)) in found.iter().enumerate() {
        let end = found[n + 1..]
            .iter()
            .find(|(_, _, l, _)| l <= level)
            .map(|(s, _, _, _)| *s)
            .unwrap_or(body.len());
        let parent = (0..n).rev().find(|&p| found[p].2 < *level);
        let base = slug(title);
        let base = if base.is_empty() {
            format!("section-{}", n + 1)
        } else {
            base
        };
        let mut id = base.clone();
        let mut k = 2;
        while used.contains(&id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        used.push(id.clone());
        out.push(Section {
            id,
            title: title.clone(),
            level: *level,
            start: *start,
            content_start: *content_start,
            end,
            parent,
        });
    }
    out
}

/// The section whose id or heading text (case-insensitive) is `key`.
pub fn find<'a>(sections: &'a [Section], key: &str) -> Option<&'a Section> {
    let key = key.trim();
    sections
        .iter()
        .find(|s| s.id == key)
        .or_else(|| sections.iter().find(|s| s.title.eq_ignore_ascii_case(key)))
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "<p>intro</p><h1>Overview</h1><p>a</p><h2>Goals &amp; scope</h2><p>b</p>\
        <h2>Risks</h2><p>c</p><h1>Overview</h1><p>d</p><hr/><h7>x</h7>";

    #[test]
    fn cuts_at_headings_of_same_or_higher_level() {
        let s = sections(BODY);
        let ids: Vec<_> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, vec!["overview", "goals-scope", "risks", "overview-2"]);
        assert_eq!(s[1].title, "Goals & scope");
        assert_eq!(s[1].parent, Some(0));
        assert_eq!(
            &BODY[s[0].start..s[0].end],
            "<h1>Overview</h1><p>a</p><h2>Goals &amp; scope</h2><p>b</p><h2>Risks</h2><p>c</p>"
        );
        assert_eq!(&BODY[s[2].content_start..s[2].end], "<p>c</p>");
        assert_eq!(
            &BODY[s[3].content_start..s[3].end],
            "<p>d</p><hr/><h7>x</h7>"
        );
    }

    #[test]
    fn finds_by_id_or_heading() {
        let s = sections(BODY);
        assert_eq!(find(&s, "risks").map(|s| s.level), Some(2));
        assert_eq!(
            find(&s, "goals & SCOPE").map(|s| s.id.as_str()),
            Some("goals-scope")
        );
        assert!(find(&s, "nope").is_none());
    }

    #[test]
    fn unclosed_and_odd_markup_does_not_panic() {
        for b in [
            "<h1>open",
            "<h",
            "<h2 class=\"x\">é</h2>",
            "<h1></h1><h1>",
            "<h3>a<h3>b</h3>",
        ] {
            let _ = sections(b);
        }
        assert_eq!(sections("<h2 class=\"x\">é</h2>")[0].title, "é");
    }
}
