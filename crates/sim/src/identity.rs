//! The identity service (Atlassian's `auth.atlassian.com`): the 3LO consent page (where the
//! person picks which Atlassian account is signed in: a user of the site or an outside
//! account), the token endpoint with rotating refresh tokens, and the gateway's
//! accessible-resources.

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::http::{
    Face, Req, Resp, encode_query, html, json_resp, parse_query, redirect, set_header,
};
use crate::render::escape;
use crate::state::Shared;
use crate::state::{Code, Consent, Grant, Refresh, State, Token, TokenKind};

/// Scopes an authorize request may ask for besides the table's.
const EXTRA_SCOPES: [&str; 3] = ["offline_access", "read:me", "read:account"];

pub(crate) fn handle(shared: &Shared, req: &Req) -> Resp {
    let mut st = shared.lock();
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/authorize") => authorize(shared, &mut st, req),
        ("POST", "/authorize/decision") => decision(&mut st, req),
        ("POST", "/oauth/token") => token(&mut st, req),
        (m, p) => json_resp(
            404,
            &json!({"error": "not_found", "error_description": format!("No route for {m} {p} on the simulated identity service.")}),
        ),
    }
}

fn error_page(status: u16, message: &str) -> Resp {
    html(
        status,
        format!(
            "<!doctype html><html><head><title>Something went wrong</title></head><body>\
             <h1>Something went wrong</h1><p id=\"error\">{}</p></body></html>",
            escape(message)
        ),
    )
}

fn redirect_error(uri: &str, error: &str, description: &str, state: Option<&str>) -> Resp {
    let mut q = vec![
        ("error".to_string(), error.to_string()),
        ("error_description".to_string(), description.to_string()),
    ];
    if let Some(s) = state {
        q.push(("state".into(), s.into()));
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    redirect(&format!("{uri}{sep}{}", encode_query(&q)))
}

fn authorize(shared: &Shared, st: &mut State, req: &Req) -> Resp {
    st.stats.authorizations += 1;
    let q = |k: &str| req.q(k).filter(|v| !v.is_empty());
    let Some(client_id) = q("client_id") else {
        return error_page(400, "Missing client_id.");
    };
    let Some(client) = st.clients.get(client_id).cloned() else {
        return error_page(400, "Unknown client_id: this app is not registered.");
    };
    let Some(redirect_uri) = q("redirect_uri") else {
        return error_page(400, "Missing redirect_uri.");
    };
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return error_page(
            400,
            "The redirect_uri does not match the app's callback URL.",
        );
    }
    // From here on, errors go back to the app.
    let state = q("state");
    if q("audience") != Some("api.atlassian.com") {
        return redirect_error(
            redirect_uri,
            "invalid_request",
            "audience must be api.atlassian.com",
            state,
        );
    }
    if q("response_type") != Some("code") {
        return redirect_error(
            redirect_uri,
            "unsupported_response_type",
            "response_type must be code",
            state,
        );
    }
    let scopes: Vec<String> = q("scope")
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    if scopes.is_empty() {
        return redirect_error(redirect_uri, "invalid_scope", "scope is required", state);
    }
    let known = shared.scopes.all_scopes();
    if let Some(bad) = scopes
        .iter()
        .find(|s| !known.contains(*s) && !EXTRA_SCOPES.contains(&s.as_str()))
    {
        return redirect_error(
            redirect_uri,
            "invalid_scope",
            &format!("unknown scope {bad}"),
            state,
        );
    }
    let challenge = q("code_challenge").map(String::from);
    if let Some(m) = q("code_challenge_method")
        && m != "S256"
        && m != "plain"
    {
        return redirect_error(
            redirect_uri,
            "invalid_request",
            "code_challenge_method must be S256",
            state,
        );
    }
    if challenge.is_none() && st.behaviour.require_pkce {
        return redirect_error(
            redirect_uri,
            "invalid_request",
            "code_challenge is required",
            state,
        );
    }
    let challenge = match (challenge, q("code_challenge_method")) {
        (Some(c), Some("plain")) => Some(format!("plain:{c}")),
        (c, _) => c,
    };
    // Who is signed in: the account `login_hint` names (e-mail or account id) if the page may
    // offer it, else the demo user. The person can pick another one on the page.
    let accounts: Vec<(String, String, String)> = st
        .sign_in_accounts()
        .into_iter()
        .map(|(u, _)| {
            (
                u.account_id.clone(),
                u.display_name.clone(),
                u.email.clone(),
            )
        })
        .collect();
    let hinted = q("login_hint").and_then(|h| {
        accounts
            .iter()
            .find(|(id, _, email)| id == h || email.eq_ignore_ascii_case(h))
    });
    let signed_in = hinted
        .or_else(|| accounts.iter().find(|(id, _, _)| *id == st.demo.account_id))
        .or(accounts.first())
        .map(|(id, _, _)| id.clone())
        .unwrap_or_else(|| st.demo.account_id.clone());
    let id = st.secret("consent-", 24);
    let now = st.now_ms();
    st.consents.insert(
        id.clone(),
        Consent {
            account_id: signed_in.clone(),
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scopes: scopes.clone(),
            state: state.map(String::from),
            code_challenge: challenge,
            created_ms: now,
        },
    );
    let user = st
        .account(&signed_in)
        .map(|u| format!("{} ({})", u.display_name, u.email))
        .unwrap_or_default();
    let options: String = accounts
        .iter()
        .map(|(account, name, email)| {
            format!(
                "<option value=\"{}\"{}>{} ({})</option>",
                escape(account),
                if *account == signed_in {
                    " selected"
                } else {
                    ""
                },
                escape(name),
                escape(email)
            )
        })
        .collect();
    let items: String = scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let mut r = html(
        200,
        format!(
            "<!doctype html><html><head><title>Authorize {app}</title></head><body>\
             <h1>{app} is requesting access to your Atlassian account</h1>\
             <p>Signed in as <span id=\"signed-in\">{user}</span> on site {site}.</p><ul>{items}</ul>\
             <form method=\"post\" action=\"/authorize/decision\">\
             <input type=\"hidden\" name=\"consent\" value=\"{id}\">\
             <label for=\"account\">Atlassian account</label> \
             <select id=\"account\" name=\"account\">{options}</select>\
             <button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
             </form></body></html>",
            app = escape(if client.name.is_empty() {
                &client.client_id
            } else {
                &client.name
            }),
            user = escape(&user),
            site = escape(&st.site_name),
        ),
    );
    set_header(&mut r, "x-sim-consent-id", &id);
    set_header(&mut r, "x-sim-account-id", &signed_in);
    r
}

