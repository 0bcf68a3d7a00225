package oidc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// A flow is an authorization request waiting for the user: to sign in, to
// consent, to choose an organization. The request's parameters are kept
// server-side and the browser carries only a random flow id, so the request
// is resumed exactly as the client sent it, with its original time (which
// prompt=login and max_age are measured against).
//
// A flow is bound to the browser that started it (the orgid_browser
// cookie): a flow id sent to someone else cannot be completed in their
// browser, which defeats luring a victim through sign-in to mint a code for
// an attacker's request.
type flow struct {
	bun.BaseModel `bun:"table:oauth2_flows"`
	IDHash        string     `bun:"id_hash,pk"`
	BrowserHash   string     `bun:"browser_hash"`
	ClientID      string     `bun:"client_id"`
	Form          string     `bun:"form"`
	RequestedAt   time.Time  `bun:"requested_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	SessionID     *string    `bun:"session_id"`
	LoginAt       *time.Time `bun:"login_at"`
	ConsentAt     *time.Time `bun:"consent_at"`
	OrgID         *string    `bun:"org_id"`
	OrgChosen     bool       `bun:"org_chosen"`
	// ParHash is the pushed authorization request the flow started from.
	ParHash *string `bun:"par_hash"`
	// DeviceHash is the device authorization the flow approves (RFC 8628):
	// it ends in approveDevice instead of an authorization response.
	DeviceHash *string `bun:"device_hash"`
	// StepUpAt is when the flow sent the user to a second factor for the
	// request's acr (stepup.go).
	StepUpAt *time.Time `bun:"step_up_at"`

	// id is the raw flow id; only its hash is stored.
	id string `bun:"-"`
}

func (f *flow) form() url.Values {
	v, _ := url.ParseQuery(f.Form)
	return v
}

// loggedInWith reports whether the user signed in during this flow, with
// the given browser session.
func (f *flow) loggedInWith(sessionID string) bool {
	return f.LoginAt != nil && f.SessionID != nil && *f.SessionID == sessionID
}

// browserID returns the browser's binding id, setting the cookie when the
// browser has none yet.
func (p *Provider) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookieBrowser); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	v := secret.RandomString(32)
	http.SetCookie(w, &http.Cookie{
		Name: cookieBrowser, Value: v, Path: "/", MaxAge: 400 * 24 * 3600,
		HttpOnly: true, Secure: p.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	return v
}

func (p *Provider) createFlow(ctx context.Context, browser, clientID string, form url.Values, requestedAt time.Time, parHash string) (*flow, error) {
	raw := secret.Token("")
	f := &flow{
		IDHash: p.secrets.Hash(raw), BrowserHash: p.secrets.Hash(browser), ClientID: clientID,
		Form: form.Encode(), RequestedAt: requestedAt, ExpiresAt: requestedAt.Add(p.cfg.FlowLifetime), id: raw,
	}
	if parHash != "" {
		f.ParHash = &parHash
	}
	if _, err := storage.Conn(ctx, p.store.db).NewInsert().Model(f).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create authorization flow: %w", err)
	}
	return f, nil
}

// loadFlow finds a live flow by its raw id for this browser.
func (p *Provider) loadFlow(ctx context.Context, rawID, browser string) (*flow, error) {
	if rawID == "" || browser == "" {
		return nil, errFlowExpired
	}
	f := new(flow)
	err := storage.Conn(ctx, p.store.db).NewSelect().Model(f).Where("id_hash = ?", p.secrets.Hash(rawID)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errFlowExpired
	}
	if err != nil {
		return nil, fmt.Errorf("load authorization flow: %w", err)
	}
	if !secret.Equal(f.BrowserHash, p.secrets.Hash(browser)) || !f.ExpiresAt.After(p.now()) {
		return nil, errFlowExpired
	}
	f.id = rawID
	f.RequestedAt = f.RequestedAt.UTC()
	return f, nil
}

func (p *Provider) saveFlow(ctx context.Context, f *flow, columns ...string) error {
	if _, err := storage.Conn(ctx, p.store.db).NewUpdate().Model(f).Column(columns...).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update authorization flow: %w", err)
	}
	return nil
}

func (p *Provider) deleteFlow(ctx context.Context, f *flow) {
	if f == nil {
		return
	}
	if _, err := storage.Conn(ctx, p.store.db).NewDelete().Model(f).WherePK().Exec(ctx); err != nil {
		// Harmless: the row expires and is cleaned up.
		p.log.WarnContext(ctx, "delete authorization flow", "error", err)
	}
}

// flowURL is a hosted page's address for a flow.
func flowURL(path string, f *flow) string {
	return path + "?flow=" + url.QueryEscape(f.id)
}

// flowPage is the prologue of the hosted pages inside a flow (consent,
// organization chooser): the flow of this browser (its id in the query, or
// the form on POST) and the signed-in user. A signed-out browser goes to
// sign-in within the flow. When ok is false the page has been answered.
func (p *Provider) flowPage(w http.ResponseWriter, r *http.Request) (ctx context.Context, f *flow, user *identity.User, ok bool) {
	ctx = withClientCache(r.Context())
	flowID := r.URL.Query().Get("flow")
	if r.Method == http.MethodPost {
		flowID = r.PostFormValue("flow")
	}
	f, err := p.loadFlow(ctx, flowID, p.browserID(w, r))
	if err != nil {
		p.flowError(ctx, w, r, err)
		return ctx, nil, nil, false
	}
	sess, user, err := p.currentUser(ctx, r)
	if err != nil {
		p.flowError(ctx, w, r, err)
		return ctx, nil, nil, false
	}
	if sess == nil {
		http.Redirect(w, r, flowURL(PathSignIn, f), http.StatusSeeOther)
		return ctx, nil, nil, false
	}
	return ctx, f, user, true
}
