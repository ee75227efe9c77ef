//! The MCP server against the simulator, driven by rmcp's client: in process over a duplex
//! pipe, and once over streamable HTTP on a real socket. Every successful result is checked
//! against its tool's outputSchema, and every effect is checked by a second call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use base64::Engine as _;
use conflux_client::{Client, ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_mcp::ConfluxServer;
use conflux_ops::catalog::TOOLS;
use conflux_ops::{Config, Ops};
use conflux_testkit::mcp::{Session as McpSession, call, connect, text};
use conflux_types::{BaseUrl, Secret, SiteUrl};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use serde_json::{Value, json};

/// The simulator, with the clients these tests connect to it.
struct Sim(conflux_testkit::Sim);

impl std::ops::Deref for Sim {
    type Target = conflux_testkit::Sim;

    fn deref(&self) -> &conflux_testkit::Sim {
        &self.0
    }
}

impl Sim {
    async fn start() -> Sim {
        Sim(conflux_testkit::Sim::demo(3).await)
    }

    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig {
            endpoints: Endpoints {
                gateway: BaseUrl::parse(&self.info.gateway_url).unwrap(),
                identity: BaseUrl::parse(&self.info.identity_url).unwrap(),
            },
            ..ClientConfig::default()
        };
        c.retry.base_delay = std::time::Duration::from_millis(10);
        // Retrying ends at a deadline, not a count: keep the refusals that outlast it short.
        c.retry.deadline = std::time::Duration::from_secs(1);
        c
    }

    async fn client(&self, email: &str, token: &str) -> Client {
        Client::connect(
            CredentialConfig::ApiToken {
                email: email.into(),
                token: Secret::new(token.into()),
                site: Some(SiteUrl::parse(&self.info.site_url).unwrap()),
                cloud_id: None,
                kind: TokenKindHint::Detect,
                scopes: None,
            },
            self.config(),
        )
        .await
        .expect("client connects")
    }

    async fn classic(&self) -> Client {
        self.client(
            &self.info.classic_token.email,
            &self.info.classic_token.token,
        )
        .await
    }

    async fn scoped_read(&self) -> Client {
        let t = &self.info.scoped_tokens.read_only;
        self.client(&t.email, &t.token).await
    }

    /// An MCP session with every tool, on the classic token, under `config`.
    async fn session(&self, config: Config) -> Session {
        Session::new(server(self.classic().await, config, &[]).await).await
    }
}

/// A 1x1 PNG.
fn demo_png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
        .unwrap()
}

async fn server(client: Client, config: Config, tools: &[&str]) -> McpSession {
    let tools: Vec<String> = tools.iter().map(|s| s.to_string()).collect();
    connect(ConfluxServer::new(Ops::new(client, config), &tools).unwrap()).await
}

struct Session {
    mcp: McpSession,
    tools: Vec<Tool>,
    /// `(tool, action)` of every call made through `ok` or `err`, whose outcome they check.
    checked: std::sync::Mutex<BTreeSet<(String, String)>>,
}

impl Session {
    async fn new(mcp: McpSession) -> Session {
        let tools = mcp.list_all_tools().await.unwrap();
        Session {
            mcp,
            tools,
            checked: Default::default(),
        }
    }

    fn checked(&self, tool: &str, args: &Value) {
        let action = args["action"].as_str().unwrap_or_default().to_string();
        self.checked
            .lock()
            .unwrap()
            .insert((tool.to_string(), action));
    }

    /// Fails naming every declared action of `tools` (from `conflux_ops::catalog::TOOLS`) that
    /// this session has not called through `ok` or `err`.
    fn assert_checked_every_action_of(&self, tools: &[&str]) {
        let checked = self.checked.lock().unwrap();
        let missing: Vec<String> = TOOLS
            .iter()
            .filter(|t| tools.contains(&t.name))
            .flat_map(|t| t.actions.iter().map(move |a| (t.name, a.name)))
            .filter(|(t, a)| !checked.contains(&(t.to_string(), a.to_string())))
            .map(|(t, a)| format!("{t}.{a}"))
            .collect();
        assert!(missing.is_empty(), "actions never called: {missing:?}");
    }

    async fn raw(&self, tool: &str, args: Value) -> CallToolResult {
        call(&self.mcp, tool, args).await
    }

    /// A call that must succeed; returns its structuredContent, checked against the schema.
    async fn ok(&self, tool: &str, args: Value) -> Value {
        self.checked(tool, &args);
        let r = self.raw(tool, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{tool} {args}: {}", text(&r));
        let s = r.structured_content.clone().expect("structuredContent");
        // The listed output schema names the fields; the declaration's answer schema holds
        // their types too, and no field it does not declare.
        let listed = self
            .tools
            .iter()
            .find(|t| t.name == tool)
            .unwrap()
            .output_schema
            .clone()
            .unwrap();
        let listed = jsonschema::validator_for(&Value::Object((*listed).clone())).unwrap();
        assert!(
            listed.is_valid(&s),
            "{tool} {args}: breaks the listed outputSchema"
        );
        let schema = conflux_ops::catalog::tool(tool).unwrap().answer_schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&s)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{tool} {args}: result does not match outputSchema: {errors:?}\n{s}"
        );
        assert_eq!(s["action"], args["action"]);
        s
    }

    /// A call that must fail as a tool error; returns its text.
    async fn err(&self, tool: &str, args: Value) -> String {
        self.checked(tool, &args);
        let r = self.raw(tool, args.clone()).await;
        assert_eq!(
            r.is_error,
            Some(true),
            "{tool} {args} should fail: {}",
            text(&r)
        );
        text(&r)
    }
}

async fn space_id(s: &Session, key: &str) -> String {
    let v = s.ok("spaces", json!({"action": "get", "key": key})).await;
    v["space"]["id"].as_str().unwrap().to_string()
}

const BODY: &str = "<p>Intro text.</p><h1>Setup</h1><p>Install the agent.</p><h2>Linux</h2><p>Use apt.</p>\
    <h1>Operations</h1><p>Restart nightly.</p>";

#[tokio::test]
async fn tools_list_is_flat_and_stable() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let names: Vec<&str> = s.tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "pages",
            "blogposts",
            "spaces",
            "search",
            "content",
            "comments",
            "labels",
            "attachments",
            "versions",
            "templates",
            "users",
            "databases",
            "connection"
        ]
    );
    for t in &s.tools {
        let schema = Value::Object((*t.input_schema).clone());
        let text = schema.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("oneOf") && !text.contains("anyOf"),
            "{}",
            t.name
        );
        assert_eq!(schema["type"], "object");
        assert!(
            schema["properties"]["action"]["enum"].is_array(),
            "{}",
            t.name
        );
        assert!(
            schema["properties"].get("outputFormat").is_none(),
            "the output format is the server's setting, not every tool's argument"
        );
        assert!(t.output_schema.is_some(), "{}", t.name);
        // Hints only where they differ from the defaults (not read-only, destructive).
        let ann = t.annotations.clone().unwrap_or_default();
        assert_ne!(ann.read_only_hint, Some(false), "{}", t.name);
        assert_ne!(ann.destructive_hint, Some(true), "{}", t.name);
        let reads_only = [
            "spaces",
            "search",
            "versions",
            "templates",
            "users",
            "connection",
        ];
        assert_eq!(
            ann.read_only_hint == Some(true),
            reads_only.contains(&t.name.as_ref()),
            "{}",
            t.name
        );
    }
    let listed = serde_json::to_value(&s.tools).unwrap();
    insta::assert_json_snapshot!("tools_list", listed);
}

/// What every agent pays before it does anything: the whole `tools/list` result, every tool
/// and action offered, in at most 16 KiB of JSON (issue 12's budget; the breadth issue's
/// actions are born within it). Prints the figure.
#[tokio::test]
async fn tools_list_fits_the_budget() {
    const BUDGET: usize = 16 * 1024;
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let result = rmcp::model::ListToolsResult::with_all_items(s.tools.clone());
    let bytes = serde_json::to_string(&result).unwrap().len();
    if let Some(path) = std::env::var_os("CONFLUX_DUMP_TOOLS") {
        std::fs::write(path, serde_json::to_string(&result).unwrap()).unwrap();
    }
    println!(
        "tools/list: {} tools, {bytes} bytes of JSON (budget {BUDGET})",
        s.tools.len()
    );
    assert!(
        bytes <= BUDGET,
        "tools/list is {bytes} bytes, over the {BUDGET}-byte budget"
    );
}

