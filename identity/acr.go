package identity

import "slices"

// Authentication method references (RFC 8176) that orgid's sign-in
// methods record in a session's amr. AMREmail (an emailed sign-in link) and
// AMRFederated (an upstream identity provider) are not registered values;
// RFC 8176 §2 allows others.
const (
	AMRPassword  = "pwd"
	AMROTP       = "otp"
	AMRHardware  = "hwk"
	AMRUser      = "user"
	AMREmail     = "email"
	AMRFederated = "fed"
)

// Authentication context classes (the acr claim), after ISO/IEC 29115's
// levels: one factor, or two independent ones.
const (
	ACRSingleFactor = "1"
	ACRMultiFactor  = "2"
)

// ACRFor is the authentication context class of a sign-in with the given
// methods: a second factor (a one-time code after a first factor), or a
// passkey whose authenticator verified the user (possession of the key
// plus the PIN or biometric that unlocked it), is multi-factor.
func ACRFor(amr []string) string {
	factors := 0
	for _, m := range []string{AMRPassword, AMREmail, AMRFederated} {
		if slices.Contains(amr, m) {
			factors++
			break
		}
	}
	if slices.Contains(amr, AMROTP) {
		factors++
	}
	if slices.Contains(amr, AMRHardware) {
		factors++
		if slices.Contains(amr, AMRUser) {
			factors++
		}
	}
	if factors >= 2 {
		return ACRMultiFactor
	}
	return ACRSingleFactor
}
