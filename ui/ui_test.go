package ui

import (
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
