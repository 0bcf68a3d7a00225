package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// membershipRow reads one membership without its organization.
func (s *Service) membershipRow(ctx context.Context, orgID, userID string) (*membershipRow, error) {
	row := new(membershipRow)
	err := s.conn(ctx).NewSelect().Model(row).Where("m.organization_id = ?", orgID).Where("m.user_id = ?", userID).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("membership of %q in %q", userID, orgID))
	}
	return row, nil
}

func (s *Service) countMembers(ctx context.Context, orgID string) (int, error) {
	n, err := s.conn(ctx).NewSelect().Model((*membershipRow)(nil)).Where("organization_id = ?", orgID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count members of %q: %w", orgID, err)
	}
	return int(n), nil
}

func (s *Service) countOwners(ctx context.Context, orgID string) (int, error) {
	n, err := s.conn(ctx).NewSelect().Model((*membershipRow)(nil)).
		Where("organization_id = ?", orgID).Where("role = ?", rbac.RoleOwner).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count owners of %q: %w", orgID, err)
	}
	return int(n), nil
}

// checkMemberLimit fails when adding extra more seats would exceed the
// organization's limit. The caller holds the organization's lock.
func (s *Service) checkMemberLimit(ctx context.Context, org *orgRow, countPending bool) error {
	if org.MaxAllowedMemberships == 0 {
		return nil
	}
	n, err := s.countMembers(ctx, org.ID)
	if err != nil {
		return err
	}
	if countPending {
		p, err := s.conn(ctx).NewSelect().Model((*invitationRow)(nil)).Where("organization_id = ?", org.ID).
			Where("status = 'pending'").Where("expires_at > ?", s.clock()).Count(ctx)
		if err != nil {
			return fmt.Errorf("count pending invitations of %q: %w", org.ID, err)
		}
		n += int(p)
	}
	if n >= org.MaxAllowedMemberships {
		return fmt.Errorf("organization %q has %d of %d seats taken: %w", org.ID, n, org.MaxAllowedMemberships, ErrMembershipLimit)
	}
	return nil
}

// insertMembership adds userID to org (locked by the caller) with role,
// checking the member limit unless skipLimit (the creator of a new
// organization), and emits organizationMembership.created.
func (s *Service) insertMembership(ctx context.Context, org *orgRow, userID, role string, skipLimit bool) (*Membership, error) {
	if _, err := s.membershipRow(ctx, org.ID, userID); err == nil {
		return nil, fmt.Errorf("add %q to %q: %w", userID, org.ID, ErrAlreadyMember)
	}
	if !skipLimit {
		if err := s.checkMemberLimit(ctx, org, false); err != nil {
			return nil, err
		}
	}
	if _, err := s.lockRole(ctx, role); err != nil {
		return nil, err
	}
	user, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("add user %q: %w", userID, err)
	}
	now := s.clock()
	row := &membershipRow{ID: id.NewAt("orgmem", now), OrganizationID: org.ID, UserID: userID, Role: role,
		PublicMetadata: "{}", PrivateMetadata: "{}", CreatedAt: now, UpdatedAt: now}
	if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
		if storage.IsUniqueViolation(err) {
			return nil, fmt.Errorf("add %q to %q: %w", userID, org.ID, ErrAlreadyMember)
		}
		return nil, fmt.Errorf("add %q to %q: %w", userID, org.ID, err)
	}
	m := row.membership(org.organization())
	if err := s.describe(ctx, []*Membership{m}, map[string]*identity.User{userID: user}); err != nil {
		return nil, err
	}
	if err := s.emit(ctx, "organizationMembership.created", m.JSON()); err != nil {
		return nil, err
	}
	return m, nil
}

