//! v2 (`/wiki/api/v2/...`) handlers. Bodies follow the OpenAPI schemas (field names, types,
//! `_links`); optional fields with no value are left out rather than sent as null.
//!
//! A handler reads its request shape, calls the content service (`content`) and writes the
//! answer in its own shape; the rules live in the service.

use serde_json::{Value, json};

use crate::content::{self, NewContent, Revision};
use crate::handler::Ctx;
use crate::http::{
    ApiErr, ApiResult, empty, err, id_field, json_body, not_found, ok, str_field, v2_page,
};
use crate::links::{download_link, webui};
use crate::render;
use crate::state::{
    Attachment, Content, Inline, Kind, Property, State, Version, View, id_order, iso,
};

// ---------- shared lookups ----------

fn statuses_param(ctx: &Ctx, default: &[&str]) -> Result<Vec<String>, ApiErr> {
    let list = ctx.req.q_list("status");
    if list.is_empty() {
        return Ok(default.iter().map(|s| s.to_string()).collect());
    }
    for s in &list {
        if !matches!(
            s.as_str(),
            "current" | "archived" | "deleted" | "trashed" | "draft" | "any"
        ) {
            return err(400, format!("Invalid status {s:?}."));
        }
    }
    Ok(list)
}

/// `body-format`: lists accept storage and atlas_doc_format; single reads accept more.
fn body_format(ctx: &Ctx, single: bool) -> Result<Option<String>, ApiErr> {
    let Some(f) = ctx.req.q("body-format") else {
        return Ok(None);
    };
    let allowed: &[&str] = if single {
        &[
            "storage",
            "atlas_doc_format",
            "view",
            "export_view",
            "anonymous_export_view",
            "styled_view",
            "editor",
        ]
    } else {
        &["storage", "atlas_doc_format"]
    };
    if allowed.contains(&f) {
        Ok(Some(f.to_string()))
    } else {
        err(
            400,
            format!(
                "Invalid body-format {f:?}; expected one of {}.",
                allowed.join(", ")
            ),
        )
    }
}

fn version_json(v: &Version) -> Value {
    json!({
        "createdAt": iso(v.created_ms),
        "message": v.message,
        "number": v.number,
        "minorEdit": v.minor_edit,
        "authorId": v.author,
    })
}

fn parent_type(st: &State, parent: &str) -> &'static str {
    match st.content.get(parent).map(|p| p.kind) {
        Some(Kind::Folder) => "folder",
        Some(Kind::Database) => "database",
        _ => "page",
    }
}

/// A page or a blog post (blog posts have no place in the tree and no owner).
fn page_json(st: &State, c: &Content, v: &Version, format: Option<&str>) -> Value {
    let mut j = json!({
        "id": c.id,
        "status": c.status,
        "title": v.title,
        "spaceId": c.space_id,
        "authorId": c.author,
        "createdAt": iso(c.created_ms),
        "version": version_json(v),
        "body": render::v2_body(&v.body, format),
        "_links": {
            "webui": webui(st, c),
            "editui": format!("/pages/resumedraft.action?draftId={}", c.id),
            "tinyui": format!("/x/{}", c.id),
        },
    });
    if c.kind == Kind::Page {
        j["position"] = json!(c.position);
        j["ownerId"] = json!(c.author);
        j["lastOwnerId"] = Value::Null;
    }
    if let Some(p) = &c.parent_id {
        j["parentId"] = json!(p);
        j["parentType"] = json!(parent_type(st, p));
    }
    j
}

/// What a stale `version.number` gets on v2 (switch `v2_version_conflict_409`).
fn conflict_status(st: &State) -> u16 {
    if st.behaviour.v2_version_conflict_409 {
        409
    } else {
        400
    }
}

/// Whether a v2 path speaks of blog posts or pages.
fn doc_kind(ctx: &Ctx) -> Kind {
    if ctx.req.path.contains("/blogposts") {
        Kind::BlogPost
    } else {
        Kind::Page
    }
}

