//! Who gets in to `conflux serve --http`, against the simulator over real sockets: people sign
//! in with Atlassian (the account Atlassian names is their key; outsiders are refused), MCP
//! clients authenticate with tokens of Conflux's own authorization server (dynamic
//! registration and client metadata documents, PKCE, audience, rotating refresh tokens,
//! revocation), access keys, the platform's credential, the maintainer's throttled sign-in and
//! server-side sessions, the Host / Origin guard and the caps. Each attack issue 10 lists is a
//! test here, named for it.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use conflux_authz::testing::{TestResponse, TestServer, sample_client_metadata};
use conflux_store::{AppSettings, AuthMode, AuthStore as _, EncryptionKey, SqlStore, TenantId};
use conflux_types::Secret;
use conflux_web::{Web, WebConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::*;

// ------------------------------------------------------------------ people

/// Issue 10: on `/` anyone could type another person's user id. There is no such field; the
/// account is the one Atlassian names, and each person sees only their own connection.
#[tokio::test]
async fn issue_010_people_are_who_atlassian_says_they_are() {
    let w = World::new(|_, _| {}).await;
    let demo = w.info.demo_account().unwrap().clone();
    let second = w.info.second_member().unwrap().clone();
    let alice = w.browser();
    let (_, html) = alice.page("/").await;
    assert!(
        !html.contains("name=\"user_id\""),
        "no field to type an id: {html}"
    );
    assert!(html.contains("Sign in with Atlassian"));
    // The old form is gone.
    let r = alice
        .post("/", "/user", &[("user_id", &demo.account_id)])
        .await;
    assert!(
        r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        r.status()
    );

    let back = alice.sign_in(&second.account_id).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/?done=signed-in");
    let (_, html) = alice.page("/").await;
    assert!(html.contains(&second.account_id), "{html}");
    assert!(
        html.contains(&conflux_web_escape(&second.display_name)),
        "{html}"
    );
    assert!(!html.contains(&demo.account_id));
    let connections = conflux_store::TokenStore::list_connections(
        w.store.as_ref(),
        &TenantId::new("default").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].key.user.as_str(), second.account_id);

    // Another person signs in: two connections, each under its own account.
    let bob = w.browser();
    bob.sign_in(&demo.account_id).await;
    // Bob disconnects: only his own connection goes.
    let r = bob.post("/", "/disconnect", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let left = conflux_store::TokenStore::list_connections(
        w.store.as_ref(),
        &TenantId::new("default").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key.user.as_str(), second.account_id);
}

fn conflux_web_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Only members of the tenant's site may sign in.
#[tokio::test]
async fn issue_010_outsiders_cannot_sign_in() {
    let w = World::new(|_, _| {}).await;
    let outsider = w.info.outsider().unwrap().clone();
    let b = w.browser();
    let r = b.sign_in(&outsider.account_id).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let text = r.text().await.unwrap();
    assert!(text.contains("no access to this workspace"), "{text}");
    let (_, html) = b.page("/").await;
    assert!(
        html.contains("Sign in with Atlassian"),
        "not signed in: {html}"
    );
    let n = conflux_store::TokenStore::list_connections(
        w.store.as_ref(),
        &TenantId::new("default").unwrap(),
    )
    .await
    .unwrap()
    .len();
    assert_eq!(n, 0, "nothing stored for an outsider");
}

/// A person's session ends on the server at sign-out: the old cookie no longer works.
#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let w = World::new(|_, _| {}).await;
    let b = w.browser();
    b.sign_in(&w.info.demo_account().unwrap().account_id).await;
    let cookie = b.cookie("/", "conflux_person").unwrap();
    let r = b.post("/", "/signout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stale = reqwest::Client::new()
        .get(w.url("/"))
        .header("cookie", format!("conflux_person={cookie}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stale.contains("Sign in with Atlassian"), "{stale}");
}

// ------------------------------------------------------------------ the maintainer

/// Issue 10: a 3-character admin token was accepted at start and found by guessing in 7 s.
#[tokio::test]
async fn issue_010_short_admin_tokens_are_refused_at_start() {
    let key = EncryptionKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqlStore::open_sqlite(&dir.path().join("c.db"), key.clone())
            .await
            .unwrap(),
    );
    let mut config = WebConfig::new(
        "http://127.0.0.1:1",
        TenantId::new("default").unwrap(),
        key.derive("conflux-web cookies"),
    )
    .unwrap();
    config.admin_token = Some(Secret::new("abc".into()));
    let err = Web::new(store, config).unwrap_err().to_string();
    assert!(err.contains("at least 32"), "{err}");
}

/// Issue 10: admin sign-in had no rate limit. After a few wrong tokens an address waits,
/// longer each time, and even the right token is not tried meanwhile.
#[tokio::test]
async fn issue_010_admin_sign_in_is_throttled() {
    let w = World::new(|_, _| {}).await;
    let b = w.browser();
    for _ in 0..3 {
        let r = b
            .post("/admin", "/admin/login", &[("token", "wrong")])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = b
        .post("/admin", "/admin/login", &[("token", "wrong")])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let r = b
        .post("/admin", "/admin/login", &[("token", ADMIN_TOKEN)])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "not tried while throttled"
    );
    let (_, html) = b.page("/admin").await;
    assert!(html.contains("Admin token"), "still signed out");
}

async fn admin(w: &World) -> Browser {
    let b = w.browser();
    let r = b
        .post("/admin", "/admin/login", &[("token", ADMIN_TOKEN)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    b
}

/// Issue 10: the admin cookie still worked after sign-out (no server-side revocation).
#[tokio::test]
async fn issue_010_admin_cookie_dies_at_sign_out() {
    let w = World::new(|_, _| {}).await;
    let b = admin(&w).await;
    let cookie = b.cookie("/admin", "conflux_admin").unwrap();
    let (_, html) = b.page("/admin").await;
    assert!(html.contains("id=\"logout\""), "signed in");
    let r = b.post("/admin", "/admin/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let replay = reqwest::Client::new()
        .get(w.url("/admin"))
        .header("cookie", format!("conflux_admin={cookie}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        replay.contains("Admin token"),
        "the old cookie signs nobody in: {replay}"
    );
    assert!(!replay.contains("id=\"logout\""));
}

// ------------------------------------------------------------------ the guard and the caps

/// Issue 10: only /mcp checked the Host header; a DNS-rebinding page could drive `/`,
/// `/admin` and `/disconnect`.
#[tokio::test]
async fn issue_010_foreign_hosts_are_refused_on_every_route() {
    let w = World::new(|_, _| {}).await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/admin"),
        ("POST", "/disconnect"),
        ("POST", "/signin"),
        ("GET", "/oauth/authorize"),
        ("POST", "/mcp"),
    ] {
        let r = http
            .request(method.parse().unwrap(), w.url(path))
            .header("host", "rebound.attacker.example")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::MISDIRECTED_REQUEST,
            "{method} {path}"
        );
    }
    // A cross-site form post is refused before anything else.
    let b = w.browser();
    let (_, html) = b.page("/").await;
    let r = b
        .http
        .post(w.url("/signin"))
        .header("origin", "https://attacker.example")
        .form(&[("csrf", csrf(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Issue 10: `/connect` could be flooded (2,000 pending rows in 4 s). Sign-ins pending from
/// one address are capped, and so are all of them; MCP authorization requests, which anyone
/// can start without signing in, have caps of their own: a flood of them used up the room
/// of people signing in and locked everyone out for ten minutes.
#[tokio::test]
async fn issue_010_pending_sign_ins_are_capped() {
    let w = World::new(|c, _| {
        c.authz.pending_per_address = 5;
        c.authz.pending_total = 8;
    })
    .await;
    let b = w.browser();
    let client = register(&w, "flooder", "http://127.0.0.1:9/cb").await;
    for _ in 0..5 {
        let a = authorization(&w, &client, "http://127.0.0.1:9/cb", "tools:read");
        let r = b.get(&a.url).await;
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let a = authorization(&w, &client, "http://127.0.0.1:9/cb", "tools:read");
    assert_eq!(b.get(&a.url).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // The consents waiting do not hold back a person signing in from the same address.
    for _ in 0..5 {
        let r = b.post("/", "/signin", &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = b.post("/", "/signin", &[]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// One HTTP/1.1 response read off `stream`: its head (status line and headers) and body.
async fn read_response(stream: &mut tokio::net::TcpStream) -> (String, Vec<u8>) {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "the server closed the connection: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while buf.len() < end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    (head, buf[end..end + length].to_vec())
}

/// A refused `/mcp` request leaves its connection usable. The 401 was sent over the unread
/// body, and hyper then closed the connection without `Connection: close`: a client that
/// wrote the body after the headers and sent its next request on the same connection (an MCP
/// client's discovery right after the 401, as the Python SDK's httpx does) failed with "server
/// disconnected without sending a response".
#[tokio::test]
async fn a_refused_mcp_request_leaves_the_connection_usable() {
    use tokio::io::AsyncWriteExt as _;
    let w = World::new(|_, _| {}).await;
    let addr = w.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    for credential in ["", "Authorization: Bearer not-a-token-of-this-server\r\n"] {
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\n{credential}Content-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // The body in a write of its own, once the server has the head and may have answered.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stream.write_all(body.as_bytes()).await.unwrap();
        let (head, _) = read_response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 401"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("connection: close"),
            "{head}"
        );
    }
    stream
        .write_all(
            format!("GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: {addr}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let (head, body) = read_response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let metadata: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(metadata["issuer"], w.base);
}

// ------------------------------------------------------------------ MCP clients

/// Issue 10: any caller who reached /mcp with an allowed agent id and someone's user id ran
/// tools with that person's token. Now nothing gets in without a credential, and the headers
/// name nobody.
#[tokio::test]
async fn issue_010_agent_and_user_headers_open_nothing() {
    let w = open_allowlist().await;
    let demo = w.info.demo_account().unwrap().clone();
    let second = w.info.second_member().unwrap().clone();
    // The victim is connected.
    let victim = w.browser();
    victim.sign_in(&demo.account_id).await;
    // Without a credential: 401 with the resource metadata, whatever the headers say.
    let forged = Mcp::new(&w, None)
        .header("x-conflux-agent-id", "trusted-agent")
        .header("x-conflux-user-id", &demo.account_id);
    let (status, headers, _) = forged
        .post(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "x", "version": "1"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers.get("www-authenticate").unwrap().to_str().unwrap();
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            w.base
        )),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"tools:read tools:write\""),
        "{challenge}"
    );
    // With the attacker's own token, the victim's id in headers changes nothing: the call is
    // the attacker's, and once the attacker is disconnected it says so.
    let attacker = w.browser();
    attacker.sign_in(&second.account_id).await;
    let client = register(&w, "attacker's client", "http://127.0.0.1:9/cb").await;
    let tokens = authorize(
        &w,
        &attacker,
        &client,
        "http://127.0.0.1:9/cb",
        "tools:read tools:write",
    )
    .await;
    attacker.post("/", "/disconnect", &[]).await;
    let mcp = Mcp::new(&w, tokens["access_token"].as_str())
        .header("x-conflux-user-id", &demo.account_id)
        .initialize()
        .await;
    let (_, is_error, text) = mcp
        .call(
            "spaces",
            json!({"action": "list", "limit": 1, "_meta": {"user_id": demo.account_id}}),
        )
        .await;
    assert!(is_error, "{text}");
    assert!(text.contains("not connected"), "{text}");
    assert!(
        w.refusals().await.is_empty(),
        "nobody unauthenticated is listed"
    );
}

/// The whole client side, as the MCP specification has it: discovery from the 401, dynamic
/// registration, authorization with PKCE and the person's consent, tool calls, refresh with
/// rotation (a reused refresh token revokes the family), and revocation by the person.
#[tokio::test]
async fn mcp_client_discovers_registers_authorizes_calls_refreshes_and_is_revoked() {
    let w = open_allowlist().await;
    let http = reqwest::Client::new();
    // Discovery.
    let r = http
        .post(w.url("/mcp"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let prm: Value = http
        .get(w.url("/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], w.url("/mcp"));
    assert_eq!(prm["authorization_servers"][0], w.base);
    let root: Value = http
        .get(w.url("/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root, prm);
    let asm: Value = http
        .get(w.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asm["issuer"], w.base);
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(asm["client_id_metadata_document_supported"], true);
    assert_eq!(asm["authorization_response_iss_parameter_supported"], true);
    assert_eq!(asm["registration_endpoint"], w.url("/oauth/register"));
    // CORS for browser-based clients.
    let pre = http
        .request(reqwest::Method::OPTIONS, w.url("/oauth/token"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "{}", pre.status());
    assert_eq!(
        pre.headers().get("access-control-allow-origin").unwrap(),
        "*"
    );

    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let redirect = "http://127.0.0.1:9/callback";
    let client = register(&w, "Test client", redirect).await;
    let tokens = authorize(&w, &person, &client, redirect, "tools:read tools:write").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "tools:read tools:write");
    let access = tokens["access_token"].as_str().unwrap();
    let mcp = Mcp::new(&w, Some(access)).initialize().await;
    let (status, is_error, text) = mcp.spaces().await;
    assert_eq!(status, StatusCode::OK);
    assert!(!is_error, "{text}");

    // Refresh rotates; the old refresh token used again revokes the whole family.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, fresh) = token_request(
        &w,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_ne!(fresh["refresh_token"], tokens["refresh_token"]);
    let fresh_access = fresh["access_token"].as_str().unwrap().to_string();
    let (_, is_error, text) = Mcp::new(&w, Some(&fresh_access))
        .initialize()
        .await
        .spaces()
        .await;
    assert!(!is_error, "{text}");
    let (status, err) = token_request(
        &w,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"], "invalid_grant");
    // This replica's cache was cleared by the revocation: the family is dead now.
    let r = Mcp::new(&w, Some(&fresh_access))
        .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A new authorization; the person revokes the client on `/`.
    let tokens = authorize(&w, &person, &client, redirect, "tools:read tools:write").await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let (_, html) = person.page("/").await;
    assert!(html.contains("Test client"), "{html}");
    let grant = {
        let at = html.find("name=\"grant\" value=\"").unwrap() + "name=\"grant\" value=\"".len();
        html[at..at + html[at..].find('"').unwrap()].to_string()
    };
    let r = person
        .post("/", "/clients/revoke", &[("grant", &grant)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = Mcp::new(&w, Some(&access))
        .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (status, err) = token_request(
        &w,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &client),
        ],
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

/// Codes are single use, bound to the verifier, the redirect URI and the client; a replayed
/// code revokes what it issued.
#[tokio::test]
async fn codes_are_bound_and_single_use() {
    let w = open_allowlist().await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let redirect = "http://127.0.0.1:9/cb";
    let client = register(&w, "c", redirect).await;
    let other = register(&w, "other", redirect).await;
    let a = authorization(&w, &client, redirect, "tools:read");
    person.get(&a.url).await;
    let answer = person
        .post(
            "/oauth/consent",
            "/oauth/consent",
            &[("decision", "approve")],
        )
        .await;
    let code = query_of(&location(&answer))["code"].clone();
    let exchange = |verifier: String, client: String, redirect: String| {
        let code = code.clone();
        let w = &w;
        async move {
            token_request(
                w,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", &redirect),
                    ("client_id", &client),
                    ("code_verifier", &verifier),
                ],
            )
            .await
        }
    };
    // Another client cannot use it; that burns it (single use, whatever follows).
    let (s, e) = exchange(a.verifier.clone(), other.clone(), redirect.into()).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (s, _) = exchange(a.verifier.clone(), client.clone(), redirect.into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a used code never works again");

    // A fresh code: the wrong verifier fails.
    let a = authorization(&w, &client, redirect, "tools:read");
    person.get(&a.url).await;
    let answer = person
        .post(
            "/oauth/consent",
            "/oauth/consent",
            &[("decision", "approve")],
        )
        .await;
    let code = query_of(&location(&answer))["code"].clone();
    let (s, e) = token_request(
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", &client),
            ("code_verifier", "not-the-verifier"),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );

    // Requests that cannot be trusted are shown, never redirected; others go back.
    let bad_redirect = authorization(&w, &client, "https://attacker.example/cb", "tools:read");
    let r = person.get(&bad_redirect.url).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let no_pkce = a
        .url
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let r = person.get(&no_pkce).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = query_of(&location(&r));
    assert_eq!(q["error"], "invalid_request");
    assert_eq!(q["iss"], w.base);
    let other_resource = a.url.replace(
        &url::form_urlencoded::byte_serialize(w.url("/mcp").as_bytes()).collect::<String>(),
        "https%3A%2F%2Fother.example%2Fmcp",
    );
    let r = person.get(&other_resource).await;
    assert_eq!(query_of(&location(&r))["error"], "invalid_target");
    // Denied: the client hears access_denied.
    let a = authorization(&w, &client, redirect, "tools:read");
    person.get(&a.url).await;
    let answer = person
        .post("/oauth/consent", "/oauth/consent", &[("decision", "deny")])
        .await;
    assert_eq!(query_of(&location(&answer))["error"], "access_denied");
}

/// A token issued by one deployment is refused by another sharing the same store: each
/// token is bound to its server's /mcp (RFC 8707).
#[tokio::test]
async fn tokens_for_another_resource_are_refused() {
    let w = open_allowlist().await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let client = register(&w, "c", "http://127.0.0.1:9/cb").await;
    let tokens = authorize(&w, &person, &client, "http://127.0.0.1:9/cb", "tools:read").await;
    // A second server on the same database, at another public URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let key = EncryptionKey::generate();
    let _ = key;
    let store = w.store.clone();
    let mut config = WebConfig::new(&base, TenantId::new("default").unwrap(), [9; 32]).unwrap();
    config.defaults = AppSettings {
        allow_all_agents: true,
        ..settings_for(&w.info, AuthMode::OAuthCentral)
    };
    let other = Web::new(store, config).unwrap();
    let app = other.app().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let r = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let challenge = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert!(challenge.contains("another resource"), "{challenge}");
}

/// Read-only access: write actions are not listed, and a write is refused with
/// `insufficient_scope` before it reaches the tools.
#[tokio::test]
async fn read_only_tokens_cannot_write() {
    let w = open_allowlist().await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let client = register(&w, "reader", "http://127.0.0.1:9/cb").await;
    let tokens = authorize(&w, &person, &client, "http://127.0.0.1:9/cb", "tools:read").await;
    assert_eq!(tokens["scope"], "tools:read");
    let mcp = Mcp::new(&w, tokens["access_token"].as_str())
        .initialize()
        .await;
    let actions = mcp.tool_actions("pages").await;
    assert!(actions.contains(&"get".to_string()));
    assert!(!actions.contains(&"create".to_string()), "{actions:?}");
    let (status, headers, _) = mcp
        .post(json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
            "name": "pages", "arguments": {"action": "create", "spaceId": "1", "title": "x", "body": "y"}}}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"tools:read tools:write\""),
        "{challenge}"
    );
    let (_, is_error, text) = mcp.spaces().await;
    assert!(!is_error, "{text}");
}

/// Issue 12: a person whose Atlassian grant cannot perform some writes (here the tenant asks
/// for page scopes only) does not see those write actions; the grant the store holds decides,
/// nothing is asked of Confluence.
#[tokio::test]
async fn write_actions_the_persons_grant_cannot_perform_are_not_listed() {
    let w = World::new(|c, info| {
        c.defaults = AppSettings {
            allow_all_agents: true,
            scopes: Some(
                "read:page:confluence write:page:confluence read:space:confluence \
                 read:comment:confluence"
                    .into(),
            ),
            ..settings_for(info, AuthMode::OAuthCentral)
        };
    })
    .await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let client = register(&w, "writer", "http://127.0.0.1:9/cb").await;
    let tokens = authorize(
        &w,
        &person,
        &client,
        "http://127.0.0.1:9/cb",
        "tools:read tools:write",
    )
    .await;
    let mcp = Mcp::new(&w, tokens["access_token"].as_str())
        .initialize()
        .await;
    let pages = mcp.tool_actions("pages").await;
    assert!(pages.contains(&"create".to_string()), "{pages:?}");
    assert!(
        !pages.contains(&"delete".to_string()),
        "no delete:page: {pages:?}"
    );
    let comments = mcp.tool_actions("comments").await;
    assert!(comments.contains(&"getFooter".to_string()), "{comments:?}");
    assert!(!comments.contains(&"addFooter".to_string()), "{comments:?}");
}

/// A client identified by its metadata document: fetched over https (a throwaway CA), its
/// redirect URIs enforced exactly, its name shown as untrusted on the consent page.
#[tokio::test]
async fn a_client_metadata_document_identifies_the_client() {
    let server = TestServer::start().await.unwrap();
    let client_id = server.url("/client.json");
    let redirect = "http://127.0.0.1:9/cimd-callback";
    let mut doc = sample_client_metadata(&client_id, &[redirect]);
    doc["client_name"] = json!("Claude\u{2010}Desktop");
    server.serve(
        "/client.json",
        TestResponse::json(&doc).header("cache-control", "max-age=60"),
    );
    let policy = server.fetch_policy();
    let w = World::new(move |c, info| {
        c.authz.fetch = policy;
        c.defaults = AppSettings {
            allow_all_agents: true,
            ..settings_for(info, AuthMode::OAuthCentral)
        };
    })
    .await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let a = authorization(&w, &client_id, redirect, "tools:read");
    let r = person.get(&a.url).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, consent) = person.page("/oauth/consent").await;
    assert!(
        consent.contains("Claude\\u{2010}Desktop"),
        "look-alike made visible: {consent}"
    );
    assert!(consent.contains(&client_id), "{consent}");
    assert!(consent.contains("not verified"), "{consent}");
    // A redirect URI the document does not list is refused without a redirect.
    let bad = authorization(&w, &client_id, "http://127.0.0.1:9/other", "tools:read");
    assert_eq!(person.get(&bad.url).await.status(), StatusCode::BAD_REQUEST);
    // The document is cached: one fetch for both requests.
    assert_eq!(server.requests("/client.json"), 1);
    // Kept as an unused registration is, until a grant uses it: anyone can name documents,
    // and they are not kept (nor listed on /admin) for ever.
    let stored = w.store.mcp_client(&client_id).await.unwrap().unwrap();
    assert!(stored.last_used_at.is_none());
    assert!(
        stored.expires_at.is_some(),
        "an unused document is kept for ever"
    );
}

/// Personal access keys: made on `/`, shown once, hashed, refused until the maintainer allows
/// them, read-only when asked, revocable.
#[tokio::test]
async fn personal_access_keys() {
    let w = World::new(|_, _| {}).await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let r = person
        .post("/", "/keys", &[("name", "my laptop"), ("read_only", "on")])
        .await;
    let html = r.text().await.unwrap();
    let key = {
        let at = html.find("id=\"new-key\">").unwrap() + "id=\"new-key\">".len();
        html[at..at + html[at..].find('<').unwrap()].to_string()
    };
    assert!(key.starts_with("cfx_pk_"));
    let (_, page) = person.page("/").await;
    assert!(!page.contains(&key), "shown once only");
    assert!(page.contains("my laptop"));
    // Not allowed yet: refused, and listed for the maintainer.
    let mcp = Mcp::new(&w, Some(&key)).initialize().await;
    let (_, is_error, text) = mcp.spaces().await;
    assert!(is_error && text.contains("not authorized"), "{text}");
    let refused = w.refusals().await;
    assert_eq!(refused.len(), 1);
    assert!(refused[0].starts_with("key:"));
    // The maintainer allows it.
    let m = admin(&w).await;
    let r = m
        .post("/admin", "/admin/agents", &[("agent", &refused[0])])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, is_error, text) = mcp.spaces().await;
    assert!(!is_error, "{text}");
    let (status, _, _) = mcp
        .call(
            "labels",
            json!({"action": "addToPage", "id": "1", "labels": ["x"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "read-only key");
    // Revoked: gone at once on this replica.
    let id = refused[0].trim_start_matches("key:").to_string();
    person.post("/", "/keys/revoke", &[("key", &id)]).await;
    let r = Mcp::new(&w, Some(&key))
        .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Issue 10: anyone could fill the refused list with look-alikes of real agent names. Only
/// authenticated clients are listed, and the maintainer sees their names made visible.
#[tokio::test]
async fn issue_010_only_authenticated_clients_reach_the_refused_list() {
    let w = World::new(|_, _| {}).await;
    for name in ["claude-desktop", "claude\u{2010}desktop"] {
        let r = Mcp::new(&w, None)
            .header("x-conflux-agent-id", name)
            .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(w.refusals().await.is_empty());
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let client = register(&w, "claude\u{2010}desktop", "http://127.0.0.1:9/cb").await;
    let tokens = authorize(&w, &person, &client, "http://127.0.0.1:9/cb", "tools:read").await;
    let mcp = Mcp::new(&w, tokens["access_token"].as_str())
        .initialize()
        .await;
    let (_, is_error, text) = mcp.spaces().await;
    assert!(is_error && text.contains("not authorized"), "{text}");
    assert!(!text.contains(&client), "refusals do not echo ids: {text}");
    assert_eq!(w.refusals().await, vec![client.clone()]);
    let m = admin(&w).await;
    let (_, html) = m.page("/admin").await;
    assert!(html.contains("claude\\u{2010}desktop"), "{html}");
}

/// Platform mode: agent and user ids in headers count only on a request bearing the
/// platform's credential.
#[tokio::test]
async fn platform_credential_lets_the_platform_name_agent_and_person() {
    let w = World::new(|c, info| {
        c.platform_secret = Some(Secret::new(PLATFORM_SECRET.into()));
        c.defaults = settings_for(info, AuthMode::OAuthCentral);
    })
    .await;
    let demo = w.info.demo_account().unwrap().clone();
    w.browser().sign_in(&demo.account_id).await;
    let m = admin(&w).await;
    m.post(
        "/admin",
        "/admin/agents",
        &[("new_agent", "platform-agent-7")],
    )
    .await;
    let platform = Mcp::new(&w, Some(PLATFORM_SECRET))
        .header("x-conflux-agent-id", "platform-agent-7")
        .header("x-conflux-user-id", &demo.account_id)
        .initialize()
        .await;
    let (_, is_error, text) = platform.spaces().await;
    assert!(!is_error, "{text}");
    let other_agent = Mcp::new(&w, Some(PLATFORM_SECRET))
        .header("x-conflux-agent-id", "not-allowed")
        .header("x-conflux-user-id", &demo.account_id)
        .initialize()
        .await;
    let (_, is_error, text) = other_agent.spaces().await;
    assert!(is_error && text.contains("not authorized"), "{text}");
    let without = Mcp::new(&w, Some("not-the-platform-secret-0123456789-abcdef"))
        .header("x-conflux-agent-id", "platform-agent-7")
        .header("x-conflux-user-id", &demo.account_id)
        .post_raw(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
}

/// The token modes: no person connects; the maintainer approves the client on /admin and
/// issues agent keys.
#[tokio::test]
async fn token_modes_have_the_maintainer_approve() {
    let w = World::new(|c, info| {
        c.defaults = AppSettings {
            api_email: Some(info.classic_token.email.clone()),
            api_token: Some(Secret::new(info.classic_token.token.clone())),
            allow_all_agents: true,
            ..settings_for(info, AuthMode::ApiToken)
        };
    })
    .await;
    let maintainer = admin(&w).await;
    let (_, home) = maintainer.page("/").await;
    assert!(home.contains("shared API token"), "{home}");
    let redirect = "http://127.0.0.1:9/cb";
    let client = register(&w, "team bot", redirect).await;
    let a = authorization(&w, &client, redirect, "tools:read tools:write");
    let r = maintainer.get(&a.url).await;
    assert_eq!(location(&r), "/oauth/consent");
    let r = maintainer.get("/oauth/consent").await;
    assert_eq!(location(&r), "/admin/consent");
    let answer = maintainer
        .post(
            "/admin/consent",
            "/admin/consent",
            &[("decision", "approve")],
        )
        .await;
    let q = query_of(&location(&answer));
    let (status, tokens) = token_request(
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", redirect),
            ("client_id", &client),
            ("code_verifier", &a.verifier),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mcp = Mcp::new(&w, tokens["access_token"].as_str())
        .initialize()
        .await;
    let (_, is_error, text) = mcp.spaces().await;
    assert!(!is_error, "{text}");
    // An agent key from /admin works at once (it is allowed as it is made).
    let r = maintainer
        .post("/admin", "/admin/keys", &[("name", "nightly export")])
        .await;
    let html = r.text().await.unwrap();
    let at = html.find("id=\"new-key\">").unwrap() + "id=\"new-key\">".len();
    let key = html[at..at + html[at..].find('<').unwrap()].to_string();
    let (_, is_error, text) = Mcp::new(&w, Some(&key)).initialize().await.spaces().await;
    assert!(!is_error, "{text}");
}

/// "OAuth is not configured" reaches the agent as itself, not as "not connected".
#[tokio::test]
async fn oauth_not_configured_is_named_as_such() {
    let w = World::new(|c, info| {
        c.defaults = AppSettings {
            allow_all_agents: true,
            ..settings_for(info, AuthMode::OAuthCentral)
        };
    })
    .await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let client = register(&w, "c", "http://127.0.0.1:9/cb").await;
    let tokens = authorize(&w, &person, &client, "http://127.0.0.1:9/cb", "tools:read").await;
    // The maintainer switches to the workspace's own app without setting it up fully: the
    // stored settings say `oauth`, with a client id and no secret.
    let tenant = TenantId::new("default").unwrap();
    conflux_store::TokenStore::save_app_settings(
        w.store.as_ref(),
        &tenant,
        &AppSettings {
            auth_mode: AuthMode::OAuth,
            client_id: Some("half-configured".into()),
            allow_all_agents: true,
            ..settings_for(&w.info, AuthMode::OAuth)
        },
    )
    .await
    .unwrap();
    // The stored token is stale, so the call must refresh through the (missing) app.
    let key = conflux_store::ConnectionKey::new(
        tenant,
        conflux_store::UserId::new(w.info.demo_account().unwrap().account_id.clone()).unwrap(),
    );
    let c = conflux_store::TokenStore::connection(w.store.as_ref(), &key)
        .await
        .unwrap()
        .unwrap();
    let mut stale = c.tokens.clone();
    stale.expires_at = Some(std::time::SystemTime::now() - std::time::Duration::from_secs(5));
    conflux_store::TokenStore::save_connection(
        w.store.as_ref(),
        &key,
        c.display_name.as_deref(),
        &c.site,
        conflux_store::AppKind::Tenant,
        &stale,
    )
    .await
    .unwrap();
    let mcp = Mcp::new(&w, tokens["access_token"].as_str())
        .initialize()
        .await;
    let (_, is_error, text) = mcp.spaces().await;
    assert!(is_error, "{text}");
    assert!(text.contains("OAuth is not configured"), "{text}");
    assert!(!text.contains("not connected"), "{text}");
}

/// An older client's MCP session answers only the caller that opened it.
#[tokio::test]
async fn mcp_sessions_belong_to_their_caller() {
    let w = open_allowlist().await;
    let demo = w.info.demo_account().unwrap().clone();
    let second = w.info.second_member().unwrap().clone();
    let a = w.browser();
    a.sign_in(&demo.account_id).await;
    let b = w.browser();
    b.sign_in(&second.account_id).await;
    let client = register(&w, "c", "http://127.0.0.1:9/cb").await;
    let ta = authorize(&w, &a, &client, "http://127.0.0.1:9/cb", "tools:read").await;
    let tb = authorize(&w, &b, &client, "http://127.0.0.1:9/cb", "tools:read").await;
    let mine = Mcp::new(&w, ta["access_token"].as_str()).initialize().await;
    let session = mine.headers["mcp-session-id"].to_str().unwrap().to_string();
    let theirs = Mcp::new(&w, tb["access_token"].as_str())
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18");
    let (status, _, _) = theirs
        .post(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, is_error, text) = mine.spaces().await;
    assert!(!is_error, "{text}");
    // An id nobody issued: 404, and nothing is written (each such request added a row).
    let made_up = Mcp::new(&w, tb["access_token"].as_str())
        .header("mcp-session-id", "made-up-session-id")
        .header("mcp-protocol-version", "2025-06-18");
    let (status, _, _) = made_up
        .post(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        w.store
            .mcp_session("made-up-session-id")
            .await
            .unwrap()
            .is_none()
    );
    assert!(w.store.mcp_session(&session).await.unwrap().is_some());
}

/// Everything logged, at every level, by every test of this binary.
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = buf.clone();
        // Everything, the server's dependencies included; not this test's own HTTP client
        // (reqwest and its cookie jar), which is not the server's.
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        let filter: tracing_subscriber::filter::Targets =
            "trace,cookie_store=off,reqwest=off".parse().unwrap();
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || Capture(writer.clone()))
                    .with_filter(filter),
            )
            .try_init();
        buf
    })
    .clone()
}

struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// No credential of any kind reaches a log line, at any level: session cookies, the admin
/// token, authorization codes, access and refresh tokens, access keys, the app's secret.
#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let logs = captured_logs();
    let w = open_allowlist().await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let m = admin(&w).await;
    let redirect = "http://127.0.0.1:9/cb";
    let client = register(&w, "logged client", redirect).await;
    let a = authorization(&w, &client, redirect, "tools:read tools:write");
    person.get(&a.url).await;
    let answer = person
        .post(
            "/oauth/consent",
            "/oauth/consent",
            &[("decision", "approve")],
        )
        .await;
    let code = query_of(&location(&answer))["code"].clone();
    let (_, tokens) = token_request(
        &w,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", &client),
            ("code_verifier", &a.verifier),
        ],
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let mcp = Mcp::new(&w, Some(&access)).initialize().await;
    let (_, is_error, text) = mcp.spaces().await;
    assert!(!is_error, "{text}");
    let (_, fresh) = token_request(
        &w,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &client),
        ],
    )
    .await;
    let r = person.post("/", "/keys", &[("name", "k")]).await;
    let html = r.text().await.unwrap();
    let at = html.find("id=\"new-key\">").unwrap() + "id=\"new-key\">".len();
    let key = html[at..at + html[at..].find('<').unwrap()].to_string();
    let (_, _, _) = Mcp::new(&w, Some(&key)).initialize().await.spaces().await;
    let connection = conflux_store::TokenStore::list_connections(
        w.store.as_ref(),
        &TenantId::new("default").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(connection.len(), 1);
    let secrets = [
        access.as_str(),
        refresh.as_str(),
        fresh["access_token"].as_str().unwrap(),
        fresh["refresh_token"].as_str().unwrap(),
        code.as_str(),
        a.verifier.as_str(),
        key.as_str(),
        ADMIN_TOKEN,
        w.info.oauth_client.client_secret.as_str(),
        &person.cookie("/", "conflux_person").unwrap(),
        &person.cookie("/", "conflux_session").unwrap(),
        &m.cookie("/admin", "conflux_admin").unwrap(),
    ];
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("authorization approved"),
        "logs were captured"
    );
    for (i, s) in secrets.iter().enumerate() {
        if let Some(line) = text.lines().find(|l| l.contains(s)) {
            panic!(
                "secret #{i} reached the logs: {}",
                line.replace(s, "<SECRET>")
            );
        }
    }
}

/// Behind a reverse proxy at a path prefix, the metadata is where RFC 9728 and RFC 8414 put
/// it: the well-known segment inserted before the path.
#[tokio::test]
async fn metadata_of_a_prefixed_public_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let public = format!("{host}/conflux");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqlStore::open_sqlite(&dir.path().join("c.db"), EncryptionKey::generate())
            .await
            .unwrap(),
    );
    let config = WebConfig::new(&public, TenantId::new("default").unwrap(), [7; 32]).unwrap();
    let web = Web::new(store, config).unwrap();
    let app = web.app().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let req = http.get(format!("{host}{path}"));
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let asm = get("/.well-known/oauth-authorization-server/conflux").await;
    assert_eq!(asm["issuer"], public);
    assert_eq!(asm["token_endpoint"], format!("{public}/oauth/token"));
    let prm = get("/.well-known/oauth-protected-resource/conflux/mcp").await;
    assert_eq!(prm["resource"], format!("{public}/mcp"));
    assert_eq!(prm["authorization_servers"][0], public);
    // A 401 from /mcp points at that location.
    let r = http
        .post(format!("{host}/mcp"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let challenge = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.contains(&format!(
            "{host}/.well-known/oauth-protected-resource/conflux/mcp"
        )),
        "{challenge}"
    );
}

/// Dynamic registration is rate-limited per address; what is refused says why and when to
/// come back, and points at client metadata documents, which need no registration.
#[tokio::test]
async fn dynamic_registration_is_rate_limited() {
    let w = World::new(|c, _| c.authz.registrations_per_address = 2).await;
    let post = |body: Value| {
        let req = reqwest::Client::new()
            .post(w.url("/oauth/register"))
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    register(&w, "one", "http://127.0.0.1:9/cb").await;
    // A registration that is not what RFC 7591 describes is refused, naming the field; it
    // does not count against the limit.
    let r = post(json!({"client_name": "no redirect"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].as_str().unwrap().starts_with("invalid_"), "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("redirect_uris"),
        "{v}"
    );
    register(&w, "two", "http://127.0.0.1:9/cb").await;
    let r = post(json!({"client_name": "three", "redirect_uris": ["http://127.0.0.1:9/cb"]})).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("client metadata document"),
        "{v}"
    );
}

/// A browser-based MCP client whose origin the maintainer admitted (`--allowed-origins`) gets
/// past its preflight, before any credential (a preflight carries none), and may read the
/// answers, the 401's challenge included; a loopback page nobody named may still not read
/// them, and no origin gets credentials mode.
#[tokio::test]
async fn admitted_browser_origins_get_cors_on_mcp() {
    let w = World::new(|c, _| {
        c.extra_origins = vec!["http://localhost:6274".into()];
    })
    .await;
    let http = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, w.url("/mcp"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, mcp-protocol-version",
            )
            .send()
    };
    let r = preflight("http://localhost:6274").await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:6274");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(!h.contains_key("access-control-allow-credentials"));
    // The call itself, without a credential: 401, readable by the page, challenge exposed.
    let r = http
        .post(w.url("/mcp"))
        .header("origin", "http://localhost:6274")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:6274"
    );
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("www-authenticate") && exposed.contains("mcp-session-id"));
    // A loopback page nobody named: no CORS headers, so its browser keeps the answer from it.
    let r = preflight("http://localhost:9999").await.unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    assert_ne!(r.status(), StatusCode::NO_CONTENT);
}

/// Each client metadata document named for the first time is a fetch to wherever it says and
/// a row in the store: new documents count with the registrations of the same address, under
/// the same caps, and one past them is refused before anything is fetched.
#[tokio::test]
async fn new_client_metadata_documents_count_as_registrations() {
    let server = TestServer::start().await.unwrap();
    let redirect = "http://127.0.0.1:9/cimd-callback";
    for i in 0..3 {
        let id = server.url(&format!("/client-{i}.json"));
        server.serve(
            &format!("/client-{i}.json"),
            TestResponse::json(&sample_client_metadata(&id, &[redirect])),
        );
    }
    let policy = server.fetch_policy();
    let w = World::new(move |c, info| {
        c.authz.fetch = policy;
        c.authz.registrations_per_address = 2;
        c.defaults = AppSettings {
            allow_all_agents: true,
            ..settings_for(info, AuthMode::OAuthCentral)
        };
    })
    .await;
    let b = w.browser();
    for i in 0..2 {
        let a = authorization(
            &w,
            &server.url(&format!("/client-{i}.json")),
            redirect,
            "tools:read",
        );
        assert_eq!(b.get(&a.url).await.status(), StatusCode::SEE_OTHER, "{i}");
    }
    let a = authorization(&w, &server.url("/client-2.json"), redirect, "tools:read");
    assert_eq!(b.get(&a.url).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(server.requests("/client-2.json"), 0, "fetched past the cap");
    // A document already known is not new: asked again, it is served from the store.
    let a = authorization(&w, &server.url("/client-0.json"), redirect, "tools:read");
    assert_eq!(b.get(&a.url).await.status(), StatusCode::SEE_OTHER);
}
