-- Package oidc: the device authorization grant (RFC 8628) and the
-- database-backed rate limits of the protocol endpoints.
--
-- device_hash and user_code_hash are keyed hashes of the device code (a
-- 256-bit secret the device polls with) and of the normalised user code
-- (8 letters the user types on /device). status moves pending → approved
-- or denied when the user decides, approved → used when the device's poll
-- redeems it (a conditional update: one poll wins). grant_data is the
-- approved grant (session claims and scopes) as JSON. last_polled_at and
-- interval_seconds enforce the polling interval (slow_down).
CREATE TABLE oauth2_device_codes (
    device_hash      TEXT PRIMARY KEY,
    user_code_hash   TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    scope            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    interval_seconds INTEGER NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    last_polled_at   TIMESTAMPTZ,
    decided_at       TIMESTAMPTZ,
    session_id       TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    grant_data       TEXT
);
--bun:split
CREATE INDEX oauth2_device_codes_expires_at ON oauth2_device_codes (expires_at);
--bun:split
-- The device authorization a flow on /device approves.
ALTER TABLE oauth2_flows ADD COLUMN device_hash TEXT REFERENCES oauth2_device_codes (device_hash) ON DELETE CASCADE;

--bun:split
-- Fixed-window counters shared by every replica: limit_key is a purpose
-- prefix and a keyed hash of what is counted (a client address), hits the
-- uses in the window that started at window_start.
CREATE TABLE oauth2_rate_limits (
    limit_key    TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    hits         INTEGER NOT NULL
);
--bun:split
CREATE INDEX oauth2_rate_limits_window_start ON oauth2_rate_limits (window_start);
