package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Clients registers and loads OAuth 2.0 clients.
type Clients struct {
	db   *bun.DB
	keys *secret.Keyring
	now  func() time.Time

	// recent keeps loaded clients for clientCacheTTL: every token request
	// needs its client, and reading it costs a database round trip. A
	// change made here invalidates the entry at once; one made by another
	// replica or the CLI shows within clientCacheTTL.
	mu     sync.Mutex
	recent map[string]cachedClient
}

type cachedClient struct {
	client  *Client
	expires time.Time
}

// clientCacheTTL bounds how stale another process's client change may be
// here; clientCacheMax bounds the memory (the map is cleared when full).
const (
	clientCacheTTL = 5 * time.Second
	clientCacheMax = 10000
)

// NewClients returns the client registry on db.
func NewClients(db *bun.DB, keys *secret.Keyring, now func() time.Time) *Clients {
	if now == nil {
		now = time.Now
	}
	return &Clients{db: db, keys: keys, now: now, recent: map[string]cachedClient{}}
}

type clientRow struct {
	bun.BaseModel `bun:"table:oauth2_clients"`
	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name"`
	SecretHash    *string   `bun:"secret_hash"`
	Public        bool      `bun:"public"`
	FirstParty    bool      `bun:"first_party"`
	Metadata      string    `bun:"metadata"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
	// SecretSealed and RegistrationTokenHash: see migration 0080.
	SecretSealed          []byte  `bun:"secret_sealed"`
	RegistrationTokenHash *string `bun:"registration_token_hash"`
}

type originRow struct {
	bun.BaseModel `bun:"table:oauth2_client_origins"`
	Origin        string `bun:"origin,pk"`
	ClientID      string `bun:"client_id,pk"`
}

func (r *clientRow) client() (*Client, error) {
	c := &Client{ID: r.ID, Name: r.Name, Public: r.Public, FirstParty: r.FirstParty,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.SecretHash != nil {
		c.SecretHash = *r.SecretHash
	}
	c.secretSealed = r.SecretSealed
	if r.RegistrationTokenHash != nil {
		c.registrationTokenHash = *r.RegistrationTokenHash
	}
	if err := json.Unmarshal([]byte(r.Metadata), &c.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of client %q: %w", r.ID, err)
	}
	return c, nil
}

// NewClient is a registration request.
type NewClient struct {
	// ID and Secret import existing credentials (moving from another
	// provider); empty means generate them.
	ID         string
	Secret     string
	Name       string
	Public     bool
	FirstParty bool
	Metadata   ClientMetadata
}

// ValidationError explains why a registration was refused.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Scopes a client gets when it registers none.
var defaultClientScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access", ScopeOrganization}

// Create registers a client and returns it with its secret, which is shown
// this once: only its keyed hash is stored (and, for client_secret_jwt
// clients, a sealed copy, the HMAC key of their assertions).
func (cs *Clients) Create(ctx context.Context, nc NewClient) (*Client, string, error) {
	c, creds, err := cs.create(ctx, nc, false)
	if err != nil {
		return nil, "", err
	}
	return c, creds.Secret, nil
}

// Credentials are the secrets a new client receives, shown once.
type Credentials struct {
	// Secret is the client secret ("" for public and private_key_jwt
	// clients).
	Secret string
	// RegistrationToken is the RFC 7592 registration access token of a
	// dynamically registered client.
	RegistrationToken string
}

// create stores a client; withRegistrationToken issues it an RFC 7592
// registration access token (dynamic registration).
func (cs *Clients) create(ctx context.Context, nc NewClient, withRegistrationToken bool) (*Client, Credentials, error) {
	var creds Credentials
	m, err := normalizeMetadata(nc.Public, nc.Metadata)
	if err != nil {
		return nil, creds, err
	}
	if strings.TrimSpace(nc.Name) == "" {
		return nil, creds, &ValidationError{"name", "is required"}
	}
	cid := nc.ID
	if cid == "" {
		cid = id.New("client")
	} else if err := validateClientID(cid); err != nil {
		return nil, creds, err
	}
	row := &clientRow{ID: cid, Name: strings.TrimSpace(nc.Name), Public: nc.Public, FirstParty: nc.FirstParty}
	if creds.Secret, err = cs.setSecret(row, m, nc.Secret); err != nil {
		return nil, creds, err
	}
	if withRegistrationToken {
		creds.RegistrationToken = secret.Token("")
		h := cs.keys.Hash(creds.RegistrationToken)
		row.RegistrationTokenHash = &h
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return nil, creds, err
	}
	now := cs.now().UTC().Truncate(time.Microsecond)
	row.Metadata, row.CreatedAt, row.UpdatedAt = string(meta), now, now
	err = storage.InTx(ctx, cs.db, func(ctx context.Context) error {
		db := storage.Conn(ctx, cs.db)
		if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("client %q: %w", cid, storage.ErrConflict)
			}
			return fmt.Errorf("create client: %w", err)
		}
		return cs.writeOrigins(ctx, db, cid, m.WebOrigins)
	})
	if err != nil {
		return nil, Credentials{}, err
	}
	c, err := row.client()
	return c, creds, err
}

// setSecret gives a confidential client its secret (plain, generated or
// imported) and returns it: a keyed hash always, a sealed copy for
// client_secret_jwt. Public and private_key_jwt clients have none.
func (cs *Clients) setSecret(row *clientRow, m ClientMetadata, plain string) (string, error) {
	row.SecretHash, row.SecretSealed = nil, nil
	if row.Public || m.TokenEndpointAuthMethod == AuthMethodPrivateKey {
		if plain != "" {
			return "", &ValidationError{"secret", "public and private_key_jwt clients have no secret"}
		}
		return "", nil
	}
	switch {
	case plain == "" && m.TokenEndpointAuthMethod == AuthMethodSecretJWT:
		// 512 bits: enough key for HS512 too (RFC 7518 §3.2).
		plain = secret.RandomString(64)
	case plain == "":
		plain = secret.Token("")
	case len(plain) < 16:
		return "", &ValidationError{"secret", "an imported secret must have at least 16 characters"}
	}
	h := cs.keys.Hash(plain)
	row.SecretHash = &h
	if m.TokenEndpointAuthMethod == AuthMethodSecretJWT {
		// HS256 needs at least 256 bits of key (RFC 7518 §3.2).
		if len(plain) < 32 {
			return "", &ValidationError{"secret", "a client_secret_jwt secret must have at least 32 characters"}
		}
		row.SecretSealed = cs.keys.Seal([]byte(plain), secretAAD(row.ID))
	}
	return plain, nil
}

// update replaces a client's name and metadata (RFC 7592 §2.2). The
// secret stays unless the new authentication method needs one the client
// does not have in usable form: then a new secret is generated and
// returned, shown this once.
func (cs *Clients) update(ctx context.Context, c *Client, nc NewClient) (*Client, string, error) {
	m, err := normalizeMetadata(nc.Public, nc.Metadata)
	if err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(nc.Name) == "" {
		return nil, "", &ValidationError{"name", "is required"}
	}
	row := &clientRow{ID: c.ID, Name: strings.TrimSpace(nc.Name), Public: nc.Public, FirstParty: c.FirstParty}
	if c.SecretHash != "" {
		h := c.SecretHash
		row.SecretHash = &h
	}
	row.SecretSealed = c.secretSealed
	needsSecret := !nc.Public && m.TokenEndpointAuthMethod != AuthMethodPrivateKey
	var plain string
	switch {
	case !needsSecret:
		row.SecretHash, row.SecretSealed = nil, nil
	case row.SecretHash == nil || (m.TokenEndpointAuthMethod == AuthMethodSecretJWT && len(row.SecretSealed) == 0):
		if plain, err = cs.setSecret(row, m, ""); err != nil {
			return nil, "", err
		}
	case m.TokenEndpointAuthMethod != AuthMethodSecretJWT:
		row.SecretSealed = nil
	}
	meta, err := json.Marshal(m)
	if err != nil {
		return nil, "", err
	}
	row.Metadata = string(meta)
	row.UpdatedAt = cs.now().UTC().Truncate(time.Microsecond)
	err = storage.InTx(ctx, cs.db, func(ctx context.Context) error {
		db := storage.Conn(ctx, cs.db)
		res, err := db.NewUpdate().Model(row).Column("name", "public", "secret_hash", "secret_sealed", "metadata", "updated_at").
			WherePK().Exec(ctx)
		if err != nil {
			return fmt.Errorf("update client %q: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("update client %q: %w", c.ID, storage.ErrNotFound)
		}
		return cs.writeOrigins(ctx, db, c.ID, m.WebOrigins)
	})
	if err != nil {
		return nil, "", err
	}
	cs.forget(c.ID)
	updated, err := cs.load(ctx, c.ID)
	if err != nil {
		return nil, "", err
	}
	if cache, _ := ctx.Value(clientCacheKey{}).(map[string]*Client); cache != nil {
		cache[c.ID] = updated
	}
	return updated, plain, nil
}

func secretAAD(clientID string) []byte { return []byte("client-secret:" + clientID) }

// assertionKey returns the HMAC key of a client_secret_jwt client's
// assertions: its secret, unsealed.
func (cs *Clients) assertionKey(c *Client) ([]byte, error) {
	if len(c.secretSealed) == 0 {
		return nil, fmt.Errorf("client %q has no sealed secret", c.ID)
	}
	return cs.keys.Open(c.secretSealed, secretAAD(c.ID))
}

func (cs *Clients) writeOrigins(ctx context.Context, db bun.IDB, clientID string, origins []string) error {
	if _, err := db.NewDelete().Model((*originRow)(nil)).Where("client_id = ?", clientID).Exec(ctx); err != nil {
		return fmt.Errorf("replace web origins: %w", err)
	}
	if len(origins) == 0 {
		return nil
	}
	rows := make([]originRow, len(origins))
	for i, o := range origins {
		rows[i] = originRow{Origin: o, ClientID: clientID}
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("store web origins: %w", err)
	}
	return nil
}

// Get loads a client; storage.ErrNotFound when there is none. Within one
// HTTP request the result is cached (see withClientCache): fosite asks for
// the same client several times per token request.
func (cs *Clients) Get(ctx context.Context, clientID string) (*Client, error) {
	cache, _ := ctx.Value(clientCacheKey{}).(map[string]*Client)
	if c, ok := cache[clientID]; ok {
		return c, nil
	}
	c := cs.cached(clientID)
	if c == nil {
		var err error
		if c, err = cs.load(ctx, clientID); err != nil {
			return nil, err
		}
		cs.remember(c)
	}
	if cache != nil {
		cache[clientID] = c
	}
	return c, nil
}

func (cs *Clients) cached(clientID string) *Client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	e, ok := cs.recent[clientID]
	if !ok || !cs.now().Before(e.expires) {
		return nil
	}
	return e.client
}

func (cs *Clients) remember(c *Client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if len(cs.recent) >= clientCacheMax {
		clear(cs.recent)
	}
	cs.recent[c.ID] = cachedClient{client: c, expires: cs.now().Add(clientCacheTTL)}
}

// forget drops a client changed or deleted by this process.
func (cs *Clients) forget(clientID string) {
	cs.mu.Lock()
	delete(cs.recent, clientID)
	cs.mu.Unlock()
}

// load reads a client from the database.
func (cs *Clients) load(ctx context.Context, clientID string) (*Client, error) {
	var row clientRow
	err := storage.Conn(ctx, cs.db).NewSelect().Model(&row).Where("id = ?", clientID).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load client %q", clientID))
	}
	return row.client()
}

type clientCacheKey struct{}

// withClientCache returns a context in which Get remembers the clients it
// loaded. Only for the lifetime of one request: a deleted client stops
// working with the next request.
func withClientCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, clientCacheKey{}, map[string]*Client{})
}

// List returns every client, oldest first.
func (cs *Clients) List(ctx context.Context) ([]*Client, error) {
	var rows []clientRow
	if err := storage.Conn(ctx, cs.db).NewSelect().Model(&rows).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	out := make([]*Client, 0, len(rows))
	for i := range rows {
		c, err := rows[i].client()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Delete removes a client; its codes, tokens and consents go with it.
func (cs *Clients) Delete(ctx context.Context, clientID string) error {
	defer cs.forget(clientID)
	res, err := storage.Conn(ctx, cs.db).NewDelete().Model((*clientRow)(nil)).Where("id = ?", clientID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete client %q: %w", clientID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete client %q: %w", clientID, storage.ErrNotFound)
	}
	return nil
}

// OriginAllowed reports whether some client registered origin as a web
// origin (CORS for browser apps).
func (cs *Clients) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	n, err := storage.Conn(ctx, cs.db).NewSelect().Model((*originRow)(nil)).Where("origin = ?", origin).Limit(1).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("check web origin: %w", err)
	}
	return n > 0, nil
}

// Authenticate checks a client secret in constant time.
func (cs *Clients) Authenticate(c *Client, plainSecret string) bool {
	return !c.Public && c.SecretHash != "" && cs.keys.Verify(plainSecret, c.SecretHash)
}

func validateClientID(cid string) error {
	if len(cid) < 3 || len(cid) > 128 {
		return &ValidationError{"client_id", "must have 3 to 128 characters"}
	}
	for _, r := range cid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~:", r)) {
			return &ValidationError{"client_id", "may contain only letters, digits and -._~:"}
		}
	}
	return nil
}

var knownGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantImplicit, GrantTokenExchange, GrantDeviceCode}

// normalizeMetadata validates a registration and fills its defaults.
func normalizeMetadata(public bool, m ClientMetadata) (ClientMetadata, error) {
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for _, g := range m.GrantTypes {
		if !slices.Contains(knownGrants, g) {
			return m, &ValidationError{"grant_types", fmt.Sprintf("unsupported grant type %q", g)}
		}
	}
	if public && slices.Contains(m.GrantTypes, GrantClientCredentials) {
		return m, &ValidationError{"grant_types", "a public client cannot use client_credentials"}
	}
	usesRedirect := slices.Contains(m.GrantTypes, GrantAuthorizationCode) || slices.Contains(m.GrantTypes, GrantImplicit)
	if usesRedirect && len(m.RedirectURIs) == 0 {
		return m, &ValidationError{"redirect_uris", "at least one is required for the authorization code grant"}
	}
	for _, u := range m.RedirectURIs {
		if err := validateRedirectURI(u, public); err != nil {
			return m, &ValidationError{"redirect_uris", err.Error()}
		}
	}
	for _, u := range m.PostLogoutRedirectURIs {
		if err := validateRedirectURI(u, public); err != nil {
			return m, &ValidationError{"post_logout_redirect_uris", err.Error()}
		}
	}
	if len(m.ResponseTypes) == 0 {
		if slices.Contains(m.GrantTypes, GrantAuthorizationCode) {
			m.ResponseTypes = []string{"code"}
		} else {
			m.ResponseTypes = []string{}
		}
	}
	for _, rt := range m.ResponseTypes {
		if err := validateResponseType(rt, m.GrantTypes); err != nil {
			return m, &ValidationError{"response_types", err.Error()}
		}
	}
	for _, rm := range m.ResponseModes {
		if rm != "query" && rm != "fragment" && rm != "form_post" {
			return m, &ValidationError{"response_modes", fmt.Sprintf("unsupported response mode %q", rm)}
		}
	}
	if len(m.Scopes) == 0 {
		m.Scopes = slices.Clone(defaultClientScopes)
	}
	switch m.AccessTokenFormat {
	case "", AccessTokenJWT, AccessTokenOpaque:
	default:
		return m, &ValidationError{"access_token_format", fmt.Sprintf("unknown format %q (jwt or opaque)", m.AccessTokenFormat)}
	}
	if m.RefreshGracePeriodSeconds < 0 || m.RefreshGracePeriodSeconds > 60 {
		return m, &ValidationError{"refresh_grace_period_seconds", "must be between 0 and 60"}
	}
	if err := validateAuthentication(public, &m); err != nil {
		return m, err
	}
	if err := validateRegistrationMetadata(&m); err != nil {
		return m, err
	}
	// Browser apps call the token endpoint from the origin they redirect
	// to; register those origins unless the client listed its own.
	if len(m.WebOrigins) == 0 {
		m.WebOrigins = originsOf(m.RedirectURIs)
	}
	for i, o := range m.WebOrigins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return m, &ValidationError{"web_origins", err.Error()}
		}
		m.WebOrigins[i] = norm
	}
	m.WebOrigins = uniq(m.WebOrigins)
	return m, nil
}

func validateResponseType(rt string, grants []string) error {
	parts := strings.Fields(rt)
	if len(parts) == 0 {
		return errors.New("empty response type")
	}
	hasCode, hasImplicit := false, false
	for _, p := range parts {
		switch p {
		case "code":
			hasCode = true
		case "id_token", "token":
			hasImplicit = true
		default:
			return fmt.Errorf("unsupported response type %q", rt)
		}
	}
	if rt == "token" {
		return errors.New(`response type "token" alone is not offered (RFC 9700)`)
	}
	if hasCode && !slices.Contains(grants, GrantAuthorizationCode) {
		return fmt.Errorf("response type %q needs the authorization_code grant", rt)
	}
	if hasImplicit && !slices.Contains(grants, GrantImplicit) {
		return fmt.Errorf("response type %q needs the implicit grant", rt)
	}
	return nil
}

// validateRedirectURI enforces what exact matching needs: absolute URIs
// without fragments or wildcards; https, or http only on loopback; custom
// schemes only for public (native) clients.
func validateRedirectURI(raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	if strings.Contains(raw, "*") {
		return fmt.Errorf("%q: wildcards are not allowed", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", raw)
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("%q: http is allowed only for loopback (use https)", raw)
		}
	default:
		if !public {
			return fmt.Errorf("%q: custom schemes are for native (public) clients", raw)
		}
		if u.Scheme == "javascript" || u.Scheme == "data" || u.Scheme == "file" || u.Scheme == "vbscript" {
			return fmt.Errorf("%q: scheme not allowed", raw)
		}
	}
	return nil
}

func originsOf(uris []string) []string {
	var out []string
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
