//! `conflux serve --http` as an operator runs it, the built binary as a child process:
//!
//! - the probes answer a load balancer that uses the pod's address as `Host` (every other
//!   route still refuses that host), and say nothing sensitive;
//! - `--metrics ADDR` serves the Prometheus text format whose figures move with the calls
//!   made: tool calls by tool, action and outcome, their latency, requests to Confluence by
//!   operation and status, 429 retries and the time waited, the rate-limit headroom Confluence
//!   reports, refusals of `/mcp` by reason, store latency, older clients' sessions; every
//!   label is one of a bounded set;
//! - `--log-format json` writes one JSON object per line, a tool call's line with its request
//!   id, tool, action, outcome and duration;
//! - SIGTERM during a slow call (the simulator's latency fault) lets the call finish, refuses
//!   new connections and exits 0; a call that outlasts `--shutdown-grace` is cut and the
//!   process still exits 0, without waiting for it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use conflux_sim::{RateLimit, SimConfig};
use conflux_telemetry::scrape::Scrape;
use conflux_testkit::Sim;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

const BIN: &str = env!("CARGO_BIN_EXE_conflux");
const PATIENCE: Duration = Duration::from_secs(60);

/// The labels any Conflux metric may carry: each takes values from a bounded set.
const BOUNDED_LABELS: &[&str] = &[
    "tool",
    "action",
    "outcome",
    "operation",
    "status",
    "reason",
    "backend",
    "protocol_version",
    "version",
    "le",
];

/// `conflux … serve --http 127.0.0.1:0 --metrics 127.0.0.1:0`, its addresses read from its
/// own stderr, every line kept.
struct Running {
    child: Child,
    base: String,
    metrics: String,
    admin: Option<String>,
    lines: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

/// The message of a line: the text after `conflux: `, or a JSON line's `message`.
fn message(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("conflux: ") {
        return Some(rest.to_string());
    }
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
}

impl Running {
    async fn start(args: &[&str]) -> Running {
        Running::start_with(args, &[]).await
    }

    /// [`Running::start`] with `env` set in the otherwise empty environment.
    async fn start_with(args: &[&str], env: &[(&str, String)]) -> Running {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let home = std::env::temp_dir().join(format!("conflux-ops-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&home).unwrap();
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("HOME", &home)
            .env("XDG_DATA_HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("conflux starts");
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (mut base, mut metrics, mut admin) = (None, None, None);
        tokio::time::timeout(PATIENCE, async {
            while let Some(line) = stderr.next_line().await.unwrap() {
                lines.lock().unwrap().push(line.clone());
                let Some(m) = message(&line) else { continue };
                if let Some(rest) = m.strip_prefix("demo simulator admin API ") {
                    admin = rest.split_whitespace().next().map(String::from);
                }
                if let Some(rest) = m.strip_prefix("metrics ") {
                    metrics = Some(rest.trim().to_string());
                }
                if let Some(at) = m.find("(listening on ") {
                    let addr = m[at + "(listening on ".len()..].trim_end_matches(')');
                    base = Some(format!("http://{addr}"));
                    return;
                }
            }
            panic!(
                "conflux exited before listening:\n{}",
                lines.lock().unwrap().join("\n")
            );
        })
        .await
        .expect("the server comes up");
        let sink = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Running {
            child,
            base: base.unwrap(),
            metrics: metrics.expect("the metrics address is named"),
            admin,
            lines,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    async fn scrape(&self) -> (String, Scrape) {
        let r = self.http.get(&self.metrics).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4"),
            "{:?}",
            r.headers()
        );
        let text = r.text().await.unwrap();
        let scrape = Scrape::parse(&text);
        (text, scrape)
    }

    /// Sends `signal` to the process.
    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id().unwrap() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// Waits for the process to end (at most `PATIENCE`); its exit status.
    async fn exit(&mut self) -> std::process::ExitStatus {
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the process ends")
            .unwrap();
        // The reader task sees end of file once the process is gone.
        tokio::time::sleep(Duration::from_millis(50)).await;
        status
    }
}

/// A `tools/call` of the current revision (2026-07-28: no session; the request carries its
/// protocol version, client info and capabilities in `_meta`).
fn tool_call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "ops-test", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}
        }
    }})
}

