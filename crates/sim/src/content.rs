//! The content service: what a caller may do to pages, folders, databases, comments, labels and
//! attachments, whichever dialect asked. The v1 and v2 handlers parse their own request shapes,
//! call these operations and render the answer in their own shapes; the rules (who may see and
//! change what, where a page may go, how versions count, what a delete removes) live here once.
//!
//! Every operation validates before it mutates, so a refused call leaves the state as it was.
//! Lookups end at the caller's [`Actor::checkpoint`]: with `scope_check_first` off, a token
//! without the operation's scope learns whether the content exists before it is refused.

use crate::http::{ApiErr, err, not_found};
use crate::state::{Attachment, Content, Kind, Property, State, Version, View, id_order};

/// Who acts, and the scope check that waits for the lookups (see `api`).
pub(crate) struct Actor {
    /// None: anonymous (site only).
    user: Option<String>,
    /// `Some(satisfied)` while a scope check waits for existence/permission checks.
    deferred: Option<bool>,
}

impl Actor {
    pub fn new(user: Option<String>, deferred: Option<bool>) -> Actor {
        Actor { user, deferred }
    }

    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The account id written as author (empty for anonymous).
    fn author(&self) -> String {
        self.user.clone().unwrap_or_default()
    }

    /// Runs a deferred scope check (with `scope_check_first` off, after lookups and permission
    /// checks, before body validation and mutation).
    pub fn checkpoint(&mut self) -> Result<(), ApiErr> {
        match self.deferred.take() {
            Some(false) => Err(ApiErr::ScopeMismatch),
            _ => Ok(()),
        }
    }
}

/// Pages and blog posts: what carries a body, comments, labels, attachments and properties.
pub(crate) const DOCUMENTS: &[Kind] = &[Kind::Page, Kind::BlogPost];

// ---------- lookups ----------

/// Visible content of one of `kinds` whose status is in `statuses`, else 404; then the deferred
/// scope check.
pub(crate) fn lookup<'s>(
    actor: &mut Actor,
    st: &'s State,
    id: &str,
    kinds: &[Kind],
    statuses: &[&str],
) -> Result<&'s Content, ApiErr> {
    match st.view(actor.user(), id) {
        View::Visible(c) if kinds.contains(&c.kind) && statuses.contains(&c.status.as_str()) => {
            actor.checkpoint()?;
            Ok(c)
        }
        _ => not_found(),
    }
}

/// Like [`lookup`] (any status but deleted), then 403 unless the caller may do `op` in the
/// content's space.
pub(crate) fn lookup_for<'s>(
    actor: &mut Actor,
    st: &'s State,
    id: &str,
    kinds: &[Kind],
    op: &str,
) -> Result<&'s Content, ApiErr> {
    let c = match st.view(actor.user(), id) {
        View::Visible(c) if kinds.contains(&c.kind) && c.status != "deleted" => c,
        _ => return not_found(),
    };
    if !st.can(actor.user(), &c.space_id, op) {
        return err(
            403,
            format!("You do not have permission to {op} content in this space."),
        );
    }
    if matches!(op, "write" | "delete" | "attach") && !st.may_edit(actor.user(), c) {
        return err(
            403,
            "The content is restricted: you are not among those who may edit it.",
        );
    }
    actor.checkpoint()?;
    Ok(c)
}

/// Checks a requested tree parent: visible, a page/folder/database of `space_id`.
pub(crate) fn check_parent(
    actor: &Actor,
    st: &State,
    parent: &str,
    space_id: &str,
) -> Result<(), ApiErr> {
    match st.visible(actor.user(), parent) {
        Some(p) if p.kind.is_tree_node() && p.status != "trashed" && p.space_id == space_id => {
            Ok(())
        }
        Some(p) if p.kind.is_tree_node() && p.space_id != space_id => {
            err(400, format!("The parent {parent} is in another space."))
        }
        _ => err(
            404,
            format!("The parent {parent} was not found or you cannot view it."),
        ),
    }
}

/// Checks a move of `id` below `parent`: a valid parent ([`check_parent`]), not `id` itself nor
/// one of its descendants.
pub(crate) fn check_move(
    actor: &Actor,
    st: &State,
    id: &str,
    parent: &str,
    space_id: &str,
) -> Result<(), ApiErr> {
    check_parent(actor, st, parent, space_id)?;
    if parent == id || st.ancestors(parent).iter().any(|a| a.id == id) {
        return err(400, "A page cannot be moved below itself.");
    }
    Ok(())
}

