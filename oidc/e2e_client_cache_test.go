package oidc_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// Clients are kept in memory for a few seconds: a deletion by this process
// takes effect at once, one by another process (the CLI, another replica)
// within that time.
func TestDeletedClientStopsWorking(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		token := func(id, secret string) int {
			status, _, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"client_credentials"}}, id, secret)
			return status
		}
		meta := oidc.ClientMetadata{GrantTypes: []string{oidc.GrantClientCredentials}}
		ctx := context.Background()

		local, localSecret := srv.CreateClient(t, oidc.NewClient{Name: "local", Metadata: meta})
		if token(local.ID, localSecret) != 200 {
			t.Fatal("fresh client refused")
		}
		if err := srv.Clients.Delete(ctx, local.ID); err != nil {
			t.Fatal(err)
		}
		if status := token(local.ID, localSecret); status != 401 {
			t.Errorf("client deleted by this process: %d, want 401 at once", status)
		}

		remote, remoteSecret := srv.CreateClient(t, oidc.NewClient{Name: "remote", Metadata: meta})
		if token(remote.ID, remoteSecret) != 200 {
			t.Fatal("fresh client refused")
		}
		other := oidc.NewClients(srv.Base.DB, srv.Base.Keys, clock.Now) // as the CLI would
		if err := other.Delete(ctx, remote.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(6 * time.Second)
		defer clock.Advance(-6 * time.Second)
		if status := token(remote.ID, remoteSecret); status != 401 {
			t.Errorf("client deleted by another process: %d after 6 s, want 401", status)
		}
	})
}
