// Package conformance runs OpenID Connect provider test plans, modelled on
// the OpenID Foundation's certification plans, against any provider that
// speaks the standards over HTTP — orgid or anyone else.
//
// A Plan is a name and a list of Modules; a Module checks one behaviour and
// reports PASS, FAIL or SKIP with the reason. Plans are built by functions
// (Plans, BasicPlan, ConfigPlan, FormPostPlan, DynamicPlan, RPLogoutPlan,
// FrontchannelLogoutPlan, BackchannelLogoutPlan); there is no package-level
// registry, so adding a plan is adding its files and one line in Plans.
// Plans that need clients with particular metadata register them through
// the provider's registration endpoint (RFC 7591) in their Setup.
//
// The runner plays the relying party and the user at once: it fetches the
// discovery document and JWKS, listens on the loopback redirect URI itself
// (callbacks, form_post receiver, request_uri documents, its own jwks_uri
// and sector documents, front- and back-channel logout receivers), and
// drives the provider's HTML sign-in, consent, organization and logout
// pages with a cookie-jar HTTP client (Browser) — no JavaScript, no real
// browser: it loads a signed-out page's iframes and follows its meta
// refresh as a browser would. How to sign in is
// configuration (LoginForm): by default orgid's hosted form contract, for
// other providers the field names, URL pattern and buttons of their form.
//
// Every check is the package's own: ID tokens are parsed and verified with
// go-jose v4 primitives only, so that the runner sees what a library would
// hide (alg, kid, hash claims, claim types).
//
// Boundaries: the package imports nothing from orgid's server packages; it
// talks to the provider only through its public HTTP endpoints. It never
// logs tokens, codes or secrets.
package conformance
