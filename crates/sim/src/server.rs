//! Listeners, what every request goes through (injected faults, the body limit, counters and
//! the request log) around the router, and the handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{Faults, SimConfig};
use crate::error::{Result, SimError};
use crate::http::{Face, Req, Resp, json_resp, parse_query, set_header};
use crate::info::{Account, SimInfo};
use crate::state::{RECENT_REQUESTS, RequestRecord, Shared, State, Urls};

/// Largest request body accepted (attachments included).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A running simulator. Dropping it stops the listeners.
pub struct SimHandle {
    shared: Arc<Shared>,
    info: SimInfo,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("site_url", &self.info.site_url)
            .field("gateway_url", &self.info.gateway_url)
            .field("identity_url", &self.info.identity_url)
            .field("admin_url", &self.info.admin_url)
            .finish()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: stands in for `https://{site}.atlassian.net`.
    pub fn site_url(&self) -> &str {
        &self.info.site_url
    }

    /// Stands in for `https://api.atlassian.com`.
    pub fn gateway_url(&self) -> &str {
        &self.info.gateway_url
    }

    /// Stands in for `https://auth.atlassian.com`.
    pub fn identity_url(&self) -> &str {
        &self.info.identity_url
    }

    pub fn admin_url(&self) -> &str {
        &self.info.admin_url
    }

    pub fn cloud_id(&self) -> &str {
        &self.info.cloud_id
    }

    /// `{gateway}/ex/confluence/{cloudId}`, the base a token user puts before `/wiki/...`.
    pub fn gateway_base(&self) -> String {
        format!(
            "{}/ex/confluence/{}",
            self.info.gateway_url, self.info.cloud_id
        )
    }

    /// The JSON contract printed by `conflux sim` (demo credentials included).
    pub fn info(&self) -> SimInfo {
        self.shared.info()
    }

    /// The accounts the consent page offers now (see [`SimInfo::accounts`]); accounts disabled
    /// or added through the admin API since the start show here.
    pub fn accounts(&self) -> Vec<Account> {
        self.shared.info().accounts
    }

    /// Stops the listeners and waits for them (open connections are closed gracefully).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }

    /// Serves until `signal` resolves, then shuts down; `conflux sim` passes
    /// `tokio::signal::ctrl_c()`.
    pub async fn run_until<F: std::future::Future>(self, signal: F) {
        signal.await;
        self.shutdown().await;
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn bind(config: &SimConfig, port: u16, face: &'static str) -> Result<TcpListener> {
    let addr = SocketAddr::new(config.host, port);
    TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind {
            face,
            addr: addr.to_string(),
            source,
        })
}

fn base_url(listener: &TcpListener, over: &Option<String>, face: &'static str) -> Result<String> {
    if let Some(u) = over {
        url::Url::parse(u).map_err(|_| SimError::BadUrl(u.clone()))?;
        return Ok(u.trim_end_matches('/').to_string());
    }
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        face,
        addr: "local address".into(),
        source,
    })?;
    Ok(format!("http://{addr}"))
}

