use conflux_catalog::Operation;
use conflux_types::PageId;
use serde_json::json;

use crate::Client;
use crate::api::BodyFormat;
use crate::error::{ClientError, Result};
use crate::models::Comment;
use crate::paging::{Page, PageRequest};
use crate::transport::Call;

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
        self.client
            .json(Call::new(Operation::CreateFooterComment, &[])?.json(body))
            .await
    }
}
