// Package mail sends orgid's email: invitations, verification codes, sign-in
// links. Every sender takes a Mailer; two implement it:
//
//   - SMTP delivers through a mail server with net/smtp, upgrading to TLS
//     with STARTTLS whenever the server offers it (implicit TLS on port
//     465), and authenticating only over TLS or to a loopback server.
//   - Outbox, for development and tests, appends each message as one JSON
//     line to a file (by default <data-dir>/outbox.jsonl) and logs a line
//     saying so; ReadOutbox reads the file back. Messages often carry
//     single-use links, so the file is created 0600 and bodies are never
//     logged.
//
// The package knows nothing of what the messages say; the packages that
// send them compose the text.
package mail
