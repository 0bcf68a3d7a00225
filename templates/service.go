package templates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// Bounds on a template's token settings.
const (
	// MaxLifetime is Clerk's upper bound for a template's token lifetime
	// (ten years), kept so that migrated templates load.
	MaxLifetime = 10 * 365 * 24 * time.Hour
	// MaxClockSkew bounds how far nbf may be back-dated.
	MaxClockSkew = time.Hour
)

// idPrefix starts the ids of stored templates: "jtmp_…".
const idPrefix = "jtmp"

// namePattern is what a template name may look like: lower-case letters,
// digits, "_" and "-", starting with a letter or digit, at most 64
// characters. Names travel as the token-exchange audience, so they stay
// URL- and form-safe.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// Options configures a Service.
type Options struct {
	// Algorithms lists the JWS algorithms orgid holds signing keys for; a
	// template's signing_algorithm must be one of them. Nil means RS256
	// and ES256.
	Algorithms []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service stores templates in the jwt_templates table. Templates emit no
// webhook events (Clerk has none for them).
type Service struct {
	db         *bun.DB
	algorithms []string
	now        func() time.Time

	// compiled caches templates by their exact claims text, so that
	// reading a template for every token does not parse it every time. The
	// key is the content, so a cached entry can never be stale, whichever
	// replica changed the row.
	mu       sync.Mutex
	compiled map[string]*Template
}

// maxCompiled bounds the compile cache; when full it starts over.
const maxCompiled = 128

// NewService returns a Service over db.
func NewService(db *bun.DB, opts Options) *Service {
	s := &Service{db: db, algorithms: opts.Algorithms, now: opts.Now, compiled: map[string]*Template{}}
	if s.algorithms == nil {
		s.algorithms = []string{"RS256", "ES256"}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// NewTemplate is what Create takes.
type NewTemplate struct {
	Name   string
	Claims json.RawMessage
	// Lifetime of minted tokens in whole seconds; 0 means DefaultLifetime.
	Lifetime time.Duration
	// ClockSkew back-dates nbf, in whole seconds; nil means
	// DefaultClockSkew (a pointer, because 0 is a valid skew).
	ClockSkew *time.Duration
	// Algorithm is the JWS algorithm; "" means DefaultAlgorithm.
	Algorithm string
}

// TemplateUpdate changes the fields that are set (non-nil).
type TemplateUpdate struct {
	Name      *string
	Claims    json.RawMessage
	Lifetime  *time.Duration
	ClockSkew *time.Duration
	Algorithm *string
}

// templateRow is one row of jwt_templates.
type templateRow struct {
	bun.BaseModel `bun:"table:jwt_templates"`

	ID               string    `bun:"id,pk"`
	Name             string    `bun:"name"`
	Claims           string    `bun:"claims"`
	LifetimeSeconds  int64     `bun:"lifetime_seconds"`
	ClockSkewSeconds int64     `bun:"clock_skew_seconds"`
	SigningAlgorithm string    `bun:"signing_algorithm"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
}

// Create validates and stores a new template. Problems come back together
// as a *ValidationError (errors.Is ErrInvalid); a taken name is ErrConflict.
func (s *Service) Create(ctx context.Context, nt NewTemplate) (*StoredTemplate, error) {
	var probs problems
	s.checkName(&probs, nt.Name)
	lifetime, skew, alg := nt.Lifetime, DefaultClockSkew, nt.Algorithm
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	if nt.ClockSkew != nil {
		skew = *nt.ClockSkew
	}
	if alg == "" {
		alg = DefaultAlgorithm
	}
	s.checkSettings(&probs, lifetime, skew, alg)
	tmpl := compileInto(&probs, nt.Claims)
	if err := probs.err(); err != nil {
		return nil, fmt.Errorf("create template %q: %w", nt.Name, err)
	}
	if _, ok := Preset(nt.Name); ok {
		return nil, fmt.Errorf("create template %q: the name belongs to a built-in template: %w", nt.Name, storage.ErrConflict)
	}
	now := s.now().UTC()
	row := &templateRow{
		ID:               id.NewAt(idPrefix, now),
		Name:             nt.Name,
		Claims:           string(nt.Claims),
		LifetimeSeconds:  int64(lifetime / time.Second),
		ClockSkewSeconds: int64(skew / time.Second),
		SigningAlgorithm: alg,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		if storage.IsUniqueViolation(err) {
			return nil, fmt.Errorf("create template %q: name taken: %w", nt.Name, storage.ErrConflict)
		}
		return nil, fmt.Errorf("create template %q: %w", nt.Name, err)
	}
	return stored(row, tmpl), nil
}

// Get returns the template with the given id ("jtmp_…") or name, built-in
// templates included; storage.ErrNotFound when there is none.
func (s *Service) Get(ctx context.Context, idOrName string) (*StoredTemplate, error) {
	if p, ok := Preset(idOrName); ok {
		return p, nil
	}
	row, err := s.load(ctx, storage.Conn(ctx, s.db), idOrName, false)
	if err != nil {
		return nil, err
	}
	return s.compileRow(row)
}

// List returns the built-in templates, then the stored ones by name (in
// byte order, the same on both databases whatever their collation).
func (s *Service) List(ctx context.Context) ([]*StoredTemplate, error) {
	var rows []templateRow
	if err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	slices.SortFunc(rows, func(a, b templateRow) int { return strings.Compare(a.Name, b.Name) })
	out := presets()
	for i := range rows {
		st, err := s.compileRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Update changes a stored template. Built-in templates are ErrPreset; a
// taken name is ErrConflict; invalid values are a *ValidationError.
func (s *Service) Update(ctx context.Context, idOrName string, upd TemplateUpdate) (*StoredTemplate, error) {
	if _, ok := Preset(idOrName); ok {
		return nil, fmt.Errorf("update template %q: %w", idOrName, ErrPreset)
	}
	var result *StoredTemplate
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.load(ctx, conn, idOrName, true)
		if err != nil {
			return err
		}
		var probs problems
		if upd.Name != nil {
			s.checkName(&probs, *upd.Name)
			row.Name = *upd.Name
		}
		lifetime := time.Duration(row.LifetimeSeconds) * time.Second
		skew := time.Duration(row.ClockSkewSeconds) * time.Second
		if upd.Lifetime != nil {
			lifetime = *upd.Lifetime
		}
		if upd.ClockSkew != nil {
			skew = *upd.ClockSkew
		}
		if upd.Algorithm != nil {
			row.SigningAlgorithm = *upd.Algorithm
		}
		s.checkSettings(&probs, lifetime, skew, row.SigningAlgorithm)
		claims := json.RawMessage(row.Claims)
		if upd.Claims != nil {
			claims = upd.Claims
		}
		tmpl := compileInto(&probs, claims)
		if err := probs.err(); err != nil {
			return err
		}
		if _, ok := Preset(row.Name); ok {
			return fmt.Errorf("the name belongs to a built-in template: %w", storage.ErrConflict)
		}
		row.Claims = string(claims)
		row.LifetimeSeconds = int64(lifetime / time.Second)
		row.ClockSkewSeconds = int64(skew / time.Second)
		row.UpdatedAt = s.now().UTC()
		if _, err := conn.NewUpdate().Model(row).WherePK().Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("name %q taken: %w", row.Name, storage.ErrConflict)
			}
			return err
		}
		result = stored(row, tmpl)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update template %q: %w", idOrName, err)
	}
	return result, nil
}

// Delete removes a stored template. Built-in templates are ErrPreset; a
// template that something still references (a foreign key) is ErrConflict.
func (s *Service) Delete(ctx context.Context, idOrName string) error {
	if _, ok := Preset(idOrName); ok {
		return fmt.Errorf("delete template %q: %w", idOrName, ErrPreset)
	}
	q := storage.Conn(ctx, s.db).NewDelete().Model((*templateRow)(nil))
	res, err := whereIDOrName(q, idOrName).Exec(ctx)
	if err != nil {
		if storage.IsForeignKeyViolation(err) {
			return fmt.Errorf("delete template %q: still in use: %w", idOrName, storage.ErrConflict)
		}
		return fmt.Errorf("delete template %q: %w", idOrName, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete template %q: %w", idOrName, err)
	} else if n == 0 {
		return fmt.Errorf("delete template %q: %w", idOrName, storage.ErrNotFound)
	}
	return nil
}

// load reads one row by id or name, locking it on PostgreSQL when asked.
func (s *Service) load(ctx context.Context, conn bun.IDB, idOrName string, forUpdate bool) (*templateRow, error) {
	row := new(templateRow)
	q := conn.NewSelect().Model(row)
	q = whereIDOrName(q, idOrName)
	if forUpdate && storage.IsPostgres(conn) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load template %q", idOrName))
	}
	return row, nil
}

// whereIDOrName selects by id when the argument looks like one; names can
// never look like ids (they may not start with "jtmp_").
func whereIDOrName[Q interface {
	Where(string, ...any) Q
}](q Q, idOrName string) Q {
	if looksLikeID(idOrName) {
		return q.Where("id = ?", idOrName)
	}
	return q.Where("name = ?", idOrName)
}

func looksLikeID(s string) bool { return strings.HasPrefix(s, idPrefix+"_") }

func (s *Service) compileRow(row *templateRow) (*StoredTemplate, error) {
	s.mu.Lock()
	tmpl, ok := s.compiled[row.Claims]
	s.mu.Unlock()
	if !ok {
		var err error
		if tmpl, err = Parse([]byte(row.Claims)); err != nil {
			// Only possible if validation rules tightened after the row was saved.
			return nil, fmt.Errorf("stored template %q no longer compiles: %w", row.Name, err)
		}
		s.mu.Lock()
		if len(s.compiled) >= maxCompiled {
			clear(s.compiled)
		}
		s.compiled[row.Claims] = tmpl
		s.mu.Unlock()
	}
	return stored(row, tmpl), nil
}

func stored(row *templateRow, tmpl *Template) *StoredTemplate {
	return &StoredTemplate{
		ID:        row.ID,
		Name:      row.Name,
		Claims:    json.RawMessage(row.Claims),
		Lifetime:  time.Duration(row.LifetimeSeconds) * time.Second,
		ClockSkew: time.Duration(row.ClockSkewSeconds) * time.Second,
		Algorithm: row.SigningAlgorithm,
		CreatedAt: row.CreatedAt,
		UpdatedAt: row.UpdatedAt,
		Template:  tmpl,
	}
}

// compileInto parses claims, adding its problems to probs.
func compileInto(probs *problems, claims json.RawMessage) *Template {
	tmpl, err := Parse(claims)
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, e := range ve.Errors {
			probs.add(e.Path, e.Column, "%s", e.Message)
		}
	}
	return tmpl
}

func (s *Service) checkName(probs *problems, name string) {
	switch {
	case name == "":
		probs.add("name", 0, "name is required")
	case !namePattern.MatchString(name):
		probs.add("name", 0, "name %q must be 1–64 lower-case letters, digits, '_' or '-', starting with a letter or digit", name)
	case looksLikeID(name):
		probs.add("name", 0, "name %q may not start with %q: ids do", name, idPrefix+"_")
	}
}

func (s *Service) checkSettings(probs *problems, lifetime, skew time.Duration, alg string) {
	switch {
	case lifetime%time.Second != 0:
		probs.add("lifetime", 0, "lifetime %v is not a whole number of seconds", lifetime)
	case lifetime < time.Second || lifetime > MaxLifetime:
		probs.add("lifetime", 0, "lifetime must be between 1 and %d seconds, got %v", int64(MaxLifetime/time.Second), lifetime)
	}
	switch {
	case skew%time.Second != 0:
		probs.add("allowed_clock_skew", 0, "clock skew %v is not a whole number of seconds", skew)
	case skew < 0 || skew > MaxClockSkew:
		probs.add("allowed_clock_skew", 0, "clock skew must be between 0 and %d seconds, got %v", int64(MaxClockSkew/time.Second), skew)
	}
	if !slices.Contains(s.algorithms, alg) {
		probs.add("signing_algorithm", 0, "signing algorithm %q is not available (available: %s)", alg, strings.Join(s.algorithms, ", "))
	}
}
