-- JWT templates (package templates): named claim sets with shortcodes and
-- the settings of tokens minted from them. claims holds the document
-- exactly as saved (TEXT, not JSONB, which would reorder keys), so that key
-- order and spacing survive a round trip.
CREATE TABLE jwt_templates (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    claims             TEXT NOT NULL,
    lifetime_seconds   INTEGER NOT NULL DEFAULT 60 CHECK (lifetime_seconds > 0),
    clock_skew_seconds INTEGER NOT NULL DEFAULT 5 CHECK (clock_skew_seconds >= 0),
    signing_algorithm  TEXT NOT NULL DEFAULT 'RS256',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
