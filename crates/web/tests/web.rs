//! The configuration page and the MCP endpoint against the simulator over real sockets: the
//! whole flow in headless Chromium (admin sets the app, the user connects, an agent calls,
//! the token expires and is refreshed once under 50 concurrent calls, the refresh token is
//! revoked and the next call asks to reconnect), refused callbacks that store nothing, CSRF,
//! secrets that never come back, the allowlist, and the four auth modes serving the same tools.
#![allow(clippy::unwrap_used)]

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use conflux_client::{ClientConfig, Endpoints};
use conflux_sim::{SimConfig, SimHandle, SimInfo};
use conflux_store::{ConnectionKey, EncryptionKey, SqlStore, TenantId, TokenStore, UserId};
use conflux_types::{BaseUrl, Secret};
use conflux_web::{Web, WebConfig};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789";

// ------------------------------------------------------------------ the world

struct World {
    sim: SimHandle,
    info: SimInfo,
    store: Arc<dyn TokenStore>,
    web: Web,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl World {
    /// The simulator, a SQLite store and the server on a free port; the simulator's demo
    /// OAuth client has this server's callback registered.
    async fn new(configure: impl FnOnce(&mut WebConfig, &SimInfo)) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sim = conflux_sim::spawn(
            SimConfig::demo(11).with_redirect_uris(vec![format!("{base}/callback")]),
        )
        .await
        .unwrap();
        let info = sim.info();
        let dir = tempfile::tempdir().unwrap();
        let key = EncryptionKey::generate();
        let store: Arc<dyn TokenStore> = Arc::new(
            SqlStore::open_sqlite(&dir.path().join("conflux.db"), key.clone())
                .await
                .unwrap(),
        );
        let mut config = WebConfig::new(
            &base,
            TenantId::new("default").unwrap(),
            key.derive("conflux-web cookies"),
        )
        .unwrap();
        config.admin_token = Some(Secret::new(ADMIN_TOKEN.into()));
        config.client = ClientConfig {
            endpoints: Endpoints {
                gateway: BaseUrl::parse(sim.gateway_url()).unwrap(),
                identity: BaseUrl::parse(sim.identity_url()).unwrap(),
            },
            ..ClientConfig::default()
        };
        configure(&mut config, &info);
        let web = Web::new(store.clone(), config).unwrap();
        let router = web.router().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        World {
            sim,
            info,
            store,
            web,
            base,
            http,
            _dir: dir,
        }
    }

    async fn admin_api(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.info.admin_url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "admin {path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn stats(&self) -> Value {
        self.admin_api(reqwest::Method::GET, "/stats", json!({}))
            .await
    }

    /// Makes the stored token stale and moves the simulator's clock past its expiry.
    async fn expire(&self, user: &str) {
        let key = key(user);
        let c = self.store.connection(&key).await.unwrap().unwrap();
        let mut tokens = c.tokens.clone();
        tokens.expires_at = Some(SystemTime::now() - Duration::from_secs(5));
        self.store
            .save_connection(&key, &c.site, c.app, &tokens)
            .await
            .unwrap();
        self.admin_api(
            reqwest::Method::POST,
            "/clock/advance",
            json!({ "seconds": 3700 }),
        )
        .await;
    }

    fn mcp(&self, agent: Option<&str>, user: Option<&str>) -> Mcp {
        Mcp::new(&format!("{}/mcp", self.base), agent, user)
    }
}

fn key(user: &str) -> ConnectionKey {
    ConnectionKey::new(
        TenantId::new("default").unwrap(),
        UserId::new(user).unwrap(),
    )
}

// ------------------------------------------------------------------ MCP over HTTP, raw JSON-RPC

/// A streamable-HTTP MCP client that sends the agent and user headers on every request.
#[derive(Clone)]
struct Mcp {
    http: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
}

impl Mcp {
    fn new(url: &str, agent: Option<&str>, user: Option<&str>) -> Mcp {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(a) = agent {
            headers.insert("x-conflux-agent-id", a.parse().unwrap());
        }
        if let Some(u) = user {
            headers.insert("x-conflux-user-id", u.parse().unwrap());
        }
        Mcp {
            http: reqwest::Client::new(),
            url: url.into(),
            headers,
        }
    }

