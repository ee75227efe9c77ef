//! `conflux audit`: the security posture report, as Markdown (text) or JSON.

use conflux_client::Client;

use crate::settings::Output;
use crate::stdout::{out, outln};

pub async fn run(client: &Client, output: Output) -> anyhow::Result<()> {
    let report = conflux_audit::audit(client).await;
    match output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&report)?)?,
        Output::Text => out!("{}", conflux_audit::render_markdown(&report))?,
    }
    Ok(())
}
