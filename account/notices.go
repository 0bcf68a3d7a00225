package account

import (
	"net/url"

	"github.com/orgid/orgid/tenancy"
)

// After a successful form the browser is redirected (303) to a page with
// ?notice=<key>. Only these fixed keys are shown, never text from the URL,
// so a link cannot put words in the page's mouth.
const (
	noticeCreated        = "created"
	noticeUpdated        = "updated"
	noticeJoined         = "joined"
	noticeInvited        = "invited"
	noticeInviteUnsent   = "invite_unsent"
	noticeRevoked        = "revoked"
	noticeRoleChanged    = "role_changed"
	noticeRemoved        = "removed"
	noticeLeft           = "left"
	noticeDeleted        = "deleted"
	noticeDomainAdded    = "domain_added"
	noticeCodeSent       = "code_sent"
	noticeDomainVerified = "domain_verified"
	noticeEnrollment     = "enrollment_changed"
	noticeDomainDeleted  = "domain_deleted"
)

func noticeText(key string) string {
	switch key {
	case noticeCreated:
		return "Organization created. You are its owner."
	case noticeUpdated:
		return "Changes saved."
	case noticeJoined:
		return "You joined the organization."
	case noticeInvited:
		return "Invitation sent."
	case noticeInviteUnsent:
		return "The invitation was created, but its email could not be sent. Revoke it and invite again later."
	case noticeRevoked:
		return "Invitation revoked."
	case noticeRoleChanged:
		return "Role changed."
	case noticeRemoved:
		return "Member removed."
	case noticeLeft:
		return "You left the organization."
	case noticeDeleted:
		return "Organization deleted."
	case noticeDomainAdded:
		return "Domain added. Verify it by sending a code to an address at the domain."
	case noticeCodeSent:
		return "Verification code sent. Enter it below."
	case noticeDomainVerified:
		return "Domain verified."
	case noticeEnrollment:
		return "Enrollment mode changed."
	case noticeDomainDeleted:
		return "Domain removed."
	}
	return ""
}

// withNotice is path with a notice to show.
func withNotice(path, key string) string {
	return path + "?notice=" + url.QueryEscape(key)
}

// profilePath is the profile page of o: by slug, or by id when the slug is
// one of the fixed paths under /organizations.
func profilePath(o *tenancy.Organization) string {
	ref := o.Slug
	switch ref {
	case "", "switch", "join":
		ref = o.ID
	}
	return PathOrganizations + "/" + url.PathEscape(ref)
}
