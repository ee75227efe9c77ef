use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param("id", string("get: space id (digits) or key."), &[]),
        param(
            "key",
            string("get: space key, e.g. ENG (instead of id)."),
            &[],
        ),
        param("keys", strings("list: only these space keys."), &[]),
    ];
    paging(&mut params);
    let mut output = listing(space_item(), "list");
    output.push(("space", described(space_item(), "The space (get).")));
    ToolDef {
        spec: spec("spaces"),
        title: "Confluence spaces",
        description: "Confluence spaces: list the spaces the account can see, or get one by id or key (with its homepage id).",
        params,
        output,
    }
}
