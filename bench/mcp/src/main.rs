//! The MCP server benchmark, in one run on one machine against one simulator:
//! cold start of `conflux serve` to the first `tools/list` answer (median of N), its RSS after
//! start (VmRSS), and p50/p95 latency of `pages.getBody` and `search.cql` through the server
//! (stdio, rmcp's client) against the same calls made directly with conflux-client, so the
//! ratio is the server's overhead. Beside them, what parts of that overhead are not the
//! server's: the storage answer's JSON-RPC line encoded and decoded in-process, the same call
//! from a bare client (a line written, a line read and parsed; no rmcp), and the floor of any
//! stdio hop (a line of the request's size answered with one of the answer's size, with the
//! body twice and once, by a process doing nothing else).
//!
//! In the same run: mcp-atlassian 0.23.1 (the peer `.ci/run` installs) started the same way,
//! spawn to the first `tools/list` answer against the same simulator, and its RSS after start;
//! the size of `tools/list`; and for one representative call of every tool, the server's
//! answer time (rmcp's client) against the official Python MCP SDK's validation of that result
//! against the tool's output schema (`ClientSession.validate_tool_result`, the step its
//! `call_tool` runs after every answer).
//!
//! Usage: conflux-mcp-bench CONFLUX_BINARY [STARTS] [CALLS] [PEER_STARTS]

use std::path::PathBuf;
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
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use conflux_mcp_bench::{
    context_switches, cpu_model, cpu_time, cpus, load_average, mib, ms, pct, threads, vm_rss_kb,
};

const WARMUP: usize = 30;
const SEARCH_LIMIT: u32 = 25;
/// The third-party MCP server compared at start-up, in the virtual environment `.ci/run` makes.
const PEER_VENV: &str = "mcp-atlassian-0.23.1";
/// The Python SDK's validation, timed per tool (run with the system's `python3`).
const VALIDATE_PY: &str = include_str!("validate.py");

/// Set on the benchmark's own executable started as the pipe-floor peer (see [`Floor`]).
const FLOOR_PEER: &str = "CONFLUX_MCP_BENCH_FLOOR_PEER";

