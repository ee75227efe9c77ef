//! The tool surface, declared once: every tool, its actions (whether each writes, the
//! Confluence operations it calls, so its scopes come from Atlassian's own table, and the
//! resources it touches, for the guardrails), its arguments and its answer fields. The MCP
//! schemas, the CLI subcommands, the doctor and docs/tools.md are generated from it.

use std::collections::HashMap;
use std::sync::LazyLock;

use conflux_catalog::{Operation, ScopeSet};
use conflux_types::IdKind;

use crate::args;

/// One action of one tool.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    /// Changes something in Confluence (left out in read-only mode).
    pub write: bool,
    /// Removes or overwrites content.
    pub destructive: bool,
    /// The operations the action calls, each the preferred one of its step.
    pub operations: &'static [Operation],
    pub summary: &'static str,
    /// Confluence Cloud offers no public API for what the action asks; it answers with that
    /// explanation (and what does exist) instead of a mysterious 401.
    pub no_public_api: bool,
    /// Whether the client may take another route for the same job (false where the other
    /// route would silently answer something else, e.g. child pages without the folders).
    pub fallback: bool,
    /// The Confluence resources the action reads or writes, each named by an argument: the
    /// guardrails check the space of every one of them, in one place, before any other
    /// request (a write action writes all of them).
    pub touches: &'static [Touch],
    /// Operations the action calls only when asked for more than its plain job: their scopes
    /// are requested with the action's (`--print-scopes`, OAuth grants), and the doctor names
    /// them as optional when missing, since the action works without them.
    pub extras: &'static [Extra],
}

/// Something an action does beyond its plain job, and the operations that takes.
#[derive(Debug, Clone, Copy)]
pub struct Extra {
    /// What it gives, for the doctor: "names of people mentioned in Markdown bodies".
    pub gives: &'static str,
    pub operations: &'static [Operation],
}

impl Extra {
    pub fn scopes(&self) -> ScopeSet {
        granular_scopes(self.operations)
    }
}

/// The granular scopes of every one of `operations`.
fn granular_scopes(operations: &[Operation]) -> ScopeSet {
    operations
        .iter()
        .fold(ScopeSet::EMPTY, |acc, op| acc.union(op.info().granular))
}

/// Markdown bodies name the people they mention, in one bulk lookup per body; without its
/// scope the mentions keep their account ids.
const MENTION_NAMES: &[Extra] = &[Extra {
    gives: "names of people mentioned in Markdown bodies (without it, mentions show account ids)",
    operations: &[Operation::CreateBulkUserLookup],
}];

/// A resource an action touches: the argument that names it, and what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    pub param: &'static str,
    pub resource: Resource,
}

/// What an argument names, which says how to find its space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A space id or key.
    Space,
    /// A page: its `spaceId`.
    Page,
    /// A parent: a page, or a folder or database (their space through the pages above them).
    Container,
    /// A footer comment: the page it is on.
    FooterComment,
    /// An attachment: the page it is attached to.
    Attachment,
    /// A database: its space through the pages above it.
    Database,
    /// A blog post: its `spaceId`.
    BlogPost,
    /// An inline comment: the page or blog post it is on.
    InlineComment,
}

const fn touch(param: &'static str, resource: Resource) -> Touch {
    Touch { param, resource }
}

impl ActionSpec {
    /// The same action, touching `touches`.
    const fn on(self, touches: &'static [Touch]) -> ActionSpec {
        ActionSpec { touches, ..self }
    }

    /// The same action, doing `extras` when asked.
    const fn extras(self, extras: &'static [Extra]) -> ActionSpec {
        ActionSpec { extras, ..self }
    }
}

use Resource as R;
const PAGE: &[Touch] = &[touch("id", R::Page)];
/// Page `id`, or blog post `blogPostId` instead.
const PAGE_OR_POST: &[Touch] = &[touch("id", R::Page), touch("blogPostId", R::BlogPost)];
const SPACE: &[Touch] = &[touch("spaceId", R::Space)];
const IN_SPACE_UNDER_PARENT: &[Touch] =
    &[touch("spaceId", R::Space), touch("parentId", R::Container)];

/// One tool: the one declaration its surfaces are generated from (the MCP input and output
/// schemas, the CLI subcommands, the doctor's list, `--print-scopes`, docs/tools.md).
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    pub name: &'static str,
    /// Shown by clients beside the name.
    pub title: &'static str,
    /// One sentence; each action's line (with the fields it requires) is generated.
    pub description: &'static str,
    pub actions: &'static [ActionSpec],
    /// Every argument of the tool beside `action`: flat, each checked per action.
    pub params: &'static [ParamSpec],
    /// The JSON Schema of the tool's typed arguments ([`crate::args`]): which action takes
    /// which of `params`, and which it cannot run without ([`ToolSpec::action_args`]).
    pub arguments: fn() -> schemars::Schema,
    /// Every field any action answers beside `action`.
    pub outputs: &'static [OutField],
}

/// One argument of a tool.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// camelCase, as MCP clients send it (the CLI flag is its kebab-case).
    pub name: &'static str,
    pub kind: ParamKind,
    pub description: &'static str,
}

/// The JSON shape of an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Text,
    /// A non-negative integer, at least `min`.
    Integer {
        min: u64,
    },
    Flag,
    /// A list of strings.
    List,
    /// An id of this kind (checked before any request: it goes into paths and CQL).
    Id(IdKind),
    /// A list of ids of this kind.
    Ids(IdKind),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// Any JSON value (a content property's value).
    Json,
    /// Files to upload, each `{fileName, mediaType, data | filePath}`.
    Files,
}

/// One field of a tool's answer.
#[derive(Debug, Clone, Copy)]
pub struct OutField {
    pub name: &'static str,
    pub ty: OutType,
}

/// The JSON type of an answer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutType {
    Text,
    Integer,
    Flag,
    Array,
    Object,
    /// A string, or null (`nextCursor` on the last page).
    TextOrNull,
    IntegerOrNull,
    BoolOrNull,
    ArrayOrNull,
    /// Any JSON value (a content property's value).
    Any,
}

