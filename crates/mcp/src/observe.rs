//! What each tool call leaves for operators: a span (`tool_call`, a child of the caller's
//! trace when the request carried a W3C `traceparent`), one log line when it ends, and metrics.
//!
//! The server calls in at two places: [`ConfluxServer::call_as`](crate::ConfluxServer::call_as)
//! runs every call inside [`tool_call`], and the `tools/call` handler hands the request's
//! context (request id, trace context) down with [`with_incoming`]. The error results of the
//! server name their kind with [`outcome`].
//!
//! Labels are bounded: tool and action names are the catalog's (anything else counts as
//! `unknown`), outcomes one of [`OUTCOMES`]. Nothing the caller sends becomes a label.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use rmcp::model::{CallToolResult, ErrorData, JsonObject};
use serde_json::Value;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Tool calls by `tool`, `action` and `outcome`.
pub const TOOL_CALLS: &str = "conflux_tool_calls_total";
/// Time from a call's arrival at the server to its result, by `tool` and `action`.
pub const TOOL_CALL_DURATION: &str = "conflux_tool_call_duration_seconds";
/// Tool calls running now.
pub const TOOL_CALLS_IN_FLIGHT: &str = "conflux_tool_calls_in_flight";

/// Every outcome a call is counted under: `ok`, the kinds of `conflux_ops::OpErrorKind`, and
/// the server's own refusals (`unauthorized`, `internal`, and
/// `protocol_error` for an unknown tool or unreadable parameters).
pub const OUTCOMES: &[&str] = &[
    "ok",
    "invalid_input",
    "policy",
    "missing_scopes",
    "unauthorized",
    "forbidden",
    "not_found",
    "version_conflict",
    "rate_limited",
    "upstream",
    "transport",
    "internal",
    "protocol_error",
    "other",
];

/// Registers the help text of this crate's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        TOOL_CALLS,
        "MCP tool calls, by tool, action and outcome (ok, or the kind of error)"
    );
    metrics::describe_histogram!(
        TOOL_CALL_DURATION,
        metrics::Unit::Seconds,
        "Duration of MCP tool calls, from arrival at the server to the result, by tool and action"
    );
    metrics::describe_gauge!(TOOL_CALLS_IN_FLIGHT, "MCP tool calls running now");
    crate::sessions::describe_metrics();
}

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// How many tool calls this process is running now (all servers together).
pub fn calls_in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

