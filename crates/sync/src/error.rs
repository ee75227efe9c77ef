//! What can go wrong in an export or a publish, each with the fix.

use std::path::PathBuf;

/// An export or publish failure. Confluence's refusals stay [`conflux_ops::OpError`]s (message
/// and hint, the guardrails' included), so callers show them as every other action's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// An action refused or failed (guardrails, Confluence).
    #[error(transparent)]
    Op(#[from] conflux_ops::OpError),
    /// A read made with the client directly failed.
    #[error(transparent)]
    Client(#[from] conflux_client::ClientError),
    /// A local file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of the folder cannot be published as it is.
    #[error("{}: {message}", path.display())]
    BadFile { path: PathBuf, message: String },
    /// The folder belongs to another space, or its state file is unreadable.
    #[error("{message}")]
    Folder { message: String, hint: String },
    /// Pages edited in Confluence since the folder last saw them, left as they are.
    #[error(
        "{count} page(s) changed in Confluence since the last export or publish were left alone"
    )]
    Conflicts { count: usize },
    /// A Markdown or storage body could not be converted.
    #[error("converting {what}: {source}")]
    Convert {
        what: String,
        #[source]
        source: conflux_convert::ConvertError,
    },
    /// A conversion or a file write stopped without finishing (a panic in it: a bug).
    #[error("a conversion or file write stopped unexpectedly: {message}")]
    Stopped { message: String },
    /// Some pages could not be exported or published (the others were).
    #[error("{failed} of {total} page(s) failed; the first: {first}")]
    Partial {
        failed: usize,
        total: usize,
        first: String,
    },
}

impl SyncError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> SyncError {
        SyncError::Io {
            path: path.into(),
            source,
        }
    }

    /// The fix, in words a person can act on.
    pub fn hint(&self) -> String {
        match self {
            SyncError::Op(e) => e.hint.clone(),
            SyncError::Client(e) => e.hint(),
            SyncError::Io { .. } => {
                "check that the folder exists and is writable, then run the command again: \
                 files are written atomically and the state after each page, so it resumes"
                    .into()
            }
            SyncError::BadFile { .. } => {
                "fix the file (its front matter or headers) and run the command again".into()
            }
            SyncError::Folder { hint, .. } => hint.clone(),
            SyncError::Conflicts { .. } => {
                "run `conflux export` to take Confluence's versions, or `conflux publish --force` \
                 to overwrite them with the folder's"
                    .into()
            }
            SyncError::Convert { .. } => "fix the body the message names".into(),
            SyncError::Stopped { .. } => {
                "this is a bug in Conflux: report it with the page it names; the other pages \
                 are done, and the file of this one is left as it was"
                    .into()
            }
            SyncError::Partial { .. } => {
                "fix what the first failure says and run the command again: pages already done \
                 are not done twice"
                    .into()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, SyncError>;
