//! `conflux serve --http` as a deployment of two replicas: two processes of the built binary
//! on one Postgres store, with the same encryption key and the same public URL, which is a
//! round-robin reverse proxy run by this test (each request goes to the other replica). Every
//! step of an MCP client's life alternates between the replicas: discovery, registration,
//! the person's sign-in with Atlassian (the simulator), consent, the token, tool calls, the
//! refresh and the revocation.
//!
//! - A client on the current revision: the official Python SDK's OAuth client
//!   (`tests/python/oauth_client.py`, skipped without the SDK except under `CI=true`).
//! - A client on revision 2025-11-25: rmcp's streamable HTTP client, which sends the bearer
//!   token this test obtained (dynamic registration, PKCE, the person's consent) and refreshes
//!   it before it expires. On that revision the server keeps a session, shared through the
//!   store: the session opened through one replica is used through the other.
//! - Single-flight refresh of the person's Atlassian token: with it expired, 100 concurrent
//!   calls (50 on each replica) make the simulator count one refresh.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use conflux_sim::SimConfig;
use conflux_store::testing::PgServer;
use conflux_store::{ConnectionKey, EncryptionKey, SqlStore, TenantId, TokenStore, UserId};
use conflux_testkit::{Sim, install_crypto};
use futures::stream::BoxStream;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig, ClientJsonRpcMessage, ProtocolVersion};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use serde_json::{Value, json};
use sha2::Digest as _;
use support::{
    Serve, check_python_summary, metadata_document, python_client, python_sdk_or_skip, serve_env,
};

const TEST: &str = "two_replicas_behind_a_round_robin_proxy";
/// Seconds an access token lives: short, so that both clients refresh.
const ACCESS_TOKEN_TTL: u64 = 3;
/// The rmcp client refreshes when its access token has less than this left.
const REFRESH_MARGIN: Duration = Duration::from_millis(1500);

// ------------------------------------------------------------------ the proxy

/// One request the proxy passed on.
#[derive(Clone, Debug)]
struct Hop {
    seq: usize,
    backend: usize,
    method: String,
    path: String,
    /// `grant_type` of a token request.
    grant: Option<String>,
    status: u16,
    /// The MCP session the request names, and the one its answer opens.
    session: Option<String>,
    opened: Option<String>,
    /// A digest of the bearer credential, to tell tokens apart without keeping them.
    bearer: Option<String>,
}

/// A round-robin reverse proxy on loopback: request `n` goes to backend `n % 2`, bodies
/// passed on as they come (event streams included), nothing else changed but the hop-by-hop
/// headers and `Host`.
#[derive(Clone)]
struct Proxy {
    backends: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    http: reqwest::Client,
    hops: Arc<Mutex<Vec<Hop>>>,
}

const HOP_BY_HOP: [&str; 7] = [
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "proxy-connection",
];

