package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// FuzzVerifyIDToken feeds arbitrary tokens to the ID token checks: whatever
// a provider sends, they record failures and never panic.
func FuzzVerifyIDToken(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIn0.eyJhdWQiOlt7fV0sImV4cCI6IjEiLCJhdXRoX3RpbWUiOm51bGx9.c2ln")
	f.Add("e30.e30.e30")
	f.Add("....")
	keys := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &testKey().PublicKey, KeyID: "key-1", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(keys) }))
	defer srv.Close()
	p := &Provider{Metadata: Metadata{Issuer: "https://op.example.com", JWKSURI: srv.URL}, http: srv.Client(), jwks: keys}
	env := &Env{Provider: p, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	f.Fuzz(func(t *testing.T, raw string) {
		tt := NewT(context.Background(), env)
		tt.verifyIDToken(raw, "fuzz", IDTokenWant{Client: ClientAuth{Client: Client{ClientID: "c"}}, Nonce: "n", AccessToken: "a", Code: "c", RequireAuthTime: true})
	})
}

// FuzzParsePage parses arbitrary HTML and submits every form it finds.
func FuzzParsePage(f *testing.F) {
	f.Add(formsPage)
	f.Add(`<form action="%zz"><select name=a></select><input type=radio name=r><button name=b>`)
	f.Add(`<form><form action="javascript:x"><textarea name=t>`)
	base, _ := url.Parse("https://op.example.com/a/b?c=d")
	f.Fuzz(func(t *testing.T, body string) {
		p := ParsePage([]byte(body), base)
		for _, form := range p.Forms {
			if form.Action == nil {
				t.Fatalf("form without an action URL")
			}
			var click *Field
			if len(form.Buttons) > 0 {
				click = &form.Buttons[0]
			}
			_ = form.Values(click, map[string]string{"identifier": "x"})
		}
	})
}
