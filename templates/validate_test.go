package templates

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseErrors returns the validation errors Parse reports for src.
func parseErrors(t *testing.T, src string) []Error {
	t.Helper()
	tmpl, err := Parse([]byte(src))
	if err == nil {
		t.Fatalf("Parse(%.200s) = %v, nil; want a validation error", src, tmpl)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Parse error %v does not match ErrInvalid", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Parse error is %T, want *ValidationError", err)
	}
	return ve.Errors
}

func TestParseErrors(t *testing.T) {
	rootsMsg := "(known roots: user, org, org_membership, session)"
	userFields := "(known fields: id, external_id, first_name, last_name, full_name, username, email, primary_email_address, email_verified, image_url, created_at, updated_at, public_metadata, unsafe_metadata, organizations)"
	orgFields := "(known fields: id, name, slug, image_url, public_metadata, role, permissions)"
	tests := []struct {
		name     string
		template string
		want     []Error
	}{
		// The document.
		{"empty document", ``, []Error{{"claims", 0, "claims must be a JSON object, got nothing"}}},
		{"array document", `[1]`, []Error{{"claims", 0, "claims must be a JSON object"}}},
		{"string document", `"{{user.id}}"`, []Error{{"claims", 0, "claims must be a JSON object"}}},
		{"invalid JSON", "{\"a\": 1,\n \"b\": }", []Error{{"claims.b", 0, "invalid JSON at line 2, column 7: invalid character '}' looking for beginning of value"}}},
		{"truncated JSON", `{"a": {"b": 1`, []Error{{"claims.a", 0, "invalid JSON: unexpected end of input"}}},
		{"trailing data", `{} {}`, []Error{{"claims", 0, "unexpected data after the claims object"}}},
		{"duplicate key", `{"a": 1, "o": {"x": 1, "x": 2}, "a": 3}`, []Error{
			{"claims.o.x", 0, `duplicate key "x"`},
			{"claims.a", 0, `duplicate key "a"`},
		}},
		// Reserved claims, at the top level only.
		{"reserved claims", `{"iss": "x", "sub": "{{user.id}}", "aud": "ok", "exp": 1, "iat": 1, "nbf": 1, "jti": "j", "azp": "a", "sid": "s", "o": {"sub": "fine"}}`, []Error{
			{"claims.iss", 0, `"iss" is a reserved claim: orgid sets it on every token`},
			{"claims.sub", 0, `"sub" is a reserved claim: orgid sets it on every token`},
			{"claims.exp", 0, `"exp" is a reserved claim: orgid sets it on every token`},
			{"claims.iat", 0, `"iat" is a reserved claim: orgid sets it on every token`},
			{"claims.nbf", 0, `"nbf" is a reserved claim: orgid sets it on every token`},
			{"claims.jti", 0, `"jti" is a reserved claim: orgid sets it on every token`},
			{"claims.azp", 0, `"azp" is a reserved claim: orgid sets it on every token`},
			{"claims.sid", 0, `"sid" is a reserved claim: orgid sets it on every token`},
		}},
		// Unknown shortcodes.
		{"unknown root", `{"x": "{{organization.id}}"}`, []Error{{"claims.x", 3, `unknown shortcode root "organization" ` + rootsMsg}}},
		{"unknown field", `{"o": {"rol": "{{org.rol}}"}}`, []Error{{"claims.o.rol", 7, `unknown field "rol" of org ` + orgFields}}},
		{"Clerk field orgid lacks", `{"p": "{{user.primary_phone_address}}"}`, []Error{{"claims.p", 8, `unknown field "primary_phone_address" of user ` + userFields}}},
		{"path under a leaf", `{"x": "{{user.id.foo}}"}`, []Error{{"claims.x", 11, "user.id has no fields: only metadata, user.organizations and session.actor take a path"}}},
		{"root without field", `{"x": "{{user}}"}`, []Error{{"claims.x", 3, "user needs a field, for example {{user.id}}"}}},
		{"bare word", `{"x": "{{anonymous}}"}`, []Error{{"claims.x", 3, `unknown shortcode root "anonymous" ` + rootsMsg}}},
		// Malformed expressions.
		{"unclosed", `{"x": "hi {{user.id"}`, []Error{{"claims.x", 4, "unclosed {{: missing }}"}}},
		{"unclosed with one brace", `{"x": "{{user.id}"}`, []Error{{"claims.x", 1, "unclosed {{: missing }}"}}},
		{"unclosed after dot", `{"x": "{{user."}`, []Error{{"claims.x", 1, "unclosed {{: missing }}"}}},
		{"empty expression", `{"x": "a {{ }}"}`, []Error{{"claims.x", 3, "empty expression {{}}"}}},
		{"missing operand after ||", `{"x": "{{user.id || }}"}`, []Error{{"claims.x", 14, "missing operand after ||"}}},
		{"missing operand before ||", `{"x": "{{|| user.id}}"}`, []Error{{"claims.x", 3, "missing operand before ||"}}},
		{"double ||", `{"x": "{{user.id || || 'a'}}"}`, []Error{{"claims.x", 14, "missing operand between || and ||"}}},
		{"single |", `{"x": "{{user.id | 'a'}}"}`, []Error{{"claims.x", 11, "single |: use || between fallback operands"}}},
		{"operands without ||", `{"x": "{{user.id user.email}}"}`, []Error{{"claims.x", 11, "expected || or }} after an operand, found 'u'"}}},
		{"double-quoted literal", `{"x": "{{user.id || \"a\"}}"}`, []Error{{"claims.x", 14, "string literals use single quotes: 'text'"}}},
		{"unterminated literal", `{"x": "{{'abc}}"}`, []Error{{"claims.x", 3, "unterminated string literal: missing closing '"}}},
		{"bad escape", `{"x": "{{'a\\nb'}}"}`, []Error{{"claims.x", 5, `invalid escape \n in string literal: only \' and \\ are allowed`}}},
		{"leading zero", `{"x": "{{007}}"}`, []Error{{"claims.x", 3, `invalid number literal "007"`}}},
		{"dot without digits", `{"x": "{{1.}}"}`, []Error{{"claims.x", 3, `invalid number literal "1."`}}},
		{"number then letters", `{"x": "{{30abc}}"}`, []Error{{"claims.x", 3, `invalid number literal "30abc"`}}},
		{"lone minus", `{"x": "{{-}}"}`, []Error{{"claims.x", 3, `invalid number literal "-"`}}},
		{"number out of range", `{"x": "{{1e999}}"}`, []Error{{"claims.x", 3, "number literal 1e999 is out of range"}}},
		{"unexpected character", `{"x": "{{user.id || @}}"}`, []Error{{"claims.x", 14, "unexpected character '@'"}}},
		{"empty path segment", `{"x": "{{user..id}}"}`, []Error{{"claims.x", 8, "empty path segment after ."}}},
		{"trailing dot", `{"x": "{{user.public_metadata. }}"}`, []Error{{"claims.x", 24, "empty path segment after ."}}},
		{"triple braces", `{"x": "{{{user.id}}}"}`, []Error{{"claims.x", 3, "unexpected character '{'"}}},
		// Positions.
		{"several errors in one string and across claims", `{"a": "{{user.nme}} and {{org.x}}", "b": {"c": ["ok", "{{nope.z}}"]}}`, []Error{
			{"claims.a", 8, `unknown field "nme" of user ` + userFields},
			{"claims.a", 24, `unknown field "x" of org ` + orgFields},
			{"claims.b.c[1]", 3, `unknown shortcode root "nope" ` + rootsMsg},
		}},
		{"errors in every operand", `{"a": "{{user.nme || org.x || 'ok'}}"}`, []Error{
			{"claims.a", 8, `unknown field "nme" of user ` + userFields},
			{"claims.a", 19, `unknown field "x" of org ` + orgFields},
		}},
		{"resynchronises after a syntax error", `{"a": "{{user.id | x}} {{user.nme}}"}`, []Error{
			{"claims.a", 11, "single |: use || between fallback operands"},
			{"claims.a", 24, `unknown field "nme" of user ` + userFields},
		}},
		{"columns count characters, not bytes", `{"x": "héllo ✓ {{user.nme}}"}`, []Error{{"claims.x", 16, `unknown field "nme" of user ` + userFields}}},
		{"keys that are not identifiers are quoted", `{"https://hasura.io/jwt/claims": {"x-hasura-user-id": "{{user.idd}}", "a b": ["{{x.y}}"]}}`, []Error{
			{`claims["https://hasura.io/jwt/claims"].x-hasura-user-id`, 8, `unknown field "idd" of user ` + userFields},
			{`claims["https://hasura.io/jwt/claims"]["a b"][0]`, 3, `unknown shortcode root "x" ` + rootsMsg},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.template)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%s) errors (-want +got):\n%s", tt.template, diff)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	nested := strings.Repeat(`{"a":`, MaxDepth) + `1` + strings.Repeat(`}`, MaxDepth)
	tooDeep := strings.Repeat(`{"a":`, MaxDepth) + `[1]` + strings.Repeat(`}`, MaxDepth)
	tooLarge := `{"a": "` + strings.Repeat("x", MaxTemplateSize) + `"}`
	manyOperands := `{"a": "{{` + strings.TrimSuffix(strings.Repeat("null || ", MaxOperands+1), " || ") + `}}"}`
	longExpr := `{"a": "{{` + strings.Repeat(" ", MaxExpressionLength) + `user.id}}"}`
	longLiteral := `{"a": "{{'` + strings.Repeat("x", MaxExpressionLength) + `'}}"}`
	manySegments := `{"a": "{{user.public_metadata` + strings.Repeat(".x", MaxPathSegments-1) + `}}"}`
	maxSegments := `{"a": "{{user.public_metadata` + strings.Repeat(".x", MaxPathSegments-2) + `}}"}`
	manyExprs := `{"a": "` + strings.Repeat("{{user.id}}", MaxExpressions+1) + `"}`
	manyErrors := `{"a": "` + strings.Repeat("{{x.y}}", MaxErrors+50) + `"}`

	for _, ok := range []string{nested, maxSegments, `{"a": "` + strings.Repeat("{{user.id}}", MaxExpressions) + `"}`} {
		if _, err := Parse([]byte(ok)); err != nil {
			t.Errorf("Parse(%.80s…) at the limit = %v, want success", ok, err)
		}
	}
	tests := []struct {
		name, template string
		want           Error
	}{
		{"nesting", tooDeep, Error{"claims" + strings.Repeat(".a", MaxDepth), 0, fmt.Sprintf("nested deeper than %d levels", MaxDepth)}},
		{"size", tooLarge, Error{"claims", 0, fmt.Sprintf("template is %d bytes; the limit is %d", len(tooLarge), MaxTemplateSize)}},
		{"operands", manyOperands, Error{"claims.a", 3 + 8*MaxOperands, fmt.Sprintf("more than %d operands in one expression", MaxOperands)}},
		{"expression length", longExpr, Error{"claims.a", 1, fmt.Sprintf("expression is longer than %d characters", MaxExpressionLength)}},
		{"literal length", longLiteral, Error{"claims.a", 1, fmt.Sprintf("expression is longer than %d characters", MaxExpressionLength)}},
		{"path segments", manySegments, Error{"claims.a", 3 + len("user.public_metadata") + 2*(MaxPathSegments-2) + 1, fmt.Sprintf("path has more than %d segments", MaxPathSegments)}},
		{"expressions", manyExprs, Error{"claims.a", 11*MaxExpressions + 1, fmt.Sprintf("more than %d expressions in one template", MaxExpressions)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(t, tt.template)
			if diff := cmp.Diff([]Error{tt.want}, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("errors are capped", func(t *testing.T) {
		got := parseErrors(t, manyErrors)
		if len(got) != MaxErrors+1 {
			t.Fatalf("got %d errors, want %d", len(got), MaxErrors+1)
		}
		if want := (Error{"claims", 0, "50 more problems not shown"}); got[MaxErrors] != want {
			t.Errorf("last error = %v, want %v", got[MaxErrors], want)
		}
	})
}

func TestValidationErrorMessage(t *testing.T) {
	_, err := Parse([]byte(`{"sub": "x", "o": {"rol": "{{org.rol}}"}}`))
	want := "invalid template (2 problems):\n" +
		"  claims.sub: \"sub\" is a reserved claim: orgid sets it on every token\n" +
		"  claims.o.rol, character 7: unknown field \"rol\" of org (known fields: id, name, slug, image_url, public_metadata, role, permissions)"
	if err == nil || err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
	_, err = Parse([]byte(`[]`))
	if want := "invalid template: claims: claims must be a JSON object"; err == nil || err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
}

func TestIsReserved(t *testing.T) {
	for _, c := range []string{"iss", "sub", "exp", "iat", "nbf", "jti", "azp", "sid"} {
		if !IsReserved(c) {
			t.Errorf("IsReserved(%q) = false, want true", c)
		}
	}
	for _, c := range []string{"aud", "v", "o", "org_id", "SUB"} {
		if IsReserved(c) {
			t.Errorf("IsReserved(%q) = true, want false", c)
		}
	}
}
