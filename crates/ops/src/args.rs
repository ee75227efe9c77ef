//! Each tool's arguments, typed per action: one enum per tool, one variant per action, holding
//! exactly the arguments that action reads (ids as their newtypes, formats as enums, what it
//! cannot run without as plain fields). `Ops::call` parses the JSON once into them, after the
//! declaration's check (`catalog::TOOLS`), and the tool functions match on the variants.
//!
//! The variants are also the declaration of which argument each action takes: their JSON
//! Schema ([`schemars`]) tells the catalog, which refuses any other argument by name and gives
//! the CLI its flags and the docs their required fields. A test holds them to the tool's
//! parameter table (same names, same JSON types).

use conflux_types::{
    AttachmentId, BlogPostId, CommentId, ContentId, DatabaseId, PageId, SpaceKey, SpaceRef,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// A body format as callers name it: Markdown (converted here) or one Confluence returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    Markdown,
    Storage,
    AtlasDocFormat,
    View,
}

/// How search results carry their excerpt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Excerpt {
    Indexed,
    Highlight,
    None,
}

/// `pages`: metadata, bodies, sections, writes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Pages {
    List {
        space_id: Option<SpaceRef>,
        title: Option<String>,
        status: Option<String>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    /// By `id`, or by `title` and `spaceId`.
    Get {
        id: Option<PageId>,
        title: Option<String>,
        space_id: Option<SpaceRef>,
        body_format: Option<BodyFormat>,
        max_bytes: Option<usize>,
        output_file: Option<String>,
    },
    GetBody {
        id: PageId,
        body_format: Option<BodyFormat>,
        max_bytes: Option<usize>,
        output_file: Option<String>,
    },
    Outline {
        id: PageId,
    },
    /// By `sectionId` or `heading`.
    GetSection {
        id: PageId,
        section_id: Option<String>,
        heading: Option<String>,
        body_format: Option<BodyFormat>,
        max_bytes: Option<usize>,
        output_file: Option<String>,
    },
    Create {
        space_id: SpaceRef,
        title: String,
        parent_id: Option<ContentId>,
        body: Option<String>,
        body_file: Option<String>,
        body_format: Option<BodyFormat>,
        status: Option<String>,
    },
    Update {
        id: PageId,
        title: Option<String>,
        parent_id: Option<ContentId>,
        body: Option<String>,
        body_file: Option<String>,
        body_format: Option<BodyFormat>,
        version: Option<u64>,
        version_message: Option<String>,
    },
    UpdateSection {
        id: PageId,
        section_id: Option<String>,
        heading: Option<String>,
        body: Option<String>,
        body_file: Option<String>,
        body_format: Option<BodyFormat>,
        version: Option<u64>,
        version_message: Option<String>,
    },
    Replace {
        id: PageId,
        find: String,
        replace_with: String,
        expected_count: Option<usize>,
        version: Option<u64>,
        version_message: Option<String>,
    },
    Delete {
        id: PageId,
        #[serde(default)]
        purge: bool,
    },
    Move {
        id: PageId,
        target_id: PageId,
        position: Option<MovePosition>,
    },
    GetProperty {
        id: PageId,
        key: String,
    },
    SetProperty {
        id: PageId,
        key: String,
        value: serde_json::Value,
    },
    GetRestrictions {
        id: PageId,
    },
    /// Who may `operation` (read or update) the page: exactly these users and groups; none
    /// lifts the restriction.
    SetRestrictions {
        id: PageId,
        operation: Restricted,
        users: Option<Vec<String>>,
        groups: Option<Vec<String>>,
    },
    /// A copy under `targetId`, or at the top of `spaceId`; `tree` copies the descendants too.
    Copy {
        id: PageId,
        target_id: Option<PageId>,
        space_id: Option<SpaceRef>,
        title: Option<String>,
        #[serde(default)]
        with_attachments: bool,
        #[serde(default)]
        with_labels: bool,
        #[serde(default)]
        tree: bool,
    },
    Views {
        id: PageId,
        since: Option<String>,
    },
    CreateFromTemplate {
        template_id: ContentId,
        space_id: SpaceRef,
        title: String,
        parent_id: Option<ContentId>,
    },
    /// May this user (`accountId`) or group do `operation`?
    CheckPermission {
        id: PageId,
        operation: Option<Operation>,
        account_id: Option<String>,
        group: Option<String>,
    },
}

/// What a page restriction limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Restricted {
    Read,
    Update,
}

/// What a permission check asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Read,
    Update,
    Delete,
}

/// `users`: people, for mentions and permissions.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Users {
    Search {
        query: String,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Get {
        account_id: String,
    },
    Me {},
}

/// Where `pages.move` puts the page, relative to its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MovePosition {
    /// Under the target, as its last child.
    Append,
    /// Beside the target, before it.
    Before,
    /// Beside the target, after it.
    After,
}

/// `blogposts`: like pages, without a place in the tree.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum BlogPosts {
    List {
        space_id: Option<SpaceRef>,
        title: Option<String>,
        status: Option<String>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Get {
        id: BlogPostId,
    },
    GetBody {
        id: BlogPostId,
        body_format: Option<BodyFormat>,
        max_bytes: Option<usize>,
        output_file: Option<String>,
    },
    Create {
        space_id: SpaceRef,
        title: String,
        body: Option<String>,
        body_file: Option<String>,
        body_format: Option<BodyFormat>,
        status: Option<String>,
    },
    Update {
        id: BlogPostId,
        title: Option<String>,
        body: Option<String>,
        body_file: Option<String>,
        body_format: Option<BodyFormat>,
        version: Option<u64>,
        version_message: Option<String>,
    },
    Delete {
        id: BlogPostId,
        #[serde(default)]
        purge: bool,
    },
}

