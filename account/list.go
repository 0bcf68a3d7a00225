package account

import (
	"context"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/tenancy"
)

// orgItem is one of the user's organizations in a list.
type orgItem struct {
	ID, Name, Slug, ImageURL, Path string
	Role                           string // the role's name
	Active                         bool   // the browser session's active organization
}

// inviteItem is a pending invitation addressed to the user.
type inviteItem struct {
	ID, OrgName, OrgSlug string
	Role                 string // the role's name
}

// listView is the data of org-list.html.
type listView struct {
	Email  string
	Notice string
	// Error is a message key, a ui.Message or text shown as it is.
	Error         any
	Organizations []orgItem
	Invitations   []inviteItem
	// Suggestions are organizations with a verified domain that matches
	// the user's verified email address (automatic_suggestion).
	Suggestions         []string
	RequireOrganization bool
	// Name and Slug refill the create form after an error.
	Name, Slug string
}

// list shows the user's organizations, their pending invitations and a
// form to create an organization (Clerk's OrganizationList).
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := h.signedIn(w, r, PathOrganizations)
	if !ok {
		return
	}
	h.renderList(w, r, sess, user, http.StatusOK, listView{Notice: noticeText(r.URL.Query().Get("notice"))})
}

// create makes a new organization whose owner is the user.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := h.signedIn(w, r, PathOrganizations)
	if !ok {
		return
	}
	name, slug := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("slug"))
	org, err := h.tenancy.CreateOrganization(r.Context(), tenancy.UserActor(user.ID), tenancy.NewOrganization{Name: name, Slug: slug})
	if err != nil {
		h.listError(w, r, sess, user, err, listView{Name: name, Slug: slug})
		return
	}
	http.Redirect(w, r, withNotice(profilePath(org), noticeCreated), http.StatusSeeOther)
}

// join accepts one of the user's pending invitations, listed on this page.
func (h *Handler) join(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := h.signedIn(w, r, PathOrganizations)
	if !ok {
		return
	}
	m, err := h.tenancy.AcceptInvitationByID(r.Context(), r.PostFormValue("invitation_id"), user.ID)
	if err != nil {
		h.listError(w, r, sess, user, err, listView{})
		return
	}
	http.Redirect(w, r, withNotice(profilePath(m.Organization), noticeJoined), http.StatusSeeOther)
}

// listError shows the list again with the error's message, or an error
// page when the error is not the user's to fix.
func (h *Handler) listError(w http.ResponseWriter, r *http.Request, sess *identity.Session, user *identity.User, err error, v listView) {
	p, ok := explain(err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	v.Error = p.message
	h.renderList(w, r, sess, user, p.status, v)
}

func (h *Handler) renderList(w http.ResponseWriter, r *http.Request, sess *identity.Session, user *identity.User, status int, v listView) {
	ctx := r.Context()
	orgs, invites, err := h.userOrganizations(ctx, sess, user)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Email, v.Organizations, v.Invitations = user.Email, orgs, invites
	suggested, err := h.tenancy.DomainSuggestions(ctx, user.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, o := range suggested {
		v.Suggestions = append(v.Suggestions, o.Name)
	}
	v.RequireOrganization = h.cfg.RequireOrganization
	h.render(w, r, status, "org-list", "org.nav.organizations", v)
}

// userOrganizations lists the user's memberships and the pending
// invitations for their email address (only once it is verified: an
// unverified address proves nothing about who reads its mail).
func (h *Handler) userOrganizations(ctx context.Context, sess *identity.Session, user *identity.User) ([]orgItem, []inviteItem, error) {
	names, err := h.roleNames(ctx)
	if err != nil {
		return nil, nil, err
	}
	memberships, err := h.tenancy.Memberships(ctx, user.ID)
	if err != nil {
		return nil, nil, err
	}
	orgs := make([]orgItem, 0, len(memberships))
	for _, m := range memberships {
		o := m.Organization
		orgs = append(orgs, orgItem{
			ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: o.ImageURL, Path: profilePath(o),
			Role: names.of(m.Role), Active: sess.ActiveOrganizationID == o.ID,
		})
	}
	var invites []inviteItem
	if user.EmailVerified {
		pending, err := h.tenancy.PendingInvitationsFor(ctx, user.Email)
		if err != nil {
			return nil, nil, err
		}
		for _, inv := range pending {
			invites = append(invites, inviteItem{ID: inv.ID, OrgName: inv.Organization.Name, OrgSlug: inv.Organization.Slug, Role: names.of(inv.Role)})
		}
	}
	return orgs, invites, nil
}

// roleNames maps role keys to their display names.
type roleNames map[string]string

func (n roleNames) of(key string) string {
	if name := n[key]; name != "" {
		return name
	}
	return strings.TrimPrefix(key, "org:")
}

func (h *Handler) roleNames(ctx context.Context) (roleNames, error) {
	roles, err := h.rbac.ListRoles(ctx)
	if err != nil {
		return nil, err
	}
	names := make(roleNames, len(roles))
	for _, role := range roles {
		names[role.Key] = role.Name
	}
	return names, nil
}
