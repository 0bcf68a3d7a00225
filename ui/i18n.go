package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"

	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// DefaultLanguage is the language of the source catalog, used when nothing
// the browser or the flow asks for is available, and for any message a
// catalog lacks.
const DefaultLanguage = "en"

// languages are the catalogs in locales/, the default first (the matcher
// answers with the first tag when nothing matches).
var languages = []language.Tag{language.English, language.German, language.French, language.Spanish}

// matcher is immutable: built once from the fixed list above.
var matcher = language.NewMatcher(languages)

// Languages returns the languages the pages are available in (BCP 47).
func Languages() []string {
	out := make([]string, len(languages))
	for i, t := range languages {
		out[i] = t.String()
	}
	return out
}

// Bounds on what a client or browser may make orgid parse per request.
const (
	maxPreferenceTags = 16
	maxAcceptLanguage = 1024
)

// Language picks the language of a page: the first tag of uiLocales (the
// space-separated list of OpenID Connect's ui_locales, in order of
// preference) that has a catalog, else the best match of acceptLanguage (an
// HTTP Accept-Language header, by q-value), else DefaultLanguage. A tag
// matches a catalog of the same language ("de-CH" gets "de"); a related
// language does not ("ca" does not get "es").
func Language(uiLocales, acceptLanguage string) string {
	for i, s := range strings.Fields(uiLocales) {
		if i == maxPreferenceTags {
			break
		}
		if tag, err := language.Parse(s); err == nil {
			if l, ok := match(tag); ok {
				return l
			}
		}
	}
	if len(acceptLanguage) <= maxAcceptLanguage {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil {
			for i, tag := range tags {
				if i == maxPreferenceTags {
					break
				}
				if l, ok := match(tag); ok {
					return l
				}
			}
		}
	}
	return DefaultLanguage
}

// RequestLanguage is Language for a page outside an authorization flow: the
// request's ui_locales query parameter, then its Accept-Language header.
func RequestLanguage(r *http.Request) string {
	return Language(r.URL.Query().Get("ui_locales"), r.Header.Get("Accept-Language"))
}

func match(tag language.Tag) (string, bool) {
	_, i, conf := matcher.Match(tag)
	if conf < language.High {
		return "", false
	}
	return languages[i].String(), true
}

// catalog maps message keys to text. Text may hold named placeholders,
// {name}, filled from the arguments of t, th and tn. A key ending in .one
// or .other is one form of a plural message (tn).
type catalog map[string]string

// loadCatalogs reads every embedded catalog. It fails when a catalog is
// not valid JSON, or names a language orgid does not list.
func loadCatalogs() (map[string]catalog, error) {
	entries, err := localeFiles.ReadDir("locales")
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, l := range Languages() {
		known[l] = true
	}
	out := map[string]catalog{}
	for _, e := range entries {
		lang := strings.TrimSuffix(e.Name(), ".json")
		if !known[lang] {
			return nil, fmt.Errorf("ui: catalog %s is not in the language list", e.Name())
		}
		b, err := localeFiles.ReadFile(path.Join("locales", e.Name()))
		if err != nil {
			return nil, err
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("ui: catalog %s: %w", e.Name(), err)
		}
		out[lang] = c
	}
	for l := range known {
		if out[l] == nil {
			return nil, fmt.Errorf("ui: no catalog for language %s", l)
		}
	}
	return out, nil
}

// localizer translates for one language, falling back to the source
// catalog for keys its own lacks.
type localizer struct {
	lang     string
	msgs     catalog
	fallback catalog
}

// lookup returns the text of key, and false when no catalog has it.
func (l localizer) lookup(key string) (string, bool) {
	if s, ok := l.msgs[key]; ok {
		return s, true
	}
	s, ok := l.fallback[key]
	return s, ok
}

// Message is a message key with its arguments, for Go code that puts a
// message with placeholders in a page's data (a map value or an `any`
// field, shown by {{t .Error}}). Build it with Msg or PluralMsg.
type Message struct {
	Key  string
	Args []any
	// N selects the plural form key.one or key.other when Plural is set,
	// and fills {count}.
	N      int
	Plural bool
}

