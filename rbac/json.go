package rbac

import "slices"

// PermissionJSON is a permission in Clerk's Backend API shape.
type PermissionJSON struct {
	Object      string `json:"object"` // "permission"
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"` // "system" or "user"
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
}

// JSON returns p's API form.
func (p *Permission) JSON() PermissionJSON {
	typ := "user"
	if p.System {
		typ = "system"
	}
	return PermissionJSON{Object: "permission", ID: p.ID, Key: p.Key, Name: p.Name, Description: p.Description,
		Type: typ, CreatedAt: p.CreatedAt.UnixMilli(), UpdatedAt: p.UpdatedAt.UnixMilli()}
}

// RoleJSON is a role in Clerk's Backend API shape.
type RoleJSON struct {
	Object      string `json:"object"` // "role"
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// IsCreatorEligible: the role holds what an organization's creator
	// needs (manage and read members, delete the organization).
	IsCreatorEligible bool             `json:"is_creator_eligible"`
	Permissions       []PermissionJSON `json:"permissions"`
	CreatedAt         int64            `json:"created_at"`
	UpdatedAt         int64            `json:"updated_at"`
}

// JSON returns r's API form.
func (r *Role) JSON() RoleJSON {
	perms := make([]PermissionJSON, len(r.Permissions))
	for i, p := range r.Permissions {
		perms[i] = p.JSON()
	}
	keys := r.PermissionKeys()
	creator := true
	for _, need := range []string{PermMembershipsManage, PermMembershipsRead, PermProfileDelete} {
		creator = creator && slices.Contains(keys, need)
	}
	return RoleJSON{Object: "role", ID: r.ID, Key: r.Key, Name: r.Name, Description: r.Description,
		IsCreatorEligible: creator, Permissions: perms,
		CreatedAt: r.CreatedAt.UnixMilli(), UpdatedAt: r.UpdatedAt.UnixMilli()}
}
