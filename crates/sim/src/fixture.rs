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
//!   "tokens": [{ "kind": "classic", "email": "ada@example.com", "token": "t-1" }],
//!   "outside_accounts": [{ "account_id": "o1", "email": "olive@elsewhere.example",
//!                          "display_name": "Olive Outsider" }]
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
    /// Blog posts: content of a space outside the page tree.
    #[serde(default)]
    pub blogposts: Vec<BlogPostSpec>,
    /// Page templates: of a space (`space` set) or global.
    #[serde(default)]
    pub templates: Vec<TemplateSpec>,
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
    /// Account ids of deactivated users (or outside accounts): all their credentials get 401
    /// and they cannot sign in.
    #[serde(default)]
    pub disabled_users: Vec<String>,
    /// Atlassian accounts that exist at the identity service but are not users of this site:
    /// they can sign in (3LO) and consent, but their grant lists no site and the site refuses
    /// them. See docs/simulator.md ("Accounts").
    #[serde(default)]
    pub outside_accounts: Vec<OutsideAccountSpec>,
    /// Page-level read restrictions, on top of space permissions.
    #[serde(default)]
    pub restrictions: Vec<RestrictionSpec>,
}

/// Only `read` principals (`user:{account_id}`, `group:{name}`) may view content `content_id`.
/// A user who can read the space but not the page gets 404 on v2 and 403 on v1
/// `GET /wiki/rest/api/content/{id}` (the spec's "calling user can not view the content").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictionSpec {
    pub content_id: String,
    #[serde(default)]
    pub read: Vec<String>,
    /// Principals who alone may edit the content.
    #[serde(default)]
    pub update: Vec<String>,
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
        SiteSpec {
            name: default_site_name(),
            cloud_id: None,
        }
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

/// An Atlassian account with no access to the simulated site (someone from elsewhere).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutsideAccountSpec {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
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

/// A blog post (current, version 1). Comments and attachments may name it as their `page_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlogPostSpec {
    pub id: String,
    /// Space key.
    pub space: String,
    pub title: String,
    /// Account id of the author.
    pub author: String,
    /// Storage-format body.
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub labels: Vec<String>,
    /// RFC 3339; a fixed date derived from the seed when absent.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A page template (v1 `/template`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Space key; None: a global template.
    #[serde(default)]
    pub space: Option<String>,
    /// Storage-format body.
    pub body: String,
    #[serde(default)]
    pub labels: Vec<String>,
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
#[derive(Clone, Serialize, Deserialize)]
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

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientSpec {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub name: String,
}

// Debug never shows a secret.
impl std::fmt::Debug for TokenSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSpec")
            .field("kind", &self.kind)
            .field("email", &self.email)
            .field("token", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("expires_in", &self.expires_in)
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl std::fmt::Debug for OAuthClientSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClientSpec")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uris", &self.redirect_uris)
            .field("name", &self.name)
            .finish()
    }
}

const OPERATIONS: [&str; 6] = ["read", "write", "delete", "comment", "attach", "admin"];
const STATUSES: [&str; 4] = ["current", "draft", "archived", "trashed"];

