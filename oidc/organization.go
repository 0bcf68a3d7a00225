package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

// The active organization, for any OIDC client. A client asks for
// organization context with the scope "organization". The organization of
// a grant is, in this order: the one the request names with the
// organization parameter (id or slug; a non-member gets access_denied), the
// one the user picked on the chooser during this flow, the browser
// session's remembered active organization (unless the user just signed
// in, when they choose again), or the chooser. With prompt=none there is no
// chooser: the remembered organization or none. The chosen organization
// becomes the session's active one, and tokens, userinfo and introspection
// carry org_id, org_slug, org_role and org_permissions.
//
// Switching without signing in again: an authorization request with
// organization=<id|slug>&prompt=none, or a refresh_token grant with an
// organization parameter.

// ScopeOrganization asks for the active organization's claims.
const ScopeOrganization = "organization"

// PathChooseOrganization is the hosted organization chooser.
const PathChooseOrganization = "/choose-organization"

// wantsOrganization reports whether a request runs the organization step.
func (p *Provider) wantsOrganization(scopes fosite.Arguments) bool {
	return scopes.Has(ScopeOrganization) || p.cfg.RequireOrganization
}

// organizationFor decides the grant's organization ("" for none). When it
// answered the request itself (chooser page, error) ok is false.
func (p *Provider) organizationFor(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester,
	f *flow, sess *identity.Session, user *identity.User) (orgID string, ok bool) {
	if !p.wantsOrganization(ar.GetRequestedScopes()) {
		return "", true
	}
	promptNone := hasWord(ar.GetRequestForm().Get("prompt"), "none")
	fail := func(err error) (string, bool) {
		p.writeAuthorizeError(ctx, w, r, ar, err)
		return "", false
	}
	choose := func(orgRef string) (string, bool) {
		c, err := p.tenancy.SetActiveOrganization(ctx, sess.ID, user.ID, orgRef)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return fail(fosite.ErrAccessDenied.WithHint("The user is not a member of the requested organization."))
		case err != nil:
			return fail(fosite.ErrServerError.WithWrap(err))
		case c == nil:
			return "", true
		}
		return c.OrgID, true
	}

	if ref := ar.GetRequestForm().Get("organization"); ref != "" {
		return choose(ref)
	}
	if f != nil && f.OrgChosen {
		ref := ""
		if f.OrgID != nil {
			ref = *f.OrgID
		}
		if ref == "" && p.cfg.RequireOrganization {
			return fail(fosite.ErrAccessDenied.WithHint("An organization is required."))
		}
		return choose(ref)
	}
	justSignedIn := f != nil && f.loggedInWith(sess.ID)
	if remembered := sess.ActiveOrganizationID; remembered != "" && !justSignedIn {
		if _, err := p.tenancy.MembershipOf(ctx, user.ID, remembered); err == nil {
			return remembered, true
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fail(fosite.ErrServerError.WithWrap(err))
		}
		// Removed from it (or it was deleted) since: choose again.
	}
	memberships, err := p.tenancy.Memberships(ctx, user.ID)
	if err != nil {
		return fail(fosite.ErrServerError.WithWrap(err))
	}
	if len(memberships) == 0 && !p.cfg.RequireOrganization {
		// Nothing to choose from — unless invitations wait to be accepted.
		invited := false
		if user.EmailVerified && !promptNone {
			pending, err := p.tenancy.PendingInvitationsFor(ctx, user.Email)
			if err != nil {
				return fail(fosite.ErrServerError.WithWrap(err))
			}
			invited = len(pending) > 0
		}
		if !invited {
			return "", true
		}
	}
	if promptNone {
		if p.cfg.RequireOrganization {
			return fail(fosite.ErrInteractionRequired.WithHint("The user must choose or create an organization."))
		}
		return "", true
	}
	p.interact(ctx, w, r, ar, f, ar.GetRequestedAt(), PathChooseOrganization)
	return "", false
}

