package tenancy

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// NewOrganization is the input of CreateOrganization.
type NewOrganization struct {
	Name string // required
	// Slug is validated when given, else generated from Name (with a
	// numeric suffix when taken).
	Slug string
	// CreatedBy becomes the first org:owner. Required for the operator;
	// a user actor creates for themselves.
	CreatedBy string
	ImageURL  string
	// Metadata and the member limit are for the operator only, as in
	// Clerk's Backend API.
	PublicMetadata        map[string]any
	PrivateMetadata       map[string]any
	MaxAllowedMemberships int
}

// OrganizationUpdate changes the fields that are not nil. A user actor
// (holding org:sys_profile:manage) may change Name, Slug and ImageURL; the
// rest is for the operator only.
type OrganizationUpdate struct {
	Name                  *string
	Slug                  *string
	ImageURL              *string
	PublicMetadata        map[string]any // replaces the stored object when non-nil
	PrivateMetadata       map[string]any
	MaxAllowedMemberships *int
	AdminDeleteEnabled    *bool
}

// ListParams pages a list. Limit defaults to 10 and is capped at 500.
type ListParams struct {
	Limit  int
	Offset int
}

func (p ListParams) limits() (limit, offset int64) {
	limit = int64(p.Limit)
	switch {
	case limit <= 0:
		limit = 10
	case limit > 500:
		limit = 500
	}
	return limit, int64(max(p.Offset, 0))
}

// ListOrganizationsParams filter ListOrganizations.
type ListOrganizationsParams struct {
	ListParams
	// Query matches part of the name or slug, or a whole id.
	Query string
}

const maxNameLen = 256

func validateOrgName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("%w: organization name must not be empty", ErrInvalid)
	}
	if len(name) > maxNameLen {
		return "", fmt.Errorf("%w: organization name is longer than %d characters", ErrInvalid, maxNameLen)
	}
	return name, nil
}

func validateImageURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2048 {
		return fmt.Errorf("%w: image_url %q must be an absolute http(s) URL", ErrInvalid, raw)
	}
	return nil
}

// errSlugRace: a generated slug was taken between the check and the insert.
var errSlugRace = errors.New("generated slug taken concurrently")

// CreateOrganization creates an organization and makes CreatedBy its
// org:owner in the same transaction; it emits organization.created and
// organizationMembership.created.
func (s *Service) CreateOrganization(ctx context.Context, actor Actor, in NewOrganization) (*Organization, error) {
	switch {
	case actor.operator:
		if in.CreatedBy == "" {
			return nil, fmt.Errorf("%w: created_by is required: an organization needs an owner", ErrInvalid)
		}
	case actor.userID != "":
		if in.CreatedBy != "" && in.CreatedBy != actor.userID {
			return nil, fmt.Errorf("create organization for another user: %w", ErrForbidden)
		}
		if in.PublicMetadata != nil || in.PrivateMetadata != nil || in.MaxAllowedMemberships != 0 {
			return nil, fmt.Errorf("set metadata or member limit: %w (operator only)", ErrForbidden)
		}
		in.CreatedBy = actor.userID
	default:
		return nil, fmt.Errorf("create organization: %w", ErrForbidden)
	}
	name, err := validateOrgName(in.Name)
	if err != nil {
		return nil, err
	}
	if in.Slug != "" {
		if err := ValidateSlug(in.Slug); err != nil {
			return nil, err
		}
	}
	if err := validateImageURL(in.ImageURL); err != nil {
		return nil, err
	}
	if in.MaxAllowedMemberships < 0 {
		return nil, fmt.Errorf("%w: max_allowed_memberships must not be negative", ErrInvalid)
	}
	pub, err := encodeMetadata("public_metadata", in.PublicMetadata)
	if err != nil {
		return nil, err
	}
	priv, err := encodeMetadata("private_metadata", in.PrivateMetadata)
	if err != nil {
		return nil, err
	}
	_, outerTx := storage.TxFrom(ctx)
	for attempt := 0; ; attempt++ {
		now := s.clock()
		row := &orgRow{ID: id.NewAt("org", now), Name: name, ImageURL: in.ImageURL, PublicMetadata: pub, PrivateMetadata: priv,
			MaxAllowedMemberships: in.MaxAllowedMemberships, AdminDeleteEnabled: true, CreatedBy: in.CreatedBy,
			CreatedAt: now, UpdatedAt: now}
		var out *Organization
		err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
			if _, err := s.users.GetUser(ctx, in.CreatedBy); err != nil {
				return fmt.Errorf("create organization: owner: %w", err)
			}
			if row.Slug = in.Slug; row.Slug == "" {
				if row.Slug, err = s.freeSlug(ctx, Slugify(name)); err != nil {
					return err
				}
			}
			if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
				if storage.IsUniqueViolation(err) {
					if in.Slug == "" {
						return errSlugRace
					}
					return fmt.Errorf("create organization: slug %q: %w", row.Slug, ErrSlugTaken)
				}
				return fmt.Errorf("create organization: %w", err)
			}
			one, zero := 1, 0
			row.MembersCount, row.PendingInvitationsCount = &one, &zero
			out = row.organization()
			if err := s.emit(ctx, "organization.created", out.JSON()); err != nil {
				return err
			}
			_, err := s.insertMembership(ctx, row, in.CreatedBy, rbac.RoleOwner, true)
			return err
		})
		if errors.Is(err, errSlugRace) && !outerTx && attempt < 3 {
			continue
		}
		if errors.Is(err, errSlugRace) {
			return nil, fmt.Errorf("create organization: %w", ErrSlugTaken)
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// freeSlug returns base or the first free base-N. On PostgreSQL a
// transaction-scoped advisory lock on the base makes concurrent creators of
// like-named organizations take turns, so they do not pick the same slug;
// SQLite runs one write transaction at a time anyway.
func (s *Service) freeSlug(ctx context.Context, base string) (string, error) {
	if storage.IsPostgres(s.db) {
		h := fnv.New64a()
		h.Write([]byte("orgid/tenancy/slug:" + base))
		if _, err := s.conn(ctx).ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())); err != nil {
			return "", fmt.Errorf("find free slug for %q: %w", base, err)
		}
	}
	var taken []string
	// base holds only [a-z0-9-], so it has no LIKE wildcards.
	err := s.conn(ctx).NewSelect().Model((*orgRow)(nil)).Column("slug").
		Where("slug = ? OR slug LIKE ?", base, base+"-%").Scan(ctx, &taken)
	if err != nil {
		return "", fmt.Errorf("find free slug for %q: %w", base, err)
	}
	return nextFreeSlug(base, taken), nil
}

