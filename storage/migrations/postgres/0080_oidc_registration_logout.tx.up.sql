-- Package oidc: dynamic client registration (RFC 7591/7592), the clients a
-- browser session signed in to, and durable back-channel logout.

-- secret_sealed holds the client secret of a client_secret_jwt client,
-- sealed with the keyring (aad "client-secret:" || id): the HMAC key of its
-- assertions must be known in the clear, which a keyed hash cannot give.
-- NULL for every other client. registration_token_hash is the keyed hash
-- of the RFC 7592 registration access token of a dynamically registered
-- client (NULL for clients the operator created).
ALTER TABLE oauth2_clients ADD COLUMN secret_sealed BYTEA;
--bun:split
ALTER TABLE oauth2_clients ADD COLUMN registration_token_hash TEXT;

--bun:split
-- Initial access tokens for --registration token (orgid registration-tokens
-- create). token_hash is a keyed hash; the token is shown once.
CREATE TABLE oauth2_registration_tokens (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);

--bun:split
-- The clients a browser session issued codes or tokens to, with the
-- subject each of them saw (pairwise or public): front- and back-channel
-- logout notify exactly these.
CREATE TABLE oauth2_session_clients (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
--bun:split
CREATE INDEX oauth2_session_clients_client_id ON oauth2_session_clients (client_id);

--bun:split
-- Back-channel logout notifications, written in the transaction that ends
-- the session and delivered by a worker with retries. session_id has no
-- foreign key: deleting a user deletes its sessions, and their
-- notifications must survive that. The logout token is signed at each
-- attempt (it is short-lived); url is the client's backchannel_logout_uri
-- when the session ended. A worker claims a row with lease_token until
-- lease_expires_at.
CREATE TABLE oauth2_logout_deliveries (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    session_id       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    url              TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMPTZ,
    lease_token      TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (session_id, client_id)
);
--bun:split
CREATE INDEX oauth2_logout_deliveries_due ON oauth2_logout_deliveries (status, next_attempt_at);
