//! The OAuth client side against the simulator's identity service over real sockets: the code
//! flow and its refusals, rotating refresh, single-flight across tasks, store handles and
//! processes (Postgres), revocation, and no token in logs or Debug output.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use conflux_catalog::{ScopeKind, ScopeSet};
use conflux_client::{Client, ClientConfig, Endpoints, PageRequest, RetryPolicy};
use conflux_oauth::{AppCredentials, Callback, OAuthConfig, OAuthError, OAuthFlow};
use conflux_store::testing::PgServer;
use conflux_store::{
    AppSettings, AuthMode, ConnectionKey, EncryptionKey, SqlStore, TenantId, TokenStore, UserId,
};
use conflux_testkit::Sim;
use conflux_types::{BaseUrl, Secret};
use serde_json::json;

const RECONNECT: &str = "http://127.0.0.1:8976/";

struct World {
    sim: Sim,
    /// Follows no redirect, so a test sees each answer.
    http: reqwest::Client,
}

impl std::ops::Deref for World {
    type Target = Sim;

    fn deref(&self) -> &Sim {
        &self.sim
    }
}

impl World {
    async fn new() -> World {
        capture_logs();
        let sim = Sim::demo(7).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        World { sim, http }
    }

    fn endpoints(&self) -> Endpoints {
        Endpoints {
            gateway: BaseUrl::parse(self.handle.gateway_url()).unwrap(),
            identity: BaseUrl::parse(self.handle.identity_url()).unwrap(),
        }
    }

    fn central(&self) -> AppCredentials {
        AppCredentials {
            client_id: self.info.oauth_client.client_id.clone(),
            client_secret: Secret::new(self.info.oauth_client.client_secret.clone()),
        }
    }

    fn config(&self) -> OAuthConfig {
        let mut c = OAuthConfig::new(
            self.endpoints(),
            self.info.oauth_client.redirect_uris[0].clone(),
            RECONNECT.into(),
        );
        c.central_app = Some(self.central());
        c.default_scopes = ScopeSet::all().of_kind(ScopeKind::Granular);
        c.default_settings = self.site_settings();
        c
    }

    /// Settings naming the simulator's site, whose members may sign in.
    fn site_settings(&self) -> AppSettings {
        AppSettings {
            site_url: Some(self.info.site_url.clone()),
            cloud_id: Some(self.info.cloud_id.parse().unwrap()),
            ..AppSettings::default()
        }
    }

    /// The connection key of a person of the simulated site: "alice" is the demo user (who
    /// holds every credential), "bob" the second member.
    fn key(&self, who: &str) -> ConnectionKey {
        let account = match who {
            "alice" => self.info.demo_account().unwrap(),
            "bob" => self.info.second_member().unwrap(),
            other => panic!("no person {other}"),
        };
        ConnectionKey::new(
            TenantId::new("acme").unwrap(),
            UserId::new(account.account_id.clone()).unwrap(),
        )
    }

    async fn advance(&self, seconds: u64) {
        self.admin(
            reqwest::Method::POST,
            "/clock/advance",
            json!({ "seconds": seconds }),
        )
        .await;
    }

    /// Opens the consent page like a browser, submits its Accept form, and returns the
    /// redirect it answers without following it.
    async fn consent(&self, authorize_url: &str) -> Result<String, String> {
        let demo = self.info.demo_account().unwrap().account_id.clone();
        self.consent_as(authorize_url, &demo).await
    }

