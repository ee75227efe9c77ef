//! The connection store's behaviour, run identically against SQLite (a temp file) and
//! Postgres (one throwaway server for the test binary, a database per test; each Postgres test
//! is skipped with a printed reason when Postgres is not installed, unless CI=true), one test
//! per case and backend: `sqlite::<case>`, `postgres::<case>`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use conflux_store::testing::PgServer;
use conflux_store::{
    AgentId, AppKind, AppSettings, AuthMode, BoxError, ConnectionKey, EncryptionKey,
    PendingAuthorization, PendingGrant, RefreshOutcome, RefreshStep, SessionBinding, Site,
    SqlStore, StoreError, TenantId, TokenStore, Tokens, UserId,
};
use conflux_types::Secret;
use sqlx::Row as _;

const CLOUD_A: &str = "11111111-2222-4333-8444-555555555555";
const CLOUD_B: &str = "66666666-7777-4888-9999-000000000000";

/// Where one case's database lives, and raw access to it that bypasses the store.
enum Ctx {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
    },
}

impl Ctx {
    fn sqlite() -> Ctx {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/conflux.db");
        Ctx::Sqlite { _dir: dir, path }
    }

    async fn postgres(pg: &PgServer, case: &str) -> Ctx {
        // A password the trust-authenticated server ignores, to check it never shows.
        let url = pg.create_database(case).await;
        Ctx::Postgres {
            url: url.replacen("conflux@", "conflux:db-password-xyz@", 1),
        }
    }

    fn location(&self) -> String {
        match self {
            Ctx::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Ctx::Postgres { url } => url.clone(),
        }
    }

    async fn open(&self, key: &EncryptionKey) -> SqlStore {
        SqlStore::open(&self.location(), key.clone()).await.unwrap()
    }

    async fn exec(&self, sql: &str) {
        match self {
            Ctx::Sqlite { path, .. } => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Ctx::Postgres { url } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    /// Every byte the database holds for `sql`'s first column (BLOB/BYTEA).
    async fn blobs(&self, sql: &str) -> Vec<Vec<u8>> {
        match self {
            Ctx::Sqlite { path, .. } => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.iter()
                    .filter_map(|r| r.try_get::<Option<Vec<u8>>, _>(0).unwrap())
                    .collect()
            }
            Ctx::Postgres { url } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.iter()
                    .filter_map(|r| r.try_get::<Option<Vec<u8>>, _>(0).unwrap())
                    .collect()
            }
        }
    }

    /// Every value of `sql`'s first column (TEXT).
    async fn texts(&self, sql: &str) -> Vec<String> {
        match self {
            Ctx::Sqlite { path, .. } => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
                    .await
                    .unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.iter().map(|r| r.try_get(0).unwrap()).collect()
            }
            Ctx::Postgres { url } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.iter().map(|r| r.try_get(0).unwrap()).collect()
            }
        }
    }

    /// The SQLite files (database and WAL), when this is SQLite.
    fn files(&self) -> Vec<u8> {
        match self {
            Ctx::Sqlite { path, .. } => {
                let mut all = std::fs::read(path).unwrap();
                let wal = PathBuf::from(format!("{}-wal", path.display()));
                if let Ok(w) = std::fs::read(wal) {
                    all.extend(w);
                }
                all
            }
            Ctx::Postgres { .. } => Vec::new(),
        }
    }
}

fn key(tenant: &str, user: &str) -> ConnectionKey {
    ConnectionKey::new(TenantId::new(tenant).unwrap(), UserId::new(user).unwrap())
}

fn site(cloud: &str) -> Site {
    Site {
        cloud_id: cloud.parse().unwrap(),
        url: "https://acme.atlassian.net".into(),
        name: "acme".into(),
        scopes: vec!["read:page:confluence".into()],
    }
}

