package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestBrandValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		brand   Brand
		wantErr string
	}{
		{"empty takes defaults", Brand{}, ""},
		{"everything", Brand{Name: "Acme ID", LogoURL: "https://cdn.example.com/logo.svg", AccentColor: "#0A0", BackgroundColor: "#fafafa"}, ""},
		{"data png logo", Brand{LogoURL: "data:image/png;base64,iVBORw0KGgo="}, ""},
		{"data svg logo", Brand{LogoURL: "data:image/svg+xml,%3Csvg%3E%3C/svg%3E"}, ""},
		{"http logo", Brand{LogoURL: "http://cdn.example.com/logo.png"}, "https"},
		{"javascript logo", Brand{LogoURL: "javascript:alert(1)"}, "https"},
		{"relative logo", Brand{LogoURL: "/logo.png"}, "https"},
		{"logo with credentials", Brand{LogoURL: "https://u:p@cdn.example.com/l.png"}, "https"},
		{"data html logo", Brand{LogoURL: "data:text/html,<script>alert(1)</script>"}, "data:"},
		{"data logo without payload", Brand{LogoURL: "data:image/png;base64,"}, "data:"},
		{"huge logo", Brand{LogoURL: "data:image/png;base64," + strings.Repeat("A", maxLogoURL)}, "at most"},
		{"accent injection", Brand{AccentColor: "red;}body{display:none"}, "accent"},
		{"accent name", Brand{AccentColor: "red"}, "accent"},
		{"background five digits", Brand{BackgroundColor: "#12345"}, "background"},
		{"long name", Brand{Name: strings.Repeat("x", maxBrandName+1)}, "brand name"},
		{"control in name", Brand{Name: "Acme\nID"}, "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.brand.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.wantErr)
			}
			if _, nerr := New(tc.brand); (nerr == nil) != (err == nil) {
				t.Errorf("New() = %v, Validate() = %v: want them to agree", nerr, err)
			}
		})
	}
}

func TestContrast(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#777777", "#ffffff", 4.48}, // the classic just-fails-AA grey
	} {
		if got := contrast(parseColor(tc.a), parseColor(tc.b)); got < tc.want-0.01 || got > tc.want+0.01 {
			t.Errorf("contrast(%s, %s) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTextOnAccent(t *testing.T) {
	for _, tc := range []struct{ accent, want string }{
		{"#4f46e5", "#ffffff"}, // indigo: white
		{"#000", "#ffffff"},
		{"#ffd400", "#1c1c28"}, // yellow: near-black
		{"#fff", "#1c1c28"},
		{"#22c55e", "#1c1c28"}, // a light green reads better dark
		{"#b42318", "#ffffff"},
	} {
		accent := parseColor(tc.accent)
		got := textOn(accent)
		if got.hex() != tc.want {
			t.Errorf("textOn(%s) = %s, want %s", tc.accent, got.hex(), tc.want)
		}
		other := white
		if got == white {
			other = nearBlack
		}
		if contrast(got, accent) < contrast(other, accent) {
			t.Errorf("textOn(%s) = %s has less contrast than %s", tc.accent, got.hex(), other.hex())
		}
	}
}

func TestReadableLinkColour(t *testing.T) {
	for _, accent := range []string{"#4f46e5", "#ffd400", "#22c55e", "#000000", "#ffffff", "#777", "#0ea5e9"} {
		for _, bg := range []rgb{cardLight, cardDark} {
			got := readableOn(parseColor(accent), bg)
			if c := contrast(got, bg); c < minContrast {
				t.Errorf("readableOn(%s, %s) = %s with contrast %.2f, want ≥ %.1f", accent, bg.hex(), got.hex(), c, minContrast)
			}
		}
	}
	// An accent that already reads well is kept as it is.
	if got := readableOn(parseColor("#1d4ed8"), cardLight).hex(); got != "#1d4ed8" {
		t.Errorf("readableOn(#1d4ed8, white) = %s, want the accent unchanged", got)
	}
}

func TestThemeStylesheet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		brand Brand
		want  []string
		not   []string
	}{
		{"default", Brand{}, []string{"--accent: #4f46e5;", "--on-accent: #ffffff;", "--link: #4f46e5;"}, []string{"--page-bg"}},
		{"yellow on a dark page", Brand{AccentColor: "#FD0", BackgroundColor: "#112"}, []string{"--accent: #ffdd00;", "--on-accent: #1c1c28;", "--page-bg: #111122;"}, []string{"--link: #ffdd00;\n  --page"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRenderer(t, tc.brand)
			w := httptest.NewRecorder()
			r.Theme().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/theme.css", nil))
			css := w.Body.String()
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, want := range tc.want {
				if !strings.Contains(css, want) {
					t.Errorf("theme.css lacks %q:\n%s", want, css)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(css, not) {
					t.Errorf("theme.css has %q:\n%s", not, css)
				}
			}
		})
	}
}

func TestBrandOnPages(t *testing.T) {
	const dataLogo = "data:image/png;base64,iVBORw0KGgo="
	for _, tc := range []struct {
		name     string
		brand    Brand
		wantLogo string
		wantName string
	}{
		{"default wordmark", Brand{}, "", "orgid"},
		{"custom name", Brand{Name: "Acme <ID>"}, "", "Acme <ID>"},
		{"https logo", Brand{Name: "Acme", LogoURL: "https://cdn.example.com/l.svg"}, "https://cdn.example.com/l.svg", "Acme"},
		{"data logo", Brand{Name: "Acme", LogoURL: dataLogo}, dataLogo, "Acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRenderer(t, tc.brand)
			w := httptest.NewRecorder()
			r.Render(w, http.StatusOK, "signed-out", "signed_out.heading", "en", nil)
			doc, err := html.Parse(strings.NewReader(w.Body.String()))
			if err != nil {
				t.Fatal(err)
			}
			if got := textOf(first(doc, "title")); got != "Signed out · "+tc.wantName {
				t.Errorf("<title> = %q, want %q", got, "Signed out · "+tc.wantName)
			}
			img := first(first(doc, "main"), "img")
			if tc.wantLogo == "" {
				if img != nil {
					t.Errorf("page shows an image %q, want the wordmark", attr(img, "src"))
				}
				var mark *html.Node
				for _, e := range elements(doc) {
					if attr(e, "class") == "wordmark" {
						mark = e
					}
				}
				if mark == nil || textOf(mark) != tc.wantName {
					t.Errorf("wordmark = %v, want %q", mark, tc.wantName)
				}
				return
			}
			if img == nil || attr(img, "src") != tc.wantLogo || attr(img, "alt") != tc.wantName {
				t.Errorf("logo = %v, want src %q alt %q", img, tc.wantLogo, tc.wantName)
			}
		})
	}
}
