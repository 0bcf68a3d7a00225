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

// noticeText is the message key (package ui's catalogs) of a notice.
func noticeText(key string) string {
	switch key {
	case noticeCreated:
		return "org.notice.created"
	case noticeUpdated:
		return "org.notice.updated"
	case noticeJoined:
		return "org.notice.joined"
	case noticeInvited:
		return "org.notice.invited"
	case noticeInviteUnsent:
		return "org.notice.invite_unsent"
	case noticeRevoked:
		return "org.notice.revoked"
	case noticeRoleChanged:
		return "org.notice.role_changed"
	case noticeRemoved:
		return "org.notice.removed"
	case noticeLeft:
		return "org.notice.left"
	case noticeDeleted:
		return "org.notice.deleted"
	case noticeDomainAdded:
		return "org.notice.domain_added"
	case noticeCodeSent:
		return "org.notice.code_sent"
	case noticeDomainVerified:
		return "org.notice.domain_verified"
	case noticeEnrollment:
		return "org.notice.enrollment_changed"
	case noticeDomainDeleted:
		return "org.notice.domain_deleted"
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
