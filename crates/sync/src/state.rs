//! What the folder last saw of Confluence, kept in the folder (`.conflux/state.json`) and
//! written atomically after each page, so an interrupted run resumes where it stopped and a
//! second run fetches only what changed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, SyncError};
use crate::files::write_atomic;

/// The state file, relative to the folder.
pub const STATE_FILE: &str = ".conflux/state.json";
/// Converter output before links are made relative, per page: a page whose neighbours moved is
/// written again from it without fetching its body.
pub(crate) const RAW_DIR: &str = ".conflux/raw";

const FORMAT: u32 = 1;

/// States smaller than this are written after every page.
pub(crate) const SAVE_ALWAYS_BELOW: usize = 500;
/// How often a run writes a larger state at most (and once more at its end).
pub(crate) const SAVE_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The folder's record of the space.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub format: u32,
    pub space_key: String,
    pub space_id: String,
    /// Every node of the tree, by id.
    pub nodes: BTreeMap<String, NodeState>,
}

/// One page (or folder, database, ...) as last written or published.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct NodeState {
    /// `/`-separated, relative to the folder.
    pub path: String,
    pub kind: String,
    pub title: String,
    pub parent: Option<String>,
    pub version: u64,
    pub labels: Vec<String>,
    /// By attachment id.
    pub attachments: BTreeMap<String, AttachmentState>,
    /// SHA-256 of the file as last written or published (a local edit changes it).
    pub file_sha256: String,
    /// SHA-256 of the normalized storage body last seen in Confluence.
    pub body_sha256: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AttachmentState {
    pub name: String,
    pub version: u64,
    pub size: u64,
    /// `/`-separated, relative to the folder.
    pub path: String,
    pub sha256: String,
}

impl State {
    /// The folder's state, or an empty one for a new folder.
    pub fn load(root: &Path) -> Result<State> {
        let path = root.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(SyncError::io(path, e)),
        };
        let state: State = serde_json::from_str(&text).map_err(|e| SyncError::Folder {
            message: format!(
                "{} is not a state file this version reads: {e}",
                path.display()
            ),
            hint: "delete .conflux/ and export again (the Markdown files are kept)".into(),
        })?;
        if state.format > FORMAT {
            return Err(SyncError::Folder {
                message: format!("{} was written by a newer Conflux", path.display()),
                hint: "upgrade Conflux".into(),
            });
        }
        Ok(state)
    }

    /// Writes the state atomically.
    pub fn save(&self, root: &Path) -> Result<()> {
        let mut me = self.clone();
        me.format = FORMAT;
        let text = serde_json::to_vec_pretty(&me).map_err(|e| SyncError::Folder {
            message: format!("the state could not be written: {e}"),
            hint: String::new(),
        })?;
        write_atomic(&crate::files::under(root, STATE_FILE)?, &text)
    }

    /// Writes the state after a page. A large state (over [`SAVE_ALWAYS_BELOW`] nodes) is
    /// written at most every [`SAVE_EVERY`] (`last` is when), so a large space is not rewritten
    /// whole after every page; an interrupted run then loses at most that long of its record
    /// (those pages are fetched again, nothing is lost).
    pub(crate) fn save_soon(&self, root: &Path, last: &mut std::time::Instant) -> Result<()> {
        if self.nodes.len() >= SAVE_ALWAYS_BELOW && last.elapsed() < SAVE_EVERY {
            return Ok(());
        }
        self.save(root)?;
        *last = std::time::Instant::now();
        Ok(())
    }

    /// The node whose file is at `path`.
    pub fn by_path(&self, path: &str) -> Option<(&String, &NodeState)> {
        self.nodes.iter().find(|(_, n)| n.path == path)
    }
}
