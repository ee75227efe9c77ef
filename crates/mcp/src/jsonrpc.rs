//! Every incoming message gets an answer: the check both transports run before rmcp sees a
//! message. What does not parse is answered with a JSON-RPC parse error (-32700), valid JSON
//! that is not a JSON-RPC 2.0 message with an invalid-request error (-32600), a message over
//! [`MAX_MESSAGE_BYTES`] with an invalid-request error that names the limit. rmcp itself drops
//! unparsable stdio input without a word and answers HTTP with plain text; this module answers
//! in JSON-RPC, with the request's id when it can be read and `null` otherwise.

use std::time::{Duration, Instant};

use rmcp::model::{ClientJsonRpcMessage, ClientRequest, GetMeta as _, ProtocolVersion, RequestId};
use serde_json::{Map, Value, json};

/// The largest message either transport accepts: one line over stdio, one request body over
/// HTTP (4 MiB, rmcp's own HTTP limit; rmcp's stdio limit is 16 MiB, which this lowers).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// JSON-RPC 2.0: the message is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC 2.0: the JSON is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC 2.0: a request's parameters do not fit its method.
pub const INVALID_PARAMS: i64 = -32602;
/// JSON-RPC 2.0's range for server errors: the server holds too much to take this now.
pub const SERVER_BUSY: i64 = -32000;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What to do with one incoming message.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A message rmcp can take.
    Message(Box<ClientJsonRpcMessage>),
    /// Refused: `answer` is the JSON-RPC error to send back.
    Refused(Refusal),
}

/// A refused message and the error that answers it.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) id: Option<RequestId>,
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
    /// JSON-RPC forbids answering it (a well-formed notification or response that rmcp cannot
    /// take): over stdio it is dropped with a log line; HTTP must still answer the POST.
    pub(crate) silent: bool,
}

impl Refusal {
    fn new(code: i64, message: impl Into<String>) -> Refusal {
        Refusal {
            id: None,
            code,
            message: message.into(),
            data: None,
            silent: false,
        }
    }

    fn with_id(mut self, id: Option<RequestId>) -> Refusal {
        self.id = id;
        self
    }

    /// A message that could not be read at all.
    pub(crate) fn unreadable(message: String) -> Refusal {
        Refusal::new(PARSE_ERROR, message)
    }

    /// A server error (-32000) answering the request `id`: the server cannot take it now.
    pub(crate) fn server_busy(id: Option<RequestId>, message: String) -> Refusal {
        Refusal::new(SERVER_BUSY, message).with_id(id)
    }

    /// The refusal of a message of `len` bytes, over the limit.
    pub(crate) fn oversized(len: Option<usize>) -> Refusal {
        let size = match len {
            Some(n) => format!("{n} bytes"),
            None => format!("over {MAX_MESSAGE_BYTES} bytes"),
        };
        let mut data = json!({ "limit": MAX_MESSAGE_BYTES });
        if let Some(n) = len {
            data["size"] = json!(n);
        }
        Refusal {
            data: Some(data),
            ..Refusal::new(
                INVALID_REQUEST,
                format!(
                    "Invalid Request: the message is {size}; Conflux accepts messages of at most \
                     {MAX_MESSAGE_BYTES} bytes (4 MiB); send a large page in parts \
                     (pages.create, then pages.updateSection)"
                ),
            )
        }
    }

    /// The JSON-RPC error object, with `"id": null` when the id could not be read.
    pub(crate) fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if let Some(d) = &self.data {
            error.insert("data".into(), d.clone());
        }
        let id = match &self.id {
            Some(id) => id.clone().into_json_value(),
            None => Value::Null,
        };
        json!({ "jsonrpc": "2.0", "id": id, "error": error })
    }

    /// The error as one line of newline-delimited JSON.
    pub(crate) fn to_line(&self) -> Vec<u8> {
        let mut line = self.to_json().to_string().into_bytes();
        line.push(b'\n');
        line
    }
}

