// Package identitytest builds an identity.Service for other packages'
// tests: cheap argon2id parameters so that creating users and signing in
// take microseconds, and a fixed test keyring.
package identitytest

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/secret"
)

// Password passes the password policy; CreateUser gives every user it.
const Password = "correct horse battery staple"

// CheapPasswordParams are far too weak for production and fast for tests.
func CheapPasswordParams() identity.PasswordParams {
	return identity.PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Keyring returns a keyring derived from a fixed test master secret.
func Keyring(t testing.TB) *secret.Keyring {
	t.Helper()
	k, err := secret.NewKeyring([]byte("identitytest master secret, not for production"))
	if err != nil {
		t.Fatalf("identitytest: keyring: %v", err)
	}
	return k
}

// NewService returns a Service on db with cheap password hashing and
// default sessions and throttling.
func NewService(t testing.TB, db *bun.DB) *identity.Service {
	t.Helper()
	return NewServiceWith(t, db, identity.Options{})
}

// NewServiceWith is NewService with options; Keys and PasswordParams are
// filled in when unset.
func NewServiceWith(t testing.TB, db *bun.DB, opts identity.Options) *identity.Service {
	t.Helper()
	if opts.Keys == nil {
		opts.Keys = Keyring(t)
	}
	if opts.PasswordParams == nil {
		p := CheapPasswordParams()
		opts.PasswordParams = &p
	}
	return identity.New(db, opts)
}

// CreateUser creates a user with the email address and Password, or fails
// the test.
func CreateUser(t testing.TB, svc *identity.Service, email string) *identity.User {
	t.Helper()
	u, err := svc.CreateUser(context.Background(), identity.NewUser{Email: email, Password: Password, EmailVerified: true})
	if err != nil {
		t.Fatalf("identitytest: create user %s: %v", email, err)
	}
	return u
}
