//! The simulated site in memory: users, spaces, content, credentials, grants and counters.
//!
//! One `State` behind one lock. Handlers validate fully before they mutate, so every write is
//! all-or-nothing. Every expiry decision reads [`State::now_ms`], the simulated clock.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use serde::Serialize;

use crate::config::{Behaviour, Faults, RateLimit};

mod seed;
mod shared;

pub(crate) use shared::{Shared, Urls};

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub groups: Vec<String>,
    pub guest: bool,
    pub site_admin: bool,
    pub disabled: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Perm {
    pub id: String,
    pub principal: String,
    pub ops: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Space {
    pub id: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub space_type: String,
    pub status: String,
    pub homepage_id: Option<String>,
    pub author: String,
    pub created_ms: i64,
    pub perms: Vec<Perm>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Page,
    BlogPost,
    Folder,
    Database,
    FooterComment,
    InlineComment,
}

impl Kind {
    /// The CQL / v1 `type` name.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::BlogPost => "blogpost",
            Kind::Folder => "folder",
            Kind::Database => "database",
            Kind::FooterComment | Kind::InlineComment => "comment",
        }
    }

    pub fn is_tree_node(self) -> bool {
        matches!(self, Kind::Page | Kind::Folder | Kind::Database)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Version {
    pub number: u32,
    pub title: String,
    pub body: String,
    pub message: String,
    pub author: String,
    pub created_ms: i64,
    pub minor_edit: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Inline {
    pub marker_ref: String,
    pub selection: String,
    pub resolution: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Content {
    pub id: String,
    pub kind: Kind,
    pub space_id: String,
    pub status: String,
    /// Tree parent (pages, folders, databases) or parent comment (comments).
    pub parent_id: Option<String>,
    /// Comments: the page they belong to.
    pub page_id: Option<String>,
    pub author: String,
    pub created_ms: i64,
    /// Oldest first; never empty.
    pub versions: Vec<Version>,
    pub labels: Vec<String>,
    pub inline: Option<Inline>,
    /// Principals (`user:{id}`, `group:{name}`) who alone may view it; empty: no restriction.
    pub read_restrictions: Vec<String>,
    /// Principals who alone may edit it; empty: no restriction.
    pub update_restrictions: Vec<String>,
    pub position: i64,
    /// Who viewed it (account id, empty for anonymous) and when, oldest first (analytics).
    pub views: Vec<(String, i64)>,
    /// Content properties, oldest first.
    pub properties: Vec<Property>,
}

/// A content property: a JSON value under a key, versioned.
#[derive(Clone, Debug)]
pub(crate) struct Property {
    pub id: String,
    pub key: String,
    pub value: serde_json::Value,
    pub version: u32,
    pub message: String,
    pub author: String,
    pub modified_ms: i64,
}

/// A page template (v1 `/template`).
#[derive(Clone, Debug)]
pub(crate) struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    /// None: a global template.
    pub space_id: Option<String>,
    /// Storage format.
    pub body: String,
    pub labels: Vec<String>,
}

/// A long-running task (v1 `/longtask`): its work is done when it is made; it reports itself
/// finished only after `reads_left` reads (switch `long_task_reads_before_done`).
#[derive(Clone, Debug)]
pub(crate) struct LongTask {
    pub id: String,
    /// The message key of its name, e.g. `confluence.copy.page.hierarchy`.
    pub name: String,
    /// Who started it (only they can follow it).
    pub account_id: String,
    pub created_ms: i64,
    pub reads_left: u32,
    /// What it made (the copied root page).
    pub result_id: Option<String>,
    /// Pages it copied.
    pub count: usize,
}

impl Content {
    pub fn current(&self) -> &Version {
        // `versions` is never empty: every constructor pushes one.
        &self.versions[self.versions.len() - 1]
    }

    pub fn title(&self) -> &str {
        &self.current().title
    }

    pub fn version_number(&self) -> u32 {
        self.current().number
    }

    pub fn last_modified_ms(&self) -> i64 {
        self.current().created_ms
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Attachment {
    pub id: String,
    pub page_id: String,
    pub title: String,
    pub media_type: String,
    pub comment: String,
    pub bytes: Vec<u8>,
    pub version: u32,
    pub author: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub file_id: String,
    pub status: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TokenKind {
    Classic,
    Scoped,
    Oauth,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub account_id: String,
    pub scopes: BTreeSet<String>,
    pub expires_ms: Option<i64>,
    pub grant_id: Option<String>,
    pub revoked: bool,
}

#[derive(Clone, Serialize)]
pub(crate) struct Client {
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub name: String,
}

/// An /authorize request waiting for the user's decision.
#[derive(Clone, Debug)]
pub(crate) struct Consent {
    /// The account the page preselected (`login_hint`, else the demo user): the one signed in
    /// when the decision names none.
    pub account_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub created_ms: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub account_id: String,
    pub code_challenge: Option<String>,
    pub expires_ms: i64,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
    pub created_ms: i64,
    /// The refresh token that is valid now.
    pub current_refresh: Option<String>,
    pub revoked: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Refresh {
    pub grant_id: String,
    pub last_used_ms: i64,
    /// When it was exchanged (and so superseded).
    pub rotated_ms: Option<i64>,
}

/// Counters for `GET {admin}/stats`.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Stats {
    /// API requests on the site and gateway faces.
    pub requests: u64,
    /// `POST /oauth/token` calls, any grant type, any outcome.
    pub token_requests: u64,
    /// Successful refresh-token exchanges.
    pub refreshes: u64,
    /// Refresh-token exchanges attempted.
    pub refresh_requests: u64,
    pub authorizations: u64,
    pub rate_limited: u64,
    pub faults_injected: u64,
    pub dropped: u64,
    /// Writes applied whose answer was then dropped (`Faults::after_apply`).
    pub lost_answers: u64,
    /// Writes applied that then answered an injected failure (`Faults::after_apply`).
    pub failed_after_apply: u64,
    pub by_status: BTreeMap<u16, u64>,
    /// The last [`RECENT_REQUESTS`] answered API requests, oldest first: when each arrived
    /// and how it was answered, so a test can see how long a client waited between tries.
    pub recent_requests: VecDeque<RequestRecord>,
}

/// How many requests `Stats::recent_requests` keeps.
pub(crate) const RECENT_REQUESTS: usize = 100;

/// One answered request on the site or gateway face.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RequestRecord {
    /// When it arrived, on the simulated clock (`GET /clock`'s `now_ms`).
    pub at_ms: i64,
    pub method: String,
    /// The path as requested (with the gateway's `/ex/confluence/{cloudId}`), no query.
    pub path: String,
    pub status: u16,
    /// The `Retry-After` of the answer, in seconds.
    pub retry_after: Option<u64>,
}

pub(crate) struct Window {
    pub start_ms: i64,
    pub count: u32,
}

/// The credentials `SimInfo` reports.
#[derive(Clone)]
pub(crate) struct DemoCreds {
    pub account_id: String,
    pub email: String,
    /// Another active, non-guest user of the site, listed second among the sign-in accounts.
    pub second_account_id: Option<String>,
    pub classic: String,
    pub scoped_full: String,
    pub scoped_read: String,
    pub full_scopes: Vec<String>,
    pub read_scopes: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

pub(crate) struct State {
    pub behaviour: Behaviour,
    pub faults: Faults,
    pub rate: RateLimit,
    pub clock_offset_ms: i64,
    pub cloud_id: String,
    pub site_name: String,
    pub users: Vec<User>,
    /// Atlassian accounts that are no users of the site (never principals, never listed by the
    /// site's APIs); they exist only at the identity service.
    pub outsiders: Vec<User>,
    pub groups: Vec<Group>,
    pub spaces: Vec<Space>,
    pub content: HashMap<String, Content>,
    pub attachments: HashMap<String, Attachment>,
    /// Label name → id.
    pub label_ids: BTreeMap<String, String>,
    pub tasks: HashMap<String, LongTask>,
    pub templates: Vec<Template>,
    pub tokens: HashMap<String, Token>,
    pub clients: HashMap<String, Client>,
    pub consents: HashMap<String, Consent>,
    pub codes: HashMap<String, Code>,
    pub grants: HashMap<String, Grant>,
    pub refresh: HashMap<String, Refresh>,
    pub next_id: u64,
    pub rng: StdRng,
    pub stats: Stats,
    pub windows: HashMap<String, Window>,
    pub demo: DemoCreds,
}

/// Where content lookups can end.
pub(crate) enum View<'a> {
    /// No such content, or its space is invisible to the caller.
    Missing,
    /// The caller sees the space but a page restriction hides the content.
    Restricted,
    Visible(&'a Content),
}

pub(crate) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:mm:ss.sssZ`, the format of every v2 date.
pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub(crate) fn random_string(rng: &mut StdRng, len: usize) -> String {
    (0..len).map(|_| rng.sample(Alphanumeric) as char).collect()
}

impl State {
    pub fn now_ms(&self) -> i64 {
        wall_ms() + self.clock_offset_ms
    }

    pub fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    pub fn secret(&mut self, prefix: &str, len: usize) -> String {
        format!("{prefix}{}", random_string(&mut self.rng, len))
    }

    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.account_id == account_id)
    }

    /// Any Atlassian account the identity service knows: a user of the site or an outsider.
    /// The site's own lookups use [`State::user`], which never sees outsiders.
    pub fn account(&self, account_id: &str) -> Option<&User> {
        self.users
            .iter()
            .chain(&self.outsiders)
            .find(|u| u.account_id == account_id)
    }

    pub fn account_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .chain(&self.outsiders)
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// An account named by its id or its e-mail (`login_hint`, the consent form, admin paths).
    pub fn account_by_login(&self, login: &str) -> Option<&User> {
        self.account(login).or_else(|| self.account_by_email(login))
    }

    pub fn account_mut(&mut self, account_id: &str) -> Option<&mut User> {
        self.users
            .iter_mut()
            .chain(&mut self.outsiders)
            .find(|u| u.account_id == account_id)
    }

    /// Whether the account is a user of the site (guests included), not an outsider.
    pub fn is_member(&self, account_id: &str) -> bool {
        self.user(account_id).is_some()
    }

    /// The accounts the consent page offers, in a fixed order: the demo user, the second
    /// member, the site's other active non-guest users (fixture order), then active outsiders.
    /// `true` marks users of the site.
    pub fn sign_in_accounts(&self) -> Vec<(&User, bool)> {
        let listed = |u: &&User| !u.disabled && !u.guest;
        let mut out: Vec<(&User, bool)> = [
            Some(&self.demo.account_id),
            self.demo.second_account_id.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|id| self.user(id).filter(listed))
        .map(|u| (u, true))
        .collect();
        for u in self.users.iter().filter(listed) {
            if !out.iter().any(|(x, _)| x.account_id == u.account_id) {
                out.push((u, true));
            }
        }
        out.extend(
            self.outsiders
                .iter()
                .filter(|u| !u.disabled)
                .map(|u| (u, false)),
        );
        out
    }

    pub fn space(&self, id: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.id == id)
    }

    pub fn space_by_key(&self, key: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.key == key)
    }

    pub fn principals(&self, user: Option<&str>) -> Vec<String> {
        principals_of(user.and_then(|u| self.user(u)))
    }

    /// Whether `user` (None: anonymous) may do `op` in space `space_id`.
    pub fn can(&self, user: Option<&str>, space_id: &str, op: &str) -> bool {
        self.space(space_id)
            .is_some_and(|s| space_allows(s, &self.principals(user), op))
    }

    /// Looks content up the way Cloud answers: invisible spaces look like missing content.
    pub fn view(&self, user: Option<&str>, id: &str) -> View<'_> {
        let Some(c) = self.content.get(id) else {
            return View::Missing;
        };
        if c.status == "deleted" || !self.can(user, &c.space_id, "read") {
            return View::Missing;
        }
        // Comments inherit their page's restrictions.
        let restricted_by = match c.page_id.as_deref().and_then(|p| self.content.get(p)) {
            Some(page) => &page.read_restrictions,
            None => &c.read_restrictions,
        };
        if !allowed_by(restricted_by, &self.principals(user)) {
            return View::Restricted;
        }
        View::Visible(c)
    }

    /// Counts a view of a page or blog post by `user` (analytics).
    pub fn record_view(&mut self, user: Option<&str>, id: &str) {
        let now = self.now_ms();
        if let Some(c) = self
            .content
            .get_mut(id)
            .filter(|c| matches!(c.kind, Kind::Page | Kind::BlogPost))
        {
            c.views.push((user.unwrap_or_default().to_string(), now));
        }
    }

    /// Whether the content's edit restrictions (its page's, for a comment) let `user` edit.
    pub fn may_edit(&self, user: Option<&str>, c: &Content) -> bool {
        let restricted_by = match c.page_id.as_deref().and_then(|p| self.content.get(p)) {
            Some(page) => &page.update_restrictions,
            None => &c.update_restrictions,
        };
        allowed_by(restricted_by, &self.principals(user))
    }

    pub fn visible(&self, user: Option<&str>, id: &str) -> Option<&Content> {
        match self.view(user, id) {
            View::Visible(c) => Some(c),
            _ => None,
        }
    }

    /// Content sorted the way Cloud lists it (by numeric id).
    pub fn sorted_content(&self) -> Vec<&Content> {
        let mut all: Vec<&Content> = self.content.values().collect();
        all.sort_by(|a, b| id_order(&a.id, &b.id));
        all
    }

    pub fn label_id(&mut self, name: &str) -> String {
        if let Some(id) = self.label_ids.get(name) {
            return id.clone();
        }
        let id = self.new_id();
        self.label_ids.insert(name.to_string(), id.clone());
        id
    }

    /// Ancestors of a tree node, root first.
    pub fn ancestors(&self, id: &str) -> Vec<&Content> {
        let mut out = Vec::new();
        let mut cur = self.content.get(id).and_then(|c| c.parent_id.clone());
        while let Some(pid) = cur {
            let Some(p) = self.content.get(&pid) else {
                break;
            };
            if out.iter().any(|x: &&Content| x.id == p.id) || out.len() > 1000 {
                break;
            }
            out.push(p);
            cur = p.parent_id.clone();
        }
        out.reverse();
        out
    }

    /// Direct tree children (pages, folders, databases) in position order.
    pub fn children(&self, id: &str) -> Vec<&Content> {
        let mut out: Vec<&Content> = self
            .content
            .values()
            .filter(|c| c.kind.is_tree_node() && c.parent_id.as_deref() == Some(id))
            .collect();
        out.sort_by(|a, b| {
            a.position
                .cmp(&b.position)
                .then_with(|| id_order(&a.id, &b.id))
        });
        out
    }
}

pub(crate) fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    let num = |s: &str| {
        s.trim_start_matches("att")
            .parse::<u64>()
            .unwrap_or(u64::MAX)
    };
    num(a).cmp(&num(b)).then_with(|| a.cmp(b))
}

/// Whether a restriction (a list of principals; empty: none) admits any of `principals`.
pub(crate) fn allowed_by(restriction: &[String], principals: &[String]) -> bool {
    restriction.is_empty() || restriction.iter().any(|p| principals.contains(p))
}

pub(crate) fn principals_of(user: Option<&User>) -> Vec<String> {
    let mut out = vec!["anonymous".to_string()];
    if let Some(u) = user {
        out.push(format!("user:{}", u.account_id));
        out.extend(u.groups.iter().map(|g| format!("group:{g}")));
    }
    out
}

fn space_allows(space: &Space, principals: &[String], op: &str) -> bool {
    space
        .perms
        .iter()
        .any(|p| principals.contains(&p.principal) && p.ops.contains(op))
}
