//! Docs as code: a Confluence space exported to a folder of Markdown ([`export`]), a folder
//! published back to a space ([`publish`]), and both kept in step by a state file in the folder
//! (`.conflux/state.json`).
//!
//! Every write goes through [`conflux_ops::Ops::call`], so the guardrails (read-only mode, space
//! lists, per-space read-only) hold as they do for the MCP tools; reads that no action offers
//! in bulk (a whole space's pages, attachment bytes) use the client directly, after the space
//! itself has passed the guardrails. Depends on ops, client and convert; never on the CLI.
//!
//! ```no_run
//! # async fn demo(ops: conflux_ops::Ops) -> conflux_sync::Result<()> {
//! use conflux_sync::{ExportOptions, NoProgress, export};
//! let summary = export(&ops, "ENG", std::path::Path::new("eng-docs"), &ExportOptions::default(), &NoProgress).await?;
//! println!("{} pages written", summary.written);
//! # Ok(()) }
//! ```

mod error;
mod export;
mod files;
mod frontmatter;
mod links;
mod listing;
mod names;
mod progress;
mod publish;
mod state;
mod tree;

pub use error::{Result, SyncError};
pub use export::{ExportOptions, ExportSummary, export};
pub use frontmatter::{Document, FrontMatter, HeaderStyle};
pub use names::safe_name;
pub use progress::{Event, NoProgress, Progress};
pub use publish::{Change, Conflict, PageReport, PublishOptions, PublishSummary, publish};

pub use state::{STATE_FILE, State};
