//! CQL search (`GET /wiki/rest/api/search`, `GET /wiki/rest/api/content/search`) over what the
//! caller may read, evaluated by `conflux-cql`.

use serde_json::{Value, json};

use crate::handler::Ctx;
use crate::http::{ApiErr, ApiResult, decode_cursor, encode_cursor, encode_query, err, ok};
use crate::render;
use crate::state::{Content, Kind, State, id_order, iso};

/// One searchable object, flattened for the CQL evaluator.
struct Doc {
    ctype: &'static str,
    id: String,
    space_key: String,
    title: String,
    text: String,
    labels: Vec<String>,
    ancestors: Vec<String>,
    parent: Option<String>,
    creator: String,
    created: i64,
    modified: i64,
    contributors: Vec<String>,
    /// The content id for v1 JSON (attachments: the attachment id).
    content_id: String,
}

impl conflux_cql::Document for Doc {
    fn content_type(&self) -> &str {
        self.ctype
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn space_key(&self) -> &str {
        &self.space_key
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn text(&self) -> &str {
        &self.text
    }
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn ancestor_ids(&self) -> &[String] {
        &self.ancestors
    }
    fn parent_id(&self) -> Option<&str> {
        self.parent.as_deref()
    }
    fn creator(&self) -> &str {
        &self.creator
    }
    fn created(&self) -> i64 {
        self.created
    }
    fn last_modified(&self) -> i64 {
        self.modified
    }
    fn contributors(&self) -> &[String] {
        &self.contributors
    }
}

fn doc_of(st: &State, c: &Content) -> Doc {
    let space_key = st
        .space(&c.space_id)
        .map(|s| s.key.clone())
        .unwrap_or_default();
    let tree_of = c.page_id.as_deref().unwrap_or(&c.id);
    let mut ancestors: Vec<String> = st.ancestors(tree_of).iter().map(|a| a.id.clone()).collect();
    if c.page_id.is_some() {
        ancestors.push(tree_of.to_string());
    }
    let mut contributors: Vec<String> = Vec::new();
    for v in &c.versions {
        if !contributors.contains(&v.author) {
            contributors.push(v.author.clone());
        }
    }
    let parent = match c.kind {
        Kind::FooterComment | Kind::InlineComment => c.page_id.clone(),
        _ => c.parent_id.clone(),
    };
    Doc {
        ctype: c.kind.type_name(),
        id: c.id.clone(),
        space_key,
        title: c.title().to_string(),
        text: render::plain_text(&c.current().body),
        labels: c.labels.clone(),
        ancestors,
        parent,
        creator: c.author.clone(),
        created: c.created_ms,
        modified: c.last_modified_ms(),
        contributors,
        content_id: c.id.clone(),
    }
}

fn documents(st: &State, user: Option<&str>) -> Vec<Doc> {
    let mut docs: Vec<Doc> = st
        .sorted_content()
        .into_iter()
        .filter(|c| c.status == "current")
        .filter(|c| st.visible(user, &c.id).is_some())
        .map(|c| doc_of(st, c))
        .collect();
    let mut atts: Vec<_> = st
        .attachments
        .values()
        .filter(|a| a.status == "current")
        .collect();
    atts.sort_by(|a, b| id_order(&a.id, &b.id));
    for a in atts {
        let Some(page) = st
            .visible(user, &a.page_id)
            .filter(|p| p.status == "current")
        else {
            continue;
        };
        let mut ancestors: Vec<String> = st
            .ancestors(&page.id)
            .iter()
            .map(|x| x.id.clone())
            .collect();
        ancestors.push(page.id.clone());
        docs.push(Doc {
            ctype: "attachment",
            id: a.id.clone(),
            space_key: st
                .space(&page.space_id)
                .map(|s| s.key.clone())
                .unwrap_or_default(),
            title: a.title.clone(),
            text: if a.media_type.starts_with("text/") {
                String::from_utf8_lossy(&a.bytes).into_owned()
            } else {
                a.comment.clone()
            },
            labels: vec![],
            ancestors,
            parent: Some(page.id.clone()),
            creator: a.author.clone(),
            created: a.created_ms,
            modified: a.modified_ms,
            contributors: vec![a.author.clone()],
            content_id: a.id.clone(),
        });
    }
    docs
}

/// Search terms of `~` clauses, for highlighting (wildcards dropped).
fn terms(cql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cql;
    while let Some(i) = rest.find('~') {
        let after = rest[i + 1..].trim_start();
        let (term, tail) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            (&q[..end], q.get(end + 1..).unwrap_or(""))
        } else {
            let end = after
                .find(|c: char| c.is_whitespace() || c == ')')
                .unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        for w in term.split_whitespace() {
            let w = w.trim_matches(|c: char| c == '*' || c == '?' || c == '"');
            if !w.is_empty() {
                out.push(w.to_lowercase());
            }
        }
        rest = tail;
    }
    out
}

/// Cloud's excerpt: `highlight` wraps matches in `@@@hl@@@…@@@endhl@@@`, `indexed` is plain.
fn excerpt(text: &str, terms: &[String], mode: &str) -> String {
    let lower = text.to_lowercase();
    let first = terms
        .iter()
        .filter_map(|t| lower.find(t.as_str()))
        .min()
        .unwrap_or(0);
    let mut start = first.saturating_sub(60);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + 200).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let window = text[start..end].replace('\n', " ");
    let escape = !mode.ends_with("_unescaped");
    let esc = |s: &str| {
        if escape {
            render::escape(s)
        } else {
            s.to_string()
        }
    };
    if !mode.starts_with("highlight") || terms.is_empty() {
        return esc(&window);
    }
    let lw = window.to_lowercase();
    let mut out = String::new();
    let mut i = 0;
    while i < window.len() {
        let hit = terms
            .iter()
            .filter(|t| !t.is_empty() && lw[i..].starts_with(t.as_str()))
            .map(|t| t.len())
            .max();
        match hit {
            Some(n) if window.is_char_boundary(i + n) => {
                out.push_str("@@@hl@@@");
                out.push_str(&esc(&window[i..i + n]));
                out.push_str("@@@endhl@@@");
                i += n;
            }
            _ => {
                let ch_len = window[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&esc(&window[i..i + ch_len]));
                i += ch_len;
            }
        }
    }
    out
}

fn friendly(now: i64, then: i64) -> String {
    let mins = (now - then).max(0) / 60_000;
    match mins {
        0 => "just a moment ago".into(),
        1..=59 => format!("{mins} minutes ago"),
        60..=1439 => format!("about {} hours ago", mins / 60),
        _ => chrono::DateTime::from_timestamp_millis(then)
            .map(|d| d.format("%b %d, %Y").to_string())
            .unwrap_or_default(),
    }
}

/// `GET /wiki/rest/api/search`: content, attachments, spaces and users.
pub(crate) fn search_all(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    search(ctx, st, false)
}

/// `GET /wiki/rest/api/content/search`: content only.
pub(crate) fn content_search(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    search(ctx, st, true)
}

/// Both searches: `content_only` for `/content/search`.
fn search(ctx: &mut Ctx, st: &mut State, content_only: bool) -> ApiResult {
    let started = std::time::Instant::now();
    let Some(cql) = ctx
        .req
        .q("cql")
        .filter(|c| !c.trim().is_empty())
        .map(str::to_string)
    else {
        return err(400, "The CQL query parameter 'cql' is required.");
    };
    let query = conflux_cql::parse(&cql)
        .map_err(|e| ApiErr::Status(400, format!("Could not parse cql : {cql} ({e})")))?;
    let mode = ctx.req.q("excerpt").unwrap_or("highlight").to_string();
    if !matches!(
        mode.as_str(),
        "highlight" | "indexed" | "none" | "highlight_unescaped" | "indexed_unescaped"
    ) {
        return err(400, format!("Invalid excerpt {mode:?}."));
    }
    let limit = crate::http::limit(ctx.req, 25, 250)?;
    let start = match (ctx.req.q("cursor"), ctx.req.q("start")) {
        (Some(c), _) if !c.is_empty() => decode_cursor(c)?,
        (_, Some(s)) => s
            .parse::<usize>()
            .map_err(|_| ApiErr::Status(400, format!("Invalid start {s:?}.")))?,
        _ => 0,
    };
    ctx.checkpoint()?;
    let cql_ctx = conflux_cql::Context {
        current_user: ctx.user().map(String::from),
        now_ms: st.now_ms(),
    };
    let mut hits: Vec<Doc> = documents(st, ctx.user())
        .into_iter()
        .filter(|d| query.matches(d, &cql_ctx))
        .collect();
    if query.has_order_by() {
        hits.sort_by(|a, b| query.compare(a, b));
    }
    let total = hits.len();
    let words = terms(&cql);
    let now = st.now_ms();
    let results: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(limit)
        .map(|d| {
            let content = content_json(ctx, st, d);
            if content_only {
                return content;
            }
            let space = st.space_by_key(&d.space_key);
            let mut r = json!({
                "content": content,
                "title": d.title,
                "url": content["_links"]["webui"],
                "resultGlobalContainer": {
                    "title": space.map(|s| s.name.clone()).unwrap_or_default(),
                    "displayUrl": format!("/spaces/{}", d.space_key),
                },
                "breadcrumbs": [],
                "entityType": "content",
                "iconCssClass": format!("aui-icon content-type-{}", d.ctype),
                "lastModified": iso(d.modified),
                "friendlyLastModified": friendly(now, d.modified),
                "score": 1.0,
            });
            if mode != "none" {
                r["excerpt"] = json!(excerpt(&d.text, &words, &mode));
            }
            r
        })
        .collect();
    let size = results.len();
    let mut links = json!({"base": format!("{}/wiki", ctx.site()), "context": "/wiki"});
    if start + limit < total {
        let mut q: Vec<(String, String)> = ctx
            .req
            .query
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "start" | "limit" | "cursor" | "next"))
            .cloned()
            .collect();
        q.push(("next".into(), "true".into()));
        q.push(("cursor".into(), encode_cursor(start + limit)));
        q.push(("limit".into(), limit.to_string()));
        q.push(("start".into(), (start + limit).to_string()));
        links["next"] = json!(format!(
            "{}?{}",
            ctx.req.path.trim_start_matches("/wiki"),
            encode_query(&q)
        ));
    }
    let mut body = json!({
        "results": results,
        "start": start,
        "limit": limit,
        "size": size,
        "totalSize": total,
        "cqlQuery": cql,
        "searchDuration": started.elapsed().as_millis() as u64,
        "_links": links,
    });
    if content_only && let Some(o) = body.as_object_mut() {
        o.remove("searchDuration");
    }
    Ok(ok(body))
}

