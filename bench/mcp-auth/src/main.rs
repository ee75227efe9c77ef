//! The cost of authentication per `/mcp` call, in one run on one machine against one simulator.
//!
//! The same two tool calls (`spaces.list`, and `pages.get` of one page: metadata only) go over
//! streamable HTTP (rmcp's client, as an MCP client would send them) to servers built in this
//! process with `conflux_web::Web`, the router `conflux serve --http` serves, Host/Origin guard
//! included:
//!
//! - **open**: `McpAccess::Open`, all agents allowed: the `--demo` configuration, the baseline;
//! - **access key**: a bearer `cfx_pk_...` key, allowed on the store's allowlist, verified
//!   against the store with the verification cache warm (the default: a verified key is served
//!   from memory for up to 5 s) or off (`AuthzConfig::verify_cache = 0`: every call checks the
//!   store); and a read-only key (whose request bodies are read to refuse writes);
//!
//! on a SQLite store and, when PostgreSQL is installed, on a throwaway Postgres server; each over
//! the stateless protocol (2026-07-28, `_meta` on every request) and in a 2025-06-18 session
//! (bound to its caller through the store on every request). Every variant has its own server
//! and client; they are interleaved call by call, the order rotating each round, so drift on a
//! busy machine hits them alike: the ratios are the figures that matter. A last pass counts the
//! store's statements per call (sqlx's statement events, enabled only then) and the HTTP
//! requests the server saw.
//!
//! The servers run in the `apiToken` mode with the demo credential (one shared Confluence client,
//! as `--demo` does), so that the per-person connection lookup of the OAuth modes is not mixed
//! into the cost of authentication.
//!
//! Usage: conflux-auth-bench [CALLS]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use conflux_client::{ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_sim::{SimConfig, SimInfo};
use conflux_store::testing::PgServer;
use conflux_store::{
    AgentId, AppSettings, AuthMode, EncryptionKey, SqlStore, Subject, TenantId, TokenStore as _,
};
use conflux_types::{BaseUrl, Secret, SiteUrl};
use conflux_web::{McpAccess, Web, WebConfig};
use rmcp::model::{CallToolRequestParams, ClientConfig as McpClient, JsonObject, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt as _, RoleClient, ServiceExt as _};
use serde_json::{Value, json};
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// Rounds before the timed ones (connections, the shared client's probe, caches).
const WARMUP: usize = 20;
/// Calls of each tool per variant in the counting pass.
const COUNTED: usize = 20;
const TENANT_OPEN: &str = "open";
const TENANT_KEYS: &str = "default";

