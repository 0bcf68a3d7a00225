-- Management API secret keys (package api). Only a keyed hash of each
-- secret is stored (secret.Keyring.Hash); the secret is shown once, when
-- the key is created. A revoked key keeps its row so that listings show
-- who had access and until when. last_used_at is written at most once a
-- minute per key.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
