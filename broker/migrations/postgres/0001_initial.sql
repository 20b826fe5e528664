-- The same schema as migrations/sqlite/0001_initial.sql, in PostgreSQL's types. See there for
-- what each column holds; everything secret lives inside the sealed columns.
CREATE TABLE grants (
    id BYTEA PRIMARY KEY,
    provider TEXT NOT NULL,
    format BIGINT NOT NULL,
    master_key_id TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    version BIGINT NOT NULL,
    reauth_required_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX grants_last_used_at ON grants (last_used_at);

CREATE TABLE logins (
    id TEXT PRIMARY KEY,
    poll_hash BYTEA NOT NULL,
    poll_public_key BYTEA NOT NULL,
    provider TEXT NOT NULL,
    sealed_authid BYTEA,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX logins_expires_at ON logins (expires_at);

CREATE TABLE signins (
    id BYTEA PRIMARY KEY,
    browser_hash BYTEA NOT NULL,
    provider TEXT NOT NULL,
    login_id TEXT,
    sealed_verifier BYTEA,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX signins_expires_at ON signins (expires_at);