/// Every action of `pages` (and of `versions`, on the page's history), each outcome checked;
/// the other tools' actions are in the next test.
#[tokio::test]
async fn pages_every_action_with_effects_checked() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let eng = space_id(&s, "ENG").await;

    let list = s
        .ok(
            "pages",
            json!({"action": "list", "spaceId": eng, "limit": 3}),
        )
        .await;
    assert_eq!(list["count"], 3);
    assert!(list["nextCursor"].is_string());
    let next = s
        .ok(
            "pages",
            json!({"action": "list", "spaceId": eng, "limit": 3, "cursor": list["nextCursor"]}),
        )
        .await;
    assert_ne!(
        next["items"][0]["id"], list["items"][0]["id"],
        "the cursor moves on"
    );

    let created = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "MCP test page", "body": BODY, "bodyFormat": "storage"}),
        )
        .await;
    let id = created["page"]["id"].as_str().unwrap().to_string();
    assert!(
        created.get("body").is_none(),
        "writes answer with metadata only"
    );

    let got = s.ok("pages", json!({"action": "get", "id": id})).await;
    assert_eq!(got["page"]["title"], "MCP test page");
    assert_eq!(got["page"]["version"], 1);
    let body = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": id, "bodyFormat": "storage"}),
        )
        .await;
    assert_eq!(body["body"]["value"], BODY);
    let md = s.ok("pages", json!({"action": "getBody", "id": id})).await;
    assert_eq!(md["body"]["format"], "markdown");
    let md_text = md["body"]["value"].as_str().unwrap();
    assert!(
        md_text.contains("# Setup") && md_text.contains("## Linux") && !md_text.contains("<p>"),
        "{md_text}"
    );
    assert_eq!(body["body"]["format"], "storage");
    let cut = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": id, "maxBytes": 10, "bodyFormat": "storage"}),
        )
        .await;
    assert_eq!(cut["body"]["truncated"], true);
    assert_eq!(cut["body"]["value"].as_str().unwrap().len(), 10);

    let outline = s.ok("pages", json!({"action": "outline", "id": id})).await;
    let ids: Vec<&str> = outline["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["setup", "linux", "operations"]);
    let sec = s
        .ok(
            "pages",
            json!({"action": "getSection", "id": id, "heading": "Linux", "bodyFormat": "storage"}),
        )
        .await;
    assert_eq!(sec["body"]["value"], "<h2>Linux</h2><p>Use apt.</p>");

    let up = s.ok("pages", json!({"action": "updateSection", "id": id, "sectionId": "linux", "body": "Use **dnf**."})).await;
    assert_eq!(up["page"]["version"], 2);
    let body = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": id, "bodyFormat": "storage"}),
        )
        .await;
    assert!(
        body["body"]["value"]
            .as_str()
            .unwrap()
            .contains("<h2>Linux</h2><p>Use <strong>dnf</strong>.</p><h1>Operations</h1>"),
        "{body}"
    );

    let e = s
        .err(
            "pages",
            json!({"action": "replace", "id": id, "find": "<p>", "replaceWith": "<p>x"}),
        )
        .await;
    assert!(
        e.contains("occurs 4 time(s)") && e.contains("expectedCount: 4"),
        "{e}"
    );
    let r = s
        .ok(
            "pages",
            json!({"action": "replace", "id": id, "find": "nightly", "replaceWith": "weekly"}),
        )
        .await;
    assert_eq!(r["replacements"], 1);
    assert_eq!(r["page"]["version"], 3);

    let u = s
        .ok(
            "pages",
            json!({"action": "update", "id": id, "title": "MCP test page (renamed)"}),
        )
        .await;
    assert_eq!(u["page"]["version"], 4);
    // A stale version: a conflict that names the current number and what to send.
    let e = s
        .err(
            "pages",
            json!({"action": "update", "id": id, "body": "x", "version": 3}),
        )
        .await;
    assert!(
        e.contains("version_conflict") && e.contains("retry with version 5"),
        "{e}"
    );

    let versions = s
        .ok("versions", json!({"action": "listForPage", "id": id}))
        .await;
    assert_eq!(versions["count"], 4);
    let v1 = s
        .ok(
            "versions",
            json!({"action": "get", "id": id, "version": 1, "bodyFormat": "storage"}),
        )
        .await;
    assert_eq!(v1["body"]["value"], BODY);
    let diff = s
        .ok(
            "versions",
            json!({"action": "diff", "id": id, "from": 1, "to": 3}),
        )
        .await;
    let d = diff["diff"].as_str().unwrap();
    assert!(
        d.contains("-Use apt.") && d.contains("+Use **dnf**.") && d.contains("+Restart weekly."),
        "{d}"
    );

    // Content properties: absent, created, replaced (a new version), read back.
    let e = s
        .err(
            "pages",
            json!({"action": "getProperty", "id": id, "key": "review"}),
        )
        .await;
    assert!(e.contains("not_found") && e.contains("`review`"), "{e}");
    let set =
        json!({"action": "setProperty", "id": id, "key": "review", "value": {"state": "draft"}});
    let first = s.ok("pages", set).await;
    assert_eq!(first["value"], json!({"state": "draft"}), "{first}");
    let again = json!({"action": "setProperty", "id": id, "key": "review", "value": "done"});
    let second = s.ok("pages", again).await;
    assert_eq!(
        second["version"].as_u64(),
        first["version"].as_u64().map(|v| v + 1),
        "{second}"
    );
    let got = s
        .ok(
            "pages",
            json!({"action": "getProperty", "id": id, "key": "review"}),
        )
        .await;
    assert_eq!(
        (got["value"].clone(), got["key"].clone()),
        (json!("done"), json!("review"))
    );
    // JSON null is a value like any other, not an absent argument.
    let cleared = s
        .ok(
            "pages",
            json!({"action": "setProperty", "id": id, "key": "review", "value": null}),
        )
        .await;
    assert_eq!(cleared["value"], Value::Null, "{cleared}");
    // Any other argument that is null is absent: `status` here.
    let got = s
        .ok(
            "pages",
            json!({"action": "getProperty", "id": id, "key": "review", "status": null}),
        )
        .await;
    assert_eq!(got["value"], Value::Null, "{got}");

    // Move: under a page of another space, with the move reported as it now stands.
    let ops_space = space_id(&s, "OPS").await;
    let target = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": ops_space, "title": "Move target", "body": "x"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mover = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "Move me", "body": "y"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let moved = s
        .ok(
            "pages",
            json!({"action": "move", "id": mover, "targetId": target}),
        )
        .await;
    assert_eq!(moved["page"]["parentId"], json!(target), "{moved}");
    assert_eq!(moved["page"]["spaceId"], json!(ops_space), "{moved}");
    let e = s
        .err(
            "pages",
            json!({"action": "move", "id": id, "targetId": id, "position": "after"}),
        )
        .await;
    assert!(e.contains("itself"), "{e}");

    // Copy: under another page with a new title, then the page's views.
    let copy = s
        .ok(
            "pages",
            json!({"action": "copy", "id": id, "targetId": target, "title": "MCP copy", "withLabels": true}),
        )
        .await;
    assert_eq!(copy["page"]["title"], "MCP copy", "{copy}");
    assert_eq!(copy["page"]["parentId"], json!(target), "{copy}");
    let e = s
        .err(
            "pages",
            json!({"action": "copy", "id": id, "targetId": target, "spaceId": eng}),
        )
        .await;
    assert!(e.contains("exactly one destination"), "{e}");
    let views = s.ok("pages", json!({"action": "views", "id": id})).await;
    assert!(views["views"].as_u64().is_some_and(|v| v >= 1), "{views}");
    assert!(views["viewers"].as_u64().is_some_and(|v| v >= 1), "{views}");

    // A page from a template: its body, as the template has it.
    let templates = s.ok("templates", json!({"action": "list"})).await;
    let template = templates["items"][0]["id"].as_str().unwrap().to_string();
    let full = s
        .ok("templates", json!({"action": "get", "id": template}))
        .await;
    let from = s
        .ok(
            "pages",
            json!({"action": "createFromTemplate", "templateId": template, "spaceId": eng, "title": "From a template"}),
        )
        .await;
    let made = from["page"]["id"].as_str().unwrap().to_string();
    let body = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": made, "bodyFormat": "storage"}),
        )
        .await;
    assert_eq!(body["body"]["value"], full["template"]["body"], "{body}");

    // Restrictions: none, then only this account may update; a permission check each way.
    let me = s.ok("users", json!({"action": "me"})).await["user"]["accountId"]
        .as_str()
        .unwrap()
        .to_string();
    let open = s
        .ok("pages", json!({"action": "getRestrictions", "id": id}))
        .await;
    assert!(
        open["restrictions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["users"] == json!([]) && r["groups"] == json!([])),
        "{open}"
    );
    let set = s
        .ok(
            "pages",
            json!({"action": "setRestrictions", "id": id, "operation": "update", "users": [me]}),
        )
        .await;
    let update = set["restrictions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operation"] == "update")
        .cloned()
        .unwrap_or_default();
    assert_eq!(update["users"][0]["accountId"], json!(me), "{set}");
    let may = s
        .ok(
            "pages",
            json!({"action": "checkPermission", "id": id, "accountId": me, "operation": "update"}),
        )
        .await;
    assert_eq!(may["allowed"], true, "{may}");
    let e = s
        .err(
            "pages",
            json!({"action": "checkPermission", "id": id, "group": "no-such-group-anywhere"}),
        )
        .await;
    assert!(e.contains("no group is named"), "{e}");
    s.ok(
        "pages",
        json!({"action": "setRestrictions", "id": id, "operation": "update"}),
    )
    .await;

    let del = s.ok("pages", json!({"action": "delete", "id": id})).await;
    assert_eq!(del["deleted"], true);
    let e = s.err("pages", json!({"action": "get", "id": id})).await;
    assert!(e.contains("not_found"), "{e}");
    s.assert_checked_every_action_of(&["pages", "versions"]);
}

