// Package rbac owns the roles and permissions of organization members and
// the one function that evaluates them, Grants.Has.
//
// Definitions are instance-wide, as in Clerk: every organization uses the
// same roles. The system roles org:owner, org:admin and org:member and the
// system permissions org:sys_profile:manage|delete,
// org:sys_memberships:read|manage and org:sys_domains:read|manage are seeded
// by migration 0050 and cannot be deleted. The system roles hold these
// system permissions:
//
//	org:owner   all six
//	org:admin   all but org:sys_profile:delete (only owners delete an organization)
//	org:member  org:sys_memberships:read
//
// Clerk's default admin holds every system permission; orgid adds an owner
// role above it, the role an organization's creator receives, so that one
// admin cannot delete the organization. The system permissions of system
// roles are fixed; custom permissions may be granted to any role, and system
// permissions to custom roles.
//
// Custom roles are named org:<name> and custom permissions
// org:<feature>:<action>; features starting with "sys_" are reserved.
//
// Grants is computed from a membership's role at the moment of the check
// (Service.Grants, one indexed query) and never cached, so a grant, a revoke
// or a role change takes effect on the next check and the next token. System
// permissions are checked on the server only; tokens carry a role's custom
// permissions (Grants.CustomPermissions) as org_permissions, as Clerk does.
//
// The package knows nothing of organizations or memberships: package
// tenancy stores which user holds which role in which organization and
// tells rbac, through RoleUsage, whether a role is still in use.
package rbac
