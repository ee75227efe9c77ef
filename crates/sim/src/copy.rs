//! v1 page copies: one page (`POST /content/{id}/copy`), a page with its descendants
//! (`POST /content/{id}/pagehierarchy/copy`, a long-running task), and the task's status
//! (`GET /longtask/{id}`).

use serde_json::{Value, json};

use crate::content::{self, CopyTo, CopyWhat, Revision};
use crate::handler::Ctx;
use crate::http::{ApiErr, ApiResult, err, json_body, json_resp, ok};
use crate::state::{Kind, LongTask, State};
use crate::v1::{content_v1, readable};

fn flag(body: &Value, name: &str, default: bool) -> bool {
    body.get(name).and_then(Value::as_bool).unwrap_or(default)
}

fn what(body: &Value) -> CopyWhat {
    CopyWhat {
        attachments: flag(body, "copyAttachments", false),
        labels: flag(body, "copyLabels", false),
        properties: flag(body, "copyProperties", false),
        permissions: flag(body, "copyPermissions", false),
    }
}

/// A current page the caller can see, in a space where they may add pages.
fn destination_page(ctx: &Ctx, st: &State, id: &str) -> Result<(String, String), ApiErr> {
    let Some(p) = st
        .visible(ctx.user(), id)
        .filter(|p| p.kind == Kind::Page && p.status == "current")
    else {
        return err(
            404,
            format!("The destination page {id} was not found or you cannot view it."),
        );
    };
    writable(ctx, st, &p.space_id)?;
    Ok((p.id.clone(), p.space_id.clone()))
}

fn writable(ctx: &Ctx, st: &State, space_id: &str) -> Result<(), ApiErr> {
    if st.can(ctx.user(), space_id, "write") {
        Ok(())
    } else {
        err(
            403,
            "You do not have permission to add pages in the destination space.",
        )
    }
}

fn title_free(st: &State, space_id: &str, title: &str, except: Option<&str>) -> Result<(), ApiErr> {
    if content::title_taken(st, space_id, title, except) {
        err(
            400,
            format!("A page with this title already exists in the destination space: {title}"),
        )
    } else {
        Ok(())
    }
}