    /// The consent, signed in at Atlassian as `account`.
    async fn consent_as(&self, authorize_url: &str, account: &str) -> Result<String, String> {
        let page = self.http.get(authorize_url).send().await.unwrap();
        let status = page.status();
        let consent = page
            .headers()
            .get("x-sim-consent-id")
            .map(|v| v.to_str().unwrap().to_string());
        let body = page.text().await.unwrap();
        if !status.is_success() {
            return Err(format!("{status}: {body}"));
        }
        // The form's action and hidden field, as a browser would submit them.
        assert!(body.contains("action=\"/authorize/decision\""), "{body}");
        let id = consent.unwrap_or_else(|| {
            let at = body.find("name=\"consent\" value=\"").unwrap() + 22;
            body[at..].split('"').next().unwrap().to_string()
        });
        let r = self
            .http
            .post(format!("{}/authorize/decision", self.handle.identity_url()))
            .form(&[
                ("consent", id.as_str()),
                ("decision", "accept"),
                ("account", account),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        Ok(r.headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string())
    }

    /// Signs `key`'s person in (which connects them).
    async fn connect(&self, flow: &OAuthFlow, key: &ConnectionKey, session: &Secret) {
        let start = flow
            .begin(&key.tenant, session, ADDRESS, None)
            .await
            .unwrap();
        let location = self
            .consent_as(&start.url, key.user.as_str())
            .await
            .unwrap();
        let callback = callback_of(&location);
        let signed = flow.complete(session, &callback).await.unwrap();
        assert_eq!(&signed.connection.key, key);
        assert_eq!(
            signed.connection.site.cloud_id.to_string(),
            self.info.cloud_id
        );
    }
}

fn callback_of(location: &str) -> Callback {
    Callback::from_query(location.split_once('?').map_or("", |(_, q)| q))
}

/// The digest of the address sign-ins come from (the web layer's business; any string here).
const ADDRESS: &str = "test-address";

async fn sqlite_store(dir: &tempfile::TempDir, k: &EncryptionKey) -> Arc<dyn TokenStore> {
    Arc::new(
        SqlStore::open_sqlite(&dir.path().join("conflux.db"), k.clone())
            .await
            .unwrap(),
    )
}

fn client_config() -> ClientConfig {
    ClientConfig {
        retry: RetryPolicy::default(),
        ..ClientConfig::default()
    }
}

/// Makes the stored token stale (as if an hour had passed) and moves the simulator's clock
/// past its expiry, so both sides agree it has expired.
async fn expire(world: &World, store: &Arc<dyn TokenStore>, key: &ConnectionKey) {
    let c = store.connection(key).await.unwrap().unwrap();
    let mut tokens = c.tokens.clone();
    tokens.expires_at = Some(SystemTime::now() - Duration::from_secs(5));
    store
        .save_connection(key, c.display_name.as_deref(), &c.site, c.app, &tokens)
        .await
        .unwrap();
    world.advance(3700).await;
}

async fn call(client: &Client) -> Result<usize, conflux_client::ClientError> {
    client
        .spaces()
        .list(&[], &PageRequest::limit(5))
        .await
        .map(|p| p.results.len())
}

/// Captures every log line of the test (the simulator's included) at TRACE.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// One TRACE subscriber for the whole test binary, installed before any test logs: a
/// per-test (thread-local) subscriber misses events whose callsites other tests' threads
/// registered first. Every test calls this first; the leak check reads everything logged.
fn capture_logs() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(logs.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

// https://github.com/conflux-mcp/conflux/issues/6
#[tokio::test]
async fn issue_006_code_flow_connects_refreshes_and_never_logs_a_token() {
    let logs = capture_logs();
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let flow = OAuthFlow::new(store.clone(), world.config()).unwrap();
    let alice = world.key("alice");
    let session = Secret::new("session-alice".to_string());

    let start = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let url = url::Url::parse(&start.url).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/authorize");
    assert_eq!(q["audience"], "api.atlassian.com");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["client_id"], world.info.oauth_client.client_id);
    assert_eq!(q["redirect_uri"], "http://127.0.0.1:8976/callback");
    assert!(q["scope"].split(' ').any(|s| s == "offline_access"));
    assert!(q["scope"].split(' ').any(|s| s == "read:page:confluence"));
    assert!(q["state"].len() >= 43);
    assert!(!format!("{start:?}").contains(&q["state"]));

    let location = world.consent(&start.url).await.unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:8976/callback?"),
        "{location}"
    );
    let callback = callback_of(&location);
    let code = callback.code.clone().unwrap();
    let completion = flow.complete(&session, &callback).await.unwrap();
    let summary = &completion.connection;
    assert_eq!(summary.key, alice);
    assert_eq!(completion.account_id, alice.user.as_str());
    assert_eq!(
        Some(completion.display_name.as_str()),
        world.info.demo_account().map(|a| a.display_name.as_str())
    );
    assert!(summary.has_refresh_token);
    assert!(
        summary
            .scopes()
            .contains(conflux_catalog::Scope::ReadSpaceConfluence)
    );
    assert!(summary.scope.contains("offline_access"));

    let stored = store.connection(&alice).await.unwrap().unwrap();
    let first_access = stored.tokens.access.expose().clone();
    let first_refresh = stored.tokens.refresh.as_ref().unwrap().expose().clone();
    assert!(stored.tokens.expires_at.unwrap() > SystemTime::now() + Duration::from_secs(3000));

    // A Confluence call with the stored token.
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    assert!(call(&client).await.unwrap() > 0);

    // Rotation: expired → one refresh, both tokens replaced, the call goes through. (A new
    // client: only the simulator's clock moves, so a client made earlier would still hold
    // an expiry in the future.)
    expire(&world, &store, &alice).await;
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    let before = world.stats().await["refreshes"].as_u64().unwrap();
    assert!(call(&client).await.unwrap() > 0);
    assert_eq!(
        world.stats().await["refreshes"].as_u64().unwrap(),
        before + 1
    );
    let rotated = store.connection(&alice).await.unwrap().unwrap();
    let second_refresh = rotated.tokens.refresh.as_ref().unwrap().expose().clone();
    assert_ne!(rotated.tokens.access.expose(), &first_access);
    assert_ne!(second_refresh, first_refresh);
    assert!(!rotated.is_stale(SystemTime::now(), Duration::ZERO));

    // And again, from a fresh client: the rotated refresh token is the one used.
    expire(&world, &store, &alice).await;
    let client2 = flow.client_for(&alice, client_config()).await.unwrap();
    assert!(call(&client2).await.unwrap() > 0);
    assert_eq!(
        world.stats().await["refreshes"].as_u64().unwrap(),
        before + 2
    );
    let third = store.connection(&alice).await.unwrap().unwrap();
    assert_ne!(
        third.tokens.refresh.as_ref().unwrap().expose(),
        &second_refresh
    );

    // Disconnect forgets the connection; the next client asks to reconnect.
    assert!(flow.disconnect(&alice).await.unwrap());
    let err = flow.client_for(&alice, client_config()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Confluence is not connected for this user: reconnect at {RECONNECT}")
    );

    // No secret anywhere in the logs or in Debug output.
    let debug = format!("{flow:?} {stored:?} {rotated:?} {completion:?} {client:?} {callback:?}");
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("token refreshed"),
        "logs were not captured:\n{logs}"
    );
    let secrets = [
        first_access.as_str(),
        first_refresh.as_str(),
        second_refresh.as_str(),
        third.tokens.access.expose().as_str(),
        code.expose().as_str(),
        q["state"].as_str(),
        world.info.oauth_client.client_secret.as_str(),
    ];
    for s in secrets {
        assert!(!logs.contains(s), "a secret reached the logs");
        assert!(!debug.contains(s), "a secret reached Debug output");
    }
}