impl Fixture {
    /// Parses a fixture file (`conflux sim --fixture FILE`) and validates it.
    pub fn from_json(text: &str) -> Result<Fixture, crate::error::SimError> {
        let fixture: Fixture =
            serde_json::from_str(text).map_err(|e| crate::error::SimError::FixtureJson {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        fixture.validate()?;
        Ok(fixture)
    }

    /// Reports every dangling reference, duplicate id and unknown enum value, so a broken fixture
    /// fails at start rather than as a puzzling 404 in some test.
    pub fn validate(&self) -> Result<(), crate::error::SimError> {
        use std::collections::{HashMap, HashSet};
        let mut problems = Vec::new();
        let dup = |kind: &str, seen: &mut HashSet<String>, id: &str, problems: &mut Vec<String>| {
            if !seen.insert(id.to_string()) {
                problems.push(format!("{kind} id {id:?} is used twice"));
            }
        };
        let mut user_ids = HashSet::new();
        let mut emails = HashSet::new();
        let mut group_names: HashSet<String> = HashSet::new();
        for u in &self.users {
            dup("user", &mut user_ids, &u.account_id, &mut problems);
            if !emails.insert(u.email.to_ascii_lowercase()) {
                problems.push(format!("email {:?} belongs to two users", u.email));
            }
            group_names.extend(u.groups.iter().cloned());
        }
        // Outside accounts share the identity service's namespace with the site's users, but
        // are no principals of the site.
        let mut outside_ids = HashSet::new();
        for a in &self.outside_accounts {
            if user_ids.contains(&a.account_id) || !outside_ids.insert(a.account_id.clone()) {
                problems.push(format!("account id {:?} is used twice", a.account_id));
            }
            if !emails.insert(a.email.to_ascii_lowercase()) {
                problems.push(format!("email {:?} belongs to two accounts", a.email));
            }
        }
        let mut group_ids = HashSet::new();
        for g in &self.groups {
            dup("group", &mut group_ids, &g.id, &mut problems);
            group_names.insert(g.name.clone());
        }
        for id in &self.disabled_users {
            if !user_ids.contains(id) && !outside_ids.contains(id) {
                problems.push(format!("disabled_users names unknown user {id:?}"));
            }
        }
        let check_principal = |p: &str, what: &str, problems: &mut Vec<String>| {
            if p == "anonymous" {
                return;
            }
            match p.split_once(':') {
                Some(("user", id)) if user_ids.contains(id) => {}
                Some(("group", name)) if group_names.contains(name) => {}
                _ => problems.push(format!(
                    "{what}: principal {p:?} is not user:<known account id>, group:<known group> or anonymous"
                )),
            }
        };
        let mut space_ids = HashSet::new();
        let mut space_keys = HashMap::new();
        for s in &self.spaces {
            dup("space", &mut space_ids, &s.id, &mut problems);
            if space_keys.insert(s.key.clone(), s.id.clone()).is_some() {
                problems.push(format!("space key {:?} is used twice", s.key));
            }
            if !matches!(
                s.space_type.as_str(),
                "global" | "personal" | "collaboration" | "knowledge_base"
            ) {
                problems.push(format!("space {}: unknown type {:?}", s.key, s.space_type));
            }
            for perm in &s.permissions {
                check_principal(
                    &perm.principal,
                    &format!("space {} permission", s.key),
                    &mut problems,
                );
                for op in &perm.operations {
                    if !OPERATIONS.contains(&op.as_str()) {
                        problems.push(format!(
                            "space {}: unknown operation {op:?} (one of {OPERATIONS:?})",
                            s.key
                        ));
                    }
                }
            }
        }
        let user_ok = |id: &str, what: String, problems: &mut Vec<String>| {
            if !user_ids.contains(id) {
                problems.push(format!("{what}: unknown user {id:?}"));
            }
        };
        let mut content_ids: HashSet<String> = HashSet::new();
        // Tree nodes (pages, folders, databases) and the space each lives in.
        let mut tree: HashMap<String, String> = HashMap::new();
        for p in &self.pages {
            dup("content", &mut content_ids, &p.id, &mut problems);
            tree.insert(p.id.clone(), p.space.clone());
        }
        for f in &self.folders {
            dup("content", &mut content_ids, &f.id, &mut problems);
            tree.insert(f.id.clone(), f.space.clone());
        }
        for d in &self.databases {
            dup("content", &mut content_ids, &d.id, &mut problems);
            tree.insert(d.id.clone(), d.space.clone());
        }
        let node_ok = |kind: &str,
                       id: &str,
                       space: &str,
                       parent: &Option<String>,
                       author: &str,
                       problems: &mut Vec<String>| {
            if !space_keys.contains_key(space) {
                problems.push(format!("{kind} {id}: unknown space key {space:?}"));
            }
            if let Some(parent) = parent {
                match tree.get(parent) {
                    None => problems.push(format!("{kind} {id}: unknown parent {parent:?}")),
                    Some(s) if s != space => {
                        problems.push(format!("{kind} {id}: parent {parent} is in another space"))
                    }
                    Some(_) if parent == id => {
                        problems.push(format!("{kind} {id} is its own parent"))
                    }
                    Some(_) => {}
                }
            }
            user_ok(author, format!("{kind} {id} author"), problems);
        };
        for p in &self.pages {
            node_ok(
                "page",
                &p.id,
                &p.space,
                &p.parent_id,
                &p.author,
                &mut problems,
            );
            if !STATUSES.contains(&p.status.as_str()) {
                problems.push(format!("page {}: unknown status {:?}", p.id, p.status));
            }
            for v in &p.history {
                if let Some(a) = &v.author {
                    user_ok(a, format!("page {} history author", p.id), &mut problems);
                }
            }
            for date in p
                .created_at
                .iter()
                .chain(p.history.iter().filter_map(|v| v.created_at.as_ref()))
            {
                if chrono::DateTime::parse_from_rfc3339(date).is_err() {
                    problems.push(format!("page {}: {date:?} is not an RFC 3339 date", p.id));
                }
            }
        }
        for f in &self.folders {
            node_ok(
                "folder",
                &f.id,
                &f.space,
                &f.parent_id,
                &f.author,
                &mut problems,
            );
        }
        for d in &self.databases {
            node_ok(
                "database",
                &d.id,
                &d.space,
                &d.parent_id,
                &d.author,
                &mut problems,
            );
        }
        // Parent chains must end: a cycle would hang every ancestor walk.
        let parents: HashMap<&str, &str> = self
            .pages
            .iter()
            .map(|p| (p.id.as_str(), p.parent_id.as_deref()))
            .chain(
                self.folders
                    .iter()
                    .map(|f| (f.id.as_str(), f.parent_id.as_deref())),
            )
            .chain(
                self.databases
                    .iter()
                    .map(|d| (d.id.as_str(), d.parent_id.as_deref())),
            )
            .filter_map(|(id, p)| p.map(|p| (id, p)))
            .collect();
        for start in parents.keys() {
            let mut cur = *start;
            let mut steps = 0;
            while let Some(next) = parents.get(cur) {
                cur = next;
                steps += 1;
                if steps > parents.len() {
                    problems.push(format!("content {start} is in a parent cycle"));
                    break;
                }
            }
        }
        for b in &self.blogposts {
            dup("content", &mut content_ids, &b.id, &mut problems);
            if !space_keys.contains_key(&b.space) {
                problems.push(format!(
                    "blog post {}: unknown space key {:?}",
                    b.id, b.space
                ));
            }
            user_ok(
                &b.author,
                format!("blog post {} author", b.id),
                &mut problems,
            );
            if let Some(date) = &b.created_at
                && chrono::DateTime::parse_from_rfc3339(date).is_err()
            {
                problems.push(format!(
                    "blog post {}: {date:?} is not an RFC 3339 date",
                    b.id
                ));
            }
        }
        let mut template_ids = HashSet::new();
        for t in &self.templates {
            dup("template", &mut template_ids, &t.id, &mut problems);
            if let Some(k) = &t.space
                && !space_keys.contains_key(k)
            {
                problems.push(format!("template {}: unknown space key {k:?}", t.id));
            }
        }
        // What comments and attachments may belong to: pages and blog posts.
        let page_ids: HashSet<&str> = self
            .pages
            .iter()
            .map(|p| p.id.as_str())
            .chain(self.blogposts.iter().map(|b| b.id.as_str()))
            .collect();
        for s in &self.spaces {
            if let Some(h) = &s.homepage {
                let in_space = self.pages.iter().any(|p| &p.id == h && p.space == s.key);
                if !in_space {
                    problems.push(format!(
                        "space {}: homepage {h:?} is not a page of it",
                        s.key
                    ));
                }
            }
        }
        let comment_ids: HashSet<&str> = self.comments.iter().map(|c| c.id.as_str()).collect();
        for c in &self.comments {
            dup("content", &mut content_ids, &c.id, &mut problems);
            if !page_ids.contains(c.page_id.as_str()) {
                problems.push(format!("comment {}: unknown page {:?}", c.id, c.page_id));
            }
            if !matches!(c.kind.as_str(), "footer" | "inline") {
                problems.push(format!(
                    "comment {}: kind {:?} is not footer or inline",
                    c.id, c.kind
                ));
            }
            if let Some(parent) = &c.parent_comment_id
                && (!comment_ids.contains(parent.as_str()) || parent == &c.id)
            {
                problems.push(format!(
                    "comment {}: unknown parent comment {parent:?}",
                    c.id
                ));
            }
            if let Some(r) = &c.resolution_status
                && !matches!(r.as_str(), "open" | "resolved" | "dangling" | "reopened")
            {
                problems.push(format!("comment {}: unknown resolution status {r:?}", c.id));
            }
            user_ok(&c.author, format!("comment {} author", c.id), &mut problems);
        }
        let mut att_ids = HashSet::new();
        for a in &self.attachments {
            dup("attachment", &mut att_ids, &a.id, &mut problems);
            if !page_ids.contains(a.page_id.as_str()) {
                problems.push(format!("attachment {}: unknown page {:?}", a.id, a.page_id));
            }
            user_ok(
                &a.author,
                format!("attachment {} author", a.id),
                &mut problems,
            );
            match (&a.text, &a.base64) {
                (Some(_), Some(_)) => problems.push(format!(
                    "attachment {}: give text or base64, not both",
                    a.id
                )),
                (None, Some(b)) => {
                    use base64::Engine as _;
                    if base64::engine::general_purpose::STANDARD.decode(b).is_err() {
                        problems.push(format!("attachment {}: base64 does not decode", a.id));
                    }
                }
                _ => {}
            }
        }
        for t in &self.tokens {
            if !matches!(t.kind.as_str(), "classic" | "scoped" | "oauth") {
                problems.push(format!(
                    "token kind {:?} is not classic, scoped or oauth",
                    t.kind
                ));
            }
            let known = self.users.iter().map(|u| &u.email);
            let outside = self.outside_accounts.iter().map(|a| &a.email);
            if !known
                .chain(outside)
                .any(|e| e.eq_ignore_ascii_case(&t.email))
            {
                problems.push(format!("token for unknown email {:?}", t.email));
            }
            if let Some(c) = &t.client_id
                && !self.oauth_clients.iter().any(|o| &o.client_id == c)
            {
                problems.push(format!("token names unknown oauth client {c:?}"));
            }
        }
        for r in &self.restrictions {
            if !content_ids.contains(&r.content_id) {
                problems.push(format!("restriction on unknown content {:?}", r.content_id));
            }
            for p in r.read.iter().chain(&r.update) {
                check_principal(
                    p,
                    &format!("restriction on {}", r.content_id),
                    &mut problems,
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(crate::error::SimError::InvalidFixture { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Fixture {
        Fixture::from_json(
            r#"{"users":[{"account_id":"u1","email":"a@x","display_name":"A"}],
                "spaces":[{"id":"1","key":"K","name":"K","permissions":[{"principal":"user:u1","operations":["read"]}]}],
                "pages":[{"id":"10","space":"K","title":"T","author":"u1"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn valid_fixture_passes() {
        base().validate().unwrap();
    }

    #[test]
    fn dangling_references_are_all_reported() {
        let mut f = base();
        f.pages[0].parent_id = Some("99".into());
        f.pages[0].author = "nobody".into();
        f.spaces[0].permissions[0].principal = "group:ghosts".into();
        let err = f.validate().unwrap_err().to_string();
        assert!(err.contains("unknown parent \"99\""), "{err}");
        assert!(err.contains("unknown user \"nobody\""), "{err}");
        assert!(err.contains("group:ghosts"), "{err}");
    }

    #[test]
    fn parent_cycles_are_refused() {
        let mut f = base();
        f.pages.push(PageSpec {
            id: "11".into(),
            parent_id: Some("10".into()),
            ..f.pages[0].clone()
        });
        f.pages[0].parent_id = Some("11".into());
        assert!(f.validate().unwrap_err().to_string().contains("cycle"));
    }

    #[test]
    fn outside_accounts_share_the_namespace_of_users() {
        let mut f = base();
        f.outside_accounts.push(OutsideAccountSpec {
            account_id: "o1".into(),
            email: "A@x".into(),
            display_name: "Olive".into(),
        });
        f.outside_accounts.push(OutsideAccountSpec {
            account_id: "u1".into(),
            email: "o@elsewhere".into(),
            display_name: "Other".into(),
        });
        let err = f.validate().unwrap_err().to_string();
        assert!(
            err.contains("email \"A@x\" belongs to two accounts"),
            "{err}"
        );
        assert!(err.contains("account id \"u1\" is used twice"), "{err}");
        f.outside_accounts.remove(1);
        f.outside_accounts[0].email = "olive@elsewhere".into();
        f.disabled_users.push("o1".into());
        f.validate().unwrap();
    }

    #[test]
    fn bad_json_says_where() {
        let err = Fixture::from_json("{\n \"users\": 3}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