fn tokens(access: &str, refresh: Option<&str>) -> Tokens {
    Tokens {
        access: Secret::new(access.to_string()),
        refresh: refresh.map(|r| Secret::new(r.to_string())),
        expires_at: Some(SystemTime::now() + Duration::from_secs(3600)),
        scope: "read:page:confluence offline_access".into(),
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn step(
    f: impl FnOnce(conflux_store::Connection) -> Result<RefreshStep, BoxError> + Send + 'static,
) -> conflux_store::RefreshFn {
    Box::new(move |c| Box::pin(async move { f(c) }))
}

async fn connections_round_trip(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let shown = format!("{store:?} {}", store.location());
    assert!(!shown.contains("db-password-xyz"), "{shown}");
    let alice = key("acme", "alice");
    assert!(store.connection(&alice).await.unwrap().is_none());
    let saved = store
        .save_connection(
            &alice,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("acc-1", Some("ref-1")),
        )
        .await
        .unwrap();
    assert_eq!(saved.generation, 1);
    let got = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(got.tokens.access.expose(), "acc-1");
    assert_eq!(got.tokens.refresh.as_ref().unwrap().expose(), "ref-1");
    assert_eq!(got.site.cloud_id.to_string(), CLOUD_A);
    assert_eq!(got.app, AppKind::Central);
    assert_eq!(got.tokens.scopes().names(), vec!["read:page:confluence"]);
    assert_eq!(got.tokens.expires_at, saved.tokens.expires_at);
    assert!(!format!("{got:?}").contains("acc-1"));

    // Reconnecting replaces the row and bumps the generation; other users are separate.
    store
        .save_connection(
            &alice,
            &site(CLOUD_B),
            AppKind::Tenant,
            &tokens("acc-2", None),
        )
        .await
        .unwrap();
    let bob = key("acme", "bob");
    store
        .save_connection(
            &bob,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("acc-b", Some("ref-b")),
        )
        .await
        .unwrap();
    let other_tenant = key("globex", "alice");
    store
        .save_connection(
            &other_tenant,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("acc-g", None),
        )
        .await
        .unwrap();
    let got = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(
        (got.generation, got.tokens.access.expose().as_str()),
        (2, "acc-2")
    );
    assert!(got.tokens.refresh.is_none());
    assert_eq!(got.site.cloud_id.to_string(), CLOUD_B);

    let list = store
        .list_connections(&TenantId::new("acme").unwrap())
        .await
        .unwrap();
    let users: Vec<&str> = list.iter().map(|s| s.key.user.as_str()).collect();
    assert_eq!(users, vec!["alice", "bob"]);
    assert!(list[1].has_refresh_token && !list[0].has_refresh_token);

    assert!(store.delete_connection(&alice).await.unwrap());
    assert!(!store.delete_connection(&alice).await.unwrap());
    assert!(store.connection(&alice).await.unwrap().is_none());
    assert!(store.connection(&other_tenant).await.unwrap().is_some());
}

async fn tokens_are_encrypted_at_rest(ctx: &Ctx) {
    let k = EncryptionKey::generate();
    let store = ctx.open(&k).await;
    let alice = key("acme", "alice");
    store
        .save_connection(
            &alice,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("plain-access-token-xyz", Some("plain-refresh-token-xyz")),
        )
        .await
        .unwrap();
    let tenant = TenantId::new("acme").unwrap();
    store
        .save_app_settings(
            &tenant,
            &AppSettings {
                auth_mode: AuthMode::OAuth,
                client_id: Some("client-1".into()),
                client_secret: Some(Secret::new("plain-client-secret-xyz".into())),
                ..AppSettings::default()
            },
        )
        .await
        .unwrap();
    store
        .put_pending_authorization(&pending("state-1", "sess-1", &alice, "plain-verifier-xyz"))
        .await
        .unwrap();
    store.close().await;

    // Nothing readable in the columns, nor anywhere in the SQLite files.
    let mut raw = ctx.blobs("SELECT access_token FROM connections").await;
    raw.extend(ctx.blobs("SELECT refresh_token FROM connections").await);
    raw.extend(ctx.blobs("SELECT client_secret FROM app_settings").await);
    raw.extend(
        ctx.blobs("SELECT pkce_verifier FROM pending_authorizations")
            .await,
    );
    assert_eq!(raw.len(), 4);
    raw.push(ctx.files());
    for blob in &raw {
        for plain in [
            "plain-access-token-xyz",
            "plain-refresh-token-xyz",
            "plain-client-secret-xyz",
            "plain-verifier-xyz",
        ] {
            assert!(!contains(blob, plain), "{plain} stored in clear");
        }
    }
    // The state is stored as a digest only (and, on SQLite, appears nowhere in the files).
    let states = ctx
        .texts("SELECT state_hash FROM pending_authorizations")
        .await;
    assert_eq!(states.len(), 1);
    assert!(!states[0].contains("state-1"), "{states:?}");
    assert!(!contains(&ctx.files(), "state-1"));

    // Another key cannot open the store at all.
    let err = SqlStore::open(&ctx.location(), EncryptionKey::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongKey), "{err}");
    assert!(err.to_string().contains("original key"), "{err}");

    // A ciphertext moved into another user's row does not open there.
    let store = ctx.open(&k).await;
    let bob = key("acme", "bob");
    store
        .save_connection(
            &bob,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("bob-token", None),
        )
        .await
        .unwrap();
    store.close().await;
    ctx.exec(
        "UPDATE connections SET access_token = \
         (SELECT access_token FROM connections WHERE user_id = 'alice') WHERE user_id = 'bob'",
    )
    .await;
    let store = ctx.open(&k).await;
    let err = store.connection(&bob).await.unwrap_err();
    assert!(matches!(err, StoreError::Decrypt { .. }), "{err}");
    assert!(!err.to_string().contains("plain-access"), "{err}");
    assert!(store.connection(&alice).await.unwrap().is_some());
}

fn pending(
    state: &str,
    session: &str,
    key: &ConnectionKey,
    verifier: &str,
) -> PendingAuthorization {
    let now = SystemTime::now();
    PendingAuthorization {
        state: Secret::new(state.into()),
        key: key.clone(),
        session: SessionBinding::of(&Secret::new(session.into())),
        pkce_verifier: Secret::new(verifier.into()),
        redirect_uri: "http://127.0.0.1:8976/callback".into(),
        app: AppKind::Tenant,
        scope: "read:page:confluence offline_access".into(),
        created_at: now,
        expires_at: now + Duration::from_secs(600),
    }
}

async fn pending_authorizations_are_single_use(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let alice = key("acme", "alice");
    store
        .put_pending_authorization(&pending("state-a", "sess-a", &alice, "verifier-a"))
        .await
        .unwrap();
    let mut old = pending("state-old", "sess-a", &alice, "verifier-old");
    old.expires_at = SystemTime::now() - Duration::from_secs(5);
    store.put_pending_authorization(&old).await.unwrap();
    // A duplicate state is refused rather than overwritten.
    assert!(
        store
            .put_pending_authorization(&pending("state-a", "sess-b", &alice, "v"))
            .await
            .is_err()
    );

    assert!(
        store
            .take_pending_authorization(&Secret::new("state-unknown".into()))
            .await
            .unwrap()
            .is_none()
    );
    let state = Secret::new("state-a".to_string());
    let p = store
        .take_pending_authorization(&state)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.key, alice);
    assert_eq!(p.pkce_verifier.expose(), "verifier-a");
    assert!(p.session.matches(&Secret::new("sess-a".into())));
    assert!(!p.session.matches(&Secret::new("sess-b".into())));
    assert_eq!(p.app, AppKind::Tenant);
    assert_eq!(p.redirect_uri, "http://127.0.0.1:8976/callback");
    assert!(
        store
            .take_pending_authorization(&state)
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(store.purge_expired(SystemTime::now()).await.unwrap(), 1);
    assert!(
        store
            .take_pending_authorization(&Secret::new("state-old".into()))
            .await
            .unwrap()
            .is_none()
    );
}

async fn pending_grants_hold_the_site_choice(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let alice = key("acme", "alice");
    let now = SystemTime::now();
    let id = Secret::new("grant-1".to_string());
    store
        .put_pending_grant(&PendingGrant {
            id: id.clone(),
            key: alice.clone(),
            session: SessionBinding::of(&Secret::new("sess".into())),
            app: AppKind::Central,
            tokens: tokens("g-acc", Some("g-ref")),
            sites: vec![site(CLOUD_A), site(CLOUD_B)],
            created_at: now,
            expires_at: now + Duration::from_secs(600),
        })
        .await
        .unwrap();
    let peek = store.pending_grant(&id).await.unwrap().unwrap();
    assert_eq!(peek.sites.len(), 2);
    assert_eq!(peek.sites[1].cloud_id.to_string(), CLOUD_B);
    assert_eq!(
        peek.sites[0].scopes,
        vec!["read:page:confluence".to_string()]
    );
    let taken = store.take_pending_grant(&id).await.unwrap().unwrap();
    assert_eq!(taken.tokens.access.expose(), "g-acc");
    assert_eq!(taken.tokens.refresh.unwrap().expose(), "g-ref");
    assert!(taken.session.matches(&Secret::new("sess".into())));
    assert!(store.take_pending_grant(&id).await.unwrap().is_none());
    assert!(store.pending_grant(&id).await.unwrap().is_none());
}

async fn app_settings_and_allowlist(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let acme = TenantId::new("acme").unwrap();
    let globex = TenantId::new("globex").unwrap();
    assert!(store.app_settings(&acme).await.unwrap().is_none());
    let mut s = AppSettings {
        auth_mode: AuthMode::OAuth,
        client_id: Some("cid".into()),
        client_secret: Some(Secret::new("csecret".into())),
        scopes: Some("read:page:confluence read:space:confluence".into()),
        ..AppSettings::default()
    };
    store.save_app_settings(&acme, &s).await.unwrap();
    let got = store.app_settings(&acme).await.unwrap().unwrap();
    assert_eq!(got.auth_mode, AuthMode::OAuth);
    assert_eq!(got.client_id.as_deref(), Some("cid"));
    assert_eq!(got.client_secret.as_ref().unwrap().expose(), "csecret");
    assert!(got.updated_at.is_some() && !got.allow_all_agents);
    assert!(!format!("{got:?}").contains("csecret"));

    s.auth_mode = AuthMode::ApiToken;
    s.client_secret = None;
    s.api_email = Some("me@example.com".into());
    s.api_token = Some(Secret::new("api-tok".into()));
    s.site_url = Some("https://acme.atlassian.net".into());
    store.save_app_settings(&acme, &s).await.unwrap();
    let got = store.app_settings(&acme).await.unwrap().unwrap();
    assert_eq!(got.auth_mode, AuthMode::ApiToken);
    assert!(got.client_secret.is_none());
    assert_eq!(got.api_token.unwrap().expose(), "api-tok");
    assert!(store.app_settings(&globex).await.unwrap().is_none());

    let bot = AgentId::new("agent-7").unwrap();
    let other = AgentId::new("agent-8").unwrap();
    assert!(!store.is_agent_allowed(&acme, &bot).await.unwrap());
    store
        .allow_agent(&acme, &bot, Some("Support bot"))
        .await
        .unwrap();
    store
        .allow_agent(&acme, &bot, Some("Support bot v2"))
        .await
        .unwrap();
    assert!(store.is_agent_allowed(&acme, &bot).await.unwrap());
    assert!(!store.is_agent_allowed(&acme, &other).await.unwrap());
    assert!(!store.is_agent_allowed(&globex, &bot).await.unwrap());
    let list = store.allowed_agents(&acme).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].label.as_deref(), Some("Support bot v2"));

    s.allow_all_agents = true;
    store.save_app_settings(&acme, &s).await.unwrap();
    assert!(store.is_agent_allowed(&acme, &other).await.unwrap());

    assert!(store.disallow_agent(&acme, &bot).await.unwrap());
    assert!(!store.disallow_agent(&acme, &bot).await.unwrap());
    assert!(store.allowed_agents(&acme).await.unwrap().is_empty());
}

