package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenRender renders tmpl for the full and the sparse fixture and
// compares both with testdata/<dir>/<name>.golden.
func goldenRender(t *testing.T, dir, name, tmpl string) {
	t.Helper()
	parsed, err := Parse([]byte(tmpl))
	if err != nil {
		t.Fatalf("Parse(%s) = %v, want no error", tmpl, err)
	}
	got := map[string]any{"template": json.RawMessage(tmpl)}
	for fixture, d := range map[string]Data{"full": fullData(), "sparse": sparseData()} {
		claims, err := parsed.Render(d)
		if err != nil {
			t.Fatalf("Render(%s, %s) = %v, want no error", tmpl, fixture, err)
		}
		got[fixture] = claims
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", dir, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./templates -update): %v", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("rendered %s differs from %s (-want +got):\n%s", tmpl, path, diff)
	}
}

// One golden file per language feature.
func TestRenderFeatures(t *testing.T) {
	tests := []struct{ name, template string }{
		{"static_values", `{"aud": "https://api.example.com", "n": 1.50, "big": 12345678901234567890, "b": true, "z": null,
			"nested": {"a": [1, "two", {"three": 3}]}, "empty_object": {}, "empty_array": [], "": "empty key"}`},
		{"whole_value_keeps_type", `{"object": "{{user.public_metadata}}", "array": "{{org.permissions}}",
			"bool": "{{user.email_verified}}", "number": "{{user.created_at}}", "string": "{{user.id}}",
			"missing": "{{user.public_metadata.nope}}", "map": "{{user.organizations}}"}`},
		{"interpolation", `{"name": "{{user.first_name}} {{user.last_name}}", "greeting": "Hello, {{user.username}}!",
			"bool": "verified={{user.email_verified}}", "number": "since {{user.created_at}}",
			"object": "m={{user.public_metadata.addresses}}", "array": "p={{org.permissions}}",
			"padded": " {{user.id}} ", "adjacent": "{{user.first_name}}{{user.last_name}}", "html": "{{org.name}}"}`},
		{"interpolation_null_text", `{"name": "{{user.last_name}} {{user.first_name}}", "org": "org={{org.slug}}",
			"role": "{{org_membership.role}}/{{session.actor}}"}`},
		{"fallbacks", `{"handle": "{{user.username || user.email || 'anonymous'}}",
			"plan": "{{org.public_metadata.tier || user.public_metadata.plan || 'free'}}",
			"skips_false": "{{user.public_metadata.flag || 'was false'}}",
			"keeps_empty_string": "{{user.public_metadata.empty || 'fallback'}}",
			"all_falsy_yields_last": "{{user.public_metadata.nope || false}}",
			"last_null": "{{org.id || null}}", "verified_or_number": "{{user.email_verified || 0}}",
			"in_text": "by {{user.username || 'someone'}}"}`},
		{"literals", `{"string": "{{'plain'}}", "quote": "{{'it\\'s'}}", "backslash": "{{'back\\\\slash'}}",
			"number": "{{user.public_metadata.nope || 30}}", "negative_exponent": "{{null || -1.5e3}}",
			"true": "{{true}}", "false": "{{false}}", "null": "{{null}}", "in_text": "n={{42}} s={{'x'}} b={{true}}",
			"braces_in_string": "{{'}} and {{'}}", "unicode": "{{'héllo ✓'}}"}`},
		{"metadata_paths", `{"home": "{{user.public_metadata.addresses.home}}", "tag": "{{user.public_metadata.tags.1}}",
			"out_of_range": "{{user.public_metadata.tags.9}}", "leading_zero_index": "{{user.public_metadata.tags.01}}",
			"through_scalar": "{{user.public_metadata.plan.x}}", "unsafe": "{{user.unsafe_metadata.theme}}",
			"org_tier": "{{org.public_metadata.tier}}", "member_team": "{{org_membership.public_metadata.team}}",
			"role_in_org": "{{user.organizations.org_beta}}", "actor_sub": "{{session.actor.sub}}",
			"hyphenated_key": "{{user.public_metadata.x-y}}", "number_from_metadata": "{{user.public_metadata.age}}"}`},
		{"nested_expressions", `{"https://hasura.io/jwt/claims": {"x-hasura-user-id": "{{user.id}}",
			"x-hasura-allowed-roles": ["user", "{{org.role}}"], "deep": {"a": {"b": ["{{org.slug}}", ["{{user.email}}"]]}}}}`},
		{"whitespace_in_expressions", `{"a": "{{ user.id }}", "b": "{{\tuser.username||user.email\n}}", "c": "{{  'x'  ||  'y'  }}"}`},
		{"braces_without_expressions", `{"single": "{ user.id }", "close_only": "a }} b", "lone": "{", "triple": "x}}}"}`},
		{"aud_and_nested_reserved_names", `{"aud": ["a", "b"], "o": {"sub": "nested sub is fine", "iss": "{{user.id}}", "exp": 1}}`},
		{"unicode", `{"ünï": "héllo {{user.first_name}} ✓", "emoji": "🎉{{user.username}}🎉", "escaped": "\u00e9{{user.id}}"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			goldenRender(t, "features", tt.name, tt.template)
		})
	}
}

// One golden file per shortcode, each as a whole value and interpolated.
func TestRenderShortcodes(t *testing.T) {
	for _, r := range roots {
		for _, f := range r.fields {
			code := r.name + "." + f.name
			t.Run(code, func(t *testing.T) {
				goldenRender(t, "shortcodes", code, `{"value": "{{`+code+`}}", "text": "<{{`+code+`}}>"}`)
			})
		}
	}
}

// Every shortcode has a golden file and every golden file a shortcode or
// feature, so a removed case cannot leave a stale file behind.
func TestGoldenFilesHaveCases(t *testing.T) {
	known := map[string]bool{}
	for _, r := range roots {
		for _, f := range r.fields {
			known[r.name+"."+f.name] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "shortcodes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := strings.TrimSuffix(e.Name(), ".golden"); !known[name] {
			t.Errorf("testdata/shortcodes/%s has no shortcode", e.Name())
		}
	}
	if len(entries) != len(known) {
		t.Errorf("%d shortcode golden files, want %d", len(entries), len(known))
	}
}

func TestRenderReturnsFreshValues(t *testing.T) {
	tmpl, err := Parse([]byte(`{"m": "{{user.public_metadata}}", "p": "{{org.permissions}}", "s": {"k": "v"}}`))
	if err != nil {
		t.Fatal(err)
	}
	d := fullData()
	first, err := tmpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	first["m"].(map[string]any)["plan"] = "changed"
	first["p"].([]any)[0] = "changed"
	first["s"].(map[string]any)["k"] = "changed"
	if d.User.PublicMetadata["plan"] != "pro" || d.Membership.Permissions[0] != "org:projects:manage" {
		t.Errorf("changing the output changed the input data")
	}
	second, err := tmpl.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := second["s"].(map[string]any)["k"]; got != "v" {
		t.Errorf("static value after a caller changed an earlier result = %v, want v", got)
	}
}

func TestRenderWithoutUser(t *testing.T) {
	tmpl, err := Parse([]byte(`{"id": "{{user.id}}", "m": "{{user.public_metadata.plan || 'none'}}", "t": "u={{user.email_verified}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(Data{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": nil, "m": "none", "t": "u=null"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render(empty Data) (-want +got):\n%s", diff)
	}
}

func TestRenderTooLarge(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	meta := map[string]any{"blob": big}
	tests := []struct {
		name     string
		template string
	}{
		{"whole values", `{"a": ` + repeatJSON(`"{{user.public_metadata}}"`, 20) + `}`},
		{"interpolation", `{"a": "` + strings.Repeat("{{user.public_metadata.blob}}", 20) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse([]byte(tt.template))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Render(Data{User: &User{PublicMetadata: meta}})
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("Render = %v, want ErrTooLarge", err)
			}
		})
	}
	t.Run("cyclic metadata", func(t *testing.T) {
		cyclic := map[string]any{}
		cyclic["self"] = cyclic
		tmpl, err := Parse([]byte(`{"m": "{{user.public_metadata}}"}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmpl.Render(Data{User: &User{PublicMetadata: cyclic}}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Render(cyclic metadata) = %v, want ErrTooLarge", err)
		}
	})
}

func repeatJSON(item string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

func TestZeroTemplateRendersNoClaims(t *testing.T) {
	got, err := new(Template).Render(fullData())
	if err != nil || len(got) != 0 {
		t.Errorf("zero Template.Render = %v, %v; want an empty map", got, err)
	}
}