fn main() -> anyhow::Result<()> {
    if std::env::var_os(FLOOR_PEER).is_some() {
        return floor_peer();
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(binary) = args.get(1).cloned() else {
        bail!("usage: conflux-mcp-bench CONFLUX_BINARY [STARTS] [CALLS] [PEER_STARTS]");
    };
    let starts: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let calls: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(500);
    let peer_starts: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(5);
    // Calls per tool in the per-tool table (and validations per result).
    let per_tool = (calls / 5).max(20);
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

    // The peer, started the same way against the same simulator.
    let peer = match peer_venv() {
        Some(venv) => {
            let mut times = Vec::new();
            let mut rss = Vec::new();
            let mut tools = 0;
            for _ in 0..peer_starts {
                let (t, kb, n) = peer_cold_start(&venv, &info).await?;
                times.push(t);
                rss.push(kb);
                tools = n;
            }
            Some((times, rss, tools))
        }
        None => None,
    };

    // Latency: one long-lived server; calls alternate between the server and the client.
    let (mcp, pid) = start(&binary, &info, false).await?;
    let get_md = args_of(json!({ "action": "getBody", "id": page_id }));
    let get_st = args_of(json!({ "action": "getBody", "id": page_id, "bodyFormat": "storage" }));
    let search = args_of(json!({ "action": "cql", "cql": cql, "limit": SEARCH_LIMIT }));
    let id = PageId::from(page_id.clone());
    let params = SearchParams::default();
    // The storage answer as it crosses stdio: its JSON-RPC line, encoded by the server and
    // decoded by the client. Timing both in-process gives the floor of any JSON-RPC hop.
    let answer = mcp
        .call_tool(CallToolRequestParams::new("pages").with_arguments(get_st.clone()))
        .await?;
    let line = json!({ "jsonrpc": "2.0", "id": 1, "result": answer });
    let line_bytes = serde_json::to_vec(&line)?.len();
    let body_bytes = answer
        .structured_content
        .as_ref()
        .and_then(|v| v["body"]["value"].as_str())
        .map_or(0, str::len);
    let mut bare = Bare::start(&binary, &info)?;
    let bare_request = serde_json::to_vec(&json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": { "name": "pages", "arguments": get_st },
    }))?;
    let request_bytes = bare_request.len();
    let mut floor = Floor::start(request_bytes)?;
    let mut s = Series::default();
    let mut bare_cpu = Duration::ZERO;
    let mut bare_switches = (0, 0);
    for i in 0..WARMUP + calls {
        if i == WARMUP {
            bare_cpu = cpu_time(bare.pid())?;
            bare_switches = context_switches(bare.pid())?;
        }
        let keep = i >= WARMUP;
        // The two body formats take turns going first: the first call after the search
        // below finds the server idle for a while, and pays for waking it.
        for markdown in [i % 2 == 0, i % 2 == 1] {
            let t = Instant::now();
            if markdown {
                tool(&mcp, "pages", &get_md).await?;
                s.mcp_md.push_if(keep, t.elapsed());
            } else {
                tool(&mcp, "pages", &get_st).await?;
                s.mcp_storage.push_if(keep, t.elapsed());
            }
        }
        let t = Instant::now();
        client
            .pages()
            .get(id.clone(), Some(BodyFormat::Storage))
            .await?;
        s.direct_body.push_if(keep, t.elapsed());
        let t = Instant::now();
        let encoded = serde_json::to_vec(&line)?;
        let decoded: Value = serde_json::from_slice(&encoded)?;
        std::hint::black_box(decoded);
        s.json_hop.push_if(keep, t.elapsed());
        // Blocking pipes: the runtime moves its other tasks (the simulator the bare server
        // calls) off this thread meanwhile.
        let t = Instant::now();
        tokio::task::block_in_place(|| bare.call(&bare_request))?;
        s.bare_storage.push_if(keep, t.elapsed());
        // Each floor exchange follows other work, as an MCP call does (a peer that has just
        // answered is hot; one that has slept is not).
        let answer = if i % 2 == 0 {
            line_bytes
        } else {
            line_bytes - body_bytes
        };
        let t = Instant::now();
        tokio::task::block_in_place(|| floor.exchange(answer))?;
        let e = t.elapsed();
        if i % 2 == 0 {
            s.floor_answer.push_if(keep, e);
        } else {
            s.floor_once.push_if(keep, e);
        }
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
    let bare_cpu = cpu_time(bare.pid())?.saturating_sub(bare_cpu);
    let bare_now = context_switches(bare.pid())?;
    let bare_threads = threads(bare.pid())?;
    let rss_loaded = vm_rss_kb(pid)?;
    mcp.cancel().await?;

    // Every tool: one representative call, timed through the server.
    let (mcp, _) = start(&binary, &info, false).await?;
    let listed = mcp.list_all_tools().await?;
    let list_bytes = serde_json::to_vec(&json!({ "tools": listed }))?.len();
    let representative = representative_calls(&client, &page_id, &cql).await?;
    let mut answers: Vec<(String, Vec<Duration>)> = Vec::new();
    for (name, arguments) in &representative {
        let arguments = args_of(arguments.clone());
        for _ in 0..WARMUP.min(per_tool) {
            tool(&mcp, name, &arguments).await?;
        }
        let mut v = Vec::with_capacity(per_tool);
        for _ in 0..per_tool {
            let t = Instant::now();
            tool(&mcp, name, &arguments).await?;
            v.push(t.elapsed());
        }
        answers.push((name.clone(), v));
    }
    mcp.cancel().await?;
    let validation = python_validation(&binary, &info, &representative, per_tool).await;

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
        &format!(
            "its storage answer's JSON-RPC line ({line_bytes} B) encoded and decoded by serde_json, in-process"
        ),
        &s.json_hop,
        &s.direct_body,
    );
    row(
        "MCP `pages.getBody` (storage), a bare client: one line written, one read and parsed by serde_json",
        &s.bare_storage,
        &s.direct_body,
    );
    row(
        &format!(
            "floor of a stdio hop: a {request_bytes} B line answered with {line_bytes} B by a process doing nothing else"
        ),
        &s.floor_answer,
        &s.direct_body,
    );
    row(
        &format!(
            "the same floor with the body once ({} B answered)",
            line_bytes - body_bytes
        ),
        &s.floor_once,
        &s.direct_body,
    );
    row(
        "conflux-client `search().cql`",
        &s.direct_search,
        &s.direct_search,
    );
    row("MCP `search.cql`", &s.mcp_search, &s.direct_search);
    println!(
        "\nThe bare client's server, per storage getBody ({calls} calls): {:.3} ms of CPU, {:.1} voluntary and {:.1} involuntary context switches, {bare_threads} threads.",
        bare_cpu.as_secs_f64() * 1e3 / calls.max(1) as f64,
        (bare_now.0 - bare_switches.0) as f64 / calls.max(1) as f64,
        (bare_now.1 - bare_switches.1) as f64 / calls.max(1) as f64,
    );

    println!();
    match &peer {
        Some((times, rss_peer, tools)) => {
            let ratio = median(times).as_secs_f64() / median(&cold).as_secs_f64().max(1e-9);
            println!(
                "| start-up, spawn to the first tools/list (same simulator) | median | min, max | RSS after start | tools |"
            );
            println!("|---|---|---|---|---|");
            println!(
                "| `conflux serve` ({starts} starts) | {} | {}, {} | {:.1} MiB | {} |",
                ms(median(&cold)),
                ms(min(&cold)),
                ms(max(&cold)),
                mib(median_u64(&rss)),
                listed.len()
            );
            println!(
                "| mcp-atlassian 0.23.1, TOOLSETS=all ({peer_starts} starts) | {} | {}, {} | {:.1} MiB | {tools} |",
                ms(median(times)),
                ms(min(times)),
                ms(max(times)),
                mib(median_u64(rss_peer)),
            );
            println!("| ratio (mcp-atlassian / conflux) | {ratio:.0}x | | | |");
        }
        None => println!(
            "mcp-atlassian: not installed in {} (`bash .ci/run` creates it); row skipped",
            peer_dir().map_or("$CONFLUX_PEERS_DIR".into(), |d| d
                .join(PEER_VENV)
                .display()
                .to_string())
        ),
    }

    println!();
    println!(
        "tools/list: {} tools, {list_bytes} bytes ({:.1} KiB)",
        listed.len(),
        list_bytes as f64 / 1024.0
    );
    println!();
    match validation {
        Ok(v) => {
            println!(
                "| tool, call ({per_tool} each) | server answer p50 | Python SDK {} validation p50 | ratio | structuredContent |",
                v.sdk
            );
            println!("|---|---|---|---|---|");
            let mut worst: f64 = 0.0;
            for ((name, arguments), (_, times)) in representative.iter().zip(&answers) {
                let action = arguments["action"].as_str().unwrap_or("");
                match v.tools.get(name) {
                    Some(Ok((ns, bytes))) => {
                        let answer = pct(times, 50);
                        let check = pct(ns, 50);
                        let ratio = check.as_secs_f64() / answer.as_secs_f64().max(1e-9);
                        worst = worst.max(ratio);
                        println!(
                            "| `{name}.{action}` | {} | {} | {ratio:.3} | {bytes} B |",
                            ms(answer),
                            ms(check)
                        );
                    }
                    Some(Err(e)) => println!(
                        "| `{name}.{action}` | {} | failed: {e} | | |",
                        ms(pct(times, 50))
                    ),
                    None => println!(
                        "| `{name}.{action}` | {} | not run | | |",
                        ms(pct(times, 50))
                    ),
                }
            }
            println!("| highest ratio | | | {worst:.3} | |");
        }
        Err(e) => println!("Python SDK validation: skipped ({e:#})"),
    }
    drop(sim);
    Ok(())
}

