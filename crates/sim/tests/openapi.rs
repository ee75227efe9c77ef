//! The simulator's answers follow Atlassian's published schemas.
//!
//! Starts the simulator on the demo site, walks every GET operation of both OpenAPI documents
//! (path parameters filled from the demo data, required query parameters from a table), plus a
//! list of writes, and validates each 2xx body against the operation's response schema. An
//! operation the simulator does not implement answers 501 and is listed, not failed.
//!
//! The documents live in the shared reference folder beside the repository
//! (`confluence-api/openapi-v1.json`, `openapi-v2.json`; `CONFLUX_SHARED_DIR` overrides). Without
//! it the test says why and passes, unless `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "openapi/validator.rs"]
mod validator;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use conflux_sim::SimInfo;
use conflux_sim::fixture::{Fixture, PageSpec};
use conflux_testkit::Sim;
use serde_json::{Value, json};
use validator::{CheckError, Operation, Spec};

const SEED: u64 = 7;

fn shared_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CONFLUX_SHARED_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|d| d.join("confluence-api"))
        .find(|d| d.join("openapi-v1.json").is_file() && d.join("openapi-v2.json").is_file())
}

/// Loads both documents, or explains why the test cannot run.
fn specs() -> Option<(Spec, Spec)> {
    let Some(dir) = shared_dir() else {
        let why = "the OpenAPI documents (shared/confluence-api/openapi-v{1,2}.json) are not \
                   beside the repository; set CONFLUX_SHARED_DIR to the shared folder";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}");
        }
        // Straight to stderr: the test harness captures `eprintln!` and shows it only when a
        // test fails, so a skip would pass silently.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED simulator_responses_match_atlassian_schemas: {why}"
        );
        return None;
    };
    let v1 = Spec::load(&dir.join("openapi-v1.json"), "").unwrap();
    let v2 = Spec::load(&dir.join("openapi-v2.json"), "/wiki/api/v2").unwrap();
    Some((v1, v2))
}

/// Ids from the demo site, picked so each operation has something to show.
struct Demo {
    fixture: Fixture,
}

impl Demo {
    fn page_where(&self, score: impl Fn(&PageSpec) -> usize) -> &PageSpec {
        self.fixture
            .pages
            .iter()
            .filter(|p| p.status == "current" && p.space == "ENG")
            .max_by_key(|p| (score(p), std::cmp::Reverse(p.id.clone())))
            .unwrap()
    }

    fn has_children(&self, p: &PageSpec) -> usize {
        self.fixture
            .pages
            .iter()
            .filter(|c| c.parent_id.as_deref() == Some(&p.id))
            .count()
    }

    fn attachments(&self, p: &PageSpec) -> usize {
        self.fixture
            .attachments
            .iter()
            .filter(|a| a.page_id == p.id)
            .count()
    }

    fn comments(&self, p: &PageSpec, kind: &str) -> usize {
        self.fixture
            .comments
            .iter()
            .filter(|c| c.page_id == p.id && c.kind == kind)
            .count()
    }

    fn depth(&self, p: &PageSpec) -> usize {
        let mut d = 0;
        let mut cur = p.parent_id.clone();
        while let Some(id) = cur {
            d += 1;
            cur = self
                .fixture
                .pages
                .iter()
                .find(|x| x.id == id)
                .and_then(|x| x.parent_id.clone());
        }
        d
    }

    /// The page an operation on `template` should look at.
    fn page_for(&self, template: &str) -> &PageSpec {
        let t = template.to_ascii_lowercase();
        if t.contains("attachment") {
            self.page_where(|p| self.attachments(p))
        } else if t.contains("inline-comment") {
            self.page_where(|p| self.comments(p, "inline"))
        } else if t.contains("comment") {
            self.page_where(|p| self.comments(p, "footer"))
        } else if t.contains("version") || t.contains("history") {
            self.page_where(|p| p.history.len())
        } else if t.contains("label") {
            self.page_where(|p| p.labels.len())
        } else if t.contains("child") || t.contains("descendant") || t.contains("pagetree") {
            self.page_where(|p| self.has_children(p))
        } else if t.contains("ancestor") {
            self.page_where(|p| self.depth(p))
        } else {
            self.page_where(|p| {
                self.attachments(p) + self.comments(p, "footer") + p.labels.len() + p.history.len()
            })
        }
    }

    fn demo_user(&self) -> &str {
        let u = self
            .fixture
            .users
            .iter()
            .find(|u| u.email == conflux_sim::demo::DEMO_USER_EMAIL);
        &u.unwrap().account_id
    }

    fn space(&self) -> &conflux_sim::fixture::SpaceSpec {
        self.fixture.spaces.iter().find(|s| s.key == "ENG").unwrap()
    }

