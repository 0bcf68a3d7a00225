package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// CreateUser validates nu, hashes its password and stores the user,
// recording "user.created" in the same transaction. A taken email or
// username gives ErrEmailTaken or ErrUsernameTaken; bad input a
// *ValidationError.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	row, err := s.newUserRow(nu)
	if err != nil {
		return nil, err
	}
	if nu.Password != "" {
		if err := CheckPassword(nu.Password, nu.Email); err != nil {
			return nil, err
		}
		// Hash before the transaction: on SQLite an open write transaction
		// holds the database's only write lock.
		if row.PasswordHash, err = s.hashPassword(ctx, nu.Password); err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
	}
	return s.insertUser(ctx, row)
}

// insertUser stores a validated row (password already hashed), giving it
// an id and times, and records "user.created" in the same transaction.
func (s *Service) insertUser(ctx context.Context, row *userRow) (*User, error) {
	now := s.clock()
	row.ID = id.NewAt("user", now)
	row.CreatedAt, row.UpdatedAt = now, now
	u, err := row.toUser(now)
	if err != nil {
		return nil, err
	}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		// Checking first keeps a caller's PostgreSQL transaction usable in
		// the common case; the unique indexes still decide races.
		if err := s.checkUnique(ctx, conn, row.EmailNormalized, row.Username, ""); err != nil {
			return err
		}
		if _, err := conn.NewInsert().Model(row).Exec(ctx); err != nil {
			return uniqueError(err)
		}
		return s.emit(ctx, "user.created", u.JSON())
	})
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// newUserRow validates nu and fills the row, except id, times and password.
func (s *Service) newUserRow(nu NewUser) (*userRow, error) {
	if err := validateEmail(nu.Email); err != nil {
		return nil, err
	}
	row := &userRow{
		Email:           strings.TrimSpace(nu.Email),
		EmailNormalized: normalizeEmail(nu.Email),
		EmailVerified:   nu.EmailVerified,
		FirstName:       strings.TrimSpace(nu.FirstName),
		LastName:        strings.TrimSpace(nu.LastName),
		ImageURL:        strings.TrimSpace(nu.ImageURL),
		ExternalID:      strings.TrimSpace(nu.ExternalID),
	}
	if nu.Username != "" {
		row.Username = normalizeUsername(nu.Username)
		if err := validateUsername(row.Username); err != nil {
			return nil, err
		}
	}
	if err := validateName("first_name", row.FirstName); err != nil {
		return nil, err
	}
	if err := validateName("last_name", row.LastName); err != nil {
		return nil, err
	}
	if err := validateName("external_id", row.ExternalID); err != nil {
		return nil, err
	}
	if err := validateURL("image_url", row.ImageURL); err != nil {
		return nil, err
	}
	var err error
	if row.PublicMetadata, err = validateMetadata("public_metadata", nu.PublicMetadata); err != nil {
		return nil, err
	}
	if row.PrivateMetadata, err = validateMetadata("private_metadata", nu.PrivateMetadata); err != nil {
		return nil, err
	}
	if row.UnsafeMetadata, err = validateMetadata("unsafe_metadata", nu.UnsafeMetadata); err != nil {
		return nil, err
	}
	if row.Profile, err = validateProfile(nu.Profile); err != nil {
		return nil, err
	}
	return row, nil
}

// checkUnique fails when another user than exceptID has the email or
// username.
func (s *Service) checkUnique(ctx context.Context, conn bun.IDB, email, username, exceptID string) error {
	if email != "" {
		n, err := conn.NewSelect().Model((*userRow)(nil)).Where("email_normalized = ?", email).Where("id <> ?", exceptID).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return ErrEmailTaken
		}
	}
	if username != "" {
		n, err := conn.NewSelect().Model((*userRow)(nil)).Where("username = ?", username).Where("id <> ?", exceptID).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return ErrUsernameTaken
		}
	}
	return nil
}

// uniqueError maps a unique violation on users to the matching sentinel.
func uniqueError(err error) error {
	if !storage.IsUniqueViolation(err) {
		return err
	}
	// PostgreSQL names the constraint (users_username_key), SQLite the
	// column (users.username).
	if strings.Contains(err.Error(), "username") {
		return ErrUsernameTaken
	}
	return ErrEmailTaken
}