// chooseOrganizationPage lists the user's organizations and pending
// invitations (GET) and records the choice (POST org_id; "" is the
// personal account when allowed). A user who must have an organization and
// has none can create one here (POST name).
func (p *Provider) chooseOrganizationPage(w http.ResponseWriter, r *http.Request) {
	ctx, f, user, ok := p.flowPage(w, r)
	if !ok {
		return
	}
	message := ""
	if r.Method == http.MethodPost {
		orgID, err := p.applyChoice(ctx, r, user)
		if err == nil {
			f.OrgID, f.OrgChosen = &orgID, true
			if err := p.saveFlow(ctx, f, "org_id", "org_chosen"); err != nil {
				p.flowError(ctx, w, r, err)
				return
			}
			http.Redirect(w, r, flowURL(PathResume, f), http.StatusSeeOther)
			return
		}
		var invalid *choiceError
		if !errors.As(err, &invalid) {
			p.flowError(ctx, w, r, err)
			return
		}
		message = invalid.message
	}
	memberships, err := p.tenancy.Memberships(ctx, user.ID)
	if err != nil {
		p.flowError(ctx, w, r, err)
		return
	}
	var invitations []*tenancy.Invitation
	if user.EmailVerified {
		if invitations, err = p.tenancy.PendingInvitationsFor(ctx, user.Email); err != nil {
			p.flowError(ctx, w, r, err)
			return
		}
	}
	type option struct{ ID, Name, Slug, Role string }
	var orgs, invites []option
	for _, m := range memberships {
		orgs = append(orgs, option{m.OrganizationID, m.Organization.Name, m.Organization.Slug, strings.TrimPrefix(m.Role, "org:")})
	}
	for _, inv := range invitations {
		invites = append(invites, option{inv.ID, inv.Organization.Name, inv.Organization.Slug, strings.TrimPrefix(inv.Role, "org:")})
	}
	status := http.StatusOK
	if message != "" {
		status = http.StatusBadRequest
	}
	p.pages.Render(w, status, "choose-organization", "choose_org.heading", p.pageLang(r, signInContext{flow: f}), map[string]any{
		"Flow": f.id, "Action": PathChooseOrganization, "Organizations": orgs, "Invitations": invites,
		"AllowPersonal": !p.cfg.RequireOrganization, "Error": message, "Email": user.Email,
	})
}

// choiceError is a choice the user can correct on the page; message is a
// message key.
type choiceError struct{ message string }

func (e *choiceError) Error() string { return e.message }

// applyChoice carries out the chooser's POST and returns the organization
// chosen ("" for the personal account).
func (p *Provider) applyChoice(ctx context.Context, r *http.Request, user *identity.User) (string, error) {
	switch {
	case r.PostFormValue("invitation_id") != "":
		m, err := p.tenancy.AcceptInvitationByID(ctx, r.PostFormValue("invitation_id"), user.ID)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) || errors.Is(err, tenancy.ErrInvalid) ||
				errors.Is(err, tenancy.ErrInvitationExpired) || errors.Is(err, tenancy.ErrInvitationRevoked) ||
				errors.Is(err, tenancy.ErrInvitationAccepted) || errors.Is(err, tenancy.ErrMembershipLimit) {
				return "", &choiceError{"choose_org.error.invitation_invalid"}
			}
			return "", err
		}
		return m.OrganizationID, nil
	case r.PostFormValue("name") != "":
		org, err := p.tenancy.CreateOrganization(ctx, tenancy.UserActor(user.ID), tenancy.NewOrganization{Name: r.PostFormValue("name")})
		if err != nil {
			if errors.Is(err, tenancy.ErrSlugTaken) {
				return "", &choiceError{"choose_org.error.name_taken"}
			}
			if errors.Is(err, tenancy.ErrInvalid) {
				return "", &choiceError{"choose_org.error.name_invalid"}
			}
			return "", err
		}
		return org.ID, nil
	}
	orgID := r.PostFormValue("org_id")
	if orgID == "" {
		if p.cfg.RequireOrganization {
			return "", &choiceError{"choose_org.error.required"}
		}
		return "", nil
	}
	if _, err := p.tenancy.MembershipOf(ctx, user.ID, orgID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return "", &choiceError{"org_switch.error.not_member"}
		}
		return "", err
	}
	return orgID, nil
}
