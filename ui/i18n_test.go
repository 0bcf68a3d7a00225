package ui

import (
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/google/go-cmp/cmp"
)

// templateKeys returns every message key a template names literally, with
// the page it is on: {{t "key"}}, {{th "key" …}}, and for {{tn "key" n}}
// key.one and key.other.
func templateKeys(t *testing.T) map[string][]string {
	t.Helper()
	r := newTestRenderer(t, Brand{})
	keys := map[string][]string{}
	for page, tmpl := range r.pages[DefaultLanguage] {
		for _, named := range tmpl.Templates() {
			if named.Tree == nil {
				continue
			}
			walkTemplate(named.Tree.Root, func(fn, key string) {
				if fn == "tn" {
					keys[key+".one"] = append(keys[key+".one"], page)
					keys[key+".other"] = append(keys[key+".other"], page)
					return
				}
				keys[key] = append(keys[key], page)
			})
		}
	}
	return keys
}

// walkTemplate calls found for every call of t, th or tn whose key is a
// string literal.
func walkTemplate(n parse.Node, found func(fn, key string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, found)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, found)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, found)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, found)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, found)
	case *parse.TemplateNode:
		walkTemplate(n.Pipe, found)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, found)
		}
	case *parse.CommandNode:
		if len(n.Args) >= 2 {
			if id, ok := n.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "t" || id.Ident == "th" || id.Ident == "tn") {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					found(id.Ident, s.Text)
				}
			}
		}
		for _, a := range n.Args {
			walkTemplate(a, found)
		}
	}
}

func walkBranch(b *parse.BranchNode, found func(fn, key string)) {
	walkTemplate(b.Pipe, found)
	walkTemplate(b.List, found)
	walkTemplate(b.ElseList, found)
}

func TestTemplateKeysAreInTheSourceCatalog(t *testing.T) {
	catalogs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	keys := templateKeys(t)
	if len(keys) < 100 {
		t.Fatalf("found %d keys in the templates; the walk is broken", len(keys))
	}
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		if _, ok := catalogs[DefaultLanguage][key]; !ok {
			t.Errorf("key %q (used by %v) is missing from locales/%s.json", key, slices.Compact(slices.Sorted(slices.Values(keys[key]))), DefaultLanguage)
		}
	}
}

