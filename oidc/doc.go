// Package oidc is orgid's OpenID Provider: the protocol on fosite, and the
// endpoints and pages fosite leaves to its user.
//
// It owns the OAuth 2.0 clients (Clients), fosite's storage of codes and
// tokens (store, on bun: only SHA-256 hashes of token signatures are kept),
// the authorization flow with its hosted sign-in and consent pages, the
// browser session cookie, remembered consent, discovery, JWKS, userinfo,
// introspection, revocation and RP-initiated logout. Signing keys live in
// the subpackage keys; users and browser sessions in package identity,
// which this package calls through its Go API.
//
// fosite types stay inside this package, so that replacing fosite touches
// nothing else. The composition is explicit (Provider.compose), with
// orgid's own fosite.Config policies: exact scopes and audiences, PKCE S256
// required for public clients, client secrets compared as keyed hashes,
// RFC 9068 JWT access tokens, RFC 9207 iss in every authorization response.
//
// # Transactions and races
//
// fosite validates a token request (reading rows) outside a transaction and
// issues tokens inside one. The token endpoint runs the issuing phase in a
// single storage.InTx, so a failed write leaves nothing behind, while reuse
// detection, which must commit although the request fails, runs in the
// validation phase. Conditional UPDATEs decide races: of twenty concurrent
// redemptions of one code exactly one changes the row, and the others are
// treated as reuse; of concurrent refreshes exactly one rotates, and a
// rotated token shown again within a short window is refused without
// revoking the grant (the client's own retry), later it revokes the grant.
//
// # Flows
//
// An authorization request that needs the user (sign-in, consent) is
// stored as a flow bound to the browser by a cookie; the pages carry only
// the flow id, and /oauth2/authorize/resume re-validates the stored request
// and decides again. prompt, max_age and id_token_hint are decided here;
// fosite re-checks them against the flow's original request time.
package oidc