// GetUser returns the user with the given id, or an error wrapping
// storage.ErrNotFound.
func (s *Service) GetUser(ctx context.Context, userID string) (*User, error) {
	return s.userWhere(ctx, "id = ?", userID)
}

// UserByEmail returns the user with the email address, compared trimmed and
// case-insensitively.
func (s *Service) UserByEmail(ctx context.Context, email string) (*User, error) {
	return s.userWhere(ctx, "email_normalized = ?", normalizeEmail(email))
}

// UserByUsername returns the user with the username, compared
// case-insensitively.
func (s *Service) UserByUsername(ctx context.Context, username string) (*User, error) {
	return s.userWhere(ctx, "username = ?", normalizeUsername(username))
}

func (s *Service) userWhere(ctx context.Context, where string, arg string) (*User, error) {
	row, err := s.loadUserRow(ctx, storage.Conn(ctx, s.db), false, where, arg)
	if err != nil {
		return nil, err
	}
	return row.toUser(s.clock())
}

// loadUserRow reads one row; forUpdate locks it on PostgreSQL (SQLite's
// immediate transactions already hold the write lock).
func (s *Service) loadUserRow(ctx context.Context, conn bun.IDB, forUpdate bool, where string, arg string) (*userRow, error) {
	row := new(userRow)
	q := conn.NewSelect().Model(row).Where(where, safeText(arg))
	if forUpdate && storage.IsPostgres(conn) {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load user %q", arg))
	}
	return row, nil
}

// ListUsers returns one page of users, newest first, and the number of
// users that match the filters.
func (s *Service) ListUsers(ctx context.Context, p ListUsersParams) ([]*User, int, error) {
	limit := p.Limit
	switch {
	case limit <= 0:
		limit = 10
	case limit > 500:
		limit = 500
	}
	var rows []*userRow
	q := storage.Conn(ctx, s.db).NewSelect().Model(&rows).
		OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Offset(int64(max(p.Offset, 0)))
	if len(p.EmailAddress) > 0 {
		emails := make([]string, len(p.EmailAddress))
		for i, e := range p.EmailAddress {
			emails[i] = safeText(normalizeEmail(e))
		}
		q = q.Where("email_normalized IN (?)", bun.In(emails))
	}
	if len(p.UserID) > 0 {
		q = q.Where("id IN (?)", bun.In(safeTexts(p.UserID)))
	}
	if len(p.Username) > 0 {
		names := make([]string, len(p.Username))
		for i, n := range p.Username {
			names[i] = safeText(normalizeUsername(n))
		}
		q = q.Where("username IN (?)", bun.In(names))
	}
	if len(p.ExternalID) > 0 {
		q = q.Where("external_id IN (?)", bun.In(safeTexts(p.ExternalID)))
	}
	if query := safeText(strings.TrimSpace(p.Query)); query != "" {
		like := "%" + escapeLike(strings.ToLower(query)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("email_normalized LIKE ? ESCAPE '!'", like).
				WhereOr("lower(first_name) LIKE ? ESCAPE '!'", like).
				WhereOr("lower(last_name) LIKE ? ESCAPE '!'", like).
				WhereOr("username LIKE ? ESCAPE '!'", like).
				WhereOr("id = ?", query)
		})
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	now := s.clock()
	users := make([]*User, 0, len(rows))
	for _, r := range rows {
		u, err := r.toUser(now)
		if err != nil {
			return nil, 0, err
		}
		users = append(users, u)
	}
	return users, int(total), nil
}

// escapeLike escapes LIKE wildcards with '!' (a backslash would need
// dialect-specific quoting).
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// UpdateUser changes the fields of up that are set and records
// "user.updated".
func (s *Service) UpdateUser(ctx context.Context, userID string, up UserUpdate) (*User, error) {
	var u *User
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.loadUserRow(ctx, conn, true, "id = ?", userID)
		if err != nil {
			return err
		}
		if err := applyUpdate(row, up); err != nil {
			return err
		}
		if up.Username != nil {
			if err := s.checkUnique(ctx, conn, "", row.Username, row.ID); err != nil {
				return err
			}
		}
		row.UpdatedAt = s.clock()
		_, err = conn.NewUpdate().Model(row).
			Column("first_name", "last_name", "username", "image_url", "external_id", "email_verified",
				"public_metadata", "private_metadata", "unsafe_metadata", "profile", "updated_at").
			WherePK().Exec(ctx)
		if err != nil {
			return uniqueError(err)
		}
		if u, err = row.toUser(row.UpdatedAt); err != nil {
			return err
		}
		return s.emit(ctx, "user.updated", u.JSON())
	})
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", userID, err)
	}
	return u, nil
}

