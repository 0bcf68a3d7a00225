package identity

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// WebAuthnConfig names the relying party passkeys are bound to: RPID is
// the issuer's host name (passkeys work on it and its subdomains), Origins
// the origins pages run the ceremonies on (the issuer's).
type WebAuthnConfig struct {
	RPID          string
	RPDisplayName string
	Origins       []string
}

// Passkey ceremonies must finish within this time.
const passkeyChallengeLifetime = 5 * time.Minute

// maxPasskeyNameLength bounds the user's name for a passkey.
const maxPasskeyNameLength = 64

var (
	// ErrPasskeysDisabled: the server has no WebAuthn relying party (its
	// issuer's host is an IP address, which browsers refuse as RP ID).
	ErrPasskeysDisabled = errors.New("passkeys are not available on this server")
	// ErrPasskeyCeremony: the ceremony's challenge is unknown, expired,
	// used, or another browser's; start again.
	ErrPasskeyCeremony = errors.New("the passkey request has expired")
	// ErrPasskeyInvalid: the authenticator's answer did not verify.
	ErrPasskeyInvalid = errors.New("the passkey could not be verified")
)

// Passkey is one of a user's WebAuthn credentials.
type Passkey struct {
	ID   string
	Name string
	// Synced: the credential is backed up (a synced passkey) rather than
	// bound to one device.
	Synced     bool
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never
}

type passkeyRow struct {
	bun.BaseModel `bun:"table:webauthn_credentials"`

	ID           string    `bun:"id,pk"`
	UserID       string    `bun:"user_id"`
	CredentialID []byte    `bun:"credential_id"`
	Credential   string    `bun:"credential"`
	Name         string    `bun:"name"`
	CreatedAt    time.Time `bun:"created_at"`
	LastUsedAt   time.Time `bun:"last_used_at,nullzero"`
}

func (r *passkeyRow) credential() (webauthn.Credential, error) {
	var c webauthn.Credential
	if err := json.Unmarshal([]byte(r.Credential), &c); err != nil {
		return c, fmt.Errorf("passkey %s: %w", r.ID, err)
	}
	return c, nil
}

func (r *passkeyRow) toPasskey() (*Passkey, error) {
	c, err := r.credential()
	if err != nil {
		return nil, err
	}
	return &Passkey{ID: r.ID, Name: r.Name, Synced: c.Flags.BackupState, CreatedAt: utc(r.CreatedAt), LastUsedAt: utc(r.LastUsedAt)}, nil
}

type challengeRow struct {
	bun.BaseModel `bun:"table:webauthn_challenges"`

	IDHash      string    `bun:"id_hash,pk"`
	Purpose     string    `bun:"purpose"`
	UserID      string    `bun:"user_id,nullzero"`
	BindingHash string    `bun:"binding_hash"`
	Session     string    `bun:"session"`
	ExpiresAt   time.Time `bun:"expires_at"`
	CreatedAt   time.Time `bun:"created_at"`
}

// webauthnUser is a user as go-webauthn sees it. The user handle is the
// user id: opaque, stable, and no personal data.
type webauthnUser struct {
	u     *User
	creds []webauthn.Credential
}

func (w *webauthnUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *webauthnUser) WebAuthnName() string                       { return w.u.Email }
func (w *webauthnUser) WebAuthnDisplayName() string                { return displayName(w.u) }
func (w *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func displayName(u *User) string {
	if n := u.FullName(); n != "" {
		return n
	}
	return u.Email
}

// newWebAuthn builds the relying party, or nil when cfg is nil.
func newWebAuthn(cfg *WebAuthnConfig) (*webauthn.WebAuthn, error) {
	if cfg == nil {
		return nil, nil
	}
	return webauthn.New(&webauthn.Config{
		RPID: cfg.RPID, RPDisplayName: cfg.RPDisplayName, RPOrigins: cfg.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: passkeyChallengeLifetime},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: passkeyChallengeLifetime},
		},
	})
}

// PasskeysEnabled reports whether this server offers passkeys.
func (s *Service) PasskeysEnabled() bool { return s.webauthn != nil }

// userCredentials loads the user's passkeys as rows and library records.
func (s *Service) userCredentials(ctx context.Context, conn bun.IDB, userID string) ([]passkeyRow, []webauthn.Credential, error) {
	var rows []passkeyRow
	if err := conn.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load passkeys of user %q: %w", userID, err)
	}
	creds := make([]webauthn.Credential, len(rows))
	for i := range rows {
		c, err := rows[i].credential()
		if err != nil {
			return nil, nil, err
		}
		creds[i] = c
	}
	return rows, creds, nil
}

