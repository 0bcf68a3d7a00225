package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
)

// Accessibility, checked by element and attribute on every template in
// every state of fixtures() and every language: one main landmark, one h1,
// the page's language on <html>, a label for every control, alt text on
// every image, buttons and links with words in them, errors announced
// (role=alert) and tied to their fields (aria-describedby), references to
// ids that exist, no positive tabindex (focus follows the document), at
// most one autofocus — and no message key left untranslated.

func TestEveryTemplateHasFixtures(t *testing.T) {
	r := newTestRenderer(t, Brand{})
	covered := map[string]bool{}
	for _, c := range fixtures() {
		covered[c.page] = true
	}
	for page := range r.pages[DefaultLanguage] {
		if !covered[page] {
			t.Errorf("template %s has no case in fixtures(): add one so the accessibility checks see it", page)
		}
	}
}

func TestPagesAreAccessible(t *testing.T) {
	r := newTestRenderer(t, Brand{LogoURL: "https://cdn.example.com/logo.svg"})
	for _, lang := range Languages() {
		for _, c := range fixtures() {
			t.Run(lang+"/"+c.page+"/"+c.name, func(t *testing.T) {
				w := httptest.NewRecorder()
				r.Render(w, http.StatusOK, c.page, "sign_in.heading", lang, c.data)
				if w.Code != http.StatusOK {
					t.Fatalf("Render status = %d, want 200 (template error?)", w.Code)
				}
				doc, err := html.Parse(strings.NewReader(w.Body.String()))
				if err != nil {
					t.Fatal(err)
				}
				for _, problem := range accessibilityProblems(doc, lang) {
					t.Error(problem)
				}
			})
		}
	}
}

// TestAccessibilityChecksFail shows that each check catches what it is
// for, so that TestPagesAreAccessible cannot pass by checking nothing.
func TestAccessibilityChecksFail(t *testing.T) {
	ok := `<main><h1>Title</h1></main>`
	for _, tc := range []struct {
		name, body, want string
	}{
		{"no main", `<h1>Title</h1>`, "want 1 <main>"},
		{"two h1", `<main><h1>A</h1><h1>B</h1></main>`, "want 1 <h1>"},
		{"unlabelled input", ok + `<input id="x" name="x">`, "no label"},
		{"label for another id", ok + `<label for="y">Y</label><input id="x" name="x">`, "no label"},
		{"unlabelled select", ok + `<select name="s"></select>`, "no label"},
		{"image without alt", ok + `<img src="/x.png">`, "no alt"},
		{"frame without title", ok + `<iframe src="https://a.example.com/"></iframe>`, "no title"},
		{"empty button", ok + `<button type="submit"> </button>`, "no text"},
		{"empty link", ok + `<a href="/x"></a>`, "no text"},
		{"error not announced", ok + `<p class="error">Bad</p>`, "role=alert"},
		{"dangling describedby", ok + `<label for="x">X</label><input id="x" aria-describedby="nope">`, "refers to no element"},
		{"invalid without description", ok + `<label for="x">X</label><input id="x" aria-invalid="true">`, "aria-describedby"},
		{"positive tabindex", ok + `<a href="/" tabindex="2">Home</a>`, "tabindex"},
		{"two autofocus", ok + `<label for="a">A</label><input id="a" autofocus><label for="b">B</label><input id="b" autofocus>`, "autofocus"},
		{"duplicate id", ok + `<p id="a">x</p><p id="a">y</p>`, "duplicate id"},
		{"untranslated key", ok + `<p>sign_in.heading</p>`, "untranslated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(`<!doctype html><html lang="en"><body>` + tc.body + `</body></html>`))
			if err != nil {
				t.Fatal(err)
			}
			problems := accessibilityProblems(doc, "en")
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems = %q, want one mentioning %q", problems, tc.want)
			}
		})
	}
	doc, _ := html.Parse(strings.NewReader(`<!doctype html><html lang="en"><body>` + ok + `</body></html>`))
	if p := accessibilityProblems(doc, "en"); len(p) > 0 {
		t.Errorf("a minimal good page has problems: %q", p)
	}
}

// keyShaped matches text that looks like a message key ("sign_in.heading").
var keyShaped = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// untranslated reports whether s is a message key shown as it is: key
// shaped, in one of the source catalog's namespaces (so "example.com" is
// not one).
func untranslated(s string) bool {
	if !keyShaped.MatchString(s) {
		return false
	}
	ns, _, _ := strings.Cut(s, ".")
	return sourceNamespaces()[ns]
}

