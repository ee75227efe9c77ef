use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "cql",
            string("CQL, e.g. type = page AND space = DEV AND text ~ \"roadmap\"."),
            &["cql"],
        ),
        param("cqlcontext", string("CQL context JSON."), &[]),
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
        description: "Search Confluence with CQL.",
        params,
        output,
    }
}
