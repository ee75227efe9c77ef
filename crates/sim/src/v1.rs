//! v1 (`/wiki/rest/api/...`) handlers, the download servlet and the binary target of the v1
//! download operation.
//!
//! A handler reads its request shape, calls the content service (`content`) and writes the
//! answer in its own shape; the rules live in the service.

use serde_json::{Value, json};

use crate::content::{self, NewContent, Revision, Upload};
use crate::handler::Ctx;
use crate::http::{
    ApiErr, ApiResult, bytes_resp, empty, err, json_body, not_found, ok, redirect, set_header,
    v1_page,
};
use crate::links::{SEGMENT, download_link, webui};
use crate::render;
use crate::state::{Attachment, Content, Kind, Property, State, Version, View, id_order, iso};

// ---------- JSON shapes ----------

pub(crate) fn user_v1(st: &State, account_id: &str) -> Value {
    match st.user(account_id) {
        Some(u) => json!({
            "type": "known",
            "accountId": u.account_id,
            "accountType": "atlassian",
            "email": u.email,
            "publicName": u.display_name,
            "displayName": u.display_name,
            "isExternalCollaborator": u.guest,
            "profilePicture": {"path": "/wiki/aa-avatar/default.png", "width": 48, "height": 48, "isDefault": true},
            "_links": {"self": format!("/wiki/rest/api/user?accountId={}", u.account_id)},
        }),
        None => json!({"type": "anonymous", "displayName": "Anonymous", "publicName": "Anonymous"}),
    }
}

fn space_v1(st: &State, space_id: &str) -> Value {
    let Some(s) = st.space(space_id) else {
        return json!({});
    };
    let id: Value =
        s.id.parse::<i64>()
            .map_or_else(|_| json!(s.id), |n| json!(n));
    json!({
        "id": id,
        "key": s.key,
        "name": s.name,
        "type": s.space_type,
        "status": s.status,
        "_links": {"webui": format!("/spaces/{}", s.key), "self": format!("/wiki/rest/api/space/{}", s.key)},
        "_expandable": {
            "description": "",
            "homepage": s.homepage_id.as_ref().map(|h| format!("/rest/api/content/{h}")).unwrap_or_default(),
        },
    })
}

fn version_v1(st: &State, v: &Version) -> Value {
    json!({
        "by": user_v1(st, &v.author),
        "when": iso(v.created_ms),
        "number": v.number,
        "message": v.message,
        "minorEdit": v.minor_edit,
    })
}

/// How many children of each kind a `children.*` expansion lists.
const CHILDREN_LIMIT: usize = 25;

