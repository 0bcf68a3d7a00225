// Package keys owns orgid's signing keys: it generates them, stores them
// encrypted in the signing_keys table, rotates them, publishes the JWK Set,
// signs and verifies compact JWS with go-jose v4, and bridges all of that to
// fosite's jwt.Signer so that ID tokens and JWT access tokens use the same
// keys.
//
// # Life of a key
//
// Each configured algorithm (RS256, ES256) has at most one "active" key,
// which signs, and one "next" key, which is already published in the JWKS
// but does not sign yet. Rotate promotes next to active, retires the former
// active key and generates a new next key, all in one transaction. A key is
// therefore published for at least one rotation period before it signs, so
// relying parties that cache the JWKS know it in time. A retired key stays
// published (and keeps verifying) until publish_until = retirement +
// Options.MaxTokenLifetime, the longest lifetime of anything it may have
// signed; after that Reload drops it from memory and Prune (run by every
// rotation) deletes its row.
//
// # Replicas
//
// Several processes may share one database. Partial unique indexes allow one
// active and one next key per algorithm, so replicas that Init at the same
// time cannot create two; rotations use conditional UPDATEs whose affected-row
// counts detect a concurrent rotation (Rotate reports storage.ErrConflict,
// RotateIfOlderThan quietly leaves the work to the winner). Each process
// keeps an immutable snapshot of the published keys behind an atomic pointer
// and replaces it on Reload, which the server calls periodically; private
// keys are decrypted and parsed once per process, never per request. After a
// rotation by another process, this one keeps signing with the old key until
// its next Reload, which is why MaxTokenLifetime should include the reload
// interval as a margin.
//
// # Boundaries
//
// The package knows nothing about HTTP: the oidc package serves JWKS() at
// its jwks_uri and validates claims of tokens that Verify accepted. Private
// keys never leave the process except sealed with the keyring (AES-GCM,
// associated data "signing-key:"+kid), and are never logged.
package keys
