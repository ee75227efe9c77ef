//! Client ID Metadata Documents fetched over real sockets and real TLS, from the throwaway-CA
//! test server. Every refusal that must happen before the network shows it with the server's
//! connection count.

use std::time::Duration;

use conflux_authz::client_metadata::{
    ClientMetadataError, ClientMetadataFetcher, DEFAULT_CACHE_FOR, FetchPolicy, FetchedClient,
};
use conflux_authz::testing::{TestResponse, TestServer, sample_client_metadata};
use serde_json::{Value, json};

const PATH: &str = "/client.json";
const CALLBACK: &str = "http://127.0.0.1:33418/callback";

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_test_writer()
        .try_init();
}

/// A server, and the client_id of the document it will serve at [`PATH`].
async fn server() -> (TestServer, String) {
    init_logs();
    let server = TestServer::start().await.expect("test server");
    let client_id = server.url(PATH);
    (server, client_id)
}

fn fetcher(policy: FetchPolicy) -> ClientMetadataFetcher {
    ClientMetadataFetcher::new(policy).expect("fetcher")
}

/// Serves `document` at [`PATH`] and fetches it with the server's policy.
async fn fetch_document(document: Value) -> Result<FetchedClient, ClientMetadataError> {
    let (server, client_id) = server().await;
    server.serve(
        PATH,
        TestResponse::json(&document_for(&client_id, document)),
    );
    fetcher(server.fetch_policy()).fetch(&client_id).await
}

/// `document` with `"client_id": "$CLIENT_ID"` replaced by the real one (known once the
/// server has its port).
fn document_for(client_id: &str, mut document: Value) -> Value {
    if document["client_id"] == "$CLIENT_ID" {
        document["client_id"] = json!(client_id);
    }
    document
}

#[tokio::test]
async fn a_valid_document_is_fetched_and_read() {
    let fetched = fetch_document(json!({
        "client_id": "$CLIENT_ID",
        "client_name": "Example MCP client",
        "client_uri": "https://app.example/",
        "redirect_uris": [CALLBACK, "https://app.example/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "contacts": ["dev@app.example"],
    }))
    .await
    .expect("fetched");
    let metadata = fetched.metadata;
    assert!(
        metadata.client_id.starts_with("https://127.0.0.1:"),
        "{}",
        metadata.client_id
    );
    assert_eq!(metadata.client_name.as_deref(), Some("Example MCP client"));
    assert_eq!(
        metadata.redirect_uris,
        [CALLBACK, "https://app.example/callback"]
    );
    assert_eq!(metadata.response_types, ["code"]);
    assert_eq!(fetched.cache_for, DEFAULT_CACHE_FOR);
}

#[tokio::test]
async fn the_same_server_by_name_is_fetched_too() {
    let (server, _) = server().await;
    let client_id = format!("{}{PATH}", server.localhost_base_url());
    let document = sample_client_metadata(&client_id, &[CALLBACK]);
    server.serve(PATH, TestResponse::json(&document));
    let fetched = fetcher(server.fetch_policy())
        .fetch(&client_id)
        .await
        .expect("fetched");
    assert_eq!(fetched.metadata.client_id, client_id);
}

#[tokio::test]
async fn cache_headers_decide_how_long_it_is_kept() {
    let (server, client_id) = server().await;
    let fetcher = fetcher(server.fetch_policy());
    let document = sample_client_metadata(&client_id, &[CALLBACK]);
    for (cache_control, expected) in [
        (Some("public, max-age=600"), Duration::from_secs(600)),
        (Some("max-age=999999"), Duration::from_secs(24 * 60 * 60)),
        (Some("no-store"), Duration::ZERO),
        (Some("no-cache"), Duration::ZERO),
        (None, Duration::from_secs(60 * 60)),
    ] {
        let mut response = TestResponse::json(&document);
        if let Some(value) = cache_control {
            response = response.header("cache-control", value);
        }
        server.serve(PATH, response);
        let fetched = fetcher.fetch(&client_id).await.expect("fetched");
        assert_eq!(fetched.cache_for, expected, "{cache_control:?}");
    }
}

#[tokio::test]
async fn loopback_is_refused_before_any_connection() {
    let (server, client_id) = server().await;
    server.serve(
        PATH,
        TestResponse::json(&sample_client_metadata(&client_id, &[CALLBACK])),
    );
    let policy = FetchPolicy {
        allow_private: false,
        ..server.fetch_policy()
    };
    let fetcher = fetcher(policy);

    // The address in the URL.
    let error = fetcher.fetch(&client_id).await.expect_err("refused");
    let ClientMetadataError::AddressNotAllowed { addr, range, .. } = &error else {
        panic!("{error}");
    };
    assert!(addr.is_loopback() && *range == "loopback", "{error}");
    assert!(
        error.to_string().contains("public addresses only"),
        "{error}"
    );

    // A name that resolves to loopback.
    let by_name = format!("{}{PATH}", server.localhost_base_url());
    let error = fetcher.fetch(&by_name).await.expect_err("refused");
    let ClientMetadataError::AddressNotAllowed { addr, .. } = &error else {
        panic!("{error}");
    };
    assert!(addr.is_loopback(), "{error}");

    // IPv6 loopback and an IPv4-mapped loopback.
    for url in [
        format!("https://[::1]:{}{PATH}", server.addr().port()),
        format!("https://[::ffff:7f00:1]:{}{PATH}", server.addr().port()),
    ] {
        let error = fetcher.fetch(&url).await.expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::AddressNotAllowed { .. }),
            "{url}: {error}"
        );
    }

    assert_eq!(server.connections(), 0, "no connection was made");
    assert_eq!(server.total_requests(), 0);
}