/// Where v1 `move` puts a page relative to its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MovePosition {
    /// Under the target's parent, just before the target.
    Before,
    /// Under the target's parent, just after the target.
    After,
    /// Under the target, last among its children.
    Append,
}

impl MovePosition {
    pub fn parse(s: &str) -> Option<MovePosition> {
        match s {
            "before" => Some(MovePosition::Before),
            "after" => Some(MovePosition::After),
            "append" => Some(MovePosition::Append),
            _ => None,
        }
    }
}

/// Moves page `id` (looked up for `write` beforehand) relative to page `target`, in any space
/// the caller may write to: the page takes its subtree along, and everything in it (comments
/// too) joins the target's space. Refused when the target is the page or one of its
/// descendants, or when a page of the moved subtree has the title of a page of another space
/// it moves into. No new version: a move changes no content.
pub(crate) fn move_page(
    actor: &Actor,
    st: &mut State,
    id: &str,
    position: MovePosition,
    target: &str,
) -> Result<(), ApiErr> {
    let Some(t) = st
        .visible(actor.user(), target)
        .filter(|t| t.kind == Kind::Page && t.status == "current")
    else {
        return err(
            404,
            format!("The target page {target} was not found or you cannot view it."),
        );
    };
    let (t_space, t_parent) = (t.space_id.clone(), t.parent_id.clone());
    let parent = match position {
        MovePosition::Append => Some(target.to_string()),
        MovePosition::Before | MovePosition::After => t_parent,
    };
    if target == id || st.ancestors(target).iter().any(|a| a.id == id) {
        return err(
            400,
            "A page cannot be moved relative to itself or below itself.",
        );
    }
    if !st.can(actor.user(), &t_space, "write") {
        return err(
            403,
            "You do not have permission to add pages in the target space.",
        );
    }
    let subtree = subtree_of(st, id);
    let from_space = st
        .content
        .get(id)
        .map(|c| c.space_id.clone())
        .unwrap_or_default();
    if from_space != t_space {
        for sid in &subtree {
            let title = st.content.get(sid).map(|c| c.title().to_string());
            if let Some(title) = title
                && title_taken(st, &t_space, &title, None)
            {
                return err(
                    400,
                    format!("A page with this title already exists in the target space: {title}"),
                );
            }
        }
    }
    // Siblings in the new order (the top level of the target's space when it has no parent).
    let mut siblings: Vec<&Content> = match &parent {
        Some(p) => st.children(p),
        None => st
            .content
            .values()
            .filter(|c| c.kind.is_tree_node() && c.parent_id.is_none() && c.space_id == t_space)
            .collect(),
    };
    siblings.sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then_with(|| id_order(&a.id, &b.id))
    });
    let mut siblings: Vec<String> = siblings
        .into_iter()
        .filter(|c| c.id != id)
        .map(|c| c.id.clone())
        .collect();
    let at = match position {
        MovePosition::Append => siblings.len(),
        MovePosition::Before | MovePosition::After => {
            let i = siblings
                .iter()
                .position(|s| s == target)
                .unwrap_or(siblings.len());
            if position == MovePosition::After {
                i + 1
            } else {
                i
            }
        }
    };
    siblings.insert(at.min(siblings.len()), id.to_string());
    for (i, sid) in siblings.iter().enumerate() {
        if let Some(c) = st.content.get_mut(sid) {
            c.position = i as i64;
        }
    }
    if let Some(c) = st.content.get_mut(id) {
        c.parent_id = parent;
    }
    if from_space != t_space {
        let moved: Vec<String> = st
            .content
            .values()
            .filter(|c| {
                subtree.contains(&c.id) || c.page_id.as_ref().is_some_and(|p| subtree.contains(p))
            })
            .map(|c| c.id.clone())
            .collect();
        for m in moved {
            if let Some(c) = st.content.get_mut(&m) {
                c.space_id = t_space.clone();
            }
        }
    }
    Ok(())
}

/// A tree node and every node below it (any status).
pub(crate) fn subtree_of(st: &State, id: &str) -> Vec<String> {
    below(st, id, |c| c.kind.is_tree_node())
}

