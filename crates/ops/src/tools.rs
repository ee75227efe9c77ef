//! One method per tool; each matches on its typed action ([`crate::args`]).

use base64::Engine;
use conflux_client::PageRequest;
use conflux_client::api::{
    BlogPostList, BlogPostUpdate, BodyFormat, ContentOperation, CopyDestination, CopyOptions,
    Excerpt, HierarchyCopyOptions, MovePosition, NewAttachment, NewBlogPost, NewPage, Owner,
    PageList, PageUpdate, PermissionSubject, RestrictionOperation, RestrictionUpdate, SearchParams,
    TextSelection,
};
use conflux_client::models;

use conflux_types::{BlogPostId, PageId, SpaceKey, SpaceRef};

use crate::args::{self as a, Excerpt as ExcerptArg};
use crate::model::*;
use crate::sections;
use crate::{OpError, Ops, Result};

/// A body format as callers name it: Markdown (converted here) or one Confluence returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Markdown,
    Api(BodyFormat),
}

impl Fmt {
    fn of(f: Option<a::BodyFormat>) -> Fmt {
        match f {
            None | Some(a::BodyFormat::Markdown) => Fmt::Markdown,
            Some(a::BodyFormat::Storage) => Fmt::Api(BodyFormat::Storage),
            Some(a::BodyFormat::AtlasDocFormat) => Fmt::Api(BodyFormat::AtlasDocFormat),
            Some(a::BodyFormat::View) => Fmt::Api(BodyFormat::View),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Fmt::Markdown => "markdown",
            Fmt::Api(f) => f.as_str(),
        }
    }
    fn fetch(self) -> BodyFormat {
        match self {
            Fmt::Markdown => BodyFormat::Storage,
            Fmt::Api(f) => f,
        }
    }
    /// The body as the caller asked for it, from what Confluence returned in `fetch()`.
    fn render(self, fetched: String) -> Result<String> {
        match self {
            Fmt::Markdown => conflux_convert::storage_to_markdown(&fetched)
                .map(|o| o.output)
                .map_err(|e| {
                    OpError::invalid(
                        format!("this body cannot be shown as Markdown: {e}"),
                        "read it with bodyFormat storage",
                    )
                }),
            Fmt::Api(_) => Ok(fetched),
        }
    }
    /// A body the caller sent, as storage, with what the Markdown conversion noticed that
    /// loses nothing but may not be what the caller meant (an unclosed tag or directive).
    fn to_storage(self, text: String) -> Result<(String, Vec<String>)> {
        match self {
            Fmt::Markdown => {
                let converted = conflux_convert::markdown_to_storage(&text).map_err(|e| {
                    OpError::invalid(
                        format!("the Markdown body cannot be converted: {e}"),
                        format!(
                            "nest lists, quotes and panels at most {} levels deep, or send \
                             the body as storage (bodyFormat storage)",
                            conflux_convert::MAX_DEPTH
                        ),
                    )
                })?;
                // A write loses nothing: a body the conversion would leave part of is refused.
                if let Some(w) = converted.left_out.first() {
                    return Err(OpError::invalid(
                        format!("the Markdown body would lose part of it: line {w}"),
                        "name a directive's attributes as XML names (a letter first, then \
                         letters, digits, `-`, `_`, `.`), or send the body as storage \
                         (bodyFormat storage)",
                    ));
                }
                let warnings = converted
                    .warnings
                    .iter()
                    .map(|w| format!("the Markdown body, line {w}"))
                    .collect();
                Ok((converted.output, warnings))
            }
            Fmt::Api(BodyFormat::Storage) => Ok((text, Vec::new())),
            Fmt::Api(f) => Err(OpError::invalid(
                format!(
                    "bodies can be written as markdown or storage, not {}",
                    f.as_str()
                ),
                "pass bodyFormat markdown (default) or storage",
            )),
        }
    }
    /// As [`Fmt::to_storage`], for a body a write may leave as it is (`None`).
    fn to_storage_if(self, text: Option<String>) -> Result<(Option<String>, Vec<String>)> {
        match text {
            Some(t) => self.to_storage(t).map(|(b, w)| (Some(b), w)),
            None => Ok((None, Vec::new())),
        }
    }
}

fn body_of(page: &models::Page, format: BodyFormat) -> String {
    let b = page.body.as_ref();
    let v = match format {
        BodyFormat::Storage => b.and_then(|b| b.storage.as_ref()),
        BodyFormat::AtlasDocFormat => b.and_then(|b| b.atlas_doc_format.as_ref()),
        BodyFormat::View => b.and_then(|b| b.view.as_ref()),
    };
    v.or_else(|| b.and_then(|b| b.any()))
        .map(|v| v.value.clone())
        .unwrap_or_default()
}

/// Search's highlight markers (`@@@hl@@@term@@@endhl@@@`) as Markdown bold, which a reader
/// (or a model) takes for what it is.
fn unhighlight(s: &str) -> String {
    s.replace("@@@hl@@@", "**").replace("@@@endhl@@@", "**")
}

