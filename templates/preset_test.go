package templates

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPresetClerkSessionV2(t *testing.T) {
	p, ok := Preset(PresetClerkSessionV2)
	if !ok {
		t.Fatalf("Preset(%q) not found", PresetClerkSessionV2)
	}
	if byID, ok := Preset(p.ID); !ok || byID.Name != p.Name {
		t.Errorf("Preset(%q) by id = %v, %v; want the preset", p.ID, byID, ok)
	}
	if !p.Builtin || p.Lifetime != DefaultLifetime || p.ClockSkew != DefaultClockSkew || p.Algorithm != DefaultAlgorithm {
		t.Errorf("preset settings = %+v, want builtin with defaults", p)
	}
	if !json.Valid(p.Claims) {
		t.Errorf("preset claims %s are not valid JSON", p.Claims)
	}

	noOrg := fullData()
	noOrg.Org, noOrg.Membership = nil, nil
	noActor := fullData()
	noActor.Session.Actor = nil
	onlySystem := fullData()
	onlySystem.Membership = &Membership{Role: "org:member", Permissions: []string{"org:sys_profile:manage", "not-a-permission", "org:x", "org::y", "org:f:a:b"}}
	noMembership := fullData()
	noMembership.Membership = nil

	tests := []struct {
		name string
		data Data
		want map[string]any
	}{
		{"with an active organization", fullData(), map[string]any{
			"v":   2,
			"fea": "o:projects,o:billing",
			"o": map[string]any{
				"id": "org_acme", "slg": "acme", "rol": "admin",
				// per = manage,read; projects has both (0b11), billing read (0b10).
				"per": "manage,read", "fpm": "3,2",
			},
			"act": map[string]any{"sub": "user_operator", "iss": "https://orgid.example.com"},
		}},
		{"without an active organization", noOrg, map[string]any{
			"v":   2,
			"act": map[string]any{"sub": "user_operator", "iss": "https://orgid.example.com"},
		}},
		{"without impersonation", noActor, map[string]any{
			"v": 2, "fea": "o:projects,o:billing",
			"o": map[string]any{"id": "org_acme", "slg": "acme", "rol": "admin", "per": "manage,read", "fpm": "3,2"},
		}},
		{"sparse user", sparseData(), map[string]any{"v": 2}},
		{"only system and malformed permissions", onlySystem, map[string]any{
			"v":   2,
			"o":   map[string]any{"id": "org_acme", "slg": "acme", "rol": "member"},
			"act": map[string]any{"sub": "user_operator", "iss": "https://orgid.example.com"},
		}},
		{"organization without membership", noMembership, map[string]any{
			"v":   2,
			"o":   map[string]any{"id": "org_acme", "slg": "acme"},
			"act": map[string]any{"sub": "user_operator", "iss": "https://orgid.example.com"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Render(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("clerk-session-v2 claims (-want +got):\n%s", diff)
			}
		})
	}
}

// decodeClerkPermissions rebuilds permissions from fea, per and fpm the way
// Clerk's SDK documents it: for org feature i, bit j of fpm[i] (least
// significant first) grants org:<feature i>:<per[j]>.
func decodeClerkPermissions(t *testing.T, fea, per, fpm string) []string {
	t.Helper()
	var features []string
	for _, f := range strings.Split(fea, ",") {
		scope, name, _ := strings.Cut(f, ":")
		if strings.Contains(scope, "o") {
			features = append(features, name)
		}
	}
	actions := strings.Split(per, ",")
	var out []string
	for i, mask := range strings.Split(fpm, ",") {
		var n uint64
		if err := json.Unmarshal([]byte(mask), &n); err != nil {
			t.Fatalf("fpm entry %q: %v", mask, err)
		}
		for j := range actions {
			if n&(1<<j) != 0 {
				out = append(out, "org:"+features[i]+":"+actions[j])
			}
		}
	}
	return out
}

func TestEncodePermissionsRoundTrip(t *testing.T) {
	tests := [][]string{
		{"org:projects:read"},
		{"org:projects:read", "org:projects:manage", "org:billing:manage"},
		{"org:repositories:read", "org:repositories:create", "org:repositories:update", "org:projects:read", "org:projects:update", "org:projects:revoke", "org:projects:delete"},
		{"org:a:x", "org:b:y", "org:c:z", "org:a:z", "org:a:x"}, // duplicates collapse
	}
	for _, perms := range tests {
		fea, per, fpm, ok := encodePermissions(perms)
		if !ok {
			t.Fatalf("encodePermissions(%v) found nothing", perms)
		}
		got := decodeClerkPermissions(t, fea, per, fpm)
		want := dedupe(perms)
		if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
			t.Errorf("round trip of %v through fea=%q per=%q fpm=%q (-want +got):\n%s", perms, fea, per, fpm, diff)
		}
	}
	// Clerk's own example: per="read,manage", fea="o:dashboard,o:impersonation", fpm="3,2".
	fea, per, fpm, _ := encodePermissions([]string{"org:dashboard:read", "org:dashboard:manage", "org:impersonation:manage"})
	if fea != "o:dashboard,o:impersonation" || per != "read,manage" || fpm != "3,2" {
		t.Errorf("Clerk's example encodes as fea=%q per=%q fpm=%q, want o:dashboard,o:impersonation read,manage 3,2", fea, per, fpm)
	}
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sorted(in []string) []string { return slices.Sorted(slices.Values(in)) }
