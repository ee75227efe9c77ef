//! What the store records for operators, through the `metrics` facade: how long each query
//! (or group of queries run as one step) takes, by backend.

use std::time::Instant;

/// Duration of store queries, by `backend` (`sqlite`, `postgres`).
pub const QUERY_DURATION: &str = "conflux_store_query_duration_seconds";

/// Registers the help text of this crate's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_histogram!(
        QUERY_DURATION,
        metrics::Unit::Seconds,
        "Duration of connection-store queries, by backend (sqlite, postgres)"
    );
}

/// Records, when dropped, the time since it was started: a query that returns early with an
/// error is timed too.
pub(crate) struct Timed {
    backend: &'static str,
    started: Instant,
}

impl Timed {
    pub(crate) fn start(backend: &'static str) -> Timed {
        Timed {
            backend,
            started: Instant::now(),
        }
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        metrics::histogram!(QUERY_DURATION, "backend" => self.backend)
            .record(self.started.elapsed().as_secs_f64());
    }
}