/// Whether a current page of the space already has this title (`except`: the page itself).
pub(crate) fn title_taken(st: &State, space_id: &str, title: &str, except: Option<&str>) -> bool {
    st.content.values().any(|c| {
        c.kind == Kind::Page
            && c.space_id == space_id
            && c.status == "current"
            && c.title() == title
            && Some(c.id.as_str()) != except
    })
}

/// The optimistic-locking rule shared by v1 and v2: the new number must be current + 1.
pub(crate) fn version_conflict(current: u32, given: i64) -> Option<String> {
    (given != current as i64 + 1).then(|| {
        format!(
            "Version must be incremented on update. Current version is: {current}. You sent: {given}; send {}.",
            current + 1
        )
    })
}

// ---------- create, update, delete ----------

/// New content, as a create call describes it (checked by the dialect beforehand).
pub(crate) struct NewContent {
    pub kind: Kind,
    pub space_id: String,
    pub status: String,
    /// Tree parent, or parent comment of a reply.
    pub parent_id: Option<String>,
    /// Comments: the page they belong to.
    pub page_id: Option<String>,
    pub title: String,
    /// Storage format.
    pub body: String,
}

/// Adds content with a new id, as version 1 by the actor; a tree node goes last among its
/// siblings.
pub(crate) fn create(actor: &Actor, st: &mut State, new: NewContent) -> Content {
    let user = actor.author();
    let now = st.now_ms();
    let id = st.new_id();
    let position = if new.kind.is_tree_node() {
        st.children(new.parent_id.as_deref().unwrap_or("")).len() as i64
    } else {
        0
    };
    let c = Content {
        id: id.clone(),
        kind: new.kind,
        space_id: new.space_id,
        status: new.status,
        parent_id: new.parent_id,
        page_id: new.page_id,
        author: user.clone(),
        created_ms: now,
        versions: vec![Version {
            number: 1,
            title: new.title,
            body: saved_storage(st, new.body),
            message: String::new(),
            author: user,
            created_ms: now,
            minor_edit: false,
        }],
        labels: vec![],
        inline: None,
        read_restrictions: vec![],
        update_restrictions: vec![],
        views: vec![],
        properties: vec![],
        position,
    };
    st.content.insert(id, c.clone());
    c
}

/// A new version of a page (checked by the dialect beforehand: version number, title).
pub(crate) struct Revision {
    pub title: String,
    /// Storage format.
    pub body: String,
    pub message: String,
    pub minor_edit: bool,
    /// The page's status from now on; None: as it was.
    pub status: Option<String>,
    /// A move below another parent ([`check_move`] first); None: where it was.
    pub parent_id: Option<String>,
}

/// Adds the next version of `id`, by the actor, and applies the revision's status and move.
pub(crate) fn revise(
    actor: &Actor,
    st: &mut State,
    id: &str,
    rev: Revision,
) -> Result<Content, ApiErr> {
    let user = actor.author();
    let now = st.now_ms();
    let body = saved_storage(st, rev.body);
    let Some(c) = st.content.get_mut(id) else {
        return not_found();
    };
    c.versions.push(Version {
        number: c.version_number() + 1,
        title: rev.title,
        body,
        message: rev.message,
        author: user,
        created_ms: now,
        minor_edit: rev.minor_edit,
    });
    if let Some(status) = rev.status {
        c.status = status;
    }
    if rev.parent_id.is_some() {
        c.parent_id = rev.parent_id;
    }
    Ok(c.clone())
}

/// What a copy takes along besides title and body.
#[derive(Clone, Copy, Default)]
pub(crate) struct CopyWhat {
    pub attachments: bool,
    pub labels: bool,
    pub properties: bool,
    /// Read and edit restrictions.
    pub permissions: bool,
}

/// Where a copy goes and what it is called.
pub(crate) struct CopyTo {
    pub space_id: String,
    pub parent_id: Option<String>,
    pub title: String,
    /// Storage; None: the source's body.
    pub body: Option<String>,
}

/// A copy of page `source` as a new current page, version 1 by the actor (checked beforehand:
/// permissions, title).
pub(crate) fn copy_page(
    actor: &Actor,
    st: &mut State,
    source: &str,
    to: CopyTo,
    what: CopyWhat,
) -> Result<Content, ApiErr> {
    let Some(src) = st.content.get(source).cloned() else {
        return not_found();
    };
    let c = create(
        actor,
        st,
        NewContent {
            kind: Kind::Page,
            space_id: to.space_id,
            status: "current".into(),
            parent_id: to.parent_id,
            page_id: None,
            title: to.title,
            body: to.body.unwrap_or_else(|| src.current().body.clone()),
        },
    );
    copy_extras(actor, st, &src, &c.id, what);
    Ok(st.content.get(&c.id).cloned().unwrap_or(c))
}

