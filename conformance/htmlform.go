package conformance

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Page is what the browserless driver understands of an HTML page: its
// title, a short excerpt of its text (for failure reasons) and its forms.
type Page struct {
	Title string
	Text  string
	Forms []*Form
	// Frames are the iframes' src URLs (front-channel logout), Refresh
	// the target of a <meta http-equiv="refresh">, both resolved against
	// the page URL.
	Frames  []*url.URL
	Refresh *url.URL
	// Links are the pages's <a href> targets, resolved.
	Links []*url.URL
}

// Form is one HTML form, its action resolved against the page URL.
type Form struct {
	Action  *url.URL
	Method  string // "GET" or "POST"
	Enctype string
	// Fields are the successful-control candidates in document order;
	// Buttons are the submit controls, of which only the clicked one is sent.
	Fields  []Field
	Buttons []Field
}

// Field is one form control.
type Field struct {
	Name     string
	Value    string
	Type     string // lower case input type, "select", "textarea" or "button"
	Checked  bool
	Disabled bool
	Options  []string // a select's option values, selected one first
}

// ParsePage parses an HTML document; base resolves relative form actions.
// The tokenizer never fails on malformed markup, so neither does this.
func ParsePage(body []byte, base *url.URL) *Page {
	doc, err := html.Parse(bytes.NewReader(body))
	p := &Page{}
	if err != nil {
		return p
	}
	var text strings.Builder
	var walk func(n *html.Node, form *Form)
	walk = func(n *html.Node, form *Form) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Template:
				return
			case atom.Title:
				p.Title = strings.TrimSpace(nodeText(n))
				return
			case atom.A:
				if href := attr(n, "href"); href != "" {
					if u, err := base.Parse(href); err == nil {
						p.Links = append(p.Links, u)
					}
				}
			case atom.Iframe:
				if u, err := base.Parse(attr(n, "src")); err == nil && attr(n, "src") != "" {
					p.Frames = append(p.Frames, u)
				}
			case atom.Meta:
				if strings.EqualFold(attr(n, "http-equiv"), "refresh") && p.Refresh == nil {
					p.Refresh = refreshTarget(attr(n, "content"), base)
				}
			case atom.Form:
				form = newForm(n, base)
				p.Forms = append(p.Forms, form)
			case atom.Input:
				if form != nil {
					addInput(form, n)
				}
			case atom.Button:
				if form != nil {
					addButton(form, n)
				}
			case atom.Select:
				if form != nil {
					addSelect(form, n)
				}
				return
			case atom.Textarea:
				if form != nil {
					form.Fields = append(form.Fields, Field{Name: attr(n, "name"), Value: nodeText(n), Type: "textarea", Disabled: hasAttr(n, "disabled")})
				}
				return
			}
		}
		if n.Type == html.TextNode && text.Len() < 600 {
			if s := strings.TrimSpace(n.Data); s != "" {
				text.WriteString(s)
				text.WriteString(" ")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, nil)
	p.Text = strings.TrimSpace(text.String())
	if len(p.Text) > 300 {
		p.Text = p.Text[:300] + "…"
	}
	return p
}

// refreshTarget reads the URL of a meta refresh's content ("2;url=…").
func refreshTarget(content string, base *url.URL) *url.URL {
	_, rest, ok := strings.Cut(content, ";")
	if !ok {
		return nil
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 4 || !strings.EqualFold(rest[:4], "url=") {
		return nil
	}
	target := strings.Trim(strings.TrimSpace(rest[4:]), `'"`)
	u, err := base.Parse(target)
	if err != nil || target == "" {
		return nil
	}
	return u
}

func newForm(n *html.Node, base *url.URL) *Form {
	f := &Form{Method: "GET", Enctype: attr(n, "enctype")}
	if strings.EqualFold(attr(n, "method"), "post") {
		f.Method = "POST"
	}
	action := attr(n, "action")
	f.Action = base
	if action != "" {
		if u, err := base.Parse(action); err == nil {
			f.Action = u
		}
	}
	return f
}

func addInput(f *Form, n *html.Node) {
	typ := strings.ToLower(attr(n, "type"))
	if typ == "" {
		typ = "text"
	}
	fd := Field{Name: attr(n, "name"), Value: attr(n, "value"), Type: typ, Checked: hasAttr(n, "checked"), Disabled: hasAttr(n, "disabled")}
	switch typ {
	case "submit", "image":
		f.Buttons = append(f.Buttons, fd)
	case "button", "reset", "file":
		// never submitted by a click on another control
	default:
		if (typ == "checkbox" || typ == "radio") && !hasAttr(n, "value") {
			fd.Value = "on"
		}
		f.Fields = append(f.Fields, fd)
	}
}

func addButton(f *Form, n *html.Node) {
	typ := strings.ToLower(attr(n, "type"))
	if typ != "" && typ != "submit" {
		return
	}
	f.Buttons = append(f.Buttons, Field{Name: attr(n, "name"), Value: attr(n, "value"), Type: "button", Disabled: hasAttr(n, "disabled")})
}

func addSelect(f *Form, n *html.Node) {
	fd := Field{Name: attr(n, "name"), Type: "select", Disabled: hasAttr(n, "disabled")}
	var opts []string
	selected := -1
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if c.Type == html.ElementNode && c.DataAtom == atom.Option {
			v, ok := attrOK(c, "value")
			if !ok {
				v = strings.TrimSpace(nodeText(c))
			}
			if hasAttr(c, "selected") && selected < 0 {
				selected = len(opts)
			}
			opts = append(opts, v)
			return
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(n)
	if selected > 0 {
		opts[0], opts[selected] = opts[selected], opts[0]
	}
	fd.Options = opts
	if len(opts) > 0 {
		fd.Value = opts[0]
	}
	f.Fields = append(f.Fields, fd)
}

// Has reports whether the form has a non-button control with the name.
func (f *Form) Has(name string) bool {
	for _, fd := range f.Fields {
		if fd.Name == name && fd.Type != "hidden" {
			return true
		}
	}
	return false
}

// Field returns the first non-button control with the name, or nil.
func (f *Form) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Button returns the submit control with the name (and value, when value is
// not empty), or nil.
func (f *Form) Button(name, value string) *Field {
	for i := range f.Buttons {
		b := &f.Buttons[i]
		if b.Name == name && (value == "" || b.Value == value) && !b.Disabled {
			return b
		}
	}
	return nil
}

// Values is what a browser would submit when the user clicks button (nil:
// no button, as when pressing Enter) after setting the fields in set. A name
// in set that the form lacks is added, so that configured extra fields reach
// the provider even when its form builds them with JavaScript.
func (f *Form) Values(button *Field, set map[string]string) url.Values {
	v := url.Values{}
	used := map[string]bool{}
	for _, fd := range f.Fields {
		if fd.Name == "" || fd.Disabled {
			continue
		}
		val, override := set[fd.Name]
		switch fd.Type {
		case "checkbox", "radio":
			if override {
				if !used[fd.Name] {
					v.Add(fd.Name, val)
				}
			} else if fd.Checked {
				v.Add(fd.Name, fd.Value)
			}
		default:
			if override {
				if !used[fd.Name] {
					v.Add(fd.Name, val)
				}
			} else {
				v.Add(fd.Name, fd.Value)
			}
		}
		if override {
			used[fd.Name] = true
		}
	}
	for name, val := range set {
		if !used[name] && f.Field(name) == nil {
			v.Set(name, val)
		}
	}
	if button != nil && button.Name != "" {
		v.Add(button.Name, button.Value)
	}
	return v
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := attrOK(n, key)
	return ok
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}