/// A result's `url`, relative to the site's `/wiki` base, made absolute (as Confluence gives
/// `_links.base`); left as is when there is no base or it is absolute already.
fn absolute(base: Option<&str>, url: &str) -> String {
    match base {
        Some(base) if url.starts_with('/') => format!("{}{url}", base.trim_end_matches('/')),
        _ => url.to_string(),
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn cap(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

/// Levels of replies read under a root comment in one call.
const MAX_REPLY_DEPTH: usize = 8;
/// Comment-children lookups one listing may make (one per comment that may have replies).
const MAX_REPLY_LOOKUPS: usize = 100;
/// Replies read per comment; more are flagged `moreReplies`.
const REPLIES_PER_COMMENT: u32 = 100;

/// The answer to a lookup made only to enrich a result: a refusal (scope, permission, gone)
/// is no answer, anything else (an outage, a rate limit) is still the call's error.
fn courtesy<T>(r: std::result::Result<T, conflux_client::ClientError>) -> Result<Option<T>> {
    use conflux_client::ErrorKind as K;
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e)
            if matches!(
                e.kind(),
                K::MissingScopes | K::Forbidden | K::NotFound | K::Gone
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

impl Ops {
    fn paging(&self, limit: Option<u32>, cursor: Option<String>) -> Result<PageRequest> {
        if limit == Some(0) {
            return Err(OpError::invalid(
                "`limit` must be at least 1",
                "pass a limit between 1 and 250",
            ));
        }
        Ok(PageRequest {
            limit: Some(limit.unwrap_or(self.config.default_limit).min(250)),
            cursor,
        })
    }

    /// Nodes with their titles: v2's ancestors are bare `{id, type}`, so the pages among them
    /// are read in one list call, and the rest (folders, databases) one by one. Titles are a
    /// courtesy: a credential that may read the ancestors but not the pages, folders or
    /// databases themselves (a different scope each) still gets the ids, with empty titles.
    async fn titled(&self, refs: Vec<models::ContentRef>) -> Result<Vec<NodeItem>> {
        let untitled_pages: Vec<String> = refs
            .iter()
            .filter(|r| r.title.is_empty() && r.content_type == "page")
            .map(|r| r.id.clone())
            .take(250)
            .collect();
        let mut titles = std::collections::HashMap::new();
        if !untitled_pages.is_empty() {
            let filter = PageList {
                ids: untitled_pages,
                ..PageList::default()
            };
            let found = self
                .client
                .pages()
                .list(&filter, &PageRequest::limit(250))
                .await;
            for p in courtesy(found)?.map(|f| f.results).unwrap_or_default() {
                titles.insert(p.id.clone(), p.title.clone());
            }
        }
        let mut items = Vec::with_capacity(refs.len());
        for mut r in refs {
            if r.title.is_empty() {
                if let Some(t) = titles.remove(&r.id) {
                    r.title = t;
                } else if r.content_type == "folder" {
                    let folder = courtesy(self.client.folders().get(&r.id).await)?;
                    r.title = folder.map(|f| f.title).unwrap_or_default();
                } else if r.content_type == "database" {
                    let db = courtesy(self.client.databases().get(&r.id).await)?;
                    r.title = db.map(|d| d.title).unwrap_or_default();
                }
            }
            items.push(NodeItem::from(r));
        }
        Ok(items)
    }

    /// Root comments with their replies under them, each level read with the comment-children
    /// endpoint (the page's comment lists give roots only), bodies rendered in `format`.
    /// Bounded: at most [`MAX_REPLY_LOOKUPS`] lookups and [`MAX_REPLY_DEPTH`] levels per call;
    /// a comment whose replies were not all read says so (`moreReplies`).
    async fn threads(
        &self,
        roots: Vec<CommentItem>,
        inline: bool,
        format: Fmt,
    ) -> Result<Vec<CommentItem>> {
        use futures::StreamExt as _;
        let fetch = Some(format.fetch());
        let mut levels: Vec<Vec<CommentItem>> = vec![roots];
        let mut lookups = 0;
        while levels.len() <= MAX_REPLY_DEPTH {
            let Some(level) = levels.last_mut() else {
                break;
            };
            let budget = MAX_REPLY_LOOKUPS.saturating_sub(lookups).min(level.len());
            for unread in &mut level[budget..] {
                unread.more_replies = true;
            }
            if budget == 0 {
                break;
            }
            lookups += budget;
            let ids: Vec<String> = level[..budget].iter().map(|c| c.id.clone()).collect();
            let answers: Vec<_> = futures::stream::iter(ids)
                .map(|id| async move {
                    let comments = self.client.comments();
                    let req = PageRequest::limit(REPLIES_PER_COMMENT);
                    let page = if inline {
                        comments.inline_replies(&id, fetch, &req).await
                    } else {
                        comments.replies(&id, fetch, &req).await
                    };
                    (id, page)
                })
                .buffered(4)
                .collect()
                .await;
            let mut next = Vec::new();
            for (id, page) in answers {
                let page = page?;
                if page.next_cursor.is_some()
                    && let Some(parent) = level.iter_mut().find(|c| c.id == id)
                {
                    parent.more_replies = true;
                }
                next.extend(page.results.into_iter().map(|c| {
                    let mut reply = CommentItem::from(c);
                    reply.parent_comment_id.get_or_insert_with(|| id.clone());
                    reply
                }));
            }
            if next.is_empty() {
                break;
            }
            levels.push(next);
        }
        if levels.len() > MAX_REPLY_DEPTH
            && let Some(deepest) = levels.last_mut()
        {
            for c in deepest {
                c.more_replies = true;
            }
        }
        // Render, then fold each level into the one above it, deepest first (no recursion).
        for level in &mut levels {
            for c in level.iter_mut() {
                c.body = match c.body.take() {
                    Some(b) => Some(self.named(format, format.render(b)?).await),
                    None => None,
                };
            }
        }
        while levels.len() > 1 {
            let Some(children) = levels.pop() else { break };
            let Some(parents) = levels.last_mut() else {
                break;
            };
            for child in children {
                let parent = child
                    .parent_comment_id
                    .as_deref()
                    .and_then(|p| parents.iter_mut().find(|c| c.id == p));
                if let Some(parent) = parent {
                    parent.replies.push(child);
                }
            }
        }
        Ok(levels.pop().unwrap_or_default())
    }

    /// The space `id` or `key` names (either may hold a key or an id), remembered for the
    /// space lists.
    async fn named_space(
        &self,
        id: Option<&SpaceRef>,
        key: Option<&SpaceKey>,
        action: &str,
    ) -> Result<models::Space> {
        let name = id
            .map(SpaceRef::as_str)
            .or(key.map(SpaceKey::as_str))
            .ok_or_else(|| {
                OpError::invalid(
                    format!("`id` or `key` is required for action `{action}`"),
                    "pass the space id (digits) or key (e.g. ENG)",
                )
            })?;
        let s = self.client.spaces().get_by_key_or_id(name).await?;
        self.remember_space(&s.id, &s.key);
        Ok(s)
    }

    /// The page `id` names, or the one page titled `title` in space `space`.
    async fn page_id_of(
        &self,
        id: Option<PageId>,
        title: Option<&String>,
        space: Option<&SpaceRef>,
    ) -> Result<PageId> {
        if let Some(id) = id {
            return Ok(id);
        }
        let (Some(title), Some(space)) = (title, space) else {
            return Err(OpError::invalid(
                "`id` is required for action `get`, or `title` and `spaceId`",
                "pass the page id, or `title` and `spaceId` to find it by title",
            ));
        };
        let filter = PageList {
            space_id: Some(self.space_id_of(space.as_str()).await?),
            title: Some(title.clone()),
            ..PageList::default()
        };
        let found = self
            .client
            .pages()
            .list(&filter, &PageRequest::limit(2))
            .await?;
        match found.results.as_slice() {
            [one] => Ok(one.id.as_str().into()),
            [] => Err(OpError::from(conflux_client::ClientError::NotFound {
                operation: conflux_catalog::Operation::GetPages,
                message: format!("no current page titled `{title}` in space {space}"),
            })),
            _ => Err(OpError::invalid(
                format!("more than one page is titled `{title}` in space {space}"),
                "pass the page id instead (from list or search)",
            )),
        }
    }

    /// The files root, or the policy error saying how to allow local files.
    fn files_root(&self, param: &str) -> Result<&crate::FilesRoot> {
        self.config.files_root.as_ref().ok_or_else(|| {
            OpError::policy(
                format!(
                    "`{param}` names a local file, and this server reads and writes no local \
                     files"
                ),
                format!(
                    "{}; over HTTP local files are never used: pass the content inline",
                    crate::files::ENABLE_FILES_HINT
                ),
            )
        })
    }

    async fn read_text(
        &self,
        inline: Option<String>,
        file: Option<String>,
        param: &str,
    ) -> Result<Option<String>> {
        match (inline, file) {
            (Some(_), Some(_)) => Err(OpError::invalid(
                format!("give either `{param}` or `{param}File`, not both"),
                "drop one of them",
            )),
            (Some(b), None) => Ok(Some(b)),
            (None, Some(path)) => {
                let param = format!("{param}File");
                self.files_root(&param)?
                    .read_text(&param, &path)
                    .await
                    .map(Some)
            }
            (None, None) => Ok(None),
        }
    }

    async fn write_file(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.files_root("outputFile")?
            .write("outputFile", path, bytes.to_vec())
            .await
    }

    async fn body_out(
        &self,
        format: &str,
        text: &str,
        max: Option<usize>,
        file: Option<String>,
    ) -> Result<BodyOut> {
        if let Some(path) = file {
            self.write_file(&path, text.as_bytes()).await?;
            return Ok(BodyOut {
                format: format.into(),
                value: None,
                size: text.len(),
                truncated: false,
                file: Some(path),
            });
        }
        let (v, truncated) = cap(text, max.unwrap_or(self.config.max_body_bytes));
        Ok(BodyOut {
            format: format.into(),
            value: Some(v.to_string()),
            size: text.len(),
            truncated,
            file: None,
        })
    }

    async fn page_with_body(&self, id: &str) -> Result<models::Page> {
        let page = self
            .client
            .pages()
            .get(id.to_string().into(), Some(BodyFormat::Storage))
            .await?;
        Ok(page)
    }

    /// The parent a page is moved under: a page or folder of the page's own space (Confluence
    /// moves no page across spaces with an update), and a space the guardrails let us write.
    async fn check_new_parent(&self, page: &models::Page, parent: &str) -> Result<()> {
        if parent == page.id {
            return Err(OpError::invalid(
                "a page cannot be its own parent",
                "pass the id of another page or folder as `parentId`",
            ));
        }
        let space = match self
            .client
            .pages()
            .get(parent.to_string().into(), None)
            .await
        {
            Ok(p) => p.space_id,
            Err(e) if e.kind() == conflux_client::ErrorKind::NotFound => {
                let folder = self.client.folders().get(parent).await.map_err(|_| {
                    OpError::invalid(
                        format!(
                            "`parentId` {parent} is neither a page nor a folder this account \
                             can see"
                        ),
                        "pass the id of a page or folder in the page's space",
                    )
                })?;
                match &folder.space_id {
                    Some(space) => space.clone(),
                    None if self.needs_space_check(true) => self.container_space(&folder).await?,
                    // Confluence checks the space itself; nothing here depends on it.
                    None => return Ok(()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        if space != page.space_id {
            return Err(OpError::invalid(
                format!(
                    "`parentId` {parent} is in another space ({space}) than the page ({}): \
                     Confluence moves pages across spaces only through a move",
                    page.space_id
                ),
                "pick a parent in the page's own space",
            ));
        }
        Ok(())
    }

    /// Publishes `body` as the page's next version; `version` defaults to current + 1.
    async fn publish(
        &self,
        page: &models::Page,
        title: Option<&str>,
        body: String,
        version: Option<u64>,
        message: Option<String>,
    ) -> Result<models::Page> {
        self.publish_under(page, title, body, version, message, None)
            .await
    }

    /// [`Self::publish`], moving the page under `parent` (in its space) at the same time.
    async fn publish_under(
        &self,
        page: &models::Page,
        title: Option<&str>,
        body: String,
        version: Option<u64>,
        message: Option<String>,
        parent: Option<String>,
    ) -> Result<models::Page> {
        let current = page.version.as_ref().map(|v| v.number).unwrap_or(1);
        let update = PageUpdate {
            title: title.unwrap_or(&page.title).to_string(),
            body,
            version: version.unwrap_or(current + 1),
            message,
            status: None,
            parent_id: parent,
        };
        Ok(self
            .client
            .pages()
            .update(page.id.clone().into(), &update)
            .await?)
    }

    pub(crate) async fn pages(&self, action: &'static str, args: a::Pages) -> Result<Output> {
        use a::Pages as P;
        let data = match args {
            P::List {
                space_id,
                title,
                status,
                limit,
                cursor,
            } => {
                let space_id = match &space_id {
                    Some(s) => Some(self.space_id_of(s.as_str()).await?),
                    None => None,
                };
                let filter = PageList {
                    space_id,
                    title,
                    status,
                    body_format: None,
                    ids: Vec::new(),
                };
                let page = self
                    .client
                    .pages()
                    .list(&filter, &self.paging(limit, cursor)?)
                    .await?;
                let mut items = Vec::new();
                for p in &page.results {
                    if self.visible(&p.space_id).await {
                        items.push(PageItem::from(p));
                    }
                }
                Data::PageList(Listing::new(items, page.next_cursor))
            }
            // `get` with a `bodyFormat` asks for the body too: it answers as `getBody` does.
            P::Get {
                id,
                title,
                space_id,
                body_format: None,
                max_bytes: None,
                output_file: None,
            } => {
                let id = self
                    .page_id_of(id, title.as_ref(), space_id.as_ref())
                    .await?;
                let page = self.client.pages().get(id, None).await?;
                Data::Page {
                    page: PageItem::from(&page),
                }
            }
            P::Get {
                id,
                title,
                space_id,
                body_format,
                max_bytes,
                output_file,
            } => {
                let id = self
                    .page_id_of(id, title.as_ref(), space_id.as_ref())
                    .await?;
                self.page_body(id, Fmt::of(body_format), max_bytes, output_file)
                    .await?
            }
            P::GetBody {
                id,
                body_format,
                max_bytes,
                output_file,
            } => {
                self.page_body(id, Fmt::of(body_format), max_bytes, output_file)
                    .await?
            }
            P::Outline { id } => {
                let page = self.page_with_body(id.as_str()).await?;
                let text = body_of(&page, BodyFormat::Storage);
                let secs = sections::sections(&text);
                let sections = secs
                    .iter()
                    .map(|s| SectionInfo {
                        id: s.id.clone(),
                        title: s.title.clone(),
                        level: s.level,
                        size: s.end - s.start,
                        parent_id: s.parent.map(|p| secs[p].id.clone()),
                    })
                    .collect();
                Data::Outline {
                    page: PageItem::from(&page),
                    sections,
                }
            }
            P::GetSection {
                id,
                section_id,
                heading,
                body_format,
                max_bytes,
                output_file,
            } => {
                let key = section_key(section_id, heading, action)?;
                let format = Fmt::of(body_format);
                if !matches!(format, Fmt::Markdown | Fmt::Api(BodyFormat::Storage)) {
                    return Err(OpError::invalid(
                        "sections are read as markdown or storage",
                        "pass bodyFormat markdown (default) or storage",
                    ));
                }
                let page = self.page_with_body(id.as_str()).await?;
                let text = body_of(&page, BodyFormat::Storage);
                let secs = sections::sections(&text);
                let s = sections::find(&secs, &key).ok_or_else(|| no_section(&key, &secs))?;
                let info = SectionInfo {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    level: s.level,
                    size: s.end - s.start,
                    parent_id: s.parent.map(|p| secs[p].id.clone()),
                };
                let part = format.render(text[s.start..s.end].to_string())?;
                let part = self.named(format, part).await;
                let body = self
                    .body_out(format.name(), &part, max_bytes, output_file)
                    .await?;
                Data::Section {
                    page: PageItem::from(&page),
                    section: info,
                    body,
                }
            }
            P::Create {
                space_id,
                title,
                parent_id,
                body,
                body_file,
                body_format,
                status,
            } => {
                let space_id = self.space_id_of(space_id.as_str()).await?;
                let body = self
                    .read_text(body, body_file, "body")
                    .await?
                    .unwrap_or_default();
                let (body, warnings) = Fmt::of(body_format).to_storage(body)?;
                self.create_page(
                    NewPage {
                        space_id,
                        title,
                        parent_id: parent_id.map(|p| p.as_str().to_string()),
                        body,
                        status,
                    },
                    warnings,
                )
                .await?
            }
            P::Update {
                id,
                title,
                parent_id,
                body,
                body_file,
                body_format,
                version,
                version_message,
            } => {
                let body = self.read_text(body, body_file, "body").await?;
                if body.is_none() && title.is_none() && parent_id.is_none() {
                    return Err(OpError::invalid(
                        "action `update` needs `body` (or `bodyFile`), `title` or `parentId`",
                        "pass what changes: the new body, the new title, the new parent",
                    ));
                }
                let (body, warnings) = Fmt::of(body_format).to_storage_if(body)?;
                let page = self.page_with_body(id.as_str()).await?;
                if let Some(parent) = &parent_id {
                    self.check_new_parent(&page, parent.as_str()).await?;
                }
                let body = body.unwrap_or_else(|| body_of(&page, BodyFormat::Storage));
                let size = body.len();
                let updated = self
                    .publish_under(
                        &page,
                        title.as_deref(),
                        body,
                        version,
                        version_message,
                        parent_id.map(|p| p.as_str().to_string()),
                    )
                    .await?;
                Data::Written {
                    page: PageItem::from(&updated),
                    size,
                    warnings,
                }
            }
            P::UpdateSection {
                id,
                section_id,
                heading,
                body,
                body_file,
                body_format,
                version,
                version_message,
            } => {
                let key = section_key(section_id, heading, action)?;
                let new = self
                    .read_text(body, body_file, "body")
                    .await?
                    .ok_or_else(|| {
                        OpError::invalid(
                            "`body` (or `bodyFile`) is required for action `updateSection`",
                            "pass the section's new content (without its heading)",
                        )
                    })?;
                let (new, warnings) = Fmt::of(body_format).to_storage(new)?;
                let page = self.page_with_body(id.as_str()).await?;
                let text = body_of(&page, BodyFormat::Storage);
                let secs = sections::sections(&text);
                let s = sections::find(&secs, &key).ok_or_else(|| no_section(&key, &secs))?;
                let mut out = String::with_capacity(text.len() + new.len());
                out.push_str(&text[..s.content_start]);
                out.push_str(&new);
                out.push_str(&text[s.end..]);
                let size = out.len();
                let updated = self
                    .publish(&page, None, out, version, version_message)
                    .await?;
                Data::Written {
                    page: PageItem::from(&updated),
                    size,
                    warnings,
                }
            }
            P::Replace {
                id,
                find,
                replace_with,
                expected_count,
                version,
                version_message,
            } => {
                if find.is_empty() {
                    return Err(OpError::invalid(
                        "`find` is empty",
                        "pass the exact text to replace",
                    ));
                }
                let expected = expected_count.unwrap_or(1);
                let page = self.page_with_body(id.as_str()).await?;
                let text = body_of(&page, BodyFormat::Storage);
                let n = text.matches(find.as_str()).count();
                if n != expected {
                    return Err(OpError::invalid(
                        format!(
                            "`find` occurs {n} time(s) in the body, expected {expected}; nothing was changed"
                        ),
                        if n == 0 {
                            "read the text with getSection or getBody and copy it exactly (bodies are storage XHTML)".to_string()
                        } else {
                            format!(
                                "pass expectedCount: {n} to replace all, or make `find` longer so it is unique"
                            )
                        },
                    ));
                }
                let out = text.replace(find.as_str(), &replace_with);
                let size = out.len();
                let updated = self
                    .publish(&page, None, out, version, version_message)
                    .await?;
                Data::Replaced {
                    page: PageItem::from(&updated),
                    replacements: n,
                    size,
                }
            }
            P::Delete { id, purge } => {
                self.client.pages().delete(id.clone(), purge).await?;
                Data::Deleted {
                    id: id.to_string(),
                    deleted: true,
                    what: "page",
                    purged: purge,
                }
            }
            P::Move {
                id,
                target_id,
                position,
            } => {
                if id == target_id {
                    return Err(OpError::invalid(
                        "a page cannot move under or beside itself",
                        "pass another page as `targetId`",
                    ));
                }
                let position = match position.unwrap_or(a::MovePosition::Append) {
                    a::MovePosition::Append => MovePosition::Append,
                    a::MovePosition::Before => MovePosition::Before,
                    a::MovePosition::After => MovePosition::After,
                };
                self.client
                    .pages()
                    .move_page(id.clone(), position, target_id)
                    .await?;
                let page = self.client.pages().get(id, None).await?;
                Data::Page {
                    page: PageItem::from(&page),
                }
            }
            P::GetProperty { id, key } => {
                let owner = Owner::Page(id.clone());
                let found = self.client.properties().get_by_key(&owner, &key).await?;
                let p = found.ok_or_else(|| {
                    OpError::from(conflux_client::ClientError::NotFound {
                        operation: conflux_catalog::Operation::GetPageContentProperties,
                        message: format!("page {id} has no content property `{key}`"),
                    })
                })?;
                Data::Property {
                    page_id: id.to_string(),
                    key: p.key,
                    value: p.value,
                    version: p.version.map(|v| v.number),
                }
            }
            P::GetRestrictions { id } => {
                let r = self.client.restrictions().get(id.as_str()).await?;
                Data::Restrictions {
                    page_id: id.to_string(),
                    restrictions: r.into_iter().map(RestrictionItem::from).collect(),
                }
            }
            P::SetRestrictions {
                id,
                operation,
                users,
                groups,
            } => {
                let mut group_ids = Vec::new();
                for name in groups.unwrap_or_default() {
                    group_ids.push(self.group_id(&name).await?);
                }
                let update = RestrictionUpdate {
                    operation: match operation {
                        a::Restricted::Read => RestrictionOperation::Read,
                        a::Restricted::Update => RestrictionOperation::Update,
                    },
                    account_ids: users.unwrap_or_default(),
                    group_ids,
                };
                let r = self
                    .client
                    .restrictions()
                    .set(id.as_str(), std::slice::from_ref(&update))
                    .await?;
                Data::Restrictions {
                    page_id: id.to_string(),
                    restrictions: r.into_iter().map(RestrictionItem::from).collect(),
                }
            }
            P::Copy {
                id,
                target_id,
                space_id,
                title,
                with_attachments,
                with_labels,
                tree,
            } => {
                let pages = self.client.pages();
                let destination = match (target_id, space_id) {
                    (Some(parent), None) => CopyDestination::ParentPage(parent.to_string()),
                    (None, Some(space)) if !tree => {
                        let space = self.space_id_of(space.as_str()).await?;
                        CopyDestination::Space(self.space_key(&space).await?)
                    }
                    (None, Some(_)) => {
                        return Err(OpError::invalid(
                            "a tree is copied under a page: pass `targetId`",
                            "Confluence copies a page tree only under another page",
                        ));
                    }
                    _ => {
                        return Err(OpError::invalid(
                            "action `copy` needs exactly one destination: `targetId` (a page) \
                             or `spaceId` (the top of a space)",
                            "pass the page to copy under, or the space",
                        ));
                    }
                };
                let copied = match destination {
                    CopyDestination::ParentPage(parent) if tree => {
                        let options = HierarchyCopyOptions {
                            title_prefix: title.map(|t| format!("{t} ")),
                            copy_attachments: with_attachments,
                            copy_labels: with_labels,
                            ..HierarchyCopyOptions::default()
                        };
                        let task = pages
                            .copy_hierarchy(id.clone(), parent.into(), &options)
                            .await?;
                        let done = self
                            .client
                            .tasks()
                            .wait(&task.id, std::time::Duration::from_secs(120))
                            .await?;
                        done.destination_id().map(String::from).ok_or_else(|| {
                            OpError::other(
                                format!(
                                    "the copy (task {}) finished without naming the new page",
                                    task.id
                                ),
                                "look for the copy under the target page",
                            )
                        })?
                    }
                    destination => {
                        let options = CopyOptions {
                            title,
                            copy_attachments: with_attachments,
                            copy_labels: with_labels,
                            ..CopyOptions::default()
                        };
                        pages.copy(id.clone(), &destination, &options).await?.id
                    }
                };
                let page = pages.get(copied.as_str().into(), None).await?;
                Data::Page {
                    page: PageItem::from(&page),
                }
            }
            P::Views { id, since } => {
                let analytics = self.client.analytics();
                let views = analytics.views(id.as_str(), since.as_deref()).await?;
                let viewers = analytics.viewers(id.as_str(), since.as_deref()).await?;
                Data::Views {
                    page_id: id.to_string(),
                    views: views.map(|v| v.count),
                    viewers: viewers.map(|v| v.count),
                }
            }
            P::CreateFromTemplate {
                template_id,
                space_id,
                title,
                parent_id,
            } => {
                let body = self.template(&template_id).await?.body.unwrap_or_default();
                let space_id = self.space_id_of(space_id.as_str()).await?;
                self.create_page(
                    NewPage {
                        space_id,
                        title,
                        parent_id: parent_id.map(|p| p.as_str().to_string()),
                        body,
                        status: None,
                    },
                    Vec::new(),
                )
                .await?
            }
            P::CheckPermission {
                id,
                operation,
                account_id,
                group,
            } => {
                let (subject, name) = match (account_id, group) {
                    (Some(user), None) => (PermissionSubject::User(user.clone()), user),
                    (None, Some(group)) => (
                        PermissionSubject::Group(self.group_id(&group).await?),
                        group,
                    ),
                    _ => {
                        return Err(OpError::invalid(
                            "action `checkPermission` needs exactly one of `accountId` or `group`",
                            "pass the user's account id (users.search finds it) or a group name",
                        ));
                    }
                };
                let (op, word) = match operation.unwrap_or(a::Operation::Read) {
                    a::Operation::Read => (ContentOperation::Read, "read"),
                    a::Operation::Update => (ContentOperation::Update, "update"),
                    a::Operation::Delete => (ContentOperation::Delete, "delete"),
                };
                let check = self
                    .client
                    .restrictions()
                    .check(id.as_str(), &subject, op)
                    .await?;
                Data::Permission {
                    page_id: id.to_string(),
                    operation: word,
                    subject: name,
                    allowed: check.has_permission,
                    reasons: check
                        .errors
                        .iter()
                        .map(|e| {
                            e.pointer("/message/translation")
                                .or_else(|| e.get("message"))
                                .and_then(serde_json::Value::as_str)
                                .map_or_else(|| e.to_string(), String::from)
                        })
                        .collect(),
                }
            }
            P::SetProperty { id, key, value } => {
                let owner = Owner::Page(id.clone());
                let properties = self.client.properties();
                let p = match properties.get_by_key(&owner, &key).await? {
                    Some(current) => {
                        let next = current.version.as_ref().map_or(1, |v| v.number) + 1;
                        properties
                            .update(&owner, &current.id, &key, value, next)
                            .await?
                    }
                    None => properties.create(&owner, &key, value).await?,
                };
                Data::Property {
                    page_id: id.to_string(),
                    key: p.key,
                    value: p.value,
                    version: p.version.map(|v| v.number),
                }
            }
        };
        Ok(Output::new(action, data))
    }

    /// Markdown with its mentions named (see [`crate::mentions`]); other formats as they are.
    async fn named(&self, format: Fmt, text: String) -> String {
        if format == Fmt::Markdown {
            crate::mentions::with_names(&self.client, text).await
        } else {
            text
        }
    }

    /// The body of a page, blog post or version as fetched in `format.fetch()`: shown in
    /// `format` (mentions named), capped or written to `file`.
    async fn rendered_body(
        &self,
        page: &models::Page,
        format: Fmt,
        max_bytes: Option<usize>,
        file: Option<String>,
    ) -> Result<BodyOut> {
        let text = format.render(body_of(page, format.fetch()))?;
        let text = self.named(format, text).await;
        self.body_out(format.name(), &text, max_bytes, file).await
    }

    /// Creates a page (`create`, `createFromTemplate`): answers its metadata and the size of
    /// the body sent, never the body again.
    async fn create_page(&self, new: NewPage, warnings: Vec<String>) -> Result<Data> {
        let page = self.client.pages().create(&new).await?;
        Ok(Data::Written {
            page: PageItem::from(&page),
            size: new.body.len(),
            warnings,
        })
    }

    /// A page with its body in `format` (`getBody`, and `get` with a `bodyFormat`).
    async fn page_body(
        &self,
        id: PageId,
        format: Fmt,
        max_bytes: Option<usize>,
        output_file: Option<String>,
    ) -> Result<Data> {
        let page = self.client.pages().get(id, Some(format.fetch())).await?;
        let body = self
            .rendered_body(&page, format, max_bytes, output_file)
            .await?;
        Ok(Data::PageBody {
            page: PageItem::from(&page),
            body,
        })
    }

    pub(crate) async fn spaces(&self, action: &'static str, args: a::Spaces) -> Result<Output> {
        use a::Spaces as S;
        let data = match args {
            S::List {
                keys,
                limit,
                cursor,
            } => {
                let keys: Vec<String> = keys
                    .unwrap_or_default()
                    .into_iter()
                    .map(|k| k.as_str().to_string())
                    .collect();
                let page = self
                    .client
                    .spaces()
                    .list(&keys, &self.paging(limit, cursor)?)
                    .await?;
                let mut items = Vec::new();
                for s in &page.results {
                    self.remember_space(&s.id, &s.key);
                    if self.space_verdict(&s.id, &s.key, false).is_ok() {
                        items.push(SpaceItem::from(s));
                    }
                }
                Data::SpaceList(Listing::new(items, page.next_cursor))
            }
            S::Get { id, key } => {
                let s = self.named_space(id.as_ref(), key.as_ref(), action).await?;
                Data::Space {
                    space: SpaceItem::from(&s),
                }
            }
            S::Permissions {
                id,
                key,
                limit,
                cursor,
            } => {
                let s = self.named_space(id.as_ref(), key.as_ref(), action).await?;
                let page = self
                    .client
                    .spaces()
                    .permissions(&s.id, &self.paging(limit, cursor)?)
                    .await?;
                let items = page.results.into_iter().map(PermissionItem::from).collect();
                Data::Permissions {
                    space: SpaceItem::from(&s),
                    list: Listing::new(items, page.next_cursor),
                }
            }
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn search(&self, action: &'static str, args: a::Search) -> Result<Output> {
        let a::Search::Cql {
            cql,
            cqlcontext,
            excerpt,
            start,
            limit,
            cursor,
        } = args;
        let excerpt = match excerpt {
            None | Some(ExcerptArg::Highlight) => Excerpt::Highlight,
            Some(ExcerptArg::Indexed) => Excerpt::Indexed,
            Some(ExcerptArg::None) => Excerpt::None,
        };
        let cql = self.scope_cql(&cql);
        let mut paging = self.paging(limit, cursor)?;
        if paging.cursor.is_none()
            && let Some(start) = start
        {
            paging.cursor = Some(format!("start:{start}"));
        }
        let params = SearchParams {
            cqlcontext,
            excerpt,
        };
        let page = self.client.search().cql(&cql, &params, &paging).await?;
        let base = page.base.clone();
        let items = page
            .results
            .into_iter()
            .filter(|r| {
                let key = r
                    .content
                    .as_ref()
                    .and_then(|c| c.space.as_ref())
                    .map(|s| s.key.as_str())
                    .unwrap_or("");
                key.is_empty()
                    || !self.spaces_guarded()
                    || self.space_verdict("", key, false).is_ok()
            })
            .map(|r| {
                let c = r.content.unwrap_or_default();
                SearchItem {
                    id: c.id,
                    title: unhighlight(if r.title.is_empty() {
                        &c.title
                    } else {
                        &r.title
                    }),
                    content_type: if c.content_type.is_empty() {
                        r.entity_type
                    } else {
                        c.content_type
                    },
                    space_key: c.space.map(|s| s.key).filter(|k| !k.is_empty()),
                    excerpt: unhighlight(&r.excerpt),
                    url: absolute(base.as_deref(), &r.url),
                    last_modified: r.last_modified,
                }
            })
            .collect();
        Ok(Output::new(
            action,
            Data::Search {
                list: Listing::new(items, page.next_cursor),
                total_size: page.total_size,
            },
        ))
    }

    /// Adds the space lists to a CQL query, before any `ORDER BY`.
    fn scope_cql(&self, cql: &str) -> String {
        let quote = |v: &[String]| {
            v.iter()
                .map(|s| format!("\"{}\"", s.replace('"', "")))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut extra = Vec::new();
        if !self.config.allow_spaces.is_empty() {
            extra.push(format!("space in ({})", quote(&self.config.allow_spaces)));
        }
        if !self.config.deny_spaces.is_empty() {
            extra.push(format!(
                "space not in ({})",
                quote(&self.config.deny_spaces)
            ));
        }
        if extra.is_empty() {
            return cql.to_string();
        }
        let lower = cql.to_ascii_lowercase();
        let (q, order) = match lower.rfind("order by") {
            Some(i) if !lower[i..].contains('"') => (&cql[..i], &cql[i..]),
            _ => (cql, ""),
        };
        let q = q.trim();
        let scoped = if q.is_empty() {
            extra.join(" AND ")
        } else {
            format!("({q}) AND {}", extra.join(" AND "))
        };
        if order.is_empty() {
            scoped
        } else {
            format!("{scoped} {order}")
        }
    }

    pub(crate) async fn content(&self, action: &'static str, args: a::Content) -> Result<Output> {
        use a::Content as C;
        let data = match args {
            C::Children { id, limit, cursor } => {
                let page = self
                    .client
                    .content()
                    .children(id, &self.paging(limit, cursor)?)
                    .await?;
                Data::Nodes(Listing::new(
                    page.results.into_iter().map(NodeItem::from).collect(),
                    page.next_cursor,
                ))
            }
            // Only direct-children lists folders: no fallback for `folders`.
            C::Folders { id, limit, cursor } => {
                let page = self
                    .client
                    .content()
                    .direct_children(id, &self.paging(limit, cursor)?)
                    .await?;
                let items = page
                    .results
                    .into_iter()
                    .filter(|c| c.content_type == "folder")
                    .map(NodeItem::from)
                    .collect();
                Data::Nodes(Listing::new(items, page.next_cursor))
            }
            C::Ancestors { id } => {
                let refs = self.client.content().ancestors(id).await?;
                let items = self.titled(refs).await?;
                Data::Nodes(Listing::new(items, None))
            }
            C::Descendants {
                id,
                depth,
                limit,
                cursor,
            } => {
                let page = self
                    .client
                    .content()
                    .descendants(id, depth, &self.paging(limit, cursor)?)
                    .await?;
                Data::Nodes(Listing::new(
                    page.results.into_iter().map(NodeItem::from).collect(),
                    page.next_cursor,
                ))
            }
            C::Tree {
                space_id,
                space_key,
                depth,
                limit,
                cursor,
            } => {
                let key = space_id
                    .as_ref()
                    .map(SpaceRef::as_str)
                    .or(space_key.as_ref().map(SpaceKey::as_str))
                    .ok_or_else(|| {
                        OpError::invalid(
                            "`spaceId` or `spaceKey` is required for action `tree`",
                            "pass the space id or key",
                        )
                    })?;
                let space = self.client.spaces().get_by_key_or_id(key).await?;
                self.remember_space(&space.id, &space.key);
                let Some(home) = space.homepage_id.clone() else {
                    return Ok(Output::new(
                        action,
                        Data::Tree {
                            space: SpaceItem::from(&space),
                            list: Listing::new(Vec::new(), None),
                        },
                    ));
                };
                let root = self.client.pages().get(home.clone().into(), None).await?;
                let depth = depth.unwrap_or(2).clamp(1, 10);
                let paging = self.paging(Some(limit.unwrap_or(250)), cursor)?;
                let page = self
                    .client
                    .content()
                    .descendants(home.into(), Some(depth), &paging)
                    .await?;
                let mut items = vec![NodeItem {
                    id: root.id.clone(),
                    title: root.title.clone(),
                    content_type: "page".into(),
                    status: root.status.clone(),
                    parent_id: None,
                    depth: Some(0),
                }];
                items.extend(page.results.into_iter().map(NodeItem::from));
                Data::Tree {
                    space: SpaceItem::from(&space),
                    list: Listing::new(items, page.next_cursor),
                }
            }
            C::CreateFolder {
                space_id,
                title,
                parent_id,
            } => {
                let space_id = self.space_id_of(space_id.as_str()).await?;
                let f = self
                    .client
                    .folders()
                    .create(&space_id, &title, parent_id.as_ref().map(|p| p.as_str()))
                    .await?;
                Data::Folder {
                    folder: NodeItem::from(f),
                }
            }
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn comments(&self, action: &'static str, args: a::Comments) -> Result<Output> {
        use a::Comments as C;
        let data = match args {
            C::GetFooter {
                id,
                blog_post_id,
                body_format,
                limit,
                cursor,
            } => {
                let on = owner(action, id, blog_post_id)?;
                self.comment_threads(false, on, Fmt::of(body_format), limit, cursor)
                    .await?
            }
            C::GetInline {
                id,
                body_format,
                limit,
                cursor,
            } => {
                self.comment_threads(true, Owner::Page(id), Fmt::of(body_format), limit, cursor)
                    .await?
            }
            C::AddFooter {
                id,
                blog_post_id: Some(post),
                parent_comment_id: None,
                body,
                body_format,
            } => {
                if id.is_some() {
                    return Err(one_container(action));
                }
                let (body, warnings) = Fmt::of(body_format).to_storage(body)?;
                let c = self
                    .client
                    .blogposts()
                    .add_footer_comment(post.as_str(), &body)
                    .await?;
                let mut item = CommentItem::from(c);
                item.blog_post_id.get_or_insert_with(|| post.to_string());
                Data::Comment {
                    comment: item,
                    warnings,
                }
            }
            // A reply lands on its parent comment's page or blog post.
            C::AddFooter {
                id,
                blog_post_id: _,
                parent_comment_id,
                body,
                body_format,
            } => {
                let page_id = id.as_ref().map(|p| p.as_str().to_string());
                if page_id.is_none() && parent_comment_id.is_none() {
                    return Err(OpError::invalid(
                        "`id` (the page id) or `parentCommentId` is required for action `addFooter`",
                        "pass the page id for a new comment, or parentCommentId to reply",
                    ));
                }
                // A reply lands on its parent comment's page, whatever `id` says (the guardrails
                // checked that page): a different `id` is a mistake to name.
                let target = match &parent_comment_id {
                    Some(parent) if page_id.is_some() => {
                        let parent = self
                            .client
                            .comments()
                            .footer_comment(parent.as_str())
                            .await?;
                        let on = parent.page_id.clone().ok_or_else(|| {
                            OpError::policy(
                                "the comment answered is not on a page, so its space cannot be \
                                 checked",
                                "reply to a comment on a page",
                            )
                        })?;
                        if let Some(p) = &page_id
                            && *p != on
                        {
                            return Err(OpError::invalid(
                                format!(
                                    "comment {} is on page {on}, not on page {p}: a reply goes \
                                     to its parent comment's page",
                                    parent.id
                                ),
                                "pass the id of the page the comment is on, or leave `id` out",
                            ));
                        }
                        Some(on)
                    }
                    Some(_) => None,
                    None => page_id.clone(),
                };
                let (body, warnings) = Fmt::of(body_format).to_storage(body)?;
                let c = self
                    .client
                    .comments()
                    .add_footer(id, parent_comment_id.map(|c| c.as_str().to_string()), &body)
                    .await?;
                let mut item = CommentItem::from(c);
                if item.page_id.is_none() {
                    item.page_id = target.or(page_id);
                }
                Data::Comment {
                    comment: item,
                    warnings,
                }
            }
            C::Update {
                comment_id,
                body,
                body_format,
                version,
            } => {
                let (body, warnings) = Fmt::of(body_format).to_storage(body)?;
                let comments = self.client.comments();
                let version = match version {
                    Some(v) => v,
                    None => {
                        let current = comments.footer_comment(comment_id.as_str()).await?;
                        current.version.as_ref().map_or(1, |v| v.number) + 1
                    }
                };
                let c = comments
                    .update_footer(comment_id.as_str(), &body, version)
                    .await?;
                Data::Comment {
                    comment: CommentItem::from(c),
                    warnings,
                }
            }
            C::AddInline {
                id,
                body,
                body_format,
                selection,
                match_index,
            } => {
                let (body, warnings) = Fmt::of(body_format).to_storage(body)?;
                // Cloud asks how often the selection occurs and which occurrence is meant;
                // both are counted here, in the page's text.
                let page = self.page_with_body(id.as_str()).await?;
                let count = text_occurrences(&body_of(&page, BodyFormat::Storage), &selection);
                let index = match_index.unwrap_or(0);
                if count == 0 {
                    return Err(OpError::invalid(
                        format!("the page's text does not contain `{selection}`"),
                        "copy the text to highlight exactly as the page reads (getBody), within \
                         one paragraph",
                    ));
                }
                if index >= count {
                    return Err(OpError::invalid(
                        format!(
                            "`{selection}` occurs {count} time(s) in the page; matchIndex {index} \
                             is past the last"
                        ),
                        format!("pass a matchIndex from 0 to {}", count - 1),
                    ));
                }
                let c = self
                    .client
                    .comments()
                    .add_inline(
                        id.clone(),
                        &body,
                        &TextSelection {
                            text: selection,
                            match_count: Some(count),
                            match_index: Some(index),
                        },
                    )
                    .await?;
                let mut item = CommentItem::from(c);
                item.page_id.get_or_insert_with(|| id.to_string());
                Data::Comment {
                    comment: item,
                    warnings,
                }
            }
            C::ResolveInline { comment_id, reopen } => {
                let c = self
                    .client
                    .comments()
                    .resolve_inline(comment_id.as_str(), !reopen)
                    .await?;
                Data::Comment {
                    comment: CommentItem::from(c),
                    warnings: Vec::new(),
                }
            }
            C::Delete { comment_id } => {
                self.client.comments().delete(comment_id.as_str()).await?;
                Data::Deleted {
                    id: comment_id.to_string(),
                    deleted: true,
                    what: "comment",
                    purged: true,
                }
            }
        };
        Ok(Output::new(action, data))
    }

    /// A page's footer or inline comments, as threads.
    async fn comment_threads(
        &self,
        inline: bool,
        on: Owner,
        format: Fmt,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<Data> {
        let fmt = Some(format.fetch());
        let paging = self.paging(limit, cursor)?;
        let comments = self.client.comments();
        let page = match &on {
            Owner::Page(id) if inline => comments.inline(id.clone(), fmt, &paging).await?,
            Owner::Page(id) => comments.footer(id.clone(), fmt, &paging).await?,
            Owner::BlogPost(id) => {
                self.client
                    .blogposts()
                    .footer_comments(id.as_str(), fmt, &paging)
                    .await?
            }
        };
        let roots = page.results.into_iter().map(CommentItem::from).collect();
        let mut items = self.threads(roots, inline, format).await?;
        for item in &mut items {
            match &on {
                Owner::Page(id) => item.page_id.get_or_insert_with(|| id.to_string()),
                Owner::BlogPost(id) => item.blog_post_id.get_or_insert_with(|| id.to_string()),
            };
        }
        Ok(Data::Comments(Listing::new(items, page.next_cursor)))
    }

    pub(crate) async fn labels(&self, action: &'static str, args: a::Labels) -> Result<Output> {
        use a::Labels as L;
        let labels = self.client.labels();
        let data = match args {
            L::GetForPage {
                id,
                blog_post_id,
                limit,
                cursor,
            } => {
                let on = owner(action, id, blog_post_id)?;
                let page = labels.of(&on, &self.paging(limit, cursor)?).await?;
                Data::Labels {
                    on: OwnerOut::from(&on),
                    list: Listing::new(
                        page.results.into_iter().map(LabelItem::from).collect(),
                        page.next_cursor,
                    ),
                }
            }
            L::AddToPage {
                id,
                blog_post_id,
                labels: names,
            } => {
                let on = owner(action, id, blog_post_id)?;
                let all = labels.add(on.clone(), &names).await?;
                Data::Labels {
                    on: OwnerOut::from(&on),
                    list: Listing::new(all.into_iter().map(LabelItem::from).collect(), None),
                }
            }
            L::Remove {
                id,
                blog_post_id,
                labels: names,
            } => {
                let on = owner(action, id, blog_post_id)?;
                // Removing is idempotent: a label that is not there is gone already (the read
                // below still fails when the page or blog post itself is missing).
                for name in &names {
                    match labels.remove(on.clone(), name).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == conflux_client::ErrorKind::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                let left = labels.of(&on, &PageRequest::limit(250)).await?;
                Data::Labels {
                    on: OwnerOut::from(&on),
                    list: Listing::new(
                        left.results.into_iter().map(LabelItem::from).collect(),
                        left.next_cursor,
                    ),
                }
            }
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn attachments(
        &self,
        action: &'static str,
        args: a::Attachments,
    ) -> Result<Output> {
        use a::Attachments as A;
        let attachments = self.client.attachments();
        let update = matches!(args, A::Update { .. });
        let data = match args {
            A::ListForPage {
                id,
                blog_post_id,
                limit,
                cursor,
            } => {
                let on = owner(action, id, blog_post_id)?;
                let page = attachments.of(&on, &self.paging(limit, cursor)?).await?;
                Data::Attachments(Listing::new(
                    page.results.into_iter().map(AttachmentItem::from).collect(),
                    page.next_cursor,
                ))
            }
            A::Get { id, page_id: _ } => {
                let att = attachments.get(id.as_str()).await?;
                Data::Attachment {
                    attachment: AttachmentItem::from(att),
                }
            }
            A::Download {
                id,
                page_id,
                max_bytes,
                output_file,
            } => {
                let att = attachments.get(id.as_str()).await?;
                let on = match (&att.page_id, &att.blog_post_id, page_id) {
                    (Some(page), _, _) => Owner::Page(PageId::new(page)),
                    (None, Some(post), _) => Owner::BlogPost(BlogPostId::new(post)),
                    (None, None, Some(page)) => Owner::Page(page),
                    (None, None, None) => {
                        return Err(OpError::invalid(
                            "Confluence did not say which page holds this attachment",
                            "pass `pageId` as well",
                        ));
                    }
                };
                let cap = max_bytes.unwrap_or(self.config.max_download_bytes);
                if att.file_size > cap {
                    return Err(OpError::invalid(
                        format!(
                            "the attachment is {} bytes, over the {cap}-byte cap",
                            att.file_size
                        ),
                        "raise `maxBytes`, or use the download link from action `get`",
                    ));
                }
                let f = self.fetch_file(&on, att, cap, output_file).await?;
                Data::Download {
                    attachment: f.attachment,
                    media_type: f.media_type,
                    size: f.size,
                    data: f.data,
                    file: f.file,
                }
            }
            A::DownloadAll {
                id,
                blog_post_id,
                max_bytes,
                output_file,
            } => {
                let on = owner(action, id, blog_post_id)?;
                self.files_of(on, max_bytes, output_file, false).await?
            }
            A::Images {
                id,
                blog_post_id,
                max_bytes,
            } => {
                let on = owner(action, id, blog_post_id)?;
                self.files_of(on, max_bytes, None, true).await?
            }
            A::Delete { id, page_id: _ } => {
                attachments.delete(id.as_str(), false).await?;
                Data::Deleted {
                    id: id.to_string(),
                    deleted: true,
                    what: "attachment",
                    purged: false,
                }
            }
            A::Upload {
                id,
                blog_post_id,
                file_name,
                media_type,
                data,
                file_path,
                comment,
                files: Some(files),
            } => {
                let on = owner(action, id, blog_post_id)?;
                if file_name.is_some()
                    || media_type.is_some()
                    || data.is_some()
                    || file_path.is_some()
                {
                    return Err(OpError::invalid(
                        "`files` and a single file's `fileName`, `mediaType`, `data` or `filePath` \
                         cannot be combined",
                        "put every file in `files`, each with its own fileName, mediaType and data \
                         or filePath",
                    ));
                }
                self.upload_files(action, on, files, comment).await?
            }
            // `update` makes the file of that name a new version; `upload` adds a file.
            A::Upload {
                id,
                blog_post_id,
                file_name,
                media_type,
                data,
                file_path,
                comment,
                files: None,
            }
            | A::Update {
                id,
                blog_post_id,
                file_name,
                media_type,
                data,
                file_path,
                comment,
            } => {
                let on = owner(action, id, blog_post_id)?;
                let (file, size) = self
                    .attachment_file(action, file_name, media_type, data, file_path, comment)
                    .await?;
                let title = file.file_name.clone();
                let id = if update {
                    attachments.upload_or_update(on.clone(), file).await?.id
                } else {
                    attachments.upload(on.clone(), file).await?
                };
                Data::Uploaded {
                    id,
                    on: OwnerOut::from(&on),
                    title,
                    size,
                }
            }
        };
        Ok(Output::new(action, data))
    }

    /// Several files in one call. Every file is read and checked before the first is sent, so
    /// a bad one fails the call with nothing attached; a refusal halfway names the files
    /// attached before it, so that a retry sends only the rest.
    async fn upload_files(
        &self,
        action: &str,
        on: Owner,
        files: Vec<a::FileIn>,
        comment: Option<String>,
    ) -> Result<Data> {
        if files.is_empty() || files.len() > MAX_FILES_PER_UPLOAD {
            return Err(OpError::invalid(
                format!(
                    "`files` holds {} files; one call uploads 1 to {MAX_FILES_PER_UPLOAD}",
                    files.len()
                ),
                "split the files over several calls",
            ));
        }
        let mut prepared = Vec::with_capacity(files.len());
        for (i, f) in files.into_iter().enumerate() {
            let (file, size) = self
                .attachment_file(
                    action,
                    f.file_name,
                    f.media_type,
                    f.data,
                    f.file_path,
                    comment.clone(),
                )
                .await
                .map_err(|mut e| {
                    e.message = format!("files[{i}]: {}", e.message);
                    e
                })?;
            if prepared
                .iter()
                .any(|(p, _): &(NewAttachment, usize)| p.file_name == file.file_name)
            {
                return Err(OpError::invalid(
                    format!("files[{i}]: `{}` is named twice", file.file_name),
                    "give each file its own name (action update makes a new version of one)",
                ));
            }
            prepared.push((file, size));
        }
        let mut items: Vec<UploadedFile> = Vec::with_capacity(prepared.len());
        for (file, size) in prepared {
            let title = file.file_name.clone();
            match self.client.attachments().upload(on.clone(), file).await {
                Ok(id) => items.push(UploadedFile { id, title, size }),
                Err(e) => {
                    let mut e = OpError::from(e);
                    e.message = format!("`{title}`: {}", e.message);
                    if !items.is_empty() {
                        let done: Vec<String> = items
                            .iter()
                            .map(|f| format!("{} (attachment {})", f.title, f.id))
                            .collect();
                        e.message
                            .push_str(&format!("; attached before it: {}", done.join(", ")));
                    }
                    return Err(e);
                }
            }
        }
        Ok(Data::UploadedFiles {
            on: OwnerOut::from(&on),
            count: items.len(),
            items,
        })
    }

    /// Every file (or every image) of a page or blog post, in Confluence's order, while the
    /// bytes fit `maxBytes` in all: the rest are listed as skipped, with their size, so the
    /// caller can fetch them one by one or raise the cap.
    async fn files_of(
        &self,
        on: Owner,
        max_bytes: Option<u64>,
        folder: Option<String>,
        images: bool,
    ) -> Result<Data> {
        let cap = max_bytes.unwrap_or(self.config.max_download_bytes);
        if let Some(dir) = &folder {
            self.files_root("outputFile")?
                .create_dir_all("outputFile", dir)
                .await?;
        }
        let mut listed = Vec::new();
        let mut request = PageRequest::limit(250);
        loop {
            let page = self.client.attachments().of(&on, &request).await?;
            listed.extend(page.results);
            match page.next_cursor {
                Some(c) if listed.len() < MAX_FILES_LISTED => request.cursor = Some(c),
                _ => break,
            }
        }
        let (mut files, mut skipped, mut total) = (Vec::new(), Vec::new(), 0u64);
        for att in listed {
            if images && !att.media_type.starts_with("image/") {
                continue;
            }
            if total.saturating_add(att.file_size) > cap {
                skipped.push(SkippedFile {
                    id: att.id.clone(),
                    title: att.title.clone(),
                    size: att.file_size,
                    reason: format!("over the {cap}-byte cap with the files before it"),
                });
                continue;
            }
            let path = folder
                .as_deref()
                .map(|dir| format!("{}/{}", dir.trim_end_matches('/'), safe_file_name(&att)));
            let f = self.fetch_file(&on, att, cap - total, path).await?;
            total += f.size as u64;
            files.push(f);
        }
        Ok(Data::Files {
            on: OwnerOut::from(&on),
            files,
            skipped,
            size: total,
            file: folder,
            images,
        })
    }

    /// One attachment's bytes, at most `cap`: base64 inline, or written to `path`.
    async fn fetch_file(
        &self,
        on: &Owner,
        att: models::Attachment,
        cap: u64,
        path: Option<String>,
    ) -> Result<FileOut> {
        let dl = self
            .client
            .attachments()
            .download(on.clone(), &att.id, Some(cap))
            .await?;
        let media_type = dl
            .media_type
            .clone()
            .unwrap_or_else(|| att.media_type.clone());
        let size = dl.bytes.len();
        let (data, file) = match path {
            Some(path) => {
                self.write_file(&path, &dl.bytes).await?;
                (None, Some(path))
            }
            None => (
                Some(base64::engine::general_purpose::STANDARD.encode(&dl.bytes)),
                None,
            ),
        };
        Ok(FileOut {
            attachment: AttachmentItem::from(att),
            media_type,
            size,
            data,
            file,
        })
    }

    /// The file an upload sends: bytes from `data` (base64) or `filePath`, its name from
    /// `fileName` or the path.
    async fn attachment_file(
        &self,
        action: &str,
        file_name: Option<String>,
        media_type: Option<String>,
        data: Option<String>,
        file_path: Option<String>,
        comment: Option<String>,
    ) -> Result<(NewAttachment, usize)> {
        let bytes: Vec<u8> = match (&data, &file_path) {
            (Some(d), None) => base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .map_err(|e| {
                    OpError::invalid(
                        format!("`data` is not valid base64: {e}"),
                        "encode the file with standard base64",
                    )
                })?,
            (None, Some(p)) => self.files_root("filePath")?.read("filePath", p).await?,
            _ => {
                return Err(OpError::invalid(
                    format!("action `{action}` needs exactly one of `data` (base64) or `filePath`"),
                    "pass the file's bytes as base64 in `data`",
                ));
            }
        };
        let file_name = match (file_name, &file_path) {
            (Some(n), _) => n,
            (None, Some(p)) => std::path::Path::new(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            (None, None) => {
                return Err(OpError::invalid(
                    format!("`fileName` is required for action `{action}`"),
                    "pass the attachment's file name",
                ));
            }
        };
        let size = bytes.len();
        let file = NewAttachment {
            file_name,
            media_type: media_type.unwrap_or_else(|| "application/octet-stream".into()),
            bytes: bytes.into(),
            comment,
        };
        Ok((file, size))
    }

    pub(crate) async fn versions(&self, action: &'static str, args: a::Versions) -> Result<Output> {
        use a::Versions as V;
        let data = match args {
            V::ListForPage { id, limit, cursor } => {
                let page = self
                    .client
                    .versions()
                    .for_page(id.clone(), &self.paging(limit, cursor)?)
                    .await?;
                Data::Versions {
                    page_id: id.to_string(),
                    list: Listing::new(
                        page.results.into_iter().map(VersionItem::from).collect(),
                        page.next_cursor,
                    ),
                }
            }
            V::Get {
                id,
                version,
                body_format,
                max_bytes,
            } => {
                let format = Fmt::of(body_format);
                let page = self
                    .client
                    .pages()
                    .get_version(id, version, format.fetch())
                    .await?;
                let body = self.rendered_body(&page, format, max_bytes, None).await?;
                Data::VersionBody {
                    page: PageItem::from(&page),
                    version,
                    body,
                }
            }
            V::Diff {
                id,
                from,
                to,
                body_format,
                max_bytes,
            } => {
                let to = match to {
                    Some(t) => t,
                    None => self
                        .client
                        .pages()
                        .get(id.clone(), None)
                        .await?
                        .version
                        .map(|v| v.number)
                        .unwrap_or(1),
                };
                let pages = self.client.pages();
                let old = pages
                    .get_version(id.clone(), from, BodyFormat::Storage)
                    .await?;
                let new = pages
                    .get_version(id.clone(), to, BodyFormat::Storage)
                    .await?;
                let format = Fmt::of(body_format);
                let lines = |p: &models::Page| match format {
                    Fmt::Markdown => format.render(body_of(p, BodyFormat::Storage)),
                    _ => Ok(split_blocks(&body_of(p, BodyFormat::Storage))),
                };
                let (old, new) = (lines(&old)?, lines(&new)?);
                let diff = similar::TextDiff::from_lines(&old, &new);
                let (mut added, mut removed) = (0, 0);
                for c in diff.iter_all_changes() {
                    match c.tag() {
                        similar::ChangeTag::Insert => added += 1,
                        similar::ChangeTag::Delete => removed += 1,
                        similar::ChangeTag::Equal => {}
                    }
                }
                let text = diff
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("version {from}"), &format!("version {to}"))
                    .to_string();
                let (text, _) = cap(&text, max_bytes.unwrap_or(self.config.max_body_bytes));
                Data::Diff {
                    page_id: id.to_string(),
                    from,
                    to,
                    added,
                    removed,
                    diff: text.to_string(),
                }
            }
        };
        Ok(Output::new(action, data))
    }
}

impl Ops {
    pub(crate) async fn blogposts(
        &self,
        action: &'static str,
        args: a::BlogPosts,
    ) -> Result<Output> {
        use a::BlogPosts as B;
        let posts = self.client.blogposts();
        let data = match args {
            B::List {
                space_id,
                title,
                status,
                limit,
                cursor,
            } => {
                let space_id = match &space_id {
                    Some(s) => Some(self.space_id_of(s.as_str()).await?),
                    None => None,
                };
                let filter = BlogPostList {
                    space_id,
                    title,
                    status,
                    body_format: None,
                };
                let page = posts.list(&filter, &self.paging(limit, cursor)?).await?;
                let mut items = Vec::new();
                for p in &page.results {
                    if self.visible(&p.space_id).await {
                        items.push(PageItem::from(p));
                    }
                }
                Data::PostList(Listing::new(items, page.next_cursor))
            }
            B::Get { id } => {
                let post = posts.get(id.as_str(), None).await?;
                Data::Post {
                    blogpost: PageItem::from(&post),
                }
            }
            B::GetBody {
                id,
                body_format,
                max_bytes,
                output_file,
            } => {
                let format = Fmt::of(body_format);
                let post = posts.get(id.as_str(), Some(format.fetch())).await?;
                let body = self
                    .rendered_body(&post, format, max_bytes, output_file)
                    .await?;
                Data::PostBody {
                    blogpost: PageItem::from(&post),
                    body,
                }
            }
            B::Create {
                space_id,
                title,
                body,
                body_file,
                body_format,
                status,
            } => {
                let space_id = self.space_id_of(space_id.as_str()).await?;
                let body = self
                    .read_text(body, body_file, "body")
                    .await?
                    .unwrap_or_default();
                let (body, warnings) = Fmt::of(body_format).to_storage(body)?;
                let size = body.len();
                let post = posts
                    .create(&NewBlogPost {
                        space_id,
                        title,
                        body,
                        status,
                    })
                    .await?;
                Data::PostWritten {
                    blogpost: PageItem::from(&post),
                    size,
                    warnings,
                }
            }
            B::Update {
                id,
                title,
                body,
                body_file,
                body_format,
                version,
                version_message,
            } => {
                let body = self.read_text(body, body_file, "body").await?;
                if body.is_none() && title.is_none() {
                    return Err(OpError::invalid(
                        "action `update` needs `body` (or `bodyFile`) or `title`",
                        "pass what changes: the new body, the new title",
                    ));
                }
                let (body, warnings) = Fmt::of(body_format).to_storage_if(body)?;
                let post = posts.get(id.as_str(), Some(BodyFormat::Storage)).await?;
                let body = body.unwrap_or_else(|| body_of(&post, BodyFormat::Storage));
                let size = body.len();
                let current = post.version.as_ref().map_or(1, |v| v.number);
                let updated = posts
                    .update(
                        id.as_str(),
                        &BlogPostUpdate {
                            title: title.unwrap_or_else(|| post.title.clone()),
                            body,
                            version: version.unwrap_or(current + 1),
                            message: version_message,
                            status: None,
                        },
                    )
                    .await?;
                Data::PostWritten {
                    blogpost: PageItem::from(&updated),
                    size,
                    warnings,
                }
            }
            B::Delete { id, purge } => {
                posts.delete(id.as_str(), purge).await?;
                Data::Deleted {
                    id: id.to_string(),
                    deleted: true,
                    what: "blog post",
                    purged: purge,
                }
            }
        };
        Ok(Output::new(action, data))
    }
}

impl Ops {
    pub(crate) async fn users(&self, action: &'static str, args: a::Users) -> Result<Output> {
        use a::Users as U;
        let users = self.client.users();
        let data = match args {
            U::Search {
                query,
                limit,
                cursor,
            } => {
                let page = users
                    .search_by_name(&query, &self.paging(limit, cursor)?)
                    .await?;
                Data::Users(Listing::new(
                    page.results.into_iter().map(UserItem::from).collect(),
                    page.next_cursor,
                ))
            }
            U::Get { account_id } => Data::User {
                user: UserItem::from(users.get(&account_id).await?),
            },
            U::Me {} => Data::User {
                user: UserItem::from(users.current().await?),
            },
        };
        Ok(Output::new(action, data))
    }

    /// The id of the group named `name`, through the group picker (looking groups up by name
    /// is deprecated and retired on the API gateway).
    async fn group_id(&self, name: &str) -> Result<String> {
        let found = self
            .client
            .users()
            .group_picker(name, &PageRequest::limit(50))
            .await?;
        let exact = found.results.iter().find(|g| g.name == name).or_else(|| {
            found
                .results
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(name))
        });
        match exact {
            Some(g) => Ok(g.id.clone()),
            None => {
                let near: Vec<&str> = found.results.iter().map(|g| g.name.as_str()).collect();
                Err(OpError::invalid(
                    format!("no group is named `{name}`"),
                    if near.is_empty() {
                        "check the group's name in Confluence's administration".to_string()
                    } else {
                        format!("groups with similar names: {}", near.join(", "))
                    },
                ))
            }
        }
    }
}

impl Ops {
    pub(crate) async fn templates(
        &self,
        action: &'static str,
        args: a::Templates,
    ) -> Result<Output> {
        let data = match args {
            a::Templates::List {
                space_id,
                limit,
                cursor,
            } => {
                let key = match &space_id {
                    Some(s) => {
                        let id = self.space_id_of(s.as_str()).await?;
                        Some(self.space_key(&id).await?)
                    }
                    None => None,
                };
                let page = self
                    .client
                    .templates()
                    .list(key.as_deref(), false, &self.paging(limit, cursor)?)
                    .await?;
                let items = page
                    .results
                    .into_iter()
                    .map(TemplateItem::from)
                    .filter(|t| self.template_visible(t))
                    .collect();
                Data::Templates(Listing::new(items, page.next_cursor))
            }
            a::Templates::Get { id } => Data::Template {
                template: self.template(&id).await?,
            },
        };
        Ok(Output::new(action, data))
    }

    /// Template `id`, with its body; a space's template is that space's content, so the space
    /// lists hold for it too.
    async fn template(&self, id: &conflux_types::ContentId) -> Result<TemplateItem> {
        let t = TemplateItem::from(self.client.templates().get(id.as_str()).await?);
        if !self.template_visible(&t) {
            return Err(OpError::policy(
                format!(
                    "template {id} belongs to space {}, which this server keeps out",
                    t.space_key.as_deref().unwrap_or_default()
                ),
                self.policy_hint(crate::Guard::AllowSpaces),
            ));
        }
        Ok(t)
    }

    /// Whether a template may be shown: global ones always, a space's when the lists let
    /// its space be read.
    fn template_visible(&self, t: &TemplateItem) -> bool {
        match &t.space_key {
            Some(key) if self.spaces_guarded() => self.space_verdict("", key, false).is_ok(),
            _ => true,
        }
    }
}

/// How often `needle` occurs in the text of a storage body (tags left out, entities read), the
/// count Cloud asks for with an inline comment's selection.
fn text_occurrences(storage: &str, needle: &str) -> u32 {
    let mut text = String::with_capacity(storage.len());
    let mut in_tag = false;
    for c in storage.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", "\u{a0}")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    u32::try_from(text.matches(needle).count()).unwrap_or(u32::MAX)
}

/// Files one `upload` call takes.
const MAX_FILES_PER_UPLOAD: usize = 50;

/// Attachments `downloadAll` and `images` look through.
const MAX_FILES_LISTED: usize = 1000;

/// An attachment's title as a file name in one folder: no separators, no leading dots, no
/// control characters (titles are whatever uploaders typed), never empty.
fn safe_file_name(att: &models::Attachment) -> String {
    crate::files::safe_file_name(&att.title).unwrap_or_else(|| format!("attachment-{}", att.id))
}

/// Page `id` or blog post `blogPostId`, exactly one of them.
fn owner(action: &str, page: Option<PageId>, post: Option<BlogPostId>) -> Result<Owner> {
    match (page, post) {
        (Some(page), None) => Ok(Owner::Page(page)),
        (None, Some(post)) => Ok(Owner::BlogPost(post)),
        _ => Err(one_container(action)),
    }
}

/// Comments, labels and attachments need exactly one page or blog post.
fn one_container(action: &str) -> OpError {
    OpError::invalid(
        format!("action `{action}` needs `id` (a page) or `blogPostId`, not both"),
        "pass the page's id, or the blog post's as blogPostId",
    )
}

/// The section a call names: by `sectionId`, else by `heading`.
fn section_key(id: Option<String>, heading: Option<String>, action: &str) -> Result<String> {
    id.or(heading).ok_or_else(|| {
        OpError::invalid(
            format!("`sectionId` or `heading` is required for action `{action}`"),
            "run action `outline` to see the section ids",
        )
    })
}

/// Storage bodies are often one long line: break after block ends so a diff shows what changed.
fn split_blocks(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 20);
    for part in s.split_inclusive('>') {
        out.push_str(part);
        let t = part.trim_end();
        if [
            "</p>",
            "</h1>",
            "</h2>",
            "</h3>",
            "</h4>",
            "</h5>",
            "</h6>",
            "</li>",
            "</tr>",
            "</table>",
            "<br/>",
            "<hr/>",
            "</ac:structured-macro>",
        ]
        .iter()
        .any(|e| t.ends_with(e))
            && !part.ends_with('\n')
        {
            out.push('\n');
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn no_section(key: &str, secs: &[sections::Section]) -> OpError {
    let ids: Vec<&str> = secs.iter().map(|s| s.id.as_str()).take(30).collect();
    OpError::invalid(
        format!("no section `{key}` in this page"),
        if ids.is_empty() {
            "the page has no headings; use getBody / update instead".to_string()
        } else {
            format!("section ids: {}", ids.join(", "))
        },
    )
}

/// What to say when asked for a database's rows.
pub const DATABASE_ROWS_HAVE_NO_API: &str = "Confluence Cloud has no public API for database \
    entries. Database metadata can be read, created and deleted (GET/POST/DELETE \
    /wiki/api/v2/databases), but the row endpoints (/databases/{id}/entries, /content, /children, \
    /export) are not in Atlassian's published API: no OAuth or API-token scope opens them, so \
    every scoped or OAuth token gets 401 \"Unauthorized; scope does not match\" whatever it holds";

impl Ops {
    pub(crate) async fn databases(
        &self,
        action: &'static str,
        args: a::Databases,
    ) -> Result<Output> {
        use a::Databases as D;
        let data = match args {
            D::Entries { id } => {
                // Read the metadata only to say which database this is; the answer is the same,
                // but not for a database the space lists keep out.
                let which = match self.client.databases().get(id.as_str()).await {
                    Ok(db) => {
                        format!("database `{}` (id {id}) exists", db.title)
                    }
                    Err(_) if self.needs_space_check(false) => {
                        return Err(OpError::policy(
                            format!(
                                "this server limits spaces, and database {id} could not be read \
                                 to tell its space"
                            ),
                            "check the id",
                        ));
                    }
                    Err(_) => format!("database id {id}"),
                };
                return Err(OpError::other(
                    format!("{DATABASE_ROWS_HAVE_NO_API} ({which})"),
                    "to get the rows, open the database in Confluence and export it (⋯ → Export → CSV); \
                     through the API, only its metadata is available (action `get`)",
                ));
            }
            D::Get { id } => {
                let db = self.client.databases().get(id.as_str()).await?;
                Data::Database {
                    database: NodeItem::from(db),
                }
            }
            D::Create {
                space_id,
                title,
                parent_id,
            } => {
                let space_id = self.space_id_of(space_id.as_str()).await?;
                let db = self
                    .client
                    .databases()
                    .create(&space_id, &title, parent_id.as_ref().map(|p| p.as_str()))
                    .await?;
                Data::Database {
                    database: NodeItem::from(db),
                }
            }
            D::Delete { id } => {
                self.client.databases().delete(id.as_str()).await?;
                Data::Deleted {
                    id: id.to_string(),
                    deleted: true,
                    what: "database",
                    purged: false,
                }
            }
        };
        Ok(Output::new(action, data))
    }

    /// `connection.check`: the doctor's report for this server's credential.
    pub(crate) async fn connection(
        &self,
        action: &'static str,
        args: a::Connection,
    ) -> Result<Output> {
        let a::Connection::Check { tools } = args;
        let options = crate::doctor::Options {
            site: None,
            tools: tools.unwrap_or_default(),
            read_only: self.config.read_only,
        };
        let report = crate::doctor::diagnose(&self.client, &options).await;
        Ok(Output::new(action, Data::Connection(Box::new(report))))
    }
}

#[cfg(test)]
mod tests {
    /// Issue 12: search text showed raw `@@@hl@@@` markers, and result URLs were relative.
    #[test]
    fn issue_012_search_results_read_well_and_link_absolutely() {
        use super::{absolute, unhighlight};
        assert_eq!(
            unhighlight("the @@@hl@@@roadmap@@@endhl@@@ for Q3"),
            "the **roadmap** for Q3"
        );
        assert_eq!(
            absolute(
                Some("https://x.atlassian.net/wiki"),
                "/spaces/ENG/pages/1/T"
            ),
            "https://x.atlassian.net/wiki/spaces/ENG/pages/1/T"
        );
        assert_eq!(absolute(None, "/spaces/ENG"), "/spaces/ENG");
        assert_eq!(
            absolute(Some("https://x/wiki/"), "https://y/z"),
            "https://y/z"
        );
    }

    use super::*;

    #[test]
    fn cap_respects_char_boundaries() {
        assert_eq!(cap("héllo", 2), ("h", true));
        assert_eq!(cap("abc", 10), ("abc", false));
    }

    #[test]
    fn blocks_split_for_diffs() {
        assert_eq!(split_blocks("<p>a</p><p>b</p>"), "<p>a</p>\n<p>b</p>\n");
    }
}
