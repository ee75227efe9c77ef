//! The fetcher: resolve, vet, connect to the vetted address, read a bounded answer, check it.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use url::{Host, Url};

use super::address::refused_range;
use super::cache::cache_for;
use super::client_id::check_client_id_url;
use super::document::{ClientMetadata, parse_object};
use super::error::{ClientMetadataError, excerpt};

/// What the fetcher may reach and how much it reads.
///
/// The defaults suit a server on the internet: public addresses only, the system's trust roots,
/// 5 seconds and 16 KiB per document.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Allow loopback, private, link-local and other non-public addresses after resolution, for
    /// tests and private deployments whose clients live on the internal network. Default false.
    pub allow_private: bool,
    /// Extra trust roots (PEM, one or more certificates each) beside the system's, e.g. a private
    /// PKI or a test CA.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Time limit for the whole fetch: lookup, connection, answer and body. Default 5 s.
    pub timeout: Duration,
    /// Largest document read, in bytes. Default 16 KiB: documents are small, and reading is
    /// stopped at the limit whatever Content-Length says.
    pub max_bytes: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            extra_roots_pem: Vec::new(),
            timeout: Duration::from_secs(5),
            max_bytes: 16 * 1024,
        }
    }
}

/// A fetched, checked client metadata document, and how long it may be reused.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchedClient {
    /// The document's metadata; its `client_id` is the URL it was fetched from.
    pub metadata: ClientMetadata,
    /// How long the caller may keep it: Cache-Control max-age (less Age, capped at
    /// [`MAX_CACHE_FOR`](super::MAX_CACHE_FOR)), zero for no-store or no-cache, and
    /// [`DEFAULT_CACHE_FOR`](super::DEFAULT_CACHE_FOR) without either.
    pub cache_for: Duration,
}

/// Fetches and checks Client ID Metadata Documents from public https URLs only.
///
/// Cheap to clone: clones share one HTTP client. Build one per server, as building reads the
/// system's trust roots.
#[derive(Clone, Debug)]
pub struct ClientMetadataFetcher {
    http: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
    max_bytes: usize,
}

/// A host name lookup: the system resolver, or a stand-in in tests.
pub(crate) type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> + Send + Sync,
>;

fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    })
}

impl ClientMetadataFetcher {
    /// Builds the fetcher's HTTP client from a policy.
    ///
    /// Fails when an extra root is not a PEM certificate, or when there is no trust root at all
    /// (no system CA certificates and no extra root).
    pub fn new(policy: FetchPolicy) -> Result<Self, ClientMetadataError> {
        Self::with_lookup(policy, system_lookup())
    }

    /// [`new`](Self::new) with the host name lookup given, so tests can script DNS answers.
    pub(crate) fn with_lookup(
        policy: FetchPolicy,
        lookup: Lookup,
    ) -> Result<Self, ClientMetadataError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let roots = extra_roots(&policy.extra_roots_pem)?;
        let resolver = VettingResolver {
            lookup,
            allow_private: policy.allow_private,
        };
        let http = reqwest::Client::builder()
            // Extra roots join the system's: reqwest hands both to rustls-platform-verifier
            // (`Verifier::new_with_extra_roots`), which checks the chain and the host name.
            .tls_certs_merge(roots)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the vetting.
            .no_proxy()
            // Every connection to a name takes its addresses from this resolver, which vets
            // them; the connector then connects to exactly those addresses.
            .dns_resolver(resolver)
            // No idle connections to hosts that strangers name.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("conflux-authz/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| ClientMetadataError::Setup { source })?;
        Ok(Self {
            http,
            allow_private: policy.allow_private,
            timeout: policy.timeout,
            max_bytes: policy.max_bytes,
        })
    }

    /// Fetches the document at `client_id` and checks it.
    ///
    /// Nothing is sent when the client_id is not an acceptable URL ([`is_client_id_url`]) or
    /// when its host is, or resolves to, a non-public address (unless the policy allows them).
    ///
    /// [`is_client_id_url`]: super::is_client_id_url
    pub async fn fetch(&self, client_id: &str) -> Result<FetchedClient, ClientMetadataError> {
        let url = check_client_id_url(client_id).map_err(|problem| {
            ClientMetadataError::NotAClientIdUrl {
                client_id: excerpt(client_id),
                problem,
            }
        })?;
        // The connector asks the resolver only about names, so an address in the URL is
        // vetted here.
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(addr) = literal
            && !self.allow_private
            && let Some(range) = refused_range(addr)
        {
            return Err(ClientMetadataError::AddressNotAllowed {
                url: url.into(),
                addr,
                range,
            });
        }

        let started = Instant::now();
        let result = tokio::time::timeout(self.timeout, self.fetch_url(&url))
            .await
            .unwrap_or_else(|_| {
                Err(ClientMetadataError::Timeout {
                    url: url.to_string(),
                    after: self.timeout,
                })
            });
        let elapsed_ms = started.elapsed().as_millis();
        match &result {
            Ok(fetched) => tracing::debug!(
                client_id = %url,
                elapsed_ms,
                cache_for_s = fetched.cache_for.as_secs(),
                "fetched client metadata document"
            ),
            Err(error) => tracing::debug!(
                client_id = %url,
                elapsed_ms,
                %error,
                "client metadata document refused"
            ),
        }
        result
    }

    async fn fetch_url(&self, url: &Url) -> Result<FetchedClient, ClientMetadataError> {
        let mut response = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| transport_error(url, error))?;

        let status = response.status();
        if status.is_redirection() {
            return Err(ClientMetadataError::Redirect {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        if status != StatusCode::OK {
            return Err(ClientMetadataError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        check_content_type(response.headers()).map_err(|content_type| {
            ClientMetadataError::ContentType {
                url: url.to_string(),
                content_type,
            }
        })?;
        let cache_for = cache_for(response.headers());

        let too_large = |size| ClientMetadataError::TooLarge {
            url: url.to_string(),
            size,
            limit: self.max_bytes,
        };
        if let Some(length) = response.content_length()
            && length > self.max_bytes as u64
        {
            return Err(too_large(Some(length)));
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response
                .chunk()
                .await
                .map_err(|source| ClientMetadataError::Read {
                    url: url.to_string(),
                    source: source.without_url(),
                })?
        {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(too_large(None));
            }
            body.extend_from_slice(&chunk);
        }

        let invalid = |source| ClientMetadataError::InvalidDocument {
            url: url.to_string(),
            source,
        };
        let object = parse_object(&body).map_err(invalid)?;
        match object.get("client_id") {
            Some(Value::String(id)) if id == url.as_str() => {}
            other => {
                return Err(ClientMetadataError::ClientIdMismatch {
                    url: url.to_string(),
                    document: match other {
                        Some(Value::String(id)) => excerpt(id),
                        Some(_) => "not a string".to_owned(),
                        None => "missing".to_owned(),
                    },
                });
            }
        }
        let metadata = ClientMetadata::from_object(object).map_err(invalid)?;
        Ok(FetchedClient {
            metadata,
            cache_for,
        })
    }
}

/// Checks that the content type is `application/json` or `application/<something>+json`;
/// otherwise returns what was received, as a short excerpt.
fn check_content_type(headers: &HeaderMap) -> Result<(), Option<String>> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Err(None);
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) if subtype == "json" || subtype.ends_with("+json") => Ok(()),
        _ => Err(Some(excerpt(&text))),
    }
}