#[tokio::test]
async fn refused_callbacks_store_nothing() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let flow = OAuthFlow::new(store.clone(), world.config()).unwrap();
    let alice = world.key("alice");
    let session = Secret::new("s1".to_string());
    let nothing_stored = || async { store.connection(&alice).await.unwrap().is_none() };

    // Tampered state.
    let start = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let location = world.consent(&start.url).await.unwrap();
    let good = callback_of(&location);
    let mut tampered = good.clone();
    tampered.state = Some(Secret::new(format!(
        "{}x",
        good.state.as_ref().unwrap().expose()
    )));
    let err = flow.complete(&session, &tampered).await.unwrap_err();
    assert!(matches!(err, OAuthError::UnknownState), "{err}");
    assert!(err.to_string().contains("start Connect again"), "{err}");
    assert!(nothing_stored().await);

    // Another browser session presenting this sign-in's callback.
    let err = flow
        .complete(&Secret::new("attacker".to_string()), &good)
        .await
        .unwrap_err();
    assert!(matches!(err, OAuthError::SessionMismatch), "{err}");
    assert!(nothing_stored().await);
    // ... which also used the state up: the genuine callback now fails too.
    let err = flow.complete(&session, &good).await.unwrap_err();
    assert!(matches!(err, OAuthError::UnknownState), "{err}");
    assert!(nothing_stored().await);

    // Wrong PKCE verifier: code from sign-in A presented with sign-in B's state (and so B's
    // verifier).
    let a = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let b = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let code_a = callback_of(&world.consent(&a.url).await.unwrap());
    let state_b = url::Url::parse(&b.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let mixed = Callback {
        state: Some(Secret::new(state_b)),
        ..code_a.clone()
    };
    let err = flow.complete(&session, &mixed).await.unwrap_err();
    assert!(matches!(err, OAuthError::CodeRejected { .. }), "{err}");
    assert!(err.to_string().contains("code_verifier"), "{err}");
    assert!(nothing_stored().await);

    // A good sign-in, then its callback replayed: refused by the used-up state.
    let start = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let location = world.consent(&start.url).await.unwrap();
    let cb = callback_of(&location);
    flow.complete(&session, &cb).await.unwrap();
    let generation = store.connection(&alice).await.unwrap().unwrap().generation;
    let err = flow.complete(&session, &cb).await.unwrap_err();
    assert!(matches!(err, OAuthError::UnknownState), "{err}");
    // The used code with a fresh state: refused by the identity service.
    let fresh = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let fresh_state = url::Url::parse(&fresh.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let replay = Callback {
        state: Some(Secret::new(fresh_state)),
        ..cb.clone()
    };
    let err = flow.complete(&session, &replay).await.unwrap_err();
    assert!(matches!(err, OAuthError::CodeRejected { .. }), "{err}");
    assert!(
        err.to_string().contains("Invalid authorization code"),
        "{err}"
    );
    assert_eq!(
        store.connection(&alice).await.unwrap().unwrap().generation,
        generation,
        "a refused callback changed the stored connection"
    );
    flow.disconnect(&alice).await.unwrap();

    // The user denies consent.
    let start = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let page = world.http.get(&start.url).send().await.unwrap();
    let id = page.headers()["x-sim-consent-id"]
        .to_str()
        .unwrap()
        .to_string();
    let r = world
        .http
        .post(format!(
            "{}/authorize/decision",
            world.handle.identity_url()
        ))
        .form(&[("consent", id.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    let denied = callback_of(r.headers()["location"].to_str().unwrap());
    let err = flow.complete(&session, &denied).await.unwrap_err();
    assert!(matches!(err, OAuthError::Denied { .. }), "{err}");
    assert!(err.to_string().contains("access_denied"), "{err}");
    assert!(nothing_stored().await);

    // A redirect URI the app did not register: the identity service refuses to redirect.
    let mut config = world.config();
    config.redirect_uri = "http://127.0.0.1:9/evil-callback".into();
    let foreign = OAuthFlow::new(store.clone(), config).unwrap();
    let start = foreign
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let err = world.consent(&start.url).await.unwrap_err();
    assert!(err.starts_with("400"), "{err}");
    assert!(err.contains("redirect_uri does not match"), "{err}");
    assert!(nothing_stored().await);

    // The consent went through for the registered URI, but the exchange names another one.
    let start = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap();
    let cb = callback_of(&world.consent(&start.url).await.unwrap());
    let state = cb.state.clone().unwrap();
    // Re-register the pending sign-in under the foreign flow's redirect URI.
    let pending = store
        .take_pending_authorization(&state)
        .await
        .unwrap()
        .unwrap();
    store
        .put_pending_authorization(&conflux_store::PendingAuthorization {
            redirect_uri: "http://127.0.0.1:9/evil-callback".into(),
            ..pending
        })
        .await
        .unwrap();
    let err = flow.complete(&session, &cb).await.unwrap_err();
    assert!(matches!(err, OAuthError::CodeRejected { .. }), "{err}");
    assert!(err.to_string().contains("redirect_uri"), "{err}");
    assert!(nothing_stored().await);
}

/// Only members of the tenant's site sign in: an account whose grant does not cover the site
/// is refused and nothing is stored; and with no site set, nobody can sign in.
#[tokio::test]
async fn sign_in_is_for_members_of_the_tenant_site() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let flow = OAuthFlow::new(store.clone(), world.config()).unwrap();
    let tenant = TenantId::new("acme").unwrap();
    let session = Secret::new("s".to_string());
    let outsider = world.info.outsider().unwrap().account_id.clone();
    let start = flow.begin(&tenant, &session, ADDRESS, None).await.unwrap();
    let cb = callback_of(&world.consent_as(&start.url, &outsider).await.unwrap());
    let err = flow.complete(&session, &cb).await.unwrap_err();
    assert!(matches!(err, OAuthError::NotAMember), "{err}");
    assert!(store.list_connections(&tenant).await.unwrap().is_empty());

    // A workspace whose site is not set: nobody can tell who belongs.
    let mut config = world.config();
    config.default_settings = AppSettings::default();
    let unset = OAuthFlow::new(store.clone(), config).unwrap();
    let start = unset.begin(&tenant, &session, ADDRESS, None).await.unwrap();
    let cb = callback_of(&world.consent(&start.url).await.unwrap());
    let err = unset.complete(&session, &cb).await.unwrap_err();
    assert!(err.to_string().contains("site is not set"), "{err}");
    assert!(store.list_connections(&tenant).await.unwrap().is_empty());

    // The site's URL alone is enough: its cloudId is read from it.
    let mut config = world.config();
    config.default_settings.cloud_id = None;
    let by_url = OAuthFlow::new(store.clone(), config).unwrap();
    let alice = world.key("alice");
    world.connect(&by_url, &alice, &session).await;
}

#[tokio::test]
async fn tenant_app_settings_choose_the_client_and_scopes() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let mut config = world.config();
    config.central_app = None;
    let flow = OAuthFlow::new(store.clone(), config).unwrap();
    let alice = world.key("alice");
    let session = Secret::new("s".to_string());
    let tenant = alice.tenant.clone();

    // Central mode without a central app: a clear "not configured".
    let err = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().starts_with("OAuth is not configured"),
        "{err}"
    );

    // The tenant's own app (the simulator's demo client), read-only scopes.
    let mut settings = AppSettings {
        auth_mode: AuthMode::OAuth,
        client_id: Some(world.info.oauth_client.client_id.clone()),
        client_secret: None,
        scopes: Some("read:page:confluence read:space:confluence".into()),
        ..world.site_settings()
    };
    store.save_app_settings(&tenant, &settings).await.unwrap();
    let err = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("client id or secret is not set"),
        "{err}"
    );
    settings.client_secret = Some(Secret::new(world.info.oauth_client.client_secret.clone()));
    store.save_app_settings(&tenant, &settings).await.unwrap();

    world.connect(&flow, &alice, &session).await;
    let c = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(c.app, conflux_store::AppKind::Tenant);
    // The scopes chosen, and what sign-in needs to learn the account.
    assert_eq!(
        c.tokens.scopes().names(),
        vec![
            "read:content-details:confluence",
            "read:page:confluence",
            "read:space:confluence"
        ]
    );

    // A refresh refused for a wrong client secret keeps the refresh token; the right one
    // then refreshes with it.
    let refresh_before = c.tokens.refresh.clone().unwrap();
    settings.client_secret = Some(Secret::new("wrong-secret".into()));
    store.save_app_settings(&tenant, &settings).await.unwrap();
    expire(&world, &store, &alice).await;
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    let err = call(&client).await.unwrap_err();
    assert!(err.to_string().contains("client id or secret"), "{err}");
    let kept = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(kept.tokens.refresh.as_ref().unwrap(), &refresh_before);
    settings.client_secret = Some(Secret::new(world.info.oauth_client.client_secret.clone()));
    store.save_app_settings(&tenant, &settings).await.unwrap();
    assert!(call(&client).await.unwrap() > 0);
    let after = store.connection(&alice).await.unwrap().unwrap();
    assert_ne!(after.tokens.refresh.as_ref().unwrap(), &refresh_before);

    // API-token tenants have nothing to connect.
    settings.auth_mode = AuthMode::ApiToken;
    store.save_app_settings(&tenant, &settings).await.unwrap();
    let err = flow
        .begin(&alice.tenant, &session, ADDRESS, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("apiToken"), "{err}");
}

