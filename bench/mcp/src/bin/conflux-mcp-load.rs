//! The MCP load test: N concurrent MCP clients over streamable HTTP against one
//! `conflux serve --http`, set up as a deployment is: a separately started simulator
//! (`conflux sim`), the server in `apiToken` mode with the simulator's classic API token,
//! and a maintainer's agent key (made on `/admin`, as a maintainer does) on every request.
//!
//! For each N: every client opens its session (MCP 2025-11-25 by default: `initialize` and a
//! session, as most clients do today), waits for the others, then makes its calls in turn
//! (`spaces.list`, `pages.getBody` of a 4 KB page, `search.cql`); throughput is calls over the
//! time from the start signal to the last answer; latency is per call; errors are transport
//! errors and tool errors. The server's RSS and open files are read before, at their peak
//! during, and after (clients gone). Then K sessions are opened and left idle, and the RSS
//! they hold is measured; with `--evict R`, R rounds of: wait until the server's idle timeout
//! (`--session-idle`, passed to the server, default 300 s) closed them, measure, open K new
//! ones, measure (a leak would show as RSS climbing by K sessions each round).
//!
//! Usage: conflux-mcp-load CONFLUX_BINARY [--calls N] [--idle K] [--protocol V]
//!        [--session-idle S] [--evict ROUNDS] CLIENTS...

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use conflux_mcp_bench::{
    cpu_model, cpu_time, cpus, load_average, mib, ms, open_fds, pct, vm_rss_kb,
};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Barrier;

