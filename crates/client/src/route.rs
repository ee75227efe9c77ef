//! Where a request goes: the site or the API gateway, and which API version serves an action.
//!
//! Everything here is a pure function of the resolved credential and the operation, so it is
//! tested with a table. Fallbacks (v2 → v1, and back) are an explicit ordered list of
//! candidates, never a retry loop.

use conflux_catalog::{ApiVersion, Operation, ScopeSet, Verdict};
use conflux_types::{BaseUrl, CloudId, SiteUrl};

use crate::credential::Credential;

/// Atlassian's public base URLs, overridable so the same binary talks to the simulator.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// Stand-in for `https://api.atlassian.com`.
    pub gateway: BaseUrl,
    /// Stand-in for `https://auth.atlassian.com`.
    pub identity: BaseUrl,
}

impl Endpoints {
    pub const ATLASSIAN_GATEWAY: &'static str = "https://api.atlassian.com";
    pub const ATLASSIAN_IDENTITY: &'static str = "https://auth.atlassian.com";

    /// Atlassian's real endpoints.
    pub fn atlassian() -> Self {
        Endpoints {
            gateway: BaseUrl::parse(Self::ATLASSIAN_GATEWAY).unwrap_or_else(|_| unreachable!()),
            identity: BaseUrl::parse(Self::ATLASSIAN_IDENTITY).unwrap_or_else(|_| unreachable!()),
        }
    }
}

/// The base a request is sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `https://{site}.atlassian.net`: classic API tokens.
    Site(SiteUrl),
    /// `https://api.atlassian.com/ex/confluence/{cloudId}`: scoped tokens and OAuth.
    Gateway { gateway: BaseUrl, cloud_id: CloudId },
}

impl Route {
    /// The root that operation paths (`/wiki/...`) are appended to.
    pub fn root(&self) -> String {
        match self {
            Route::Site(site) => site.as_str().to_string(),
            Route::Gateway { gateway, cloud_id } => {
                format!("{}/ex/confluence/{cloud_id}", gateway.as_str())
            }
        }
    }

    pub fn is_gateway(&self) -> bool {
        matches!(self, Route::Gateway { .. })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Route::Site(_) => "site",
            Route::Gateway { .. } => "gateway",
        }
    }
}

/// The route a resolved credential must use. Classic API tokens go to the site; scoped
/// tokens, OAuth and raw access tokens only work through the gateway.
pub fn route_for(credential: &Credential, endpoints: &Endpoints) -> Route {
    match credential {
        Credential::ApiToken(t) => Route::Site(t.site.clone()),
        Credential::ScopedToken(t) => Route::Gateway {
            gateway: endpoints.gateway.clone(),
            cloud_id: t.cloud_id,
        },
        Credential::OAuth(t) => Route::Gateway {
            gateway: endpoints.gateway.clone(),
            cloud_id: t.cloud_id,
        },
        Credential::AccessToken(t) => Route::Gateway {
            gateway: endpoints.gateway.clone(),
            cloud_id: t.cloud_id,
        },
    }
}

/// Whether `op` can be answered on `route` at all. v1 operations that Atlassian's spec marks
/// deprecated answer 410 Gone through the gateway today (RFC-19), so they are never planned there.
pub fn available_on(op: Operation, route: &Route) -> bool {
    !(route.is_gateway() && op.api() == ApiVersion::V1 && op.info().deprecated)
}

/// Orders the candidate operations for one action: those unavailable on the route are dropped;
/// among the rest, those the known granted scopes satisfy come first (stable otherwise), so a
/// credential that lacks the preferred route's scope goes straight to one that works.
pub fn plan(candidates: &[Operation], route: &Route, granted: Option<ScopeSet>) -> Vec<Operation> {
    let mut usable: Vec<Operation> = candidates
        .iter()
        .copied()
        .filter(|op| available_on(*op, route))
        .collect();
    if let Some(granted) = granted {
        usable.sort_by_key(|op| !matches!(op.check(granted), Verdict::Satisfied(_)));
    }
    usable
}

