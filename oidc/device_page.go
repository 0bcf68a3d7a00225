package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	_ "embed"

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

//go:embed pages/device.html
var devicePageText string

var devicePage = template.Must(template.New("device").Parse(devicePageText))

// devicePageData is what the device page shows; Step is enter, confirm,
// approved, denied or expired.
type devicePageData struct {
	Lang, Title, Brand, Step, Action string
	Error, UserCode, ClientName      string
	Email, Flow                      string
	Scopes                           []string
}

func (p *Provider) renderDevice(w http.ResponseWriter, r *http.Request, status int, d devicePageData) {
	// The page's text is English only (it is not in package ui's catalogs
	// yet), so it says so whatever the browser prefers.
	d.Lang, d.Brand, d.Action = "en", p.brandName(), PathDevice
	if d.Title == "" {
		d.Title = "Connect a device"
	}
	var buf bytes.Buffer
	if err := devicePage.Execute(&buf, d); err != nil {
		p.log.ErrorContext(r.Context(), "render device page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	ui.SecurityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
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
		p.renderDevice(w, r, http.StatusOK, devicePageData{Step: "enter", UserCode: r.URL.Query().Get("user_code")})
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
		p.renderDevice(w, r, http.StatusTooManyRequests, devicePageData{Step: "enter", UserCode: typed,
			Error: fmt.Sprintf("Too many attempts. Try again in %d minute(s).", max(int(wait.Minutes()+0.5), 1))})
		return
	}
	row, err := p.deviceByUserCode(ctx, typed)
	if errors.Is(err, storage.ErrNotFound) {
		p.renderDevice(w, r, http.StatusBadRequest, devicePageData{Step: "enter", UserCode: typed,
			Error: "That code is not valid. Check it, or start again on your device for a new one."})
		return
	}
	if err != nil {
		p.serverError(ctx, w, r, "device code entry", err)
		return
	}
	form := url.Values{"client_id": {row.ClientID}, "scope": {row.Scope}, "user_code": {normalizeUserCode(typed)}}
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
		p.renderDevice(w, r, http.StatusBadRequest, devicePageData{Step: "expired"})
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
		p.renderDevice(w, r, http.StatusOK, devicePageData{Step: "confirm", Title: "Connect " + client.Name, ClientName: client.Name,
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
		p.renderDevice(w, r, http.StatusBadRequest, devicePageData{Step: "expired"})
		return
	}
	p.renderDevice(w, r, http.StatusOK, devicePageData{Step: "denied", Title: "Request denied"})
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
		p.renderDevice(w, r, http.StatusBadRequest, devicePageData{Step: "expired"})
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
		p.renderDevice(w, r, http.StatusBadRequest, devicePageData{Step: "expired"})
		return
	}
	p.metrics.authorizations.Inc()
	p.renderDevice(w, r, http.StatusOK, devicePageData{Step: "approved", Title: "Device connected", ClientName: client.Name})
}
