package oidc

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// store is fosite's storage on bun. Codes and tokens are stored under a
// SHA-256 of their signature, never in the clear; the request that produced
// them is kept as JSON beside the columns that queries use.
//
// fosite reads rows outside its transactions and writes inside them, so
// every state change that must happen once (redeeming a code, rotating a
// refresh token) is a conditional UPDATE whose row count decides the race.
type store struct {
	db      *bun.DB
	clients *Clients
	now     func() time.Time
	// flowLifetime is how long an authorization flow lives.
	flowLifetime time.Duration
}

var (
	_ fosite.ClientManager               = (*store)(nil)
	_ oauth2.CoreStorage                 = (*store)(nil)
	_ oauth2.TokenRevocationStorage      = (*store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*store)(nil)
	_ pkce.PKCERequestStorage            = (*store)(nil)
	_ fositestorage.Transactional        = (*store)(nil)
)

// The request tables; all share requestRow's layout.
const (
	tableCodes   = "oauth2_codes"
	tableAccess  = "oauth2_access_tokens"
	tableRefresh = "oauth2_refresh_tokens"
	tablePKCE    = "oauth2_pkce"
	tableOIDC    = "oauth2_oidc"
)

// errCodeAlreadyRedeemed marks the loser of a concurrent code redemption.
var errCodeAlreadyRedeemed = errors.New("authorization code already redeemed")

