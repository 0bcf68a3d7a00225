-- Package identity: upstream identity providers (sign-in with Google,
-- GitHub, Microsoft or any OpenID provider), the identities users hold at
-- them, and upstream sign-ins in progress.

-- An upstream provider the operator configured. kind is a preset or a
-- generic OpenID provider (issuer, discovered); the endpoint columns
-- override the GitHub preset's (GitHub Enterprise). client_secret is
-- sealed with the keyring (the provider id as associated data).
CREATE TABLE identity_providers (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('oidc', 'google', 'github', 'microsoft')),
    name          TEXT NOT NULL,
    issuer        TEXT NOT NULL DEFAULT '',
    client_id     TEXT NOT NULL,
    client_secret BLOB NOT NULL,
    scopes        TEXT NOT NULL DEFAULT '[]',
    auth_url      TEXT NOT NULL DEFAULT '',
    token_url     TEXT NOT NULL DEFAULT '',
    api_url       TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
--bun:split
-- A user's identity at a provider: the pair (provider, subject) is the
-- identity (ASVS 6.8.1), never the email address, which is kept only to
-- show.
CREATE TABLE user_identities (
    id              TEXT PRIMARY KEY,
    provider_id     TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    subject         TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT NOT NULL DEFAULT '',
    email_verified  INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    last_sign_in_at TEXT,
    UNIQUE (provider_id, subject)
);
--bun:split
CREATE INDEX user_identities_user_id ON user_identities (user_id);
--bun:split
-- An upstream sign-in between the redirect to the provider and its
-- callback: the state's keyed hash, the browser, the nonce and the sealed
-- PKCE verifier, and what to continue with afterwards (sealed).
CREATE TABLE upstream_logins (
    state_hash   TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES identity_providers (id) ON DELETE CASCADE,
    binding_hash TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     BLOB NOT NULL,
    link_user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    return_data  BLOB NOT NULL,
    expires_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
--bun:split
CREATE INDEX upstream_logins_expires_at ON upstream_logins (expires_at);
