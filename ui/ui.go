package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Brand themes the pages.
type Brand struct {
	// Name is shown in titles and headings ("orgid").
	Name string
	// LogoURL is an image shown above each card; empty for none.
	LogoURL string
	// AccentColor is a CSS colour for buttons and links ("#4f46e5").
	AccentColor string
}

// Renderer renders named pages inside the layout.
type Renderer struct {
	pages map[string]*template.Template
	brand Brand
}

// Page is what every template receives.
type Page struct {
	Brand Brand
	Title string
	// Lang is the BCP 47 language of the page (from ui_locales).
	Lang string
	// Data is the page's own content.
	Data any
}

// New parses every page template with the layout.
func New(brand Brand) (*Renderer, error) {
	if brand.Name == "" {
		brand.Name = "orgid"
	}
	if brand.AccentColor == "" {
		brand.AccentColor = "#4f46e5"
	}
	if !safeColor(brand.AccentColor) {
		return nil, fmt.Errorf("ui: accent colour %q is not a #rgb/#rrggbb value", brand.AccentColor)
	}
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"join": strings.Join,
	}
	r := &Renderer{pages: map[string]*template.Template{}, brand: brand}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", e.Name(), err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// SecurityHeaders are set on every rendered page.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// Render writes page with status. The page is rendered into a buffer first,
// so a template error becomes a plain 500 rather than half a page.
func (r *Renderer) Render(w http.ResponseWriter, status int, page, title, lang string, data any) {
	t, ok := r.pages[page]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if lang == "" {
		lang = "en"
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, Page{Brand: r.brand, Title: title, Lang: lang, Data: data}); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	SecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Theme serves /theme.css, the brand's colours as CSS variables. It is a
// stylesheet of its own so that the pages need no inline styles, which the
// Content-Security-Policy forbids.
func (r *Renderer) Theme() http.Handler {
	css := []byte(":root { --accent: " + r.brand.AccentColor + "; }\n")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(css)
	})
}

// Static serves the embedded stylesheet and images under /assets/.
func Static() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.StripPrefix("/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	}))
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
