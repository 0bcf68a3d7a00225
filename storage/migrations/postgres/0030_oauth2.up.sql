-- Package oidc: OAuth 2.0 clients, the rows fosite stores for codes and
-- tokens, remembered consent and in-progress authorization requests.

-- secret_hash is a keyed SHA-256 of a generated 256-bit secret (NULL for
-- public clients). Everything a client registers beyond what is queried
-- lives in metadata (JSON, RFC 7591 names).
CREATE TABLE oauth2_clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT,
    public      BOOLEAN NOT NULL,
    first_party BOOLEAN NOT NULL,
    metadata    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Web origins a client's browser code calls the token, userinfo and
-- revocation endpoints from (CORS).
CREATE TABLE oauth2_client_origins (
    origin    TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    PRIMARY KEY (origin, client_id)
);

-- The five fosite request tables share one layout. signature is the hex
-- SHA-256 of the token's signature part (tokens themselves are never
-- stored); request_id ties a grant's code, tokens and rotations together;
-- session_id is the browser session (sid) the grant came from, so ending
-- the session revokes its tokens. request holds the rest of the fosite
-- request (scopes, audience, sanitised form, session claims) as JSON.
CREATE TABLE oauth2_codes (
    signature    TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    session_id   TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    active       BOOLEAN NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    request      TEXT NOT NULL
);
CREATE INDEX oauth2_codes_request_id ON oauth2_codes (request_id);
CREATE INDEX oauth2_codes_expires_at ON oauth2_codes (expires_at);

CREATE TABLE oauth2_access_tokens (
    signature    TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    session_id   TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    active       BOOLEAN NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    request      TEXT NOT NULL
);
CREATE INDEX oauth2_access_tokens_request_id ON oauth2_access_tokens (request_id);
CREATE INDEX oauth2_access_tokens_session_id ON oauth2_access_tokens (session_id);
CREATE INDEX oauth2_access_tokens_expires_at ON oauth2_access_tokens (expires_at);

-- access_signature links a refresh token to the access token issued with
-- it, so rotation removes exactly that one; first_used_at starts a client's
-- grace period for concurrent refreshes.
CREATE TABLE oauth2_refresh_tokens (
    signature        TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL,
    client_id        TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    subject          TEXT NOT NULL,
    session_id       TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    active           BOOLEAN NOT NULL,
    requested_at     TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    request          TEXT NOT NULL,
    access_signature TEXT,
    first_used_at    TIMESTAMPTZ
);
CREATE INDEX oauth2_refresh_tokens_request_id ON oauth2_refresh_tokens (request_id);
CREATE INDEX oauth2_refresh_tokens_session_id ON oauth2_refresh_tokens (session_id);
CREATE INDEX oauth2_refresh_tokens_expires_at ON oauth2_refresh_tokens (expires_at);

CREATE TABLE oauth2_pkce (
    signature    TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    session_id   TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    active       BOOLEAN NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    request      TEXT NOT NULL
);
CREATE INDEX oauth2_pkce_expires_at ON oauth2_pkce (expires_at);

-- Keyed by a hash of the authorization code itself (fosite passes the raw
-- code here, not its signature).
CREATE TABLE oauth2_oidc (
    signature    TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    session_id   TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    active       BOOLEAN NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    request      TEXT NOT NULL
);
CREATE INDEX oauth2_oidc_expires_at ON oauth2_oidc (expires_at);

-- Client assertion ids seen (private_key_jwt replay protection), hashed.
CREATE TABLE oauth2_jti (
    jti_hash   TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Remembered consent: the scopes a user granted a client.
CREATE TABLE oauth2_consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    scopes     JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- An authorization request waiting for the user (sign-in, consent,
-- organization choice). id_hash is the keyed hash of the random flow id in
-- the URL; browser_hash binds the flow to the browser that started it.
CREATE TABLE oauth2_flows (
    id_hash      TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    form         TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    session_id   TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    login_at     TIMESTAMPTZ,
    consent_at   TIMESTAMPTZ,
    org_id       TEXT,
    org_chosen   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX oauth2_flows_expires_at ON oauth2_flows (expires_at);
