package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// maxSteps bounds one navigation: redirects plus submitted forms.
const maxSteps = 30

// userAgent names the runner to the provider's logs.
const userAgent = "orgid-conformance/1"

// Browser is a browserless user agent: an HTTP client with its own cookie
// jar that follows redirects one at a time (so that it sees every Location,
// fragments included), fills the sign-in, consent and organization forms the
// LoginForm describes, and stops when the provider sends it to the runner's
// Listener or shows a page it cannot get past. It never runs JavaScript; a
// form_post response page is read as a form and submitted.
type Browser struct {
	client   *http.Client
	form     LoginForm
	formURL  *regexp.Regexp
	user     User
	listener *Listener
	// logoutConfirm is the button of the logout confirmation page.
	logoutConfirm Button
}

// NewBrowser returns a browser with an empty cookie jar. base supplies the
// transport and timeout; its jar and redirect policy are not used.
func NewBrowser(base *http.Client, cfg Config, l *Listener) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	c := &http.Client{
		Transport: base.Transport,
		Timeout:   base.Timeout,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	b := &Browser{client: c, form: cfg.Login, user: cfg.User, listener: l, logoutConfirm: cfg.Login.LogoutConfirm}
	if cfg.Login.URLPattern != "" {
		b.formURL = regexp.MustCompile(cfg.Login.URLPattern) // Config.Validate compiled it
	}
	return b
}

// Navigation says how far the browser may interact.
type Navigation struct {
	// NoInteraction stops at the first login, consent or organization page
	// instead of filling it: the provider was asked not to show one.
	NoInteraction bool
}

// Outcome is where a navigation ended and what the browser did on the way.
// Exactly one of Callback and Stop is set.
type Outcome struct {
	Callback *Callback
	Stop     *Stop

	// LoginShown is true when a login form was seen; Logins counts the
	// login forms submitted, Consents and Organizations the other pages.
	LoginShown    bool
	Logins        int
	Consents      int
	Organizations int
	// LoginPrefill is the identifier field's value on the first login page
	// (login_hint should put it there).
	LoginPrefill string
	// Visited lists the URLs requested, without query (for failure reasons).
	Visited []string
}

// Callback is a response the provider sent to the runner's Listener.
type Callback struct {
	// URL is where the provider sent the browser: the Location (fragment
	// included) or the form_post form's action.
	URL *url.URL
	// Via is "redirect" or "form" (a form_post page).
	Via string
	// FormMethod is the form_post form's method ("POST" or "GET").
	FormMethod string
	Query      url.Values
	Fragment   url.Values
	// Form holds the fields of a form_post page.
	Form url.Values
	// Received is what the Listener got when the browser went there.
	Received *Received
}

// Stop is a page the browser could not, or was told not to, get past.
type Stop struct {
	URL       string
	Status    int
	Title     string
	Text      string
	LoginPage bool
	Reason    string
	// Page is the page as parsed and PageURL where it was, for modules
	// that go on from it (a logout confirmation, front-channel frames);
	// Header is its response header.
	Page    *Page
	PageURL *url.URL
	Header  http.Header
}

// Describe is a one-line summary for failure reasons.
func (s *Stop) Describe() string {
	d := fmt.Sprintf("%s (HTTP %d at %s", s.Reason, s.Status, s.URL)
	if s.Title != "" {
		d += fmt.Sprintf(", title %q", s.Title)
	}
	if s.Text != "" {
		text := s.Text
		if len(text) > 120 {
			text = text[:120] + "…"
		}
		d += fmt.Sprintf(", text %q", text)
	}
	return d + ")"
}

