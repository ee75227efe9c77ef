use conflux_catalog::Operation;
use serde_json::json;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::{LongTask, Page as ConfluencePage, V1Content};
use crate::paging::{Page, PageRequest, stream_pages};
use crate::retry::Backoff;
use crate::transport::Call;

/// Body representations v2 can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BodyFormat {
    #[default]
    Storage,
    AtlasDocFormat,
    View,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Storage => "storage",
            BodyFormat::AtlasDocFormat => "atlas_doc_format",
            BodyFormat::View => "view",
        }
    }
}

/// Filters for listing pages.
#[derive(Clone, Debug, Default)]
pub struct PageList {
    pub space_id: Option<String>,
    pub title: Option<String>,
    /// `current`, `draft`, `archived`, `trashed`.
    pub status: Option<String>,
    pub body_format: Option<BodyFormat>,
    /// Only these pages (at most 250 ids).
    pub ids: Vec<String>,
}

/// A page to create.
#[derive(Clone, Debug)]
pub struct NewPage {
    pub space_id: String,
    pub title: String,
    pub parent_id: Option<String>,
    /// Storage-format body.
    pub body: String,
    /// `current` (published) or `draft`.
    pub status: Option<String>,
}

/// A new version of a page.
#[derive(Clone, Debug)]
pub struct PageUpdate {
    pub title: String,
    pub body: String,
    /// Must be the page's current version + 1.
    pub version: u64,
    pub message: Option<String>,
    pub status: Option<String>,
    /// Moves the page under this parent (same space only: Confluence moves no page across
    /// spaces this way).
    pub parent_id: Option<String>,
}

/// Where [`Pages::move_page`] puts a page relative to its target page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MovePosition {
    /// A sibling of the target, just before it.
    Before,
    /// A sibling of the target, just after it.
    After,
    /// A child of the target, last among its children.
    Append,
}

impl MovePosition {
    pub fn as_str(self) -> &'static str {
        match self {
            MovePosition::Before => "before",
            MovePosition::After => "after",
            MovePosition::Append => "append",
        }
    }
}

/// Where [`Pages::copy`] puts the copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CopyDestination {
    /// At the top of the space with this key.
    Space(String),
    /// Under this page.
    ParentPage(String),
    /// Over this page (its next version).
    ExistingPage(String),
}

/// What a copy takes along, and what it is called.
#[derive(Clone, Debug, Default)]
pub struct CopyOptions {
    /// The copy's title (default: the source's; a title taken in the destination space is
    /// refused, so a copy within one space needs one).
    pub title: Option<String>,
    pub copy_attachments: bool,
    pub copy_labels: bool,
    pub copy_properties: bool,
    /// Page restrictions.
    pub copy_permissions: bool,
}

/// What a hierarchy copy takes along and how it renames (`search` → `replace`, then
/// `prefix`): every copied title must be free in the destination space.
#[derive(Clone, Debug)]
pub struct HierarchyCopyOptions {
    /// Copy the descendants too (Confluence's default).
    pub copy_descendants: bool,
    pub title_prefix: Option<String>,
    pub title_search: Option<String>,
    pub title_replace: Option<String>,
    pub copy_attachments: bool,
    pub copy_labels: bool,
    pub copy_properties: bool,
    pub copy_permissions: bool,
}

impl Default for HierarchyCopyOptions {
    fn default() -> Self {
        HierarchyCopyOptions {
            copy_descendants: true,
            title_prefix: None,
            title_search: None,
            title_replace: None,
            copy_attachments: false,
            copy_labels: false,
            copy_properties: false,
            copy_permissions: false,
        }
    }
}

/// `client.pages()`: v2 pages.
pub struct Pages<'a> {
    pub(crate) client: &'a Client,
}