/// The id of the page or blog post a path names.
fn doc_id(ctx: &Ctx) -> String {
    ["id", "page-id", "blogpost-id"]
        .iter()
        .map(|k| ctx.p(k))
        .find(|v| !v.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// The field that names a comment's or attachment's container: `pageId` or `blogPostId`.
fn container_field(st: &State, id: &str) -> &'static str {
    match st.content.get(id).map(|c| c.kind) {
        Some(Kind::BlogPost) => "blogPostId",
        _ => "pageId",
    }
}

fn node_json(st: &State, c: &Content) -> Value {
    let mut j = json!({
        "id": c.id,
        "type": c.kind.type_name(),
        "status": c.status,
        "title": c.title(),
        "position": c.position,
        "authorId": c.author,
        "ownerId": c.author,
        "createdAt": iso(c.created_ms),
        "version": version_json(c.current()),
        "_links": {"webui": webui(st, c)},
    });
    if let Some(p) = &c.parent_id {
        j["parentId"] = json!(p);
        j["parentType"] = json!(parent_type(st, p));
    }
    j
}

fn comment_json(st: &State, c: &Content, format: Option<&str>) -> Value {
    let page_title = c
        .page_id
        .as_ref()
        .and_then(|p| st.content.get(p))
        .map(|p| p.title().to_string())
        .unwrap_or_default();
    let mut j = json!({
        "id": c.id,
        "status": c.status,
        "title": format!("Re: {page_title}"),
        "version": version_json(c.current()),
        "body": render::v2_body(&c.current().body, format),
        "_links": {"webui": webui(st, c)},
    });
    if let Some(p) = &c.page_id {
        j[container_field(st, p)] = json!(p);
    }
    if let Some(p) = &c.parent_id {
        j["parentCommentId"] = json!(p);
    }
    if let Some(Inline {
        marker_ref,
        selection,
        resolution,
    }) = &c.inline
    {
        j["resolutionStatus"] = json!(resolution);
        j["properties"] = json!({
            "inlineMarkerRef": marker_ref,
            "inlineOriginalSelection": selection,
            "inline-marker-ref": marker_ref,
            "inline-original-selection": selection,
        });
    }
    j
}

fn attachment_json(st: &State, a: &Attachment) -> Value {
    let webui = format!(
        "/pages/viewpageattachments.action?pageId={}&preview={}",
        a.page_id, a.id
    );
    let link = download_link(a);
    let mut j = json!({
        "id": a.id,
        "status": a.status,
        "title": a.title,
        "createdAt": iso(a.created_ms),
        "mediaType": a.media_type,
        "mediaTypeDescription": media_description(&a.media_type),
        "comment": a.comment,
        "fileId": a.file_id,
        "fileSize": a.bytes.len(),
        "webuiLink": webui,
        "downloadLink": link,
        "version": {
            "createdAt": iso(a.modified_ms),
            "message": "",
            "number": a.version,
            "minorEdit": false,
            "authorId": a.author,
        },
        "_links": {"webui": webui, "download": link},
    });
    j[container_field(st, &a.page_id)] = json!(a.page_id);
    j
}

fn media_description(mt: &str) -> &'static str {
    match mt {
        "application/pdf" => "PDF Document",
        m if m.starts_with("image/") => "Image",
        m if m.starts_with("text/") => "Text File",
        _ => "File",
    }
}

fn with_base(ctx: &Ctx, mut j: Value) -> Value {
    j["_links"]["base"] = json!(format!("{}/wiki", ctx.site()));
    j
}

// ---------- spaces ----------

fn space_json(st: &State, id: &str, description: Option<&str>) -> Value {
    let Some(s) = st.space(id) else {
        return json!({});
    };
    let mut j = json!({
        "id": s.id,
        "key": s.key,
        "name": s.name,
        "type": s.space_type,
        "status": s.status,
        "authorId": s.author,
        "createdAt": iso(s.created_ms),
        "_links": {"webui": format!("/spaces/{}", s.key)},
    });
    if let Some(h) = &s.homepage_id {
        j["homepageId"] = json!(h);
    }
    match description {
        Some("plain") => {
            j["description"] = json!({"plain": {"representation": "plain", "value": s.description}})
        }
        Some("view") => {
            j["description"] = json!({"view": {"representation": "view", "value": format!("<p>{}</p>", render::escape(&s.description))}})
        }
        _ => {}
    }
    j
}

pub(crate) fn list_spaces(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let ids = ctx.req.q_list("ids");
    let keys = ctx.req.q_list("keys");
    let types = ctx.req.q_list("type");
    let statuses = ctx.req.q_list("status");
    let desc = ctx.req.q("description-format");
    let mut spaces: Vec<_> = st
        .spaces
        .iter()
        .filter(|s| st.can(ctx.user(), &s.id, "read"))
        .filter(|s| ids.is_empty() || ids.contains(&s.id))
        .filter(|s| keys.is_empty() || keys.contains(&s.key))
        .filter(|s| types.is_empty() || types.contains(&s.space_type))
        .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
        .collect();
    spaces.sort_by(|a, b| id_order(&a.id, &b.id));
    let items = spaces.iter().map(|s| space_json(st, &s.id, desc)).collect();
    v2_page(ctx.req, ctx.site(), items)
}

fn readable_space(ctx: &mut Ctx, st: &State, id: &str) -> Result<(), ApiErr> {
    if st.space(id).is_some() && st.can(ctx.user(), id, "read") {
        ctx.checkpoint()
    } else {
        err(
            404,
            "The space was not found or you do not have permission to view it.",
        )
    }
}

pub(crate) fn get_space(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    readable_space(ctx, st, &id)?;
    Ok(ok(with_base(
        ctx,
        space_json(st, &id, ctx.req.q("description-format")),
    )))
}

pub(crate) fn space_pages(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    readable_space(ctx, st, &id)?;
    pages_listing(ctx, st, Some(id), doc_kind(ctx))
}

pub(crate) fn space_permissions(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    readable_space(ctx, st, &id)?;
    let Some(space) = st.space(&id) else {
        return not_found();
    };
    let mut items = Vec::new();
    for perm in &space.perms {
        let principal = match perm.principal.split_once(':') {
            Some(("user", a)) => json!({"type": "user", "id": a}),
            Some(("group", g)) => {
                let gid = st
                    .groups
                    .iter()
                    .find(|x| x.name == g)
                    .map_or(g, |x| x.id.as_str());
                json!({"type": "group", "id": gid})
            }
            _ => json!({"type": "role", "id": "ANONYMOUS"}),
        };
        for op in &perm.ops {
            let (key, target) = match op.as_str() {
                "read" => ("read", "space"),
                "write" => ("create", "page"),
                "delete" => ("delete", "page"),
                "comment" => ("create", "comment"),
                "attach" => ("create", "attachment"),
                _ => ("administer", "space"),
            };
            items.push(json!({
                "id": format!("{}-{op}", perm.id),
                "principal": principal,
                "operation": {"key": key, "targetType": target},
            }));
        }
    }
    v2_page(ctx.req, ctx.site(), items)
}