type Mcp = RunningService<RoleClient, McpClient>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(500);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let queries = Arc::new(Queries::default());
    tracing_subscriber::registry()
        .with(CountQueries(queries.clone()))
        .init();
    let load_before = load_average();

    let sim = conflux_sim::spawn(SimConfig::demo(1)).await?;
    let info = sim.info();
    let account = info
        .demo_account()
        .context("the simulator's demo account")?
        .account_id
        .clone();
    let key = EncryptionKey::generate();
    let dir = tempfile::tempdir()?;
    let sqlite =
        Arc::new(SqlStore::open_sqlite(&dir.path().join("conflux.db"), key.clone()).await?);
    let pg = PgServer::start_or_skip("conflux-auth-bench").await;
    let mut backends = vec![("SQLite", sqlite)];
    if let Some(pg) = &pg {
        let url = pg.create_database("conflux_bench").await;
        backends.push((
            "Postgres",
            Arc::new(SqlStore::open_postgres(&url, key.clone()).await?),
        ));
    }

    let warm = Auth::Key {
        cache: true,
        read_only: false,
    };
    let cold = Auth::Key {
        cache: false,
        read_only: false,
    };
    let read_only = Auth::Key {
        cache: true,
        read_only: true,
    };
    let mut variants = Vec::new();
    for (backend, store) in &backends {
        let keys = Keys::make(store, &info, &key, &account).await?;
        let mut specs = vec![(Auth::Open, false), (warm, false), (cold, false)];
        if *backend == "SQLite" {
            specs.push((read_only, false));
        }
        specs.extend([(Auth::Open, true), (warm, true), (cold, true)]);
        for (auth, session) in specs {
            let server = spawn_server(store.clone(), &info, &key, auth).await?;
            let bearer = match auth {
                Auth::Open => None,
                Auth::Key {
                    read_only: false, ..
                } => Some(&keys.read_write),
                Auth::Key {
                    read_only: true, ..
                } => Some(&keys.read_only),
            };
            let mcp = connect(&server.url, bearer, session)
                .await
                .with_context(|| format!("connecting to the {auth:?} server on {backend}"))?;
            variants.push(Variant {
                backend,
                auth,
                session,
                mcp,
                requests: server.requests,
                spaces: Vec::new(),
                page: Vec::new(),
                queries: Vec::new(),
                http_per_call: 0.0,
            });
        }
    }

    let spaces = args_of(json!({ "action": "list" }));
    let page_id = first_page(&variants[0].mcp).await?;
    let page = args_of(json!({ "action": "get", "id": page_id }));

    // Timed: variant after variant, the order rotating by one each round.
    let n = variants.len();
    for round in 0..WARMUP + calls {
        let keep = round >= WARMUP;
        for k in 0..n {
            let v = &mut variants[(round + k) % n];
            let a = call(&v.mcp, "spaces", &spaces).await?;
            let b = call(&v.mcp, "pages", &page).await?;
            if keep {
                v.spaces.push(a);
                v.page.push(b);
            }
        }
    }
    let load_after = load_average();

    // Counted, not timed: the store's statements and the HTTP requests per call. One uncounted
    // call first, so that a warm cache is warm (its entry may have expired while the variant
    // waited its turn; in steady state a key is checked on the store once per 5 s per server).
    for v in &mut variants {
        call(&v.mcp, "spaces", &spaces).await?;
        let before = v.requests.load(Ordering::Relaxed);
        queries.start();
        for _ in 0..COUNTED {
            call(&v.mcp, "spaces", &spaces).await?;
            call(&v.mcp, "pages", &page).await?;
        }
        let seen = queries.stop();
        let per = (2 * COUNTED) as f64;
        v.http_per_call = (v.requests.load(Ordering::Relaxed) - before) as f64 / per;
        v.queries = seen
            .into_iter()
            .map(|(label, n)| (label, n as f64 / per))
            .collect();
    }

    println!(
        "conflux /mcp authentication benchmark: {calls} timed calls of each tool per variant \
         ({WARMUP} rounds of warm-up), {} variants interleaved",
        variants.len()
    );
    println!(
        "calls   spaces.list {{}} (default limit); pages.get of page {page_id} (metadata only)"
    );
    println!(
        "stores  SQLite file in {} (WAL, synchronous=FULL, sqlx defaults); {}",
        dir.path().display(),
        match &pg {
            Some(pg) => format!(
                "Postgres on 127.0.0.1:{} (conflux_store::testing::PgServer: fsync=off, \
                 synchronous_commit=off)",
                pg.port()
            ),
            None => "Postgres skipped (not installed)".into(),
        }
    );
    println!(
        "machine {} CPUs, {}; load average {load_before} before, {load_after} after the timed calls",
        cpus(),
        cpu_model()
    );
    println!();
    print_tables(&variants);

    for v in variants {
        v.mcp.cancel().await?;
    }
    drop(backends);
    drop(pg);
    drop(sim);
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Auth {
    Open,
    Key { cache: bool, read_only: bool },
}

impl Auth {
    fn describe(self) -> &'static str {
        match self {
            Auth::Open => "open (no authentication)",
            Auth::Key {
                read_only: true, ..
            } => "read-only access key, cache warm",
            Auth::Key { cache: true, .. } => "access key, cache warm",
            Auth::Key { cache: false, .. } => "access key, no cache",
        }
    }
}

struct Variant {
    backend: &'static str,
    auth: Auth,
    session: bool,
    mcp: Mcp,
    requests: Arc<AtomicU64>,
    spaces: Vec<Duration>,
    page: Vec<Duration>,
    /// Statements per call, by kind.
    queries: Vec<(String, f64)>,
    http_per_call: f64,
}

impl Variant {
    fn name(&self) -> String {
        format!(
            "{}, {}, {}",
            self.auth.describe(),
            self.backend,
            if self.session {
                "2025-06-18 session"
            } else {
                "stateless"
            }
        )
    }

    fn total_queries(&self) -> f64 {
        self.queries.iter().map(|(_, n)| n).sum()
    }
}

/// The two access keys of one store (tenant `default`), both on its allowlist.
struct Keys {
    read_write: Secret,
    read_only: Secret,
}

impl Keys {
    async fn make(
        store: &Arc<SqlStore>,
        info: &SimInfo,
        key: &EncryptionKey,
        account: &str,
    ) -> anyhow::Result<Keys> {
        // Any server of the tenant makes keys: they live in the store.
        let maker = spawn_server(
            store.clone(),
            info,
            key,
            Auth::Key {
                cache: true,
                read_only: false,
            },
        )
        .await?;
        let tenant = TenantId::new(TENANT_KEYS)?;
        let mut out = Vec::new();
        for read_only in [false, true] {
            let (k, secret) = maker
                .web
                .authz()
                .create_key(
                    Subject::Account(account.to_string()),
                    None,
                    "bench",
                    read_only,
                )
                .await?;
            store
                .allow_agent(
                    &tenant,
                    &AgentId::new(format!("key:{}", k.id))?,
                    Some("bench"),
                )
                .await?;
            out.push(secret);
        }
        let read_only = out.pop().context("two keys")?;
        let read_write = out.pop().context("two keys")?;
        Ok(Keys {
            read_write,
            read_only,
        })
    }
}