/// v1 `Content`. `expand` adds `body.storage`, `body.view`, `ancestors`, `metadata.labels`.
pub(crate) fn content_v1(ctx: &Ctx, st: &State, c: &Content, expand: &[String]) -> Value {
    let v = c.current();
    let wants = |k: &str| {
        expand
            .iter()
            .any(|e| e == k || e.starts_with(&format!("{k}.")))
    };
    let mut j = json!({
        "id": c.id,
        "type": c.kind.type_name(),
        "status": c.status,
        "title": if c.kind == Kind::FooterComment || c.kind == Kind::InlineComment {
            format!("Re: {}", c.page_id.as_ref().and_then(|p| st.content.get(p)).map(|p| p.title().to_string()).unwrap_or_default())
        } else { v.title.clone() },
        "space": space_v1(st, &c.space_id),
        "history": {
            "latest": c.status != "historical",
            "createdBy": user_v1(st, &c.author),
            "createdDate": iso(c.created_ms),
        },
        "version": version_v1(st, v),
        "extensions": match c.kind {
            Kind::FooterComment => json!({"location": "footer"}),
            Kind::InlineComment => json!({"location": "inline"}),
            _ => json!({"position": c.position}),
        },
        "_links": {
            "webui": webui(st, c),
            "edit": format!("/pages/resumedraft.action?draftId={}", c.id),
            "tinyui": format!("/x/{}", c.id),
            "self": format!("{}/wiki/rest/api/content/{}", ctx.site(), c.id),
        },
        "_expandable": {"children": format!("/rest/api/content/{}/child", c.id), "descendants": format!("/rest/api/content/{}/descendant", c.id)},
    });
    if wants("body") {
        let mut body = json!({});
        if wants("body.storage") || expand.iter().any(|e| e == "body") {
            body["storage"] = json!({"value": v.body, "representation": "storage"});
        }
        if wants("body.view") {
            body["view"] = json!({"value": render::view_html(&v.body), "representation": "view"});
        }
        if wants("body.atlas_doc_format") {
            body["atlas_doc_format"] =
                json!({"value": render::adf(&v.body), "representation": "atlas_doc_format"});
        }
        j["body"] = body;
    }
    if wants("ancestors") {
        // A page's ancestors are its parent pages; a comment's are the comments it replies to.
        let anc: Vec<Value> = st
            .ancestors(&c.id)
            .iter()
            .map(|a| json!({"id": a.id, "type": a.kind.type_name(), "title": a.title(), "status": a.status}))
            .collect();
        j["ancestors"] = json!(anc);
    }
    if wants("container") {
        // A page's or blog post's container is its space; a comment's, its page or blog post.
        j["container"] = match c.page_id.as_deref().and_then(|p| st.content.get(p)) {
            Some(p) => json!({
                "id": p.id,
                "type": p.kind.type_name(),
                "status": p.status,
                "title": p.title(),
                "_links": {"webui": webui(st, p), "self": format!("{}/wiki/rest/api/content/{}", ctx.site(), p.id)},
            }),
            None => space_v1(st, &c.space_id),
        };
    }
    if wants("children") {
        // `children.attachment`, `children.page`, `children.comment`: the first page of each
        // (ContentChildren); the others stay expandable.
        let mut children = json!({"_links": {"self": format!("{}/wiki/rest/api/content/{}/child", ctx.site(), c.id)}});
        let mut expandable = serde_json::Map::new();
        for kind in ["attachment", "page", "comment"] {
            if !expand.iter().any(|e| *e == format!("children.{kind}")) {
                expandable.insert(
                    kind.into(),
                    json!(format!("/rest/api/content/{}/child/{kind}", c.id)),
                );
                continue;
            }
            let results: Vec<Value> = match kind {
                "attachment" => content::attachments_of(st, &c.id, None, None)
                    .into_iter()
                    .map(|a| attachment_v1(ctx, st, a))
                    .collect(),
                "page" => st
                    .children(&c.id)
                    .into_iter()
                    .filter(|x| x.kind == Kind::Page && x.status == "current")
                    .filter(|x| st.visible(ctx.user(), &x.id).is_some())
                    .map(|x| json!({"id": x.id, "type": "page", "status": x.status, "title": x.title()}))
                    .collect(),
                // Top-level comments; replies hang below them (`depth=all` on child/comment).
                _ => content::comments_on(st, &[c.id.as_str()])
                    .into_iter()
                    .filter(|x| x.parent_id.is_none())
                    .map(|x| json!({"id": x.id, "type": "comment", "status": x.status, "title": format!("Re: {}", v.title)}))
                    .collect(),
            };
            // The first 25, as an expansion's default limit; the rest through the child path.
            let more = results.len() > CHILDREN_LIMIT;
            let results: Vec<Value> = results.into_iter().take(CHILDREN_LIMIT).collect();
            let path = format!("/rest/api/content/{}/child/{kind}", c.id);
            let mut links = json!({"self": format!("{}/wiki{path}", ctx.site())});
            if more {
                links["next"] = json!(format!(
                    "{path}?start={CHILDREN_LIMIT}&limit={CHILDREN_LIMIT}"
                ));
            }
            children[kind] = json!({
                "results": results,
                "start": 0,
                "limit": CHILDREN_LIMIT,
                "size": results.len(),
                "_links": links,
            });
        }
        children["_expandable"] = Value::Object(expandable);
        j["children"] = children;
        if let Some(m) = j["_expandable"].as_object_mut() {
            m.remove("children");
        }
    }
    if wants("metadata.labels") {
        let labels: Vec<Value> = c.labels.iter().map(|l| label_v1(st, l)).collect();
        j["metadata"] =
            json!({"labels": {"results": labels, "start": 0, "limit": 200, "size": labels.len()}});
    }
    j
}

pub(crate) fn attachment_v1(ctx: &Ctx, st: &State, a: &Attachment) -> Value {
    let page = st.content.get(&a.page_id);
    json!({
        "id": a.id,
        "type": "attachment",
        "status": a.status,
        "title": a.title,
        "metadata": {"mediaType": a.media_type, "comment": a.comment, "labels": {"results": [], "size": 0}},
        "extensions": {"mediaType": a.media_type, "fileSize": a.bytes.len(), "comment": a.comment, "fileId": a.file_id},
        "version": {"by": user_v1(st, &a.author), "when": iso(a.modified_ms), "number": a.version, "minorEdit": false},
        "container": {"id": a.page_id, "type": page.map_or("page", |p| p.kind.type_name()), "title": page.map(|p| p.title().to_string()).unwrap_or_default()},
        "space": page.map(|p| space_v1(st, &p.space_id)).unwrap_or(json!({})),
        "_links": {
            "webui": format!("/pages/viewpageattachments.action?pageId={}&preview={}", a.page_id, a.id),
            "download": download_link(a).replace("&api=v2", ""),
            "self": format!("{}/wiki/rest/api/content/{}", ctx.site(), a.id),
        },
    })
}

fn label_v1(st: &State, name: &str) -> Value {
    json!({"prefix": "global", "name": name, "id": st.label_ids.get(name).cloned().unwrap_or_default(), "label": name})
}

fn expand(ctx: &Ctx) -> Vec<String> {
    ctx.req.q_list("expand")
}

// ---------- content ----------

/// v1 content lookup: invisible → 404; visible space but restricted page → 403 (spec v1).
pub(crate) fn readable<'s>(
    ctx: &mut Ctx,
    st: &'s State,
    id: &str,
    any_status: bool,
) -> Result<&'s Content, ApiErr> {
    match st.view(ctx.user(), id) {
        View::Visible(c) if any_status || c.status == "current" => {
            ctx.checkpoint()?;
            Ok(c)
        }
        View::Restricted => err(403, "The calling user can not view the content."),
        _ => err(
            404,
            format!("No content found with id: ContentId{{id={id}}}"),
        ),
    }
}

