use conflux_catalog::Operation;

use crate::Client;
use crate::api::apply_page;
use crate::error::{ClientError, Result};
use crate::models::{ListEnvelope, SearchPage, SearchResult};
use crate::paging::{Page, PageRequest, cursor_from_next};
use crate::transport::Call;

/// How search results carry their excerpt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Excerpt {
    #[default]
    Highlight,
    Indexed,
    None,
}

impl Excerpt {
    pub fn as_str(self) -> &'static str {
        match self {
            Excerpt::Highlight => "highlight",
            Excerpt::Indexed => "indexed",
            Excerpt::None => "none",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SearchParams {
    /// CQL context JSON (space or content scoping).
    pub cqlcontext: Option<String>,
    pub excerpt: Excerpt,
}

/// `client.search()`: CQL (v1; v2 has no search).
pub struct Search<'a> {
    pub(crate) client: &'a Client,
}

impl Search<'_> {
    pub async fn cql(
        &self,
        cql: &str,
        params: &SearchParams,
        page: &PageRequest,
    ) -> Result<SearchPage> {
        if cql.trim().is_empty() {
            return Err(ClientError::InvalidInput(
                "`cql` is empty; e.g. type = page AND space = DEV AND text ~ \"roadmap\"".into(),
            ));
        }
        let call = Call::new(Operation::SearchByCQL, &[])?
            .query("cql", cql)
            .query_opt("cqlcontext", params.cqlcontext.as_deref())
            .query("excerpt", params.excerpt.as_str());
        let call = apply_page(call, page)?;
        let env: ListEnvelope<SearchResult> = self.client.json(call).await?;
        Ok(SearchPage {
            results: env.results,
            total_size: env.total_size,
            next_cursor: env.links.next.and_then(|n| cursor_from_next(&n)),
            base: env.links.base,
        })
    }

    /// The content CQL finds, each as Confluence gives it with the expansions asked for
    /// (`content.version`, `content.metadata.labels`, ...): for bulk reads of fields the typed
    /// result leaves out. No excerpts are made.
    pub async fn content_expanded(
        &self,
        cql: &str,
        expand: &[&str],
        page: &PageRequest,
    ) -> Result<Page<serde_json::Value>> {
        if cql.trim().is_empty() {
            return Err(ClientError::InvalidInput("`cql` is empty".into()));
        }
        let mut call = Call::new(Operation::SearchByCQL, &[])?
            .query("cql", cql)
            .query("excerpt", Excerpt::None.as_str());
        if !expand.is_empty() {
            call = call.query("expand", expand.join(","));
        }
        let call = apply_page(call, page)?;
        let env: ListEnvelope<serde_json::Value> = self.client.json(call).await?;
        Ok(Page {
            results: env
                .results
                .into_iter()
                .filter_map(|mut r| r.get_mut("content").map(serde_json::Value::take))
                .collect(),
            next_cursor: env.links.next.and_then(|n| cursor_from_next(&n)),
        })
    }
}
