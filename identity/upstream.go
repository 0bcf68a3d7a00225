package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// UpstreamLoginLifetime is how long the user may take at the provider.
const UpstreamLoginLifetime = 10 * time.Minute

// discoveryTTL is how long a provider's discovery document is reused.
const discoveryTTL = time.Hour

// Errors of upstream sign-in, each with its own page.
var (
	// ErrUpstreamLogin: the state is unknown, used, expired or another
	// browser's.
	ErrUpstreamLogin = errors.New("the sign-in with the provider has expired")
	// ErrUpstreamFailed: the provider's answer did not verify or the
	// provider could not be reached (the cause is wrapped, for logs).
	ErrUpstreamFailed = errors.New("the provider's answer could not be verified")
	// ErrUpstreamEmailUnverified: the provider does not vouch for the
	// address, so it neither links to an account nor creates one.
	ErrUpstreamEmailUnverified = errors.New("the provider has not verified the email address")
	// ErrUpstreamAccountExists: an account with the address exists but its
	// own address is unverified, so nothing proves it is the same person's:
	// sign in to it and connect the provider from the security page.
	ErrUpstreamAccountExists = errors.New("an account with this email address exists")
	// ErrIdentityTaken: connecting an identity that another user holds.
	ErrIdentityTaken = errors.New("this identity is connected to another account")
	// ErrSignUpDisabled: no account has the identity or its address, and
	// the server creates no accounts.
	ErrSignUpDisabled = errors.New("sign-up is disabled")
)

// upstreamCache keeps discovered OpenID providers for discoveryTTL.
type upstreamCache struct {
	mu sync.Mutex
	m  map[string]cachedProvider
}

type cachedProvider struct {
	p  *gooidc.Provider
	at time.Time
}

func (c *upstreamCache) forget(providerID string) {
	c.mu.Lock()
	delete(c.m, providerID)
	c.mu.Unlock()
}

// UpstreamClaims is what orgid keeps of the provider's answer.
type UpstreamClaims struct {
	Subject       string
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	ImageURL      string
}

// UpstreamResult is a finished upstream sign-in (or its context, with an
// error).
type UpstreamResult struct {
	Provider *IdentityProvider
	// ReturnData is what the caller gave BeginUpstreamSignIn.
	ReturnData []byte
	// LinkUserID is the account the identity was to be connected to ("" for
	// a sign-in).
	LinkUserID string
	User       *User
	// Created: a new account; Linked: the identity was newly connected to
	// an existing account.
	Created, Linked bool
}

type upstreamLoginRow struct {
	bun.BaseModel `bun:"table:upstream_logins"`

	StateHash   string    `bun:"state_hash,pk"`
	ProviderID  string    `bun:"provider_id"`
	BindingHash string    `bun:"binding_hash"`
	Nonce       string    `bun:"nonce"`
	Verifier    []byte    `bun:"verifier"`
	LinkUserID  string    `bun:"link_user_id,nullzero"`
	ReturnData  []byte    `bun:"return_data"`
	ExpiresAt   time.Time `bun:"expires_at"`
	CreatedAt   time.Time `bun:"created_at"`
}

func (s *Service) stateHash(state string) string { return s.keys.Hash("orgid/upstream-state:" + state) }

// isOIDC reports whether a kind speaks OpenID Connect (GitHub does not).
func isOIDC(kind string) bool { return kind != ProviderGitHub }

// multiTenantMicrosoft: the "common", "organizations" and "consumers"
// endpoints issue ID tokens whose issuer names the user's own tenant.
func multiTenantMicrosoft(row *providerRow) bool {
	if row.Kind != ProviderMicrosoft {
		return false
	}
	for _, t := range []string{"/common/", "/organizations/", "/consumers/"} {
		if strings.Contains(row.Issuer, t) {
			return true
		}
	}
	return false
}

// clientContext makes go-oidc and x/oauth2 use the service's outbound
// client (SSRF-guarded, bounded).
func (s *Service) clientContext(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, s.httpClient)
}

