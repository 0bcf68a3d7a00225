// Package browsertest starts the real browser the page tests drive:
// Debian's chromium, headless, through chromedp. Without chromium a test
// skips — unless ORGID_REQUIRE_BROWSER=1 (CI), which makes it fail, so CI
// cannot pass by skipping. No browser is ever downloaded.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Start launches chromium for t and returns its context; it stops with t.
// extra adds allocator options (a language flag, say).
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("ORGID_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium is not installed and ORGID_REQUIRE_BROWSER=1 (install it: apt-get install -y chromium)")
		}
		t.Skip("chromium is not installed; set ORGID_REQUIRE_BROWSER=1 to fail instead")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The machine's network is closed: no background traffic, no QUIC.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
