//! The requests the doctor makes. Every one is a read, or a write that cannot take effect: a
//! stale version number on a real page, an id that cannot exist (`0`), or a body missing its
//! required fields. None of them can create, change or delete anything.

use std::collections::{BTreeMap, BTreeSet};

use conflux_catalog::{Operation, ScopeSet};
use conflux_client::api::{BodyFormat, PageList};
use conflux_client::route::available_on;
use conflux_client::{Client, PageRequest, ProbeAnswer, Route, scope_witness};
use conflux_types::{BaseUrl, SiteUrl};
use serde_json::{Value, json};

use super::{OpVerdict, RouteAnswer};

/// The id that cannot exist: Confluence ids are positive.
const NO_ID: &str = "0";
const NO_ATTACHMENT: &str = "att0";

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Classic API token: no scope check; the answer is about reachability and permission.
    Unscoped,
    /// Scoped token or access token of unknown scopes: infer them.
    Scoped,
}

pub(crate) struct Outcome {
    pub verdicts: BTreeMap<Operation, OpVerdict>,
    pub proven: ScopeSet,
    /// Granular scopes of operations that worked but also open with a classic scope: held,
    /// unless the token holds that classic scope instead.
    pub likely: ScopeSet,
    pub missing: ScopeSet,
    pub scope_first: Option<bool>,
}

/// Real ids to probe reads with, found with the credential itself (when it may read them).
#[derive(Default)]
struct Ids {
    space: Option<String>,
    page: Option<PageState>,
    attachment: Option<String>,
}

struct PageState {
    id: String,
    title: String,
    body: String,
    version: u64,
}

async fn discover(client: &Client) -> Ids {
    let mut ids = Ids::default();
    if let Ok(p) = client.spaces().list(&[], &PageRequest::limit(1)).await {
        ids.space = p.results.into_iter().next().map(|s| s.id);
    }
    let filter = PageList {
        status: Some("current".into()),
        ..Default::default()
    };
    if let Ok(p) = client.pages().list(&filter, &PageRequest::limit(5)).await {
        for summary in p.results {
            let Ok(page) = client
                .pages()
                .get(summary.id.clone().into(), Some(BodyFormat::Storage))
                .await
            else {
                continue;
            };
            let body = page
                .body
                .and_then(|b| b.storage)
                .map(|b| b.value)
                .unwrap_or_default();
            if ids.attachment.is_none()
                && let Ok(a) = client
                    .attachments()
                    .for_page(summary.id.clone().into(), &PageRequest::limit(1))
                    .await
            {
                ids.attachment = a.results.into_iter().next().map(|a| a.id);
            }
            ids.page = Some(PageState {
                id: page.id,
                title: page.title,
                body,
                version: page.version.map(|v| v.number).unwrap_or(1),
            });
            if ids.attachment.is_some() {
                break;
            }
        }
    }
    ids
}

/// One probe: path parameters, query, body, and whether its answer is conclusive whatever
/// order the gateway checks things in.
struct Spec {
    params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    definitive: bool,
}

