package conformance

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// startListener starts a Listener on a free loopback port.
func startListener(t *testing.T) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen("http://"+ln.Addr().String()+"/callback", ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

const loginForm = `<!doctype html><title>Sign in</title><form method="post"><input name="identifier"><input type="password" name="password"><button>Go</button></form>`

func TestBrowserNavigate(t *testing.T) {
	l := startListener(t)
	cb := l.RedirectURI()
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, loginForm) })
	mux.HandleFunc("/fragment", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cb+"#code=abc&state=xyz", http.StatusFound)
	})
	mux.HandleFunc("/post-307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		http.Redirect(w, r, cb+"?"+url.Values{"method": {r.Method}, "body": {string(body)}}.Encode(), http.StatusSeeOther)
	})
	mux.HandleFunc("/unknown", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Hello</title><p>Nothing to see.</p>`)
	})
	mux.HandleFunc("/org", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_ = r.ParseForm()
			http.Redirect(w, r, cb+"?org="+r.PostForm.Get("org_id"), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<form method="post"><select name="org_id"><option value="org_1">One</option><option value="org_2">Two</option></select><button>Continue</button></form>`)
	})
	mux.HandleFunc("/form-post", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="post" action="%s"><input type="hidden" name="code" value="c1"><input type="hidden" name="state" value="s1"></form>`, cb)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := Config{User: User{Identifier: "u", Password: "p"}}.WithDefaults()

	navigate := func(t *testing.T, method, path, body string, nav Navigation) *Outcome {
		t.Helper()
		b := NewBrowser(srv.Client(), cfg, l)
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		out, err := b.Navigate(context.Background(), req, nav)
		if err != nil {
			t.Fatalf("Navigate %s: %v", path, err)
		}
		return out
	}

	t.Run("login page that keeps coming back", func(t *testing.T) {
		out := navigate(t, http.MethodGet, "/loop", "", Navigation{})
		if out.Stop == nil || !out.Stop.LoginPage || out.Logins != 3 || !strings.Contains(out.Stop.Reason, "came back") {
			t.Errorf("outcome = %+v, stop %+v; want a stop at the login page after 3 sign-ins", out, out.Stop)
		}
	})
	t.Run("no interaction stops at the login page", func(t *testing.T) {
		out := navigate(t, http.MethodGet, "/loop", "", Navigation{NoInteraction: true})
		if out.Stop == nil || !out.Stop.LoginPage || out.Logins != 0 || !out.LoginShown {
			t.Errorf("outcome = %+v, stop %+v; want a stop at the login page without signing in", out, out.Stop)
		}
	})
	t.Run("fragment read from the Location", func(t *testing.T) {
		out := navigate(t, http.MethodGet, "/fragment", "", Navigation{})
		if out.Callback == nil || out.Callback.Fragment.Get("code") != "abc" || out.Callback.Query.Has("code") {
			t.Fatalf("callback = %+v; want code=abc in the fragment only", out.Callback)
		}
		if rec := out.Callback.Received; rec == nil || rec.Method != http.MethodGet || rec.Path != "/callback" {
			t.Errorf("received = %+v; want a GET to /callback", rec)
		}
	})
	t.Run("307 repeats the POST", func(t *testing.T) {
		out := navigate(t, http.MethodPost, "/post-307", "a=1", Navigation{})
		if out.Callback == nil || out.Callback.Query.Get("method") != "POST" || out.Callback.Query.Get("body") != "a=1" {
			t.Errorf("callback = %+v; want the POST body replayed after 307", out.Callback)
		}
	})
	t.Run("unknown page", func(t *testing.T) {
		out := navigate(t, http.MethodGet, "/unknown", "", Navigation{})
		if out.Stop == nil || out.Stop.Title != "Hello" || !strings.Contains(out.Stop.Describe(), "Nothing to see") {
			t.Errorf("stop = %+v; want a stop at the unknown page with its title and text", out.Stop)
		}
	})
	t.Run("organization chooser posts the first org_id", func(t *testing.T) {
		out := navigate(t, http.MethodGet, "/org", "", Navigation{})
		if out.Callback == nil || out.Callback.Query.Get("org") != "org_1" || out.Organizations != 1 {
			t.Errorf("outcome = %+v; want org_1 chosen", out)
		}
	})
	t.Run("form_post page", func(t *testing.T) {
		out := navigate(t, http.MethodGet, "/form-post", "", Navigation{})
		cb := out.Callback
		if cb == nil || cb.Via != "form" || cb.FormMethod != http.MethodPost || cb.Form.Get("code") != "c1" {
			t.Fatalf("callback = %+v; want the form read", cb)
		}
		if rec := cb.Received; rec == nil || rec.Method != http.MethodPost || rec.Form.Get("state") != "s1" || rec.ContentType != "application/x-www-form-urlencoded" {
			t.Errorf("received = %+v; want the form POSTed to the listener", rec)
		}
	})
}

func TestListenerServesDocuments(t *testing.T) {
	l := startListener(t)
	uri, remove := l.Serve("/request-objects/x", "application/oauth-authz-req+jwt", []byte("a.b."))
	get := func() (*http.Response, string) {
		resp, err := http.Get(uri)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get()
	if body != "a.b." || resp.Header.Get("Content-Type") != "application/oauth-authz-req+jwt" {
		t.Errorf("served %q as %q; want the request object", body, resp.Header.Get("Content-Type"))
	}
	remove()
	if _, body := get(); body == "a.b." {
		t.Errorf("after remove the document is still served")
	}
	u, _ := url.Parse(l.RedirectURI())
	other, _ := url.Parse("http://127.0.0.2:1/callback")
	if !l.IsRedirectURI(u) || l.Owns(other) {
		t.Errorf("IsRedirectURI(own) = %v, Owns(other origin) = %v; want true, false", l.IsRedirectURI(u), l.Owns(other))
	}
}

func TestCustomLoginForm(t *testing.T) {
	modules := []string{"oidcc-server", "oidcc-server-client-secret-post", "oidcc-prompt-login", "oidcc-login-hint", "oidcc-max-age-1", "oidcc-refresh-token"}
	t.Run("described", func(t *testing.T) {
		h := newHarness(t, styleCustom)
		report, out := h.run(t, []Plan{BasicPlan()}, modules...)
		for name, res := range results(report) {
			if res.Status != StatusPass || len(res.Warnings) > 0 {
				t.Errorf("%s: %s %q warnings %q; want PASS\n%s", name, res.Status, res.Reason, res.Warnings, out)
			}
		}
		if len(results(report)) != len(modules) {
			t.Errorf("ran %d modules, want %d", len(results(report)), len(modules))
		}
	})
	t.Run("not described", func(t *testing.T) {
		h := newHarness(t, styleCustom)
		h.cfg.Login = LoginForm{}
		report, _ := h.run(t, []Plan{BasicPlan()}, "oidcc-server")
		if res := results(report)["basic/oidcc-server"]; res.Status != StatusFail || !strings.Contains(res.Reason, "does not know how to continue") {
			t.Errorf("oidcc-server with orgid's form contract against another form: %s %q; want FAIL at an unknown page", res.Status, res.Reason)
		}
	})
}

func TestRedirectURIQueryIsKept(t *testing.T) {
	h := newHarness(t, styleOrgid)
	h.cfg.RedirectURI += "?dummy1=lorem&dummy2=ipsum"
	h.op.redirectURI = h.cfg.RedirectURI
	report, out := h.run(t, []Plan{BasicPlan(), FormPostPlan()}, "oidcc-server")
	for name, res := range results(report) {
		if res.Status != StatusPass {
			t.Errorf("%s with a redirect URI that has a query: %s %q\n%s", name, res.Status, res.Reason, out)
		}
	}
}
