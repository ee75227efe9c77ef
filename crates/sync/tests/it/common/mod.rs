//! What the sync tests share: a simulator with the demo site (and an empty space to publish
//! into), a client and the operations over loopback, the folder's files.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use conflux_client::{Client, ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_ops::{Config, Ops};
use conflux_sim::SimConfig;
use conflux_sim::fixture::{PermissionSpec, SpaceSpec};
use conflux_testkit::Sim;
use conflux_types::{BaseUrl, Secret, SiteUrl};
use serde_json::{Value, json};

pub const EMPTY: &str = "EMPTY";
pub const EMPTY2: &str = "EMPTY2";

/// The demo site of `seed`, with two empty spaces (`EMPTY`, `EMPTY2`) the demo user may
/// write to.
pub fn demo_with_empty_space(seed: u64) -> SimConfig {
    let mut fixture = conflux_sim::demo::demo_fixture(seed);
    let permissions: Vec<PermissionSpec> = fixture
        .spaces
        .iter()
        .find(|s| s.key == "ENG")
        .map(|s| s.permissions.clone())
        .unwrap_or_default();
    for (id, key) in [("98765001", EMPTY), ("98765002", EMPTY2)] {
        fixture.spaces.push(SpaceSpec {
            id: id.into(),
            key: key.into(),
            name: format!("Empty {key}"),
            description: String::new(),
            space_type: "global".into(),
            homepage: None,
            permissions: permissions.clone(),
        });
    }
    SimConfig::new(fixture, seed)
}

pub async fn start(config: SimConfig) -> Sim {
    Sim::start(config).await
}

pub async fn client(sim: &Sim) -> Client {
    let info = &sim.info;
    Client::connect(
        CredentialConfig::ApiToken {
            email: info.classic_token.email.clone(),
            token: Secret::new(info.classic_token.token.clone()),
            site: Some(SiteUrl::parse(&info.site_url).unwrap()),
            cloud_id: None,
            kind: TokenKindHint::Classic,
            scopes: None,
        },
        ClientConfig {
            endpoints: Endpoints {
                gateway: BaseUrl::parse(&info.gateway_url).unwrap(),
                identity: BaseUrl::parse(&info.identity_url).unwrap(),
            },
            ..ClientConfig::default()
        },
    )
    .await
    .unwrap()
}

pub async fn ops(sim: &Sim, config: Config) -> Ops {
    Ops::new(client(sim).await, config)
}

/// Every file under `dir` (`/`-separated relative path -> bytes), the state folder aside.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = rel(dir, &p);
            if rel == ".conflux" {
                continue;
            }
            // A file renamed away meanwhile (an atomic write finishing) is not there to read.
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                stack.push(p);
            } else {
                match std::fs::read(&p) {
                    Ok(bytes) => {
                        out.insert(rel, bytes);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => panic!("{}: {e}", p.display()),
                }
            }
        }
    }
    out
}

pub fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The Markdown files (path -> text).
pub fn markdown(dir: &Path) -> BTreeMap<String, String> {
    files(dir)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".md"))
        .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
        .collect()
}

/// The file whose front matter has `id: 'ID'`.
pub fn file_of(dir: &Path, id: &str) -> Option<(String, String)> {
    let needle = format!("\nid: '{id}'\n");
    markdown(dir)
        .into_iter()
        .find(|(_, t)| t.starts_with("---") && t.contains(&needle))
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn path(dir: &Path, rel: &str) -> PathBuf {
    dir.join(rel)
}

pub async fn call(ops: &Ops, tool: &str, action: &str, args: Value) -> Value {
    ops.call(tool, action, args)
        .await
        .unwrap_or_else(|e| panic!("{tool}.{action}: {e:?}"))
        .to_json()
}

pub async fn space_id(ops: &Ops, key: &str) -> String {
    call(ops, "spaces", "get", json!({ "id": key })).await["space"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Creates a page and answers its id.
pub async fn create(
    ops: &Ops,
    space: &str,
    parent: Option<&str>,
    title: &str,
    body: &str,
) -> String {
    let mut args = json!({ "spaceId": space, "title": title, "body": body });
    if let Some(p) = parent {
        args["parentId"] = json!(p);
    }
    call(ops, "pages", "create", args).await["page"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every current page of a space: id -> version.
pub async fn versions(ops: &Ops, space: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({ "spaceId": space, "limit": 250, "status": "current" });
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = call(ops, "pages", "list", args).await;
        for p in page["items"].as_array().unwrap() {
            out.insert(
                p["id"].as_str().unwrap().to_string(),
                p["version"].as_u64().unwrap(),
            );
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    out
}

/// Copies a folder (the state folder too).
pub fn copy_dir(from: &Path, to: &Path) {
    let mut stack = vec![from.to_path_buf()];
    while let Some(d) = stack.pop() {
        let target = to.join(d.strip_prefix(from).unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                std::fs::copy(e.path(), target.join(e.file_name())).unwrap();
            }
        }
    }
}

/// A Markdown file without what differs between two sites: ids, versions, dates, authors,
/// parents and the space.
pub fn comparable_file(text: &str) -> String {
    let mut doc = conflux_sync::Document::parse(text).unwrap();
    doc.meta.id = None;
    doc.meta.version = None;
    doc.meta.last_modified = None;
    doc.meta.author = None;
    doc.meta.parent = None;
    doc.meta.space = None;
    doc.render()
}

/// Whether the converter's own round trip is stable for this storage body: storage ->
/// Markdown -> storage -> Markdown gives the first Markdown again. Where it does not (a
/// converter defect: e.g. a paragraph starting with an inline-comment placeholder reads back
/// as an HTML block), a page published elsewhere and exported again cannot give the same
/// Markdown, whatever the publish does; the storage still means the same.
pub fn converter_stable(storage: &str) -> bool {
    let md1 = conflux_convert::storage_to_markdown(storage)
        .unwrap()
        .output;
    let back = conflux_convert::markdown_to_storage(&md1).unwrap().output;
    conflux_convert::storage_to_markdown(&back).unwrap().output == md1
}

/// The storage body of a page.
pub async fn storage_of(ops: &Ops, id: &str) -> String {
    let body = call(
        ops,
        "pages",
        "getBody",
        json!({ "id": id, "bodyFormat": "storage" }),
    )
    .await;
    body["body"]["value"].as_str().unwrap().to_string()
}

/// The page id a file's front matter names.
pub fn id_in(text: &str) -> String {
    conflux_sync::Document::parse(text)
        .unwrap()
        .meta
        .id
        .unwrap()
}