var sourceNamespaces = sync.OnceValue(func() map[string]bool {
	catalogs, err := loadCatalogs()
	if err != nil {
		panic(err)
	}
	out := map[string]bool{}
	for k := range catalogs[DefaultLanguage] {
		ns, _, _ := strings.Cut(k, ".")
		out[ns] = true
	}
	return out
})

func accessibilityProblems(doc *html.Node, lang string) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	all := elements(doc)
	ids := map[string]*html.Node{}
	labelFor := map[string]bool{}
	count := map[string]int{}
	autofocus := 0
	for _, n := range all {
		count[n.Data]++
		if id := attr(n, "id"); id != "" {
			if ids[id] != nil {
				add("duplicate id %q", id)
			}
			ids[id] = n
		}
		if n.Data == "label" && attr(n, "for") != "" {
			labelFor[attr(n, "for")] = true
		}
		if hasAttr(n, "autofocus") {
			autofocus++
		}
	}
	if html := first(doc, "html"); html == nil || attr(html, "lang") != lang {
		add("<html lang> is not %q", lang)
	}
	if count["main"] != 1 {
		add("found %d <main> elements, want 1 <main>", count["main"])
	}
	if count["h1"] != 1 {
		add("found %d <h1> elements, want 1 <h1>", count["h1"])
	}
	if autofocus > 1 {
		add("%d elements have autofocus, want at most 1", autofocus)
	}
	for _, n := range all {
		desc := describe(n)
		switch n.Data {
		case "input", "select", "textarea":
			typ := attr(n, "type")
			if typ == "hidden" || typ == "submit" || typ == "button" || hasAttr(n, "hidden") {
				break
			}
			if !labelFor[attr(n, "id")] && attr(n, "aria-label") == "" && attr(n, "aria-labelledby") == "" && !inside(n, "label") {
				add("%s has no label", desc)
			}
			if attr(n, "aria-invalid") == "true" && attr(n, "aria-describedby") == "" {
				add("%s is aria-invalid without aria-describedby naming its error", desc)
			}
		case "img":
			if !hasAttr(n, "alt") {
				add("%s has no alt attribute", desc)
			}
		case "iframe":
			if strings.TrimSpace(attr(n, "title")) == "" {
				add("%s has no title", desc)
			}
		case "button", "a":
			if strings.TrimSpace(textOf(n)) == "" && attr(n, "aria-label") == "" {
				add("%s has no text", desc)
			}
		}
		for _, ref := range []string{"aria-describedby", "aria-labelledby"} {
			for _, id := range strings.Fields(attr(n, ref)) {
				if ids[id] == nil {
					add("%s: %s %q refers to no element", desc, ref, id)
				}
			}
		}
		classes := strings.Fields(attr(n, "class"))
		if (slices.Contains(classes, "error") || slices.Contains(classes, "field-error")) && attr(n, "role") != "alert" {
			add("%s shows an error without role=alert", desc)
		}
		if ti, err := strconv.Atoi(attr(n, "tabindex")); err == nil && ti > 0 {
			add("%s has tabindex %s: focus must follow the document order", desc, attr(n, "tabindex"))
		}
		for _, a := range []string{"aria-label", "alt", "placeholder", "title"} {
			if v := attr(n, a); untranslated(v) {
				add("%s: %s %q is an untranslated message key", desc, a, v)
			}
		}
	}
	var text func(*html.Node)
	text = func(n *html.Node) {
		if n.Type == html.TextNode && untranslated(strings.TrimSpace(n.Data)) {
			add("text %q is an untranslated message key", strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			text(c)
		}
	}
	text(doc)
	return problems
}

func elements(n *html.Node) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func first(n *html.Node, tag string) *html.Node {
	for _, e := range elements(n) {
		if e.Data == tag {
			return e
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

func inside(n *html.Node, tag string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == tag {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// describe names an element for a failure message.
func describe(n *html.Node) string {
	s := "<" + n.Data
	for _, k := range []string{"id", "name", "type", "class", "href"} {
		if v := attr(n, k); v != "" {
			s += " " + k + "=" + strconv.Quote(v)
		}
	}
	return s + ">"
}

func newTestRenderer(t *testing.T, b Brand) *Renderer {
	t.Helper()
	r, err := New(b)
	if err != nil {
		t.Fatalf("New(%+v): %v", b, err)
	}
	return r
}
