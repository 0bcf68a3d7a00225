package middleware_test

import (
	"context"
	"errors"
	"testing"

	"github.com/orgid/orgid/middleware"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestIntrospection(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL)
		tok := f.userTokens(t)
		machine := f.machineToken(t, apiAudience)
		forIssuer := f.machineToken(t, "")
		introspecting := func(opaqueOnly bool) func(*middleware.Options) {
			return func(o *middleware.Options) {
				o.Introspection = &middleware.IntrospectionConfig{ClientID: f.api.ID, ClientSecret: f.apiSecret, OpaqueOnly: opaqueOnly}
			}
		}
		offline := f.verifier(t, nil)
		online := f.verifier(t, introspecting(false))
		opaqueOnly := f.verifier(t, introspecting(true))
		wrongSecret := f.verifier(t, func(o *middleware.Options) {
			o.Introspection = &middleware.IntrospectionConfig{ClientID: f.api.ID, ClientSecret: "not-the-secret"}
		})

		type check struct {
			name  string
			v     *middleware.Verifier
			token string
			want  error // nil: accepted
		}
		run := func(t *testing.T, checks []check) {
			t.Helper()
			for _, tc := range checks {
				t.Run(tc.name, func(t *testing.T) {
					c, err := tc.v.Verify(context.Background(), tc.token)
					switch {
					case tc.want == nil && err != nil:
						t.Fatalf("Verify: %v, want accepted", err)
					case tc.want == nil && c.Subject == "":
						t.Fatalf("accepted with claims %+v", c)
					case tc.want != nil && !errors.Is(err, tc.want):
						t.Fatalf("Verify = %+v, %v; want %v", c, err, tc.want)
					}
					if err != nil {
						t.Logf("refused: %v", err)
					}
				})
			}
		}

		t.Run("before revocation", func(t *testing.T) {
			run(t, []check{
				{"active user token", online, tok.AccessToken, nil},
				{"active machine token", online, machine, nil},
				{"token for another audience stays refused", online, forIssuer, middleware.ErrInvalidToken},
				{"refresh token presented as bearer", online, tok.RefreshToken, middleware.ErrInvalidToken},
				{"unknown opaque token", online, "not-a-token-orgid-knows", middleware.ErrInvalidToken},
				{"introspection credentials refused", wrongSecret, machine, middleware.ErrUnavailable},
			})
		})

		f.revoke(t, tok.AccessToken)
		t.Run("after revocation", func(t *testing.T) {
			run(t, []check{
				{"revoked token, introspected", online, tok.AccessToken, middleware.ErrInvalidToken},
				// Offline verification cannot see revocation: the documented
				// trade-off that Introspection exists for.
				{"revoked token, offline", offline, tok.AccessToken, nil},
				{"revoked token, introspection for opaque tokens only", opaqueOnly, tok.AccessToken, nil},
				{"revoked grant's refresh token", online, tok.RefreshToken, middleware.ErrInvalidToken},
				{"other tokens stay active", online, machine, nil},
			})
		})

	})
}
