package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

// emailAddresses is Clerk's email_address parameter: an array (orgid users
// have exactly one address) or, for convenience, a plain string.
type emailAddresses []string

func (e *emailAddresses) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*e = emailAddresses{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fieldError{"email_address", "email_address must be a string or an array of one string."}
	}
	*e = many
	return nil
}

func (emailAddresses) jsonSchema() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1, "maxItems": 1},
	}}
}

type createUserRequest struct {
	EmailAddress    emailAddresses `json:"email_address" required:"true" doc:"The user's email address (Clerk's array form with one element, or a string). Marked verified."`
	Password        string         `json:"password" doc:"Checked against the password policy. Without one the user signs in another way (invitation, magic link)."`
	FirstName       string         `json:"first_name"`
	LastName        string         `json:"last_name"`
	Username        string         `json:"username"`
	ExternalID      string         `json:"external_id" doc:"Your own id for the user."`
	ImageURL        string         `json:"image_url" doc:"An absolute http(s) URL of the user's picture (orgid)."`
	PublicMetadata  map[string]any `json:"public_metadata" doc:"Readable by the user and put into tokens by templates."`
	PrivateMetadata map[string]any `json:"private_metadata" doc:"Backend only."`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata" doc:"Writable by the user."`
}

type updateUserRequest struct {
	FirstName  *string `json:"first_name"`
	LastName   *string `json:"last_name"`
	Username   *string `json:"username" doc:"\"\" removes it."`
	ExternalID *string `json:"external_id" doc:"\"\" removes it."`
	ImageURL   *string `json:"image_url" doc:"An absolute http(s) URL, or \"\" (orgid)."`
	Password   *string `json:"password" doc:"A new password, checked against the policy."`
	// SignOutOfOtherSessions is Clerk's name; the API has no session of its
	// own, so every session of the user ends.
	SignOutOfOtherSessions *bool          `json:"sign_out_of_other_sessions" doc:"With password: revoke every session of the user."`
	PublicMetadata         map[string]any `json:"public_metadata" doc:"Replaces the stored object (PATCH .../metadata merges)."`
	PrivateMetadata        map[string]any `json:"private_metadata" doc:"Replaces the stored object."`
	UnsafeMetadata         map[string]any `json:"unsafe_metadata" doc:"Replaces the stored object."`
}

type userMetadataRequest struct {
	PublicMetadata  map[string]any `json:"public_metadata"`
	PrivateMetadata map[string]any `json:"private_metadata"`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata"`
}

type lockUserRequest struct {
	ExpiresInSeconds *int64 `json:"expires_in_seconds" doc:"How long the lock lasts (default 3600, at most ten years)."`
}

const (
	defaultLockDuration = time.Hour
	maxLockSeconds      = 10 * 365 * 24 * 3600
)

func (h *Handler) listUsers(c *call) (any, error) {
	if o := c.str("order_by"); o != "" && o != "-created_at" {
		return nil, errFormat("order_by", "orgid lists users newest first only: order_by may be -created_at.")
	}
	p := userFilters(c)
	p.Limit, p.Offset = c.limit, c.offset
	users, total, err := h.d.Identity.ListUsers(c.ctx, p)
	if err != nil {
		return nil, err
	}
	return page[identity.UserJSON]{items: mapJSON(users, (*identity.User).JSON), total: total}, nil
}

func userFilters(c *call) identity.ListUsersParams {
	return identity.ListUsersParams{
		EmailAddress: c.strs("email_address"), UserID: c.strs("user_id"), Username: c.strs("username"),
		ExternalID: c.strs("external_id"), Query: c.str("query"),
	}
}

func (h *Handler) countUsers(c *call) (any, error) {
	p := userFilters(c)
	p.Limit = 1
	_, total, err := h.d.Identity.ListUsers(c.ctx, p)
	if err != nil {
		return nil, err
	}
	return TotalCountJSON{Object: "total_count", TotalCount: total}, nil
}

func (h *Handler) createUser(c *call) (any, error) {
	req := bodyOf[createUserRequest](c)
	if len(req.EmailAddress) != 1 {
		return nil, errRefused("email_address", "An orgid user has exactly one email address.")
	}
	u, err := h.d.Identity.CreateUser(c.ctx, identity.NewUser{
		Email: req.EmailAddress[0], Password: req.Password, FirstName: req.FirstName, LastName: req.LastName,
		Username: req.Username, ExternalID: req.ExternalID, ImageURL: req.ImageURL,
		// As in Clerk's Backend API: the operator vouches for the address.
		EmailVerified:  true,
		PublicMetadata: req.PublicMetadata, PrivateMetadata: req.PrivateMetadata, UnsafeMetadata: req.UnsafeMetadata,
	})
	if err != nil {
		return nil, err
	}
	return u.JSON(), nil
}

func (h *Handler) getUser(c *call) (any, error) {
	u, err := h.d.Identity.GetUser(c.ctx, c.path("user_id"))
	if err != nil {
		return nil, err
	}
	return u.JSON(), nil
}