impl OutType {
    /// The field's JSON Schema: its type, or nothing to say for any value.
    pub fn schema(self) -> serde_json::Value {
        match self {
            OutType::Any => serde_json::json!({}),
            other => serde_json::json!({ "type": other.json_type() }),
        }
    }

    /// How docs/tools.md names the type.
    pub fn name(self) -> &'static str {
        match self {
            OutType::Text => "string",
            OutType::Integer => "integer",
            OutType::Flag => "boolean",
            OutType::Array => "array",
            OutType::Object => "object",
            OutType::TextOrNull => "string or null",
            OutType::IntegerOrNull => "integer or null",
            OutType::BoolOrNull => "boolean or null",
            OutType::ArrayOrNull => "array or null",
            OutType::Any => "any JSON",
        }
    }

    /// The JSON Schema `type`.
    fn json_type(self) -> serde_json::Value {
        use serde_json::json;
        match self {
            OutType::Any => json!(null),
            OutType::Text => json!("string"),
            OutType::Integer => json!("integer"),
            OutType::Flag => json!("boolean"),
            OutType::Array => json!("array"),
            OutType::Object => json!("object"),
            OutType::TextOrNull => json!(["string", "null"]),
            OutType::IntegerOrNull => json!(["integer", "null"]),
            OutType::BoolOrNull => json!(["boolean", "null"]),
            OutType::ArrayOrNull => json!(["array", "null"]),
        }
    }
}

const fn param(name: &'static str, kind: ParamKind, description: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        description,
    }
}

const fn text(name: &'static str, description: &'static str) -> ParamSpec {
    param(name, ParamKind::Text, description)
}

const fn out(name: &'static str, ty: OutType) -> OutField {
    OutField { name, ty }
}

use OutType as T;
use ParamKind as K;

const NUMERIC: ParamKind = K::Id(IdKind::Numeric);
const SPACE_ID: ParamKind = K::Id(IdKind::SpaceIdOrKey);

const LIMIT: ParamSpec = param("limit", K::Integer { min: 1 }, "");
const CURSOR: ParamSpec = text("cursor", "");
const BODY_FORMATS: &[&str] = &["markdown", "storage", "atlas_doc_format", "view"];
const ITEMS: OutField = out("items", T::Array);
const COUNT: OutField = out("count", T::Integer);
const NEXT: OutField = out("nextCursor", T::TextOrNull);

const fn read(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        name,
        write: false,
        destructive: false,
        operations,
        summary,
        no_public_api: false,
        fallback: true,
        touches: &[],
        extras: &[],
    }
}

const fn write(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        write: true,
        ..read(name, operations, summary)
    }
}

const fn destroy(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        destructive: true,
        ..write(name, operations, summary)
    }
}

/// A read that must use exactly its operations: no other route gives the same answer.
const fn read_exact(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        fallback: false,
        ..read(name, operations, summary)
    }
}

/// An action that explains why Confluence cannot do it (after checking what `operations` read).
const fn no_api(
    name: &'static str,
    operations: &'static [Operation],
    summary: &'static str,
) -> ActionSpec {
    ActionSpec {
        no_public_api: true,
        ..read(name, operations, summary)
    }
}

use Operation as O;