fn decision(st: &mut State, req: &Req) -> Resp {
    let form = parse_query(&String::from_utf8_lossy(&req.body));
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(consent) = get("consent").and_then(|id| st.consents.remove(id)) else {
        return error_page(
            400,
            "This consent request is unknown or was already answered.",
        );
    };
    let now = st.now_ms();
    if now - consent.created_ms > st.behaviour.code_ttl_secs as i64 * 1000 {
        return error_page(400, "This consent request has expired; start again.");
    }
    let state = consent.state.as_deref();
    if get("decision") != Some("accept") {
        return redirect_error(
            &consent.redirect_uri,
            "access_denied",
            "The user denied access.",
            state,
        );
    }
    // The account picked on the page (id or e-mail), else the one the page preselected.
    let chosen = get("account").filter(|a| !a.is_empty());
    let account = st
        .account_by_login(chosen.unwrap_or(&consent.account_id))
        .filter(|u| !u.disabled)
        .map(|u| u.account_id.clone());
    let Some(account) = account else {
        return error_page(
            400,
            "This Atlassian account is unknown or deactivated; nothing was authorized.",
        );
    };
    let code = st.secret("", 40);
    st.codes.insert(
        code.clone(),
        Code {
            client_id: consent.client_id.clone(),
            redirect_uri: consent.redirect_uri.clone(),
            scopes: consent.scopes.clone(),
            account_id: account,
            code_challenge: consent.code_challenge.clone(),
            expires_ms: now + st.behaviour.code_ttl_secs as i64 * 1000,
            used: false,
        },
    );
    let mut q = vec![("code".to_string(), code)];
    if let Some(s) = state {
        q.push(("state".into(), s.into()));
    }
    let sep = if consent.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    redirect(&format!(
        "{}{sep}{}",
        consent.redirect_uri,
        encode_query(&q)
    ))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Resp {
    json_resp(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn form_or_json(req: &Req) -> Option<Vec<(String, String)>> {
    let ct = req.header("content-type").unwrap_or("");
    if ct.starts_with("application/json") {
        let v: Value = serde_json::from_slice(&req.body).ok()?;
        let o = v.as_object()?;
        Some(
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect(),
        )
    } else {
        Some(parse_query(&String::from_utf8_lossy(&req.body)))
    }
}

/// Issues an access token (and, when asked, a refresh token) for a grant.
pub(crate) fn issue(st: &mut State, grant_id: &str, with_refresh: bool) -> Value {
    let Some(grant) = st.grants.get(grant_id).cloned() else {
        return json!({});
    };
    let now = st.now_ms();
    let ttl = st.behaviour.access_token_ttl_secs;
    let access = st.secret("cfxsim-at-", 48);
    st.tokens.insert(
        access.clone(),
        Token {
            kind: TokenKind::Oauth,
            account_id: grant.account_id.clone(),
            scopes: grant.scopes.iter().cloned().collect(),
            expires_ms: Some(now + ttl as i64 * 1000),
            grant_id: Some(grant_id.to_string()),
            revoked: false,
        },
    );
    let mut out = json!({
        "access_token": access,
        "expires_in": ttl,
        "scope": grant.scopes.join(" "),
        "token_type": "Bearer",
    });
    if with_refresh {
        let refresh = st.secret("cfxsim-rt-", 48);
        st.refresh.insert(
            refresh.clone(),
            Refresh {
                grant_id: grant_id.to_string(),
                last_used_ms: now,
                rotated_ms: None,
            },
        );
        if let Some(g) = st.grants.get_mut(grant_id) {
            g.current_refresh = Some(refresh.clone());
        }
        out["refresh_token"] = json!(refresh);
    }
    out
}

pub(crate) fn new_grant(
    st: &mut State,
    client_id: &str,
    account_id: &str,
    scopes: Vec<String>,
) -> String {
    let id = st.secret("grant-", 16);
    let now = st.now_ms();
    st.grants.insert(
        id.clone(),
        Grant {
            client_id: client_id.to_string(),
            account_id: account_id.to_string(),
            scopes,
            created_ms: now,
            current_refresh: None,
            revoked: false,
        },
    );
    id
}

/// Whether an account exists and is not deactivated. A deactivated account's codes and refresh
/// tokens are refused (UNCONFIRMED: Cloud's answer here was not seen).
fn account_active(st: &State, account_id: &str) -> bool {
    st.account(account_id).is_some_and(|u| !u.disabled)
}

/// Revokes every grant of one account, and its OAuth access tokens minted without a grant (from
/// the fixture): "this person left". Returns the number of grants newly revoked.
pub(crate) fn revoke_account_grants(st: &mut State, account_id: &str) -> usize {
    let grants: Vec<String> = st
        .grants
        .iter()
        .filter(|(_, g)| g.account_id == account_id && !g.revoked)
        .map(|(id, _)| id.clone())
        .collect();
    for g in &grants {
        revoke_grant(st, g);
    }
    for t in st.tokens.values_mut() {
        if t.kind == TokenKind::Oauth && t.account_id == account_id {
            t.revoked = true;
        }
    }
    grants.len()
}

/// Revokes a grant: its refresh tokens and its access tokens stop working.
pub(crate) fn revoke_grant(st: &mut State, grant_id: &str) {
    if let Some(g) = st.grants.get_mut(grant_id) {
        g.revoked = true;
    }
    for t in st.tokens.values_mut() {
        if t.grant_id.as_deref() == Some(grant_id) {
            t.revoked = true;
        }
    }
}

fn token(st: &mut State, req: &Req) -> Resp {
    st.stats.token_requests += 1;
    let Some(form) = form_or_json(req) else {
        return oauth_error(
            400,
            "invalid_request",
            "The body must be JSON or form-encoded.",
        );
    };
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let grant_type = get("grant_type").unwrap_or("");
    if grant_type == "refresh_token" {
        st.stats.refresh_requests += 1;
    }
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token.",
        );
    }
    // Client authentication comes first, so a wrong secret never uses up a code or token.
    let client_ok = match (get("client_id"), get("client_secret")) {
        (Some(id), Some(secret)) => st
            .clients
            .get(id)
            .is_some_and(|c| c.client_secret == secret),
        _ => false,
    };
    if !client_ok {
        return oauth_error(401, "access_denied", "Unauthorized");
    }
    let client_id = get("client_id").unwrap_or_default().to_string();
    let now = st.now_ms();
    if grant_type == "authorization_code" {
        let Some(code) = get("code") else {
            return oauth_error(400, "invalid_request", "code is required.");
        };
        let Some(c) = st.codes.get_mut(code) else {
            return oauth_error(403, "invalid_grant", "Invalid authorization code");
        };
        if c.used || now >= c.expires_ms || c.client_id != client_id {
            c.used = true;
            return oauth_error(403, "invalid_grant", "Invalid authorization code");
        }
        if get("redirect_uri") != Some(c.redirect_uri.as_str()) {
            return oauth_error(
                403,
                "invalid_grant",
                "redirect_uri does not match the authorization request.",
            );
        }
        if let Some(challenge) = &c.code_challenge {
            let Some(verifier) = get("code_verifier") else {
                return oauth_error(
                    400,
                    "invalid_request",
                    "code_verifier is required (a code_challenge was sent).",
                );
            };
            let computed = match challenge.strip_prefix("plain:") {
                Some(_) => format!("plain:{verifier}"),
                None => base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes())),
            };
            if &computed != challenge {
                return oauth_error(
                    403,
                    "invalid_grant",
                    "code_verifier does not match the code_challenge.",
                );
            }
        }
        c.used = true;
        let (account, scopes) = (c.account_id.clone(), c.scopes.clone());
        if !account_active(st, &account) {
            return oauth_error(403, "invalid_grant", "Invalid authorization code");
        }
        let offline = scopes.iter().any(|s| s == "offline_access");
        let grant = new_grant(st, &client_id, &account, scopes);
        return json_resp(200, &issue(st, &grant, offline));
    }

    let invalid = || oauth_error(403, "invalid_grant", "Unknown or invalid refresh token.");
    let Some(rt) = get("refresh_token").map(String::from) else {
        return oauth_error(400, "invalid_request", "refresh_token is required.");
    };
    let Some(r) = st.refresh.get(&rt).cloned() else {
        return invalid();
    };
    let Some(g) = st.grants.get(&r.grant_id).cloned() else {
        return invalid();
    };
    if g.revoked || g.client_id != client_id || !account_active(st, &g.account_id) {
        return invalid();
    }
    let b = &st.behaviour;
    if now - g.created_ms >= b.refresh_absolute_secs as i64 * 1000
        || now - r.last_used_ms >= b.refresh_inactivity_secs as i64 * 1000
    {
        return oauth_error(403, "invalid_grant", "Token has been expired or revoked.");
    }
    if let Some(rotated) = r.rotated_ms {
        if now - rotated <= b.refresh_reuse_leeway_secs as i64 * 1000 {
            // Reuse within the leeway: a new access token, the grant's current refresh token.
            let mut out = issue(st, &r.grant_id, false);
            if let Some(cur) = &g.current_refresh {
                out["refresh_token"] = json!(cur);
            }
            st.stats.refreshes += 1;
            return json_resp(200, &out);
        }
        // Reuse outside the leeway: treated as theft, the whole grant goes.
        revoke_grant(st, &r.grant_id);
        return invalid();
    }
    if let Some(old) = st.refresh.get_mut(&rt) {
        old.rotated_ms = Some(now);
        old.last_used_ms = now;
    }
    st.stats.refreshes += 1;
    json_resp(200, &issue(st, &r.grant_id, true))
}