// applyUpdate validates the set fields of up and writes them into row.
func applyUpdate(row *userRow, up UserUpdate) error {
	if up.FirstName != nil {
		row.FirstName = strings.TrimSpace(*up.FirstName)
		if err := validateName("first_name", row.FirstName); err != nil {
			return err
		}
	}
	if up.LastName != nil {
		row.LastName = strings.TrimSpace(*up.LastName)
		if err := validateName("last_name", row.LastName); err != nil {
			return err
		}
	}
	if up.Username != nil {
		row.Username = normalizeUsername(*up.Username)
		if row.Username != "" {
			if err := validateUsername(row.Username); err != nil {
				return err
			}
		}
	}
	if up.ImageURL != nil {
		row.ImageURL = strings.TrimSpace(*up.ImageURL)
		if err := validateURL("image_url", row.ImageURL); err != nil {
			return err
		}
	}
	if up.ExternalID != nil {
		row.ExternalID = strings.TrimSpace(*up.ExternalID)
		if err := validateName("external_id", row.ExternalID); err != nil {
			return err
		}
	}
	if up.EmailVerified != nil {
		row.EmailVerified = *up.EmailVerified
	}
	var err error
	if up.PublicMetadata != nil {
		if row.PublicMetadata, err = validateMetadata("public_metadata", up.PublicMetadata); err != nil {
			return err
		}
	}
	if up.PrivateMetadata != nil {
		if row.PrivateMetadata, err = validateMetadata("private_metadata", up.PrivateMetadata); err != nil {
			return err
		}
	}
	if up.UnsafeMetadata != nil {
		if row.UnsafeMetadata, err = validateMetadata("unsafe_metadata", up.UnsafeMetadata); err != nil {
			return err
		}
	}
	if up.Profile != nil {
		if row.Profile, err = validateProfile(*up.Profile); err != nil {
			return err
		}
	}
	return nil
}

// SetPassword checks password against the policy and stores its hash,
// recording "user.updated". It does not end the user's other sessions;
// callers that want that (ASVS 7.4.3) call EndUserSessions.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := CheckPassword(password, u.Email); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	_, err = s.changeUser(ctx, userID, "set password", func(row *userRow) {
		row.PasswordHash = hash
	}, "password_hash")
	return err
}

// changeUser runs one locked read-modify-write of a user row and records
// "user.updated".
func (s *Service) changeUser(ctx context.Context, userID, what string, change func(row *userRow), columns ...string) (*User, error) {
	var u *User
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.loadUserRow(ctx, conn, true, "id = ?", userID)
		if err != nil {
			return err
		}
		change(row)
		row.UpdatedAt = s.clock()
		if _, err := conn.NewUpdate().Model(row).Column(append(columns, "updated_at")...).WherePK().Exec(ctx); err != nil {
			return err
		}
		if u, err = row.toUser(row.UpdatedAt); err != nil {
			return err
		}
		return s.emit(ctx, "user.updated", u.JSON())
	})
	if err != nil {
		return nil, fmt.Errorf("%s for user %q: %w", what, userID, err)
	}
	return u, nil
}

// DeleteUser ends the user's sessions (running the OnSessionEnded hooks),
// deletes the user, which cascades to every row that references it, and
// records "user.deleted", all in one transaction.
func (s *Service) DeleteUser(ctx context.Context, userID string) error {
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		if _, err := s.loadUserRow(ctx, conn, true, "id = ?", userID); err != nil {
			return err
		}
		if err := s.EndUserSessions(ctx, userID, EndUserDeleted); err != nil {
			return err
		}
		if _, err := conn.NewDelete().Model((*userRow)(nil)).Where("id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, "user.deleted", deletedJSON{Object: "user", ID: userID, Deleted: true})
	})
	if err != nil {
		return fmt.Errorf("delete user %q: %w", userID, err)
	}
	return nil
}