// describe fills RoleName, Permissions and PublicUserData of ms: one query
// for the roles and one for the users not in known.
func (s *Service) describe(ctx context.Context, ms []*Membership, known map[string]*identity.User) error {
	if len(ms) == 0 {
		return nil
	}
	roles, err := s.rbac.ListRoles(ctx)
	if err != nil {
		return err
	}
	byKey := map[string]*rbac.Role{}
	for _, r := range roles {
		byKey[r.Key] = r
	}
	users := map[string]*identity.User{}
	var missing []string
	for _, m := range ms {
		if u := known[m.UserID]; u != nil {
			users[m.UserID] = u
		} else {
			missing = append(missing, m.UserID)
		}
	}
	if len(missing) > 0 {
		found, _, err := s.users.ListUsers(ctx, identity.ListUsersParams{UserID: missing, Limit: len(missing)})
		if err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		for _, u := range found {
			users[u.ID] = u
		}
	}
	for _, m := range ms {
		if r := byKey[m.Role]; r != nil {
			m.RoleName, m.Permissions = r.Name, r.PermissionKeys()
		} else {
			m.Permissions = []string{}
		}
		if u := users[m.UserID]; u != nil {
			m.PublicUserData = &PublicUserData{UserID: u.ID, Identifier: u.Email, FirstName: u.FirstName, LastName: u.LastName, ImageURL: u.ImageURL}
		}
	}
	return nil
}