impl Pages<'_> {
    pub async fn list(
        &self,
        filter: &PageList,
        page: &PageRequest,
    ) -> Result<Page<ConfluencePage>> {
        let call = Call::new(Operation::GetPages, &[])?
            .query_opt("space-id", filter.space_id.as_deref())
            .query_opt("title", filter.title.as_deref())
            .query_opt("status", filter.status.as_deref())
            .query_opt("body-format", filter.body_format.map(BodyFormat::as_str));
        let call = if filter.ids.is_empty() {
            call
        } else {
            call.query("id", filter.ids.join(","))
        };
        self.client.list(call, page).await
    }

    /// Every page matching `filter`, following cursors.
    pub fn list_all<'s>(
        &'s self,
        filter: &'s PageList,
        limit: u32,
    ) -> impl futures::Stream<Item = Result<ConfluencePage>> + 's {
        stream_pages(PageRequest::limit(limit), move |req| async move {
            self.list(filter, &req).await
        })
    }

    /// A page; with `body_format`, its body in that representation.
    pub async fn get(
        &self,
        id: conflux_types::PageId,
        body_format: Option<BodyFormat>,
    ) -> Result<ConfluencePage> {
        let call = Call::new(Operation::GetPageById, &[("id", id.as_str())])?
            .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.json(call).await
    }

    /// The page as it was at `version`, with its body.
    pub async fn get_version(
        &self,
        id: conflux_types::PageId,
        version: u64,
        body_format: BodyFormat,
    ) -> Result<ConfluencePage> {
        let call = Call::new(Operation::GetPageById, &[("id", id.as_str())])?
            .query("version", version)
            .query("body-format", body_format.as_str());
        self.client.json(call).await
    }

    /// Creates a page, exactly once as the caller sees it: when the answer is lost or is a
    /// 5xx, the page is looked up (space, title, parent, body) and reported created when it
    /// exists; when it does not, the create is sent again, within the retry deadline. A
    /// repeated create that meets "a page with this title already exists" is looked up the
    /// same way.
    pub async fn create(&self, page: &NewPage) -> Result<ConfluencePage> {
        if page.title.trim().is_empty() {
            return Err(ClientError::InvalidInput("a page needs a title".into()));
        }
        let mut body = json!({
            "spaceId": page.space_id,
            "status": page.status.as_deref().unwrap_or("current"),
            "title": page.title,
            "body": { "representation": "storage", "value": page.body },
        });
        if let Some(parent) = &page.parent_id {
            body["parentId"] = json!(parent);
        }
        let call = Call::new(Operation::CreatePage, &[])?.json(body);
        create_once(self.client, call, true, || self.find_created(page)).await
    }

    /// The page `page` describes, when it exists: same space, title, parent (when given) and
    /// body (after the converter's normalization: Cloud rewrites storage on save).
    async fn find_created(&self, page: &NewPage) -> Result<Option<ConfluencePage>> {
        let status = page.status.as_deref().unwrap_or("current");
        if status != "current" {
            return Ok(None); // drafts have no unique title to look for
        }
        let filter = PageList {
            space_id: Some(page.space_id.clone()),
            title: Some(page.title.clone()),
            status: Some(status.to_string()),
            body_format: Some(BodyFormat::Storage),
            ids: Vec::new(),
        };
        let found = self.list(&filter, &PageRequest::limit(25)).await?;
        Ok(found.results.into_iter().find(|p| {
            p.title == page.title
                && page
                    .parent_id
                    .as_deref()
                    .is_none_or(|want| p.parent_id.as_deref() == Some(want))
                && same_storage(&storage_of(p), &page.body)
        }))
    }

    /// Publishes a new version; a stale `version` gets [`ClientError::VersionConflict`].
    ///
    /// Exactly once as the caller sees it: a PUT whose answer was lost is sent again and then
    /// meets 409 although it was applied; so a conflict (or an answer that never came) is
    /// checked against the page: when its current version is the one sent, with the title
    /// and body sent (compared after normalization), the update is reported applied.
    pub async fn update(
        &self,
        id: conflux_types::PageId,
        update: &PageUpdate,
    ) -> Result<ConfluencePage> {
        if update.version < 2 {
            return Err(ClientError::InvalidInput(
                "`version` must be the page's current version + 1 (so at least 2)".into(),
            ));
        }
        let mut version = json!({ "number": update.version });
        if let Some(m) = &update.message {
            version["message"] = json!(m);
        }
        let mut body = json!({
            "id": id.as_str(),
            "status": update.status.as_deref().unwrap_or("current"),
            "title": update.title,
            "body": { "representation": "storage", "value": update.body },
            "version": version,
        });
        if let Some(parent) = &update.parent_id {
            body["parentId"] = json!(parent);
        }
        let call = Call::new(Operation::UpdatePage, &[("id", id.as_str())])?.json(body);
        let error = match self.client.json(call).await {
            Ok(p) => return Ok(p),
            Err(e) => e,
        };
        let conflict = matches!(error, ClientError::VersionConflict { .. });
        if !(conflict || outcome_unknown(&error)) {
            return Err(error);
        }
        let current = match self.get(id, Some(BodyFormat::Storage)).await {
            Ok(p) => p,
            Err(_) => return Err(error),
        };
        settle_update(error, current, update.version, &update.title, &update.body)
    }

    /// Moves a page, with its subtree, relative to `target_id` (v1; v2 moves only within a
    /// space). The target may be in another space: the page and its subtree then join it.
    /// Repeating a move that was applied changes nothing, so a lost answer is simply retried.
    pub async fn move_page(
        &self,
        id: conflux_types::PageId,
        position: MovePosition,
        target_id: conflux_types::PageId,
    ) -> Result<()> {
        let call = Call::new(
            Operation::MovePage,
            &[
                ("pageId", id.as_str()),
                ("position", position.as_str()),
                ("targetId", target_id.as_str()),
            ],
        )?;
        self.client.send(&call).await.map(|_| ())
    }

    /// Copies one page (v1). Answers the copy (v1 shape). Not repeated when its answer is
    /// lost: a second copy would be refused for its title, or made twice.
    pub async fn copy(
        &self,
        id: conflux_types::PageId,
        destination: &CopyDestination,
        options: &CopyOptions,
    ) -> Result<V1Content> {
        let (kind, value) = match destination {
            CopyDestination::Space(key) => ("space", key),
            CopyDestination::ParentPage(p) => ("parent_page", p),
            CopyDestination::ExistingPage(p) => ("existing_page", p),
        };
        let mut body = json!({
            "destination": { "type": kind, "value": value },
            "copyAttachments": options.copy_attachments,
            "copyLabels": options.copy_labels,
            "copyProperties": options.copy_properties,
            "copyPermissions": options.copy_permissions,
        });
        if let Some(t) = &options.title {
            body["pageTitle"] = json!(t);
        }
        let call = Call::new(Operation::CopyPage, &[("id", id.as_str())])?.json(body);
        self.client.json(call).await
    }

    /// Starts copying a page (with its descendants) under `destination_parent` (v1). Answers
    /// the long-running task; follow it with [`crate::api::Tasks::wait`]. Needs, besides
    /// `write:page:confluence`, `read:content.metadata:confluence` (granular) to start it and
    /// to follow it; with classic scopes `write:confluence-content` starts it and following it
    /// takes `read:confluence-space.summary`.
    pub async fn copy_hierarchy(
        &self,
        id: conflux_types::PageId,
        destination_parent: conflux_types::PageId,
        options: &HierarchyCopyOptions,
    ) -> Result<LongTask> {
        let mut titles = json!({});
        for (k, v) in [
            ("prefix", &options.title_prefix),
            ("search", &options.title_search),
            ("replace", &options.title_replace),
        ] {
            if let Some(v) = v {
                titles[k] = json!(v);
            }
        }
        let body = json!({
            "destinationPageId": destination_parent.as_str(),
            "copyDescendants": options.copy_descendants,
            "copyAttachments": options.copy_attachments,
            "copyLabels": options.copy_labels,
            "copyProperties": options.copy_properties,
            "copyPermissions": options.copy_permissions,
            "titleOptions": titles,
        });
        let call = Call::new(Operation::CopyPageHierarchy, &[("id", id.as_str())])?.json(body);
        self.client.json(call).await
    }

    /// Moves the page to the trash (`purge` deletes a trashed page for good).
    pub async fn delete(&self, id: conflux_types::PageId, purge: bool) -> Result<()> {
        let call = Call::new(Operation::DeletePage, &[("id", id.as_str())])?
            .query_opt("purge", purge.then_some("true"));
        self.client.send(&call).await.map(|_| ())
    }
}