#[tokio::test]
async fn revoked_refresh_token_drops_the_connection_and_asks_to_reconnect() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let flow = OAuthFlow::new(store.clone(), world.config()).unwrap();
    let alice = world.key("alice");
    let bob = world.key("bob");
    world
        .connect(&flow, &alice, &Secret::new("a".to_string()))
        .await;
    world
        .connect(&flow, &bob, &Secret::new("b".to_string()))
        .await;
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    assert!(call(&client).await.is_ok());

    let c = store.connection(&alice).await.unwrap().unwrap();
    world
        .admin(
            reqwest::Method::POST,
            "/tokens/revoke",
            json!({ "token": c.tokens.refresh.as_ref().unwrap().expose() }),
        )
        .await;
    expire(&world, &store, &alice).await;
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    let expected = format!("Confluence is not connected for this user: reconnect at {RECONNECT}");
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert!(
        matches!(&err, conflux_client::ClientError::NotConnected { reconnect_url } if reconnect_url == RECONNECT),
        "{err:?}"
    );
    assert_eq!(err.kind(), conflux_client::ErrorKind::Unauthorized);
    assert!(store.connection(&alice).await.unwrap().is_none());
    // The next call says the same, without asking Atlassian again.
    let requests = world.stats().await["refresh_requests"].as_u64().unwrap();
    let err = call(&client).await.unwrap_err();
    assert!(err.to_string().contains(&expected), "{err}");
    assert_eq!(
        world.stats().await["refresh_requests"].as_u64().unwrap(),
        requests
    );
    let err = flow.client_for(&alice, client_config()).await.unwrap_err();
    assert_eq!(err.to_string(), expected);
    assert!(err.needs_reconnect());
    // Bob's grant is another one: still connected.
    assert!(store.connection(&bob).await.unwrap().is_some());
}