fn spec(op: Operation, ids: &Ids) -> Option<Spec> {
    let page = ids.page.as_ref().map(|p| p.id.clone());
    let real_page = page.is_some();
    let page_id = page.unwrap_or_else(|| NO_ID.to_string());
    let list = vec![("limit", "1".to_string())];
    let by_page = |query: Vec<(&'static str, String)>| Spec {
        params: vec![("id", page_id.clone())],
        query,
        body: None,
        definitive: real_page,
    };
    use Operation as O;
    Some(match op {
        O::GetSpacesV2 | O::GetPages | O::GetBlogPosts => Spec {
            params: vec![],
            query: list,
            body: None,
            definitive: true,
        },
        O::GetSpaceById | O::GetSpacePermissionsAssignments => Spec {
            params: vec![("id", ids.space.clone().unwrap_or_else(|| NO_ID.into()))],
            query: vec![],
            body: None,
            definitive: ids.space.is_some(),
        },
        O::GetPageById | O::GetContentById => by_page(vec![]),
        O::GetRestrictions => by_page(vec![]),
        O::GetViews | O::GetViewers => Spec {
            params: vec![("contentId", page_id.clone())],
            query: vec![],
            body: None,
            definitive: real_page,
        },
        O::GetContentTemplates => Spec {
            params: vec![],
            query: list.clone(),
            body: None,
            definitive: true,
        },
        O::GetContentTemplate => Spec {
            params: vec![("contentTemplateId", NO_ID.into())],
            query: vec![],
            body: None,
            definitive: false,
        },
        O::CopyPage => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::GetCurrentUser => Spec {
            params: vec![],
            query: vec![],
            body: None,
            definitive: true,
        },
        O::SearchUser => Spec {
            params: vec![],
            query: vec![
                ("cql", "user.fullname ~ \"conflux doctor probe\"".into()),
                ("limit", "1".into()),
            ],
            body: None,
            definitive: true,
        },
        O::SearchGroups => Spec {
            params: vec![],
            query: vec![
                ("query", "conflux-doctor-probe".into()),
                ("limit", "1".into()),
            ],
            body: None,
            definitive: true,
        },
        O::GetUser => Spec {
            params: vec![],
            query: vec![("accountId", "conflux-doctor-probe".into())],
            body: None,
            definitive: false,
        },
        O::UpdateRestrictions => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: Some(json!([])),
            definitive: false,
        },
        O::CheckContentPermission => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::GetPageAncestors
        | O::GetPageDescendants
        | O::GetPageDirectChildren
        | O::GetChildPages
        | O::GetPageFooterComments
        | O::GetPageInlineComments
        | O::GetPageLabels
        | O::GetPageAttachments
        | O::GetPageVersions => by_page(list),
        O::GetPageContentProperties => Spec {
            params: vec![("page-id", page_id.clone())],
            query: list,
            body: None,
            definitive: real_page,
        },
        O::GetDescendantsOfType => Spec {
            params: vec![("id", page_id.clone()), ("type", "page".into())],
            query: list,
            body: None,
            definitive: real_page,
        },
        O::GetAttachmentById => Spec {
            params: vec![(
                "id",
                ids.attachment
                    .clone()
                    .unwrap_or_else(|| NO_ATTACHMENT.into()),
            )],
            query: vec![],
            body: None,
            definitive: ids.attachment.is_some(),
        },
        O::DownloadAttatchment => Spec {
            params: vec![
                ("id", page_id.clone()),
                (
                    "attachmentId",
                    ids.attachment
                        .clone()
                        .unwrap_or_else(|| NO_ATTACHMENT.into()),
                ),
            ],
            query: vec![],
            body: None,
            definitive: real_page && ids.attachment.is_some(),
        },
        O::SearchByCQL => Spec {
            params: vec![],
            query: vec![("cql", "type = page".into()), ("limit", "1".into())],
            body: None,
            definitive: true,
        },
        // A stale version on a real page: refused after every other check, changes nothing.
        O::UpdatePage => match &ids.page {
            Some(p) => Spec {
                params: vec![("id", p.id.clone())],
                query: vec![],
                body: Some(json!({
                    "id": p.id,
                    "status": "current",
                    "title": p.title,
                    "body": { "representation": "storage", "value": p.body },
                    "version": { "number": p.version, "message": "conflux doctor probe (stale; never applied)" },
                })),
                definitive: true,
            },
            None => Spec {
                params: vec![("id", NO_ID.into())],
                query: vec![],
                body: Some(json!({})),
                definitive: false,
            },
        },
        // Bodies without their required fields, or ids that cannot exist.
        O::CreatePage
        | O::CreateFooterComment
        | O::CreateFolder
        | O::CreateDatabase
        | O::CreateBlogPost
        | O::CreateInlineComment => Spec {
            params: vec![],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::DeletePage
        | O::DeleteDatabase
        | O::GetDatabaseById
        | O::GetFooterCommentChildren
        | O::GetInlineCommentChildren
        | O::DeleteAttachment => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: None,
            definitive: false,
        },
        O::GetBlogPostById | O::DeleteBlogPost => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: None,
            definitive: false,
        },
        O::UpdateBlogPost => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::DeleteFooterComment | O::GetFooterCommentById | O::GetInlineCommentById => Spec {
            params: vec![("comment-id", NO_ID.into())],
            query: vec![],
            body: None,
            definitive: false,
        },
        O::UpdateFooterComment | O::UpdateInlineComment => Spec {
            params: vec![("comment-id", NO_ID.into())],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::MovePage => Spec {
            params: vec![
                ("pageId", NO_ID.into()),
                ("position", "append".into()),
                ("targetId", NO_ID.into()),
            ],
            query: vec![],
            body: None,
            definitive: false,
        },
        O::CreatePageProperty => Spec {
            params: vec![("page-id", NO_ID.into())],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::UpdatePagePropertyById => Spec {
            params: vec![("page-id", NO_ID.into()), ("property-id", NO_ID.into())],
            query: vec![],
            body: Some(json!({})),
            definitive: false,
        },
        O::RemoveLabelFromContentUsingQueryParameter => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![("name", "conflux-doctor-probe".into())],
            body: None,
            definitive: false,
        },
        O::AddLabelsToContent => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: Some(json!([])),
            definitive: false,
        },
        O::CreateAttachment | O::CreateOrUpdateAttachments => Spec {
            params: vec![("id", NO_ID.into())],
            query: vec![],
            body: None,
            definitive: false,
        },
        _ => return None,
    })
}