// discover returns the provider's discovery, cached.
func (s *Service) discover(ctx context.Context, row *providerRow) (*gooidc.Provider, error) {
	s.upstream.mu.Lock()
	c, ok := s.upstream.m[row.ID]
	s.upstream.mu.Unlock()
	if ok && time.Since(c.at) < discoveryTTL {
		return c.p, nil
	}
	dctx := s.clientContext(ctx)
	if multiTenantMicrosoft(row) {
		dctx = gooidc.InsecureIssuerURLContext(dctx, "https://login.microsoftonline.com/{tenantid}/v2.0")
	}
	p, err := gooidc.NewProvider(dctx, row.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %v", ErrUpstreamFailed, row.Issuer, err)
	}
	s.upstream.mu.Lock()
	s.upstream.m[row.ID] = cachedProvider{p: p, at: time.Now()}
	s.upstream.mu.Unlock()
	return p, nil
}

// oauthConfig is the OAuth 2.0 client of a provider.
func (s *Service) oauthConfig(ctx context.Context, row *providerRow, redirectURI string) (*oauth2.Config, *gooidc.Provider, error) {
	p, err := row.toProvider()
	if err != nil {
		return nil, nil, err
	}
	secretValue, err := s.keys.Open(row.ClientSecret, providerSecretAAD(row.ID))
	if err != nil {
		return nil, nil, fmt.Errorf("open client secret of identity provider %q: %w", row.Slug, err)
	}
	cfg := &oauth2.Config{ClientID: row.ClientID, ClientSecret: string(secretValue), RedirectURL: redirectURI, Scopes: p.Scopes}
	if !isOIDC(row.Kind) {
		cfg.Endpoint = oauth2.Endpoint{AuthURL: row.AuthURL, TokenURL: row.TokenURL}
		return cfg, nil, nil
	}
	op, err := s.discover(ctx, row)
	if err != nil {
		return nil, nil, err
	}
	cfg.Endpoint = op.Endpoint()
	return cfg, op, nil
}

// BeginUpstreamSignIn starts signing in (or, with linkUserID, connecting
// the signed-in user) with a provider in this browser, and returns the
// provider's authorization URL. The request carries a 256-bit state bound
// to the browser, a nonce (OpenID providers) and a PKCE S256 challenge;
// the verifier stays here, sealed. returnData comes back from
// FinishUpstreamSignIn (sealed meanwhile).
func (s *Service) BeginUpstreamSignIn(ctx context.Context, ref, binding, redirectURI, linkUserID string, returnData []byte) (string, error) {
	if binding == "" {
		return "", errNoBinding
	}
	row, err := s.loadProvider(ctx, ref)
	if err != nil {
		return "", err
	}
	if !row.Enabled {
		return "", fmt.Errorf("identity provider %q: %w", ref, storage.ErrNotFound)
	}
	cfg, _, err := s.oauthConfig(ctx, row, redirectURI)
	if err != nil {
		return "", err
	}
	now := s.clock()
	state, nonce, verifier := secret.Token(""), secret.Token(""), oauth2.GenerateVerifier()
	login := &upstreamLoginRow{
		StateHash: s.stateHash(state), ProviderID: row.ID, BindingHash: s.bindingHash(binding), Nonce: nonce,
		LinkUserID: linkUserID, ExpiresAt: now.Add(UpstreamLoginLifetime), CreatedAt: now,
	}
	login.Verifier = s.keys.Seal([]byte(verifier), []byte("orgid/upstream-verifier:"+login.StateHash))
	login.ReturnData = s.keys.Seal(returnData, []byte("orgid/upstream-return:"+login.StateHash))
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(login).Exec(ctx); err != nil {
		return "", fmt.Errorf("begin upstream sign-in: %w", err)
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if isOIDC(row.Kind) {
		opts = append(opts, gooidc.Nonce(nonce))
	}
	return cfg.AuthCodeURL(state, opts...), nil
}

// UpstreamReturnData returns the returnData of the upstream sign-in of
// state in this browser without finishing it (for answering a provider's
// error redirect), or ErrUpstreamLogin.
func (s *Service) UpstreamReturnData(ctx context.Context, state, binding string) ([]byte, error) {
	login, err := s.takeUpstreamLogin(ctx, state, binding)
	if err != nil {
		return nil, err
	}
	return s.keys.Open(login.ReturnData, []byte("orgid/upstream-return:"+login.StateHash))
}

// takeUpstreamLogin deletes and returns the login of state for this
// browser: a state works once.
func (s *Service) takeUpstreamLogin(ctx context.Context, state, binding string) (*upstreamLoginRow, error) {
	if state == "" || binding == "" {
		return nil, ErrUpstreamLogin
	}
	// Only this browser's request takes the state: another browser holding
	// it can neither use it nor spend it.
	login := new(upstreamLoginRow)
	err := s.db.NewDelete().Model(login).
		Where("state_hash = ?", s.stateHash(safeText(state))).Where("binding_hash = ?", s.bindingHash(binding)).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUpstreamLogin
	}
	if err != nil {
		return nil, fmt.Errorf("load upstream sign-in: %w", err)
	}
	if !s.clock().Before(login.ExpiresAt) {
		return nil, ErrUpstreamLogin
	}
	return login, nil
}

