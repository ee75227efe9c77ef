use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param("id", string("Page id."), &["listForPage", "get", "diff"]),
        param("version", integer("Version number.", 1), &["get"]),
        param("from", integer("Older version.", 1), &["diff"]),
        param("to", integer("Newer version (default current).", 1), &[]),
        param(
            "bodyFormat",
            enumeration(
                &["markdown", "storage", "atlas_doc_format", "view"],
                "Body format (default markdown).",
            ),
            &[],
        ),
        param(
            "maxBytes",
            integer("Cap on text returned (default 60000).", 1),
            &[],
        ),
    ];
    paging(&mut params);
    let mut output = listing(version_item(), "listForPage");
    output.extend([
        ("pageId", json!({ "type": "string" })),
        (
            "page",
            described(page_item(), "The page at that version (get)."),
        ),
        (
            "version",
            json!({ "type": "integer", "description": "get: the version read." }),
        ),
        ("body", described(body(), "get: the body at that version.")),
        ("from", json!({ "type": "integer" })),
        ("to", json!({ "type": "integer" })),
        (
            "added",
            json!({ "type": "integer", "description": "diff: lines added." }),
        ),
        (
            "removed",
            json!({ "type": "integer", "description": "diff: lines removed." }),
        ),
        (
            "diff",
            json!({ "type": "string", "description": "diff: unified diff of the two bodies." }),
        ),
    ]);
    ToolDef {
        spec: spec("versions"),
        title: "Confluence page history",
        description: "Page history and diffs.",
        params,
        output,
    }
}
