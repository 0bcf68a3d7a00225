-- Package identity: passkeys (WebAuthn credentials) and the challenges of
-- WebAuthn ceremonies in progress.

-- credential is go-webauthn's credential record as JSON (public key,
-- signature counter, flags, transports, attestation); credential_id is
-- the authenticator's id of it, which sign-in looks up.
CREATE TABLE webauthn_credentials (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BYTEA NOT NULL UNIQUE,
    credential    JSONB NOT NULL,
    name          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
--bun:split
CREATE INDEX webauthn_credentials_user_id ON webauthn_credentials (user_id, created_at);
--bun:split
-- A registration or sign-in ceremony between its options and the
-- authenticator's answer: go-webauthn's session data (the challenge),
-- bound to the browser, used once.
CREATE TABLE webauthn_challenges (
    id_hash      TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in')),
    user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
    binding_hash TEXT NOT NULL,
    session      JSONB NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
