//! Test support (feature `test-support`): a throwaway CA and an https server on 127.0.0.1 that
//! answers whatever a test sets for each path, so client metadata documents travel over real TLS.
//!
//! The server counts TCP connections and requests, so a test can show that a refused fetch sent
//! nothing. End-to-end tests elsewhere can serve a document for a child process (say an MCP
//! client written in Python) and hand it the CA with `std::fs::write(path, server.ca_pem())`.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use conflux_authz::client_metadata::ClientMetadataFetcher;
//! use conflux_authz::testing::{TestResponse, TestServer, sample_client_metadata};
//!
//! let server = TestServer::start().await?;
//! let client_id = server.url("/client.json");
//! let document = sample_client_metadata(&client_id, &["http://127.0.0.1:9/callback"]);
//! server.serve("/client.json", TestResponse::json(&document));
//! let fetcher = ClientMetadataFetcher::new(server.fetch_policy()).expect("policy");
//! let client = fetcher.fetch(&client_id).await.expect("fetched");
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::IntoFuture;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::client_metadata::FetchPolicy;

/// A certificate authority that lives as long as the test: its key never touches the disk.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    cert_pem: String,
}

impl TestCa {
    /// Makes a new CA with a fresh P-256 key.
    pub fn new() -> io::Result<Self> {
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Conflux throwaway test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, key).map_err(io::Error::other)?;
        let cert_pem = issuer.pem();
        Ok(Self { issuer, cert_pem })
    }

    /// The CA certificate as PEM: for `FetchPolicy::extra_roots_pem`, or for a file that a child
    /// process trusts (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a server certificate for `names` (DNS names or IP addresses), with the extensions
    /// strict verifiers (Python's `VERIFY_X509_STRICT`) ask for.
    pub fn issue(&self, names: &[&str]) -> io::Result<TestLeaf> {
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).map_err(io::Error::other)?;
        if let Some(first) = names.first() {
            params
                .distinguished_name
                .push(DnType::CommonName, first.as_str());
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(io::Error::other)?;
        Ok(TestLeaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }
}

/// A server certificate and its key, issued by a [`TestCa`].
pub struct TestLeaf {
    /// The certificate as PEM.
    pub cert_pem: String,
    /// The private key as PKCS #8 PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl TestLeaf {
    /// A rustls server configuration presenting this certificate, speaking HTTP/1.1.
    pub fn server_config(&self) -> io::Result<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivatePkcs8KeyDer::from(self.key_der.clone()).into();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .map_err(io::Error::other)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// What the test server answers at one path.
#[derive(Clone, Debug)]
pub struct TestResponse {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: TestBody,
    delay: Duration,
}

#[derive(Clone, Debug)]
enum TestBody {
    Full(Bytes),
    Chunked { chunk: Bytes, count: usize },
}

impl TestResponse {
    /// 200 with `value` as `application/json`.
    pub fn json(value: &serde_json::Value) -> Self {
        Self::status(200)
            .header("content-type", "application/json")
            .body(value.to_string())
    }

    /// An empty answer with this status.
    pub fn status(status: u16) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: TestBody::Full(Bytes::new()),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header (an invalid name or value is left out of the answer).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body, sent with Content-Length.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = TestBody::Full(body.into());
        self
    }

    /// Sets a body of `count` copies of `chunk`, streamed chunked without Content-Length, so
    /// only a reader that counts bytes notices its size.
    pub fn chunked(mut self, chunk: impl Into<Bytes>, count: usize) -> Self {
        self.body = TestBody::Chunked {
            chunk: chunk.into(),
            count,
        };
        self
    }

    /// Waits this long before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn into_response(self) -> Response {
        let body = match self.body {
            TestBody::Full(bytes) => Body::from(bytes),
            TestBody::Chunked { chunk, count } => Body::from_stream(futures::stream::iter(
                (0..count).map(move |_| Ok::<_, Infallible>(chunk.clone())),
            )),
        };
        let mut response = (self.status, body).into_response();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

/// A minimal valid client metadata document for `client_id`, named "Test client".
pub fn sample_client_metadata(client_id: &str, redirect_uris: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "client_id": client_id,
        "client_name": "Test client",
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, TestResponse>>,
    requests: Mutex<HashMap<String, usize>>,
    connections: AtomicUsize,
}

/// An https server on 127.0.0.1 with a certificate from a [`TestCa`] for `localhost`,
/// `127.0.0.1` and `::1`. It stops when dropped.
///
/// Paths without a response set get a 404 that names the method and path.
pub struct TestServer {
    addr: SocketAddr,
    ca_pem: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Starts a server with a CA of its own.
    pub async fn start() -> io::Result<Self> {
        Self::start_with(&TestCa::new()?, &[]).await
    }

    /// Starts a server whose certificate comes from `ca` and also names `extra_names`.
    pub async fn start_with(ca: &TestCa, extra_names: &[&str]) -> io::Result<Self> {
        let mut names = vec!["localhost", "127.0.0.1", "::1"];
        names.extend_from_slice(extra_names);
        let config = ca.issue(&names)?.server_config()?;
        let tcp = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = tcp.local_addr()?;
        let shared = Arc::new(Shared::default());
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            shared: Arc::clone(&shared),
        };
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).into_future().await;
        });
        Ok(Self {
            addr,
            ca_pem: ca.cert_pem().to_owned(),
            shared,
            task,
        })
    }

    /// Sets the answer for `path` (with its query, if any), replacing an earlier one.
    pub fn serve(&self, path: &str, response: TestResponse) {
        lock(&self.shared.routes).insert(path.to_owned(), response);
    }

    /// The address it listens on (127.0.0.1 and a free port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `https://localhost:PORT`.
    pub fn localhost_base_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// `https://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The CA certificate (PEM) that the server's certificate chains to.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A fetch policy that reaches this server: loopback allowed, its CA trusted.
    pub fn fetch_policy(&self) -> FetchPolicy {
        FetchPolicy {
            allow_private: true,
            extra_roots_pem: vec![self.ca_pem.clone().into_bytes()],
            ..FetchPolicy::default()
        }
    }

    /// TCP connections accepted so far, TLS handshakes that failed included.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Requests received for `path` (with its query, if any).
    pub fn requests(&self, path: &str) -> usize {
        lock(&self.shared.requests).get(path).copied().unwrap_or(0)
    }

    /// Requests received for any path.
    pub fn total_requests(&self) -> usize {
        lock(&self.shared.requests).values().sum()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path_and_query().map_or_else(
        || request.uri().path().to_owned(),
        |p| p.as_str().to_owned(),
    );
    *lock(&shared.requests).entry(path.clone()).or_default() += 1;
    let response = lock(&shared.routes).get(&path).cloned();
    let Some(response) = response else {
        let message = format!(
            "test server: no response set for {} {path}",
            request.method()
        );
        return (StatusCode::NOT_FOUND, message).into_response();
    };
    tokio::time::sleep(response.delay).await;
    response.into_response()
}

/// Accepts TCP connections and completes the TLS handshake before handing them to axum.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            self.shared.connections.fetch_add(1, Ordering::SeqCst);
            let handshake = self.acceptor.accept(tcp);
            if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(5), handshake).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
