//! [`SqlStore`]: the SQLite and Postgres backends behind one set of runtime queries.
//!
//! Queries use `$n` placeholders, which both SQLite and Postgres accept, and each is written
//! once: [`on_pool!`] expands the same body against the SQLite or the Postgres pool. Only the
//! migrations (type names) and the row lock taken for a refresh differ per backend.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use conflux_types::{CloudId, Secret};
use futures::future::BoxFuture;
use sqlx::Row as _;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::crypto::{Cipher, EncryptionKey, aad};
use crate::error::{Result, StoreError};
use crate::model::{
    AgentId, AllowedAgent, AppKind, AppSettings, AuthMode, Connection, ConnectionKey,
    ConnectionSummary, PendingAuthorization, SessionBinding, Site, TenantId, Tokens, UserId,
    digest, from_unix, to_unix,
};
use crate::{RefreshFn, RefreshOutcome, RefreshStep, TokenStore};

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The default SQLite file: `conflux/conflux.db` under the user's data directory
/// (`$XDG_DATA_HOME` or `~/.local/share` on Linux). `None` when there is no home directory.
pub fn default_database_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("conflux").join("conflux.db"))
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "sign in",
        include_str!("../../migrations/sqlite/0002_sign_in.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "sign in",
        include_str!("../../migrations/postgres/0002_sign_in.sql"),
    ),
];

/// Migrations compiled into the binary, so a deployment carries no migrations directory.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> BoxFuture<'s, std::result::Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to whichever pool the store has; the body is compiled once
/// per backend, so the same query text serves both. Its duration is recorded (whether it
/// succeeds or returns early with an error).
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::sql::Pool::Sqlite($p) => {
                let _timed = $crate::observe::Timed::start("sqlite");
                $body
            }
            $crate::sql::Pool::Postgres($p) => {
                let _timed = $crate::observe::Timed::start("postgres");
                $body
            }
        }
    };
}

/// A connection store on SQLite or Postgres. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool,
    cipher: Cipher,
    location: String,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The location is already without its password; the pool and key are not shown.
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .field("location", &self.location)
            .finish()
    }
}

const KEY_CHECK: &str = "key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"conflux connection store";

