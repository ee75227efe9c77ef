//! `conflux audit`: a security posture report of a Confluence Cloud site, built only from the
//! public REST APIs an OAuth 2.0 (3LO) app or a scoped API token may call: spaces and who may do
//! what in them (anonymous and guest access, who administers each space), groups and their
//! members, and the accounts with broad access. It also lists, item by item, the site-level data
//! that has no public API, so an auditor knows exactly what the report does not cover.
//!
//! A section the credential may not read is reported as such, with the refusal's fix, and the
//! rest of the report still runs.

mod render;

use std::collections::{BTreeMap, BTreeSet};

use conflux_client::models::{Group, Space, SpacePermission, User};
use conflux_client::{Client, ClientError, PageRequest};
use serde::Serialize;

pub use render::render_markdown;

/// A principal's access to one space.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// `user`, `group` or `anonymous`.
    pub kind: String,
    /// Account id, group name, or `anonymous`.
    pub who: String,
    /// Display name (users), when it could be read.
    pub name: Option<String>,
    /// Operations, e.g. `read space`, `create page`, `administer space`.
    pub operations: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SpaceAudit {
    pub id: String,
    pub key: String,
    pub name: String,
    pub space_type: String,
    /// Anyone, signed in or not, may read the space.
    pub anonymous_read: bool,
    /// Guests (external collaborators) with any grant on the space.
    pub guests: Vec<String>,
    /// Who may administer the space.
    pub administrators: Vec<String>,
    pub grants: Vec<Grant>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub account_id: String,
    pub display_name: String,
    pub external: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupAudit {
    pub id: String,
    pub name: String,
    pub members: Vec<Member>,
}

/// An account whose access spans much of the site.
#[derive(Clone, Debug, Serialize)]
pub struct BroadAccess {
    pub account_id: String,
    pub display_name: String,
    pub external: bool,
    /// Spaces it may administer (directly or through a group).
    pub administers: Vec<String>,
    /// How many of the audited spaces it may read.
    pub reads: usize,
    pub spaces: usize,
}

/// Something the report could not read.
#[derive(Clone, Debug, Serialize)]
pub struct Gap {
    pub section: String,
    pub error: String,
    pub hint: String,
}

/// Site-level data with no public API for 3LO apps or scoped tokens (seed 004).
#[derive(Clone, Debug, Serialize)]
pub struct NotCovered {
    pub item: &'static str,
    pub why: &'static str,
}

pub const NOT_COVERED: &[NotCovered] = &[
    NotCovered {
        item: "Site permissions (who can use Confluence, create spaces, administer the site)",
        why: "no public REST endpoint in either API; GraphQL `sitePermissions` needs a first-party-only scope",
    },
    NotCovered {
        item: "External collaborators (guests), as a list",
        why: "no endpoint lists them; only guests that appear in space grants or group memberships are reported here (v1 user search has a `sitePermissionTypeFilter` hook, not a listing)",
    },
    NotCovered {
        item: "Installed apps",
        why: "the app manager (UPM) and GraphQL `appsInstalledInContexts` are not exposed to OAuth apps or scoped tokens",
    },
    NotCovered {
        item: "Public links (site, space and page)",
        why: "GraphQL `publicLinkSpacesByCriteria` needs a first-party-only scope; no REST endpoint",
    },
    NotCovered {
        item: "Site configuration (anonymous access switch, IP allowlists, Atlassian Guard policies)",
        why: "`confluence.siteConfiguration` is not exposed for OAuth; `settings/systemInfo` needs the classic manage scope and admin rights",
    },
];

#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    pub site: String,
    pub credential_kind: conflux_client::CredentialKind,
    pub spaces: Vec<SpaceAudit>,
    pub groups: Vec<GroupAudit>,
    pub broad_access: Vec<BroadAccess>,
    pub gaps: Vec<Gap>,
    pub not_covered: &'static [NotCovered],
}

fn gap(section: &str, e: &ClientError) -> Gap {
    Gap {
        section: section.to_string(),
        error: e.to_string(),
        hint: e.hint(),
    }
}

fn operation_name(p: &SpacePermission) -> String {
    format!("{} {}", p.operation.key, p.operation.target_type)
}

