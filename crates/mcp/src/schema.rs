//! JSON schemas, written out by hand so their shape is exactly what clients and models need:
//! flat input objects (`action` an inline enum, no `$ref`, no top-level `oneOf`) and output
//! schemas that name every field any action returns.

use serde_json::{Value, json};

/// One input parameter of a tool.
pub(crate) struct Param {
    pub name: &'static str,
    pub schema: Value,
    /// Actions for which the parameter must be given.
    pub required_for: &'static [&'static str],
}

pub(crate) fn param(
    name: &'static str,
    schema: Value,
    required_for: &'static [&'static str],
) -> Param {
    Param {
        name,
        schema,
        required_for,
    }
}

pub(crate) fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

pub(crate) fn integer(description: &str, minimum: u64) -> Value {
    json!({ "type": "integer", "minimum": minimum, "description": description })
}

pub(crate) fn boolean(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

pub(crate) fn enumeration(values: &[&str], description: &str) -> Value {
    json!({ "type": "string", "enum": values, "description": description })
}

pub(crate) fn strings(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

/// `limit` and `cursor`, shared by every list action.
pub(crate) fn paging(params: &mut Vec<Param>) {
    params.push(param("limit", integer("Page size (max 250).", 1), &[]));
    params.push(param(
        "cursor",
        string("nextCursor of the previous page."),
        &[],
    ));
}

fn object(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props })
}

const S: &str = "string";
const I: &str = "integer";

pub(crate) fn page_item() -> Value {
    object(
        &["id", "title", "spaceId", "status"],
        json!({ "id": {"type": S}, "title": {"type": S}, "spaceId": {"type": S}, "status": {"type": S},
            "parentId": {"type": S}, "version": {"type": I}, "createdAt": {"type": S}, "url": {"type": S} }),
    )
}

pub(crate) fn body() -> Value {
    object(
        &["format", "size", "truncated"],
        json!({ "format": {"type": S}, "value": {"type": S}, "size": {"type": I},
            "truncated": {"type": "boolean"}, "file": {"type": S} }),
    )
}

pub(crate) fn section() -> Value {
    object(
        &["id", "title", "level", "size"],
        json!({ "id": {"type": S}, "title": {"type": S}, "level": {"type": I}, "size": {"type": I}, "parentId": {"type": S} }),
    )
}

pub(crate) fn space_item() -> Value {
    object(
        &["id", "key", "name"],
        json!({ "id": {"type": S}, "key": {"type": S}, "name": {"type": S}, "type": {"type": S},
            "status": {"type": S}, "homepageId": {"type": S}, "url": {"type": S} }),
    )
}

pub(crate) fn search_item() -> Value {
    object(
        &["id", "title", "type", "url"],
        json!({ "id": {"type": S}, "title": {"type": S}, "type": {"type": S}, "spaceKey": {"type": S},
            "excerpt": {"type": S}, "url": {"type": S}, "lastModified": {"type": S} }),
    )
}

pub(crate) fn node_item() -> Value {
    object(
        &["id", "title", "type"],
        json!({ "id": {"type": S}, "title": {"type": S}, "type": {"type": S}, "status": {"type": S},
            "parentId": {"type": S}, "depth": {"type": I} }),
    )
}

pub(crate) fn comment_item() -> Value {
    object(
        &["id", "title"],
        json!({ "id": {"type": S}, "title": {"type": S}, "pageId": {"type": S}, "parentCommentId": {"type": S},
            "version": {"type": I}, "body": {"type": S}, "resolutionStatus": {"type": S},
            "authorId": {"type": S}, "createdAt": {"type": S},
            "replies": {"type": "array", "items": {"type": "object"}}, "moreReplies": {"type": "boolean"} }),
    )
}

pub(crate) fn label_item() -> Value {
    object(
        &["id", "name", "prefix"],
        json!({ "id": {"type": S}, "name": {"type": S}, "prefix": {"type": S} }),
    )
}

pub(crate) fn attachment_item() -> Value {
    object(
        &["id", "title", "mediaType", "fileSize"],
        json!({ "id": {"type": S}, "title": {"type": S}, "mediaType": {"type": S}, "fileSize": {"type": I},
            "pageId": {"type": S}, "downloadLink": {"type": S}, "version": {"type": I} }),
    )
}

pub(crate) fn version_item() -> Value {
    object(
        &["number", "minorEdit"],
        json!({ "number": {"type": I}, "message": {"type": S}, "minorEdit": {"type": "boolean"},
            "authorId": {"type": S}, "createdAt": {"type": S} }),
    )
}

/// `items`, `count`, `nextCursor` for a list of `item`.
pub(crate) fn listing(item: Value, actions: &str) -> Vec<(&'static str, Value)> {
    vec![
        (
            "items",
            json!({ "type": "array", "items": item, "description": format!("Results of {actions}.") }),
        ),
        (
            "count",
            json!({ "type": I, "description": "Number of items in this page." }),
        ),
        (
            "nextCursor",
            json!({ "type": [S, "null"], "description": "Pass as `cursor` for the next page; null on the last." }),
        ),
    ]
}

pub(crate) fn described(mut schema: Value, description: &str) -> Value {
    if let Some(o) = schema.as_object_mut() {
        o.insert("description".into(), Value::String(description.into()));
    }
    schema
}
