//! What an operator of Conflux sees: logs (text or one JSON object per line), Prometheus
//! metrics, and OpenTelemetry traces exported over OTLP.
//!
//! Only binaries use this crate. Libraries emit through the facades alone (`tracing` for spans
//! and events, the `metrics` macros for figures, which cost nothing until a recorder is
//! installed); this crate installs the subscriber and the recorder that turn them into output.
//! It never reads the environment: the binary decides (for example from
//! `OTEL_EXPORTER_OTLP_ENDPOINT`) and passes a [`Config`]. The OTLP exporter itself reads the
//! standard `OTEL_EXPORTER_OTLP_*` variables for its endpoint, headers and timeout, as every
//! OpenTelemetry SDK does.
//!
//! A tool call's span becomes a child of the caller's trace when the MCP server has set its
//! parent (`conflux-mcp` does, from the W3C `traceparent` of the request); Confluence requests
//! made during the call are its children.
//!
//! ```no_run
//! # fn demo() -> Result<(), conflux_telemetry::TelemetryError> {
//! use conflux_telemetry::{Config, LogFormat, Metrics, Telemetry};
//! let telemetry = Telemetry::install(Config {
//!     filter: "info".into(),
//!     format: LogFormat::Json,
//!     otlp: false,
//!     service_name: "conflux".into(),
//! })?;
//! let metrics = Metrics::install()?;
//! println!("{}", metrics.render());
//! telemetry.shutdown();
//! # Ok(()) }
//! ```

pub mod scrape;

use std::str::FromStr;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{LevelFilter, ParseError, Targets};
use tracing_subscriber::layer::SubscriberExt as _;

/// What can stop telemetry from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    #[error("the log filter `{filter}` is not valid: {reason}")]
    Filter { filter: String, reason: String },
    #[error("a log subscriber is already installed")]
    AlreadyInstalled,
    #[error("the OTLP exporter could not be built: {0}")]
    Exporter(String),
    #[error("the metrics recorder could not be installed: {0}")]
    Metrics(String),
}

/// How log lines are written to stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `message`, the event's fields at the top
    /// level (a tool call's `request_id`, `tool`, `action`, `outcome`, `duration_ms`), and the
    /// current span's fields under `span`.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("`{other}` is not a log format: text or json")),
        }
    }
}

/// What the binary decided.
#[derive(Clone, Debug)]
pub struct Config {
    /// Which events reach the log, as `RUST_LOG` directives (`warn`, `info,conflux_client=debug`).
    pub filter: String,
    pub format: LogFormat,
    /// Export spans over OTLP (HTTP, protobuf) to the endpoint the standard
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` name.
    pub otlp: bool,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

/// Spans of these crates go to the trace exporter at `info` and above, whatever the log filter
/// says: a tool call (`conflux_mcp`), the Confluence requests it made (`conflux_client`), token
/// refreshes (`conflux_oauth`).
const TRACED: &str = "conflux";

/// The installed subscriber; [`Telemetry::shutdown`] flushes spans not yet exported.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the process-wide subscriber: logs to stderr, and spans over OTLP when
    /// `config.otlp` is set (a batch exporter on its own thread).
    pub fn install(config: Config) -> Result<Telemetry, TelemetryError> {
        let provider = if config.otlp {
            // The exporter's HTTP client uses rustls without a built-in provider, like the
            // Confluence client: the process-wide one must be set before it is built.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .build()
                .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
            Some(
                SdkTracerProvider::builder()
                    .with_resource(resource(&config.service_name))
                    .with_batch_exporter(exporter)
                    .build(),
            )
        } else {
            None
        };
        Telemetry::install_with_provider(&config, provider)
    }

    /// Installs the process-wide subscriber with spans exported, as each ends, to `exporter`
    /// (an in-memory exporter in tests).
    pub fn install_with_exporter(
        config: Config,
        exporter: impl SpanExporter + 'static,
    ) -> Result<Telemetry, TelemetryError> {
        let provider = SdkTracerProvider::builder()
            .with_resource(resource(&config.service_name))
            .with_simple_exporter(exporter)
            .build();
        Telemetry::install_with_provider(&config, Some(provider))
    }

    fn install_with_provider(
        config: &Config,
        provider: Option<SdkTracerProvider>,
    ) -> Result<Telemetry, TelemetryError> {
        // `target=level` directives (`info,conflux_client=debug`), read without a regex engine;
        // span and field filters (`[span{field}]`) are not taken.
        let filter: Targets =
            config
                .filter
                .parse()
                .map_err(|e: ParseError| TelemetryError::Filter {
                    filter: config.filter.clone(),
                    reason: e.to_string(),
                })?;
        let logs = match config.format {
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_target(false)
                .with_filter(filter)
                .boxed(),
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(std::io::stderr)
                .with_filter(filter)
                .boxed(),
        };
        let traces = provider.as_ref().map(|p| {
            tracing_opentelemetry::layer()
                .with_tracer(p.tracer("conflux"))
                .with_filter(
                    Targets::new()
                        .with_default(LevelFilter::OFF)
                        .with_target(TRACED, LevelFilter::INFO),
                )
        });
        let subscriber = tracing_subscriber::registry().with(logs).with(traces);
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| TelemetryError::AlreadyInstalled)?;
        Ok(Telemetry { provider })
    }

    /// Whether spans are exported.
    pub fn traces(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports the spans still buffered and stops the exporter (blocks up to a few seconds).
    pub fn shutdown(&self) {
        if let Some(p) = &self.provider
            && let Err(e) = p.shutdown_with_timeout(Duration::from_secs(5))
        {
            tracing::warn!(error = %e, "the trace exporter did not shut down cleanly");
        }
    }
}

fn resource(service_name: &str) -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_string())
        .build()
}

/// Upper bounds (seconds) of the latency histograms: from a millisecond (a store query, a
/// simulator request) to a minute (a call that waited out a rate limit).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process-wide Prometheus recorder: every `metrics` macro in every library records into
/// it, and [`Metrics::render`] writes the text exposition format.
#[derive(Clone, Debug)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the recorder; metrics whose name ends in `_seconds` are histograms with
    /// [`LATENCY_BUCKETS`]. At most one per process.
    pub fn install() -> Result<Metrics, TelemetryError> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .map_err(|e| TelemetryError::Metrics(e.to_string()))?
            .install_recorder()
            .map_err(|e| TelemetryError::Metrics(e.to_string()))?;
        Ok(Metrics { handle })
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Bounds the memory histograms hold between scrapes; call it every few seconds.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_formats_parse() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!(" Text ".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
    }
}
