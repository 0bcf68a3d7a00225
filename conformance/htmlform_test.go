package conformance

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const formsPage = `<!doctype html><html><head><title> Sign in </title><script>var x = "<form>";</script></head>
<body><h1>Welcome</h1>
<form action="/login?x=1" method="POST">
  <input type="hidden" name="csrf" value="tok">
  <input name="identifier" value="prefilled@example.com">
  <input type="password" name="password">
  <input type="checkbox" name="remember" checked>
  <input type="checkbox" name="marketing" value="yes">
  <input type="radio" name="tenant" value="a">
  <input type="radio" name="tenant" value="b" checked>
  <select name="lang"><option value="en">English</option><option value="se" selected>Svenska</option></select>
  <textarea name="note">hello</textarea>
  <input type="text" name="disabled" value="no" disabled>
  <input type="submit" name="op" value="cancel">
  <button name="op" value="signin">Sign in</button>
  <button type="button" name="js" value="x">Show password</button>
</form>
<form><input name="q"></form>
</body></html>`

func TestParsePage(t *testing.T) {
	base, _ := url.Parse("https://op.example.com/authorize?client_id=c")
	p := ParsePage([]byte(formsPage), base)
	if p.Title != "Sign in" {
		t.Errorf("Title = %q, want %q", p.Title, "Sign in")
	}
	if len(p.Forms) != 2 {
		t.Fatalf("forms = %d, want 2 (a <form> inside a script is not a form)", len(p.Forms))
	}
	f := p.Forms[0]
	if f.Method != "POST" || f.Action.String() != "https://op.example.com/login?x=1" {
		t.Errorf("form 0: %s %s, want POST https://op.example.com/login?x=1", f.Method, f.Action)
	}
	if g := p.Forms[1]; g.Method != "GET" || g.Action.String() != base.String() {
		t.Errorf("form 1: %s %s, want GET to the page URL", g.Method, g.Action)
	}
	if !f.Has("identifier") || f.Has("csrf") {
		t.Errorf("Has(identifier) = %v, Has(csrf) = %v; want true, false (hidden fields are not user fields)", f.Has("identifier"), f.Has("csrf"))
	}
	if got := f.Field("identifier").Value; got != "prefilled@example.com" {
		t.Errorf("identifier value = %q, want the prefilled value", got)
	}
	if f.Button("op", "signin") == nil || f.Button("js", "") != nil {
		t.Errorf("buttons: want op=signin found and the type=button control ignored")
	}

	got := f.Values(f.Button("op", "signin"), map[string]string{"password": "pw", "tenant": "a", "extra": "1"})
	want := url.Values{
		"csrf": {"tok"}, "identifier": {"prefilled@example.com"}, "password": {"pw"}, "remember": {"on"},
		"tenant": {"a"}, "lang": {"se"}, "note": {"hello"}, "op": {"signin"}, "extra": {"1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
	noClick := f.Values(nil, nil)
	if noClick.Has("op") || noClick.Get("tenant") != "b" {
		t.Errorf("Values without a click = %v; want no op and the checked radio b", noClick)
	}
}

func TestParamsKeepOrder(t *testing.T) {
	p := Params{{"response_type", "code"}, {"scope", "openid email"}}
	p.Set("state", "a&b")
	p.Set("scope", "openid")
	if got, want := p.Encode(), "response_type=code&scope=openid&state=a%26b"; got != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
	if got, want := p.Reversed().Encode(), "state=a%26b&scope=openid&response_type=code"; got != want {
		t.Errorf("Reversed().Encode = %q, want %q", got, want)
	}
	p.Del("scope")
	if p.Has("scope") || p.Get("state") != "a&b" {
		t.Errorf("after Del(scope): %v", p)
	}
}
