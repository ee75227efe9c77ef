//! The site and gateway pipeline: rate limit, authenticate, apply today's gateway quirks, check
//! scopes, then run the handler the router matched (this module names none).
//!
//! Order (each step documented in docs/simulator.md):
//! 0. the burst rate limit → 429 ([`rate_limited`]);
//! 1. unknown path → 404 naming method and path (before authentication);
//! 2. gateway: wrong cloudId → 404;
//! 3. authentication → 401 (or, for an expired OAuth token with the quirk on, 404 on v2 / 403 on v1);
//!    a valid credential of an outside account (no user of the site) → 403 "Current user not
//!    permitted to use Confluence";
//! 4. endpoints no published scope opens (database rows, the download servlet) → scope 401 for
//!    scoped and OAuth credentials;
//! 5. deprecated v1 operation through the gateway → 410 (after authentication, before the scope
//!    check: no scope can open a removed endpoint, so "gone" is the actionable answer);
//! 6. scope check → the exact scope-mismatch 401 (deferred behind existence and permission
//!    checks when `scope_check_first` is off);
//! 7. the handler: existence, permission, body, state.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;

use crate::content::Actor;
use crate::handler::{Ctx, Handler};
use crate::http::{ApiErr, Face, Req, Resp, json_resp, set_header, v1_error, v2_error};
use crate::scopes::OpRow;
use crate::state::{Shared, State, TokenKind, Window, iso};

/// Who is calling.
#[derive(Clone, Debug)]
struct Caller {
    /// None: anonymous (site only).
    user: Option<String>,
    kind: Option<TokenKind>,
    /// Scoped and OAuth credentials: what they were granted. None: unrestricted.
    scopes: Option<BTreeSet<String>>,
}

/// Endpoints outside the scope table that still need a decision (the router's `SPECIALS`).
#[derive(Clone, Copy)]
pub(crate) enum Special {
    /// Not in any spec; seed 000: every scoped/OAuth credential gets the scope 401.
    DatabaseRows,
    /// The UI download servlet; seed 002.
    DownloadServlet(Handler),
    /// Where the v1 download operation redirects; checked like that operation.
    Media(Handler),
    TenantInfo,
}

/// What the router found for a path: a special endpoint, an implemented route, each with the
/// path's `{name}` segments.
pub(crate) struct Matched {
    pub special: Option<(Special, Params)>,
    pub route: Option<(Handler, Params)>,
}

type Params = Vec<(String, String)>;

/// Step 0: the rate limit of `RateLimit` (per credential), then `answer`; the answer carries the
/// `X-RateLimit-*` headers.
pub(crate) fn rate_limited(
    st: &mut State,
    req: &Req,
    answer: impl FnOnce(&mut State) -> Resp,
) -> Resp {
    match rate_limit(st, req) {
        Err(r) => *r,
        Ok(headers) => {
            let mut r = answer(st);
            for (k, v) in headers {
                set_header(&mut r, k, &v);
            }
            r
        }
    }
}

/// The per-credential burst limit. Keyed by a digest of the Authorization header, so the key
/// itself never holds a secret.
fn rate_limit(
    st: &mut State,
    req: &Req,
) -> std::result::Result<Vec<(&'static str, String)>, Box<Resp>> {
    let limit = st.rate.limit;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let key = match req.header("authorization") {
        Some(a) => format!("{:x}", sha2::Sha256::digest(a.as_bytes())),
        None => "anonymous".to_string(),
    };
    let window_ms = st.rate.window_secs.max(1) as i64 * 1000;
    let now = st.now_ms();
    let w = st.windows.entry(key).or_insert(Window {
        start_ms: now,
        count: 0,
    });
    if now - w.start_ms >= window_ms {
        w.start_ms = now;
        w.count = 0;
    }
    let reset_ms = w.start_ms + window_ms;
    if w.count >= limit {
        let retry = ((reset_ms - now) as f64 / 1000.0).ceil().max(1.0) as u64;
        st.stats.rate_limited += 1;
        let reason = st
            .rate
            .reason
            .clone()
            .unwrap_or_else(|| "burst-rate-limit".into());
        let mut r = json_resp(
            429,
            &json!({"message": "Rate limit exceeded.", "code": 429}),
        );
        set_header(&mut r, "retry-after", &retry.to_string());
        set_header(&mut r, "x-ratelimit-limit", &limit.to_string());
        set_header(&mut r, "x-ratelimit-remaining", "0");
        set_header(&mut r, "x-ratelimit-reset", &iso(reset_ms));
        set_header(&mut r, "x-ratelimit-nearlimit", "true");
        set_header(&mut r, "ratelimit-reason", &reason);
        return Err(Box::new(r));
    }
    w.count += 1;
    let remaining = limit - w.count;
    let mut headers = vec![
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", iso(reset_ms)),
    ];
    if (remaining as u64) * 5 < limit as u64 {
        headers.push(("x-ratelimit-nearlimit", "true".to_string()));
    }
    Ok(headers)
}

