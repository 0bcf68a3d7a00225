package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDatesFollowTheLanguage(t *testing.T) {
	// 23:30 in New York is the next day in UTC, which the pages say.
	at := time.Date(2026, 3, 1, 19, 30, 0, 0, time.FixedZone("EST", -5*3600))
	for _, tc := range []struct {
		lang, date, dateTime string
	}{
		{"en", "2 Mar 2026", "2 Mar 2026 00:30 UTC"},
		{"de", "02.03.2026", "02.03.2026, 00:30 UTC"},
		{"de-AT", "02.03.2026", "02.03.2026, 00:30 UTC"},
		{"fr", "02/03/2026", "02/03/2026 00:30 UTC"},
		{"es", "02/03/2026", "02/03/2026 00:30 UTC"},
		{"ja", "2 Mar 2026", "2 Mar 2026 00:30 UTC"},
		{"", "2 Mar 2026", "2 Mar 2026 00:30 UTC"},
	} {
		if got := FormatDate(tc.lang, at); got != tc.date {
			t.Errorf("FormatDate(%q) = %q, want %q", tc.lang, got, tc.date)
		}
		if got := FormatDateTime(tc.lang, at); got != tc.dateTime {
			t.Errorf("FormatDateTime(%q) = %q, want %q", tc.lang, got, tc.dateTime)
		}
	}
}

func TestEveryLanguageHasDateLayouts(t *testing.T) {
	for _, lang := range Languages() {
		if l, ok := dateLayouts[lang]; !ok || l.date == "" || l.dateTime == "" {
			t.Errorf("language %s has no date layouts", lang)
		}
	}
	if len(dateLayouts) != len(Languages()) {
		t.Errorf("%d date layouts for %d languages", len(dateLayouts), len(Languages()))
	}
}

func TestTemplatesWriteDatesInThePageLanguage(t *testing.T) {
	r := newTestRenderer(t, Brand{})
	var security any
	for _, c := range fixtures() {
		if c.page == "security" && c.name == "factors" {
			security = c.data
		}
	}
	if security == nil {
		t.Fatal("no security fixture with passkeys")
	}
	for lang, want := range map[string]string{
		"en": `<time datetime="2026-03-01">1 Mar 2026</time>`,
		"de": `<time datetime="2026-03-01">01.03.2026</time>`,
	} {
		w := httptest.NewRecorder()
		r.Render(w, http.StatusOK, "security", "security.heading", lang, security)
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s security page lacks %s", lang, want)
		}
	}
}