/// An update (of a page or blog post) that met a conflict or no answer, settled by what is
/// there now: `current` when it is at the version sent with the title and body sent (the
/// update was applied and its answer lost), else the error, a conflict naming the current
/// version.
pub(crate) fn settle_update(
    error: ClientError,
    current: ConfluencePage,
    version: u64,
    title: &str,
    body: &str,
) -> Result<ConfluencePage> {
    let number = current.version.as_ref().map(|v| v.number);
    if number == Some(version)
        && current.title == title
        && same_storage(&storage_of(&current), body)
    {
        tracing::info!(version, "the update was applied; its answer was lost");
        return Ok(current);
    }
    match error {
        ClientError::VersionConflict { message, .. } => Err(ClientError::VersionConflict {
            current: number,
            message,
        }),
        other => Err(other),
    }
}

/// Sends a create until it is answered, exactly once as the caller sees it: when the answer
/// is lost or is a 5xx (or, with `exists_means_sent`, a repeat meets "already exists"), `find`
/// looks for what the create made, and what it finds is the answer. Found nothing, the create
/// is sent again within the retry deadline (a repeat that met "already exists" ends there); a
/// lookup that fails ends it with the create's error. Pages and blog posts (which the
/// client's models read as pages) are made this way.
pub(crate) async fn create_once<F>(
    client: &Client,
    call: Call,
    exists_means_sent: bool,
    mut find: impl FnMut() -> F,
) -> Result<ConfluencePage>
where
    F: std::future::Future<Output = Result<Option<ConfluencePage>>>,
{
    let mut backoff = Backoff::new(&client.config().retry);
    let mut sent = false;
    loop {
        backoff.attempt();
        let error = match client.json::<ConfluencePage>(call.clone()).await {
            Ok(made) => return Ok(made),
            Err(e) => e,
        };
        let repeated_exists = exists_means_sent && sent && title_exists(&error);
        if !(outcome_unknown(&error) || repeated_exists) {
            return Err(error);
        }
        sent = true;
        match find().await {
            Ok(Some(found)) => {
                tracing::info!(id = %found.id, "the create's answer was lost; it exists");
                return Ok(found);
            }
            Ok(None) if repeated_exists => return Err(error),
            Ok(None) => {}
            Err(lookup) => {
                tracing::debug!(error = %lookup, "could not look for what the create made");
                return Err(error);
            }
        }
        match backoff.next_wait(None) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Err(error),
        }
    }
}

