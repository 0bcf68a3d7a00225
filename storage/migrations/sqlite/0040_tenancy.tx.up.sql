-- Package tenancy: organizations, their memberships, invitations and
-- verified domains. Roles are rbac's keys ("org:admin"); they carry no
-- foreign key because rbac's tables come later (0050); rbac asks tenancy
-- whether a role is in use before deleting it.
CREATE TABLE organizations (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    -- lowercase ASCII letters, digits and single dashes; never contains
    -- "_", so it cannot be mistaken for an org_ id.
    slug                    TEXT NOT NULL UNIQUE,
    image_url               TEXT NOT NULL DEFAULT '',
    public_metadata         TEXT NOT NULL DEFAULT '{}',
    private_metadata        TEXT NOT NULL DEFAULT '{}',
    -- 0: unlimited.
    max_allowed_memberships INTEGER NOT NULL DEFAULT 0 CHECK (max_allowed_memberships >= 0),
    admin_delete_enabled    INTEGER NOT NULL DEFAULT 1,
    -- the creator; the organization outlives the account.
    created_by              TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
--bun:split
CREATE INDEX organizations_created_at ON organizations (created_at, id);
--bun:split
CREATE INDEX organizations_created_by ON organizations (created_by);
--bun:split
CREATE TABLE organization_memberships (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (organization_id, user_id)
);
--bun:split
-- a user's memberships (the token and switcher path) and role usage.
CREATE INDEX organization_memberships_user ON organization_memberships (user_id);
--bun:split
CREATE INDEX organization_memberships_role ON organization_memberships (role, organization_id);
--bun:split
CREATE TABLE organization_invitations (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- as entered; email_normalized (trimmed, lowercased) is what matching
    -- compares.
    email_address    TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    role             TEXT NOT NULL,
    -- a pending row past expires_at reads as expired; creating a new
    -- invitation for the address marks it so.
    status           TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
    -- keyed hash of the single-use token in the emailed link.
    token_hash       TEXT NOT NULL UNIQUE,
    inviter_user_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    accepted_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    public_metadata  TEXT NOT NULL DEFAULT '{}',
    private_metadata TEXT NOT NULL DEFAULT '{}',
    expires_at       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
--bun:split
-- one pending invitation per address and organization.
CREATE UNIQUE INDEX organization_invitations_pending ON organization_invitations (organization_id, email_normalized) WHERE status = 'pending';
--bun:split
CREATE INDEX organization_invitations_email ON organization_invitations (email_normalized, status);
--bun:split
CREATE INDEX organization_invitations_org ON organization_invitations (organization_id, status, created_at);
--bun:split
CREATE INDEX organization_invitations_role ON organization_invitations (role, status);
--bun:split
CREATE TABLE organization_domains (
    id                        TEXT PRIMARY KEY,
    organization_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    enrollment_mode           TEXT NOT NULL CHECK (enrollment_mode IN ('manual_invitation', 'automatic_invitation', 'automatic_suggestion')),
    verified_at               TEXT,
    -- the address the verification code went to.
    affiliation_email_address TEXT,
    -- keyed hash of the pending 6-digit code; NULL when none is pending.
    code_hash                 TEXT,
    code_expires_at           TEXT,
    code_attempts             INTEGER NOT NULL DEFAULT 0,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    UNIQUE (organization_id, name)
);
--bun:split
-- a domain is verified by at most one organization.
CREATE UNIQUE INDEX organization_domains_verified ON organization_domains (name) WHERE verified_at IS NOT NULL;
