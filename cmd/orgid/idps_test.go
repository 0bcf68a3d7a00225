package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/orgid/orgid/storage/storagetest"
)

// The operator configures upstream providers with the CLI; the running
// server shows their buttons.
func TestIdPsThroughTheCLI(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		in := newInstance(t, dbURL)
		var created struct {
			Object      string `json:"object"`
			ID          string `json:"id"`
			Slug        string `json:"slug"`
			Enabled     bool   `json:"enabled"`
			RedirectURI string `json:"redirect_uri"`
			Secret      any    `json:"client_secret"`
		}
		in.run(&created, "idps", "create", "--kind", "github", "--client-id", "Iv1.abc", "--client-secret", "gh-secret")
		if created.Object != "identity_provider" || created.Slug != "github" || !created.Enabled ||
			created.RedirectURI != in.issuer+"/sign-in/idp/callback" || created.Secret != nil {
			t.Fatalf("idps create = %+v", created)
		}
		in.run(nil, "idps", "create", "--kind", "oidc", "--slug", "acme", "--name", "Acme SSO", "--provider-issuer", "https://sso.acme.example",
			"--client-id", "orgid", "--client-secret", "s3cret")
		in.run(nil, "idps", "disable", "acme")
		var list []struct {
			Slug    string `json:"slug"`
			Enabled bool   `json:"enabled"`
		}
		in.run(&list, "idps", "list")
		if len(list) != 2 || list[0].Slug != "acme" || list[0].Enabled || list[1].Slug != "github" || !list[1].Enabled {
			t.Fatalf("idps list = %+v", list)
		}

		in.serve()
		resp, err := http.Get(in.issuer + "/sign-in")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Continue with GitHub") || strings.Contains(string(body), "Acme SSO") {
			t.Errorf("sign-in page buttons: want GitHub only (Acme is disabled)")
		}

		in.run(nil, "idps", "delete", created.ID)
		in.run(&list, "idps", "list")
		if len(list) != 1 {
			t.Errorf("after delete: %+v", list)
		}
	})
}
