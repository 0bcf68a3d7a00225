// Package identity owns users and their credentials, and the browser
// sessions a sign-in creates.
//
// It stores users (email, names, username, metadata, the remaining OpenID
// Connect profile claims, ban and lock state), hashes and checks passwords
// with argon2id, throttles failed sign-ins in the database so that the limit
// holds across replicas, and keeps browser sessions: an id that is public
// (the "sid" claim) and a cookie token of which only a keyed hash is stored.
//
// It does not speak HTTP and sets no cookies: package oidc runs the sign-in
// page, sets the cookie and issues tokens, and registers OnSessionEnded hooks
// to revoke what a session issued. Organizations, memberships and roles live
// in tenancy and rbac, which reference users(id); the active organization of
// a session is stored here without a foreign key and re-checked by tenancy on
// use. Webhook events are recorded through the Events interface in the same
// transaction as the change.
//
// Every query goes through storage.Conn, so a caller's storage.InTx covers
// the writes of this package too.
package identity
