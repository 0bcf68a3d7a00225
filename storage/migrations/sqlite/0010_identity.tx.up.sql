-- Package identity: users, browser sessions and sign-in throttling.
-- Other packages reference users(id) with ON DELETE CASCADE.

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    -- email as entered; email_normalized (trimmed, lowercased) is what
    -- sign-in and uniqueness compare.
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    email_verified   INTEGER NOT NULL DEFAULT 0,
    -- PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash); NULL: no password.
    password_hash    TEXT,
    first_name       TEXT NOT NULL DEFAULT '',
    last_name        TEXT NOT NULL DEFAULT '',
    -- normalized (lowercased); NULL when the user has none.
    username         TEXT UNIQUE,
    image_url        TEXT NOT NULL DEFAULT '',
    external_id      TEXT,
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata  TEXT NOT NULL DEFAULT '{}',
    -- the remaining OpenID Connect standard claims, keyed by claim name.
    profile          TEXT NOT NULL DEFAULT '{}',
    banned           INTEGER NOT NULL DEFAULT 0,
    locked_until     TEXT,
    last_sign_in_at  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE INDEX users_created_at ON users (created_at, id);
CREATE INDEX users_external_id ON users (external_id) WHERE external_id IS NOT NULL;

-- A browser session. id is public (the sid claim); the cookie carries a
-- separate random token of which only a keyed hash is stored.
CREATE TABLE sessions (
    id                     TEXT PRIMARY KEY,
    token_hash             TEXT NOT NULL UNIQUE,
    user_id                TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time              TEXT NOT NULL,
    amr                    TEXT NOT NULL DEFAULT '[]',
    acr                    TEXT NOT NULL DEFAULT '',
    -- no foreign key: tenancy re-checks the membership whenever it is used.
    active_organization_id TEXT,
    status                 TEXT NOT NULL CHECK (status IN ('active', 'ended', 'revoked', 'expired')),
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL,
    last_active_at         TEXT NOT NULL,
    -- absolute end of the session; the idle timeout is applied from
    -- last_active_at in Go.
    expires_at             TEXT NOT NULL,
    ended_at               TEXT,
    end_reason             TEXT,
    user_agent             TEXT NOT NULL DEFAULT '',
    ip                     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX sessions_user_id ON sessions (user_id, created_at);
CREATE INDEX sessions_active_expiry ON sessions (expires_at) WHERE status = 'active';
CREATE INDEX sessions_active_organization ON sessions (active_organization_id) WHERE active_organization_id IS NOT NULL;

-- Failed sign-in counters shared by every replica: one fixed window per key.
-- throttle_key is "identifier:" or "ip:" followed by a keyed hash, so the
-- table holds neither email addresses nor IP addresses.
CREATE TABLE sign_in_throttle (
    throttle_key TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures     INTEGER NOT NULL
);

CREATE INDEX sign_in_throttle_window_start ON sign_in_throttle (window_start);
