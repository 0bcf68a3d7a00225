package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/ui"
)

// The verification page /device, where the user approves a device. It
// reuses the authorization flow: entering a valid user code creates a flow
// bound to this browser (its form holds client_id, scope and the code as
// typed, its device_hash the authorization), and /oauth2/authorize/resume
// runs the same decisions as for any authorization — sign in (with the
// second factor), then a confirmation that is always asked, because a
// device code can be phished (RFC 8628 §5.4), then the organization
// chooser — and ends in approveDevice instead of an authorization code.

// devicePageData is the data of package ui's device.html; Step is enter,
// confirm, approved, denied or expired.
type devicePageData struct {
	Step, Action                string
	UserCode, ClientName, Email string
	Flow                        string
	// Error is a message key or a ui.Message.
	Error any
	// Scopes are message keys (describeScopes).
	Scopes []string
}

// deviceTitle is the page title (a message key) of a step; confirm's
// names the client ({client}).
func deviceTitle(step string) string {
	switch step {
	case "confirm":
		return "device.confirm_heading"
	case "approved":
		return "device.approved_heading"
	case "denied":
		return "device.denied_heading"
	case "expired":
		return "device.expired_heading"
	}
	return "device.heading"
}

// renderDevice renders a step of the device page. Its language is the
// ui_locales the page was opened with (/device?ui_locales=…, kept in the
// form's action and in the flow f, when there is one), else the browser's
// Accept-Language.
func (p *Provider) renderDevice(w http.ResponseWriter, r *http.Request, f *flow, status int, d devicePageData) {
	d.Action = deviceAction(r)
	p.renderPage(w, false, status, "device", deviceTitle(d.Step), p.pageLang(r, signInContext{flow: f}), d, "client", d.ClientName)
}

// deviceAction is the device page's address for its forms and links,
// keeping the language it was opened with (?ui_locales=), as the one tag
// the page is in rather than whatever the link said.
func deviceAction(r *http.Request) string {
	if r.URL.Query().Get("ui_locales") != "" {
		return PathDevice + "?" + url.Values{"ui_locales": {uiLang(r)}}.Encode()
	}
	return PathDevice
}

// devicePage serves /device: the code entry form (GET, POST user_code)
// and, inside a flow, the confirmation (GET, POST action=allow|deny).
func (p *Provider) devicePage(w http.ResponseWriter, r *http.Request) {
	flowID := r.URL.Query().Get("flow")
	if r.Method == http.MethodPost {
		flowID = r.PostFormValue("flow")
	}
	if flowID != "" {
		p.deviceConfirmation(w, r)
		return
	}
	if r.Method == http.MethodGet {
		p.renderDevice(w, r, nil, http.StatusOK, devicePageData{Step: "enter", UserCode: r.URL.Query().Get("user_code")})
		return
	}
	ctx := withClientCache(r.Context())
	typed := r.PostFormValue("user_code")
	wait, err := p.limits.take(ctx, deviceEntryLimit, clientIP(r))
	if err != nil {
		p.serverError(ctx, w, r, "device code entry", err)
		return
	}
	if wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())))
		p.renderDevice(w, r, nil, http.StatusTooManyRequests, devicePageData{Step: "enter", UserCode: typed,
			Error: ui.PluralMsg("common.throttled", max(int(math.Ceil(wait.Minutes())), 1))})
		return
	}
	row, err := p.deviceByUserCode(ctx, typed)
	if errors.Is(err, storage.ErrNotFound) {
		p.renderDevice(w, r, nil, http.StatusBadRequest, devicePageData{Step: "enter", UserCode: typed,
			Error: "device.error.invalid_code"})
		return
	}
	if err != nil {
		p.serverError(ctx, w, r, "device code entry", err)
		return
	}
	form := url.Values{"client_id": {row.ClientID}, "scope": {row.Scope}, "user_code": {normalizeUserCode(typed)}}
	if r.URL.Query().Get("ui_locales") != "" {
		// The sign-in pages of the flow speak the page's language.
		form.Set("ui_locales", uiLang(r))
	}
	f, err := p.createFlow(ctx, p.browserID(w, r), row.ClientID, form, p.now().Truncate(time.Second), "")
	if err == nil {
		f.DeviceHash = &row.DeviceHash
		err = p.saveFlow(ctx, f, "device_hash")
	}
	if err != nil {
		p.serverError(ctx, w, r, "device code entry", err)
		return
	}
	http.Redirect(w, r, flowURL(PathResume, f), http.StatusSeeOther)
}

