package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// The user's side of remembered consent: the applications a user allowed
// (the account pages list them) and taking that access back.

// Consent is one application the user allowed to access their account.
type Consent struct {
	ClientID   string
	ClientName string
	// ClientURI and LogoURI are what the client registered; "" if nothing.
	ClientURI string
	LogoURI   string
	// Scopes are the granted scopes, sorted; ScopeDescriptions say what
	// each gives the application, in words fit to show the user, in the
	// same order.
	Scopes            []string
	ScopeDescriptions []string
	// GrantedAt is the first consent; UpdatedAt when scopes were last
	// added.
	GrantedAt time.Time
	UpdatedAt time.Time
}

// Consents returns the applications the user allowed, most recently
// granted first.
func (p *Provider) Consents(ctx context.Context, userID string) ([]Consent, error) {
	conn := storage.Conn(ctx, p.store.db)
	var rows []consentRow
	err := conn.NewSelect().Model(&rows).Where("user_id = ?", userID).
		OrderExpr("created_at DESC, client_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list consents of user %q: %w", userID, err)
	}
	if len(rows) == 0 {
		return []Consent{}, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ClientID
	}
	var clientRows []clientRow
	if err := conn.NewSelect().Model(&clientRows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list consents of user %q: load clients: %w", userID, err)
	}
	clients := make(map[string]*Client, len(clientRows))
	for i := range clientRows {
		c, err := clientRows[i].client()
		if err != nil {
			return nil, err
		}
		clients[c.ID] = c
	}
	out := make([]Consent, 0, len(rows))
	for _, r := range rows {
		c, ok := clients[r.ClientID]
		if !ok {
			continue // deleted since: its consent went with it
		}
		var scopes []string
		if err := json.Unmarshal([]byte(r.Scopes), &scopes); err != nil {
			return nil, fmt.Errorf("decode consent of user %q for %q: %w", userID, r.ClientID, err)
		}
		if scopes == nil {
			scopes = []string{}
		}
		out = append(out, Consent{
			ClientID: c.ID, ClientName: c.Name, ClientURI: c.Metadata.ClientURI, LogoURI: c.Metadata.LogoURI,
			Scopes: scopes, ScopeDescriptions: describeScopes(scopes),
			GrantedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		})
	}
	return out, nil
}

// RevokeApplication takes back what the user allowed the client, in one
// transaction: it forgets the consent (the next authorization asks again),
// deletes the client's access tokens for the user, and deactivates its
// refresh tokens and unredeemed authorization codes — presenting one later
// counts as reuse, which also revokes anything it issued. A user who never
// allowed the client gets an error wrapping storage.ErrNotFound, and nothing
// changes.
//
// Access tokens are JWTs that resource servers verify offline; they stay
// valid there until they expire, but userinfo and introspection refuse
// them at once.
func (p *Provider) RevokeApplication(ctx context.Context, userID, clientID string) error {
	err := storage.InTx(ctx, p.store.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, p.store.db)
		res, err := conn.NewDelete().Model((*consentRow)(nil)).
			Where("user_id = ?", userID).Where("client_id = ?", clientID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("no consent: %w", storage.ErrNotFound)
		}
		return p.store.revokeClientSubject(ctx, clientID, userID)
	})
	if err != nil {
		return fmt.Errorf("revoke application %q for user %q: %w", clientID, userID, err)
	}
	return nil
}

// revokeClientSubject revokes every code and token the client holds for
// the subject (a user id: rows keep the user id even for pairwise clients).
func (s *store) revokeClientSubject(ctx context.Context, clientID, subject string) error {
	db := s.conn(ctx)
	if _, err := db.NewDelete().TableExpr(tableAccess).
		Where("client_id = ?", clientID).Where("subject = ?", subject).Exec(ctx); err != nil {
		return fmt.Errorf("revoke access tokens: %w", err)
	}
	for _, table := range []string{tableRefresh, tableCodes} {
		if _, err := db.NewUpdate().TableExpr(table).Set("active = ?", false).
			Where("client_id = ?", clientID).Where("subject = ?", subject).Where("active = ?", true).
			Exec(ctx); err != nil {
			return fmt.Errorf("revoke %s: %w", table, err)
		}
	}
	return nil
}
