package oidc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// The device authorization grant (RFC 8628), for devices that cannot show
// a browser (TVs, command-line tools). fosite v0.49.0 has none, so orgid
// has its own: the device authorization endpoint (here), the hosted
// verification page /device (device_page.go) and a token endpoint handler
// for the device_code grant (device_grant.go).
//
//	POST /oauth2/device_authorization   client_id, scope
//	  → device_code (256-bit secret, stored as a keyed hash), user_code
//	    (8 letters of an unambiguous alphabet), verification_uri, interval
//	the user opens /device, types the code, signs in through the normal
//	flow, confirms on a page that names the application and shows the
//	code, chooses an organization when asked
//	POST /oauth2/token   grant_type=urn:ietf:params:oauth:grant-type:device_code
//	  → authorization_pending, slow_down, access_denied, expired_token, or
//	    the tokens, once
//
// The approved grant belongs to the browser session that approved it, as
// an authorization code's grant does: signing that session out revokes
// the device's tokens.

// GrantDeviceCode is the device code grant type (RFC 8628 §3.4).
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// Paths of the device authorization endpoint and the verification page.
const (
	PathDeviceAuthorization = "/oauth2/device_authorization"
	PathDevice              = "/device"
)

// Device authorization parameters.
const (
	deviceCodeLifetime = 10 * time.Minute
	devicePollInterval = 5 * time.Second
	// slowDownStep is how much every slow_down lengthens the interval
	// (RFC 8628 §3.5).
	slowDownStep = 5 * time.Second
	// userCodeAlphabet has no vowels (no words) and no look-alikes
	// (RFC 8628 §6.1): 20^8 ≈ 2^34.6 codes, guessed only as fast as
	// deviceEntryLimit allows.
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8
)

// deviceEntryLimit bounds the user codes a client address may try on
// /device.
var deviceEntryLimit = limit{purpose: "device-entry", max: 20, window: 15 * time.Minute}

// Device authorization states.
const (
	deviceStatusPending  = "pending"
	deviceStatusApproved = "approved"
	deviceStatusDenied   = "denied"
	deviceStatusUsed     = "used"
)

type deviceRow struct {
	bun.BaseModel   `bun:"table:oauth2_device_codes"`
	DeviceHash      string     `bun:"device_hash,pk"`
	UserCodeHash    string     `bun:"user_code_hash"`
	ClientID        string     `bun:"client_id"`
	Scope           string     `bun:"scope"`
	Status          string     `bun:"status"`
	IntervalSeconds int        `bun:"interval_seconds"`
	CreatedAt       time.Time  `bun:"created_at"`
	ExpiresAt       time.Time  `bun:"expires_at"`
	LastPolledAt    *time.Time `bun:"last_polled_at"`
	DecidedAt       *time.Time `bun:"decided_at"`
	SessionID       *string    `bun:"session_id"`
	GrantData       *string    `bun:"grant_data"`
}

func (d *deviceRow) live(now time.Time) bool { return d.ExpiresAt.After(now) }

// deviceAuthorization is the device authorization endpoint (RFC 8628
// §3.1–3.2). Phases: authenticate the client as at the token endpoint
// (public clients send client_id), check the grant and scopes, store,
// answer.
func (p *Provider) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.", "")
		return
	}
	challenge := `Basic realm="` + p.cfg.Issuer + `"`
	fc, err := p.authenticateClient(ctx, r, r.PostForm)
	if err != nil {
		p.writeFositeJSONError(ctx, w, err, challenge)
		return
	}
	client := fc.(*Client)
	if !client.HasGrant(GrantDeviceCode) {
		writeJSONError(w, http.StatusBadRequest, "unauthorized_client", "The client may not use the device authorization grant.", "")
		return
	}
	scopes := splitSpace(r.PostForm.Get("scope"))
	for _, s := range scopes {
		if !contains(client.Metadata.Scopes, s) {
			writeJSONError(w, http.StatusBadRequest, "invalid_scope", fmt.Sprintf("The client may not request the scope %q.", s), "")
			return
		}
	}
	deviceCode, userCode, err := p.createDeviceAuthorization(ctx, client.ID, strings.Join(scopes, " "))
	if err != nil {
		p.log.ErrorContext(ctx, "device authorization", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return
	}
	verification := p.cfg.Issuer + PathDevice
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          verification,
		"verification_uri_complete": verification + "?user_code=" + userCode,
		"expires_in":                int(deviceCodeLifetime / time.Second),
		"interval":                  int(devicePollInterval / time.Second),
	})
}

