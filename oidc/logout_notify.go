package oidc

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// Which relying parties hear that a browser session ended: every client
// that received a code or tokens in the session (recorded when the
// authorization response is issued, with the sub that client saw) and
// registered a front-channel or back-channel logout URI.
//
// Back-channel notifications are durable: QueueBackchannelLogout runs as an
// identity.OnSessionEnded hook, inside the transaction that ends the
// session — however it ends: sign-out, RP-initiated logout, revocation by
// the user or an operator, expiry, a banned or deleted user — and writes
// one oauth2_logout_deliveries row per client. BackchannelWorker delivers
// them, with retries, after the commit. Front-channel notifications are
// iframes on the page that confirms a sign-out in the browser.

// sessionClientRow is a client a browser session signed in to.
type sessionClientRow struct {
	bun.BaseModel `bun:"table:oauth2_session_clients"`
	SessionID     string    `bun:"session_id,pk"`
	ClientID      string    `bun:"client_id,pk"`
	Subject       string    `bun:"subject"`
	CreatedAt     time.Time `bun:"created_at"`
}

// recordSessionClient remembers that the session issued to the client.
func (p *Provider) recordSessionClient(ctx context.Context, sessionID, clientID, subject string) error {
	row := &sessionClientRow{SessionID: sessionID, ClientID: clientID, Subject: subject, CreatedAt: p.now().Truncate(time.Microsecond)}
	_, err := storage.Conn(ctx, p.store.db).NewInsert().Model(row).
		On("CONFLICT (session_id, client_id) DO UPDATE").Set("subject = EXCLUDED.subject").Exec(ctx)
	if err != nil {
		return fmt.Errorf("record client of session: %w", err)
	}
	return nil
}

// notifiedClient is a client of an ended session with its logout URIs.
type notifiedClient struct {
	client  *Client
	subject string
}

// sessionClients returns the clients a session signed in to.
func sessionClients(ctx context.Context, db *bun.DB, sessionID string) ([]notifiedClient, error) {
	var links []sessionClientRow
	if err := storage.Conn(ctx, db).NewSelect().Model(&links).Where("session_id = ?", sessionID).
		Order("created_at", "client_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load clients of session: %w", err)
	}
	if len(links) == 0 {
		return nil, nil
	}
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = l.ClientID
	}
	var clients []clientRow
	if err := storage.Conn(ctx, db).NewSelect().Model(&clients).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load clients of session: %w", err)
	}
	byID := map[string]*Client{}
	for i := range clients {
		c, err := clients[i].client()
		if err != nil {
			return nil, err
		}
		byID[c.ID] = c
	}
	out := make([]notifiedClient, 0, len(links))
	for _, l := range links {
		if c, ok := byID[l.ClientID]; ok {
			out = append(out, notifiedClient{client: c, subject: l.Subject})
		}
	}
	return out, nil
}

// logoutDeliveryRow is a back-channel logout notification.
type logoutDeliveryRow struct {
	bun.BaseModel  `bun:"table:oauth2_logout_deliveries"`
	ID             string     `bun:"id,pk"`
	ClientID       string     `bun:"client_id"`
	SessionID      string     `bun:"session_id"`
	Subject        string     `bun:"subject"`
	URL            string     `bun:"url"`
	Status         string     `bun:"status"`
	Attempts       int        `bun:"attempts"`
	NextAttemptAt  *time.Time `bun:"next_attempt_at"`
	LeaseToken     *string    `bun:"lease_token"`
	LeaseExpiresAt *time.Time `bun:"lease_expires_at"`
	LastStatusCode *int       `bun:"last_status_code"`
	LastError      string     `bun:"last_error"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// Delivery statuses.
const (
	logoutPending   = "pending"
	logoutDelivered = "delivered"
	logoutFailed    = "failed"
)

// QueueBackchannelLogout returns the identity.OnSessionEnded hook that
// queues a back-channel logout notification for every client of the
// session with a backchannel_logout_uri, inside the transaction that ends
// the session: the notification commits with the ending or not at all.
// Like RevokeSessionTokens it needs only the database, so the CLI ends
// sessions as the server does; now is the clock (nil: time.Now).
func QueueBackchannelLogout(db *bun.DB, now func() time.Time) func(ctx context.Context, sess *identity.Session) error {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, sess *identity.Session) error {
		clients, err := sessionClients(ctx, db, sess.ID)
		if err != nil {
			return err
		}
		t := now().UTC().Truncate(time.Microsecond)
		for _, nc := range clients {
			uri := nc.client.Metadata.BackchannelLogoutURI
			if uri == "" {
				continue
			}
			row := &logoutDeliveryRow{
				ID: id.New("bclogout"), ClientID: nc.client.ID, SessionID: sess.ID, Subject: nc.subject, URL: uri,
				Status: logoutPending, NextAttemptAt: &t, CreatedAt: t, UpdatedAt: t,
			}
			if _, err := storage.Conn(ctx, db).NewInsert().Model(row).On("CONFLICT (session_id, client_id) DO NOTHING").Exec(ctx); err != nil {
				return fmt.Errorf("queue back-channel logout for client %q: %w", nc.client.ID, err)
			}
		}
		return nil
	}
}