/// Puts the source's labels, properties, restrictions and attachments (as `what` says) on
/// `target` (properties and attachments as new ones, version 1; a file name the target has
/// already is left alone).
pub(crate) fn copy_extras(
    actor: &Actor,
    st: &mut State,
    src: &Content,
    target: &str,
    what: CopyWhat,
) {
    let props: Vec<(String, serde_json::Value)> = if what.properties {
        src.properties
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect()
    } else {
        Vec::new()
    };
    for (key, value) in props {
        // A key the target has already stays as it is.
        let _ = add_property(actor, st, target, &key, value);
    }
    if what.labels {
        add_labels(st, target, src.labels.clone());
    }
    if what.permissions
        && let Some(t) = st.content.get_mut(target)
    {
        t.read_restrictions = src.read_restrictions.clone();
        t.update_restrictions = src.update_restrictions.clone();
    }
    if what.attachments {
        let files: Vec<Upload> = attachments_of(st, &src.id, None, None)
            .into_iter()
            .filter(|a| {
                !st.attachments
                    .values()
                    .any(|o| o.page_id == target && o.title == a.title && o.status == "current")
            })
            .map(|a| Upload {
                filename: a.title.clone(),
                media_type: a.media_type.clone(),
                bytes: a.bytes.clone(),
            })
            .collect();
        // No name clashes are left, so this cannot be refused.
        let _ = attach(actor, st, target, files, None, false);
    }
}

/// Deletes as Cloud does: moves to the trash, or (`purge`) removes a trashed item for good.
pub(crate) fn delete(
    actor: &mut Actor,
    st: &mut State,
    id: &str,
    kinds: &[Kind],
    purge: bool,
) -> Result<(), ApiErr> {
    let c = lookup_for(actor, st, id, kinds, "delete")?;
    match (c.status.as_str(), purge) {
        ("trashed", true) => remove(st, id),
        (_, true) => return err(400, "Only a trashed page can be purged: delete it first."),
        ("trashed", false) => return not_found(),
        _ => {
            if let Some(c) = st.content.get_mut(id) {
                c.status = "trashed".into();
            }
        }
    }
    Ok(())
}

/// Removes content for good, with its attachments and comments.
pub(crate) fn remove(st: &mut State, id: &str) {
    st.content.remove(id);
    st.attachments.retain(|_, a| a.page_id != id);
    st.content.retain(|_, x| x.page_id.as_deref() != Some(id));
}

// ---------- comments ----------

/// Removes a comment for good, with the replies under it.
pub(crate) fn remove_thread(st: &mut State, id: &str) {
    for d in below(st, id, |_| true) {
        st.content.remove(&d);
    }
}

/// `id` and everything below it by `parent_id` that `keep` accepts, level by level (no
/// recursion).
fn below(st: &State, id: &str, keep: impl Fn(&Content) -> bool) -> Vec<String> {
    let mut out = vec![id.to_string()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        out.extend(
            st.content
                .values()
                .filter(|c| c.parent_id.as_deref() == Some(parent.as_str()) && keep(c))
                .map(|c| c.id.clone()),
        );
        i += 1;
    }
    out
}

/// What an inline comment highlights: the `match_index`-th (0-based) of the `match_count`
/// occurrences of `text` in the page's text.
pub(crate) struct Selection {
    pub text: String,
    pub match_count: Option<i64>,
    pub match_index: Option<i64>,
}

/// Where `text` occurs in the text of storage markup (never inside a tag), as byte offsets of
/// its escaped form, without overlaps.
fn text_matches(storage: &str, text: &str) -> Vec<usize> {
    let needle = escape_text(text);
    let mut out = Vec::new();
    if needle.is_empty() {
        return out;
    }
    let mut segment_start = Some(0);
    for (i, ch) in storage.char_indices() {
        match ch {
            '<' => {
                if let Some(a) = segment_start.take() {
                    find_all(&storage[a..i], &needle, a, &mut out);
                }
            }
            '>' => segment_start = Some(i + 1),
            _ => {}
        }
    }
    if let Some(a) = segment_start {
        find_all(&storage[a..], &needle, a, &mut out);
    }
    out
}

