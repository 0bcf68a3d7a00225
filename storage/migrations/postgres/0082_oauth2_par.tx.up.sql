-- Package oidc: pushed authorization requests (RFC 9126).
--
-- A pushed request is kept under a keyed hash of its request_uri, with the
-- parameters it was validated with. It may start an authorization until
-- expires_at; an authorization that started from it carries its hash in
-- its flow (par_hash) through sign-in, consent and the organization
-- chooser, and used_at is set, once, in the transaction that issues the
-- authorization code.
CREATE TABLE oauth2_par_requests (
    uri_hash   TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oauth2_clients (id) ON DELETE CASCADE,
    form       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
--bun:split
CREATE INDEX oauth2_par_requests_expires_at ON oauth2_par_requests (expires_at);
--bun:split
ALTER TABLE oauth2_flows ADD COLUMN par_hash TEXT;