// Navigate sends req and follows the provider until it answers the runner
// or stops. The error is a transport failure only; what the provider did is
// in the Outcome.
func (b *Browser) Navigate(ctx context.Context, req *http.Request, nav Navigation) (*Outcome, error) {
	out := &Outcome{}
	loginSubmits, otherSubmits := 0, 0
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", userAgent)
	for step := 0; step < maxSteps; step++ {
		out.Visited = append(out.Visited, stripQuery(req.URL))
		resp, body, err := b.do(req)
		if err != nil {
			return out, err
		}
		if isRedirect(resp.StatusCode) {
			loc := resp.Header.Get("Location")
			if loc == "" {
				out.Stop = &Stop{URL: stripQuery(req.URL), Status: resp.StatusCode, Reason: "redirect without a Location"}
				return out, nil
			}
			target, err := req.URL.Parse(loc)
			if err != nil {
				out.Stop = &Stop{URL: stripQuery(req.URL), Status: resp.StatusCode, Reason: fmt.Sprintf("redirect to an invalid Location %q", loc)}
				return out, nil
			}
			if b.listener.Owns(target) {
				out.Callback, err = b.arriveByRedirect(ctx, target)
				return out, err
			}
			req, err = b.follow(ctx, req, resp.StatusCode, target)
			if err != nil {
				return out, err
			}
			continue
		}
		page := &Page{}
		if isHTML(resp.Header.Get("Content-Type")) {
			page = ParsePage(body, resp.Request.URL)
		} else {
			page.Text = excerpt(body)
		}
		stop := &Stop{URL: stripQuery(resp.Request.URL), Status: resp.StatusCode, Title: page.Title, Text: page.Text,
			Page: page, PageURL: resp.Request.URL, Header: resp.Header}
		if resp.StatusCode != http.StatusOK {
			stop.Reason = "the provider answered with an error page"
			out.Stop = stop
			return out, nil
		}
		if f := b.formPostForm(page); f != nil {
			out.Callback, err = b.arriveByForm(ctx, resp.Request.URL, f)
			return out, err
		}
		next, kind := b.interact(page, resp.Request.URL, out)
		switch {
		case kind == "":
			stop.Reason = "a page the driver does not know how to continue from"
			out.Stop = stop
			return out, nil
		case nav.NoInteraction:
			stop.Reason = "the provider showed its " + kind + " page"
			stop.LoginPage = kind == "login"
			out.Stop = stop
			return out, nil
		case kind == "login" && loginSubmits >= 3:
			stop.Reason = "the login page came back after signing in three times (wrong credentials, or a sign-in step the driver does not know)"
			stop.LoginPage = true
			out.Stop = stop
			return out, nil
		case kind != "login" && otherSubmits >= 6:
			stop.Reason = "the " + kind + " page keeps coming back"
			out.Stop = stop
			return out, nil
		}
		switch kind {
		case "login":
			loginSubmits++
			out.Logins++
		case "consent":
			otherSubmits++
			out.Consents++
		case "organization":
			otherSubmits++
			out.Organizations++
		}
		req, err = b.submitRequest(ctx, resp.Request.URL, next.form, next.button, next.set)
		if err != nil {
			return out, err
		}
	}
	out.Stop = &Stop{URL: stripQuery(req.URL), Reason: fmt.Sprintf("no answer to the runner after %d steps", maxSteps)}
	return out, nil
}

func (b *Browser) do(req *http.Request) (*http.Response, []byte, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", req.Method, stripQuery(req.URL), transportError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", stripQuery(req.URL), err)
	}
	return resp, body, nil
}

