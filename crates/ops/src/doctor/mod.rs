//! The doctor (`conflux doctor`, the `connection` tool's `check`): which base URL accepts a credential, which scopes it holds, and for every
//! tool action whether it works, and if not, exactly what to add. Nothing is created, changed or
//! deleted: reads, and writes that cannot take effect (a stale version, an id that cannot exist,
//! a body the service rejects).
//!
//! Scoped API tokens do not reveal their scopes, so they are inferred:
//! - a list read that needs one scope answers 200 or Atlassian's scope 401: that scope is
//!   proven held or proven missing;
//! - a write probe on an id that cannot exist is refused with the scope 401 before anything
//!   else *if* the gateway checks scopes first, as observed (UNCONFIRMED). Conflux checks that
//!   on this gateway with an endpoint no published scope opens; when it cannot confirm it, a
//!   write probe that got past the scope check is reported as undetermined, never guessed.

mod probes;
mod render;

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::TOOLS;
use conflux_catalog::{ApiVersion, Operation, ScopeSet, Verdict};
use conflux_client::api::candidates;
use conflux_client::route::{available_on, plan};
use conflux_client::{Client, Credential, CredentialKind, Route};
use serde::Serialize;

pub use render::render_text;

/// What one action can do with this credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    MissingScopes,
    Forbidden,
    Unsupported,
    Error,
}

/// One base URL and how it answered the credential.
#[derive(Clone, Debug, Serialize)]
pub struct RouteAnswer {
    /// `site` or `gateway`.
    pub route: String,
    pub url: String,
    /// HTTP status of `GET /wiki/api/v2/spaces?limit=1`, or `None` when it could not be sent.
    pub status: Option<u16>,
    pub accepts: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ActionReport {
    pub tool: String,
    pub action: String,
    pub status: Status,
    /// Granular scopes the preferred route needs and the credential lacks (only when no route works).
    pub missing_scopes: Vec<String>,
    /// The classic scopes that would open the preferred route instead.
    pub classic_alternative: Vec<String>,
    /// The operations Conflux would use, e.g. `GET /wiki/rest/api/content/{id}/descendant/{type}`.
    pub route: Vec<String>,
    pub detail: String,
}

/// Where the granted scopes came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeSource {
    /// Classic API tokens have no scopes: the account's permissions apply.
    Unscoped,
    /// The OAuth grant (token response or accessible-resources).
    Grant,
    /// The configuration says which scopes the token holds.
    Configured,
    /// Read from probes; only scopes a probe could prove are listed.
    Inferred,
}

/// The whole report; `--output json` prints it as is (a stable contract).
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub credential_kind: CredentialKind,
    pub routes: Vec<RouteAnswer>,
    pub cloud_id: Option<String>,
    /// Granular and classic scopes known to be held; `None` for unscoped credentials.
    pub granted_scopes: Option<Vec<String>>,
    pub scope_source: ScopeSource,
    /// Scopes probes proved missing (inferred only).
    pub proven_missing: Vec<String>,
    /// Whether this gateway was seen to check scopes before existence and body (None: could not tell).
    pub scope_check_first: Option<bool>,
    pub actions: Vec<ActionReport>,
    pub scopes_to_add: Vec<String>,
    /// Where to add them.
    pub where_to_add: Option<String>,
    /// Scopes no action needs but something reads better with, when the credential is known
    /// to lack them.
    pub optional_scopes: Vec<OptionalScope>,
}

/// A scope that adds a courtesy rather than an action.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OptionalScope {
    pub scope: String,
    /// What it adds.
    pub gives: String,
}

