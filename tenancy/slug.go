package tenancy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxSlugLen bounds slugs; generated ones leave room for a suffix.
const MaxSlugLen = 64

const generatedSlugLen = 48

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidateSlug checks a slug given by a caller: lowercase ASCII letters and
// digits in groups joined by single dashes, at most MaxSlugLen characters.
// Slugs never contain "_", so a slug can never be mistaken for an org_ id.
func ValidateSlug(slug string) error {
	if len(slug) > MaxSlugLen || !slugRE.MatchString(slug) {
		return fmt.Errorf("%w: slug %q must be lowercase letters and digits joined by single dashes, at most %d characters", ErrInvalid, slug, MaxSlugLen)
	}
	if reservedSlugs[slug] {
		return fmt.Errorf("%w: slug %q is reserved", ErrInvalid, slug)
	}
	return nil
}

// reservedSlugs name hosted pages beside the organizations
// (/organizations/switch, /organizations/join, /organizations/new): an
// organization slug must never shadow them.
var reservedSlugs = map[string]bool{"switch": true, "join": true, "new": true}

// letters that Unicode decomposition does not reduce to ASCII.
var foldSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
	'&': " and ",
}

// Slugify turns a name into a slug base: lowercase ASCII, accents removed
// ("Café Über" → "cafe-uber"), every other run of characters a single dash.
// A name with nothing left ("日本") gives "org".
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		if unicode.Is(unicode.Mn, r) { // combining accents left by NFKD
			continue
		}
		s := string(r)
		if f, ok := foldSpecial[r]; ok {
			s = f
		}
		for _, c := range s {
			if ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
				if dash && b.Len() > 0 {
					b.WriteByte('-')
				}
				dash = false
				b.WriteRune(c)
			} else {
				dash = true
			}
		}
	}
	out := b.String()
	if len(out) > generatedSlugLen {
		out = strings.TrimRight(out[:generatedSlugLen], "-")
	}
	if out == "" {
		return "org"
	}
	return out
}

// nextFreeSlug picks base, or base-2, base-3, … — the first not in taken.
func nextFreeSlug(base string, taken []string) string {
	used := make(map[string]bool, len(taken)+len(reservedSlugs))
	for _, t := range taken {
		used[t] = true
	}
	for r := range reservedSlugs {
		used[r] = true
	}
	if !used[base] {
		return base
	}
	for n := 2; ; n++ {
		if c := fmt.Sprintf("%s-%d", base, n); !used[c] {
			return c
		}
	}
}