/// Every tool, in the order `tools/list` shows them.
pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "pages",
        arguments: schema::<args::Pages>,
        title: "Confluence pages",
        description: "Confluence pages. Writes answer with metadata, not the body.",
        params: &[
            param("id", NUMERIC, ""),
            param("spaceId", SPACE_ID, ""),
            param("title", K::Text, "Title (list: exact match)."),
            text(
                "status",
                "list: current, draft, archived, trashed; create: current or draft.",
            ),
            param(
                "parentId",
                NUMERIC,
                "Parent page or folder (update: same space).",
            ),
            param(
                "bodyFormat",
                K::OneOf(BODY_FORMATS),
                "Default markdown; storage is Confluence XHTML; the other two are read only.",
            ),
            text(
                "body",
                "In bodyFormat (updateSection: without its heading).",
            ),
            text("bodyFile", "Instead of body: a file under --files-root."),
            text(
                "outputFile",
                "Write the body there (under --files-root) instead.",
            ),
            param(
                "version",
                K::Integer { min: 2 },
                "Version to publish (default current + 1).",
            ),
            text("versionMessage", ""),
            param(
                "maxBytes",
                K::Integer { min: 1 },
                "Cap on body text (default 60000).",
            ),
            text("sectionId", "Section id from outline."),
            text("heading", "Instead of sectionId: the heading text."),
            param("find", K::Text, "Exact text of the storage (XHTML) body."),
            param("replaceWith", K::Text, ""),
            param(
                "expectedCount",
                K::Integer { min: 1 },
                "Matches required (default 1).",
            ),
            param("purge", K::Flag, "Purge a page already in the trash."),
            param("targetId", NUMERIC, "move: the page to go under or beside."),
            param(
                "position",
                K::OneOf(&["append", "before", "after"]),
                "move: default append.",
            ),
            text("key", "Content property key."),
            param("value", K::Json, "Property value: any JSON."),
            param(
                "operation",
                K::OneOf(&["read", "update", "delete"]),
                "Restricted (read, update) or checked (default read).",
            ),
            param("users", K::List, "Account ids."),
            param("groups", K::List, "Group names."),
            text("accountId", ""),
            text("group", "A group name."),
            param("withAttachments", K::Flag, ""),
            param("withLabels", K::Flag, ""),
            param("tree", K::Flag, "copy: with its descendants."),
            text("since", "views: from this date."),
            param("templateId", NUMERIC, ""),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("page", T::Object),
            out("body", T::Object),
            out("sections", T::Array),
            out("section", T::Object),
            out("size", T::Integer),
            out("replacements", T::Integer),
            out("id", T::Text),
            out("deleted", T::Flag),
            out("pageId", T::Text),
            out("key", T::Text),
            out("value", T::Any),
            out("version", T::Integer),
            out("restrictions", T::Array),
            out("allowed", T::Flag),
            out("operation", T::Text),
            out("subject", T::Text),
            out("reasons", T::Array),
            out("views", T::IntegerOrNull),
            out("viewers", T::IntegerOrNull),
            out("warnings", T::Array),
        ],
        actions: &[
            read("list", &[O::GetPages], "by spaceId, title, status").on(SPACE),
            read(
                "get",
                &[O::GetPageById],
                "metadata, by id or title and spaceId (bodyFormat: body too)",
            )
            .extras(MENTION_NAMES)
            .on(&[touch("id", R::Page), touch("spaceId", R::Space)]),
            read(
                "getBody",
                &[O::GetPageById],
                "the body (bodyFormat, maxBytes)",
            )
            .extras(MENTION_NAMES)
            .on(PAGE),
            read(
                "outline",
                &[O::GetPageById],
                "heading tree with section ids and sizes",
            )
            .on(PAGE),
            read(
                "getSection",
                &[O::GetPageById],
                "one section, by sectionId or heading",
            )
            .extras(MENTION_NAMES)
            .on(PAGE),
            write("create", &[O::CreatePage], "a new page").on(IN_SPACE_UNDER_PARENT),
            destroy(
                "update",
                &[O::GetPageById, O::UpdatePage],
                "new title, body or parentId",
            )
            .on(&[touch("id", R::Page), touch("parentId", R::Container)]),
            destroy(
                "updateSection",
                &[O::GetPageById, O::UpdatePage],
                "new content for one section",
            )
            .on(PAGE),
            destroy(
                "replace",
                &[O::GetPageById, O::UpdatePage],
                "find-and-replace, only with expectedCount matches",
            )
            .on(PAGE),
            destroy(
                "delete",
                &[O::DeletePage],
                "move to the trash (purge: out of it)",
            )
            .on(PAGE),
            write(
                "move",
                &[O::MovePage, O::GetPageById],
                "with its subtree, under or beside targetId (any space)",
            )
            .on(&[touch("id", R::Page), touch("targetId", R::Page)]),
            read(
                "getProperty",
                &[O::GetPageContentProperties],
                "a content property",
            )
            .on(PAGE),
            write(
                "setProperty",
                &[
                    O::GetPageContentProperties,
                    O::CreatePageProperty,
                    O::UpdatePagePropertyById,
                ],
                "set a property",
            )
            .on(PAGE),
            read(
                "getRestrictions",
                &[O::GetRestrictions],
                "who may read or update it",
            )
            .on(PAGE),
            destroy(
                "setRestrictions",
                &[O::UpdateRestrictions],
                "only users, groups may read or update it (none: all)",
            )
            .on(PAGE),
            write(
                "copy",
                &[O::CopyPage, O::GetPageById],
                "a copy under targetId or atop spaceId (tree: descendants too)",
            )
            .extras(&[Extra {
                gives: "pages.copy with tree (the page-hierarchy copy and its task)",
                operations: &[O::CopyPageHierarchy, O::GetTask],
            }])
            .on(&[
                touch("id", R::Page),
                touch("targetId", R::Page),
                touch("spaceId", R::Space),
            ]),
            read(
                "views",
                &[O::GetViews, O::GetViewers],
                "views and distinct viewers",
            )
            .on(PAGE),
            write(
                "createFromTemplate",
                &[O::GetContentTemplate, O::CreatePage],
                "a new page with a template's body (variables as they are)",
            )
            .on(IN_SPACE_UNDER_PARENT),
            read(
                "checkPermission",
                &[O::CheckContentPermission],
                "may accountId or group do operation",
            )
            .on(PAGE),
        ],
    },
    ToolSpec {
        name: "blogposts",
        arguments: schema::<args::BlogPosts>,
        title: "Confluence blog posts",
        description: "Blog posts, read and written as pages are (the same arguments).",
        params: &[
            param("id", NUMERIC, ""),
            param("spaceId", SPACE_ID, ""),
            param("title", K::Text, ""),
            text("status", ""),
            param("bodyFormat", K::OneOf(BODY_FORMATS), ""),
            text("body", ""),
            text("bodyFile", ""),
            text("outputFile", ""),
            param("version", K::Integer { min: 2 }, ""),
            text("versionMessage", ""),
            param("maxBytes", K::Integer { min: 1 }, ""),
            param("purge", K::Flag, ""),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("blogpost", T::Object),
            out("body", T::Object),
            out("size", T::Integer),
            out("id", T::Text),
            out("deleted", T::Flag),
            out("warnings", T::Array),
        ],
        actions: &[
            read("list", &[O::GetBlogPosts], "by spaceId, title, status").on(SPACE),
            read("get", &[O::GetBlogPostById], "metadata").on(&[touch("id", R::BlogPost)]),
            read(
                "getBody",
                &[O::GetBlogPostById],
                "the body (bodyFormat, maxBytes)",
            )
            .extras(MENTION_NAMES)
            .on(&[touch("id", R::BlogPost)]),
            write("create", &[O::CreateBlogPost], "publish (or draft) a post").on(SPACE),
            destroy(
                "update",
                &[O::GetBlogPostById, O::UpdateBlogPost],
                "new title or body",
            )
            .on(&[touch("id", R::BlogPost)]),
            destroy(
                "delete",
                &[O::DeleteBlogPost],
                "move to the trash (purge: out of it)",
            )
            .on(&[touch("id", R::BlogPost)]),
        ],
    },
    ToolSpec {
        name: "spaces",
        arguments: schema::<args::Spaces>,
        title: "Confluence spaces",
        description: "Confluence spaces.",
        params: &[
            param("id", SPACE_ID, ""),
            param("key", K::Id(IdKind::SpaceKey), "Space key (instead of id)."),
            param("keys", K::Ids(IdKind::SpaceKey), "Only these space keys."),
            LIMIT,
            CURSOR,
        ],
        outputs: &[ITEMS, COUNT, NEXT, out("space", T::Object)],
        actions: &[
            read("list", &[O::GetSpacesV2], "spaces the account can see"),
            read("get", &[O::GetSpaceById], "one space by id or key")
                .on(&[touch("id", R::Space), touch("key", R::Space)]),
            read(
                "permissions",
                &[O::GetSpacePermissionsAssignments],
                "who may do what (users, groups, roles)",
            )
            .on(&[touch("id", R::Space), touch("key", R::Space)]),
        ],
    },
    ToolSpec {
        name: "search",
        arguments: schema::<args::Search>,
        title: "Confluence search",
        description: "Search Confluence with CQL.",
        params: &[
            param(
                "cql",
                K::Text,
                "CQL, e.g. type = page AND space = DEV AND text ~ \"roadmap\".",
            ),
            text("cqlcontext", "CQL context JSON."),
            param(
                "excerpt",
                K::OneOf(&["indexed", "highlight", "none"]),
                "Excerpt strategy (default highlight).",
            ),
            param(
                "start",
                K::Integer { min: 0 },
                "Offset (instead of cursor).",
            ),
            LIMIT,
            CURSOR,
        ],
        outputs: &[ITEMS, COUNT, NEXT, out("totalSize", T::IntegerOrNull)],
        actions: &[read("cql", &[O::SearchByCQL], "CQL search with excerpts")],
    },
    ToolSpec {
        name: "content",
        arguments: schema::<args::Content>,
        title: "Confluence page tree",
        description: "The page tree: children, ancestors, descendants, folders, a space's tree.",
        params: &[
            param("id", NUMERIC, ""),
            param(
                "depth",
                K::Integer { min: 1 },
                "Levels to walk (tree: default 2).",
            ),
            param("spaceId", SPACE_ID, ""),
            param("spaceKey", K::Id(IdKind::SpaceKey), ""),
            param("title", K::Text, ""),
            param("parentId", NUMERIC, "Parent page or folder id."),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("space", T::Object),
            out("folder", T::Object),
        ],
        actions: &[
            read("children", &[O::GetPageDirectChildren], "direct children").on(PAGE),
            read("ancestors", &[O::GetPageAncestors], "ancestors, root first").on(PAGE),
            read(
                "descendants",
                &[O::GetPageDescendants],
                "descendants down to depth",
            )
            .on(PAGE),
            read_exact("folders", &[O::GetPageDirectChildren], "child folders").on(PAGE),
            read(
                "tree",
                &[O::GetSpaceById, O::GetPageById, O::GetPageDescendants],
                "a space's page tree",
            )
            .on(&[touch("spaceId", R::Space), touch("spaceKey", R::Space)]),
            write("createFolder", &[O::CreateFolder], "a new folder").on(IN_SPACE_UNDER_PARENT),
        ],
    },
    ToolSpec {
        name: "comments",
        arguments: schema::<args::Comments>,
        title: "Confluence comments",
        description: "Page comments, as threads with author and date.",
        params: &[
            param("id", NUMERIC, ""),
            param("blogPostId", NUMERIC, "Instead of id: a blog post."),
            param("parentCommentId", NUMERIC, "Reply to this footer comment."),
            param("commentId", NUMERIC, ""),
            param("body", K::Text, "Comment text in bodyFormat."),
            param("bodyFormat", K::OneOf(BODY_FORMATS), "Default markdown."),
            text("selection", "Page text to highlight, exactly."),
            param(
                "matchIndex",
                K::Integer { min: 0 },
                "Which occurrence of selection (default 0).",
            ),
            param("version", K::Integer { min: 2 }, "Default current + 1."),
            param("reopen", K::Flag, "resolveInline: reopen instead."),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("comment", T::Object),
            out("id", T::Text),
            out("deleted", T::Flag),
            out("warnings", T::Array),
        ],
        actions: &[
            read(
                "getFooter",
                &[O::GetPageFooterComments, O::GetFooterCommentChildren],
                "footer comment threads",
            )
            .extras(MENTION_NAMES)
            .on(&[touch("id", R::Page), touch("blogPostId", R::BlogPost)]),
            write(
                "addFooter",
                &[O::CreateFooterComment],
                "a footer comment, or a reply (parentCommentId)",
            )
            .on(&[
                touch("id", R::Page),
                touch("blogPostId", R::BlogPost),
                touch("parentCommentId", R::FooterComment),
            ]),
            read(
                "getInline",
                &[O::GetPageInlineComments, O::GetInlineCommentChildren],
                "inline comment threads",
            )
            .extras(MENTION_NAMES)
            .on(PAGE),
            destroy(
                "delete",
                &[O::DeleteFooterComment],
                "a footer comment and its replies, for good",
            )
            .on(&[touch("commentId", R::FooterComment)]),
            destroy(
                "update",
                &[O::GetFooterCommentById, O::UpdateFooterComment],
                "a footer comment's new body",
            )
            .on(&[touch("commentId", R::FooterComment)]),
            write(
                "addInline",
                &[O::GetPageById, O::CreateInlineComment],
                "an inline comment on selection",
            )
            .on(PAGE),
            write(
                "resolveInline",
                &[O::GetInlineCommentById, O::UpdateInlineComment],
                "resolve (reopen: reopen)",
            )
            .on(&[touch("commentId", R::InlineComment)]),
        ],
    },
    ToolSpec {
        name: "labels",
        arguments: schema::<args::Labels>,
        title: "Confluence labels",
        description: "Labels of pages and blog posts.",
        params: &[
            param("id", NUMERIC, ""),
            param("blogPostId", NUMERIC, "Instead of id: a blog post."),
            param("labels", K::List, "Label names (no spaces)."),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("pageId", T::Text),
            out("blogPostId", T::Text),
        ],
        actions: &[
            read("getForPage", &[O::GetPageLabels], "labels of a page").on(PAGE_OR_POST),
            write("addToPage", &[O::AddLabelsToContent], "add labels").on(PAGE_OR_POST),
            destroy(
                "remove",
                &[
                    O::RemoveLabelFromContentUsingQueryParameter,
                    O::GetPageLabels,
                ],
                "take labels off",
            )
            .on(PAGE_OR_POST),
        ],
    },
    ToolSpec {
        name: "attachments",
        arguments: schema::<args::Attachments>,
        title: "Confluence attachments",
        description: "Files attached to pages and blog posts.",
        params: &[
            param(
                "id",
                K::Id(IdKind::Attachment),
                "Attachment id for get, download, delete; else page id.",
            ),
            param("blogPostId", NUMERIC, "Instead of a page: a blog post."),
            param("pageId", NUMERIC, "Its page, if Confluence does not say."),
            text("fileName", "File name (default: filePath's)."),
            text("mediaType", ""),
            text("data", "File bytes, base64."),
            text("filePath", "Instead of data: a file under --files-root."),
            text(
                "outputFile",
                "Write there (downloadAll: a folder), under --files-root.",
            ),
            text("comment", ""),
            param("files", K::Files, "upload: several files."),
            param(
                "maxBytes",
                K::Integer { min: 1 },
                "Cap (downloadAll, images: in all; default 5 MiB).",
            ),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("attachment", T::Object),
            out("mediaType", T::Text),
            out("size", T::Integer),
            out("data", T::Text),
            out("file", T::Text),
            out("id", T::Text),
            out("pageId", T::Text),
            out("blogPostId", T::Text),
            out("title", T::Text),
            out("deleted", T::Flag),
            out("files", T::Array),
            out("skipped", T::Array),
        ],
        actions: &[
            read(
                "listForPage",
                &[O::GetPageAttachments],
                "attachments of a page",
            )
            .on(PAGE_OR_POST),
            read("get", &[O::GetAttachmentById], "metadata and download link")
                .on(&[touch("id", R::Attachment)]),
            read(
                "download",
                &[O::GetAttachmentById, O::DownloadAttatchment],
                "the bytes, capped by maxBytes",
            )
            .on(&[touch("id", R::Attachment)]),
            read(
                "downloadAll",
                &[O::GetPageAttachments, O::DownloadAttatchment],
                "every file, up to maxBytes in all",
            )
            .on(PAGE_OR_POST),
            read(
                "images",
                &[O::GetPageAttachments, O::DownloadAttatchment],
                "the image files, as images",
            )
            .on(PAGE_OR_POST),
            write(
                "upload",
                &[O::CreateAttachment],
                "attach data or filePath, or files",
            )
            .on(PAGE_OR_POST),
            destroy("delete", &[O::DeleteAttachment], "to the trash")
                .on(&[touch("id", R::Attachment)]),
            destroy(
                "update",
                &[O::CreateOrUpdateAttachments],
                "a new version of the file of that name",
            )
            .on(PAGE_OR_POST),
        ],
    },
    ToolSpec {
        name: "versions",
        arguments: schema::<args::Versions>,
        title: "Confluence page history",
        description: "Page history and diffs.",
        params: &[
            param("id", NUMERIC, ""),
            param("version", K::Integer { min: 1 }, ""),
            param("from", K::Integer { min: 1 }, "Older version."),
            param(
                "to",
                K::Integer { min: 1 },
                "Newer version (default current).",
            ),
            param("bodyFormat", K::OneOf(BODY_FORMATS), "Default markdown."),
            param(
                "maxBytes",
                K::Integer { min: 1 },
                "Cap on text (default 60000).",
            ),
            LIMIT,
            CURSOR,
        ],
        outputs: &[
            ITEMS,
            COUNT,
            NEXT,
            out("pageId", T::Text),
            out("page", T::Object),
            out("version", T::Integer),
            out("body", T::Object),
            out("from", T::Integer),
            out("to", T::Integer),
            out("added", T::Integer),
            out("removed", T::Integer),
            out("diff", T::Text),
        ],
        actions: &[
            read(
                "listForPage",
                &[O::GetPageVersions],
                "versions, newest first",
            )
            .on(PAGE),
            read("get", &[O::GetPageById], "the body at a version")
                .extras(MENTION_NAMES)
                .on(PAGE),
            read("diff", &[O::GetPageById], "unified diff of two versions").on(PAGE),
        ],
    },
    ToolSpec {
        name: "templates",
        arguments: schema::<args::Templates>,
        title: "Confluence templates",
        description: "Page templates (pages.createFromTemplate uses them).",
        params: &[
            param("id", NUMERIC, ""),
            param("spaceId", SPACE_ID, ""),
            LIMIT,
            CURSOR,
        ],
        outputs: &[ITEMS, COUNT, NEXT, out("template", T::Object)],
        actions: &[
            read(
                "list",
                &[O::GetSpaceById, O::GetContentTemplates],
                "a space's (spaceId) or the global ones",
            )
            .on(SPACE),
            read("get", &[O::GetContentTemplate], "one, with its body"),
        ],
    },
    ToolSpec {
        name: "users",
        arguments: schema::<args::Users>,
        title: "Confluence users",
        description: "People and their account ids.",
        params: &[
            text("query", "A name, or part of it."),
            text("accountId", ""),
            LIMIT,
            CURSOR,
        ],
        outputs: &[ITEMS, COUNT, NEXT, out("user", T::Object)],
        actions: &[
            read("search", &[O::SearchUser], "users by name"),
            read("get", &[O::GetUser], "one user"),
            read("me", &[O::GetCurrentUser], "who this connection acts as"),
        ],
    },
    ToolSpec {
        name: "databases",
        arguments: schema::<args::Databases>,
        title: "Confluence databases",
        description: "Confluence databases (metadata; Cloud has no public API for rows).",
        params: &[
            param("id", NUMERIC, ""),
            param("spaceId", SPACE_ID, ""),
            param("title", K::Text, ""),
            param("parentId", NUMERIC, "Parent page or folder id."),
        ],
        outputs: &[
            out("database", T::Object),
            out("id", T::Text),
            out("deleted", T::Flag),
        ],
        actions: &[
            read("get", &[O::GetDatabaseById], "metadata").on(&[touch("id", R::Database)]),
            no_api(
                "entries",
                &[O::GetDatabaseById],
                "rows: no public API; says what exists",
            )
            .on(&[touch("id", R::Database)]),
            write("create", &[O::CreateDatabase], "a new database").on(IN_SPACE_UNDER_PARENT),
            destroy("delete", &[O::DeleteDatabase], "to the trash").on(&[touch("id", R::Database)]),
        ],
    },
    ToolSpec {
        name: "connection",
        arguments: schema::<args::Connection>,
        title: "Conflux connection check",
        description: "What this connection can do: each action, whether it works or which scope to add.",
        params: &[param("tools", K::List, "Only these tools (default all).")],
        outputs: &[
            out("credential_kind", T::Text),
            out("routes", T::Array),
            out("cloud_id", T::TextOrNull),
            out("granted_scopes", T::ArrayOrNull),
            out("scope_source", T::Text),
            out("proven_missing", T::Array),
            out("scope_check_first", T::BoolOrNull),
            out("actions", T::Array),
            out("scopes_to_add", T::Array),
            out("where_to_add", T::TextOrNull),
            out("optional_scopes", T::Array),
        ],
        actions: &[read(
            "check",
            &[],
            "base URLs, scopes, each action's status and fix",
        )],
    },
];