/// What the credential's known scopes leave out of the actions' extras (see
/// [`crate::catalog::Extra`]): the names of people mentioned in bodies, a page copied with its
/// tree. One entry per missing scope, with everything it would give; only for actions the
/// credential can perform (an extra of an action it cannot do is no courtesy).
fn optional_scopes(known: Option<ScopeSet>) -> Vec<OptionalScope> {
    let Some(known) = known else {
        return Vec::new();
    };
    let mut out: Vec<OptionalScope> = Vec::new();
    let extras = TOOLS
        .iter()
        .flat_map(|t| t.actions)
        .filter(|a| {
            a.operations
                .iter()
                .all(|op| !matches!(op.check(known), Verdict::Missing { .. }))
        })
        .flat_map(|a| a.extras);
    for extra in extras {
        for op in extra.operations {
            let Verdict::Missing { granular, .. } = op.check(known) else {
                continue;
            };
            for scope in granular.names() {
                match out.iter_mut().find(|o| o.scope == scope) {
                    Some(o) if o.gives.contains(extra.gives) => {}
                    Some(o) => {
                        o.gives.push_str("; ");
                        o.gives.push_str(extra.gives);
                    }
                    None => out.push(OptionalScope {
                        scope: scope.to_string(),
                        gives: extra.gives.to_string(),
                    }),
                }
            }
        }
    }
    out
}

/// What the doctor is told about the setting, beside the client.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The site URL, when configured (to show how the site answers a gateway credential).
    pub site: Option<conflux_types::SiteUrl>,
    /// Only these tools (all when empty).
    pub tools: Vec<String>,
    /// Leave write actions out.
    pub read_only: bool,
}

/// How an operation fares with this credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpVerdict {
    Works,
    Missing,
    Forbidden,
    Gone,
    Undetermined,
    Failed,
}

/// Runs every probe and builds the report.
pub async fn diagnose(client: &Client, options: &Options) -> Report {
    let credential = client.credential();
    let kind = credential.kind();
    let route = client.route();
    let routes = probes::routes(client, &route, options.site.as_ref()).await;
    let cloud_id = match &route {
        Route::Gateway { cloud_id, .. } => Some(cloud_id.to_string()),
        Route::Site(_) => None,
    };

    let actions: Vec<(&'static str, &'static crate::catalog::ActionSpec)> = TOOLS
        .iter()
        .filter(|t| options.tools.is_empty() || options.tools.iter().any(|n| n == t.name))
        .flat_map(|t| t.actions.iter().map(move |a| (t.name, a)))
        .filter(|(_, a)| !(options.read_only && a.write))
        .collect();
    let mut needed: BTreeSet<Operation> = BTreeSet::new();
    for (_, a) in &actions {
        for op in a.operations {
            needed.extend(candidates::for_preferred(*op));
        }
    }

    let mut likely = ScopeSet::EMPTY;
    let (source, known, verdicts, proven_missing, scope_first) = match &credential {
        Credential::ApiToken(_) => {
            let v = probes::run(client, &route, &needed, probes::Mode::Unscoped).await;
            (
                ScopeSource::Unscoped,
                None,
                v.verdicts,
                ScopeSet::EMPTY,
                v.scope_first,
            )
        }
        Credential::OAuth(t) => (
            ScopeSource::Grant,
            Some(t.scopes),
            predict(&needed, &route, t.scopes),
            ScopeSet::EMPTY,
            None,
        ),
        Credential::AccessToken(conflux_client::AccessToken {
            scopes: Some(s), ..
        })
        | Credential::ScopedToken(conflux_client::ScopedToken {
            scopes: Some(s), ..
        }) => {
            let src = if kind == CredentialKind::ScopedApiToken {
                ScopeSource::Configured
            } else {
                ScopeSource::Grant
            };
            (
                src,
                Some(*s),
                predict(&needed, &route, *s),
                ScopeSet::EMPTY,
                None,
            )
        }
        Credential::AccessToken(_) | Credential::ScopedToken(_) => {
            let v = probes::run(client, &route, &needed, probes::Mode::Scoped).await;
            // Only a token shown to hold granular scopes is taken to hold the granular side of
            // an operation that also opens with a classic scope.
            if !v.proven.is_empty() {
                likely = v.likely;
            }
            (
                ScopeSource::Inferred,
                Some(v.proven),
                v.verdicts,
                v.missing,
                v.scope_first,
            )
        }
    };

    let knowledge = Knowledge {
        known,
        likely,
        proven_missing,
        source,
    };
    let mut reports = Vec::new();
    let mut to_add = ScopeSet::EMPTY;
    for (tool, spec) in actions {
        let r = action_report(tool, spec, &route, &verdicts, &knowledge);
        if r.status == Status::MissingScopes {
            for s in &r.missing_scopes {
                if let Some(sc) = conflux_catalog::Scope::from_name(s) {
                    to_add.insert(sc);
                }
            }
        }
        reports.push(r);
    }
    let where_to_add = (!to_add.is_empty()).then(|| match kind {
        CredentialKind::OAuth | CredentialKind::AccessToken => "Atlassian developer console \
            (https://developer.atlassian.com/console/myapps/) → your app → Permissions → Confluence \
            API: add the scopes, then reconnect so the new grant takes effect"
            .to_string(),
        _ => "a scoped API token's scopes cannot be changed: create a new scoped token with these \
            scopes at https://id.atlassian.com/manage-profile/security/api-tokens (Create API token \
            with scopes → Confluence), or use a classic API token"
            .to_string(),
    });
    Report {
        credential_kind: kind,
        routes,
        cloud_id,
        granted_scopes: known.map(|s| s.names().into_iter().map(String::from).collect()),
        scope_source: source,
        proven_missing: proven_missing
            .names()
            .into_iter()
            .map(String::from)
            .collect(),
        scope_check_first: scope_first,
        actions: reports,
        scopes_to_add: to_add.names().into_iter().map(String::from).collect(),
        where_to_add,
        optional_scopes: optional_scopes(known),
    }
}