/// Reads everything the credential may read and builds the report.
pub async fn audit(client: &Client) -> AuditReport {
    let mut gaps = Vec::new();
    let route = client.route();

    // Spaces, every page of them.
    let spaces: Vec<Space> = match all_spaces(client).await {
        Ok(s) => s,
        Err(e) => {
            gaps.push(gap("spaces", &e));
            Vec::new()
        }
    };

    // Groups and their members.
    let mut groups = Vec::new();
    // Group name -> members (grants name groups by name once resolved below).
    let mut members_of: BTreeMap<String, Vec<User>> = BTreeMap::new();
    match all_groups(client).await {
        Ok(list) => {
            for g in list {
                match all_members(client, &g).await {
                    Ok(users) => {
                        members_of.insert(g.name.clone(), users.clone());
                        groups.push(GroupAudit {
                            id: g.id.clone(),
                            name: g.name.clone(),
                            members: users
                                .iter()
                                .map(|u| Member {
                                    account_id: u.account_id.clone(),
                                    display_name: u.display_name.clone(),
                                    external: u.is_external_collaborator.unwrap_or(false),
                                })
                                .collect(),
                        });
                    }
                    Err(e) => {
                        gaps.push(gap(&format!("members of group {}", g.name), &e));
                        groups.push(GroupAudit {
                            id: g.id,
                            name: g.name,
                            members: Vec::new(),
                        });
                    }
                }
            }
        }
        Err(e) => gaps.push(gap("groups", &e)),
    }
    let group_names: BTreeMap<String, String> = groups
        .iter()
        .map(|g| (g.id.clone(), g.name.clone()))
        .collect();

    // Users met in grants or groups, with names and the guest flag.
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    for list in members_of.values() {
        for u in list {
            users.insert(u.account_id.clone(), u.clone());
        }
    }

    let mut audited = Vec::new();
    // account -> (spaces readable, spaces administered)
    let mut reach: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for space in &spaces {
        let perms = match all_permissions(client, &space.id).await {
            Ok(p) => p,
            Err(e) => {
                gaps.push(gap(&format!("permissions of space {}", space.key), &e));
                continue;
            }
        };
        let mut by_principal: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for p in &perms {
            let kind = match p.principal.principal_type.as_str() {
                "role" if p.principal.id.eq_ignore_ascii_case("anonymous") => "anonymous",
                other => other,
            };
            let who = match kind {
                "group" => group_names
                    .get(&p.principal.id)
                    .cloned()
                    .unwrap_or_else(|| p.principal.id.clone()),
                "anonymous" => "anonymous".to_string(),
                _ => p.principal.id.clone(),
            };
            by_principal
                .entry((kind.to_string(), who))
                .or_default()
                .push(operation_name(p));
        }
        let mut grants = Vec::new();
        for ((kind, who), mut ops) in by_principal {
            ops.sort();
            ops.dedup();
            if kind == "user" && !users.contains_key(&who) {
                match client.users().get(&who).await {
                    Ok(u) => {
                        users.insert(who.clone(), u);
                    }
                    Err(e) => gaps.push(gap(&format!("user {who}"), &e)),
                }
            }
            let name = (kind == "user")
                .then(|| users.get(&who).map(|u| u.display_name.clone()))
                .flatten();
            grants.push(Grant {
                kind,
                who,
                name,
                operations: ops,
            });
        }
        let has = |g: &Grant, op: &str| g.operations.iter().any(|o| o == op);
        let anonymous_read = grants
            .iter()
            .any(|g| g.kind == "anonymous" && has(g, "read space"));
        let mut administrators = Vec::new();
        let mut guests = BTreeSet::new();
        for g in &grants {
            let accounts: Vec<String> = match g.kind.as_str() {
                "user" => vec![g.who.clone()],
                "group" => members_of
                    .get(&g.who)
                    .map(|m| m.iter().map(|u| u.account_id.clone()).collect())
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            if has(g, "administer space") {
                administrators.push(match g.kind.as_str() {
                    "group" => format!("group {}", g.who),
                    _ => g.name.clone().unwrap_or_else(|| g.who.clone()),
                });
            }
            for a in accounts {
                let entry = reach.entry(a.clone()).or_default();
                if has(g, "read space") {
                    entry.0.insert(space.key.clone());
                }
                if has(g, "administer space") {
                    entry.1.insert(space.key.clone());
                }
                if users
                    .get(&a)
                    .and_then(|u| u.is_external_collaborator)
                    .unwrap_or(false)
                {
                    guests.insert(users.get(&a).map(|u| u.display_name.clone()).unwrap_or(a));
                }
            }
        }
        administrators.sort();
        audited.push(SpaceAudit {
            id: space.id.clone(),
            key: space.key.clone(),
            name: space.name.clone(),
            space_type: space.space_type.clone(),
            anonymous_read,
            guests: guests.into_iter().collect(),
            administrators,
            grants,
        });
    }

    // Broad access: administers two or more spaces, or reads every audited space.
    let total = audited.len();
    let mut broad: Vec<BroadAccess> = reach
        .into_iter()
        .filter(|(_, (reads, admins))| admins.len() >= 2 || (total >= 2 && reads.len() == total))
        .map(|(account, (reads, admins))| {
            let u = users.get(&account);
            BroadAccess {
                display_name: u
                    .map(|u| u.display_name.clone())
                    .unwrap_or_else(|| account.clone()),
                external: u.and_then(|u| u.is_external_collaborator).unwrap_or(false),
                account_id: account,
                administers: admins.into_iter().collect(),
                reads: reads.len(),
                spaces: total,
            }
        })
        .collect();
    broad.sort_by(|a, b| {
        b.administers
            .len()
            .cmp(&a.administers.len())
            .then(a.display_name.cmp(&b.display_name))
    });

    AuditReport {
        site: route.root(),
        credential_kind: client.credential().kind(),
        spaces: audited,
        groups,
        broad_access: broad,
        gaps,
        not_covered: NOT_COVERED,
    }
}

async fn all_spaces(client: &Client) -> Result<Vec<Space>, ClientError> {
    collect(|req| async move { client.spaces().list(&[], &req).await }).await
}

async fn all_groups(client: &Client) -> Result<Vec<Group>, ClientError> {
    collect(|req| async move { client.users().groups(&req).await }).await
}

async fn all_members(client: &Client, group: &Group) -> Result<Vec<User>, ClientError> {
    collect(|req| async move { client.users().group_members(group, &req).await }).await
}

async fn all_permissions(
    client: &Client,
    space_id: &str,
) -> Result<Vec<SpacePermission>, ClientError> {
    collect(|req| async move { client.spaces().permissions(space_id, &req).await }).await
}

/// Follows cursors to the end.
async fn collect<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ClientError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<conflux_client::Page<T>, ClientError>>,
{
    let mut out = Vec::new();
    let mut req = PageRequest::limit(200);
    loop {
        let page = fetch(req.clone()).await?;
        out.extend(page.results);
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => return Ok(out),
        }
    }
}
