use conflux_catalog::Operation;
use conflux_types::PageId;
use serde_json::json;

use crate::Client;
use crate::api::pages::outcome_unknown;
use crate::error::{ClientError, Result};
use crate::models::{Label, ListEnvelope};
use crate::paging::{Page, PageRequest};
use crate::retry::Backoff;
use crate::transport::Call;

/// `client.labels()`: read with v2, add with v1 (v2 has no label write).
pub struct Labels<'a> {
    pub(crate) client: &'a Client,
}

impl Labels<'_> {
    pub async fn for_page(&self, page_id: PageId, page: &PageRequest) -> Result<Page<Label>> {
        let call = Call::new(Operation::GetPageLabels, &[("id", page_id.as_str())])?;
        self.client.list(call, page).await
    }

    /// Takes one label off a page (v1; the name travels as a query parameter, so any name
    /// Confluence allows gets there intact).
    pub async fn remove(&self, page_id: PageId, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ClientError::InvalidInput("give a label name".into()));
        }
        let call = Call::new(
            Operation::RemoveLabelFromContentUsingQueryParameter,
            &[("id", page_id.as_str())],
        )?
        .query_opt("name", Some(name.to_lowercase().as_str()));
        self.client.send(&call).await.map(|_| ())
    }

    /// Adds labels (global prefix) and returns the page's labels afterwards.
    pub async fn add(&self, page_id: PageId, names: &[String]) -> Result<Vec<Label>> {
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
        let call = Call::new(Operation::AddLabelsToContent, &[("id", page_id.as_str())])?
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
            if let Ok(now) = self
                .for_page(page_id.clone(), &PageRequest::limit(250))
                .await
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
