//! `conflux serve`: the MCP server over stdio (default) or streamable HTTP (`--http`).
//! Over stdio, stdout carries only the protocol; logs go to stderr.
//!
//! Over HTTP the server is a deployment: the configuration page (`/` for users, `/admin` for
//! the maintainer), the OAuth callback, and `/mcp` with per-user connections and the agent
//! allowlist, all over the connection store (SQLite by default, or Postgres).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use conflux_client::{Client, ClientConfig, ClientError, CredentialConfig};
use conflux_mcp::ConfluxServer;
use conflux_oauth::AppCredentials;
use conflux_ops::{Config, Ops};
use conflux_store::{AppSettings, AuthMode, AuthStore as _, EncryptionKey, SqlStore, TenantId};
use conflux_types::{BaseUrl, Secret};

use crate::observe::notice;
use crate::settings::Layer;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Serve streamable HTTP on this address (endpoint path /mcp) instead of stdio.
    #[arg(long, value_name = "ADDR", env = "CONFLUX_HTTP")]
    pub http: Option<SocketAddr>,
    /// Refuse every write action; write actions leave the tools' action enums
    /// [env: CONFLUX_READ_ONLY, or READ_ONLY_MODE]
    #[arg(long)]
    pub read_only: bool,
    /// Expose only these tools, comma-separated, e.g. pages,search
    #[arg(long, value_delimiter = ',', env = "CONFLUX_TOOLS")]
    pub tools: Vec<String>,
    /// Only these spaces (keys or ids) are reachable [env: CONFLUX_ALLOW_SPACES, or CONFLUENCE_SPACES_FILTER]
    #[arg(long, value_delimiter = ',')]
    pub allow_spaces: Vec<String>,
    /// These spaces (keys or ids) are never reachable
    #[arg(long, value_delimiter = ',', env = "CONFLUX_DENY_SPACES")]
    pub deny_spaces: Vec<String>,
    /// These spaces (keys or ids) may be read but not written
    #[arg(long, value_delimiter = ',', env = "CONFLUX_READ_ONLY_SPACES")]
    pub read_only_spaces: Vec<String>,
    /// Over stdio: let agents read and write local files (bodyFile, outputFile, filePath) under
    /// this directory, and nowhere else; without it they touch no local file. Ignored with
    /// --http
    #[arg(long, value_name = "DIR", env = "CONFLUX_FILES_ROOT")]
    pub files_root: Option<PathBuf>,
    /// The text beside each structured result: verbose (a readable summary), structured (the
    /// JSON as text, for clients that show only text) or both
    #[arg(
        long,
        value_name = "FORMAT",
        env = "CONFLUX_OUTPUT_FORMAT",
        default_value = "verbose",
        value_parser = clap::builder::PossibleValuesParser::new(conflux_mcp::OutputFormat::NAMES)
    )]
    pub output_format: String,
    /// Print the granular scopes the enabled tools need (read-only or full), one per line, and exit.
    #[arg(long)]
    pub print_scopes: bool,
    /// With --http: the connection store, a SQLite file (default: conflux/conflux.db under the
    /// user's data directory) or a postgres:// URL
    #[arg(
        long,
        value_name = "URL",
        env = "CONFLUX_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// With --http: the file holding the store's encryption key, created on first run (default
    /// for SQLite: conflux.key beside the database; the key itself may be given in
    /// CONFLUX_ENCRYPTION_KEY)
    #[arg(long, value_name = "FILE", env = "CONFLUX_ENCRYPTION_KEY_FILE")]
    pub encryption_key_file: Option<PathBuf>,
    /// With --http: the URL browsers and the identity service reach this server at (default
    /// http://ADDR); the OAuth callback is PUBLIC_URL/callback
    #[arg(long, value_name = "URL", env = "CONFLUX_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// With --http: the tenant whose settings, allowlist and connections this server uses
    ///
    #[arg(long, env = "CONFLUX_TENANT", default_value = "default")]
    pub tenant: String,
    /// With --http: the auth mode until the maintainer saves one: oauthCentral, oauth,
    /// apiToken or accessToken (default: the kind of CONFLUENCE_* credential set, else
    /// oauthCentral)
    #[arg(long, env = "CONFLUX_AUTH_MODE")]
    pub auth_mode: Option<String>,
    /// With --http: the client id of the platform's OAuth app (oauthCentral); its secret comes
    /// from CONFLUX_OAUTH_CLIENT_SECRET
    #[arg(long, env = "CONFLUX_OAUTH_CLIENT_ID")]
    pub oauth_client_id: Option<String>,
    /// With --http: let every authenticated client call until the maintainer decides otherwise
    /// [env: CONFLUX_ALLOW_ALL_AGENTS]
    #[arg(long)]
    pub allow_all_agents: bool,
    /// With --http: take callers' addresses from X-Forwarded-For (only behind a reverse proxy
    /// you run) [env: CONFLUX_TRUST_FORWARDED]
    #[arg(long)]
    pub trust_forwarded: bool,
    /// With --http: take X-Forwarded-For only from these peers (your proxies), comma-separated
    /// addresses or CIDR blocks; implies --trust-forwarded, which alone takes it from any peer
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CIDR",
        env = "CONFLUX_TRUSTED_PROXIES"
    )]
    pub trusted_proxies: Vec<String>,
    /// With --http: browser origins /mcp admits besides the public URL's and loopback,
    /// comma-separated
    #[arg(long, value_delimiter = ',', env = "CONFLUX_ALLOWED_ORIGINS")]
    pub allowed_origins: Vec<String>,
    /// With --http: a PEM file of extra trust roots for fetching MCP clients' metadata
    /// documents (a private PKI)
    #[arg(long, value_name = "FILE", env = "CONFLUX_CLIENT_METADATA_CA")]
    pub client_metadata_ca: Option<PathBuf>,
    /// With --http: fetch MCP clients' metadata documents from private and loopback addresses
    /// too (only for clients inside your network) [env: CONFLUX_CLIENT_METADATA_PRIVATE]
    #[arg(long)]
    pub client_metadata_private: bool,
    /// With --http: lifetime of the MCP access tokens this server issues, in seconds (default
    /// 900)
    #[arg(long, value_name = "SECONDS", env = "CONFLUX_ACCESS_TOKEN_TTL")]
    pub access_token_ttl: Option<u64>,
    /// Serve Prometheus metrics at http://ADDR/metrics (with /healthz and /readyz) on a
    /// listener of their own; keep it off the public network
    #[arg(long, value_name = "ADDR", env = "CONFLUX_METRICS")]
    pub metrics: Option<SocketAddr>,
    /// With --http: on SIGTERM or SIGINT, how long calls in flight may take to finish before
    /// the process exits anyway (default 20)
    #[arg(long, value_name = "SECONDS", env = "CONFLUX_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<f64>,
    /// With --http: close the MCP session of a client on a revision before 2026-07-28 after
    /// this many seconds without a message (default 300); clients that never close their
    /// sessions cannot pile them up
    #[arg(long, value_name = "SECONDS", env = "CONFLUX_SESSION_IDLE")]
    pub session_idle: Option<u64>,
    /// With --http: connections served at once (default 4096); more wait until one closes.
    /// A client has 30 s to send a request's headers (and to start the next one on a kept
    /// connection) and 60 s for its body
    #[arg(long, value_name = "N", env = "CONFLUX_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// With --http: MCP sessions kept for clients on revisions before 2026-07-28, in all
    /// (default 5000; one caller may hold 100); an `initialize` past it is refused
    #[arg(long, value_name = "N", env = "CONFLUX_MAX_SESSIONS")]
    pub max_sessions: Option<usize>,
    /// Set by --demo: anyone on this machine may call (loopback only).
    #[arg(skip)]
    pub open: bool,
}

