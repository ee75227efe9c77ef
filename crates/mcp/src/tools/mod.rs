//! One module per tool: its description, parameters and output fields. The call itself goes
//! through [`crate::ConfluxServer`]: validate the arguments against these definitions, run
//! the action in `conflux-ops`, render the result.

pub(crate) mod attachments;
pub(crate) mod comments;
pub(crate) mod connection;
pub(crate) mod content;
pub(crate) mod databases;
pub(crate) mod labels;
pub(crate) mod pages;
pub(crate) mod search;
pub(crate) mod spaces;
pub(crate) mod versions;

use conflux_ops::catalog::ToolSpec;
use serde_json::Value;

use crate::schema::Param;

pub(crate) struct ToolDef {
    pub spec: &'static ToolSpec,
    pub title: &'static str,
    pub description: &'static str,
    pub params: Vec<Param>,
    /// Output fields beside `action`.
    pub output: Vec<(&'static str, Value)>,
}

pub(crate) fn all() -> Vec<ToolDef> {
    vec![
        pages::def(),
        spaces::def(),
        search::def(),
        content::def(),
        comments::def(),
        labels::def(),
        attachments::def(),
        versions::def(),
        databases::def(),
        connection::def(),
    ]
}

pub(crate) fn spec(name: &str) -> &'static ToolSpec {
    conflux_ops::catalog::tool(name).unwrap_or(&conflux_ops::catalog::TOOLS[0])
}
