//! Sending one operation: URL from the route and the path template, the auth header,
//! retries that honour `Retry-After`, OAuth refresh when the stored expiry has passed, and
//! classification of every refusal into a [`ClientError`].

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use conflux_catalog::{Method, Operation, ScopeSet, Verdict};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use crate::Client;
use crate::credential::Credential;
use crate::error::{AuthFailure, ClientError, Result, kind_name};
use crate::observe::{self, Retry};
use crate::retry::{self, Backoff};
use crate::route::Route;

/// A request body.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    None,
    Json(serde_json::Value),
    /// One file as `multipart/form-data` field `file` (v1 attachment upload).
    File {
        file_name: String,
        media_type: String,
        bytes: Bytes,
        comment: Option<String>,
    },
}

/// One call: the operation, its path parameters, the query.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub op: Operation,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Body,
}

impl Call {
    /// Fills the operation's path template; every `{name}` must have a value.
    pub fn new(op: Operation, params: &[(&str, &str)]) -> Result<Call> {
        let mut path = op.path().to_string();
        for (name, value) in params {
            if value.is_empty() {
                return Err(ClientError::InvalidInput(format!(
                    "`{name}` must not be empty"
                )));
            }
            // Never a path of its own: `..` would climb out of the operation's path.
            if matches!(*value, "." | "..") || value.contains(['/', '\\']) {
                return Err(ClientError::InvalidInput(format!(
                    "`{name}` `{value}` is not an id"
                )));
            }
            let encoded =
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            path = path.replace(&format!("{{{name}}}"), &encoded);
        }
        if path.contains('{') {
            return Err(ClientError::InvalidInput(format!(
                "missing path parameter for {} ({path})",
                op.operation_id()
            )));
        }
        Ok(Call {
            op,
            path,
            query: Vec::new(),
            body: Body::None,
        })
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Body::Json(body);
        self
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Bytes,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.bytes).map_err(|e| ClientError::Decode {
            status: self.status,
            excerpt: format!("{e}; body starts {:?}", excerpt(&self.bytes)),
        })
    }
}

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}