pub(crate) fn list_content(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    let ty = ctx.req.q("type").unwrap_or("page");
    if ty != "page" && ty != "blogpost" {
        return err(400, format!("Invalid type {ty:?}: page or blogpost."));
    }
    let key = ctx.req.q("spaceKey");
    let title = ctx.req.q("title");
    let status = ctx.req.q_list("status");
    let status = if status.is_empty() {
        vec!["current".to_string()]
    } else {
        status
    };
    let ex = expand(ctx);
    let items: Vec<Value> = st
        .sorted_content()
        .into_iter()
        .filter(|c| c.kind.type_name() == ty)
        .filter(|c| status.iter().any(|s| s == "any" || *s == c.status))
        .filter(|c| key.is_none_or(|k| st.space(&c.space_id).is_some_and(|s| s.key == k)))
        .filter(|c| title.is_none_or(|t| c.title() == t))
        .filter(|c| st.visible(ctx.user(), &c.id).is_some())
        .map(|c| content_v1(ctx, st, c, &ex))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

pub(crate) fn get_content(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let statuses = ctx.req.q_list("status");
    let any = statuses
        .iter()
        .any(|s| s == "any" || s == "trashed" || s == "draft");
    let c = readable(ctx, st, &id, any)?;
    if !c.kind.is_tree_node()
        && !matches!(
            c.kind,
            Kind::BlogPost | Kind::FooterComment | Kind::InlineComment
        )
    {
        return not_found();
    }
    // `version`: that version of the content, `historical` unless it is the latest (spec v1
    // getContentById; the `status` filter does not apply to it).
    let j = match ctx.req.q("version") {
        None => content_v1(ctx, st, c, &expand(ctx)),
        Some(v) => {
            let Some(n) = v.parse::<u32>().ok().filter(|n| *n >= 1) else {
                return err(400, format!("Invalid version {v:?}: a positive integer."));
            };
            if n > c.version_number() {
                return err(
                    404,
                    format!("No content found with id: ContentId{{id={id}}} and version {n}"),
                );
            }
            let mut at = c.clone();
            at.versions.retain(|x| x.number <= n);
            if n < c.version_number() {
                at.status = "historical".into();
            }
            content_v1(ctx, st, &at, &expand(ctx))
        }
    };
    st.record_view(ctx.user(), &id);
    Ok(ok(j))
}

/// `GET /content/{id}/history`: creation, and the latest version as `lastUpdated`; `expand`
/// adds `previousVersion` and `contributors` (`nextVersion` is not used here, spec v1).
pub(crate) fn content_history(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = readable(ctx, st, &id, true)?;
    let ex = expand(ctx);
    let wants = |k: &str| ex.iter().any(|e| e == k || e.starts_with(&format!("{k}.")));
    let mut j = json!({
        "latest": true,
        "createdBy": user_v1(st, &c.author),
        "createdDate": iso(c.created_ms),
        "lastUpdated": version_v1(st, c.current()),
        "_links": {"self": format!("{}/wiki/rest/api/content/{id}/history", ctx.site())},
    });
    let mut expandable = serde_json::Map::new();
    let previous = c.versions.len().checked_sub(2).map(|i| &c.versions[i]);
    if wants("previousVersion") {
        if let Some(p) = previous {
            j["previousVersion"] = version_v1(st, p);
        }
    } else {
        expandable.insert("previousVersion".into(), json!(""));
    }
    if wants("contributors") {
        let mut ids: Vec<&str> = Vec::new();
        for v in &c.versions {
            if !ids.contains(&v.author.as_str()) {
                ids.push(&v.author);
            }
        }
        let users: Vec<Value> = ids.iter().map(|a| user_v1(st, a)).collect();
        j["contributors"] = json!({"publishers": {"users": users, "userAccountIds": ids}});
    } else {
        expandable.insert("contributors".into(), json!(""));
    }
    expandable.insert("nextVersion".into(), json!(""));
    j["_expandable"] = Value::Object(expandable);
    Ok(ok(j))
}

fn storage_of(body: &Value) -> Result<Option<String>, ApiErr> {
    let Some(b) = body.get("body").filter(|b| !b.is_null()) else {
        return Ok(None);
    };
    for rep in ["storage", "atlas_doc_format", "wiki", "editor"] {
        if let Some(x) = b.get(rep) {
            let value = x
                .get("value")
                .and_then(Value::as_str)
                .ok_or(ApiErr::Status(
                    400,
                    format!("body.{rep}.value is required."),
                ))?;
            let r = x
                .get("representation")
                .and_then(Value::as_str)
                .unwrap_or(rep);
            return render::to_storage(if r == "editor" { "storage" } else { r }, value)
                .map(Some)
                .map_err(|e| ApiErr::Status(400, e));
        }
    }
    err(
        400,
        "body must contain storage (or atlas_doc_format, wiki) with a value.",
    )
}

pub(crate) fn create_content(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let body = json_body(ctx.req)?;
    if body.get("type").and_then(Value::as_str) == Some("comment") {
        return create_comment(ctx, st, &body);
    }
    let key = body
        .get("space")
        .and_then(|s| s.get("key"))
        .and_then(Value::as_str)
        .ok_or(ApiErr::Status(
            400,
            "The field 'space.key' is required.".into(),
        ))?;
    let Some(space_id) = st.space_by_key(key).map(|s| s.id.clone()) else {
        return err(404, format!("No space with key : {key}"));
    };
    if !st.can(ctx.user(), &space_id, "read") {
        return err(404, format!("No space with key : {key}"));
    }
    if !st.can(ctx.user(), &space_id, "write") {
        return err(
            403,
            format!("You do not have permission to create content in space {key}."),
        );
    }
    ctx.checkpoint()?;
    let ty = body.get("type").and_then(Value::as_str).unwrap_or("");
    let kind = match ty {
        "page" => Kind::Page,
        "blogpost" => Kind::BlogPost,
        _ => {
            return err(
                400,
                format!(
                    "The field 'type' must be page or blogpost (got {ty:?}); the simulator does not create {ty}."
                ),
            );
        }
    };
    let title = crate::http::str_field(&body, "title")?.to_string();
    let storage = storage_of(&body)?.unwrap_or_default();
    let parent = body
        .get("ancestors")
        .and_then(Value::as_array)
        .and_then(|a| a.last())
        .and_then(|a| crate::http::id_field(a, "id").ok().flatten());
    let parent = parent.filter(|_| kind == Kind::Page);
    if let Some(p) = &parent {
        content::check_parent(&ctx.actor, st, p, &space_id)?;
    }
    let parent = match kind {
        Kind::Page => parent.or_else(|| st.space(&space_id).and_then(|s| s.homepage_id.clone())),
        _ => None,
    };
    if kind == Kind::Page && content::title_taken(st, &space_id, &title, None) {
        return err(
            400,
            "A page with this title already exists: A page already exists with the same TITLE in this space".to_string(),
        );
    }
    let c = content::create(
        &ctx.actor,
        st,
        NewContent {
            kind,
            space_id,
            status: "current".into(),
            parent_id: parent,
            page_id: None,
            title,
            body: storage,
        },
    );
    Ok(ok(content_v1(ctx, st, &c, &["body.storage".to_string()])))
}

/// `POST /content` of `type: comment`: a footer comment on the page or blog post `container`
/// names, or (`ancestors`: the parent comment's id) a reply; no space or title is needed.
fn create_comment(ctx: &mut Ctx, st: &mut State, body: &Value) -> ApiResult {
    let Some(container) = body.get("container").filter(|c| c.is_object()) else {
        return err(400, "The field 'container' is required for a comment.");
    };
    let Some(page) = crate::http::id_field(container, "id")? else {
        return err(400, "The field 'container.id' is required for a comment.");
    };
    let doc = content::lookup_for(&mut ctx.actor, st, &page, content::DOCUMENTS, "comment")?;
    if doc.status != "current" {
        return not_found();
    }
    let space_id = doc.space_id.clone();
    let parent = body
        .get("ancestors")
        .and_then(Value::as_array)
        .and_then(|a| a.last())
        .map(|a| crate::http::id_field(a, "id"))
        .transpose()?
        .flatten();
    if let Some(p) = &parent {
        let ok = st.content.get(p).is_some_and(|c| {
            c.kind == Kind::FooterComment
                && c.status == "current"
                && c.page_id.as_deref() == Some(page.as_str())
        });
        if !ok {
            return err(
                400,
                format!("The parent comment {p} is not a comment of content {page}."),
            );
        }
    }
    let storage = storage_of(body)?.unwrap_or_default();
    if storage.trim().is_empty() {
        return err(400, "A comment needs a body (body.storage.value).");
    }
    let c = content::create(
        &ctx.actor,
        st,
        NewContent {
            kind: Kind::FooterComment,
            space_id,
            status: "current".into(),
            parent_id: parent,
            page_id: Some(page),
            title: String::new(),
            body: storage,
        },
    );
    let ex = ["body.storage".to_string(), "container".to_string()];
    Ok(ok(content_v1(ctx, st, &c, &ex)))
}

pub(crate) fn update_content(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = content::lookup_for(&mut ctx.actor, st, &id, content::DOCUMENTS, "write")?;
    let (kind, current, space_id, old_status, old_body) = (
        c.kind,
        c.version_number(),
        c.space_id.clone(),
        c.status.clone(),
        c.current().body.clone(),
    );
    let body = json_body(ctx.req)?;
    let given = crate::http::version_number(&body)?;
    let title = crate::http::str_field(&body, "title")?.to_string();
    let storage = storage_of(&body)?.unwrap_or(old_body);
    if let Some(msg) = content::version_conflict(current, given) {
        return err(409, msg);
    }
    if kind == Kind::Page && content::title_taken(st, &space_id, &title, Some(&id)) {
        return err(400, "A page with this title already exists in this space.");
    }
    let message = crate::http::version_message(&body);
    let c = content::revise(
        &ctx.actor,
        st,
        &id,
        Revision {
            title,
            body: storage,
            message,
            minor_edit: false,
            // An update restores a trashed page.
            status: (old_status == "trashed").then(|| "current".to_string()),
            parent_id: None,
        },
    )?;
    Ok(ok(content_v1(ctx, st, &c, &["body.storage".to_string()])))
}

pub(crate) fn delete_content(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    const KINDS: &[Kind] = &[Kind::Page, Kind::BlogPost, Kind::Folder, Kind::Database];
    let id = ctx.p("id").to_string();
    // v1 purges with `status=trashed`; v2 reads `purge=true`.
    let purge = ctx.req.q("status") == Some("trashed");
    if st.attachments.contains_key(&id) {
        return delete_attachment(ctx, st, &id, purge);
    }
    if st
        .content
        .get(&id)
        .is_some_and(|c| matches!(c.kind, Kind::FooterComment | Kind::InlineComment))
    {
        // A comment is deleted for good, replies included (spec v1 deleteContent).
        let kind = st
            .content
            .get(&id)
            .map(|c| c.kind)
            .unwrap_or(Kind::FooterComment);
        content::lookup_for(&mut ctx.actor, st, &id, &[kind], "delete")?;
        content::remove_thread(st, &id);
        return Ok(empty(204));
    }
    let is_trashed = st.content.get(&id).is_some_and(|c| c.status == "trashed");
    if purge != is_trashed {
        content::lookup_for(&mut ctx.actor, st, &id, KINDS, "delete")?;
        if purge {
            return err(400, "Only trashed content can be purged (status=trashed).");
        }
    }
    if purge {
        content::lookup_for(&mut ctx.actor, st, &id, KINDS, "delete")?;
        content::remove(st, &id);
    } else {
        let purge = ctx.req.q_bool("purge");
        content::delete(&mut ctx.actor, st, &id, KINDS, purge)?;
    }
    Ok(empty(204))
}

/// `DELETE /content/{attachmentId}`: a current attachment goes to the trash; a trashed one is
/// purged with `status=trashed` (spec v1 deleteContent).
fn delete_attachment(ctx: &mut Ctx, st: &mut State, id: &str, purge: bool) -> ApiResult {
    let Some(a) = st.attachments.get(id).cloned() else {
        return not_found();
    };
    content::lookup_for(&mut ctx.actor, st, &a.page_id, content::DOCUMENTS, "delete")?;
    match (a.status.as_str(), purge) {
        ("current", false) => {
            if let Some(a) = st.attachments.get_mut(id) {
                a.status = "trashed".into();
            }
        }
        ("trashed", true) => {
            st.attachments.remove(id);
        }
        ("current", true) => {
            return err(400, "Only trashed content can be purged (status=trashed).");
        }
        _ => return not_found(),
    }
    Ok(empty(204))
}

/// `PUT /content/{pageId}/move/{position}/{targetId}`: before or after a sibling, or appended
/// under a parent, in any space the caller may write to; answers `{"pageId"}`.
pub(crate) fn move_page(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("pageId").to_string();
    let target = ctx.p("targetId").to_string();
    let position = ctx.p("position").to_string();
    let c = content::lookup_for(&mut ctx.actor, st, &id, &[Kind::Page], "write")?;
    if c.status != "current" {
        return err(
            404,
            format!("No content found with id: ContentId{{id={id}}}"),
        );
    }
    let Some(position) = content::MovePosition::parse(&position) else {
        return err(
            400,
            format!("Invalid position {position:?}: before, after or append."),
        );
    };
    content::move_page(&ctx.actor, st, &id, position, &target)?;
    Ok(ok(json!({ "pageId": id })))
}

pub(crate) fn children_of_type(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let ty = ctx.p("type").to_string();
    readable(ctx, st, &id, false)?;
    let ex = expand(ctx);
    let items: Vec<Value> = match ty.as_str() {
        "page" => st
            .children(&id)
            .into_iter()
            .filter(|c| c.kind == Kind::Page && c.status == "current")
            .filter(|c| st.visible(ctx.user(), &c.id).is_some())
            .map(|c| content_v1(ctx, st, c, &ex))
            .collect(),
        // Root-level comments only, whatever `depth` says (spec v1 getContentComments: depth
        // "is not used"); `location` picks footer, inline or resolved (inline) ones.
        "comment" => {
            let locations = ctx.req.q_list("location");
            content::comments_on(st, &[id.as_str()])
                .into_iter()
                .filter(|c| c.parent_id.is_none())
                .filter(|c| locations.is_empty() || locations.iter().any(|l| at_location(c, l)))
                .map(|c| content_v1(ctx, st, c, &ex))
                .collect()
        }
        "attachment" => return list_attachments(ctx, st),
        other => {
            return err(
                400,
                format!("Unsupported child type {other:?}: page, comment or attachment."),
            );
        }
    };
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

/// Whether a comment is at `location` (`footer`, `inline`, or `resolved`: a resolved inline one).
fn at_location(c: &Content, location: &str) -> bool {
    match location {
        "footer" => c.kind == Kind::FooterComment,
        "inline" => c.kind == Kind::InlineComment,
        "resolved" => c
            .inline
            .as_ref()
            .is_some_and(|i| i.resolution == "resolved"),
        _ => false,
    }
}

pub(crate) fn descendants_of_type(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let ty = ctx.p("type").to_string();
    readable(ctx, st, &id, false)?;
    if ty != "page" && ty != "comment" && ty != "attachment" {
        return err(400, format!("Unsupported descendant type {ty:?}."));
    }
    let ex = expand(ctx);
    let mut tree = Vec::new();
    let mut stack = vec![id.clone()];
    while let Some(p) = stack.pop() {
        for c in st.children(&p).into_iter().rev() {
            if c.status == "current" && st.visible(ctx.user(), &c.id).is_some() {
                stack.push(c.id.clone());
                tree.push(c);
            }
        }
    }
    tree.sort_by(|a, b| id_order(&a.id, &b.id));
    let items: Vec<Value> = match ty.as_str() {
        "page" => tree
            .iter()
            .filter(|c| c.kind == Kind::Page)
            .map(|c| content_v1(ctx, st, c, &ex))
            .collect(),
        "comment" => {
            let mut pages: Vec<&str> = tree.iter().map(|c| c.id.as_str()).collect();
            pages.push(&id);
            content::comments_on(st, &pages)
                .into_iter()
                .map(|c| content_v1(ctx, st, c, &ex))
                .collect()
        }
        _ => {
            let mut pages: Vec<&str> = tree.iter().map(|c| c.id.as_str()).collect();
            pages.push(&id);
            let mut atts: Vec<&Attachment> = st
                .attachments
                .values()
                .filter(|a| pages.contains(&a.page_id.as_str()) && a.status == "current")
                .collect();
            atts.sort_by(|a, b| id_order(&a.id, &b.id));
            atts.into_iter()
                .map(|a| attachment_v1(ctx, st, a))
                .collect()
        }
    };
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

// ---------- attachments ----------

pub(crate) fn list_attachments(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    readable(ctx, st, &id, false)?;
    let atts = content::attachments_of(st, &id, ctx.req.q("filename"), ctx.req.q("mediaType"));
    let items = atts
        .into_iter()
        .map(|a| attachment_v1(ctx, st, a))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

fn parse_multipart(ctx: &Ctx) -> Result<(Vec<Upload>, Option<String>), ApiErr> {
    let ct = ctx.req.header("content-type").unwrap_or("");
    let boundary = multer::parse_boundary(ct).map_err(|_| {
        ApiErr::Status(
            400,
            "Send the file as multipart/form-data with a part named 'file'.".into(),
        )
    })?;
    let body = ctx.req.body.clone();
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    // The body is already in memory, so this never waits on I/O.
    futures::executor::block_on(async {
        let mut files = Vec::new();
        let mut comment = None;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return err(400, format!("Malformed multipart body: {e}")),
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(String::from);
            let media_type = field.content_type().map(|m| m.to_string());
            let data = match field.bytes().await {
                Ok(d) => d,
                Err(e) => return err(400, format!("Malformed multipart body: {e}")),
            };
            match name.as_str() {
                "file" => files.push(Upload {
                    filename: filename.unwrap_or_else(|| "file".into()),
                    media_type: media_type.unwrap_or_else(|| "application/octet-stream".into()),
                    bytes: data.to_vec(),
                }),
                "comment" => comment = Some(String::from_utf8_lossy(&data).into_owned()),
                _ => {}
            }
        }
        Ok((files, comment))
    })
}

/// Multipart uploads need `X-Atlassian-Token: no-check` (Cloud's XSRF guard).
fn xsrf_checked(ctx: &Ctx) -> Result<(), ApiErr> {
    if ctx
        .req
        .header("x-atlassian-token")
        .is_some_and(|v| v.eq_ignore_ascii_case("no-check") || v.eq_ignore_ascii_case("nocheck"))
    {
        Ok(())
    } else {
        err(
            403,
            "XSRF check failed: send the header X-Atlassian-Token: no-check.",
        )
    }
}

/// `POST /content/{id}/child/attachment` (a name the content has is a 400) and `PUT` (that
/// file becomes the attachment's next version).
pub(crate) fn upload_attachments(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    xsrf_checked(ctx)?;
    let id = ctx.p("id").to_string();
    let page = content::lookup_for(&mut ctx.actor, st, &id, content::DOCUMENTS, "attach")?;
    if page.status != "current" {
        return not_found();
    }
    let (files, comment) = parse_multipart(ctx)?;
    if files.is_empty() {
        return err(400, "No part named 'file' in the multipart body.");
    }
    let update = ctx.req.method == "PUT";
    let out: Vec<Value> = content::attach(&ctx.actor, st, &id, files, comment, update)?
        .iter()
        .map(|a| attachment_v1(ctx, st, a))
        .collect();
    let size = out.len();
    Ok(ok(
        json!({"results": out, "start": 0, "limit": size, "size": size, "_links": {"base": format!("{}/wiki", ctx.site()), "context": "/wiki"}}),
    ))
}

/// `POST /content/{id}/child/attachment/{attachmentId}/data`: new bytes for one attachment.
pub(crate) fn update_attachment_data(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    xsrf_checked(ctx)?;
    let id = ctx.p("id").to_string();
    let att = ctx.p("attachmentId").to_string();
    let page = content::lookup_for(&mut ctx.actor, st, &id, content::DOCUMENTS, "attach")?;
    if page.status != "current" {
        return not_found();
    }
    if !st
        .attachments
        .get(&att)
        .is_some_and(|a| a.page_id == id && a.status == "current")
    {
        return err(404, format!("No attachment {att} on content {id}."));
    }
    let (mut files, comment) = parse_multipart(ctx)?;
    if files.len() != 1 {
        return err(400, "Send exactly one part named 'file'.");
    }
    let file = files.remove(0);
    let a = content::new_attachment_version(&ctx.actor, st, &att, file, comment)?;
    Ok(ok(attachment_v1(ctx, st, &a)))
}

/// v1 "Get URI to download attachment": a 302 to a binary URL on the same face, which serves
/// the bytes after the same credential and scope check.
pub(crate) fn download_attachment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let att = ctx.p("attachmentId").to_string();
    readable(ctx, st, &id, false)?;
    let Some(a) = st
        .attachments
        .get(&att)
        .filter(|a| a.page_id == id && a.status == "current")
    else {
        return err(404, format!("No attachment {att} on content {id}."));
    };
    let name = percent_encoding::utf8_percent_encode(&a.title, SEGMENT);
    Ok(redirect(&format!(
        "{}/wiki/sim/media/{}/{name}?version={}",
        ctx.face_base(),
        a.id,
        a.version
    )))
}

fn serve_bytes(a: &Attachment) -> ApiResult {
    let mut r = bytes_resp(200, &a.media_type, a.bytes.clone());
    let name = a.title.replace('"', "");
    set_header(
        &mut r,
        "content-disposition",
        &format!("attachment; filename=\"{name}\""),
    );
    Ok(r)
}

/// `{face}/wiki/sim/media/{attachmentId}/{filename}`: the redirect target of the v1 download.
pub(crate) fn media(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let att = ctx.p("attachmentId").to_string();
    let Some(a) = st
        .attachments
        .get(&att)
        .filter(|a| a.status == "current")
        .cloned()
    else {
        return not_found();
    };
    if st.visible(ctx.user(), &a.page_id).is_none() {
        return not_found();
    }
    ctx.checkpoint()?;
    serve_bytes(&a)
}

/// The UI servlet `/wiki/download/attachments/{pageId}/{filename}` (seed 002).
pub(crate) fn download_servlet(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let page = ctx.p("pageId").to_string();
    let name = ctx.p("filename").to_string();
    if st.visible(ctx.user(), &page).is_none() {
        return not_found();
    }
    let Some(a) = st
        .attachments
        .values()
        .find(|a| a.page_id == page && a.title == name && a.status == "current")
        .cloned()
    else {
        return not_found();
    };
    ctx.checkpoint()?;
    serve_bytes(&a)
}

// ---------- labels ----------

pub(crate) fn get_labels(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = readable(ctx, st, &id, false)?;
    let items = c.labels.iter().map(|l| label_v1(st, l)).collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

pub(crate) fn add_labels(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, content::DOCUMENTS, "write")?;
    let body: Value = serde_json::from_slice(&ctx.req.body)
        .map_err(|e| ApiErr::Status(400, format!("The request body is not valid JSON: {e}")))?;
    let items: Vec<Value> = match body {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => return err(400, "Send a label object or an array of {prefix, name}."),
    };
    let mut names = Vec::new();
    for it in &items {
        let Some(name) = it.get("name").and_then(Value::as_str) else {
            return err(400, "Each label needs a 'name'.");
        };
        let prefix = it.get("prefix").and_then(Value::as_str).unwrap_or("global");
        if prefix != "global" && prefix != "my" && prefix != "team" {
            return err(400, format!("Invalid label prefix {prefix:?}."));
        }
        if !content::valid_label(name) {
            return err(
                400,
                format!("Invalid label name {name:?}: no spaces or punctuation."),
            );
        }
        names.push(name.to_lowercase());
    }
    let labels = content::add_labels(st, &id, names);
    let items = labels.iter().map(|l| label_v1(st, l)).collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

fn drop_label(ctx: &mut Ctx, st: &mut State, name: &str) -> ApiResult {
    let id = ctx.p("id").to_string();
    content::remove_label(&mut ctx.actor, st, &id, name)?;
    Ok(empty(204))
}

pub(crate) fn remove_label(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let name = ctx.p("label").to_string();
    drop_label(ctx, st, &name)
}

pub(crate) fn remove_label_by_query(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let Some(name) = ctx.req.q("name").map(String::from) else {
        return err(400, "The query parameter 'name' is required.");
    };
    drop_label(ctx, st, &name)
}

// ---------- content properties ----------

fn property_v1(ctx: &Ctx, st: &State, content_id: &str, p: &Property) -> Value {
    json!({
        "id": p.id,
        "key": p.key,
        "value": p.value,
        "version": {
            "when": iso(p.modified_ms),
            "message": p.message,
            "number": p.version,
            "minorEdit": false,
            "by": user_v1(st, &p.author),
        },
        "_links": {
            "self": format!("{}/wiki/rest/api/content/{content_id}/property/{}", ctx.site(), p.key),
            "base": format!("{}/wiki", ctx.site()),
            "context": "/wiki",
        },
        "_expandable": {"content": format!("/rest/api/content/{content_id}")},
    })
}

/// Content properties belong to any content the caller can read (write: edit).
const PROPERTY_OWNERS: &[Kind] = &[
    Kind::Page,
    Kind::BlogPost,
    Kind::Folder,
    Kind::Database,
    Kind::FooterComment,
    Kind::InlineComment,
];

pub(crate) fn list_properties(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = readable(ctx, st, &id, false)?;
    let key = ctx.req.q("key");
    let mut props: Vec<&Property> = c
        .properties
        .iter()
        .filter(|p| key.is_none_or(|k| p.key == k))
        .collect();
    props.sort_by(|a, b| a.key.cmp(&b.key));
    let items = props
        .into_iter()
        .map(|p| property_v1(ctx, st, &id, p))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

pub(crate) fn get_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let key = ctx.p("key").to_string();
    readable(ctx, st, &id, false)?;
    match content::property(st, &id, |p| p.key == key) {
        Some(p) => Ok(ok(property_v1(ctx, st, &id, &p))),
        None => err(404, format!("Cannot find content property with key: {key}")),
    }
}

/// `POST /content/{id}/property` (key in the body) and `POST /content/{id}/property/{key}`.
pub(crate) fn create_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, PROPERTY_OWNERS, "write")?;
    let body = json_body(ctx.req)?;
    let key = match ctx.p("key") {
        "" => crate::http::str_field(&body, "key")?.to_string(),
        k => k.to_string(),
    };
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    let p = content::add_property(&ctx.actor, st, &id, &key, value)?;
    Ok(ok(property_v1(ctx, st, &id, &p)))
}

/// `PUT /content/{id}/property/{key}`: the next version, or (version 1) a new property.
pub(crate) fn update_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let key = ctx.p("key").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, PROPERTY_OWNERS, "write")?;
    let body = json_body(ctx.req)?;
    let version = crate::http::version_number(&body)?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    let p = match content::property(st, &id, |p| p.key == key) {
        None if version == 1 => content::add_property(&ctx.actor, st, &id, &key, value)?,
        None => {
            return err(404, format!("Cannot find content property with key: {key}"));
        }
        Some(existing) => {
            let change = content::PropertyChange {
                key: None,
                value,
                version,
                message: crate::http::version_message(&body),
            };
            content::revise_property(&ctx.actor, st, &id, &existing.id, change, 409)?
        }
    };
    Ok(ok(property_v1(ctx, st, &id, &p)))
}

