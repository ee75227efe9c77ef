use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string("Page id."),
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
        param("spaceId", string("Space id or key."), &["create"]),
        param("title", string("Title (list: exact match)."), &["create"]),
        param(
            "status",
            string("list: current, draft, archived, trashed; create: current or draft."),
            &[],
        ),
        param(
            "parentId",
            string("Parent page id; update moves the page there (same space)."),
            &[],
        ),
        param(
            "bodyFormat",
            enumeration(
                &["markdown", "storage", "atlas_doc_format", "view"],
                "Body format in and out (default markdown; storage is Confluence XHTML; the other two read only). get with it returns the body too.",
            ),
            &[],
        ),
        param(
            "body",
            string("New body in bodyFormat (updateSection: without the heading)."),
            &[],
        ),
        param(
            "bodyFile",
            string("Instead of body: a file under the server's --files-root."),
            &[],
        ),
        param(
            "outputFile",
            string("Write the body to this file under --files-root instead of answering it."),
            &[],
        ),
        param(
            "version",
            integer(
                "Version to publish (current + 1); omit to use the current one + 1.",
                2,
            ),
            &[],
        ),
        param("versionMessage", string("Version comment."), &[]),
        param(
            "maxBytes",
            integer("Cap on body text returned (default 60000).", 1),
            &[],
        ),
        param("sectionId", string("Section id from outline."), &[]),
        param(
            "heading",
            string("Instead of sectionId: the heading text."),
            &[],
        ),
        param(
            "find",
            string("Exact text to find in the storage (XHTML) body."),
            &["replace"],
        ),
        param("replaceWith", string("Replacement text."), &["replace"]),
        param(
            "expectedCount",
            integer(
                "Matches there must be (default 1), else nothing changes.",
                1,
            ),
            &[],
        ),
        param("purge", boolean("Purge a page already in the trash."), &[]),
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
        description: "Confluence pages. For large pages, outline then getSection, updateSection or replace one part. Writes are versioned (a conflict names the current version) and answer with metadata.",
        params,
        output,
    }
}