/// Starts a simulator: validates the fixture, binds the four listeners, serves until the handle
/// is dropped or shut down. Must be called inside a Tokio runtime.
pub async fn spawn(config: SimConfig) -> Result<SimHandle> {
    config.fixture.validate()?;
    let site = bind(&config, config.ports.site, "site").await?;
    let gateway = bind(&config, config.ports.gateway, "gateway").await?;
    let identity = bind(&config, config.ports.identity, "identity").await?;
    let admin = bind(&config, config.ports.admin, "admin").await?;
    let urls = Urls {
        site: base_url(&site, &config.public_urls.site, "site")?,
        gateway: base_url(&gateway, &config.public_urls.gateway, "gateway")?,
        identity: base_url(&identity, &config.public_urls.identity, "identity")?,
        admin: base_url(&admin, &config.public_urls.admin, "admin")?,
    };
    let shared = Arc::new(Shared::new(&config, urls));
    let info = shared.info();
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for (listener, face) in [
        (site, Face::Site),
        (gateway, Face::Gateway),
        (identity, Face::Identity),
        (admin, Face::Admin),
    ] {
        tasks.push(tokio::spawn(accept_loop(
            listener,
            face,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    tracing::info!(site = %info.site_url, gateway = %info.gateway_url, identity = %info.identity_url,
        admin = %info.admin_url, "simulator listening");
    Ok(SimHandle {
        shared,
        info,
        stop,
        tasks,
    })
}

async fn accept_loop(
    listener: TcpListener,
    face: Face,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        let (stream, _) = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { handle(shared, face, req).await }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

/// Returned to hyper to close a connection without answering (the "dropped connection" fault).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

enum FaultAction {
    Fail(u16, Option<u64>),
    Drop,
}

fn fault_applies(f: &Faults, face: Face, method: &str, path: &str) -> bool {
    f.face
        .as_deref()
        .is_none_or(|x| x.eq_ignore_ascii_case(face.name()))
        && f.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
        && f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
}

/// Decides the fault for one request (under the lock, with the seeded generator).
fn pick_fault(st: &mut State, face: Face, method: &str, path: &str) -> (u64, Option<FaultAction>) {
    if face == Face::Admin || !fault_applies(&st.faults, face, method, path) {
        return (0, None);
    }
    let latency = st.faults.latency_ms;
    if let Some(next) = st.faults.fail_next.as_mut()
        && next.count > 0
    {
        next.count -= 1;
        let action = if next.drop {
            FaultAction::Drop
        } else {
            FaultAction::Fail(next.status, next.retry_after)
        };
        if next.count == 0 {
            st.faults.fail_next = None;
        }
        return (latency, Some(action));
    }
    let (drop_rate, error_rate) = (st.faults.drop_rate, st.faults.error_rate);
    if drop_rate > 0.0 && st.rng.random_bool(drop_rate.clamp(0.0, 1.0)) {
        return (latency, Some(FaultAction::Drop));
    }
    if error_rate > 0.0 && st.rng.random_bool(error_rate.clamp(0.0, 1.0)) {
        let status = if st.faults.error_status == 0 {
            503
        } else {
            st.faults.error_status
        };
        return (latency, Some(FaultAction::Fail(status, None)));
    }
    (latency, None)
}

/// The "applied, then lost" fault for a write that succeeded.
fn after_apply(
    shared: &Shared,
    face: Face,
    method: &str,
    path: &str,
    status: u16,
) -> Option<FaultAction> {
    if !matches!(face, Face::Site | Face::Gateway) || !(200..300).contains(&status) {
        return None;
    }
    let mut st = shared.lock();
    let f = st.faults.after_apply.clone()?;
    if !f.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
        || f.path_prefix
            .as_deref()
            .is_some_and(|p| !path.starts_with(p))
    {
        return None;
    }
    if f.drop_rate > 0.0 && st.rng.random_bool(f.drop_rate.clamp(0.0, 1.0)) {
        return Some(FaultAction::Drop);
    }
    if f.error_rate > 0.0 && st.rng.random_bool(f.error_rate.clamp(0.0, 1.0)) {
        let status = if f.status == 0 { 503 } else { f.status };
        return Some(FaultAction::Fail(status, None));
    }
    None
}

/// The API path of a request: on the gateway, `/ex/confluence/{cloudId}` is cut off.
fn api_path(face: Face, path: &str) -> (String, String) {
    if face == Face::Gateway
        && let Some(rest) = path.strip_prefix("/ex/confluence/")
    {
        let (cloud, tail) = rest.split_once('/').unwrap_or((rest, ""));
        return (format!("/ex/confluence/{cloud}"), format!("/{tail}"));
    }
    (String::new(), path.to_string())
}

async fn handle(
    shared: Arc<Shared>,
    face: Face,
    req: http::Request<Incoming>,
) -> std::result::Result<Resp, Dropped> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let (prefix, path) = api_path(face, &raw_path);

    let target_len = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    let (arrived_ms, latency, fault) = {
        let mut st = shared.lock();
        if matches!(face, Face::Site | Face::Gateway) {
            st.stats.requests += 1;
            let limit = st.behaviour.max_url_length;
            if limit > 0 && target_len > limit {
                let r = json_resp(
                    414,
                    &json!({"message": format!(
                        "URI Too Long: the request target is {target_len} bytes, over {limit}"
                    )}),
                );
                *st.stats.by_status.entry(414).or_default() += 1;
                let now = st.now_ms();
                record(&mut st, now, method.as_str(), &raw_path, &r);
                return Ok(r);
            }
        }
        let (latency, fault) = pick_fault(&mut st, face, method.as_str(), &path);
        (st.now_ms(), latency, fault)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match fault {
        Some(FaultAction::Drop) => {
            shared.lock().stats.dropped += 1;
            tracing::debug!(face = face.name(), %method, path = %raw_path, "fault: dropping connection");
            return Err(Dropped);
        }
        Some(FaultAction::Fail(status, retry_after)) => {
            let v2 = path.starts_with("/wiki/api/v2/");
            let mut r = crate::http::ApiErr::Status(status, "Injected fault (simulator).".into())
                .into_resp(v2);
            if let Some(s) = retry_after {
                set_header(&mut r, "retry-after", &s.to_string());
            }
            let mut st = shared.lock();
            st.stats.faults_injected += 1;
            *st.stats.by_status.entry(status).or_default() += 1;
            record(&mut st, arrived_ms, method.as_str(), &raw_path, &r);
            drop(st);
            tracing::debug!(face = face.name(), %method, path = %raw_path, status, "fault: injected error");
            return Ok(r);
        }
        None => {}
    }

    let body: Bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(json_resp(
                413,
                &json!({"message": "request body too large or unreadable"}),
            ));
        }
    };
    let req = Req {
        face,
        method,
        path,
        prefix,
        query: parse_query(&raw_query),
        headers: parts.headers,
        body,
    };
    let resp = crate::router::answer(&shared, &req);
    let mut status = resp.status().as_u16();
    let resp = match after_apply(&shared, face, req.method.as_str(), &req.path, status) {
        Some(FaultAction::Drop) => {
            let mut st = shared.lock();
            st.stats.dropped += 1;
            st.stats.lost_answers += 1;
            drop(st);
            tracing::debug!(face = face.name(), method = %req.method, path = %raw_path,
                "fault: write applied, answer dropped");
            return Err(Dropped);
        }
        Some(FaultAction::Fail(s, _)) => {
            {
                let mut st = shared.lock();
                st.stats.faults_injected += 1;
                st.stats.failed_after_apply += 1;
            }
            status = s;
            crate::http::ApiErr::Status(
                s,
                "Injected fault after the write was applied (simulator).".into(),
            )
            .into_resp(req.path.starts_with("/wiki/api/v2/"))
        }
        None => resp,
    };
    if face != Face::Admin {
        let mut st = shared.lock();
        *st.stats.by_status.entry(status).or_default() += 1;
        if face != Face::Identity {
            record(&mut st, arrived_ms, req.method.as_str(), &raw_path, &resp);
        }
    }
    tracing::debug!(face = face.name(), method = %req.method, path = %raw_path, status,
        ms = started.elapsed().as_millis() as u64, "request");
    Ok(resp)
}

/// Adds an answered site or gateway request to `recent_requests`, dropping the oldest.
fn record(st: &mut State, at_ms: i64, method: &str, path: &str, resp: &Resp) {
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let log = &mut st.stats.recent_requests;
    if log.len() == RECENT_REQUESTS {
        log.pop_front();
    }
    log.push_back(RequestRecord {
        at_ms,
        method: method.to_string(),
        path: path.to_string(),
        status: resp.status().as_u16(),
        retry_after,
    });
}
