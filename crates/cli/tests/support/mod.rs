//! What the end-to-end tests of `conflux serve --http` share: the built binary as a process
//! (its address read from its own stderr), the simulator's demo OAuth app pointed at it, a
//! client metadata document on an https server with a throwaway CA, and the official Python
//! MCP SDK's OAuth client (`tests/python/oauth_client.py`) with the checks its summary must
//! pass.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conflux_authz::testing::{TestResponse, TestServer, sample_client_metadata};
use conflux_testkit::Admin;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

pub const BIN: &str = env!("CARGO_BIN_EXE_conflux");

/// The redirect URI of the Python client: nothing listens there, the person's browser reads
/// the code off the redirect.
pub const PYTHON_REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// The revision the Python SDK 2.3 negotiates with this server.
pub const CURRENT_REVISION: &str = "2026-07-28";

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Says a test (or part of one) is skipped, straight to stderr: the harness shows
/// `eprintln!` only when a test fails. Under `CI=true` a skip is a failure.
pub fn skip(test: &str, why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "{test}: {why}; CI=true forbids skipping");
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// Whether the official Python MCP SDK 2.3 or newer is importable; prints why not (and fails
/// under `CI=true`).
pub async fn python_sdk_or_skip(test: &str) -> bool {
    let probe = tokio::process::Command::new("python3")
        .args([
            "-c",
            "import mcp, httpx2; from importlib.metadata import version; print(version('mcp'))",
        ])
        .stdin(Stdio::null())
        .output()
        .await;
    let why = match &probe {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
            let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
            if (major, minor) >= (2, 3) {
                return true;
            }
            format!("the Python MCP SDK is {v}, older than 2.3")
        }
        Ok(o) => format!(
            "the Python MCP SDK is not importable ({})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("python3: {e}"),
    };
    skip(
        test,
        &format!("{why}; install it with `python3 -m pip install mcp==2.3.0`"),
    );
    false
}

/// `conflux serve --http 127.0.0.1:0`, the built binary, with only the environment given.
pub struct Serve {
    child: tokio::process::Child,
    /// Where it listens, `http://127.0.0.1:PORT`.
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts it and waits until it says where it listens (it binds before it says so).
    pub async fn start(home: &Path, env: &[(&str, String)]) -> Serve {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(["serve", "--http", "127.0.0.1:0"])
            .env_clear()
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home)
            .env("XDG_DATA_HOME", home)
            .env("CONFLUX_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("conflux serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(at) = line.find("(listening on ") {
                    let addr = line[at + "(listening on ".len()..].trim_end_matches(')');
                    return Some(format!("http://{addr}"));
                }
            }
            None
        })
        .await;
        let url = match found {
            Ok(Some(url)) => url,
            _ => panic!(
                "conflux serve --http did not come up:\n{}",
                log.lock().unwrap()
            ),
        };
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Serve { child, url, log }
    }

    /// What it wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Stops it; returns everything it wrote to stderr.
    pub async fn stop(mut self) -> String {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        // The reader task sees end of file once the process is gone.
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.log()
    }
}

/// Points the simulator's demo OAuth app at `callbacks` (its admin API replaces a client by
/// id), so that Atlassian's sign-in comes back to the server under test.
pub async fn demo_app_redirects_to(sim: &conflux_sim::SimInfo, callbacks: &[String]) {
    Admin::new(&sim.admin_url)
        .post(
            "/oauth-clients",
            json!({
                "client_id": sim.oauth_client.client_id,
                "client_secret": sim.oauth_client.client_secret,
                "redirect_uris": callbacks,
                "name": "Conflux (platform app)",
            }),
        )
        .await;
}