/// `POST /content/{id}/copy`: to the top of a space (`space`, by key), under a page
/// (`parent_page`), or over an existing page (`existing_page`: its next version).
pub(crate) fn copy_page(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let src = readable(ctx, st, &id, false)?;
    if src.kind != Kind::Page {
        return err(400, "Only pages can be copied.");
    }
    let src_title = src.title().to_string();
    let body = json_body(ctx.req)?;
    let dest = body.get("destination");
    let kind = dest
        .and_then(|d| d.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let value = dest
        .and_then(|d| d.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let title = body
        .get("pageTitle")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map_or(src_title, String::from);
    let new_body = match body.get("body") {
        Some(b) => b
            .get("storage")
            .or_else(|| b.get("editor2"))
            .and_then(|x| x.get("value"))
            .and_then(Value::as_str)
            .map(String::from),
        None => None,
    };
    let what = what(&body);
    let c = match kind {
        "space" => {
            let Some(space_id) = st
                .space_by_key(&value)
                .filter(|s| st.can(ctx.user(), &s.id, "read"))
                .map(|s| s.id.clone())
            else {
                return err(404, format!("No space with key : {value}"));
            };
            writable(ctx, st, &space_id)?;
            title_free(st, &space_id, &title, None)?;
            let to = CopyTo {
                space_id,
                parent_id: None,
                title,
                body: new_body,
            };
            content::copy_page(&ctx.actor, st, &id, to, what)?
        }
        "parent_page" => {
            let (parent, space_id) = destination_page(ctx, st, &value)?;
            title_free(st, &space_id, &title, None)?;
            let to = CopyTo {
                space_id,
                parent_id: Some(parent),
                title,
                body: new_body,
            };
            content::copy_page(&ctx.actor, st, &id, to, what)?
        }
        "existing_page" => {
            let target = content::lookup_for(&mut ctx.actor, st, &value, &[Kind::Page], "write")?;
            let space_id = target.space_id.clone();
            title_free(st, &space_id, &title, Some(&value))?;
            let src_body = st
                .content
                .get(&id)
                .map(|c| c.current().body.clone())
                .unwrap_or_default();
            let src = st.content.get(&id).cloned();
            let c = content::revise(
                &ctx.actor,
                st,
                &value,
                Revision {
                    title,
                    body: new_body.unwrap_or(src_body),
                    message: String::new(),
                    minor_edit: false,
                    status: None,
                    parent_id: None,
                },
            )?;
            if let Some(src) = src {
                content::copy_extras(&ctx.actor, st, &src, &value, what);
            }
            c
        }
        _ => {
            return err(
                400,
                "destination.type must be space, parent_page or existing_page, with destination.value.",
            );
        }
    };
    let ex = ["space".to_string(), "history".into(), "version".into()];
    Ok(ok(content_v1(ctx, st, &c, &ex)))
}

/// `POST /content/{id}/pagehierarchy/copy`: the page (and, unless `copyDescendants` is false,
/// its current descendant pages) under `destinationPageId`, titles rewritten by
/// `titleOptions` (`search` → `replace`, then `prefix`). Every new title must be free in the
/// destination space (else 400, nothing copied). Answers 202 with the task to follow.
pub(crate) fn copy_hierarchy(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let src = readable(ctx, st, &id, false)?;
    if src.kind != Kind::Page {
        return err(400, "Only pages can be copied.");
    }
    let body = json_body(ctx.req)?;
    let dest = crate::http::id_field(&body, "destinationPageId")?.ok_or(ApiErr::Status(
        400,
        "The field 'destinationPageId' is required.".into(),
    ))?;
    let (dest, space_id) = destination_page(ctx, st, &dest)?;
    let descendants = flag(&body, "copyDescendants", true);
    // The pages to copy, parents before children.
    let mut order = vec![id.clone()];
    let mut i = 0;
    while descendants && i < order.len() {
        let kids: Vec<String> = st
            .children(&order[i])
            .into_iter()
            .filter(|c| c.kind == Kind::Page && c.status == "current")
            .filter(|c| st.visible(ctx.user(), &c.id).is_some())
            .map(|c| c.id.clone())
            .collect();
        order.extend(kids);
        i += 1;
    }
    if order.contains(&dest) {
        return err(400, "A page hierarchy cannot be copied into itself.");
    }
    let opts = body.get("titleOptions");
    let opt = |k: &str| {
        opts.and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (prefix, search, replace) = (opt("prefix"), opt("search"), opt("replace"));
    let retitle = |t: &str| {
        let t = if search.is_empty() {
            t.to_string()
        } else {
            t.replace(&search, &replace)
        };
        format!("{prefix}{t}")
    };
    let mut titles = Vec::new();
    for pid in &order {
        let t = retitle(st.content.get(pid).map(|c| c.title()).unwrap_or_default());
        title_free(st, &space_id, &t, None)?;
        if titles.contains(&t) {
            return err(400, format!("Two copied pages would be titled {t:?}."));
        }
        titles.push(t);
    }
    let what = what(&body);
    let mut copies: Vec<(String, String)> = Vec::new();
    for (pid, title) in order.iter().zip(titles) {
        let parent = st
            .content
            .get(pid)
            .and_then(|c| c.parent_id.clone())
            .and_then(|p| {
                copies
                    .iter()
                    .find(|(old, _)| *old == p)
                    .map(|(_, new)| new.clone())
            })
            .unwrap_or_else(|| dest.clone());
        let to = CopyTo {
            space_id: space_id.clone(),
            parent_id: Some(parent),
            title,
            body: None,
        };
        let c = content::copy_page(&ctx.actor, st, pid, to, what)?;
        copies.push((pid.clone(), c.id));
    }
    let task = LongTask {
        id: st.new_id(),
        name: "confluence.copy.page.hierarchy".into(),
        account_id: ctx.user().unwrap_or_default().to_string(),
        created_ms: st.now_ms(),
        reads_left: st.behaviour.long_task_reads_before_done,
        result_id: copies.first().map(|(_, n)| n.clone()),
        count: copies.len(),
    };
    let tid = task.id.clone();
    st.tasks.insert(tid.clone(), task);
    Ok(json_resp(
        202,
        &json!({"id": tid, "ari": format!("ari:cloud:confluence::task/{tid}"),
            "links": {"status": format!("/rest/api/longtask/{tid}")}}),
    ))
}

/// `GET /longtask/{id}`: the caller's own task; running until its reads are used up.
pub(crate) fn get_task(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let me = ctx.user().unwrap_or_default().to_string();
    ctx.checkpoint()?;
    let now = st.now_ms();
    let Some(t) = st.tasks.get_mut(&id).filter(|t| t.account_id == me) else {
        return err(404, format!("No long-running task with id {id}."));
    };
    let finished = t.reads_left == 0;
    t.reads_left = t.reads_left.saturating_sub(1);
    let t = t.clone();
    let mut j = json!({
        "ari": format!("ari:cloud:confluence::task/{}", t.id),
        "id": t.id,
        "name": {"key": t.name, "args": []},
        "elapsedTime": (now - t.created_ms).max(0),
        "percentageComplete": if finished { 100 } else { 50 },
        "successful": true,
        "finished": finished,
        "messages": [{"translation": if finished { "Copy complete." } else { "Copying pages." }, "args": []}],
        "status": if finished { "COMPLETED" } else { "RUNNING" },
        "_links": {"self": format!("{}/wiki/rest/api/longtask/{}", ctx.site(), t.id),
            "base": format!("{}/wiki", ctx.site()), "context": "/wiki"},
    });
    if finished && let Some(root) = &t.result_id {
        let url = st
            .content
            .get(root)
            .map(|c| crate::links::webui(st, c))
            .unwrap_or_default();
        j["additionalDetails"] = json!({"destinationId": root, "destinationUrl": url,
            "totalPageNeedToCopy": t.count});
    }
    Ok(ok(j))
}
