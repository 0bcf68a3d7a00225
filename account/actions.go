package account

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/ui"
)

// The forms of the profile page. Each posts to /organizations/{org}/<path>
// and runs one tenancy call as the signed-in user; tenancy checks the
// permission. Success redirects (303) with a notice, a refusal shows the
// profile again with the reason and the matching status.

// actionInput is what an action works with.
type actionInput struct {
	r     *http.Request
	sess  *identity.Session
	user  *identity.User
	actor tenancy.Actor
	org   *tenancy.Organization // the organization the viewer is a member of
}

func (in actionInput) form(name string) string { return strings.TrimSpace(in.r.PostFormValue(name)) }

// orgActionFunc runs an action and returns where to send the browser.
type orgActionFunc func(ctx context.Context, in actionInput) (redirect string, err error)

type orgActionRoute struct {
	path, name string
	run        orgActionFunc
}

func (h *Handler) orgActions() []orgActionRoute {
	return []orgActionRoute{
		{"profile", "update", h.updateProfile},
		{"delete", "delete", h.deleteOrganization},
		{"leave", "leave", h.leave},
		{"members/role", "member_role", h.setMemberRole},
		{"members/remove", "member_remove", h.removeMember},
		{"invitations", "invite", h.invite},
		{"invitations/revoke", "invitation_revoke", h.revokeInvitation},
		{"domains", "domain_add", h.addDomain},
		{"domains/code", "domain_code", h.sendDomainCode},
		{"domains/verify", "domain_verify", h.verifyDomain},
		{"domains/enrollment", "domain_enrollment", h.setDomainEnrollment},
		{"domains/delete", "domain_delete", h.deleteDomain},
	}
}

// orgAction runs the phases every profile form shares: the signed-in user,
// their membership (404 when they have none), the action, the answer.
func (h *Handler) orgAction(run orgActionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ref := mux.Vars(r)["org"]
		sess, user, ok := h.signedIn(w, r, PathOrganizations+"/"+url.PathEscape(ref))
		if !ok {
			return
		}
		m, err := h.tenancy.MembershipOf(ctx, user.ID, ref)
		if errors.Is(err, storage.ErrNotFound) {
			h.notFound(w, r)
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next, err := run(ctx, actionInput{r: r, sess: sess, user: user, actor: tenancy.UserActor(user.ID), org: m.Organization})
		if err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		p, known := explain(err)
		if !known {
			h.fail(w, r, err)
			return
		}
		h.renderProfile(w, r, sess, user, m.OrganizationID, p.status, profileView{Error: p.message, Form: postedForm(r)})
	}
}

// postedForm keeps what the user typed, so that a refused form need not be
// filled again.
func postedForm(r *http.Request) profileForm {
	f := profileForm{
		InviteEmail: strings.TrimSpace(r.PostFormValue("email_address")),
		InviteRole:  r.PostFormValue("role"),
		DomainName:  strings.TrimSpace(r.PostFormValue("domain")),
	}
	if _, ok := r.PostForm["name"]; ok {
		f.General = true
		f.Name, f.Slug, f.ImageURL = r.PostFormValue("name"), r.PostFormValue("slug"), r.PostFormValue("image_url")
	}
	return f
}

func (h *Handler) updateProfile(ctx context.Context, in actionInput) (string, error) {
	var up tenancy.OrganizationUpdate
	if name := in.form("name"); name != in.org.Name {
		up.Name = &name
	}
	if slug := in.form("slug"); slug != in.org.Slug {
		up.Slug = &slug
	}
	if image := in.form("image_url"); image != in.org.ImageURL {
		up.ImageURL = &image
	}
	org, err := h.tenancy.UpdateOrganization(ctx, in.actor, in.org.ID, up)
	if err != nil {
		return "", err
	}
	return withNotice(profilePath(org), noticeUpdated), nil
}