// Msg is the message key with args (name, value pairs for its {name}
// placeholders).
func Msg(key string, args ...any) Message { return Message{Key: key, Args: args} }

// PluralMsg is the plural message key (key.one, key.other) for n.
func PluralMsg(key string, n int, args ...any) Message {
	return Message{Key: key, Args: args, N: n, Plural: true}
}

// text translates key: a string key or a Message. A string that is no key
// is returned as it is: Go code passes either a key or text that cannot be
// a key (a name, a protocol error's hint), so the two share one field.
func (l localizer) text(key any, args ...any) string {
	if m, ok := key.(Message); ok {
		if m.Plural {
			return l.plural(m.Key, m.N, m.Args...)
		}
		return l.text(m.Key, m.Args...)
	}
	k := fmt.Sprint(key)
	s, ok := l.lookup(k)
	if !ok {
		return k
	}
	return fill(s, args, l.arg)
}

// arg formats a placeholder's value: a Message is translated too (a
// message inside a message: the change a security mail reports, the parts
// of a device's description), anything else is shown as it is.
func (l localizer) arg(v any) string {
	if m, ok := v.(Message); ok {
		return l.text(m)
	}
	return fmt.Sprint(v)
}

// html translates key into HTML: the text is escaped, and so is every
// argument except template.HTML (from strong), so a catalog can place an
// emphasised name where its grammar wants it.
func (l localizer) html(key string, args ...any) template.HTML {
	s, ok := l.lookup(key)
	if !ok {
		s = key
	}
	return template.HTML(fill(template.HTMLEscapeString(s), args, func(v any) string {
		if h, ok := v.(template.HTML); ok {
			return string(h)
		}
		return template.HTMLEscapeString(l.arg(v))
	}))
}

// plural translates the form of key for n: key.one or key.other, with n
// as the {count} placeholder.
func (l localizer) plural(key string, n int, args ...any) string {
	form := key + ".other"
	if pluralOne(l.lang, n) {
		form = key + ".one"
	}
	return l.text(form, append([]any{"count", n}, args...)...)
}

// pluralOne reports whether n takes the singular in lang. French uses it
// for 0 and 1; English, German and Spanish for 1 only.
func pluralOne(lang string, n int) bool {
	if lang == "fr" {
		return n == 0 || n == 1
	}
	return n == 1
}

// fill replaces each {name} in s by the argument after "name" in args
// (name, value pairs), rendered by format. Unknown placeholders stay.
func fill(s string, args []any, format func(any) string) string {
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	values := make(map[string]string, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		values[fmt.Sprint(args[i])] = format(args[i+1])
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		name := s[open+1 : open+end]
		b.WriteString(s[:open])
		if v, ok := values[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[open : open+end+1])
		}
		s = s[open+end+1:]
	}
	b.WriteString(s)
	return b.String()
}

// placeholders returns the names of the {name} placeholders in s.
func placeholders(s string) map[string]bool {
	out := map[string]bool{}
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			return out
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return out
		}
		out[s[open+1:open+end]] = true
		s = s[open+end+1:]
	}
}

// funcs are the template functions of one language.
func (l localizer) funcs() template.FuncMap {
	return template.FuncMap{
		"join": strings.Join,
		// t translates a key (or shows text that is no key as it is).
		"t": l.text,
		// th translates a key whose arguments may carry markup (strong).
		"th": l.html,
		// tn translates the plural form of a key for a count.
		"tn": l.plural,
		// date writes a moment's day the way lang does (FormatDate).
		"date": func(t time.Time) string { return FormatDate(l.lang, t) },
		// strong emphasises an argument of th.
		"strong": func(v any) template.HTML {
			return template.HTML("<strong>" + template.HTMLEscapeString(fmt.Sprint(v)) + "</strong>")
		},
	}
}
