//! `conflux doctor`: the report of conflux-doctor, as a table or as JSON.

use clap::Args;
use conflux_client::Client;
use conflux_types::SiteUrl;

use crate::settings::Output;
use crate::stdout::{out, outln};

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Only these tools (comma-separated; all when absent).
    #[arg(long, value_delimiter = ',')]
    tools: Vec<String>,
    /// Leave write actions out (check a read-only deployment).
    #[arg(long)]
    read_only: bool,
}

pub async fn run(
    client: &Client,
    site: Option<SiteUrl>,
    output: Output,
    args: DoctorArgs,
) -> anyhow::Result<()> {
    let options = conflux_ops::doctor::Options {
        site,
        tools: args.tools,
        read_only: args.read_only,
    };
    let report = conflux_ops::doctor::diagnose(client, &options).await;
    match output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&report)?)?,
        Output::Text => out!("{}", conflux_ops::doctor::render_text(&report))?,
    }
    Ok(())
}
