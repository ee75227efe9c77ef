//! What a page carries along: its Markdown as sent (relative links made page links and
//! attachment links), its labels and its attachments, each changed only where the file differs.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use conflux_client::api::Owner;
use serde_json::json;

use super::folder::Local;
use super::report::{Change, PageReport};
use super::{Run, text};
use crate::error::{Result, SyncError};
use crate::files::{sha256, under};
use crate::links;
use crate::state::{AttachmentState, NodeState};
use crate::tree::attachments_dir;

/// A local file to attach.
pub(super) struct Upload {
    pub(super) name: String,
    /// `/`-separated, relative to the folder.
    pub(super) path: String,
    pub(super) bytes: Vec<u8>,
}

impl Run<'_> {
    /// The Markdown as sent: relative links to the folder's pages made page links, to other
    /// files of the folder attachments (collected in `uploads`).
    pub(super) fn outgoing(&self, local: &Local, uploads: &mut Vec<Upload>) -> Result<String> {
        let mut refused = Vec::new();
        let mut wanted: Vec<String> = Vec::new();
        let body = links::rewrite(&local.doc.body, |dest| {
            if !links::is_relative(dest) {
                return None;
            }
            let (file, anchor) = match dest.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (dest, None),
            };
            let Some(target) = links::resolve(&local.path, file) else {
                refused.push(dest.to_string());
                return None;
            };
            if let Some(title) = self.titles.get(&target) {
                let mut out = format!("{}{}", links::PAGE, links::encode_title(title));
                if let Some(a) = anchor {
                    out.push('#');
                    out.push_str(a);
                }
                return Some(out);
            }
            // Only a file that is there becomes an attachment; any other link (a wiki's own
            // relative URL, a page outside the folder) is left as written.
            if target.ends_with(".md") || !self.root.join(&target).is_file() {
                return None;
            }
            let name = self.attachment_name(&target);
            wanted.push(target);
            Some(format!(
                "{}{}",
                links::ATTACHMENT,
                links::encode_title(&name)
            ))
        });
        for dest in refused {
            tracing::warn!(path = %local.path, %dest, "a link leads out of the folder; left as written");
        }
        for a in &local.doc.attachments {
            match links::resolve(&local.path, &links::encode_path(a)) {
                Some(t) => wanted.push(t),
                None => {
                    return Err(SyncError::BadFile {
                        path: self.root.join(&local.path),
                        message: format!("the attachment `{a}` is outside the folder"),
                    });
                }
            }
        }
        // Every file of the page's attachments folder goes along.
        let dir = attachments_dir(&local.path);
        if let Ok(entries) = std::fs::read_dir(self.root.join(&dir)) {
            for e in entries.flatten() {
                if let Some(n) = e.file_name().to_str()
                    && !n.starts_with('.')
                {
                    wanted.push(format!("{dir}/{n}"));
                }
            }
        }
        wanted.sort();
        wanted.dedup();
        for path in wanted {
            if let Some(bytes) = self.read_inside(&path)? {
                uploads.push(Upload {
                    name: self.attachment_name(&path),
                    path,
                    bytes,
                });
            }
        }
        Ok(body)
    }

    pub(super) fn attachment_name(&self, path: &str) -> String {
        self.attachment_names
            .get(path)
            .cloned()
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string())
    }

    /// A file's bytes, if it is a regular file inside the folder (a symbolic link that leads
    /// out of it is refused: publishing must never upload what lies outside).
    pub(super) fn read_inside(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let path = under(&self.root, rel)?;
        let root = self
            .root
            .canonicalize()
            .map_err(|e| SyncError::io(&self.root, e))?;
        let real = match path.canonicalize() {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SyncError::io(&path, e)),
        };
        if !real.starts_with(&root) {
            return Err(SyncError::BadFile {
                path,
                message: "it leads outside the folder (a symbolic link?): not uploaded".into(),
            });
        }
        if !real.is_file() {
            return Ok(None);
        }
        std::fs::read(&real)
            .map(Some)
            .map_err(|e| SyncError::io(&real, e))
    }

    /// Adds and removes labels to match the file (a file that names none leaves them be).
    pub(super) async fn labels(
        &self,
        local: &Local,
        id: &str,
        new: bool,
        r: &mut PageReport,
    ) -> Result<Vec<String>> {
        let Some(want) = &local.doc.meta.labels else {
            return Ok(Vec::new());
        };
        let want: BTreeSet<String> = want.iter().map(|l| l.trim().to_string()).collect();
        let have: BTreeSet<String> = if new {
            BTreeSet::new()
        } else {
            self.ops
                .client()
                .labels()
                .all_of(&Owner::Page(id.to_string().into()))
                .await?
                .into_iter()
                .map(|l| l.name)
                .collect()
        };
        let add: Vec<String> = want.difference(&have).cloned().collect();
        let remove: Vec<String> = have.difference(&want).cloned().collect();
        if !add.is_empty() {
            if !self.options.dry_run {
                self.ops
                    .call("labels", "addToPage", json!({ "id": id, "labels": add }))
                    .await?;
            }
            r.changes.push(Change::LabelsAdded { labels: add });
        }
        if !remove.is_empty() {
            if !self.options.dry_run {
                self.ops
                    .call("labels", "remove", json!({ "id": id, "labels": remove }))
                    .await?;
            }
            r.changes.push(Change::LabelsRemoved { labels: remove });
        }
        Ok(want.into_iter().collect())
    }

    /// Uploads the files that are new or changed; answers the page's attachments as recorded.
    pub(super) async fn attachments(
        &self,
        id: &str,
        known: Option<&NodeState>,
        uploads: Vec<Upload>,
        new: bool,
        r: &mut PageReport,
    ) -> Result<BTreeMap<String, AttachmentState>> {
        let mut recorded = BTreeMap::new();
        if uploads.is_empty() {
            return Ok(recorded);
        }
        let remote = if new {
            Vec::new()
        } else {
            self.ops
                .client()
                .attachments()
                .all_of(&Owner::Page(id.to_string().into()))
                .await?
        };
        for up in uploads {
            let digest = sha256(&up.bytes);
            let there = remote.iter().find(|a| a.title == up.name);
            let unchanged = match there {
                None => false,
                Some(a) => {
                    let version = a.version.as_ref().map(|v| v.number).unwrap_or(1);
                    let seen = known.and_then(|k| k.attachments.get(&a.id));
                    match seen {
                        // The folder knows this version: the file changed or not since.
                        Some(s) if s.version == version => s.sha256 == digest,
                        // Not known: the same size is compared byte for byte.
                        _ if a.file_size == up.bytes.len() as u64 => {
                            let dl = self
                                .ops
                                .client()
                                .attachments()
                                .download(conflux_types::PageId::from(id.to_string()), &a.id, None)
                                .await?;
                            sha256(&dl.bytes) == digest
                        }
                        _ => false,
                    }
                }
            };
            if unchanged {
                if let Some(a) = there {
                    recorded.insert(
                        a.id.clone(),
                        AttachmentState {
                            name: up.name.clone(),
                            version: a.version.as_ref().map(|v| v.number).unwrap_or(1),
                            size: a.file_size,
                            path: up.path.clone(),
                            sha256: digest,
                        },
                    );
                }
                continue;
            }
            r.changes.push(Change::Attachment {
                name: up.name.clone(),
                new: there.is_none(),
            });
            if self.options.dry_run {
                continue;
            }
            let action = if there.is_some() { "update" } else { "upload" };
            let size = up.bytes.len() as u64;
            let out = self
                .ops
                .call(
                    "attachments",
                    action,
                    json!({
                        "id": id,
                        "fileName": up.name,
                        "mediaType": media_type(&up.name),
                        "data": base64::engine::general_purpose::STANDARD.encode(&up.bytes),
                    }),
                )
                .await?;
            self.shared().summary.attachments_uploaded += 1;
            let att_id = text(&out.to_json(), "/id");
            // The version the upload made, as Confluence now lists it.
            let version = match self.ops.client().attachments().get(&att_id).await {
                Ok(a) => a.version.map(|v| v.number).unwrap_or(1),
                Err(_) => 1,
            };
            recorded.insert(
                att_id,
                AttachmentState {
                    name: up.name,
                    version,
                    size,
                    path: up.path,
                    sha256: digest,
                },
            );
        }
        Ok(recorded)
    }
}

/// The media type Confluence is told, from the file name.
fn media_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}