struct Server {
    url: String,
    web: Web,
    /// HTTP requests the server has seen (all routes).
    requests: Arc<AtomicU64>,
}

/// A `Web` on a free loopback port, serving what `conflux serve --http` serves.
async fn spawn_server(
    store: Arc<SqlStore>,
    info: &SimInfo,
    key: &EncryptionKey,
    auth: Auth,
) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let open = auth == Auth::Open;
    let tenant = TenantId::new(if open { TENANT_OPEN } else { TENANT_KEYS })?;
    let mut config = WebConfig::new(&url, tenant, key.derive("conflux-web cookies"))?;
    config.client = ClientConfig {
        endpoints: Endpoints {
            gateway: BaseUrl::parse(&info.gateway_url)?,
            identity: BaseUrl::parse(&info.identity_url)?,
        },
        ..ClientConfig::default()
    };
    config.fallback = Some(CredentialConfig::ApiToken {
        email: info.classic_token.email.clone(),
        token: Secret::new(info.classic_token.token.clone()),
        site: Some(SiteUrl::parse(&info.site_url)?),
        cloud_id: None,
        kind: TokenKindHint::Detect,
        scopes: None,
    });
    config.defaults = AppSettings {
        auth_mode: AuthMode::ApiToken,
        site_url: Some(info.site_url.clone()),
        allow_all_agents: open,
        ..AppSettings::default()
    };
    if open {
        config.mcp_access = McpAccess::Open;
    }
    if let Auth::Key { cache: false, .. } = auth {
        config.authz.verify_cache = Duration::ZERO;
    }
    let web = Web::new(store, config)?;
    let requests = Arc::new(AtomicU64::new(0));
    let seen = requests.clone();
    let app = web
        .router()?
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                seen.fetch_add(1, Ordering::Relaxed);
                next.run(req)
            },
        ))
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("server stopped: {e}");
        }
    });
    Ok(Server { url, web, requests })
}

