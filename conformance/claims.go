package conformance

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// scopeClaims are the standard claims each scope requests (OIDC Core 5.4).
var scopeClaims = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// claimScope returns the scope that requests a standard claim, or "".
func claimScope(claim string) string {
	base, _, _ := strings.Cut(claim, "#")
	for scope, names := range scopeClaims {
		if slices.Contains(names, base) {
			return scope
		}
	}
	return ""
}

var birthdate = regexp.MustCompile(`^(\d{4}|\d{4}-\d{2}-\d{2}|0000-\d{2}-\d{2})$`)

// claimTypeProblems checks the JSON types of the standard claims present
// (OIDC Core 5.1); language-tagged names ("name#se") are checked as their
// base claim.
func claimTypeProblems(claims map[string]any) []string {
	var out []string
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := claims[name]
		base, _, _ := strings.Cut(name, "#")
		switch base {
		case "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
			"gender", "zoneinfo", "locale", "phone_number":
			if s, ok := v.(string); !ok || s == "" {
				out = append(out, fmt.Sprintf("claim %s is %s, want a non-empty string", name, jsonType(v)))
			}
		case "email":
			if s, ok := v.(string); !ok || !strings.Contains(s, "@") {
				out = append(out, fmt.Sprintf("claim %s is %s, want an e-mail address string", name, jsonType(v)))
			}
		case "profile", "picture", "website":
			s, ok := v.(string)
			if u, err := url.Parse(s); !ok || err != nil || !u.IsAbs() {
				out = append(out, fmt.Sprintf("claim %s is not an absolute URL string", name))
			}
		case "birthdate":
			if s, ok := v.(string); !ok || !birthdate.MatchString(s) {
				out = append(out, fmt.Sprintf("claim %s is not a YYYY, YYYY-MM-DD or 0000-MM-DD string", name))
			}
		case "email_verified", "phone_number_verified":
			if _, ok := v.(bool); !ok {
				out = append(out, fmt.Sprintf("claim %s is %s, want a boolean", name, jsonType(v)))
			}
		case "updated_at":
			if _, ok := numericDate(v); !ok {
				out = append(out, fmt.Sprintf("claim %s is %s, want a number of seconds", name, jsonType(v)))
			}
		case "address":
			m, ok := v.(map[string]any)
			if !ok {
				out = append(out, fmt.Sprintf("claim %s is %s, want a JSON object", name, jsonType(v)))
				continue
			}
			for k, mv := range m {
				switch k {
				case "formatted", "street_address", "locality", "region", "postal_code", "country":
					if _, ok := mv.(string); !ok {
						out = append(out, fmt.Sprintf("claim address.%s is %s, want a string", k, jsonType(mv)))
					}
				}
			}
		}
	}
	return out
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if v == "" {
			return "an empty string"
		}
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// sameJSON compares a configured claim value with a received one, numbers by
// value.
func sameJSON(want, got any) bool {
	norm := func(v any) any {
		b, err := json.Marshal(v)
		if err != nil {
			return v
		}
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
	return reflect.DeepEqual(norm(want), norm(got))
}

// checkScopeClaims checks the claims a response returned for the requested
// scope: every configured claim of a requested scope must be there with its
// value; a requested scope with nothing at all is a warning (the user may
// have no such data); claims of scopes not requested are a warning, unless
// named in alsoRequested (asked for with the claims parameter).
func (t *T) checkScopeClaims(scope string, claims map[string]any, where string, alsoRequested ...string) {
	requested := strings.Fields(scope)
	expected := t.Env.Config.User.Claims
	for _, s := range requested {
		names, standard := scopeClaims[s]
		if !standard {
			continue
		}
		configured := 0
		for claim, want := range expected {
			if claimScope(claim) != s {
				continue
			}
			configured++
			got, ok := claims[claim]
			switch {
			case !ok:
				t.Failf("%s lacks claim %s of scope %s, which the test user has", where, claim, s)
			case !sameJSON(want, got):
				t.Failf("%s claim %s is %v, want %v", where, claim, got, want)
			}
		}
		if configured == 0 && !slices.ContainsFunc(names, func(n string) bool { _, ok := claims[n]; return ok }) {
			t.Warnf("%s returned none of the claims of scope %s (fine only if the user has none)", where, s)
		}
	}
	var extra []string
	for claim := range claims {
		if s := claimScope(claim); s != "" && !slices.Contains(requested, s) && !slices.Contains(alsoRequested, claim) {
			extra = append(extra, claim)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		t.Warnf("%s returned %s, which scope %q did not request", where, strings.Join(extra, ", "), scope)
	}
}
