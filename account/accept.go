package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

// What the invitation page shows.
const (
	acceptConfirm  = "confirm"  // signed in as the invitee: a Join button
	acceptMismatch = "mismatch" // signed in as someone else
	acceptSignUp   = "signup"   // nobody signed in, no account: create one
)

// acceptView is the data of org-accept.html.
type acceptView struct {
	Mode         string
	Token        string
	OrgName      string
	RoleName     string
	InvitedEmail string
	// Email is the signed-in user's address (confirm, mismatch).
	Email string
	// FirstName and LastName refill the sign-up form after an error.
	FirstName, LastName string
	// Error is a message key, a ui.Message or text shown as it is.
	Error any
}

// accept is the page an invitation link opens. Signed in as the invitee,
// the user joins with one POST; signed in as someone else, the page says
// so; signed out, an invitee who has an account signs in and comes back,
// and one who has none creates it here (the email address is the
// invitation's, verified by the link) and is signed in. Nothing is
// accepted on GET: mail scanners follow links.
func (h *Handler) accept(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.FormValue("token")
	inv, err := h.tenancy.InvitationByToken(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "org_accept.not_found", "org_accept.not_found_message")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	_, user, err := h.sessions.CurrentUser(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names, err := h.roleNames(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := acceptView{Token: token, OrgName: inv.Organization.Name, RoleName: names.of(inv.Role), InvitedEmail: inv.EmailAddress}
	if user != nil {
		h.acceptSignedIn(w, r, user, inv, v)
		return
	}
	h.acceptSignedOut(w, r, inv, v)
}

func (h *Handler) acceptSignedIn(w http.ResponseWriter, r *http.Request, user *identity.User, inv *tenancy.Invitation, v acceptView) {
	v.Email = user.Email
	if !strings.EqualFold(strings.TrimSpace(user.Email), strings.TrimSpace(inv.EmailAddress)) {
		v.Mode = acceptMismatch
		h.render(w, r, http.StatusForbidden, "org-accept", "org_accept.mismatch_heading", v)
		return
	}
	if !user.EmailVerified {
		h.fail(w, r, tenancy.ErrEmailNotVerified)
		return
	}
	if r.Method != http.MethodPost {
		v.Mode = acceptConfirm
		h.render(w, r, http.StatusOK, "org-accept", "common.join_org", v, "org", inv.Organization.Name)
		return
	}
	m, err := h.tenancy.AcceptInvitation(r.Context(), v.Token, user.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, withNotice(profilePath(m.Organization), noticeJoined), http.StatusSeeOther)
}

func (h *Handler) acceptSignedOut(w http.ResponseWriter, r *http.Request, inv *tenancy.Invitation, v acceptView) {
	ctx := r.Context()
	self := PathAcceptInvitation + "?token=" + url.QueryEscape(v.Token)
	// Whoever holds the link may learn whether the invitee has an
	// account: the link was sent to the invitee.
	_, err := h.identity.UserByEmail(ctx, inv.EmailAddress)
	if err == nil {
		http.Redirect(w, r, oidc.SignInURL(self), http.StatusSeeOther)
		return
	}
	if !errors.Is(err, storage.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	v.Mode = acceptSignUp
	if r.Method != http.MethodPost {
		h.render(w, r, http.StatusOK, "org-accept", "common.join_org", v, "org", inv.Organization.Name)
		return
	}
	v.FirstName, v.LastName = strings.TrimSpace(r.PostFormValue("first_name")), strings.TrimSpace(r.PostFormValue("last_name"))
	password := r.PostFormValue("password")
	user, m, err := h.signUpAndAccept(ctx, inv, v, password)
	if errors.Is(err, identity.ErrEmailTaken) {
		// Created meanwhile (another tab, a concurrent accept): sign in.
		http.Redirect(w, r, oidc.SignInURL(self), http.StatusSeeOther)
		return
	}
	if err != nil {
		var invalid *identity.ValidationError
		var page *pageError
		if p, known := explain(err); known && (errors.As(err, &invalid) || errors.As(err, &page)) {
			v.Error = p.message
			h.render(w, r, p.status, "org-accept", "common.join_org", v, "org", inv.Organization.Name)
			return
		}
		h.fail(w, r, err)
		return
	}
	sid, err := h.sessions.StartSession(ctx, w, r, user, []string{"pwd"})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The new account's first session starts in the organization it
	// joined.
	if _, err := h.tenancy.SetActiveOrganization(ctx, sid, user.ID, m.OrganizationID); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, withNotice(profilePath(m.Organization), noticeJoined), http.StatusSeeOther)
}

// signUpAndAccept creates the invitee's account and accepts the invitation
// in one transaction: an acceptance that fails (revoked meanwhile, the
// organization full, a concurrent accept) leaves no account behind.
func (h *Handler) signUpAndAccept(ctx context.Context, inv *tenancy.Invitation, v acceptView, password string) (*identity.User, *tenancy.Membership, error) {
	if password == "" {
		return nil, nil, &pageError{http.StatusBadRequest, "org_accept.error.password_missing"}
	}
	// Checked before the transaction, so that a refused password does not
	// take the database's write lock for a password hash.
	if err := identity.CheckPassword(password, inv.EmailAddress); err != nil {
		return nil, nil, err
	}
	var user *identity.User
	var m *tenancy.Membership
	err := storage.InTx(ctx, h.db, func(ctx context.Context) error {
		var err error
		user, err = h.identity.CreateUser(ctx, identity.NewUser{
			Email: inv.EmailAddress, Password: password, FirstName: v.FirstName, LastName: v.LastName,
			// Following the emailed link proved the address.
			EmailVerified: true,
		})
		if err != nil {
			return err
		}
		m, err = h.tenancy.AcceptInvitation(ctx, v.Token, user.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return user, m, nil
}
