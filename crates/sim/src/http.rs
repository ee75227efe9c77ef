//! Requests, responses and the two error dialects (v1 and v2) the simulator speaks.

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

pub(crate) type Resp = http::Response<Full<Bytes>>;

/// Which listener a request came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Face {
    Site,
    Gateway,
    Identity,
    Admin,
}

impl Face {
    pub fn name(self) -> &'static str {
        match self {
            Face::Site => "site",
            Face::Gateway => "gateway",
            Face::Identity => "identity",
            Face::Admin => "admin",
        }
    }
}

/// A fully read request. `path` is the API path (the gateway's `/ex/confluence/{cloudId}` prefix
/// removed); `prefix` is what was removed, so redirects can put it back.
#[derive(Debug)]
pub(crate) struct Req {
    pub face: Face,
    pub method: Method,
    pub path: String,
    pub prefix: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeated or comma-separated parameter (`ids=1,2&ids=3`).
    pub fn q_list(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    pub fn q_bool(&self, name: &str) -> bool {
        self.q(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn is_v2(&self) -> bool {
        self.path.starts_with("/wiki/api/v2/")
    }
}

pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

pub(crate) fn encode_query(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub(crate) fn json_resp(status: u16, body: &Value) -> Resp {
    let mut r = http::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn ok(body: Value) -> Resp {
    json_resp(200, &body)
}

pub(crate) fn bytes_resp(status: u16, content_type: &str, body: Vec<u8>) -> Resp {
    let mut r = http::Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

pub(crate) fn html(status: u16, body: String) -> Resp {
    bytes_resp(status, "text/html; charset=utf-8", body.into_bytes())
}

pub(crate) fn empty(status: u16) -> Resp {
    bytes_resp(status, "text/plain", Vec::new())
}

pub(crate) fn redirect(location: &str) -> Resp {
    let mut r = empty(302);
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(crate) fn set_header(r: &mut Resp, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn v2_code(status: u16) -> String {
    reason(status).to_ascii_uppercase().replace([' ', '-'], "_")
}

/// An API error; rendered in the dialect of the path it answers (v1 or v2).
#[derive(Debug)]
pub(crate) enum ApiErr {
    Status(u16, String),
    /// Exactly Atlassian's gateway answer to a token without the operation's scope.
    ScopeMismatch,
}

pub(crate) type ApiResult = Result<Resp, ApiErr>;

pub(crate) fn err<T>(status: u16, msg: impl Into<String>) -> Result<T, ApiErr> {
    Err(ApiErr::Status(status, msg.into()))
}

pub(crate) fn not_found<T>() -> Result<T, ApiErr> {
    err(
        404,
        "The requested content was not found or you do not have permission to view it.",
    )
}

impl ApiErr {
    pub fn into_resp(self, v2: bool) -> Resp {
        match self {
            ApiErr::ScopeMismatch => scope_mismatch(),
            ApiErr::Status(s, m) if v2 => v2_error(s, Some(&m)),
            ApiErr::Status(s, m) => v1_error(s, &m),
        }
    }
}

pub(crate) fn scope_mismatch() -> Resp {
    let mut r = json_resp(
        401,
        &json!({"code": 401, "message": "Unauthorized; scope does not match"}),
    );
    set_header(&mut r, "x-failure-category", "FAILURE_CLIENT_SCOPE_CHECK");
    r
}

pub(crate) fn v2_error(status: u16, detail: Option<&str>) -> Resp {
    json_resp(
        status,
        &json!({"errors": [{
            "status": status,
            "code": v2_code(status),
            "title": reason(status),
            "detail": detail,
        }]}),
    )
}

pub(crate) fn v1_error(status: u16, message: &str) -> Resp {
    json_resp(
        status,
        &json!({
            "statusCode": status,
            "data": {
                "authorized": status != 401 && status != 403,
                "valid": status != 400,
                "errors": [],
                "successful": false,
            },
            "message": message,
            "reason": reason(status),
        }),
    )
}

/// v2 `limit`: default 25, values above 250 clamped, below 1 refused.
pub(crate) fn v2_limit(req: &Req) -> Result<usize, ApiErr> {
    limit(req, 25, 250)
}

pub(crate) fn limit(req: &Req, default: usize, max: usize) -> Result<usize, ApiErr> {
    match req.q("limit") {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => Ok((n as usize).min(max)),
            _ => err(
                400,
                format!("Invalid value for limit: {v:?}; it must be an integer from 1 to {max}."),
            ),
        },
    }
}

const CURSOR_PREFIX: &str = "sim-offset:";

pub(crate) fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<usize, ApiErr> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix(CURSOR_PREFIX).and_then(|n| n.parse().ok()))
        .map_or_else(
            || err(400, "Invalid cursor: it is not a cursor this API returned."),
            Ok,
        )
}

/// One page of a v2 list: `{results, _links: {next?, base}}` plus the `Link` header, as Cloud
/// does. `next` is relative to the site (`/wiki/api/v2/...`), keeping every query parameter.
pub(crate) fn v2_page(req: &Req, site_url: &str, items: Vec<Value>) -> ApiResult {
    let limit = v2_limit(req)?;
    let start = match req.q("cursor") {
        Some(c) if !c.is_empty() => decode_cursor(c)?,
        _ => 0,
    };
    let total = items.len();
    let results: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let mut links = json!({"base": format!("{site_url}/wiki")});
    let next = (start + limit < total).then(|| {
        let mut q: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        q.push(("cursor".into(), encode_cursor(start + limit)));
        format!("{}?{}", req.path, encode_query(&q))
    });
    if let Some(n) = &next {
        links["next"] = json!(n);
    }
    let mut r = ok(json!({"results": results, "_links": links}));
    if let Some(n) = next {
        set_header(&mut r, "link", &format!("<{n}>; rel=\"next\""));
    }
    Ok(r)
}

/// One page of a v1 list: `{results, start, limit, size, _links: {next?, base, context}}`.
pub(crate) fn v1_page(req: &Req, site_url: &str, items: Vec<Value>, extra: Value) -> ApiResult {
    v1_page_with(req, site_url, items, extra, 25, 250)
}

/// [`v1_page`] with the endpoint's own default and largest `limit`.
pub(crate) fn v1_page_with(
    req: &Req,
    site_url: &str,
    items: Vec<Value>,
    extra: Value,
    default_limit: usize,
    max_limit: usize,
) -> ApiResult {
    let limit = limit(req, default_limit, max_limit)?;
    let start = match req.q("start") {
        None | Some("") => 0,
        Some(v) => match v.parse::<usize>() {
            Ok(n) => n,
            Err(_) => return err(400, format!("Invalid value for start: {v:?}")),
        },
    };
    let total = items.len();
    let results: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let size = results.len();
    let mut links = json!({"base": format!("{site_url}/wiki"), "context": "/wiki"});
    if start + limit < total {
        let mut q: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "start" && k != "limit")
            .cloned()
            .collect();
        q.push(("limit".into(), limit.to_string()));
        q.push(("start".into(), (start + limit).to_string()));
        links["next"] = json!(format!(
            "{}?{}",
            req.path.trim_start_matches("/wiki"),
            encode_query(&q)
        ));
    }
    let mut body =
        json!({"results": results, "start": start, "limit": limit, "size": size, "_links": links});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    Ok(ok(body))
}

/// Reads a JSON request body; a v2 400 names what is wrong.
pub(crate) fn json_body(req: &Req) -> Result<Value, ApiErr> {
    if req.body.is_empty() {
        return err(400, "The request body is missing; send a JSON object.");
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => err(400, "The request body must be a JSON object."),
        Err(e) => err(400, format!("The request body is not valid JSON: {e}")),
    }
}

pub(crate) fn str_field<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiErr> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        None | Some(Value::Null) => err(400, format!("The field '{field}' is required.")),
        Some(Value::String(_)) => err(400, format!("The field '{field}' must not be empty.")),
        Some(_) => err(400, format!("The field '{field}' must be a string.")),
    }
}

/// An id field that Cloud accepts as a string or a number.
pub(crate) fn id_field(body: &Value, field: &str) -> Result<Option<String>, ApiErr> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => err(400, format!("The field '{field}' must be an id (string).")),
    }
}

/// `version.number` of an update body (required, an integer).
pub(crate) fn version_number(body: &Value) -> Result<i64, ApiErr> {
    body.get("version")
        .and_then(|v| v.get("number"))
        .and_then(Value::as_i64)
        .ok_or(ApiErr::Status(
            400,
            "The field 'version.number' is required (an integer).".into(),
        ))
}

/// `version.message` of an update body (empty when absent).
pub(crate) fn version_message(body: &Value) -> String {
    body.get("version")
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}
