package account

import (
	"strings"

	"github.com/orgid/orgid/ui"
)

// describeDevice names the browser and system of a User-Agent header in a
// few words ("Firefox on Linux"), enough for a user to recognise their own
// sessions: a ui.Message, or a browser's name alone. It is a guess for
// display only: the header is whatever the client sent, so nothing may
// depend on it, and only names from the tables below reach the page.
func describeDevice(userAgent string) any {
	browser, system := browserOf(userAgent), systemOf(userAgent)
	switch {
	case browser != "" && system != "":
		return ui.Msg("account.sessions.device", "browser", browser, "system", system)
	case browser != "":
		return browser
	case system != "":
		return ui.Msg("account.sessions.device_system", "system", system)
	}
	return "account.sessions.device_unknown"
}

// uaRule maps a marker in a User-Agent to a name. Order matters: browsers
// built on Chromium also say "Chrome/", and nearly all say "Safari/".
type uaRule struct{ marker, name string }

var browserRules = []uaRule{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Vivaldi/", "Vivaldi"},
	{"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Headless Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"},
	{"Version/", "Safari"}, // Safari says Version/n Safari/n; others say neither first
	{"curl/", "curl"},
	{"Go-http-client/", "Go HTTP client"},
}

var systemRules = []uaRule{
	{"iPhone", "iPhone"}, {"iPad", "iPad"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
}

func browserOf(ua string) string {
	for _, r := range browserRules {
		if strings.Contains(ua, r.marker) {
			if r.name == "Safari" && !strings.Contains(ua, "Safari/") {
				continue
			}
			return r.name
		}
	}
	return ""
}

func systemOf(ua string) string {
	for _, r := range systemRules {
		if strings.Contains(ua, r.marker) {
			return r.name
		}
	}
	return ""
}