// ---------- pages ----------

fn pages_listing(ctx: &mut Ctx, st: &State, space: Option<String>, kind: Kind) -> ApiResult {
    let statuses = statuses_param(ctx, &["current", "archived"])?;
    let format = body_format(ctx, false)?;
    let mut spaces = ctx.req.q_list("space-id");
    if let Some(s) = space {
        spaces = vec![s];
    }
    let ids = ctx.req.q_list("id");
    let title = ctx.req.q("title");
    let mut pages: Vec<&Content> = st
        .sorted_content()
        .into_iter()
        .filter(|c| c.kind == kind)
        .filter(|c| statuses.iter().any(|s| s == "any" || *s == c.status))
        .filter(|c| spaces.is_empty() || spaces.contains(&c.space_id))
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .filter(|c| title.is_none_or(|t| c.title() == t))
        .filter(|c| st.visible(ctx.user(), &c.id).is_some())
        .collect();
    match ctx.req.q("sort") {
        None | Some("id") => {}
        Some("-id") => pages.reverse(),
        Some("title") => pages.sort_by(|a, b| a.title().cmp(b.title())),
        Some("-title") => pages.sort_by(|a, b| b.title().cmp(a.title())),
        Some("created-date") => pages.sort_by_key(|c| c.created_ms),
        Some("-created-date") => pages.sort_by_key(|c| std::cmp::Reverse(c.created_ms)),
        Some("modified-date") => pages.sort_by_key(|c| c.last_modified_ms()),
        Some("-modified-date") => pages.sort_by_key(|c| std::cmp::Reverse(c.last_modified_ms())),
        Some(other) => return err(400, format!("Invalid sort {other:?}.")),
    }
    let items = pages
        .iter()
        .map(|c| page_json(st, c, c.current(), format.as_deref()))
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn list_pages(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    pages_listing(ctx, st, None, kind)
}

pub(crate) fn get_page(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let statuses = statuses_param(ctx, &["current", "archived", "draft"])?;
    let format = body_format(ctx, true)?;
    let id = doc_id(ctx);
    let any: Vec<&str> = statuses.iter().map(String::as_str).collect();
    let all = ["current", "archived", "draft", "trashed"];
    let c = content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        if any.contains(&"any") { &all } else { &any },
    )?;
    let v = match ctx.req.q("version") {
        None => c.current(),
        Some(n) => match n.parse::<u32>() {
            Ok(n) => match c.versions.iter().find(|v| v.number == n) {
                Some(v) => v,
                None => return err(404, format!("Version {n} of page {id} does not exist.")),
            },
            Err(_) => return err(400, format!("Invalid version {n:?}.")),
        },
    };
    let mut j = page_json(st, c, v, format.as_deref());
    if ctx.req.q_bool("include-labels") {
        let labels: Vec<Value> = c.labels.iter().map(|l| label_json(st, l)).collect();
        j["labels"] = json!({"results": labels, "meta": {"hasMore": false}});
    }
    st.record_view(ctx.user(), &id);
    Ok(ok(with_base(ctx, j)))
}

fn label_json(st: &State, name: &str) -> Value {
    json!({"id": st.label_ids.get(name).cloned().unwrap_or_default(), "name": name, "prefix": "global"})
}

/// `{representation, value}` of a written v2 body, as storage.
fn written_body(body: &Value) -> Result<String, ApiErr> {
    match body.get("body") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(b) => {
            // Both `{representation, value}` and `{storage: {representation, value}}`.
            let b = ["storage", "atlas_doc_format", "wiki"]
                .iter()
                .find_map(|k| b.get(*k))
                .unwrap_or(b);
            let rep = b
                .get("representation")
                .and_then(Value::as_str)
                .ok_or(ApiErr::Status(
                    400,
                    "The field 'body.representation' is required.".into(),
                ))?;
            let value = b
                .get("value")
                .and_then(Value::as_str)
                .ok_or(ApiErr::Status(
                    400,
                    "The field 'body.value' is required.".into(),
                ))?;
            render::to_storage(rep, value).map_err(|e| ApiErr::Status(400, e))
        }
    }
}

/// Space of a create request: visible (else 404) and writable (else 403), then the checkpoint.
fn writable_space(ctx: &mut Ctx, st: &State, space_id: &str, op: &str) -> Result<(), ApiErr> {
    if st.space(space_id).is_none() || !st.can(ctx.user(), space_id, "read") {
        return err(
            404,
            format!("Space {space_id} was not found or you cannot view it."),
        );
    }
    if !st.can(ctx.user(), space_id, op) {
        return err(
            403,
            format!("You do not have permission to {op} in space {space_id}."),
        );
    }
    ctx.checkpoint()
}

