use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param("id", string("Space id or key."), &[]),
        param("key", string("Space key (instead of id)."), &[]),
        param("keys", strings("Only these space keys."), &[]),
    ];
    paging(&mut params);
    let mut output = listing(space_item(), "list");
    output.push(("space", described(space_item(), "The space (get).")));
    ToolDef {
        spec: spec("spaces"),
        title: "Confluence spaces",
        description: "Confluence spaces.",
        params,
        output,
    }
}