    /// A value for path parameter `name` of `template`, or `None` when the demo has none.
    fn path_value(&self, template: &str, name: &str) -> Option<String> {
        let segments: Vec<&str> = template.split('/').collect();
        let before = segments
            .iter()
            .position(|s| *s == format!("{{{name}}}"))
            .and_then(|i| i.checked_sub(1))
            .map(|i| segments[i])
            .unwrap_or("");
        let page = self.page_for(template);
        let f = &self.fixture;
        let footer = f
            .comments
            .iter()
            .find(|c| c.page_id == page.id && c.kind == "footer");
        let any_footer = f
            .comments
            .iter()
            .filter(|c| c.kind == "footer" && c.parent_comment_id.is_none())
            .max_by_key(|c| {
                f.comments
                    .iter()
                    .filter(|r| r.parent_comment_id.as_ref() == Some(&c.id))
                    .count()
            });
        let inline = f.comments.iter().find(|c| c.kind == "inline");
        let attachment = f.attachments.iter().find(|a| a.page_id == page.id);
        let value = match (name, before) {
            ("id" | "page-id" | "pageId" | "contentId", "pages" | "content" | "") => {
                Some(page.id.clone())
            }
            ("contentId", _) => Some(page.id.clone()),
            ("id" | "space-id", "spaces") => Some(self.space().id.clone()),
            ("spaceKey", _) => Some(self.space().key.clone()),
            ("id" | "attachment-id", "attachments") => attachment.map(|a| a.id.clone()),
            ("attachmentId", _) => attachment.map(|a| a.id.clone()),
            ("id" | "comment-id", "footer-comments") => if template.ends_with("/children") {
                any_footer
            } else {
                footer.or(any_footer)
            }
            .map(|c| c.id.clone()),
            ("id" | "comment-id", "inline-comments") => inline.map(|c| c.id.clone()),
            ("id" | "comment-id", "comments") => footer.or(any_footer).map(|c| c.id.clone()),
            ("id" | "folder-id", "folders") => f.folders.first().map(|x| x.id.clone()),
            ("id" | "blogpost-id", "blogposts") => f.blogposts.first().map(|x| x.id.clone()),
            ("contentTemplateId", _) => f.templates.first().map(|x| x.id.clone()),
            ("id" | "database-id", "databases") => f.databases.first().map(|x| x.id.clone()),
            ("version-number" | "versionNumber" | "version", _) => Some("1".into()),
            ("type", _) => Some("page".into()),
            ("label", _) => page.labels.first().cloned(),
            ("labelName", _) => Some("runbook".into()),
            ("userId", _) => Some(self.demo_user().to_string()),
            ("groupName", _) => Some("engineering".into()),
            ("groupId", _) => f
                .groups
                .iter()
                .find(|g| g.name == "engineering")
                .map(|g| g.id.clone()),
            ("operationKey", _) => Some("read".into()),
            ("to", _) => Some("view".into()),
            _ => None,
        }?;
        Some(utf8_percent_encode(&value))
    }

    /// Values for required query parameters, or `None` when one has no known value.
    fn required_query(&self, op: &Operation) -> Option<Vec<(String, String)>> {
        let mut out = Vec::new();
        for p in op
            .parameters
            .iter()
            .filter(|p| p.location == "query" && p.required)
        {
            let value = match (p.name.as_str(), op.template.as_str()) {
                ("cql", t) if t.ends_with("/search/user") => "type=user".to_string(),
                ("cql", _) => "type=page AND space=ENG".to_string(),
                ("accountId", _) => self.demo_user().to_string(),
                ("name", t) if t.ends_with("/label") => "runbook".to_string(),
                ("name", _) => "engineering".to_string(),
                ("id", _) => self.fixture.groups.first().map(|g| g.id.clone())?,
                ("query", _) => "eng".to_string(),
                ("type", _) => "page".to_string(),
                _ => return None,
            };
            out.push((p.name.clone(), value));
        }
        Some(out)
    }
}

fn utf8_percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where a request goes and with which credential.
#[derive(Clone)]
struct Face {
    name: &'static str,
    base: String,
    /// Empty: `token` is an OAuth access token, sent as Bearer; else HTTP Basic.
    email: String,
    token: String,
}

/// One kind of failure (operation, status, place in the body, schema keyword), with how often
/// it happened and one request that showed it.
#[derive(Default)]
struct Violations {
    by_kind: std::collections::BTreeMap<String, (usize, String)>,
}

impl Violations {
    fn add(&mut self, kind: String, example: String) {
        let entry = self.by_kind.entry(kind).or_insert((0, example));
        entry.0 += 1;
    }

