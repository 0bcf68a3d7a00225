package id

import (
	"testing"
	"time"
)

func TestNewSortsByTimeAndHasPrefix(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := NewAt("user", t0)
	b := NewAt("user", t0.Add(time.Millisecond))
	if !(a < b) {
		t.Errorf("NewAt(t0)=%q not before NewAt(t0+1ms)=%q", a, b)
	}
	for _, tc := range []struct {
		s, prefix string
		want      bool
	}{
		{a, "user", true},
		{a, "org", false},
		{"user_short", "user", false},
		{"user_" + a[5:len(a)-1] + "!", "user", false},
		{New("org"), "org", true},
	} {
		if got := HasPrefix(tc.s, tc.prefix); got != tc.want {
			t.Errorf("HasPrefix(%q, %q) = %v, want %v", tc.s, tc.prefix, got, tc.want)
		}
	}
	if New("x") == New("x") {
		t.Error("two New calls returned the same id")
	}
}
