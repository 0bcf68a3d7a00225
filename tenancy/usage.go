package tenancy

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// RoleUsage returns the rbac.RoleUsage that tells rbac whether a role is
// held by a membership or a pending invitation. It needs only the database,
// so rbac can be built before tenancy:
//
//	roles := rbac.New(db, rbac.Options{RoleUsage: tenancy.RoleUsage(db), …})
//	orgs := tenancy.New(db, tenancy.Options{RBAC: roles, …})
func RoleUsage(db *bun.DB) rbac.RoleUsage { return roleUsage{db: db} }

type roleUsage struct{ db *bun.DB }

func (u roleUsage) RoleInUse(ctx context.Context, roleKey string) (bool, error) {
	conn := storage.Conn(ctx, u.db)
	n, err := conn.NewSelect().Model((*membershipRow)(nil)).Where("role = ?", roleKey).Limit(1).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("role %q in memberships: %w", roleKey, err)
	}
	if n > 0 {
		return true, nil
	}
	// Expired pending invitations count too: they could not be accepted,
	// but their role must still resolve when they are listed.
	n, err = conn.NewSelect().Model((*invitationRow)(nil)).Where("role = ?", roleKey).Where("status = ?", InvitationPending).Limit(1).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("role %q in invitations: %w", roleKey, err)
	}
	return n > 0, nil
}
