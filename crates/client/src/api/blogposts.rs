use conflux_catalog::Operation;
use serde_json::json;

use crate::Client;
use crate::api::BodyFormat;
use crate::error::{ClientError, Result};
use crate::models::{BlogPost, Comment};
use crate::paging::{Page, PageRequest};
use crate::transport::Call;

/// Filters for listing blog posts.
#[derive(Clone, Debug, Default)]
pub struct BlogPostList {
    /// Only this space's (v2 `/spaces/{id}/blogposts`).
    pub space_id: Option<String>,
    pub title: Option<String>,
    /// `current`, `draft`, `trashed`, ...
    pub status: Option<String>,
    pub body_format: Option<BodyFormat>,
}

/// A blog post to create.
#[derive(Clone, Debug)]
pub struct NewBlogPost {
    pub space_id: String,
    pub title: String,
    /// Storage-format body.
    pub body: String,
    /// `current` (published) or `draft`.
    pub status: Option<String>,
}

/// A new version of a blog post.
#[derive(Clone, Debug)]
pub struct BlogPostUpdate {
    pub title: String,
    /// Storage-format body.
    pub body: String,
    /// Must be the post's current version + 1.
    pub version: u64,
    pub message: Option<String>,
    /// `current` or `draft`.
    pub status: Option<String>,
}

/// `client.blogposts()`: v2 blog posts. Their comments, labels and attachments go through the
/// same calls as a page's (v1 content ids are shared), or the `*_blog_post` listings here.
pub struct BlogPosts<'a> {
    pub(crate) client: &'a Client,
}

impl BlogPosts<'_> {
    pub async fn list(&self, filter: &BlogPostList, page: &PageRequest) -> Result<Page<BlogPost>> {
        let call = match &filter.space_id {
            Some(space) => Call::new(Operation::GetBlogPostsInSpace, &[("id", space.as_str())])?,
            None => Call::new(Operation::GetBlogPosts, &[])?,
        };
        let call = call
            .query_opt("title", filter.title.as_deref())
            .query_opt("status", filter.status.as_deref())
            .query_opt("body-format", filter.body_format.map(BodyFormat::as_str));
        self.client.list(call, page).await
    }

    /// A blog post; with `body_format`, its body in that representation.
    pub async fn get(&self, id: &str, body_format: Option<BodyFormat>) -> Result<BlogPost> {
        let call = Call::new(Operation::GetBlogPostById, &[("id", id)])?
            .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.json(call).await
    }

    /// Publishes (or drafts) a blog post. Not repeated when its answer is lost: blog titles
    /// need not be unique, so nothing tells a repeat from a second post.
    pub async fn create(&self, post: &NewBlogPost) -> Result<BlogPost> {
        if post.title.trim().is_empty() || post.space_id.trim().is_empty() {
            return Err(ClientError::InvalidInput(
                "a blog post needs a space and a title".into(),
            ));
        }
        let body = json!({
            "spaceId": post.space_id,
            "status": post.status.as_deref().unwrap_or("current"),
            "title": post.title,
            "body": { "representation": "storage", "value": post.body },
        });
        let call = Call::new(Operation::CreateBlogPost, &[])?.json(body);
        self.client.json(call).await
    }

    /// Publishes a new version; a stale `version` gets [`ClientError::VersionConflict`].
    pub async fn update(&self, id: &str, update: &BlogPostUpdate) -> Result<BlogPost> {
        if update.version < 2 {
            return Err(ClientError::InvalidInput(
                "`version` must be the blog post's current version + 1 (so at least 2)".into(),
            ));
        }
        let mut version = json!({ "number": update.version });
        if let Some(m) = &update.message {
            version["message"] = json!(m);
        }
        let body = json!({
            "id": id,
            "status": update.status.as_deref().unwrap_or("current"),
            "title": update.title,
            "body": { "representation": "storage", "value": update.body },
            "version": version,
        });
        let call = Call::new(Operation::UpdateBlogPost, &[("id", id)])?.json(body);
        self.client.json(call).await
    }

    /// Moves the blog post to the trash (`purge` deletes a trashed one for good).
    pub async fn delete(&self, id: &str, purge: bool) -> Result<()> {
        let call = Call::new(Operation::DeleteBlogPost, &[("id", id)])?
            .query_opt("purge", purge.then_some("true"));
        self.client.send(&call).await.map(|_| ())
    }

    /// The blog post's footer comments (top level; replies through
    /// [`crate::api::Comments::replies`]).
    pub async fn footer_comments(
        &self,
        id: &str,
        body_format: Option<BodyFormat>,
        page: &PageRequest,
    ) -> Result<Page<Comment>> {
        let call = Call::new(Operation::GetBlogPostFooterComments, &[("id", id)])?
            .query_opt("body-format", body_format.map(BodyFormat::as_str));
        self.client.list(call, page).await
    }

    /// Comments on the blog post, as a footer comment (a reply goes through
    /// [`crate::api::Comments::add_footer`] with the parent comment's id).
    pub async fn add_footer_comment(&self, id: &str, storage_body: &str) -> Result<Comment> {
        if storage_body.trim().is_empty() {
            return Err(ClientError::InvalidInput("a comment needs a body".into()));
        }
        let body = json!({
            "blogPostId": id,
            "body": { "representation": "storage", "value": storage_body },
        });
        let call = Call::new(Operation::CreateFooterComment, &[])?.json(body);
        self.client.json(call).await
    }
}
