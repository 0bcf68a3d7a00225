package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		email    string
		wantMsg  string // "" means accepted
	}{
		{"eight characters", "tr0ub4dor", "ann@example.com", ""},
		{"no composition rules", "averylongpassphrasewithonlyletters", "ann@example.com", ""},
		{"seven characters", "abc4567", "ann@example.com", "too short"},
		{"empty", "", "ann@example.com", "too short"},
		{"runes not bytes: 7 runes, 14 bytes", "äöüäöüä", "ann@example.com", "too short"},
		{"runes not bytes: 8 runes", "äöüäöüäö", "ann@example.com", ""},
		{"256 runes", strings.Repeat("x1", 128), "ann@example.com", ""},
		{"257 runes", strings.Repeat("x", 257), "ann@example.com", "too long"},
		{"common", "password123", "ann@example.com", "commonly used"},
		{"common, other case", "PassWord123", "ann@example.com", "commonly used"},
		{"common, with spaces is a different password", " password123", "ann@example.com", ""},
		{"email local part", "annabelle.lee", "Annabelle.Lee@example.com", "email address"},
		{"email local part, other case", "ANNABELLE.LEE", "annabelle.lee@example.com", "email address"},
		{"whole email", "ann@example.com", "ann@example.com", "email address"},
		{"invalid UTF-8", "abcdefgh\xff", "ann@example.com", "valid text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.password, tc.email)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v, want nil", tc.password, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("CheckPassword(%q) = %v, want a *ValidationError", tc.password, err)
			}
			if ve.Field != "password" || !strings.Contains(ve.Message, tc.wantMsg) {
				t.Errorf("CheckPassword(%q) = {%q, %q}, want field password and a message with %q", tc.password, ve.Field, ve.Message, tc.wantMsg)
			}
		})
	}
}

func TestCommonPasswordListIsClean(t *testing.T) {
	seen := map[string]bool{}
	n := 0
	for line := range strings.Lines(commonPasswordList) {
		w := strings.TrimSuffix(line, "\n")
		if w != strings.ToLower(strings.TrimSpace(w)) || w == "" {
			t.Errorf("entry %q is not lowercase and trimmed", w)
		}
		if seen[w] {
			t.Errorf("entry %q is listed twice", w)
		}
		seen[w] = true
		n++
	}
	if n < 300 {
		t.Errorf("list has %d entries, want a few hundred", n)
	}
	if len(commonPasswords) != n {
		t.Errorf("set has %d entries, list %d", len(commonPasswords), n)
	}
}
