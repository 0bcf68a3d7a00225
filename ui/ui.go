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

// Renderer renders named pages inside the layout, in every language of
// Languages.
type Renderer struct {
	// pages[lang][page] is the page parsed with lang's template functions.
	pages  map[string]map[string]*template.Template
	locale map[string]localizer
	brand  Brand
	theme  []byte
}

// Page is what every template receives.
type Page struct {
	Brand Brand
	// Logo is Brand.LogoURL, validated, for the src attribute (html/template
	// would otherwise refuse a data: URL).
	Logo template.URL
	// Title is the translated title.
	Title string
	// Lang is the BCP 47 language the page is rendered in: one of
	// Languages.
	Lang string
	// Data is the page's own content.
	Data any
}

// New parses every page template with the layout, once per language. It
// fails when brand is invalid (see Brand.Validate) or a template or
// catalog does not parse.
func New(brand Brand) (*Renderer, error) {
	brand = brand.withDefaults()
	if err := brand.Validate(); err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	catalogs, err := loadCatalogs()
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	r := &Renderer{
		pages:  map[string]map[string]*template.Template{},
		locale: map[string]localizer{},
		brand:  brand,
		theme:  []byte(themeCSS(brand)),
	}
	for _, lang := range Languages() {
		loc := localizer{lang: lang, msgs: catalogs[lang], fallback: catalogs[DefaultLanguage]}
		r.locale[lang] = loc
		r.pages[lang] = map[string]*template.Template{}
		for _, e := range entries {
			name := strings.TrimSuffix(e.Name(), ".html")
			if name == "layout" {
				continue
			}
			t, err := template.New("layout.html").Funcs(loc.funcs()).ParseFS(templateFiles, "templates/layout.html", "templates/"+e.Name())
			if err != nil {
				return nil, fmt.Errorf("ui: parse %s: %w", e.Name(), err)
			}
			r.pages[lang][name] = t
		}
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

// Render writes page with status, in lang.
//
// title is a message key, translated like the templates' text (with
// titleArgs as name, value pairs for its placeholders); a title that is no
// key, such as an organization's name, is shown as it is. lang is a
// language tag or a ui_locales list, usually from Language or
// RequestLanguage; one without a catalog gets DefaultLanguage. The
// page is rendered into a buffer first, so a template error becomes a plain
// 500 rather than half a page.
func (r *Renderer) Render(w http.ResponseWriter, status int, page, title, lang string, data any, titleArgs ...any) {
	lang = Language(lang, "")
	t, ok := r.pages[lang][page]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p := Page{
		Brand: r.brand,
		Logo:  template.URL(r.brand.LogoURL),
		Title: r.locale[lang].text(title, titleArgs...),
		Lang:  lang,
		Data:  data,
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	SecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.Header().Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Text translates a message into lang, for text a page's owner puts
// somewhere other than a page (a mail, say, or a JSON error a page's
// script shows). key is a message key or a Message; a string that is no
// key is returned as it is.
func (r *Renderer) Text(lang string, key any, args ...any) string {
	return r.locale[Language(lang, "")].text(key, args...)
}

// Theme serves /theme.css, the brand's colours as CSS custom properties. It
// is a stylesheet of its own so that the pages need no inline styles, which
// the Content-Security-Policy forbids.
func (r *Renderer) Theme() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(r.theme)
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

// WithContentSecurityPolicy returns a writer that sends policy in place of
// the pages' Content-Security-Policy, for a page that needs more than the
// default allows (the signed-out page's front-channel logout frames).
func WithContentSecurityPolicy(w http.ResponseWriter, policy string) http.ResponseWriter {
	return cspWriter{ResponseWriter: w, policy: policy}
}

type cspWriter struct {
	http.ResponseWriter
	policy string
}

func (w cspWriter) WriteHeader(status int) {
	w.Header().Set("Content-Security-Policy", w.policy)
	w.ResponseWriter.WriteHeader(status)
}
