//! Export under the simulator's rate limit: no page fails, and the budget is used. The quick
//! check runs with the tests; the measurement (`--ignored`, via `bench/sync/run.sh`) prints the
//! share of the budget used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use crate::common::*;
use conflux_ops::Config;
use conflux_sim::RateLimit;
use conflux_sync::{ExportOptions, NoProgress, export};
use serde_json::{Value, json};

/// Exports `space` with `limit` requests per second allowed; answers (pages, requests served,
/// requests refused with 429, seconds).
async fn run(
    space: &str,
    limit: u32,
    window_secs: u64,
    concurrency: usize,
    seed: u64,
) -> (usize, u64, u64, f64) {
    let sim = start(demo_with_empty_space(seed).with_rate_limit(RateLimit {
        limit,
        window_secs,
        reason: None,
    }))
    .await;
    let ops = ops(&sim, Config::default()).await;
    let stats = |v: Value| {
        (
            v["requests"].as_u64().unwrap(),
            v["rate_limited"].as_u64().unwrap(),
        )
    };
    let (before, refused_before) = stats(sim.stats().await);
    let dir = tempdir();
    let started = Instant::now();
    let summary = export(
        &ops,
        space,
        dir.path(),
        &ExportOptions {
            concurrency,
            full: false,
        },
        &NoProgress,
    )
    .await
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let (after, refused_after) = stats(sim.stats().await);
    assert_eq!(summary.failed, 0);
    let refused = refused_after - refused_before;
    // The stats calls are the admin API's, not counted; every site request is.
    let served = after - before - refused;
    (summary.nodes, served, refused, secs)
}

#[tokio::test]
async fn no_page_fails_under_the_rate_limit() {
    let (nodes, served, refused, _) = run("OPS", 20, 1, 8, 41).await;
    assert!(nodes > 10);
    assert!(
        refused > 0,
        "the limit was never reached: the test proves nothing"
    );
    assert!(served as usize >= nodes);
}

/// The figure for docs/sync.md: `bench/sync/run.sh`.
#[tokio::test]
#[ignore = "a measurement of several seconds: bench/sync/run.sh"]
async fn budget_share_under_the_rate_limit() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let limit = env("LIMIT").unwrap_or(60) as u32;
    let window = env("WINDOW").unwrap_or(2);
    let concurrency = env("CONCURRENCY").unwrap_or(16) as usize;
    let (nodes, served, refused, secs) = run("ENG", limit, window, concurrency, 42).await;
    // Every window the run held, whole: a window opens with the first request after the
    // last one closed, so the run holds at most this many.
    let budget = f64::from(limit) * (secs / window as f64).ceil().max(1.0);
    let share = served as f64 / budget;
    println!(
        "{}",
        json!({
            "space": "ENG", "nodes": nodes, "limit": limit, "window_secs": window, "concurrency": concurrency,
            "requests_served": served, "requests_refused_429": refused,
            "seconds": (secs * 100.0).round() / 100.0,
            "budget_share": (share * 1000.0).round() / 1000.0,
        })
    );
}
