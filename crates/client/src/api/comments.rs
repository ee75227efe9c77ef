use conflux_catalog::Operation;
use conflux_types::PageId;
use serde_json::json;

use crate::Client;
use crate::api::BodyFormat;
use crate::api::pages::{outcome_unknown, same_storage};
use crate::error::{ClientError, Result};
use crate::models::Comment;
use crate::paging::{Page, PageRequest};
use crate::retry::Backoff;
use crate::transport::Call;

/// The text an inline comment highlights: occurrence `match_index` (0-based) of the
/// `match_count` occurrences of `text` in the page. Without them, the first occurrence and
/// whatever count the page has.
#[derive(Clone, Debug, Default)]
pub struct TextSelection {
    pub text: String,
    pub match_count: Option<u32>,
    pub match_index: Option<u32>,
}

/// `client.comments()`: footer and inline comments (v2).
pub struct Comments<'a> {
    pub(crate) client: &'a Client,
}

impl Comments<'_> {
    pub async fn footer(
        &self,
        page_id: PageId,
        body_format: Option<BodyFormat>,
        page: &PageRequest,
    ) -> Result<Page<Comment>> {
        let call = Call::new(
            Operation::GetPageFooterComments,
            &[("id", page_id.as_str())],
        )?
        .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.list(call, page).await
    }

    pub async fn inline(
        &self,
        page_id: PageId,
        body_format: Option<BodyFormat>,
        page: &PageRequest,
    ) -> Result<Page<Comment>> {
        let call = Call::new(
            Operation::GetPageInlineComments,
            &[("id", page_id.as_str())],
        )?
        .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.list(call, page).await
    }

    /// One footer comment (its page is `page_id`; a reply's too).
    pub async fn footer_comment(&self, comment_id: &str) -> Result<Comment> {
        self.client
            .json(Call::new(
                Operation::GetFooterCommentById,
                &[("comment-id", comment_id)],
            )?)
            .await
    }

    /// Deletes a footer comment for good (Cloud keeps no trash of comments), with its replies.
    pub async fn delete(&self, comment_id: &str) -> Result<()> {
        let call = Call::new(
            Operation::DeleteFooterComment,
            &[("comment-id", comment_id)],
        )?;
        self.client.send(&call).await.map(|_| ())
    }

    /// Replies to a footer comment.
    pub async fn replies(
        &self,
        comment_id: &str,
        body_format: Option<BodyFormat>,
        page: &PageRequest,
    ) -> Result<Page<Comment>> {
        let call = Call::new(Operation::GetFooterCommentChildren, &[("id", comment_id)])?
            .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.list(call, page).await
    }

    /// Replies to an inline comment.
    pub async fn inline_replies(
        &self,
        comment_id: &str,
        body_format: Option<BodyFormat>,
        page: &PageRequest,
    ) -> Result<Page<Comment>> {
        let call = Call::new(Operation::GetInlineCommentChildren, &[("id", comment_id)])?
            .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.list(call, page).await
    }

    /// A footer comment on `page_id`, or a reply to `parent_comment_id` (exactly one of them).
    pub async fn add_footer(
        &self,
        page_id: Option<PageId>,
        parent_comment_id: Option<String>,
        storage_body: &str,
    ) -> Result<Comment> {
        if storage_body.trim().is_empty() {
            return Err(ClientError::InvalidInput("a comment needs a body".into()));
        }
        let mut body = json!({ "body": { "representation": "storage", "value": storage_body } });
        match (page_id, parent_comment_id) {
            (_, Some(parent)) => body["parentCommentId"] = json!(parent),
            (Some(page), None) => body["pageId"] = json!(page.as_str()),
            (None, None) => {
                return Err(ClientError::InvalidInput(
                    "give `pageId` for a new comment or `parentCommentId` for a reply".into(),
                ));
            }
        }
        let parent = body
            .get("parentCommentId")
            .and_then(|v| v.as_str())
            .map(String::from);
        let page = body
            .get("pageId")
            .and_then(|v| v.as_str())
            .map(String::from);
        let call = Call::new(Operation::CreateFooterComment, &[])?.json(body);
        let mut backoff = Backoff::new(&self.client.config().retry);
        loop {
            backoff.attempt();
            let error = match self.client.json::<Comment>(call.clone()).await {
                Ok(c) => return Ok(c),
                Err(e) if outcome_unknown(&e) => e,
                Err(e) => return Err(e),
            };
            // The answer was lost or was a 5xx: look for the comment among the newest of its
            // page (or parent), by author and body; create it again only when it is absent.
            match self
                .find_created(page.as_deref(), parent.as_deref(), storage_body)
                .await
            {
                Ok(Some(found)) => {
                    tracing::info!(id = %found.id, "the comment's answer was lost; it exists");
                    return Ok(found);
                }
                Ok(None) => {}
                Err(_) => return Err(error),
            }
            match backoff.next_wait(None) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
        }
    }

    /// A footer comment by the current user with `storage_body` on `page` (or under
    /// `parent`), among the newest 250.
    async fn find_created(
        &self,
        page: Option<&str>,
        parent: Option<&str>,
        storage_body: &str,
    ) -> Result<Option<Comment>> {
        let me = self.client.users().current().await?.account_id;
        let limit = PageRequest::limit(250);
        let listed = match (parent, page) {
            (Some(parent), _) => {
                self.replies(parent, Some(BodyFormat::Storage), &limit)
                    .await?
            }
            (None, Some(page)) => {
                self.footer(PageId::new(page), Some(BodyFormat::Storage), &limit)
                    .await?
            }
            (None, None) => return Ok(None),
        };
        Ok(listed.results.into_iter().rev().find(|c| {
            let author = c.version.as_ref().and_then(|v| v.author_id.as_deref());
            let body = c
                .body
                .as_ref()
                .and_then(|b| b.storage.as_ref())
                .map(|s| s.value.as_str())
                .unwrap_or_default();
            author.is_none_or(|a| a == me) && same_storage(body, storage_body)
        }))
    }

    /// A new version of a footer comment's body; `version` must be the comment's current
    /// version + 1 (only its author, or a space admin, may edit it).
    pub async fn update_footer(
        &self,
        comment_id: &str,
        storage_body: &str,
        version: u64,
    ) -> Result<Comment> {
        if storage_body.trim().is_empty() {
            return Err(ClientError::InvalidInput("a comment needs a body".into()));
        }
        let body = json!({
            "version": { "number": version },
            "body": { "representation": "storage", "value": storage_body },
        });
        let call = Call::new(
            Operation::UpdateFooterComment,
            &[("comment-id", comment_id)],
        )?
        .json(body);
        self.client.json(call).await
    }

    /// One inline comment.
    pub async fn inline_comment(&self, comment_id: &str) -> Result<Comment> {
        let call = Call::new(
            Operation::GetInlineCommentById,
            &[("comment-id", comment_id)],
        )?
        .query("body-format", "storage");
        self.client.json(call).await
    }

    /// An inline comment on `page_id` highlighting `selection`. Confluence refuses a selection
    /// the page's text does not contain, or a count or index that does not fit it.
    pub async fn add_inline(
        &self,
        page_id: PageId,
        storage_body: &str,
        selection: &TextSelection,
    ) -> Result<Comment> {
        if storage_body.trim().is_empty() || selection.text.is_empty() {
            return Err(ClientError::InvalidInput(
                "an inline comment needs a body and the text it highlights".into(),
            ));
        }
        if let (Some(count), Some(index)) = (selection.match_count, selection.match_index)
            && index >= count
        {
            return Err(ClientError::InvalidInput(format!(
                "the match index ({index}) must be below the match count ({count})"
            )));
        }
        let mut props = json!({ "textSelection": selection.text });
        if let Some(c) = selection.match_count {
            props["textSelectionMatchCount"] = json!(c);
        }
        if let Some(i) = selection.match_index {
            props["textSelectionMatchIndex"] = json!(i);
        }
        let body = json!({
            "pageId": page_id.as_str(),
            "body": { "representation": "storage", "value": storage_body },
            "inlineCommentProperties": props,
        });
        let call = Call::new(Operation::CreateInlineComment, &[])?.json(body);
        self.client.json(call).await
    }

    /// A reply to an inline comment.
    pub async fn reply_inline(
        &self,
        parent_comment_id: &str,
        storage_body: &str,
    ) -> Result<Comment> {
        if storage_body.trim().is_empty() {
            return Err(ClientError::InvalidInput("a comment needs a body".into()));
        }
        let body = json!({
            "parentCommentId": parent_comment_id,
            "body": { "representation": "storage", "value": storage_body },
        });
        let call = Call::new(Operation::CreateInlineComment, &[])?.json(body);
        self.client.json(call).await
    }

    /// Resolves (`true`) or reopens (`false`) an inline comment: reads its version and body,
    /// then sends the next version with the same body; a version that moved meanwhile is read
    /// again (a few times).
    pub async fn resolve_inline(&self, comment_id: &str, resolved: bool) -> Result<Comment> {
        let mut tries = 0;
        loop {
            tries += 1;
            let current = self.inline_comment(comment_id).await?;
            let version = current.version.as_ref().map_or(1, |v| v.number) + 1;
            let storage = current
                .body
                .as_ref()
                .and_then(|b| b.storage.as_ref())
                .map(|s| s.value.clone())
                .unwrap_or_default();
            let body = json!({
                "version": { "number": version },
                "body": { "representation": "storage", "value": storage },
                "resolved": resolved,
            });
            let call = Call::new(
                Operation::UpdateInlineComment,
                &[("comment-id", comment_id)],
            )?
            .json(body);
            match self.client.json(call).await {
                Err(ClientError::VersionConflict { .. }) if tries < 3 => continue,
                other => return other,
            }
        }
    }

    /// Deletes an inline comment for good, with its replies.
    pub async fn delete_inline(&self, comment_id: &str) -> Result<()> {
        let call = Call::new(
            Operation::DeleteInlineComment,
            &[("comment-id", comment_id)],
        )?;
        self.client.send(&call).await.map(|_| ())
    }
}