/// `POST /pages` and `POST /blogposts` (a blog post has no parent, and its title need not be
/// unique).
pub(crate) fn create_page(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let body = json_body(ctx.req)?;
    let space_id = id_field(&body, "spaceId")?.ok_or(ApiErr::Status(
        400,
        "The field 'spaceId' is required.".into(),
    ))?;
    writable_space(ctx, st, &space_id, "write")?;
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("current")
        .to_string();
    if !matches!(status.as_str(), "current" | "draft") {
        return err(
            400,
            format!("Invalid status {status:?}: use current or draft."),
        );
    }
    let title = match body.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        _ if status == "draft" => String::new(),
        _ => return err(400, "The field 'title' is required."),
    };
    let storage = written_body(&body)?;
    let mut parent = None;
    if kind == Kind::Page {
        parent = id_field(&body, "parentId")?;
        if let Some(p) = &parent {
            content::check_parent(&ctx.actor, st, p, &space_id)?;
        } else if !ctx.req.q_bool("root-level") {
            parent = st.space(&space_id).and_then(|s| s.homepage_id.clone());
        }
    }
    if kind == Kind::Page
        && status == "current"
        && content::title_taken(st, &space_id, &title, None)
    {
        return err(
            400,
            format!("A page with title {title:?} already exists in this space."),
        );
    }
    let c = content::create(
        &ctx.actor,
        st,
        NewContent {
            kind,
            space_id,
            status,
            parent_id: parent,
            page_id: None,
            title,
            body: storage,
        },
    );
    let j = page_json(st, &c, c.current(), Some("storage"));
    Ok(ok(with_base(ctx, j)))
}

pub(crate) fn update_page(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let id = doc_id(ctx);
    let c = content::lookup_for(&mut ctx.actor, st, &id, &[kind], "write")?;
    let (current, space_id) = (c.version_number(), c.space_id.clone());
    let body = json_body(ctx.req)?;
    for field in ["id", "status", "title", "version"] {
        if body.get(field).is_none_or(Value::is_null) {
            return err(400, format!("The field '{field}' is required."));
        }
    }
    if let Some(bid) = id_field(&body, "id")?
        && bid != id
    {
        return err(
            400,
            format!("The field 'id' ({bid}) does not match the path ({id})."),
        );
    }
    let title = str_field(&body, "title")?.to_string();
    let status = str_field(&body, "status")?.to_string();
    let allowed = matches!(status.as_str(), "current" | "draft")
        || (kind == Kind::Page && status == "archived");
    if !allowed {
        return err(400, format!("Invalid status {status:?}."));
    }
    let given = crate::http::version_number(&body)?;
    let message = crate::http::version_message(&body);
    if body.get("body").is_none_or(Value::is_null) {
        return err(400, "The field 'body' is required.");
    }
    let storage = written_body(&body)?;
    if let Some(sid) = id_field(&body, "spaceId")?
        && sid != space_id
    {
        return err(
            400,
            "Moving a page to another space is not supported (spaceId).",
        );
    }
    let new_parent = match kind {
        Kind::Page => id_field(&body, "parentId")?,
        _ => None,
    };
    if let Some(p) = &new_parent {
        content::check_move(&ctx.actor, st, &id, p, &space_id)?;
    }
    if let Some(msg) = content::version_conflict(current, given) {
        return err(conflict_status(st), msg);
    }
    if kind == Kind::Page
        && status == "current"
        && content::title_taken(st, &space_id, &title, Some(&id))
    {
        return err(
            400,
            format!("A page with title {title:?} already exists in this space."),
        );
    }
    let minor_edit = body
        .get("version")
        .and_then(|v| v.get("minorEdit"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let c = content::revise(
        &ctx.actor,
        st,
        &id,
        Revision {
            title,
            body: storage,
            message,
            minor_edit,
            status: Some(status),
            parent_id: new_parent,
        },
    )?;
    Ok(ok(with_base(
        ctx,
        page_json(st, &c, c.current(), Some("storage")),
    )))
}

pub(crate) fn delete_page(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let id = doc_id(ctx);
    let purge = ctx.req.q_bool("purge");
    content::delete(&mut ctx.actor, st, &id, &[kind], purge)?;
    Ok(empty(204))
}

pub(crate) fn page_versions(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let format = body_format(ctx, false)?;
    let id = doc_id(ctx);
    let c = content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        &["current", "archived", "draft", "trashed"],
    )?;
    let mut versions: Vec<&Version> = c.versions.iter().collect();
    if ctx.req.q("sort") != Some("modified-date") {
        versions.reverse();
    }
    let items = versions
        .into_iter()
        .map(|v| {
            let mut j = version_json(v);
            let mut page = json!({"id": c.id, "title": v.title});
            if format.is_some() {
                page["body"] = render::v2_body(&v.body, format.as_deref());
            }
            j[if kind == Kind::BlogPost {
                "blogpost"
            } else {
                "page"
            }] = page;
            j
        })
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn page_version(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let id = doc_id(ctx);
    let n = ctx.p("version-number").to_string();
    let c = content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        &["current", "archived", "draft", "trashed"],
    )?;
    let Ok(n) = n.parse::<u32>() else {
        return err(400, format!("Invalid version number {n:?}."));
    };
    let Some(v) = c.versions.iter().find(|v| v.number == n) else {
        return err(404, format!("Version {n} of page {id} does not exist."));
    };
    let mut j = json!({
        "number": v.number,
        "authorId": v.author,
        "message": v.message,
        "createdAt": iso(v.created_ms),
        "minorEdit": v.minor_edit,
        "contentTypeModified": false,
        "collaborators": [v.author],
        // Not in the schema: the version's own title and body, so a client can diff.
        "page": {"id": c.id, "title": v.title, "body": render::v2_body(&v.body, Some("storage"))},
    });
    if n > 1 {
        j["prevVersion"] = json!(n - 1);
    }
    if n < c.version_number() {
        j["nextVersion"] = json!(n + 1);
    }
    Ok(ok(j))
}

pub(crate) fn page_labels(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let id = doc_id(ctx);
    let c = content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        &["current", "archived", "draft"],
    )?;
    let prefix = ctx.req.q("prefix");
    if prefix.is_some_and(|p| !matches!(p, "my" | "team" | "global" | "system")) {
        return err(400, "Invalid prefix: use my, team, global or system.");
    }
    let items = c
        .labels
        .iter()
        .filter(|_| prefix.is_none_or(|p| p == "global"))
        .map(|l| label_json(st, l))
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

// ---------- content properties ----------

fn property_json(p: &Property) -> Value {
    json!({
        "id": p.id,
        "key": p.key,
        "value": p.value,
        "version": {
            "createdAt": iso(p.modified_ms),
            "message": p.message,
            "number": p.version,
            "minorEdit": false,
            "authorId": p.author,
        },
    })
}

/// The page or blog post of a property path, readable (`op` None) or open to `op`.
fn property_owner(ctx: &mut Ctx, st: &State, op: Option<&str>) -> Result<String, ApiErr> {
    let kind = doc_kind(ctx);
    let id = doc_id(ctx);
    match op {
        None => content::lookup(
            &mut ctx.actor,
            st,
            &id,
            &[kind],
            &["current", "archived", "draft"],
        )?,
        Some(op) => content::lookup_for(&mut ctx.actor, st, &id, &[kind], op)?,
    };
    Ok(id)
}

pub(crate) fn list_properties(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = property_owner(ctx, st, None)?;
    let key = ctx.req.q("key");
    let mut props: Vec<&Property> = st
        .content
        .get(&id)
        .map(|c| c.properties.iter().collect())
        .unwrap_or_default();
    props.retain(|p| key.is_none_or(|k| p.key == k));
    match ctx.req.q("sort") {
        None | Some("key") => props.sort_by(|a, b| a.key.cmp(&b.key)),
        Some("-key") => props.sort_by(|a, b| b.key.cmp(&a.key)),
        Some(other) => return err(400, format!("Invalid sort {other:?}: key or -key.")),
    }
    let items = props.into_iter().map(property_json).collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn create_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = property_owner(ctx, st, Some("write"))?;
    let body = json_body(ctx.req)?;
    let key = str_field(&body, "key")?.to_string();
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    let p = content::add_property(&ctx.actor, st, &id, &key, value)?;
    Ok(ok(property_json(&p)))
}

pub(crate) fn get_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = property_owner(ctx, st, None)?;
    let pid = ctx.p("property-id").to_string();
    match content::property(st, &id, |p| p.id == pid) {
        Some(p) => Ok(ok(property_json(&p))),
        None => err(404, format!("No property {pid} on content {id}.")),
    }
}