/// Verdicts from a known scope set: pure, no request.
fn predict(
    ops: &BTreeSet<Operation>,
    route: &Route,
    granted: ScopeSet,
) -> BTreeMap<Operation, OpVerdict> {
    ops.iter()
        .map(|op| {
            let v = if !available_on(*op, route) {
                OpVerdict::Gone
            } else {
                match op.check(granted) {
                    Verdict::Satisfied(_) => OpVerdict::Works,
                    Verdict::Missing { .. } | Verdict::NoPublishedScope => OpVerdict::Missing,
                }
            };
            (*op, v)
        })
        .collect()
}

fn describe(op: Operation) -> String {
    format!("{} {}", op.method().as_str(), op.path())
}

/// What is known about the credential's scopes, for judging each action.
#[derive(Clone, Copy)]
struct Knowledge {
    known: Option<ScopeSet>,
    likely: ScopeSet,
    proven_missing: ScopeSet,
    source: ScopeSource,
}

fn action_report(
    tool: &str,
    spec: &crate::catalog::ActionSpec,
    route: &Route,
    verdicts: &BTreeMap<Operation, OpVerdict>,
    knowledge: &Knowledge,
) -> ActionReport {
    let Knowledge {
        known,
        likely,
        proven_missing,
        source,
    } = *knowledge;
    if spec.no_public_api {
        return ActionReport {
            tool: tool.to_string(),
            action: spec.name.to_string(),
            status: Status::Unsupported,
            missing_scopes: Vec::new(),
            classic_alternative: Vec::new(),
            route: Vec::new(),
            detail: "Confluence Cloud has no public API for this, whatever the credential; the \
                action explains what does exist"
                .to_string(),
        };
    }
    let mut used = Vec::new();
    let mut status = Status::Ok;
    let mut missing = ScopeSet::EMPTY;
    let mut classic = ScopeSet::EMPTY;
    let mut detail = String::new();
    for preferred in spec.operations {
        let cands = if spec.fallback {
            candidates::for_preferred(*preferred)
        } else {
            vec![*preferred]
        };
        let order = plan(&cands, route, known);
        let working = order
            .iter()
            .find(|op| verdicts.get(op) == Some(&OpVerdict::Works));
        if let Some(op) = working {
            used.push(describe(*op));
            if op != preferred {
                detail = format!(
                    "falls back to {} {} because {} is not open to this credential",
                    match op.api() {
                        ApiVersion::V1 => "v1",
                        ApiVersion::V2 => "v2",
                    },
                    op.operation_id(),
                    preferred.operation_id()
                );
            }
            continue;
        }
        let step: Vec<OpVerdict> = order
            .iter()
            .filter_map(|op| verdicts.get(op).copied())
            .collect();
        let (s, d) = if order.is_empty() || step.iter().all(|v| *v == OpVerdict::Gone) {
            (
                Status::Unsupported,
                format!(
                    "{} has been retired on this route (410 Gone) and has no replacement Conflux can use",
                    preferred.operation_id()
                ),
            )
        } else if step.contains(&OpVerdict::Forbidden) {
            (
                Status::Forbidden,
                "the account lacks permission for this in the space that was probed".to_string(),
            )
        } else if step.contains(&OpVerdict::Missing)
            && known.is_some_and(|k| {
                let g = preferred.info().granular;
                !g.is_empty() && k.contains_all(g)
            })
        {
            // Refused for scopes although every listed scope is held (seed 002).
            (
                Status::Unsupported,
                format!(
                    "{} answers \"scope does not match\" although this credential holds {}: \
                     Confluence does not open it to this kind of credential; a classic API token \
                     on the site URL can",
                    preferred.operation_id(),
                    preferred.info().granular.names().join(", ")
                ),
            )
        } else if step.contains(&OpVerdict::Missing) {
            let info = preferred.info();
            let held = known.unwrap_or(ScopeSet::EMPTY);
            let lacking = info.granular.difference(held);
            // Scopes a probe proved missing come first: they must be added whatever else is.
            let proven = info.granular.intersection(proven_missing);
            let narrowed = lacking.difference(likely);
            missing = missing.union(if !proven.is_empty() {
                proven
            } else if !narrowed.is_empty() {
                narrowed
            } else if !lacking.is_empty() {
                lacking
            } else {
                info.granular
            });
            classic = classic.union(info.classic);
            (
                Status::MissingScopes,
                format!("{} is refused for scopes", preferred.operation_id()),
            )
        } else if step.contains(&OpVerdict::Undetermined) {
            (
                Status::Error,
                format!(
                    "undetermined: the probe of {} got past the scope check, but this gateway did not \
                 show that it checks scopes first, so the answer cannot tell without changing something",
                    preferred.operation_id()
                ),
            )
        } else {
            (
                Status::Error,
                format!(
                    "{} failed for another reason; run with --log debug",
                    preferred.operation_id()
                ),
            )
        };
        if status == Status::Ok {
            status = s;
            detail = d;
        }
    }
    if status == Status::Ok && detail.is_empty() && source == ScopeSource::Unscoped {
        detail = "unscoped token: the account's space permissions decide".to_string();
    }
    ActionReport {
        tool: tool.to_string(),
        action: spec.name.to_string(),
        status,
        missing_scopes: missing.names().into_iter().map(String::from).collect(),
        classic_alternative: classic.names().into_iter().map(String::from).collect(),
        route: used,
        detail,
    }
}