#[tokio::test]
async fn transient_refresh_failure_keeps_the_refresh_token() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let mut config = world.config();
    let flow = OAuthFlow::new(store.clone(), config.clone()).unwrap();
    let alice = world.key("alice");
    world
        .connect(&flow, &alice, &Secret::new("a".to_string()))
        .await;
    let before = store.connection(&alice).await.unwrap().unwrap();
    expire(&world, &store, &alice).await;

    // The identity service cannot be reached.
    config.endpoints.identity = BaseUrl::parse("http://127.0.0.1:9").unwrap();
    let unreachable = OAuthFlow::new(store.clone(), config).unwrap();
    let client = unreachable
        .client_for(&alice, client_config())
        .await
        .unwrap();
    let err = call(&client).await.unwrap_err();
    assert!(err.to_string().contains("identity service"), "{err}");
    let kept = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(kept.tokens.refresh, before.tokens.refresh);

    // Reachable again: the kept refresh token works.
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    assert!(call(&client).await.is_ok());
}

/// The Prometheus recorder of this test process (the tests share it; each reads its own
/// figures as differences).
fn recorder() -> &'static conflux_telemetry::Metrics {
    static RECORDER: std::sync::OnceLock<conflux_telemetry::Metrics> = std::sync::OnceLock::new();
    RECORDER.get_or_init(|| conflux_telemetry::Metrics::install().unwrap())
}

