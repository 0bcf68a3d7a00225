package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/returnto"
	"github.com/orgid/orgid/storage"
)

// switchView is the data of org-switch.html.
type switchView struct {
	Email          string
	ReturnTo       string
	Organizations  []orgItem
	Invitations    []inviteItem
	AllowPersonal  bool
	PersonalActive bool
	// Error is a message key, a ui.Message or text shown as it is.
	Error any
}

// switcher lists the user's memberships, the personal account (unless the
// server requires an organization) and pending invitations (GET), and sets
// the browser session's active organization (POST org_id, or invitation_id
// to accept an invitation and switch to it). Then it returns to the local
// path return_to. The next authorization without an organization
// parameter, prompt=none included, issues tokens for the organization
// chosen here (Clerk's OrganizationSwitcher and setActive).
func (h *Handler) switcher(w http.ResponseWriter, r *http.Request) {
	returnTo := returnto.Local(r.FormValue("return_to"), PathOrganizations)
	sess, user, ok := h.signedIn(w, r, PathSwitch+"?return_to="+url.QueryEscape(returnTo))
	if !ok {
		return
	}
	if r.Method != http.MethodPost {
		h.renderSwitch(w, r, sess, user, http.StatusOK, returnTo, "")
		return
	}
	err := h.applySwitch(r.Context(), r, sess, user)
	if err == nil {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	p, known := explain(err)
	if !known {
		h.fail(w, r, err)
		return
	}
	h.renderSwitch(w, r, sess, user, p.status, returnTo, p.message)
}

// applySwitch carries out the switcher's POST.
func (h *Handler) applySwitch(ctx context.Context, r *http.Request, sess *identity.Session, user *identity.User) error {
	orgRef := r.PostFormValue("org_id")
	if invitationID := r.PostFormValue("invitation_id"); invitationID != "" {
		m, err := h.tenancy.AcceptInvitationByID(ctx, invitationID, user.ID)
		if err != nil {
			return err
		}
		orgRef = m.OrganizationID
	}
	if orgRef == "" && h.cfg.RequireOrganization {
		return &pageError{http.StatusBadRequest, "org_switch.error.personal_disabled"}
	}
	_, err := h.tenancy.SetActiveOrganization(ctx, sess.ID, user.ID, orgRef)
	if errors.Is(err, storage.ErrNotFound) {
		return &pageError{http.StatusNotFound, "org_switch.error.not_member"}
	}
	return err
}

func (h *Handler) renderSwitch(w http.ResponseWriter, r *http.Request, sess *identity.Session, user *identity.User, status int, returnTo string, message any) {
	orgs, invites, err := h.userOrganizations(r.Context(), sess, user)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, "org-switch", "org.nav.switch", switchView{
		Email: user.Email, ReturnTo: returnTo, Organizations: orgs, Invitations: invites,
		AllowPersonal: !h.cfg.RequireOrganization, PersonalActive: sess.ActiveOrganizationID == "",
		Error: message,
	})
}
