package middleware_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/storage/storagetest"
)

// TestNodeExample runs examples/node (node:http + jose) against a real
// orgid. It needs node and npm (and the npm registry, or npm's cache, for
// `npm ci`); without them it skips, unless ORGID_REQUIRE_NODE=1.
func TestNodeExample(t *testing.T) {
	require := os.Getenv("ORGID_REQUIRE_NODE") == "1"
	unavailable := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf("Node is required (ORGID_REQUIRE_NODE=1): "+format, args...)
		}
		t.Skipf("skipping the Node example: "+format, args...)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("%s not found", tool)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "server.mjs"} {
		b, err := os.ReadFile(filepath.Join("examples", "node", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		unavailable("npm ci: %v\n%s", err, out)
	}

	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL)
		tok := f.userTokens(t)
		idToken, _ := tok.Extra("id_token").(string)
		machine := f.machineToken(t, apiAudience)
		forIssuer := f.machineToken(t, "")
		base := startNode(t, dir, f.srv.Issuer, apiAudience)
		// Every claim of a valid access token, signed by orgid, but typ JWT:
		// only the typ check refuses it.
		_, access := parts(t, tok.AccessToken)
		notAT := f.sign(t, map[string]any{"typ": "JWT"}, access)

		for _, tc := range []struct {
			name, base, path, token string
			status                  int
			body                    map[string]any // compared when not nil
		}{
			{"user", base, "/me", tok.AccessToken, 200, map[string]any{"sub": f.user.ID, "org_id": f.acme.ID, "org_role": "org:owner"}},
			{"permission held", base, "/projects", tok.AccessToken, 200, nil},
			{"machine", base, "/me", machine, 200, map[string]any{"sub": f.app.ID, "org_id": nil, "org_role": nil}},
			{"permission missing", base, "/projects", machine, 403, map[string]any{"error": "insufficient_scope"}},
			{"no token", base, "/me", "", 401, map[string]any{}},
			{"tampered", base, "/me", tamper(tok.AccessToken), 401, map[string]any{"error": "invalid_token"}},
			{"wrong audience", base, "/me", forIssuer, 401, map[string]any{"error": "invalid_token"}},
			{"ID token", base, "/me", idToken, 401, map[string]any{"error": "invalid_token"}},
			{"typ JWT", base, "/me", notAT, 401, map[string]any{"error": "invalid_token"}},
			{"typ application/at+jwt", base, "/me", f.sign(t, map[string]any{"typ": "application/at+jwt"}, access), 200, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, tc.base+tc.path, nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.status {
					t.Fatalf("GET %s: status %d, want %d; body %s", tc.path, resp.StatusCode, tc.status, raw)
				}
				if tc.body == nil {
					return
				}
				var got map[string]any
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("body %q: %v", raw, err)
				}
				if diff := cmp.Diff(tc.body, got); diff != "" {
					t.Errorf("GET %s body (-want +got):\n%s", tc.path, diff)
				}
			})
		}
	})
}

// startNode starts the example API on a free port and returns its base
// URL; the process is killed when t ends.
func startNode(t *testing.T, dir, issuer, audience string) string {
	t.Helper()
	cmd := exec.Command("node", "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ORGID_ISSUER="+issuer, "API_AUDIENCE="+audience, "PORT=0", "HOST=127.0.0.1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(lockedBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("node stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			select {
			case lines <- s.Text():
			default:
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		port, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			t.Fatalf("node did not start: %q\n%s", line, stderr.String())
		}
		return "http://127.0.0.1:" + port
	case <-time.After(time.Minute):
		t.Fatalf("node did not report its port\n%s", stderr.String())
	}
	return ""
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
