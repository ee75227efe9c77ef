use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string(
                "Page id (get, getBody, outline, getSection, update, updateSection, replace, delete).",
            ),
            &[
                "get",
                "getBody",
                "outline",
                "getSection",
                "update",
                "updateSection",
                "replace",
                "delete",
            ],
        ),
        param(
            "spaceId",
            string("Space id: filter for list; where to create for create."),
            &["create"],
        ),
        param(
            "title",
            string("Title: filter for list (exact); the title for create; a new title for update."),
            &["create"],
        ),
        param(
            "status",
            string(
                "list: current, draft, archived or trashed. create: current (default) or draft.",
            ),
            &[],
        ),
        param(
            "parentId",
            string(
                "create: the parent page id. update: move the page under this page or folder of its space.",
            ),
            &[],
        ),
        param(
            "bodyFormat",
            enumeration(
                &["markdown", "storage", "atlas_doc_format", "view"],
                "Format of bodies in and out: markdown (default), storage (Confluence XHTML); atlas_doc_format and view for reading only. get with bodyFormat returns the body as getBody does. outline, getSection and replace cut the storage body; getSection returns its part in this format.",
            ),
            &[],
        ),
        param(
            "body",
            string(
                "create, update, updateSection: the new body, in bodyFormat (Markdown by default). For updateSection, the section's content without its heading.",
            ),
            &[],
        ),
        param(
            "bodyFile",
            string(
                "Instead of body: a local file to read it from, relative to the directory the person started the server with (--files-root); refused when there is none.",
            ),
            &[],
        ),
        param(
            "outputFile",
            string(
                "getBody, getSection: write the body to this local file, relative to the server's --files-root directory, and answer with metadata only; refused when there is none.",
            ),
            &[],
        ),
        param(
            "version",
            integer(
                "update, updateSection, replace: the version to publish (current + 1). Omit it and the server reads the current version.",
                2,
            ),
            &[],
        ),
        param(
            "versionMessage",
            string("update, updateSection, replace: the version comment."),
            &[],
        ),
        param(
            "maxBytes",
            integer(
                "getBody, getSection: cap on the body text returned (default 60000); a longer body is cut and marked truncated.",
                1,
            ),
            &[],
        ),
        param(
            "sectionId",
            string("getSection, updateSection: a section id from outline."),
            &[],
        ),
        param(
            "heading",
            string("getSection, updateSection: instead of sectionId, the heading text."),
            &[],
        ),
        param(
            "find",
            string(
                "replace: exact text to find in the storage (XHTML) body; read it with getSection bodyFormat storage.",
            ),
            &["replace"],
        ),
        param(
            "replaceWith",
            string("replace: the replacement text."),
            &["replace"],
        ),
        param(
            "expectedCount",
            integer(
                "replace: how many matches there must be (default 1); otherwise nothing changes.",
                1,
            ),
            &[],
        ),
        param(
            "purge",
            boolean("delete: purge a page already in the trash."),
            &[],
        ),
    ];
    paging(&mut params);
    let mut output = listing(page_item(), "list");
    output.extend([
        ("page", described(page_item(), "The page (get, getBody, outline, getSection, create, update, updateSection, replace).")),
        ("body", described(body(), "The body (getBody, getSection, get with bodyFormat).")),
        ("sections", json!({ "type": "array", "items": section(), "description": "The heading tree (outline)." })),
        ("section", described(section(), "The section read (getSection).")),
        ("size", json!({ "type": "integer", "description": "Bytes of the body written (create, update, updateSection, replace)." })),
        ("replacements", json!({ "type": "integer", "description": "Occurrences replaced (replace)." })),
        ("id", json!({ "type": "string", "description": "The deleted page (delete)." })),
        ("deleted", json!({ "type": "boolean", "description": "True once deleted (delete)." })),
    ]);
    ToolDef {
        spec: spec("pages"),
        title: "Confluence pages",
        description: "Confluence pages: list, read, create, update, delete. Large pages: outline (heading tree with \
            section ids and sizes), getSection, updateSection and replace (find-and-replace with an expected \
            match count) read and write one part at a time. Writes use optimistic locking: omit `version` and the \
            current one + 1 is sent; a conflict names the current number. Writes answer with metadata, not the body. \
            Bodies are Markdown by default (bodyFormat storage for Confluence XHTML).",
        params,
        output,
    }
}
