//! Local files: written atomically (a temporary file in the same folder, then a rename), so an
//! interrupted run leaves each file whole, old or new, never half-written.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Result, SyncError};

/// Writes `bytes` to `path` atomically, creating its folders.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| SyncError::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".conflux-tmp-")
        .tempfile_in(dir)
        .map_err(|e| SyncError::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| SyncError::io(path, e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| SyncError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| SyncError::io(path, e.error))?;
    Ok(())
}

/// Runs CPU or disk work on the blocking pool, so that the runtime's threads keep serving the
/// requests of the other pages meanwhile (on a current-thread runtime they would all wait).
pub(crate) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SyncError::Stopped {
            message: e.to_string(),
        })?
}

/// The SHA-256 of `bytes`, hex.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// `rel` (a `/`-separated path the layout made) under `root`. Refuses anything that is not a
/// plain relative path, so no name can lead out of the folder.
pub(crate) fn under(root: &Path, rel: &str) -> Result<PathBuf> {
    let p = Path::new(rel);
    if rel.is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(SyncError::Folder {
            message: format!("refusing the path {rel:?}: it would lead out of the folder"),
            hint: "remove .conflux/state.json if it was edited by hand, and export again".into(),
        });
    }
    // A symbolic link inside the folder (a cloned repository can hold one named like a page's
    // folder) would carry a write or a read out of it: every part of the path below the root
    // that exists must be a plain file or folder.
    let mut at = root.to_path_buf();
    for part in p.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(SyncError::Folder {
                    message: format!(
                        "refusing {}: it is a symbolic link, which could lead outside the folder",
                        at.display()
                    ),
                    hint: "replace the link with the folder or file itself".into(),
                });
            }
            Ok(_) => {}
            Err(_) => break, // not there yet: nothing below it is either
        }
    }
    Ok(root.join(p))
}

/// Removes `path` if it is there, then each parent folder left empty, up to `root`.
pub(crate) fn remove_and_prune(root: &Path, path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(SyncError::io(path, e)),
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) {
            break;
        }
        // Only an empty folder goes; anything else stays (a file someone added, say).
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let root = Path::new("/r");
        assert!(under(root, "a/b.md").is_ok());
        for bad in ["../x", "/etc/passwd", "a/../../x", "", "./a"] {
            assert!(under(root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_path_goes_through_a_symbolic_link() {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("export");
        let outside = work.path().join("outside");
        std::fs::create_dir_all(root.join("Real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("Page.attachments")).unwrap();
        assert!(under(&root, "Real/index.md").is_ok());
        assert!(under(&root, "New/index.md").is_ok());
        let e = under(&root, "Page.attachments/x.png").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(under(&root, "Page.attachments").is_err());
    }
}
