package oidc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// Consent: third-party clients ask the user once per set of scopes; the
// answer is remembered per user and client until the user revokes it.

type consentRow struct {
	bun.BaseModel `bun:"table:oauth2_consents"`
	UserID        string    `bun:"user_id,pk"`
	ClientID      string    `bun:"client_id,pk"`
	Scopes        string    `bun:"scopes"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

func (p *Provider) consentedScopes(ctx context.Context, userID, clientID string) ([]string, error) {
	var row consentRow
	err := storage.Conn(ctx, p.store.db).NewSelect().Model(&row).
		Where("user_id = ?", userID).Where("client_id = ?", clientID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load consent: %w", err)
	}
	var scopes []string
	if err := json.Unmarshal([]byte(row.Scopes), &scopes); err != nil {
		return nil, fmt.Errorf("decode consent: %w", err)
	}
	return scopes, nil
}

// rememberConsent adds scopes to what the user granted the client.
func (p *Provider) rememberConsent(ctx context.Context, userID, clientID string, scopes []string) error {
	return storage.InTx(ctx, p.store.db, func(ctx context.Context) error {
		prev, err := p.consentedScopes(ctx, userID, clientID)
		if err != nil {
			return err
		}
		all := append(slices.Clone(prev), scopes...)
		slices.Sort(all)
		all = slices.Compact(all)
		b, _ := json.Marshal(all)
		now := p.now()
		row := &consentRow{UserID: userID, ClientID: clientID, Scopes: string(b), CreatedAt: now, UpdatedAt: now}
		_, err = storage.Conn(ctx, p.store.db).NewInsert().Model(row).
			On("CONFLICT (user_id, client_id) DO UPDATE").Set("scopes = EXCLUDED.scopes").Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("remember consent: %w", err)
		}
		return nil
	})
}

// RevokeConsent forgets what the user granted the client; the next
// authorization asks again.
func (p *Provider) RevokeConsent(ctx context.Context, userID, clientID string) error {
	_, err := storage.Conn(ctx, p.store.db).NewDelete().Model((*consentRow)(nil)).
		Where("user_id = ?", userID).Where("client_id = ?", clientID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke consent: %w", err)
	}
	return nil
}

// consentPage shows what the client asks for (GET) and records the
// user's answer (POST, buttons action=allow|deny).
func (p *Provider) consentPage(w http.ResponseWriter, r *http.Request) {
	ctx, f, user, ok := p.flowPage(w, r)
	if !ok {
		return
	}
	client, err := p.clients.Get(ctx, f.ClientID)
	if err != nil {
		p.flowError(ctx, w, r, errFlowExpired)
		return
	}
	scopes := splitSpace(f.form().Get("scope"))
	if r.Method == http.MethodGet {
		p.pages.Render(w, http.StatusOK, "consent", "consent.title", p.pageLang(r, signInContext{flow: f}), map[string]any{
			"ClientName": client.Name, "UserEmail": user.Email, "Scopes": describeScopes(scopes),
			"Flow": f.id, "Action": PathConsent,
		})
		return
	}
	switch r.PostFormValue("action") {
	case "allow":
		if err := p.rememberConsent(ctx, user.ID, client.ID, scopes); err != nil {
			p.flowError(ctx, w, r, err)
			return
		}
		now := p.now()
		f.ConsentAt = &now
		if err := p.saveFlow(ctx, f, "consent_at"); err != nil {
			p.flowError(ctx, w, r, err)
			return
		}
		http.Redirect(w, r, flowURL(PathResume, f), http.StatusSeeOther)
	case "deny":
		p.denyFlow(ctx, w, r, f, fosite.ErrAccessDenied.WithHint("The user denied the request."))
	default:
		p.renderError(w, r, http.StatusBadRequest, "error.invalid_form", "consent.error.choose", "invalid_request")
	}
}

// denyFlow ends a flow with an error sent to the client.
func (p *Provider) denyFlow(ctx context.Context, w http.ResponseWriter, r *http.Request, f *flow, reason error) {
	ar, err := p.storedRequest(ctx, r, f)
	p.deleteFlow(ctx, f)
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, err)
		return
	}
	p.writeAuthorizeError(ctx, w, r, ar, reason)
}

// describeScopes turns scope names into what the user is agreeing to:
// message keys of package ui's catalogs, or the scope's own name for a
// scope orgid does not describe (a client's custom scope).
func describeScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		out = append(out, scopeDescription(s))
	}
	return out
}

// scopeDescription is the message key describing scope, or scope itself.
func scopeDescription(scope string) string {
	switch scope {
	case "openid":
		return "scope.openid"
	case "profile":
		return "scope.profile"
	case "email":
		return "scope.email"
	case "address":
		return "scope.address"
	case "phone":
		return "scope.phone"
	case "offline_access":
		return "scope.offline_access"
	case ScopeOrganization:
		return "scope.organization"
	}
	return scope
}
