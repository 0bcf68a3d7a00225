package ui_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orgid/orgid/internal/browsertest"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

// In a real Chromium, under the pages' Content-Security-Policy: an
// authorization request with ui_locales=de lands on a German sign-in page
// (<html lang="de">) carrying the operator's brand name, and the brand's
// stylesheet is applied — the accent on the button, with the text colour
// picked for contrast.

// startChromium starts the browser (package browsertest). Its own language
// is English: the page must be German because the request asked for it.
func startChromium(t *testing.T) context.Context {
	return browsertest.Start(t, chromedp.Flag("lang", "en-US"))
}

func TestGermanBrandedSignInPageInChromium(t *testing.T) {
	browser := startChromium(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) {
			c.BrandName = "Acme ID"
			c.BrandAccentColor = "#ffd400"
		}))
		start := authorizeURL(t, srv, url.Values{"ui_locales": {"de"}})

		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		defer cancel()
		ctx, cancelStep := context.WithTimeout(tab, 30*time.Second)
		defer cancelStep()
		type seen struct {
			Lang, Title, H1, Wordmark, Label, Button, ButtonColor, ButtonBackground string
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(start), chromedp.WaitVisible(chromedp.ID("identifier"))); err != nil {
			t.Fatalf("open %s: %v", start, err)
		}
		got, err := chromedp.Run(ctx,
			chromedp.Evaluate[seen](`(() => {
				const button = document.querySelector('form[action="/sign-in"] button[type=submit]');
				const style = getComputedStyle(button);
				return {
					Lang: document.documentElement.lang,
					Title: document.title,
					H1: document.querySelector("h1").innerText,
					Wordmark: document.querySelector(".wordmark").innerText,
					Label: document.querySelector('label[for="identifier"]').innerText,
					Button: button.innerText,
					ButtonColor: style.color,
					ButtonBackground: style.backgroundColor,
				};
			})()`),
		)
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		want := seen{
			Lang: "de", Title: "Anmelden · Acme ID", H1: "Anmelden", Wordmark: "Acme ID",
			Label: "E-Mail-Adresse", Button: "Anmelden",
			// /theme.css applied: the yellow accent, with near-black text.
			ButtonColor: "rgb(28, 28, 40)", ButtonBackground: "rgb(255, 212, 0)",
		}
		if got != want {
			t.Errorf("sign-in page in Chromium:\n got %+v\nwant %+v", got, want)
		}
	})
}
