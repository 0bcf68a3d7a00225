package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Dynamic client registration: RFC 7591 at PathRegister (POST) and the
// RFC 7592 management endpoint at PathRegister/{client_id} (GET, PUT,
// DELETE) with the registration access token the client received. Off
// unless the operator sets --registration open (anyone may register) or
// --registration token (an initial access token is required). Registered
// clients are third-party: their users are asked for consent.
//
// Phases: authenticate (initial access token / registration access token),
// parse the JSON body, validate (the rules every client obeys, then the
// stricter rules for self-registered clients, which fetch the
// sector_identifier_uri and jwks_uri through the egress client), store,
// answer. Errors use RFC 7591 §3.2.2's format: invalid_redirect_uri for a
// redirect URI, invalid_client_metadata for anything else.

// maxRegistrationBody bounds a registration request.
const maxRegistrationBody = 64 << 10

// writeRegistrationError writes an RFC 7591 §3.2.2 error.
func writeRegistrationError(w http.ResponseWriter, err error) {
	code := "invalid_client_metadata"
	var ve *ValidationError
	if errors.As(err, &ve) {
		switch ve.Field {
		case "redirect_uris":
			code = "invalid_redirect_uri"
		case "software_statement":
			code = "invalid_software_statement"
		}
	}
	writeJSONError(w, http.StatusBadRequest, code, err.Error(), "")
}

// Open registration invites abuse (a flood of clients, each a row and a
// consent page to show): every request counts against its client address,
// and every registration that passed validation against an hourly cap for
// the whole deployment. Both counters live in the database, so they hold
// across replicas.
func (p *Provider) registrationLimited(ctx context.Context, w http.ResponseWriter, l limit, value string) bool {
	wait, err := p.limits.take(ctx, l, value)
	if err != nil {
		p.log.ErrorContext(ctx, "registration", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return true
	}
	if wait == 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
	p.metrics.registrationsThrottled.WithLabelValues(l.purpose).Inc()
	writeJSONError(w, http.StatusTooManyRequests, "temporarily_unavailable", "Too many client registrations; try again later.", "")
	return true
}

// register is the RFC 7591 registration endpoint.
func (p *Provider) register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	perIP := limit{purpose: "registration-ip", max: p.cfg.RegistrationMaxPerIPPerHour, window: time.Hour}
	if p.registrationLimited(ctx, w, perIP, clientIP(r)) {
		return
	}
	if p.cfg.Registration == RegistrationModeToken {
		err := p.registrationTokens.Verify(ctx, bearerHeader(r))
		if errors.Is(err, ErrInvalidRegistrationToken) {
			writeJSONError(w, http.StatusUnauthorized, "invalid_token", "A valid initial access token is required.", `Bearer error="invalid_token"`)
			return
		}
		if err != nil {
			p.log.ErrorContext(ctx, "registration", "error", err)
			writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
			return
		}
	}
	req, err := readRegistration(r)
	if err != nil {
		writeRegistrationError(w, err)
		return
	}
	nc, err := p.validateRegistration(ctx, req)
	if err != nil {
		writeRegistrationError(w, err)
		return
	}
	overall := limit{purpose: "registration", max: p.cfg.RegistrationMaxPerHour, window: time.Hour}
	if p.registrationLimited(ctx, w, overall, "all") {
		return
	}
	c, creds, err := p.clients.create(ctx, nc, true)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			writeRegistrationError(w, err)
			return
		}
		p.log.ErrorContext(ctx, "registration", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return
	}
	resp := p.registrationOf(c)
	resp.ClientSecret, resp.RegistrationAccessToken = creds.Secret, creds.RegistrationToken
	writeJSON(w, http.StatusCreated, resp)
}

// readRegistration decodes a registration request body.
func readRegistration(r *http.Request) (*registrationRequest, error) {
	if mt := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]); !strings.EqualFold(mt, "application/json") {
		return nil, &ValidationError{"request", "the body must be application/json"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRegistrationBody+1))
	if err != nil {
		return nil, &ValidationError{"request", "the body could not be read"}
	}
	if len(body) > maxRegistrationBody {
		return nil, &ValidationError{"request", "the body is too large"}
	}
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, &ValidationError{"request", "the body is not valid client metadata: " + jsonProblem(err)}
	}
	return &req, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "member " + te.Field + " has the wrong type"
	}
	return "malformed JSON"
}

// validateRegistration applies every rule to a registration request and
// returns the client to store.
func (p *Provider) validateRegistration(ctx context.Context, req *registrationRequest) (NewClient, error) {
	if req.SoftwareStatement != "" {
		return NewClient{}, &ValidationError{"software_statement", "software statements are not supported"}
	}
	nc, err := req.newClient()
	if err != nil {
		return nc, err
	}
	m, err := normalizeMetadata(nc.Public, nc.Metadata)
	if err != nil {
		return nc, err
	}
	if err := p.validateSelfRegistered(ctx, &m); err != nil {
		return nc, err
	}
	nc.Metadata = m
	return nc, nil
}

