// Package oidc is orgid's OpenID Provider: the protocol on fosite, and the
// endpoints and pages fosite leaves to its user.
//
// It owns the OAuth 2.0 clients (Clients), fosite's storage of codes and
// tokens (store, on bun: only SHA-256 hashes of token signatures are kept),
// the authorization flow with its hosted sign-in and consent pages, the
// browser session cookie, remembered consent, discovery, JWKS, userinfo
// (JSON or signed), introspection, revocation, logout (RP-initiated,
// front-channel and back-channel), dynamic client registration and pairwise
// subjects. Signing keys live in the subpackage keys; users and browser
// sessions in package identity, which this package calls through its Go API.
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
// # Clients that register themselves
//
// RFC 7591 registration (PathRegister) and RFC 7592 management
// (PathRegister/{client_id}, with the registration access token, stored as
// a keyed hash) are off unless Config.Registration is open or token
// (initial access tokens: RegistrationTokens). Every client, however
// created, obeys the metadata rules of metadata.go; self-registered
// clients also those of registration.go (https redirect URIs for web
// clients, loopback http only for native ones, a sector_identifier_uri that
// lists every redirect URI, a jwks_uri that serves usable keys). Registered
// clients are third-party.
//
// Client assertions (private_key_jwt and client_secret_jwt) and signed
// request objects are verified here, not by fosite (client_auth.go,
// client_jwt.go): keys come from the client's jwks or its jwks_uri, an HMAC
// key from the secret a client_secret_jwt client keeps sealed with the
// keyring; a used assertion's jti is refused until it expires. Every URL a
// client chose (jwks_uri, sector_identifier_uri, request_uri, back-channel
// logout) is reached through one internal/egress client: no private,
// loopback or link-local destination unless Config.EgressAllowHosts lists
// it, no redirects, bounded time and size.
//
// # Subjects
//
// Pairwise clients know a user by a keyed hash of their sector and the
// user id (pairwise.go). The session keeps the user id in Subject and the
// pairwise value in PairwiseSubject; ID tokens, access tokens, userinfo,
// introspection and logout tokens carry the latter.
//
// # Logout
//
// Issuing an authorization response records the client in
// oauth2_session_clients. When a session ends — by any means, through
// identity's OnSessionEnded hooks — QueueBackchannelLogout writes one
// notification per client with a backchannel_logout_uri in the same
// transaction, and BackchannelWorker delivers signed logout tokens with
// retries (durable, at least once). The page confirming a sign-out in the
// browser carries the front-channel iframes under a Content-Security-Policy
// that allows exactly their origins.
//
// # Flows
//
// An authorization request that needs the user (sign-in, consent) is
// stored as a flow bound to the browser by a cookie; the pages carry only
// the flow id, and /oauth2/authorize/resume re-validates the stored request
// and decides again. prompt, max_age and id_token_hint are decided here;
// fosite re-checks them against the flow's original request time.
//
// # Pushed requests, devices, token formats, step-up
//
// Pushed authorization requests (RFC 9126, par.go) are resolved by orgid
// before fosite sees the request: the pushed parameters replace the query,
// the flow carries the request through the hosted pages, and the request
// is used up with the code it produced. The device authorization grant
// (RFC 8628: device.go, device_page.go, device_grant.go) turns a user code
// typed on /device into an ordinary flow that ends by approving the
// device instead of redirecting; its token endpoint handler answers polls
// and redeems an approval once. A client's access_token_format chooses
// RFC 9068 JWTs or fosite's opaque HMAC tokens (accessTokenStrategy tells
// them apart by shape). A request for acr 2 steps a single-factor session
// up through the second-factor page (stepup.go). Limits that must hold
// across replicas (device code entry, registration) are database counters
// (ratelimit.go); client addresses come from package clientip.
//
// # Sign-in methods
//
// Beside the password form, the hosted pages offer sign-up with an emailed
// code (/sign-up, /verify-email), password reset (/forgot-password,
// /reset-password), magic links (/magic-link), passkeys
// (/sign-in/passkey, a small same-origin script under a policy that allows
// only it) and upstream identity providers (/sign-in/idp and its
// callback). Each carries the flow (or a local return_to) from page to
// page, and every successful first factor goes through firstFactorDone:
// a user with a second factor is sent to /sign-in/second-factor, the
// sign-in waiting server-side and bound to the browser, before
// finishSignIn creates the session and continues the flow. Codes and
// links are checked by package identity; mail leaves in the background
// (FlushMail) so that answers take the same time whether or not an
// address has an account. /account/security manages the second factor,
// passkeys and connected accounts, each change after a recent sign-in.
package oidc
