//! v1 content restrictions (`/content/{id}/restriction…`) and the permission check
//! (`/content/{id}/permission/check`). The simulator models the two restrictions Cloud's UI
//! sets: `read` (who may view) and `update` (who may edit); a comment follows its page's.

use serde_json::{Value, json};

use crate::content;
use crate::handler::Ctx;
use crate::http::{ApiErr, ApiResult, err, json_body, ok, v1_page};
use crate::state::{Content, Kind, State, allowed_by};
use crate::v1::{readable, user_v1};

/// Content that carries restrictions of its own.
const RESTRICTABLE: &[Kind] = &[Kind::Page, Kind::BlogPost, Kind::Folder, Kind::Database];

/// The operations the simulator models.
const OPERATIONS: &[&str] = &["read", "update"];

fn principals_json(ctx: &Ctx, st: &State, list: &[String]) -> (Vec<Value>, Vec<Value>) {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for p in list {
        match p.split_once(':') {
            Some(("user", id)) => users.push(user_v1(st, id)),
            Some(("group", name)) => {
                let id = st
                    .groups
                    .iter()
                    .find(|g| g.name == name)
                    .map_or(name, |g| g.id.as_str());
                groups.push(json!({"type": "group", "name": name, "id": id,
                    "_links": {"self": format!("{}/wiki/rest/api/group/by-id?id={id}", ctx.site())}}));
            }
            _ => {}
        }
    }
    (users, groups)
}

fn restriction_json(ctx: &Ctx, st: &State, c: &Content, op: &str) -> Value {
    let list = if op == "read" {
        &c.read_restrictions
    } else {
        &c.update_restrictions
    };
    let (users, groups) = principals_json(ctx, st, list);
    let (nu, ng) = (users.len(), groups.len());
    json!({
        "operation": op,
        "restrictions": {
            "user": {"results": users, "start": 0, "limit": 200, "size": nu},
            "group": {"results": groups, "start": 0, "limit": 200, "size": ng},
        },
        "_expandable": {"content": format!("/rest/api/content/{}", c.id)},
        "_links": {"self": format!("{}/wiki/rest/api/content/{}/restriction/byOperation/{op}", ctx.site(), c.id)},
    })
}

/// A digest of the restrictions, as `restrictionsHash` (changes whenever they do).
fn restrictions_hash(c: &Content) -> String {
    use sha2::Digest as _;
    let text = format!(
        "{}|{}",
        c.read_restrictions.join(","),
        c.update_restrictions.join(",")
    );
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}

/// The content of a restriction path, if the caller may view it (v1: 403 when a restriction
/// hides it, 404 when it does not exist for them).
fn viewable<'s>(ctx: &mut Ctx, st: &'s State, id: &str) -> Result<&'s Content, ApiErr> {
    let c = readable(ctx, st, id, true)?;
    if RESTRICTABLE.contains(&c.kind) {
        Ok(c)
    } else {
        err(404, format!("No restrictable content with id {id}."))
    }
}

fn all_restrictions(ctx: &Ctx, st: &State, c: &Content) -> ApiResult {
    let items = OPERATIONS
        .iter()
        .map(|op| restriction_json(ctx, st, c, op))
        .collect();
    v1_page(
        ctx.req,
        ctx.site(),
        items,
        json!({"restrictionsHash": restrictions_hash(c)}),
    )
}

/// `GET /content/{id}/restriction`.
pub(crate) fn get_restrictions(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = viewable(ctx, st, &id)?;
    all_restrictions(ctx, st, c)
}

/// `GET /content/{id}/restriction/byOperation`: `{read: …, update: …}`.
pub(crate) fn restrictions_by_operation(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = viewable(ctx, st, &id)?;
    let mut out = json!({"_links": {"base": format!("{}/wiki", ctx.site()), "context": "/wiki"}});
    for op in OPERATIONS {
        out[*op] = restriction_json(ctx, st, c, op);
    }
    Ok(ok(out))
}

/// `GET /content/{id}/restriction/byOperation/{operationKey}`.
pub(crate) fn restrictions_for_operation(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let op = ctx.p("operationKey").to_string();
    let c = viewable(ctx, st, &id)?;
    if !OPERATIONS.contains(&op.as_str()) {
        return err(
            400,
            format!("Unsupported operation {op:?}: read or update."),
        );
    }
    Ok(ok(restriction_json(ctx, st, c, &op)))
}

