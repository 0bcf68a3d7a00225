-- One row that names this orgid installation (webhook envelopes carry it as
-- instance_id) and records when its database was created.
CREATE TABLE instance (
    id         TEXT PRIMARY KEY,
    singleton  INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
    created_at TIMESTAMPTZ NOT NULL
);