// validateSelfRegistered applies the rules that hold for clients that
// registered themselves beyond those for clients the operator created:
// web clients redirect over https only, native clients to loopback http,
// https or their own scheme (OpenID Connect Registration §2); the signing
// algorithms are ones orgid has keys for; a sector_identifier_uri lists
// every redirect URI; a jwks_uri serves a usable key set.
func (p *Provider) validateSelfRegistered(ctx context.Context, m *ClientMetadata) error {
	implicit := contains(m.GrantTypes, GrantImplicit)
	for _, field := range []struct {
		name string
		uris []string
	}{{"redirect_uris", m.RedirectURIs}, {"post_logout_redirect_uris", m.PostLogoutRedirectURIs}} {
		for _, raw := range field.uris {
			if err := dynamicRedirectURI(raw, m.ApplicationType, implicit); err != nil {
				return &ValidationError{field.name, err.Error()}
			}
		}
	}
	algs := p.keys.Algorithms()
	for _, f := range []struct{ name, alg string }{
		{"id_token_signed_response_alg", m.IDTokenSignedResponseAlg}, {"userinfo_signed_response_alg", m.UserinfoSignedResponseAlg},
	} {
		if f.alg != "" && !contains(algs, f.alg) {
			return &ValidationError{f.name, "this server signs with " + strings.Join(algs, " or ")}
		}
	}
	if m.SectorIdentifierURI != "" {
		if err := p.checkSectorIdentifier(ctx, m.SectorIdentifierURI, m.RedirectURIs); err != nil {
			return &ValidationError{"sector_identifier_uri", err.Error()}
		}
	}
	if m.JWKSURI != "" {
		if _, err := p.jwks.fetch(ctx, m.JWKSURI); err != nil {
			return &ValidationError{"jwks_uri", "the key set could not be fetched or has no usable public key"}
		}
	}
	return nil
}

// dynamicRedirectURI checks a self-registered redirect URI.
func dynamicRedirectURI(raw, appType string, implicit bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New(raw + " is not an absolute URI")
	}
	loopback := isLoopback(u.Hostname())
	switch appType {
	case ApplicationNative:
		if u.Scheme == "http" && !loopback {
			return errors.New(raw + ": native clients use http only on a loopback address")
		}
	default:
		if u.Scheme != "https" {
			return errors.New(raw + ": web clients must use https redirect URIs (register application_type native for loopback)")
		}
		if implicit && loopback {
			return errors.New(raw + ": web clients of the implicit grant must not redirect to localhost")
		}
	}
	return nil
}

// checkSectorIdentifier fetches a sector_identifier_uri (a JSON array of
// URIs, OpenID Connect Registration §5) and checks that it lists every
// redirect URI.
func (p *Provider) checkSectorIdentifier(ctx context.Context, sectorURI string, redirects []string) error {
	body, err := fetchDocument(ctx, p.egress, sectorURI, "application/json")
	if err != nil {
		return errors.New("the document could not be fetched")
	}
	var listed []string
	if err := json.Unmarshal(body, &listed); err != nil {
		return errors.New("the document is not a JSON array of URIs")
	}
	for _, r := range redirects {
		if !contains(listed, r) {
			return errors.New("it does not list the redirect URI " + r)
		}
	}
	return nil
}

// registrationClient is the RFC 7592 client configuration endpoint.
func (p *Provider) registrationClient(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	c, ok := p.registeredClient(ctx, w, r)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, p.registrationOf(c))
	case http.MethodPut:
		p.updateRegistration(ctx, w, r, c)
	case http.MethodDelete:
		if err := p.clients.Delete(ctx, c.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			p.log.ErrorContext(ctx, "delete registration", "error", err)
			writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}

// registeredClient authenticates a management request: the bearer token
// must be the client's registration access token. An unknown client gets
// the same 401 as a wrong token (RFC 7592 §2), so client ids cannot be
// probed.
func (p *Provider) registeredClient(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Client, bool) {
	unauthorized := func() (*Client, bool) {
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "The registration access token is invalid.", `Bearer error="invalid_token"`)
		return nil, false
	}
	token := bearerHeader(r)
	if token == "" {
		return unauthorized()
	}
	c, err := p.clients.Get(ctx, mux.Vars(r)["client_id"])
	if errors.Is(err, storage.ErrNotFound) {
		return unauthorized()
	}
	if err != nil {
		p.log.ErrorContext(ctx, "registration management", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return nil, false
	}
	if c.registrationTokenHash == "" || !secret.Equal(p.secrets.Hash(token), c.registrationTokenHash) {
		return unauthorized()
	}
	return c, true
}

// updateRegistration replaces a client's metadata (RFC 7592 §2.2): what
// the request omits is removed, the client_id must match, a client_secret
// sent must be the current one.
func (p *Provider) updateRegistration(ctx context.Context, w http.ResponseWriter, r *http.Request, c *Client) {
	req, err := readRegistration(r)
	if err != nil {
		writeRegistrationError(w, err)
		return
	}
	if req.ClientID != c.ID {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "client_id must be the client's id.", "")
		return
	}
	if req.ClientSecret != "" && !p.clients.Authenticate(c, req.ClientSecret) {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "client_secret is not the client's secret.", "")
		return
	}
	nc, err := p.validateRegistration(ctx, req)
	if err != nil {
		writeRegistrationError(w, err)
		return
	}
	updated, newSecret, err := p.clients.update(ctx, c, nc)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			writeRegistrationError(w, err)
			return
		}
		p.log.ErrorContext(ctx, "update registration", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return
	}
	resp := p.registrationOf(updated)
	resp.ClientSecret = newSecret
	writeJSON(w, http.StatusOK, resp)
}

// bearerHeader returns the bearer token of the Authorization header.
func bearerHeader(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
		return strings.TrimSpace(tok)
	}
	return ""
}