/// `(operation, principals)` of an update body: an array of `{operation, restrictions: {user:
/// [{accountId}], group: [{id | name}]}}`, or `{results: [...]}`.
fn parse_update(st: &State, body: &Value) -> Result<Vec<(String, Vec<String>)>, ApiErr> {
    let items = match body {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a,
            _ => {
                return err(
                    400,
                    "Send an array of restrictions (or {\"results\": [...]}).",
                );
            }
        },
        _ => return err(400, "Send an array of restrictions."),
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for it in items {
        let op = it.get("operation").and_then(Value::as_str).unwrap_or("");
        if !OPERATIONS.contains(&op) {
            return err(
                400,
                format!("Unsupported restriction operation {op:?}: read or update."),
            );
        }
        let r = it.get("restrictions");
        let mut principals = Vec::new();
        for u in r
            .and_then(|r| r.get("user"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = u.get("accountId").and_then(Value::as_str).unwrap_or("");
            if st.user(id).is_none() {
                return err(400, format!("No user with accountId {id:?}."));
            }
            principals.push(format!("user:{id}"));
        }
        for g in r
            .and_then(|r| r.get("group"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let by_id = g.get("id").and_then(Value::as_str);
            let by_name = g.get("name").and_then(Value::as_str);
            let Some(group) = st
                .groups
                .iter()
                .find(|x| by_id.is_some_and(|i| x.id == i) || by_name.is_some_and(|n| x.name == n))
            else {
                return err(400, "A restriction names a group the site does not have.");
            };
            principals.push(format!("group:{}", group.name));
        }
        match out.iter_mut().find(|(o, _)| o == op) {
            Some((_, list)) => list.extend(principals),
            None => out.push((op.to_string(), principals)),
        }
    }
    Ok(out)
}

/// How a write changes the restrictions.
#[derive(Clone, Copy, PartialEq)]
enum Change {
    /// `PUT`: the body's operations are replaced (the others cleared).
    Replace,
    /// `POST`: the body's principals are added.
    Add,
}

fn write_restrictions(ctx: &mut Ctx, st: &mut State, change: Change) -> ApiResult {
    let id = ctx.p("id").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, RESTRICTABLE, "write")?;
    let body: Value = serde_json::from_slice(&ctx.req.body)
        .map_err(|e| ApiErr::Status(400, format!("The request body is not valid JSON: {e}")))?;
    let updates = parse_update(st, &body)?;
    let Some(c) = st.content.get_mut(&id) else {
        return err(
            404,
            format!("No content found with id: ContentId{{id={id}}}"),
        );
    };
    if change == Change::Replace {
        c.read_restrictions.clear();
        c.update_restrictions.clear();
    }
    for (op, principals) in updates {
        let list = if op == "read" {
            &mut c.read_restrictions
        } else {
            &mut c.update_restrictions
        };
        for p in principals {
            if !list.contains(&p) {
                list.push(p);
            }
        }
    }
    let c = c.clone();
    all_restrictions(ctx, st, &c)
}

/// `PUT /content/{id}/restriction`: replaces every restriction with the body's.
pub(crate) fn update_restrictions(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    write_restrictions(ctx, st, Change::Replace)
}

/// `POST /content/{id}/restriction`: adds the body's principals.
pub(crate) fn add_restrictions(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    write_restrictions(ctx, st, Change::Add)
}

/// `DELETE /content/{id}/restriction`: removes every restriction.
pub(crate) fn delete_restrictions(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, RESTRICTABLE, "write")?;
    let Some(c) = st.content.get_mut(&id) else {
        return err(
            404,
            format!("No content found with id: ContentId{{id={id}}}"),
        );
    };
    c.read_restrictions.clear();
    c.update_restrictions.clear();
    let c = c.clone();
    all_restrictions(ctx, st, &c)
}

/// `POST /content/{id}/permission/check`: whether a user (account id or `anonymous`) or a
/// group (by id) may `read`, `update` or `delete` the content: space permission, then the
/// read restriction, then (to change it) the update restriction.
pub(crate) fn check_permission(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let body = json_body(ctx.req)?;
    let c = readable(ctx, st, &id, true)?;
    let subject = body.get("subject");
    let kind = subject
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let ident = subject
        .and_then(|s| s.get("identifier"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let principals = match kind {
        "user" if ident == "anonymous" => st.principals(None),
        "user" => match st.user(ident) {
            Some(_) => st.principals(Some(ident)),
            None => return err(400, format!("No user with accountId {ident:?}.")),
        },
        "group" => match st.groups.iter().find(|g| g.id == ident) {
            Some(g) => vec![format!("group:{}", g.name)],
            None => return err(400, format!("No group with id {ident:?}.")),
        },
        _ => {
            return err(
                400,
                "subject.type must be user or group, with subject.identifier.",
            );
        }
    };
    let op = body.get("operation").and_then(Value::as_str).unwrap_or("");
    let space_op = match op {
        "read" => "read",
        "update" => "write",
        "delete" => "delete",
        _ => {
            return err(
                400,
                format!("Invalid operation {op:?}: read, update or delete."),
            );
        }
    };
    let page = c
        .page_id
        .as_deref()
        .and_then(|p| st.content.get(p))
        .unwrap_or(c);
    let mut errors = Vec::new();
    let space = st.space(&c.space_id);
    if !space.is_some_and(|s| {
        s.perms
            .iter()
            .any(|p| principals.contains(&p.principal) && p.ops.contains(space_op))
    }) {
        errors.push(format!("The subject has no {op} permission in the space."));
    }
    if !allowed_by(&page.read_restrictions, &principals) {
        errors.push("A read restriction on the content leaves the subject out.".to_string());
    }
    if op != "read" && !allowed_by(&page.update_restrictions, &principals) {
        errors.push("An edit restriction on the content leaves the subject out.".to_string());
    }
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|m| json!({"translation": m, "args": []}))
        .collect();
    Ok(ok(
        json!({"hasPermission": errors.is_empty(), "errors": errors}),
    ))
}