// saveChallenge stores a ceremony's session data and returns its handle.
func (s *Service) saveChallenge(ctx context.Context, purpose, userID, binding string, session *webauthn.SessionData) (string, error) {
	if binding == "" {
		return "", errNoBinding
	}
	data, err := json.Marshal(session)
	if err != nil {
		return "", err
	}
	now := s.clock()
	handle := secret.Token("")
	row := &challengeRow{
		IDHash: s.keys.Hash("orgid/webauthn-challenge:" + handle), Purpose: purpose, UserID: userID,
		BindingHash: s.bindingHash(binding), Session: string(data), ExpiresAt: now.Add(passkeyChallengeLifetime), CreatedAt: now,
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("store passkey challenge: %w", err)
	}
	return handle, nil
}

// takeChallenge deletes and returns the ceremony of handle for this
// browser; of concurrent answers to one challenge only one gets it.
func (s *Service) takeChallenge(ctx context.Context, purpose, handle, binding string) (*challengeRow, *webauthn.SessionData, error) {
	if handle == "" || binding == "" {
		return nil, nil, ErrPasskeyCeremony
	}
	row := new(challengeRow)
	err := s.db.NewDelete().Model(row).
		Where("id_hash = ?", s.keys.Hash("orgid/webauthn-challenge:"+safeText(handle))).Where("purpose = ?", purpose).
		Where("binding_hash = ?", s.bindingHash(binding)).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrPasskeyCeremony
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load passkey challenge: %w", err)
	}
	if !s.clock().Before(row.ExpiresAt) {
		return nil, nil, ErrPasskeyCeremony
	}
	var session webauthn.SessionData
	if err := json.Unmarshal([]byte(row.Session), &session); err != nil {
		return nil, nil, fmt.Errorf("passkey challenge: %w", err)
	}
	return row, &session, nil
}

// BeginPasskeyRegistration starts adding a passkey to the user's account
// in this browser. It returns the handle of the ceremony and the options
// for navigator.credentials.create (JSON, {"publicKey": …}): a
// discoverable credential with user verification, excluding the user's
// existing passkeys.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userID, binding string) (string, []byte, error) {
	if s.webauthn == nil {
		return "", nil, ErrPasskeysDisabled
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	_, creds, err := s.userCredentials(ctx, storage.Conn(ctx, s.db), u.ID)
	if err != nil {
		return "", nil, err
	}
	exclude := make([]protocol.CredentialDescriptor, len(creds))
	for i := range creds {
		exclude[i] = creds[i].Descriptor()
	}
	options, session, err := s.webauthn.BeginRegistration(&webauthnUser{u: u, creds: creds}, webauthn.WithExclusions(exclude))
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	handle, err := s.saveChallenge(ctx, "register", u.ID, binding, session)
	if err != nil {
		return "", nil, err
	}
	out, err := json.Marshal(options)
	return handle, out, err
}

// FinishPasskeyRegistration verifies the authenticator's answer
// (response: the PublicKeyCredential as JSON) to the ceremony of handle
// and stores the passkey under name, recording "user.updated". An answer
// that does not verify gives ErrPasskeyInvalid; a stale ceremony
// ErrPasskeyCeremony.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userID, binding, handle, name string, response []byte) (*Passkey, error) {
	if s.webauthn == nil {
		return nil, ErrPasskeysDisabled
	}
	ch, session, err := s.takeChallenge(ctx, "register", handle, binding)
	if err != nil {
		return nil, err
	}
	if ch.UserID != userID {
		return nil, ErrPasskeyCeremony
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeyInvalid, err)
	}
	_, creds, err := s.userCredentials(ctx, storage.Conn(ctx, s.db), u.ID)
	if err != nil {
		return nil, err
	}
	cred, err := s.webauthn.CreateCredential(&webauthnUser{u: u, creds: creds}, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskeyInvalid, err)
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	name = strings.TrimSpace(safeText(name))
	if name == "" {
		name = "Passkey"
	}
	for utf8.RuneCountInString(name) > maxPasskeyNameLength {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	row := &passkeyRow{
		ID: id.NewAt("pk", now), UserID: u.ID, CredentialID: cred.ID, Credential: string(record), Name: name, CreatedAt: now,
	}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("%w: this passkey is already registered", ErrPasskeyInvalid)
			}
			return err
		}
		_, err := s.changeUserIf(ctx, u.ID, "add passkey", func(*userRow) (bool, error) { return true, nil })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("add passkey for user %q: %w", userID, err)
	}
	return row.toPasskey()
}

