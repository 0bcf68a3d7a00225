package oidc

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// Routes mounts the provider's endpoints and hosted pages on r. Each route
// is named for metrics. CORS: discovery and JWKS answer any origin; token,
// userinfo, introspection and revocation answer the web origins clients
// registered; the authorization endpoint and the pages never answer CORS.
// The hosted forms refuse cross-origin posts (Sec-Fetch-Site / Origin).
func (p *Provider) Routes(r *mux.Router) {
	public := corsAnyOrigin
	registered := p.corsRegisteredOrigins

	r.Handle(PathDiscovery, public(http.HandlerFunc(p.serveDiscovery))).Methods(http.MethodGet, http.MethodOptions).Name("discovery")
	r.Handle(PathASMetadata, public(http.HandlerFunc(p.serveDiscovery))).Methods(http.MethodGet, http.MethodOptions).Name("as_metadata")
	r.Handle(PathJWKS, public(http.HandlerFunc(p.serveJWKS))).Methods(http.MethodGet, http.MethodOptions).Name("jwks")

	r.HandleFunc(PathAuthorize, p.authorize).Methods(http.MethodGet, http.MethodPost).Name("authorize")
	r.HandleFunc(PathResume, p.resume).Methods(http.MethodGet).Name("authorize_resume")
	r.Handle(PathToken, registered(http.HandlerFunc(p.token))).Methods(http.MethodPost, http.MethodOptions).Name("token")
	r.Handle(PathPAR, registered(http.HandlerFunc(p.pushAuthorization))).Methods(http.MethodPost, http.MethodOptions).Name("par")
	r.Handle(PathUserinfo, registered(http.HandlerFunc(p.userinfo))).Methods(http.MethodGet, http.MethodPost, http.MethodOptions).Name("userinfo")
	r.Handle(PathIntrospect, registered(http.HandlerFunc(p.introspect))).Methods(http.MethodPost, http.MethodOptions).Name("introspect")
	r.Handle(PathRevoke, registered(http.HandlerFunc(p.revoke))).Methods(http.MethodPost, http.MethodOptions).Name("revoke")
	r.Handle(PathDeviceAuthorization, registered(http.HandlerFunc(p.deviceAuthorization))).Methods(http.MethodPost, http.MethodOptions).Name("device_authorization")
	r.Handle(PathDevice, p.csrf.Handler(http.HandlerFunc(p.devicePage))).Methods(http.MethodGet, http.MethodPost).Name("device")
	r.HandleFunc(PathEndSession, p.endSession).Methods(http.MethodGet, http.MethodPost).Name("end_session")
	if p.cfg.Registration != RegistrationModeOff {
		r.HandleFunc(PathRegister, p.register).Methods(http.MethodPost).Name("registration")
		r.HandleFunc(PathRegister+"/{client_id}", p.registrationClient).Methods(http.MethodGet, http.MethodPut, http.MethodDelete).Name("registration_client")
	}

	r.Handle(PathSignIn, p.csrf.Handler(http.HandlerFunc(p.signInPage))).Methods(http.MethodGet, http.MethodPost).Name("sign_in")
	r.Handle(PathConsent, p.csrf.Handler(http.HandlerFunc(p.consentPage))).Methods(http.MethodGet, http.MethodPost).Name("consent")
	r.Handle(PathChooseOrganization, p.csrf.Handler(http.HandlerFunc(p.chooseOrganizationPage))).Methods(http.MethodGet, http.MethodPost).Name("choose_organization")
	r.Handle(PathSignOut, p.csrf.Handler(http.HandlerFunc(p.signOut))).Methods(http.MethodPost).Name("sign_out")
	r.Handle(defaultUIPathHome, http.HandlerFunc(p.home)).Methods(http.MethodGet).Name("home")
	p.signInRoutes(r)
}

// corsAnyOrigin lets any web page read a public document.
func corsAnyOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// corsRegisteredOrigins lets browser apps call the endpoint from the web
// origins their client registered. Requests from other origins still run
// (servers send no Origin); the browser just cannot read the answer.
func (p *Provider) corsRegisteredOrigins(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := false
		if origin != "" {
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			ok, err := p.clients.OriginAllowed(ctx, origin)
			cancel()
			if err != nil {
				p.log.ErrorContext(r.Context(), "check CORS origin", "error", err)
			}
			allowed = ok
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		}
		if r.Method == http.MethodOptions {
			if allowed {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