    fn total(&self) -> usize {
        self.by_kind.values().map(|(n, _)| n).sum()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (kind, (n, example)) in &self.by_kind {
            out.push_str(&format!("{n:>4} × {kind}\n         e.g. {example}\n"));
        }
        out
    }
}

/// Array indexes and ids in a JSON pointer, generalised so one kind of fault counts once.
fn generalise(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "*"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[derive(Default)]
struct Report {
    /// `METHOD template` of operations with at least one checked answer.
    covered: BTreeSet<String>,
    bodies: usize,
    violations: Violations,
    not_implemented: BTreeSet<String>,
    refused: BTreeSet<String>,
    skipped: BTreeSet<String>,
    undeclared: BTreeSet<String>,
}

struct Run<'a> {
    http: reqwest::Client,
    report: Report,
    spec: &'a Spec,
}

impl Run<'_> {
    /// Sends one request and checks the answer against `op`.
    async fn call(
        &mut self,
        face: &Face,
        op: &Operation,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Option<Value> {
        let url = format!("{}{path}", face.base);
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, &url)
            .query(query)
            .header("accept", "application/json");
        req = if face.email.is_empty() {
            req.bearer_auth(&face.token)
        } else {
            req.basic_auth(&face.email, Some(&face.token))
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        let shown = if query.is_empty() {
            format!("{} {path} [{}]", op.method, face.name)
        } else {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {path}?{} [{}]", op.method, q.join("&"), face.name)
        };
        self.check(op, shown, req).await
    }

    /// Sends one file as `multipart/form-data` (part `file`, as attachment uploads take it)
    /// and checks the answer against `op`.
    async fn call_file(
        &mut self,
        face: &Face,
        op: &Operation,
        path: &str,
        name: &str,
    ) -> Option<Value> {
        let url = format!("{}{path}", face.base);
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let part = reqwest::multipart::Part::bytes(b"schema check".to_vec())
            .file_name(name.to_string())
            .mime_str("text/plain")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("minorEdit", "true");
        let req = self
            .http
            .request(method, &url)
            .basic_auth(&face.email, Some(&face.token))
            .header("X-Atlassian-Token", "no-check")
            .multipart(form);
        self.check(op, format!("{} {path} [{}]", op.method, face.name), req)
            .await
    }

    /// Sends a request and checks its answer against `op` (`shown` names the request).
    async fn check(
        &mut self,
        op: &Operation,
        shown: String,
        req: reqwest::RequestBuilder,
    ) -> Option<Value> {
        let label = format!("{} {}", op.method, op.template);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.report
                    .violations
                    .add(format!("{label}: no answer"), format!("{shown}: {e}"));
                return None;
            }
        };
        let status = resp.status().as_u16();
        let json_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        let text = resp.text().await.unwrap_or_default();
        if status == 501 || (status == 404 && text.contains("No route for")) {
            self.report.not_implemented.insert(label);
            return None;
        }
        if !(200..400).contains(&status) {
            let excerpt: String = text.chars().take(160).collect();
            self.report
                .refused
                .insert(format!("{shown} → {status} {excerpt}"));
            return None;
        }
        let value: Value = if text.trim().is_empty() || (!json_type && status >= 300) {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    self.report.violations.add(
                        format!("{label} → {status}: body is not JSON"),
                        format!("{shown}: {e}"),
                    );
                    return None;
                }
            }
        };
        match self.spec.check(op, status, &value) {
            Ok(found) => {
                self.report.bodies += 1;
                self.report.covered.insert(label.clone());
                for v in found {
                    let kind = format!(
                        "{label} → {status}: {}: {}",
                        generalise(&v.path),
                        generalise(&v.keyword)
                    );
                    self.report.violations.add(kind, format!("{shown}: {v}"));
                }
                for u in self.spec.undeclared(op, status, &value) {
                    self.report
                        .undeclared
                        .insert(format!("{label}: {}", generalise(&u)));
                }
            }
            Err(CheckError::NoSchema) => {
                self.report.covered.insert(label.clone());
                if !value.is_null() && status == 204 {
                    self.report
                        .violations
                        .add(format!("{label} → 204 with a body"), shown.clone());
                }
            }
            Err(CheckError::UndeclaredStatus(declared)) => self.report.violations.add(
                format!("{label} → {status}, but the operation declares only {declared:?}"),
                shown.clone(),
            ),
            Err(e) => panic!("{shown}: cannot check: {e:?}"),
        }
        Some(value)
    }

    /// GETs `op` with each useful query variant, and follows one `next` link.
    async fn walk_get(&mut self, face: &Face, demo: &Demo, op: &Operation) {
        let mut path = op.template.clone();
        for p in op.parameters.iter().filter(|p| p.location == "path") {
            match demo.path_value(&op.template, &p.name) {
                Some(v) => path = path.replace(&format!("{{{}}}", p.name), &v),
                None => {
                    self.report.skipped.insert(format!(
                        "{} {} (no demo value for {{{}}})",
                        op.method, op.template, p.name
                    ));
                    return;
                }
            }
        }
        let Some(required) = demo.required_query(op) else {
            self.report.skipped.insert(format!(
                "{} {} (a required query parameter)",
                op.method, op.template
            ));
            return;
        };
        let has = |name: &str| {
            op.parameters
                .iter()
                .any(|p| p.location == "query" && p.name == name)
        };
        let mut variants = vec![required.clone()];
        if has("body-format") {
            let mut q = required.clone();
            q.push(("body-format".into(), "storage".into()));
            variants.push(q);
        }
        if has("expand") && !op.template.starts_with("/wiki/api/v2") {
            let mut q = required.clone();
            let expand = if op.template.contains("/space") && !op.template.contains("/content") {
                "description.plain,homepage"
            } else {
                "body.storage,version,space,history,ancestors,metadata.labels,children.page,\
                 children.attachment,children.comment,container"
            };
            q.push(("expand".into(), expand.into()));
            variants.push(q);
        }
        if has("limit") {
            let mut q = required.clone();
            q.push(("limit".into(), "2".into()));
            variants.push(q);
        }
        for q in variants {
            let Some(body) = self.call(face, op, &path, &q, None).await else {
                continue;
            };
            let next = body
                .pointer("/_links/next")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(next) = next.filter(|_| q.iter().any(|(k, _)| k == "limit")) {
                // v2 links start at the site root (`/wiki/api/v2/...`); v1 links are relative
                // to `_links.context` (`/wiki`).
                let next = if next.starts_with("/wiki/") {
                    next
                } else {
                    let context = body
                        .pointer("/_links/context")
                        .and_then(Value::as_str)
                        .unwrap_or("/wiki");
                    format!("{context}{next}")
                };
                let (next_path, next_query) = next.split_once('?').unwrap_or((&next, ""));
                let pairs: Vec<(String, String)> = url_pairs(next_query);
                self.call(face, op, next_path, &pairs, None).await;
            }
        }
    }
}