struct Args {
    binary: String,
    calls: usize,
    idle: usize,
    protocol: ProtocolVersion,
    evict: usize,
    session_idle: u64,
    clients: Vec<usize>,
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let binary = it.next().context(
        "usage: conflux-mcp-load CONFLUX_BINARY [--calls N] [--idle K] [--protocol V] \
         [--session-idle S] [--evict ROUNDS] CLIENTS...",
    )?;
    let mut a = Args {
        binary,
        calls: 30,
        idle: 500,
        protocol: ProtocolVersion::V_2025_11_25,
        evict: 0,
        session_idle: 300,
        clients: Vec::new(),
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--calls" => a.calls = it.next().context("--calls N")?.parse()?,
            "--idle" => a.idle = it.next().context("--idle K")?.parse()?,
            "--protocol" => {
                let v = it.next().context("--protocol VERSION")?;
                a.protocol = serde_json::from_value(json!(v))?;
            }
            "--evict" => a.evict = it.next().context("--evict ROUNDS")?.parse()?,
            "--session-idle" => a.session_idle = it.next().context("--session-idle S")?.parse()?,
            n => a
                .clients
                .push(n.parse().with_context(|| format!("client count `{n}`"))?),
        }
    }
    if a.clients.is_empty() {
        a.clients = vec![50, 100, 200];
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args()?;
    let work = std::env::temp_dir().join(format!("conflux-load-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;

    let (sim_child, sim) = start_sim(&args.binary).await?;
    let sim_pid = sim_child.id().context("the simulator's pid")?;
    let admin_token = random_hex(32)?;
    let (server, base) =
        start_server(&args.binary, &sim, &admin_token, &work, args.session_idle).await?;
    let pid = server.id().context("the server's pid")?;
    let key = agent_key(&base, &admin_token).await?;
    let url = format!("{base}mcp");
    let page = page_to_read(&url, &key, &args.protocol).await?;

    println!(
        "conflux MCP load test: {} calls per client; MCP {}; agent key; apiToken mode",
        args.calls, args.protocol
    );
    println!("binary  {}", args.binary);
    println!(
        "machine {} CPUs, {}; load average {}",
        cpus(),
        cpu_model(),
        load_average()
    );
    println!();
    println!(
        "| clients | calls | errors | throughput | p50 | p99 | max | server CPU per call | simulator CPU per call | RSS before | RSS peak | RSS after | open files before | peak | after |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &args.clients {
        let before = (vm_rss_kb(pid)?, open_fds(pid)?);
        let sampler = Sampler::start(pid);
        let cpu = (cpu_time(pid)?, cpu_time(sim_pid)?);
        let run = load(&url, &key, &args.protocol, &page, n, args.calls).await?;
        let cpu = (cpu_time(pid)? - cpu.0, cpu_time(sim_pid)? - cpu.1);
        let peak = sampler.stop().await;
        let per_call = |d: Duration| ms(d / (run.latencies.len().max(1) as u32));
        // The clients closed their sessions; give the server a moment to drop them.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = (vm_rss_kb(pid)?, open_fds(pid)?);
        println!(
            "| {n} | {} | {} | {:.0} calls/s | {} | {} | {} | {} | {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {} | {} | {} |",
            run.latencies.len(),
            run.errors,
            run.latencies.len() as f64 / run.wall.as_secs_f64(),
            ms(pct(&run.latencies, 50)),
            ms(pct(&run.latencies, 99)),
            ms(pct(&run.latencies, 100)),
            per_call(cpu.0),
            per_call(cpu.1),
            mib(before.0),
            mib(peak.0.max(before.0)),
            mib(after.0),
            before.1,
            peak.1.max(before.1),
            after.1,
        );
        if let Some(e) = run.first_error {
            println!("  first error: {e}");
        }
    }

    // Sessions opened and never closed: what each holds until it is evicted.
    println!();
    let http = reqwest::Client::new();
    let before = (vm_rss_kb(pid)?, open_fds(pid)?);
    let mut sessions = Vec::with_capacity(args.idle);
    for _ in 0..args.idle {
        sessions.push(open_idle_session(&http, &url, &key).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = (vm_rss_kb(pid)?, open_fds(pid)?);
    let per = (after.0.saturating_sub(before.0)) as f64 / args.idle.max(1) as f64;
    println!("| idle sessions (MCP 2025-06-18, never closed) | RSS | open files |");
    println!("|---|---|---|");
    println!("| 0 | {:.1} MiB | {} |", mib(before.0), before.1);
    println!(
        "| {} | {:.1} MiB (+{:.1} KiB each) | {} |",
        args.idle,
        mib(after.0),
        per,
        after.1
    );
    drop(sessions);
    // The server closes a session idle for `--session-idle` seconds (rmcp's keep-alive). Its
    // store keeps the record a while longer, so a late request could bring one back: none is
    // sent. Then K new sessions again, `--evict` times: if evicted sessions leaked, the RSS
    // would climb by K sessions' worth each round.
    for round in 1..=args.evict {
        tokio::time::sleep(Duration::from_secs(args.session_idle + 15)).await;
        let evicted = (vm_rss_kb(pid)?, open_fds(pid)?);
        println!(
            "| round {round}: evicted ({} s idle) | {:.1} MiB | {} |",
            args.session_idle,
            mib(evicted.0),
            evicted.1
        );
        for _ in 0..args.idle {
            open_idle_session(&http, &url, &key).await?;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let reopened = (vm_rss_kb(pid)?, open_fds(pid)?);
        println!(
            "| round {round}: {} new ones | {:.1} MiB | {} |",
            args.idle,
            mib(reopened.0),
            reopened.1
        );
    }
    drop(server);
    drop(sim_child);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// `conflux sim`: its first stdout line names its URLs and demo credentials.
async fn start_sim(binary: &str) -> anyhow::Result<(Child, Value)> {
    let mut child = Command::new(binary)
        .args(["sim", "--listen", "127.0.0.1:0"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("conflux sim starts")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let first = lines
        .next_line()
        .await?
        .context("conflux sim printed nothing")?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, serde_json::from_str(&first)?))
}

/// `conflux serve --http` in apiToken mode on the simulator; returns it and its base URL.
async fn start_server(
    binary: &str,
    sim: &Value,
    admin_token: &str,
    work: &std::path::Path,
    session_idle: u64,
) -> anyhow::Result<(Child, String)> {
    let s = |k: &str| sim[k].as_str().map(String::from).context(k.to_string());
    let mut child = Command::new(binary)
        .args(["serve", "--http", "127.0.0.1:0"])
        .env_clear()
        .env("HOME", work)
        .env("CONFLUENCE_URL", s("site_url")?)
        .env(
            "CONFLUENCE_USERNAME",
            sim["classic_token"]["email"].as_str().context("email")?,
        )
        .env(
            "CONFLUENCE_API_TOKEN",
            sim["classic_token"]["token"].as_str().context("token")?,
        )
        .env("CONFLUX_GATEWAY_URL", s("gateway_url")?)
        .env("CONFLUX_IDENTITY_URL", s("identity_url")?)
        .env("CONFLUX_ADMIN_TOKEN", admin_token)
        .env(
            "CONFLUX_DATABASE_URL",
            work.join("conflux.db").display().to_string(),
        )
        .env("CONFLUX_SESSION_IDLE", session_idle.to_string())
        .env("CONFLUX_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("conflux serve --http starts")?;
    let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
    let mut base = None;
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.strip_prefix("conflux: configuration page ") {
            base = Some(rest.trim().to_string());
        }
        if line.starts_with("conflux: MCP endpoint ") {
            break;
        }
    }
    let base = base.context("the server did not name its configuration page")?;
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("server: {line}");
        }
    });
    Ok((child, base))
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use std::io::Read as _;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn csrf(html: &str) -> anyhow::Result<String> {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).context("a form with a CSRF field")? + marker.len();
    Ok(html[at..at + html[at..].find('"').context("csrf")?].to_string())
}

/// What a maintainer does on `/admin`: sign in with the admin token, make an agent key.
async fn agent_key(base: &str, admin_token: &str) -> anyhow::Result<String> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = |path: &str| {
        let b = browser.clone();
        let url = format!("{base}{}", path.trim_start_matches('/'));
        async move { anyhow::Ok(b.get(url).send().await?.text().await?) }
    };
    let token = csrf(&page("/admin").await?)?;
    let r = browser
        .post(format!("{base}admin/login"))
        .form(&[("csrf", token.as_str()), ("token", admin_token)])
        .send()
        .await?;
    if !r.status().is_redirection() {
        bail!("maintainer sign-in refused: {}", r.status());
    }
    let token = csrf(&page("/admin").await?)?;
    let html = browser
        .post(format!("{base}admin/keys"))
        .form(&[("csrf", token.as_str()), ("name", "load test")])
        .send()
        .await?
        .text()
        .await?;
    let marker = "id=\"new-key\">";
    let at = html.find(marker).context("the new key on the page")? + marker.len();
    Ok(html[at..at + html[at..].find('<').context("key")?].to_string())
}

async fn client(
    url: &str,
    key: &str,
    protocol: &ProtocolVersion,
) -> anyhow::Result<RunningService<RoleClient, ClientConfig>> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(key.to_string()),
    );
    let info = ClientConfig::default().with_protocol_version(protocol.clone());
    Ok(info.serve(transport).await?)
}

