package oidc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Pushed authorization requests (RFC 9126). A client posts its
// authorization request to PathPAR, authenticated as at the token endpoint
// and validated as at the authorization endpoint (request objects
// included), and receives a request_uri to send the browser with:
//
//	GET /oauth2/authorize?client_id=…&request_uri=urn:ietf:params:oauth:request_uri:…
//
// orgid handles the request_uri itself rather than through fosite, whose
// PAR support deletes the request on its first use at the authorization
// endpoint: an orgid authorization often leaves for sign-in, consent and
// the organization chooser and comes back. So the pushed request works at
// the authorization endpoint until it expires, an authorization started
// from it carries it in its flow (the flow's own lifetime then applies),
// and it is used up — once, by a conditional update — in the transaction
// that issues the authorization code. Parameters sent beside request_uri
// other than client_id are ignored (RFC 9126 §4).
//
// A client that registered require_pushed_authorization_requests, or every
// client under Config.RequirePAR, can start authorizations only this way.

// PathPAR is the pushed authorization request endpoint.
const PathPAR = "/oauth2/par"

// parURIPrefix starts every request_uri orgid issues (RFC 9126 §2.2).
const parURIPrefix = "urn:ietf:params:oauth:request_uri:"

// defaultPARLifetime is how long a pushed request may start an
// authorization; RFC 9126 suggests a short lifetime (its example: 60 s).
const defaultPARLifetime = 90 * time.Second

type parRow struct {
	bun.BaseModel `bun:"table:oauth2_par_requests"`
	URIHash       string     `bun:"uri_hash,pk"`
	ClientID      string     `bun:"client_id"`
	Form          string     `bun:"form"`
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	UsedAt        *time.Time `bun:"used_at"`
}

// clientAuthParameters authenticate the client at the PAR endpoint; they
// are not part of the authorization request.
var clientAuthParameters = []string{"client_secret", "client_assertion", "client_assertion_type"}

// pushAuthorization is the PAR endpoint. Phases: authenticate the client,
// expand a request object, validate as the authorization endpoint would,
// store, answer 201 with the request_uri.
func (p *Provider) pushAuthorization(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.", "")
		return
	}
	challenge := `Basic realm="` + p.cfg.Issuer + `"`
	fc, err := p.authenticateClient(ctx, r, r.PostForm)
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.ErrorField != fosite.ErrInvalidRequest.ErrorField && rfc.ErrorField != fosite.ErrServerError.ErrorField {
			err = fosite.ErrInvalidClient.WithHint("The client could not be authenticated.").WithWrap(err)
		}
		p.writeFositeJSONError(ctx, w, err, challenge)
		return
	}
	client := fc.(*Client)
	form := url.Values{}
	for k, vs := range r.PostForm {
		if !contains(clientAuthParameters, k) {
			form[k] = vs
		}
	}
	if form.Has("request_uri") {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "A pushed authorization request must not contain request_uri.", "")
		return
	}
	if id := form.Get("client_id"); id != "" && id != client.ID {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "client_id differs from the authenticated client.", "")
		return
	}
	form.Set("client_id", client.ID)
	form, err = p.expandRequestObject(ctx, form)
	if err == nil {
		err = p.validatePushed(ctx, r, client, form)
	}
	if err != nil {
		p.writeFositeJSONError(ctx, w, err, "")
		return
	}
	uri, expiresIn, err := p.storePushed(ctx, client.ID, form)
	if err != nil {
		p.writeFositeJSONError(ctx, w, fosite.ErrServerError.WithWrap(err), "")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"request_uri": uri, "expires_in": expiresIn})
}

// validatePushed runs the authorization endpoint's validation (fosite's
// and orgid's own checks that need no user) on a pushed request.
func (p *Provider) validatePushed(ctx context.Context, r *http.Request, client *Client, form url.Values) error {
	ar, err := p.oauth.NewAuthorizeRequest(ctx, requestWithForm(r.WithContext(ctx), form))
	if err != nil {
		return err
	}
	if ar.GetClient().GetID() != client.ID {
		return fosite.ErrInvalidRequest.WithHint("client_id differs from the authenticated client.")
	}
	if ar.GetRequestedScopes().Has("openid") && form.Get("redirect_uri") == "" {
		return fosite.ErrInvalidRequest.WithHint("redirect_uri is required.")
	}
	if err := checkPKCERequest(client, form); err != nil {
		return err
	}
	if !validClaimsRequest(form.Get("claims")) {
		return fosite.ErrInvalidRequest.WithHint("The claims parameter is not a valid JSON object.")
	}
	return nil
}

