//! When to try again: full-jitter backoff bounded by a deadline, `Retry-After` and the
//! rate-limit headers honoured (FACTS 23, 25), and one gate per Confluence host shared by every
//! call of the process, so that a 429 seen by one call holds the others back instead of each
//! spending its own attempts on the same closed window.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::HeaderMap;

/// How hard to try before giving up.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; the deadline usually ends retrying first.
    pub max_attempts: u32,
    /// No retry starts, and no wait runs, past this long after the first attempt.
    pub deadline: Duration,
    /// Ceiling of the first backoff when the server gives no `Retry-After`; doubles each time.
    /// Each wait is drawn uniformly below the ceiling (full jitter).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// `Retry-After` above this is clamped (Cloud has been seen sending i64::MAX).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: u32::MAX,
            deadline: Duration::from_secs(60),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry (reports that must not change anything, start-up checks).
    pub fn once() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

/// The retries of one request.
#[derive(Debug)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    started: Instant,
    /// Attempts made so far.
    pub attempts: u32,
}

impl Backoff {
    pub fn new(policy: &RetryPolicy) -> Backoff {
        Backoff {
            policy: policy.clone(),
            started: Instant::now(),
            attempts: 0,
        }
    }

    /// Counts one attempt.
    pub fn attempt(&mut self) -> u32 {
        self.attempts += 1;
        self.attempts
    }

    /// The wait before the next attempt, or `None` when the attempts or the deadline are used
    /// up. `told` is the server's own wait (`Retry-After`), honoured as a minimum; the jitter
    /// on top spreads the callers it told the same instant.
    pub fn next_wait(&self, told: Option<Duration>) -> Option<Duration> {
        if self.attempts >= self.policy.max_attempts {
            return None;
        }
        let exp = self.attempts.saturating_sub(1).min(20);
        let ceiling = self
            .policy
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.policy.max_delay);
        let wait = match told {
            // The server named the instant: wait for it, then spread the callers it told the
            // same instant over a share of that wait (never more), so that the window that
            // opens is used rather than slept through.
            Some(t) => {
                let t = t.min(self.policy.max_retry_after);
                t + full_jitter(ceiling.min(t / 4))
            }
            None => full_jitter(ceiling),
        };
        (self.started.elapsed() + wait <= self.policy.deadline).then_some(wait)
    }

    pub fn max_retry_after(&self) -> Duration {
        self.policy.max_retry_after
    }
}

/// Uniform in `[0, ceiling]`.
pub(crate) fn full_jitter(ceiling: Duration) -> Duration {
    let ms = ceiling.as_millis().min(u64::MAX as u128) as u64;
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..=ms))
}

/// How long a 429 (or 503) says to wait: `Retry-After` seconds, else `X-RateLimit-Reset` (an
/// ISO 8601 instant) from now; clamped to `cap`. `None` when neither is there or readable.
/// With both, the reset instant wins when it falls within the second that `Retry-After`
/// rounded up to: whole seconds would sleep through most of a short window, and agreement
/// with `Retry-After` bounds what a skewed clock can do.
pub(crate) fn told_wait(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    let reset = reset_in(headers).map(|d| d.min(cap));
    match (retry_after(headers, cap), reset) {
        (Some(after), Some(reset)) if reset <= after && reset + Duration::from_secs(1) > after => {
            Some(reset)
        }
        (Some(after), _) => Some(after),
        (None, reset) => reset,
    }
}

/// The time from now until `X-RateLimit-Reset`, if it is there and readable.
fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    let reset = headers.get("x-ratelimit-reset")?.to_str().ok()?.trim();
    let at = chrono::DateTime::parse_from_rfc3339(reset).ok()?;
    let ms = at
        .with_timezone(&chrono::Utc)
        .signed_duration_since(chrono::Utc::now())
        .num_milliseconds()
        .max(0) as u64;
    Some(Duration::from_millis(ms))
}

/// Seconds from `Retry-After`, clamped; `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap, cap: Duration) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    let secs: u64 = v
        .parse()
        .ok()
        .or_else(|| v.parse::<f64>().ok().map(|f| f.max(0.0) as u64))?;
    Some(Duration::from_secs(secs).min(cap))
}

/// Until when calls to each Confluence host hold back, after one of them was told to wait.
static GATES: LazyLock<Mutex<HashMap<String, Gate>>> = LazyLock::new(Default::default);

