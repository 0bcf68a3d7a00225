package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/storage/storagetest"
)

// sdkDir holds the Node project that drives the API with @clerk/backend.
const sdkDir = "testdata/clerk-sdk"

// TestClerkSDK runs testdata/clerk-sdk/check.mjs — the real @clerk/backend,
// version pinned by package-lock.json — against orgid on both databases.
// It needs node and npm (and the npm registry once: node_modules are
// installed with npm ci into a temporary directory keyed by the lockfile and
// reused by later runs). Without them it skips, unless ORGID_REQUIRE_NODE=1.
func TestClerkSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Node SDK run")
	}
	project := installSDK(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", "check.mjs")
		cmd.Dir = project
		cmd.Env = append(os.Environ(), "ORGID_API_URL="+e.srv.Issuer, "ORGID_SECRET_KEY="+e.c.key, "NODE_NO_WARNINGS=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("node check.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), `"ok":true`) {
			t.Fatalf("node check.mjs printed %q, want {\"ok\":true,…}\nstderr:\n%s", stdout.String(), stderr.String())
		}
		t.Logf("@clerk/backend against orgid: %s", strings.TrimSpace(stdout.String()))
	})
}

// installSDK returns a directory with the Node project and its
// node_modules, installing them with npm ci on first use.
func installSDK(t *testing.T) string {
	t.Helper()
	required := os.Getenv("ORGID_REQUIRE_NODE") == "1"
	unavailable := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf("ORGID_REQUIRE_NODE=1: "+format, args...)
		}
		t.Skipf(format+" (set ORGID_REQUIRE_NODE=1 to fail instead)", args...)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable("%s not found: %v", tool, err)
		}
	}
	lock, err := os.ReadFile(filepath.Join(sdkDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(sdkDir, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(sdkDir, "check.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(append([]byte{}, manifest...), lock...))
	dir := filepath.Join(os.TempDir(), "orgid-clerk-sdk-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@clerk", "backend", "package.json")); err != nil {
		// Install into a fresh directory and rename it into place, so that
		// an interrupted install is never mistaken for a finished one.
		staging, err := os.MkdirTemp(os.TempDir(), "orgid-clerk-sdk-install-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(staging)
		for name, b := range map[string][]byte{"package.json": manifest, "package-lock.json": lock} {
			if err := os.WriteFile(filepath.Join(staging, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = staging
		if out, err := cmd.CombinedOutput(); err != nil {
			unavailable("npm ci: %v\n%s", err, out)
		}
		if err := os.Rename(staging, dir); err != nil {
			if _, statErr := os.Stat(filepath.Join(dir, "node_modules")); statErr != nil {
				t.Fatalf("install the SDK: %v", err)
			} // another run finished first
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "check.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