fn refreshes(outcome: &str) -> f64 {
    conflux_telemetry::scrape::Scrape::parse(&recorder().render())
        .sum(conflux_oauth::REFRESHES, &[("outcome", outcome)])
}

/// A refresh that fails, one that works and one Atlassian refuses each count under their
/// outcome in `conflux_token_refreshes_total`.
#[tokio::test]
async fn refreshes_are_counted_by_outcome() {
    recorder();
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let mut config = world.config();
    let flow = OAuthFlow::new(store.clone(), config.clone()).unwrap();
    let alice = world.key("alice");
    world
        .connect(&flow, &alice, &Secret::new("a".to_string()))
        .await;
    let before = |o| refreshes(o);
    let (failed, refreshed, dropped) = (before("failed"), before("refreshed"), before("dropped"));

    expire(&world, &store, &alice).await;
    config.endpoints.identity = BaseUrl::parse("http://127.0.0.1:9").unwrap();
    let unreachable = OAuthFlow::new(store.clone(), config).unwrap();
    let client = unreachable
        .client_for(&alice, client_config())
        .await
        .unwrap();
    assert!(call(&client).await.is_err());
    assert!(refreshes("failed") > failed);

    let client = flow.client_for(&alice, client_config()).await.unwrap();
    assert!(call(&client).await.is_ok());
    assert!(refreshes("refreshed") > refreshed);

    let c = store.connection(&alice).await.unwrap().unwrap();
    world
        .admin(
            reqwest::Method::POST,
            "/tokens/revoke",
            json!({ "token": c.tokens.refresh.as_ref().unwrap().expose() }),
        )
        .await;
    expire(&world, &store, &alice).await;
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    assert!(call(&client).await.is_err());
    assert!(refreshes("dropped") > dropped);
    let text = recorder().render();
    assert!(
        text.contains("conflux_token_refresh_duration_seconds_count{outcome=\"refreshed\"}"),
        "{text}"
    );
}

