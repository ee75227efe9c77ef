//! The official Python MCP SDK (2.3) as the OAuth client of `conflux serve --http`, the built
//! binary, against the simulator over real sockets (`tests/python/oauth_client.py`): it
//! discovers the authorization server from the 401, identifies itself once by a Client ID
//! Metadata Document (served over https on loopback, the server trusting its throwaway CA) and
//! once by Dynamic Client Registration; the person signs in with Atlassian and approves; the
//! SDK negotiates the current revision, lists the tools, calls `spaces.list`, refreshes when
//! its short-lived access token expires, and is refused once the person revokes it on `/`.
//!
//! Skipped (with `SKIPPED …` on stderr) without the SDK, except under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use conflux_testkit::Sim;
use support::{
    Serve, check_python_summary, demo_app_redirects_to, metadata_document, python_client,
    python_sdk_or_skip, serve_env,
};

/// Seconds an access token lives: the script waits this long before it calls again.
const ACCESS_TOKEN_TTL: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_authorizes_calls_refreshes_and_is_revoked() {
    const TEST: &str = "python_sdk_authorizes_calls_refreshes_and_is_revoked";
    if !python_sdk_or_skip(TEST).await {
        return;
    }
    let sim = Sim::demo(31).await;
    let info = sim.info.clone();
    let dir = tempfile::tempdir().unwrap();
    let doc = metadata_document(dir.path()).await;
    let mut env = serve_env(&info, &doc.ca_file, ACCESS_TOKEN_TTL);
    env.push((
        "CONFLUX_DATABASE_URL",
        dir.path().join("conflux.db").display().to_string(),
    ));
    let server = Serve::start(dir.path(), &env).await;
    demo_app_redirects_to(&info, &[format!("{}/callback", server.url)]).await;

    let mcp = format!("{}/mcp", server.url);
    let demo = info.demo_account().unwrap();
    let summary = python_client(&mcp, &demo.account_id, &doc.client_id, 10).await;
    eprintln!("{summary:#}");
    check_python_summary(&summary, &doc.client_id, &mcp, false);
    assert_eq!(
        doc.server.requests("/conflux-e2e/client.json"),
        1,
        "the server fetched the metadata document (once: it is cached)"
    );

    let log = server.stop().await;
    assert!(
        !log.contains(&info.oauth_client.client_secret),
        "the app's secret in the server's log"
    );
    assert!(!log.contains("cfxsim-"), "an Atlassian token in the log");
}
