//! MCP client sessions (rmcp) and what tests do with them.

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServerHandler, ServiceExt};
use serde_json::Value;

/// An MCP client session.
pub type Session = RunningService<RoleClient, ()>;

/// A client session on `server`, in process over a duplex pipe.
pub async fn connect<S: ServerHandler>(server: S) -> Session {
    let (s, c) = tokio::io::duplex(1 << 22);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(s).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(c).await.expect("MCP handshake")
}

/// Calls `tool` with `args` (a JSON object); the result, error results included.
pub async fn call(mcp: &Session, tool: &str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("args must be an object")
    };
    mcp.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap()
}

/// A result's text content, one block a line.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}