pub(crate) fn update_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = property_owner(ctx, st, Some("write"))?;
    let pid = ctx.p("property-id").to_string();
    let body = json_body(ctx.req)?;
    let version = crate::http::version_number(&body)?;
    let change = content::PropertyChange {
        key: body.get("key").and_then(Value::as_str).map(String::from),
        value: body.get("value").cloned().unwrap_or(Value::Null),
        version,
        message: crate::http::version_message(&body),
    };
    let p = content::revise_property(&ctx.actor, st, &id, &pid, change, conflict_status(st))?;
    Ok(ok(property_json(&p)))
}

pub(crate) fn delete_property(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = property_owner(ctx, st, Some("write"))?;
    let pid = ctx.p("property-id").to_string();
    if !content::remove_property(st, &id, &pid) {
        return err(404, format!("No property {pid} on content {id}."));
    }
    Ok(empty(204))
}

/// Every label in use on the site, by id.
pub(crate) fn all_labels(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let prefix = ctx.req.q("prefix");
    let mut labels: Vec<(&String, &String)> = st
        .label_ids
        .iter()
        .filter(|_| prefix.is_none_or(|p| p == "global"))
        .collect();
    labels.sort_by(|a, b| id_order(a.1, b.1));
    let items = labels
        .into_iter()
        .map(|(name, _)| label_json(st, name))
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

/// Every current attachment the caller may see.
pub(crate) fn all_attachments(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    let user = ctx.user();
    let filename = ctx.req.q("filename");
    let media = ctx.req.q("mediaType");
    let mut atts: Vec<&Attachment> = st
        .attachments
        .values()
        .filter(|a| a.status == "current")
        .filter(|a| matches!(st.view(user, &a.page_id), View::Visible(_)))
        .filter(|a| filename.is_none_or(|f| a.title == f))
        .filter(|a| media.is_none_or(|m| a.media_type == m))
        .collect();
    atts.sort_by(|a, b| id_order(&a.id, &b.id));
    let items = atts.into_iter().map(|a| attachment_json(st, a)).collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn page_attachments(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let id = doc_id(ctx);
    content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        &["current", "archived", "draft"],
    )?;
    let atts = content::attachments_of(st, &id, ctx.req.q("filename"), ctx.req.q("mediaType"));
    let items = atts.into_iter().map(|a| attachment_json(st, a)).collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn page_footer_comments(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let format = body_format(ctx, false)?;
    let id = doc_id(ctx);
    content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        &["current", "archived", "draft"],
    )?;
    let items = content::comments_of(st, &id, Kind::FooterComment, None)
        .iter()
        .map(|c| comment_json(st, c, format.as_deref()))
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn page_inline_comments(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let kind = doc_kind(ctx);
    let format = body_format(ctx, false)?;
    let wanted = ctx.req.q_list("resolution-status");
    for w in &wanted {
        if !matches!(w.as_str(), "open" | "resolved" | "dangling" | "reopened") {
            return err(400, format!("Invalid resolution-status {w:?}."));
        }
    }
    let id = doc_id(ctx);
    content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[kind],
        &["current", "archived", "draft"],
    )?;
    let items = content::comments_of(st, &id, Kind::InlineComment, None)
        .iter()
        .filter(|c| {
            wanted.is_empty()
                || c.inline
                    .as_ref()
                    .is_some_and(|i| wanted.contains(&i.resolution))
        })
        .map(|c| comment_json(st, c, format.as_deref()))
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn create_footer_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    create_comment(ctx, st, Kind::FooterComment)
}

/// `POST /inline-comments`: a top-level one highlights a text selection of its page
/// (`inlineCommentProperties`), which gets the marker; a reply highlights nothing.
pub(crate) fn create_inline_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    create_comment(ctx, st, Kind::InlineComment)
}

