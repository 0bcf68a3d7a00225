package rbac

import (
	"fmt"
	"regexp"
	"strings"
)

// The system roles. Tenancy gives an organization's creator RoleOwner and
// keeps at least one owner in every organization.
const (
	RoleOwner  = "org:owner"
	RoleAdmin  = "org:admin"
	RoleMember = "org:member"
)

// The system permissions. They guard an organization's own management and
// are checked on the server only; they never appear in tokens.
const (
	PermProfileManage     = "org:sys_profile:manage"
	PermProfileDelete     = "org:sys_profile:delete"
	PermMembershipsRead   = "org:sys_memberships:read"
	PermMembershipsManage = "org:sys_memberships:manage"
	PermDomainsRead       = "org:sys_domains:read"
	PermDomainsManage     = "org:sys_domains:manage"
)

// SystemPermissions lists every system permission.
func SystemPermissions() []string {
	return []string{PermProfileManage, PermProfileDelete, PermMembershipsRead, PermMembershipsManage, PermDomainsRead, PermDomainsManage}
}

// maxKeyLen bounds role and permission keys; they travel in every token.
const maxKeyLen = 100

var (
	// A segment: a lowercase letter, then lowercase letters, digits and
	// underscores. No colons, so keys split unambiguously.
	roleKeyRE       = regexp.MustCompile(`^org:[a-z][a-z0-9_]*$`)
	permissionKeyRE = regexp.MustCompile(`^org:([a-z][a-z0-9_]*):([a-z][a-z0-9_]*)$`)
)

// IsSystemPermission reports whether key names a permission in the reserved
// sys_ namespace. Such permissions are never put into tokens.
func IsSystemPermission(key string) bool {
	return strings.HasPrefix(key, "org:sys_")
}

// ValidateRoleKey checks a custom role key: "org:" and a lowercase name.
func ValidateRoleKey(key string) error {
	if len(key) > maxKeyLen || !roleKeyRE.MatchString(key) {
		return fmt.Errorf("%w: role key %q must look like org:<name> (lowercase letters, digits, underscores; at most %d characters)", ErrInvalid, key, maxKeyLen)
	}
	return nil
}

// ValidatePermissionKey checks a custom permission key:
// org:<feature>:<action>, where the feature does not start with "sys_".
func ValidatePermissionKey(key string) error {
	m := permissionKeyRE.FindStringSubmatch(key)
	if len(key) > maxKeyLen || m == nil {
		return fmt.Errorf("%w: permission key %q must look like org:<feature>:<action> (lowercase letters, digits, underscores; at most %d characters)", ErrInvalid, key, maxKeyLen)
	}
	if strings.HasPrefix(m[1], "sys_") {
		return fmt.Errorf("%w: permission key %q: the sys_ prefix is reserved for system permissions", ErrInvalid, key)
	}
	return nil
}