fn schema<T: schemars::JsonSchema>() -> schemars::Schema {
    schemars::schema_for!(T)
}

/// The arguments one action takes, in the order of the tool's parameter table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionArgs {
    /// Every argument it reads; any other is refused by name.
    pub takes: Vec<&'static str>,
    /// Those it cannot run without (named in its description line).
    pub required: Vec<&'static str>,
}

/// Each action's [`ActionArgs`], from the variant of its tool's argument enum (`oneOf`, one
/// object schema per action, its `action` a `const`), read once.
static ACTION_ARGS: LazyLock<HashMap<(&'static str, &'static str), ActionArgs>> =
    LazyLock::new(|| {
        let mut all = HashMap::new();
        for t in TOOLS {
            let schema = (t.arguments)();
            let variants = schema
                .get("oneOf")
                .and_then(serde_json::Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for v in variants {
                let Some(action) = v
                    .pointer("/properties/action/const")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|name| t.action(name))
                else {
                    continue;
                };
                let named = |key: &str| -> Vec<&'static str> {
                    let listed: Vec<&str> = match v.get(key) {
                        Some(serde_json::Value::Object(m)) => {
                            m.keys().map(String::as_str).collect()
                        }
                        Some(serde_json::Value::Array(a)) => {
                            a.iter().filter_map(serde_json::Value::as_str).collect()
                        }
                        _ => Vec::new(),
                    };
                    t.params
                        .iter()
                        .filter(|p| listed.contains(&p.name))
                        .map(|p| p.name)
                        .collect()
                };
                all.insert(
                    (t.name, action.name),
                    ActionArgs {
                        takes: named("properties"),
                        required: named("required"),
                    },
                );
            }
        }
        all
    });