fn to_reqwest_method(m: Method) -> reqwest::Method {
    match m {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// 5xx and lost connections are retried only where repeating cannot duplicate a write:
/// reads, and PUT/DELETE, which Confluence makes idempotent (a repeated versioned PUT gets 409).
fn may_repeat(m: Method) -> bool {
    !matches!(m, Method::Post)
}

impl Client {
    /// Sends `call` with retries and returns the successful answer or a classified error.
    pub(crate) async fn send(&self, call: &Call) -> Result<Response> {
        let route = self.route();
        self.send_to(call, &format!("{}{}", route.root(), call.path), &route)
            .await
    }

    /// Sends `call` to an explicit URL (pagination links) with the same handling. Its span,
    /// `confluence_request`, is a child of the tool call that made it (OpenTelemetry: a client
    /// span named after the method and path template).
    #[tracing::instrument(
        name = "confluence_request",
        skip_all,
        fields(
            op = call.op.operation_id(),
            route = route.name(),
            otel.kind = "client",
            otel.name = %format_args!("{} {}", call.op.method().as_str(), call.op.path()),
            otel.status_code = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            attempts = tracing::field::Empty,
        )
    )]
    pub(crate) async fn send_to(&self, call: &Call, url: &str, route: &Route) -> Result<Response> {
        let result = self.attempts(call, url, route).await;
        if result.is_err() {
            tracing::Span::current().record("otel.status_code", "ERROR");
        }
        result
    }

    /// [`Client::send_attempts`] as a boxed future made here: the body of an `async fn` is
    /// compiled again in every crate that awaits it, even through other `async fn`s (this
    /// loop had four copies in the binary, docs/mcp.md).
    #[inline(never)]
    fn attempts<'a>(
        &'a self,
        call: &'a Call,
        url: &'a str,
        route: &'a Route,
    ) -> futures::future::BoxFuture<'a, Result<Response>> {
        Box::pin(self.send_attempts(call, url, route))
    }

    async fn send_attempts(&self, call: &Call, url: &str, route: &Route) -> Result<Response> {
        let method = call.op.method();
        let mut refreshed = false;
        let mut backoff = Backoff::new(&self.inner.config.retry);
        let gate = retry::gate_key(url);
        let span = tracing::Span::current();
        loop {
            let attempt = backoff.attempt();
            span.record("attempts", attempt);
            self.refresh_if_stale(false).await?;
            let credential = self.credential();
            let mut req = self
                .inner
                .http
                .request(to_reqwest_method(method), url)
                .query(&call.query)
                .header(reqwest::header::ACCEPT, "application/json");
            let mut auth = HeaderValue::from_str(&credential.authorization()).map_err(|_| {
                ClientError::Config(
                    "the credential contains characters that cannot be sent in a header".into(),
                )
            })?;
            auth.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, auth);
            req = match &call.body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::File {
                    file_name,
                    media_type,
                    bytes,
                    comment,
                } => {
                    let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                        .file_name(file_name.clone())
                        .mime_str(media_type)
                        .map_err(|e| {
                            ClientError::InvalidInput(format!("media type `{media_type}`: {e}"))
                        })?;
                    let mut form = reqwest::multipart::Form::new().part("file", part);
                    if let Some(c) = comment {
                        form = form.text("comment", c.clone());
                    }
                    req.header("X-Atlassian-Token", "no-check").multipart(form)
                }
            };
            let req = req.build().map_err(|e| build_error(&e))?;
            self.check_url_length(&req)?;
            retry::pass(&gate).await;
            let started = std::time::Instant::now();
            let resp = match self.inner.http.execute(req).await {
                Ok(r) => r,
                Err(e) => {
                    observe::unanswered(call.op, started.elapsed());
                    if e.is_builder() {
                        return Err(build_error(&e));
                    }
                    let may_have_been_sent = !e.is_connect();
                    let message = if e.is_timeout() {
                        "timed out".to_string()
                    } else {
                        e.without_url().to_string()
                    };
                    if (may_repeat(method) || !may_have_been_sent)
                        && let Some(wait) = backoff.next_wait(None)
                    {
                        tracing::debug!(attempt, %message, "request failed; retrying");
                        observe::retry(call.op, Retry::Transport, wait);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ClientError::Transport {
                        message,
                        may_have_been_sent,
                    });
                }
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    observe::unanswered(call.op, started.elapsed());
                    if may_repeat(method)
                        && let Some(wait) = backoff.next_wait(None)
                    {
                        observe::retry(call.op, Retry::Transport, wait);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ClientError::Transport {
                        message: e.without_url().to_string(),
                        may_have_been_sent: true,
                    });
                }
            };
            observe::answered(call.op, status, started.elapsed(), &headers);
            span.record("http.response.status_code", status);
            tracing::debug!(
                status,
                ms = started.elapsed().as_millis() as u64,
                attempt,
                "response"
            );
            if (200..400).contains(&status) {
                return Ok(Response {
                    status,
                    headers,
                    bytes,
                });
            }
            if status == 429 {
                // A 429 refuses the request before it is applied: every method may repeat.
                let told = retry::told_wait(&headers, backoff.max_retry_after());
                if let Some(wait) = backoff.next_wait(told) {
                    tracing::debug!(?wait, "rate limited; waiting");
                    retry::hold(
                        &gate,
                        told.unwrap_or(wait),
                        wait.saturating_sub(told.unwrap_or_default()),
                    );
                    observe::retry(call.op, Retry::RateLimited, wait);
                    retry::pass(&gate).await;
                    continue;
                }
                return Err(ClientError::RateLimited {
                    retry_after: told,
                    attempts: attempt,
                });
            }
            if status >= 500 && may_repeat(method) {
                let told = retry::retry_after(&headers, backoff.max_retry_after());
                if let Some(wait) = backoff.next_wait(told) {
                    observe::retry(call.op, Retry::ServerError, wait);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if status == 414 || status == 431 {
                return Err(ClientError::UrlTooLong {
                    length: url_length(url, &call.query),
                    limit: None,
                });
            }
            // An expired OAuth token on the gateway has been seen to answer 404 (v2) or 403
            // (v1) instead of 401: when the stored expiry says the token is stale, refresh once.
            if !refreshed && matches!(status, 401 | 403 | 404) && self.oauth_is_stale() {
                refreshed = true;
                if self.refresh_if_stale(true).await? {
                    continue;
                }
            }
            let error = self.classify(call.op, status, &headers, &bytes, &credential);
            let error = self.dead_bearer(error, &credential).await;
            return Err(self.narrow_missing(error, route).await);
        }
    }

    /// Refuses, before sending, a URL longer than the configured limit: Confluence documents
    /// no CQL length limit, the real one is the URL its front end accepts.
    fn check_url_length(&self, req: &reqwest::Request) -> Result<()> {
        let length = req.url().as_str().len();
        match self.inner.config.max_url_length {
            Some(limit) if length > limit => Err(ClientError::UrlTooLong {
                length,
                limit: Some(limit),
            }),
            _ => Ok(()),
        }
    }

    /// A Bearer token that has expired or been revoked has been seen to answer 404 (v2) and
    /// 403 (v1) through the gateway instead of 401 (FACTS 22b): a 403 or 404 for a Bearer
    /// token is checked against accessible-resources, which needs no scope, and becomes the
    /// refusal of the token when that answers 401. Only on these refusals, never on success.
    async fn dead_bearer(&self, error: ClientError, credential: &Credential) -> ClientError {
        if !matches!(
            error,
            ClientError::NotFound { .. } | ClientError::Forbidden { .. }
        ) {
            return error;
        }
        let (bearer, stale) = match credential {
            Credential::OAuth(t) => (
                t.access.expose(),
                t.is_stale(SystemTime::now(), Duration::ZERO),
            ),
            Credential::AccessToken(t) => (t.token.expose(), false),
            _ => return error,
        };
        match crate::probe::accessible_resources(
            &self.inner.http,
            &self.inner.config.retry,
            &self.inner.config.endpoints.gateway,
            bearer,
        )
        .await
        {
            Err(ClientError::Unauthorized { .. }) => ClientError::Unauthorized {
                credential: credential.kind(),
                reason: if stale {
                    AuthFailure::Expired
                } else {
                    AuthFailure::ExpiredOrRevoked
                },
            },
            _ => error,
        }
    }

    /// When a token of unknown scopes is refused for an operation that needs several, find out
    /// which of them it lacks: each scope has a read that needs it alone (`GET /wiki/api/v2/pages`
    /// for `read:page:confluence`, ...), whose answer proves it held or missing. Reads only, each
    /// asked once per client.
    async fn narrow_missing(&self, error: ClientError, route: &Route) -> ClientError {
        let ClientError::MissingScopes(mut m) = error else {
            return error;
        };
        if m.granted.is_some() || m.missing_granular.is_empty() {
            return ClientError::MissingScopes(m);
        }
        let mut held = ScopeSet::EMPTY;
        let mut settled = 0;
        for scope in m.missing_granular.iter() {
            if let Some(known) = self.known_scope(scope) {
                settled += 1;
                if known {
                    held.insert(scope);
                } else {
                    m.proven_missing.insert(scope);
                }
                continue;
            }
            let Some(witness) = scope_witness(scope) else {
                continue;
            };
            let Ok(answer) = self
                .probe(route, witness, &[], &[("limit", "1")], None)
                .await
            else {
                continue;
            };
            let verdict = if answer.scope_check_failed {
                Some(false)
            } else if answer.status < 300 {
                Some(true)
            } else {
                None
            };
            if let Some(v) = verdict {
                settled += 1;
                self.remember_scope(scope, v);
                if v {
                    held.insert(scope);
                } else {
                    m.proven_missing.insert(scope);
                }
            }
        }
        let narrowed = m.missing_granular.difference(held);
        if settled == m.missing_granular.len() {
            m.exact = true;
            m.refused_despite_scopes = narrowed.is_empty();
        }
        if !narrowed.is_empty() {
            m.missing_granular = narrowed;
        }
        ClientError::MissingScopes(m)
    }

    fn oauth_is_stale(&self) -> bool {
        match self.credential() {
            Credential::OAuth(t) => t.is_stale(SystemTime::now(), self.inner.config.refresh_skew),
            _ => false,
        }
    }

    /// Turns a refusal into the error a caller can act on.
    fn classify(
        &self,
        op: Operation,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
        credential: &Credential,
    ) -> ClientError {
        let message = error_message(body).unwrap_or_else(|| format!("HTTP {status}"));
        let kind = credential.kind();
        match status {
            401 => {
                let scope_check = headers
                    .get("x-failure-category")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.eq_ignore_ascii_case("FAILURE_CLIENT_SCOPE_CHECK"))
                    || message
                        .to_ascii_lowercase()
                        .contains("scope does not match");
                if scope_check {
                    let granted = credential.granted_scopes();
                    if op.check(granted.unwrap_or_default()) == Verdict::NoPublishedScope {
                        return ClientError::NoPublishedScope {
                            operation: op,
                            credential: kind,
                        };
                    }
                    if let Some(g) = granted
                        && let Verdict::Satisfied(k) = op.check(g)
                    {
                        tracing::debug!(
                            via = kind_name(k),
                            "scope check failed although the grant covers the operation"
                        );
                    }
                    return ClientError::missing(op, kind, granted);
                }
                let reason = match credential {
                    Credential::OAuth(t) if t.is_stale(SystemTime::now(), Duration::ZERO) => {
                        AuthFailure::Expired
                    }
                    _ => AuthFailure::Invalid,
                };
                ClientError::Unauthorized {
                    credential: kind,
                    reason,
                }
            }
            403 => ClientError::Forbidden {
                operation: op,
                message,
            },
            404 => ClientError::NotFound {
                operation: op,
                message,
            },
            409 => ClientError::VersionConflict {
                current: current_version(&message),
                message,
            },
            410 => ClientError::Gone { operation: op },
            400 | 413 | 415 | 422 => ClientError::BadRequest {
                operation: op,
                message,
            },
            429 => ClientError::RateLimited {
                retry_after: None,
                attempts: 1,
            },
            s if s >= 500 => ClientError::Upstream { status: s, message },
            s => ClientError::Upstream { status: s, message },
        }
    }
}