/// `GET {gateway}/oauth/token/accessible-resources` with a Bearer token.
pub(crate) fn accessible_resources(shared: &Shared, st: &mut State, req: &Req) -> Resp {
    debug_assert_eq!(req.face, Face::Gateway);
    if req.method.as_str() != "GET" {
        return json_resp(405, &json!({"code": 405, "message": "Method Not Allowed"}));
    }
    let token = req
        .header("authorization")
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .map(str::trim);
    let now = st.now_ms();
    let valid = token.and_then(|t| st.tokens.get(t)).filter(|t| {
        t.kind == TokenKind::Oauth
            && !t.revoked
            && t.expires_ms.is_none_or(|e| now < e)
            && account_active(st, &t.account_id)
    });
    let Some(t) = valid else {
        return json_resp(401, &json!({"code": 401, "message": "Unauthorized"}));
    };
    // An outside account has no site to offer: her grant reaches no resource.
    if !st.is_member(&t.account_id) {
        return json_resp(200, &json!([]));
    }
    let scopes: Vec<&String> = t.scopes.iter().filter(|s| *s != "offline_access").collect();
    json_resp(
        200,
        &json!([{
            "id": st.cloud_id,
            "name": st.site_name,
            "url": shared.urls.site,
            "scopes": scopes,
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }]),
    )
}
