//! The Conflux MCP server: the tools declared in `conflux_ops::catalog::TOOLS` (`pages`,
//! `spaces`, `search`, `content`, `comments`, `labels`, `attachments`, `versions`,
//! `databases`, `connection`), each driven by an `action` argument, over stdio or streamable
//! HTTP, built on the `rmcp` crate. Their schemas are generated from those declarations.
//!
//! A call goes: arguments checked against the tool's declaration (action enum for this
//! mode, parameter names, types, enums, required-per-action) before any HTTP request, then
//! the action in `conflux-ops`, then the result as `structuredContent` (validating against the
//! tool's `outputSchema`) plus text chosen by the server's [`OutputFormat`]. Confluence's refusals and bad
//! arguments come back as tool errors (`isError: true`, message + hint), which the model reads;
//! protocol errors are kept for unknown tools.
//!
//! ```no_run
//! # async fn demo(ops: conflux_ops::Ops) -> Result<(), conflux_mcp::ServeError> {
//! let server = conflux_mcp::ConfluxServer::new(ops, &["pages".into(), "search".into()])?;
//! conflux_mcp::serve_stdio(server).await
//! # }
//! ```
//!
//! Over HTTP, the layer in front of the server verifies each request's credential and attaches
//! a [`Caller`]; a server built with [`ConfluxServer::with_provider`] asks its [`OpsProvider`]
//! whether that caller's agent may call (the allowlist) and runs the call with the caller's
//! operations. A call without a verified caller is refused by such a server (fail closed).
//!
//! No input takes the server down: over both transports a message that is not JSON-RPC is
//! answered with a JSON-RPC error (-32700, -32600, or over [`MAX_MESSAGE_BYTES`]) before rmcp
//! sees it, and a panic inside a tool call is that call's tool error ([`INTERNAL_ERROR`]).
//!
//! Depends on `conflux-ops` (and through it the client); the binary owns configuration.

mod http;
mod identity;
mod jsonrpc;
pub mod listen;
mod observe;
mod sessions;
mod stdio;

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use conflux_catalog::ScopeSet;
use conflux_ops::catalog::{ActionSpec, ToolSpec};
use conflux_ops::{OpError, Ops, Output};
use futures::FutureExt as _;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData,
    Implementation, JsonObject, ListToolsResult, PaginatedRequestParams, ResourceContents,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::{Value, json};

/// A tool as the server knows it: its one declaration in `conflux-ops`.
type ToolDef = &'static ToolSpec;

pub use http::{
    HttpOptions, http_router, http_router_for_hosts, http_router_with, serve_http, serve_http_on,
};
pub use identity::{
    AGENT_HEADER, AGENT_META, AGENT_NOT_AUTHORIZED, AGENT_UNIDENTIFIED, BoxFuture, Caller,
    OpsProvider, USER_HEADER, USER_META, VerifiedCaller,
};
pub use jsonrpc::{INVALID_PARAMS, INVALID_REQUEST, MAX_MESSAGE_BYTES, PARSE_ERROR};
pub use observe::{
    OUTCOMES, TOOL_CALL_DURATION, TOOL_CALLS, TOOL_CALLS_IN_FLIGHT, calls_in_flight,
    describe_metrics,
};
pub use sessions::{SESSIONS, SessionLimits};
pub use stdio::{serve_lines, serve_stdio};

/// What a tool call that panicked answers. The panic is contained to that call.
pub const INTERNAL_ERROR: &str =
    "internal error in Conflux: this call failed and nothing else was affected; please report it";

/// A tool that exists only in debug builds and panics when called (after the caller checks a
/// real call goes through), so that tests can prove a panic is contained to its call. Never
/// listed; release builds do not know it.
#[cfg(debug_assertions)]
pub const DEBUG_PANIC_TOOL: &str = "__conflux_debug_panic";

/// What can stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("unknown tool `{0}`: the tools are {known}", known = known_tools())]
    UnknownTool(String),
    #[error("MCP session failed: {0}")]
    Session(String),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Http(std::io::Error),
}

/// Every tool's name, for messages.
fn known_tools() -> String {
    conflux_ops::catalog::TOOLS
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text a result carries beside `structuredContent`: a server setting (`--output-format`),
/// not an argument of every tool, which every agent would read in `tools/list` for nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// A readable summary (the default).
    #[default]
    Verbose,
    /// The structured result as JSON text, for clients that show only text.
    Structured,
    /// Both, summary first.
    Both,
}