// whereOrg selects an organization by id or slug. Slugs never contain "_",
// so a reference with the org_ prefix can only be an id.
func whereOrg(q *bun.SelectQuery, alias, ref string) *bun.SelectQuery {
	if id.HasPrefix(ref, "org") {
		return q.Where(alias+"id = ?", ref)
	}
	return q.Where(alias+"slug = ?", ref)
}

// loadOrg reads an organization by id or slug; lock takes its row lock on
// PostgreSQL for the rest of the caller's transaction.
func (s *Service) loadOrg(ctx context.Context, ref string, lock bool) (*orgRow, error) {
	row := new(orgRow)
	q := whereOrg(s.conn(ctx).NewSelect().Model(row), "o.", ref)
	if lock && storage.IsPostgres(s.db) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("organization %q", ref))
	}
	return row, nil
}

// countColumns adds members_count and pending_invitations_count.
func (s *Service) countColumns(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("o.*").
		ColumnExpr("(SELECT COUNT(*) FROM organization_memberships AS cm WHERE cm.organization_id = o.id) AS members_count").
		ColumnExpr("(SELECT COUNT(*) FROM organization_invitations AS ci WHERE ci.organization_id = o.id AND ci.status = 'pending' AND ci.expires_at > ?) AS pending_invitations_count", s.clock())
}

func (s *Service) orgWithCounts(ctx context.Context, orgID string) (*Organization, error) {
	row := new(orgRow)
	if err := s.countColumns(s.conn(ctx).NewSelect().Model(row)).Where("o.id = ?", orgID).Scan(ctx); err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("organization %q", orgID))
	}
	return row.organization(), nil
}

// GetOrganization returns an organization by id or slug, with its counts.
// A user must be a member.
func (s *Service) GetOrganization(ctx context.Context, actor Actor, orgRef string) (*Organization, error) {
	a, err := s.authorizeRead(ctx, actor, orgRef, "")
	if err != nil {
		return nil, err
	}
	return s.orgWithCounts(ctx, a.org.ID)
}

