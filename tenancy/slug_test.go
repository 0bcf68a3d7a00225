package tenancy

import (
	"errors"
	"strings"
	"testing"
)

func TestSlugify(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Acme Inc", "acme-inc"},
		{"  Acme   Inc.  ", "acme-inc"},
		{"Café Über", "cafe-uber"},
		{"Straße & Söhne", "strasse-and-sohne"},
		{"Łódź Øresund", "lodz-oresund"},
		{"ACME_2026", "acme-2026"},
		{"日本", "org"},
		{"---", "org"},
		{"ﬁnance", "finance"}, // NFKD splits the ligature
		{strings.Repeat("ab ", 40), strings.TrimRight(strings.Repeat("ab-", 16), "-")},
	} {
		got := Slugify(tc.name)
		if got != tc.want {
			t.Errorf("Slugify(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if err := ValidateSlug(got); err != nil {
			t.Errorf("Slugify(%q) = %q is not a valid slug: %v", tc.name, got, err)
		}
	}
}

func TestValidateSlug(t *testing.T) {
	for _, tc := range []struct {
		slug string
		ok   bool
	}{
		{"acme", true},
		{"acme-inc-2", true},
		{"a", true},
		{"", false},
		{"Acme", false},
		{"acme_inc", false},
		{"org_0322SbK0Obav48TKT3LzgY", false},
		{"-acme", false},
		{"acme-", false},
		{"ac--me", false},
		{"ac me", false},
		{"café", false},
		{strings.Repeat("a", MaxSlugLen), true},
		{strings.Repeat("a", MaxSlugLen+1), false},
	} {
		err := ValidateSlug(tc.slug)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok=%v", tc.slug, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateSlug(%q) = %v, want ErrInvalid", tc.slug, err)
		}
	}
}

func TestNextFreeSlug(t *testing.T) {
	for _, tc := range []struct {
		base  string
		taken []string
		want  string
	}{
		{"acme", nil, "acme"},
		{"acme", []string{"acme"}, "acme-2"},
		{"acme", []string{"acme", "acme-2", "acme-3"}, "acme-4"},
		{"acme", []string{"acme", "acme-3"}, "acme-2"},
		{"acme", []string{"acme-2"}, "acme"},
	} {
		if got := nextFreeSlug(tc.base, tc.taken); got != tc.want {
			t.Errorf("nextFreeSlug(%q, %v) = %q, want %q", tc.base, tc.taken, got, tc.want)
		}
	}
}
