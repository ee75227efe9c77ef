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
    AccessKey, AuthStore, ClientKind, CodeOutcome, McpAuthorization, McpCode, McpGrant, McpToken,
    Pending, PendingCounts, Refusal, RotateOutcome, StoredClient, Subject, TokenKind, WebSession,
};
use conflux_store::{
    AgentId, AppKind, AppSettings, AuthMode, BoxError, ConnectionKey, EncryptionKey,
    PendingAuthorization, RefreshOutcome, RefreshStep, SessionBinding, Site, SqlStore, StoreError,
    TenantId, TokenStore, Tokens, UserId,
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
            None,
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
            None,
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
            None,
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
            None,
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
            None,
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
            None,
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
        tenant: key.tenant.clone(),
        session: SessionBinding::of(&Secret::new(session.into())),
        origin: "address-digest".into(),
        pkce_verifier: Secret::new(verifier.into()),
        redirect_uri: "http://127.0.0.1:8976/callback".into(),
        app: AppKind::Tenant,
        scope: "read:page:confluence offline_access".into(),
        return_to: Some("consent".into()),
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
    assert_eq!(p.tenant, alice.tenant);
    assert_eq!(p.return_to.as_deref(), Some("consent"));
    assert_eq!(p.origin, "address-digest");
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

async fn connections_keep_the_display_name(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let alice = key("acme", "557058:alice");
    let c = store
        .save_connection(
            &alice,
            Some("Alice Ng"),
            &site(CLOUD_A),
            AppKind::Central,
            &tokens("a", None),
        )
        .await
        .unwrap();
    assert_eq!(c.display_name.as_deref(), Some("Alice Ng"));
    let again = store.connection(&alice).await.unwrap().unwrap();
    assert_eq!(again.display_name.as_deref(), Some("Alice Ng"));
    let listed = store.list_connections(&alice.tenant).await.unwrap();
    assert_eq!(listed[0].display_name.as_deref(), Some("Alice Ng"));
}

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

async fn web_sessions_expire_and_end(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let now = SystemTime::now();
    let id = Secret::new("session-id-1".to_string());
    let session = WebSession {
        tenant: acme(),
        subject: Subject::Account("557058:alice".into()),
        display_name: Some("Alice".into()),
        binding: None,
        created_at: now,
        expires_at: now + Duration::from_secs(60),
    };
    store.create_web_session(&id, &session).await.unwrap();
    let got = store.web_session(&id, now).await.unwrap().unwrap();
    assert_eq!(got.subject, session.subject);
    assert_eq!(got.display_name.as_deref(), Some("Alice"));
    // Expired: gone for every reader.
    assert!(
        store
            .web_session(&id, now + Duration::from_secs(61))
            .await
            .unwrap()
            .is_none()
    );
    // Only the digest is stored.
    let ids = ctx.texts("SELECT id_hash FROM web_sessions").await;
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], "session-id-1");
    // Sign-out deletes it.
    assert!(store.delete_web_session(&id).await.unwrap());
    assert!(store.web_session(&id, now).await.unwrap().is_none());
    let maintainer = WebSession {
        subject: Subject::Maintainer,
        binding: Some("token-digest".into()),
        ..session
    };
    let id = Secret::new("session-id-2".to_string());
    store.create_web_session(&id, &maintainer).await.unwrap();
    let got = store.web_session(&id, now).await.unwrap().unwrap();
    assert_eq!(got.subject, Subject::Maintainer);
    assert_eq!(got.binding.as_deref(), Some("token-digest"));
}

fn grant(id: &str, subject: Subject) -> McpGrant {
    McpGrant {
        id: id.into(),
        tenant: acme(),
        client_id: "https://client.example/meta.json".into(),
        subject,
        subject_name: Some("Alice".into()),
        scope: "tools:read".into(),
        resource: "https://conflux.example/mcp".into(),
        created_at: SystemTime::now(),
        last_used_at: None,
        revoked: false,
    }
}

fn token(secret: &str, grant: &str, kind: TokenKind, ttl: u64) -> McpToken {
    let now = SystemTime::now();
    McpToken {
        token_hash: McpToken::hash_of(&Secret::new(secret.into())),
        grant_id: grant.into(),
        kind,
        created_at: now,
        expires_at: now + Duration::from_secs(ttl),
        rotated_at: None,
    }
}

