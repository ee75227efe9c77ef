//! File names from Confluence titles, safe on every common file system: no separator, no
//! character Windows forbids, no control character (NUL included), no reserved device name
//! (`CON`, `COM1`, ...), no leading dot (`..`, hidden files), no trailing dot or space, at most
//! [`MAX_NAME_BYTES`] bytes; siblings that differ only in case get distinct names.

use std::collections::HashSet;

/// Longest name kept from a title, in bytes: leaves room under the 255-byte limit of common
/// file systems for a collision suffix and the longest extension (`.attachments`).
pub const MAX_NAME_BYTES: usize = 120;

/// Names the folder layout itself uses, never given to a page.
const RESERVED: &[&str] = &["index", "_index"];

/// A file-name stem for `title` (no extension), safe on Linux, macOS and Windows.
pub fn safe_name(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars() {
        let bad = c.is_control()
            || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
            // Unicode's bidirectional overrides make a name read differently than it is.
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        out.push(if bad { '_' } else { c });
    }
    // Whitespace runs become one space; no name starts with a dot (`..`, hidden files) or ends
    // with a dot or a space (Windows drops them, so two names would become one).
    let collapsed: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut name = collapsed.trim_start_matches('.').to_string();
    truncate(&mut name, MAX_NAME_BYTES);
    while name.ends_with('.') || name.ends_with(' ') {
        name.pop();
    }
    if name.is_empty() {
        name = "untitled".into();
    }
    if is_device(&name) || RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        // Windows reserves a device name whatever extension follows (`aux.txt`): the mark
        // goes in front.
        name.insert(0, '_');
    }
    if name.to_lowercase().ends_with(".attachments") {
        name.push('_');
    }
    name
}

/// Cuts `s` to at most `max` bytes, at a character boundary.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

/// Windows' device names, with or without an extension.
fn is_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper[3..]
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '¹' | '²' | '³')))
}

/// Gives each sibling a distinct name, case-insensitively: the first of them (in the order
/// given, which callers make stable) keeps its name, the others get ` (id)` appended.
pub fn unique_names<'a>(siblings: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for (id, title) in siblings {
        let base = safe_name(title);
        let mut name = base.clone();
        if taken.contains(&name.to_lowercase()) {
            let suffix = format!(" ({})", safe_name(id));
            let mut stem = base;
            truncate(&mut stem, MAX_NAME_BYTES);
            name = format!("{}{suffix}", stem.trim_end());
            let mut n = 2;
            while taken.contains(&name.to_lowercase()) {
                name = format!("{}{suffix} {n}", stem.trim_end());
                n += 1;
            }
        }
        taken.insert(name.to_lowercase());
        out.push(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_titles_stay_inside_one_name() {
        for (title, want) in [
            ("../../etc/passwd", "_.._etc_passwd"),
            ("..", "untitled"),
            ("CON", "_CON"),
            ("con.txt", "_con.txt"),
            ("Lpt1", "_Lpt1"),
            ("a\0b", "a_b"),
            ("What? Why: <now>|*", "What_ Why_ _now___"),
            ("trailing. ", "trailing"),
            ("  spaced   out  ", "spaced out"),
            ("index", "_index"),
            ("_index", "__index"),
            ("x.attachments", "x.attachments_"),
            ("", "untitled"),
            ("\u{202E}gpj.exe", "_gpj.exe"),
        ] {
            assert_eq!(safe_name(title), want, "{title:?}");
        }
        let long = "é".repeat(300);
        let name = safe_name(&long);
        assert!(name.len() <= MAX_NAME_BYTES && name.chars().all(|c| c == 'é'));
        for t in ["a/b", "a\\b", "..\\..\\x", "/abs"] {
            let n = safe_name(t);
            assert!(
                !n.contains('/') && !n.contains('\\') && !n.starts_with('.'),
                "{n}"
            );
        }
    }

    #[test]
    fn case_collisions_get_distinct_names() {
        let names = unique_names([
            ("1", "Readme"),
            ("2", "README"),
            ("3", "readme"),
            ("4", "Other"),
        ]);
        assert_eq!(names, ["Readme", "README (2)", "readme (3)", "Other"]);
        let lower: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), 4);
    }
}
