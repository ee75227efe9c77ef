use conflux_catalog::Operation;
use serde_json::json;

use crate::Client;
use crate::api::BodyFormat;
use crate::api::pages::{create_once, outcome_unknown, same_storage, settle_update, storage_of};
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

    /// Publishes (or drafts) a blog post, exactly once as the caller sees it. Blog titles need
    /// not be unique, so the posts of the space with this title are listed first; when the
    /// answer is lost or is a 5xx, a post with the title and body sent that was not among
    /// them is the one created. When there is none, the create is sent again, within the
    /// retry deadline. Drafts, which the list does not show, are sent once.
    pub async fn create(&self, post: &NewBlogPost) -> Result<BlogPost> {
        if post.title.trim().is_empty() || post.space_id.trim().is_empty() {
            return Err(ClientError::InvalidInput(
                "a blog post needs a space and a title".into(),
            ));
        }
        let status = post.status.as_deref().unwrap_or("current");
        let body = json!({
            "spaceId": post.space_id,
            "status": status,
            "title": post.title,
            "body": { "representation": "storage", "value": post.body },
        });
        let call = Call::new(Operation::CreateBlogPost, &[])?.json(body);
        if status != "current" {
            return self.client.json(call).await;
        }
        let before: Vec<String> = match self.same_title(post).await {
            Ok(found) => found.into_iter().map(|p| p.id).collect(),
            // Nothing to tell a repeat by: sent once.
            Err(_) => return self.client.json(call).await,
        };
        let made = || async {
            let found = self.same_title(post).await?;
            Ok(found
                .into_iter()
                .find(|p| !before.contains(&p.id) && same_storage(&storage_of(p), &post.body)))
        };
        create_once(self.client, call, false, made).await
    }

    /// The space's published posts titled as `post` is, with their storage bodies.
    async fn same_title(&self, post: &NewBlogPost) -> Result<Vec<BlogPost>> {
        let filter = BlogPostList {
            space_id: Some(post.space_id.clone()),
            title: Some(post.title.clone()),
            status: Some("current".into()),
            body_format: Some(BodyFormat::Storage),
        };
        let found = self.list(&filter, &PageRequest::limit(250)).await?;
        Ok(found
            .results
            .into_iter()
            .filter(|p| p.title == post.title)
            .collect())
    }

    /// Publishes a new version; a stale `version` gets [`ClientError::VersionConflict`].
    /// Exactly once as the caller sees it, as a page's update is: a conflict (or an answer
    /// that never came) is checked against the post, and reported applied when its current
    /// version is the one sent, with the title and body sent.
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
        let error = match self.client.json(call).await {
            Ok(p) => return Ok(p),
            Err(e) => e,
        };
        let conflict = matches!(error, ClientError::VersionConflict { .. });
        if !(conflict || outcome_unknown(&error)) {
            return Err(error);
        }
        let Ok(current) = self.get(id, Some(BodyFormat::Storage)).await else {
            return Err(error);
        };
        settle_update(error, current, update.version, &update.title, &update.body)
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
