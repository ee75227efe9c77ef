//! What token refreshes leave for operators, through the `metrics` facade: how each ended and
//! how long it took (the store's lock, Atlassian's token endpoint and the write together).

use std::time::Duration;

/// Refreshes of people's Atlassian tokens, by `outcome`.
pub const REFRESHES: &str = "conflux_token_refreshes_total";
/// Duration of a refresh, by `outcome`.
pub const REFRESH_DURATION: &str = "conflux_token_refresh_duration_seconds";

/// How a refresh ended.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Refresh {
    /// Atlassian issued new tokens.
    Refreshed,
    /// Another task or process had refreshed already; its tokens were used.
    Reused,
    /// Atlassian refused the refresh token (revoked or expired): the connection was dropped.
    Dropped,
    /// The identity service or the store failed; the stored refresh token is kept.
    Failed,
    /// The person has no connection (any more).
    NotConnected,
}

impl Refresh {
    fn name(self) -> &'static str {
        match self {
            Refresh::Refreshed => "refreshed",
            Refresh::Reused => "reused",
            Refresh::Dropped => "dropped",
            Refresh::Failed => "failed",
            Refresh::NotConnected => "not_connected",
        }
    }
}

/// Registers the help text of this crate's metrics with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        REFRESHES,
        "Refreshes of Atlassian OAuth tokens, by outcome (refreshed, reused, dropped, failed, \
         not_connected)"
    );
    metrics::describe_histogram!(
        REFRESH_DURATION,
        metrics::Unit::Seconds,
        "Duration of Atlassian OAuth token refreshes, by outcome"
    );
}

pub(crate) fn refreshed(outcome: Refresh, elapsed: Duration) {
    metrics::counter!(REFRESHES, "outcome" => outcome.name()).increment(1);
    metrics::histogram!(REFRESH_DURATION, "outcome" => outcome.name())
        .record(elapsed.as_secs_f64());
}
