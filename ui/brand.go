package ui

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Brand themes the pages.
type Brand struct {
	// Name is shown in titles and above each card ("orgid").
	Name string
	// LogoURL is an image shown above each card in place of the name: an
	// https URL or a data:image/… URL (the only image sources the pages'
	// Content-Security-Policy allows besides the server itself). Empty for
	// none.
	LogoURL string
	// AccentColor colours buttons, links and focus rings: #rgb or #rrggbb
	// ("#4f46e5"). Text on it is white or near-black, whichever reads
	// better; links use it where it contrasts enough with the card, else a
	// darker (or, in dark mode, lighter) shade of it.
	AccentColor string
	// BackgroundColor is the page behind the card: #rgb or #rrggbb. Empty
	// keeps the default light and dark backgrounds.
	BackgroundColor string
}

// Defaults of a Brand's empty fields.
const (
	DefaultBrandName   = "orgid"
	DefaultAccentColor = "#4f46e5"
	maxBrandName       = 64
	maxLogoURL         = 64 << 10
)

// withDefaults fills the empty fields that have a default.
func (b Brand) withDefaults() Brand {
	if b.Name == "" {
		b.Name = DefaultBrandName
	}
	if b.AccentColor == "" {
		b.AccentColor = DefaultAccentColor
	}
	return b
}

// Validate reports every problem with b. Empty fields are valid (they take
// their defaults). Values end up in a stylesheet and in attributes, so
// they are held to shapes that cannot break out of either.
func (b Brand) Validate() error {
	var errs []error
	if len(b.Name) > maxBrandName {
		errs = append(errs, fmt.Errorf("brand name: at most %d bytes", maxBrandName))
	}
	if strings.IndexFunc(b.Name, unicode.IsControl) >= 0 {
		errs = append(errs, errors.New("brand name: must not contain control characters"))
	}
	if b.LogoURL != "" {
		if err := validateLogoURL(b.LogoURL); err != nil {
			errs = append(errs, err)
		}
	}
	if b.AccentColor != "" && !safeColor(b.AccentColor) {
		errs = append(errs, fmt.Errorf("brand accent colour %q: want #rgb or #rrggbb", b.AccentColor))
	}
	if b.BackgroundColor != "" && !safeColor(b.BackgroundColor) {
		errs = append(errs, fmt.Errorf("brand background colour %q: want #rgb or #rrggbb", b.BackgroundColor))
	}
	return errors.Join(errs...)
}

// logoImageTypes are the data: URL media types a logo may have. SVG is
// safe here: an <img> never runs a document's scripts.
var logoImageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}

func validateLogoURL(raw string) error {
	if len(raw) > maxLogoURL {
		return fmt.Errorf("brand logo URL: at most %d bytes", maxLogoURL)
	}
	if rest, ok := strings.CutPrefix(raw, "data:"); ok {
		meta, data, found := strings.Cut(rest, ",")
		mediaType, _, _ := strings.Cut(meta, ";")
		for _, t := range logoImageTypes {
			if found && data != "" && strings.EqualFold(mediaType, t) {
				return nil
			}
		}
		return fmt.Errorf("brand logo URL: a data: URL must hold one of %s", strings.Join(logoImageTypes, ", "))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("brand logo URL %q: want an https URL or a data:image/… URL", raw)
	}
	return nil
}

func safeColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// rgb is a colour with channels in [0, 1].
type rgb struct{ r, g, b float64 }

// parseColor reads #rgb or #rrggbb (validated by safeColor).
func parseColor(c string) rgb {
	hex := c[1:]
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[i:i+2], 16, 8)
		return float64(v) / 255
	}
	return rgb{ch(0), ch(2), ch(4)}
}

func (c rgb) hex() string {
	ch := func(v float64) int { return int(math.Round(math.Max(0, math.Min(1, v)) * 255)) }
	return fmt.Sprintf("#%02x%02x%02x", ch(c.r), ch(c.g), ch(c.b))
}

// luminance is the WCAG 2 relative luminance of c.
func (c rgb) luminance() float64 {
	lin := func(v float64) float64 {
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is the WCAG 2 contrast ratio of two colours, 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// mix moves c towards target by the fraction f.
func (c rgb) mix(target rgb, f float64) rgb {
	return rgb{c.r + (target.r-c.r)*f, c.g + (target.g-c.g)*f, c.b + (target.b-c.b)*f}
}

// Colours of the stylesheet the theme is computed against.
var (
	white       = rgb{1, 1, 1}
	black       = rgb{0, 0, 0}
	nearBlack   = parseColor("#1c1c28") // body text
	cardLight   = white
	cardDark    = parseColor("#20202a")
	minContrast = 4.5 // WCAG AA for normal text
)

// textOn returns the text colour for a background: white or near-black,
// whichever contrasts more.
func textOn(bg rgb) rgb {
	if contrast(white, bg) >= contrast(nearBlack, bg) {
		return white
	}
	return nearBlack
}

// readableOn returns fg, or fg moved towards black (on a light bg) or white
// (on a dark one) just far enough to reach the contrast text needs.
func readableOn(fg, bg rgb) rgb {
	target := black
	if bg.luminance() < 0.18 {
		target = white
	}
	for step := 0; step <= 20; step++ {
		c := fg.mix(target, float64(step)/20)
		if contrast(c, bg) >= minContrast {
			return c
		}
	}
	return target
}

// themeCSS is the brand's stylesheet: custom properties that orgid.css
// uses.
func themeCSS(b Brand) string {
	accent := parseColor(b.AccentColor)
	var s strings.Builder
	fmt.Fprintf(&s, ":root {\n  --accent: %s;\n  --on-accent: %s;\n  --link: %s;\n",
		accent.hex(), textOn(accent).hex(), readableOn(accent, cardLight).hex())
	if b.BackgroundColor != "" {
		fmt.Fprintf(&s, "  --page-bg: %s;\n", parseColor(b.BackgroundColor).hex())
	}
	s.WriteString("}\n")
	fmt.Fprintf(&s, "@media (prefers-color-scheme: dark) {\n  :root { --link: %s; }\n", readableOn(accent, cardDark).hex())
	if b.BackgroundColor != "" {
		// The operator's background holds in both schemes.
		fmt.Fprintf(&s, "  :root { --page-bg: %s; }\n", parseColor(b.BackgroundColor).hex())
	}
	s.WriteString("}\n")
	return s.String()
}
