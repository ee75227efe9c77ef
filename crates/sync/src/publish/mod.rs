//! `publish`: a folder of Markdown to a space.
//!
//! Two passes. The first reads every file of the folder (Conflux's front matter, mark's or
//! md2conf's headers) and learns every page's title and place, so a relative link to a page
//! that does not exist yet becomes a page link all the same (Confluence links pages by title).
//! The second writes, parents before children, every write through [`Ops::call`] so the
//! guardrails hold: a page is created, or updated only when its title, parent or body changed
//! (bodies compared after normalization, so an unchanged page gets no new version), labels are
//! added and removed to match the file, new or changed attachments are uploaded.
//!
//! Files are worked on several at once, in waves: a page's file waits for the wave of its
//! folder's page. Siblings are still created in the folder's order ([`turns`]), since
//! Confluence orders a parent's children as they are made.
//!
//! A page edited in Confluence since the folder last saw it is not overwritten unless forced;
//! its report carries both versions and the difference. Nothing is deleted unless pruning.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use futures::StreamExt as _;

use conflux_client::api::{BodyFormat, PageList};
use conflux_client::models::Page;
use conflux_client::{ErrorKind, PageRequest};
use conflux_ops::{Data, OpErrorKind, Ops};
use serde_json::{Value, json};

use crate::error::{Result, SyncError};
use crate::export::{body_digest, comparable};
use crate::files::{sha256, write_atomic};
use crate::frontmatter::{Document, HeaderStyle};
use crate::progress::{Event, Progress};
use crate::state::{AttachmentState, NodeState, State};

mod content;
mod folder;
mod report;
mod turns;

use content::Upload;
use folder::{Local, read_folder};
pub use report::{Change, Conflict, PageReport, PublishSummary};
use report::{action_word, report};
use turns::{Ticket, Turns};

/// How a publish runs.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// Say what would change, page by page, and change nothing.
    pub dry_run: bool,
    /// Overwrite pages edited in Confluence since the last export or publish.
    pub force: bool,
    /// Delete (move to the trash) pages the folder once had and no longer has.
    pub prune: bool,
    /// Files worked on at once. The client's shared rate-limit gate keeps them within
    /// Confluence's budget; more only queue.
    pub concurrency: usize,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            dry_run: false,
            force: false,
            prune: false,
            concurrency: 8,
        }
    }
}