#[tokio::test]
async fn non_https_and_malformed_client_ids_are_refused_without_network() {
    let (server, client_id) = server().await;
    let port = server.addr().port();
    let fetcher = fetcher(server.fetch_policy());
    for bad in [
        format!("http://127.0.0.1:{port}{PATH}"),
        format!("https://127.0.0.1:{port}/"),
        format!("https://127.0.0.1:{port}"),
        format!("https://user:pass@127.0.0.1:{port}{PATH}"),
        format!("{client_id}#fragment"),
        format!("https://127.0.0.1:{port}/x/..{PATH}"),
        "my-client".to_owned(),
    ] {
        let error = fetcher.fetch(&bad).await.expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::NotAClientIdUrl { .. }),
            "{bad}: {error}"
        );
        assert!(error.url().is_none());
    }
    assert_eq!(server.connections(), 0, "no connection was made");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (server, client_id) = server().await;
    let target = server.url("/elsewhere.json");
    server.serve(
        "/elsewhere.json",
        TestResponse::json(&sample_client_metadata(&target, &[CALLBACK])),
    );
    let fetcher = fetcher(server.fetch_policy());
    for status in [301, 302, 303, 307, 308] {
        server.serve(
            PATH,
            TestResponse::status(status).header("location", &target),
        );
        let error = fetcher.fetch(&client_id).await.expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::Redirect { status: s, .. } if s == status),
            "{error}"
        );
        assert!(
            error.to_string().contains(&format!("answered {status}")),
            "{error}"
        );
    }
    assert_eq!(
        server.requests("/elsewhere.json"),
        0,
        "the redirect target was never fetched"
    );
}

#[tokio::test]
async fn an_oversized_body_is_refused_while_streaming() {
    let (server, client_id) = server().await;
    let fetcher = fetcher(server.fetch_policy());

    // 64 KiB in 1 KiB chunks, without Content-Length: only counting while reading catches it.
    let chunked = TestResponse::status(200)
        .header("content-type", "application/json")
        .chunked(vec![b' '; 1024], 64);
    server.serve(PATH, chunked);
    let error = fetcher.fetch(&client_id).await.expect_err("refused");
    assert!(
        matches!(
            error,
            ClientMetadataError::TooLarge {
                size: None,
                limit: 16384,
                ..
            }
        ),
        "{error}"
    );

    // With Content-Length, refused from the header.
    let announced = TestResponse::status(200)
        .header("content-type", "application/json")
        .body(vec![b' '; 40 * 1024]);
    server.serve(PATH, announced);
    let error = fetcher.fetch(&client_id).await.expect_err("refused");
    assert_eq!(
        error.to_string(),
        format!(
            "the client metadata document at {client_id} is 40 KB, more than the 16 KB allowed"
        )
    );
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let (server, client_id) = server().await;
    let document = sample_client_metadata(&client_id, &[CALLBACK]);
    server.serve(
        PATH,
        TestResponse::json(&document).delay(Duration::from_secs(30)),
    );
    let policy = FetchPolicy {
        timeout: Duration::from_millis(300),
        ..server.fetch_policy()
    };
    let error = fetcher(policy)
        .fetch(&client_id)
        .await
        .expect_err("timed out");
    assert!(
        matches!(error, ClientMetadataError::Timeout { .. }),
        "{error}"
    );
    assert!(error.is_transient());
}