/// The human message of a v1 (`message`), v2 (`errors[].title/detail`) or gateway error body.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Some(errors) = v.get("errors").and_then(|e| e.as_array()) {
        let parts: Vec<String> = errors
            .iter()
            .filter_map(|e| {
                let title = e.get("title").and_then(|t| t.as_str());
                let detail = e.get("detail").and_then(|t| t.as_str());
                match (title, detail) {
                    (Some(t), Some(d)) if !d.is_empty() => Some(format!("{t}: {d}")),
                    (Some(t), _) => Some(t.to_string()),
                    (None, Some(d)) => Some(d.to_string()),
                    _ => None,
                }
            })
            .collect();
        if !parts.is_empty() {
            return Some(parts.join("; "));
        }
    }
    for key in ["message", "error_description", "error"] {
        if let Some(m) = v.get(key).and_then(|m| m.as_str()) {
            return Some(m.to_string());
        }
    }
    None
}

/// A request that could not be built names its input, never retried: a URL that does not
/// parse or cannot be carried (hyper refuses URIs past 64 KiB), a header value.
fn build_error(e: &reqwest::Error) -> ClientError {
    let text = std::error::Error::source(e)
        .map(|s| s.to_string())
        .unwrap_or_else(|| e.to_string());
    ClientError::InvalidInput(format!("the request could not be built: {text}"))
}

