//! What the operations return: compact, typed, serialised in camelCase. Every list result is
//! `items` (each with `id` and `title` or its natural name) plus `count` and `nextCursor`.

use conflux_client::api::Owner;
use conflux_client::models;
use serde::Serialize;

/// One page of a list, with the opaque cursor for the next.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub count: usize,
    /// Pass back as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    pub fn new(items: Vec<T>, next_cursor: Option<String>) -> Self {
        Listing {
            count: items.len(),
            items,
            next_cursor,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageItem {
    pub id: String,
    pub title: String,
    pub space_id: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<&models::Page> for PageItem {
    fn from(p: &models::Page) -> Self {
        PageItem {
            id: p.id.clone(),
            title: p.title.clone(),
            space_id: p.space_id.clone(),
            status: p.status.clone(),
            parent_id: p.parent_id.clone(),
            version: p.version.as_ref().map(|v| v.number),
            created_at: p.created_at.clone(),
            url: p.links.webui.clone(),
        }
    }
}

/// A page template.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateItem {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The key of its space; none for a global template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    /// Its body (storage), when read with `get`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl From<models::ContentTemplate> for TemplateItem {
    fn from(t: models::ContentTemplate) -> Self {
        TemplateItem {
            id: t.template_id,
            name: t.name,
            description: t.description,
            space_key: t
                .space
                .as_ref()
                .and_then(|s| s.get("key"))
                .and_then(serde_json::Value::as_str)
                .map(String::from),
            body: t.body.and_then(|b| b.storage).map(|s| s.value),
        }
    }
}

/// A person.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserItem {
    pub account_id: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl From<models::User> for UserItem {
    fn from(u: models::User) -> Self {
        UserItem {
            account_id: u.account_id,
            display_name: u.display_name,
            account_type: u.account_type,
            email: u.email.filter(|e| !e.is_empty()),
        }
    }
}

/// Who may do one operation on restricted content.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestrictionItem {
    pub operation: String,
    pub users: Vec<UserItem>,
    pub groups: Vec<String>,
}

impl From<models::ContentRestriction> for RestrictionItem {
    fn from(r: models::ContentRestriction) -> Self {
        RestrictionItem {
            operation: r.operation,
            users: r
                .restrictions
                .user
                .results
                .into_iter()
                .map(UserItem::from)
                .collect(),
            groups: r
                .restrictions
                .group
                .results
                .into_iter()
                .map(|g| g.name)
                .collect(),
        }
    }
}