#[derive(Clone, Copy, Debug)]
struct Gate {
    until: Instant,
    /// Callers released at `until` are spread over this much more (full jitter).
    spread: Duration,
}

fn gates() -> std::sync::MutexGuard<'static, HashMap<String, Gate>> {
    GATES.lock().unwrap_or_else(|p| p.into_inner())
}

/// The gate's key: scheme, host and port of `url`.
pub(crate) fn gate_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_string(),
    }
}

/// Every call of this process to `key` waits until `wait` from now has passed (a later hold
/// already in place is kept).
pub(crate) fn hold(key: &str, wait: Duration, spread: Duration) {
    let until = Instant::now() + wait;
    let mut g = gates();
    let gate = g.entry(key.to_string()).or_insert(Gate { until, spread });
    if until > gate.until {
        gate.until = until;
        gate.spread = spread;
    }
}

/// Waits while the gate of `key` is closed, then a random share of its spread; returns the time
/// waited.
pub(crate) async fn pass(key: &str) -> Duration {
    let gate = {
        let mut g = gates();
        match g.get(key).copied() {
            Some(gate) if gate.until > Instant::now() => Some(gate),
            Some(_) => {
                g.remove(key);
                None
            }
            None => None,
        }
    };
    let Some(gate) = gate else {
        return Duration::ZERO;
    };
    let wait = gate.until.saturating_duration_since(Instant::now()) + full_jitter(gate.spread);
    tokio::time::sleep(wait).await;
    wait
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_is_clamped() {
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("9223372036854775807"),
        );
        assert_eq!(
            retry_after(&h, Duration::from_secs(60)),
            Some(Duration::from_secs(60))
        );
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(
            retry_after(&h, Duration::from_secs(60)),
            Some(Duration::from_secs(3))
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, Duration::from_secs(60)), None);
    }

    #[test]
    fn reset_instant_is_read_when_retry_after_is_missing() {
        let mut h = HeaderMap::new();
        let at = (chrono::Utc::now() + chrono::Duration::seconds(30))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&at).unwrap());
        let d = told_wait(&h, Duration::from_secs(60)).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(
            told_wait(&h, Duration::from_secs(5)),
            Some(Duration::from_secs(5))
        );
    }

    /// Retry-After is whole seconds; a reset instant within the second it rounded up to is
    /// the finer answer, and one that disagrees with it is not trusted.
    #[test]
    fn reset_instant_refines_retry_after_when_they_agree() {
        let in_ms = |ms: i64| {
            (chrono::Utc::now() + chrono::Duration::milliseconds(ms))
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        };
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("1"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&in_ms(300)).unwrap(),
        );
        let d = told_wait(&h, Duration::from_secs(60)).unwrap();
        assert!(
            d <= Duration::from_millis(300) && d > Duration::from_millis(200),
            "{d:?}"
        );
        // A reset far from what Retry-After says (a skewed clock): Retry-After stands.
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&in_ms(30_000)).unwrap(),
        );
        assert_eq!(
            told_wait(&h, Duration::from_secs(60)),
            Some(Duration::from_secs(1))
        );
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&in_ms(-5_000)).unwrap(),
        );
        assert_eq!(
            told_wait(&h, Duration::from_secs(60)),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn waits_stay_under_the_ceiling_and_honour_the_told_minimum() {
        let policy = RetryPolicy::default();
        let mut b = Backoff::new(&policy);
        b.attempt();
        for _ in 0..100 {
            let w = b.next_wait(None).unwrap();
            assert!(w <= policy.base_delay);
            let w = b.next_wait(Some(Duration::from_secs(2))).unwrap();
            assert!(w >= Duration::from_secs(2) && w <= Duration::from_millis(2250));
            let w = b.next_wait(Some(Duration::from_millis(100))).unwrap();
            assert!(w >= Duration::from_millis(100) && w <= Duration::from_millis(150));
        }
    }

    #[test]
    fn the_deadline_and_the_attempt_cap_end_retrying() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let mut b = Backoff::new(&policy);
        b.attempt();
        assert_eq!(b.next_wait(Some(Duration::from_secs(5))), None);
        let mut once = Backoff::new(&RetryPolicy::once());
        once.attempt();
        assert_eq!(once.next_wait(None), None);
    }
}