/// `--trusted-proxies`: addresses (a /32 or /128) and CIDR blocks.
fn trusted_proxies(list: &[String]) -> Result<Vec<ipnet::IpNet>, ClientError> {
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ClientError::Config(format!(
                        "--trusted-proxies / CONFLUX_TRUSTED_PROXIES: `{s}` is neither an IP \
                         address nor a CIDR block (like 10.0.0.0/8 or fd00::/8)"
                    ))
                })
        })
        .collect()
}

fn truthy(v: Option<String>) -> bool {
    matches!(
        v.as_deref()
            .map(str::trim)
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("1" | "true" | "yes" | "on")
    )
}

fn split(v: Option<String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

impl ServeArgs {
    /// Flags, then `CONFLUX_*`, then the names other Confluence MCP servers use.
    fn resolved(&self) -> ServeArgs {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let mut a = self.clone();
        a.read_only = a.read_only
            || truthy(env("CONFLUX_READ_ONLY"))
            || (env("CONFLUX_READ_ONLY").is_none() && truthy(env("READ_ONLY_MODE")));
        if a.allow_spaces.is_empty() {
            a.allow_spaces =
                split(env("CONFLUX_ALLOW_SPACES").or_else(|| env("CONFLUENCE_SPACES_FILTER")));
        }
        a.tools.retain(|t| !t.trim().is_empty());
        a.allow_all_agents = a.allow_all_agents || truthy(env("CONFLUX_ALLOW_ALL_AGENTS"));
        a.trust_forwarded = a.trust_forwarded || truthy(env("CONFLUX_TRUST_FORWARDED"));
        a.client_metadata_private =
            a.client_metadata_private || truthy(env("CONFLUX_CLIENT_METADATA_PRIVATE"));
        a.allowed_origins.retain(|o| !o.trim().is_empty());
        a
    }

    fn ops_config(&self) -> Config {
        Config {
            read_only: self.read_only,
            allow_spaces: self.allow_spaces.clone(),
            deny_spaces: self.deny_spaces.clone(),
            read_only_spaces: self.read_only_spaces.clone(),
            // Local files only under --files-root, set by `run` (stdio); never over HTTP.
            files_root: None,
            surface: if self.http.is_some() {
                conflux_client::Surface::Http
            } else {
                conflux_client::Surface::Stdio
            },
            ..Config::default()
        }
    }
}

/// The guardrails of the CLI's own tool commands, from the variables `serve` reads too:
/// read-only (`CONFLUX_READ_ONLY`, `READ_ONLY_MODE`) and the space lists.
pub fn guardrails_from_env() -> Config {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    Config {
        read_only: truthy(env("CONFLUX_READ_ONLY"))
            || (env("CONFLUX_READ_ONLY").is_none() && truthy(env("READ_ONLY_MODE"))),
        allow_spaces: split(
            env("CONFLUX_ALLOW_SPACES").or_else(|| env("CONFLUENCE_SPACES_FILTER")),
        ),
        deny_spaces: split(env("CONFLUX_DENY_SPACES")),
        read_only_spaces: split(env("CONFLUX_READ_ONLY_SPACES")),
        ..Config::default()
    }
}

/// Refuses a `--tools` name that is no tool.
pub fn check_tools(args: &ServeArgs) -> anyhow::Result<()> {
    for t in &args.resolved().tools {
        if conflux_ops::catalog::tool(t).is_none() {
            return Err(conflux_mcp::ServeError::UnknownTool(t.clone()).into());
        }
    }
    Ok(())
}

/// `--print-scopes`: needs no credential.
pub fn print_scopes(args: &ServeArgs) -> anyhow::Result<()> {
    let args = args.resolved();
    for t in &args.tools {
        if conflux_ops::catalog::tool(t).is_none() {
            return Err(conflux_mcp::ServeError::UnknownTool(t.clone()).into());
        }
    }
    let scopes = conflux_ops::catalog::scopes_for(&args.tools, args.read_only);
    eprintln!(
        "granular scopes for {} ({}):",
        if args.tools.is_empty() {
            "all tools".to_string()
        } else {
            args.tools.join(", ")
        },
        if args.read_only {
            "read-only"
        } else {
            "read and write"
        }
    );
    for s in scopes.names() {
        crate::stdout::outln!("{s}")?;
    }
    Ok(())
}

/// `conflux serve` over stdio, with the one credential the settings describe, resolved on the
/// first call that needs it (no request at start-up).
pub async fn run(
    credential: CredentialConfig,
    client_config: ClientConfig,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let args = args.resolved();
    let mut config = args.ops_config();
    if let Some(dir) = &args.files_root {
        let root = conflux_ops::FilesRoot::open(dir).map_err(|e| {
            ClientError::Config(format!(
                "--files-root / CONFLUX_FILES_ROOT {}: {e} (it must be an existing directory)",
                dir.display()
            ))
        })?;
        tracing::info!(root = %root.path().display(), "agents may read and write files under this directory");
        config.files_root = Some(root);
    }
    // Nothing goes to Confluence before the first call: the credential is resolved (probed) by
    // the first call that needs it, so the server answers `initialize` and `tools/list` at
    // once, and starts while Confluence is out of reach; a failed connection is reported to the
    // call that needed it and tried again by the next. When the credential's scopes can narrow
    // the tools (an OAuth grant, an access token, configured scopes), the first `tools/list`
    // connects to learn them.
    let scopes_on_list = match &credential {
        CredentialConfig::OAuth(_) | CredentialConfig::AccessToken { .. } => true,
        CredentialConfig::ApiToken { scopes, .. } => scopes.is_some(),
    };
    let read_only = config.read_only;
    let config = std::sync::Arc::new(config);
    let connect: conflux_mcp::Connect = Box::new(move || {
        let credential = credential.clone();
        let client_config = client_config.clone();
        let config = config.clone();
        Box::pin(async move {
            let client = Client::connect(credential, client_config).await?;
            Ok(Ops::new(client, (*config).clone()))
        })
    });
    let server = ConfluxServer::deferred_with(connect, read_only, scopes_on_list, &args.tools)?;
    if let Some(addr) = args.metrics {
        let metrics = crate::observe::recorder()?;
        let bound = crate::observe::serve_metrics(addr, metrics, axum::Router::new()).await?;
        notice!("metrics http://{bound}/metrics");
    }
    let server = server.with_output_format(
        args.output_format
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?,
    );
    tracing::info!(tools = ?server.tool_names(), read_only = args.read_only, "MCP server starting");
    conflux_mcp::serve_stdio(server).await?;
    Ok(())
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

/// The store key: `CONFLUX_ENCRYPTION_KEY`, else the key file (created on first run; for
/// SQLite it defaults to `conflux.key` beside the database). Never stored in the database.
fn encryption_key(args: &ServeArgs, location: &str) -> anyhow::Result<EncryptionKey> {
    if let Some(k) = env_var("CONFLUX_ENCRYPTION_KEY") {
        notice!("store encryption key from CONFLUX_ENCRYPTION_KEY");
        return EncryptionKey::parse(&k).context("CONFLUX_ENCRYPTION_KEY");
    }
    let path = match &args.encryption_key_file {
        Some(p) => p.clone(),
        None if is_postgres(location) => bail!(
            "a Postgres store needs its encryption key: set CONFLUX_ENCRYPTION_KEY (e.g. \
             `openssl rand -hex 32`) or --encryption-key-file, the same for every server process"
        ),
        None => {
            let db = Path::new(
                location
                    .strip_prefix("sqlite://")
                    .or_else(|| location.strip_prefix("sqlite:"))
                    .unwrap_or(location),
            );
            db.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .join("conflux.key")
        }
    };
    let key = EncryptionKey::load_or_create(&path)?;
    notice!("store encryption key file {}", path.display());
    Ok(key)
}

fn is_postgres(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The settings in force until the maintainer saves some: the auth mode, and the site from
/// CONFLUENCE_URL / CONFLUENCE_CLOUD_ID (whose members may sign in, in the OAuth modes).
fn default_settings(
    args: &ServeArgs,
    layer: &Layer,
    fallback: Option<&CredentialConfig>,
) -> anyhow::Result<AppSettings> {
    let auth_mode = match args.auth_mode.as_deref() {
        Some(m) => AuthMode::parse(m).context("--auth-mode / CONFLUX_AUTH_MODE")?,
        None => match fallback {
            Some(CredentialConfig::ApiToken { .. }) => AuthMode::ApiToken,
            Some(CredentialConfig::AccessToken { .. }) => AuthMode::AccessToken,
            _ => AuthMode::OAuthCentral,
        },
    };
    let site_url = layer.url.clone().filter(|u| !u.trim().is_empty());
    if let Some(u) = &site_url {
        conflux_types::SiteUrl::parse(u).context("CONFLUENCE_URL / --url")?;
    }
    let cloud_id = layer
        .cloud_id
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(str::parse)
        .transpose()
        .map_err(|_| anyhow::anyhow!("CONFLUENCE_CLOUD_ID / --cloud-id is not a UUID"))?;
    Ok(AppSettings {
        auth_mode,
        allow_all_agents: args.allow_all_agents,
        site_url,
        cloud_id,
        ..AppSettings::default()
    })
}

/// `conflux serve --http`: the configuration page, the OAuth callback and `/mcp`.
pub async fn run_http(layer: Layer, args: ServeArgs) -> anyhow::Result<()> {
    let args = args.resolved();
    let Some(addr) = args.http else {
        bail!("run_http needs --http");
    };
    let grace = match args.shutdown_grace {
        None => crate::shutdown::DEFAULT_GRACE,
        Some(s) if (0.0..=86_400.0).contains(&s) => std::time::Duration::from_secs_f64(s),
        Some(s) => {
            return Err(ClientError::Config(format!(
                "--shutdown-grace / CONFLUX_SHUTDOWN_GRACE must be a number of seconds from 0 \
                 to 86400 (got {s})"
            ))
            .into());
        }
    };
    let config_error = |e: anyhow::Error| ClientError::Config(format!("{e:#}"));
    let mut client = ClientConfig::default();
    if let Some(g) = &layer.gateway_url {
        client.endpoints.gateway =
            BaseUrl::parse(g).context("CONFLUX_GATEWAY_URL / gateway_url")?;
    }
    if let Some(i) = &layer.identity_url {
        client.endpoints.identity =
            BaseUrl::parse(i).context("CONFLUX_IDENTITY_URL / identity_url")?;
    }
    // A CONFLUENCE_* credential serves the token modes when the page sets none.
    let fallback = if layer.api_token.is_some() || layer.access_token.is_some() {
        Some(layer.clone().resolve().map_err(config_error)?.credential)
    } else {
        None
    };
    let central_app = match (
        args.oauth_client_id.clone(),
        env_var("CONFLUX_OAUTH_CLIENT_SECRET"),
    ) {
        (Some(client_id), Some(secret)) => Some(AppCredentials {
            client_id,
            client_secret: Secret::new(secret),
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ClientError::Config(
                "CONFLUX_OAUTH_CLIENT_ID is set but CONFLUX_OAUTH_CLIENT_SECRET is not".into(),
            )
            .into());
        }
        (None, Some(_)) => {
            return Err(ClientError::Config(
                "CONFLUX_OAUTH_CLIENT_SECRET is set but CONFLUX_OAUTH_CLIENT_ID is not".into(),
            )
            .into());
        }
    };
    for t in &args.tools {
        if conflux_ops::catalog::tool(t).is_none() {
            return Err(conflux_mcp::ServeError::UnknownTool(t.clone()).into());
        }
    }
    let location = match &args.database_url {
        Some(u) => u.clone(),
        None => conflux_store::default_database_path()
            .context("no data directory for the default database: set --database-url")?
            .display()
            .to_string(),
    };
    if args.open && !addr.ip().is_loopback() {
        return Err(ClientError::Config(format!(
            "the demo server lets anyone call it, so it listens on loopback only; {addr} is not \
             a loopback address (use 127.0.0.1:PORT)"
        ))
        .into());
    }
    if args.files_root.is_some() {
        notice!(
            "--files-root / CONFLUX_FILES_ROOT is ignored with --http: agents calling over HTTP \
             never read or write local files"
        );
    }
    let admin_token = env_var("CONFLUX_ADMIN_TOKEN").map(Secret::new);
    if let Some(t) = &admin_token
        && t.expose().chars().count() < conflux_web::MIN_ADMIN_TOKEN
    {
        return Err(ClientError::Config(format!(
            "CONFLUX_ADMIN_TOKEN is {} characters long; it must be at least {} (e.g. `openssl \
             rand -hex 32`): a short token can be guessed",
            t.expose().chars().count(),
            conflux_web::MIN_ADMIN_TOKEN
        ))
        .into());
    }
    let platform_secret = env_var("CONFLUX_PLATFORM_SECRET").map(Secret::new);
    if let Some(p) = &platform_secret
        && p.expose().len() < conflux_web::MIN_PLATFORM_SECRET
    {
        return Err(ClientError::Config(format!(
            "CONFLUX_PLATFORM_SECRET is {} bytes long; it must be at least {} (e.g. `openssl \
             rand -hex 32`)",
            p.expose().len(),
            conflux_web::MIN_PLATFORM_SECRET
        ))
        .into());
    }
    let extra_roots = match &args.client_metadata_ca {
        Some(path) => vec![std::fs::read(path).map_err(|e| {
            ClientError::Config(format!(
                "CONFLUX_CLIENT_METADATA_CA / --client-metadata-ca {}: {e}",
                path.display()
            ))
        })?],
        None => Vec::new(),
    };
    let key = encryption_key(&args, &location).map_err(config_error)?;
    let cookie_key = key.derive("conflux-web cookies");
    let store = SqlStore::open(&location, key).await?;
    let dropped = store.take_legacy_connections().await?;
    if !dropped.is_empty() {
        notice!(
            "dropped {} Confluence connection(s) stored under user ids typed on the \
             page ({}): people now sign in with Atlassian, which names them; each signs in once \
             on the configuration page to connect again",
            dropped.len(),
            dropped
                .iter()
                .map(|(t, u)| format!("{t}/{u}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let defaults = default_settings(&args, &layer, fallback.as_ref()).map_err(config_error)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| conflux_mcp::ServeError::Bind { addr, source })?;
    let bound = listener.local_addr().unwrap_or(addr);
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"));
    let tenant = TenantId::new(args.tenant.clone()).context("--tenant / CONFLUX_TENANT")?;
    let mut config = conflux_web::WebConfig::new(&public_url, tenant, cookie_key)?;
    config.admin_token = admin_token;
    config.platform_secret = platform_secret;
    config.trusted_proxies = trusted_proxies(&args.trusted_proxies)?;
    config.trust_forwarded = args.trust_forwarded || !config.trusted_proxies.is_empty();
    config.extra_origins = args.allowed_origins.clone();
    config.authz.fetch.extra_roots_pem = extra_roots;
    config.authz.fetch.allow_private = args.client_metadata_private;
    if let Some(idle) = args.session_idle {
        config.session_idle = std::time::Duration::from_secs(idle.max(1));
    }
    if let Some(n) = args.max_sessions {
        config.session_limits.total = n.max(1);
        config.session_limits.per_caller = config.session_limits.per_caller.min(n.max(1));
    }
    if let Some(ttl) = args.access_token_ttl {
        config.authz.access_ttl = std::time::Duration::from_secs(ttl.max(1));
    }
    if args.open {
        config.mcp_access = conflux_web::McpAccess::Open;
    }
    config.tools = args.tools.clone();
    config.output_format = args
        .output_format
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    config.ops = args.ops_config();
    config.client = client;
    config.central_app = central_app;
    config.fallback = fallback;
    config.defaults = defaults;
    let admin = config.admin_token.is_some();
    let web = conflux_web::Web::new(Arc::new(store.clone()), config)?;
    // The figures are recorded when someone can read them: on the metrics address, or on this
    // one with the admin token.
    let recorder = match args.metrics.is_some() || admin {
        true => Some(crate::observe::recorder()?),
        false => None,
    };
    let mut router = web.router()?;
    if let Some(m) = &recorder {
        router = router.merge(web.admin_metrics_router(crate::observe::render(m)));
    }
    let base = web.user_url();
    if args.open {
        notice!(
            "demo server: it lets ANYONE who can reach {bound} call its tools with the demo \
             credential, without signing in (loopback only)"
        );
    }
    if let (Some(addr), Some(m)) = (args.metrics, &recorder) {
        let metrics = crate::observe::serve_metrics(addr, m.clone(), web.probe_router()).await?;
        notice!("metrics http://{metrics}/metrics");
    }
    notice!("configuration page {base}");
    if admin {
        notice!("maintainer view {base}admin");
    } else {
        notice!("maintainer view disabled (set CONFLUX_ADMIN_TOKEN to enable it)");
    }
    notice!("OAuth callback URL to register {}", web.callback_url());
    notice!("MCP endpoint {base}mcp (listening on {bound})");
    tracing::info!(read_only = args.read_only, "HTTP server starting");
    let upkeep = web.spawn_upkeep();
    let sessions = web.clone();
    let mut limits = conflux_mcp::listen::Limits::default();
    if let Some(n) = args.max_connections {
        limits.max_connections = n.max(1);
    }
    crate::shutdown::serve(
        listener,
        router,
        limits,
        grace,
        crate::shutdown::signal(),
        move || sessions.close_sessions(),
    )
    .await?;
    upkeep.abort();
    store.close().await;
    notice!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses and blocks of both families; anything else is a configuration error that
    /// names the value.
    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let got =
            trusted_proxies(&list(&["10.0.0.0/8", " 192.0.2.7 ", "fd00::/8", "::1", ""])).unwrap();
        let want: Vec<ipnet::IpNet> = ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "::1/128"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(got, want);
        let e = trusted_proxies(&list(&["10.0.0.0/8", "proxy.internal"])).unwrap_err();
        assert!(e.to_string().contains("`proxy.internal`"), "{e}");
    }
}
