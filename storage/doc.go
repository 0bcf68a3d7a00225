// Package storage opens orgid's database and owns what every other package
// shares about it: the connection URL format, the embedded schema migrations
// for each dialect, the transaction carried in a context, and the sentinel
// errors that cross package boundaries.
//
// Two dialects are supported. "sqlite:PATH" opens an embedded, pure-Go SQLite
// file (WAL, busy timeout, foreign keys, immediate write transactions) and is
// the zero-configuration default; "postgres://…" opens PostgreSQL through
// pgx for production and for several replicas.
//
// Packages own their tables: they query them through the bun.IDB that Conn
// returns, so a caller that opened a transaction with InTx gets every write,
// including webhook events, committed or rolled back together.
//
// Times are written from Go in UTC. bun formats every time.Time argument in
// UTC with a layout that sorts correctly as text, so range comparisons on
// SQLite's TEXT columns behave like PostgreSQL's TIMESTAMPTZ.
package storage
