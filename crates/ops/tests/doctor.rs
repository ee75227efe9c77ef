//! Doctor's predictions against what the calls actually do, for every credential kind and
//! scope set and every tool action; and golden output of the report.
//! Issue: "a matrix ... asserting that doctor's prediction equals what the call actually does,
//! and that each refusal names exactly the missing scope".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use base64::Engine as _;
use conflux_catalog::ScopeSet;
use conflux_client::{Client, ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_ops::catalog::TOOLS;
use conflux_ops::doctor::{Options, Report, Status};
use conflux_ops::{Config, OpErrorKind, Ops};
use conflux_sim::{SimConfig, SimHandle, SimInfo};
use conflux_types::{BaseUrl, Secret, SiteUrl};
use serde_json::{Value, json};

struct World {
    _sim: SimHandle,
    info: SimInfo,
    http: reqwest::Client,
    classic: Client,
    space_id: String,
    page_id: String,
    attachment_id: String,
    section: String,
    database_id: String,
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
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = conflux_sim::spawn(SimConfig::demo(11)).await.unwrap();
        let info = sim.info();
        let classic = Client::connect(
            CredentialConfig::ApiToken {
                email: info.classic_token.email.clone(),
                token: Secret::new(info.classic_token.token.clone()),
                site: Some(SiteUrl::parse(&info.site_url).unwrap()),
                cloud_id: None,
                kind: TokenKindHint::Detect,
                scopes: None,
            },
            config(&info),
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
        };
        classic
            .pages()
            .update(page_id.clone().into(), &update)
            .await
            .unwrap();
        let attachment_id = classic
            .attachments()
            .upload(
                page_id.clone().into(),
                conflux_client::api::NewAttachment {
                    file_name: "matrix.txt".into(),
                    media_type: "text/plain".into(),
                    bytes: b"matrix".to_vec().into(),
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
        let ops = Ops::new(classic.clone(), Config::default());
        let outline = ops
            .pages("outline", args(json!({"id": page_id})))
            .await
            .unwrap()
            .to_json();
        let section = first_section(&outline).expect("the page has a section");
        World {
            _sim: sim,
            info,
            http: reqwest::Client::new(),
            classic,
            space_id,
            page_id,
            attachment_id,
            section,
            database_id,
        }
    }

    async fn mint(&self, kind: &str, scopes: &[&str]) -> String {
        let v: Value = self
            .http
            .post(format!("{}/tokens", self.info.admin_url))
            .json(&json!({"kind": kind, "email": self.info.classic_token.email, "scopes": scopes, "expires_in": 3600}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    async fn client(&self, kind: &str, scopes: &[&str]) -> Client {
        let site = Some(SiteUrl::parse(&self.info.site_url).unwrap());
        let cred = match kind {
            "classic" => return self.classic.clone(),
            "scoped" => CredentialConfig::ApiToken {
                email: self.info.classic_token.email.clone(),
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
        Client::connect(cred, config(&self.info)).await.unwrap()
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

    /// Calls `tool.action` with arguments that work for a credential that may do it.
    async fn call(
        &self,
        ops: &Ops,
        tool: &str,
        action: &'static str,
    ) -> Result<(), conflux_ops::OpError> {
        let page = self.page_id.as_str();
        let data = base64::engine::general_purpose::STANDARD.encode(b"doctor matrix");
        let unique = format!(
            "m{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let scratch_needed = matches!(
            (tool, action),
            ("pages", "update" | "updateSection" | "replace" | "delete")
        );
        let scratch = if scratch_needed {
            self.scratch().await
        } else {
            String::new()
        };
        let r = match (tool, action) {
            ("pages", "list") => ops.pages(action, args(json!({"spaceId": self.space_id, "limit": 2}))).await,
            ("pages", "get" | "getBody" | "outline") => ops.pages(action, args(json!({"id": page}))).await,
            ("pages", "getSection") => ops.pages(action, args(json!({"id": page, "sectionId": self.section}))).await,
            ("pages", "create") => {
                ops.pages(action, args(json!({"spaceId": self.space_id, "title": unique, "body": "hi"}))).await
            }
            ("pages", "update") => ops.pages(action, args(json!({"id": scratch, "body": "changed"}))).await,
            ("pages", "updateSection") => {
                ops.pages(action, args(json!({"id": scratch, "heading": "Alpha", "body": "new text"}))).await
            }
            ("pages", "replace") => {
                ops.pages(action, args(json!({"id": scratch, "find": "alpha text", "replaceWith": "beta", "expectedCount": 1})))
                    .await
            }
            ("pages", "delete") => ops.pages(action, args(json!({"id": scratch}))).await,
            ("spaces", "list") => ops.spaces(action, args(json!({}))).await,
            ("spaces", "get") => ops.spaces(action, args(json!({"id": self.space_id}))).await,
            ("search", "cql") => ops.search(action, args(json!({"cql": "type = page", "limit": 2}))).await,
            ("content", "children" | "ancestors" | "descendants" | "folders") => {
                ops.content(action, args(json!({"id": page}))).await
            }
            ("content", "tree") => ops.content(action, args(json!({"spaceId": self.space_id, "depth": 1}))).await,
            ("content", "createFolder") => {
                ops.content(action, args(json!({"spaceId": self.space_id, "title": unique}))).await
            }
            ("comments", "getFooter" | "getInline") => ops.comments(action, args(json!({"id": page}))).await,
            ("comments", "addFooter") => ops.comments(action, args(json!({"pageId": page, "body": "nice"}))).await,
            ("labels", "getForPage") => ops.labels(action, args(json!({"id": page}))).await,
            ("labels", "addToPage") => ops.labels(action, args(json!({"id": page, "labels": ["matrix"]}))).await,
            ("attachments", "listForPage") => ops.attachments(action, args(json!({"id": page}))).await,
            ("attachments", "get") => ops.attachments(action, args(json!({"attachmentId": self.attachment_id}))).await,
            ("attachments", "download") => {
                ops.attachments(action, args(json!({"attachmentId": self.attachment_id, "pageId": page}))).await
            }
            ("attachments", "upload") => {
                ops.attachments(action, args(json!({"id": page, "fileName": format!("{unique}.txt"), "mediaType": "text/plain", "data": data})))
                    .await
            }
            ("versions", "listForPage") => ops.versions(action, args(json!({"id": page}))).await,
            ("versions", "get") => ops.versions(action, args(json!({"id": page, "version": 1}))).await,
            ("versions", "diff") => ops.versions(action, args(json!({"id": page, "from": 1, "to": 2}))).await,
            ("databases", "get" | "entries") => {
                ops.databases(action, args(json!({"id": self.database_id}))).await
            }
            ("databases", "create") => {
                ops.databases(action, args(json!({"spaceId": self.space_id, "title": unique}))).await
            }
            ("databases", "delete") => {
                let id = self.classic.databases().create(&self.space_id, &unique, None).await.unwrap().id;
                ops.databases(action, args(json!({"id": id}))).await
            }
            ("connection", "check") => ops.connection(action, args(json!({"tools": ["spaces"]}))).await,
            other => panic!("the matrix does not know how to call {other:?}: add it"),
        };
        r.map(|_| ())
    }
}

fn args<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
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

/// Backticked scope names in an error message.
fn named_scopes(message: &str) -> BTreeSet<String> {
    let needed = message.split(" (it holds").next().unwrap_or(message);
    needed
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.ends_with(":confluence") || s.starts_with("read:") || s.starts_with("write:"))
        .map(String::from)
        .collect()
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
                (Ok(()), Status::Ok) => true,
                (Err(e), Status::MissingScopes) if e.kind == OpErrorKind::MissingScopes => {
                    let named = named_scopes(&e.message);
                    let predicted: BTreeSet<String> =
                        predicted.missing_scopes.iter().cloned().collect();
                    // A call stops at its first refused step and names that step's scopes; the
                    // doctor names every scope the action lacks. A call whose credential's scopes
                    // are unknown names what the step needs and says one of them is lacking.
                    if e.message.contains("at least one of them") {
                        !predicted.is_empty() && predicted.iter().any(|p| named.contains(p))
                    } else if action.operations.len() == 1 {
                        named == predicted
                    } else {
                        !named.is_empty() && named.is_subset(&predicted)
                    }
                }
                (Err(e), Status::Forbidden) => e.kind == OpErrorKind::Forbidden,
                (Err(e), Status::Unsupported) => {
                    e.kind == OpErrorKind::NotFound
                        || e.message.contains("no public API")
                        || e.message.contains("although this")
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
            assert!(
                r.scopes_to_add == vec![missing.to_string()] || covered,
                "{kind} without {missing}: scopes_to_add {:?}",
                r.scopes_to_add
            );
        }
    }
    // Seed 002 (a simulator switch): v1 endpoints refuse scoped tokens whatever they hold.
    world
        .http
        .put(format!("{}/behaviour", world.info.admin_url))
        .json(&json!({"v1_refuses_scoped_tokens": true}))
        .send()
        .await
        .unwrap();
    let r = check(&world, "scoped", &full).await;
    let download = r
        .actions
        .iter()
        .find(|a| a.tool == "attachments" && a.action == "download")
        .unwrap();
    assert_eq!(download.status, Status::Unsupported, "{download:?}");
    world
        .http
        .put(format!("{}/behaviour", world.info.admin_url))
        .json(&json!({"v1_refuses_scoped_tokens": false}))
        .send()
        .await
        .unwrap();
    // Classic scopes only: granular-only routes refuse, and the report says what to add.
    let classic_only = [
        "read:confluence-content.all",
        "read:confluence-content.summary",
        "search:confluence",
        "read:confluence-space.summary",
    ];
    check(&world, "scoped", &classic_only).await;
}

#[test]
fn matrix_covers_exactly_the_tool_actions() {
    // Guard: a new action without a call in the matrix fails loudly in `World::call`; this
    // keeps the count visible in review.
    let n: usize = TOOLS.iter().map(|t| t.actions.len()).sum();
    assert!(n >= 25, "{n}");
    let _ = ScopeSet::EMPTY;
}

fn redact(world: &World, text: &str) -> String {
    text.replace(&world.info.site_url, "{site}")
        .replace(&world.info.gateway_url, "{gateway}")
        .replace(&world.info.cloud_id, "{cloudId}")
}

/// The report people and scripts read, pinned: review wording changes here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_reports() {
    let world = World::start().await;
    let options = Options {
        site: Some(SiteUrl::parse(&world.info.site_url).unwrap()),
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
