package account

import (
	"net/url"
	"strings"
)

// localPath returns p when it is a path on this server, else fallback: a
// return_to parameter must never send the browser to another site. The
// rule is oidc's (no scheme, no host, no "//" or "/\" that browsers read as
// a host, no backslash or line break anywhere).
func localPath(p, fallback string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\\\r\n") {
		return fallback
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return p
}