impl OutputFormat {
    pub const NAMES: &[&str] = &["verbose", "structured", "both"];
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "verbose" => Ok(OutputFormat::Verbose),
            "structured" => Ok(OutputFormat::Structured),
            "both" => Ok(OutputFormat::Both),
            other => Err(format!(
                "output format `{other}` is not one of: {}",
                OutputFormat::NAMES.join(", ")
            )),
        }
    }
}

/// The MCP server: the tools it exposes and where each call's [`Ops`] come from (one fixed
/// [`Ops`], or an [`OpsProvider`] per caller). Cheap to clone (one per HTTP session).
#[derive(Clone)]
pub struct ConfluxServer {
    source: Source,
    inner: Arc<Inner>,
    format: OutputFormat,
}

#[derive(Clone)]
enum Source {
    /// One credential for every call (stdio, API-token deployments).
    Fixed(Ops),
    /// Per caller: allowlist check, then the user's operations.
    Provider(Arc<dyn OpsProvider>),
    /// One credential, connected on first use (Confluence was out of reach at start-up).
    Deferred(Arc<Deferred>),
}

/// Makes the [`Ops`] of a server started before Confluence could be reached.
pub type Connect = Box<
    dyn Fn() -> futures::future::BoxFuture<'static, Result<Ops, OpError>> + Send + Sync + 'static,
>;

/// The operations of a [`Source::Deferred`] server: made by the first call that succeeds in
/// connecting; calls before that get the connection's error and the next call tries again.
pub struct Deferred {
    connect: Connect,
    ops: tokio::sync::OnceCell<Ops>,
    /// Whether `tools/list` connects to learn the credential's scopes (only Confluence knows
    /// them), so write actions they cannot perform are left out as for a connected server.
    scopes_on_list: bool,
}

impl Deferred {
    async fn ops(&self) -> Result<Ops, OpError> {
        self.ops.get_or_try_init(|| (self.connect)()).await.cloned()
    }
}

struct Inner {
    defs: Vec<ToolDef>,
    tools: Vec<Tool>,
    /// The same tools as a read-only caller sees them (write actions left out).
    read_only_tools: Vec<Tool>,
    read_only: bool,
}

impl std::fmt::Debug for ConfluxServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluxServer")
            .field("tools", &self.tool_names())
            .field("read_only", &self.inner.read_only)
            .field("per_caller", &matches!(self.source, Source::Provider(_)))
            .finish()
    }
}

impl ConfluxServer {
    /// A server exposing `tools` (all when empty). Read-only mode comes from the ops' config.
    ///
    /// When the credential's scopes are known before any call (an OAuth grant, an access
    /// token's accessible-resources, scopes configured for a scoped token), write actions those
    /// scopes cannot perform are left out of `tools/list`; a call to one still runs and is
    /// refused by Confluence with the missing scope named.
    pub fn new(ops: Ops, tools: &[String]) -> Result<ConfluxServer, ServeError> {
        let read_only = ops.config().read_only;
        let granted = ops.client().credential().granted_scopes();
        ConfluxServer::build(Source::Fixed(ops), read_only, granted, tools)
    }

    /// A server whose one credential is resolved on the first call rather than at start-up, so
    /// that it starts while Confluence is out of reach; a failed connection is reported to the
    /// call that needed it and tried again by the next. `read_only` shapes the tool definitions;
    /// it must match the config of the [`Ops`] that `connect` makes.
    pub fn deferred(
        connect: Connect,
        read_only: bool,
        tools: &[String],
    ) -> Result<ConfluxServer, ServeError> {
        ConfluxServer::deferred_with(connect, read_only, false, tools)
    }

    /// As [`ConfluxServer::deferred`], for a credential whose scopes may narrow the tools
    /// (`scopes_on_list`): the first `tools/list` connects, and leaves out the write actions the
    /// scopes cannot perform as [`ConfluxServer::new`] does; when it cannot connect, it lists
    /// every tool and the call that needs the connection reports why.
    pub fn deferred_with(
        connect: Connect,
        read_only: bool,
        scopes_on_list: bool,
        tools: &[String],
    ) -> Result<ConfluxServer, ServeError> {
        let deferred = Deferred {
            connect,
            ops: tokio::sync::OnceCell::new(),
            scopes_on_list,
        };
        ConfluxServer::build(Source::Deferred(Arc::new(deferred)), read_only, None, tools)
    }

