//! What the web tests share: the simulator, a store and the server on free ports; a browser
//! driven with reqwest (cookies kept, redirects followed by hand); an MCP client over raw
//! JSON-RPC with a bearer credential; registration and authorization of an MCP client.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use base64::Engine as _;
use conflux_client::{ClientConfig, Endpoints};
use conflux_oauth::AppCredentials;
use conflux_sim::{SimConfig, SimInfo};
use conflux_store::{AppSettings, AuthMode, AuthStore, EncryptionKey, SqlStore, TenantId};
use conflux_testkit::Sim;
use conflux_types::{BaseUrl, Secret};
use conflux_web::{Web, WebConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest as _;

pub const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789-abcdef";
pub const PLATFORM_SECRET: &str = "platform-secret-for-tests-0123456789-abcdef";

// ------------------------------------------------------------------ the world

pub struct World {
    pub sim: Sim,
    pub store: Arc<SqlStore>,
    pub web: Web,
    pub base: String,
    pub dir: tempfile::TempDir,
}

pub fn settings_for(info: &SimInfo, mode: AuthMode) -> AppSettings {
    AppSettings {
        auth_mode: mode,
        site_url: Some(info.site_url.clone()),
        cloud_id: Some(info.cloud_id.parse().unwrap()),
        ..AppSettings::default()
    }
}

/// The simulator's info, handle and admin API, on the world.
impl std::ops::Deref for World {
    type Target = Sim;

    fn deref(&self) -> &Sim {
        &self.sim
    }
}

impl World {
    /// The simulator, a SQLite store and the server (OAuth through the platform's app: the
    /// simulator's demo client) on a free port.
    pub async fn new(configure: impl FnOnce(&mut WebConfig, &SimInfo)) -> World {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sim =
            Sim::start(SimConfig::demo(11).with_redirect_uris(vec![format!("{base}/callback")]))
                .await;
        let info = sim.info.clone();
        let dir = tempfile::tempdir().unwrap();
        let key = EncryptionKey::generate();
        let store = Arc::new(
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
                gateway: BaseUrl::parse(sim.handle.gateway_url()).unwrap(),
                identity: BaseUrl::parse(sim.handle.identity_url()).unwrap(),
            },
            ..ClientConfig::default()
        };
        config.central_app = Some(AppCredentials {
            client_id: info.oauth_client.client_id.clone(),
            client_secret: Secret::new(info.oauth_client.client_secret.clone()),
        });
        config.defaults = settings_for(&info, AuthMode::OAuthCentral);
        configure(&mut config, &info);
        let web = Web::new(store.clone(), config).unwrap();
        let app = web.app().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        World {
            sim,
            store,
            web,
            base,
            dir,
        }
    }

    pub fn browser(&self) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
            jar,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn refusals(&self) -> Vec<String> {
        self.store
            .refusals(&TenantId::new("default").unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.agent_id)
            .collect()
    }
}

/// A browser: cookies kept, redirects followed by hand.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub jar: Arc<reqwest::cookie::Jar>,
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on {}", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// The value of the hidden `csrf` field of a page.
pub fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF field");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

