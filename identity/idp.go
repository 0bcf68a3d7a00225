package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// Upstream identity provider kinds: a generic OpenID provider (found
// through its issuer's discovery document) and presets.
const (
	ProviderOIDC      = "oidc"
	ProviderGoogle    = "google"
	ProviderGitHub    = "github"
	ProviderMicrosoft = "microsoft"
)

// IdentityProvider is an upstream provider users can sign in with.
type IdentityProvider struct {
	ID string
	// Slug names it in URLs and forms ("google", "acme-sso").
	Slug string
	Kind string
	// Name is shown on the button ("Continue with Google").
	Name     string
	Issuer   string
	ClientID string
	Scopes   []string
	// AuthURL, TokenURL and APIURL are the GitHub endpoints ("" for
	// github.com); OpenID providers are discovered from Issuer.
	AuthURL, TokenURL, APIURL string
	Enabled                   bool
	CreatedAt, UpdatedAt      time.Time
}

// NewIdentityProvider is the input of CreateIdentityProvider. Kind,
// ClientID and ClientSecret are required; Issuer for kind oidc. For
// microsoft, Tenant picks the Entra tenant (default "common": any work,
// school or personal account). Slug and Name default from the kind.
type NewIdentityProvider struct {
	Kind         string
	Slug         string
	Name         string
	Issuer       string
	Tenant       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	AuthURL      string
	TokenURL     string
	APIURL       string
}

