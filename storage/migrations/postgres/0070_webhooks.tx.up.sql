-- Webhooks (package webhook): endpoints, the outbox of messages, one
-- delivery per (message, endpoint) and the log of every attempt.

-- An endpoint is a receiver URL with its signing secret. secret and
-- previous_secret hold Keyring.Seal ciphertexts (aad names the endpoint);
-- during a rotation previous_secret signs too until it expires.
-- failing_since is the start of the current run of failed attempts (NULL
-- after a success); a run that lasts five days disables the endpoint.
CREATE TABLE webhook_endpoint (
    id                         TEXT PRIMARY KEY,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    event_types                JSONB NOT NULL,
    enabled                    BOOLEAN NOT NULL,
    disabled_reason            TEXT NOT NULL,
    secret                     BYTEA NOT NULL,
    previous_secret            BYTEA,
    previous_secret_expires_at TIMESTAMPTZ,
    failing_since              TIMESTAMPTZ,
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL
);

--bun:split
-- The outbox: one row per event, written in the transaction of the change
-- that caused it. payload is the exact body that is signed and sent (TEXT,
-- not JSONB, so that its bytes never change).
CREATE TABLE webhook_message (
    id         TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX webhook_message_created_at ON webhook_message (created_at);

--bun:split
-- One delivery per message and endpoint subscribed when the event was
-- emitted. A pending delivery is due at next_attempt_at; a worker claims it
-- by setting lease_token and lease_expires_at, and another worker may claim
-- it again once the lease has expired. round_attempts counts the attempts
-- since the delivery was queued or replayed and picks the retry delay;
-- attempts counts them all.
CREATE TABLE webhook_delivery (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL REFERENCES webhook_message (id) ON DELETE CASCADE,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         INTEGER NOT NULL,
    round_attempts   INTEGER NOT NULL,
    queued_at        TIMESTAMPTZ NOT NULL,
    next_attempt_at  TIMESTAMPTZ,
    lease_token      TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_attempt_at  TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (message_id, endpoint_id)
);
--bun:split
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE status = 'pending';
--bun:split
CREATE INDEX webhook_delivery_endpoint ON webhook_delivery (endpoint_id, created_at);

--bun:split
-- Every attempt to send a delivery: what came back and when the next one
-- was scheduled (NULL when none was).
CREATE TABLE webhook_attempt (
    id              TEXT PRIMARY KEY,
    delivery_id     TEXT NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
    attempt         INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('scheduled', 'replay')),
    started_at      TIMESTAMPTZ NOT NULL,
    duration_ms     BIGINT NOT NULL,
    status_code     INTEGER NOT NULL,
    result          TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    response_body   TEXT NOT NULL,
    error           TEXT NOT NULL,
    next_attempt_at TIMESTAMPTZ
);
--bun:split
CREATE INDEX webhook_attempt_delivery ON webhook_attempt (delivery_id, attempt);