    /// A server whose calls are checked and served per caller by `provider`. `read_only`
    /// shapes the tool definitions; it must match the config of the [`Ops`] the provider
    /// hands out.
    pub fn with_provider(
        provider: Arc<dyn OpsProvider>,
        read_only: bool,
        tools: &[String],
    ) -> Result<ConfluxServer, ServeError> {
        ConfluxServer::build(Source::Provider(provider), read_only, None, tools)
    }

    fn build(
        source: Source,
        read_only: bool,
        granted: Option<ScopeSet>,
        tools: &[String],
    ) -> Result<ConfluxServer, ServeError> {
        let all = conflux_ops::catalog::TOOLS;
        for t in tools {
            if !all.iter().any(|d| d.name == t) {
                return Err(ServeError::UnknownTool(t.clone()));
            }
        }
        let defs: Vec<ToolDef> = all
            .iter()
            .filter(|d| tools.is_empty() || tools.iter().any(|t| t == d.name))
            .collect();
        let offer = Offer { read_only, granted };
        let tools = defs.iter().map(|d| tool(d, offer)).collect();
        let read_only_tools = defs
            .iter()
            .map(|d| {
                tool(
                    d,
                    Offer {
                        read_only: true,
                        granted,
                    },
                )
            })
            .collect();
        Ok(ConfluxServer {
            source,
            format: OutputFormat::default(),
            inner: Arc::new(Inner {
                defs,
                tools,
                read_only_tools,
                read_only,
            }),
        })
    }

    /// The same server, answering with `format` beside the structured results.
    pub fn with_output_format(mut self, format: OutputFormat) -> ConfluxServer {
        self.format = format;
        self
    }

