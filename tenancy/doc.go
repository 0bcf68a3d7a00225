// Package tenancy owns organizations and who belongs to them: the
// organizations themselves (name, unique slug, image, metadata, member
// limit), their memberships (one role each), invitations by email, and
// verified email domains with automatic invitations or suggestions. It also
// answers the questions the OIDC layer asks on every token: is this user a
// member of that organization, with which role and which permissions.
//
// Boundaries:
//
//   - Roles and permissions are package rbac's; a membership stores a role
//     key, and every authorization decision goes through rbac.Grants.Has,
//     computed from the membership's role at the moment of the check.
//     Management methods take an Actor: an operator (CLI, management API)
//     may do anything; a user needs a permission in that organization —
//     never a role name. Someone who is not a member of an organization
//     gets storage.ErrNotFound for everything in it, never ErrForbidden, so
//     that its existence does not leak.
//   - Users and sessions are package identity's; tenancy reads users
//     through the Users interface and clears deleted organizations from
//     sessions through Sessions (both satisfied by *identity.Service).
//   - Mail goes through a mail.Mailer, webhook events through Events in the
//     same transaction as the change.
//
// Invariants kept inside one transaction, with the organization's row
// locked on PostgreSQL (SQLite runs one write transaction at a time):
// an organization always keeps at least one org:owner (the last one can be
// neither removed, demoted, nor leave); max_allowed_memberships (0 means
// unlimited) bounds members on add and accept, and members plus pending
// invitations on invite; an invitation is accepted at most once.
//
// Members cannot hand out or take away more than they hold: a user actor
// may only assign, change or remove a role whose permissions are a subset
// of their own (so an admin cannot promote anyone, themselves included, to
// owner, nor remove an owner).
package tenancy
