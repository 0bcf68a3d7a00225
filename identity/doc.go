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
// pages, sets the cookie, sends the mail and issues tokens, and registers
// OnSessionEnded hooks to revoke what a session issued. Organizations,
// memberships and roles live in tenancy and rbac, which reference users(id);
// the active organization of a session is stored here without a foreign key
// and re-checked by tenancy on use. Webhook events are recorded through the
// Events interface in the same transaction as the change.
//
// Every query goes through storage.Conn, so a caller's storage.InTx covers
// the writes of this package too.
//
// # Credentials beyond the password
//
// Every secret this package hands out is random (crypto/rand) and stored
// only as a keyed hash (secret.Keyring.Hash); TOTP secrets, which must be
// known to be checked, are sealed with the keyring. Methods that take a
// binding tie a half-finished step to the browser that started it: the
// caller passes a value only that browser holds (oidc's browser cookie),
// its keyed hash is stored, and the step cannot be finished from another
// browser. Answers never say whether an email address has an account.
//
//   - Sign-up (signup.go): StartSignUp keeps the sign-up pending, with the
//     password already hashed, until the emailed 6-digit code is entered
//     (CompleteEmailVerification creates the user, email verified, and
//     emits user.created). An address that already has an account gets a
//     pending sign-up that no code completes (EmailVerification.AccountExists:
//     mail a notice instead of a code), so sign-up answers the same for
//     taken and free addresses and nobody can create an unverified account
//     in someone else's name.
//   - Email verification (verification.go): StartEmailVerification mails a
//     code to a signed-in user whose address is unverified;
//     CompleteEmailVerification marks it verified and emits user.updated.
//     Codes are 6 digits, keyed-hashed, expire after CodeLifetime, allow
//     MaxCodeAttempts wrong tries, may be resent after CodeResendCooldown,
//     and are throttled per address and per client address.
//   - Password reset (reset.go): RequestPasswordReset returns a 256-bit
//     single-use token for PasswordResetLifetime, or nothing for an unknown
//     address (the caller answers the same); ResetPassword sets the new
//     password, marks the address verified, ends every session of the user
//     and invalidates the user's other reset links.
//   - Magic links (magiclink.go): RequestMagicLink returns a 256-bit
//     single-use sign-in token for MagicLinkLifetime, bound to the browser
//     that asked; RedeemMagicLink refuses it in any other browser
//     (ErrLinkOtherBrowser) without spending it.
//   - Second factor (totp.go, recovery.go, secondfactor.go): TOTP (RFC 6238,
//     SHA-1, 6 digits, 30 s, one step of skew, a code used once) enrolled
//     with BeginTOTPEnrollment + ConfirmTOTPEnrollment, which returns
//     RecoveryCodeCount single-use recovery codes (keyed hashes stored).
//     BeginSecondFactor records a half-authenticated sign-in server-side,
//     bound to the browser; CompleteSecondFactor checks a TOTP or recovery
//     code (attempts limited per pending sign-in and throttled per user) and
//     returns the amr to start the session with (["pwd","otp"]).
//   - Passkeys (passkeys.go, go-webauthn): with Options.WebAuthn set,
//     BeginPasskeyRegistration/FinishPasskeyRegistration add a discoverable,
//     user-verified credential; BeginPasskeySignIn/FinishPasskeySignIn sign
//     in with any of them (amr ["hwk","user"], two factors). Challenges are
//     stored server-side, bound to the browser, used once; a signature
//     counter that goes backwards refuses the sign-in.
//   - Upstream identity providers (idp.go, upstream.go, identities.go):
//     generic OpenID providers and the Google, Microsoft and GitHub presets,
//     client secrets sealed. BeginUpstreamSignIn/FinishUpstreamSignIn run
//     the code flow with a browser-bound state, nonce and PKCE through
//     Options.HTTPClient (SSRF-guarded); an identity is the pair (provider,
//     subject) (ASVS 6.8.1). An address links an identity to an existing
//     account, or creates one, only when the provider verified it and the
//     account's own address is verified.
//   - Authentication context (acr.go): CreateSession and Reauthenticate
//     store ACRFor(amr): "2" for two factors or a user-verified passkey,
//     else "1".
//
// Short-lived rows (codes, links, pending sign-ins, challenges, upstream
// states) are deleted by PruneExpired; the server runs it periodically.
package identity