/// The settings every `serve --http` of these tests gets: the simulator as Atlassian (its
/// site is the tenant's), the demo app as the platform's app, client metadata documents from
/// `metadata`'s throwaway CA on loopback, every authenticated client allowed, and access
/// tokens that live `ttl` seconds.
pub fn serve_env(
    sim: &conflux_sim::SimInfo,
    metadata_ca: &Path,
    ttl: u64,
) -> Vec<(&'static str, String)> {
    vec![
        ("CONFLUX_GATEWAY_URL", sim.gateway_url.clone()),
        ("CONFLUX_IDENTITY_URL", sim.identity_url.clone()),
        ("CONFLUENCE_URL", sim.site_url.clone()),
        ("CONFLUENCE_CLOUD_ID", sim.cloud_id.clone()),
        (
            "CONFLUX_OAUTH_CLIENT_ID",
            sim.oauth_client.client_id.clone(),
        ),
        (
            "CONFLUX_OAUTH_CLIENT_SECRET",
            sim.oauth_client.client_secret.clone(),
        ),
        (
            "CONFLUX_CLIENT_METADATA_CA",
            metadata_ca.display().to_string(),
        ),
        ("CONFLUX_CLIENT_METADATA_PRIVATE", "1".into()),
        ("CONFLUX_ALLOW_ALL_AGENTS", "1".into()),
        ("CONFLUX_ACCESS_TOKEN_TTL", ttl.to_string()),
    ]
}

/// An https server on loopback serving the Python client's metadata document; its CA's
/// certificate is written to `dir/metadata-ca.pem` for the server under test.
pub struct MetadataDocument {
    pub server: TestServer,
    pub client_id: String,
    pub ca_file: PathBuf,
}

pub async fn metadata_document(dir: &Path) -> MetadataDocument {
    let server = TestServer::start().await.unwrap();
    let client_id = server.url("/conflux-e2e/client.json");
    let mut doc = sample_client_metadata(&client_id, &[PYTHON_REDIRECT_URI]);
    doc["client_name"] = json!("Conflux e2e (metadata document)");
    server.serve("/conflux-e2e/client.json", TestResponse::json(&doc));
    let ca_file = dir.join("metadata-ca.pem");
    std::fs::write(&ca_file, server.ca_pem()).unwrap();
    MetadataDocument {
        server,
        client_id,
        ca_file,
    }
}

