package server

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/egress"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/webhook"
)

// Services are the capabilities of orgid wired together, without HTTP:
// the server mounts their routes, the CLI calls them directly, so a
// command-line change has the same effects (webhook events, token
// revocation) as the same change through the server.
type Services struct {
	Events    *webhook.Outbox
	Webhooks  *webhook.Service
	Keys      *keys.Manager
	Identity  *identity.Service
	RBAC      *rbac.Service
	Tenancy   *tenancy.Service
	Clients   *oidc.Clients
	Templates *templates.Service
	Mailer    mail.Mailer
}

// KeyPublishMargin keeps a retired key published this long beyond the
// longest token it may have signed: replicas reload keys every
// Config.KeyReloadInterval (at most this margin) and may sign with the old
// key until then.
const KeyPublishMargin = 15 * time.Minute

// NewServices wires every service on base. Signing keys are loaded (and
// generated on first start).
func NewServices(ctx context.Context, base *Base, opts Options) (*Services, error) {
	cfg := base.Config
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Services{Events: webhook.NewOutbox(base.DB, now)}
	if _, err := s.Events.InstanceID(ctx); err != nil {
		return nil, fmt.Errorf("instance id: %w", err)
	}
	s.Webhooks = webhook.NewService(base.DB, base.Keys, webhook.ServiceOptions{Now: now})
	s.Keys = keys.NewManager(base.DB, base.Keys, keys.Options{
		DefaultAlgorithm: cfg.SigningAlgorithm,
		MaxTokenLifetime: max(cfg.AccessTokenLifetime, cfg.IDTokenLifetime) + KeyPublishMargin,
		Now:              now,
		Logger:           base.Logger,
	})
	if err := s.Keys.Init(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	mailer, err := newMailer(base)
	if err != nil {
		return nil, err
	}
	s.Mailer = mailer
	s.Identity = identity.New(base.DB, identity.Options{
		Keys:               base.Keys,
		Events:             s.Events,
		Now:                now,
		SessionIdleTimeout: cfg.SessionIdleTimeout,
		SessionMaxLifetime: cfg.SessionMaxLifetime,
		PasswordParams:     opts.PasswordParams,
		Logger:             base.Logger,
		WebAuthn:           webAuthnConfig(cfg.Issuer),
		// Upstream identity providers are reached like client URLs: public
		// addresses only, unless the operator allows a host.
		HTTPClient: egress.NewClient(egress.Options{AllowHosts: cfg.EgressAllowHosts}),
		// Ending a browser session, by any means, revokes its tokens and
		// queues its clients' back-channel logout notifications in the
		// same transaction.
		OnSessionEnded: []func(ctx context.Context, sess *identity.Session) error{
			oidc.RevokeSessionTokens(base.DB),
			oidc.QueueBackchannelLogout(base.DB, now),
		},
	})
	s.RBAC = rbac.New(base.DB, rbac.Options{Events: s.Events, RoleUsage: tenancy.RoleUsage(base.DB), Now: now})
	s.Tenancy = tenancy.New(base.DB, tenancy.Options{
		RBAC: s.RBAC, Users: s.Identity, Keys: base.Keys, Sessions: s.Identity, Events: s.Events,
		Mailer: mailer, BaseURL: cfg.Issuer, Now: now, Logger: base.Logger,
	})
	s.Clients = oidc.NewClients(base.DB, base.Keys, now)
	s.Templates = templates.NewService(base.DB, templates.Options{Algorithms: s.Keys.Algorithms(), Now: now})
	return s, nil
}

// webAuthnConfig makes the issuer's host the passkeys' relying party, or
// returns nil (no passkeys) when it is an IP address, which browsers do not
// accept as a relying party id.
func webAuthnConfig(issuer string) *identity.WebAuthnConfig {
	u, err := url.Parse(issuer)
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return nil
	}
	return &identity.WebAuthnConfig{RPID: u.Hostname(), RPDisplayName: u.Hostname(), Origins: []string{u.Scheme + "://" + u.Host}}
}

// newMailer sends mail through SMTP when it is configured, else into the
// development outbox file in the data directory.
func newMailer(base *Base) (mail.Mailer, error) {
	c := base.Config
	if c.SMTPHost == "" {
		return mail.NewOutbox(mail.DefaultOutboxPath(c.DataDir), base.Logger), nil
	}
	m, err := mail.NewSMTP(mail.SMTPConfig{Host: c.SMTPHost, Port: c.SMTPPort, Username: c.SMTPUsername, Password: c.SMTPPassword, From: c.SMTPFrom})
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return m, nil
}
