package account

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/ui"
)

// membersPerPage is how many members the profile lists at a time.
const membersPerPage = 50

// maxInvitationsShown bounds the pending invitations listed.
const maxInvitationsShown = 100

// can says which controls the profile shows. It is computed once per page
// from the viewer's grants; tenancy checks the permission again on every
// action, so a stale page can never do more than the viewer may.
type can struct {
	ManageProfile bool // org:sys_profile:manage
	Delete        bool // org:sys_profile:delete, and the organization allows it
	ReadMembers   bool // org:sys_memberships:read
	ManageMembers bool // org:sys_memberships:manage
	ReadDomains   bool // org:sys_domains:read
	ManageDomains bool // org:sys_domains:manage
}

type memberItem struct {
	UserID, Name, Email string
	Role, RoleName      string
	Me                  bool
	// Manageable: the viewer may change this member's role or remove them
	// (they manage members and hold every permission of the member's role).
	Manageable bool
}

type invitationItem struct {
	ID, Email, RoleName, Expires string
	Revocable                    bool
}

type option struct{ Value, Label string }

type domainItem struct {
	ID, Name, AffiliationEmail      string
	EnrollmentMode, EnrollmentLabel string
	Verified, CodePending           bool
}

// profileForm refills the forms after an error.
type profileForm struct {
	// General is set when the general form was posted: its fields then
	// show what was typed rather than the stored values.
	General                 bool
	Name, Slug, ImageURL    string
	InviteEmail, InviteRole string
	DomainName              string
}

// profileView is the data of org-profile.html.
type profileView struct {
	Org    *tenancy.Organization
	Path   string
	Email  string
	MyRole string
	Active bool
	Can    can
	Notice string
	// Error is a message key, a ui.Message or text shown as it is.
	Error any
	Form  profileForm

	Members            []memberItem
	MembersTotal       int
	PrevPage, NextPage string
	Invitations        []invitationItem
	AssignableRoles    []option
	Domains            []domainItem
	EnrollmentModes    []option
}

// profile shows an organization to one of its members (Clerk's
// OrganizationProfile): general settings, members, invitations, domains,
// leave and delete, each shown only when the viewer's grants allow it.
func (h *Handler) profile(w http.ResponseWriter, r *http.Request) {
	ref := mux.Vars(r)["org"]
	sess, user, ok := h.signedIn(w, r, r.URL.RequestURI())
	if !ok {
		return
	}
	h.renderProfile(w, r, sess, user, ref, http.StatusOK, profileView{Notice: noticeText(r.URL.Query().Get("notice"))})
}

func (h *Handler) renderProfile(w http.ResponseWriter, r *http.Request, sess *identity.Session, user *identity.User, ref string, status int, v profileView) {
	ctx := r.Context()
	actor := tenancy.UserActor(user.ID)
	claims, err := h.tenancy.Claims(ctx, user.ID, ref)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	org, err := h.tenancy.GetOrganization(ctx, actor, claims.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g := claims.Grants
	v.Org, v.Path, v.Email, v.Active = org, profilePath(org), user.Email, sess.ActiveOrganizationID == org.ID
	v.Can = can{
		ManageProfile: g.Has(rbac.PermProfileManage),
		Delete:        g.Has(rbac.PermProfileDelete) && org.AdminDeleteEnabled,
		ReadMembers:   g.Has(rbac.PermMembershipsRead),
		ManageMembers: g.Has(rbac.PermMembershipsManage),
		ReadDomains:   g.Has(rbac.PermDomainsRead),
		ManageDomains: g.Has(rbac.PermDomainsManage),
	}
	if !v.Form.General {
		v.Form.Name, v.Form.Slug, v.Form.ImageURL = org.Name, org.Slug, org.ImageURL
	}
	if v.Form.InviteRole == "" {
		v.Form.InviteRole = rbac.RoleMember
	}

	roles, err := h.rbac.ListRoles(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := make(roleNames, len(roles))
	grantsOf := make(map[string]rbac.Grants, len(roles))
	for _, role := range roles {
		names[role.Key] = role.Name
		grantsOf[role.Key] = role.Grants()
		// Tenancy refuses to hand out a role with a permission the
		// viewer lacks; offer only the others.
		if g.Includes(role.Grants()) {
			v.AssignableRoles = append(v.AssignableRoles, option{role.Key, role.Name})
		}
	}
	v.MyRole = names.of(claims.OrgRole)
	mayHandle := func(roleKey string) bool {
		rg, ok := grantsOf[roleKey]
		return v.Can.ManageMembers && ok && g.Includes(rg)
	}

	if v.Can.ReadMembers {
		page := pageNumber(r)
		members, total, err := h.tenancy.ListMemberships(ctx, actor, org.ID, tenancy.ListParams{Limit: membersPerPage, Offset: (page - 1) * membersPerPage})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.MembersTotal = total
		for _, m := range members {
			item := memberItem{UserID: m.UserID, Role: m.Role, RoleName: names.of(m.Role), Me: m.UserID == user.ID}
			if d := m.PublicUserData; d != nil {
				item.Email = d.Identifier
				item.Name = strings.TrimSpace(d.FirstName + " " + d.LastName)
			}
			item.Manageable = !item.Me && mayHandle(m.Role)
			v.Members = append(v.Members, item)
		}
		if page > 1 {
			v.PrevPage = fmt.Sprintf("%s?page=%d", v.Path, page-1)
		}
		if page*membersPerPage < total {
			v.NextPage = fmt.Sprintf("%s?page=%d", v.Path, page+1)
		}
		invitations, _, err := h.tenancy.ListInvitations(ctx, actor, org.ID, tenancy.ListInvitationsParams{
			ListParams: tenancy.ListParams{Limit: maxInvitationsShown}, Status: tenancy.InvitationPending,
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, inv := range invitations {
			v.Invitations = append(v.Invitations, invitationItem{
				ID: inv.ID, Email: inv.EmailAddress, RoleName: names.of(inv.Role),
				Expires: ui.FormatDateTime(ui.RequestLanguage(r), inv.ExpiresAt), Revocable: mayHandle(inv.Role),
			})
		}
	}

	if v.Can.ReadDomains {
		domains, err := h.tenancy.ListDomains(ctx, actor, org.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.EnrollmentModes = []option{
			{tenancy.EnrollManual, "org.enrollment.manual"},
			{tenancy.EnrollAutomaticInvitation, "org.enrollment.automatic_invitation"},
			{tenancy.EnrollAutomaticSuggestion, "org.enrollment.automatic_suggestion"},
		}
		for _, d := range domains {
			item := domainItem{
				ID: d.ID, Name: d.Name, EnrollmentMode: d.EnrollmentMode, EnrollmentLabel: d.EnrollmentMode,
				AffiliationEmail: d.AffiliationEmailAddress,
				Verified:         d.Verified, CodePending: !d.Verified && !d.VerificationExpiresAt.IsZero(),
			}
			for _, o := range v.EnrollmentModes {
				if o.Value == d.EnrollmentMode {
					item.EnrollmentLabel = o.Label
				}
			}
			v.Domains = append(v.Domains, item)
		}
	}
	h.render(w, r, status, "org-profile", org.Name, v)
}

// pageNumber is the ?page= of the member list, from 1.
func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 100000 {
		return 1
	}
	return n
}