async fn send(client: &Client, route: &Route, op: Operation, s: &Spec) -> Option<ProbeAnswer> {
    let params: Vec<(&str, &str)> = s.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let query: Vec<(&str, &str)> = s.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match client
        .probe(route, op, &params, &query, s.body.clone())
        .await
    {
        Ok(a) => {
            tracing::debug!(
                op = op.operation_id(),
                status = a.status,
                scope = a.scope_check_failed,
                "probe"
            );
            Some(a)
        }
        Err(e) => {
            tracing::debug!(op = op.operation_id(), error = %e, "probe not sent");
            None
        }
    }
}

pub(crate) async fn run(
    client: &Client,
    route: &Route,
    ops: &BTreeSet<Operation>,
    mode: Mode,
) -> Outcome {
    let ids = discover(client).await;
    let mut proven = ScopeSet::EMPTY;
    let mut likely = ScopeSet::EMPTY;
    let mut missing = ScopeSet::EMPTY;
    let mut scope_first = None;

    if mode == Mode::Scoped {
        let needed: ScopeSet = ops
            .iter()
            .fold(ScopeSet::EMPTY, |a, op| a.union(op.info().granular));
        for scope in needed.iter() {
            let Some(w) = scope_witness(scope) else {
                continue;
            };
            let s = Spec {
                params: vec![],
                query: vec![("limit", "1".into())],
                body: None,
                definitive: true,
            };
            match send(client, route, w, &s).await {
                Some(a) if a.scope_check_failed => missing.insert(scope),
                Some(a) if a.status < 300 => proven.insert(scope),
                _ => {}
            }
        }
        // An endpoint no published scope opens, on an account that cannot exist: a scope 401
        // here means the gateway checks scopes before existence.
        let calibration = Spec {
            params: vec![],
            query: vec![("accountId", "conflux-doctor-no-such-account".into())],
            body: None,
            definitive: false,
        };
        if let Some(a) = send(
            client,
            route,
            Operation::GetPrivacyUnsafeUserEmail,
            &calibration,
        )
        .await
        {
            scope_first = Some(a.scope_check_failed);
        }
    }

    let mut verdicts = BTreeMap::new();
    for op in ops {
        let verdict = if !available_on(*op, route) {
            OpVerdict::Gone
        } else if let Some(s) = spec(*op, &ids) {
            match send(client, route, *op, &s).await {
                None => OpVerdict::Failed,
                Some(a) if a.scope_check_failed => {
                    if !s.definitive {
                        // A scope 401 before existence and body: the gateway checks scopes first.
                        scope_first = Some(true);
                    }
                    OpVerdict::Missing
                }
                Some(a) => match a.status {
                    410 => OpVerdict::Gone,
                    200..=399 => OpVerdict::Works,
                    409 if s.definitive => OpVerdict::Works,
                    401 => OpVerdict::Failed,
                    403 if s.definitive => OpVerdict::Forbidden,
                    400..=499 => {
                        // Past the scope check (if it comes first), stopped by existence or body.
                        if mode == Mode::Unscoped
                            || scope_first == Some(true)
                            || (!op.info().granular.is_empty()
                                && proven.contains_all(op.info().granular))
                        {
                            OpVerdict::Works
                        } else {
                            OpVerdict::Undetermined
                        }
                    }
                    _ => OpVerdict::Failed,
                },
            }
        } else {
            OpVerdict::Undetermined
        };
        if mode == Mode::Scoped {
            let g = op.info().granular;
            match verdict {
                OpVerdict::Works if op.info().classic.is_empty() => proven = proven.union(g),
                OpVerdict::Works => likely = likely.union(g),
                OpVerdict::Missing if g.len() == 1 => missing = missing.union(g),
                _ => {}
            }
        }
        verdicts.insert(*op, verdict);
    }
    // A scope proven held by one probe cannot be missing.
    missing = missing.difference(proven);
    Outcome {
        verdicts,
        proven,
        likely: likely.difference(proven),
        missing,
        scope_first,
    }
}