/// One read call per tool, on the benchmark's page where a tool needs one.
async fn representative_calls(
    client: &Client,
    page_id: &str,
    cql: &str,
) -> anyhow::Result<Vec<(String, Value)>> {
    let databases = client
        .search()
        .cql(
            "type = database",
            &SearchParams::default(),
            &PageRequest::limit(1),
        )
        .await?;
    let database = databases
        .results
        .first()
        .and_then(|r| r.content.as_ref())
        .map(|c| c.id.clone())
        .context("the demo site has a database")?;
    let calls = [
        ("pages", json!({ "action": "getBody", "id": page_id })),
        ("blogposts", json!({ "action": "list" })),
        ("spaces", json!({ "action": "list" })),
        (
            "search",
            json!({ "action": "cql", "cql": cql, "limit": SEARCH_LIMIT }),
        ),
        ("content", json!({ "action": "children", "id": page_id })),
        ("comments", json!({ "action": "getFooter", "id": page_id })),
        ("labels", json!({ "action": "getForPage", "id": page_id })),
        (
            "attachments",
            json!({ "action": "listForPage", "id": page_id }),
        ),
        (
            "versions",
            json!({ "action": "listForPage", "id": page_id }),
        ),
        ("templates", json!({ "action": "list" })),
        ("users", json!({ "action": "me" })),
        ("databases", json!({ "action": "get", "id": database })),
        ("connection", json!({ "action": "check" })),
    ];
    Ok(calls.into_iter().map(|(t, a)| (t.to_string(), a)).collect())
}

struct Validation {
    sdk: String,
    /// Per tool: the validation times and the size of the structured result, or the error.
    tools: std::collections::HashMap<String, Result<(Vec<Duration>, u64), String>>,
}