/// The decoded query pairs of a relative URL's query string.
fn url_pairs(query: &str) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://x/?{query}")).unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_responses_match_atlassian_schemas() {
    let Some((v1, v2)) = specs() else { return };
    let demo = Demo {
        fixture: conflux_sim::demo::demo_fixture(SEED),
    };
    let sim = Sim::demo(SEED).await;
    let info = sim.info.clone();
    let site = Face {
        name: "site, classic token",
        base: sim.handle.site_url().to_string(),
        email: info.classic_token.email.clone(),
        token: info.classic_token.token.clone(),
    };
    let gateway = Face {
        name: "gateway, scoped token",
        base: sim.handle.gateway_base(),
        email: info.scoped_tokens.full.email.clone(),
        token: info.scoped_tokens.full.token.clone(),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut totals = Vec::new();
    let mut all = Report::default();
    for (spec, faces) in [
        (&v1, vec![site.clone()]),
        (&v2, vec![site.clone(), gateway.clone()]),
    ] {
        let mut run = Run {
            http: http.clone(),
            report: Report::default(),
            spec,
        };
        let ops = spec.operations();
        for op in ops.iter().filter(|o| o.method == "GET") {
            for face in &faces {
                run.walk_get(face, &demo, op).await;
            }
        }
        if std::ptr::eq(spec, &v2) {
            writes_v2(&mut run, &site, &gateway, &demo).await;
        } else {
            writes_v1(&mut run, &site, &demo).await;
            current_user_by_3lo(&mut run, &sim, &info).await;
        }
        totals.push(run.report.covered.len());
        merge(&mut all, run.report);
    }

    let list = |title: &str, items: &BTreeSet<String>| {
        if !items.is_empty() {
            eprintln!("\n{title} ({}):", items.len());
            for i in items {
                eprintln!("  {i}");
            }
        }
    };
    let not_implemented: BTreeSet<String> = all
        .not_implemented
        .difference(&all.covered)
        .cloned()
        .collect();
    list("checked operations", &all.covered);
    list("not implemented by the simulator (501)", &not_implemented);
    list(
        "refused (non-2xx; the test's parameters may not fit)",
        &all.refused,
    );
    list("skipped (no demo value)", &all.skipped);
    list("advisory: properties no schema declares", &all.undeclared);
    eprintln!(
        "\n{} answers of {} operations checked (v1 {}, v2 {}); {} violations",
        all.bodies,
        all.covered.len(),
        totals[0],
        totals[1],
        all.violations.total()
    );
    assert!(
        all.violations.by_kind.is_empty(),
        "{} answers break Atlassian's schemas, in {} ways:\n{}",
        all.violations.total(),
        all.violations.by_kind.len(),
        all.violations.render()
    );
    // A walk that validated next to nothing proves nothing.
    assert!(
        all.covered.len() >= 15,
        "only {} operations validated",
        all.covered.len()
    );
    sim.handle.shutdown().await;
}