/// A page of the demo site of about 4 KB of storage, for `pages.getBody`.
async fn page_to_read(url: &str, key: &str, protocol: &ProtocolVersion) -> anyhow::Result<String> {
    let mcp = client(url, key, protocol).await?;
    let found = call(
        &mcp,
        "search",
        json!({"action": "cql", "cql": "type = page", "limit": 50}),
    )
    .await?;
    let items = found["items"].as_array().context("search items")?;
    let mut best: Option<(String, i64)> = None;
    for item in items {
        let id = match &item["id"] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let body = call(
            &mcp,
            "pages",
            json!({"action": "getBody", "id": id, "bodyFormat": "storage"}),
        )
        .await?;
        let size = body["body"]["value"].as_str().map_or(0, str::len) as i64;
        if best
            .as_ref()
            .is_none_or(|b| (size - 4096).abs() < (b.1 - 4096).abs())
        {
            best = Some((id, size));
        }
    }
    mcp.cancel().await?;
    Ok(best.context("no page")?.0)
}

async fn call(
    mcp: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    args: Value,
) -> anyhow::Result<Value> {
    let Value::Object(args) = args else {
        bail!("arguments must be an object")
    };
    let r = mcp
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await?;
    if r.is_error == Some(true) {
        bail!("{tool}: {:?}", r.content);
    }
    r.structured_content.context("structuredContent")
}

struct Run {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    wall: Duration,
}

async fn load(
    url: &str,
    key: &str,
    protocol: &ProtocolVersion,
    page: &str,
    n: usize,
    calls: usize,
) -> anyhow::Result<Run> {
    let start = Arc::new(Barrier::new(n + 1));
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (url, key, protocol, page) = (
            url.to_string(),
            key.to_string(),
            protocol.clone(),
            page.to_string(),
        );
        let (start, errors, first_error) = (start.clone(), errors.clone(), first_error.clone());
        tasks.push(tokio::spawn(async move {
            let fail = |e: String| {
                errors.fetch_add(1, Ordering::Relaxed);
                let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert(e);
            };
            let mcp = match client(&url, &key, &protocol).await {
                Ok(m) => Some(m),
                Err(e) => {
                    fail(format!("session: {e}"));
                    None
                }
            };
            start.wait().await;
            let mut latencies = Vec::with_capacity(calls);
            let Some(mcp) = mcp else {
                return latencies;
            };
            let requests: [(&str, Value); 3] = [
                ("spaces", json!({"action": "list", "limit": 10})),
                ("pages", json!({"action": "getBody", "id": page})),
                (
                    "search",
                    json!({"action": "cql", "cql": "type = page AND space = \"ENG\"", "limit": 10}),
                ),
            ];
            for c in 0..calls {
                let (tool, args) = &requests[(i + c) % requests.len()];
                let t = Instant::now();
                match call(&mcp, tool, args.clone()).await {
                    Ok(_) => latencies.push(t.elapsed()),
                    Err(e) => fail(format!("{tool}: {e}")),
                }
            }
            let _ = mcp.cancel().await;
            latencies
        }));
    }
    start.wait().await;
    let t = Instant::now();
    let mut latencies = Vec::with_capacity(n * calls);
    for task in tasks {
        latencies.extend(task.await?);
    }
    let wall = t.elapsed();
    let first_error = first_error.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok(Run {
        latencies,
        errors: errors.load(Ordering::Relaxed),
        first_error,
        wall,
    })
}

/// Reads the server's RSS and open files every 50 ms until stopped; the peaks.
struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(u64, usize)>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut peak = (0, 0);
            while !flag.load(Ordering::Relaxed) {
                if let (Ok(rss), Ok(fds)) = (vm_rss_kb(pid), open_fds(pid)) {
                    peak = (peak.0.max(rss), peak.1.max(fds));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak
        });
        Sampler { stop, task }
    }

    async fn stop(self) -> (u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or((0, 0))
    }
}

/// `initialize` at 2025-06-18 and `notifications/initialized`, then nothing: a session the
/// client never closes. Returns its id.
async fn open_idle_session(http: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<String> {
    let r = http
        .post(url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "idle", "version": "1"}}}),
        )
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("initialize: {}", r.status());
    }
    let id = r
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .context("no session id")?
        .to_string();
    let _ = r.bytes().await?;
    let r = http
        .post(url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &id)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("notifications/initialized: {}", r.status());
    }
    Ok(id)
}