fn create_comment(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let body = json_body(ctx.req)?;
    let container = match (id_field(&body, "pageId")?, id_field(&body, "blogPostId")?) {
        (Some(p), None) => Some((p, Kind::Page)),
        (None, Some(b)) => Some((b, Kind::BlogPost)),
        (None, None) => None,
        (Some(_), Some(_)) => return err(400, "Give pageId or blogPostId, not both."),
    };
    let parent = id_field(&body, "parentCommentId")?;
    let (page, parent) = match (container, parent) {
        (Some((p, doc)), None) => {
            content::lookup_for(&mut ctx.actor, st, &p, &[doc], "comment")?;
            (p, None)
        }
        (None, Some(parent)) => {
            let c = content::lookup_for(&mut ctx.actor, st, &parent, &[kind], "comment")?;
            (c.page_id.clone().unwrap_or_default(), Some(parent))
        }
        (Some(_), Some(_)) => return err(400, "Give pageId or parentCommentId, not both."),
        (None, None) => {
            return err(
                400,
                "The field 'pageId' (or 'parentCommentId' for a reply) is required.",
            );
        }
    };
    if body.get("body").is_none_or(Value::is_null) {
        return err(400, "The field 'body' is required.");
    }
    let storage = written_body(&body)?;
    let selection = match (kind, &parent) {
        (Kind::InlineComment, None) => Some(selection_of(&body)?),
        _ => None,
    };
    let marker = match &selection {
        Some(sel) => Some(content::mark_selection(st, &page, sel)?),
        None => None,
    };
    let space_id = st
        .content
        .get(&page)
        .map(|p| p.space_id.clone())
        .unwrap_or_default();
    let c = content::create(
        &ctx.actor,
        st,
        NewContent {
            kind,
            space_id,
            status: "current".into(),
            parent_id: parent,
            page_id: Some(page),
            title: String::new(),
            body: storage,
        },
    );
    let c = match (selection, marker) {
        (Some(sel), Some(marker_ref)) => {
            let inline = Inline {
                marker_ref,
                selection: sel.text,
                resolution: "open".into(),
            };
            match st.content.get_mut(&c.id) {
                Some(stored) => {
                    stored.inline = Some(inline);
                    stored.clone()
                }
                None => c,
            }
        }
        _ => c,
    };
    Ok(crate::http::json_resp(
        201,
        &with_base(ctx, comment_json(st, &c, Some("storage"))),
    ))
}

/// `inlineCommentProperties` of a top-level inline comment.
fn selection_of(body: &Value) -> Result<content::Selection, ApiErr> {
    let props = body.get("inlineCommentProperties");
    let text = props
        .and_then(|p| p.get("textSelection"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or(ApiErr::Status(
            400,
            "A top-level inline comment needs inlineCommentProperties.textSelection.".into(),
        ))?;
    let int = |name: &str| -> Result<Option<i64>, ApiErr> {
        match props.and_then(|p| p.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or(ApiErr::Status(
                400,
                format!("inlineCommentProperties.{name} must be an integer."),
            )),
        }
    };
    Ok(content::Selection {
        text: text.to_string(),
        match_count: int("textSelectionMatchCount")?,
        match_index: int("textSelectionMatchIndex")?,
    })
}

/// `PUT /footer-comments/{comment-id}` and `PUT /inline-comments/{comment-id}`: the next
/// version (current + 1) with a new body (its author, or a space admin, only); an inline
/// comment may be resolved (`resolved: true`) or reopened (`false`) by anyone who may comment.
fn update_comment(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let id = ctx.p("comment-id").to_string();
    let c = content::lookup_for(&mut ctx.actor, st, &id, &[kind], "comment")?;
    let (current, author, space_id, old_body, inline) = (
        c.version_number(),
        c.author.clone(),
        c.space_id.clone(),
        c.current().body.clone(),
        c.inline.clone(),
    );
    let body = json_body(ctx.req)?;
    let given = crate::http::version_number(&body)?;
    let storage = match body.get("body") {
        None | Some(Value::Null) => old_body.clone(),
        Some(_) => written_body(&body)?,
    };
    let resolved = match body.get("resolved") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) if kind == Kind::InlineComment => Some(*b),
        Some(Value::Bool(_)) => return err(400, "Only inline comments can be resolved."),
        Some(_) => return err(400, "The field 'resolved' must be true or false."),
    };
    if storage != old_body
        && ctx.user() != Some(author.as_str())
        && !st.can(ctx.user(), &space_id, "admin")
    {
        return err(403, "Only the comment's author can edit it.");
    }
    if resolved.is_some() && inline.as_ref().is_some_and(|i| i.resolution == "dangling") {
        return err(400, "A dangling comment cannot be updated.");
    }
    if let Some(msg) = content::version_conflict(current, given) {
        return err(conflict_status(st), msg);
    }
    let mut c = content::revise(
        &ctx.actor,
        st,
        &id,
        Revision {
            title: String::new(),
            body: storage,
            message: crate::http::version_message(&body),
            minor_edit: false,
            status: None,
            parent_id: None,
        },
    )?;
    if let (Some(resolved), Some(mut inline)) = (resolved, inline) {
        inline.resolution = match (resolved, inline.resolution.as_str()) {
            (true, _) => "resolved".into(),
            (false, "resolved") => "reopened".into(),
            (false, other) => other.to_string(),
        };
        if let Some(stored) = st.content.get_mut(&id) {
            stored.inline = Some(inline);
            c = stored.clone();
        }
    }
    Ok(ok(with_base(ctx, comment_json(st, &c, Some("storage")))))
}