/// POSTs `body` to `/mcp` with `headers`; the status and the JSON-RPC answer (JSON or the
/// first SSE event), `Null` when the body is not JSON.
async fn post(
    http: &reqwest::Client,
    base: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = http
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if body["method"] == "tools/call" {
        req = req
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", body["params"]["name"].as_str().unwrap());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let json = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|d| !d.is_empty())
        .unwrap_or(&text);
    (
        status,
        headers,
        serde_json::from_str(json).unwrap_or(Value::Null),
    )
}

fn is_error(answer: &Value) -> bool {
    answer["result"]["isError"] != false
}

fn labels_are_bounded(scrape: &Scrape) {
    for s in scrape.samples() {
        if !s.name.starts_with("conflux_") {
            continue;
        }
        for (k, _) in &s.labels {
            assert!(
                BOUNDED_LABELS.contains(&k.as_str()),
                "{} carries the label `{k}`, which is not one of the bounded ones",
                s.name
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_deployment_probed_scraped_logged_and_stopped_with_sigterm() {
    let mut server = Running::start(&[
        "--demo",
        "--log",
        "info",
        "--log-format",
        "json",
        "serve",
        "--http",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
    ])
    .await;
    let http = server.http.clone();
    let base = server.base.clone();

    // Probes: a load balancer asks with the pod's address as Host.
    let pod = [("host", "10.0.0.7:8976")];
    let get = |path: &str, host: Option<&'static str>| {
        let mut r = http.get(format!("{base}{path}"));
        if let Some(h) = host {
            r = r.header("host", h);
        }
        r.send()
    };
    let r = get("/healthz", Some(pod[0].1)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let r = get("/readyz", Some(pod[0].1)).await.unwrap();
    assert_eq!(r.status(), 200);
    let ready: Value = r.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["store"], "ok");
    assert_eq!(ready["encryption_key"], "ok");
    assert!(
        ["unknown", "reachable"].contains(&ready["confluence"].as_str().unwrap()),
        "{ready}"
    );
    assert_eq!(
        ready.as_object().unwrap().len(),
        4,
        "nothing more than the four words: {ready}"
    );
    for path in ["/", "/admin", "/.well-known/oauth-authorization-server"] {
        let r = get(path, Some(pod[0].1)).await.unwrap();
        assert_eq!(r.status(), 421, "{path} still refuses a foreign Host");
    }
    let (_, _, refused) = post(&http, &base, &tool_call(1, "spaces", json!({})), &pod).await;
    assert_eq!(refused, Value::Null, "/mcp still refuses a foreign Host");
    // The metrics listener serves the probes too.
    let probe = server.metrics.replace("/metrics", "/readyz");
    assert_eq!(http.get(&probe).send().await.unwrap().status(), 200);
    // Without an admin token the public address has no /metrics at all, whatever the Host.
    for host in [None, Some(pod[0].1)] {
        let r = get("/metrics", host).await.unwrap();
        assert_eq!(r.status(), 404, "{host:?}");
        assert!(!r.text().await.unwrap().contains("conflux_"));
    }

    // Calls: a success with the caller's request id, a page that does not exist, a refusal.
    let (status, _, ok) = post(
        &http,
        &base,
        &tool_call(2, "spaces", json!({"action": "list"})),
        &[("x-request-id", "ops-test-42")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(!is_error(&ok), "{ok}");
    let (_, _, missing) = post(
        &http,
        &base,
        &tool_call(3, "pages", json!({"action": "get", "id": "999999999"})),
        &[],
    )
    .await;
    assert!(is_error(&missing), "{missing}");
    let (_, _, bad) = post(
        &http,
        &base,
        &tool_call(4, "pages", json!({"action": "getBody"})),
        &[],
    )
    .await;
    assert!(is_error(&bad), "{bad}");
    // A client on 2025-11-25 opens a session.
    let init = json!({"jsonrpc": "2.0", "id": 5, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "older-client", "version": "1"}}});
    let (status, headers, answer) = post(&http, &base, &init, &[]).await;
    assert_eq!(status, 200, "{answer}");
    let session = headers["mcp-session-id"].to_str().unwrap().to_string();

    let (text, scrape) = server.scrape().await;
    let calls = |tool, action, outcome| {
        scrape.sum(
            conflux_mcp::TOOL_CALLS,
            &[("tool", tool), ("action", action), ("outcome", outcome)],
        )
    };
    assert!(calls("spaces", "list", "ok") >= 1.0, "{text}");
    assert!(calls("pages", "get", "not_found") >= 1.0, "{text}");
    assert!(calls("pages", "getBody", "invalid_input") >= 1.0, "{text}");
    assert!(
        scrape.sum(
            "conflux_tool_call_duration_seconds_count",
            &[("tool", "spaces"), ("action", "list")]
        ) >= 1.0,
        "{text}"
    );
    assert!(
        scrape.sum(
            "conflux_confluence_requests_total",
            &[("operation", "getSpaces"), ("status", "200")]
        ) >= 1.0,
        "{text}"
    );
    assert!(
        scrape.sum(
            "conflux_confluence_requests_total",
            &[("operation", "getPageById"), ("status", "404")]
        ) >= 1.0,
        "{text}"
    );
    assert!(scrape.sum("conflux_confluence_request_duration_seconds_count", &[]) >= 2.0);
    assert!(
        scrape.sum(
            "conflux_store_query_duration_seconds_count",
            &[("backend", "sqlite")]
        ) >= 1.0,
        "{text}"
    );
    assert_eq!(
        scrape.sum(conflux_mcp::SESSIONS, &[("protocol_version", "2025-11-25")]),
        1.0,
        "{text}"
    );
    assert_eq!(scrape.sum("conflux_build_info", &[]), 1.0);
    assert!(text.contains("# HELP conflux_tool_calls_total"), "{text}");
    labels_are_bounded(&scrape);
    // The session closes: the gauge comes back down.
    let r = http
        .delete(format!("{base}/mcp"))
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (text, scrape) = server.scrape().await;
    assert_eq!(
        scrape.sum(conflux_mcp::SESSIONS, &[("protocol_version", "2025-11-25")]),
        0.0,
        "{text}"
    );

    // A slow call (the simulator answers the spaces list after 1.5 s), then SIGTERM.
    let admin = server.admin.clone().expect("the demo names its simulator");
    let r = http
        .put(format!("{admin}/faults"))
        .json(&json!({"latency_ms": 1500, "path_prefix": "/wiki/api/v2/spaces"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let slow = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            post(
                &http,
                &base,
                &tool_call(6, "spaces", json!({"action": "list"})),
                &[],
            )
            .await
        }
    });
    tokio::time::timeout(PATIENCE, async {
        loop {
            let (_, scrape) = server.scrape().await;
            if scrape.sum(conflux_mcp::TOOL_CALLS_IN_FLIGHT, &[]) >= 1.0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the slow call is in flight");
    server.signal(rustix::process::Signal::TERM);
    // New connections are refused from now on.
    let addr = base.trim_start_matches("http://").to_string();
    tokio::time::timeout(PATIENCE, async {
        while tokio::net::TcpStream::connect(&addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the listener closes");
    let (status, _, answer) = slow.await.unwrap();
    assert_eq!(status, 200);
    assert!(
        !is_error(&answer),
        "the call in flight finished: {answer}\n{}",
        server.log().join("\n")
    );
    let exit = server.exit().await;
    let log = server.log();
    assert!(exit.success(), "exit status {exit}:\n{}", log.join("\n"));

    // JSON logs: every line one object; the tool call lines carry what operators filter on.
    let objects: Vec<Value> = log
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for o in &objects {
        assert!(o["timestamp"].is_string() && o["level"].is_string(), "{o}");
    }
    let call_lines: Vec<&Value> = objects
        .iter()
        .filter(|o| o["message"] == "tool call")
        .collect();
    assert!(call_lines.len() >= 4, "{call_lines:?}");
    for o in &call_lines {
        for field in ["request_id", "tool", "action", "outcome"] {
            assert!(o[field].is_string(), "{field} in {o}");
        }
        assert!(o["duration_ms"].is_number(), "{o}");
    }
    assert!(
        call_lines
            .iter()
            .any(|o| o["request_id"] == "ops-test-42" && o["outcome"] == "ok"),
        "the caller's X-Request-Id is the call's request id: {call_lines:?}"
    );
    assert!(
        call_lines.iter().any(|o| o["outcome"] == "not_found"),
        "{call_lines:?}"
    );
    let said = |what: &str| {
        objects
            .iter()
            .any(|o| o["message"].as_str().is_some_and(|m| m.contains(what)))
    };
    assert!(said("SIGTERM: shutting down"), "{log:?}");
    assert!(said("shutdown: every call finished"), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_outlasts_the_grace_period_is_cut_and_the_process_still_exits_0() {
    let mut server = Running::start(&[
        "--demo",
        "serve",
        "--http",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
        "--shutdown-grace",
        "0.5",
    ])
    .await;
    let (http, base) = (server.http.clone(), server.base.clone());
    // The first call connects (credential probes) before the fault is set.
    let (_, _, ok) = post(
        &http,
        &base,
        &tool_call(1, "spaces", json!({"action": "list"})),
        &[],
    )
    .await;
    assert!(!is_error(&ok), "{ok}");
    let admin = server.admin.clone().unwrap();
    http.put(format!("{admin}/faults"))
        .json(&json!({"latency_ms": 60_000, "path_prefix": "/wiki/api/v2/spaces"}))
        .send()
        .await
        .unwrap();
    let slow = tokio::spawn({
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/mcp"))
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "spaces")
                .body(tool_call(2, "spaces", json!({"action": "list"})).to_string())
                .send()
                .await
        }
    });
    tokio::time::timeout(PATIENCE, async {
        loop {
            let (_, scrape) = server.scrape().await;
            if scrape.sum(conflux_mcp::TOOL_CALLS_IN_FLIGHT, &[]) >= 1.0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the slow call is in flight");
    server.signal(rustix::process::Signal::INT);
    // The process ends long before the simulator would answer (60 s).
    let exit = server.exit().await;
    let log = server.log().join("\n");
    assert!(exit.success(), "exit status {exit}:\n{log}");
    assert!(log.contains("SIGINT: shutting down"), "{log}");
    assert!(
        log.contains("1 tool call(s) still running; they were cut short"),
        "{log}"
    );
    slow.abort();
}

/// A random secret of the platform (at least 32 bytes).
fn platform_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_refusals_and_retries_and_are_refused_to_the_public() {
    // The simulator reports a budget of 1,000 requests an hour, as Cloud's headers do.
    let sim = Sim::start(SimConfig::demo(1).with_rate_limit(RateLimit {
        limit: 1000,
        window_secs: 3600,
        reason: None,
    }))
    .await;
    let info = sim.info.clone();
    let home = tempfile::tempdir().unwrap();
    let secret = platform_secret();
    let admin_token = platform_secret();
    let server = support::Serve::start(
        home.path(),
        &[
            ("CONFLUENCE_URL", info.site_url.clone()),
            ("CONFLUENCE_USERNAME", info.classic_token.email.clone()),
            ("CONFLUENCE_API_TOKEN", info.classic_token.token.clone()),
            ("CONFLUX_GATEWAY_URL", info.gateway_url.clone()),
            ("CONFLUX_IDENTITY_URL", info.identity_url.clone()),
            ("CONFLUX_PLATFORM_SECRET", secret.clone()),
            ("CONFLUX_ALLOW_ALL_AGENTS", "1".into()),
            ("CONFLUX_METRICS", "127.0.0.1:0".into()),
            ("CONFLUX_ADMIN_TOKEN", admin_token.clone()),
            // Everything the server says, so that the check for secrets below sees it all.
            ("CONFLUX_LOG", "debug".into()),
        ],
    )
    .await;
    let metrics_url = server
        .log()
        .lines()
        .find_map(|l| l.strip_prefix("conflux: metrics "))
        .expect("the metrics address is named")
        .trim()
        .to_string();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let call = tool_call(1, "spaces", json!({"action": "list"}));

    // Refused before the MCP server: no credential, then one nobody issued.
    let (status, _, _) = post(&http, &server.url, &call, &[]).await;
    assert_eq!(status, 401);
    let (status, _, _) = post(
        &http,
        &server.url,
        &call,
        &[("authorization", "Bearer cfx_not_a_token")],
    )
    .await;
    assert_eq!(status, 401);

    // The platform calls for an agent; Confluence answers 429 once (Retry-After: 1), the
    // client waits and retries, the call succeeds.
    let bearer = format!("Bearer {secret}");
    let platform = [
        ("authorization", bearer.as_str()),
        ("x-conflux-agent-id", "ops-dashboard"),
    ];
    let (_, _, ok) = post(&http, &server.url, &call, &platform).await;
    assert!(!is_error(&ok), "{ok}\n{}", server.log());
    sim.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"path_prefix": "/wiki/api/v2/spaces",
               "fail_next": {"count": 1, "status": 429, "retry_after": 1}}),
    )
    .await;
    let (_, _, ok) = post(&http, &server.url, &call, &platform).await;
    assert!(!is_error(&ok), "{ok}\n{}", server.log());

    let text = http
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = Scrape::parse(&text);
    let refusals = |reason| scrape.sum(conflux_web::AUTH_REFUSALS, &[("reason", reason)]);
    assert!(refusals("missing_credential") >= 1.0, "{text}");
    assert!(refusals("invalid_token") >= 1.0, "{text}");
    let requests = |status| {
        scrape.sum(
            "conflux_confluence_requests_total",
            &[("operation", "getSpaces"), ("status", status)],
        )
    };
    assert!(requests("429") >= 1.0, "{text}");
    assert!(requests("200") >= 2.0, "{text}");
    assert!(
        scrape.sum(
            "conflux_confluence_retries_total",
            &[("operation", "getSpaces"), ("reason", "rate_limited")]
        ) >= 1.0,
        "{text}"
    );
    assert!(
        scrape.sum("conflux_confluence_rate_limit_wait_seconds_count", &[]) >= 1.0,
        "{text}"
    );
    assert!(
        scrape.sum("conflux_confluence_rate_limit_wait_seconds_sum", &[]) > 0.0,
        "{text}"
    );
    assert_eq!(
        scrape.sum("conflux_confluence_rate_limit_limit", &[]),
        1000.0,
        "{text}"
    );
    let remaining = scrape.sum("conflux_confluence_rate_limit_remaining", &[]);
    assert!(remaining > 0.0 && remaining < 1000.0, "{text}");
    assert!(
        scrape.has("conflux_confluence_rate_limit_near_limit"),
        "{text}"
    );
    assert!(
        scrape.sum(
            conflux_mcp::TOOL_CALLS,
            &[("tool", "spaces"), ("action", "list"), ("outcome", "ok")]
        ) >= 2.0,
        "{text}"
    );
    labels_are_bounded(&scrape);
    // On the public address /metrics answers the admin token alone.
    let public_metrics = format!("{}/metrics", server.url);
    let with_admin = format!("Bearer {admin_token}");
    let wrong = format!("Bearer {}", platform_secret());
    let refused: [&[(&str, &str)]; 5] = [
        &[],
        &[("host", "10.0.0.7:8976")],
        &[("authorization", &wrong)],
        &[("authorization", &bearer)],
        &[("authorization", admin_token.as_str())],
    ];
    for headers in refused {
        let mut r = http.get(&public_metrics);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{headers:?}");
        assert!(r.headers().contains_key("www-authenticate"));
        let body = r.text().await.unwrap();
        assert!(!body.contains("conflux_"), "{headers:?}: {body}");
    }
    let r = http
        .get(&public_metrics)
        .header("host", "10.0.0.7:8976")
        .header("authorization", &with_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let scraped = Scrape::parse(&r.text().await.unwrap());
    assert!(scraped.sum(conflux_mcp::TOOL_CALLS, &[]) >= 2.0);

    // The metrics address serves the figures and the probes, nothing else: no way around the
    // authentication of /mcp or the pages through it.
    let metrics_base = metrics_url.trim_end_matches("/metrics");
    for path in [
        "/mcp",
        "/admin",
        "/",
        "/.well-known/oauth-authorization-server",
    ] {
        let r = http
            .get(format!("{metrics_base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = http
        .post(format!("{metrics_base}/mcp"))
        .header("content-type", "application/json")
        .body(call.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // A web page cannot read it, not even after rebinding its own name to this address.
    for (k, v) in [
        ("origin", "http://attacker.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-origin"),
    ] {
        let r = http.get(&metrics_url).header(k, v).send().await.unwrap();
        assert_eq!(r.status(), 403, "{k}: {v}");
        assert!(!r.text().await.unwrap().contains("conflux_"));
    }
    let typed = http
        .get(&metrics_url)
        .header("sec-fetch-site", "none")
        .send()
        .await
        .unwrap();
    assert_eq!(typed.status(), 200, "an address typed by hand");

    // None of the secrets is in the figures or the log.
    let log = server.stop().await;
    for secret in [
        secret.as_str(),
        admin_token.as_str(),
        info.classic_token.token.as_str(),
    ] {
        assert!(!text.contains(secret));
        assert!(!log.contains(secret));
    }
}

/// An address nothing listens on (bound, then let go).
async fn dead_address() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

/// `/readyz` until `done` says yes about its status and body (at most `PATIENCE`).
async fn readyz_until(
    http: &reqwest::Client,
    url: &str,
    done: impl Fn(u16, &Value) -> bool,
) -> (u16, Value) {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let r = http.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            if done(status, &body) {
                return (status, body);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("/readyz reaches the expected state")
}

/// Readiness is the store's: Confluence out of reach is reported and leaves the replica in
/// the pool; the store (Postgres) gone makes it unready on both addresses, and the shutdown
/// still ends in exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_store_and_only_reports_confluence() {
    let Some(pg) = conflux_store::testing::PgServer::start_or_skip(
        "readiness_follows_the_store_and_only_reports_confluence",
    )
    .await
    else {
        return;
    };
    let database = pg.create_database("conflux_ready").await;
    let confluence = dead_address().await;
    let mut server = Running::start_with(
        &["serve", "--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"],
        &[
            ("CONFLUX_DATABASE_URL", database),
            (
                "CONFLUX_ENCRYPTION_KEY",
                "ab".repeat(32).replacen("ab", "cd", 1),
            ),
            ("CONFLUENCE_URL", confluence.clone()),
            ("CONFLUENCE_USERNAME", "ops@example.com".into()),
            ("CONFLUENCE_API_TOKEN", "not-a-real-token".into()),
            ("CONFLUX_GATEWAY_URL", confluence.clone()),
            ("CONFLUX_IDENTITY_URL", confluence),
            ("CONFLUX_ALLOW_ALL_AGENTS", "1".into()),
        ],
    )
    .await;
    let http = server.http.clone();
    let public = format!("{}/readyz", server.base);
    let private = server.metrics.replace("/metrics", "/readyz");

    let (status, ready) = readyz_until(&http, &public, |_, b| b["confluence"] != "unknown").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready,
        json!({"status": "ready", "store": "ok", "encryption_key": "ok",
               "confluence": "unreachable"}),
        "Confluence out of reach does not make the replica unready"
    );

    drop(pg);
    for url in [&public, &private] {
        let (status, unready) = readyz_until(&http, url, |s, _| s == 503).await;
        assert_eq!(unready["status"], "unready", "{unready}");
        assert!(
            ["unreachable", "timeout"].contains(&unready["store"].as_str().unwrap()),
            "{unready}"
        );
        assert_eq!(unready["encryption_key"], "unknown", "{unready}");
        assert_eq!(status, 503);
    }
    // The process still answers: alive, not ready.
    let r = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    server.signal(rustix::process::Signal::TERM);
    let exit = server.exit().await;
    assert!(
        exit.success(),
        "exit status {exit}:\n{}",
        server.log().join("\n")
    );
}
