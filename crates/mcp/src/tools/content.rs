use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let mut params = vec![
        param(
            "id",
            string("Page id."),
            &["children", "ancestors", "descendants", "folders"],
        ),
        param(
            "depth",
            integer("Levels to walk (tree: default 2).", 1),
            &[],
        ),
        param("spaceId", string("Space id or key."), &["createFolder"]),
        param("spaceKey", string("Space key."), &[]),
        param("title", string("Folder title."), &["createFolder"]),
        param("parentId", string("Parent page or folder id."), &[]),
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
        description: "The page tree: children, ancestors, descendants, folders, a space's tree.",
        params,
        output,
    }
}