// FinishUpstreamSignIn completes the upstream sign-in of state in this
// browser with the provider's code: it redeems the code (with the PKCE
// verifier), verifies the ID token (signature, issuer, audience, expiry,
// nonce) or reads GitHub's user API, and resolves the identity:
//
//   - an identity (provider, subject) already known signs its user in,
//     whatever the email address says now;
//   - connecting (BeginUpstreamSignIn with a user) attaches it to that
//     user, unless another user holds it (ErrIdentityTaken);
//   - otherwise the address decides, and only when the provider verified
//     it: an account with that address, itself verified, gets the
//     identity linked; no account and allowSignUp creates one, verified.
//     An unverified upstream address gives ErrUpstreamEmailUnverified, an
//     unverified local one ErrUpstreamAccountExists.
//
// The result is non-nil whenever the state was found (it carries
// ReturnData), even with an error. Banned and locked users get
// ErrInvalidCredentials.
func (s *Service) FinishUpstreamSignIn(ctx context.Context, state, code, binding, redirectURI string, allowSignUp bool) (*UpstreamResult, error) {
	login, err := s.takeUpstreamLogin(ctx, state, binding)
	if err != nil {
		return nil, err
	}
	res := &UpstreamResult{LinkUserID: login.LinkUserID}
	if res.ReturnData, err = s.keys.Open(login.ReturnData, []byte("orgid/upstream-return:"+login.StateHash)); err != nil {
		return nil, fmt.Errorf("upstream sign-in return data: %w", err)
	}
	row := new(providerRow)
	if err := storage.Conn(ctx, s.db).NewSelect().Model(row).Where("id = ?", login.ProviderID).Scan(ctx); err != nil {
		return res, storage.NotFound(err, "load identity provider")
	}
	if res.Provider, err = row.toProvider(); err != nil {
		return res, err
	}
	if !row.Enabled {
		return res, fmt.Errorf("%w: %v", ErrUpstreamFailed, errProviderDisabled)
	}
	verifier, err := s.keys.Open(login.Verifier, []byte("orgid/upstream-verifier:"+login.StateHash))
	if err != nil {
		return res, fmt.Errorf("upstream sign-in verifier: %w", err)
	}
	claims, err := s.exchangeUpstream(ctx, row, redirectURI, code, string(verifier), login.Nonce)
	if err != nil {
		return res, err
	}
	res.User, res.Created, res.Linked, err = s.resolveUpstream(ctx, row, claims, login.LinkUserID, allowSignUp)
	return res, err
}

