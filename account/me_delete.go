package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/ui"
)

// errLastOwner rolls back a deletion that would leave organizations
// without an owner.
var errLastOwner = errors.New("the user is the last owner of organizations")

// deleteAccount deletes the signed-in user once they typed their email
// address. The user leaves every organization first, through tenancy, in
// the same transaction as the deletion: each departure is an
// organizationMembership.deleted event, and tenancy refuses the last
// owner's under the organization's lock, which rolls everything back —
// the page then names every organization that needs another owner.
// Deleting the user ends all their sessions (tokens revoked, back-channel
// logout queued), which signs this browser out.
func (u *userPages) deleteAccount(w http.ResponseWriter, r *http.Request) {
	_, user, ok := u.signedIn(w, r, PathAccount)
	if !ok {
		return
	}
	typed := strings.TrimSpace(r.PostFormValue("confirm_email"))
	form := userForm{ConfirmEmail: typed}
	if !strings.EqualFold(typed, strings.TrimSpace(user.Email)) {
		u.profileError(w, r, user, refuse("confirm_email", ui.Msg("account.delete.error.confirm", "email", user.Email)),
			userProfileView{Form: withStoredProfile(user, form)})
		return
	}
	blocked, err := u.deleteUser(r.Context(), user.ID)
	if errors.Is(err, errLastOwner) {
		v := userProfileView{Form: withStoredProfile(user, form), LastOwnerOf: blocked}
		names := make([]string, len(blocked))
		for i, o := range blocked {
			names[i] = o.Name
		}
		v.Error = ui.Msg("account.delete.error.last_owner", "orgs", strings.Join(names, ", "))
		u.renderUserProfile(w, r, user, http.StatusConflict, v, true)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "account-deleted", "account.deleted.heading", map[string]string{"Email": user.Email})
}

// withStoredProfile is f, what the delete form carried, with the stored
// profile values in the profile form.
func withStoredProfile(user *identity.User, f userForm) userForm {
	f.FirstName, f.LastName, f.Username, f.ImageURL = user.FirstName, user.LastName, user.Username, user.ImageURL
	return f
}

// deleteUser removes the user from their organizations and deletes them,
// in one transaction. When they are the last owner of some organizations
// nothing changes: the error is errLastOwner and blocked lists those
// organizations.
func (u *userPages) deleteUser(ctx context.Context, userID string) (blocked []orgLink, err error) {
	err = storage.InTx(ctx, u.db, func(ctx context.Context) error {
		blocked = nil
		memberships, err := u.tenancy.Memberships(ctx, userID)
		if err != nil {
			return err
		}
		for _, m := range memberships {
			err := u.tenancy.RemoveMembership(ctx, tenancy.UserActor(userID), m.OrganizationID, userID)
			switch {
			case errors.Is(err, tenancy.ErrLastOwner):
				blocked = append(blocked, orgLink{Name: m.Organization.Name, Path: profilePath(m.Organization)})
			case err != nil:
				return err
			}
		}
		if len(blocked) > 0 {
			return errLastOwner
		}
		return u.identity.DeleteUser(ctx, userID)
	})
	if err != nil {
		return blocked, fmt.Errorf("delete account of user %q: %w", userID, err)
	}
	return nil, nil
}