// storePushed keeps a validated request and returns its request_uri and
// lifetime in seconds.
func (p *Provider) storePushed(ctx context.Context, clientID string, form url.Values) (string, int, error) {
	uri := parURIPrefix + secret.Token("")
	now := p.now()
	row := &parRow{URIHash: p.parHash(uri), ClientID: clientID, Form: form.Encode(), CreatedAt: now, ExpiresAt: now.Add(p.parLifetime())}
	if _, err := storage.Conn(ctx, p.store.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return "", 0, fmt.Errorf("store pushed authorization request: %w", err)
	}
	return uri, int(p.parLifetime() / time.Second), nil
}

func (p *Provider) parLifetime() time.Duration {
	if p.cfg.PARLifetime > 0 {
		return p.cfg.PARLifetime
	}
	return defaultPARLifetime
}

func (p *Provider) parHash(uri string) string { return p.secrets.Hash("orgid/par:" + uri) }

// isPushedRequestURI reports whether a request_uri is one of orgid's.
func isPushedRequestURI(uri string) bool { return strings.HasPrefix(uri, parURIPrefix) }

// pushedParameters returns the parameters of the pushed request an
// authorization request names, and the request's key for its flow.
func (p *Provider) pushedParameters(ctx context.Context, query url.Values) (url.Values, string, error) {
	uri := query.Get("request_uri")
	gone := fosite.ErrInvalidRequestURI.WithHint("The request_uri is unknown, expired or already used.")
	if len(uri) > 256 || query.Has("request") {
		return nil, "", fosite.ErrInvalidRequest.WithHint("Send request_uri alone, without a request object.")
	}
	hash := p.parHash(uri)
	var row parRow
	err := storage.Conn(ctx, p.store.db).NewSelect().Model(&row).Where("uri_hash = ?", hash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", gone
	}
	if err != nil {
		return nil, "", fosite.ErrServerError.WithWrap(fmt.Errorf("load pushed authorization request: %w", err))
	}
	if row.UsedAt != nil || !row.ExpiresAt.After(p.now()) {
		return nil, "", gone
	}
	if query.Get("client_id") != row.ClientID {
		return nil, "", fosite.ErrInvalidRequestURI.WithHint("client_id must be the client that pushed the request.")
	}
	form, err := url.ParseQuery(row.Form)
	if err != nil {
		return nil, "", fosite.ErrServerError.WithWrap(fmt.Errorf("decode pushed authorization request: %w", err))
	}
	return form, hash, nil
}

// usePushed marks a pushed request used, inside the transaction that
// issues its authorization code: of two authorizations racing on one
// request_uri, one issues.
func (p *Provider) usePushed(ctx context.Context, hash string) error {
	res, err := storage.Conn(ctx, p.store.db).NewUpdate().Model((*parRow)(nil)).Set("used_at = ?", p.now()).
		Where("uri_hash = ?", hash).Where("used_at IS NULL").Exec(ctx)
	if err != nil {
		return fosite.ErrServerError.WithWrap(fmt.Errorf("use pushed authorization request: %w", err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fosite.ErrInvalidRequestURI.WithHint("The pushed authorization request was already used.")
	}
	return nil
}

// parRequired reports whether client may start authorizations only with
// a pushed request.
func (p *Provider) parRequired(client *Client) bool {
	return p.cfg.RequirePAR || client.Metadata.RequirePushedAuthorizationRequests
}

// The pushed request an authorization started from travels in the
// request's context through decide, the flow it creates and issue.
type parKey struct{}

func withPushed(ctx context.Context, hash string) context.Context {
	if hash == "" {
		return ctx
	}
	return context.WithValue(ctx, parKey{}, hash)
}

func pushedFrom(ctx context.Context) string {
	h, _ := ctx.Value(parKey{}).(string)
	return h
}