/// rmcp's client over streamable HTTP: stateless (2026-07-28, discovered) or in a 2025-06-18
/// session.
async fn connect(url: &str, bearer: Option<&Secret>, session: bool) -> anyhow::Result<Mcp> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(format!("{url}/mcp"));
    if let Some(b) = bearer {
        config = config.auth_header(b.expose().to_string());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    let mut info = McpClient::default();
    if session {
        info.protocol_version = ProtocolVersion::V_2025_06_18;
        Ok(info.serve(transport).await?)
    } else {
        Ok(info
            .serve_with_lifecycle(
                transport,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await?)
    }
}

async fn call(mcp: &Mcp, tool: &str, args: &JsonObject) -> anyhow::Result<Duration> {
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(args.clone());
    let t = Instant::now();
    let r = mcp.call_tool(request).await?;
    let elapsed = t.elapsed();
    if r.is_error == Some(true) || r.structured_content.is_none() {
        bail!("{tool} {args:?} failed: {:?}", r.content);
    }
    Ok(elapsed)
}

async fn first_page(mcp: &Mcp) -> anyhow::Result<String> {
    let r = mcp
        .call_tool(
            CallToolRequestParams::new("pages")
                .with_arguments(args_of(json!({ "action": "list", "limit": 1 }))),
        )
        .await?;
    r.structured_content
        .as_ref()
        .and_then(|s| s["items"][0]["id"].as_str())
        .map(String::from)
        .with_context(|| format!("pages.list gave no page: {:?}", r.content))
}

fn args_of(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

// ------------------------------------------------------------------ counting statements

/// The store's statements, counted while `on`: sqlx emits one `sqlx::query` event per
/// statement when that target is enabled, which it is only during the counting pass (so the
/// timed calls pay nothing for it).
#[derive(Default)]
struct Queries {
    on: AtomicBool,
    seen: Mutex<BTreeMap<String, u64>>,
}

impl Queries {
    fn start(&self) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.on.store(true, Ordering::SeqCst);
    }

    fn stop(&self) -> BTreeMap<String, u64> {
        self.on.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct CountQueries(Arc<Queries>);

const SQLX_TARGET: &str = "sqlx::query";

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountQueries {
    fn register_callsite(&self, meta: &'static tracing::Metadata<'static>) -> Interest {
        if meta.target() == SQLX_TARGET {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        meta.target() == SQLX_TARGET && self.0.on.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut sql = Sql::default();
        event.record(&mut sql);
        let text = if sql.statement.trim().is_empty() {
            &sql.summary
        } else {
            &sql.statement
        };
        *self
            .0
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(label(text))
            .or_default() += 1;
    }
}

/// The statement fields of sqlx's event: `summary` (its first words) and `db.statement` (the
/// whole text when longer).
#[derive(Default)]
struct Sql {
    summary: String,
    statement: String,
}

impl tracing::field::Visit for Sql {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.statement = value.to_string(),
            _ => {}
        }
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

/// A statement as its verb, table and first column: `SELECT auth_mode… FROM app_settings`.
fn label(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let after = |keyword: &str| {
        words
            .iter()
            .position(|w| w.eq_ignore_ascii_case(keyword))
            .and_then(|i| words.get(i + 1))
            .copied()
            .unwrap_or("?")
    };
    let first = words.first().map(|w| w.to_ascii_uppercase());
    match first.as_deref() {
        Some("SELECT") => format!(
            "SELECT {}… FROM {}",
            words.get(1).map_or("?", |w| w.trim_end_matches(',')),
            after("FROM")
        ),
        Some("UPDATE") => format!("UPDATE {} SET {}", after("UPDATE"), after("SET")),
        Some("INSERT") if words.iter().any(|w| w.eq_ignore_ascii_case("CONFLICT")) => {
            format!("INSERT INTO {} … ON CONFLICT (upsert)", after("INTO"))
        }
        Some("INSERT") => format!("INSERT INTO {}", after("INTO")),
        Some("DELETE") => format!("DELETE FROM {}", after("FROM")),
        _ => words.iter().take(3).copied().collect::<Vec<_>>().join(" "),
    }
}

// ------------------------------------------------------------------ report

fn print_tables(variants: &[Variant]) {
    let base = &variants[0];
    println!(
        "Baseline: {}. Ratios are p50 to the baseline's p50 and p95 to its p95.",
        base.name()
    );
    println!();
    println!(
        "| variant | spaces.list p50 | p95 | ratio p50 | ratio p95 | pages.get p50 | p95 | ratio p50 | ratio p95 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for v in variants {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            v.name(),
            ms(pct(&v.spaces, 50)),
            ms(pct(&v.spaces, 95)),
            ratio(pct(&v.spaces, 50), pct(&base.spaces, 50)),
            ratio(pct(&v.spaces, 95), pct(&base.spaces, 95)),
            ms(pct(&v.page, 50)),
            ms(pct(&v.page, 95)),
            ratio(pct(&v.page, 50), pct(&base.page, 50)),
            ratio(pct(&v.page, 95), pct(&base.page, 95)),
        );
    }
    println!();
    println!(
        "Against the open server on the same store and protocol (p50 added, and p50 ratio), with \
         the store's statements and the HTTP requests per call:"
    );
    println!();
    println!(
        "| variant | spaces.list added | ratio | pages.get added | ratio | statements per call | HTTP requests per call |"
    );
    println!("|---|---|---|---|---|---|---|");
    for v in variants {
        let alike = variants
            .iter()
            .find(|o| o.auth == Auth::Open && o.backend == v.backend && o.session == v.session)
            .unwrap_or(base);
        println!(
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            v.name(),
            added(pct(&v.spaces, 50), pct(&alike.spaces, 50)),
            ratio(pct(&v.spaces, 50), pct(&alike.spaces, 50)),
            added(pct(&v.page, 50), pct(&alike.page, 50)),
            ratio(pct(&v.page, 50), pct(&alike.page, 50)),
            v.total_queries(),
            v.http_per_call,
        );
    }
    println!();
    println!("Statements per call, by kind:");
    println!();
    println!("| variant | statements |");
    println!("|---|---|");
    for v in variants {
        let kinds: Vec<String> = v
            .queries
            .iter()
            .map(|(label, n)| format!("{n:.2} × `{label}`"))
            .collect();
        println!("| {} | {} |", v.name(), kinds.join("; "));
    }
}

/// Nearest-rank percentile.
fn pct(v: &[Duration], p: usize) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    if s.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * s.len()).div_ceil(100).max(1);
    s[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

fn added(a: Duration, b: Duration) -> String {
    let (a, b) = (a.as_secs_f64() * 1000.0, b.as_secs_f64() * 1000.0);
    format!("{:+.2} ms", a - b)
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Other work on the machine skews the figures; the report says how busy it was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
