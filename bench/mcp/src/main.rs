//! The MCP server benchmark, in one run on one machine against one simulator:
//! cold start of `conflux serve` to the first `tools/list` answer (median of N), its RSS after
//! start (VmRSS), and p50/p95 latency of `pages.getBody` and `search.cql` through the server
//! (stdio, rmcp's client) against the same calls made directly with conflux-client, so the
//! ratio is the server's overhead.
//!
//! Usage: conflux-mcp-bench CONFLUX_BINARY [STARTS] [CALLS]

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use conflux_client::api::{BodyFormat, PageList, SearchParams};
use conflux_client::{
    Client, ClientConfig, CredentialConfig, Endpoints, PageRequest, TokenKindHint,
};
use conflux_sim::{SimConfig, SimInfo};
use conflux_types::{BaseUrl, PageId, Secret, SiteUrl};
use rmcp::model::{CallToolRequestParams, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::process::Command;

use conflux_mcp_bench::{cpu_model, cpus, load_average, mib, ms, pct, vm_rss_kb};

const WARMUP: usize = 30;
const SEARCH_LIMIT: u32 = 25;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(binary) = args.get(1).cloned() else {
        bail!("usage: conflux-mcp-bench CONFLUX_BINARY [STARTS] [CALLS]");
    };
    let starts: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let calls: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(500);
    let _ = rustls::crypto::ring::default_provider().install_default();

    let sim = conflux_sim::spawn(SimConfig::demo(1)).await?;
    let info = sim.info();
    let client = direct_client(&info).await?;
    let (page_id, page_size, space_key) = largest_page(&client).await?;
    let cql = format!("space = \"{space_key}\" AND type = page");
    println!("conflux MCP benchmark: {starts} cold starts, {calls} timed calls per series");
    println!("binary  {binary}");
    println!(
        "page    {page_id} ({page_size} bytes of storage XHTML); cql `{cql}` limit {SEARCH_LIMIT}"
    );
    println!(
        "machine {} CPUs, {}; load average {}",
        cpus(),
        cpu_model(),
        load_average()
    );
    println!();

    // Cold start against the external simulator (credential probe included), then --demo.
    let mut cold = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..starts {
        let (t, kb) = cold_start(&binary, &info, false).await?;
        cold.push(t);
        rss.push(kb);
    }
    let mut cold_demo = Vec::new();
    let mut rss_demo = Vec::new();
    for _ in 0..starts {
        let (t, kb) = cold_start(&binary, &info, true).await?;
        cold_demo.push(t);
        rss_demo.push(kb);
    }

    // Latency: one long-lived server; calls alternate between the server and the client.
    let (mcp, pid) = start(&binary, &info, false).await?;
    let get_md = args_of(json!({ "action": "getBody", "id": page_id }));
    let get_st = args_of(json!({ "action": "getBody", "id": page_id, "bodyFormat": "storage" }));
    let search = args_of(json!({ "action": "cql", "cql": cql, "limit": SEARCH_LIMIT }));
    let id = PageId::from(page_id.clone());
    let params = SearchParams::default();
    let mut s = Series::default();
    for i in 0..WARMUP + calls {
        let keep = i >= WARMUP;
        let t = Instant::now();
        tool(&mcp, "pages", &get_md).await?;
        s.mcp_md.push_if(keep, t.elapsed());
        let t = Instant::now();
        tool(&mcp, "pages", &get_st).await?;
        s.mcp_storage.push_if(keep, t.elapsed());
        let t = Instant::now();
        client
            .pages()
            .get(id.clone(), Some(BodyFormat::Storage))
            .await?;
        s.direct_body.push_if(keep, t.elapsed());
        let t = Instant::now();
        tool(&mcp, "search", &search).await?;
        s.mcp_search.push_if(keep, t.elapsed());
        let t = Instant::now();
        client
            .search()
            .cql(&cql, &params, &PageRequest::limit(SEARCH_LIMIT))
            .await?;
        s.direct_search.push_if(keep, t.elapsed());
    }
    let rss_loaded = vm_rss_kb(pid)?;
    mcp.cancel().await?;

    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| cold start to first tools/list, external simulator (median of {starts}; min, max) | {} ({}, {}) |",
        ms(median(&cold)),
        ms(min(&cold)),
        ms(max(&cold))
    );
    println!(
        "| cold start to first tools/list, `--demo` with its embedded simulator (median of {starts}) | {} |",
        ms(median(&cold_demo))
    );
    println!(
        "| RSS after start (VmRSS, median; `--demo`) | {:.1} MiB ({:.1} MiB) |",
        mib(median_u64(&rss)),
        mib(median_u64(&rss_demo))
    );
    println!(
        "| RSS after the {} latency calls | {:.1} MiB |",
        (WARMUP + calls) * 3,
        mib(rss_loaded)
    );
    println!();
    println!("| call ({calls} each) | p50 | p95 | p50 added | p50 ratio to direct | p95 ratio |");
    println!("|---|---|---|---|---|---|");
    row(
        "conflux-client `pages().get(id, storage)`",
        &s.direct_body,
        &s.direct_body,
    );
    row(
        "MCP `pages.getBody` (storage)",
        &s.mcp_storage,
        &s.direct_body,
    );
    row(
        "MCP `pages.getBody` (markdown, the default)",
        &s.mcp_md,
        &s.direct_body,
    );
    row(
        "conflux-client `search().cql`",
        &s.direct_search,
        &s.direct_search,
    );
    row("MCP `search.cql`", &s.mcp_search, &s.direct_search);
    drop(sim);
    Ok(())
}