/// The official Python SDK (the system's `python3 -c 'import mcp'`) connected to its own
/// `conflux serve` on the same simulator: each call once, then its validation `n` times.
async fn python_validation(
    binary: &str,
    info: &SimInfo,
    calls: &[(String, Value)],
    n: usize,
) -> anyhow::Result<Validation> {
    let serve = command(binary, info, false);
    let std = serve.as_std();
    let env: serde_json::Map<String, Value> = std
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_str()?.to_string(), json!(v?.to_str()?))))
        .collect();
    let spec = json!({
        "command": binary,
        "args": std.get_args().filter_map(|a| a.to_str()).collect::<Vec<_>>(),
        "env": env,
        "n": n,
        "calls": calls.iter().map(|(t, a)| json!({ "tool": t, "arguments": a })).collect::<Vec<_>>(),
    });
    let mut child = Command::new("python3")
        .args(["-c", VALIDATE_PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("python3 starts")?;
    let mut stdin = child.stdin.take().context("python3's stdin")?;
    stdin.write_all(&serde_json::to_vec(&spec)?).await?;
    drop(stdin);
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        bail!("python3 with the `mcp` package: {} ({last})", out.status);
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("the script's answer")?;
    let mut tools = std::collections::HashMap::new();
    for (name, r) in v["tools"].as_object().context("tools")? {
        let entry = match (r["ns"].as_array(), r["error"].as_str()) {
            (Some(ns), _) => Ok((
                ns.iter()
                    .filter_map(Value::as_u64)
                    .map(Duration::from_nanos)
                    .collect(),
                r["structured_bytes"].as_u64().unwrap_or(0),
            )),
            (None, e) => Err(e.unwrap_or("no result").to_string()),
        };
        tools.insert(name.clone(), entry);
    }
    Ok(Validation {
        sdk: v["sdk"].as_str().unwrap_or("?").to_string(),
        tools,
    })
}

fn peer_dir() -> Option<PathBuf> {
    match std::env::var_os("CONFLUX_PEERS_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache/conflux/peers")),
    }
}

/// `$CONFLUX_PEERS_DIR/mcp-atlassian-0.23.1` (default `~/.cache/conflux/peers/...`) when its
/// server is installed there.
fn peer_venv() -> Option<PathBuf> {
    let venv = peer_dir()?.join(PEER_VENV);
    venv.join("bin/mcp-atlassian").is_file().then_some(venv)
}