/// Runs `tests/python/oauth_client.py` against `mcp` (the server's `/mcp` URL) as `account`;
/// returns its summary. Panics with its output when it fails.
pub async fn python_client(
    mcp: &str,
    account: &str,
    client_metadata_url: &str,
    revocation_deadline: u64,
) -> Value {
    let script = workspace_root().join("crates/cli/tests/python/oauth_client.py");
    let run = tokio::process::Command::new("python3")
        .arg(&script)
        .args(["--mcp", mcp, "--account", account])
        .args(["--redirect-uri", PYTHON_REDIRECT_URI])
        .args(["--client-metadata-url", client_metadata_url])
        .args(["--revocation-deadline", &revocation_deadline.to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the Python client finishes within 300 s")
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok());
    match summary {
        Some(s) if out.status.success() && s.get("error").is_none() => s,
        _ => panic!(
            "the Python client failed ({}):\n{stdout}\n--- stderr ---\n{stderr}",
            out.status
        ),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect()
}

/// What the Python client's summary must show, for each way it identified itself: the
/// current revision; discovery from the 401; the metadata document's URL as client id (no
/// registration), or a registration; one authorization (sign-in, consent) with PKCE and the
/// resource; tool listing and `spaces.list`; a refresh once the access token expired (one
/// token request of grant type `refresh_token`, new tokens stored, the old access token
/// refused); after the person revoked the client, a refusal with 401 that the SDK surfaces
/// as an error (its request for a new authorization, declined). `replicas`: revocation may
/// take a few seconds to reach the replica that cached the token, so calls accepted meanwhile
/// are allowed.
pub fn check_python_summary(summary: &Value, client_metadata_url: &str, mcp: &str, replicas: bool) {
    let runs = summary["runs"].as_array().expect("runs");
    let kinds: Vec<&str> = runs
        .iter()
        .map(|r| r["registration"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["metadata-document", "dynamic-registration"],
        "{summary}"
    );
    for run in runs {
        let kind = run["registration"].as_str().unwrap();
        let ctx = format!("{kind}: {run:#}");
        assert_eq!(run["protocol_version"], CURRENT_REVISION, "{ctx}");
        let requests = strings(&run["requests"]);
        assert_eq!(
            requests[0], "POST /mcp 401",
            "discovery starts from the 401: {ctx}"
        );
        assert_eq!(
            requests[1], "GET /.well-known/oauth-protected-resource/mcp 200",
            "{ctx}"
        );
        assert_eq!(
            requests[2], "GET /.well-known/oauth-authorization-server 200",
            "{ctx}"
        );
        let client_id = run["client_id"].as_str().unwrap();
        let registrations = requests
            .iter()
            .filter(|r| r.starts_with("POST /oauth/register"))
            .count();
        if kind == "metadata-document" {
            assert_eq!(client_id, client_metadata_url, "{ctx}");
            assert_eq!(registrations, 0, "{ctx}");
        } else {
            assert_ne!(client_id, client_metadata_url, "{ctx}");
            assert_eq!(requests[3], "POST /oauth/register 201", "{ctx}");
            assert_eq!(registrations, 1, "{ctx}");
        }
        let authorize = url::Url::parse(run["authorization_url"].as_str().unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256", "{ctx}");
        assert_eq!(q["resource"], mcp, "{ctx}");
        assert_eq!(q["client_id"], client_id, "{ctx}");
        assert_eq!(run["granted_scope"], "tools:read tools:write", "{ctx}");
        assert_eq!(run["sign_ins"], 1, "one sign-in with Atlassian: {ctx}");
        let tools = strings(&run["tools"]);
        for t in ["pages", "spaces", "search"] {
            assert!(tools.iter().any(|n| n == t), "{t} listed: {ctx}");
        }
        assert!(run["spaces_before_refresh"].as_u64().unwrap() > 0, "{ctx}");
        assert!(run["spaces_after_refresh"].as_u64().unwrap() > 0, "{ctx}");

        // The refresh: one authorization, then a refresh_token grant, new tokens stored.
        assert_eq!(
            run["authorizations_before_revocation"], 1,
            "refreshed, not authorized again: {ctx}"
        );
        let grants: Vec<(String, u64)> = run["token_requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["grant_type"].as_str().unwrap_or("?").to_string(),
                    t["status"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            grants[..2],
            [
                ("authorization_code".to_string(), 200),
                ("refresh_token".to_string(), 200)
            ],
            "{ctx}"
        );
        // Any later token request is a refresh after the revocation, refused.
        for g in &grants[2..] {
            assert_eq!(g, &("refresh_token".to_string(), 400), "{ctx}");
        }
        assert_eq!(run["access_token_changed"], true, "{ctx}");
        assert_eq!(run["refresh_token_rotated"], true, "{ctx}");
        assert!(run["tokens_stored"].as_u64().unwrap() >= 2, "{ctx}");
        assert_eq!(
            run["expired_token_status"], 401,
            "the expired access token is refused: {ctx}"
        );
        assert!(
            run["expired_token_challenge"]
                .as_str()
                .unwrap_or_default()
                .contains("invalid_token"),
            "{ctx}"
        );

        // The revocation.
        let after: Vec<u64> = run["mcp_status_after_revocation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_u64().unwrap_or(0))
            .collect();
        assert_eq!(after.last(), Some(&401), "{ctx}");
        if !replicas {
            assert_eq!(after, [401], "refused at once on this replica: {ctx}");
            assert_eq!(run["accepted_after_revocation"], 0, "{ctx}");
        }
        let refusal = strings(&run["refusal"]).join("\n");
        assert!(
            refusal.contains("DeclinedReauthorization"),
            "the SDK surfaces the refusal, asking for a new authorization: {ctx}"
        );
        assert_eq!(
            run["authorizations"], 2,
            "after the 401 the SDK asked the person again: {ctx}"
        );
    }
}