// createDeviceAuthorization stores a pending device authorization and
// returns its device code and its user code as shown (XXXX-XXXX).
func (p *Provider) createDeviceAuthorization(ctx context.Context, clientID, scope string) (string, string, error) {
	deviceCode := secret.Token("")
	now := p.now()
	for attempt := 0; ; attempt++ {
		userCode, err := newUserCode()
		if err != nil {
			return "", "", err
		}
		row := &deviceRow{
			DeviceHash: p.deviceHash(deviceCode), UserCodeHash: p.userCodeHash(userCode), ClientID: clientID, Scope: scope,
			Status: deviceStatusPending, IntervalSeconds: int(devicePollInterval / time.Second),
			CreatedAt: now, ExpiresAt: now.Add(deviceCodeLifetime),
		}
		_, err = storage.Conn(ctx, p.store.db).NewInsert().Model(row).Exec(ctx)
		if storage.IsUniqueViolation(err) && attempt < 3 {
			continue // another live authorization drew the same user code
		}
		if err != nil {
			return "", "", fmt.Errorf("store device authorization: %w", err)
		}
		return deviceCode, userCode[:4] + "-" + userCode[4:], nil
	}
}

// newUserCode draws a user code from userCodeAlphabet.
func newUserCode() (string, error) {
	var b strings.Builder
	n := big.NewInt(int64(len(userCodeAlphabet)))
	for range userCodeLength {
		i, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("draw user code: %w", err)
		}
		b.WriteByte(userCodeAlphabet[i.Int64()])
	}
	return b.String(), nil
}

// normalizeUserCode accepts what a person types: any case, with dashes or
// spaces. It returns "" for anything that cannot be a user code.
func normalizeUserCode(typed string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != userCodeLength {
		return ""
	}
	return b.String()
}

func (p *Provider) deviceHash(deviceCode string) string {
	return p.secrets.Hash("orgid/device-code:" + deviceCode)
}

func (p *Provider) userCodeHash(normalized string) string {
	return p.secrets.Hash("orgid/user-code:" + normalized)
}

// deviceByUserCode finds a pending, live device authorization by the code
// the user typed; storage.ErrNotFound otherwise.
func (p *Provider) deviceByUserCode(ctx context.Context, typed string) (*deviceRow, error) {
	code := normalizeUserCode(typed)
	if code == "" {
		return nil, storage.ErrNotFound
	}
	var row deviceRow
	err := storage.Conn(ctx, p.store.db).NewSelect().Model(&row).Where("user_code_hash = ?", p.userCodeHash(code)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load device authorization: %w", err)
	}
	if row.Status != deviceStatusPending || !row.live(p.now()) {
		return nil, storage.ErrNotFound
	}
	return &row, nil
}

// deviceByHash loads a device authorization by its key.
func (p *Provider) deviceByHash(ctx context.Context, hash string) (*deviceRow, error) {
	var row deviceRow
	err := storage.Conn(ctx, p.store.db).NewSelect().Model(&row).Where("device_hash = ?", hash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load device authorization: %w", err)
	}
	return &row, nil
}

// decideDevice records the user's decision on a pending, live device
// authorization: approved with the grant, or denied. It reports false when
// the authorization was no longer pending (decided elsewhere, expired).
func (p *Provider) decideDevice(ctx context.Context, hash, status string, sessionID, grantData *string) (bool, error) {
	now := p.now()
	res, err := storage.Conn(ctx, p.store.db).NewUpdate().Model((*deviceRow)(nil)).
		Set("status = ?", status).Set("decided_at = ?", now).Set("session_id = ?", sessionID).Set("grant_data = ?", grantData).
		Where("device_hash = ?", hash).Where("status = ?", deviceStatusPending).Where("expires_at > ?", now).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record device decision: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