fn merge(all: &mut Report, r: Report) {
    all.covered.extend(r.covered);
    all.bodies += r.bodies;
    for (kind, (n, example)) in r.violations.by_kind {
        let entry = all.violations.by_kind.entry(kind).or_insert((0, example));
        entry.0 += n;
    }
    all.not_implemented.extend(r.not_implemented);
    all.refused.extend(r.refused);
    all.skipped.extend(r.skipped);
    all.undeclared.extend(r.undeclared);
}

fn op_of(spec: &Spec, method: &str, template: &str) -> Operation {
    spec.operation(method, template)
        .unwrap_or_else(|| panic!("the spec has no {method} {template}"))
}

async fn writes_v2(run: &mut Run<'_>, site: &Face, gateway: &Face, demo: &Demo) {
    let spec = run.spec;
    let space = demo.space();
    let home = space.homepage.clone().unwrap();
    let author = demo.demo_user().to_string();
    for (n, face) in [site, gateway].into_iter().enumerate() {
        let create = op_of(spec, "POST", "/wiki/api/v2/pages");
        let body = json!({
            "spaceId": space.id, "status": "current", "title": format!("Schema check {n}"),
            "parentId": home,
            "body": { "representation": "storage", "value": "<p>Checked against the schema.</p>" }
        });
        let created = run
            .call(face, &create, "/wiki/api/v2/pages", &[], Some(&body))
            .await;
        let Some(id) = created
            .as_ref()
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let id = id.to_string();
        let update = op_of(spec, "PUT", "/wiki/api/v2/pages/{id}");
        let body = json!({
            "id": id, "status": "current", "title": format!("Schema check {n}, updated"),
            "body": { "representation": "storage", "value": "<p>Updated.</p>" },
            "version": { "number": 2, "message": "second version" }
        });
        run.call(
            face,
            &update,
            &format!("/wiki/api/v2/pages/{id}"),
            &[],
            Some(&body),
        )
        .await;
        let comment = op_of(spec, "POST", "/wiki/api/v2/footer-comments");
        let body = json!({ "pageId": id, "body": { "representation": "storage", "value": "<p>A comment.</p>" } });
        run.call(
            face,
            &comment,
            "/wiki/api/v2/footer-comments",
            &[],
            Some(&body),
        )
        .await;
        let folder = op_of(spec, "POST", "/wiki/api/v2/folders");
        let body =
            json!({ "spaceId": space.id, "title": format!("Schema folder {n}"), "parentId": home });
        let made = run
            .call(face, &folder, "/wiki/api/v2/folders", &[], Some(&body))
            .await;
        if let Some(fid) = made
            .as_ref()
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
        {
            let delete = op_of(spec, "DELETE", "/wiki/api/v2/folders/{id}");
            run.call(
                face,
                &delete,
                &format!("/wiki/api/v2/folders/{fid}"),
                &[],
                None,
            )
            .await;
        }
        let database = op_of(spec, "POST", "/wiki/api/v2/databases");
        let body = json!({ "spaceId": space.id, "title": format!("Schema database {n}") });
        let made = run
            .call(face, &database, "/wiki/api/v2/databases", &[], Some(&body))
            .await;
        if let Some(did) = made
            .as_ref()
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
        {
            let delete = op_of(spec, "DELETE", "/wiki/api/v2/databases/{id}");
            run.call(
                face,
                &delete,
                &format!("/wiki/api/v2/databases/{did}"),
                &[],
                None,
            )
            .await;
        }
        blog_and_properties(run, face, &space.id, &id, n).await;
        comment_writes(run, face, &id).await;
        let users = op_of(spec, "POST", "/wiki/api/v2/users-bulk");
        let body = json!({ "accountIds": [author] });
        run.call(face, &users, "/wiki/api/v2/users-bulk", &[], Some(&body))
            .await;
        let delete = op_of(spec, "DELETE", "/wiki/api/v2/pages/{id}");
        run.call(
            face,
            &delete,
            &format!("/wiki/api/v2/pages/{id}"),
            &[],
            None,
        )
        .await;
    }
}

/// A request the schema check sends: method, path template, the path itself, a body.
type Step<'a> = (&'a str, &'a str, String, Option<Value>);

