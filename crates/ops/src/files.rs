//! Local files an agent may name (`bodyFile`, `outputFile`, `filePath`): only under the one
//! directory the person who started the server chose (`--files-root DIR`), opened through a
//! capability handle (`cap-std`), so that `..`, absolute paths and symbolic links cannot lead
//! outside it, not even by swapping a directory for a link while the call runs. Without a
//! root, no local file is read or written.

use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::Dir;

use crate::{OpError, Result};

/// The most bytes read from one file (100 MiB): a path that names something huge (a log, a
/// disk image) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// Longest file name made from a title, in bytes: leaves room under the 255-byte limit of
/// common file systems for a collision suffix and an extension.
pub const MAX_NAME_BYTES: usize = 120;

/// A file name made from a Confluence title, safe on Linux, macOS and Windows: no separator, no
/// character Windows forbids, no control character (NUL included), no bidirectional override
/// (they make a name read otherwise than it is), whitespace runs as one space, no leading dot
/// (`..`, hidden files), no trailing dot or space (Windows drops them, so two names would
/// become one), no bare device name (`CON`, `com1.txt`: a `_` goes in front), at most
/// [`MAX_NAME_BYTES`] bytes. `None` when nothing of the title is left.
pub fn safe_file_name(title: &str) -> Option<String> {
    let mut out = String::with_capacity(title.len());
    for c in title.chars() {
        let bad = c.is_control()
            || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        out.push(if bad { '_' } else { c });
    }
    let collapsed: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut name = collapsed.trim_start_matches('.').to_string();
    truncate_name(&mut name, MAX_NAME_BYTES);
    while name.ends_with('.') || name.ends_with(' ') {
        name.pop();
    }
    if name.is_empty() {
        return None;
    }
    if is_device(&name) {
        name.insert(0, '_');
    }
    Some(name)
}

/// Cuts `s` to at most `max` bytes, at a character boundary.
pub fn truncate_name(s: &mut String, max: usize) {
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

/// What the refusal without a root tells the person to do.
pub const ENABLE_FILES_HINT: &str =
    "start the server with --files-root DIR to let agents read and write files under DIR";

/// The directory under which tool calls may read and write local files. Cheap to clone.
#[derive(Clone)]
pub struct FilesRoot {
    dir: Arc<Dir>,
    /// The directory as the person named it, made absolute.
    path: PathBuf,
    /// The same, with symbolic links resolved.
    canonical: PathBuf,
}

impl std::fmt::Debug for FilesRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FilesRoot").field(&self.path).finish()
    }
}

impl FilesRoot {
    /// Opens `path` (a directory) as the root.
    pub fn open(path: &Path) -> std::io::Result<FilesRoot> {
        let path = std::path::absolute(path)?;
        let canonical = std::fs::canonicalize(&path)?;
        let dir = Dir::open_ambient_dir(&canonical, cap_std::ambient_authority())?;
        Ok(FilesRoot {
            dir: Arc::new(dir),
            path,
            canonical,
        })
    }

    /// The directory, as given (absolute).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `requested` relative to the root: relative paths as they are, absolute ones only when
    /// they name something under the root. `..` is left to the capability handle, which
    /// refuses it when it leads out.
    fn relative(&self, param: &str, requested: &str) -> Result<PathBuf> {
        let p = Path::new(requested);
        let rel = if p.is_absolute() {
            let inside = p
                .strip_prefix(&self.path)
                .or_else(|_| p.strip_prefix(&self.canonical));
            match inside {
                Ok(r) => r.to_path_buf(),
                Err(_) => return Err(self.outside(param, requested)),
            }
        } else {
            p.to_path_buf()
        };
        if rel.components().all(|c| matches!(c, Component::CurDir)) {
            return Err(OpError::invalid(
                format!("`{param}` `{requested}` names the files root itself, not a file"),
                "name a file under it",
            ));
        }
        Ok(rel)
    }

    fn outside(&self, param: &str, requested: &str) -> OpError {
        OpError::policy(
            format!(
                "`{param}` `{requested}` is outside the directory this server may use ({})",
                self.path.display()
            ),
            format!(
                "name a file under {} (a path relative to it is simplest); `..`, absolute paths \
                 elsewhere and symbolic links that lead out are refused",
                self.path.display()
            ),
        )
    }

