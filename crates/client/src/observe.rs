//! What the client records for operators, through the `metrics` facade (nothing until the
//! binary installs a recorder): every request to Confluence by catalog operation and status,
//! retries, time spent waiting out rate limits, and the rate-limit headroom Confluence reports.
//!
//! Labels are bounded: operation ids come from the catalog, statuses are HTTP status codes.

use std::time::Duration;

use conflux_catalog::Operation;
use reqwest::header::HeaderMap;

/// Requests sent to Confluence (each attempt), by `operation` and `status` (`error` when no
/// answer came).
pub const REQUESTS: &str = "conflux_confluence_requests_total";
/// Time from sending a request to reading its whole answer, by `operation`.
pub const REQUEST_DURATION: &str = "conflux_confluence_request_duration_seconds";
/// Requests sent again, by `operation` and `reason` (`rate_limited`, `server_error`,
/// `transport`).
pub const RETRIES: &str = "conflux_confluence_retries_total";
/// Each wait before a retry because Confluence answered 429 (its `_sum` is the time spent
/// waiting).
pub const RATE_LIMIT_WAIT: &str = "conflux_confluence_rate_limit_wait_seconds";
/// `X-RateLimit-Remaining` of the latest answer that carried it.
pub const RATE_LIMIT_REMAINING: &str = "conflux_confluence_rate_limit_remaining";
/// `X-RateLimit-Limit` of the latest answer that carried it.
pub const RATE_LIMIT_LIMIT: &str = "conflux_confluence_rate_limit_limit";
/// 1 when the latest answer with rate-limit headers said `X-RateLimit-NearLimit: true` (or its
/// beta form), else 0.
pub const RATE_LIMIT_NEAR: &str = "conflux_confluence_rate_limit_near_limit";

/// Why a request was sent again.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Retry {
    RateLimited,
    ServerError,
    Transport,
}

impl Retry {
    fn name(self) -> &'static str {
        match self {
            Retry::RateLimited => "rate_limited",
            Retry::ServerError => "server_error",
            Retry::Transport => "transport",
        }
    }
}

/// Registers the help text of this crate's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        REQUESTS,
        "Requests sent to Confluence (each attempt), by catalog operation and HTTP status \
         (error: no answer)"
    );
    metrics::describe_histogram!(
        REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Duration of requests to Confluence, by catalog operation"
    );
    metrics::describe_counter!(
        RETRIES,
        "Requests to Confluence sent again, by operation and reason (rate_limited, \
         server_error, transport)"
    );
    metrics::describe_histogram!(
        RATE_LIMIT_WAIT,
        metrics::Unit::Seconds,
        "Waits before retrying requests Confluence refused with 429 (the sum is the time spent \
         waiting)"
    );
    metrics::describe_gauge!(
        RATE_LIMIT_REMAINING,
        "X-RateLimit-Remaining of the latest Confluence answer that carried it"
    );
    metrics::describe_gauge!(
        RATE_LIMIT_LIMIT,
        "X-RateLimit-Limit of the latest Confluence answer that carried it"
    );
    metrics::describe_gauge!(
        RATE_LIMIT_NEAR,
        "1 when the latest Confluence answer with rate-limit headers said it is near the limit"
    );
}

/// One answer: its status, how long it took, and the rate-limit headers it carried.
pub(crate) fn answered(op: Operation, status: u16, elapsed: Duration, headers: &HeaderMap) {
    let operation = op.operation_id();
    metrics::counter!(REQUESTS, "operation" => operation, "status" => status_label(status))
        .increment(1);
    metrics::histogram!(REQUEST_DURATION, "operation" => operation).record(elapsed.as_secs_f64());
    headroom(headers);
}

/// A request that got no answer.
pub(crate) fn unanswered(op: Operation, elapsed: Duration) {
    let operation = op.operation_id();
    metrics::counter!(REQUESTS, "operation" => operation, "status" => "error").increment(1);
    metrics::histogram!(REQUEST_DURATION, "operation" => operation).record(elapsed.as_secs_f64());
}

/// A request about to be sent again after `wait`.
pub(crate) fn retry(op: Operation, why: Retry, wait: Duration) {
    metrics::counter!(RETRIES, "operation" => op.operation_id(), "reason" => why.name())
        .increment(1);
    if matches!(why, Retry::RateLimited) {
        metrics::histogram!(RATE_LIMIT_WAIT).record(wait.as_secs_f64());
    }
}

/// Static strings for the statuses Confluence answers, so a label never allocates.
fn status_label(status: u16) -> &'static str {
    const KNOWN: &[(u16, &str)] = &[
        (200, "200"),
        (201, "201"),
        (202, "202"),
        (204, "204"),
        (301, "301"),
        (302, "302"),
        (303, "303"),
        (304, "304"),
        (307, "307"),
        (308, "308"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (409, "409"),
        (410, "410"),
        (412, "412"),
        (413, "413"),
        (415, "415"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (501, "501"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    match KNOWN.iter().find(|(code, _)| *code == status) {
        Some((_, label)) => label,
        None => match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        },
    }
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Confluence's view of the rate-limit budget (FACTS 25): `X-RateLimit-Remaining`,
/// `X-RateLimit-Limit`, `X-RateLimit-NearLimit` (or `X-Beta-RateLimit-NearLimit`).
fn headroom(headers: &HeaderMap) {
    let remaining = header_f64(headers, "x-ratelimit-remaining");
    let limit = header_f64(headers, "x-ratelimit-limit");
    let near = ["x-ratelimit-nearlimit", "x-beta-ratelimit-nearlimit"]
        .iter()
        .find_map(|h| headers.get(*h))
        .map(|v| {
            v.to_str()
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
        });
    if let Some(r) = remaining {
        metrics::gauge!(RATE_LIMIT_REMAINING).set(r);
    }
    if let Some(l) = limit {
        metrics::gauge!(RATE_LIMIT_LIMIT).set(l);
    }
    if remaining.is_some() || limit.is_some() || near.is_some() {
        metrics::gauge!(RATE_LIMIT_NEAR).set(if near == Some(true) { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_bounded_labels() {
        assert_eq!(status_label(404), "404");
        assert_eq!(status_label(418), "4xx");
        assert_eq!(status_label(599), "5xx");
        assert_eq!(status_label(226), "2xx");
    }
}
