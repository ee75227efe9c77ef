//! Doctor's predictions against what the calls actually do, for every credential kind and
//! scope set and every tool action; and golden output of the report.
//! Issue: "a matrix ... asserting that doctor's prediction equals what the call actually does,
//! and that each refusal names exactly the missing scope".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use base64::Engine as _;
use conflux_client::{Client, ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_ops::catalog::TOOLS;
use conflux_ops::doctor::{Options, Report, Status};
use conflux_ops::{Config, OpErrorKind, Ops};
use conflux_sim::SimInfo;
use conflux_testkit::Sim;
use conflux_types::{BaseUrl, PageId, Secret, SiteUrl};
use serde_json::{Value, json};

struct World {
    sim: Sim,
    classic: Client,
    space_id: String,
    page_id: String,
    attachment_id: String,
    section: String,
    database_id: String,
    post_id: String,
    me: String,
    template_id: String,
}

fn config(info: &SimInfo) -> ClientConfig {
    let mut c = ClientConfig {
        endpoints: Endpoints {
            gateway: BaseUrl::parse(&info.gateway_url).unwrap(),
            identity: BaseUrl::parse(&info.identity_url).unwrap(),
        },
        ..ClientConfig::default()
    };
    c.retry.max_attempts = 1;
    c
}

impl World {
    async fn start() -> World {
        let sim = Sim::demo(11).await;
        let info = &sim.info;
        let classic = Client::connect(
            CredentialConfig::ApiToken {
                email: info.classic_token.email.clone(),
                token: Secret::new(info.classic_token.token.clone()),
                site: Some(SiteUrl::parse(&info.site_url).unwrap()),
                cloud_id: None,
                kind: TokenKindHint::Detect,
                scopes: None,
            },
            config(info),
        )
        .await
        .unwrap();
        let space_id = classic.spaces().get_by_key_or_id("ENG").await.unwrap().id;
        // A page of our own with a history, a heading and an attachment.
        let page = classic
            .pages()
            .create(&conflux_client::api::NewPage {
                space_id: space_id.clone(),
                title: "Doctor matrix".into(),
                parent_id: None,
                body: "<h2>Intro</h2><p>one</p>".into(),
                status: None,
            })
            .await
            .unwrap();
        let page_id = page.id.clone();
        let update = conflux_client::api::PageUpdate {
            title: "Doctor matrix".into(),
            body: "<h2>Intro</h2><p>two</p>".into(),
            version: 2,
            message: None,
            status: None,
            parent_id: None,
        };
        classic
            .pages()
            .update(page_id.clone().into(), &update)
            .await
            .unwrap();
        let attachment_id = classic
            .attachments()
            .upload(
                PageId::new(&page_id),
                conflux_client::api::NewAttachment {
                    file_name: "matrix.txt".into(),
                    media_type: "text/plain".into(),
                    bytes: b"matrix".to_vec().into(),
                    comment: None,
                },
            )
            .await
            .unwrap();
        // An image too, so that `images` downloads something.
        classic
            .attachments()
            .upload(
                PageId::new(&page_id),
                conflux_client::api::NewAttachment {
                    file_name: "matrix.png".into(),
                    media_type: "image/png".into(),
                    bytes: b"\x89PNG\r\n\x1a\n".to_vec().into(),
                    comment: None,
                },
            )
            .await
            .unwrap();
        let database_id = classic
            .databases()
            .create(&space_id, "Matrix tracker", None)
            .await
            .unwrap()
            .id;
        classic
            .properties()
            .create(
                &conflux_client::api::Owner::Page(PageId::new(&page_id)),
                "matrix",
                json!({"n": 0}),
            )
            .await
            .unwrap();
        let post_id = classic
            .blogposts()
            .create(&conflux_client::api::NewBlogPost {
                space_id: space_id.clone(),
                title: "Matrix news".into(),
                body: "<p>news</p>".into(),
                status: None,
            })
            .await
            .unwrap()
            .id;
        let me = classic.users().current().await.unwrap().account_id;
        let template_id = classic
            .templates()
            .list(None, false, &conflux_client::PageRequest::limit(1))
            .await
            .unwrap()
            .results
            .first()
            .expect("the demo site has a global template")
            .template_id
            .clone();
        let ops = Ops::new(classic.clone(), Config::default());
        let outline = ops
            .call("pages", "outline", json!({"id": page_id}))
            .await
            .unwrap()
            .to_json();
        let section = first_section(&outline).expect("the page has a section");
        World {
            sim,
            classic,
            space_id,
            page_id,
            attachment_id,
            section,
            database_id,
            post_id,
            me,
            template_id,
        }
    }

    async fn mint(&self, kind: &str, scopes: &[&str]) -> String {
        self.sim
            .token(json!({"kind": kind, "email": self.sim.info.classic_token.email, "scopes": scopes, "expires_in": 3600}))
            .await
    }

    async fn client(&self, kind: &str, scopes: &[&str]) -> Client {
        let site = Some(SiteUrl::parse(&self.sim.info.site_url).unwrap());
        let cred = match kind {
            "classic" => return self.classic.clone(),
            "scoped" => CredentialConfig::ApiToken {
                email: self.sim.info.classic_token.email.clone(),
                token: Secret::new(self.mint("scoped", scopes).await),
                site,
                cloud_id: None,
                kind: TokenKindHint::Detect,
                scopes: None,
            },
            "oauth" => CredentialConfig::AccessToken {
                token: Secret::new(self.mint("oauth", scopes).await),
                site,
                cloud_id: None,
            },
            other => panic!("{other}"),
        };
        Client::connect(cred, config(&self.sim.info)).await.unwrap()
    }

    /// A page made for one destructive call, by the classic token.
    async fn scratch(&self) -> String {
        let page = self
            .classic
            .pages()
            .create(&conflux_client::api::NewPage {
                space_id: self.space_id.clone(),
                title: format!(
                    "scratch {}",
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_nanos()
                ),
                parent_id: None,
                body: "<h2>Alpha</h2><p>alpha text</p>".into(),
                status: None,
            })
            .await
            .unwrap();
        page.id
    }

    /// Calls `tool.action` as its [`MATRIX`] case says, with arguments that work for a
    /// credential that may do it.
    async fn call(
        &self,
        ops: &Ops,
        tool: &str,
        action: &'static str,
    ) -> Result<Value, conflux_ops::OpError> {
        let case = MATRIX
            .iter()
            .find(|c| c.tool == tool && c.action == action)
            .unwrap_or_else(|| {
                panic!("the matrix does not know how to call {tool}.{action}: add it to MATRIX")
            });
        let unique = format!(
            "m{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let scratch = match case.setup {
            Setup::Nothing => String::new(),
            Setup::ScratchPage => self.scratch().await,
            Setup::ScratchDatabase => {
                self.classic
                    .databases()
                    .create(&self.space_id, &unique, None)
                    .await
                    .unwrap()
                    .id
            }
            Setup::ScratchComment => {
                self.classic
                    .comments()
                    .add_footer(Some(self.page_id.clone().into()), None, "<p>scratch</p>")
                    .await
                    .unwrap()
                    .id
            }
            Setup::ScratchPost => {
                self.classic
                    .blogposts()
                    .create(&conflux_client::api::NewBlogPost {
                        space_id: self.space_id.clone(),
                        title: unique.clone(),
                        body: "<p>scratch</p>".into(),
                        status: None,
                    })
                    .await
                    .unwrap()
                    .id
            }
            Setup::ScratchInline => {
                self.classic
                    .comments()
                    .add_inline(
                        self.page_id.clone().into(),
                        "<p>scratch</p>",
                        &conflux_client::api::TextSelection {
                            text: "two".into(),
                            match_count: Some(1),
                            match_index: Some(0),
                        },
                    )
                    .await
                    .unwrap()
                    .id
            }
            Setup::ScratchAttachment => self
                .classic
                .attachments()
                .upload(
                    PageId::new(&self.page_id),
                    conflux_client::api::NewAttachment {
                        file_name: format!("{unique}.txt"),
                        media_type: "text/plain".into(),
                        bytes: b"scratch".to_vec().into(),
                        comment: None,
                    },
                )
                .await
                .unwrap(),
        };
        // What the call sends is all that is recorded from here on.
        self.reset_requests().await;
        let ctx = Ctx {
            space: self.space_id.clone(),
            page: self.page_id.clone(),
            attachment: self.attachment_id.clone(),
            section: self.section.clone(),
            database: self.database_id.clone(),
            post: self.post_id.clone(),
            me: self.me.clone(),
            template: self.template_id.clone(),
            scratch,
            unique,
            data: base64::engine::general_purpose::STANDARD.encode(b"doctor matrix"),
        };
        // The path every surface takes: the declaration's argument check, the guardrails,
        // then the action.
        ops.call(tool, action, (case.args)(&ctx))
            .await
            .map(|out| out.to_json())
    }

    /// What the simulator has answered since the last reset: `(method, path)` of each request.
    async fn requests_since_reset(&self) -> Vec<(String, String)> {
        let stats = self.sim.stats().await;
        stats["recent_requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap().to_string(),
                    r["path"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    async fn reset_requests(&self) {
        self.sim.admin_api().post("/stats/reset", json!({})).await;
    }
}

/// What a matrix call makes (with the classic token) before it runs.
#[derive(Clone, Copy)]
enum Setup {
    Nothing,
    /// A page of its own, for an action that changes or deletes it.
    ScratchPage,
    /// A database of its own, for an action that deletes it.
    ScratchDatabase,
    /// A footer comment of its own on the matrix page, for an action that deletes it.
    ScratchComment,
    /// An attachment of its own on the matrix page, for an action that deletes it.
    ScratchAttachment,
    /// A blog post of its own, for an action that deletes it.
    ScratchPost,
    /// An inline comment of its own on the matrix page, for an action that resolves it.
    ScratchInline,
}

/// The values a call's arguments are made of.
struct Ctx {
    space: String,
    page: String,
    attachment: String,
    section: String,
    database: String,
    post: String,
    /// The classic token's account id.
    me: String,
    /// A page template.
    template: String,
    /// The page or database `Setup` made, else empty.
    scratch: String,
    /// A fresh title.
    unique: String,
    /// Base64 file content.
    data: String,
}

/// How the matrix calls one tool action.
struct Case {
    tool: &'static str,
    action: &'static str,
    setup: Setup,
    args: fn(&Ctx) -> Value,
}

const fn case(tool: &'static str, action: &'static str, args: fn(&Ctx) -> Value) -> Case {
    Case {
        tool,
        action,
        setup: Setup::Nothing,
        args,
    }
}

const fn on_scratch_page(
    tool: &'static str,
    action: &'static str,
    args: fn(&Ctx) -> Value,
) -> Case {
    Case {
        setup: Setup::ScratchPage,
        ..case(tool, action, args)
    }
}

/// Every call the matrix makes, one per tool action; `matrix_covers_exactly_the_tool_actions`
/// holds it to the declared actions.
const MATRIX: &[Case] = &[
    case("pages", "list", |c| json!({"spaceId": c.space, "limit": 2})),
    case("pages", "get", |c| json!({"id": c.page})),
    case("pages", "getBody", |c| json!({"id": c.page})),
    case("pages", "outline", |c| json!({"id": c.page})),
    case(
        "pages",
        "getSection",
        |c| json!({"id": c.page, "sectionId": c.section}),
    ),
    case(
        "pages",
        "create",
        |c| json!({"spaceId": c.space, "title": c.unique, "body": "hi"}),
    ),
    on_scratch_page(
        "pages",
        "update",
        |c| json!({"id": c.scratch, "body": "changed"}),
    ),
    on_scratch_page(
        "pages",
        "updateSection",
        |c| json!({"id": c.scratch, "heading": "Alpha", "body": "new text"}),
    ),
    on_scratch_page(
        "pages",
        "replace",
        |c| json!({"id": c.scratch, "find": "alpha text", "replaceWith": "beta", "expectedCount": 1}),
    ),
    on_scratch_page("pages", "delete", |c| json!({"id": c.scratch})),
    on_scratch_page(
        "pages",
        "move",
        |c| json!({"id": c.scratch, "targetId": c.page}),
    ),
    case(
        "pages",
        "getProperty",
        |c| json!({"id": c.page, "key": "matrix"}),
    ),
    case(
        "pages",
        "setProperty",
        |c| json!({"id": c.page, "key": "matrix", "value": {"n": 1}}),
    ),
    case("pages", "getRestrictions", |c| json!({"id": c.page})),
    case(
        "pages",
        "copy",
        |c| json!({"id": c.page, "targetId": c.page, "title": c.unique}),
    ),
    case("pages", "views", |c| json!({"id": c.page})),
    case(
        "pages",
        "createFromTemplate",
        |c| json!({"templateId": c.template, "spaceId": c.space, "title": c.unique}),
    ),
    case("templates", "list", |c| json!({"spaceId": c.space})),
    case("templates", "get", |c| json!({"id": c.template})),
    case(
        "attachments",
        "update",
        |c| json!({"id": c.page, "fileName": "matrix.txt", "mediaType": "text/plain", "data": c.data}),
    ),
    on_scratch_page(
        "pages",
        "setRestrictions",
        |c| json!({"id": c.scratch, "operation": "update", "users": [c.me]}),
    ),
    case(
        "pages",
        "checkPermission",
        |c| json!({"id": c.page, "accountId": c.me, "operation": "update"}),
    ),
    case("users", "search", |_| json!({"query": "a", "limit": 2})),
    case("users", "get", |c| json!({"accountId": c.me})),
    case("users", "me", |_| json!({})),
    case(
        "blogposts",
        "list",
        |c| json!({"spaceId": c.space, "limit": 2}),
    ),
    case("blogposts", "get", |c| json!({"id": c.post})),
    case("blogposts", "getBody", |c| json!({"id": c.post})),
    case(
        "blogposts",
        "create",
        |c| json!({"spaceId": c.space, "title": c.unique, "body": "hi"}),
    ),
    case(
        "blogposts",
        "update",
        |c| json!({"id": c.post, "body": c.unique}),
    ),
    Case {
        setup: Setup::ScratchPost,
        ..case("blogposts", "delete", |c| json!({"id": c.scratch}))
    },
    Case {
        setup: Setup::ScratchComment,
        ..case(
            "comments",
            "update",
            |c| json!({"commentId": c.scratch, "body": "edited"}),
        )
    },
    case(
        "comments",
        "addInline",
        |c| json!({"id": c.page, "body": "why?", "selection": "two"}),
    ),
    Case {
        setup: Setup::ScratchInline,
        ..case(
            "comments",
            "resolveInline",
            |c| json!({"commentId": c.scratch}),
        )
    },
    case("spaces", "list", |_| json!({})),
    case("spaces", "get", |c| json!({"id": c.space})),
    case("spaces", "permissions", |c| json!({"id": c.space})),
    case(
        "search",
        "cql",
        |_| json!({"cql": "type = page", "limit": 2}),
    ),
    case("content", "children", |c| json!({"id": c.page})),
    case("content", "ancestors", |c| json!({"id": c.page})),
    case("content", "descendants", |c| json!({"id": c.page})),
    case("content", "folders", |c| json!({"id": c.page})),
    case(
        "content",
        "tree",
        |c| json!({"spaceId": c.space, "depth": 1}),
    ),
    case(
        "content",
        "createFolder",
        |c| json!({"spaceId": c.space, "title": c.unique}),
    ),
    case("comments", "getFooter", |c| json!({"id": c.page})),
    case("comments", "getInline", |c| json!({"id": c.page})),
    Case {
        setup: Setup::ScratchComment,
        ..case("comments", "delete", |c| json!({"commentId": c.scratch}))
    },
    case(
        "comments",
        "addFooter",
        |c| json!({"id": c.page, "body": "nice"}),
    ),
    case("labels", "getForPage", |c| json!({"id": c.page})),
    case(
        "labels",
        "remove",
        |c| json!({"id": c.page, "labels": ["matrix"]}),
    ),
    case(
        "labels",
        "addToPage",
        |c| json!({"id": c.page, "labels": ["matrix"]}),
    ),
    case("attachments", "listForPage", |c| json!({"id": c.page})),
    Case {
        setup: Setup::ScratchAttachment,
        ..case("attachments", "delete", |c| json!({"id": c.scratch}))
    },
    case("attachments", "get", |c| json!({"id": c.attachment})),
    case(
        "attachments",
        "download",
        |c| json!({"id": c.attachment, "pageId": c.page}),
    ),
    case("attachments", "downloadAll", |c| json!({"id": c.page})),
    case("attachments", "images", |c| json!({"id": c.page})),
    case(
        "attachments",
        "upload",
        |c| json!({"id": c.page, "fileName": format!("{}.txt", c.unique), "mediaType": "text/plain", "data": c.data}),
    ),
    case("versions", "listForPage", |c| json!({"id": c.page})),
    case("versions", "get", |c| json!({"id": c.page, "version": 1})),
    case(
        "versions",
        "diff",
        |c| json!({"id": c.page, "from": 1, "to": 2}),
    ),
    case("databases", "get", |c| json!({"id": c.database})),
    case("databases", "entries", |c| json!({"id": c.database})),
    case(
        "databases",
        "create",
        |c| json!({"spaceId": c.space, "title": c.unique}),
    ),
    Case {
        setup: Setup::ScratchDatabase,
        ..case("databases", "delete", |c| json!({"id": c.scratch}))
    },
    case("connection", "check", |_| json!({"tools": ["spaces"]})),
];

/// The tool actions ops declares (today `conflux_ops::catalog::TOOLS`, the one list the tools,
/// the doctor and the scope tables are built from), as `(tool, action)`.
fn declared_actions() -> BTreeSet<(&'static str, &'static str)> {
    TOOLS
        .iter()
        .flat_map(|t| t.actions.iter().map(move |a| (t.name, a.name)))
        .collect()
}

fn first_section(outline: &Value) -> Option<String> {
    let sections = outline
        .pointer("/sections")
        .or_else(|| outline.pointer("/data/sections"))?;
    let first = sections.as_array()?.first()?;
    first
        .get("id")
        .or_else(|| first.get("sectionId"))
        .and_then(Value::as_str)
        .map(String::from)
}

/// Runs the doctor and every action for one credential and compares.
async fn check(world: &World, kind: &str, scopes: &[&str]) -> Report {
    let client = world.client(kind, scopes).await;
    let report = conflux_ops::doctor::diagnose(&client, &Options::default()).await;
    let ops = Ops::new(client, Config::default());
    let mut mismatches = Vec::new();
    for tool in TOOLS {
        for action in tool.actions {
            let predicted = report
                .actions
                .iter()
                .find(|a| a.tool == tool.name && a.action == action.name)
                .unwrap_or_else(|| panic!("doctor reports {}.{}", tool.name, action.name));
            let actual = world.call(&ops, tool.name, action.name).await;
            let agrees = match (&actual, predicted.status) {
                (Ok(_), Status::Ok) => true,
                (Err(e), Status::MissingScopes) if e.kind == OpErrorKind::MissingScopes => {
                    // The refusal's own structure, not its wording.
                    let named: BTreeSet<String> = e
                        .missing_scopes()
                        .map(|m| {
                            m.missing_granular
                                .names()
                                .into_iter()
                                .map(String::from)
                                .collect()
                        })
                        .unwrap_or_default();
                    let predicted: BTreeSet<String> =
                        predicted.missing_scopes.iter().cloned().collect();
                    // A call stops at its first refused step and names that step's scopes; the
                    // doctor names every scope the action lacks. A call whose credential's scopes
                    // are unknown names what the step needs and says one of them is lacking.
                    if e.missing_scopes().is_some_and(|m| !m.exact) {
                        !predicted.is_empty() && predicted.iter().any(|p| named.contains(p))
                    } else if action.operations.len() == 1 {
                        named == predicted
                    } else {
                        !named.is_empty() && named.is_subset(&predicted)
                    }
                }
                (Err(e), Status::Forbidden) => e.kind == OpErrorKind::Forbidden,
                // The doctor, having probed every route, knows a v1 operation is closed to
                // this kind of credential; the call, not knowing the credential's scopes, names
                // both explanations (a missing scope, or v1 closed to scoped credentials).
                (Err(e), Status::Unsupported) => {
                    e.kind == OpErrorKind::NotFound
                        || e.message.contains("no public API")
                        || e.message.contains("although this")
                        || (e.kind == OpErrorKind::MissingScopes
                            && e.missing_scopes().is_some_and(|m| !m.exact)
                            && e.message.contains("refuses v1 endpoints"))
                }
                _ => false,
            };
            if !agrees {
                mismatches.push(format!(
                    "{}.{}: doctor said {:?} {:?}, the call gave {:?}",
                    tool.name,
                    action.name,
                    predicted.status,
                    predicted.missing_scopes,
                    actual.as_ref().err().map(|e| (e.kind, e.message.clone()))
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{kind} {scopes:?}:\n{}",
        mismatches.join("\n")
    );
    report
}

fn all_scopes(read_only: bool) -> Vec<&'static str> {
    conflux_ops::catalog::scopes_for(&[], read_only).names()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictions_match_calls_for_every_credential_and_scope_set() {
    let world = World::start().await;
    let full = all_scopes(false);
    let read = all_scopes(true);

    // Unscoped, and complete and read-only scope sets of both kinds.
    check(&world, "classic", &[]).await;
    for kind in ["scoped", "oauth"] {
        let r = check(&world, kind, &full).await;
        assert!(
            r.actions
                .iter()
                .all(|a| a.status == Status::Ok || a.status == Status::Unsupported),
            "{kind} full: {r:#?}"
        );
        let r = check(&world, kind, &read).await;
        assert!(r.actions.iter().any(|a| a.status == Status::MissingScopes));
    }
    // Each single scope missing from the full set, for both kinds.
    for missing in &full {
        let set: Vec<&str> = full.iter().copied().filter(|s| s != missing).collect();
        for kind in ["scoped", "oauth"] {
            let r = check(&world, kind, &set).await;
            // Either the scope is named as the one to add, or another route covers every
            // action that needed it (and the report says which).
            let covered = r
                .actions
                .iter()
                .all(|a| a.status == Status::Ok || a.status == Status::Unsupported)
                && r.actions.iter().any(|a| a.detail.contains("falls back"));
            // A scope only an extra needs (names of mentioned people, a copy's tree): every
            // action works, and the doctor names it as optional.
            let optional =
                r.scopes_to_add.is_empty() && r.optional_scopes.iter().any(|o| o.scope == *missing);
            assert!(
                r.scopes_to_add == vec![missing.to_string()] || covered || optional,
                "{kind} without {missing}: scopes_to_add {:?}, optional {:?}",
                r.scopes_to_add,
                r.optional_scopes
            );
        }
    }
    // Seed 002 (a simulator switch): v1 endpoints refuse scoped tokens whatever they hold.
    world
        .sim
        .behaviour(json!({"v1_refuses_scoped_tokens": true}))
        .await;
    let r = check(&world, "scoped", &full).await;
    let download = r
        .actions
        .iter()
        .find(|a| a.tool == "attachments" && a.action == "download")
        .unwrap();
    assert_eq!(download.status, Status::Unsupported, "{download:?}");
    world
        .sim
        .behaviour(json!({"v1_refuses_scoped_tokens": false}))
        .await;
    // Classic scopes only: granular-only routes refuse, and the report says what to add.
    let classic_only = [
        "read:confluence-content.all",
        "read:confluence-content.summary",
        "search:confluence",
        "read:confluence-space.summary",
    ];
    check(&world, "scoped", &classic_only).await;
}

/// The matrix calls every action ops declares, once, and nothing else: a new action without a
/// call, or a call left behind by a removed or renamed action, is named here.
#[test]
fn matrix_covers_exactly_the_tool_actions() {
    let declared = declared_actions();
    let mut called = BTreeSet::new();
    let mut twice = Vec::new();
    for c in MATRIX {
        if !called.insert((c.tool, c.action)) {
            twice.push(format!("{}.{}", c.tool, c.action));
        }
    }
    let name = |set: BTreeSet<&(&str, &str)>| -> Vec<String> {
        set.into_iter().map(|(t, a)| format!("{t}.{a}")).collect()
    };
    let not_called = name(declared.difference(&called).collect());
    let not_declared = name(called.difference(&declared).collect());
    assert!(
        not_called.is_empty() && not_declared.is_empty() && twice.is_empty(),
        "declared but missing from the matrix: {not_called:?}\n\
         in the matrix but not declared: {not_declared:?}\n\
         in the matrix twice: {twice:?}"
    );
}

fn redact(world: &World, text: &str) -> String {
    text.replace(&world.sim.info.site_url, "{site}")
        .replace(&world.sim.info.gateway_url, "{gateway}")
        .replace(&world.sim.info.cloud_id, "{cloudId}")
}

/// The report people and scripts read, pinned: review wording changes here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_reports() {
    let world = World::start().await;
    let options = Options {
        site: Some(SiteUrl::parse(&world.sim.info.site_url).unwrap()),
        ..Options::default()
    };
    let read_only = world.client("scoped", &all_scopes(true)).await;
    let report = conflux_ops::doctor::diagnose(&read_only, &options).await;
    insta::assert_snapshot!(
        "read_only_scoped_token_text",
        redact(&world, &conflux_ops::doctor::render_text(&report))
    );
    insta::assert_snapshot!(
        "read_only_scoped_token_json",
        redact(&world, &serde_json::to_string_pretty(&report).unwrap())
    );
    let classic = conflux_ops::doctor::diagnose(&world.classic, &options).await;
    insta::assert_snapshot!(
        "classic_token_text",
        redact(&world, &conflux_ops::doctor::render_text(&classic))
    );
    let oauth = world
        .client(
            "oauth",
            &[
                "read:page:confluence",
                "read:space:confluence",
                "read:content-details:confluence",
            ],
        )
        .await;
    let report = conflux_ops::doctor::diagnose(
        &oauth,
        &Options {
            read_only: true,
            ..options
        },
    )
    .await;
    insta::assert_snapshot!(
        "oauth_grant_read_only_text",
        redact(&world, &conflux_ops::doctor::render_text(&report))
    );
}

/// Issue 12: guardrails hold on every resource every action touches. Every declared action,
/// called on content of space ENG under each policy that forbids it something there: no write
/// reaches the simulator where policy forbids it (the refusal is `policy`, and only reads were
/// sent), and no read answers with ENG's content where ENG may not be read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardrails_hold_for_every_action_under_every_policy() {
    let world = World::start().await;
    struct Policy {
        name: &'static str,
        config: Config,
        /// ENG may not be read either.
        reads_refused: bool,
    }
    let policies = [
        Policy {
            name: "allow list without ENG",
            config: Config {
                allow_spaces: vec!["OPS".into()],
                ..Config::default()
            },
            reads_refused: true,
        },
        Policy {
            name: "deny list with ENG",
            config: Config {
                deny_spaces: vec!["ENG".into()],
                ..Config::default()
            },
            reads_refused: true,
        },
        Policy {
            name: "ENG read-only",
            config: Config {
                read_only_spaces: vec!["ENG".into()],
                ..Config::default()
            },
            reads_refused: false,
        },
        Policy {
            name: "read-only server",
            config: Config {
                read_only: true,
                ..Config::default()
            },
            reads_refused: false,
        },
    ];
    let mut breaches = Vec::new();
    for policy in &policies {
        let ops = Ops::new(world.classic.clone(), policy.config.clone());
        for tool in TOOLS {
            for action in tool.actions {
                let what = format!("{} / {}.{}", policy.name, tool.name, action.name);
                let result = world.call(&ops, tool.name, action.name).await;
                let sent = world.requests_since_reset().await;
                let writes: Vec<_> = sent.iter().filter(|(m, _)| m != "GET").collect();
                if action.write {
                    match &result {
                        Err(e) if e.kind == OpErrorKind::Policy => {}
                        other => breaches.push(format!("{what}: not refused: {other:?}")),
                    }
                    if !writes.is_empty() {
                        breaches.push(format!("{what}: writes reached Confluence: {writes:?}"));
                    }
                } else if policy.reads_refused
                    && let Ok(answer) = &result
                {
                    // Allowed only when nothing of ENG is in it (lists are filtered).
                    let text = answer.to_string();
                    for leak in [&world.space_id, &world.page_id, &world.database_id] {
                        if text.contains(&format!("\"{leak}\"")) {
                            breaches.push(format!("{what}: answered with ENG's {leak}: {text}"));
                        }
                    }
                    if text.contains("\"spaceKey\":\"ENG\"") || text.contains("\"key\":\"ENG\"") {
                        breaches.push(format!("{what}: answered with ENG content: {text}"));
                    }
                }
                // (`databases.entries` always explains instead of answering.)
                if !policy.reads_refused
                    && !action.write
                    && !action.no_public_api
                    && result.is_err()
                {
                    breaches.push(format!("{what}: a read was refused: {result:?}"));
                }
            }
        }
    }
    assert!(breaches.is_empty(), "{}", breaches.join("\n"));
}

/// Issue 12: with a token of classic scopes only, the doctor named `read:label:confluence` for
/// `labels.addToPage` while the call named `write:label:confluence`. Both now name the scope a
/// read proves missing, and the call says which other one it could not check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_012_doctor_and_call_name_the_same_proven_scope() {
    let world = World::start().await;
    let classic_only = [
        "read:confluence-content.all",
        "read:confluence-content.summary",
        "search:confluence",
        "read:confluence-space.summary",
    ];
    let client = world.client("scoped", &classic_only).await;
    let report = conflux_ops::doctor::diagnose(&client, &Options::default()).await;
    let doctor = report
        .actions
        .iter()
        .find(|a| a.tool == "labels" && a.action == "addToPage")
        .unwrap();
    // The doctor probes more (removing a label from a page that cannot exist proves
    // `write:label` missing too); what the call proves is always among what it names.
    assert!(
        doctor
            .missing_scopes
            .contains(&"read:label:confluence".to_string()),
        "{doctor:?}"
    );
    let ops = Ops::new(client, Config::default());
    let e = world.call(&ops, "labels", "addToPage").await.unwrap_err();
    let m = e.missing_scopes().expect("a refusal for scopes");
    assert_eq!(
        m.proven_missing.names(),
        vec!["read:label:confluence"],
        "{m:?}"
    );
    for proven in m.proven_missing.names() {
        assert!(
            doctor.missing_scopes.contains(&proven.to_string()),
            "{doctor:?}"
        );
    }
    assert!(
        e.message.contains("lacks `read:label:confluence`")
            && e.message.contains("may lack `write:label:confluence`"),
        "{}",
        e.message
    );
}