async fn clients_codes_tokens_and_grants(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let now = SystemTime::now();
    let client = StoredClient {
        client_id: "cfx_client_1".into(),
        kind: ClientKind::Registered,
        metadata: "{\"client_name\":\"c\"}".into(),
        origin: Some("addr".into()),
        created_at: now,
        cache_until: None,
        last_used_at: None,
        expires_at: Some(now + Duration::from_secs(60)),
    };
    store.save_mcp_client(&client).await.unwrap();
    assert_eq!(
        store
            .registrations_since("addr", now - Duration::from_secs(1))
            .await
            .unwrap(),
        PendingCounts {
            from_origin: 1,
            total: 1
        }
    );
    store.touch_mcp_client("cfx_client_1", now).await.unwrap();
    let used = store.mcp_client("cfx_client_1").await.unwrap().unwrap();
    assert!(
        used.expires_at.is_none(),
        "a used registration no longer expires"
    );
    assert_eq!(store.mcp_clients().await.unwrap().len(), 1);

    let alice = Subject::Account("557058:alice".into());
    store
        .create_mcp_grant(&grant("g1", alice.clone()))
        .await
        .unwrap();
    let code = Secret::new("cfx_code_1".to_string());
    store
        .put_mcp_code(&McpCode {
            code: code.clone(),
            grant_id: "g1".into(),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            code_challenge: "challenge".into(),
            expires_at: now + Duration::from_secs(60),
        })
        .await
        .unwrap();
    // Two exchanges race: one gets the code, the other finds it replayed.
    let (a, b) = tokio::join!(store.take_mcp_code(&code), store.take_mcp_code(&code));
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, CodeOutcome::Fresh(..)))
            .count(),
        1
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, CodeOutcome::Replayed { grant_id } if grant_id == "g1"))
    );
    assert!(matches!(
        store
            .take_mcp_code(&Secret::new("unknown".into()))
            .await
            .unwrap(),
        CodeOutcome::Unknown
    ));
    store
        .put_mcp_token(&token("cfx_at_1", "g1", TokenKind::Access, 60))
        .await
        .unwrap();
    let (t, g) = store
        .mcp_token(&McpToken::hash_of(&Secret::new("cfx_at_1".into())))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.kind, g.subject.clone()),
        (TokenKind::Access, alice.clone())
    );
    assert_eq!(store.mcp_grants_of(&acme(), &alice).await.unwrap().len(), 1);
    // Revoking the grant kills its tokens.
    assert!(store.revoke_mcp_grant("g1").await.unwrap());
    assert!(
        store
            .mcp_token(&McpToken::hash_of(&Secret::new("cfx_at_1".into())))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .mcp_grants_of(&acme(), &alice)
            .await
            .unwrap()
            .is_empty()
    );
    // No token is stored in the clear.
    let hashes = ctx.texts("SELECT token_hash FROM mcp_tokens").await;
    assert!(hashes.iter().all(|h| !h.contains("cfx_")));
}

async fn refresh_tokens_rotate_once(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    store
        .create_mcp_grant(&grant("g2", Subject::Maintainer))
        .await
        .unwrap();
    store
        .put_mcp_token(&token("cfx_rt_1", "g2", TokenKind::Refresh, 600))
        .await
        .unwrap();
    let hash = McpToken::hash_of(&Secret::new("cfx_rt_1".into()));
    let now = SystemTime::now();
    let (a, b) = tokio::join!(
        store.rotate_refresh_token(&hash, now),
        store.rotate_refresh_token(&hash, now)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, RotateOutcome::Rotated { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, RotateOutcome::Reused { grant_id } if grant_id == "g2"))
    );
    // An access token is never rotated.
    store
        .put_mcp_token(&token("cfx_at_2", "g2", TokenKind::Access, 600))
        .await
        .unwrap();
    assert!(matches!(
        store
            .rotate_refresh_token(&McpToken::hash_of(&Secret::new("cfx_at_2".into())), now)
            .await
            .unwrap(),
        RotateOutcome::Unknown
    ));
}