    pub fn tool_names(&self) -> Vec<&'static str> {
        self.inner.defs.iter().map(|d| d.name).collect()
    }

    /// The tool definitions as `tools/list` returns them.
    pub fn tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// The tool definitions `caller` sees: without write actions for a read-only caller.
    pub fn tools_for(&self, caller: &Caller) -> &[Tool] {
        if caller.read_only() {
            &self.inner.read_only_tools
        } else {
            &self.inner.tools
        }
    }

    /// Whether `action` of `tool` writes (unknown ones count as writes, to fail closed).
    pub fn action_writes(tool: &str, action: &str) -> bool {
        conflux_ops::catalog::tool(tool)
            .and_then(|t| t.action(action))
            .is_none_or(|a| a.write)
    }

    /// For a caller whose calls use their own Confluence connection (per-user OAuth over
    /// HTTP), the tools without the write actions their grant's scopes cannot perform; the
    /// grant is what the store holds, so nothing goes to Confluence to find out. `None` when
    /// the caller's operations are fixed or cannot be had (the call will say why).
    async fn tools_for_grant(&self, caller: &Caller) -> Option<Vec<Tool>> {
        if let Source::Deferred(d) = &self.source {
            if !d.scopes_on_list {
                return None;
            }
            let granted = d.ops().await.ok()?.client().credential().granted_scopes()?;
            let offer = Offer {
                read_only: self.inner.read_only || caller.read_only(),
                granted: Some(granted),
            };
            return Some(self.inner.defs.iter().map(|d| tool(d, offer)).collect());
        }
        let (Source::Provider(provider), Caller::Verified(verified)) = (&self.source, caller)
        else {
            return None;
        };
        let ops = provider.ops_for(verified).await.ok()?;
        let granted = ops.client().credential().granted_scopes()?;
        let offer = Offer {
            read_only: self.inner.read_only || verified.read_only,
            granted: Some(granted),
        };
        Some(self.inner.defs.iter().map(|d| tool(d, offer)).collect())
    }

    /// Whether write actions are hidden and refused.
    pub fn read_only(&self) -> bool {
        self.inner.read_only
    }

    /// Runs one tool call for a local caller: the whole path except the transport.
    pub async fn call(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        self.call_as(None, name, arguments).await
    }

    /// Runs one tool call for `caller` (`None`: the local caller). With a provider, the caller
    /// must be verified; its agent is checked against the allowlist first and the call runs
    /// with the caller's operations. A read-only caller cannot run write actions.
    ///
    /// A panic inside the call is caught: the call answers the tool error
    /// [`INTERNAL_ERROR`], the panic is logged, and the server carries on.
    pub async fn call_as(
        &self,
        caller: Option<&VerifiedCaller>,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        let labels = observe::Labels::of(name, arguments.as_ref());
        observe::tool_call(labels, self.call_contained(caller, name, arguments)).await
    }

    /// [`ConfluxServer::call_as`] without its span and metrics.
    async fn call_contained(
        &self,
        caller: Option<&VerifiedCaller>,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        match AssertUnwindSafe(self.call_unguarded(caller, name, arguments))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                tracing::error!(tool = name, panic = %what, "a tool call panicked; it was answered with an internal error and the server carries on");
                Ok(error_result(
                    "internal",
                    INTERNAL_ERROR,
                    "try the call again or another way; report it with the server's log (stderr) \
                     at https://github.com/conflux-mcp/conflux/issues",
                ))
            }
        }
    }

    /// The caller's operations, or the tool error that refuses the call.
    async fn ops_for(
        &self,
        caller: Option<&VerifiedCaller>,
        name: &str,
    ) -> Result<Ops, CallToolResult> {
        match (&self.source, caller) {
            (Source::Fixed(ops), _) => Ok(ops.clone()),
            (Source::Deferred(d), _) => d.ops().await.map_err(|e| {
                tracing::warn!(tool = name, kind = ?e.kind, "could not connect to Confluence");
                op_error(&e)
            }),
            (Source::Provider(provider), Some(caller)) => {
                resolve(provider.as_ref(), caller, name).await
            }
            (Source::Provider(_), None) => {
                tracing::warn!(tool = name, "call refused: no verified caller");
                Err(error_result(
                    "unauthorized",
                    "This server serves only authenticated callers, and this call carried no \
                     verified credential",
                    "connect through the server's /mcp endpoint with an OAuth access token or \
                     an access key",
                ))
            }
        }
    }

    async fn call_unguarded(
        &self,
        caller: Option<&VerifiedCaller>,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        let Some(def) = self.inner.defs.iter().find(|d| d.name == name) else {
            #[cfg(debug_assertions)]
            if name == DEBUG_PANIC_TOOL {
                if let Err(refusal) = self.ops_for(caller, name).await {
                    return Ok(refusal);
                }
                panic!("{DEBUG_PANIC_TOOL} was called: a deliberate panic inside a tool call");
            }
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{name}`; this server offers: {}",
                    self.tool_names().join(", ")
                ),
                None,
            ));
        };
        let ops = match self.ops_for(caller, name).await {
            Ok(ops) => ops,
            Err(refusal) => return Ok(refusal),
        };
        let read_only = self.inner.read_only || caller.is_some_and(|c| c.read_only);
        let args = arguments.unwrap_or_default();
        if read_only
            && let Some(Value::String(a)) = args.get("action")
            && def.action(a).is_some_and(|s| s.write)
        {
            let (why, hint) = if self.inner.read_only {
                (
                    "this server is read-only",
                    "read freely; whoever runs the server can allow writes (it was started with \
                     --read-only)",
                )
            } else {
                (
                    "this credential grants read-only tools (tools:read)",
                    "authorize the client again asking for tools:write, or use an access key that \
                     is not read-only",
                )
            };
            return Ok(error_result(
                "policy",
                &format!("`{name}.{a}` writes to Confluence, and {why}"),
                hint,
            ));
        }
        let action = match validate(def, &args, read_only) {
            Ok(v) => v,
            Err(message) => {
                // The same kind `conflux-ops` names bad arguments with: one name for one thing.
                return Ok(error_result(
                    "invalid_input",
                    &message,
                    "fix the arguments as the message says; nothing was sent to Confluence",
                ));
            }
        };
        let mut rest = args;
        rest.remove("action");
        tracing::debug!(tool = name, action, "tool call");
        match ops.call(name, action, Value::Object(rest)).await {
            Ok(out) => Ok(success(&out, self.format)),
            Err(e) => {
                tracing::info!(tool = name, action, kind = ?e.kind, "tool call refused");
                Ok(op_error(&e))
            }
        }
    }
}

/// The allowlist check, then the caller's operations; a refusal is the tool error to return.
async fn resolve(
    provider: &dyn OpsProvider,
    caller: &VerifiedCaller,
    tool: &str,
) -> Result<Ops, CallToolResult> {
    match provider.check_agent(caller).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(tool, "call refused: agent not allowed");
            return Err(if caller.agent_id.is_empty() {
                error_result(
                    "unauthorized",
                    AGENT_UNIDENTIFIED,
                    "the platform must send the agent's id in the X-Conflux-Agent-Id header or \
                     as `_meta.agent_id` of the request, and the connector's maintainer must \
                     allow it",
                )
            } else {
                error_result(
                    "unauthorized",
                    AGENT_NOT_AUTHORIZED,
                    "ask the connector's maintainer to allow this client on the configuration \
                     page (/admin, Clients); it is listed there among those refused lately",
                )
            });
        }
        Err(e) => return Err(op_error(&e)),
    }
    provider.ops_for(caller).await.map_err(|e| {
        tracing::info!(tool, kind = ?e.kind, "call refused: no operations for the caller");
        op_error(&e)
    })
}

/// Which actions a tool definition offers: no writes in read-only mode, and no writes the
/// credential's known scopes cannot perform.
#[derive(Clone, Copy)]
struct Offer {
    read_only: bool,
    granted: Option<ScopeSet>,
}

impl Offer {
    fn offers(self, a: &ActionSpec) -> bool {
        !a.write || !(self.read_only || self.granted.is_some_and(|g| !a.possible_with(g)))
    }
}

fn tool(def: &ToolDef, offer: Offer) -> Tool {
    let read_only = offer.read_only;
    let offered: Vec<&ActionSpec> = def.actions.iter().filter(|a| offer.offers(a)).collect();
    let actions: Vec<&str> = offered.iter().map(|a| a.name).collect();
    let mut props = serde_json::Map::new();
    // One line per action, naming the fields it requires: `create(spaceId, title): ...`.
    let summaries: Vec<String> = offered.iter().map(|a| def.action_line(a)).collect();
    props.insert(
        "action".into(),
        json!({ "type": "string", "enum": actions, "description": summaries.join("; ") }),
    );
    for p in def.params {
        props.insert(p.name.into(), p.json_schema());
    }
    let input = json!({ "type": "object", "properties": props, "required": ["action"], "additionalProperties": false });
    let output = output_schema(def);
    let writes = offered.iter().any(|a| a.write);
    // The hints clients act on, each only where it differs from the default (every agent pays
    // for the bytes of `tools/list`): read-only for a tool with no write offered (the default
    // is false); destructive false for a tool whose writes only add (the default is true).
    // Idempotence stays at its default, false, since creates are not; open world is the
    // default, and the title is the tool's own.
    let annotations = if !writes {
        Some(ToolAnnotations::new().read_only(true))
    } else if !def.has_destructive() {
        Some(ToolAnnotations::new().destructive(false))
    } else {
        None
    };
    let description = if read_only && def.has_writes() {
        format!(
            "{} (Read-only mode: write actions are unavailable.)",
            def.description
        )
    } else if offered.len() < def.actions.len() {
        format!(
            "{} (Write actions this credential's scopes cannot perform are left out.)",
            def.description
        )
    } else {
        def.description.to_string()
    };
    let tool = Tool::new(def.name, description, Arc::new(as_object(input)))
        .with_title(def.title)
        .with_raw_output_schema(Arc::new(as_object(output)));
    match annotations {
        Some(a) => tool.with_annotations(a),
        None => tool,
    }
}

/// A tool's output schema as `tools/list` carries it: the fields an answer may hold, by name.
/// Every agent pays for `tools/list` before it does anything, so their types are left to
/// the answer schema of the declaration (`ToolSpec::answer_schema`, in docs/tools.md and held
/// to every answer by the tests); `action` leads every answer.
fn output_schema(def: &ToolDef) -> Value {
    let props: serde_json::Map<String, Value> = def
        .outputs
        .iter()
        .map(|f| (f.name.to_string(), json!({})))
        .collect();
    json!({ "type": "object", "properties": props })
}

fn as_object(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

/// Checks `action` against the tool's definition and the caller's mode; returns it. The other
/// arguments are checked by `Ops::call`, whichever surface the call came from.
fn validate(def: &ToolDef, args: &JsonObject, read_only: bool) -> Result<&'static str, String> {
    let allowed = def.action_names(read_only);
    let action = match args.get("action") {
        None => {
            return Err(format!(
                "`action` is required; one of: {}",
                allowed.join(", ")
            ));
        }
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(format!(
                "`action` must be a string, one of: {} (got {other})",
                allowed.join(", ")
            ));
        }
    };
    let Some(spec) = def.action(action) else {
        return Err(format!(
            "`action` `{action}` is not one of: {}",
            allowed.join(", ")
        ));
    };
    if read_only && spec.write {
        return Err(format!(
            "`action` `{action}` writes to Confluence and this server is in read-only mode; allowed: {}",
            allowed.join(", ")
        ));
    }
    Ok(spec.name)
}

fn success(out: &Output, format: OutputFormat) -> CallToolResult {
    let mut structured = out.to_json();
    // Several files' bytes travel as content blocks only, not twice.
    if let conflux_ops::Data::Files { .. } = &out.data
        && let Some(Value::Array(files)) = structured.get_mut("files")
    {
        for f in files.iter_mut().filter_map(Value::as_object_mut) {
            f.remove("data");
        }
    }
    let json_text = || serde_json::to_string(&structured).unwrap_or_default();
    let mut content = match format {
        OutputFormat::Verbose => vec![ContentBlock::text(out.verbose())],
        OutputFormat::Structured => vec![ContentBlock::text(json_text())],
        OutputFormat::Both => vec![
            ContentBlock::text(out.verbose()),
            ContentBlock::text(json_text()),
        ],
    };
    if let conflux_ops::Data::Download {
        attachment,
        media_type,
        data: Some(b64),
        ..
    } = &out.data
    {
        content.push(attachment_block(&attachment.id, media_type, b64));
    }
    if let conflux_ops::Data::Files { files, images, .. } = &out.data {
        for f in files {
            let Some(b64) = &f.data else { continue };
            content.push(if *images {
                ContentBlock::image(b64.clone(), f.media_type.clone())
            } else {
                attachment_block(&f.attachment.id, &f.media_type, b64)
            });
        }
    }
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(structured);
    result
}

/// An attachment's bytes (base64) as an embedded resource.
fn attachment_block(id: &str, media_type: &str, b64: &str) -> ContentBlock {
    ContentBlock::resource(
        ResourceContents::blob(b64.to_string(), format!("confluence://attachment/{id}"))
            .with_mime_type(media_type.to_string()),
    )
}

fn error_result(kind: &str, message: &str, hint: &str) -> CallToolResult {
    observe::outcome(kind);
    CallToolResult::error(vec![ContentBlock::text(format!(
        "error ({kind}): {message}\nhint: {hint}"
    ))])
}

fn op_error(e: &OpError) -> CallToolResult {
    let kind = serde_json::to_value(e.kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| "error".into());
    observe::outcome(&kind);
    let mut text = format!("error ({kind}): {}\nhint: {}", e.message, e.hint);
    if let Some(n) = e.current_version {
        text.push_str(&format!(
            "\ncurrent version: {n}; retry with version {}",
            n + 1
        ));
    }
    CallToolResult::error(vec![ContentBlock::text(text)])
}

impl ServerHandler for ConfluxServer {
    fn get_info(&self) -> ServerConfig {
        let mode = if self.inner.read_only {
            " This server is read-only."
        } else {
            ""
        };
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("conflux", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "Confluence Cloud through Conflux. Each tool takes `action`; ids come from list and \
                 search results. For large pages use pages.outline, then getSection / updateSection \
                 or replace instead of whole bodies. Lists take `limit` (at most 250) and \
                 `cursor` (the `nextCursor` of the page before).{mode}"
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let caller = caller_of(&context);
        if let Some(tools) = self.tools_for_grant(&caller).await {
            return Ok(ListToolsResult::with_all_items(tools));
        }
        Ok(ListToolsResult::with_all_items(
            self.tools_for(&caller).to_vec(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = caller_of(&context);
        let headers = context
            .extensions
            .get::<axum::http::request::Parts>()
            .map(|p| &p.headers);
        // Typed params keep `_meta` empty after deserialisation; read both places.
        let mut meta: Vec<&JsonObject> = vec![&context.meta.0.0];
        if let Some(m) = &request.meta {
            meta.push(&m.0.0);
        }
        let verified = caller.resolve(headers, &meta);
        let incoming = observe::Incoming::of(headers, &meta);
        observe::with_incoming(
            incoming,
            self.call_as(verified.as_ref(), &request.name, request.arguments),
        )
        .await
        .map(CallToolResponse::from)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.tools.iter().find(|t| t.name == name).cloned()
    }
}

/// The caller the HTTP layer attached to the request; the local caller elsewhere (stdio).
fn caller_of(context: &RequestContext<RoleServer>) -> Caller {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<Caller>())
        .cloned()
        .unwrap_or_default()
}
