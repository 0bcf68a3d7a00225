package account

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/orgid/orgid/tenancy"
)

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		message string
	}{
		{fmt.Errorf("create organization: %w", fmt.Errorf("%w: organization name must not be empty", tenancy.ErrInvalid)),
			http.StatusBadRequest, "Organization name must not be empty."},
		{fmt.Errorf("remove: %w", tenancy.ErrLastOwner), http.StatusConflict, "org.error.last_owner"},
		{tenancy.ErrForbidden, http.StatusForbidden, "org.error.forbidden"},
		{&pageError{http.StatusTeapot, "short and stout"}, http.StatusTeapot, "short and stout"},
	} {
		p, ok := explain(tc.err)
		if !ok || p.status != tc.status || p.message != tc.message {
			t.Errorf("explain(%v) = %d %q %v, want %d %q", tc.err, p.status, p.message, ok, tc.status, tc.message)
		}
	}
	if p, ok := explain(fmt.Errorf("dial tcp: connection refused")); ok {
		t.Errorf("explain(internal error) = %+v, want unknown (no detail shown)", p)
	}
}