async fn refresh_steps(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let alice = key("acme", "alice");

    let out = store
        .refresh_locked(&alice, step(|_| Ok(RefreshStep::Keep)))
        .await
        .unwrap();
    assert!(matches!(out, RefreshOutcome::NotConnected));

    store
        .save_connection(
            &alice,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("a1", Some("r1")),
        )
        .await
        .unwrap();

    // A failed step leaves the row, refresh token included, as it was.
    let out = store
        .refresh_locked(&alice, step(|_| Err("identity service unreachable".into())))
        .await
        .unwrap();
    assert!(matches!(&out, RefreshOutcome::Failed(e) if e.to_string().contains("unreachable")));
    let row = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(
        (
            row.tokens.access.expose().as_str(),
            row.tokens.refresh.as_ref().unwrap().expose().as_str(),
            row.generation
        ),
        ("a1", "r1", 1)
    );

    // Rotation: both tokens replaced, generation bumped.
    let out = store
        .refresh_locked(
            &alice,
            step(|c| {
                assert_eq!(c.tokens.refresh.as_ref().unwrap().expose(), "r1");
                let mut t = tokens("a2", Some("r2"));
                t.scope = String::new(); // no scope in the answer: the stored one stays
                Ok(RefreshStep::Replace(t))
            }),
        )
        .await
        .unwrap();
    let RefreshOutcome::Replaced(c) = out else {
        panic!("expected Replaced, got {out:?}")
    };
    assert_eq!(c.tokens.access.expose(), "a2");
    assert_eq!(c.generation, 2);
    let row = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(row.tokens.refresh.as_ref().unwrap().expose(), "r2");
    assert_eq!(row.tokens.scope, "read:page:confluence offline_access");
    assert_eq!(row.generation, 2);

    // No refresh token in the answer: the stored one is kept.
    store
        .refresh_locked(
            &alice,
            step(|_| Ok(RefreshStep::Replace(tokens("a3", None)))),
        )
        .await
        .unwrap();
    let row = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(row.tokens.access.expose(), "a3");
    assert_eq!(row.tokens.refresh.as_ref().unwrap().expose(), "r2");

    let out = store
        .refresh_locked(&alice, step(|_| Ok(RefreshStep::Keep)))
        .await
        .unwrap();
    assert!(matches!(out, RefreshOutcome::Kept(c) if c.tokens.access.expose() == "a3"));

    let out = store
        .refresh_locked(&alice, step(|_| Ok(RefreshStep::Drop)))
        .await
        .unwrap();
    assert!(matches!(out, RefreshOutcome::Dropped));
    assert!(store.connection(&alice).await.unwrap().is_none());
}