/// 50 concurrent calls with an expired token through one client: one refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_calls_refresh_once() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir, &EncryptionKey::generate()).await;
    let flow = OAuthFlow::new(store.clone(), world.config()).unwrap();
    let alice = world.key("alice");
    world
        .connect(&flow, &alice, &Secret::new("a".to_string()))
        .await;
    expire(&world, &store, &alice).await;
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    world
        .admin(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;

    let results = futures_join(
        (0..50)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { call(&c).await.map_err(|e| e.to_string()) })
            })
            .collect(),
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats = world.stats().await;
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
}

async fn futures_join(
    tasks: Vec<tokio::task::JoinHandle<Result<usize, String>>>,
) -> Vec<Result<usize, String>> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Two store handles with their own pools (two processes' worth) on one SQLite file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_store_handles_on_sqlite_refresh_once() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let k = EncryptionKey::generate();
    let store_a = sqlite_store(&dir, &k).await;
    let store_b = sqlite_store(&dir, &k).await;
    two_handles_refresh_once(&world, store_a, store_b).await;
}

async fn two_handles_refresh_once(
    world: &World,
    store_a: Arc<dyn TokenStore>,
    store_b: Arc<dyn TokenStore>,
) {
    let flow_a = OAuthFlow::new(store_a.clone(), world.config()).unwrap();
    let flow_b = OAuthFlow::new(store_b, world.config()).unwrap();
    let alice = world.key("alice");
    world
        .connect(&flow_a, &alice, &Secret::new("a".to_string()))
        .await;
    expire(world, &store_a, &alice).await;
    let client_a = flow_a.client_for(&alice, client_config()).await.unwrap();
    let client_b = flow_b.client_for(&alice, client_config()).await.unwrap();
    world
        .admin(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let c = if i % 2 == 0 {
            client_a.clone()
        } else {
            client_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            call(&c).await.map_err(|e| e.to_string())
        }));
    }
    let results = futures_join(tasks).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let stats = world.stats().await;
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
}

/// The job a worker process gets in `CONFLUX_OAUTH_TEST_WORKER`; the worker
/// (tests/helpers/single_flight_worker.rs, a binary of this crate built for its tests) has the
/// same struct.
#[derive(serde::Serialize)]
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