// ListOrganizations returns one page of organizations, newest first, and
// how many match: every organization for the operator, a user's own for a
// user actor.
func (s *Service) ListOrganizations(ctx context.Context, actor Actor, p ListOrganizationsParams) ([]*Organization, int, error) {
	if !actor.operator && actor.userID == "" {
		return nil, 0, fmt.Errorf("list organizations: %w", ErrForbidden)
	}
	var rows []orgRow
	q := s.conn(ctx).NewSelect().Model(&rows)
	if !actor.operator {
		q = q.Where("o.id IN (SELECT organization_id FROM organization_memberships WHERE user_id = ?)", actor.userID)
	}
	if query := strings.TrimSpace(p.Query); query != "" {
		like := "%" + escapeLike(strings.ToLower(query)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("LOWER(o.name) LIKE ? ESCAPE '\\'", like).WhereOr("o.slug LIKE ? ESCAPE '\\'", like).WhereOr("o.id = ?", query)
		})
	}
	limit, offset := p.limits()
	total, err := s.countColumns(q).OrderExpr("o.created_at DESC, o.id DESC").Limit(limit).Offset(offset).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list organizations: %w", err)
	}
	out := make([]*Organization, len(rows))
	for i := range rows {
		out[i] = rows[i].organization()
	}
	return out, int(total), nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateOrganization changes an organization and emits organization.updated.
// A user needs org:sys_profile:manage.
func (s *Service) UpdateOrganization(ctx context.Context, actor Actor, orgRef string, up OrganizationUpdate) (*Organization, error) {
	var out *Organization
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermProfileManage)
		if err != nil {
			return err
		}
		if !actor.operator && (up.PublicMetadata != nil || up.PrivateMetadata != nil || up.MaxAllowedMemberships != nil || up.AdminDeleteEnabled != nil) {
			return fmt.Errorf("update metadata, member limit or admin deletion: %w (operator only)", ErrForbidden)
		}
		row := a.org
		if up.Name != nil {
			if row.Name, err = validateOrgName(*up.Name); err != nil {
				return err
			}
		}
		if up.Slug != nil {
			if err := ValidateSlug(*up.Slug); err != nil {
				return err
			}
			row.Slug = *up.Slug
		}
		if up.ImageURL != nil {
			if err := validateImageURL(*up.ImageURL); err != nil {
				return err
			}
			row.ImageURL = *up.ImageURL
		}
		if up.PublicMetadata != nil {
			if row.PublicMetadata, err = encodeMetadata("public_metadata", up.PublicMetadata); err != nil {
				return err
			}
		}
		if up.PrivateMetadata != nil {
			if row.PrivateMetadata, err = encodeMetadata("private_metadata", up.PrivateMetadata); err != nil {
				return err
			}
		}
		if up.MaxAllowedMemberships != nil {
			if *up.MaxAllowedMemberships < 0 {
				return fmt.Errorf("%w: max_allowed_memberships must not be negative", ErrInvalid)
			}
			row.MaxAllowedMemberships = *up.MaxAllowedMemberships
		}
		if up.AdminDeleteEnabled != nil {
			row.AdminDeleteEnabled = *up.AdminDeleteEnabled
		}
		row.UpdatedAt = s.clock()
		if _, err := s.conn(ctx).NewUpdate().Model(row).
			Column("name", "slug", "image_url", "public_metadata", "private_metadata", "max_allowed_memberships", "admin_delete_enabled", "updated_at").
			WherePK().Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("update organization: slug %q: %w", row.Slug, ErrSlugTaken)
			}
			return fmt.Errorf("update organization %q: %w", row.ID, err)
		}
		if out, err = s.orgWithCounts(ctx, row.ID); err != nil {
			return err
		}
		return s.emit(ctx, "organization.updated", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOrganization deletes an organization with its memberships,
// invitations and domains, clears it as any session's active organization,
// and emits organization.deleted — all in one transaction. A user needs
// org:sys_profile:delete, and the organization must allow member deletion
// (AdminDeleteEnabled).
func (s *Service) DeleteOrganization(ctx context.Context, actor Actor, orgRef string) error {
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermProfileDelete)
		if err != nil {
			return err
		}
		if !actor.operator && !a.org.AdminDeleteEnabled {
			return fmt.Errorf("delete organization %q: deletion by members is disabled: %w", a.org.ID, ErrForbidden)
		}
		if _, err := s.conn(ctx).NewDelete().Model(a.org).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete organization %q: %w", a.org.ID, err)
		}
		if s.sessions != nil {
			if err := s.sessions.ClearActiveOrganization(ctx, a.org.ID); err != nil {
				return fmt.Errorf("delete organization %q: %w", a.org.ID, err)
			}
		}
		return s.emit(ctx, "organization.deleted", deletedJSON{Object: "organization", ID: a.org.ID, Deleted: true})
	})
}