    async fn post(&self, body: Value) -> (reqwest::header::HeaderMap, Option<Value>) {
        let r = self
            .http
            .post(&self.url)
            .headers(self.headers.clone())
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        let id = body.get("id").cloned();
        let answer = id.and_then(|id| {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .chain(serde_json::from_str::<Value>(&text).ok())
                .find(|v| v.get("id") == Some(&id))
        });
        (headers, answer)
    }

    /// Initializes a session; later requests carry its id.
    async fn initialize(mut self) -> Mcp {
        let (headers, answer) = self
            .post(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "conflux-web-test", "version": "1"}}}),
            )
            .await;
        assert!(answer.unwrap().get("result").is_some());
        if let Some(sid) = headers.get("mcp-session-id") {
            self.headers.insert("mcp-session-id", sid.clone());
        }
        self.headers
            .insert("mcp-protocol-version", "2025-06-18".parse().unwrap());
        self.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        self
    }

    /// Calls a tool; returns (isError, text of the content).
    async fn call(&self, id: u64, tool: &str, args: Value) -> (bool, String) {
        let (_, answer) = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": tool, "arguments": args}}))
            .await;
        let answer = answer.unwrap();
        let result = answer
            .get("result")
            .unwrap_or_else(|| panic!("no result: {answer}"));
        let text = result["content"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|b| b["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        (result["isError"].as_bool().unwrap_or(false), text)
    }

    /// The names of the tools the server lists.
    async fn tool_names(&self, id: u64) -> Vec<String> {
        let (_, answer) = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": {}}))
            .await;
        let answer = answer.unwrap();
        answer["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("no tools: {answer}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }

    async fn list_spaces(&self, id: u64) -> (bool, String) {
        self.call(id, "spaces", json!({"action": "list", "limit": 5}))
            .await
    }
}

// ------------------------------------------------------------------ a browser, by WebDriver

/// Headless Chromium driven over the W3C WebDriver protocol (chromedriver, plain HTTP).
struct Browser {
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

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or says why it cannot (a failure
    /// when CI=true).
    async fn start(test: &str) -> Option<Browser> {
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
        Some(Browser {
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

/// Issue 6: the whole flow in a real browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_006_whole_flow_in_headless_chromium() {
    let Some(browser) = Browser::start("issue_006_whole_flow_in_headless_chromium").await else {
        return;
    };
    let w = World::new(|_, _| {}).await;
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
    browser.type_into("input[name=new_agent]", "agent-1").await;
    browser
        .type_into("input[name=new_label]", "the test agent")
        .await;
    browser.click("#save-agents").await;
    browser.wait_text("#note", "Saved.").await;
    assert!(browser.source().await.contains("value=\"agent-1\" checked"));
    assert!(!browser.source().await.contains(&secret));

    // The user names themself and connects.
    browser.goto(&format!("{}/", w.base)).await;
    browser.type_into("input[name=user_id]", "alice").await;
    browser.click("form[action=\"/user\"] button").await;
    browser.wait_text("#status", "Not connected").await;
    browser.click("#connect").await;
    // The simulator's consent page, then back.
    browser.click("button[value=accept]").await;
    let status = browser.wait_text("#status", "Connected to").await;
    assert!(status.contains(w.sim.site_url()), "{status}");
    assert!(browser.current_url().await.starts_with(&w.base));
    let scopes = browser.text("#scopes").await;
    assert!(scopes.contains("read:page:confluence"), "{scopes}");
    assert!(
        browser
            .text("#coverage")
            .await
            .contains("cover every enabled tool")
    );
    let connection = w.store.connection(&key("alice")).await.unwrap().unwrap();
    assert_eq!(connection.site.cloud_id.to_string(), w.info.cloud_id);
    assert!(
        !browser
            .source()
            .await
            .contains(connection.tokens.access.expose())
    );

    // An allowed agent calls a tool for alice.
    let agent = w.mcp(Some("agent-1"), Some("alice")).initialize().await;
    let (is_error, text) = agent.list_spaces(1).await;
    assert!(!is_error, "{text}");

    // The token expires; 50 concurrent calls refresh it once.
    w.expire("alice").await;
    w.admin_api(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;
    let started = Instant::now();
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let a = agent.clone();
            tokio::spawn(async move { a.list_spaces(100 + i).await })
        })
        .collect();
    for c in calls {
        let (is_error, text) = c.await.unwrap();
        assert!(!is_error, "{text}");
    }
    let elapsed = started.elapsed();
    let stats = w.stats().await;
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
    eprintln!("50 concurrent calls with an expired token: {elapsed:?}, refreshes: 1");

    // The refresh token is revoked; the next call asks to reconnect.
    let connection = w.store.connection(&key("alice")).await.unwrap().unwrap();
    w.admin_api(
        reqwest::Method::POST,
        "/tokens/revoke",
        json!({ "token": connection.tokens.refresh.as_ref().unwrap().expose() }),
    )
    .await;
    w.expire("alice").await;
    let (is_error, text) = agent.list_spaces(200).await;
    assert!(is_error);
    assert!(
        text.contains(&format!(
            "Confluence is not connected for this user: reconnect at {}/",
            w.base
        )),
        "{text}"
    );
    assert!(w.store.connection(&key("alice")).await.unwrap().is_none());
    browser.goto(&format!("{}/", w.base)).await;
    browser.wait_text("#status", "Not connected").await;
    browser.quit().await;
}

// ------------------------------------------------------------------ without a browser

/// A browser session driven with reqwest: cookies kept, redirects not followed.
struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    fn new(base: &str) -> Session {
        Session {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.into(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The CSRF token of the page at `path`.
    async fn csrf(&self, path: &str) -> String {
        let (_, page) = self.get(path).await;
        let needle = "name=\"csrf\" value=\"";
        let at = page
            .find(needle)
            .unwrap_or_else(|| panic!("no csrf field:\n{page}"))
            + needle.len();
        page[at..].split('"').next().unwrap().to_string()
    }

    /// Posts a form; returns status, Location and body.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, location, r.text().await.unwrap())
    }

    async fn admin_login(&self) {
        let csrf = self.csrf("/admin").await;
        let (status, location, _) = self
            .post("/admin/login", &[("csrf", &csrf), ("token", ADMIN_TOKEN)])
            .await;
        assert_eq!((status, location.as_str()), (303, "/admin"));
    }

    async fn save_settings(&self, fields: &[(&str, &str)]) -> (u16, String) {
        let csrf = self.csrf("/admin").await;
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let (status, _, body) = self.post("/admin/settings", &form).await;
        (status, body)
    }

    async fn set_user(&self, user: &str) {
        let csrf = self.csrf("/").await;
        let (status, _, _) = self
            .post("/user", &[("csrf", &csrf), ("user_id", user)])
            .await;
        assert_eq!(status, 303);
    }

    /// Clicks Connect; returns the authorize URL.
    async fn connect(&self) -> String {
        let csrf = self.csrf("/").await;
        let (status, location, body) = self.post("/connect", &[("csrf", &csrf)]).await;
        assert_eq!(status, 303, "{body}");
        location
    }
}

/// Accepts on the simulator's consent page; returns the redirect (the callback URL).
async fn consent(http: &reqwest::Client, identity: &str, authorize: &str) -> String {
    let page = http.get(authorize).send().await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let id = page.headers()["x-sim-consent-id"]
        .to_str()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{identity}/authorize/decision"))
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

async fn oauth_world() -> (World, Session) {
    let w = World::new(|_, _| {}).await;
    let s = Session::new(&w.base);
    s.admin_login().await;
    let (status, body) = s
        .save_settings(&[
            ("auth_mode", "oauth"),
            ("client_id", &w.info.oauth_client.client_id),
            ("client_secret", &w.info.oauth_client.client_secret),
        ])
        .await;
    assert_eq!(status, 303, "{body}");
    (w, s)
}

#[tokio::test]
async fn refused_callbacks_show_a_clear_page_and_store_nothing() {
    let (w, s) = oauth_world().await;
    s.set_user("carol").await;
    let nothing_stored = || async {
        assert!(w.store.connection(&key("carol")).await.unwrap().is_none());
        assert!(
            w.store
                .list_connections(&TenantId::new("default").unwrap())
                .await
                .unwrap()
                .is_empty()
        );
    };

    // Tampered state.
    let authorize = s.connect().await;
    let back = consent(&w.http, w.sim.identity_url(), &authorize).await;
    let tampered = back.replace("state=", "state=x");
    let (status, page) = s.get(&local(&tampered, &w.base)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Sign-in refused"), "{page}");
    assert!(
        page.contains("this sign-in is unknown, already completed or expired"),
        "{page}"
    );
    nothing_stored().await;

    // Wrong PKCE verifier: the code of one sign-in with the state (and so the verifier) of
    // another.
    let first = s.connect().await;
    let second = s.connect().await;
    let code_of_first = consent(&w.http, w.sim.identity_url(), &first).await;
    let second_back = consent(&w.http, w.sim.identity_url(), &second).await;
    let code = code_of_first
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let state = second_back
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let (status, page) = s.get(&format!("/callback?code={code}&state={state}")).await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("Atlassian refused the authorization code"),
        "{page}"
    );
    nothing_stored().await;

    // The refusal did not spend the first sign-in: its own callback connects, once.
    let (status, page) = s.get(&local(&code_of_first, &w.base)).await;
    assert_eq!(status, 303, "{page}");
    assert!(w.store.connection(&key("carol")).await.unwrap().is_some());
    assert!(w.web.flow().disconnect(&key("carol")).await.unwrap());

    // Replayed callback: refused (its state is used up).
    let (status, page) = s.get(&local(&code_of_first, &w.base)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("already completed"), "{page}");
    nothing_stored().await;

    // Replayed code: the spent code with the state of a fresh sign-in.
    let fresh = s.connect().await;
    let fresh_back = consent(&w.http, w.sim.identity_url(), &fresh).await;
    let state = fresh_back
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let (status, page) = s.get(&format!("/callback?code={code}&state={state}")).await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("Atlassian refused the authorization code"),
        "{page}"
    );
    nothing_stored().await;

    // A callback from another browser: refused, and the sign-in is used up.
    let authorize = s.connect().await;
    let back = consent(&w.http, w.sim.identity_url(), &authorize).await;
    let other = Session::new(&w.base);
    let (status, page) = other.get(&local(&back, &w.base)).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("another browser session"), "{page}");
    let (status, _) = s.get(&local(&back, &w.base)).await;
    assert_eq!(status, 400);
    nothing_stored().await;

    // Foreign redirect URI: the identity service refuses it and never redirects back.
    let authorize = s.connect().await;
    let foreign = authorize.replace(
        &url_encode(&format!("{}/callback", w.base)),
        &url_encode("https://evil.example/callback"),
    );
    assert_ne!(foreign, authorize);
    let r = w.http.get(&foreign).send().await.unwrap();
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

    // No token, a wrong token, a token of another session: refused, nothing changed.
    let (status, _, page) = s
        .post("/admin/settings", &[("auth_mode", "apiToken")])
        .await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("CSRF"), "{page}");
    let (status, _, _) = s
        .post(
            "/admin/settings",
            &[("csrf", "forged"), ("auth_mode", "apiToken")],
        )
        .await;
    assert_eq!(status, 403);
    let other = Session::new(&w.base);
    let foreign_csrf = other.csrf("/admin").await;
    let (status, _, _) = s
        .post(
            "/admin/settings",
            &[("csrf", &foreign_csrf), ("auth_mode", "apiToken")],
        )
        .await;
    assert_eq!(status, 403);
    let settings = w
        .store
        .app_settings(&TenantId::new("default").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.auth_mode.as_str(), "oauth");
    for path in ["/connect", "/user", "/admin/agents", "/admin/login"] {
        let (status, _, _) = s.post(path, &[("user_id", "x")]).await;
        assert_eq!(status, 403, "{path}");
    }

    // The settings form without a maintainer session is refused even with a valid token.
    let stranger = Session::new(&w.base);
    let csrf = stranger.csrf("/admin").await;
    let (status, _, _) = stranger
        .post(
            "/admin/settings",
            &[("csrf", &csrf), ("auth_mode", "apiToken")],
        )
        .await;
    assert_eq!(status, 401);
    let csrf = stranger.csrf("/admin").await;
    let (status, _, page) = stranger
        .post("/admin/login", &[("csrf", &csrf), ("token", "wrong")])
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("not the right one"), "{page}");

    // No page shows the secret; the admin page says it is set.
    let (_, admin) = s.get("/admin").await;
    assert!(
        admin.contains("<span id=\"secret-state\">set</span>"),
        "{admin}"
    );
    s.set_user("dave").await;
    let (_, user) = s.get("/").await;
    for page in [&admin, &user] {
        assert!(!page.contains(&secret));
    }
    // Saving with a blank secret keeps it.
    let (status, _) = s
        .save_settings(&[
            ("auth_mode", "oauth"),
            ("client_id", &w.info.oauth_client.client_id),
            ("client_secret", ""),
        ])
        .await;
    assert_eq!(status, 303);
    let settings = w
        .store
        .app_settings(&TenantId::new("default").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.client_secret.unwrap().expose(), &secret);
}

#[tokio::test]
async fn allowlist_identity_and_not_connected_errors() {
    let (w, s) = oauth_world().await;
    let csrf = s.csrf("/admin").await;
    let (status, _, _) = s
        .post(
            "/admin/agents",
            &[("csrf", &csrf), ("new_agent", "agent-1")],
        )
        .await;
    assert_eq!(status, 303);

    let (is_error, text) = w
        .mcp(Some("rogue"), Some("alice"))
        .initialize()
        .await
        .list_spaces(1)
        .await;
    assert!(is_error);
    assert!(
        text.contains("This agent is not authorized to use this connector"),
        "{text}"
    );
    let (is_error, text) = w
        .mcp(None, Some("alice"))
        .initialize()
        .await
        .list_spaces(1)
        .await;
    assert!(is_error);
    assert!(
        text.contains("The calling agent could not be identified"),
        "{text}"
    );
    let (is_error, text) = w
        .mcp(Some("agent-1"), Some("bob"))
        .initialize()
        .await
        .list_spaces(1)
        .await;
    assert!(is_error);
    assert!(
        text.contains(&format!(
            "Confluence is not connected for this user: reconnect at {}/",
            w.base
        )),
        "{text}"
    );

    // `_meta` names the agent and user when there are no headers.
    let anon = w.mcp(None, None).initialize().await;
    let (_, answer) = anon
        .post(
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
            "name": "spaces", "arguments": {"action": "list"},
            "_meta": {"agent_id": "agent-1", "user_id": "bob"}}}),
        )
        .await;
    let text = answer.unwrap()["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("Confluence is not connected for this user"),
        "{text}"
    );

    // The refused agent is offered to the maintainer; ticking it allows it.
    let (_, admin) = s.get("/admin").await;
    assert!(admin.contains("value=\"rogue\">"), "{admin}");
    let csrf = s.csrf("/admin").await;
    let (status, _, _) = s
        .post(
            "/admin/agents",
            &[("csrf", &csrf), ("agent", "agent-1"), ("agent", "rogue")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, text) = w
        .mcp(Some("rogue"), Some("alice"))
        .initialize()
        .await
        .list_spaces(1)
        .await;
    assert!(text.contains("not connected"), "{text}");

    // Allow all: no agent id is needed; unticking everything removes them.
    let csrf = s.csrf("/admin").await;
    let (status, _, _) = s
        .post("/admin/agents", &[("csrf", &csrf), ("allow_all", "on")])
        .await;
    assert_eq!(status, 303);
    let agents = w
        .store
        .allowed_agents(&TenantId::new("default").unwrap())
        .await
        .unwrap();
    assert!(agents.is_empty(), "{agents:?}");
    let (_, text) = w
        .mcp(None, Some("alice"))
        .initialize()
        .await
        .list_spaces(1)
        .await;
    assert!(text.contains("not connected"), "{text}");
}

/// Issue 6: all four auth modes serve the same tools.
#[tokio::test]
async fn the_four_auth_modes_serve_the_same_tools() {
    let w = World::new(|c, info| {
        c.central_app = Some(conflux_oauth::AppCredentials {
            client_id: info.oauth_client.client_id.clone(),
            client_secret: Secret::new(info.oauth_client.client_secret.clone()),
        });
    })
    .await;
    let s = Session::new(&w.base);
    s.admin_login().await;
    let csrf = s.csrf("/admin").await;
    s.post(
        "/admin/agents",
        &[("csrf", &csrf), ("new_agent", "agent-1")],
    )
    .await;
    let agent = w.mcp(Some("agent-1"), Some("erin")).initialize().await;
    let listed = |text: &str| text.contains("ENG") || text.to_lowercase().contains("space");

    // oauthCentral: the default; the platform's app.
    s.set_user("erin").await;
    let authorize = s.connect().await;
    assert!(authorize.contains(&format!("client_id={}", w.info.oauth_client.client_id)));
    let back = consent(&w.http, w.sim.identity_url(), &authorize).await;
    let (status, _) = s.get(&local(&back, &w.base)).await;
    assert_eq!(status, 303);
    let (_, page) = s.get("/").await;
    assert!(page.contains("the platform's app"), "{page}");
    let (is_error, central) = agent.list_spaces(1).await;
    assert!(!is_error && listed(&central), "{central}");
    let central_tools = agent.tool_names(11).await;

    // oauth: the workspace's own app (the same simulator client here).
    let (status, _) = s
        .save_settings(&[
            ("auth_mode", "oauth"),
            ("client_id", &w.info.oauth_client.client_id),
            ("client_secret", &w.info.oauth_client.client_secret),
        ])
        .await;
    assert_eq!(status, 303);
    let authorize = s.connect().await;
    let back = consent(&w.http, w.sim.identity_url(), &authorize).await;
    s.get(&local(&back, &w.base)).await;
    let (_, page) = s.get("/").await;
    assert!(page.contains("this workspace's own app"), "{page}");
    let (is_error, own) = agent.list_spaces(2).await;
    assert!(!is_error, "{own}");
    let own_tools = agent.tool_names(12).await;

    // apiToken: the classic token, for everyone.
    let (status, body) = s
        .save_settings(&[
            ("auth_mode", "apiToken"),
            ("site_url", w.sim.site_url()),
            ("api_email", &w.info.classic_token.email),
            ("api_token", &w.info.classic_token.token),
        ])
        .await;
    assert_eq!(status, 303, "{body}");
    let token_agent = w.mcp(Some("agent-1"), None).initialize().await;
    let (is_error, token) = token_agent.list_spaces(3).await;
    assert!(!is_error, "{token}");
    let token_tools = token_agent.tool_names(13).await;
    let (_, page) = s.get("/").await;
    assert!(page.contains("nothing to connect"), "{page}");
    let (_, admin) = s.get("/admin").await;
    assert!(!admin.contains(&w.info.classic_token.token));

    // accessToken: a caller-managed OAuth access token.
    let issued = w
        .admin_api(
            reqwest::Method::POST,
            "/tokens",
            json!({"kind": "oauth", "email": w.info.classic_token.email,
                   "scopes": ["read:space:confluence", "read:page:confluence"]}),
        )
        .await;
    let access = issued["access_token"].as_str().unwrap();
    let (status, body) = s
        .save_settings(&[
            ("auth_mode", "accessToken"),
            ("site_url", w.sim.site_url()),
            ("api_token", access),
        ])
        .await;
    assert_eq!(status, 303, "{body}");
    let raw_agent = w.mcp(Some("agent-1"), None).initialize().await;
    let (is_error, raw) = raw_agent.list_spaces(4).await;
    assert!(!is_error, "{raw}");
    let raw_tools = raw_agent.tool_names(14).await;

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