impl SqlStore {
    /// Opens the store at `location`: a `postgres://` (or `postgresql://`) URL, a `sqlite:`
    /// URL, or a file path (SQLite). Creates the SQLite file (owner-only) and the schema when
    /// missing, runs pending migrations, and checks `key` against the one the database was
    /// created with.
    pub async fn open(location: &str, key: EncryptionKey) -> Result<SqlStore> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            SqlStore::open_postgres(location, key).await
        } else {
            let path = location
                .strip_prefix("sqlite://")
                .or_else(|| location.strip_prefix("sqlite:"))
                .unwrap_or(location);
            if path.is_empty() || path.contains(":memory:") {
                return Err(StoreError::Invalid {
                    what: "database location",
                    detail: "give a SQLite file path or a postgres:// URL".into(),
                });
            }
            SqlStore::open_sqlite(Path::new(path), key).await
        }
    }

    /// Opens (creating when missing) a SQLite store in `path`.
    pub async fn open_sqlite(path: &Path, key: EncryptionKey) -> Result<SqlStore> {
        let location = path.display().to_string();
        let open_err = |message: String| StoreError::Open {
            location: location.clone(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        create_private_file(path).map_err(|e| open_err(e.to_string()))?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        SqlStore::init(Pool::Sqlite(pool), key, location).await
    }

    /// Opens a Postgres store; the database must exist, the schema is created when missing.
    pub async fn open_postgres(url: &str, key: EncryptionKey) -> Result<SqlStore> {
        let location = redact_url(url);
        let open_err = |message: String| StoreError::Open {
            location: location.clone(),
            message,
        };
        let options = PgConnectOptions::from_str(url).map_err(|e| open_err(e.to_string()))?;
        // One direct attempt first: the pool would retry a refused connection until its
        // acquire timeout, and a wrong URL deserves an answer now.
        {
            use sqlx::Connection as _;
            let probe = sqlx::PgConnection::connect_with(&options)
                .await
                .map_err(|e| open_err(e.to_string()))?;
            let _ = probe.close().await;
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        SqlStore::init(Pool::Postgres(pool), key, location).await
    }

    async fn init(pool: Pool, key: EncryptionKey, location: String) -> Result<SqlStore> {
        let store = SqlStore {
            pool,
            cipher: Cipher::new(&key),
            location,
        };
        match &store.pool {
            Pool::Sqlite(p) => {
                Migrator::new(Embedded(SQLITE_MIGRATIONS))
                    .await?
                    .run(p)
                    .await?
            }
            Pool::Postgres(p) => {
                Migrator::new(Embedded(POSTGRES_MIGRATIONS))
                    .await?
                    .run(p)
                    .await?
            }
        }
        store.check_key().await?;
        tracing::debug!(location = %store.location, backend = ?store.backend(), "connection store open");
        Ok(store)
    }

    /// Seals a known value on first open; later opens must be able to unseal it, so a wrong
    /// key fails at startup rather than at the first user's refresh.
    async fn check_key(&self) -> Result<()> {
        self.open_key_check(true).await
    }

    /// Reads the sealed key check (writing it first when `create`) and opens it with the key.
    async fn open_key_check(&self, create: bool) -> Result<()> {
        let place = aad("store_meta/value", &[KEY_CHECK]);
        let sealed = match create {
            true => Some(self.cipher.seal(KEY_CHECK_PLAINTEXT, &place)?),
            false => None,
        };
        let stored: Vec<u8> = on_pool!(self, p => {
            if let Some(sealed) = &sealed {
                sqlx::query("INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(KEY_CHECK)
                    .bind(sealed)
                    .execute(p)
                    .await?;
            }
            sqlx::query("SELECT value FROM store_meta WHERE key = $1")
                .bind(KEY_CHECK)
                .fetch_one(p)
                .await?
                .try_get("value")?
        });
        match self.cipher.open(&stored, &place, "key check") {
            Ok(v) if v == KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(StoreError::WrongKey),
        }
    }

    /// Where the store lives (a path, or a URL without its password).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    fn seal_tokens(
        &self,
        place: &str,
        parts: &[&str],
        tokens: &Tokens,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let access = self.cipher.seal_str(
            tokens.access.expose(),
            &aad(&format!("{place}/access"), parts),
        )?;
        let refresh = tokens
            .refresh
            .as_ref()
            .map(|r| {
                self.cipher
                    .seal_str(r.expose(), &aad(&format!("{place}/refresh"), parts))
            })
            .transpose()?;
        Ok((access, refresh))
    }

    fn open_tokens(
        &self,
        place: &str,
        parts: &[&str],
        access: &[u8],
        refresh: Option<&[u8]>,
    ) -> Result<(Secret, Option<Secret>)> {
        let access = self.cipher.open_string(
            access,
            &aad(&format!("{place}/access"), parts),
            "access token",
        )?;
        let refresh = refresh
            .map(|r| {
                self.cipher.open_string(
                    r,
                    &aad(&format!("{place}/refresh"), parts),
                    "refresh token",
                )
            })
            .transpose()?;
        Ok((Secret::new(access), refresh.map(Secret::new)))
    }

    fn connection_from(&self, raw: RawConnection) -> Result<Connection> {
        let parts = [raw.tenant.as_str(), raw.user_id.as_str()];
        let (access, refresh) = self.open_tokens(
            "connections",
            &parts,
            &raw.access_token,
            raw.refresh_token.as_deref(),
        )?;
        let key = ConnectionKey::new(
            stored_id(TenantId::new(raw.tenant))?,
            stored_id(UserId::new(raw.user_id))?,
        );
        Ok(Connection {
            key,
            display_name: raw.display_name,
            site: Site {
                cloud_id: parse_cloud_id(&raw.cloud_id)?,
                url: raw.site_url,
                name: raw.site_name,
                scopes: Vec::new(),
            },
            app: AppKind::parse(&raw.app)?,
            tokens: Tokens {
                access,
                refresh,
                expires_at: raw.expires_at.map(from_unix),
                scope: raw.scopes,
            },
            generation: raw.generation,
            created_at: from_unix(raw.created_at),
            updated_at: from_unix(raw.updated_at),
        })
    }
}

fn stored_id<T>(r: Result<T>) -> Result<T> {
    r.map_err(|e| StoreError::Corrupt {
        what: "row key",
        detail: e.to_string(),
    })
}

fn parse_cloud_id(s: &str) -> Result<CloudId> {
    s.parse().map_err(|_| StoreError::Corrupt {
        what: "cloud id",
        detail: "not a UUID".into(),
    })
}

/// Creates the SQLite file with owner-only permissions before SQLite opens it.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// The URL without its password, for messages and logs.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(an unparsable database URL)".to_string(),
    }
}

