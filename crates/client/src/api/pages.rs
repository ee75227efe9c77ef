use conflux_catalog::Operation;
use serde_json::json;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::Page as ConfluencePage;
use crate::paging::{Page, PageRequest, stream_pages};
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
        self.client
            .json(Call::new(Operation::CreatePage, &[])?.json(body))
            .await
    }

    /// Publishes a new version; a stale `version` gets [`ClientError::VersionConflict`].
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
        match self.client.json(call).await {
            Err(ClientError::VersionConflict {
                current: None,
                message,
            }) => {
                // Confluence does not always say which version is current: read it, so the
                // caller's error names the number to retry with.
                let current = self
                    .get(id, None)
                    .await
                    .ok()
                    .and_then(|p| p.version)
                    .map(|v| v.number);
                Err(ClientError::VersionConflict { current, message })
            }
            other => other,
        }
    }

    /// Moves the page to the trash (`purge` deletes a trashed page for good).
    pub async fn delete(&self, id: conflux_types::PageId, purge: bool) -> Result<()> {
        let call = Call::new(Operation::DeletePage, &[("id", id.as_str())])?
            .query_opt("purge", purge.then_some("true"));
        self.client.send(&call).await.map(|_| ())
    }
}