func TestCatalogsMatchTheSource(t *testing.T) {
	catalogs, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	source := catalogs[DefaultLanguage]
	for _, lang := range Languages() {
		if lang == DefaultLanguage {
			continue
		}
		t.Run(lang, func(t *testing.T) {
			c := catalogs[lang]
			for _, key := range slices.Sorted(maps.Keys(c)) {
				en, ok := source[key]
				if !ok {
					t.Errorf("key %q is in locales/%s.json but not in locales/%s.json", key, lang, DefaultLanguage)
					continue
				}
				if diff := cmp.Diff(placeholders(en), placeholders(c[key])); diff != "" {
					t.Errorf("key %q: placeholders differ from the source (-%s +%s):\n%s", key, DefaultLanguage, lang, diff)
				}
				if strings.TrimSpace(c[key]) == "" {
					t.Errorf("key %q is empty", key)
				}
			}
			// A missing key falls back to English at run time; the
			// catalogs orgid ships are kept complete.
			for _, key := range slices.Sorted(maps.Keys(source)) {
				if _, ok := c[key]; !ok {
					t.Errorf("key %q has no %s translation", key, lang)
				}
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	for _, tc := range []struct {
		uiLocales, accept, want string
	}{
		{"", "", "en"},
		{"de", "", "de"},
		{"de-CH", "", "de"},
		{"fr-CA en", "", "fr"},
		{"ja es", "", "es"},                // first supported tag of ui_locales
		{"ja", "fr;q=0.5, de;q=0.9", "de"}, // then Accept-Language by q
		{"", "es-MX,es;q=0.9,en;q=0.8", "es"},
		{"", "pt-BR, it;q=0.8", "en"},
		{"", "*", "en"},
		{"ca", "", "en"}, // a related language is not a match
		{"not a tag!", "de", "de"},
		{"EN-gb", "de", "en"},
		{"", strings.Repeat("de,", 2000), "en"}, // oversized header ignored
		{"", "fr;q=0, de", "de"},
	} {
		if got := Language(tc.uiLocales, tc.accept); got != tc.want {
			t.Errorf("Language(%q, %.30q) = %q, want %q", tc.uiLocales, tc.accept, got, tc.want)
		}
	}
}

func TestRequestLanguage(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/organizations?ui_locales=fr", nil)
	r.Header.Set("Accept-Language", "de")
	if got := RequestLanguage(r); got != "fr" {
		t.Errorf("RequestLanguage(ui_locales=fr, Accept-Language de) = %q, want fr", got)
	}
	r = httptest.NewRequest(http.MethodGet, "/organizations", nil)
	r.Header.Set("Accept-Language", "de")
	if got := RequestLanguage(r); got != "de" {
		t.Errorf("RequestLanguage(Accept-Language de) = %q, want de", got)
	}
}

func TestMissingKeyFallsBackToEnglish(t *testing.T) {
	l := localizer{lang: "de", msgs: catalog{"a": "Deutsch"}, fallback: catalog{"a": "English", "b": "Only English {x}"}}
	for _, tc := range []struct {
		key  any
		args []any
		want string
	}{
		{"a", nil, "Deutsch"},
		{"b", []any{"x", 1}, "Only English 1"},
		{"Dynamic text: not a key.", nil, "Dynamic text: not a key."},
		{Msg("b", "x", "y"), nil, "Only English y"},
	} {
		if got := l.text(tc.key, tc.args...); got != tc.want {
			t.Errorf("text(%v, %v) = %q, want %q", tc.key, tc.args, got, tc.want)
		}
	}
}

func TestFill(t *testing.T) {
	for _, tc := range []struct {
		s    string
		args []any
		want string
	}{
		{"Join {org}", []any{"org", "Acme"}, "Join Acme"},
		{"{a} and {b}, {a}", []any{"b", 2, "a", 1}, "1 and 2, 1"},
		{"{unknown} stays", []any{"x", 1}, "{unknown} stays"},
		{"unbalanced {brace", []any{"brace", 1}, "unbalanced {brace"},
		{"no args {x}", nil, "no args {x}"},
		{"odd args {x}", []any{"x"}, "odd args {x}"},
	} {
		if got := fill(tc.s, tc.args, func(v any) string { return fmt.Sprint(v) }); got != tc.want {
			t.Errorf("fill(%q, %v) = %q, want %q", tc.s, tc.args, got, tc.want)
		}
	}
}

func TestHTMLMessagesEscape(t *testing.T) {
	l := localizer{lang: "en", msgs: catalog{"k": "<b>{name}</b> & {who}"}, fallback: catalog{}}
	got := l.html("k", "name", "<script>", "who", template.HTML("<strong>Ada</strong>"))
	want := template.HTML("&lt;b&gt;&lt;script&gt;&lt;/b&gt; &amp; <strong>Ada</strong>")
	if got != want {
		t.Errorf("html() = %q, want %q (catalog text and plain arguments escaped, strong kept)", got, want)
	}
}

func TestPlural(t *testing.T) {
	c := catalog{"n.one": "{count} code", "n.other": "{count} codes"}
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 0, "0 codes"}, {"en", 1, "1 code"}, {"en", 2, "2 codes"},
		{"fr", 0, "0 code"}, {"fr", 1, "1 code"}, {"fr", 2, "2 codes"},
		{"de", 1, "1 code"}, {"es", 5, "5 codes"},
	} {
		l := localizer{lang: tc.lang, msgs: c, fallback: c}
		if got := l.plural("n", tc.n); got != tc.want {
			t.Errorf("%s plural(n, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
		if got := l.text(PluralMsg("n", tc.n)); got != tc.want {
			t.Errorf("%s text(PluralMsg(n, %d)) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

func TestRenderTranslatesTitleAndSetsLanguage(t *testing.T) {
	r := newTestRenderer(t, Brand{Name: "Acme ID"})
	for _, tc := range []struct {
		lang, title   string
		titleArgs     []any
		wantLang      string
		wantTitle     string
		wantInBodyKey string
	}{
		{"de", "sign_in.heading", nil, "de", "Anmelden · Acme ID", "sign_in.submit"},
		{"de-AT", "sign_in.heading", nil, "de", "Anmelden · Acme ID", "sign_in.submit"},
		{"fr", "common.join_org", []any{"org", "Acme"}, "fr", "Rejoindre Acme · Acme ID", "sign_in.submit"},
		{"ja", "sign_in.heading", nil, "en", "Sign in · Acme ID", "sign_in.submit"},
		{"", "Acme Corporation", nil, "en", "Acme Corporation · Acme ID", "sign_in.submit"},
		{"es", "sign_in.heading", nil, "es", "Iniciar sesión · Acme ID", "sign_in.submit"},
	} {
		t.Run(tc.lang+"/"+tc.title, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.Render(w, http.StatusOK, "sign-in", tc.title, tc.lang, map[string]any{"Action": "/sign-in"}, tc.titleArgs...)
			body := w.Body.String()
			if !strings.Contains(body, `<html lang="`+tc.wantLang+`">`) {
				t.Errorf("page does not start <html lang=%q>: %.120s", tc.wantLang, body)
			}
			if got := w.Header().Get("Content-Language"); got != tc.wantLang {
				t.Errorf("Content-Language = %q, want %q", got, tc.wantLang)
			}
			if !strings.Contains(body, "<title>"+template.HTMLEscapeString(tc.wantTitle)+"</title>") {
				t.Errorf("page has no <title>%s</title>", tc.wantTitle)
			}
			want := r.locale[tc.wantLang].text(tc.wantInBodyKey)
			if !strings.Contains(body, ">"+want+"</button>") {
				t.Errorf("page has no button %q", want)
			}
		})
	}
}

func TestRenderKeepsFormContract(t *testing.T) {
	// Field names and button values are what clients, tests and the
	// conformance suite's login-form description rely on: no language
	// changes them.
	r := newTestRenderer(t, Brand{})
	for _, lang := range Languages() {
		w := httptest.NewRecorder()
		r.Render(w, http.StatusOK, "sign-in", "sign_in.heading", lang, map[string]any{"Action": "/sign-in", "Flow": "f"})
		for _, want := range []string{`name="identifier"`, `name="password"`, `name="flow"`} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("%s sign-in page lacks %s", lang, want)
			}
		}
		w = httptest.NewRecorder()
		r.Render(w, http.StatusOK, "consent", "consent.title", lang, map[string]any{"Action": "/consent", "Flow": "f", "ClientName": "C", "UserEmail": "u@example.com"})
		for _, want := range []string{`name="action" value="allow"`, `name="action" value="deny"`} {
			if !strings.Contains(w.Body.String(), want) {
				t.Errorf("%s consent page lacks %s", lang, want)
			}
		}
		w = httptest.NewRecorder()
		r.Render(w, http.StatusOK, "choose-organization", "choose_org.heading", lang, map[string]any{"Action": "/c", "Flow": "f", "Organizations": []map[string]string{{"ID": "org_1", "Name": "A", "Role": "r"}}})
		if !strings.Contains(w.Body.String(), `name="org_id" value="org_1"`) {
			t.Errorf("%s chooser lacks org_id", lang)
		}
	}
}

func TestMessagesInsideMessagesAreTranslated(t *testing.T) {
	l := localizer{lang: "de", msgs: catalog{
		"device":  "{browser} unter {system}",
		"mail":    "{change} Prüfen Sie das.",
		"changed": "Passwort von {name} geändert.",
		"label":   "{device} abmelden",
	}, fallback: catalog{}}
	device := Msg("device", "browser", "Firefox", "system", "Linux")
	for _, tc := range []struct {
		key  any
		args []any
		want string
	}{
		{"label", []any{"device", device}, "Firefox unter Linux abmelden"},
		{Msg("mail", "change", Msg("changed", "name", "Ada")), nil, "Passwort von Ada geändert. Prüfen Sie das."},
		// A plain string argument is shown as it is, even when it is a key.
		{"label", []any{"device", "device"}, "device abmelden"},
	} {
		if got := l.text(tc.key, tc.args...); got != tc.want {
			t.Errorf("text(%v, %v) = %q, want %q", tc.key, tc.args, got, tc.want)
		}
	}
	l.msgs["x"] = "<i>{device}</i>"
	if got, want := l.html("x", "device", Msg("device", "browser", "<script>", "system", "Linux")), template.HTML("&lt;i&gt;&lt;script&gt; unter Linux&lt;/i&gt;"); got != want {
		t.Errorf("html() = %q, want %q (a translated argument is escaped)", got, want)
	}
}

func TestRendererTextTakesKeysAndMessages(t *testing.T) {
	r := newTestRenderer(t, Brand{})
	for _, tc := range []struct {
		lang string
		key  any
		args []any
		want string
	}{
		{"de", "sign_in.heading", nil, "Anmelden"},
		{"fr-CA", PluralMsg("common.throttled", 1), nil, "Trop de tentatives. Réessayez dans 1 minute."},
		{"es", Msg("sign_in.error.upstream_failed", "provider", "Acme"), nil, "No se ha podido iniciar sesión con Acme. Vuelve a intentarlo."},
		{"ja", "mail.code.subject", []any{"code", "123456", "service", "id.example.com"}, "123456 is your id.example.com verification code"},
		{"de", "Not a key.", nil, "Not a key."},
	} {
		if got := r.Text(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("Text(%q, %v, %v) = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
}