// BeginPasskeySignIn starts a passkey sign-in in this browser: the handle
// of the ceremony and the options for navigator.credentials.get (JSON,
// {"publicKey": …}) asking for any discoverable credential of this relying
// party, with user verification.
func (s *Service) BeginPasskeySignIn(ctx context.Context, binding string) (string, []byte, error) {
	if s.webauthn == nil {
		return "", nil, ErrPasskeysDisabled
	}
	options, session, err := s.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", nil, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	handle, err := s.saveChallenge(ctx, "sign_in", "", binding, session)
	if err != nil {
		return "", nil, err
	}
	out, err := json.Marshal(options)
	return handle, out, err
}

// FinishPasskeySignIn verifies the authenticator's answer to the sign-in
// ceremony of handle and returns the user and the amr of the sign-in:
// ["hwk", "user"] (a key the user holds, unlocked by the user: two
// factors, acr "2"). Every failure — unknown passkey, bad signature,
// missing user verification, a signature counter that went backwards (a
// cloned authenticator), a banned or locked user — is
// ErrInvalidCredentials and counts against clientIP.
func (s *Service) FinishPasskeySignIn(ctx context.Context, binding, handle string, response []byte, clientIP string) (*User, []string, error) {
	if s.webauthn == nil {
		return nil, nil, ErrPasskeysDisabled
	}
	ipKey := ""
	if clientIP != "" {
		ipKey = s.ipKey(clientIP)
	}
	now := s.clock()
	if err := s.checkThrottle(ctx, s.db, now, ipKey); err != nil {
		return nil, nil, err
	}
	_, session, err := s.takeChallenge(ctx, "sign_in", handle, binding)
	if err != nil {
		return nil, nil, err
	}
	fail := func(cause error) (*User, []string, error) {
		s.logger.InfoContext(ctx, "passkey sign-in refused", "error", cause)
		if err := s.recordFailure(ctx, s.db, now, ipKey); err != nil {
			return nil, nil, err
		}
		return nil, nil, ErrInvalidCredentials
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return fail(err)
	}
	var user *User
	var rows []passkeyRow
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		u, err := s.GetUser(ctx, string(userHandle))
		if err != nil {
			return nil, err
		}
		r, creds, err := s.userCredentials(ctx, s.db, u.ID)
		if err != nil {
			return nil, err
		}
		user, rows = u, r
		return &webauthnUser{u: u, creds: creds}, nil
	}
	_, cred, err := s.webauthn.ValidatePasskeyLogin(handler, *session, parsed)
	if err != nil {
		return fail(err)
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return fail(errors.New("the authenticator did not verify the user"))
	}
	if cred.Authenticator.CloneWarning {
		return fail(errors.New("signature counter went backwards: the authenticator may be cloned"))
	}
	if user.Banned || user.Locked {
		return fail(errors.New("user is banned or locked"))
	}
	var row *passkeyRow
	for i := range rows {
		if bytes.Equal(rows[i].CredentialID, cred.ID) {
			row = &rows[i]
		}
	}
	if row == nil {
		return fail(errors.New("credential not found"))
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return nil, nil, err
	}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		if _, err := conn.NewUpdate().Model((*passkeyRow)(nil)).
			Set("credential = ?", string(record)).Set("last_used_at = ?", now).
			Where("id = ?", row.ID).Exec(ctx); err != nil {
			return err
		}
		_, err := conn.NewUpdate().Model((*userRow)(nil)).Set("last_sign_in_at = ?", now).Where("id = ?", user.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("record passkey sign-in: %w", err)
	}
	user.LastSignInAt = now
	return user, []string{AMRHardware, AMRUser}, nil
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, userID string) ([]*Passkey, error) {
	rows, _, err := s.userCredentials(ctx, storage.Conn(ctx, s.db), userID)
	if err != nil {
		return nil, err
	}
	out := make([]*Passkey, len(rows))
	for i := range rows {
		if out[i], err = rows[i].toPasskey(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DeletePasskey removes one of the user's passkeys and records
// "user.updated"; another user's passkey is storage.ErrNotFound.
func (s *Service) DeletePasskey(ctx context.Context, userID, passkeyID string) error {
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		res, err := storage.Conn(ctx, s.db).NewDelete().Model((*passkeyRow)(nil)).
			Where("id = ?", safeText(passkeyID)).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return storage.ErrNotFound
		}
		_, err = s.changeUserIf(ctx, userID, "remove passkey", func(*userRow) (bool, error) { return true, nil })
		return err
	})
	if err != nil {
		return fmt.Errorf("delete passkey %q of user %q: %w", passkeyID, userID, err)
	}
	return nil
}