/// Text as storage markup writes it.
fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn find_all(hay: &str, needle: &str, offset: usize, out: &mut Vec<usize>) {
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        out.push(offset + from + i);
        from += i + needle.len();
    }
}

/// Wraps the selected occurrence in the current version of `page` in an inline-comment
/// marker, as Cloud does (no new version), and answers the marker's ref. Refused (400) when
/// the text does not occur, when `match_count` is not the number of occurrences, or when
/// `match_index` is not below it.
pub(crate) fn mark_selection(
    st: &mut State,
    page: &str,
    sel: &Selection,
) -> Result<String, ApiErr> {
    let Some(body) = st.content.get(page).map(|c| c.current().body.clone()) else {
        return not_found();
    };
    let found = text_matches(&body, &sel.text);
    if found.is_empty() {
        return err(
            400,
            format!(
                "The text selection {:?} does not occur in the page.",
                sel.text
            ),
        );
    }
    let count = found.len() as i64;
    if let Some(given) = sel.match_count
        && given != count
    {
        return err(
            400,
            format!(
                "textSelectionMatchCount is {given}, but the text selection occurs {count} times."
            ),
        );
    }
    let index = sel.match_index.unwrap_or(0);
    if index < 0 || index >= count {
        return err(
            400,
            format!(
                "textSelectionMatchIndex must be 0 to {} (it is {index}).",
                count - 1
            ),
        );
    }
    let at = found[index as usize];
    let end = at + escape_text(&sel.text).len();
    let marker = uuid::Builder::from_random_bytes(rand::Rng::random(&mut st.rng))
        .into_uuid()
        .to_string();
    let marked = format!(
        "{}<ac:inline-comment-marker ac:ref=\"{marker}\">{}</ac:inline-comment-marker>{}",
        &body[..at],
        &body[at..end],
        &body[end..]
    );
    if let Some(v) = st.content.get_mut(page).and_then(|c| c.versions.last_mut()) {
        v.body = marked;
    }
    Ok(marker)
}

/// Current comments of one kind: top-level ones of `page`, or (`parent`) the replies to a
/// comment; oldest first.
pub(crate) fn comments_of(
    st: &State,
    page: &str,
    kind: Kind,
    parent: Option<&str>,
) -> Vec<Content> {
    let mut out: Vec<Content> = st
        .content
        .values()
        .filter(|c| c.kind == kind && c.status == "current")
        .filter(|c| match parent {
            Some(p) => c.parent_id.as_deref() == Some(p),
            None => c.page_id.as_deref() == Some(page) && c.parent_id.is_none(),
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        a.created_ms
            .cmp(&b.created_ms)
            .then_with(|| id_order(&a.id, &b.id))
    });
    out
}

/// Every current comment (any kind, replies too) on any of `pages`, by id.
pub(crate) fn comments_on<'s>(st: &'s State, pages: &[&str]) -> Vec<&'s Content> {
    let mut cs: Vec<&Content> = st
        .content
        .values()
        .filter(|c| {
            c.page_id.as_deref().is_some_and(|p| pages.contains(&p)) && c.status == "current"
        })
        .collect();
    cs.sort_by(|a, b| id_order(&a.id, &b.id));
    cs
}

// ---------- properties ----------

/// The longest property key Cloud takes.
const MAX_PROPERTY_KEY: usize = 255;

/// Adds property `key` to `doc` (looked up for `write` beforehand); a second property of the
/// same key is refused.
pub(crate) fn add_property(
    actor: &Actor,
    st: &mut State,
    doc: &str,
    key: &str,
    value: serde_json::Value,
) -> Result<Property, ApiErr> {
    if key.trim().is_empty() || key.len() > MAX_PROPERTY_KEY {
        return err(400, "The property key must be 1 to 255 characters.");
    }
    if property(st, doc, |p| p.key == key).is_some() {
        return err(
            400,
            format!("The content already has a property with the key {key:?}."),
        );
    }
    let p = Property {
        id: st.new_id(),
        key: key.to_string(),
        value,
        version: 1,
        message: String::new(),
        author: actor.author(),
        modified_ms: st.now_ms(),
    };
    if let Some(c) = st.content.get_mut(doc) {
        c.properties.push(p.clone());
    }
    Ok(p)
}

