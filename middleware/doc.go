// Package middleware is what a resource server (an API) imports to accept
// orgid access tokens: it verifies a bearer token and hands the handler the
// user or machine behind it, the active organization, its role and its
// permissions.
//
//	v, err := middleware.New(ctx, middleware.Options{
//		Issuer:   "https://id.example.com",
//		Audience: "https://api.example.com",
//	})
//	...
//	mux.Handle("/projects", v.Handler(middleware.Require("org:projects:manage")(projects)))
//
//	func projects(w http.ResponseWriter, r *http.Request) {
//		c := middleware.FromContext(r.Context())
//		// c.Subject, c.OrgID, c.OrgRole, c.Has("org:projects:read") ...
//	}
//
// # What is verified
//
// New reads the issuer's discovery document once (retrying with backoff
// while the issuer is unreachable; its issuer must equal Options.Issuer
// exactly) and the JWK Set it names. Verify then accepts a JWT access
// token (RFC 9068) only if
//
//   - it is a compact JWS signed with RS256 or ES256 by a published key
//     named by kid, whose type and algorithm match the header (never
//     "none", never an HMAC algorithm, never a key or key location carried
//     in the token itself);
//   - its typ header is "at+jwt" (RFC 9068 §4), so an ID token, a logout
//     token or a template token cannot stand in for an access token;
//   - iss equals the issuer, aud contains Options.Audience, sub, client_id,
//     exp and iat are present, and exp, nbf and iat hold within
//     Options.Leeway of Options.Now.
//
// The JWK Set is cached. A kid the cache does not know triggers one
// refresh, shared by every request waiting for it and at most once per
// MinRefreshInterval, so a flood of forged kids cannot make the API hammer
// the issuer; the set is also refreshed when older than JWKSMaxAge. orgid
// publishes a key one rotation before it signs, so rotations normally need
// no refresh at all.
//
// # Audience
//
// Audience is required: it is the API's own identifier, and a token for
// another API must not be accepted here. An orgid access token for which
// no audience was requested carries the issuer as aud (orgid's userinfo is
// then its resource), so an API gets its own audience in two steps: the
// client registers it (`orgid clients create … --audience
// https://api.example.com`), and the authorization or token request asks
// for it (`audience=https://api.example.com`, a space-separated list).
//
// # Introspection
//
// With Options.Introspection (a confidential client's credentials) the
// verifier also asks the issuer's introspection endpoint (RFC 7662,
// client_secret_basic): for tokens that are not JWTs (opaque tokens) and,
// unless OpaqueOnly is set, for every JWT that verified offline, so that a
// revoked token or an ended session is refused at once instead of at its
// expiry. Results are not cached: each request costs one round trip. An
// inactive token is invalid; an unreachable endpoint is ErrUnavailable
// (503), not a reason to accept the token.
//
// # Permissions
//
// Claims.Has is an exact membership test in org_permissions, the same rule
// as rbac.Grants.Has on the server and Clerk's has({permission}). Tokens
// carry the custom permissions of the member's role only: the system
// permissions org:sys_* (managing the organization itself) are checked on
// the server and never appear in tokens, so Has("org:sys_…") is always
// false here. Prefer permission checks to role checks.
//
// # Boundaries
//
// The package depends on the standard library and go-jose only — nothing
// of orgid's server, storage or fosite — so an API links little. Template
// tokens minted by token exchange are typ "JWT" and are not access tokens:
// they are for the third parties their template was written for.
package middleware
