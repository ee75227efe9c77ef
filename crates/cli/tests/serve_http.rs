//! `conflux serve --http` as real processes: two servers on one Postgres store, a user who
//! connects through the first one's configuration page, then 50 concurrent tool calls on each
//! server with an expired token, and the simulator's identity service counts one refresh.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conflux_sim::SimConfig;
use conflux_store::testing::PgServer;
use conflux_store::{
    AgentId, ConnectionKey, EncryptionKey, SqlStore, TenantId, TokenStore, UserId,
};
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A browser's cookies, kept by hand: name → value from every `Set-Cookie`.
#[derive(Default)]
struct Jar(HashMap<String, String>);

impl Jar {
    fn take(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            if let Some((k, val)) = pair.split_once('=') {
                self.0.insert(k.trim().into(), val.trim().into());
            }
        }
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn csrf_of(page: &str) -> String {
    let needle = "name=\"csrf\" value=\"";
    let at = page.find(needle).unwrap() + needle.len();
    page[at..].split('"').next().unwrap().to_string()
}

/// Connects `user` through the configuration page of the server at `base`, like a browser.
async fn connect_through_the_page(http: &reqwest::Client, base: &str, identity: &str, user: &str) {
    let mut jar = Jar::default();
    let r = http.get(format!("{base}/")).send().await.unwrap();
    jar.take(&r);
    let csrf = csrf_of(&r.text().await.unwrap());
    let r = http
        .post(format!("{base}/user"))
        .header("cookie", jar.header())
        .form(&[("csrf", csrf.as_str()), ("user_id", user)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    jar.take(&r);
    let r = http
        .post(format!("{base}/connect"))
        .header("cookie", jar.header())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let authorize = r.headers()["location"].to_str().unwrap().to_string();
    let consent = http.get(&authorize).send().await.unwrap();
    assert!(consent.status().is_success());
    let id = consent.headers()["x-sim-consent-id"]
        .to_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{identity}/authorize/decision"))
        .form(&[("consent", id.as_str()), ("decision", "accept")])
        .send()
        .await
        .unwrap();
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        callback.starts_with(&format!("{base}/callback?")),
        "{callback}"
    );
    let r = http
        .get(&callback)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = http
        .get(format!("{base}/"))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("Connected to"), "{page}");
}

/// A streamable-HTTP MCP session sending the agent and user headers (raw JSON-RPC).
#[derive(Clone)]
struct Mcp {
    http: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
}

impl Mcp {
    async fn open(base: &str, agent: &str, user: &str) -> Mcp {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-conflux-agent-id", agent.parse().unwrap());
        headers.insert("x-conflux-user-id", user.parse().unwrap());
        let mut m = Mcp {
            http: reqwest::Client::new(),
            url: format!("{base}/mcp"),
            headers,
        };
        let (h, answer) = m
            .post(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "conflux-serve-test", "version": "1"}}}),
            )
            .await;
        assert!(answer.unwrap().get("result").is_some());
        if let Some(sid) = h.get("mcp-session-id") {
            m.headers.insert("mcp-session-id", sid.clone());
        }
        m.headers
            .insert("mcp-protocol-version", "2025-06-18".parse().unwrap());
        m.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        m
    }

    async fn post(&self, body: Value) -> (reqwest::header::HeaderMap, Option<Value>) {
        let r = self
            .http
            .post(&self.url)
            .headers(self.headers.clone())
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        let answer = body.get("id").cloned().and_then(|id| {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .chain(serde_json::from_str::<Value>(&text).ok())
                .find(|v| v.get("id") == Some(&id))
        });
        (headers, answer)
    }

    /// `spaces.list`; Ok(text) or Err(error text).
    async fn list_spaces(&self, id: u64) -> Result<String, String> {
        let (_, answer) = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": "spaces", "arguments": {"action": "list", "limit": 5}}}))
            .await;
        let result = answer.unwrap()["result"].clone();
        let text = result["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if result["isError"].as_bool().unwrap_or(false) {
            Err(text)
        } else {
            Ok(text)
        }
    }
}

struct Server {
    child: tokio::process::Child,
    base: String,
}

async fn start_server(port: u16, env: &[(&str, String)], home: &std::path::Path) -> Server {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_conflux"));
    cmd.args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_DATA_HOME", home)
        .env("CONFLUX_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "conflux serve --http did not come up on {base}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base }
}

