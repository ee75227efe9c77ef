use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "cql",
            string(
                "Confluence Query Language, e.g. type = page AND space = DEV AND text ~ \"roadmap\" ORDER BY lastmodified DESC.",
            ),
            &["cql"],
        ),
        param(
            "cqlcontext",
            string("CQL context JSON (space or content scoping)."),
            &[],
        ),
        param(
            "excerpt",
            enumeration(
                &["indexed", "highlight", "none"],
                "Excerpt strategy (default highlight).",
            ),
            &[],
        ),
        param(
            "start",
            integer("Offset of the first result (instead of cursor).", 0),
            &[],
        ),
    ];
    paging(&mut params);
    let mut output = listing(search_item(), "cql");
    output.push(("totalSize", json!({ "type": ["integer", "null"], "description": "Total matches, when Confluence reports it." })));
    ToolDef {
        spec: spec("search"),
        title: "Confluence search",
        description: "Search Confluence with CQL (the v1 search API). Results carry id, title, type, space key, excerpt and link.",
        params,
        output,
    }
}