/// Every action of the tools other than `pages` and `versions`, each outcome checked.
#[tokio::test]
async fn other_tools_every_action_with_effects_checked() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let spaces = s.ok("spaces", json!({"action": "list", "limit": 2})).await;
    assert_eq!(spaces["count"], 2);
    assert!(spaces["items"][0]["key"].is_string() && spaces["items"][0]["name"].is_string());
    let eng = space_id(&s, "ENG").await;
    let by_id = s.ok("spaces", json!({"action": "get", "id": eng})).await;
    assert_eq!(by_id["space"]["key"], "ENG");
    // Who may do what in it: the assignments the audit reads too, by key as by id.
    let perms = s
        .ok("spaces", json!({"action": "permissions", "key": "ENG"}))
        .await;
    assert_eq!(perms["space"]["id"], eng.as_str(), "{perms}");
    let items = perms["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{perms}");
    assert!(
        items.iter().all(|p| p["principalType"].is_string()
            && p["principalId"].is_string()
            && p["operation"].is_string()
            && p["target"].is_string()),
        "{perms}"
    );
    assert!(
        items
            .iter()
            .any(|p| p["operation"] == "read" && p["target"] == "space"),
        "{perms}"
    );

    let found = s.ok("search", json!({"action": "cql", "cql": "type = page AND space = ENG", "limit": 5, "excerpt": "none"})).await;
    assert_eq!(found["count"], 5);
    assert!(found["items"][0]["id"].is_string() && found["items"][0]["title"].is_string());
    let second = s
        .ok(
            "search",
            json!({"action": "cql", "cql": "type = page AND space = ENG", "limit": 5, "start": 5}),
        )
        .await;
    assert_ne!(second["items"][0]["id"], found["items"][0]["id"]);

    let parent = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "MCP parent", "body": "<p>p</p>"}),
        )
        .await;
    let pid = parent["page"]["id"].as_str().unwrap().to_string();
    let child = s.ok("pages", json!({"action": "create", "spaceId": eng, "title": "MCP child", "parentId": pid, "body": "<p>c</p>"})).await;
    let cid = child["page"]["id"].as_str().unwrap().to_string();
    let folder = s.ok("content", json!({"action": "createFolder", "spaceId": eng, "title": "MCP folder", "parentId": pid})).await;
    let fid = folder["folder"]["id"].as_str().unwrap().to_string();

    let children = s
        .ok("content", json!({"action": "children", "id": pid}))
        .await;
    let kids: Vec<&str> = children["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&cid.as_str()) && kids.contains(&fid.as_str()),
        "{children}"
    );
    let folders = s
        .ok("content", json!({"action": "folders", "id": pid}))
        .await;
    assert_eq!(folders["count"], 1);
    assert_eq!(folders["items"][0]["id"], fid.as_str());
    let anc = s
        .ok("content", json!({"action": "ancestors", "id": cid}))
        .await;
    assert!(
        anc["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == pid.as_str()),
        "{anc}"
    );
    // Issue 12: ancestors came back with every title empty.
    for a in anc["items"].as_array().unwrap() {
        assert!(a["title"].as_str().is_some_and(|t| !t.is_empty()), "{anc}");
    }
    let desc = s
        .ok(
            "content",
            json!({"action": "descendants", "id": pid, "depth": 2}),
        )
        .await;
    assert!(
        desc["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == cid.as_str()),
        "{desc}"
    );
    let tree = s
        .ok(
            "content",
            json!({"action": "tree", "spaceKey": "ENG", "depth": 1}),
        )
        .await;
    assert_eq!(tree["space"]["key"], "ENG");
    assert!(tree["count"].as_u64().unwrap() > 1);

    let c = s
        .ok(
            "comments",
            json!({"action": "addFooter", "id": pid, "body": "Looks *good*"}),
        )
        .await;
    let comment_id = c["comment"]["id"].as_str().unwrap().to_string();
    s.ok("comments", json!({"action": "addFooter", "id": pid, "parentCommentId": comment_id, "body": "<p>Thanks</p>"})).await;
    let footer = s
        .ok("comments", json!({"action": "getFooter", "id": pid}))
        .await;
    assert!(
        footer["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == comment_id.as_str()),
        "{footer}"
    );
    s.ok("comments", json!({"action": "getInline", "id": pid}))
        .await;
    // Deleting the first comment takes its reply with it, for good.
    let gone = s
        .ok(
            "comments",
            json!({"action": "delete", "commentId": comment_id}),
        )
        .await;
    assert_eq!(gone["deleted"], true, "{gone}");
    let footer = s
        .ok("comments", json!({"action": "getFooter", "id": pid}))
        .await;
    assert_eq!(footer["count"], 0, "{footer}");

    let labels = s
        .ok(
            "labels",
            json!({"action": "addToPage", "id": pid, "labels": ["mcp-test", "Runbook"]}),
        )
        .await;
    assert!(
        labels["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "runbook")
    );
    let read = s
        .ok("labels", json!({"action": "getForPage", "id": pid}))
        .await;
    let names: Vec<&str> = read["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"mcp-test") && names.contains(&"runbook"),
        "{names:?}"
    );
    // Removing answers with what is left; a label that is not there is gone already.
    let left = s
        .ok(
            "labels",
            json!({"action": "remove", "id": pid, "labels": ["Runbook", "never-added"]}),
        )
        .await;
    let names: Vec<&str> = left["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["mcp-test"], "{left}");

    let bytes = b"hello attachment \x00\x01\x02";
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let up = s
        .ok(
            "attachments",
            json!({"action": "upload", "id": pid, "fileName": "hello.bin", "data": data}),
        )
        .await;
    let aid = up["id"].as_str().unwrap().to_string();
    let list = s
        .ok("attachments", json!({"action": "listForPage", "id": pid}))
        .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == aid.as_str()),
        "{list}"
    );
    let meta = s
        .ok("attachments", json!({"action": "get", "id": aid}))
        .await;
    assert_eq!(meta["attachment"]["title"], "hello.bin");
    assert_eq!(meta["attachment"]["fileSize"], bytes.len());
    let raw = s
        .raw("attachments", json!({"action": "download", "id": aid}))
        .await;
    assert!(
        raw.content.iter().any(|c| c.as_resource().is_some()),
        "bytes also come as an embedded resource"
    );
    let dl = s
        .ok("attachments", json!({"action": "download", "id": aid}))
        .await;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(dl["data"].as_str().unwrap())
            .unwrap(),
        bytes
    );
    let e = s
        .err(
            "attachments",
            json!({"action": "download", "id": aid, "maxBytes": 3}),
        )
        .await;
    assert!(e.contains("cap"), "{e}");
    // To the trash: no longer listed, no longer read.
    let gone = s
        .ok("attachments", json!({"action": "delete", "id": aid}))
        .await;
    assert_eq!(gone["deleted"], true, "{gone}");
    let list = s
        .ok("attachments", json!({"action": "listForPage", "id": pid}))
        .await;
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == aid.as_str()),
        "{list}"
    );
    let e = s
        .err("attachments", json!({"action": "get", "id": aid}))
        .await;
    assert!(e.contains("not_found"), "{e}");

    let db = s
        .ok(
            "databases",
            json!({"action": "create", "spaceId": eng, "title": "MCP database", "parentId": pid}),
        )
        .await;
    let dbid = db["database"]["id"].as_str().unwrap().to_string();
    let got = s
        .ok("databases", json!({"action": "get", "id": dbid}))
        .await;
    assert_eq!(got["database"]["title"], "MCP database", "{got}");
    let e = s
        .err("databases", json!({"action": "entries", "id": dbid}))
        .await;
    assert!(
        e.contains("no public API") && e.contains("MCP database"),
        "{e}"
    );
    let gone = s
        .ok("databases", json!({"action": "delete", "id": dbid}))
        .await;
    assert_eq!(gone["deleted"], true);
    let e = s
        .err("databases", json!({"action": "get", "id": dbid}))
        .await;
    assert!(e.contains("not_found"), "{e}");

    let check = s
        .ok(
            "connection",
            json!({"action": "check", "tools": ["spaces"]}),
        )
        .await;
    // The doctor's report for this (classic) token, narrowed to the one tool asked about.
    assert_eq!(check["credential_kind"], "api_token", "{check}");
    let actions: Vec<(&str, &str)> = check["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [("list", "ok"), ("get", "ok"), ("permissions", "ok")],
        "{check}"
    );
    assert_eq!(check["scopes_to_add"], json!([]), "{check}");

    // An attachment's next version: the same file name, new bytes.
    let page_for_files = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "Files", "body": "f"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let data = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let first = s
        .ok(
            "attachments",
            json!({"action": "update", "id": page_for_files, "fileName": "notes.txt", "mediaType": "text/plain", "data": data("one")}),
        )
        .await;
    let second = s
        .ok(
            "attachments",
            json!({"action": "update", "id": page_for_files, "fileName": "notes.txt", "mediaType": "text/plain", "data": data("two!")}),
        )
        .await;
    assert_eq!(
        first["id"], second["id"],
        "one file, a new version: {second}"
    );
    assert_eq!(second["size"], 4);

    // Several files in one call; then every file of the page, within a cap, and its images.
    let png = demo_png();
    let many = s
        .ok(
            "attachments",
            json!({"action": "upload", "id": page_for_files, "files": [
                {"fileName": "a.csv", "mediaType": "text/csv", "data": data("x,y\n1,2\n")},
                {"fileName": "pixel.png", "mediaType": "image/png", "data": base64::engine::general_purpose::STANDARD.encode(&png)},
            ]}),
        )
        .await;
    assert_eq!(many["count"], 2, "{many}");
    let titles: Vec<&str> = many["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["a.csv", "pixel.png"], "{many}");
    // A bad file fails the call before anything is sent: nothing new is attached.
    let e = s
        .err(
            "attachments",
            json!({"action": "upload", "id": page_for_files, "files": [
                {"fileName": "fine.txt", "data": data("fine")},
                {"fileName": "bad.txt", "data": "not base64!"},
            ]}),
        )
        .await;
    assert!(e.contains("files[1]") && e.contains("base64"), "{e}");
    let e = s
        .err(
            "attachments",
            json!({"action": "upload", "id": page_for_files, "fileName": "x.txt", "files": [{"fileName": "y.txt", "data": data("y")}]}),
        )
        .await;
    assert!(e.contains("cannot be combined"), "{e}");
    let listed = s
        .ok(
            "attachments",
            json!({"action": "listForPage", "id": page_for_files}),
        )
        .await;
    assert_eq!(listed["count"], 3, "no fine.txt: {listed}");
    let all = s
        .raw(
            "attachments",
            json!({"action": "downloadAll", "id": page_for_files}),
        )
        .await;
    assert_eq!(
        all.content
            .iter()
            .filter(|c| c.as_resource().is_some())
            .count(),
        3,
        "every file as an embedded resource"
    );
    let all = s
        .ok(
            "attachments",
            json!({"action": "downloadAll", "id": page_for_files}),
        )
        .await;
    let sizes: u64 = all["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["size"].as_u64().unwrap())
        .sum();
    assert_eq!(all["size"], sizes, "{all}");
    assert!(
        all["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("data").is_none()),
        "the bytes travel once, as resources: {all}"
    );
    // A cap that holds the first files only: the rest are named, with their sizes.
    let capped = s
        .ok(
            "attachments",
            json!({"action": "downloadAll", "id": page_for_files, "maxBytes": 10}),
        )
        .await;
    assert!(capped["size"].as_u64().unwrap() <= 10, "{capped}");
    assert!(
        !capped["skipped"].as_array().unwrap().is_empty(),
        "{capped}"
    );
    assert!(
        capped["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("cap"),
        "{capped}"
    );
    let images = s
        .raw(
            "attachments",
            json!({"action": "images", "id": page_for_files}),
        )
        .await;
    let shown: Vec<_> = images.content.iter().filter_map(|c| c.as_image()).collect();
    assert_eq!(shown.len(), 1, "only the image: {images:?}");
    assert_eq!(shown[0].mime_type, "image/png");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&shown[0].data)
            .unwrap(),
        png
    );
    let images = s
        .ok(
            "attachments",
            json!({"action": "images", "id": page_for_files}),
        )
        .await;
    assert_eq!(images["files"].as_array().unwrap().len(), 1, "{images}");

    // Templates: the global ones, one read with its body; a space's.
    let global = s.ok("templates", json!({"action": "list"})).await;
    let first = global["items"][0]["id"].as_str().unwrap().to_string();
    let one = s
        .ok("templates", json!({"action": "get", "id": first}))
        .await;
    assert!(one["template"]["body"].is_string(), "{one}");
    s.ok("templates", json!({"action": "list", "spaceId": "ENG"}))
        .await;

    // Users: found by name, read by account id.
    let me = s.ok("users", json!({"action": "me"})).await;
    let name = me["user"]["displayName"].as_str().unwrap().to_string();
    let account = me["user"]["accountId"].as_str().unwrap().to_string();
    let first_word = name.split_whitespace().next().unwrap().to_string();
    let found = s
        .ok("users", json!({"action": "search", "query": first_word}))
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["accountId"] == json!(account)),
        "{found}"
    );
    let user = s
        .ok("users", json!({"action": "get", "accountId": account}))
        .await;
    assert_eq!(user["user"]["displayName"], json!(name), "{user}");

    // Blog posts: written and read as pages are.
    let post = s
        .ok(
            "blogposts",
            json!({"action": "create", "spaceId": "ENG", "title": "Release notes", "body": "# Out now\n\nVersion **2**."}),
        )
        .await;
    let post_id = post["blogpost"]["id"].as_str().unwrap().to_string();
    assert_eq!(post["blogpost"]["spaceId"], json!(eng), "{post}");
    let listed = s
        .ok(
            "blogposts",
            json!({"action": "list", "spaceId": eng, "title": "Release notes"}),
        )
        .await;
    assert_eq!(listed["items"][0]["id"], json!(post_id), "{listed}");
    let meta = s
        .ok("blogposts", json!({"action": "get", "id": post_id}))
        .await;
    assert_eq!(meta["blogpost"]["version"], 1, "{meta}");
    let updated = s
        .ok(
            "blogposts",
            json!({"action": "update", "id": post_id, "body": "Version **3**."}),
        )
        .await;
    assert_eq!(updated["blogpost"]["version"], 2, "{updated}");
    let body = s
        .ok("blogposts", json!({"action": "getBody", "id": post_id}))
        .await;
    assert_eq!(
        body["body"]["value"].as_str().map(str::trim),
        Some("Version **3**."),
        "{body}"
    );
    // Comments on a blog post: one, a reply under it, read as a thread.
    let said = s
        .ok(
            "comments",
            json!({"action": "addFooter", "blogPostId": post_id, "body": "Congrats!"}),
        )
        .await;
    assert_eq!(said["comment"]["blogPostId"], json!(post_id), "{said}");
    let root = said["comment"]["id"].as_str().unwrap().to_string();
    s.ok(
        "comments",
        json!({"action": "addFooter", "parentCommentId": root, "body": "Thanks"}),
    )
    .await;
    let thread = s
        .ok(
            "comments",
            json!({"action": "getFooter", "blogPostId": post_id}),
        )
        .await;
    assert_eq!(thread["items"][0]["id"], json!(root), "{thread}");
    assert_eq!(
        thread["items"][0]["replies"][0]["body"]
            .as_str()
            .map(str::trim),
        Some("Thanks"),
        "{thread}"
    );
    let e = s
        .err(
            "comments",
            json!({"action": "getFooter", "id": post_id, "blogPostId": post_id}),
        )
        .await;
    assert!(e.contains("not both"), "{e}");
    // Labels and files on a blog post, as on a page.
    let labelled = s
        .ok(
            "labels",
            json!({"action": "addToPage", "blogPostId": post_id, "labels": ["news", "release"]}),
        )
        .await;
    assert_eq!(labelled["blogPostId"], json!(post_id), "{labelled}");
    s.ok(
        "labels",
        json!({"action": "remove", "blogPostId": post_id, "labels": ["release"]}),
    )
    .await;
    let left = s
        .ok(
            "labels",
            json!({"action": "getForPage", "blogPostId": post_id}),
        )
        .await;
    let names: Vec<&str> = left["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["news"], "{left}");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let up = s
        .ok(
            "attachments",
            json!({"action": "upload", "blogPostId": post_id, "fileName": "notes.txt", "mediaType": "text/plain", "data": b64(b"post notes")}),
        )
        .await;
    assert_eq!(up["blogPostId"], json!(post_id), "{up}");
    let files = s
        .ok(
            "attachments",
            json!({"action": "listForPage", "blogPostId": post_id}),
        )
        .await;
    assert_eq!(files["items"][0]["id"], up["id"], "{files}");
    let all = s
        .ok(
            "attachments",
            json!({"action": "downloadAll", "blogPostId": post_id}),
        )
        .await;
    assert_eq!(all["files"][0]["attachment"]["title"], "notes.txt", "{all}");
    assert_eq!(all["size"], 10, "{all}");

    let gone = s
        .ok("blogposts", json!({"action": "delete", "id": post_id}))
        .await;
    assert_eq!(gone["deleted"], true);
    let e = s
        .err("blogposts", json!({"action": "get", "id": post_id}))
        .await;
    assert!(e.contains("not_found"), "{e}");

    // Comments: a footer comment edited; an inline comment on the second "one", resolved.
    let page = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "Inline target", "body": "one two one"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let footer = s
        .ok(
            "comments",
            json!({"action": "addFooter", "id": page, "body": "first"}),
        )
        .await["comment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = s
        .ok(
            "comments",
            json!({"action": "update", "commentId": footer, "body": "first, *edited*"}),
        )
        .await;
    assert!(
        edited["comment"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("edited")),
        "{edited}"
    );
    let e = s
        .err(
            "comments",
            json!({"action": "addInline", "id": page, "body": "?", "selection": "one", "matchIndex": 2}),
        )
        .await;
    assert!(e.contains("occurs 2 time(s)"), "{e}");
    let e = s
        .err(
            "comments",
            json!({"action": "addInline", "id": page, "body": "?", "selection": "three"}),
        )
        .await;
    assert!(e.contains("does not contain"), "{e}");
    let inline = s
        .ok(
            "comments",
            json!({"action": "addInline", "id": page, "body": "why twice?", "selection": "one", "matchIndex": 1}),
        )
        .await;
    let inline_id = inline["comment"]["id"].as_str().unwrap().to_string();
    let resolved = s
        .ok(
            "comments",
            json!({"action": "resolveInline", "commentId": inline_id}),
        )
        .await;
    assert_eq!(
        resolved["comment"]["resolutionStatus"], "resolved",
        "{resolved}"
    );
    let threads = s
        .ok("comments", json!({"action": "getInline", "id": page}))
        .await;
    assert_eq!(threads["items"][0]["id"], json!(inline_id), "{threads}");

    s.assert_checked_every_action_of(
        &TOOLS
            .iter()
            .map(|t| t.name)
            .filter(|t| !["pages", "versions"].contains(t))
            .collect::<Vec<_>>(),
    );
}

/// The server's output format shapes the text beside `structuredContent`.
#[tokio::test]
async fn output_formats_shape_the_text() {
    let sim = Sim::start().await;
    let client = sim.classic().await;
    let session = |format: conflux_mcp::OutputFormat| {
        let client = client.clone();
        async move {
            let server =
                ConfluxServer::new(Ops::new(client, Config::default()), &["spaces".into()])
                    .unwrap()
                    .with_output_format(format);
            Session::new(connect(server).await).await
        }
    };
    let args = json!({"action": "list", "limit": 2});
    let verbose = session(conflux_mcp::OutputFormat::Verbose)
        .await
        .raw("spaces", args.clone())
        .await;
    assert_eq!(verbose.content.len(), 1);
    let t = text(&verbose);
    assert!(
        t.contains("space(s)") && !t.trim_start().starts_with('{'),
        "{t}"
    );
    let structured = session(conflux_mcp::OutputFormat::Structured)
        .await
        .raw("spaces", args.clone())
        .await;
    let as_json: Value = serde_json::from_str(&text(&structured)).unwrap();
    assert_eq!(Some(as_json), structured.structured_content);
    let both = session(conflux_mcp::OutputFormat::Both)
        .await
        .raw("spaces", args.clone())
        .await;
    assert_eq!(both.content.len(), 2);
    // Per call it is no argument at all.
    let e = session(conflux_mcp::OutputFormat::Verbose)
        .await
        .err("spaces", json!({"action": "list", "outputFormat": "both"}))
        .await;
    assert!(e.contains("`outputFormat` is no parameter"), "{e}");
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let before = sim.admin(reqwest::Method::GET, "/stats", Value::Null).await["requests"]
        .as_u64()
        .unwrap();
    let cases = [
        ("pages", json!({}), "`action` is required"),
        (
            "pages",
            json!({"action": "explode"}),
            "not one of: list, get, getBody",
        ),
        (
            "pages",
            json!({"action": "get"}),
            "`id` is required for action `get`",
        ),
        (
            "pages",
            json!({"action": "getBody", "id": "1", "bodyFormat": "pdf"}),
            "`bodyFormat` `pdf` is not one of: markdown, storage, atlas_doc_format, view",
        ),
        (
            "pages",
            json!({"action": "list", "limit": "ten"}),
            "`limit` must be a non-negative integer",
        ),
        (
            "pages",
            json!({"action": "list", "spaceKey": "ENG"}),
            "`spaceKey` is no parameter of `pages.list`",
        ),
        (
            "pages",
            json!({"action": "get", "id": "1", "parentId": "2"}),
            "`parentId` is not an argument of `pages.get`, which takes: id, spaceId, title",
        ),
        (
            "search",
            json!({"action": "cql", "excerpt": "all", "cql": "x"}),
            "indexed, highlight, none",
        ),
        (
            "labels",
            json!({"action": "addToPage", "id": "1"}),
            "`labels` is required",
        ),
        // A body the conversion would leave part of (an attribute that is no XML name).
        (
            "pages",
            json!({"action": "create", "spaceId": "1", "title": "T", "body": ":::p{1x=2}\nHi\n:::"}),
            "would lose part of it: line 1:1: attribute `1x` of directive `p` is not an XML name",
        ),
    ];
    for (tool, args, want) in cases {
        let e = s.err(tool, args.clone()).await;
        assert!(e.contains(want), "{tool} {args}: {e}");
    }
    let after = sim.admin(reqwest::Method::GET, "/stats", Value::Null).await["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before, "no request reached Confluence");
    // An unknown tool is a protocol error.
    let r = s.mcp.call_tool(CallToolRequestParams::new("jira")).await;
    assert!(r.is_err());
}

/// A Markdown body the conversion writes whole but reads oddly (a tag left open, an end tag
/// that closes nothing) is written, and the answer says so, line and column, in
/// `structuredContent` and in the text; a clean body's answer has no `warnings`.
#[tokio::test]
async fn markdown_writes_say_what_the_conversion_noticed() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let eng = space_id(&s, "ENG").await;
    let odd = "Intro <span>open\n\nnext </b> end\n";
    let want = [
        "the Markdown body, line 1:7: `<span>` not closed in the Markdown; closed at its container's end",
        "the Markdown body, line 3:6: `</b>` closes nothing open here; ignored",
    ];

    let created = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "Odd Markdown", "body": odd}),
        )
        .await;
    assert_eq!(created["warnings"], json!(want), "{created}");
    let id = created["page"]["id"].as_str().unwrap().to_string();
    let stored = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": id, "bodyFormat": "storage"}),
        )
        .await;
    assert_eq!(
        stored["body"]["value"], "<p>Intro <span>open</span></p><p>next  end</p>",
        "written as the warnings say"
    );

    let clean = s
        .ok(
            "pages",
            json!({"action": "update", "id": id, "body": "# Notes\n\nAll *fine*."}),
        )
        .await;
    assert!(clean.get("warnings").is_none(), "{clean}");
    let section = s
        .ok(
            "pages",
            json!({"action": "updateSection", "id": id, "heading": "Notes", "body": "a </i> b"}),
        )
        .await;
    assert_eq!(
        section["warnings"],
        json!(["the Markdown body, line 1:3: `</i>` closes nothing open here; ignored"])
    );
    // The text a model reads carries them too.
    let r = s
        .raw("pages", json!({"action": "update", "id": id, "body": odd}))
        .await;
    let t = text(&r);
    assert!(t.contains(&format!("warning: {}", want[0])), "{t}");
    assert!(t.contains(&format!("warning: {}", want[1])), "{t}");
    let comment = s
        .ok(
            "comments",
            json!({"action": "addFooter", "id": id, "body": odd}),
        )
        .await;
    assert_eq!(comment["warnings"], json!(want), "{comment}");
    let cid = comment["comment"]["id"].as_str().unwrap();
    let r = s
        .raw(
            "comments",
            json!({"action": "update", "commentId": cid, "body": odd}),
        )
        .await;
    let t = text(&r);
    assert!(
        t.starts_with(&format!(
            "update: comment {cid} on page {id}\nwarning: {}",
            want[0]
        )),
        "{t}"
    );
    let post = s
        .ok(
            "blogposts",
            json!({"action": "create", "spaceId": eng, "title": "Odd post", "body": odd}),
        )
        .await;
    assert_eq!(post["warnings"], json!(want), "{post}");
    // A storage body is sent as it is: nothing to say.
    let raw = s
        .ok(
            "blogposts",
            json!({"action": "update", "id": post["blogpost"]["id"], "body": "<p>x</p>", "bodyFormat": "storage"}),
        )
        .await;
    assert!(raw.get("warnings").is_none(), "{raw}");
}