/// `spaces`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Spaces {
    List {
        keys: Option<Vec<SpaceKey>>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    /// By `id` or `key` (either may hold a key or an id).
    Get {
        id: Option<SpaceRef>,
        key: Option<SpaceKey>,
    },
    Permissions {
        id: Option<SpaceRef>,
        key: Option<SpaceKey>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
}

/// `search`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Search {
    Cql {
        cql: String,
        cqlcontext: Option<String>,
        excerpt: Option<Excerpt>,
        start: Option<u64>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
}

/// `content`: the page tree and folders.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Content {
    Children {
        id: PageId,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Ancestors {
        id: PageId,
    },
    Descendants {
        id: PageId,
        depth: Option<u32>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Folders {
        id: PageId,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    /// By `spaceId` or `spaceKey`.
    Tree {
        space_id: Option<SpaceRef>,
        space_key: Option<SpaceKey>,
        depth: Option<u32>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    CreateFolder {
        space_id: SpaceRef,
        title: String,
        parent_id: Option<ContentId>,
    },
}

/// `comments`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Comments {
    /// Of page `id`, or of blog post `blogPostId`.
    GetFooter {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        body_format: Option<BodyFormat>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    /// On page `id` or blog post `blogPostId`, or a reply to `parentCommentId`.
    AddFooter {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        parent_comment_id: Option<CommentId>,
        body: String,
        body_format: Option<BodyFormat>,
    },
    GetInline {
        id: PageId,
        body_format: Option<BodyFormat>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Delete {
        comment_id: CommentId,
    },
    Update {
        comment_id: CommentId,
        body: String,
        body_format: Option<BodyFormat>,
        version: Option<u64>,
    },
    /// On page `id`, highlighting `selection` (its `matchIndex`th occurrence).
    AddInline {
        id: PageId,
        body: String,
        body_format: Option<BodyFormat>,
        selection: String,
        match_index: Option<u32>,
    },
    ResolveInline {
        comment_id: CommentId,
        #[serde(default)]
        reopen: bool,
    },
}

/// `labels`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Labels {
    /// Of page `id`, or of blog post `blogPostId`.
    GetForPage {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    AddToPage {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        labels: Vec<String>,
    },
    Remove {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        labels: Vec<String>,
    },
}

/// `attachments`: `id` is the page for page-wide actions (or `blogPostId` instead), the
/// attachment otherwise; `pageId` names the page holding an attachment when Confluence does not.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Attachments {
    ListForPage {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Get {
        id: AttachmentId,
        page_id: Option<PageId>,
    },
    Download {
        id: AttachmentId,
        page_id: Option<PageId>,
        max_bytes: Option<u64>,
        output_file: Option<String>,
    },
    /// Every file of page `id` (or blog post `blogPostId`), up to `maxBytes` in all; into the
    /// folder `outputFile` when given.
    DownloadAll {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        max_bytes: Option<u64>,
        output_file: Option<String>,
    },
    /// The image files of page `id` (or blog post `blogPostId`), up to `maxBytes` in all.
    Images {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        max_bytes: Option<u64>,
    },
    /// One file (`data` or `filePath`), or several (`files`).
    Upload {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        file_name: Option<String>,
        media_type: Option<String>,
        data: Option<String>,
        file_path: Option<String>,
        comment: Option<String>,
        files: Option<Vec<FileIn>>,
    },
    Delete {
        id: AttachmentId,
        page_id: Option<PageId>,
    },
    /// A new version of the page's file of this name (or a new file when there is none).
    Update {
        id: Option<PageId>,
        blog_post_id: Option<BlogPostId>,
        file_name: Option<String>,
        media_type: Option<String>,
        data: Option<String>,
        file_path: Option<String>,
        comment: Option<String>,
    },
}

/// One file of a several-file upload: its bytes inline (`data`, base64) or from `filePath`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileIn {
    pub file_name: Option<String>,
    pub media_type: Option<String>,
    pub data: Option<String>,
    pub file_path: Option<String>,
}

/// `templates`: page templates, of a space or global.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Templates {
    List {
        space_id: Option<SpaceRef>,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Get {
        id: ContentId,
    },
}

/// `versions`: a page's history.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Versions {
    ListForPage {
        id: PageId,
        limit: Option<u32>,
        cursor: Option<String>,
    },
    Get {
        id: PageId,
        version: u64,
        body_format: Option<BodyFormat>,
        max_bytes: Option<usize>,
    },
    Diff {
        id: PageId,
        from: u64,
        to: Option<u64>,
        body_format: Option<BodyFormat>,
        max_bytes: Option<usize>,
    },
}

/// `databases`: metadata only.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Databases {
    Get {
        id: DatabaseId,
    },
    Entries {
        id: DatabaseId,
    },
    Create {
        space_id: SpaceRef,
        title: String,
        parent_id: Option<ContentId>,
    },
    Delete {
        id: DatabaseId,
    },
}

/// `connection`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Connection {
    Check {
        /// Only these tools (all when absent).
        tools: Option<Vec<String>>,
    },
}