pub(crate) fn update_footer_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    update_comment(ctx, st, Kind::FooterComment)
}

pub(crate) fn update_inline_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    update_comment(ctx, st, Kind::InlineComment)
}

/// `DELETE /inline-comments/{comment-id}`: gone for good, with its replies (the marker stays
/// in the page body).
pub(crate) fn delete_inline_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    delete_comment(ctx, st, Kind::InlineComment)
}

fn get_comment(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let format = body_format(ctx, true)?;
    let id = ctx.p("comment-id").to_string();
    let c = content::lookup(&mut ctx.actor, st, &id, &[kind], &["current"])?;
    Ok(ok(with_base(ctx, comment_json(st, c, format.as_deref()))))
}

pub(crate) fn get_footer_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    get_comment(ctx, st, Kind::FooterComment)
}

/// `DELETE /footer-comments/{comment-id}`: gone for good ("a permanent deletion"), with
/// its replies.
pub(crate) fn delete_footer_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    delete_comment(ctx, st, Kind::FooterComment)
}

fn delete_comment(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let id = ctx.p("comment-id").to_string();
    content::lookup_for(&mut ctx.actor, st, &id, &[kind], "delete")?;
    content::remove_thread(st, &id);
    Ok(empty(204))
}

pub(crate) fn get_inline_comment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    get_comment(ctx, st, Kind::InlineComment)
}

fn comment_children(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let format = body_format(ctx, false)?;
    let id = ctx.p("id").to_string();
    content::lookup(&mut ctx.actor, st, &id, &[kind], &["current"])?;
    let items = content::comments_of(st, "", kind, Some(&id))
        .iter()
        .map(|c| comment_json(st, c, format.as_deref()))
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn footer_comment_children(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    comment_children(ctx, st, Kind::FooterComment)
}

pub(crate) fn inline_comment_children(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    comment_children(ctx, st, Kind::InlineComment)
}

pub(crate) fn get_attachment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let Some(a) = st.attachments.get(&id).filter(|a| a.status == "current") else {
        return not_found();
    };
    let a = a.clone();
    content::lookup(
        &mut ctx.actor,
        st,
        &a.page_id,
        content::DOCUMENTS,
        &["current", "archived", "draft"],
    )?;
    Ok(ok(with_base(ctx, attachment_json(st, &a))))
}

/// `DELETE /attachments/{id}`: to the trash (`purge`: a trashed one for good).
pub(crate) fn delete_attachment(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let purge = ctx.req.q_bool("purge");
    let Some(a) = st.attachments.get(&id).cloned() else {
        return not_found();
    };
    content::lookup_for(&mut ctx.actor, st, &a.page_id, content::DOCUMENTS, "delete")?;
    match (a.status.as_str(), purge) {
        ("trashed", true) => {
            st.attachments.remove(&id);
        }
        (_, true) => {
            return err(
                400,
                "Only a trashed attachment can be purged: delete it first.",
            );
        }
        ("trashed", false) => return not_found(),
        _ => {
            if let Some(a) = st.attachments.get_mut(&id) {
                a.status = "trashed".into();
            }
        }
    }
    Ok(empty(204))
}

// ---------- hierarchy ----------

fn tree_kinds(ctx: &Ctx) -> &'static [Kind] {
    let p = &ctx.req.path;
    if p.starts_with("/wiki/api/v2/folders/") {
        &[Kind::Folder]
    } else if p.starts_with("/wiki/api/v2/databases/") {
        &[Kind::Database]
    } else {
        &[Kind::Page]
    }
}

