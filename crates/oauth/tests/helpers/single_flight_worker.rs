//! The helper process of `single_flight_across_processes_on_postgres` (tests/oauth.rs): not a
//! test, and nothing to run on its own. The test starts it with a job in
//! `CONFLUX_OAUTH_TEST_WORKER`; it opens its own store handle on the test's Postgres database,
//! prints `READY`, waits for a line on stdin, makes `calls` concurrent calls with the stored
//! (expired) token, and prints `WORKER ok=N failed=M` with the first failures.
//!
//! A binary of this crate only when the `test-worker` feature is on, which only this crate's
//! own dev-dependency turns on.

use std::io::Write as _;
use std::sync::Arc;

use conflux_client::{ClientConfig, Endpoints, PageRequest, RetryPolicy};
use conflux_oauth::{AppCredentials, OAuthConfig, OAuthFlow};
use conflux_store::{ConnectionKey, EncryptionKey, SqlStore, TenantId, TokenStore, UserId};
use conflux_types::{BaseUrl, Secret};
use tokio::io::AsyncBufReadExt as _;

/// The job the test passes in `CONFLUX_OAUTH_TEST_WORKER` (JSON); the test has the same struct.
#[derive(serde::Deserialize)]
struct WorkerJob {
    database_url: String,
    key_hex: String,
    gateway: String,
    identity: String,
    redirect_uri: String,
    reconnect_url: String,
    client_id: String,
    client_secret: String,
    tenant: String,
    user: String,
    calls: usize,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let Ok(job) = std::env::var("CONFLUX_OAUTH_TEST_WORKER") else {
        eprintln!(
            "this is a helper process of conflux-oauth's test \
             single_flight_across_processes_on_postgres, which starts it; it does nothing alone"
        );
        return std::process::ExitCode::from(2);
    };
    match run(&job).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("worker: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(job: &str) -> Result<(), Error> {
    let job: WorkerJob = serde_json::from_str(job)?;
    let store: Arc<dyn TokenStore> =
        Arc::new(SqlStore::open(&job.database_url, EncryptionKey::parse(&job.key_hex)?).await?);
    let mut config = OAuthConfig::new(
        Endpoints {
            gateway: BaseUrl::parse(&job.gateway)?,
            identity: BaseUrl::parse(&job.identity)?,
        },
        job.redirect_uri.clone(),
        job.reconnect_url.clone(),
    );
    config.central_app = Some(AppCredentials {
        client_id: job.client_id.clone(),
        client_secret: Secret::new(job.client_secret.clone()),
    });
    let flow = OAuthFlow::new(store, config)?;
    let key = ConnectionKey::new(TenantId::new(&job.tenant)?, UserId::new(&job.user)?);
    let client = flow
        .client_for(
            &key,
            ClientConfig {
                retry: RetryPolicy::default(),
                ..ClientConfig::default()
            },
        )
        .await?;

    // Ready; start when the test says so, together with the other processes.
    say("READY")?;
    let mut go = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut go)
        .await?;

    let tasks: Vec<_> = (0..job.calls)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                c.spaces()
                    .list(&[], &PageRequest::limit(5))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut failed = Vec::new();
    for t in tasks {
        if let Err(e) = t.await? {
            failed.push(e);
        }
    }
    say(&format!(
        "WORKER ok={} failed={}",
        job.calls - failed.len(),
        failed.len()
    ))?;
    for f in failed.iter().take(3) {
        say(&format!("  {f}"))?;
    }
    Ok(())
}

fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}
