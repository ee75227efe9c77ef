use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param("id", string("Page id."), &["getForPage", "addToPage"]),
        param(
            "labels",
            strings("Label names (no spaces)."),
            &["addToPage"],
        ),
    ];
    paging(&mut params);
    let mut output = listing(
        label_item(),
        "getForPage and addToPage (the page's labels afterwards)",
    );
    output.push(("pageId", json!({ "type": "string" })));
    ToolDef {
        spec: spec("labels"),
        title: "Confluence labels",
        description: "Page labels.",
        params,
        output,
    }
}