/// Sends each step in order, checking each answer against its operation.
async fn run_steps(run: &mut Run<'_>, face: &Face, steps: Vec<Step<'_>>) {
    for (method, template, path, body) in steps {
        let op = op_of(run.spec, method, template);
        run.call(face, &op, &path, &[], body.as_ref()).await;
    }
}

/// The id in an answer, or an empty string.
fn id_of(v: Option<Value>) -> String {
    v.and_then(|v| v.get("id").and_then(Value::as_str).map(String::from))
        .unwrap_or_default()
}

/// Blog post writes, and content properties of a page and of a blog post.
async fn blog_and_properties(run: &mut Run<'_>, face: &Face, space: &str, page: &str, n: usize) {
    let create = op_of(run.spec, "POST", "/wiki/api/v2/blogposts");
    let body = json!({"spaceId": space, "title": format!("Schema post {n}"),
        "body": {"representation": "storage", "value": "<p>Posted.</p>"}});
    let blog = id_of(
        run.call(face, &create, "/wiki/api/v2/blogposts", &[], Some(&body))
            .await,
    );
    let prop = json!({"key": format!("schema-{n}"), "value": {"checked": true}});
    let page_props = format!("/wiki/api/v2/pages/{page}/properties");
    let create = op_of(run.spec, "POST", "/wiki/api/v2/pages/{page-id}/properties");
    let pid = id_of(run.call(face, &create, &page_props, &[], Some(&prop)).await);
    let blog_props = format!("/wiki/api/v2/blogposts/{blog}/properties");
    let create = op_of(
        run.spec,
        "POST",
        "/wiki/api/v2/blogposts/{blogpost-id}/properties",
    );
    let bid = id_of(run.call(face, &create, &blog_props, &[], Some(&prop)).await);
    let next = json!({"key": format!("schema-{n}"), "value": [1, 2], "version": {"number": 2}});
    let blog_update = json!({"id": blog, "status": "current", "title": format!("Schema post {n}, updated"),
        "body": {"representation": "storage", "value": "<p>Again.</p>"}, "version": {"number": 2}});
    let steps: Vec<Step> = vec![
        (
            "PUT",
            "/wiki/api/v2/blogposts/{id}",
            format!("/wiki/api/v2/blogposts/{blog}"),
            Some(blog_update),
        ),
        (
            "GET",
            "/wiki/api/v2/pages/{page-id}/properties/{property-id}",
            format!("{page_props}/{pid}"),
            None,
        ),
        (
            "PUT",
            "/wiki/api/v2/pages/{page-id}/properties/{property-id}",
            format!("{page_props}/{pid}"),
            Some(next.clone()),
        ),
        (
            "DELETE",
            "/wiki/api/v2/pages/{page-id}/properties/{property-id}",
            format!("{page_props}/{pid}"),
            None,
        ),
        (
            "GET",
            "/wiki/api/v2/blogposts/{blogpost-id}/properties/{property-id}",
            format!("{blog_props}/{bid}"),
            None,
        ),
        (
            "PUT",
            "/wiki/api/v2/blogposts/{blogpost-id}/properties/{property-id}",
            format!("{blog_props}/{bid}"),
            Some(next),
        ),
        (
            "DELETE",
            "/wiki/api/v2/blogposts/{blogpost-id}/properties/{property-id}",
            format!("{blog_props}/{bid}"),
            None,
        ),
        (
            "DELETE",
            "/wiki/api/v2/blogposts/{id}",
            format!("/wiki/api/v2/blogposts/{blog}"),
            None,
        ),
    ];
    run_steps(run, face, steps).await;
}

/// Footer comment edits, inline comments made, resolved and deleted, on a page whose body
/// reads "Updated.".
async fn comment_writes(run: &mut Run<'_>, face: &Face, page: &str) {
    let body = |text: &str| json!({"representation": "storage", "value": format!("<p>{text}</p>")});
    let create = op_of(run.spec, "POST", "/wiki/api/v2/footer-comments");
    let footer = id_of(
        run.call(
            face,
            &create,
            "/wiki/api/v2/footer-comments",
            &[],
            Some(&json!({"pageId": page, "body": body("Footer.")})),
        )
        .await,
    );
    let create = op_of(run.spec, "POST", "/wiki/api/v2/inline-comments");
    let inline = id_of(
        run.call(face, &create, "/wiki/api/v2/inline-comments", &[],
            Some(&json!({"pageId": page, "body": body("Inline."),
                "inlineCommentProperties": {"textSelection": "Updated", "textSelectionMatchCount": 1, "textSelectionMatchIndex": 0}})))
            .await,
    );
    let steps: Vec<Step> = vec![
        (
            "PUT",
            "/wiki/api/v2/footer-comments/{comment-id}",
            format!("/wiki/api/v2/footer-comments/{footer}"),
            Some(json!({"version": {"number": 2}, "body": body("Edited.")})),
        ),
        (
            "POST",
            "/wiki/api/v2/inline-comments",
            "/wiki/api/v2/inline-comments".into(),
            Some(json!({"parentCommentId": inline, "body": body("Reply.")})),
        ),
        (
            "PUT",
            "/wiki/api/v2/inline-comments/{comment-id}",
            format!("/wiki/api/v2/inline-comments/{inline}"),
            Some(json!({"version": {"number": 2}, "body": body("Inline."), "resolved": true})),
        ),
        (
            "DELETE",
            "/wiki/api/v2/inline-comments/{comment-id}",
            format!("/wiki/api/v2/inline-comments/{inline}"),
            None,
        ),
    ];
    run_steps(run, face, steps).await;
}

