//! The subcommands that talk to Confluence (or run the simulator).

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use conflux_client::api::{BodyFormat, Excerpt, NewPage, PageList, PageUpdate, SearchParams};
use conflux_client::{Client, ClientError, PageRequest};
use conflux_types::PageId;

use crate::output::Printer;
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

#[derive(Subcommand, Debug)]
pub enum PagesCmd {
    /// A page's metadata and body.
    Get {
        id: String,
        /// Body representation: storage, atlas_doc_format or view.
        #[arg(long, default_value = "storage")]
        body_format: String,
        /// Metadata only.
        #[arg(long)]
        no_body: bool,
    },
    /// Pages, optionally of one space (key or id).
    List {
        #[arg(long)]
        space: Option<String>,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 25)]
        limit: u32,
        #[arg(long)]
        cursor: Option<String>,
        /// Follow every cursor to the end.
        #[arg(long)]
        all: bool,
    },
    /// Create a page from a storage-format body.
    Create {
        /// Space key or id.
        #[arg(long)]
        space: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Publish a new version (the current version is read when --version is not given).
    Update {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        body: BodyArgs,
        /// The new version number (current + 1).
        #[arg(long)]
        version: Option<u64>,
        #[arg(long)]
        message: Option<String>,
    },
    /// Move a page to the trash.
    Delete { id: String },
}

#[derive(Args, Debug)]
pub struct BodyArgs {
    /// Storage-format body text.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the body from a file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
}

impl BodyArgs {
    fn read(&self) -> anyhow::Result<Option<String>> {
        match (&self.body, &self.body_file) {
            (Some(b), _) => Ok(Some(b.clone())),
            (None, Some(p)) if p.as_os_str() == "-" => {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the body from stdin")?;
                Ok(Some(s))
            }
            (None, Some(p)) => std::fs::read_to_string(p)
                .map(Some)
                .with_context(|| format!("reading the body from {}", p.display())),
            (None, None) => Ok(None),
        }
    }
}

fn body_format(s: &str) -> anyhow::Result<BodyFormat> {
    Ok(match s {
        "storage" => BodyFormat::Storage,
        "atlas_doc_format" | "adf" => BodyFormat::AtlasDocFormat,
        "view" => BodyFormat::View,
        other => {
            return Err(ClientError::InvalidInput(format!(
                "body format `{other}` is not known: use storage, atlas_doc_format or view"
            ))
            .into());
        }
    })
}

/// A space key or id → the space id v2 wants.
async fn space_id(client: &Client, key_or_id: &str) -> anyhow::Result<String> {
    Ok(client.spaces().get_by_key_or_id(key_or_id).await?.id)
}

pub async fn pages(client: &Client, out: &Printer, cmd: PagesCmd) -> anyhow::Result<()> {
    match cmd {
        PagesCmd::Get {
            id,
            body_format: fmt,
            no_body,
        } => {
            let fmt = if no_body {
                None
            } else {
                Some(body_format(&fmt)?)
            };
            let page = client.pages().get(PageId::new(id), fmt).await?;
            out.page(&page)
        }
        PagesCmd::List {
            space,
            title,
            status,
            limit,
            cursor,
            all,
        } => {
            let space_id = match space {
                Some(s) => Some(space_id(client, &s).await?),
                None => None,
            };
            let filter = PageList {
                space_id,
                title,
                status,
                body_format: None,
                ids: Vec::new(),
            };
            if all {
                use futures::TryStreamExt as _;
                let pages: Vec<_> = client
                    .pages()
                    .list_all(&filter, limit.min(250))
                    .try_collect()
                    .await?;
                out.pages(&pages, None)
            } else {
                let page = client
                    .pages()
                    .list(
                        &filter,
                        &PageRequest {
                            limit: Some(limit),
                            cursor,
                        },
                    )
                    .await?;
                out.pages(&page.results, page.next_cursor.as_deref())
            }
        }
        PagesCmd::Create {
            space,
            title,
            parent,
            body,
        } => {
            let body = body.read()?.unwrap_or_default();
            let space_id = space_id(client, &space).await?;
            let page = client
                .pages()
                .create(&NewPage {
                    space_id,
                    title,
                    parent_id: parent,
                    body,
                    status: None,
                })
                .await?;
            out.written("created", &page)
        }
        PagesCmd::Update {
            id,
            title,
            body,
            version,
            message,
        } => {
            let id = PageId::new(id);
            let current = client
                .pages()
                .get(id.clone(), Some(BodyFormat::Storage))
                .await?;
            let current_version = current.version.as_ref().map(|v| v.number).unwrap_or(1);
            let body = match body.read()? {
                Some(b) => b,
                None => current
                    .body
                    .as_ref()
                    .and_then(|b| b.storage.as_ref())
                    .map(|s| s.value.clone())
                    .unwrap_or_default(),
            };
            let update = PageUpdate {
                title: title.unwrap_or(current.title),
                body,
                version: version.unwrap_or(current_version + 1),
                message,
                status: None,
                parent_id: None,
            };
            let page = client.pages().update(id, &update).await?;
            out.written("updated", &page)
        }
        PagesCmd::Delete { id } => {
            client
                .pages()
                .delete(PageId::new(id.clone()), false)
                .await?;
            out.message(&format!("page {id} moved to the trash"))
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum SpacesCmd {
    /// Spaces visible to the account.
    List {
        #[arg(long, default_value_t = 25)]
        limit: u32,
        #[arg(long)]
        cursor: Option<String>,
    },
    /// One space by key or id.
    Get { key_or_id: String },
}

pub async fn spaces(client: &Client, out: &Printer, cmd: SpacesCmd) -> anyhow::Result<()> {
    match cmd {
        SpacesCmd::List { limit, cursor } => {
            let page = client
                .spaces()
                .list(
                    &[],
                    &PageRequest {
                        limit: Some(limit),
                        cursor,
                    },
                )
                .await?;
            out.spaces(&page.results, page.next_cursor.as_deref())
        }
        SpacesCmd::Get { key_or_id } => {
            let space = client.spaces().get_by_key_or_id(&key_or_id).await?;
            out.spaces(std::slice::from_ref(&space), None)
        }
    }
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// The CQL query.
    cql: String,
    #[arg(long, default_value_t = 25)]
    limit: u32,
    #[arg(long)]
    cursor: Option<String>,
    /// CQL context JSON.
    #[arg(long)]
    cqlcontext: Option<String>,
    /// highlight, indexed or none.
    #[arg(long, default_value = "highlight")]
    excerpt: String,
}

pub async fn search(client: &Client, out: &Printer, args: SearchArgs) -> anyhow::Result<()> {
    let excerpt = match args.excerpt.as_str() {
        "highlight" => Excerpt::Highlight,
        "indexed" => Excerpt::Indexed,
        "none" => Excerpt::None,
        other => {
            return Err(ClientError::InvalidInput(format!(
                "excerpt `{other}` is not known: use highlight, indexed or none"
            ))
            .into());
        }
    };
    let params = SearchParams {
        cqlcontext: args.cqlcontext,
        excerpt,
    };
    let page = client
        .search()
        .cql(
            &args.cql,
            &params,
            &PageRequest {
                limit: Some(args.limit),
                cursor: args.cursor,
            },
        )
        .await?;
    out.search(&page)
}