struct RawPending {
    tenant: String,
    session_hash: String,
    origin: String,
    verifier: Vec<u8>,
    redirect_uri: String,
    app: String,
    scope: String,
    return_to: Option<String>,
    created_at: i64,
    expires_at: i64,
}

struct RawConnection {
    tenant: String,
    display_name: Option<String>,
    user_id: String,
    cloud_id: String,
    site_url: String,
    site_name: String,
    app: String,
    scopes: String,
    access_token: Vec<u8>,
    refresh_token: Option<Vec<u8>>,
    expires_at: Option<i64>,
    generation: i64,
    created_at: i64,
    updated_at: i64,
}

const CONNECTION_COLUMNS: &str = "tenant, user_id, display_name, cloud_id, site_url, site_name, app, scopes, \
     access_token, refresh_token, expires_at, generation, created_at, updated_at";

/// Decodes a `connections` row; a macro because the row type differs per backend.
macro_rules! raw_connection {
    ($row:expr) => {{
        let row = &$row;
        RawConnection {
            tenant: row.try_get("tenant")?,
            display_name: row.try_get("display_name")?,
            user_id: row.try_get("user_id")?,
            cloud_id: row.try_get("cloud_id")?,
            site_url: row.try_get("site_url")?,
            site_name: row.try_get("site_name")?,
            app: row.try_get("app")?,
            scopes: row.try_get("scopes")?,
            access_token: row.try_get("access_token")?,
            refresh_token: row.try_get("refresh_token")?,
            expires_at: row.try_get("expires_at")?,
            generation: row.try_get("generation")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }
    }};
}