// AddMembership makes a user a member of an organization with role and
// emits organizationMembership.created. A user actor needs
// org:sys_memberships:manage and every permission of role.
func (s *Service) AddMembership(ctx context.Context, actor Actor, orgRef, userID, role string) (*Membership, error) {
	var out *Membership
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermMembershipsManage)
		if err != nil {
			return err
		}
		if err := s.mayAssign(ctx, a, role); err != nil {
			return err
		}
		out, err = s.insertMembership(ctx, a.org, userID, role, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockRole returns a role's grants and keeps it from being deleted until
// the caller's transaction ends (rbac.LockRole). An unknown role is
// ErrInvalid.
func (s *Service) lockRole(ctx context.Context, role string) (rbac.Grants, error) {
	g, err := s.rbac.LockRole(ctx, role)
	if errors.Is(err, storage.ErrNotFound) {
		return rbac.Grants{}, fmt.Errorf("%w: role %q does not exist", ErrInvalid, role)
	}
	return g, err
}

// mayAssign checks that the actor holds every permission of role, so that
// nobody hands out or takes away more than they have. An unknown role is
// ErrInvalid.
func (s *Service) mayAssign(ctx context.Context, a access, role string) error {
	g, err := s.lockRole(ctx, role)
	if err != nil {
		return err
	}
	if !a.covers(g) {
		return fmt.Errorf("assign role %q: it holds permissions you do not: %w", role, ErrForbidden)
	}
	return nil
}

// SetMembershipRole changes a member's role and emits
// organizationMembership.updated. A user actor needs
// org:sys_memberships:manage and every permission of both the old and the
// new role. The last owner cannot be demoted (ErrLastOwner).
func (s *Service) SetMembershipRole(ctx context.Context, actor Actor, orgRef, userID, role string) (*Membership, error) {
	var out *Membership
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermMembershipsManage)
		if err != nil {
			return err
		}
		row, err := s.membershipRow(ctx, a.org.ID, userID)
		if err != nil {
			return err
		}
		if err := s.mayAssign(ctx, a, row.Role); err != nil {
			return err
		}
		if err := s.mayAssign(ctx, a, role); err != nil {
			return err
		}
		if row.Role == role {
			out = row.membership(a.org.organization())
			return s.describe(ctx, []*Membership{out}, nil)
		}
		if err := s.keepAnOwner(ctx, a.org.ID, row); err != nil {
			return err
		}
		row.Role, row.UpdatedAt = role, s.clock()
		if _, err := s.conn(ctx).NewUpdate().Model(row).Column("role", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("set role of %q in %q: %w", userID, a.org.ID, err)
		}
		out = row.membership(a.org.organization())
		if err := s.describe(ctx, []*Membership{out}, nil); err != nil {
			return err
		}
		return s.emit(ctx, "organizationMembership.updated", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// keepAnOwner fails when row is an owner and the organization has no
// other. The caller holds the organization's lock, so two concurrent
// changes to its owners cannot both see two owners.
func (s *Service) keepAnOwner(ctx context.Context, orgID string, row *membershipRow) error {
	if row.Role != rbac.RoleOwner {
		return nil
	}
	n, err := s.countOwners(ctx, orgID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return fmt.Errorf("organization %q: %w", orgID, ErrLastOwner)
	}
	return nil
}

// UpdateMembershipMetadata replaces the metadata objects that are non-nil
// and emits organizationMembership.updated. Operator only, as in Clerk's
// Backend API.
func (s *Service) UpdateMembershipMetadata(ctx context.Context, actor Actor, orgRef, userID string, public, private map[string]any) (*Membership, error) {
	var out *Membership
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermMembershipsManage)
		if err != nil {
			return err
		}
		if !actor.operator {
			return fmt.Errorf("update membership metadata: %w (operator only)", ErrForbidden)
		}
		row, err := s.membershipRow(ctx, a.org.ID, userID)
		if err != nil {
			return err
		}
		if public != nil {
			if row.PublicMetadata, err = encodeMetadata("public_metadata", public); err != nil {
				return err
			}
		}
		if private != nil {
			if row.PrivateMetadata, err = encodeMetadata("private_metadata", private); err != nil {
				return err
			}
		}
		row.UpdatedAt = s.clock()
		if _, err := s.conn(ctx).NewUpdate().Model(row).Column("public_metadata", "private_metadata", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update membership of %q in %q: %w", userID, a.org.ID, err)
		}
		out = row.membership(a.org.organization())
		if err := s.describe(ctx, []*Membership{out}, nil); err != nil {
			return err
		}
		return s.emit(ctx, "organizationMembership.updated", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveMembership ends a membership and emits
// organizationMembership.deleted. Users may always leave; removing someone
// else needs org:sys_memberships:manage and every permission of their role.
// The last owner can be neither removed nor leave (ErrLastOwner).
func (s *Service) RemoveMembership(ctx context.Context, actor Actor, orgRef, userID string) error {
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		leaving := !actor.operator && actor.userID == userID
		perm := rbac.PermMembershipsManage
		if leaving {
			perm = ""
		}
		a, err := s.authorize(ctx, actor, orgRef, perm)
		if err != nil {
			return err
		}
		row, err := s.membershipRow(ctx, a.org.ID, userID)
		if err != nil {
			return err
		}
		if !leaving {
			if err := s.mayAssign(ctx, a, row.Role); err != nil {
				return err
			}
		}
		if err := s.keepAnOwner(ctx, a.org.ID, row); err != nil {
			return err
		}
		if _, err := s.conn(ctx).NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("remove %q from %q: %w", userID, a.org.ID, err)
		}
		return s.emit(ctx, "organizationMembership.deleted", deletedJSON{Object: "organization_membership", ID: row.ID, Deleted: true})
	})
}

// ListMemberships returns one page of an organization's members, oldest
// first, with roles, permissions and public user data, and the total. A
// user needs org:sys_memberships:read.
func (s *Service) ListMemberships(ctx context.Context, actor Actor, orgRef string, p ListParams) ([]*Membership, int, error) {
	a, err := s.authorizeRead(ctx, actor, orgRef, rbac.PermMembershipsRead)
	if err != nil {
		return nil, 0, err
	}
	var rows []membershipRow
	limit, offset := p.limits()
	total, err := s.conn(ctx).NewSelect().Model(&rows).Where("m.organization_id = ?", a.org.ID).
		OrderExpr("m.created_at ASC, m.id ASC").Limit(limit).Offset(offset).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list members of %q: %w", a.org.ID, err)
	}
	org := a.org.organization()
	out := make([]*Membership, len(rows))
	for i := range rows {
		out[i] = rows[i].membership(org)
	}
	if err := s.describe(ctx, out, nil); err != nil {
		return nil, 0, err
	}
	return out, int(total), nil
}
