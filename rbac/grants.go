package rbac

import (
	"slices"
)

// Grants is what one role allows: the ONE evaluation every authorization
// decision about an organization goes through (tenancy's management methods,
// the hosted pages, the management API, the token claims). Obtain it from
// Service.Grants at request time; the zero value allows nothing.
type Grants struct {
	role  string
	perms []string // sorted, unique
}

// NewGrants builds the grants of a role from its permission keys, for tests
// and for verifiers that read them from a token.
func NewGrants(role string, permissions []string) Grants {
	p := slices.Clone(permissions)
	slices.Sort(p)
	return Grants{role: role, perms: slices.Compact(p)}
}

// Has reports whether the role holds permission (an exact key match, as in
// Clerk's has({permission})).
func (g Grants) Has(permission string) bool {
	_, ok := slices.BinarySearch(g.perms, permission)
	return ok
}

// Role is the role key these grants were computed from ("org:admin").
func (g Grants) Role() string { return g.role }

// Permissions returns every permission key, system ones included, sorted.
func (g Grants) Permissions() []string { return slices.Clone(g.perms) }

// CustomPermissions returns the permissions that belong in tokens
// (org_permissions): every permission outside the reserved sys_ namespace,
// sorted. Never nil, so that it encodes as [] in JSON.
func (g Grants) CustomPermissions() []string {
	out := []string{}
	for _, p := range g.perms {
		if !IsSystemPermission(p) {
			out = append(out, p)
		}
	}
	return out
}

// Includes reports whether g holds every permission of other. Tenancy uses
// it to stop a member from handing out, or taking away, more rights than
// they hold themselves.
func (g Grants) Includes(other Grants) bool {
	for _, p := range other.perms {
		if !g.Has(p) {
			return false
		}
	}
	return true
}
