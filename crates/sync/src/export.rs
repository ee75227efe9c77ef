//! `export`: a space to a folder of Markdown, incrementally.
//!
//! The tree is read in bulk (page list, descendants), and so are the labels and attachments of
//! pages already exported (one CQL listing, see [`crate::listing`]: a label added or a file
//! attached does not change the page's version); a new or changed page has them listed on its
//! own. Only what changed is fetched: the body when the version moved, an attachment when its
//! version or size did. A page that only moved or was renamed is written again from the
//! converter output kept in `.conflux/raw/`, without fetching its body.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use conflux_client::Client;
use conflux_client::api::{BodyFormat, Owner};
use conflux_client::models::Attachment;
use conflux_ops::Ops;
use futures::StreamExt as _;
use serde_json::json;

use crate::error::{Result, SyncError};
use crate::files::{off_thread, remove_and_prune, sha256, under, write_atomic};
use crate::frontmatter::{Document, FrontMatter, HeaderStyle};
use crate::links;
use crate::listing::{self, Listing};
use crate::names::unique_names;
use crate::progress::{Event, Progress};
use crate::state::{AttachmentState, NodeState, RAW_DIR, State};
use crate::tree::{self, Node, Tree, attachments_dir};

/// How an export runs.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Pages worked on at once. The client's shared rate-limit gate keeps them within
    /// Confluence's budget; more only queue.
    pub concurrency: usize,
    /// Fetch every body and attachment again, whatever the state says.
    pub full: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            concurrency: 16,
            full: false,
        }
    }
}

/// What an export did.
#[derive(Clone, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// Nodes in the tree (pages, folders, databases, ...).
    pub nodes: usize,
    /// Files written or rewritten.
    pub written: usize,
    /// Nodes left as they were.
    pub unchanged: usize,
    /// Bodies fetched.
    pub bodies_fetched: usize,
    /// Attachments downloaded.
    pub attachments_downloaded: usize,
    /// Pages whose labels and attachments were listed on their own: new and changed pages,
    /// and any the space's bulk listing did not answer for whole.
    pub listed_per_page: usize,
    /// Files of nodes gone from Confluence, removed.
    pub removed: usize,
    pub failed: usize,
}

/// What every page task shares.
struct Ctx<'a> {
    client: &'a Client,
    root: PathBuf,
    space_key: String,
    tree: Tree,
    /// Title -> node id, for the links between pages.
    titles: HashMap<String, String>,
    /// The state, and when it was last written.
    state: Mutex<State>,
    saved: Mutex<std::time::Instant>,
    progress: &'a dyn Progress,
    full: bool,
    /// The space's labels and attachments in bulk, when it could be read.
    listing: Option<Listing>,
}

