package tenancy

import (
	"errors"
	"testing"
)

func TestReservedSlugs(t *testing.T) {
	for _, s := range []string{"switch", "join", "new"} {
		if err := ValidateSlug(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateSlug(%q) = %v, want ErrInvalid", s, err)
		}
		if got := nextFreeSlug(s, nil); got != s+"-2" {
			t.Errorf("generated slug for %q = %q, want %q", s, got, s+"-2")
		}
	}
	if got := nextFreeSlug("acme", nil); got != "acme" {
		t.Errorf("nextFreeSlug(acme) = %q", got)
	}
}
