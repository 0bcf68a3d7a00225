package api

import (
	"github.com/orgid/orgid/identity"
)

func (h *Handler) listSessions(c *call) (any, error) {
	status := c.str("status")
	switch status {
	case "", identity.SessionActive, identity.SessionEnded, identity.SessionRevoked, identity.SessionExpired:
	default:
		return nil, errFormat("status", "status must be active, ended, revoked or expired.")
	}
	user, err := h.d.Identity.GetUser(c.ctx, c.str("user_id"))
	if err != nil {
		if isNotFound(err) {
			return nil, errRefused("user_id", "No user has this id.")
		}
		return nil, err
	}
	all, err := h.d.Identity.ListSessions(c.ctx, user.ID, false)
	if err != nil {
		return nil, err
	}
	var out []*identity.Session
	for _, s := range all {
		if status == "" || s.Status == status {
			out = append(out, s)
		}
	}
	return paginate(mapJSON(out, (*identity.Session).JSON), c), nil
}

func (h *Handler) getSession(c *call) (any, error) {
	s, err := h.d.Identity.GetSession(c.ctx, c.path("session_id"))
	if err != nil {
		return nil, err
	}
	return s.JSON(), nil
}

// revokeSession ends the session through identity, whose OnSessionEnded
// hooks revoke its tokens and queue back-channel logout in the same
// transaction. Revoking an ended session changes nothing.
func (h *Handler) revokeSession(c *call) (any, error) {
	id := c.path("session_id")
	if err := h.d.Identity.EndSession(c.ctx, id, identity.EndRevoked); err != nil {
		return nil, err
	}
	return h.getSession(c)
}