/// Whether a write may have been applied although it was not reported: no answer came, or a
/// 5xx did (Cloud has been seen failing after the commit).
pub(crate) fn outcome_unknown(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Transport {
            may_have_been_sent: true,
            ..
        } | ClientError::Upstream { .. }
            | ClientError::Decode { .. }
    )
}

/// Cloud's refusal of a second page with the same title in a space.
fn title_exists(e: &ClientError) -> bool {
    matches!(e, ClientError::BadRequest { message, .. }
        if message.to_ascii_lowercase().contains("already exists"))
}

pub(crate) fn storage_of(p: &ConfluencePage) -> String {
    p.body
        .as_ref()
        .and_then(|b| b.storage.as_ref())
        .map(|s| s.value.clone())
        .unwrap_or_default()
}

/// Two storage bodies say the same: equal, or equal after the converter's normalization
/// (Cloud rewrites storage on save: self-closed tags, whitespace between tags).
pub(crate) fn same_storage(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let norm = |s: &str| {
        conflux_convert::storage_to_markdown(s)
            .ok()
            .filter(|o| !o.failed)
            .map(|o| o.output.trim().to_string())
    };
    match (norm(a), norm(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_compared_as_confluence_rewrites_it() {
        assert!(same_storage(
            "<p>a<br>b</p><p>c</p>",
            "<p>a<br />b</p>\n<p>c</p>"
        ));
        assert!(!same_storage("<p>a</p>", "<p>b</p>"));
    }
}
