//! One method per tool; each matches on the action.

use base64::Engine;
use conflux_client::PageRequest;
use conflux_client::api::{
    BodyFormat, Excerpt, NewAttachment, NewPage, PageList, PageUpdate, SearchParams,
};
use conflux_client::models;

use crate::args::*;
use crate::model::*;
use crate::sections;
use crate::{OpError, Ops, Result, required};

/// A body format as callers name it: Markdown (converted here) or one Confluence returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Markdown,
    Api(BodyFormat),
}

impl Fmt {
    fn parse(s: Option<&str>) -> Result<Fmt> {
        match s {
            None | Some("markdown") => Ok(Fmt::Markdown),
            other => body_format(other).map(Fmt::Api),
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
    /// A body the caller sent, as storage.
    fn to_storage(self, text: String) -> Result<String> {
        match self {
            Fmt::Markdown => conflux_convert::markdown_to_storage(&text)
                .map(|o| o.output)
                .map_err(|e| {
                    OpError::invalid(
                        format!("the Markdown body cannot be converted: {e}"),
                        format!(
                            "nest lists, quotes and panels at most {} levels deep, or send \
                             the body as storage (bodyFormat storage)",
                            conflux_convert::MAX_DEPTH
                        ),
                    )
                }),
            Fmt::Api(BodyFormat::Storage) => Ok(text),
            Fmt::Api(f) => Err(OpError::invalid(
                format!(
                    "bodies can be written as markdown or storage, not {}",
                    f.as_str()
                ),
                "pass bodyFormat markdown (default) or storage",
            )),
        }
    }
}

fn body_format(s: Option<&str>) -> Result<BodyFormat> {
    match s {
        None | Some("storage") => Ok(BodyFormat::Storage),
        Some("atlas_doc_format") => Ok(BodyFormat::AtlasDocFormat),
        Some("view") => Ok(BodyFormat::View),
        Some(other) => Err(OpError::invalid(
            format!("`bodyFormat` `{other}` is not supported"),
            "`bodyFormat` must be one of: markdown, storage, atlas_doc_format, view",
        )),
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
    fn paging(&self, p: &Paging) -> Result<PageRequest> {
        if p.limit == Some(0) {
            return Err(OpError::invalid(
                "`limit` must be at least 1",
                "pass a limit between 1 and 250",
            ));
        }
        Ok(PageRequest {
            limit: Some(p.limit.unwrap_or(self.config.default_limit).min(250)),
            cursor: p.cursor.clone(),
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
                c.body = c.body.take().map(|b| format.render(b)).transpose()?;
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
    async fn named_space(&self, a: &SpacesArgs, action: &str) -> Result<models::Space> {
        let key = a.id.as_ref().or(a.key.as_ref()).ok_or_else(|| {
            OpError::invalid(
                format!("`id` or `key` is required for action `{action}`"),
                "pass the space id (digits) or key (e.g. ENG)",
            )
        })?;
        let s = self.client.spaces().get_by_key_or_id(key).await?;
        self.remember_space(&s.id, &s.key);
        Ok(s)
    }

    /// The page `id` names, or (for `get`) the one page titled `title` in space `spaceId`.
    async fn page_id_of(&self, a: &PagesArgs, action: &str) -> Result<String> {
        if let Some(id) = &a.id {
            return Ok(id.clone());
        }
        let (Some(title), Some(space), "get") = (&a.title, &a.space_id, action) else {
            return Err(OpError::invalid(
                format!("`id` is required for action `{action}`"),
                if action == "get" {
                    "pass the page id, or `title` and `spaceId` to find it by title"
                } else {
                    "pass the page id (from list, search or get by title)"
                },
            ));
        };
        let filter = PageList {
            space_id: Some(self.space_id_of(space).await?),
            title: Some(title.clone()),
            ..PageList::default()
        };
        let found = self
            .client
            .pages()
            .list(&filter, &PageRequest::limit(2))
            .await?;
        match found.results.as_slice() {
            [one] => Ok(one.id.clone()),
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
        inline: &Option<String>,
        file: &Option<String>,
        param: &str,
    ) -> Result<Option<String>> {
        match (inline, file) {
            (Some(_), Some(_)) => Err(OpError::invalid(
                format!("give either `{param}` or `{param}File`, not both"),
                "drop one of them",
            )),
            (Some(b), None) => Ok(Some(b.clone())),
            (None, Some(path)) => {
                let param = format!("{param}File");
                self.files_root(&param)?
                    .read_text(&param, path)
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
        file: &Option<String>,
    ) -> Result<BodyOut> {
        if let Some(path) = file {
            self.write_file(path, text.as_bytes()).await?;
            return Ok(BodyOut {
                format: format.into(),
                value: None,
                size: text.len(),
                truncated: false,
                file: Some(path.clone()),
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

    pub(crate) async fn pages(&self, action: &'static str, a: PagesArgs) -> Result<Output> {
        let data = match action {
            "list" => {
                let space_id = match &a.space_id {
                    Some(s) => Some(self.space_id_of(s).await?),
                    None => None,
                };
                let filter = PageList {
                    space_id,
                    title: a.title.clone(),
                    status: a.status.clone(),
                    body_format: None,
                    ids: Vec::new(),
                };
                let page = self
                    .client
                    .pages()
                    .list(&filter, &self.paging(&a.paging)?)
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
            "get" if a.body_format.is_none() => {
                let id = &self.page_id_of(&a, action).await?;
                let page = self.client.pages().get(id.clone().into(), None).await?;
                Data::Page {
                    page: PageItem::from(&page),
                }
            }
            "get" | "getBody" => {
                let id = &self.page_id_of(&a, action).await?;
                let format = Fmt::parse(a.body_format.as_deref())?;
                let page = self
                    .client
                    .pages()
                    .get(id.clone().into(), Some(format.fetch()))
                    .await?;
                let text = format.render(body_of(&page, format.fetch()))?;
                let body = self
                    .body_out(format.name(), &text, a.max_bytes, &a.output_file)
                    .await?;
                Data::PageBody {
                    page: PageItem::from(&page),
                    body,
                }
            }
            "outline" => {
                let id = required(&a.id, "id", action)?;
                let page = self.page_with_body(id).await?;
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
            "getSection" => {
                let id = required(&a.id, "id", action)?;
                let key = a
                    .section_id
                    .as_ref()
                    .or(a.heading.as_ref())
                    .ok_or_else(|| {
                        OpError::invalid(
                            "`sectionId` or `heading` is required for action `getSection`",
                            "run action `outline` to see the section ids",
                        )
                    })?;
                let page = self.page_with_body(id).await?;
                let text = body_of(&page, BodyFormat::Storage);
                let secs = sections::sections(&text);
                let s = sections::find(&secs, key).ok_or_else(|| no_section(key, &secs))?;
                let info = SectionInfo {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    level: s.level,
                    size: s.end - s.start,
                    parent_id: s.parent.map(|p| secs[p].id.clone()),
                };
                let format = Fmt::parse(a.body_format.as_deref())?;
                if !matches!(format, Fmt::Markdown | Fmt::Api(BodyFormat::Storage)) {
                    return Err(OpError::invalid(
                        "sections are read as markdown or storage",
                        "pass bodyFormat markdown (default) or storage",
                    ));
                }
                let part = format.render(text[s.start..s.end].to_string())?;
                let body = self
                    .body_out(format.name(), &part, a.max_bytes, &a.output_file)
                    .await?;
                Data::Section {
                    page: PageItem::from(&page),
                    section: info,
                    body,
                }
            }
            "create" => {
                self.refuse_write("pages.create")?;
                let space_id = &self
                    .space_id_of(required(&a.space_id, "spaceId", action)?)
                    .await?;
                let title = required(&a.title, "title", action)?;
                let body = self
                    .read_text(&a.body, &a.body_file, "body")
                    .await?
                    .unwrap_or_default();
                let body = Fmt::parse(a.body_format.as_deref())?.to_storage(body)?;
                let page = self
                    .client
                    .pages()
                    .create(&NewPage {
                        space_id: space_id.clone(),
                        title: title.clone(),
                        parent_id: a.parent_id.clone(),
                        body: body.clone(),
                        status: a.status.clone(),
                    })
                    .await?;
                Data::Written {
                    page: PageItem::from(&page),
                    size: body.len(),
                }
            }
            "update" => {
                self.refuse_write("pages.update")?;
                let id = required(&a.id, "id", action)?;
                let body = self.read_text(&a.body, &a.body_file, "body").await?;
                if body.is_none() && a.title.is_none() && a.parent_id.is_none() {
                    return Err(OpError::invalid(
                        "action `update` needs `body` (or `bodyFile`), `title` or `parentId`",
                        "pass what changes: the new body, the new title, the new parent",
                    ));
                }
                let body = match body {
                    Some(b) => Some(Fmt::parse(a.body_format.as_deref())?.to_storage(b)?),
                    None => None,
                };
                let page = self.page_with_body(id).await?;
                if let Some(parent) = &a.parent_id {
                    self.check_new_parent(&page, parent).await?;
                }
                let body = body.unwrap_or_else(|| body_of(&page, BodyFormat::Storage));
                let size = body.len();
                let updated = self
                    .publish_under(
                        &page,
                        a.title.as_deref(),
                        body,
                        a.version,
                        a.version_message.clone(),
                        a.parent_id.clone(),
                    )
                    .await?;
                Data::Written {
                    page: PageItem::from(&updated),
                    size,
                }
            }
            "updateSection" => {
                self.refuse_write("pages.updateSection")?;
                let id = required(&a.id, "id", action)?;
                let key = a
                    .section_id
                    .as_ref()
                    .or(a.heading.as_ref())
                    .ok_or_else(|| {
                        OpError::invalid(
                            "`sectionId` or `heading` is required for action `updateSection`",
                            "run action `outline` to see the section ids",
                        )
                    })?;
                let new = self
                    .read_text(&a.body, &a.body_file, "body")
                    .await?
                    .ok_or_else(|| {
                        OpError::invalid(
                            "`body` (or `bodyFile`) is required for action `updateSection`",
                            "pass the section's new content (without its heading)",
                        )
                    })?;
                let new = Fmt::parse(a.body_format.as_deref())?.to_storage(new)?;
                let page = self.page_with_body(id).await?;
                let text = body_of(&page, BodyFormat::Storage);
                let secs = sections::sections(&text);
                let s = sections::find(&secs, key).ok_or_else(|| no_section(key, &secs))?;
                let mut out = String::with_capacity(text.len() + new.len());
                out.push_str(&text[..s.content_start]);
                out.push_str(&new);
                out.push_str(&text[s.end..]);
                let size = out.len();
                let updated = self
                    .publish(&page, None, out, a.version, a.version_message.clone())
                    .await?;
                Data::Written {
                    page: PageItem::from(&updated),
                    size,
                }
            }
            "replace" => {
                self.refuse_write("pages.replace")?;
                let id = required(&a.id, "id", action)?;
                let find = required(&a.find, "find", action)?;
                let with = required(&a.replace_with, "replaceWith", action)?;
                if find.is_empty() {
                    return Err(OpError::invalid(
                        "`find` is empty",
                        "pass the exact text to replace",
                    ));
                }
                let expected = a.expected_count.unwrap_or(1);
                let page = self.page_with_body(id).await?;
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
                let out = text.replace(find.as_str(), with);
                let size = out.len();
                let updated = self
                    .publish(&page, None, out, a.version, a.version_message.clone())
                    .await?;
                Data::Replaced {
                    page: PageItem::from(&updated),
                    replacements: n,
                    size,
                }
            }
            "delete" => {
                self.refuse_write("pages.delete")?;
                let id = required(&a.id, "id", action)?;
                self.client
                    .pages()
                    .delete(id.clone().into(), a.purge.unwrap_or(false))
                    .await?;
                Data::Deleted {
                    id: id.clone(),
                    deleted: true,
                    what: "page",
                    purged: a.purge.unwrap_or(false),
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn spaces(&self, action: &'static str, a: SpacesArgs) -> Result<Output> {
        let data = match action {
            "list" => {
                let keys = a.keys.clone().unwrap_or_default();
                let page = self
                    .client
                    .spaces()
                    .list(&keys, &self.paging(&a.paging)?)
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
            "get" => {
                let s = self.named_space(&a, action).await?;
                Data::Space {
                    space: SpaceItem::from(&s),
                }
            }
            "permissions" => {
                let s = self.named_space(&a, action).await?;
                let page = self
                    .client
                    .spaces()
                    .permissions(&s.id, &self.paging(&a.paging)?)
                    .await?;
                let items = page.results.into_iter().map(PermissionItem::from).collect();
                Data::Permissions {
                    space: SpaceItem::from(&s),
                    list: Listing::new(items, page.next_cursor),
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn search(&self, action: &'static str, a: SearchArgs) -> Result<Output> {
        if action != "cql" {
            return Err(unknown(action));
        }
        let cql = required(&a.cql, "cql", action)?;
        let excerpt = match a.excerpt.as_deref() {
            None | Some("highlight") => Excerpt::Highlight,
            Some("indexed") => Excerpt::Indexed,
            Some("none") => Excerpt::None,
            Some(o) => {
                return Err(OpError::invalid(
                    format!("`excerpt` `{o}` is not supported"),
                    "`excerpt` must be one of: indexed, highlight, none",
                ));
            }
        };
        let cql = self.scope_cql(cql);
        let mut paging = self.paging(&a.paging)?;
        if paging.cursor.is_none()
            && let Some(start) = a.start
        {
            paging.cursor = Some(format!("start:{start}"));
        }
        let params = SearchParams {
            cqlcontext: a.cqlcontext.clone(),
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

    pub(crate) async fn content(&self, action: &'static str, a: ContentArgs) -> Result<Output> {
        let data = match action {
            "children" | "folders" => {
                let id = required(&a.id, "id", action)?;
                let paging = self.paging(&a.paging)?;
                let content = self.client.content();
                // Only direct-children lists folders: no fallback for `folders`.
                let page = if action == "folders" {
                    content.direct_children(id.clone().into(), &paging).await?
                } else {
                    content.children(id.clone().into(), &paging).await?
                };
                let items = page
                    .results
                    .into_iter()
                    .filter(|c| action == "children" || c.content_type == "folder")
                    .map(NodeItem::from)
                    .collect();
                Data::Nodes(Listing::new(items, page.next_cursor))
            }
            "ancestors" => {
                let id = required(&a.id, "id", action)?;
                let refs = self.client.content().ancestors(id.clone().into()).await?;
                let items = self.titled(refs).await?;
                Data::Nodes(Listing::new(items, None))
            }
            "descendants" => {
                let id = required(&a.id, "id", action)?;
                let page = self
                    .client
                    .content()
                    .descendants(id.clone().into(), a.depth, &self.paging(&a.paging)?)
                    .await?;
                Data::Nodes(Listing::new(
                    page.results.into_iter().map(NodeItem::from).collect(),
                    page.next_cursor,
                ))
            }
            "tree" => {
                let key = a
                    .space_id
                    .as_ref()
                    .or(a.space_key.as_ref())
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
                let depth = a.depth.unwrap_or(2).clamp(1, 10);
                let paging = self.paging(&Paging {
                    limit: Some(a.paging.limit.unwrap_or(250)),
                    cursor: a.paging.cursor.clone(),
                })?;
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
            "createFolder" => {
                self.refuse_write("content.createFolder")?;
                let space_id = &self
                    .space_id_of(required(&a.space_id, "spaceId", action)?)
                    .await?;
                let title = required(&a.title, "title", action)?;
                let f = self
                    .client
                    .folders()
                    .create(space_id, title, a.parent_id.as_deref())
                    .await?;
                Data::Folder {
                    folder: NodeItem::from(f),
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn comments(&self, action: &'static str, a: CommentsArgs) -> Result<Output> {
        let page_id = a.id.as_ref();
        let data = match action {
            "getFooter" | "getInline" => {
                let id = page_id.ok_or_else(|| {
                    OpError::invalid(
                        format!("`id` (the page id) is required for action `{action}`"),
                        "pass the page id",
                    )
                })?;
                let format = Fmt::parse(a.body_format.as_deref())?;
                let fmt = Some(format.fetch());
                let paging = self.paging(&a.paging)?;
                let page = if action == "getFooter" {
                    self.client
                        .comments()
                        .footer(id.clone().into(), fmt, &paging)
                        .await?
                } else {
                    self.client
                        .comments()
                        .inline(id.clone().into(), fmt, &paging)
                        .await?
                };
                let roots = page.results.into_iter().map(CommentItem::from).collect();
                let mut items = self.threads(roots, action == "getInline", format).await?;
                for item in &mut items {
                    item.page_id.get_or_insert_with(|| id.clone());
                }
                Data::Comments(Listing::new(items, page.next_cursor))
            }
            "addFooter" => {
                self.refuse_write("comments.addFooter")?;
                let body = required(&a.body, "body", action)?;
                if page_id.is_none() && a.parent_comment_id.is_none() {
                    return Err(OpError::invalid(
                        "`id` (the page id) or `parentCommentId` is required for action `addFooter`",
                        "pass the page id for a new comment, or parentCommentId to reply",
                    ));
                }
                // A reply lands on its parent comment's page, whatever `id` says (the guardrails
                // checked that page): a different `id` is a mistake to name.
                let target = match &a.parent_comment_id {
                    Some(parent) if page_id.is_some() => {
                        let parent = self.client.comments().footer_comment(parent).await?;
                        let on = parent.page_id.clone().ok_or_else(|| {
                            OpError::policy(
                                "the comment answered is not on a page, so its space cannot be \
                                 checked",
                                "reply to a comment on a page",
                            )
                        })?;
                        if let Some(p) = page_id
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
                    None => page_id.cloned(),
                };
                let body = Fmt::parse(a.body_format.as_deref())?.to_storage(body.clone())?;
                let c = self
                    .client
                    .comments()
                    .add_footer(
                        page_id.map(|p| p.clone().into()),
                        a.parent_comment_id.clone(),
                        &body,
                    )
                    .await?;
                let mut item = CommentItem::from(c);
                if item.page_id.is_none() {
                    item.page_id = target.or(page_id.cloned());
                }
                Data::Comment { comment: item }
            }
            "delete" => {
                self.refuse_write("comments.delete")?;
                let id = required(&a.comment_id, "commentId", action)?;
                self.client.comments().delete(id).await?;
                Data::Deleted {
                    id: id.clone(),
                    deleted: true,
                    what: "comment",
                    purged: true,
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn labels(&self, action: &'static str, a: LabelsArgs) -> Result<Output> {
        let id = required(&a.id, "id", action)?;
        let data = match action {
            "getForPage" => {
                let page = self
                    .client
                    .labels()
                    .for_page(id.clone().into(), &self.paging(&a.paging)?)
                    .await?;
                Data::Labels {
                    page_id: id.clone(),
                    list: Listing::new(
                        page.results.into_iter().map(LabelItem::from).collect(),
                        page.next_cursor,
                    ),
                }
            }
            "addToPage" => {
                self.refuse_write("labels.addToPage")?;
                let labels = required(&a.labels, "labels", action)?;
                let all = self.client.labels().add(id.clone().into(), labels).await?;
                Data::Labels {
                    page_id: id.clone(),
                    list: Listing::new(all.into_iter().map(LabelItem::from).collect(), None),
                }
            }
            "remove" => {
                self.refuse_write("labels.remove")?;
                let labels = required(&a.labels, "labels", action)?;
                // Removing is idempotent: a label that is not there is gone already (the read
                // below still fails when the page itself is missing).
                for name in labels {
                    match self.client.labels().remove(id.clone().into(), name).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == conflux_client::ErrorKind::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                let left = self
                    .client
                    .labels()
                    .for_page(id.clone().into(), &PageRequest::limit(250))
                    .await?;
                Data::Labels {
                    page_id: id.clone(),
                    list: Listing::new(
                        left.results.into_iter().map(LabelItem::from).collect(),
                        left.next_cursor,
                    ),
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn attachments(
        &self,
        action: &'static str,
        a: AttachmentsArgs,
    ) -> Result<Output> {
        let data = match action {
            "listForPage" => {
                let id = a.id.as_ref().ok_or_else(|| {
                    OpError::invalid(
                        "`id` (the page id) is required for action `listForPage`",
                        "pass the page id",
                    )
                })?;
                let page = self
                    .client
                    .attachments()
                    .for_page(id.clone().into(), &self.paging(&a.paging)?)
                    .await?;
                Data::Attachments(Listing::new(
                    page.results.into_iter().map(AttachmentItem::from).collect(),
                    page.next_cursor,
                ))
            }
            "get" => {
                let id = a.id.as_ref().ok_or_else(|| {
                    OpError::invalid(
                        "`id` (the attachment id) is required for action `get`",
                        "pass the attachment id",
                    )
                })?;
                let att = self.client.attachments().get(id).await?;
                Data::Attachment {
                    attachment: AttachmentItem::from(att),
                }
            }
            "download" => {
                let id = a.id.as_ref().ok_or_else(|| {
                    OpError::invalid(
                        "`id` (the attachment id) is required for action `download`",
                        "pass the attachment id",
                    )
                })?;
                let att = self.client.attachments().get(id).await?;
                let page_id = att
                    .page_id
                    .clone()
                    .or_else(|| a.page_id.clone())
                    .ok_or_else(|| {
                        OpError::invalid(
                            "Confluence did not say which page holds this attachment",
                            "pass `pageId` as well",
                        )
                    })?;
                let cap = a.max_bytes.unwrap_or(self.config.max_download_bytes);
                if att.file_size > cap {
                    return Err(OpError::invalid(
                        format!(
                            "the attachment is {} bytes, over the {cap}-byte cap",
                            att.file_size
                        ),
                        "raise `maxBytes`, or use the download link from action `get`",
                    ));
                }
                let dl = self
                    .client
                    .attachments()
                    .download(page_id.into(), id, Some(cap))
                    .await?;
                let media_type = dl
                    .media_type
                    .clone()
                    .unwrap_or_else(|| att.media_type.clone());
                let size = dl.bytes.len();
                let (data, file) = match &a.output_file {
                    Some(path) => {
                        self.write_file(path, &dl.bytes).await?;
                        (None, Some(path.clone()))
                    }
                    None => (
                        Some(base64::engine::general_purpose::STANDARD.encode(&dl.bytes)),
                        None,
                    ),
                };
                Data::Download {
                    attachment: AttachmentItem::from(att),
                    media_type,
                    size,
                    data,
                    file,
                }
            }
            "delete" => {
                self.refuse_write("attachments.delete")?;
                let id = required(&a.id, "id", action)?;
                self.client.attachments().delete(id, false).await?;
                Data::Deleted {
                    id: id.clone(),
                    deleted: true,
                    what: "attachment",
                    purged: false,
                }
            }
            "upload" => {
                self.refuse_write("attachments.upload")?;
                let page_id = a.id.as_ref().ok_or_else(|| {
                    OpError::invalid(
                        "`id` (the page id) is required for action `upload`",
                        "pass the page to attach to",
                    )
                })?;
                let bytes: Vec<u8> = match (&a.data, &a.file_path) {
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
                            "action `upload` needs exactly one of `data` (base64) or `filePath`",
                            "pass the file's bytes as base64 in `data`",
                        ));
                    }
                };
                let file_name = match (&a.file_name, &a.file_path) {
                    (Some(n), _) => n.clone(),
                    (None, Some(p)) => std::path::Path::new(p)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    (None, None) => {
                        return Err(OpError::invalid(
                            "`fileName` is required for action `upload`",
                            "pass the attachment's file name",
                        ));
                    }
                };
                let size = bytes.len();
                let id = self
                    .client
                    .attachments()
                    .upload(
                        page_id.clone().into(),
                        NewAttachment {
                            file_name: file_name.clone(),
                            media_type: a
                                .media_type
                                .clone()
                                .unwrap_or_else(|| "application/octet-stream".into()),
                            bytes: bytes.into(),
                            comment: a.comment.clone(),
                        },
                    )
                    .await?;
                Data::Uploaded {
                    id,
                    page_id: page_id.clone(),
                    title: file_name,
                    size,
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    pub(crate) async fn versions(&self, action: &'static str, a: VersionsArgs) -> Result<Output> {
        let id = required(&a.id, "id", action)?;
        let data = match action {
            "listForPage" => {
                let page = self
                    .client
                    .versions()
                    .for_page(id.clone().into(), &self.paging(&a.paging)?)
                    .await?;
                Data::Versions {
                    page_id: id.clone(),
                    list: Listing::new(
                        page.results.into_iter().map(VersionItem::from).collect(),
                        page.next_cursor,
                    ),
                }
            }
            "get" => {
                let n = *required(&a.version, "version", action)?;
                let format = Fmt::parse(a.body_format.as_deref())?;
                let page = self
                    .client
                    .pages()
                    .get_version(id.clone().into(), n, format.fetch())
                    .await?;
                let text = format.render(body_of(&page, format.fetch()))?;
                let body = self
                    .body_out(format.name(), &text, a.max_bytes, &None)
                    .await?;
                Data::VersionBody {
                    page: PageItem::from(&page),
                    version: n,
                    body,
                }
            }
            "diff" => {
                let from = *required(&a.from, "from", action)?;
                let to = match a.to {
                    Some(t) => t,
                    None => self
                        .client
                        .pages()
                        .get(id.clone().into(), None)
                        .await?
                        .version
                        .map(|v| v.number)
                        .unwrap_or(1),
                };
                let old = self
                    .client
                    .pages()
                    .get_version(id.clone().into(), from, BodyFormat::Storage)
                    .await?;
                let new = self
                    .client
                    .pages()
                    .get_version(id.clone().into(), to, BodyFormat::Storage)
                    .await?;
                let format = Fmt::parse(a.body_format.as_deref())?;
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
                let (text, _) = cap(&text, a.max_bytes.unwrap_or(self.config.max_body_bytes));
                Data::Diff {
                    page_id: id.clone(),
                    from,
                    to,
                    added,
                    removed,
                    diff: text.to_string(),
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }
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
    pub(crate) async fn databases(&self, action: &'static str, a: DatabasesArgs) -> Result<Output> {
        let data = match action {
            "entries" => {
                let id = required(&a.id, "id", action)?;
                // Read the metadata only to say which database this is; the answer is the same,
                // but not for a database the space lists keep out.
                let which = match self.client.databases().get(id).await {
                    Ok(db) => {
                        format!("database `{}` (id {id}) exists", db.title)
                    }
                    Err(_) if self.needs_space_check(false) => {
                        return Err(OpError::policy(
                            format!(
                                "this server limits spaces, and database {id} could not be read                                  to tell its space"
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
            "get" => {
                let id = required(&a.id, "id", action)?;
                let db = self.client.databases().get(id).await?;
                Data::Database {
                    database: NodeItem::from(db),
                }
            }
            "create" => {
                self.refuse_write("databases.create")?;
                let space_id = &self
                    .space_id_of(required(&a.space_id, "spaceId", action)?)
                    .await?;
                let title = required(&a.title, "title", action)?;
                let db = self
                    .client
                    .databases()
                    .create(space_id, title, a.parent_id.as_deref())
                    .await?;
                Data::Database {
                    database: NodeItem::from(db),
                }
            }
            "delete" => {
                self.refuse_write("databases.delete")?;
                let id = required(&a.id, "id", action)?;
                self.client.databases().delete(id).await?;
                Data::Deleted {
                    id: id.clone(),
                    deleted: true,
                    what: "database",
                    purged: false,
                }
            }
            _ => return Err(unknown(action)),
        };
        Ok(Output::new(action, data))
    }

    /// `connection.check`: the doctor's report for this server's credential.
    pub(crate) async fn connection(
        &self,
        action: &'static str,
        a: ConnectionArgs,
    ) -> Result<Output> {
        if action != "check" {
            return Err(unknown(action));
        }
        let options = crate::doctor::Options {
            site: None,
            tools: a.tools.unwrap_or_default(),
            read_only: self.config.read_only,
        };
        let report = crate::doctor::diagnose(&self.client, &options).await;
        Ok(Output::new(action, Data::Connection(Box::new(report))))
    }
}

fn unknown(action: &str) -> OpError {
    OpError::invalid(
        format!("unknown action `{action}`"),
        "see the tool's `action` enum",
    )
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