/// Checks one message (a stdio line without its newline, or an HTTP body).
pub(crate) fn classify(bytes: &[u8]) -> Incoming {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Incoming::Refused(Refusal::new(
                PARSE_ERROR,
                format!(
                    "Parse error: the message is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            ));
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Refused(Refusal::new(
                PARSE_ERROR,
                format!("Parse error: the message is not JSON ({e})"),
            ));
        }
    };
    let object = match value {
        Value::Object(o) => o,
        Value::Array(a) if a.is_empty() => {
            return Incoming::Refused(Refusal::new(
                INVALID_REQUEST,
                "Invalid Request: an empty array is not a JSON-RPC message",
            ));
        }
        Value::Array(_) => {
            return Incoming::Refused(Refusal::new(
                INVALID_REQUEST,
                "Invalid Request: JSON-RPC batches are not supported (MCP removed them in \
                 2025-06-18); send one message at a time",
            ));
        }
        other => {
            return Incoming::Refused(Refusal::new(
                INVALID_REQUEST,
                format!(
                    "Invalid Request: a JSON-RPC message is an object, not {}",
                    kind_of(&other)
                ),
            ));
        }
    };
    // The id, when it is one a response can carry.
    let id = match object.get("id") {
        Some(Value::String(s)) => Some(RequestId::String(s.as_str().into())),
        Some(Value::Number(n)) => n.as_i64().map(RequestId::Number),
        _ => None,
    };
    let has = |k: &str| object.contains_key(k);
    // A response (or an error) is never answered, however malformed: answering the peer's
    // error with an error is how two peers start an endless echo.
    let is_response = !has("method") && (has("result") || has("error"));
    let invalid = |message: String| {
        Incoming::Refused(Refusal {
            silent: is_response,
            ..Refusal::new(INVALID_REQUEST, message).with_id(id.clone())
        })
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(match object.get("jsonrpc") {
            None => "Invalid Request: `jsonrpc` is missing; it must be \"2.0\"".into(),
            Some(v) => format!("Invalid Request: `jsonrpc` must be \"2.0\" (got {v})"),
        });
    }
    if let Some(raw) = object.get("id")
        && id.is_none()
    {
        return invalid(format!(
            "Invalid Request: `id` must be a string or an integer (got {raw})"
        ));
    }
    let kind = match object.get("method") {
        Some(Value::String(_)) if has("result") || has("error") => {
            return invalid(
                "Invalid Request: a message has either `method` or `result`/`error`, not both"
                    .into(),
            );
        }
        Some(Value::String(_)) => {
            if let Some(p) = object.get("params")
                && !p.is_object()
            {
                return invalid(format!(
                    "Invalid Request: `params` must be an object (got {})",
                    kind_of(p)
                ));
            }
            if id.is_some() {
                Kind::Request
            } else {
                Kind::Notification
            }
        }
        Some(other) => {
            return invalid(format!(
                "Invalid Request: `method` must be a string (got {})",
                kind_of(other)
            ));
        }
        None if has("result") == has("error") => {
            return invalid(
                "Invalid Request: the message has no `method`, and a response has exactly one \
                 of `result` and `error`"
                    .into(),
            );
        }
        None if id.is_none() && has("result") => {
            return invalid("Invalid Request: a response needs the `id` it answers".into());
        }
        None => Kind::Response,
    };
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(object)) {
        // rmcp takes a standard method whose params do not fit it as a custom request, which
        // the handler would answer "method not found": say what is wrong instead.
        Ok(message) => match misfit_params(&message) {
            Some(refusal) => Incoming::Refused(refusal),
            None => Incoming::Message(Box::new(message)),
        },
        Err(e) => {
            let refusal = match kind {
                Kind::Request => Refusal::new(
                    INVALID_PARAMS,
                    format!("Invalid params for `{method}`: {e}"),
                ),
                Kind::Notification => Refusal {
                    silent: true,
                    ..Refusal::new(
                        INVALID_PARAMS,
                        format!("Invalid params for notification `{method}`: {e}"),
                    )
                },
                Kind::Response => Refusal {
                    silent: true,
                    ..Refusal::new(
                        INVALID_REQUEST,
                        format!("Invalid Request: a response this server cannot read: {e}"),
                    )
                },
            };
            Incoming::Refused(refusal.with_id(id))
        }
    }
}

