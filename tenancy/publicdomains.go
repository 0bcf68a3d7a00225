package tenancy

import "strings"

// publicEmailDomains are mailbox providers anyone can sign up with: owning
// an address there proves nothing about belonging to an organization, so
// they cannot be added as an organization's domain (nor any subdomain of
// them).
var publicEmailDomains = map[string]bool{
	// Google, Microsoft, Yahoo, Apple, AOL
	"gmail.com": true, "googlemail.com": true,
	"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true, "passport.com": true,
	"outlook.de": true, "outlook.fr": true, "hotmail.co.uk": true, "hotmail.de": true, "hotmail.fr": true, "hotmail.it": true, "hotmail.es": true, "live.co.uk": true,
	"yahoo.com": true, "ymail.com": true, "rocketmail.com": true, "yahoo.co.uk": true, "yahoo.de": true, "yahoo.fr": true, "yahoo.co.jp": true, "yahoo.co.in": true, "yahoo.com.br": true,
	"icloud.com": true, "me.com": true, "mac.com": true,
	"aol.com": true, "aim.com": true,
	// privacy-focused providers
	"proton.me": true, "protonmail.com": true, "protonmail.ch": true, "pm.me": true,
	"tutanota.com": true, "tutanota.de": true, "tuta.io": true, "tuta.com": true,
	"fastmail.com": true, "fastmail.fm": true, "hey.com": true, "duck.com": true,
	"mailbox.org": true, "posteo.de": true, "posteo.net": true, "startmail.com": true,
	// large regional providers
	"gmx.com": true, "gmx.de": true, "gmx.net": true, "gmx.at": true, "gmx.ch": true, "web.de": true, "t-online.de": true, "freenet.de": true,
	"mail.com": true, "email.com": true, "zoho.com": true, "zohomail.com": true, "inbox.com": true,
	"yandex.com": true, "yandex.ru": true, "ya.ru": true, "mail.ru": true, "bk.ru": true, "inbox.ru": true, "list.ru": true, "rambler.ru": true,
	"qq.com": true, "163.com": true, "126.com": true, "yeah.net": true, "sina.com": true, "sohu.com": true, "aliyun.com": true,
	"naver.com": true, "daum.net": true, "hanmail.net": true,
	"rediffmail.com": true,
	"orange.fr":      true, "wanadoo.fr": true, "free.fr": true, "laposte.net": true, "sfr.fr": true,
	"libero.it": true, "virgilio.it": true, "alice.it": true, "tiscali.it": true,
	"seznam.cz": true, "wp.pl": true, "o2.pl": true, "interia.pl": true, "onet.pl": true,
	"btinternet.com": true, "sky.com": true, "virginmedia.com": true,
	"comcast.net": true, "verizon.net": true, "att.net": true, "sbcglobal.net": true, "cox.net": true, "charter.net": true,
	"bigpond.com": true, "optusnet.com.au": true,
	"uol.com.br": true, "bol.com.br": true, "terra.com.br": true,
}

// IsPublicEmailDomain reports whether domain (lowercase) is, or is under, a
// public email provider's domain.
func IsPublicEmailDomain(domain string) bool {
	for d := domain; d != ""; {
		if publicEmailDomains[d] {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return false
}
