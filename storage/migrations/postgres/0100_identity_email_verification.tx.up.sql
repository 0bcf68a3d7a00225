-- Package identity: emailed codes and links.

-- A 6-digit code mailed to verify an address: of a sign-up that becomes a
-- user only when the code is entered (purpose sign_up, no user yet), or of
-- a signed-in user's unverified address (verify_email). id_hash is the
-- keyed hash of the handle the browser carries; binding_hash the keyed hash
-- of the browser that started it; code_hash a keyed hash of the code.
CREATE TABLE email_verifications (
    id_hash          TEXT PRIMARY KEY,
    purpose          TEXT NOT NULL CHECK (purpose IN ('sign_up', 'verify_email')),
    user_id          TEXT REFERENCES users (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    -- a sign-up for an address that already has an account: no code
    -- completes it (the owner is mailed a notice instead of a code).
    account_exists   BOOLEAN NOT NULL DEFAULT FALSE,
    -- a pending sign-up's names and argon2id password hash (JSON).
    sign_up          JSONB NOT NULL DEFAULT '{}',
    code_hash        TEXT NOT NULL,
    binding_hash     TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    sent_at          TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX email_verifications_expires_at ON email_verifications (expires_at);
--bun:split
CREATE INDEX email_verifications_user_id ON email_verifications (user_id) WHERE user_id IS NOT NULL;
--bun:split
-- A single-use link mailed to a user: a password reset or a magic sign-in
-- link. Only the keyed hash of its 256-bit token is stored; a magic link
-- is bound to the browser that asked for it (binding_hash).
CREATE TABLE email_links (
    token_hash   TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL CHECK (purpose IN ('password_reset', 'magic_link')),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    binding_hash TEXT NOT NULL DEFAULT '',
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX email_links_user_id ON email_links (user_id, purpose);
--bun:split
CREATE INDEX email_links_expires_at ON email_links (expires_at);
