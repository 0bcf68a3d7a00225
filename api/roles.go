package api

import (
	"context"
	"fmt"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

type createRoleRequest struct {
	Key         string   `json:"key" required:"true" doc:"org:<name>: lowercase letters, digits and underscores."`
	Name        string   `json:"name" required:"true"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions" doc:"Permission ids or keys granted at creation."`
}

type updateRoleRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

type createPermissionRequest struct {
	Key         string `json:"key" required:"true" doc:"org:<feature>:<action>; features starting with sys_ are reserved."`
	Name        string `json:"name" doc:"Defaults to the key."`
	Description string `json:"description"`
}

type updatePermissionRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (h *Handler) listRoles(c *call) (any, error) {
	roles, err := h.d.RBAC.ListRoles(c.ctx)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(roles, (*rbac.Role).JSON), c), nil
}

func (h *Handler) createRole(c *call) (any, error) {
	req := bodyOf[createRoleRequest](c)
	// Unknown permissions are a refused parameter, not a missing resource.
	for _, p := range req.Permissions {
		if _, err := h.d.RBAC.GetPermission(c.ctx, p); err != nil {
			if isNotFound(err) {
				return nil, errRefused("permissions", fmt.Sprintf("No permission has the id or key %q.", p))
			}
			return nil, err
		}
	}
	r, err := h.d.RBAC.CreateRole(c.ctx, rbac.NewRole{Key: req.Key, Name: req.Name, Description: req.Description, Permissions: req.Permissions})
	if err != nil {
		return nil, err
	}
	return r.JSON(), nil
}

func (h *Handler) getRole(c *call) (any, error) {
	return roleResult(h.d.RBAC.GetRole(c.ctx, c.path("role_id")))
}

func (h *Handler) updateRole(c *call) (any, error) {
	req := bodyOf[updateRoleRequest](c)
	return roleResult(h.d.RBAC.UpdateRole(c.ctx, c.path("role_id"), rbac.RoleUpdate{Name: req.Name, Description: req.Description}))
}

func (h *Handler) deleteRole(c *call) (any, error) {
	var roleID string
	err := storage.InTx(c.ctx, h.d.DB, func(ctx context.Context) error {
		r, err := h.d.RBAC.GetRole(ctx, c.path("role_id"))
		if err != nil {
			return err
		}
		roleID = r.ID
		return h.d.RBAC.DeleteRole(ctx, r.ID)
	})
	if err != nil {
		return nil, err
	}
	return deleted("role", roleID), nil
}

func (h *Handler) grantPermission(c *call) (any, error) {
	return h.changeGrant(c, h.d.RBAC.Grant)
}

func (h *Handler) revokePermission(c *call) (any, error) {
	return h.changeGrant(c, h.d.RBAC.Revoke)
}

func (h *Handler) changeGrant(c *call, change func(ctx context.Context, role, permission string) error) (any, error) {
	var out *rbac.Role
	err := storage.InTx(c.ctx, h.d.DB, func(ctx context.Context) error {
		if err := change(ctx, c.path("role_id"), c.path("permission_id")); err != nil {
			return err
		}
		var err error
		out, err = h.d.RBAC.GetRole(ctx, c.path("role_id"))
		return err
	})
	return roleResult(out, err)
}

func roleResult(r *rbac.Role, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return r.JSON(), nil
}

func (h *Handler) listPermissions(c *call) (any, error) {
	perms, err := h.d.RBAC.ListPermissions(c.ctx)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(perms, (*rbac.Permission).JSON), c), nil
}

func (h *Handler) createPermission(c *call) (any, error) {
	req := bodyOf[createPermissionRequest](c)
	return permissionResult(h.d.RBAC.CreatePermission(c.ctx, rbac.NewPermission{Key: req.Key, Name: req.Name, Description: req.Description}))
}

func (h *Handler) getPermission(c *call) (any, error) {
	return permissionResult(h.d.RBAC.GetPermission(c.ctx, c.path("permission_id")))
}

func (h *Handler) updatePermission(c *call) (any, error) {
	req := bodyOf[updatePermissionRequest](c)
	return permissionResult(h.d.RBAC.UpdatePermission(c.ctx, c.path("permission_id"), rbac.PermissionUpdate{Name: req.Name, Description: req.Description}))
}

func (h *Handler) deletePermission(c *call) (any, error) {
	var permID string
	err := storage.InTx(c.ctx, h.d.DB, func(ctx context.Context) error {
		p, err := h.d.RBAC.GetPermission(ctx, c.path("permission_id"))
		if err != nil {
			return err
		}
		permID = p.ID
		return h.d.RBAC.DeletePermission(ctx, p.ID)
	})
	if err != nil {
		return nil, err
	}
	return deleted("permission", permID), nil
}

func permissionResult(p *rbac.Permission, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return p.JSON(), nil
}