async fn access_keys_belong_to_their_subject(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let alice = Subject::Account("557058:alice".into());
    let bob = Subject::Account("557058:bob".into());
    let key = AccessKey {
        id: "k1".into(),
        key_hash: McpToken::hash_of(&Secret::new("cfx_pk_1".into())),
        tenant: acme(),
        subject: alice.clone(),
        subject_name: Some("Alice".into()),
        name: "laptop".into(),
        read_only: true,
        created_at: SystemTime::now(),
        last_used_at: None,
    };
    store.put_access_key(&key).await.unwrap();
    let got = store.access_key(&key.key_hash).await.unwrap().unwrap();
    assert!(got.read_only && got.subject == alice);
    assert_eq!(
        store.access_keys_of(&acme(), &alice).await.unwrap().len(),
        1
    );
    assert!(
        store
            .access_keys_of(&acme(), &bob)
            .await
            .unwrap()
            .is_empty()
    );
    // Bob cannot revoke Alice's key by its id.
    assert!(!store.delete_access_key(&acme(), &bob, "k1").await.unwrap());
    store
        .touch_access_key("k1", SystemTime::now())
        .await
        .unwrap();
    assert!(
        store
            .access_key(&key.key_hash)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
    assert!(
        store
            .delete_access_key(&acme(), &alice, "k1")
            .await
            .unwrap()
    );
    assert!(store.access_key(&key.key_hash).await.unwrap().is_none());
}

async fn refusals_keep_the_most_recent(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let base = SystemTime::now();
    for i in 0..5u64 {
        store
            .record_refusal(
                &acme(),
                &Refusal {
                    agent_id: format!("client-{i}"),
                    label: Some(format!("Client {i}")),
                    last_at: base + Duration::from_secs(i),
                },
                3,
            )
            .await
            .unwrap();
    }
    let ids: Vec<String> = store
        .refusals(&acme())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.agent_id)
        .collect();
    assert_eq!(ids, vec!["client-4", "client-3", "client-2"]);
    store.forget_refusal(&acme(), "client-3").await.unwrap();
    assert_eq!(store.refusals(&acme()).await.unwrap().len(), 2);
}

async fn mcp_sessions_bind_to_their_first_caller(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let now = SystemTime::now();
    assert_eq!(
        store
            .bind_mcp_session("sid-1", "owner-a", now)
            .await
            .unwrap(),
        "owner-a"
    );
    assert_eq!(
        store
            .bind_mcp_session("sid-1", "owner-b", now)
            .await
            .unwrap(),
        "owner-a",
        "a session keeps its first owner"
    );
    store
        .save_mcp_session_state("sid-1", "{\"state\":1}", now)
        .await
        .unwrap();
    let s = store.mcp_session("sid-1").await.unwrap().unwrap();
    assert_eq!(s.owner.as_deref(), Some("owner-a"));
    assert_eq!(s.state.as_deref(), Some("{\"state\":1}"));
    store.delete_mcp_session("sid-1").await.unwrap();
    assert!(store.mcp_session("sid-1").await.unwrap().is_none());
}

