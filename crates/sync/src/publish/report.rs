//! What a publish reports: the changes made (or, in a dry run, that would be made) page by
//! page, conflicts with both versions, and the totals.

use serde::Serialize;

use super::folder::Local;

/// One change made (or, in a dry run, that would be made) to a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "camelCase")]
pub enum Change {
    Create,
    CreateFolder,
    /// A parent that mark's `<!-- Parent -->` headers name and the space lacks.
    CreateParent {
        title: String,
    },
    Body,
    Title {
        from: String,
        to: String,
    },
    Move {
        from: Option<String>,
        to: Option<String>,
    },
    LabelsAdded {
        labels: Vec<String>,
    },
    LabelsRemoved {
        labels: Vec<String>,
    },
    Attachment {
        name: String,
        new: bool,
    },
    Delete,
}

/// A page edited in Confluence since the folder last saw it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The version the folder last saw (its export or publish).
    pub local_base_version: Option<u64>,
    /// The version in Confluence now, with who made it and when.
    pub remote_version: u64,
    pub remote_author: Option<String>,
    pub remote_date: Option<String>,
    /// Unified diff, Confluence's version (as Markdown) to the folder's.
    pub diff: String,
}

/// What happened to one file.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageReport {
    pub path: String,
    pub title: String,
    pub id: Option<String>,
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
    /// Why nothing was done (a database stub, a file newer in Confluence), when so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the converter could not read as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What a publish did.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishSummary {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub failed: usize,
    pub deleted: usize,
    pub attachments_uploaded: usize,
    /// New page versions made (creates count one each).
    pub versions_made: usize,
    pub pages: Vec<PageReport>,
}

pub(super) fn report(local: &Local, id: Option<String>) -> PageReport {
    PageReport {
        path: local.path.clone(),
        title: local.title.clone(),
        id,
        changes: Vec::new(),
        conflict: None,
        skipped: None,
        error: None,
        warnings: Vec::new(),
    }
}

/// One word for a page's outcome, for progress lines.
pub(super) fn action_word(r: &PageReport, dry_run: bool) -> String {
    let word = if r.conflict.is_some() {
        "conflict"
    } else if r.skipped.is_some() {
        "skipped"
    } else if r.changes.contains(&Change::Create) || r.changes.contains(&Change::CreateFolder) {
        "created"
    } else if r.changes.is_empty() {
        "unchanged"
    } else {
        "updated"
    };
    if dry_run && !matches!(word, "unchanged" | "skipped" | "conflict") {
        format!("would be {word}")
    } else {
        word.to_string()
    }
}
