-- Grants: one row per authid. Everything secret is inside `sealed` (AES-256-GCM under a key
-- derived from the authid's secret part and the master key). The plaintext columns reveal only
-- which provider a grant belongs to and when it was used.
CREATE TABLE grants (
    id BLOB PRIMARY KEY NOT NULL,          -- SHA-256 of the authid's lookup part
    provider TEXT NOT NULL,
    format INTEGER NOT NULL,               -- record format version, bound into the AAD
    master_key_id TEXT NOT NULL,           -- which master key sealed the record
    sealed BLOB NOT NULL,
    version INTEGER NOT NULL,              -- bumped on every write; compare-and-swap guard
    reauth_required_at INTEGER,            -- set when the provider refused the refresh token
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
) STRICT;
CREATE INDEX grants_last_used_at ON grants (last_used_at);

-- Program-started sign-ins waiting to be collected by a poll.
CREATE TABLE logins (
    id TEXT PRIMARY KEY NOT NULL,          -- public login_id
    poll_hash BLOB NOT NULL,               -- SHA-256 of the poll secret
    poll_public_key BLOB NOT NULL,         -- X25519 public key derived from the poll secret
    provider TEXT NOT NULL,
    sealed_authid BLOB,                    -- the new authid, sealed to poll_public_key
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX logins_expires_at ON logins (expires_at);

-- Browser sign-ins between the redirect to the provider and the callback.
CREATE TABLE signins (
    id BLOB PRIMARY KEY NOT NULL,          -- SHA-256 of the OAuth `state`
    browser_hash BLOB NOT NULL,            -- SHA-256 of the browser-binding cookie
    provider TEXT NOT NULL,
    login_id TEXT,                         -- the program-started sign-in this completes, if any
    sealed_verifier BLOB,                  -- PKCE code verifier under a key derived from `state`
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX signins_expires_at ON signins (expires_at);