    fn io_error(&self, param: &str, requested: &str, verb: &str, e: std::io::Error) -> OpError {
        match e.kind() {
            // cap-std's refusal of a path that leads out (`..`, a link), or the system's own.
            std::io::ErrorKind::PermissionDenied => {
                let mut err = self.outside(param, requested);
                err.message = format!(
                    "`{param}` `{requested}` could not be {verb}: it leads outside {} or the \
                     system denied access ({e})",
                    self.path.display()
                );
                err
            }
            std::io::ErrorKind::NotFound => OpError::invalid(
                format!(
                    "`{param}` `{requested}`: no such file under {}",
                    self.path.display()
                ),
                "check the path; it is relative to the files root",
            ),
            _ => OpError::invalid(
                format!("`{param}` `{requested}` could not be {verb}: {e}"),
                "check the path; it is relative to the files root",
            ),
        }
    }

    /// Reads a regular file under the root, at most [`MAX_FILE_BYTES`].
    pub async fn read(&self, param: &str, requested: &str) -> Result<Vec<u8>> {
        let rel = self.relative(param, requested)?;
        let dir = self.dir.clone();
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Option<Vec<u8>>> {
            // Checked before opening too: opening a FIFO would wait for a writer.
            if !dir.metadata(&rel)?.is_file() {
                return Ok(None);
            }
            let file = dir.open(&rel)?;
            if !file.metadata()?.is_file() {
                return Ok(None);
            }
            let mut bytes = Vec::new();
            file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
            Ok(Some(bytes))
        })
        .await
        .map_err(|e| OpError::other(format!("reading `{requested}` failed: {e}"), "try again"))?;
        match read {
            Ok(Some(bytes)) if bytes.len() as u64 > MAX_FILE_BYTES => Err(OpError::invalid(
                format!("`{param}` `{requested}` is larger than {MAX_FILE_BYTES} bytes"),
                "name a smaller file",
            )),
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(OpError::invalid(
                format!("`{param}` `{requested}` is not a regular file"),
                "name a regular file under the files root",
            )),
            Err(e) => Err(self.io_error(param, requested, "read", e)),
        }
    }

    /// Reads a UTF-8 text file under the root.
    pub async fn read_text(&self, param: &str, requested: &str) -> Result<String> {
        let bytes = self.read(param, requested).await?;
        String::from_utf8(bytes).map_err(|e| {
            OpError::invalid(
                format!("`{param}` `{requested}` is not UTF-8 text: {e}"),
                "save the file as UTF-8",
            )
        })
    }

    /// Creates or replaces a file under the root (its directory must exist).
    pub async fn write(&self, param: &str, requested: &str, bytes: Vec<u8>) -> Result<()> {
        let rel = self.relative(param, requested)?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut file = dir.create(&rel)?;
            file.write_all(&bytes)?;
            file.flush()
        })
        .await
        .map_err(|e| OpError::other(format!("writing `{requested}` failed: {e}"), "try again"))?
        .map_err(|e| self.io_error(param, requested, "written", e))
    }

    /// Creates a directory under the root, with the directories above it.
    pub async fn create_dir_all(&self, param: &str, requested: &str) -> Result<()> {
        let rel = self.relative(param, requested)?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || dir.create_dir_all(&rel))
            .await
            .map_err(|e| {
                OpError::other(format!("creating `{requested}` failed: {e}"), "try again")
            })?
            .map_err(|e| self.io_error(param, requested, "created", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_titles_are_safe_everywhere() {
        for (title, want) in [
            ("report.pdf", Some("report.pdf")),
            ("../../etc/passwd", Some("_.._etc_passwd")),
            ("a\\b:c", Some("a_b_c")),
            ("com1.txt", Some("_com1.txt")),
            ("trailing. ", Some("trailing")),
            ("...", None),
            ("", None),
        ] {
            assert_eq!(safe_file_name(title).as_deref(), want, "{title:?}");
        }
        let long = safe_file_name(&"ü".repeat(200)).unwrap();
        assert!(long.len() <= MAX_NAME_BYTES && long.chars().all(|c| c == 'ü'));
    }
}
