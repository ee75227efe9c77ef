-- Connection store, SQLite flavour. Keep in step with ../postgres/0001_init.sql: same tables,
-- same columns, only the type names differ (BLOB/BYTEA, INTEGER/BOOLEAN).

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- One OAuth connection per (tenant, user). Tokens are XChaCha20-Poly1305 ciphertexts.
CREATE TABLE connections (
    tenant        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    cloud_id      TEXT    NOT NULL,
    site_url      TEXT    NOT NULL,
    site_name     TEXT    NOT NULL,
    app           TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    access_token  BLOB    NOT NULL,
    refresh_token BLOB,
    expires_at    BIGINT,
    generation    BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (tenant, user_id)
);

-- Authorizations started and not yet called back: single-use, looked up by a hash of `state`.
CREATE TABLE pending_authorizations (
    state_hash    TEXT    PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    session_hash  TEXT    NOT NULL,
    pkce_verifier BLOB    NOT NULL,
    redirect_uri  TEXT    NOT NULL,
    app           TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);

-- Grants covering several sites, held until the user picks one.
CREATE TABLE pending_grants (
    id_hash          TEXT    PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    session_hash     TEXT    NOT NULL,
    app              TEXT    NOT NULL,
    scopes           TEXT    NOT NULL,
    access_token     BLOB    NOT NULL,
    refresh_token    BLOB,
    token_expires_at BIGINT,
    sites            TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    expires_at       BIGINT  NOT NULL
);

-- Per-tenant settings made on the configuration page.
CREATE TABLE app_settings (
    tenant           TEXT    PRIMARY KEY,
    auth_mode        TEXT    NOT NULL,
    client_id        TEXT,
    client_secret    BLOB,
    scopes           TEXT,
    site_url         TEXT,
    api_email        TEXT,
    api_token        BLOB,
    allow_all_agents INTEGER NOT NULL DEFAULT 0,
    updated_at       BIGINT  NOT NULL
);

-- Agents a tenant lets call the connector.
CREATE TABLE agent_allowlist (
    tenant   TEXT   NOT NULL,
    agent_id TEXT   NOT NULL,
    label    TEXT,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, agent_id)
);
