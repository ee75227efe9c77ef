//! v1 page templates: `GET /template/page` (global, or a space's with `spaceKey`),
//! `GET /template/{contentTemplateId}` and (empty) `GET /template/blueprint`.

use serde_json::{Value, json};

use crate::handler::Ctx;
use crate::http::{ApiResult, err, ok, v1_page};
use crate::render;
use crate::state::{State, Template};

fn template_json(ctx: &Ctx, st: &State, t: &Template, with_body: bool) -> Value {
    let labels: Vec<Value> = t
        .labels
        .iter()
        .map(|l| {
            json!({"prefix": "global", "name": l, "label": l,
                "id": st.label_ids.get(l).cloned().unwrap_or_default()})
        })
        .collect();
    let mut j = json!({
        "templateId": t.id,
        "name": t.name,
        "description": t.description,
        "labels": labels,
        "templateType": "page",
        "editorVersion": "v2",
        "_links": {
            "self": format!("{}/wiki/rest/api/template/{}", ctx.site(), t.id),
            "base": format!("{}/wiki", ctx.site()),
            "context": "/wiki",
        },
    });
    if let Some(space) = t.space_id.as_deref().and_then(|s| st.space(s)) {
        j["space"] = json!({"id": space.id, "key": space.key, "name": space.name,
            "_links": {"webui": format!("/spaces/{}", space.key)}});
    }
    if with_body {
        j["body"] = json!({
            "storage": {"value": t.body, "representation": "storage"},
            "view": {"value": render::view_html(&t.body), "representation": "view"},
        });
    } else {
        j["_expandable"] = json!({"body": ""});
    }
    j
}

/// Whether the caller may see the template: global ones everyone who uses the site, a
/// space's those who can read the space.
fn may_see(ctx: &Ctx, st: &State, t: &Template) -> bool {
    t.space_id
        .as_deref()
        .is_none_or(|s| st.can(ctx.user(), s, "read"))
}

/// `GET /template/page`: global templates, or (`spaceKey`) those of a space the caller reads;
/// by name. `expand=body` adds bodies.
pub(crate) fn list_templates(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let space_id = match ctx.req.q("spaceKey") {
        None => None,
        Some(key) => match st.space_by_key(key) {
            Some(s) if st.can(ctx.user(), &s.id, "read") => Some(s.id.clone()),
            _ => {
                return err(
                    403,
                    format!("You cannot view the templates of space {key}."),
                );
            }
        },
    };
    ctx.checkpoint()?;
    let with_body = ctx
        .req
        .q_list("expand")
        .iter()
        .any(|e| e == "body" || e.starts_with("body."));
    let mut templates: Vec<&Template> = st
        .templates
        .iter()
        .filter(|t| t.space_id == space_id)
        .collect();
    templates.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let items = templates
        .into_iter()
        .map(|t| template_json(ctx, st, t, with_body))
        .collect();
    v1_page(ctx.req, ctx.site(), items, json!({}))
}

/// `GET /template/blueprint`: the simulator has no blueprints (an empty list, rather than
/// reading `blueprint` as a template id).
pub(crate) fn list_blueprints(ctx: &mut Ctx, _st: &mut State) -> ApiResult {
    ctx.checkpoint()?;
    v1_page(ctx.req, ctx.site(), Vec::new(), json!({}))
}

/// `GET /template/{contentTemplateId}`: with its body. A template the caller may not see is
/// refused as the spec declares (403); an unknown id is a 404.
pub(crate) fn get_template(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    let id = ctx.p("contentTemplateId").to_string();
    let Some(t) = st.templates.iter().find(|t| t.id == id) else {
        return err(404, format!("No template with id {id}."));
    };
    if !may_see(ctx, st, t) {
        return err(403, "You cannot view this template.");
    }
    ctx.checkpoint()?;
    Ok(ok(template_json(ctx, st, t, true)))
}