#[cfg(test)]
mod optional_tests {
    use super::*;

    /// Issue 14: without `read:user:confluence` mentions keep their ids, and the doctor says
    /// the scope is optional for names; with it, or with scopes unknown, it says nothing.
    #[test]
    fn read_user_is_optional_for_names() {
        let names = Operation::CreateBulkUserLookup.info().granular;
        let without = Operation::GetPageById.info().granular;
        let said = optional_scopes(Some(without));
        assert_eq!(
            said.iter().map(|s| s.scope.as_str()).collect::<Vec<_>>(),
            ["read:user:confluence"]
        );
        assert!(said[0].gives.contains("mentions"));
        assert!(optional_scopes(Some(without.union(names))).is_empty());
        assert!(optional_scopes(None).is_empty());
    }

    /// A page copied with its tree takes the page-hierarchy copy's extra scope: named as
    /// optional to a credential that can copy, never to one that cannot.
    #[test]
    fn copy_tree_scope_is_named_where_copy_works() {
        let copy = crate::catalog::tool("pages")
            .and_then(|t| t.action("copy"))
            .expect("pages.copy")
            .scopes();
        let names = Operation::CreateBulkUserLookup.info().granular;
        let said = optional_scopes(Some(copy.union(names)));
        assert_eq!(
            said.iter().map(|s| s.scope.as_str()).collect::<Vec<_>>(),
            ["read:content.metadata:confluence"],
            "{said:?}"
        );
        assert!(said[0].gives.contains("tree"), "{said:?}");
        // Without write:page the copy itself is out: nothing to say about its tree.
        let read_only = Operation::GetPageById.info().granular.union(names);
        assert!(optional_scopes(Some(read_only)).is_empty());
    }
}
