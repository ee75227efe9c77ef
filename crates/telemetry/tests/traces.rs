//! A tool call's trace, exported to OpenTelemetry's in-memory exporter through the same
//! subscriber the binary installs: the MCP server over streamable HTTP on a real socket, the
//! simulator behind it. A call whose request carries a W3C `traceparent` (in `_meta`, as
//! SEP-414 has it, or as the HTTP header) joins the caller's trace: its `tool_call` span has
//! the caller's trace id and span id as parent, and the Confluence requests it made are its
//! children. A call without one starts a trace of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conflux_client::{Client, ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_mcp::ConfluxServer;
use conflux_ops::{Config as OpsConfig, Ops};
use conflux_telemetry::{Config, LogFormat, Telemetry};
use conflux_testkit::Sim;
use conflux_types::{BaseUrl, Secret, SiteUrl};
use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use serde_json::{Value, json};

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const HEADER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const HEADER_SPAN: &str = "b7ad6b7169203331";

fn call(id: u64, meta: Value) -> Value {
    let mut meta = meta;
    let m = meta.as_object_mut().unwrap();
    m.insert(
        "io.modelcontextprotocol/protocolVersion".into(),
        "2026-07-28".into(),
    );
    m.insert(
        "io.modelcontextprotocol/clientInfo".into(),
        json!({"name": "trace-test", "version": "1"}),
    );
    m.insert(
        "io.modelcontextprotocol/clientCapabilities".into(),
        json!({}),
    );
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "spaces", "arguments": {"action": "list"}, "_meta": meta}})
}

/// POSTs one stateless (2026-07-28) tool call and returns its JSON-RPC answer.
async fn post(http: &reqwest::Client, url: &str, body: Value, traceparent: Option<&str>) -> Value {
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "spaces")
        .body(body.to_string());
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    let text = req.send().await.unwrap().text().await.unwrap();
    let json = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(&text);
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn by_name<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "tool" || kv.key.as_str() == "op")
                && (s.name.starts_with(name))
        })
        .collect()
}

fn children_of<'a>(spans: &'a [SpanData], parent: &SpanData) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_context.span_id())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_join_the_callers_trace_with_confluence_requests_as_children() {
    let exporter = InMemorySpanExporter::default();
    let _telemetry = Telemetry::install_with_exporter(
        Config {
            filter: "warn".into(),
            format: LogFormat::Text,
            otlp: false,
            service_name: "conflux-test".into(),
        },
        exporter.clone(),
    )
    .unwrap();

    let sim = Sim::demo(1).await;
    let info = &sim.info;
    let config = ClientConfig {
        endpoints: Endpoints {
            gateway: BaseUrl::parse(&info.gateway_url).unwrap(),
            identity: BaseUrl::parse(&info.identity_url).unwrap(),
        },
        ..ClientConfig::default()
    };
    let client = Client::connect(
        CredentialConfig::ApiToken {
            email: info.classic_token.email.clone(),
            token: Secret::new(info.classic_token.token.clone()),
            site: Some(SiteUrl::parse(&info.site_url).unwrap()),
            cloud_id: None,
            kind: TokenKindHint::Detect,
            scopes: None,
        },
        config,
    )
    .await
    .unwrap();
    let server = ConfluxServer::new(Ops::new(client, OpsConfig::default()), &[]).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(conflux_mcp::serve_http_on(
        server,
        listener,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    // The credential probes of `connect` ran before any call: only the calls' spans count.
    exporter.reset();

    // 1. `_meta.traceparent` (SEP-414); an HTTP header naming another trace loses to it.
    let in_meta = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let header = format!("00-{HEADER_TRACE}-{HEADER_SPAN}-01");
    let answer = post(
        &http,
        &url,
        call(1, json!({"traceparent": in_meta, "tracestate": "vendor=1"})),
        Some(&header),
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let spans = exporter.get_finished_spans().unwrap();
    let calls = by_name(&spans, "tools/call");
    assert_eq!(calls.len(), 1, "one tool call span: {spans:#?}");
    let tool_call = calls[0];
    assert_eq!(tool_call.name, "tools/call spaces.list");
    assert_eq!(tool_call.span_kind, SpanKind::Server);
    assert_eq!(
        tool_call.span_context.trace_id(),
        TraceId::from_hex(CALLER_TRACE).unwrap(),
        "the caller's trace id is honoured"
    );
    assert_eq!(
        tool_call.parent_span_id,
        SpanId::from_hex(CALLER_SPAN).unwrap()
    );
    assert!(tool_call.parent_span_is_remote);
    let requests = children_of(&spans, tool_call);
    assert!(
        !requests.is_empty(),
        "the Confluence requests are children of the tool call: {spans:#?}"
    );
    for r in &requests {
        assert_eq!(r.span_kind, SpanKind::Client, "{r:#?}");
        assert_eq!(r.span_context.trace_id(), tool_call.span_context.trace_id());
        assert!(r.name.starts_with("GET /wiki/"), "{}", r.name);
        assert!(
            r.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "http.response.status_code"),
            "{r:#?}"
        );
    }

    // 2. The HTTP `traceparent` header alone.
    exporter.reset();
    let answer = post(&http, &url, call(2, json!({})), Some(&header)).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let spans = exporter.get_finished_spans().unwrap();
    let tool_call = by_name(&spans, "tools/call")[0];
    assert_eq!(
        tool_call.span_context.trace_id(),
        TraceId::from_hex(HEADER_TRACE).unwrap()
    );
    assert_eq!(
        tool_call.parent_span_id,
        SpanId::from_hex(HEADER_SPAN).unwrap()
    );
    assert!(!children_of(&spans, tool_call).is_empty());

    // 3. No trace context, or a malformed one: a trace of its own, the requests still its
    //    children.
    exporter.reset();
    let answer = post(
        &http,
        &url,
        call(3, json!({"traceparent": "00-not-a-trace-01"})),
        None,
    )
    .await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let spans = exporter.get_finished_spans().unwrap();
    let tool_call = by_name(&spans, "tools/call")[0];
    assert_eq!(tool_call.parent_span_id, SpanId::INVALID);
    for foreign in [CALLER_TRACE, HEADER_TRACE] {
        assert_ne!(
            tool_call.span_context.trace_id(),
            TraceId::from_hex(foreign).unwrap()
        );
    }
    assert!(!children_of(&spans, tool_call).is_empty());
}
