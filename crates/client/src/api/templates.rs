use conflux_catalog::Operation;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::{ContentTemplate, ViewCount};
use crate::paging::{Page, PageRequest};
use crate::transport::Call;

/// `client.templates()`: page templates (v1; v2 has none).
pub struct Templates<'a> {
    pub(crate) client: &'a Client,
}

impl Templates<'_> {
    /// The global templates, or (`space_key`) a space's; `with_body` adds their bodies.
    pub async fn list(
        &self,
        space_key: Option<&str>,
        with_body: bool,
        page: &PageRequest,
    ) -> Result<Page<ContentTemplate>> {
        let call = Call::new(Operation::GetContentTemplates, &[])?
            .query_opt("spaceKey", space_key)
            .query_opt("expand", with_body.then_some("body"));
        self.client.list(call, page).await
    }

    /// One template, with its body.
    pub async fn get(&self, template_id: &str) -> Result<ContentTemplate> {
        let call = Call::new(
            Operation::GetContentTemplate,
            &[("contentTemplateId", template_id)],
        )?;
        self.client.json(call).await
    }
}

/// `client.analytics()`: page and blog post views (v1).
pub struct Analytics<'a> {
    pub(crate) client: &'a Client,
}

impl Analytics<'_> {
    /// How often the content was viewed (since `from_date`, `YYYY-MM-DD` or RFC 3339).
    /// `None`: the site does not offer analytics (Cloud may keep them to some plans; such a
    /// site refuses with 403, while content the caller cannot see is a 404).
    pub async fn views(
        &self,
        content_id: &str,
        from_date: Option<&str>,
    ) -> Result<Option<ViewCount>> {
        self.count(Operation::GetViews, content_id, from_date).await
    }

    /// How many distinct people viewed the content; `None` as for [`Analytics::views`].
    pub async fn viewers(
        &self,
        content_id: &str,
        from_date: Option<&str>,
    ) -> Result<Option<ViewCount>> {
        self.count(Operation::GetViewers, content_id, from_date)
            .await
    }

    async fn count(
        &self,
        op: Operation,
        content_id: &str,
        from_date: Option<&str>,
    ) -> Result<Option<ViewCount>> {
        let call = Call::new(op, &[("contentId", content_id)])?.query_opt("fromDate", from_date);
        match self.client.json(call).await {
            Ok(c) => Ok(Some(c)),
            Err(ClientError::Forbidden { message, .. }) => {
                tracing::info!(%message, "the site offers no content analytics");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}
