//! The configuration page, the consent and the MCP endpoint against the simulator over real
//! sockets: the whole flow in headless Chromium (the maintainer sets the app, a person signs in
//! with Atlassian, an MCP client's authorization is approved on the consent page, the client
//! calls, the Atlassian token expires and is refreshed once under 50 concurrent calls, the
//! refresh token is revoked and the next call asks to sign in again), refused callbacks that
//! store nothing, CSRF, secrets that never come back, the allowlist, and the four auth modes
//! serving the same tools.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use conflux_store::{AuthMode, ConnectionKey, TenantId, TokenStore, UserId};
use serde_json::{Value, json};

use support::*;

impl World {
    fn key(&self, account: &str) -> ConnectionKey {
        ConnectionKey::new(
            TenantId::new("default").unwrap(),
            UserId::new(account).unwrap(),
        )
    }

    /// Makes the stored Atlassian token stale and moves the simulator's clock past its expiry.
    async fn expire(&self, account: &str) {
        let key = self.key(account);
        let c = self.store.connection(&key).await.unwrap().unwrap();
        let mut tokens = c.tokens.clone();
        tokens.expires_at = Some(SystemTime::now() - Duration::from_secs(5));
        self.store
            .save_connection(&key, c.display_name.as_deref(), &c.site, c.app, &tokens)
            .await
            .unwrap();
        self.admin(
            reqwest::Method::POST,
            "/clock/advance",
            json!({ "seconds": 3700 }),
        )
        .await;
    }
}

