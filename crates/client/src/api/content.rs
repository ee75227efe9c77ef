use conflux_catalog::Operation;
use conflux_types::PageId;
use serde::Deserialize;

use crate::Client;
use crate::api::apply_page;
use crate::error::Result;
use crate::models::{ContentRef, ListEnvelope, V1Content};
use crate::paging::{Page, PageRequest, cursor_from_next};
use crate::transport::Call;

/// `client.content()`: the page tree.
pub struct Content<'a> {
    pub(crate) client: &'a Client,
}

fn from_v1(c: V1Content) -> ContentRef {
    ContentRef {
        id: c.id,
        content_type: c.content_type,
        title: c.title,
        status: c.status,
        ..Default::default()
    }
}

impl Content<'_> {
    /// Direct children (pages, folders, ...). v2 direct-children needs
    /// `read:hierarchical-content:confluence`; v2 child pages needs only `read:page:confluence`.
    pub async fn children(&self, id: PageId, page: &PageRequest) -> Result<Page<ContentRef>> {
        self.client
            .with_fallback(super::candidates::CHILDREN, |op| {
                let id = id.clone();
                async move {
                    let call = Call::new(op, &[("id", id.as_str())])?;
                    let mut p: Page<ContentRef> = self.client.list(call, page).await?;
                    if op == Operation::GetChildPages {
                        for c in &mut p.results {
                            if c.content_type.is_empty() {
                                c.content_type = "page".into();
                            }
                        }
                    }
                    Ok(p)
                }
            })
            .await
    }

    /// Direct children of every type (pages, folders, databases, ...) through v2 direct-children
    /// only: the fallback to child pages would silently leave the other types out.
    pub async fn direct_children(
        &self,
        id: PageId,
        page: &PageRequest,
    ) -> Result<Page<ContentRef>> {
        let call = Call::new(Operation::GetPageDirectChildren, &[("id", id.as_str())])?;
        self.client.list(call, page).await
    }

    /// Ancestors, root first. v2 needs `read:content.metadata:confluence`; on the site URL the
    /// v1 content call with `expand=ancestors` does the same job.
    pub async fn ancestors(&self, id: PageId) -> Result<Vec<ContentRef>> {
        self.client
            .with_fallback(super::candidates::ANCESTORS, |op| {
                let id = id.clone();
                async move {
                    if op == Operation::GetContentById {
                        #[derive(Deserialize)]
                        struct WithAncestors {
                            #[serde(default)]
                            ancestors: Vec<V1Content>,
                        }
                        let call =
                            Call::new(op, &[("id", id.as_str())])?.query("expand", "ancestors");
                        let c: WithAncestors = self.client.json(call).await?;
                        return Ok(c.ancestors.into_iter().map(from_v1).collect());
                    }
                    let call = Call::new(op, &[("id", id.as_str())])?.query("limit", 250);
                    let env: ListEnvelope<ContentRef> = self.client.json(call).await?;
                    // v2 lists the nearest ancestor first... or the root first; order by depth
                    // is not given, so keep Confluence's order.
                    Ok(env.results)
                }
            })
            .await
    }

    /// Descendants down to `depth` (v2: `read:hierarchical-content:confluence`; v1 descendant
    /// pages: `read:content-details:confluence` or the classic summary scope).
    pub async fn descendants(
        &self,
        id: PageId,
        depth: Option<u32>,
        page: &PageRequest,
    ) -> Result<Page<ContentRef>> {
        self.client
            .with_fallback(super::candidates::DESCENDANTS, |op| {
                let id = id.clone();
                async move {
                    if op == Operation::GetDescendantsOfType {
                        let call = Call::new(op, &[("id", id.as_str()), ("type", "page")])?
                            .query_opt(
                                "depth",
                                depth.map(|d| {
                                    if d <= 1 {
                                        "1".to_string()
                                    } else {
                                        "all".to_string()
                                    }
                                }),
                            );
                        let call = apply_page(call, page)?;
                        let env: ListEnvelope<V1Content> = self.client.json(call).await?;
                        return Ok(Page {
                            results: env.results.into_iter().map(from_v1).collect(),
                            next_cursor: env.links.next.and_then(|n| cursor_from_next(&n)),
                        });
                    }
                    let call = Call::new(op, &[("id", id.as_str())])?.query_opt("depth", depth);
                    self.client.list(call, page).await
                }
            })
            .await
    }
}
