package templates

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// maxWorkPerByte bounds the parser's work counter per input byte: decoded
// strings can be up to three times their encoded size (an invalid byte
// becomes U+FFFD), each byte of an expression is read at most twice, and
// a fatal error charges at most twice MaxExpressionLength once per string.
const maxWorkPerByte = 16

// parseSeeds are the seeds f.Add gives both targets, on top of the corpus
// in testdata/fuzz.
var parseSeeds = []string{
	`{}`,
	`{"a": "{{user.id}}", "b": "x {{user.first_name}} y", "c": [1, {"d": null}]}`,
	`{"h": "{{user.username || user.email || 'anon\'ymous' || 30 || -1.5e3 || true || null}}"}`,
	`{"m": "{{user.public_metadata.a.b.0}}", "o": {"p": "{{org.permissions}}"}}`,
	`{"x": "{{'}}'}} {{ }} {{user.id | x}} {{user.nme}} {{"}`,
	`{"sub": 1, "a": 1, "a": 2, "b": "{{user..id}}"}`,
	`{"a": "{{`,
	`[`,
	`{"a": "\ud800{{user.id}}"}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &compiler{}
		c.document(data)
		if c.work > maxWorkPerByte*len(data)+64 {
			t.Fatalf("parser work %d for %d bytes exceeds the linear bound", c.work, len(data))
		}
		tmpl, err := Parse(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 || len(ve.Errors) > MaxErrors+1 {
				t.Fatalf("Parse error %#v is not a validation error with 1..%d entries", err, MaxErrors+1)
			}
			for _, e := range ve.Errors {
				if !strings.HasPrefix(e.Path, "claims") || e.Column < 0 || e.Message == "" {
					t.Fatalf("malformed error %#v", e)
				}
			}
			return
		}
		if len(data) > MaxTemplateSize || c.exprs > MaxExpressions {
			t.Fatalf("Parse accepted %d bytes with %d expressions, beyond the limits", len(data), c.exprs)
		}
		for _, d := range []Data{fullData(), sparseData(), {}} {
			claims, err := tmpl.Render(d)
			if err != nil {
				if errors.Is(err, ErrTooLarge) {
					continue
				}
				t.Fatalf("Render: %v", err)
			}
			for k := range claims {
				if IsReserved(k) {
					t.Fatalf("rendered reserved claim %q", k)
				}
			}
			if _, err := json.Marshal(claims); err != nil {
				t.Fatalf("rendered claims do not marshal: %v", err)
			}
		}
	})
}

func FuzzRender(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s), []byte(`{"a": {"b": [1, "x", {"c": true}]}, "plan": "pro"}`))
	}
	f.Add([]byte(`{"m": "{{user.public_metadata}}", "t": "{{user.public_metadata}}{{org.public_metadata.x}}"}`), []byte(`[1]`))
	f.Fuzz(func(t *testing.T, template, metadata []byte) {
		tmpl, err := Parse(template)
		if err != nil {
			return
		}
		var meta map[string]any
		_ = json.Unmarshal(metadata, &meta) // invalid metadata renders as none
		d := fullData()
		d.User.PublicMetadata = meta
		d.Org.PublicMetadata = meta
		d.Membership.PublicMetadata = meta
		d.Session.Actor = meta
		claims, err := tmpl.Render(d)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Render: %v", err)
			}
			return
		}
		out, err := json.Marshal(claims)
		if err != nil {
			t.Fatalf("rendered claims do not marshal: %v", err)
		}
		// The budget counts string bytes; JSON escaping can at most
		// sextuple them (\u0000).
		if len(out) > 6*MaxRenderedSize+1024 {
			t.Fatalf("rendered %d bytes, far beyond MaxRenderedSize", len(out))
		}
	})
}