/// Exports the space `space` (key or id) into `dir`: see the module docs.
pub async fn export(
    ops: &Ops,
    space: &str,
    dir: &Path,
    options: &ExportOptions,
    progress: &dyn Progress,
) -> Result<ExportSummary> {
    // The space goes through the action layer, so the space lists hold for the export as for
    // every read of the tools.
    let out = ops.call("spaces", "get", json!({ "id": space })).await?;
    let space_id = out
        .to_json()
        .pointer("/space/id")
        .and_then(|v| v.as_str())
        .map(String::from)
        .ok_or_else(|| SyncError::Folder {
            message: format!("Confluence gave no id for space {space}"),
            hint: "check the space key".into(),
        })?;
    let client = ops.client();
    let space = client.spaces().get(&space_id).await?;
    std::fs::create_dir_all(dir).map_err(|e| SyncError::io(dir, e))?;
    let mut state = State::load(dir)?;
    if !state.space_id.is_empty() && state.space_id != space.id {
        return Err(SyncError::Folder {
            message: format!(
                "{} holds space {}, not {}",
                dir.display(),
                state.space_key,
                space.key
            ),
            hint: "export each space into a folder of its own".into(),
        });
    }
    state.space_id = space.id.clone();
    state.space_key = space.key.clone();
    state.save(dir)?;

    let tree = tree::read(client, &space.id).await?;
    for id in &tree.unplaced {
        progress.event(&Event::Warning {
            message: format!("node {id} is in a parent cycle and was left out"),
        });
    }
    // A first run lists every page on its own anyway; a full one wants nothing from an index.
    let listing = if options.full || state.nodes.is_empty() {
        None
    } else {
        match listing::read(client, &space.key).await {
            Ok(l) => Some(l),
            Err(e) => {
                progress.event(&Event::Warning {
                    message: format!(
                        "labels and attachments are listed page by page: the space's listing \
                         failed ({e})"
                    ),
                });
                None
            }
        }
    };
    let titles = tree
        .nodes
        .values()
        .filter(|n| n.kind == "page")
        .map(|n| (n.title.clone(), n.id.clone()))
        .collect();
    let ctx = Ctx {
        client,
        root: dir.to_path_buf(),
        space_key: space.key.clone(),
        tree,
        titles,
        state: Mutex::new(state),
        saved: Mutex::new(std::time::Instant::now()),
        progress,
        full: options.full,
        listing,
    };
    let mut summary = ExportSummary {
        nodes: ctx.tree.paths.len(),
        ..ExportSummary::default()
    };
    // Nodes gone from Confluence (or from the space) leave the folder first, so a new node
    // may take a name they had.
    summary.removed = remove_gone(&ctx)?;

    let mut order: Vec<&Node> = ctx
        .tree
        .nodes
        .values()
        .filter(|n| ctx.tree.paths.contains_key(&n.id))
        .collect();
    // Nodes whose file moves go first: their old files leave before others take the names.
    order.sort_by_key(|n| {
        let st = ctx.state.lock().unwrap_or_else(|e| e.into_inner());
        st.nodes
            .get(&n.id)
            .is_none_or(|s| Some(&s.path) == ctx.tree.paths.get(&n.id))
    });
    progress.event(&Event::Planned { total: order.len() });
    // The futures are made in a loop, not by a closure over the stream: a closure's borrow of
    // `ctx` would make the whole export unspawnable (rustc cannot prove it general enough).
    let mut jobs = Vec::with_capacity(order.len());
    for n in order {
        let ctx = &ctx;
        jobs.push(async move { (n.id.clone(), export_node(ctx, n).await) });
    }
    let results: Vec<(String, Result<Outcome>)> = futures::stream::iter(jobs)
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    lock(&ctx).save(dir)?;
    let mut first_error = None;
    for (id, r) in results {
        match r {
            Ok(o) => {
                if o.written {
                    summary.written += 1;
                } else {
                    summary.unchanged += 1;
                }
                summary.bodies_fetched += usize::from(o.body_fetched);
                summary.attachments_downloaded += o.downloads;
                summary.listed_per_page += usize::from(o.listed);
            }
            Err(e) => {
                summary.failed += 1;
                let path = ctx.tree.paths.get(&id).cloned().unwrap_or_default();
                progress.event(&Event::Failed {
                    path: path.clone(),
                    error: e.to_string(),
                });
                first_error.get_or_insert(format!("{path}: {e}"));
            }
        }
    }
    if let Some(first) = first_error {
        return Err(SyncError::Partial {
            failed: summary.failed,
            total: summary.nodes,
            first,
        });
    }
    Ok(summary)
}

/// What one node's export did.
#[derive(Default)]
struct Outcome {
    written: bool,
    body_fetched: bool,
    downloads: usize,
    /// Labels or attachments listed on their own, not taken from the space's listing.
    listed: bool,
}