impl Mcp {
    async fn tool_names(&self) -> Vec<String> {
        let (_, _, answer) = self
            .post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
            .await;
        answer.unwrap()["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }
}

// ------------------------------------------------------------------ a browser, by WebDriver

/// Headless Chromium driven over the W3C WebDriver protocol (chromedriver, plain HTTP).
struct Chromium {
    http: reqwest::Client,
    session: String,
    base: String,
    driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(names: &[&str]) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/bin".into(), "/usr/lib/chromium".into()])
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

impl Chromium {
    /// Starts chromedriver and a headless Chromium session, or says why it cannot (a failure
    /// when CI=true).
    async fn start(test: &str) -> Option<Chromium> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let driver = find_program(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let reason = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: {reason}; CI=true forbids skipping");
            }
            // Straight to stderr: the test harness captures `eprintln!` and shows it only when
            // a test fails, so a skip would pass silently.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
            return None;
        };
        let port = free_port();
        let child = tokio::process::Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-quic",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args}}}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Some(Chromium {
            http,
            session,
            base,
            driver: child,
            _profile: profile,
        })
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, self.url_of(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits (up to 15 s) for an element matching `css` and returns its id.
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self
                .cmd(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await;
            if let Some(id) = v.get(ELEMENT).and_then(Value::as_str) {
                return id.to_string();
            }
            if Instant::now() > deadline {
                panic!(
                    "no element `{css}` at {}:\n{}",
                    self.current_url().await,
                    self.source().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits until the page's text at `css` contains `want`.
    async fn wait_text(&self, css: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let t = self.text(css).await;
            if t.contains(want) {
                return t;
            }
            if Instant::now() > deadline {
                panic!("`{css}` never said `{want}`; it says `{t}`");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill().await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ------------------------------------------------------------------ the browser flow

/// Issue 6, and issue 10's sign-in and consent: the whole flow in a real browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_006_whole_flow_in_headless_chromium() {
    let Some(browser) = Chromium::start("issue_006_whole_flow_in_headless_chromium").await else {
        return;
    };
    let w = World::new(|c, info| {
        c.central_app = None;
        c.defaults = settings_for(info, AuthMode::OAuthCentral);
    })
    .await;
    let secret = w.info.oauth_client.client_secret.clone();

    // The maintainer signs in and sets the app.
    browser.goto(&format!("{}/admin", w.base)).await;
    browser.type_into("input[name=token]", ADMIN_TOKEN).await;
    browser.click("#login").await;
    let callback = browser.text("#callback").await;
    assert_eq!(callback, format!("{}/callback", w.base));
    assert_eq!(callback, w.web.callback_url());
    assert_eq!(browser.text("#secret-state").await, "not set");
    browser.click("input[name=auth_mode][value=oauth]").await;
    browser
        .type_into("input[name=client_id]", &w.info.oauth_client.client_id)
        .await;
    browser
        .type_into("input[name=client_secret]", &secret)
        .await;
    browser.click("#save-settings").await;
    browser.wait_text("#note", "Saved.").await;
    assert_eq!(browser.text("#secret-state").await, "set");
    assert!(!browser.source().await.contains(&secret));

    // An MCP client registers and starts its authorization in the person's browser; its
    // redirect URI is a page of its own on loopback.
    let client_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirect = format!(
        "http://{}/browser-callback",
        client_listener.local_addr().unwrap()
    );
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/browser-callback",
            axum::routing::get(|| async { "the client got its answer" }),
        );
        axum::serve(client_listener, app).await.unwrap();
    });
    let redirect = redirect.as_str();
    let client = register(&w, "Browser test client", redirect).await;
    let maintainer = w.browser();
    let r = maintainer
        .post("/admin", "/admin/login", &[("token", ADMIN_TOKEN)])
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    maintainer
        .post("/admin", "/admin/agents", &[("agent", &client)])
        .await;
    let a = authorization(&w, &client, redirect, "tools:read tools:write");
    browser.goto(&a.url).await;
    // Not signed in: sign in with Atlassian (the simulator's page: the demo account is
    // preselected), then back to the consent page.
    browser.click("#signin").await;
    browser.click("button[value=accept]").await;
    let name = browser.text("#client-name").await;
    assert_eq!(name, "Browser test client");
    assert!(browser.text("#access").await.contains("read and change"));
    browser.click("#approve").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let back = loop {
        let url = browser.current_url().await;
        if url.starts_with(redirect) {
            break url;
        }
        assert!(Instant::now() < deadline, "never sent back: {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let q = query_of(&back);
    assert_eq!(q["state"], a.state);
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
    assert_eq!(status, reqwest::StatusCode::OK, "{tokens}");

    // The person's page: connected, the scopes, the client they authorized.
    browser.goto(&format!("{}/", w.base)).await;
    let status = browser.wait_text("#status", "Connected to").await;
    assert!(status.contains(w.handle.site_url()), "{status}");
    let scopes = browser.text("#scopes").await;
    assert!(scopes.contains("read:page:confluence"), "{scopes}");
    assert!(
        browser
            .text("#coverage")
            .await
            .contains("cover every enabled tool")
    );
    assert!(
        browser
            .text("#clients")
            .await
            .contains("Browser test client")
    );
    let demo = w.info.demo_account().unwrap().account_id.clone();
    assert_eq!(browser.text("#account").await, demo);
    let connection = w.store.connection(&w.key(&demo)).await.unwrap().unwrap();
    assert_eq!(connection.site.cloud_id.to_string(), w.info.cloud_id);
    assert!(
        !browser
            .source()
            .await
            .contains(connection.tokens.access.expose())
    );

    // The client calls a tool as the person.
    let agent = Mcp::new(&w, tokens["access_token"].as_str())
        .initialize()
        .await;
    let (_, is_error, text) = agent.spaces().await;
    assert!(!is_error, "{text}");

    // The Atlassian token expires; 50 concurrent calls refresh it once.
    w.expire(&demo).await;
    w.admin(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;
    let agent = std::sync::Arc::new(agent);
    let started = Instant::now();
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let a = agent.clone();
            tokio::spawn(async move { a.spaces().await })
        })
        .collect();
    for c in calls {
        let (_, is_error, text) = c.await.unwrap();
        assert!(!is_error, "{text}");
    }
    let elapsed = started.elapsed();
    let stats = w.stats().await;
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
    eprintln!("50 concurrent calls with an expired token: {elapsed:?}, refreshes: 1");

    // The refresh token is revoked; the next call asks to sign in again.
    let connection = w.store.connection(&w.key(&demo)).await.unwrap().unwrap();
    w.admin(
        reqwest::Method::POST,
        "/tokens/revoke",
        json!({ "token": connection.tokens.refresh.as_ref().unwrap().expose() }),
    )
    .await;
    w.expire(&demo).await;
    let (_, is_error, text) = agent.spaces().await;
    assert!(is_error);
    assert!(
        text.contains(&format!(
            "Confluence is not connected for this user: reconnect at {}/",
            w.base
        )),
        "{text}"
    );
    assert!(w.store.connection(&w.key(&demo)).await.unwrap().is_none());
    browser.goto(&format!("{}/", w.base)).await;
    browser.wait_text("#status", "Not connected").await;
    browser.quit().await;
}

// ------------------------------------------------------------------ without a browser

/// A world whose maintainer has set the workspace's own app (`oauth`).
async fn oauth_world() -> (World, Browser) {
    let w = World::new(|c, _| c.central_app = None).await;
    let m = w.browser();
    let r = m
        .post("/admin", "/admin/login", &[("token", ADMIN_TOKEN)])
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let r = m
        .post(
            "/admin",
            "/admin/settings",
            &[
                ("auth_mode", "oauth"),
                ("client_id", &w.info.oauth_client.client_id),
                ("client_secret", &w.info.oauth_client.client_secret),
                ("site_url", &w.info.site_url),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    (w, m)
}

/// Starts a sign-in on `b`; returns the authorize URL at Atlassian.
async fn start_sign_in(b: &Browser) -> String {
    let r = b.post("/", "/signin", &[]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    location(&r)
}

/// Accepts on the simulator's consent page as the demo user; returns the redirect (the
/// callback URL).
async fn consent(w: &World, authorize: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(authorize).send().await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let id = page.headers()["x-sim-consent-id"]
        .to_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{}/authorize/decision", w.handle.identity_url()))
        .form(&[("consent", id.as_str()), ("decision", "accept")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The path and query of a callback URL on this server.
fn local(url: &str, base: &str) -> String {
    url.strip_prefix(base).unwrap_or(url).to_string()
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split(&format!("{name}="))
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
}

#[tokio::test]
async fn refused_callbacks_show_a_clear_page_and_store_nothing() {
    let (w, _) = oauth_world().await;
    let s = w.browser();
    let nothing_stored = || async {
        assert!(
            w.store
                .list_connections(&TenantId::new("default").unwrap())
                .await
                .unwrap()
                .is_empty()
        );
    };

    // Tampered state.
    let authorize = start_sign_in(&s).await;
    let back = consent(&w, &authorize).await;
    let tampered = back.replace("state=", "state=x");
    let (status, page) = s.page(&local(&tampered, &w.base)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Sign-in refused"), "{page}");
    assert!(
        page.contains("this sign-in is unknown, already completed or expired"),
        "{page}"
    );
    nothing_stored().await;

    // Wrong PKCE verifier: the code of one sign-in with the state (and so the verifier) of
    // another.
    let first = start_sign_in(&s).await;
    let second = start_sign_in(&s).await;
    let code_of_first = consent(&w, &first).await;
    let second_back = consent(&w, &second).await;
    let code = param(&code_of_first, "code");
    let state = param(&second_back, "state");
    let (status, page) = s
        .page(&format!("/callback?code={code}&state={state}"))
        .await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("Atlassian refused the authorization code"),
        "{page}"
    );
    nothing_stored().await;

    // The refusal did not spend the first sign-in: its own callback connects, once.
    let r = s.get(&local(&code_of_first, &w.base)).await;
    assert_eq!(r.status(), 303);
    let demo = w.info.demo_account().unwrap().account_id.clone();
    assert!(w.store.connection(&w.key(&demo)).await.unwrap().is_some());
    assert!(w.web.flow().disconnect(&w.key(&demo)).await.unwrap());

    // Replayed callback: refused (its state is used up).
    let (status, page) = s.page(&local(&code_of_first, &w.base)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("already completed"), "{page}");
    nothing_stored().await;

    // Replayed code: the spent code with the state of a fresh sign-in.
    let fresh = start_sign_in(&s).await;
    let fresh_back = consent(&w, &fresh).await;
    let state = param(&fresh_back, "state");
    let (status, page) = s
        .page(&format!("/callback?code={code}&state={state}"))
        .await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("Atlassian refused the authorization code"),
        "{page}"
    );
    nothing_stored().await;

    // A callback from another browser: refused, and the sign-in is used up.
    let authorize = start_sign_in(&s).await;
    let back = consent(&w, &authorize).await;
    let other = w.browser();
    let (status, page) = other.page(&local(&back, &w.base)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("another browser session"), "{page}");
    let (status, _) = s.page(&local(&back, &w.base)).await;
    assert_eq!(status, 400);
    nothing_stored().await;

    // Foreign redirect URI: the identity service refuses it and never redirects back.
    let authorize = start_sign_in(&s).await;
    let foreign = authorize.replace(
        &url_encode(&format!("{}/callback", w.base)),
        &url_encode("https://evil.example/callback"),
    );
    assert_ne!(foreign, authorize);
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    nothing_stored().await;
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn csrf_is_required_and_secrets_never_come_back() {
    let (w, s) = oauth_world().await;
    let secret = w.info.oauth_client.client_secret.clone();
    let raw = |path: &str, form: &[(&str, &str)]| {
        let req = s.http.post(w.url(path)).form(form);
        async move { req.send().await.unwrap() }
    };

    // No token, a wrong token, a token of another session: refused, nothing changed.
    let r = raw("/admin/settings", &[("auth_mode", "apiToken")]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("CSRF"));
    let r = raw(
        "/admin/settings",
        &[("csrf", "forged"), ("auth_mode", "apiToken")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let other = w.browser();
    let (_, page) = other.page("/admin").await;
    let foreign = csrf(&page);
    let r = raw(
        "/admin/settings",
        &[("csrf", &foreign), ("auth_mode", "apiToken")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let settings = w
        .store
        .app_settings(&TenantId::new("default").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.auth_mode.as_str(), "oauth");
    for path in [
        "/signin",
        "/signout",
        "/disconnect",
        "/keys",
        "/clients/revoke",
        "/oauth/consent",
        "/admin/agents",
        "/admin/login",
        "/admin/keys",
    ] {
        let r = raw(path, &[("name", "x")]).await;
        assert_eq!(r.status(), 403, "{path}");
    }

    // The settings form without a maintainer session is refused even with a valid token.
    let stranger = w.browser();
    let r = stranger
        .post("/admin", "/admin/settings", &[("auth_mode", "apiToken")])
        .await;
    assert_eq!(r.status(), 401);
    let r = stranger
        .post("/admin", "/admin/login", &[("token", "wrong")])
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("not the right one"));

    // No page shows the secret; the admin page says it is set.
    let (_, admin) = s.page("/admin").await;
    assert!(
        admin.contains("<span id=\"secret-state\">set</span>"),
        "{admin}"
    );
    let (_, user) = s.page("/").await;
    for page in [&admin, &user] {
        assert!(!page.contains(&secret));
    }
    // Saving with a blank secret keeps it.
    let r = s
        .post(
            "/admin",
            "/admin/settings",
            &[
                ("auth_mode", "oauth"),
                ("client_id", &w.info.oauth_client.client_id),
                ("client_secret", ""),
                ("site_url", &w.info.site_url),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let settings = w
        .store
        .app_settings(&TenantId::new("default").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.client_secret.unwrap().expose(), &secret);
    assert_eq!(
        settings.cloud_id.map(|c| c.to_string()),
        Some(w.info.cloud_id.clone()),
        "the site's cloudId is read from it"
    );
}

#[tokio::test]
async fn allowlist_and_not_connected_errors() {
    let (w, m) = oauth_world().await;
    let person = w.browser();
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let redirect = "http://127.0.0.1:9/cb";
    let listed = register(&w, "listed", redirect).await;
    let rogue = register(&w, "rogue", redirect).await;
    m.post("/admin", "/admin/agents", &[("agent", &listed)])
        .await;
    let listed_tokens = authorize(&w, &person, &listed, redirect, "tools:read").await;
    let rogue_tokens = authorize(&w, &person, &rogue, redirect, "tools:read").await;

    let rogue_mcp = Mcp::new(&w, rogue_tokens["access_token"].as_str())
        .initialize()
        .await;
    let (_, is_error, text) = rogue_mcp.spaces().await;
    assert!(is_error);
    assert!(
        text.contains("This agent is not authorized to use this connector"),
        "{text}"
    );
    let listed_mcp = Mcp::new(&w, listed_tokens["access_token"].as_str())
        .initialize()
        .await;
    let (_, is_error, text) = listed_mcp.spaces().await;
    assert!(!is_error, "{text}");

    // The refused client is offered to the maintainer; ticking it allows it.
    let (_, admin) = m.page("/admin").await;
    assert!(admin.contains(&format!("value=\"{rogue}\">")), "{admin}");
    let r = m
        .post(
            "/admin",
            "/admin/agents",
            &[("agent", &listed), ("agent", &rogue)],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, is_error, text) = rogue_mcp.spaces().await;
    assert!(!is_error, "{text}");

    // Allow all; unticking everything removes them from the list.
    let r = m
        .post("/admin", "/admin/agents", &[("allow_all", "on")])
        .await;
    assert_eq!(r.status(), 303);
    let agents = w
        .store
        .allowed_agents(&TenantId::new("default").unwrap())
        .await
        .unwrap();
    assert!(agents.is_empty(), "{agents:?}");
    let (_, is_error, text) = rogue_mcp.spaces().await;
    assert!(!is_error, "{text}");

    // The person disconnects: calls say where to sign in again.
    person.post("/", "/disconnect", &[]).await;
    let (_, is_error, text) = listed_mcp.spaces().await;
    assert!(is_error);
    assert!(
        text.contains(&format!(
            "Confluence is not connected for this user: reconnect at {}/",
            w.base
        )),
        "{text}"
    );
}

/// The key a person makes on `/`, or the maintainer on `/admin`.
async fn make_key(b: &Browser, page: &str, action: &str) -> String {
    let r = b.post(page, action, &[("name", "four modes")]).await;
    let html = r.text().await.unwrap();
    let at = html.find("id=\"new-key\">").unwrap() + "id=\"new-key\">".len();
    html[at..at + html[at..].find('<').unwrap()].to_string()
}

/// Issue 6: all four auth modes serve the same tools.
#[tokio::test]
async fn the_four_auth_modes_serve_the_same_tools() {
    let w = World::new(|c, info| {
        c.defaults = conflux_store::AppSettings {
            allow_all_agents: true,
            ..settings_for(info, AuthMode::OAuthCentral)
        };
    })
    .await;
    let m = w.browser();
    m.post("/admin", "/admin/login", &[("token", ADMIN_TOKEN)])
        .await;
    let listed = |text: &str| text.contains("ENG") || text.to_lowercase().contains("space");
    let person = w.browser();

    // oauthCentral: the default; the platform's app.
    let r = person.post("/", "/signin", &[]).await;
    assert!(location(&r).contains(&format!("client_id={}", w.info.oauth_client.client_id)));
    person
        .through_atlassian(r, &w.info.demo_account().unwrap().account_id)
        .await;
    let key = make_key(&person, "/", "/keys").await;
    let agent = Mcp::new(&w, Some(&key)).initialize().await;
    let (_, is_error, central) = agent.spaces().await;
    assert!(!is_error && listed(&central), "{central}");
    let central_tools = agent.tool_names().await;

    // oauth: the workspace's own app (the same simulator client here).
    let r = m
        .post(
            "/admin",
            "/admin/settings",
            &[
                ("auth_mode", "oauth"),
                ("client_id", &w.info.oauth_client.client_id),
                ("client_secret", &w.info.oauth_client.client_secret),
                ("site_url", &w.info.site_url),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    person
        .sign_in(&w.info.demo_account().unwrap().account_id)
        .await;
    let (_, is_error, own) = agent.spaces().await;
    assert!(!is_error, "{own}");
    let own_tools = agent.tool_names().await;

    // apiToken: the classic token, for everyone; the maintainer's agent key.
    let r = m
        .post(
            "/admin",
            "/admin/settings",
            &[
                ("auth_mode", "apiToken"),
                ("site_url", w.handle.site_url()),
                ("api_email", &w.info.classic_token.email),
                ("api_token", &w.info.classic_token.token),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let agent_key = make_key(&m, "/admin", "/admin/keys").await;
    let token_agent = Mcp::new(&w, Some(&agent_key)).initialize().await;
    let (_, is_error, token) = token_agent.spaces().await;
    assert!(!is_error, "{token}");
    let token_tools = token_agent.tool_names().await;
    let (_, page) = person.page("/").await;
    assert!(page.contains("nothing to connect"), "{page}");
    let (_, admin) = m.page("/admin").await;
    assert!(!admin.contains(&w.info.classic_token.token));

    // accessToken: a caller-managed OAuth access token.
    let issued = w
        .admin(
            reqwest::Method::POST,
            "/tokens",
            json!({"kind": "oauth", "email": w.info.classic_token.email,
                   "scopes": ["read:space:confluence", "read:page:confluence"]}),
        )
        .await;
    let access = issued["access_token"].as_str().unwrap();
    let r = m
        .post(
            "/admin",
            "/admin/settings",
            &[
                ("auth_mode", "accessToken"),
                ("site_url", w.handle.site_url()),
                ("api_token", access),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, is_error, raw) = token_agent.spaces().await;
    assert!(!is_error, "{raw}");
    let raw_tools = token_agent.tool_names().await;

    // The same tools, and the same spaces, every way.
    assert!(
        central_tools.contains(&"spaces".to_string()),
        "{central_tools:?}"
    );
    for other in [&own_tools, &token_tools, &raw_tools] {
        assert_eq!(&central_tools, other);
    }
    for other in [&own, &token, &raw] {
        assert_eq!(first_line(&central), first_line(other));
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
