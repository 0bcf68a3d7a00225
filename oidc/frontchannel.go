package oidc

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/orgid/orgid/ui"
)

// Front-channel logout (OpenID Connect Front-Channel Logout 1.0): the page
// that confirms a sign-out in the browser loads, in hidden iframes, the
// frontchannel_logout_uri of every client the session signed in to, with
// iss and sid when the client asked for them, so that each application
// clears its own session in the same browser. Its Content-Security-Policy
// allows frames from exactly those origins and nothing else runs on it;
// the browser then goes on to the post_logout_redirect_uri, if any, by a
// meta refresh (no script) or the link.

// frontchannelFrames returns the iframe URLs for a session's clients.
func (p *Provider) frontchannelFrames(ctx context.Context, sessionID string) ([]string, error) {
	clients, err := sessionClients(ctx, p.store.db, sessionID)
	if err != nil {
		return nil, err
	}
	var frames []string
	for _, nc := range clients {
		m := nc.client.Metadata
		if m.FrontchannelLogoutURI == "" {
			continue
		}
		u, err := url.Parse(m.FrontchannelLogoutURI)
		if err != nil {
			continue // validated at registration; never served broken
		}
		if m.FrontchannelLogoutSessionRequired {
			q := u.Query()
			q.Set("iss", p.cfg.Issuer)
			q.Set("sid", sessionID)
			u.RawQuery = q.Encode()
		}
		frames = append(frames, u.String())
	}
	return frames, nil
}

// frameOrigins are the origins (scheme://host[:port]) of the frames, for
// the Content-Security-Policy.
func frameOrigins(frames []string) []string {
	var out []string
	for _, f := range frames {
		u, err := url.Parse(f)
		if err != nil {
			continue
		}
		o := u.Scheme + "://" + u.Host
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// signedOutFramesCSP allows the frames' origins, the stylesheets and
// images (the brand's logo) only.
func signedOutFramesCSP(frames []string) string {
	return "default-src 'none'; frame-src " + strings.Join(frameOrigins(frames), " ") +
		"; style-src 'self'; img-src 'self' https: data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
}

// renderSignedOutFrames shows the signed-out page with the front-channel
// iframes; continueTo is the post-logout redirect ("" for none).
func (p *Provider) renderSignedOutFrames(w http.ResponseWriter, r *http.Request, frames []string, continueTo string) {
	p.pages.Render(ui.WithContentSecurityPolicy(w, signedOutFramesCSP(frames)), http.StatusOK, "signed-out", "signed_out.heading", uiLang(r),
		map[string]any{"Frames": frames, "Continue": template.URL(continueTo)})
}