/// A path of the v1 download operation, for borrowing its scope requirement.
const DOWNLOAD_PROBE: &str = "/wiki/rest/api/content/0/child/attachment/att0/download";

fn dialect(req: &Req, status: u16, message: &str) -> Resp {
    if req.is_v2() {
        v2_error(status, Some(message))
    } else {
        v1_error(status, message)
    }
}

fn unauthorized(req: &Req, message: &str) -> Resp {
    if req.face == Face::Gateway {
        json_resp(401, &json!({"code": 401, "message": "Unauthorized"}))
    } else {
        let mut r = dialect(req, 401, message);
        set_header(&mut r, "www-authenticate", "Basic realm=\"Atlassian\"");
        r
    }
}

enum AuthFail {
    Unauthorized(&'static str),
    ExpiredOauth,
    /// A valid credential of an Atlassian account that is no user of this site.
    NotPermitted,
}

/// What Confluence answers an authenticated account without access to the product
/// (UNCONFIRMED: observed for API tokens and OAuth tokens of such accounts; see
/// docs/simulator.md, "Accounts").
fn not_permitted() -> Resp {
    json_resp(
        403,
        &json!({"statusCode": 403, "message": "Current user not permitted to use Confluence"}),
    )
}

fn authenticate(st: &State, req: &Req) -> Result<Caller, AuthFail> {
    let gateway = req.face == Face::Gateway;
    let Some(auth) = req.header("authorization") else {
        if gateway {
            return Err(AuthFail::Unauthorized("credentials are required"));
        }
        return Ok(Caller {
            user: None,
            kind: None,
            scopes: None,
        });
    };
    let now = st.now_ms();
    let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(AuthFail::Unauthorized(
                "the Basic credentials do not decode",
            ))?;
        let (email, token) = decoded
            .split_once(':')
            .ok_or(AuthFail::Unauthorized("Basic needs email:token"))?;
        let t = st
            .tokens
            .get(token)
            .filter(|t| t.kind != TokenKind::Oauth && !t.revoked)
            .ok_or(AuthFail::Unauthorized("unknown API token"))?;
        let user = st
            .account(&t.account_id)
            .filter(|u| u.email.eq_ignore_ascii_case(email) && !u.disabled)
            .ok_or(AuthFail::Unauthorized(
                "the token does not belong to this email",
            ))?;
        if t.expires_ms.is_some_and(|e| now >= e) {
            return Err(AuthFail::Unauthorized("the API token has expired"));
        }
        let member = st.is_member(&user.account_id);
        match (t.kind, gateway) {
            (TokenKind::Scoped, false) => Err(AuthFail::Unauthorized(
                "scoped API tokens only work through the gateway",
            )),
            (TokenKind::Classic, true) if !st.behaviour.classic_on_gateway => Err(
                AuthFail::Unauthorized("classic tokens are off on the gateway"),
            ),
            _ if !member => Err(AuthFail::NotPermitted),
            (kind, _) => Ok(Caller {
                user: Some(user.account_id.clone()),
                kind: Some(kind),
                scopes: (kind == TokenKind::Scoped).then(|| t.scopes.clone()),
            }),
        }
    } else if scheme.eq_ignore_ascii_case("bearer") {
        if !gateway {
            return Err(AuthFail::Unauthorized(
                "OAuth tokens only work through the gateway",
            ));
        }
        let t = st
            .tokens
            .get(value)
            .filter(|t| t.kind == TokenKind::Oauth && !t.revoked)
            .ok_or(AuthFail::Unauthorized("unknown access token"))?;
        let grant_revoked = t
            .grant_id
            .as_ref()
            .and_then(|g| st.grants.get(g))
            .is_some_and(|g| g.revoked);
        let user = st
            .account(&t.account_id)
            .filter(|u| !u.disabled && !grant_revoked)
            .ok_or(AuthFail::Unauthorized("access revoked"))?;
        if t.expires_ms.is_some_and(|e| now >= e) {
            return Err(if st.behaviour.expired_oauth_quirk {
                AuthFail::ExpiredOauth
            } else {
                AuthFail::Unauthorized("the access token has expired")
            });
        }
        if !st.is_member(&user.account_id) {
            return Err(AuthFail::NotPermitted);
        }
        Ok(Caller {
            user: Some(user.account_id.clone()),
            kind: Some(TokenKind::Oauth),
            scopes: Some(t.scopes.clone()),
        })
    } else {
        Err(AuthFail::Unauthorized("unsupported Authorization scheme"))
    }
}

