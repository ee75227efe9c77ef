//! `conflux databases`: a database's metadata; its rows have no public API, and the command says so.

use clap::Subcommand;
use conflux_ops::{Config, Ops};
use serde_json::json;

use crate::output::Printer;

#[derive(Subcommand, Debug)]
pub enum DatabasesCmd {
    /// A database's metadata.
    Get { id: String },
    /// A database's rows: explains that Confluence Cloud has no public API for them.
    Entries { id: String },
    /// Create a database in a space (key or id).
    Create {
        #[arg(long)]
        space: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        parent: Option<String>,
    },
    /// Delete a database.
    Delete { id: String },
}

pub async fn run(
    client: &conflux_client::Client,
    out: &Printer,
    cmd: DatabasesCmd,
) -> anyhow::Result<()> {
    let ops = Ops::new(client.clone(), Config::default());
    let (action, args) = match cmd {
        DatabasesCmd::Get { id } => ("get", json!({ "id": id })),
        DatabasesCmd::Entries { id } => ("entries", json!({ "id": id })),
        DatabasesCmd::Create {
            space,
            title,
            parent,
        } => {
            let space_id = client.spaces().get_by_key_or_id(&space).await?.id;
            (
                "create",
                json!({ "spaceId": space_id, "title": title, "parentId": parent }),
            )
        }
        DatabasesCmd::Delete { id } => ("delete", json!({ "id": id })),
    };
    let output = ops.call("databases", action, args).await?;
    out.op_output(&output)
}