#[tokio::test]
async fn only_a_200_json_answer_counts() {
    let (server, client_id) = server().await;
    let fetcher = fetcher(server.fetch_policy());
    let body = sample_client_metadata(&client_id, &[CALLBACK]).to_string();

    for content_type in [Some("text/html"), Some("text/plain; charset=utf-8"), None] {
        let mut response = TestResponse::status(200).body(body.clone());
        if let Some(value) = content_type {
            response = response.header("content-type", value);
        }
        server.serve(PATH, response);
        let error = fetcher.fetch(&client_id).await.expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::ContentType { .. }),
            "{error}"
        );
    }

    server.serve(
        PATH,
        TestResponse::status(200)
            .header("content-type", "application/json")
            .body("{\"client_id\": "),
    );
    let error = fetcher.fetch(&client_id).await.expect_err("refused");
    assert!(error.to_string().contains("is not valid JSON"), "{error}");

    for status in [404, 500] {
        server.serve(
            PATH,
            TestResponse::status(status)
                .header("content-type", "application/json")
                .body(body.clone()),
        );
        let error = fetcher.fetch(&client_id).await.expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::Status { status: s, .. } if s == status),
            "{error}"
        );
        assert_eq!(error.is_transient(), status == 500);
    }
}

#[tokio::test]
async fn the_document_must_name_its_own_url() {
    let (server, client_id) = server().await;
    let fetcher = fetcher(server.fetch_policy());
    let localhost_id = format!("{}{PATH}", server.localhost_base_url());
    for claimed in [
        json!("https://other.example/client.json"),
        json!(localhost_id),
        json!(null),
        json!(7),
    ] {
        let mut document = sample_client_metadata(&client_id, &[CALLBACK]);
        document["client_id"] = claimed.clone();
        server.serve(PATH, TestResponse::json(&document));
        let error = fetcher.fetch(&client_id).await.expect_err("refused");
        assert!(
            matches!(error, ClientMetadataError::ClientIdMismatch { .. }),
            "{claimed}: {error}"
        );
    }
}

#[tokio::test]
async fn unsafe_redirect_uris_are_refused() {
    for (redirect_uris, field, says) in [
        (
            json!(["http://app.example/callback"]),
            "redirect_uris[0]",
            "http on a host other than loopback",
        ),
        (
            json!([CALLBACK, "https://app.example/cb#frag"]),
            "redirect_uris[1]",
            "fragment",
        ),
        (json!([]), "redirect_uris", "missing or empty"),
        (json!(null), "redirect_uris", "missing or empty"),
    ] {
        let mut document = json!({"client_id": "$CLIENT_ID", "redirect_uris": redirect_uris});
        if document["redirect_uris"].is_null() {
            document
                .as_object_mut()
                .expect("object")
                .remove("redirect_uris");
        }
        let error = fetch_document(document).await.expect_err("refused");
        let ClientMetadataError::InvalidDocument { source, .. } = &error else {
            panic!("{error}");
        };
        assert_eq!(source.field(), field, "{error}");
        assert!(error.to_string().contains(says), "{error}");
    }
}

#[tokio::test]
async fn clients_that_need_a_secret_are_refused() {
    let error = fetch_document(json!({
        "client_id": "$CLIENT_ID",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "client_secret_basic",
    }))
    .await
    .expect_err("refused");
    assert!(error.to_string().contains("public clients only"), "{error}");

    let error = fetch_document(json!({
        "client_id": "$CLIENT_ID",
        "redirect_uris": [CALLBACK],
        "client_secret": "hunter2",
    }))
    .await
    .expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("`client_secret` must not be present"),
        "{error}"
    );
    assert!(!error.to_string().contains("hunter2"), "{error}");
}

#[tokio::test]
async fn untrusted_content_is_quoted_only_in_short() {
    let long_method = format!("secret_{}", "x".repeat(5000));
    let error = fetch_document(json!({
        "client_id": "$CLIENT_ID",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": long_method,
    }))
    .await
    .expect_err("refused");
    assert!(error.to_string().len() < 400, "{error}");
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_is_refused() {
    let (server, client_id) = server().await;
    server.serve(
        PATH,
        TestResponse::json(&sample_client_metadata(&client_id, &[CALLBACK])),
    );
    let policy = FetchPolicy {
        extra_roots_pem: Vec::new(),
        ..server.fetch_policy()
    };
    let error = fetcher(policy)
        .fetch(&client_id)
        .await
        .expect_err("refused");
    let ClientMetadataError::Tls { reason, .. } = &error else {
        panic!("{error}");
    };
    assert!(reason.contains("UnknownIssuer"), "{error}");
    assert_eq!(
        server.total_requests(),
        0,
        "no request went over the untrusted connection"
    );
}
