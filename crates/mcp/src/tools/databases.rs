use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let params = vec![
        param("id", string("Database id."), &["get", "entries", "delete"]),
        param("spaceId", string("Space id or key."), &["create"]),
        param("title", string("Title."), &["create"]),
        param("parentId", string("Parent page or folder id."), &[]),
    ];
    let output = vec![
        (
            "database",
            described(node_item(), "The database (get, create)."),
        ),
        (
            "id",
            json!({ "type": "string", "description": "Deleted database id (delete)." }),
        ),
        ("deleted", json!({ "type": "boolean" })),
    ];
    ToolDef {
        spec: spec("databases"),
        title: "Confluence databases",
        description: "Confluence databases (metadata; Cloud has no public API for rows).",
        params,
        output,
    }
}