/// The length of `url` with `query` appended, as it would be sent.
fn url_length(url: &str, query: &[(String, String)]) -> usize {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if !query.is_empty() {
                u.query_pairs_mut().extend_pairs(query);
            }
            u.as_str().len()
        }
        Err(_) => url.len(),
    }
}

/// Pulls "current version N" style numbers out of a conflict message, when Confluence gives one.
fn current_version(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    let idx = lower.find("current version")?;
    lower[idx..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_of_each_shape() {
        assert_eq!(
            error_message(br#"{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found","detail":null}]}"#),
            Some("Not Found".into())
        );
        assert_eq!(
            error_message(br#"{"statusCode":400,"message":"Could not parse cql"}"#),
            Some("Could not parse cql".into())
        );
        assert_eq!(error_message(b"<html>"), None);
    }

    #[test]
    fn finds_current_version_in_conflict_message() {
        assert_eq!(
            current_version("Version must be current version 7 + 1"),
            Some(7)
        );
        assert_eq!(current_version("conflict"), None);
    }

    #[test]
    fn call_fills_and_encodes_path_parameters() {
        let c = Call::new(Operation::GetPageById, &[("id", "12 3")]).unwrap();
        assert_eq!(c.path, "/wiki/api/v2/pages/12%203");
        assert!(Call::new(Operation::GetPageById, &[]).is_err());
        assert!(Call::new(Operation::GetPageById, &[("id", "")]).is_err());
        assert!(Call::new(Operation::GetPageById, &[("id", "..")]).is_err());
        assert!(Call::new(Operation::GetPageById, &[("id", "1/../2")]).is_err());
    }
}

/// A read that needs `scope` alone and no id: its answer proves the scope held or missing.
pub fn scope_witness(scope: conflux_catalog::Scope) -> Option<Operation> {
    Operation::all().find(|op| {
        let i = op.info();
        i.api == conflux_catalog::ApiVersion::V2
            && i.method == Method::Get
            && !i.path.contains('{')
            && i.classic.is_empty()
            && i.granular.len() == 1
            && i.granular.contains(scope)
    })
}

/// What one request answered, unretried: for reports that must not change anything.
#[derive(Debug, Clone)]
pub struct ProbeAnswer {
    pub status: u16,
    /// Atlassian's scope-check refusal (`x-failure-category` or "scope does not match").
    pub scope_check_failed: bool,
    /// The error message of the answer, when there is one.
    pub message: Option<String>,
}

impl Client {
    /// Sends `op` once to `route` (which may differ from the client's own, to see how another
    /// base URL answers) and reports the status. No retries, no refresh, no fallback.
    pub async fn probe(
        &self,
        route: &Route,
        op: Operation,
        params: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Result<ProbeAnswer> {
        let call = Call::new(op, params)?;
        let url = format!("{}{}", route.root(), call.path);
        let mut auth = HeaderValue::from_str(&self.credential().authorization()).map_err(|_| {
            ClientError::Config("the credential contains characters that cannot be sent".into())
        })?;
        auth.set_sensitive(true);
        let mut req = self
            .inner
            .http
            .request(to_reqwest_method(op.method()), &url)
            .query(query)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, auth)
            .header("X-Atlassian-Token", "no-check");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            let may_have_been_sent = !e.is_connect();
            ClientError::Transport {
                message: e.without_url().to_string(),
                may_have_been_sent,
            }
        })?;
        let status = resp.status().as_u16();
        let scope_header = resp
            .headers()
            .get("x-failure-category")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("FAILURE_CLIENT_SCOPE_CHECK"));
        let bytes = resp.bytes().await.unwrap_or_default();
        let message = error_message(&bytes);
        let scope_check_failed = status == 401
            && (scope_header
                || message
                    .as_deref()
                    .is_some_and(|m| m.to_ascii_lowercase().contains("scope does not match")));
        Ok(ProbeAnswer {
            status,
            scope_check_failed,
            message,
        })
    }
}