// deviceConfirmation asks the signed-in user to confirm the device (GET)
// and records the answer (POST).
func (p *Provider) deviceConfirmation(w http.ResponseWriter, r *http.Request) {
	ctx, f, user, ok := p.flowPage(w, r)
	if !ok {
		return
	}
	if f.DeviceHash == nil {
		p.flowError(ctx, w, r, errFlowExpired)
		return
	}
	row, err := p.deviceByHash(ctx, *f.DeviceHash)
	if err != nil || row.Status != deviceStatusPending || !row.live(p.now()) {
		p.deleteFlow(ctx, f)
		p.renderDevice(w, r, f, http.StatusBadRequest, devicePageData{Step: "expired"})
		return
	}
	client, err := p.clients.Get(ctx, f.ClientID)
	if err != nil {
		p.flowError(ctx, w, r, errFlowExpired)
		return
	}
	form := f.form()
	if r.Method == http.MethodGet {
		code := form.Get("user_code")
		if len(code) == userCodeLength {
			code = code[:4] + "-" + code[4:]
		}
		p.renderDevice(w, r, f, http.StatusOK, devicePageData{Step: "confirm", ClientName: client.Name,
			Email: user.Email, UserCode: code, Flow: f.id, Scopes: describeScopes(splitSpace(form.Get("scope")))})
		return
	}
	switch r.PostFormValue("action") {
	case "allow":
		if !client.FirstParty {
			if err := p.rememberConsent(ctx, user.ID, client.ID, splitSpace(form.Get("scope"))); err != nil {
				p.flowError(ctx, w, r, err)
				return
			}
		}
		now := p.now()
		f.ConsentAt = &now
		if err := p.saveFlow(ctx, f, "consent_at"); err != nil {
			p.flowError(ctx, w, r, err)
			return
		}
		http.Redirect(w, r, flowURL(PathResume, f), http.StatusSeeOther)
	case "deny":
		p.denyDevice(ctx, w, r, f)
	default:
		p.renderError(w, r, http.StatusBadRequest, "error.invalid_form", "consent.error.choose", "invalid_request")
	}
}

// denyDevice ends a device flow with access_denied for the device.
func (p *Provider) denyDevice(ctx context.Context, w http.ResponseWriter, r *http.Request, f *flow) {
	decided, err := p.decideDevice(ctx, *f.DeviceHash, deviceStatusDenied, nil, nil)
	if err != nil {
		p.flowError(ctx, w, r, err)
		return
	}
	p.deleteFlow(ctx, f)
	if !decided {
		p.renderDevice(w, r, f, http.StatusBadRequest, devicePageData{Step: "expired"})
		return
	}
	p.renderDevice(w, r, f, http.StatusOK, devicePageData{Step: "denied"})
}

// resumeDevice continues a device flow after a hosted page: the same
// decisions as an authorization request, on a request rebuilt from the
// flow (a device has no redirect URI: errors are pages for the user).
func (p *Provider) resumeDevice(ctx context.Context, w http.ResponseWriter, r *http.Request, f *flow) {
	row, err := p.deviceByHash(ctx, *f.DeviceHash)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.flowError(ctx, w, r, err)
		return
	}
	if err != nil || row.Status != deviceStatusPending || !row.live(p.now()) {
		p.deleteFlow(ctx, f)
		p.renderDevice(w, r, f, http.StatusBadRequest, devicePageData{Step: "expired"})
		return
	}
	client, err := p.clients.Get(ctx, f.ClientID)
	if err != nil {
		p.flowError(ctx, w, r, errFlowExpired)
		return
	}
	ar := fosite.NewAuthorizeRequest()
	ar.Client = client
	ar.Form = f.form()
	ar.RequestedAt = f.RequestedAt
	ar.RequestedScope = splitSpace(ar.Form.Get("scope"))
	p.decide(ctx, w, r, ar, f)
}

// approveDevice records the approved grant for the device to redeem and
// tells the user to return to it.
func (p *Provider) approveDevice(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester,
	sess *identity.Session, user *identity.User, requestedAt time.Time, f *flow, orgID string) {
	client := ar.GetClient().(*Client)
	for _, sc := range ar.GetRequestedScopes() {
		ar.GrantScope(sc)
	}
	session, err := p.userSession(ctx, grant{client: client, user: user, sess: sess, scopes: ar.GetGrantedScopes(), orgRef: orgID}, requestedAt)
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	sessJSON, err := json.Marshal(session)
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	data, _ := json.Marshal(deviceGrantData{Scopes: ar.GetGrantedScopes(), Session: sessJSON})
	grantData := string(data)
	var decided bool
	err = storage.InTx(ctx, p.store.db, func(ctx context.Context) error {
		if err := p.recordSessionClient(ctx, sess.ID, client.ID, session.ClientSubject()); err != nil {
			return err
		}
		var err error
		decided, err = p.decideDevice(ctx, *f.DeviceHash, deviceStatusApproved, &sess.ID, &grantData)
		return err
	})
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	p.deleteFlow(ctx, f)
	if !decided {
		p.renderDevice(w, r, f, http.StatusBadRequest, devicePageData{Step: "expired"})
		return
	}
	p.metrics.authorizations.Inc()
	p.renderDevice(w, r, f, http.StatusOK, devicePageData{Step: "approved", ClientName: client.Name})
}
