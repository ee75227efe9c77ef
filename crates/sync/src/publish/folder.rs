//! The first pass: every Markdown file of the folder, read, with its title and its place.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Result, SyncError};
use crate::frontmatter::Document;
use crate::progress::{Event, Progress};

/// One file of the folder, as the first pass read it.
pub(super) struct Local {
    pub(super) path: String,
    pub(super) doc: Document,
    pub(super) kind: String,
    pub(super) title: String,
    /// The folder's own parent of the file (the nearest `index.md` above it).
    pub(super) tree_parent: Option<String>,
}

/// Reads every Markdown file of the folder, parents before children (the state folder,
/// hidden entries, attachment folders and symbolic links aside: a link could lead outside).
pub(super) fn read_folder(root: &Path, progress: &dyn Progress) -> Result<Vec<Local>> {
    let mut paths: Vec<String> = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| SyncError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| SyncError::io(&dir, e))?;
            let Some(name) = entry.file_name().to_str().map(String::from) else {
                progress.event(&Event::Warning {
                    message: format!("{}: the name is not UTF-8, skipped", entry.path().display()),
                });
                continue;
            };
            if name.starts_with('.') || name.ends_with(".attachments") {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| SyncError::io(entry.path(), e))?;
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                stack.push((entry.path(), child));
            } else if kind.is_file() && name.ends_with(".md") {
                paths.push(child);
            }
        }
    }
    let level = |p: &str| {
        let depth = p.matches('/').count();
        if p == "index.md" || p.ends_with("/index.md") {
            depth.saturating_sub(1) * 2
        } else {
            depth * 2 + 1
        }
    };
    paths.sort_by(|a, b| (level(a), a).cmp(&(level(b), b)));
    let present: BTreeSet<String> = paths.iter().cloned().collect();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let full = root.join(&path);
        let text = std::fs::read_to_string(&full).map_err(|e| SyncError::io(&full, e))?;
        let doc = Document::parse(&text).map_err(|message| SyncError::BadFile {
            path: full.clone(),
            message,
        })?;
        let kind = doc.meta.kind.clone().unwrap_or_else(|| "page".into());
        let title = doc.title().unwrap_or_else(|| title_from_path(&path));
        let tree_parent = tree_parent(&path, &present);
        out.push(Local {
            path,
            doc,
            kind,
            title,
            tree_parent,
        });
    }
    Ok(out)
}

/// A file without a title: its name (a folder's name for its `index.md`).
fn title_from_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    let name = match parts.as_slice() {
        [.., dir, "index.md"] => dir,
        [.., file] => file,
        [] => "untitled",
    };
    name.strip_suffix(".md").unwrap_or(name).to_string()
}

/// The nearest `index.md` above the file, in the folder.
fn tree_parent(path: &str, present: &BTreeSet<String>) -> Option<String> {
    let mut dir = path.rsplit_once('/').map(|(d, _)| d.to_string());
    if path.ends_with("/index.md") || path == "index.md" {
        dir = dir.and_then(|d| d.rsplit_once('/').map(|(p, _)| p.to_string()));
    }
    while let Some(d) = dir {
        let index = format!("{d}/index.md");
        if present.contains(&index) {
            return Some(index);
        }
        dir = d.rsplit_once('/').map(|(p, _)| p.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_from_the_folder() {
        let present: BTreeSet<String> =
            ["a/index.md", "a/b/index.md", "a/b/c.md", "x.md", "d/e.md"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        assert_eq!(
            tree_parent("a/b/c.md", &present).as_deref(),
            Some("a/b/index.md")
        );
        assert_eq!(
            tree_parent("a/b/index.md", &present).as_deref(),
            Some("a/index.md")
        );
        assert_eq!(tree_parent("a/index.md", &present), None);
        assert_eq!(tree_parent("d/e.md", &present), None);
        assert_eq!(title_from_path("a/b/index.md"), "b");
        assert_eq!(title_from_path("x.md"), "x");
    }
}