/// The refusal of a request rmcp took as custom although its method is a standard one.
fn misfit_params(message: &ClientJsonRpcMessage) -> Option<Refusal> {
    let ClientJsonRpcMessage::Request(req) = message else {
        return None;
    };
    let ClientRequest::CustomRequest(custom) = &req.request else {
        return None;
    };
    let why = params_error(&custom.method, custom.params.as_ref())?;
    Some(
        Refusal::new(
            INVALID_PARAMS,
            format!("Invalid params for `{}`: {why}", custom.method),
        )
        .with_id(Some(req.id.clone())),
    )
}

/// Why `params` do not fit the standard client request `method` (`None`: they do, or the
/// method is not one of those checked here).
fn params_error(method: &str, params: Option<&Value>) -> Option<String> {
    use rmcp::model as m;
    fn check<T: serde::de::DeserializeOwned>(request: Value) -> Option<String> {
        serde_json::from_value::<T>(request)
            .err()
            .map(|e| e.to_string())
    }
    let mut request = Map::new();
    request.insert("method".into(), json!(method));
    if let Some(p) = params {
        request.insert("params".into(), p.clone());
    }
    let request = Value::Object(request);
    match method {
        "initialize" => check::<m::InitializeRequest>(request),
        "ping" => check::<m::PingRequest>(request),
        "server/discover" => check::<m::DiscoverRequest>(request),
        "tools/list" => check::<m::ListToolsRequest>(request),
        "tools/call" => check::<m::CallToolRequest>(request),
        "resources/list" => check::<m::ListResourcesRequest>(request),
        "resources/templates/list" => check::<m::ListResourceTemplatesRequest>(request),
        "resources/read" => check::<m::ReadResourceRequest>(request),
        "prompts/list" => check::<m::ListPromptsRequest>(request),
        "prompts/get" => check::<m::GetPromptRequest>(request),
        "completion/complete" => check::<m::CompleteRequest>(request),
        _ => None,
    }
}

enum Kind {
    Request,
    Notification,
    Response,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether rmcp leaves its handshake on this request: `initialize`, or (from 2026-07-28 on) a
/// request carrying the whole per-request metadata. Before that rmcp ends the session on any
/// message that is not a request, so the stdio transport holds those back.
pub(crate) fn starts_lifecycle(message: &ClientJsonRpcMessage) -> bool {
    let ClientJsonRpcMessage::Request(req) = message else {
        return false;
    };
    match &req.request {
        ClientRequest::InitializeRequest(_) => true,
        ClientRequest::PingRequest(_) | ClientRequest::DiscoverRequest(_) => false,
        other => {
            let meta = other.get_meta();
            meta.missing_required_keys(&ProtocolVersion::V_2026_07_28)
                .is_empty()
                && meta
                    .protocol_version()
                    .is_some_and(|v| ProtocolVersion::KNOWN_VERSIONS.contains(&v))
        }
    }
}

/// At most [`ErrorReplies::PER_SECOND`] error replies a second over stdio; past that, refused
/// lines are dropped and one log line says how many. Two peers that answer each other's
/// errors would otherwise echo them forever (the reason rmcp answers none).
#[derive(Debug)]
pub(crate) struct ErrorReplies {
    window: Option<Instant>,
    sent: u32,
    dropped: u64,
}

impl ErrorReplies {
    pub(crate) const PER_SECOND: u32 = 20;

    pub(crate) fn new() -> ErrorReplies {
        ErrorReplies {
            window: None,
            sent: 0,
            dropped: 0,
        }
    }

