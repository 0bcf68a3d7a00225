// Package server assembles orgid: it opens the database and the keyring
// (Base), builds every package's service from the configuration, mounts
// their routes behind the shared middleware (request id, structured access
// log, Prometheus metrics, panic recovery), runs the background jobs (key
// reload and rotation, cleanup) and shuts down gracefully. cmd/orgid and
// the end-to-end tests both start orgid through it, so tests exercise the
// same wiring as production.
package server