/// The body of [`TokenStore::refresh_locked`] once the transaction holds the row's lock.
macro_rules! locked_refresh {
    ($store:expr, $tx:expr, $select:expr, $key:expr, $step:expr) => {{
        let mut tx = $tx;
        let key: &ConnectionKey = $key;
        let row = sqlx::query($select)
            .bind(key.tenant.as_str())
            .bind(key.user.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(RefreshOutcome::NotConnected);
        };
        let current = $store.connection_from(raw_connection!(row))?;
        match ($step)(current.clone()).await {
            Err(e) => {
                tx.rollback().await?;
                Ok(RefreshOutcome::Failed(e))
            }
            Ok(RefreshStep::Keep) => {
                tx.commit().await?;
                Ok(RefreshOutcome::Kept(current))
            }
            Ok(RefreshStep::Drop) => {
                sqlx::query("DELETE FROM connections WHERE tenant = $1 AND user_id = $2")
                    .bind(key.tenant.as_str())
                    .bind(key.user.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(RefreshOutcome::Dropped)
            }
            Ok(RefreshStep::Replace(fresh)) => {
                let tokens = Tokens {
                    access: fresh.access,
                    // Not rotated: the stored refresh token stays valid.
                    refresh: fresh.refresh.or(current.tokens.refresh.clone()),
                    expires_at: fresh.expires_at,
                    scope: if fresh.scope.trim().is_empty() {
                        current.tokens.scope.clone()
                    } else {
                        fresh.scope
                    },
                };
                let parts = [key.tenant.as_str(), key.user.as_str()];
                let (access, refresh) = $store.seal_tokens("connections", &parts, &tokens)?;
                let now = SystemTime::now();
                sqlx::query(
                    "UPDATE connections SET access_token = $3, refresh_token = $4, expires_at = $5, \
                     scopes = $6, generation = generation + 1, updated_at = $7 \
                     WHERE tenant = $1 AND user_id = $2",
                )
                .bind(key.tenant.as_str())
                .bind(key.user.as_str())
                .bind(&access)
                .bind(&refresh)
                .bind(tokens.expires_at.map(to_unix))
                .bind(&tokens.scope)
                .bind(to_unix(now))
                .execute(&mut *tx)
                .await?;
                if let Err(e) = tx.commit().await {
                    // The identity service has already rotated the refresh token.
                    tracing::warn!(connection = %key, "refreshed tokens could not be stored");
                    return Err(e.into());
                }
                Ok(RefreshOutcome::Replaced(Connection {
                    tokens,
                    generation: current.generation + 1,
                    updated_at: from_unix(to_unix(now)),
                    ..current
                }))
            }
        }
    }};
}

#[async_trait::async_trait]
impl TokenStore for SqlStore {
    async fn ping(&self) -> Result<()> {
        self.open_key_check(false).await
    }

    fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    async fn connection(&self, key: &ConnectionKey) -> Result<Option<Connection>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant = $1 AND user_id = $2"
        );
        let raw = on_pool!(self, p => {
            match sqlx::query(&sql)
                .bind(key.tenant.as_str())
                .bind(key.user.as_str())
                .fetch_optional(p)
                .await?
            {
                Some(row) => Some(raw_connection!(row)),
                None => None,
            }
        });
        raw.map(|r| self.connection_from(r)).transpose()
    }

    async fn save_connection(
        &self,
        key: &ConnectionKey,
        display_name: Option<&str>,
        site: &Site,
        app: AppKind,
        tokens: &Tokens,
    ) -> Result<Connection> {
        let parts = [key.tenant.as_str(), key.user.as_str()];
        let (access, refresh) = self.seal_tokens("connections", &parts, tokens)?;
        let now = to_unix(SystemTime::now());
        let (generation, created_at): (i64, i64) = on_pool!(self, p => {
            let row = sqlx::query(
                "INSERT INTO connections (tenant, user_id, cloud_id, site_url, site_name, app, \
                 scopes, access_token, refresh_token, expires_at, generation, created_at, updated_at, \
                 display_name) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11, $12) \
                 ON CONFLICT (tenant, user_id) DO UPDATE SET cloud_id = excluded.cloud_id, \
                 display_name = excluded.display_name, \
                 site_url = excluded.site_url, site_name = excluded.site_name, app = excluded.app, \
                 scopes = excluded.scopes, access_token = excluded.access_token, \
                 refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, \
                 generation = connections.generation + 1, updated_at = excluded.updated_at \
                 RETURNING generation, created_at",
            )
            .bind(key.tenant.as_str())
            .bind(key.user.as_str())
            .bind(site.cloud_id.to_string())
            .bind(&site.url)
            .bind(&site.name)
            .bind(app.as_str())
            .bind(&tokens.scope)
            .bind(&access)
            .bind(&refresh)
            .bind(tokens.expires_at.map(to_unix))
            .bind(now)
            .bind(display_name)
            .fetch_one(p)
            .await?;
            (row.try_get("generation")?, row.try_get("created_at")?)
        });
        Ok(Connection {
            key: key.clone(),
            display_name: display_name.map(String::from),
            site: Site {
                scopes: Vec::new(),
                ..site.clone()
            },
            app,
            tokens: Tokens {
                expires_at: tokens.expires_at.map(|t| from_unix(to_unix(t))),
                ..tokens.clone()
            },
            generation,
            created_at: from_unix(created_at),
            updated_at: from_unix(now),
        })
    }

    async fn delete_connection(&self, key: &ConnectionKey) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM connections WHERE tenant = $1 AND user_id = $2")
                .bind(key.tenant.as_str())
                .bind(key.user.as_str())
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn list_connections(&self, tenant: &TenantId) -> Result<Vec<ConnectionSummary>> {
        let sql = format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant = $1 ORDER BY user_id"
        );
        let raws: Vec<RawConnection> = on_pool!(self, p => {
            let rows = sqlx::query(&sql).bind(tenant.as_str()).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(raw_connection!(row));
            }
            out
        });
        raws.into_iter()
            .map(|r| self.connection_from(r).map(|c| c.summary()))
            .collect()
    }

    async fn refresh_locked(&self, key: &ConnectionKey, step: RefreshFn) -> Result<RefreshOutcome> {
        match &self.pool {
            Pool::Sqlite(p) => {
                // Takes SQLite's write lock up front: every other writer, in any process,
                // waits here (busy timeout) until this refresh commits or rolls back.
                let tx = p.begin_with("BEGIN IMMEDIATE").await?;
                let sql = format!(
                    "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant = $1 AND user_id = $2"
                );
                locked_refresh!(self, tx, &sql, key, step)
            }
            Pool::Postgres(p) => {
                let tx = p.begin().await?;
                let sql = format!(
                    "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant = $1 AND user_id = $2 FOR UPDATE"
                );
                locked_refresh!(self, tx, &sql, key, step)
            }
        }
    }

    async fn put_pending_authorization(&self, pending: &PendingAuthorization) -> Result<()> {
        let state_hash = digest(pending.state.expose());
        let verifier = self.cipher.seal_str(
            pending.pkce_verifier.expose(),
            &aad("pending_authorizations/pkce_verifier", &[&state_hash]),
        )?;
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO pending_authorizations (state_hash, tenant, session_hash, origin, \
                 pkce_verifier, redirect_uri, app, scopes, return_to, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&state_hash)
            .bind(pending.tenant.as_str())
            .bind(pending.session.digest_hex())
            .bind(&pending.origin)
            .bind(&verifier)
            .bind(&pending.redirect_uri)
            .bind(pending.app.as_str())
            .bind(&pending.scope)
            .bind(&pending.return_to)
            .bind(to_unix(pending.created_at))
            .bind(to_unix(pending.expires_at))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn take_pending_authorization(
        &self,
        state: &Secret,
    ) -> Result<Option<PendingAuthorization>> {
        let state_hash = digest(state.expose());
        // DELETE … RETURNING: of two concurrent callbacks with one state, one gets the row.
        let raw = on_pool!(self, p => {
            match sqlx::query(
                "DELETE FROM pending_authorizations WHERE state_hash = $1 RETURNING tenant, \
                 session_hash, origin, pkce_verifier, redirect_uri, app, scopes, return_to, \
                 created_at, expires_at",
            )
            .bind(&state_hash)
            .fetch_optional(p)
            .await?
            {
                Some(row) => Some(RawPending {
                    tenant: row.try_get("tenant")?,
                    session_hash: row.try_get("session_hash")?,
                    origin: row.try_get("origin")?,
                    verifier: row.try_get("pkce_verifier")?,
                    redirect_uri: row.try_get("redirect_uri")?,
                    app: row.try_get("app")?,
                    scope: row.try_get("scopes")?,
                    return_to: row.try_get("return_to")?,
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                }),
                None => None,
            }
        });
        let Some(raw) = raw else {
            return Ok(None);
        };
        let verifier = self.cipher.open_string(
            &raw.verifier,
            &aad("pending_authorizations/pkce_verifier", &[&state_hash]),
            "PKCE verifier",
        )?;
        Ok(Some(PendingAuthorization {
            state: state.clone(),
            tenant: stored_id(TenantId::new(raw.tenant))?,
            session: SessionBinding::from_digest(raw.session_hash),
            origin: raw.origin,
            pkce_verifier: Secret::new(verifier),
            redirect_uri: raw.redirect_uri,
            app: AppKind::parse(&raw.app)?,
            scope: raw.scope,
            return_to: raw.return_to,
            created_at: from_unix(raw.created_at),
            expires_at: from_unix(raw.expires_at),
        }))
    }

    async fn purge_expired(&self, now: SystemTime) -> Result<u64> {
        let now = to_unix(now);
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM pending_authorizations WHERE expires_at < $1")
                .bind(now)
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    async fn app_settings(&self, tenant: &TenantId) -> Result<Option<AppSettings>> {
        type RawSettings = (
            String,
            Option<String>,
            Option<Vec<u8>>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
            bool,
            i64,
            Option<String>,
        );
        let raw: Option<RawSettings> = on_pool!(self, p => {
            match sqlx::query(
                "SELECT auth_mode, client_id, client_secret, scopes, site_url, api_email, api_token, \
                 allow_all_agents, updated_at, cloud_id FROM app_settings WHERE tenant = $1",
            )
            .bind(tenant.as_str())
            .fetch_optional(p)
            .await?
            {
                Some(row) => Some((
                    row.try_get("auth_mode")?,
                    row.try_get("client_id")?,
                    row.try_get("client_secret")?,
                    row.try_get("scopes")?,
                    row.try_get("site_url")?,
                    row.try_get("api_email")?,
                    row.try_get("api_token")?,
                    row.try_get("allow_all_agents")?,
                    row.try_get("updated_at")?,
                    row.try_get("cloud_id")?,
                )),
                None => None,
            }
        });
        let Some((
            mode,
            client_id,
            secret,
            scopes,
            site_url,
            api_email,
            api_token,
            allow_all,
            updated,
            cloud_id,
        )) = raw
        else {
            return Ok(None);
        };
        let auth_mode = AuthMode::parse(&mode).map_err(|e| StoreError::Corrupt {
            what: "auth mode",
            detail: e.to_string(),
        })?;
        let client_secret = secret
            .map(|s| {
                self.cipher.open_string(
                    &s,
                    &aad("app_settings/client_secret", &[tenant.as_str()]),
                    "client secret",
                )
            })
            .transpose()?
            .map(Secret::new);
        let api_token = api_token
            .map(|s| {
                self.cipher.open_string(
                    &s,
                    &aad("app_settings/api_token", &[tenant.as_str()]),
                    "API token",
                )
            })
            .transpose()?
            .map(Secret::new);
        Ok(Some(AppSettings {
            auth_mode,
            client_id,
            client_secret,
            scopes,
            site_url,
            cloud_id: cloud_id.as_deref().map(parse_cloud_id).transpose()?,
            api_email,
            api_token,
            allow_all_agents: allow_all,
            updated_at: Some(from_unix(updated)),
        }))
    }

    async fn save_app_settings(&self, tenant: &TenantId, settings: &AppSettings) -> Result<()> {
        let secret = settings
            .client_secret
            .as_ref()
            .map(|s| {
                self.cipher.seal_str(
                    s.expose(),
                    &aad("app_settings/client_secret", &[tenant.as_str()]),
                )
            })
            .transpose()?;
        let api_token = settings
            .api_token
            .as_ref()
            .map(|s| {
                self.cipher.seal_str(
                    s.expose(),
                    &aad("app_settings/api_token", &[tenant.as_str()]),
                )
            })
            .transpose()?;
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO app_settings (tenant, auth_mode, client_id, client_secret, scopes, \
                 site_url, api_email, api_token, allow_all_agents, updated_at, cloud_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (tenant) DO UPDATE SET auth_mode = excluded.auth_mode, \
                 client_id = excluded.client_id, client_secret = excluded.client_secret, \
                 scopes = excluded.scopes, site_url = excluded.site_url, \
                 api_email = excluded.api_email, api_token = excluded.api_token, \
                 allow_all_agents = excluded.allow_all_agents, updated_at = excluded.updated_at, \
                 cloud_id = excluded.cloud_id",
            )
            .bind(tenant.as_str())
            .bind(settings.auth_mode.as_str())
            .bind(&settings.client_id)
            .bind(&secret)
            .bind(&settings.scopes)
            .bind(&settings.site_url)
            .bind(&settings.api_email)
            .bind(&api_token)
            .bind(settings.allow_all_agents)
            .bind(to_unix(SystemTime::now()))
            .bind(settings.cloud_id.as_ref().map(|c| c.to_string()))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn allow_agent(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        label: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO agent_allowlist (tenant, agent_id, label, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant, agent_id) DO UPDATE SET label = excluded.label",
            )
            .bind(tenant.as_str())
            .bind(agent.as_str())
            .bind(label)
            .bind(to_unix(SystemTime::now()))
            .execute(p)
            .await?;
        });
        Ok(())
    }

    async fn disallow_agent(&self, tenant: &TenantId, agent: &AgentId) -> Result<bool> {
        let n = on_pool!(self, p => {
            sqlx::query("DELETE FROM agent_allowlist WHERE tenant = $1 AND agent_id = $2")
                .bind(tenant.as_str())
                .bind(agent.as_str())
                .execute(p)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn allowed_agents(&self, tenant: &TenantId) -> Result<Vec<AllowedAgent>> {
        let rows: Vec<(String, Option<String>, i64)> = on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT agent_id, label, added_at FROM agent_allowlist WHERE tenant = $1 ORDER BY agent_id",
            )
            .bind(tenant.as_str())
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((row.try_get("agent_id")?, row.try_get("label")?, row.try_get("added_at")?));
            }
            out
        });
        rows.into_iter()
            .map(|(agent, label, added)| {
                Ok(AllowedAgent {
                    agent: stored_id(AgentId::new(agent))?,
                    label,
                    added_at: from_unix(added),
                })
            })
            .collect()
    }

    async fn is_agent_listed(&self, tenant: &TenantId, agent: &AgentId) -> Result<bool> {
        let listed = on_pool!(self, p => {
            sqlx::query("SELECT 1 AS listed FROM agent_allowlist WHERE tenant = $1 AND agent_id = $2")
                .bind(tenant.as_str())
                .bind(agent.as_str())
                .fetch_optional(p)
                .await?
                .is_some()
        });
        Ok(listed)
    }

    async fn is_agent_allowed(&self, tenant: &TenantId, agent: &AgentId) -> Result<bool> {
        let allowed: bool = on_pool!(self, p => {
            let all: Option<bool> = sqlx::query("SELECT allow_all_agents FROM app_settings WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_optional(p)
                .await?
                .map(|row| row.try_get("allow_all_agents"))
                .transpose()?;
            if all == Some(true) {
                true
            } else {
                sqlx::query("SELECT 1 AS listed FROM agent_allowlist WHERE tenant = $1 AND agent_id = $2")
                    .bind(tenant.as_str())
                    .bind(agent.as_str())
                    .fetch_optional(p)
                    .await?
                    .is_some()
            }
        });
        Ok(allowed)
    }
}

mod auth;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        let r = redact_url("postgres://conflux:hunter2@127.0.0.1:5432/db");
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("127.0.0.1:5432/db"), "{r}");
        assert_eq!(redact_url("::"), "(an unparsable database URL)");
    }

    #[test]
    fn both_backends_have_the_same_tables_and_columns() {
        fn shape(sql: &str) -> Vec<String> {
            sql.lines()
                .map(str::trim)
                .filter(|l| !l.starts_with("--") && !l.is_empty())
                .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
                .collect()
        }
        assert_eq!(SQLITE_MIGRATIONS.len(), POSTGRES_MIGRATIONS.len());
        for (a, b) in SQLITE_MIGRATIONS.iter().zip(POSTGRES_MIGRATIONS) {
            assert_eq!(shape(a.2), shape(b.2), "migration {}", a.0);
        }
    }
}
