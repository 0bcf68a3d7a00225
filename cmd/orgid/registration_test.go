package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/orgid/orgid/storage/storagetest"
)

// The operator's side of dynamic registration and key rotation, as
// processes: an initial access token from the CLI opens registration on a
// server started with --registration token, revoking it closes it again;
// `orgid keys rotate` in another process shows in the server's JWKS after
// its key reload interval.
func TestRegistrationTokensAndKeyRotationThroughTheCLI(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		in := newInstance(t, dbURL, "ORGID_REGISTRATION=token", "ORGID_KEY_RELOAD_INTERVAL=200ms")
		var created struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		in.run(&created, "registration-tokens", "create", "--description", "ci", "--expires-in", "1h")
		if created.ID == "" || len(created.Token) < 40 {
			t.Fatalf("registration-tokens create = %+v", created)
		}
		in.serve()
		register := func(token string) int {
			t.Helper()
			body, _ := json.Marshal(map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
			req, _ := http.NewRequest(http.MethodPost, in.issuer+"/oauth2/register", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := register(""); got != http.StatusUnauthorized {
			t.Errorf("registration without a token: HTTP %d, want 401", got)
		}
		if got := register(created.Token); got != http.StatusCreated {
			t.Errorf("registration with the token: HTTP %d, want 201", got)
		}
		var listed struct {
			Data []struct {
				ID         string `json:"id"`
				LastUsedAt *int64 `json:"last_used_at"`
			} `json:"data"`
		}
		in.run(&listed, "registration-tokens", "list")
		if len(listed.Data) != 1 || listed.Data[0].ID != created.ID || listed.Data[0].LastUsedAt == nil {
			t.Errorf("registration-tokens list = %+v", listed)
		}
		// Flags before the positional id (the flag package stops there).
		revoke := exec.Command(in.bin, "registration-tokens", "revoke", "--json", created.ID)
		revoke.Env = in.env
		if out, err := revoke.CombinedOutput(); err != nil {
			t.Fatalf("registration-tokens revoke: %v\n%s", err, out)
		}
		if got := register(created.Token); got != http.StatusUnauthorized {
			t.Errorf("registration with a revoked token: HTTP %d, want 401", got)
		}

		kids := func() []string {
			resp, err := http.Get(in.issuer + "/.well-known/jwks.json")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var set struct {
				Keys []struct {
					KID string `json:"kid"`
				} `json:"keys"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&set)
			var out []string
			for _, k := range set.Keys {
				out = append(out, k.KID)
			}
			return out
		}
		before := kids()
		in.run(nil, "keys", "rotate")
		// Poll: the server reloads on its own schedule.
		deadline := time.Now().Add(20 * time.Second)
		for {
			after := kids()
			if slices.ContainsFunc(after, func(k string) bool { return !slices.Contains(before, k) }) {
				for _, k := range before {
					if !slices.Contains(after, k) {
						t.Errorf("key %s left the JWKS at the rotation", k)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server's JWKS did not show the rotated keys: before %v, after %v", before, after)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