/// Counts a call from its start to its end (or until its future is dropped).
struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!(TOOL_CALLS_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(TOOL_CALLS_IN_FLIGHT).decrement(1.0);
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the request that carried a call says about it, beyond its arguments.
#[derive(Clone, Debug, Default)]
pub(crate) struct Incoming {
    /// The `X-Request-Id` of the HTTP request, when it has a usable one.
    request_id: Option<String>,
    /// The caller's trace context: `_meta.traceparent` (MCP, SEP-414), else the HTTP
    /// `traceparent` header.
    parent: Option<SpanContext>,
}

/// Longest `X-Request-Id` taken as is.
const MAX_REQUEST_ID: usize = 64;

impl Incoming {
    /// Reads the request id and the trace context from the HTTP headers (none over stdio) and
    /// the request's `_meta` objects.
    pub(crate) fn of(headers: Option<&axum::http::HeaderMap>, meta: &[&JsonObject]) -> Incoming {
        let header = |name: &str| {
            headers
                .and_then(|h| h.get(name))
                .and_then(|v| v.to_str().ok())
        };
        let meta_str = |key: &str| meta.iter().find_map(|m| m.get(key).and_then(Value::as_str));
        let from_meta =
            meta_str("traceparent").and_then(|tp| parse_traceparent(tp, meta_str("tracestate")));
        let parent = from_meta.or_else(|| {
            header("traceparent").and_then(|tp| parse_traceparent(tp, header("tracestate")))
        });
        let request_id = header("x-request-id")
            .map(str::trim)
            .filter(|id| {
                !id.is_empty()
                    && id.len() <= MAX_REQUEST_ID
                    && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .map(String::from);
        Incoming { request_id, parent }
    }
}

tokio::task_local! {
    static INCOMING: Incoming;
    static OUTCOME: Cell<&'static str>;
}

/// Runs `call` with `incoming` in reach of [`tool_call`].
pub(crate) async fn with_incoming<F: Future>(incoming: Incoming, call: F) -> F::Output {
    INCOMING.scope(incoming, call).await
}

/// Names the kind of error the current call is answered with (one of [`OUTCOMES`]; anything
/// else counts as `other`). Outside a call it does nothing.
pub(crate) fn outcome(kind: &str) {
    let kind = OUTCOMES
        .iter()
        .find(|k| **k == kind)
        .copied()
        .unwrap_or("other");
    let _ = OUTCOME.try_with(|o| o.set(kind));
}

/// A call's tool and action as the catalog names them (`unknown` for anything else).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Labels {
    tool: &'static str,
    action: &'static str,
}

impl Labels {
    pub(crate) fn of(name: &str, arguments: Option<&JsonObject>) -> Labels {
        let spec = conflux_ops::catalog::tool(name);
        Labels {
            tool: spec.map_or("unknown", |t| t.name),
            action: arguments
                .and_then(|a| a.get("action"))
                .and_then(Value::as_str)
                .and_then(|a| spec.and_then(|t| t.action(a)))
                .map_or("unknown", |a| a.name),
        }
    }
}

/// Runs one tool call inside its span, counts it while it runs, and records how it ended.
pub(crate) async fn tool_call<F>(labels: Labels, call: F) -> Result<CallToolResult, ErrorData>
where
    F: Future<Output = Result<CallToolResult, ErrorData>>,
{
    let Labels { tool, action } = labels;
    let incoming = INCOMING.try_with(Incoming::clone).unwrap_or_default();
    let request_id = incoming.request_id.unwrap_or_else(new_request_id);
    let span = tracing::info_span!(
        "tool_call",
        otel.name = %format_args!("tools/call {tool}.{action}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        request_id = %request_id,
        tool,
        action,
        outcome = tracing::field::Empty,
    );
    if let Some(parent) = incoming.parent {
        // Without an OpenTelemetry layer installed there is nothing to attach it to.
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent));
    }
    let _counted = InFlight::enter();
    let started = Instant::now();
    let (result, recorded) = OUTCOME
        .scope(Cell::new("other"), async {
            let result = call.await;
            (result, OUTCOME.with(Cell::get))
        })
        .instrument(span.clone())
        .await;
    let outcome = match &result {
        Ok(r) if r.is_error != Some(true) => "ok",
        Ok(_) => recorded,
        Err(_) => "protocol_error",
    };
    let elapsed = started.elapsed();
    metrics::counter!(TOOL_CALLS, "tool" => tool, "action" => action, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(TOOL_CALL_DURATION, "tool" => tool, "action" => action)
        .record(elapsed.as_secs_f64());
    span.record("outcome", outcome);
    if outcome != "ok" {
        span.record("otel.status_code", "ERROR");
    }
    span.in_scope(|| {
        tracing::info!(
            request_id = %request_id,
            tool,
            action,
            outcome,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "tool call"
        );
    });
    result
}

/// 16 hex digits, unique enough to find a call's log lines.
fn new_request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A W3C `traceparent` (`00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`; later
/// versions may append fields) as a remote span context; `None` when it is malformed, as the
/// Trace Context specification says to treat it.
fn parse_traceparent(value: &str, tracestate: Option<&str>) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let (version, trace_id, parent_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let lower_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !lower_hex(version, 2) || version == "ff" || (version == "00" && parts.next().is_some()) {
        return None;
    }
    if !lower_hex(trace_id, 32) || !lower_hex(parent_id, 16) || !lower_hex(flags, 2) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(parent_id).ok()?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let state = tracestate
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    Some(SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags & TraceFlags::SAMPLED.to_u8()),
        true,
        state,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn traceparents_parse_or_are_ignored() {
        let sc = parse_traceparent(TP, Some("vendor=value")).unwrap();
        assert_eq!(
            sc.trace_id(),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(sc.span_id(), SpanId::from_hex("00f067aa0ba902b7").unwrap());
        assert!(sc.is_sampled() && sc.is_remote());
        assert_eq!(sc.trace_state().get("vendor"), Some("value"));
        // A later version may carry more fields.
        assert!(
            parse_traceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x",
                None
            )
            .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert!(parse_traceparent(bad, None).is_none(), "{bad}");
        }
    }

    #[test]
    fn meta_wins_over_the_header_and_request_ids_are_bounded() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-11111111111111111111111111111111-2222222222222222-01"
                .parse()
                .unwrap(),
        );
        headers.insert("x-request-id", "abc-123".parse().unwrap());
        let mut meta = JsonObject::new();
        meta.insert("traceparent".into(), TP.into());
        let both = Incoming::of(Some(&headers), &[&meta]);
        assert_eq!(
            both.parent.unwrap().trace_id(),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap()
        );
        assert_eq!(both.request_id.as_deref(), Some("abc-123"));
        let header_only = Incoming::of(Some(&headers), &[]);
        assert_eq!(
            header_only.parent.unwrap().trace_id(),
            TraceId::from_hex("11111111111111111111111111111111").unwrap()
        );
        headers.insert("x-request-id", "x".repeat(65).parse().unwrap());
        assert_eq!(Incoming::of(Some(&headers), &[]).request_id, None);
        headers.insert("x-request-id", "has space".parse().unwrap());
        assert_eq!(Incoming::of(Some(&headers), &[]).request_id, None);
    }

    #[test]
    fn unknown_outcomes_count_as_other() {
        assert!(OUTCOMES.contains(&"ok"));
        let seen = futures::executor::block_on(OUTCOME.scope(Cell::new("ok"), async {
            outcome("something new");
            OUTCOME.with(Cell::get)
        }));
        assert_eq!(seen, "other");
    }
}
