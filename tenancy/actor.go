package tenancy

import (
	"context"
	"fmt"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// Actor is on whose behalf a management method runs: an operator (the CLI
// or the management API with a secret key), who may do anything, or a
// signed-in user, who needs a permission in the organization concerned. The
// zero Actor may do nothing.
type Actor struct {
	userID   string
	operator bool
}

// Operator is the actor of the CLI and the management API.
func Operator() Actor { return Actor{operator: true} }

// UserActor is a signed-in user acting for themselves.
func UserActor(userID string) Actor { return Actor{userID: userID} }

// IsOperator reports whether a is the operator.
func (a Actor) IsOperator() bool { return a.operator }

// UserID is the acting user's id; "" for the operator.
func (a Actor) UserID() string { return a.userID }

func (a Actor) String() string {
	if a.operator {
		return "operator"
	}
	return "user " + a.userID
}

// access is what an actor may do in one organization.
type access struct {
	org      *orgRow
	operator bool
	grants   rbac.Grants // the acting user's, when not the operator
}

// may reports whether the actor holds permission.
func (a access) may(permission string) bool { return a.operator || a.grants.Has(permission) }

// covers reports whether the actor may hand out or take away role grants g.
func (a access) covers(g rbac.Grants) bool { return a.operator || a.grants.Includes(g) }

// authorize locks the organization (by id or slug) for the rest of the
// caller's transaction and checks that the actor holds permission there
// ("" checks membership only). A user who is not a member gets
// storage.ErrNotFound, exactly as for an organization that does not exist.
// Every change to an organization's members goes through it, so such
// changes are serialised per organization and see each other's results.
func (s *Service) authorize(ctx context.Context, actor Actor, orgRef, permission string) (access, error) {
	return s.checkAccess(ctx, actor, orgRef, permission, true)
}

// authorizeRead is authorize without the lock, for reads.
func (s *Service) authorizeRead(ctx context.Context, actor Actor, orgRef, permission string) (access, error) {
	return s.checkAccess(ctx, actor, orgRef, permission, false)
}

func (s *Service) checkAccess(ctx context.Context, actor Actor, orgRef, permission string, lock bool) (access, error) {
	if !actor.operator && actor.userID == "" {
		return access{}, fmt.Errorf("organization %q: %w", orgRef, storage.ErrNotFound)
	}
	org, err := s.loadOrg(ctx, orgRef, lock)
	if err != nil {
		return access{}, err
	}
	a := access{org: org, operator: actor.operator}
	if actor.operator {
		return a, nil
	}
	m, err := s.membershipRow(ctx, org.ID, actor.userID)
	if err != nil {
		return access{}, fmt.Errorf("organization %q: %w", orgRef, storage.ErrNotFound)
	}
	if a.grants, err = s.rbac.Grants(ctx, m.Role); err != nil {
		return access{}, err
	}
	if permission != "" && !a.grants.Has(permission) {
		return access{}, fmt.Errorf("%s in organization %q: needs %s: %w", actor, org.ID, permission, ErrForbidden)
	}
	return a, nil
}
