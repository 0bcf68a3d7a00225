package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

func testKeyring(t *testing.T) *secret.Keyring {
	t.Helper()
	kr, err := secret.NewKeyring([]byte("api tests master secret, not for production"))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestKeys(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
		ks := api.NewKeys(db, testKeyring(t), api.KeysOptions{Now: func() time.Time { return now }})

		k, sec, err := ks.Create(ctx, "  backend  ")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sec, api.KeyPrefix) || len(sec) != len(api.KeyPrefix)+43 {
			t.Errorf("secret %q: want %s and 43 base64url characters (256 bits)", sec, api.KeyPrefix)
		}
		if !strings.HasPrefix(k.ID, "ak_") || k.Name != "backend" || !k.CreatedAt.Equal(now) {
			t.Errorf("key %+v", k)
		}
		var stored int
		if err := db.NewSelect().Table("api_keys").ColumnExpr("COUNT(*)").Where("secret_hash = ?", sec).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if stored != 0 {
			t.Error("the secret is stored in the clear")
		}

		got, err := ks.Authenticate(ctx, sec)
		if err != nil || got.ID != k.ID {
			t.Fatalf("Authenticate(secret) = %v, %v; want key %s", got, err, k.ID)
		}
		for _, bad := range []string{"", sec[:len(sec)-1], sec + "x", strings.Replace(sec, "sk_live_", "sk_test_", 1),
			secret.Token(api.KeyPrefix), strings.ToUpper(sec)} {
			if _, err := ks.Authenticate(ctx, bad); !errors.Is(err, api.ErrInvalidKey) {
				t.Errorf("Authenticate(%q) error %v, want ErrInvalidKey", bad, err)
			}
		}

		for _, name := range []string{"", "   ", strings.Repeat("n", 101), "tab\there"} {
			if _, _, err := ks.Create(ctx, name); !errors.Is(err, api.ErrInvalidName) {
				t.Errorf("Create(%q) error %v, want ErrInvalidName", name, err)
			}
		}

		now = now.Add(time.Hour)
		k2, _, err := ks.Create(ctx, "second")
		if err != nil {
			t.Fatal(err)
		}
		list, err := ks.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != k2.ID || list[1].ID != k.ID {
			t.Fatalf("List: %v, want newest first", list)
		}
		if list[1].LastUsedAt.IsZero() {
			t.Error("the used key has no last use")
		}

		revoked, err := ks.Revoke(ctx, k.ID)
		if err != nil || !revoked.Revoked() || !revoked.RevokedAt.Equal(now) {
			t.Fatalf("Revoke = %+v, %v", revoked, err)
		}
		if _, err := ks.Authenticate(ctx, sec); !errors.Is(err, api.ErrInvalidKey) {
			t.Errorf("revoked key: error %v, want ErrInvalidKey", err)
		}
		now = now.Add(time.Hour)
		again, err := ks.Revoke(ctx, k.ID)
		if err != nil || !again.RevokedAt.Equal(revoked.RevokedAt) {
			t.Errorf("second Revoke = %+v, %v; want the first revocation time kept", again, err)
		}
		if _, err := ks.Revoke(ctx, "ak_nothing"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Revoke(unknown) error %v, want ErrNotFound", err)
		}
		j := revoked.JSON()
		if j.Object != "api_key" || !j.Revoked || j.RevokedAt == nil || *j.RevokedAt != revoked.RevokedAt.UnixMilli() {
			t.Errorf("JSON %+v", j)
		}
	})
}