    /// Whether an error reply may be sent at `now`; logs once per window when one may not.
    pub(crate) fn allow(&mut self, now: Instant) -> bool {
        let fresh = self
            .window
            .is_none_or(|start| now.saturating_duration_since(start) >= Duration::from_secs(1));
        if fresh {
            if self.dropped > 0 {
                tracing::warn!(
                    dropped = self.dropped,
                    "stdio: {} refused messages were not answered (error replies are limited \
                     to {} a second)",
                    self.dropped,
                    Self::PER_SECOND
                );
            }
            self.window = Some(now);
            self.sent = 0;
            self.dropped = 0;
        }
        if self.sent < Self::PER_SECOND {
            self.sent += 1;
            return true;
        }
        if self.dropped == 0 {
            tracing::warn!(
                "stdio: more than {} refused messages in a second; the rest of this second's \
                 go unanswered",
                Self::PER_SECOND
            );
        }
        self.dropped += 1;
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn refusal(input: &[u8]) -> Refusal {
        match classify(input) {
            Incoming::Refused(r) => r,
            Incoming::Message(m) => panic!("{input:?} was taken: {m:?}"),
        }
    }

    #[test]
    fn what_does_not_parse_is_a_parse_error_with_a_null_id() {
        for input in [
            &b"\xff\xfe{}"[..],
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"",
            br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\ud800"}}"#,
            b"garbage",
            b"",
            b"{\"a\":1}}",
            "[".repeat(100_000).as_bytes(),
        ] {
            let r = refusal(input);
            assert_eq!(r.code, PARSE_ERROR, "{input:?}: {}", r.message);
            assert!(!r.silent);
            assert_eq!(r.to_json()["id"], Value::Null);
            assert!(r.to_json().as_object().unwrap().contains_key("id"));
        }
    }

    #[test]
    fn json_that_is_not_json_rpc_is_an_invalid_request_with_its_id() {
        let cases: &[(&str, Value)] = &[
            (r#"{"id":1,"method":"ping"}"#, json!(1)),
            (r#"{"jsonrpc":"1.0","id":"a","method":"ping"}"#, json!("a")),
            (r#"{"jsonrpc":"2.0","id":7,"method":5}"#, json!(7)),
            (
                r#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#,
                Value::Null,
            ),
            (r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, Value::Null),
            (
                r#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}"#,
                json!(2),
            ),
            (r#"{"jsonrpc":"2.0","id":3}"#, json!(3)),
            (
                r#"{"jsonrpc":"2.0","id":4,"method":"ping","result":{}}"#,
                json!(4),
            ),
            ("[]", Value::Null),
            (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, Value::Null),
            ("42", Value::Null),
            ("null", Value::Null),
        ];
        for (input, id) in cases {
            let r = refusal(input.as_bytes());
            assert_eq!(r.code, INVALID_REQUEST, "{input}: {}", r.message);
            assert!(!r.silent, "{input}");
            assert_eq!(&r.to_json()["id"], id, "{input}");
        }
    }

    #[test]
    fn well_formed_messages_pass_and_a_bom_is_skipped() {
        for input in [
            &br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#[..],
            b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/list\"}",
            br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            br#"{"jsonrpc":"2.0","id":9,"method":"no/such/method","params":{}}"#,
        ] {
            assert!(
                matches!(classify(input), Incoming::Message(_)),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn responses_are_never_answered() {
        for input in [
            r#"{"jsonrpc":"2.0","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#,
            r#"{"id":1,"error":{"code":1,"message":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":"not an object"}"#,
        ] {
            match classify(input.as_bytes()) {
                Incoming::Refused(r) => assert!(r.silent, "{input}: {}", r.message),
                Incoming::Message(_) => {}
            }
        }
    }

    #[test]
    fn bad_params_of_a_known_method_keep_the_id() {
        let r = refusal(br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":5}}"#);
        assert_eq!(r.code, INVALID_PARAMS, "{}", r.message);
        assert_eq!(r.to_json()["id"], json!(5));
        assert!(!r.silent);
    }

    #[test]
    fn oversized_names_the_limit() {
        let r = Refusal::oversized(Some(MAX_MESSAGE_BYTES + 1));
        assert_eq!(r.code, INVALID_REQUEST);
        assert!(r.message.contains("4194304"), "{}", r.message);
        assert_eq!(
            r.to_json()["error"]["data"]["limit"],
            json!(MAX_MESSAGE_BYTES)
        );
        assert_eq!(r.to_line().last(), Some(&b'\n'));
    }

    #[test]
    fn error_replies_are_limited_per_second() {
        let mut limit = ErrorReplies::new();
        let t0 = Instant::now();
        let allowed = (0..100).filter(|_| limit.allow(t0)).count();
        assert_eq!(allowed, ErrorReplies::PER_SECOND as usize);
        assert!(!limit.allow(t0 + Duration::from_millis(999)));
        assert!(limit.allow(t0 + Duration::from_secs(1)));
    }
}
