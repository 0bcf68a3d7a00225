package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// TestConcurrentMetadataMerges: merges that race on one user, one
// organization and one membership all take effect.
func TestConcurrentMetadataMerges(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		owner := e.srv.CreateUser(t, "owner@example.com")
		var org tenancy.OrganizationJSON
		e.c.ok(http.MethodPost, "/organizations", obj{"name": "Race", "created_by": owner.ID}, &org)

		const n = 6
		paths := []string{
			"/users/" + owner.ID + "/metadata",
			"/organizations/" + org.ID + "/metadata",
			"/organizations/" + org.ID + "/memberships/" + owner.ID + "/metadata",
		}
		var wg sync.WaitGroup
		statuses := make(chan string, n*len(paths))
		for _, path := range paths {
			for i := range n {
				wg.Go(func() {
					r := e.c.do(http.MethodPatch, path, obj{"public_metadata": obj{fmt.Sprintf("k%d", i): i}})
					if r.Status != http.StatusOK {
						statuses <- fmt.Sprintf("PATCH %s: %d %s", path, r.Status, r)
					}
				})
			}
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			t.Error(s)
		}

		var u identity.UserJSON
		e.c.ok(http.MethodGet, "/users/"+owner.ID, nil, &u)
		var o tenancy.OrganizationJSON
		e.c.ok(http.MethodGet, "/organizations/"+org.ID, nil, &o)
		var ms struct {
			Data []tenancy.MembershipJSON `json:"data"`
		}
		e.c.ok(http.MethodGet, "/organizations/"+org.ID+"/memberships", nil, &ms)
		for what, got := range map[string]map[string]any{"user": u.PublicMetadata, "organization": o.PublicMetadata, "membership": ms.Data[0].PublicMetadata} {
			if len(got) != n {
				t.Errorf("%s public_metadata after %d concurrent merges: %v; want every key", what, n, got)
			}
		}
	})
}
