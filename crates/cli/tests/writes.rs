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
    let _ = stdout;
}
