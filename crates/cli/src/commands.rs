//! `conflux sim`: the simulator as a process of its own.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::stdout::{self, outln};

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Address of the site face; the gateway, identity and admin faces take the next three
    /// ports (port 0: four free ports).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// A JSON fixture describing the site (default: the demo site).
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// Seeds the cloudId, demo credentials and random faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `conflux sim`: the first stdout line is the JSON contract; then it serves until Ctrl-C, or
/// until the reader of its stdout goes away (`conflux sim | head -1` ends).
pub async fn run_sim(args: &SimArgs) -> anyhow::Result<()> {
    let config = match &args.fixture {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the fixture {}", path.display()))?;
            conflux_sim::SimConfig::new(conflux_sim::Fixture::from_json(&text)?, args.seed)
        }
        None => conflux_sim::SimConfig::demo(args.seed),
    };
    let port = args.listen.port();
    let next = |n: u16| {
        if port == 0 {
            Ok(0)
        } else {
            port.checked_add(n)
                .context("--listen port too high: it needs three more above it")
        }
    };
    let ports = conflux_sim::Ports {
        site: port,
        gateway: next(1)?,
        identity: next(2)?,
        admin: next(3)?,
    };
    let sim = conflux_sim::spawn(config.with_host(args.listen.ip()).with_ports(ports)).await?;
    outln!("{}", serde_json::to_string(&sim.info())?)?;
    eprintln!("simulator running; Ctrl-C stops it");
    sim.run_until(async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = stdout::closed() => {}
        }
    })
    .await;
    Ok(())
}