#[derive(Default)]
struct Series {
    mcp_md: Vec<Duration>,
    mcp_storage: Vec<Duration>,
    direct_body: Vec<Duration>,
    mcp_search: Vec<Duration>,
    direct_search: Vec<Duration>,
}

trait PushIf {
    fn push_if(&mut self, keep: bool, d: Duration);
}

impl PushIf for Vec<Duration> {
    fn push_if(&mut self, keep: bool, d: Duration) {
        if keep {
            self.push(d);
        }
    }
}

fn row(name: &str, v: &[Duration], base: &[Duration]) {
    let (p50, p95) = (pct(v, 50), pct(v, 95));
    let (b50, b95) = (pct(base, 50), pct(base, 95));
    println!(
        "| {name} | {} | {} | {} | {:.2}x | {:.2}x |",
        ms(p50),
        ms(p95),
        ms(p50.saturating_sub(b50)),
        p50.as_secs_f64() / b50.as_secs_f64().max(1e-9),
        p95.as_secs_f64() / b95.as_secs_f64().max(1e-9)
    );
}

fn median(v: &[Duration]) -> Duration {
    pct(v, 50)
}

fn min(v: &[Duration]) -> Duration {
    v.iter().min().copied().unwrap_or_default()
}

fn max(v: &[Duration]) -> Duration {
    v.iter().max().copied().unwrap_or_default()
}

fn median_u64(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len().saturating_sub(1) / 2).copied().unwrap_or(0)
}

fn args_of(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

async fn direct_client(info: &SimInfo) -> anyhow::Result<Client> {
    let config = ClientConfig {
        endpoints: Endpoints {
            gateway: BaseUrl::parse(&info.gateway_url)?,
            identity: BaseUrl::parse(&info.identity_url)?,
        },
        ..ClientConfig::default()
    };
    let credential = CredentialConfig::ApiToken {
        email: info.classic_token.email.clone(),
        token: Secret::new(info.classic_token.token.clone()),
        site: Some(SiteUrl::parse(&info.site_url)?),
        cloud_id: None,
        kind: TokenKindHint::Detect,
        scopes: None,
    };
    Ok(Client::connect(credential, config).await?)
}

/// The page with the largest storage body, so the body path carries real weight.
async fn largest_page(client: &Client) -> anyhow::Result<(String, usize, String)> {
    let spaces = client.spaces().list(&[], &PageRequest::limit(50)).await?;
    let mut best: Option<(String, usize, String)> = None;
    for space in &spaces.results {
        let filter = PageList {
            space_id: Some(space.id.clone()),
            body_format: Some(BodyFormat::Storage),
            ..PageList::default()
        };
        let pages = client
            .pages()
            .list(&filter, &PageRequest::limit(250))
            .await?;
        for p in pages.results {
            let size = p
                .body
                .as_ref()
                .and_then(|b| b.storage.as_ref())
                .map_or(0, |v| v.value.len());
            if best.as_ref().is_none_or(|b| size > b.1) {
                best = Some((p.id.clone(), size, space.key.clone()));
            }
        }
    }
    best.context("the demo site has no pages")
}

/// `conflux serve` on the simulator: with `demo`, on its own embedded one.
fn command(binary: &str, info: &SimInfo, demo: bool) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear();
    if demo {
        cmd.args(["--demo", "serve"]);
    } else {
        cmd.arg("serve")
            .env("CONFLUENCE_URL", &info.site_url)
            .env("CONFLUENCE_USERNAME", &info.classic_token.email)
            .env("CONFLUENCE_API_TOKEN", &info.classic_token.token)
            .env("CONFLUX_GATEWAY_URL", &info.gateway_url)
            .env("CONFLUX_IDENTITY_URL", &info.identity_url);
    }
    cmd
}

async fn start(
    binary: &str,
    info: &SimInfo,
    demo: bool,
) -> anyhow::Result<(RunningService<RoleClient, ()>, u32)> {
    let (proc, _) = TokioChildProcess::builder(command(binary, info, demo))
        .stderr(Stdio::null())
        .spawn()
        .context("conflux serve starts")?;
    let pid = proc.id().context("the server's pid")?;
    let mcp = ().serve(proc).await.context("MCP handshake")?;
    Ok((mcp, pid))
}

/// Spawn to the first `tools/list` answer (the handshake included), then the server's VmRSS.
async fn cold_start(binary: &str, info: &SimInfo, demo: bool) -> anyhow::Result<(Duration, u64)> {
    let t = Instant::now();
    let (mcp, pid) = start(binary, info, demo).await?;
    let tools = mcp.list_all_tools().await?;
    let elapsed = t.elapsed();
    if tools.is_empty() {
        bail!("tools/list came back empty");
    }
    let kb = vm_rss_kb(pid)?;
    mcp.cancel().await?;
    Ok((elapsed, kb))
}

async fn tool(
    mcp: &RunningService<RoleClient, ()>,
    name: &str,
    args: &JsonObject,
) -> anyhow::Result<()> {
    let r = mcp
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args.clone()))
        .await?;
    if r.is_error == Some(true) || r.structured_content.is_none() {
        bail!("{name} {args:?} failed: {:?}", r.content);
    }
    Ok(())
}
