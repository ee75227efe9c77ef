//! The JSON fixture format: a whole simulated site, declared.
//!
//! Tests build exactly the site they need with it (`conflux sim --fixture FILE`, or
//! [`crate::SimConfig::fixture`]); the demo site is one too ([`crate::demo::demo_fixture`]).
//! Every id is a string, as in Confluence's JSON. References go by id (pages, comments) or by
//! key (spaces); [`Fixture::validate`] reports the first dangling reference.
//!
//! ```json
//! {
//!   "site": { "name": "acme" },
//!   "users": [{ "account_id": "u1", "email": "ada@example.com", "display_name": "Ada" }],
//!   "spaces": [{ "id": "100", "key": "ENG", "name": "Engineering",
//!                "permissions": [{ "principal": "user:u1", "operations": ["read", "write"] }] }],
//!   "pages": [{ "id": "1001", "space": "ENG", "title": "Home", "author": "u1",
//!               "body": "<p>Hello</p>" }],
//!   "tokens": [{ "kind": "classic", "email": "ada@example.com", "token": "t-1" }]
//! }
//! ```

use serde::{Deserialize, Serialize};

/// A whole site.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub site: SiteSpec,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub spaces: Vec<SpaceSpec>,
    #[serde(default)]
    pub pages: Vec<PageSpec>,
    #[serde(default)]
    pub folders: Vec<FolderSpec>,
    #[serde(default)]
    pub comments: Vec<CommentSpec>,
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    #[serde(default)]
    pub databases: Vec<DatabaseSpec>,
    /// Credentials that exist from the start (more can be made through the admin API).
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    #[serde(default)]
    pub oauth_clients: Vec<OAuthClientSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSpec {
    /// The `{name}` of `{name}.atlassian.net`; shown in accessible-resources.
    #[serde(default = "default_site_name")]
    pub name: String,
    /// Fixed cloudId; a fresh one is derived from the seed when absent.
    #[serde(default)]
    pub cloud_id: Option<String>,
}

fn default_site_name() -> String {
    "demo".to_string()
}

impl Default for SiteSpec {
    fn default() -> Self {
        SiteSpec { name: default_site_name(), cloud_id: None }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    /// Group names this user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// `atlassian` (licensed), `app`, or `customer`; guests are `atlassian` with `guest: true`.
    #[serde(default)]
    pub guest: bool,
    #[serde(default)]
    pub site_admin: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceSpec {
    pub id: String,
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `global` or `personal`.
    #[serde(default = "default_space_type", rename = "type")]
    pub space_type: String,
    /// Id of the space's home page, if any (must be a page of this space).
    #[serde(default)]
    pub homepage: Option<String>,
    /// Who may do what. A space with no entry for a user is invisible to that user.
    #[serde(default)]
    pub permissions: Vec<PermissionSpec>,
}

fn default_space_type() -> String {
    "global".to_string()
}

/// One grant: `principal` is `user:{account_id}`, `group:{name}`, or `anonymous`.
/// `operations` are any of `read`, `write`, `delete`, `comment`, `attach`, `admin`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub principal: String,
    pub operations: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    pub id: String,
    /// Space key.
    pub space: String,
    pub title: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Account id of the author.
    pub author: String,
    /// Storage-format body of the current version.
    #[serde(default)]
    pub body: String,
    /// `current`, `draft`, `archived` or `trashed`.
    #[serde(default = "default_status")]
    pub status: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// RFC 3339; a fixed date derived from the seed when absent.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Earlier versions, oldest first; the page itself is the version after the last of these.
    #[serde(default)]
    pub history: Vec<VersionSpec>,
}

fn default_status() -> String {
    "current".to_string()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSpec {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSpec {
    pub id: String,
    pub space: String,
    pub title: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub author: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSpec {
    pub id: String,
    pub page_id: String,
    /// `footer` or `inline`.
    pub kind: String,
    #[serde(default)]
    pub parent_comment_id: Option<String>,
    pub author: String,
    pub body: String,
    /// For inline comments: the marker ref in the page body and the text it highlights.
    #[serde(default)]
    pub inline_marker_ref: Option<String>,
    #[serde(default)]
    pub inline_original_selection: Option<String>,
    /// For inline comments: `open`, `resolved`, `dangling` or `reopened`.
    #[serde(default)]
    pub resolution_status: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSpec {
    /// `att` followed by digits, as Cloud names them.
    pub id: String,
    pub page_id: String,
    /// The file name.
    pub title: String,
    pub media_type: String,
    #[serde(default)]
    pub comment: String,
    /// File content: UTF-8 text in `text`, or bytes as standard base64 in `base64`.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub base64: Option<String>,
    pub author: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub id: String,
    pub space: String,
    pub title: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub author: String,
}

/// A credential that exists from the start.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// `classic` (site and gateway, all the user's rights), `scoped` (gateway only, within
    /// `scopes`), or `oauth` (a Bearer access token, gateway only, within `scopes`).
    pub kind: String,
    pub email: String,
    pub token: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds from the simulator's start until the token expires; never when absent.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// For `oauth`: the client the token was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientSpec {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub name: String,
}