/// Publishes the folder `dir` to the space `space` (key or id; default: the folder's).
pub async fn publish(
    ops: &Ops,
    dir: &Path,
    space: Option<&str>,
    options: &PublishOptions,
    progress: &dyn Progress,
) -> Result<PublishSummary> {
    let mut state = State::load(dir)?;
    let space = match space {
        Some(s) => s.to_string(),
        None if !state.space_key.is_empty() => state.space_key.clone(),
        None => {
            return Err(SyncError::Folder {
                message: format!("{} names no space", dir.display()),
                hint: "pass --space KEY".into(),
            });
        }
    };
    let out = ops.call("spaces", "get", json!({ "id": space })).await?;
    let space_json = out.to_json();
    let space_id = text(&space_json, "/space/id");
    let space_key = text(&space_json, "/space/key");
    if state.space_id != space_id {
        // Another space (or none yet): what the state says of pages is about that space's.
        state = State {
            space_id: space_id.clone(),
            space_key: space_key.clone(),
            ..State::default()
        };
    }
    let locals = read_folder(dir, progress)?;
    progress.event(&Event::Planned {
        total: locals.len(),
    });
    // First pass: every page's title, by path, for the links.
    let titles: HashMap<String, String> = locals
        .iter()
        .filter(|l| l.kind == "page")
        .map(|l| (l.path.clone(), l.title.clone()))
        .collect();
    let attachment_names: HashMap<String, String> = state
        .nodes
        .values()
        .flat_map(|n| n.attachments.values())
        .map(|a| (a.path.clone(), a.name.clone()))
        .collect();
    let mut run = Run {
        ops,
        root: dir.to_path_buf(),
        space_id,
        space_key,
        titles,
        attachment_names,
        options: options.clone(),
        shared: Mutex::new(Shared {
            state,
            ids: HashMap::new(),
            summary: PublishSummary {
                dry_run: options.dry_run,
                ..PublishSummary::default()
            },
            saved: std::time::Instant::now(),
        }),
        turns: Turns::default(),
    };
    // Confluence's titles are unique in a space: a second file with a title already taken by
    // another file would overwrite its page.
    let mut taken: HashMap<&str, &str> = HashMap::new();
    let mut duplicates: HashMap<usize, String> = HashMap::new();
    for (i, local) in locals.iter().enumerate() {
        if local.kind == "page"
            && let Some(first) = taken.insert(local.title.as_str(), local.path.as_str())
        {
            duplicates.insert(i, first.to_string());
        }
    }
    // Second pass: wave by wave, parents first.
    let stop = AtomicBool::new(false);
    let mut fatal = None;
    let mut reports: Vec<(usize, PageReport)> = Vec::with_capacity(locals.len());
    for (one_at_a_time, wave) in waves(&locals) {
        let mut siblings: HashMap<String, usize> = HashMap::new();
        for &i in &wave {
            *siblings.entry(sibling_key(&locals[i])).or_default() += 1;
        }
        for (key, n) in &siblings {
            run.turns.open(key, *n);
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut jobs = Vec::with_capacity(wave.len());
        for i in wave {
            let local = &locals[i];
            let key = sibling_key(local);
            let n = seen.entry(key.clone()).or_default();
            let ticket = run.turns.ticket(key, *n);
            *n += 1;
            let (run, stop, duplicate) = (&run, &stop, duplicates.get(&i).cloned());
            let job: Job<'_> = Box::pin(async move {
                if stop.load(Ordering::Relaxed) {
                    return (i, None);
                }
                let outcome = match duplicate {
                    Some(first) => Err(SyncError::BadFile {
                        path: run.root.join(&local.path),
                        message: format!(
                            "its title `{}` is also {first}'s, and titles are unique in a space",
                            local.title
                        ),
                    }),
                    None => run.one(local, &ticket).await,
                };
                (i, Some(outcome))
            });
            jobs.push(job);
        }
        let width = if one_at_a_time {
            1
        } else {
            options.concurrency.max(1)
        };
        let mut done = futures::stream::iter(jobs).buffer_unordered(width);
        while let Some((i, outcome)) = done.next().await {
            let Some(outcome) = outcome else { continue };
            let local = &locals[i];
            let report = match outcome {
                Ok(r) => r,
                Err(SyncError::Op(e))
                    if matches!(
                        e.kind,
                        OpErrorKind::Policy
                            | OpErrorKind::Unauthorized
                            | OpErrorKind::MissingScopes
                    ) =>
                {
                    // A guardrail or the credential refuses: every other page would be
                    // refused the same way, so no other file starts.
                    stop.store(true, Ordering::Relaxed);
                    fatal.get_or_insert(SyncError::Op(e));
                    continue;
                }
                Err(e) => {
                    run.shared().summary.failed += 1;
                    progress.event(&Event::Failed {
                        path: local.path.clone(),
                        error: e.to_string(),
                    });
                    PageReport {
                        error: Some(format!("{e} ({})", e.hint())),
                        ..report(local, None)
                    }
                }
            };
            if report.error.is_none() {
                progress.event(&Event::Page {
                    id: report.id.clone().unwrap_or_default(),
                    title: report.title.clone(),
                    path: report.path.clone(),
                    action: action_word(&report, options.dry_run),
                });
            }
            reports.push((i, report));
        }
        if let Some(e) = fatal.take() {
            // What was done so far stays recorded.
            if !options.dry_run {
                run.shared().state.save(dir)?;
            }
            return Err(e);
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    run.shared
        .get_mut()
        .unwrap_or_else(|e| e.into_inner())
        .summary
        .pages
        .extend(reports.into_iter().map(|(_, r)| r));
    let pruned = run.prune(progress).await;
    let shared = run.shared.into_inner().unwrap_or_else(|e| e.into_inner());
    if !options.dry_run {
        shared.state.save(dir)?;
    }
    pruned?;
    Ok(shared.summary)
}

/// The files in waves, in the folder's order within each: a file comes in the wave after its
/// folder's page. Files placed by mark's `Parent` headers come last, one at a time: they find
/// or make their parents by title, which another file may be making. Answers (one at a time?,
/// the files' indexes) for each wave.
fn waves(locals: &[Local]) -> Vec<(bool, Vec<usize>)> {
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut waves: Vec<(bool, Vec<usize>)> = Vec::new();
    let mut by_title = Vec::new();
    for (i, local) in locals.iter().enumerate() {
        if !local.doc.parents.is_empty() && local.tree_parent.is_none() {
            by_title.push(i);
            continue;
        }
        // The folder's page comes earlier in the folder's order.
        let d = local
            .tree_parent
            .as_deref()
            .and_then(|p| depth.get(p))
            .map_or(0, |d| d + 1);
        depth.insert(local.path.as_str(), d);
        if waves.len() <= d {
            waves.resize_with(d + 1, || (false, Vec::new()));
        }
        waves[d].1.push(i);
    }
    if !by_title.is_empty() {
        waves.push((true, by_title));
    }
    waves
}

/// One file's work in a wave: its index and outcome (`None`: not started, the run stopped).
/// Boxed as a trait object: a stream generic over the job's own type would make this crate
/// compile its own copy of every action behind `Ops::call` (measured: 1.1 MB more binary).
type Job<'a> = Pin<Box<dyn Future<Output = (usize, Option<Result<PageReport>>)> + 'a>>;

/// Files with one key are siblings, created in the folder's order.
fn sibling_key(local: &Local) -> String {
    local.tree_parent.clone().unwrap_or_default()
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A publish in progress: what every file's task reads, and behind a lock what they change.
struct Run<'a> {
    ops: &'a Ops,
    root: PathBuf,
    space_id: String,
    space_key: String,
    /// Path -> title of every page file (the first pass).
    titles: HashMap<String, String>,
    /// Attachment file path -> its name in Confluence (file names were made safe).
    attachment_names: HashMap<String, String>,
    options: PublishOptions,
    /// Held for moments, never across a request.
    shared: Mutex<Shared>,
    turns: Turns,
}

/// What the files' tasks change.
struct Shared {
    state: State,
    /// Path -> id of the pages and folders found or made so far.
    ids: HashMap<String, String>,
    summary: PublishSummary,
    /// When the state was last written.
    saved: std::time::Instant,
}

impl Run<'_> {
    fn shared(&self) -> MutexGuard<'_, Shared> {
        // A task that panicked left no half-made entry (each change is whole).
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_id(&self, path: &str, id: String) {
        self.shared().ids.insert(path.to_string(), id);
    }

    async fn one(&self, local: &Local, turn: &Ticket<'_>) -> Result<PageReport> {
        match local.kind.as_str() {
            "page" => self.page(local, turn).await,
            "folder" => self.folder(local, turn).await,
            other => {
                // Databases and whiteboards have no Markdown form; their files only show them.
                // Pages under one go under it only in its own space.
                if let Some(id) = self.claimed_id(local) {
                    self.set_id(&local.path, id);
                }
                Ok(PageReport {
                    skipped: Some(format!("a {other}: shown in the folder, not published")),
                    ..report(local, local.doc.meta.id.clone())
                })
            }
        }
    }

    fn parent_id(&self, local: &Local) -> Option<String> {
        local
            .tree_parent
            .as_ref()
            .and_then(|p| self.shared().ids.get(p).cloned())
    }

    /// The id the file names, when it is a page of this space.
    fn claimed_id(&self, local: &Local) -> Option<String> {
        let meta = &local.doc.meta;
        let same_space = meta
            .space
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&self.space_key) || s == self.space_id);
        let by_meta = meta.id.clone().filter(|_| same_space);
        by_meta.or_else(|| {
            self.shared()
                .state
                .by_path(&local.path)
                .map(|(id, _)| id.clone())
        })
    }

    async fn folder(&self, local: &Local, turn: &Ticket<'_>) -> Result<PageReport> {
        let client = self.ops.client();
        if let Some(id) = self.claimed_id(local) {
            match client.folders().get(&id).await {
                Ok(_) => {
                    self.set_id(&local.path, id.clone());
                    self.shared().summary.unchanged += 1;
                    return Ok(report(local, Some(id)));
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut r = report(local, None);
        r.changes.push(Change::CreateFolder);
        if self.options.dry_run {
            self.set_id(&local.path, format!("(new {})", local.path));
            self.shared().summary.created += 1;
            return Ok(r);
        }
        let mut args = json!({ "spaceId": self.space_id, "title": local.title });
        if let Some(p) = self.parent_id(local) {
            args["parentId"] = json!(p);
        }
        turn.wait().await;
        let out = self.ops.call("content", "createFolder", args).await?;
        let id = match &out.data {
            Data::Folder { folder } => folder.id.clone(),
            _ => text(&out.to_json(), "/folder/id"),
        };
        self.set_id(&local.path, id.clone());
        self.shared().summary.created += 1;
        let mut doc = local.doc.clone();
        doc.meta.id = Some(id.clone());
        doc.meta.space = Some(self.space_key.clone());
        doc.meta.parent = self.parent_id(local);
        let written = self.rewrite_front_matter(local, &doc)?;
        self.record(
            &id,
            NodeState {
                path: local.path.clone(),
                kind: "folder".into(),
                title: local.title.clone(),
                parent: self.parent_id(local),
                version: 1,
                file_sha256: written,
                ..NodeState::default()
            },
        )?;
        r.id = Some(id);
        Ok(r)
    }

    /// The page Confluence has for the file: by its id, else by its title in the space.
    async fn find(&self, local: &Local) -> Result<Option<Page>> {
        let client = self.ops.client();
        if let Some(id) = self.claimed_id(local) {
            match client
                .pages()
                .get(id.clone().into(), Some(BodyFormat::Storage))
                .await
            {
                Ok(p) if p.space_id == self.space_id && p.status == "current" => {
                    return Ok(Some(p));
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let filter = PageList {
            space_id: Some(self.space_id.clone()),
            title: Some(local.title.clone()),
            status: Some("current".into()),
            ..PageList::default()
        };
        let found = client.pages().list(&filter, &PageRequest::limit(5)).await?;
        match found.results.into_iter().find(|p| p.title == local.title) {
            Some(p) => Ok(Some(
                client
                    .pages()
                    .get(p.id.into(), Some(BodyFormat::Storage))
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// The parent the file asks for: its folder's page, else mark's `Parent` headers (a path
    /// of titles from the top: each looked up in the space, and made, as mark does, when
    /// missing), else its front matter's.
    async fn wanted_parent(&self, local: &Local, r: &mut PageReport) -> Result<Option<String>> {
        if let Some(p) = self.parent_id(local) {
            return Ok(Some(p));
        }
        if !local.doc.parents.is_empty() {
            let mut parent: Option<String> = None;
            for title in &local.doc.parents {
                let filter = PageList {
                    space_id: Some(self.space_id.clone()),
                    title: Some(title.clone()),
                    status: Some("current".into()),
                    ..PageList::default()
                };
                let found = self
                    .ops
                    .client()
                    .pages()
                    .list(&filter, &PageRequest::limit(5))
                    .await?;
                if let Some(p) = found.results.into_iter().find(|p| p.title == *title) {
                    parent = Some(p.id);
                    continue;
                }
                r.changes.push(Change::CreateParent {
                    title: title.clone(),
                });
                if self.options.dry_run {
                    parent = Some(format!("(new {title})"));
                    continue;
                }
                let mut args = json!({ "spaceId": self.space_id, "title": title, "body": "" });
                if let Some(p) = &parent {
                    args["parentId"] = json!(p);
                }
                let out = self.ops.call("pages", "create", args).await?;
                let mut shared = self.shared();
                shared.summary.created += 1;
                shared.summary.versions_made += 1;
                drop(shared);
                parent = Some(match &out.data {
                    Data::Written { page, .. } => page.id.clone(),
                    _ => text(&out.to_json(), "/page/id"),
                });
            }
            return Ok(parent);
        }
        let same_space = local
            .doc
            .meta
            .space
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&self.space_key));
        Ok(local.doc.meta.parent.clone().filter(|_| same_space))
    }

    async fn page(&self, local: &Local, turn: &Ticket<'_>) -> Result<PageReport> {
        let mut uploads = Vec::new();
        let markdown = self.outgoing(local, &mut uploads)?;
        let converted =
            conflux_convert::markdown_to_storage(&markdown).map_err(|e| SyncError::Convert {
                what: local.path.clone(),
                source: e,
            })?;
        let storage = converted.output;
        let mut r = report(local, None);
        r.warnings = converted.warnings.iter().map(|w| w.to_string()).collect();
        let remote = self.find(local).await?;
        let parent = self.wanted_parent(local, &mut r).await?;
        let file_sha = std::fs::read(self.root.join(&local.path))
            .map(|b| sha256(&b))
            .unwrap_or_default();
        let Some(remote) = remote else {
            return self.create(local, r, storage, parent, uploads, turn).await;
        };
        let id = remote.id.clone();
        r.id = Some(id.clone());
        self.set_id(&local.path, id.clone());
        let remote_version = remote.version.as_ref().map(|v| v.number).unwrap_or(1);
        let remote_storage = remote
            .body
            .as_ref()
            .and_then(|b| b.storage.as_ref())
            .map(|b| b.value.clone())
            .unwrap_or_default();
        let known = self.shared().state.nodes.get(&id).cloned();
        // A file untouched since the folder last saw this very version has nothing to say
        // about the body, even where Markdown cannot carry a construct back exactly.
        let in_step = known.as_ref().is_some_and(|k| {
            k.version == remote_version
                && !k.file_sha256.is_empty()
                && k.file_sha256 == file_sha
                && k.body_sha256 == body_digest(&remote_storage, &self.space_key)
        });
        let body_changed = !in_step
            && comparable(&remote_storage, &self.space_key)
                != comparable(&storage, &self.space_key);
        let title_changed = remote.title != local.title;
        let parent_changed = parent.is_some() && parent != remote.parent_id;
        let same_space_meta = local
            .doc
            .meta
            .space
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&self.space_key));
        let base = known.as_ref().map(|k| k.version).or(local
            .doc
            .meta
            .version
            .filter(|_| same_space_meta));
        let changed = body_changed || title_changed || parent_changed;
        let edited_there = base.is_some_and(|b| remote_version > b);
        let untouched_here = known
            .as_ref()
            .is_some_and(|k| !k.file_sha256.is_empty() && k.file_sha256 == file_sha);
        if changed && edited_there && untouched_here {
            // Nothing new here, so nothing to publish: even forced, a stale file must not
            // undo someone's edit.
            self.shared().summary.unchanged += 1;
            r.skipped = Some(format!(
                "changed in Confluence (version {remote_version}) and not here: run `conflux \
                 export` to take it"
            ));
            return Ok(r);
        }
        if changed && edited_there && !self.options.force {
            let remote_md = conflux_convert::storage_to_markdown(&remote_storage)
                .map(|o| o.output)
                .unwrap_or_default();
            let v = remote.version.as_ref();
            r.conflict = Some(Conflict {
                local_base_version: base,
                remote_version,
                remote_author: v.and_then(|v| v.author_id.clone()),
                remote_date: v.and_then(|v| v.created_at.clone()),
                diff: similar::TextDiff::from_lines(&remote_md, &markdown)
                    .unified_diff()
                    .header(&format!("Confluence version {remote_version}"), &local.path)
                    .to_string(),
            });
            self.shared().summary.conflicts += 1;
            return Ok(r);
        }
        if body_changed {
            r.changes.push(Change::Body);
        }
        if title_changed {
            r.changes.push(Change::Title {
                from: remote.title.clone(),
                to: local.title.clone(),
            });
        }
        if parent_changed {
            r.changes.push(Change::Move {
                from: remote.parent_id.clone(),
                to: parent.clone(),
            });
        }
        let mut version = remote_version;
        if changed && !self.options.dry_run {
            let mut args = json!({ "id": id, "version": remote_version + 1 });
            if body_changed {
                args["body"] = json!(storage);
                args["bodyFormat"] = json!("storage");
            }
            if title_changed {
                args["title"] = json!(local.title);
            }
            if parent_changed {
                args["parentId"] = json!(parent);
            }
            let out = self.ops.call("pages", "update", args).await?;
            if let Data::Written { page, .. } = &out.data {
                version = page.version.unwrap_or(remote_version + 1);
            }
            self.shared().summary.versions_made += 1;
        }
        let labels = self.labels(local, &id, false, &mut r).await?;
        let attachments = self
            .attachments(&id, known.as_ref(), uploads, false, &mut r)
            .await?;
        if r.changes.is_empty() {
            self.shared().summary.unchanged += 1;
        } else {
            self.shared().summary.updated += 1;
        }
        if !self.options.dry_run {
            let sent = if body_changed {
                &storage
            } else {
                &remote_storage
            };
            self.finish(
                local,
                &id,
                version,
                parent.or(remote.parent_id),
                labels,
                attachments,
                sent,
            )?;
        }
        Ok(r)
    }

    async fn create(
        &self,
        local: &Local,
        mut r: PageReport,
        storage: String,
        parent: Option<String>,
        uploads: Vec<Upload>,
        turn: &Ticket<'_>,
    ) -> Result<PageReport> {
        r.changes.push(Change::Create);
        self.shared().summary.created += 1;
        if self.options.dry_run {
            self.set_id(&local.path, format!("(new {})", local.path));
            self.labels(local, "", true, &mut r).await?;
            self.attachments("", None, uploads, true, &mut r).await?;
            return Ok(r);
        }
        let mut args = json!({
            "spaceId": self.space_id,
            "title": local.title,
            "body": storage,
            "bodyFormat": "storage",
        });
        if let Some(p) = &parent {
            args["parentId"] = json!(p);
        }
        turn.wait().await;
        let out = self.ops.call("pages", "create", args).await?;
        let (id, version) = match &out.data {
            Data::Written { page, .. } => (page.id.clone(), page.version.unwrap_or(1)),
            _ => (text(&out.to_json(), "/page/id"), 1),
        };
        self.shared().summary.versions_made += 1;
        r.id = Some(id.clone());
        self.set_id(&local.path, id.clone());
        let labels = self.labels(local, &id, true, &mut r).await?;
        let attachments = self.attachments(&id, None, uploads, true, &mut r).await?;
        self.finish(local, &id, version, parent, labels, attachments, &storage)?;
        Ok(r)
    }

    /// After a page is in step: the file's front matter says so (Conflux's own files; mark's
    /// and md2conf's headers are left as their owners wrote them), and so does the state.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        local: &Local,
        id: &str,
        version: u64,
        parent: Option<String>,
        labels: Vec<String>,
        attachments: BTreeMap<String, AttachmentState>,
        storage: &str,
    ) -> Result<()> {
        let mut doc = local.doc.clone();
        doc.meta.id = Some(id.to_string());
        doc.meta.space = Some(self.space_key.clone());
        doc.meta.version = Some(version);
        doc.meta.parent = parent.clone();
        if doc.meta.title.is_none() && local.doc.style == HeaderStyle::Yaml {
            doc.meta.title = Some(local.title.clone());
        }
        let written = self.rewrite_front_matter(local, &doc)?;
        self.record(
            id,
            NodeState {
                path: local.path.clone(),
                kind: "page".into(),
                title: local.title.clone(),
                parent,
                version,
                labels,
                attachments,
                file_sha256: written,
                body_sha256: body_digest(storage, &self.space_key),
            },
        )
    }

    /// Rewrites a Conflux file whose front matter changed; answers the file's digest.
    fn rewrite_front_matter(&self, local: &Local, doc: &Document) -> Result<String> {
        let path = self.root.join(&local.path);
        if local.doc.style != HeaderStyle::Yaml || doc.meta == local.doc.meta {
            let bytes = std::fs::read(&path).map_err(|e| SyncError::io(&path, e))?;
            return Ok(sha256(&bytes));
        }
        let text = doc.render();
        write_atomic(&path, text.as_bytes())?;
        Ok(sha256(text.as_bytes()))
    }

    fn record(&self, id: &str, node: NodeState) -> Result<()> {
        let mut shared = self.shared();
        let Shared { state, saved, .. } = &mut *shared;
        state.nodes.insert(id.to_string(), node);
        state.save_soon(&self.root, saved)
    }

    /// Pages the state knows and no file has any more: listed, and deleted with `prune`.
    async fn prune(&mut self, progress: &dyn Progress) -> Result<()> {
        let (ops, root, options) = (self.ops, &self.root, &self.options);
        // Every file's task is done: the lock is this run's alone.
        let shared = self.shared.get_mut().unwrap_or_else(|e| e.into_inner());
        if shared.summary.failed > 0 {
            if options.prune {
                progress.event(&Event::Warning {
                    message: "some files failed, so nothing is pruned this time".into(),
                });
            }
            return Ok(());
        }
        let seen: BTreeSet<&String> = shared.ids.values().collect();
        let gone: Vec<(String, NodeState)> = shared
            .state
            .nodes
            .iter()
            .filter(|(id, n)| n.kind == "page" && !seen.contains(id))
            .map(|(id, n)| (id.clone(), n.clone()))
            .collect();
        for (id, node) in gone {
            if !options.prune {
                progress.event(&Event::Warning {
                    message: format!(
                        "page {id} ({}) has no file here any more; kept (--prune deletes it)",
                        node.title
                    ),
                });
                continue;
            }
            let mut r = PageReport {
                path: node.path.clone(),
                title: node.title.clone(),
                id: Some(id.clone()),
                changes: vec![Change::Delete],
                conflict: None,
                skipped: None,
                error: None,
                warnings: Vec::new(),
            };
            if !options.dry_run {
                match ops.call("pages", "delete", json!({ "id": id })).await {
                    Ok(_) => {}
                    Err(e) if e.kind == OpErrorKind::NotFound => {}
                    Err(e) => r.error = Some(format!("{} ({})", e.message, e.hint)),
                }
                if r.error.is_none() {
                    shared.state.nodes.remove(&id);
                    shared.state.save(root)?;
                    shared.summary.deleted += 1;
                }
            }
            progress.event(&Event::Page {
                id,
                title: r.title.clone(),
                path: r.path.clone(),
                action: if options.dry_run {
                    "would be deleted".into()
                } else {
                    "deleted".into()
                },
            });
            shared.summary.pages.push(r);
        }
        Ok(())
    }
}