// exchangeUpstream redeems the code and returns the verified claims.
func (s *Service) exchangeUpstream(ctx context.Context, row *providerRow, redirectURI, code, verifier, nonce string) (*UpstreamClaims, error) {
	cfg, op, err := s.oauthConfig(ctx, row, redirectURI)
	if err != nil {
		return nil, err
	}
	cctx := s.clientContext(ctx)
	tok, err := cfg.Exchange(cctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: token request: %v", ErrUpstreamFailed, err)
	}
	if !isOIDC(row.Kind) {
		return s.githubClaims(cctx, row, tok)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no ID token", ErrUpstreamFailed)
	}
	multi := multiTenantMicrosoft(row)
	idt, err := op.Verifier(&gooidc.Config{ClientID: row.ClientID, SkipIssuerCheck: multi, Now: s.now}).Verify(cctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: ID token: %v", ErrUpstreamFailed, err)
	}
	if !secret.Equal(idt.Nonce, nonce) {
		return nil, fmt.Errorf("%w: ID token nonce does not match", ErrUpstreamFailed)
	}
	var c struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		GivenName     string `json:"given_name"`
		FamilyName    string `json:"family_name"`
		Picture       string `json:"picture"`
		TenantID      string `json:"tid"`
		// xms_edov: Entra vouches that the address's domain belongs to the
		// user's tenant (an optional claim the operator must enable).
		DomainOwnerVerified any `json:"xms_edov"`
	}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: ID token claims: %v", ErrUpstreamFailed, err)
	}
	if multi && idt.Issuer != "https://login.microsoftonline.com/"+c.TenantID+"/v2.0" {
		return nil, fmt.Errorf("%w: issuer %q does not name the token's tenant", ErrUpstreamFailed, idt.Issuer)
	}
	out := &UpstreamClaims{Subject: idt.Subject, Email: c.Email, FirstName: c.GivenName, LastName: c.FamilyName, ImageURL: c.Picture}
	if row.Kind == ProviderMicrosoft {
		// Entra's email claim is whatever the tenant's admin typed: only
		// xms_edov vouches for it.
		out.EmailVerified = truthy(c.DomainOwnerVerified)
	} else {
		out.EmailVerified = truthy(c.EmailVerified)
	}
	return out, nil
}

// truthy reads a boolean claim that some providers send as a string.
func truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true" || b == "1"
	case float64:
		return b == 1
	}
	return false
}

// githubClaims reads GitHub's user and email APIs: the subject is the
// numeric user id (logins can be renamed), the address the primary one,
// verified as GitHub reports it.
func (s *Service) githubClaims(ctx context.Context, row *providerRow, tok *oauth2.Token) (*UpstreamClaims, error) {
	var user struct {
		ID        int64  `json:"id"`
		Login     string `json:"login"`
		Name      string `json:"name"`
		AvatarURL string `json:"avatar_url"`
	}
	if err := s.githubGet(ctx, row.APIURL+"/user", tok, &user); err != nil {
		return nil, err
	}
	if user.ID == 0 {
		return nil, fmt.Errorf("%w: GitHub user without id", ErrUpstreamFailed)
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := s.githubGet(ctx, row.APIURL+"/user/emails", tok, &emails); err != nil {
		return nil, err
	}
	out := &UpstreamClaims{Subject: strconv.FormatInt(user.ID, 10), ImageURL: user.AvatarURL}
	out.FirstName, out.LastName, _ = strings.Cut(strings.TrimSpace(user.Name), " ")
	for _, e := range emails {
		if e.Primary {
			out.Email, out.EmailVerified = e.Email, e.Verified
		}
	}
	return out, nil
}

func (s *Service) githubGet(ctx context.Context, url string, tok *oauth2.Token, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUpstreamFailed, err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: GitHub API: %v", ErrUpstreamFailed, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GitHub API %s: status %d", ErrUpstreamFailed, url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("%w: GitHub API %s: %v", ErrUpstreamFailed, url, err)
	}
	return nil
}
