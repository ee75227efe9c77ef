//! The admin API: JSON, no authentication, on its own listener. Everything a test needs to set
//! up a scenario without restarting (see docs/simulator.md).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::{Behaviour, Faults, RateLimit};
use crate::http::{Req, Resp, json_resp};
use crate::scopes::best_match;
use crate::state::Shared;
use crate::state::{Client, Perm, State, Token, TokenKind, User, iso};

/// An admin error: status and message, rendered as `{"error": message}`.
struct AdminErr(u16, String);

fn bad(msg: impl Into<String>) -> AdminErr {
    AdminErr(400, msg.into())
}

fn body<T: DeserializeOwned>(req: &Req) -> Result<T, AdminErr> {
    let raw: &[u8] = if req.body.is_empty() {
        b"{}"
    } else {
        &req.body
    };
    serde_json::from_slice(raw).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

/// Partial update: the given keys over the current value.
fn merge<T: serde::Serialize + DeserializeOwned>(current: &T, req: &Req) -> Result<T, AdminErr> {
    let patch: Value = body(req)?;
    let Value::Object(patch) = patch else {
        return Err(bad("send a JSON object"));
    };
    let mut cur = serde_json::to_value(current).map_err(|e| bad(e.to_string()))?;
    if let Value::Object(obj) = &mut cur {
        for (k, v) in patch {
            if !obj.contains_key(&k) {
                return Err(bad(format!("unknown field {k:?}")));
            }
            obj.insert(k, v);
        }
    }
    serde_json::from_value(cur).map_err(|e| bad(format!("invalid value: {e}")))
}

pub(crate) fn handle(shared: &Shared, req: &Req) -> Resp {
    const ROUTES: &[(&str, &str)] = &[
        ("GET", "/info"),
        ("GET", "/stats"),
        ("POST", "/stats/reset"),
        ("POST", "/tokens"),
        ("POST", "/tokens/revoke"),
        ("POST", "/users"),
        ("POST", "/accounts"),
        ("POST", "/accounts/{account}/disable"),
        ("POST", "/accounts/{account}/enable"),
        ("POST", "/accounts/{account}/revoke-grants"),
        ("POST", "/oauth-clients"),
        ("POST", "/spaces/{key}/permissions"),
        ("GET", "/behaviour"),
        ("PUT", "/behaviour"),
        ("GET", "/faults"),
        ("PUT", "/faults"),
        ("GET", "/rate-limit"),
        ("PUT", "/rate-limit"),
        ("GET", "/clock"),
        ("POST", "/clock/advance"),
    ];
    let method = req.method.as_str();
    let Some((template, params)) = best_match(
        ROUTES.iter().filter(|r| r.0 == method).map(|r| (r.1, r.1)),
        &req.path,
    ) else {
        return json_resp(
            404,
            &json!({"error": format!("No admin route for {method} {}.", req.path)}),
        );
    };
    if template == "/info" {
        return json_resp(
            200,
            &serde_json::to_value(shared.info()).unwrap_or_default(),
        );
    }
    let mut st = shared.lock();
    let st = &mut *st;
    let param = params.first().map(|p| p.1.as_str()).unwrap_or("");
    let result = match (method, template) {
        ("GET", "/stats") => Ok(json!(st.stats)),
        ("POST", "/stats/reset") => {
            st.stats = Default::default();
            Ok(json!(st.stats))
        }
        ("POST", "/tokens") => create_token(st, req),
        ("POST", "/tokens/revoke") => revoke(st, req),
        ("POST", "/users") => upsert_user(st, req),
        ("POST", "/accounts") => upsert_outsider(st, req),
        ("POST", "/accounts/{account}/disable") => set_disabled(st, param, true),
        ("POST", "/accounts/{account}/enable") => set_disabled(st, param, false),
        ("POST", "/accounts/{account}/revoke-grants") => revoke_grants(st, param),
        ("POST", "/oauth-clients") => create_client(st, req),
        ("POST", "/spaces/{key}/permissions") => set_permission(st, req, param),
        ("GET", "/behaviour") => Ok(json!(st.behaviour)),
        ("PUT", "/behaviour") => merge::<Behaviour>(&st.behaviour, req).map(|b| {
            st.behaviour = b;
            json!(st.behaviour)
        }),
        ("GET", "/faults") => Ok(json!(st.faults)),
        ("PUT", "/faults") => merge::<Faults>(&st.faults, req).and_then(|f| {
            if !(0.0..=1.0).contains(&f.error_rate) || !(0.0..=1.0).contains(&f.drop_rate) {
                return Err(bad(
                    "error_rate and drop_rate are probabilities from 0 to 1",
                ));
            }
            st.faults = f;
            Ok(json!(st.faults))
        }),
        ("GET", "/rate-limit") => Ok(json!(st.rate)),
        ("PUT", "/rate-limit") => merge::<RateLimit>(&st.rate, req).map(|r| {
            st.rate = r;
            st.windows.clear();
            json!(st.rate)
        }),
        ("GET", "/clock") => Ok(clock(st)),
        ("POST", "/clock/advance") => advance(st, req),
        _ => Err(AdminErr(404, "no such admin route".into())),
    };
    match result {
        Ok(v) => json_resp(200, &v),
        Err(AdminErr(status, message)) => json_resp(status, &json!({"error": message})),
    }
}

fn clock(st: &State) -> Value {
    json!({"now": iso(st.now_ms()), "now_ms": st.now_ms(), "offset_secs": st.clock_offset_ms / 1000})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

fn advance(st: &mut State, req: &Req) -> Result<Value, AdminErr> {
    let a: Advance = body(req)?;
    if a.seconds < 0 {
        return Err(bad(
            "seconds must not be negative: the clock only moves forward",
        ));
    }
    st.clock_offset_ms += a.seconds * 1000;
    Ok(clock(st))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    kind: String,
    email: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    client_id: Option<String>,
}

fn create_token(st: &mut State, req: &Req) -> Result<Value, AdminErr> {
    let t: NewToken = body(req)?;
    let Some(user) = st.account_by_email(&t.email).map(|u| u.account_id.clone()) else {
        return Err(bad(format!(
            "no account with email {:?}; create it with POST /users (a user of the site) or \
             POST /accounts (an outside account)",
            t.email
        )));
    };
    let now = st.now_ms();
    let expires = t.expires_in.map(|s| now + s as i64 * 1000);
    match t.kind.as_str() {
        "classic" | "scoped" => {
            let kind = if t.kind == "classic" {
                TokenKind::Classic
            } else {
                TokenKind::Scoped
            };
            if kind == TokenKind::Classic && !t.scopes.is_empty() {
                return Err(bad("classic tokens have no scopes; use kind \"scoped\""));
            }
            let token = st.secret(&format!("cfxsim-{}-", t.kind), 32);
            st.tokens.insert(
                token.clone(),
                Token {
                    kind,
                    account_id: user,
                    scopes: t.scopes.into_iter().collect(),
                    expires_ms: expires,
                    grant_id: None,
                    revoked: false,
                },
            );
            Ok(json!({"token": token}))
        }
        "oauth" => {
            let client = t.client_id.unwrap_or_else(|| st.demo.client_id.clone());
            if !st.clients.contains_key(&client) {
                return Err(bad(format!("unknown client_id {client:?}")));
            }
            let grant = crate::identity::new_grant(st, &client, &user, t.scopes);
            let mut out = crate::identity::issue(st, &grant, true);
            if let Some(exp) = expires {
                let access = out["access_token"].as_str().unwrap_or_default().to_string();
                if let Some(tok) = st.tokens.get_mut(&access) {
                    tok.expires_ms = Some(exp);
                }
                out["expires_in"] = json!(t.expires_in);
            }
            out["token"] = out["access_token"].clone();
            Ok(out)
        }
        other => Err(bad(format!(
            "kind {other:?} is not classic, scoped or oauth"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    token: String,
}

fn revoke(st: &mut State, req: &Req) -> Result<Value, AdminErr> {
    let r: Revoke = body(req)?;
    if let Some(t) = st.tokens.get_mut(&r.token) {
        t.revoked = true;
        return Ok(json!({"revoked": "access_token"}));
    }
    if let Some(grant) = st.refresh.get(&r.token).map(|x| x.grant_id.clone()) {
        crate::identity::revoke_grant(st, &grant);
        return Ok(json!({"revoked": "grant"}));
    }
    Err(AdminErr(404, "no such token".into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    #[serde(default)]
    account_id: Option<String>,
    email: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    guest: bool,
    #[serde(default)]
    site_admin: bool,
    #[serde(default)]
    disabled: bool,
}

/// Creates a user, or updates the one with this account id (or email). An outside account so
/// named joins the site, keeping its account id.
fn upsert_user(st: &mut State, req: &Req) -> Result<Value, AdminErr> {
    let u: NewUser = body(req)?;
    let named = |x: &User| {
        u.account_id.as_ref().is_some_and(|a| &x.account_id == a)
            || x.email.eq_ignore_ascii_case(&u.email)
    };
    let existing = st.users.iter().position(named);
    let joining = match existing {
        None => st.outsiders.iter().position(named),
        Some(_) => None,
    };
    let same_email = |x: &User| x.email.eq_ignore_ascii_case(&u.email);
    if st
        .users
        .iter()
        .enumerate()
        .any(|(i, x)| Some(i) != existing && same_email(x))
        || st
            .outsiders
            .iter()
            .enumerate()
            .any(|(i, x)| Some(i) != joining && same_email(x))
    {
        return Err(bad(format!(
            "email {:?} belongs to another account",
            u.email
        )));
    }
    let account_id = match (&u.account_id, existing, joining) {
        (Some(a), _, _) => a.clone(),
        (None, Some(i), _) => st.users[i].account_id.clone(),
        (None, None, Some(j)) => st.outsiders[j].account_id.clone(),
        (None, None, None) => format!(
            "557058:{}",
            uuid::Builder::from_random_bytes(rand::Rng::random(&mut st.rng)).into_uuid()
        ),
    };
    let display_name = u
        .display_name
        .or_else(|| joining.map(|j| st.outsiders[j].display_name.clone()));
    if let Some(j) = joining {
        st.outsiders.remove(j);
    }
    for g in &u.groups {
        if !st.groups.iter().any(|x| &x.name == g) {
            let id = st.new_id();
            st.groups.push(crate::state::Group {
                id,
                name: g.clone(),
            });
        }
    }
    let user = User {
        account_id: account_id.clone(),
        email: u.email,
        display_name: display_name.unwrap_or_else(|| account_id.clone()),
        groups: u.groups,
        guest: u.guest,
        site_admin: u.site_admin,
        disabled: u.disabled,
    };
    let out = json!({"account_id": user.account_id, "email": user.email, "display_name": user.display_name,
        "groups": user.groups, "guest": user.guest, "site_admin": user.site_admin, "disabled": user.disabled});
    match existing {
        Some(i) => st.users[i] = user,
        None => st.users.push(user),
    }
    Ok(out)
}

fn account_json(st: &State, u: &User) -> Value {
    json!({"account_id": u.account_id, "email": u.email, "display_name": u.display_name,
        "member": st.is_member(&u.account_id), "disabled": u.disabled})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOutsider {
    #[serde(default)]
    account_id: Option<String>,
    email: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    disabled: bool,
}

/// Creates an outside account (an Atlassian account that is no user of the site), or updates
/// the outside account with this account id (or email).
fn upsert_outsider(st: &mut State, req: &Req) -> Result<Value, AdminErr> {
    let a: NewOutsider = body(req)?;
    let clash = st.users.iter().any(|x| {
        a.account_id.as_ref().is_some_and(|id| &x.account_id == id)
            || x.email.eq_ignore_ascii_case(&a.email)
    });
    if clash {
        return Err(bad(
            "this account is a user of the site; change it with POST /users",
        ));
    }
    let existing = st.outsiders.iter().position(|x| {
        a.account_id.as_ref().is_some_and(|id| &x.account_id == id)
            || x.email.eq_ignore_ascii_case(&a.email)
    });
    if st
        .outsiders
        .iter()
        .enumerate()
        .any(|(i, x)| Some(i) != existing && x.email.eq_ignore_ascii_case(&a.email))
    {
        return Err(bad(format!(
            "email {:?} belongs to another account",
            a.email
        )));
    }
    let account_id = match (&a.account_id, existing) {
        (Some(id), _) => id.clone(),
        (None, Some(i)) => st.outsiders[i].account_id.clone(),
        (None, None) => format!(
            "557058:{}",
            uuid::Builder::from_random_bytes(rand::Rng::random(&mut st.rng)).into_uuid()
        ),
    };
    let account = User {
        display_name: a.display_name.unwrap_or_else(|| account_id.clone()),
        account_id,
        email: a.email,
        groups: vec![],
        guest: false,
        site_admin: false,
        disabled: a.disabled,
    };
    let out = account_json(st, &account);
    match existing {
        Some(i) => st.outsiders[i] = account,
        None => st.outsiders.push(account),
    }
    Ok(out)
}

/// Deactivates (or reactivates) any account, user of the site or outsider: a deactivated
/// account cannot sign in, and every credential of it is refused.
fn set_disabled(st: &mut State, login: &str, disabled: bool) -> Result<Value, AdminErr> {
    let id = st
        .account_by_login(login)
        .map(|u| u.account_id.clone())
        .ok_or_else(|| AdminErr(404, format!("no account {login:?}")))?;
    if let Some(u) = st.account_mut(&id) {
        u.disabled = disabled;
    }
    let u = st
        .account(&id)
        .ok_or_else(|| AdminErr(404, format!("no account {login:?}")))?;
    Ok(account_json(st, u))
}

/// Revokes every OAuth grant of one account (all apps): its refresh and access tokens stop
/// working. API tokens are no grants and stay.
fn revoke_grants(st: &mut State, login: &str) -> Result<Value, AdminErr> {
    let id = st
        .account_by_login(login)
        .map(|u| u.account_id.clone())
        .ok_or_else(|| AdminErr(404, format!("no account {login:?}")))?;
    let n = crate::identity::revoke_account_grants(st, &id);
    Ok(json!({"account_id": id, "revoked_grants": n}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    name: String,
}

fn create_client(st: &mut State, req: &Req) -> Result<Value, AdminErr> {
    let c: NewClient = body(req)?;
    for u in &c.redirect_uris {
        if url::Url::parse(u).is_err() {
            return Err(bad(format!("redirect_uri {u:?} is not an absolute URL")));
        }
    }
    let client_id = c.client_id.unwrap_or_else(|| st.secret("", 32));
    let secret = c.client_secret.unwrap_or_else(|| st.secret("", 64));
    st.clients.insert(
        client_id.clone(),
        Client {
            client_id: client_id.clone(),
            client_secret: secret.clone(),
            redirect_uris: c.redirect_uris.clone(),
            name: c.name,
        },
    );
    Ok(json!({"client_id": client_id, "client_secret": secret, "redirect_uris": c.redirect_uris}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPermission {
    principal: String,
    operations: Vec<String>,
}

/// Sets (replaces) one principal's operations in a space; an empty list removes the principal.
fn set_permission(st: &mut State, req: &Req, key: &str) -> Result<Value, AdminErr> {
    let p: SetPermission = body(req)?;
    for op in &p.operations {
        if !matches!(
            op.as_str(),
            "read" | "write" | "delete" | "comment" | "attach" | "admin"
        ) {
            return Err(bad(format!("unknown operation {op:?}")));
        }
    }
    let principal_ok = p.principal == "anonymous"
        || p.principal
            .strip_prefix("user:")
            .is_some_and(|a| st.user(a).is_some())
        || p.principal
            .strip_prefix("group:")
            .is_some_and(|g| st.groups.iter().any(|x| x.name == g));
    if !principal_ok {
        return Err(bad(format!(
            "principal {:?} is not user:<account id>, group:<name> or anonymous",
            p.principal
        )));
    }
    let id = st.new_id();
    let Some(space) = st.spaces.iter_mut().find(|s| s.key == key) else {
        return Err(AdminErr(404, format!("no space with key {key:?}")));
    };
    space.perms.retain(|x| x.principal != p.principal);
    if !p.operations.is_empty() {
        space.perms.push(Perm {
            id,
            principal: p.principal.clone(),
            ops: p.operations.iter().cloned().collect(),
        });
    }
    let perms: Vec<Value> = space
        .perms
        .iter()
        .map(|x| json!({"principal": x.principal, "operations": x.ops}))
        .collect();
    Ok(json!({"space": key, "permissions": perms}))
}
