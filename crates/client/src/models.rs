//! What Confluence returns, read tolerantly: every field defaults, unknown fields are ignored,
//! so a new field or a missing one in Cloud's answer never breaks a call.

use serde::{Deserialize, Serialize};

/// `_links` as v2 and v1 give them (relative to `base`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Links {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webui: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Space {
    pub id: String,
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub space_type: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<serde_json::Value>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Version {
    pub number: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub minor_edit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// A body in one representation.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BodyValue {
    pub representation: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<BodyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atlas_doc_format: Option<BodyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<BodyValue>,
}

impl Body {
    /// The first representation present.
    pub fn any(&self) -> Option<&BodyValue> {
        self.storage
            .as_ref()
            .or(self.atlas_doc_format.as_ref())
            .or(self.view.as_ref())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Page {
    pub id: String,
    pub status: String,
    pub title: String,
    pub space_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A blog post: a page's fields, without a place in the tree.
pub type BlogPost = Page;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Comment {
    pub id: String,
    pub status: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// Set instead of `page_id` for a comment on a blog post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blog_post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_comment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Value>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A content property: a JSON value under a key, versioned (v2 and v1 alike).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentProperty {
    pub id: String,
    pub key: String,
    pub value: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Label {
    pub id: String,
    pub name: String,
    pub prefix: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Attachment {
    pub id: String,
    pub status: String,
    pub title: String,
    pub media_type: String,
    pub file_size: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// Set instead of `page_id` for a blog post's attachment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blog_post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A node of the page tree, as v2 hierarchy calls and v1 descendant calls give it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContentRef {
    pub id: String,
    #[serde(rename = "type")]
    pub content_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

/// v1 content, as search and v1 hierarchy calls embed it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct V1Content {
    pub id: String,
    #[serde(rename = "type")]
    pub content_type: String,
    pub status: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<V1Space>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<V1Version>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A v1 version (`when` instead of v2's `createdAt`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct V1Version {
    pub number: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub minor_edit: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct V1Space {
    pub id: serde_json::Value,
    pub key: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<V1Content>,
    pub title: String,
    pub excerpt: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    pub entity_type: String,
}

/// A search page with the totals CQL search reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SearchPage {
    pub results: Vec<SearchResult>,
    pub total_size: Option<u64>,
    pub next_cursor: Option<String>,
    /// The site's base URL (`https://site.atlassian.net/wiki`) the results' `url` is
    /// relative to, when Confluence says.
    pub base: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    pub id: String,
    #[serde(rename = "type")]
    pub content_type: String,
    pub status: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// `page`, `folder`, `database`, `whiteboard`, ...: where to look for the space (a
    /// container's own schema has no `spaceId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// A database's metadata (Cloud has no public API for its rows).
pub type Database = Container;
/// A folder in the page tree.
pub type Folder = Container;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct User {
    pub account_id: String,
    pub account_type: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A guest (external collaborator), when Confluence says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_external_collaborator: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Group {
    pub id: String,
    pub name: String,
}

/// Who a space permission is granted to.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Principal {
    /// `user`, `group` or `role` (e.g. `ANONYMOUS`).
    #[serde(rename = "type")]
    pub principal_type: String,
    pub id: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PermissionOperation {
    pub key: String,
    pub target_type: String,
}

/// One space permission assignment (v2).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SpacePermission {
    pub id: String,
    pub principal: Principal,
    pub operation: PermissionOperation,
}

/// One operation's restriction (v1): the users and groups it admits; both empty: none.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentRestriction {
    /// `read` or `update` (Cloud names more operations; these two are the ones it enforces).
    pub operation: String,
    pub restrictions: RestrictedTo,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RestrictedTo {
    pub user: Listed<User>,
    pub group: Listed<Group>,
}

/// A `{results: [...]}` list inside an answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, bound = "T: Serialize + serde::de::DeserializeOwned")]
pub struct Listed<T> {
    pub results: Vec<T>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            results: Vec::new(),
        }
    }
}

/// The answer of a permission check.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PermissionCheck {
    pub has_permission: bool,
    /// Why not, as Confluence words it (`translation`, `args`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<serde_json::Value>,
}

/// A started long-running task (v1), e.g. a page-hierarchy copy.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LongTask {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ari: Option<String>,
}

/// Where a long-running task stands (v1 `/longtask/{id}`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LongTaskStatus {
    pub id: String,
    pub finished: bool,
    pub successful: bool,
    pub percentage_complete: u32,
    /// Milliseconds since it started.
    pub elapsed_time: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<serde_json::Value>,
    /// What a copy made: `destinationId` (the new root page), `destinationUrl`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_details: Option<serde_json::Value>,
}

impl LongTaskStatus {
    /// The page a finished copy made, when Confluence says.
    pub fn destination_id(&self) -> Option<&str> {
        self.additional_details
            .as_ref()
            .and_then(|d| d.get("destinationId"))
            .and_then(|v| v.as_str())
    }
}

/// A page template (v1).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContentTemplate {
    pub template_id: String,
    pub name: String,
    pub description: String,
    /// `page` (or `blogpost`).
    pub template_type: String,
    pub labels: Vec<Label>,
    /// The space of a space template (`key`, `name`, ...); none for a global one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<serde_json::Value>,
    /// With `storage` (and `view`) when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
}

/// A content analytics count (v1): views, or distinct viewers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewCount {
    /// The content id (a number in Confluence's answer).
    pub id: serde_json::Value,
    pub count: u64,
}

/// Generic list envelope of v2 (`results` + `_links.next`) and v1 (`results`, `start`, `size`).
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub(crate) struct ListEnvelope<T> {
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    #[serde(default, rename = "_links")]
    pub links: Links,
    #[serde(default, rename = "totalSize")]
    pub total_size: Option<u64>,
}