fn content_json(ctx: &Ctx, st: &State, d: &Doc) -> Value {
    if d.ctype == "attachment"
        && let Some(a) = st.attachments.get(&d.content_id)
    {
        return crate::v1::attachment_v1(ctx, st, a);
    }
    // `expand=content.metadata.labels,...` expands the results' content as v1 content paths do.
    let expand: Vec<String> = ctx
        .req
        .q_list("expand")
        .into_iter()
        .filter_map(|e| e.strip_prefix("content.").map(String::from))
        .collect();
    match st.content.get(&d.content_id) {
        Some(c) => crate::v1::content_v1(ctx, st, c, &expand),
        None => json!({"id": d.id, "type": d.ctype, "title": d.title}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_from_cql() {
        assert_eq!(
            terms(r#"text ~ "release notes" and title ~ plan*"#),
            vec!["release", "notes", "plan"]
        );
        assert!(terms("type = page").is_empty());
    }

    #[test]
    fn highlight_wraps_matches() {
        let e = excerpt("The Release is <done>", &["release".into()], "highlight");
        assert_eq!(e, "The @@@hl@@@Release@@@endhl@@@ is &lt;done&gt;");
        assert_eq!(excerpt("a < b", &["b".into()], "indexed"), "a &lt; b");
    }
}
