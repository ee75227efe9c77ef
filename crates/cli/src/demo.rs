//! `--demo` and `conflux demo`: Conflux on the built-in simulator, with nothing to configure.
//! The simulator runs in-process; nothing of its start-up JSON reaches stdout.

use conflux_client::api::{NewPage, PageList};
use conflux_client::{
    Client, ClientConfig, CredentialConfig, Endpoints, PageRequest, TokenKindHint,
};
use conflux_sim::{SimConfig, SimHandle};
use conflux_types::{BaseUrl, Secret, SiteUrl};

use crate::settings::Layer;
use crate::stdout::outln;

/// The demo seed: fixed, so the demo site is the same every run.
const DEMO_SEED: u64 = 1;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DemoCredential {
    /// The classic API token (site URL).
    Classic,
    /// The scoped API token with every read/write/delete scope (gateway).
    Scoped,
    /// The scoped API token with read scopes only (gateway).
    ScopedRead,
}

/// Starts the demo simulator and returns settings pointing at it with the chosen credential.
pub async fn start(who: DemoCredential) -> anyhow::Result<(SimHandle, Layer)> {
    let sim = conflux_sim::spawn(SimConfig::demo(DEMO_SEED)).await?;
    let info = sim.info();
    let (email, token) = match who {
        DemoCredential::Classic => (info.classic_token.email, info.classic_token.token),
        DemoCredential::Scoped => (info.scoped_tokens.full.email, info.scoped_tokens.full.token),
        DemoCredential::ScopedRead => (
            info.scoped_tokens.read_only.email,
            info.scoped_tokens.read_only.token,
        ),
    };
    let layer = Layer {
        url: Some(info.site_url),
        username: Some(email),
        api_token: Some(Secret::new(token)),
        gateway_url: Some(info.gateway_url),
        identity_url: Some(info.identity_url),
        ..Layer::default()
    };
    Ok((sim, layer))
}

fn step(n: u32, title: &str) -> std::io::Result<()> {
    outln!("\n[{n}] {title}")
}

/// A short, real tour: every line below comes from calls to the running simulator.
pub async fn tour() -> anyhow::Result<()> {
    let sim = conflux_sim::spawn(SimConfig::demo(DEMO_SEED)).await?;
    let info = sim.info();
    outln!("Conflux demo: a simulated Confluence Cloud site is running on this machine.")?;
    outln!(
        "  site    {}\n  gateway {}\n  cloudId {}",
        info.site_url,
        info.gateway_url,
        info.cloud_id
    )?;

    let config = ClientConfig {
        endpoints: Endpoints {
            gateway: BaseUrl::parse(&info.gateway_url)?,
            identity: BaseUrl::parse(&info.identity_url)?,
        },
        ..ClientConfig::default()
    };
    let site = SiteUrl::parse(&info.site_url)?;
    let api_token = |email: &str, token: &str| CredentialConfig::ApiToken {
        email: email.to_string(),
        token: Secret::new(token.to_string()),
        site: Some(site.clone()),
        cloud_id: None,
        kind: TokenKindHint::Detect,
        scopes: None,
    };

    step(
        1,
        "Two API tokens that look alike; Conflux tells them apart by trying",
    )?;
    let classic = Client::connect(
        api_token(&info.classic_token.email, &info.classic_token.token),
        config.clone(),
    )
    .await?;
    outln!(
        "  token A: {} -> {} ({})",
        classic.credential().kind().describe(),
        classic.route().name(),
        classic.route().root()
    )?;
    let read_only = Client::connect(
        api_token(
            &info.scoped_tokens.read_only.email,
            &info.scoped_tokens.read_only.token,
        ),
        config.clone(),
    )
    .await?;
    outln!(
        "  token B: {} -> {} ({})",
        read_only.credential().kind().describe(),
        read_only.route().name(),
        read_only.route().root()
    )?;

    step(
        2,
        "Spaces visible to the demo user (token B, through the gateway)",
    )?;
    let spaces = read_only
        .spaces()
        .list(&[], &PageRequest::limit(10))
        .await?;
    for s in &spaces.results {
        outln!("  {:<6} {}", s.key, s.name)?;
    }

    step(
        3,
        "CQL search: type = page AND text ~ \"runbook\" ORDER BY lastmodified DESC",
    )?;
    let found = read_only
        .search()
        .cql(
            "type = page AND text ~ \"runbook\" ORDER BY lastmodified DESC",
            &Default::default(),
            &PageRequest::limit(5),
        )
        .await?;
    for r in &found.results {
        let id = r.content.as_ref().map(|c| c.id.as_str()).unwrap_or("");
        outln!("  {id:>8}  {}", r.title)?;
    }
    outln!(
        "  ({} of {} result(s))",
        found.results.len(),
        found.total_size.unwrap_or(found.results.len() as u64)
    )?;

    if let Some(first) = spaces.results.first() {
        let filter = PageList {
            space_id: Some(first.id.clone()),
            ..Default::default()
        };
        let pages = read_only
            .pages()
            .list(&filter, &PageRequest::limit(3))
            .await?;
        if let Some(p) = pages.results.first() {
            step(
                4,
                &format!("Reading a page of {} with its storage body", first.key),
            )?;
            let page = read_only
                .pages()
                .get(
                    p.id.clone().into(),
                    Some(conflux_client::api::BodyFormat::Storage),
                )
                .await?;
            let body = page
                .body
                .as_ref()
                .and_then(|b| b.storage.as_ref())
                .map(|b| b.value.len())
                .unwrap_or(0);
            outln!(
                "  \"{}\" (id {}, version {}, {} bytes of storage format)",
                page.title,
                page.id,
                page.version.map(|v| v.number).unwrap_or(0),
                body
            )?;
        }

        step(
            5,
            "A write with the read-only token: refused, and Conflux says exactly why",
        )?;
        let attempt = read_only
            .pages()
            .create(&NewPage {
                space_id: first.id.clone(),
                title: "Created from the demo".into(),
                parent_id: None,
                body: "<p>hello</p>".into(),
                status: None,
            })
            .await;
        match attempt {
            Err(e) => {
                outln!("  error: {e}")?;
                outln!("  hint:  {}", e.hint())?;
            }
            Ok(p) => outln!("  unexpectedly created page {}", p.id)?,
        }
    }

    outln!("\nTry it yourself (each starts its own simulator):")?;
    outln!("  conflux --demo spaces list")?;
    outln!("  conflux --demo search 'type = page AND label = runbook'")?;
    outln!("  conflux --demo --demo-as scoped-read pages list --space ENG --limit 5")?;
    outln!("  conflux sim    # run the simulator and print its URLs and demo credentials")?;
    sim.shutdown().await;
    Ok(())
}