/// v1 `user/current` through the gateway with a 3LO token of the second member: her own
/// `User`, in the schema's shape.
async fn current_user_by_3lo(run: &mut Run<'_>, sim: &Sim, info: &SimInfo) {
    let member = info.second_member().unwrap();
    let minted = sim
        .admin(
            reqwest::Method::POST,
            "/tokens",
            json!({"kind": "oauth", "email": member.email, "scopes": ["read:confluence-user"]}),
        )
        .await;
    let face = Face {
        name: "gateway, 3LO token",
        base: sim.handle.gateway_base(),
        email: String::new(),
        token: minted["access_token"].as_str().unwrap().to_string(),
    };
    let op = op_of(run.spec, "GET", "/wiki/rest/api/user/current");
    let me = run
        .call(&face, &op, "/wiki/rest/api/user/current", &[], None)
        .await;
    assert_eq!(
        me.as_ref().map(|m| &m["accountId"]),
        Some(&json!(member.account_id)),
        "user/current through the gateway answers the token's own account"
    );
}

async fn writes_v1(run: &mut Run<'_>, site: &Face, demo: &Demo) {
    let spec = run.spec;
    let space = demo.space();
    let home = space.homepage.clone().unwrap();
    let create = op_of(spec, "POST", "/wiki/rest/api/content");
    let body = json!({
        "type": "page", "title": "Schema check v1", "space": { "key": space.key },
        "ancestors": [{ "id": home }],
        "body": { "storage": { "value": "<p>Checked.</p>", "representation": "storage" } }
    });
    let created = run
        .call(site, &create, "/wiki/rest/api/content", &[], Some(&body))
        .await;
    let Some(id) = created
        .as_ref()
        .and_then(|c| c.get("id"))
        .and_then(Value::as_str)
    else {
        return;
    };
    let id = id.to_string();
    let update = op_of(spec, "PUT", "/wiki/rest/api/content/{id}");
    let body = json!({
        "type": "page", "title": "Schema check v1, updated", "version": { "number": 2 },
        "body": { "storage": { "value": "<p>Updated.</p>", "representation": "storage" } }
    });
    run.call(
        site,
        &update,
        &format!("/wiki/rest/api/content/{id}"),
        &[],
        Some(&body),
    )
    .await;
    // The first version, as the version parameter reads it, and the history.
    let get = op_of(spec, "GET", "/wiki/rest/api/content/{id}");
    let at_version = [
        ("status".to_string(), "historical".to_string()),
        ("version".to_string(), "1".to_string()),
        (
            "expand".to_string(),
            "body.storage,version,space,children.attachment,history".to_string(),
        ),
    ];
    run.call(
        site,
        &get,
        &format!("/wiki/rest/api/content/{id}"),
        &at_version,
        None,
    )
    .await;
    let history = op_of(spec, "GET", "/wiki/rest/api/content/{id}/history");
    run.call(
        site,
        &history,
        &format!("/wiki/rest/api/content/{id}/history"),
        &[(
            "expand".to_string(),
            "previousVersion,contributors".to_string(),
        )],
        None,
    )
    .await;
    // A comment on the page and a reply to it, through POST /content.
    let body = json!({
        "type": "comment", "container": { "id": id, "type": "page", "status": "current" },
        "body": { "storage": { "value": "<p>A comment.</p>", "representation": "storage" } }
    });
    let comment = run
        .call(site, &create, "/wiki/rest/api/content", &[], Some(&body))
        .await;
    if let Some(cid) = comment
        .as_ref()
        .and_then(|c| c.get("id"))
        .and_then(Value::as_str)
    {
        let body = json!({
            "type": "comment", "container": { "id": id, "type": "page" },
            "ancestors": [{ "id": cid }],
            "body": { "storage": { "value": "<p>A reply.</p>", "representation": "storage" } }
        });
        run.call(site, &create, "/wiki/rest/api/content", &[], Some(&body))
            .await;
        run.call(
            site,
            &get,
            &format!("/wiki/rest/api/content/{cid}"),
            &[(
                "expand".to_string(),
                "container,ancestors,body.storage".to_string(),
            )],
            None,
        )
        .await;
    }
    let label = op_of(spec, "POST", "/wiki/rest/api/content/{id}/label");
    let body = json!([{ "prefix": "global", "name": "schema-check" }]);
    run.call(
        site,
        &label,
        &format!("/wiki/rest/api/content/{id}/label"),
        &[],
        Some(&body),
    )
    .await;
    let props = format!("/wiki/rest/api/content/{id}/property");
    let steps: Vec<Step> = vec![
        (
            "POST",
            "/wiki/rest/api/content/{id}/property",
            props.clone(),
            Some(json!({"key": "schema", "value": {"a": 1}})),
        ),
        (
            "GET",
            "/wiki/rest/api/content/{id}/property/{key}",
            format!("{props}/schema"),
            None,
        ),
        (
            "PUT",
            "/wiki/rest/api/content/{id}/property/{key}",
            format!("{props}/schema"),
            Some(json!({"value": ["b"], "version": {"number": 2}})),
        ),
        (
            "POST",
            "/wiki/rest/api/content/{id}/property/{key}",
            format!("{props}/other"),
            Some(json!({"value": true})),
        ),
        (
            "DELETE",
            "/wiki/rest/api/content/{id}/property/{key}",
            format!("{props}/other"),
            None,
        ),
        (
            "PUT",
            "/wiki/rest/api/content/{pageId}/move/{position}/{targetId}",
            format!("/wiki/rest/api/content/{id}/move/append/{home}"),
            None,
        ),
        (
            "PUT",
            "/wiki/rest/api/content/{id}/restriction",
            format!("/wiki/rest/api/content/{id}/restriction"),
            Some(
                json!([{"operation": "update", "restrictions": {"user": [{"type": "known", "accountId": demo.demo_user()}]}}]),
            ),
        ),
        (
            "POST",
            "/wiki/rest/api/content/{id}/permission/check",
            format!("/wiki/rest/api/content/{id}/permission/check"),
            Some(
                json!({"subject": {"type": "user", "identifier": demo.demo_user()}, "operation": "update"}),
            ),
        ),
        (
            "DELETE",
            "/wiki/rest/api/content/{id}/restriction",
            format!("/wiki/rest/api/content/{id}/restriction"),
            None,
        ),
        (
            "DELETE",
            "/wiki/rest/api/content/{id}",
            format!("/wiki/rest/api/content/{id}"),
            None,
        ),
    ];
    run_steps(run, site, steps).await;
    copies(run, site, &home).await;
}

