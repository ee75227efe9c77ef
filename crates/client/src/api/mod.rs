//! Typed calls, one module per API group. Each method names the operations it may use, in
//! order of preference; [`Client::with_fallback`] takes the first the credential can use.

mod attachments;
mod blogposts;
mod comments;
mod content;
mod labels;
mod other;
mod pages;
mod properties;
mod restrictions;
mod search;
mod spaces;
mod tasks;
mod templates;
mod versions;

use std::future::Future;

use conflux_catalog::Operation;
use conflux_types::{BlogPostId, PageId};
use serde::de::DeserializeOwned;

pub use attachments::{Attachments, Download, NewAttachment};
pub use blogposts::{BlogPostList, BlogPostUpdate, BlogPosts, NewBlogPost};
pub use comments::{Comments, TextSelection};
pub use content::Content;
pub use labels::Labels;
pub use other::{Databases, Folders, Users};
pub use pages::{
    BodyFormat, CopyDestination, CopyOptions, HierarchyCopyOptions, MovePosition, NewPage,
    PageList, PageUpdate, Pages,
};
pub use properties::Properties;
pub use restrictions::{
    ContentOperation, PermissionSubject, RestrictionOperation, RestrictionUpdate, Restrictions,
};
pub use search::{Excerpt, Search, SearchParams};
pub use spaces::Spaces;
pub use tasks::Tasks;
pub use templates::{Analytics, Templates};
pub use versions::Versions;

/// What labels, attachments, comments and content properties belong to: a page or a blog
/// post. One id space in v1 (its content endpoints take either); v2 has a path for each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Page(PageId),
    BlogPost(BlogPostId),
}

impl Owner {
    pub fn id(&self) -> &str {
        match self {
            Owner::Page(id) => id.as_str(),
            Owner::BlogPost(id) => id.as_str(),
        }
    }

    /// `page_op` for a page, `blog_op` for a blog post, with the owner as path parameter `id`.
    pub(crate) fn call(
        &self,
        page_op: Operation,
        blog_op: Operation,
    ) -> crate::Result<crate::transport::Call> {
        let op = match self {
            Owner::Page(_) => page_op,
            Owner::BlogPost(_) => blog_op,
        };
        crate::transport::Call::new(op, &[("id", self.id())])
    }
}

impl From<PageId> for Owner {
    fn from(id: PageId) -> Self {
        Owner::Page(id)
    }
}

impl From<BlogPostId> for Owner {
    fn from(id: BlogPostId) -> Self {
        Owner::BlogPost(id)
    }
}

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::ListEnvelope;
use crate::paging::{Page, PageRequest, cursor_from_next};
use crate::route;
use crate::transport::Call;

