package tenancy

import (
	"context"
	"fmt"
	"html"

	"github.com/orgid/orgid/internal/mail"
)

// invitationMail composes the message that carries an accept link.
func (s *Service) invitationMail(ctx context.Context, inv *Invitation, org *Organization) mail.Message {
	lead := "You have been invited"
	if inv.InviterUserID != "" {
		if u, err := s.users.GetUser(ctx, inv.InviterUserID); err == nil {
			name := u.FullName()
			if name == "" {
				name = u.Email
			}
			lead = name + " invited you"
		}
	}
	role := inv.Role
	if r, err := s.rbac.GetRole(ctx, inv.Role); err == nil {
		role = r.Name
	}
	expires := inv.ExpiresAt.UTC().Format("2 January 2006 15:04 MST")
	text := fmt.Sprintf("%s to join %s as %s.\n\nAccept the invitation:\n%s\n\nThe link works once and expires on %s. If you did not expect this invitation, ignore this email.\n",
		lead, org.Name, role, inv.URL, expires)
	htmlBody := fmt.Sprintf("<p>%s to join <strong>%s</strong> as %s.</p>\n<p><a href=\"%s\">Accept the invitation</a></p>\n<p>The link works once and expires on %s. If you did not expect this invitation, ignore this email.</p>\n",
		html.EscapeString(lead), html.EscapeString(org.Name), html.EscapeString(role), html.EscapeString(inv.URL), html.EscapeString(expires))
	return mail.Message{To: inv.EmailAddress, Subject: "You are invited to join " + sanitizeHeader(org.Name), Text: text, HTML: htmlBody}
}

// sanitizeHeader keeps a value on one line.
func sanitizeHeader(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\r' || r == '\n' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
