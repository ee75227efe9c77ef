use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string("Page id (children, ancestors, descendants, folders)."),
            &["children", "ancestors", "descendants", "folders"],
        ),
        param(
            "depth",
            integer(
                "descendants, tree: how many levels to walk (tree default 2).",
                1,
            ),
            &[],
        ),
        param(
            "spaceId",
            string("tree: the space id (or use spaceKey); createFolder: the space to create in."),
            &["createFolder"],
        ),
        param("spaceKey", string("tree: the space key, e.g. ENG."), &[]),
        param(
            "title",
            string("createFolder: the folder title."),
            &["createFolder"],
        ),
        param(
            "parentId",
            string("createFolder: the parent page or folder id."),
            &[],
        ),
    ];
    paging(&mut params);
    let mut output = listing(
        node_item(),
        "children, ancestors, descendants, folders, tree",
    );
    output.push(("space", described(space_item(), "The space (tree).")));
    output.push((
        "folder",
        described(node_item(), "The new folder (createFolder)."),
    ));
    ToolDef {
        spec: spec("content"),
        title: "Confluence page tree",
        description: "The page tree: children, ancestors, descendants (depth-limited), folders among the children, \
            a space's whole tree in one call (tree), and createFolder.",
        params,
        output,
    }
}