// follow builds the request a browser makes for a redirect: 307 and 308
// repeat the method and body, the others become a GET.
func (b *Browser) follow(ctx context.Context, prev *http.Request, status int, target *url.URL) (*http.Request, error) {
	if (status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect) && prev.Method == http.MethodPost && prev.GetBody != nil {
		body, err := prev.GetBody()
		if err != nil {
			return nil, fmt.Errorf("replay POST body: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), body)
		if err != nil {
			return nil, fmt.Errorf("follow redirect: %w", transportError(err))
		}
		req.Header.Set("Content-Type", prev.Header.Get("Content-Type"))
		req.Header.Set("User-Agent", userAgent)
		return req, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("follow redirect: %w", transportError(err))
	}
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// arriveByRedirect records a redirect to the runner, then goes there as a
// browser would (without the fragment, which never leaves a browser).
func (b *Browser) arriveByRedirect(ctx context.Context, target *url.URL) (*Callback, error) {
	cb := &Callback{URL: target, Via: "redirect", Query: target.Query()}
	if target.Fragment != "" {
		cb.Fragment, _ = url.ParseQuery(target.EscapedFragment())
	}
	dest := *target
	dest.Fragment, dest.RawFragment = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dest.String(), nil)
	if err != nil {
		return cb, fmt.Errorf("go to callback: %w", transportError(err))
	}
	cb.Received, err = b.receive(req)
	return cb, err
}

// formPostForm finds a form whose action is the runner's Listener: the
// auto-submitting page of response_mode=form_post.
func (b *Browser) formPostForm(p *Page) *Form {
	for _, f := range p.Forms {
		if b.listener.Owns(f.Action) {
			return f
		}
	}
	return nil
}

// arriveByForm submits a form_post page's form to the runner.
func (b *Browser) arriveByForm(ctx context.Context, page *url.URL, f *Form) (*Callback, error) {
	values := f.Values(nil, nil)
	cb := &Callback{URL: f.Action, Via: "form", FormMethod: f.Method, Query: f.Action.Query(), Form: values}
	req, err := b.submitRequest(ctx, page, f, nil, nil)
	if err != nil {
		return cb, err
	}
	cb.Received, err = b.receive(req)
	return cb, err
}

func (b *Browser) receive(req *http.Request) (*Received, error) {
	req.Header.Set("User-Agent", userAgent)
	resp, body, err := b.do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil
	}
	var rec Received
	if json.Unmarshal(body, &rec) != nil {
		return nil, nil
	}
	return &rec, nil
}

// submission is a form to submit with the button clicked and fields set.
type submission struct {
	form   *Form
	button *Field
	set    map[string]string
}

// interact recognises the login, consent and organization pages and says
// how to get past them; kind is "" for any other page.
func (b *Browser) interact(p *Page, u *url.URL, out *Outcome) (submission, string) {
	if f := b.loginForm(p, u); f != nil {
		set := map[string]string{}
		if id := f.Field(b.form.IdentifierField); id != nil && id.Type != "hidden" {
			if !out.LoginShown {
				out.LoginPrefill = id.Value
			}
			set[b.form.IdentifierField] = b.user.Identifier
		}
		out.LoginShown = true
		if f.Has(b.form.PasswordField) {
			set[b.form.PasswordField] = b.user.Password
		}
		for k, v := range b.form.ExtraFields {
			set[k] = v
		}
		return submission{form: f, button: b.pickButton(f, b.form.Submit), set: set}, "login"
	}
	for _, f := range p.Forms {
		if btn := f.Button(b.form.Consent.Name, b.form.Consent.Value); btn != nil {
			return submission{form: f, button: btn}, "consent"
		}
	}
	for _, f := range p.Forms {
		if btn := f.Button(b.form.OrganizationField, ""); btn != nil {
			return submission{form: f, button: btn}, "organization"
		}
		if fd := f.Field(b.form.OrganizationField); fd != nil && fd.Value != "" {
			return submission{form: f, button: b.pickButton(f, Button{}), set: map[string]string{fd.Name: fd.Value}}, "organization"
		}
	}
	return submission{}, ""
}

func (b *Browser) loginForm(p *Page, u *url.URL) *Form {
	if b.formURL != nil && !b.formURL.MatchString(u.String()) {
		return nil
	}
	for _, f := range p.Forms {
		if f.Has(b.form.IdentifierField) || f.Has(b.form.PasswordField) {
			return f
		}
	}
	return nil
}

// pickButton returns the configured button (made up when the form builds it
// with JavaScript), else the form's first enabled submit button.
func (b *Browser) pickButton(f *Form, want Button) *Field {
	if want.Name != "" {
		if btn := f.Button(want.Name, want.Value); btn != nil {
			return btn
		}
		return &Field{Name: want.Name, Value: want.Value, Type: "button"}
	}
	for i := range f.Buttons {
		if !f.Buttons[i].Disabled {
			return &f.Buttons[i]
		}
	}
	return nil
}

// submitRequest builds the request a browser sends for a form submission,
// with the Origin and Referer a browser adds.
func (b *Browser) submitRequest(ctx context.Context, page *url.URL, f *Form, button *Field, set map[string]string) (*http.Request, error) {
	values := f.Values(button, set)
	var req *http.Request
	var err error
	if f.Method == http.MethodPost {
		body := values.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, f.Action.String(), strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", page.Scheme+"://"+page.Host)
		}
	} else {
		target := *f.Action
		target.RawQuery = values.Encode()
		target.Fragment = ""
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("submit form to %s: %w", stripQuery(f.Action), transportError(err))
	}
	req.Header.Set("Referer", stripQuery(page))
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// transportError drops the *url.Error wrapper, whose text repeats the whole
// URL — query included, which may carry state, codes or request objects.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}

// stripQuery renders a URL without query and fragment, which may carry
// codes, tokens or state.
func stripQuery(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.RawQuery, c.Fragment, c.RawFragment, c.User = "", "", "", nil
	return c.String()
}

func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
