package rbac

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// Role is one role definition with its permissions.
type Role struct {
	ID          string
	Key         string // org:<name>
	Name        string
	Description string
	// System roles (owner, admin, member) are seeded and cannot be deleted.
	System      bool
	Permissions []*Permission // sorted by key
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// PermissionKeys returns the keys of r's permissions, sorted.
func (r *Role) PermissionKeys() []string {
	out := make([]string, len(r.Permissions))
	for i, p := range r.Permissions {
		out[i] = p.Key
	}
	return out
}

// Grants returns what r allows.
func (r *Role) Grants() Grants { return NewGrants(r.Key, r.PermissionKeys()) }

type roleRow struct {
	bun.BaseModel `bun:"table:org_roles"`
	ID            string    `bun:"id,pk"`
	Key           string    `bun:"key"`
	Name          string    `bun:"name"`
	Description   string    `bun:"description"`
	System        bool      `bun:"system"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

func (r *roleRow) role(perms []*Permission) *Role {
	if perms == nil {
		perms = []*Permission{}
	}
	return &Role{ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description, System: r.System,
		Permissions: perms, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type rolePermissionRow struct {
	bun.BaseModel `bun:"table:org_role_permissions"`
	RoleID        string `bun:"role_id,pk"`
	PermissionID  string `bun:"permission_id,pk"`
}

// NewRole is the input of CreateRole.
type NewRole struct {
	Key         string // required, org:<name>
	Name        string // required
	Description string
	Permissions []string // permission keys (or ids) granted at creation
}

// RoleUpdate changes the fields that are not nil. A role's key never
// changes: memberships and tokens refer to it.
type RoleUpdate struct {
	Name        *string
	Description *string
}

// CreateRole defines a custom role with its initial permissions and emits
// role.created.
func (s *Service) CreateRole(ctx context.Context, in NewRole) (*Role, error) {
	if err := ValidateRoleKey(in.Key); err != nil {
		return nil, err
	}
	if err := validateName("role", in.Name); err != nil {
		return nil, err
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	now := s.timestamp()
	row := &roleRow{ID: id.NewAt("role", now), Key: in.Key, Name: strings.TrimSpace(in.Name),
		Description: in.Description, CreatedAt: now, UpdatedAt: now}
	var out *Role
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("create role %q: key taken: %w", in.Key, storage.ErrConflict)
			}
			return fmt.Errorf("create role %q: %w", in.Key, err)
		}
		for _, p := range in.Permissions {
			perm, err := s.loadPermission(ctx, p)
			if err != nil {
				return fmt.Errorf("create role %q: %w", in.Key, err)
			}
			if _, err := s.conn(ctx).NewInsert().Model(&rolePermissionRow{RoleID: row.ID, PermissionID: perm.ID}).
				On("CONFLICT (role_id, permission_id) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("create role %q: grant %q: %w", in.Key, perm.Key, err)
			}
		}
		var err error
		if out, err = s.getRole(ctx, row.ID, false); err != nil {
			return err
		}
		return s.emit(ctx, "role.created", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) loadRole(ctx context.Context, ref string, lock bool) (*roleRow, error) {
	row := new(roleRow)
	q := whereKeyOrID(s.conn(ctx).NewSelect().Model(row), "", "role", ref)
	if lock && storage.IsPostgres(s.db) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load role %q", ref))
	}
	return row, nil
}

func (s *Service) rolePermissions(ctx context.Context, roleIDs ...string) (map[string][]*Permission, error) {
	var rows []struct {
		RoleID string `bun:"role_id"`
		permissionRow
	}
	if len(roleIDs) == 0 {
		return map[string][]*Permission{}, nil
	}
	err := s.conn(ctx).NewSelect().
		ColumnExpr("rp.role_id").
		ColumnExpr("p.id, p.key, p.name, p.description, p.system, p.created_at, p.updated_at").
		TableExpr("org_role_permissions AS rp").
		Join("JOIN org_permissions AS p ON p.id = rp.permission_id").
		Where("rp.role_id IN (?)", bun.List(roleIDs)).
		OrderExpr("p.key").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load role permissions: %w", err)
	}
	out := map[string][]*Permission{}
	for i := range rows {
		out[rows[i].RoleID] = append(out[rows[i].RoleID], rows[i].permissionRow.permission())
	}
	return out, nil
}

func (s *Service) getRole(ctx context.Context, ref string, lock bool) (*Role, error) {
	row, err := s.loadRole(ctx, ref, lock)
	if err != nil {
		return nil, err
	}
	perms, err := s.rolePermissions(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	return row.role(perms[row.ID]), nil
}

// GetRole returns a role by key or id, with its permissions.
func (s *Service) GetRole(ctx context.Context, keyOrID string) (*Role, error) {
	return s.getRole(ctx, keyOrID, false)
}

// ListRoles returns every role with its permissions: system roles first
// (owner, admin, member), then custom roles by key.
func (s *Service) ListRoles(ctx context.Context) ([]*Role, error) {
	var rows []roleRow
	if err := s.conn(ctx).NewSelect().Model(&rows).OrderExpr("system DESC, key ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	perms, err := s.rolePermissions(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]*Role, len(rows))
	for i := range rows {
		out[i] = rows[i].role(perms[rows[i].ID])
	}
	slices.SortStableFunc(out, func(a, b *Role) int { return systemRank(a.Key) - systemRank(b.Key) })
	return out, nil
}

// systemRank orders the system roles from most to least powerful.
func systemRank(key string) int {
	switch key {
	case RoleOwner:
		return 0
	case RoleAdmin:
		return 1
	case RoleMember:
		return 2
	}
	return 3
}

// UpdateRole changes a role's name or description and emits role.updated.
// System roles may be renamed too.
func (s *Service) UpdateRole(ctx context.Context, keyOrID string, in RoleUpdate) (*Role, error) {
	if in.Name != nil {
		if err := validateName("role", *in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := validateDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	var out *Role
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.loadRole(ctx, keyOrID, true)
		if err != nil {
			return err
		}
		if in.Name != nil {
			row.Name = strings.TrimSpace(*in.Name)
		}
		if in.Description != nil {
			row.Description = *in.Description
		}
		row.UpdatedAt = s.timestamp()
		if _, err := s.conn(ctx).NewUpdate().Model(row).Column("name", "description", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update role %q: %w", row.Key, err)
		}
		if out, err = s.getRole(ctx, row.ID, false); err != nil {
			return err
		}
		return s.emit(ctx, "role.updated", out.JSON())
	})
	return out, err
}

// DeleteRole deletes a custom role and emits role.deleted. A role that a
// membership or pending invitation holds cannot be deleted (ErrRoleInUse):
// reassign those members first. The role row is locked before the usage
// check, and tenancy takes a share lock on it (LockRole) when it assigns
// the role, so the two cannot interleave.
func (s *Service) DeleteRole(ctx context.Context, keyOrID string) error {
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.loadRole(ctx, keyOrID, true)
		if err != nil {
			return err
		}
		if row.System {
			return fmt.Errorf("delete role %q: %w", row.Key, ErrSystem)
		}
		if s.usage != nil {
			inUse, err := s.usage.RoleInUse(ctx, row.Key)
			if err != nil {
				return fmt.Errorf("delete role %q: %w", row.Key, err)
			}
			if inUse {
				return fmt.Errorf("delete role %q: %w", row.Key, ErrRoleInUse)
			}
		}
		if _, err := s.conn(ctx).NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete role %q: %w", row.Key, err)
		}
		return s.emit(ctx, "role.deleted", deleted{Object: "role", ID: row.ID, Deleted: true})
	})
}

// Grant gives a role a permission and emits role.updated. Granting a
// permission the role already holds changes nothing and emits nothing.
func (s *Service) Grant(ctx context.Context, roleKeyOrID, permissionKeyOrID string) error {
	return s.changeGrant(ctx, roleKeyOrID, permissionKeyOrID, true)
}

// Revoke takes a permission from a role and emits role.updated. Revoking a
// permission the role does not hold changes nothing and emits nothing.
func (s *Service) Revoke(ctx context.Context, roleKeyOrID, permissionKeyOrID string) error {
	return s.changeGrant(ctx, roleKeyOrID, permissionKeyOrID, false)
}

func (s *Service) changeGrant(ctx context.Context, roleRef, permRef string, grant bool) error {
	verb := "revoke"
	if grant {
		verb = "grant"
	}
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		role, err := s.loadRole(ctx, roleRef, true)
		if err != nil {
			return err
		}
		perm, err := s.loadPermission(ctx, permRef)
		if err != nil {
			return err
		}
		// The system roles' system permissions are what tenancy's own
		// invariants (an owner can always manage and delete) rest on.
		if role.System && perm.System {
			return fmt.Errorf("%s %q on %q: %w", verb, perm.Key, role.Key, ErrSystem)
		}
		link := &rolePermissionRow{RoleID: role.ID, PermissionID: perm.ID}
		var res sql.Result
		if grant {
			res, err = s.conn(ctx).NewInsert().Model(link).On("CONFLICT (role_id, permission_id) DO NOTHING").Exec(ctx)
		} else {
			res, err = s.conn(ctx).NewDelete().Model(link).WherePK().Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s %q on %q: %w", verb, perm.Key, role.Key, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.touchRole(ctx, role.ID)
	})
}

// touchRole bumps a role's updated_at and emits role.updated.
func (s *Service) touchRole(ctx context.Context, roleID string) error {
	if _, err := s.conn(ctx).NewUpdate().Table("org_roles").Set("updated_at = ?", s.timestamp()).
		Where("id = ?", roleID).Exec(ctx); err != nil {
		return fmt.Errorf("update role %q: %w", roleID, err)
	}
	role, err := s.getRole(ctx, roleID, false)
	if err != nil {
		return err
	}
	return s.emit(ctx, "role.updated", role.JSON())
}

// PermissionsOf returns the permission keys of a role, sorted; system
// permissions included. storage.ErrNotFound when the role does not exist.
func (s *Service) PermissionsOf(ctx context.Context, roleKey string) ([]string, error) {
	g, err := s.grants(ctx, roleKey, false)
	if err != nil {
		return nil, err
	}
	return g.Permissions(), nil
}

// Grants returns what a role allows now, in one query. Call it per request
// (or per token) instead of caching, so a change applies at once.
func (s *Service) Grants(ctx context.Context, roleKey string) (Grants, error) {
	return s.grants(ctx, roleKey, false)
}

// LockRole is Grants for a caller about to assign roleKey inside its
// transaction (ctx must carry it). On PostgreSQL it holds a share lock on
// the role row until that transaction ends, so a concurrent DeleteRole
// waits and then sees the new assignment; SQLite serialises write
// transactions anyway.
func (s *Service) LockRole(ctx context.Context, roleKey string) (Grants, error) {
	return s.grants(ctx, roleKey, true)
}

func (s *Service) grants(ctx context.Context, roleKey string, lock bool) (Grants, error) {
	var rows []struct {
		PermKey sql.NullString `bun:"perm_key"`
	}
	q := s.conn(ctx).NewSelect().
		ColumnExpr("p.key AS perm_key").
		TableExpr("org_roles AS r").
		Join("LEFT JOIN org_role_permissions AS rp ON rp.role_id = r.id").
		Join("LEFT JOIN org_permissions AS p ON p.id = rp.permission_id").
		Where("r.key = ?", roleKey)
	if lock && storage.IsPostgres(s.db) {
		q = q.For("SHARE OF r")
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return Grants{}, fmt.Errorf("load grants of role %q: %w", roleKey, err)
	}
	if len(rows) == 0 {
		return Grants{}, fmt.Errorf("load grants of role %q: %w", roleKey, storage.ErrNotFound)
	}
	perms := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.PermKey.Valid {
			perms = append(perms, r.PermKey.String)
		}
	}
	return NewGrants(roleKey, perms), nil
}

// PermissionsByRole returns every role's permission keys (sorted), keyed by
// role key, in one query; for listing many memberships at once.
func (s *Service) PermissionsByRole(ctx context.Context) (map[string][]string, error) {
	var rows []struct {
		RoleKey string         `bun:"role_key"`
		PermKey sql.NullString `bun:"perm_key"`
	}
	err := s.conn(ctx).NewSelect().
		ColumnExpr("r.key AS role_key, p.key AS perm_key").
		TableExpr("org_roles AS r").
		Join("LEFT JOIN org_role_permissions AS rp ON rp.role_id = r.id").
		Join("LEFT JOIN org_permissions AS p ON p.id = rp.permission_id").
		OrderExpr("r.key, p.key").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load permissions by role: %w", err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		if _, ok := out[r.RoleKey]; !ok {
			out[r.RoleKey] = []string{}
		}
		if r.PermKey.Valid {
			out[r.RoleKey] = append(out[r.RoleKey], r.PermKey.String)
		}
	}
	return out, nil
}