/// Two independent handles (two pools, as two processes would have) race to refresh one
/// connection: the lock admits one step at a time and only the first sees the old tokens.
async fn refresh_lock_is_exclusive_across_handles(ctx: &Ctx) {
    let k = EncryptionKey::generate();
    let a = Arc::new(ctx.open(&k).await);
    let b = Arc::new(ctx.open(&k).await);
    let alice = key("acme", "alice");
    a.save_connection(
        &alice,
        &site(CLOUD_A),
        AppKind::Central,
        &tokens("old", Some("r0")),
    )
    .await
    .unwrap();
    // A row of another user must not be blocked by (or block) this one.
    let bob = key("acme", "bob");
    a.save_connection(&bob, &site(CLOUD_A), AppKind::Central, &tokens("bob", None))
        .await
        .unwrap();

    let inside = Arc::new(AtomicUsize::new(0));
    let max_inside = Arc::new(AtomicUsize::new(0));
    let refreshes = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (inside, max_inside, refreshes) =
            (inside.clone(), max_inside.clone(), refreshes.clone());
        let alice = alice.clone();
        tasks.push(tokio::spawn(async move {
            let f: conflux_store::RefreshFn = Box::new(move |c| {
                Box::pin(async move {
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    max_inside.fetch_max(now, Ordering::SeqCst);
                    // Not a wait for anything: the step holds the lock a while, so that a
                    // step the lock wrongly let in would be seen overlapping.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let decision = if c.tokens.access.expose() == "old" {
                        refreshes.fetch_add(1, Ordering::SeqCst);
                        RefreshStep::Replace(tokens("new", Some("r1")))
                    } else {
                        RefreshStep::Keep
                    };
                    inside.fetch_sub(1, Ordering::SeqCst);
                    Ok(decision)
                })
            });
            store.refresh_locked(&alice, f).await.unwrap()
        }));
    }
    let bob_row = tokio::time::timeout(Duration::from_secs(20), a.connection(&bob))
        .await
        .expect("reading another row must not wait for the refresh lock")
        .unwrap();
    assert!(bob_row.is_some());
    for t in tasks {
        let out = t.await.unwrap();
        assert!(
            matches!(&out, RefreshOutcome::Kept(c) | RefreshOutcome::Replaced(c) if c.tokens.access.expose() == "new"),
            "{out:?}"
        );
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(
        max_inside.load(Ordering::SeqCst),
        1,
        "two refresh steps overlapped"
    );
    let row = b.connection(&alice).await.unwrap().unwrap();
    assert_eq!(row.tokens.refresh.unwrap().expose(), "r1");
    assert_eq!(row.generation, 2);
}