type requestRow struct {
	Signature   string    `bun:"signature,pk"`
	RequestID   string    `bun:"request_id"`
	ClientID    string    `bun:"client_id"`
	Subject     string    `bun:"subject"`
	SessionID   *string   `bun:"session_id"`
	Active      bool      `bun:"active"`
	RequestedAt time.Time `bun:"requested_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
	Request     string    `bun:"request"`
	// Refresh tokens only; other tables have no such columns.
	AccessSignature *string    `bun:"access_signature"`
	FirstUsedAt     *time.Time `bun:"first_used_at"`
}

var refreshOnlyColumns = []string{"access_signature", "first_used_at"}

// storedRequest is the JSON of fosite.Request without its interfaces.
type storedRequest struct {
	RequestedScope    []string        `json:"requested_scope"`
	GrantedScope      []string        `json:"granted_scope"`
	RequestedAudience []string        `json:"requested_audience"`
	GrantedAudience   []string        `json:"granted_audience"`
	Form              string          `json:"form"`
	Session           json.RawMessage `json:"session"`
}

// signatureKey hashes a token signature (or a raw code) to the primary key.
func signatureKey(sig string) string {
	h := sha256.Sum256([]byte(sig))
	return hex.EncodeToString(h[:])
}

func (s *store) conn(ctx context.Context) bun.IDB { return storage.Conn(ctx, s.db) }

// --- transactions -------------------------------------------------------

type ownTxKey struct{}

// BeginTX starts a transaction unless ctx already carries one (the token
// endpoint runs a whole response in one); then fosite's Commit and Rollback
// leave it to its owner.
func (s *store) BeginTX(ctx context.Context) (context.Context, error) {
	if _, ok := storage.TxFrom(ctx); ok {
		return ctx, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		return ctx, fmt.Errorf("begin transaction: %w", err)
	}
	ctx = storage.WithTx(ctx, tx)
	return context.WithValue(ctx, ownTxKey{}, tx), nil
}

func (s *store) Commit(ctx context.Context) error {
	tx, ok := ctx.Value(ownTxKey{}).(bun.Tx)
	if !ok {
		return nil
	}
	if err := tx.Commit(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *store) Rollback(ctx context.Context) error {
	tx, ok := ctx.Value(ownTxKey{}).(bun.Tx)
	if !ok {
		return nil
	}
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// --- clients ------------------------------------------------------------

func (s *store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

type jtiRow struct {
	bun.BaseModel `bun:"table:oauth2_jti"`
	JTIHash       string    `bun:"jti_hash,pk"`
	ExpiresAt     time.Time `bun:"expires_at"`
}

func (s *store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var row jtiRow
	err := s.conn(ctx).NewSelect().Model(&row).Where("jti_hash = ?", signatureKey(jti)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check client assertion id: %w", err)
	}
	if row.ExpiresAt.After(s.now()) {
		return fosite.ErrJTIKnown
	}
	return nil
}

func (s *store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	db := s.conn(ctx)
	now := s.now()
	if _, err := db.NewDelete().Model((*jtiRow)(nil)).Where("expires_at <= ?", now).Exec(ctx); err != nil {
		return fmt.Errorf("prune client assertion ids: %w", err)
	}
	_, err := db.NewInsert().Model(&jtiRow{JTIHash: signatureKey(jti), ExpiresAt: exp.UTC()}).Exec(ctx)
	if storage.IsUniqueViolation(err) {
		return fosite.ErrJTIKnown
	}
	return err
}

// --- generic request rows ----------------------------------------------

func (s *store) newRow(sig string, req fosite.Requester, tt fosite.TokenType, fallback time.Duration) (*requestRow, error) {
	sess, ok := req.GetSession().(*Session)
	if !ok {
		return nil, fmt.Errorf("store: session type %T is not *oidc.Session", req.GetSession())
	}
	sessJSON, err := json.Marshal(sess)
	if err != nil {
		return nil, fmt.Errorf("store: marshal session: %w", err)
	}
	body, err := json.Marshal(storedRequest{
		RequestedScope:    req.GetRequestedScopes(),
		GrantedScope:      req.GetGrantedScopes(),
		RequestedAudience: req.GetRequestedAudience(),
		GrantedAudience:   req.GetGrantedAudience(),
		Form:              req.GetRequestForm().Encode(),
		Session:           sessJSON,
	})
	if err != nil {
		return nil, fmt.Errorf("store: marshal request: %w", err)
	}
	now := s.now()
	row := &requestRow{
		Signature:   signatureKey(sig),
		RequestID:   req.GetID(),
		ClientID:    req.GetClient().GetID(),
		Subject:     sess.GetSubject(),
		Active:      true,
		RequestedAt: req.GetRequestedAt().UTC(),
		ExpiresAt:   sess.expiry(tt, now, fallback).UTC(),
		Request:     string(body),
	}
	if row.RequestedAt.IsZero() {
		row.RequestedAt = now
	}
	if sess.SessionID != "" {
		sid := sess.SessionID
		row.SessionID = &sid
	}
	return row, nil
}

func (s *store) insert(ctx context.Context, table, sig string, req fosite.Requester, tt fosite.TokenType) error {
	row, err := s.newRow(sig, req, tt, 24*time.Hour)
	if err != nil {
		return err
	}
	if _, err := s.conn(ctx).NewInsert().Model(row).ModelTableExpr(table).ExcludeColumn(refreshOnlyColumns...).Exec(ctx); err != nil {
		return fmt.Errorf("store %s: %w", table, err)
	}
	return nil
}

// load reads a row and rebuilds the fosite request, unmarshalling the
// session into sess when given (fosite relies on getting that object back).
func (s *store) load(ctx context.Context, table, sig string, sess fosite.Session) (*fosite.Request, *requestRow, error) {
	var row requestRow
	q := s.conn(ctx).NewSelect().Model(&row).ModelTableExpr(table+" AS request_row").Where("signature = ?", signatureKey(sig))
	if table != tableRefresh {
		q = q.ExcludeColumn(refreshOnlyColumns...)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fosite.ErrNotFound
		}
		return nil, nil, fmt.Errorf("load %s: %w", table, err)
	}
	req, err := s.rehydrate(ctx, &row, sess)
	if err != nil {
		return nil, nil, err
	}
	return req, &row, nil
}

func (s *store) rehydrate(ctx context.Context, row *requestRow, sess fosite.Session) (*fosite.Request, error) {
	var body storedRequest
	if err := json.Unmarshal([]byte(row.Request), &body); err != nil {
		return nil, fmt.Errorf("decode stored request: %w", err)
	}
	if sess == nil {
		sess = NewSession("")
	}
	if err := json.Unmarshal(body.Session, sess); err != nil {
		return nil, fmt.Errorf("decode stored session: %w", err)
	}
	client, err := s.GetClient(ctx, row.ClientID)
	if err != nil {
		return nil, fmt.Errorf("load client of stored request: %w", err)
	}
	form, err := url.ParseQuery(body.Form)
	if err != nil {
		return nil, fmt.Errorf("decode stored form: %w", err)
	}
	return &fosite.Request{
		ID:                row.RequestID,
		RequestedAt:       row.RequestedAt.UTC(),
		Client:            client,
		RequestedScope:    body.RequestedScope,
		GrantedScope:      body.GrantedScope,
		RequestedAudience: body.RequestedAudience,
		GrantedAudience:   body.GrantedAudience,
		Form:              form,
		Session:           sess,
	}, nil
}

func (s *store) delete(ctx context.Context, table, sig string) error {
	res, err := s.conn(ctx).NewDelete().TableExpr(table).Where("signature = ?", signatureKey(sig)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete from %s: %w", table, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fosite.ErrNotFound
	}
	return nil
}

// --- authorization codes -----------------------------------------------

func (s *store) CreateAuthorizeCodeSession(ctx context.Context, sig string, req fosite.Requester) error {
	return s.insert(ctx, tableCodes, sig, req, fosite.AuthorizeCode)
}

func (s *store) GetAuthorizeCodeSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, row, err := s.load(ctx, tableCodes, sig, sess)
	if err != nil {
		return nil, err
	}
	if !row.Active {
		// fosite needs the request to revoke what the first redemption issued.
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession marks a code used. Only one of several
// concurrent redemptions changes the row; the others fail here, inside
// their transaction, and issue nothing.
func (s *store) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	res, err := s.conn(ctx).NewUpdate().TableExpr(tableCodes).Set("active = ?", false).
		Where("signature = ?", signatureKey(sig)).Where("active = ?", true).Exec(ctx)
	if err != nil {
		return fmt.Errorf("invalidate authorization code: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errCodeAlreadyRedeemed
	}
	// The PKCE row goes with the code, in the same transaction (see
	// DeletePKCERequestSession).
	if _, err := s.conn(ctx).NewDelete().TableExpr(tablePKCE).Where("signature = ?", signatureKey(sig)).Exec(ctx); err != nil {
		return fmt.Errorf("delete PKCE request: %w", err)
	}
	return nil
}

// --- access tokens -------------------------------------------------------

func (s *store) CreateAccessTokenSession(ctx context.Context, sig string, req fosite.Requester) error {
	return s.insert(ctx, tableAccess, sig, req, fosite.AccessToken)
}

func (s *store) GetAccessTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, row, err := s.load(ctx, tableAccess, sig, sess)
	if err != nil {
		return nil, err
	}
	if !row.ExpiresAt.After(s.now()) {
		return nil, fosite.ErrNotFound
	}
	return req, nil
}

func (s *store) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	return s.delete(ctx, tableAccess, sig)
}

func (s *store) RevokeAccessToken(ctx context.Context, requestID string) error {
	if _, err := s.conn(ctx).NewDelete().TableExpr(tableAccess).Where("request_id = ?", requestID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke access tokens: %w", err)
	}
	return nil
}

// --- refresh tokens ------------------------------------------------------

func (s *store) CreateRefreshTokenSession(ctx context.Context, sig, accessSig string, req fosite.Requester) error {
	row, err := s.newRow(sig, req, fosite.RefreshToken, 30*24*time.Hour)
	if err != nil {
		return err
	}
	if accessSig != "" {
		a := signatureKey(accessSig)
		row.AccessSignature = &a
	}
	if _, err := s.conn(ctx).NewInsert().Model(row).ModelTableExpr(tableRefresh).Exec(ctx); err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	return nil
}

// concurrentRefreshWindow is how long after its rotation a refresh token
// presented again counts as the client's own concurrent request rather
// than a replay: it is refused, but the grant is not revoked. Without it, a
// client that sends one refresh twice at once loses its session.
const concurrentRefreshWindow = 10 * time.Second

// GetRefreshTokenSession returns the grant of an active refresh token. For
// a rotated one it returns ErrInactiveToken with the request, which makes
// fosite revoke the whole grant (reuse detection) — except inside the
// client's grace period, where the token still works, and inside
// concurrentRefreshWindow, where it is refused without revoking anything.
func (s *store) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, row, err := s.load(ctx, tableRefresh, sig, sess)
	if err != nil {
		return nil, err
	}
	if row.Active {
		return req, nil
	}
	if row.FirstUsedAt != nil {
		since := s.now().Sub(*row.FirstUsedAt)
		if c, ok := req.Client.(*Client); ok && since < c.RefreshGracePeriod() {
			return req, nil
		}
		if since < concurrentRefreshWindow {
			return nil, fosite.ErrNotFound
		}
	}
	return req, fosite.ErrInactiveToken
}

func (s *store) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	return s.delete(ctx, tableRefresh, sig)
}

func (s *store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	if _, err := s.conn(ctx).NewUpdate().TableExpr(tableRefresh).Set("active = ?", false).
		Where("request_id = ?", requestID).Where("active = ?", true).Exec(ctx); err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

// RotateRefreshToken retires the presented refresh token and the access
// token issued with it, before fosite stores their successors in the same
// transaction. Strict rotation (no grace period) deactivates the token only
// if it is still active: when two refreshes race, exactly one changes the
// row and the other gets ErrNotFound ("retry"), so one grant never has two
// live refresh tokens.
func (s *store) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	db := s.conn(ctx)
	key := signatureKey(sig)
	var row requestRow
	if err := db.NewSelect().Model(&row).ModelTableExpr(tableRefresh+" AS request_row").
		Column("signature", "client_id", "active", "access_signature", "first_used_at").
		Where("signature = ?", key).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fosite.ErrNotFound
		}
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	grace := time.Duration(0)
	if c, err := s.clients.Get(ctx, row.ClientID); err == nil {
		grace = c.RefreshGracePeriod()
	}
	now := s.now()
	q := db.NewUpdate().TableExpr(tableRefresh).Set("active = ?", false).
		Set("first_used_at = COALESCE(first_used_at, ?)", now).
		Where("signature = ?", key).Where("request_id = ?", requestID)
	if grace == 0 {
		q = q.Where("active = ?", true)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		if storage.IsSerializationFailure(err) {
			return fosite.ErrSerializationFailure
		}
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fosite.ErrNotFound
	}
	del := db.NewDelete().TableExpr(tableAccess)
	if row.AccessSignature != nil {
		del = del.Where("signature = ?", *row.AccessSignature)
	} else {
		del = del.Where("request_id = ?", requestID)
	}
	if _, err := del.Exec(ctx); err != nil {
		return fmt.Errorf("rotate refresh token: delete access token: %w", err)
	}
	return nil
}

// --- PKCE and OpenID Connect request rows ---------------------------------

func (s *store) CreatePKCERequestSession(ctx context.Context, sig string, req fosite.Requester) error {
	return s.insert(ctx, tablePKCE, sig, req, fosite.AuthorizeCode)
}

func (s *store) GetPKCERequestSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, _, err := s.load(ctx, tablePKCE, sig, sess)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession does nothing: fosite calls it while validating
// a token request, outside the transaction that issues the tokens, so a
// request that failed later would have burnt the code's PKCE data, and two
// concurrent redemptions would race on it. The row is deleted with the
// code instead, in InvalidateAuthorizeCodeSession.
func (s *store) DeletePKCERequestSession(context.Context, string) error {
	return nil
}

// CreateOpenIDConnectSession is keyed by the raw authorization code, which
// is hashed like every other key.
func (s *store) CreateOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) error {
	return s.insert(ctx, tableOIDC, code, req, fosite.AuthorizeCode)
}

func (s *store) GetOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) (fosite.Requester, error) {
	var sess fosite.Session
	if req != nil {
		sess = req.GetSession()
	}
	stored, _, err := s.load(ctx, tableOIDC, code, sess)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, openid.ErrNoSessionFound
	}
	if err != nil {
		return nil, err
	}
	return stored, nil
}

func (s *store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.delete(ctx, tableOIDC, code)
}

// --- housekeeping ----------------------------------------------------------

// revokeSession deletes the access tokens and deactivates the refresh
// tokens a browser session produced. It runs inside the transaction that
// ends the session.
func (s *store) revokeSession(ctx context.Context, sessionID string) error {
	db := s.conn(ctx)
	if _, err := db.NewDelete().TableExpr(tableAccess).Where("session_id = ?", sessionID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke access tokens of session: %w", err)
	}
	if _, err := db.NewUpdate().TableExpr(tableRefresh).Set("active = ?", false).
		Where("session_id = ?", sessionID).Where("active = ?", true).Exec(ctx); err != nil {
		return fmt.Errorf("revoke refresh tokens of session: %w", err)
	}
	return nil
}

// deleteExpired removes rows past their expiry; each replica may run it.
func (s *store) deleteExpired(ctx context.Context) (int64, error) {
	var total int64
	now := s.now()
	for _, table := range []string{tableCodes, tableAccess, tableRefresh, tablePKCE, tableOIDC, "oauth2_flows", "oauth2_device_codes"} {
		res, err := s.db.NewDelete().TableExpr(table).Where("expires_at < ?", now).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("delete expired rows from %s: %w", table, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	// A pushed request outlives its expiry as long as a flow started from
	// it may still issue.
	res, err := s.db.NewDelete().Model((*parRow)(nil)).Where("expires_at < ?", now.Add(-s.flowLifetime)).Exec(ctx)
	if err != nil {
		return total, fmt.Errorf("delete expired pushed authorization requests: %w", err)
	}
	n, _ := res.RowsAffected()
	total += n
	if _, err := s.db.NewDelete().Model((*jtiRow)(nil)).Where("expires_at < ?", now).Exec(ctx); err != nil {
		return total, fmt.Errorf("delete expired assertion ids: %w", err)
	}
	return total, nil
}