pub(crate) fn delete_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let key = ctx.p("key").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, PROPERTY_OWNERS, "write")?;
    let Some(p) = content::property(st, &id, |p| p.key == key) else {
        return err(404, format!("Cannot find content property with key: {key}"));
    };
    content::remove_property(st, &id, &p.id);
    Ok(empty(204))
}

// ---------- search, users, groups, spaces ----------

pub(crate) fn current_user(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    Ok(ok(user_v1(st, ctx.user().unwrap_or(""))))
}

pub(crate) fn get_user(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let Some(id) = ctx.req.q("accountId").map(String::from) else {
        return err(400, "The query parameter 'accountId' is required.");
    };
    ctx.checkpoint()?;
    if st.user(&id).is_none() {
        return err(404, format!("No user with accountId {id}."));
    }
    Ok(ok(user_v1(st, &id)))
}

pub(crate) fn list_groups(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    let mut groups = st.groups.clone();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let items = groups
        .iter()
        .map(|g| json!({"type": "group", "name": g.name, "id": g.id}))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

pub(crate) fn group_members(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let Some(name) = ctx.req.q("name").map(String::from) else {
        return err(400, "The query parameter 'name' is required.");
    };
    ctx.checkpoint()?;
    if !st.groups.iter().any(|g| g.name == name) {
        return err(404, format!("No group named {name:?}."));
    }
    let items = st
        .users
        .iter()
        .filter(|u| u.groups.contains(&name))
        .map(|u| user_v1(st, &u.account_id))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

/// Members of a group by its id (the v1 call that is not deprecated).
pub(crate) fn group_members_by_id(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("groupId").to_string();
    ctx.checkpoint()?;
    let Some(name) = st
        .groups
        .iter()
        .find(|g| g.id == id)
        .map(|g| g.name.clone())
    else {
        return err(404, format!("No group with id {id:?}."));
    };
    let items = st
        .users
        .iter()
        .filter(|u| u.groups.contains(&name))
        .map(|u| user_v1(st, &u.account_id))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

pub(crate) fn list_spaces(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    let keys = ctx.req.q_list("spaceKey");
    let mut spaces: Vec<_> = st
        .spaces
        .iter()
        .filter(|s| st.can(ctx.user(), &s.id, "read"))
        .filter(|s| keys.is_empty() || keys.contains(&s.key))
        .collect();
    spaces.sort_by(|a, b| a.key.cmp(&b.key));
    let items = spaces.iter().map(|s| space_v1(st, &s.id)).collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

pub(crate) fn get_space(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let key = ctx.p("spaceKey").to_string();
    match st.space_by_key(&key) {
        Some(s) if st.can(ctx.user(), &s.id, "read") => {
            ctx.checkpoint()?;
            Ok(ok(space_v1(st, &s.id)))
        }
        _ => err(404, format!("No space with key : {key}")),
    }
}
