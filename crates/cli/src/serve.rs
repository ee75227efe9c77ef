//! `conflux serve`: the MCP server over stdio (default) or streamable HTTP (`--http`).
//! Over stdio, stdout carries only the protocol; logs go to stderr.

use std::net::SocketAddr;

use clap::Args;
use conflux_client::Client;
use conflux_mcp::ConfluxServer;
use conflux_ops::{Config, Ops};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Serve streamable HTTP on this address (endpoint path /mcp) instead of stdio.
    #[arg(long, value_name = "ADDR", env = "CONFLUX_HTTP")]
    pub http: Option<SocketAddr>,
    /// Refuse every write action; write actions leave the tools' action enums
    /// [env: CONFLUX_READ_ONLY, or READ_ONLY_MODE]
    #[arg(long)]
    pub read_only: bool,
    /// Expose only these tools, comma-separated, e.g. pages,search [env: CONFLUX_TOOLS]
    #[arg(long, value_delimiter = ',', env = "CONFLUX_TOOLS")]
    pub tools: Vec<String>,
    /// Only these spaces (keys or ids) are reachable [env: CONFLUX_ALLOW_SPACES, or CONFLUENCE_SPACES_FILTER]
    #[arg(long, value_delimiter = ',')]
    pub allow_spaces: Vec<String>,
    /// These spaces (keys or ids) are never reachable [env: CONFLUX_DENY_SPACES]
    #[arg(long, value_delimiter = ',', env = "CONFLUX_DENY_SPACES")]
    pub deny_spaces: Vec<String>,
    /// These spaces (keys or ids) may be read but not written [env: CONFLUX_READ_ONLY_SPACES]
    #[arg(long, value_delimiter = ',', env = "CONFLUX_READ_ONLY_SPACES")]
    pub read_only_spaces: Vec<String>,
    /// Print the granular scopes the enabled tools need (read-only or full), one per line, and exit.
    #[arg(long)]
    pub print_scopes: bool,
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
        a
    }
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
        println!("{s}");
    }
    Ok(())
}

pub async fn run(client: Client, args: ServeArgs) -> anyhow::Result<()> {
    let args = args.resolved();
    let config = Config {
        read_only: args.read_only,
        allow_spaces: args.allow_spaces.clone(),
        deny_spaces: args.deny_spaces.clone(),
        read_only_spaces: args.read_only_spaces.clone(),
        // Local paths only make sense when the server runs on the caller's machine.
        allow_files: args.http.is_none(),
        ..Config::default()
    };
    let server = ConfluxServer::new(Ops::new(client, config), &args.tools)?;
    tracing::info!(tools = ?server.tool_names(), read_only = args.read_only, "MCP server starting");
    match args.http {
        None => conflux_mcp::serve_stdio(server).await?,
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| conflux_mcp::ServeError::Bind { addr, source })?;
            let bound = listener.local_addr().unwrap_or(addr);
            eprintln!("conflux: MCP endpoint http://{bound}/mcp");
            conflux_mcp::serve_http_on(server, listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?
        }
    }
    Ok(())
}