impl Proxy {
    fn start(listener: tokio::net::TcpListener, backends: Vec<String>) -> Proxy {
        let proxy = Proxy {
            backends: Arc::new(backends),
            next: Arc::new(AtomicUsize::new(0)),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
            hops: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(proxy.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        proxy
    }

    /// How many requests were answered so far: marks the start of a phase.
    fn mark(&self) -> usize {
        self.next.load(Ordering::SeqCst)
    }

    /// The requests since `mark`, in the order they came.
    fn since(&self, mark: usize) -> Vec<Hop> {
        let mut hops: Vec<Hop> = self
            .hops
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.seq >= mark)
            .cloned()
            .collect();
        hops.sort_by_key(|h| h.seq);
        hops
    }
}

fn digest(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let seq = p.next.fetch_add(1, Ordering::SeqCst);
    let backend = seq % p.backends.len();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    let path = parts.uri.path().to_string();
    let grant = path.ends_with("/oauth/token").then(|| {
        url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    });
    let header = |h: &HeaderMap, name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let bearer =
        header(&parts.headers, "authorization").and_then(|v| v.strip_prefix("Bearer ").map(digest));
    let session = header(&parts.headers, "mcp-session-id");
    let mut headers = parts.headers.clone();
    for h in HOP_BY_HOP {
        headers.remove(h);
    }
    let target = format!(
        "{}{}",
        p.backends[backend],
        parts.uri.path_and_query().map_or("/", |pq| pq.as_str())
    );
    let answer = match p
        .http
        .request(parts.method.clone(), target)
        .headers(headers)
        .body(body)
        .send()
        .await
    {
        Ok(a) => a,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for h in HOP_BY_HOP {
        headers.remove(h);
    }
    p.hops.lock().unwrap().push(Hop {
        seq,
        backend,
        method: parts.method.to_string(),
        path,
        grant,
        status: status.as_u16(),
        session,
        opened: header(&headers, "mcp-session-id"),
        bearer,
    });
    let mut r = Response::new(Body::from_stream(answer.bytes_stream()));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

/// The requests, one a line: `#seq replica METHOD path (grant) -> status`.
fn served(hops: &[Hop]) -> String {
    hops.iter()
        .map(|h| {
            format!(
                "#{} {} {} {}{} -> {}",
                h.seq,
                if h.backend == 0 { "A" } else { "B" },
                h.method,
                h.path,
                h.grant
                    .as_deref()
                    .map(|g| format!(" ({g})"))
                    .unwrap_or_default(),
                h.status
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `METHOD path`, with the grant type of a token request.
fn kind(h: &Hop) -> String {
    match &h.grant {
        Some(g) => format!("{} {} ({g})", h.method, h.path),
        None => format!("{} {}", h.method, h.path),
    }
}

/// Each `first` step was followed at once by a `then` step, served by the other replica and
/// answered with `status`: what one replica stored, the other found.
fn assert_crossed(hops: &[Hop], first: &str, then: &str, status: u16) {
    let mut seen = 0;
    for (i, h) in hops.iter().enumerate() {
        if kind(h) != first {
            continue;
        }
        seen += 1;
        let next = &hops[i + 1];
        assert_eq!(kind(next), then, "after {first}:\n{}", served(hops));
        assert_eq!(next.seq, h.seq + 1, "{}", served(hops));
        assert_ne!(next.backend, h.backend, "{}", served(hops));
        assert_eq!(next.status, status, "{then}:\n{}", served(hops));
    }
    assert!(seen > 0, "no {first}:\n{}", served(hops));
}

/// The person's steps crossed the replicas: the sign-in started on one came back to the
/// other, which knew the person at the consent page; the consent answered on one had its code
/// redeemed on the other.
fn assert_authorization_crossed_replicas(hops: &[Hop]) {
    assert_crossed(hops, "POST /signin", "GET /callback", 303);
    assert_crossed(hops, "GET /callback", "GET /oauth/consent", 200);
    assert_crossed(
        hops,
        "POST /oauth/consent",
        "POST /oauth/token (authorization_code)",
        200,
    );
}

// ------------------------------------------------------------------ a person, in Rust

/// A person's browser: cookies kept, redirects followed by hand.
struct Browser {
    http: reqwest::Client,
}

fn location(r: &reqwest::Response) -> String {
    let at = r
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("{} {} is no redirect", r.url(), r.status()));
    r.url().join(at.to_str().unwrap()).unwrap().to_string()
}

/// The action and hidden fields of the form of `page` posting to `…suffix`.
fn form(page: &str, suffix: &str) -> (String, Vec<(String, String)>) {
    for chunk in page.split("<form").skip(1) {
        let chunk = &chunk[..chunk.find("</form>").unwrap_or(chunk.len())];
        let action = chunk
            .split("action=\"")
            .nth(1)
            .and_then(|a| a.split('"').next())
            .unwrap_or_default();
        if !action.ends_with(suffix) {
            continue;
        }
        let fields = chunk
            .split("<input type=\"hidden\" name=\"")
            .skip(1)
            .map(|f| {
                let name = f.split('"').next().unwrap().to_string();
                let value = f
                    .split("value=\"")
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .unwrap_or_default()
                    .to_string();
                (name, value)
            })
            .collect();
        return (action.to_string(), fields);
    }
    panic!("no form posting to …{suffix}: {page}")
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .unwrap(),
        }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    async fn post(&self, url: &str, fields: &[(String, String)]) -> reqwest::Response {
        self.http.post(url).form(fields).send().await.unwrap()
    }

    /// Answers an MCP client's authorization request as `account`: signs in with Atlassian
    /// from the consent page, then allows. Returns the query the client's redirect URI gets.
    async fn approve(&self, authorization_url: &str, account: &str) -> HashMap<String, String> {
        let r = self.get(authorization_url).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let consent = location(&r);
        assert!(consent.ends_with("/oauth/consent"), "{consent}");
        let page = self.get(&consent).await.text().await.unwrap();
        let (action, mut fields) = form(&page, "/signin");
        assert!(fields.contains(&("return_to".into(), "consent".into())));
        let to_atlassian = self
            .post(
                url::Url::parse(&consent)
                    .unwrap()
                    .join(&action)
                    .unwrap()
                    .as_str(),
                &fields,
            )
            .await;
        let atlassian = self.get(&location(&to_atlassian)).await;
        assert_eq!(atlassian.status(), StatusCode::OK);
        let consent_id = atlassian.headers()["x-sim-consent-id"]
            .to_str()
            .unwrap()
            .to_string();
        let decision = atlassian.url().join("/authorize/decision").unwrap();
        let back = self
            .post(
                decision.as_str(),
                &[
                    ("consent".into(), consent_id),
                    ("decision".into(), "accept".into()),
                    ("account".into(), account.into()),
                ],
            )
            .await;
        let callback = self.get(&location(&back)).await;
        assert_eq!(location(&callback), consent, "back at the consent page");
        let page = self.get(&consent).await.text().await.unwrap();
        assert!(page.contains("id=\"approve\""), "{page}");
        (_, fields) = form(&page, "/oauth/consent");
        fields.push(("decision".into(), "approve".into()));
        let answer = self.post(&consent, &fields).await;
        url::Url::parse(&location(&answer))
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }
}

// ------------------------------------------------------------------ an rmcp client on 2025-11-25

/// The tokens of an OAuth client, refreshed (once, whoever asks) when they are about to
/// expire.
#[derive(Clone)]
struct Tokens {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    held: Arc<tokio::sync::Mutex<Held>>,
}

struct Held {
    access: String,
    refresh: String,
    expires_at: Instant,
}

impl Held {
    fn from_answer(v: &Value) -> Held {
        Held {
            access: v["access_token"].as_str().unwrap().to_string(),
            refresh: v["refresh_token"].as_str().unwrap().to_string(),
            expires_at: Instant::now() + Duration::from_secs(v["expires_in"].as_u64().unwrap()),
        }
    }
}

impl Tokens {
    async fn access(&self) -> String {
        let mut held = self.held.lock().await;
        if Instant::now() + REFRESH_MARGIN >= held.expires_at {
            let r = self
                .http
                .post(&self.token_url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", held.refresh.as_str()),
                    ("client_id", self.client_id.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            *held = Held::from_answer(&r.json().await.unwrap());
        }
        held.access.clone()
    }
}

/// rmcp's reqwest client, sending the current access token on every request.
#[derive(Clone)]
struct WithTokens {
    http: reqwest::Client,
    tokens: Tokens,
}

impl StreamableHttpClient for WithTokens {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let token = self.tokens.access().await;
        self.http
            .post_message(uri, message, session_id, Some(token), custom_headers)
            .await
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let token = self.tokens.access().await;
        self.http
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                Some(token),
                custom_headers,
                limits,
            )
            .await
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<reqwest::Error>> {
        let token = self.tokens.access().await;
        self.http
            .delete_session(uri, session_id, Some(token), custom_headers)
            .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<
        BoxStream<'static, Result<sse_stream::Sse, SseError>>,
        StreamableHttpError<reqwest::Error>,
    > {
        let token = self.tokens.access().await;
        self.http
            .get_stream(uri, session_id, last_event_id, Some(token), custom_headers)
            .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        _auth: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<
        BoxStream<'static, Result<sse_stream::Sse, SseError>>,
        StreamableHttpError<reqwest::Error>,
    > {
        let token = self.tokens.access().await;
        self.http
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                Some(token),
                custom_headers,
                max_sse_event_size,
            )
            .await
    }
}

/// Registers a client (RFC 7591) and has `account` authorize it through `base`: PKCE, the
/// resource, the person's sign-in and consent; returns its tokens, and the person's browser,
/// signed in.
async fn authorize_rmcp_client(base: &str, account: &str) -> (Tokens, Browser) {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let redirect = "http://127.0.0.1:9/rmcp-callback";
    let r = http
        .post(format!("{base}/oauth/register"))
        .json(&json!({"client_name": "Conflux e2e (rmcp, 2025-11-25)", "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let client_id = r.json::<Value>().await.unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let state = uuid::Uuid::new_v4().simple().to_string();
    let mut authorize = url::Url::parse(&format!("{base}/oauth/authorize")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("scope", "tools:read tools:write")
        .append_pair("resource", &format!("{base}/mcp"));
    let browser = Browser::new();
    let answer = browser.approve(authorize.as_str(), account).await;
    assert_eq!(answer["state"], state);
    assert_eq!(answer["iss"], base);
    let r = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", answer["code"].as_str()),
            ("redirect_uri", redirect),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
            ("resource", &format!("{base}/mcp")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let held = Held::from_answer(&r.json().await.unwrap());
    let tokens = Tokens {
        http,
        token_url: format!("{base}/oauth/token"),
        client_id,
        held: Arc::new(tokio::sync::Mutex::new(held)),
    };
    (tokens, browser)
}

impl Browser {
    /// Makes a personal access key on the person's page; returns it (shown once).
    async fn make_access_key(&self, base: &str, name: &str) -> String {
        let page = self.get(&format!("{base}/")).await.text().await.unwrap();
        let (action, mut fields) = form(&page, "/keys");
        fields.push(("name".into(), name.into()));
        let page = self
            .post(&format!("{base}{action}"), &fields)
            .await
            .text()
            .await
            .unwrap();
        let at =
            page.find("id=\"new-key\">").expect("the new key is shown") + "id=\"new-key\">".len();
        page[at..at + page[at..].find('<').unwrap()].to_string()
    }
}

async fn spaces(peer: &rmcp::Peer<rmcp::RoleClient>) -> Result<String, String> {
    let r = peer
        .call_tool(
            CallToolRequestParams::new("spaces").with_arguments(
                json!({"action": "list", "limit": 5})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .map_err(|e| e.to_string())?;
    let text = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    if r.is_error == Some(true) {
        Err(text)
    } else {
        Ok(text)
    }
}

// ------------------------------------------------------------------ the test

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_behind_a_round_robin_proxy() {
    let started = Instant::now();
    install_crypto();
    let Some(pg) = PgServer::shared_or_skip(TEST).await else {
        return;
    };
    let database = pg.create_database("serve_http").await;
    let key = EncryptionKey::generate();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let sim =
        Sim::start(SimConfig::demo(21).with_redirect_uris(vec![format!("{public}/callback")]))
            .await;
    let info = sim.info.clone();
    let dir = tempfile::tempdir().unwrap();
    let doc = metadata_document(dir.path()).await;
    let mut env = serve_env(&info, &doc.ca_file, ACCESS_TOKEN_TTL);
    env.extend([
        ("CONFLUX_DATABASE_URL", database.clone()),
        ("CONFLUX_ENCRYPTION_KEY", key.to_hex()),
        ("CONFLUX_PUBLIC_URL", public.clone()),
    ]);
    let (a, b) = tokio::join!(
        Serve::start(dir.path(), &env),
        Serve::start(dir.path(), &env)
    );
    let proxy = Proxy::start(listener, vec![a.url.clone(), b.url.clone()]);
    let mcp = format!("{public}/mcp");
    eprintln!(
        "[{:?}] Postgres, the simulator and two replicas are up",
        started.elapsed()
    );

    // The current revision: the Python SDK, every step through the proxy.
    if python_sdk_or_skip(&format!("{TEST} (the Python SDK part)")).await {
        let mark = proxy.mark();
        let demo = info.demo_account().unwrap();
        // Revocation reaches the other replica within its verification cache (5 s).
        let summary = python_client(&mcp, &demo.account_id, &doc.client_id, 15).await;
        let hops = proxy.since(mark);
        eprintln!("{summary:#}\n{}", served(&hops));
        check_python_summary(&summary, &doc.client_id, &mcp, true);
        assert_authorization_crossed_replicas(&hops);
        let refreshes = hops
            .iter()
            .filter(|h| kind(h) == "POST /oauth/token (refresh_token)" && h.status == 200)
            .count();
        assert_eq!(
            refreshes,
            2,
            "one refresh per Python client, seen by the proxy:\n{}",
            served(&hops)
        );
        for backend in [0, 1] {
            assert!(
                hops.iter()
                    .any(|h| h.backend == backend && kind(h) == "POST /mcp" && h.status == 200),
                "calls answered by both replicas:\n{}",
                served(&hops)
            );
        }
    }

    eprintln!("[{:?}] the Python SDK's part is done", started.elapsed());

    // Revision 2025-11-25: rmcp's client, with a session shared through the store.
    let mark = proxy.mark();
    let second = info.second_member().unwrap().clone();
    let (tokens, browser) = authorize_rmcp_client(&public, &second.account_id).await;
    let transport = StreamableHttpClientTransport::with_client(
        WithTokens {
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            tokens: tokens.clone(),
        },
        StreamableHttpClientTransportConfig::with_uri(mcp.clone())
            .max_concurrent_requests(100)
            .reinit_on_expired_session(false),
    );
    let client = ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .serve(transport)
        .await
        .expect("initialize through the proxy");
    let peer_info = client.peer_info().unwrap();
    assert_eq!(peer_info.protocol_version, ProtocolVersion::V_2025_11_25);
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "spaces"));
    spaces(client.peer()).await.unwrap();
    let first_token = tokens.held.lock().await.access.clone();
    // At the end of the token's life (less than the margin left) the client refreshes, and
    // goes on in the same session.
    tokio::time::sleep(
        Duration::from_secs(ACCESS_TOKEN_TTL) - REFRESH_MARGIN + Duration::from_millis(200),
    )
    .await;
    spaces(client.peer()).await.unwrap();
    assert_ne!(tokens.held.lock().await.access, first_token, "refreshed");

    let hops = proxy.since(mark);
    eprintln!("{}", served(&hops));
    assert_authorization_crossed_replicas(&hops);
    let opened: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.opened.is_some() && h.session.is_none())
        .collect();
    assert_eq!(opened.len(), 1, "one session:\n{}", served(&hops));
    let session = opened[0].opened.clone().unwrap();
    let in_session: Vec<&Hop> = hops
        .iter()
        .filter(|h| h.path == "/mcp" && h.session.as_deref() == Some(session.as_str()))
        .collect();
    assert!(
        in_session.iter().all(|h| (200..300).contains(&h.status)),
        "every request of the session answered:\n{}",
        served(&hops)
    );
    assert!(
        in_session.iter().any(|h| h.backend != opened[0].backend),
        "the session opened on one replica is used on the other:\n{}",
        served(&hops)
    );
    let bearers: BTreeSet<&str> = in_session
        .iter()
        .filter_map(|h| h.bearer.as_deref())
        .collect();
    assert!(
        bearers.len() >= 2,
        "the session goes on with the refreshed token"
    );
    assert!(
        hops.iter()
            .any(|h| h.grant.as_deref() == Some("refresh_token") && h.status == 200),
        "the refresh went through the proxy:\n{}",
        served(&hops)
    );

    eprintln!("[{:?}] the rmcp client's part is done", started.elapsed());

    // Single-flight refresh of the Atlassian token across both processes. The calls carry
    // the person's access key (made on `/`), which does not expire during the burst however
    // long the replicas take.
    let access_key = browser
        .make_access_key(&public, "single-flight burst")
        .await;
    let burst_client = ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .serve(StreamableHttpClientTransport::with_client(
            reqwest::Client::builder().no_proxy().build().unwrap(),
            StreamableHttpClientTransportConfig::with_uri(mcp.clone())
                .auth_header(access_key)
                .max_concurrent_requests(100)
                .reinit_on_expired_session(false),
        ))
        .await
        .expect("initialize with the access key");
    // Expired on both sides: the stored expiry and the simulator's clock.
    let store = SqlStore::open(&database, key.clone()).await.unwrap();
    let connection = ConnectionKey::new(
        TenantId::new("default").unwrap(),
        UserId::new(second.account_id.clone()).unwrap(),
    );
    let c = store
        .connection(&connection)
        .await
        .unwrap()
        .expect("connected at sign-in");
    let mut stale = c.tokens.clone();
    stale.expires_at = Some(SystemTime::now() - Duration::from_secs(5));
    store
        .save_connection(
            &connection,
            c.display_name.as_deref(),
            &c.site,
            c.app,
            &stale,
        )
        .await
        .unwrap();
    let admin = sim.admin_api();
    admin.post("/clock/advance", json!({"seconds": 3700})).await;
    admin.post("/stats/reset", json!({})).await;
    let mark = proxy.mark();
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let peer = burst_client.peer().clone();
            tokio::spawn(async move { spaces(&peer).await })
        })
        .collect();
    let mut failed = Vec::new();
    for c in calls {
        if let Err(e) = c.await.unwrap() {
            failed.push(e);
        }
    }
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    let burst = proxy.since(mark);
    for backend in [0, 1] {
        let n = burst
            .iter()
            .filter(|h| h.backend == backend && kind(h) == "POST /mcp")
            .count();
        assert!(n >= 45, "about half the calls on replica {backend}: {n}");
    }
    eprintln!("[{:?}] 100 concurrent calls answered", started.elapsed());
    let stats: Value = reqwest::Client::new()
        .get(format!("{}/stats", info.admin_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
    let after = store.connection(&connection).await.unwrap().unwrap();
    assert_eq!(
        after.generation,
        c.generation + 2,
        "one save above, one refresh"
    );

    client.cancel().await.unwrap();
    burst_client.cancel().await.unwrap();
    for s in [a, b] {
        let log = s.stop().await;
        for secret in [
            info.oauth_client.client_secret.as_str(),
            after.tokens.access.expose().as_str(),
            "cfxsim-",
        ] {
            assert!(!log.contains(secret), "a secret in a server's log");
        }
    }
    drop(sim);
}