type providerRow struct {
	bun.BaseModel `bun:"table:identity_providers"`

	ID           string    `bun:"id,pk"`
	Slug         string    `bun:"slug"`
	Kind         string    `bun:"kind"`
	Name         string    `bun:"name"`
	Issuer       string    `bun:"issuer"`
	ClientID     string    `bun:"client_id"`
	ClientSecret []byte    `bun:"client_secret"`
	Scopes       string    `bun:"scopes"`
	AuthURL      string    `bun:"auth_url"`
	TokenURL     string    `bun:"token_url"`
	APIURL       string    `bun:"api_url"`
	Enabled      bool      `bun:"enabled"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

func (r *providerRow) toProvider() (*IdentityProvider, error) {
	p := &IdentityProvider{
		ID: r.ID, Slug: r.Slug, Kind: r.Kind, Name: r.Name, Issuer: r.Issuer, ClientID: r.ClientID,
		AuthURL: r.AuthURL, TokenURL: r.TokenURL, APIURL: r.APIURL, Enabled: r.Enabled,
		CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt),
	}
	if err := json.Unmarshal([]byte(r.Scopes), &p.Scopes); err != nil {
		return nil, fmt.Errorf("identity provider %s scopes: %w", r.ID, err)
	}
	return p, nil
}

// secretAAD binds a sealed client secret to its provider row.
func providerSecretAAD(providerID string) []byte {
	return []byte("orgid/identity-provider-secret:" + providerID)
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// presets fill what a kind implies.
func applyPreset(n *NewIdentityProvider) error {
	switch n.Kind {
	case ProviderGoogle:
		n.Issuer = "https://accounts.google.com"
		defaults(&n.Name, "Google")
		defaultScopes(n, "openid", "email", "profile")
	case ProviderMicrosoft:
		tenant := n.Tenant
		if tenant == "" {
			tenant = "common"
		}
		if !regexp.MustCompile(`^[A-Za-z0-9.-]+$`).MatchString(tenant) {
			return &ValidationError{Field: "tenant", Message: "Must be a tenant id, a domain, or common, organizations or consumers."}
		}
		n.Issuer = "https://login.microsoftonline.com/" + tenant + "/v2.0"
		defaults(&n.Name, "Microsoft")
		defaultScopes(n, "openid", "email", "profile")
	case ProviderGitHub:
		defaults(&n.Name, "GitHub")
		defaults(&n.AuthURL, "https://github.com/login/oauth/authorize")
		defaults(&n.TokenURL, "https://github.com/login/oauth/access_token")
		defaults(&n.APIURL, "https://api.github.com")
		defaultScopes(n, "read:user", "user:email")
	case ProviderOIDC:
		if err := validateProviderURL("issuer", n.Issuer); err != nil {
			return err
		}
		defaults(&n.Name, "Single sign-on")
		defaultScopes(n, "openid", "email", "profile")
	default:
		return &ValidationError{Field: "kind", Message: "Must be oidc, google, github or microsoft."}
	}
	defaults(&n.Slug, n.Kind)
	return nil
}

func defaults(field *string, value string) {
	if strings.TrimSpace(*field) == "" {
		*field = value
	}
}

func defaultScopes(n *NewIdentityProvider, scopes ...string) {
	if len(n.Scopes) == 0 {
		n.Scopes = scopes
	}
}

// validateProviderURL accepts an https URL (http only for a loopback
// host, for development and tests).
func validateProviderURL(field, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return &ValidationError{Field: field, Message: "Must be an https URL without query or fragment."}
	}
	return nil
}

func isLoopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// CreateIdentityProvider stores an upstream provider, its client secret
// sealed. A taken slug gives storage.ErrConflict.
func (s *Service) CreateIdentityProvider(ctx context.Context, n NewIdentityProvider) (*IdentityProvider, error) {
	n.Kind = strings.ToLower(strings.TrimSpace(n.Kind))
	if err := applyPreset(&n); err != nil {
		return nil, err
	}
	n.Slug = strings.ToLower(strings.TrimSpace(n.Slug))
	switch {
	case !slugPattern.MatchString(n.Slug) || len(n.Slug) > 40:
		return nil, &ValidationError{Field: "slug", Message: "Must be 1 to 40 lowercase letters, digits and single dashes."}
	case strings.TrimSpace(n.ClientID) == "" || safeText(n.ClientID) != n.ClientID:
		return nil, &ValidationError{Field: "client_id", Message: "Is required."}
	case n.ClientSecret == "":
		return nil, &ValidationError{Field: "client_secret", Message: "Is required."}
	}
	if err := validateName("name", n.Name); err != nil {
		return nil, err
	}
	if n.Kind == ProviderGitHub {
		for field, v := range map[string]string{"auth_url": n.AuthURL, "token_url": n.TokenURL, "api_url": n.APIURL} {
			if err := validateProviderURL(field, v); err != nil {
				return nil, err
			}
		}
	}
	scopes, err := json.Marshal(n.Scopes)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	row := &providerRow{
		ID: id.NewAt("idp", now), Slug: n.Slug, Kind: n.Kind, Name: strings.TrimSpace(n.Name), Issuer: strings.TrimSuffix(n.Issuer, "/"),
		ClientID: strings.TrimSpace(n.ClientID), Scopes: string(scopes),
		AuthURL: n.AuthURL, TokenURL: n.TokenURL, APIURL: strings.TrimSuffix(n.APIURL, "/"),
		Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	row.ClientSecret = s.keys.Seal([]byte(n.ClientSecret), providerSecretAAD(row.ID))
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		if storage.IsUniqueViolation(err) {
			return nil, fmt.Errorf("identity provider %q: %w", n.Slug, storage.ErrConflict)
		}
		return nil, fmt.Errorf("create identity provider: %w", err)
	}
	return row.toProvider()
}

// ListIdentityProviders returns the providers by name; enabledOnly keeps
// those users may sign in with.
func (s *Service) ListIdentityProviders(ctx context.Context, enabledOnly bool) ([]*IdentityProvider, error) {
	var rows []providerRow
	q := storage.Conn(ctx, s.db).NewSelect().Model(&rows).OrderExpr("name, slug")
	if enabledOnly {
		q = q.Where("enabled = ?", true)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list identity providers: %w", err)
	}
	out := make([]*IdentityProvider, len(rows))
	for i := range rows {
		var err error
		if out[i], err = rows[i].toProvider(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetIdentityProvider returns a provider by id or slug, or an error
// wrapping storage.ErrNotFound.
func (s *Service) GetIdentityProvider(ctx context.Context, ref string) (*IdentityProvider, error) {
	row, err := s.loadProvider(ctx, ref)
	if err != nil {
		return nil, err
	}
	return row.toProvider()
}

func (s *Service) loadProvider(ctx context.Context, ref string) (*providerRow, error) {
	row := new(providerRow)
	ref = safeText(ref)
	err := storage.Conn(ctx, s.db).NewSelect().Model(row).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("id = ?", ref).WhereOr("slug = ?", ref)
		}).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load identity provider %q", ref))
	}
	return row, nil
}

// SetIdentityProviderEnabled turns sign-in with a provider on or off; the
// identities stay.
func (s *Service) SetIdentityProviderEnabled(ctx context.Context, ref string, enabled bool) (*IdentityProvider, error) {
	row, err := s.loadProvider(ctx, ref)
	if err != nil {
		return nil, err
	}
	row.Enabled, row.UpdatedAt = enabled, s.clock()
	if _, err := storage.Conn(ctx, s.db).NewUpdate().Model(row).Column("enabled", "updated_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("update identity provider %q: %w", ref, err)
	}
	s.upstream.forget(row.ID)
	return row.toProvider()
}

// DeleteIdentityProvider deletes a provider and every identity users hold
// at it (they sign in otherwise afterwards).
func (s *Service) DeleteIdentityProvider(ctx context.Context, ref string) error {
	row, err := s.loadProvider(ctx, ref)
	if err != nil {
		return err
	}
	if _, err := storage.Conn(ctx, s.db).NewDelete().Model((*providerRow)(nil)).Where("id = ?", row.ID).Exec(ctx); err != nil {
		return fmt.Errorf("delete identity provider %q: %w", ref, err)
	}
	s.upstream.forget(row.ID)
	return nil
}

// errProviderDisabled is the answer for a disabled provider.
var errProviderDisabled = errors.New("identity provider is disabled")

// IdentityProviderJSON is the JSON form of a provider (never its secret).
type IdentityProviderJSON struct {
	Object    string   `json:"object"`
	ID        string   `json:"id"`
	Slug      string   `json:"slug"`
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Issuer    *string  `json:"issuer"`
	ClientID  string   `json:"client_id"`
	Scopes    []string `json:"scopes"`
	Enabled   bool     `json:"enabled"`
	CreatedAt int64    `json:"created_at"`
	UpdatedAt int64    `json:"updated_at"`
}

// JSON returns the JSON form of p (timestamps in Unix milliseconds).
func (p *IdentityProvider) JSON() IdentityProviderJSON {
	scopes := p.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return IdentityProviderJSON{
		Object: "identity_provider", ID: p.ID, Slug: p.Slug, Kind: p.Kind, Name: p.Name, Issuer: nullable(p.Issuer),
		ClientID: p.ClientID, Scopes: scopes, Enabled: p.Enabled,
		CreatedAt: p.CreatedAt.UnixMilli(), UpdatedAt: p.UpdatedAt.UnixMilli(),
	}
}
