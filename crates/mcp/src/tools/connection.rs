use serde_json::json;

use super::{ToolDef, spec};
use crate::schema::*;

pub(crate) fn def() -> ToolDef {
    let params = vec![param(
        "tools",
        strings("Only these tools (default all)."),
        &[],
    )];
    let s = |d: &str| json!({ "type": "string", "description": d });
    let strings_of =
        |d: &str| json!({ "type": "array", "items": { "type": "string" }, "description": d });
    let output = vec![
        (
            "credential_kind",
            s("api_token, scoped_api_token, o_auth or access_token."),
        ),
        (
            "routes",
            json!({ "type": "array", "description": "Each base URL tried and its answer.",
                "items": { "type": "object", "required": ["route", "url", "accepts"],
                    "properties": { "route": {"type": "string"}, "url": {"type": "string"},
                        "status": {"type": ["integer", "null"]}, "accepts": {"type": "boolean"},
                        "detail": {"type": "string"} } } }),
        ),
        ("cloud_id", json!({ "type": ["string", "null"] })),
        (
            "granted_scopes",
            json!({ "type": ["array", "null"], "items": { "type": "string" } }),
        ),
        (
            "scope_source",
            s("unscoped, grant, configured or inferred."),
        ),
        (
            "proven_missing",
            strings_of("Scopes probes proved missing."),
        ),
        ("scope_check_first", json!({ "type": ["boolean", "null"] })),
        (
            "actions",
            json!({ "type": "array", "description": "One entry per tool action.",
                "items": { "type": "object", "required": ["tool", "action", "status"],
                    "properties": { "tool": {"type": "string"}, "action": {"type": "string"},
                        "status": {"type": "string", "enum": ["ok", "missing_scopes", "forbidden", "unsupported", "error"]},
                        "missing_scopes": {"type": "array", "items": {"type": "string"}},
                        "classic_alternative": {"type": "array", "items": {"type": "string"}},
                        "route": {"type": "array", "items": {"type": "string"}},
                        "detail": {"type": "string"} } } }),
        ),
        (
            "scopes_to_add",
            strings_of("The exact scopes to add so every action works."),
        ),
        ("where_to_add", json!({ "type": ["string", "null"] })),
    ];
    ToolDef {
        spec: spec("connection"),
        title: "Conflux connection check",
        description: "What this connection can do: base URL, scopes, and for each action whether it works or which scope to add. Changes nothing.",
        params,
        output,
    }
}
