package middleware_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orgid/orgid/middleware"
	"github.com/orgid/orgid/rbac"
)

// TestHasAgreesWithRBAC: Claims.Has on a token is rbac.Grants.Has on the
// server for every permission a token can carry, and false for the system
// permissions that tokens leave out.
func TestHasAgreesWithRBAC(t *testing.T) {
	held := []string{"org:projects:manage", "org:billing:read", "org:sys_memberships:read", "org:sys_profile:manage"}
	grants := rbac.NewGrants("org:admin", held)
	c := &middleware.Claims{OrgRole: "org:admin", OrgPermissions: grants.CustomPermissions()}
	for _, perm := range []string{
		"org:projects:manage", "org:billing:read", "org:projects:read", "org:projects", "ORG:PROJECTS:MANAGE",
		"org:projects:manage ", "org:sys_memberships:read", "org:sys_profile:manage", "org:sys_profile:delete", "",
	} {
		want := grants.Has(perm) && !strings.HasPrefix(perm, "org:sys_")
		if got := c.Has(perm); got != want {
			t.Errorf("Has(%q) = %v, want %v (rbac: %v)", perm, got, want, grants.Has(perm))
		}
	}
	var none *middleware.Claims
	if none.Has("org:projects:manage") || none.HasScope("openid") || none.IsMachine() {
		t.Error("nil claims allow something")
	}
}

func TestIsMachine(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    middleware.Claims
		want bool
	}{
		{"client credentials", middleware.Claims{Subject: "client_1", ClientID: "client_1"}, true},
		{"user", middleware.Claims{Subject: "user_1", ClientID: "client_1", SessionID: "sess_1"}, false},
		{"subject equals client but a session", middleware.Claims{Subject: "client_1", ClientID: "client_1", SessionID: "sess_1"}, false},
		{"user without a session", middleware.Claims{Subject: "user_1", ClientID: "client_1"}, false},
		{"empty", middleware.Claims{}, false},
	} {
		if got := tc.c.IsMachine(); got != tc.want {
			t.Errorf("%s: IsMachine() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if c := middleware.FromContext(ctx); c != nil {
		t.Errorf("FromContext(empty) = %+v, want nil", c)
	}
	want := &middleware.Claims{Subject: "user_1", Scopes: []string{"openid"}}
	got := middleware.FromContext(middleware.NewContext(ctx, want))
	if got != want || !got.HasScope("openid") || got.HasScope("") {
		t.Errorf("FromContext(NewContext(c)) = %+v", got)
	}
}