/// Answers a site or gateway request the router matched, from step 2 on (see the top).
pub(crate) fn handle(shared: &Shared, st: &mut State, req: &Req, matched: Matched) -> Resp {
    let method = req.method.as_str();
    if req.face == Face::Gateway {
        if req.prefix.is_empty() {
            return gateway_404(method, &req.path);
        }
        if req.prefix != format!("/ex/confluence/{}", st.cloud_id) {
            return gateway_404(method, &format!("{}{}", req.prefix, req.path));
        }
    }
    let Matched { special, route } = matched;
    let op = shared.scopes.find(method, &req.path);
    if special.is_none() && route.is_none() && op.is_none() {
        let face = req.face.name();
        return dialect(
            req,
            404,
            &format!(
                "No route for {method} {} on the simulated {face}.",
                req.path
            ),
        );
    }
    let (special, special_params) = match special {
        Some((k, p)) => (Some(k), p),
        None => (None, Vec::new()),
    };
    if matches!(special, Some(Special::TenantInfo)) && req.face == Face::Site {
        return json_resp(200, &json!({"cloudId": st.cloud_id}));
    }

    let caller = match authenticate(st, req) {
        Ok(c) => c,
        Err(AuthFail::Unauthorized(why)) => {
            tracing::debug!(why, "authentication refused");
            return unauthorized(req, "Client must be authenticated to access this resource.");
        }
        Err(AuthFail::ExpiredOauth) => {
            return if req.is_v2() {
                v2_error(404, None)
            } else {
                v1_error(403, "The access token has expired.")
            };
        }
        Err(AuthFail::NotPermitted) => {
            tracing::debug!("authenticated account is no user of the site");
            return not_permitted();
        }
    };
    let scoped = caller.scopes.is_some();
    tracing::trace!(credential = ?caller.kind, user = ?caller.user, "authenticated");

    // Requirements for endpoints the table does not list.
    let mut op: Option<&OpRow> = op;
    let mut params = special_params;
    if let Some(sp) = special {
        match sp {
            Special::DatabaseRows => {
                if scoped {
                    return crate::http::scope_mismatch();
                }
                return v2_error(
                    404,
                    Some("Database entries are not readable through the REST API."),
                );
            }
            Special::DownloadServlet(_) => {
                if scoped && req.face == Face::Gateway {
                    if st.behaviour.download_servlet_refuses_scoped {
                        return crate::http::scope_mismatch();
                    }
                    op = shared.scopes.find("GET", DOWNLOAD_PROBE);
                }
            }
            Special::Media(_) => {
                op = shared.scopes.find("GET", DOWNLOAD_PROBE);
            }
            Special::TenantInfo => {}
        }
    }
    // Seed 002 (UNCONFIRMED): scoped API tokens refused on v1 endpoints whatever they hold.
    if let Some(row) = op
        && req.face == Face::Gateway
        && !row.v2
        && caller.kind == Some(TokenKind::Scoped)
        && st.behaviour.v1_refuses_scoped_tokens
    {
        return crate::http::scope_mismatch();
    }
    if let Some(row) = op
        && req.face == Face::Gateway
        && !row.v2
        && row.deprecated
        && st.behaviour.v1_gone_on_gateway
    {
        return json_resp(
            410,
            &json!({
                "statusCode": 410,
                "message": "com.atlassian.confluence.api.service.exceptions.GoneException: This deprecated endpoint has been removed.",
                "reason": "Gone",
            }),
        );
    }
    let mut deferred = None;
    if let Some(granted) = &caller.scopes {
        let satisfied = op.is_some_and(|row| row.satisfied_by(granted));
        if st.behaviour.scope_check_first {
            if !satisfied {
                return crate::http::scope_mismatch();
            }
        } else {
            deferred = Some(satisfied);
        }
    }

    let handler: Handler = match (special, route) {
        (Some(Special::DownloadServlet(h) | Special::Media(h)), _) => h,
        (_, Some((h, p))) => {
            params = p;
            h
        }
        _ => {
            let id = op.map_or("?", |o| o.operation_id.as_str());
            if let Some(false) = deferred {
                return crate::http::scope_mismatch();
            }
            return dialect(
                req,
                501,
                &format!(
                    "The simulator does not implement {id} ({method} {}).",
                    req.path
                ),
            );
        }
    };
    let mut ctx = Ctx {
        req,
        params,
        actor: Actor::new(caller.user, deferred),
        urls: &shared.urls,
    };
    let result = handler(&mut ctx, st);
    // A handler that never reached its checkpoint still may not answer a token without scope,
    // unless it is telling the caller the content does not exist or is forbidden.
    let result = match (result, ctx.checkpoint()) {
        (Err(ApiErr::Status(s, m)), _) if s == 404 || s == 403 => Err(ApiErr::Status(s, m)),
        (_, Err(e)) => Err(e),
        (r, Ok(())) => r,
    };
    match result {
        Ok(r) => r,
        Err(e) => e.into_resp(req.is_v2()),
    }
}

fn gateway_404(method: &str, path: &str) -> Resp {
    json_resp(
        404,
        &json!({"code": 404, "message": format!("No route for {method} {path} on the simulated gateway; Confluence lives under /ex/confluence/{{cloudId}}/wiki/...")}),
    )
}
