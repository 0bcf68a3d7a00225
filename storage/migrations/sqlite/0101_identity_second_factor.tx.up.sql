-- Package identity: second factors (TOTP and recovery codes) and sign-ins
-- waiting for one.

-- Kept in step with user_totp in the same transaction, so that reading a
-- user (and the two_factor_enabled of its JSON) needs no join.
ALTER TABLE users ADD COLUMN two_factor_enabled INTEGER NOT NULL DEFAULT 0;
--bun:split
-- A user's TOTP authenticator (RFC 6238). The secret must be known to
-- check a code, so it is sealed with the keyring (AES-GCM, the user id as
-- associated data) rather than hashed. confirmed_at is NULL while the user
-- is enrolling; last_used_step is the 30-second step of the last accepted
-- code, so that no code is accepted twice.
CREATE TABLE user_totp (
    user_id        TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret         BLOB NOT NULL,
    confirmed_at   TEXT,
    last_used_step INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
--bun:split
-- Single-use recovery codes, as keyed hashes bound to the user.
CREATE TABLE user_recovery_codes (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    used_at    TEXT,
    created_at TEXT NOT NULL
);
--bun:split
CREATE INDEX user_recovery_codes_user_id ON user_recovery_codes (user_id);
--bun:split
-- A sign-in whose first factor succeeded and that waits for the second,
-- bound to the browser; no session exists until the second factor is
-- checked. amr is the first factor's methods (JSON array).
CREATE TABLE pending_sign_ins (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    binding_hash TEXT NOT NULL,
    amr          TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    expires_at   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
--bun:split
CREATE INDEX pending_sign_ins_expires_at ON pending_sign_ins (expires_at);