func (h *Handler) deleteOrganization(ctx context.Context, in actionInput) (string, error) {
	if in.form("confirm") != in.org.Slug {
		return "", &pageError{http.StatusBadRequest, ui.Msg("org.error.delete_confirm", "slug", in.org.Slug)}
	}
	if err := h.tenancy.DeleteOrganization(ctx, in.actor, in.org.ID); err != nil {
		return "", err
	}
	return withNotice(PathOrganizations, noticeDeleted), nil
}

func (h *Handler) leave(ctx context.Context, in actionInput) (string, error) {
	if err := h.tenancy.RemoveMembership(ctx, in.actor, in.org.ID, in.user.ID); err != nil {
		return "", err
	}
	if err := h.forgetActive(ctx, in); err != nil {
		return "", err
	}
	return withNotice(PathOrganizations, noticeLeft), nil
}

// forgetActive clears the organization as this browser's active one once
// the user is no longer a member. Other sessions of the user find out on
// their next token: oidc re-checks the membership.
func (h *Handler) forgetActive(ctx context.Context, in actionInput) error {
	if in.sess.ActiveOrganizationID != in.org.ID {
		return nil
	}
	_, err := h.tenancy.SetActiveOrganization(ctx, in.sess.ID, in.user.ID, "")
	return err
}

func (h *Handler) setMemberRole(ctx context.Context, in actionInput) (string, error) {
	if _, err := h.tenancy.SetMembershipRole(ctx, in.actor, in.org.ID, in.form("user_id"), in.form("role")); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeRoleChanged), nil
}

func (h *Handler) removeMember(ctx context.Context, in actionInput) (string, error) {
	userID := in.form("user_id")
	if userID == in.user.ID {
		return h.leave(ctx, in)
	}
	if err := h.tenancy.RemoveMembership(ctx, in.actor, in.org.ID, userID); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeRemoved), nil
}

func (h *Handler) invite(ctx context.Context, in actionInput) (string, error) {
	_, err := h.tenancy.CreateInvitation(ctx, in.actor, in.org.ID, tenancy.NewInvitation{
		EmailAddress: in.form("email_address"), Role: in.form("role"),
	})
	if errors.Is(err, tenancy.ErrMailNotSent) {
		// The invitation exists; only its email failed. The link is not
		// shown here: whoever holds it may create the invitee's account.
		return withNotice(profilePath(in.org), noticeInviteUnsent), nil
	}
	if err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeInvited), nil
}

func (h *Handler) revokeInvitation(ctx context.Context, in actionInput) (string, error) {
	if _, err := h.tenancy.RevokeInvitation(ctx, in.actor, in.org.ID, in.form("invitation_id")); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeRevoked), nil
}

func (h *Handler) addDomain(ctx context.Context, in actionInput) (string, error) {
	_, err := h.tenancy.AddDomain(ctx, in.actor, in.org.ID, tenancy.NewDomain{
		Name: in.form("domain"), EnrollmentMode: in.form("enrollment_mode"),
	})
	if err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeDomainAdded), nil
}

func (h *Handler) sendDomainCode(ctx context.Context, in actionInput) (string, error) {
	if _, err := h.tenancy.PrepareDomainVerification(ctx, in.actor, in.org.ID, in.form("domain_id"), in.form("affiliation_email")); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeCodeSent), nil
}

func (h *Handler) verifyDomain(ctx context.Context, in actionInput) (string, error) {
	if _, err := h.tenancy.AttemptDomainVerification(ctx, in.actor, in.org.ID, in.form("domain_id"), in.form("code")); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeDomainVerified), nil
}

func (h *Handler) setDomainEnrollment(ctx context.Context, in actionInput) (string, error) {
	if _, err := h.tenancy.SetDomainEnrollmentMode(ctx, in.actor, in.org.ID, in.form("domain_id"), in.form("enrollment_mode")); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeEnrollment), nil
}

func (h *Handler) deleteDomain(ctx context.Context, in actionInput) (string, error) {
	if err := h.tenancy.DeleteDomain(ctx, in.actor, in.org.ID, in.form("domain_id")); err != nil {
		return "", err
	}
	return withNotice(profilePath(in.org), noticeDomainDeleted), nil
}