/// The tool called `name`.
pub fn tool(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

impl ToolSpec {
    pub fn action(&self, name: &str) -> Option<&'static ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }

    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The arguments `action` cannot run without, in declaration order.
    pub fn required_params(&self, action: &str) -> Vec<&'static str> {
        self.action_args(action).required.clone()
    }

    /// What `action` takes and requires, read from its typed arguments.
    pub fn action_args(&self, action: &str) -> &'static ActionArgs {
        static NONE: ActionArgs = ActionArgs {
            takes: Vec::new(),
            required: Vec::new(),
        };
        self.action(action)
            .and_then(|a| ACTION_ARGS.get(&(self.name, a.name)))
            .unwrap_or(&NONE)
    }

    /// `name(required, ...): summary`, the line that documents one action everywhere.
    pub fn action_line(&self, a: &ActionSpec) -> String {
        let required = self.required_params(a.name);
        if required.is_empty() {
            format!("{}: {}", a.name, a.summary)
        } else {
            format!("{}({}): {}", a.name, required.join(", "), a.summary)
        }
    }

    /// Action names offered in this mode.
    pub fn action_names(&self, read_only: bool) -> Vec<&'static str> {
        self.actions
            .iter()
            .filter(|a| !(read_only && a.write))
            .map(|a| a.name)
            .collect()
    }

    /// The JSON Schema every answer of the tool meets: `action`, then each field any action
    /// returns, with its JSON type (the shapes inside are the item types of `model.rs`).
    pub fn answer_schema(&self) -> serde_json::Value {
        let mut props = serde_json::Map::new();
        props.insert("action".into(), serde_json::json!({ "type": "string" }));
        for f in self.outputs {
            props.insert(f.name.into(), f.ty.schema());
        }
        serde_json::json!({
            "type": "object",
            "properties": props,
            "required": ["action"],
            "additionalProperties": false,
        })
    }

    pub fn has_writes(&self) -> bool {
        self.actions.iter().any(|a| a.write)
    }

    pub fn has_destructive(&self) -> bool {
        self.actions.iter().any(|a| a.destructive)
    }
}