impl Browser {
    /// The value of cookie `name` this browser sends to `path` of the server.
    pub fn cookie(&self, path: &str, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore as _;
        let url = url::Url::parse(&format!("{}{path}", self.base)).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|p| p.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    pub async fn get(&self, path_or_url: &str) -> reqwest::Response {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        self.http.get(url).send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form of `page` (its CSRF token included).
    pub async fn post(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.page(page).await;
        let token = csrf(&html);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &token)];
        form.extend_from_slice(fields);
        self.http
            .post(format!("{}{action}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Through Atlassian's consent page as `account`, from a response that redirects to it;
    /// returns Conflux's answer to the callback.
    pub async fn through_atlassian(
        &self,
        to_atlassian: reqwest::Response,
        account: &str,
    ) -> reqwest::Response {
        assert_eq!(to_atlassian.status(), StatusCode::SEE_OTHER);
        let consent = self.get(&location(&to_atlassian)).await;
        assert_eq!(consent.status(), StatusCode::OK);
        let id = consent
            .headers()
            .get("x-sim-consent-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let decision_url = {
            let u = url::Url::parse(consent.url().as_str()).unwrap();
            format!("{}/authorize/decision", u.origin().ascii_serialization())
        };
        let back = self
            .http
            .post(decision_url)
            .form(&[
                ("consent", id.as_str()),
                ("decision", "accept"),
                ("account", account),
            ])
            .send()
            .await
            .unwrap();
        assert!(back.status().is_redirection(), "{}", back.status());
        self.get(&location(&back)).await
    }

    /// Signs in with Atlassian as `account` from `/`.
    pub async fn sign_in(&self, account: &str) -> reqwest::Response {
        let start = self.post("/", "/signin", &[]).await;
        self.through_atlassian(start, account).await
    }
}

// ------------------------------------------------------------------ an MCP client

/// PKCE: a verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}", uuid::Uuid::new_v4().simple());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub struct Authorization {
    pub url: String,
    pub verifier: String,
    pub redirect_uri: String,
    pub state: String,
}

pub fn authorization(
    world: &World,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> Authorization {
    let (verifier, challenge) = pkce();
    let state = uuid::Uuid::new_v4().simple().to_string();
    let mut url = url::Url::parse(&world.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &state)
        .append_pair("scope", scope)
        .append_pair("resource", &world.url("/mcp"));
    Authorization {
        url: url.into(),
        verifier,
        redirect_uri: redirect_uri.into(),
        state,
    }
}

/// The query of a redirect to the client.
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub async fn register(world: &World, name: &str, redirect_uri: &str) -> String {
    let r = reqwest::Client::new()
        .post(world.url("/oauth/register"))
        .json(
            &json!({"client_name": name, "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "client_secret_post"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_endpoint_auth_method"], "none", "{v}");
    assert!(v.get("client_secret").is_none(), "{v}");
    v["client_id"].as_str().unwrap().to_string()
}

pub async fn token_request(world: &World, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(world.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// The person (signed in on `browser`) authorizes `client_id`; returns its tokens.
pub async fn authorize(
    world: &World,
    browser: &Browser,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> Value {
    let a = authorization(world, client_id, redirect_uri, scope);
    let r = browser.get(&a.url).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    assert_eq!(location(&r), "/oauth/consent");
    let answer = browser
        .post(
            "/oauth/consent",
            "/oauth/consent",
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let back = location(&answer);
    assert!(back.starts_with(redirect_uri), "{back}");
    let q = query_of(&back);
    assert_eq!(q["state"], a.state);
    assert_eq!(q["iss"], world.base, "RFC 9207: the issuer on every answer");
    let (status, tokens) = token_request(
        world,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &a.redirect_uri),
            ("client_id", client_id),
            ("code_verifier", &a.verifier),
            ("resource", &world.url("/mcp")),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

/// Raw JSON-RPC over streamable HTTP with a bearer credential (2025-06-18 sessions).
pub struct Mcp {
    pub http: reqwest::Client,
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Mcp {
    pub fn new(world: &World, bearer: Option<&str>) -> Mcp {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(b) = bearer {
            headers.insert("authorization", format!("Bearer {b}").parse().unwrap());
        }
        Mcp {
            http: reqwest::Client::new(),
            url: world.url("/mcp"),
            headers,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Mcp {
        self.headers.insert(name, value.parse().unwrap());
        self
    }

    pub async fn post_raw(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .headers(self.headers.clone())
            .header("accept", "application/json, text/event-stream")
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(
        &self,
        body: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Option<Value>) {
        let r = self.post_raw(&body).await;
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let id = body.get("id").cloned();
        let answer = id.and_then(|id| {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .chain(serde_json::from_str::<Value>(&text).ok())
                .find(|v| v.get("id") == Some(&id))
        });
        (status, headers, answer)
    }

    pub async fn initialize(mut self) -> Mcp {
        let (status, headers, answer) = self
            .post(
                json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "conflux-auth-test", "version": "1"}}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
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

    /// Calls a tool; returns the HTTP status and (isError, text).
    pub async fn call(&self, tool: &str, args: Value) -> (StatusCode, bool, String) {
        // Each request its own id: responses in a session are matched by it.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (status, _, answer) = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": tool, "arguments": args}}))
            .await;
        let Some(answer) = answer else {
            return (status, true, String::new());
        };
        let result = answer.get("result").cloned().unwrap_or_default();
        let text = result["content"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|b| b["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        (status, result["isError"].as_bool().unwrap_or(false), text)
    }

    pub async fn spaces(&self) -> (StatusCode, bool, String) {
        self.call("spaces", json!({"action": "list", "limit": 3}))
            .await
    }

    pub async fn tool_actions(&self, tool: &str) -> Vec<String> {
        let (_, _, answer) = self
            .post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
            .await;
        let tools = answer.unwrap()["result"]["tools"].clone();
        let t = tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == tool)
            .unwrap()
            .clone();
        t["inputSchema"]["properties"]["action"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }
}

/// A world where every authenticated client may call (the allowlist is tested on its own).
pub async fn open_allowlist() -> World {
    World::new(|c, info| {
        c.defaults = AppSettings {
            allow_all_agents: true,
            ..settings_for(info, AuthMode::OAuthCentral)
        };
    })
    .await
}
