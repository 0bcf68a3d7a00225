package webhook_test

import (
	"testing"
	"time"

	"github.com/orgid/orgid/webhook"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 30 ", 30 * time.Second, true},
		{"86400", 24 * time.Hour, true},
		{"86401", webhook.MaxRetryAfter, true},
		{"184467440737095516160", webhook.MaxRetryAfter, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"soon", 0, false},
		{"Mon, 04 May 2026 04:02:01 GMT", time.Hour, true},
		{"Mon, 04 May 2026 02:02:01 GMT", 0, true}, // in the past
		{"Sat, 04 May 2030 03:02:01 GMT", webhook.MaxRetryAfter, true},
		{"Monday, 04-May-26 03:02:11 GMT", 10 * time.Second, true}, // RFC 850
	}
	for _, tc := range tests {
		got, ok := webhook.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Mon, 04 May 2026 04:02:01 GMT", "", "99999999999999999999999", "\x00"} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := webhook.ParseRetryAfter(s, now)
		if d < 0 || d > webhook.MaxRetryAfter || (!ok && d != 0) {
			t.Errorf("parseRetryAfter(%q) = %v, %v: outside [0, %v]", s, d, ok, webhook.MaxRetryAfter)
		}
	})
}
