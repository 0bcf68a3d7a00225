// Package api is orgid's management API: a JSON REST API under /v1 for the
// operator's backend, shaped like Clerk's Backend API so that code written
// against @clerk/backend works when pointed at orgid.
//
// # What it owns
//
//   - The routes under /v1 and the one table that lists them (routes.go):
//     path, method, metric name, parameters, request and response types and
//     the errors each may answer. The router is mounted from that table and
//     the OpenAPI 3.1 document at /v1/openapi.json is generated from it, so
//     the two cannot drift.
//   - Secret keys (table api_keys, migration 0090): "sk_live_" followed by
//     256 random bits, shown once; only a keyed hash (secret.Keyring.Hash) is
//     stored, looked up through a unique index and compared in constant
//     time. Keys are revocable; last_used_at is written at most once a
//     minute. The CLI manages them (orgid apikeys create|list|revoke); the
//     API cannot mint keys, so a leaked key cannot make itself permanent.
//   - The throttle on failed authentication: counted in memory, per client
//     address (package clientip: the TCP peer, or X-Forwarded-For from
//     --trusted-proxies), 20 failures in 10 minutes. A throttled address gets 429 with
//     Retry-After for every further bad key — but a valid key still works
//     from it, so that a client scanning from behind the same proxy or NAT
//     never locks out the operator's backend. Keys carry 256 bits, so the
//     throttle is there to make scanners back off and show in metrics
//     (orgid_api_auth_failures_total), not to protect the key space; an
//     in-memory count per replica is enough for that, and keeps a flood of
//     bad keys from becoming a flood of database writes.
//
// # What it does not own
//
// Every resource belongs to another package, and every change goes
// through that package's Go API — tenancy's methods with tenancy.Operator()
// as the actor — so a change made here records the same webhook events, in
// the same transaction, as the same change made by the CLI. Responses use
// the owning packages' JSON forms (identity.UserJSON, tenancy.OrganizationJSON,
// …) unchanged. When one request makes several changes they run in one
// storage.InTx, so a failure changes nothing.
//
// # Conventions
//
// JSON only (Content-Type: application/json, exactly: the Clerk SDK compares
// the header as a string). snake_case, an "object" field on every item,
// prefixed ids, Unix-millisecond timestamps. Lists take limit (1–500,
// default 10) and offset and answer {"data": [...], "total_count": N};
// GET /v1/users, /v1/sessions and /v1/jwt_templates answer a bare array
// unless paginated=true, as Clerk's do (the SDK's getUserList depends on
// it). Unknown body fields and query parameters are refused, never ignored.
//
// Errors use Clerk's envelope,
// {"errors":[{"code","message","long_message","meta"}],"clerk_trace_id"},
// where clerk_trace_id is the request id. Statuses: 400 a request that
// cannot be read (bad JSON, unknown or missing parameter, wrong type),
// 401 no valid secret key, 403 an operation the resource does not allow
// (changing a built-in template or system role), 404 unknown resource,
// 405 a method the path does not have, 409 conflict (taken email or slug,
// last owner, role in use), 413/415 an oversized or non-JSON body, 422 a
// value the owning package refuses (its message in long_message, the
// field in meta.param_name), 429 throttled, 500 internal (no detail; the
// cause is logged with the request id).
package api