func (h *Handler) updateUser(c *call) (any, error) {
	req := bodyOf[updateUserRequest](c)
	userID := c.path("user_id")
	u, err := h.d.Identity.GetUser(c.ctx, userID)
	if err != nil {
		return nil, err
	}
	signOut := req.SignOutOfOtherSessions != nil && *req.SignOutOfOtherSessions
	if req.Password != nil {
		if err := identity.CheckPassword(*req.Password, u.Email); err != nil {
			return nil, err
		}
	} else if signOut {
		return nil, errRefused("sign_out_of_other_sessions", "sign_out_of_other_sessions goes with a new password.")
	}
	up := identity.UserUpdate{
		FirstName: req.FirstName, LastName: req.LastName, Username: req.Username, ExternalID: req.ExternalID, ImageURL: req.ImageURL,
		PublicMetadata: req.PublicMetadata, PrivateMetadata: req.PrivateMetadata, UnsafeMetadata: req.UnsafeMetadata,
	}
	err = storage.InTx(c.ctx, h.d.DB, func(ctx context.Context) error {
		if !emptyUserUpdate(up) {
			if _, err := h.d.Identity.UpdateUser(ctx, userID, up); err != nil {
				return err
			}
		}
		if req.Password != nil {
			if err := h.d.Identity.SetPassword(ctx, userID, *req.Password); err != nil {
				return err
			}
		}
		if signOut {
			return h.d.Identity.EndUserSessions(ctx, userID, identity.EndRevoked)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h.getUser(c)
}

func emptyUserUpdate(up identity.UserUpdate) bool {
	return up.FirstName == nil && up.LastName == nil && up.Username == nil && up.ExternalID == nil && up.ImageURL == nil &&
		up.EmailVerified == nil && up.Profile == nil && up.PublicMetadata == nil && up.PrivateMetadata == nil && up.UnsafeMetadata == nil
}

func (h *Handler) deleteUser(c *call) (any, error) {
	userID := c.path("user_id")
	if err := h.d.Identity.DeleteUser(c.ctx, userID); err != nil {
		return nil, err
	}
	return deleted("user", userID), nil
}

// mergeUserMetadata reads and writes in one readModifyWrite, so that
// concurrent merges into one user all take effect.
func (h *Handler) mergeUserMetadata(c *call) (any, error) {
	req := bodyOf[userMetadataRequest](c)
	return h.changeUserMetadata(c, func(u *identity.User) identity.UserUpdate {
		var up identity.UserUpdate
		if req.PublicMetadata != nil {
			up.PublicMetadata = mergeMetadata(u.PublicMetadata, req.PublicMetadata)
		}
		if req.PrivateMetadata != nil {
			up.PrivateMetadata = mergeMetadata(u.PrivateMetadata, req.PrivateMetadata)
		}
		if req.UnsafeMetadata != nil {
			up.UnsafeMetadata = mergeMetadata(u.UnsafeMetadata, req.UnsafeMetadata)
		}
		return up
	})
}

func (h *Handler) replaceUserMetadata(c *call) (any, error) {
	req := bodyOf[userMetadataRequest](c)
	return h.changeUserMetadata(c, func(*identity.User) identity.UserUpdate {
		return identity.UserUpdate{PublicMetadata: req.PublicMetadata, PrivateMetadata: req.PrivateMetadata, UnsafeMetadata: req.UnsafeMetadata}
	})
}

func (h *Handler) changeUserMetadata(c *call, change func(u *identity.User) identity.UserUpdate) (any, error) {
	userID := c.path("user_id")
	var out *identity.User
	err := h.readModifyWrite(c.ctx, func(ctx context.Context) error {
		u, err := h.d.Identity.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		up := change(u)
		if up.PublicMetadata == nil && up.PrivateMetadata == nil && up.UnsafeMetadata == nil {
			out = u // nothing asked: no write, no event
			return nil
		}
		out, err = h.d.Identity.UpdateUser(ctx, userID, up)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.JSON(), nil
}

func (h *Handler) banUser(c *call) (any, error) {
	return userResult(h.d.Identity.BanUser(c.ctx, c.path("user_id")))
}

func (h *Handler) unbanUser(c *call) (any, error) {
	return userResult(h.d.Identity.UnbanUser(c.ctx, c.path("user_id")))
}

func (h *Handler) lockUser(c *call) (any, error) {
	req := bodyOf[lockUserRequest](c)
	d := defaultLockDuration
	if s := req.ExpiresInSeconds; s != nil {
		if *s < 1 || *s > maxLockSeconds {
			return nil, errRefused("expires_in_seconds", fmt.Sprintf("expires_in_seconds must be between 1 and %d.", maxLockSeconds))
		}
		d = time.Duration(*s) * time.Second
	}
	return userResult(h.d.Identity.LockUser(c.ctx, c.path("user_id"), h.now().Add(d)))
}

func (h *Handler) unlockUser(c *call) (any, error) {
	return userResult(h.d.Identity.UnlockUser(c.ctx, c.path("user_id")))
}

func userResult(u *identity.User, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return u.JSON(), nil
}

// listUserMemberships answers with the same detail as an organization's
// member list: role name, permissions and the user's public data.
func (h *Handler) listUserMemberships(c *call) (any, error) {
	u, err := h.d.Identity.GetUser(c.ctx, c.path("user_id"))
	if err != nil {
		return nil, err
	}
	ms, err := h.d.Tenancy.Memberships(c.ctx, u.ID)
	if err != nil {
		return nil, err
	}
	roles, err := h.d.RBAC.ListRoles(c.ctx)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*rbac.Role{}
	for _, r := range roles {
		byKey[r.Key] = r
	}
	for _, m := range ms {
		m.Permissions = []string{}
		if r := byKey[m.Role]; r != nil {
			m.RoleName, m.Permissions = r.Name, r.PermissionKeys()
		}
		m.PublicUserData = &tenancy.PublicUserData{UserID: u.ID, Identifier: u.Email, FirstName: u.FirstName, LastName: u.LastName, ImageURL: u.ImageURL}
	}
	slices.SortStableFunc(ms, func(a, b *tenancy.Membership) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return paginate(mapJSON(ms, (*tenancy.Membership).JSON), c), nil
}
