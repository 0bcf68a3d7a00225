package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// MagicLinkLifetime is how long an emailed sign-in link works.
const MagicLinkLifetime = 10 * time.Minute

// RequestMagicLink issues a single-use sign-in link (a 256-bit token valid
// for MagicLinkLifetime) for the account of email, bound to the browser
// that asked (binding). Like RequestPasswordReset it answers an unknown,
// banned or locked account with a nil link and a nil error, and throttles
// per address and client address whether or not the account exists.
func (s *Service) RequestMagicLink(ctx context.Context, email, binding, clientIP string) (*EmailLink, error) {
	if binding == "" {
		return nil, errNoBinding
	}
	return s.requestLink(ctx, linkMagic, email, binding, clientIP, MagicLinkLifetime)
}

// RedeemMagicLink signs in with a magic link token in the browser that
// asked for it. A token that is unknown, used or expired gives
// ErrLinkInvalid and counts as a failure of clientIP; the right token in
// another browser gives ErrLinkOtherBrowser and stays usable, so that a
// link forwarded, intercepted or opened by a mail scanner cannot sign
// anyone else in or spend the owner's link. Redeeming uses the token (once,
// even under concurrent requests), marks the address verified — the link
// reached it — and records the sign-in. Banned and locked users get
// ErrLinkInvalid.
func (s *Service) RedeemMagicLink(ctx context.Context, token, binding, clientIP string) (*User, error) {
	ipKey := ""
	if clientIP != "" {
		ipKey = s.ipKey(clientIP)
	}
	now := s.clock()
	if err := s.checkThrottle(ctx, s.db, now, ipKey); err != nil {
		return nil, err
	}
	link, err := s.loadLink(ctx, linkMagic, token)
	if errors.Is(err, ErrLinkInvalid) {
		if err := s.recordFailure(ctx, s.db, now, ipKey); err != nil {
			return nil, err
		}
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	if binding == "" || !secret.Equal(link.BindingHash, s.bindingHash(binding)) {
		return nil, ErrLinkOtherBrowser
	}
	u, err := s.loadActiveUser(ctx, link.UserID)
	if err != nil {
		return nil, err
	}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		if err := s.useLink(ctx, link); err != nil {
			return err
		}
		u, err = s.changeUserIf(ctx, u.ID, "magic link sign-in", func(row *userRow) (bool, error) {
			if row.EmailVerified {
				return false, nil
			}
			row.EmailVerified = true
			return true, nil
		}, "email_verified")
		if err != nil {
			return err
		}
		u.LastSignInAt = now
		_, err = storage.Conn(ctx, s.db).NewUpdate().Model((*userRow)(nil)).
			Set("last_sign_in_at = ?", now).Where("id = ?", u.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redeem magic link: %w", err)
	}
	return u, nil
}
