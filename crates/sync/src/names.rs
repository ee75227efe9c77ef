//! File names from Confluence titles, safe on every common file system (the rules are
//! [`safe_file_name`]'s), never a name the folder layout uses itself; siblings that differ only
//! in case get distinct names.

use std::collections::HashSet;

pub use conflux_ops::files::MAX_NAME_BYTES;
use conflux_ops::files::{safe_file_name, truncate_name};

/// Names the folder layout itself uses, never given to a page.
const RESERVED: &[&str] = &["index", "_index"];

/// A file-name stem for `title` (no extension), safe on Linux, macOS and Windows
/// ([`safe_file_name`]), and never one the folder layout uses itself.
pub fn safe_name(title: &str) -> String {
    let mut name = safe_file_name(title).unwrap_or_else(|| "untitled".into());
    if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        name.insert(0, '_');
    }
    if name.to_lowercase().ends_with(".attachments") {
        name.push('_');
    }
    name
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
            truncate_name(&mut stem, MAX_NAME_BYTES);
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