pub(crate) fn page_children(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    content::lookup(
        &mut ctx.actor,
        st,
        &id,
        &[Kind::Page],
        &["current", "archived"],
    )?;
    let items = st
        .children(&id)
        .into_iter()
        .filter(|c| c.kind == Kind::Page && c.status == "current")
        .filter(|c| st.visible(ctx.user(), &c.id).is_some())
        .map(|c| {
            json!({"id": c.id, "status": c.status, "title": c.title(), "spaceId": c.space_id, "childPosition": c.position})
        })
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn direct_children(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let kinds = tree_kinds(ctx);
    content::lookup(&mut ctx.actor, st, &id, kinds, &["current", "archived"])?;
    let items = st
        .children(&id)
        .into_iter()
        .filter(|c| matches!(c.status.as_str(), "current" | "archived"))
        .filter(|c| st.visible(ctx.user(), &c.id).is_some())
        .map(|c| {
            json!({"id": c.id, "status": c.status, "title": c.title(), "type": c.kind.type_name(),
                   "spaceId": c.space_id, "childPosition": c.position})
        })
        .collect();
    v2_page(ctx.req, ctx.site(), items)
}

pub(crate) fn ancestors(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let kinds = tree_kinds(ctx);
    content::lookup(
        &mut ctx.actor,
        st,
        &id,
        kinds,
        &["current", "archived", "draft", "trashed"],
    )?;
    // Cloud lists ancestors top-down, limited by `limit` (no cursor).
    let limit = crate::http::v2_limit(ctx.req)?;
    let all = st.ancestors(&id);
    let skip = all.len().saturating_sub(limit);
    let results: Vec<Value> = all
        .into_iter()
        .skip(skip)
        .map(|a| json!({"id": a.id, "type": a.kind.type_name()}))
        .collect();
    Ok(ok(
        json!({"results": results, "_links": {"base": format!("{}/wiki", ctx.site())}}),
    ))
}

pub(crate) fn descendants(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let depth = match ctx.req.q("depth") {
        None => 5,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if n >= 1 => n.min(5) as usize,
            _ => return err(400, format!("Invalid depth {d:?}: 1 to 5.")),
        },
    };
    let kinds = tree_kinds(ctx);
    content::lookup(&mut ctx.actor, st, &id, kinds, &["current", "archived"])?;
    let mut items = Vec::new();
    let mut frontier = vec![id.clone()];
    for level in 1..=depth {
        let mut next = Vec::new();
        for parent in &frontier {
            for c in st.children(parent) {
                if c.status != "current" || st.visible(ctx.user(), &c.id).is_none() {
                    continue;
                }
                items.push(json!({"id": c.id, "status": c.status, "title": c.title(),
                    "type": c.kind.type_name(), "parentId": parent, "depth": level,
                    "childPosition": c.position}));
                next.push(c.id.clone());
            }
        }
        frontier = next;
    }
    v2_page(ctx.req, ctx.site(), items)
}

// ---------- folders and databases ----------

fn create_node(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let body = json_body(ctx.req)?;
    let space_id = id_field(&body, "spaceId")?.ok_or(ApiErr::Status(
        400,
        "The field 'spaceId' is required.".into(),
    ))?;
    writable_space(ctx, st, &space_id, "write")?;
    let title = match body.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        None | Some(Value::Null) if kind == Kind::Database => "Untitled database".to_string(),
        _ => return err(400, "The field 'title' is required."),
    };
    let parent = id_field(&body, "parentId")?;
    if let Some(p) = &parent {
        content::check_parent(&ctx.actor, st, p, &space_id)?;
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
            body: String::new(),
        },
    );
    Ok(ok(with_base(ctx, node_json(st, &c))))
}

fn get_node(ctx: &mut Ctx, st: &mut State, kind: Kind) -> ApiResult {
    let id = ctx.p("id").to_string();
    let c = content::lookup(&mut ctx.actor, st, &id, &[kind], &["current", "archived"])?;
    Ok(ok(with_base(ctx, node_json(st, c))))
}

pub(crate) fn create_folder(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    create_node(ctx, st, Kind::Folder)
}

pub(crate) fn get_folder(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    get_node(ctx, st, Kind::Folder)
}

pub(crate) fn delete_folder(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let purge = ctx.req.q_bool("purge");
    content::delete(&mut ctx.actor, st, &id, &[Kind::Folder], purge)?;
    Ok(empty(204))
}

pub(crate) fn create_database(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    create_node(ctx, st, Kind::Database)
}

pub(crate) fn get_database(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    get_node(ctx, st, Kind::Database)
}

pub(crate) fn delete_database(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("id").to_string();
    let purge = ctx.req.q_bool("purge");
    content::delete(&mut ctx.actor, st, &id, &[Kind::Database], purge)?;
    Ok(empty(204))
}

// ---------- users ----------

pub(crate) fn user_v2(st: &State, account_id: &str) -> Option<Value> {
    let u = st.user(account_id)?;
    Some(json!({
        "accountId": u.account_id,
        "accountType": "atlassian",
        "accountStatus": if u.disabled { "inactive" } else { "active" },
        "displayName": u.display_name,
        "publicName": u.display_name,
        "email": u.email,
        "isExternalCollaborator": u.guest,
        "timeZone": "Etc/UTC",
        "profilePicture": {"path": "/wiki/aa-avatar/default.png", "isDefault": true},
    }))
}

/// `POST /users-bulk`: 1 to 250 account ids (the spec's bounds); unknown ids are left out.
pub(crate) fn users_bulk(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    let body = json_body(ctx.req)?;
    let Some(ids) = body.get("accountIds").and_then(Value::as_array) else {
        return err(
            400,
            "The field 'accountIds' is required (an array of account ids).",
        );
    };
    if ids.is_empty() || ids.len() > 250 {
        return err(400, "Send 1 to 250 accountIds.");
    }
    // The operation takes no `limit` or `cursor`: every user found comes in one answer.
    let items: Vec<Value> = ids
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| user_v2(st, id))
        .collect();
    Ok(ok(with_base(ctx, json!({"results": items, "_links": {}}))))
}