/// The v2 operation that does the job of a retired v1 one, for the 410 diagnosis.
pub fn v2_replacement(op: Operation) -> Option<Operation> {
    use Operation as O;
    Some(match op {
        O::GetContent => O::GetPages,
        O::CreateContent => O::CreatePage,
        O::GetContentById => O::GetPageById,
        O::UpdateContent => O::UpdatePage,
        O::DeleteContent => O::DeletePage,
        O::GetContentChildren | O::GetContentChildrenByType => O::GetPageDirectChildren,
        O::GetAttachmentsV1 => O::GetPageAttachments,
        O::GetContentComments => O::GetPageFooterComments,
        O::GetLabelsForContent => O::GetPageLabels,
        O::GetContentVersions | O::GetHistoryForContent => O::GetPageVersions,
        O::GetContentVersion => O::GetPageVersionDetails,
        O::GetSpacesV1 => O::GetSpacesV2,
        O::GetSpace => O::GetSpaceById,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{AccessToken, ApiToken, OAuthApp, OAuthToken, ScopedToken};
    use conflux_catalog::Scope;
    use conflux_types::Secret;

    fn cloud() -> CloudId {
        "11111111-2222-4333-8444-555555555555".parse().unwrap()
    }

    fn endpoints() -> Endpoints {
        Endpoints::atlassian()
    }

    #[test]
    fn each_credential_kind_goes_where_cloud_accepts_it() {
        let site = SiteUrl::parse("https://acme.atlassian.net/wiki").unwrap();
        let table: Vec<(Credential, &str)> = vec![
            (
                Credential::ApiToken(ApiToken {
                    email: "a@b.c".into(),
                    token: Secret::new("t".into()),
                    site: site.clone(),
                }),
                "https://acme.atlassian.net",
            ),
            (
                Credential::ScopedToken(ScopedToken {
                    email: "a@b.c".into(),
                    token: Secret::new("t".into()),
                    cloud_id: cloud(),
                    scopes: None,
                }),
                "https://api.atlassian.com/ex/confluence/11111111-2222-4333-8444-555555555555",
            ),
            (
                Credential::OAuth(OAuthToken {
                    access: Secret::new("a".into()),
                    refresh: None,
                    expires_at: None,
                    scopes: ScopeSet::EMPTY,
                    cloud_id: cloud(),
                    app: OAuthApp::Central,
                }),
                "https://api.atlassian.com/ex/confluence/11111111-2222-4333-8444-555555555555",
            ),
            (
                Credential::AccessToken(AccessToken {
                    token: Secret::new("a".into()),
                    cloud_id: cloud(),
                    scopes: None,
                }),
                "https://api.atlassian.com/ex/confluence/11111111-2222-4333-8444-555555555555",
            ),
        ];
        for (cred, root) in table {
            assert_eq!(route_for(&cred, &endpoints()).root(), root, "{cred:?}");
        }
    }

    #[test]
    fn retired_v1_operations_are_never_planned_on_the_gateway() {
        let gw = Route::Gateway {
            gateway: endpoints().gateway,
            cloud_id: cloud(),
        };
        let site = Route::Site(SiteUrl::parse("https://acme.atlassian.net").unwrap());
        let cands = [Operation::GetPageAncestors, Operation::GetContentById];
        assert_eq!(plan(&cands, &gw, None), vec![Operation::GetPageAncestors]);
        assert_eq!(plan(&cands, &site, None), cands.to_vec());
        // v1 search is not deprecated and stays available on the gateway.
        assert!(available_on(Operation::SearchByCQL, &gw));
    }

    #[test]
    fn retired_operations_name_their_v2_replacement() {
        for op in Operation::all().filter(|o| o.api() == conflux_catalog::ApiVersion::V1) {
            if let Some(v2) = v2_replacement(op) {
                assert!(op.info().deprecated, "{op:?} is not retired");
                assert_eq!(v2.api(), conflux_catalog::ApiVersion::V2, "{op:?}");
            }
        }
        let e = crate::ClientError::Gone {
            operation: Operation::GetContentById,
        };
        assert!(e.hint().contains("v2 getPageById"), "{}", e.hint());
    }

    #[test]
    fn satisfied_candidates_come_first() {
        let gw = Route::Gateway {
            gateway: endpoints().gateway,
            cloud_id: cloud(),
        };
        let cands = [
            Operation::GetPageDescendants,
            Operation::GetDescendantsOfType,
        ];
        let only_details: ScopeSet = [Scope::ReadContentDetailsConfluence].into_iter().collect();
        assert_eq!(
            plan(&cands, &gw, Some(only_details)),
            vec![
                Operation::GetDescendantsOfType,
                Operation::GetPageDescendants
            ]
        );
        let both: ScopeSet = [
            Scope::ReadContentDetailsConfluence,
            Scope::ReadHierarchicalContentConfluence,
        ]
        .into_iter()
        .collect();
        assert_eq!(plan(&cands, &gw, Some(both)), cands.to_vec());
        assert_eq!(plan(&cands, &gw, None), cands.to_vec());
    }
}
