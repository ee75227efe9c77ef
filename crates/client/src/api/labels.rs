use conflux_catalog::Operation;
use conflux_types::PageId;
use serde_json::json;

use crate::Client;
use crate::api::Owner;
use crate::api::pages::outcome_unknown;
use crate::error::{ClientError, Result};
use crate::models::{Label, ListEnvelope};
use crate::paging::{Page, PageRequest, stream_pages};
use crate::retry::Backoff;
use crate::transport::Call;

/// `client.labels()`: read with v2, add with v1 (v2 has no label write).
pub struct Labels<'a> {
    pub(crate) client: &'a Client,
}

impl Labels<'_> {
    pub async fn for_page(&self, page_id: PageId, page: &PageRequest) -> Result<Page<Label>> {
        self.of(&Owner::Page(page_id), page).await
    }

    /// The labels of a page or blog post (v2 has a path for each).
    pub async fn of(&self, owner: &Owner, page: &PageRequest) -> Result<Page<Label>> {
        let call = owner.call(Operation::GetPageLabels, Operation::GetBlogPostLabels)?;
        self.client.list(call, page).await
    }

    /// Every label of a page or blog post, following cursors (250 a request).
    pub async fn all_of(&self, owner: &Owner) -> Result<Vec<Label>> {
        use futures::TryStreamExt as _;
        stream_pages(PageRequest::limit(250), |req| async move {
            self.of(owner, &req).await
        })
        .try_collect()
        .await
    }

    /// Takes one label off a page or blog post (v1, which takes either; the name travels as a
    /// query parameter, so any name Confluence allows gets there intact).
    pub async fn remove(&self, owner: impl Into<Owner>, name: &str) -> Result<()> {
        let owner = owner.into();
        let name = name.trim();
        if name.is_empty() {
            return Err(ClientError::InvalidInput("give a label name".into()));
        }
        let call = Call::new(
            Operation::RemoveLabelFromContentUsingQueryParameter,
            &[("id", owner.id())],
        )?
        .query_opt("name", Some(name.to_lowercase().as_str()));
        self.client.send(&call).await.map(|_| ())
    }

    /// Adds labels (global prefix) to a page or blog post and returns its labels afterwards.
    pub async fn add(&self, owner: impl Into<Owner>, names: &[String]) -> Result<Vec<Label>> {
        let owner = owner.into();
        let mut body = Vec::new();
        for name in names {
            let name = name.trim();
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(ClientError::InvalidInput(format!(
                    "label `{name}` is not valid: labels are single words without spaces"
                )));
            }
            body.push(json!({ "prefix": "global", "name": name.to_lowercase() }));
        }
        if body.is_empty() {
            return Err(ClientError::InvalidInput("give at least one label".into()));
        }
        let call = Call::new(Operation::AddLabelsToContent, &[("id", owner.id())])?
            .json(serde_json::Value::Array(body));
        let wanted: Vec<String> = names.iter().map(|n| n.trim().to_lowercase()).collect();
        let mut backoff = Backoff::new(&self.client.config().retry);
        loop {
            backoff.attempt();
            let error = match self.client.json::<ListEnvelope<Label>>(call.clone()).await {
                Ok(env) => return Ok(env.results),
                Err(e) if outcome_unknown(&e) => e,
                Err(e) => return Err(e),
            };
            // Lost answer or 5xx: the labels are there when every name is on the page (adding
            // a label twice changes nothing, so otherwise the add is sent again).
            if let Ok(now) = self.of(&owner, &PageRequest::limit(250)).await
                && wanted
                    .iter()
                    .all(|w| now.results.iter().any(|l| &l.name == w))
            {
                return Ok(now.results);
            }
            match backoff.next_wait(None) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
        }
    }
}