#[tokio::test]
async fn read_only_mode_hides_and_refuses_writes() {
    let sim = Sim::start().await;
    let config = Config {
        read_only: true,
        ..Config::default()
    };
    let s = sim.session(config).await;
    let pages = s.tools.iter().find(|t| t.name == "pages").unwrap();
    let actions = pages.input_schema["properties"]["action"]["enum"].clone();
    assert_eq!(
        actions,
        json!([
            "list",
            "get",
            "getBody",
            "outline",
            "getSection",
            "getProperty",
            "getRestrictions",
            "views",
            "checkPermission"
        ])
    );
    let ann = pages.annotations.clone().unwrap();
    assert_eq!(ann.read_only_hint, Some(true));
    let eng = space_id(&s, "ENG").await;
    let e = s
        .err(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "nope", "body": "<p/>"}),
        )
        .await;
    assert!(e.contains("read-only"), "{e}");
    // Issue 12: read-only refusals were labelled invalid_argument; they are policy.
    assert!(e.starts_with("error (policy)"), "{e}");
    let found = s
        .ok(
            "search",
            json!({"action": "cql", "cql": "title ~ \"nope\" AND type = page"}),
        )
        .await;
    assert_eq!(found["count"], 0, "nothing was created");
}

#[tokio::test]
async fn tool_filtering_exposes_only_the_named_tools() {
    let sim = Sim::start().await;
    let s =
        Session::new(server(sim.classic().await, Config::default(), &["pages", "search"]).await)
            .await;
    let names: Vec<&str> = s.tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["pages", "search"]);
    assert!(
        s.mcp
            .call_tool(CallToolRequestParams::new("labels"))
            .await
            .is_err()
    );
    assert!(
        ConfluxServer::new(
            Ops::new(sim.classic().await, Config::default()),
            &["wiki".into()]
        )
        .is_err()
    );
}

