use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let params = vec![
        param(
            "id",
            string("Database id (get, entries, delete)."),
            &["get", "entries", "delete"],
        ),
        param(
            "spaceId",
            string("create: the space to create the database in."),
            &["create"],
        ),
        param(
            "title",
            string("create: the database's title."),
            &["create"],
        ),
        param(
            "parentId",
            string("create: a parent page or folder id (optional)."),
            &[],
        ),
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
        description: "Confluence databases: read, create or delete a database's metadata. Its rows \
            (entries) have no public Confluence Cloud API: action `entries` explains that and what \
            does work, instead of the 401 'scope does not match' Confluence answers.",
        params,
        output,
    }
}