/// A property of `doc` that `which` picks.
pub(crate) fn property(
    st: &State,
    doc: &str,
    which: impl Fn(&Property) -> bool,
) -> Option<Property> {
    st.content
        .get(doc)
        .and_then(|c| c.properties.iter().find(|p| which(p)).cloned())
}

/// A new value (and, when given, key) of property `id` of `doc`: `version` must be the
/// current one + 1, else `conflict_status`.
pub(crate) fn revise_property(
    actor: &Actor,
    st: &mut State,
    doc: &str,
    id: &str,
    change: PropertyChange,
    conflict_status: u16,
) -> Result<Property, ApiErr> {
    let Some(current) = property(st, doc, |p| p.id == id) else {
        return err(404, format!("No property {id} on content {doc}."));
    };
    if let Some(msg) = version_conflict(current.version, change.version) {
        return err(conflict_status, msg);
    }
    let key = change.key.unwrap_or(current.key);
    if key.trim().is_empty() || key.len() > MAX_PROPERTY_KEY {
        return err(400, "The property key must be 1 to 255 characters.");
    }
    if property(st, doc, |p| p.key == key && p.id != id).is_some() {
        return err(
            400,
            format!("The content already has a property with the key {key:?}."),
        );
    }
    let (author, now) = (actor.author(), st.now_ms());
    let Some(p) = st
        .content
        .get_mut(doc)
        .and_then(|c| c.properties.iter_mut().find(|p| p.id == id))
    else {
        return not_found();
    };
    p.key = key;
    p.value = change.value;
    p.version += 1;
    p.message = change.message;
    p.author = author;
    p.modified_ms = now;
    Ok(p.clone())
}

/// What an update sends.
pub(crate) struct PropertyChange {
    pub key: Option<String>,
    pub value: serde_json::Value,
    pub version: i64,
    pub message: String,
}

/// Deletes property `id` of `doc`; false when it has none.
pub(crate) fn remove_property(st: &mut State, doc: &str, id: &str) -> bool {
    let Some(c) = st.content.get_mut(doc) else {
        return false;
    };
    let before = c.properties.len();
    c.properties.retain(|p| p.id != id);
    c.properties.len() != before
}

// ---------- labels ----------

/// A label name Cloud accepts: no white space, none of `!#&()*,.:;<>?@[]^`, at most 255 bytes.
pub(crate) fn valid_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name
            .chars()
            .any(|c| c.is_whitespace() || "!#&()*,.:;<>?@[]^".contains(c))
}

/// Adds labels (lower-cased by the caller) to content; a label it has already stays once.
/// Answers the content's labels.
pub(crate) fn add_labels(st: &mut State, id: &str, names: Vec<String>) -> Vec<String> {
    for n in &names {
        st.label_id(n);
    }
    if let Some(c) = st.content.get_mut(id) {
        for n in names {
            if !c.labels.contains(&n) {
                c.labels.push(n);
            }
        }
    }
    st.content
        .get(id)
        .map(|c| c.labels.clone())
        .unwrap_or_default()
}

/// Takes a label off content.
pub(crate) fn remove_label(
    actor: &mut Actor,
    st: &mut State,
    id: &str,
    name: &str,
) -> Result<(), ApiErr> {
    let c = lookup_for(actor, st, id, DOCUMENTS, "write")?;
    if !c.labels.iter().any(|l| l == name) {
        return err(404, format!("Label {name:?} is not on content {id}."));
    }
    if let Some(c) = st.content.get_mut(id) {
        c.labels.retain(|l| l != name);
    }
    Ok(())
}

// ---------- attachments ----------

/// The current attachments of a page, by id, optionally of one file name or media type.
pub(crate) fn attachments_of<'s>(
    st: &'s State,
    page: &str,
    filename: Option<&str>,
    media: Option<&str>,
) -> Vec<&'s Attachment> {
    let mut atts: Vec<&Attachment> = st
        .attachments
        .values()
        .filter(|a| a.page_id == page && a.status == "current")
        .filter(|a| filename.is_none_or(|f| a.title == f))
        .filter(|a| media.is_none_or(|m| a.media_type == m))
        .collect();
    atts.sort_by(|a, b| id_order(&a.id, &b.id));
    atts
}

