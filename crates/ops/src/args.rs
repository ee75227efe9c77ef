//! Each tool's parameters as one flat struct, parsed after `Ops::call` checked them against
//! the tool's declaration (`catalog::TOOLS`): the same names, nothing more.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Paging {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PagesArgs {
    pub id: Option<String>,
    pub space_id: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub parent_id: Option<String>,
    pub body_format: Option<String>,
    pub body: Option<String>,
    pub body_file: Option<String>,
    pub output_file: Option<String>,
    pub version: Option<u64>,
    pub version_message: Option<String>,
    pub max_bytes: Option<usize>,
    pub section_id: Option<String>,
    pub heading: Option<String>,
    pub find: Option<String>,
    pub replace_with: Option<String>,
    pub expected_count: Option<usize>,
    pub purge: Option<bool>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpacesArgs {
    pub id: Option<String>,
    pub key: Option<String>,
    pub keys: Option<Vec<String>>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchArgs {
    pub cql: Option<String>,
    pub cqlcontext: Option<String>,
    pub excerpt: Option<String>,
    pub start: Option<u64>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContentArgs {
    pub id: Option<String>,
    pub depth: Option<u32>,
    pub space_id: Option<String>,
    pub space_key: Option<String>,
    pub title: Option<String>,
    pub parent_id: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CommentsArgs {
    pub id: Option<String>,
    pub comment_id: Option<String>,
    pub parent_comment_id: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelsArgs {
    pub id: Option<String>,
    pub labels: Option<Vec<String>>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AttachmentsArgs {
    pub id: Option<String>,
    pub page_id: Option<String>,
    pub file_name: Option<String>,
    pub media_type: Option<String>,
    pub data: Option<String>,
    pub file_path: Option<String>,
    pub output_file: Option<String>,
    pub comment: Option<String>,
    pub max_bytes: Option<u64>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VersionsArgs {
    pub id: Option<String>,
    pub version: Option<u64>,
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub body_format: Option<String>,
    pub max_bytes: Option<usize>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DatabasesArgs {
    pub id: Option<String>,
    pub space_id: Option<String>,
    pub title: Option<String>,
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConnectionArgs {
    /// Only these tools (all when absent).
    pub tools: Option<Vec<String>>,
}