/// A body in one representation, or where it was written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyOut {
    pub format: String,
    /// The body text; absent when it was written to `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Size of the whole body in bytes.
    pub size: usize,
    /// True when `value` was cut at the size cap.
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectionInfo {
    pub id: String,
    pub title: String,
    pub level: u8,
    /// Bytes of the section, heading and sub-sections included.
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceItem {
    pub id: String,
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub space_type: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<&models::Space> for SpaceItem {
    fn from(s: &models::Space) -> Self {
        SpaceItem {
            id: s.id.clone(),
            key: s.key.clone(),
            name: s.name.clone(),
            space_type: s.space_type.clone(),
            status: s.status.clone(),
            homepage_id: s.homepage_id.clone(),
            url: s.links.webui.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchItem {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub content_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_key: Option<String>,
    pub excerpt: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeItem {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub content_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

impl From<models::ContentRef> for NodeItem {
    fn from(c: models::ContentRef) -> Self {
        NodeItem {
            id: c.id,
            title: c.title,
            content_type: c.content_type,
            status: c.status,
            parent_id: c.parent_id,
            depth: c.depth,
        }
    }
}

impl From<models::Container> for NodeItem {
    fn from(c: models::Container) -> Self {
        NodeItem {
            id: c.id,
            title: c.title,
            content_type: if c.content_type.is_empty() {
                "folder".into()
            } else {
                c.content_type
            },
            status: c.status,
            parent_id: c.parent_id,
            depth: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentItem {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// The blog post it is on, for a comment on a blog post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blog_post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_comment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution_status: Option<String>,
    /// Account id of the author of the comment's current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Replies, oldest first, each with its own replies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<CommentItem>,
    /// Some replies were not read (more than one call reads): read them from the comment's id.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub more_replies: bool,
}

impl From<models::Comment> for CommentItem {
    fn from(c: models::Comment) -> Self {
        CommentItem {
            id: c.id,
            title: c.title,
            page_id: c.page_id,
            blog_post_id: c.blog_post_id,
            parent_comment_id: c.parent_comment_id,
            author_id: c.version.as_ref().and_then(|v| v.author_id.clone()),
            created_at: c.version.as_ref().and_then(|v| v.created_at.clone()),
            replies: Vec::new(),
            more_replies: false,
            version: c.version.map(|v| v.number),
            body: c
                .body
                .as_ref()
                .and_then(|b| b.any())
                .map(|b| b.value.clone()),
            resolution_status: c.resolution_status,
        }
    }
}

/// One permission assignment: who (a user, group or role) may do what.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionItem {
    /// `user`, `group` or `role`.
    pub principal_type: String,
    /// An account id, a group id, or a role such as `ANONYMOUS`.
    pub principal_id: String,
    /// What may be done (`read`, `create`, `delete`, `administer`, ...).
    pub operation: String,
    /// On what (`space`, `page`, `blogpost`, `comment`, `attachment`, ...).
    pub target: String,
}

impl From<models::SpacePermission> for PermissionItem {
    fn from(p: models::SpacePermission) -> Self {
        PermissionItem {
            principal_type: p.principal.principal_type,
            principal_id: p.principal.id,
            operation: p.operation.key,
            target: p.operation.target_type,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelItem {
    pub id: String,
    pub name: String,
    pub prefix: String,
}

impl From<models::Label> for LabelItem {
    fn from(l: models::Label) -> Self {
        LabelItem {
            id: l.id,
            name: l.name,
            prefix: l.prefix,
        }
    }
}

/// Which page or blog post an answer is about.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blog_post_id: Option<String>,
}

impl From<&Owner> for OwnerOut {
    fn from(o: &Owner) -> Self {
        match o {
            Owner::Page(id) => OwnerOut {
                page_id: Some(id.to_string()),
                blog_post_id: None,
            },
            Owner::BlogPost(id) => OwnerOut {
                page_id: None,
                blog_post_id: Some(id.to_string()),
            },
        }
    }
}

impl std::fmt::Display for OwnerOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.page_id, &self.blog_post_id) {
            (_, Some(post)) => write!(f, "blog post {post}"),
            (Some(page), None) => write!(f, "page {page}"),
            (None, None) => f.write_str("?"),
        }
    }
}

/// One file of a several-file upload.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedFile {
    pub id: String,
    pub title: String,
    pub size: usize,
}

/// One downloaded file: its bytes as base64 in `data`, or written to `file`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileOut {
    pub attachment: AttachmentItem,
    pub media_type: String,
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A file left out of a download, and why (over the cap; not an image).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedFile {
    pub id: String,
    pub title: String,
    pub size: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentItem {
    pub id: String,
    pub title: String,
    pub media_type: String,
    pub file_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blog_post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl From<models::Attachment> for AttachmentItem {
    fn from(a: models::Attachment) -> Self {
        AttachmentItem {
            id: a.id,
            title: a.title,
            media_type: a.media_type,
            file_size: a.file_size,
            page_id: a.page_id,
            blog_post_id: a.blog_post_id,
            download_link: a.download_link.or(a.links.download),
            version: a.version.map(|v| v.number),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionItem {
    pub number: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub minor_edit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl From<models::Version> for VersionItem {
    fn from(v: models::Version) -> Self {
        VersionItem {
            number: v.number,
            message: v.message,
            minor_edit: v.minor_edit,
            author_id: v.author_id,
            created_at: v.created_at,
        }
    }
}

/// Every action's result; [`Output::to_json`] adds the action's name as `action`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
#[non_exhaustive]
pub enum Data {
    PageList(Listing<PageItem>),
    Page {
        page: PageItem,
    },
    PageBody {
        page: PageItem,
        body: BodyOut,
    },
    Outline {
        page: PageItem,
        sections: Vec<SectionInfo>,
    },
    Section {
        page: PageItem,
        section: SectionInfo,
        body: BodyOut,
    },
    /// create, update, updateSection: metadata only, never the body again.
    Written {
        page: PageItem,
        size: usize,
        /// What the Markdown conversion noticed (it lost nothing): an unclosed tag or
        /// directive the caller may not have meant.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    Replaced {
        page: PageItem,
        replacements: usize,
        size: usize,
    },
    Deleted {
        id: String,
        deleted: bool,
        /// What was deleted (`page`, `database`), for the text.
        #[serde(skip)]
        what: &'static str,
        /// Gone for good, not moved to the trash.
        #[serde(skip)]
        purged: bool,
    },
    SpaceList(Listing<SpaceItem>),
    Space {
        space: SpaceItem,
    },
    /// A space's permission assignments.
    Permissions {
        space: SpaceItem,
        #[serde(flatten)]
        list: Listing<PermissionItem>,
    },
    Search {
        #[serde(flatten)]
        list: Listing<SearchItem>,
        total_size: Option<u64>,
    },
    Nodes(Listing<NodeItem>),
    Tree {
        space: SpaceItem,
        #[serde(flatten)]
        list: Listing<NodeItem>,
    },
    Folder {
        folder: NodeItem,
    },
    Database {
        database: NodeItem,
    },
    /// The doctor's report (`connection.check`).
    Connection(Box<crate::doctor::Report>),
    Comments(Listing<CommentItem>),
    Comment {
        comment: CommentItem,
        /// As `Written`'s.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    Labels {
        #[serde(flatten)]
        on: OwnerOut,
        #[serde(flatten)]
        list: Listing<LabelItem>,
    },
    Attachments(Listing<AttachmentItem>),
    Attachment {
        attachment: AttachmentItem,
    },
    Download {
        attachment: AttachmentItem,
        media_type: String,
        size: usize,
        /// Base64 of the bytes, unless they were written to `file`.
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    Uploaded {
        id: String,
        #[serde(flatten)]
        on: OwnerOut,
        title: String,
        size: usize,
    },
    /// Several files uploaded in one call, in the order given.
    UploadedFiles {
        #[serde(flatten)]
        on: OwnerOut,
        items: Vec<UploadedFile>,
        count: usize,
    },
    /// Files of a page or blog post (downloadAll, images): those that fit the cap, with their
    /// bytes inline or in `file`; the rest in `skipped`, with why.
    Files {
        #[serde(flatten)]
        on: OwnerOut,
        files: Vec<FileOut>,
        skipped: Vec<SkippedFile>,
        /// Bytes of `files` in all.
        size: u64,
        /// The folder they were written to, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        /// Images: shown to MCP clients as image content.
        #[serde(skip)]
        images: bool,
    },
    Versions {
        page_id: String,
        #[serde(flatten)]
        list: Listing<VersionItem>,
    },
    VersionBody {
        page: PageItem,
        version: u64,
        body: BodyOut,
    },
    /// A content property (`pages.getProperty`, `setProperty`).
    Property {
        page_id: String,
        key: String,
        value: serde_json::Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<u64>,
    },
    /// A page's restrictions, one entry per restricted operation.
    Restrictions {
        page_id: String,
        restrictions: Vec<RestrictionItem>,
    },
    /// A permission check's answer.
    Permission {
        page_id: String,
        operation: &'static str,
        /// The user's account id or the group's name, as asked.
        subject: String,
        allowed: bool,
        /// Why not, as Confluence words it.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<String>,
    },
    /// Views and distinct viewers of a page; `None` where the site offers no analytics.
    Views {
        page_id: String,
        views: Option<u64>,
        viewers: Option<u64>,
    },
    Templates(Listing<TemplateItem>),
    Template {
        template: TemplateItem,
    },
    Users(Listing<UserItem>),
    User {
        user: UserItem,
    },
    PostList(Listing<PageItem>),
    Post {
        blogpost: PageItem,
    },
    PostBody {
        blogpost: PageItem,
        body: BodyOut,
    },
    /// A blog post created or updated: metadata only.
    PostWritten {
        blogpost: PageItem,
        size: usize,
        /// As `Written`'s.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    Diff {
        page_id: String,
        from: u64,
        to: u64,
        added: usize,
        removed: usize,
        diff: String,
    },
}

/// An action's result.
#[derive(Debug, Clone)]
pub struct Output {
    pub action: &'static str,
    pub data: Data,
}

impl Output {
    pub fn new(action: &'static str, data: Data) -> Output {
        Output { action, data }
    }

    /// The result as a JSON object with `action` first (what `structuredContent` carries).
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert(
            "action".into(),
            serde_json::Value::String(self.action.into()),
        );
        match serde_json::to_value(&self.data) {
            Ok(serde_json::Value::Object(m)) => out.extend(m),
            Ok(other) => {
                out.insert("value".into(), other);
            }
            Err(e) => {
                out.insert("error".into(), serde_json::Value::String(e.to_string()));
            }
        }
        serde_json::Value::Object(out)
    }
}
