-- Signing keys of the OpenID provider (package oidc/keys). A key is born
-- "next" (published in the JWKS, not yet signing), becomes "active" (signs)
-- at the following rotation, then "retired" (verifies, still published until
-- publish_until, when every token it signed has expired). The private key is
-- PKCS#8 DER sealed with the keyring (AES-GCM, aad "signing-key:" || kid);
-- public_jwk is informational, the served JWKS is derived from the decrypted
-- key. Times are written from Go in UTC. Every statement is idempotent
-- because the file does not run in one transaction.
CREATE TABLE IF NOT EXISTS signing_keys (
    kid           TEXT PRIMARY KEY,
    algorithm     TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    private_key   BYTEA NOT NULL,
    public_jwk    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    activated_at  TIMESTAMPTZ,
    retired_at    TIMESTAMPTZ,
    publish_until TIMESTAMPTZ,
    CHECK (state <> 'retired' OR publish_until IS NOT NULL)
);

--bun:split

-- At most one active and one next key per algorithm: replicas that start or
-- rotate at the same time collide here instead of ending with two.
CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_active ON signing_keys (algorithm) WHERE state = 'active';

--bun:split

CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_next ON signing_keys (algorithm) WHERE state = 'next';

--bun:split

CREATE INDEX IF NOT EXISTS signing_keys_publish_until ON signing_keys (publish_until) WHERE state = 'retired';