/// mcp-atlassian spawned over stdio as `conflux serve` is (the same simulator, its classic
/// token, every toolset), to the first `tools/list` answer; then its VmRSS and tool count.
async fn peer_cold_start(
    venv: &std::path::Path,
    info: &SimInfo,
) -> anyhow::Result<(Duration, u64, usize)> {
    let home = std::env::temp_dir().join(format!("conflux-bench-peer-{}", std::process::id()));
    std::fs::create_dir_all(&home)?;
    let mut cmd = Command::new(venv.join("bin/mcp-atlassian"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("LANG", "C.UTF-8")
        .env("CONFLUENCE_URL", &info.site_url)
        .env("CONFLUENCE_USERNAME", &info.classic_token.email)
        .env("CONFLUENCE_API_TOKEN", &info.classic_token.token)
        .env("TOOLSETS", "all")
        // No banner, and no look-up of newer releases on PyPI at start-up.
        .env("FASTMCP_SHOW_SERVER_BANNER", "false")
        .env("FASTMCP_CHECK_FOR_UPDATES", "off");
    let t = Instant::now();
    let (proc, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .context("mcp-atlassian starts")?;
    let pid = proc.id().context("the peer's pid")?;
    let mcp = ().serve(proc).await.context("MCP handshake with mcp-atlassian")?;
    let tools = mcp.list_all_tools().await?;
    let elapsed = t.elapsed();
    if tools.is_empty() {
        bail!("mcp-atlassian's tools/list came back empty");
    }
    let kb = vm_rss_kb(pid)?;
    mcp.cancel().await?;
    let _ = std::fs::remove_dir_all(&home);
    Ok((elapsed, kb, tools.len()))
}

#[derive(Default)]
struct Series {
    mcp_md: Vec<Duration>,
    mcp_storage: Vec<Duration>,
    direct_body: Vec<Duration>,
    /// serde_json encode + decode of the storage answer's JSON-RPC line, in-process.
    json_hop: Vec<Duration>,
    /// The storage getBody through a second server, from a client that writes a line and
    /// parses the answer's line into a `Value` (no rmcp): the server's part of the overhead.
    bare_storage: Vec<Duration>,
    /// A line of the storage answer's size through a pipe and back, from a process doing
    /// nothing else: what any stdio server pays before doing any work.
    floor_answer: Vec<Duration>,
    /// The same, with the body once instead of twice.
    floor_once: Vec<Duration>,
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

/// A child process spoken to a line at a time over blocking pipes (no runtime in between),
/// killed when dropped.
struct Piped {
    child: std::process::Child,
    to: std::io::BufWriter<std::process::ChildStdin>,
    from: std::io::BufReader<std::process::ChildStdout>,
    /// The last line read, its newline included.
    line: Vec<u8>,
}

impl Piped {
    fn spawn(cmd: &mut std::process::Command, what: &str) -> anyhow::Result<Self> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("{what} starts"))?;
        let to = child
            .stdin
            .take()
            .with_context(|| format!("{what}'s stdin"))?;
        let from = child
            .stdout
            .take()
            .with_context(|| format!("{what}'s stdout"))?;
        Ok(Self {
            child,
            to: std::io::BufWriter::with_capacity(1 << 16, to),
            from: std::io::BufReader::with_capacity(1 << 20, from),
            line: Vec::new(),
        })
    }

    /// Writes `line` and its newline in one write.
    fn send(&mut self, line: &[u8]) -> anyhow::Result<()> {
        use std::io::Write;
        self.to.write_all(line)?;
        self.to.write_all(b"\n")?;
        self.to.flush()?;
        Ok(())
    }

    /// Sends `line` and reads the answer's line into `self.line`.
    fn exchange(&mut self, line: &[u8]) -> anyhow::Result<()> {
        use std::io::BufRead;
        self.send(line)?;
        self.line.clear();
        self.from.read_until(b'\n', &mut self.line)?;
        Ok(())
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The floor of a stdio hop: this executable started again as a peer that answers each line
/// with a line of the size it asks for and does nothing else (blocking reads and writes, no
/// JSON, no runtime), so a server's overhead can be set against what two processes and a pipe
/// cost on this machine in the same run.
struct Floor {
    peer: Piped,
    /// The size of the real request, newline included.
    request: usize,
}

impl Floor {
    fn start(request: usize) -> anyhow::Result<Self> {
        let mut cmd = std::process::Command::new(std::env::current_exe()?);
        cmd.env(FLOOR_PEER, "1");
        Ok(Self {
            peer: Piped::spawn(&mut cmd, "the floor peer")?,
            request,
        })
    }

    /// A request line of the real request's size asking for `answer` bytes, and its answer.
    fn exchange(&mut self, answer: usize) -> anyhow::Result<()> {
        let ask = format!("{answer:<width$}", width = self.request.saturating_sub(1));
        self.peer.exchange(ask.as_bytes())?;
        if self.peer.line.len() != answer + 1 {
            bail!(
                "the floor peer answered {} bytes, not {}",
                self.peer.line.len(),
                answer + 1
            );
        }
        Ok(())
    }
}

/// `conflux serve` driven by hand: blocking pipes, one JSON-RPC line each way, the answer
/// parsed by serde_json into a `Value`. What remains of the overhead here is the server's.
struct Bare(Piped);

impl Bare {
    fn start(binary: &str, info: &SimInfo) -> anyhow::Result<Self> {
        let mut cmd = command(binary, info, false);
        let mut bare = Bare(Piped::spawn(
            cmd.as_std_mut().stderr(Stdio::null()),
            "conflux serve",
        )?);
        bare.call(&serde_json::to_vec(&json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "conflux-mcp-bench", "version": "1" },
            },
        }))?)?;
        bare.0.send(&serde_json::to_vec(
            &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        )?)?;
        Ok(bare)
    }

    fn pid(&self) -> u32 {
        self.0.pid()
    }

    /// One request, its answer line parsed; an error answer is the call's error.
    fn call(&mut self, request: &[u8]) -> anyhow::Result<()> {
        self.0.exchange(request)?;
        let answer: Value = serde_json::from_slice(&self.0.line)?;
        if answer.get("result").is_none() || answer["result"]["isError"] == true {
            bail!("the server answered {answer}");
        }
        Ok(())
    }
}

/// The floor peer: for each line holding a number N, a line of N bytes.
fn floor_peer() -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let mut out = std::io::stdout().lock();
    let mut answer = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let n: usize = line?.trim().parse()?;
        answer.clear();
        answer.resize(n, b'x');
        answer.push(b'\n');
        out.write_all(&answer)?;
        out.flush()?;
    }
    Ok(())
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
