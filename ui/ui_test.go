package ui

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRenderEscapesAndSetsSecurityHeaders(t *testing.T) {
	r, err := New(Brand{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.Render(w, http.StatusBadRequest, "error", "Error", "", map[string]string{
		"Heading": "Bad", "Message": `<script>alert(1)</script>`, "Code": "invalid_request",
	})
	if w.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", w.Code)
	}
	body := w.Body.String()
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("message was not escaped")
	}
	for h, want := range map[string]string{
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		if got := w.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestNewRejectsUnsafeColour(t *testing.T) {
	if _, err := New(Brand{AccentColor: "red;}body{display:none"}); err == nil {
		t.Error("New accepted a CSS injection as accent colour")
	}
}

func TestUnknownPageIs500(t *testing.T) {
	r, _ := New(Brand{})
	w := httptest.NewRecorder()
	r.Render(w, 200, "nope", "", "", nil)
	if w.Code != 500 {
		t.Errorf("status = %d", w.Code)
	}
}

func TestSignedOutFramesPage(t *testing.T) {
	r, err := New(Brand{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	policy := "default-src 'none'; frame-src https://app.example.com; frame-ancestors 'none'"
	r.Render(WithContentSecurityPolicy(w, policy), http.StatusOK, "signed-out", "signed_out.heading", "de",
		map[string]any{"Frames": []string{"https://app.example.com/fcl?sid=1"}, "Continue": template.URL("https://app.example.com/bye?state=s&x=1")})
	if got := w.Header().Get("Content-Security-Policy"); got != policy {
		t.Errorf("Content-Security-Policy = %q, want the page's own %q", got, policy)
	}
	if got := w.Header().Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q: the other security headers must stay", got)
	}
	body := w.Body.String()
	for _, want := range []string{
		`<meta http-equiv="refresh" content="2;url=https://app.example.com/bye?state=s&amp;x=1">`,
		`<iframe src="https://app.example.com/fcl?sid=1" title="Abmeldung von einer Anwendung" hidden></iframe>`,
		`<a href="https://app.example.com/bye?state=s&amp;x=1">Weiter</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
	// Without frames or a place to continue to, the plain page.
	w = httptest.NewRecorder()
	r.Render(w, http.StatusOK, "signed-out", "signed_out.heading", "en", nil)
	if body := w.Body.String(); strings.Contains(body, "iframe") || strings.Contains(body, "refresh") || !strings.Contains(body, `href="/sign-in"`) {
		t.Errorf("plain signed-out page:\n%s", body)
	}
}
