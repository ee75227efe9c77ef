-- Who may use Conflux. People sign in with Atlassian (their account id, per tenant, is their
-- key), maintainers with the admin token, MCP clients with tokens from Conflux's own
-- authorization server. Session ids, codes, tokens and keys are stored only as SHA-256 digests.
-- Keep in step with ../postgres/0002_sign_in.sql: same tables, same columns.

-- Connections stored under user ids typed on the page cannot be trusted: their ids are kept
-- aside (so the server can say whom it dropped) and their tokens deleted.
CREATE TABLE legacy_connections AS SELECT tenant, user_id FROM connections;
DELETE FROM connections;
ALTER TABLE connections ADD COLUMN display_name TEXT;

-- Sign-ins no longer name a user up front, nor choose among sites (the tenant's site is set).
DROP TABLE pending_grants;
DROP TABLE pending_authorizations;
CREATE TABLE pending_authorizations (
    state_hash    TEXT    PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    session_hash  TEXT    NOT NULL,
    origin        TEXT    NOT NULL,
    pkce_verifier BLOB    NOT NULL,
    redirect_uri  TEXT    NOT NULL,
    app           TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    return_to     TEXT,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);
CREATE INDEX pending_authorizations_origin ON pending_authorizations (origin);

ALTER TABLE app_settings ADD COLUMN cloud_id TEXT;

-- Signed-in people and maintainers; a row per session, deleted at sign-out.
CREATE TABLE web_sessions (
    id_hash      TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    account_id   TEXT,
    display_name TEXT,
    binding      TEXT,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);

-- MCP clients that have asked: a Client ID Metadata Document (client_id is its URL, cached
-- until cache_until) or a dynamic registration (expires unless used).
CREATE TABLE mcp_clients (
    client_id    TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    metadata     TEXT    NOT NULL,
    origin       TEXT,
    created_at   BIGINT  NOT NULL,
    cache_until  BIGINT,
    last_used_at BIGINT,
    expires_at   BIGINT
);
CREATE INDEX mcp_clients_origin ON mcp_clients (origin, created_at);

-- MCP authorization requests waiting for sign-in and consent.
CREATE TABLE mcp_authorizations (
    id_hash        TEXT    PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    client_state   TEXT,
    code_challenge TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    resource       TEXT    NOT NULL,
    origin         TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);
CREATE INDEX mcp_authorizations_origin ON mcp_authorizations (origin);

-- One consent: a person (or the maintainer) let a client use the tools. Its codes and tokens
-- die with it.
CREATE TABLE mcp_grants (
    id           TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    client_id    TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    subject_name TEXT,
    scopes       TEXT    NOT NULL,
    resource     TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX mcp_grants_subject ON mcp_grants (tenant, subject);

CREATE TABLE mcp_codes (
    code_hash      TEXT    PRIMARY KEY,
    grant_id       TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    expires_at     BIGINT  NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0
);

-- Access and refresh tokens; a refresh token is rotated once, and its reuse revokes the grant.
CREATE TABLE mcp_tokens (
    token_hash TEXT    PRIMARY KEY,
    grant_id   TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX mcp_tokens_grant ON mcp_tokens (grant_id);

-- Personal access keys (and the maintainer's agent keys) for clients that cannot do OAuth.
CREATE TABLE access_keys (
    id           TEXT    PRIMARY KEY,
    key_hash     TEXT    NOT NULL UNIQUE,
    tenant       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    subject_name TEXT,
    name         TEXT    NOT NULL,
    read_only    INTEGER NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX access_keys_subject ON access_keys (tenant, subject);

-- Authenticated agents refused by the allowlist lately, for the maintainer to tick.
CREATE TABLE agent_refusals (
    tenant   TEXT   NOT NULL,
    agent_id TEXT   NOT NULL,
    label    TEXT,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, agent_id)
);

-- MCP sessions of clients on revisions before 2026-07-28, shared by every replica, and the
-- caller each belongs to.
CREATE TABLE mcp_sessions (
    id_hash      TEXT   PRIMARY KEY,
    owner        TEXT,
    state        TEXT,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