/// A single-page copy, a hierarchy copy and its task, read until it finishes.
async fn copies(run: &mut Run<'_>, site: &Face, home: &str) {
    let copy = op_of(run.spec, "POST", "/wiki/rest/api/content/{id}/copy");
    let body = json!({"destination": {"type": "parent_page", "value": home},
        "pageTitle": "Schema copy", "copyLabels": true});
    let made = id_of(
        run.call(
            site,
            &copy,
            &format!("/wiki/rest/api/content/{home}/copy"),
            &[],
            Some(&body),
        )
        .await,
    );
    let hierarchy = op_of(
        run.spec,
        "POST",
        "/wiki/rest/api/content/{id}/pagehierarchy/copy",
    );
    let body = json!({"destinationPageId": home, "titleOptions": {"prefix": "Schema "}});
    let task = id_of(
        run.call(
            site,
            &hierarchy,
            &format!("/wiki/rest/api/content/{made}/pagehierarchy/copy"),
            &[],
            Some(&body),
        )
        .await,
    );
    let upload = op_of(
        run.spec,
        "PUT",
        "/wiki/rest/api/content/{id}/child/attachment",
    );
    let path = format!("/wiki/rest/api/content/{made}/child/attachment");
    let listed = run.call_file(site, &upload, &path, "schema.txt").await;
    let att = listed
        .as_ref()
        .and_then(|l| l.pointer("/results/0/id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    run.call_file(site, &upload, &path, "schema.txt").await;
    let data = op_of(
        run.spec,
        "POST",
        "/wiki/rest/api/content/{id}/child/attachment/{attachmentId}/data",
    );
    run.call_file(site, &data, &format!("{path}/{att}/data"), "schema.txt")
        .await;
    let get = op_of(run.spec, "GET", "/wiki/rest/api/longtask/{id}");
    for _ in 0..2 {
        run.call(
            site,
            &get,
            &format!("/wiki/rest/api/longtask/{task}"),
            &[],
            None,
        )
        .await;
    }
}
