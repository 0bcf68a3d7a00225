// Package keys is input for TestKeyScanFindsTypos: two known keys, a plural
// key, two typos and strings that are no keys.
package keys

var (
	known   = []string{"sign_in.heading", "org.notice.created"}
	plural  = "common.throttled"
	typos   = []string{"sign_in.no_such_key", "org.notice.creatd"}
	notKeys = []string{"example.com", "Sign in", "openid", "v1.2.3"}
)