/// A running worker process: prints `READY`, waits for a line on stdin, then makes its calls.
struct Worker {
    child: tokio::process::Child,
    stdout: tokio::io::BufReader<tokio::process::ChildStdout>,
}

impl Worker {
    fn spawn(job: &str) -> Worker {
        let mut child =
            tokio::process::Command::new(env!("CARGO_BIN_EXE_conflux-oauth-test-worker"))
                .env("CONFLUX_OAUTH_TEST_WORKER", job)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
        let stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
        Worker { child, stdout }
    }

    /// Waits until the worker has its client and waits for the start signal.
    async fn ready(&mut self) {
        use tokio::io::AsyncBufReadExt as _;
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(60), self.stdout.read_line(&mut line));
        let n = read.await.expect("a worker ready within 60 s").unwrap();
        if n == 0 || line.trim() != "READY" {
            use tokio::io::AsyncReadExt as _;
            let mut stderr = String::new();
            let mut pipe = self.child.stderr.take().unwrap();
            pipe.read_to_string(&mut stderr).await.unwrap();
            panic!("a worker failed before it was ready: {line}\n{stderr}");
        }
    }

    async fn go(&mut self) {
        use tokio::io::AsyncWriteExt as _;
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(b"GO\n").await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Waits for the worker to end and returns its report.
    async fn report(mut self) -> String {
        use tokio::io::AsyncReadExt as _;
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).await.unwrap();
        let out = self.child.wait_with_output().await.unwrap();
        assert!(
            out.status.success() && rest.contains("WORKER ok=50 failed=0"),
            "worker failed ({}):\n{rest}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        rest
    }
}

/// Across processes: two worker processes and this process, each with its own pool on one
/// Postgres database, start 50 concurrent calls each with an expired token at the same signal.
/// The simulator counts one refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_across_processes_on_postgres() {
    capture_logs();
    let Some(pg) = PgServer::start_or_skip("single_flight_across_processes_on_postgres").await
    else {
        return;
    };
    let world = World::new().await;
    let url = pg.create_database("oauth").await;
    let k = EncryptionKey::generate();

    // Two handles in this process first.
    let a: Arc<dyn TokenStore> = Arc::new(SqlStore::open(&url, k.clone()).await.unwrap());
    let b: Arc<dyn TokenStore> = Arc::new(SqlStore::open(&url, k.clone()).await.unwrap());
    two_handles_refresh_once(&world, a.clone(), b).await;

    // Then real processes.
    let alice = world.key("alice");
    expire(&world, &a, &alice).await;
    world
        .admin(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;
    let job = WorkerJob {
        database_url: url.clone(),
        key_hex: k.to_hex(),
        gateway: world.handle.gateway_url().to_string(),
        identity: world.handle.identity_url().to_string(),
        redirect_uri: world.info.oauth_client.redirect_uris[0].clone(),
        reconnect_url: RECONNECT.into(),
        client_id: world.info.oauth_client.client_id.clone(),
        client_secret: world.info.oauth_client.client_secret.clone(),
        tenant: alice.tenant.as_str().to_string(),
        user: alice.user.as_str().to_string(),
        calls: 50,
    };
    let job = serde_json::to_string(&job).unwrap();
    let mut workers = [Worker::spawn(&job), Worker::spawn(&job)];
    // This process joins in with its own client.
    let flow = OAuthFlow::new(a.clone(), world.config()).unwrap();
    let client = flow.client_for(&alice, client_config()).await.unwrap();
    for w in &mut workers {
        w.ready().await;
    }
    for w in &mut workers {
        w.go().await;
    }
    let mine = futures_join(
        (0..50)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { call(&c).await.map_err(|e| e.to_string()) })
            })
            .collect(),
    )
    .await;
    assert!(mine.iter().all(Result::is_ok), "{mine:?}");
    for w in workers {
        w.report().await;
    }
    let stats = world.stats().await;
    assert_eq!(stats["refreshes"], 1, "{stats}");
    assert_eq!(stats["refresh_requests"], 1, "{stats}");
    drop(pg);
}