#[tokio::test]
async fn space_lists_hold_on_every_call() {
    let sim = Sim::start().await;
    let full = sim.session(Config::default()).await;
    let ops_space = space_id(&full, "OPS").await;
    let ops_page = full
        .ok(
            "pages",
            json!({"action": "list", "spaceId": ops_space, "limit": 1}),
        )
        .await["items"][0]["id"]
        .clone();
    let eng_space = space_id(&full, "ENG").await;

    let config = Config {
        allow_spaces: vec!["ENG".into(), "OPS".into()],
        read_only_spaces: vec!["OPS".into()],
        deny_spaces: vec![],
        ..Config::default()
    };
    let s = sim.session(config).await;
    let spaces = s.ok("spaces", json!({"action": "list", "limit": 50})).await;
    let keys: Vec<&str> = spaces["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let e = s
        .err("spaces", json!({"action": "get", "key": "PRD"}))
        .await;
    assert!(e.contains("allow list"), "{e}");
    s.ok("pages", json!({"action": "get", "id": ops_page}))
        .await;
    let e = s
        .err(
            "labels",
            json!({"action": "addToPage", "id": ops_page, "labels": ["x"]}),
        )
        .await;
    assert!(e.contains("read-only"), "{e}");
    s.ok(
        "pages",
        json!({"action": "create", "spaceId": eng_space, "title": "allowed", "body": "<p/>"}),
    )
    .await;
    let found = s
        .ok(
            "search",
            json!({"action": "cql", "cql": "type = page ORDER BY title", "limit": 50}),
        )
        .await;
    for item in found["items"].as_array().unwrap() {
        let key = item["spaceKey"].as_str().unwrap_or("ENG");
        assert!(key == "ENG" || key == "OPS", "{item}");
    }

    let deny = Config {
        deny_spaces: vec!["ENG".into()],
        ..Config::default()
    };
    let d = sim.session(deny).await;
    let e = d
        .err(
            "pages",
            json!({"action": "create", "spaceId": eng_space, "title": "denied", "body": "<p/>"}),
        )
        .await;
    assert!(e.contains("deny list"), "{e}");
}

#[tokio::test]
async fn confluence_refusals_become_actionable_tool_errors() {
    let sim = Sim::start().await;
    // Missing scope: a read-only scoped token asked to write names the scope to add.
    let ro = Session::new(server(sim.scoped_read().await, Config::default(), &[]).await).await;
    let eng = space_id(&ro, "ENG").await;
    let e = ro
        .err(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "x", "body": "<p/>"}),
        )
        .await;
    assert!(
        e.contains("missing_scopes") && e.contains("write:page:confluence"),
        "{e}"
    );
    // Read-only scopes work end to end for reads.
    ro.ok(
        "search",
        json!({"action": "cql", "cql": "type = page", "limit": 1}),
    )
    .await;
    ro.ok("content", json!({"action": "tree", "spaceKey": "ENG"}))
        .await;

    let s = sim.session(Config::default()).await;
    let e = s
        .err("pages", json!({"action": "get", "id": "999999999"}))
        .await;
    assert!(e.contains("not_found") && e.contains("hint:"), "{e}");

    // 429 twice, then served: retried with Retry-After. Past the retry deadline: reported.
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 2, "status": 429, "retry_after": 0}}),
    )
    .await;
    s.ok("spaces", json!({"action": "list", "limit": 1})).await;
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 1000000, "status": 429, "retry_after": 0}}),
    )
    .await;
    let e = s.err("spaces", json!({"action": "list", "limit": 1})).await;
    assert!(e.contains("rate_limited") && e.contains("try again"), "{e}");
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 0}}),
    )
    .await;
    // 503 once: retried. Many: reported as transient.
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 1, "status": 503}}),
    )
    .await;
    s.ok("spaces", json!({"action": "list", "limit": 1})).await;
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 1000000, "status": 503}}),
    )
    .await;
    let e = s.err("spaces", json!({"action": "list", "limit": 1})).await;
    assert!(e.contains("upstream") && e.contains("transient"), "{e}");
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 0}}),
    )
    .await;

    // Revoked token: 401 with the way to reconnect; the secret never appears.
    let token = sim.info.classic_token.token.clone();
    sim.admin(
        reqwest::Method::POST,
        "/tokens/revoke",
        json!({"token": token}),
    )
    .await;
    let e = s.err("spaces", json!({"action": "list", "limit": 1})).await;
    assert!(e.contains("unauthorized") && e.contains("API token"), "{e}");
    assert!(!e.contains(&token));
}