/// Parses the policy's extra roots, saying which one is unusable and why.
fn extra_roots(pems: &[Vec<u8>]) -> Result<Vec<reqwest::Certificate>, ClientMetadataError> {
    let mut roots = Vec::new();
    for (index, pem) in pems.iter().enumerate() {
        let problem = |problem: String| ClientMetadataError::ExtraRoot { index, problem };
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| problem(format!("is not valid PEM: {error}")))?;
        if certs.is_empty() {
            return Err(problem(
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        for cert in certs {
            // The same check reqwest's verifier makes later, made here to name the culprit.
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .map_err(|error| problem(format!("is not a usable trust root: {error}")))?;
            let cert = reqwest::Certificate::from_der(cert.as_ref())
                .map_err(|error| problem(format!("is not a usable certificate: {error}")))?;
            roots.push(cert);
        }
    }
    Ok(roots)
}

/// Resolves names for the HTTP client, refusing a name when any of its addresses is not public.
///
/// It is the only source of addresses for this client's connections, so the address that was
/// vetted is the address connected to: no second lookup happens in between.
struct VettingResolver {
    lookup: Lookup,
    allow_private: bool,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let lookup = Arc::clone(&self.lookup);
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = lookup(host).await.map_err(LookupFailed)?;
            if addrs.is_empty() {
                let error = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
                return Err(LookupFailed(error).into());
            }
            if !allow_private
                && let Some((addr, range)) = addrs
                    .iter()
                    .find_map(|addr| refused_range(*addr).map(|range| (*addr, range)))
            {
                return Err(RefusedAddress { addr, range }.into());
            }
            // Port 0: the connector puts in the URL's port.
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The resolver's refusal, found again in the transport error's chain.
#[derive(Debug, thiserror::Error)]
#[error("{addr} is a {range} address")]
struct RefusedAddress {
    addr: IpAddr,
    range: &'static str,
}

/// The lookup's failure, found again in the transport error's chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LookupFailed(io::Error);

/// Sorts a transport error by where it happened: the resolver's refusal or failure, TLS, or the
/// connection.
fn transport_error(url: &Url, error: reqwest::Error) -> ClientMetadataError {
    let url = url.to_string();
    let error = error.without_url();
    if let Some(refused) = find::<RefusedAddress>(&error) {
        return ClientMetadataError::AddressNotAllowed {
            url,
            addr: refused.addr,
            range: refused.range,
        };
    }
    if let Some(LookupFailed(failed)) = find::<LookupFailed>(&error) {
        let source = io::Error::new(failed.kind(), failed.to_string());
        return ClientMetadataError::Resolve { url, source };
    }
    if let Some(tls) = find::<rustls::Error>(&error) {
        let reason = tls.to_string();
        return ClientMetadataError::Tls {
            url,
            reason,
            source: error,
        };
    }
    ClientMetadataError::Connect { url, source: error }
}

/// The first error of type `T` in a chain, looking inside `io::Error`s too (whose `source()`
/// skips the error they wrap).
fn find<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(inner) = current
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            && let Some(found) = find::<T>(inner)
        {
            return Some(found);
        }
        next = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::testing::{TestCa, TestResponse, TestServer, sample_client_metadata};

    /// A lookup that answers `answers[n]` to its n-th call (the last one after that) and counts
    /// its calls.
    fn scripted_lookup(answers: Vec<Vec<IpAddr>>) -> (Lookup, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let lookup: Lookup = Arc::new(move |_host: String| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let answer = answers
                .get(n)
                .or(answers.last())
                .cloned()
                .unwrap_or_default();
            Box::pin(async move { Ok(answer) })
        });
        (lookup, calls)
    }

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    // Also loopback, but the test server does not listen there: a connection to it fails.
    const OTHER_LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

    /// The name resolves to the test server once, then elsewhere: the fetch succeeds only if
    /// the connection used the first, vetted answer, and the lookup ran once.
    #[tokio::test]
    async fn the_connection_goes_to_the_address_that_was_vetted() {
        let ca = TestCa::new().expect("CA");
        let server = TestServer::start_with(&ca, &["cimd.test"])
            .await
            .expect("server");
        let client_id = format!("https://cimd.test:{}/client.json", server.addr().port());
        let document = sample_client_metadata(&client_id, &["https://cimd.test/callback"]);
        server.serve("/client.json", TestResponse::json(&document));

        let (lookup, calls) = scripted_lookup(vec![vec![LOOPBACK], vec![OTHER_LOOPBACK]]);
        let fetcher =
            ClientMetadataFetcher::with_lookup(server.fetch_policy(), lookup).expect("fetcher");
        let fetched = fetcher
            .fetch(&client_id)
            .await
            .expect("fetched from the vetted address");

        assert_eq!(fetched.metadata.client_id, client_id);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one lookup, whose answer was used"
        );
        assert_eq!(server.requests("/client.json"), 1);
    }

    /// A name with one private address among others is refused whole, before any connection.
    #[tokio::test]
    async fn every_resolved_address_is_vetted() {
        let server = TestServer::start().await.expect("server");
        let client_id = format!("https://cimd.test:{}/client.json", server.addr().port());
        for answer in [
            vec![LOOPBACK],
            vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))],
            vec![LOOPBACK, IpAddr::V4(Ipv4Addr::new(93, 184, 215, 14))],
            vec!["::ffff:169.254.169.254".parse().expect("ip")],
        ] {
            let (lookup, calls) = scripted_lookup(vec![answer.clone()]);
            let policy = FetchPolicy {
                allow_private: false,
                ..server.fetch_policy()
            };
            let fetcher = ClientMetadataFetcher::with_lookup(policy, lookup).expect("fetcher");
            let error = fetcher.fetch(&client_id).await.expect_err("refused");
            let ClientMetadataError::AddressNotAllowed { addr, .. } = error else {
                panic!("{answer:?}: {error}");
            };
            assert!(answer.contains(&addr), "{addr} not in {answer:?}");
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        }
        assert_eq!(server.connections(), 0, "nothing was sent");
    }

    #[tokio::test]
    async fn a_name_without_addresses_is_a_resolve_error() {
        let (lookup, _) = scripted_lookup(vec![vec![]]);
        let fetcher =
            ClientMetadataFetcher::with_lookup(FetchPolicy::default(), lookup).expect("fetcher");
        let error = fetcher
            .fetch("https://nowhere.test/client.json")
            .await
            .expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::Resolve { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("https://nowhere.test/client.json"),
            "{error}"
        );
    }

    #[test]
    fn json_content_types() {
        for (value, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/oauth-client+json", true),
            ("text/json", false),
            ("text/html", false),
            ("application/jsonp", false),
            ("application/json-seq", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().expect("header"));
            assert_eq!(check_content_type(&headers).is_ok(), ok, "{value}");
        }
        assert_eq!(check_content_type(&HeaderMap::new()), Err(None));
    }

    #[test]
    fn extra_roots_name_the_bad_one() {
        let ca = TestCa::new().expect("CA");
        let good = ca.cert_pem().as_bytes().to_vec();
        let policy = |roots: Vec<Vec<u8>>| FetchPolicy {
            extra_roots_pem: roots,
            ..FetchPolicy::default()
        };
        let error =
            ClientMetadataFetcher::new(policy(vec![good.clone(), b"not a certificate".to_vec()]))
                .expect_err("refused");
        assert!(
            matches!(&error, ClientMetadataError::ExtraRoot { index: 1, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("extra_roots_pem[1] holds no PEM certificate"),
            "{error}"
        );
        ClientMetadataFetcher::new(policy(vec![good])).expect("a PEM certificate is a usable root");
    }
}
