//! `conflux setup CLIENT`: the configuration an MCP client needs to start Conflux, in the
//! format that client documents. Printed, never written: stdout holds only the configuration
//! (so it can be piped or parsed); where to put it goes to stderr. No secret is printed: the
//! API token is a placeholder to fill in (VS Code asks for it at start instead).

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::stdout::outln;

/// The MCP clients Conflux prints a configuration for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum McpClient {
    ClaudeDesktop,
    ClaudeCode,
    Vscode,
    Cursor,
    Windsurf,
    Codex,
}

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// The MCP client to configure
    #[arg(value_enum)]
    client: McpClient,
    /// The server's name in the client's configuration
    #[arg(long, default_value = "confluence")]
    name: String,
    /// Serve read-only (write actions neither listed nor run)
    #[arg(long)]
    read_only: bool,
    /// Only these tools, comma-separated
    #[arg(long, value_delimiter = ',')]
    tools: Vec<String>,
    /// Let the agent read and write local files under this directory (--files-root)
    #[arg(long, value_name = "DIR")]
    files_root: Option<PathBuf>,
}

/// Where the placeholder asks for the token.
const TOKEN_PLACEHOLDER: &str =
    "<API token: https://id.atlassian.com/manage-profile/security/api-tokens>";
/// VS Code's prompt for it.
const VSCODE_TOKEN_INPUT: &str = "confluence-api-token";

/// What the client starts: the command, its arguments and its environment.
struct Launch {
    command: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

fn launch(args: &SetupArgs, demo: bool, token_value: &str) -> anyhow::Result<Launch> {
    for t in &args.tools {
        if conflux_ops::catalog::tool(t).is_none() {
            return Err(conflux_mcp::ServeError::UnknownTool(t.clone()).into());
        }
    }
    // The binary that runs now, so the client finds it whatever its PATH.
    let command = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(String::from))
        .unwrap_or_else(|| "conflux".into());
    let mut cmd_args = Vec::new();
    if demo {
        cmd_args.push("--demo".to_string());
    }
    cmd_args.push("serve".into());
    if args.read_only {
        cmd_args.push("--read-only".into());
    }
    if !args.tools.is_empty() {
        cmd_args.push("--tools".into());
        cmd_args.push(args.tools.join(","));
    }
    if let Some(dir) = &args.files_root {
        let dir = std::path::absolute(dir)?;
        cmd_args.push("--files-root".into());
        cmd_args.push(dir.display().to_string());
    }
    let mut env = BTreeMap::new();
    if !demo {
        let var = |k: &str, placeholder: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| placeholder.to_string())
        };
        env.insert(
            "CONFLUENCE_URL".into(),
            var("CONFLUENCE_URL", "https://your-site.atlassian.net"),
        );
        env.insert(
            "CONFLUENCE_USERNAME".into(),
            var("CONFLUENCE_USERNAME", "you@example.com"),
        );
        env.insert("CONFLUENCE_API_TOKEN".into(), token_value.to_string());
    }
    Ok(Launch {
        command,
        args: cmd_args,
        env,
    })
}

/// The configuration text and where it goes.
fn render(args: &SetupArgs, demo: bool) -> anyhow::Result<(String, &'static str)> {
    let token = match args.client {
        McpClient::Vscode => format!("${{input:{VSCODE_TOKEN_INPUT}}}"),
        _ => TOKEN_PLACEHOLDER.to_string(),
    };
    let l = launch(args, demo, &token)?;
    let name = args.name.as_str();
    let plain = json!({ "command": l.command, "args": l.args, "env": l.env });
    let typed = json!({ "type": "stdio", "command": l.command, "args": l.args, "env": l.env });
    let pretty = |v: Value| serde_json::to_string_pretty(&v);
    Ok(match args.client {
        McpClient::ClaudeDesktop => (
            pretty(json!({ "mcpServers": { name: plain } }))?,
            "merge into claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, \
             Windows: %APPDATA%\\Claude\\), then restart Claude Desktop",
        ),
        McpClient::ClaudeCode => (
            pretty(json!({ "mcpServers": { name: typed } }))?,
            "save as .mcp.json at the project's root (shared with the project), or pass the \
             server's entry to `claude mcp add-json NAME '<json>'`",
        ),
        McpClient::Vscode => {
            let inputs = if demo {
                json!([])
            } else {
                json!([{ "type": "promptString", "id": VSCODE_TOKEN_INPUT,
                    "description": "Confluence API token", "password": true }])
            };
            (
                pretty(json!({ "inputs": inputs, "servers": { name: typed } }))?,
                "save as .vscode/mcp.json in the workspace (VS Code asks for the token when the \
                 server starts)",
            )
        }
        McpClient::Cursor => (
            pretty(json!({ "mcpServers": { name: plain } }))?,
            "merge into ~/.cursor/mcp.json (every project) or .cursor/mcp.json (this one)",
        ),
        McpClient::Windsurf => (
            pretty(json!({ "mcpServers": { name: plain } }))?,
            "merge into ~/.codeium/windsurf/mcp_config.json, then refresh the MCP servers",
        ),
        McpClient::Codex => {
            let mut server = toml::Table::new();
            server.insert("command".into(), toml::Value::String(l.command));
            server.insert(
                "args".into(),
                toml::Value::Array(l.args.into_iter().map(toml::Value::String).collect()),
            );
            if !l.env.is_empty() {
                let env: toml::Table = l
                    .env
                    .into_iter()
                    .map(|(k, v)| (k, toml::Value::String(v)))
                    .collect();
                server.insert("env".into(), toml::Value::Table(env));
            }
            let mut servers = toml::Table::new();
            servers.insert(name.to_string(), toml::Value::Table(server));
            let mut root = toml::Table::new();
            root.insert("mcp_servers".into(), toml::Value::Table(servers));
            (toml::to_string(&root)?, "merge into ~/.codex/config.toml")
        }
    })
}

/// `conflux setup CLIENT`.
pub fn run(args: &SetupArgs, demo: bool) -> anyhow::Result<()> {
    let (text, where_to) = render(args, demo)?;
    outln!("{}", text.trim_end())?;
    eprintln!("conflux: {where_to}");
    if !demo && args.client != McpClient::Vscode {
        eprintln!("conflux: replace the API token placeholder with your token");
    }
    Ok(())
}