fn lock<'a>(ctx: &'a Ctx<'_>) -> std::sync::MutexGuard<'a, State> {
    // A task that panicked left no half-made entry (inserts are whole), so the state stays usable.
    ctx.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the files of nodes the state knows and the tree no longer has.
fn remove_gone(ctx: &Ctx<'_>) -> Result<usize> {
    let gone: Vec<(String, NodeState)> = lock(ctx)
        .nodes
        .iter()
        .filter(|(id, _)| !ctx.tree.paths.contains_key(*id))
        .map(|(id, n)| (id.clone(), n.clone()))
        .collect();
    let mut removed = 0;
    for (id, node) in gone {
        let path = under(&ctx.root, &node.path)?;
        let edited = std::fs::read(&path)
            .map(|b| sha256(&b) != node.file_sha256)
            .unwrap_or(false);
        if edited {
            ctx.progress.event(&Event::Warning {
                message: format!(
                    "{} was edited here, and its page is gone from Confluence: kept",
                    node.path
                ),
            });
        } else {
            remove_and_prune(&ctx.root, &path)?;
            removed += 1;
        }
        for a in node.attachments.values() {
            remove_and_prune(&ctx.root, &under(&ctx.root, &a.path)?)?;
        }
        remove_and_prune(&ctx.root, &raw_path(&ctx.root, &id)?)?;
        let mut st = lock(ctx);
        st.nodes.remove(&id);
        st.save(&ctx.root)?;
    }
    Ok(removed)
}

fn raw_path(root: &Path, id: &str) -> Result<PathBuf> {
    // Ids are Confluence's numbers; anything else is made a safe name all the same.
    under(
        root,
        &format!("{RAW_DIR}/{}.md", crate::names::safe_name(id)),
    )
}

async fn export_node(ctx: &Ctx<'_>, node: &Node) -> Result<Outcome> {
    let path = ctx.tree.paths.get(&node.id).cloned().unwrap_or_default();
    let prev = lock(ctx).nodes.get(&node.id).cloned();
    let mut outcome = Outcome::default();
    let mut next = NodeState {
        path: path.clone(),
        kind: node.kind.clone(),
        title: node.title.clone(),
        parent: node.parent.clone(),
        version: node.version,
        ..NodeState::default()
    };
    let mut meta = FrontMatter {
        id: Some(node.id.clone()),
        kind: Some(node.kind.clone()),
        space: Some(ctx.space_key.clone()),
        title: Some(node.title.clone()),
        parent: node.parent.clone(),
        ..FrontMatter::default()
    };
    let body = if node.kind == "page" {
        meta.kind = None;
        meta.version = Some(node.version);
        meta.last_modified = node.last_modified.clone();
        meta.author = node.author.clone();
        let id: conflux_types::PageId = node.id.clone().into();
        // The space's listing answers for a page this folder holds at this version; a page
        // just made or changed may not be in the search index yet, so it is asked directly.
        let known = ctx
            .listing
            .as_ref()
            .filter(|_| prev.as_ref().is_some_and(|p| p.version == node.version));
        let labels = match known.and_then(|l| l.labels.get(&node.id)) {
            Some(labels) => labels.clone(),
            None => {
                outcome.listed = true;
                all_labels(ctx.client, &id).await?
            }
        };
        meta.labels = Some(labels.clone());
        next.labels = labels;
        // The body, fetched only when the version moved (or nothing was kept of it).
        let raw_file = raw_path(&ctx.root, &node.id)?;
        let kept = match &prev {
            Some(p) if !ctx.full && p.version == node.version => {
                std::fs::read_to_string(&raw_file).ok()
            }
            _ => None,
        };
        let raw = match kept {
            Some(raw) => {
                next.body_sha256 = prev
                    .as_ref()
                    .map(|p| p.body_sha256.clone())
                    .unwrap_or_default();
                raw
            }
            None => {
                let page = ctx
                    .client
                    .pages()
                    .get(id.clone(), Some(BodyFormat::Storage))
                    .await?;
                let storage = page
                    .body
                    .as_ref()
                    .and_then(|b| b.storage.as_ref())
                    .map(|b| b.value.clone())
                    .unwrap_or_default();
                outcome.body_fetched = true;
                // Converting and writing are CPU and disk work: off the runtime's threads, so
                // the other pages' requests keep going meanwhile.
                let (key, what) = (
                    ctx.space_key.clone(),
                    format!("page {} ({})", node.id, node.title),
                );
                let raw_file = raw_file.clone();
                let (digest, md) = off_thread(move || {
                    let digest = body_digest(&storage, &key);
                    let md = conflux_convert::storage_to_markdown(&storage)
                        .map_err(|e| SyncError::Convert { what, source: e })?
                        .output;
                    write_atomic(&raw_file, md.as_bytes())?;
                    Ok((digest, md))
                })
                .await?;
                next.body_sha256 = digest;
                md
            }
        };
        // Attachments beside the page. One the folder has and the listing lacks may be gone or
        // not indexed yet: the page's own list says which.
        let listed = known
            .and_then(|l| l.attachments.as_ref())
            .and_then(|all| all.get(&node.id))
            .filter(|list| {
                prev.as_ref().is_none_or(|p| {
                    p.attachments
                        .keys()
                        .all(|id| list.iter().any(|a| &a.id == id))
                })
            })
            .cloned();
        outcome.listed |= listed.is_none();
        let (names, downloads) =
            sync_attachments(ctx, node, &path, prev.as_ref(), listed, &mut next).await?;
        outcome.downloads = downloads;
        relink(ctx, &path, &raw, &names)
    } else {
        stub_body(node)
    };
    let doc = Document {
        meta,
        style: HeaderStyle::Yaml,
        parents: Vec::new(),
        attachments: Vec::new(),
        body,
    };
    let file = under(&ctx.root, &path)?;
    let (written, digest) = off_thread(move || {
        let text = doc.render();
        let same = std::fs::read(&file).is_ok_and(|b| b == text.as_bytes());
        if !same {
            write_atomic(&file, text.as_bytes())?;
        }
        Ok((!same, sha256(text.as_bytes())))
    })
    .await?;
    outcome.written = written;
    next.file_sha256 = digest;
    if let Some(p) = &prev
        && p.path != path
    {
        let old = under(&ctx.root, &p.path)?;
        // The old file goes unless another node now lives there.
        if !lock(ctx)
            .nodes
            .iter()
            .any(|(id, n)| n.path == p.path && *id != node.id)
            && !ctx.tree.paths.values().any(|q| *q == p.path)
        {
            remove_and_prune(&ctx.root, &old)?;
        }
    }
    ctx.progress.event(&Event::Page {
        id: node.id.clone(),
        title: node.title.clone(),
        path: path.clone(),
        action: if outcome.written {
            "written"
        } else {
            "unchanged"
        }
        .into(),
    });
    let mut st = lock(ctx);
    st.nodes.insert(node.id.clone(), next);
    let mut saved = ctx.saved.lock().unwrap_or_else(|e| e.into_inner());
    st.save_soon(&ctx.root, &mut saved)?;
    Ok(outcome)
}

/// A normalized body's digest: two bodies that mean the same have the same digest.
pub(crate) fn body_digest(storage: &str, space_key: &str) -> String {
    sha256(comparable(storage, space_key).as_bytes())
}

/// A storage body as compared: normalized, with links into the page's own space written
/// without the space (Markdown links between the folder's files name no space).
pub(crate) fn comparable(storage: &str, space_key: &str) -> String {
    let own = [
        format!(" ri:space-key=\"{space_key}\""),
        format!(" ri:space-key='{space_key}'"),
    ];
    let mut s = storage.to_string();
    for o in &own {
        s = s.replace(o.as_str(), "");
    }
    conflux_convert::normalized(&s).unwrap_or(s)
}

async fn all_labels(client: &Client, id: &conflux_types::PageId) -> Result<Vec<String>> {
    let labels = client.labels().all_of(&Owner::Page(id.clone())).await?;
    let mut out: Vec<String> = labels.into_iter().map(|l| l.name).collect();
    out.sort();
    Ok(out)
}

/// Brings the page's attachments folder in step: downloads what is new or changed, renames
/// what only moved, removes what is gone. `listed` is the page's list from the space's listing;
/// without it the page's attachments are listed here. Answers attachment name -> file path.
async fn sync_attachments(
    ctx: &Ctx<'_>,
    node: &Node,
    path: &str,
    prev: Option<&NodeState>,
    listed: Option<Vec<Attachment>>,
    next: &mut NodeState,
) -> Result<(BTreeMap<String, String>, usize)> {
    let id: conflux_types::PageId = node.id.clone().into();
    let mut list = match listed {
        Some(list) => list,
        None => {
            ctx.client
                .attachments()
                .all_of(&Owner::Page(id.clone()))
                .await?
        }
    };
    list.sort_by(|a, b| a.id.cmp(&b.id));
    let dir = attachments_dir(path);
    let files = unique_names(list.iter().map(|a| (a.id.as_str(), a.title.as_str())));
    let mut names = BTreeMap::new();
    let mut downloads = 0;
    for (a, file) in list.iter().zip(files) {
        let rel = format!("{dir}/{file}");
        let version = a.version.as_ref().map(|v| v.number).unwrap_or(1);
        let target = under(&ctx.root, &rel)?;
        let old = prev.and_then(|p| p.attachments.get(&a.id));
        let same_file = old.is_some_and(|o| o.version == version && o.size == a.file_size);
        let entry = match old {
            Some(o) if same_file && !ctx.full && o.path == rel && target.exists() => o.clone(),
            Some(o) if same_file && !ctx.full && under(&ctx.root, &o.path)?.exists() => {
                let from = under(&ctx.root, &o.path)?;
                if let Some(d) = target.parent() {
                    std::fs::create_dir_all(d).map_err(|e| SyncError::io(d, e))?;
                }
                std::fs::rename(&from, &target).map_err(|e| SyncError::io(&target, e))?;
                remove_and_prune(&ctx.root, &from)?;
                AttachmentState {
                    path: rel.clone(),
                    ..o.clone()
                }
            }
            _ => {
                let dl = ctx
                    .client
                    .attachments()
                    .download(id.clone(), &a.id, None)
                    .await?;
                let (to, bytes) = (target.clone(), dl.bytes.clone());
                off_thread(move || write_atomic(&to, &bytes)).await?;
                downloads += 1;
                AttachmentState {
                    name: a.title.clone(),
                    version,
                    size: a.file_size,
                    path: rel.clone(),
                    sha256: sha256(&dl.bytes),
                }
            }
        };
        names.insert(a.title.clone(), rel.clone());
        next.attachments.insert(a.id.clone(), entry);
    }
    if let Some(p) = prev {
        for a in p.attachments.values() {
            if !next.attachments.values().any(|n| n.path == a.path) {
                remove_and_prune(&ctx.root, &under(&ctx.root, &a.path)?)?;
            }
        }
    }
    Ok((names, downloads))
}

/// The converter's Markdown with links to the folder's pages and the page's attachments made
/// relative file links.
fn relink(ctx: &Ctx<'_>, from: &str, raw: &str, attachments: &BTreeMap<String, String>) -> String {
    links::rewrite(raw, |dest| {
        if let Some(link) = links::parse_page_link(dest) {
            if link
                .space
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case(&ctx.space_key))
            {
                return None;
            }
            let id = ctx.titles.get(&link.title)?;
            let to = ctx.tree.paths.get(id)?;
            let mut rel = links::relative(from, to);
            if let Some(a) = link.anchor {
                rel.push('#');
                rel.push_str(&a);
            }
            return Some(rel);
        }
        if let Some(name) = dest.strip_prefix(links::ATTACHMENT) {
            let to = attachments.get(&links::decode(name))?;
            return Some(links::relative(from, to));
        }
        None
    })
}

/// The file of a node that is no page: what it is, and where to open it.
fn stub_body(node: &Node) -> String {
    match node.kind.as_str() {
        "folder" => String::new(),
        "database" => format!(
            "A Confluence database ({}). Its rows have no public API, so they are not \
             exported; open it in Confluence.\n",
            node.title
        ),
        "whiteboard" => format!(
            "A Confluence whiteboard ({}). Whiteboards have no Markdown form; open it in \
             Confluence.\n",
            node.title
        ),
        other => format!(
            "A Confluence {other} ({}), which has no Markdown form; open it in Confluence.\n",
            node.title
        ),
    }
}