impl ParamSpec {
    /// The argument's JSON Schema, as MCP clients see it.
    pub fn json_schema(&self) -> serde_json::Value {
        use serde_json::json;
        let mut schema = match self.kind {
            ParamKind::Text | ParamKind::Id(_) => json!({ "type": "string" }),
            ParamKind::Ids(_) => json!({ "type": "array", "items": { "type": "string" } }),
            ParamKind::Integer { min } => json!({ "type": "integer", "minimum": min }),
            ParamKind::Flag => json!({ "type": "boolean" }),
            ParamKind::List => json!({ "type": "array", "items": { "type": "string" } }),
            ParamKind::OneOf(values) => json!({ "type": "string", "enum": values }),
            ParamKind::Json => json!({}),
            ParamKind::Files => {
                let text = json!({ "type": "string" });
                json!({ "type": "array", "items": { "type": "object", "properties": {
                    "fileName": text, "mediaType": text, "data": text, "filePath": text,
                }, "additionalProperties": false } })
            }
        };
        // A name that says it all (`id`, `limit`, `cursor`) goes without words: every agent
        // reads each description of tools/list before it does anything.
        if !self.description.is_empty() {
            schema["description"] = json!(self.description);
        }
        schema
    }

    /// Checks one value against the argument's kind; the message names the argument.
    pub fn check(&self, v: &serde_json::Value) -> Result<(), String> {
        use serde_json::Value;
        let name = self.name;
        let (ok, want) = match self.kind {
            ParamKind::Text | ParamKind::OneOf(_) | ParamKind::Id(_) => (v.is_string(), "a string"),
            ParamKind::Ids(_) => (
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                "an array of strings",
            ),
            ParamKind::Integer { .. } => (v.as_u64().is_some(), "a non-negative integer"),
            ParamKind::Flag => (v.is_boolean(), "true or false"),
            ParamKind::Json => (true, "any JSON value"),
            ParamKind::Files => (
                v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
                "an array of files, each {fileName, mediaType, data or filePath}",
            ),
            ParamKind::List => (
                v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                "an array of strings",
            ),
        };
        if !ok {
            return Err(format!("`{name}` must be {want} (got {v})"));
        }
        if let (ParamKind::OneOf(allowed), Some(s)) = (self.kind, v.as_str())
            && !allowed.contains(&s)
        {
            return Err(format!(
                "`{name}` `{s}` is not one of: {}",
                allowed.join(", ")
            ));
        }
        if let (ParamKind::Integer { min }, Some(n)) = (self.kind, v.as_u64())
            && n < min
        {
            return Err(format!("`{name}` must be at least {min} (got {n})"));
        }
        let ids: Vec<&str> = match (self.kind, v) {
            (ParamKind::Id(_), Value::String(s)) => vec![s.as_str()],
            (ParamKind::Ids(_), Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if let ParamKind::Id(kind) | ParamKind::Ids(kind) = self.kind {
            for id in ids {
                kind.check(id.trim())
                    .map_err(|e| format!("`{name}`: {e}"))?;
            }
        }
        Ok(())
    }
}

impl ToolSpec {
    /// Checks the arguments of `action` (without `action` itself) against the declaration:
    /// known names, kinds, and the arguments the action requires. Nothing is sent before this
    /// passes, whichever surface the call came from.
    pub fn check_arguments(
        &self,
        action: &ActionSpec,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), String> {
        // Null is an absent argument, except where any JSON is a value (a property's value).
        let present = |k: &str, v: &serde_json::Value| {
            !v.is_null() || self.param(k).is_some_and(|p| p.kind == ParamKind::Json)
        };
        for (k, v) in args {
            if !present(k, v) {
                continue;
            }
            let takes = &self.action_args(action.name).takes;
            let Some(p) = self.param(k).filter(|p| takes.contains(&p.name)) else {
                let what = if self.param(k).is_some() {
                    "is not an argument of"
                } else {
                    "is no parameter of"
                };
                return Err(format!(
                    "`{k}` {what} `{}.{}`, which takes: {}",
                    self.name,
                    action.name,
                    if takes.is_empty() {
                        "nothing beside `action`".to_string()
                    } else {
                        takes.join(", ")
                    }
                ));
            };
            p.check(v)?;
        }
        for name in self.required_params(action.name) {
            if !args.get(name).is_some_and(|v| present(name, v)) {
                return Err(format!("`{name}` is required for action `{}`", action.name));
            }
        }
        Ok(())
    }
}

impl ActionSpec {
    /// Whether a credential holding exactly `granted` can perform the action: every step has
    /// an operation (the preferred one or a fallback) whose classic or granular scopes it holds.
    pub fn possible_with(&self, granted: ScopeSet) -> bool {
        self.operations.iter().all(|preferred| {
            let steps = if self.fallback {
                conflux_client::api::candidates::for_preferred(*preferred)
            } else {
                vec![*preferred]
            };
            steps
                .iter()
                .any(|op| matches!(op.check(granted), conflux_catalog::Verdict::Satisfied(_)))
        })
    }

    /// The granular scopes this action needs: each of its operations' granular set.
    pub fn scopes(&self) -> ScopeSet {
        granular_scopes(self.operations)
    }

    /// The scopes of its plain job and of its extras.
    pub fn scopes_with_extras(&self) -> ScopeSet {
        self.extras
            .iter()
            .fold(self.scopes(), |acc, e| acc.union(e.scopes()))
    }
}

/// The granular scopes the named tools need (all tools when `tools` is empty), without write
/// actions when `read_only`: every action's, with its extras (a page copied with its tree,
/// the names of mentioned people), so that a grant made from this list does everything.
pub fn scopes_for(tools: &[String], read_only: bool) -> ScopeSet {
    TOOLS
        .iter()
        .filter(|t| tools.is_empty() || tools.iter().any(|n| n == t.name))
        .flat_map(|t| t.actions.iter())
        .filter(|a| !(read_only && a.write))
        .fold(ScopeSet::EMPTY, |acc, a| acc.union(a.scopes_with_extras()))
}

/// The table of every tool action in docs/tools.md: what it does, what it requires, whether it
/// writes, the Confluence operations it calls and the scopes they need. Generated from the
/// declarations; a test fails when the checked-in copy drifts.
pub fn markdown_table() -> String {
    use std::fmt::Write as _;
    let mut o = String::from(
        "<!-- Generated from crates/ops/src/catalog.rs by `CONFLUX_WRITE_DOCS=1 cargo test -p \
         conflux-ops --lib docs_tools_table`; do not edit by hand. -->\n\n# Tools and actions\n\n\
         Every MCP tool and its actions, each also a CLI subcommand (`conflux TOOL ACTION`). \
         Operations are Atlassian's operation ids (v1 or v2 REST); scopes are the granular scopes \
         they need (the classic alternative, where one exists, is in `conflux doctor`). In \
         parentheses: operations an action calls only for an extra (names of mentioned people, a \
         page's tree), and the scopes those add; the action works without them, and \
         `--print-scopes` and OAuth grants include them.\n",
    );
    for t in TOOLS {
        let _ = write!(o, "\n## {}\n\n{}\n\n", t.name, t.description);
        o.push_str(
            "| action | optional arguments | writes | operations | granular scopes |\n\
             |---|---|---|---|---|\n",
        );
        for a in t.actions {
            let writes = match (a.write, a.destructive) {
                (false, _) => "",
                (true, false) => "yes",
                (true, true) => "yes, destructive",
            };
            let mut ops: Vec<String> = a
                .operations
                .iter()
                .map(|op| format!("`{}`", op.operation_id()))
                .collect();
            let mut scopes: Vec<String> = a
                .scopes()
                .names()
                .iter()
                .map(|s| format!("`{s}`"))
                .collect();
            // Extras: optional, so in parentheses, with what they give in the scopes column.
            for e in a.extras {
                let names: Vec<String> = e
                    .operations
                    .iter()
                    .map(|op| format!("`{}`", op.operation_id()))
                    .collect();
                ops.push(format!("({})", names.join(", ")));
                let extra: Vec<String> = e
                    .scopes()
                    .difference(a.scopes())
                    .names()
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect();
                if !extra.is_empty() {
                    let gives = e.gives.split(" (").next().unwrap_or(e.gives);
                    scopes.push(format!("(for {gives}: {})", extra.join(", ")));
                }
            }
            let line = t.action_line(a).replace('|', "\\|");
            let args = t.action_args(a.name);
            let optional: Vec<String> = args
                .takes
                .iter()
                .filter(|p| !args.required.contains(p))
                .map(|p| format!("`{p}`"))
                .collect();
            let _ = writeln!(
                o,
                "| {line} | {} | {writes} | {} | {} |",
                optional.join(", "),
                ops.join(", "),
                scopes.join(", ")
            );
        }
        let answers: Vec<String> = t
            .outputs
            .iter()
            .map(|f| format!("`{}` {}", f.name, f.ty.name()))
            .collect();
        o.push_str("\nanswers: `action` string, ");
        o.push_str(&answers.join(", "));
        o.push('\n');
        o.push_str("\narguments: ");
        let args: Vec<String> = t
            .params
            .iter()
            .map(|p| {
                format!("`{}` {}", p.name, p.description)
                    .trim_end()
                    .to_string()
            })
            .collect();
        o.push_str(&args.join("; "));
        o.push('\n');
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/tools.md is what the declarations say; `CONFLUX_WRITE_DOCS=1` rewrites it.
    #[test]
    fn docs_tools_table_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tools.md");
        let want = markdown_table();
        if std::env::var_os("CONFLUX_WRITE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/tools.md differs from the declarations; regenerate it with \
             CONFLUX_WRITE_DOCS=1 cargo test -p conflux-ops --lib docs_tools_table"
        );
    }

    /// The typed arguments and the declaration are one: every action has its variant and every
    /// variant its action, and each argument a variant reads is a parameter of the tool with the
    /// same JSON type (so the schema MCP clients see is the one the server parses).
    #[test]
    fn typed_arguments_match_the_declaration() {
        fn json_types(v: &serde_json::Value) -> Vec<String> {
            match v.get("type") {
                Some(serde_json::Value::String(t)) => vec![t.clone()],
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|t| t.as_str())
                    .filter(|t| *t != "null")
                    .map(String::from)
                    .collect(),
                // An enum by reference (`$ref` to a definition of strings).
                _ => vec!["string".into()],
            }
        }
        for t in TOOLS {
            let schema = (t.arguments)();
            let variants = schema
                .get("oneOf")
                .and_then(|v| v.as_array())
                .expect("one object per action");
            let mut names: Vec<&str> = variants
                .iter()
                .filter_map(|v| v.pointer("/properties/action/const")?.as_str())
                .collect();
            names.sort_unstable();
            let mut declared: Vec<&str> = t.actions.iter().map(|a| a.name).collect();
            declared.sort_unstable();
            assert_eq!(names, declared, "{}: variants and actions", t.name);
            for v in variants {
                let action = v
                    .pointer("/properties/action/const")
                    .and_then(|a| a.as_str());
                let props = v["properties"].as_object().expect("properties");
                for (name, prop) in props.iter().filter(|(n, _)| *n != "action") {
                    let p = t.param(name).unwrap_or_else(|| {
                        panic!(
                            "{}.{action:?} reads `{name}`, which the tool does not declare",
                            t.name
                        )
                    });
                    let want = match p.kind {
                        ParamKind::Text | ParamKind::Id(_) | ParamKind::OneOf(_) => "string",
                        ParamKind::Integer { .. } => "integer",
                        ParamKind::Flag => "boolean",
                        ParamKind::List | ParamKind::Ids(_) | ParamKind::Files => "array",
                        ParamKind::Json => continue,
                    };
                    assert_eq!(
                        json_types(prop),
                        vec![want.to_string()],
                        "{}.{name}",
                        t.name
                    );
                }
            }
            for p in t.params {
                assert!(
                    t.actions
                        .iter()
                        .any(|a| t.action_args(a.name).takes.contains(&p.name)),
                    "{}: no action reads `{}`",
                    t.name,
                    p.name
                );
            }
        }
        let pages = tool("pages").expect("pages");
        assert_eq!(pages.required_params("create"), ["spaceId", "title"]);
        assert!(pages.required_params("get").is_empty());
        assert!(!pages.action_args("get").takes.contains(&"parentId"));
    }

    /// An argument the action does not read is refused by name, with what the action takes
    /// (issue 12: `pages get` ignored arguments without a word).
    #[test]
    fn arguments_an_action_does_not_read_are_refused() {
        let pages = tool("pages").expect("pages");
        let get = pages.action("get").expect("get");
        let args = serde_json::json!({ "id": "1", "parentId": "2" });
        let err = pages
            .check_arguments(get, args.as_object().expect("object"))
            .expect_err("parentId is no argument of get");
        assert!(
            err.contains("`parentId` is not an argument of `pages.get`"),
            "{err}"
        );
        assert!(err.contains("bodyFormat"), "{err}");
        let args = serde_json::json!({ "id": "1", "colour": "red" });
        let err = pages
            .check_arguments(get, args.as_object().expect("object"))
            .expect_err("unknown");
        assert!(
            err.contains("`colour` is no parameter of `pages.get`"),
            "{err}"
        );
    }

    #[test]
    fn read_only_scopes_hold_no_write_scope() {
        let ro = scopes_for(&[], true);
        assert!(!ro.is_empty());
        assert!(
            ro.names()
                .iter()
                .all(|s| !s.starts_with("write:") && !s.starts_with("delete:")),
            "{:?}",
            ro.names()
        );
        let full = scopes_for(&[], false);
        assert!(full.contains_all(ro));
        assert!(full.names().contains(&"write:page:confluence"));
        assert!(full.names().contains(&"delete:page:confluence"));
    }

    #[test]
    fn tool_filter_narrows_scopes() {
        let search = scopes_for(&["search".into()], true);
        assert_eq!(search.names(), vec!["read:content-details:confluence"]);
    }

    /// Every action that calls Confluence declares what it calls; only the connection check,
    /// which probes whatever the other actions need, declares nothing.
    #[test]
    fn every_action_has_scopes() {
        for t in TOOLS {
            for a in t.actions {
                if t.name == "connection" {
                    assert!(a.operations.is_empty());
                    continue;
                }
                assert!(!a.scopes().is_empty(), "{}.{}", t.name, a.name);
            }
        }
    }
}