impl Client {
    pub fn pages(&self) -> Pages<'_> {
        Pages { client: self }
    }
    pub fn blogposts(&self) -> BlogPosts<'_> {
        BlogPosts { client: self }
    }
    /// Content properties.
    pub fn properties(&self) -> Properties<'_> {
        Properties { client: self }
    }
    /// Content restrictions and permission checks.
    pub fn restrictions(&self) -> Restrictions<'_> {
        Restrictions { client: self }
    }
    /// Page templates.
    pub fn templates(&self) -> Templates<'_> {
        Templates { client: self }
    }
    /// Content analytics (views, viewers).
    pub fn analytics(&self) -> Analytics<'_> {
        Analytics { client: self }
    }
    /// Long-running tasks.
    pub fn tasks(&self) -> Tasks<'_> {
        Tasks { client: self }
    }
    pub fn spaces(&self) -> Spaces<'_> {
        Spaces { client: self }
    }
    pub fn search(&self) -> Search<'_> {
        Search { client: self }
    }
    /// Page hierarchy: children, ancestors, descendants.
    pub fn content(&self) -> Content<'_> {
        Content { client: self }
    }
    pub fn comments(&self) -> Comments<'_> {
        Comments { client: self }
    }
    pub fn labels(&self) -> Labels<'_> {
        Labels { client: self }
    }
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { client: self }
    }
    pub fn versions(&self) -> Versions<'_> {
        Versions { client: self }
    }
    pub fn databases(&self) -> Databases<'_> {
        Databases { client: self }
    }
    pub fn folders(&self) -> Folders<'_> {
        Folders { client: self }
    }
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// Sends and decodes a JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        self.send(&call).await?.json()
    }

    /// One page of a list: applies limit and cursor, reads `_links.next` or the `Link` header.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        call: Call,
        page: &PageRequest,
    ) -> Result<Page<T>> {
        let call = apply_page(call, page)?;
        let resp = self.send(&call).await?;
        let envelope: ListEnvelope<T> = resp.json()?;
        let next = envelope
            .links
            .next
            .or_else(|| link_next(&resp.headers))
            .and_then(|n| cursor_from_next(&n));
        Ok(Page {
            results: envelope.results,
            next_cursor: next,
        })
    }

    /// Runs `attempt` for each usable candidate, in planned order, until one works. A candidate
    /// that is refused for scopes or retired on this route hands over to the next, once; the
    /// preferred candidate's refusal is what the caller sees when none works.
    pub(crate) async fn with_fallback<T, F, Fut>(
        &self,
        candidates: &[Operation],
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut(Operation) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let route = self.route();
        let order = route::plan(candidates, &route, self.credential().granted_scopes());
        let Some(first) = order.first().copied() else {
            let op = candidates.first().copied().ok_or_else(|| {
                ClientError::InvalidInput("no operation can serve this request".into())
            })?;
            return Err(ClientError::Gone { operation: op });
        };
        let mut first_error = None;
        for op in order {
            match attempt(op).await {
                Ok(v) => {
                    if op != first {
                        tracing::warn!(
                            preferred = first.operation_id(),
                            used = op.operation_id(),
                            "fell back to another endpoint"
                        );
                    }
                    return Ok(v);
                }
                Err(
                    e @ (ClientError::MissingScopes(_)
                    | ClientError::Gone { .. }
                    | ClientError::NoPublishedScope { .. }),
                ) => {
                    tracing::debug!(op = op.operation_id(), error = %e, "candidate refused");
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_error.unwrap_or(ClientError::Gone { operation: first }))
    }
}

/// Adds `limit` and `cursor` (or `start`, for v1 offset lists) to a list call.
pub(crate) fn apply_page(call: Call, page: &PageRequest) -> Result<Call> {
    if page.limit == Some(0) {
        return Err(ClientError::InvalidInput(
            "`limit` must be at least 1".into(),
        ));
    }
    let call = call.query_opt("limit", page.limit);
    Ok(match page.cursor.as_deref() {
        Some(c) => match c.strip_prefix("start:") {
            Some(start) => call.query("start", start),
            None => call.query("cursor", c),
        },
        None => call,
    })
}

/// The `rel="next"` target of a `Link` header.
fn link_next(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn reads_link_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "</wiki/api/v2/pages?cursor=xyz>; rel=\"next\", <https://x/wiki>; rel=\"base\"",
            ),
        );
        assert_eq!(
            link_next(&h).as_deref(),
            Some("/wiki/api/v2/pages?cursor=xyz")
        );
    }
}

/// The operation lists the client chooses from, preferred first, so reports (doctor) predict
/// exactly what the calls do.
pub mod candidates {
    use conflux_catalog::Operation;

    pub const CHILDREN: &[Operation] =
        &[Operation::GetPageDirectChildren, Operation::GetChildPages];
    pub const ANCESTORS: &[Operation] = &[Operation::GetPageAncestors, Operation::GetContentById];
    pub const DESCENDANTS: &[Operation] = &[
        Operation::GetPageDescendants,
        Operation::GetDescendantsOfType,
    ];
    pub const GROUP_MEMBERS: &[Operation] = &[
        Operation::GetGroupMembersByGroupId,
        Operation::GetMembersByQueryParam,
    ];

    /// The candidates of the step whose preferred operation is `preferred` (itself alone when
    /// the client has no alternative for it).
    pub fn for_preferred(preferred: Operation) -> Vec<Operation> {
        [CHILDREN, ANCESTORS, DESCENDANTS, GROUP_MEMBERS]
            .into_iter()
            .find(|c| c.first() == Some(&preferred))
            .map(<[Operation]>::to_vec)
            .unwrap_or_else(|| vec![preferred])
    }
}
