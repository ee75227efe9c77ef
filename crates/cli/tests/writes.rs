//! Issue 13 through the binary: transient failures retried on every request (the credential
//! probe included) and named for what they are; `conflux serve` starting while Confluence is out
//! of reach; bad input refused before any request; writes exactly-once under lost answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Output, Stdio};
use std::time::Duration;

use conflux_testkit::Sim;
use conflux_testkit::mcp::{call, text};
use rmcp::ServiceExt;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_conflux");

/// `conflux ARGS` as the simulator's classic-token user, nothing else from the environment.
fn conflux(sim: &Sim, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let t = &sim.info.classic_token;
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("CONFLUENCE_URL", &sim.info.site_url)
        .env("CONFLUENCE_USERNAME", &t.email)
        .env("CONFLUENCE_API_TOKEN", &t.token)
        .env("CONFLUX_GATEWAY_URL", &sim.info.gateway_url)
        .env("CONFLUX_IDENTITY_URL", &sim.info.identity_url)
        .envs(vars.iter().copied());
    cmd
}

async fn run(sim: &Sim, args: &[&str], vars: &[(&str, &str)]) -> Output {
    conflux(sim, args, vars)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("conflux runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn faults(sim: &Sim, v: Value) {
    sim.admin(reqwest::Method::PUT, "/faults", v).await;
}

/// Issue 13: under injected 5xx, CLI commands failed with exit 2 "configuration: ... is it a
/// Confluence Cloud site?" because the token-kind probe was never retried. Faults: 503, 429
/// and a dropped connection on the probe's path; then 503s that outlast a 1 s deadline
/// (`CONFLUX_RETRY_DEADLINE`) exit 6 as upstream, with its hint.
#[tokio::test]
async fn issue_013_cli_retries_the_probe_and_names_what_failed() {
    let sim = Sim::demo(13).await;
    faults(
        &sim,
        json!({"path_prefix": "/wiki/api/v2/spaces",
               "fail_next": {"count": 2, "status": 503}}),
    )
    .await;
    let o = run(&sim, &["spaces", "list"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    faults(
        &sim,
        json!({"fail_next": {"count": 2, "status": 429, "retry_after": 0}}),
    )
    .await;
    let o = run(&sim, &["spaces", "list"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    faults(&sim, json!({"fail_next": {"count": 1, "drop": true}})).await;
    let o = run(&sim, &["spaces", "list"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));

    faults(
        &sim,
        json!({"fail_next": {"count": 1000000, "status": 503}}),
    )
    .await;
    let o = run(
        &sim,
        &["spaces", "list"],
        &[("CONFLUX_RETRY_DEADLINE", "1")],
    )
    .await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(!err.contains("configuration"), "{err}");
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(
        err.contains("hint: Confluence had a transient failure"),
        "{err}"
    );
}

/// Issue 13: `conflux serve` exited at start-up when the probe met one 503. Fault: every
/// request answers 503 while the server starts; it starts, lists its tools, reports the
/// failure to the first call (upstream, within `CONFLUX_RETRY_DEADLINE`), and once the fault
/// is lifted the next call connects and succeeds.
#[tokio::test]
async fn issue_013_serve_starts_while_confluence_is_unreachable() {
    let sim = Sim::demo(14).await;
    faults(&sim, json!({"error_rate": 1.0})).await;
    let cmd = conflux(&sim, &["serve"], &[("CONFLUX_RETRY_DEADLINE", "1")]);
    let (proc, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("conflux serve starts");
    let session = async {
        let mcp = ().serve(proc).await.expect("MCP handshake");
        let tools = mcp.list_all_tools().await.unwrap();
        assert!(tools.iter().any(|t| t.name == "pages"));
        let first = call(&mcp, "spaces", json!({"action": "list"})).await;
        assert_eq!(first.is_error, Some(true));
        let msg = text(&first);
        assert!(msg.contains("503"), "{msg}");
        assert!(!msg.contains("configuration"), "{msg}");
        faults(&sim, json!({"error_rate": 0.0})).await;
        let second = call(&mcp, "spaces", json!({"action": "list"})).await;
        assert_ne!(second.is_error, Some(true), "{}", text(&second));
        mcp.cancel().await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(60), session)
        .await
        .expect("session within 60 s");
}

/// Requests the simulator answered since its stats were reset: (method, path, status).
async fn requests(sim: &Sim) -> Vec<(String, String, u64)> {
    let stats = sim.stats().await;
    stats["recent_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// An MCP session on `conflux serve` (a child process) as the classic-token user.
async fn serve(sim: &Sim, vars: &[(&str, &str)]) -> conflux_testkit::mcp::Session {
    let cmd = conflux(sim, &["serve"], vars);
    let (proc, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("conflux serve starts");
    ().serve(proc).await.expect("MCP handshake")
}

/// Issue 13: 200 KB of CQL failed as "transport: could not reach Confluence: builder error",
/// was retried 4 times, and the hint said the request may have been applied; an id of `..`
/// became `DELETE /wiki/api/v2/`. Both are now refused as invalid input before any request.
/// Switch: the simulator's `max_url_length` (414 URI Too Long) with Conflux's own limit off:
/// the 414 is invalid input too, sent once, never retried.
#[tokio::test]
async fn issue_013_bad_input_is_named_and_never_sent() {
    let sim = Sim::demo(15).await;
    let mcp = serve(&sim, &[]).await;
    // Connect first, so that only the calls below are counted.
    let ok = call(&mcp, "spaces", json!({"action": "list", "limit": 1})).await;
    assert_ne!(ok.is_error, Some(true), "{}", text(&ok));
    sim.admin(reqwest::Method::POST, "/stats/reset", Value::Null)
        .await;

    let long = format!("text ~ \"{}\"", "a".repeat(200 * 1024));
    let r = call(&mcp, "search", json!({"action": "cql", "cql": long})).await;
    let msg = text(&r);
    assert_eq!(r.is_error, Some(true), "{msg}");
    assert!(
        msg.contains("(invalid_input)") && msg.contains("8192"),
        "{msg}"
    );
    assert!(!msg.contains("may have been applied"), "{msg}");

    for (tool, action) in [
        ("pages", "get"),
        ("pages", "delete"),
        ("comments", "getFooter"),
        ("labels", "getForPage"),
        ("databases", "delete"),
        ("content", "children"),
        ("versions", "listForPage"),
    ] {
        for id in ["..", "1/../2", "12 OR 1=1", ""] {
            let r = call(&mcp, tool, json!({"action": action, "id": id})).await;
            let msg = text(&r);
            assert_eq!(r.is_error, Some(true), "{tool} {action} {id}: {msg}");
            assert!(
                msg.contains("(invalid_input)"),
                "{tool} {action} {id}: {msg}"
            );
        }
    }
    let r = call(&mcp, "attachments", json!({"action": "get", "id": ".."})).await;
    assert!(text(&r).contains("(invalid_input)"), "{}", text(&r));
    let r = call(&mcp, "spaces", json!({"action": "get", "key": "A/B"})).await;
    assert!(text(&r).contains("(invalid_input)"), "{}", text(&r));
    assert_eq!(requests(&sim).await, [], "nothing reached Confluence");
    mcp.cancel().await.unwrap();

    // Confluence's own limit, with Conflux's off: 414, once.
    sim.behaviour(json!({"max_url_length": 2048})).await;
    let mcp = serve(&sim, &[("CONFLUX_MAX_URL_LENGTH", "0")]).await;
    let ok = call(&mcp, "spaces", json!({"action": "list", "limit": 1})).await;
    assert_ne!(ok.is_error, Some(true), "{}", text(&ok));
    sim.admin(reqwest::Method::POST, "/stats/reset", Value::Null)
        .await;
    let long = format!("text ~ \"{}\"", "b".repeat(4000));
    let r = call(&mcp, "search", json!({"action": "cql", "cql": long})).await;
    let msg = text(&r);
    assert!(
        msg.contains("(invalid_input)") && msg.contains("414"),
        "{msg}"
    );
    let sent = requests(&sim).await;
    assert_eq!(sent.len(), 1, "never retried: {sent:?}");
    assert_eq!(sent[0].2, 414);
    mcp.cancel().await.unwrap();
    let _ = stdout;
}