#[tokio::test]
async fn streamable_http_serves_the_same_tools() {
    use rmcp::transport::StreamableHttpClientTransport;
    let sim = Sim::start().await;
    let server = ConfluxServer::new(Ops::new(sim.classic().await, Config::default()), &[]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(conflux_mcp::serve_http_on(server, listener, async {
        let _ = stopped.await;
    }));
    let transport = StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
    let s = Session::new(().serve(transport).await.expect("HTTP handshake")).await;
    assert_eq!(s.tools.len(), TOOLS.len());
    let found = s
        .ok(
            "search",
            json!({"action": "cql", "cql": "type = page AND label = runbook", "limit": 2}),
        )
        .await;
    assert!(found["count"].as_u64().unwrap() > 0);
    s.mcp.cancel().await.unwrap();
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

/// Issue "an agent cannot read the user's files": without `--files-root` no tool reads or
/// writes a local file (`bodyFile`, `outputFile`, `filePath`), and the refusal says how to
/// allow it; with it, paths resolve under the root only: `..`, absolute paths elsewhere and
/// symbolic links that lead out are refused, a link that stays inside is followed.
#[cfg(unix)]
#[tokio::test]
async fn local_files_only_under_the_files_root() {
    use std::fs;
    use std::os::unix::fs::symlink;

    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let outside = work.path().join("outside");
    fs::create_dir_all(root.join("notes")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(
        root.join("notes/body.md"),
        "# From a file\n\nRead through the root.\n",
    )
    .unwrap();
    fs::write(root.join("notes/data.bin"), b"bytes \x00\x01 from the root").unwrap();
    let secret = outside.join("secret.md");
    fs::write(&secret, "SECRET outside the root").unwrap();
    symlink(&secret, root.join("escape.md")).unwrap();
    symlink(&outside, root.join("out-dir")).unwrap();
    symlink("notes/body.md", root.join("inside.md")).unwrap();

    let sim = Sim::start().await;
    // Without a root: every path parameter is a policy error naming the flag.
    let none = sim.session(Config::default()).await;
    let eng = space_id(&none, "ENG").await;
    let page = none
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "Files page", "body": "inline"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let data = base64::engine::general_purpose::STANDARD.encode(b"inline bytes");
    let aid = none
        .ok(
            "attachments",
            json!({"action": "upload", "id": page, "fileName": "a.bin", "data": data}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let passwd = "/etc/passwd";
    let target = root.join("notes/never.md").display().to_string();
    for (tool, args) in [
        (
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "x", "bodyFile": passwd}),
        ),
        (
            "pages",
            json!({"action": "update", "id": page, "bodyFile": "notes/body.md"}),
        ),
        (
            "pages",
            json!({"action": "getBody", "id": page, "outputFile": target}),
        ),
        (
            "attachments",
            json!({"action": "upload", "id": page, "filePath": passwd}),
        ),
        (
            "attachments",
            json!({"action": "download", "id": aid, "outputFile": target}),
        ),
    ] {
        let e = none.err(tool, args.clone()).await;
        assert!(e.starts_with("error (policy)"), "{tool} {args}: {e}");
        assert!(
            e.contains("start the server with --files-root DIR to let agents read and write files under DIR"),
            "{e}"
        );
        assert!(!e.contains("root:"), "nothing of /etc/passwd: {e}");
    }
    assert!(!root.join("notes/never.md").exists());

    // With a root.
    let config = Config {
        files_root: Some(conflux_ops::FilesRoot::open(&root).unwrap()),
        ..Config::default()
    };
    let s = sim.session(config).await;
    let abs_inside = root.join("notes/body.md").display().to_string();
    for (n, path) in [
        "notes/body.md",
        abs_inside.as_str(),
        "inside.md",
        "notes/../notes/body.md",
    ]
    .into_iter()
    .enumerate()
    {
        let created = s
            .ok(
                "pages",
                json!({"action": "create", "spaceId": eng, "title": format!("From file {n}"), "bodyFile": path}),
            )
            .await;
        let id = created["page"]["id"].as_str().unwrap().to_string();
        let body = s.ok("pages", json!({"action": "getBody", "id": id})).await;
        assert!(
            body["body"]["value"]
                .as_str()
                .unwrap()
                .contains("Read through the root"),
            "{path}: {body}"
        );
    }
    let secret_abs = secret.display().to_string();
    let sneaky = format!("{}/../outside/secret.md", root.display());
    for path in [
        "../outside/secret.md",
        "notes/../../outside/secret.md",
        secret_abs.as_str(),
        sneaky.as_str(),
        passwd,
        "escape.md",
        "out-dir/secret.md",
    ] {
        let e = s
            .err(
                "pages",
                json!({"action": "create", "spaceId": eng, "title": "never", "bodyFile": path}),
            )
            .await;
        assert!(e.starts_with("error (policy)"), "{path}: {e}");
        assert!(!e.contains("SECRET") && !e.contains("root:x"), "{e}");
        let e = s
            .err(
                "attachments",
                json!({"action": "upload", "id": page, "filePath": path}),
            )
            .await;
        assert!(e.starts_with("error (policy)"), "{path}: {e}");
    }
    let e = s
        .err(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "never", "bodyFile": "notes/missing.md"}),
        )
        .await;
    assert!(e.contains("no such file"), "{e}");

    // Writes: inside the root they land there; through `..`, a link or an absolute path
    // elsewhere they are refused and nothing outside changes.
    s.ok(
        "pages",
        json!({"action": "getBody", "id": page, "outputFile": "notes/out.md"}),
    )
    .await;
    assert!(
        fs::read_to_string(root.join("notes/out.md"))
            .unwrap()
            .contains("inline")
    );
    let new_outside = outside.join("new.md").display().to_string();
    for path in [
        "../outside/new.md",
        new_outside.as_str(),
        "escape.md",
        "out-dir/new.md",
    ] {
        let e = s
            .err(
                "pages",
                json!({"action": "getBody", "id": page, "outputFile": path}),
            )
            .await;
        assert!(e.starts_with("error (policy)"), "{path}: {e}");
        let e = s
            .err(
                "attachments",
                json!({"action": "download", "id": aid, "outputFile": path}),
            )
            .await;
        assert!(e.starts_with("error (policy)"), "{path}: {e}");
    }
    assert_eq!(
        fs::read_to_string(&secret).unwrap(),
        "SECRET outside the root"
    );
    assert!(!outside.join("new.md").exists());

    // Attachments from and to files under the root.
    let up = s
        .ok(
            "attachments",
            json!({"action": "upload", "id": page, "filePath": "notes/data.bin"}),
        )
        .await;
    assert_eq!(up["title"], "data.bin");
    let from_file = up["id"].as_str().unwrap().to_string();
    let dl = s
        .ok(
            "attachments",
            json!({"action": "download", "id": from_file, "outputFile": "copy.bin"}),
        )
        .await;
    assert_eq!(dl["file"], "copy.bin");
    assert_eq!(
        fs::read(root.join("copy.bin")).unwrap(),
        b"bytes \x00\x01 from the root"
    );
}

/// Issue 12: `databases` get, delete and entries ignored the space lists (Atlassian's
/// database schema has no spaceId, so "check the space when present" checked nothing). The
/// space comes from the page above the database; where none can be found, refused.
#[tokio::test]
async fn issue_012_databases_obey_the_space_lists() {
    let sim = Sim::start().await;
    let open = sim.session(Config::default()).await;
    let eng = space_id(&open, "ENG").await;
    let ops = space_id(&open, "OPS").await;
    let eng_page = open
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "db parent", "body": "<p/>"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let under_page = open
        .ok(
            "databases",
            json!({"action": "create", "spaceId": eng, "title": "tracked", "parentId": eng_page}),
        )
        .await["database"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let folder = open
        .ok(
            "content",
            json!({"action": "createFolder", "spaceId": eng, "title": "f", "parentId": eng_page}),
        )
        .await["folder"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let under_folder = open
        .ok(
            "databases",
            json!({"action": "create", "spaceId": eng, "title": "in a folder", "parentId": folder}),
        )
        .await["database"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let at_root = open
        .ok(
            "databases",
            json!({"action": "create", "spaceId": ops, "title": "at the root"}),
        )
        .await["database"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deny = Config {
        deny_spaces: vec!["ENG".into()],
        ..Config::default()
    };
    let d = sim.session(deny).await;
    for db in [&under_page, &under_folder] {
        for action in ["get", "entries", "delete"] {
            let e = d
                .err("databases", json!({"action": action, "id": db}))
                .await;
            assert!(e.contains("deny list"), "{action} {db}: {e}");
        }
    }
    // Not deleted.
    open.ok("databases", json!({"action": "get", "id": under_page}))
        .await;
    // A database whose space cannot be established is refused while space lists apply...
    let e = d
        .err("databases", json!({"action": "get", "id": at_root}))
        .await;
    assert!(e.contains("cannot be established"), "{e}");
    // ...and served without them.
    open.ok("databases", json!({"action": "get", "id": at_root}))
        .await;
}

/// Issue 12: `comments.addFooter` with `parentCommentId` of a comment in a denied space and
/// `id` of an allowed page wrote the reply into the denied space. A reply's page is its
/// parent comment's, and that is the page checked.
#[tokio::test]
async fn issue_012_a_reply_is_checked_against_its_parent_comments_space() {
    let sim = Sim::start().await;
    let open = sim.session(Config::default()).await;
    let eng = space_id(&open, "ENG").await;
    let ops = space_id(&open, "OPS").await;
    let page = |space: String, title: &str| {
        let s = &open;
        let title = title.to_string();
        async move {
            s.ok(
                "pages",
                json!({"action": "create", "spaceId": space, "title": title, "body": "<p/>"}),
            )
            .await["page"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let denied_page = page(eng, "denied page").await;
    let allowed_page = page(ops, "allowed page").await;
    let comment = open
        .ok(
            "comments",
            json!({"action": "addFooter", "id": denied_page, "body": "first"}),
        )
        .await["comment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deny = Config {
        deny_spaces: vec!["ENG".into()],
        ..Config::default()
    };
    let d = sim.session(deny).await;
    let e = d
        .err(
            "comments",
            json!({"action": "addFooter", "id": allowed_page, "parentCommentId": comment, "body": "sneaky"}),
        )
        .await;
    assert!(e.contains("deny list") || e.contains("not on page"), "{e}");
    let e = d
        .err(
            "comments",
            json!({"action": "addFooter", "parentCommentId": comment, "body": "sneaky"}),
        )
        .await;
    assert!(e.contains("deny list"), "{e}");
    let listed = open
        .ok(
            "comments",
            json!({"action": "getFooter", "id": denied_page}),
        )
        .await;
    let text = listed.to_string();
    assert!(!text.contains("sneaky"), "nothing was written: {text}");
}

/// Issue 12: search text showed raw `@@@hl@@@` markers and result URLs were relative.
#[tokio::test]
async fn issue_012_search_highlights_read_as_bold_and_urls_are_absolute() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let found = s
        .ok(
            "search",
            json!({"action": "cql", "cql": "type = page AND text ~ \"runbook\"", "limit": 5}),
        )
        .await;
    let items = found["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let text = found.to_string();
    assert!(!text.contains("@@@"), "{text}");
    assert!(text.contains("**"), "matches are bold: {text}");
    for item in items {
        let url = item["url"].as_str().unwrap();
        assert!(url.starts_with(&sim.info.site_url), "{url}");
    }
}

/// Issue 12: a reply was created but no action listed it, and comments carried no author or
/// date. `getFooter` gives threads: replies (and replies to them) under their comment, each
/// with its author's account id and its date.
#[tokio::test]
async fn issue_012_footer_comments_are_threads_with_author_and_date() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let eng = space_id(&s, "ENG").await;
    let pid = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "threads", "body": "<p/>"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let add = |args: Value| {
        let s = &s;
        async move {
            s.ok("comments", args).await["comment"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let root = add(json!({"action": "addFooter", "id": pid, "body": "root"})).await;
    let other = add(json!({"action": "addFooter", "id": pid, "body": "second root"})).await;
    let reply =
        add(json!({"action": "addFooter", "parentCommentId": root, "body": "a reply"})).await;
    let nested =
        add(json!({"action": "addFooter", "parentCommentId": reply, "body": "a reply to it"}))
            .await;
    let footer = s
        .ok("comments", json!({"action": "getFooter", "id": pid}))
        .await;
    let items = footer["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![root.as_str(), other.as_str()],
        "roots only at the top: {footer}"
    );
    let replies = items[0]["replies"]
        .as_array()
        .expect("replies under the root");
    assert_eq!(replies.len(), 1, "{footer}");
    assert_eq!(replies[0]["id"], reply.as_str());
    assert_eq!(replies[0]["body"].as_str().unwrap().trim(), "a reply");
    assert_eq!(replies[0]["replies"][0]["id"], nested.as_str(), "{footer}");
    assert!(items[1].get("replies").is_none(), "{footer}");
    let me = sim.info.demo_account().unwrap().account_id.clone();
    for c in [&items[0], &replies[0], &replies[0]["replies"][0]] {
        assert_eq!(c["authorId"], me.as_str(), "{c}");
        assert!(
            c["createdAt"]
                .as_str()
                .is_some_and(|t| t.len() >= 20 && t.contains('T')),
            "{c}"
        );
    }
    // The readable text shows the thread too.
    let r = s
        .raw("comments", json!({"action": "getFooter", "id": pid}))
        .await;
    let t = text(&r);
    assert!(t.contains(&format!("  - comment {reply} by {me}")), "{t}");
    assert!(
        t.contains(&format!("    - comment {nested} by {me}")),
        "{t}"
    );
}

/// Issue 12: `pages update` ignored `parentId`; `pages list` and `create` took a space key for
/// `spaceId` and found nothing (while `spaces get` accepted keys); `pages get` ignored
/// `bodyFormat` without a word.
#[tokio::test]
async fn issue_012_pages_move_take_space_keys_and_get_bodies() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let id = |v: Value, at: &str| v[at]["id"].as_str().unwrap().to_string();
    // A key where an id is expected: created in that space, and listed by it.
    let parent = id(
        s.ok(
            "pages",
            json!({"action": "create", "spaceId": "ENG", "title": "new parent", "body": "p"}),
        )
        .await,
        "page",
    );
    let child = id(
        s.ok(
            "pages",
            json!({"action": "create", "spaceId": "ENG", "title": "to move", "body": "# Moved\n\nhere"}),
        )
        .await,
        "page",
    );
    let eng = space_id(&s, "ENG").await;
    let listed = s
        .ok(
            "pages",
            json!({"action": "list", "spaceId": "ENG", "title": "to move"}),
        )
        .await;
    assert_eq!(listed["count"], 1, "{listed}");
    assert_eq!(listed["items"][0]["spaceId"], eng.as_str());
    // Moved under the new parent, in the same space.
    let moved = s
        .ok(
            "pages",
            json!({"action": "update", "id": child, "parentId": parent}),
        )
        .await;
    assert_eq!(moved["page"]["parentId"], parent.as_str(), "{moved}");
    let ancestors = s
        .ok("content", json!({"action": "ancestors", "id": child}))
        .await;
    assert!(
        ancestors["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == parent.as_str() && a["title"] == "new parent"),
        "{ancestors}"
    );
    // Not across spaces, and not under itself: refused before anything is sent.
    let elsewhere = id(
        s.ok(
            "pages",
            json!({"action": "create", "spaceId": "OPS", "title": "other space", "body": "o"}),
        )
        .await,
        "page",
    );
    let e = s
        .err(
            "pages",
            json!({"action": "update", "id": child, "parentId": elsewhere}),
        )
        .await;
    assert!(e.contains("another space"), "{e}");
    let e = s
        .err(
            "pages",
            json!({"action": "update", "id": child, "parentId": child}),
        )
        .await;
    assert!(e.contains("its own parent"), "{e}");
    // The body comes with `get` when a format is asked for.
    let got = s
        .ok(
            "pages",
            json!({"action": "get", "id": child, "bodyFormat": "markdown"}),
        )
        .await;
    assert!(
        got["body"]["value"].as_str().unwrap().contains("# Moved"),
        "{got}"
    );
    let bare = s.ok("pages", json!({"action": "get", "id": child})).await;
    assert!(bare.get("body").is_none(), "{bare}");
    // A page by its title in a space (a key, too), as people name pages.
    let by_title = s
        .ok(
            "pages",
            json!({"action": "get", "title": "to move", "spaceId": "ENG"}),
        )
        .await;
    assert_eq!(by_title["page"]["id"], child.as_str(), "{by_title}");
    let e = s
        .err(
            "pages",
            json!({"action": "get", "title": "no such title here", "spaceId": "ENG"}),
        )
        .await;
    assert!(
        e.contains("not_found") && e.contains("no such title here"),
        "{e}"
    );
    let e = s
        .err("pages", json!({"action": "get", "title": "to move"}))
        .await;
    assert!(e.contains("`title` and `spaceId`"), "{e}");
}

/// Issue 12: a move is a write on the page (and its new parent, which Confluence keeps in
/// the same space): in a read-only space it is refused and nothing changes.
#[tokio::test]
async fn issue_012_a_move_in_a_read_only_space_is_refused() {
    let sim = Sim::start().await;
    let open = sim.session(Config::default()).await;
    let mk = |title: &str| {
        let s = &open;
        let title = title.to_string();
        async move {
            s.ok(
                "pages",
                json!({"action": "create", "spaceId": "ENG", "title": title, "body": "b"}),
            )
            .await["page"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let parent = mk("guarded parent").await;
    let child = mk("guarded child").await;
    let guarded = Session::new(
        server(
            sim.classic().await,
            Config {
                read_only_spaces: vec!["ENG".into()],
                ..Config::default()
            },
            &[],
        )
        .await,
    )
    .await;
    let e = guarded
        .err(
            "pages",
            json!({"action": "update", "id": child, "parentId": parent}),
        )
        .await;
    assert!(e.contains("read-only"), "{e}");
    let page = open
        .ok("pages", json!({"action": "get", "id": child}))
        .await;
    assert_eq!(page["page"]["version"], 1, "nothing was written: {page}");
    assert_ne!(page["page"]["parentId"], parent.as_str(), "{page}");
}

/// Issue 12: with scopes known before the first call (here an access token, whose grant
/// accessible-resources reports), write actions those scopes cannot perform stayed listed.
/// They are left out, with nothing sent to find out; a call to one anyway is refused by
/// Confluence naming the scope.
#[tokio::test]
async fn issue_012_writes_the_known_scopes_cannot_perform_are_not_listed() {
    let sim = Sim::start().await;
    let v = sim
        .admin(
            reqwest::Method::POST,
            "/tokens",
            json!({"kind": "oauth", "email": sim.info.classic_token.email, "expires_in": 3600,
                "scopes": ["read:page:confluence", "write:page:confluence", "read:space:confluence",
                    "read:comment:confluence"]}),
        )
        .await;
    let client = Client::connect(
        CredentialConfig::AccessToken {
            token: Secret::new(v["token"].as_str().unwrap().into()),
            site: Some(SiteUrl::parse(&sim.info.site_url).unwrap()),
            cloud_id: None,
        },
        sim.config(),
    )
    .await
    .unwrap();
    let before = sim.admin(reqwest::Method::GET, "/stats", json!({})).await["requests"]
        .as_u64()
        .unwrap();
    let s = Session::new(server(client, Config::default(), &[]).await).await;
    let after = sim.admin(reqwest::Method::GET, "/stats", json!({})).await["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(
        before, after,
        "listing the tools sent nothing to Confluence"
    );
    let actions = |tool: &str| -> Vec<String> {
        let t = s.tools.iter().find(|t| t.name == tool).unwrap();
        t.input_schema["properties"]["action"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let pages = actions("pages");
    assert!(pages.contains(&"create".to_string()), "{pages:?}");
    assert!(pages.contains(&"update".to_string()), "{pages:?}");
    assert!(
        !pages.contains(&"delete".to_string()),
        "no delete:page: {pages:?}"
    );
    let comments = actions("comments");
    assert!(comments.contains(&"getFooter".to_string()), "{comments:?}");
    assert!(!comments.contains(&"addFooter".to_string()), "{comments:?}");
    let labels = s.tools.iter().find(|t| t.name == "labels").unwrap();
    assert!(
        labels
            .description
            .as_deref()
            .unwrap_or_default()
            .contains("left out"),
        "{labels:?}"
    );
    assert_eq!(
        labels.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(true)
    );
    // Called anyway: Confluence's refusal, with the scope to add.
    let e = s
        .err(
            "comments",
            json!({"action": "addFooter", "id": "1", "body": "hi"}),
        )
        .await;
    assert!(e.contains("write:comment:confluence"), "{e}");
}

/// Issue 14: mentions in Markdown carry display names, `[@Name](confluence-user:ID)`, from one
/// bulk lookup per body (not one request per mention), kept for the next read.
#[tokio::test]
async fn issue_014_mentions_carry_names_from_one_lookup() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let me = s.ok("users", json!({"action": "me"})).await;
    let account = me["user"]["accountId"].as_str().unwrap().to_string();
    let name = me["user"]["displayName"].as_str().unwrap().to_string();
    let mention = format!("<ac:link><ri:user ri:account-id=\"{account}\"/></ac:link>");
    let body = format!("<p>{}</p>", vec![mention; 12].join(" and "));
    let eng = space_id(&s, "ENG").await;
    let page = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": eng, "title": "Mentions", "body": body, "bodyFormat": "storage"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bulk_lookups = || async {
        let stats = sim.admin(reqwest::Method::GET, "/stats", Value::Null).await;
        stats["recent_requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("users-bulk")))
            .count()
    };
    let before = bulk_lookups().await;
    let read = s
        .ok("pages", json!({"action": "getBody", "id": page}))
        .await;
    let text = read["body"]["value"].as_str().unwrap();
    let named = format!("[@{name}](confluence-user:");
    assert_eq!(text.matches(&named).count(), 12, "{text}");
    assert!(!text.contains(&format!("[@{account}]")), "{text}");
    assert_eq!(
        bulk_lookups().await - before,
        1,
        "one lookup for twelve mentions"
    );
    s.ok("pages", json!({"action": "getBody", "id": page}))
        .await;
    assert_eq!(bulk_lookups().await - before, 1, "the names are kept");
    // The named form writes back as the same mention.
    let back = s
        .ok(
            "pages",
            json!({"action": "update", "id": page, "body": text}),
        )
        .await;
    assert_eq!(back["page"]["version"], 2);
    let storage = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": page, "bodyFormat": "storage"}),
        )
        .await;
    let stored = storage["body"]["value"].as_str().unwrap();
    assert_eq!(stored.matches("ri:account-id").count(), 12, "{stored}");
    assert!(!stored.contains(&name), "the name is not stored: {stored}");
}

/// A space's template is that space's content: with the space denied, it is neither listed,
/// read, nor copied into a page of another space.
#[tokio::test]
async fn issue_014_templates_obey_the_space_lists() {
    let sim = Sim::start().await;
    let config = Config {
        deny_spaces: vec!["ENG".into()],
        ..Config::default()
    };
    let open = sim.session(Config::default()).await;
    let eng_templates = open
        .ok("templates", json!({"action": "list", "spaceId": "ENG"}))
        .await;
    let adr = eng_templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["spaceKey"] == "ENG")
        .expect("the demo site has a template of ENG")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = sim.session(config).await;
    let e = s
        .err("templates", json!({"action": "get", "id": adr}))
        .await;
    assert!(e.starts_with("error (policy)"), "{e}");
    let ops = space_id(&s, "OPS").await;
    let e = s
        .err(
            "pages",
            json!({"action": "createFromTemplate", "templateId": adr, "spaceId": ops, "title": "Leak"}),
        )
        .await;
    assert!(
        e.starts_with("error (policy)") && e.contains("keeps out"),
        "{e}"
    );
}

/// A blog post's labels and files keep to the space lists as a page's do: named by
/// `blogPostId`, or by the attachment's id, whatever `pageId` the caller adds (a page of an
/// allowed space named beside a denied post's attachment opens nothing).
#[tokio::test]
async fn issue_014_blog_post_labels_and_files_obey_the_space_lists() {
    let sim = Sim::start().await;
    let open = sim.session(Config::default()).await;
    let post = open
        .ok(
            "blogposts",
            json!({"action": "create", "spaceId": "ENG", "title": "Kept in", "body": "x"}),
        )
        .await["blogpost"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let data = base64::engine::general_purpose::STANDARD.encode(b"private");
    let att = open
        .ok(
            "attachments",
            json!({"action": "upload", "blogPostId": post, "fileName": "p.txt", "data": data}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ops = space_id(&open, "OPS").await;
    let ops_page = open
        .ok(
            "pages",
            json!({"action": "create", "spaceId": ops, "title": "Allowed", "body": "y"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = Session::new(
        server(
            sim.classic().await,
            Config {
                deny_spaces: vec!["ENG".into()],
                ..Config::default()
            },
            &[],
        )
        .await,
    )
    .await;
    for (tool, args) in [
        (
            "labels",
            json!({"action": "getForPage", "blogPostId": post}),
        ),
        (
            "labels",
            json!({"action": "addToPage", "blogPostId": post, "labels": ["x"]}),
        ),
        (
            "attachments",
            json!({"action": "listForPage", "blogPostId": post}),
        ),
        (
            "attachments",
            json!({"action": "downloadAll", "blogPostId": post}),
        ),
        (
            "attachments",
            json!({"action": "images", "blogPostId": post}),
        ),
        (
            "attachments",
            json!({"action": "get", "id": att, "pageId": ops_page}),
        ),
        (
            "attachments",
            json!({"action": "download", "id": att, "pageId": ops_page}),
        ),
        (
            "attachments",
            json!({"action": "delete", "id": att, "pageId": ops_page}),
        ),
    ] {
        let e = s.err(tool, args.clone()).await;
        assert!(e.starts_with("error (policy)"), "{tool} {args}: {e}");
    }
    // Still there, untouched.
    let listed = open
        .ok(
            "attachments",
            json!({"action": "listForPage", "blogPostId": post}),
        )
        .await;
    assert_eq!(listed["items"][0]["id"], json!(att), "{listed}");
}

/// A page as Confluence Cloud's editor writes it (block ids everywhere, an inline comment's
/// marker, a coloured cell, an indented paragraph, a decision) reads as Markdown through
/// `getBody`, and that Markdown written back keeps the comment's marker, the cell's colour,
/// the indent and the decision with its state and fallback.
#[tokio::test]
async fn cloud_editor_pages_read_as_markdown_and_write_back_whole() {
    let sim = Sim::start().await;
    let s = sim.session(Config::default()).await;
    let storage = "<h2 local-id=\"a1\">Plan</h2>\
        <p local-id=\"b2\">We <ac:inline-comment-marker ac:ref=\"c0ffee00-1111-2222-3333-444455556666\">ship Friday</ac:inline-comment-marker>.</p>\
        <p local-id=\"b3\" style=\"margin-left: 30.0px;\">Indented <strong>note</strong></p>\
        <table data-layout=\"default\" ac:local-id=\"t1\"><tbody>\
        <tr ac:local-id=\"r1\"><th ac:local-id=\"h1\"><p local-id=\"p1\">Step</p></th></tr>\
        <tr ac:local-id=\"r2\"><td data-highlight-colour=\"#e3fcef\" ac:local-id=\"d1\"><p local-id=\"p2\">Done</p></td></tr>\
        </tbody></table>\
        <ac:adf-extension><ac:adf-node type=\"decision-list\"><ac:adf-attribute key=\"local-id\">l1</ac:adf-attribute>\
        <ac:adf-node type=\"decision-item\"><ac:adf-attribute key=\"local-id\">i1</ac:adf-attribute>\
        <ac:adf-attribute key=\"state\">UNDECIDED</ac:adf-attribute><ac:adf-content>Ship <em>Friday</em>?</ac:adf-content>\
        </ac:adf-node></ac:adf-node><ac:adf-fallback><ul class=\"decision-list\"><li>Ship <em>Friday</em>?</li></ul>\
        </ac:adf-fallback></ac:adf-extension>\
        <ac:adf-extension><ac:adf-node type=\"panel\"><ac:adf-attribute key=\"panel-type\">note</ac:adf-attribute>\
        <ac:adf-attribute key=\"local-id\">n1</ac:adf-attribute><ac:adf-content><p local-id=\"p3\">Ask <strong>ops</strong> first</p></ac:adf-content>\
        </ac:adf-node><ac:adf-fallback><div class=\"panel\" style=\"background-color: rgb(234,230,255);\"><div class=\"panelContent\">\
        <p>Ask <strong>ops</strong> first</p></div></div></ac:adf-fallback></ac:adf-extension>";
    let id = s
        .ok(
            "pages",
            json!({"action": "create", "spaceId": "ENG", "title": "Cloud editor page", "body": storage, "bodyFormat": "storage"}),
        )
        .await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let md = s.ok("pages", json!({"action": "getBody", "id": id})).await;
    let md = md["body"]["value"].as_str().unwrap().to_string();
    assert_eq!(
        md.trim_end(),
        "## Plan\n\n\
         We [ship Friday]{ac:ref=c0ffee00-1111-2222-3333-444455556666}.\n\n\
         :::p{style=\"margin-left: 30.0px;\"}\n\nIndented **note**\n\n:::\n\n\
         :::list-table{header-rows=1}\n\n\
         * - Step\n\
         * - ::cell{data-highlight-colour=#e3fcef}\n\n    Done\n\n:::\n\n\
         :::decision-list\n\n- ::decision{state=UNDECIDED}\n\n  Ship *Friday*?\n\n:::\n\n\
         :::adf-panel{panel-type=note}\n\n::fallback{class=panel style=\"background-color: rgb(234,230,255);\"}\n\n\
         ::fallback{class=panelContent}\n\nAsk **ops** first\n\n:::",
        "{md}"
    );
    s.ok(
        "pages",
        json!({"action": "update", "id": id, "body": md, "version": 2}),
    )
    .await;
    let back = s
        .ok(
            "pages",
            json!({"action": "getBody", "id": id, "bodyFormat": "storage"}),
        )
        .await;
    let back = back["body"]["value"].as_str().unwrap();
    for kept in [
        "<ac:inline-comment-marker ac:ref=\"c0ffee00-1111-2222-3333-444455556666\">ship Friday</ac:inline-comment-marker>",
        "<p style=\"margin-left: 30.0px;\">Indented <strong>note</strong></p>",
        "<td data-highlight-colour=\"#e3fcef\"><p>Done</p></td>",
        "<ac:adf-attribute key=\"state\">UNDECIDED</ac:adf-attribute><ac:adf-content>Ship <em>Friday</em>?</ac:adf-content>",
        "<ac:adf-fallback><ul class=\"decision-list\"><li>Ship <em>Friday</em>?</li></ul></ac:adf-fallback>",
        "<ac:adf-node type=\"panel\"><ac:adf-attribute key=\"panel-type\">note</ac:adf-attribute>\
         <ac:adf-content><p>Ask <strong>ops</strong> first</p></ac:adf-content></ac:adf-node>\
         <ac:adf-fallback><div class=\"panel\" style=\"background-color: rgb(234,230,255);\"><div class=\"panelContent\">\
         <p>Ask <strong>ops</strong> first</p></div></div></ac:adf-fallback>",
    ] {
        assert!(back.contains(kept), "{kept} in {back}");
    }
}

/// An `initialize` on a revision that keeps sessions, over raw HTTP: its status, its session
/// id, its JSON-RPC error.
async fn open_session(
    http: &reqwest::Client,
    url: &str,
    revision: &str,
) -> (u16, Option<String>, Value) {
    let r = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({
            "jsonrpc": "2.0", "id": 7, "method": "initialize",
            "params": {"protocolVersion": revision, "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}
        }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let id = r
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_string());
    let text = r.text().await.unwrap();
    let body = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .unwrap_or(&text);
    (
        status,
        id,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// Sessions of older clients are bounded: past the process's total an `initialize` gets 503,
/// past a verified caller's share 429, each with a JSON-RPC error that says what to do; a
/// closed session makes room again, and other callers are not held back by one that is full.
/// (A client opening sessions without end ran one process from 400 MB to 1 GB in 34 s.)
#[tokio::test]
async fn sessions_are_bounded_in_all_and_per_caller() {
    use conflux_mcp::{Caller, HttpOptions, SessionLimits, VerifiedCaller};
    let sim = Sim::start().await;
    let server = ConfluxServer::new(Ops::new(sim.classic().await, Config::default()), &[]).unwrap();
    let options = HttpOptions {
        session_limits: SessionLimits {
            total: 3,
            per_caller: 2,
        },
        ..HttpOptions::default()
    };
    // What the authentication layer in front puts on a verified request: here, the agent a
    // test header names (the real layer takes it from a verified credential only).
    let router = conflux_mcp::http_router_with(server, options).layer(axum::middleware::from_fn(
        |mut req: axum::extract::Request, next: axum::middleware::Next| async move {
            if let Some(agent) = req
                .headers()
                .get("x-test-agent")
                .and_then(|v| v.to_str().ok())
            {
                let caller = Caller::Verified(VerifiedCaller {
                    agent_id: agent.to_string(),
                    agent_name: None,
                    user_id: Some("u1".into()),
                    read_only: false,
                });
                req.extensions_mut().insert(caller);
            }
            next.run(req).await
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(conflux_mcp::listen::serve(
        listener,
        router,
        conflux_mcp::listen::Limits::default(),
        std::future::pending(),
    ));
    let url = format!("http://{addr}/mcp");
    let agent = |name: &str| {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-test-agent", name.parse().unwrap());
        reqwest::Client::builder()
            .default_headers(h)
            .build()
            .unwrap()
    };
    let (a, b) = (agent("agent-a"), agent("agent-b"));

    let (s1, id1, _) = open_session(&a, &url, "2025-06-18").await;
    let (s2, _, _) = open_session(&a, &url, "2025-03-26").await;
    assert_eq!((s1, s2), (200, 200));
    let id1 = id1.expect("a session id");
    // A's third: its share is full.
    let (s, id, e) = open_session(&a, &url, "2025-06-18").await;
    assert_eq!((s, id), (429, None), "{e}");
    assert_eq!(e["id"], 7, "{e}");
    assert_eq!(e["error"]["code"], -32000, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("2 open MCP sessions") && msg.contains("DELETE"),
        "{msg}"
    );
    // B is not held back by A: its first fills the process (3).
    assert_eq!(open_session(&b, &url, "2025-06-18").await.0, 200);
    // Then anyone's next is past the total.
    let (s, _, e) = open_session(&b, &url, "2025-06-18").await;
    assert_eq!(s, 503, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 open MCP sessions")
    );
    // Unauthenticated-by-this-layer callers count in the total too.
    assert_eq!(
        open_session(&reqwest::Client::new(), &url, "2025-06-18")
            .await
            .0,
        503
    );
    // However the method is spelled in JSON.
    let escaped = b
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(
            r#"{"jsonrpc":"2.0","id":8,"method":"initi\u0061lize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(escaped.status().as_u16(), 503);
    // Closing one of A's makes room, for A too.
    let closed = a
        .delete(&url)
        .header("mcp-session-id", &id1)
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    let mut reopened = 0;
    for _ in 0..50 {
        reopened = open_session(&a, &url, "2025-06-18").await.0;
        if reopened == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(reopened, 200);
}
