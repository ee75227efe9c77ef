//! What the binary sets up for operators: the log subscriber (text or JSON lines on stderr),
//! OpenTelemetry export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the Prometheus
//! recorder with its own listener (`--metrics ADDR`). The libraries only record; this is the
//! one place that reads the settings and installs what turns records into output.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use conflux_telemetry::{Config, LogFormat, Metrics, PROMETHEUS_CONTENT_TYPE, Telemetry};

/// The format chosen at start, for the lines the binary writes itself.
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// The target of the lines [`notice!`] writes in JSON mode: always on, whatever the filter.
const NOTICE_TARGET: &str = "conflux::notice";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether spans go to an OTLP collector: when the standard endpoint variables name one, unless
/// `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
fn otlp_wanted() -> bool {
    let endpoint =
        env("OTEL_EXPORTER_OTLP_ENDPOINT").or_else(|| env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"));
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"));
    endpoint.is_some() && !disabled
}

/// Installs the subscriber: `level` (`--log` / `CONFLUX_LOG`, default `warn`) filters what is
/// logged, `format` (`--log-format` / `CONFLUX_LOG_FORMAT`) shapes it.
pub fn init(level: Option<&str>, format: LogFormat) -> anyhow::Result<Telemetry> {
    let _ = FORMAT.set(format);
    let level = level.unwrap_or("warn");
    let filter = match tracing_subscriber_filter_ok(level) {
        true => level.to_string(),
        false => {
            eprintln!("conflux: the log level `{level}` is not valid; using `warn`");
            "warn".to_string()
        }
    };
    let otlp = otlp_wanted();
    if otlp
        && let Some(p) =
            env("OTEL_EXPORTER_OTLP_PROTOCOL").or_else(|| env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
        && p.trim() != "http/protobuf"
    {
        anyhow::bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL is `{p}`; Conflux exports traces over http/protobuf only \
             (unset it, or set it to http/protobuf; the collector's port is usually 4318)"
        );
    }
    let config = Config {
        filter: with_fixed_targets(&filter),
        format,
        otlp,
        service_name: env("OTEL_SERVICE_NAME").unwrap_or_else(|| "conflux".into()),
    };
    let telemetry = Telemetry::install(config).context("telemetry")?;
    if telemetry.traces() {
        tracing::info!("traces are exported over OTLP (http/protobuf)");
    }
    Ok(telemetry)
}

/// The filter asked for, with the targets whose level is not the caller's to choose: the lines
/// the binary writes itself pass whatever the level, and the MCP library's own `debug` and
/// `trace` lines, which carry whole requests and results (page bodies, uploads, never logged),
/// do not.
fn with_fixed_targets(filter: &str) -> String {
    let quiet = ["info", "warn", "error", "off", "0", "1", "2", "3"];
    let noisy = |level: &str| !quiet.contains(&level.trim().to_ascii_lowercase().as_str());
    // A bare level is every target's; a bare target name enables it at `trace`.
    let mut everyone_noisy = false;
    let capped: Vec<String> = filter
        .split(',')
        .map(|d| match d.split_once('=') {
            Some((target, level)) if target.trim().starts_with("rmcp") && noisy(level) => {
                format!("{target}=info")
            }
            None if d.trim().starts_with("rmcp") => format!("{d}=info"),
            None if ["trace", "debug", "4", "5"]
                .contains(&d.trim().to_ascii_lowercase().as_str()) =>
            {
                everyone_noisy = true;
                d.to_string()
            }
            _ => d.to_string(),
        })
        .collect();
    // Only lowered, never raised: at `warn` the library stays at `warn`.
    let rmcp = if everyone_noisy { ",rmcp=info" } else { "" };
    format!("{}{rmcp},{NOTICE_TARGET}=info", capped.join(","))
}

fn tracing_subscriber_filter_ok(level: &str) -> bool {
    level.parse::<tracing_subscriber::filter::Targets>().is_ok()
}

/// The format of the lines on stderr.
pub fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// A line the binary says about itself (where it listens, which key file it uses): `conflux:
/// …` in text, one JSON object (level INFO) in JSON mode.
macro_rules! notice {
    ($($arg:tt)*) => {
        $crate::observe::notice_line(format_args!($($arg)*))
    };
}
pub(crate) use notice;

pub fn notice_line(message: std::fmt::Arguments<'_>) {
    match format() {
        LogFormat::Text => eprintln!("conflux: {message}"),
        LogFormat::Json => tracing::info!(target: NOTICE_TARGET, "{message}"),
    }
}

/// An error that ends the command, with its hint: `error: …` / `hint: …` lines in text, one
/// JSON object (level ERROR, fields `error`, `hint`) in JSON mode.
pub fn error_lines(error: &str, hint: Option<&str>, causes: &[String]) {
    match format() {
        LogFormat::Text => {
            eprintln!("error: {error}");
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
            for cause in causes {
                eprintln!("  caused by: {cause}");
            }
        }
        LogFormat::Json => tracing::error!(
            target: NOTICE_TARGET,
            error,
            hint = hint.unwrap_or(""),
            caused_by = causes.join("; "),
            "the command failed"
        ),
    }
}

/// Installs the Prometheus recorder (once; every library records into it from then on) and
/// keeps its histograms trimmed.
pub fn recorder() -> anyhow::Result<Metrics> {
    static INSTALLED: OnceLock<Metrics> = OnceLock::new();
    if let Some(m) = INSTALLED.get() {
        return Ok(m.clone());
    }
    let metrics = Metrics::install().context("metrics")?;
    conflux_web::describe_metrics();
    metrics::gauge!("conflux_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(INSTALLED.get_or_init(|| metrics).clone())
}

/// What renders `/metrics` on the public address, behind the admin token.
pub fn render(metrics: &Metrics) -> conflux_web::RenderMetrics {
    let metrics = metrics.clone();
    std::sync::Arc::new(move || metrics.render())
}

/// Refuses what a browser sends: the metrics listener has no `Host` check (Prometheus names a
/// replica by its own address), so a page that rebinds its DNS name to this address must not
/// read it. Browsers mark every request they make with `Origin` (cross-origin and POST) or
/// `Sec-Fetch-Site`; only an address typed by hand (`Sec-Fetch-Site: none`) passes.
/// Prometheus sends neither.
async fn refuse_browsers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let h = req.headers();
    let fetched_by_a_page = h
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() != b"none");
    if fetched_by_a_page || h.contains_key(axum::http::header::ORIGIN) {
        tracing::info!("metrics listener: a request a web page made was refused");
        return (
            axum::http::StatusCode::FORBIDDEN,
            "the metrics address does not answer requests made by web pages\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// Serves `/metrics` (and the probes `extra` carries) on `addr`, on a listener of its own:
/// keep it off the public network. Returns the bound address.
pub async fn serve_metrics(
    addr: SocketAddr,
    metrics: Metrics,
    extra: axum::Router,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr} for metrics (--metrics)"))?;
    let bound = listener.local_addr().unwrap_or(addr);
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [
                            (axum::http::header::CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE),
                            (axum::http::header::CACHE_CONTROL, "no-store"),
                        ],
                        metrics.render(),
                    )
                }
            }),
        )
        .merge(extra)
        .layer(axum::middleware::from_fn(refuse_browsers));
    // Within the same bounds as the public listener, a few connections: a scraper and probes.
    let limits = conflux_mcp::listen::Limits {
        max_connections: 64,
        ..conflux_mcp::listen::Limits::default()
    };
    tokio::spawn(conflux_mcp::listen::serve(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing_subscriber::filter::Targets;

    /// Whatever level is asked, even for the MCP library by name, its lines that carry
    /// requests and results stay out; its `info` lines and everyone else's pass as asked.
    #[test]
    fn the_mcp_library_never_logs_below_info() {
        for asked in [
            "trace",
            "debug",
            "rmcp=trace",
            "warn,rmcp=debug",
            "rmcp::service=trace",
            "rmcp::service",
            "info,rmcp::transport=DEBUG,rmcp=5",
        ] {
            let targets: Targets = with_fixed_targets(asked).parse().unwrap();
            for target in ["rmcp", "rmcp::service::server", "rmcp::transport"] {
                assert!(
                    !targets.would_enable(target, &Level::DEBUG),
                    "{asked}: {target} at debug"
                );
            }
        }
        let targets: Targets = with_fixed_targets("debug").parse().unwrap();
        assert!(targets.would_enable("rmcp", &Level::INFO));
        assert!(targets.would_enable("conflux_client", &Level::DEBUG));
        let targets: Targets = with_fixed_targets("error").parse().unwrap();
        assert!(targets.would_enable(NOTICE_TARGET, &Level::INFO));
        // Never raised: at `warn` (the default) its `info` lines stay out too.
        for asked in ["warn", "error", "warn,rmcp=warn"] {
            let targets: Targets = with_fixed_targets(asked).parse().unwrap();
            assert!(
                !targets.would_enable("rmcp::service", &Level::INFO),
                "{asked}"
            );
        }
    }
}