/// Issue 6: single-flight refresh across two `conflux serve` processes on one Postgres.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_006_two_serve_processes_on_postgres_refresh_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(pg) =
        PgServer::start_or_skip("issue_006_two_serve_processes_on_postgres_refresh_once").await
    else {
        return;
    };
    let url = pg.create_database("serve").await;
    let key = EncryptionKey::generate();
    let (port_a, port_b) = (free_port(), free_port());
    let sim = conflux_sim::spawn(SimConfig::demo(21).with_redirect_uris(vec![
        format!("http://127.0.0.1:{port_a}/callback"),
        format!("http://127.0.0.1:{port_b}/callback"),
    ]))
    .await
    .unwrap();
    let info = sim.info();
    let store: Arc<dyn TokenStore> = Arc::new(SqlStore::open(&url, key.clone()).await.unwrap());
    let tenant = TenantId::new("default").unwrap();
    store
        .allow_agent(&tenant, &AgentId::new("agent-1").unwrap(), Some("test"))
        .await
        .unwrap();

    let home = std::env::temp_dir().join(format!("conflux-serve-test-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let env = [
        ("CONFLUX_DATABASE_URL", url.clone()),
        ("CONFLUX_ENCRYPTION_KEY", key.to_hex()),
        ("CONFLUX_GATEWAY_URL", sim.gateway_url().to_string()),
        ("CONFLUX_IDENTITY_URL", sim.identity_url().to_string()),
        (
            "CONFLUX_OAUTH_CLIENT_ID",
            info.oauth_client.client_id.clone(),
        ),
        (
            "CONFLUX_OAUTH_CLIENT_SECRET",
            info.oauth_client.client_secret.clone(),
        ),
    ];
    let (a, b) = tokio::join!(
        start_server(port_a, &env, &home),
        start_server(port_b, &env, &home)
    );

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    connect_through_the_page(&http, &a.base, sim.identity_url(), "alice").await;
    let alice = ConnectionKey::new(tenant.clone(), UserId::new("alice").unwrap());
    assert!(store.connection(&alice).await.unwrap().is_some());

    let on_a = Mcp::open(&a.base, "agent-1", "alice").await;
    let on_b = Mcp::open(&b.base, "agent-1", "alice").await;
    on_a.list_spaces(1).await.unwrap();
    on_b.list_spaces(1).await.unwrap();

    // Expire the token on both sides: the stored expiry and the simulator's clock.
    let c = store.connection(&alice).await.unwrap().unwrap();
    let mut tokens = c.tokens.clone();
    tokens.expires_at = Some(SystemTime::now() - Duration::from_secs(5));
    store
        .save_connection(&alice, &c.site, c.app, &tokens)
        .await
        .unwrap();
    let admin = |path: &str, body: Value| {
        let http = http.clone();
        let url = format!("{}{path}", info.admin_url);
        async move {
            let r = http.post(url).json(&body).send().await.unwrap();
            assert!(r.status().is_success());
        }
    };
    admin("/clock/advance", json!({"seconds": 3700})).await;
    admin("/stats/reset", json!({})).await;

    let started = Instant::now();
    let calls: Vec<_> = (0..100u64)
        .map(|i| {
            let m = if i % 2 == 0 {
                on_a.clone()
            } else {
                on_b.clone()
            };
            tokio::spawn(async move { m.list_spaces(100 + i).await })
        })
        .collect();
    let mut failed = Vec::new();
    for c in calls {
        if let Err(e) = c.await.unwrap() {
            failed.push(e);
        }
    }
    let elapsed = started.elapsed();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    let stats: Value = http
        .get(format!("{}/stats", info.admin_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
    eprintln!(
        "2 processes x 50 concurrent calls with an expired token: {elapsed:?}, refreshes: {}",
        stats["refreshes"]
    );
    let after = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(
        after.generation,
        c.generation + 2,
        "one save above, one refresh"
    );

    for mut s in [a, b] {
        let _ = s.child.kill().await;
        let out = s.child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        for secret in [
            info.oauth_client.client_secret.as_str(),
            after.tokens.access.expose().as_str(),
        ] {
            assert!(!stderr.contains(secret), "a secret in the server's log");
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    drop(pg);
}
