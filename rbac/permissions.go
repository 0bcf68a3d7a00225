package rbac

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// Permission is one permission definition.
type Permission struct {
	ID          string
	Key         string // org:<feature>:<action>
	Name        string
	Description string
	// System permissions (the sys_ namespace) are seeded and immutable.
	System    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

type permissionRow struct {
	bun.BaseModel `bun:"table:org_permissions"`
	ID            string    `bun:"id,pk"`
	Key           string    `bun:"key"`
	Name          string    `bun:"name"`
	Description   string    `bun:"description"`
	System        bool      `bun:"system"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

func (r *permissionRow) permission() *Permission {
	return &Permission{ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description, System: r.System,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// NewPermission is the input of CreatePermission.
type NewPermission struct {
	Key         string // required, org:<feature>:<action>
	Name        string // defaults to Key
	Description string
}

// PermissionUpdate changes the fields that are not nil.
type PermissionUpdate struct {
	Name        *string
	Description *string
}

const maxNameLen = 200

func validateName(what, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: %s name must not be empty", ErrInvalid, what)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%w: %s name is longer than %d characters", ErrInvalid, what, maxNameLen)
	}
	return nil
}

func validateDescription(d string) error {
	if len(d) > 1000 {
		return fmt.Errorf("%w: description is longer than 1000 characters", ErrInvalid)
	}
	return nil
}

// CreatePermission defines a custom permission and emits permission.created.
func (s *Service) CreatePermission(ctx context.Context, in NewPermission) (*Permission, error) {
	if err := ValidatePermissionKey(in.Key); err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = in.Key
	}
	if err := validateName("permission", in.Name); err != nil {
		return nil, err
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	now := s.timestamp()
	row := &permissionRow{ID: id.NewAt("perm", now), Key: in.Key, Name: strings.TrimSpace(in.Name),
		Description: in.Description, CreatedAt: now, UpdatedAt: now}
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("create permission %q: key taken: %w", in.Key, storage.ErrConflict)
			}
			return fmt.Errorf("create permission %q: %w", in.Key, err)
		}
		return s.emit(ctx, "permission.created", row.permission().JSON())
	})
	if err != nil {
		return nil, err
	}
	return row.permission(), nil
}

// whereKeyOrID selects a row by its id (when ref carries the id prefix) or
// by its key.
func whereKeyOrID(q *bun.SelectQuery, alias, prefix, ref string) *bun.SelectQuery {
	if id.HasPrefix(ref, prefix) {
		return q.Where(alias+"id = ?", ref)
	}
	return q.Where(alias+"key = ?", ref)
}

func (s *Service) loadPermission(ctx context.Context, ref string) (*permissionRow, error) {
	row := new(permissionRow)
	err := whereKeyOrID(s.conn(ctx).NewSelect().Model(row), "", "perm", ref).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load permission %q", ref))
	}
	return row, nil
}

// GetPermission returns a permission by key or id.
func (s *Service) GetPermission(ctx context.Context, keyOrID string) (*Permission, error) {
	row, err := s.loadPermission(ctx, keyOrID)
	if err != nil {
		return nil, err
	}
	return row.permission(), nil
}

// ListPermissions returns every permission, system ones first, then by key.
func (s *Service) ListPermissions(ctx context.Context) ([]*Permission, error) {
	var rows []permissionRow
	if err := s.conn(ctx).NewSelect().Model(&rows).OrderExpr("system DESC, key ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list permissions: %w", err)
	}
	out := make([]*Permission, len(rows))
	for i := range rows {
		out[i] = rows[i].permission()
	}
	return out, nil
}

// UpdatePermission changes a custom permission's name or description and
// emits permission.updated.
func (s *Service) UpdatePermission(ctx context.Context, keyOrID string, in PermissionUpdate) (*Permission, error) {
	if in.Name != nil {
		if err := validateName("permission", *in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := validateDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	var out *Permission
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.loadPermission(ctx, keyOrID)
		if err != nil {
			return err
		}
		if row.System {
			return fmt.Errorf("update permission %q: %w", row.Key, ErrSystem)
		}
		if in.Name != nil {
			row.Name = strings.TrimSpace(*in.Name)
		}
		if in.Description != nil {
			row.Description = *in.Description
		}
		row.UpdatedAt = s.timestamp()
		if _, err := s.conn(ctx).NewUpdate().Model(row).Column("name", "description", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update permission %q: %w", row.Key, err)
		}
		out = row.permission()
		return s.emit(ctx, "permission.updated", out.JSON())
	})
	return out, err
}

// DeletePermission deletes a custom permission, takes it away from every
// role that held it, and emits permission.deleted plus role.updated for each
// of those roles.
func (s *Service) DeletePermission(ctx context.Context, keyOrID string) error {
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.loadPermission(ctx, keyOrID)
		if err != nil {
			return err
		}
		if row.System {
			return fmt.Errorf("delete permission %q: %w", row.Key, ErrSystem)
		}
		var roleIDs []string
		if err := s.conn(ctx).NewSelect().Table("org_role_permissions").Column("role_id").
			Where("permission_id = ?", row.ID).Order("role_id").Scan(ctx, &roleIDs); err != nil {
			return fmt.Errorf("delete permission %q: find roles: %w", row.Key, err)
		}
		if _, err := s.conn(ctx).NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete permission %q: %w", row.Key, err)
		}
		if err := s.emit(ctx, "permission.deleted", deleted{Object: "permission", ID: row.ID, Deleted: true}); err != nil {
			return err
		}
		for _, rid := range roleIDs {
			if err := s.touchRole(ctx, rid); err != nil {
				return err
			}
		}
		return nil
	})
}