async fn pending_counts_keep_the_kinds_apart(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let alice = key("acme", "x");
    store
        .put_pending_authorization(&pending("s1", "sess", &alice, "v"))
        .await
        .unwrap();
    let now = SystemTime::now();
    store
        .put_mcp_authorization(&McpAuthorization {
            id: Secret::new("req-1".into()),
            tenant: acme(),
            client_id: "c".into(),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            client_state: None,
            code_challenge: "ch".into(),
            scope: "tools:read".into(),
            resource: "https://conflux.example/mcp".into(),
            origin: "other-address".into(),
            created_at: now,
            expires_at: now + Duration::from_secs(60),
        })
        .await
        .unwrap();
    // Each kind is counted apart: consents anyone can start do not use up sign-ins' room.
    for (kind, from_origin) in [(Pending::SignIn, 1), (Pending::Consent, 0)] {
        let counts = store
            .pending_counts(kind, "address-digest", now)
            .await
            .unwrap();
        let want = PendingCounts {
            from_origin,
            total: 1,
        };
        assert_eq!(counts, want, "{kind:?}");
    }
    let from_other = store
        .pending_counts(Pending::Consent, "other-address", now)
        .await
        .unwrap();
    assert_eq!(from_other.from_origin, 1);
    let taken = store
        .take_mcp_authorization(&Secret::new("req-1".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.client_id, "c");
    assert!(
        store
            .take_mcp_authorization(&Secret::new("req-1".into()))
            .await
            .unwrap()
            .is_none(),
        "a consent is answered once"
    );
}

/// Connections stored under ids people typed (before sign-in with Atlassian) cannot be
/// trusted: the upgrade drops them and the server can say whom, once.
async fn connections_typed_before_sign_in_are_dropped_once(ctx: &Ctx) {
    // A store as the first release left it: only the first migration applied.
    let dir = tempfile::tempdir().unwrap();
    let backend = if matches!(ctx, Ctx::Sqlite { .. }) {
        "sqlite"
    } else {
        "postgres"
    };
    let first = std::fs::read_to_string(format!(
        "{}/migrations/{backend}/0001_init.sql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    std::fs::write(dir.path().join("0001_init.sql"), &first).unwrap();
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    match ctx {
        Ctx::Sqlite { path, .. } => {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&pool).await.unwrap();
            pool.close().await;
        }
        Ctx::Postgres { url } => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            pool.close().await;
        }
    }
    ctx.exec(
        "INSERT INTO connections (tenant, user_id, cloud_id, site_url, site_name, app, scopes, \
         access_token, refresh_token, expires_at, generation, created_at, updated_at) VALUES \
         ('acme', 'typed-alice', '11111111-2222-4333-8444-555555555555', 'https://a', 'a', \
         'central', 's', 'x', NULL, NULL, 1, 0, 0)",
    )
    .await;
    let store = ctx.open(&EncryptionKey::generate()).await;
    assert_eq!(
        store.take_legacy_connections().await.unwrap(),
        vec![("acme".to_string(), "typed-alice".to_string())]
    );
    assert!(store.take_legacy_connections().await.unwrap().is_empty());
    assert!(store.list_connections(&acme()).await.unwrap().is_empty());
}

async fn sweep_deletes_what_expired(ctx: &Ctx) {
    let store = ctx.open(&EncryptionKey::generate()).await;
    let now = SystemTime::now();
    let past = now - Duration::from_secs(10);
    store
        .create_web_session(
            &Secret::new("old".into()),
            &WebSession {
                tenant: acme(),
                subject: Subject::Maintainer,
                display_name: None,
                binding: None,
                created_at: past,
                expires_at: past,
            },
        )
        .await
        .unwrap();
    store
        .create_mcp_grant(&grant("g3", Subject::Maintainer))
        .await
        .unwrap();
    store
        .put_mcp_token(&McpToken {
            expires_at: past,
            ..token("cfx_at_old", "g3", TokenKind::Access, 0)
        })
        .await
        .unwrap();
    store
        .bind_mcp_session("idle", "o", now - Duration::from_secs(3600))
        .await
        .unwrap();
    let n = store
        .sweep(now, now - Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(n, 3, "the session, the token and the idle MCP session");
    assert!(store.mcp_session("idle").await.unwrap().is_none());
    // The grant stays while it is young, though it holds no token now.
    assert!(store.mcp_grant("g3").await.unwrap().is_some());
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
    // Listed is the list alone, whatever "allow all" says.
    assert!(store.is_agent_listed(&acme, &bot).await.unwrap());
    assert!(!store.is_agent_listed(&acme, &other).await.unwrap());

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
            None,
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
        None,
        &site(CLOUD_A),
        AppKind::Central,
        &tokens("old", Some("r0")),
    )
    .await
    .unwrap();
    // A row of another user must not be blocked by (or block) this one.
    let bob = key("acme", "bob");
    a.save_connection(
        &bob,
        None,
        &site(CLOUD_A),
        AppKind::Central,
        &tokens("bob", None),
    )
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
            None,
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
    assert_eq!(versions.len(), 2);
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
    connections_keep_the_display_name,
    web_sessions_expire_and_end,
    clients_codes_tokens_and_grants,
    refresh_tokens_rotate_once,
    access_keys_belong_to_their_subject,
    refusals_keep_the_most_recent,
    mcp_sessions_bind_to_their_first_caller,
    pending_counts_keep_the_kinds_apart,
    connections_typed_before_sign_in_are_dropped_once,
    sweep_deletes_what_expired,
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