async fn reopening_keeps_data_and_schema(ctx: &Ctx) {
    let k = EncryptionKey::generate();
    let store = ctx.open(&k).await;
    let alice = key("acme", "alice");
    store
        .save_connection(
            &alice,
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("keep-me", None),
        )
        .await
        .unwrap();
    store.close().await;
    let again = ctx.open(&k).await;
    assert_eq!(
        again
            .connection(&alice)
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access
            .expose(),
        "keep-me"
    );
    let versions = ctx.blobs("SELECT checksum FROM _sqlx_migrations").await;
    assert_eq!(versions.len(), 1);
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(&super::Ctx::sqlite()).await;
                }
            )*
        }

        /// One server for the whole test binary, a fresh database per case.
        mod postgres {
            use conflux_store::testing::PgServer;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let test = concat!("postgres::", stringify!($case));
                    let Some(pg) = PgServer::shared_or_skip(test).await else {
                        return;
                    };
                    super::$case(&super::Ctx::postgres(pg, stringify!($case)).await).await;
                }
            )*
        }
    };
}

suite!(
    connections_round_trip,
    tokens_are_encrypted_at_rest,
    pending_authorizations_are_single_use,
    pending_grants_hold_the_site_choice,
    app_settings_and_allowlist,
    refresh_steps,
    refresh_lock_is_exclusive_across_handles,
    reopening_keeps_data_and_schema,
);

#[tokio::test]
async fn open_rejects_unusable_locations() {
    let k = EncryptionKey::generate();
    assert!(SqlStore::open("sqlite::memory:", k.clone()).await.is_err());
    let err = SqlStore::open("postgres://u:topsecretpw@127.0.0.1:1/db", k)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(!msg.contains("topsecretpw"), "{msg}");
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
}
