-- Roles and permissions of organization members (package rbac). Definitions
-- are instance-wide, as in Clerk: every organization uses the same roles.
-- System rows (system = 1) are seeded here and cannot be deleted; their ids
-- are fixed so that every installation names them alike.
CREATE TABLE org_permissions (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    system      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

--bun:split
CREATE TABLE org_roles (
    id          TEXT PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    system      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

--bun:split
CREATE TABLE org_role_permissions (
    role_id       TEXT NOT NULL REFERENCES org_roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES org_permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
--bun:split
CREATE INDEX org_role_permissions_permission_idx ON org_role_permissions (permission_id);

--bun:split
INSERT INTO org_permissions (id, key, name, description, system, created_at, updated_at) VALUES
    ('perm_0322SbK0M0d6DFhckcS0Hm', 'org:sys_profile:manage', 'Manage organization', 'Update the organization''s name, slug, logo and metadata.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('perm_0322SbK0NwfJmwb05q9fCG', 'org:sys_profile:delete', 'Delete organization', 'Delete the organization.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('perm_0322SbK0Mr0UGmiFon1bjC', 'org:sys_memberships:read', 'Read members', 'List members and invitations.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('perm_0322SbK0M3XyP3skPIcgO9', 'org:sys_memberships:manage', 'Manage members', 'Invite, remove and change the role of members.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('perm_0322SbK0PYsxrhcdlOieo6', 'org:sys_domains:read', 'Read domains', 'List verified domains.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('perm_0322SbK0LoDRJFCPwuyig1', 'org:sys_domains:manage', 'Manage domains', 'Add, verify and remove domains and set their enrollment mode.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00');

--bun:split
INSERT INTO org_roles (id, key, name, description, system, created_at, updated_at) VALUES
    ('role_0322SbK0Obav48TKT3LzgY', 'org:owner', 'Owner', 'Full control of the organization, including its deletion.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('role_0322SbK0PfsqU6w2XGXQHe', 'org:admin', 'Admin', 'Manages the organization and its members; cannot delete it.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00'),
    ('role_0322SbK0OfSRNyRkXgVl2l', 'org:member', 'Member', 'Reads the member list.', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00');

--bun:split
-- Owner: every system permission. Admin: every one except deleting the
-- organization. Member: reading the member list (Clerk's default member).
INSERT INTO org_role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM org_roles r, org_permissions p
WHERE p.system AND (
       r.key = 'org:owner'
    OR (r.key = 'org:admin' AND p.key <> 'org:sys_profile:delete')
    OR (r.key = 'org:member' AND p.key = 'org:sys_memberships:read'));