/// One uploaded file.
pub(crate) struct Upload {
    pub filename: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Attaches files to a page or blog post (looked up for `attach` beforehand). A file whose
/// name a current attachment of the page already has is refused (the whole call), or, with
/// `update_existing`, becomes that attachment's next version.
pub(crate) fn attach(
    actor: &Actor,
    st: &mut State,
    page: &str,
    files: Vec<Upload>,
    comment: Option<String>,
    update_existing: bool,
) -> Result<Vec<Attachment>, ApiErr> {
    let existing = |st: &State, name: &str| {
        st.attachments
            .values()
            .find(|a| a.page_id == page && a.title == name && a.status == "current")
            .map(|a| a.id.clone())
    };
    if !update_existing && let Some(f) = files.iter().find(|f| existing(st, &f.filename).is_some())
    {
        return err(
            400,
            format!(
                "Cannot add a new attachment with same file name as an existing attachment: {}",
                f.filename
            ),
        );
    }
    let mut out = Vec::new();
    for f in files {
        let a = match existing(st, &f.filename) {
            Some(id) => new_attachment_version(actor, st, &id, f, comment.clone())?,
            None => {
                let user = actor.author();
                let now = st.now_ms();
                let att_id = format!("att{}", st.new_id());
                let file_id = uuid::Builder::from_random_bytes(rand::Rng::random(&mut st.rng))
                    .into_uuid()
                    .to_string();
                let a = Attachment {
                    id: att_id.clone(),
                    page_id: page.to_string(),
                    title: f.filename,
                    media_type: f.media_type,
                    comment: comment.clone().unwrap_or_default(),
                    bytes: f.bytes,
                    version: 1,
                    author: user,
                    created_ms: now,
                    modified_ms: now,
                    file_id,
                    status: "current".into(),
                };
                st.attachments.insert(att_id, a.clone());
                a
            }
        };
        out.push(a);
    }
    Ok(out)
}

/// The next version of attachment `id`: new bytes, media type, comment (kept when None) and
/// file name (refused, 400, when another current attachment of the page has it).
pub(crate) fn new_attachment_version(
    actor: &Actor,
    st: &mut State,
    id: &str,
    file: Upload,
    comment: Option<String>,
) -> Result<Attachment, ApiErr> {
    let Some(a) = st.attachments.get(id).filter(|a| a.status == "current") else {
        return err(404, format!("No attachment with id {id}."));
    };
    let page = a.page_id.clone();
    if st.attachments.values().any(|o| {
        o.id != id && o.page_id == page && o.title == file.filename && o.status == "current"
    }) {
        return err(
            400,
            format!(
                "Another attachment of the content is named {}.",
                file.filename
            ),
        );
    }
    let (user, now) = (actor.author(), st.now_ms());
    let Some(a) = st.attachments.get_mut(id) else {
        return not_found();
    };
    a.title = file.filename;
    a.media_type = file.media_type;
    a.bytes = file.bytes;
    if let Some(c) = comment {
        a.comment = c;
    }
    a.version += 1;
    a.author = user;
    a.modified_ms = now;
    Ok(a.clone())
}

/// The storage Confluence keeps for what was sent: verbatim, or, with `rewrite_storage` on,
/// rewritten as Cloud does on save (void tags self-closed, a line break between adjacent
/// tags), so that a body read back is not byte-equal to the one sent.
pub(crate) fn saved_storage(st: &State, body: String) -> String {
    if !st.behaviour.rewrite_storage {
        return body;
    }
    body.replace("<br>", "<br />")
        .replace("<br/>", "<br />")
        .replace("<hr>", "<hr />")
        .replace("<hr/>", "<hr />")
        .replace("><", ">\n<")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_rule() {
        assert!(version_conflict(3, 4).is_none());
        let msg = version_conflict(3, 3).unwrap();
        assert!(msg.contains("Current version is: 3"), "{msg}");
        assert!(version_conflict(3, 5).is_some());
    }

    #[test]
    fn selections_are_found_in_text_only() {
        let body = "<p>a &amp; b</p><p title=\"a &amp; b\">a &amp; b, a &amp; b</p>";
        assert_eq!(text_matches(body, "a & b").len(), 3);
        assert!(text_matches(body, "p>").is_empty());
        assert!(text_matches(body, "").is_empty());
    }

    #[test]
    fn label_names() {
        assert!(valid_label("release-notes"));
        assert!(!valid_label("two words"));
        assert!(!valid_label(""));
    }
}