/// How each base URL answers the credential.
pub(crate) async fn routes(
    client: &Client,
    route: &Route,
    site: Option<&SiteUrl>,
) -> Vec<RouteAnswer> {
    let mut list = vec![route.clone()];
    match route {
        Route::Gateway { .. } => {
            if let Some(site) = site {
                list.push(Route::Site(site.clone()));
            }
        }
        Route::Site(site) => {
            if let Ok(cloud_id) = client.discover_cloud_id(site).await {
                let gateway: BaseUrl = client.config().endpoints.gateway.clone();
                list.push(Route::Gateway { gateway, cloud_id });
            }
        }
    }
    let mut out = Vec::new();
    for r in list {
        let s = Spec {
            params: vec![],
            query: vec![("limit", "1".into())],
            body: None,
            definitive: true,
        };
        let answer = send(client, &r, Operation::GetSpacesV2, &s).await;
        let (status, accepts, detail) = match answer {
            None => (None, false, "could not be reached".to_string()),
            Some(a) if a.status < 300 => {
                (Some(a.status), true, "accepts the credential".to_string())
            }
            Some(a) if a.scope_check_failed => (
                Some(a.status),
                true,
                "accepts the credential (this read was refused for scopes)".to_string(),
            ),
            Some(a) if a.status == 401 => (
                Some(a.status),
                false,
                match (&r, client.credential().kind()) {
                    (Route::Site(_), conflux_client::CredentialKind::ScopedApiToken) => {
                        "refuses it: scoped API tokens only work through the gateway".to_string()
                    }
                    (
                        Route::Site(_),
                        conflux_client::CredentialKind::OAuth
                        | conflux_client::CredentialKind::AccessToken,
                    ) => "refuses it: OAuth tokens only work through the gateway".to_string(),
                    _ => "refuses it (401)".to_string(),
                },
            ),
            Some(a) => (
                Some(a.status),
                a.status == 403,
                format!("answered HTTP {}", a.status),
            ),
        };
        out.push(RouteAnswer {
            route: r.name().to_string(),
            url: r.root(),
            status,
            accepts,
            detail,
        });
    }
    out
}
